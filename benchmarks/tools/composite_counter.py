"""Composite counter scenes for the queue plugin, made without the project's renderer or its analyzer's rules.

Real people cut out of real clips walk and stand in a counter line on a real empty plate: the plate is the
temporal median of OpenCV's ``vtest.avi`` (an outdoor campus plaza, Apache-2.0 AND BSD-3-Clause, from Debian's
``opencv-doc``); the people are cut out of ``vtest.avi`` (walkers) and Intel's ``one-by-one-person-detection.mp4``
(people standing, seen from behind; CC BY 4.0) by background subtraction and tracking (``_composite_people``).
A desk is drawn into the plate from real pixels (``_composite_plate``). A small agent model of its own moves the
visitors (Poisson arrivals, a line, a desk, a clerk, passers-by); every frame is written with mild sensor noise
and a slow brightness drift as H.264 at CCTV rates, with the truth (``kedirivms-footage-truth/1``) and a scene
file (queue length, clerk presence, who is who).

Two camera views (``--view``) of the same plate and camera; only where the desk and the line are differs:

- ``along`` (default; files ``{scenario}-s{seed}``): the desk far off (its front about 25 m from the camera, under
  picture point (390, 112)), the line running from it towards the camera, down-right in the picture. The one
  served and the front of the line stand behind one another; the desk zone (1 m deep) is ~13 px tall for people
  80-95 px tall.
- ``across`` (files ``{scenario}-x-s{seed}``): the desk nearer, on the paving at the right (front about 16.7 m
  away, under (565, 268)), the line running from beside its left leftwards across the picture onto the grass,
  bending a little away from the camera to pass behind the tripod, in front of the lamp post (room for ~9-10
  people). People in line stand side by side with floor between them; the desk zone is ~31 px tall where
  the one served stands (a 1.7 m person: ~115 px, ratio ~0.27). Entries, exits, passers-by and the clerk's way
  out have their own routes (``ROUTES_PX_ACROSS``), clear of the desk and staff zones and of the tripod's feet;
  those who give up step out behind the line and walk off to the left.

Zones follow the same conventions in both views: 'line' a 1.3 m wide band along the line's path from 0.2 m before
its head to 0.6 m past its end; 'desk' the floor 0.05-1.05 m in front of the desk, 0.1 m wider each side; 'staff'
the picture area where the feet of someone standing behind the desk show.

Usage:
    python benchmarks/tools/composite_counter.py --out DIR --scenario steady --seed 1 [--duration 300]
    python benchmarks/tools/composite_counter.py --out DIR --scenario all --seed 1 2 3 [--view across]
"""

from __future__ import annotations

import argparse
import functools
import hashlib
import json
import os
import time
from collections.abc import Iterable, Iterator
from dataclasses import asdict, dataclass, fields
from pathlib import Path

import _composite_people as cpeople
import _composite_plate as cplate
import av
import numpy as np

ROOT = Path(__file__).resolve().parents[2]
# (make footage takes vtest.avi out of Debian's opencv-doc; KEDIRIVMS_FOOTAGE names another folder, as for the tests)
VTEST = Path(os.environ.get("KEDIRIVMS_FOOTAGE", ROOT / ".cache" / "footage")) / "vtest.avi"
ONE_BY_ONE = ROOT / "tests/data/footage/one-by-one-person-detection.mp4"
FPS = 10
W, H = 640, 360
WRITTEN = "2026-12-07"  # the generator's date, fixed so that the files are the same whenever they are made


@dataclass(frozen=True)
class Scenario:
    """A scene's parameters: visitor arrival rates (from time s, per minute), service, passers-by, the clerk."""

    arrivals: tuple[tuple[float, float], ...]
    service_median_s: float
    passers_per_min: float
    gap_m: tuple[float, float]  # distance kept to the one ahead in line
    away: tuple[float, float] | None = None  # the clerk walks out / is back, s
    stall: tuple[float, float] | None = None  # the clerk is there but calls nobody, s
    peak: tuple[int, int] | None = None  # the longest line the scenario is about; other draws are redrawn
    grows: tuple[float, float] | None = None  # the line must grow by 2+ over this interval (s); else redrawn
    pair_p: float = 0.12  # an arrival is two people together
    service_sigma: float = 0.4  # lognormal
    patience_median_s: float = 240.0  # lognormal (sigma 0.5): waiting longer, a visitor gives up

    def shaped(self, waiting: list[int], fps: int) -> bool:
        """Whether a draw has the line the scenario is about (its peak; its growth while nobody is served)."""
        ok = self.peak is None or self.peak[0] <= max(waiting) <= self.peak[1]
        if self.grows is not None and int(self.grows[1] * fps) < len(waiting):
            ok = ok and waiting[int(self.grows[1] * fps)] - waiting[int(self.grows[0] * fps)] >= 2
        return ok

    def rate(self, t: float) -> float:
        """Visitor arrivals per minute at time ``t``."""
        return [r for start, r in self.arrivals if t >= start][-1]


@dataclass
class Agent:
    """A person in the scene (visitor, passer-by or clerk) and what happened to them."""

    aid: int
    role: str
    app: cpeople.Appearance
    pos: np.ndarray
    speed: float
    route: list[np.ndarray]
    state: str
    born: float
    entry: str = ""
    gap: float = 0.75
    lateral: float = 0.0
    s: float = 0.0
    slot: float = 0.0
    via: bool = True  # still to pass the point behind their place in line
    react_at: float = -1.0
    moving: bool = False
    service_s: float = 0.0
    done_at: float = 0.0
    patience: float = 1e9
    companion_of: int | None = None
    abandoned: bool = False
    exit: str = ""
    joined_s: float | None = None
    called_s: float | None = None
    gone_s: float | None = None
    queue_enter_s: float | None = None
    service_enter_s: float | None = None
    service_end_s: float | None = None
    left_line_s: float | None = None
    stand_facing: tuple[float, float] = (0.0, -1.0)

    def record(self) -> dict[str, object]:
        """The agent for the scene file."""
        internal = {"app", "pos", "speed", "route", "state", "lateral", "s", "slot", "via", "react_at", "moving"}
        skip = internal | {"done_at", "stand_facing"}
        out: dict[str, object] = {f.name: _round(getattr(self, f.name)) for f in fields(self) if f.name not in skip}
        out["sprite"] = self.app.ident.name
        out["scale"] = round(self.app.scale, 3)
        out["look"] = {k: round(v, 2) for k, v in self.app.look.items()}
        return out


def _round(v: object) -> object:
    return round(v, 2) if isinstance(v, float) else v


class Sim:
    """The agent model, stepped once per frame; keeps per-frame truth and what to draw."""

    def __init__(
        self,
        layout: cplate.Layout,
        people: list[cpeople.Identity],
        sc: Scenario,
        rng: np.random.Generator,
        fps: int,
    ) -> None:
        self.lay, self.sc, self.rng, self.dt = layout, sc, rng, 1.0 / fps
        walkers = [p for p in people if any(r.loop[1] - r.loop[0] >= 6 for r in p.walk)]
        # the clerk faces the camera: someone filmed standing and walking towards it, else walking towards it
        towards = [p for p in walkers if p.clip == "vtest" and any(r.step[1] > 1.0 for r in p.walk)]
        standing = [p for p in towards if p.stand] or towards
        clerk_ident = standing[int(rng.integers(len(standing)))]
        self.visitor_pool = [
            p for p in walkers if p is not clerk_ident and (self._back(p) or any(r.step[1] < -0.8 for r in p.walk))
        ]
        self.passer_pool = [p for p in walkers if p is not clerk_ident and p.clip == "vtest"]
        self.floor_grey = float(layout.plate[200:300, 450:620].mean())
        self.agents: list[Agent] = []
        self.visitors: list[Agent] = []
        self.passers: list[Agent] = []
        self.line: list[Agent] = []  # in order of reaching the line (a companion right behind their lead)
        self.coming: list[Agent] = []  # visitors on their way to the line, not in it yet
        self.pending: list[tuple[float, Agent]] = []  # companions about to appear
        self.desk_user: Agent | None = None
        self.free_since = 0.0
        self.next_id = 1
        self.clerk = self._agent("clerk", clerk_ident, layout.post.copy(), 1.0, [], "post", 0.0, (0.0, 1.0))
        self.clerk.app.scale = float(rng.uniform(0.95, 1.05))
        self.leave_at = sc.away[0] + float(rng.uniform(-4, 4)) if sc.away else None
        self.back_at = sc.away[1] + float(rng.uniform(-4, 4)) if sc.away else None
        self.counts: list[dict[str, int]] = []
        self.waiting: list[int] = []
        self.clerk_present: list[bool] = []
        self.serving: list[bool] = []
        self.draw: list[list[cpeople.Sprite]] = []
        self.feet: list[list[list[float]]] = []  # per frame: [id, x, y] of everyone in the scene (clerk: id 0)

    # -- people -------------------------------------------------------------------------------------------
    def _agent(
        self,
        role: str,
        ident: cpeople.Identity,
        pos: np.ndarray,
        speed: float,
        route: list[np.ndarray],
        state: str,
        t: float,
        facing: tuple[float, float],
        scale: float = 1.0,
    ) -> Agent:
        look = cpeople.random_look(self.rng, self.floor_grey)
        use_stand = role == "clerk" or self._back(ident)
        app = cpeople.Appearance(ident, look, scale, facing, self.rng, use_stand)
        agent = Agent(self.next_id if role != "clerk" else 0, role, app, pos, speed, route, state, t)
        self.next_id += role != "clerk"
        self.agents.append(agent)
        return agent

    @staticmethod
    def _back(p: cpeople.Identity) -> bool:
        """Standing footage seen from behind (one-by-one's visitors face the stand, away from the camera)."""
        return bool(p.stand) and p.clip == "one-by-one"

    def _pick(self, pool: list[cpeople.Identity]) -> cpeople.Identity:
        """An identity not on screen now if possible."""
        busy = {a.app.ident.name for a in self.agents}
        free = [p for p in pool if p.name not in busy] or pool
        return free[int(self.rng.integers(len(free)))]

    def _route(self, name: str) -> list[np.ndarray]:
        return [p.copy() for p in self.lay.routes[name]]

    def _arrive(self, t: float) -> None:
        entry = str(self.rng.choice(["enter_right", "enter_left", "enter_top"], p=[0.45, 0.3, 0.25]))
        route = self._route(entry)
        lead = self._visitor(t, entry, route, None)
        if self.rng.random() < self.sc.pair_p:
            side = self.rng.normal(0, 0.2, 2)
            mate = self._visitor(t, entry, [p + side for p in route], lead)
            mate.speed = lead.speed  # they walk together, one a step behind
            self.pending.append((t + float(self.rng.uniform(0.3, 1.0)), mate))

    def _visitor(self, t: float, entry: str, route: list[np.ndarray], lead: Agent | None) -> Agent:
        scale = float(self.rng.uniform(0.85, 1.15))
        a = self._agent(
            "visitor",
            self._pick(self.visitor_pool),
            route[0].copy(),
            float(self.rng.uniform(1.1, 1.45)),
            route[1:],
            "approach",
            t,
            (0.0, -1.0),
            scale,
        )
        a.entry = entry
        a.gap = float(self.rng.uniform(0.45, 0.6) if lead else self.rng.uniform(*self.sc.gap_m))
        a.lateral = float(self.rng.normal(0, 0.1))
        a.service_s = float(
            np.clip(self.sc.service_median_s * np.exp(self.rng.normal(0, self.sc.service_sigma)), 8, 150)
        )
        a.patience = float(self.sc.patience_median_s * np.exp(self.rng.normal(0, 0.5)))
        if lead is not None:  # those who came together give up together
            a.patience = lead.patience
        a.companion_of = lead.aid if lead else None
        self.visitors.append(a)
        self.coming.append(a)  # takes a place in line on reaching its back (``_step_coming``)
        if lead is not None:
            self.agents.remove(a)  # appears a moment later
            a.state = "pending"
        return a

    def _passer(self, t: float) -> None:
        names = [k for k in self.lay.routes if k.startswith("pass_")]
        route = self._route(str(self.rng.choice(names)))
        if self.rng.random() < 0.5:
            route.reverse()
        a = self._agent(
            "passer",
            self._pick(self.passer_pool),
            route[0].copy(),
            float(self.rng.uniform(1.1, 1.6)),
            route[1:],
            "leave",
            t,
            (0.0, 1.0),
            float(self.rng.uniform(0.85, 1.15)),
        )
        self.passers.append(a)

    # -- motion -------------------------------------------------------------------------------------------
    def _walk_to(self, a: Agent, target: np.ndarray, speed: float) -> bool:
        """Move towards a floor point; True when there."""
        d = target - a.pos
        n = float(np.hypot(*d))
        step = speed * self.dt
        if n <= step:
            a.pos = target.copy()
            return True
        a.pos = a.pos + d / n * step
        return False

    def _follow(self, a: Agent) -> bool:
        """Walk the route; True when it is done."""
        while a.route and self._walk_to(a, a.route[0], a.speed):
            a.route.pop(0)
            if a.route:
                return False
        return not a.route

    def _line_point(self, a: Agent, s: float) -> np.ndarray:
        return cplate.along(self.lay.path, s) + cplate.normal_at(self.lay.path, s) * a.lateral

    def _serving(self, t: float) -> bool:
        stall = self.sc.stall
        return (
            self.clerk.state == "post"
            and not (stall and stall[0] <= t < stall[1])
            and not (self.leave_at is not None and t >= self.leave_at and self.back_at is not None and t < self.back_at)
        )

    def _leave(self, a: Agent, t: float) -> None:
        a.exit = str(self.rng.choice(["exit_left", "exit_right", "exit_top"], p=[0.35, 0.4, 0.25]))
        if a.abandoned:
            a.exit = str(self.rng.choice(["exit_left", "exit_right"]))
            quit_name = a.exit.replace("exit_", "quit_")
            if quit_name in self.lay.routes:  # a layout with its own ways out of the line: step out behind it
                # (0.9 m from the line's path: out of its 0.65 m half-width zone, short of the lamp post behind it)
                step = cplate.normal_at(self.lay.path, a.s) * (0.9 - a.lateral)
                a.route = [a.pos + step] + self._route(quit_name)
            else:
                side = cplate.normal_at(self.lay.path, a.s) * (1.1 if a.exit == "exit_right" else -1.1)
                a.route = [a.pos + side] + self._route(a.exit)[1:]
        else:
            a.route = self._route(a.exit)
        a.state, a.speed = "leave", float(self.rng.uniform(1.1, 1.4))

    def _step_line(self, t: float) -> float | None:
        """Those in line: joining their place, giving up, moving up, being called; returns where its back is."""
        ahead_s: float | None = None
        for idx, a in enumerate(list(self.line)):
            if a.state == "pending":
                ahead_s = (ahead_s or 0.0) + a.gap
                continue
            target = 0.0 if ahead_s is None else ahead_s + a.gap
            if a.state == "line" and a.joined_s is not None and t - a.joined_s > a.patience and idx > 0:
                self.line.remove(a)
                a.abandoned = True
                self._leave(a, t)
                continue
            if a.state == "approach":
                a.slot = target
                if a.route:
                    self._follow(a)
                elif a.via:
                    a.via = not self._walk_to(a, self._line_point(a, target + 1.0), a.speed)
                elif self._walk_to(a, self._line_point(a, target), 0.9):
                    a.state, a.s, a.joined_s = "line", target, t
                ahead_s = target
                continue
            if a.s - target > 0.3 and not a.moving:
                if a.react_at < 0:
                    a.react_at = t + float(self.rng.uniform(0.4, 1.5))
                if t >= a.react_at:
                    a.moving, a.react_at = True, -1.0
            if a.moving:
                a.s = max(target, a.s - 0.8 * self.dt)
                a.moving = a.s > target + 1e-6
                a.pos = self._line_point(a, a.s)
            ahead_s = a.s
            if idx == 0 and not a.moving and a.s < 0.3 and self.desk_user is None and self._serving(t):
                if a.react_at < 0:
                    a.react_at = max(t, self.free_since) + float(self.rng.uniform(0.8, 2.5))
                if t >= a.react_at:
                    self.line.remove(a)
                    self.desk_user, a.state, a.called_s, a.react_at = a, "to_desk", t, -1.0
                    a.speed = 0.9
        return ahead_s

    def _step_coming(self, back: float | None) -> None:
        """Visitors on their way: walk their entry route, then to 1 m behind the back of the line; whoever gets
        there first takes the place at the back (first come, first served; no place is kept for anyone still on
        their way), a companion right behind their lead (they go on to their places in ``_step_line``)."""
        for a in list(self.coming):
            if a.state == "pending" or a not in self.coming:
                continue
            target = 0.0 if back is None else back + a.gap
            a.slot = target
            if a.route:
                self._follow(a)
            elif a.via:
                a.via = not self._walk_to(a, self._line_point(a, target + 1.0), a.speed)
            if a.route or a.via or a.companion_of is not None:  # (a companion joins with their lead)
                continue
            back = target
            for b in [a] + [m for m in self.coming if m.companion_of == a.aid]:
                self.coming.remove(b)
                self.line.append(b)
                back += b.gap if b is not a else 0.0

    def step(self, i: int) -> None:
        """Advance one frame and record its truth."""
        t = i * self.dt
        rate = self.sc.rate(t) / (1 + self.sc.pair_p)
        if self.rng.random() < rate / 60 * self.dt:
            self._arrive(t)
        if self.rng.random() < self.sc.passers_per_min / 60 * self.dt:
            self._passer(t)
        for when, mate in list(self.pending):
            if t >= when:
                self.pending.remove((when, mate))
                self.agents.append(mate)
                mate.state, mate.born = "approach", t
        before = {id(a): a.pos.copy() for a in self.agents}
        self._step_coming(self._step_line(t))
        for a in list(self.agents):
            if a.state == "to_desk" and self._walk_to(a, self.lay.service, a.speed):
                a.state, a.done_at = "served", t + a.service_s
            elif a.state == "served" and t >= a.done_at:
                self._leave(a, t)
            elif a.state == "leave" and self._follow(a):
                a.state, a.gone_s = "gone", t
                self.agents.remove(a)
        user = self.desk_user
        if user is not None and (
            user.state == "gone" or (user.state == "leave" and np.hypot(*(user.pos - self.lay.service)) > 1.0)
        ):
            self.desk_user, self.free_since = None, t
        self._step_clerk(t)
        self._record(i, t, before)

    def _step_clerk(self, t: float) -> None:
        c = self.clerk
        away = self.leave_at is not None and self.back_at is not None and self.leave_at <= t < self.back_at
        if c.state == "post" and away and self.desk_user is None:
            c.state, c.route, c.speed = "leave_post", self._route("clerk"), 1.2
        if c.state == "leave_post" and self._follow(c):
            c.state = "away"
            self.agents.remove(c)
        if c.state == "away" and self.back_at is not None and t >= self.back_at:
            route = self._route("clerk")[::-1]
            c.pos, c.route, c.state = route[0].copy(), route[1:] + [self.lay.post.copy()], "return"
            self.agents.append(c)
        if c.state == "return" and self._follow(c):
            c.state = "post"

    # -- truth and drawing ----------------------------------------------------------------------------------
    def _record(self, i: int, t: float, before: dict[int, np.ndarray]) -> None:
        lay = self.lay
        w, h = lay.size
        on = [a for a in self.agents if a.state != "pending"]
        feet = np.array([lay.image(a.pos) for a in on]).reshape(-1, 2)
        inside = (feet[:, 0] >= 0) & (feet[:, 0] < w) & (feet[:, 1] >= 0) & (feet[:, 1] < h)
        zone_in = {z.name: z.contains(feet, (w, h)) & inside for z in lay.zones}
        self.counts.append({k: int(v.sum()) for k, v in zone_in.items()})
        for k, a in enumerate(on):
            if a.role == "visitor":
                self._truth(a, t, bool(zone_in["line"][k]), bool(zone_in["desk"][k]))
        self.waiting.append(
            sum(
                v.queue_enter_s is not None and v.service_enter_s is None and v.left_line_s is None
                for v in self.visitors
            )
        )
        k_clerk = next((k for k, a in enumerate(on) if a is self.clerk), None)
        self.clerk_present.append(bool(zone_in["staff"][k_clerk]) if k_clerk is not None else False)
        self.serving.append(self._serving(t))
        self.feet.append([[a.aid, round(float(x), 1), round(float(y), 1)] for a, (x, y) in zip(on, feet, strict=True)])
        self.draw.append(
            [
                self._sprite(a, t, before.get(id(a)))
                for a, (x, y) in zip(on, feet, strict=True)
                if -120 < x < w + 120 and -5 < y < h + 260
            ]
        )

    def _truth(self, a: Agent, t: float, in_line: bool, in_desk: bool) -> None:
        if a.queue_enter_s is None and a.service_enter_s is None and in_line and not a.abandoned:
            a.queue_enter_s = t
        if a.service_enter_s is None and in_desk:
            a.service_enter_s = t
        elif a.service_enter_s is not None and a.service_end_s is None and not in_desk:
            a.service_end_s = t
        if a.abandoned and a.queue_enter_s is not None and a.left_line_s is None and not in_line:
            a.left_line_s = t

    def _sprite(self, a: Agent, t: float, prev: np.ndarray | None) -> cpeople.Sprite:
        lay = self.lay
        x, y = lay.image(a.pos)
        target_h = lay.cam.person_px(y) * a.app.scale
        moved = 0.0 if prev is None else float(np.hypot(*(a.pos - prev)))
        sway = 0.0
        if moved > 0.02:
            px, py = lay.image(prev) if prev is not None else (x, y)
            frame, ref_h, mirror = a.app.walk_frame((x - px, y - py), moved)
        else:
            facing = (0.0, 1.0) if a.role == "clerk" else self._facing(a)
            if facing != a.stand_facing:
                a.stand_facing = facing
                a.app.set_facing(facing, a.app.still_mirror)
            frame, ref_h, mirror, sway = a.app.stand_frame(t)
        return cpeople.Sprite(
            a.app, frame, target_h / ref_h, (x + sway * target_h, y), mirror, 0.26 / cplate.PERSON_M * target_h
        )

    def _facing(self, a: Agent) -> tuple[float, float]:
        """Standing visitors face the desk (picture direction, rounded so the choice is stable)."""
        sx, sy = self.lay.image(self.lay.service)
        x, y = self.lay.image(a.pos)
        d = np.array([sx - x, sy - y - 40.0])
        d /= np.hypot(*d) + 1e-9
        return (round(float(d[0]), 1), round(float(d[1]), 1))

    def run(self, n_frames: int) -> None:
        """Simulate ``n_frames`` frames."""
        for i in range(n_frames):
            self.step(i)

    def intervals(self, flags: list[bool], value: bool) -> list[list[float]]:
        """[start, end) times (s) of the runs where ``flags`` equals ``value`` (end: the clip's end)."""
        out: list[list[float]] = []
        for i, f in enumerate(flags):
            if f == value and (i == 0 or flags[i - 1] != value):
                out.append([round(i * self.dt, 1), round(len(flags) * self.dt, 1)])
            if f != value and i > 0 and flags[i - 1] == value:
                out[-1][1] = round(i * self.dt, 1)
        return out


SCENARIOS: dict[str, Scenario] = {
    "steady": Scenario(arrivals=((0.0, 1.6),), service_median_s=30.0, passers_per_min=1.2, gap_m=(0.6, 0.9)),
    "rush": Scenario(
        arrivals=((0.0, 1.0), (60.0, 5.0), (150.0, 1.0)),
        service_median_s=25.0,
        passers_per_min=1.2,
        gap_m=(0.6, 0.85),
        peak=(7, 9),
    ),
    "away": Scenario(
        arrivals=((0.0, 1.6),),
        service_median_s=30.0,
        passers_per_min=1.2,
        gap_m=(0.6, 0.9),
        away=(100.0, 190.0),
        grows=(110.0, 190.0),
    ),
    "stall": Scenario(
        arrivals=((0.0, 1.6),),
        service_median_s=30.0,
        passers_per_min=1.2,
        gap_m=(0.6, 0.9),
        stall=(110.0, 230.0),
        grows=(110.0, 230.0),
    ),
    "crowd": Scenario(
        arrivals=((0.0, 2.5),), service_median_s=25.0, passers_per_min=3.0, gap_m=(0.55, 0.7), peak=(4, 7)
    ),
}


@dataclass
class Library:
    """Everything taken from the real clips: the plate, the floor model, the desk, occluders and the people."""

    plate: np.ndarray
    layout: cplate.Layout
    people: list[cpeople.Identity]
    occluders: list[cplate.Occluder]


def build_library(view: str = "along") -> Library:
    """Cut the people out of both clips, estimate the plate and its floor geometry, place the desk for ``view``."""
    x0, y0, cw, ch = cplate.CROP
    vt_people, vt_bg, obo_people, obo_bg = _cut_outs(VTEST)
    a, b = cpeople.fit_height(vt_people)
    steps = [(r.step[0], r.step[1], r.foot_y) for p in vt_people for r in p.walk if len(r.frames) >= 15]
    focal = cplate.fit_focal(steps, a, b)
    cam = cplate.Camera(a=a + b * y0, b=b, focal=focal, cx=vt_bg.shape[1] / 2 - x0)
    plate = np.ascontiguousarray(vt_bg[y0 : y0 + ch, x0 : x0 + cw])
    wood, wall = cplate.textures(obo_bg)
    layout = cplate.make_layout(plate, cam, wood, wall, (W, H), view)
    return Library(layout.plate, layout, vt_people + obo_people, cplate.occluders(plate))


@functools.cache
def _cut_outs(vtest: Path) -> tuple[list[cpeople.Identity], np.ndarray, list[cpeople.Identity], np.ndarray]:
    """The people cut out of ``vtest`` and the one-by-one clip, and each clip's background (once per process: both
    views use the same people)."""
    vt = cpeople.Source(vtest, "vtest", threshold=28, min_height=55, track_scale=0.5)
    # the lamp post, its sign and the tripod (vtest px): people passing them are not cut out
    vt_people, vt_bg = cpeople.extract(vt, exclude=[(392, 0, 60, 400), (452, 330, 82, 160)])
    obo = cpeople.Source(
        ONE_BY_ONE,
        "one-by-one",
        threshold=35,
        empty_start_s=4.0,
        min_height=140,
        work_scale=0.5,
        track_scale=0.5,
        shadows=False,
        shadow_band=0.35,
        shadow_tol=0.18,
        floor_key=True,
        crowded=False,
        head=0.72,
        every=2,
    )
    obo_people, obo_bg = cpeople.extract(obo)
    return vt_people, vt_bg, obo_people, obo_bg


def encode(path: Path, frames: Iterable[np.ndarray], bit_rate: int = 600_000) -> None:
    """Write BGR frames as H.264 (libx264, yuv420p, GOP 10) at 10 fps."""
    with av.open(str(path), "w", format="mp4") as out:
        stream = out.add_stream("libx264", rate=FPS)
        stream.width, stream.height, stream.pix_fmt = W, H, "yuv420p"
        stream.bit_rate = bit_rate
        stream.gop_size = 10
        stream.options = {"preset": "veryfast", "x264-params": "keyint=10:min-keyint=10:scenecut=0:threads=2"}
        for img in frames:
            frame = av.VideoFrame.from_ndarray(img, format="bgr24")
            for packet in stream.encode(frame):
                out.mux(packet)
        for packet in stream.encode():
            out.mux(packet)


def sha256(path: Path) -> str:
    """Hex digest of a file."""
    return hashlib.sha256(path.read_bytes()).hexdigest()


def stem_of(name: str, seed: int, view: str) -> str:
    """Output file stem: ``{scenario}-s{seed}`` for the along view, ``{scenario}-x-s{seed}`` for across."""
    return f"{name}-s{seed}" if view == "along" else f"{name}-x-s{seed}"


def generate(lib: Library, out: Path, name: str, seed: int, duration: float, view: str = "along") -> dict[str, object]:
    """One scene: simulate (redrawing until the scenario's line peak holds), render, encode, write the truth."""
    scenario = SCENARIOS[name]
    index = list(SCENARIOS).index(name)
    n_frames = int(round(duration * FPS))
    stem = stem_of(name, seed, view)
    for attempt in range(40):
        sim = Sim(lib.layout, lib.people, scenario, np.random.default_rng([index, seed, attempt]), FPS)
        sim.run(n_frames)
        if scenario.shaped(sim.waiting, FPS):
            break
    else:
        print(f"{stem}: no draw had the scenario's line ({scenario.peak}, {scenario.grows}); kept the last")
    mp4 = out / f"{stem}.mp4"
    noise_rng = np.random.default_rng([index, seed, 1000])
    encode(mp4, render(lib, sim, noise_rng))
    truth = truth_doc(lib.layout, sim, mp4)
    (out / f"{stem}.truth.json").write_text(json.dumps(truth, indent=1) + "\n", encoding="utf-8")
    summary = summarise(sim, name, seed)
    scene = scene_doc(lib, sim, name, seed, attempt, duration, summary, view)
    (out / f"{stem}.scene.json").write_text(json.dumps(scene, indent=1) + "\n", encoding="utf-8")
    return summary


def render(lib: Library, sim: Sim, rng: np.random.Generator) -> Iterator[np.ndarray]:
    """Frames of the scene: painter's order by feet row, then sensor noise and a slow brightness drift."""
    noise = [rng.normal(0.0, 2.2, (H, W, 1)).astype(np.float32) for _ in range(16)]
    chroma = [rng.normal(0.0, 1.0, (H, W, 3)).astype(np.float32) for _ in range(16)]
    phase = rng.uniform(0, 2 * np.pi, 2)
    desk = lib.layout.desk
    desk_pm = cpeople.premultiply(desk.layer[desk.box[1] : desk.box[3], desk.box[0] : desk.box[2]])
    for i, items in enumerate(sim.draw):
        t = i / FPS
        img = lib.plate.astype(np.float32)
        layers: list[tuple[float, int, object]] = [(d.foot[1], 1, d) for d in items]
        layers.append((desk.base_y, 0, desk))
        layers += [(o.base_y, 0, o) for o in lib.occluders]
        for _, _, obj in sorted(layers, key=lambda e: (e[0], e[1])):
            if isinstance(obj, cplate.Desk):
                cpeople.blend(img, desk_pm, obj.box[0], obj.box[1])
            elif isinstance(obj, cplate.Occluder):
                x0, y0, x1, y1 = obj.box
                a = obj.alpha[y0:y1, x0:x1, None]
                img[y0:y1, x0:x1] = img[y0:y1, x0:x1] * (1 - a) + lib.plate[y0:y1, x0:x1].astype(np.float32) * a
            elif isinstance(obj, cpeople.Sprite):
                cpeople.draw_person(img, obj)
        gain = 1.0 + 0.035 * np.sin(2 * np.pi * t / 170.0 + phase[0]) + 0.012 * np.sin(2 * np.pi * t / 47.0 + phase[1])
        img = img * gain + noise[rng.integers(16)] + 0.6 * chroma[rng.integers(16)]
        yield np.clip(img, 0, 255).astype(np.uint8)


def truth_doc(layout: cplate.Layout, sim: Sim, mp4: Path) -> dict[str, object]:
    """The ``kedirivms-footage-truth/1`` document."""
    return {
        "format": "kedirivms-footage-truth/1",
        "clip": mp4.name,
        "source": (
            "Composite. Plate: temporal median of OpenCV's vtest.avi (outdoor plaza; from Debian's opencv-doc, "
            "Apache-2.0 AND BSD-3-Clause), cropped 640x360 at native scale; desk faces from the floor and wall "
            "pixels of intel-iot-devkit/sample-videos one-by-one-person-detection.mp4 (Intel Corporation, CC BY "
            "4.0). People: animated cut-outs (background subtraction + tracking) of real walkers in vtest.avi and "
            "of the standing visitors in one-by-one-person-detection.mp4, recoloured per visitor. Made by "
            "benchmarks/tools/composite_counter.py."
        ),
        "sha256": sha256(mp4),
        "fps": float(FPS),
        "size": [W, H],
        "annotator": f"kedirivms composite generator (independent of the project's renderer), {WRITTEN}",
        "rule": (
            "Every frame, from the generator's own state: a person counts in a zone when their feet point (the "
            "bottom-centre of their un-occluded cut-out, where the feet touch the floor) is inside the zone "
            "polygon (Zone.contains at 640x360), occluded or not; visitors, passers-by and the clerk alike. "
            "Tracks: one per visitor; queue_enter_s = first frame their feet are inside 'line' before reaching "
            "the desk; service_enter_s = first frame their feet are inside 'desk'; service_end_s = first frame "
            "after that their feet are outside 'desk'; times are frame index / 10; null = did not happen in the clip."
        ),
        "zones": [z.model_dump(mode="json") for z in layout.zones],
        "frames": [{"index": i, "time": round(i / FPS, 1), "counts": counts} for i, counts in enumerate(sim.counts)],
        "tracks": [
            {
                "id": v.aid,
                "queue_enter_s": v.queue_enter_s,
                "service_enter_s": v.service_enter_s,
                "service_end_s": v.service_end_s,
            }
            for v in sim.visitors
        ],
    }


def summarise(sim: Sim, name: str, seed: int) -> dict[str, object]:
    """Headline figures of a scene."""
    waits = [
        v.service_enter_s - v.queue_enter_s
        for v in sim.visitors
        if v.service_enter_s is not None and v.queue_enter_s is not None
    ]
    not_calling = [c and not sv for c, sv in zip(sim.clerk_present, sim.serving, strict=True)]
    return {
        "scenario": name,
        "seed": seed,
        "visitors": len(sim.visitors),
        "served": sum(v.service_end_s is not None for v in sim.visitors),
        "abandoned": sum(v.abandoned for v in sim.visitors),
        "pairs": sum(v.companion_of is not None for v in sim.visitors),
        "passers_by": len(sim.passers),
        "mean_wait_s": round(float(np.mean(waits)), 1) if waits else None,
        "max_waiting": max(sim.waiting),
        "waiting_at_end": sim.waiting[-1],
        "clerk_away": sim.intervals(sim.clerk_present, False),
        "present_not_calling": sim.intervals(not_calling, True),
    }


def scene_doc(
    lib: Library,
    sim: Sim,
    name: str,
    seed: int,
    attempt: int,
    duration: float,
    summary: dict[str, object],
    view: str = "along",
) -> dict[str, object]:
    """What the truth format has no field for: queue length, clerk presence, serving, who is who, parameters."""
    lay = lib.layout
    # (the along view's files carry no "view" key, so that they stay as they were before there were two views)
    view_key: dict[str, object] = {} if view == "along" else {"view": view}
    return {
        "format": "kedirivms-composite-scene/1",
        "summary": summary,
        "parameters": {
            **view_key,
            "scenario": asdict(SCENARIOS[name]),
            "seed": seed,
            "attempt": attempt,
            "duration_s": duration,
            "fps": FPS,
            "camera": asdict(lay.cam),
            "desk_m": {
                "x0": lay.desk.x0,
                "x1": lay.desk.x1,
                "z_front": lay.desk.z_front,
                "z_back": lay.desk.z_back,
                "height": lay.desk.height,
            },
            "definitions": {
                "waiting": "visitors whose feet have entered 'line' (queue_enter_s) and who have not yet reached "
                "'desk' (service_enter_s) nor, having given up, left 'line' for good",
                "clerk_present": "the clerk's feet are inside 'staff'",
                "serving": "false while the clerk deliberately calls nobody (stall) or is not at the desk",
                "feet": "everyone in the scene: [id, x, y], the feet point in picture px (id 0: the clerk); "
                "off-picture points are outside every zone",
            },
        },
        "frames": [
            {
                "index": i,
                "waiting": sim.waiting[i],
                "clerk_present": sim.clerk_present[i],
                "serving": sim.serving[i],
                "feet": sim.feet[i],
            }
            for i in range(len(sim.waiting))
        ],
        "visitors": [v.record() for v in sim.visitors],
        "passers_by": [p.record() for p in sim.passers],
        "clerk": sim.clerk.record(),
        "library": [{"identity": p.name, "walk_runs": len(p.walk), "stand_runs": len(p.stand)} for p in lib.people],
    }


def main(argv: list[str] | None = None) -> None:
    """CLI."""
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--out", type=Path, required=True)
    ap.add_argument("--scenario", nargs="+", required=True, help=f"{', '.join(SCENARIOS)} or all")
    ap.add_argument("--seed", type=int, nargs="+", required=True)
    ap.add_argument("--duration", type=float, default=300.0, help="seconds (default 300)")
    ap.add_argument(
        "--view",
        choices=cplate.VIEWS,
        default="along",
        help="along: desk far, line towards the camera (default); across: desk near, line across the picture",
    )
    args = ap.parse_args(argv)
    names = list(SCENARIOS) if args.scenario == ["all"] else args.scenario
    for n in names:
        if n not in SCENARIOS:
            ap.error(f"unknown scenario {n!r}")
    args.out.mkdir(parents=True, exist_ok=True)
    t0 = time.perf_counter()
    lib = build_library(args.view)
    print(f"library: {len(lib.people)} people in {time.perf_counter() - t0:.1f} s")
    for n in names:
        for seed in args.seed:
            t1 = time.perf_counter()
            summary = generate(lib, args.out, n, seed, args.duration, args.view)
            print(f"{stem_of(n, seed, args.view)}: {time.perf_counter() - t1:.1f} s {json.dumps(summary)}")


if __name__ == "__main__":
    main()
