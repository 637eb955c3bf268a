"""Where the queue analytics loses people: after which stage the count falls short of the truth.

The DNN path turns a picture into a count in stages: the detector's boxes (the model's candidates, then
non-maximum suppression, NMS), the tracker, the motion gate, then coasting (people missed now kept at their last
box). This prints, per stage, the count error against the truth on the frames the detector ran on, so an
under-count can be pinned on one stage before anything is changed:

* counter scenes (``--scenario``, recorded detections replayed from ``--cache``, as ``queue_accuracy.py
  --cache`` records them): people in the queue zone per detection, against the scene's true queue length; and
  with ``--candidates N`` (the model run again on every N-th recorded picture) what became of each true person
  standing in the queue zone: found (a kept box at their head), removed by NMS (a candidate over the confidence
  threshold, nearer their head than anyone else's, that NMS dropped for a neighbour's box), only under the
  threshold, or no candidate at all; with ``--rules``, how many of the people the second look added each of the
  analyzer's rules left out of the queue zone, and the count had they been counted;
* real footage (``--clip`` with ``--truth``): people in the picture on the annotated frames (``--split`` picks
  the annotation rounds, e.g. the development frames ``design,seen``), from the latest detection at or before
  each.

Run (development seeds and frames only; see docs/queue-accuracy.md):

    PYTHONPATH=src .venv/bin/python benchmarks/queue_losses.py --scenario tight --seed-offset 1000 --candidates 4
    PYTHONPATH=src .venv/bin/python benchmarks/queue_losses.py --scenario tight --seed-offset 1000 --rules
    PYTHONPATH=src .venv/bin/python benchmarks/queue_losses.py --clip .cache/footage/vtest.avi \\
        --truth tests/data/footage/vtest.truth.json --split design,seen
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import av
import numpy as np
import supervision as sv

from kedirivms.analytics.queue import QueueAnalyzer
from kedirivms.analytics.queue.detector import box_iou, empty_detections
from kedirivms.sim import _counter_view as view
from kedirivms.sim.counter_scene import CounterScene
from kedirivms.stream import Frame

sys.path.insert(0, str(Path(__file__).resolve().parent))
import queue_accuracy as qa  # noqa: E402
from _queue_replay import Recording, RecordingDetector, replay_step  # noqa: E402

STAGES = ("detector", "tracker", "motion gate", "coasting", "counted")
RULES = ("counted", "found too seldom", "inside a first-look box", "over someone coasted")


class RuleSpy:
    """Which rule left out each person the second look added (``QueueAnalyzer._add_second_look``; read only).

    Per detection, ``now[rule]`` is how many of the second look's people each rule left out in the queue zone (their
    feet placed as the analyzer places them), and ``counted`` how many it counted there; a box left out by two
    rules is given to the first of ``RULES``' order after ``counted`` that applies.
    """

    def __init__(self, analyzer: QueueAnalyzer) -> None:
        from kedirivms.analytics.queue.boxes import inside_shares, overlaps_any
        from kedirivms.analytics.queue.feet import feet_behind
        from kedirivms.analytics.queue.second_look import extra_mask

        self.now: dict[str, int] = {}
        add = analyzer._add_second_look
        trk = analyzer.config.tracking

        def added(tracked: sv.Detections, found: tuple[np.ndarray, np.ndarray]) -> sv.Detections:
            boxes = found[0]
            if analyzer._feet is not None and len(boxes):
                boxes = feet_behind(tracked.xyxy, boxes)
            window = list(analyzer._added)  # the earlier detections' boxes, before this one joins them
            out = add(tracked, found)
            zones = analyzer._zones
            self.now = dict.fromkeys(RULES, 0)
            if zones is None or not len(boxes):
                return out
            in_queue = zones.test(zones.queue, sv.Detections(xyxy=np.asarray(boxes, dtype=np.float32)))
            conf = np.asarray(tracked.confidence, dtype=np.float32) if len(tracked) else np.zeros(0, np.float32)
            seen = tracked.xyxy[conf > 0]
            counted = out.xyxy[extra_mask(out)]
            for box, queued in zip(boxes, in_queue.tolist(), strict=True):
                if not queued:
                    continue
                if any(np.array_equal(box, c) for c in counted):
                    rule = "counted"
                elif 1 + sum(overlaps_any(box, old, 0.3) for old in window) < trk.second_look_confirm:
                    rule = "found too seldom"
                elif (inside_shares(box, seen) >= trk.second_look_inside).any():
                    rule = "inside a first-look box"
                else:
                    rule = "over someone coasted"
                self.now[rule] += 1
            return out

        setattr(analyzer, "_add_second_look", added)  # noqa: B010 (an instance attribute over the method)


class StageSpy:
    """Counts people after each stage of one analyzer's detections (wraps its private steps; read only).

    ``count(det)`` says whom a stage's boxes count (the queue zone's people, or everyone in the picture).
    """

    def __init__(self, analyzer: QueueAnalyzer, count: Callable[[QueueAnalyzer, sv.Detections], int]) -> None:
        self.now: dict[str, int] = {}
        track, coast = analyzer._track, analyzer._coast

        def tracked(det: sv.Detections, t: float, planes: tuple[np.ndarray, ...]) -> sv.Detections:
            self.now = {"detector": count(analyzer, det)}
            out = track(det, t, planes)
            self.now["tracker"] = count(analyzer, out)
            return out

        def coasted(det: sv.Detections, t: float) -> sv.Detections:
            self.now["motion gate"] = count(analyzer, det)
            out = coast(det, t)
            self.now["coasting"] = count(analyzer, out)
            return out

        setattr(analyzer, "_track", tracked)  # noqa: B010 (an instance attribute over the method)
        setattr(analyzer, "_coast", coasted)  # noqa: B010


def _in_queue(analyzer: QueueAnalyzer, det: sv.Detections) -> int:
    zones = analyzer._zones
    if zones is None or not len(det):
        return 0
    return int(zones.test(zones.queue, det).sum())


def _report(title: str, rows: list[tuple[int, ...]]) -> None:
    """``rows``: (truth, one count per stage); prints MAE, bias and the people missing / extra per stage."""
    r = np.asarray(rows, dtype=np.float64).reshape(-1, 1 + len(STAGES))
    print(f"{title}: {len(r)} pictures, {int(r[:, 0].sum())} people in the truth")
    print(f"  {'after':12s} {'MAE':>6} {'bias':>7} {'missing':>8} {'extra':>6}")
    for i, name in enumerate(STAGES, 1):
        d = r[:, i] - r[:, 0]
        missing, extra = -d.clip(max=0).sum(), d.clip(min=0).sum()
        print(f"  {name:12s} {np.abs(d).mean():6.3f} {d.mean():+7.3f} {missing:8.0f} {extra:6.0f}")


def _report_rules(rows: list[tuple[int, int, dict[str, int]]]) -> None:
    """``rows``: (truth, counted, people the second look added per rule); what counting each rule's would give."""
    truth = np.array([r[0] for r in rows], dtype=np.float64)
    counted = np.array([r[1] for r in rows], dtype=np.float64)
    print("  the second look's people in the queue zone, a picture (queue-length MAE were each rule's counted too):")
    every = counted.copy()
    for rule in RULES:
        n = np.array([r[2].get(rule, 0) for r in rows], dtype=np.float64)
        mae = "" if rule == "counted" else f"  MAE {np.abs(counted + n - truth).mean():.3f}"
        every += 0 if rule == "counted" else n
        print(f"    {rule:26s} {n.mean():6.3f}{mae}")
    now, ceiling = np.abs(counted - truth).mean(), np.abs(every - truth).mean()
    print(f"    (all of them counted: MAE {ceiling:.3f}, now {now:.3f})")


def scene_stages(
    name: str, offset: int, cache: Path, every: int, rules: bool = False, tracking: dict[str, Any] | None = None
) -> None:
    """Replay one counter scene's recording, counting the queue zone after each stage; then the candidates."""
    scenario, params, scene, config = qa.quick_scene(name, offset, tracking)
    truth = scene.truth()
    path = qa.recording_path(cache, scenario, params, config, quick=True, codec=True)
    if not path.exists():
        raise SystemExit(f"no recording {path}: run queue_accuracy.py --quick --cache --seed-offset {offset} first")
    recording = Recording.load(path)
    analyzer = QueueAnalyzer(config)
    live = analyzer.detector
    replay = RecordingDetector(live, recording, replay=True)
    analyzer.detector = replay
    spy = StageSpy(analyzer, _in_queue)
    rule_spy = RuleSpy(analyzer) if rules else None
    rule_rows: list[tuple[int, int, dict[str, int]]] = []
    blank = np.zeros((qa.HEIGHT, qa.WIDTH), dtype=np.uint8)
    rows = []
    for k, t in enumerate(truth.times):
        spy.now = {}
        replay_step(analyzer, replay, k, float(t), blank)
        if spy.now:
            assert analyzer.last is not None
            rows.append((int(truth.queue_length[k]), *(spy.now[s] for s in STAGES[:4]), analyzer.last.seen_length))
            if rule_spy is not None:
                rule_rows.append((int(truth.queue_length[k]), analyzer.last.seen_length, dict(rule_spy.now)))
    _report(f"{name} (seed {params['seed']}), queue zone, detection pictures", rows)
    if rule_rows:
        _report_rules(rule_rows)
    if every > 0:
        candidates(scene, live, recording, every)


def _i420_frame(planes: tuple[np.ndarray, ...], t: float) -> Frame:
    w = planes[0].shape[1]
    i420 = np.concatenate([planes[0], planes[1].reshape(-1, w), planes[2].reshape(-1, w)])
    return Frame(av.VideoFrame.from_ndarray(i420, format="yuv420p"), time=t)


def candidates(scene: CounterScene, detector: Any, recording: Recording, every: int) -> None:
    """What became of each true person in the queue zone: found, removed by NMS, under the threshold, no box.

    The model runs again on every ``every``-th recorded picture (converted from the recorded planes, which may
    move a box by a fraction of a pixel against the live run) with its candidates kept down to a score of 0.05.
    """

    conf = float(detector.confidence)
    raw: list[tuple[np.ndarray, np.ndarray]] = []

    def infer(blob: np.ndarray, box: Any, wh: tuple[int, int]) -> sv.Detections:
        out = detector.session.run(blob).astype(np.float32, copy=False)
        xyxy, score = detector._decode(out, box.canvas)
        px, py = box.pad
        ox, oy = box.origin
        xyxy[:, [0, 2]] = np.clip((xyxy[:, [0, 2]] - px) / box.scale + ox, 0, wh[0])
        xyxy[:, [1, 3]] = np.clip((xyxy[:, [1, 3]] - py) / box.scale + oy, 0, wh[1])
        raw.append((xyxy, score))
        return empty_detections()

    detector._infer = infer
    detector.confidence = 0.05
    queue = next(z for z in scene.zones() if z.kind == "queue")
    tally = {"found": 0, "removed by NMS": 0, "under the threshold": 0, "no candidate": 0}
    kept_iou: list[float] = []
    for k in sorted(recording.planes)[::every]:
        t = k / qa.FPS
        raw.clear()
        detector.detect_frame(_i420_frame(recording.planes[k], t), t)
        xyxy = np.concatenate([r[0] for r in raw]).reshape(-1, 4)
        score = np.concatenate([r[1] for r in raw])
        over = score >= conf
        kept = detector._nms(xyxy[over], score[over]).xyxy  # what the detector keeps of them
        ids, xy, _ = scene.positions(t)
        if not len(ids):
            continue
        feet = view.project(xy) * (qa.WIDTH / 640.0, qa.HEIGHT / 360.0)
        height = view.person_height(xy, scene._scale[ids]) * (qa.HEIGHT / 360.0)
        people = np.stack([feet[:, 0] - 0.15 * height, feet[:, 1] - height, feet[:, 0] + 0.15 * height, feet[:, 1]], 1)
        waiting = queue.contains(feet, (qa.WIDTH, qa.HEIGHT))
        found = _match(kept, people)
        nearest = _nearest(xyxy, people)
        for i in np.nonzero(waiting)[0].tolist():
            if i in found:
                tally["found"] += 1
                continue
            mine = np.nonzero((nearest == i) & _heads(xyxy, people[i]))[0]
            if len(mine) and score[mine].max() >= conf:
                tally["removed by NMS"] += 1
                best = mine[np.argmax(score[mine])]
                kept_iou.append(float(box_iou(xyxy[best][None], kept).max()) if len(kept) else 0.0)
            elif len(mine):
                tally["under the threshold"] += 1
            else:
                tally["no candidate"] += 1
    total = sum(tally.values())
    print(f"  true people in the queue zone on every {every}th detection picture: {total}")
    for what, n in tally.items():
        print(f"    {what:22s} {n:6d}  {100.0 * n / max(total, 1):5.1f} %")
    if kept_iou:
        q = np.quantile(kept_iou, [0.1, 0.5, 0.9])
        print(f"    removed by NMS: overlap (IoU) with the box kept, 10/50/90 %: {q[0]:.2f} / {q[1]:.2f} / {q[2]:.2f}")


def _heads(boxes: np.ndarray, person: np.ndarray) -> np.ndarray:
    """Which ``boxes`` have their top centre at ``person``'s head (a quarter / a fifth of their height)."""
    h = person[3] - person[1]
    cx = (boxes[:, 0] + boxes[:, 2]) / 2 - (person[0] + person[2]) / 2
    return (np.abs(cx) < 0.25 * h) & (np.abs(boxes[:, 1] - person[1]) < 0.2 * h)


def _head_distance(boxes: np.ndarray, person: np.ndarray) -> np.ndarray:
    h = person[3] - person[1]
    cx = (boxes[:, 0] + boxes[:, 2]) / 2 - (person[0] + person[2]) / 2
    return (np.abs(cx) + np.abs(boxes[:, 1] - person[1])) / h


def _nearest(boxes: np.ndarray, people: np.ndarray) -> np.ndarray:
    """For each box, the person whose head is nearest its top centre."""
    if not len(boxes):
        return np.zeros(0, dtype=int)
    return np.argmin(np.stack([_head_distance(boxes, p) for p in people], 1), axis=1)


def _match(kept: np.ndarray, people: np.ndarray) -> set[int]:
    """People with a kept box at their head, one box each (nearest pairs first)."""
    pairs = sorted(
        (float(_head_distance(kept[j : j + 1], people[i])[0]), i, j)
        for i in range(len(people))
        for j in np.nonzero(_heads(kept, people[i]))[0].tolist()
    )
    found: set[int] = set()
    used: set[int] = set()
    for _, i, j in pairs:
        if i not in found and j not in used:
            found.add(i)
            used.add(j)
    return found


def clip_stages(clip: Path, truth_path: Path, splits: set[str] | None, rate_hz: float) -> None:
    """The default DNN path over a clip, counting everyone in the picture after each stage."""
    from kedirivms.analytics.queue import evaluation

    truth = evaluation.FootageTruth.load(truth_path)
    wanted = {f.index: f for f in truth.frames if splits is None or (f.split or "all") in splits}
    spies: list[StageSpy] = []
    real_init = QueueAnalyzer.__init__

    def init(self: QueueAnalyzer, *args: Any, **kwargs: Any) -> None:
        real_init(self, *args, **kwargs)
        spies.append(StageSpy(self, lambda _a, det: len(det)))

    QueueAnalyzer.__init__ = init  # type: ignore[method-assign]
    try:
        per_frame: dict[int, dict[str, int]] = {}
        real_update = QueueAnalyzer.update

        def update(self: QueueAnalyzer, y: np.ndarray, t: float, *, frame: Any = None) -> Any:
            out = real_update(self, y, t, frame=frame)
            index = int(round(t * (truth.fps or 10.0)))
            if spies and spies[-1].now and index in wanted:
                per_frame[index] = dict(spies[-1].now)
            return out

        QueueAnalyzer.update = update  # type: ignore[method-assign]
        score = evaluation.evaluate_clip(clip, truth, detector="dnn", config={"dnn": {"rate_hz": rate_hz}})
    finally:
        QueueAnalyzer.__init__ = real_init  # type: ignore[method-assign]
        QueueAnalyzer.update = real_update  # type: ignore[method-assign]
    rows = [
        (expected, *(per_frame[i][s] for s in STAGES[:4]), counted)
        for i, _, expected, counted in score.per_frame
        if i in wanted and i in per_frame
    ]
    label = ",".join(sorted(splits)) if splits else "all"
    _report(f"{truth.clip} ({label} frames), people in the picture, latest detection", rows)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--scenario", action="append", help="counter scene(s) to replay (repeatable)")
    ap.add_argument("--seed-offset", type=int, default=1000, help="seed offset of the recordings (develop on 1000)")
    ap.add_argument("--cache", type=Path, default=Path(".cache/queue-accuracy"), help="the recordings' folder")
    ap.add_argument("--candidates", type=int, default=0, metavar="N", help="classify the lost on every N-th picture")
    ap.add_argument("--rules", action="store_true", help="which rule left out each of the second look's people")
    ap.add_argument(
        "--tracking",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="a tracking setting (TrackingConfig; JSON value) for the counter scenes, repeatable",
    )
    ap.add_argument("--clip", type=Path, help="real footage (with --truth)")
    ap.add_argument("--truth", type=Path, help="its annotation")
    ap.add_argument("--split", help="annotation rounds to use, comma-separated (default: all)")
    ap.add_argument("--rate", type=float, default=2.0, help="DNN detections per second for --clip")
    args = ap.parse_args(argv)
    print(f"load {os.getloadavg()[0]:.1f}")
    if args.clip is not None:
        if args.truth is None:
            ap.error("--clip needs --truth")
        clip_stages(args.clip, args.truth, set(args.split.split(",")) if args.split else None, args.rate)
    for name in args.scenario or ([] if args.clip else ["tight"]):
        tracking = {k: json.loads(v) for k, v in (kv.split("=", 1) for kv in args.tracking)}
        scene_stages(name, args.seed_offset, args.cache, args.candidates, args.rules, tracking)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
