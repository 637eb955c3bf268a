"""One camera's SOAP transport: a requests session, auth state, clock offset, service addresses, error mapping.

Most messages are built and read with the process-wide zeep clients of :mod:`._wsdl`. The few read on every
connect (clock, services, identity, profiles, encoder configurations) go through :meth:`OnvifTransport.call_xml`:
a request written as text and a reply read with lxml (:mod:`._replies`), which costs a fraction of zeep's
schema-driven (de)serialisation and needs no parsed WSDL. Both share one path for HTTP, auth, retries, faults
and quirks. HTTP goes through this camera's own :class:`requests.Session` with (connect, read) time-outs on every
call, so a slow camera never holds up another one and no zeep/requests/lxml exception escapes.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Literal, TypeVar
from urllib.parse import urlsplit, urlunsplit

import requests
import urllib3
import zeep.exceptions
from lxml import etree
from requests.auth import AuthBase, HTTPBasicAuth
from tenacity import Retrying, retry_if_exception_type, stop_after_attempt, wait_incrementing

from kedirivms import _http_limits
from kedirivms._redact import register_secret, strip_userinfo
from kedirivms.errors import (
    AuthenticationFailed,
    ConnectionFailed,
    InvalidArgument,
    NotSupported,
    ProtocolError,
    Timeout,
)
from kedirivms.onvif import _auth, _limits, _replies, _xml
from kedirivms.onvif._faults import error_for_fault
from kedirivms.onvif._wsdl import SERVICES, client_for
from kedirivms.onvif.models import Limits

log = logging.getLogger("kedirivms.onvif")
_T = TypeVar("_T")

AuthMode = Literal["auto", "username_token", "digest", "basic", "none"]

_RETRY_SAFE_PREFIXES = ("Get", "Find")
# what reading a hostile reply can raise in zeep, lxml, pydantic and our readers (one boundary for all of them)
_READ_ERRORS = (
    zeep.exceptions.Error,
    ValueError,
    TypeError,
    AttributeError,
    LookupError,
    ArithmeticError,
    RecursionError,
    etree.LxmlError,
)


@dataclass(frozen=True)
class BoundService:
    """A service's shared zeep binding and the address to send its operations to."""

    binding: Any
    options: dict[str, str]


class OnvifTransport:
    """SOAP over HTTP to one camera. Thread-safe: calls may come from several threads at once."""

    def __init__(
        self,
        host: str,
        port: int,
        *,
        device_path: str = "/onvif/device_service",
        scheme: str = "http",
        username: str | None,
        password: str | None,
        connect_timeout: float,
        read_timeout: float,
        auth: AuthMode = "auto",
        rewrite_addresses: bool = True,
        label: str,
        retries: int = 1,
        request_timeout: float | None = None,
        limits: Limits | None = None,
    ) -> None:
        self.host = host
        self.port = port
        self.scheme = scheme
        self.label = label
        self.username = username
        self._password = password
        self.connect_timeout = connect_timeout
        self.read_timeout = read_timeout
        self.request_timeout = request_timeout
        self.limits = limits or Limits()
        register_secret(password)
        self.rewrite_addresses = rewrite_addresses
        self.retries = retries
        self.forced_auth = auth != "auto"
        self.auth_mode: AuthMode = auth if auth != "auto" else ("username_token" if username else "none")
        self.clock_offset_s: float = 0.0
        self.clock_learned = False
        self.device_url = self._url(device_path)
        self.xaddrs: dict[str, str] = {"device": self.device_url}
        self._proxies: dict[str, BoundService] = {}
        self._pools: dict[str, tuple[Any, str]] = {}
        self._lock = threading.Lock()
        self.session = requests.Session()
        self.session.trust_env = False  # never route camera traffic through an environment proxy
        self.session.headers["User-Agent"] = "kedirivms"
        self.session.headers["Accept-Encoding"] = _http_limits.ACCEPT_ENCODING
        for prefix in ("http://", "https://"):  # connections that obey the whole-request deadline
            self.session.mount(prefix, _http_limits.BoundedAdapter())
        self._http_auth: AuthBase | None = None
        self._apply_http_auth()

    # ----------------------------------------------------------------- addresses
    def _url(self, path: str) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"{self.scheme}://{host}:{self.port}{path if path.startswith('/') else '/' + path}"

    def rewrite(self, url: str | None) -> str | None:
        """Return ``url`` with its host/port replaced by the ones we reached the camera at (NAT tolerance)."""
        if not url or url.strip() in ("", "(null)", "null", "None"):
            return None
        url = url.strip()
        if not self.rewrite_addresses:
            return url
        try:
            parts = urlsplit(url)
            port = parts.port
        except ValueError:  # "http://[::1/x", a port of "99999": nothing we could send a request to
            log.debug("%s: ignoring an unusable address", self.label)
            return None
        if not parts.hostname:
            return url
        web = parts.scheme in ("http", "https")
        if parts.hostname == self.host and (not web or parts.scheme == "https" or port == self.port):
            return url
        host = f"[{self.host}]" if ":" in self.host else self.host
        userinfo = parts.netloc.rsplit("@", 1)[0] + "@" if "@" in parts.netloc else ""
        if parts.scheme in ("http", "https"):
            netloc = f"{userinfo}{host}:{self.port}"
        else:  # rtsp and friends keep their own port, on the reached host
            netloc = f"{userinfo}{host}" + (f":{port}" if port else "")
        return urlunsplit((parts.scheme, netloc, parts.path, parts.query, parts.fragment))

    def set_xaddr(self, service: str, url: str | None) -> None:
        fixed = self.rewrite(url)
        if fixed:  # credentials in an advertised address are the camera's, never ours to send or show
            fixed = strip_userinfo(fixed)
        if fixed:
            self.xaddrs[service] = fixed
            self._proxies.pop(service, None)

    def xaddr(self, service: str) -> str:
        try:
            return self.xaddrs[service]
        except KeyError:
            raise NotSupported(
                f"the camera does not advertise the {service} service",
                camera=self.label,
                operation=service,
                hint="check GetServices/GetCapabilities of this camera",
            ) from None

    # ----------------------------------------------------------------- auth
    def _apply_http_auth(self) -> None:
        if self.username is None or self._password is None:
            self._http_auth = None
        elif self.auth_mode == "digest":
            self._http_auth = _limits.BoundedDigestAuth(self.username, self._password, self.limits.max_reply_bytes)
        elif self.auth_mode == "basic":
            self._http_auth = HTTPBasicAuth(self.username, self._password)
        else:
            self._http_auth = None

    @property
    def http_auth(self) -> AuthBase | None:
        """HTTP auth for side requests (snapshots): the camera's mode, or Digest when unknown."""
        if self._http_auth is not None:
            return self._http_auth
        if self.username is None or self._password is None:
            return None
        return _limits.BoundedDigestAuth(self.username, self._password, 8 * self.limits.max_reply_bytes)

    def secrets(self) -> tuple[str, ...]:
        return (self._password,) if self._password else ()

    def close(self) -> None:
        """Close the HTTP connections; the next call opens new ones (state such as the clock offset is kept)."""
        self._pools.clear()
        self.session.close()

    # ----------------------------------------------------------------- calls
    def proxy(self, service: str) -> BoundService:
        """The shared zeep binding of ``service`` bound to this camera's address (cached per camera)."""
        bound = self._proxies.get(service)
        if bound is None:
            bound = self._bind(service, self.xaddr(service))
            self._proxies[service] = bound
        return bound

    @staticmethod
    def _bind(service: str, address: str) -> BoundService:
        try:
            binding = client_for(service).wsdl.bindings[SERVICES[service].binding]
        except KeyError:  # pragma: no cover - the service table names bindings of the shipped WSDLs
            raise NotSupported(f"no binding for the {service} service", operation=service) from None
        return BoundService(binding, {"address": address})

    def call(
        self,
        service: str,
        operation: str,
        *,
        address: str | None = None,
        authenticated: bool = True,
        timeout: float | None = None,
        soap_headers: list[etree._Element] | None = None,
        raw: bool = False,
        **kwargs: Any,
    ) -> Any:
        """Call ``operation`` on ``service``; return zeep's deserialised result.

        Args:
            address: call this address instead of the service's (e.g. a pull point the camera returned).
            authenticated: send credentials (GetSystemDateAndTime is tried without first).
            timeout: read time-out for this call (long polls), instead of the camera's.
            soap_headers: extra SOAP headers (WS-Addressing ``To``, reference parameters).
            raw: return ``(envelope, result)``: the parsed, quirk-normalised reply beside zeep's result, for
                content zeep drops (e.g. the mixed-content ``wsnt:Topic`` text).

        Raises the kedirivms error matching the failure; never a raw zeep/requests/lxml exception.
        """
        client = client_for(service)
        if address is not None:
            bound = self._bind(service, address)
        else:
            bound = self.proxy(service)
            address = self.xaddr(service)
        try:
            # zeep's create_message() insists on a default wsdl:service; ONVIF WSDLs have none, so build with the
            # binding and this camera's address (what a zeep ServiceProxy would pass, without building one).
            envelope, http_headers = bound.binding._create(operation, (), kwargs, client=client, options=bound.options)
        except (TypeError, ValueError, AttributeError, zeep.exceptions.Error) as exc:
            raise InvalidArgument(
                f"could not build the request: {exc}",
                camera=self.label,
                operation=operation,
                hint="check argument names and types against the ONVIF WSDL",
            ) from exc
        for header in soap_headers or ():
            _auth.soap_header(envelope).append(header)
        env_ns = etree.QName(envelope).namespace or _xml.SOAP12_ENV

        def render(use_wsse: bool) -> bytes:
            if use_wsse:
                _auth.add_security(
                    envelope,
                    _auth.security_header(self.username or "", self._password or "", self.clock_offset_s, env_ns),
                )
            else:
                _auth.remove_security(envelope)
            return etree.tostring(envelope, xml_declaration=True, encoding="utf-8")

        # zeep's headers carry the SOAP 1.2 action parameter (or SOAPAction for 1.1) some firmware requires
        http_headers.setdefault(
            "Content-Type",
            "application/soap+xml; charset=utf-8" if env_ns == _xml.SOAP12_ENV else "text/xml; charset=utf-8",
        )
        root = self._exchange(operation, address, render, http_headers, authenticated=authenticated, timeout=timeout)
        result = self._deserialize(bound, operation, root)
        return (root, result) if raw else result

    def call_xml(
        self,
        service: str,
        operation: str,
        payload: str = "",
        *,
        authenticated: bool = True,
        timeout: float | None = None,
    ) -> etree._Element:
        """Call ``operation`` without zeep; return the reply's response element (the SOAP Body's first child).

        For the few replies read on every connect (clock, services, identity, profiles): building and reading
        them with lxml costs a fraction of zeep's schema-driven (de)serialisation and needs no parsed WSDL.
        ``payload`` is the operation element's content as XML text, in the service's namespace (default
        namespace) with ``tt`` bound to the ONVIF schema; callers escape any value they put in it.
        Errors, auth, retries and the clock re-learn are those of :meth:`call`.
        """
        namespace = SERVICES[service].namespace
        head = f'<?xml version="1.0" encoding="utf-8"?><s:Envelope xmlns:s="{_xml.SOAP12_ENV}"><s:Header>'
        tail = (
            f'</s:Header><s:Body><{operation} xmlns="{namespace}" xmlns:tt="{_xml.ONVIF_SCHEMA}">{payload}'
            f"</{operation}></s:Body></s:Envelope>"
        )

        def render(use_wsse: bool) -> bytes:
            if not use_wsse:
                return (head + tail).encode()
            security = _auth.security_xml(
                self.username or "", self._password or "", self.clock_offset_s, _xml.SOAP12_ENV
            )
            return (head + security + tail).encode()

        headers = {"Content-Type": f'application/soap+xml; charset=utf-8; action="{namespace}/{operation}"'}
        root = self._exchange(
            operation, self.xaddr(service), render, headers, authenticated=authenticated, timeout=timeout
        )
        body = root.find(f"{{{etree.QName(root).namespace}}}Body")
        response = next((el for el in body if isinstance(el.tag, str)), None) if body is not None else None
        if response is None:
            raise self.unreadable(operation, "the reply has an empty SOAP Body")
        return response

    def unreadable(self, operation: str, what: str, exc: BaseException | None = None) -> ProtocolError:
        """The error for a reply that does not match the ONVIF schema (``what``, and the parser's complaint)."""
        detail = f"{what}: {type(exc).__name__}: {exc}".splitlines()[0] if exc is not None else what
        return ProtocolError(
            detail, camera=self.label, operation=operation, hint="the reply does not match the ONVIF schema"
        )

    def read(self, operation: str, reader: Callable[[etree._Element], _T], reply: etree._Element) -> _T:
        """``reader(reply)`` with unreadable values (a width of ``"wide"``) reported as :class:`ProtocolError`."""
        try:
            return reader(reply)
        except _READ_ERRORS as exc:  # pydantic's ValidationError is a ValueError
            raise self.unreadable(operation, "could not read the reply", exc) from exc

    def to_zeep(self, service: str, type_name: str, element: etree._Element) -> Any:
        """``element`` (read with :meth:`call_xml`) as the zeep value of XSD type ``type_name``, for a ``Set``."""
        client = client_for(service)
        try:
            return client.get_type(type_name).parse_xmlelement(element, client.wsdl.types)
        except _READ_ERRORS as exc:
            raise self.unreadable(type_name, f"could not read {etree.QName(element).localname}", exc) from exc

    def _exchange(
        self,
        operation: str,
        address: str,
        render: Callable[[bool], bytes],
        http_headers: dict[str, str],
        *,
        authenticated: bool,
        timeout: float | None,
    ) -> etree._Element:
        """Send the request (``render(use_wsse)`` gives its bytes) and return the checked reply; on NotAuthorized
        re-learn the clock once and resend."""
        relearned = False
        while True:
            try:
                return self._post_retrying(
                    operation, address, render, http_headers, authenticated=authenticated, timeout=timeout
                )
            except AuthenticationFailed:
                # The token may have been built with a stale clock offset: re-learn it once and retry.
                if (
                    relearned
                    or not authenticated
                    or self.auth_mode != "username_token"
                    or operation == "GetSystemDateAndTime"
                ):
                    raise
                relearned = True
                self.learn_clock()

    def _post_retrying(self, operation: str, *args: Any, **kwargs: Any) -> etree._Element:
        """:meth:`_post`, retried with back-off on a dropped connection for read-only operations (Get*, Find*)."""
        attempts = 1 + self.retries if operation.startswith(_RETRY_SAFE_PREFIXES) else 1
        retrying = Retrying(
            stop=stop_after_attempt(attempts),
            wait=wait_incrementing(start=0.1, increment=0.1),
            retry=retry_if_exception_type(ConnectionFailed),
            reraise=True,
        )
        for attempt in retrying:
            with attempt:
                return self._post(operation, *args, **kwargs)
        raise AssertionError("unreachable: tenacity re-raises the last error")

    def _post(
        self,
        operation: str,
        address: str,
        render: Callable[[bool], bytes],
        http_headers: dict[str, str],
        *,
        authenticated: bool,
        timeout: float | None,
    ) -> etree._Element:
        switched = False
        while True:
            use_wsse = authenticated and self.auth_mode == "username_token" and self.username is not None
            body = render(use_wsse)
            status, reply_headers, content = self._send(
                operation,
                address,
                body,
                http_headers,
                self._http_auth if authenticated else None,
                timeout or self.read_timeout,
            )
            if status == 401:
                if authenticated and not self.forced_auth and not switched and self.username is not None:
                    challenge = reply_headers.get("WWW-Authenticate", "").lower()
                    new_mode: AuthMode | None = (
                        "digest" if "digest" in challenge else "basic" if "basic" in challenge else None
                    )
                    if new_mode and new_mode != self.auth_mode:
                        log.debug("%s: switching to HTTP %s auth", self.label, new_mode)
                        self.auth_mode = new_mode
                        self._apply_http_auth()
                        switched = True
                        continue
                raise AuthenticationFailed(
                    "HTTP 401: credentials refused" if authenticated else "HTTP 401: the camera requires credentials",
                    camera=self.label,
                    operation=operation,
                    hint="check user name and password (and auth mode)",
                )
            return self._read(operation, status, content)

    def _pool(self, address: str) -> tuple[Any, str]:
        """The session's urllib3 pool for ``address`` and the request path (cached per address)."""
        found = self._pools.get(address)
        if found is None:
            adapter: Any = self.session.get_adapter(address)  # requests' HTTPAdapter and its urllib3 pools
            parts = urlsplit(address)
            found = (
                adapter.poolmanager.connection_from_url(address),
                parts.path + (f"?{parts.query}" if parts.query else ""),
            )
            self._pools[address] = found
        return found

    def _send(
        self,
        operation: str,
        address: str,
        body: bytes,
        headers: dict[str, str],
        auth: AuthBase | None,
        read_timeout: float,
    ) -> tuple[int, Mapping[str, str], bytes]:
        """POST ``body``; return (status, headers, content). Errors become Timeout/ConnectionFailed.

        Without HTTP auth (WS-UsernameToken or none, most ONVIF traffic) the request goes straight to the
        session's urllib3 pool: requests' per-call preparation costs more CPU than the SOAP message itself.
        Digest/Basic go through requests, which answers the challenges. Either way the whole exchange runs
        under the request deadline and the body is read with the size cap (:mod:`kedirivms._http_limits`).
        """
        connect = min(self.connect_timeout, self.request_deadline(read_timeout))
        return self._within_deadline(
            operation,
            address,
            read_timeout,
            lambda: self._send_bounded(address, body, headers, auth, connect, read_timeout),
        )

    def get(
        self, operation: str, url: str, *, timeout: float | None = None, limit: int | None = None
    ) -> tuple[int, bytes]:
        """HTTP GET ``url`` (snapshots) with this camera's auth, deadline and size cap; return (status, body)."""
        read_timeout = timeout or self.read_timeout
        connect = min(self.connect_timeout, self.request_deadline(read_timeout))

        def fetch() -> tuple[int, bytes]:
            resp = self.session.get(
                url,
                auth=self.http_auth,
                timeout=(connect, read_timeout),
                allow_redirects=False,  # requests would read a redirect's body without a cap
                stream=True,
            )
            try:
                return resp.status_code, _limits.read_response(resp, limit or self.limits.max_reply_bytes)
            finally:
                resp.close()

        return self._within_deadline(operation, url, read_timeout, fetch)

    def _within_deadline(self, operation: str, address: str, read_timeout: float, fn: Callable[[], _T]) -> _T:
        """``fn()`` under the whole-request deadline; any failure becomes the matching kedirivms error."""
        with _http_limits.deadline(self.request_deadline(read_timeout)) as scope:
            try:
                result = fn()
            except Exception as exc:  # noqa: BLE001 - the one boundary for requests/urllib3/http.client errors
                raise self._send_error(exc, scope, operation, address, read_timeout) from exc
            if scope.expired:  # a body without a length ends "cleanly" when the watchdog cuts it: it is partial
                raise self._send_error(TimeoutError(), scope, operation, address, read_timeout)
            return result

    def request_deadline(self, read_timeout: float | None = None) -> float:
        """Seconds a whole request may take (connect, headers, body) when its read time-out is ``read_timeout``."""
        if self.request_timeout is not None and (read_timeout is None or read_timeout == self.read_timeout):
            return self.request_timeout
        return self.connect_timeout + (read_timeout if read_timeout is not None else self.read_timeout)

    def _send_bounded(
        self,
        address: str,
        body: bytes,
        headers: dict[str, str],
        auth: AuthBase | None,
        connect: float,
        read_timeout: float,
    ) -> tuple[int, Mapping[str, str], bytes]:
        limit = self.limits.max_reply_bytes
        if auth is None:
            pool, path = self._pool(address)
            reply = pool.urlopen(
                "POST",
                path,
                body=body,
                headers={"User-Agent": "kedirivms", "Accept-Encoding": _http_limits.ACCEPT_ENCODING, **headers},
                timeout=urllib3.Timeout(connect=connect, read=read_timeout),
                retries=False,
                redirect=False,
                preload_content=False,
                decode_content=False,
            )
            try:
                return reply.status, reply.headers, _http_limits.read_body(reply, limit)
            finally:
                reply.release_conn()
        resp = self.session.post(
            address,
            data=body,
            headers=headers,
            auth=auth,
            timeout=(connect, read_timeout),
            allow_redirects=False,
            stream=True,
        )
        try:
            return resp.status_code, resp.headers, _limits.read_response(resp, limit)
        finally:
            resp.close()

    def _send_error(
        self, exc: Exception, scope: _http_limits.DeadlineScope, operation: str, address: str, read_timeout: float
    ) -> Exception:
        """The kedirivms error for ``exc``, raised while sending ``operation`` (one boundary for requests/urllib3)."""
        mapped = _limits.map_limit_error(exc, camera=self.label, operation=operation)
        if mapped is not None:
            return mapped
        if scope.expired:
            return Timeout(
                f"no complete reply within the request deadline of {scope.seconds:g} s",
                camera=self.label,
                operation=operation,
                hint="the camera is slow or stalls mid-reply; raise timeout= (Timeouts.request) if it is known slow",
            )
        reach_hint = "check the address, port and that the camera is powered and routed"
        if _http_limits.broken_http(exc):
            return ProtocolError(
                f"the reply is not valid HTTP ({_http_limits.broken_http(exc)})",
                camera=self.label,
                operation=operation,
                hint="the device at this address does not speak HTTP correctly; check the port",
            )
        if isinstance(exc, urllib3.exceptions.NewConnectionError):  # a subclass of ConnectTimeoutError in urllib3
            return ConnectionFailed(
                f"could not reach {address}: connection refused or unroutable",
                camera=self.label,
                operation=operation,
                hint=reach_hint,
            )
        if isinstance(exc, requests.exceptions.Timeout | urllib3.exceptions.TimeoutError):
            return Timeout(
                f"no reply within {read_timeout:g} s (connect {self.connect_timeout:g} s)",
                camera=self.label,
                operation=operation,
                hint="the camera is slow or unreachable; raise timeout= if it is known to be slow",
            )
        if isinstance(exc, requests.exceptions.RequestException | urllib3.exceptions.HTTPError | OSError):
            return ConnectionFailed(
                f"could not reach {address}: {type(exc).__name__}",
                camera=self.label,
                operation=operation,
                hint=reach_hint,
            )
        # http.client's HTTPException, a ValueError from a header or chunk size it cannot read...
        return ProtocolError(
            f"unreadable HTTP reply from {address}: {type(exc).__name__}",
            camera=self.label,
            operation=operation,
            hint="the camera or something in between broke the HTTP exchange",
        )

    def _read(self, operation: str, status: int, content: bytes) -> etree._Element:
        try:
            root = _xml.normalise(_xml.parse(content), content)
            fault = _xml.find_fault(root)
        except _xml.HostileXML as exc:
            raise ProtocolError(
                f"refused a hostile reply ({exc})",
                camera=self.label,
                operation=operation,
                hint="the camera or something in between returned XML with a DTD/entities",
            ) from None
        except (etree.LxmlError, ValueError, RecursionError) as exc:
            raise ProtocolError(
                f"HTTP {status} with a reply that is not well-formed XML ({len(content)} bytes)",
                camera=self.label,
                operation=operation,
                hint="the firmware returned a broken reply; retry or update the firmware",
            ) from exc
        if fault is not None:
            raise error_for_fault(fault, camera=self.label, operation=operation)
        if status != 200:
            raise ProtocolError(
                f"HTTP {status} without a SOAP fault",
                camera=self.label,
                operation=operation,
                hint="the device may not implement this service at this address",
            )
        return root

    def _deserialize(self, bound: BoundService, operation: str, root: etree._Element) -> Any:
        try:
            op = bound.binding.get(operation)
            return op.process_reply(root)
        except _READ_ERRORS as exc:  # zeep meets an empty Body with an IndexError, "1e309" with an OverflowError
            raise self.unreadable(operation, "could not read the reply", exc) from exc

    # ----------------------------------------------------------------- clock
    def read_clock(self) -> etree._Element:
        """GetSystemDateAndTime (unauthenticated first, as ONVIF allows; authenticated if refused).

        Learns the clock offset (camera UTC - our UTC, from the middle of the round trip) and returns the
        response element.
        """
        for authenticated in (False, True):
            sent = time.time()
            try:
                reply = self.call_xml("device", "GetSystemDateAndTime", authenticated=authenticated)
            except AuthenticationFailed:
                if authenticated or self.username is None:
                    raise
                continue
            received = time.time()
            camera_utc = _replies.utc_time(reply)
            if camera_utc is None:
                log.debug("%s: GetSystemDateAndTime without a usable time; offset unchanged", self.label)
                return reply
            local_mid = datetime.fromtimestamp((sent + received) / 2, UTC)
            self.clock_offset_s = (camera_utc - local_mid).total_seconds()
            self.clock_learned = True
            return reply
        raise AssertionError("unreachable: the authenticated attempt returns or raises")

    def learn_clock(self) -> float:
        """Learn the camera clock offset (camera UTC - our UTC) from GetSystemDateAndTime; return it."""
        self.read_clock()
        return self.clock_offset_s
