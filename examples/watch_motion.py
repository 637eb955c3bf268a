"""Watch motion and tamper events from a camera (a managed pull point: renewed, re-created, always closed).

Run against a camera (Ctrl-C to stop):

    python examples/watch_motion.py http://192.0.2.10/onvif/device_service admin PASSWORD

Without arguments the script starts its own virtual camera whose motion toggles every 0.5 s, and also fires
motion and tamper on demand, then stops after a few seconds.
"""

from __future__ import annotations

import contextlib
import sys
import threading

import kedirivms as kvms
from kedirivms.sim import VirtualCamera, VirtualCameraConfig

TOPICS = ["tns1:VideoSource/MotionAlarm", "tns1:VideoSource/GlobalSceneChange//."]


def watch(camera: kvms.Camera, seconds: float | None = None) -> int:
    """Print motion/tamper changes; returns how many were seen."""
    props = camera.events.properties()
    print("camera topics:", ", ".join(t.topic for t in props.topics))
    seen = 0
    with camera.events.pull_point(TOPICS, termination=30, pull_timeout=2) as sub:
        for event in sub.events(duration=seconds):
            when = event.utc_time.strftime("%H:%M:%S") if event.utc_time else "?"
            if event.is_motion:
                state = "START" if event.motion else "stop "
                print(f"{when} motion {state} on {event.source_token} ({event.property_operation})")
            elif event.is_tamper:
                print(f"{when} tamper {'DETECTED' if event.tamper else 'cleared'} on {event.source_token}")
            seen += 1
    return seen


def main() -> None:
    if len(sys.argv) == 4:
        target, user, password = sys.argv[1:]
        # Ctrl-C ends the watch; leaving the with-blocks unsubscribes
        with kvms.Camera(target, username=user, password=password) as camera, contextlib.suppress(KeyboardInterrupt):
            watch(camera)
        return
    config = VirtualCameraConfig(password="example-pass", events={"motion_interval_s": 0.5})
    with VirtualCamera(config) as vcam, kvms.Camera(vcam.device_url, username="admin", password="example-pass") as cam:
        threading.Timer(1.2, vcam.trigger_tamper).start()
        threading.Timer(1.8, vcam.trigger_tamper, kwargs={"state": False}).start()
        count = watch(cam, seconds=2.5)
        print(f"{count} events; pull points left on the camera: {vcam.subscription_count}")


if __name__ == "__main__":
    main()
