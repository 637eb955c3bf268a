"""The built-in ``queue`` plugin in the analytics runner: pushed frames and a live RTSP counter camera."""

from __future__ import annotations

from typing import Any

import av
import pytest

from kedirivms.analytics import AnalyticsRunner, CameraAnalytics, PluginRegistry, PluginSettings
from kedirivms.analytics.queue import QueueConfig, QueuePlugin
from kedirivms.errors import PluginValidationError
from kedirivms.sim.counter_scene import CounterScene
from kedirivms.sim.rtsp import RtspServer, StreamSpec
from kedirivms.sinks import CallbackSink
from kedirivms.stream import Frame


def _plugin_config(config: QueueConfig) -> dict[str, Any]:
    return config.model_dump(mode="json")


def test_queue_is_a_builtin_plugin() -> None:
    info = PluginRegistry(entry_points=False).get("queue")
    assert info.factory is QueuePlugin and info.config_model is QueueConfig and info.origin == "builtin"


def test_bad_zones_are_refused_before_start() -> None:
    settings = PluginSettings(
        name="queue", config={"zones": [{"name": "x", "kind": "counter", "points": [[0, 0], [1, 0], [1, 1]]}]}
    )
    with pytest.raises(PluginValidationError, match="queue"):
        AnalyticsRunner([CameraAnalytics(name="counter-1", plugins=[settings])])


def test_pushed_frames_give_the_same_events_as_the_analyzer(
    small_scene: CounterScene, small_config: QueueConfig, small_run: dict, wait_until: Any
) -> None:
    got: list = []
    settings = PluginSettings(name="queue", config=_plugin_config(small_config))
    cams = [CameraAnalytics(name="counter-1", plugins=[settings])]
    with AnalyticsRunner(cams, [CallbackSink(got.append)]) as runner:
        for i, t in enumerate(small_scene.truth().times):
            frame = Frame(
                av.VideoFrame.from_ndarray(small_scene.render(i, float(t), 320, 180), format="yuv420p"), time=float(t)
            )
            runner.feed("counter-1", frame)
            # one frame at a time, so the latest-frame slot never drops one and the result is comparable
            assert wait_until(lambda n=i + 1: runner.metrics().cameras[0].plugins[0].frames >= n, step=0.001)
    metrics = runner.metrics().cameras[0].plugins[0]
    assert metrics.errors == 0 and metrics.drops == 0 and not metrics.disabled
    expected = [(e.kind, e.zone, round(e.time, 3), e.data) for e in small_run["events"]]
    actual = [(e.kind, e.zone, round(e.timestamp, 3), e.data) for e in got]
    assert actual == expected
    assert {e.camera for e in got} == {"counter-1"} and {e.source for e in got} == {"queue"}
    assert {e.kind for e in got} == {
        "queue_stats",
        "pile_up",
        "pile_up_cleared",
        "counter_unstaffed",
        "counter_staffed",
        "service_stats_hourly",  # the partial hour, at the end
    }


def test_live_rtsp_counter_camera(wait_until: Any, no_thread_left: None) -> None:
    # the default detector (the DNN: make test installs kedirivms[detect]) on the oblique view, in colour over RTSP
    scene = CounterScene(20, arrival_rate_per_min=6.0, service_time_s=15.0, clerk_arrives_s=0.0, duration_s=60)
    config = QueueConfig(zones=tuple(scene.zones()), interval_s=1.0, anchor="bottom_center")
    assert config.detector_kind == "dnn"
    got: list = []
    with RtspServer() as server:
        server.add_stream("sub", StreamSpec(width=640, height=360, fps=10, bitrate=500_000, gop=10, scene=scene))
        settings = PluginSettings(name="queue", config=_plugin_config(config))
        cams = [CameraAnalytics(name="counter-live", source=server.url("sub"), plugins=[settings])]
        with AnalyticsRunner(cams, [CallbackSink(got.append)]) as runner:
            assert wait_until(lambda: sum(e.kind == "queue_stats" for e in got) >= 5, timeout=30)
            metrics = runner.metrics().cameras[0]
    stats = [e for e in got if e.kind == "queue_stats"]
    assert metrics.plugins[0].errors == 0 and metrics.plugins[0].frames >= 10
    full = [e.data for e in stats[1:3]]  # the first interval may be partial
    # the clerk seated from the first frame counts from their first movement (the motion gate), within seconds
    assert stats[-1].data["staffed_fraction"] == 1.0
    assert all(d["frames"] >= 5 and d["staffed_fraction"] is not None for d in full)
    assert all(e.camera == "counter-live" and e.source == "queue" and e.zone == "queue" for e in stats)
