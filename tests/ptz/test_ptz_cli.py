"""``kedirivms ptz``, ``imaging`` and ``events`` against a virtual camera: JSON fields, errors, event lines."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator

import pytest

from clitools import run as run_cli
from kedirivms.sim import VirtualCamera, VirtualCameraConfig

PASSWORD = "Ptz-s3cret-pw"  # of the module-scoped camera below (the shared vcam fixtures are per test)


@pytest.fixture(scope="module")
def cam() -> Iterator[VirtualCamera]:
    config = VirtualCameraConfig(password=PASSWORD, ptz_node={"pan_tilt_speed": 10.0})
    with VirtualCamera(config) as vcam:
        yield vcam


def run(capsys: pytest.CaptureFixture[str], cam: VirtualCamera, *argv: str) -> tuple[int, str, str]:
    """``kedirivms <command> 127.0.0.1:<port> <args> -u admin -p PASSWORD``: (exit code, stdout, stderr)."""
    return run_cli(capsys, argv[0], f"127.0.0.1:{cam.port}", *argv[1:], "-u", "admin", "-p", PASSWORD)


def test_ptz_presets_goto_and_status(cam: VirtualCamera, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, cam, "ptz", "move", "--pan", "0.1", "--seconds", "0.2", "--json")
    assert code == 0 and json.loads(out)["pan_tilt_status"] == "IDLE"
    assert cam.ptz_position()[0] > 0.0
    code, out, _ = run(capsys, cam, "ptz", "set-preset", "Lobby", "--json")
    assert code == 0 and json.loads(out) == {"token": "Preset_1", "name": "Lobby"}
    code, out, _ = run(capsys, cam, "ptz", "home")
    assert code == 0
    code, out, _ = run(capsys, cam, "ptz", "presets", "--json")
    [preset] = json.loads(out)
    assert (preset["token"], preset["name"]) == ("Preset_1", "Lobby")
    code, out, _ = run(capsys, cam, "ptz", "goto", "lobby")
    assert code == 0 and "Preset_1" in out
    code, out, _ = run(capsys, cam, "ptz", "status", "--json")
    status = json.loads(out)
    assert set(status) >= {"position", "pan_tilt_status", "zoom_status", "utc_time"}
    code, out, _ = run(capsys, cam, "ptz", "presets")
    assert "Lobby" in out


@pytest.mark.parametrize(
    ("argv", "code", "text"),
    [
        (("ptz", "move", "--pan", "2"), 2, r"pan velocity 2 is outside the node's range [-1, 1]"),
        (("ptz", "fly"), 2, "unknown ptz action"),
        (("ptz", "goto"), 2, "needs a preset name"),
        (("ptz", "goto", "Nowhere"), 2, "no preset named"),
        (("imaging", "--set", "brightness=300"), 2, "brightness=300 is outside the range [0, 100]"),
        (("imaging", "--set", "hue=3"), 2, "unknown imaging setting"),
    ],
)
def test_errors_are_one_line_with_exit_codes(
    cam: VirtualCamera, capsys: pytest.CaptureFixture[str], argv: tuple[str, ...], code: int, text: str
) -> None:
    got, out, err = run(capsys, cam, *argv)
    assert got == code and text in " ".join(err.split()) and PASSWORD not in err


def test_imaging_set_and_json(cam: VirtualCamera, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, cam, "imaging", "--set", "brightness=61", "--set", "ir-cut-filter=off", "--json")
    data = json.loads(out)
    assert code == 0 and data["settings"]["brightness"] == 61 and data["settings"]["ir_cut_filter"] == "OFF"
    assert data["options"]["brightness"] == {"min": 0.0, "max": 100.0}
    code, out, _ = run(capsys, cam, "imaging")
    assert code == 0 and "brightness" in out and "0..100" in out


def test_events_json_lines(cam: VirtualCamera, capsys: pytest.CaptureFixture[str]) -> None:
    timer = threading.Timer(0.6, cam.trigger_motion)
    timer.start()
    code, out, _ = run(capsys, cam, "events", "--seconds", "2", "--json", "--topic", "tns1:VideoSource/MotionAlarm")
    timer.join()
    lines = [json.loads(line) for line in out.splitlines()]
    assert code == 0 and lines and all(set(x) == {"topic", "utc_time", "property_operation", "source", "key", "data"}
                                       for x in lines)  # fmt: skip
    assert lines[0]["property_operation"] == "Initialized"
    assert any(x["property_operation"] == "Changed" and x["data"] == {"State": "true"} for x in lines)
    assert cam.subscription_count == 0
