"""The command centre's store: every event kept once in SQLite, and the current view of the fleet.

:class:`CentreStore` is plain SQLite (no NATS): :meth:`CentreStore.add` is idempotent on the event id (the
``Nats-Msg-Id``), so a redelivered message is counted as a duplicate and stored once. :class:`Centre` feeds it
from the hub's ``KEDIRIVMS_CENTRE`` stream with a durable pull consumer, acknowledging each message only after
the transaction that stored it has committed (at-least-once delivery + idempotent store = each event once).
"""

from __future__ import annotations

import json
import logging
import sqlite3
import threading
import time
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from kedirivms.analytics import Event
from kedirivms.cluster._nats import Message, NatsLink, retry
from kedirivms.cluster.events import CENTRE_STREAM, EVENTS_STREAM, FLEET_SITE, ensure_events_stream
from kedirivms.errors import ClusterError, ClusterTimeout, StorageError

__all__ = ["CameraView", "Centre", "CentreStore", "FleetView", "WorkerView"]

log = logging.getLogger("kedirivms.cluster")

_ALERT_ON = {"pile_up": "pile_up", "counter_unstaffed": "counter_unstaffed"}
_ALERT_OFF = {"pile_up_cleared": "pile_up", "counter_staffed": "counter_unstaffed"}
_LEASE_ENDS = ("released", "fenced", "lost")
_WATCH_EVERY = 2.0  # seconds between checks of the centre stream's sources
_SOURCE_IDLE = 5.0  # seconds without activity after which a source that is behind its origin is re-added

_SCHEMA = """
CREATE TABLE IF NOT EXISTS events (
    id TEXT PRIMARY KEY, time REAL NOT NULL, site TEXT NOT NULL, camera TEXT NOT NULL, kind TEXT NOT NULL,
    source TEXT NOT NULL, zone TEXT, data TEXT NOT NULL, subject TEXT, stream_seq INTEGER, received REAL NOT NULL
);
CREATE INDEX IF NOT EXISTS events_camera_time ON events (camera, time);
CREATE TABLE IF NOT EXISTS cameras (
    camera TEXT PRIMARY KEY, site TEXT NOT NULL, worker TEXT, lease_revision INTEGER NOT NULL DEFAULT 0,
    state TEXT, frames INTEGER, last_frame_time REAL, error TEXT, queue_length REAL, queue_max INTEGER,
    wait_s REAL, updated REAL, recorder TEXT
);
CREATE TABLE IF NOT EXISTS alerts (camera TEXT NOT NULL, kind TEXT NOT NULL, zone TEXT NOT NULL, opened REAL,
    PRIMARY KEY (camera, kind, zone));
CREATE TABLE IF NOT EXISTS workers (worker TEXT PRIMARY KEY, data TEXT NOT NULL, updated REAL NOT NULL);
CREATE TABLE IF NOT EXISTS view_warnings (camera TEXT NOT NULL, code TEXT NOT NULL, zone TEXT NOT NULL, time REAL,
    PRIMARY KEY (camera, code, zone));
CREATE TABLE IF NOT EXISTS counters (name TEXT PRIMARY KEY, value INTEGER NOT NULL);
"""


class CameraView(BaseModel):
    """One camera in the fleet view."""

    model_config = ConfigDict(frozen=True)

    camera: str = Field(description="Camera name.")
    site: str = Field(description="Site id.")
    worker: str | None = Field(description="Worker holding its lease (None: nobody now).")
    lease_revision: int = Field(description="Revision of the lease the worker field comes from.")
    state: str | None = Field(description="Pipeline state reported by its worker (running, retrying, fenced...).")
    frames: int | None = Field(description="Frames its current pipeline has seen.")
    last_frame_time: float | None = Field(description="Wall-clock time of its latest frame (UNIX seconds).")
    error: str | None = Field(description="Its worker's last error for it.")
    recorder: str | None = Field(description="Its recorder's state (None: not recorded).")
    queue_length: float | None = Field(description="Mean queue length of the last queue_stats interval.")
    queue_max: int | None = Field(description="Longest queue of the last interval.")
    wait_s: float | None = Field(description="Mean wait of the last interval, seconds.")
    open_alerts: list[str] = Field(description="Alerts open now (pile_up, counter_unstaffed).")
    view_warnings: list[str] = Field(
        default_factory=list,
        description="What its queue analytics found about the view that makes its figures unreliable (view_warning "
        "codes, e.g. desk_zone_thin), since the store began.",
    )
    updated: float | None = Field(description="Time of the latest event folded in.")


class WorkerView(BaseModel):
    """One worker's latest ``worker_state``."""

    worker: str = Field(description="Worker id.")
    updated: float = Field(description="Time of its latest state (UNIX seconds).")
    dropped: int = Field(
        0, description="Events it lost before JetStream had them (its publish queue full), since it started."
    )
    state: dict[str, Any] = Field(description="Its latest worker_state data.")


class FleetView(BaseModel):
    """The current view of the fleet (``kedirivms centre --json``)."""

    events: int = Field(description="Events stored (each once).")
    duplicates: int = Field(description="Deliveries of an already stored event (ignored).")
    cameras: list[CameraView] = Field(description="Per camera, by site and name.")
    workers: list[WorkerView] = Field(description="Per worker.")


class CentreStore:
    """Events once, and the fleet view, in one SQLite file (thread-safe; WAL).

    Args:
        path: the SQLite file (created with its folder), or ``":memory:"``.

    Raises:
        StorageError: the file cannot be opened or written.

    Example:
        >>> store = CentreStore(":memory:")
        >>> store.add(Event(camera="c1", source="queue", kind="pile_up", time=0.0), site="kota")
        True
        >>> store.fleet_view().cameras[0].open_alerts
        ['pile_up']
    """

    def __init__(self, path: str | Path) -> None:
        self.path = str(path)
        try:
            if self.path != ":memory:":
                Path(self.path).parent.mkdir(parents=True, exist_ok=True)
            self._db = sqlite3.connect(self.path, check_same_thread=False, isolation_level=None)
            self._db.execute("PRAGMA journal_mode=WAL")
            self._db.execute("PRAGMA synchronous=NORMAL")
            self._db.executescript(_SCHEMA)
        except sqlite3.Error as exc:
            raise StorageError(f"cannot open the centre store {self.path}: {exc}") from None
        self._lock = threading.Lock()

    def close(self) -> None:
        """Close the database; idempotent."""
        with self._lock:
            self._db.close()

    def __enter__(self) -> CentreStore:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- writing ---------------------------------------------------------------------------------------------------
    def add(self, event: Event, *, site: str, subject: str | None = None, stream_seq: int | None = None) -> bool:
        """Store one event (once) and fold it into the fleet view.

        Returns:
            ``True`` if it was new, ``False`` for a duplicate (already stored; counted, not stored again).
        """
        return self.add_many([(event, site, subject, stream_seq)])[0]

    def add_many(self, items: Iterable[tuple[Event, str, str | None, int | None]]) -> list[bool]:
        """Store several events in one transaction; returns for each whether it was new."""
        out = []
        with self._lock:
            try:
                self._db.execute("BEGIN IMMEDIATE")
                for event, site, subject, seq in items:
                    cur = self._db.execute(
                        "INSERT OR IGNORE INTO events VALUES (?,?,?,?,?,?,?,?,?,?,?)",
                        (
                            event.id, event.timestamp, site, event.camera, event.kind, event.source, event.zone,
                            json.dumps(event.data), subject, seq, time.time(),
                        ),
                    )  # fmt: skip
                    new = cur.rowcount == 1
                    out.append(new)
                    if new:
                        self._fold(event, site)
                    else:
                        self._bump("duplicates")
                self._db.execute("COMMIT")
            except sqlite3.Error as exc:
                self._db.execute("ROLLBACK")
                raise StorageError(f"cannot write the centre store {self.path}: {exc}") from None
        return out

    def _bump(self, name: str, by: int = 1) -> None:
        self._db.execute(
            "INSERT INTO counters VALUES (?, ?) ON CONFLICT(name) DO UPDATE SET value = value + ?", (name, by, by)
        )

    def _fold(self, event: Event, site: str) -> None:
        data = event.data
        if site == FLEET_SITE:
            if event.kind == "worker_state":
                self._db.execute(
                    "INSERT INTO workers VALUES (?,?,?) ON CONFLICT(worker) DO UPDATE SET data = excluded.data, "
                    "updated = excluded.updated WHERE excluded.updated >= workers.updated",
                    (event.camera, json.dumps(data), event.timestamp),
                )
            return
        db = self._db
        db.execute("INSERT OR IGNORE INTO cameras (camera, site) VALUES (?, ?)", (event.camera, site))
        db.execute(
            "UPDATE cameras SET site = ?, updated = max(coalesce(updated, 0), ?) WHERE camera = ?",
            (site, event.timestamp, event.camera),
        )
        if event.kind == "camera_state":
            self._fold_state(event.camera, data)
        elif event.kind == "queue_stats":
            db.execute(
                "UPDATE cameras SET queue_length = ?, queue_max = ?, wait_s = coalesce(?, wait_s) WHERE camera = ?",
                (data.get("length_mean"), data.get("length_max"), data.get("wait_mean_s"), event.camera),
            )
        elif event.kind in _ALERT_ON:
            db.execute(
                "INSERT OR REPLACE INTO alerts VALUES (?,?,?,?)",
                (event.camera, _ALERT_ON[event.kind], event.zone or "", event.timestamp),
            )
        elif event.kind == "view_warning":
            db.execute(
                "INSERT OR REPLACE INTO view_warnings VALUES (?,?,?,?)",
                (event.camera, str(data.get("code") or "view"), event.zone or "", event.timestamp),
            )
        elif event.kind in _ALERT_OFF:
            db.execute(
                "DELETE FROM alerts WHERE camera = ? AND kind = ? AND zone = ?",
                (event.camera, _ALERT_OFF[event.kind], event.zone or ""),
            )

    def _fold_state(self, camera: str, data: dict[str, Any]) -> None:
        # lease revisions only grow, whichever worker reports: the highest revision tells who holds the camera,
        # whatever order the events arrive in from different workers and districts
        rev = int(data.get("lease_revision") or 0)
        row = self._db.execute("SELECT lease_revision, worker FROM cameras WHERE camera = ?", (camera,)).fetchone()
        current_rev, current_worker = (int(row[0] or 0), row[1]) if row else (0, None)
        state = data.get("state")
        if state in _LEASE_ENDS:
            if rev >= current_rev:
                self._db.execute(
                    "UPDATE cameras SET worker = NULL, lease_revision = ?, state = ? WHERE camera = ?",
                    (rev, state, camera),
                )
            return
        if rev < current_rev or (rev == current_rev and current_worker is None and current_rev):
            return  # an older lease's news, or news of a lease already ended
        self._db.execute(
            "UPDATE cameras SET worker = ?, lease_revision = ?, state = ?, frames = ?, error = ?, recorder = ?, "
            "last_frame_time = max(coalesce(last_frame_time, 0), coalesce(?, 0)) WHERE camera = ?",
            (data.get("worker"), rev, state, data.get("frames"), data.get("error"), data.get("recorder"),
             data.get("last_frame_time"), camera),
        )  # fmt: skip

    # -- reading ---------------------------------------------------------------------------------------------------
    def count(self) -> int:
        """Events stored."""
        with self._lock:
            return int(self._db.execute("SELECT count(*) FROM events").fetchone()[0])

    def duplicates(self) -> int:
        """Deliveries of events that were already stored."""
        with self._lock:
            row = self._db.execute("SELECT value FROM counters WHERE name = 'duplicates'").fetchone()
        return int(row[0]) if row else 0

    def event_ids(self, kind: str | None = None) -> set[str]:
        """Ids of the stored events (of one ``kind``)."""
        with self._lock:
            if kind is None:
                rows = self._db.execute("SELECT id FROM events").fetchall()
            else:
                rows = self._db.execute("SELECT id FROM events WHERE kind = ?", (kind,)).fetchall()
        return {r[0] for r in rows}

    def events(self, *, camera: str | None = None, kind: str | None = None, limit: int = 1000) -> list[Event]:
        """Stored events, oldest first, optionally of one camera and/or kind."""
        sql, args = "SELECT id, time, camera, kind, source, zone, data FROM events WHERE 1=1", list[str]()
        if camera is not None:
            sql, args = sql + " AND camera = ?", [*args, camera]
        if kind is not None:
            sql, args = sql + " AND kind = ?", [*args, kind]
        with self._lock:
            rows = self._db.execute(sql + " ORDER BY time LIMIT ?", (*args, limit)).fetchall()
        return [
            Event(id=r[0], time=r[1], camera=r[2], kind=r[3], source=r[4], zone=r[5], data=json.loads(r[6]))
            for r in rows
        ]

    def fleet_view(self) -> FleetView:
        """The current view: each camera's holder, pipeline state, queue, open alerts, last frame; each worker."""
        with self._lock:
            cams = self._db.execute(
                "SELECT camera, site, worker, lease_revision, state, frames, last_frame_time, error, queue_length, "
                "queue_max, wait_s, updated, recorder FROM cameras ORDER BY site, camera"
            ).fetchall()
            alerts: dict[str, list[str]] = {}
            for camera, kind in self._db.execute("SELECT camera, kind FROM alerts ORDER BY kind"):
                alerts.setdefault(camera, []).append(kind)
            views: dict[str, list[str]] = {}
            for camera, code in self._db.execute("SELECT camera, code FROM view_warnings ORDER BY code"):
                views.setdefault(camera, []).append(code)
            workers = self._db.execute("SELECT worker, data, updated FROM workers ORDER BY worker").fetchall()
            events = int(self._db.execute("SELECT count(*) FROM events").fetchone()[0])
            dup = self._db.execute("SELECT value FROM counters WHERE name = 'duplicates'").fetchone()
        return FleetView(
            events=events,
            duplicates=int(dup[0]) if dup else 0,
            cameras=[
                CameraView(
                    camera=c[0],
                    site=c[1],
                    worker=c[2],
                    lease_revision=c[3],
                    state=c[4],
                    frames=c[5],
                    last_frame_time=c[6] or None,
                    error=c[7],
                    queue_length=c[8],
                    queue_max=c[9],
                    wait_s=c[10],
                    open_alerts=sorted(set(alerts.get(c[0], []))),
                    view_warnings=sorted(set(views.get(c[0], []))),
                    updated=c[11],
                    recorder=c[12],
                )
                for c in cams
            ],  # fmt: skip
            workers=[_worker_view(w[0], json.loads(w[1]), w[2]) for w in workers],
        )


def _worker_view(worker: str, state: dict[str, Any], updated: float) -> WorkerView:
    return WorkerView(worker=worker, updated=updated, dropped=int(state.get("dropped") or 0), state=state)


class Centre:
    """Consume every domain's events through the hub into a :class:`CentreStore`.

    Args:
        servers: hub NATS URL(s).
        db: the store's SQLite file.
        leaf_domains: JetStream domains of the district leaf nodes whose events streams the hub sources.
        replicas: stream copies on the hub (3 on a 3-node cluster).
        durable: the durable consumer's name (a restarted centre resumes where it stopped).
        connect_timeout: how long :meth:`start` waits for a NATS server, seconds.

    Example:
        >>> with Centre(["nats://hub:4222"], "centre.sqlite", leaf_domains=["pare"]) as c:  # doctest: +SKIP
        ...     time.sleep(10); print(c.store.fleet_view())
    """

    def __init__(
        self,
        servers: Sequence[str],
        db: str | Path,
        *,
        leaf_domains: Sequence[str] = (),
        replicas: int = 1,
        durable: str = "kedirivms-centre",
        connect_timeout: float = 10.0,
    ) -> None:
        self.store = CentreStore(db)
        self.connect_timeout = connect_timeout
        self.link = NatsLink(list(servers), name="kedirivms-centre", timeout=5.0)
        self._leafs = list(leaf_domains)
        self._replicas = replicas
        self._durable = durable
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._watcher: threading.Thread | None = None
        self.received = 0
        self.malformed = 0
        self.sources_resumed = 0
        self.last_error: str | None = None

    def start(self) -> Centre:
        """Connect, set up the streams and the durable consumer, and start storing.

        Raises:
            ClusterError: NATS unreachable or JetStream refused the set-up.
        """
        self.link.connect(timeout=self.connect_timeout)
        try:
            retry(lambda: ensure_events_stream(self.link, replicas=self._replicas))
            retry(lambda: self._source(self._domains))
            retry(lambda: self.link.pull_subscribe(CENTRE_STREAM, self._durable))
        except BaseException:
            self.link.close()
            raise
        self._thread = threading.Thread(target=self._run, name="kedirivms-centre", daemon=True)
        self._thread.start()
        self._watcher = threading.Thread(target=self._watch_sources, name="kedirivms-centre-sources", daemon=True)
        self._watcher.start()
        return self

    @property
    def _domains(self) -> list[str | None]:
        return [None, *self._leafs]  # None: the hub's own events stream

    def _source(self, domains: Sequence[str | None]) -> None:
        self.link.ensure_stream(
            CENTRE_STREAM, [], max_age=30 * 86400, replicas=self._replicas,
            sources=[(EVENTS_STREAM, d) for d in domains], duplicate_window=600.0, timeout=10.0,
        )  # fmt: skip

    def _watch_sources(self) -> None:
        # JetStream retries a source whose consumer could not be set up with a growing back-off (10 s, 20 s, ...
        # up to 2 min): after a leaf's WAN cut, and after a whole-hub restart, where the hub's own source is set up
        # before the events stream it reads has a leader. Re-adding a source makes the hub resume it at once,
        # from the last origin sequence it stored (message ids de-duplicate the rest). A source is re-added when
        # its origin answers again after not answering, or when its origin holds messages it has not sourced
        # and it has shown no activity for _SOURCE_IDLE seconds, on two checks in a row.
        reachable = dict.fromkeys(self._domains, True)
        idle: set[str | None] = set()
        while not self._stop.wait(_WATCH_EVERY):
            try:
                sources = {s.domain: s for s in self.link.stream_sources(CENTRE_STREAM, timeout=2.0)}
            except ClusterError:
                reachable[None] = False  # the hub is away or electing: its own source is re-added when it answers
                continue
            for domain in self._domains:
                last = self.link.last_seq(EVENTS_STREAM, domain=domain)
                if last is None:
                    reachable[domain] = False
                    idle.discard(domain)
                    continue
                src = sources.get(domain)
                behind = src is None or (
                    src.seq is not None and last > src.seq and (src.active is None or src.active > _SOURCE_IDLE)
                )
                kick = not reachable[domain] or (behind and domain in idle)
                reachable[domain] = True
                if behind and not kick:
                    idle.add(domain)
                    continue
                idle.discard(domain)
                if kick:
                    reachable[domain] = self._resume(domain)  # a failed re-add is tried again next time

    def _resume(self, domain: str | None) -> bool:
        name = "the hub's events" if domain is None else f"leaf {domain}"
        try:
            self._source([d for d in self._domains if d != domain])
            self._source(self._domains)
        except ClusterError as exc:
            log.warning("centre: could not resume the source of %s: %s", name, exc)
            return False
        self.sources_resumed += 1
        log.info("centre: the source of %s resumed", name)
        return True

    def close(self) -> None:
        """Stop consuming, disconnect and close the store; idempotent."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join(15.0)
        if self._watcher is not None:
            self._watcher.join(15.0)
        self.link.close()
        self.store.close()

    def __enter__(self) -> Centre:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                batch = self.link.fetch(self._durable, batch=200, timeout=1.0)
                if batch:
                    self._store(batch)
            except ClusterTimeout as exc:  # a fetch that found the consumer busy or electing: just try again
                self.last_error = str(exc)
                log.info("centre: %s", exc)
            except (ClusterError, StorageError) as exc:
                self.last_error = str(exc)
                log.warning("centre: %s", exc)
                self._stop.wait(1.0)
                if isinstance(exc, ClusterError):
                    self._rebind()

    def _rebind(self) -> None:
        # a pull request that found no responder: the consumer's leader is being elected (after a restart), or
        # the servers lost the consumer; binding again re-creates a lost one (a live one keeps its position)
        try:
            self.link.pull_subscribe(CENTRE_STREAM, self._durable)
        except ClusterError as exc:
            log.info("centre: consumer not bound yet: %s", exc)

    def _store(self, batch: list[Message]) -> None:
        items = []
        for msg in batch:
            parts = msg.subject.split(".")
            site = parts[1] if len(parts) >= 4 else FLEET_SITE
            try:
                event = Event.model_validate_json(msg.data)
            except ValidationError:
                self.malformed += 1  # not ours: acknowledged and skipped
                continue
            items.append((event, site, msg.subject, msg.stream_seq))
        self.store.add_many(items)  # committed before any acknowledgement
        self.received += len(batch)
        for msg in batch:
            self.link.ack(msg)
