"""The example plugin package (examples/plugin_package) and examples/analytics_plugin.py on a live stream."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from kedirivms import Event
from kedirivms.analytics import AnalyticsRunner, CameraAnalytics, PluginRegistry, PluginSettings
from kedirivms.sinks import CallbackSink

EXAMPLES = Path(__file__).parents[2] / "examples"


@pytest.fixture
def motion_zone() -> Iterator[Any]:
    sys.path.insert(0, str(EXAMPLES / "plugin_package" / "src"))
    try:
        import kvms_motion_zone

        yield kvms_motion_zone.MotionZonePlugin
    finally:
        sys.path.remove(str(EXAMPLES / "plugin_package" / "src"))
        sys.modules.pop("kvms_motion_zone", None)


def test_example_plugin_reports_motion_in_the_moving_scene(motion_zone: Any, rtsp_url: str, wait_until: Any) -> None:
    registry = PluginRegistry(entry_points=False, builtins=False)
    registry.register(motion_zone)
    got: list[Event] = []
    config = {"roi": [0.0, 0.0, 1.0, 1.0], "threshold": 1.0, "hold": 0.5}
    cams = [CameraAnalytics(name="lobby", source=rtsp_url, plugins=[PluginSettings(name="motion_zone", config=config)])]
    with AnalyticsRunner(cams, [CallbackSink(got.append)], registry=registry) as runner:
        assert wait_until(lambda: any(e.kind == "motion_start" for e in got))
        metrics = runner.metrics().cameras[0].plugins[0]
    assert metrics.errors == 0 and metrics.version == "0.1.0"
    start = next(e for e in got if e.kind == "motion_start")
    assert start.source == "motion_zone" and start.data["score"] >= 1.0  # type: ignore[operator]
    assert got[-1].kind == "motion_end"  # on_stop closes an open motion period


def test_example_script_runs_against_its_own_virtual_camera(tmp_path: Path) -> None:
    out = tmp_path / "events.jsonl"
    cmd = [sys.executable, str(EXAMPLES / "analytics_plugin.py"), "--seconds", "2", "--out", str(out)]
    done = subprocess.run(cmd, capture_output=True, text=True, timeout=90)
    assert done.returncode == 0, done.stderr
    assert "lobby/motion_zone:" in done.stdout and "0 errors" in done.stdout
    assert f"events in {out}" in done.stdout
