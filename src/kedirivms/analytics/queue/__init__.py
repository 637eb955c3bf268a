"""The reference queue-analytics plugin: people in line, waits, service times, pile-up, unstaffed and stalled alerts.

Use :class:`QueueAnalyzer` directly on luma frames, or enable the built-in plugin ``queue``
(:class:`QueuePlugin`) in an analytics runner. See ``docs/queue-analytics.md``.
"""

from __future__ import annotations

from kedirivms.analytics.queue.alerts import Hysteresis, OpeningHours, PileUpConfig, StalledConfig, UnstaffedConfig
from kedirivms.analytics.queue.analyzer import FrameResult, QueueAnalyzer, QueueEvent
from kedirivms.analytics.queue.config import QueueConfig, TrackingConfig
from kedirivms.analytics.queue.detector import (
    BackgroundDetector,
    BackgroundDetectorConfig,
    PersonDetector,
    person_detections,
)
from kedirivms.analytics.queue.plugin import QueuePlugin
from kedirivms.analytics.queue.service import FinishedStay
from kedirivms.analytics.queue.view_check import ViewFinding, ViewSurvey
from kedirivms.analytics.queue.waits import FinishedVisit

__all__ = [
    "BackgroundDetector",
    "BackgroundDetectorConfig",
    "FinishedStay",
    "FinishedVisit",
    "FrameResult",
    "Hysteresis",
    "OpeningHours",
    "PersonDetector",
    "PileUpConfig",
    "QueueAnalyzer",
    "QueueConfig",
    "QueueEvent",
    "QueuePlugin",
    "StalledConfig",
    "TrackingConfig",
    "UnstaffedConfig",
    "ViewFinding",
    "ViewSurvey",
    "person_detections",
]
