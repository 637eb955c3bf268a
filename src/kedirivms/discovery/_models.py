"""The public model of a discovered device, ONVIF scope parsing and WS-Discovery matching rules."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Literal
from urllib.parse import unquote, urlsplit

from pydantic import BaseModel, ConfigDict, Field

from kedirivms.discovery import _wsd

__all__ = ["DiscoveredDevice", "DiscoverySource"]

DiscoverySource = Literal["multicast", "unicast", "hello", "http"]

_ONVIF_SCOPE = "onvif://www.onvif.org/"


class DiscoveredDevice(BaseModel):
    """A device found by WS-Discovery (or by the HTTP check), deduplicated by endpoint reference.

    ``name``, ``location``, ``hardware`` and ``profiles`` are read from the ONVIF scopes
    (``onvif://www.onvif.org/name/...`` and so on), percent-decoded; ``scopes`` keeps them as sent.

    Example:
        >>> import kedirivms
        >>> for dev in kedirivms.discover(ranges=["10.20.0.0/24"]):  # doctest: +SKIP
        ...     print(dev.endpoint, dev.name, dev.device_service_url)
    """

    model_config = ConfigDict(frozen=True, extra="ignore")

    endpoint: str | None = Field(
        description="Endpoint reference address (usually urn:uuid:...); None when found only by the HTTP check."
    )
    xaddrs: list[str] = Field(default_factory=list, description="Device service URLs the device advertises.")
    types: list[str] = Field(default_factory=list, description="Service types in Clark notation ({ns}Local).")
    scopes: list[str] = Field(default_factory=list, description="Scopes exactly as advertised.")
    name: str | None = Field(default=None, description="From the onvif://www.onvif.org/name/ scope.")
    location: str | None = Field(default=None, description="From the onvif://www.onvif.org/location/ scope.")
    hardware: str | None = Field(default=None, description="From the onvif://www.onvif.org/hardware/ scope.")
    profiles: list[str] = Field(
        default_factory=list, description="ONVIF profiles advertised in scopes, e.g. Streaming, G, T, M."
    )
    metadata_version: int | None = Field(default=None, description="WS-Discovery MetadataVersion.")
    address: str = Field(description="IP address the reply came from.")
    source: DiscoverySource = Field(description="How the device was found.")
    interface: str | None = Field(default=None, description="Local interface the reply arrived on, if known.")

    @property
    def device_service_url(self) -> str | None:
        """The XAddr to talk ONVIF to: one on the replying host if any, else the first; None if none."""
        for xaddr in self.xaddrs:
            if _host_of(xaddr) == self.address:
                return xaddr
        return self.xaddrs[0] if self.xaddrs else None

    @property
    def is_onvif(self) -> bool:
        """True if the device advertises an ONVIF type or ONVIF scopes."""
        return any(t in _wsd.ONVIF_TYPES for t in self.types) or any(
            s.lower().startswith(_ONVIF_SCOPE) for s in self.scopes
        )

    def merged(self, other: DiscoveredDevice) -> DiscoveredDevice:
        """Return a copy with XAddrs, types and scopes united with ``other``'s (same endpoint)."""
        newer = other if (other.metadata_version or 0) > (self.metadata_version or 0) else self
        return newer.model_copy(
            update={
                "xaddrs": _union(self.xaddrs, other.xaddrs),
                "types": _union(self.types, other.types),
                "scopes": _union(newer.scopes, []),
            }
        )


def _union(a: Iterable[str], b: Iterable[str]) -> list[str]:
    return list(dict.fromkeys([*a, *b]))


def _host_of(url: str) -> str | None:
    try:
        return urlsplit(url).hostname
    except ValueError:
        return None


def parse_scopes(scopes: Sequence[str]) -> dict[str, object]:
    """Read name, location, hardware and profiles from ONVIF scopes (percent-decoded).

    Several ``location`` scopes (``location/country/...``, ``location/city/...``) are joined with ``, ``.
    """
    names: list[str] = []
    locations: list[str] = []
    hardware: list[str] = []
    profiles: list[str] = []
    for scope in scopes:
        if not scope.lower().startswith(_ONVIF_SCOPE):
            continue
        rest = scope[len(_ONVIF_SCOPE) :]
        key, _, value = rest.partition("/")
        value = unquote(value).strip("/")
        if not value:
            continue
        key = key.lower()
        if key == "name":
            names.append(value)
        elif key == "location":
            locations.append(value)
        elif key == "hardware":
            hardware.append(value)
        elif key == "profile":
            profiles.append(value)
    return {
        "name": " ".join(names) or None,
        "location": ", ".join(locations) or None,
        "hardware": " ".join(hardware) or None,
        "profiles": list(dict.fromkeys(profiles)),
    }


def device_from_match(
    match: _wsd.Match, address: str, source: DiscoverySource, interface: str | None = None
) -> DiscoveredDevice:
    """Build a :class:`DiscoveredDevice` from a parsed ProbeMatch/ResolveMatch/Hello."""
    return DiscoveredDevice(
        endpoint=match.endpoint,
        xaddrs=list(dict.fromkeys(match.xaddrs)),
        types=match.types,
        scopes=match.scopes,
        metadata_version=match.metadata_version,
        address=address,
        source=source,
        interface=interface,
        **parse_scopes(match.scopes),
    )


def normalize_type(value: str) -> str:
    """Accept ``dn:NetworkVideoTransmitter``, ``tds:Device`` or Clark ``{ns}Local``; return Clark notation."""
    if value.startswith("{"):
        return value
    prefix, sep, local = value.partition(":")
    if sep and prefix.lower() in _wsd.WELL_KNOWN_PREFIXES:
        return f"{{{_wsd.WELL_KNOWN_PREFIXES[prefix.lower()]}}}{local}"
    raise ValueError(
        f"type {value!r} is neither Clark notation ({{namespace}}Local) nor one of the prefixes "
        f"{', '.join(sorted(_wsd.WELL_KNOWN_PREFIXES))}"
    )


def scope_matches(wanted: str, offered: str) -> bool:
    """RFC 3986 scope matching (the WS-Discovery default): scheme and authority case-insensitive, path prefix
    by whole segments, percent-decoding before comparing."""
    try:
        w, o = urlsplit(wanted), urlsplit(offered)
    except ValueError:
        return False
    if w.scheme.lower() != o.scheme.lower() or w.netloc.lower() != o.netloc.lower():
        return False
    w_segs = [unquote(s) for s in w.path.split("/") if s]
    o_segs = [unquote(s) for s in o.path.split("/") if s]
    return o_segs[: len(w_segs)] == w_segs


def scopes_match(wanted: Sequence[str], offered: Sequence[str], match_by: str | None = None) -> bool:
    """Every wanted scope matches some offered scope (``strcmp0`` when ``match_by`` says so, else RFC 3986)."""
    if match_by and match_by.endswith("strcmp0"):
        return all(w in offered for w in wanted)
    return all(any(scope_matches(w, o) for o in offered) for w in wanted)
