"""Events a worker cannot keep while NATS is away are not lost silently: its publish queue drops the oldest past
its bound and counts them; the count is in the worker's status, in its log, and in the centre's fleet view."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from clustertools import WorkerProc, small_fleet, wait_for, write_fleet
from kedirivms.cluster import Centre
from kedirivms.cluster._server import NatsServer, free_port, wait_jetstream

PASSWORD = "Loss-s3cret-pw"
ENV = "KEDIRIVMS_TEST_LOSS_PW"


@pytest.fixture
def server(tmp_path: Path) -> Iterator[NatsServer]:
    root = tmp_path / "nats"
    srv = NatsServer("lossy", root, free_port(), f'jetstream {{ store_dir: "{root / "js"}" }}').start()
    try:
        wait_jetstream(srv.url)
        yield srv
    finally:
        srv.stop()


def test_dropped_events_are_counted_and_shown_at_the_centre(server: NatsServer, tmp_path: Path) -> None:
    with small_fleet(2, PASSWORD) as cams:
        fleet = write_fleet(tmp_path / "fleet.yaml", "kota", [(f"cam-{i}", c.device_url) for i, c in enumerate(cams)],
                            ENV)  # fmt: skip
        centre = Centre([server.url], tmp_path / "centre.sqlite").start()
        worker = WorkerProc(fleet, [server.url], "w-lossy", ttl=3.0, extra=["--publish-queue", "1"],
                            env={ENV: PASSWORD}, log_dir=tmp_path)  # fmt: skip
        try:

            def running() -> bool:
                view = centre.store.fleet_view()
                return len([c for c in view.cameras if c.state == "running" and c.frames]) == 2

            assert wait_for(running, 60), centre.store.fleet_view()
            server.stop()  # NATS away: the cameras are fenced, their news piles up in a queue of one
            time.sleep(2.0)
            server.start()

            def shown() -> int:
                return sum(w.dropped for w in centre.store.fleet_view().workers if w.worker == "w-lossy")

            assert wait_for(lambda: shown() > 0, 60), centre.store.fleet_view()
            assert worker.stop() == 0
            final = worker.latest or {}
            assert final["dropped"] >= shown(), final
            assert "events dropped so far" in worker.stderr_path.read_text()
        finally:
            worker.stop()
            centre.close()
