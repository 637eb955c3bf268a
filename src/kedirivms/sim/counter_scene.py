"""A rendered public-service counter with ground truth, for the virtual camera and the queue benchmarks.

The floor plan: a desk across the top, a clerk behind it (the ``counter`` zone), a service spot in front of
it (the ``service`` zone) and an L-shaped queue line (the ``queue`` zone). People arrive by a Poisson process from
the right edge, walk up the line keeping their spacing, step to the desk when it is free and the clerk is there,
are served for a random time (paused while the clerk is away or stalls), then leave by the left edge. The clerk
fidgets, walks to a cabinet now and then, and is absent during the configured (or random) windows.

Two views render that plan. ``oblique`` (the default) is a fixed CCTV camera high in a corner: each person is a
real pedestrian cut from OpenCV's sample clip, standing with the feet on their floor position, smaller when
farther, in colour, so a real person detector can be evaluated on it. ``top`` is the legacy grey drawing seen
from above (ellipses), kept for the background detector's tests.

The whole timeline is simulated at construction (20 steps per second), so :meth:`CounterScene.render` is a pure
function of ``t`` and any frame renders on its own. Past the timeline's end (``period``; arrivals stop before
``duration_s`` and the timeline runs on until the hall is empty) the scene repeats, and since it starts and ends
empty with the clerk at the desk the loop has no jump.

Ground truth (:meth:`CounterScene.truth`, :meth:`CounterScene.save_truth`) is measured on the floor plan: a
person is in a zone when their floor position (their feet) is inside its polygon. :meth:`CounterScene.zones`
gives the same polygons in picture coordinates: projected through the camera for ``oblique`` (analyse with
``anchor: bottom_center``), as drawn for ``top`` (``anchor: center``).
"""

from __future__ import annotations

import json
import math
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Literal

import numpy as np
from pydantic import BaseModel, ConfigDict, Field

from kedirivms.analytics.zones import Zone
from kedirivms.errors import InvalidArgument
from kedirivms.sim import _counter_hall as _hall
from kedirivms.sim import _counter_view as _view

__all__ = ["CounterScene", "CounterSceneConfig", "CounterTruth", "PersonTruth"]

_DT, _SPEED, _Hall, _to_xy = _hall.DT, _hall.SPEED, _hall.Hall, _hall.to_xy
_path_length, _polyline_at = _hall.path_length, _hall.polyline_at
_QUEUE_PATH, _SERVICE_SPOT, _EXIT_PATH = _hall.QUEUE_PATH, _hall.SERVICE_SPOT, _hall.EXIT_PATH

# The layout is drawn in a 640x360 reference pixel space and scaled to the rendered size.
_REF_W, _REF_H = 640.0, 360.0
_BODY = (9.0, 11.0)  # person half-axes (x, y), reference px
_CLERK_HOME = np.array([340.0, 44.0])  # diagonal to the service spot: a visitor there does not hide the clerk
_CLERK_CABINET = np.array([384.0, 30.0])
_CLERK_DOOR = np.array([(340, 44), (160, 40), (120, -30)], dtype=np.float64)
_DESK = (192, 72, 397, 94)  # x0, y0, x1, y1
_ZONES_REF = {
    "queue": [(262, 145), (326, 145), (326, 292), (580, 292), (580, 342), (262, 342)],
    "service": [(230, 96), (358, 96), (358, 144), (230, 144)],
    "counter": [(180, 4), (412, 4), (412, 70), (180, 70)],
}
_FLOOR, _STAFF_FLOOR, _DESK_LUMA, _CLERK_LUMA, _HAIR = 122.0, 142.0, 192.0, 48.0, 30.0


class CounterSceneConfig(BaseModel):
    """Parameters of a :class:`CounterScene`.

    Attributes are described on the fields; all times are seconds of scene time.
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    seed: int = Field(default=0, description="Random seed: the same seed gives the same scene.")
    arrival_rate_per_min: float = Field(default=1.5, ge=0, le=60, description="Mean arrivals per minute.")
    service_time_s: float = Field(default=40.0, gt=0, description="Mean service time per person, seconds.")
    service_distribution: Literal["exponential", "gamma", "uniform", "fixed"] = Field(
        default="gamma", description="Service time law (gamma has shape 4; uniform spans 0.5-1.5 x mean)."
    )
    absences: list[tuple[float, float]] | Literal["random"] = Field(
        default_factory=list, description="Clerk absence windows (start_s, end_s), or 'random'."
    )
    absence_rate_per_hour: float = Field(default=4.0, ge=0, description="Random absences per hour.")
    absence_duration_s: tuple[float, float] = Field(
        default=(30.0, 120.0), description="Range of random absence lengths, seconds."
    )
    lighting_noise: float = Field(default=1.0, ge=0, le=5, description="Scale of flicker and pixel noise.")
    duration_s: float = Field(default=600.0, gt=0, description="Arrivals happen in [0, duration_s).")
    width: int = Field(default=640, ge=64, description="Default render width, pixels (even).")
    height: int = Field(default=360, ge=36, description="Default render height, pixels (even).")
    fps: float = Field(default=10.0, gt=0, le=60, description="Frame rate for truth sampling and streaming.")
    line_spacing: float = Field(
        default=0.075,
        ge=0.03,
        le=0.2,
        description="Distance between people in line, fraction of the width (a body is about 0.028 wide).",
    )
    clerk_arrives_s: float = Field(
        default=4.0, ge=0, description="The clerk walks in at this time (0: seated at the desk from the first frame)."
    )
    view: Literal["oblique", "top"] = Field(
        default="oblique",
        description="oblique: a fixed camera in front of the desk, real people as colour sprites (zones for the "
        "bottom_center anchor); top: the legacy grey top-down drawing (zones for the center anchor).",
    )
    size_jitter: float = Field(
        default=0.0, ge=0, le=0.3, description="Spread of body size per visitor (std of a scale around 1)."
    )
    grey_clothing: float = Field(
        default=0.0, ge=0, le=1, description="Fraction of visitors dressed close to the floor's grey."
    )
    pair_fraction: float = Field(
        default=0.0, ge=0, le=1, description="Fraction of arrivals that bring a companion walking in with them."
    )
    stalls: list[tuple[float, float]] = Field(
        default_factory=list,
        description="Windows (start_s, end_s) when the clerk is at the desk but does not serve (nobody is "
        "called, the current service pauses).",
    )


@dataclass(frozen=True)
class PersonTruth:
    """One visitor's true timeline (scene seconds; ``None`` when it never happened).

    Attributes:
        id: visitor number, in arrival order.
        arrival_s: when they stepped into the picture's line corridor (off-frame spawn).
        queue_enter_s: first time their centre was inside the queue zone.
        service_enter_s: first time their centre was inside the service zone (the end of the wait).
        service_start_s: when the clerk started serving them.
        service_end_s: when service ended.
        leave_s: when they left the picture.
        wait_s: ``service_enter_s - queue_enter_s``.
        luma: their body brightness (the top view's grey; the oblique view's sprite mean luma).
        sprite: which packaged person sprite draws them (oblique view).
        scale: their body size relative to 1.72 m (``size_jitter``).
        grey: dressed close to the floor's grey (``grey_clothing``).
        companion_of: the visitor they walked in with (``pair_fraction``), or ``None``.
    """

    id: int
    arrival_s: float
    queue_enter_s: float | None
    service_enter_s: float | None
    service_start_s: float | None
    service_end_s: float | None
    leave_s: float | None
    wait_s: float | None
    luma: int
    sprite: int = -1
    scale: float = 1.0
    grey: bool = False
    companion_of: int | None = None


@dataclass(frozen=True)
class CounterTruth:
    """Ground truth sampled at the scene's frame rate.

    Attributes:
        times: ``(N,)`` float64 frame times, seconds.
        queue_length: ``(N,)`` int32 people whose centre is in the queue zone.
        service_occupied: ``(N,)`` bool, someone in the service zone.
        clerk_present: ``(N,)`` bool, the clerk's centre is in the counter zone.
        people: every visitor's timeline.
        absences: the clerk absence windows that were scheduled ``(start_s, end_s)``.
        unstaffed: intervals ``(start_s, end_s)`` when the counter zone had no clerk (sampled).
        stalls: the configured stall windows ``(start_s, end_s)``.
        stalled: intervals when the clerk was at the desk but not serving (stall windows while present, sampled).
        visible: ``(N,)`` int32 people in the picture (the middle of their body is), visitors and clerk: the
            reference for a person detector's per-frame count.
    """

    times: np.ndarray
    queue_length: np.ndarray
    service_occupied: np.ndarray
    clerk_present: np.ndarray
    people: list[PersonTruth]
    absences: list[tuple[float, float]]
    unstaffed: list[tuple[float, float]]
    stalls: list[tuple[float, float]] = field(default_factory=list)
    stalled: list[tuple[float, float]] = field(default_factory=list)
    visible: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=np.int32))


class CounterScene:
    """A seeded, deterministic service-counter scene implementing the virtual camera's ``Scene`` protocol.

    Args:
        seed: random seed.
        config: a full :class:`CounterSceneConfig`; keyword arguments override its fields (``seed`` too).
        **overrides: any :class:`CounterSceneConfig` field, e.g. ``arrival_rate_per_min=3``.

    Raises:
        InvalidArgument: a bad parameter (odd size, inverted absence window); the message names it.

    Example:
        >>> scene = CounterScene(7, arrival_rate_per_min=2.0, absences=[(120, 180)], duration_s=300)
        >>> frame = scene.render(0, 12.5, 320, 180)      # (270, 320) uint8 yuv420p (I420 layout)
        >>> scene.truth().queue_length.shape[0] == round(scene.period * scene.config.fps)
        True
    """

    def __init__(self, seed: int | None = None, *, config: CounterSceneConfig | None = None, **overrides: Any):
        base = (config or CounterSceneConfig()).model_dump()
        if seed is not None:
            base["seed"] = seed
        base.update(overrides)
        try:
            self.config = CounterSceneConfig.model_validate(base)
        except ValueError as exc:
            raise InvalidArgument(f"bad counter scene parameters: {exc}", operation="CounterScene") from exc
        cfg = self.config
        if cfg.width % 2 or cfg.height % 2:
            raise InvalidArgument(f"width and height must be even, got {cfg.width}x{cfg.height}")
        self._rng = np.random.default_rng(cfg.seed)
        self._absences = self._plan_absences()
        self._stalls = _windows(cfg.stalls, "stall")
        self._simulate()
        self._bg_cache: dict[tuple[int, int], np.ndarray] = {}
        self._noise_cache: dict[tuple[int, int], np.ndarray] = {}
        self._truth: CounterTruth | None = None
        self._oblique = _view.ObliqueRenderer(cfg.seed)

    # -- timeline ---------------------------------------------------------------------------------------------

    def _plan_absences(self) -> list[tuple[float, float]]:
        cfg = self.config
        if cfg.absences != "random":
            return _windows(cfg.absences, "absence")
        out = []
        rate = cfg.absence_rate_per_hour / 3600.0
        lo, hi = cfg.absence_duration_s
        t = 20.0
        while rate > 0:
            t += float(self._rng.exponential(1.0 / rate))
            if t >= cfg.duration_s:
                break
            length = float(self._rng.uniform(lo, hi))
            out.append((round(t, 2), round(t + length, 2)))
            t += length + 20.0
        return out

    def _service_time(self, rng: np.random.Generator | None = None) -> float:
        cfg = self.config
        rng = rng or self._rng
        m = cfg.service_time_s
        match cfg.service_distribution:
            case "exponential":
                return float(max(3.0, rng.exponential(m)))
            case "gamma":
                return float(max(3.0, rng.gamma(4.0, m / 4.0)))
            case "uniform":
                return float(rng.uniform(0.5 * m, 1.5 * m))
        return m

    def _clerk_track(self, n_steps: int) -> np.ndarray:
        """Clerk positions per step (reference px): home with fidgets, cabinet trips, absences via the door."""
        pos = np.repeat(_CLERK_HOME[None, :], n_steps, axis=0)
        door_len = _path_length(_CLERK_DOOR)
        door_s = door_len / _SPEED
        busy = np.zeros(n_steps, dtype=bool)
        # opening: the clerk is out until clerk_arrives_s, then walks in through the door (0: seated already)
        opening = [(-door_s - 1.0, self.config.clerk_arrives_s)] if self.config.clerk_arrives_s > 0 else []
        for a, b in [*opening, *self._absences]:
            i0, i1 = int(a / _DT), int(b / _DT)
            for i in range(max(i0, 0), min(i1 + int(door_s / _DT) + 2, n_steps)):
                tt = i * _DT
                d = min((tt - a) * _SPEED, door_len) if tt < b else max(door_len - (tt - b) * _SPEED, 0.0)
                pos[i] = _polyline_at(_CLERK_DOOR, d)
                busy[i] = True
        # cabinet trips while at the desk
        t = float(self._rng.exponential(60.0))
        trip = float(np.hypot(*(_CLERK_CABINET - _CLERK_HOME))) / _SPEED
        while t < n_steps * _DT:
            stay = float(self._rng.uniform(3.0, 8.0))
            i0, i1 = int(t / _DT), int((t + 2 * trip + stay) / _DT) + 1
            if i1 < n_steps and not busy[i0:i1].any():
                for i in range(i0, i1):
                    tt = i * _DT - t
                    f = min(tt / trip, 1.0) if tt < trip + stay else max(0.0, 1.0 - (tt - trip - stay) / trip)
                    pos[i] = _CLERK_HOME + f * (_CLERK_CABINET - _CLERK_HOME)
            t += 2 * trip + stay + float(self._rng.exponential(60.0))
        steps = np.arange(n_steps) * _DT
        sway = np.stack([2.0 * np.sin(steps * 1.3), 1.5 * np.sin(steps * 0.7 + 1.0)], axis=1)
        return pos + sway * (~busy)[:, None]

    def _looks(self, n: int, lumas: list[int]) -> None:
        """Per-visitor appearance: top-view grey, oblique sprite, body scale, floor-grey clothes."""
        cfg = self.config
        rng = np.random.default_rng([cfg.seed, 12])
        sprites = _view.load_sprites() if cfg.view == "oblique" else ()
        choices = [k for k in range(len(sprites)) if k != _view.CLERK_SPRITE] or [0]
        self._sprite = np.array([choices[int(rng.integers(len(choices)))] for _ in range(n)], dtype=np.int64)
        self._scale = np.clip(1.0 + cfg.size_jitter * rng.standard_normal(n), 0.7, 1.35).astype(np.float32)
        self._grey = rng.random(n) < cfg.grey_clothing
        dyeable = _view.greyable() if sprites else []
        for pid in np.flatnonzero(self._grey) if dyeable else ():  # re-dyed clothes need folds to show
            self._sprite[pid] = dyeable[int(rng.integers(len(dyeable)))]
        if cfg.view == "top":
            top = np.array(lumas, dtype=np.float32)
            top[self._grey] = _FLOOR + rng.uniform(-12.0, 12.0, int(self._grey.sum()))
            self._lumas = top
        else:
            floor = float(np.dot(_view.ObliqueRenderer.FLOOR_BGR, (0.114, 0.587, 0.299)))
            self._lumas = np.array(
                [
                    _view.greyed(sprites[k], floor).luma if g else sprites[k].luma
                    for k, g in zip(self._sprite, self._grey, strict=True)
                ],
                dtype=np.float32,
            )

    def _simulate(self) -> None:
        cfg = self.config
        rate = cfg.arrival_rate_per_min / 60.0
        arrivals: list[float] = []
        t = float(self._rng.exponential(1.0 / rate)) if rate > 0 else math.inf
        while t < cfg.duration_s:
            arrivals.append(t)
            t += float(self._rng.exponential(1.0 / rate))
        n = len(arrivals)
        lumas = [
            int(self._rng.integers(28, 72)) if self._rng.random() < 0.5 else int(self._rng.integers(180, 236))
            for _ in range(n)
        ]
        services = [self._service_time() for _ in range(n)]
        # companions and looks come from their own random streams: the base timeline of a seed never changes
        companion: list[int | None] = [None] * n
        if cfg.pair_fraction > 0:
            prng = np.random.default_rng([cfg.seed, 11])
            rows: list[tuple[float, float, int, int | None]] = [
                (t, s, lu, None) for t, s, lu in zip(arrivals, services, lumas, strict=True)
            ]
            for k, t0 in enumerate(arrivals):
                if prng.random() < cfg.pair_fraction:
                    lu = int(prng.integers(28, 72)) if prng.random() < 0.5 else int(prng.integers(180, 236))
                    rows.append((t0 + float(prng.uniform(0.3, 0.8)), self._service_time(prng), lu, k))
            order = sorted(range(len(rows)), key=lambda r: rows[r][0])
            new_id = {old: new for new, old in enumerate(order)}
            arrivals = [rows[r][0] for r in order]
            services = [rows[r][1] for r in order]
            lumas = [rows[r][2] for r in order]
            companion = [_lookup(new_id, rows[r][3]) for r in order]
            n = len(arrivals)
        self._companion = companion
        self._looks(n, lumas)
        # Upper bound of the timeline: everyone served one after the other, plus absences and walking.
        bound = cfg.duration_s + sum(services) + sum(b - a for a, b in self._absences) + 120.0
        n_max = int(bound / _DT) + 1
        clerk = self._clerk_track(n_max)
        counter = Zone(name="counter", kind="counter", points=_norm(_ZONES_REF["counter"]))
        clerk_in = counter.contains(clerk, (int(_REF_W), int(_REF_H)))

        hall = _Hall(arrivals, services, cfg.line_spacing * _REF_W)
        step = 0
        while step < n_max:
            now = step * _DT
            hall.step(step, bool(clerk_in[step]) and not any(a <= now < b for a, b in self._stalls))
            step += 1
            at_rest = hall.drained and now >= cfg.duration_s and clerk_in[step - 1]
            if at_rest and not any(a <= now <= b + 10 for a, b in self._absences):
                break
        # closing: the hall is empty, the clerk walks out through the door; then the timeline loops seamlessly
        door = _CLERK_DOOR[::-1].copy()
        door[-1] = clerk[step - 1]
        door = door[::-1]
        out_steps = int(_path_length(door) / _SPEED / _DT) + int(1.0 / _DT)
        walk = _polyline_at(door, np.arange(out_steps) * _SPEED * _DT)
        if cfg.clerk_arrives_s <= 0:  # seated from the first frame: stays seated, the loop starts that way
            walk = np.repeat(clerk[step - 1 : step], int(1.0 / _DT), axis=0)
            out_steps = len(walk)
        self._clerk = np.concatenate([clerk[:step], walk]).astype(np.float32)
        step += out_steps
        self.period = step * _DT
        self._first = np.array(hall.first_step, dtype=np.int64)
        desk_path = np.stack([_QUEUE_PATH[0], _SERVICE_SPOT])
        self._tracks = [_to_xy(p, (_QUEUE_PATH, desk_path, _EXIT_PATH)) for p in hall.log]
        self._last = self._first + np.array([len(p) for p in self._tracks], dtype=np.int64)
        self._arrivals, self._start, self._end, self._gone = arrivals, hall.start, hall.end, hall.gone

    # -- public API -------------------------------------------------------------------------------------------

    @property
    def absences(self) -> list[tuple[float, float]]:
        """The clerk absence windows ``(start_s, end_s)`` (configured or drawn at random)."""
        return list(self._absences)

    def zones(self) -> list[Zone]:
        """The scene's zones: ``queue``, ``service`` (customer side of the desk) and ``counter`` (the clerk's).

        In the oblique view the floor-plan polygons are projected through the camera's homography, so a person
        is in a zone when their *feet* are: analyse with ``anchor: bottom_center``. The counter zone also
        covers the floor polygon raised to the desk's height: where the desk hides the clerk's feet, a
        detector's box ends at the desk top. In the top view they are the floor plan itself (``center``).

        Returns:
            Three new :class:`~kedirivms.analytics.zones.Zone` objects in normalised picture coordinates.
        """
        if self.config.view == "top":
            return [Zone(name=k, kind=k, points=_norm(v)) for k, v in _ZONES_REF.items()]
        import cv2

        out = []
        for k, v in _ZONES_REF.items():
            poly = _view.project(np.array(v, dtype=np.float64))
            if k == "counter":
                raised = _view.project(np.array(v, dtype=np.float64), _view.DESK[4])
                hull = cv2.convexHull(np.vstack([poly, raised]).astype(np.float32))
                poly = hull.reshape(-1, 2).astype(np.float64)
            clipped = _view.clip_polygon(poly)
            out.append(Zone(name=k, kind=k, points=_norm([(float(x), float(y)) for x, y in clipped])))
        return out

    @staticmethod
    def project(floor_xy: np.ndarray, width: int = 640, height: int = 360) -> np.ndarray:
        """Floor-plan points (640x360 reference units) to oblique-view pixels at ``width x height``.

        Args:
            floor_xy: ``(N, 2)`` floor points, e.g. :meth:`positions`' ``xy`` (the feet).
            width: picture width, pixels.
            height: picture height, pixels.

        Returns:
            A new ``(N, 2)`` float64 array of pixel coordinates.
        """
        return _view.project(np.asarray(floor_xy, dtype=np.float64).reshape(-1, 2)) * (width / _REF_W, height / _REF_H)

    def positions(self, t: float) -> tuple[np.ndarray, np.ndarray, np.ndarray | None]:
        """Where everybody is at scene time ``t``.

        Args:
            t: seconds (wrapped into ``[0, period)``).

        Returns:
            ``(ids, xy, clerk)``: visitor ids ``(K,)``, their centres ``(K, 2)`` in reference pixels
            (640x360 space) and the clerk's centre ``(2,)`` (new arrays).
        """
        t = float(t) % self.period
        f = t / _DT
        i = int(f)
        frac = f - i
        active = np.nonzero((self._first <= i) & (i < self._last))[0]
        xy = np.empty((len(active), 2), dtype=np.float64)
        for row, pid in enumerate(active):
            track = self._tracks[pid]
            j = i - self._first[pid]
            p0 = track[j]
            p1 = track[min(j + 1, len(track) - 1)]
            xy[row] = p0 + (p1 - p0) * frac
        c0 = self._clerk[i]
        c1 = self._clerk[min(i + 1, len(self._clerk) - 1)]
        return active, xy, (c0 + (c1 - c0) * frac).astype(np.float64)

    def render(self, index: int, t: float, width: int, height: int) -> np.ndarray:
        """Render the frame at scene time ``t`` (a pure function of ``t``, ``width`` and ``height``).

        Args:
            index: frame number (unused: the picture depends on ``t`` only).
            t: scene time, seconds.
            width: picture width, pixels (even).
            height: picture height, pixels (even).

        Returns:
            A new ``(height * 3 // 2, width)`` uint8 array in yuv420p (I420) layout, BT.601 limited range: luma
            rows, then the U and V quarter planes (neutral 128 in the grey top view).
        """
        del index
        if width % 2 or height % 2 or width < 16 or height < 16:
            raise InvalidArgument(f"render size must be even and at least 16x16, got {width}x{height}")
        if self.config.view == "top":
            out = np.empty((height * 3 // 2, width), dtype=np.uint8)
            out[:height] = self.render_luma(t, width, height)
            out[height:] = 128
            return out
        import cv2  # not at module level: importing OpenCV changes the environment

        out = np.asarray(cv2.cvtColor(self.render_bgr(t, width, height), cv2.COLOR_BGR2YUV_I420), dtype=np.uint8)
        out[:height] = self._light(out[:height].astype(np.float32), t, width, height)
        return out

    def render_bgr(self, t: float, width: int | None = None, height: int | None = None) -> np.ndarray:
        """Render the oblique view at scene time ``t`` as a colour picture, before sensor noise.

        Args:
            t: scene time, seconds.
            width: picture width (default: the configured one).
            height: picture height (default: the configured one).

        Returns:
            A new ``(height, width, 3)`` uint8 BGR array.
        """
        w, h = width or self.config.width, height or self.config.height
        bg, desk, mask, box = self._oblique.layers(w, h)
        img = bg.copy()
        sx, sy = w / _REF_W, h / _REF_H
        ids, xy, clerk = self.positions(t)
        if clerk is not None and clerk[1] >= 0.0:  # beyond y = 0 the clerk is out through the door
            feet = _view.project(clerk[None, :])[0] * (sx, sy)
            self._oblique.draw(img, feet, float(_view.person_height(clerk[None, :])[0]) * sy, _view.CLERK_SPRITE, False)
        x0, y0, x1, y1 = box
        np.copyto(img[y0:y1, x0:x1], desk[y0:y1, x0:x1], where=mask[y0:y1, x0:x1, None])
        if len(ids):
            feet_all = _view.project(xy) * (sx, sy)
            heights = _view.person_height(xy, self._scale[ids]) * sy
            for row in np.argsort(feet_all[:, 1], kind="stable"):  # far (higher in the picture) first
                pid = int(ids[row])
                self._oblique.draw(
                    img, feet_all[row], float(heights[row]), int(self._sprite[pid]), bool(self._grey[pid])
                )
        return img

    def render_luma(self, t: float, width: int | None = None, height: int | None = None) -> np.ndarray:
        """Render only the luma plane at scene time ``t`` (the Y rows of :meth:`render`).

        Args:
            t: scene time, seconds.
            width: picture width (default: the configured one).
            height: picture height (default: the configured one).

        Returns:
            A new ``(height, width)`` uint8 array.
        """
        w, h = width or self.config.width, height or self.config.height
        if self.config.view == "oblique":
            return self.render(0, t, w, h)[:h].copy()
        img = self._background(w, h).copy()
        sx, sy = w / _REF_W, h / _REF_H
        ids, xy, clerk = self.positions(t)
        for pid, (x, y) in zip(ids, xy, strict=True):
            k = float(self._scale[pid])
            _blob(img, x * sx, y * sy, _BODY[0] * sx * k, _BODY[1] * sy * k, float(self._lumas[pid]))
        if clerk is not None:
            _blob(img, clerk[0] * sx, clerk[1] * sy, _BODY[0] * sx * 1.1, _BODY[1] * sy, _CLERK_LUMA)
        return self._light(img, t, w, h)

    def _light(self, img: np.ndarray, t: float, w: int, h: int) -> np.ndarray:
        amount = self.config.lighting_noise
        tick = int(round(t * 1000.0))
        rng = np.random.default_rng([self.config.seed, tick])
        gain = 1.0 + amount * (0.04 * math.sin(2 * math.pi * t / 9.7) + 0.015 * float(rng.standard_normal()))
        fields = self._noise(w, h)
        noise = fields[int(rng.integers(len(fields)))]
        out = img * np.float32(gain)
        if amount > 0:
            out += noise
        np.clip(out, 0, 255, out=out)
        return out.astype(np.uint8)

    def _noise(self, w: int, h: int) -> np.ndarray:
        if (w, h) not in self._noise_cache:
            rng = np.random.default_rng([self.config.seed, w, h, 1])
            sigma = 3.0 * self.config.lighting_noise
            self._noise_cache[(w, h)] = (rng.standard_normal((8, h, w)) * sigma).astype(np.float32)
        return self._noise_cache[(w, h)]

    def _background(self, w: int, h: int) -> np.ndarray:
        if (w, h) in self._bg_cache:
            return self._bg_cache[(w, h)]
        sx, sy = w / _REF_W, h / _REF_H
        img = np.full((h, w), _FLOOR, dtype=np.float32)
        yy, xx = np.mgrid[0:h, 0:w]
        tile = 40.0
        grout = ((xx / sx) % tile < 1.5) | ((yy / sy) % tile < 1.5)
        img[grout] -= 12.0
        img[: int(_DESK[1] * sy), :] = _STAFF_FLOOR
        x0, y0, x1, y1 = (int(_DESK[0] * sx), int(_DESK[1] * sy), int(_DESK[2] * sx), int(_DESK[3] * sy))
        img[y0:y1, x0:x1] = _DESK_LUMA
        img[y1 - max(1, int(2 * sy)) : y1, x0:x1] = _DESK_LUMA - 40.0
        rng = np.random.default_rng([self.config.seed, w, h, 0])
        img += rng.normal(0.0, 2.0, (h, w)).astype(np.float32)  # static floor texture
        self._bg_cache[(w, h)] = img
        return img

    # -- ground truth -----------------------------------------------------------------------------------------

    def truth(self) -> CounterTruth:
        """Ground truth sampled at ``config.fps`` over one period (computed once, then cached).

        Returns:
            A :class:`CounterTruth`.
        """
        if self._truth is None:
            self._truth = self._compute_truth()
        return self._truth

    @staticmethod
    def _sample(track: np.ndarray, f: np.ndarray) -> np.ndarray:
        """Positions along a per-step track at fractional step indices (as :meth:`positions` does)."""
        i = np.minimum(f.astype(np.int64), len(track) - 1)
        j = np.minimum(i + 1, len(track) - 1)
        frac = (f - i)[:, None]
        return track[i] + (track[j] - track[i]) * frac

    def _compute_truth(self) -> CounterTruth:
        fps = self.config.fps
        zones = {k: Zone(name=k, kind=k, points=_norm(v)) for k, v in _ZONES_REF.items()}  # on the floor
        ref = (int(_REF_W), int(_REF_H))
        masks = {k: z.mask(ref) for k, z in zones.items()}
        times = np.arange(int(round(self.period * fps))) / fps
        qlen = np.zeros(len(times), dtype=np.int32)
        serv = np.zeros(len(times), dtype=bool)
        clerk = np.zeros(len(times), dtype=bool)
        visible = np.zeros(len(times), dtype=np.int32)
        steps = times / _DT
        for pid in range(len(self._tracks)):  # per person, vectorised over the frames of their visit
            sel = np.nonzero((steps >= self._first[pid]) & (steps < self._last[pid]))[0]
            xy = self._sample(self._tracks[pid], steps[sel] - self._first[pid])
            np.add.at(qlen, sel[_inside(masks["queue"], xy)], 1)
            serv[sel[_inside(masks["service"], xy)]] = True
            np.add.at(visible, sel[self._in_picture(xy, clerk=False, scale=float(self._scale[pid]))], 1)
        clerk_xy = self._sample(self._clerk, steps)
        clerk[:] = _inside(masks["counter"], clerk_xy)
        visible += self._in_picture(clerk_xy, clerk=True)
        people = []
        for pid, track in enumerate(self._tracks):
            t0 = self._first[pid] * _DT
            q = np.nonzero(_inside(masks["queue"], track))[0]
            s = np.nonzero(_inside(masks["service"], track))[0]
            qe = round(t0 + q[0] * _DT, 3) if len(q) else None
            se = round(t0 + s[0] * _DT, 3) if len(s) else None
            people.append(
                PersonTruth(
                    id=pid,
                    arrival_s=round(self._arrivals[pid], 3),
                    queue_enter_s=qe,
                    service_enter_s=se,
                    service_start_s=_r(self._start[pid]),
                    service_end_s=_r(self._end[pid]),
                    leave_s=_r(self._gone[pid]),
                    wait_s=round(se - qe, 3) if qe is not None and se is not None else None,
                    luma=int(self._lumas[pid]),
                    sprite=int(self._sprite[pid]) if self.config.view == "oblique" else -1,
                    scale=round(float(self._scale[pid]), 3),
                    grey=bool(self._grey[pid]),
                    companion_of=self._companion[pid],
                )
            )
        stall = np.zeros(len(times), dtype=bool)
        for a, b in self._stalls:
            stall |= (times >= a) & (times < b)
        return CounterTruth(
            times=times,
            queue_length=qlen,
            service_occupied=serv,
            clerk_present=clerk,
            people=people,
            absences=self.absences,
            unstaffed=_runs(times, ~clerk, 1.0 / fps),
            stalls=list(self._stalls),
            stalled=_runs(times, stall & clerk, 1.0 / fps),
            visible=visible,
        )

    def _in_picture(self, xy: np.ndarray, *, clerk: bool, scale: np.ndarray | float = 1.0) -> np.ndarray:
        """Which floor positions ``(N, 2)`` show a person in the picture: their centre (top view) or the middle of
        their body (oblique view) is inside it, and the clerk is not out beyond the back wall."""
        if len(xy) == 0:
            return np.zeros(0, dtype=bool)
        if self.config.view == "top":
            p = xy
        else:
            p = _view.project(xy, _view.PERSON_H * 0.5 * np.asarray(scale, dtype=np.float64))
        ok = (p[:, 0] >= 0) & (p[:, 0] < _REF_W) & (p[:, 1] >= 0) & (p[:, 1] < _REF_H)
        if clerk and self.config.view == "oblique":
            ok &= xy[:, 1] >= 0.0
        return ok

    def save_truth(self, path: str | Path) -> Path:
        """Write the ground truth as JSON (config, zones, people, absences, per-frame series).

        Args:
            path: the JSON file to write.

        Returns:
            The path written.
        """
        tr = self.truth()
        doc = {
            "config": self.config.model_dump(mode="json"),
            "period_s": self.period,
            "fps": self.config.fps,
            "zones": [z.model_dump(mode="json") for z in self.zones()],
            "absences": [list(a) for a in tr.absences],
            "unstaffed": [list(a) for a in tr.unstaffed],
            "stalls": [list(a) for a in tr.stalls],
            "stalled": [list(a) for a in tr.stalled],
            "people": [asdict(p) for p in tr.people],
            "frames": {
                "time_s": [round(float(t), 3) for t in tr.times],
                "queue_length": tr.queue_length.tolist(),
                "service_occupied": tr.service_occupied.astype(int).tolist(),
                "clerk_present": tr.clerk_present.astype(int).tolist(),
                "visible": tr.visible.tolist(),
            },
        }
        out = Path(path)
        out.write_text(json.dumps(doc, separators=(",", ":")))
        return out

    def __repr__(self) -> str:
        c = self.config
        return (
            f"CounterScene(seed={c.seed}, arrival_rate_per_min={c.arrival_rate_per_min}, "
            f"service_time_s={c.service_time_s}, people={len(self._tracks)}, period={self.period:.1f})"
        )


def _windows(windows: Sequence[tuple[float, float]], what: str) -> list[tuple[float, float]]:
    out = sorted((float(a), float(b)) for a, b in windows)
    for a, b in out:
        if b <= a or a < 0:
            raise InvalidArgument(f"{what} window ({a}, {b}) must have 0 <= start < end")
    return out


def _lookup(table: dict[int, int], key: int | None) -> int | None:
    return None if key is None else table[key]


def _r(v: float | None) -> float | None:
    return None if v is None else round(v, 3)


def _norm(points: Sequence[tuple[float, float]]) -> tuple[tuple[float, float], ...]:
    return tuple(
        (min(max(round(x / _REF_W, 5), 0.0), 1.0), min(max(round(y / _REF_H, 5), 0.0), 1.0)) for x, y in points
    )


def _inside(mask: np.ndarray, xy: np.ndarray) -> np.ndarray:
    h, w = mask.shape
    if len(xy) == 0:
        return np.zeros(0, dtype=bool)
    xi, yi = np.floor(xy[:, 0]).astype(np.int64), np.floor(xy[:, 1]).astype(np.int64)
    ok = (xi >= 0) & (xi < w) & (yi >= 0) & (yi < h)
    out = np.zeros(len(xy), dtype=bool)
    out[ok] = mask[yi[ok], xi[ok]]
    return out


def _runs(times: np.ndarray, flag: np.ndarray, dt: float) -> list[tuple[float, float]]:
    """Intervals where ``flag`` is True, as (first time, last time + dt)."""
    out = []
    idx = np.nonzero(np.diff(np.concatenate([[0], flag.astype(np.int8), [0]])))[0]
    for a, b in zip(idx[::2], idx[1::2], strict=True):
        out.append((round(float(times[a]), 3), round(float(times[b - 1]) + dt, 3)))
    return out


def _blob(img: np.ndarray, cx: float, cy: float, rx: float, ry: float, luma: float) -> None:
    """Paint a top-down person (body ellipse, dark-haired head disc) into ``img`` in place."""
    h, w = img.shape
    x0, x1 = max(int(cx - rx) - 1, 0), min(int(cx + rx) + 2, w)
    y0, y1 = max(int(cy - ry) - 1, 0), min(int(cy + ry) + 2, h)
    if x0 >= x1 or y0 >= y1:
        return
    yy, xx = np.ogrid[y0:y1, x0:x1]
    dx, dy = (xx - cx) / rx, (yy - cy) / ry
    body = dx * dx + dy * dy <= 1.0
    patch = img[y0:y1, x0:x1]
    patch[body] = luma
    head = (dx * dx + dy * dy) * 4.0 <= 1.0
    patch[head] = _HAIR
