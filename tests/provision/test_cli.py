"""``kedirivms plan/apply/inventory`` against virtual cameras: exit codes, JSON, tables, audit, bootstrap."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import quote, unquote

import pytest
from _prov_helpers import ADMIN_PW, assert_no_secret, write
from pydantic import SecretStr

from clitools import free_port, run
from kedirivms.fleet import load_fleet
from kedirivms.provision import plan
from kedirivms.sim import VirtualCamera, VirtualCameraConfig
from kedirivms.sim.discovery import DiscoveryResponder

HOSTS = ("127.0.77.1", "127.0.77.2", "127.0.77.3")


@pytest.fixture(scope="module")
def cams() -> Iterator[list[VirtualCamera]]:
    started: list[VirtualCamera] = []
    try:
        for i, host in enumerate(HOSTS, start=1):
            cfg = VirtualCameraConfig(
                host=host,
                password=SecretStr(ADMIN_PW),
                name=f"Loket {i}",
                location="kediri/pare",
                serial_number=f"CLI-{i}",
                auth="digest" if i == 2 else "username_token",
            )
            started.append(VirtualCamera(cfg).start())
        yield started
    finally:
        for cam in started:
            cam.stop()


def _inventory(tmp_path: Path, cams: list[VirtualCamera], *, dead: bool = True) -> Path:
    rows = [f"      - {{name: cli-{i}, address: '{c.host}:{c.port}'}}" for i, c in enumerate(cams, start=1)]
    if dead:
        rows.append(f"      - {{name: cli-dead, address: '127.0.77.9:{free_port('127.0.77.9')}', timeout: 1}}")
    text = (
        "version: 1\n"
        "defaults:\n"
        "  credentials: {username: admin, password_env: KVMS_TEST_ADMIN_PW}\n"
        "  time: {ntp_servers: [10.9.9.9], time_zone: WIB-7}\n"
        "  users: [{name: operator, role: Operator, password_env: KVMS_TEST_OPERATOR_PW}]\n"
        "sites:\n"
        "  pare:\n"
        "    location: kediri/pare\n"
        "    cameras:\n" + "\n".join(rows) + "\n"
    )
    return write(tmp_path / "inventory.yaml", text)


def test_plan_json_and_apply_table_with_an_unreachable_camera(
    cams: list[VirtualCamera], secrets_env: None, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = _inventory(tmp_path, cams)
    code, out, err = run(capsys, "plan", str(path), "--json")
    assert code == 1, err
    data = json.loads(out)
    statuses = {c["name"]: c["status"] for c in data["cameras"]}
    assert statuses == {"cli-1": "changes", "cli-2": "changes", "cli-3": "changes", "cli-dead": "failed"}
    first = data["cameras"][0]
    assert {"section", "item", "current", "desired", "action"} <= set(first["changes"][0])
    assert {"name": "cli-1", "site": "pare"}.items() <= first.items()
    assert cams[0].state.ntp_servers == []  # plan is read-only

    audit = tmp_path / "audit.jsonl"
    code, out2, err2 = run(capsys, "apply", str(path), "--audit", str(audit), "--concurrency", "2")
    assert code == 1
    assert "3 changed, 0 unchanged, 1 failed" in out2 and "cli-dead" in out2 and "could not reach" in out2
    assert len(audit.read_text().splitlines()) == 5

    code, out3, _ = run(capsys, "apply", str(path), "--only", "pare", "--audit", str(audit), "--json")
    report = json.loads(out3)
    assert code == 1 and [c["status"] for c in report["cameras"]] == ["unchanged"] * 3 + ["failed"]

    code, out4, err4 = run(capsys, "apply", str(path), "--only", "cli-1", "--only", "cli-2", "--processes", "2")
    assert code == 0, err4
    assert "0 changed, 2 unchanged, 0 failed" in out4
    default_audit = tmp_path / "inventory.audit.jsonl"
    assert default_audit.exists()
    assert_no_secret(out, err, out2, err2, out3, out4, err4, audit.read_text(), default_audit.read_text())


def test_plan_reports_a_missing_secret_per_camera(
    cams: list[VirtualCamera], tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("KVMS_TEST_ADMIN_PW", raising=False)
    path = _inventory(tmp_path, cams[:1], dead=False)
    code, out, err = run(capsys, "plan", str(path))
    assert code == 1
    assert "environment variable KVMS_TEST_ADMIN_PW is not set" in out


def test_invalid_inventory_exits_2_with_line_numbers(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = write(tmp_path / "bad.yaml", "sites:\n  a:\n    cameras:\n      - {name: c, address: x, fps: 10}\n")
    code, out, err = run(capsys, "apply", str(path))
    assert code == 2
    assert f"{path}:4:31: sites.a.cameras.0.fps: unknown key" in err
    code, _, err = run(capsys, "plan", str(path), "--only", "zzz")
    assert code == 2 and "unknown key" in err


def test_only_with_an_unknown_name_is_an_error(
    cams: list[VirtualCamera], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = _inventory(tmp_path, cams[:1], dead=False)
    code, _, err = run(capsys, "plan", str(path), "--only", "nowhere")
    assert code == 2 and "no such camera or site" in err


def test_schema_command_writes_json_schema(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out_file = tmp_path / "inventory.schema.json"
    code, _, err = run(capsys, "inventory", "schema", "-o", str(out_file))
    assert code == 0, err
    schema = json.loads(out_file.read_text())
    assert schema["title"] == "Fleet" and "sites" in schema["properties"]
    code, out, _ = run(capsys, "inventory", "schema")
    assert json.loads(out) == schema


def test_inventory_discover_writes_a_skeleton_that_is_in_sync(
    cams: list[VirtualCamera], secrets_env: None, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    responders = []
    try:
        for cam in cams:
            scopes = [
                f"onvif://www.onvif.org/name/{quote(cam.config.name)}",
                f"onvif://www.onvif.org/location/{cam.config.location}",
                "onvif://www.onvif.org/type/video_encoder",
            ]
            responders.append(DiscoveryResponder(host=cam.host, xaddrs=[cam.device_url], scopes=scopes).start())
        out_file = tmp_path / "skeleton.yaml"
        argv = ["inventory", "discover", "--range", "127.0.77.0/29", "-o", str(out_file), "--site", "pare"]
        code, out, err = run(capsys, *argv, "--password-env", "KVMS_TEST_ADMIN_PW", "--timeout", "0.5")
        assert code == 0, err
        assert "3 camera(s)" in out
        text = out_file.read_text()
        assert "password_env: KVMS_TEST_ADMIN_PW" in text and "Kedirivms VirtualCam-1" in text
        assert_no_secret(text, out, err)
        inv = load_fleet(out_file)
        names = [t.name for t in inv.cameras()]
        # named after each camera's current name scope (read from the device, not the discovery reply)
        current = [unquote(next(x for x in c.state.scopes if "/name/" in x).rsplit("/", 1)[1]) for c in cams]
        assert names == [n.lower().replace(" ", "-") for n in current]
        assert [t.hostname for t in inv.cameras()] == [c.state.hostname for c in cams]
        result = plan(inv)
        assert [c.status for c in result.cameras] == ["in_sync"] * 3, [c.changes for c in result.cameras]
        code, _, err = run(capsys, *argv)
        assert code == 2 and "exists" in err
    finally:
        for responder in responders:
            responder.stop()
