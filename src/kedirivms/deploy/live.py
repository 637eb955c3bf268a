"""A live view of a deployment's counters: the latest queue numbers and alerts per camera, a rich table, and a
PNG chart of queue length and alerts over time. Fed by events (use :meth:`LiveBoard.sink`)."""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from rich.table import Table

from kedirivms.analytics import Event
from kedirivms.sinks import CallbackSink

__all__ = ["CounterState", "LiveBoard"]

_ALERT_ON = {"pile_up": "pile_up", "counter_unstaffed": "counter_unstaffed"}
_ALERT_OFF = {"pile_up_cleared": "pile_up", "counter_staffed": "counter_unstaffed"}


@dataclass
class CounterState:
    """What the board knows about one camera's counter."""

    camera: str
    length_mean: float | None = None
    length_max: int | None = None
    wait_mean_s: float | None = None
    service_rate_per_min: float | None = None
    served: int = 0
    active: set[str] = field(default_factory=set)
    alerts: list[tuple[datetime, str]] = field(default_factory=list)
    series: list[tuple[datetime, float]] = field(default_factory=list)
    camera_events: int = 0


class LiveBoard:
    """Collects ``queue_stats`` and alert events per camera; renders a table and a chart.

    Example:
        >>> board = LiveBoard(["loket-1"])
        >>> dep = Deployment(config, extra_sinks=[board.sink()])  # doctest: +SKIP
    """

    def __init__(self, cameras: list[str]) -> None:
        self._lock = threading.Lock()
        self.counters: dict[str, CounterState] = {c: CounterState(c) for c in cameras}
        self.events = 0

    def sink(self) -> CallbackSink:
        """A sink that feeds this board (the runner owns and closes it)."""
        return CallbackSink(self.update, name="live-board")

    def update(self, event: Event) -> None:
        """Fold one event into the board."""
        with self._lock:
            self.events += 1
            state = self.counters.setdefault(event.camera, CounterState(event.camera))
            data: dict[str, Any] = dict(event.data)
            if event.kind == "queue_stats":
                state.length_mean = data.get("length_mean")
                state.length_max = data.get("length_max")
                state.wait_mean_s = (
                    data.get("wait_mean_s") if data.get("wait_mean_s") is not None else state.wait_mean_s
                )
                state.service_rate_per_min = data.get("service_rate_per_min")
                state.served += int(data.get("served") or 0)
                if state.length_mean is not None:
                    state.series.append((event.time, float(state.length_mean)))
            elif event.kind in _ALERT_ON:
                state.active.add(_ALERT_ON[event.kind])
                state.alerts.append((event.time, event.kind))
            elif event.kind in _ALERT_OFF:
                state.active.discard(_ALERT_OFF[event.kind])
                state.alerts.append((event.time, event.kind))
            elif ":" in event.source:  # ONVIF topic (tns1:...)
                state.camera_events += 1

    def table(self, metrics: Any = None) -> Table:
        """A rich table: one row per counter (plus stream/plugin rates when ``metrics`` is given)."""
        rates: dict[str, tuple[str, str]] = {}
        if metrics is not None:
            for cam in metrics.cameras:
                fps = ", ".join(f"{p.fps:.1f}" for p in cam.plugins) or "-"
                drops = str(sum(p.drops for p in cam.plugins))
                rates[cam.camera] = (fps, drops)
        table = Table(title="Counters", expand=False)
        for col in ("counter", "queue (mean/max)", "wait s", "served/min", "alerts", "camera events", "fps", "drops"):
            table.add_column(col)
        with self._lock:
            for name, s in sorted(self.counters.items()):
                queue = "-" if s.length_mean is None else f"{s.length_mean:.1f} / {s.length_max}"
                wait = "-" if s.wait_mean_s is None else f"{s.wait_mean_s:.0f}"
                rate = "-" if s.service_rate_per_min is None else f"{s.service_rate_per_min:.1f}"
                alerts = ", ".join(sorted(s.active)) or "ok"
                style = "bold red" if s.active else "green"
                fps, drops = rates.get(name, ("-", "-"))
                table.add_row(name, queue, wait, rate, f"[{style}]{alerts}[/]", str(s.camera_events), fps, drops)
        return table

    def chart(self, path: str | Path) -> Path:
        """Write a PNG chart of queue length per counter with alert markers; returns the path."""
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt

        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        with self._lock:
            counters = [s for _, s in sorted(self.counters.items())]
        fig, axes = plt.subplots(
            len(counters) or 1, 1, figsize=(9, 2.2 * max(1, len(counters))), sharex=True, squeeze=False
        )
        for ax, s in zip(axes[:, 0], counters, strict=False):
            if s.series:
                times, values = zip(*s.series, strict=True)
                ax.step(times, values, where="post", label="queue length (mean per interval)")
            for when, kind in s.alerts:
                colour = {"pile_up": "red", "counter_unstaffed": "orange"}.get(kind, "grey")
                ax.axvline(when, color=colour, linestyle="--" if kind in _ALERT_OFF else "-", linewidth=1)
                ax.annotate(kind, (when, 0), rotation=90, fontsize=7, color=colour, va="bottom")
            ax.set_ylabel(s.camera, fontsize=8)
            ax.grid(alpha=0.3)
        axes[0, 0].set_title("Queue length and alerts per counter")
        fig.autofmt_xdate()
        fig.tight_layout()
        fig.savefig(path, dpi=100)
        plt.close(fig)
        return path
