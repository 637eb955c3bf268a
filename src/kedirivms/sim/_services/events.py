"""Event service (ver10 ``events.wsdl``) of the virtual camera: topic set, pull-point subscriptions, motion.

Each pull point lives at ``/onvif/events_service/sub/<id>`` (random ids: an address from before a restart is
unknown afterwards). Termination times are enforced on the camera clock; an expired, unsubscribed or unknown pull
point answers ``env:Sender`` / ``ter:ResourceUnknownFault``, as field cameras do. A camera holds at most
``events.max_pull_points`` subscriptions: one more is refused with ``env:Receiver`` / ``ter:Action`` /
``ter:SubscribeCreationFailedFault`` (the WS-BaseNotification fault ONVIF Core reuses for CreatePullPointSubscription).

Motion comes from :meth:`VirtualCamera.trigger_motion` or the ``events.motion_interval_s`` schedule, which is
advanced lazily by whoever waits (no thread).
"""

from __future__ import annotations

import collections
import datetime as dt
import re
import threading
import time
import uuid
import weakref
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from lxml import etree

from kedirivms.sim._context import SoapContext
from kedirivms.sim._soap import NS, ServiceSpec, SoapFault, register_service, wsdl_client

if TYPE_CHECKING:
    from kedirivms.sim.camera import VirtualCamera

__all__ = ["EVENTS", "TOPIC_MOTION_ALARM", "TOPIC_CELL_MOTION", "TOPIC_TAMPER", "events_state", "topic_expression"]

EVENTS = register_service(
    ServiceSpec(
        name="events",
        path="/onvif/events_service",
        namespace="http://www.onvif.org/ver10/events/wsdl",
        wsdl="events.wsdl",
        binding=("EventBinding", "PullPointSubscriptionBinding", "SubscriptionManagerBinding"),
        version=(2, 60),
    )
)

TOPIC_MOTION_ALARM = "tns1:VideoSource/MotionAlarm"
TOPIC_CELL_MOTION = "tns1:RuleEngine/CellMotionDetector/Motion"
TOPIC_TAMPER = "tns1:VideoSource/GlobalSceneChange/ImagingService"
CONCRETE_SET = "http://www.onvif.org/ver10/tev/topicExpression/ConcreteSet"
_WSNT = "http://docs.oasis-open.org/wsn/b-2"
_WSTOP = "http://docs.oasis-open.org/wsn/t-1"
_TT = NS["tt"]
_SUB_PREFIX = "/onvif/events_service/sub/"
_DURATION = re.compile(
    r"^(?P<sign>-)?P(?:(?P<d>\d+(?:\.\d+)?)D)?(?:T(?:(?P<h>\d+(?:\.\d+)?)H)?(?:(?P<m>\d+(?:\.\d+)?)M)?"
    r"(?:(?P<s>\d+(?:\.\d+)?)S)?)?$"
)


@dataclass
class SimEvent:
    """One notification: topic, UTC time, property operation, source and data items."""

    topic: str
    utc: dt.datetime
    operation: str | None
    source: list[tuple[str, str]]
    data: list[tuple[str, str]]


@dataclass
class _Subscription:
    id: str
    termination: dt.datetime
    topics: list[str] | None
    queue: collections.deque[SimEvent]
    closed: bool = False


@dataclass
class _CameraEvents:
    cond: threading.Condition = field(default_factory=threading.Condition)
    subs: dict[str, _Subscription] = field(default_factory=dict)
    motion: dict[str, bool] = field(default_factory=dict)
    tamper: dict[str, bool] = field(default_factory=dict)
    schedule_t0: float | None = None
    schedule_n: int = 0
    reboots_seen: int = 0
    created_total: int = 0


_STATES: weakref.WeakKeyDictionary[VirtualCamera, _CameraEvents] = weakref.WeakKeyDictionary()
_STATES_LOCK = threading.Lock()


def events_state(camera: VirtualCamera) -> _CameraEvents:
    """The event state of ``camera`` (created on first use)."""
    with _STATES_LOCK:
        state = _STATES.get(camera)
        if state is None:
            state = _CameraEvents(reboots_seen=camera.state.reboots)
            state.motion = {f"VideoSource_{ch}": False for ch in range(1, camera.config.channels + 1)}
            state.tamper = dict(state.motion)
            _STATES[camera] = state
        return state


# -------------------------------------------------------------------------------------------- messages
def _bool(value: bool) -> str:
    return "true" if value else "false"


def motion_events(camera: VirtualCamera, source: str, state: bool, operation: str) -> list[SimEvent]:
    """The two motion notifications (MotionAlarm and CellMotionDetector) for ``source``."""
    now = camera.now()
    channel = source.rsplit("_", 1)[-1]
    return [
        SimEvent(TOPIC_MOTION_ALARM, now, operation, [("Source", source)], [("State", _bool(state))]),
        SimEvent(
            TOPIC_CELL_MOTION,
            now,
            operation,
            [
                ("VideoSourceConfigurationToken", f"VideoSourceConfig_{channel}"),
                ("VideoAnalyticsConfigurationToken", f"VideoAnalytics_{channel}"),
                ("Rule", "MyMotionDetectorRule"),
            ],
            [("IsMotion", _bool(state))],
        ),
    ]


def tamper_event(camera: VirtualCamera, source: str, state: bool, operation: str) -> SimEvent:
    """The global-scene-change (tamper) notification for ``source``."""
    return SimEvent(TOPIC_TAMPER, camera.now(), operation, [("Source", source)], [("State", _bool(state))])


def _initial_events(camera: VirtualCamera, st: _CameraEvents) -> list[SimEvent]:
    out: list[SimEvent] = []
    for source, state in st.motion.items():
        out.extend(motion_events(camera, source, state, "Initialized"))
    out.extend(tamper_event(camera, source, state, "Initialized") for source, state in st.tamper.items())
    return out


def _matches(topic: str, filters: list[str] | None) -> bool:
    if not filters:
        return True
    path = topic.split(":", 1)[-1]
    for expr in filters:
        want = expr.split(":", 1)[-1].removesuffix("//.").rstrip("/")
        if path == want or path.startswith(want + "/"):
            return True
    return False


def publish(camera: VirtualCamera, events: list[SimEvent]) -> None:
    """Queue ``events`` on every live pull point whose filter matches, and wake the waiting pulls."""
    st = events_state(camera)
    with st.cond:
        for sub in st.subs.values():
            sub.queue.extend(e for e in events if _matches(e.topic, sub.topics))
        st.cond.notify_all()


def drop_subscriptions(camera: VirtualCamera) -> None:
    """Forget every pull point (a reboot) and wake their waiting pulls."""
    st = events_state(camera)
    with st.cond:
        for sub in st.subs.values():
            sub.closed = True
        st.subs.clear()
        st.schedule_t0, st.schedule_n = None, 0
        st.cond.notify_all()


def _advance_schedule(camera: VirtualCamera, st: _CameraEvents, now: float) -> float | None:
    """Emit the scheduled motion toggles that are due; return the monotonic time of the next one."""
    interval = camera.config.events.motion_interval_s
    if interval is None or not st.subs:
        st.schedule_t0, st.schedule_n = None, 0  # the schedule restarts with the next subscriber
        return None
    if st.schedule_t0 is None:
        st.schedule_t0 = now
    due = int((now - st.schedule_t0) // interval)
    if due > st.schedule_n:
        first = max(st.schedule_n + 1, due - 1)  # after a long idle stretch emit only the last two toggles
        for n in range(first, due + 1):
            source = next(iter(st.motion))
            st.motion[source] = n % 2 == 1
            events = motion_events(camera, source, st.motion[source], "Changed")
            for sub in st.subs.values():
                sub.queue.extend(e for e in events if _matches(e.topic, sub.topics))
        st.schedule_n = due
    return st.schedule_t0 + (st.schedule_n + 1) * interval


def _reap(ctx: SoapContext, st: _CameraEvents) -> None:
    """Drop expired pull points, and all of them after a SystemReboot (call with ``st.cond`` held)."""
    if ctx.state.reboots != st.reboots_seen:
        st.reboots_seen = ctx.state.reboots
        for sub in st.subs.values():
            sub.closed = True
        st.subs.clear()
    now = ctx.now()
    for sub_id in [k for k, s in st.subs.items() if s.termination < now]:
        st.subs.pop(sub_id).closed = True
    st.cond.notify_all()


def subscription_count(camera: VirtualCamera) -> int:
    """Live (unexpired) pull points of ``camera``."""
    st = events_state(camera)
    with st.cond:
        _reap(SoapContext(camera=camera), st)
        return len(st.subs)


# -------------------------------------------------------------------------------------------- rendering
class _TopicRenderer:
    """Renders ``wsnt:Topic`` with its QName text: zeep drops the mixed content of TopicExpressionType."""

    def __init__(self, text: str) -> None:
        self.text = text

    def render(self, node: etree._Element, value: Any, xsd_type: Any = None, render_path: Any = None) -> None:
        node.set("Dialect", CONCRETE_SET)
        node.text = self.text


def topic_expression(text: str) -> Any:
    """A zeep TopicExpressionType value whose rendering writes ``text`` (zeep honours a value's ``_xsd_type``)."""
    topic_type = wsdl_client("events.wsdl").get_type(f"{{{_WSNT}}}TopicExpressionType")
    value = topic_type(Dialect=CONCRETE_SET)
    value._xsd_type = _TopicRenderer(text)
    return value


class _BareAddressRenderer:
    """Renders ``wsa:Address`` without namespace or prefix, as some firmware does (``no_wsa_prefix`` quirk)."""

    def __init__(self, url: str) -> None:
        self.url = url

    def render(self, node: etree._Element, value: Any, xsd_type: Any = None, render_path: Any = None) -> None:
        node.tag = "Address"
        node.text = self.url


def _address(url: str, bare: bool) -> Any:
    """The SubscriptionReference Address value; ``bare`` writes it unqualified (a vendor quirk)."""
    if not bare:
        return {"_value_1": url}
    value = wsdl_client("events.wsdl").get_type(f"{{{NS['wsa']}}}AttributedURIType")(url)
    value._xsd_type = _BareAddressRenderer(url)
    return value


def _message_element(event: SimEvent, format_time: Any) -> etree._Element:
    msg = etree.Element(f"{{{_TT}}}Message", nsmap={"tt": _TT})
    msg.set("UtcTime", format_time(event.utc))
    if event.operation:
        msg.set("PropertyOperation", event.operation)
    for part, items in (("Source", event.source), ("Data", event.data)):
        holder = etree.SubElement(msg, f"{{{_TT}}}{part}")
        for name, value in items:
            etree.SubElement(holder, f"{{{_TT}}}SimpleItem", Name=name, Value=value)
    return msg


def _description(source: list[tuple[str, str]], data: list[tuple[str, str]], prop: bool) -> etree._Element:
    desc = etree.Element(f"{{{_TT}}}MessageDescription", IsProperty=_bool(prop))
    for part, items in (("Source", source), ("Data", data)):
        holder = etree.SubElement(desc, f"{{{_TT}}}{part}")
        for name, kind in items:
            etree.SubElement(holder, f"{{{_TT}}}SimpleItemDescription", Name=name, Type=kind)
    return desc


def _topic_set() -> list[etree._Element]:
    tns = NS["tns1"]
    topic_attr = f"{{{_WSTOP}}}topic"
    ref = "tt:ReferenceToken"

    def node(parent: etree._Element | None, name: str, leaf: bool = False) -> etree._Element:
        tag = f"{{{tns}}}{name}"
        el = etree.Element(tag, nsmap={"tns1": tns, "wstop": _WSTOP}) if parent is None else parent.makeelement(tag)
        if parent is not None:
            parent.append(el)
        if leaf:
            el.set(topic_attr, "true")
        return el

    video = node(None, "VideoSource")
    node(video, "MotionAlarm", True).append(_description([("Source", ref)], [("State", "xs:boolean")], True))
    node(node(video, "GlobalSceneChange"), "ImagingService", True).append(
        _description([("Source", ref)], [("State", "xs:boolean")], True)
    )
    rules = node(None, "RuleEngine")
    node(node(rules, "CellMotionDetector"), "Motion", True).append(
        _description(
            [("VideoSourceConfigurationToken", ref), ("VideoAnalyticsConfigurationToken", ref), ("Rule", "xs:string")],
            [("IsMotion", "xs:boolean")],
            True,
        )
    )
    return [video, rules]


# ---------------------------------------------------------------------------------------------- parsing
def parse_duration(text: str) -> float | None:
    """Seconds of an xs:duration without years/months (``PT60S``, ``P1DT2H``), or None if it is not one."""
    m = _DURATION.match(text.strip())
    if m is None or text.strip() in ("P", "PT", "-P"):
        return None
    total = sum(float(m.group(k) or 0) * f for k, f in (("d", 86400), ("h", 3600), ("m", 60), ("s", 1)))
    return -total if m.group("sign") else total


def _termination(ctx: SoapContext, value: Any, fault: str) -> dt.datetime:
    """The absolute termination time (camera clock) of an AbsoluteOrRelativeTimeType value."""
    spec = ctx.config.events
    now = ctx.now()
    text = "" if value is None else str(value).strip()
    if not text:
        return now + dt.timedelta(seconds=spec.default_termination_s)
    seconds = parse_duration(text)
    if seconds is not None:
        if ctx.quirk("relative_time_ignored"):
            seconds = 0.0  # firmware quirk: relative durations are read as "now"
        when = now + dt.timedelta(seconds=seconds)
    else:
        try:
            when = dt.datetime.fromisoformat(text.replace(" ", "T"))
        except ValueError:
            raise SoapFault(["InvalidArgVal", fault], f"cannot read termination time {text!r}") from None
        if when.tzinfo is None:
            when = when.replace(tzinfo=dt.UTC)
    if when < now - dt.timedelta(seconds=1) or when > now + dt.timedelta(seconds=spec.max_termination_s):
        raise SoapFault(
            ["InvalidArgVal", fault],
            f"termination time {text} must lie between now and {spec.max_termination_s:g} s from now",
        )
    return when


def _seconds(value: Any) -> float:
    if isinstance(value, dt.timedelta):
        return value.total_seconds()
    total = getattr(value, "totimedelta", None)  # isodate.Duration
    if callable(total):
        return float(total(start=dt.datetime(2000, 1, 1)).total_seconds())
    parsed = parse_duration(str(value))
    if parsed is None:
        raise SoapFault(["InvalidArgVal", "InvalidDuration"], f"cannot read duration {value!r}")
    return parsed


def _filters(ctx: SoapContext) -> list[str] | None:
    """Topic expressions of the request's Filter (read from the raw XML: zeep drops mixed content)."""
    if ctx.request is None:
        return None
    out: list[str] = []
    for el in ctx.request.body.iter(f"{{{_WSNT}}}TopicExpression"):
        out.extend(p.strip() for p in (el.text or "").split("|") if p.strip())
    return out or None


def _subscription(ctx: SoapContext, st: _CameraEvents) -> _Subscription:
    sub_id = ctx.path[len(_SUB_PREFIX) :] if ctx.path.startswith(_SUB_PREFIX) else ""
    sub = st.subs.get(sub_id)
    if sub is None or sub.closed:
        raise SoapFault(["ResourceUnknownFault"], f"no such pull point {ctx.path!r} (expired, unsubscribed or unknown)")
    return sub


# -------------------------------------------------------------------------------------------- operations
@EVENTS.operation("GetServiceCapabilities")
def get_service_capabilities(ctx: SoapContext, req: Any) -> dict[str, Any]:
    return {
        "Capabilities": {
            "WSSubscriptionPolicySupport": False,
            "WSPullPointSupport": True,
            "WSPausableSubscriptionManagerInterfaceSupport": False,
            "MaxNotificationProducers": 0,
            "MaxPullPoints": ctx.config.events.max_pull_points,
            "PersistentNotificationStorage": False,
        }
    }


@EVENTS.operation("GetEventProperties")
def get_event_properties(ctx: SoapContext, req: Any) -> dict[str, Any]:
    return {
        "TopicNamespaceLocation": ["http://www.onvif.org/onvif/ver10/topics/topicns.xml"],
        "FixedTopicSet": True,
        "TopicSet": {"_value_1": _topic_set()},
        "TopicExpressionDialect": ["http://docs.oasis-open.org/wsn/t-1/TopicExpression/Concrete", CONCRETE_SET],
        "MessageContentFilterDialect": ["http://www.onvif.org/ver10/tev/messageContentFilter/ItemFilter"],
        "MessageContentSchemaLocation": ["http://www.onvif.org/onvif/ver10/schema/onvif.xsd"],
    }


@EVENTS.operation("CreatePullPointSubscription")
def create_pull_point_subscription(ctx: SoapContext, req: Any) -> dict[str, Any]:
    st = events_state(ctx.camera)
    termination = _termination(ctx, req.InitialTerminationTime, "UnacceptableInitialTerminationTimeFault")
    limit = ctx.config.events.max_pull_points
    with st.cond:
        _reap(ctx, st)
        if len(st.subs) >= limit:
            raise SoapFault(
                ["Action", "SubscribeCreationFailedFault"],
                f"maximum number of pull-point subscriptions ({limit}) reached",
                code="Receiver",
            )
        sub = _Subscription(
            id=uuid.uuid4().hex,
            termination=termination,
            topics=_filters(ctx),
            queue=collections.deque(maxlen=ctx.config.events.queue_size),
        )
        sub.queue.extend(e for e in _initial_events(ctx.camera, st) if _matches(e.topic, sub.topics))
        st.subs[sub.id] = sub
        st.created_total += 1
    address = f"http://{ctx.advertised_netloc}{_SUB_PREFIX}{sub.id}"
    return {
        "SubscriptionReference": {"Address": _address(address, ctx.quirk("no_wsa_prefix"))},
        "CurrentTime": ctx.now().replace(microsecond=0),
        "TerminationTime": termination.replace(microsecond=0),
    }


@EVENTS.operation("PullMessages")
def pull_messages(ctx: SoapContext, req: Any) -> dict[str, Any]:
    st = events_state(ctx.camera)
    spec = ctx.config.events
    timeout = min(max(0.0, _seconds(req.Timeout)), spec.max_pull_timeout_s)
    limit = max(1, min(int(req.MessageLimit or 1), spec.max_message_limit))
    stopping: threading.Event | None = getattr(ctx.camera, "_stopping", None)
    deadline = time.monotonic() + timeout
    with st.cond:
        _reap(ctx, st)
        sub = _subscription(ctx, st)
        while True:
            now = time.monotonic()
            next_tick = _advance_schedule(ctx.camera, st, now)
            if sub.closed:
                raise SoapFault(["ResourceUnknownFault"], "the pull point was removed while waiting")
            if sub.queue or now >= deadline or (stopping is not None and stopping.is_set()):
                break
            wake = min(deadline, next_tick if next_tick is not None else deadline, now + 0.25)
            st.cond.wait(max(0.0, wake - now))
        events = [sub.queue.popleft() for _ in range(min(limit, len(sub.queue)))]
        termination = sub.termination
    return {
        "CurrentTime": ctx.now().replace(microsecond=0),
        "TerminationTime": termination.replace(microsecond=0),
        "NotificationMessage": [
            {"Topic": topic_expression(e.topic), "Message": {"_value_1": _message_element(e, ctx.format_datetime)}}
            for e in events
        ],
    }


@EVENTS.operation("SetSynchronizationPoint")
def set_synchronization_point(ctx: SoapContext, req: Any) -> None:
    st = events_state(ctx.camera)
    with st.cond:
        _reap(ctx, st)
        sub = _subscription(ctx, st)
        sub.queue.extend(e for e in _initial_events(ctx.camera, st) if _matches(e.topic, sub.topics))
        st.cond.notify_all()
    return None


@EVENTS.operation("Renew")
def renew(ctx: SoapContext, req: Any) -> dict[str, Any]:
    st = events_state(ctx.camera)
    termination = _termination(ctx, req.TerminationTime, "UnacceptableTerminationTimeFault")
    with st.cond:
        _reap(ctx, st)
        sub = _subscription(ctx, st)
        sub.termination = termination
    return {"TerminationTime": termination.replace(microsecond=0), "CurrentTime": ctx.now().replace(microsecond=0)}


@EVENTS.operation("Unsubscribe")
def unsubscribe(ctx: SoapContext, req: Any) -> dict[str, Any]:
    st = events_state(ctx.camera)
    with st.cond:
        _reap(ctx, st)
        sub = _subscription(ctx, st)
        sub.closed = True
        st.subs.pop(sub.id, None)
        st.cond.notify_all()
    return {}
