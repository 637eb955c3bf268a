"""Local interfaces (via ifaddr) and sweep targets (CIDR, host lists, ranges)."""

from __future__ import annotations

import ipaddress
import socket
import threading
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

import ifaddr

from kedirivms.errors import InvalidArgument, Timeout

MAX_TARGETS = 65_536
_DNS_TIMEOUT = 3.0

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address


@dataclass(frozen=True)
class Interface:
    """One local address usable for multicast: ``name`` (e.g. ``eth0``), ``ip`` and interface ``index``."""

    name: str
    ip: str
    index: int
    family: socket.AddressFamily


def _all_addresses() -> list[Interface]:
    out: list[Interface] = []
    for adapter in ifaddr.get_adapters():
        name = adapter.nice_name or adapter.name
        index = int(getattr(adapter, "index", 0) or 0)
        for ip in adapter.ips:
            if isinstance(ip.ip, str):
                out.append(Interface(name, ip.ip, index, socket.AF_INET))
            else:
                addr, _flow, scope = ip.ip
                out.append(Interface(name, addr, int(scope or index), socket.AF_INET6))
    return out


def select_interfaces(names: Sequence[str] | None, ipv6: bool = False) -> list[Interface]:
    """Pick the addresses to probe from.

    Args:
        names: interface names (``eth0``) or local IP addresses; None means every non-loopback IPv4 address
            (and, with ``ipv6``, every IPv6 link-local address), or loopback if there is nothing else.
        ipv6: also return IPv6 link-local addresses (for FF02::C).

    Raises:
        InvalidArgument: a named interface does not exist (the message lists the ones that do).
    """
    everything = _all_addresses()
    wanted_families = {socket.AF_INET} | ({socket.AF_INET6} if ipv6 else set())
    if names:
        chosen: list[Interface] = []
        for name in names:
            hits = [i for i in everything if name in (i.name, i.ip)]
            if not hits:
                valid = sorted({i.name for i in everything} | {i.ip for i in everything if ":" not in i.ip})
                raise InvalidArgument(
                    f"no local interface or address {name!r}",
                    operation="discover",
                    hint=f"use one of: {', '.join(valid)}",
                )
            chosen.extend(i for i in hits if i.family in wanted_families)
    else:
        chosen = [
            i
            for i in everything
            if i.family in wanted_families
            and not ipaddress.ip_address(i.ip).is_loopback
            and (i.family == socket.AF_INET6) == ipaddress.ip_address(i.ip).is_link_local
        ]
        if not chosen:
            chosen = [i for i in everything if i.family == socket.AF_INET and i.ip.startswith("127.")]
    # one socket per (family, address) is enough
    return list({(i.family, i.ip): i for i in chosen if _usable_v6(i)}.values())


def _usable_v6(i: Interface) -> bool:
    # IPv6 multicast to FF02::C needs a link-local source with its scope (interface index).
    return i.family == socket.AF_INET or ipaddress.ip_address(i.ip).is_link_local


def _resolve(host: str) -> list[IPAddress]:
    # getaddrinfo has no time-out of its own: run it on a daemon thread and stop waiting after _DNS_TIMEOUT
    # (a thread pool would make us wait for it on exit).
    result: list[Any] = []
    done = threading.Event()

    def work() -> None:
        try:
            result.append(socket.getaddrinfo(host, None, 0, socket.SOCK_DGRAM))
        except OSError as exc:
            result.append(exc)
        finally:
            done.set()

    threading.Thread(target=work, name="kedirivms-resolve", daemon=True).start()
    if not done.wait(_DNS_TIMEOUT):
        raise Timeout(
            f"resolving {host!r} took longer than {_DNS_TIMEOUT:g} s",
            operation="discover",
            hint="give IP addresses instead of names",
        )
    if isinstance(result[0], OSError):
        raise InvalidArgument(
            f"cannot resolve {host!r}: {result[0]}", operation="discover", hint="use an IP, CIDR or a-b range"
        )
    return list(dict.fromkeys(ipaddress.ip_address(str(info[4][0]).split("%")[0]) for info in result[0]))


def _is_ip(text: str) -> bool:
    try:
        ipaddress.ip_address(text)
    except ValueError:
        return False
    return True


def _parse_range(spec: str) -> list[IPAddress]:
    first_text, _, last_text = spec.partition("-")
    first = ipaddress.ip_address(first_text.strip())
    last_text = last_text.strip()
    if "." not in last_text and ":" not in last_text and first.version == 4:
        # 10.0.0.10-50: the last octet only
        last_text = first_text.strip().rsplit(".", 1)[0] + "." + last_text
    last = ipaddress.ip_address(last_text)
    if last.version != first.version or int(last) < int(first):
        raise ValueError(f"range {spec!r} is empty or mixes IPv4 and IPv6")
    if int(last) - int(first) >= MAX_TARGETS:
        raise ValueError(f"range {spec!r} has more than {MAX_TARGETS} addresses")
    return [ipaddress.ip_address(n) for n in range(int(first), int(last) + 1)]


def expand_targets(specs: Iterable[str]) -> list[IPAddress]:
    """Turn CIDRs (``10.0.0.0/24``), ranges (``10.0.0.10-10.0.0.50`` or ``10.0.0.10-50``), addresses and host
    names into a de-duplicated, ordered address list. A CIDR yields its usable hosts (a /24 gives 254).

    Raises:
        InvalidArgument: unparsable spec, or more than 65536 addresses in total.
        Timeout: a host name did not resolve within 3 s.
    """
    out: dict[IPAddress, None] = {}
    for raw in specs:
        for spec in (s.strip() for s in raw.split(",")):
            if not spec:
                continue
            hosts: list[IPAddress]
            try:
                if "/" in spec:
                    net = ipaddress.ip_network(spec, strict=False)
                    if net.num_addresses > MAX_TARGETS * 2:
                        raise ValueError(f"network {spec} is larger than {MAX_TARGETS} addresses")
                    hosts = list(net.hosts()) if net.num_addresses > 2 else list(net)
                elif "-" in spec and _is_ip(spec.partition("-")[0].strip()):
                    hosts = _parse_range(spec)
                else:
                    try:
                        hosts = [ipaddress.ip_address(spec.strip("[]"))]
                    except ValueError:
                        hosts = _resolve(spec)
            except ValueError as exc:
                raise InvalidArgument(
                    f"bad target {spec!r}: {exc}",
                    operation="discover",
                    hint="use a CIDR (10.0.0.0/24), a range (10.0.0.10-50), an address or a host name",
                ) from None
            out.update(dict.fromkeys(hosts))
            if len(out) > MAX_TARGETS:
                raise InvalidArgument(
                    f"more than {MAX_TARGETS} addresses to sweep",
                    operation="discover",
                    hint="sweep each site's subnets separately",
                )
    return list(out)
