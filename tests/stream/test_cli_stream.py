"""``kedirivms stream`` against the virtual camera (URL target and ONVIF camera target)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from clitools import run
from kedirivms.sim import VirtualCamera, VirtualCameraConfig
from kedirivms.sim.rtsp import RtspServer, StreamSpec

PASSWORD = "Str3am-secret"


def test_stream_url_json(rtsp_server: RtspServer, capsys: pytest.CaptureFixture[str]) -> None:
    url = rtsp_server.url("cam", user="viewer", password=PASSWORD)
    code, out, _ = run(capsys, "stream", url, "--seconds", "2", "--json")
    assert code == 0
    report = json.loads(out)
    assert (
        report["frames"] >= 1
        and report["decoded"] >= report["frames"]
        and report["codec"] == "h264"
        and report["width"] == 320
    )
    assert {"fps", "dropped", "reconnects", "last_frame_age"} <= set(report)
    assert PASSWORD not in out and report["source"].startswith("rtsp://viewer:***@")


def test_stream_file_table(media: dict[str, Path], capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "stream", str(media["h264"]), "--seconds", "5")
    assert code == 0 and "ended" in out and "10 frames" in out


def test_stream_camera_profile(capsys: pytest.CaptureFixture[str]) -> None:
    with RtspServer() as srv:
        srv.add_stream("Profile_1_sub", StreamSpec(width=320, height=240, fps=10, bitrate=200_000, gop=10))
        cfg = VirtualCameraConfig(rtsp_port=srv.port, password=PASSWORD)
        with VirtualCamera(cfg) as cam:
            target = cam.device_url
            code, out, err = run(
                capsys, "stream", target, "-u", "admin", "-p", PASSWORD, "--profile", "Profile_1_sub",
                "--seconds", "1.5", "--json",
            )  # fmt: skip
    assert code == 0, err
    report = json.loads(out)
    assert report["frames"] >= 1 and report["height"] == 240
    assert PASSWORD not in out + err


def test_stream_unreachable_is_reported(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run(
        capsys, "stream", "rtsp://127.0.0.1:9/none", "--seconds", "1", "--timeout", "1", "--read-timeout", "1",
        "--json",
    )  # fmt: skip
    # no frame at all: the documented exit code of why (docs/cli.md: 5 connection failed), one line, no crash
    assert code == 5, err
    assert out == "" and err.startswith("error: ") and err.count("\n") == 1
