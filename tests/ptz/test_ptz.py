"""PTZ against a virtual camera over loopback: nodes, moves over time, presets, home, range checks."""

from __future__ import annotations

import time
from typing import Any

import pytest

from kedirivms import Camera
from kedirivms.errors import InvalidArgument, NotSupported, OnvifFault
from kedirivms.sim import VirtualCamera


def test_nodes_configurations_and_options(camera: Camera) -> None:
    nodes = camera.ptz.nodes()
    assert [n.token for n in nodes] == ["PTZNode_1"]
    node = camera.ptz.node("PTZNode_1")
    assert node.home_supported and node.max_presets == 16
    space = node.spaces.absolute_pan_tilt[0]
    assert space.generic and (space.x.min, space.x.max) == (-1.0, 1.0)
    assert (node.spaces.absolute_zoom[0].x.min, node.spaces.absolute_zoom[0].x.max) == (0.0, 1.0)
    assert node.spaces.continuous_pan_tilt[0].uri.endswith("VelocityGenericSpace")
    [conf] = camera.ptz.configurations()
    assert conf.node_token == "PTZNode_1" and conf.default_timeout_s == 10.0
    assert conf.pan_limits is not None and conf.pan_limits.max == 1.0
    opts = camera.ptz.configuration_options()
    assert opts.timeout_range_s is not None and (opts.timeout_range_s.min, opts.timeout_range_s.max) == (0.1, 120.0)
    with pytest.raises(InvalidArgument):
        camera.ptz.node("PTZNode_9")


def test_continuous_move_advances_with_time_then_stops(camera: Camera, vcam: VirtualCamera) -> None:
    camera.ptz.continuous_move(pan=0.1, tilt=-0.05)  # 1.0 and 0.5 units/s on the fast head
    first = camera.ptz.status()
    assert first.pan_tilt_status == "MOVING" and first.zoom_status == "IDLE" and first.moving
    time.sleep(0.15)
    second = camera.ptz.status()
    assert second.position.pan is not None and first.position.pan is not None
    assert second.position.pan > first.position.pan > 0.0
    assert second.position.tilt is not None and second.position.tilt < 0.0
    camera.ptz.stop()
    stopped = camera.ptz.status()
    assert not stopped.moving
    time.sleep(0.05)
    assert camera.ptz.status().position == stopped.position
    assert stopped.utc_time is not None
    assert vcam.ptz_position()[0] == pytest.approx(stopped.position.pan)


def test_continuous_move_honours_timeout_and_clamps_at_range(camera: Camera) -> None:
    camera.ptz.continuous_move(pan=1.0, zoom=1.0, timeout=0.3)  # would travel 3 units: clamped at the limits
    final = camera.ptz.wait_idle(timeout=5)
    assert final.position.pan == pytest.approx(1.0)
    assert final.position.zoom == pytest.approx(1.0)


def test_stop_pan_tilt_only_keeps_zoom_moving(camera: Camera) -> None:
    camera.ptz.continuous_move(pan=0.05, zoom=0.05, timeout=5)
    camera.ptz.stop(pan_tilt=True, zoom=False)
    st = camera.ptz.status()
    assert st.pan_tilt_status == "IDLE" and st.zoom_status == "MOVING"
    camera.ptz.stop()
    assert not camera.ptz.status().moving


def test_absolute_relative_and_home(camera: Camera) -> None:
    camera.ptz.absolute_move(pan=0.5, tilt=-0.25, zoom=0.4)
    pos = camera.ptz.wait_idle().position
    assert (pos.pan, pos.tilt, pos.zoom) == pytest.approx((0.5, -0.25, 0.4))
    camera.ptz.relative_move(pan=0.25, zoom=-0.1, speed=0.5)
    pos = camera.ptz.wait_idle().position
    assert (pos.pan, pos.tilt, pos.zoom) == pytest.approx((0.75, -0.25, 0.3))
    camera.ptz.relative_move(pan=0.9)  # beyond the range: the head stops at the limit
    assert camera.ptz.wait_idle().position.pan == pytest.approx(1.0)
    camera.ptz.absolute_move(zoom=0.9)  # pan/tilt untouched
    pos = camera.ptz.wait_idle().position
    assert (pos.pan, pos.zoom) == pytest.approx((1.0, 0.9))
    camera.ptz.goto_home()
    pos = camera.ptz.wait_idle().position
    assert (pos.pan, pos.tilt, pos.zoom) == pytest.approx((0.0, 0.0, 0.0))
    camera.ptz.absolute_move(pan=-0.5, tilt=0.5, zoom=0.0)
    camera.ptz.wait_idle()
    camera.ptz.set_home()
    camera.ptz.absolute_move(pan=0.2, tilt=0.2)
    camera.ptz.wait_idle()
    camera.ptz.goto_home(speed=1.0)
    pos = camera.ptz.wait_idle().position
    assert (pos.pan, pos.tilt) == pytest.approx((-0.5, 0.5))


def test_presets_set_list_goto_remove_by_name_or_token(camera: Camera) -> None:
    assert camera.ptz.presets() == []
    camera.ptz.absolute_move(pan=0.3, tilt=0.1, zoom=0.2)
    camera.ptz.wait_idle()
    gate = camera.ptz.set_preset("Gate")
    camera.ptz.absolute_move(pan=-0.6, tilt=-0.2, zoom=0.7)
    camera.ptz.wait_idle()
    door = camera.ptz.set_preset("Door")
    presets = {p.name: p for p in camera.ptz.presets()}
    assert set(presets) == {"Gate", "Door"} and presets["Gate"].token == gate and presets["Door"].token == door
    gate_pos = presets["Gate"].position
    assert gate_pos is not None and (gate_pos.pan, gate_pos.tilt, gate_pos.zoom) == pytest.approx((0.3, 0.1, 0.2))
    assert camera.ptz.goto_preset("gate").token == gate  # case-insensitive name
    pos = camera.ptz.wait_idle().position
    assert (pos.pan, pos.zoom) == pytest.approx((0.3, 0.2))
    camera.ptz.goto_preset(door)  # by token
    assert camera.ptz.wait_idle().position.pan == pytest.approx(-0.6)
    # setting an existing name again updates that preset instead of adding one
    assert camera.ptz.set_preset("Gate") == gate
    assert len(camera.ptz.presets()) == 2
    camera.ptz.remove_preset("Door")
    assert [p.name for p in camera.ptz.presets()] == ["Gate"]
    with pytest.raises(InvalidArgument, match="Gate"):
        camera.ptz.goto_preset("Nowhere")


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (lambda p: p.continuous_move(pan=1.5), r"pan velocity 1\.5 is outside the node's range \[-1, 1\]"),
        (lambda p: p.continuous_move(tilt=-2.0), r"tilt velocity -2 is outside .*\[-1, 1\]"),
        (lambda p: p.continuous_move(zoom=1.1), r"zoom velocity 1\.1 is outside .*\[-1, 1\]"),
        (lambda p: p.continuous_move(pan=0.5, timeout=500), r"timeout 500 s is outside \[0\.1, 120\]"),
        (lambda p: p.continuous_move(pan=0.5, timeout=0), r"timeout 0 s"),
        (lambda p: p.absolute_move(pan=2.0, tilt=0.0), r"pan position 2 is outside .*\[-1, 1\]"),
        (lambda p: p.absolute_move(zoom=-0.1), r"zoom position -0\.1 is outside .*\[0, 1\]"),
        (lambda p: p.relative_move(pan=3.0), r"pan translation 3 is outside .*\[-1, 1\]"),
        (lambda p: p.absolute_move(zoom=0.5, speed=1.5), r"speed 1\.5 is outside .*\[0, 1\]"),
        (lambda p: p.relative_move(), r"needs pan, tilt or zoom"),
    ],
    ids=[
        "pan-vel",
        "tilt-vel",
        "zoom-vel",
        "timeout-high",
        "timeout-zero",
        "abs-pan",
        "abs-zoom",
        "rel-pan",
        "speed",
        "empty",
    ],  # fmt: skip
)
def test_out_of_range_values_state_the_range(camera: Camera, call: Any, message: str) -> None:
    with pytest.raises(InvalidArgument, match=message):
        call(camera.ptz)
    assert not camera.ptz.status().moving  # nothing was sent


def test_custom_node_ranges_are_used(vcam_factory: Any, connect: Any) -> None:
    vcam = vcam_factory(ptz_node={"pan_range": (-0.5, 0.5), "zoom_range": (0.0, 0.25), "pan_tilt_speed": 10.0})
    cam = connect(vcam)
    with pytest.raises(InvalidArgument, match=r"\[-0\.5, 0\.5\]"):
        cam.ptz.absolute_move(pan=0.8, tilt=0.0)
    cam.ptz.continuous_move(pan=1.0, timeout=0.3)
    assert cam.ptz.wait_idle().position.pan == pytest.approx(0.5)


@pytest.mark.parametrize(
    ("operation", "kwargs", "subcode"),
    [
        ("AbsoluteMove", {"Position": {"PanTilt": {"x": 5.0, "y": 0.0}}}, "InvalidPosition"),
        ("ContinuousMove", {"Velocity": {"PanTilt": {"x": 0.0, "y": 9.0}}}, "InvalidVelocity"),
        ("RelativeMove", {"Translation": {"Zoom": {"x": -4.0}}}, "InvalidTranslation"),
        ("GotoPreset", {"PresetToken": "Preset_404"}, "NoToken"),
        (
            "AbsoluteMove",
            {"Position": {"PanTilt": {"x": 0.0, "y": 0.0, "space": "http://example.com/DegreesSpace"}}},
            "SpaceNotSupported",
        ),
    ],
)
def test_the_camera_itself_refuses_bad_values(camera: Camera, operation: str, kwargs: Any, subcode: str) -> None:
    # bypass the client-side checks: the virtual camera enforces its ranges like a real one
    with pytest.raises(InvalidArgument, match=subcode):
        camera.call("ptz", operation, ProfileToken="Profile_1_main", **kwargs)


def test_preset_capacity_and_fixed_home_faults(vcam_factory: Any, connect: Any) -> None:
    cam = connect(vcam_factory(ptz_node={"max_presets": 2, "fixed_home": True}))
    cam.ptz.set_preset("A")
    cam.ptz.set_preset("B")
    with pytest.raises(OnvifFault) as info:
        cam.ptz.set_preset("C")
    assert "TooManyPresets" in info.value.subcodes
    with pytest.raises(OnvifFault) as info:
        cam.ptz.set_home()
    assert "CannotOverwriteHome" in info.value.subcodes


def test_sub_profile_and_camera_without_ptz(vcam_factory: Any, connect: Any, camera: Camera) -> None:
    with pytest.raises(InvalidArgument, match="NoPTZProfile"):
        camera.ptz.status(profile="Profile_1_sub")
    nvr = connect(vcam_factory(channels=2))  # NVRs have no PTZ by default: the service is not advertised
    assert not nvr.has_service("ptz")
    with pytest.raises(NotSupported):
        nvr.ptz.status()


def test_nvr_channels_have_their_own_heads(vcam_factory: Any, connect: Any) -> None:
    vcam = vcam_factory(channels=2, ptz=True, ptz_node={"pan_tilt_speed": 10.0})
    cam = connect(vcam)
    cam.ptz.absolute_move(pan=0.4, tilt=0.0, profile="Profile_2_main")
    cam.ptz.wait_idle(profile="Profile_2_main")
    assert vcam.ptz_position(2)[0] == pytest.approx(0.4)
    assert vcam.ptz_position(1)[0] == pytest.approx(0.0)
    assert cam.ptz.status().position.pan == pytest.approx(0.0)  # default: the first PTZ profile
