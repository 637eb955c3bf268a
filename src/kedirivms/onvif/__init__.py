"""ONVIF client: :class:`Camera` with device and media services over a shared-WSDL zeep transport."""

from kedirivms.onvif._wsdl import preload
from kedirivms.onvif.camera import Camera, CameraState, parse_target
from kedirivms.onvif.models import (
    Channel,
    DeviceInfo,
    EncoderOptions,
    IntRange,
    NetworkInterface,
    NTPSettings,
    Profile,
    Scope,
    Services,
    StreamUri,
    SystemDateTime,
    Timeouts,
    User,
    VideoEncoderConfig,
)

__all__ = [
    "Camera",
    "CameraState",
    "Channel",
    "DeviceInfo",
    "EncoderOptions",
    "IntRange",
    "NTPSettings",
    "NetworkInterface",
    "Profile",
    "Scope",
    "Services",
    "StreamUri",
    "SystemDateTime",
    "Timeouts",
    "User",
    "VideoEncoderConfig",
    "parse_target",
    "preload",
]
