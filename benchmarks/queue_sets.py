"""The counter scenes' accuracy over several seed sets at once: one row per set and scene, and how many sets meet
each goal (issue 12), so a rule is judged on sets it was not made on.

Each set is ``queue_accuracy.py --quick --seed-offset K`` (the same scenarios, every seed moved by K); with
``--cache`` every set replays its recorded detections (a set not recorded yet is rendered and recorded first,
about 8 minutes). Tracking settings (``--tracking KEY=VALUE``) apply to every set, as in ``queue_accuracy.py``.

Run (a development range, then the sets held out):

    PYTHONPATH=src .venv/bin/python benchmarks/queue_sets.py --cache --offsets 1000:11000:1000
    PYTHONPATH=src .venv/bin/python benchmarks/queue_sets.py --cache --offsets 13000 14000 15000

Sets made after a rule froze are the evidence; sets a rule was traced on are not (docs/queue-accuracy.md).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path
from typing import Any

import queue_accuracy as qa


def offsets(specs: list[str]) -> list[int]:
    """``K`` or ``FIRST:LAST:STEP`` (LAST included) items, in order, each once."""
    out: list[int] = []
    for spec in specs:
        parts = [int(p) for p in spec.split(":")]
        if len(parts) == 1:
            ks = parts
        elif len(parts) == 3 and parts[2] > 0:
            ks = list(range(parts[0], parts[1] + 1, parts[2]))
        else:
            raise SystemExit(f"--offsets: {spec!r} is neither K nor FIRST:LAST:STEP")
        out += [k for k in ks if k not in out]
    return out


def _cell(x: float, digits: int) -> str:
    s = f"{x:.{digits}f}"
    return s[1:] if s.startswith("0.") else s


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--offsets", nargs="+", required=True, help="seed offsets: K or FIRST:LAST:STEP, repeatable")
    ap.add_argument("--scenario", action="append", help="only this scenario (repeatable; default: every goal scene)")
    ap.add_argument("--cache", nargs="?", type=Path, const=Path(".cache/queue-accuracy"), help="as queue_accuracy.py")
    ap.add_argument("--tracking", action="append", default=[], metavar="KEY=VALUE", help="as queue_accuracy.py")
    ap.add_argument("--line-count", choices=qa.LINE_COUNTS, default="auto", help="as queue_accuracy.py")
    ap.add_argument("--json", action="store_true", help="print every result as JSON")
    args = ap.parse_args(argv)
    tracking = qa.key_values(args.tracking)
    scenes = [s for s in qa.SCENARIOS if (s.name in args.scenario if args.scenario else s.goal)]
    if not scenes:
        ap.error(f"no such scenario: {args.scenario}")
    ks = offsets(args.offsets)
    results: dict[int, list[Any]] = {
        k: [
            qa.run(
                s,
                codec=True,
                quick=True,
                seed_offset=k,
                cache=args.cache,
                tracking=tracking,
                line_count=args.line_count,
            )
            for s in scenes
        ]
        for k in ks
    }
    if args.json:
        doc = {k: [{**r.__dict__, "passed": r.passed} for r in rs] for k, rs in results.items()}
        print(json.dumps(doc, indent=2, default=str))
        return 0
    names = [s.name for s in scenes]
    print(
        f"queue accuracy over {len(ks)} seed sets (--quick, H.264 round trip, detector dnn), load "
        f"{os.getloadavg()[0]:.1f}" + (f", detections from {args.cache}" if args.cache else "")
    )
    print(
        "set      | queue-length MAE: "
        + " ".join(f"{n:>7}" for n in names)
        + " | wait error %: "
        + " ".join(f"{n:>7}" for n in names)
        + " | alerts missed/false"
    )
    for k, rs in results.items():
        missed = sum(len(r.alerts["missed"]) for r in rs)
        false = sum(len(r.alerts["false"]) for r in rs)
        print(
            f"+{k:<7} |                   "
            + " ".join(f"{_cell(r.mae, 3):>7}" for r in rs)
            + " |               "
            + " ".join(f"{_cell(r.wait_err_pct, 2):>7}" for r in rs)
            + f" | {missed}/{false}"
        )
    print()
    print(f"sets meeting each goal, of {len(ks)}:")
    width = max(len(label) for label in qa.GOAL_LABELS.values())
    print(f"{'goal':<{width}} " + " ".join(f"{n:>7}" for n in names) + "   every scene")
    for goal, label in qa.GOAL_LABELS.items():
        per_scene = [sum(rs[i].passed[goal] for rs in results.values()) for i in range(len(scenes))]
        every = sum(all(r.passed[goal] for r in rs) for rs in results.values())
        print(f"{label:<{width}} " + " ".join(f"{n:>7}" for n in per_scene) + f"   {every:>11}")
    every_goal = sum(all(all(r.passed.values()) for r in rs) for rs in results.values())
    print(f"sets meeting every goal on every scene: {every_goal} of {len(ks)}")
    worst_mae = max((r.mae, k, r.name) for k, rs in results.items() for r in rs)
    worst_wait = max((r.wait_err_pct, k, r.name) for k, rs in results.items() for r in rs)
    print(f"largest MAE {worst_mae[0]:.3f} ({worst_mae[2]} +{worst_mae[1]}); "
          f"largest wait error {worst_wait[0]:.2f} % ({worst_wait[2]} +{worst_wait[1]})")  # fmt: skip
    return 0


if __name__ == "__main__":
    sys.exit(main())
