"""Connect many cameras at once: a bounded thread pool, each result a connected Camera or a typed error."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

from kedirivms.errors import InvalidArgument, KedirivmsError
from kedirivms.onvif.camera import Camera

__all__ = ["ConnectResult", "connect_cameras"]


@dataclass(frozen=True, slots=True)
class ConnectResult:
    """One camera of :func:`connect_cameras`: exactly one of ``camera`` (connected) and ``error`` is set.

    Attributes:
        target: what was asked for (the target string, or the camera's name).
        camera: the connected :class:`Camera` (the caller closes it), or None.
        error: why it failed (a :class:`~kedirivms.errors.KedirivmsError` subclass: ``AuthenticationFailed``,
            ``Timeout``, ``ConnectionFailed``...), or None.
        duration_s: seconds the connect took (seconds).
    """

    target: str
    camera: Camera | None
    error: KedirivmsError | None
    duration_s: float

    @property
    def ok(self) -> bool:
        """True when the camera is connected."""
        return self.camera is not None


def connect_cameras(
    targets: Iterable[str | Camera],
    *,
    concurrency: int = 8,
    prepare: Sequence[str] = (),
    on_result: Callable[[ConnectResult], None] | None = None,
    **camera_options: Any,
) -> list[ConnectResult]:
    """Connect ``targets`` concurrently (at most ``concurrency`` at once); never raises for one camera's failure.

    Each target is a ``host``, ``host:port`` or device-service URL (made into a :class:`Camera` with
    ``camera_options``: ``username``, ``password``, ``timeout``, ``auth``...), or a :class:`Camera` built by the
    caller (per-camera credentials). Every call inside is bounded by the cameras' own time-outs.

    Args:
        targets: the cameras.
        concurrency: how many connect at once (threads; >= 1).
        prepare: services to bind ahead of the first call (``"media"``, ``"ptz"``...), see :meth:`Camera.prepare`.
        on_result: called with each :class:`ConnectResult` as it completes (progress bars), from a worker thread.
        **camera_options: :class:`Camera` keyword arguments for string targets.

    Returns:
        One :class:`ConnectResult` per target, in the order given. The caller closes the connected cameras.

    Raises:
        InvalidArgument: ``concurrency`` < 1, or ``camera_options`` given with no string target to apply to.

    Example:
        >>> results = connect_cameras(["10.0.0.11", "10.0.0.12"], username="admin", password=pw)  # doctest: +SKIP
        >>> cams = [r.camera for r in results if r.ok]  # doctest: +SKIP
        >>> failed = {r.target: r.error for r in results if not r.ok}  # doctest: +SKIP
    """
    if concurrency < 1:
        raise InvalidArgument(f"concurrency must be >= 1, not {concurrency}", operation="connect_cameras")
    items = list(targets)
    if camera_options and not any(isinstance(t, str) for t in items):
        raise InvalidArgument(
            "camera options apply to string targets only", operation="connect_cameras", hint="set them on each Camera"
        )

    def one(target: str | Camera) -> ConnectResult:
        start = time.perf_counter()
        label = target if isinstance(target, str) else target.name
        camera: Camera | None = None
        try:
            camera = Camera(target, **camera_options) if isinstance(target, str) else target
            camera.connect()
            if prepare:
                camera.prepare(*prepare)
            result = ConnectResult(label, camera, None, time.perf_counter() - start)
        except KedirivmsError as exc:
            if camera is not None:
                camera.close()
            result = ConnectResult(label, None, exc, time.perf_counter() - start)
        if on_result is not None:
            on_result(result)
        return result

    if not items:
        return []
    with ThreadPoolExecutor(max_workers=min(concurrency, len(items)), thread_name_prefix="kedirivms-connect") as pool:
        return list(pool.map(one, items))
