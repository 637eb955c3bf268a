"""Shared H.264 and H.265 encoders: one per (scene, spec) in the process, running only while someone is playing.

Each encoder renders its scene in real time, encodes with libx264 or libx265 (both in PyAV's wheels: ultrafast,
zerolatency, parameter sets repeated at every keyframe) and hands every subscriber the same :class:`AccessUnit`
(NAL units already cut into RTP payloads: RFC 6184 single NAL unit packets or FU-A fragments for H.264, RFC 7798
single NAL unit packets or FUs for H.265). Subscribers only add their own 12-byte RTP headers.
"""

from __future__ import annotations

import base64
import logging
import threading
import time
from collections.abc import Callable
from fractions import Fraction
from typing import Any

import av
import numpy as np

from kedirivms.sim.scene import MovingShapesScene, Scene

log = logging.getLogger("kedirivms.sim.rtsp")

MAX_PAYLOAD = 1400  # bytes of RTP payload; keeps IP packets under a 1500-byte MTU
IDLE_LINGER = 1.5  # seconds an encoder keeps running without subscribers (quick reconnects don't restart it)

_default_scene = MovingShapesScene()


class AccessUnit:
    """One encoded picture, ready for RTP: ``payloads`` is a list of ``(payload, marker)``."""

    __slots__ = ("index", "key", "wall", "payloads", "size")

    def __init__(self, index: int, key: bool, wall: float, payloads: list[tuple[bytes, bool]]) -> None:
        self.index = index
        self.key = key
        self.wall = wall
        self.payloads = payloads
        self.size = sum(len(p) for p, _ in payloads)


def find_startcodes(data: bytes) -> list[bytes]:
    """Fast NAL split using bytes.find (used on the hot path)."""
    out: list[bytes] = []
    pos = data.find(b"\x00\x00\x01")
    while pos >= 0:
        begin = pos + 3
        nxt = data.find(b"\x00\x00\x01", begin)
        if nxt < 0:
            out.append(data[begin:])
            break
        end = nxt - 1 if data[nxt - 1] == 0 else nxt
        out.append(data[begin:end])
        pos = nxt
    return [nal for nal in out if nal]


def payloads_for(nals: list[bytes]) -> list[tuple[bytes, bool]]:
    """RTP payloads for one access unit (RFC 6184 single NAL unit or FU-A); marker on the last one."""
    # FU-A: indicator = F and NRI of the NAL with type 28; the FU header carries the NAL's 5-bit type
    return fragment(nals, MAX_PAYLOAD, 1, lambda nal: (bytes([(nal[0] & 0xE0) | 28]), nal[0] & 0x1F))


def fragment(
    nals: list[bytes], max_payload: int, header_len: int, fu: Callable[[bytes], tuple[bytes, int]]
) -> list[tuple[bytes, bool]]:
    """RTP payloads for one access unit: NAL units that fit go whole, larger ones as fragmentation units.

    Args:
        nals: the access unit's NAL units (no start codes).
        max_payload: largest RTP payload, bytes.
        header_len: bytes of NAL header the fragments leave out (1 for H.264, 2 for H.265).
        fu: for a NAL unit, its fragmentation-unit prefix and the type the FU header carries.

    Returns:
        ``(payload, marker)`` pairs; the marker is set on the last one.
    """
    out: list[tuple[bytes, bool]] = []
    for nal in nals:
        if len(nal) <= max_payload:
            out.append((nal, False))
            continue
        prefix, kind = fu(nal)
        body = memoryview(nal)[header_len:]
        step = max_payload - len(prefix) - 1
        for off in range(0, len(body), step):
            first, last = off == 0, off + step >= len(body)
            fu_header = (0x80 if first else 0) | (0x40 if last else 0) | kind
            out.append((prefix + bytes([fu_header]) + bytes(body[off : off + step]), False))
    if out:
        out[-1] = (out[-1][0], True)
    return out


class AccessUnitSource:
    """What RTSP sessions play: one thread hands every subscriber the same :class:`AccessUnit`.

    The thread runs :meth:`_loop` from the first subscription on; subclasses set the picture size, rate
    (``fps``: pictures per second, the unit of :attr:`AccessUnit.index`) and the SPS/PPS.
    """

    sps: bytes
    pps: bytes
    vps: bytes = b""  # H.265 only
    codec = "h264"  # or "h265"
    # a live encoder drops a slow client's backlog and resumes at the next IDR; a lossless source (a recording's
    # replay, one source per session) waits for its client instead, as TCP would, and loses nothing
    lossless = False

    def __init__(self, width: int, height: int, fps: float) -> None:  # noqa: D107
        self.width, self.height, self.fps = width, height, fps
        self._lock = threading.Lock()
        self._subscribers: list[Callable[[AccessUnit], None]] = []
        self._thread: threading.Thread | None = None
        self._wake = threading.Event()
        self._force_key = False
        self.next_index = 0
        self.frames_encoded = 0
        self.starts = 0

    @property
    def profile_level_id(self) -> str:
        """The SDP profile-level-id: profile_idc, constraint flags and level_idc from the SPS."""
        return self.sps[1:4].hex().upper()

    def sdp_media(self, payload_type: int) -> str:
        """The ``a=rtpmap`` and ``a=fmtp`` lines of this stream (RFC 6184 for H.264, RFC 7798 for H.265)."""

        def b64(nal: bytes) -> str:
            return base64.b64encode(nal).decode()

        if self.codec == "h265":
            return (
                f"a=rtpmap:{payload_type} H265/90000\r\n"
                f"a=fmtp:{payload_type} sprop-vps={b64(self.vps)};sprop-sps={b64(self.sps)};"
                f"sprop-pps={b64(self.pps)}\r\n"
            )
        return (
            f"a=rtpmap:{payload_type} H264/90000\r\n"
            f"a=fmtp:{payload_type} packetization-mode=1;profile-level-id={self.profile_level_id};"
            f"sprop-parameter-sets={b64(self.sps)},{b64(self.pps)}\r\n"
        )

    @property
    def running(self) -> bool:
        """True while the encoder thread runs."""
        return self._thread is not None and self._thread.is_alive()

    @property
    def subscriber_count(self) -> int:
        """How many sessions are playing this encoder now."""
        return len(self._subscribers)

    # -- subscriptions ---------------------------------------------------------------------------------------
    def subscribe(self, push: Callable[[AccessUnit], None]) -> None:
        """Start delivering access units to ``push`` (called on the encoder thread; must not block)."""
        with self._lock:
            self._subscribers.append(push)
            self._force_key = True  # a new viewer starts at an IDR without waiting a whole GOP
            self._wake.set()
            if self._thread is None or not self._thread.is_alive():
                self.starts += 1
                self._thread = threading.Thread(
                    target=self._run, name=f"kedirivms-sim-x264[{self.width}x{self.height}]", daemon=True
                )
                self._thread.start()

    def unsubscribe(self, push: Callable[[AccessUnit], None]) -> None:
        """Stop delivering to ``push``; the encoder stops shortly after its last subscriber leaves."""
        with self._lock:
            if push in self._subscribers:
                self._subscribers.remove(push)
            self._wake.set()

    # -- the encoder loop ------------------------------------------------------------------------------------
    def _run(self) -> None:
        try:
            self._loop()
        except Exception:  # noqa: BLE001 - a dead encoder must not take the server down with it
            log.exception("virtual camera encoder %sx%s failed", self.width, self.height)
            with self._lock:
                self._thread = None

    def _loop(self) -> None:
        raise NotImplementedError

    def _access_unit(self, index: int, key: bool, nals: list[bytes]) -> AccessUnit:
        """The access unit of ``nals`` (SEI/AUD already dropped), with SPS/PPS put before a bare keyframe."""
        if self.codec == "h265":
            from kedirivms.sim._rtsp._hevc import hevc_payloads, nal_type

            if key and not any(nal_type(nal) == 32 for nal in nals):
                nals = [self.vps, self.sps, self.pps, *nals]
            self.frames_encoded += 1
            return AccessUnit(index, key, time.time(), hevc_payloads(nals, MAX_PAYLOAD))
        if key and not any((nal[0] & 0x1F) == 7 for nal in nals):
            nals = [self.sps, self.pps, *nals]
        self.frames_encoded += 1
        return AccessUnit(index, key, time.time(), payloads_for(nals))


class SharedEncoder(AccessUnitSource):
    """Renders and encodes one (scene, spec) pair for every subscriber in the process."""

    def __init__(self, scene: Scene, width: int, height: int, fps: float, bitrate: int, gop: int, profile: str):
        super().__init__(width, height, fps)
        self.scene = scene
        self.bitrate, self.gop, self.profile = bitrate, gop, profile
        self.sps, self.pps = self._probe()

    @property
    def pix_fmt(self) -> str:
        """The encoder's input format."""
        return "yuv420p"

    # -- parameters ------------------------------------------------------------------------------------------
    def _context(self) -> Any:
        ctx = av.CodecContext.create("libx264", "w")
        ctx.width, ctx.height = self.width, self.height
        ctx.pix_fmt = self.pix_fmt
        rate = Fraction(self.fps).limit_denominator(1001)
        ctx.time_base = 1 / rate
        ctx.framerate = rate
        ctx.bit_rate = self.bitrate
        ctx.gop_size = self.gop
        ctx.thread_count = 1 if self.width * self.height <= 640 * 480 else 2
        # the profile option only caps what x264 uses: ultrafast turns CABAC off, and without it x264 signals
        # Constrained Baseline whatever profile was asked; so Main and High switch on what defines them
        tools = {"baseline": "", "main": ":cabac=1", "high": ":cabac=1:8x8dct=1"}.get(self.profile, "")
        ctx.options = {
            "preset": "ultrafast",
            "tune": "zerolatency",
            "profile": self.profile,
            "x264-params": f"keyint={self.gop}:min-keyint={self.gop}:scenecut=0:repeat-headers=1:aud=0{tools}",
        }
        return ctx

    def _probe(self) -> tuple[bytes, bytes]:
        ctx = self._context()
        frame = av.VideoFrame(self.width, self.height, "yuv420p")
        frame.pts = 0
        data = b"".join(bytes(p) for p in ctx.encode(frame)) + b"".join(bytes(p) for p in ctx.encode(None))
        sps = pps = b""
        for nal in find_startcodes(data):
            kind = nal[0] & 0x1F
            if kind == 7 and not sps:
                sps = nal
            elif kind == 8 and not pps:
                pps = nal
        if not sps or not pps:
            raise RuntimeError("libx264 did not produce SPS/PPS")
        return sps, pps

    def _loop(self) -> None:
        ctx = self._context()
        period = 1.0 / self.fps
        t0, first = time.monotonic(), self.next_index
        idle_since: float | None = None
        while True:
            with self._lock:
                subscribers = list(self._subscribers)
                if not subscribers:
                    idle_since = idle_since or time.monotonic()
                    if time.monotonic() - idle_since >= IDLE_LINGER:
                        self._thread = None
                        return
                force, self._force_key = self._force_key, False
            if not subscribers:
                self._wake.clear()
                self._wake.wait(0.1)
                continue
            if idle_since is not None:  # resumed after an idle spell: restart the clock
                idle_since = None
                t0, first = time.monotonic(), self.next_index
            index = self.next_index
            delay = t0 + (index - first) * period - time.monotonic()
            if delay > 0:
                time.sleep(delay)
            elif delay < -4 * period:  # CPU starved: drop pictures and re-anchor to stay real time
                t0, first = time.monotonic(), index
            self.next_index = index + 1
            au = self._encode(ctx, index, force)
            if au is None:
                continue
            for push in subscribers:
                push(au)

    def _encode(self, ctx: Any, index: int, force: bool) -> AccessUnit | None:
        image = self.scene.render(index, index / self.fps, self.width, self.height)
        frame = _to_frame(image, self.width, self.height)
        if frame.format.name != self.pix_fmt:
            frame = frame.reformat(format=self.pix_fmt)
        frame.pts = index
        if force:
            frame.pict_type = av.video.frame.PictureType.I
        data = b"".join(bytes(p) for p in ctx.encode(frame))
        if not data:
            return None
        nals = [nal for nal in find_startcodes(data) if self._keep(nal)]
        return self._access_unit(index, any(self._is_key(nal) for nal in nals), nals)

    @staticmethod
    def _keep(nal: bytes) -> bool:
        """Whether a NAL unit is sent (SEI and access unit delimiters are not)."""
        return (nal[0] & 0x1F) not in (6, 9)

    @staticmethod
    def _is_key(nal: bytes) -> bool:
        """Whether a NAL unit makes its access unit a keyframe (an IDR slice)."""
        return (nal[0] & 0x1F) == 5


def _to_frame(image: np.ndarray, width: int, height: int) -> av.VideoFrame:
    if image.ndim == 2 and image.shape == (height * 3 // 2, width):
        return av.VideoFrame.from_ndarray(np.ascontiguousarray(image), format="yuv420p")
    if image.ndim == 3 and image.shape == (height, width, 3):
        return av.VideoFrame.from_ndarray(np.ascontiguousarray(image), format="rgb24")
    raise ValueError(
        f"scene returned shape {image.shape}; expected ({height}, {width}, 3) RGB or ({height * 3 // 2}, {width}) I420"
    )


_registry: dict[tuple[Any, ...], SharedEncoder] = {}
_registry_lock = threading.Lock()


def shared_encoder(
    scene: Scene | None,
    width: int,
    height: int,
    fps: float,
    bitrate: int,
    gop: int,
    profile: str,
    codec: str = "h264",
) -> SharedEncoder:
    """Return the process-wide encoder for these parameters, creating it (not starting it) on first use."""
    scene = scene if scene is not None else _default_scene
    key = (id(scene), width, height, float(fps), bitrate, gop, profile, codec)
    with _registry_lock:
        enc = _registry.get(key)
        if enc is None:
            if codec == "h265":
                from kedirivms.sim._rtsp._hevc import HevcEncoder

                enc = HevcEncoder(scene, width, height, fps, bitrate, gop, profile)
            else:
                enc = SharedEncoder(scene, width, height, fps, bitrate, gop, profile)
            _registry[key] = enc
        return enc


def registry_snapshot() -> list[SharedEncoder]:
    """All encoders created in this process (for tests and diagnostics)."""
    with _registry_lock:
        return list(_registry.values())
