"""An adapter for ONNX person detectors (YOLO-style exports), run with ``onnxruntime`` when it is installed.

``onnxruntime`` is not installed by default: ``pip install "kedirivms[onnx]"`` (or ``pip install onnxruntime``) to
use this detector. The luma picture is letterboxed to the model's input size and repeated into three channels (detectors
trained on colour work on grey pictures, a little less well). Three output layouts are understood:

* ``(1, 4 + C, N)``: YOLOv8/YOLO11 (``cx, cy, w, h`` then one score per class);
* ``(1, N, 5 + C)``: YOLOv5/YOLOv7 (``cx, cy, w, h, objectness`` then class scores);
* ``(1, N, 6)`` or ``(N, 6)``: post-NMS exports (``x1, y1, x2, y2, score, class``).
"""

from __future__ import annotations

import importlib
from pathlib import Path
from typing import Any, Literal

import cv2
import numpy as np
import supervision as sv

from kedirivms.analytics.queue.detector import empty_detections
from kedirivms.errors import ConfigError, DecodeError

__all__ = ["OnnxPersonDetector"]


class OnnxPersonDetector:
    """Person boxes from an ONNX detector model.

    Args:
        path: the ``.onnx`` file.
        person_class: index of the person class in the model's labels (0 for COCO-trained models).
        confidence: least score kept.
        nms_iou: overlap above which the weaker of two boxes is dropped.
        input_size: ``(width, height)`` fed to the model; default: read from the model (640x640 if dynamic).
        providers: onnxruntime execution providers.
        layout: ``"yolov8"``, ``"yolov5"``, ``"nms"`` or ``"auto"`` (guessed from the output shape: YOLOv8
            outputs have fewer rows than candidates).

    Raises:
        ConfigError: onnxruntime is not installed, or the file is missing or not a model it can load.

    Example:
        >>> det = OnnxPersonDetector("yolov8n.onnx")
        >>> boxes = det.detect(frame.y, frame.time)
    """

    def __init__(
        self,
        path: str | Path,
        *,
        person_class: int = 0,
        confidence: float = 0.35,
        nms_iou: float = 0.5,
        input_size: tuple[int, int] | None = None,
        providers: tuple[str, ...] = ("CPUExecutionProvider",),
        layout: Literal["auto", "yolov8", "yolov5", "nms"] = "auto",
    ) -> None:
        try:
            ort: Any = importlib.import_module("onnxruntime")
        except ImportError as exc:
            raise ConfigError(
                "the ONNX person detector needs onnxruntime, which is not installed",
                operation="queue detector",
                hint="pip install onnxruntime, or leave onnx_model unset for the built-in CPU detector",
            ) from exc
        model = Path(path)
        if not model.is_file():
            raise ConfigError(f"ONNX model {model} not found", operation="queue detector")
        try:
            self._session = ort.InferenceSession(str(model), providers=list(providers))
        except Exception as exc:  # onnxruntime raises its own untyped errors for bad files
            raise ConfigError(f"onnxruntime could not load {model}: {exc}", operation="queue detector") from exc
        inp = self._session.get_inputs()[0]
        self._input = inp.name
        if input_size is None:
            shape = list(inp.shape)
            h = shape[2] if len(shape) == 4 and isinstance(shape[2], int) else 640
            w = shape[3] if len(shape) == 4 and isinstance(shape[3], int) else 640
            input_size = (w, h)
        self.input_size = input_size
        self.person_class = person_class
        self.confidence = confidence
        self.nms_iou = nms_iou
        self.layout = layout

    def _letterbox(self, y: np.ndarray) -> tuple[np.ndarray, float, tuple[int, int]]:
        w_in, h_in = self.input_size
        h, w = y.shape
        scale = min(w_in / w, h_in / h)
        nw, nh = max(1, round(w * scale)), max(1, round(h * scale))
        resized = cv2.resize(y, (nw, nh), interpolation=cv2.INTER_LINEAR)  # new array; y is only read
        canvas = np.full((h_in, w_in), 114, dtype=np.uint8)
        px, py = (w_in - nw) // 2, (h_in - nh) // 2
        canvas[py : py + nh, px : px + nw] = resized
        blob = np.repeat((canvas.astype(np.float32) / 255.0)[None, None], 3, axis=1)
        return blob, scale, (px, py)

    def detect(self, y: np.ndarray, t: float) -> sv.Detections:
        """Run the model on one luma picture.

        Args:
            y: ``(H, W)`` uint8 luma (read only).
            t: frame time (unused).

        Returns:
            Person boxes in the picture's pixels (a new ``supervision.Detections``).

        Raises:
            DecodeError: the model's output has a layout this adapter does not know.
        """
        del t
        blob, scale, (px, py) = self._letterbox(y)
        out = np.asarray(self._session.run(None, {self._input: blob})[0], dtype=np.float32)
        xyxy, score = self._decode(out)
        if len(score) == 0:
            return empty_detections()
        xyxy[:, [0, 2]] = (xyxy[:, [0, 2]] - px) / scale
        xyxy[:, [1, 3]] = (xyxy[:, [1, 3]] - py) / scale
        h, w = y.shape
        xyxy[:, [0, 2]] = np.clip(xyxy[:, [0, 2]], 0, w)
        xyxy[:, [1, 3]] = np.clip(xyxy[:, [1, 3]], 0, h)
        det = sv.Detections(xyxy=xyxy, confidence=score, class_id=np.zeros(len(score), dtype=int))
        return det.with_nms(threshold=self.nms_iou)

    def _decode(self, out: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        rows = out[0] if out.ndim == 3 else out
        if rows.ndim != 2:
            raise DecodeError(f"unexpected ONNX output shape {out.shape}", operation="queue detector")
        layout = self.layout
        if layout == "auto":
            if rows.shape[1] == 6 and rows.shape[0] != 6:
                layout = "nms"
            elif 5 <= rows.shape[0] < rows.shape[1]:
                layout = "yolov8"
            elif rows.shape[1] >= 6:
                layout = "yolov5"
            else:
                raise DecodeError(
                    f"unexpected ONNX output shape {out.shape}", operation="queue detector", hint="set layout"
                )
        if layout == "nms":  # x1 y1 x2 y2 score class
            keep = (rows[:, 4] >= self.confidence) & (rows[:, 5].round() == self.person_class)
            return rows[keep, :4].copy(), rows[keep, 4].copy()
        if layout == "yolov8":  # (4 + C, N)
            rows = rows.T
            scores = rows[:, 4 + self.person_class]
        else:  # yolov5: (N, 5 + C)
            scores = rows[:, 4] * rows[:, 5 + self.person_class]
        keep = scores >= self.confidence
        cx, cy, bw, bh = (rows[keep, i] for i in range(4))
        xyxy = np.stack([cx - bw / 2, cy - bh / 2, cx + bw / 2, cy + bh / 2], axis=1).astype(np.float32)
        return xyxy, scores[keep].astype(np.float32)
