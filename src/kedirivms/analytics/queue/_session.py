"""One onnxruntime session per model per process, shared by every camera, batching concurrent requests.

Cameras run their plugins on separate worker threads. Each detection request is queued; a waiting thread that
finds fewer than ``parallel`` batches in flight *leads* one: it takes requests from the queue (all of the same
picture size), runs them as one call and files each caller's answer. Requests that arrive while a batch runs form
the next batch, so batching adds no waiting of its own and a lone camera runs at batch size 1. A thread leads only
while its own request is unanswered, so none is kept serving the others; with ``parallel`` 2 a second batch runs
beside the first on the other core (onnxruntime's ``run`` is thread-safe).

Which requests go first is fair by *source* (by default the calling thread: one camera's plugin thread): the
source answered longest ago first, then the oldest request, at most one request per source until every source
queued has one in the batch. A camera that asks twice per detection (the line pass) or from several threads
therefore does not take the others' turns, and a camera kept waiting is the first served when the model frees.
A leader takes its share of the queue, not all of it, when another batch could start beside it: 12 requests and
two free slots make two batches of 6 on two cores rather than one of 12 on one.

What the detectors learn once about a model (its output layout) is kept on the session, so the 24th camera does
not run a probe picture again (:meth:`SharedSession.remember`).

onnxruntime's own errors are mapped here, at the one boundary where the library is called.
"""

from __future__ import annotations

import importlib
import math
import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

import numpy as np

from kedirivms.errors import ConfigError, DetectorError

__all__ = ["BatchStats", "SharedSession", "shared_session"]

_T = TypeVar("_T")
_SESSIONS: dict[tuple[str, tuple[str, ...], int, int], SharedSession] = {}
_SESSIONS_LOCK = threading.Lock()


@dataclass
class BatchStats:
    """Batches run by a :class:`SharedSession`: count and total seconds per batch size."""

    runs: dict[int, int] = field(default_factory=dict)
    seconds: dict[int, float] = field(default_factory=dict)

    def add(self, size: int, seconds: float) -> None:
        """Record one batch of ``size`` pictures that took ``seconds``."""
        self.runs[size] = self.runs.get(size, 0) + 1
        self.seconds[size] = self.seconds.get(size, 0.0) + seconds

    def mean_ms(self) -> dict[int, float]:
        """Mean latency per batch size, milliseconds."""
        return {k: 1000.0 * self.seconds[k] / self.runs[k] for k in sorted(self.runs)}


class _Request:
    __slots__ = ("blob", "error", "finished", "result", "source")

    def __init__(self, blob: np.ndarray, source: object) -> None:
        self.blob = blob
        self.source = source
        self.finished = False
        self.result: np.ndarray | None = None
        self.error: BaseException | None = None


def _load_runtime() -> Any:
    try:
        return importlib.import_module("onnxruntime")
    except ImportError as exc:
        raise ConfigError(
            "the DNN person detector needs onnxruntime, which is not installed",
            operation="queue detector",
            hint='pip install "kedirivms[detect]", or set detector: background for the built-in CPU detector',
        ) from exc


class SharedSession:
    """A loaded model that several threads call at once; concurrent calls are run as one batch.

    Args:
        path: the ``.onnx`` file.
        providers: onnxruntime execution providers, in order of preference.
        threads: onnxruntime intra-op threads. 1 by default: a camera box runs many decoders beside the model,
            and onnxruntime's spinning worker threads cost twice the CPU per picture on a loaded 2-core box
            (measured: 45 ms against 22 ms of CPU per YOLOX-Nano picture); spinning is always off.
        max_batch: most pictures per run; 1 when the model's batch dimension is fixed.
        parallel: most batches run at once (each on ``threads`` threads): 2 lets a second batch use the other
            core of a 2-core box while the first runs.

    Raises:
        ConfigError: onnxruntime is missing, or the file is missing or not a model it can load.
    """

    def __init__(
        self, path: Path, providers: tuple[str, ...], threads: int = 1, max_batch: int = 16, parallel: int = 1
    ) -> None:
        ort = _load_runtime()
        if not path.is_file():
            raise ConfigError(f"ONNX model {path} not found", operation="queue detector")
        available = set(ort.get_available_providers())
        unknown = [p for p in providers if p not in available]
        if unknown:
            raise ConfigError(
                f"onnxruntime has no execution provider {', '.join(unknown)}",
                operation="queue detector",
                hint=f"available here: {', '.join(sorted(available))}",
            )
        options = ort.SessionOptions()
        options.intra_op_num_threads = threads
        options.inter_op_num_threads = 1
        options.add_session_config_entry("session.intra_op.allow_spinning", "0")
        try:
            self._session = ort.InferenceSession(str(path), options, providers=list(providers))
        except Exception as exc:  # onnxruntime raises its own untyped errors for bad files
            raise ConfigError(f"onnxruntime could not load {path}: {exc}", operation="queue detector") from exc
        inp = self._session.get_inputs()[0]
        self.input_name: str = inp.name
        self.input_shape: list[Any] = list(inp.shape)
        self.metadata: dict[str, str] = dict(self._session.get_modelmeta().custom_metadata_map)
        self.path = path
        self.parallel = max(1, parallel)
        batch_dim = self.input_shape[0] if self.input_shape else 1
        self.max_batch = max_batch if not isinstance(batch_dim, int) else 1
        self.stats = BatchStats()
        self._ready = threading.Condition()  # guards the queue, the leader count and the answers
        self._queue: list[_Request] = []  # in arrival order
        self._leaders = 0
        self._served: dict[object, float] = {}  # source -> monotonic time its last answer was filed
        self._recent: deque[tuple[float, float]] = deque()  # (monotonic end, wall seconds) of recent batches
        self._memo: dict[Any, Any] = {}
        self._memo_lock = threading.Lock()

    @property
    def fixed_size(self) -> tuple[int, int] | None:
        """The picture size the model requires, ``(width, height)``; ``None`` when it takes any size."""
        shape = self.input_shape
        if len(shape) == 4 and isinstance(shape[2], int) and isinstance(shape[3], int):
            return (shape[3], shape[2])
        return None

    def waiting(self) -> int:
        """Requests queued and not yet taken into a batch (other cameras waiting for the model)."""
        with self._ready:
            return len(self._queue)

    def busy_share(self, window_s: float = 2.0) -> float:
        """How busy the model was over the last ``window_s`` seconds: time spent running batches (wall) over
        the time ``parallel`` batches could have run, 0-1 (more when batches overlap the window's start)."""
        now = time.monotonic()
        with self._ready:
            while self._recent and self._recent[0][0] < now - window_s:
                self._recent.popleft()
            spent = sum(seconds for _, seconds in self._recent)
        return spent / (window_s * self.parallel)

    def remember(self, key: Any, make: Callable[[], _T]) -> _T:
        """What ``make()`` returns for ``key``, computed once per session (e.g. the output layout).

        Concurrent first calls for the same key run ``make`` once; the others wait for its result.
        """
        with self._memo_lock:  # not the queue's lock: ``make`` may run the model
            if key not in self._memo:
                self._memo[key] = make()
            return self._memo[key]

    def run(self, blob: np.ndarray, timeout: float = 30.0, *, source: object = None) -> np.ndarray:
        """Run the model on one picture, batched with whatever other threads ask at the same time.

        Args:
            blob: ``(1, C, H, W)`` float32 input.
            timeout: longest wait for the result, seconds.
            source: who asks, for fair turns (any hashable, e.g. a camera name); default: the calling thread.

        Returns:
            The model's first output for this picture, ``(1, ...)`` (a new array).

        Raises:
            DetectorError: onnxruntime failed on the batch, or no result came within ``timeout``.
        """
        req = _Request(blob, threading.get_ident() if source is None else source)
        deadline = time.monotonic() + timeout
        with self._ready:
            self._queue.append(req)
            while not req.finished:
                if self._leaders < self.parallel and self._queue:
                    # lead one batch (the oldest requests), then look again: a thread leads only while its own
                    # request is unanswered, so no camera's thread is kept serving the others for long
                    batch = self._take()
                    self._leaders += 1
                    if self._queue and self._leaders < self.parallel:
                        self._ready.notify_all()  # requests left for a batch beside this one: a waiter leads it
                    self._ready.release()
                    try:
                        self._run_batch(batch)
                    finally:
                        self._ready.acquire()
                        self._leaders -= 1
                        self._ready.notify_all()
                    continue
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    if req in self._queue:
                        self._queue.remove(req)
                    raise DetectorError(
                        f"no detection result within {timeout:.0f} s",
                        operation="queue detector",
                        hint="the box is overloaded",
                    )
                self._ready.wait(remaining)
        if req.error is not None:
            raise DetectorError(
                f"onnxruntime failed on {self.path.name}: {req.error}", operation="queue detector"
            ) from req.error
        assert req.result is not None
        return req.result

    def _run_batch(self, batch: list[_Request]) -> None:
        """Run ``batch`` as one call (without the lock) and file each answer on its request."""
        start = time.perf_counter()
        try:
            stacked = batch[0].blob if len(batch) == 1 else np.concatenate([r.blob for r in batch])
            out = np.asarray(self._session.run(None, {self.input_name: stacked})[0])
            if out.shape[0] != len(batch):
                raise ValueError(f"the model returned {out.shape[0]} results for a batch of {len(batch)}")
            for i, r in enumerate(batch):
                r.result = out[i : i + 1]
        except Exception as exc:  # onnxruntime's errors are untyped; mapped in run()
            for r in batch:
                r.error = exc
        seconds = time.perf_counter() - start
        with self._ready:
            now = time.monotonic()
            for r in batch:
                self._served[r.source] = now
            if len(self._served) > 4096:  # sources come and go (threads end): forget the long-idle ones
                for key in [k for k, v in self._served.items() if v < now - 60.0]:
                    del self._served[key]
            self.stats.add(len(batch), seconds)
            self._recent.append((now, seconds))
            if len(self._recent) > 4096:  # bounded even if nobody asks busy_share
                self._recent.popleft()
            for r in batch:
                r.finished = True

    def _take(self) -> list[_Request]:
        """The next batch, taken off the queue (called under the lock, before this leader is counted).

        Sources answered longest ago first (never answered: first of all), then arrival order; one request per
        source before any source's second; all of the first one's picture size; at most ``max_batch``, and only
        this leader's share of the queue when other batches could start beside it (``parallel``).
        """
        if not self._queue:
            return []
        order = sorted(range(len(self._queue)), key=lambda i: (self._served.get(self._queue[i].source, -math.inf), i))
        shape = self._queue[order[0]].blob.shape
        fits = [i for i in order if self._queue[i].blob.shape == shape]
        free = max(1, self.parallel - self._leaders)
        size = min(self.max_batch, -(-len(fits) // free))
        firsts: list[int] = []
        seconds: list[int] = []
        seen: set[object] = set()
        for i in fits:
            source = self._queue[i].source
            (seconds if source in seen else firsts).append(i)
            seen.add(source)
        chosen = set((firsts + seconds)[:size])
        batch = [self._queue[i] for i in order if i in chosen]
        self._queue = [r for i, r in enumerate(self._queue) if i not in chosen]
        return batch


def shared_session(
    path: str | Path, providers: tuple[str, ...] = ("CPUExecutionProvider",), threads: int = 1, parallel: int = 2
) -> SharedSession:
    """The process-wide session for ``path`` (loaded on first use, then shared by every camera).

    Raises:
        ConfigError: see :class:`SharedSession`.
    """
    _load_runtime()  # a clear ConfigError without onnxruntime, even when a session was made before
    resolved = Path(path).resolve()
    key = (str(resolved), tuple(providers), threads, parallel)
    with _SESSIONS_LOCK:
        session = _SESSIONS.get(key)
        if session is None:
            session = SharedSession(resolved, tuple(providers), threads, parallel=parallel)
            _SESSIONS[key] = session
        return session
