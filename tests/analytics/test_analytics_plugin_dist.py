"""A third-party plugin distribution, built and pip-installed from tests/data, is found by entry point and runs."""

from __future__ import annotations

import importlib
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from kedirivms import Event
from kedirivms.analytics import AnalyticsRunner, CameraAnalytics, PluginRegistry, PluginSettings
from kedirivms.errors import PluginValidationError
from kedirivms.sinks import CallbackSink

PKG = Path(__file__).parent.parent / "data" / "plugin_pkg"


@pytest.fixture
def installed_plugin(tmp_path: Path) -> Iterator[Path]:
    """pip builds the distribution (PEP 517) and installs it into a folder put on sys.path; removed afterwards."""
    source = tmp_path / "src"
    shutil.copytree(PKG, source, ignore=shutil.ignore_patterns("__pycache__", "build", "*.egg-info"))
    target = tmp_path / "site"
    cmd = [sys.executable, "-m", "pip", "install", "-q", "--no-index", "--no-deps", "--target", str(target)]
    done = subprocess.run([*cmd, str(source)], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    sys.path.insert(0, str(target))
    importlib.invalidate_caches()
    try:
        yield target
    finally:
        sys.path.remove(str(target))
        sys.modules.pop("kvms_brightness", None)
        importlib.invalidate_caches()


def test_installed_distribution_is_found_by_entry_point_and_receives_frames(
    installed_plugin: Path, rtsp_url: str, wait_until: Any
) -> None:
    assert not PluginRegistry(entry_points=False).names().count("brightness")
    registry = PluginRegistry()  # reads the `kedirivms` entry-point group of everything on sys.path
    info = registry.get("brightness")
    assert info.origin == "entry-point kedirivms-test-brightness"
    assert (info.version, info.max_fps) == ("0.3.1", 5.0)
    assert info.factory.__module__ == "kvms_brightness"
    assert Path(sys.modules["kvms_brightness"].__file__ or "").is_relative_to(installed_plugin)

    got: list[Event] = []
    settings = PluginSettings(name="brightness", config={"every": 2})
    cams = [CameraAnalytics(name="vendor-cam", source=rtsp_url, plugins=[settings])]
    with AnalyticsRunner(cams, [CallbackSink(got.append)], registry=registry) as runner:
        assert wait_until(lambda: len(got) >= 3)
        metrics = runner.metrics().cameras[0].plugins[0]
    assert metrics.plugin == "brightness" and metrics.frames >= 6 and metrics.errors == 0
    assert {(e.camera, e.source, e.kind) for e in got} == {("vendor-cam", "brightness", "brightness")}
    assert [e.data["seq"] for e in got[:3]] == [2, 4, 6]
    assert got[0].data["shape"] == [180, 320] and 0 <= got[0].data["mean"] <= 255  # type: ignore[operator]

    with pytest.raises(PluginValidationError, match=r"vendor-cam.*every"):
        AnalyticsRunner(
            [CameraAnalytics(name="vendor-cam", plugins=[PluginSettings(name="brightness", config={"every": 0})])],
            registry=registry,
        )
