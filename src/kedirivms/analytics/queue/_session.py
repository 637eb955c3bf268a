"""One onnxruntime session per model per process, shared by every camera, batching concurrent requests.

Cameras run their plugins on separate worker threads. Each detection request is queued; the first thread that
finds no batch in flight becomes the *leader*: it takes everything queued (up to ``max_batch``), runs it as one
batch, hands each caller its slice and loops until the queue is empty. Requests that arrive while a batch runs
form the next batch, so batching adds no waiting of its own and a lone camera runs at batch size 1.

onnxruntime's own errors are mapped here, at the one boundary where the library is called.
"""

from __future__ import annotations

import importlib
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from kedirivms.errors import ConfigError, DetectorError

__all__ = ["BatchStats", "SharedSession", "shared_session"]

_SESSIONS: dict[tuple[str, tuple[str, ...], int], SharedSession] = {}
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
    __slots__ = ("blob", "done", "error", "result")

    def __init__(self, blob: np.ndarray) -> None:
        self.blob = blob
        self.done = threading.Event()
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

    Raises:
        ConfigError: onnxruntime is missing, or the file is missing or not a model it can load.
    """

    def __init__(self, path: Path, providers: tuple[str, ...], threads: int = 1, max_batch: int = 16) -> None:
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
        self.path = path
        batch_dim = self.input_shape[0] if self.input_shape else 1
        self.max_batch = max_batch if not isinstance(batch_dim, int) else 1
        self.stats = BatchStats()
        self._lock = threading.Lock()
        self._queue: list[_Request] = []
        self._leading = False

    def run(self, blob: np.ndarray, timeout: float = 30.0) -> np.ndarray:
        """Run the model on one picture, batched with whatever other threads ask at the same time.

        Args:
            blob: ``(1, C, H, W)`` float32 input.
            timeout: longest wait for the result, seconds.

        Returns:
            The model's first output for this picture, ``(1, ...)`` (a new array).

        Raises:
            DetectorError: onnxruntime failed on the batch, or no result came within ``timeout``.
        """
        req = _Request(blob)
        with self._lock:
            self._queue.append(req)
            lead = not self._leading
            self._leading = True
        if lead:
            self._lead()
        if not req.done.wait(timeout):
            raise DetectorError(
                f"no detection result within {timeout:.0f} s", operation="queue detector", hint="the box is overloaded"
            )
        if req.error is not None:
            raise DetectorError(
                f"onnxruntime failed on {self.path.name}: {req.error}", operation="queue detector"
            ) from req.error
        assert req.result is not None
        return req.result

    def _lead(self) -> None:
        while True:
            with self._lock:
                batch = self._queue[: self.max_batch]
                del self._queue[: len(batch)]
                if not batch:
                    self._leading = False
                    return
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
            finally:
                self.stats.add(len(batch), time.perf_counter() - start)
                for r in batch:
                    r.done.set()


def shared_session(
    path: str | Path, providers: tuple[str, ...] = ("CPUExecutionProvider",), threads: int = 1
) -> SharedSession:
    """The process-wide session for ``path`` (loaded on first use, then shared by every camera).

    Raises:
        ConfigError: see :class:`SharedSession`.
    """
    resolved = Path(path).resolve()
    key = (str(resolved), tuple(providers), threads)
    with _SESSIONS_LOCK:
        session = _SESSIONS.get(key)
        if session is None:
            session = SharedSession(resolved, tuple(providers), threads)
            _SESSIONS[key] = session
        return session
