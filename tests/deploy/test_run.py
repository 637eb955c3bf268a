"""``kedirivms run``: a fleet file against a virtual counter camera (ONVIF + RTSP) over loopback."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml

from clitools import run
from kedirivms.deploy import validate_plugins
from kedirivms.errors import ConfigError
from kedirivms.fleet import load_fleet, parse_fleet
from kedirivms.record import SegmentIndex
from kedirivms.sim import CounterScene, EncoderSpec, VirtualCamera, VirtualCameraConfig

PASSWORD = "Run-s3cret-pw"


@pytest.fixture(scope="module")
def counter_camera() -> Iterator[VirtualCamera]:
    scene = CounterScene(5, view="top", arrival_rate_per_min=6.0, service_time_s=10.0, width=320, height=240)
    small = EncoderSpec(width=320, height=240, fps=10, bitrate_kbps=256, gop=10)
    config = VirtualCameraConfig(password=PASSWORD, main=small, sub=small)
    with VirtualCamera(config, rtsp=True, scene=lambda ch, kind: scene) as cam:
        yield cam


def _deployment(tmp_path: Path, cam: VirtualCamera, **extra: object) -> Path:
    zones = [z.model_dump(mode="json") for z in CounterScene(0, view="top").zones()]
    doc = {
        "version": 2,
        "sites": {
            "kota": {
                "cameras": [
                    {
                        "name": "loket-9",
                        "address": cam.device_url,
                        "credentials": {"username": "admin", "password_file": "secret.txt"},
                        "zones": zones,
                        "plugins": [{"name": "queue", "config": {"interval_s": 2.0}}],
                    },
                    {"name": "gone", "address": "127.0.0.1:9", "timeout": 1.0, "plugins": []},
                ]
            }
        },
        "sinks": [{"type": "jsonl", "path": "out/events.jsonl"}],
        "recording": {"root": "rec", "segment_seconds": 2},
        **extra,
    }
    (tmp_path / "secret.txt").write_text(PASSWORD + "\n")
    path = tmp_path / "site.yaml"
    path.write_text(yaml.safe_dump(doc, sort_keys=False))
    return path


def test_run_analytics_recording_and_events(
    counter_camera: VirtualCamera, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = _deployment(tmp_path, counter_camera)
    code, out, err = run(capsys, "run", str(path), "--seconds", "7", "--json", "--chart", str(tmp_path / "chart.png"))
    assert code == 0, err
    report = json.loads(out[out.index("{") :])
    assert report["cameras"]["loket-9"]["connected"] is True
    gone = report["cameras"]["gone"]
    assert gone["connected"] is False and gone["error"] and gone["state"] == "retrying" and gone["attempts"] >= 2
    plugin = report["metrics"]["cameras"][0]["plugins"][0]
    assert plugin["plugin"] == "queue" and plugin["frames"] > 10 and plugin["errors"] == 0
    events = [json.loads(line) for line in (tmp_path / "out" / "events.jsonl").read_text().splitlines()]
    assert any(e["kind"] == "queue_stats" and e["camera"] == "loket-9" for e in events)
    assert (tmp_path / "chart.png").read_bytes()[:4] == b"\x89PNG"
    index = SegmentIndex(tmp_path / "rec")
    try:
        segments = index.segments("loket-9")
    finally:
        index.close()
    assert segments and sum(s.bytes for s in segments) > 10_000, "the recording profile was recorded"
    assert PASSWORD not in out and PASSWORD not in err


def test_invalid_fleet_file_has_line_numbers(tmp_path: Path) -> None:
    bad = (
        "sites:\n  kota:\n    cameras:\n      - name: loket 1\n        address: 10.0.0.1\n"
        "        plugins: [{name: queue, colour: red}]\n"
    )
    with pytest.raises(ConfigError) as info:
        parse_fleet(bad, "site.yaml")
    text = str(info.value)
    assert "site.yaml:4:" in text and "site.yaml:6:" in text and "unknown key" in text
    assert "error(s) in the fleet file" in text


def test_old_deployment_file_says_what_to_change() -> None:
    old = "cameras:\n  - name: loket-1\n    address: 10.0.0.1\nsinks: []\n"
    with pytest.raises(ConfigError) as info:
        parse_fleet(old, "site.yaml")
    text = str(info.value)
    assert text.startswith("site.yaml:1:1:") and "version: 2" in text and "sites:" in text


def test_example_fleet_file_plugins_validate() -> None:
    fleet = load_fleet(Path(__file__).parents[2] / "examples" / "fleet.yaml")
    validate_plugins(fleet.cameras())
    pare = [t for t in fleet.cameras() if t.site == "kecamatan-pare"]
    assert pare and all(t.workers == ["pare-box"] for t in pare)
    assert fleet.camera("mpp-loket-1").plugins[0].name == "queue" and len(fleet.camera("mpp-loket-1").zones) == 3


def test_clear_password_refused_and_paths_rebased(tmp_path: Path, counter_camera: VirtualCamera) -> None:
    with pytest.raises(ConfigError) as info:
        parse_fleet(
            "sites:\n  s:\n    cameras:\n      - name: a\n        address: x\n"
            f"        credentials: {{username: admin, password: {PASSWORD}}}\n"
        )
    assert PASSWORD not in str(info.value)
    fleet = load_fleet(_deployment(tmp_path, counter_camera))
    assert fleet.recording is not None and Path(fleet.recording.root) == tmp_path / "rec"
    assert Path(fleet.sinks[0].path) == tmp_path / "out" / "events.jsonl"  # type: ignore[union-attr]
