"""The one redaction point: credentials and terminal-hostile text never reach output, logs, reprs or errors.

Besides URL userinfo, it knows the secrets of this process's sessions (:func:`register_secret`: every camera and
stream password), so a password echoed back by a camera, in a fault reason or an address, is redacted as well.
:func:`printable` also makes peer text safe to print: control characters escaped, length bounded.
"""

from __future__ import annotations

import re
import threading
from urllib.parse import quote, unquote, urlsplit, urlunsplit

REDACTED = "***"
MIN_SECRET_CHARS = 4  # shorter secrets would redact ordinary words; they are still kept out of URLs
PRINT_LIMIT = 400
# bounded repeats: on a megabyte of letters an unbounded scheme or user part would backtrack for minutes
_USERINFO = re.compile(r"(?P<scheme>[a-zA-Z][a-zA-Z0-9+.-]{0,31}://)(?P<user>[^/@\s:]{0,256})(?::[^/@\s]{0,1024})?@")
# C0/C1 controls, DEL, and the bidi overrides/isolates that reorder what a terminal shows
_CONTROL = re.compile("[\x00-\x1f\x7f-\x9f\u200e\u200f\u202a-\u202e\u2066-\u2069]")

_secrets: set[str] = set()
_lock = threading.Lock()


def register_secret(secret: str | None) -> None:
    """Remember ``secret`` (a password of this process's sessions) so every later redaction removes it."""
    if not secret or len(secret) < MIN_SECRET_CHARS:
        return
    with _lock:
        _secrets.add(secret)
        encoded = quote(secret, safe="")
        if encoded != secret:
            _secrets.add(encoded)


def known_secrets() -> tuple[str, ...]:
    """The registered secrets, longest first (so a secret containing another is replaced whole)."""
    with _lock:
        return tuple(sorted(_secrets, key=len, reverse=True))


def redact_url(url: str) -> str:
    """Return ``url`` with any password in its userinfo replaced by ``***`` (user name kept)."""
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError:
        return redact_text(url)
    if parts.password is None and "@" not in parts.netloc:
        return redact_text(url)
    host = parts.hostname or ""
    if ":" in host:
        host = f"[{host}]"
    netloc = host + (f":{port}" if port else "")
    if parts.username is not None:
        netloc = f"{parts.username}:{REDACTED}@{netloc}"
    return redact_text(urlunsplit((parts.scheme, netloc, parts.path, parts.query, parts.fragment)))


def redact_text(text: str, secrets: tuple[str, ...] = ()) -> str:
    """Redact URL userinfo passwords, the registered secrets and every literal secret in ``secrets``."""
    out = _USERINFO.sub(lambda m: f"{m.group('scheme')}{m.group('user')}:{REDACTED}@", text)
    for secret in (*secrets, *known_secrets()):
        if secret:
            out = out.replace(secret, REDACTED)
    return out


def escape_controls(text: str) -> str:
    """``text`` with control characters shown as escapes (a newline becomes ``\\n``): one line, no terminal codes."""
    return _CONTROL.sub(lambda m: m.group().encode("unicode_escape").decode("ascii"), text)


def printable(text: str, limit: int = PRINT_LIMIT) -> str:
    """``text`` redacted, on one line, without terminal control codes, cut to ``limit`` characters."""
    out = escape_controls(redact_text(text[: limit * 8]))
    if len(text) > limit * 8 or len(out) > limit:
        out = f"{out[:limit]}… ({len(text)} chars)"
    return out


def url_password(url: str) -> str | None:
    """The password in ``url``'s userinfo (percent-decoded), or ``None``."""
    try:
        password = urlsplit(url).password
    except ValueError:
        return None
    return unquote(password) if password else None


def strip_userinfo(url: str) -> str:
    """Return ``url`` without any user name or password."""
    try:
        parts = urlsplit(url)
    except ValueError:
        return _USERINFO.sub(lambda m: m.group("scheme"), url)
    if "@" not in parts.netloc:
        return url
    return urlunsplit((parts.scheme, parts.netloc.rsplit("@", 1)[1], parts.path, parts.query, parts.fragment))
