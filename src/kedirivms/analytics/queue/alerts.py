"""Alert rules of the queue plugin: hysteresis timers and opening hours.

An alert is raised when its condition has held for ``for_s`` seconds and cleared when the opposite condition has
held for ``clear_for_s`` seconds, so a value that wobbles around a threshold raises one alert, not a storm.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import UTC, datetime, time
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

__all__ = ["Hysteresis", "OpeningHours", "PileUpConfig", "StalledConfig", "Transition", "UnstaffedConfig"]


class PileUpConfig(BaseModel):
    """``pile_up``: the queue holds at least ``threshold`` people for ``for_s`` seconds."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    enabled: bool = Field(default=True, description="Raise pile_up alerts.")
    threshold: int = Field(default=6, ge=1, description="Queue length that counts as a pile-up, people.")
    for_s: float = Field(default=15.0, ge=0, description="How long the length must hold before alerting, s.")
    clear_below: int | None = Field(
        default=None, ge=0, description="Clear when the length is at most this (default: threshold - 2)."
    )
    clear_for_s: float = Field(default=15.0, ge=0, description="How long the low length must hold to clear, s.")

    @model_validator(mode="after")
    def _clear_under_threshold(self) -> PileUpConfig:
        if self.clear_below is not None and self.clear_below >= self.threshold:
            raise ValueError(f"clear_below ({self.clear_below}) must be under threshold ({self.threshold})")
        return self

    @property
    def clear_level(self) -> int:
        """The length at or under which a raised pile-up clears."""
        return self.clear_below if self.clear_below is not None else max(self.threshold - 2, 0)


class OpeningHours(BaseModel):
    """A daily opening window in the camera's local time (``end`` before ``start`` spans midnight)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    start: time = Field(description="Opening time, local (HH:MM).")
    end: time = Field(description="Closing time, local (HH:MM).")
    weekdays: tuple[int, ...] = Field(
        default=(0, 1, 2, 3, 4, 5, 6), description="Days it applies, 0 = Monday ... 6 = Sunday."
    )

    @field_validator("weekdays")
    @classmethod
    def _days(cls, value: tuple[int, ...]) -> tuple[int, ...]:
        if not value or any(d < 0 or d > 6 for d in value):
            raise ValueError(f"weekdays are 0 (Monday) to 6 (Sunday), got {list(value)}")
        return value

    def contains(self, local: datetime) -> bool:
        """Whether a local datetime falls in this window."""
        now = local.time()
        if self.start <= self.end:
            return local.weekday() in self.weekdays and self.start <= now < self.end
        if now >= self.start:
            return local.weekday() in self.weekdays
        return now < self.end and (local.weekday() - 1) % 7 in self.weekdays


class _OpeningHoursRule(BaseModel):
    """An alert rule that applies only within opening hours (shared by the counter rules)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    opening_hours: tuple[OpeningHours, ...] = Field(
        default=(), description="When the rule applies (the counter is open); empty means always."
    )
    timezone: str = Field(default="UTC", description="IANA time zone of the opening hours, e.g. Asia/Jakarta.")

    @field_validator("timezone")
    @classmethod
    def _tz(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError) as exc:
            raise ValueError(f"unknown time zone {value!r} (use an IANA name such as Asia/Jakarta)") from exc
        return value

    def is_open(self, t: float) -> bool:
        """Whether epoch time ``t`` is within opening hours."""
        if not self.opening_hours:
            return True
        local = datetime.fromtimestamp(t, UTC).astimezone(ZoneInfo(self.timezone))
        return any(w.contains(local) for w in self.opening_hours)


class UnstaffedConfig(_OpeningHoursRule):
    """``counter_unstaffed``: nobody in the counter zone for ``for_s`` seconds during opening hours."""

    enabled: bool = Field(default=True, description="Raise counter_unstaffed alerts.")
    for_s: float = Field(default=30.0, ge=0, description="How long the counter must be empty to alert, s.")
    clear_for_s: float = Field(default=3.0, ge=0, description="How long the clerk must be back to clear, s.")


class StalledConfig(_OpeningHoursRule):
    """``counter_stalled``: the counter is staffed and people wait, but nobody reaches the service zone.

    Raised when, within opening hours, someone is in the counter zone, at least ``min_waiting`` people are in
    the queue zone, and nobody has reached the service zone for ``for_s`` seconds. Someone the detector misses for
    a few seconds still waits (the analyzer's wait ledger keeps their visit ``relink_s``). Needs a ``counter`` and a
    ``service`` zone (without them the rule is off, unless ``enabled`` is set explicitly: then it is an error).
    """

    enabled: bool = Field(default=True, description="Raise counter_stalled alerts (needs counter and service zones).")
    for_s: float = Field(default=120.0, ge=0, description="How long nobody may reach the service zone, s.")
    clear_for_s: float = Field(
        default=2.0, ge=0, description="How long a newly arrived person must stay in the service zone to clear, s."
    )
    min_waiting: int = Field(default=1, ge=1, description="People in the queue zone that count as waiting.")


@dataclass(frozen=True)
class Transition:
    """A change of an alert's state.

    Attributes:
        raised: True when the alert was raised, False when it cleared.
        time: when the change was decided, seconds.
        since: when the deciding condition began, seconds (``time - since >= for_s``).
    """

    raised: bool
    time: float
    since: float


class Hysteresis:
    """A two-sided timer: raise after ``on`` held ``for_s``, clear after ``off`` held ``clear_for_s``.

    A break in the condition shorter than ``grace_s`` does not restart its timer (the condition is taken to have
    held through it; nothing is decided during the break): a count that reads one under on a detection or two, as a
    person the detector missed and did not carry, is one miss, not a departure and a return.

    Args:
        for_s: seconds the raise condition must hold.
        clear_for_s: seconds the clear condition must hold.
        grace_s: breaks shorter than this are bridged, seconds (0: any break restarts the timer).

    Example:
        >>> h = Hysteresis(2.0, 1.0)
        >>> [h.update(True, False, t) for t in (0.0, 1.0, 2.0)][-1].raised
        True
    """

    def __init__(self, for_s: float, clear_for_s: float, grace_s: float = 0.0) -> None:
        self.for_s = for_s
        self.clear_for_s = clear_for_s
        self.grace_s = grace_s
        self.active = False
        self.raised_at: float | None = None
        self._since: float | None = None
        self._broken: float | None = None
        self._floor = -math.inf  # no run begins before this: the last change of state, or of a forced clear

    def update(self, on: bool, off: bool, t: float, began: float | None = None) -> Transition | None:
        """Feed one observation.

        Args:
            on: the raise condition holds now.
            off: the clear condition holds now (need not be ``not on``: the gap between is the hysteresis band).
            t: time, seconds (non-decreasing).
            began: when the condition now timed (``off`` while raised, else ``on``) began, if known to be earlier
                than ``t``: a smoothed condition holds some time after its raw readings did. Read only when a new
                run starts, and never taken before the last change of state or :meth:`force_clear`.

        Returns:
            A :class:`Transition` when the state changed, else ``None``.
        """
        cond = off if self.active else on
        if not cond:
            if self._since is not None and self._broken is None:
                self._broken = t
            if self._broken is None or t - self._broken + 1e-9 >= self.grace_s:  # (a break of grace_s or more)
                self._since = self._broken = None
            return None
        self._broken = None
        if self._since is None:
            self._since = t if began is None else max(min(began, t), self._floor)
        need = self.clear_for_s if self.active else self.for_s
        if t - self._since + 1e-9 < need:
            return None
        since = self._since
        self.active = not self.active
        self._since = self._broken = None
        self.raised_at = t if self.active else None
        self._floor = t
        return Transition(raised=self.active, time=t, since=since)

    def force_clear(self, t: float) -> Transition | None:
        """Clear at once (e.g. the counter closed); returns the transition if it was raised."""
        self._since = self._broken = None
        self._floor = t
        if not self.active:
            return None
        self.active = False
        self.raised_at = None
        return Transition(raised=False, time=t, since=t)
