"""True alert times from a scene's true series, and measured alerts matched to them (the queue benchmarks).

The alert rules (``pile_up``, ``counter_unstaffed``, ``counter_stalled`` and their clearing) are applied to the
true queue length, the clerk's true presence and the true arrivals at the desk with the same hysteresis timers
the analyzer uses; a measured alert counts when it matches a true one of the same kind within the tolerance.
Shared by ``queue_accuracy.py`` (the project's counter scene) and ``queue_composite.py`` (scenes drawn by an
independent generator).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

from kedirivms.analytics.queue import PileUpConfig, StalledConfig, UnstaffedConfig
from kedirivms.analytics.queue.alerts import Hysteresis

_EPS = 1e-6  # seconds: times closer than this are the same instant (float round-off of frame / fps)


def true_alerts(
    times: Sequence[float],
    lengths: Sequence[int],
    present: Sequence[bool],
    services: Sequence[tuple[float, float | None]],
    *,
    fps: float,
    start_s: float,
    pile_up: PileUpConfig,
    unstaffed: UnstaffedConfig,
    stalled: StalledConfig,
) -> list[tuple[str, float]]:
    """The alerts the rules raise and clear on the true series.

    Args:
        times, lengths, present: per frame: its time, the true queue length, whether the clerk is there.
        services: each true arrival at the desk: (service-zone entry, service end or None), seconds.
        fps: frame rate (an arrival counts on the frame whose interval holds it).
        start_s: frames before this are not analysed.
        pile_up, unstaffed, stalled: the rules' settings.
    """
    out: list[tuple[str, float]] = []
    pile = Hysteresis(pile_up.for_s, pile_up.clear_for_s)
    unst = Hysteresis(unstaffed.for_s, unstaffed.clear_for_s)
    stall = Hysteresis(stalled.for_s, stalled.clear_for_s)
    served = sorted(s for s, _ in services)
    leaves = dict(services)
    # the frame each arrival counts on: the first whose time is not before it (times written as frame / fps and
    # read back, 120.60000000000001 for frame 1206, are that frame's, not the next one's: compared as floats, such
    # an arrival fell between two frames and was never counted, and a stall was raised where none was)
    arrival_frames = {math.ceil(s * fps - _EPS) for s in served}
    for t_, n, here in zip(times, lengths, present, strict=True):
        t = float(t_)
        if t < start_s:
            continue
        tr = pile.update(n >= pile_up.threshold, n <= pile_up.clear_level, t)
        if tr:
            out.append(("pile_up" if tr.raised else "pile_up_cleared", t))
        tr = unst.update(not here, bool(here), t)
        if tr:
            out.append(("counter_unstaffed" if tr.raised else "counter_staffed", t))
        # counter_stalled: staffed, someone waiting, nobody reaching the service zone (as the analyzer decides it)
        arrived = round(t * fps) in arrival_frames
        raised_at = stall.raised_at
        resumed = raised_at is not None and any(
            raised_at - _EPS <= s <= t + _EPS and (leaves[s] is None or (leaves[s] or 0.0) >= t) for s in served
        )
        waiting = n >= stalled.min_waiting
        tr = stall.update(bool(here) and waiting and not arrived, resumed or not waiting or not here, t)
        if tr:
            out.append(("counter_stalled" if tr.raised else "counter_resumed", t))
    return out


def match_alerts(
    truth: list[tuple[str, float]],
    measured: list[tuple[str, float]],
    tolerance_s: float,
    end_s: float | None = None,
) -> dict[str, Any]:
    """Pair alerts of the same kind within ``tolerance_s`` (nearest first): counts, the missed and the false.

    With ``end_s`` (the last frame's time), an alert left unpaired within ``tolerance_s`` of the end is *censored*,
    neither missed nor false: its partner may come after the clip ends, up to ``tolerance_s`` late, which the clip
    cannot show (a true clear 1.3 s before the end, and the analyzer's 2 s later, would be a miss otherwise).
    """
    pairs = sorted(
        (abs(mt - tt), i, j)
        for i, (tk, tt) in enumerate(truth)
        for j, (mk, mt) in enumerate(measured)
        if tk == mk and abs(mt - tt) <= tolerance_s
    )
    used_t, used_m, delays = set(), set(), []
    for _d, i, j in pairs:
        if i not in used_t and j not in used_m:
            used_t.add(i)
            used_m.add(j)
            delays.append(measured[j][1] - truth[i][1])
    cut = math.inf if end_s is None else end_s - tolerance_s
    return {
        "truth": len(truth),
        "matched": len(used_t),
        "missed": [truth[i] for i in range(len(truth)) if i not in used_t and truth[i][1] <= cut],
        "false": [measured[j] for j in range(len(measured)) if j not in used_m and measured[j][1] <= cut],
        "censored": [a for k, a in enumerate(truth) if k not in used_t and a[1] > cut]
        + [a for k, a in enumerate(measured) if k not in used_m and a[1] > cut],
        "max_abs_delay_s": round(max((abs(d) for d in delays), default=0.0), 2),
    }
