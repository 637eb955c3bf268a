"""Score the queue analytics on footage you annotated: people counts per zone and service times.

Run: ``python examples/score_footage.py [CLIP TRUTH]``. Without arguments it scores the real clip the project
ships (Intel's CC BY 4.0 ``one-by-one-person-detection.mp4``: six visitors in turn at a high table, seen from the
ceiling). For your own camera, record a few minutes (``kedirivms record``), count people on some frames and time
a few services by eye, in the truth format of docs/queue-analytics.md ("Real footage"), and pass both files.
"""

from __future__ import annotations

import sys
from pathlib import Path

from kedirivms.analytics.queue.evaluation import FootageTruth, evaluate_clip

DATA = Path(__file__).resolve().parents[1] / "tests" / "data" / "footage"


def main(argv: list[str]) -> None:
    clip, truth_path = (
        (Path(a) for a in argv) if argv else (DATA / "one-by-one-person-detection.mp4", DATA / "one-by-one.truth.json")
    )
    truth = FootageTruth.load(truth_path)
    # the plugin's defaults: the DNN person detector at 2 Hz, tracking in between (config= changes any of them)
    score = evaluate_clip(clip, truth, detector="auto")
    print(f"{truth.clip}: {score.frames} annotated frames, count MAE {score.mae:.3f} (bias {score.bias:+.3f})")
    for index, zone, expected, counted in score.per_frame:
        if expected != counted:
            print(f"  frame {index} zone {zone}: {counted} counted, {expected} true")
    services = score.services
    if services is not None:
        print(
            f"services: {services.matched} of {services.truth} found, {services.false} false,"
            f" time error {services.duration_error_pct:.1f} %, start error {services.start_error_s:.2f} s"
        )
        for track, start, end, m_start, m_end in services.rows:
            print(f"  visit {track}: {start:.1f}-{end:.1f} s true, {m_start:.1f}-{m_end:.1f} s measured")
    # what the analyzer made of the clip, one person at a time (FrameResult.visits, gathered over the run)
    for visit in score.visits:
        kind = "served" if visit.served else "left the line"
        note = " (censored)" if visit.censored else ""
        print(f"  wait ended at {visit.end:.1f} s: {visit.wait_s:.1f} s, {kind}{note}")


if __name__ == "__main__":
    main(sys.argv[1:])
