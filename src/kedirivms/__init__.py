"""kedirivms: ONVIF cameras and NVRs from Python.

Discover cameras, control them over ONVIF, decode their RTSP streams with a zero-copy frame API, record like an
NVR, run analytics plugins, and provision fleets. Virtual cameras in :mod:`kedirivms.sim` make all of it runnable
without hardware.
"""

from __future__ import annotations

from kedirivms import errors
from kedirivms.analytics import AnalyticsRunner, Event, hookimpl
from kedirivms.deploy import Deployment, load_deployment
from kedirivms.discovery import DiscoveredDevice, discover
from kedirivms.errors import KedirivmsError
from kedirivms.onvif import (
    Camera,
    CameraEvent,
    ImagingSettings,
    Profile,
    PTZPreset,
    PTZStatus,
    PullPointSubscription,
    StreamUri,
    Timeouts,
)
from kedirivms.record import Recorder, RetentionPolicy, Segment, SegmentIndex, export, open_recording
from kedirivms.stream import Frame, Stream, StreamOptions, StreamState, StreamStats, grab_frame, open_stream

__version__ = "0.1.0"

__all__ = [
    "AnalyticsRunner",
    "Camera",
    "CameraEvent",
    "Deployment",
    "DiscoveredDevice",
    "Event",
    "Frame",
    "ImagingSettings",
    "KedirivmsError",
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
    "discover",
    "errors",
    "export",
    "grab_frame",
    "hookimpl",
    "load_deployment",
    "open_recording",
    "open_stream",
]
