"""What the centre's page shows, read from the centre store's SQLite file: tiles, alerts, history, CSV, snapshots.

The store (:class:`~kedirivms.cluster.CentreStore`) writes; this module reads through its own connection (WAL lets
readers run beside the writer) and writes only through the store's public :meth:`add`, so an acknowledgement is an
event like any other.
"""

from __future__ import annotations

import base64
import csv
import io
import json
import sqlite3
import threading
import time
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from typing import Any

from kedirivms.analytics import Event
from kedirivms.cluster.centre import CentreStore
from kedirivms.errors import ConfigError, StorageError

__all__ = ["ALERT_KINDS", "CentreData", "SiteInfo"]

ALERT_KINDS = ("pile_up", "pile_up_cleared", "counter_unstaffed", "counter_staffed", "alert_ack")
"""Event kinds that make an alert's history."""
SNAPSHOT_KIND = "snapshot"
ACK_KIND = "alert_ack"
OFFLINE_AFTER = 30.0
"""A camera whose last frame is older than this (seconds) is shown offline."""
_RUNNING = {"running", "streaming", None}
_SPARK_BUCKET = 60.0


class SiteInfo:
    """Where a site sits in the regency: its district and office names (from the fleet file, or the site id)."""

    __slots__ = ("district", "office")

    def __init__(self, district: str, office: str) -> None:
        self.district = district
        self.office = office


class CentreData:
    """The page's data over one centre store.

    Args:
        store: the centre store (its file is read through a second, read-only connection).
        sites: site id -> district/office (default: district = office = site id).
        cameras: counters known before any event, as (camera, site) pairs (from the fleet file).
        publish: called with each acknowledgement event and its site after it is stored (e.g. to JetStream).
        clock: wall-clock time source (tests).
    """

    def __init__(
        self,
        store: CentreStore,
        *,
        sites: dict[str, SiteInfo] | None = None,
        cameras: Sequence[tuple[str, str]] = (),
        publish: Callable[[Event, str], None] | None = None,
        clock: Callable[[], float] = time.time,
    ) -> None:
        if store.path == ":memory:":
            raise ConfigError("the centre page needs a store file, not ':memory:'")
        self.store = store
        self.sites = dict(sites or {})
        self.known = list(cameras)
        self._publish = publish
        self._clock = clock
        self._lock = threading.Lock()
        try:
            # the index serves the sparklines and the history (time ranges over all cameras of some kinds)
            store_db = sqlite3.connect(store.path, timeout=10.0)
            store_db.execute("CREATE INDEX IF NOT EXISTS events_kind_time ON events (kind, time)")
            store_db.close()
            self._db = sqlite3.connect(f"file:{store.path}?mode=ro", uri=True, check_same_thread=False, timeout=10.0)
        except sqlite3.Error as exc:
            raise StorageError(f"cannot read the centre store {store.path}: {exc}") from None
        self._spark_cache: tuple[float, dict[str, list[float | None]]] = (-1e18, {})
        self._spark_lock = threading.Lock()

    def close(self) -> None:
        """Close the read connection (not the store)."""
        with self._lock:
            self._db.close()

    def version(self) -> int:
        """A number that changes whenever another connection (the centre storing events) commits to the store."""
        return int(self._rows("PRAGMA data_version")[0][0])

    def _rows(self, sql: str, args: Sequence[Any] = ()) -> list[Any]:
        with self._lock:
            try:
                return self._db.execute(sql, tuple(args)).fetchall()
            except sqlite3.Error as exc:
                raise StorageError(f"cannot read the centre store {self.store.path}: {exc}") from None

    def _site(self, site: str) -> SiteInfo:
        return self.sites.get(site) or SiteInfo(site, site)

    # -- tiles -----------------------------------------------------------------------------------------------------
    def counters(self) -> list[dict[str, Any]]:
        """One tile per counter, alerts first, then by district, office and name."""
        now = self._clock()
        # plain SQL on the read connection (not fleet_view()): the page asks every second, for 1,000 counters
        alerts: dict[str, list[dict[str, Any]]] = {}
        for camera, kind, opened in self._rows("SELECT camera, kind, min(opened) FROM alerts GROUP BY 1, 2 "
                                               "ORDER BY 1, 2"):  # fmt: skip
            alerts.setdefault(camera, []).append({"kind": kind, "since": opened})
        snaps = {r[0]: r[1] for r in self._rows("SELECT camera, max(time) FROM events WHERE kind = ? GROUP BY 1",
                                                 (SNAPSHOT_KIND,))}  # fmt: skip
        views: dict[str, list[str]] = {}
        for camera, code in self._rows("SELECT DISTINCT camera, code FROM view_warnings ORDER BY 1, 2"):
            views.setdefault(camera, []).append(code)
        rows = self._rows(
            "SELECT camera, site, worker, state, last_frame_time, error, queue_length, queue_max, wait_s, updated "
            "FROM cameras"
        )
        tiles: dict[str, dict[str, Any]] = {}
        for camera, site_id, worker, pipeline, last_frame, error, length, length_max, wait, updated in rows:
            site = self._site(site_id)
            open_alerts = alerts.get(camera, [])
            last_frame = last_frame or None
            if open_alerts:
                state = "pile_up" if any(a["kind"] == "pile_up" for a in open_alerts) else "unstaffed"
            elif worker is None or pipeline not in _RUNNING or last_frame is None or now - last_frame > OFFLINE_AFTER:
                state = "offline"
            elif length is None:
                state = "no_analytics"
            else:
                state = "ok"
            tiles[camera] = {
                "camera": camera, "site": site_id, "district": site.district, "office": site.office,
                "state": state, "alerts": open_alerts, "queue_length": length, "queue_max": length_max,
                "wait_s": wait, "last_frame_time": last_frame, "worker": worker, "pipeline": pipeline,
                "error": error, "snapshot_time": snaps.get(camera), "updated": updated,
                "view_warnings": views.get(camera, []),
            }  # fmt: skip
        for camera, site_id in self.known:
            if camera not in tiles:
                site = self._site(site_id)
                tiles[camera] = {
                    "camera": camera, "site": site_id, "district": site.district, "office": site.office,
                    "state": "offline", "alerts": [], "queue_length": None, "queue_max": None, "wait_s": None,
                    "last_frame_time": None, "worker": None, "pipeline": None, "error": None,
                    "snapshot_time": None, "updated": None, "view_warnings": [],
                }  # fmt: skip
        return sorted(tiles.values(), key=lambda t: (not t["alerts"], t["district"], t["office"], t["camera"]))

    def sparklines(self, *, seconds: float = 3600.0, max_age: float = 10.0) -> dict[str, list[float | None]]:
        """Per counter, the mean queue length per minute over the last ``seconds`` (None: no statistics).

        Cached for ``max_age`` seconds: every open page asks for the same thing.
        """
        with self._spark_lock:  # one computation for all the pages that ask at once
            now = self._clock()
            cached_at, cached = self._spark_cache
            if now - cached_at < max_age:
                return cached
            self._spark_cache = (now, self._sparklines(now, seconds))
            return self._spark_cache[1]

    def _sparklines(self, now: float, seconds: float) -> dict[str, list[float | None]]:
        n = int(seconds // _SPARK_BUCKET)
        start = now - n * _SPARK_BUCKET
        out: dict[str, list[float | None]] = {}
        rows = self._rows(
            "SELECT camera, CAST((time - ?) / ? AS INTEGER), avg(json_extract(data, '$.length_mean')) FROM events "
            "WHERE kind = 'queue_stats' AND time >= ? GROUP BY 1, 2",
            (start, _SPARK_BUCKET, start),
        )
        for camera, bucket, value in rows:
            series = out.setdefault(camera, [None] * n)
            if 0 <= bucket < n and value is not None:
                series[bucket] = round(float(value), 2)
        return out

    def fleet(self) -> dict[str, Any]:
        """Totals and workers: the page's header."""
        view = self.store.fleet_view()
        tiles = self.counters()
        states: dict[str, int] = {}
        for t in tiles:
            states[t["state"]] = states.get(t["state"], 0) + 1
        return {
            "time": self._clock(),
            "events": view.events,
            "duplicates": view.duplicates,
            "counters": len(tiles),
            "states": states,
            "workers": [{"worker": w.worker, "updated": w.updated, "dropped": w.dropped} for w in view.workers],
        }

    # -- alerts ----------------------------------------------------------------------------------------------------
    def alerts(self) -> list[dict[str, Any]]:
        """Open alerts, oldest first, each with its latest acknowledgement (None: not acknowledged)."""
        rows = self._rows(
            "SELECT a.camera, a.kind, a.zone, a.opened, coalesce(c.site, '') FROM alerts a "
            "LEFT JOIN cameras c ON c.camera = a.camera ORDER BY a.opened"
        )
        acks: dict[tuple[str, str], dict[str, Any]] = {}
        for data, t in self._rows("SELECT data, time FROM events WHERE kind = ? ORDER BY time", (ACK_KIND,)):
            d = json.loads(data)
            acks[(d.get("camera", ""), d.get("alert", ""))] = {
                "time": t,
                "name": d.get("name"),
                "note": d.get("note"),
                "opened": d.get("opened"),
            }
        out = []
        for camera, kind, zone, opened, site in rows:
            ack = acks.get((camera, kind))
            if ack is not None and opened is not None and (ack["opened"] or 0) < opened - 1e-6:
                ack = None  # an acknowledgement of an earlier occurrence
            info = self._site(site)
            out.append({
                "camera": camera, "kind": kind, "zone": zone or None, "site": site, "district": info.district,
                "office": info.office, "since": opened,
                "ack": ack,
            })  # fmt: skip
        return out

    def acknowledge(self, camera: str, kind: str, *, name: str, note: str = "") -> dict[str, Any]:
        """Acknowledge an open alert: stored as an ``alert_ack`` event (and published when the centre has NATS).

        Raises:
            ConfigError: no such open alert, or an empty name.
        """
        name, note = name.strip(), note.strip()
        if not name or len(name) > 64 or len(note) > 1000:
            raise ConfigError("an acknowledgement needs a name (1-64 characters) and a note of at most 1000")
        rows = self._rows(
            "SELECT a.opened, a.zone, coalesce(c.site, '') FROM alerts a LEFT JOIN cameras c ON c.camera = a.camera "
            "WHERE a.camera = ? AND a.kind = ?",
            (camera, kind),
        )
        if not rows:
            raise ConfigError(f"no open {kind} alert on {camera}")
        opened, zone, site = rows[0]
        event = Event(
            camera=camera, source="centre", kind=ACK_KIND, time=self._clock(), zone=zone or None,
            data={"camera": camera, "alert": kind, "opened": opened, "name": name, "note": note},
        )  # fmt: skip
        self.store.add(event, site=site)
        if self._publish is not None:
            self._publish(event, site)
        return {"id": event.id, "time": event.timestamp, "name": name, "note": note, "opened": opened}

    # -- history and export ----------------------------------------------------------------------------------------
    def history(self, *, day: str | None = None, site: str | None = None, limit: int = 2000) -> list[dict[str, Any]]:
        """Alert events (raised, cleared, acknowledged) of one UTC day (``YYYY-MM-DD``, default today), newest first.

        Raises:
            ConfigError: a malformed day.
        """
        start, end = _day_range(day, self._clock())
        sql = (
            "SELECT id, time, site, camera, kind, zone, data FROM events WHERE kind IN (?,?,?,?,?) "
            "AND time >= ? AND time < ?"
        )
        args: list[Any] = [*ALERT_KINDS, start, end]
        if site:
            sql, args = sql + " AND site = ?", [*args, site]
        rows = self._rows(sql + " ORDER BY time DESC LIMIT ?", [*args, max(1, min(limit, 10000))])
        return [
            {"id": r[0], "time": r[1], "site": r[2], "camera": r[3], "kind": r[4], "zone": r[5],
             "data": json.loads(r[6])}
            for r in rows
        ]  # fmt: skip

    def day_csv(self, day: str | None = None, *, site: str | None = None) -> str:
        """A day's queue statistics per counter as CSV (UTC day; one row per counter with statistics or alerts).

        Columns: date, district, office, site, camera, intervals, queue_mean, queue_max, wait_mean_s,
        pile_ups, unstaffed.
        """
        start, end = _day_range(day, self._clock())
        args: list[Any] = [start, end]
        where = "time >= ? AND time < ?"
        if site:
            where, args = where + " AND site = ?", [*args, site]
        stats = self._rows(
            "SELECT camera, site, count(*), avg(json_extract(data, '$.length_mean')), "
            "max(json_extract(data, '$.length_max')), avg(json_extract(data, '$.wait_mean_s')) FROM events "
            f"WHERE kind = 'queue_stats' AND {where} GROUP BY 1, 2",
            args,
        )
        alerts = self._rows(
            f"SELECT camera, site, kind, count(*) FROM events WHERE kind IN ('pile_up', 'counter_unstaffed') "
            f"AND {where} GROUP BY 1, 2, 3",
            args,
        )
        rows: dict[tuple[str, str], list[Any]] = {}
        for camera, site_id, n, mean, mx, wait in stats:
            rows[(camera, site_id)] = [n, _r(mean), mx, _r(wait), 0, 0]
        for camera, site_id, kind, n in alerts:
            row = rows.setdefault((camera, site_id), [0, None, None, None, 0, 0])
            row[4 if kind == "pile_up" else 5] = n
        buf = io.StringIO()
        out = csv.writer(buf, lineterminator="\r\n")
        out.writerow(["date", "district", "office", "site", "camera", "intervals", "queue_mean", "queue_max",
                      "wait_mean_s", "pile_ups", "unstaffed"])  # fmt: skip
        date = datetime.fromtimestamp(start, UTC).date().isoformat()
        for (camera, site_id), row in sorted(rows.items(), key=lambda kv: (self._site(kv[0][1]).district, kv[0])):
            info = self._site(site_id)
            out.writerow([date, info.district, info.office, site_id, camera, *("" if v is None else v for v in row)])
        return buf.getvalue()

    # -- evidence --------------------------------------------------------------------------------------------------
    def alert_span(self, camera: str, kind: str, since: float) -> tuple[float | None, str]:
        """When the alert of ``kind`` on ``camera`` that opened at ``since`` cleared (None: still open, or its
        clearing is not stored), and the camera's site.

        Raises:
            ConfigError: not an alert kind.
        """
        clears = {"pile_up": "pile_up_cleared", "counter_unstaffed": "counter_staffed"}
        if kind not in clears:
            raise ConfigError(f"not an alert kind: {kind[:40]!r} (pile_up or counter_unstaffed)")
        rows = self._rows("SELECT min(time) FROM events WHERE camera = ? AND kind = ? AND time >= ? AND time < ?",
                          (camera, clears[kind], since, since + 86400.0))  # fmt: skip
        return (float(rows[0][0]) if rows and rows[0][0] is not None else None), self.site_of(camera)

    def site_of(self, camera: str) -> str:
        """The camera's site id (from its events, else the fleet file; ``_`` when unknown)."""
        rows = self._rows("SELECT site FROM cameras WHERE camera = ?", (camera,))
        if rows:
            return str(rows[0][0])
        return next((site for cam, site in self.known if cam == camera), "_")

    # -- snapshots -------------------------------------------------------------------------------------------------
    def snapshot(self, camera: str) -> tuple[float, bytes] | None:
        """The latest snapshot of a camera: (its time, JPEG bytes), or None."""
        rows = self._rows(
            "SELECT time, data FROM events WHERE camera = ? AND kind = ? ORDER BY time DESC LIMIT 1",
            (camera, SNAPSHOT_KIND),
        )
        if not rows:
            return None
        try:
            jpeg = base64.b64decode(json.loads(rows[0][1])["jpeg"], validate=True)
        except (KeyError, ValueError, TypeError):
            return None
        return float(rows[0][0]), jpeg


def _r(value: float | None) -> float | None:
    return None if value is None else round(float(value), 2)


def _day_range(day: str | None, now: float) -> tuple[float, float]:
    if day is None:
        d = datetime.fromtimestamp(now, UTC).replace(hour=0, minute=0, second=0, microsecond=0)
    else:
        try:
            d = datetime.strptime(day, "%Y-%m-%d").replace(tzinfo=UTC)
        except ValueError:
            raise ConfigError(f"day must be YYYY-MM-DD, got {day[:20]!r}") from None
    start = d.timestamp()
    return start, start + 86400.0
