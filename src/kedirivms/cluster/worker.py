"""A worker: one of many hosts sharing a fleet file's cameras through leases in a JetStream key-value bucket.

::

    every heartbeat (lease_ttl / 4), and at once when a worker joins or leaves (its membership key appears or is
    deleted: a plain subscription to the bucket's subjects):
      renew my membership key  w.<id>            (compare-and-set, per-key TTL = lease_ttl)
      read the live members  ->  assign(cameras, members)     rendezvous hashing, capacity, site pins
      renew each lease I hold cam.<camera>       (compare-and-set on its revision, TTL = lease_ttl)
      release leases no longer mine              (stop the pipeline first, then delete the key)
      create leases newly mine                   (create fails while anyone else holds the key;
                                                  tried again every 0.5 s until the holder lets go)
    fence thread (every 0.1 s):
      a lease not renewed for lease_ttl / 2  ->  stop that camera's pipeline, drop the lease

**Fencing bound.** A renewal is only counted from the moment it was *sent*; the server's TTL runs from when it
*stored* it, later. A worker that cannot renew stops the camera at ``last_sent + lease_ttl / 2`` and its events
are refused from that instant on; another worker can only create the lease after the server expired it, at
``last_stored + lease_ttl`` or later. Two workers therefore run a camera at once only if closing a pipeline takes
longer than ``lease_ttl / 2`` (default 5 s); a worker frozen (SIGSTOP) past its TTL fences on waking before it
renews anything, and publishes none of the fenced cameras' events.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import socket
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from kedirivms.analytics import Event
from kedirivms.cluster._nats import NatsLink, retry
from kedirivms.cluster.assignment import Member, assign
from kedirivms.cluster.events import FLEET_SITE, JetStreamSink, ensure_events_stream
from kedirivms.cluster.evidence import EvidenceResponder
from kedirivms.deploy.pipeline import CameraPipeline
from kedirivms.deploy.service import SharedIndex, validate_plugins
from kedirivms.deploy.supervisor import CameraStatus, CameraSupervisor
from kedirivms.errors import ClusterError, ConfigError, InvalidArgument, LeaseConflict
from kedirivms.fleet import CameraTarget, LoadedFleet

__all__ = ["LEASE_BUCKET", "MEMBER_BUCKET", "Worker", "WorkerConfig", "WorkerStatus"]

log = logging.getLogger("kedirivms.cluster")

LEASE_BUCKET = "kedirivms-leases"
"""Key-value bucket of camera leases: ``cam.<camera>`` -> ``{"worker": id}``."""
MEMBER_BUCKET = "kedirivms-workers"
"""Key-value bucket of live workers: ``w.<id>`` -> :class:`~kedirivms.cluster.assignment.Member` JSON."""
_WANTED_RETRY = 0.5  # seconds between tries of a lease assigned here but still held by another worker


class WorkerConfig(BaseModel):
    """How a worker takes part in the cluster (``kedirivms worker`` options)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    id: str = Field(
        default_factory=socket.gethostname,
        pattern=r"^[A-Za-z0-9_-]{1,64}$",
        description="Worker id (unique in the cluster; site pins name it).",
    )
    servers: list[str] = Field(min_length=1, description="NATS URLs (the district's leaf node, or the hub).")
    domain: str | None = Field(None, description="JetStream domain for leases and events (default: the server's).")
    capacity: int = Field(
        default_factory=lambda: 4 * (os.cpu_count() or 1), ge=0, description="Cameras this worker takes at most."
    )
    sites: list[str] | None = Field(None, description="Only take cameras of these sites (default: any).")
    lease_ttl: float = Field(10.0, ge=3, le=300, description="Lease (and membership) time-to-live, seconds.")
    replicas: int = Field(1, ge=1, le=5, description="Copies of the buckets and stream (3 on a JetStream cluster).")
    max_connects: int = Field(8, ge=1, description="Cameras connecting at once.")
    connect_timeout: float = Field(10.0, gt=0, description="How long to wait for a NATS server at start, seconds.")
    backoff: tuple[float, float] = Field((1.0, 30.0), description="Camera retry back-off (first, cap), seconds.")
    status_interval: float = Field(5.0, gt=0, description="How often camera and worker state is published, s.")
    stream_max_age: float = Field(7 * 86400, gt=0, description="Events stream retention: max age, seconds.")
    stream_max_bytes: int = Field(1 << 30, gt=0, description="Events stream retention: max size, bytes.")
    publish_queue: int = Field(
        100_000, ge=1, description="Events kept while JetStream does not answer; beyond, the oldest are dropped."
    )

    @property
    def heartbeat(self) -> float:
        """Seconds between renewals: a quarter of the TTL."""
        return self.lease_ttl / 4

    @property
    def fence_after(self) -> float:
        """Seconds without a successful renewal after which a camera is stopped: half the TTL."""
        return self.lease_ttl / 2


@dataclass
class _Lease:
    camera: str
    revision: int  # the key's current revision (what the next compare-and-set expects)
    sent: float  # monotonic time the last successful create/renew was sent
    first: int  # the revision that created it: the lease's id in events (it only grows, per camera)


class WorkerStatus(BaseModel):
    """A snapshot of a worker (``kedirivms worker --json``)."""

    id: str = Field(description="Worker id.")
    members: list[str] = Field(description="Live workers it sees.")
    capacity: int = Field(description="Cameras it takes at most.")
    cameras: dict[str, dict[str, Any]] = Field(description="Cameras it holds: their pipeline status.")
    wanted: list[str] = Field(description="Cameras assigned to it that it could not lease yet.")
    fenced: int = Field(description="Cameras stopped because a lease could not be renewed in time.")
    fenced_events: int = Field(description="Events refused because their camera's lease was no longer valid.")
    published: int = Field(description="Events acknowledged by JetStream.")
    queued: int = Field(description="Events waiting for JetStream.")
    dropped: int = Field(
        0, description="Events lost before JetStream had them: the oldest dropped from a full queue, or left at close."
    )


class Worker:
    """Take cameras by lease and run their pipelines until :meth:`close`.

    Args:
        fleet: the loaded fleet file (all workers share the same one).
        config: worker settings.
        make_pipeline: builds a camera's pipeline (default: :class:`~kedirivms.deploy.CameraPipeline`).

    Raises:
        ConfigError: invalid plugins, or the worker id is in use by a live worker (from :meth:`start`).
        ClusterError: NATS unreachable at start.

    Example:
        >>> cfg = WorkerConfig(id="kota-1", servers=["nats://127.0.0.1:4222"])  # doctest: +SKIP
        >>> with Worker(load_fleet("fleet.yaml"), cfg) as worker:  # doctest: +SKIP
        ...     time.sleep(60); print(worker.status())
    """

    def __init__(
        self,
        fleet: LoadedFleet,
        config: WorkerConfig,
        *,
        make_pipeline: Callable[[CameraTarget, Callable[[Event], object]], CameraPipeline] | None = None,
    ) -> None:
        self.fleet = fleet
        self.config = config
        self._targets = {t.name: t for t in fleet.cameras()}
        self._sites = {t.name: t.site for t in self._targets.values()}
        self._index = SharedIndex(fleet.recording.root if fleet.recording else None)
        self._make = make_pipeline
        self.link = NatsLink(config.servers, name=f"kedirivms-worker-{config.id}", timeout=2.0, domain=config.domain)
        self.sink = JetStreamSink(
            self.link, lambda cam: self._sites.get(cam, FLEET_SITE), name="jetstream", queue_size=config.publish_queue
        )
        self.supervisor = CameraSupervisor(
            self._pipeline,
            max_connects=config.max_connects,
            backoff=config.backoff,
            on_change=self._on_camera_change,
        )
        self._lock = threading.Lock()
        self._leases: dict[str, _Lease] = {}
        self._member_rev = 0
        self._members: list[str] = []
        self._wanted: list[str] = []
        self._fenced = 0
        self._fenced_events = 0
        self._stop = threading.Event()
        self._wake = threading.Event()  # a worker joined or left: assign again now, not at the next heartbeat
        self._member_seen: dict[str, float] = {}  # touched on the link's loop thread only
        self._dropped_seen = 0
        self._threads: list[threading.Thread] = []
        self._last_status = 0.0
        self._started = False
        self.evidence: EvidenceResponder | None = None  # answers the centre's requests for recorded clips

    # -- life cycle -----------------------------------------------------------------------------------------------
    def start(self) -> Worker:
        """Connect, create the buckets and stream if missing, join, and start taking cameras.

        Raises:
            ConfigError: bad plugin configs, or the id is held by a live worker (after waiting one TTL).
            ClusterError: NATS is unreachable.
        """
        if self._started:
            raise InvalidArgument("the worker was already started", operation="start")
        self._started = True
        validate_plugins(list(self._targets.values()))
        self.link.connect(timeout=self.config.connect_timeout)
        try:
            # a fresh cluster (or one that lost a node) elects stream leaders for a few seconds: retry the set-up
            retry(lambda: self.link.ensure_kv(LEASE_BUCKET, replicas=self.config.replicas, timeout=10.0))
            retry(lambda: self.link.ensure_kv(MEMBER_BUCKET, replicas=self.config.replicas, timeout=10.0))
            retry(
                lambda: ensure_events_stream(
                    self.link,
                    replicas=self.config.replicas,
                    max_age=self.config.stream_max_age,
                    max_bytes=self.config.stream_max_bytes,
                )
            )
            self._join()
            self.link.subscribe(f"$KV.{MEMBER_BUCKET}.>", self._on_member_change)
        except BaseException:
            self.link.close()
            raise
        self.sink.start()
        if self.fleet.recording is not None:
            self.evidence = EvidenceResponder(self.link, self._index, self.config.id).start()
        for target, name in ((self._loop, "kedirivms-worker-loop"), (self._fence_loop, "kedirivms-worker-fence")):
            thread = threading.Thread(target=target, name=name, daemon=True)
            thread.start()
            self._threads.append(thread)
        log.info("worker %s joined (capacity %d)", self.config.id, self.config.capacity)
        return self

    def close(self, timeout: float = 10.0) -> None:
        """Stop every camera, release the leases and membership (others take over at once), then disconnect."""
        self._stop.set()
        self._wake.set()
        for thread in self._threads:
            thread.join(timeout)
        self.supervisor.close(timeout)
        with self._lock:
            leases, self._leases = dict(self._leases), {}
        for lease in leases.values():
            self._publish_state(lease.camera, "released", lease.first)
            with contextlib.suppress(ClusterError):
                self.link.kv_delete(LEASE_BUCKET, _lease_key(lease.camera), last=lease.revision)
        with contextlib.suppress(ClusterError):
            self.link.kv_delete(MEMBER_BUCKET, _member_key(self.config.id), last=self._member_rev or None)
        self.sink.close(timeout)
        if self.evidence is not None:
            self.evidence.close()
        self.link.close()
        self._index.close()

    def __enter__(self) -> Worker:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.close()

    def status(self) -> WorkerStatus:
        """What the worker holds now and how its cameras are doing."""
        statuses = self.supervisor.statuses()
        with self._lock:
            held = sorted(self._leases)
            members, wanted = list(self._members), list(self._wanted)
        stats = self.sink.stats
        return WorkerStatus(
            id=self.config.id,
            members=members,
            capacity=self.config.capacity,
            cameras={name: _status_dict(statuses.get(name)) for name in held},
            wanted=wanted,
            fenced=self._fenced,
            fenced_events=self._fenced_events,
            published=stats.sent,
            queued=stats.queued,
            dropped=stats.dropped + stats.failed,
        )

    def held(self) -> list[str]:
        """Cameras leased by this worker now."""
        with self._lock:
            return sorted(self._leases)

    # -- membership -------------------------------------------------------------------------------------------------
    def _member_value(self) -> bytes:
        member = Member(
            id=self.config.id,
            capacity=self.config.capacity,
            sites=self.config.sites,
            host=socket.gethostname(),
            pid=os.getpid(),
        )
        return member.model_dump_json().encode()

    def _join(self) -> None:
        deadline = time.monotonic() + self.config.lease_ttl + 2.0
        while True:
            try:
                self._member_rev = self.link.kv_create(
                    MEMBER_BUCKET, _member_key(self.config.id), self._member_value(), ttl=self.config.lease_ttl
                )
                return
            except LeaseConflict:
                if time.monotonic() > deadline:
                    raise ConfigError(
                        f"worker id {self.config.id!r} is held by a live worker",
                        hint="give each worker its own --id",
                    ) from None
                time.sleep(0.5)  # a previous incarnation's key expires within one TTL
            except ClusterError:
                if time.monotonic() > deadline + 20.0:
                    raise
                time.sleep(0.5)

    def _renew_membership(self) -> None:
        key = _member_key(self.config.id)
        try:
            self._member_rev = self.link.kv_update(
                MEMBER_BUCKET, key, self._member_value(), last=self._member_rev, ttl=self.config.lease_ttl
            )
        except LeaseConflict:  # it expired while we were away: join again
            self._member_rev = self.link.kv_create(MEMBER_BUCKET, key, self._member_value(), ttl=self.config.lease_ttl)

    def _live_members(self) -> list[Member]:
        out = []
        for entry in self.link.kv_entries(MEMBER_BUCKET, "w.").values():
            with contextlib.suppress(ValueError):
                out.append(Member.model_validate_json(entry.value))
        return out

    # -- the lease loop ---------------------------------------------------------------------------------------------
    def _on_member_change(self, subject: str, headers: dict[str, str]) -> None:
        # a key that appears (first seen, or back after a TTL of silence) or is deleted: a worker joined or left.
        # Renewals of known keys (every heartbeat from every worker) change nothing and wake nobody.
        key = subject.removeprefix(f"$KV.{MEMBER_BUCKET}.")
        now = time.monotonic()
        gone = headers.get("KV-Operation") in ("DEL", "PURGE")
        seen = self._member_seen.pop(key, None) if gone else self._member_seen.get(key)
        if not gone:
            self._member_seen[key] = now
        if key != _member_key(self.config.id) and (gone or seen is None or now - seen > self.config.lease_ttl):
            self._wake.set()

    def _loop(self) -> None:
        next_tick = 0.0
        while not self._stop.is_set():
            woken = self._wake.is_set()
            self._wake.clear()
            try:
                if woken or time.monotonic() >= next_tick:
                    next_tick = time.monotonic() + self.config.heartbeat
                    self._tick()
                elif self._wanted:
                    self._acquire_wanted()
            except ClusterError as exc:
                log.warning("worker %s: %s", self.config.id, exc)
            except Exception:
                log.exception("worker %s: lease loop failed", self.config.id)
            delay = next_tick - time.monotonic()
            if self._wanted:  # a camera assigned here is still held elsewhere: try again soon, not a heartbeat on
                delay = min(delay, _WANTED_RETRY)
            self._wake.wait(max(0.05, delay))

    def _acquire_wanted(self) -> None:
        with self._lock:
            wanted = list(self._wanted)
        still = [c for c in wanted if self._stop.is_set() or not self._acquire(c)]
        with self._lock:
            self._wanted = still

    def _tick(self) -> None:
        self._renew_all()  # the leases first: fencing counts from their renewals
        self._renew_membership()
        members = self._live_members()
        if not any(m.id == self.config.id for m in members):
            members.append(Member.model_validate_json(self._member_value()))
        cameras = {name: (t.site, t.workers) for name, t in self._targets.items()}
        plan = assign(cameras, members)
        mine = {c for c, w in plan.items() if w == self.config.id}
        with self._lock:
            self._members = sorted(m.id for m in members)
            held = set(self._leases)
        for camera in sorted(held - mine):
            self._release(camera)
        wanted = []
        for camera in sorted(mine - held):
            if self._stop.is_set():
                return
            if not self._acquire(camera):
                wanted.append(camera)
        with self._lock:
            self._wanted = wanted
        if time.monotonic() - self._last_status >= self.config.status_interval:
            self._last_status = time.monotonic()
            self._publish_status()

    def _renew_all(self) -> None:
        with self._lock:
            leases = list(self._leases.values())
        value = self._lease_value()
        for lease in leases:
            sent = time.monotonic()
            try:
                rev = self.link.kv_update(
                    LEASE_BUCKET, _lease_key(lease.camera), value, last=lease.revision, ttl=self.config.lease_ttl
                )
            except LeaseConflict:
                log.warning("worker %s: lease of %s lost; stopping it", self.config.id, lease.camera)
                self._fence(lease.camera, "lost")
                continue
            except ClusterError as exc:
                log.warning("worker %s: could not renew %s: %s", self.config.id, lease.camera, exc)
                continue
            with self._lock:
                if lease.camera in self._leases:
                    self._leases[lease.camera] = _Lease(lease.camera, rev, sent, lease.first)

    def _acquire(self, camera: str) -> bool:
        sent = time.monotonic()
        try:
            rev = self.link.kv_create(LEASE_BUCKET, _lease_key(camera), self._lease_value(), ttl=self.config.lease_ttl)
        except LeaseConflict:
            return False  # held by another worker until it releases it or its lease expires
        with self._lock:
            self._leases[camera] = _Lease(camera, rev, sent, rev)
        self._publish_state(camera, "leased", rev)
        self.supervisor.add(self._targets[camera])
        log.info("worker %s: leased %s (revision %d)", self.config.id, camera, rev)
        return True

    def _release(self, camera: str) -> None:
        with self._lock:
            lease = self._leases.pop(camera, None)
        if lease is None:
            return
        self.supervisor.remove(camera)  # the pipeline is stopped before anyone else can lease the camera
        self._publish_state(camera, "released", lease.first)
        with contextlib.suppress(ClusterError):
            self.link.kv_delete(LEASE_BUCKET, _lease_key(camera), last=lease.revision)
        log.info("worker %s: released %s", self.config.id, camera)

    def _lease_value(self) -> bytes:
        return json.dumps({"worker": self.config.id}).encode()

    # -- fencing ----------------------------------------------------------------------------------------------------
    def _fence_loop(self) -> None:
        while not self._stop.wait(0.1):
            now = time.monotonic()
            with self._lock:
                late = [c for c, lease in self._leases.items() if now - lease.sent > self.config.fence_after]
            if late:
                threads = [threading.Thread(target=self._fence, args=(c, "fenced")) for c in late]
                for t in threads:
                    t.start()
                for t in threads:
                    t.join()

    def _fence(self, camera: str, why: str) -> None:
        with self._lock:
            lease = self._leases.pop(camera, None)
            if lease is None:
                return
            self._fenced += 1
        log.warning("worker %s: %s: stopping %s", self.config.id, why, camera)
        self.supervisor.remove(camera)
        self._publish_state(camera, why, lease.first)

    def _valid(self, camera: str) -> bool:
        with self._lock:
            lease = self._leases.get(camera)
        return lease is not None and time.monotonic() - lease.sent <= self.config.fence_after

    # -- events -----------------------------------------------------------------------------------------------------
    def _pipeline(self, target: CameraTarget) -> CameraPipeline:
        if self._make is not None:
            return self._make(target, self._emit)
        return CameraPipeline(
            target,
            self._emit,
            recording=self.fleet.recording,
            index=self._index if self.fleet.recording else None,
            base_dir=self.fleet.base_dir,
        )

    def _emit(self, event: Event) -> None:
        if not self._valid(event.camera):
            with self._lock:
                self._fenced_events += 1  # produced after the lease stopped being valid: never published
            return
        self.sink.submit(event)

    def _publish_state(self, camera: str, state: str, revision: int) -> None:
        status = self.supervisor.statuses().get(camera)
        data: dict[str, Any] = {"worker": self.config.id, "state": state, "lease_revision": revision}
        data.update(_status_dict(status))
        data["state"] = state
        self.sink.submit(Event(camera=camera, source="worker", kind="camera_state", time=time.time(), data=data))

    def _on_camera_change(self, status: CameraStatus) -> None:
        if not self._valid(status.name):
            return
        with self._lock:
            lease = self._leases.get(status.name)
        data: dict[str, Any] = {"worker": self.config.id, "lease_revision": lease.first if lease else 0}
        data.update(_status_dict(status))
        event = Event(camera=status.name, source="worker", kind="camera_state", time=time.time(), data=data)
        self.sink.submit(event)

    def _publish_status(self) -> None:
        statuses = self.supervisor.statuses()
        with self._lock:
            leases = dict(self._leases)
        for camera, lease in leases.items():
            if not self._valid(camera):
                continue
            data: dict[str, Any] = {"worker": self.config.id, "lease_revision": lease.first}
            data.update(_status_dict(statuses.get(camera)))
            self.sink.submit(Event(camera=camera, source="worker", kind="camera_state", time=time.time(), data=data))
        status = self.status()
        if status.dropped > self._dropped_seen:  # the loss is in every worker_state too (the centre shows it)
            log.warning("worker %s: %d events dropped so far: the publish queue (%d) was full, NATS away too long",
                        self.config.id, status.dropped, self.config.publish_queue)  # fmt: skip
            self._dropped_seen = status.dropped
        self.sink.submit(
            Event(
                camera=self.config.id,
                source="worker",
                kind="worker_state",
                time=time.time(),
                data={
                    "worker": self.config.id,
                    "cameras": sorted(leases),
                    "members": status.members,
                    "capacity": self.config.capacity,
                    "wanted": status.wanted,
                    "fenced": status.fenced,
                    "fenced_events": status.fenced_events,
                    "published": status.published,
                    "queued": status.queued,
                    "dropped": status.dropped,
                },
            )
        )


def _lease_key(camera: str) -> str:
    return f"cam.{camera}"


def _member_key(worker: str) -> str:
    return f"w.{worker}"


def _status_dict(status: CameraStatus | None) -> dict[str, Any]:
    if status is None:
        return {"state": "starting"}
    return {
        "state": str(status.state),
        "connected": status.connected,
        "attempts": status.attempts,
        "error": status.error,
        "retry_in": None if status.retry_in is None else round(status.retry_in, 1),
        "frames": status.frames,
        "last_frame_time": status.last_frame_time,
        "recorder": status.recorder,
        "segments": status.segments,
    }
