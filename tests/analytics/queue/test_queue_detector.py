"""The CPU background detector on hand-made pictures: blobs, flicker, touching people, ghosts."""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from kedirivms.analytics.queue import BackgroundDetector, BackgroundDetectorConfig, person_detections
from kedirivms.errors import InvalidArgument


def _floor() -> np.ndarray:
    rng = np.random.default_rng(0)
    return np.clip(120 + rng.normal(0, 2, (180, 320)), 0, 255).astype(np.uint8)


def _people(img: np.ndarray, centres: list[tuple[int, int]], luma: int = 40) -> np.ndarray:
    out = img.copy()
    for x, y in centres:
        cv2.ellipse(out, (x, y), (5, 6), 0, 0, 360, luma, -1)
    return out


@pytest.mark.parametrize(
    ("centres", "split", "expected"),
    [
        ([(60, 60), (160, 60)], True, 2),  # apart
        ([(100, 50), (100, 61), (100, 72)], True, 3),  # touching in a vertical line: one blob cut in three
        ([(100, 50), (100, 61), (100, 72)], False, 1),  # without cutting: one blob
        ([(100, 50), (111, 50)], True, 2),  # touching side by side
    ],
)
def test_blobs_and_touching_people(centres: list, split: bool, expected: int) -> None:
    single = np.pi * 5 * 6 / (320 * 180)
    det = BackgroundDetector(BackgroundDetectorConfig(person_area=single, split_merged=split))
    floor = _floor()
    assert len(det.detect(floor, 0.0)) == 0  # the first picture is the background
    frame = _people(floor, centres)
    frame.flags.writeable = False
    found = det.detect(frame, 0.1)
    assert len(found) == expected
    for x, y in centres:  # every person's centre is inside some box
        assert (
            (found.xyxy[:, 0] <= x) & (x <= found.xyxy[:, 2]) & (found.xyxy[:, 1] <= y) & (y <= found.xyxy[:, 3])
        ).any()


def test_flicker_is_not_people() -> None:
    det = BackgroundDetector()
    floor = _floor()
    det.detect(floor, 0.0)
    for i, gain in enumerate((1.08, 0.92, 1.1)):
        assert len(det.detect(np.clip(floor * gain, 0, 255).astype(np.uint8), 0.1 * (i + 1))) == 0


def test_still_person_stays_and_ghost_is_erased() -> None:
    det = BackgroundDetector()
    floor = _floor()
    det.detect(floor, 0.0)
    standing = _people(floor, [(80, 90)])
    for i in range(1, 300):  # 30 s standing still: not learned into the background
        found = det.detect(standing, i * 0.1)
    assert len(found) == 1
    # a person who stood there at start is part of the background; when they leave, the spot is a ghost
    det2 = BackgroundDetector()
    det2.detect(standing, 0.0)
    assert len(det2.detect(floor, 0.1)) == 0  # erased at once: its edges are in the background only
    assert len(det2.detect(standing, 0.2)) == 1  # and the next person there is seen


def test_bad_input() -> None:
    det = BackgroundDetector()
    with pytest.raises(InvalidArgument, match="uint8"):
        det.detect(np.zeros((10, 10), np.float32), 0.0)
    det.detect(np.zeros((90, 160), np.uint8), 0.0)
    with pytest.raises(InvalidArgument, match="size changed"):
        det.detect(np.zeros((180, 320), np.uint8), 0.1)


SINGLE = (5, 6)  # half-axes of the reference person, px


def _shape(img: np.ndarray, parts: list[tuple[int, int, int, int]], luma: int = 40) -> np.ndarray:
    out = img.copy()
    for x, y, ax, ay in parts:
        cv2.ellipse(out, (x, y), (ax, ay), 0, 0, 360, luma, -1)
    return out


def _warmed_up(config: BackgroundDetectorConfig, floor: np.ndarray) -> BackgroundDetector:
    """A detector that has seen people walking alone (so it has learned one person's size)."""
    det = BackgroundDetector(config)
    det.detect(floor, 0.0)
    lone = [(40 + 60 * i, 140, *SINGLE) for i in range(5)]
    for i in range(6):
        det.detect(_shape(floor, lone), 0.1 * (i + 1))
    det.detect(floor, 0.7)
    return det


@pytest.mark.parametrize("learned", [False, True], ids=["person_area", "learned"])
@pytest.mark.parametrize(
    ("parts", "expected"),
    [
        pytest.param([(100, 60, 5, 9)], 1, id="tall-person"),  # 1.5x the area of one person
        pytest.param([(100, 60, 8, 8)], 1, id="bulky-person"),  # 2.1x
        pytest.param([(100, 60, 5, 6), (100, 51, 3, 3)], 1, id="head-and-shoulders"),  # a neck is no waist
        pytest.param([(100, 50, 5, 6), (100, 61, 5, 6)], 2, id="two-in-line"),
        pytest.param([(100, 50, 5, 6), (111, 50, 5, 6)], 2, id="two-side-by-side"),
        pytest.param([(100, 50, 6, 7), (100, 63, 5, 6), (100, 75, 6, 6)], 3, id="three-of-varied-size"),
        pytest.param([(100, 40 + 11 * i, 5, 6) for i in range(5)], 5, id="five-in-line"),
    ],
)
def test_only_shape_cuts_a_blob(parts: list, expected: int, learned: bool) -> None:
    single = np.pi * SINGLE[0] * SINGLE[1] / (320 * 180)
    config = BackgroundDetectorConfig(person_area=None if learned else single)
    floor = _floor()
    det = _warmed_up(config, floor)
    frame = _shape(floor, parts)
    frame.flags.writeable = False
    found = det.detect(frame, 1.0)
    assert len(found) == expected


def test_a_still_line_of_low_contrast_people_stays_counted() -> None:
    # four people touching in a line, clothes close to the floor's grey (30 over it, noise sigma 4), standing
    # still for 60 s while the clerk is away: neither the background nor the measure of one person drifts
    rng = np.random.default_rng(1)
    base = np.full((180, 320), 120.0)
    line = [(100, 50 + 15 * i, 6, 8) for i in range(4)]

    def picture(parts: list) -> np.ndarray:
        img = base.copy()
        for x, y, ax, ay in parts:
            cv2.ellipse(img, (x, y), (ax, ay), 0, 0, 360, 150, -1)
        return np.clip(img + rng.normal(0, 4, img.shape), 0, 255).astype(np.uint8)

    det = BackgroundDetector()
    det.detect(picture([]), 0.0)
    t = 0.0
    for i in range(30):  # people walking alone first: one person's size is learned
        t += 0.2
        det.detect(picture([(40 + 60 * k + i, 150, 6, 8) for k in range(4)]), t)
    counts = []
    for _ in range(300):
        t += 0.2
        counts.append(len(det.detect(picture(line), t)))
    got = np.asarray(counts)
    assert [float(np.median(got[i : i + 50])) for i in range(0, 300, 50)] == [4.0] * 6  # every 10 s
    assert np.abs(got - 4).mean() <= 0.1  # a noisy frame now and then, no drift


def test_person_detections_from_plain_boxes() -> None:
    det = person_detections([[1, 2, 3, 4], [5, 6, 7, 8]], 0.5, tracker_id=[7, 9])
    assert det.xyxy.dtype == np.float32 and det.xyxy.shape == (2, 4)
    assert det.confidence.tolist() == [0.5, 0.5] and det.class_id.tolist() == [0, 0]
    assert det.tracker_id.tolist() == [7, 9]
    empty = person_detections([], 0.9)
    assert empty.xyxy.shape == (0, 4) and empty.confidence is not None and empty.tracker_id is None
    with pytest.raises(ValueError):
        person_detections([[1, 2, 3, 4]], [0.1, 0.2])  # one score per box, or one for all
