"""Queue metrics from tracked people (kept for imports): see :mod:`.waits`, :mod:`.service` and :mod:`.stats`."""

from __future__ import annotations

from kedirivms.analytics.queue.service import FinishedStay, ServiceTracker
from kedirivms.analytics.queue.stats import HourlyServiceStats, IntervalStats
from kedirivms.analytics.queue.waits import FinishedVisit, Visit, WaitTracker

__all__ = [
    "FinishedStay",
    "FinishedVisit",
    "HourlyServiceStats",
    "IntervalStats",
    "ServiceTracker",
    "Visit",
    "WaitTracker",
]
