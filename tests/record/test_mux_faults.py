"""A muxer that rejects a packet is not a storage failure: the recorder closes the segment and goes on.

FFmpeg's MP4 muxer answers "Invalid argument" (EINVAL) to a packet it refuses. No well-behaved peer sends such a
packet on demand, so these tests hand the real muxer a packet it refuses (a duration above INT32_MAX, which
``movenc`` rejects with EINVAL) at chosen places; everything else is real: the virtual camera's RTSP server,
FFmpeg's muxer, the file system and ffprobe.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import pytest

from kedirivms.record import Recorder, RecorderState, SegmentIndex
from kedirivms.record import recorder as recorder_module
from kedirivms.record._layout import iter_segment_files
from kedirivms.record._segment import Pkt, SegmentWriter
from kedirivms.sim.rtsp import RtspServer
from kedirivms.stream import open_stream

from .conftest import SPEC, ffprobe

GOP_PACKETS = SPEC.gop  # 10 packets = one GOP of the test stream


class _Rejecting(SegmentWriter):
    """A real segment writer; the packets numbered in ``REJECT`` (counted over all writers) get a duration
    FFmpeg's MP4 muxer refuses."""

    REJECT: set[int] = set()
    seen = 0

    def write(self, item: Pkt) -> None:
        n = _Rejecting.seen
        _Rejecting.seen += 1
        if n in _Rejecting.REJECT:
            item.duration = 2**31 + 7  # movenc: "Application provided duration ... is invalid" -> EINVAL
        super().write(item)


@pytest.mark.parametrize(
    "reject",
    [
        pytest.param({25}, id="mid-segment"),
        pytest.param({0}, id="first-packet-of-recording"),
        pytest.param({25, 26, 27, 60}, id="several-in-a-row"),
    ],
)
def test_rejected_packet_loses_at_most_one_gop(
    rtsp: RtspServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, reject: set[int]
) -> None:
    monkeypatch.setattr(_Rejecting, "REJECT", reject)
    monkeypatch.setattr(_Rejecting, "seen", 0)
    monkeypatch.setattr(recorder_module, "SegmentWriter", _Rejecting)
    stream = open_stream(rtsp.url("cam"), decode=False)
    with stream, Recorder(stream, tmp_path, "m", segment_seconds=3.0) as rec:
        deadline = time.monotonic() + 30
        while rec.stats.packets_written < 70 and time.monotonic() < deadline:  # (past the last refused, 60)
            time.sleep(0.2)
        assert rec.state is RecorderState.RECORDING, rec.stats
        assert rec.error is None, rec.error  # not a storage error
    stats = rec.stats
    assert stats.storage_errors == 0 and stats.last_error is None
    assert stats.mux_errors >= 1
    lost = stats.packets_in - stats.packets_written
    # before the first keyframe (< one GOP), then at most one GOP per refused packet (``seen`` counts the
    # packets handed to writers, so a refused first packet of a segment is one more GOP)
    assert stats.mux_errors == len(reject)
    assert lost <= GOP_PACKETS * (1 + len(reject)), stats
    with SegmentIndex(tmp_path) as ix:
        segs = ix.segments("m")
        events = [e.name for e in ix.events("m")]
    assert "mux_error" in events and "storage_error" not in events
    # never an index row without its file, nor a file without its row
    assert {s.path for s in segs} == set(iter_segment_files(tmp_path))
    written = 0
    for seg in segs:
        probe = ffprobe(tmp_path / seg.path)
        assert probe["ok"], (seg.path, probe["stderr"])
        assert probe["packets"] == seg.packets > 0
        written += seg.packets
    assert written == stats.packets_written


def test_stats_model_counts_mux_errors_apart() -> None:
    fields: dict[str, Any] = recorder_module.RecorderStats.model_fields  # type: ignore[attr-defined]
    assert "mux_errors" in fields and "storage_errors" in fields
