"""Logins for the centre's page: scrypt password hashes in a users file, server-side sessions, CSRF tokens.

A users file (YAML) names each operator with a hash made by :func:`hash_password` (never a password)::

    users:
      siti: "scrypt$16384$8$1$<salt hex>$<hash hex>"

Sessions live in the server's memory (a restart logs everyone out); the cookie carries only a random id
(``HttpOnly; SameSite=Strict``, plus ``Secure`` when served behind TLS) and each session has its own CSRF token
that the page sends back in a header on every POST.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import threading
import time
from pathlib import Path
from typing import Any

import yaml

from kedirivms.errors import ConfigError
from kedirivms.fleet.models import is_password_hash

__all__ = ["Sessions", "hash_password", "load_users", "users_for_page", "verify_password"]

_N, _R, _P = 1 << 14, 8, 1


def hash_password(password: str, *, salt: bytes | None = None) -> str:
    """A ``scrypt$N$r$p$salt$hash`` string for a users file.

    Example:
        >>> verify_password("s3cret", hash_password("s3cret"))
        True
    """
    salt = salt or secrets.token_bytes(16)
    digest = hashlib.scrypt(password.encode(), salt=salt, n=_N, r=_R, p=_P, dklen=32)
    return f"scrypt${_N}${_R}${_P}${salt.hex()}${digest.hex()}"


def verify_password(password: str, stored: str) -> bool:
    """Whether ``password`` matches a :func:`hash_password` string (constant-time compare)."""
    try:
        kind, n, r, p, salt, digest = stored.split("$")
        if kind != "scrypt":
            return False
        got = hashlib.scrypt(
            password.encode(), salt=bytes.fromhex(salt), n=int(n), r=int(r), p=int(p), dklen=len(digest) // 2
        )
    except (ValueError, MemoryError):
        return False
    return hmac.compare_digest(got.hex(), digest)


def load_users(path: str | Path) -> dict[str, str]:
    """Read a users file: user name -> scrypt hash.

    Raises:
        ConfigError: unreadable file, or an entry that is not a scrypt hash (a clear password is refused).
    """
    try:
        doc = yaml.safe_load(Path(path).read_text(encoding="utf-8")) or {}
    except (OSError, yaml.YAMLError) as exc:
        raise ConfigError(f"cannot read the users file {path}: {type(exc).__name__}") from None
    users = doc.get("users") if isinstance(doc, dict) else None
    if not isinstance(users, dict) or not users:
        raise ConfigError(f"users file {path}: expected 'users:' mapping names to scrypt hashes")
    out = {}
    for name, value in users.items():
        if not is_password_hash(value):
            raise ConfigError(
                f"users file {path}: user {name!r} needs a hash from `kedirivms centre-hash` (passwords are "
                "never written in files)"
            )
        out[str(name)] = value
    return out


def users_for_page(users: str | Path | None, fleet: Any = None) -> dict[str, str] | None:
    """The page's users: a users file given on the command line wins; else the fleet file's ``centre: {users:}``
    (a users file it names, or inline name -> hash pairs); None when neither names any (no logins).

    Raises:
        ConfigError: an unreadable users file, or an entry that is not a hash (naming the fleet file).
    """
    if users:
        return load_users(users)
    ref = fleet.centre_users if fleet is not None else None
    if ref is None or isinstance(ref, dict):
        return ref
    try:
        return load_users(ref)
    except ConfigError as exc:
        raise ConfigError(f"{fleet.source}: centre.users: {exc}") from None


class Sessions:
    """Logged-in sessions: random id -> (user, CSRF token, expiry).

    Args:
        users: user name -> hash (from :func:`load_users`).
        ttl: a session's life without use, seconds.
    """

    def __init__(self, users: dict[str, str], *, ttl: float = 12 * 3600.0) -> None:
        self.users = users
        self.ttl = ttl
        self._lock = threading.Lock()
        self._sessions: dict[str, tuple[str, str, float]] = {}
        # a constant hash to verify against for unknown names, so timing does not tell which names exist
        self._dummy = hash_password(secrets.token_hex(8))

    def login(self, user: str, password: str) -> str | None:
        """A new session id, or None for a wrong name or password."""
        ok = verify_password(password, self.users.get(user, self._dummy)) and user in self.users
        if not ok:
            return None
        sid = secrets.token_urlsafe(32)
        with self._lock:
            self._sessions[sid] = (user, secrets.token_urlsafe(32), time.monotonic() + self.ttl)
        return sid

    def get(self, sid: str | None) -> tuple[str, str] | None:
        """(user, CSRF token) of a live session (its expiry is pushed back), or None."""
        if not sid:
            return None
        with self._lock:
            entry = self._sessions.get(sid)
            if entry is None or entry[2] < time.monotonic():
                self._sessions.pop(sid, None)
                return None
            self._sessions[sid] = (entry[0], entry[1], time.monotonic() + self.ttl)
            return entry[0], entry[1]

    def logout(self, sid: str | None) -> None:
        """End a session; unknown ids are ignored."""
        with self._lock:
            self._sessions.pop(sid or "", None)
