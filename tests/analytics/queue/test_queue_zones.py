"""Zones: validation, masks and point tests agree, PNG preview on a snapshot (array or decoded Frame)."""

from __future__ import annotations

from pathlib import Path

import av
import cv2
import numpy as np
import pytest
from pydantic import ValidationError

from kedirivms.analytics.queue import QueueConfig
from kedirivms.analytics.zones import Zone, Zones, draw_zones, save_zone_preview
from kedirivms.errors import ConfigError, InvalidArgument
from kedirivms.sim.counter_scene import CounterScene
from kedirivms.stream import Frame

SQUARE = [(0.25, 0.25), (0.75, 0.25), (0.75, 0.75), (0.25, 0.75)]


@pytest.mark.parametrize(
    ("data", "match"),
    [
        ({"name": "a", "points": [(0.1, 0.1), (0.2, 0.1)]}, "at least 3"),
        ({"name": "a", "points": [(0.1, 0.1), (1.2, 0.1), (0.5, 0.5)]}, r"in \[0, 1\]"),
        ({"name": "a", "points": [(0.1, 0.1), (0.2, 0.2), (0.3, 0.3)]}, "no area"),
        ({"name": "", "points": SQUARE}, "at least 1 character"),
        ({"name": "a", "kind": "lobby", "points": SQUARE}, "queue"),
        ({"name": "a", "points": SQUARE, "colour": "red"}, "Extra inputs"),
    ],
)
def test_zone_validation(data: dict, match: str) -> None:
    with pytest.raises(ValidationError, match=match):
        Zone.model_validate(data)


def test_mask_contains_and_pixels_agree() -> None:
    zone = Zone(name="sq", kind="queue", points=SQUARE)
    mask = zone.mask((200, 100))
    assert mask.shape == (100, 200) and mask.dtype == bool
    assert 0.2 < mask.mean() < 0.3  # a quarter of the picture, give or take the edges
    assert zone.to_pixels((200, 100)).tolist() == [[50, 25], [150, 25], [150, 75], [50, 75]]
    pts = np.array([[100, 50], [10, 10], [149, 74], [400, 50], [-5, -5]])
    assert zone.contains(pts, (200, 100)).tolist() == [True, False, True, False, False]
    ys, xs = np.nonzero(mask)
    assert zone.contains(np.stack([xs, ys], axis=1), (200, 100)).all()
    # the point test reuses one raster per resolution; a mask handed out is the caller's own copy
    mask[:] = False
    assert zone.contains(pts, (200, 100)).tolist() == [True, False, True, False, False]
    assert zone.mask((200, 100)).flags.writeable and zone.mask((200, 100)).any()


def test_a_point_on_the_pictures_far_edge_is_in_a_zone_drawn_to_that_edge() -> None:
    """A box reaching the picture's right or bottom edge ends at x = width or y = height: its anchor is inside."""
    import supervision as sv

    whole = Zone(name="all", kind="queue", points=[(0, 0), (1, 0), (1, 1), (0, 1)])
    left = Zone(name="left", kind="queue", points=[(0, 0), (0.5, 0), (0.5, 1), (0, 1)])
    edge = np.array([[150.0, 100.0], [200.0, 50.0], [200.0, 100.0], [50.0, 100.0]])
    assert whole.contains(edge, (200, 100)).tolist() == [True, True, True, True]
    assert left.contains(edge, (200, 100)).tolist() == [False, False, False, True]
    assert whole.contains([(200.5, 50.0), (50.0, 100.5)], (200, 100)).tolist() == [False, False]
    boxes = sv.Detections(
        xyxy=np.array([[80.0, 40.0, 120.0, 100.0], [170.0, 20.0, 200.0, 60.0], [20.0, 50.0, 60.0, 99.0]])
    )
    assert whole.polygon_zone((200, 100), sv.Position.BOTTOM_CENTER).trigger(boxes).tolist() == [True, True, True]
    right = sv.Position.CENTER_RIGHT
    assert whole.polygon_zone((200, 100), right).trigger(boxes).tolist() == [True, True, True]
    assert left.polygon_zone((200, 100), right).trigger(boxes).tolist() == [False, False, True]


def test_zones_unique_and_lookup() -> None:
    with pytest.raises(ValidationError, match="unique"):
        Zones(zones=(Zone(name="a", points=SQUARE), Zone(name="a", points=SQUARE)))
    zones = Zones(zones=(Zone(name="line", kind="queue", points=SQUARE),))
    assert zones.first("queue").name == "line"
    with pytest.raises(ConfigError, match="no 'counter' zone"):
        zones.first("counter")


def test_queue_config_accepts_yaml_style_zone_list() -> None:
    cfg = QueueConfig.model_validate(
        {
            "zones": [
                {"name": "line", "kind": "queue", "points": SQUARE},
                {"name": "desk", "kind": "counter", "points": [[0, 0], [0.2, 0], [0.2, 0.2]]},
            ]
        }
    )
    assert [z.name for z in cfg.zones.zones] == ["line", "desk"]
    with pytest.raises(ValidationError, match="needs a zone of kind 'queue'"):
        QueueConfig.model_validate({"zones": [{"name": "desk", "kind": "counter", "points": SQUARE}]})
    with pytest.raises(ValidationError, match="counter_unstaffed needs"):
        QueueConfig.model_validate({"zones": [{"name": "line", "kind": "queue", "points": SQUARE}]})


def test_preview_png_on_scene_snapshot(tmp_path: Path) -> None:
    scene = CounterScene(3, view="top", duration_s=30)
    snap = scene.render_luma(20.0, 320, 180)
    snap.flags.writeable = False  # the preview must only read its snapshot
    path = save_zone_preview(snap, scene.zones(), tmp_path / "zones.png")
    png = cv2.imread(str(path), cv2.IMREAD_COLOR)
    assert png.shape == (180, 320, 3)
    rgb = png[:, :, ::-1].astype(int)
    queue = scene.zones()[0]
    ys, xs = np.nonzero(queue.mask((320, 180)))
    inside = rgb[ys, xs]
    assert (inside[:, 0] - inside[:, 2]).mean() > 20  # tinted orange inside the queue zone
    outside = rgb[170:, :10]
    assert np.abs(outside[..., 0] - outside[..., 2]).max() <= 2  # untouched grey far from any zone


def test_preview_from_decoded_frame_and_rgb() -> None:
    scene = CounterScene(3, duration_s=30)
    av_frame = av.VideoFrame.from_ndarray(scene.render(0, 10.0, 160, 90), format="yuv420p")
    frame = Frame(av_frame, time=0.0)
    from_frame = draw_zones(frame, Zones(zones=tuple(scene.zones())))
    assert from_frame.shape == (90, 160, 3) and from_frame.dtype == np.uint8
    rgb = np.zeros((90, 160, 3), np.uint8)
    assert draw_zones(rgb, scene.zones(), labels=False).any()
    assert not rgb.any()  # the input array is not drawn on
    with pytest.raises(InvalidArgument, match="shape"):
        draw_zones(np.zeros((4, 4, 4), np.uint8), scene.zones())
    with pytest.raises(InvalidArgument, match="could not write"):
        save_zone_preview(rgb, scene.zones(), "/nonexistent-dir/zones.png")
