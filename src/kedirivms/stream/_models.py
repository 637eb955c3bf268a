"""Public models of the stream reader: options, statistics, state changes."""

from __future__ import annotations

import enum
import time
from dataclasses import dataclass, field
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

__all__ = ["StateChange", "StreamOptions", "StreamState", "StreamStats"]


class StreamState(enum.StrEnum):
    """Life cycle of a :class:`~kedirivms.stream.Stream`.

    ``NEW -> CONNECTING -> STREAMING -> DISCONNECTED -> CONNECTING -> ... -> CLOSED``.
    ``ENDED`` is reached when a file (or a live stream with ``reconnect=False``) runs out.
    """

    NEW = "new"
    CONNECTING = "connecting"
    STREAMING = "streaming"
    DISCONNECTED = "disconnected"
    ENDED = "ended"
    CLOSED = "closed"


@dataclass(frozen=True, slots=True)
class StateChange:
    """One state transition, passed to :meth:`Stream.on_state` callbacks.

    Attributes:
        state: the new state.
        reason: why (an error message for ``DISCONNECTED``, credentials redacted), or ``None``.
        attempt: connection attempt number (1 for the first connect, resets after a successful connect).
        time: wall-clock UTC epoch seconds of the transition.
    """

    state: StreamState
    reason: str | None = None
    attempt: int = 0
    time: float = field(default_factory=time.time)


class StreamOptions(BaseModel):
    """How a :class:`~kedirivms.stream.Stream` opens, decodes and delivers (see :func:`open_stream`)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    timeout: tuple[float, float] = Field(
        (5.0, 5.0), description="(open, read) time-outs in seconds; a read stall longer than this is a disconnect"
    )
    transport: Literal["tcp", "udp"] = Field("tcp", description="RTSP lower transport")
    keyframes_only: bool = Field(False, description="decode keyframes only (others are skipped before decoding)")
    max_fps: float | None = Field(
        None,
        gt=0,
        description="deliver at most this many frames per second; frames over the cap, and frames arriving while "
        "every consumer's queue is full, are not decoded where the codec allows it (the rest of the GOP is skipped)",
    )
    queue_size: int = Field(2, ge=1, le=1000, description="frames buffered for the consumer; the oldest is dropped")
    reconnect: bool = Field(True, description="reconnect a live stream that ends, stalls or fails to open")
    backoff: tuple[float, float] = Field(
        (0.5, 10.0), description="reconnect back-off in seconds: (first wait, cap); doubles per failed attempt"
    )
    decode: bool = Field(True, description="decode pictures; False only demuxes (packets for a recorder)")
    decoder_threads: int = Field(0, ge=0, description="decoder threads with thread_type AUTO; 0 = FFmpeg picks")
    block_when_full: bool | None = Field(
        None, description="wait for the consumer instead of dropping; None = True for files, False for live"
    )
    ffmpeg_options: dict[str, str] = Field(
        default_factory=dict, description="extra FFmpeg demuxer/protocol options (override the defaults)"
    )
    max_tracks: int = Field(
        16,
        ge=1,
        le=1000,
        description="tracks (SDP media sections, container streams) a source may announce; more fails the open",
    )
    max_sdp_bytes: int = Field(
        64 * 1024,
        ge=1024,
        description="bytes of the SDP an RTSP server may send (checked with a DESCRIBE before FFmpeg opens)",
    )

    @field_validator("timeout", "backoff")
    @classmethod
    def _positive(cls, value: tuple[float, float]) -> tuple[float, float]:
        if value[0] <= 0 or value[1] <= 0:
            raise ValueError("both values must be > 0 seconds")
        return value


class StreamStats(BaseModel):
    """A snapshot of a stream's counters (``Stream.stats``)."""

    model_config = ConfigDict(frozen=True)

    source: str = Field(description="the source URL or path, credentials redacted")
    state: StreamState = Field(description="current state")
    packets: int = Field(0, description="video packets demuxed")
    bytes: int = Field(0, description="video payload bytes demuxed")
    decoded: int = Field(0, description="frames decoded")
    delivered: int = Field(0, description="frames handed to a consumer (read, iterator or callback)")
    dropped: int = Field(0, description="decoded frames dropped because consumers were behind")
    skipped: int = Field(0, description="packets not decoded (keyframes-only or frame-rate cap)")
    capped: int = Field(0, description="decoded frames withheld by the frame-rate cap")
    decode_errors: int = Field(0, description="packets the decoder rejected")
    reconnects: int = Field(0, description="successful re-connections after the first")
    fps: float = Field(0.0, description="decoded frames per second over the last few seconds")
    last_frame_age: float | None = Field(None, description="seconds since the last decoded frame, None before one")
    width: int | None = Field(None, description="picture width of the current stream")
    height: int | None = Field(None, description="picture height of the current stream")
    codec: str | None = Field(None, description="codec name, e.g. h264")
