"""PTZ service (``tptz``, ver20): nodes, spaces and ranges, continuous/relative/absolute moves, presets, home.

Moves use the ONVIF generic spaces (pan/tilt velocities and translations -1..1, positions as the node states).
Every value is checked against the node's ranges before anything is sent, so a bad value fails with an
:class:`~kedirivms.errors.InvalidArgument` that states the range instead of a vendor fault.
"""

from __future__ import annotations

import threading
import time
from datetime import timedelta
from typing import TYPE_CHECKING, Any

from kedirivms.errors import InvalidArgument, NotSupported, OnvifFault, Timeout
from kedirivms.onvif.models import Profile
from kedirivms.onvif.models_ptz import (
    FloatRange,
    PTZConfiguration,
    PTZConfigurationOptions,
    PTZNode,
    PTZPosition,
    PTZPreset,
    PTZSpace,
    PTZSpaces,
    PTZStatus,
)

if TYPE_CHECKING:
    from kedirivms.onvif._transport import OnvifTransport
    from kedirivms.onvif.media import MediaService, ProfileRef

__all__ = ["PTZService"]

_SPACE_FIELDS = {
    "absolute_pan_tilt": "AbsolutePanTiltPositionSpace",
    "absolute_zoom": "AbsoluteZoomPositionSpace",
    "relative_pan_tilt": "RelativePanTiltTranslationSpace",
    "relative_zoom": "RelativeZoomTranslationSpace",
    "continuous_pan_tilt": "ContinuousPanTiltVelocitySpace",
    "continuous_zoom": "ContinuousZoomVelocitySpace",
    "pan_tilt_speed": "PanTiltSpeedSpace",
    "zoom_speed": "ZoomSpeedSpace",
}
_UNIT = FloatRange(min=-1.0, max=1.0)
_SPEED = FloatRange(min=0.0, max=1.0)


class _ProfilePTZ:
    """What one profile drives: its configuration and node (cached); the options are read when first needed."""

    def __init__(self, config: PTZConfiguration, node: PTZNode) -> None:
        self.config, self.node = config, node
        self.options: PTZConfigurationOptions | None = None
        self.options_read = False

    def space(self, kind: str) -> PTZSpace | None:
        spaces: list[PTZSpace] = getattr(self.node.spaces, kind)
        return next((s for s in spaces if s.generic), spaces[0] if spaces else None)


class PTZService:
    """``camera.ptz``: pan, tilt and zoom of one camera.

    ``profile`` arguments take a token or :class:`~kedirivms.onvif.Profile`; the default is the first profile
    with a PTZ configuration.

    Example:
        >>> cam.ptz.continuous_move(pan=0.5, timeout=1.0)  # doctest: +SKIP
        >>> cam.ptz.goto_preset("Entrance")  # doctest: +SKIP
    """

    def __init__(self, transport: OnvifTransport, media: MediaService) -> None:
        self._t = transport
        self._media = media
        self._cache: dict[str, _ProfilePTZ] = {}
        self._nodes: dict[str, PTZNode] = {}  # by node token: profiles sharing a node read it once
        self._presets: dict[str, list[PTZPreset]] = {}  # by profile token, until a preset is written
        self._default: str | None = None
        self._lock = threading.Lock()

    def _call(self, operation: str, **kwargs: Any) -> Any:
        return self._t.call("ptz", operation, **kwargs)

    # ---------------------------------------------------------------- nodes and configurations
    def nodes(self) -> list[PTZNode]:
        """Every PTZ node with its spaces and ranges."""
        return [_node(n) for n in self._call("GetNodes") or []]

    def node(self, token: str) -> PTZNode:
        """One PTZ node by token."""
        return _node(self._call("GetNode", NodeToken=token))

    def configurations(self) -> list[PTZConfiguration]:
        """Every PTZ configuration."""
        return [_configuration(c) for c in self._call("GetConfigurations") or []]

    def configuration_options(self, config_token: str | None = None) -> PTZConfigurationOptions:
        """Spaces and time-out range a configuration accepts (default: the default profile's)."""
        token = config_token or self._profile_ptz(None)[1].config.token
        return _options(self._call("GetConfigurationOptions", ConfigurationToken=token))

    def _profile_token(self, profile: ProfileRef | None) -> str:
        if isinstance(profile, Profile):
            return profile.token
        if profile:
            return str(profile)
        if self._default is None:
            ptz = [p for p in self._media.profiles() if p.ptz_configured]
            if not ptz:
                raise NotSupported(
                    "no media profile has a PTZ configuration",
                    camera=self._t.label,
                    operation="GetProfiles",
                    hint="add a PTZ configuration to a profile, or this camera has no PTZ",
                )
            self._default = ptz[0].token
        return self._default

    def _profile_ptz(self, profile: ProfileRef | None) -> tuple[str, _ProfilePTZ]:
        token = self._profile_token(profile)
        with self._lock:
            cached = self._cache.get(token)
        if cached is not None:
            return token, cached
        # GetProfiles already carried the PTZ configuration (a camera.profiles() call, or the default profile's
        # look-up): only a profile not seen there costs a GetProfile
        config = self._media.known_ptz_configuration(token)
        if config is None:
            raw = self._t.call("media", "GetProfile", ProfileToken=token)
            conf = getattr(raw, "PTZConfiguration", None)
            if conf is None:
                raise InvalidArgument(
                    f"profile {token} has no PTZ configuration",
                    camera=self._t.label,
                    operation="GetProfile",
                    hint="use a profile whose ptz_configured is true",
                )
            config = _configuration(conf)
        with self._lock:
            node = self._nodes.get(config.node_token)
        if node is None:
            node = self.node(config.node_token)
            with self._lock:
                self._nodes[config.node_token] = node
        entry = _ProfilePTZ(config, node)
        with self._lock:
            self._cache[token] = entry
        return token, entry

    def _options_of(self, info: _ProfilePTZ) -> PTZConfigurationOptions | None:
        if not info.options_read:
            try:
                info.options = self.configuration_options(info.config.token)
            except NotSupported:
                info.options = None
            info.options_read = True
        return info.options

    # ---------------------------------------------------------------- status
    def status(self, profile: ProfileRef | None = None) -> PTZStatus:
        """Position, move status (IDLE/MOVING per group), error and the camera's UTC time."""
        token = self._profile_token(profile)
        r = self._call("GetStatus", ProfileToken=token)
        moves = getattr(r, "MoveStatus", None)
        utc = getattr(r, "UtcTime", None)
        return PTZStatus(
            position=_position(getattr(r, "Position", None)),
            pan_tilt_status=_move_state(getattr(moves, "PanTilt", None)),
            zoom_status=_move_state(getattr(moves, "Zoom", None)),
            error=getattr(r, "Error", None) or None,
            utc_time=utc if utc is not None and not isinstance(utc, str) else None,
        )

    def wait_idle(self, timeout: float = 10.0, poll: float = 0.1, profile: ProfileRef | None = None) -> PTZStatus:
        """Poll :meth:`status` until nothing moves; returns the final status.

        Raises:
            Timeout: still moving after ``timeout`` seconds.
        """
        deadline = time.monotonic() + timeout
        while True:
            st = self.status(profile)
            if not st.moving:
                return st
            if time.monotonic() >= deadline:
                raise Timeout(
                    f"still moving after {timeout:g} s",
                    camera=self._t.label,
                    operation="GetStatus",
                    hint="stop() the move or wait longer",
                )
            time.sleep(poll)

    # ---------------------------------------------------------------- moves
    def continuous_move(
        self,
        pan: float = 0.0,
        tilt: float = 0.0,
        zoom: float | None = None,
        *,
        timeout: float | None = None,
        profile: ProfileRef | None = None,
    ) -> None:
        """Move at the given velocities (generic -1..1) until :meth:`stop` or ``timeout`` seconds.

        Raises:
            InvalidArgument: a velocity or the time-out is outside the node's range (the message states it).
        """
        token, info = self._profile_ptz(profile)
        op = "ContinuousMove"
        pt = info.space("continuous_pan_tilt")
        z = info.space("continuous_zoom")
        velocity: dict[str, Any] = {}
        if pan or tilt or zoom is None:
            self._need(pt, "pan/tilt", op)
            assert pt is not None
            self._check("pan velocity", pan, pt.x, op, pt)
            self._check("tilt velocity", tilt, pt.y or pt.x, op, pt)
            velocity["PanTilt"] = {"x": pan, "y": tilt}
        if zoom is not None:
            self._need(z, "zoom", op)
            assert z is not None
            self._check("zoom velocity", zoom, z.x, op, z)
            velocity["Zoom"] = {"x": zoom}
        kwargs: dict[str, Any] = {"ProfileToken": token, "Velocity": velocity}
        if timeout is not None:
            options = self._options_of(info)
            rng = options.timeout_range_s if options else None
            if timeout <= 0 or (rng is not None and timeout not in rng):
                raise InvalidArgument(
                    f"timeout {timeout:g} s is outside {rng or '(0, inf)'} s",
                    camera=self._t.label,
                    operation=op,
                    hint=f"valid continuous-move time-outs: {rng or '> 0'} s (PTZ configuration options)",
                )
            kwargs["Timeout"] = timedelta(seconds=timeout)
        self._call(op, **kwargs)

    def relative_move(
        self,
        pan: float | None = None,
        tilt: float | None = None,
        zoom: float | None = None,
        *,
        speed: float | None = None,
        profile: ProfileRef | None = None,
    ) -> None:
        """Move by a translation (generic -1..1 per axis) from the current position.

        Raises:
            InvalidArgument: a translation or the speed is outside the node's range.
        """
        token, info = self._profile_ptz(profile)
        op = "RelativeMove"
        translation = self._vector(info, op, "relative", "translation", pan, tilt, zoom)
        self._call(op, ProfileToken=token, Translation=translation, **self._speed(info, op, speed))

    def absolute_move(
        self,
        pan: float | None = None,
        tilt: float | None = None,
        zoom: float | None = None,
        *,
        speed: float | None = None,
        profile: ProfileRef | None = None,
    ) -> None:
        """Move to a position (the node's absolute ranges; None keeps an axis where it is).

        Raises:
            InvalidArgument: a coordinate or the speed is outside the node's range.
        """
        token, info = self._profile_ptz(profile)
        op = "AbsoluteMove"
        if pan is not None or tilt is not None:
            cur = self.status(token).position
            pan = cur.pan if pan is None else pan
            tilt = cur.tilt if tilt is None else tilt
        position = self._vector(info, op, "absolute", "position", pan, tilt, zoom)
        self._call(op, ProfileToken=token, Position=position, **self._speed(info, op, speed))

    def stop(self, pan_tilt: bool = True, zoom: bool = True, profile: ProfileRef | None = None) -> None:
        """Stop pan/tilt and/or zoom movement."""
        self._call("Stop", ProfileToken=self._profile_token(profile), PanTilt=pan_tilt, Zoom=zoom)

    # ---------------------------------------------------------------- presets and home
    def presets(self, profile: ProfileRef | None = None) -> list[PTZPreset]:
        """The stored presets (token, name, position)."""
        token = self._profile_token(profile)
        raw = self._call("GetPresets", ProfileToken=token) or []
        found = [
            PTZPreset(token=str(p.token), name=str(p.Name or ""), position=_position(getattr(p, "PTZPosition", None)))
            for p in raw
        ]
        with self._lock:
            self._presets[token] = found
        return found

    def find_preset(self, preset: str, profile: ProfileRef | None = None) -> PTZPreset:
        """The preset whose token, or else name (exact, then case-insensitive), is ``preset``.

        Raises:
            InvalidArgument: no such preset (the message lists the names).
        """
        items = self.presets(profile)
        found = _match_preset(items, preset)
        if found is not None:
            return found
        names = ", ".join(f"{p.name} ({p.token})" for p in items) or "none"
        raise InvalidArgument(
            f"no preset named or with token {preset!r}",
            camera=self._t.label,
            operation="GotoPreset",
            hint=f"presets: {names}",
        )

    def _forget_presets(self) -> None:
        with self._lock:
            self._presets.clear()

    def set_preset(self, name: str, *, token: str | None = None, profile: ProfileRef | None = None) -> str:
        """Store the current position as preset ``name`` (updating the preset of that name); returns its token."""
        pt = self._profile_token(profile)
        if token is None:
            token = next((p.token for p in self.presets(pt) if p.name == name), None)
        kwargs: dict[str, Any] = {"ProfileToken": pt, "PresetName": name}
        if token:
            kwargs["PresetToken"] = token
        self._forget_presets()
        r = self._call("SetPreset", **kwargs)
        return str(r if isinstance(r, str) else getattr(r, "PresetToken", r))

    def goto_preset(self, preset: str, *, speed: float | None = None, profile: ProfileRef | None = None) -> PTZPreset:
        """Move to a preset given by name or token; returns the preset.

        The presets read last (by :meth:`presets`, :meth:`find_preset` or an earlier goto) are reused, and the
        PTZ node is read only for a ``speed``: a repeated goto is one request. A preset deleted meanwhile by
        another client is looked up again once.
        """
        token = self._profile_token(profile)
        extra = self._speed(self._profile_ptz(token)[1], "GotoPreset", speed) if speed is not None else {}
        with self._lock:
            known = self._presets.get(token)
        found = _match_preset(known, preset) if known is not None else None
        if found is None:
            found = self.find_preset(preset, token)
            self._call("GotoPreset", ProfileToken=token, PresetToken=found.token, **extra)
            return found
        try:
            self._call("GotoPreset", ProfileToken=token, PresetToken=found.token, **extra)
        except (InvalidArgument, OnvifFault) as exc:
            if "NoToken" not in str(exc):  # the fault subcode ONVIF gives an unknown preset token
                raise
            found = self.find_preset(preset, token)  # gone or renamed since it was read: read them again
            self._call("GotoPreset", ProfileToken=token, PresetToken=found.token, **extra)
        return found

    def remove_preset(self, preset: str, profile: ProfileRef | None = None) -> None:
        """Delete a preset given by name or token."""
        token = self._profile_token(profile)
        found = self.find_preset(preset, token)
        self._forget_presets()
        self._call("RemovePreset", ProfileToken=token, PresetToken=found.token)

    def goto_home(self, *, speed: float | None = None, profile: ProfileRef | None = None) -> None:
        """Move to the home position."""
        token, info = self._profile_ptz(profile)
        self._call("GotoHomePosition", ProfileToken=token, **self._speed(info, "GotoHomePosition", speed))

    def set_home(self, profile: ProfileRef | None = None) -> None:
        """Make the current position the home position."""
        self._call("SetHomePosition", ProfileToken=self._profile_token(profile))

    # ---------------------------------------------------------------- checks
    def _need(self, space: PTZSpace | None, what: str, op: str) -> None:
        if space is None:
            raise NotSupported(
                f"the PTZ node offers no {what} space for {op}",
                camera=self._t.label,
                operation=op,
                hint="read ptz.nodes() for the supported spaces",
            )

    def _check(self, name: str, value: float, rng: FloatRange, op: str, space: PTZSpace | None = None) -> None:
        if value not in rng:
            where = f" ({space.uri.rsplit('/', 1)[-1]})" if space is not None else ""
            raise InvalidArgument(
                f"{name} {value:g} is outside the node's range {rng}{where}",
                camera=self._t.label,
                operation=op,
                hint=f"use {name} within {rng}",
            )

    def _vector(
        self,
        info: _ProfilePTZ,
        op: str,
        kind: str,
        noun: str,
        pan: float | None,
        tilt: float | None,
        zoom: float | None,
    ) -> dict[str, Any]:
        out: dict[str, Any] = {}
        conf = info.config
        if pan is not None or tilt is not None:
            space = info.space(f"{kind}_pan_tilt")
            self._need(space, "pan/tilt", op)
            assert space is not None
            x_rng, y_rng = space.x, space.y or space.x
            if kind == "absolute":
                x_rng = _intersect(x_rng, conf.pan_limits)
                y_rng = _intersect(y_rng, conf.tilt_limits)
            self._check(f"pan {noun}", pan or 0.0, x_rng, op, space)
            self._check(f"tilt {noun}", tilt or 0.0, y_rng, op, space)
            out["PanTilt"] = {"x": pan or 0.0, "y": tilt or 0.0, "space": space.uri}
        if zoom is not None:
            space = info.space(f"{kind}_zoom")
            self._need(space, "zoom", op)
            assert space is not None
            rng = _intersect(space.x, conf.zoom_limits) if kind == "absolute" else space.x
            self._check(f"zoom {noun}", zoom, rng, op, space)
            out["Zoom"] = {"x": zoom, "space": space.uri}
        if not out:
            raise InvalidArgument(f"{op} needs pan, tilt or zoom", camera=self._t.label, operation=op)
        return out

    def _speed(self, info: _ProfilePTZ, op: str, speed: float | None) -> dict[str, Any]:
        if speed is None:
            return {}
        pt, z = info.space("pan_tilt_speed"), info.space("zoom_speed")
        self._check("speed", speed, pt.x if pt else _SPEED, op, pt)
        value: dict[str, Any] = {"PanTilt": {"x": speed, "y": speed}, "Zoom": {"x": speed}}
        if pt is not None:
            value["PanTilt"]["space"] = pt.uri
        if z is not None:
            value["Zoom"]["space"] = z.uri
        return {"Speed": value}


# -------------------------------------------------------------------------------------------- parsing
def _match_preset(items: list[PTZPreset], preset: str) -> PTZPreset | None:
    """The preset whose token, or else name (exact, then case-insensitive), is ``preset``."""
    for match in (
        lambda p: p.token == preset,
        lambda p: p.name == preset,
        lambda p: p.name.casefold() == preset.casefold(),
    ):
        found = next((p for p in items if match(p)), None)
        if found is not None:
            return found
    return None


def _intersect(rng: FloatRange, limits: FloatRange | None) -> FloatRange:
    if limits is None:
        return rng
    return FloatRange(min=max(rng.min, limits.min), max=min(rng.max, limits.max))


def _frange(r: Any) -> FloatRange | None:
    if r is None or getattr(r, "Min", None) is None or getattr(r, "Max", None) is None:
        return None
    return FloatRange(min=float(r.Min), max=float(r.Max))


def _spaces(raw: Any) -> PTZSpaces:
    out: dict[str, list[PTZSpace]] = {}
    for field, attr in _SPACE_FIELDS.items():
        items = []
        for s in getattr(raw, attr, None) or [] if raw is not None else []:
            x = _frange(getattr(s, "XRange", None))
            if x is None:
                continue
            items.append(PTZSpace(uri=str(s.URI), x=x, y=_frange(getattr(s, "YRange", None))))
        out[field] = items
    return PTZSpaces(**out)


def _node(n: Any) -> PTZNode:
    return PTZNode(
        token=str(n.token),
        name=str(getattr(n, "Name", None) or ""),
        spaces=_spaces(getattr(n, "SupportedPTZSpaces", None)),
        max_presets=int(getattr(n, "MaximumNumberOfPresets", 0) or 0),
        home_supported=bool(getattr(n, "HomeSupported", False)),
        fixed_home=getattr(n, "FixedHomePosition", None),
    )


def _seconds(value: Any) -> float | None:
    if value is None:
        return None
    if isinstance(value, timedelta):
        return value.total_seconds()
    total = getattr(value, "totimedelta", None)
    if callable(total):
        from datetime import datetime

        return float(total(start=datetime(2000, 1, 1)).total_seconds())
    return None


def _configuration(c: Any) -> PTZConfiguration:
    pt = getattr(getattr(c, "PanTiltLimits", None), "Range", None)
    zl = getattr(getattr(c, "ZoomLimits", None), "Range", None)
    return PTZConfiguration(
        token=str(c.token),
        name=str(getattr(c, "Name", None) or ""),
        node_token=str(c.NodeToken),
        default_timeout_s=_seconds(getattr(c, "DefaultPTZTimeout", None)),
        pan_limits=_frange(getattr(pt, "XRange", None)) if pt is not None else None,
        tilt_limits=_frange(getattr(pt, "YRange", None)) if pt is not None else None,
        zoom_limits=_frange(getattr(zl, "XRange", None)) if zl is not None else None,
    )


def _options(o: Any) -> PTZConfigurationOptions:
    tr = getattr(o, "PTZTimeout", None)
    lo, hi = _seconds(getattr(tr, "Min", None)), _seconds(getattr(tr, "Max", None))
    return PTZConfigurationOptions(
        spaces=_spaces(getattr(o, "Spaces", None)),
        timeout_range_s=FloatRange(min=lo, max=hi) if lo is not None and hi is not None else None,
    )


def _position(v: Any) -> PTZPosition:
    if v is None:
        return PTZPosition()
    pt, z = getattr(v, "PanTilt", None), getattr(v, "Zoom", None)
    return PTZPosition(
        pan=float(pt.x) if pt is not None and pt.x is not None else None,
        tilt=float(pt.y) if pt is not None and pt.y is not None else None,
        zoom=float(z.x) if z is not None and z.x is not None else None,
    )


def _move_state(value: Any) -> Any:
    if value is None:
        return None
    text = str(getattr(value, "_value_1", value)).upper()
    return text if text in ("IDLE", "MOVING") else "UNKNOWN"
