"""Where a counter scene's queue-length error comes from, person by person (development seeds only).

It reads the count of people seen (``seen_length``, what ``line_count: seen`` reports): the detector's and the
placement's errors, before the wait ledger's count (``line_count: ledger``) stands in for people it missed.

Replays one scene's recorded detections (as ``queue_accuracy.py --cache`` records them) through the analyzer and,
on every detection picture, pairs the people the analyzer placed (tracked, coasted, hidden, the second look's)
with the scene's true people by their heads. Each unit of error is then put down to one cause:

* under-count (a true person in the queue zone not counted there): *placed outside* (found, but their placed
  feet are outside the queue zone: in the service zone, or in neither), or *not found* (no placed box at their
  head: the detector had a box near it, which the tracker or the motion gate dropped or which is someone else's
  box, or it had none; the first is split into *one box for two*, where each detector box near them is a
  neighbour's, and boxes of their own that the analyzer lost, with the second look's rule that left them out);
* over-count (someone counted in the queue zone who is not a true person there): a true person standing
  *elsewhere* whose feet were placed in the queue zone (in the service zone, walking in, leaving), or a box at
  nobody's head: *coasted* (kept at a last box), *hidden* (kept behind someone), the *second look*'s, or a
  *seen* box (a duplicate, a part of someone).

It prints the totals per cause, the frames between detections (the hold: people moved since the last
detection), the people who carry most of the error, and with ``--frames`` every detection picture whose count
is off (true ids, the counted boxes and their causes).

Run (development seeds only; see docs/queue-accuracy.md):

    PYTHONPATH=src .venv/bin/python benchmarks/queue_count_errors.py --scenario hard --seed-offset 2000
"""

from __future__ import annotations

import argparse
import functools
import math
import sys
from collections import Counter, defaultdict
from pathlib import Path
from typing import Any

import numpy as np
import supervision as sv

from kedirivms.analytics.queue import QueueAnalyzer
from kedirivms.analytics.queue.boxes import inside_shares, spanning
from kedirivms.analytics.queue.second_look import extra_mask
from kedirivms.sim import _counter_view as view
from kedirivms.sim import counter_scene as cs
from kedirivms.sim.counter_scene import CounterScene

sys.path.insert(0, str(Path(__file__).resolve().parent))
import queue_accuracy as qa  # noqa: E402
from _queue_replay import Recording, RecordingDetector, replay_step  # noqa: E402

MATCH = 0.45  # a box belongs to a person when its top centre is within this share of their height of their head


def _setup(name: str, offset: int, cache: Path, recording: Path | None) -> tuple[CounterScene, Any, QueueAnalyzer]:
    scenario, params, scene, config = qa.quick_scene(name, offset)
    if recording is None:
        recording = qa.recording_path(cache, scenario, params, config, quick=True, codec=True)
    if not recording.exists():
        raise SystemExit(f"no recording {recording}: run queue_accuracy.py --quick --cache --seed-offset {offset}")
    analyzer = QueueAnalyzer(config)
    rec = Recording.load(recording)
    analyzer.detector = RecordingDetector(analyzer.detector, rec, replay=True)  # type: ignore[assignment]
    return scene, rec, analyzer


class _Spy:
    """The rows of the analyzer's last zone test: the boxes, their placed anchors and queue/service tests."""

    def __init__(self, analyzer: QueueAnalyzer) -> None:
        self.rows: dict[str, np.ndarray] | None = None
        zone_look, hold = analyzer._zone_look, analyzer._hold_zones
        current: dict[str, Any] = {}

        def look(tracked: sv.Detections, t: float) -> Any:
            current["tracked"] = tracked
            out = zone_look(tracked, t)
            return out

        def held(
            t: float,
            ids: np.ndarray,
            detected: set[int],
            anchors: np.ndarray,
            tops: np.ndarray,
            heights: np.ndarray,
            in_q: np.ndarray,
            in_s: np.ndarray,
        ) -> None:
            hold(t, ids, detected, anchors, tops, heights, in_q, in_s)
            tracked = current["tracked"]
            self.rows = {
                "xyxy": np.asarray(tracked.xyxy, dtype=np.float64).reshape(-1, 4),
                "ids": ids.copy(),
                "conf": np.asarray(tracked.confidence, dtype=np.float64)
                if len(tracked)
                else np.zeros(0, dtype=np.float64),
                "extra": extra_mask(tracked).copy(),
                "anchors": anchors.copy(),
                "span": spanning(tracked.xyxy),
                "in_q": in_q & ~spanning(tracked.xyxy),  # (what the count counts: a spanning box is not one)
                "in_s": in_s.copy(),
                "hidden": np.isin(ids, list(analyzer._hidden)),
            }

        self.gaps = 0
        if analyzer._gaps is not None:
            hidden = analyzer._gaps.hidden

            def gaps(*args: Any, **kwargs: Any) -> int:
                self.gaps = hidden(*args, **kwargs)
                return self.gaps

            setattr(analyzer._gaps, "hidden", gaps)  # noqa: B010

        setattr(analyzer, "_zone_look", look)  # noqa: B010 (an instance attribute over the method)
        setattr(analyzer, "_hold_zones", held)  # noqa: B010


@functools.cache
def _masks() -> dict[str, np.ndarray]:
    """The scene's floor zones as masks (reference pixels), as its truth tests them."""
    return {k: cs.Zone(name=k, kind=k, points=cs._norm(v)).mask((640, 360)) for k, v in cs._ZONES_REF.items()}


def _truth_people(scene: CounterScene, t: float) -> dict[str, np.ndarray]:
    ids, xy, _ = scene.positions(t)
    sx, sy = qa.WIDTH / 640.0, qa.HEIGHT / 360.0
    feet = view.project(xy) * (sx, sy) if len(ids) else np.zeros((0, 2))
    height = view.person_height(xy, scene._scale[ids]) * sy if len(ids) else np.zeros(0)
    masks = _masks()
    return {
        "ids": ids,
        "feet": feet,
        "height": height,
        "in_q": cs._inside(masks["queue"], xy),
        "in_s": cs._inside(masks["service"], xy),
        "arc": _arc(xy) if len(ids) else np.zeros(0),
    }


def _arc(xy: np.ndarray) -> np.ndarray:
    """Each floor point's distance along the line from its front slot (the nearest point of the queue path)."""
    path = cs._QUEUE_PATH
    seg = np.diff(path, axis=0)
    lens = np.hypot(seg[:, 0], seg[:, 1])
    cum = np.concatenate([[0.0], np.cumsum(lens)])
    out = np.empty(len(xy))
    for n, p in enumerate(np.asarray(xy, dtype=np.float64)):
        u = np.clip(((p - path[:-1]) * seg).sum(axis=1) / lens**2, 0.0, 1.0)
        near = path[:-1] + seg * u[:, None]
        k = int(np.argmin(np.hypot(*(near - p).T)))
        out[n] = cum[k] + u[k] * lens[k]
    return out


def _pair(boxes: np.ndarray, people: dict[str, np.ndarray], rank: np.ndarray | None = None) -> dict[int, int]:
    """Box row -> person row, nearest heads first, one each; boxes of a lower ``rank`` first (seen before kept)."""
    kept = np.zeros(len(boxes), dtype=int) if rank is None else rank
    cand = []
    for j in range(len(people["ids"])):
        h = float(people["height"][j])
        hx, hy = people["feet"][j, 0], people["feet"][j, 1] - h
        for i, b in enumerate(boxes):
            d = (abs((b[0] + b[2]) / 2 - hx) + abs(b[1] - hy)) / h
            if d < MATCH:
                cand.append((int(kept[i]), d, i, j))
    out: dict[int, int] = {}
    used: set[int] = set()
    for _k, _d, i, j in sorted(cand):
        if i not in out and j not in used:
            out[i] = j
            used.add(j)
    return out


def _iou(box: np.ndarray, boxes: np.ndarray) -> np.ndarray:
    if not len(boxes):
        return np.zeros(0)
    lo, hi = np.maximum(box[:2], boxes[:, :2]), np.minimum(box[2:], boxes[:, 2:])
    inter = np.prod(np.clip(hi - lo, 0.0, None), axis=1)
    area = lambda b: (b[..., 2] - b[..., 0]) * (b[..., 3] - b[..., 1])  # noqa: E731
    return np.asarray(inter / np.maximum(area(box) + area(boxes) - inter, 1e-9))


def _placed_as(box: np.ndarray, placed: np.ndarray) -> int | None:
    """The placed box that is ``box`` (sides and top within 0.15 of its height: feet_behind may lengthen it)."""
    if not len(placed):
        return None
    h = max(float(box[3] - box[1]), 1.0)
    d = np.abs(placed[:, :3] - box[:3]).max(axis=1) / h
    m = int(np.argmin(d))
    return m if d[m] < 0.15 else None


def _near_kind(
    rec: Recording,
    k: int,
    raw: np.ndarray,
    tp: dict[str, np.ndarray],
    j: int,
    rows: dict[str, np.ndarray],
    pairs: dict[int, int],
    confidence: float,
) -> str:
    """Why a person with a detector box near their head has no placed box: whose box it is, and where it went.

    The detector's boxes are paired with every true person (nearest heads first, one each): a person who gets
    none shares the box of someone beside them (*(b) one box for two*: nothing for the analyzer to find). A person
    with a box of their own (*(a)*) lost a box in the analyzer: their own (scored under ``confidence``, the second
    look's, or dropped by the tracker or a rule), or their own box was placed but went to a neighbour whose own
    box was lost (then the neighbour's box is the one told).
    """
    raw_of = {jj: i for i, jj in _pair(raw, tp).items()}
    own = raw_of.get(j)
    if own is None:
        return "(b) one box for two: the detector's box near them is a neighbour's"
    placed = _placed_as(raw[own], rows["xyxy"])
    lost, whose = own, "their own box"
    if placed is not None:
        other = pairs.get(placed)
        if other is None or other not in raw_of:
            return "(a) their own box placed, paired with nobody or a boxless neighbour"
        lost, whose = raw_of[other], "their box placed as a neighbour's; the neighbour's own box"
        if _placed_as(raw[lost], rows["xyxy"]) is not None:
            return "(a) both boxes placed (pairing by heads swapped)"
    conf = np.asarray(rec.boxes[k][1], dtype=np.float64)
    extra = rec.extra.get(k)
    if extra is not None and bool(extra[lost]):
        # the rules of QueueAnalyzer._add_second_look, on the box as found (before feet_behind lengthens it)
        box = raw[lost]
        seen = rows["xyxy"][(rows["conf"] > 0) & ~rows["extra"]]
        kept = rows["xyxy"][rows["conf"] <= 0]
        if (inside_shares(box, seen) >= 1.0 - 1e-6).any():
            rule = "wholly inside a first-look box"
        elif len(kept) and _iou(box, kept).max() > 0.3:
            rule = "over someone coasted"
        else:
            rule = "not confirmed (found on too few detections)"
        return f"(a) {whose} is the second look's, not placed: {rule}"
    if conf[lost] < confidence:
        return f"(a) {whose} scored under the confidence, not placed"
    return f"(a) {whose} not placed (the tracker or a drop rule)"


def _print_boxes(rows: dict[str, np.ndarray], tp: dict[str, np.ndarray], pairs: dict[int, int]) -> None:
    """Every placed box (Q/S: in the queue/service zone; h hidden, c coasted, x second look) and true person."""
    for i in range(len(rows["ids"])):
        j = pairs.get(i)
        who = int(tp["ids"][j]) if j is not None else "-"
        where = "Q" if rows["in_q"][i] else "S" if rows["in_s"][i] else "."
        kind = "x" if rows["extra"][i] else "h" if rows["hidden"][i] else "c" if rows["conf"][i] <= 0 else " "
        box = np.round(rows["xyxy"][i]).astype(int).tolist()
        feet = np.round(rows["anchors"][i]).astype(int).tolist()
        print(f"    id {rows['ids'][i]:>3} {kind}{where} conf {rows['conf'][i]:.2f} box {box} feet {feet} person {who}")
    for j in range(len(tp["ids"])):
        where = "Q" if tp["in_q"][j] else "S" if tp["in_s"][j] else "."
        feet = np.round(tp["feet"][j]).astype(int).tolist()
        print(f"    person {int(tp['ids'][j]):>3} {where} feet {feet} head y {tp['feet'][j, 1] - tp['height'][j]:.0f}")


def analyse(
    name: str,
    offset: int,
    cache: Path,
    recording: Path | None,
    frames: bool,
    window: float,
    verbose: bool = False,
    between: tuple[float, float] = (math.inf, math.inf),
) -> None:
    scene, rec, analyzer = _setup(name, offset, cache, recording)
    truth = scene.truth()
    spy = _Spy(analyzer)
    replay = analyzer.detector
    assert isinstance(replay, RecordingDetector)
    blank = np.zeros((qa.HEIGHT, qa.WIDTH), dtype=np.uint8)
    people_meta = {p.id: p for p in truth.people}
    causes: Counter[str] = Counter()
    per_person: dict[int, Counter[str]] = defaultdict(Counter)
    per_window: dict[int, list[float]] = defaultdict(lambda: [0.0, 0.0, 0.0])
    hold_err = det_err = moved = 0.0
    n = 0
    det_frames = 0
    gap_fills = 0
    place: Counter[str] = Counter()
    signed: Counter[int] = Counter()
    last_len = 0
    last_true_at_det = 0
    near: Counter[str] = Counter()
    for k in range(len(truth.times)):
        t = float(truth.times[k])
        spy.rows = None
        spy.gaps = 0
        replay_step(analyzer, replay, k, t, blank)
        assert analyzer.last is not None
        length, true_len = analyzer.last.seen_length, int(truth.queue_length[k])
        n += 1
        w = per_window[int(t // window)]
        w[0] += length - true_len
        w[1] += abs(length - true_len)
        w[2] += 1
        if spy.rows is None:  # a frame holding the last detection
            hold_err += abs(length - true_len)
            moved += abs(length - true_len) - abs(last_len - last_true_at_det)
            continue
        det_frames += 1
        last_len, last_true_at_det = length, true_len
        det_err += abs(length - true_len)
        rows = spy.rows
        tp = _truth_people(scene, t)
        # boxes seen now first, then those kept; a spanning box (not counted) last
        pairs = _pair(rows["xyxy"], tp, (rows["conf"] <= 0) + 2 * rows["span"])
        by_person = {j: i for i, j in pairs.items()}
        notes = []
        found_arc = [float(tp["arc"][j]) for i, j in pairs.items() if tp["in_q"][j] and rows["in_q"][i]]
        gap_fills += spy.gaps
        signed[length - true_len] += 1
        for j in np.nonzero(tp["in_q"])[0].tolist():
            pid = int(tp["ids"][j])
            i = by_person.get(j)
            if i is not None and rows["in_q"][i]:
                continue
            if i is not None:
                where = "service" if rows["in_s"][i] else "neither"
                kind = "coasted " if rows["conf"][i] <= 0 and not rows["hidden"][i] else ""
                cause = f"under: {kind}placed outside ({where})"
            else:
                raw = np.asarray(rec.boxes.get(k, (np.zeros((0, 4)), np.zeros(0)))[0], dtype=np.float64)
                had = _pair(raw.reshape(-1, 4), {kk: v[j : j + 1] for kk, v in tp.items()})
                cause = "under: not found, a detector box near their head" if had else "under: not found, no box"
                if had:
                    conf_min = analyzer.config.dnn.confidence
                    near[_near_kind(rec, k, raw.reshape(-1, 4), tp, j, rows, pairs, conf_min)] += 1
            causes[cause] += 1
            per_person[pid][cause] += 1
            arc = float(tp["arc"][j])
            pos = (
                "nobody found"
                if not found_arc
                else "front"
                if arc < min(found_arc)
                else "back"
                if arc > max(found_arc)
                else "middle"
            )
            place[f"{pos}: {cause.removeprefix('under: ')}"] += 1
            notes.append(f"  -{pid} {cause} ({pos})")
        for i in np.nonzero(rows["in_q"])[0].tolist():
            j = pairs.get(i)
            if j is not None and tp["in_q"][j]:
                continue
            if j is not None:
                pid = int(tp["ids"][j])
                where = "service" if tp["in_s"][j] else "elsewhere"
                cause = f"over: a person {where} placed in the queue"
                per_person[pid][cause] += 1
            else:
                kind = (
                    "second look"
                    if rows["extra"][i]
                    else "hidden"
                    if rows["hidden"][i]
                    else "coasted"
                    if rows["conf"][i] <= 0
                    else "seen"
                )
                cause = f"over: nobody's head, {kind}"
                per_person[-1][cause] += 1
            causes[cause] += 1
            notes.append(f"  +{rows['ids'][i]} {cause} box {np.round(rows['xyxy'][i]).astype(int).tolist()}")
        if frames and (length != true_len or between[0] <= t <= between[1]):
            ids_q = [int(x) for x in tp["ids"][tp["in_q"]]]
            print(f"t {t:6.1f} true {true_len} counted {length} (gaps +{spy.gaps})  in line {ids_q}")
            for line in notes:
                print(line)
            if verbose:
                _print_boxes(rows, tp, pairs)
    mae = sum(w[1] for w in per_window.values()) / max(n, 1)
    print(f"{name} seed offset {offset}: {n} frames, MAE {mae:.3f}; {det_frames} detection pictures")
    print(
        f"  MAE on the detection pictures {det_err / max(det_frames, 1):.3f}, on the frames holding them "
        f"{hold_err / max(n - det_frames, 1):.3f} ({moved / max(n - det_frames, 1):+.3f} since the detection)"
    )
    print("  causes, person-pictures (detection pictures only):")
    for cause, c in sorted(causes.items(), key=lambda x: -x[1]):
        print(f"    {c:5d}  {cause}")
    print("  'a detector box near their head', split (whose box it is, where the analyzer lost it):")
    for key, c in sorted(near.items(), key=lambda x: -x[1]):
        print(f"    {c:5d}  {key}")
    print("  the under-counted by their place in the line (against the people counted there):")
    for key, c in sorted(place.items(), key=lambda x: -x[1]):
        print(f"    {c:5d}  {key}")
    print(f"  people the line's gaps added (tracking.line_pitch): {gap_fills}")
    print(
        "  detection pictures by signed error (counted - true): "
        + ", ".join(f"{k:+d}: {signed[k]}" for k in sorted(signed))
    )
    print("  people with the most error (pictures):")
    ranked = sorted(per_person.items(), key=lambda x: -sum(x[1].values()))[:12]
    for pid, cnt in ranked:
        meta = people_meta.get(pid)
        desc = ""
        if meta is not None:
            desc = (
                f"q {meta.queue_enter_s} s {meta.service_enter_s} x{meta.scale:g}"
                + (" grey" if meta.grey else "")
                + (f" pair of {meta.companion_of}" if meta.companion_of is not None else "")
            )
        print(f"    {pid:>3} {sum(cnt.values()):4d} {desc}  {dict(cnt)}")
    print(f"  per {window:g} s: mean error (signed) / MAE")
    for key in sorted(per_window):
        s, a, c = per_window[key]
        if a / c >= 0.1:
            print(f"    {key * window:6.0f} s  {s / c:+.2f} / {a / c:.2f}")


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--scenario", action="append", required=True, help="counter scene(s) to replay")
    ap.add_argument("--seed-offset", type=int, default=1000, help="seed offset of the recordings (develop on 1000)")
    ap.add_argument("--cache", type=Path, default=Path(".cache/queue-accuracy"), help="the recordings' folder")
    ap.add_argument("--recording", type=Path, help="replay this recording file instead of the cache's own")
    ap.add_argument("--frames", action="store_true", help="print every detection picture whose count is off")
    ap.add_argument("--boxes", action="store_true", help="with --frames: every placed box and true person too")
    ap.add_argument(
        "--between",
        type=float,
        nargs=2,
        default=(math.inf, math.inf),
        metavar=("FROM", "TO"),
        help="with --frames: every detection picture in this time span too, seconds",
    )
    ap.add_argument("--window", type=float, default=10.0, help="seconds per row of the error over time")
    args = ap.parse_args(argv)
    for name in args.scenario:
        between = (float(args.between[0]), float(args.between[1]))
        analyse(name, args.seed_offset, args.cache, args.recording, args.frames, args.window, args.boxes, between)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
