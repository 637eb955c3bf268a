"""NVR recording: packets remuxed into indexed fragmented-MP4 segments, retention, export and playback.

See docs/recording.md. One RTSP connection feeds both decoding and recording: :class:`Recorder` hooks the packet
listener of a :class:`~kedirivms.stream.Stream`.
"""

from __future__ import annotations

from kedirivms._exports import claim
from kedirivms.record._export import export, open_recording
from kedirivms.record._index import ReconcileReport, SegmentIndex
from kedirivms.record._models import (
    ExportResult,
    Gap,
    RecorderState,
    RecorderStats,
    RecordingEvent,
    RetentionPolicy,
    RetentionReport,
    Segment,
    SegmentStatus,
    parse_duration,
    parse_size,
)
from kedirivms.record._retention import apply_retention
from kedirivms.record.recorder import Recorder

__all__ = [
    "ExportResult",
    "Gap",
    "ReconcileReport",
    "RecorderState",
    "RecorderStats",
    "Recorder",
    "RecordingEvent",
    "RetentionPolicy",
    "RetentionReport",
    "Segment",
    "SegmentIndex",
    "SegmentStatus",
    "apply_retention",
    "export",
    "open_recording",
    "parse_duration",
    "parse_size",
]

claim(globals(), __all__)
