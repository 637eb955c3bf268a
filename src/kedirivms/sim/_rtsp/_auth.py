"""RTSP authentication for the virtual camera: HTTP Digest (RFC 2617, as RTSP cameras do it) and Basic."""

from __future__ import annotations

import base64
import hashlib
import hmac
import os
import re
import time

REALM = "kedirivms"
NONCE_TTL = 300.0  # seconds a nonce stays valid
_PARAM = re.compile(r'(\w+)\s*=\s*(?:"([^"]*)"|([^\s,]+))')


def _md5(text: str) -> str:
    return hashlib.md5(text.encode(), usedforsecurity=False).hexdigest()


class RtspAuth:
    """Checks ``Authorization`` headers against a user table; issues ``WWW-Authenticate`` challenges."""

    def __init__(self, users: dict[str, str], scheme: str = "digest") -> None:
        self.users = dict(users)
        self.scheme = scheme
        self._secret = os.urandom(16)

    def _nonce(self) -> str:
        stamp = f"{time.time():.0f}"
        mac = hmac.new(self._secret, stamp.encode(), hashlib.sha256).hexdigest()[:24]
        return f"{stamp}:{mac}"

    def _nonce_ok(self, nonce: str) -> bool:
        stamp, _, mac = nonce.partition(":")
        good = hmac.new(self._secret, stamp.encode(), hashlib.sha256).hexdigest()[:24]
        try:
            fresh = time.time() - float(stamp) < NONCE_TTL
        except ValueError:
            return False
        return fresh and hmac.compare_digest(mac, good)

    def challenge(self) -> str:
        """The ``WWW-Authenticate`` header value for a 401."""
        if self.scheme == "basic":
            return f'Basic realm="{REALM}"'
        return f'Digest realm="{REALM}", nonce="{self._nonce()}", algorithm=MD5'

    def check(self, method: str, header: str) -> bool:
        """True if ``header`` (the request's Authorization) proves a known user's password."""
        kind, _, rest = header.strip().partition(" ")
        kind = kind.lower()
        if kind == "basic" and self.scheme == "basic":
            try:
                user, _, password = base64.b64decode(rest).decode().partition(":")
            except (ValueError, UnicodeDecodeError):
                return False
            expected = self.users.get(user)
            return expected is not None and hmac.compare_digest(password, expected)
        if kind != "digest" or self.scheme != "digest":
            return False
        params: dict[str, str] = {}
        for m in _PARAM.finditer(rest):
            params[m.group(1).lower()] = m.group(2) if m.group(2) is not None else m.group(3)
        user, nonce, uri, response = (params.get(k, "") for k in ("username", "nonce", "uri", "response"))
        known = self.users.get(user)
        if known is None or not self._nonce_ok(nonce):
            return False
        ha1 = _md5(f"{user}:{params.get('realm', REALM)}:{known}")
        ha2 = _md5(f"{method}:{uri}")
        if params.get("qop"):
            expected = _md5(f"{ha1}:{nonce}:{params.get('nc', '')}:{params.get('cnonce', '')}:{params['qop']}:{ha2}")
        else:
            expected = _md5(f"{ha1}:{nonce}:{ha2}")
        return hmac.compare_digest(response.lower(), expected)
