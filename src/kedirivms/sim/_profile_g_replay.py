"""Replay of recorded segments over RTSP for the virtual NVR (the URI that GetReplayUri returns).

The virtual camera's :class:`~kedirivms.sim.rtsp.RtspServer` serves live encoders; here a file-backed source takes
an encoder's place: it reads the recorded MP4 segments of one recording, turns each packet back into H.264 NAL
units (the MP4s hold length-prefixed NALs) and hands them out as RTP-ready access units, paced by their recorded
timestamps (optionally faster). The RTP clock is the 90 kHz media clock of the recording, so gaps stay gaps.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import av

from kedirivms.sim._rtsp._encoder import AccessUnit, SharedEncoder, find_startcodes, payloads_for
from kedirivms.sim.rtsp import RtspServer, StreamSpec

__all__ = ["ReplayServer", "SegmentSource"]

log = logging.getLogger("kedirivms.sim.nvr")

_AUD = 9


def _nals(data: bytes, length_size: int) -> list[bytes]:
    """NAL units of one packet: Annex B (start codes) or MP4 length-prefixed."""
    if data[:4] == b"\x00\x00\x00\x01" or data[:3] == b"\x00\x00\x01":
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
    """(SPS, PPS, NAL length size) from avcC or Annex B extradata."""
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
    return sets.get(7, b""), sets.get(8, b""), 4


class SegmentSource(SharedEncoder):
    """Plays a list of ``(path, start epoch)`` segments to RTSP sessions, as if it were a live encoder.

    Each time playback starts (first subscriber) it begins at the first segment; it ends after the last one.

    Args:
        segments: the recorded files, oldest first, with the UTC epoch time of their first frame.
        speed: playback speed (1.0 = as recorded).
    """

    def __init__(self, segments: list[tuple[Path, float]], speed: float = 1.0) -> None:  # noqa: D107
        # deliberately not calling SharedEncoder.__init__: there is no scene and no x264 encoder here
        self.segments = segments
        self.speed = speed
        with av.open(str(segments[0][0])) as first:
            ctx = first.streams.video[0].codec_context
            self.width, self.height = ctx.width, ctx.height
            self.sps, self.pps, self._length_size = _parameter_sets(bytes(ctx.extradata or b""))
        if not self.sps or not self.pps:
            raise ValueError(f"{segments[0][0]} has no H.264 parameter sets")
        self.fps = 90000.0  # one "picture index" per 90 kHz tick: AccessUnit.index is the RTP media time
        self.bitrate, self.gop, self.profile = 0, 0, "replay"
        self._lock = threading.Lock()
        self._subscribers: list[Callable[[AccessUnit], None]] = []
        self._thread: threading.Thread | None = None
        self._wake = threading.Event()
        self._force_key = False
        self.next_index = 0
        self.frames_encoded = 0
        self.starts = 0
        self.finished = threading.Event()

    def _loop(self) -> None:
        self.finished.clear()
        t0 = time.monotonic()
        base = self.segments[0][1]
        try:
            for path, start in self.segments:
                if not self._play_file(path, start - base, t0):
                    return
        finally:
            with self._lock:
                self._thread = None
            self.finished.set()

    def _play_file(self, path: Path, offset: float, t0: float) -> bool:
        with av.open(str(path)) as container:
            video = container.streams.video[0]
            tb = float(video.time_base or 0) or 1 / 90000
            first: int | None = None
            for packet in container.demux(video):
                if packet.size == 0 or packet.pts is None:
                    continue
                first = packet.pts if first is None else first
                media = offset + (packet.pts - first) * tb
                with self._lock:
                    subscribers = list(self._subscribers)
                if not subscribers:
                    return False
                delay = t0 + media / self.speed - time.monotonic()
                if delay > 0:
                    time.sleep(delay)
                nals = [n for n in _nals(bytes(packet), self._length_size) if n[0] & 0x1F != _AUD]
                key = bool(packet.is_keyframe)
                if key and not any(n[0] & 0x1F == 7 for n in nals):
                    nals = [self.sps, self.pps, *nals]
                index = round(media * 90000)
                self.next_index = index + 1
                self.frames_encoded += 1
                au = AccessUnit(index, key, time.time(), payloads_for(nals))
                for push in subscribers:
                    push(au)
        return True


class ReplayServer(RtspServer):
    """An :class:`RtspServer` whose paths replay recordings (see :meth:`add_recording`)."""

    def __init__(self, host: str = "127.0.0.1", port: int = 0, *, speed: float = 1.0) -> None:  # noqa: D107
        super().__init__(host, port, name="kedirivms virtual NVR replay")
        self.speed = speed
        self._sources: dict[str, Any] = {}
        self._loaders: dict[str, Callable[[], list[tuple[Path, float]]]] = {}
        self._src_lock = threading.Lock()

    def add_recording(self, name: str, segments: Callable[[], list[tuple[Path, float]]]) -> None:
        """Serve ``rtsp://host:port/<name>``; ``segments()`` lists the files when a client asks (DESCRIBE)."""
        self._loaders[name] = segments
        self.add_stream(name, StreamSpec(width=16, height=16))  # the spec is unused: the path must exist

    def _encoder(self, name: str) -> SharedEncoder:
        with self._src_lock:
            source = self._sources.get(name)
            # a finished (or never started) source is rebuilt so that new segments are included
            if source is None or (not source.running and source.finished.is_set()):
                source = SegmentSource(self._loaders[name](), self.speed)
                self._sources[name] = source
            return source
