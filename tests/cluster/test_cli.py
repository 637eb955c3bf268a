"""``kedirivms worker`` and ``kedirivms centre`` in-process against a real nats-server and a virtual camera."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from clitools import free_port, run
from clustertools import write_fleet
from kedirivms.cluster._server import NatsServer
from kedirivms.sim import EncoderSpec, VirtualCamera, VirtualCameraConfig

PASSWORD = "Cli-cluster-s3cret"
ENV = "KEDIRIVMS_TEST_CLI_CLUSTER_PW"


def test_worker_then_centre_json(
    nats_single: NatsServer, tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(ENV, PASSWORD)
    small = EncoderSpec(width=320, height=240, fps=5, bitrate_kbps=128, gop=5)
    with VirtualCamera(VirtualCameraConfig(password=PASSWORD, main=small, sub=small), rtsp=True) as cam:
        fleet = write_fleet(tmp_path / "fleet.yaml", "kota", [("loket-1", cam.device_url)], ENV)
        code, out, err = run(
            capsys, "worker", str(fleet), "--nats", nats_single.url, "--id", "cli-w1", "--seconds", "8", "--json",
            "--lease-ttl", "4", "--status-interval", "1",
        )  # fmt: skip
    assert code == 0, err
    lines = [json.loads(line) for line in out.splitlines() if line.startswith("{")]
    assert any(s["cameras"].get("loket-1", {}).get("frames", 0) > 0 for s in lines), lines[-1]
    assert lines[-1]["cameras"] == {}, "closing released the camera"
    assert PASSWORD not in out + err
    db = tmp_path / "centre.sqlite"
    code, out, err = run(capsys, "centre", "--nats", nats_single.url, "--db", str(db), "--seconds", "4", "--json")
    assert code == 0, err
    view = json.loads(out[out.index("{") :])
    cams = {c["camera"]: c for c in view["cameras"]}
    assert cams["loket-1"]["site"] == "kota" and cams["loket-1"]["state"] == "released"
    assert cams["loket-1"]["frames"] is None or cams["loket-1"]["frames"] >= 0
    assert [w["worker"] for w in view["workers"]] == ["cli-w1"] and view["events"] > 3


@pytest.mark.parametrize("command", ["worker", "centre"])
def test_unreachable_nats_is_one_line_error(command: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """Nobody listens at the NATS URL: after ``--connect-timeout`` a one-line error, no password in it."""
    fleet = write_fleet(tmp_path / "fleet.yaml", "kota", [("loket-1", "127.0.0.1:9")], ENV)
    url = f"nats://user:Hidden-pw@127.0.0.1:{free_port()}"
    args = [str(fleet)] if command == "worker" else ["--db", str(tmp_path / "centre.sqlite")]
    code, out, err = run(capsys, command, *args, "--nats", url, "--seconds", "1", "--connect-timeout", "1.5")
    assert code != 0 and err.count("\n") == 1 and "error:" in err and "Hidden-pw" not in err + out
