"""The virtual camera's RTSP server at the protocol level and with third-party clients (ffprobe, GStreamer)."""

from __future__ import annotations

import base64
import json
import shutil
import socket
import subprocess
import time
from collections.abc import Callable

import numpy as np
import pytest

from kedirivms.errors import AuthenticationFailed, ConnectionFailed
from kedirivms.sim._rtsp._encoder import AccessUnit, AccessUnitSource, payloads_for
from kedirivms.sim.rtsp import RtspServer, StreamSpec
from kedirivms.sim.scene import MovingShapesScene, Scene, i420_planes
from kedirivms.stream import Frame, grab_frame, open_stream


def rtsp(
    sock: socket.socket, method: str, url: str, cseq: int, *headers: str, after: list[bytes] | None = None
) -> tuple[int, dict[str, str], bytes]:
    """One request and its reply: status, header fields (lower-case names), body. Bytes read past the reply (the
    interleaved packets that may follow PLAY's reply in the same read) go to ``after`` when given."""
    lines = [f"{method} {url} RTSP/1.0", f"CSeq: {cseq}", *headers]
    sock.sendall(("\r\n".join(lines) + "\r\n\r\n").encode())
    buf = b""
    while b"\r\n\r\n" not in buf:
        buf += sock.recv(4096)
    head, _, body = buf.partition(b"\r\n\r\n")
    lines = head.decode().split("\r\n")
    fields = {k.strip().lower(): v.strip() for k, _, v in (line.partition(":") for line in lines[1:])}
    length = int(fields.get("content-length", 0))
    while len(body) < length:
        body += sock.recv(4096)
    assert fields["cseq"] == str(cseq)
    if after is not None:
        after.append(body[length:])
    return int(lines[0].split()[1]), fields, body[:length]


def test_protocol_exchange_over_tcp(rtsp_server: RtspServer) -> None:
    url = rtsp_server.url("cam")
    with socket.create_connection(("127.0.0.1", rtsp_server.port), timeout=5) as sock:
        code, fields, _ = rtsp(sock, "OPTIONS", url, 1)
        assert code == 200 and "DESCRIBE" in fields["public"] and "GET_PARAMETER" in fields["public"]
        assert rtsp(sock, "DESCRIBE", rtsp_server.url("missing"), 2)[0] == 404
        code, fields, sdp = rtsp(sock, "DESCRIBE", url, 3, "Accept: application/sdp")
        text = sdp.decode()
        assert code == 200 and fields["content-type"] == "application/sdp"
        assert "a=rtpmap:96 H264/90000" in text and "packetization-mode=1" in text
        fmtp = next(line for line in text.splitlines() if line.startswith("a=fmtp:96"))
        sprop = fmtp.split("sprop-parameter-sets=")[1].split(";")[0]
        sps, pps = (base64.b64decode(x) for x in sprop.split(","))
        assert sps[0] & 0x1F == 7 and pps[0] & 0x1F == 8
        assert fmtp.split("profile-level-id=")[1][:6].upper() == sps[1:4].hex().upper()
        assert rtsp(sock, "PLAY", url, 4, "Session: nosuch")[0] == 454
        assert rtsp(sock, "SETUP", url + "/trackID=0", 5, "Transport: RTP/AVP;multicast")[0] == 461
        code, fields, _ = rtsp(sock, "SETUP", url + "/trackID=0", 6, "Transport: RTP/AVP/TCP;unicast;interleaved=0-1")
        assert code == 200 and "interleaved=0-1" in fields["transport"]
        session = fields["session"].split(";")[0]
        after: list[bytes] = []
        code, fields, _ = rtsp(sock, "PLAY", url, 7, f"Session: {session}", "Range: npt=0.000-", after=after)
        assert code == 200 and "rtptime=" in fields["rtp-info"]
        # interleaved RTP follows: read until a complete first access unit (marker bit) arrived
        data = after[0]  # the first packets may come in the same read as the reply
        marker = False
        deadline = time.monotonic() + 10
        nal_types = set()
        rtcp: list[bytes] = []
        while time.monotonic() < deadline:
            data += sock.recv(65536)
            while len(data) >= 4 and data[0] == 0x24 and len(data) >= 4 + int.from_bytes(data[2:4], "big"):
                size = int.from_bytes(data[2:4], "big")
                channel, pkt, data = data[1], data[4 : 4 + size], data[4 + size :]
                if channel == 1:
                    rtcp.append(pkt)
                elif channel == 0:
                    assert pkt[0] >> 6 == 2 and pkt[1] & 0x7F == 96  # RTP v2, dynamic payload type
                    nal = pkt[12]
                    nal_types.add(nal & 0x1F if nal & 0x1F != 28 else pkt[13] & 0x1F)
                    if pkt[1] & 0x80:
                        marker = True
                if marker and rtcp:
                    deadline = 0
            if deadline == 0:
                break
        assert {7, 8, 5} <= nal_types  # the first picture a client gets is SPS + PPS + IDR
        assert rtcp and rtcp[0][1] == 200 and len(rtcp[0]) >= 28  # an RTCP sender report (NTP <-> RTP time)
        ntp_seconds = int.from_bytes(rtcp[0][8:12], "big") - 2_208_988_800
        assert abs(ntp_seconds - time.time()) < 60
        assert rtsp_server.session_count >= 1
    # closing the connection tears the session down
    for _ in range(50):
        if rtsp_server.session_count == 0:
            break
        time.sleep(0.1)
    assert rtsp_server.session_count == 0


def test_fu_a_fragmentation_round_trip() -> None:
    nal = bytes([0x65]) + bytes(range(256)) * 20  # an IDR slice of 5121 bytes
    payloads = payloads_for([bytes([0x67, 1, 2]), nal])
    assert payloads[0] == (bytes([0x67, 1, 2]), False)
    frags = payloads[1:]
    assert all(len(p) <= 1400 for p, _ in frags) and len(frags) == 4
    assert [p[0] for p, _ in frags] == [0x7C] * 4  # NRI 3, type 28
    assert frags[0][0][1] == 0x85 and frags[-1][0][1] == 0x45 and frags[1][0][1] == 0x05  # S, E bits + type 5
    assert [m for _, m in payloads] == [False, False, False, False, True]
    assert bytes([0x65]) + b"".join(p[2:] for p, _ in frags) == nal
    assert AccessUnit(0, True, 0.0, payloads).size == sum(len(p) for p, _ in payloads)


def test_encoders_are_shared_and_lazy() -> None:
    spec = StreamSpec(width=160, height=120, fps=10, bitrate=100_000, gop=10)
    with RtspServer() as one, RtspServer() as two:
        one.add_stream("a", spec)
        two.add_stream("b", spec)
        two.add_stream("c", spec)
        (encoder,) = set(one.encoders()) | set(two.encoders())
        assert not encoder.running  # nothing plays yet: nothing is encoded
        # encoders are shared process-wide: another test may have run this one before (count from here)
        starts_before = encoder.starts
        streams = [open_stream(one.url("a")), open_stream(two.url("b")), open_stream(two.url("c"), transport="udp")]
        try:
            for stream in streams:
                stream.start()
            frames = [s.read(timeout=10) for s in streams]
            assert encoder.running and encoder.subscriber_count == 3 and encoder.starts == starts_before + 1
        finally:
            for stream in streams:
                stream.close()
        assert all(f.width == 160 for f in frames)
        for _ in range(60):
            if not encoder.running:
                break
            time.sleep(0.1)
        assert not encoder.running and encoder.subscriber_count == 0  # stops when the last client leaves


def test_many_clients_one_server(rtsp_server: RtspServer) -> None:
    streams = [open_stream(rtsp_server.url("cam")) for _ in range(8)]
    try:
        for stream in streams:
            stream.start()
        frames = [s.read(timeout=15) for s in streams]
    finally:
        for stream in streams:
            stream.close()
    assert all(f.width == 320 for f in frames)


@pytest.mark.parametrize("transport", ["tcp", "udp"])
def test_ffprobe_as_client(rtsp_server: RtspServer, transport: str) -> None:
    if shutil.which("ffprobe") is None:
        pytest.fail("ffprobe is missing: `make test` installs it (Debian package ffmpeg)")
    out = subprocess.run(
        ["ffprobe", "-v", "error", "-rtsp_transport", transport, "-select_streams", "v", "-count_frames",
         "-read_intervals", "%+1", "-show_entries", "stream=codec_name,width,height,nb_read_frames",
         "-of", "json", rtsp_server.url("cam")],
        capture_output=True, text=True, timeout=30, check=True,
    )  # fmt: skip
    info = json.loads(out.stdout)["streams"][0]
    assert (info["codec_name"], info["width"], info["height"]) == ("h264", 320, 240)
    assert int(info["nb_read_frames"]) >= 5


@pytest.mark.parametrize("transport", ["tcp", "udp"])
def test_gstreamer_rtspsrc_as_client(rtsp_server: RtspServer, transport: str) -> None:
    if shutil.which("gst-launch-1.0") is None:
        pytest.fail("gst-launch-1.0 is missing: `make test` installs it (Debian package gstreamer1.0-tools)")
    pipeline = (
        f"rtspsrc location={rtsp_server.url('cam')} protocols={transport} latency=0 ! rtph264depay ! h264parse "
        "! avdec_h264 ! identity eos-after=10 ! fakesink"
    )
    done = subprocess.run(["gst-launch-1.0", "-q", *pipeline.split()], capture_output=True, text=True, timeout=30)
    assert done.returncode == 0, done.stderr[-500:]


AUTH_CASES = [
    ("digest", "admin", "pa:ss w@rd", None),
    ("digest", "admin", "wrong", AuthenticationFailed),
    ("digest", None, None, AuthenticationFailed),
    ("basic", "admin", "pa:ss w@rd", None),
    ("basic", "nobody", "pa:ss w@rd", AuthenticationFailed),
]


@pytest.mark.parametrize(("scheme", "user", "password", "error"), AUTH_CASES)
def test_rtsp_authentication(scheme: str, user: str | None, password: str | None, error: type | None) -> None:
    spec = StreamSpec(width=160, height=120, fps=10, bitrate=100_000, gop=10)
    with RtspServer(users={"admin": "pa:ss w@rd"}, auth=scheme) as srv:  # type: ignore[arg-type]
        srv.add_stream("cam", spec)
        url = srv.url("cam", user=user, password=password)
        if error is None:
            assert grab_frame(url, timeout=10).width == 160
            return
        with pytest.raises(error) as info:
            grab_frame(url, timeout=10)
    assert "pa:ss" not in str(info.value) and "wrong" not in str(info.value)


class SolidScene:
    """A flat picture: RGB when ``rgb`` is given, else I420 with constant Y/U/V."""

    def __init__(self, rgb: tuple[int, int, int] | None = None, yuv: tuple[int, int, int] = (0, 0, 0)) -> None:
        self.rgb, self.yuv = rgb, yuv

    def render(self, index: int, t: float, width: int, height: int) -> np.ndarray:
        if self.rgb is not None:
            return np.full((height, width, 3), self.rgb, np.uint8)
        out = np.empty((height * 3 // 2, width), np.uint8)
        y, u, v = i420_planes(out, width, height)
        y[...], u[...], v[...] = self.yuv
        return out


@pytest.mark.parametrize(
    ("scene", "check"),
    [
        (SolidScene(rgb=(220, 30, 30)), lambda f: np.abs(f.to_rgb().mean(axis=(0, 1)) - (220, 30, 30)).max() < 12),
        (SolidScene(yuv=(200, 128, 128)), lambda f: abs(float(f.y.mean()) - 200) < 3),
        (MovingShapesScene(label="cam-7"), lambda f: f.y.std() > 10),
    ],
    ids=["rgb", "i420", "shapes"],
)
def test_scenes_rgb_and_i420(scene: object, check: Callable[[Frame], bool]) -> None:
    assert isinstance(scene, Scene)
    with RtspServer() as srv:
        srv.add_stream("s", StreamSpec(width=160, height=120, fps=10, bitrate=300_000, gop=10, scene=scene))
        frame = grab_frame(srv.url("s"), timeout=10)
    assert check(frame)


def test_ipv6_loopback() -> None:
    if not socket.has_ipv6:
        pytest.skip("no IPv6")
    try:
        srv = RtspServer(host="::1").start()
    except ConnectionFailed:
        pytest.skip("::1 not configured")
    with srv:
        srv.add_stream("v6", StreamSpec(width=160, height=120, fps=10, bitrate=100_000, gop=10))
        assert srv.url("v6").startswith("rtsp://[::1]:")
        assert grab_frame(srv.url("v6"), timeout=10).width == 160


@pytest.mark.parametrize(
    ("garbage", "expect"),
    [
        (b"DESCRIBE rtsp://x/cam RTSP/1.0\r\nCSeq: 1\r\nContent-Length: nope\r\n\r\n", b""),  # dropped
        (b"GARBAGE\r\nCSeq: 5\r\n\r\n", b"RTSP/1.0 400 Bad Request"),
        (b"X" * 70_000, b""),  # no end of headers within 64 KiB: dropped
        (b"$\x00\xff\xff" + b"\x00" * 10, None),  # an unfinished interleaved frame: the server waits
    ],
    ids=["bad-length", "bad-line", "huge", "partial-interleaved"],
)
def test_hostile_input_does_not_hurt_the_server(rtsp_server: RtspServer, garbage: bytes, expect: bytes | None) -> None:
    """``expect``: the start of the server's reply, b"" when it must close (EOF or reset), None when it must wait."""
    with socket.create_connection(("127.0.0.1", rtsp_server.port), timeout=5) as sock:
        try:
            sock.sendall(garbage)
            sock.settimeout(5 if expect is not None else 1.5)  # a bound on a reply/close; the wait to prove silence
            reply: bytes | None = sock.recv(4096)  # b"": EOF, the server closed the connection
        except (ConnectionResetError, BrokenPipeError):
            reply = b""  # reset: closed as well
        except TimeoutError:
            reply = None  # neither a reply nor a close: the server kept waiting
    assert reply is not None if expect is not None else reply is None
    if expect is not None:
        assert reply is not None and reply.startswith(expect)
        assert (reply == b"") == (expect == b"")  # a close is not a reply, a reply is not a close
    assert grab_frame(rtsp_server.url("cam"), timeout=10).width == 320  # still serving everyone else


class _EagerSource(AccessUnitSource):
    """A source that hands a keyframe to a session the moment it subscribes (as a replay's first GOP does)."""

    sps = bytes([0x67, 0x42, 0xC0, 0x1E, 0xD9, 0x00, 0xA0, 0x47, 0xFE, 0xC8])
    pps = bytes([0x68, 0xCE, 0x38, 0x80])

    def __init__(self) -> None:
        super().__init__(16, 16, 10.0)

    def subscribe(self, push: Callable[[AccessUnit], None]) -> None:
        push(AccessUnit(0, True, time.time(), payloads_for([bytes([0x65, 0x88, 0x84, 0x00])])))
        time.sleep(0.05)  # the server's thread is descheduled here, as on a loaded box: the sender runs first

    def unsubscribe(self, push: Callable[[AccessUnit], None]) -> None:
        pass


class _EagerServer(RtspServer):
    def _encoder(self, name: str) -> AccessUnitSource:
        return _EagerSource()


def test_play_reply_comes_before_the_first_interleaved_packet() -> None:
    # FFmpeg drops interleaved RTP data that arrives ahead of PLAY's reply: a source with a picture ready at
    # once (a replay) lost its first keyframe when the sender thread beat the reply onto the socket
    with _EagerServer() as server:
        server.add_stream("eager", StreamSpec(width=16, height=16))
        url = server.url("eager")
        with socket.create_connection(("127.0.0.1", server.port), timeout=5) as sock:
            rtsp(sock, "DESCRIBE", url, 1)
            tcp = "Transport: RTP/AVP/TCP;unicast;interleaved=0-1"
            code, fields, _ = rtsp(sock, "SETUP", url + "/trackID=0", 2, tcp)
            assert code == 200
            session = fields["session"].split(";")[0]
            sock.sendall(f"PLAY {url} RTSP/1.0\r\nCSeq: 3\r\nSession: {session}\r\n\r\n".encode())
            data = b""
            while len(data) < 16:
                data += sock.recv(4096)
            assert data.startswith(b"RTSP/1.0 200"), data[:40]
            head, _, rest = data.partition(b"\r\n\r\n")
            seq = int(head.decode().split("seq=")[1].split(";")[0])
            while len(rest) < 8:
                rest += sock.recv(4096)
            assert rest[:1] == b"$" and int.from_bytes(rest[6:8], "big") == seq  # the first packet is RTP-Info's
