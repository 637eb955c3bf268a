"""Public models of the recorder: segments, gaps, events, retention policy and reports, export results."""

from __future__ import annotations

import datetime as dt
import enum
import re
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field, field_validator

__all__ = [
    "ExportResult",
    "Gap",
    "RecorderState",
    "RecorderStats",
    "RecordingEvent",
    "RetentionPolicy",
    "RetentionReport",
    "Segment",
    "SegmentStatus",
    "parse_duration",
    "parse_size",
]


class RecorderState(enum.StrEnum):
    """Life cycle of a :class:`~kedirivms.Recorder`.

    ``NEW -> WAITING (for a keyframe) -> RECORDING -> ...``; in event mode ``ARMED`` (buffering the pre-roll,
    nothing written) alternates with ``RECORDING``. ``DISCONNECTED`` while the stream reconnects, ``FAILED``
    while the storage refuses writes (retried at each keyframe), ``PAUSED`` between ``pause()`` and ``resume()``,
    ``CLOSED`` at the end.
    """

    NEW = "new"
    WAITING = "waiting"
    RECORDING = "recording"
    ARMED = "armed"
    DISCONNECTED = "disconnected"
    FAILED = "failed"
    PAUSED = "paused"
    CLOSED = "closed"


class SegmentStatus(enum.StrEnum):
    """Status of a segment in the index."""

    RECORDING = "recording"  # being written (or the recorder died; reconciled at the next start)
    COMPLETE = "complete"  # closed cleanly
    RECOVERED = "recovered"  # left open by a crash, validated (and trimmed to its last whole fragment)
    QUARANTINED = "quarantined"  # unreadable; moved under <root>/.quarantine


class Segment(BaseModel):
    """One recorded file: ``<root>/<camera>/<YYYY-MM-DD>/<HH>/<MM.SS>.mp4`` (UTC)."""

    model_config = ConfigDict(frozen=True)

    camera: str = Field(description="camera name (the folder under the root)")
    path: str = Field(description="file path relative to the recording root")
    start: dt.datetime = Field(description="UTC time of the first (key)frame")
    end: dt.datetime = Field(description="UTC time just after the last frame")
    duration: float = Field(description="media duration in seconds")
    bytes: int = Field(description="file size in bytes")
    codec: str | None = Field(None, description="codec name, e.g. h264")
    width: int | None = Field(None, description="picture width")
    height: int | None = Field(None, description="picture height")
    packets: int = Field(0, description="video packets written")
    status: SegmentStatus = Field(description="recording, complete, recovered or quarantined")
    kind: str = Field("continuous", description="continuous or event")
    note: str | None = Field(None, description="why a segment was recovered or quarantined")


class Gap(BaseModel):
    """A span with no recording for a camera (disconnect, storage failure, recorder down)."""

    model_config = ConfigDict(frozen=True)

    camera: str = Field(description="camera name")
    start: dt.datetime = Field(description="UTC start of the gap")
    end: dt.datetime = Field(description="UTC end of the gap")
    reason: str = Field(description="why nothing was recorded")

    @property
    def duration(self) -> float:
        """Gap length in seconds."""
        return (self.end - self.start).total_seconds()


class RecordingEvent(BaseModel):
    """An event attached to a recording (a trigger, a disconnect, a storage failure)."""

    model_config = ConfigDict(frozen=True)

    camera: str = Field(description="camera name")
    time: dt.datetime = Field(description="UTC time of the event")
    name: str = Field(description="event name, e.g. motion, disconnected, storage_error")
    detail: str | None = Field(None, description="free text")


class RecorderStats(BaseModel):
    """A snapshot of a recorder's counters (``Recorder.stats``)."""

    model_config = ConfigDict(frozen=True)

    camera: str = Field(description="camera name")
    state: RecorderState = Field(description="current state")
    packets_in: int = Field(0, description="packets received from the stream")
    packets_written: int = Field(0, description="packets muxed into segments")
    packets_skipped: int = Field(0, description="packets not written (waiting for a keyframe, event mode idle)")
    packets_dropped: int = Field(0, description="packets lost because the writer queue overflowed")
    bytes_written: int = Field(0, description="payload bytes muxed")
    segments: int = Field(0, description="segments closed")
    gaps: int = Field(0, description="gaps indexed")
    storage_errors: int = Field(0, description="write failures (disk full, unwritable root)")
    mux_errors: int = Field(0, description="packets the muxer rejected (each closes the segment; not a storage error)")
    current_segment: str | None = Field(None, description="relative path of the open segment")
    last_error: str | None = Field(None, description="the last storage error message")


_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800}
_SIZES = {"": 1, "b": 1, "k": 1 << 10, "m": 1 << 20, "g": 1 << 30, "t": 1 << 40}


def parse_duration(text: str | float | int) -> float:
    """Parse ``"30d"``, ``"12h"``, ``"90m"``, ``"45s"`` or a number of seconds.

    Raises:
        ValueError: the text is not a duration.
    """
    if isinstance(text, int | float):
        return float(text)
    m = re.fullmatch(r"\s*(\d+(?:\.\d+)?)\s*([smhdw]?)\s*", text.lower())
    if not m:
        raise ValueError(f"not a duration: {text!r} (use e.g. 30d, 12h, 90m, 45s)")
    return float(m.group(1)) * _UNITS[m.group(2) or "s"]


def parse_size(text: str | int) -> int:
    """Parse ``"500G"``, ``"20M"``, ``"1.5T"`` (binary units) or a number of bytes.

    Raises:
        ValueError: the text is not a size.
    """
    if isinstance(text, int):
        return text
    m = re.fullmatch(r"\s*(\d+(?:\.\d+)?)\s*([bkmgt]?)(?:i?b)?\s*", text.lower())
    if not m:
        raise ValueError(f"not a size: {text!r} (use e.g. 500G, 20M)")
    return int(float(m.group(1)) * _SIZES[m.group(2)])


class RetentionPolicy(BaseModel):
    """What retention deletes, oldest first (the segment being written is never deleted).

    Example:
        >>> RetentionPolicy(max_age="30d", max_bytes="500G", min_free_bytes="10G")
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    max_age: float | None = Field(None, gt=0, description="seconds a segment is kept (all cameras)")
    max_age_per_camera: dict[str, float] = Field(
        default_factory=dict, description="camera name -> seconds kept, overrides max_age"
    )
    max_bytes: int | None = Field(None, gt=0, description="total bytes kept under the root")
    min_free_bytes: int | None = Field(None, gt=0, description="free space kept on the root's file system")

    @field_validator("max_age", mode="before")
    @classmethod
    def _age(cls, value: object) -> object:
        return parse_duration(value) if isinstance(value, str) else value

    @field_validator("max_age_per_camera", mode="before")
    @classmethod
    def _ages(cls, value: object) -> object:
        if isinstance(value, dict):
            return {k: parse_duration(v) if isinstance(v, str) else v for k, v in value.items()}
        return value

    @field_validator("max_bytes", "min_free_bytes", mode="before")
    @classmethod
    def _size(cls, value: object) -> object:
        return parse_size(value) if isinstance(value, str) else value


class RetentionReport(BaseModel):
    """What one retention pass deleted."""

    model_config = ConfigDict(frozen=True)

    deleted: list[Segment] = Field(default_factory=list, description="segments deleted, oldest first")
    freed_bytes: int = Field(0, description="bytes freed")
    kept_bytes: int = Field(0, description="bytes left under the root")
    reasons: dict[str, int] = Field(default_factory=dict, description="rule -> number of segments it deleted")


class ExportResult(BaseModel):
    """The outcome of :func:`~kedirivms.record.export`."""

    model_config = ConfigDict(frozen=True)

    path: Path = Field(description="the MP4 written")
    camera: str = Field(description="camera name")
    requested_start: dt.datetime = Field(description="UTC start asked for")
    requested_end: dt.datetime = Field(description="UTC end asked for")
    start: dt.datetime = Field(description="UTC time of the first exported frame (a keyframe at or before start)")
    end: dt.datetime = Field(description="UTC time just after the last exported frame")
    duration: float = Field(description="media seconds in the file (gaps are not filled)")
    packets: int = Field(description="packets written")
    segments: list[str] = Field(description="segments used (paths relative to the root)")
    gaps: list[Gap] = Field(description="spans inside the range with no recording")
