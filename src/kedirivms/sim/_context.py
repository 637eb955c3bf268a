"""What an operation handler sees: the camera, its live state and clock, addresses and quirks."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import TYPE_CHECKING
from urllib.parse import quote

if TYPE_CHECKING:
    from kedirivms.sim._models import CameraState, VirtualCameraConfig
    from kedirivms.sim._soap import ParsedRequest, ServiceSpec
    from kedirivms.sim.camera import VirtualCamera

__all__ = ["OTHER_HOST", "SoapContext", "channel_of", "profile_tokens"]

OTHER_HOST = "10.0.0.99:8080"
"""Where the ``xaddr_other_host`` quirk points XAddrs (advertised only, never contacted)."""


def profile_tokens(channel: int) -> tuple[str, str]:
    """The (main, sub) profile tokens of ``channel`` (1-based)."""
    return f"Profile_{channel}_main", f"Profile_{channel}_sub"


def channel_of(token: str | None, prefix: str, channels: int) -> tuple[int, str] | None:
    """Parse ``<prefix>_<n>_<main|sub>`` (``Profile_2_sub``, ``VideoEncoder_1_main``) into (channel, stream).

    None unless the token has that prefix and ``1 <= n <= channels``.
    """
    parts = (token or "").split("_")
    if len(parts) != 3 or parts[0] != prefix or not parts[1].isdigit() or parts[2] not in ("main", "sub"):
        return None
    channel = int(parts[1])
    return (channel, parts[2]) if 1 <= channel <= channels else None


@dataclass
class SoapContext:
    """Per-request context handed to every operation handler.

    Attributes:
        camera: the serving :class:`~kedirivms.sim.VirtualCamera`.
        request: the parsed SOAP request (None outside SOAP, e.g. the snapshot endpoint).
        username: the authenticated user, if any.
        path: the URL path the request came to (services with sub-paths, e.g. event subscriptions).
    """

    camera: VirtualCamera
    request: ParsedRequest | None = None
    username: str | None = None
    path: str = ""

    @property
    def config(self) -> VirtualCameraConfig:
        """The camera's (frozen) configuration."""
        return self.camera.config

    @property
    def state(self) -> CameraState:
        """The camera's live state (mutate under ``state.lock``)."""
        return self.camera.state

    def quirk(self, name: str) -> bool:
        """Whether the camera emits quirk ``name``."""
        return name in self.camera.config.quirks

    def now(self) -> dt.datetime:
        """The camera clock: UTC now plus the current skew (timezone-aware, UTC)."""
        return self.camera.now()

    def format_datetime(self, value: dt.datetime) -> str:
        """Format an xs:dateTime for a reply; the ``date_dash`` quirk writes ``-`` where ``T`` belongs."""
        text = value.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
        return text.replace("T", "-") if self.quirk("date_dash") else text

    @property
    def _advertised_host(self) -> str:
        """The host the camera names in its URIs (the NAT address when configured), IPv6 in brackets."""
        host = self.camera.config.advertised_host or self.camera.host
        return f"[{host}]" if ":" in host and not host.startswith("[") else host

    @property
    def advertised_netloc(self) -> str:
        """``host:port`` the camera names in its URIs (the NAT address when configured)."""
        return f"{self._advertised_host}:{self.camera.config.advertised_port or self.camera.port}"

    def xaddr(self, spec: ServiceSpec) -> str:
        """The XAddr of service ``spec`` as advertised (``xaddr_other_host`` points elsewhere)."""
        netloc = OTHER_HOST if self.quirk("xaddr_other_host") else self.advertised_netloc
        return f"http://{netloc}{spec.path}"

    def stream_uri(self, profile_token: str) -> str:
        """``rtsp://{advertised host}:{rtsp_port}/{profile_token}``."""
        return f"rtsp://{self._advertised_host}:{self.camera.config.rtsp_port or 554}/{quote(profile_token)}"

    def snapshot_uri(self, profile_token: str) -> str:
        """The HTTP snapshot URL of ``profile_token``."""
        return f"http://{self.advertised_netloc}/onvif/snapshot/{quote(profile_token)}.jpg"

    def services(self) -> list[ServiceSpec]:
        """The services this camera advertises, device first."""
        from kedirivms.sim._soap import registry

        specs = [s for s in registry().values() if s.is_advertised(self)]
        return sorted(specs, key=lambda s: (s.name != "device", s.name))
