"""Analytics: the plugin contract, the per-camera runner and the event model.

See :mod:`kedirivms.analytics.hookspecs` for the plugin contract and ``docs/plugins.md`` for a vendor's guide.
"""

from __future__ import annotations

from kedirivms.analytics.events import Event
from kedirivms.analytics.hookspecs import CONTRACT_VERSION, CameraInfo, PluginContext, hookimpl

__all__ = ["CONTRACT_VERSION", "CameraInfo", "Event", "PluginContext", "hookimpl"]
