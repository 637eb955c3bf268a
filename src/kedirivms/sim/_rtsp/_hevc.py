"""H.265 for the virtual camera's RTSP server: libx265 (shipped in PyAV's wheels) and RFC 7798 payloads."""

from __future__ import annotations

from fractions import Fraction
from typing import Any

import av

from kedirivms.sim._rtsp._encoder import SharedEncoder, find_startcodes, fragment

VPS, SPS, PPS, AUD, SEI_PREFIX, SEI_SUFFIX = 32, 33, 34, 35, 39, 40
FU = 49  # RFC 7798 fragmentation unit


def nal_type(nal: bytes) -> int:
    """The NAL unit type of an H.265 NAL unit (6 bits after the forbidden zero bit)."""
    return (nal[0] >> 1) & 0x3F


def hevc_payloads(nals: list[bytes], max_payload: int) -> list[tuple[bytes, bool]]:
    """RTP payloads for one access unit (RFC 7798 single NAL unit packets or FUs); marker on the last one."""
    # PayloadHdr: the NAL header with its type replaced by 49 (F, LayerId and TID kept); FU header: the NAL's type
    return fragment(nals, max_payload, 2, lambda nal: (bytes([(nal[0] & 0x81) | (FU << 1), nal[1]]), nal_type(nal)))


class HevcEncoder(SharedEncoder):
    """Renders and encodes one (scene, spec) pair as H.265 Main (8-bit) or Main10 (10-bit) for every subscriber."""

    codec = "h265"

    @property
    def pix_fmt(self) -> str:
        """The encoder's input format: 10-bit samples for Main10."""
        return "yuv420p10le" if self.profile == "main10" else "yuv420p"

    def _context(self) -> Any:
        ctx = av.CodecContext.create("libx265", "w")
        ctx.width, ctx.height = self.width, self.height
        ctx.pix_fmt = self.pix_fmt
        rate = Fraction(self.fps).limit_denominator(1001)
        ctx.time_base = 1 / rate
        ctx.framerate = rate
        ctx.bit_rate = self.bitrate
        ctx.gop_size = self.gop
        threads = 1 if self.width * self.height <= 640 * 480 else 2
        ctx.options = {
            "preset": "ultrafast",
            "tune": "zerolatency",
            "profile": "main10" if self.profile == "main10" else "main",
            "x265-params": (
                f"keyint={self.gop}:min-keyint={self.gop}:scenecut=0:repeat-headers=1:aud=0:log-level=error"
                f":pools={threads}:frame-threads=1"
            ),
        }
        return ctx

    def _probe(self) -> tuple[bytes, bytes]:
        ctx = self._context()
        frame = av.VideoFrame(self.width, self.height, self.pix_fmt)
        frame.pts = 0
        data = b"".join(bytes(p) for p in ctx.encode(frame)) + b"".join(bytes(p) for p in ctx.encode(None))
        found: dict[int, bytes] = {}
        for nal in find_startcodes(data):
            found.setdefault(nal_type(nal), nal)
        if not all(k in found for k in (VPS, SPS, PPS)):
            raise RuntimeError("libx265 did not produce VPS/SPS/PPS")
        self.vps = found[VPS]
        return found[SPS], found[PPS]

    @staticmethod
    def _keep(nal: bytes) -> bool:
        return nal_type(nal) not in (AUD, SEI_PREFIX, SEI_SUFFIX)

    @staticmethod
    def _is_key(nal: bytes) -> bool:
        return 16 <= nal_type(nal) <= 23  # IRAP pictures (BLA, IDR, CRA)
