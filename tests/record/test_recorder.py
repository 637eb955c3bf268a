"""Recording from real RTSP peers: segments pass ffprobe, durations add up, the index matches the files."""

from __future__ import annotations

import re
import subprocess
import threading
import time
from pathlib import Path
from typing import Any

import pytest

from kedirivms.errors import InvalidArgument, RecordingError
from kedirivms.record import Recorder, RecorderState, SegmentIndex, SegmentStatus, export
from kedirivms.record._layout import INDEX_NAME, iter_segment_files
from kedirivms.sim.rtsp import RtspServer, StreamSpec
from kedirivms.stream import StreamState, open_stream

from .conftest import GOP, SEGMENT, ffprobe


def check_root(root: Path, camera: str) -> list[Any]:
    """Every closed segment passes ffprobe with the indexed packet count; index == files."""
    with SegmentIndex(root) as ix:
        segs = ix.segments(camera)
        assert segs, "nothing recorded"
        assert {s.path for s in ix.segments()} == set(iter_segment_files(root))
        for seg in segs:
            assert seg.status is SegmentStatus.COMPLETE
            probe = ffprobe(root / seg.path)
            assert probe["ok"], (seg.path, probe["stderr"])
            assert probe["codec"] == "h264" and probe["width"] == seg.width
            assert probe["packets"] == seg.packets
            assert abs(probe["duration"] - seg.duration) <= 0.15
            assert seg.bytes == (root / seg.path).stat().st_size
            rel = seg.path.split("/", 1)[1]
            stem = f"{seg.start:%Y-%m-%d}/{seg.start:%H}/{seg.start:%M.%S}"  # -N: another began in that second
            assert re.fullmatch(re.escape(stem) + r"(-\d+)?\.mp4", rel), rel
        return segs


@pytest.mark.parametrize("camera", ["sim", "gst"])
def test_segments_probe_and_add_up(recorded: dict[str, Any], camera: str) -> None:
    root = recorded["root"]
    segs = check_root(root, camera)
    stats = recorded["stats"][camera]
    assert stats.packets_dropped == 0 and stats.storage_errors == 0
    assert stats.packets_written == sum(s.packets for s in segs)
    assert len(segs) >= 3
    for seg in segs[:-1]:  # cut at the first keyframe after SEGMENT seconds
        assert SEGMENT - 0.05 <= seg.duration <= SEGMENT + GOP + 0.05
    for prev, nxt in zip(segs, segs[1:], strict=False):  # contiguous: no hole, no overlap
        assert abs((nxt.start - prev.end).total_seconds()) <= 0.15
    recorded_time = recorded["stopped"] - segs[0].start.timestamp()
    assert abs(sum(s.duration for s in segs) - recorded_time) <= GOP


def test_recorder_adds_no_connection(recorded: dict[str, Any]) -> None:
    assert recorded["connections"] == 1  # the sim server saw one RTSP session for camera "sim"


def test_layout_and_wal(recorded: dict[str, Any]) -> None:
    root = recorded["root"]
    assert (root / INDEX_NAME).exists()
    with SegmentIndex(root) as ix:
        mode = ix._rows("PRAGMA journal_mode")[0][0]
        assert mode == "wal"
        assert set(ix.cameras()) == {"sim", "gst"}


def test_second_recorder_for_same_camera_refused(rtsp: RtspServer, tmp_path: Path) -> None:
    s1 = open_stream(rtsp.url("cam2"), decode=False)
    with Recorder(s1, tmp_path, "c"), pytest.raises(RecordingError, match="already being recorded"):
        Recorder(s1, tmp_path, "c").start()


@pytest.mark.parametrize(
    ("kwargs", "error"),
    [
        ({"segment_seconds": 0}, InvalidArgument),
        ({"fragment_seconds": 5, "segment_seconds": 2}, InvalidArgument),
        ({"mode": "sometimes"}, InvalidArgument),
        ({"pre_roll": -1}, InvalidArgument),
    ],
)
def test_bad_options(rtsp: RtspServer, tmp_path: Path, kwargs: dict[str, Any], error: type[Exception]) -> None:
    with pytest.raises(error):
        Recorder(open_stream(rtsp.url("cam"), decode=False), tmp_path, "c", **kwargs)


def test_event_mode_pre_and_post_roll(rtsp: RtspServer, tmp_path: Path) -> None:
    stream = open_stream(rtsp.url("cam2"), decode=False)
    with stream, Recorder(stream, tmp_path, "ev", mode="event", post_roll=1.5, segment_seconds=30) as rec:
        assert rec.state is RecorderState.ARMED
        time.sleep(2.5)
        assert rec.stats.packets_written == 0  # armed: nothing written before a trigger
        fired = time.time()
        rec.trigger("motion", detail="zone A")
        time.sleep(3.5)
    with SegmentIndex(tmp_path) as ix:
        segs = ix.segments("ev")
        events = ix.events("ev")
    assert [e.name for e in events] == ["motion"] and events[0].detail == "zone A"
    assert len(segs) == 1 and segs[0].kind == "event"
    seg = segs[0]
    pre = fired - seg.start.timestamp()
    assert 0 <= pre <= GOP + 0.25  # starts at the last keyframe before the trigger
    post = seg.end.timestamp() - fired
    assert 1.5 - 0.15 <= post <= 1.5 + 0.5  # post-roll, to the frame
    assert ffprobe(tmp_path / seg.path)["ok"]


def test_server_killed_and_restarted_gap_indexed(server_process: Any, tmp_path: Path) -> None:
    srv = server_process()
    stream = open_stream(srv.url, decode=False, timeout=(2.0, 1.0), backoff=(0.2, 0.5))
    with stream, Recorder(stream, tmp_path, "cam", segment_seconds=2.0) as rec:
        deadline = time.monotonic() + 15
        while rec.stats.segments < 1 and time.monotonic() < deadline:
            time.sleep(0.2)
        srv.kill()
        killed = time.time()
        time.sleep(2.0)
        assert rec.state is RecorderState.DISCONNECTED
        server_process(srv.port)
        deadline = time.monotonic() + 15
        while rec.state is not RecorderState.RECORDING and time.monotonic() < deadline:
            time.sleep(0.1)
        written = rec.stats.packets_written
        time.sleep(2.5)
        assert rec.stats.packets_written > written  # recording resumed
    segs = check_root(tmp_path, "cam")
    with SegmentIndex(tmp_path) as ix:
        gaps = ix.gaps("cam")
        events = [e.name for e in ix.events("cam")]
    assert len(gaps) == 1 and gaps[0].reason.startswith("disconnected")
    gap = gaps[0]
    # the last frame's end, on the camera's media clock mapped to ours (RTCP sync can shift it a few frames)
    assert gap.start.timestamp() <= killed + 0.5 and gap.duration >= 1.5
    before = [s for s in segs if s.end <= gap.start]
    after = [s for s in segs if s.start >= gap.end]
    assert before and after and len(before) + len(after) == len(segs)
    assert abs((before[-1].end - gap.start).total_seconds()) < 0.01
    assert abs((after[0].start - gap.end).total_seconds()) < 0.01
    assert "disconnected" in events


def test_b_frames_from_a_file_source(tmp_path: Path) -> None:
    """Reordered frames (dts < pts) keep every timestamp valid in segments and in exports."""
    src = tmp_path / "bf.mp4"
    subprocess.run(
        ["ffmpeg", "-hide_banner", "-loglevel", "error", "-y", "-f", "lavfi", "-i", "testsrc=size=160x90:rate=25",
         "-t", "4", "-c:v", "libx264", "-g", "25", "-bf", "2", "-pix_fmt", "yuv420p", str(src)],
        check=True, timeout=60,
    )  # fmt: skip
    stream = open_stream(src, decode=False)
    with Recorder(stream, tmp_path / "rec", "bf", segment_seconds=2.0) as rec:
        stream.start()
        assert stream.wait_for(StreamState.ENDED, timeout=30)
        deadline = time.monotonic() + 10
        while rec.stats.packets_written < 100 and time.monotonic() < deadline:
            time.sleep(0.05)
    stream.close()
    segs = check_root(tmp_path / "rec", "bf")
    assert sum(s.packets for s in segs) == 100 and len(segs) == 2
    result = export(tmp_path / "rec", "bf", segs[0].start, segs[-1].end, tmp_path / "all.mp4")
    probe = ffprobe(result.path)
    assert probe["ok"] and probe["packets"] == 100 and abs(probe["duration"] - 4.0) < 0.05


def test_decoding_stream_recorded_gets_copies(rtsp: RtspServer, tmp_path: Path) -> None:
    """A stream that decodes shares its packets with the decoder: the writer gets copies (it rebases their
    timestamps on its own thread); frames and segments both come out whole."""
    seen: list[Any] = []
    stream = open_stream(rtsp.url("cam2"))  # decodes
    with stream, Recorder(stream, tmp_path, "dec", segment_seconds=1.0) as rec:
        assert stream.owns_packets(rec._on_packet) is False
        deadline = time.monotonic() + 30  # a hang bound
        while rec.stats.segments < 2 and time.monotonic() < deadline:
            seen.append(stream.read(timeout=10).stream_time)
    assert rec.stats.segments >= 2 and rec.stats.packets_dropped == 0
    assert seen == sorted(seen) and seen[-1] - seen[0] >= 1.0  # frame times untouched by the writer's rebasing
    segs = check_root(tmp_path, "dec")
    assert sum(s.packets for s in segs) == rec.stats.packets_written


def test_demux_only_stream_lends_its_packets(rtsp: RtspServer, tmp_path: Path) -> None:
    stream = open_stream(rtsp.url("cam2"), decode=False)
    with stream, Recorder(stream, tmp_path, "own") as rec:
        assert stream.owns_packets(rec._on_packet) is True
        stream.add_packet_listener(print)  # a second user: copies again
        assert stream.owns_packets(rec._on_packet) is False
        stream.remove_packet_listener(print)


class _InboxSpy:
    """The recorder's inbox, noting the (dts, seconds per tick) of each batch of packets the demux thread hands over
    (noted at once: the writer rebases the timestamps of the packets it is lent)."""

    def __init__(self, inbox: Any) -> None:
        self.inbox = inbox
        self.batches: list[list[tuple[int, float]]] = []

    def put(self, item: Any) -> None:
        if isinstance(item, list):
            # (packet, arrival, template) for a lent packet, (copy, arrival, template, pts, dts, ...) for a copy
            # (the first picture may come undated: see Recorder._date)
            dated = [(e[0].dts if len(e) == 3 else e[4], e[2].tick) for e in item]
            self.batches.append([(dts, tick) for dts, tick in dated if dts is not None])
        self.inbox.put(item)

    def get(self, timeout: float | None = None) -> Any:
        return self.inbox.get(timeout=timeout)


def test_writer_gets_one_batch_per_fragment(tmp_path: Path) -> None:
    """Packets reach the writer once per MP4 fragment, with the packet that begins the next one, also when the
    muxer cuts fragments by duration inside a long GOP: one writer wake-up per fragment (CPU), and no batch
    holds back more than a fragment (what a crash can lose)."""
    spec = StreamSpec(width=320, height=180, fps=10, bitrate=250_000, gop=30)  # 3 s GOP, 1 s fragments
    with RtspServer("127.0.0.1", 0) as srv:
        srv.add_stream("long", spec)
        stream = open_stream(srv.url("long"), decode=False)
        rec = Recorder(stream, tmp_path, "long", fragment_seconds=1.0, segment_seconds=60.0)
        spy = _InboxSpy(rec._inbox)
        rec._inbox = spy  # type: ignore[assignment]
        with stream, rec:
            deadline = time.monotonic() + 30  # a hang bound
            while rec.stats.packets_written < 70 and time.monotonic() < deadline:
                time.sleep(0.1)
    assert rec.stats.packets_written >= 70 and rec.stats.packets_dropped == 0
    packets = [p for batch in spy.batches for p in batch]
    tick = packets[0][1]
    media = (packets[-1][0] - packets[0][0]) * tick
    for batch in filter(None, spy.batches):
        assert (batch[-1][0] - batch[0][0]) * tick <= 1.0 + 1e-6, [dts for dts, _ in batch]
    # at each keyframe and every 0.5 s (the rule before) would be two a second here
    assert len(spy.batches) <= media / 1.0 + 3, (len(spy.batches), media)
    check_root(tmp_path, "long")


def test_a_stuck_writer_bounds_the_queue(rtsp: RtspServer, tmp_path: Path) -> None:
    """While the writer cannot write, at most ``max_queue`` packets wait for it; the rest are dropped and counted,
    every packet received is either queued or dropped, and recording goes on once the writer is free again."""
    free = threading.Event()
    stream = open_stream(rtsp.url("cam2"), decode=False)
    rec = Recorder(stream, tmp_path, "stuck", max_queue=12)
    write_batch = rec._write_batch

    def stuck(batch: Any) -> None:
        free.wait(30)  # a hang bound
        write_batch(batch)

    rec._write_batch = stuck  # type: ignore[method-assign]
    with stream, rec:
        deadline = time.monotonic() + 30  # a hang bound
        while rec.stats.packets_dropped < 10 and time.monotonic() < deadline:
            time.sleep(0.05)
        stats = rec.stats
        assert stats.packets_dropped >= 10
        assert rec._queued - rec._taken <= 12  # the bound, counted in batches handed over
        assert stats.packets_in >= stats.packets_dropped + rec._queued
        free.set()
        written = rec.stats.packets_written
        while rec.stats.packets_written < written + 20 and time.monotonic() < deadline:
            time.sleep(0.05)
    assert rec.stats.packets_written >= written + 20
    stats = rec.stats
    assert stats.packets_in == stats.packets_dropped + rec._queued + stats.packets_skipped - rec._c["skipped_w"]
    check_root(tmp_path, "stuck")
