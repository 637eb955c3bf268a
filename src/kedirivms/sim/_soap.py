"""SOAP plumbing of the virtual camera: WSDL cache, service registry, request parsing, replies and faults.

Replies are rendered by zeep from the onvif-zeep WSDLs (the same files a client uses), so every reply is
schema-shaped by construction. Requests are parsed by a hardened lxml parser (no DTD, no entities, no network)
and then typed by zeep against the operation's input message.

Adding a service: see :class:`ServiceSpec` and ``docs/simulator.md``.
"""

from __future__ import annotations

import collections
import pickle
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from lxml import etree

from kedirivms._safexml import HostileXML, parse_untrusted

if TYPE_CHECKING:
    from zeep import Client
    from zeep.wsdl.definitions import Operation

    from kedirivms.sim._context import SoapContext

__all__ = [
    "NS",
    "ServiceSpec",
    "SoapFault",
    "build_envelope",
    "build_raw_envelope",
    "fault_envelope",
    "parse_request",
    "registry",
    "register_service",
    "wsdl_client",
    "wsdl_dir",
]

NS = {
    "env": "http://www.w3.org/2003/05/soap-envelope",
    "ter": "http://www.onvif.org/ver10/error",
    "tt": "http://www.onvif.org/ver10/schema",
    "tds": "http://www.onvif.org/ver10/device/wsdl",
    "trt": "http://www.onvif.org/ver10/media/wsdl",
    "wsse": "http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-wssecurity-secext-1.0.xsd",
    "wsu": "http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-wssecurity-utility-1.0.xsd",
    "wsa": "http://www.w3.org/2005/08/addressing",
    "tns1": "http://www.onvif.org/ver10/topics",
}

Handler = Callable[["SoapContext", Any], "dict[str, Any] | None"]
"""An operation handler: ``(ctx, request) -> output message keyword arguments`` (None = empty response).

``request`` is the zeep object of the operation's input element (attribute access: ``request.ProfileToken``).
Raise :class:`SoapFault` to answer with a fault.
"""


RawHandler = Callable[["SoapContext", etree._Element], etree._Element]
"""A handler of a service without WSDL: ``(ctx, request element) -> response element``."""


class SoapFault(Exception):
    """A SOAP 1.2 fault to send back (``env:Sender`` + ONVIF ``ter:`` subcodes).

    Args:
        subcodes: ONVIF subcode local names, outermost first (``["InvalidArgVal", "NoProfile"]``).
        reason: the human-readable reason text.
        code: ``Sender`` or ``Receiver``.
        http_status: HTTP status sent with it (400 for Sender, 500 for Receiver by default).
    """

    def __init__(
        self, subcodes: list[str], reason: str, *, code: str = "Sender", http_status: int | None = None
    ) -> None:
        super().__init__(reason)
        self.subcodes = subcodes
        self.reason = reason
        self.code = code
        self.http_status = http_status or (400 if code == "Sender" else 500)


@dataclass
class ServiceSpec:
    """One ONVIF service the virtual camera serves, and its operation handlers.

    Create one per module, register handlers with :meth:`operation`, and pass it to :func:`register_service`.

    Attributes:
        name: short name (``"ptz"``); the key in the registry and in GetCapabilities categories.
        path: URL path on the camera (``"/onvif/ptz_service"``).
        namespace: the service's WSDL target namespace (GetServices Namespace).
        wsdl: WSDL file name inside onvif-zeep's ``wsdl/`` folder (``"ptz.wsdl"``); empty for a service whose WSDL
            onvif-zeep does not ship (Media2): its handlers then take the request element and return the
            response element (lxml), see :data:`RawHandler`.
        binding: local name of the WSDL binding (``"PTZBinding"``), or several (events: ``("EventBinding",
            "PullPointSubscriptionBinding", "SubscriptionManagerBinding")``); the first holding the operation wins.
        version: (major, minor) reported by GetServices.
        capabilities: optional ``ctx -> lxml element`` for GetServices IncludeCapability.
        advertised: optional ``ctx -> bool``; False hides the service from GetServices/GetCapabilities.
    """

    name: str
    path: str
    namespace: str
    wsdl: str
    binding: str | tuple[str, ...]
    version: tuple[int, int] = (2, 60)
    capabilities: Callable[[SoapContext], etree._Element | None] | None = None
    advertised: Callable[[SoapContext], bool] | None = None
    handlers: dict[str, Any] = field(default_factory=dict)

    def operation(self, name: str) -> Callable[[Handler], Handler]:
        """Decorator registering ``fn`` as the handler of the operation ``name`` (the WSDL operation name)."""

        def deco(fn: Handler) -> Handler:
            self.handlers[name] = fn
            return fn

        return deco

    def is_advertised(self, ctx: SoapContext) -> bool:
        """Whether this camera advertises the service."""
        return self.advertised(ctx) if self.advertised else True

    def binding_operation(self, name: str) -> Operation:
        """The zeep binding operation ``name`` (raises ``ValueError`` if the WSDL has none)."""
        client = wsdl_client(self.wsdl)
        names = (self.binding,) if isinstance(self.binding, str) else self.binding
        for local in names:
            binding = client.wsdl.bindings[f"{{{self.namespace}}}{local}"]
            if name in binding._operations:
                return binding.get(name)
        raise ValueError(f"{self.wsdl} binds no operation {name}")

    def serves(self, path: str) -> bool:
        """Whether a request for URL ``path`` goes to this service (its path, or below it)."""
        return path == self.path or path.startswith(self.path + "/")


_REGISTRY: dict[str, ServiceSpec] = {}
_REG_LOCK = threading.Lock()


def register_service(spec: ServiceSpec) -> ServiceSpec:
    """Add (or replace) a service in the process-wide registry; returns ``spec``."""
    with _REG_LOCK:
        _REGISTRY[spec.name] = spec
    return spec


def registry() -> dict[str, ServiceSpec]:
    """The registered services by name (loads the built-in service modules on first use)."""
    import kedirivms.sim._services  # noqa: F401  (registers the built-ins)

    return _REGISTRY


# --------------------------------------------------------------------------------------------------- WSDLs

_WSDL_LOCK = threading.Lock()
_CLIENTS: dict[str, Client] = {}


def wsdl_dir() -> Path:
    """The ``wsdl/`` folder shipped by the onvif-zeep distribution (the one the client library reads)."""
    from kedirivms.onvif._wsdl import wsdl_dir as onvif_wsdl_dir  # lazy: kedirivms.onvif costs ~0.2 s to import

    return onvif_wsdl_dir()


def wsdl_client(name: str) -> Client:
    """The zeep client for WSDL ``name``, parsed once per process (thread-safe, lazy).

    The sim keeps its own client per WSDL file, with the client library's hardened settings (strict=False:
    requests from lenient clients still parse; replies are validated while rendering).
    """
    client = _CLIENTS.get(name)
    if client is not None:
        return client
    with _WSDL_LOCK:
        client = _CLIENTS.get(name)
        if client is None:
            from zeep import Client

            from kedirivms.onvif._wsdl import settings

            client = Client(str(wsdl_dir() / name), settings=settings())
            _CLIENTS[name] = client
    return client


# -------------------------------------------------------------------------------------------- requests


class BadRequest(Exception):
    """The request is not a SOAP 1.2 envelope we can read (``code``/``subcode`` of the fault to answer)."""

    def __init__(self, reason: str, *, code: str = "Sender", subcode: str | None = "WellFormed") -> None:
        super().__init__(reason)
        self.code = code
        self.subcode = subcode


@dataclass
class ParsedRequest:
    """A parsed SOAP request: the envelope, its header (may be None) and its first body child."""

    envelope: etree._Element
    header: etree._Element | None
    body: etree._Element

    @property
    def operation(self) -> str:
        """Local name of the body element (the operation)."""
        return etree.QName(self.body).localname

    def message_id(self) -> str | None:
        """The WS-Addressing MessageID of the request, if any."""
        if self.header is None:
            return None
        for child in self.header:
            if isinstance(child.tag, str) and etree.QName(child).localname == "MessageID":
                return (child.text or "").strip() or None
        return None


def parse_request(data: bytes) -> ParsedRequest:
    """Parse a SOAP request; refuse DTDs, entities, SOAP 1.1 and bodies without an element."""
    try:
        root = parse_untrusted(data)
    except HostileXML:
        raise BadRequest("DTDs and entities are refused") from None
    except etree.XMLSyntaxError as exc:
        raise BadRequest(f"not well-formed XML: {exc}") from None
    qname = etree.QName(root)
    if qname.localname != "Envelope":
        raise BadRequest("the root element is not a SOAP Envelope")
    if qname.namespace != NS["env"]:
        raise BadRequest("only SOAP 1.2 envelopes are served", code="VersionMismatch", subcode=None)
    header = root.find(f"{{{NS['env']}}}Header")
    body = root.find(f"{{{NS['env']}}}Body")
    if body is None:
        raise BadRequest("the envelope has no Body")
    children = [c for c in body if isinstance(c.tag, str)]
    if not children:
        raise BadRequest("the Body is empty")
    return ParsedRequest(envelope=root, header=header, body=children[0])


def typed_request(op: Operation, body: etree._Element) -> Any:
    """Type the body element with zeep against ``op``'s input element (attribute access on the result)."""
    message = op.input
    client_body = message.body if message is not None else None
    if client_body is None:  # pragma: no cover - every ONVIF operation has a body
        return None
    return client_body.parse(body, op.binding.wsdl.types)


# --------------------------------------------------------------------------------------------- replies

_TOP_NSMAP = {
    "env": NS["env"],
    "tt": NS["tt"],
    "tds": NS["tds"],
    "trt": NS["trt"],
    "ter": NS["ter"],
    "tns1": NS["tns1"],
}


def build_envelope(
    op: Operation, values: dict[str, Any] | None, header_children: list[etree._Element] | None = None
) -> bytes:
    """Render the output message of ``op`` with ``values`` into a SOAP 1.2 envelope (bytes).

    Raises zeep's ``ValidationError`` when ``values`` does not fit the schema (a bug in a handler).
    """
    if op.output is None:  # pragma: no cover - every ONVIF operation has an output
        raise ValueError(f"{op.name} has no output message")
    key = None
    if not header_children:
        try:
            key = (id(op), pickle.dumps(values or {}, protocol=pickle.HIGHEST_PROTOCOL))
        except Exception:  # noqa: BLE001 - anything that does not pickle is simply not cached
            key = None
        if key is not None:
            with _CACHE_LOCK:
                cached = _REPLY_CACHE.get(key)
                if cached is not None:
                    _REPLY_CACHE.move_to_end(key)
                    return cached
    message = op.output.serialize(**(values or {}))
    envelope = message.content
    if header_children:
        header = envelope.find(f"{{{NS['env']}}}Header")
        if header is None:
            header = etree.Element(f"{{{NS['env']}}}Header")
            envelope.insert(0, header)
        header.extend(header_children)
    out = _finish(envelope, op.binding.wsdl.types.prefix_map)
    if key is not None:
        with _CACHE_LOCK:
            _REPLY_CACHE[key] = out
            while len(_REPLY_CACHE) > _CACHE_SIZE:
                _REPLY_CACHE.popitem(last=False)
    return out


# Rendering through zeep costs ~1 ms per profile; identical replies (same operation, same values) are served from
# a small process-wide LRU keyed by the pickled values (equal pickles hold equal data; pickling runs in C, ~10x
# faster than walking the values in Python). Values that do not pickle (lxml elements) are not cached.
_CACHE_SIZE = 512
_CACHE_LOCK = threading.Lock()
_REPLY_CACHE: collections.OrderedDict[tuple[int, bytes], bytes] = collections.OrderedDict()


def _finish(envelope: etree._Element, extra: dict[str, str] | None = None) -> bytes:
    nsmap = dict(_TOP_NSMAP)
    for prefix, uri in (extra or {}).items():
        if prefix not in nsmap and uri not in nsmap.values() and not prefix.startswith("ns"):
            nsmap[prefix] = uri
    root = etree.Element(f"{{{NS['env']}}}Envelope", nsmap=nsmap)
    root.extend(list(envelope))
    # tns1: event topics are QNames in text, so the prefix must stay declared
    etree.cleanup_namespaces(root, top_nsmap=nsmap, keep_ns_prefixes=["ter", "tt", "tns1"])
    out: bytes = etree.tostring(root, xml_declaration=True, encoding="UTF-8")
    return out


def build_raw_envelope(response: etree._Element, header_children: list[etree._Element] | None = None) -> bytes:
    """A SOAP 1.2 envelope around ``response`` (services without WSDL build their replies with lxml)."""
    envelope = etree.Element(f"{{{NS['env']}}}Envelope")
    if header_children:
        etree.SubElement(envelope, f"{{{NS['env']}}}Header").extend(header_children)
    etree.SubElement(envelope, f"{{{NS['env']}}}Body").append(response)
    extra = {k: v for k, v in (response.nsmap or {}).items() if k}
    return _finish(envelope, extra)


def fault_envelope(fault: SoapFault, *, undeclared_prefix: bool = False) -> bytes:
    """Render ``fault`` as a SOAP 1.2 Fault envelope.

    With ``undeclared_prefix`` the ``ter:`` subcode values keep their prefix but ``ter`` is not declared
    anywhere (a firmware quirk clients must survive).
    """
    env = NS["env"]
    nsmap = {"env": env} if undeclared_prefix else {"env": env, "ter": NS["ter"]}
    root = etree.Element(f"{{{env}}}Envelope", nsmap=nsmap)
    body = etree.SubElement(root, f"{{{env}}}Body")
    flt = etree.SubElement(body, f"{{{env}}}Fault")
    code = etree.SubElement(flt, f"{{{env}}}Code")
    etree.SubElement(code, f"{{{env}}}Value").text = f"env:{fault.code}"
    parent = code
    for sub in fault.subcodes:
        node = etree.SubElement(parent, f"{{{env}}}Subcode")
        etree.SubElement(node, f"{{{env}}}Value").text = f"ter:{sub}"
        parent = node
    reason = etree.SubElement(flt, f"{{{env}}}Reason")
    text = etree.SubElement(reason, f"{{{env}}}Text")
    text.set("{http://www.w3.org/XML/1998/namespace}lang", "en")
    text.text = fault.reason
    out: bytes = etree.tostring(root, xml_declaration=True, encoding="UTF-8")
    return out


def render_element(wsdl: str, qname: str, value: Any) -> etree._Element:
    """Render the global element ``qname`` (``{ns}Local``) of ``wsdl`` with ``value`` into an lxml element."""
    element = wsdl_client(wsdl).get_element(qname)
    holder = etree.Element("holder")
    element.render(holder, value)
    return holder[0]
