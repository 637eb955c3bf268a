"""The sink base: a bounded queue drained by the sink's own worker thread, so producers never block."""

from __future__ import annotations

import abc
import collections
import logging
import threading
import time
from collections.abc import Callable
from typing import TYPE_CHECKING, ClassVar

from pydantic import BaseModel, ConfigDict, Field

from kedirivms.errors import InvalidArgument

if TYPE_CHECKING:  # at run time sinks do not import analytics (which imports sinks)
    from kedirivms.analytics.events import Event

__all__ = ["CallbackSink", "Sink", "SinkStats"]

_log = logging.getLogger("kedirivms.sinks")


class SinkStats(BaseModel):
    """Counters of one sink (a snapshot).

    Attributes:
        name: the sink's name.
        kind: ``jsonl``, ``webhook``, ``mqtt`` or ``callback``.
        submitted: events handed to the sink.
        sent: events delivered (written, answered 2xx, acknowledged by the broker).
        dropped: events dropped: queue full (oldest first), or still queued at close.
        failed: events given up on after errors (retries exhausted, refused).
        queued: events waiting now.
        connected: the link is up (``None`` for sinks without one).
        last_error: the last error, credentials redacted.
    """

    model_config = ConfigDict(frozen=True)

    name: str = Field(description="Sink name.")
    kind: str = Field(description="Sink kind.")
    submitted: int = Field(description="Events handed to the sink.")
    sent: int = Field(description="Events delivered.")
    dropped: int = Field(description="Events dropped (queue full or left at close).")
    failed: int = Field(description="Events given up on after errors.")
    queued: int = Field(description="Events waiting now.")
    connected: bool | None = Field(default=None, description="Link state, if the sink has one.")
    last_error: str | None = Field(default=None, description="Last error (redacted).")


class Sink(abc.ABC):
    """Base class of event sinks.

    :meth:`submit` never blocks: it appends to a bounded queue (dropping and counting the oldest event when
    full); the sink's own thread delivers. No thread starts before :meth:`start`; :meth:`close` drains what it
    can within its time-out, then stops and joins the thread. A runner starts and closes the sinks it is given.

    Subclasses implement :meth:`_deliver` (and optionally :meth:`_open` / :meth:`_close`).

    Args:
        name: a label for logs and stats.
        queue_size: bound of the queue.
    """

    kind: ClassVar[str] = "sink"

    def __init__(self, *, name: str, queue_size: int) -> None:
        if queue_size < 1:
            raise InvalidArgument(f"queue_size must be >= 1, got {queue_size}", operation=f"{self.kind} sink")
        self.name = name
        self._queue: collections.deque[Event] = collections.deque(maxlen=queue_size)
        self._cond = threading.Condition()
        self._thread: threading.Thread | None = None
        self._closing = threading.Event()
        self._deadline = float("inf")
        self._closed = False
        self._submitted = self._sent = self._dropped = self._failed = 0
        self._last_error: str | None = None

    # -- public --------------------------------------------------------------------------------------------------
    def start(self) -> Sink:
        """Open the sink and start its worker thread (idempotent).

        Returns:
            The sink itself.
        """
        with self._cond:
            if self._thread is not None or self._closed:
                return self
            self._open()
            self._thread = threading.Thread(target=self._run, name=f"kedirivms-sink-{self.name}", daemon=True)
            self._thread.start()
        return self

    def submit(self, event: Event) -> bool:
        """Queue an event for delivery; never blocks.

        Returns:
            ``False`` if the sink is closed (the event is counted as dropped), else ``True``.
        """
        with self._cond:
            self._submitted += 1
            if self._closed:
                self._dropped += 1
                return False
            if len(self._queue) == self._queue.maxlen:
                self._dropped += 1  # the oldest goes
            self._queue.append(event)
            self._cond.notify()
        return True

    def close(self, timeout: float = 5.0) -> None:
        """Deliver what is queued within ``timeout`` seconds, then stop; idempotent, from any thread."""
        with self._cond:
            if self._closed:
                return
            self._closed = True
            self._deadline = time.monotonic() + max(0.0, timeout)
            self._cond.notify_all()
        thread = self._thread
        if thread is None:
            with self._cond:
                self._dropped += len(self._queue)
                self._queue.clear()
            return
        thread.join(max(0.0, timeout) + 1.0)
        if thread.is_alive():
            _log.warning("sink %r did not stop within %.1f s", self.name, timeout)

    @property
    def stats(self) -> SinkStats:
        """Counters snapshot."""
        return SinkStats(
            name=self.name,
            kind=self.kind,
            submitted=self._submitted,
            sent=self._sent,
            dropped=self._dropped,
            failed=self._failed,
            queued=len(self._queue),
            connected=self._connected(),
            last_error=self._last_error,
        )

    def __enter__(self) -> Sink:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"<kedirivms.sinks.{type(self).__name__} {self.name!r}>"

    # -- for subclasses ------------------------------------------------------------------------------------------
    def _open(self) -> None:  # noqa: B027 - optional hook
        """Acquire resources (called by :meth:`start`, on the caller's thread); raise a KedirivmsError."""

    def _close(self) -> None:  # noqa: B027 - optional hook
        """Release resources (called on the worker thread at the end)."""

    def _connected(self) -> bool | None:
        return None

    @abc.abstractmethod
    def _deliver(self, event: Event) -> bool | None:
        """Deliver one event on the worker thread.

        Returns:
            ``True`` delivered, ``False`` given up (counted as failed), ``None`` in flight (the subclass counts
            the outcome itself, e.g. on the broker's acknowledgement).
        """

    def _time_left(self) -> float:
        """Seconds until the close deadline (infinite while open)."""
        return self._deadline - time.monotonic()

    def _sleep(self, seconds: float) -> None:
        """Sleep that ends early when the close deadline comes."""
        self._closing.wait(max(0.0, min(seconds, self._time_left())))

    def _count(self, *, sent: int = 0, failed: int = 0, dropped: int = 0) -> None:
        """Add to the counters (thread-safe: a subclass may count from a library's callback thread)."""
        with self._cond:
            self._sent += sent
            self._failed += failed
            self._dropped += dropped

    def _error(self, text: str) -> None:
        self._last_error = text

    # -- worker thread ---------------------------------------------------------------------------------------
    def _run(self) -> None:
        try:
            while True:
                with self._cond:
                    while not self._queue and not self._closed:
                        self._cond.wait()
                    if self._closed:
                        self._closing.set()
                        if not self._queue or self._time_left() <= 0:
                            self._dropped += len(self._queue)
                            self._queue.clear()
                            break
                    event = self._queue.popleft()
                try:
                    ok = self._deliver(event)
                except Exception as exc:  # a sink bug must not kill the worker silently
                    _log.exception("sink %r failed to deliver an event", self.name)
                    self._error(f"{type(exc).__name__}: {exc}")
                    ok = False
                if ok is not None:
                    self._count(sent=1 if ok else 0, failed=0 if ok else 1)
        finally:
            try:
                self._close()
            except Exception:
                _log.exception("sink %r failed to close", self.name)


class CallbackSink(Sink):
    """Calls ``callback(event)`` on the sink's own thread (in-process consumers: live tables, tests).

    Args:
        callback: called once per event; exceptions are logged and counted as failed.
        name: a label.
        queue_size: bound of the queue.
    """

    kind = "callback"

    def __init__(self, callback: Callable[[Event], object], *, name: str = "callback", queue_size: int = 1000):
        super().__init__(name=name, queue_size=queue_size)
        self._callback = callback

    def _deliver(self, event: Event) -> bool:
        try:
            self._callback(event)
        except Exception as exc:
            self._error(f"{type(exc).__name__}: {exc}")
            _log.warning("callback sink %r raised: %s", self.name, exc)
            return False
        return True
