"""One RTSP session: its RTP transport (TCP interleaved or UDP unicast) and a sender thread."""

from __future__ import annotations

import collections
import logging
import os
import socket
import struct
import threading
import time
from collections.abc import Callable

from kedirivms.sim._rtsp._encoder import AccessUnit, AccessUnitSource

log = logging.getLogger("kedirivms.sim.rtsp")

PAYLOAD_TYPE = 96
NTP_EPOCH = 2_208_988_800  # seconds from 1900-01-01 to 1970-01-01
SR_INTERVAL = 2.0
MAX_BACKLOG = 6  # access units queued for a slow client before it is resynchronised at the next IDR


class Session:
    """RTP state for one client's video track."""

    def __init__(
        self,
        session_id: str,
        encoder: AccessUnitSource,
        *,
        tcp_send: Callable[[bytes], None] | None = None,
        channels: tuple[int, int] = (0, 1),
        udp_dest: tuple[str, int, int] | None = None,
        bind_host: str = "127.0.0.1",
    ) -> None:
        self.id = session_id
        self.encoder = encoder
        self._tcp_send = tcp_send
        self.channels = channels
        self.udp_dest = udp_dest
        self.ssrc = int.from_bytes(os.urandom(4), "big")
        self.seq = int.from_bytes(os.urandom(2), "big")
        self.ts_offset = int.from_bytes(os.urandom(4), "big")
        self.clock_step = 90000.0 / encoder.fps
        self.packets = 0
        self.octets = 0
        self.playing = False
        self.last_seen = time.monotonic()
        self._queue: collections.deque[AccessUnit] = collections.deque()
        self._cond = threading.Condition()
        self._closed = False
        self._need_key = True
        self._thread: threading.Thread | None = None
        self._rtp_sock: socket.socket | None = None
        self._rtcp_sock: socket.socket | None = None
        if udp_dest is not None:
            family = socket.AF_INET6 if ":" in bind_host else socket.AF_INET
            self._rtp_sock = socket.socket(family, socket.SOCK_DGRAM)
            self._rtcp_sock = socket.socket(family, socket.SOCK_DGRAM)
            self._rtp_sock.bind((bind_host, 0))
            self._rtcp_sock.bind((bind_host, 0))

    @property
    def transport(self) -> str:
        """``"tcp"`` or ``"udp"``."""
        return "udp" if self.udp_dest is not None else "tcp"

    @property
    def server_ports(self) -> tuple[int, int]:
        """Local (RTP, RTCP) ports of a UDP session."""
        assert self._rtp_sock is not None and self._rtcp_sock is not None
        return self._rtp_sock.getsockname()[1], self._rtcp_sock.getsockname()[1]

    def rtp_time(self, index: int) -> int:
        """RTP timestamp (90 kHz) of picture ``index``."""
        return (self.ts_offset + int(index * self.clock_step)) & 0xFFFFFFFF

    def play(self) -> tuple[int, int]:
        """Start (or resume) sending; returns (next sequence number, RTP time of the next picture)."""
        # read before subscribing: once subscribed, the sender may number the first picture's packets at once
        start = self.seq, self.rtp_time(self.encoder.next_index)
        if self._thread is None:
            self._thread = threading.Thread(target=self._send_loop, name=f"kedirivms-sim-rtp[{self.id}]", daemon=True)
            self._thread.start()
        if not self.playing:
            self.playing = True
            with self._cond:
                self._need_key = True
            self.encoder.subscribe(self._push)
        return start

    def pause(self) -> None:
        """Stop delivery until the next :meth:`play` (the encoder stops if nobody else plays)."""
        if self.playing:
            self.playing = False
            self.encoder.unsubscribe(self._push)
            with self._cond:
                self._queue.clear()
                self._cond.notify_all()

    def close(self) -> None:
        """Stop sending and release the encoder subscription and sockets (idempotent)."""
        with self._cond:
            if self._closed:
                return
            self._closed = True
            self._cond.notify_all()
        self.encoder.unsubscribe(self._push)
        if self._thread is not None and self._thread is not threading.current_thread():
            self._thread.join(5.0)
        for sock in (self._rtp_sock, self._rtcp_sock):
            if sock is not None:
                sock.close()

    # called on the encoder thread: never blocks a live encoder (it has other clients); a lossless source has only
    # this session and waits for it
    def _push(self, au: AccessUnit) -> None:
        with self._cond:
            if self._need_key and not au.key:
                return
            if self.encoder.lossless:
                while len(self._queue) >= MAX_BACKLOG and not self._closed and self.playing:
                    self._cond.wait(0.5)
                if self._closed or not self.playing:
                    return
            elif len(self._queue) >= MAX_BACKLOG:
                self._queue.clear()  # the client cannot keep up: resume at the next IDR, never mid-GOP
                self._need_key = True
                if not au.key:
                    return
            self._need_key = False
            self._queue.append(au)
            self._cond.notify_all()

    def _send_loop(self) -> None:
        next_sr = 0.0
        while True:
            with self._cond:
                while not self._queue and not self._closed:
                    self._cond.wait(0.5)
                if self._closed:
                    return
                au = self._queue.popleft()
                self._cond.notify_all()  # room for a lossless source waiting in _push
            try:
                self._send_au(au)
                now = time.monotonic()
                if now >= next_sr:
                    next_sr = now + SR_INTERVAL
                    self._send_rtcp(self._sender_report(au))
            except OSError as exc:
                log.debug("session %s: client went away: %s", self.id, exc)
                with self._cond:
                    self._closed = True
                    self._cond.notify_all()
                self.encoder.unsubscribe(self._push)
                return

    def _send_au(self, au: AccessUnit) -> None:
        ts = self.rtp_time(au.index)
        packets = []
        for payload, marker in au.payloads:
            header = struct.pack("!BBHII", 0x80, (0x80 if marker else 0) | PAYLOAD_TYPE, self.seq, ts, self.ssrc)
            self.seq = (self.seq + 1) & 0xFFFF
            packets.append(header + payload)
        self.packets += len(packets)
        self.octets += au.size
        if self.udp_dest is not None:
            assert self._rtp_sock is not None
            host, rtp_port, _ = self.udp_dest
            for pkt in packets:
                self._rtp_sock.sendto(pkt, (host, rtp_port))
        else:
            assert self._tcp_send is not None
            ch = self.channels[0]
            self._tcp_send(b"".join(b"$" + struct.pack("!BH", ch, len(p)) + p for p in packets))

    def _sender_report(self, au: AccessUnit) -> bytes:
        wall = au.wall + NTP_EPOCH
        sec = int(wall)
        frac = int((wall - sec) * (1 << 32)) & 0xFFFFFFFF
        sr = struct.pack(
            "!BBHIIIIII", 0x80, 200, 6, self.ssrc, sec, frac, self.rtp_time(au.index), self.packets, self.octets
        )
        cname = b"kedirivms@virtual-camera"
        chunk = struct.pack("!IBB", self.ssrc, 1, len(cname)) + cname + b"\x00"
        chunk += b"\x00" * (-len(chunk) % 4)
        sdes = struct.pack("!BBH", 0x81, 202, len(chunk) // 4) + chunk
        return sr + sdes

    def _send_rtcp(self, packet: bytes) -> None:
        if self.udp_dest is not None:
            assert self._rtcp_sock is not None
            host, _, rtcp_port = self.udp_dest
            self._rtcp_sock.sendto(packet, (host, rtcp_port))
        else:
            assert self._tcp_send is not None
            self._tcp_send(b"$" + struct.pack("!BH", self.channels[1], len(packet)) + packet)
