"""A recording's replay loses nothing: its pictures come out whole, and a slow client slows the replay down."""

from __future__ import annotations

import shutil
import socket
import subprocess
import time
from pathlib import Path

import pytest
from tests.stream.test_rtsp_server import rtsp

from kedirivms.sim._profile_g_replay import ReplayServer, SegmentSource
from kedirivms.sim._rtsp._session import Session

pytestmark = pytest.mark.skipif(shutil.which("ffmpeg") is None, reason="needs ffmpeg")


def _recording(path: Path, frames: int) -> Path:
    """An MP4 segment made by ffmpeg (a peer, not our recorder): 10 fps, a keyframe every 10 pictures."""
    subprocess.run(
        ["ffmpeg", "-loglevel", "error", "-f", "lavfi", "-i", "testsrc=size=320x180:rate=10", "-frames:v",
         str(frames), "-c:v", "libx264", "-g", "10", "-bf", "0", "-pix_fmt", "yuv420p", str(path)],
        check=True, timeout=60,
    )  # fmt: skip
    return path


def test_slow_reader_gets_every_recorded_picture(tmp_path: Path) -> None:
    frames = 60
    segment = _recording(tmp_path / "a.mp4", frames)
    server = ReplayServer(speed=50.0)  # 500 pictures a second: far faster than the reader below
    server.add_recording("replay/gate", lambda: [(segment, time.time() - 60)])
    server.start()
    try:
        url = server.url("replay/gate")
        with socket.socket() as sock:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)  # a small window: the server's sends block
            sock.settimeout(10)
            sock.connect(("127.0.0.1", server.port))
            assert rtsp(sock, "DESCRIBE", url, 1, "Accept: application/sdp")[0] == 200
            transport = "Transport: RTP/AVP/TCP;unicast;interleaved=0-1"
            code, fields, _ = rtsp(sock, "SETUP", url + "/trackID=0", 2, transport)
            assert code == 200
            session = fields["session"].split(";")[0]
            after: list[bytes] = []
            assert rtsp(sock, "PLAY", url, 3, f"Session: {session}", after=after)[0] == 200
            data, pictures, stamps = after[0], 0, set()
            sock.settimeout(2.0)  # the replay stops at the recording's end and keeps the session open
            while True:
                time.sleep(0.01)  # a slow reader
                try:
                    chunk = sock.recv(2048)
                except TimeoutError:
                    break
                if not chunk:
                    break
                data += chunk
                while len(data) >= 4 and len(data) >= 4 + int.from_bytes(data[2:4], "big"):
                    assert data[0] == 0x24
                    size = int.from_bytes(data[2:4], "big")
                    channel, pkt, data = data[1], data[4 : 4 + size], data[4 + size :]
                    if channel == 0 and pkt[1] & 0x80:  # the marker bit ends an access unit
                        pictures += 1
                        stamps.add(int.from_bytes(pkt[4:8], "big"))
        assert pictures == frames and len(stamps) == frames
    finally:
        server.stop()


@pytest.mark.parametrize("lossless", [True, False], ids=["replay", "live-semantics"])
def test_a_replay_waits_for_a_slow_session_where_live_video_skips_ahead(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, lossless: bool
) -> None:
    frames = 60
    source = SegmentSource([(_recording(tmp_path / "a.mp4", frames), 0.0)], speed=50.0)
    monkeypatch.setattr(source, "lossless", lossless)  # False: what a live encoder does with a slow client
    pictures: list[int] = []

    def slow_send(data: bytes) -> None:  # a client that takes 20 ms per picture: 10x slower than the replay
        time.sleep(0.02)
        pos = 0
        while pos < len(data):
            size = int.from_bytes(data[pos + 2 : pos + 4], "big")
            pkt = data[pos + 4 : pos + 4 + size]
            if data[pos + 1] == 0 and pkt[1] & 0x80:  # channel 0 (RTP, not RTCP), marker bit
                pictures.append(int.from_bytes(pkt[4:8], "big"))
            pos += 4 + size

    session = Session("s1", source, tcp_send=slow_send)
    session.play()
    try:
        assert source.finished.wait(30)
        deadline = time.monotonic() + 30
        while session._queue and time.monotonic() < deadline:
            time.sleep(0.05)
    finally:
        session.close()
    if lossless:
        assert len(pictures) == len(set(pictures)) == frames
    else:  # the backlog was dropped and the session resumed at a later keyframe
        assert len(pictures) < frames
