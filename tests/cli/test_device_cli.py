"""``kedirivms info/profiles/snapshot`` against virtual cameras: JSON fields, redaction, one-line errors."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from clitools import run
from kedirivms.sim import VirtualCamera, VirtualCameraConfig

PASSWORD = "Cli-s3cret-pw"


@pytest.fixture(scope="module")
def nvr() -> Iterator[VirtualCamera]:
    with VirtualCamera(VirtualCameraConfig(password=PASSWORD, channels=4, auth="digest")) as cam:
        yield cam


def test_info_json(nvr: VirtualCamera, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run(capsys, "info", f"127.0.0.1:{nvr.port}", "-u", "admin", "-p", PASSWORD, "--json")
    assert code == 0, err
    data = json.loads(out)
    assert data["device"]["manufacturer"] == nvr.config.manufacturer
    assert {"model", "firmware_version", "serial_number"} <= set(data["device"])
    assert isinstance(data["clock_offset_s"], float)
    assert data["channels"] == 4 and len(data["profiles"]) == 8
    p = data["profiles"][0]
    assert {"token", "encoding", "width", "height", "stream_uri"} <= set(p)
    assert p["stream_uri"].startswith("rtsp://")
    assert PASSWORD not in out and PASSWORD not in err


def test_info_table_with_env_password(
    nvr: VirtualCamera, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("KEDIRIVMS_PASSWORD", PASSWORD)
    code, out, err = run(capsys, "info", nvr.device_url, "-u", "admin")
    assert code == 0, err
    assert "Profile_4_sub" in out and PASSWORD not in out


def test_profiles_json_password_file(nvr: VirtualCamera, capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    secret = tmp_path / "pw"
    secret.write_text(PASSWORD + "\n")
    code, out, _ = run(
        capsys, "profiles", f"127.0.0.1:{nvr.port}", "-u", "admin", "--password-file", str(secret), "--json"
    )
    assert code == 0
    assert [p["channel"] for p in json.loads(out)] == [1, 1, 2, 2, 3, 3, 4, 4]


def test_snapshot(nvr: VirtualCamera, capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    out_file = tmp_path / "snap.jpg"
    code, _, err = run(
        capsys,
        "snapshot",
        f"127.0.0.1:{nvr.port}",
        "-u",
        "admin",
        "-p",
        PASSWORD,
        "--profile",
        "Profile_2_sub",
        "-o",
        str(out_file),
    )
    assert code == 0, err
    assert out_file.read_bytes()[:2] == b"\xff\xd8"


@pytest.mark.parametrize(
    ("argv", "code", "needle"),
    [
        (["-p", "wrong-pass-42"], 3, "credentials refused"),
        (["-p", PASSWORD, "--timeout", "1"], 0, None),
    ],
)
def test_failures_one_line(
    nvr: VirtualCamera, capsys: pytest.CaptureFixture[str], argv: list[str], code: int, needle: str | None
) -> None:
    rc, out, err = run(capsys, "info", f"127.0.0.1:{nvr.port}", "-u", "admin", *argv, "--json")
    assert rc == code
    if needle:
        assert needle in err and len(err.strip().splitlines()) == 1 and "Traceback" not in err
        assert "wrong-pass-42" not in err


def test_unreachable_and_bad_target(capsys: pytest.CaptureFixture[str], unused_port: int) -> None:
    rc, _, err = run(capsys, "info", f"127.0.0.1:{unused_port}", "-u", "admin", "-p", "x", "--timeout", "1")
    assert rc == 5 and err.count("\n") == 1 and "Traceback" not in err
    rc, _, err = run(capsys, "info", "ftp://nowhere", "-u", "admin", "-p", "x")
    assert rc == 2 and "cannot parse" in err


def test_doctor_json(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "doctor", "--json")
    data = json.loads(out)
    assert code == 0 and data["libraries"]["zeep"] and data["ffmpeg_libraries"]["libavcodec"]
    assert data["onvif_wsdl_dir"].endswith("wsdl")
    assert data["queue_detector"] == "dnn" and Path(data["queue_model"]).is_file()  # make test installs [detect]


def test_snapshot_from_stream(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    with VirtualCamera(VirtualCameraConfig(password=PASSWORD), rtsp=True) as cam:
        out_file = tmp_path / "frame.png"
        code, _, err = run(capsys, "snapshot", f"127.0.0.1:{cam.port}", "-u", "admin", "-p", PASSWORD,
                           "--profile", "Profile_1_sub", "--from-stream", "-o", str(out_file))  # fmt: skip
    assert code == 0, err
    assert out_file.read_bytes()[:4] == b"\x89PNG"
