"""The built-in ``queue`` plugin: :class:`~kedirivms.analytics.queue.analyzer.QueueAnalyzer` on the plugin contract.

Registered by the plugin registry under the name ``queue`` (``kedirivms.analytics.queue:QueuePlugin``). Its
per-camera config is :class:`~kedirivms.analytics.queue.analyzer.QueueConfig`, e.g. in a deployment file::

    plugins:
      - name: queue
        config:
          zones:
            - {name: line, kind: queue, points: [[0.41, 0.40], [0.51, 0.40], [0.51, 0.95], [0.41, 0.95]]}
            - {name: desk, kind: counter, points: [[0.28, 0.01], [0.64, 0.01], [0.64, 0.19], [0.28, 0.19]]}
          pile_up: {threshold: 6, for_s: 15}
"""

from __future__ import annotations

from collections.abc import Iterable

from kedirivms.analytics.events import Event
from kedirivms.analytics.hookspecs import CONTRACT_VERSION, CameraInfo, PluginContext, hookimpl
from kedirivms.analytics.queue.analyzer import QueueAnalyzer, QueueConfig, QueueEvent

__all__ = ["QueuePlugin"]


class QueuePlugin:
    """Queue length, waits, service rate, ``pile_up`` and ``counter_unstaffed`` per camera.

    Emits events of kinds ``queue_stats`` (every ``interval_s``), ``pile_up`` / ``pile_up_cleared`` (zone: the
    queue zone) and ``counter_unstaffed`` / ``counter_staffed`` (zone: the counter zone).

    Example:
        >>> from kedirivms.analytics import PluginSettings
        >>> PluginSettings(name="queue", config={"zones": [z.model_dump() for z in scene.zones()]})
    """

    name = "queue"
    version = "1.0.0"
    Config = QueueConfig
    max_fps: float | None = 10.0
    contract = CONTRACT_VERSION

    def __init__(self) -> None:
        self.analyzer: QueueAnalyzer | None = None

    @hookimpl
    def on_start(self, camera: CameraInfo, config: QueueConfig) -> None:
        del camera
        self.analyzer = QueueAnalyzer(config)

    @hookimpl
    def on_frame(self, frame: object, ctx: PluginContext) -> list[Event] | None:
        if self.analyzer is None:
            return None
        found = self.analyzer.update(frame.y, frame.time, frame=frame)  # type: ignore[attr-defined]
        return _events(found, ctx) if found else None

    @hookimpl
    def on_stop(self, ctx: PluginContext) -> list[Event] | None:
        if self.analyzer is None:
            return None
        found = self.analyzer.flush()  # the last, partial interval
        self.analyzer = None
        return _events(found, ctx) or None


def _events(found: Iterable[QueueEvent], ctx: PluginContext) -> list[Event]:
    return [ctx.event(e.kind, e.data, zone=e.zone, time=e.time) for e in found]
