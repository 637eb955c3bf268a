"""Queue analytics on counter scenes someone else drew: scenes from the independent composite generator.

``benchmarks/tools/composite_counter.py`` composites animated cut-outs of real people from real clips onto a real
background plate, with its own behaviour model, and writes each scene as an H.264 clip with its truth
(``NAME.truth.json`` in the ``kedirivms-footage-truth/1`` format and ``NAME.scene.json``: the true line length and
the clerk's presence per frame). It was written without reading the project's counter-scene renderer or the
analyzer's rules, so these figures say how rules tuned on that renderer carry over to scenes they were not tuned
on. This script decodes each clip, runs the :class:`~kedirivms.analytics.queue.QueueAnalyzer` with its default
detector and the same alert settings as ``queue_accuracy.py``, and scores it the same way: queue-length MAE per
frame, mean wait error, alerts within 3 s, and the stays at the desk matched to the true services.

Run::

    .venv/bin/python benchmarks/tools/composite_counter.py --out .cache/composite --all --seeds 1 2 3
    .venv/bin/python benchmarks/queue_composite.py .cache/composite [--cache] [--json]

``--cache`` records the detections (``.cache/queue-composite``) and replays them on later runs, as
``queue_accuracy.py --cache`` does.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import sys
from dataclasses import asdict
from pathlib import Path
from typing import Any

import av
import numpy as np

from kedirivms.analytics.queue import QueueAnalyzer, QueueConfig
from kedirivms.analytics.queue.evaluation import FootageTruth, score_services
from kedirivms.analytics.zones import Zones
from kedirivms.stream import Frame

sys.path.insert(0, str(Path(__file__).resolve().parent))
import queue_accuracy as qa  # noqa: E402
from _queue_alert_truth import true_alerts  # noqa: E402
from _queue_replay import Recording, RecordingDetector, cache_key, replay_step  # noqa: E402

DEFAULT_CACHE = Path(__file__).resolve().parents[1] / ".cache" / "queue-composite"


def scene_series(scene: dict[str, Any], key: str) -> list[Any]:
    """One per-frame series of a ``NAME.scene.json`` (``frames``: one object per frame)."""
    return [f[key] for f in scene["frames"]]


def config_for(truth: FootageTruth) -> QueueConfig:
    """The analyzer's settings for a composite scene: its zones, the default detector, the benchmark's alerts."""
    return qa.recorded(
        QueueConfig(
            zones=Zones(zones=truth.zones),
            pile_up=qa.PILE_UP,
            unstaffed=qa.UNSTAFFED,
            stalled=qa.STALLED,
            anchor="bottom_center",
        )
    )


def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def score(clip: Path, truth: FootageTruth, scene: dict[str, Any], cache: Path | None) -> dict[str, Any]:
    """Run the analyzer over one composite clip and score it against its truth (see the module docs)."""
    config = config_for(truth)
    analyzer = QueueAnalyzer(config)
    fps = truth.fps or 10.0
    waiting = [int(n) for n in scene_series(scene, "waiting")]
    present = [bool(c) for c in scene_series(scene, "clerk_present")]
    recorder: RecordingDetector | None = None
    path: Path | None = None
    if cache is not None and config.detector_kind == "dnn":
        key = cache_key(
            clip.stem, 0, quick=False, codec=True, detector="dnn", settings=config.dnn.model_dump_json() + _sha256(clip)
        )
        path = cache / f"{key}.npz"
        replay = path.exists()
        recorder = RecordingDetector(analyzer.detector, Recording.load(path) if replay else Recording(), replay=replay)
        analyzer.detector = recorder
    lengths: list[int] = []
    events: list[Any] = []
    stays: list[Any] = []
    n = len(waiting)
    if recorder is not None and recorder.replay:
        blank = np.zeros((truth.size[1], truth.size[0]) if truth.size else (360, 640), dtype=np.uint8)
        for k in range(n):
            events += replay_step(analyzer, recorder, k, k / fps, blank)
            assert analyzer.last is not None
            lengths.append(analyzer.last.queue_length)
            stays += analyzer.last.services
    else:
        with av.open(str(clip)) as container:
            for k, av_frame in enumerate(container.decode(video=0)):
                if k >= n:
                    break
                t = k / fps
                if recorder is not None:
                    recorder.index = k
                frame = Frame(av_frame, time=t, index=k)
                events += analyzer.update(frame.y, t, frame=frame)
                assert analyzer.last is not None
                lengths.append(analyzer.last.queue_length)
                stays += analyzer.last.services
    before = len(analyzer.last.services) if analyzer.last is not None else 0
    events += analyzer.flush()
    if analyzer.last is not None:
        stays += analyzer.last.services[before:]
    if recorder is not None and not recorder.replay and path is not None:
        path.parent.mkdir(parents=True, exist_ok=True)
        recorder.recording.save(path)
    m = len(lengths)
    end = (m - 1) / fps
    times = [k / fps for k in range(m)]
    true_waits = [
        tr.service_enter_s - tr.queue_enter_s
        for tr in truth.tracks
        if tr.queue_enter_s is not None
        and tr.service_enter_s is not None
        and tr.queue_enter_s >= 1.0
        and tr.service_enter_s <= end
    ]
    services = [(tr.service_enter_s, tr.service_end_s) for tr in truth.tracks if tr.service_enter_s is not None]
    truth_alerts = true_alerts(
        times,
        waiting[:m],
        present[:m],
        services,
        fps=fps,
        start_s=0.0,
        pile_up=qa.PILE_UP,
        unstaffed=qa.UNSTAFFED,
        stalled=qa.STALLED,
    )
    scored = qa.Result(clip.stem, frames=m, mae=float(np.abs(np.asarray(lengths) - np.asarray(waiting[:m])).mean()))
    scored.score_events(events, true_waits, truth_alerts, end)
    desk = score_services(truth, stays, end_s=end)  # (a service still going on at the end counts, as a stay does)
    res: dict[str, Any] = {
        "clip": clip.name,
        **{k: v for k, v in asdict(scored).items() if k not in ("name", "ms_per_frame")},
        "bias": float((np.asarray(lengths) - np.asarray(waiting[:m])).mean()),
        "desk": {
            "truth": desk.truth,
            "measured": desk.measured,
            "missed": desk.missed,
            "false": desk.false,
            "duration_error_pct": desk.duration_error_pct,
        },
        "passed": scored.passed,
        # what the analyzer says about the view (kedirivms.analytics.queue.view_check)
        "view": [f.code for f in analyzer.view_findings],
        "desk_zone_share": analyzer.view_survey.desk_zone_share if analyzer.view_survey is not None else None,
    }
    return res


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    ap.add_argument("dir", type=Path, help="folder of NAME.mp4 + NAME.truth.json + NAME.scene.json")
    ap.add_argument("--only", default="*", help="glob on the clip names (default: all)")
    ap.add_argument("--cache", nargs="?", const=DEFAULT_CACHE, type=Path, help="record/replay detections here")
    ap.add_argument("--json", action="store_true", help="machine-readable output")
    args = ap.parse_args(argv)
    rows = []
    for truth_path in sorted(args.dir.glob(f"{args.only}.truth.json")):
        stem = truth_path.name.removesuffix(".truth.json")
        truth = FootageTruth.load(truth_path)
        scene = json.loads((args.dir / f"{stem}.scene.json").read_text(encoding="utf-8"))
        rows.append(score(args.dir / truth.clip, truth, scene, args.cache))
        if not args.json:
            r = rows[-1]
            a = r["alerts"]
            d = r["desk"]
            print(
                f"{stem:<16} {r['frames']:>5} MAE {r['mae']:.3f} ({r['bias']:+.2f}) wait {r['true_wait']:6.1f} "
                f"{r['meas_wait']:6.1f} {r['wait_err_pct']:6.2f} % served {r['served_true']:>2}/{r['served_meas']:>2} "
                f"alerts {a['matched']}/{a['truth']} missed {len(a['missed'])} false {len(a['false'])} "
                f"censored {len(a['censored'])} "
                f"desk {d['measured']}/{d['truth']} ({d['missed']} missed, {d['false']} false) "
                f"view {','.join(r['view']) or '-'} "
                f"{'PASS' if all(r['passed'].values()) else 'FAIL'}",
                flush=True,
            )
    if args.json:
        print(json.dumps(rows, indent=2, default=float))
    else:
        ok = sum(all(r["passed"].values()) for r in rows)
        print(f"{ok} of {len(rows)} scenes meet every goal; load {os.getloadavg()[0]:.1f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
