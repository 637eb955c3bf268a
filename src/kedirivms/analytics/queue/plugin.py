"""The built-in ``queue`` plugin: :class:`~kedirivms.analytics.queue.analyzer.QueueAnalyzer` on the plugin contract.

Registered by the plugin registry under the name ``queue`` (``kedirivms.analytics.queue:QueuePlugin``). Its
per-camera config is :class:`~kedirivms.analytics.queue.config.QueueConfig`, e.g. in a deployment file::

    plugins:
      - name: queue
        config:
          zones:
            - {name: line, kind: queue, points: [[0.41, 0.40], [0.51, 0.40], [0.51, 0.95], [0.41, 0.95]]}
            - {name: spot, kind: service, points: [[0.36, 0.27], [0.56, 0.27], [0.56, 0.40], [0.36, 0.40]]}
            - {name: desk, kind: counter, points: [[0.28, 0.01], [0.64, 0.01], [0.64, 0.19], [0.28, 0.19]]}
          pile_up: {threshold: 6, for_s: 15}
          stalled: {for_s: 120, opening_hours: [{start: "08:00", end: "15:30"}], timezone: Asia/Jakarta}
"""

from __future__ import annotations

from collections.abc import Iterable

from kedirivms.analytics.events import Event
from kedirivms.analytics.hookspecs import CONTRACT_VERSION, CameraInfo, PluginContext, hookimpl
from kedirivms.analytics.queue.analyzer import QueueAnalyzer, QueueEvent
from kedirivms.analytics.queue.config import QueueConfig

__all__ = ["QueuePlugin"]


class QueuePlugin:
    """Queue length, waits, service times, ``pile_up``, ``counter_unstaffed`` and ``counter_stalled`` per camera.

    Emits events of kinds ``queue_stats`` (every ``interval_s``: lengths, waits, served, abandoned, service
    times), ``service_stats_hourly`` (each clock hour, with a service zone), ``pile_up`` / ``pile_up_cleared``
    (zone: the queue zone), ``counter_unstaffed`` / ``counter_staffed`` and ``counter_stalled`` /
    ``counter_resumed`` (zone: the counter zone), and ``view_warning`` (zone: the service zone; once per finding
    that the camera's view makes the figures unreliable, e.g. ``desk_zone_thin``). A wait belongs to a person, not
    to a tracker id: it survives id switches, and two people who walk in together both wait from when they came in.
    See ``docs/queue-analytics.md`` for every field.

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
