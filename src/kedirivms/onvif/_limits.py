"""The limits of one camera's replies as kedirivms errors: size caps, item counts, unusable Digest challenges.

The reading machinery (deadline, capped and decompressing reads) is :mod:`kedirivms._http_limits`; this module
maps what it reports, and the bounded Digest auth that requests would otherwise answer with an unbounded read.
"""

from __future__ import annotations

from typing import Any

import requests
from requests.auth import HTTPDigestAuth

from kedirivms._http_limits import ReplyTooLarge, UnsupportedEncoding, read_body
from kedirivms.errors import KedirivmsError, LimitExceeded, ProtocolError
from kedirivms.onvif.models import Limits

__all__ = ["BadChallenge", "BoundedDigestAuth", "check_count", "map_limit_error", "read_response"]


class BadChallenge(Exception):
    """The camera's HTTP Digest challenge cannot be answered (no nonce or realm, unknown algorithm)."""


class BoundedDigestAuth(HTTPDigestAuth):
    """requests' HTTP Digest, reading the 401 reply with the size cap and refusing unusable challenges."""

    def __init__(self, username: str, password: str, limit: int) -> None:
        super().__init__(username, password)
        self._limit = limit

    def handle_401(self, r: requests.Response, **kwargs: Any) -> requests.Response:
        if r.status_code == 401 and not getattr(r, "_content_consumed", True):
            # pre-read, capped, what requests would read whole (it then sees the body as consumed)
            r._content = read_body(r.raw, self._limit)
            setattr(r, "_content_consumed", True)  # noqa: B010 - not in requests' type stubs
        try:
            result: requests.Response = super().handle_401(r, **kwargs)
        except (KeyError, ValueError, TypeError, IndexError, AttributeError) as exc:
            raise BadChallenge(f"{type(exc).__name__} {str(exc)[:40]}") from exc
        return result


def read_response(resp: requests.Response, limit: int) -> bytes:
    """The body of ``resp`` (sent with ``stream=True``), read with the size cap."""
    if getattr(resp, "_content_consumed", False) and isinstance(resp._content, bytes):  # read by BoundedDigestAuth
        return resp._content
    return read_body(resp.raw, limit)


def map_limit_error(exc: BaseException, *, camera: str, operation: str) -> KedirivmsError | None:
    """The kedirivms error for a limit or bounded-read failure ``exc``; ``None`` for other exceptions."""
    if isinstance(exc, KedirivmsError):
        return exc
    if isinstance(exc, ReplyTooLarge):
        return LimitExceeded(
            f"the reply is larger than max_reply_bytes={exc.limit}" + (" once decompressed" if exc.decoded else ""),
            limit="max_reply_bytes",
            value=exc.limit,
            camera=camera,
            operation=operation,
            hint="if the camera is trusted, raise it: Camera(..., limits=Limits(max_reply_bytes=...))",
        )
    if isinstance(exc, UnsupportedEncoding):
        return ProtocolError(
            str(exc), camera=camera, operation=operation, hint="the camera compressed its reply in a way not offered"
        )
    if isinstance(exc, BadChallenge):
        return ProtocolError(
            f"the camera's HTTP Digest challenge cannot be answered ({exc})",
            camera=camera,
            operation=operation,
            hint="force another auth mode (auth='username_token' or 'basic') or update the firmware",
        )
    return None


def check_count(count: int, limits: Limits, what: str, *, camera: str, operation: str) -> None:
    """Raise :class:`LimitExceeded` if a reply lists more than ``limits.max_items`` ``what``."""
    if count > limits.max_items:
        raise LimitExceeded(
            f"the reply lists {count} {what}, more than max_items={limits.max_items}",
            limit="max_items",
            value=limits.max_items,
            camera=camera,
            operation=operation,
            hint="if the device really has that many, raise it: Camera(..., limits=Limits(max_items=...))",
        )
