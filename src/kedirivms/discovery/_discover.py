"""``kedirivms.discover()``: multicast Probe, unicast sweep and HTTP check behind one call."""

from __future__ import annotations

import ipaddress
from collections.abc import Sequence

from kedirivms.discovery import _wsd
from kedirivms.discovery._http import http_check
from kedirivms.discovery._models import DiscoveredDevice, normalize_type
from kedirivms.discovery._net import expand_targets, select_interfaces
from kedirivms.discovery._probe import ProgressCallback, _Session, multicast_probe, unicast_sweep
from kedirivms.errors import InvalidArgument

MULTICAST_TIMEOUT = 2.0
UNICAST_TIMEOUT = 1.0


def _check_positive(name: str, value: float) -> None:
    if not value > 0:
        raise InvalidArgument(f"{name} must be > 0, got {value!r}", operation="discover")


def discover(
    *,
    timeout: float | None = None,
    interfaces: Sequence[str] | None = None,
    ranges: Sequence[str] | None = None,
    types: Sequence[str] | None = None,
    scopes: Sequence[str] = (),
    ipv6: bool = False,
    port: int = _wsd.PORT,
    concurrency: int = 256,
    http_check_ports: Sequence[int] | None = None,
    http_timeout: float = 1.0,
    ttl: int = 1,
    progress: ProgressCallback | None = None,
) -> list[DiscoveredDevice]:
    """Find ONVIF devices with WS-Discovery; one entry per endpoint reference.

    Without ``ranges`` a multicast Probe goes to 239.255.255.250:3702 on each interface (repeated with
    SOAP-over-UDP back-off). With ``ranges`` only those addresses are probed, by unicast: that is how to
    reach sites behind routers, where multicast does not pass.

    Args:
        timeout: seconds to wait for replies. Multicast: from the first Probe (default 2.0). Unicast: each
            address's reply window from its first Probe (default 1.0); with N addresses and
            ``concurrency`` C a sweep lasts about ceil(N / C) x timeout, less if every address answers.
        interfaces: interface names or local addresses for multicast; default every non-loopback IPv4
            interface.
        ranges: CIDRs (``10.1.0.0/24``), ranges (``10.1.0.10-50``), addresses or host names to sweep.
        types: types to probe for, ``dn:NetworkVideoTransmitter``, ``tds:Device`` or ``{ns}Local``; one
            Probe per type, a device is kept if it offers any. Default: both ONVIF types. ``[]``: no
            type filter (printers and PCs answer too).
        scopes: scopes every device must match (RFC 3986 prefix match), e.g.
            ``onvif://www.onvif.org/location/site-7``; sent in the Probe and checked on replies.
        ipv6: also probe FF02::C on IPv6 link-local addresses (multicast only).
        port: WS-Discovery port to probe (3702).
        concurrency: unicast addresses in flight at once.
        http_check_ports: with ``ranges``, also POST an unauthenticated GetSystemDateAndTime to these
            ports of every address that ignored the Probe (e.g. ``DEFAULT_HTTP_PORTS`` = 80, 8000, 8080,
            8899). Devices found this way have ``endpoint=None`` and ``source="http"``.
        http_timeout: connect (and read) time-out of each HTTP check, in seconds.
        ttl: multicast TTL / hop limit (1 keeps Probes on the local link, as the spec asks).
        progress: called as ``progress(done, total)`` while a sweep runs (not for multicast).

    Returns:
        Devices sorted by reply address; a new list of frozen models.

    Raises:
        InvalidArgument: bad ranges, types, interface names or numbers.
        DiscoveryError: no socket could be opened or no multicast Probe could be sent.

    Example:
        >>> import kedirivms
        >>> kedirivms.discover(ranges=["10.7.0.0/24"], timeout=1.0)  # doctest: +SKIP
        [DiscoveredDevice(endpoint='urn:uuid:...', xaddrs=['http://10.7.0.21/onvif/device_service'], ...)]
    """
    if timeout is not None:
        _check_positive("timeout", timeout)
    _check_positive("http_timeout", http_timeout)
    if concurrency < 1:
        raise InvalidArgument(f"concurrency must be >= 1, got {concurrency}", operation="discover")
    for p in [port, *(http_check_ports or ())]:
        if not 0 < int(p) < 65536:
            raise InvalidArgument(f"bad port {p}: ports are 1-65535", operation="discover")
    try:
        variants = [[normalize_type(t)] for t in types] if types is not None else [[t] for t in _wsd.ONVIF_TYPES]
    except ValueError as exc:
        raise InvalidArgument(str(exc), operation="discover") from None
    if not variants:
        variants = [[]]

    if ranges:
        targets = expand_targets(ranges)
        session = _Session(types=variants, scopes=list(scopes), source="unicast")
        silent = unicast_sweep(
            targets,
            session,
            timeout if timeout is not None else UNICAST_TIMEOUT,
            port=port,
            concurrency=concurrency,
            progress=progress,
        )
        if http_check_ports and silent:
            found = http_check(silent, http_check_ports, http_timeout, concurrency)
            for host, urls in found.items():
                session.add(DiscoveredDevice(endpoint=None, xaddrs=urls, address=host, source="http"))
    else:
        session = _Session(types=variants, scopes=list(scopes), source="multicast")
        chosen = select_interfaces(interfaces, ipv6=ipv6)
        multicast_probe(chosen, session, timeout if timeout is not None else MULTICAST_TIMEOUT, port=port, ttl=ttl)
    return sorted(session.found.values(), key=_sort_key)


def _sort_key(device: DiscoveredDevice) -> tuple[int, int, str]:
    try:
        ip = ipaddress.ip_address(device.address)
        return (ip.version, int(ip), device.endpoint or "")
    except ValueError:
        return (9, 0, device.endpoint or "")
