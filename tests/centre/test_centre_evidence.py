"""From an alert to the evidence: a worker-side responder cuts the recording around an alert, the centre fetches it
through a real nats-server (chunked request/reply), and headless Chromium plays it to the alert's time."""

from __future__ import annotations

import json
import subprocess
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

from clitools import gst_rtsp_process
from kedirivms.analytics import Event
from kedirivms.centre_web import LocalCentre
from kedirivms.cluster import Worker, WorkerConfig
from kedirivms.cluster._nats import NatsLink
from kedirivms.cluster.evidence import EvidenceClip, EvidenceFetcher, EvidenceResponder, _holes, cut_clip
from kedirivms.errors import ClusterError, InvalidArgument
from kedirivms.fleet import load_fleet
from kedirivms.record import Recorder, SegmentIndex
from kedirivms.sim import EncoderSpec, VirtualCamera, VirtualCameraConfig
from kedirivms.sim.rtsp import RtspServer, StreamSpec
from kedirivms.stream import open_stream

from .chromium import Browser
from .conftest import CentreRig, wait_until

SPEC = StreamSpec(width=320, height=180, fps=10, bitrate=200_000, gop=10)
RECORD_S = 7.0


@pytest.fixture(scope="module")
def recording(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """``loket-1`` recorded from the virtual camera for a few seconds (1 s segments) into a worker's root."""
    root = tmp_path_factory.mktemp("rec")
    with RtspServer("127.0.0.1", 0) as srv:
        srv.add_stream("cam", SPEC)
        with SegmentIndex(root) as ix, open_stream(srv.url("cam"), decode=False) as stream:
            started = time.time()
            with Recorder(stream, root, "loket-1", segment_seconds=1.0, fragment_seconds=0.5, index=ix):
                time.sleep(RECORD_S)
    with SegmentIndex(root) as ix:
        segments = ix.segments("loket-1")
    assert len(segments) >= 3
    return {"root": root, "first": segments[0].start.timestamp(), "last": segments[-1].end.timestamp(),
            "started": started}  # fmt: skip


@pytest.fixture(scope="module")
def responder(recording: dict[str, Any], nats_url: str) -> Iterator[EvidenceResponder]:
    """The worker's side, on its own NATS connection, as :class:`Worker` starts it."""
    link = NatsLink([nats_url], name="test-evidence-worker", timeout=5.0).connect(timeout=10.0)
    index = SegmentIndex(recording["root"])
    r = EvidenceResponder(link, index, "w-rec", chunk=16 * 1024).start()  # small chunks: a clip takes several
    try:
        yield r
    finally:
        r.close()
        link.close()
        index.close()


def get(url: str, headers: dict[str, str] | None = None) -> tuple[int, dict[str, str], bytes]:
    req = urllib.request.Request(url, headers=headers or {})
    try:
        with urllib.request.urlopen(req, timeout=60) as r:
            return r.status, dict(r.headers), r.read()
    except urllib.error.HTTPError as e:
        return e.code, dict(e.headers), e.read()


def ffprobe(path: Path) -> dict[str, Any]:
    proc = subprocess.run(
        ["ffprobe", "-v", "error", "-count_packets", "-show_entries", "stream=codec_name,width,nb_read_packets",
         "-of", "json", str(path)],
        capture_output=True, text=True, timeout=30,
    )  # fmt: skip
    assert proc.returncode == 0 and not proc.stderr.strip(), proc.stderr
    return dict(json.loads(proc.stdout)["streams"][0])


def alert(rig: CentreRig, camera: str, kind: str, when: float, cleared: float | None = None) -> Event:
    rig.running(camera)
    raised = rig.publish(Event(camera=camera, source="queue", kind=kind, time=when, data={"length": 7}))
    if cleared is not None:
        clear = "pile_up_cleared" if kind == "pile_up" else "counter_staffed"
        raised = rig.publish(Event(camera=camera, source="queue", kind=clear, time=cleared))
    rig.stored(raised)
    return raised


def test_clip_of_a_cleared_alert_through_nats(
    rig: CentreRig, recording: dict[str, Any], responder: EvidenceResponder, tmp_path: Path
) -> None:
    since = recording["first"] + 3.0
    alert(rig, "loket-1", "pile_up", since, cleared=since + 1.0)
    status, _, body = get(f"{rig.web.url}api/evidence?camera=loket-1&kind=pile_up&since={since!r}")
    assert status == 200, body
    ev = json.loads(body)
    assert ev["alert"] == {"kind": "pile_up", "since": since, "until": since + 1.0}
    assert ev["requested_start"] == since - 15.0 and ev["requested_end"] == since + 16.0
    assert ev["worker"] == "w-rec" and ev["codec"] == "h264" and ev["width"] == 320
    assert ev["start"] <= since < ev["end"] and ev["url"].startswith("/api/clips/")
    # the recording began inside the range: that span is a gap, with its reason
    assert ev["gaps"] and ev["gaps"][0]["start"] == since - 15.0 and ev["gaps"][0]["end"] >= recording["first"] - 0.2
    status, headers, clip = get(rig.web.url + ev["url"][1:])
    assert status == 200 and headers["Content-Type"] == "video/mp4" and len(clip) == ev["bytes"]
    assert len(clip) > 3 * 16 * 1024  # fetched from the worker in several chunks, reassembled and checked
    assert b"moof" in clip[:4096] or b"mvex" in clip[:4096]  # fragmented MP4
    (tmp_path / "clip.mp4").write_bytes(clip)
    info = ffprobe(tmp_path / "clip.mp4")
    assert info["codec_name"] == "h264" and int(info["nb_read_packets"]) >= 30
    status, headers, part = get(rig.web.url + ev["url"][1:], {"Range": "bytes=100-199"})
    assert status == 206 and part == clip[100:200] and headers["Content-Range"] == f"bytes 100-199/{len(clip)}"


def test_offline_camera_shows_the_gap_not_an_error(
    rig: CentreRig, recording: dict[str, Any], responder: EvidenceResponder
) -> None:
    since = recording["first"] - 3600.0  # an hour before anything was recorded
    alert(rig, "loket-1", "counter_unstaffed", since, cleared=since + 5.0)
    status, _, body = get(f"{rig.web.url}api/evidence?camera=loket-1&kind=counter_unstaffed&since={since!r}")
    assert status == 200, body
    ev = json.loads(body)
    assert ev["url"] is None and ev["gaps"] == [{"start": since - 15.0, "end": since + 20.0, "reason": "no recording"}]
    # a camera no worker ever recorded: nobody answers the probe, the same gap
    alert(rig, "loket-2", "pile_up", since, cleared=since + 5.0)
    ev = json.loads(get(f"{rig.web.url}api/evidence?camera=loket-2&kind=pile_up&since={since!r}")[2])
    assert ev["url"] is None and len(ev["gaps"]) == 1 and "offline" in ev["gaps"][0]["reason"]


@pytest.mark.parametrize(
    ("query", "status", "words"),
    [
        ("camera=loket-1&kind=pile_up&since=abc", 400, "since must be a number"),
        ("camera=loket-1&kind=motion&since=1", 400, "not an alert kind"),
        ("camera=loket-1&start=100&end=50", 400, "ends before it starts"),
        ("camera=loket-1&start=0&end=5000", 400, "longer than 900 s"),
        ("kind=pile_up&since=1", 400, "camera is required"),
    ],
)
def test_bad_evidence_requests_are_typed_400s(rig: CentreRig, query: str, status: int, words: str) -> None:
    code, _, body = get(f"{rig.web.url}api/evidence?{query}")
    assert code == status and words in json.loads(body)["error"]
    assert get(f"{rig.web.url}api/clips/nope.mp4")[0] == 404


def test_the_page_plays_an_alerts_clip_to_the_alerts_time(
    rig: CentreRig, recording: dict[str, Any], responder: EvidenceResponder
) -> None:
    since = recording["first"] + 4.5
    alert(rig, "loket-1", "pile_up", since)  # still open: the range runs to now
    with Browser(1280, 800) as b:
        b.goto(rig.web.url)
        b.wait_for("!!document.querySelector(`#alerts tr[data-camera='loket-1'] .ev-btn`)", 10.0)
        b.evaluate("document.querySelector(`#alerts tr[data-camera='loket-1'] .ev-btn`).click()")
        b.wait_for("document.querySelector('#evidence').dataset.state === 'ready'", 30.0)
        offset = float(b.evaluate("document.querySelector('#evidence').dataset.alertOffset"))
        assert 4.0 <= offset <= 6.0
        # it plays (Chromium plays H.264) and reaches the alert's time
        b.wait_for(f"(() => {{ const v = document.querySelector('#ev-video');"
                   f" return !v.paused && v.readyState >= 2 && v.currentTime >= {offset}; }})()", 20.0)  # fmt: skip
        assert b.evaluate("document.querySelector('#ev-video').videoWidth") == 320
        assert "showing" in b.evaluate("document.querySelector('#ev-now').textContent")


def test_one_host_serves_its_own_recordings(recording: dict[str, Any], tmp_path: Path) -> None:
    doc = {"version": 2, "sites": {"kota": {"cameras": [{"name": "loket-1", "address": "127.0.0.1:9"}]}},
           "recording": {"root": str(recording["root"])}}  # fmt: skip
    (tmp_path / "fleet.yaml").write_text(yaml.safe_dump(doc))
    local = LocalCentre(load_fleet(tmp_path / "fleet.yaml"), tmp_path / "centre.sqlite", "127.0.0.1:0")
    try:
        local.web.start()
        since = recording["first"] + 2.0
        local.store.add(Event(camera="loket-1", source="queue", kind="pile_up", time=since), site="kota")
        local.store.add(Event(camera="loket-1", source="queue", kind="pile_up_cleared", time=since + 1), site="kota")
        status, _, body = get(f"{local.url}api/evidence?camera=loket-1&kind=pile_up&since={since!r}")
        assert status == 200, body
        ev = json.loads(body)
        assert ev["worker"] == "local" and ev["url"] and ev["start"] <= since < ev["end"]
        status, _, clip = get(local.url + ev["url"][1:])
        assert status == 200 and len(clip) == ev["bytes"] > 10_000
    finally:
        local.close()


def test_a_worker_answers_for_the_cameras_it_recorded(
    rig: CentreRig, nats_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """End to end through ``kedirivms worker``'s own responder: the worker leases a virtual camera, records it,
    and the centre's page gets the clip of an alert on it from that worker."""
    monkeypatch.setenv("KVMS_TEST_EVIDENCE_PW", "Evidence-s3cret")
    small = EncoderSpec(width=320, height=240, fps=5, bitrate_kbps=128, gop=5)
    config = VirtualCameraConfig(password="Evidence-s3cret", main=small, sub=small)
    with VirtualCamera(config, rtsp=True) as cam:
        doc = {
            "version": 2,
            "sites": {"mpp-kota": {"cameras": [{
                "name": "loket-2", "address": cam.device_url, "events": False, "timeout": 2,
                "credentials": {"username": "admin", "password_env": "KVMS_TEST_EVIDENCE_PW"}}]}},
            "recording": {"root": "rec", "segment_seconds": 1},
        }  # fmt: skip
        (tmp_path / "fleet.yaml").write_text(yaml.safe_dump(doc, sort_keys=False))
        worker_config = WorkerConfig(id="w-evidence", servers=[nats_url], lease_ttl=4.0, status_interval=0.5)
        with Worker(load_fleet(tmp_path / "fleet.yaml"), worker_config) as worker:
            assert worker.evidence is not None

            def recorded() -> float | None:
                with SegmentIndex(tmp_path / "rec") as ix:
                    segments = ix.segments("loket-2")
                return segments[0].start.timestamp() if len(segments) >= 3 else None

            first = wait_until(recorded, 40.0, 0.5)
            since = first + 1.5
            alert(rig, "loket-2", "pile_up", since, cleared=since + 0.5)
            status, _, body = get(f"{rig.web.url}api/evidence?camera=loket-2&kind=pile_up&since={since!r}")
            assert status == 200, body
            ev = json.loads(body)
            assert ev["worker"] == "w-evidence" and ev["url"] and ev["codec"] == "h264"
            assert ev["start"] <= since < ev["end"]
            status, _, clip = get(rig.web.url + ev["url"][1:])
            assert status == 200 and len(clip) == ev["bytes"]
            # the last seconds, up to now: the segment still being written is in the clip, and not a gap
            now = time.time()
            ev = json.loads(get(f"{rig.web.url}api/evidence?camera=loket-2&start={now - 2.5!r}&end={now!r}")[2])
            assert ev["url"] and ev["end"] > now - 1.5, ev
            assert not [g for g in ev["gaps"] if g["start"] < ev["end"] - 0.3 and g["end"] > ev["start"] + 0.3], ev
        assert worker.evidence._dir is None  # closed with the worker: its cut clips are gone


def test_an_h265_recording_gives_an_hvc1_clip(tmp_path: Path) -> None:
    """H.265 cameras give H.265 clips tagged ``hvc1`` (what Safari and HEVC-capable Chrome/Edge play; docs say)."""
    server = gst_rtsp_process("320", "180", "10", "h265")
    try:
        with (
            SegmentIndex(tmp_path / "rec") as ix,
            open_stream(server.url, decode=False) as stream,
            Recorder(stream, tmp_path / "rec", "loket-h265", segment_seconds=1.0, index=ix),
        ):
            time.sleep(4.0)
    finally:
        server.stop()
    with SegmentIndex(tmp_path / "rec") as ix:
        first = ix.segments("loket-h265")[0].start.timestamp()
        clip = cut_clip(ix, "loket-h265", first + 0.5, first + 2.5, tmp_path / "clip.mp4")
    assert clip.codec == "hevc" and clip.path is not None and clip.start is not None and clip.start <= first + 0.5
    proc = subprocess.run(
        ["ffprobe", "-v", "error", "-show_entries", "stream=codec_name,codec_tag_string", "-of", "json",
         str(clip.path)],
        capture_output=True, text=True, timeout=30,
    )  # fmt: skip
    assert json.loads(proc.stdout)["streams"][0] == {"codec_name": "hevc", "codec_tag_string": "hvc1"}, proc.stderr


def test_the_fetchers_errors_are_typed(rig: CentreRig, responder: EvidenceResponder) -> None:
    fetcher = EvidenceFetcher(rig.centre.link, chunk_timeout=2.0)
    with pytest.raises(InvalidArgument, match="no such clip"):  # expired (or never cut): ask again
        fetcher._raw("kedirivms-evidence-w.w-rec", {"op": "chunk", "id": "nope", "index": 0, "size": 2048})
    with pytest.raises(InvalidArgument, match="unknown op"):
        fetcher._raw("kedirivms-evidence-w.w-rec", {"op": "delete"})
    with pytest.raises(ClusterError):  # a worker that is gone: nobody answers its subject
        fetcher._raw("kedirivms-evidence-w.nobody", {"op": "clip"})
    with pytest.raises(InvalidArgument, match="longer than"):
        fetcher.fetch("mpp-kota", "loket-1", 0.0, 10_000.0, Path("never-written.mp4"))


@pytest.mark.parametrize(
    ("spans", "known", "gaps", "timeline"),
    [
        ([(100.0, 120.0)], [], [], [(0.0, 100.0)]),  # all covered
        (
            [(100.0, 105.0), (108.0, 120.0)],
            [(105.0, 108.0, "disconnected: EOF")],  # a hole inside the clip
            [(105.0, 108.0, "disconnected: EOF")],
            [(0.0, 100.0), (5.0, 108.0)],
        ),
        ([(104.0, 112.0)], [], [(100.0, 104.0, "no recording"), (112.0, 120.0, "no recording")], [(0.0, 104.0)]),
    ],
)
def test_gaps_and_the_timeline_of_a_clip(
    spans: list[tuple[float, float]], known: list[Any], gaps: list[Any], timeline: list[tuple[float, float]]
) -> None:
    holes = _holes(spans, 100.0, 120.0, known)
    assert holes == gaps
    clip = EvidenceClip("c", 100.0, 120.0, path=Path("c.mp4"), start=spans[0][0], end=spans[-1][1], gaps=holes)
    assert clip.timeline() == timeline  # media 5.0 s is wall 108.0 after a 3 s hole
