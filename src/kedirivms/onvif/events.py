"""Event service (``tev``): the topic set and managed PullPoint subscriptions yielding typed events.

A :class:`PullPointSubscription` owns one pull point on the camera and keeps it alive: it long-polls
PullMessages, renews before the termination time (switching to absolute times on cameras that mishandle relative
durations), re-creates the pull point after a reboot, a dropped link or a ``ResourceUnknown`` fault, and always
unsubscribes on :meth:`~PullPointSubscription.close` (cameras allow only a handful of pull points; none may
leak). ``close()`` may be called from any thread; the iterator then ends after the pull in flight returns.
"""

from __future__ import annotations

import collections
import copy
import enum
import logging
import threading
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

from lxml import etree

from kedirivms.errors import (
    ConnectionFailed,
    InvalidArgument,
    KedirivmsError,
    OnvifFault,
    ProtocolError,
    Timeout,
)
from kedirivms.onvif._events_xml import WSA, parse_notifications, parse_topic_set, to_datetime, topic_filter
from kedirivms.onvif.models_events import CameraEvent, EventProperties, EventServiceCapabilities

if TYPE_CHECKING:
    from kedirivms.onvif._transport import OnvifTransport

__all__ = ["EventsService", "PullPointSubscription", "SubscriptionState"]

log = logging.getLogger("kedirivms.onvif")

_RENEW_ACTION = "http://docs.oasis-open.org/wsn/bw-2/SubscriptionManager/RenewRequest"
_UNSUBSCRIBE_ACTION = "http://docs.oasis-open.org/wsn/bw-2/SubscriptionManager/UnsubscribeRequest"
_GONE = ("ResourceUnknownFault", "ResourceUnknown", "InvalidSubscription", "NoSubscription")
_CAP_HINT = (
    "the camera caps concurrent pull points (see events.capabilities().max_pull_points): close other "
    "subscriptions (a VMS or a crashed client may hold them) or wait for them to expire"
)


class SubscriptionState(enum.Enum):
    """Life cycle of a :class:`PullPointSubscription`."""

    NEW = "new"
    ACTIVE = "active"
    RECONNECTING = "reconnecting"
    CLOSED = "closed"


class EventsService:
    """``camera.events``: the topic set and pull-point subscriptions of one camera.

    Closing the service (``Camera.close()`` does) closes every subscription it opened.

    Example:
        >>> with cam.events.pull_point(["tns1:VideoSource/MotionAlarm"]) as sub:  # doctest: +SKIP
        ...     for ev in sub.events(duration=10):
        ...         print(ev.topic, ev.motion)
    """

    def __init__(self, transport: OnvifTransport) -> None:
        self._t = transport
        self._subs: list[PullPointSubscription] = []
        self._lock = threading.Lock()

    def capabilities(self) -> EventServiceCapabilities:
        """GetServiceCapabilities (pull-point support, MaxPullPoints)."""
        c = self._t.call("events", "GetServiceCapabilities")
        return EventServiceCapabilities(
            ws_pull_point_support=bool(getattr(c, "WSPullPointSupport", False)),
            ws_subscription_policy_support=bool(getattr(c, "WSSubscriptionPolicySupport", False)),
            ws_pausable_subscription_manager_interface_support=bool(
                getattr(c, "WSPausableSubscriptionManagerInterfaceSupport", False)
            ),
            max_notification_producers=getattr(c, "MaxNotificationProducers", None),
            max_pull_points=getattr(c, "MaxPullPoints", None),
            persistent_notification_storage=bool(getattr(c, "PersistentNotificationStorage", False)),
        )

    def properties(self) -> EventProperties:
        """GetEventProperties: every topic with its source/data items, and the filter dialects."""
        r = self._t.call("events", "GetEventProperties")
        topic_set = getattr(r, "TopicSet", None)
        roots = [e for e in (getattr(topic_set, "_value_1", None) or []) if isinstance(e, etree._Element)]
        return EventProperties(
            topics=parse_topic_set(roots),
            fixed_topic_set=bool(getattr(r, "FixedTopicSet", True)),
            topic_expression_dialects=[str(d) for d in getattr(r, "TopicExpressionDialect", None) or []],
            message_content_filter_dialects=[str(d) for d in getattr(r, "MessageContentFilterDialect", None) or []],
        )

    def pull_point(
        self,
        topics: list[str] | None = None,
        *,
        termination: float = 60.0,
        pull_timeout: float = 5.0,
        message_limit: int = 32,
        reconnect: bool = True,
        max_backoff: float = 5.0,
    ) -> PullPointSubscription:
        """Create a managed pull-point subscription (already open on the camera).

        Args:
            topics: topic expressions to receive (``["tns1:VideoSource/MotionAlarm"]``, a ``//.`` suffix takes a
                subtree); None = every topic.
            termination: seconds the pull point lives without a renewal; it is renewed automatically.
            pull_timeout: longest PullMessages wait (long-poll), seconds.
            message_limit: most messages per PullMessages.
            reconnect: re-create the pull point after a reboot, lost link or ResourceUnknown fault.
            max_backoff: longest pause between re-create attempts, seconds.

        Raises:
            OnvifFault: the camera refused (e.g. too many pull points; the hint says what to do).
            InvalidArgument: bad arguments.
        """
        sub = PullPointSubscription(
            self,
            topics=topics,
            termination=termination,
            pull_timeout=pull_timeout,
            message_limit=message_limit,
            reconnect=reconnect,
            max_backoff=max_backoff,
        )
        return sub.open()

    def subscribe(
        self,
        callback: Callable[[CameraEvent], None],
        topics: list[str] | None = None,
        *,
        on_error: Callable[[Exception], None] | None = None,
        **options: Any,
    ) -> PullPointSubscription:
        """Open a pull point and call ``callback(event)`` from a background thread until it is closed.

        ``options`` are those of :meth:`pull_point`. Exceptions raised by ``callback`` go to ``on_error``
        (or the log) and do not stop delivery.
        """
        sub = self.pull_point(topics, **options)
        sub.start(callback, on_error=on_error)
        return sub

    @property
    def subscriptions(self) -> list[PullPointSubscription]:
        """The subscriptions opened through this service and not closed yet."""
        with self._lock:
            return list(self._subs)

    def _track(self, sub: PullPointSubscription, alive: bool) -> None:
        with self._lock:
            if alive and sub not in self._subs:
                self._subs.append(sub)
            elif not alive and sub in self._subs:
                self._subs.remove(sub)

    def close(self) -> None:
        """Close (unsubscribe) every open subscription. Idempotent."""
        for sub in self.subscriptions:
            sub.close()


class PullPointSubscription:
    """A managed ONVIF pull point. Create it with :meth:`EventsService.pull_point`.

    Iterate it (or :meth:`events`) for :class:`~kedirivms.onvif.CameraEvent` objects; :meth:`start` delivers them
    to a callback from a thread instead. It is a context manager; :meth:`close` unsubscribes and is safe from any
    thread.
    """

    def __init__(
        self,
        service: EventsService,
        *,
        topics: list[str] | None,
        termination: float,
        pull_timeout: float,
        message_limit: int,
        reconnect: bool,
        max_backoff: float,
    ) -> None:
        if termination < 3 or pull_timeout < 0 or message_limit < 1 or max_backoff <= 0:
            raise InvalidArgument(
                "termination must be >= 3 s, pull_timeout >= 0, message_limit >= 1, max_backoff > 0",
                operation="CreatePullPointSubscription",
            )
        self._svc = service
        self._t = service._t
        self.topics = list(topics) if topics else None
        self.termination = float(termination)
        self.pull_timeout = float(pull_timeout)
        self.message_limit = int(message_limit)
        self.reconnect = reconnect
        self.max_backoff = max_backoff
        self.address: str | None = None
        self.termination_time: datetime | None = None
        self.uses_absolute_time = False
        self.recreated = 0
        self.renewals = 0
        self._ref_params: list[etree._Element] = []
        self._pending: collections.deque[CameraEvent] = collections.deque()  # pulled, not yet handed out
        self._expires_at = 0.0  # monotonic
        self._clock_offset = self._t.clock_offset_s
        self._state = SubscriptionState.NEW
        self._lock = threading.RLock()
        self._closing = threading.Event()
        self._thread: threading.Thread | None = None

    def __repr__(self) -> str:
        return f"<PullPointSubscription {self._t.label} {self._state.value} address={self.address!r}>"

    @property
    def state(self) -> SubscriptionState:
        """NEW, ACTIVE, RECONNECTING or CLOSED."""
        return self._state

    # ---------------------------------------------------------------- life cycle
    def open(self) -> PullPointSubscription:
        """Create the pull point on the camera (done by :meth:`EventsService.pull_point`)."""
        self._create()
        self._svc._track(self, True)
        return self

    def __enter__(self) -> PullPointSubscription:
        return self if self._state is not SubscriptionState.NEW else self.open()

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self, timeout: float | None = None) -> None:
        """Stop delivery and unsubscribe (best effort, bounded by the camera's time-outs). Idempotent.

        From another thread: the iterator or callback thread ends once the pull in flight returns (at most
        ``pull_timeout`` plus the read time-out; at once on cameras that answer pending pulls on Unsubscribe).
        """
        self._closing.set()
        with self._lock:
            if self.address is not None:
                self._unsubscribe_quietly()
            self._state = SubscriptionState.CLOSED
        self._svc._track(self, False)
        thread = self._thread
        if thread is not None and thread is not threading.current_thread():
            thread.join(timeout if timeout is not None else self.pull_timeout + self._t.read_timeout + 1.0)

    # ---------------------------------------------------------------- camera clock
    def _camera_now(self) -> datetime:
        return datetime.now(UTC) + timedelta(seconds=self._clock_offset)

    def _learn(self, current: Any, termination: Any, *, from_pull: bool = False) -> float:
        """Update the clock offset and expiry from a reply; returns the granted lifetime in seconds.

        Camera times have whole seconds: ``TerminationTime - CurrentTime`` is exact for a relative request but may
        overstate the lifetime by up to 1 s otherwise (absolute requests, PullMessages replies), so 1 s is kept in
        hand then. A PullMessages reply only moves the expiry when the camera extended the termination itself.
        """
        now_local = datetime.now(UTC)
        cur, term = to_datetime(current), to_datetime(termination)
        if cur is not None:
            self._clock_offset = (cur - now_local).total_seconds()
        if from_pull and (term is None or term == self.termination_time):
            return (self._expires_at - time.monotonic()) if term is not None else self.termination
        if term is None:
            self.termination_time = None
            self._expires_at = time.monotonic() + self.termination
            return self.termination
        self.termination_time = term
        granted = (term - (cur or self._camera_now())).total_seconds()
        slack = 1.0 if (from_pull or self.uses_absolute_time) else 0.0
        self._expires_at = time.monotonic() + granted - slack
        return granted

    def _requested_time(self) -> str:
        if self.uses_absolute_time:
            when = self._camera_now() + timedelta(seconds=self.termination)
            return when.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
        return f"PT{int(round(self.termination))}S"

    def _short(self, granted: float) -> bool:
        """A lifetime this short means the relative duration was misread (a camera cap is not that short)."""
        return granted < min(self.termination * 0.5, 5.0)

    # ---------------------------------------------------------------- operations
    def _create(self) -> None:
        with self._lock:
            if self._closing.is_set():
                raise KedirivmsError(
                    "the subscription is closed", camera=self._t.label, operation="CreatePullPointSubscription"
                )
            kwargs: dict[str, Any] = {}
            if self.topics:
                kwargs["Filter"] = {"_value_1": [topic_filter(self.topics)]}
            for _attempt in range(2):
                try:
                    r = self._t.call(
                        "events", "CreatePullPointSubscription", InitialTerminationTime=self._requested_time(), **kwargs
                    )
                except OnvifFault as exc:
                    if "SubscribeCreationFailedFault" in exc.subcodes or "Receiver" in (exc.code or ""):
                        raise OnvifFault(
                            exc.message,
                            code=exc.code,
                            subcodes=exc.subcodes,
                            detail=exc.detail,
                            camera=self._t.label,
                            operation="CreatePullPointSubscription",
                            hint=_CAP_HINT,
                        ) from exc
                    raise
                ref = getattr(r, "SubscriptionReference", None)
                address = getattr(getattr(ref, "Address", None), "_value_1", None) or getattr(ref, "Address", None)
                address = self._t.rewrite(str(address) if address else None)
                if not address:
                    raise ProtocolError(
                        "CreatePullPointSubscription returned no subscription address",
                        camera=self._t.label,
                        operation="CreatePullPointSubscription",
                        hint="the camera's event service is broken; update its firmware",
                    )
                params = getattr(getattr(ref, "ReferenceParameters", None), "_value_1", None) or []
                self._ref_params = [p for p in params if isinstance(p, etree._Element)]
                self.address = address
                granted = self._learn(getattr(r, "CurrentTime", None), getattr(r, "TerminationTime", None))
                if self._short(granted) and not self.uses_absolute_time:
                    # Firmware quirk: relative durations read as 0 (or as seconds since boot). Use absolute times.
                    log.debug("%s: relative termination granted %.1f s; switching to absolute", self._t.label, granted)
                    self.uses_absolute_time = True
                    self._unsubscribe_quietly()
                    continue
                break
            self._state = SubscriptionState.ACTIVE
            if self._closing.is_set():  # closed from another thread while we were creating
                self._unsubscribe_quietly()

    def _headers(self, action: str | None, address: str | None = None) -> list[etree._Element]:
        """Reference parameters of the pull point (echoed as headers), plus wsa:Action/To when ``action``."""
        out = [copy.deepcopy(p) for p in self._ref_params]
        if action is not None:
            to = etree.Element(f"{{{WSA}}}To")
            to.text = address or self.address
            act = etree.Element(f"{{{WSA}}}Action")
            act.text = action
            out = [act, to, *out]
        return out

    def renew(self) -> datetime | None:
        """Extend the pull point by ``termination`` seconds now; returns the new termination time."""
        with self._lock:
            if self.address is None:
                raise KedirivmsError("the subscription is not active", camera=self._t.label, operation="Renew")
            for _attempt in range(2):
                r = self._t.call(
                    "subscription",
                    "Renew",
                    address=self.address,
                    soap_headers=self._headers(_RENEW_ACTION),
                    TerminationTime=self._requested_time(),
                )
                granted = self._learn(getattr(r, "CurrentTime", None), getattr(r, "TerminationTime", None))
                self.renewals += 1
                if self._short(granted) and not self.uses_absolute_time:
                    self.uses_absolute_time = True
                    continue
                break
            return self.termination_time

    def _unsubscribe_quietly(self) -> None:
        address, self.address = self.address, None
        if address is None:
            return
        try:
            self._t.call(
                "subscription",
                "Unsubscribe",
                address=address,
                soap_headers=self._headers(_UNSUBSCRIBE_ACTION, address),
                timeout=min(self._t.read_timeout, 5.0),
            )
        except KedirivmsError as exc:
            log.debug("%s: Unsubscribe failed (%s); the pull point will expire", self._t.label, exc)

    def synchronize(self) -> None:
        """SetSynchronizationPoint: ask the camera to send the current state of every property again
        (``Initialized`` events), e.g. after the consumer lost track."""
        with self._lock:
            if self.address is None:
                raise KedirivmsError(
                    "the subscription is not active", camera=self._t.label, operation="SetSynchronizationPoint"
                )
            self._t.call("pullpoint", "SetSynchronizationPoint", address=self.address, soap_headers=self._headers(None))

    def _renew_margin(self) -> float:
        return min(10.0, max(0.5, self.termination * 0.2))

    def pull(self, timeout: float | None = None, limit: int | None = None) -> list[CameraEvent]:
        """One PullMessages (renewing first when due); waits up to ``timeout`` s for at least one event.

        No reconnection here: errors are raised (iterate the subscription for the managed loop). Events an
        abandoned iterator had pulled but not handed out come first.
        """
        if self._pending:
            out = list(self._pending)
            self._pending.clear()
            return out
        if self.address is None:
            raise KedirivmsError(
                "the subscription is not active",
                camera=self._t.label,
                operation="PullMessages",
                hint="iterate the subscription (it re-creates) or open a new one",
            )
        # renew when due, or when less than a whole second of waiting is left (PullMessages takes whole seconds)
        if self._expires_at - self._renew_margin() - time.monotonic() < 1.0:
            self.renew()
        wait = self.pull_timeout if timeout is None else timeout
        wait = max(0.0, min(wait, self._expires_at - self._renew_margin() - time.monotonic()))
        address = self.address
        assert address is not None
        root, reply = self._raw_pull(address, wait, limit or self.message_limit)
        self._learn(getattr(reply, "CurrentTime", None), getattr(reply, "TerminationTime", None), from_pull=True)
        events = parse_notifications(root)
        if not events and 0.0 < wait < 1.0:
            self._closing.wait(wait)  # PullMessages waits whole seconds: sit out the fraction here, not in a spin
        return events

    def _raw_pull(self, address: str, wait: float, limit: int) -> tuple[etree._Element, Any]:
        """PullMessages keeping the raw reply: zeep drops the mixed-content Topic text we need."""
        seconds = int(wait) if wait >= 1 else 0
        root, reply = self._t.call(
            "pullpoint",
            "PullMessages",
            address=address,
            soap_headers=list(self._headers(None)),
            timeout=seconds + self._t.read_timeout,  # the long poll plus the usual read time-out
            raw=True,
            Timeout=timedelta(seconds=seconds),
            MessageLimit=limit,
        )
        return root, reply

    # ---------------------------------------------------------------- managed delivery
    def __iter__(self) -> Iterator[CameraEvent]:
        return self.events()

    def events(self, duration: float | None = None) -> Iterator[CameraEvent]:
        """Yield events until :meth:`close` (from any thread) or ``duration`` seconds.

        Renews before termination and, with ``reconnect``, re-creates the pull point after a camera reboot,
        a lost connection or a ResourceUnknown fault (backing off up to ``max_backoff`` seconds).

        Raises:
            AuthenticationFailed, NotSupported, InvalidArgument: not recoverable by re-subscribing.
        """
        end = None if duration is None else time.monotonic() + duration
        backoff = 0.2
        while not self._closing.is_set():
            if self._pending:  # one at a time: a consumer that stops early loses nothing
                yield self._pending.popleft()
                continue
            now = time.monotonic()
            if end is not None and now >= end:
                return
            try:
                if self.address is None:
                    self._create()
                    self.recreated += 1
                wait = self.pull_timeout if end is None else min(self.pull_timeout, end - now)
                self._pending.extend(self.pull(timeout=wait))
            except (ConnectionFailed, Timeout, ProtocolError) as exc:
                if self._closing.is_set():
                    return
                if not self.reconnect:
                    raise
                if backoff >= self.max_backoff:
                    log.warning("%s: events still failing, re-trying every %g s: %s", self._t.label, backoff, exc)
                self._lost(exc)
                self._closing.wait(backoff)
                backoff = min(backoff * 2, self.max_backoff)
                continue
            except KedirivmsError:
                if self._closing.is_set():  # closed by another thread between our checks
                    return
                raise
            backoff = 0.2

    def _lost(self, exc: Exception) -> None:
        with self._lock:
            log.debug("%s: pull point lost (%s); re-creating", self._t.label, exc)
            gone = isinstance(exc, ConnectionFailed) or (isinstance(exc, OnvifFault) and _gone(exc))
            if not gone and not self._closing.is_set():
                self._unsubscribe_quietly()  # it may still exist on the camera: do not leak it
            self.address = None
            if self._state is not SubscriptionState.CLOSED:
                self._state = SubscriptionState.RECONNECTING

    def start(
        self, callback: Callable[[CameraEvent], None], *, on_error: Callable[[Exception], None] | None = None
    ) -> threading.Thread:
        """Deliver events to ``callback`` from a daemon thread until :meth:`close`; returns the thread."""
        if self._thread is not None and self._thread.is_alive():
            raise InvalidArgument("this subscription already delivers to a callback", camera=self._t.label)

        def run() -> None:
            try:
                for event in self.events():
                    try:
                        callback(event)
                    except Exception as exc:  # isolate the caller's bugs from delivery
                        if on_error is not None:
                            on_error(exc)
                        else:
                            log.exception("%s: event callback failed", self._t.label)
            except KedirivmsError as exc:
                if on_error is not None:
                    on_error(exc)
                else:
                    log.error("%s: event delivery stopped: %s", self._t.label, exc)

        self._thread = threading.Thread(target=run, name=f"kedirivms-events-{self._t.label}", daemon=True)
        self._thread.start()
        return self._thread


def _gone(exc: OnvifFault) -> bool:
    return any(s in _GONE for s in exc.subcodes) or "unknown" in (exc.detail or "").lower()
