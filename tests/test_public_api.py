"""The public surface is pinned, and importing the library has no side effects."""

from __future__ import annotations

import subprocess
import sys

import kedirivms

EXPECTED = {
    "AnalyticsRunner", "Camera", "CameraEvent", "ConnectResult", "Deployment", "DiscoveredDevice", "Event", "Frame",
    "ImagingSettings", "KedirivmsError", "Limits", "PTZPreset", "PTZStatus", "Profile", "PullPointSubscription",
    "Recorder",
    "RetentionPolicy", "Segment", "SegmentIndex", "Stream", "StreamOptions", "StreamState", "StreamStats",
    "StreamUri", "Timeouts", "__version__", "connect_cameras", "discover", "errors", "export", "grab_frame", "hookimpl",
    "load_fleet", "open_recording", "open_stream",
}  # fmt: skip


def test_all_is_pinned() -> None:
    assert set(kedirivms.__all__) == EXPECTED
    for name in kedirivms.__all__:
        assert getattr(kedirivms, name) is not None


def test_error_tree() -> None:
    from kedirivms import errors

    for name in errors.__all__:
        assert issubclass(getattr(errors, name), errors.KedirivmsError)
    assert issubclass(errors.Timeout, TimeoutError)
    assert issubclass(errors.InvalidArgument, ValueError) and issubclass(errors.ConfigError, ValueError)
    assert issubclass(errors.OnvifFault, errors.ProtocolError)
    assert issubclass(errors.StreamTimeout, errors.Timeout)
    err = errors.ConnectionFailed("refused", camera="10.0.0.1:80", operation="GetProfiles", hint="check cabling")
    assert str(err) == "GetProfiles on 10.0.0.1:80: refused (hint: check cabling)"


def test_import_has_no_side_effects() -> None:
    code = (
        "import logging, os, threading, sys\n"
        "env = dict(os.environ); handlers = list(logging.getLogger().handlers)\n"
        "import kedirivms, kedirivms.sim, kedirivms.cli\n"
        "assert dict(os.environ) == env, 'environment changed'\n"
        "assert logging.getLogger().handlers == handlers, 'root logging configured'\n"
        "assert threading.active_count() == 1, threading.enumerate()\n"
        "print('ok')\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert out.stdout.strip() == "ok", out.stderr


def test_camera_alone_does_not_load_the_media_stack() -> None:
    code = (
        "import sys, kedirivms\n"
        "kedirivms.Camera\n"
        "heavy = [m for m in ('av', 'numpy', 'cv2', 'supervision', 'matplotlib') if m in sys.modules]\n"
        "print(heavy)\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert out.stdout.strip() == "[]", out.stdout + out.stderr
