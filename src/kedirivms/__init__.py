"""kedirivms: ONVIF cameras and NVRs from Python.

Discover cameras, control them over ONVIF, decode their RTSP streams with a zero-copy frame API, record like an
NVR, run analytics plugins, and provision fleets. Virtual cameras in :mod:`kedirivms.sim` make all of it runnable
without hardware.

The names below are imported on first use, so ``import kedirivms`` (or one concern such as
``kedirivms.onvif``) does not load PyAV, NumPy, OpenCV or the analytics stack until they are needed.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from kedirivms import errors
from kedirivms.errors import KedirivmsError

__version__ = "0.1.0"

_LAZY: dict[str, str] = {
    "AnalyticsRunner": "kedirivms.analytics",
    "Event": "kedirivms.analytics",
    "hookimpl": "kedirivms.analytics",
    "Deployment": "kedirivms.deploy",
    "load_fleet": "kedirivms.fleet",
    "DiscoveredDevice": "kedirivms.discovery",
    "discover": "kedirivms.discovery",
    "Camera": "kedirivms.onvif",
    "CameraEvent": "kedirivms.onvif",
    "ConnectResult": "kedirivms.onvif",
    "connect_cameras": "kedirivms.onvif",
    "ImagingSettings": "kedirivms.onvif",
    "Profile": "kedirivms.onvif",
    "PTZPreset": "kedirivms.onvif",
    "PTZStatus": "kedirivms.onvif",
    "PullPointSubscription": "kedirivms.onvif",
    "StreamUri": "kedirivms.onvif",
    "Timeouts": "kedirivms.onvif",
    "Limits": "kedirivms.onvif",
    "Recorder": "kedirivms.record",
    "RetentionPolicy": "kedirivms.record",
    "Segment": "kedirivms.record",
    "SegmentIndex": "kedirivms.record",
    "export": "kedirivms.record",
    "open_recording": "kedirivms.record",
    "Frame": "kedirivms.stream",
    "Stream": "kedirivms.stream",
    "StreamOptions": "kedirivms.stream",
    "StreamState": "kedirivms.stream",
    "StreamStats": "kedirivms.stream",
    "grab_frame": "kedirivms.stream",
    "open_stream": "kedirivms.stream",
}

__all__ = [
    "AnalyticsRunner",
    "Camera",
    "CameraEvent",
    "ConnectResult",
    "Deployment",
    "DiscoveredDevice",
    "Event",
    "Frame",
    "ImagingSettings",
    "KedirivmsError",
    "Limits",
    "PTZPreset",
    "PTZStatus",
    "Profile",
    "PullPointSubscription",
    "Recorder",
    "RetentionPolicy",
    "Segment",
    "SegmentIndex",
    "Stream",
    "StreamOptions",
    "StreamState",
    "StreamStats",
    "StreamUri",
    "Timeouts",
    "__version__",
    "connect_cameras",
    "discover",
    "errors",
    "export",
    "grab_frame",
    "hookimpl",
    "load_fleet",
    "open_recording",
    "open_stream",
]


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'kedirivms' has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value  # later look-ups skip this function
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_LAZY))


if TYPE_CHECKING:
    from kedirivms.analytics import AnalyticsRunner, Event, hookimpl
    from kedirivms.deploy import Deployment
    from kedirivms.discovery import DiscoveredDevice, discover
    from kedirivms.fleet import load_fleet
    from kedirivms.onvif import (
        Camera,
        CameraEvent,
        ConnectResult,
        ImagingSettings,
        Limits,
        Profile,
        PTZPreset,
        PTZStatus,
        PullPointSubscription,
        StreamUri,
        Timeouts,
        connect_cameras,
    )
    from kedirivms.record import Recorder, RetentionPolicy, Segment, SegmentIndex, export, open_recording
    from kedirivms.stream import Frame, Stream, StreamOptions, StreamState, StreamStats, grab_frame, open_stream
