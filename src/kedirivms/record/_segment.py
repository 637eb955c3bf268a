"""One fragmented-MP4 segment being written: a remux of demuxed packets (no transcoding)."""

from __future__ import annotations

import contextlib
import io
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path
from typing import TYPE_CHECKING, Any

import av

if TYPE_CHECKING:
    from av.container import OutputContainer
    from av.video.stream import VideoStream

__all__ = ["Pkt", "SegmentWriter", "Template"]


class Template:
    """Codec parameters of a demuxed video stream, captured on the demux thread.

    The reader closes its container when a connection drops, which frees the ``AVStream`` a PyAV stream object
    points to; so the writer thread never touches the reader's stream. Instead the parameters are copied, on the
    demux thread, into a stream of a private never-written container that lives as long as this object.
    """

    def __init__(self, video: VideoStream) -> None:
        self._holder: OutputContainer = av.open(io.BytesIO(), "w", format="mp4")
        self.stream: Any = self._holder.add_stream_from_template(video)
        self.time_base = Fraction(video.time_base) if video.time_base else Fraction(1, 90000)
        self.tick = float(self.time_base)  # seconds per pts unit, as a float for the per-packet path
        ctx = video.codec_context
        self.codec: str = ctx.name
        self.width: int | None = ctx.width or None
        self.height: int | None = ctx.height or None
        rate = video.average_rate or video.guessed_rate or video.base_rate
        # one frame in time-base ticks (for a packet that came without a timestamp); 1/30 s if unknown
        self.frame_ticks = max(1, round(1 / (float(rate) if rate else 30.0) / self.tick))
        # parameter sets (e.g. the SDP's sprop-parameter-sets), kept to learn the picture size if FFmpeg did not
        self._extradata: bytes | None = ctx.extradata

    @property
    def sized(self) -> bool:
        """Whether the picture size is known (the MP4 muxer refuses a video stream without one)."""
        return self.width is not None and self.height is not None

    def learn_size(self, keyframe: av.Packet) -> bool:
        """Learn the picture size by decoding one keyframe with a private decoder; True when it is known.

        FFmpeg learns the size while probing a stream; when no picture arrived within the probe (a camera slow
        to send its first packet, an encoder busy on a loaded box) the stream opens without one, and every
        segment's header would be refused ("dimensions not set"). One decoded keyframe per connection tells it.
        """
        if self.sized:
            return True
        try:
            decoder: Any = av.CodecContext.create(self.codec, "r")
            if self._extradata:
                decoder.extradata = self._extradata
            frames = [*decoder.decode(av.Packet(bytes(keyframe))), *decoder.decode(None)]
        except (av.FFmpegError, ValueError):
            return False
        if not frames:
            return False
        self.width, self.height = frames[0].width, frames[0].height
        self.stream.codec_context.width = self.width
        self.stream.codec_context.height = self.height
        return True


@dataclass(slots=True)
class Pkt:
    """A packet copied off the demux thread, with its arrival wall time (epoch s)."""

    packet: av.Packet
    pts: int
    dts: int
    key: bool
    duration: int
    template: Template
    wall: float


class SegmentWriter:
    """Writes packets of one template into ``path`` as fragmented MP4, timestamps rebased to start at 0.

    Args:
        path: the file to create (parent folders are created).
        template: codec parameters.
        origin: pts (template time base) of the first packet, a keyframe: segment time 0.
        dts_origin: its dts (<= pts with B-frames), written as 0 so that no timestamp is negative.
        fragment_seconds: longest fragment (a crash loses at most this much).
    """

    def __init__(
        self, path: Path, template: Template, origin: int, fragment_seconds: float, dts_origin: int | None = None
    ) -> None:
        self.path = path
        self.template = template
        self.origin = origin
        self.dts_origin = origin if dts_origin is None else min(dts_origin, origin)
        self.tb = template.time_base
        self.packets = 0
        self.bytes = 0
        self.last_pts = origin
        self.last_dur = 0
        self._last_dts: int | None = None
        path.parent.mkdir(parents=True, exist_ok=True)
        # FFmpeg creates the file only when the first packet is muxed; the segment is indexed when it opens,
        # so create it now: an index row never names a file that does not exist
        path.touch()
        options = {
            "movflags": "frag_keyframe+empty_moov+default_base_moof",
            "frag_duration": str(int(fragment_seconds * 1_000_000)),
            # hand each finished fragment to the OS at once (otherwise AVIO's 32 KiB buffer holds ~1 s more)
            "flush_packets": "1",
        }
        try:
            self._out: OutputContainer = av.open(str(path), "w", format="mp4", options=options)
        except BaseException:
            path.unlink(missing_ok=True)
            raise
        try:
            self._stream = self._out.add_stream_from_template(template.stream)
            if template.sized:  # a size learnt after the demuxer's probe (see Template.learn_size)
                self._stream.codec_context.width = template.width
                self._stream.codec_context.height = template.height
            if template.codec == "hevc":
                # 'hvc1' (parameter sets in the hvcC sample description), not FFmpeg's default 'hev1': Safari,
                # QuickTime and many browsers play only hvc1. movenc writes VPS/SPS/PPS from the extradata
                # (the SDP's sprop-vps/sps/pps) into hvcC with array_completeness set for this tag.
                self._stream.codec_tag = "hvc1"
        except BaseException:
            self._out.close()
            path.unlink(missing_ok=True)
            raise

    def write(self, item: Pkt) -> None:
        """Mux one packet (timestamps rebased; a non-increasing dts is nudged forward by one tick)."""
        packet = item.packet
        dts = item.dts - self.dts_origin
        pts = item.pts - self.dts_origin
        if self._last_dts is not None and dts <= self._last_dts:
            dts = self._last_dts + 1
        pts = max(pts, dts)
        self._last_dts = dts
        packet.pts = pts
        packet.dts = dts
        packet.duration = item.duration
        packet.time_base = self.tb
        packet.is_keyframe = item.key
        packet.stream = self._stream
        self._out.mux(packet)
        self.packets += 1
        self.bytes += packet.size
        if item.pts >= self.last_pts:
            self.last_pts = item.pts
            self.last_dur = item.duration

    def elapsed(self, pts: int) -> float:
        """Seconds from the segment's first packet to ``pts``."""
        return float((pts - self.origin) * self.tb)

    @property
    def duration(self) -> float:
        """Media seconds written so far (last frame's duration included; one frame of 1/30 s if unknown)."""
        last = self.last_dur if self.last_dur > 0 else 0
        seconds = float((self.last_pts - self.origin + last) * self.tb)
        if last == 0 and self.packets > 1:
            seconds += seconds / (self.packets - 1)  # average frame interval stands in for the unknown duration
        return seconds

    def close(self) -> None:
        """Flush the last fragment and close the file (raises OSError/FFmpegError on write failure)."""
        self._out.close()

    def abort(self) -> None:
        """Close after a failure, ignoring further errors."""
        # the file system already failed; the caller reports that
        with contextlib.suppress(Exception):
            self._out.close()
