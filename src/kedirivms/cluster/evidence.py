"""Evidence on demand: the recording around an alert, cut where it was recorded and fetched through NATS.

Recordings stay on the worker (or site box) that recorded them. The centre asks in three steps, all core NATS
request/reply (nothing goes through JetStream, nothing is stored on the way)::

    centre                                      workers with a recording root
    gather  kedirivms-evidence.<site>.<camera>  {"op": "probe", camera, start, end}
            <- {"worker", "segments", "covered_s", "gaps"}  (only from workers whose index knows the camera)
    request kedirivms-evidence-w.<worker>       {"op": "clip", camera, start, end}
            <- {"id", "bytes", "chunk", "sha256", "start", "end", "codec", "gaps", ...}   (a temporary fMP4)
    request kedirivms-evidence-w.<worker>       {"op": "chunk", "id", "index", "size"}  (repeated)
            <- b"\\x00" + ``size`` bytes (the last: fewer) or b"\\x01" + JSON error; ``size`` <= ``chunk``
               (below the worker's server's max payload) and below the centre's

A camera offline for the whole range is not an error: the answer has no clip and its gaps say why (the
recorder's indexed reason where there is one).
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import logging
import re
import secrets
import shutil
import tempfile
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from kedirivms.cluster._nats import NatsLink
from kedirivms.errors import ClusterError, InvalidArgument, KedirivmsError, RecordingError, StorageError
from kedirivms.record import SegmentIndex, SegmentStatus, export
from kedirivms.record._layout import camera_dir_name

__all__ = [
    "MAX_CLIP_BYTES",
    "MAX_RANGE_S",
    "EvidenceClip",
    "EvidenceFetcher",
    "EvidenceResponder",
    "cut_clip",
    "evidence_subject",
]

log = logging.getLogger("kedirivms.cluster")

PREFIX = "kedirivms-evidence"
"""Subjects of the probes (outside ``kedirivms.>``: the events stream must not capture requests)."""
MAX_RANGE_S = 900.0
"""The longest range one request may ask for, seconds."""
MAX_CLIP_BYTES = 64 << 20
"""The largest clip a worker cuts or the centre fetches, bytes."""
_TOKEN = re.compile(r"[.*>\s\x00]")
_CHUNK = 512 * 1024


def evidence_subject(site: str, camera: str) -> str:
    """``kedirivms-evidence.<site>.<camera>`` (wildcards, dots and spaces in tokens made ``_``)."""
    return f"{PREFIX}.{_TOKEN.sub('_', site) or '_'}.{_TOKEN.sub('_', camera) or '_'}"


def _worker_subject(worker: str) -> str:
    return f"{PREFIX}-w.{_TOKEN.sub('_', worker) or '_'}"


@dataclass
class EvidenceClip:
    """The recording of one camera over a range: an fMP4 file (None when nothing was recorded) and its gaps.

    Times are UNIX seconds; ``start``/``end`` are those of the first and after the last frame in the file (the
    file starts at the keyframe at or before ``requested_start``); ``gaps`` are ``(start, end, reason)``.
    """

    camera: str
    requested_start: float
    requested_end: float
    path: Path | None = None
    start: float | None = None
    end: float | None = None
    bytes: int = 0
    codec: str | None = None
    width: int | None = None
    height: int | None = None
    gaps: list[tuple[float, float, str]] = field(default_factory=list)
    worker: str | None = None

    def timeline(self) -> list[tuple[float, float]]:
        """(media seconds, wall-clock time) where each continuous piece of the file starts: the file skips the gaps
        inside it, so after one the picture's time is the next piece's wall time plus the media time since."""
        if self.start is None or self.end is None:
            return []
        pieces, media, wall = [(0.0, self.start)], 0.0, self.start
        for s, e, _ in self.gaps:
            if s >= wall and e <= self.end:
                media += s - wall
                wall = e
                pieces.append((round(media, 3), e))
        return pieces

    def to_json(self) -> dict[str, Any]:
        """The fields as JSON-ready values (without the local path)."""
        return {
            "camera": self.camera, "requested_start": self.requested_start, "requested_end": self.requested_end,
            "start": self.start, "end": self.end, "bytes": self.bytes, "codec": self.codec, "width": self.width,
            "height": self.height, "worker": self.worker,
            "gaps": [{"start": s, "end": e, "reason": r} for s, e, r in self.gaps],
            "timeline": [[m, w] for m, w in self.timeline()],
        }  # fmt: skip

    @classmethod
    def from_json(cls, d: dict[str, Any], path: Path | None = None) -> EvidenceClip:
        """Back from :meth:`to_json` (a worker's answer)."""
        return cls(
            camera=str(d["camera"]), requested_start=float(d["requested_start"]),
            requested_end=float(d["requested_end"]), path=path, start=_f(d.get("start")), end=_f(d.get("end")),
            bytes=int(d.get("bytes") or 0), codec=d.get("codec"), width=d.get("width"), height=d.get("height"),
            gaps=[(float(g["start"]), float(g["end"]), str(g["reason"])) for g in d.get("gaps") or []],
            worker=d.get("worker"),
        )  # fmt: skip


def _holes(
    spans: list[tuple[float, float]], start: float, end: float, known: list[tuple[float, float, str]]
) -> list[tuple[float, float, str]]:
    """The parts of ``[start, end]`` no span covers (0.1 s slack), each with the indexed reason it overlaps."""
    out, cursor = [], start
    for s, e in sorted(spans):
        if s > cursor + 0.1:
            out.append((cursor, min(s, end)))
        cursor = max(cursor, e)
    if end > cursor + 0.1:
        out.append((cursor, end))
    reasons = [next((r for ks, ke, r in known if ks < e and ke > s), "no recording") for s, e in out]
    return [(s, e, r) for (s, e), r in zip(out, reasons, strict=True) if e > s]


def _has(answer: bytes) -> bool:
    try:
        return bool(json.loads(answer).get("segments"))
    except (ValueError, AttributeError):
        return False


def _f(value: Any) -> float | None:
    return None if value is None else float(value)


def check_range(start: float, end: float) -> None:
    """Raises InvalidArgument unless ``0 < end - start <= MAX_RANGE_S``."""
    if not end > start:
        raise InvalidArgument("the evidence range ends before it starts")
    if end - start > MAX_RANGE_S:
        raise InvalidArgument(f"the evidence range is longer than {MAX_RANGE_S:.0f} s", hint="ask for a shorter one")


def cut_clip(index: SegmentIndex, camera: str, start: float, end: float, path: Path) -> EvidenceClip:
    """Cut ``[start, end]`` of ``camera`` from a recording root into the fMP4 ``path`` (remux, no transcoding).

    Args:
        index: the recording root's index.
        camera: camera name.
        start: UNIX seconds.
        end: UNIX seconds (at most :data:`MAX_RANGE_S` after ``start``).
        path: the file to write.

    Returns:
        The clip; ``path`` None (and the whole range a gap) when nothing was recorded in the range.

    Raises:
        InvalidArgument: an empty or too long range.
        StorageError: the clip cannot be written.
    """
    check_range(start, end)
    cam = camera_dir_name(camera)
    clip = EvidenceClip(camera=camera, requested_start=start, requested_end=end)
    segments = index.segments(cam, start, end)
    try:
        result = export(index, cam, start, end, path, fragmented=True) if segments else None
    except StorageError:
        raise
    except RecordingError:
        result = None  # covering segments without a frame in the range: a gap like any other
    spans = [(seg.start.timestamp(), seg.end.timestamp()) for seg in segments]
    if result is not None:
        first = segments[0]
        clip.path, clip.start, clip.end = path, result.start.timestamp(), result.end.timestamp()
        clip.bytes, clip.codec, clip.width, clip.height = path.stat().st_size, first.codec, first.width, first.height
        if segments[-1].status is SegmentStatus.RECORDING:  # still being written: its row's end lags behind
            spans[-1] = (spans[-1][0], max(spans[-1][1], clip.end))
    known = [(g.start.timestamp(), g.end.timestamp(), g.reason) for g in index.gaps(cam, start, end)]
    clip.gaps = _holes(spans, start, end, known)
    if clip.bytes > MAX_CLIP_BYTES:
        path.unlink(missing_ok=True)
        raise InvalidArgument(f"the clip of {camera} is {clip.bytes >> 20} MiB (at most {MAX_CLIP_BYTES >> 20})",
                              hint="ask for a shorter range")  # fmt: skip
    return clip


class EvidenceResponder:
    """A worker's side: answer the centre's probes and cut clips from this host's recording root.

    Args:
        link: the worker's connected NATS link.
        index: the recording root's index, or a function returning it (the worker's shared one).
        worker: the worker id (the subject the centre fetches from).
        keep: seconds a cut clip stays for its chunks to be fetched.
        max_clips: clips kept at once (the oldest goes first).
        chunk: the largest chunk sent, bytes (also kept 1 KiB below the server's max payload).

    Example:
        >>> responder = EvidenceResponder(link, SegmentIndex("/srv/rec"), "kota-1").start()  # doctest: +SKIP
        >>> responder.close()  # doctest: +SKIP
    """

    def __init__(
        self,
        link: NatsLink,
        index: SegmentIndex | Callable[[], SegmentIndex],
        worker: str,
        *,
        keep: float = 120.0,
        max_clips: int = 4,
        chunk: int = _CHUNK,
    ) -> None:
        self.link = link
        self._index = index if callable(index) and not isinstance(index, SegmentIndex) else (lambda: index)
        self.worker = worker
        self.keep = keep
        self.max_clips = max_clips
        self.chunk = chunk
        self._dir: Path | None = None
        self._clips: dict[str, tuple[Path, int, float]] = {}  # id -> (file, size, monotonic time cut)
        self._lock = threading.Lock()
        self._stops: list[Callable[[], None]] = []

    def start(self) -> EvidenceResponder:
        """Subscribe (probes for any site and camera, and this worker's own subject).

        Raises:
            ClusterError: the link is not connected.
        """
        self._dir = Path(tempfile.mkdtemp(prefix="kedirivms-evidence-"))
        try:
            self._stops.append(self.link.serve(f"{PREFIX}.*.*", self._on_probe, workers=2))
            self._stops.append(self.link.serve(_worker_subject(self.worker), self._on_direct, workers=2))
        except BaseException:
            self.close()
            raise
        return self

    def close(self) -> None:
        """Stop answering and remove the cut clips; idempotent."""
        for stop in self._stops:
            stop()
        self._stops = []
        if self._dir is not None:
            shutil.rmtree(self._dir, ignore_errors=True)
            self._dir = None

    def _on_probe(self, data: bytes) -> bytes | None:
        try:
            req = json.loads(data)
            camera, start, end = str(req["camera"]), float(req["start"]), float(req["end"])
            index = self._index()
            cam = camera_dir_name(camera)
            if cam not in index.cameras():
                return None  # never recorded here: stay silent, another worker answers
            segments = index.segments(cam, start, end)
            known = [(g.start.timestamp(), g.end.timestamp(), g.reason) for g in index.gaps(cam, start, end)]
            gaps = [] if segments else _holes([], start, end, known)  # with the indexed reason
        except (ValueError, KeyError, TypeError, KedirivmsError) as exc:
            log.debug("evidence probe refused: %s", exc)
            return None
        covered = sum(max(0.0, min(s.end.timestamp(), end) - max(s.start.timestamp(), start)) for s in segments)
        return json.dumps({
            "worker": self.worker, "segments": len(segments), "covered_s": round(covered, 3),
            "gaps": [{"start": s, "end": e, "reason": r} for s, e, r in gaps],
        }).encode()  # fmt: skip

    def _on_direct(self, data: bytes) -> bytes:
        try:
            req = json.loads(data)
            if not isinstance(req, dict):
                raise InvalidArgument("the request must be a JSON object")
            if req.get("op") == "clip":
                return self._cut(str(req["camera"]), float(req["start"]), float(req["end"]))
            if req.get("op") == "chunk":
                return self._chunk(str(req["id"]), int(req["index"]), int(req.get("size") or _CHUNK))
            raise InvalidArgument(f"unknown op {req.get('op')!r}")
        except (ValueError, KeyError, TypeError) as exc:
            return b"\x01" + json.dumps({"error": f"bad request: {exc}", "type": "InvalidArgument"}).encode()
        except KedirivmsError as exc:
            return b"\x01" + json.dumps({"error": str(exc), "type": type(exc).__name__}).encode()

    def _cut(self, camera: str, start: float, end: float) -> bytes:
        if self._dir is None:
            raise ClusterError("the evidence responder is closed")
        ident = secrets.token_hex(8)
        path = self._dir / f"{ident}.mp4"
        clip = cut_clip(self._index(), camera, start, end, path)
        clip.worker = self.worker
        answer = clip.to_json()
        if clip.path is not None:
            digest = hashlib.sha256(path.read_bytes()).hexdigest()
            with self._lock:
                self._clips[ident] = (path, clip.bytes, time.monotonic())
                self._expire()
            answer.update({"id": ident, "sha256": digest, "chunk": self._max_chunk()})
        return b"\x00" + json.dumps(answer).encode()

    def _expire(self) -> None:
        now = time.monotonic()
        for ident, (path, _, made) in sorted(self._clips.items(), key=lambda kv: kv[1][2]):
            if now - made > self.keep or len(self._clips) > self.max_clips:
                del self._clips[ident]
                path.unlink(missing_ok=True)

    def _max_chunk(self) -> int:
        # below this server's max payload (a district leaf may allow less than the hub the centre talks to)
        return max(1024, min(self.chunk, self.link.max_payload - 1024))

    def _chunk(self, ident: str, index: int, size: int) -> bytes:
        with self._lock:
            entry = self._clips.get(ident)
        if entry is None:
            raise InvalidArgument("no such clip (expired?)", hint="ask for the clip again")
        if not 1024 <= size <= self._max_chunk():
            raise InvalidArgument(f"chunk size {size} outside 1024-{self._max_chunk()}")
        with entry[0].open("rb") as f:
            f.seek(index * size)
            return b"\x00" + f.read(size)


class EvidenceFetcher:
    """The centre's side: find the worker holding a camera's recording of a range and fetch the clip.

    Args:
        link: the centre's connected NATS link.
        probe_timeout: seconds to wait for workers' probe answers.
        cut_timeout: seconds a worker may take to cut the clip.
        chunk_timeout: seconds per chunk.

    Example:
        >>> fetcher = EvidenceFetcher(centre.link)  # doctest: +SKIP
        >>> clip = fetcher.fetch("kota", "loket-1", t0 - 15, t1 + 15, Path("clip.mp4"))  # doctest: +SKIP
    """

    def __init__(
        self, link: NatsLink, *, probe_timeout: float = 1.5, cut_timeout: float = 30.0, chunk_timeout: float = 10.0
    ) -> None:
        self.link = link
        self.probe_timeout = probe_timeout
        self.cut_timeout = cut_timeout
        self.chunk_timeout = chunk_timeout

    def fetch(self, site: str, camera: str, start: float, end: float, path: Path) -> EvidenceClip:
        """The clip of ``camera`` over ``[start, end]`` written to ``path`` (``clip.path`` None: a gap only).

        Raises:
            InvalidArgument: an empty or too long range, or the clip is too large.
            ClusterTimeout: the worker did not answer in time.
            ClusterError: the worker failed to cut or send the clip.
        """
        check_range(start, end)
        req = json.dumps({"op": "probe", "camera": camera, "start": start, "end": end}).encode()
        answers, gaps = [], [(start, end, "no recording (camera offline, or no worker with its recording answered)")]
        for raw in self.link.gather(evidence_subject(site, camera), req, timeout=self.probe_timeout, enough=_has):
            with contextlib.suppress(ValueError, KeyError, TypeError, AttributeError):
                a = json.loads(raw)
                if int(a["segments"]) > 0:
                    answers.append((float(a["covered_s"]), int(a["segments"]), str(a["worker"])))
                elif a.get("gaps"):  # a worker that recorded the camera, but not then: its gaps say why
                    gaps = [(float(g["start"]), float(g["end"]), str(g["reason"])) for g in a["gaps"]]
        if not answers:
            return EvidenceClip(camera=camera, requested_start=start, requested_end=end, gaps=gaps)
        worker = max(answers)[2]
        subject = _worker_subject(worker)
        meta = self._ask(subject, {"op": "clip", "camera": camera, "start": start, "end": end}, self.cut_timeout)
        clip = EvidenceClip.from_json(meta)
        if meta.get("id") is None:
            return clip
        if clip.bytes > MAX_CLIP_BYTES:
            raise InvalidArgument(f"the clip is {clip.bytes >> 20} MiB (at most {MAX_CLIP_BYTES >> 20})")
        # chunks below both ends' max payload: the worker's (in its answer) and this link's
        size = max(1024, min(_CHUNK, int(meta.get("chunk") or _CHUNK), self.link.max_payload - 1024))
        digest = hashlib.sha256()
        with path.open("wb") as f:
            for i in range(-(-clip.bytes // size)):
                part = self._raw(subject, {"op": "chunk", "id": meta["id"], "index": i, "size": size})
                digest.update(part)
                f.write(part)
        if path.stat().st_size != clip.bytes or digest.hexdigest() != meta.get("sha256"):
            path.unlink(missing_ok=True)
            raise ClusterError(f"the clip of {camera} from {worker} arrived damaged", operation="evidence")
        clip.path = path
        return clip

    def _raw(self, subject: str, req: dict[str, Any], timeout: float | None = None) -> bytes:
        answer = self.link.request(subject, json.dumps(req).encode(), timeout=timeout or self.chunk_timeout)
        if answer[:1] == b"\x00":
            return answer[1:]
        try:
            err = json.loads(answer[1:])
        except ValueError:
            err = {"error": "an unreadable answer"}
        if err.get("type") == "InvalidArgument":
            raise InvalidArgument(f"the worker refused: {err.get('error')}", operation="evidence")
        raise ClusterError(f"the worker failed: {err.get('error')}", operation="evidence")

    def _ask(self, subject: str, req: dict[str, Any], timeout: float) -> dict[str, Any]:
        try:
            answer = json.loads(self._raw(subject, req, timeout))
        except ValueError:
            raise ClusterError("the worker's answer is not JSON", operation="evidence") from None
        if not isinstance(answer, dict):
            raise ClusterError("the worker's answer is not a JSON object", operation="evidence")
        return answer
