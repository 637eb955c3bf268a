"""``apply()``: converge cameras to the inventory, a bounded number at a time, with a JSONL audit trail."""

from __future__ import annotations

import json
import os
import threading
import time
import uuid
from collections.abc import Callable, Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from kedirivms._redact import redact_text
from kedirivms.errors import ConfigError, KedirivmsError
from kedirivms.fleet import CameraTarget, LoadedFleet
from kedirivms.provision._connect import Connected, for_each_connected
from kedirivms.provision._plan import (
    DEFAULT_CONCURRENCY,
    CameraPlan,
    CameraWork,
    Change,
    Plan,
    each_result,
    examine,
    run_pool,
    take_held,
)

__all__ = ["ApplyReport", "AuditLog", "CameraResult", "apply"]

ApplyStatus = Literal["changed", "unchanged", "failed"]


class CameraResult(BaseModel):
    """What apply did on one camera (never holds a password)."""

    model_config = ConfigDict(frozen=True)

    name: str
    site: str
    address: str
    status: ApplyStatus = Field(description="changed, unchanged or failed.")
    changes: list[Change] = Field(default_factory=list, description="Changes made (also when it failed midway).")
    error: str | None = Field(None, description="Why it failed.")
    duration_s: float = Field(0.0, description="Read plus write time, seconds.")


class ApplyReport(BaseModel):
    """The outcome of one apply run."""

    model_config = ConfigDict(frozen=True)

    run_id: str = Field(description="Identifies the run in the audit log.")
    inventory: str
    started: datetime
    cameras: list[CameraResult]
    duration_s: float = Field(0.0, description="The whole run, seconds: reading the cameras (the plan) and writing.")
    audit_error: str | None = Field(None, description="Why the audit log could not be written, if it failed.")

    def count(self, status: ApplyStatus) -> int:
        """Number of cameras with ``status``."""
        return sum(1 for c in self.cameras if c.status == status)

    @property
    def ok(self) -> bool:
        """True when no camera failed and the audit log was written."""
        return self.audit_error is None and not any(c.status == "failed" for c in self.cameras)


class AuditLog:
    """Appends one JSON line per camera (and one per run) to a file; thread-safe; never writes a password.

    Args:
        path: the JSONL file (created with its parent directories; appended to).

    Raises:
        ConfigError: the file cannot be opened for appending.
    """

    def __init__(self, path: str | os.PathLike[str]) -> None:
        self.path = Path(path)
        self._lock = threading.Lock()
        self.error: str | None = None
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            with self.path.open("a", encoding="utf-8"):
                pass
        except OSError as exc:
            raise ConfigError(
                f"cannot append to audit log {self.path}: {exc.strerror}", hint="pick another --audit"
            ) from None

    def write(self, record: dict[str, object]) -> None:
        """Append ``record`` with a UTC ``time`` as one line (flushed and fsynced).

        A failed write (disk full) does not stop the run: it is kept in :attr:`error` (the first one).
        """
        line = json.dumps({"time": datetime.now(UTC).isoformat(timespec="milliseconds"), **record}, default=str)
        with self._lock:
            try:
                with self.path.open("a", encoding="utf-8") as f:
                    f.write(line + "\n")
                    f.flush()
                    os.fsync(f.fileno())
            except OSError as exc:
                self.error = self.error or f"cannot append to audit log {self.path}: {exc.strerror}"


def _unplanned(p: CameraPlan | None) -> bool:
    """Not planned, or planned with changes that were applied already (the camera must be read again)."""
    return p is None or p.status == "changes"


def _lost(target: CameraTarget, reason: str) -> CameraResult:
    return CameraResult(name=target.name, site=target.site, address=target.address, status="failed", error=reason)


def _from_plan(p: CameraPlan) -> CameraResult:
    """The result of a camera the plan found with nothing to write (in sync, invalid or unreadable)."""
    return _run(CameraWork(p), time.perf_counter() - p.duration_s)


def _run(work: CameraWork, started: float) -> CameraResult:
    """Run ``work``'s steps in order; stop at the first failure (``started``: perf_counter when reading began)."""
    p = work.plan
    base = {"name": p.name, "site": p.site, "address": p.address}
    try:
        if p.status == "failed":
            return CameraResult(**base, status="failed", error=p.error, duration_s=time.perf_counter() - started)
        if p.status == "invalid":
            reason = f"not applied: {len(p.problems)} desired value(s) the camera cannot take: " + "; ".join(p.problems)
            return CameraResult(**base, status="failed", error=reason, duration_s=time.perf_counter() - started)
        done: list[Change] = []
        total = sum(len(s.changes) for s in work.steps)
        for step in work.steps:
            try:
                step.run()
            except Exception as exc:  # noqa: BLE001 (firmware surprises fail this camera only)
                reason = str(exc) if isinstance(exc, KedirivmsError) else f"unexpected {type(exc).__name__}: {exc}"
                error = f"after {len(done)} of {total} change(s), {step.changes[0]} failed: {reason}"
                return CameraResult(
                    **base,
                    status="failed",
                    changes=done,
                    error=redact_text(error, work.secrets),
                    duration_s=time.perf_counter() - started,
                )
            done.extend(step.changes)
        return CameraResult(
            **base, status="changed" if done else "unchanged", changes=done, duration_s=time.perf_counter() - started
        )
    finally:
        work.close()


def apply(
    inventory: LoadedFleet,
    *,
    plan: Plan | None = None,
    only: Sequence[str] | None = None,
    concurrency: int = DEFAULT_CONCURRENCY,
    processes: int = 1,
    rotate_passwords: bool = False,
    audit: str | os.PathLike[str] | AuditLog | None = None,
    progress: Callable[[CameraResult], None] | None = None,
) -> ApplyReport:
    """Converge every camera (or those in ``only``) to the inventory.

    Each camera is read, compared (as :func:`~kedirivms.provision.plan` does) and the differences written, at
    most ``concurrency`` cameras at a time. A camera that fails does not stop the others. A camera whose desired
    values its options cannot take is not touched (``failed``, with the reasons). Running it twice leaves the
    second run ``unchanged`` everywhere: present users are created when missing, and their passwords are re-set
    only with ``rotate_passwords``.

    With ``plan`` (made by :func:`~kedirivms.provision.plan` for this inventory, in this process) the cameras are
    not read again: apply writes what the plan found (in-sync cameras are ``unchanged``, invalid or unreadable
    ones ``failed`` with the plan's reasons). A plan is applied once; cameras it does not cover (or already
    applied) are read as without a plan. If the cameras may have changed since the plan, plan again.

    Args:
        inventory: from :func:`~kedirivms.provision.load_fleet`.
        plan: a plan of ``inventory`` to apply without reading the cameras again (consumed).
        only: camera names or site ids (default: all).
        concurrency: cameras converged at once.
        processes: worker processes to spread the cameras over (forked, each with ``concurrency / processes``
            threads; for machines with spare cores: the client's CPU per SOAP call is the limit of a large
            apply). Ignored with ``plan``: its cameras are held by this process.
        rotate_passwords: also re-set the password of users that exist (from their references).
        audit: JSONL audit file (or :class:`AuditLog`) to append what changed, where and when; None: none.
        progress: called with each camera's result as it completes (from a worker thread).

    Returns:
        Per-camera results in inventory order.

    Raises:
        ConfigError: ``only`` names an unknown camera or site, the audit log cannot be written, or ``plan`` is
            of another inventory.
        InvalidArgument: ``concurrency`` or ``processes`` < 1; ``plan`` was not made by ``plan()`` or with another
            ``rotate_passwords``.

    Example:
        >>> inv = load_fleet("inventory.yaml")  # doctest: +SKIP
        >>> p = plan(inv)  # doctest: +SKIP
        >>> report = apply(inv, plan=p, audit="audit.jsonl")  # doctest: +SKIP
        >>> report.ok, report.count("changed")  # doctest: +SKIP
    """
    targets = inventory.cameras(only)
    planned: dict[str, CameraPlan] = {}
    held: dict[str, CameraWork] = {}
    if plan is not None:
        if plan.inventory != inventory.source:
            raise ConfigError(
                f"the plan is of {plan.inventory}, not of {inventory.source}", hint="plan this inventory first"
            )
        held = take_held(plan, rotate_passwords)
        planned = {c.name: c for c in plan.cameras}
    log = audit if isinstance(audit, AuditLog) or audit is None else AuditLog(audit)
    run_id = uuid.uuid4().hex[:12]
    # the run covers reading the cameras too: with a plan, that is the plan's time (its reads are reused)
    read_s = plan.duration_s if plan is not None else 0.0
    started_at = datetime.now(UTC) - timedelta(seconds=read_s)
    started = time.perf_counter() - read_s

    def done(result: CameraResult) -> None:
        if log is not None:
            log.write(
                {
                    "event": "camera",
                    "run_id": run_id,
                    "inventory": inventory.source,
                    **result.model_dump(mode="json"),
                }
            )
        if progress is not None:
            progress(result)

    def converge(target: CameraTarget, connected: Connected) -> CameraResult:
        return _run(examine(target, inventory, connected, rotate_passwords=rotate_passwords), connected.started)

    def share(chunk: Sequence[CameraTarget], threads: int, report: Any) -> list[CameraResult]:
        return for_each_connected(chunk, inventory, converge, threads, report)

    def from_plan(target: CameraTarget) -> CameraResult:
        work = held.pop(target.name, None)
        if work is not None:  # connected by the plan: no connect again
            return _run(work, time.perf_counter() - work.plan.duration_s)
        return _from_plan(planned[target.name])  # in sync, invalid or unreadable: nothing to write

    try:
        if plan is None and processes != 1:
            from kedirivms.provision._procs import run_processes

            results = run_processes(
                targets, share, processes=processes, concurrency=concurrency, lost=_lost, on_done=done
            )
        else:
            for name in [n for n, w in held.items() if not w.usable]:
                held.pop(name).close()
            # cameras the plan still holds open, or found with nothing to write, need no connect; the others
            # (not planned, or their plan was applied already) are connected and converged
            fresh = [t for t in targets if t.name not in held and _unplanned(planned.get(t.name))]
            ready = [t for t in targets if t not in fresh]
            by_name = dict(zip([t.name for t in ready], run_pool(ready, from_plan, concurrency, done), strict=True))
            by_name.update(zip([t.name for t in fresh], share(fresh, concurrency, each_result(done)), strict=True))
            results = [by_name[t.name] for t in targets]
    finally:
        for work in held.values():  # cameras of the plan that ``only`` left out
            work.close()
    report = ApplyReport(
        run_id=run_id,
        inventory=inventory.source,
        started=started_at,
        cameras=results,
        duration_s=time.perf_counter() - started,
    )
    if log is not None:
        log.write(
            {
                "event": "run",
                "run_id": run_id,
                "inventory": inventory.source,
                "only": list(only or []),
                "cameras": len(results),
                "changed": report.count("changed"),
                "unchanged": report.count("unchanged"),
                "failed": report.count("failed"),
                "duration_s": round(report.duration_s, 3),
            }
        )
        if log.error:
            report = report.model_copy(update={"audit_error": log.error})
    return report
