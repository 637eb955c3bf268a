"""ONVIF client: :class:`Camera` with device and media services over a shared-WSDL zeep transport."""

from kedirivms.onvif._wsdl import preload
from kedirivms.onvif.camera import Camera, CameraState, parse_target
from kedirivms.onvif.events import EventsService, PullPointSubscription, SubscriptionState
from kedirivms.onvif.fleet import ConnectResult, connect_cameras
from kedirivms.onvif.imaging import ImagingService
from kedirivms.onvif.models import (
    Channel,
    DeviceInfo,
    EncoderOptions,
    IntRange,
    Limits,
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
from kedirivms.onvif.models_events import CameraEvent, EventProperties, EventServiceCapabilities, EventTopic
from kedirivms.onvif.models_ptz import (
    FloatRange,
    ImagingOptions,
    ImagingSettings,
    PTZConfiguration,
    PTZConfigurationOptions,
    PTZNode,
    PTZPosition,
    PTZPreset,
    PTZSpace,
    PTZSpaces,
    PTZStatus,
)
from kedirivms.onvif.ptz import PTZService

__all__ = [
    # PTZ, imaging and events (issue 3)
    "CameraEvent",
    "EventProperties",
    "EventServiceCapabilities",
    "EventTopic",
    "EventsService",
    "FloatRange",
    "ImagingOptions",
    "ImagingService",
    "ImagingSettings",
    "PTZConfiguration",
    "PTZConfigurationOptions",
    "PTZNode",
    "PTZPosition",
    "PTZPreset",
    "PTZService",
    "PTZSpace",
    "PTZSpaces",
    "PTZStatus",
    "PullPointSubscription",
    "SubscriptionState",
    "Camera",
    "CameraState",
    "ConnectResult",
    "connect_cameras",
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
    "Limits",
    "Timeouts",
    "User",
    "VideoEncoderConfig",
    "parse_target",
    "preload",
]
