"""The background plate for ``composite_counter.py``: a real empty scene, its floor geometry, a desk and occluders.

The plate is the temporal median of OpenCV's ``vtest.avi`` (an outdoor campus plaza seen from above), cropped at
native resolution to 640x360. Its floor geometry comes from the clip's own people: person height is linear in
the feet's picture row (``h = a + b*y``), which for a flat floor and upright camera fixes the horizon row and
the camera height; the focal length is the one that makes the people's walking speeds agree whatever their
direction. The desk is drawn into the scene as a textured box whose faces are real pixels (the wood floor and the
white wall of Intel's ``one-by-one-person-detection.mp4``, perspective-warped); the plate's own lamp post, sign
and tripod are re-pasted over people who pass behind them.
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

from kedirivms.analytics.zones import Zone

PERSON_M = 1.7  # the height the height model refers to, metres
CROP = (128, 150, 640, 360)  # x, y, w, h of the plate in vtest.avi's 768x576 picture


@dataclass(frozen=True)
class Camera:
    """Floor <-> picture mapping of an upright pinhole camera (vertical lines stay vertical).

    ``h(y) = a + b*y`` is a 1.7 m person's height (px) with feet at row ``y``; ``focal`` in px; ``cx`` the
    optical centre's column. Floor coordinates: ``X`` metres right, ``Z`` metres away from the camera.
    """

    a: float
    b: float
    focal: float
    cx: float

    @property
    def horizon(self) -> float:
        """Picture row of the horizon (height zero)."""
        return -self.a / self.b

    @property
    def height_m(self) -> float:
        """Camera height above the floor, metres."""
        return PERSON_M / self.b

    def to_image(self, x_m: float, z_m: float, up_m: float = 0.0) -> tuple[float, float]:
        """Picture point of the floor point (X, Z) raised by ``up_m``."""
        return self.cx + self.focal * x_m / z_m, self.horizon + self.focal * (self.height_m - up_m) / z_m

    def to_floor(self, x: float, y: float) -> tuple[float, float]:
        """Floor point (X, Z) under the picture point (x, y)."""
        z = self.focal * self.height_m / (y - self.horizon)
        return (x - self.cx) * z / self.focal, z

    def person_px(self, y: float) -> float:
        """Height in px of a 1.7 m person with feet at row ``y``."""
        return self.a + self.b * y


def fit_focal(steps: list[tuple[float, float, float]], a: float, b: float) -> float:
    """Focal length (px) that makes walking speeds agree across directions.

    ``steps``: per walking run ``(dx, dy, y)``: feet motion per frame (px) and feet row. Speeds along the floor
    follow from the camera model; the focal length scales only the depth component.
    """
    arr = np.array(steps, dtype=np.float64)
    dx, dy, y = arr[:, 0], arr[:, 1], arr[:, 2]
    h = a + b * y
    horizon, height = -a / b, PERSON_M / b
    best, best_f = np.inf, 1000.0
    for f in np.arange(500.0, 2000.0, 25.0):
        speed = np.hypot(dx * PERSON_M / h, f * height * dy / (y - horizon) ** 2)
        spread = float(np.std(np.log(speed + 1e-6)))
        if spread < best:
            best, best_f = spread, float(f)
    return best_f


def _warp(texture: np.ndarray, quad: np.ndarray, size: tuple[int, int]) -> tuple[np.ndarray, np.ndarray]:
    """A texture perspective-warped onto a picture quad (TL, TR, BR, BL) and its coverage (float 0-1)."""
    th, tw = texture.shape[:2]
    src = np.array([[0, 0], [tw - 1, 0], [tw - 1, th - 1], [0, th - 1]], dtype=np.float32)
    mtx = cv2.getPerspectiveTransform(src, quad.astype(np.float32))
    img = cv2.warpPerspective(texture, mtx, size, flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_REFLECT)
    cover = np.zeros((size[1], size[0]), np.float32)
    cv2.fillConvexPoly(cover, np.round(quad * 8).astype(np.int32), 1.0, lineType=cv2.LINE_AA, shift=3)
    return img, cover


@dataclass
class Desk:
    """The counter: floor box ``x0..x1`` by ``z_front..z_back`` (metres), ``height`` tall, as an RGBA layer."""

    x0: float
    x1: float
    z_front: float
    z_back: float
    height: float
    layer: np.ndarray  # (H, W, 4) uint8, premultiplied-free RGBA of the desk alone
    box: tuple[int, int, int, int]  # x0, y0, x1, y1 of the layer's drawn pixels
    base_y: float  # picture row of its front bottom edge (drawing order)


def make_desk(
    plate: np.ndarray,
    cam: Camera,
    centre: tuple[float, float],
    size: tuple[float, float, float],
    wood: np.ndarray,
    wall: np.ndarray,
) -> tuple[np.ndarray, Desk]:
    """Draw a desk standing on the floor at ``centre`` (X, Z of its front edge's middle), ``size`` (w, d, h) m.

    Returns the plate with the desk's soft contact shadow (ground darkening) and the desk as a layer.
    """
    xc, zf = centre
    w, d, hgt = size
    x0, x1, zb = xc - w / 2, xc + w / 2, zf + d
    hh, ww = plate.shape[:2]

    def p(x: float, z: float, up: float) -> list[float]:
        return list(cam.to_image(x, z, up))

    front = np.array([p(x0, zf, hgt), p(x1, zf, hgt), p(x1, zf, 0), p(x0, zf, 0)])
    top = np.array([p(x0, zb, hgt), p(x1, zb, hgt), p(x1, zf, hgt), p(x0, zf, hgt)])
    side_x = x0 if xc > 0 else x1  # the side facing the camera's axis is visible
    side = np.array([p(side_x, zb, hgt), p(side_x, zf, hgt), p(side_x, zf, 0), p(side_x, zb, 0)])
    if side_x == x1:
        side = side[[1, 0, 3, 2]]
    # outdoor, overcast: the plate's mean floor tone sets the panels' light
    floor_tone = float(plate[int(front[:, 1].max()) : int(front[:, 1].max()) + 20, int(front[:, 0].min()) :].mean())
    hsv = cv2.cvtColor(wood, cv2.COLOR_BGR2HSV).astype(np.float32)
    hsv[..., 1] *= 0.4  # varnished wood under an overcast sky, not a lamp
    wood = cv2.cvtColor(hsv.astype(np.uint8), cv2.COLOR_HSV2BGR)
    rgb = np.zeros((hh, ww, 3), np.float32)
    alpha = np.zeros((hh, ww), np.float32)
    faces = [  # light laminate panels (the wall's pixels), a wooden top (the floor's)
        (side, wall, 0.62 * floor_tone / max(float(wall.mean()), 1.0)),
        (front, wall, 0.82 * floor_tone / max(float(wall.mean()), 1.0)),
        (top, wood, 0.9 * floor_tone / max(float(wood.mean()), 1.0)),
    ]
    for quad, tex, gain in faces:
        img, cover = _warp(tex, quad, (ww, hh))
        rgb = rgb * (1 - cover[..., None]) + img.astype(np.float32) * gain * cover[..., None]
        alpha = np.maximum(alpha, cover)
    edge = np.zeros((hh, ww), np.float32)  # a darker lip along the top's front edge, a kick strip at the floor
    for (pa, pb), width in (((top[3], top[2]), 8), ((front[3] - [0, 1.5], front[2] - [0, 1.5]), 20)):
        cv2.line(
            edge, tuple(np.round(pa * 8).astype(int)), tuple(np.round(pb * 8).astype(int)), 1.0, width, cv2.LINE_AA, 3
        )
    rgb *= 1 - 0.35 * np.clip(edge, 0, 1)[..., None]
    layer = np.dstack([np.clip(rgb, 0, 255), np.clip(alpha * 255, 0, 255)]).astype(np.uint8)
    ys, xs = np.nonzero(alpha > 0)
    box = (int(xs.min()), int(ys.min()), int(xs.max()) + 1, int(ys.max()) + 1)
    # contact shadow: the footprint grown a little, blurred, darkens the floor
    foot = np.array(
        [p(x0 - 0.15, zf - 0.2, 0), p(x1 + 0.15, zf - 0.2, 0), p(x1 + 0.15, zb + 0.1, 0), p(x0 - 0.15, zb + 0.1, 0)]
    )
    footprint = np.zeros((hh, ww), np.float32)
    cv2.fillConvexPoly(footprint, np.round(foot).astype(np.int32), 1.0)
    shade = cv2.GaussianBlur(footprint, (0, 0), 4.0)
    shaded = (plate.astype(np.float32) * (1 - 0.4 * shade[..., None])).astype(np.uint8)
    return shaded, Desk(x0, x1, zf, zb, hgt, layer, box, float(front[:, 1].max()))


@dataclass
class Occluder:
    """Plate pixels that stand in front of whoever is farther than ``base_y`` (a post, a tripod)."""

    alpha: np.ndarray  # (H, W) float32 0-1
    box: tuple[int, int, int, int]
    base_y: float


def occluders(plate: np.ndarray) -> list[Occluder]:
    """The plate's lamp post with its sign, and the tripod, as masks (picture coordinates of the 640x360 crop)."""
    h, w = plate.shape[:2]
    out: list[np.ndarray] = []
    post = np.zeros((h, w), np.float32)
    cv2.fillConvexPoly(post, np.array([[296, 0], [303, 0], [309, 243], [300, 243]], np.int32), 1.0)
    cv2.rectangle(post, (284, 52), (317, 93), 1.0, -1)
    out.append(post)
    grey = plate.mean(-1).astype(np.float32)
    hull = np.zeros((h, w), np.float32)
    cv2.fillConvexPoly(hull, np.array([[371, 183], [387, 183], [402, 336], [326, 326]], np.int32), 1.0)
    local = cv2.medianBlur(plate, 9).mean(-1).astype(np.float32)
    tripod = hull * ((grey < 85) & (grey < local - 20)).astype(np.float32)
    tripod = cv2.dilate(tripod, np.ones((2, 2), np.uint8))
    out.append(tripod)
    result = []
    for mask, base in zip(out, (243.0, 318.0), strict=True):
        soft = cv2.GaussianBlur(mask, (0, 0), 0.6)
        ys, xs = np.nonzero(soft > 0.01)
        result.append(Occluder(soft, (int(xs.min()), int(ys.min()), int(xs.max()) + 1, int(ys.max()) + 1), base))
    return result


def textures(one_by_one_bg: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Wood (the floor) and white wall pixels from one-by-one's empty room, at its half-scale background."""
    h, w = one_by_one_bg.shape[:2]
    wood = one_by_one_bg[int(0.66 * h) : int(0.97 * h), int(0.02 * w) : int(0.45 * w)]
    wood = cv2.rotate(wood, cv2.ROTATE_90_CLOCKWISE)  # planks run along the panel
    wall = one_by_one_bg[int(0.05 * h) : int(0.45 * h), int(0.2 * w) : int(0.5 * w)]
    return np.ascontiguousarray(wood), np.ascontiguousarray(wall)


def along(path: np.ndarray, s: float) -> np.ndarray:
    """The floor point at arc length ``s`` along a polyline (extended straight past both ends)."""
    seg = np.diff(path, axis=0)
    lengths = np.hypot(seg[:, 0], seg[:, 1])
    if s <= 0:
        return path[0] + seg[0] / lengths[0] * s
    for p, d, n in zip(path[:-1], seg, lengths, strict=True):
        if s <= n:
            return p + d / n * s
        s -= n
    return path[-1] + seg[-1] / lengths[-1] * s


def normal_at(path: np.ndarray, s: float) -> np.ndarray:
    """Unit normal (to the right of the walking direction from the head backwards) at arc length ``s``."""
    d = along(path, s + 0.05) - along(path, s - 0.05)
    d = d / np.hypot(*d)
    return np.array([d[1], -d[0]])


def path_length(path: np.ndarray) -> float:
    """Length of a polyline, metres."""
    seg = np.diff(path, axis=0)
    return float(np.hypot(seg[:, 0], seg[:, 1]).sum())


@dataclass
class Layout:
    """The scene's geometry: plate with desk shadow, camera, desk, the line's path, zones and walking routes."""

    plate: np.ndarray
    cam: Camera
    desk: Desk
    service: np.ndarray  # floor point (X, Z) where the one being served stands
    post: np.ndarray  # where the clerk stands
    path: np.ndarray  # the line's floor polyline, from its head backwards
    zones: list[Zone]
    routes: dict[str, list[np.ndarray]]  # floor polylines by name (entries, exits, passers-by)
    size: tuple[int, int]

    def image(self, p: np.ndarray) -> tuple[float, float]:
        """Picture point of a floor point."""
        return self.cam.to_image(float(p[0]), float(p[1]))

    def floor(self, x: float, y: float) -> np.ndarray:
        """Floor point under a picture point."""
        return np.array(self.cam.to_floor(x, y))


# Walking routes as picture points (640x360; points past the edges are off-screen). Visitors' entries end where
# they head for their place in line; exits start beside the desk. Passers-by keep off the desk and staff areas.
ROUTES_PX: dict[str, list[tuple[float, float]]] = {
    "enter_right": [(690, 305), (600, 292)],
    "enter_left": [(-40, 72), (200, 110), (380, 195)],
    "enter_top": [(505, -30), (520, 60), (545, 150)],
    "exit_left": [(300, 112), (150, 90), (-40, 70)],
    "exit_right": [(480, 128), (560, 150), (690, 170)],
    "exit_top": [(470, 100), (480, 40), (505, -30)],
    "pass_left_right": [(-40, 78), (200, 140), (480, 255), (560, 305), (690, 322)],
    "pass_top_left": [(505, -30), (330, 22), (-40, 58)],
    "pass_top_right": [(505, -30), (560, 60), (690, 135)],
    "pass_right_grass": [(690, 300), (560, 292), (300, 330), (180, 420)],
    "clerk": [(480, 55), (505, -30)],
}


VIEWS = ("along", "across")


def make_layout(
    plate: np.ndarray,
    cam: Camera,
    wood: np.ndarray,
    wall: np.ndarray,
    size: tuple[int, int],
    view: str = "along",
) -> Layout:
    """Place the desk, the line, zones and routes for a camera view (``VIEWS``).

    ``along``: the desk's front middle under picture point (390, 112), about 25 m away, the line running from it
    towards the camera (down-right in the picture). ``across``: the desk nearer (its front middle under (565, 268),
    about 17 m away, on the paving beside the grass), the line running from beside its left leftwards across the
    picture, bending a little away from the camera to pass behind the tripod, in front of the lamp post.
    """
    if view == "across":
        return _layout_across(plate, cam, wood, wall, size)
    if view != "along":
        raise ValueError(f"unknown view {view!r}")
    w, h = size
    xd, zf = cam.to_floor(390.0, 112.0)
    plate, desk = make_desk(plate, cam, (xd, zf), (1.8, 0.7, 1.0), wood, wall)
    service = np.array([xd, zf - 0.5])
    post = np.array([xd, desk.z_back + 0.55])
    head = np.array([xd + 0.1, zf - 1.55])
    end = np.array(cam.to_floor(628.0, 246.0))
    bend = head + (end - head) * 0.3 + np.array([-0.25, 0.0])
    path = np.array([head, bend, end])
    zones = _zones(cam, desk, path, size)
    routes = {k: [np.array(cam.to_floor(x, y)) for x, y in v] for k, v in ROUTES_PX.items()}
    return Layout(plate, cam, desk, service, post, path, zones, routes, size)


def _zones(cam: Camera, desk: Desk, path: np.ndarray, size: tuple[int, int]) -> list[Zone]:
    """The 'line' (1.3 m wide band along the path), 'desk' (1 m deep strip in front) and 'staff' zones."""
    w, h = size
    zf = desk.z_front

    def norm(pts: list[tuple[float, float]]) -> list[tuple[float, float]]:
        return [(round(min(max(x / w, 0.0), 1.0), 4), round(min(max(y / h, 0.0), 1.0), 4)) for x, y in pts]

    half = 0.65
    ss = np.linspace(-0.2, path_length(path) + 0.6, 12)
    left = [along(path, s) - normal_at(path, s) * half for s in ss]
    right = [along(path, s) + normal_at(path, s) * half for s in ss]
    line_px = [cam.to_image(*p) for p in left + right[::-1]]
    x0, x1 = desk.x0 - 0.1, desk.x1 + 0.1
    desk_px = [cam.to_image(x, z) for x, z in ((x0, zf - 0.05), (x1, zf - 0.05), (x1, zf - 1.05), (x0, zf - 1.05))]
    zb = desk.z_back
    staff_px = [
        cam.to_image(desk.x0 - 0.3, zb, 1.3),
        cam.to_image(desk.x1 + 0.3, zb, 1.3),
        cam.to_image(desk.x1 + 0.3, zb - 0.1),
        cam.to_image(desk.x0 - 0.3, zb - 0.1),
    ]
    return [
        Zone(name="line", kind="queue", points=norm(line_px)),
        Zone(name="desk", kind="service", points=norm(desk_px)),
        Zone(name="staff", kind="counter", points=norm(staff_px)),
    ]


# The across view's routes (picture points, as ROUTES_PX). The desk stands on the paving at the right, the line
# runs left from it onto the grass; the lamp post is behind the line, the tripod in front of it. Visitors come from
# the left (straight to the line's tail), from the plaza at the top (down between the post and the staff area) or
# from the right (round behind the staff area); entries from above end 1 m behind the line and in front of the
# post, so that the walk on to one's place clears the post. The served leave to the right, down past the desk or
# along the front of the line, in front of the tripod. Those who give up step out behind the line and walk off to
# the left, in front of the post, on the grass or up into the plaza ("quit_*", taken instead of the exit's route).
# Passers-by cross the plaza behind the staff area or the grass in front of the tripod.
ROUTES_PX_ACROSS: dict[str, list[tuple[float, float]]] = {
    "enter_right": [(690, 128), (560, 140), (440, 165), (385, 258)],
    "enter_left": [(-40, 272), (20, 266)],
    "enter_top": [(430, -30), (410, 100), (385, 258)],
    "exit_left": [(520, 322), (430, 352), (200, 354), (-40, 348)],
    "exit_right": [(620, 300), (690, 306)],
    "exit_top": [(585, 325), (575, 420)],
    "quit_left": [(-40, 254)],
    "quit_right": [(180, 254), (120, 150), (-40, 90)],
    "pass_left_right": [(-40, 92), (240, 128), (460, 148), (690, 146)],
    "pass_top_left": [(505, -30), (330, 22), (-40, 58)],
    "pass_top_right": [(505, -30), (560, 60), (690, 135)],
    "pass_front_grass": [(-40, 340), (200, 352), (430, 351), (560, 332), (690, 334)],
    "clerk": [(555, 150), (525, 40), (515, -30)],
}


def _layout_across(plate: np.ndarray, cam: Camera, wood: np.ndarray, wall: np.ndarray, size: tuple[int, int]) -> Layout:
    """The across view: desk's front middle under (565, 268), the line leftwards from beside its front."""
    xd, zf = cam.to_floor(565.0, 268.0)
    plate, desk = make_desk(plate, cam, (xd, zf), (1.8, 0.7, 1.0), wood, wall)
    service = np.array([xd, zf - 0.5])
    post = np.array([xd, desk.z_back + 0.55])
    # the head waits beside the service spot, 0.6 m left of the desk (the line zone then starts 0.3 m short of the
    # desk zone, as in the along view); the line bends a little away from the camera to pass ~0.7 m behind the
    # tripod's back foot (379, 300), then runs ~1.3 m in front of the lamp post (305, 243) to the picture's left
    head = np.array([desk.x0 - 0.6, service[1] + 0.1])
    bend = np.array(cam.to_floor(360.0, 278.0))
    end = np.array(cam.to_floor(30.0, 284.0))
    path = np.array([head, bend, end])
    zones = _zones(cam, desk, path, size)
    routes = {k: [np.array(cam.to_floor(x, y)) for x, y in v] for k, v in ROUTES_PX_ACROSS.items()}
    return Layout(plate, cam, desk, service, post, path, zones, routes, size)
