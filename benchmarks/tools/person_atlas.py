"""Regenerate the counter scene's person sprite atlas from OpenCV's sample clip ``vtest.avi``.

The clip is real outdoor CCTV (768x576, 10 fps) shipped by the Debian package ``opencv-doc`` (4.6.0+dfsg-12,
``/usr/share/doc/opencv-doc/examples/data/vtest.avi``; licence Apache-2.0 AND BSD-3-Clause per its
``debian/copyright``). Each sprite is one isolated, whole pedestrian: the crop rectangles below were picked by
eye from candidate foreground blobs; the alpha mask is the difference to a median background over the clip.

Usage::

    apt-get download opencv-doc && dpkg-deb -x opencv-doc_*.deb /tmp/deb
    python benchmarks/tools/person_atlas.py /tmp/deb/usr/share/doc/opencv-doc/examples/data/vtest.avi

writes ``src/kedirivms/sim/assets/people.png`` (RGBA, sprites side by side in rows) and ``people.json``
(one ``[x, y, w, h]`` rectangle per sprite in the PNG, plus the source frame and rectangle).
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import cv2
import numpy as np

# (frame index, x, y, w, h) in vtest.avi: isolated whole people, varied clothing, walking and standing
PICKS = [
    (0, 639, 241, 47, 85),
    (60, 616, 235, 34, 107),
    (240, 656, 272, 52, 110),
    (432, 671, 267, 32, 101),
    (528, 463, 196, 33, 91),
    (552, 592, 165, 33, 79),
    (588, 308, 323, 59, 124),
    (660, 616, 178, 30, 82),
    (660, 685, 296, 43, 118),
    (660, 296, 357, 62, 135),
    (696, 716, 220, 36, 95),
    (744, 148, 210, 27, 79),
    (792, 432, 272, 42, 106),
    (120, 689, 217, 39, 87),
    (144, 484, 186, 41, 80),
    (216, 627, 298, 33, 119),
    (252, 582, 252, 38, 103),
    (444, 588, 251, 32, 97),
    (672, 542, 265, 45, 106),
]
PAD = 3  # pixels of context around each rectangle
ROW_WIDTH = 420  # atlas row width, pixels


def read_clip(path: Path) -> list[np.ndarray]:
    cap = cv2.VideoCapture(str(path))
    frames = []
    while True:
        ok, frame = cap.read()
        if not ok:
            break
        frames.append(frame)
    cap.release()
    if not frames:
        raise SystemExit(f"could not read any frame from {path}")
    return frames


def cut(frame: np.ndarray, bg: np.ndarray, rect: tuple[int, int, int, int]) -> np.ndarray:
    """One BGRA sprite: the crop with alpha = the largest foreground blob, holes filled, edges feathered."""
    x, y, w, h = rect
    x0, y0 = max(x - PAD, 0), max(y - PAD, 0)
    x1, y1 = min(x + w + PAD, frame.shape[1]), min(y + h + PAD, frame.shape[0])
    crop, back = frame[y0:y1, x0:x1].astype(np.float32), bg[y0:y1, x0:x1].astype(np.float32) + 1.0
    # the camera's exposure drifts: match the background to the crop on the crop's border (mostly background)
    border = np.concatenate(
        [crop[:2].reshape(-1, 3), crop[-2:].reshape(-1, 3), crop[:, :2].reshape(-1, 3), crop[:, -2:].reshape(-1, 3)]
    )
    bborder = np.concatenate(
        [back[:2].reshape(-1, 3), back[-2:].reshape(-1, 3), back[:, :2].reshape(-1, 3), back[:, -2:].reshape(-1, 3)]
    )
    back = back * np.median(border / bborder, axis=0)
    ratio = crop / back
    # a shadow darkens the ground evenly in the three channels: not part of the person
    shadow = (ratio.max(axis=2) < 0.95) & (ratio.min(axis=2) > 0.45) & (np.ptp(ratio, axis=2) < 0.12)
    diff = np.abs(crop - back).max(axis=2)
    b, g, r = crop[..., 0], crop[..., 1], crop[..., 2]
    litter = (g > 120) & (r > 120) & (b < 0.55 * np.minimum(r, g))  # the yellow litter on the lawn
    mask = ((diff > 26) & ~shadow & ~litter).astype(np.uint8)
    mask = cv2.morphologyEx(mask, cv2.MORPH_CLOSE, cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (5, 5)))
    n, labels, stats, _ = cv2.connectedComponentsWithStats(mask)
    mask = (labels == 1 + int(np.argmax(stats[1:n, 4]))).astype(np.uint8)
    outside = mask.copy()
    cv2.floodFill(outside, np.zeros((mask.shape[0] + 2, mask.shape[1] + 2), np.uint8), (0, 0), 2)
    mask[outside == 0] = 1  # holes inside the body
    mask = cv2.morphologyEx(mask, cv2.MORPH_OPEN, np.ones((3, 3), np.uint8))
    alpha = cv2.GaussianBlur(mask.astype(np.float32), (3, 3), 0)
    ys, xs = np.nonzero(alpha > 0.05)
    sl = np.s_[ys.min() : ys.max() + 1, xs.min() : xs.max() + 1]
    return np.dstack([frame[y0:y1, x0:x1], (alpha * 255).round().astype(np.uint8)])[sl]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("clip", type=Path, help="path to vtest.avi")
    ap.add_argument("--out", type=Path, default=Path(__file__).parents[2] / "src/kedirivms/sim/assets")
    args = ap.parse_args()
    frames = read_clip(args.clip)
    bg = np.median(np.stack(frames[::5]), axis=0).astype(np.uint8)
    sprites = [cut(frames[i], bg, (x, y, w, h)) for i, x, y, w, h in PICKS]
    rects, rows, row, x, row_h, y = [], [], [], 0, 0, 0
    for s in sprites:
        if x + s.shape[1] > ROW_WIDTH:
            rows.append((row, row_h))
            y += row_h
            row, x, row_h = [], 0, 0
        rects.append([x, y, s.shape[1], s.shape[0]])
        row.append(s)
        x += s.shape[1]
        row_h = max(row_h, s.shape[0])
    rows.append((row, row_h))
    atlas = np.zeros((y + row_h, ROW_WIDTH, 4), np.uint8)
    for s, (rx, ry, rw, rh) in zip(sprites, rects, strict=True):
        atlas[ry : ry + rh, rx : rx + rw] = s
    args.out.mkdir(parents=True, exist_ok=True)
    cv2.imwrite(str(args.out / "people.png"), atlas, [cv2.IMWRITE_PNG_COMPRESSION, 9])
    doc = {
        "source": "vtest.avi from Debian opencv-doc 4.6.0+dfsg-12 (Apache-2.0 AND BSD-3-Clause)",
        "sprites": [{"rect": r, "frame": p[0], "source_rect": list(p[1:])} for r, p in zip(rects, PICKS, strict=True)],
    }
    (args.out / "people.json").write_text(json.dumps(doc, indent=1) + "\n")
    size = (args.out / "people.png").stat().st_size
    print(f"{len(sprites)} sprites, atlas {atlas.shape[1]}x{atlas.shape[0]}, {size / 1024:.0f} kB -> {args.out}")


if __name__ == "__main__":
    main()
