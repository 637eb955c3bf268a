"""ONVIF Profile G against the virtual NVR: recording, search and replay served from recorded segments."""

from __future__ import annotations

import contextlib
import datetime as dt
import time
from pathlib import Path

import pytest

from kedirivms import Camera
from kedirivms.errors import AuthenticationFailed, KedirivmsError, StreamClosed, StreamTimeout
from kedirivms.record import Recorder, SegmentIndex
from kedirivms.sim import VirtualCamera
from kedirivms.sim._profile_g import enable_nvr
from kedirivms.sim.rtsp import RtspServer
from kedirivms.stream import open_stream


def client(vc: VirtualCamera) -> Camera:
    return Camera(f"127.0.0.1:{vc.port}", username="admin", password="admin123", timeout=5.0)


def test_plain_camera_has_no_profile_g() -> None:
    with VirtualCamera() as vc, client(vc) as cam:
        assert not cam.has_service("recording") and not cam.has_service("search")


def test_profile_g_against_virtual_nvr(rtsp: RtspServer, tmp_path: Path) -> None:
    stream = open_stream(rtsp.url("cam"), decode=False)
    with VirtualCamera() as vc, stream, Recorder(stream, tmp_path, "gate", segment_seconds=1.5) as rec:
        nvr = enable_nvr(vc, tmp_path, recorders=[rec], replay_speed=4.0)
        try:
            deadline = time.monotonic() + 15
            while rec.stats.segments < 2 and time.monotonic() < deadline:
                time.sleep(0.1)
            fired = dt.datetime.now(dt.UTC)
            rec.trigger("motion", detail="zone A")
            time.sleep(0.3)
            with client(vc) as cam:
                assert all(cam.has_service(s) for s in ("recording", "search", "replay"))
                g = cam.recordings
                (recording,) = g.recordings()
                assert recording.token == "gate" and [t.type for t in recording.tracks] == ["Video"]
                assert g.recording_configuration("gate").source.name == "gate"
                (job,) = g.recording_jobs()
                assert job.recording_token == "gate" and job.mode == "Active"
                assert g.recording_job_state(job.token) == "Active"
                g.set_recording_job_mode(job.token, "Idle")  # the recorder pauses: no packet written
                time.sleep(0.3)
                written = rec.stats.packets_written
                time.sleep(0.6)
                assert rec.paused and rec.stats.packets_written == written
                assert g.recording_jobs()[0].mode == "Idle" and g.recording_job_state(job.token) == "Idle"
                g.set_recording_job_mode(job.token, "Active")
                deadline = time.monotonic() + 5
                while rec.stats.packets_written == written and time.monotonic() < deadline:
                    time.sleep(0.1)
                assert rec.stats.packets_written > written and g.recording_job_state(job.token) == "Active"
                (info,) = g.find_recordings()
                assert info.status == "Recording" and info.tracks[0].token == "VIDEO001"
                events = g.find_events(fired - dt.timedelta(minutes=5))
                assert [(e.topic, e.data.get("IsRecording")) for e in events[1:]] == [
                    ("tns1:RecordingHistory/Recording/State", "false"),  # SetRecordingJobMode Idle
                    ("tns1:RecordingHistory/Recording/State", "true"),  # and Active again
                ]
                event = events[0]
                assert event.recording_token == "gate" and event.topic == "tns1:VideoSource/MotionAlarm"
                assert event.data == {"State": "true", "Detail": "zone A"}
                assert abs((event.time - fired).total_seconds()) < 0.5
                assert g.find_events(fired + dt.timedelta(minutes=1)) == []
                with pytest.raises(KedirivmsError, match="NoRecording|no recording"):
                    g.recording_information("nope")
            rec.stop()
            with SegmentIndex(tmp_path) as ix:
                segs = ix.segments("gate")
                (paused,) = ix.gaps("gate")
                assert paused.reason == "paused" and paused.duration >= 0.8
            with client(vc) as cam:
                g = cam.recordings
                summary = g.summary()
                assert summary.number_recordings == 1
                assert abs((summary.data_from - segs[0].start).total_seconds()) < 0.01
                assert abs((summary.data_until - segs[-1].end).total_seconds()) < 0.01
                info = g.recording_information("gate")
                assert info.status == "Stopped" and info.earliest == summary.data_from
                assert g.recording_jobs()[0].mode == "Idle"
                # replay needs the NVR's credentials, like a real one (and the URI never carries them)
                bare = g.replay_uri("gate")
                assert "@" not in bare
                with pytest.raises(AuthenticationFailed), open_stream(bare, reconnect=False, timeout=3.0) as s:
                    s.read(timeout=5.0)
                # replay through the same stream API as live video
                # the NVR stops sending at the recording's end and keeps the session open: read until every
                # recorded packet came (a stall on a loaded box is not the end: generous time-outs), then check
                # that nothing more comes
                recorded = sum(s.packets for s in segs)
                with g.open_replay("gate", timeout=(10.0, 10.0)) as replay:
                    frames = 0
                    with contextlib.suppress(StreamClosed, StreamTimeout):
                        while replay.stats.packets < recorded:
                            frame = replay.read(timeout=10.0)
                            assert (frame.width, frame.height) == (320, 180)
                            frames += 1
                        while True:
                            replay.read(timeout=2.0)
                            frames += 1
                    packets = replay.stats.packets
            assert packets == recorded
            assert frames >= packets - 3  # latest-frame queue: a slow reader may miss a couple
            # a window: from the keyframe at or before start (segments start with one; GOP = 1 s) to end
            with client(vc) as cam:
                start = segs[1].start + dt.timedelta(seconds=0.4)
                with cam.recordings.open_replay("gate", start, segs[1].end, timeout=(10.0, 10.0)) as replay:
                    with contextlib.suppress(StreamClosed, StreamTimeout):
                        while replay.stats.packets < segs[1].packets:
                            replay.read(timeout=10.0)
                        while True:
                            replay.read(timeout=2.0)
                    assert replay.stats.packets == segs[1].packets
        finally:
            nvr.close()
