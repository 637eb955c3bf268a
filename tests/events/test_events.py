"""Events against virtual cameras over loopback: topic set, typed motion/tamper events, the managed pull point
(renewal, relative-time quirk, cap, no leaks, reboot, shut-down from another thread) and the callback API."""

from __future__ import annotations

import queue
import threading
import time
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from kedirivms import Camera, CameraEvent, PullPointSubscription
from kedirivms.errors import OnvifFault
from kedirivms.onvif import SubscriptionState
from kedirivms.sim import VirtualCamera

MOTION = "tns1:VideoSource/MotionAlarm"
CELL = "tns1:RuleEngine/CellMotionDetector/Motion"
TAMPER = "tns1:VideoSource/GlobalSceneChange/ImagingService"


def wait_for(cond: Callable[[], bool], timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while not cond():
        assert time.monotonic() < deadline, "condition not met in time"
        time.sleep(0.02)


def drain(sub: PullPointSubscription) -> list[CameraEvent]:
    out: list[CameraEvent] = []
    while batch := sub.pull(timeout=0):
        out.extend(batch)
    return out


def until(sub: PullPointSubscription, pred: Callable[[CameraEvent], bool], duration: float = 8.0) -> CameraEvent:
    for ev in sub.events(duration=duration):
        if pred(ev):
            return ev
    raise AssertionError("no matching event")


class Reader:
    """Iterates a subscription in a thread, queueing what arrives."""

    def __init__(self, sub: PullPointSubscription) -> None:
        self.sub = sub
        self.events: queue.Queue[CameraEvent] = queue.Queue()
        self.error: BaseException | None = None
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.thread.start()

    def _run(self) -> None:
        try:
            for ev in self.sub:
                self.events.put(ev)
        except BaseException as exc:  # surfaced by the test
            self.error = exc

    def wait(self, pred: Callable[[CameraEvent], bool], timeout: float = 10.0) -> CameraEvent:
        deadline = time.monotonic() + timeout
        while True:
            ev = self.events.get(timeout=max(0.01, deadline - time.monotonic()))
            if pred(ev):
                return ev


@pytest.fixture
def reader() -> Iterator[Callable[[PullPointSubscription], Reader]]:
    made: list[Reader] = []

    def make(sub: PullPointSubscription) -> Reader:
        made.append(Reader(sub))
        return made[-1]

    yield make
    for r in made:
        r.sub.close()
        r.thread.join(10)


def test_topic_set_and_capabilities(camera: Camera) -> None:
    props = camera.events.properties()
    assert props.has(MOTION) and props.has(CELL) and props.has(TAMPER)
    motion = next(t for t in props.topics if t.topic == MOTION)
    assert (
        motion.is_property and motion.source_items == {"Source": "tt:ReferenceToken"} and "State" in motion.data_items
    )
    cell = next(t for t in props.topics if t.topic == CELL)
    assert "IsMotion" in cell.data_items and "Rule" in cell.source_items
    assert "http://www.onvif.org/ver10/tev/topicExpression/ConcreteSet" in props.topic_expression_dialects
    caps = camera.events.capabilities()
    assert caps.ws_pull_point_support and caps.max_pull_points == 5


def test_initialized_state_then_motion_and_tamper(camera: Camera, vcam: VirtualCamera) -> None:
    with camera.events.pull_point(pull_timeout=1) as sub:
        initial = drain(sub)
        assert {e.topic for e in initial} == {MOTION, CELL, TAMPER}
        assert all(e.property_operation == "Initialized" for e in initial)
        assert next(e for e in initial if e.topic == MOTION).motion is False
        vcam.trigger_motion(True)
        ev = until(sub, lambda e: e.topic == MOTION)
        assert ev.is_motion and ev.motion is True and ev.property_operation == "Changed"
        assert (
            ev.source_token == "VideoSource_1"
            and ev.utc_time is not None
            and ev.topic_path == "VideoSource/MotionAlarm"
        )
        cell = until(sub, lambda e: e.topic == CELL)
        assert cell.motion is True and cell.source["Rule"] and cell.source_token == "VideoSourceConfig_1"
        vcam.trigger_motion(False)
        assert until(sub, lambda e: e.topic == MOTION).motion is False
        vcam.trigger_tamper(True)
        tamper = until(sub, lambda e: e.is_tamper)
        assert tamper.tamper is True and tamper.motion is None and not tamper.is_motion
        sub.synchronize()  # the camera re-sends every property's state
        again = until(sub, lambda e: e.property_operation == "Initialized" and e.topic == TAMPER)
        assert again.tamper is True


@pytest.mark.parametrize(
    ("topics", "expected"),
    [([MOTION], {MOTION}), (["tns1:RuleEngine//."], {CELL}), (["VideoSource/MotionAlarm", CELL], {MOTION, CELL})],
)
def test_topic_filter(camera: Camera, vcam: VirtualCamera, topics: list[str], expected: set[str]) -> None:
    with camera.events.pull_point(topics, pull_timeout=1) as sub:
        vcam.trigger_motion(True)
        vcam.trigger_tamper(True)
        seen = {e.topic for e in drain(sub)}
    assert seen == expected


def test_motion_on_a_schedule(vcam_factory: Any, connect: Any) -> None:
    cam = connect(vcam_factory(events={"motion_interval_s": 0.2}))
    changed: list[bool | None] = []
    with cam.events.pull_point([MOTION], pull_timeout=2) as sub:
        for ev in sub.events(duration=10):
            if ev.property_operation == "Changed":
                changed.append(ev.motion)
                if len(changed) == 2:
                    break
    assert changed == [True, False]  # no trigger: the camera's schedule toggles motion on VideoSource_1


def test_sixth_subscription_is_refused_like_a_camera(camera: Camera, vcam: VirtualCamera) -> None:
    subs = [camera.events.pull_point() for _ in range(5)]
    assert vcam.subscription_count == 5
    with pytest.raises(OnvifFault) as info:
        camera.events.pull_point()
    err = info.value
    assert err.code == "env:Receiver" and "SubscribeCreationFailedFault" in err.subcodes
    assert err.hint is not None and "max_pull_points" in err.hint
    for sub in subs:
        sub.close()
    assert vcam.subscription_count == 0
    with camera.events.pull_point():
        assert vcam.subscription_count == 1


def test_no_subscription_leaks_over_20_open_close_cycles(camera: Camera, vcam: VirtualCamera) -> None:
    for i in range(20):
        with camera.events.pull_point(pull_timeout=0) as sub:
            assert vcam.subscription_count == 1
            sub.pull(timeout=0)
            if i % 5 == 0:
                vcam.trigger_motion(i % 10 == 0)
        assert sub.state is SubscriptionState.CLOSED
    assert vcam.subscription_count == 0
    assert camera.events.subscriptions == []


def test_camera_close_unsubscribes_everything(
    vcam: VirtualCamera, connect: Any, reader: Callable[[PullPointSubscription], Reader]
) -> None:
    cam = connect(vcam)
    cam.events.pull_point()
    cam.events.pull_point(termination=30)
    r = reader(cam.events.pull_point(pull_timeout=5))
    r.wait(lambda e: e.property_operation == "Initialized")
    assert vcam.subscription_count == 3
    cam.close()
    assert vcam.subscription_count == 0
    r.thread.join(10)
    assert not r.thread.is_alive() and r.error is None


def test_renews_before_a_short_termination(camera: Camera, vcam: VirtualCamera) -> None:
    with camera.events.pull_point(termination=3, pull_timeout=1) as sub:
        first_termination = sub.termination_time
        threading.Timer(4.0, vcam.trigger_motion).start()  # fires after the first termination time
        ev = until(sub, lambda e: e.property_operation == "Changed", duration=10)
        assert ev.motion is True
        assert sub.renewals >= 1 and sub.recreated == 0  # kept alive by Renew, never re-created
        assert sub.termination_time is not None and first_termination is not None
        assert sub.termination_time > first_termination
        assert vcam.subscription_count == 1
    assert vcam.subscription_count == 0


def test_camera_mishandling_relative_durations_gets_absolute_times(vcam_factory: Any, connect: Any) -> None:
    vcam = vcam_factory(quirks={"relative_time_ignored"})
    cam = connect(vcam)
    with cam.events.pull_point(termination=3, pull_timeout=1) as sub:
        assert sub.uses_absolute_time  # detected on the first CreatePullPointSubscription reply
        assert vcam.subscription_count == 1  # the mishandled first pull point did not linger
        threading.Timer(3.5, vcam.trigger_motion).start()
        assert until(sub, lambda e: e.property_operation == "Changed", duration=10).motion is True
        assert sub.renewals >= 1 and sub.recreated == 0
    assert vcam.subscription_count == 0


def test_expired_or_unknown_pull_point_answers_resource_unknown(camera: Camera, vcam: VirtualCamera) -> None:
    # raw calls: a 1 s pull point (the managed subscription refuses lifetimes under 3 s)
    reply = camera.call("events", "CreatePullPointSubscription", InitialTerminationTime="PT1S")
    address = reply.SubscriptionReference.Address._value_1
    assert vcam.subscription_count == 1
    time.sleep(1.3)
    assert vcam.subscription_count == 0  # the camera enforced the termination time
    for operation, kwargs in (("Renew", {"TerminationTime": "PT10S"}), ("Unsubscribe", {})):
        with pytest.raises(OnvifFault) as info:
            camera.call("subscription", operation, address=address, **kwargs)
        assert "ResourceUnknownFault" in info.value.subcodes and info.value.code == "env:Sender"
    with pytest.raises(OnvifFault, match="ResourceUnknownFault"):
        camera.call("pullpoint", "PullMessages", address=address + "x", Timeout="PT0S", MessageLimit=1)


def test_camera_restart_mid_subscription_events_resume(
    camera: Camera, vcam: VirtualCamera, reader: Callable[[PullPointSubscription], Reader]
) -> None:
    sub = camera.events.pull_point(pull_timeout=2, max_backoff=0.3)
    r = reader(sub)
    r.wait(lambda e: e.property_operation == "Initialized")
    old = sub.address
    vcam.restart(downtime_s=0.3)
    wait_for(lambda: sub.recreated >= 1 and sub.state is SubscriptionState.ACTIVE)
    assert sub.address != old
    vcam.trigger_motion(True)
    assert r.wait(lambda e: e.topic == MOTION and e.property_operation == "Changed").motion is True
    assert vcam.subscription_count == 1 and r.error is None
    sub.close()
    assert vcam.subscription_count == 0


def test_close_from_another_thread_ends_a_long_poll(
    camera: Camera, vcam: VirtualCamera, reader: Callable[[PullPointSubscription], Reader]
) -> None:
    sub = camera.events.pull_point(pull_timeout=30)  # the iterator will sit in a 30 s PullMessages
    r = reader(sub)
    r.wait(lambda e: e.property_operation == "Initialized")
    time.sleep(0.2)
    sub.close()  # from this thread: unsubscribes, which ends the pending pull
    r.thread.join(10)
    assert not r.thread.is_alive() and r.error is None
    assert sub.state is SubscriptionState.CLOSED and vcam.subscription_count == 0


def test_callback_api_isolates_callback_errors(camera: Camera, vcam: VirtualCamera) -> None:
    got: list[CameraEvent] = []
    errors: list[Exception] = []

    def callback(ev: CameraEvent) -> None:
        if ev.property_operation == "Initialized":
            raise RuntimeError("consumer bug")
        got.append(ev)

    sub = camera.events.subscribe(callback, [MOTION], on_error=errors.append, pull_timeout=1)
    wait_for(lambda: len(errors) >= 1)
    vcam.trigger_motion(True)
    wait_for(lambda: any(e.motion for e in got))
    sub.close()
    assert isinstance(errors[0], RuntimeError) and vcam.subscription_count == 0


@pytest.mark.parametrize("quirk", ["date_dash", "no_wsa_prefix", "fault_undeclared_prefix"])
def test_events_survive_vendor_quirks(vcam_factory: Any, connect: Any, quirk: str) -> None:
    vcam = vcam_factory(quirks={quirk})
    cam = connect(vcam)
    with cam.events.pull_point([MOTION], pull_timeout=1) as sub:
        vcam.trigger_motion(True)
        ev = until(sub, lambda e: e.property_operation == "Changed")
        assert ev.motion is True and ev.utc_time is not None
    assert vcam.subscription_count == 0


@pytest.mark.parametrize(
    "overrides",
    [{"auth": "digest"}, {"auth": "basic"}, {"advertised_host": "10.20.30.40", "advertised_port": 8080}],
    ids=["digest", "basic", "nat-advertised-address"],
)
def test_pull_points_over_other_auth_and_nat(vcam_factory: Any, connect: Any, overrides: dict[str, Any]) -> None:
    # the NAT case: the camera names 10.20.30.40:8080 in the subscription reference; the client must use the
    # address it reached the camera at (the test guard refuses any non-loopback connection)
    vcam = vcam_factory(**overrides)
    cam = connect(vcam)
    with cam.events.pull_point([MOTION], pull_timeout=1) as sub:
        assert sub.address is not None and sub.address.startswith(vcam.base_url)
        vcam.trigger_motion(True)
        assert until(sub, lambda e: e.property_operation == "Changed").motion is True
    assert vcam.subscription_count == 0
