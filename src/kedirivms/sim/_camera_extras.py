"""PTZ, imaging and event controls of :class:`~kedirivms.sim.VirtualCamera` (mixed into it).

Tests and demos use them to drive the camera from the outside: fire motion or tamper, read where the PTZ head is,
count the live pull points, or restart the camera on the same port.
"""

from __future__ import annotations

import time
from typing import TYPE_CHECKING, Any, cast

from kedirivms.errors import ConfigError

if TYPE_CHECKING:
    from kedirivms.sim.camera import VirtualCamera

__all__ = ["CameraExtrasMixin"]


class CameraExtrasMixin:
    """PTZ/imaging/event helpers of a virtual camera (no network: direct access to its state)."""

    def _cam(self) -> VirtualCamera:
        return cast("VirtualCamera", self)

    def _source(self, source: str) -> str:
        cam = self._cam()
        valid = [f"VideoSource_{ch}" for ch in range(1, cam.config.channels + 1)]
        if source not in valid:
            raise ConfigError(f"unknown video source {source!r}; valid: {', '.join(valid)}")
        return source

    def trigger_motion(self, state: bool = True, source: str = "VideoSource_1") -> None:
        """Start (``state=True``) or end motion on ``source``: every matching pull point gets a ``Changed``
        ``tns1:VideoSource/MotionAlarm`` and ``tns1:RuleEngine/CellMotionDetector/Motion`` notification.

        Raises:
            ConfigError: ``source`` is not one of the camera's video sources.
        """
        from kedirivms.sim._services import events

        cam = self._cam()
        st = events.events_state(cam)
        with st.cond:
            st.motion[self._source(source)] = state
        events.publish(cam, events.motion_events(cam, source, state, "Changed"))

    def trigger_tamper(self, state: bool = True, source: str = "VideoSource_1") -> None:
        """Signal (or clear) a global scene change, the ONVIF tamper topic, on ``source``."""
        from kedirivms.sim._services import events

        cam = self._cam()
        st = events.events_state(cam)
        with st.cond:
            st.tamper[self._source(source)] = state
        events.publish(cam, [events.tamper_event(cam, source, state, "Changed")])

    @property
    def subscription_count(self) -> int:
        """Live (unexpired, not unsubscribed) pull-point subscriptions."""
        from kedirivms.sim._services import events

        return events.subscription_count(self._cam())

    def ptz_position(self, channel: int = 1) -> tuple[float, float, float]:
        """The current (pan, tilt, zoom) of ``channel``'s PTZ head, in generic-space units."""
        from kedirivms.sim._services import ptz

        state = ptz.ptz_state(self._cam())
        if channel not in state.channels:
            raise ConfigError(f"no channel {channel}; the camera has {len(state.channels)}")
        with state.lock:
            return state.channels[channel].position()

    def imaging_settings(self, source: str = "VideoSource_1") -> dict[str, Any]:
        """A copy of the imaging settings of ``source`` (brightness, contrast, ir_cut, exposure_mode, ...)."""
        from kedirivms.sim._services import imaging

        state = imaging.imaging_state(self._cam())
        with state.lock:
            return dict(state.settings[self._source(source)])

    def restart(self, downtime_s: float = 0.0) -> None:
        """Reboot: stop, drop every pull point, wait ``downtime_s``, then serve again on the same port.

        PTZ presets, home and imaging settings survive (they are in the camera's flash); subscriptions do not.
        """
        from kedirivms.sim._services import events

        cam = self._cam()
        port = cam.port
        events.drop_subscriptions(cam)
        cam.stop()
        with cam.state.lock:
            cam.state.reboots += 1
        events.events_state(cam).reboots_seen = cam.state.reboots
        if port and cam.config.port != port:
            cam.config = cam.config.model_copy(update={"port": port})
        if downtime_s > 0:
            time.sleep(downtime_s)
        cam.start()
