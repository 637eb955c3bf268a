"""Imaging settings and options against a virtual camera: read, change, validation on both sides."""

from __future__ import annotations

from typing import Any

import pytest

from kedirivms import Camera
from kedirivms.errors import InvalidArgument
from kedirivms.sim import VirtualCamera


def test_settings_and_options(camera: Camera) -> None:
    settings = camera.imaging.settings()
    assert (settings.brightness, settings.contrast, settings.saturation, settings.sharpness) == (50, 50, 50, 50)
    assert settings.ir_cut_filter == "AUTO" and settings.exposure_mode == "AUTO" and settings.focus_mode == "AUTO"
    opts = camera.imaging.options()
    assert opts.brightness is not None and (opts.brightness.min, opts.brightness.max) == (0, 100)
    assert opts.ir_cut_filter_modes == ["ON", "OFF", "AUTO"]
    assert opts.exposure_modes == ["AUTO", "MANUAL"] and opts.exposure_time is not None
    assert opts.focus_modes == ["AUTO", "MANUAL"]


def test_set_changes_only_what_was_asked(camera: Camera, vcam: VirtualCamera) -> None:
    after = camera.imaging.set(brightness=72.5, ir_cut_filter="off", exposure_mode="MANUAL", gain=12, focus_speed=0.5)
    assert after.brightness == 72.5 and after.ir_cut_filter == "OFF"
    assert after.exposure_mode == "MANUAL" and after.gain == 12 and after.focus_speed == 0.5
    assert after.contrast == 50 and after.focus_mode == "AUTO"
    state = vcam.imaging_settings()
    assert state["brightness"] == 72.5 and state["ir_cut"] == "OFF" and state["gain"] == 12
    assert camera.imaging.set() == after  # nothing to change: a read


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"brightness": 101}, r"brightness=101 is outside the range \[0, 100\]"),
        ({"contrast": -1}, r"contrast=-1 is outside the range \[0, 100\]"),
        ({"sharpness": "sharp"}, r"not a number"),
        ({"ir_cut_filter": "DAY"}, r"ir_cut_filter='DAY' is not one of ON, OFF, AUTO"),
        ({"exposure_mode": "SPORT"}, r"is not one of AUTO, MANUAL"),
        ({"exposure_time": 5}, r"exposure_time=5 is outside the range \[10, 40000\]"),
        ({"gain": 1000}, r"gain=1000 is outside the range \[0, 100\]"),
        ({"hue": 3}, r"unknown imaging setting"),
    ],
)
def test_values_outside_the_options_are_refused(camera: Camera, changes: dict[str, Any], message: str) -> None:
    with pytest.raises(InvalidArgument, match=message):
        camera.imaging.set(**changes)
    assert camera.imaging.settings().brightness == 50  # unchanged


def test_settings_not_offered(vcam_factory: Any, connect: Any) -> None:
    cam = connect(vcam_factory(imaging={"offer_focus": False, "offer_exposure": False, "ir_cut_modes": []}))
    settings = cam.imaging.settings()
    assert settings.focus_mode is None and settings.exposure_mode is None and settings.ir_cut_filter is None
    for key, value in (("focus_mode", "AUTO"), ("gain", 3), ("ir_cut_filter", "ON")):
        with pytest.raises(InvalidArgument, match="not offered"):
            cam.imaging.set(**{key: value})


def test_the_camera_itself_refuses_bad_settings(camera: Camera) -> None:
    raw = camera.call("imaging", "GetImagingSettings", VideoSourceToken="VideoSource_1")
    raw.Brightness = 400.0
    with pytest.raises(InvalidArgument, match=r"SettingsInvalid.*Brightness 400 outside \[0, 100\]"):
        camera.call("imaging", "SetImagingSettings", VideoSourceToken="VideoSource_1", ImagingSettings=raw)
    with pytest.raises(InvalidArgument, match="NoSource"):
        camera.imaging.settings(source="VideoSource_9")
