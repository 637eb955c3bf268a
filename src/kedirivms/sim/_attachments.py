"""What a virtual camera can run beside its SOAP server: an RTSP server for its profiles and a WS-Discovery
responder. Both are optional (``VirtualCamera(rtsp=True, discovery=True)``) and stop with the camera."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from kedirivms.sim._models import EncoderSpec

if TYPE_CHECKING:
    from kedirivms.sim.camera import VirtualCamera
    from kedirivms.sim.discovery import DiscoveryResponder
    from kedirivms.sim.rtsp import RtspServer

SceneFactory = Callable[[int, str], Any]
"""``factory(channel, "main"|"sub") -> Scene | None`` picks the picture of each stream (None: moving shapes)."""


def stream_spec(spec: EncoderSpec, scene: Any = None) -> Any:
    """The RTSP stream that an encoder configuration describes."""
    from kedirivms.sim.rtsp import StreamSpec

    return StreamSpec(
        width=spec.width,
        height=spec.height,
        fps=spec.fps,
        bitrate=spec.bitrate_kbps * 1000,
        gop=spec.gop,
        codec="h265" if spec.encoding == "H265" else "h264",
        profile=_rtsp_profile(spec),
        scene=scene,
    )


def _rtsp_profile(spec: EncoderSpec) -> str:
    """The encoder profile that streams what the configuration advertises."""
    if spec.encoding == "H265":
        return "main10" if spec.h265_profile == "Main10" else "main"
    return {"Baseline": "baseline", "High": "high"}.get(spec.h264_profile, "main")  # Extended: Main's tools


def start_rtsp(cam: VirtualCamera, scene: SceneFactory | None) -> RtspServer:
    """Serve every profile of ``cam`` on an RTSP server at the port its stream URIs name (or a free one)."""
    from kedirivms.sim.rtsp import RtspServer

    cfg = cam.config
    server = RtspServer(cfg.host, cfg.rtsp_port or 0, name=cfg.name)
    scenes: dict[str, Any] = {}
    for ch in range(1, cfg.channels + 1):
        for kind in ("main", "sub"):
            token = f"Profile_{ch}_{kind}"
            scenes[token] = scene(ch, kind) if scene is not None else None
            server.add_stream(token, stream_spec(cam.state.encoders[f"VideoEncoder_{ch}_{kind}"], scenes[token]))
    server.start()

    def restream(profile_token: str, spec: EncoderSpec) -> None:
        server.add_stream(profile_token, stream_spec(spec, scenes.get(profile_token)))

    cam.on_encoder_change(restream)
    return server


def endpoint_of(cam: VirtualCamera) -> str:
    """A stable ``urn:uuid`` for the camera, derived from its serial number and address."""
    return "urn:uuid:" + str(uuid.uuid5(uuid.NAMESPACE_URL, f"kedirivms:{cam.config.serial_number}:{cam.host}"))


def start_discovery(cam: VirtualCamera, multicast: bool = False) -> DiscoveryResponder:
    """Answer WS-Discovery Probes at ``cam.host:3702`` with the camera's XAddr and scopes; with ``multicast``
    also join 239.255.255.250 (on ``lo`` for a loopback camera) and announce Hello and Bye there."""
    import ipaddress

    from kedirivms.sim.discovery import DiscoveryResponder

    with cam.state.lock:
        scopes = list(cam.state.fixed_scopes) + list(cam.state.scopes)
    interface_ip = None
    if multicast and ipaddress.ip_address(cam.host).is_loopback:
        interface_ip = "127.0.0.1"  # lo's own address: 127.0.1.x is routed to lo but is not an interface address
    responder = DiscoveryResponder(
        endpoint=endpoint_of(cam),
        xaddrs=[cam.device_url],
        scopes=scopes,
        host=cam.host,
        multicast=multicast,
        interface_ip=interface_ip,
    )
    responder.start()
    return responder
