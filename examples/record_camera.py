"""Record a virtual camera like an NVR, then export a clip, play a range back, and search it over Profile G.

Run: python examples/record_camera.py [ROOT]  (starts its own virtual camera on loopback; takes about 10 seconds)
"""

from __future__ import annotations

import sys
import tempfile
import time
from pathlib import Path

from kedirivms import Camera, Recorder, RetentionPolicy, SegmentIndex, export, open_recording, open_stream
from kedirivms.sim import VirtualCamera, enable_nvr


def main(root: Path) -> None:
    with VirtualCamera(rtsp=True) as vcam:
        with Camera(f"127.0.0.1:{vcam.port}", username="admin", password="admin123") as cam:
            url = cam.stream_uri("Profile_1_sub").with_credentials()  # for the decoder only: never print it

        # one RTSP connection: the reader demuxes, the recorder writes the same packets (decode=False: record only)
        stream = open_stream(url, decode=False)
        policy = RetentionPolicy(max_age="7d", max_bytes="1G")
        with stream, Recorder(stream, root, "counter-1", segment_seconds=2.0, retention=policy) as rec:
            time.sleep(3.0)
            rec.trigger("motion", detail="queue at counter 1")
            time.sleep(3.0)
            print(rec.stats.model_dump_json())

        with SegmentIndex(root) as index:
            segments = index.segments("counter-1")
            for seg in segments:
                print(f"{seg.path}  {seg.start:%H:%M:%S.%f}  {seg.duration:.2f} s  {seg.bytes} B  {seg.status.value}")
            events = index.events("counter-1")
        print("events:", [(e.name, e.detail) for e in events])

        # a clip from the middle of the recording: starts at the keyframe at or before `start`
        start, end = segments[0].start.timestamp() + 1.2, segments[-1].end.timestamp() - 0.5
        clip = export(root, "counter-1", start, end, root / "clip.mp4")
        print(
            f"clip: {clip.duration:.2f} s, {clip.packets} packets, from {len(clip.segments)} segments, gaps {clip.gaps}"
        )

        # the same range as a frame source
        with open_recording(root, "counter-1", start, end) as playback:
            frames = [frame.y.mean() for frame in playback]
        print(f"played back {len(frames)} frames, mean luma {sum(frames) / max(len(frames), 1):.1f}")

        # the virtual camera as an NVR: Profile G search and replay of what was recorded
        nvr = enable_nvr(vcam, root, replay_speed=4.0)
        try:
            with Camera(f"127.0.0.1:{vcam.port}", username="admin", password="admin123") as client:
                for info in client.recordings.find_recordings():
                    print(f"recording {info.token}: {info.earliest:%H:%M:%S} - {info.latest:%H:%M:%S} {info.status}")
                for event in client.recordings.find_events(segments[0].start):
                    print(f"event {event.topic} at {event.time:%H:%M:%S.%f} {event.data}")
                with client.recordings.open_replay("counter-1", timeout=(5.0, 2.0)) as replay:
                    frame = replay.read(timeout=5.0)
                    print(f"replay: first frame {frame.width}x{frame.height}")
        finally:
            nvr.close()


if __name__ == "__main__":
    if len(sys.argv) > 1:
        main(Path(sys.argv[1]))
    else:
        with tempfile.TemporaryDirectory() as tmp:
            main(Path(tmp))
