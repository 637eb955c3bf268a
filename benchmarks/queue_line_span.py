"""A tight line's people added by its gaps and by its span, replayed in variants (development seeds only).

Replays one counter scene's recorded detections (as ``queue_accuracy.py --cache`` records them) through the
analyzer once, keeping every call of :meth:`~kedirivms.analytics.queue.line_gaps.LineGaps.hidden` (its inputs) and
every frame's count and true count. Each variant below is a fresh ``LineGaps`` fed the same calls; a frame's count
is the analyzer's with the people the variant adds instead of those the analyzer added. The variants keep the
learnt pitch, so the tight switch and the rules it turns on (feet beside someone taller, the second look's people
inside a box for two) are the analyzer's, and the figures are exact: ``kept`` is the analyzer's own MAE.

* ``gaps``: the gaps alone (``LineGaps(span=False)``, the rule before the fourteenth session);
* ``any-gap``: the shipped rule with a gap looked for between any two neighbours standing still
  (``LineGaps(seen_gaps=False)``, the rule before the sixteenth session);
* ``kept``: the shipped rule (the mean of the gaps' and the span's count, the step from :func:`step_modes`);
* ``span``: the span's count alone (the same step);
* ``step=S`` (``--step S``, repeatable): the span's count alone with a constant step ``S`` (an oracle: the step
  along the line depends on the view; read the truth's with ``queue_line_step.py``).

With ``--states``, the kept rule's error is split by sign and by the line's state on the frame's detection:
*tight* (the learnt pitch at most ``max_pitch``), *held* (learnt tight before, longer or not learnt now: see
``LineGaps(hold=True)``) or *none* (never learnt tight, or gone), in frames (summed absolute error, under and over).

Run (development seeds only; see docs/queue-accuracy.md, "The tight line's span"):

    PYTHONPATH=src .venv/bin/python benchmarks/queue_line_span.py --seed-offset 5000 --step 0.21 --step 0.22
"""

from __future__ import annotations

import argparse
import math
import sys
from pathlib import Path
from typing import Any

import numpy as np

from kedirivms.analytics.queue.line_gaps import LineGaps

sys.path.insert(0, str(Path(__file__).resolve().parent))
import queue_accuracy as qa  # noqa: E402
import queue_count_errors as qce  # noqa: E402
from _queue_replay import RecordingDetector, replay_step  # noqa: E402


class _SpanOnly(LineGaps):
    """The span's count alone (``step``: a constant step along the line instead of the fitted one)."""

    def __init__(self, max_pitch: float, window_s: float, step: float | None = None) -> None:
        super().__init__(max_pitch, window_s, refit_s=math.inf if step is not None else 5.0)
        if step is not None:
            self._step = (0.0, (step, 0.0))  # never fitted again (refit_s infinite)

    def _checked(self, gaps: int, span: int) -> int:
        return span


def _record(name: str, offset: int, cache: Path) -> tuple[list[tuple[Any, ...]], np.ndarray, float, float]:
    """The calls of ``hidden`` (time, arguments, answer), per frame (count, true count, last call), and the
    analyzer's ``max_pitch`` and ``window_s``."""
    scenario, _, _, _ = qa.quick_scene(name, offset)
    scene, _, analyzer = qce._setup(name, offset, cache, None)
    gaps = analyzer._gaps
    if gaps is None:
        raise SystemExit("the line's gaps are off (tracking.line_pitch 0)")
    calls: list[tuple[Any, ...]] = []
    hidden = gaps.hidden

    def spy(t: float, *args: Any) -> int:
        out = hidden(t, *args)
        calls.append((t, tuple(None if a is None else np.array(a) for a in args), out))
        return out

    setattr(gaps, "hidden", spy)  # noqa: B010
    replay = analyzer.detector
    assert isinstance(replay, RecordingDetector)
    truth = scene.truth()
    sel = np.nonzero(truth.times >= scenario.start_s)[0]
    blank = np.zeros((qa.HEIGHT, qa.WIDTH), dtype=np.uint8)
    frames = []
    for k, i in enumerate(sel):  # as queue_accuracy.py replays: frames from the scenario's start
        replay_step(analyzer, replay, k, float(truth.times[i]), blank)
        assert analyzer.last is not None
        frames.append((analyzer.last.seen_length, int(truth.queue_length[i]), len(calls) - 1))
    return calls, np.array(frames), gaps.max_pitch, gaps.window_s


def _counts(calls: list[tuple[Any, ...]], frames: np.ndarray, variant: LineGaps) -> tuple[np.ndarray, list[str]]:
    """Each frame's count with the people ``variant`` adds, and the line's state on each call (see ``--states``)."""
    added, states = [], []
    for t, args, _ in calls:
        added.append(variant.hidden(t, *args))
        if variant.tight:
            states.append("tight")
        elif variant.hold and variant._held is not None and variant._pairs:
            states.append("held")
        else:
            states.append("none")
    counts = frames[:, 0].astype(np.float64)
    for k, (count, _, last) in enumerate(frames.tolist()):
        if last < 0:
            continue
        t, args, out = calls[last]
        base = int(np.asarray(args[3], dtype=bool).sum())  # the boxes counted in the queue zone
        if count == base + out:  # this frame's count is that call's (not a later detection's without boxes)
            counts[k] = base + added[last]
    return counts, states


def _mae(calls: list[tuple[Any, ...]], frames: np.ndarray, variant: LineGaps) -> float:
    counts, _ = _counts(calls, frames, variant)
    return float(np.abs(counts - frames[:, 1]).mean())


def _states(calls: list[tuple[Any, ...]], frames: np.ndarray, variant: LineGaps) -> None:
    """Print the frames' error by sign and by the line's state on their detection."""
    counts, states = _counts(calls, frames, variant)
    err = counts - frames[:, 1]
    state = np.array([states[last] if last >= 0 else "none" for last in frames[:, 2].tolist()])
    for name in ("tight", "held", "none"):
        sel = state == name
        under, over = abs(float(err[sel & (err < 0)].sum())), float(err[sel & (err > 0)].sum())
        print(f"    {name:<6} {int(sel.sum()):5d} frames, under {under:6.0f}, over {over:6.0f}")


def _variant(label: str, step: float | None, max_pitch: float, window_s: float) -> LineGaps:
    if label == "gaps":
        return LineGaps(max_pitch, window_s, span=False)
    if label == "kept":
        return LineGaps(max_pitch, window_s)
    if label == "any-gap":
        return LineGaps(max_pitch, window_s, seen_gaps=False)
    return _SpanOnly(max_pitch, window_s, step)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--scenario", action="append", help="counter scene(s) to replay (tight)")
    ap.add_argument("--seed-offset", type=int, default=1000, help="seed offset of the recordings (develop on 1000)")
    ap.add_argument("--cache", type=Path, default=Path(".cache/queue-accuracy"), help="the recordings' folder")
    ap.add_argument("--step", type=float, action="append", default=[], help="a constant step along the line")
    ap.add_argument("--states", action="store_true", help="the error by sign and the line's state (both rules)")
    args = ap.parse_args(argv)
    for name in args.scenario or ["tight"]:
        calls, frames, max_pitch, window_s = _record(name, args.seed_offset, args.cache)
        print(f"{name} +{args.seed_offset}: queue-length MAE, {len(calls)} detections")
        labels = [("gaps", None), ("any-gap", None), ("kept", None), ("span", None)]
        for label, step in labels + [(f"step={s:g}", s) for s in args.step]:
            variant = _variant(label, step, max_pitch, window_s)
            print(f"  {label:<12} {_mae(calls, frames, variant):.3f}")
            if args.states and label in ("any-gap", "kept"):
                _states(calls, frames, _variant(label, step, max_pitch, window_s))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
