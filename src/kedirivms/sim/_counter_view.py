"""The counter scene seen by a fixed oblique camera: a pinhole over the floor plan, real people as sprites.

The floor plan (640x360 reference units, about 58 units to the metre) is watched by a camera 5.2 m up in the
front-right corner (2.4 m beyond the plan's near edge), pitched 48 degrees down and turned 25 degrees left. A
floor point ``(x, y)`` maps to the picture by a homography; a person standing there is a sprite cut from real
CCTV (``assets/people.png``, see ``docs/simulator.md``) scaled to the projected height of a 1.72 m body, drawn
with the feet on the point. Far people are therefore smaller, and the desk hides the clerk's legs. Everything
static (floor, wall, desk) and every scaled sprite is cached, so a frame costs a copy, a few small blends and
one colour conversion. OpenCV is imported where it is used: ``import kedirivms.sim`` must stay free of its
side effects (it sets environment variables when loaded).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources

import numpy as np

# the design picture is 640x360; other sizes scale it
_W, _H = 640.0, 360.0
_CAM = np.array([600.0, 500.0, 300.0])  # camera centre, floor units (z up): high in the front-right corner
_PITCH = np.radians(48.0)
_YAW = np.radians(-25.0)  # turned left, across the line: people in line overlap little
_FOCAL = 420.0
_PRINCIPAL = (320.0, 240.0)  # lens shift: the whole floor plan fits
PERSON_H = 100.0  # a body, floor units (1.72 m)
DESK = (192.0, 72.0, 397.0, 94.0, 40.0)  # x0, y0, x1, y1, height (floor units)
_WALL_H = 170.0
_DOOR = (100.0, 140.0, 120.0)  # x0, x1, height: the staff door in the back wall
_CABINET = (366.0, 402.0, 70.0)
CLERK_SPRITE = 1
Layers = tuple[np.ndarray, np.ndarray, np.ndarray, tuple[int, int, int, int]]


def _axes() -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The camera's right, down and forward unit vectors in floor coordinates (z up)."""
    c, s = np.cos(_PITCH), np.sin(_PITCH)
    heading = np.array([np.sin(_YAW), -np.cos(_YAW), 0.0])
    right = np.array([np.cos(_YAW), np.sin(_YAW), 0.0])
    fwd = c * heading + np.array([0.0, 0.0, -s])
    return right, np.cross(right, fwd), fwd


_AXES = _axes()  # the camera is fixed: computed once


def project(points: np.ndarray, z: float | np.ndarray = 0.0) -> np.ndarray:
    """Floor points ``(N, 2)`` at height ``z`` to design-picture pixels ``(N, 2)`` (640x360 space)."""
    pts = np.asarray(points, dtype=np.float64).reshape(-1, 2)
    world = np.column_stack([pts, np.broadcast_to(np.asarray(z, dtype=np.float64), len(pts))]) - _CAM
    right, down, fwd = _AXES
    depth = world @ fwd
    return np.column_stack(
        [_PRINCIPAL[0] + _FOCAL * (world @ right) / depth, _PRINCIPAL[1] + _FOCAL * (world @ down) / depth]
    )


def homography() -> np.ndarray:
    """The 3x3 floor -> design-picture homography (floor units to 640x360 pixels)."""
    src = np.array([(0, 0), (640, 0), (640, 360), (0, 360)], dtype=np.float32)
    import cv2

    return cv2.getPerspectiveTransform(src, project(src).astype(np.float32)).astype(np.float64)


def to_floor(pixels: np.ndarray) -> np.ndarray:
    """Design-picture pixels ``(..., 2)`` back to floor points on z = 0 (the inverse homography)."""
    inv = np.linalg.inv(homography())
    p = np.asarray(pixels, dtype=np.float64)
    q = p @ inv[:, :2].T + inv[:, 2]
    return q[..., :2] / q[..., 2:3]


def clip_polygon(poly: np.ndarray, w: float = _W, h: float = _H) -> np.ndarray:
    """Clip a polygon ``(N, 2)`` to the picture rectangle (Sutherland-Hodgman)."""
    out = [tuple(p) for p in np.asarray(poly, dtype=np.float64)]
    for axis, bound, keep_less in ((0, 0.0, False), (0, w, True), (1, 0.0, False), (1, h, True)):
        src, out = out, []
        for k, cur in enumerate(src):
            prev = src[k - 1]
            cin = cur[axis] <= bound if keep_less else cur[axis] >= bound
            pin = prev[axis] <= bound if keep_less else prev[axis] >= bound
            if cin != pin:
                f = (bound - prev[axis]) / (cur[axis] - prev[axis])
                out.append((prev[0] + f * (cur[0] - prev[0]), prev[1] + f * (cur[1] - prev[1])))
            if cin:
                out.append(cur)
    return np.asarray(out, dtype=np.float64).reshape(-1, 2)


@dataclass(frozen=True)
class Sprite:
    """One person cut-out: ``bgr`` (h, w, 3) uint8 and ``alpha`` (h, w) float32 in [0, 1]."""

    bgr: np.ndarray
    alpha: np.ndarray

    @property
    def luma(self) -> float:
        """Alpha-weighted mean luma of the person (BT.601)."""
        y = self.bgr.astype(np.float32) @ np.array([0.114, 0.587, 0.299], dtype=np.float32)
        return float((y * self.alpha).sum() / max(float(self.alpha.sum()), 1.0))


@lru_cache(maxsize=1)
def load_sprites() -> tuple[Sprite, ...]:
    """The packaged person sprites (``kedirivms/sim/assets/people.png`` + ``people.json``), loaded once."""
    assets = resources.files("kedirivms.sim").joinpath("assets")
    meta = json.loads(assets.joinpath("people.json").read_text())
    raw = np.frombuffer(assets.joinpath("people.png").read_bytes(), dtype=np.uint8)
    import cv2

    atlas = cv2.imdecode(raw, cv2.IMREAD_UNCHANGED)
    if atlas is None or atlas.ndim != 3 or atlas.shape[2] != 4:
        raise RuntimeError("the packaged person atlas kedirivms/sim/assets/people.png is not a BGRA PNG")
    out = []
    for s in meta["sprites"]:
        x, y, w, h = s["rect"]
        cut = atlas[y : y + h, x : x + w]
        out.append(Sprite(np.ascontiguousarray(cut[..., :3]), cut[..., 3].astype(np.float32) / 255.0))
    return tuple(out)


def greyed(sprite: Sprite, luma: float) -> Sprite:
    """The sprite in clothes close to a floor grey: below the head, desaturated with brightness pulled to ``luma``.

    The head (the top sixth) keeps its hair and skin, as a person in grey clothes would.
    """
    bgr = sprite.bgr.astype(np.float32)
    grey = bgr @ np.array([0.114, 0.587, 0.299], dtype=np.float32)
    body = np.s_[max(1, sprite.bgr.shape[0] // 6) :]
    weights = sprite.alpha[body]
    mean = float((grey[body] * weights).sum() / max(float(weights.sum()), 1.0))
    tone = luma + (grey[body] - mean) * 0.85  # keep the folds and shading: the colour goes, not the shape
    bgr[body] = 0.75 * tone[..., None] + 0.25 * (bgr[body] - mean + luma)
    return Sprite(np.clip(bgr, 0, 255).astype(np.uint8), sprite.alpha)


def greyable() -> list[int]:
    """Sprites whose clothes have folds and seams (body luma spread >= 40): a plain black coat turned floor-grey
    would be a flat silhouette that no camera shows; these keep their shape when re-dyed."""
    out = []
    for k, s in enumerate(load_sprites()):
        grey = s.bgr.astype(np.float32) @ np.array([0.114, 0.587, 0.299], dtype=np.float32)
        body = np.s_[s.bgr.shape[0] // 6 :]
        if float(grey[body][s.alpha[body] > 0.9].std()) >= 40.0 and k != CLERK_SPRITE:
            out.append(k)
    return out


class ObliqueRenderer:
    """Draws the counter through the oblique camera; caches the background and the scaled sprites."""

    FLOOR_BGR = (118.0, 124.0, 128.0)  # warm grey tiles, luma about 124

    def __init__(self, seed: int) -> None:
        self.seed = seed
        self._bg: dict[tuple[int, int], Layers] = {}
        self._scaled: dict[tuple[int, int, int], tuple[np.ndarray, np.ndarray]] = {}

    # -- static layers ------------------------------------------------------------------------------------

    def layers(self, w: int, h: int) -> Layers:
        """``(background BGR uint8, desk BGR uint8, desk mask bool, desk box x0 y0 x1 y1)`` at ``w x h`` (cached)."""
        key = (w, h)
        if key not in self._bg:
            self._bg[key] = self._draw_static(w, h)
        return self._bg[key]

    def _draw_static(self, w: int, h: int) -> Layers:
        import cv2

        sx, sy = w / _W, h / _H
        yy, xx = np.mgrid[0:h, 0:w].astype(np.float64)
        floor = to_floor(np.stack([(xx + 0.5) / sx, (yy + 0.5) / sy], axis=-1))
        img = np.empty((h, w, 3), dtype=np.float32)
        img[...] = self.FLOOR_BGR
        fx, fy = floor[..., 0], floor[..., 1]
        grout = ((fx % 40.0) < 1.6) | ((fy % 40.0) < 1.6)
        img[grout] -= 14.0
        staff = fy < DESK[1]
        img[staff] = (96.0, 110.0, 122.0)  # the staff side: a darker, browner floor
        # the back wall (the plane y = 0): whatever ray misses the floor in front of it
        wall = (fy < 0) | ~np.isfinite(fy) | (to_floor_depth_sign(xx / sx, yy / sy) <= 0)
        img[wall] = (170.0, 196.0, 205.0)  # cream paint
        img += np.random.default_rng([self.seed, w, h, 7]).normal(0.0, 2.0, (h, w, 1)).astype(np.float32)
        out = np.clip(img, 0, 255).astype(np.uint8)

        def poly(points: list[tuple[float, float]], z: list[float]) -> np.ndarray:
            p = np.vstack([project(np.array([pt]), zz) for pt, zz in zip(points, z, strict=True)])
            return np.round(p * (sx, sy)).astype(np.int32)

        base = [(0.0, 0.0), (640.0, 0.0)]
        cv2.fillConvexPoly(out, poly([*base, (640.0, 0.0), (0.0, 0.0)], [0, 0, 6, 6]), (70, 80, 90))  # skirting
        d0, d1, dh = _DOOR
        cv2.fillConvexPoly(out, poly([(d0, 0), (d1, 0), (d1, 0), (d0, 0)], [0, 0, dh, dh]), (40, 62, 92))
        c0, c1, ch = _CABINET
        cv2.fillConvexPoly(out, poly([(c0, 0), (c1, 0), (c1, 0), (c0, 0)], [0, 0, ch, ch]), (150, 150, 145))
        cv2.fillConvexPoly(out, poly([(440, 0), (560, 0), (560, 0), (440, 0)], [60, 60, 130, 130]), (180, 130, 60))
        desk = np.zeros_like(out)
        x0, y0, x1, y1, dz = DESK
        top = poly([(x0, y0), (x1, y0), (x1, y1), (x0, y1)], [dz] * 4)
        front = poly([(x0, y1), (x1, y1), (x1, y1), (x0, y1)], [0, 0, dz, dz])
        cv2.fillConvexPoly(desk, front, (60, 90, 140))  # wood front
        cv2.fillConvexPoly(desk, top, (200, 215, 225))  # light top
        edge = poly([(x0, y1), (x1, y1)], [dz, dz])
        cv2.line(desk, tuple(edge[0]), tuple(edge[1]), (40, 60, 90), max(1, round(2 * sy)))
        mask = np.asarray(desk.any(axis=2), dtype=bool)
        ys, xs = np.nonzero(mask)
        box = (int(xs.min()), int(ys.min()), int(xs.max()) + 1, int(ys.max()) + 1) if len(xs) else (0, 0, 0, 0)
        return out, desk, mask, box

    # -- people -------------------------------------------------------------------------------------------

    def sprite(self, index: int, grey: bool, height: int) -> tuple[np.ndarray, np.ndarray]:
        """A sprite scaled to ``height`` pixels: ``(bgr float32 (h, w, 3), alpha float32 (h, w, 1))``, cached."""
        key = (index, int(grey), height)
        hit = self._scaled.get(key)
        if hit is None:
            import cv2

            sprites = load_sprites()
            base = sprites[index % len(sprites)]
            if grey:
                base = greyed(base, float(np.dot(self.FLOOR_BGR, (0.114, 0.587, 0.299))))
            width = max(2, round(base.bgr.shape[1] * height / base.bgr.shape[0]))
            interp = cv2.INTER_AREA if height < base.bgr.shape[0] else cv2.INTER_LINEAR
            bgr = cv2.resize(base.bgr, (width, height), interpolation=interp).astype(np.float32)
            alpha = cv2.resize(base.alpha, (width, height), interpolation=interp)[..., None]
            hit = (bgr, alpha)
            if len(self._scaled) > 4096:
                self._scaled.clear()
            self._scaled[key] = hit
        return hit

    def draw(self, img: np.ndarray, feet: tuple[float, float], height: float, index: int, grey: bool) -> None:
        """Alpha-blend a person into ``img`` (BGR uint8, in place) with the feet at pixel ``feet``."""
        hpx = max(4, round(height))
        bgr, alpha = self.sprite(index, grey, hpx)
        sh, sw = alpha.shape[:2]
        x0, y0 = round(feet[0] - sw / 2), round(feet[1]) - sh
        ih, iw = img.shape[:2]
        ax0, ay0, ax1, ay1 = max(x0, 0), max(y0, 0), min(x0 + sw, iw), min(y0 + sh, ih)
        if ax0 >= ax1 or ay0 >= ay1:
            return
        s = np.s_[ay0 - y0 : ay1 - y0, ax0 - x0 : ax1 - x0]
        roi = img[ay0:ay1, ax0:ax1]
        a = alpha[s]
        roi[...] = (roi * (1.0 - a) + bgr[s] * a).astype(np.uint8)


def to_floor_depth_sign(u: np.ndarray, v: np.ndarray) -> np.ndarray:
    """Sign of the floor hit along each design-pixel ray: <= 0 when the ray never reaches the floor."""
    right, down, fwd = _AXES
    ray_z = ((u - _PRINCIPAL[0]) / _FOCAL) * right[2] + ((v - _PRINCIPAL[1]) / _FOCAL) * down[2] + fwd[2]
    return -ray_z  # the camera is above the floor: rays going down (z < 0) hit it


def person_height(floor_xy: np.ndarray, scale: np.ndarray | float = 1.0) -> np.ndarray:
    """Projected height in design pixels of people standing at ``floor_xy (N, 2)`` of ``scale`` x 1.72 m."""
    feet = project(floor_xy, 0.0)
    head = project(floor_xy, PERSON_H * np.asarray(scale, dtype=np.float64))
    return feet[:, 1] - head[:, 1]
