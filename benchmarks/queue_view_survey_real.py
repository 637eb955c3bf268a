"""The view survey on real footage we did not make: does it name a service zone drawn too thin, and only then?

The thin-zone limit (``desk_zone_thin``, a fifth of the box height) was set on our own renderer and on the composite
scenes (our generator, real people's pixels). This runs the analyzer with the default detector over Intel's
``one-by-one-person-detection.mp4`` (tests/data/footage, CC BY 4.0: people walk up one by one and stand at a
counter, seen from the ceiling) with its service zone as annotated, and with that zone redrawn as a strip of a
fraction of its height centred on the row where people's feet stand (``--feet-row``, 0.90 of the picture: the
median foot row of the boxes in the zone as annotated). For each it prints the survey's figure and findings, the
per-frame count MAE on the annotated frames and the services timed against the truth.

    .venv/bin/python benchmarks/queue_view_survey_real.py             # about 1 minute per run, 3 runs
    .venv/bin/python benchmarks/queue_view_survey_real.py --strips 0.5 0.375 0.25

The clip has no line waiting at the counter, so the rules the analyzer applies in a thin view (the front of the line
dipping in) have nothing to act on here: only the survey and the figures with a thinner zone are measured.
"""

from __future__ import annotations

import argparse
import math
from pathlib import Path

from kedirivms.analytics.queue.evaluation import ClipScore, FootageTruth, evaluate_clip

FOOTAGE = Path(__file__).resolve().parent.parent / "tests" / "data" / "footage"


def strip(truth: FootageTruth, fraction: float, feet_row: float) -> FootageTruth:
    """``truth`` with its service zone's top and bottom moved to ``fraction`` of its height, centred on ``feet_row``."""
    zones = []
    for zone in truth.zones:
        if zone.kind == "service":
            ys = [y for _, y in zone.points]
            half, middle = fraction * (max(ys) - min(ys)) / 2.0, (max(ys) + min(ys)) / 2.0
            points = tuple((x, feet_row - half if y <= middle else feet_row + half) for x, y in zone.points)
            zone = zone.model_copy(update={"points": points})
        zones.append(zone)
    return truth.model_copy(update={"zones": tuple(zones)})


def line(label: str, score: ClipScore) -> str:
    share = "-" if score.desk_zone_share is None else f"{score.desk_zone_share:.2f}"
    services = score.services
    timed = (
        "-"
        if services is None
        else f"{services.matched}/{services.truth} matched, start error {services.start_error_s:.1f} s"
    )
    return (
        f"{label:<28} share {share:>5}  named {score.view_findings or '-'}  count MAE {score.mae:.3f}  services {timed}"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--strips", type=float, nargs="+", default=[0.375, 0.25], help="strip heights, fractions")
    parser.add_argument("--feet-row", type=float, default=0.90, help="the row the strip is centred on, 0..1")
    args = parser.parse_args()
    truth = FootageTruth.load(FOOTAGE / "one-by-one.truth.json")
    clip = FOOTAGE / truth.clip
    print(line("as annotated", evaluate_clip(clip, truth, end_s=math.inf)), flush=True)
    for fraction in args.strips:
        score = evaluate_clip(clip, strip(truth, fraction, args.feet_row), end_s=math.inf)
        print(line(f"strip {fraction:g} of its height", score), flush=True)


if __name__ == "__main__":
    main()
