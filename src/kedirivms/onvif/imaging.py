"""Imaging service (``timg``, ver20): brightness, contrast, saturation, sharpness, IR-cut filter, exposure, focus.

:meth:`ImagingService.set` reads the source's options first and refuses values outside them with an
:class:`~kedirivms.errors.InvalidArgument` naming the valid range, then changes only what was asked.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from kedirivms.errors import InvalidArgument, NotSupported
from kedirivms.onvif.models_ptz import FloatRange, ImagingOptions, ImagingSettings

if TYPE_CHECKING:
    from kedirivms.onvif._transport import OnvifTransport
    from kedirivms.onvif.media import MediaService

__all__ = ["IMAGING_KEYS", "ImagingService"]

IMAGING_KEYS = (
    "brightness",
    "contrast",
    "saturation",
    "sharpness",
    "ir_cut_filter",
    "exposure_mode",
    "exposure_time",
    "gain",
    "focus_mode",
    "focus_speed",
)
"""The settings :meth:`ImagingService.set` accepts (the :class:`ImagingSettings` field names)."""

_TOP = {"brightness": "Brightness", "contrast": "Contrast", "saturation": "ColorSaturation", "sharpness": "Sharpness"}
_MODES = {"ir_cut_filter": "ir_cut_filter_modes", "exposure_mode": "exposure_modes", "focus_mode": "focus_modes"}


class ImagingService:
    """``camera.imaging``: image settings of the camera's video sources.

    ``source`` arguments take a video source token; the default is the first profile's source.

    Example:
        >>> cam.imaging.set(brightness=60, ir_cut_filter="AUTO")  # doctest: +SKIP
    """

    def __init__(self, transport: OnvifTransport, media: MediaService) -> None:
        self._t = transport
        self._media = media
        self._default: str | None = None

    def _call(self, operation: str, **kwargs: Any) -> Any:
        return self._t.call("imaging", operation, **kwargs)

    def _source(self, source: str | None) -> str:
        if source:
            return source
        if self._default is None:
            token = next((p.video_source_token for p in self._media.profiles() if p.video_source_token), None)
            if token is None:
                raise NotSupported(
                    "no profile names a video source",
                    camera=self._t.label,
                    operation="GetProfiles",
                    hint="pass source= explicitly",
                )
            self._default = token
        return self._default

    def settings(self, source: str | None = None) -> ImagingSettings:
        """The current imaging settings of ``source``."""
        return self.settings_and_raw(source)[0]

    def settings_and_raw(self, source: str | None = None) -> tuple[ImagingSettings, Any]:
        """:meth:`settings` and the reply as the camera sent it (zeep), which :meth:`write` can take later
        without a second read (fleet provisioning)."""
        raw = self._call("GetImagingSettings", VideoSourceToken=self._source(source))
        return _settings(raw), raw

    def options(self, source: str | None = None) -> ImagingOptions:
        """The ranges and modes the settings of ``source`` may take."""
        return _options(self._call("GetOptions", VideoSourceToken=self._source(source)))

    def set(self, source: str | None = None, *, persist: bool = True, **changes: Any) -> ImagingSettings:
        """Change some settings (keys of :data:`IMAGING_KEYS`) after checking them against the options.

        Args:
            source: video source token (default: the first profile's).
            persist: ask the camera to keep the change across reboots (ForcePersistence).
            **changes: e.g. ``brightness=60``, ``ir_cut_filter="AUTO"``, ``exposure_mode="MANUAL"``.

        Returns:
            The settings read back after the change.

        Raises:
            InvalidArgument: an unknown key or a value outside the options (the message states the range).
        """
        token = self._source(source)
        op = "SetImagingSettings"
        unknown = sorted(set(changes) - set(IMAGING_KEYS))
        if unknown:
            raise InvalidArgument(
                f"unknown imaging setting(s) {', '.join(unknown)}",
                camera=self._t.label,
                operation=op,
                hint=f"valid: {', '.join(IMAGING_KEYS)}",
            )
        if not changes:
            return self.settings(token)
        check_imaging(changes, self.options(token), camera=self._t.label)
        self.write(token, self.settings_and_raw(token)[1], changes, persist=persist)
        return self.settings(token)

    def write(self, source: str, raw: Any, changes: dict[str, Any], *, persist: bool = True) -> None:
        """SetImagingSettings: ``raw`` (from :meth:`settings_and_raw`) with ``changes`` (keys of
        :data:`IMAGING_KEYS`) written in. Low level: values are not checked against the options here
        (:meth:`set` does that)."""
        for key, attr in _TOP.items():
            if key in changes:
                setattr(raw, attr, float(changes[key]))
        if "ir_cut_filter" in changes:
            raw.IrCutFilter = str(changes["ir_cut_filter"]).upper()
        exposure = {attr: conv(changes[key]) for key, attr, conv in _EXPOSURE if key in changes}
        if exposure:
            _apply(raw, "Exposure", {"Mode": "AUTO"}, exposure)
        focus = {attr: conv(changes[key]) for key, attr, conv in _FOCUS if key in changes}
        if focus:
            _apply(raw, "Focus", {"AutoFocusMode": "AUTO"}, focus)
        self._call("SetImagingSettings", VideoSourceToken=source, ImagingSettings=raw, ForcePersistence=persist)


def _upper(value: Any) -> str:
    return str(value).upper()


_EXPOSURE = (("exposure_mode", "Mode", _upper), ("exposure_time", "ExposureTime", float), ("gain", "Gain", float))
_FOCUS = (("focus_mode", "AutoFocusMode", _upper), ("focus_speed", "DefaultSpeed", float))


def _apply(raw: Any, attr: str, defaults: dict[str, Any], values: dict[str, Any]) -> None:
    """Set ``values`` on the settings group ``attr`` of ``raw`` (created from ``defaults`` when not reported)."""
    group = getattr(raw, attr, None)
    if group is None:
        setattr(raw, attr, {**defaults, **values})
        return
    for key, value in values.items():
        setattr(group, key, value)


def check_imaging(changes: dict[str, Any], options: ImagingOptions, *, camera: str | None = None) -> None:
    """Raise :class:`InvalidArgument` when a change is outside ``options`` (the message states the range)."""
    op = "SetImagingSettings"
    for key, value in changes.items():
        if key in _MODES:
            modes = getattr(options, _MODES[key])
            if not modes:
                raise InvalidArgument(f"{key} is not offered by this source", camera=camera, operation=op)
            if str(value).upper() not in modes:
                raise InvalidArgument(
                    f"{key}={value!r} is not one of {', '.join(modes)}",
                    camera=camera,
                    operation=op,
                    hint=f"valid {key}: {', '.join(modes)}",
                )
            continue
        rng: FloatRange | None = getattr(options, key)
        if rng is None:
            raise InvalidArgument(
                f"{key} is not offered by this source", camera=camera, operation=op, hint="read imaging.options()"
            )
        try:
            number = float(value)
        except (TypeError, ValueError):
            raise InvalidArgument(f"{key}={value!r} is not a number", camera=camera, operation=op) from None
        if number not in rng:
            raise InvalidArgument(
                f"{key}={number:g} is outside the range {rng}",
                camera=camera,
                operation=op,
                hint=f"valid {key}: {rng.min:g}..{rng.max:g}",
            )


def _frange(r: Any) -> FloatRange | None:
    if r is None or getattr(r, "Min", None) is None or getattr(r, "Max", None) is None:
        return None
    return FloatRange(min=float(r.Min), max=float(r.Max))


def _opt_float(value: Any) -> float | None:
    return float(value) if value is not None else None


def _settings(s: Any) -> ImagingSettings:
    exp, focus = getattr(s, "Exposure", None), getattr(s, "Focus", None)
    ir = getattr(s, "IrCutFilter", None)
    return ImagingSettings(
        brightness=_opt_float(getattr(s, "Brightness", None)),
        contrast=_opt_float(getattr(s, "Contrast", None)),
        saturation=_opt_float(getattr(s, "ColorSaturation", None)),
        sharpness=_opt_float(getattr(s, "Sharpness", None)),
        ir_cut_filter=str(ir).upper() if ir in ("ON", "OFF", "AUTO") else None,
        exposure_mode=exp.Mode if exp is not None and exp.Mode in ("AUTO", "MANUAL") else None,
        exposure_time=_opt_float(getattr(exp, "ExposureTime", None)) if exp is not None else None,
        gain=_opt_float(getattr(exp, "Gain", None)) if exp is not None else None,
        focus_mode=focus.AutoFocusMode if focus is not None and focus.AutoFocusMode in ("AUTO", "MANUAL") else None,
        focus_speed=_opt_float(getattr(focus, "DefaultSpeed", None)) if focus is not None else None,
    )


def _options(o: Any) -> ImagingOptions:
    exp, focus = getattr(o, "Exposure", None), getattr(o, "Focus", None)
    return ImagingOptions(
        brightness=_frange(getattr(o, "Brightness", None)),
        contrast=_frange(getattr(o, "Contrast", None)),
        saturation=_frange(getattr(o, "ColorSaturation", None)),
        sharpness=_frange(getattr(o, "Sharpness", None)),
        ir_cut_filter_modes=[str(m) for m in getattr(o, "IrCutFilterModes", None) or []],
        exposure_modes=[str(m) for m in getattr(exp, "Mode", None) or []] if exp is not None else [],
        exposure_time=_frange(getattr(exp, "ExposureTime", None)) if exp is not None else None,
        gain=_frange(getattr(exp, "Gain", None)) if exp is not None else None,
        focus_modes=[str(m) for m in getattr(focus, "AutoFocusModes", None) or []] if focus is not None else [],
        focus_speed=_frange(getattr(focus, "DefaultSpeed", None)) if focus is not None else None,
    )
