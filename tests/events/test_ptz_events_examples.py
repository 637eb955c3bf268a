"""examples/patrol_presets.py and examples/watch_motion.py run (in-process) against the virtual cameras they start."""

from __future__ import annotations

import runpy
import sys
from pathlib import Path

import pytest

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"


def run_example(name: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> str:
    monkeypatch.setattr(sys, "argv", [name])
    runpy.run_path(str(EXAMPLES / name), run_name="__main__")
    return capsys.readouterr().out


def test_patrol_presets(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    out = run_example("patrol_presets.py", monkeypatch, capsys)
    for name in ("Gate", "Counter", "Exit"):
        assert f"at {name}" in out
    assert "at Exit       pan +0.70 tilt +0.00 zoom +0.10" in out
    assert "home: pan=0.0 tilt=0.0 zoom=0.0" in out


def test_watch_motion(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    out = run_example("watch_motion.py", monkeypatch, capsys)
    assert "motion START on VideoSource_1 (Changed)" in out
    assert "tamper DETECTED on VideoSource_1" in out
    assert out.rstrip().endswith("pull points left on the camera: 0")
