"""A camera slow to send its first picture: the stream opens without a picture size, the recorder still records.

FFmpeg learns a stream's size while probing it at open; when no picture arrives within the probe's read time-out
(a camera slow to start its encoder, a loaded box) the open still succeeds, with the size unknown, and FFmpeg's
MP4 muxer refuses every segment's header ("dimensions not set", EINVAL): seen as `make demo` recording 0
segments under load. Here the virtual camera's first picture really takes longer than the probe waits.
"""

from __future__ import annotations

import time
from pathlib import Path

import av
import numpy as np

from kedirivms.record import Recorder, RecorderState, SegmentIndex
from kedirivms.sim.rtsp import RtspServer, StreamSpec
from kedirivms.sim.scene import MovingShapesScene
from kedirivms.stream import open_stream

from .conftest import ffprobe

FIRST_PICTURE_S = 1.6  # the first picture's delay, beyond the probe's per-read time-out below
TIMEOUT = (5.0, 2.0)  # open, read: FFmpeg's per-read time-out is 0.45 x read = 0.9 s


class _SlowStart(MovingShapesScene):
    """Moving shapes whose first picture takes ``FIRST_PICTURE_S`` to render (an encoder starting up)."""

    def __init__(self) -> None:
        super().__init__()
        self._started = False

    def render(self, index: int, t: float, width: int, height: int) -> np.ndarray:
        if not self._started:
            self._started = True
            time.sleep(FIRST_PICTURE_S)
        return super().render(index, t, width, height)


def _server(tmp: str) -> RtspServer:
    srv = RtspServer("127.0.0.1", 0)
    srv.add_stream(tmp, StreamSpec(width=320, height=180, fps=10, bitrate=250_000, gop=10, scene=_SlowStart()))
    return srv


def test_probe_without_a_picture_has_no_size() -> None:
    """The precondition, on FFmpeg itself: the probe gives up before the first picture and reports no size."""
    with _server("slow") as srv:
        opts = {"rtsp_transport": "tcp", "analyzeduration": "100000", "timeout": str(int(0.45 * TIMEOUT[1] * 1e6))}
        with av.open(srv.url("slow"), options=opts, timeout=(TIMEOUT[0], 0.45 * TIMEOUT[1])) as container:
            assert container.streams.video[0].codec_context.width == 0


def test_recorder_learns_the_size_from_the_first_keyframe(tmp_path: Path) -> None:
    with _server("slow") as srv:
        stream = open_stream(srv.url("slow"), decode=False, timeout=TIMEOUT)
        with stream, Recorder(stream, tmp_path, "slow", segment_seconds=1.0) as rec:
            deadline = time.monotonic() + 30
            while rec.stats.segments < 2 and time.monotonic() < deadline:
                time.sleep(0.2)
            assert rec.state is RecorderState.RECORDING, rec.stats
    stats = rec.stats
    assert stats.mux_errors == 0, stats
    with SegmentIndex(tmp_path) as ix:
        segs = ix.segments("slow")
    assert len(segs) >= 2
    for seg in segs:
        probe = ffprobe(tmp_path / seg.path)
        assert probe["ok"], (seg.path, probe["stderr"])
        assert probe["width"] == 320 and probe["packets"] == seg.packets > 0
