"""The CPU background detector on hand-made pictures: blobs, flicker, touching people, ghosts."""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from kedirivms.analytics.queue import BackgroundDetector, BackgroundDetectorConfig
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
