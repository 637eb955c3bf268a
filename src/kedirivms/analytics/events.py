"""The one event model shared by analytics plugins, camera (ONVIF) events and sinks."""

from __future__ import annotations

import numbers
import re
import uuid
from datetime import UTC, datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, JsonValue, field_validator

__all__ = ["Event", "JsonValue"]

_KIND = re.compile(r"^[A-Za-z0-9_.:-]{1,64}$")


class Event(BaseModel):
    """Something that happened on a camera: a plugin finding or a camera (ONVIF) event.

    Attributes:
        camera: the camera name.
        source: the plugin name, or the ONVIF topic (e.g. ``tns1:VideoSource/MotionAlarm``).
        kind: what happened, e.g. ``pile_up``, ``queue_stats``, ``motion`` (letters, digits, ``_.:-``).
        time: when it happened, a timezone-aware UTC datetime (epoch seconds and other zones are converted;
            naive datetimes are taken as UTC).
        zone: the zone it concerns, if any.
        data: JSON-compatible details.
        id: a unique id (hex) so receivers can drop duplicates after a webhook retry.

    Example:
        >>> Event(camera="counter-1", source="queue", kind="pile_up", time=0, data={"length": 6}).time.year
        1970
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    camera: str = Field(min_length=1, description="Camera name.")
    source: str = Field(min_length=1, description="Plugin name or ONVIF topic.")
    kind: str = Field(description="What happened (letters, digits, '_.:-').")
    time: datetime = Field(description="When it happened (UTC).")
    zone: str | None = Field(default=None, description="Zone name, if any.")
    data: dict[str, JsonValue] = Field(default_factory=dict, description="JSON-compatible details.")
    id: str = Field(default_factory=lambda: uuid.uuid4().hex, description="Unique event id.")

    @field_validator("kind")
    @classmethod
    def _check_kind(cls, value: str) -> str:
        if not _KIND.match(value):
            raise ValueError(f"kind must be 1-64 of letters, digits and '_.:-', got {value!r}")
        return value

    @field_validator("time", mode="before")
    @classmethod
    def _to_datetime(cls, value: Any) -> Any:
        if isinstance(value, numbers.Real) and not isinstance(value, bool):  # numpy scalars included
            return datetime.fromtimestamp(float(value), UTC)
        return value

    @field_validator("time")
    @classmethod
    def _to_utc(cls, value: datetime) -> datetime:
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value.astimezone(UTC)

    @classmethod
    def from_camera_event(cls, camera: str, message: Any) -> Event:
        """Turn a camera notification (:class:`kedirivms.onvif.CameraEvent`, from a PullPoint) into an event.

        ``source`` is the ONVIF topic, ``kind`` its last path element (``tns1:VideoSource/MotionAlarm`` ->
        ``MotionAlarm``), ``time`` the message's UtcTime (now if it has none), and ``data`` holds the message's
        ``source``, ``key`` and ``data`` SimpleItems and its ``operation`` (Initialized/Changed/Deleted).

        Args:
            camera: the camera name used in the deployment.
            message: the notification (any object with ``topic``, ``utc_time``, ``source``, ``key``, ``data``).

        Returns:
            A new event, ready for ``runner.submit_event``.
        """
        topic = str(message.topic)
        kind = re.sub(r"[^A-Za-z0-9_.:-]", "_", topic.split(":", 1)[-1].rstrip("/").rsplit("/", 1)[-1])[:64]
        operation = getattr(message, "property_operation", None)
        return cls(
            camera=camera,
            source=topic,
            kind=kind or "event",
            time=getattr(message, "utc_time", None) or datetime.now(UTC),
            data={
                "source": dict(getattr(message, "source", {}) or {}),
                "key": dict(getattr(message, "key", {}) or {}),
                "data": dict(getattr(message, "data", {}) or {}),
                "operation": getattr(operation, "value", operation),
            },
        )

    @property
    def timestamp(self) -> float:
        """The event time as epoch seconds."""
        return self.time.timestamp()
