"""Queue statistics per reporting interval and per hour of service."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from kedirivms.analytics.queue.service import FinishedStay
from kedirivms.analytics.queue.waits import FinishedVisit

__all__ = ["HourlyServiceStats", "IntervalStats"]


def _percentile(values: list[float], q: float) -> float | None:
    return round(float(np.percentile(values, q)), 2) if values else None


@dataclass
class IntervalStats:
    """Accumulates one reporting interval.

    Attributes:
        start: interval start, seconds.
        end: interval end, seconds.
    """

    start: float
    end: float
    lengths: list[int] = field(default_factory=list)
    staffed: list[bool] = field(default_factory=list)
    waits: list[float] = field(default_factory=list)
    services: list[float] = field(default_factory=list)
    served: int = 0
    abandoned: int = 0

    def add_visit(self, visit: FinishedVisit) -> None:
        """Count a finished visit (censored ones are skipped for waits but still counted as served)."""
        if visit.served:
            self.served += 1
            if not visit.censored:
                self.waits.append(visit.wait_s)
        else:
            self.abandoned += 1

    def add_stay(self, stay: FinishedStay) -> None:
        """Count a finished service (censored ones, whose start is unknown, are left out)."""
        if not stay.censored:
            self.services.append(stay.service_s)

    def summary(self) -> dict[str, float | int | None]:
        """The interval's numbers, JSON-ready (``None`` where nothing was measured)."""
        minutes = max(self.end - self.start, 1e-9) / 60.0
        lengths = np.asarray(self.lengths, dtype=np.float64)
        return {
            "start": round(self.start, 3),
            "end": round(self.end, 3),
            "frames": len(self.lengths),
            "length_mean": round(float(lengths.mean()), 3) if len(lengths) else None,
            "length_max": int(lengths.max()) if len(lengths) else None,
            "waits": len(self.waits),
            "wait_mean_s": round(float(np.mean(self.waits)), 2) if self.waits else None,
            "wait_max_s": round(float(np.max(self.waits)), 2) if self.waits else None,
            "served": self.served,
            "abandoned": self.abandoned,
            "service_rate_per_min": round(self.served / minutes, 3),
            "staffed_fraction": round(float(np.mean(self.staffed)), 3) if self.staffed else None,
            "services": len(self.services),
            "service_median_s": _percentile(self.services, 50),
            "service_p90_s": _percentile(self.services, 90),
        }


@dataclass
class HourlyServiceStats:
    """Service times over one clock hour (the ``service_stats_hourly`` event).

    Attributes:
        start: the hour's start, epoch seconds (a multiple of 3600).
        end: its end, seconds.
        first: the first frame analysed in the hour, seconds.
    """

    start: float
    end: float
    first: float
    services: list[float] = field(default_factory=list)
    served: int = 0

    def summary(self, partial: bool = False) -> dict[str, float | int | bool | None]:
        """The hour's numbers, JSON-ready; ``partial`` also when its first frame came over a second late."""
        return {
            "start": round(self.start, 3),
            "end": round(self.end, 3),
            "partial": partial or self.first - self.start > 1.0,
            "served": self.served,
            "services": len(self.services),
            "service_mean_s": round(float(np.mean(self.services)), 2) if self.services else None,
            "service_median_s": _percentile(self.services, 50),
            "service_p90_s": _percentile(self.services, 90),
            "service_max_s": round(float(np.max(self.services)), 2) if self.services else None,
        }
