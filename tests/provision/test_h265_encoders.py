"""Provisioning H.265 encoders through Media2: plan, apply, in sync afterwards, refused values reported by plan."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from _prov_helpers import ADMIN_PW, write
from pydantic import SecretStr

from clitools import run
from kedirivms.sim import EncoderSpec, VirtualCamera, VirtualCameraConfig

HOST = "127.0.78.2"


@pytest.fixture
def cam() -> Iterator[VirtualCamera]:
    cfg = VirtualCameraConfig(
        host=HOST,
        password=SecretStr(ADMIN_PW),
        media2=True,
        main=EncoderSpec(width=1280, height=720, fps=15, bitrate_kbps=2048, gop=15),
    )
    with VirtualCamera(cfg) as cam:
        yield cam


def _inventory(tmp_path: Path, cam: VirtualCamera, main: str) -> Path:
    return write(
        tmp_path / "inventory.yaml",
        "version: 1\n"
        "defaults:\n"
        "  credentials: {username: admin, password_env: KVMS_TEST_ADMIN_PW}\n"
        "sites:\n"
        "  pare:\n"
        "    cameras:\n"
        f"      - {{name: h265-1, address: '{cam.host}:{cam.port}', encoders: {{main: {main}}}}}\n",
    )


def test_plan_apply_h265_main10(
    cam: VirtualCamera, secrets_env: None, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = _inventory(tmp_path, cam, "{encoding: H265, profile: Main10, gop: 30}")
    code, out, err = run(capsys, "plan", str(path), "--json")
    assert code == 0, err
    changes = [(c["item"], c["current"], c["desired"]) for c in json.loads(out)["cameras"][0]["changes"]
               if c["section"] == "encoders"]  # fmt: skip
    assert changes == [
        ("main encoding", "H264", "H265"),
        ("main profile", "Main", "Main10"),
        ("main gop", 15, 30),
    ]
    code, out, err = run(capsys, "apply", str(path), "--json", "--audit", str(tmp_path / "a.jsonl"))
    assert code == 0, err
    spec = cam.state.encoders["VideoEncoder_1_main"]
    assert (spec.encoding, spec.h265_profile, spec.gop) == ("H265", "Main10", 30)
    code, out, err = run(capsys, "plan", str(path), "--json")
    assert code == 0 and json.loads(out)["cameras"][0]["status"] == "in_sync", err


def test_plan_reports_values_media2_does_not_offer(
    cam: VirtualCamera, secrets_env: None, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = _inventory(tmp_path, cam, "{encoding: H265, fps: 31}")
    code, out, _ = run(capsys, "plan", str(path), "--json")
    (camera,) = json.loads(out)["cameras"]
    assert code == 1 and camera["status"] == "invalid"
    assert any("fps=31" in p and "H265" in p for p in camera["problems"]), camera["problems"]
