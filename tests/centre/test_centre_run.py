"""``kedirivms run FLEET --http``: one host, no NATS, a virtual counter camera; the page shows its queue."""

from __future__ import annotations

import json
import threading
import urllib.request
from pathlib import Path
from typing import Any

import pytest

from clitools import free_port, run
from clustertools import write_fleet
from kedirivms.sim import EncoderSpec, VirtualCamera, VirtualCameraConfig

from .conftest import wait_until

PASSWORD = "Run-page-s3cret"
ENV = "KEDIRIVMS_TEST_RUN_PAGE_PW"


def test_run_serves_the_page(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(ENV, PASSWORD)
    port = free_port()
    seen: list[dict[str, Any]] = []

    def visit() -> None:
        def counted() -> bool:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/api/counters", timeout=2) as r:
                    tiles = json.load(r)["counters"]
            except OSError:
                return False
            seen.append(tiles[0])
            return tiles[0]["queue_length"] is not None and tiles[0]["state"] != "offline"

        wait_until(counted, 25.0, step=0.3)

    small = EncoderSpec(width=320, height=240, fps=5, bitrate_kbps=128, gop=5)
    with VirtualCamera(VirtualCameraConfig(password=PASSWORD, main=small, sub=small), rtsp=True) as cam:
        fleet = write_fleet(tmp_path / "fleet.yaml", "kota", [("loket-1", cam.device_url)], ENV)
        visitor = threading.Thread(target=visit)
        visitor.start()
        code, out, err = run(capsys, "run", str(fleet), "--http", f"127.0.0.1:{port}", "--seconds", "12", "--json")
        visitor.join()
    assert code == 0, err
    assert f"centre page: http://127.0.0.1:{port}/" in err
    tile = seen[-1]
    assert (tile["camera"], tile["site"]) == ("loket-1", "kota")
    assert tile["state"] in ("ok", "pile_up", "unstaffed") and tile["queue_length"] is not None, seen[-3:]
    assert tile["last_frame_time"] is not None and tile["pipeline"] == "running"
    assert (tmp_path / "centre.sqlite").exists()
    assert PASSWORD not in out + err and all(PASSWORD not in json.dumps(t) for t in seen)
