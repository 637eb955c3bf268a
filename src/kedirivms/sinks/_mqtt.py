"""MQTT sink (paho-mqtt 2.x): events published to ``<prefix>/<camera>/<kind>``, QoS 1, reconnecting."""

from __future__ import annotations

import logging
import re
import threading
import time
import uuid
from typing import TYPE_CHECKING, Any, Literal
from urllib.parse import unquote, urlsplit

import paho.mqtt.client as mqtt
from pydantic import BaseModel, ConfigDict, Field, SecretStr, field_validator

from kedirivms._redact import redact_url
from kedirivms.sinks._base import Sink

if TYPE_CHECKING:  # at run time sinks do not import analytics (which imports sinks)
    from kedirivms.analytics.events import Event

__all__ = ["MqttSink", "MqttSinkConfig", "mqtt_topic"]

_log = logging.getLogger("kedirivms.sinks")
_UNSAFE = re.compile(r"[/+#\s\x00]")


class MqttSinkConfig(BaseModel):
    """Settings of an :class:`MqttSink` (``type: mqtt`` in a deployment file)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    type: Literal["mqtt"] = Field(default="mqtt", description="Sink kind.")
    url: str = Field(description="Broker: mqtt://host:1883 or mqtts://host:8883 (user:password@ accepted).")
    username: str | None = Field(default=None, description="User name (overrides the URL's).")
    password: SecretStr | None = Field(default=None, description="Password (overrides the URL's).")
    client_id: str | None = Field(default=None, description="MQTT client id (default: kedirivms-<random>).")
    topic_prefix: str = Field(default="kedirivms", min_length=1, description="First topic level.")
    qos: Literal[0, 1, 2] = Field(default=1, description="Publish QoS.")
    retain: bool = Field(default=False, description="Publish retained messages.")
    keepalive: int = Field(default=30, ge=5, le=3600, description="Keep-alive interval, s.")
    reconnect_delay: tuple[int, int] = Field(default=(1, 30), description="Reconnect back-off (first, cap), s.")
    queue_size: int = Field(default=1000, ge=1, description="Events waiting at most; the oldest is dropped.")
    max_inflight: int = Field(default=20, ge=1, description="Unacknowledged publishes at most.")
    name: str | None = Field(default=None, description="Label in stats and logs (default: the broker host).")

    @field_validator("url")
    @classmethod
    def _scheme(cls, value: str) -> str:
        parts = urlsplit(value)
        if parts.scheme not in ("mqtt", "mqtts", "tcp", "ssl") or not parts.hostname:
            raise ValueError("url must look like mqtt://host:1883 or mqtts://host:8883")
        return value


def mqtt_topic(event: Event, prefix: str = "kedirivms") -> str:
    """The topic an event is published to: ``<prefix>/<camera>/<kind>`` (``/ + #`` and spaces become ``_``)."""
    return f"{prefix}/{_UNSAFE.sub('_', event.camera)}/{_UNSAFE.sub('_', event.kind)}"


class MqttSink(Sink):
    """Publish events as JSON to an MQTT broker.

    paho's network thread connects in the background and reconnects with back-off; while the broker is away,
    events wait in the sink's bounded queue (oldest dropped). ``sent`` counts broker acknowledgements (PUBACK for
    QoS 1). :meth:`close` waits for outstanding acknowledgements within its time-out, then disconnects.

    Args:
        config: the settings.

    Example:
        >>> sink = MqttSink(MqttSinkConfig(url="mqtt://127.0.0.1:1883"))  # doctest: +SKIP
    """

    kind = "mqtt"

    def __init__(self, config: MqttSinkConfig) -> None:
        parts = urlsplit(config.url)
        super().__init__(name=config.name or parts.hostname or "mqtt", queue_size=config.queue_size)
        self.config = config
        self._url = redact_url(config.url)
        self._host = parts.hostname or "127.0.0.1"
        self._tls = parts.scheme in ("mqtts", "ssl")
        self._port = parts.port or (8883 if self._tls else 1883)
        self._username = config.username or (unquote(parts.username) if parts.username else None)
        password = config.password.get_secret_value() if config.password else None
        self._password = password or (unquote(parts.password) if parts.password else None)
        self._client: mqtt.Client | None = None
        self._up = threading.Event()
        self._lock = threading.Lock()
        self._pending: set[int] = set()  # message ids published, not yet acknowledged
        self._early: set[int] = set()  # acknowledged before publish() returned to us
        self._ever_connected = False

    def _connected(self) -> bool | None:
        return self._up.is_set()

    def _open(self) -> None:
        client = mqtt.Client(
            callback_api_version=mqtt.CallbackAPIVersion.VERSION2,
            client_id=self.config.client_id or f"kedirivms-{uuid.uuid4().hex[:12]}",
            protocol=mqtt.MQTTv311,
        )
        if self._username is not None:
            client.username_pw_set(self._username, self._password)
        if self._tls:
            client.tls_set()
        client.reconnect_delay_set(*self.config.reconnect_delay)
        client.max_inflight_messages_set(self.config.max_inflight)
        client.max_queued_messages_set(self.config.queue_size)
        client.enable_logger(logging.getLogger("kedirivms.sinks.paho"))
        client.on_connect = self._on_connect
        client.on_disconnect = self._on_disconnect
        client.on_publish = self._on_publish
        client.connect_async(self._host, self._port, keepalive=self.config.keepalive)
        client.loop_start()  # paho's thread connects, reconnects and handles acknowledgements
        self._client = client

    def _close(self) -> None:
        client = self._client
        if client is None:
            return
        while self._pending and self._up.is_set() and self._time_left() > 0:
            time.sleep(0.02)
        with self._lock:
            lost = len(self._pending)  # never acknowledged
            self._pending.clear()
            self._early.clear()
        self._count(dropped=lost)
        client.disconnect()
        client.loop_stop()
        self._up.clear()
        self._client = None

    def _deliver(self, event: Event) -> bool | None:
        client = self._client
        assert client is not None
        while not self._up.wait(0.1):
            if self._time_left() <= 0:
                self._error(f"broker {self._url} not reachable before close")
                return False
        payload = event.model_dump_json()
        # never call into paho while holding our lock: paho holds its own locks when it calls _on_publish
        info = client.publish(
            mqtt_topic(event, self.config.topic_prefix), payload, qos=self.config.qos, retain=self.config.retain
        )
        if info.rc == mqtt.MQTT_ERR_QUEUE_SIZE:
            self._error("paho outgoing queue full")
            return False
        if info.rc not in (mqtt.MQTT_ERR_SUCCESS, mqtt.MQTT_ERR_NO_CONN):
            self._error(f"publish failed: {mqtt.error_string(info.rc)}")
            return False
        with self._lock:
            if info.mid in self._early:  # acknowledged before we got here
                self._early.discard(info.mid)
                return True
            self._pending.add(info.mid)  # paho re-sends QoS>0 messages after a reconnect
        return None

    # -- paho callbacks (paho's network thread) -----------------------------------------------------------------
    def _on_connect(self, client: Any, userdata: Any, flags: Any, reason: Any, properties: Any) -> None:
        if reason.is_failure:
            self._error(f"broker {self._url} refused the connection: {reason}")
            _log.warning("MQTT sink %r: %s refused the connection: %s", self.name, self._url, reason)
            return
        self._ever_connected = True
        self._up.set()
        _log.info("MQTT sink %r connected to %s", self.name, self._url)

    def _on_disconnect(self, client: Any, userdata: Any, flags: Any, reason: Any, properties: Any) -> None:
        was_up = self._up.is_set()
        self._up.clear()
        if was_up and not self._closed:
            self._error(f"disconnected from {self._url}: {reason}")
            _log.warning("MQTT sink %r lost %s (%s); reconnecting", self.name, self._url, reason)

    def _on_publish(self, client: Any, userdata: Any, mid: int, reason: Any, properties: Any) -> None:
        with self._lock:
            if mid not in self._pending:
                self._early.add(mid)
                return
            self._pending.discard(mid)
        self._count(sent=1)
