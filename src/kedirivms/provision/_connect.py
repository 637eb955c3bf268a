"""Connecting a fleet file's cameras for plan and apply through :func:`kedirivms.connect_cameras`.

``connect_cameras`` bounds the connects (``concurrency`` at once), gives each camera a connected
:class:`~kedirivms.Camera` or a typed error, and calls ``on_result`` on the worker thread that connected it, inside
the bound; the work on each camera (reading its settings, writing changes) runs there, so a camera is read as
soon as it is connected rather than after the whole fleet.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TypeVar

from kedirivms._redact import redact_text
from kedirivms.errors import InvalidArgument, KedirivmsError
from kedirivms.fleet import CameraTarget, LoadedFleet
from kedirivms.fleet._camera import camera_for
from kedirivms.onvif import Camera, ConnectResult, connect_cameras

__all__ = ["Connected", "for_each_connected"]

R = TypeVar("R")


@dataclass(frozen=True, slots=True)
class Connected:
    """One camera after its connect: ``camera`` (connected; the work closes it) or ``error`` (credentials
    redacted); ``secrets`` to redact from later messages; ``started``: ``perf_counter()`` when the connect began."""

    camera: Camera | None
    error: str | None
    secrets: tuple[str, ...]
    started: float


def for_each_connected(
    targets: Sequence[CameraTarget],
    inventory: LoadedFleet,
    work: Callable[[CameraTarget, Connected], R],
    concurrency: int,
    on_done: Callable[[CameraTarget, R], None] | None = None,
) -> list[R]:
    """Connect ``targets`` (at most ``concurrency`` at once) and run ``work`` on each right after its connect.

    ``work`` runs on the worker thread that connected the camera (so within the bound) and must not raise; a
    camera whose password cannot be resolved is not connected and reaches ``work`` with its error. ``on_done``
    gets each target and its result as it completes (from that worker thread).

    Returns:
        ``work``'s results in ``targets`` order.

    Raises:
        InvalidArgument: ``concurrency`` < 1.
    """
    if concurrency < 1:
        raise InvalidArgument(f"concurrency must be >= 1, got {concurrency}", operation="provision")
    results: list[R | None] = [None] * len(targets)
    index = {t.name: i for i, t in enumerate(targets)}  # names are unique in a fleet file
    secrets: dict[str, tuple[str, ...]] = {}
    cameras: list[Camera] = []
    unbuilt: list[tuple[int, str, tuple[str, ...]]] = []
    for i, target in enumerate(targets):
        try:
            camera, used = camera_for(target, inventory.base_dir)
        except Exception as exc:  # noqa: BLE001 (one camera's bad entry must not stop the fleet)
            text = str(exc) if isinstance(exc, KedirivmsError) else f"unexpected {type(exc).__name__}: {exc}"
            unbuilt.append((i, text, ()))
            continue
        secrets[target.name] = used
        cameras.append(camera)

    def finish(i: int, connected: Connected) -> None:
        result = work(targets[i], connected)
        results[i] = result
        if on_done is not None:
            on_done(targets[i], result)

    def connected(res: ConnectResult) -> None:
        used = secrets[res.target]
        error = None if res.error is None else redact_text(str(res.error), used)
        finish(index[res.target], Connected(res.camera, error, used, time.perf_counter() - res.duration_s))

    for i, text, used in unbuilt:
        finish(i, Connected(None, redact_text(text, used), used, time.perf_counter()))
    connect_cameras(cameras, concurrency=concurrency, on_result=connected)
    return results  # type: ignore[return-value]  # every slot was filled by finish()
