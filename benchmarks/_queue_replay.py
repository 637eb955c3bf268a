"""Recorded detections for ``benchmarks/queue_accuracy.py --cache``: replay the analyzer without the DNN.

The queue analyzer runs its detector only on some frames (2 Hz) and reads the picture only on those: the motion
gate reads the luma, the identity cue reads the planes. A first run records, for every frame the detector ran on,
the frame's Y, U, V planes and the detector's boxes; later runs feed the analyzer those planes and boxes on the
same frames (and a blank luma on the others, which the analyzer does not read), so a change to tracking, waits
or alerts is measured in seconds instead of minutes, on exactly the detections a full run would give.

The cache key holds the scenario, its seed, ``--quick``, the codec round trip, the detector kind and a hash of
the detector's code and model settings: a change there makes a new recording. The code is hashed as its syntax
tree without docstrings (comments are not in it), so an edit to a detector file's docs or comments replays.
"""

from __future__ import annotations

import ast
import hashlib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import supervision as sv

import kedirivms.analytics.queue as queue_pkg
from kedirivms.analytics.queue.second_look import EXTRA, extra_mask

# the files whose code makes the recorded boxes; the motion gate is not one (it runs on the replayed planes, after
# the detector), so a change to the gate replays
_DETECTOR_SOURCES = ("detector.py", "onnx.py", "_session.py", "line_pass.py", "second_look.py")


def cache_key(name: str, seed: int, *, quick: bool, codec: bool, detector: str, settings: str) -> str:
    """File stem of one recording (changes with the detector's code and settings)."""
    h = hashlib.sha256(settings.encode())
    base = Path(queue_pkg.__file__).parent
    for src in _DETECTOR_SOURCES:
        p = base / src
        if p.exists():
            h.update(_code(p))
    tag = f"{'q' if quick else 'f'}{'c' if codec else 'r'}"
    return f"{name}-s{seed}-{tag}-{detector}-{h.hexdigest()[:12]}"


def _code(path: Path) -> bytes:
    """``path``'s Python code as its syntax tree without docstrings or other bare strings (no line numbers)."""
    return ast.dump(_NoDocs().visit(ast.parse(path.read_text(encoding="utf-8")))).encode()


class _NoDocs(ast.NodeTransformer):
    def visit_Expr(self, node: ast.Expr) -> ast.Expr | None:
        return None if isinstance(node.value, ast.Constant) and isinstance(node.value.value, str) else node


class ReplayFrame:
    """The parts of a :class:`kedirivms.Frame` the analyzer reads, from recorded planes."""

    def __init__(self, planes: tuple[np.ndarray, ...], t: float) -> None:
        self.planes = planes
        self.y = planes[0]
        self.height, self.width = self.y.shape[:2]
        self.time = t


@dataclass
class Recording:
    """Detections (and the planes they were made on) per frame index."""

    boxes: dict[int, tuple[np.ndarray, np.ndarray]] = field(default_factory=dict)  # index -> xyxy, confidence
    planes: dict[int, tuple[np.ndarray, ...]] = field(default_factory=dict)
    extra: dict[int, np.ndarray] = field(default_factory=dict)  # index -> the boxes the second look added
    closer: dict[int, tuple[np.ndarray, np.ndarray]] = field(default_factory=dict)  # index -> look_closer's people

    def save(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        idx = np.array(sorted(self.boxes), dtype=np.int64)
        arrays: dict[str, Any] = {"idx": idx}
        counts = [len(self.boxes[i][0]) for i in idx.tolist()]
        arrays["counts"] = np.array(counts, dtype=np.int64)
        arrays["xyxy"] = (
            np.concatenate([self.boxes[i][0] for i in idx.tolist()]).astype(np.float32)
            if sum(counts)
            else np.zeros((0, 4), np.float32)
        )
        arrays["conf"] = (
            np.concatenate([self.boxes[i][1] for i in idx.tolist()]).astype(np.float32)
            if sum(counts)
            else np.zeros(0, np.float32)
        )
        if any(m.any() for m in self.extra.values()):
            arrays["extra"] = np.concatenate(
                [self.extra.get(i, np.zeros(n, bool)) for i, n in zip(idx.tolist(), counts, strict=True)]
            )
        if self.closer:
            cidx = sorted(self.closer)
            arrays["cidx"] = np.array(cidx, dtype=np.int64)
            arrays["ccounts"] = np.array([len(self.closer[i][0]) for i in cidx], dtype=np.int64)
            arrays["cxyxy"] = np.concatenate([self.closer[i][0] for i in cidx]).reshape(-1, 4).astype(np.float32)
            arrays["cconf"] = np.concatenate([self.closer[i][1] for i in cidx]).astype(np.float32)
        for p in range(3):
            arrays[f"p{p}"] = np.stack([self.planes[i][p] for i in idx.tolist()])
        tmp = path.with_suffix(".tmp.npz")
        np.savez(tmp, **arrays)
        tmp.replace(path)

    @classmethod
    def load(cls, path: Path) -> Recording:
        rec = cls()
        with np.load(path) as z:
            idx, counts = z["idx"].tolist(), z["counts"].tolist()
            xyxy, conf = z["xyxy"], z["conf"]
            extra = z["extra"] if "extra" in z.files else np.zeros(len(conf), dtype=bool)
            planes = [z[f"p{p}"] for p in range(3)]
            at = 0
            for k, (i, n) in enumerate(zip(idx, counts, strict=True)):
                rec.boxes[i] = (xyxy[at : at + n], conf[at : at + n])
                rec.extra[i] = extra[at : at + n].astype(bool)
                rec.planes[i] = tuple(pl[k] for pl in planes)
                at += n
            if "cidx" in z.files:
                at = 0
                for i, n in zip(z["cidx"].tolist(), z["ccounts"].tolist(), strict=True):
                    rec.closer[i] = (z["cxyxy"][at : at + n], z["cconf"][at : at + n])
                    at += n
        return rec


class RecordingDetector:
    """Wraps the analyzer's detector: records each detection (``replay=False``) or answers from a recording."""

    def __init__(self, inner: Any, recording: Recording, *, replay: bool) -> None:
        self.inner = inner
        self.recording = recording
        self.replay = replay
        self.index = -1  # the frame being analysed (set by the benchmark before each update)

    def detect_frame(self, frame: Any, t: float) -> sv.Detections:
        if self.replay:
            if self.index not in self.recording.boxes:
                raise RuntimeError(f"frame {self.index} was not recorded: delete the cache and run again")
            xyxy, conf = self.recording.boxes[self.index]
            det = sv.Detections(xyxy=xyxy.copy(), confidence=conf.copy(), class_id=np.zeros(len(xyxy), dtype=int))
            extra = self.recording.extra.get(self.index)
            if extra is not None and extra.any():
                det.data[EXTRA] = extra.copy()
            return det
        det = self.inner.detect_frame(frame, t)
        conf = det.confidence if det.confidence is not None else np.ones(len(det), np.float32)
        self.recording.boxes[self.index] = (
            np.asarray(det.xyxy, np.float32).copy(),
            np.asarray(conf, np.float32).copy(),
        )
        self.recording.extra[self.index] = extra_mask(det).copy()
        self.recording.planes[self.index] = tuple(np.array(p) for p in frame.planes)
        return det

    def look_closer(self, frame: Any, regions: list[tuple[int, int, int, int]], **kwargs: Any) -> sv.Detections:
        """The inner detector's closer look (recorded per frame), or the recorded one (none if none was)."""
        if self.replay:
            xyxy, conf = self.recording.closer.get(self.index, (np.zeros((0, 4), np.float32), np.zeros(0, np.float32)))
            return sv.Detections(xyxy=xyxy.copy(), confidence=conf.copy(), class_id=np.zeros(len(xyxy), dtype=int))
        det = self.inner.look_closer(frame, regions, **kwargs)
        conf = det.confidence if det.confidence is not None else np.ones(len(det), np.float32)
        self.recording.closer[self.index] = (np.asarray(det.xyxy, np.float32).copy(), np.asarray(conf).copy())
        return det

    def detect(self, y: np.ndarray, t: float) -> sv.Detections:  # the analyzer calls detect_frame when it has one
        raise RuntimeError("replay needs frames (the DNN path)")


def replay_step(analyzer: Any, replay: RecordingDetector, k: int, t: float, blank: np.ndarray) -> list[Any]:
    """Feed the analyzer frame ``k`` of a replay: the recorded planes where the detector ran, else a blank luma
    (which the analyzer reads only for its size); returns the analyzer's events."""
    replay.index = k
    planes = replay.recording.planes
    if k in planes:
        frame = ReplayFrame(planes[k], t)
        return list(analyzer.update(frame.y, t, frame=frame))
    return list(analyzer.update(blank, t))
