"""The waits alone: record what the queue analyzer's WaitTracker is fed on a counter scene, then replay only the
WaitTracker on it (a second or two for all seven scenes) to try a change to the waits' logic.

``record`` runs ``benchmarks/queue_accuracy.py``'s scenario (from its detection cache, so record the detections
first with ``queue_accuracy.py --quick --cache``) and keeps every ``WaitTracker.update`` and ``arrived`` call with
the scene's true visitors. ``replay`` feeds them to the WaitTracker of the code on ``PYTHONPATH`` and prints the
mean wait error (as ``queue_accuracy.py`` computes it), each visitor's own error, and with ``--trace`` every start
put in or taken out of the line's ledger and by what.

Only the waits replay: the ServiceTracker's arrivals are replayed as recorded, so a change to the services, the
tracking or the detector needs a new recording (and ``queue_accuracy.py`` for its figures). Replayed figures equal
the full run's for the code that recorded them (``full run`` in the output).

    PYTHONPATH=$PWD/src python benchmarks/queue_waits.py record --seed-offset 1000
    PYTHONPATH=$PWD/src python benchmarks/queue_waits.py replay --seed-offset 1000 --scenario tight --table --trace
"""

from __future__ import annotations

import argparse
import pickle
import sys
from pathlib import Path
from typing import Any

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
import queue_accuracy as qa  # noqa: E402

from kedirivms.analytics.queue import waits  # noqa: E402


def record(name: str, offset: int, cache: Path, out: Path) -> None:
    """Run scenario ``name`` from the detection cache, keeping the WaitTracker's calls."""
    calls: list[tuple[Any, ...]] = []
    settings: dict[str, Any] = {}
    cls = waits.WaitTracker
    init, update, arrived = cls.__init__, cls.update, cls.arrived

    def spy_init(self: Any, **kwargs: Any) -> None:
        settings.update(kwargs)
        init(self, **kwargs)

    def spy_update(self: Any, t: float, ids: Any, centres: Any, in_queue: Any, in_service: Any) -> Any:
        calls.append(("update", t, ids.copy(), np.asarray(centres).copy(), in_queue.copy(), in_service.copy()))
        return update(self, t, ids, centres, in_queue, in_service)

    def spy_arrived(self: Any, *args: Any, **kwargs: Any) -> Any:
        calls.append(("arrived", args, kwargs))
        return arrived(self, *args, **kwargs)

    cls.__init__, cls.update, cls.arrived = spy_init, spy_update, spy_arrived  # type: ignore[method-assign]
    try:
        scenario = {s.name: s for s in qa.SCENARIOS}[name]
        res = qa.run(scenario, codec=True, quick=True, seed_offset=offset, cache=cache)
    finally:
        cls.__init__, cls.update, cls.arrived = init, update, arrived  # type: ignore[method-assign]
    params = dict(scenario.scene)
    params["seed"] = int(params["seed"]) + offset
    params["duration_s"] = min(float(params["duration_s"]), 240.0)
    truth = qa.CounterScene(view="oblique", width=qa.WIDTH, height=qa.HEIGHT, fps=qa.FPS, **params).truth()
    people = [(p.id, p.queue_enter_s, p.service_enter_s, p.wait_s) for p in truth.people]
    end = float(truth.times[truth.times >= scenario.start_s][res.frames - 1])
    out.mkdir(parents=True, exist_ok=True)
    with open(out / f"{name}-{offset}.pkl", "wb") as f:
        pickle.dump(
            {
                "settings": settings,
                "calls": calls,
                "people": people,
                "start": scenario.start_s,
                "end": end,
                "full_run_err_pct": res.wait_err_pct,
            },
            f,
        )
    print(f"{name:8} {offset}: recorded {len(calls)} calls, wait error {res.wait_err_pct:.2f} %")


class _Ledger(list):  # type: ignore[type-arg]
    """The line's ledger, printing every start put in or taken out (``--trace``)."""

    def __init__(self, now: list[float], why: list[str]) -> None:
        super().__init__()
        self.now, self.why = now, why

    def _say(self, sign: str, entry: tuple[Any, ...], n: int) -> None:
        print(f"  t={self.now[0]:6.1f} {sign} start {entry[0]:6.1f} by {'/'.join(self.why) or 'update'} (n={n})")

    def insert(self, i: Any, entry: Any) -> None:
        self._say("+", entry, len(self) + 1)
        super().insert(i, entry)

    def pop(self, i: Any = -1) -> Any:
        entry = super().pop(i)
        self._say("-", entry, len(self))
        return entry

    def __delitem__(self, i: Any) -> None:
        self._say("-", self[i], len(self) - 1)
        super().__delitem__(i)


def replay(name: str, offset: int, out: Path, table: bool, trace: bool) -> None:
    """Feed a recording to the WaitTracker of the code on PYTHONPATH and print its waits against the truth."""
    with open(out / f"{name}-{offset}.pkl", "rb") as f:
        rec = pickle.load(f)
    tracker = waits.WaitTracker(**rec["settings"])
    now: list[float] = [0.0]
    why: list[str] = []
    if trace:
        tracker._ledger = _Ledger(now, why)
        for method in ("_start", "_spin_off", "_reconcile", "_unledger", "arrived", "served_at_desk", "_merge_lost"):
            inner = getattr(tracker, method)

            def wrapped(*args: Any, _inner: Any = inner, _name: str = method, **kwargs: Any) -> Any:
                why.append(_name)
                try:
                    return _inner(*args, **kwargs)
                finally:
                    why.pop()

            setattr(tracker, method, wrapped)
    visits: list[waits.FinishedVisit] = []
    for call in rec["calls"]:
        if call[0] == "update":
            now[0] = call[1]
            visits += tracker.update(*call[1:])
        else:
            now[0] = call[1][0]
            done = tracker.arrived(*call[1], **call[2])
            if done is not None:
                visits.append(done)
    people = [
        p
        for p in rec["people"]
        if p[3] is not None
        and p[1] is not None
        and p[1] >= rec["start"] + 1.0
        and p[2] is not None
        and p[2] <= rec["end"]
    ]
    true_mean = float(np.mean([p[3] for p in people])) if people else 0.0
    served = [v for v in visits if v.served and not v.censored]
    meas_mean = float(np.mean([v.wait_s for v in served])) if served else 0.0
    errors = []
    for p in people:
        m = min(served, key=lambda v: abs(v.end - p[2]), default=None)
        if m is not None and abs(m.end - p[2]) <= 10.0:
            errors.append(abs(m.wait_s - p[3]))
    err = 100.0 * abs(meas_mean - true_mean) / true_mean if true_mean else 0.0
    own = 100.0 * float(np.mean(errors)) / true_mean if errors and true_mean else 0.0
    print(
        f"{name:8} {offset}: wait true {true_mean:6.1f} meas {meas_mean:6.1f} error {err:5.2f} %, each visitor's "
        f"own {own:5.1f} % ({len(errors)} matched), served {len(people)}/{sum(v.served for v in visits)} "
        f"(full run: {rec['full_run_err_pct']:.2f} %)"
    )
    if table:
        for p in sorted(people, key=lambda p: p[2]):
            m = min(served, key=lambda v: abs(v.end - p[2]))
            print(
                f"  visitor {p[0]:3} line {p[1]:6.1f} desk {p[2]:6.1f} wait {p[3]:6.1f} | measured start "
                f"{m.end - m.wait_s:6.1f} end {m.end:6.1f} wait {m.wait_s:6.1f}"
            )
        for v in visits:
            if not v.served:
                print(f"    abandoned: start {v.end - v.wait_s:.1f} end {v.end:.1f}")


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("mode", choices=["record", "replay"])
    ap.add_argument("--scenario", action="append", help="repeatable; default: the seven goal scenes")
    ap.add_argument("--seed-offset", type=int, default=1000)
    ap.add_argument("--cache", type=Path, default=Path(".cache/queue-accuracy"), help="the detections (record)")
    ap.add_argument("--out", type=Path, default=Path(".cache/queue-waits"), help="the WaitTracker recordings")
    ap.add_argument("--table", action="store_true", help="each true visitor beside the measured wait")
    ap.add_argument("--trace", action="store_true", help="every change to the line's ledger of starts")
    args = ap.parse_args()
    names = args.scenario or [s.name for s in qa.SCENARIOS if s.goal]
    for name in names:
        if args.mode == "record":
            record(name, args.seed_offset, args.cache, args.out)
        else:
            replay(name, args.seed_offset, args.out, args.table, args.trace)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
