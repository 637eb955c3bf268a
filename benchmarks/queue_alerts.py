"""Each missed or false alert of the counter scenes, traced: the true series beside what the alert rules saw.

Runs ``benchmarks/queue_accuracy.py``'s scenarios (from its detection cache: record the detections first with
``queue_accuracy.py --quick --cache``) and, around every alert the scoring left unmatched, prints what each rule
decides on, frame by frame where it changes: the true queue length and clerk beside the measured count on the
frame, the median the rules use and the clerk seen; for ``counter_stalled`` the true and measured arrivals at the
desk. A row is printed when any column changes, so a count that wobbles around a threshold shows as it is; each
matched alert is listed with its delay against the truth, and the delays are summed up by kind at the end.

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
