"""A tight line's learnt step against the truth's, over time (development seeds only).

Replays one counter scene's recorded detections (as ``queue_accuracy.py --cache`` records them) through the
analyzer and, on every detection, compares :class:`~kedirivms.analytics.queue.line_gaps.LineGaps`' learnt pitch
(a percentile of the distances between neighbours both boxed by the detector, in units of their box height) with
the truth's step: the median distance between neighbours (minimum spanning tree of the feet) of the people truly in
the queue zone, in units of their true height. Per window it prints the learnt pitch, the truth's step, the
people truly in line, the percentiles asked for of the distances the pitch is learnt from (the same window of
``tracking.line_pitch_window_s``), and the height of the boxes found against the true heights of their people; at
the end, each percentile's lowest value over the run (in every scene but the tight one it must stay above
``tracking.line_pitch`` or the tight line's rules switch on there). Last, the distances the pitch learns from by
how many true steps apart their two people stand (both found boxes paired with a true person in line by their feet;
the steps are one more than the people truly standing between them along the line): what one step and two steps
measure between the boxes, against what they measure between the people.

Run (development seeds only; see docs/queue-accuracy.md, "The tight line's step"):

    PYTHONPATH=src .venv/bin/python benchmarks/queue_line_step.py --scenario tight --seed-offset 5000
"""

from __future__ import annotations

import argparse
import sys
from collections import defaultdict
from pathlib import Path
from typing import Any

import numpy as np

from kedirivms.analytics.queue.line_gaps import neighbours

sys.path.insert(0, str(Path(__file__).resolve().parent))
import queue_accuracy as qa  # noqa: E402
import queue_count_errors as qce  # noqa: E402
from _queue_replay import RecordingDetector, replay_step  # noqa: E402

MATCH = 0.15  # a found box is a person's when its feet lie within this share of their height of theirs


def analyse(name: str, offset: int, cache: Path, window: float, quantiles: list[float]) -> None:
    scene, _, analyzer = qce._setup(name, offset, cache, None)
    gaps = analyzer._gaps
    if gaps is None:
        raise SystemExit("the line's gaps are off (tracking.line_pitch 0)")
    learn_s = analyzer.config.tracking.line_pitch_window_s
    truth = scene.truth()
    rows: list[tuple[float, float | None, list[float], float | None, int]] = []
    ratios: list[float] = []
    boxed: dict[int, list[float]] = defaultdict(list)  # true steps apart -> distance between the boxes
    true: dict[int, list[float]] = defaultdict(list)  # ... -> distance between the people
    hidden = gaps.hidden

    def spy(t: float, *args: Any, **kwargs: Any) -> int:
        out = hidden(t, *args, **kwargs)
        feet, xyxy, _, counted, seen = (np.asarray(a) for a in args[:5])
        new = [d for tt, d in gaps._pairs if tt == t]
        people = qce._truth_people(scene, t)
        line = np.nonzero(people["in_q"])[0]
        pts, hts = people["feet"][line], people["height"][line]
        step = None
        if len(line) >= 3:
            dists = [float(np.linalg.norm(pts[i] - pts[j])) / ((hts[i] + hts[j]) / 2.0) for i, j in neighbours(pts)]
            step = float(np.median(dists))
        person: dict[int, int] = {}  # box row -> true person in line (index into ``line``)
        for k in np.nonzero(counted.astype(bool) & seen.astype(bool))[0]:
            if len(line):
                off = np.linalg.norm(pts - feet[k], axis=1)
                j = int(np.argmin(off))
                if off[j] < MATCH * hts[j]:
                    ratios.append(float(feet[k][1] - xyxy[k][1]) / float(hts[j]))
                    person[int(k)] = j
        rows_q = np.nonzero(counted.astype(bool))[0]
        box_h = np.maximum(feet[rows_q, 1] - xyxy[rows_q, 1], 1.0)
        arc = people["arc"][line]
        for i, j in neighbours(feet[rows_q]):
            a, b = person.get(int(rows_q[i])), person.get(int(rows_q[j]))
            if a is None or b is None or a == b:
                continue
            lo, hi = sorted((float(arc[a]), float(arc[b])))
            steps = int(((arc > lo) & (arc < hi)).sum()) + 1
            boxed[steps].append(
                float(np.linalg.norm(feet[rows_q[i]] - feet[rows_q[j]])) / float((box_h[i] + box_h[j]) / 2.0)
            )
            true[steps].append(float(np.linalg.norm(pts[a] - pts[b])) / float((hts[a] + hts[b]) / 2.0))
        rows.append((t, gaps.pitch, new, step, len(line)))
        return out

    setattr(gaps, "hidden", spy)  # noqa: B010
    replay = analyzer.detector
    assert isinstance(replay, RecordingDetector)
    blank = np.zeros((qa.HEIGHT, qa.WIDTH), dtype=np.uint8)
    for k in range(len(truth.times)):
        replay_step(analyzer, replay, k, float(truth.times[k]), blank)
    qs = " ".join(f"q{q:g}" for q in quantiles)
    print(f"{name} +{offset}: from s, learnt pitch, truth's step, people in line, distances {qs}, distances")
    lowest: dict[float, float] = {}
    end = rows[-1][0] if rows else 0.0
    for w0 in np.arange(0.0, end, window):
        now = [r for r in rows if w0 <= r[0] < w0 + window]
        learnt = [r[1] for r in now if r[1] is not None]
        steps = [r[3] for r in now if r[3] is not None]
        dists = [d for r in rows if w0 + window - learn_s <= r[0] < w0 + window for d in r[2]]
        if not learnt and not steps:
            continue
        enough = len(dists) >= gaps.min_pairs
        per = [float(np.percentile(dists, q)) if enough else float("nan") for q in quantiles]
        if enough:
            for q, v in zip(quantiles, per, strict=True):
                lowest[q] = min(lowest.get(q, np.inf), v)
        print(
            f"  {w0:5.0f} {np.mean(learnt) if learnt else float('nan'):6.3f} "
            f"{np.mean(steps) if steps else float('nan'):6.3f} {np.mean([r[4] for r in now]):5.1f}  "
            + " ".join(f"{v:.3f}" for v in per)
            + f"  {len(dists)}"
        )
    print("  lowest over the run: " + " ".join(f"q{q:g} {v:.3f}" for q, v in lowest.items()))
    if ratios:
        print(
            f"  found box height / true height: median {np.median(ratios):.3f}, "
            f"quartiles {np.percentile(ratios, 25):.3f}-{np.percentile(ratios, 75):.3f} ({len(ratios)} boxes)"
        )
    for steps in sorted(boxed)[:3]:
        d = np.asarray(boxed[steps])
        print(
            f"  {steps} step(s) apart: {len(d)} distances, between the boxes median {np.median(d):.3f} "
            f"(q10-q90 {np.percentile(d, 10):.3f}-{np.percentile(d, 90):.3f}), between the people "
            f"{np.median(true[steps]):.3f}"
        )


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--scenario", action="append", required=True, help="counter scene(s) to replay")
    ap.add_argument("--seed-offset", type=int, default=1000, help="seed offset of the recordings (develop on 1000)")
    ap.add_argument("--cache", type=Path, default=Path(".cache/queue-accuracy"), help="the recordings' folder")
    ap.add_argument("--window", type=float, default=20.0, help="seconds per row")
    ap.add_argument(
        "--quantile", type=float, action="append", help="percentiles of the learnt distances to print (10, 25)"
    )
    args = ap.parse_args(argv)
    for name in args.scenario:
        analyse(name, args.seed_offset, args.cache, args.window, args.quantile or [10.0, 25.0])
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
