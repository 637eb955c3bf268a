"""``kedirivms simulate`` into a pipe or a file: whole lines, never a table cut to 80 columns."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from kedirivms.cli._simulate import start_cameras
from kedirivms.errors import ConfigError
from kedirivms.sim import VirtualCameraConfig

PASSWORD = "a-rather-long-password-that-rich-would-cut-2026"


def test_simulate_to_a_file_prints_whole_lines(tmp_path: Path) -> None:
    out = tmp_path / "cameras.txt"
    env = {k: v for k, v in os.environ.items() if k not in ("COLUMNS", "LINES")}
    with out.open("w") as fh:
        proc = subprocess.run(
            [sys.executable, "-m", "kedirivms.sim", "--cameras", "2", "--distinct-hosts", "--base-port", "0",
             "--password", PASSWORD, "--duration", "0.5"],
            stdout=fh, stderr=subprocess.PIPE, text=True, env=env, timeout=60,
        )  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    lines = out.read_text().splitlines()
    assert lines[0].split() == [
        "device_url", "username", "password", "auth", "channels", "profiles", "rtsp_port", "discovery"
    ]  # fmt: skip
    rows = [line.split() for line in lines[1:3]]
    for n, cells in enumerate(rows, start=1):
        assert cells[0].startswith(f"http://127.0.1.{n}:") and cells[0].endswith("/onvif/device_service")
        assert cells[1:4] == ["admin", PASSWORD, "username_token"]
    assert "…" not in out.read_text()


def test_discovery_with_several_cameras_on_one_host_is_refused() -> None:
    with pytest.raises(ConfigError, match="--distinct-hosts"):
        start_cameras(2, "127.0.0.1", 0, False, VirtualCameraConfig(), discovery=True)
