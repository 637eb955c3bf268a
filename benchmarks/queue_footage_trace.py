"""What the queue analyzer makes of every annotated real clip, written down and compared: does a change move it?

The counter scenes are our own renderer's; the real clips (tests/data/footage, and vtest.avi after ``make footage``)
are the footage we did not make. A rule traced on the renderer may fire on them or not; this script says which.
For every clip it runs the analyzer with the default detector over the whole clip (the truth file's zones) and
keeps its output: the queue length on every frame, every wait in line it finished and every stay at the desk.

    .venv/bin/python benchmarks/queue_footage_trace.py --write /tmp/before.json    # on the code before a change
    .venv/bin/python benchmarks/queue_footage_trace.py --against /tmp/before.json  # after it: same, or where not

The DNN's ``auto`` looks run as ``always`` (as the counter scenes' recordings do), so the output does not depend on
how busy the box is; the model's output is the same on one box from run to run. Exit status: 0, or 1 when a clip's
output differs from ``--against``'s (a clip missing on either side is said, not counted).
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import sys
from pathlib import Path
from typing import Any

import queue_accuracy as qa

from kedirivms.analytics.queue.config import DnnDetectorConfig
from kedirivms.analytics.queue.evaluation import ClipScore, evaluate_clip

FORMAT = "kedirivms-footage-trace/1"


def runs(lengths: list[int]) -> list[list[int]]:
    """``lengths`` as ``[value, frames]`` runs."""
    out: list[list[int]] = []
    for n in lengths:
        if out and out[-1][0] == n:
            out[-1][1] += 1
        else:
            out.append([n, 1])
    return out


def trace(score: ClipScore) -> dict[str, Any]:
    """One clip's output, JSON-ready (times rounded to 10 ms)."""
    return {
        "frames": score.decoded,
        "mae": round(score.mae, 4),
        "lengths": runs(score.lengths),
        "visits": [[round(v.end, 2), round(v.wait_s, 2), v.served, v.censored] for v in score.visits],
        "stays": [[round(s.end, 2), round(s.service_s, 2), s.censored] for s in score.stays],
    }


def digest(clip: dict[str, Any]) -> str:
    """A short checksum of a clip's trace."""
    return hashlib.sha256(json.dumps(clip, sort_keys=True).encode()).hexdigest()[:10]


def frame_lengths(clip: dict[str, Any]) -> list[int]:
    """The per-frame queue lengths of a trace."""
    return [n for n, count in clip["lengths"] for _ in range(count)]


def differences(old: dict[str, Any], new: dict[str, Any]) -> list[str]:
    """Where two traces of one clip part: the first frame whose queue length differs, and the visits and stays
    found on one side only."""
    said = []
    a, b = frame_lengths(old), frame_lengths(new)
    first = next((i for i, (x, y) in enumerate(zip(a, b, strict=False)) if x != y), None)
    if first is not None:
        moved = sum(x != y for x, y in zip(a, b, strict=False))
        said.append(f"queue length differs on {moved} frames, first at frame {first} ({a[first]} -> {b[first]})")
    if len(a) != len(b):
        said.append(f"frames analysed {len(a)} -> {len(b)}")
    for name in ("visits", "stays"):
        before = {tuple(x) for x in old[name]}
        after = {tuple(x) for x in new[name]}
        gone, came = sorted(before - after), sorted(after - before)
        if gone or came:
            said.append(f"{name} {len(old[name])} -> {len(new[name])}: only before {gone[:3]}, only after {came[:3]}")
    return said


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--write", type=Path, help="write the traces to this file")
    ap.add_argument("--against", type=Path, help="compare with traces written before")
    ap.add_argument("--rate", type=float, default=2.0, help="dnn.rate_hz (default 2, the plugin's)")
    args = ap.parse_args(argv)
    before: dict[str, Any] = {}
    if args.against is not None:
        saved = json.loads(args.against.read_text())
        if saved.get("format") != FORMAT:
            print(f"{args.against}: not a {FORMAT} file", file=sys.stderr)
            return 2
        before = saved["clips"]
    config = {"dnn": {"rate_hz": args.rate, **qa.always_looks(DnnDetectorConfig())}}
    clips: dict[str, Any] = {}
    changed = 0
    print(f"real footage, DNN at {args.rate:g} Hz + tracking, looks always; load {os.getloadavg()[0]:.1f}")
    print(f"{'clip':<44} {'frames':>6} {'MAE':>6} {'visits':>6} {'served':>6} {'stays':>5} {'digest':>10}  against")
    for truth, path in qa.footage_clips():
        score = evaluate_clip(path, truth, detector="dnn", config=config, end_s=float("inf"))
        clip = clips[truth.clip] = trace(score)
        served = sum(v[2] for v in clip["visits"])
        said = differences(before[truth.clip], clip) if truth.clip in before else []
        if truth.clip not in before:
            verdict = "-" if not before else "not in the file"
        else:
            changed += bool(said)
            verdict = "same" if not said else "DIFFERS"
        print(
            f"{truth.clip:<44} {clip['frames']:>6} {clip['mae']:>6.3f} {len(clip['visits']):>6} {served:>6}"
            f" {len(clip['stays']):>5} {digest(clip):>10}  {verdict}"
        )
        for line in said:
            print(f"    {line}")
    for name in sorted(set(before) - set(clips)):
        print(f"{name:<44} in the file, not run here")
    if args.write is not None:
        args.write.write_text(json.dumps({"format": FORMAT, "rate_hz": args.rate, "clips": clips}, indent=1) + "\n")
        print(f"written: {args.write}")
    if before:
        print(f"{changed} of {len(clips)} clips differ from {args.against}")
    return 1 if changed else 0


if __name__ == "__main__":
    sys.exit(main())
