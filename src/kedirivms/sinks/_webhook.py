"""Webhook sink: POST each event as JSON, with bounded retries and exponential back-off (tenacity)."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Literal

import requests
from pydantic import BaseModel, ConfigDict, Field, SecretStr, field_validator
from tenacity import (
    RetryCallState,
    Retrying,
    retry_if_exception_type,
    stop_after_attempt,
    stop_any,
    wait_exponential,
)
from tenacity.stop import stop_base

from kedirivms._redact import redact_text, redact_url
from kedirivms.sinks._base import Sink

if TYPE_CHECKING:  # at run time sinks do not import analytics (which imports sinks)
    from kedirivms.analytics.events import Event

__all__ = ["WebhookSink", "WebhookSinkConfig"]

_log = logging.getLogger("kedirivms.sinks")
_RETRY_STATUS = frozenset({408, 425, 429, 500, 502, 503, 504})


class WebhookSinkConfig(BaseModel):
    """Settings of a :class:`WebhookSink` (``type: webhook`` in a deployment file)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    type: Literal["webhook"] = Field(default="webhook", description="Sink kind.")
    url: str = Field(description="http(s) URL that receives one POST per event.")
    timeout: tuple[float, float] = Field(default=(3.0, 5.0), description="(connect, read) time-outs, s.")
    attempts: int = Field(default=5, ge=1, le=100, description="Tries per event (first one included).")
    backoff: tuple[float, float] = Field(default=(0.5, 10.0), description="Back-off: (first wait, cap), s.")
    headers: dict[str, str] = Field(default_factory=dict, description="Extra headers (e.g. Authorization).")
    bearer_token: SecretStr | None = Field(default=None, description="Sent as 'Authorization: Bearer ...'.")
    queue_size: int = Field(default=1000, ge=1, description="Events waiting at most; the oldest is dropped.")
    name: str | None = Field(default=None, description="Label in stats and logs (default: the host).")

    @field_validator("url")
    @classmethod
    def _http(cls, value: str) -> str:
        if not value.startswith(("http://", "https://")):
            raise ValueError("url must start with http:// or https://")
        return value

    @field_validator("timeout", "backoff")
    @classmethod
    def _positive(cls, value: tuple[float, float]) -> tuple[float, float]:
        if min(value) <= 0:
            raise ValueError("both values must be > 0 seconds")
        return value


class _Retryable(Exception):
    """A transient failure: connection error, time-out, 5xx/429."""


class WebhookSink(Sink):
    """POST each event as a JSON object (``Event.model_dump(mode="json")``) to a URL.

    Connection errors, time-outs and 408/425/429/5xx answers are retried with exponential back-off up to
    ``attempts`` tries; other 4xx answers are not retried. Failed events are counted, never raised. The body
    carries the event ``id`` so a receiver can drop a duplicate after a retry.

    Args:
        config: the settings.

    Example:
        >>> sink = WebhookSink(WebhookSinkConfig(url="http://127.0.0.1:8080/events"))  # doctest: +SKIP
    """

    kind = "webhook"

    def __init__(self, config: WebhookSinkConfig) -> None:
        super().__init__(name=config.name or _host(config.url), queue_size=config.queue_size)
        self.config = config
        self._url = redact_url(config.url)
        self._session: requests.Session | None = None
        self._secrets = tuple(v for v in config.headers.values()) + (
            (config.bearer_token.get_secret_value(),) if config.bearer_token else ()
        )

    def _open(self) -> None:
        session = requests.Session()
        session.headers.update({"Content-Type": "application/json", "User-Agent": "kedirivms"})
        session.headers.update(self.config.headers)
        if self.config.bearer_token is not None:
            session.headers["Authorization"] = f"Bearer {self.config.bearer_token.get_secret_value()}"
        self._session = session

    def _close(self) -> None:
        if self._session is not None:
            self._session.close()
            self._session = None

    def _deliver(self, event: Event) -> bool:
        body = event.model_dump_json().encode()
        first, cap = self.config.backoff
        retrying = Retrying(
            stop=stop_any(stop_after_attempt(self.config.attempts), _StopAtDeadline(self)),
            wait=wait_exponential(multiplier=first, min=first, max=cap),
            retry=retry_if_exception_type(_Retryable),
            sleep=self._sleep,
            before_sleep=self._log_retry,
            reraise=True,
        )
        try:
            retrying(self._post, body)
        except _Retryable as exc:
            self._error(str(exc))
            _log.warning("webhook sink %r gave up on event %s: %s", self.name, event.id, exc)
            return False
        except _Refused as exc:
            self._error(str(exc))
            _log.warning("webhook sink %r: event %s refused: %s", self.name, event.id, exc)
            return False
        return True

    def _log_retry(self, state: RetryCallState) -> None:
        exc = state.outcome.exception() if state.outcome else None
        _log.info("webhook sink %r: attempt %d failed (%s), retrying", self.name, state.attempt_number, exc)

    def _post(self, body: bytes) -> None:
        assert self._session is not None
        try:
            reply = self._session.post(self.config.url, data=body, timeout=self.config.timeout)
        except requests.RequestException as exc:
            text = redact_text(f"{type(exc).__name__}: {exc}", self._secrets)
            raise _Retryable(f"POST {self._url}: {text}") from None
        status = reply.status_code
        reply.close()
        if status in _RETRY_STATUS:
            raise _Retryable(f"POST {self._url}: HTTP {status}")
        if status >= 300:
            raise _Refused(f"POST {self._url}: HTTP {status} (not retried)")


class _StopAtDeadline(stop_base):
    """Stop retrying once the sink's close deadline has passed."""

    def __init__(self, sink: WebhookSink) -> None:
        self._sink = sink

    def __call__(self, retry_state: RetryCallState) -> bool:
        return self._sink._time_left() <= 0


class _Refused(Exception):
    """A permanent refusal (4xx other than the retryable ones, 3xx)."""


def _host(url: str) -> str:
    from urllib.parse import urlsplit

    try:
        return urlsplit(url).hostname or "webhook"
    except ValueError:
        return "webhook"
