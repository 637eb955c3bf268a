"""A write the camera refuses midway: the camera fails with what was done and why; the next apply finishes."""

from __future__ import annotations

from pathlib import Path

from _prov_helpers import ADMIN_PW, assert_no_secret, write
from pydantic import SecretStr

from kedirivms.fleet import load_fleet
from kedirivms.provision import apply
from kedirivms.sim import VirtualCamera, VirtualCameraConfig


def test_a_refused_write_fails_that_camera_and_lists_what_was_done(secrets_env: None, tmp_path: Path) -> None:
    config = VirtualCameraConfig(host="127.0.3.210", password=SecretStr(ADMIN_PW))
    with VirtualCamera(config) as cam, VirtualCamera(config.model_copy(update={"host": "127.0.3.211"})) as other:
        path = write(
            tmp_path / "faults.yaml",
            "defaults:\n"
            "  credentials: {username: admin, password_env: KVMS_TEST_ADMIN_PW}\n"
            "  hostname: '{name}'\n"
            "  time: {ntp_servers: [10.1.1.1]}\n"
            "sites:\n"
            "  s:\n"
            "    cameras:\n"
            f"      - {{name: flaky, address: '{cam.host}:{cam.port}'}}\n"
            f"      - {{name: steady, address: '{other.host}:{other.port}'}}\n",
        )
        inv = load_fleet(path)
        cam.inject_fault("http500", operation="SetNTP", count=1)
        first = {r.name: r for r in apply(inv).cameras}
        flaky = first["flaky"]
        assert flaky.status == "failed"
        assert [c.section for c in flaky.changes] == ["hostname", "scopes", "scopes"]
        assert flaky.error is not None and "after 3 of 4 change(s), time: ntp_servers" in flaky.error
        assert "SetNTP" in flaky.error
        assert first["steady"].status == "changed" and other.state.ntp_servers[0].address == "10.1.1.1"
        assert cam.state.hostname == "flaky" and cam.state.ntp_servers == []
        assert_no_secret(flaky.model_dump_json())
        second = {r.name: r for r in apply(inv).cameras}
        assert second["flaky"].status == "changed"
        assert [str(c) for c in second["flaky"].changes] == ["time: ntp_servers: [] -> [10.1.1.1]"]
        assert second["steady"].status == "unchanged"
