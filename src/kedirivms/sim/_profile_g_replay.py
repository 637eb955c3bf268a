"""Replay of recorded segments over RTSP for the virtual NVR (the URI that GetReplayUri returns).

The virtual camera's :class:`~kedirivms.sim.rtsp.RtspServer` serves live encoders; here a file-backed source takes
an encoder's place: it reads the recorded MP4 segments of one recording, turns each packet back into H.264 NAL
units (the MP4s hold length-prefixed NALs) and hands them out as RTP-ready access units, paced by their recorded
timestamps (optionally faster). The RTP clock is the 90 kHz media clock of the recording, so gaps stay gaps.
"""

from __future__ import annotations

import datetime as dt
import logging
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import av

from kedirivms.sim._rtsp._encoder import AccessUnit, AccessUnitSource, find_startcodes
from kedirivms.sim._rtsp._server import Connection, Request
from kedirivms.sim._rtsp._session import Session
from kedirivms.sim.rtsp import RtspServer, StreamSpec

__all__ = ["ReplayServer", "SegmentSource", "replay_window"]

log = logging.getLogger("kedirivms.sim.nvr")

_AUD = 9


def _nals(data: bytes, length_size: int) -> list[bytes]:
    """NAL units of one packet: MP4 length-prefixed (``length_size`` bytes), or Annex B when it is 0.

    The file's extradata says which: a packet's first bytes cannot (a 256-511 byte NAL's 4-byte length starts
    ``00 00 01``, like a start code).
    """
    if length_size == 0:
        return find_startcodes(data)
    out: list[bytes] = []
    pos = 0
    while pos + length_size <= len(data):
        size = int.from_bytes(data[pos : pos + length_size], "big")
        pos += length_size
        if size <= 0 or pos + size > len(data):
            break
        out.append(data[pos : pos + size])
        pos += size
    return out


def _parameter_sets(extradata: bytes) -> tuple[bytes, bytes, int]:
    """(SPS, PPS, NAL length size) from avcC extradata, or (SPS, PPS, 0) from Annex B extradata."""
    if extradata[:1] == b"\x01" and len(extradata) > 8:  # avcC (ISO/IEC 14496-15 5.2.4.1)
        length_size = (extradata[4] & 3) + 1
        pos = 6
        sps_len = int.from_bytes(extradata[pos : pos + 2], "big")
        sps = extradata[pos + 2 : pos + 2 + sps_len]
        pos += 2 + sps_len + 1
        pps_len = int.from_bytes(extradata[pos : pos + 2], "big")
        pps = extradata[pos + 2 : pos + 2 + pps_len]
        return sps, pps, length_size
    sets = {nal[0] & 0x1F: nal for nal in find_startcodes(extradata)}
    return sets.get(7, b""), sets.get(8, b""), 0


class SegmentSource(AccessUnitSource):
    """Plays a list of ``(path, start epoch)`` segments to RTSP sessions, as if it were a live encoder.

    Playback starts at the first segment (or at the keyframe before :meth:`seek`'s start) when the first
    subscriber arrives, and ends after the last segment (or the end of the window).

    Args:
        segments: the recorded files, oldest first, with the UTC epoch time of their first frame.
        speed: playback speed (1.0 = as recorded).
    """

    lossless = True  # one source per session: a slow client slows the replay, it loses no packet

    def __init__(self, segments: list[tuple[Path, float]], speed: float = 1.0) -> None:  # noqa: D107
        with av.open(str(segments[0][0])) as first:
            ctx = first.streams.video[0].codec_context
            width, height = ctx.width, ctx.height
            self.sps, self.pps, self._length_size = _parameter_sets(bytes(ctx.extradata or b""))
        if not self.sps or not self.pps:
            raise ValueError(f"{segments[0][0]} has no H.264 parameter sets")
        # one "picture index" per 90 kHz tick: AccessUnit.index is the RTP media time
        super().__init__(width, height, 90000.0)
        self.segments = segments
        self.speed = speed
        self.finished = threading.Event()
        self.start_at: float | None = None
        self.end_at: float | None = None

    def seek(self, start: float | None, end: float | None = None) -> None:
        """Play ``[start, end]`` (UTC epoch seconds; None = from the beginning / to the end) on the next play.

        Playback starts at the keyframe at or before ``start``.
        """
        self.start_at, self.end_at = start, end

    def _packets(self) -> Iterator[tuple[float, float, av.Packet]]:
        """(wall time, media time since the first segment, packet) over every segment, in order."""
        base = self.segments[0][1]
        for path, start in self.segments:
            if self.start_at is not None and self.segments[-1][0] != path:
                nxt = self.segments[self.segments.index((path, start)) + 1][1]
                if nxt <= self.start_at:
                    continue  # this whole segment is before the start
            if self.end_at is not None and start >= self.end_at:
                return
            with av.open(str(path)) as container:
                video = container.streams.video[0]
                tb = float(video.time_base or 0) or 1 / 90000
                first: int | None = None
                for packet in container.demux(video):
                    if packet.size == 0 or packet.pts is None:
                        continue
                    first = packet.pts if first is None else first
                    offset = (packet.pts - first) * tb
                    yield start + offset, start - base + offset, packet

    def _loop(self) -> None:
        self.finished.clear()
        try:
            self._play()
        finally:
            with self._lock:
                self._thread = None
            self.finished.set()

    def _play(self) -> None:
        t0: float | None = None
        gop: list[tuple[float, av.Packet]] = []  # the GOP running at start_at, sent at once when it is reached
        for wall, media, packet in self._packets():
            if self.end_at is not None and wall >= self.end_at:
                return
            if self.start_at is not None and t0 is None and wall < self.start_at:
                if packet.is_keyframe:
                    gop = []
                if gop or packet.is_keyframe:
                    gop.append((media, packet))
                continue
            with self._lock:
                subscribers = list(self._subscribers)
            if not subscribers:
                return
            if t0 is None:
                first_media = gop[0][0] if gop else media
                t0 = time.monotonic() - first_media / self.speed
            for m, p in [*gop, (media, packet)]:
                delay = t0 + m / self.speed - time.monotonic()
                if delay > 0:
                    time.sleep(delay)
                self._send(m, p, subscribers)
            gop = []

    def _send(self, media: float, packet: av.Packet, subscribers: list[Callable[[AccessUnit], None]]) -> None:
        nals = [n for n in _nals(bytes(packet), self._length_size) if n[0] & 0x1F != _AUD]
        index = round(media * 90000)
        self.next_index = index + 1
        au = self._access_unit(index, bool(packet.is_keyframe), nals)
        for push in subscribers:
            push(au)


def _clock(text: str) -> float | None:
    """``20260131T080000Z`` / ``20260131T080000.5Z`` / ISO 8601 -> epoch seconds (None if unparsable)."""
    text = text.strip()
    for fmt in ("%Y%m%dT%H%M%S.%fZ", "%Y%m%dT%H%M%SZ"):
        try:
            return dt.datetime.strptime(text, fmt).replace(tzinfo=dt.UTC).timestamp()
        except ValueError:
            pass
    try:
        value = dt.datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        return None
    return (value if value.tzinfo else value.replace(tzinfo=dt.UTC)).timestamp()


def replay_window(url: str, range_header: str) -> tuple[float | None, float | None]:
    """The replay window asked for: ``Range: clock=START-[END]`` (ONVIF streaming spec), else the
    ``starttime``/``endtime`` URI query parameters (a common NVR convention)."""
    if range_header.lower().startswith("clock="):
        start, _, end = range_header[6:].partition("-")
        return _clock(start), (_clock(end) if end.strip() else None)
    query = parse_qs(urlsplit(url).query)
    start_q, end_q = query.get("starttime"), query.get("endtime")
    return (_clock(start_q[0]) if start_q else None), (_clock(end_q[0]) if end_q else None)


class _ReplayConnection(Connection):
    """A connection whose PLAY honours a replay window (Range: clock=..., or starttime/endtime).

    Clients such as FFmpeg keep the query only on DESCRIBE (the Content-Base drops it), so it is remembered.
    """

    replay_url = ""

    def _do_describe(self, req: Request, cseq: str, session: Session | None) -> None:
        self.replay_url = req.url
        super()._do_describe(req, cseq, session)

    def _do_play(self, req: Request, cseq: str, session: Session | None) -> None:
        if session is not None and isinstance(session.encoder, SegmentSource) and not session.playing:
            start, end = replay_window(req.url, req.header("range"))
            if start is None and end is None:
                start, end = replay_window(self.replay_url, "")
            session.encoder.seek(start, end)
        super()._do_play(req, cseq, session)


class ReplayServer(RtspServer):
    """An :class:`RtspServer` whose paths replay recordings (see :meth:`add_recording`).

    Every RTSP session gets its own :class:`SegmentSource`, positioned by its PLAY request.
    """

    _connection_class = _ReplayConnection

    def __init__(  # noqa: D107
        self, host: str = "127.0.0.1", port: int = 0, *, speed: float = 1.0, users: dict[str, str] | None = None
    ) -> None:
        super().__init__(host, port, name="kedirivms virtual NVR replay", users=users)
        self.speed = speed
        self._loaders: dict[str, Callable[[], list[tuple[Path, float]]]] = {}

    def add_recording(self, name: str, segments: Callable[[], list[tuple[Path, float]]]) -> None:
        """Serve ``rtsp://host:port/<name>``; ``segments()`` lists the files when a client asks (DESCRIBE)."""
        self._loaders[name] = segments
        self.add_stream(name, StreamSpec(width=16, height=16))  # the spec is unused: the path must exist

    def _encoder(self, name: str) -> AccessUnitSource:
        return SegmentSource(self._loaders[name](), self.speed)
