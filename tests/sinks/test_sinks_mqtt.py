"""MQTT sink against a real mosquitto broker started by the test, observed by a paho subscriber."""

from __future__ import annotations

import threading
import uuid
from collections.abc import Iterator
from typing import Any

import paho.mqtt.client as mqtt
import pytest

from kedirivms import Event
from kedirivms.sinks import MqttSink, MqttSinkConfig, build_sink, mqtt_topic


class Subscriber:
    """A paho client subscribed to ``kedirivms/#`` at QoS 1."""

    def __init__(self, port: int) -> None:
        self.messages: list[mqtt.MQTTMessage] = []
        self.subscribed = threading.Event()
        self.client = mqtt.Client(
            callback_api_version=mqtt.CallbackAPIVersion.VERSION2,
            client_id=f"test-sub-{uuid.uuid4().hex[:8]}",
        )
        self.client.reconnect_delay_set(1, 1)
        self.client.on_connect = lambda c, u, f, rc, p: c.subscribe("kedirivms/#", qos=1)
        self.client.on_subscribe = lambda c, u, mid, rcs, p: self.subscribed.set()
        self.client.on_message = lambda c, u, msg: self.messages.append(msg)
        self.client.connect_async("127.0.0.1", port, keepalive=10)
        self.client.loop_start()

    def close(self) -> None:
        self.client.disconnect()
        self.client.loop_stop()


@pytest.fixture
def subscriber(broker: Any) -> Iterator[Subscriber]:
    sub = Subscriber(broker.port)
    assert sub.subscribed.wait(10), "the test subscriber could not subscribe"
    yield sub
    sub.close()


def test_events_are_published_per_camera_and_kind_with_qos1(
    broker: Any, subscriber: Subscriber, event: Any, wait_until: Any
) -> None:
    sink = MqttSink(MqttSinkConfig(url=broker.url.replace("mqtt://", "mqtt://user:s3cret@")))
    with sink:
        assert wait_until(lambda: sink.stats.connected)
        for n in range(3):
            sink.submit(event(n, camera="counter-1", kind="pile_up"))
        sink.submit(event(3, camera="counter-2", kind="queue_stats"))
        assert wait_until(lambda: len(subscriber.messages) == 4)
    assert sink.stats.sent == 4 and sink.stats.dropped == sink.stats.failed == 0
    assert sink.stats.connected is False  # disconnected at close
    topics = [m.topic for m in subscriber.messages]
    assert topics == ["kedirivms/counter-1/pile_up"] * 3 + ["kedirivms/counter-2/queue_stats"]
    assert {m.qos for m in subscriber.messages} == {1}
    events = [Event.model_validate_json(m.payload) for m in subscriber.messages]
    assert [e.data["n"] for e in events] == [0, 1, 2, 3]
    assert "s3cret" not in repr(sink) and "s3cret" not in sink.stats.model_dump_json()


def test_reconnects_and_delivers_what_waited_while_the_broker_was_down(
    broker: Any, subscriber: Subscriber, event: Any, wait_until: Any
) -> None:
    config = {"type": "mqtt", "url": broker.url, "reconnect_delay": [1, 1], "retain": True}
    sink = build_sink(config)
    with sink:
        assert wait_until(lambda: sink.stats.connected)
        sink.submit(event(0, kind="k0"))
        assert wait_until(lambda: len(subscriber.messages) == 1)
        broker.stop()
        assert wait_until(lambda: sink.stats.connected is False)
        for n in range(1, 4):
            sink.submit(event(n, kind=f"k{n}"))  # held in the sink's queue while the broker is away
        assert sink.stats.sent == 1 and sink.stats.queued >= 2
        broker.start()
        assert wait_until(lambda: sink.stats.sent == 4, timeout=30)  # acknowledged by the new broker
        # a fresh subscriber gets what the restarted broker now holds (retained, one per topic)
        late = Subscriber(broker.port)
        try:
            assert late.subscribed.wait(10)
            assert wait_until(lambda: len({m.topic for m in late.messages}) == 3)
        finally:
            late.close()
    topics = sorted(m.topic for m in late.messages)
    assert topics == ["kedirivms/cam-1/k1", "kedirivms/cam-1/k2", "kedirivms/cam-1/k3"]
    assert all(m.retain for m in late.messages)
    assert sorted(Event.model_validate_json(m.payload).data["n"] for m in late.messages) == [1, 2, 3]
    assert sink.stats.last_error is not None and "disconnected" in sink.stats.last_error


def test_close_gives_up_on_an_unreachable_broker_and_counts_losses(event: Any, unused_port: int) -> None:
    sink = MqttSink(MqttSinkConfig(url=f"mqtt://127.0.0.1:{unused_port}", queue_size=2))
    sink.start()
    for n in range(5):
        sink.submit(event(n))
    sink.close(timeout=0.5)
    stats = sink.stats
    assert stats.sent == 0 and stats.connected is False
    assert stats.dropped + stats.failed == 5 and stats.dropped >= 3  # 3 over the bound, the rest at close


@pytest.mark.parametrize(
    ("camera", "kind", "topic"),
    [
        ("counter-1", "pile_up", "kedirivms/counter-1/pile_up"),
        ("site/a+b#c", "x", "kedirivms/site_a_b_c/x"),
        ("lobby cam", "tns1:Motion", "kedirivms/lobby_cam/tns1:Motion"),
    ],
)
def test_topic(camera: str, kind: str, topic: str) -> None:
    assert mqtt_topic(Event(camera=camera, source="s", kind=kind, time=0)) == topic
