"""Every example script runs against the virtual cameras it starts (others are run by their feature's tests)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

EXAMPLES = Path(__file__).resolve().parents[1] / "examples"
COVERED_ELSEWHERE = {"patrol_presets.py", "watch_motion.py", "analytics_plugin.py"}


def _scripts() -> list[str]:
    return sorted(p.name for p in EXAMPLES.glob("*.py") if p.name not in COVERED_ELSEWHERE)


def test_every_example_is_run_somewhere() -> None:
    assert set(_scripts()) | COVERED_ELSEWHERE == {p.name for p in EXAMPLES.glob("*.py")}
    assert "device_info.py" in _scripts()


@pytest.mark.parametrize("script", _scripts())
def test_example_runs(script: str, tmp_path: Path) -> None:
    out = subprocess.run(
        [sys.executable, str(EXAMPLES / script)], cwd=tmp_path, capture_output=True, text=True, timeout=180
    )
    assert out.returncode == 0, out.stderr[-2000:]
    assert out.stdout.strip(), "an example prints what it did"
    assert "Traceback" not in out.stderr
