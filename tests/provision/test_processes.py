"""Worker processes: a worker that dies fails its own remaining cameras and nothing else."""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Sequence

import pytest

from kedirivms.errors import InvalidArgument
from kedirivms.provision._plan import run_pool
from kedirivms.provision._procs import can_fork, run_processes


def _square_or_die(n: int) -> int:
    if n == 5:
        time.sleep(0.3)  # lets the worker send its earlier answers first
        os._exit(7)  # a crash no exception handler sees (segfault, OOM kill)
    return n * n


def _square_share(items: Sequence[int], threads: int, report: Callable[[int, int], None] | None) -> list[int]:
    """A share runner: each item on a bounded pool, reported as it completes."""

    def one(n: int) -> int:
        result = _square_or_die(n)
        if report is not None:
            report(n, result)
        return result

    return run_pool(items, one, threads)


@pytest.mark.skipif(not can_fork(), reason="needs fork")
def test_a_dead_worker_fails_only_its_own_targets() -> None:
    done: list[object] = []
    out = run_processes(
        list(range(6)),
        _square_share,
        processes=2,
        concurrency=1,  # one at a time: the worker of 1, 3, 5 answers 1 and 9, then dies at 5
        lost=lambda n, reason: f"lost {n}: {reason}",
        on_done=done.append,
    )
    assert out[0::2] == [0, 4, 16]  # the other worker is unaffected
    assert isinstance(out[5], str) and "exit code 7" in out[5], out
    for i in (1, 3):  # answered before the crash (normally), or lost with it
        assert out[i] == i * i or (isinstance(out[i], str) and "exit code 7" in out[i]), out
    assert sorted(map(str, done)) == sorted(map(str, out))


def test_processes_must_be_positive() -> None:
    with pytest.raises(InvalidArgument, match="processes must be >= 1"):
        run_processes([1], _square_share, processes=0, concurrency=1, lost=lambda n, r: n)
