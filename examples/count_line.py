"""Count a tight line two ways: by the wait ledger (``line_count: auto`` with a service zone) and by the people seen.

    python examples/count_line.py                  # a minute of the virtual counter's tight line
    python examples/count_line.py --from 120 --seconds 90

The virtual counter scene (our own renderer) draws a line whose people stand close, each half behind the one in
front: the person detector gives one box for two, or none for someone hidden, for minutes. ``queue_length`` counts
the people who walked into the line and have not reached the desk (the wait ledger); ``seen_length`` the people
seen in the queue zone. Both are printed every 10 s beside the scene's truth, then their mean error, and what the
analyzer found about the view (its service zone's height where people stand in it, over their box height).
"""

from __future__ import annotations

import argparse

import numpy as np

from kedirivms.analytics.queue import QueueAnalyzer, QueueConfig
from kedirivms.sim.counter_scene import CounterScene

WIDTH, HEIGHT, FPS = 640, 360, 10.0


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--from", dest="start", type=float, default=60.0, help="scene time to start at, seconds")
    ap.add_argument("--seconds", type=float, default=60.0, help="how long to watch, seconds")
    args = ap.parse_args()

    scene = CounterScene(
        507, view="oblique", width=WIDTH, height=HEIGHT, fps=FPS, arrival_rate_per_min=3.0, service_time_s=36.0,
        duration_s=args.start + args.seconds, line_spacing=0.035,
    )  # fmt: skip
    truth = scene.truth()
    analyzer = QueueAnalyzer(QueueConfig(zones=scene.zones(), anchor="bottom_center"))
    print(f"detector: {analyzer.config.detector_kind}; line_count: {analyzer.config.line_count}")
    print(f"{'time':>6} {'truth':>5} {'ledger':>6} {'seen':>5}")
    errors = []
    # the analyzer starts a few seconds early, as a camera would have been watching: people already in line at its
    # first frame are counted as they are seen
    first = int(max(args.start - 30.0, 0.0) * FPS)
    for k in range(first, len(truth.times)):
        t = float(truth.times[k])
        if t >= args.start + args.seconds:
            break
        analyzer.update(scene.render_luma(t, WIDTH, HEIGHT), t)
        last = analyzer.last
        assert last is not None
        if t < args.start:
            continue
        true_n = int(truth.queue_length[k])
        errors.append((abs(last.queue_length - true_n), abs(last.seen_length - true_n)))
        if k % int(10 * FPS) == 0:
            print(f"{t:6.1f} {true_n:5d} {last.queue_length:6d} {last.seen_length:5d}")
    ledger, seen = np.asarray(errors, dtype=float).mean(axis=0)
    print(f"over {len(errors)} frames: line counted by its ledger: MAE {ledger:.3f}; people seen: MAE {seen:.3f}")
    survey = analyzer.view_survey
    share = survey.desk_zone_share if survey is not None else None
    found = ", ".join(f.code for f in analyzer.view_findings) or "nothing wrong found"
    print(f"view: desk zone {'not judged yet' if share is None else f'{share:.2f} of a person'}: {found}")


if __name__ == "__main__":
    main()
