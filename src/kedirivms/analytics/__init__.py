"""Analytics: the plugin contract, the per-camera runner and the event model.

See :mod:`kedirivms.analytics.hookspecs` for the plugin contract and ``docs/plugins.md`` for a vendor's guide.
"""

from __future__ import annotations

from kedirivms.analytics._manager import PluginInfo, PluginRegistry  # noqa: I001 - after the contract
from kedirivms.analytics.events import Event
from kedirivms.analytics.hookspecs import CONTRACT_VERSION, CameraInfo, PluginContext, hookimpl
from kedirivms.analytics.runner import (
    AnalyticsRunner,
    CameraAnalytics,
    CameraMetrics,
    PluginMetrics,
    PluginSettings,
    RunnerMetrics,
    RunnerState,
)

__all__ = [
    "CONTRACT_VERSION",
    "AnalyticsRunner",
    "CameraAnalytics",
    "CameraInfo",
    "CameraMetrics",
    "Event",
    "PluginContext",
    "PluginInfo",
    "PluginMetrics",
    "PluginRegistry",
    "PluginSettings",
    "RunnerMetrics",
    "RunnerState",
    "hookimpl",
]
