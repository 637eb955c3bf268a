"""Every example script runs against the virtual cameras it starts (others are run by their feature's tests)."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

TESTS = Path(__file__).resolve().parent
EXAMPLES = TESTS.parent / "examples"
COVERED_ELSEWHERE = {"patrol_presets.py", "watch_motion.py", "analytics_plugin.py"}
# what each script run here must print: proof that it did its work, not only that it printed something
EXPECTED = {
    "count_line.py": [
        r"line_count: auto",
        r"line counted by its ledger: MAE 0\.\d+; people seen: MAE \d\.\d+",
        r"view: desk zone 0\.[23]\d of a person: nothing wrong found",
    ],
    "connect_fleet.py": [
        r"127\.0\.1\.3:\d+/onvif/device_service: connected in [\d.]+ s \(Media2\): .*ch2 H265 Main",
        r"127\.0\.0\.1:\d+: ConnectionFailed",
    ],
    "device_info.py": [r"channel 4 \(VideoSource_4\):", r"Profile_4_sub +H264 640x360"],
    "discover_site.py": [r"Loket 1 +via unicast", r"via http +http://127\.0\.1\.24:"],
    "provision_fleet.py": [r"apply loket-4: changed", r"plan again: 0 change\(s\); in sync: 4/4"],
    "queue_zones.py": [r"zone preview: .*queue_zones\.png \(640x360\)", r"kind: queue"],
    "read_frames.py": [r"decoded \d+, dropped \d+, fps [\d.]+, kept [1-9]\d* keyframes"],
    "score_footage.py": [r"28 annotated frames, count MAE 0\.\d+", r"services: 6 of 6 found, 0 false"],
    "scale_out.py": [
        r"loket-1 +district-1 +running +frames [1-9]",
        r"clip of loket-1: [1-9]\d* bytes h264 from district-1 at /api/clips/",
        r"events stored once: [1-9]\d*",
    ],
    "record_camera.py": [r"events: \[\('motion', 'queue at counter 1'\)\]", r"replay: first frame \d+x\d+"],
}


def _scripts() -> list[str]:
    return sorted(p.name for p in EXAMPLES.glob("*.py") if p.name not in COVERED_ELSEWHERE)


def test_every_example_is_run_somewhere() -> None:
    assert set(_scripts()) | COVERED_ELSEWHERE == {p.name for p in EXAMPLES.glob("*.py")}
    assert "device_info.py" in _scripts()
    assert set(EXPECTED) == set(_scripts()), "say what a new example must print"
    others = [p.read_text() for p in TESTS.rglob("test_*.py") if p.name != Path(__file__).name]
    for name in COVERED_ELSEWHERE:
        assert any(name in text for text in others), f"no test runs examples/{name}"


@pytest.mark.parametrize("script", _scripts())
def test_example_runs(script: str, tmp_path: Path) -> None:
    out = subprocess.run(
        [sys.executable, str(EXAMPLES / script)], cwd=tmp_path, capture_output=True, text=True, timeout=180
    )
    assert out.returncode == 0, out.stderr[-2000:]
    assert out.stdout.strip(), "an example prints what it did"
    assert "Traceback" not in out.stderr
    for pattern in EXPECTED.get(script, []):
        assert re.search(pattern, out.stdout), f"{script} did not print {pattern!r}:\n{out.stdout[-2000:]}"
