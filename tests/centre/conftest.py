"""A real centre for the page's tests: a JetStream nats-server on loopback, :class:`Centre` storing its events, the
page served beside it, and events published the way workers publish them (:class:`JetStreamSink`)."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

from kedirivms.analytics import Event
from kedirivms.centre_web import CentreWeb, serve_centre
from kedirivms.cluster import Centre
from kedirivms.cluster._nats import NatsLink
from kedirivms.cluster._server import NatsServer, free_port, wait_jetstream
from kedirivms.cluster.events import FLEET_SITE, JetStreamSink

SITES = {"mpp-kota": ("kediri-kota/mal pelayanan", ["loket-1", "loket-2", "loket-3"]),
         "kec-pare": ("pare/kecamatan", ["loket-a", "loket-b", "loket-c"])}  # fmt: skip
SITE_OF = {cam: site for site, (_, cams) in SITES.items() for cam in cams}


def write_centre_fleet(path: Path, sites: dict[str, tuple[str, list[str]]] = SITES) -> Path:
    """A fleet file naming the counters (the centre never connects to them)."""
    doc = {
        "version": 2,
        "sites": {
            site: {
                "location": location,
                "defaults": {"credentials": {"username": "admin", "password_env": "KVMS_TEST_CENTRE_PW"}},
                "cameras": [{"name": cam, "address": f"127.0.0.1:{9000 + i}"} for i, cam in enumerate(cams)],
            }
            for site, (location, cams) in sites.items()
        },
    }
    path.write_text(yaml.safe_dump(doc, sort_keys=False))
    return path


def wait_until(check: Any, timeout: float = 15.0, step: float = 0.05) -> Any:
    deadline = time.monotonic() + timeout
    while True:
        value = check()
        if value:
            return value
        if time.monotonic() > deadline:
            raise TimeoutError(f"not true after {timeout} s")
        time.sleep(step)


class CentreRig:
    """The centre, its page and a worker-like publisher."""

    def __init__(self, root: Path, nats_url: str) -> None:
        self.fleet = write_centre_fleet(root / "fleet.yaml")
        self.centre = Centre([nats_url], root / "centre.sqlite", durable=f"centre-{root.name}").start()
        self.web: CentreWeb = serve_centre(self.centre, "127.0.0.1:0", fleet=self.fleet)
        self.link = NatsLink([nats_url], name="test-worker", timeout=5.0)
        self.link.connect(timeout=10.0)
        self.sink = JetStreamSink(self.link, lambda cam: SITE_OF.get(cam, FLEET_SITE)).start()  # as a worker's

    @property
    def store(self) -> Any:
        return self.centre.store

    def publish(self, event: Event) -> Event:
        """Send like a worker does; returns the event."""
        self.sink.submit(event)
        return event

    def stored(self, event: Event, timeout: float = 15.0) -> None:
        """Wait until the centre has stored ``event``."""
        wait_until(lambda: event.id in self.store.event_ids(event.kind), timeout)

    def running(self, camera: str, *, when: float | None = None) -> Event:
        now = time.time() if when is None else when
        return self.publish(
            Event(
                camera=camera,
                source="worker",
                kind="camera_state",
                time=now,
                data={"worker": "w1", "lease_revision": 1, "state": "running", "frames": 100, "last_frame_time": now},
            )
        )

    def close(self) -> None:
        self.sink.close(5.0)
        self.link.close()
        self.web.close()
        self.centre.close()


@pytest.fixture(scope="module")
def nats_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    root = tmp_path_factory.mktemp("nats")
    server = NatsServer("centre", root, free_port(), f'jetstream {{ store_dir: "{root / "js"}" }}').start()
    try:
        wait_jetstream(server.url)
        yield server.url
    finally:
        server.stop()


@pytest.fixture(scope="module")
def rig(tmp_path_factory: pytest.TempPathFactory, nats_url: str) -> Iterator[CentreRig]:
    r = CentreRig(tmp_path_factory.mktemp("centre"), nats_url)
    try:
        yield r
    finally:
        r.close()
