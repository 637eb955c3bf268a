"""Event sinks: JSON Lines file (default), webhook and MQTT, each on its own thread behind a bounded queue.

Build one from a config (e.g. a deployment file's ``sinks:`` list) with :func:`build_sink`::

    sink = build_sink({"type": "mqtt", "url": "mqtt://127.0.0.1:1883"})

Sinks never block the producer: :meth:`Sink.submit` appends to a bounded queue (the oldest event is dropped and
counted when it is full) and the sink's own thread delivers.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Annotated, Any

from pydantic import Field, TypeAdapter, ValidationError

from kedirivms._exports import one_line
from kedirivms.errors import ConfigError
from kedirivms.sinks._base import CallbackSink, Sink, SinkStats
from kedirivms.sinks._jsonl import JsonlSink, JsonlSinkConfig
from kedirivms.sinks._mqtt import MqttSink, MqttSinkConfig, mqtt_topic
from kedirivms.sinks._webhook import WebhookSink, WebhookSinkConfig

__all__ = [
    "CallbackSink",
    "JsonlSink",
    "JsonlSinkConfig",
    "MqttSink",
    "MqttSinkConfig",
    "Sink",
    "SinkConfig",
    "SinkStats",
    "WebhookSink",
    "WebhookSinkConfig",
    "build_sink",
    "mqtt_topic",
]

SinkConfig = Annotated[JsonlSinkConfig | WebhookSinkConfig | MqttSinkConfig, Field(discriminator="type")]
"""Any sink's settings, told apart by ``type`` (``jsonl``, ``webhook``, ``mqtt``)."""

_ADAPTER: TypeAdapter[JsonlSinkConfig | WebhookSinkConfig | MqttSinkConfig] = TypeAdapter(SinkConfig)


def build_sink(config: JsonlSinkConfig | WebhookSinkConfig | MqttSinkConfig | Mapping[str, Any]) -> Sink:
    """Create a sink (not started) from its settings.

    Args:
        config: a sink config model, or a mapping with a ``type`` key validated into one.

    Returns:
        A :class:`JsonlSink`, :class:`WebhookSink` or :class:`MqttSink`.

    Raises:
        ConfigError: the mapping does not validate (fields named, secrets not shown).

    Example:
        >>> build_sink({"type": "jsonl", "path": "events.jsonl"})
        <kedirivms.sinks.JsonlSink 'events.jsonl'>
    """
    if isinstance(config, Mapping):
        try:
            config = _ADAPTER.validate_python(dict(config))
        except ValidationError as exc:
            raise ConfigError(
                f"invalid sink config: {one_line(exc)}", hint="type is one of jsonl, webhook, mqtt"
            ) from None
    if isinstance(config, JsonlSinkConfig):
        return JsonlSink(config)
    if isinstance(config, WebhookSinkConfig):
        return WebhookSink(config)
    return MqttSink(config)
