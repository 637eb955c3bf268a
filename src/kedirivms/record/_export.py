"""Export a recorded time range into one MP4 (remux, no transcoding), and open a range for the frame API."""

from __future__ import annotations

import contextlib
import datetime as dt
import os
import tempfile
from fractions import Fraction
from pathlib import Path
from typing import Any

import av

from kedirivms.errors import InvalidArgument, RecordingError, StorageError
from kedirivms.record._index import SegmentIndex
from kedirivms.record._layout import camera_dir_name, utc
from kedirivms.record._models import ExportResult, Gap, Segment
from kedirivms.stream import Stream, StreamState, open_stream

__all__ = ["coverage_gaps", "export", "open_recording"]

_OUT_TB = Fraction(1, 90000)


def _range(start: dt.datetime | float, end: dt.datetime | float) -> tuple[dt.datetime, dt.datetime]:
    s, e = utc(start), utc(end)
    if e <= s:
        raise InvalidArgument(f"the range ends ({e:%Y-%m-%dT%H:%M:%SZ}) before it starts ({s:%Y-%m-%dT%H:%M:%SZ})")
    return s, e


def coverage_gaps(ix: SegmentIndex, camera: str, start: dt.datetime, end: dt.datetime) -> list[Gap]:
    """Spans of ``[start, end]`` no segment covers, with the indexed reason where one is known."""
    known = ix.gaps(camera, start, end)
    out: list[Gap] = []
    cursor = start
    for seg in ix.segments(camera, start, end):
        if seg.start > cursor + dt.timedelta(seconds=0.1):
            out.append(_gap(camera, cursor, seg.start, known))
        cursor = max(cursor, seg.end)
    if end > cursor + dt.timedelta(seconds=0.1):
        out.append(_gap(camera, cursor, end, known))
    return out


def _gap(camera: str, s: dt.datetime, e: dt.datetime, known: list[Gap]) -> Gap:
    reasons = [g.reason for g in known if g.start < e and g.end > s]
    return Gap(camera=camera, start=s, end=e, reason=reasons[0] if reasons else "no recording")


def export(
    root: str | os.PathLike[str] | SegmentIndex,
    camera: str,
    start: dt.datetime | float,
    end: dt.datetime | float,
    path: str | os.PathLike[str],
    *,
    fragmented: bool = False,
) -> ExportResult:
    """Remux the segments covering ``[start, end]`` of ``camera`` into one MP4 at ``path``.

    The file starts at the last keyframe at or before ``start`` (at most one GOP early) and ends with the last
    frame before ``end``. Gaps are not filled: the timeline is continuous and the gaps are listed.

    Args:
        root: the recording root (or its :class:`SegmentIndex`).
        camera: camera name.
        start: UTC datetime (naive = UTC) or epoch seconds.
        end: UTC datetime or epoch seconds.
        path: the MP4 to write (replaced if it exists).
        fragmented: write a fragmented MP4 (fMP4: an empty ``moov`` then one fragment per keyframe), which a
            browser plays while it downloads and from Media Source Extensions.

    Returns:
        An :class:`ExportResult` with the exported span, segments used and gaps.

    Raises:
        InvalidArgument: empty range.
        RecordingError: nothing recorded in the range.
        StorageError: the output cannot be written.

    Example:
        >>> export("/srv/rec", "gate-1", t0, t0 + 60, "/tmp/clip.mp4").gaps
    """
    s, e = _range(start, end)
    ix = root if isinstance(root, SegmentIndex) else SegmentIndex(root)
    try:
        cam = camera_dir_name(camera)
        segments = ix.segments(cam, s, e)
        if not segments:
            raise RecordingError(
                f"nothing recorded between {s:%Y-%m-%dT%H:%M:%SZ} and {e:%Y-%m-%dT%H:%M:%SZ}",
                camera=cam,
                operation="export",
                hint="list what exists with `kedirivms recordings ROOT --camera NAME`",
            )
        out_path = Path(path)
        try:
            out_path.parent.mkdir(parents=True, exist_ok=True)
            options = {"movflags": "frag_keyframe+empty_moov+default_base_moof"} if fragmented else {}
            out = av.open(str(out_path), "w", format="mp4", options=options)
        except (OSError, av.error.FFmpegError) as exc:
            raise StorageError(f"cannot write {out_path}: {exc}", camera=cam, operation="export") from exc
        try:
            state = _Remux(out, s.timestamp(), e.timestamp())
            used = [seg.path for seg in segments if state.add(ix.root / seg.path, seg)]
        except (OSError, av.error.FFmpegError) as exc:
            raise StorageError(f"export to {out_path} failed: {exc}", camera=cam, operation="export") from exc
        finally:
            with contextlib.suppress(OSError, av.error.FFmpegError):
                out.close()
        if state.packets == 0:
            raise RecordingError("the covering segments hold no frame in the range", camera=cam, operation="export")
        return ExportResult(
            path=out_path,
            camera=cam,
            requested_start=s,
            requested_end=e,
            start=utc(state.first_wall or s.timestamp()),
            end=utc(state.last_wall or e.timestamp()),
            duration=float(state.cursor * _OUT_TB),
            packets=state.packets,
            segments=used,
            gaps=coverage_gaps(ix, cam, s, e),
        )
    finally:
        if not isinstance(root, SegmentIndex):
            ix.close()


class _Remux:
    """Appends the in-range packets of successive segments to one output on a gap-free timeline."""

    def __init__(self, out: Any, start: float, end: float) -> None:
        self.out = out
        self.start = start
        self.end = end
        self.stream: Any = None
        self.params: tuple[Any, ...] | None = None
        self.cursor = 0  # output dts where the next segment begins, in _OUT_TB
        self.packets = 0
        self.first_wall: float | None = None
        self.last_wall: float | None = None
        self._last_dts = -1
        self._step = 0

    def add(self, path: Path, seg: Segment) -> bool:
        """Append the in-range part of one segment; False if it was skipped (codec or size change)."""
        with av.open(str(path), "r") as inp:
            video = inp.streams.video[0]
            ctx = video.codec_context
            params = (ctx.name, ctx.width, ctx.height)
            if self.stream is None:
                self.stream = self.out.add_stream_from_template(video)
                self.stream.time_base = _OUT_TB
                if ctx.name == "hevc":
                    self.stream.codec_tag = "hvc1"  # as the segments: the tag browsers and QuickTime play
                self.params = params
            elif params != self.params:
                return False  # one MP4 track cannot change codec or size; the span shows up as a gap
            tb = Fraction(video.time_base or Fraction(1, 90000))
            seg_start = seg.start.timestamp()
            first: int | None = None
            origin: int | None = None  # source dts written at self.cursor (<= pts with B-frames)
            pending: list[tuple[Any, float]] = []  # the GOP running at `start`, before anything is written
            for packet in inp.demux(video):
                if packet.size == 0 or packet.pts is None:
                    continue
                first = packet.pts if first is None else first
                wall = seg_start + float((packet.pts - first) * tb)
                if wall >= self.end:
                    break
                if self.packets == 0 and wall < self.start:
                    if packet.is_keyframe:
                        pending = [(packet, wall)]
                    elif pending:
                        pending.append((packet, wall))
                    continue
                for p, w in [*pending, (packet, wall)]:
                    origin = _dts(p) if origin is None else origin
                    self._mux(p, w, origin, tb)
                pending = []
            for p, w in pending:  # the range starts inside this segment's last frame interval
                origin = _dts(p) if origin is None else origin
                self._mux(p, w, origin, tb)
            if origin is None:
                return False
            self.cursor = self._last_dts + max(self._step, 1)
            return True

    def _mux(self, packet: Any, wall: float, origin: int, tb: Fraction) -> None:
        ts = self.cursor + round((packet.pts - origin) * tb / _OUT_TB)
        dts_src = packet.dts if packet.dts is not None else packet.pts
        dts = self.cursor + round((dts_src - origin) * tb / _OUT_TB)
        if dts <= self._last_dts:
            dts = self._last_dts + 1
        if self._last_dts >= 0 and dts - self._last_dts < 90000:
            self._step = dts - self._last_dts
        packet.pts, packet.dts = max(ts, dts), dts
        packet.time_base = _OUT_TB
        packet.stream = self.stream
        self.out.mux(packet)
        self._last_dts = dts
        self.packets += 1
        if self.first_wall is None:
            self.first_wall = wall
        self.last_wall = wall + float(self._step * _OUT_TB)


def _dts(packet: Any) -> int:
    return int(packet.dts if packet.dts is not None else packet.pts)


def open_recording(
    root: str | os.PathLike[str] | SegmentIndex,
    camera: str,
    start: dt.datetime | float,
    end: dt.datetime | float,
    **kwargs: Any,
) -> Stream:
    """Open a recorded range as a :class:`~kedirivms.stream.Stream` (frames, iteration, packet listeners).

    The covering segments are played back to back through FFmpeg's concat demuxer (no copy is made); playback
    starts at the keyframe at or before ``start``. Frame ``pts`` count from that keyframe.

    Args:
        root: the recording root (or its :class:`SegmentIndex`).
        camera: camera name.
        start: UTC datetime or epoch seconds.
        end: UTC datetime or epoch seconds.
        **kwargs: more :func:`~kedirivms.stream.open_stream` keywords (``queue_size``, ``max_fps``...).

    Returns:
        An unstarted :class:`~kedirivms.stream.Stream`; its playlist file is removed when it closes.

    Raises:
        RecordingError: nothing recorded in the range.
    """
    s, e = _range(start, end)
    ix = root if isinstance(root, SegmentIndex) else SegmentIndex(root)
    try:
        cam = camera_dir_name(camera)
        segments = ix.segments(cam, s, e)
        base = ix.root
    finally:
        if not isinstance(root, SegmentIndex):
            ix.close()
    if not segments:
        raise RecordingError("nothing recorded in the range", camera=cam, operation="open_recording")
    lines = ["ffconcat version 1.0"]
    for i, seg in enumerate(segments):
        lines.append(f"file '{(base / seg.path).resolve().as_posix()}'")
        if i == 0 and s > seg.start:
            lines.append(f"inpoint {(s - seg.start).total_seconds():.6f}")
        if i == len(segments) - 1 and e < seg.end:
            lines.append(f"outpoint {(e - seg.start).total_seconds():.6f}")
    fd, playlist = tempfile.mkstemp(prefix=f"kedirivms-{cam}-", suffix=".ffconcat")
    with os.fdopen(fd, "w") as f:
        f.write("\n".join(lines) + "\n")
    options = {"safe": "0", **dict(kwargs.pop("options", None) or {})}
    stream = open_stream(playlist, options=options, **kwargs)

    def cleanup(change: Any) -> None:
        if change.state in (StreamState.CLOSED, StreamState.ENDED):
            with contextlib.suppress(OSError):
                os.unlink(playlist)

    stream.on_state(cleanup)
    return stream
