"""Cut-outs of real people for ``composite_counter.py``: background subtraction, tracking and clean sequences.

Each source clip is decoded, its empty background estimated (a temporal median, or for a clip that starts empty
and has long still visits, the median of the frames that match its first seconds), moving people segmented
against it (colour difference, shadow pixels removed, holes filled), followed frame to frame by connected
components and nearest-box linking (with a short coast across occlusions) and cut into runs of clean frames:
not touching the picture's edge (nor the head cut by it), no other blob nearby, one head, a plausible person
shape, a steady height. A run is cut where its colours jump (the tracker swapped people), and is ``walk`` (feet
moving) or ``stand`` (feet still). Crops keep a soft alpha (blurred mask). ``Appearance`` animates one person
(walk cycles, standing frames, recoloured clothes) and ``draw_person`` composites them.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import cv2
import numpy as np

MAX_CROP_H = 150  # crops are stored at most this tall (the scene draws people <= ~100 px)


@dataclass
class Frame:
    """One cut-out: RGBA crop (BGR + alpha, uint8) and its feet point (bottom-centre of the mask) in the crop."""

    rgba: np.ndarray
    foot: tuple[float, float]
    height: float  # person height in the crop, px
    src_index: int  # frame number in the source clip


@dataclass
class Run:
    """Consecutive clean frames of one person, walking or standing."""

    kind: str  # "walk" or "stand"
    frames: list[Frame]
    step: tuple[float, float]  # mean feet motion per source frame, source px (dx, dy)
    rate: float = 10.0  # frames kept per second of the source
    foot_y: float = 0.0  # mean feet row in the source, px
    loop: tuple[int, int] = (0, 0)  # a walking cycle: frames[loop[0]:loop[1]] repeat smoothly


@dataclass
class Identity:
    """A real person from a clip, with their walking and standing runs."""

    clip: str
    track: str
    walk: list[Run] = field(default_factory=list)
    stand: list[Run] = field(default_factory=list)
    samples: list[tuple[float, float]] = field(default_factory=list)  # (feet y, height) in the source, px
    signature: np.ndarray = field(default_factory=lambda: np.zeros(0, np.float32))  # colour histogram
    head: float = 0.84  # clothes end (the head begins) at this fraction of the height

    @property
    def name(self) -> str:
        """``clip#track``."""
        return f"{self.clip}#{self.track}"


@dataclass
class Source:
    """A clip to cut people from and how to segment it."""

    path: Path
    label: str
    threshold: int = 28  # colour difference (max over channels) that counts as foreground
    empty_start_s: float = 0.0  # > 0: the clip starts empty for this long (robust background from those frames)
    min_height: int = 40  # people shorter than this (px, at work scale) are ignored
    work_scale: float = 1.0  # crops are cut at this scale of the clip
    track_scale: float = 0.5  # people are found and followed at this scale of the work frames
    shadows: bool = True  # remove cast shadows everywhere while tracking (outdoor, grey floor)
    shadow_band: float = 0.12  # cut-outs: remove shadow pixels in this bottom fraction of the person (at the feet)
    shadow_tol: float = 0.07  # how far a shadow pixel's channel ratios may spread (a coloured floor tints shadows)
    floor_key: bool = False  # also drop floor-coloured pixels at the feet (a saturated floor such as wood)
    crowded: bool = True  # people may walk together: a cut-out in two blobs may be two people (dropped)
    head: float = 0.84  # the head (and hair) starts at this fraction of the height (a camera above: lower)
    every: int = 1  # keep every n-th frame of standing runs


def frames_of(src: Source) -> Iterator[np.ndarray]:
    """The clip's frames (BGR uint8) at the source's work scale."""
    cap = cv2.VideoCapture(str(src.path))
    try:
        while True:
            ok, frame = cap.read()
            if not ok:
                return
            if src.work_scale != 1.0:
                frame = cv2.resize(frame, None, fx=src.work_scale, fy=src.work_scale, interpolation=cv2.INTER_AREA)
            yield frame
    finally:
        cap.release()


def background(src: Source) -> tuple[np.ndarray, float]:
    """A robust empty-scene estimate and the clip's frame rate.

    The temporal median of ~120 frames spread over the clip; for a clip where visitors stand still for long
    (``empty_start_s`` > 0), the median of only those frames that match the clip's empty first seconds.
    """
    cap = cv2.VideoCapture(str(src.path))
    fps = float(cap.get(cv2.CAP_PROP_FPS) or 10.0)
    total = int(cap.get(cv2.CAP_PROP_FRAME_COUNT) or 0)
    cap.release()
    step = max(1, total // 120)
    head = max(3, int(src.empty_start_s * fps))
    sample = [f for i, f in enumerate(frames_of(src)) if i % step == 0 or i < head]
    if src.empty_start_s <= 0:
        return np.median(np.stack(sample[::1]), axis=0).astype(np.uint8), fps
    ref = np.median(np.stack(sample[:head]), axis=0).astype(np.int16)
    empty = [f for f in sample if (np.abs(f.astype(np.int16) - ref).max(-1) > 30).mean() < 0.004]
    return np.median(np.stack(empty if len(empty) >= 5 else sample[:head]), axis=0).astype(np.uint8), fps


_K3 = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (3, 3))


def foreground(frame: np.ndarray, bg: np.ndarray, threshold: int, shadows: float = 0.0, close: int = 5) -> np.ndarray:
    """Foreground mask (uint8 0/1): colour change, without shadow pixels if ``shadows`` > 0.

    A shadow pixel is darker than the background (ratio 0.3-0.9) with each channel's ratio within ``shadows`` of
    their mean (a shadow keeps the floor's colour).
    """
    diff = np.abs(frame.astype(np.int16) - bg.astype(np.int16)).max(-1) > threshold
    if shadows > 0:
        ratio = (frame.astype(np.float32) + 1.0) / (bg.astype(np.float32) + 1.0)
        mean = ratio.mean(-1)
        diff &= ~((mean > 0.3) & (mean < 0.9) & (np.abs(ratio - mean[..., None]).max(-1) < shadows))
    mask = cv2.morphologyEx(diff.astype(np.uint8), cv2.MORPH_OPEN, _K3, borderType=cv2.BORDER_CONSTANT, borderValue=0)
    kernel = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (close, 2 * close - 1))
    return cv2.morphologyEx(mask, cv2.MORPH_CLOSE, kernel, borderType=cv2.BORDER_CONSTANT, borderValue=0)


def _fill_holes(mask: np.ndarray) -> np.ndarray:
    """Fill holes enclosed by the mask (not the gap between the legs, which opens at the bottom)."""
    h, w = mask.shape
    flood = np.zeros((h + 2, w + 2), np.uint8)
    flood[1:-1, 1:-1] = mask
    cv2.floodFill(flood, None, (0, 0), 1)
    return (mask.astype(bool) | (flood[1:-1, 1:-1] == 0)).astype(np.uint8)


def _leg_spread(f: Frame) -> float:
    """Width of the mask's lowest eighth relative to the height: small when the feet are together."""
    rows = f.rgba[int(f.foot[1] - 0.12 * f.height) : int(f.foot[1]) + 1, :, 3]
    cols = np.where(rows.max(0) > 128)[0] if rows.size else np.array([])
    return float(cols[-1] - cols[0]) / f.height if len(cols) else 1.0


Box = tuple[int, int, int, int, int]  # (frame, x, y, w, h) at work scale


@dataclass
class _Track:
    tid: int
    boxes: list[Box]
    missed: int = 0


def _track(src: Source, bg: np.ndarray) -> list[_Track]:
    """Connected components followed by nearest-box linking on the feet point, with a short coast."""
    s = src.track_scale
    small_bg = cv2.resize(bg, None, fx=s, fy=s, interpolation=cv2.INTER_AREA)
    done: list[_Track] = []
    active: list[_Track] = []
    next_id = 0
    for i, frame in enumerate(frames_of(src)):
        small = cv2.resize(frame, None, fx=s, fy=s, interpolation=cv2.INTER_AREA)
        _, _, stats, _ = cv2.connectedComponentsWithStats(
            foreground(small, small_bg, src.threshold, 0.07 * src.shadows)
        )
        blobs = [
            (int(st[0] / s), int(st[1] / s), int(st[2] / s), int(st[3] / s))
            for j, st in enumerate(stats)
            if j and st[4] * s**-2 > 0.04 * src.min_height**2
        ]
        used: set[int] = set()
        keep: list[_Track] = []
        for tr in active:
            _, x, y, w, h = tr.boxes[-1]
            best, best_d = -1, 0.35 * h + 3.0 * tr.missed
            for k, (bx, by, bw, bh) in enumerate(blobs):
                d = abs(bx + bw / 2 - x - w / 2) + abs(by + bh - y - h)
                if k not in used and d < best_d and 0.7 < bh / max(h, 1) < 1.4:
                    best, best_d = k, d
            if best >= 0:
                used.add(best)
                tr.boxes.append((i, *blobs[best]))
                tr.missed = 0
                keep.append(tr)
            elif tr.missed < 6:
                tr.missed += 1
                keep.append(tr)
            else:
                done.append(tr)
        for k, b in enumerate(blobs):
            if k not in used:
                keep.append(_Track(next_id, [(i, *b)]))
                next_id += 1
        active = keep
    return done + active


def _clean(
    boxes: list[Box],
    others: dict[int, list[tuple[int, int, int, int]]],
    shape: tuple[int, ...],
    src: Source,
    exclude: list[tuple[int, int, int, int]],
) -> list[bool]:
    """Which of a track's boxes are clean: whole, isolated, person-shaped, of steady height, clear of occluders."""
    hs = np.array([b[4] for b in boxes], dtype=np.float64)
    out = []
    for k, (fi, x, y, w, h) in enumerate(boxes):
        ref = float(np.median(hs[max(0, k - 10) : k + 11]))
        ok = (
            h >= src.min_height
            and 0.2 * h < w < 0.75 * h
            and abs(h - ref) < 0.07 * ref
            and x > 2
            and x + w < shape[1] - 2
            and y + h < shape[0] - 2
        )
        m = int(0.25 * h)
        for ox, oy, ow, oh in others.get(fi, []):
            if (
                (ox, oy, ow, oh) != (x, y, w, h)
                and ox < x + w + m
                and x - m < ox + ow
                and oy < y + h + m
                and y - m < oy + oh
            ):
                ok = False
        for ex, ey, ew, eh in exclude:
            if ex < x + w + 3 and x - 3 < ex + ew and ey < y + h + 3 and y - 3 < ey + eh:
                ok = False
        out.append(ok)
    return out


def _crop(frame: np.ndarray, bg: np.ndarray, box: Box, src: Source) -> Frame | None:
    """Soft-alpha cut-out of the person in a box, segmented again at work scale (None if it is not whole)."""
    fi, x, y, w, h = box
    m = max(4, h // 8)
    y0, y1, x0, x1 = max(0, y - m), min(frame.shape[0], y + h + m), max(0, x - m), min(frame.shape[1], x + w + m)
    close = max(3, h // 40) | 1
    mask = foreground(frame[y0:y1, x0:x1], bg[y0:y1, x0:x1], src.threshold, 0.0, close)
    if src.shadow_band > 0:  # shadows are cut only near the feet, where they fall (grey clothes stay)
        feet = foreground(frame[y0:y1, x0:x1], bg[y0:y1, x0:x1], src.threshold, src.shadow_tol, close)
        band = np.arange(y1 - y0)[:, None] > (y + h - y0) - src.shadow_band * h
        if src.floor_key:  # a saturated floor (wood) keeps its hue in the shade and in reflections
            hsv = cv2.cvtColor(frame[y0:y1, x0:x1], cv2.COLOR_BGR2HSV).astype(np.int16)
            ref = cv2.cvtColor(bg[y0:y1, x0:x1], cv2.COLOR_BGR2HSV).astype(np.int16)
            hue = np.abs(hsv[..., 0] - ref[..., 0])
            floor = (np.minimum(hue, 180 - hue) < 7) & (ref[..., 1] > 90) & (hsv[..., 1] > 0.6 * ref[..., 1])
            feet = feet & ~floor.astype(np.uint8)
        mask = np.where(band, feet, mask)
    thin = max(3, h // 25) | 1  # thin strands (a flicker line, a strap) are not the person's outline
    kernel = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (thin, thin))
    mask = cv2.morphologyEx(mask, cv2.MORPH_OPEN, kernel, borderType=cv2.BORDER_CONSTANT, borderValue=0)
    n, lab, stats, _ = cv2.connectedComponentsWithStats(mask)
    cx0, cx1, cy0, cy1 = x - x0 + 0.1 * w, x - x0 + 0.9 * w, y - y0 + 0.05 * h, y - y0 + 0.98 * h
    parts = [
        j
        for j in range(1, n)
        if stats[j][0] < cx1
        and stats[j][0] + stats[j][2] > cx0
        and stats[j][1] < cy1
        and stats[j][1] + stats[j][3] > cy0
        and stats[j][4] > 0.002 * h * h
    ]
    if not parts:
        return None
    areas = sorted((int(stats[j][4]) for j in parts), reverse=True)
    if src.crowded and len(areas) > 1 and areas[1] > 0.06 * areas[0]:
        return None  # two blobs: two people, or one cut in two
    main = max(parts, key=lambda j: int(stats[j][4]))
    mx0, mx1 = stats[main][0], stats[main][0] + stats[main][2]

    def beside(j: int) -> bool:  # a small blob off the body's side: something held out (a sheet of paper)
        jx0, jx1 = stats[j][0], stats[j][0] + stats[j][2]
        return bool(stats[j][4] < 0.1 * stats[main][4] and min(jx1, mx1) - max(jx0, mx0) < 0.5 * stats[j][2])

    parts = [j for j in parts if j == main or not beside(j)]
    mask = np.isin(lab, parts).astype(np.uint8)
    feet_rows = np.arange(y1 - y0)[:, None] > (y + h - y0) - 0.3 * h
    mask = np.where(feet_rows, mask, _fill_holes(mask))  # the gap between the legs stays open
    ys, xs = np.nonzero(mask)
    top, bottom, left, right = ys.min(), ys.max() + 1, xs.min(), xs.max() + 1
    if min(top, left) < 2 or bottom > mask.shape[0] - 2 or right > mask.shape[1] - 2:
        return None  # the person runs out of the margin: merged with something
    if y0 + top < 0.1 * h:  # near the picture's top: is the head cut? (the raw difference, before any smoothing)
        diff = np.abs(frame[:2, x0 + left : x0 + right].astype(np.int16) - bg[:2, x0 + left : x0 + right]).max(-1)
        if int((diff > src.threshold).sum()) > 2:
            return None
    hh = float(bottom - top)
    if abs(hh - h) > 0.12 * h or right - left > 0.8 * hh:
        return None
    head = mask[top : top + int(0.15 * hh)]
    cols = np.nonzero(head.max(0))[0]
    if cols[-1] - cols[0] > 0.35 * hh or cv2.connectedComponents(head)[0] > 2:
        return None  # two heads: two people walking together
    if h > 120:
        mask = cv2.erode(mask, _K3)
    alpha = cv2.GaussianBlur(mask.astype(np.float32), (0, 0), max(0.7, h / 160))
    rgba = np.dstack([frame[y0:y1, x0:x1], np.clip(alpha * 255, 0, 255).astype(np.uint8)])
    foot = ((float(left) + float(right)) / 2, float(bottom))
    scale = min(1.0, MAX_CROP_H / rgba.shape[0])
    if scale < 1.0:
        rgba = cv2.resize(rgba, None, fx=scale, fy=scale, interpolation=cv2.INTER_AREA)
    return Frame(rgba, (foot[0] * scale, foot[1] * scale), hh * scale, fi)


def _hist(f: Frame) -> np.ndarray:
    """Colour signature of a cut-out: HSV histograms of its upper and lower halves."""
    hsv = cv2.cvtColor(np.ascontiguousarray(f.rgba[..., :3]), cv2.COLOR_BGR2HSV)
    a = (f.rgba[..., 3] > 160).astype(np.uint8)
    mid = int(f.foot[1] - 0.5 * f.height)
    out = []
    for sl in (slice(0, mid), slice(mid, None)):
        hist = cv2.calcHist([hsv[sl]], [0, 1, 2], a[sl], [6, 3, 4], [0, 180, 0, 256, 0, 256])
        out.append(cv2.normalize(hist, None).flatten())
    return np.concatenate(out)


def _differ(a: np.ndarray, b: np.ndarray) -> float:
    """Bhattacharyya distance of two signatures (0 same, 1 disjoint)."""
    return float(cv2.compareHist(a.astype(np.float32), b.astype(np.float32), cv2.HISTCMP_BHATTACHARYYA))


def _loop(frames: list[Frame]) -> tuple[int, int]:
    """A walking cycle: the pair of frames at least 8 apart whose silhouettes match best."""
    n = len(frames)
    if n < 12:
        return 0, n

    def sil(f: Frame) -> np.ndarray:
        s = 32.0 / f.height
        mtx = np.array([[s, 0, 16 - f.foot[0] * s], [0, s, 36 - f.foot[1] * s]], dtype=np.float32)
        return cv2.warpAffine(f.rgba[..., 3].astype(np.float32), mtx, (32, 40)) / 255.0

    sils = [sil(f) for f in frames]
    best, pair = 1e9, (0, n)
    for i in range(0, n - 8):
        for j in range(i + 8, min(n, i + 30)):
            d = float(np.abs(sils[i] - sils[j]).mean()) - 0.002 * (j - i)
            if d < best:
                best, pair = d, (i, j)
    return pair


def extract(src: Source, exclude: list[tuple[int, int, int, int]] | None = None) -> tuple[list[Identity], np.ndarray]:
    """Identities (with clean walking and standing runs) found in a clip, and the clip's background (work scale).

    ``exclude``: boxes (x, y, w, h, work scale) of fixed occluders (a lamp post): frames touching them are dropped.
    """
    bg, fps = background(src)
    tracks = [t for t in _track(src, bg) if len(t.boxes) >= 12]
    others: dict[int, list[tuple[int, int, int, int]]] = {}
    for tr in tracks:
        for fi, *xywh in tr.boxes:
            others.setdefault(fi, []).append((xywh[0], xywh[1], xywh[2], xywh[3]))
    stretches: list[tuple[_Track, list[Box]]] = []
    for tr in tracks:
        clean = _clean(tr.boxes, others, bg.shape, src, exclude or [])
        run: list[Box] = []
        for ok, b in zip(clean, tr.boxes, strict=True):
            if ok and (not run or b[0] == run[-1][0] + 1):
                run.append(b)
                continue
            if len(run) >= 8:
                stretches.append((tr, run))
            run = [b] if ok else []
        if len(run) >= 8:
            stretches.append((tr, run))
    wanted: dict[int, list[Box]] = {}
    for _, run in stretches:
        for b in run:
            wanted.setdefault(b[0], []).append(b)
    crops: dict[Box, Frame] = {}
    for i, frame in enumerate(frames_of(src)):
        for b in wanted.get(i, []):
            c = _crop(frame, bg, b, src)
            if c is not None:
                crops[b] = c
    people: list[Identity] = []
    for tr, run in stretches:
        for part in _split(run, crops, 0.3 if src.crowded else 0.6):
            sig = np.mean([_hist(c) for _, c in part], axis=0)
            mine = [p for p in people if p.track.split(".")[0] == str(tr.tid)]
            same = [p for p in mine if _differ(p.signature, sig) < 0.3]  # the tracker may swap people
            ident = same[0] if same else Identity(src.label, f"{tr.tid}.{len(mine)}" if mine else str(tr.tid))
            ident.head = src.head
            if not same:
                ident.signature = sig
                people.append(ident)
            _add_run(ident, part, src, fps)
    return _distinct(people), bg


def _split(run: list[Box], crops: dict[Box, Frame], jump: float) -> list[list[tuple[Box, Frame]]]:
    """Cut a stretch where a crop is missing or the colours jump (the tracker swapped people)."""
    parts: list[list[tuple[Box, Frame]]] = [[]]
    sig: np.ndarray | None = None
    for b in run:
        c = crops.get(b)
        if c is None:
            parts.append([])
            sig = None
            continue
        h = _hist(c)
        if sig is not None and _differ(sig, h) > jump:
            parts.append([])
            sig = None
        parts[-1].append((b, c))
        sig = h if sig is None else 0.8 * sig + 0.2 * h
    return [p for p in parts if len(p) >= 8]


def _add_run(ident: Identity, part: list[tuple[Box, Frame]], src: Source, fps: float) -> None:
    """Split a clean part into walking and standing runs by feet speed (person heights per frame)."""
    feet = np.array([(x + w / 2, y + h) for (_, x, y, w, h), _ in part], dtype=np.float64)
    ref = float(np.median([b[4] for b, _ in part]))
    n = len(part)
    speed = np.array([np.hypot(*(feet[min(n - 1, k + 4)] - feet[max(0, k - 4)])) / 8 / ref for k in range(n)])
    moving = speed > 0.012
    k = 0
    while k < n:
        e = k
        while e + 1 < n and moving[e + 1] == moving[k]:
            e += 1
        if e - k + 1 >= (10 if moving[k] else 15):
            kind = "walk" if moving[k] else "stand"
            frames = [c for _, c in part[k : e + 1]][:: 1 if kind == "walk" else src.every]
            step = (feet[e] - feet[k]) / max(1, e - k)
            every = 1 if kind == "walk" else src.every
            run = Run(kind, frames, (float(step[0]), float(step[1])), fps / every)
            run.foot_y = float(feet[k : e + 1, 1].mean())
            if kind == "walk":
                # walk-outs that start with a turn (a visitor leaving a stand): cycle the last strides only
                run.loop = _loop(frames) if src.crowded else (max(0, len(frames) - 9), len(frames))
                ident.walk.append(run)
            else:
                ident.stand.append(run)
            ident.samples += [(float(b[2] + b[4]), float(b[4])) for b, _ in part[k : e + 1]]
        k = e + 1


def _distinct(people: list[Identity]) -> list[Identity]:
    """Drop people with no usable run, and a track whose colours match a longer one (maybe the same person)."""
    people = [p for p in people if p.walk or p.stand]
    out: list[Identity] = []
    for p in sorted(people, key=lambda p: -sum(len(r.frames) for r in p.walk + p.stand)):
        if all(_differ(q.signature, p.signature) >= 0.2 for q in out):
            out.append(p)
    return out


def fit_height(people: list[Identity]) -> tuple[float, float]:
    """Person height vs feet y, ``h = a + b * y`` (source px), robust linear fit over clean samples."""
    pts = np.array([s for p in people for s in p.samples], dtype=np.float64)
    ys, hs = pts[:, 0], pts[:, 1]
    for _ in range(5):
        b, a = np.polyfit(ys, hs, 1)
        r = hs - (a + b * ys)
        s = 1.5 * float(np.median(np.abs(r))) + 1e-6
        keep = np.abs(r) < 2.5 * s
        ys, hs = ys[keep], hs[keep]
    b, a = np.polyfit(ys, hs, 1)
    return float(a), float(b)


def recolour(rgba: np.ndarray, foot_y: float, height: float, look: dict[str, float], head: float = 0.85) -> np.ndarray:
    """Clothes changed below the head: per band (torso, legs) a new muted colour, a brightness gain, or a blend
    towards the floor's grey that keeps the folds.

    ``head``: where the head begins (fraction of the height). ``look`` keys: ``top_hue`` (target hue, degrees),
    ``top_sat`` (minimum saturation 0-1 where the cloth is not black), ``top_gain``, ``top_grey`` (0-1) and the
    same with ``leg_``; ``grey_level`` the grey's brightness.
    """
    out = rgba.copy()
    bgr = rgba[..., :3]
    hsv = cv2.cvtColor(bgr, cv2.COLOR_BGR2HSV).astype(np.float32)
    rows = np.arange(rgba.shape[0], dtype=np.float32)
    rel = (foot_y - rows) / max(height, 1.0)  # 1 at the head's top, 0 at the feet
    top_w = np.clip((head - rel) / 0.06, 0, 1) * np.clip((rel - 0.44) / 0.07, 0, 1)
    leg_w = np.clip((0.5 - rel) / 0.07, 0, 1)
    res = bgr.astype(np.float32)
    solid = rgba[..., 3] > 128
    for band, w in (("top", top_w), ("leg", leg_w)):
        h2 = hsv.copy()
        if look[f"{band}_sat"] > 0:  # a new colour: the target hue, at least this saturation where not black
            h2[..., 0] = look[f"{band}_hue"] / 2.0
        tint = look[f"{band}_sat"] * 255 * np.clip((h2[..., 2] - 25) / 40, 0, 1)
        h2[..., 1] = np.minimum(np.maximum(h2[..., 1], tint), 130)
        h2[..., 2] = np.clip(h2[..., 2] * look[f"{band}_gain"], 0, 255)
        col = cv2.cvtColor(h2.astype(np.uint8), cv2.COLOR_HSV2BGR).astype(np.float32)
        grey = look[f"{band}_grey"]
        sel = (w[:, None] > 0.5) & solid
        if grey > 0 and sel.any():
            lum = col.mean(-1, keepdims=True)
            flat = look["grey_level"] + 0.9 * (lum - float(lum[sel].mean()))
            col = ((1 - grey) * col + grey * np.repeat(flat, 3, -1)).astype(np.float32)
        res = res * (1 - w[:, None, None]) + col * w[:, None, None]
    out[..., :3] = np.clip(res, 0, 255).astype(np.uint8)
    return out


def premultiply(rgba: np.ndarray) -> np.ndarray:
    """float32 (h, w, 4): colour times alpha, alpha in 0-1 (so that resampling does not leak the clip's floor)."""
    out = rgba.astype(np.float32)
    out[..., 3] /= 255.0
    out[..., :3] *= out[..., 3:]
    return out


def blend(img: np.ndarray, pm: np.ndarray, x: int, y: int) -> None:
    """Composite a premultiplied patch onto a float32 BGR picture with its top-left at (x, y), clipped."""
    h, w = pm.shape[:2]
    x0, y0, x1, y1 = max(x, 0), max(y, 0), min(x + w, img.shape[1]), min(y + h, img.shape[0])
    if x1 <= x0 or y1 <= y0:
        return
    patch = pm[y0 - y : y1 - y, x0 - x : x1 - x]
    roi = img[y0:y1, x0:x1]
    roi *= 1.0 - patch[..., 3:]
    roi += patch[..., :3]


@dataclass
class Sprite:
    """One person on one frame: which cut-out (and whose clothes), its scale and where the feet go."""

    app: Appearance
    frame: Frame
    k: float  # crop px -> picture px
    foot: tuple[float, float]  # picture point of the feet
    mirror: bool
    shadow_px: float  # width of the contact shadow, px (0: none)


def draw_person(img: np.ndarray, s: Sprite) -> None:
    """A soft contact shadow, then the cut-out scaled and placed (sub-pixel) with its feet on ``s.foot``."""
    if s.shadow_px > 2:
        sw, sh = s.shadow_px, 0.3 * s.shadow_px
        pw, ph = int(sw * 2 + 6), int(sh * 2 + 6)
        disc = np.zeros((ph, pw), np.float32)
        cv2.ellipse(disc, (pw // 2, ph // 2), (int(sw / 2), max(1, int(sh / 2))), 0, 0, 360, 1.0, -1)
        patch = cv2.GaussianBlur(disc, (0, 0), max(1.0, sh / 2))
        x0, y0 = int(s.foot[0]) - pw // 2, int(s.foot[1]) - ph // 2
        shade = np.zeros((ph, pw, 4), np.float32)
        shade[..., 3] = 0.2 * patch
        blend(img, shade, x0, y0)
    pm = s.app.pm(s.frame)
    pm = pm[:, ::-1] if s.mirror else pm
    h, w = pm.shape[:2]
    ax, ay = s.frame.foot
    ax = (w - ax) if s.mirror else ax
    nw, nh = max(1, round(w * s.k)), max(1, round(h * s.k))
    small = cv2.resize(pm, (nw, nh), interpolation=cv2.INTER_AREA if s.k < 1 else cv2.INTER_LINEAR)
    left, top = s.foot[0] - ax * nw / w, s.foot[1] - ay * nh / h
    ix, iy = int(np.floor(left)), int(np.floor(top))
    mtx = np.array([[1, 0, left - ix], [0, 1, top - iy]], dtype=np.float32)
    shifted = cv2.warpAffine(small, mtx, (nw + 1, nh + 1), flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_CONSTANT)
    blend(img, shifted, ix, iy)


def _median_h(frames: list[Frame]) -> float:
    return float(np.median([f.height for f in frames]))


class Appearance:
    """One person's look: a real identity with recoloured clothes and a height; picks its frames to walk or stand.

    Walking cycles through the identity's run whose direction best matches the motion (mirrored if that fits
    better), at the pace of the walk; standing plays the identity's own standing frames back and forth (real
    small movements), or holds its walking frames with the feet closest together, changed every few seconds,
    with a slight sway.
    """

    def __init__(
        self,
        ident: Identity,
        look: dict[str, float],
        scale: float,
        facing: tuple[float, float],
        rng: np.random.Generator,
        use_stand: bool = True,
    ) -> None:
        self.ident, self.look, self.scale, self.use_stand = ident, look, scale, use_stand
        self.cache: dict[int, np.ndarray] = {}
        self.heights: dict[int, float] = {}
        self.phase = float(rng.uniform(0, 30))
        self.sway = (float(rng.uniform(0.006, 0.014)), float(rng.uniform(3.5, 7.0)), float(rng.uniform(0, 6.3)))
        self.hold_s = float(rng.uniform(3.0, 8.0))
        self.offset = float(rng.uniform(0, 1000))
        self.set_facing(facing, bool(rng.random() < 0.5))

    def set_facing(self, facing: tuple[float, float], coin: bool = False) -> None:
        """Choose the standing frames for a picture direction the person faces."""
        if self.ident.stand and self.use_stand:
            run = max(self.ident.stand, key=lambda r: len(r.frames))
            self.still, self.still_mirror, self.play, self.rate = run.frames, coin, True, run.rate
        else:
            run, mirror = self._best_run(facing)
            spread = np.array([_leg_spread(f) for f in run.frames])
            order = np.argsort(spread)[: max(2, len(run.frames) // 6)]
            self.still, self.still_mirror, self.play = [run.frames[i] for i in sorted(order)], mirror, False
        self.still_h = _median_h(self.still)

    def _best_run(self, direction: tuple[float, float]) -> tuple[Run, bool]:
        d = np.array(direction, dtype=np.float64)
        d /= np.hypot(*d) + 1e-9
        best: tuple[float, Run, bool] | None = None
        for run in self.ident.walk:
            s = np.array(run.step) / (np.hypot(*run.step) + 1e-9)
            for mirror in (False, True):
                v = np.array([-s[0], s[1]]) if mirror else s
                score = float(v @ d) + 0.002 * len(run.frames)
                if best is None or score > best[0]:
                    best = (score, run, mirror)
        assert best is not None
        return best[1], best[2]

    def walk_frame(self, direction: tuple[float, float], step_m: float) -> tuple[Frame, float, bool]:
        """The next walking frame for a picture direction and the floor distance walked this frame."""
        run, mirror = self._best_run(direction)
        self.phase += step_m / 0.135  # a source frame every 0.135 m (walkers at ~1.35 m/s, 10 fps)
        a, b = run.loop
        if id(run) not in self.heights:
            self.heights[id(run)] = _median_h(run.frames)
        return run.frames[a + int(self.phase) % max(1, b - a)], self.heights[id(run)], mirror

    def stand_frame(self, t: float) -> tuple[Frame, float, bool, float]:
        """The standing frame at time ``t`` and the sway (fraction of height, horizontal)."""
        n = len(self.still)
        if self.play:  # own standing frames at their own pace, back and forth
            k = int(t * self.rate + self.offset) % (2 * n - 2 if n > 1 else 1)
            f = self.still[k if k < n else 2 * n - 2 - k]
        else:
            f = self.still[int((t + self.offset) / self.hold_s) % n]
        amp, period, ph = self.sway
        return f, self.still_h, self.still_mirror, amp * float(np.sin(2 * np.pi * t / period + ph))

    def pm(self, f: Frame) -> np.ndarray:
        """The frame recoloured with this person's clothes, premultiplied (cached)."""
        key = id(f)
        if key not in self.cache:
            self.cache[key] = premultiply(recolour(f.rgba, f.foot[1], f.height, self.look, self.ident.head))
        return self.cache[key]


def random_look(rng: np.random.Generator, floor_grey: float) -> dict[str, float]:
    """Clothes for a visitor, per band: kept, another muted colour, lighter or darker, or floor grey.

    Tops take any hue; trousers the usual ones (denim blue, brown, khaki, olive, grey).
    """
    look: dict[str, float] = {"grey_level": float(floor_grey + rng.uniform(-15, 10))}
    for band in ("top", "leg"):
        p = [0.3, 0.4, 0.15, 0.15] if band == "top" else [0.45, 0.3, 0.15, 0.1]
        kind = rng.choice(["keep", "colour", "tone", "grey"], p=p)
        hue = rng.uniform(0, 360) if band == "top" else rng.choice([215.0, 225.0, 25.0, 40.0, 75.0])
        look[f"{band}_hue"] = float(hue) if kind == "colour" else 0.0
        look[f"{band}_sat"] = float(rng.uniform(0.12, 0.4)) if kind == "colour" else 0.0
        look[f"{band}_gain"] = float(
            rng.choice([rng.uniform(0.7, 0.85), rng.uniform(1.3, 1.7)]) if kind == "tone" else rng.uniform(0.9, 1.15)
        )
        look[f"{band}_grey"] = float(rng.uniform(0.6, 0.85)) if kind == "grey" else 0.0
    return look
