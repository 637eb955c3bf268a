"""``run`` connects the fleet through ``kedirivms.connect_cameras`` (bounded); the supervisor starts each pipeline
with the camera it connected and retries the failures."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml
from pydantic import SecretStr

from clitools import free_port
from kedirivms.deploy import Deployment
from kedirivms.deploy import service as deploy_service
from kedirivms.fleet import load_fleet
from kedirivms.onvif import ConnectResult, connect_cameras
from kedirivms.sim import VirtualCamera, VirtualCameraConfig

PASSWORD = "Fleet-c0nnect-pw"


def test_deployment_connects_through_connect_cameras(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    seen: list[tuple[int, list[ConnectResult]]] = []

    def spy(targets: Any, *, concurrency: int, on_result: Any, **kw: Any) -> list[ConnectResult]:
        results = connect_cameras(targets, concurrency=concurrency, on_result=on_result, **kw)
        seen.append((concurrency, results))
        return results

    monkeypatch.setattr(deploy_service, "connect_cameras", spy)  # a spy around the real helper
    (tmp_path / "secret.txt").write_text(PASSWORD + "\n")
    (tmp_path / "wrong.txt").write_text("not-the-password\n")
    with VirtualCamera(VirtualCameraConfig(password=SecretStr(PASSWORD))) as cam:
        cameras = [
            {"name": "ok", "address": cam.device_url},
            {
                "name": "wrong",
                "address": cam.device_url,
                "credentials": {"username": "admin", "password_file": "wrong.txt"},
            },
            {"name": "gone", "address": f"127.0.0.1:{free_port()}", "timeout": 1.0},
        ]
        doc = {
            "version": 2,
            "defaults": {"credentials": {"username": "admin", "password_file": "secret.txt"}, "events": False},
            "sites": {"kota": {"cameras": cameras}},
        }
        path = tmp_path / "fleet.yaml"
        path.write_text(yaml.safe_dump(doc, sort_keys=False))
        with Deployment(load_fleet(path), max_connects=2, backoff=(5.0, 10.0)) as dep:
            assert dep.wait_tried(timeout=20)
            statuses = dep.statuses
            pipeline = dep.supervisor.pipeline("ok")
            assert pipeline is not None
            ((bound, results),) = seen
            by = {r.target: r for r in results}
            assert bound == 2 and list(by) == ["ok", "wrong", "gone"]
            assert pipeline.camera is by["ok"].camera  # the pipeline runs on the camera connect_cameras connected
    ok, wrong, gone = statuses["ok"], statuses["wrong"], statuses["gone"]
    assert ok.connected and ok.state == "running" and ok.attempts == 0
    assert not wrong.connected and wrong.state == "retrying" and wrong.attempts == 1
    assert wrong.error == str(by["wrong"].error) and "credentials" in (wrong.error or "")
    assert not gone.connected and gone.state == "retrying" and gone.error == str(by["gone"].error)
    assert PASSWORD not in repr(statuses)
