"""The queue plugin on real footage from a third-party RTSP server: GStreamer's, serving Intel's one-by-one clip.

The clip (CC BY 4.0, tests/data/footage/README.md) is sent as it is, in real time, from GStreamer's RTSP server
(`gst_rtsp_server.py file:PATH`, no re-encoding); the runner receives it, decodes it and runs the queue plugin with
its default detector (the DNN), as a deployment would. The annotation says nobody is in the picture at 2.5 s and
the first visitor stands at the table from 7.1 s to 19.1 s.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from clitools import gst_rtsp_process
from kedirivms.analytics import AnalyticsRunner, CameraAnalytics, PluginSettings
from kedirivms.sinks import CallbackSink

CLIP = Path(__file__).resolve().parents[2] / "data" / "footage" / "one-by-one-person-detection.mp4"
TRUTH = CLIP.with_name("one-by-one.truth.json")


def test_real_footage_from_gstreamer_rtsp_is_counted(wait_until: Any, no_thread_left: None) -> None:
    zones = json.loads(TRUTH.read_text())["zones"]
    # (the clip's queue zone is the whole room, the stand inside it: people in the room are counted, not a line)
    config = {
        "zones": zones,
        "anchor": "bottom_center",
        "interval_s": 1.0,
        "unstaffed": {"enabled": False},
        "line_count": "seen",
    }
    got: list = []
    server = gst_rtsp_process("0", "0", "0", f"file:{CLIP}")
    try:
        cams = [CameraAnalytics(name="stand", source=server.url, plugins=[PluginSettings(name="queue", config=config)])]
        with AnalyticsRunner(cams, [CallbackSink(got.append)]) as runner:
            # the stream starts at the clip's start when the first (only) client plays it
            assert wait_until(lambda: _last_end(got) >= 11.0, timeout=45), [e.data for e in got]
            metrics = runner.metrics().cameras[0]
    finally:
        server.stop()
    stats = [e.data for e in got if e.kind == "queue_stats"]
    assert metrics.plugins[0].errors == 0 and metrics.plugins[0].frames >= 80
    start = stats[0]["start"]  # the first interval holds the stream's first frame (clip time 0)
    early = [d for d in stats if d["end"] - start <= 4.0]
    assert early and all(d["length_max"] == 0 for d in early), early  # the empty room: no sign post, no shadow
    # the visitor walks in and reaches the table (7.1 s by the annotation; the picture times are the receiver's
    # clock, so a generous window)
    served = [d["start"] - start for d in stats if d["served"]]
    assert len(served) == 1 and 4.0 <= served[0] <= 11.0, stats
    assert stats[-1]["length_max"] == 1  # she stands there, alone


def _last_end(events: list) -> float:
    ends = [e.data["end"] - events[0].data["start"] for e in events if e.kind == "queue_stats"]
    return max(ends, default=0.0)
