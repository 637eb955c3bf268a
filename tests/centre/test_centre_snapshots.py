"""The ``snapshot`` plugin in a real analytics runner, published through JetStream like a worker's events, and
served by the centre's page as a small JPEG."""

from __future__ import annotations

import time
import urllib.request

import av
import cv2
import numpy as np

from kedirivms.analytics import AnalyticsRunner, CameraAnalytics, PluginRegistry, PluginSettings
from kedirivms.centre_web import SnapshotPlugin
from kedirivms.cluster._nats import NatsLink
from kedirivms.cluster.events import JetStreamSink
from kedirivms.stream import Frame

from .conftest import SITE_OF, CentreRig, wait_until


def test_snapshot_plugin_to_the_page(rig: CentreRig, nats_url: str) -> None:
    registry = PluginRegistry(entry_points=False)
    registry.register(SnapshotPlugin)
    link = NatsLink([nats_url], name="test-snapshot-worker", timeout=5.0)
    link.connect(timeout=10.0)
    sink = JetStreamSink(link, SITE_OF.__getitem__)
    camera = CameraAnalytics(name="loket-c", plugins=[PluginSettings(name="snapshot", config={"interval_s": 2.0})])
    runner = AnalyticsRunner([camera], [sink], registry=registry).start()
    picture = np.zeros((720, 1280, 3), np.uint8)
    picture[:, 640:] = (0, 0, 255)  # right half red (BGR)
    av_frame = av.VideoFrame.from_ndarray(picture[:, :, ::-1].copy(), format="rgb24").reformat(format="yuv420p")
    try:
        deadline = time.monotonic() + 3.5
        i = 0
        while time.monotonic() < deadline:
            runner.feed("loket-c", Frame(av_frame, time=time.time(), index=i))
            i += 1
            time.sleep(0.1)
        wait_until(lambda: len(rig.store.events(camera="loket-c", kind="snapshot")) >= 2)
    finally:
        runner.stop()
        link.close()
    snaps = rig.store.events(camera="loket-c", kind="snapshot")
    assert len(snaps) == 2, [s.timestamp for s in snaps]  # one per interval_s, not one per frame (35 fed)
    gaps = [b.timestamp - a.timestamp for a, b in zip(snaps, snaps[1:], strict=False)]
    assert all(g >= 1.8 for g in gaps), gaps
    with urllib.request.urlopen(rig.web.url + "api/snapshots/loket-c.jpg", timeout=10) as r:
        jpeg = r.read()
    assert len(jpeg) < 20_000
    image = cv2.imdecode(np.frombuffer(jpeg, np.uint8), cv2.IMREAD_COLOR)
    assert image is not None and image.shape == (180, 320, 3)
    left, right = image[:, :150].mean(axis=(0, 1)), image[:, 170:].mean(axis=(0, 1))
    assert left.max() < 30 and right[2] > 200 and right[:2].max() < 60  # the picture, colours the right way
