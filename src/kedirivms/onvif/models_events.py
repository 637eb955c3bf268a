"""Typed ONVIF events: notifications, the topic set and the event service capabilities."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

__all__ = ["CameraEvent", "EventProperties", "EventServiceCapabilities", "EventTopic"]

PropertyOperation = Literal["Initialized", "Changed", "Deleted"]

_TRUE = ("true", "1", "yes", "on", "active")
_FALSE = ("false", "0", "no", "off", "inactive")
_MOTION_ITEMS = ("State", "IsMotion", "Motion", "MotionActive", "Active")
_TAMPER_ITEMS = ("State", "IsTamper", "Tamper", "Active")


def _as_bool(value: str | None) -> bool | None:
    if value is None:
        return None
    text = value.strip().lower()
    return True if text in _TRUE else False if text in _FALSE else None


class CameraEvent(BaseModel):
    """One notification from a camera, typed.

    ``topic`` keeps the ONVIF prefix ``tns1:`` for the ONVIF topic namespace (whatever prefix the camera used);
    vendor topics keep theirs. ``source``, ``key`` and ``data`` are the message's SimpleItems by name.

    Example:
        >>> ev.is_motion, ev.motion, ev.source_token  # doctest: +SKIP
        (True, True, 'VideoSource_1')
    """

    model_config = ConfigDict(extra="ignore", frozen=True)

    topic: str = Field(description="Topic, e.g. 'tns1:VideoSource/MotionAlarm'.")
    utc_time: datetime | None = Field(None, description="The message's UtcTime (camera clock, UTC).")
    property_operation: PropertyOperation | None = Field(
        None, description="Initialized (state on subscribe), Changed, Deleted; None for plain events."
    )
    source: dict[str, str] = Field(default_factory=dict, description="Source SimpleItems (name -> value).")
    key: dict[str, str] = Field(default_factory=dict, description="Key SimpleItems (name -> value).")
    data: dict[str, str] = Field(default_factory=dict, description="Data SimpleItems (name -> value).")

    @property
    def topic_path(self) -> str:
        """The topic without its namespace prefix (``VideoSource/MotionAlarm``)."""
        return self.topic.split(":", 1)[-1]

    @property
    def is_motion(self) -> bool:
        """Whether this is a motion topic (MotionAlarm, CellMotionDetector, vendor motion detectors)."""
        path = self.topic_path
        return path.endswith("MotionAlarm") or "MotionDetector" in path or path.rsplit("/", 1)[-1] == "Motion"

    @property
    def motion(self) -> bool | None:
        """True/False when motion starts/stops; None for other topics or an unreadable value."""
        if not self.is_motion:
            return None
        return next((_as_bool(self.data[k]) for k in _MOTION_ITEMS if k in self.data), None)

    @property
    def is_tamper(self) -> bool:
        """Whether this is a tamper topic (GlobalSceneChange, vendor tampering)."""
        path = self.topic_path
        return "GlobalSceneChange" in path or "Tamper" in path

    @property
    def tamper(self) -> bool | None:
        """True/False when tampering is detected/cleared; None for other topics."""
        if not self.is_tamper:
            return None
        return next((_as_bool(self.data[k]) for k in _TAMPER_ITEMS if k in self.data), None)

    @property
    def source_token(self) -> str | None:
        """The video source (or source configuration) the event is about, when the message names one."""
        for name in ("Source", "VideoSourceToken", "VideoSourceConfigurationToken", "InputToken"):
            if name in self.source:
                return self.source[name]
        return next(iter(self.source.values()), None)


class EventTopic(BaseModel):
    """One topic of the camera's topic set, with the items its messages carry."""

    model_config = ConfigDict(extra="ignore", frozen=True)

    topic: str = Field(description="e.g. 'tns1:RuleEngine/CellMotionDetector/Motion'.")
    is_property: bool = Field(False, description="Whether it carries a state (Initialized/Changed/Deleted).")
    source_items: dict[str, str] = Field(default_factory=dict, description="Source item name -> type.")
    data_items: dict[str, str] = Field(default_factory=dict, description="Data item name -> type.")


class EventProperties(BaseModel):
    """GetEventProperties: the topics the camera can send and the filter dialects it understands."""

    model_config = ConfigDict(extra="ignore", frozen=True)

    topics: list[EventTopic] = Field(default_factory=list)
    fixed_topic_set: bool = True
    topic_expression_dialects: list[str] = Field(default_factory=list)
    message_content_filter_dialects: list[str] = Field(default_factory=list)

    def has(self, topic: str) -> bool:
        """Whether ``topic`` (with or without its prefix) is in the topic set."""
        want = topic.split(":", 1)[-1]
        return any(t.topic.split(":", 1)[-1] == want for t in self.topics)


class EventServiceCapabilities(BaseModel):
    """GetServiceCapabilities of the event service."""

    model_config = ConfigDict(extra="ignore", frozen=True)

    ws_pull_point_support: bool = False
    ws_subscription_policy_support: bool = False
    ws_pausable_subscription_manager_interface_support: bool = False
    max_notification_producers: int | None = None
    max_pull_points: int | None = Field(None, description="Concurrent pull points the camera allows, if stated.")
    persistent_notification_storage: bool = False
