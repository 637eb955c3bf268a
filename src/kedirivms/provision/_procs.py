"""Spread cameras over forked worker processes, each with its own thread pool (and its own GIL).

Over a fleet the client's CPU per SOAP call (zeep, HTTP) is the limit and one Python process uses one core at a
time; ``processes=N`` lets plan/apply use N cores. Workers are forked, so they inherit the parsed WSDLs and the
loaded inventory (nothing to re-import or pickle on the way in); each result comes back over a pipe as it is
ready, and the parent calls ``on_done`` (progress, audit) in its own thread. A worker that dies fails its
remaining cameras, not the run.
"""

from __future__ import annotations

import math
import multiprocessing
import threading
from collections.abc import Callable, Sequence
from multiprocessing.connection import Connection, wait
from typing import Any, TypeVar

from kedirivms.errors import InvalidArgument

T = TypeVar("T")
R = TypeVar("R")
# runs a share of the targets on `threads` threads, reporting (target, result) as each completes (from any
# thread); returns the results in the share's order
ShareRunner = Callable[[Sequence[T], int, Callable[[T, R], None] | None], list[R]]


def can_fork() -> bool:
    """Whether worker processes can be forked here (not on Windows; macOS defaults to spawn but can fork)."""
    return "fork" in multiprocessing.get_all_start_methods()


def run_processes(
    targets: Sequence[T],
    run_share: ShareRunner[T, R],
    *,
    processes: int,
    concurrency: int,
    lost: Callable[[T, str], R],
    on_done: Callable[[R], None] | None = None,
) -> list[R]:
    """Run ``targets`` in ``processes`` forked workers, each running its share with ``run_share`` on
    ``concurrency / processes`` threads.

    Args:
        lost: the result of a target whose worker died before answering (with the reason).

    Returns:
        Results in ``targets`` order.
    """
    if processes < 1:
        raise InvalidArgument(f"processes must be >= 1, got {processes}", operation="provision")
    processes = min(processes, len(targets))
    if processes <= 1 or not can_fork():
        return run_share(targets, concurrency, None if on_done is None else lambda _t, r: on_done(r))
    threads = max(1, math.ceil(concurrency / processes))
    mp = multiprocessing.get_context("fork")
    results: list[Any] = [None] * len(targets)
    pending: dict[Connection, set[int]] = {}
    workers = []
    for w in range(processes):
        indices = list(range(w, len(targets), processes))
        reader, writer = mp.Pipe(duplex=False)
        proc = mp.Process(target=_worker, args=(writer, indices, targets, run_share, threads), daemon=True)
        proc.start()
        writer.close()
        pending[reader] = set(indices)
        workers.append((proc, reader))
    try:
        while pending:
            for ready in wait(list(pending)):
                reader = ready  # type: ignore[assignment]
                try:
                    index, result = reader.recv()
                except (EOFError, OSError):
                    proc = next(p for p, r in workers if r is reader)
                    proc.join(timeout=5)
                    reason = f"the worker process ended (exit code {proc.exitcode}) before this camera was done"
                    for i in sorted(pending.pop(reader)):
                        results[i] = lost(targets[i], reason)
                        if on_done is not None:
                            on_done(results[i])
                    reader.close()
                    continue
                results[index] = result
                pending[reader].discard(index)
                if on_done is not None:
                    on_done(result)
    finally:
        for proc, reader in workers:
            proc.join(timeout=5)
            if proc.is_alive():
                proc.kill()
                proc.join()
            reader.close()
    return results


def _worker(
    conn: Connection, indices: list[int], targets: Sequence[Any], run_share: ShareRunner[Any, Any], threads: int
) -> None:
    """In the forked child: run this worker's share and send ``(index, result)`` as each completes."""
    share = [targets[i] for i in indices]
    where = {id(t): i for t, i in zip(share, indices, strict=True)}
    lock = threading.Lock()  # results arrive from several threads; a Connection is not thread-safe

    def send(target: Any, result: Any) -> None:
        with lock:
            conn.send((where[id(target)], result))

    try:
        run_share(share, threads, send)
    finally:
        conn.close()
