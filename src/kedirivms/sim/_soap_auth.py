"""Authentication checks of the virtual camera: WS-UsernameToken, HTTP Digest (RFC 7616, MD5) and Basic."""

from __future__ import annotations

import base64
import binascii
import collections
import datetime as dt
import hashlib
import hmac
import os
import re
import threading
import time

from lxml import etree

from kedirivms.sim._models import CameraState

__all__ = ["AuthFailure", "DigestAuthority", "check_basic", "check_username_token", "parse_xs_datetime"]

_WSSE = "http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-wssecurity-secext-1.0.xsd"
_WSU = "http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-wssecurity-utility-1.0.xsd"


class AuthFailure(Exception):
    """Credentials were presented but are wrong (the reason never holds a password)."""


def parse_xs_datetime(text: str) -> dt.datetime:
    """Parse an xs:dateTime leniently (``Z``/offset/none = UTC, fractions, ``-`` or space for ``T``)."""
    value = text.strip()
    m = re.fullmatch(r"(\d{4}-\d{2}-\d{2})[T \-](\d{2}:\d{2}:\d{2})(\.\d+)?(Z|[+-]\d{2}:?\d{2})?", value)
    if not m:
        raise ValueError(f"not a date-time: {value!r}")
    date, clock, frac, zone = m.groups()
    frac = (frac or "")[:7]
    tz = "+00:00" if zone in (None, "Z") else zone if ":" in zone else f"{zone[:3]}:{zone[3:]}"
    parsed = dt.datetime.fromisoformat(f"{date}T{clock}{frac}{tz}")
    return parsed.astimezone(dt.UTC)


class _NonceCache:
    """Recently seen UsernameToken nonces (replays are refused)."""

    def __init__(self, size: int = 4096) -> None:
        self._seen: collections.OrderedDict[str, None] = collections.OrderedDict()
        self._size = size
        self._lock = threading.Lock()

    def add(self, nonce: str) -> bool:
        """Remember ``nonce``; False if it was already seen."""
        with self._lock:
            if nonce in self._seen:
                return False
            self._seen[nonce] = None
            while len(self._seen) > self._size:
                self._seen.popitem(last=False)
            return True


def check_username_token(
    header: etree._Element | None,
    state: CameraState,
    camera_now: dt.datetime,
    window_s: float | None,
    nonces: _NonceCache,
) -> str | None:
    """Verify the WS-Security UsernameToken in ``header``.

    Returns:
        the user name when valid, None when the header carries no UsernameToken.

    Raises:
        AuthFailure: a token is present but wrong (unknown user, bad digest, stale Created, replayed nonce).
    """
    if header is None:
        return None
    token = header.find(f"{{{_WSSE}}}Security/{{{_WSSE}}}UsernameToken")
    if token is None:
        return None
    username = (token.findtext(f"{{{_WSSE}}}Username") or "").strip()
    pw_node = token.find(f"{{{_WSSE}}}Password")
    if not username or pw_node is None:
        raise AuthFailure("UsernameToken without Username or Password")
    user = state.user(username)
    if user is None:
        raise AuthFailure("unknown user")
    secret = user.password.get_secret_value().encode()
    supplied = (pw_node.text or "").strip()
    if (pw_node.get("Type") or "").endswith("#PasswordText"):
        if not hmac.compare_digest(supplied.encode(), secret):
            raise AuthFailure("wrong password")
        return username
    nonce_text = (token.findtext(f"{{{_WSSE}}}Nonce") or "").strip()
    created_text = (token.findtext(f"{{{_WSU}}}Created") or "").strip()
    if not nonce_text or not created_text:
        raise AuthFailure("PasswordDigest needs Nonce and Created")
    try:
        nonce = base64.b64decode(nonce_text, validate=True)
        created = parse_xs_datetime(created_text)
    except (binascii.Error, ValueError):
        raise AuthFailure("unreadable Nonce or Created") from None
    expected = base64.b64encode(hashlib.sha1(nonce + created_text.encode() + secret).digest()).decode()
    if not hmac.compare_digest(expected, supplied):
        raise AuthFailure("wrong password digest")
    if window_s is not None and abs((created - camera_now).total_seconds()) > window_s:
        raise AuthFailure("the token's Created time is too far from the camera clock")
    if not nonces.add(nonce_text):
        raise AuthFailure("replayed nonce")
    return username


def check_basic(authorization: str | None, state: CameraState) -> str | None:
    """Verify an HTTP Basic ``Authorization`` header; user name or None (absent/other scheme).

    Raises:
        AuthFailure: Basic credentials that do not match.
    """
    if not authorization or not authorization.lower().startswith("basic "):
        return None
    try:
        user, _, password = base64.b64decode(authorization[6:].strip()).decode("utf-8").partition(":")
    except (binascii.Error, UnicodeDecodeError):
        raise AuthFailure("unreadable Basic credentials") from None
    account = state.user(user)
    if account is None or not hmac.compare_digest(account.password.get_secret_value().encode(), password.encode()):
        raise AuthFailure("wrong user name or password")
    return user


_PARAM = re.compile(r'(\w+)\s*=\s*(?:"((?:[^"\\]|\\.)*)"|([^,\s]+))')


class DigestAuthority:
    """Issues and checks HTTP Digest challenges (RFC 7616, MD5, qop=auth) for one camera.

    Nonces are stateless (time stamp + HMAC); a nonce older than ``nonce_ttl_s`` is answered with
    ``stale=true``.
    """

    def __init__(self, realm: str, nonce_ttl_s: float = 300.0) -> None:
        self.realm = realm
        self._key = os.urandom(16)
        self._ttl = nonce_ttl_s

    def _nonce(self) -> str:
        stamp = f"{time.time():.3f}"
        mac = hmac.new(self._key, stamp.encode(), hashlib.sha256).hexdigest()[:32]
        return base64.b64encode(f"{stamp}:{mac}".encode()).decode()

    def challenge(self, *, stale: bool = False) -> str:
        """A ``WWW-Authenticate`` header value."""
        opaque = hashlib.md5(self.realm.encode()).hexdigest()
        value = f'Digest realm="{self.realm}", qop="auth", algorithm=MD5, nonce="{self._nonce()}", opaque="{opaque}"'
        return value + (", stale=true" if stale else "")

    def _nonce_age(self, nonce: str) -> float | None:
        try:
            stamp, mac = base64.b64decode(nonce).decode().split(":", 1)
            good = hmac.new(self._key, stamp.encode(), hashlib.sha256).hexdigest()[:32]
            if not hmac.compare_digest(good, mac):
                return None
            return time.time() - float(stamp)
        except (ValueError, binascii.Error, UnicodeDecodeError):
            return None

    def check(
        self, authorization: str | None, method: str, state: CameraState, request_uri: str | None = None
    ) -> str | None:
        """Verify a Digest ``Authorization`` header; user name, or None when absent/other scheme.

        ``request_uri`` (the HTTP request-target) must match the header's ``uri`` when given.

        Raises:
            AuthFailure: wrong credentials; ``args[1]`` is True when only the nonce was stale.
        """
        if not authorization or not authorization.lower().startswith("digest "):
            return None
        params = {k.lower(): q or v for k, q, v in _PARAM.findall(authorization)}
        user = params.get("username", "")
        nonce = params.get("nonce", "")
        uri = params.get("uri", "")
        response = params.get("response", "")
        if params.get("realm") != self.realm or not nonce or not response:
            raise AuthFailure("incomplete Digest credentials", False)
        if request_uri is not None and uri != request_uri:
            raise AuthFailure("Digest uri does not match the request", False)
        if params.get("algorithm", "MD5").upper() != "MD5":
            raise AuthFailure("unsupported Digest algorithm", False)
        account = state.user(user)
        if account is None:
            raise AuthFailure("unknown user", False)
        age = self._nonce_age(nonce)
        if age is None:
            raise AuthFailure("nonce not issued by this camera", False)
        ha1 = hashlib.md5(f"{user}:{self.realm}:{account.password.get_secret_value()}".encode()).hexdigest()
        ha2 = hashlib.md5(f"{method}:{uri}".encode()).hexdigest()
        qop = params.get("qop")
        if qop:
            if qop != "auth":
                raise AuthFailure("unsupported qop", False)
            material = f"{ha1}:{nonce}:{params.get('nc', '')}:{params.get('cnonce', '')}:auth:{ha2}"
        else:
            material = f"{ha1}:{nonce}:{ha2}"
        if not hmac.compare_digest(hashlib.md5(material.encode()).hexdigest(), response.lower()):
            raise AuthFailure("wrong user name or password", False)
        if age > self._ttl:
            raise AuthFailure("stale nonce", True)
        return user
