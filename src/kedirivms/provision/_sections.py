"""One function per inventory section: read the camera, record changes, problems and the steps that converge it.

Reads that the camera does not support (SOAP faults, missing services) become problems of that section; network
and authentication failures propagate and fail the whole camera.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from functools import partial
from typing import TYPE_CHECKING, Any, Literal, TypeVar
from urllib.parse import unquote

from kedirivms.errors import AuthenticationFailed, ConnectionFailed, InvalidArgument, KedirivmsError, Timeout
from kedirivms.fleet import resolve_secret
from kedirivms.onvif.device import SCOPE_PREFIX
from kedirivms.onvif.imaging import check_imaging
from kedirivms.onvif.media import check_encoder
from kedirivms.onvif.models import Profile, VideoEncoderConfig
from kedirivms.provision import _writes

if TYPE_CHECKING:
    from kedirivms.fleet import CameraTarget, LoadedFleet
    from kedirivms.fleet.settings import EncoderSettings, PresetSpec
    from kedirivms.onvif import Camera
    from kedirivms.onvif.ptz import PTZService
    from kedirivms.provision._plan import Change

T = TypeVar("T")
Action = Literal["set", "create", "delete", "rotate"]
_SKIP: Any = object()
_HOSTNAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9-]{0,62}$")
_TOLERANCE = 0.01  # PTZ positions and imaging values read back rounded by some firmware


@dataclass
class Step:
    """One write on the camera and the changes it makes."""

    changes: list[Change]
    run: Callable[[], object]


class Context:
    """What the section functions share for one camera."""

    def __init__(self, camera: Camera, target: CameraTarget, inventory: LoadedFleet, rotate: bool) -> None:
        self.camera = camera
        self.target = target
        self.inventory = inventory
        self.rotate = rotate
        self.steps: list[Step] = []
        self.problems: list[str] = []
        self.secrets: tuple[str, ...] = ()
        self._profiles: list[Profile] | None = None
        self.encoders: dict[str, Any] = {}  # the raw encoder configurations of GetProfiles, by token

    def read(self, section: str, fn: Callable[[], T]) -> T:
        """``fn()``; a non-fatal failure becomes a problem of ``section`` and returns the skip marker."""
        try:
            return fn()
        except (ConnectionFailed, Timeout, AuthenticationFailed):
            raise
        except KedirivmsError as exc:
            self.problems.append(f"{section}: cannot read it: {exc}")
            return _SKIP

    def step(self, changes: list[Change], run: Callable[[], object]) -> None:
        self.steps.append(Step(changes, run))

    def profiles(self, section: str) -> list[Profile]:
        if self._profiles is None:
            found = self.read(section, self.camera.media.profiles_and_encoders)
            if found is _SKIP:
                self._profiles = []  # a failed read is reported once
            else:
                self._profiles, self.encoders = found
        return self._profiles


def _change(section: str, item: str, current: Any, desired: Any, action: Action = "set") -> Change:
    from kedirivms.provision._plan import Change

    return Change(section=section, item=item, current=current, desired=desired, action=action)


# ---------------------------------------------------------------------------------------------- sections
def hostname(ctx: Context) -> None:
    want = ctx.target.hostname
    if want is None:
        return
    if not _HOSTNAME.match(want):
        ctx.problems.append(f"hostname: {want!r} is not a valid host name (1-63 letters, digits or '-')")
        return
    current = ctx.read("hostname", ctx.camera.device.hostname)
    if current is _SKIP or current == want:
        return
    ctx.step([_change("hostname", "hostname", current or None, want)], lambda: ctx.camera.device.set_hostname(want))


def scopes(ctx: Context) -> None:
    want = ctx.target.scopes
    found = ctx.read("scopes", ctx.camera.device.scopes)
    if found is _SKIP:
        return
    changes: list[Change] = []
    update: dict[str, str] = {}
    for kind, value in (("name", want.name), ("location", want.location)):
        if value is None:
            continue
        prefix = f"{SCOPE_PREFIX}{kind}/"
        configurable = [unquote(s.uri[len(prefix) :]) for s in found if s.uri.startswith(prefix) and not s.fixed]
        fixed = [unquote(s.uri[len(prefix) :]) for s in found if s.uri.startswith(prefix) and s.fixed]
        if fixed:
            if value not in fixed:
                ctx.problems.append(f"scopes: the {kind} scope is fixed to {', '.join(fixed)!r} on this camera")
            continue
        if configurable != [value]:
            changes.append(_change("scopes", kind, ", ".join(configurable) or None, value))
            update[kind] = value
    if changes:
        ctx.step(changes, partial(_writes.set_scopes, ctx.camera, found, update))


def clock(ctx: Context) -> None:
    ts = ctx.target.time
    if ts is None:
        return
    dev = ctx.camera.device
    if ts.ntp_servers is not None or ts.ntp_from_dhcp is not None:
        ntp = ctx.read("time", dev.ntp)
        if ntp is not _SKIP:
            want_dhcp = bool(ts.ntp_from_dhcp)
            want_servers = ntp.servers if ts.ntp_servers is None else list(ts.ntp_servers)
            changes = []
            if ntp.from_dhcp != want_dhcp:
                changes.append(_change("time", "ntp_from_dhcp", ntp.from_dhcp, want_dhcp))
            if not want_dhcp and (ntp.from_dhcp or ntp.servers != want_servers):
                changes.append(_change("time", "ntp_servers", list(ntp.servers), want_servers))
            if changes:
                ctx.step(changes, lambda: dev.set_ntp([] if want_dhcp else want_servers, from_dhcp=want_dhcp))
    source, tz = ts.effective_source, ts.time_zone
    if source is None and tz is None:
        return
    clock_now = ctx.read("time", dev.system_date_time)
    if clock_now is _SKIP:
        return
    cur_source, cur_tz, dst = clock_now.date_time_type, clock_now.time_zone, clock_now.daylight_savings
    changes = []
    if source is not None and source != cur_source:
        changes.append(_change("time", "source", cur_source, source))
    if tz is not None and tz != cur_tz:
        changes.append(_change("time", "time_zone", cur_tz, tz))
    if not changes:
        return
    new_tz = tz or cur_tz

    def run() -> None:
        if source == "Manual" and cur_source != "Manual":
            dev.set_system_time(time_zone=new_tz, daylight_savings=dst)  # Manual: set the clock to our UTC
        elif source is not None and source != cur_source:
            dev.set_time_source(source, time_zone=new_tz, daylight_savings=dst)
        elif cur_source == "Manual":
            # a manual clock must be sent with the time: send the camera's own (skewed or not) time back
            now = datetime.now(UTC) + timedelta(seconds=ctx.camera.clock_offset_s)
            dev.set_system_time(now, time_zone=new_tz, daylight_savings=dst)
        else:
            dev.set_time_source(cur_source, time_zone=new_tz, daylight_savings=dst)

    ctx.step(changes, run)


def encoders(ctx: Context) -> None:
    enc = ctx.target.encoders
    if enc is None or (enc.main is None and enc.sub is None):
        return
    profiles = ctx.profiles("encoders")
    groups: dict[int, list[Profile]] = {}
    for p in profiles:
        groups.setdefault(p.channel, []).append(p)
    multi = len(groups) > 1
    seen: set[str] = set()
    for ch, plist in sorted(groups.items()):
        for index, role, wanted in ((0, "main", enc.main), (1, "sub", enc.sub)):
            if wanted is None:
                continue
            label = f"ch{ch} {role}" if multi else role
            if len(plist) <= index or plist[index].encoder_token is None:
                ctx.problems.append(f"encoders: {label}: the camera has no such stream (profile with an encoder)")
                continue
            profile = plist[index]
            token = str(profile.encoder_token)
            if token in seen:
                continue
            seen.add(token)
            _encoder(ctx, label, profile, token, wanted)


def _encoder(ctx: Context, label: str, p: Profile, token: str, wanted: EncoderSettings) -> None:
    size = wanted.size
    encoding = wanted.encoding or p.encoding or "H264"
    desired: dict[str, Any] = {
        "encoding": wanted.encoding,
        "width": size[0] if size else None,
        "height": size[1] if size else None,
        "fps": wanted.fps,
        "bitrate_kbps": wanted.bitrate_kbps,
        "gop": wanted.gop if encoding in ("H264", "H265") else None,
        "quality": wanted.quality,
        "profile": wanted.profile,
    }
    current_values = {**p.model_dump(), "profile": p.encoder_profile}
    diff = {k: v for k, v in desired.items() if v is not None and current_values[k] != v}
    if not diff:
        return
    options = ctx.read("encoders", lambda: ctx.camera.media.video_encoder_options(config_token=token))
    if options is _SKIP:
        return
    current = VideoEncoderConfig(
        token=token,
        encoding=p.encoding or "H264",
        width=p.width or 0,
        height=p.height or 0,
        quality=p.quality or 0.0,
        fps=p.fps,
        bitrate_kbps=p.bitrate_kbps,
        gop=p.gop,
        profile=p.encoder_profile,
    )
    try:
        check_encoder(current.model_copy(update=diff), {o.encoding: o for o in options})
    except InvalidArgument as exc:
        ctx.problems.append(f"encoders: {label}: {exc.message}" + (f" ({exc.hint})" if exc.hint else ""))
        return
    changes = []
    if "width" in diff or "height" in diff:
        changes.append(_change("encoders", f"{label} resolution", f"{p.width}x{p.height}", wanted.resolution))
    for key in ("encoding", "profile", "fps", "bitrate_kbps", "gop", "quality"):
        if key in diff:
            changes.append(_change("encoders", f"{label} {key}", current_values[key], diff[key]))
    raw = ctx.encoders.get(token)
    if raw is None:  # GetProfiles named the token without the configuration: read it alone
        raw = ctx.read("encoders", partial(ctx.camera.media.encoder_element, token))
        if raw is _SKIP:
            return
    ctx.step(changes, partial(ctx.camera.media.write_encoder, raw, diff))


def imaging(ctx: Context) -> None:
    want = ctx.target.imaging
    if want is None:
        return
    values = want.model_dump(exclude_none=True)
    if not values:
        return
    service = ctx.camera.imaging
    sources = list(dict.fromkeys(p.video_source_token for p in ctx.profiles("imaging") if p.video_source_token))
    for source in sources:
        label = f"{source} " if len(sources) > 1 else ""
        found = ctx.read("imaging", partial(service.settings_and_raw, source))
        if found is _SKIP:
            continue
        current, raw = found[0].model_dump(), found[1]
        diff = {k: v for k, v in values.items() if not _same(current.get(k), v)}
        if not diff:
            continue
        options = ctx.read("imaging", partial(service.options, source))
        if options is _SKIP:
            continue
        try:
            check_imaging(diff, options)
        except InvalidArgument as exc:
            ctx.problems.append(f"imaging: {label}{exc.message}" + (f" ({exc.hint})" if exc.hint else ""))
            continue
        changes = [_change("imaging", f"{label}{k}", current.get(k), v) for k, v in diff.items()]
        ctx.step(changes, partial(service.write, source, raw, diff))


def ptz(ctx: Context) -> None:
    want = ctx.target.ptz
    if want is None or not want.presets:
        return
    service = ctx.camera.ptz
    movable = [p for p in ctx.profiles("ptz") if p.ptz_configured]
    if not movable:
        ctx.problems.append("ptz: the camera has no PTZ (no media profile with a PTZ configuration)")
        return
    # presets belong to the PTZ node, not to the profile: profiles sharing a node (main and sub of one channel,
    # as most cameras have) see the same presets, so each node is read and written once, through its first profile
    nodes: dict[str, Profile] = {}
    for p in movable:
        nodes.setdefault(p.ptz_node_token or p.ptz_configuration_token or f"profile:{p.token}", p)
    movable = list(nodes.values())
    checked = False
    for p in movable:
        label = f"ch{p.channel} " if len(movable) > 1 else ""
        found = ctx.read("ptz", partial(service.presets, p.token))
        if found is _SKIP:
            continue
        by_name = {x.name: x for x in found}
        for spec in want.presets:
            target = (spec.pan, spec.tilt, spec.zoom)
            existing = by_name.get(spec.name)
            shown = _position(target)
            if not checked:  # only when a preset has to be written: the node ranges cost one more request
                checked = True
                if not _positions_fit(ctx, service, want.presets):
                    return
            if existing is None:
                change = _change("ptz", f"{label}preset {spec.name}", None, shown, "create")
            else:
                pos = existing.position
                cur = (pos.pan, pos.tilt, pos.zoom) if pos is not None else (None, None, None)
                if all(w is None or _same(c, w) for c, w in zip(cur, target, strict=True)):
                    continue
                change = _change("ptz", f"{label}preset {spec.name}", _position(cur), shown)
            token = existing.token if existing is not None else None
            run = _preset_step(ctx.camera, service, p.token, spec.name, target, token, ctx.target.timeout)
            ctx.step([change], run)


def _positions_fit(ctx: Context, service: PTZService, presets: list[PresetSpec]) -> bool:
    """Check every preset position against the absolute generic spaces of the camera's PTZ nodes."""
    nodes = ctx.read("ptz", service.nodes)
    if nodes is _SKIP or not nodes:
        return nodes is not _SKIP
    ok = True
    for spec in presets:
        for axis, value, kind, dim in (
            ("pan", spec.pan, "absolute_pan_tilt", "x"),
            ("tilt", spec.tilt, "absolute_pan_tilt", "y"),
            ("zoom", spec.zoom, "absolute_zoom", "x"),
        ):
            if value is None:
                continue
            ranges = [getattr(sp, dim) or sp.x for n in nodes for sp in getattr(n.spaces, kind) if sp.generic]
            if not ranges:
                ctx.problems.append(f"ptz: preset {spec.name}: the camera offers no absolute {axis} moves")
                ok = False
            elif not any(value in r for r in ranges):
                valid = ", ".join(str(r) for r in ranges)
                ctx.problems.append(f"ptz: preset {spec.name}: {axis}={value:g} is outside the camera's {valid}")
                ok = False
    return ok


def _preset_step(
    camera: Camera,
    service: PTZService,
    profile: str,
    name: str,
    target: tuple[float | None, ...],
    token: str | None,
    timeout: float,
) -> Callable[[], object]:
    pan, tilt, zoom = target

    def run() -> None:
        if (pan is None) != (tilt is None):
            service.absolute_move(pan, tilt, zoom, profile=profile)  # fills the missing axis from the status
        elif pan is not None or zoom is not None:
            _writes.absolute_move(camera, profile, pan, tilt, zoom)
        else:
            return _writes.set_preset(camera, profile, name, token)
        _writes.wait_still(service, profile, max(timeout, 5.0))
        return _writes.set_preset(camera, profile, name, token)

    return run


def users(ctx: Context) -> None:
    specs = ctx.target.users
    if not specs:
        return
    found = ctx.read("users", ctx.camera.device.users)
    if found is _SKIP:
        return
    levels = {u.username: u.user_level for u in found}
    login = ctx.target.credentials.username if ctx.target.credentials else None
    dev = ctx.camera.device
    later: list[Step] = []
    for spec in specs:
        item = f"user {spec.name}"
        if spec.state == "absent":
            if spec.name not in levels:
                continue
            if spec.name == login:
                ctx.problems.append(f"users: {spec.name} is the login account of the inventory; it cannot be absent")
                continue
            ctx.step([_change("users", item, levels[spec.name], None, "delete")], partial(dev.delete_user, spec.name))
            continue
        secret_ref = spec.secret
        assert secret_ref is not None
        try:
            password = resolve_secret(secret_ref, ctx.inventory.base_dir, camera=ctx.target.name)
        except KedirivmsError as exc:
            ctx.problems.append(f"users: {spec.name}: {exc.message} ({exc.hint})")
            continue
        ctx.secrets += (password,)
        current = levels.get(spec.name)
        if current is None:
            run = _user_call(dev.create_user, spec.name, password, spec.role)
            ctx.step([_change("users", item, None, spec.role, "create")], run)
        elif current != spec.role:
            run = _user_call(dev.set_user, spec.name, password, spec.role)
            ctx.step([_change("users", f"{item} role", current, spec.role)], run)
        elif ctx.rotate:
            step = Step(
                [_change("users", item, None, None, "rotate")], _user_call(dev.set_user, spec.name, password, spec.role)
            )
            # rotating the login account last: the remaining steps still log in with the current password
            (later if spec.name == login else ctx.steps).append(step)
    ctx.steps.extend(later)


def _user_call(fn: Callable[[str, str, str], None], name: str, password: str, role: str) -> Callable[[], None]:
    return lambda: fn(name, password, role)


def _same(current: Any, wanted: Any) -> bool:
    if isinstance(wanted, (int, float)) and not isinstance(wanted, bool):
        return isinstance(current, (int, float)) and math.isclose(current, wanted, abs_tol=_TOLERANCE)
    if isinstance(wanted, str) and isinstance(current, str):
        return current.upper() == wanted.upper()
    return bool(current == wanted)


def _position(values: tuple[float | None, ...]) -> str | None:
    parts = [f"{axis}={v:g}" for axis, v in zip(("pan", "tilt", "zoom"), values, strict=True) if v is not None]
    return " ".join(parts) or None


SECTIONS: tuple[Callable[[Context], None], ...] = (hostname, scopes, clock, encoders, imaging, ptz, users)
"""In apply order: identity first, the login account's password last."""
