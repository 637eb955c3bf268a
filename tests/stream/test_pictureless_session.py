"""A session that stays alive without pictures is a stall: RTCP alone must not keep a stream "streaming".

Field cameras whose encoder hangs often keep the RTSP session alive: the TCP connection stays up and RTCP sender
reports keep coming, only the RTP pictures stop. FFmpeg's socket time-out restarts with every byte received, so
only a bound on the time between *pictures* catches it. A relay between the client and the virtual camera passes
everything through, then at a chosen moment drops every RTP frame of the interleaved TCP stream and sends an RTCP
sender report on the RTCP channel every 0.2 s instead.
"""

from __future__ import annotations

import socket
import struct
import threading
import time
from collections.abc import Iterator

import pytest

from kedirivms.errors import StreamTimeout
from kedirivms.sim.rtsp import RtspServer, StreamSpec
from kedirivms.stream import StateChange, StreamState, open_stream


def _sender_report() -> bytes:
    """An RTCP sender report (RFC 3550 6.4.1) without report blocks, framed for RTSP interleaved channel 1."""
    ntp = int((time.time() + 2_208_988_800) * (1 << 32))
    body = struct.pack("!BBHIQIII", 0x80, 200, 6, 0x1234, ntp, 0, 0, 0)
    return b"$\x01" + struct.pack("!H", len(body)) + body


class _PictureCutRelay:
    """A TCP relay on loopback in front of an RTSP server; :meth:`cut` stops RTP (channel 0) but keeps RTCP."""

    def __init__(self, upstream: tuple[str, int]) -> None:
        self._upstream = upstream
        self._listener = socket.create_server(("127.0.0.1", 0))
        self.port = self._listener.getsockname()[1]
        self._cut = threading.Event()
        self._stop = threading.Event()
        self._threads = [threading.Thread(target=self._accept, daemon=True)]
        self._threads[0].start()

    def cut(self) -> None:
        self._cut.set()

    def close(self) -> None:
        self._stop.set()
        self._listener.close()

    def _accept(self) -> None:
        while not self._stop.is_set():
            try:
                client, _ = self._listener.accept()
            except OSError:
                return
            server = socket.create_connection(self._upstream, timeout=5)
            for target in (self._to_server, self._to_client):
                threading.Thread(target=target, args=(client, server), daemon=True).start()

    def _to_server(self, client: socket.socket, server: socket.socket) -> None:
        with client, server:
            while not self._stop.is_set():
                try:
                    data = client.recv(65536)
                    if not data:
                        return
                    server.sendall(data)
                except OSError:
                    return

    def _to_client(self, client: socket.socket, server: socket.socket) -> None:
        server.settimeout(0.2)
        buf = b""
        last_report = 0.0
        while not self._stop.is_set():
            try:
                data = server.recv(65536)
                if not data:
                    return
                buf += data
            except TimeoutError:
                pass
            except OSError:
                return
            out, buf = self._filter(buf)
            if self._cut.is_set() and time.monotonic() - last_report >= 0.2:
                out += _sender_report()
                last_report = time.monotonic()
            try:
                client.sendall(out)
            except OSError:
                return

    def _filter(self, buf: bytes) -> tuple[bytes, bytes]:
        """Whole interleaved frames and RTSP messages of ``buf`` to forward (RTP dropped once cut), and the rest."""
        out = bytearray()
        while buf:
            if buf[0] == 0x24:  # '$' channel length payload
                if len(buf) < 4:
                    break
                size = 4 + struct.unpack("!H", buf[2:4])[0]
                if len(buf) < size:
                    break
                if not (self._cut.is_set() and buf[1] == 0):
                    out += buf[:size]
                buf = buf[size:]
            else:  # an RTSP reply: headers, then Content-Length bytes
                end = buf.find(b"\r\n\r\n")
                if end < 0:
                    break
                head = buf[: end + 4]
                length = 0
                for line in head.split(b"\r\n"):
                    if line.lower().startswith(b"content-length:"):
                        length = int(line.split(b":", 1)[1])
                if len(buf) < end + 4 + length:
                    break
                out += buf[: end + 4 + length]
                buf = buf[end + 4 + length :]
        return bytes(out), buf


@pytest.fixture
def relay() -> Iterator[tuple[_PictureCutRelay, str]]:
    with RtspServer("127.0.0.1", 0) as srv:
        srv.add_stream("cam", StreamSpec(width=160, height=120, fps=10, bitrate=100_000, gop=10))
        r = _PictureCutRelay(("127.0.0.1", srv.port))
        try:
            yield r, srv.url("cam").replace(f":{srv.port}/", f":{r.port}/")
        finally:
            r.close()


def test_rtcp_without_pictures_is_a_stall(relay: tuple[_PictureCutRelay, str]) -> None:
    cut_relay, url = relay
    states: list[StreamState] = []
    with open_stream(url, transport="tcp", timeout=(5.0, 2.0)) as stream:
        stream.on_state(lambda change: states.append(change.state))
        stream.read(timeout=10)  # pictures flow through the relay
        assert StreamState.STREAMING in states
        cut_relay.cut()
        deadline = time.monotonic() + 20  # a hang bound, not a speed assertion (the read time-out is 2 s)
        while StreamState.DISCONNECTED not in states and time.monotonic() < deadline:
            time.sleep(0.1)
    assert StreamState.DISCONNECTED in states, states


def test_read_time_out_is_disarmed_while_pictures_flow(relay: tuple[_PictureCutRelay, str]) -> None:
    """PyAV's per-read callback is off in steady state; the watchdog arms it on the stall, same typed error."""
    cut_relay, url = relay
    changes: list[StateChange] = []
    with open_stream(url, transport="tcp", timeout=(5.0, 2.0), decode=False) as stream:
        stream.on_state(changes.append)
        # hang bounds, not speed assertions: 10 s was once too short on a loaded box
        assert stream.wait_for(StreamState.STREAMING, timeout=30)
        deadline = time.monotonic() + 30
        while stream.stats.packets < 5 and time.monotonic() < deadline:
            time.sleep(0.05)
        watch = stream._watch
        assert watch is not None, "PyAV's time-out state was not found: the watchdog is not in use"
        assert stream.stats.packets >= 5
        # steady state: PyAV's time-out reads "none", so its interrupt callback returns without the GIL
        assert not watch.armed
        assert watch._info.timeout == -1.0
        assert watch.fired == 0
        cut_relay.cut()
        assert stream.wait_for(StreamState.DISCONNECTED, timeout=20)  # a hang bound, not a speed assertion
        error = stream.last_error
    assert watch.fired >= 1
    # the same typed error and message as PyAV's own time-out gave
    assert isinstance(error, StreamTimeout), error
    assert error.message == "no data within 2 s"
    reasons = [c.reason for c in changes if c.state is StreamState.DISCONNECTED]
    assert reasons and "no data within 2 s" in (reasons[0] or ""), reasons
