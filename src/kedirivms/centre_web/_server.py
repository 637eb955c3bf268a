"""The centre's web page and its JSON API on the standard library's threading HTTP server."""

from __future__ import annotations

import contextlib
import gzip
import hashlib
import ipaddress
import json
import logging
import secrets
import socket
import ssl
import sys
import threading
import time
from http import HTTPStatus
from http.cookies import CookieError, SimpleCookie
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from importlib import resources
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit

from kedirivms.centre_web._auth import Sessions
from kedirivms.centre_web._data import CentreData
from kedirivms.centre_web._evidence import Evidence, alert_window
from kedirivms.cluster.evidence import MAX_RANGE_S
from kedirivms.errors import ClusterError, ClusterTimeout, ConfigError, InvalidArgument, KedirivmsError

__all__ = ["CentreWeb"]

log = logging.getLogger("kedirivms.centre_web")

_STATIC = {"/": ("index.html", "text/html; charset=utf-8"), "/static/app.js": ("app.js", "text/javascript"),
           "/static/app.css": ("app.css", "text/css")}  # fmt: skip
_COOKIE = "kvms_session"
_MAX_BODY = 16 * 1024
_CSP = "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; frame-ancestors 'none'"


def _is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


class CentreWeb:
    """Serve the centre's page and API (``/``, ``/api/...``) from a thread.

    Args:
        data: what the page shows (:class:`CentreData`).
        host: address to bind; loopback by default. Any other address needs ``users``.
        port: TCP port (0: any free port; see :attr:`url`).
        users: user name -> scrypt hash (:func:`load_users`); when given, every API call needs a login.
        tls: (certificate file, key file) to serve HTTPS.
        evidence: where clips around alerts come from (:func:`cluster_evidence`, :func:`local_evidence`); None:
            ``/api/evidence`` answers 404. The server closes it.

    Raises:
        ConfigError: a non-loopback bind without users, or an unusable certificate.
        StorageError: the port cannot be bound (as :class:`ConfigError`).

    Example:
        >>> with CentreWeb(CentreData(store)) as web:  # doctest: +SKIP
        ...     print(web.url)
    """

    def __init__(
        self,
        data: CentreData,
        *,
        host: str = "127.0.0.1",
        port: int = 8088,
        users: dict[str, str] | None = None,
        tls: tuple[str | Path, str | Path] | None = None,
        evidence: Evidence | None = None,
    ) -> None:
        if not _is_loopback(host) and not users:
            raise ConfigError(f"the centre page on {host} (not loopback) needs logins: give a users file")
        self.data = data
        self.evidence = evidence
        self.sessions = Sessions(users) if users else None
        self.csrf = secrets.token_urlsafe(32)  # the token when nobody logs in (loopback)
        self.static = {path: (resources.files(__package__).joinpath("static", name).read_bytes(), ctype)
                       for path, (name, ctype) in _STATIC.items()}  # fmt: skip
        handler = type("Handler", (_Handler,), {"web": self})
        try:
            self._httpd = _Server((host, port), handler)
        except OSError as exc:
            raise ConfigError(f"cannot serve the centre page on {host}:{port}: {exc.strerror or exc}") from None
        self._httpd.daemon_threads = True
        self.scheme = "http"
        if tls is not None:
            try:
                ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
                ctx.load_cert_chain(str(tls[0]), str(tls[1]))
            except (OSError, ssl.SSLError) as exc:
                self._httpd.server_close()
                raise ConfigError(f"cannot use the TLS certificate {tls[0]}: {exc}") from None
            # the handshake happens on the connection's own thread (first read), not in the accept loop
            self._httpd.socket = ctx.wrap_socket(self._httpd.socket, server_side=True, do_handshake_on_connect=False)
            self.scheme = "https"
        self._thread: threading.Thread | None = None
        self._cache: dict[str, tuple[int, float, bytes, str, bytes]] = {}
        self._cache_lock = threading.Lock()
        self._conns: set[socket.socket] = set()
        self._conns_lock = threading.Lock()

    def cached(self, key: str, compute: Any) -> tuple[bytes, str, bytes]:
        """(JSON body, ETag) of ``compute()``, shared by every open page: recomputed only when the store changed
        (at most once a second) or every 5 s (states that age with time: a camera going offline)."""
        with self._cache_lock:
            version = self.data.version()
            now = time.monotonic()
            entry = self._cache.get(key)
            if entry is not None:
                age = now - entry[1]
                if age < 5.0 and (entry[0] == version or age < 1.0):
                    return entry[2], entry[3], entry[4]
            body = json.dumps(compute(), separators=(",", ":")).encode()
            etag = '"' + hashlib.blake2b(body, digest_size=12).hexdigest() + '"'
            gz = gzip.compress(body, 5)  # once for every page
            self._cache[key] = (version, now, body, etag, gz)
            return body, etag, gz

    def forget(self) -> None:
        """Drop cached answers (after a write through this server)."""
        with self._cache_lock:
            self._cache.clear()

    @property
    def url(self) -> str:
        """The page's address."""
        host, port = self._httpd.server_address[:2]
        host = str(host)
        return f"{self.scheme}://{'[' + host + ']' if ':' in host else host}:{port}/"

    def start(self) -> CentreWeb:
        """Serve from a daemon thread (again: nothing more)."""
        if self._thread is not None:
            return self
        self._thread = threading.Thread(target=self._httpd.serve_forever, name="kedirivms-centre-web", daemon=True)
        self._thread.start()
        return self

    def close(self) -> None:
        """Stop serving and free the port; idempotent."""
        if self._thread is not None:
            self._httpd.shutdown()
            self._thread.join(5.0)
            self._thread = None
        self._httpd.server_close()
        with self._conns_lock:  # kept-alive connections too: a closed server answers nobody
            conns, self._conns = list(self._conns), set()
        for conn in conns:
            with contextlib.suppress(OSError):
                conn.shutdown(socket.SHUT_RDWR)
        if self.evidence is not None:
            self.evidence.close()
            self.evidence = None

    def __enter__(self) -> CentreWeb:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.close()


class _Server(ThreadingHTTPServer):
    daemon_threads = True

    def handle_error(self, request: Any, client_address: Any) -> None:
        # a browser that went away mid-answer is not an error worth a traceback on the operator's terminal
        log.debug("centre page: connection from %s ended: %s", client_address[0], sys.exc_info()[1])


class _Handler(BaseHTTPRequestHandler):
    web: CentreWeb
    timeout = 30.0  # a client that sends nothing for this long is dropped (no thread held forever)
    server_version = "kedirivms-centre"
    sys_version = ""
    protocol_version = "HTTP/1.1"

    def setup(self) -> None:
        super().setup()
        with self.web._conns_lock:
            self.web._conns.add(self.connection)

    def finish(self) -> None:
        with self.web._conns_lock:
            self.web._conns.discard(self.connection)
        super().finish()

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - the base class's name
        log.debug("%s %s", self.address_string(), format % args)

    # -- plumbing --------------------------------------------------------------------------------------------------
    def _send(
        self, status: int, body: bytes, ctype: str, headers: dict[str, str] | None = None, gz: bytes | None = None
    ) -> None:
        if len(body) > 1024 and "gzip" in self.headers.get("Accept-Encoding", ""):
            body = gz if gz is not None else gzip.compress(body, 5)
            headers = {**(headers or {}), "Content-Encoding": "gzip"}
        self.send_response(status)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Content-Security-Policy", _CSP)
        self.send_header("X-Content-Type-Options", "nosniff")
        self.send_header("Referrer-Policy", "no-referrer")
        self.send_header("Cache-Control", "no-store")
        self.send_header("X-Server-Time", f"{time.time():.3f}")  # the page's clock for "12 s ago"
        for key, value in (headers or {}).items():
            self.send_header(key, value)
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)

    def _json(self, obj: Any, status: int = 200, headers: dict[str, str] | None = None) -> None:
        body = json.dumps(obj, separators=(",", ":")).encode()
        self._body_etag(body, '"' + hashlib.blake2b(body, digest_size=12).hexdigest() + '"', status, headers)

    def _cached_json(self, key: str, compute: Any) -> None:
        body, etag, gz = self.web.cached(key, compute)
        self._body_etag(body, etag, 200, None, gz)

    def _body_etag(
        self, body: bytes, etag: str, status: int, headers: dict[str, str] | None, gz: bytes | None = None
    ) -> None:
        if status == 200 and self.headers.get("If-None-Match") == etag:
            self.send_response(HTTPStatus.NOT_MODIFIED)
            self.send_header("ETag", etag)
            self.send_header("Content-Length", "0")
            self.end_headers()
            return
        self._send(status, body, "application/json", {"ETag": etag, **(headers or {})}, gz)

    def _error(self, status: int, message: str) -> None:
        self._json({"error": message}, status)

    def _session_id(self) -> str | None:
        try:
            cookie = SimpleCookie(self.headers.get("Cookie", ""))
        except CookieError:
            return None
        morsel = cookie.get(_COOKIE)
        return morsel.value if morsel else None

    def _who(self) -> tuple[str | None, str] | None:
        """(user, csrf) when allowed; None when a login is needed."""
        sessions = self.web.sessions
        if sessions is None:
            return None, self.web.csrf
        return sessions.get(self._session_id())

    def _body(self) -> dict[str, Any]:
        try:
            length = int(self.headers.get("Content-Length") or 0)
        except ValueError:
            raise ConfigError("bad Content-Length") from None
        if not 0 <= length <= _MAX_BODY:
            raise ConfigError("request body too large")
        try:
            body = json.loads(self.rfile.read(length) or b"{}")
        except ValueError:
            raise ConfigError("the body must be JSON") from None
        if not isinstance(body, dict):
            raise ConfigError("the body must be a JSON object")
        return body

    # -- verbs -----------------------------------------------------------------------------------------------------
    def do_HEAD(self) -> None:  # noqa: N802 - http.server's name
        self.do_GET()

    def do_GET(self) -> None:  # noqa: N802
        url = urlsplit(self.path)
        path, query = url.path, {k: v[-1] for k, v in parse_qs(url.query).items()}
        if path in self.web.static:
            body, ctype = self.web.static[path]
            self._send(200, body, ctype)
            return
        if path == "/api/session":
            who = self._who()
            self._json({"login_required": self.web.sessions is not None, "user": who[0] if who else None,
                        "csrf": who[1] if who else None})  # fmt: skip
            return
        if not path.startswith("/api/"):
            self._error(404, "not found")
            return
        if self._who() is None:
            self._error(401, "login required")
            return
        data = self.web.data
        try:
            if path == "/api/fleet":
                self._cached_json("fleet", data.fleet)
            elif path == "/api/counters":
                self._cached_json("counters", lambda: {"counters": data.counters()})
            elif path == "/api/sparklines":
                self._json({"bucket_s": 60, "series": data.sparklines()})
            elif path == "/api/alerts":
                self._cached_json("alerts", lambda: {"alerts": data.alerts()})
            elif path == "/api/history":
                self._json({"events": data.history(day=query.get("day"), site=query.get("site"))})
            elif path == "/api/export.csv":
                day = query.get("day") or "today"
                body = data.day_csv(query.get("day"), site=query.get("site")).encode()
                self._send(200, body, "text/csv; charset=utf-8",
                           {"Content-Disposition": f'attachment; filename="queues-{day}.csv"'})  # fmt: skip
            elif path.startswith("/api/snapshots/") and path.endswith(".jpg"):
                snap = data.snapshot(unquote(path[len("/api/snapshots/") : -4]))
                if snap is None:
                    self._error(404, "no snapshot")
                else:
                    self._send(200, snap[1], "image/jpeg", {"X-Snapshot-Time": f"{snap[0]:.3f}"})
            elif path == "/api/evidence":
                self._evidence(query)
            elif path.startswith("/api/clips/") and path.endswith(".mp4"):
                self._clip(path[len("/api/clips/") : -4])
            else:
                self._error(404, "not found")
        except (ConfigError, InvalidArgument) as exc:
            self._error(400, str(exc))
        except ClusterTimeout as exc:
            self._error(504, str(exc))
        except ClusterError as exc:
            log.warning("centre page: %s", exc)
            self._error(502, str(exc))
        except KedirivmsError as exc:
            log.warning("centre page: %s", exc)
            self._error(500, str(exc))

    def _evidence(self, query: dict[str, str]) -> None:
        evidence = self.web.evidence
        if evidence is None:
            self._error(404, "this centre has no recordings to show (no cluster link or recording root)")
            return
        camera = query.get("camera", "")[:200]
        if not camera:
            raise ConfigError("camera is required")
        alert = None
        if "start" in query or "end" in query:
            start, end = _number(query, "start"), _number(query, "end")
            site = self.web.data.site_of(camera)
        else:
            kind, since = query.get("kind", ""), _number(query, "since")
            until, site = self.web.data.alert_span(camera, kind, since)
            start, end = alert_window(since, until, time.time(), MAX_RANGE_S)
            alert = {"kind": kind, "since": since, "until": until}
        ident, clip = evidence.clip(site, camera, start, end)
        url = None if ident is None else f"/api/clips/{ident}.mp4"
        self._json({**clip.to_json(), "site": site, "alert": alert, "url": url})

    def _clip(self, ident: str) -> None:
        evidence = self.web.evidence
        path = evidence.path(ident) if evidence is not None else None
        try:
            size = path.stat().st_size if path is not None else -1
        except OSError:
            size = -1
        if path is None or size < 0:
            self._error(404, "no such clip (ask /api/evidence again)")
            return
        first, last, status = 0, size - 1, 200
        ranged = self.headers.get("Range", "")
        if ranged.startswith("bytes="):  # the <video> element asks in ranges (seeking)
            a, _, b = ranged[6:].split(",")[0].strip().partition("-")
            try:
                first, last = (int(a), int(b) if b else size - 1) if a else (size - int(b), size - 1)
            except ValueError:
                first, last = size, size
            last = min(last, size - 1)
            if not 0 <= first <= last:
                self.send_response(HTTPStatus.REQUESTED_RANGE_NOT_SATISFIABLE)
                self.send_header("Content-Range", f"bytes */{size}")
                self.send_header("Content-Length", "0")
                self.end_headers()
                return
            status = 206
        self.send_response(status)
        self.send_header("Content-Type", "video/mp4")
        self.send_header("Content-Length", str(last - first + 1))
        self.send_header("Accept-Ranges", "bytes")
        if status == 206:
            self.send_header("Content-Range", f"bytes {first}-{last}/{size}")
        self.send_header("Cache-Control", "private, max-age=600")  # a clip never changes
        self.send_header("X-Content-Type-Options", "nosniff")
        self.end_headers()
        if self.command == "HEAD":
            return
        with path.open("rb") as f:
            f.seek(first)
            left = last - first + 1
            while left > 0:
                block = f.read(min(left, 256 * 1024))
                if not block:
                    break
                self.wfile.write(block)
                left -= len(block)

    def do_POST(self) -> None:  # noqa: N802
        path = urlsplit(self.path).path
        sessions = self.web.sessions
        try:
            if path == "/api/login":
                body = self._body()
                if sessions is None:
                    self._json({"user": None, "csrf": self.web.csrf})
                    return
                sid = sessions.login(str(body.get("user", ""))[:64], str(body.get("password", ""))[:256])
                if sid is None:
                    self._error(401, "wrong user name or password")
                    return
                session = sessions.get(sid)
                cookie = f"{_COOKIE}={sid}; Path=/; HttpOnly; Secure; SameSite=Strict"
                self._json({"user": session[0] if session else None, "csrf": session[1] if session else None},
                           headers={"Set-Cookie": cookie})  # fmt: skip
                return
            who = self._who()
            if who is None:
                self._error(401, "login required")
                return
            # every POST carries the session's token in a header: a cross-site form cannot set one
            if not secrets.compare_digest(self.headers.get("X-CSRF-Token", ""), who[1]):
                self._error(403, "missing or wrong CSRF token")
                return
            if path == "/api/logout":
                if sessions is not None:
                    sessions.logout(self._session_id())
                self._json(
                    {"ok": True},
                    headers={"Set-Cookie": f"{_COOKIE}=; Path=/; Max-Age=0; HttpOnly; Secure; SameSite=Strict"},
                )
                return
            if path == "/api/alerts/ack":
                body = self._body()
                name = str(body.get("name") or who[0] or "")
                ack = self.web.data.acknowledge(str(body.get("camera", "")), str(body.get("kind", "")),
                                                name=name, note=str(body.get("note", "")))  # fmt: skip
                self.web.forget()
                self._json(ack)
                return
            self._error(404, "not found")
        except ConfigError as exc:
            self._error(400, str(exc))
        except KedirivmsError as exc:
            log.warning("centre page: %s", exc)
            self._error(500, str(exc))


def _number(query: dict[str, str], key: str) -> float:
    try:
        value = float(query.get(key, ""))
    except ValueError:
        raise ConfigError(f"{key} must be a number (UNIX seconds)") from None
    if value != value or abs(value) > 1e11:
        raise ConfigError(f"{key} is out of range")
    return value
