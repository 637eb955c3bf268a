"""The segment index: SQLite in WAL mode at ``<root>/index.sqlite3``, reconciled with the files at start-up."""

from __future__ import annotations

import contextlib
import datetime as dt
import fcntl
import logging
import os
import sqlite3
import threading
from collections.abc import Collection
from pathlib import Path
from typing import Any

import av
from pydantic import BaseModel, ConfigDict, Field

from kedirivms.errors import RecordingError, StorageError
from kedirivms.record._layout import (
    INDEX_NAME,
    complete_length,
    iter_segment_files,
    move_to_quarantine,
    start_from_relpath,
    utc,
)
from kedirivms.record._models import Gap, RecordingEvent, Segment, SegmentStatus

__all__ = ["ReconcileReport", "SegmentIndex", "probe_segment", "release_lock", "try_lock"]

log = logging.getLogger("kedirivms.record")

_SCHEMA = """
CREATE TABLE IF NOT EXISTS segments (
    path TEXT PRIMARY KEY, camera TEXT NOT NULL, start REAL NOT NULL, "end" REAL NOT NULL,
    duration REAL NOT NULL, bytes INTEGER NOT NULL, codec TEXT, width INTEGER, height INTEGER,
    packets INTEGER NOT NULL DEFAULT 0, status TEXT NOT NULL, kind TEXT NOT NULL DEFAULT 'continuous', note TEXT
);
CREATE INDEX IF NOT EXISTS segments_camera_start ON segments (camera, start);
CREATE TABLE IF NOT EXISTS gaps (
    id INTEGER PRIMARY KEY, camera TEXT NOT NULL, start REAL NOT NULL, "end" REAL NOT NULL, reason TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS gaps_camera_start ON gaps (camera, start);
CREATE TABLE IF NOT EXISTS events (
    id INTEGER PRIMARY KEY, camera TEXT NOT NULL, time REAL NOT NULL, name TEXT NOT NULL, detail TEXT
);
CREATE INDEX IF NOT EXISTS events_camera_time ON events (camera, time);
"""
_COLS = 'path, camera, start, "end", duration, bytes, codec, width, height, packets, status, kind, note'


class ReconcileReport(BaseModel):
    """What :meth:`SegmentIndex.reconcile` changed."""

    model_config = ConfigDict(frozen=True)

    recovered: list[str] = Field(default_factory=list, description="partial files validated and indexed")
    quarantined: list[str] = Field(default_factory=list, description="unreadable files moved to .quarantine")
    missing: list[str] = Field(default_factory=list, description="indexed files no longer on disk (rows removed)")
    skipped: list[str] = Field(default_factory=list, description="open segments of a recorder still running")


def try_lock(root: Path, camera: str) -> int | None:
    """Take ``<root>/<camera>/.lock`` (flock, released by the OS if the process dies); None if held elsewhere."""
    folder = root / camera
    folder.mkdir(parents=True, exist_ok=True)
    fd = os.open(folder / ".lock", os.O_RDWR | os.O_CREAT, 0o644)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        os.close(fd)
        return None
    return fd


def release_lock(fd: int) -> None:
    """Release a lock taken with :func:`try_lock`."""
    with contextlib.suppress(OSError):
        fcntl.flock(fd, fcntl.LOCK_UN)
    os.close(fd)


def probe_segment(path: Path) -> dict[str, Any]:
    """Demux a segment and measure it: duration, packets, keyframes, codec, size (raises on unreadable files)."""
    with av.open(str(path), "r") as container:
        video = container.streams.video[0]
        tb = float(video.time_base or 0) or 1 / 90000
        first = last = None
        packets = keys = 0
        last_dur = 0
        for packet in container.demux(video):
            if packet.size == 0 or packet.pts is None:
                continue
            packets += 1
            keys += bool(packet.is_keyframe)
            first = packet.pts if first is None else min(first, packet.pts)
            if last is None or packet.pts >= last:
                last, last_dur = packet.pts, packet.duration or 0
        ctx = video.codec_context
        duration = 0.0 if first is None or last is None else (last - first + last_dur) * tb
        return {
            "packets": packets,
            "keyframes": keys,
            "duration": duration,
            "codec": ctx.name,
            "width": ctx.width or None,
            "height": ctx.height or None,
        }


class SegmentIndex:
    """The SQLite (WAL) index of one recording root; safe to share between threads and processes.

    Args:
        root: the recording root folder (created if missing).

    Raises:
        StorageError: the root or the index file cannot be created or written.
    """

    def __init__(self, root: str | os.PathLike[str]) -> None:
        self.root = Path(root)
        self._lock = threading.RLock()
        try:
            self.root.mkdir(parents=True, exist_ok=True)
            self._db = sqlite3.connect(self.root / INDEX_NAME, timeout=10.0, check_same_thread=False)
            self._db.execute("PRAGMA journal_mode=WAL")
            self._db.execute("PRAGMA synchronous=NORMAL")
            self._db.executescript(_SCHEMA)
        except (OSError, sqlite3.Error) as exc:
            raise StorageError(
                f"cannot open the index under {self.root}: {exc}",
                operation="open index",
                hint="check that the recording root exists, is writable and has free space",
            ) from exc

    def close(self) -> None:
        """Close the database connection."""
        with self._lock:
            self._db.close()

    def __enter__(self) -> SegmentIndex:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # ------------------------------------------------------------------------------------------ writes
    def _write(self, sql: str, params: tuple[Any, ...] | list[tuple[Any, ...]], many: bool = False) -> None:
        with self._lock:
            try:
                with self._db:
                    if many:
                        self._db.executemany(sql, params)
                    else:
                        self._db.execute(sql, params)
            except sqlite3.Error as exc:
                raise StorageError(
                    f"the index refused a write: {exc}",
                    operation="index write",
                    hint="free disk space under the recording root; the index is rolled back to its last state",
                ) from exc

    def put_segment(self, seg: Segment) -> None:
        """Insert or replace the row of ``seg`` (keyed by its path)."""
        self._write(
            f"INSERT OR REPLACE INTO segments ({_COLS}) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?)",
            (
                seg.path,
                seg.camera,
                seg.start.timestamp(),
                seg.end.timestamp(),
                seg.duration,
                seg.bytes,
                seg.codec,
                seg.width,
                seg.height,
                seg.packets,
                seg.status.value,
                seg.kind,
                seg.note,
            ),
        )

    def remove_segment(self, path: str) -> None:
        """Delete the row of ``path`` (the file is the caller's business)."""
        self._write("DELETE FROM segments WHERE path = ?", (path,))

    def add_gap(self, camera: str, start: float, end: float, reason: str) -> None:
        """Record a span without recording (epoch seconds)."""
        if end > start:
            self._write(
                'INSERT INTO gaps (camera, start, "end", reason) VALUES (?,?,?,?)', (camera, start, end, reason)
            )

    def add_event(self, camera: str, time: float, name: str, detail: str | None = None) -> None:
        """Record an event (trigger, disconnect, storage error) at epoch ``time``."""
        self._write("INSERT INTO events (camera, time, name, detail) VALUES (?,?,?,?)", (camera, time, name, detail))

    # ------------------------------------------------------------------------------------------- reads
    def _rows(self, sql: str, params: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
        with self._lock:
            try:
                return list(self._db.execute(sql, params))
            except sqlite3.Error as exc:
                raise RecordingError(f"cannot read the index: {exc}", operation="index read") from exc

    def cameras(self) -> list[str]:
        """Camera names with at least one segment."""
        return [r[0] for r in self._rows("SELECT DISTINCT camera FROM segments ORDER BY camera")]

    def segments(
        self,
        camera: str | None = None,
        start: dt.datetime | float | None = None,
        end: dt.datetime | float | None = None,
        *,
        statuses: tuple[SegmentStatus, ...] | None = None,
        ended_before: float | None = None,
        limit: int | None = None,
    ) -> list[Segment]:
        """Segments overlapping ``[start, end]`` (all when omitted), oldest first.

        Args:
            camera: only this camera.
            start: UTC datetime or epoch seconds.
            end: UTC datetime or epoch seconds.
            statuses: only these statuses (default: all but quarantined).
            ended_before: only segments that ended before this epoch time.
            limit: at most this many (the oldest).
        """
        where, params = _filters(camera, ('"end" >', start), ("start <", end))
        if ended_before is not None:
            where.append('"end" < ?')
            params.append(ended_before)
        wanted = statuses or (SegmentStatus.RECORDING, SegmentStatus.COMPLETE, SegmentStatus.RECOVERED)
        where.append(f"status IN ({','.join('?' * len(wanted))})")
        params.extend(s.value for s in wanted)
        sql = f"SELECT {_COLS} FROM segments WHERE {' AND '.join(where)} ORDER BY start, path"
        if limit is not None:
            sql += f" LIMIT {int(limit)}"
        return [_segment(r) for r in self._rows(sql, tuple(params))]

    def gaps(
        self,
        camera: str | None = None,
        start: dt.datetime | float | None = None,
        end: dt.datetime | float | None = None,
    ) -> list[Gap]:
        """Indexed gaps overlapping ``[start, end]``, oldest first."""
        where, params = _filters(camera, ('"end" >', start), ("start <", end))
        sql = f'SELECT camera, start, "end", reason FROM gaps WHERE {" AND ".join(where)} ORDER BY start'
        return [Gap(camera=c, start=utc(s), end=utc(e), reason=r) for c, s, e, r in self._rows(sql, tuple(params))]

    def events(
        self,
        camera: str | None = None,
        start: dt.datetime | float | None = None,
        end: dt.datetime | float | None = None,
    ) -> list[RecordingEvent]:
        """Indexed events in ``[start, end]``, oldest first."""
        where, params = _filters(camera, ("time >=", start), ("time <=", end))
        sql = f"SELECT camera, time, name, detail FROM events WHERE {' AND '.join(where)} ORDER BY time"
        return [
            RecordingEvent(camera=c, time=utc(t), name=n, detail=d) for c, t, n, d in self._rows(sql, tuple(params))
        ]

    def total_bytes(self) -> int:
        """Bytes of every indexed (not quarantined) segment."""
        rows = self._rows("SELECT COALESCE(SUM(bytes), 0) FROM segments WHERE status != 'quarantined'")
        return int(rows[0][0])

    # ---------------------------------------------------------------------------------------- reconcile
    def reconcile(self, *, held: Collection[str] = (), cameras: Collection[str] | None = None) -> ReconcileReport:
        """Bring the index and the files into agreement (run at start-up; the recorder does it for you).

        Segments left ``recording`` by a crash, and segment files the index does not know, are trimmed to their
        last whole fragment, probed and indexed as ``recovered``; unreadable ones are moved under
        ``<root>/.quarantine`` and indexed as ``quarantined`` (never silently dropped). Rows whose file vanished
        are removed and listed as ``missing``. Cameras whose recorder is running (its lock is held) are skipped.

        Args:
            held: cameras whose lock the caller itself holds (reconciled, not skipped).
            cameras: only these cameras (default: all; a recorder reconciles its own camera at start).

        Raises:
            StorageError: the index cannot be written.
        """
        report: dict[str, list[str]] = {"recovered": [], "quarantined": [], "missing": [], "skipped": []}
        if cameras is None:
            rows = {r[0]: _segment(r) for r in self._rows(f"SELECT {_COLS} FROM segments")}
        else:
            marks = ",".join("?" * len(cameras))
            sql = f"SELECT {_COLS} FROM segments WHERE camera IN ({marks})"
            rows = {r[0]: _segment(r) for r in self._rows(sql, tuple(cameras))}
        files = set(iter_segment_files(self.root, cameras))
        busy: dict[str, bool] = {}

        def running(camera: str) -> bool:
            if camera in held:
                return False
            if camera not in busy:
                fd = try_lock(self.root, camera)
                busy[camera] = fd is None
                if fd is not None:
                    release_lock(fd)
            return busy[camera]

        for rel, seg in rows.items():
            if seg.status is SegmentStatus.QUARANTINED:
                continue
            if rel not in files:
                if seg.status is SegmentStatus.RECORDING and running(seg.camera):
                    continue
                self.remove_segment(rel)
                self.add_event(seg.camera, seg.start.timestamp(), "missing", f"{rel} vanished from disk")
                report["missing"].append(rel)
            elif seg.status is SegmentStatus.RECORDING:
                if running(seg.camera):
                    report["skipped"].append(rel)
                    continue
                self._recover(rel, seg, report)
        for rel in sorted(files - set(rows)):
            camera = rel.split("/", 1)[0]
            if running(camera):
                report["skipped"].append(rel)
                continue
            self._recover(rel, None, report)
        return ReconcileReport(**report)

    def _recover(self, rel: str, seg: Segment | None, report: dict[str, list[str]]) -> None:
        path = self.root / rel
        camera = rel.split("/", 1)[0]
        start = seg.start.timestamp() if seg else (start_from_relpath(rel) or path.stat().st_mtime)
        kind = seg.kind if seg else "continuous"
        try:
            good, fragments = complete_length(path)
            if fragments == 0:
                raise ValueError("no whole fragment")
            if good < path.stat().st_size:
                os.truncate(path, good)
            info = probe_segment(path)
            if info["packets"] == 0 or info["keyframes"] == 0:
                raise ValueError("no decodable packet")
        except (OSError, ValueError, av.error.FFmpegError, IndexError) as exc:
            note = f"unreadable after a crash: {exc}"
            new_rel = move_to_quarantine(self.root, rel)
            if seg is not None:
                self.remove_segment(rel)
            self.put_segment(
                Segment(
                    camera=camera,
                    path=new_rel,
                    start=utc(start),
                    end=utc(start),
                    duration=0.0,
                    bytes=(self.root / new_rel).stat().st_size,
                    status=SegmentStatus.QUARANTINED,
                    kind=kind,
                    note=note,
                )
            )
            log.warning("quarantined %s: %s", rel, note)
            report["quarantined"].append(new_rel)
            return
        self.put_segment(
            Segment(
                camera=camera,
                path=rel,
                start=utc(start),
                end=utc(start + info["duration"]),
                duration=info["duration"],
                bytes=path.stat().st_size,
                codec=info["codec"],
                width=info["width"],
                height=info["height"],
                packets=info["packets"],
                status=SegmentStatus.RECOVERED,
                kind=kind,
                note="left open by a crash; trimmed to its last whole fragment",
            )
        )
        report["recovered"].append(rel)


def _segment(row: tuple[Any, ...]) -> Segment:
    path, camera, start, end, duration, size, codec, width, height, packets, status, kind, note = row
    return Segment(
        camera=camera,
        path=path,
        start=utc(start),
        end=utc(end),
        duration=duration,
        bytes=size,
        codec=codec,
        width=width,
        height=height,
        packets=packets,
        status=SegmentStatus(status),
        kind=kind,
        note=note,
    )


def _filters(camera: str | None, *bounds: tuple[str, dt.datetime | float | None]) -> tuple[list[str], list[Any]]:
    """WHERE terms and parameters: ``camera = ?`` when given, plus ``<column> <op> ?`` for each bound that is set."""
    where: list[str] = ["1=1"]
    params: list[Any] = []
    if camera is not None:
        where.append("camera = ?")
        params.append(camera)
    for clause, when in bounds:
        if when is not None:
            where.append(f"{clause} ?")
            params.append(utc(when).timestamp())
    return where, params
