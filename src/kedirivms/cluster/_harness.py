"""Worker processes for the cluster tests, benchmarks and demo: ``kedirivms worker --json`` in a subprocess whose
status lines are read on a thread; kill -9, SIGSTOP/SIGCONT, or stop it like an operator would. Also a fleet
file of virtual counter cameras."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import yaml

from kedirivms.analytics.zones import Zone
from kedirivms.cluster.centre import CentreStore

Interval = tuple[str, int, float, float | None]
"""``(worker, lease revision, leased at, ended at or None)``: one lease of one camera, from the centre's events."""

CLI = "import sys; from kedirivms.cli import main; main(sys.argv[1:])"
ZONES = [
    Zone(name="line", kind="queue", points=((0.05, 0.35), (0.7, 0.35), (0.7, 0.95), (0.05, 0.95))),
    Zone(name="desk", kind="service", points=((0.72, 0.35), (0.85, 0.35), (0.85, 0.95), (0.72, 0.95))),
    Zone(name="clerk", kind="counter", points=((0.86, 0.3), (0.99, 0.3), (0.99, 0.95), (0.86, 0.95))),
]


def write_fleet(
    path: Path,
    site: str,
    cameras: Sequence[tuple[str, str]],
    password_env: str,
    zones: Sequence[Zone] | None = None,
    plugins: list[dict[str, Any]] | None = None,
) -> Path:
    """A fleet file of ``(name, device_url)`` cameras on one site, each running ``plugins`` (default: the queue
    plugin at 2 fps)."""
    doc = {
        "version": 2,
        "sites": {
            site: {
                "defaults": {
                    "credentials": {"username": "admin", "password_env": password_env},
                    "timeout": 2,
                    "events": False,
                    "plugins": plugins
                    if plugins is not None
                    else [{"name": "queue", "max_fps": 2, "config": {"interval_s": 1.0}}],
                },
                "cameras": [
                    {"name": n, "address": url, "zones": [z.model_dump(mode="json") for z in zones or ZONES]}
                    for n, url in cameras
                ],
            }
        },
    }
    path.write_text(yaml.safe_dump(doc, sort_keys=False))
    return path


class WorkerProc:
    """One ``kedirivms worker --json`` process (status lines in :attr:`statuses`)."""

    def __init__(
        self, fleet: Path, servers: Sequence[str], worker_id: str, *, ttl: float = 4.0, extra: Sequence[str] = (),
        env: dict[str, str] | None = None, log_dir: Path | None = None,
    ) -> None:  # fmt: skip
        args = [sys.executable, "-c", CLI, "worker", str(fleet), "--id", worker_id, "--json"]
        args += ["--lease-ttl", str(ttl), "--status-interval", "0.5", *extra]
        for s in servers:
            args += ["--nats", s]
        self.id = worker_id
        self.statuses: list[dict[str, Any]] = []
        self.stderr_path = (log_dir or fleet.parent) / f"{worker_id}.stderr"
        with open(self.stderr_path, "ab") as err:
            self.proc = subprocess.Popen(
                args, stdout=subprocess.PIPE, stderr=err, env={**os.environ, **(env or {})}, start_new_session=True
            )
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()

    def _read(self) -> None:
        assert self.proc.stdout is not None
        for line in self.proc.stdout:
            try:
                self.statuses.append(json.loads(line))
            except ValueError:
                continue

    @property
    def latest(self) -> dict[str, Any] | None:
        return self.statuses[-1] if self.statuses else None

    def held(self) -> set[str]:
        st = self.latest
        return set(st["cameras"]) if st else set()

    def kill(self) -> None:
        self.proc.kill()
        self.proc.wait(10)

    def freeze(self) -> None:
        self.proc.send_signal(signal.SIGSTOP)

    def thaw(self) -> None:
        self.proc.send_signal(signal.SIGCONT)

    def stop(self, timeout: float = 20.0) -> int:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGCONT)
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(10)
        self._reader.join(5)
        return int(self.proc.returncode)


def wait_for(predicate: Any, timeout: float, step: float = 0.2) -> bool:
    """Poll ``predicate`` until true or ``timeout`` seconds passed; returns its last value."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(step)
    return bool(predicate())


def lease_intervals(store: CentreStore) -> dict[str, list[Interval]]:
    """Per camera, its leases as the centre saw them (``leased`` .. ``released``/``fenced``/``lost``), by start."""
    out: dict[str, list[Interval]] = {}
    open_: dict[tuple[str, str, int], float] = {}
    for ev in store.events(kind="camera_state", limit=1_000_000):
        key = (ev.camera, str(ev.data["worker"]), int(str(ev.data["lease_revision"])))
        state = ev.data["state"]
        if state == "leased":
            open_[key] = ev.timestamp
        elif state in ("released", "fenced", "lost") and key in open_:
            out.setdefault(ev.camera, []).append((key[1], key[2], open_.pop(key), ev.timestamp))
    for (camera, worker, rev), start in open_.items():
        out.setdefault(camera, []).append((worker, rev, start, None))
    for ivs in out.values():
        ivs.sort(key=lambda iv: iv[2])
    return out


def overlaps(
    intervals: dict[str, list[Interval]], *, bound: float = 0.0, dead: Sequence[str] = ()
) -> list[tuple[str, Interval, Interval]]:
    """Pairs of leases of the same camera on two workers that overlap by more than ``bound`` seconds (a lease of
    a worker in ``dead`` -- killed or frozen -- is not counted: it ran nothing after that)."""
    bad = []
    for camera, ivs in intervals.items():
        for i, first in enumerate(ivs):
            if first[0] in dead:
                continue
            for later in ivs[i + 1 :]:
                if later[0] == first[0]:
                    continue
                end = first[3] if first[3] is not None else float("inf")
                if end - later[2] > bound:
                    bad.append((camera, first, later))
    return bad
