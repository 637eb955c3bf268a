"""Presets belong to the PTZ node (written once when profiles share it) and ``apply``'s run time covers reading."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from _prov_helpers import ADMIN_PW, write
from pydantic import SecretStr

from clitools import run
from kedirivms import Camera
from kedirivms.sim import VirtualCamera, VirtualCameraConfig

HOST = "127.0.78.1"


@pytest.fixture
def cam() -> Iterator[VirtualCamera]:
    # main and sub profile both carry the channel's one PTZ configuration (most cameras do this)
    cfg = VirtualCameraConfig(host=HOST, password=SecretStr(ADMIN_PW), ptz=True, ptz_profiles="all")
    with VirtualCamera(cfg) as cam:
        yield cam


def _inventory(tmp_path: Path, cam: VirtualCamera) -> Path:
    return write(
        tmp_path / "inventory.yaml",
        "version: 1\n"
        "defaults:\n"
        "  credentials: {username: admin, password_env: KVMS_TEST_ADMIN_PW}\n"
        "sites:\n"
        "  pare:\n"
        "    cameras:\n"
        f"      - name: ptz-1\n"
        f"        address: '{cam.host}:{cam.port}'\n"
        "        ptz: {presets: [{name: Entrance, pan: 0.25, tilt: 0.1, zoom: 0.0}]}\n",
    )


def test_profiles_name_their_ptz_node(cam: VirtualCamera) -> None:
    with Camera(cam.device_url, username="admin", password=ADMIN_PW) as c:
        profiles = c.profiles()
    assert [(p.token, p.ptz_configuration_token, p.ptz_node_token) for p in profiles] == [
        ("Profile_1_main", "PTZConfig_1", "PTZNode_1"),
        ("Profile_1_sub", "PTZConfig_1", "PTZNode_1"),
    ]


def test_shared_ptz_node_gets_each_preset_once(
    cam: VirtualCamera, secrets_env: None, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = _inventory(tmp_path, cam)
    code, out, err = run(capsys, "plan", str(path), "--json")
    assert code == 0, err
    (camera,) = json.loads(out)["cameras"]
    ptz = [(c["item"], c["action"]) for c in camera["changes"] if c["section"] == "ptz"]
    assert ptz == [("preset Entrance", "create")]

    cam.clear_request_log()
    before = 0
    code, out, err = run(capsys, "apply", str(path), "--json", "--audit", str(tmp_path / "audit.jsonl"))
    assert code == 0, err
    report = json.loads(out)
    assert [c["status"] for c in report["cameras"]] == ["changed"]
    writes = [r.operation for r in cam.request_log[before:] if r.operation in ("SetPreset", "AbsoluteMove")]
    assert writes == ["AbsoluteMove", "SetPreset"]
    with Camera(cam.device_url, username="admin", password=ADMIN_PW) as c:
        assert [p.name for p in c.ptz.presets("Profile_1_sub")] == ["Entrance"]

    # a second run is in sync: the preset is found through the node, not looked for per profile
    code, out, err = run(capsys, "plan", str(path), "--json")
    assert code == 0 and json.loads(out)["cameras"][0]["status"] == "in_sync", err


def test_apply_run_time_covers_reading(
    cam: VirtualCamera, secrets_env: None, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    cam.inject_fault("delay", "GetProfiles", delay_s=0.6, count=1)  # the read phase (plan) takes >= 0.6 s
    path = _inventory(tmp_path, cam)
    code, out, err = run(capsys, "apply", str(path), "--json", "--audit", str(tmp_path / "audit.jsonl"))
    assert code == 0, err
    report = json.loads(out)
    (camera,) = report["cameras"]
    assert camera["duration_s"] >= 0.6
    assert report["duration_s"] >= camera["duration_s"]  # the run holds every camera's read and write
    run_line = json.loads((tmp_path / "audit.jsonl").read_text().splitlines()[-1])
    assert run_line["event"] == "run" and run_line["duration_s"] >= 0.6
