"""H.265 from GStreamer's RTSP server (x265enc, 8-bit Main and 10-bit Main10): decoded into the same zero-copy
frames, recorded into segments tagged ``hvc1`` with the parameter sets in the sample description, exported alike,
and read back by ffprobe with every written packet there."""

from __future__ import annotations

import json
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from clitools import gst_rtsp_process
from kedirivms.record import Recorder, SegmentIndex, SegmentStatus, export
from kedirivms.stream import open_stream

FPS = 10  # one keyframe per second (key-int-max = fps)


@pytest.fixture(scope="module", params=["h265", "h265-10"])
def gst_hevc(request: pytest.FixtureRequest) -> Iterator[tuple[str, str]]:
    server = gst_rtsp_process("320", "180", str(FPS), request.param)
    yield request.param, server.url
    server.stop()


def probe(path: Path) -> dict[str, Any]:
    proc = subprocess.run(
        ["ffprobe", "-v", "error", "-count_packets", "-show_entries",
         "stream=codec_name,codec_tag_string,profile,pix_fmt,nb_read_packets", "-of", "json", str(path)],
        capture_output=True, text=True, timeout=30,
    )  # fmt: skip
    stream = json.loads(proc.stdout)["streams"][0]
    return {**stream, "stderr": proc.stderr.strip(), "nb_read_packets": int(stream["nb_read_packets"])}


def hvcc_arrays(path: Path) -> list[tuple[bool, int, int]]:
    """(array_completeness, NAL unit type, count) of each parameter-set array in the file's hvcC box."""
    data = path.read_bytes()[:65536]  # the moov of a fragmented MP4 comes first
    at = data.index(b"hvcC") + 4 + 22  # box type, then 22 bytes of profile/level/format fields
    arrays, pos, out = data[at], at + 1, []
    for _ in range(arrays):
        head, count = data[pos], int.from_bytes(data[pos + 1 : pos + 3], "big")
        pos += 3
        for _ in range(count):
            pos += 2 + int.from_bytes(data[pos : pos + 2], "big")
        out.append((bool(head & 0x80), head & 0x3F, count))
    return out


def test_hevc_frames_are_the_same_zero_copy_frames(gst_hevc: tuple[str, str]) -> None:
    kind, url = gst_hevc
    with open_stream(url) as stream:
        frame = next(iter(stream))
        y = frame.y
    assert (frame.width, frame.height) == (320, 180)
    assert frame.format == ("yuv420p10le" if kind == "h265-10" else "yuv420p")
    assert y.shape == (180, 320) and y.dtype == (np.uint16 if kind == "h265-10" else np.uint8)
    assert not y.flags.writeable


def test_hevc_recording_is_hvc1_and_loses_no_packet(gst_hevc: tuple[str, str], tmp_path: Path) -> None:
    kind, url = gst_hevc
    with open_stream(url, decode=False) as stream, Recorder(stream, tmp_path, "h", segment_seconds=2.0) as rec:
        # x265enc's first picture can take long on a loaded box (and a first attempt may need a reconnect):
        # the three segments are timed from the first packet
        deadline = time.monotonic() + 60
        while rec.stats.packets_in == 0 and time.monotonic() < deadline:
            time.sleep(0.2)
        assert rec.stats.packets_in > 0, f"no packet from GStreamer's server in 60 s: {stream.last_error!r}"
        deadline = time.monotonic() + 30
        while rec.stats.segments < 3 and time.monotonic() < deadline:
            time.sleep(0.2)
    stats = rec.stats
    assert stats.segments >= 3 and stats.mux_errors == 0 and stats.storage_errors == 0 and stats.packets_dropped == 0
    assert stats.packets_in - stats.packets_written <= FPS  # only what came before the first keyframe
    with SegmentIndex(tmp_path) as ix:
        segs = ix.segments("h")
    assert sum(s.packets for s in segs) == stats.packets_written
    for seg in segs:
        assert seg.status is SegmentStatus.COMPLETE and seg.codec == "hevc"
        info = probe(tmp_path / seg.path)
        assert info["stderr"] == ""
        assert (info["codec_name"], info["codec_tag_string"]) == ("hevc", "hvc1")
        assert info["profile"] == ("Main 10" if kind == "h265-10" else "Main")
        assert info["nb_read_packets"] == seg.packets
        arrays = hvcc_arrays(tmp_path / seg.path)
        assert [(complete, nal) for complete, nal, _ in arrays] == [(True, 32), (True, 33), (True, 34)]  # VPS SPS PPS
    clip = export(tmp_path, "h", segs[0].start, segs[-1].end, tmp_path / "clip.mp4")
    info = probe(clip.path)
    assert (info["codec_tag_string"], info["nb_read_packets"]) == ("hvc1", clip.packets)
    assert clip.packets == stats.packets_written
