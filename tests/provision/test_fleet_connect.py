"""plan and apply connect their cameras through ``kedirivms.connect_cameras``: bounded, one typed error per camera,
the reads on the thread that connected the camera."""

from __future__ import annotations

import contextlib
import threading
from pathlib import Path

import pytest
from _prov_helpers import ADMIN_PW, assert_no_secret, write
from pydantic import SecretStr

from clitools import free_port
from kedirivms.fleet import load_fleet
from kedirivms.provision import apply, plan
from kedirivms.sim import VirtualCamera, VirtualCameraConfig

HOSTS = ("127.0.3.220", "127.0.3.221", "127.0.3.222")


def _fleet(tmp_path: Path, cams: list[VirtualCamera]) -> Path:
    gone = free_port()
    return write(
        tmp_path / "fleet.yaml",
        "defaults:\n"
        "  credentials: {username: admin, password_env: KVMS_TEST_ADMIN_PW}\n"
        "  hostname: '{name}'\n"
        "  timeout: 2.0\n"
        "sites:\n"
        "  s:\n"
        "    cameras:\n"
        + "".join(f"      - {{name: ok-{i}, address: '{c.host}:{c.port}'}}\n" for i, c in enumerate(cams))
        + f"      - {{name: wrong, address: '{cams[0].host}:{cams[0].port}',"
        " credentials: {username: admin, password_env: KVMS_TEST_WRONG_PW}}\n"
        f"      - {{name: gone, address: '127.0.0.1:{gone}'}}\n"
        f"      - {{name: nosecret, address: '{cams[0].host}:{cams[0].port}',"
        " credentials: {username: admin, password_env: KVMS_TEST_UNSET_PW}}\n",
    )


@pytest.mark.parametrize("processes", [1, 2])
def test_plan_and_apply_connect_bounded_with_an_error_per_camera(
    secrets_env: None, tmp_path: Path, processes: int
) -> None:
    config = VirtualCameraConfig(password=SecretStr(ADMIN_PW))
    with contextlib.ExitStack() as stack:
        cams = [stack.enter_context(VirtualCamera(config.model_copy(update={"host": h}))) for h in HOSTS]
        inv = load_fleet(_fleet(tmp_path, cams))
        threads: dict[str, str] = {}
        p = plan(
            inv,
            concurrency=2,
            processes=processes,
            progress=lambda c: threads.__setitem__(c.name, threading.current_thread().name),
        )
        names = [c.name for c in p.cameras]
        assert names == ["ok-0", "ok-1", "ok-2", "wrong", "gone", "nosecret"]  # inventory order
        by = {c.name: c for c in p.cameras}
        assert all(by[f"ok-{i}"].status == "changes" for i in range(3))  # hostname differs
        assert by["wrong"].status == "failed" and "credentials" in (by["wrong"].error or "")
        assert by["gone"].status == "failed" and by["gone"].error
        assert by["nosecret"].status == "failed" and "KVMS_TEST_UNSET_PW" in (by["nosecret"].error or "")
        if processes == 1:
            # every connected camera was read on a thread of connect_cameras' pool, at most 2 of them
            pool = {threads[n] for n in names if n != "nosecret"}
            assert all(t.startswith("kedirivms-connect") for t in pool) and len(pool) <= 2
        report = apply(inv, plan=p if processes == 1 else None, concurrency=2, processes=processes)
        done = {r.name: r for r in report.cameras}
        assert [r.name for r in report.cameras] == names
        assert all(done[f"ok-{i}"].status == "changed" for i in range(3))
        assert [c.state.hostname for c in cams] == ["ok-0", "ok-1", "ok-2"]
        assert {done[n].status for n in ("wrong", "gone", "nosecret")} == {"failed"}
        assert done["wrong"].error == by["wrong"].error
        assert_no_secret(p.model_dump_json(), report.model_dump_json())
