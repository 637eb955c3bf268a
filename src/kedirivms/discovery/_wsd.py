"""WS-Discovery (2005/04, as ONVIF uses it) messages over SOAP-over-UDP: build, parse and receive.

Both sides use this codec: the client in :mod:`kedirivms.discovery` and the responder of the virtual camera in
:mod:`kedirivms.sim.discovery`. Parsing is hardened (no DTD, no entities, no network, size-capped) and tolerant
of common firmware quirks: the 2009/01 discovery namespace, elements without a namespace, type prefixes that
are not declared, and whitespace or line breaks inside lists.
"""

from __future__ import annotations

import logging
import socket
import uuid
from collections.abc import Collection, Iterator, Sequence
from dataclasses import dataclass, field

from lxml import etree

from kedirivms._safexml import HostileXML, parse_untrusted

log = logging.getLogger("kedirivms.discovery")

NS_SOAP = "http://www.w3.org/2003/05/soap-envelope"
NS_WSA = "http://schemas.xmlsoap.org/ws/2004/08/addressing"
NS_WSD = "http://schemas.xmlsoap.org/ws/2005/04/discovery"
NS_WSD_2009 = "http://docs.oasis-open.org/ws-dd/ns/discovery/2009/01"
NS_DN = "http://www.onvif.org/ver10/network/wsdl"
NS_TDS = "http://www.onvif.org/ver10/device/wsdl"

MULTICAST_V4 = "239.255.255.250"
MULTICAST_V6 = "ff02::c"
PORT = 3702
TO_DISCOVERY = "urn:schemas-xmlsoap-org:ws:2005:04:discovery"
TO_ANONYMOUS = "http://schemas.xmlsoap.org/ws/2004/08/addressing/role/anonymous"

ACTION_PROBE = NS_WSD + "/Probe"
ACTION_PROBE_MATCHES = NS_WSD + "/ProbeMatches"
ACTION_RESOLVE = NS_WSD + "/Resolve"
ACTION_RESOLVE_MATCHES = NS_WSD + "/ResolveMatches"
ACTION_HELLO = NS_WSD + "/Hello"
ACTION_BYE = NS_WSD + "/Bye"

# SOAP-over-UDP retransmission (appendix I): repeat count and back-off bounds, in seconds.
MULTICAST_UDP_REPEAT = 2
UNICAST_UDP_REPEAT = 1
UDP_MIN_DELAY = 0.050
UDP_MAX_DELAY = 0.250
UDP_UPPER_DELAY = 0.500
# WS-Discovery: a Target Service waits a random time up to this before answering a multicast Probe or
# sending Hello, so a whole subnet does not answer at the same instant.
APP_MAX_DELAY = 0.500

MAX_DATAGRAM = 65_535

NVT = f"{{{NS_DN}}}NetworkVideoTransmitter"
DEVICE = f"{{{NS_TDS}}}Device"
ONVIF_TYPES: tuple[str, ...] = (NVT, DEVICE)

# Well-known prefixes, used when a device writes ``dn:NetworkVideoTransmitter`` without declaring ``dn``.
WELL_KNOWN_PREFIXES = {
    "dn": NS_DN,
    "tdn": NS_DN,
    "tds": NS_TDS,
    "wsdp": "http://schemas.xmlsoap.org/ws/2006/02/devprof",
}
_DISCOVERY_NAMESPACES = {NS_WSD, NS_WSD_2009, None, ""}
_ACTION_NAMES = {
    "probe": ACTION_PROBE,
    "probematches": ACTION_PROBE_MATCHES,
    "resolve": ACTION_RESOLVE,
    "resolvematches": ACTION_RESOLVE_MATCHES,
    "hello": ACTION_HELLO,
    "bye": ACTION_BYE,
}


class WsdParseError(ValueError):
    """A datagram is not a usable WS-Discovery message (garbage, hostile, or missing parts)."""


@dataclass
class Match:
    """One service description: a ProbeMatch, ResolveMatch, Hello or Bye body."""

    endpoint: str
    types: list[str] = field(default_factory=list)
    scopes: list[str] = field(default_factory=list)
    xaddrs: list[str] = field(default_factory=list)
    metadata_version: int | None = None


@dataclass
class Message:
    """A parsed WS-Discovery message (only the parts discovery needs)."""

    action: str
    message_id: str
    relates_to: str | None = None
    instance_id: int | None = None
    message_number: int | None = None
    matches: list[Match] = field(default_factory=list)
    # Probe only: the requested types (Clark notation) and scopes.
    probe_types: list[str] = field(default_factory=list)
    probe_scopes: list[str] = field(default_factory=list)
    scope_match_by: str | None = None
    # Resolve only: the endpoint asked for.
    resolve_endpoint: str | None = None


def new_message_id() -> str:
    """A fresh ``urn:uuid:`` message identifier."""
    return uuid.uuid4().urn


# --------------------------------------------------------------------------------------------- building


def _envelope(action: str, message_id: str, to: str, relates_to: str | None = None) -> etree._Element:
    nsmap = {"s": NS_SOAP, "a": NS_WSA, "d": NS_WSD, "dn": NS_DN, "tds": NS_TDS}
    env = etree.Element(f"{{{NS_SOAP}}}Envelope", nsmap=nsmap)
    header = etree.SubElement(env, f"{{{NS_SOAP}}}Header")
    etree.SubElement(header, f"{{{NS_WSA}}}Action").text = action
    etree.SubElement(header, f"{{{NS_WSA}}}MessageID").text = message_id
    if relates_to is not None:
        etree.SubElement(header, f"{{{NS_WSA}}}RelatesTo").text = relates_to
    etree.SubElement(header, f"{{{NS_WSA}}}To").text = to
    etree.SubElement(env, f"{{{NS_SOAP}}}Body")
    return env


def _qname_text(clark: str, nsmap: dict[str | None, str]) -> str:
    """Render a Clark-notation type as ``prefix:local`` with a prefix declared on the envelope."""
    if not clark.startswith("{"):
        return clark
    ns, local = clark[1:].split("}", 1)
    for prefix, uri in nsmap.items():
        if uri == ns and prefix:
            return f"{prefix}:{local}"
    raise ValueError(f"no prefix declared for namespace {ns!r}")


def _add_types(parent: etree._Element, types: Sequence[str], env: etree._Element) -> None:
    if not types:
        return
    nsmap = dict(env.nsmap)
    # Undeclared namespaces get fresh prefixes on the Types element itself.
    extra: dict[str, str] = {}
    for t in types:
        if t.startswith("{"):
            ns = t[1:].split("}", 1)[0]
            if ns not in nsmap.values() and ns not in extra.values():
                extra[f"t{len(extra)}"] = ns
    el = etree.SubElement(parent, f"{{{NS_WSD}}}Types", nsmap=extra or None)
    merged: dict[str | None, str] = dict(nsmap)
    merged.update(extra)
    el.text = " ".join(_qname_text(t, merged) for t in types)


def _add_service(parent: etree._Element, env: etree._Element, match: Match) -> None:
    epr = etree.SubElement(parent, f"{{{NS_WSA}}}EndpointReference")
    etree.SubElement(epr, f"{{{NS_WSA}}}Address").text = match.endpoint
    _add_types(parent, match.types, env)
    if match.scopes:
        etree.SubElement(parent, f"{{{NS_WSD}}}Scopes").text = " ".join(match.scopes)
    if match.xaddrs:
        etree.SubElement(parent, f"{{{NS_WSD}}}XAddrs").text = " ".join(match.xaddrs)
    if match.metadata_version is not None:
        etree.SubElement(parent, f"{{{NS_WSD}}}MetadataVersion").text = str(match.metadata_version)


def _app_sequence(env: etree._Element, instance_id: int, message_number: int) -> None:
    header = env[0]
    seq = etree.SubElement(header, f"{{{NS_WSD}}}AppSequence")
    seq.set("InstanceId", str(instance_id))
    seq.set("MessageNumber", str(message_number))


def _bytes(env: etree._Element) -> bytes:
    return bytes(etree.tostring(env, xml_declaration=True, encoding="UTF-8"))


def build_probe(message_id: str, types: Sequence[str] = (), scopes: Sequence[str] = ()) -> bytes:
    """A Probe for ``types`` (Clark notation, all must match) and ``scopes`` (RFC 3986 prefix match)."""
    env = _envelope(ACTION_PROBE, message_id, TO_DISCOVERY)
    probe = etree.SubElement(env[1], f"{{{NS_WSD}}}Probe")
    _add_types(probe, types, env)
    if scopes:
        etree.SubElement(probe, f"{{{NS_WSD}}}Scopes").text = " ".join(scopes)
    return _bytes(env)


def build_matches(
    action: str, message_id: str, relates_to: str, matches: Sequence[Match], instance_id: int, number: int
) -> bytes:
    """A ProbeMatches or ResolveMatches reply (``action`` picks which) relating to ``relates_to``."""
    env = _envelope(action, message_id, TO_ANONYMOUS, relates_to)
    _app_sequence(env, instance_id, number)
    outer, inner = (
        ("ProbeMatches", "ProbeMatch") if action == ACTION_PROBE_MATCHES else ("ResolveMatches", "ResolveMatch")
    )
    container = etree.SubElement(env[1], f"{{{NS_WSD}}}{outer}")
    for match in matches:
        _add_service(etree.SubElement(container, f"{{{NS_WSD}}}{inner}"), env, match)
    return _bytes(env)


def build_hello(message_id: str, match: Match, instance_id: int, number: int) -> bytes:
    """A Hello announcing ``match``."""
    env = _envelope(ACTION_HELLO, message_id, TO_DISCOVERY)
    _app_sequence(env, instance_id, number)
    _add_service(etree.SubElement(env[1], f"{{{NS_WSD}}}Hello"), env, match)
    return _bytes(env)


def build_bye(message_id: str, endpoint: str, instance_id: int, number: int) -> bytes:
    """A Bye for ``endpoint``."""
    env = _envelope(ACTION_BYE, message_id, TO_DISCOVERY)
    _app_sequence(env, instance_id, number)
    _add_service(etree.SubElement(env[1], f"{{{NS_WSD}}}Bye"), env, Match(endpoint=endpoint))
    return _bytes(env)


def build_resolve(message_id: str, endpoint: str) -> bytes:
    """A Resolve asking ``endpoint`` for its XAddrs."""
    env = _envelope(ACTION_RESOLVE, message_id, TO_DISCOVERY)
    resolve = etree.SubElement(env[1], f"{{{NS_WSD}}}Resolve")
    epr = etree.SubElement(resolve, f"{{{NS_WSA}}}EndpointReference")
    etree.SubElement(epr, f"{{{NS_WSA}}}Address").text = endpoint
    return _bytes(env)


# ---------------------------------------------------------------------------------------------- parsing


def _local(el: etree._Element) -> str:
    tag = el.tag
    if not isinstance(tag, str):
        return ""
    return tag.rsplit("}", 1)[-1]


def _ns(el: etree._Element) -> str | None:
    tag = el.tag
    if isinstance(tag, str) and tag.startswith("{"):
        return tag[1:].split("}", 1)[0]
    return None


def _child(parent: etree._Element, name: str) -> etree._Element | None:
    for el in parent:
        if _local(el) == name:
            return el
    return None


def _text(el: etree._Element | None) -> str:
    return (el.text or "").strip() if el is not None else ""


def _resolve_qname(value: str, el: etree._Element) -> str:
    prefix, sep, local = value.rpartition(":")
    if not sep:
        ns = el.nsmap.get(None)
        return f"{{{ns}}}{local}" if ns else local
    ns = el.nsmap.get(prefix) or WELL_KNOWN_PREFIXES.get(prefix.lower())
    return f"{{{ns}}}{local}" if ns else value


def _parse_service(el: etree._Element) -> Match:
    epr = _child(el, "EndpointReference")
    endpoint = _text(_child(epr, "Address")) if epr is not None else ""
    if not endpoint:
        raise WsdParseError(f"{_local(el)} without EndpointReference/Address")
    types_el = _child(el, "Types")
    types = [_resolve_qname(t, types_el) for t in _text(types_el).split()] if types_el is not None else []
    scopes = _text(_child(el, "Scopes")).split()
    xaddrs = _text(_child(el, "XAddrs")).split()
    version_text = _text(_child(el, "MetadataVersion"))
    try:
        version = int(version_text) if version_text else None
    except ValueError:
        version = None  # a quirk, not a reason to drop the device
    return Match(endpoint=endpoint, types=types, scopes=scopes, xaddrs=xaddrs, metadata_version=version)


def _int_attr(el: etree._Element, name: str) -> int | None:
    try:
        return int(el.get(name, ""))
    except ValueError:
        return None


def parse(data: bytes) -> Message:
    """Parse one datagram into a :class:`Message`.

    Raises:
        WsdParseError: for anything that is not a well-formed, DTD-free WS-Discovery message.
    """
    if not data or len(data) > MAX_DATAGRAM:
        raise WsdParseError(f"datagram of {len(data)} bytes")
    try:
        root = parse_untrusted(data)
    except HostileXML:
        raise WsdParseError("DTDs and entities are refused") from None
    except etree.XMLSyntaxError as exc:
        raise WsdParseError(f"not XML: {exc}") from None
    if _local(root) != "Envelope":
        raise WsdParseError(f"root element is {_local(root)!r}, not Envelope")
    header = _child(root, "Header")
    body = _child(root, "Body")
    if header is None or body is None or len(body) == 0:
        raise WsdParseError("Envelope without Header or Body")
    payload = body[0]
    if _ns(payload) not in _DISCOVERY_NAMESPACES:
        raise WsdParseError(f"body element {payload.tag!r} is not WS-Discovery")
    action = _text(_child(header, "Action")) or _ACTION_NAMES.get(_local(payload).lower(), "")
    action_name = action.rsplit("/", 1)[-1].lower()
    if action_name not in _ACTION_NAMES:
        raise WsdParseError(f"unknown action {action!r}")
    message = Message(
        action=_ACTION_NAMES[action_name],
        message_id=_text(_child(header, "MessageID")),
        relates_to=_text(_child(header, "RelatesTo")) or None,
    )
    if not message.message_id:
        raise WsdParseError("message without MessageID")
    seq = _child(header, "AppSequence")
    if seq is not None:
        message.instance_id = _int_attr(seq, "InstanceId")
        message.message_number = _int_attr(seq, "MessageNumber")
    _parse_body(message, payload, action_name)
    return message


def _parse_body(message: Message, payload: etree._Element, action_name: str) -> None:
    if action_name == "probe":
        types_el = _child(payload, "Types")
        if types_el is not None:
            message.probe_types = [_resolve_qname(t, types_el) for t in _text(types_el).split()]
        scopes_el = _child(payload, "Scopes")
        if scopes_el is not None:
            message.probe_scopes = _text(scopes_el).split()
            message.scope_match_by = scopes_el.get("MatchBy")
    elif action_name == "resolve":
        epr = _child(payload, "EndpointReference")
        message.resolve_endpoint = _text(_child(epr, "Address")) if epr is not None else None
        if not message.resolve_endpoint:
            raise WsdParseError("Resolve without EndpointReference")
    elif action_name in ("probematches", "resolvematches"):
        inner = "ProbeMatch" if action_name == "probematches" else "ResolveMatch"
        for el in payload:
            if _local(el) == inner:
                try:
                    message.matches.append(_parse_service(el))
                except WsdParseError:
                    continue  # one bad match does not spoil the others
        if not message.relates_to:
            raise WsdParseError(f"{inner}es without RelatesTo")
    else:  # hello, bye
        message.matches.append(_parse_service(payload))


# ---------------------------------------------------------------------------------------------- receiving


def receive(sock: socket.socket) -> Iterator[tuple[bytes, tuple[str, int]]]:
    """The datagrams queued on the non-blocking ``sock``: at most 256, so the caller gets back to its clock."""
    for _ in range(256):
        try:
            data, addr = sock.recvfrom(MAX_DATAGRAM)
        except (BlockingIOError, InterruptedError):
            return
        except OSError as exc:  # e.g. ICMP port unreachable surfaced as ECONNREFUSED
            log.debug("recvfrom: %s", exc)
            return
        yield data, addr


def parse_expected(data: bytes, host: str, actions: Collection[str]) -> Message | None:
    """:func:`parse` a datagram from ``host``; None (logged at debug) when it is unusable or not one of ``actions``."""
    try:
        msg = parse(data)
    except WsdParseError as exc:
        log.debug("ignoring datagram from %s: %s", host, exc)
        return None
    if msg.action not in actions:
        log.debug("ignoring unexpected %s from %s", msg.action.rsplit("/", 1)[-1], host)
        return None
    return msg
