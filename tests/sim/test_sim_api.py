"""The public surface of ``kedirivms.sim`` (others import exactly these names)."""

from __future__ import annotations

import threading

import pytest

import kedirivms.sim as sim
from kedirivms.errors import ConfigError
from kedirivms.sim import EncoderSpec, VirtualCamera, VirtualCameraConfig


def test_exported_names() -> None:
    assert {"VirtualCamera", "VirtualCameraConfig", "VirtualFleet", "EncoderSpec", "EncoderOptions"} <= set(sim.__all__)
    for name in sim.__all__:
        obj = getattr(sim, name)
        if isinstance(obj, type):
            assert obj.__module__ == "kedirivms.sim", name


def test_nothing_runs_until_start_and_config_is_strict() -> None:
    before = set(threading.enumerate())
    cam = VirtualCamera(VirtualCameraConfig(password="pw"))
    # no thread of its own (a thread another test left may end meanwhile: a count would drop)
    assert set(threading.enumerate()) <= before and cam.run_state == "new" and cam.port == 0
    assert "pw" not in repr(cam.config) and "pw" not in repr(cam)
    with pytest.raises(ValueError):
        VirtualCameraConfig(colour="red")  # type: ignore[call-arg]
    with pytest.raises(ValueError, match="main encoder outside encoder_options"):
        VirtualCameraConfig(main=EncoderSpec(width=1000, height=1000))
    with pytest.raises(ConfigError):
        VirtualCamera(VirtualCameraConfig(), channels=0)
    assert VirtualCamera(VirtualCameraConfig(), channels=4).profile_tokens[-1] == "Profile_4_sub"
