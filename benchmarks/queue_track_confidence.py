"""How confident the detector ever was of each person it tracked, true people against false boxes (dev seeds only).

Replays counter scenes' recorded detections (as ``queue_accuracy.py --cache`` records them) through the analyzer
and, on every detection picture, pairs the boxes seen now (not kept, not the second look's) with the scene's true
people by their heads (as ``queue_count_errors.py`` does). Each person id the analyzer gave is then a *true*
person (its boxes were at someone's head on most of its pictures) or a *false* one (at nobody's head: a duplicate,
a part of someone, a box between two people). It prints, per kind, how many ids had their highest score under
each step, and the same for the ids the analyzer kept as hidden behind someone at least once: where the highest
score ever seen separates the two is where a least score for keeping someone hidden could go (tried and left
out: on fresh seeds the two overlap; docs/queue-accuracy.md, "A least score for people kept as hidden").

Run (development seeds only; see docs/queue-accuracy.md):

    PYTHONPATH=src .venv/bin/python benchmarks/queue_track_confidence.py --seed-offset 1000 --seed-offset 2000
"""

from __future__ import annotations

import argparse
import sys
from collections import defaultdict
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
import queue_accuracy as qa  # noqa: E402
import queue_count_errors as qce  # noqa: E402
from _queue_replay import RecordingDetector, replay_step  # noqa: E402

STEPS = (0.40, 0.45, 0.50, 0.55, 0.60, 0.70)
COUNTERS = ("quiet", "busy", "absence", "noisy", "tight", "hard", "stall")


def tracks(name: str, offset: int, cache: Path) -> list[tuple[float, bool, bool, int]]:
    """Per person id: (highest score seen, true person?, ever kept hidden?, pictures seen)."""
    scene, rec, analyzer = qce._setup(name, offset, cache, None)
    truth = scene.truth()
    spy = qce._Spy(analyzer)
    replay = analyzer.detector
    assert isinstance(replay, RecordingDetector)
    blank = np.zeros((qa.HEIGHT, qa.WIDTH), dtype=np.uint8)
    best: dict[int, float] = defaultdict(float)
    at_head: dict[int, list[int]] = defaultdict(lambda: [0, 0])
    hidden: set[int] = set()
    for k in range(len(truth.times)):
        t = float(truth.times[k])
        spy.rows = None
        replay_step(analyzer, replay, k, t, blank)
        rows = spy.rows
        if rows is None:
            continue
        hidden.update(int(x) for x in rows["ids"][rows["hidden"]])
        seen = (rows["conf"] > 0) & ~rows["extra"] & (rows["ids"] >= 0)
        pairs = qce._pair(rows["xyxy"], qce._truth_people(scene, t), (rows["conf"] <= 0) + 2 * rows["span"])
        for i in np.nonzero(seen)[0].tolist():
            pid = int(rows["ids"][i])
            best[pid] = max(best[pid], float(rows["conf"][i]))
            at_head[pid][0 if i in pairs else 1] += 1
    return [(best[p], at_head[p][0] > at_head[p][1], p in hidden, sum(at_head[p])) for p in best]


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--scenario", action="append", help="counter scene(s) (default: all seven)")
    ap.add_argument("--seed-offset", type=int, action="append", help="seed offset(s) (develop on 1000, 2000, ...)")
    ap.add_argument("--cache", type=Path, default=Path(".cache/queue-accuracy"), help="the recordings' folder")
    args = ap.parse_args(argv)
    rows: list[tuple[float, bool, bool, int]] = []
    for offset in args.seed_offset or [1000]:
        for name in args.scenario or COUNTERS:
            got = tracks(name, offset, args.cache)
            rows += got
            false = [r for r in got if not r[1]]
            print(f"{name} +{offset}: {len(got)} ids, {len(false)} false; false ids' highest scores, pictures:")
            print("   ", sorted((round(r[0], 3), r[3], "hidden" if r[2] else "") for r in false))
            low = sorted((round(r[0], 3), r[3]) for r in got if r[1] and r[2] and r[0] < 0.6)
            if low:
                print(f"    true ids kept hidden whose highest score is under 0.6 (score, pictures): {low}")
    for label, sel in (("all ids", rows), ("ids kept hidden at least once", [r for r in rows if r[2]])):
        true = np.array([r[0] for r in sel if r[1]])
        false = np.array([r[0] for r in sel if not r[1]])
        print(f"{label}: {len(true)} true, {len(false)} false; share whose highest score is under")
        print("   step   " + " ".join(f"{s:6.2f}" for s in STEPS))
        for kind, arr in (("true", true), ("false", false)):
            shares = [float(np.mean(arr < s)) if len(arr) else 0.0 for s in STEPS]
            print(f"   {kind:6s} " + " ".join(f"{x:6.3f}" for x in shares))
        if len(true):
            print(f"   true ids' highest score: lowest {true.min():.3f}, 1st percentile {np.percentile(true, 1):.3f}")
        if len(false):
            print(f"   false ids' highest scores: {sorted(round(float(x), 3) for x in false)}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
