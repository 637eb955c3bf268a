"""Each missed or false alert of the counter scenes, traced: the true series beside what the alert rules saw.

Runs ``benchmarks/queue_accuracy.py``'s scenarios (from its detection cache: record the detections first with
``queue_accuracy.py --quick --cache``) and, around every alert the scoring left unmatched, prints what each rule
decides on, frame by frame where it changes: the true queue length and clerk beside the measured count on the
frame, the median the rules use and the clerk seen; for ``counter_stalled`` the true and measured arrivals at the
desk. A row is printed when any column changes, so a count that wobbles around a threshold shows as it is; each
matched alert is listed with its delay against the truth, and the delays are summed up by kind at the end.
Each unmatched alert gets a cause line (see :func:`cause`): the count (or the clerk seen, or the desk's
arrivals), the truth's knife edge, an earlier unmatched alert it follows from, or the rule itself.

    PYTHONPATH=$PWD/src python benchmarks/queue_alerts.py --seed-offset 1000
    PYTHONPATH=$PWD/src python benchmarks/queue_alerts.py --seed-offset 2000 --scenario stall --before 70
    PYTHONPATH=$PWD/src python benchmarks/queue_alerts.py --seed-offset 4000 --truth-grace 1.0   # no detections
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
import queue_accuracy as qa  # noqa: E402

from kedirivms.analytics.queue import analyzer as qan  # noqa: E402
from kedirivms.analytics.queue.alerts import Hysteresis  # noqa: E402


def _spy() -> tuple[list[tuple[Any, ...]], Any]:
    """Keep what ``QueueAnalyzer._alerts`` is given on each frame (and the service desk's arrivals)."""
    rows: list[tuple[Any, ...]] = []
    inner = qan.QueueAnalyzer._alerts

    def alerts(self: Any, t: float, length: int, staffed: bool) -> Any:
        raw_n, raw_staffed = (self._recent[-1][1], self._recent[-1][2]) if self._recent else (length, staffed)
        service = self._service
        arrivals = [round(a[0], 1) for a in service.arrivals] if service is not None else []
        reached = bool(service is not None and service.reached_since(t))
        out = inner(self, t, length, staffed)
        rows.append((t, raw_n, length, raw_staffed, staffed, reached, arrivals, [(e.kind, e.time) for e in out]))
        return out

    qan.QueueAnalyzer._alerts = alerts  # type: ignore[method-assign]
    return rows, inner


def trace(name: str, offset: int, cache: Path, before: float, after: float) -> list[tuple[str, float]]:
    """Run one scenario and print the window around each unmatched alert; returns each matched alert's kind and
    delay (measured - true, s)."""
    scenario = {s.name: s for s in qa.SCENARIOS}[name]
    rows, inner = _spy()
    try:
        res = qa.run(scenario, codec=True, quick=True, seed_offset=offset, cache=cache)
    finally:
        qan.QueueAnalyzer._alerts = inner  # type: ignore[method-assign]
    params = dict(scenario.scene)
    params["seed"] = int(params["seed"]) + offset
    params["duration_s"] = min(float(params["duration_s"]), 240.0)
    truth = qa.CounterScene(view="oblique", width=qa.WIDTH, height=qa.HEIGHT, fps=qa.FPS, **params).truth()
    a = res.alerts
    print(
        f"== {name} +{offset}: MAE {res.mae:.3f}, wait err {res.wait_err_pct:.2f} %, alerts true {a['truth']} "
        f"matched {a['matched']}, missed {len(a['missed'])}, false {len(a['false'])}, max dt {a['max_abs_delay_s']}"
    )
    truths = qa._true_alerts(truth, scenario.start_s)
    measured = [(k, t) for r in rows for k, t in r[7]]
    print("   true:     " + ", ".join(f"{k} {t:.1f}" for k, t in truths))
    print("   measured: " + ", ".join(f"{k} {t:.1f}" for k, t in measured))
    pairs = sorted(
        (abs(mt - tt), i, j)
        for i, (tk, tt) in enumerate(truths)
        for j, (mk, mt) in enumerate(measured)
        if tk == mk and abs(mt - tt) <= qa.ALERT_TOLERANCE_S
    )
    used_t: set[int] = set()
    used_m: set[int] = set()
    delays: list[tuple[str, float]] = []
    for _d, i, j in pairs:
        if i not in used_t and j not in used_m:
            used_t.add(i)
            used_m.add(j)
            delays.append((truths[i][0], measured[j][1] - truths[i][1]))
            print(
                f"   matched {truths[i][0]:<18} true {truths[i][1]:6.1f} measured {measured[j][1]:6.1f} "
                f"delay {measured[j][1] - truths[i][1]:+5.1f} s"
            )
    served = sorted(p.service_enter_s for p in truth.people if p.service_enter_s is not None)
    index = {round(float(t), 3): i for i, t in enumerate(truth.times)}
    for kind, when, what in [(k, t, "missed") for k, t in a["missed"]] + [(k, t, "false") for k, t in a["false"]]:
        print(f"-- {what} {kind} at {when:.1f} s")
        other = truths if what == "false" else measured
        print("   cause: " + cause(kind, when, what, other, rows, truth, served))
        print(f"   {'t':>6} {'true n':>6} {'raw':>4} {'med':>4} | {'clerk':>5} {'raw':>4} {'med':>4} | desk")
        last: tuple[Any, ...] | None = None
        for t, raw_n, med, raw_st, st, reached, arrivals, events in rows:
            if not when - before <= t <= when + after:
                continue
            i = index.get(round(t, 3))
            n = int(truth.queue_length[i]) if i is not None else -1
            clerk = bool(truth.clerk_present[i]) if i is not None else None
            came = [s for s in served if t - 1.0 / qa.FPS < s <= t]
            key = (n, raw_n, med, clerk, raw_st, st)
            if key == last and not came and not reached and not arrivals and not events:
                continue
            last = key
            desk = ("true arrival " if came else "") + (f"seen {arrivals} " if arrivals else "")
            desk += "reached " if reached else ""
            desk += " ".join(f"<{k}>" for k, _ in events)
            print(f"   {t:6.1f} {n:>6} {raw_n:>4} {med:>4} | {clerk!s:>5} {raw_st!s:>4} {st!s:>4} | {desk}")
    return delays


# how long each kind's timed condition must hold (the benchmark's rules), s
_FOR_S = {
    "pile_up": qa.PILE_UP.for_s,
    "pile_up_cleared": qa.PILE_UP.clear_for_s,
    "counter_unstaffed": qa.UNSTAFFED.for_s,
    "counter_staffed": qa.UNSTAFFED.clear_for_s,
    "counter_stalled": qa.STALLED.for_s,
    "counter_resumed": qa.STALLED.clear_for_s,
}
_PAIRS = {
    k: pair
    for pair in (
        ("pile_up", "pile_up_cleared"),
        ("counter_unstaffed", "counter_staffed"),
        ("counter_stalled", "counter_resumed"),
    )
    for k in pair
}
KNIFE_EDGE_S = 1.0  # a stall whose true arrivals are this close to the rule's for_s goes either way (see cause)


def cause(
    kind: str,
    when: float,
    what: str,
    other: list[tuple[str, float]],
    rows: list[tuple[Any, ...]],
    truth: Any,
    served: list[float],
) -> str:
    """Put an unmatched alert down to the count (or the clerk seen), the truth's knife edge, or the rule itself.

    ``other``: the alerts on the other side (measured for a missed one, true for a false one). The span looked at
    runs from the timer's start (``for_s`` before the earlier of this alert and the nearest of its kind on the
    other side, if within a minute) to the later of the two. For ``pile_up`` and the clerk's alerts the rule's
    condition on the median is set beside the same condition on the true series frame by frame: if they agree
    throughout, the rule is to blame (the same timer on the same condition decided otherwise), else the count (or
    the clerk seen) is, with how often and by how much it was off. For ``counter_stalled`` and its resume: a
    stall whose true arrivals at the desk are within ``KNIFE_EDGE_S`` of ``for_s`` apart is a knife edge (an
    arrival is known to a detection, 0.5 s, and decided up to a detection or two later); else a true arrival
    the desk did not see within ``KNIFE_EDGE_S`` (or one it saw that is not true) is the desk's count, and then a
    line read empty (or waiting) or a clerk seen otherwise than the truth has them is the count. First of
    all, an alert the other side could not have made (its alert was already raised, or already cleared, by an
    earlier miss or false alert) follows from that one.
    """
    pair = _PAIRS[kind]
    last = next(((k, t) for k, t in reversed(other) if k in pair and t < when), None)  # the other side's state
    if (last is not None and last[0] == pair[0]) == (kind == pair[0]):
        side = "the truth" if what == "false" else "the measured side"
        then = f"{last[0]} at {last[1]:.1f} s" if last is not None else f"no {pair[0]} yet"
        return f"follows an earlier one: on {side}, {then}"
    near = [t for k, t in other if k == kind and abs(t - when) <= 60.0]
    twin = min(near, key=lambda t: abs(t - when)) if near else None
    lo = min(when, twin if twin is not None else when) - _FOR_S[kind]
    hi = max(when, twin if twin is not None else when)
    index = {round(float(t), 3): i for i, t in enumerate(truth.times)}
    span = [(r, index[round(r[0], 3)]) for r in rows if lo <= r[0] <= hi and round(r[0], 3) in index]
    if kind.startswith("pile_up"):
        th, low = qa.PILE_UP.threshold, qa.PILE_UP.clear_level
        on = (lambda n: n >= th) if kind == "pile_up" else (lambda n: n <= low)
        off = [(r[0], r[2] - int(truth.queue_length[i])) for r, i in span if on(r[2]) != on(int(truth.queue_length[i]))]
        if not off:
            return f"the rule: the median meets the condition as the truth does on every frame {lo:.1f}-{hi:.1f} s"
        errs = sorted({e for _, e in off})
        return (
            f"the count: the median {'/'.join(f'{e:+d}' for e in errs)} against the truth's condition on "
            f"{len(off)} of {len(span)} frames {lo:.1f}-{hi:.1f} s (first {off[0][0]:.1f}, last {off[-1][0]:.1f} s)"
        )
    if kind in ("counter_unstaffed", "counter_staffed"):
        off = [r[0] for r, i in span if bool(r[4]) != bool(truth.clerk_present[i])]
        if not off:
            return f"the rule: the clerk seen as the truth has them on every frame {lo:.1f}-{hi:.1f} s"
        return f"the clerk seen: off the truth on {len(off)} of {len(span)} frames {lo:.1f}-{hi:.1f} s"
    # the stall's time: a resume comes clear_for_s after the arrival that ended it (and a detection or two later)
    x = when if kind == "counter_stalled" else when - _FOR_S["counter_resumed"] - KNIFE_EDGE_S
    before = [s for s in served if s <= x]
    after = [s for s in served if s > x]
    gap = (after[0] - before[-1]) if before and after else None
    if gap is not None and abs(gap - qa.STALLED.for_s) <= KNIFE_EDGE_S:
        return (
            f"the truth's knife edge: true arrivals at {before[-1]:.1f} and {after[0]:.1f} s, {gap:.1f} s apart "
            f"against for_s {qa.STALLED.for_s:g} s"
        )
    seen = sorted({a for r in rows for a in r[6] if lo - 1.0 <= a <= hi + 1.0})
    true = [s for s in served if lo - 1.0 <= s <= hi + 1.0]
    unseen = [s for s in true if not any(abs(a - s) <= KNIFE_EDGE_S for a in seen)]
    extra = [a for a in seen if not any(abs(a - s) <= KNIFE_EDGE_S for s in true)]
    if unseen or extra:
        return (
            "the desk's arrivals: "
            + (f"true {', '.join(f'{s:.1f}' for s in unseen)} s not seen " if unseen else "")
            + (f"seen {', '.join(f'{a:.1f}' for a in extra)} s not true" if extra else "")
        ).rstrip()
    least = qa.STALLED.min_waiting
    line = [r[0] for r, i in span if (r[2] >= least) != (int(truth.queue_length[i]) >= least)]
    clerk = [r[0] for r, i in span if bool(r[4]) != bool(truth.clerk_present[i])]
    if line or clerk:
        return (
            "the count: the desk's arrivals match the truth's, but "
            + (
                f"the line (median) read {'empty' if kind == 'counter_stalled' else 'waiting'} against the truth "
                f"on {len(line)} of {len(span)} frames {line[0]:.1f}-{line[-1]:.1f} s"
                if line
                else ""
            )
            + (" and " if line and clerk else "")
            + (f"the clerk seen off the truth on {len(clerk)} frames" if clerk else "")
        )
    return f"the rule: the desk's arrivals, the line and the clerk match the truth's {lo:.1f}-{hi:.1f} s"


def truth_grace(name: str, offset: int, grace_s: float) -> None:
    """The rules on the true series with and without ``grace_s`` (a true dip that short goes either way)."""
    scenario = {s.name: s for s in qa.SCENARIOS}[name]
    params = dict(scenario.scene)
    params["seed"] = int(params["seed"]) + offset
    params["duration_s"] = min(float(params["duration_s"]), 240.0)
    truth = qa.CounterScene(view="oblique", width=qa.WIDTH, height=qa.HEIGHT, fps=qa.FPS, **params).truth()
    runs = []
    for grace in (0.0, grace_s):
        pile = Hysteresis(qa.PILE_UP.for_s, qa.PILE_UP.clear_for_s, grace)
        unstaffed = Hysteresis(qa.UNSTAFFED.for_s, qa.UNSTAFFED.clear_for_s, grace)
        out = []
        for t, n, present in zip(truth.times, truth.queue_length, truth.clerk_present, strict=True):
            if t < scenario.start_s:
                continue
            for kind, tr in (
                ("pile_up", pile.update(n >= qa.PILE_UP.threshold, n <= qa.PILE_UP.clear_level, float(t))),
                ("counter_unstaffed", unstaffed.update(not present, bool(present), float(t))),
            ):
                if tr is not None:
                    out.append(f"{kind}{'' if tr.raised else ' cleared'} {t:.1f}")
        runs.append(out)
    same = "the same" if runs[0] == runs[1] else "DIFFERENT"
    print(f"{name:8} +{offset}: {same}: {', '.join(runs[0]) or '-'}" + ("" if runs[0] == runs[1] else f" / {runs[1]}"))


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--scenario", action="append", help="repeatable; default: the seven goal scenes")
    ap.add_argument("--seed-offset", type=int, default=1000)
    ap.add_argument("--cache", type=Path, default=Path(".cache/queue-accuracy"), help="the recorded detections")
    ap.add_argument("--before", type=float, default=20.0, help="seconds shown before each alert")
    ap.add_argument("--after", type=float, default=5.0, help="seconds shown after each alert")
    ap.add_argument(
        "--truth-grace",
        type=float,
        metavar="S",
        help="instead: the true pile_up and counter_unstaffed alerts with and without a grace of S seconds",
    )
    args = ap.parse_args()
    delays: list[tuple[str, float]] = []
    for name in args.scenario or [s.name for s in qa.SCENARIOS if s.goal]:
        if args.truth_grace is not None:
            truth_grace(name, args.seed_offset, args.truth_grace)
        else:
            delays += trace(name, args.seed_offset, args.cache, args.before, args.after)
    if delays:  # each kind's delays against the truth, of the alerts matched within the tolerance
        print(f"== matched alerts' delays, s (tolerance {qa.ALERT_TOLERANCE_S:g} s)")
        for kind in sorted({k for k, _ in delays}):
            d = [x for k, x in delays if k == kind]
            print(
                f"   {kind:<18} {len(d):>3} alerts  min {min(d):+5.1f}  max {max(d):+5.1f}  "
                f"mean {sum(d) / len(d):+5.2f}  mean |d| {sum(abs(x) for x in d) / len(d):4.2f}"
            )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
