"""The reader against our virtual camera and GStreamer's RTSP server: delivery, options, listeners, close."""

from __future__ import annotations

import threading
import time
from pathlib import Path

import numpy as np
import pytest

from kedirivms.errors import ConfigError, StreamClosed, StreamOpenError, StreamTimeout
from kedirivms.sim.rtsp import RtspServer
from kedirivms.stream import Frame, StateChange, StreamState, grab_frame, open_stream


@pytest.mark.parametrize("transport", ["tcp", "udp"])
def test_decode_from_virtual_camera(rtsp_server: RtspServer, transport: str) -> None:
    with open_stream(rtsp_server.url("cam"), transport=transport, queue_size=64) as stream:
        frames = [stream.read(timeout=10) for _ in range(8)]
        stats = stream.stats
    assert all(f.width == 320 and f.height == 240 and f.format == "yuv420p" for f in frames)
    assert frames[0].key_frame  # the server starts every client at an IDR
    pts = [f.pts for f in frames]
    assert pts == sorted(pts) and len(set(pts)) == 8
    assert [f.index for f in frames] == list(range(1, 9))
    assert abs(frames[-1].time - time.time()) < 5  # wall clock mapped from the stream clock
    assert frames[0].y.mean() > 10  # a real picture, not black
    assert stats.decoded >= 8 and stats.packets >= 8 and stats.codec == "h264" and stats.width == 320
    assert stream.state is StreamState.CLOSED


def test_decode_from_gstreamer_server(gst_server: str) -> None:
    with open_stream(gst_server, timeout=(10, 5)) as stream:
        frame = stream.read(timeout=15)
        second = stream.read(timeout=5)
    assert (frame.width, frame.height) == (320, 240)
    assert second.pts > frame.pts
    assert frame.y.std() > 5  # videotestsrc's ball pattern


def test_stride_padded_stream(rtsp_server: RtspServer) -> None:
    with open_stream(rtsp_server.url("wide")) as stream:
        frame = stream.read(timeout=10)
    assert frame.y.shape == (240, 1366) and frame.y.strides[0] >= 1366
    assert np.array_equal(frame.y, frame.av_frame.to_ndarray()[:240])


def test_iterator_callbacks_listeners_and_states(rtsp_server: RtspServer) -> None:
    seen: list[Frame] = []
    packets: list[tuple[int, bool]] = []
    states: list[StateChange] = []
    got = threading.Event()
    stream = open_stream(rtsp_server.url("cam"))
    stream.on_state(states.append)
    stream.add_packet_listener(lambda pkt, vs: packets.append((pkt.size, pkt.is_keyframe)))

    def on_frame(frame: Frame) -> None:
        seen.append(frame)
        if len(seen) >= 5:
            got.set()

    stream.on_frame(on_frame)
    with stream:
        for count, _frame in enumerate(stream, 1):
            if count == 5:
                break
        assert got.wait(10)
    assert [s.state for s in states][:2] == [StreamState.CONNECTING, StreamState.STREAMING]
    assert states[-1].state is StreamState.CLOSED
    assert packets and packets[0][1] and all(size > 0 for size, _ in packets)
    assert len(seen) >= 5


def test_latest_frame_semantics_drop_oldest(rtsp_server: RtspServer) -> None:
    with open_stream(rtsp_server.url("cam"), queue_size=2) as stream:
        first = stream.read(timeout=10)
        time.sleep(1.5)  # ~22 frames arrive while we are "busy"
        newer = stream.read(timeout=5)
        stats = stream.stats
    assert stats.dropped >= 2
    assert newer.index - first.index > 2  # we skipped straight to recent pictures
    assert stats.dropped >= newer.index - first.index - 1  # every skipped picture was counted as dropped


def test_keyframes_only(rtsp_server: RtspServer) -> None:
    with open_stream(rtsp_server.url("cam"), keyframes_only=True) as stream:
        frames = [stream.read(timeout=10) for _ in range(2)]
        stats = stream.stats
    assert all(f.key_frame for f in frames)
    assert stats.skipped > 0 and stats.decoded <= stats.packets - stats.skipped


@pytest.mark.parametrize(("cap", "max_rate"), [(5.0, 6.5), (0.5, 1.0)])
def test_frame_rate_cap(rtsp_server: RtspServer, cap: float, max_rate: float) -> None:
    with open_stream(rtsp_server.url("cam"), max_fps=cap, queue_size=100) as stream:
        first = stream.read(timeout=10)
        last = first
        frames = 1
        while last.stream_time - first.stream_time < 2.0:
            last = stream.read(timeout=10)
            frames += 1
        stats = stream.stats
    span = last.stream_time - first.stream_time
    assert (frames - 1) / span <= max_rate  # counted in stream time, not wall time
    assert stats.capped + stats.skipped > 0
    if cap < 1.0:  # a GOP (1 s) is shorter than the cap interval: whole GOPs are skipped undecoded
        assert stats.skipped > 0


def test_decode_false_only_demuxes(rtsp_server: RtspServer) -> None:
    got = threading.Event()
    with open_stream(rtsp_server.url("cam"), decode=False) as stream:
        stream.add_packet_listener(lambda pkt, vs: got.set())
        assert got.wait(10)
        with pytest.raises(StreamTimeout):
            stream.read(timeout=0.3)
        assert stream.stats.decoded == 0


def test_file_source_delivers_every_frame_then_ends(media: dict[str, Path]) -> None:
    with open_stream(media["h264"]) as stream:
        frames = list(stream)
        assert stream.state is StreamState.ENDED
    assert len(frames) == 10  # files block instead of dropping


def test_close_from_another_thread_ends_iteration(rtsp_server: RtspServer) -> None:
    stream = open_stream(rtsp_server.url("cam")).start()
    timer = threading.Timer(0.8, stream.close)
    timer.start()
    count = sum(1 for _ in stream)
    timer.join()
    assert count > 0 and stream.state is StreamState.CLOSED
    with pytest.raises(StreamClosed):
        stream.read(timeout=1)


def test_unknown_path_fails_without_reconnect(rtsp_server: RtspServer) -> None:
    with open_stream(rtsp_server.url("nope"), reconnect=False) as stream, pytest.raises(StreamOpenError) as info:
        stream.read(timeout=10)
    assert "127.0.0.1" in str(info.value)


def test_credentials_never_printed(rtsp_server: RtspServer) -> None:
    url = rtsp_server.url("nope", user="admin", password="s3cret!")
    stream = open_stream(url, reconnect=False)
    with stream, pytest.raises(StreamOpenError) as info:
        stream.read(timeout=10)
    texts = [repr(stream), stream.source, str(info.value), stream.stats.model_dump_json()]
    assert all("s3cret" not in t for t in texts)
    assert "admin:***@" in stream.source


def test_grab_frame_returns_an_owned_copy(rtsp_server: RtspServer, tmp_path: Path) -> None:
    frame = grab_frame(rtsp_server.url("cam"), timeout=10)
    assert frame.width == 320 and frame.y.flags.owndata is False
    frame.save(tmp_path / "snap.jpg")
    assert (tmp_path / "snap.jpg").stat().st_size > 1000


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [({"transport": "sctp"}, "transport"), ({"queue_size": 0}, "queue_size"), ({"timeout": (0, 1)}, "timeout")],
)
def test_bad_options(kwargs: dict, field: str) -> None:
    with pytest.raises(ConfigError, match=field):
        open_stream("rtsp://127.0.0.1:1/x", **kwargs)


def test_capped_stream_stops_decoding_while_the_consumer_is_behind(rtsp_server: RtspServer) -> None:
    with open_stream(rtsp_server.url("cam"), max_fps=30, queue_size=1) as stream:
        stream.read(timeout=10)
        time.sleep(2.0)  # the consumer is "busy": its one-frame queue stays full
        stats = stream.stats
        assert stats.skipped > 0  # P-frames were not decoded while nobody could take them
        assert stats.decoded < stats.packets
        before = stats.decoded
        frames = [stream.read(timeout=10) for _ in range(3)]  # once it reads again, decoding resumes
    assert stream.stats.decoded > before
    assert any(f.key_frame for f in frames)  # decoding resumed at a keyframe
