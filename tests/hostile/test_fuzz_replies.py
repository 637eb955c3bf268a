"""Seeded, bounded fuzzing of real replies: a few hundred mutations of what the virtual camera answers.

Each mutation breaks one reply of the connect path (clock, services, identity, profiles, stream URI) in one way
(flipped bytes, a cut, a repeated element, an absurd or hostile text, a lost tag) and runs the getting-started
calls against it. Every run must end with a valid result or a kedirivms error, within the request deadline, without
the password in what it raised; memory must stay bounded over the whole run.
"""

from __future__ import annotations

import time
from collections.abc import Iterator

import psutil
import pytest

from hostile_peers import PASSWORD, HostileCamera, mutation
from kedirivms import Camera
from kedirivms.errors import KedirivmsError
from kedirivms.sim import VirtualCamera, VirtualCameraConfig

MUTATIONS = 300


@pytest.fixture(scope="module")
def upstream() -> Iterator[VirtualCamera]:
    cam = VirtualCamera(VirtualCameraConfig(password=PASSWORD)).start()
    yield cam
    cam.stop()


def test_mutated_replies_give_a_result_or_a_typed_error(upstream: VirtualCamera) -> None:
    process = psutil.Process()
    rss_before = process.memory_info().rss
    outcomes: dict[str, int] = {}
    with HostileCamera(upstream.device_url, mutation(0)) as hostile:
        for index in range(MUTATIONS):
            case = mutation(index)
            hostile._server.case = case
            started = time.monotonic()
            try:
                with Camera(hostile.url, username="admin", password=PASSWORD, timeout=(1.0, 1.0)) as cam:
                    cam.device_information()
                    shown = repr(cam.profiles(with_stream_uris=True)) + repr(cam.services())
                outcome = "ok"
            except KedirivmsError as exc:  # anything else fails the test with its traceback
                shown = str(exc) + repr(exc)
                outcome = type(exc).__name__
            assert PASSWORD not in shown, case.name
            assert time.monotonic() - started < 10.0, case.name  # a hang bound (the deadline is 2 s per request)
            outcomes[outcome] = outcomes.get(outcome, 0) + 1
    growth_mib = (process.memory_info().rss - rss_before) / 2**20
    assert growth_mib < 150, f"RSS grew {growth_mib:.0f} MiB over {MUTATIONS} mutations"
    # the sequence really exercises both sides: some mutations are tolerated, most are refused with a typed error
    assert outcomes.get("ok", 0) > 10 and sum(outcomes.values()) - outcomes.get("ok", 0) > 50, outcomes
