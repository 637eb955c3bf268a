"""Virtual ONVIF cameras and NVRs for tests, demos and integrators.

A :class:`VirtualCamera` is a real HTTP SOAP server on a loopback address answering the ONVIF Device, Media,
PTZ, Imaging and Events services (replies rendered from the ONVIF WSDLs), with HTTP snapshots, configurable
authentication, clock skew, NAT-advertised addresses, NVR channels, injectable faults and vendor quirks. With
``rtsp=True`` it serves its profiles over RTSP (:class:`RtspServer`, H.264 of a :class:`Scene` such as
:class:`CounterScene`), with ``discovery=True`` it answers WS-Discovery (:class:`DiscoveryResponder`).
Nothing starts at import.

Example:
    >>> from kedirivms.sim import VirtualCamera, VirtualCameraConfig
    >>> with VirtualCamera(VirtualCameraConfig(auth="digest", channels=4)) as cam:
    ...     print(cam.device_url)
"""

from __future__ import annotations

from kedirivms._exports import claim
from kedirivms.sim._models import (
    AuthMode,
    CameraState,
    EncoderOptions,
    EncoderSpec,
    FaultKind,
    NetworkHost,
    Quirk,
    UserAccount,
    VirtualCameraConfig,
)
from kedirivms.sim._models_ptz import EventsSpec, ImagingSpec, PTZNodeSpec
from kedirivms.sim._profile_g import NvrMode, enable_nvr
from kedirivms.sim.camera import CameraRunState, LoggedRequest, VirtualCamera
from kedirivms.sim.counter_scene import CounterScene, CounterSceneConfig
from kedirivms.sim.discovery import DiscoveryResponder
from kedirivms.sim.fleet import VirtualFleet
from kedirivms.sim.rtsp import RtspServer, StreamSpec
from kedirivms.sim.scene import MovingShapesScene, Scene

__all__ = [
    "AuthMode",
    "CameraRunState",
    "CameraState",
    "CounterScene",
    "CounterSceneConfig",
    "DiscoveryResponder",
    "EncoderOptions",
    "EncoderSpec",
    "EventsSpec",
    "FaultKind",
    "ImagingSpec",
    "LoggedRequest",
    "MovingShapesScene",
    "NvrMode",
    "NetworkHost",
    "PTZNodeSpec",
    "Quirk",
    "RtspServer",
    "Scene",
    "StreamSpec",
    "UserAccount",
    "VirtualCamera",
    "VirtualCameraConfig",
    "VirtualFleet",
    "enable_nvr",
]

claim(globals(), __all__)
