"""PTZ calls reuse what the camera already said: GetProfiles carries the PTZ configuration, a node is read once,
presets read once serve later gotos. Counted in the virtual camera's request log."""

from __future__ import annotations

from typing import Any

from kedirivms import Camera
from kedirivms.sim import VirtualCamera

_READS = ("GetProfile", "GetNode", "GetNodes", "GetConfigurationOptions", "GetConfigurations", "GetPresets")


def _ops(vcam: VirtualCamera) -> list[str]:
    ops = [r.operation for r in vcam.request_log]
    vcam.clear_request_log()
    return ops


def test_preset_goto_after_connect_is_one_round_trip(camera: Camera, vcam: VirtualCamera) -> None:
    camera.ptz.absolute_move(pan=0.2, tilt=0.1)
    camera.ptz.set_preset("Door")
    camera.ptz.absolute_move(pan=-0.3, tilt=0.0)
    camera.ptz.wait_idle()
    _ops(vcam)

    camera.ptz.goto_preset("Door")  # the presets were written since last read: read them once
    assert _ops(vcam) == ["GetPresets", "GotoPreset"]
    for _ in range(3):
        found = camera.ptz.goto_preset("door")
        assert found.name == "Door"
        assert _ops(vcam) == ["GotoPreset"]


def test_a_fresh_camera_reads_no_profile_node_or_options_for_a_goto(
    vcam: VirtualCamera, camera: Camera, connect: Any
) -> None:
    camera.ptz.set_preset("Gate")
    fresh = connect(vcam)
    _ops(vcam)
    fresh.ptz.goto_preset("Gate")
    assert _ops(vcam) == ["GetProfiles", "GetPresets", "GotoPreset"]


def test_moves_read_the_node_once_and_no_profile(camera: Camera, vcam: VirtualCamera) -> None:
    profiles = camera.profiles()
    _ops(vcam)
    camera.ptz.relative_move(pan=0.05, profile=profiles[0])
    camera.ptz.relative_move(pan=-0.05, profile=profiles[0])
    camera.ptz.continuous_move(pan=0.1, timeout=0.2, profile=profiles[0])
    camera.ptz.continuous_move(pan=-0.1, timeout=0.2, profile=profiles[0])
    ops = _ops(vcam)
    assert [op for op in ops if op in _READS] == ["GetNode", "GetConfigurationOptions"]
    assert ops.count("RelativeMove") == 2 and ops.count("ContinuousMove") == 2


def test_a_preset_deleted_by_another_client_is_looked_up_again(
    camera: Camera, vcam: VirtualCamera, connect: Any
) -> None:
    camera.ptz.set_preset("Desk")
    camera.ptz.goto_preset("Desk")
    other = connect(vcam)
    other.ptz.remove_preset("Desk")
    other.ptz.set_preset("Desk")  # same name, new token
    _ops(vcam)
    found = camera.ptz.goto_preset("Desk")
    assert _ops(vcam) == ["GotoPreset", "GetPresets", "GotoPreset"]
    assert found.token == other.ptz.find_preset("Desk").token
