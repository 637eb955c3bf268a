"""``plan()``: read every camera and compare it with its inventory entry (read-only).

The comparison of one camera yields :class:`Change` s to show and private steps that :func:`~kedirivms.provision.apply`
runs; values the camera's options cannot take are :attr:`CameraPlan.problems`, found here rather than at apply.
A :class:`Plan` keeps, privately, the steps of each camera with changes (and the connected camera, its sockets
released), so ``apply(inventory, plan=p)`` writes without reading the cameras again.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor, as_completed
from dataclasses import dataclass, field
from typing import Any, Literal, TypeVar

from pydantic import BaseModel, ConfigDict, Field, PrivateAttr

from kedirivms._redact import redact_text
from kedirivms.errors import InvalidArgument, KedirivmsError
from kedirivms.fleet import CameraTarget, LoadedFleet
from kedirivms.onvif import Camera, CameraState
from kedirivms.provision import _sections
from kedirivms.provision._connect import Connected, for_each_connected

__all__ = ["CameraPlan", "Change", "Plan", "plan"]

DEFAULT_CONCURRENCY = 16
T = TypeVar("T")
R = TypeVar("R")
PlanStatus = Literal["in_sync", "changes", "invalid", "failed"]
JsonValue = str | int | float | bool | list[str] | None


class Change(BaseModel):
    """One difference between a camera and its inventory entry (never holds a password)."""

    model_config = ConfigDict(frozen=True)

    section: str = Field(description="hostname, scopes, time, users, encoders, ptz or imaging.")
    item: str = Field(description="What differs, e.g. 'ntp_servers', 'ch1 main fps', 'user operator'.")
    current: JsonValue = Field(None, description="The camera's value (None: absent).")
    desired: JsonValue = Field(None, description="The inventory's value (None: absent).")
    action: Literal["set", "create", "delete", "rotate"] = Field("set", description="What apply does.")

    def __str__(self) -> str:
        if self.action == "create":
            return f"{self.section}: + {self.item} ({self.desired})"
        if self.action == "delete":
            return f"{self.section}: - {self.item}"
        if self.action == "rotate":
            return f"{self.section}: {self.item}: rotate password"
        return f"{self.section}: {self.item}: {_show(self.current)} -> {_show(self.desired)}"


def _show(value: JsonValue) -> str:
    if isinstance(value, list):
        return "[" + ", ".join(value) + "]"
    return "(none)" if value is None else str(value)


class CameraPlan(BaseModel):
    """What apply would do on one camera.

    ``status``: ``in_sync`` (nothing to do), ``changes``, ``invalid`` (``problems`` list values the camera
    cannot take; apply skips such a camera) or ``failed`` (the camera could not be read: ``error``).
    """

    model_config = ConfigDict(frozen=True)

    name: str
    site: str
    address: str
    status: PlanStatus
    changes: list[Change] = Field(default_factory=list)
    problems: list[str] = Field(default_factory=list, description="Desired values the camera cannot take.")
    error: str | None = Field(None, description="Why the camera could not be read (failed).")
    duration_s: float = Field(0.0, description="Time spent reading the camera, seconds.")


class Plan(BaseModel):
    """The plan of a whole inventory (or the ``only`` part of it).

    A plan made by :func:`plan` also holds (privately, never dumped) what apply needs to converge each camera
    with changes without reading it again: ``apply(inventory, plan=p)`` consumes it.
    """

    model_config = ConfigDict(frozen=True)

    inventory: str
    cameras: list[CameraPlan]
    duration_s: float = 0.0
    _held: _Held | None = PrivateAttr(None)

    @property
    def changes(self) -> int:
        """Number of changes over every camera."""
        return sum(len(c.changes) for c in self.cameras)

    def count(self, status: PlanStatus) -> int:
        """Number of cameras with ``status``."""
        return sum(1 for c in self.cameras if c.status == status)

    @property
    def ok(self) -> bool:
        """True when no camera is invalid or failed."""
        return all(c.status in ("in_sync", "changes") for c in self.cameras)


class _Held:
    """The cameras a plan keeps for apply. Copies of the plan share it (a plan is applied once); it is not
    pickled (open cameras do not cross processes: the unpickled plan holds none)."""

    def __init__(self, works: dict[str, CameraWork], rotate: bool) -> None:
        self.works = works
        self.rotate = rotate
        self.lock = threading.Lock()

    def take(self) -> dict[str, CameraWork]:
        with self.lock:
            works, self.works = self.works, {}
        return works

    def __copy__(self) -> _Held:
        return self

    def __deepcopy__(self, memo: dict[int, Any]) -> _Held:
        return self

    def __reduce__(self) -> tuple[Any, ...]:
        return (_Held, ({}, self.rotate))


# ------------------------------------------------------------------------------------------- per camera
@dataclass
class CameraWork:
    """A camera's plan plus the steps to converge it (the camera stays open for apply)."""

    plan: CameraPlan
    steps: list[_sections.Step] = field(default_factory=list)
    camera: Camera | None = None
    secrets: tuple[str, ...] = ()

    def close(self) -> None:
        if self.camera is not None:
            self.camera.close()

    def release(self) -> None:
        """Close the camera's HTTP connections but keep it connected (clock offset, service addresses).

        A plan may hold hundreds of cameras until apply: it must not hold their sockets.
        """
        if self.camera is not None:
            self.camera.release_connections()

    @property
    def usable(self) -> bool:
        """The camera is still open (apply can write through it)."""
        return self.camera is not None and self.camera.state is CameraState.CONNECTED


def examine(
    target: CameraTarget, inventory: LoadedFleet, connected: Connected, *, rotate_passwords: bool = False
) -> CameraWork:
    """Read one connected camera and compute its changes and steps; never raises (failures, the connect's
    included, become ``status='failed'``)."""
    base = {"name": target.name, "site": target.site, "address": target.address}
    secrets = connected.secrets
    camera = connected.camera
    try:
        if camera is None:
            raise _NotConnected(connected.error or "not connected")
        ctx = _sections.Context(camera, target, inventory, rotate_passwords)
        for section in _sections.SECTIONS:
            section(ctx)
        secrets = secrets + ctx.secrets
        changes = [c for s in ctx.steps for c in s.changes]
        status: PlanStatus = "invalid" if ctx.problems else "changes" if changes else "in_sync"
        cplan = CameraPlan(
            **base,
            status=status,
            changes=changes,
            problems=[redact_text(p, secrets) for p in ctx.problems],
            duration_s=time.perf_counter() - connected.started,
        )
        return CameraWork(cplan, ctx.steps, camera, secrets)
    except Exception as exc:  # noqa: BLE001 (one camera's surprise must not stop the fleet)
        if camera is not None:
            camera.close()
        text = (
            str(exc) if isinstance(exc, KedirivmsError | _NotConnected) else f"unexpected {type(exc).__name__}: {exc}"
        )
        cplan = CameraPlan(
            **base,
            status="failed",
            error=redact_text(text, secrets),
            duration_s=time.perf_counter() - connected.started,
        )
        return CameraWork(cplan, secrets=secrets)


class _NotConnected(Exception):
    """Internal: the camera could not be connected (the message is the connect's error, already redacted)."""


def run_pool(
    targets: Sequence[T],
    fn: Callable[[T], R],
    concurrency: int,
    on_done: Callable[[R], None] | None = None,
) -> list[R]:
    """Run ``fn`` over ``targets`` in a bounded thread pool; results in ``targets`` order."""
    if concurrency < 1:
        raise InvalidArgument(f"concurrency must be >= 1, got {concurrency}", operation="provision")
    results: list[Any] = [None] * len(targets)
    with ThreadPoolExecutor(max_workers=min(concurrency, max(1, len(targets))), thread_name_prefix="kvms-prov") as pool:
        futures = {pool.submit(fn, t): i for i, t in enumerate(targets)}
        for fut in as_completed(futures):
            results[futures[fut]] = fut.result()
            if on_done is not None:
                on_done(results[futures[fut]])
    return results


def plan(
    inventory: LoadedFleet,
    *,
    only: Sequence[str] | None = None,
    concurrency: int = DEFAULT_CONCURRENCY,
    processes: int = 1,
    rotate_passwords: bool = False,
    progress: Callable[[CameraPlan], None] | None = None,
) -> Plan:
    """Read every camera of ``inventory`` (or those named in ``only``) and list what apply would change.

    Read-only: nothing is written to any camera. Cameras are read ``concurrency`` at a time; a camera that cannot
    be reached is ``failed`` and the others are still planned.

    Args:
        inventory: from :func:`~kedirivms.provision.load_fleet`.
        only: camera names or site ids to plan (default: all).
        concurrency: cameras read at once.
        processes: worker processes to spread the cameras over (forked; for machines with spare cores). Their
            cameras are not kept: apply reads the cameras with changes again.
        rotate_passwords: plan password rotation for present users too.
        progress: called with each camera's plan as it completes (from a worker thread).

    Returns:
        The plan, cameras in inventory order.

    Raises:
        ConfigError: ``only`` names an unknown camera or site.
        InvalidArgument: ``concurrency`` or ``processes`` < 1.

    Example:
        >>> p = plan(load_fleet("inventory.yaml"))  # doctest: +SKIP
        >>> [(c.name, c.status) for c in p.cameras]  # doctest: +SKIP
    """
    started = time.perf_counter()
    targets = inventory.cameras(only)

    held: dict[str, CameraWork] = {}

    def one(target: CameraTarget, connected: Connected) -> CameraPlan:
        work = examine(target, inventory, connected, rotate_passwords=rotate_passwords)
        if work.plan.status == "changes":
            work.release()
            held[target.name] = work
        else:
            work.close()
        return work.plan

    if processes != 1:
        from kedirivms.provision._procs import run_processes

        def closed(target: CameraTarget, connected: Connected) -> CameraPlan:
            work = examine(target, inventory, connected, rotate_passwords=rotate_passwords)
            work.close()
            return work.plan

        done = run_processes(
            targets,
            lambda share, threads, report: for_each_connected(share, inventory, closed, threads, report),
            processes=processes,
            concurrency=concurrency,
            lost=_lost_plan,
            on_done=progress,
        )
    else:
        done = for_each_connected(targets, inventory, one, concurrency, each_result(progress))
    result = Plan(inventory=inventory.source, cameras=done, duration_s=time.perf_counter() - started)
    result._held = _Held(held, rotate_passwords)
    return result


def each_result(fn: Callable[[R], None] | None) -> Callable[[Any, R], None] | None:
    """A per-result callback as a per-(target, result) one."""
    return None if fn is None else lambda _target, result: fn(result)


def _lost_plan(target: CameraTarget, reason: str) -> CameraPlan:
    return CameraPlan(name=target.name, site=target.site, address=target.address, status="failed", error=reason)


def take_held(p: Plan, rotate_passwords: bool) -> dict[str, CameraWork]:
    """The cameras ``p`` holds for apply, removed from it (a plan is applied once).

    Raises:
        InvalidArgument: ``p`` was not made by :func:`plan` in this process, or with another ``rotate_passwords``.
    """
    if p._held is None:
        raise InvalidArgument(
            "this plan holds no cameras (it was not made by plan() in this process)",
            operation="apply",
            hint="pass a plan returned by plan(), or apply without plan=",
        )
    if p._held.rotate != rotate_passwords:
        raise InvalidArgument(
            f"the plan was made with rotate_passwords={p._held.rotate}, apply asks for {rotate_passwords}",
            operation="apply",
            hint="plan again with the same rotate_passwords",
        )
    return p._held.take()
