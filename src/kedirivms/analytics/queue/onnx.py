"""DNN person detectors run with ``onnxruntime``: the shipped YOLOX-Nano model and user YOLO exports.

``pip install "kedirivms[detect]"`` installs onnxruntime; the default model ships inside the package
(``kedirivms/analytics/queue/models/yolox_nano.onnx``, Apache-2.0, see the NOTICE beside it), so nothing is
downloaded at run time. Four output layouts are understood:

* ``yolox``: YOLOX exports, ``(B, N, 5 + C)`` raw grid outputs for strides 8/16/32 (decoded here); input BGR
  0-255, letterboxed at the top-left;
* ``yolov8``: YOLOv8/YOLO11, ``(B, 4 + C, N)`` (``cx, cy, w, h`` then one score per class);
* ``yolov5``: YOLOv5/YOLOv7, ``(B, N, 5 + C)`` (``cx, cy, w, h, objectness`` then class scores);
* ``nms``: post-NMS exports, ``(B, N, 6)`` or ``(N, 6)`` (``x1, y1, x2, y2, score, class``).

The YOLO layouts take RGB in 0-1, letterboxed in the centre. Colour comes from the frame's planes, scaled and
converted once at the model's input size (a luma picture is repeated into three channels when no colour is
given). One session per model is shared by every camera of the process and concurrent requests are batched.

A model whose picture height and width are symbolic (the shipped one) is fed only the letterboxed picture rounded
up to a multiple of 32, not a square: a 640x360 camera runs at 416x256 instead of 416x416, at the same scale, for
0.6x the work (``trim_padding``). The size the picture is fitted within is the model's metadata entry
``kedirivms.input_size`` (``"416x416"``), else its fixed size, else 640x640.
"""

from __future__ import annotations

import math
from collections import deque
from dataclasses import dataclass, replace
from importlib import resources
from pathlib import Path
from typing import Any, Literal

import cv2
import numpy as np
import supervision as sv

from kedirivms.analytics.queue._session import SharedSession, shared_session
from kedirivms.analytics.queue.detector import box_iou, empty_detections, person_detections
from kedirivms.analytics.queue.line_pass import MAX_BUSY, LinePass
from kedirivms.analytics.queue.second_look import STRADDLE_MEMORY, STRADDLE_PERSIST, SecondLook
from kedirivms.errors import ConfigError, DetectorError

__all__ = ["DEFAULT_MODEL", "Layout", "OnnxPersonDetector", "default_model_path"]

Layout = Literal["auto", "yolox", "yolov8", "yolov5", "nms"]
DEFAULT_MODEL = "yolox_nano.onnx"
_STRIDES = (8, 16, 32)


def default_model_path() -> Path:
    """Where the shipped person model (YOLOX-Nano, COCO, Apache-2.0) is installed."""
    return Path(str(resources.files("kedirivms.analytics.queue") / "models" / DEFAULT_MODEL))


@dataclass(frozen=True)
class _Letterbox:
    scale: float
    pad: tuple[int, int]
    canvas: tuple[int, int]  # (width, height) fed to the model
    origin: tuple[float, float] = (0.0, 0.0)  # where the part fed to the model starts in the picture, pixels


class OnnxPersonDetector:
    """Person boxes from an ONNX detector model.

    Args:
        path: the ``.onnx`` file; default: the shipped YOLOX-Nano.
        person_class: index of the person class in the model's labels (0 for COCO-trained models).
        confidence: least score kept.
        nms_iou: overlap above which the weaker of two boxes is dropped.
        input_size: ``(width, height)`` the picture is fitted within; default: the model's (its metadata entry
            ``kedirivms.input_size``, else its fixed size, else 640x640).
        providers: onnxruntime execution providers.
        threads: onnxruntime intra-op threads of the shared session (1 suits a box that also decodes).
        layout: an output layout (see the module docs) or ``"auto"`` (guessed once per model and picture size,
            from the output's shape; the answer is kept on the shared session).
        trim_padding: feed only the letterboxed picture (rounded up to a multiple of 32) rather than the whole
            ``input_size`` when the model takes any size; the same scale, less work for pictures that are not
            square.
        parallel: most batches the shared session runs at once (see :class:`SharedSession`).
        region: ``(x0, y0, x1, y1)``, fractions of the picture: only this part is fed to the model (the queue
            analyzer passes its zones' bounding box and a margin). With ``trim_padding`` it gets as many model
            pixels as the whole picture would have had (never more than its own), so people in it are seen
            larger at the same cost; boxes come back in the whole picture's pixels. ``None``: the whole picture.
        line: a second pass on the queue zone's own crop, magnified (see :class:`LinePass`): its people replace
            the first pass's in the zone. ``None``: one pass.
        second_look: where NMS removed a confident box beside the one it kept (people close behind one another),
            look again at that spot magnified (see :class:`SecondLook`): the people it adds are marked in the
            result's ``data``. ``None``: never.

    Raises:
        ConfigError: onnxruntime is not installed, or the file is missing or not a model it can load.

    Example:
        >>> det = OnnxPersonDetector()                       # the shipped YOLOX-Nano
        >>> boxes = det.detect_frame(frame, frame.time)     # colour, converted once at 416x416
    """

    def __init__(
        self,
        path: str | Path | None = None,
        *,
        person_class: int = 0,
        confidence: float = 0.35,
        nms_iou: float = 0.45,
        input_size: tuple[int, int] | None = None,
        providers: tuple[str, ...] = ("CPUExecutionProvider",),
        threads: int = 1,
        layout: Layout = "auto",
        trim_padding: bool = True,
        parallel: int = 2,
        region: tuple[float, float, float, float] | None = None,
        line: LinePass | None = None,
        second_look: SecondLook | None = None,
    ) -> None:
        model = Path(path) if path is not None else default_model_path()
        self.session: SharedSession = shared_session(model, tuple(providers), threads, parallel)
        fixed = self.session.fixed_size
        if input_size is None:
            input_size = fixed or _metadata_size(self.session.metadata) or (640, 640)
        self.trim_padding = trim_padding and fixed is None
        if self.trim_padding:  # the trimmed picture is a multiple of the largest stride: so must the bound be
            s = _STRIDES[-1]
            input_size = (max(s, input_size[0] // s * s), max(s, input_size[1] // s * s))
        self.input_size = input_size
        if region is not None and not (0 <= region[0] < region[2] <= 1 and 0 <= region[1] < region[3] <= 1):
            raise ConfigError(f"detection region {region} is not within (0, 0, 1, 1)", operation="queue detector")
        self.region = region
        self.line = line
        self.line_runs = 0
        """Second passes run so far (see ``line``)."""
        self.second_look = second_look
        self.second_looks = 0
        """Windows looked at again so far (see ``second_look``)."""
        self.wide_looks = 0
        """Of those, windows round a first-look box much wider than the others (``SecondLook.wide``)."""
        self.straddle_looks = 0
        """Of those, windows round a first-look box between two others (``SecondLook.straddle``)."""
        self.straddle_drops = 0
        """First-look boxes those windows dropped (found nobody of their own, both neighbours)."""
        self._shown: deque[np.ndarray] = deque(maxlen=STRADDLE_MEMORY)
        """The first look's boxes passed on at each of the last detections (this camera's): a box between two
        people at about the place of one of them is someone seen before, never dropped."""
        self._dropped: deque[np.ndarray] = deque(maxlen=STRADDLE_PERSIST)
        """The boxes the straddle look dropped at each of the last detections (this camera's): a box dropped at about
        the same place on every one of them is someone standing hidden, kept."""
        self.closer_looks = 0
        """Windows looked at closer so far where something moved (see :meth:`look_closer`)."""
        self.person_class = person_class
        self.confidence = confidence
        self.nms_iou = nms_iou
        self.layout: Layout = layout
        self._asked: Layout = layout
        self._grids: dict[tuple[int, int], tuple[np.ndarray, np.ndarray]] = {}

    # -- input ------------------------------------------------------------------------------------------------
    def _crop(self, w: int, h: int) -> tuple[int, int, int, int] | None:
        """The region in pixels, ``(x, y, width, height)`` on even pixels; ``None``: the whole picture."""
        if self.region is None:
            return None
        x0, y0, x1, y1 = self.region
        px0, py0 = int(x0 * w) & ~1, int(y0 * h) & ~1
        px1, py1 = min(w, math.ceil(x1 * w)), min(h, math.ceil(y1 * h))
        if px1 - px0 < 2 or py1 - py0 < 2 or (px0, py0, px1, py1) == (0, 0, w, h):
            return None
        return px0, py0, px1 - px0, py1 - py0

    def _place(self, w: int, h: int, crop: tuple[int, int, int, int] | None = None) -> tuple[int, int, _Letterbox]:
        """The picture's (or ``crop``'s) size in the model and where it goes; resolves the layout for that size."""
        w_in, h_in = self.input_size
        scale = min(w_in / w, h_in / h)
        if crop is not None:
            cw, ch = crop[2], crop[3]
            if self.trim_padding:
                # as many model pixels as the whole picture would get (its cost), never more than the crop's own
                full = self._trimmed(round(w * scale), round(h * scale), (w_in, h_in))
                budget = full[0] * full[1]
                scale = min(math.sqrt(budget / (cw * ch)), max(1.0, scale))
                while scale > 0.05:
                    canvas = self._trimmed(round(cw * scale), round(ch * scale), (1 << 30, 1 << 30))
                    if canvas[0] * canvas[1] <= budget:
                        break
                    scale *= 0.97
                w_in, h_in = 1 << 30, 1 << 30  # bounded by the budget, not by the picture's box
            else:
                scale = min(w_in / cw, h_in / ch)
            w, h = cw, ch
        nw, nh = max(1, round(w * scale)), max(1, round(h * scale))
        if self.trim_padding:
            w_in, h_in = self._trimmed(nw, nh, (w_in, h_in))
        layout = self._resolve_layout((w_in, h_in))
        pad = (0, 0) if layout == "yolox" else ((w_in - nw) // 2, (h_in - nh) // 2)
        return nw, nh, _Letterbox(scale, pad, (w_in, h_in), (crop[0], crop[1]) if crop else (0, 0))

    @staticmethod
    def _trimmed(nw: int, nh: int, bound: tuple[int, int]) -> tuple[int, int]:
        """The model picture for an ``nw`` x ``nh`` picture: rounded up to the largest stride, within ``bound``."""
        s = _STRIDES[-1]
        return min(bound[0], s * math.ceil(nw / s)), min(bound[1], s * math.ceil(nh / s))

    def _blob(self, picture: np.ndarray, box: _Letterbox) -> np.ndarray:
        """``picture`` is already at the letterboxed size, BGR ``(h, w, 3)`` or luma ``(h, w)``."""
        w_in, h_in = box.canvas
        yolox = self.layout == "yolox"  # BGR, 0-255; the YOLO layouts take RGB, 0-1
        blob = np.full((1, 3, h_in, w_in), 114.0 if yolox else 114.0 / 255.0, dtype=np.float32)
        px, py = box.pad
        ph, pw = picture.shape[:2]
        region = blob[0, :, py : py + ph, px : px + pw]  # (3, ph, pw): one conversion, straight into the blob
        if picture.ndim == 2:
            region[...] = picture[None]
        else:
            region[...] = picture.transpose(2, 0, 1) if yolox else picture[..., ::-1].transpose(2, 0, 1)
        if not yolox:
            region *= np.float32(1.0 / 255.0)
        return blob

    # -- public -----------------------------------------------------------------------------------------------
    def model_input(self, width: int, height: int) -> tuple[int, int]:
        """The picture size ``(width, height)`` fed to the model for a ``width`` x ``height`` camera (its cost)."""
        return self._place(width, height, self._crop(width, height))[2].canvas

    def model_scale(self, width: int, height: int) -> float:
        """Model pixels per camera pixel for a ``width`` x ``height`` camera (how large people are seen)."""
        return self._place(width, height, self._crop(width, height))[2].scale

    def detect(self, y: np.ndarray, t: float) -> sv.Detections:
        """Run the model on a luma picture (repeated into three channels) or a BGR ``(H, W, 3)`` array.

        Args:
            y: ``(H, W)`` uint8 luma or ``(H, W, 3)`` uint8 BGR (read only).
            t: frame time (unused).

        Returns:
            Person boxes in the picture's pixels (a new ``supervision.Detections``).

        Raises:
            DetectorError: onnxruntime failed, or the output has a layout this adapter does not know.
        """
        del t
        h, w = y.shape[:2]
        whole = y
        crop = self._crop(w, h)
        nw, nh, box = self._place(w, h, crop)
        if crop is not None:
            x, yy, cw, ch = crop
            y = y[yy : yy + ch, x : x + cw]  # a view; still only read
        resized = cv2.resize(y, (nw, nh), interpolation=cv2.INTER_AREA)  # a new array; y is only read
        first = self._look(self._blob(resized, box), box, whole, w, h)
        return self._line_pass(first, whole, w, h)

    def detect_frame(self, frame: Any, t: float) -> sv.Detections:
        """Run the model on a :class:`~kedirivms.Frame` in colour, converted once at the model's input size.

        Args:
            frame: a :class:`kedirivms.Frame` (its planes are read, never written).
            t: frame time (unused).

        Returns:
            Person boxes in the frame's pixels.

        Raises:
            DetectorError: see :meth:`detect`.
        """
        del t
        w, h = int(frame.width), int(frame.height)
        crop = self._crop(w, h)
        nw, nh, box = self._place(w, h, crop)
        if crop is None:
            bgr = frame.to_bgr(size=(nw, nh))
        else:  # the whole picture scaled and converted in one pass, then the region's part of it taken
            s = box.scale
            ox, oy = round(crop[0] * s), round(crop[1] * s)
            bgr = frame.to_bgr(size=(max(1, round(w * s)), max(1, round(h * s))))[oy : oy + nh, ox : ox + nw]
            box = replace(box, origin=(ox / s, oy / s))
        first = self._look(self._blob(bgr, box), box, frame, w, h)
        return self._line_pass(first, frame, w, h)

    # -- the second look ----------------------------------------------------------------------------------------
    def _keep_straddling(self, kept: np.ndarray, drop: np.ndarray) -> np.ndarray:
        """``drop`` (the straddle look's verdicts on ``kept``) less the boxes that are someone's: a box passed on at
        about the same place on one of the last ``STRADDLE_MEMORY`` detections, or dropped there on each of the last
        ``STRADDLE_PERSIST``; this detection's boxes passed on and dropped are remembered."""
        if drop.any() and any(len(b) for b in self._shown):  # seen there lately: someone's box, it stays
            drop &= ~(box_iou(kept, np.concatenate(list(self._shown))) > self.nms_iou).any(axis=1)
        if drop.any() and len(self._dropped) == self._dropped.maxlen:  # dropped there every time: someone hidden
            drop &= ~np.all([(box_iou(kept, d) > self.nms_iou).any(axis=1) for d in self._dropped], axis=0)
        self._dropped.append(kept[drop])
        self._shown.append(kept[~drop])
        return drop

    def _look(self, blob: np.ndarray, box: _Letterbox, source: Any, w: int, h: int) -> sv.Detections:
        """The first pass's people, looked at again where NMS had to choose between neighbours (``second_look``).

        First a kept box between two people is looked at, and dropped when the window finds only them, unless a box
        was passed on at about its place on one of this camera's last two detections or it was dropped there on each
        of the last four (``SecondLook.straddle``, :meth:`_keep_straddling`).

        ``source`` is the picture: a :class:`~kedirivms.Frame` (the window converted in colour, then magnified) or
        the array :meth:`detect` was given.
        """
        look = self.second_look
        floor = min(self.confidence, look.weak_score) if look is not None and look.weak_score > 0 else None
        xyxy, score = self._candidates(blob, box, (w, h), floor)
        weak = score < self.confidence
        weak_boxes = (xyxy[weak], score[weak])
        xyxy, score = xyxy[~weak], score[~weak]
        first = self._nms(xyxy, score)
        kept = np.asarray(first.xyxy).reshape(-1, 4)
        if look is None or len(first) == 0:
            self._keep_straddling(kept, np.zeros(len(kept), dtype=bool))
            return first
        if look.mode == "auto" and (self.session.waiting() > 0 or self.session.busy_share() > MAX_BUSY):
            self._keep_straddling(kept, np.zeros(len(kept), dtype=bool))
            return first
        budget = look.budget * box.canvas[0] * box.canvas[1]
        scale = look.magnify * box.scale
        drop = np.zeros(len(kept), dtype=bool)
        for i, around in look.straddling(kept, w, h):  # a box over the gap between two people: is it anyone?
            window = look.window(kept[i], w, h)
            if (seen := self._look_again(source, window, scale, budget, (w, h))) is None:
                continue
            second, budget = seen
            self.straddle_looks += 1
            drop[i] = look.unfounded(kept, i, around, np.asarray(second.xyxy), window)
        drop = self._keep_straddling(kept, drop)
        if drop.any():
            self.straddle_drops += int(drop.sum())
            first = first[~drop]  # type: ignore[assignment]
            kept = np.asarray(first.xyxy)
        spots = look.spots(kept, xyxy, score, self.nms_iou, w, h)
        weak_spots = look.weak_spots(kept, *weak_boxes, self.nms_iou, w, h)
        people = first
        for i in look.wide_boxes(kept, w, h):  # one box round two people: add the one the window tells apart
            if (seen := self._look_again(source, look.window(kept[i], w, h), scale, budget, (w, h))) is None:
                continue
            second, budget = seen
            self.wide_looks += 1
            people = look.merge(people, kept[i], second)
        for i, spot in enumerate(spots + weak_spots):
            if (seen := self._look_again(source, look.window(spot, w, h), scale, budget, (w, h))) is None:
                continue
            second, budget = seen
            if i < len(spots):
                people = look.merge(people, spot, second)
            else:  # a weak box's spot: only people beside everyone found so far
                people = look.merge_beside(people, spot, second, self.nms_iou)
        return people

    def _look_again(
        self, source: Any, window: tuple[int, int, int, int], scale: float, budget: float, size: tuple[int, int]
    ) -> tuple[sv.Detections, float] | None:
        """The people the model finds in one second-look ``window`` (counted in ``second_looks``) and the budget
        left after it; ``None`` when the window would cost more than ``budget`` model pixels."""
        fed = self._window_blob(source, window, scale, budget)
        if fed is None:
            return None
        blob, win = fed
        self.second_looks += 1
        return self._infer(blob, win, size), budget - win.canvas[0] * win.canvas[1]

    def _window_blob(
        self, source: Any, window: tuple[int, int, int, int], scale: float, budget: float
    ) -> tuple[np.ndarray, _Letterbox] | None:
        """The model's input for one window ``(x, y, width, height)`` of a picture scaled ``scale`` times, and where
        it sits in the picture; ``None`` when its model input would cost more than ``budget`` pixels."""
        x, y, cw, ch = window
        nw, nh = max(1, round(cw * scale)), max(1, round(ch * scale))
        canvas = self._trimmed(nw, nh, (1 << 30, 1 << 30)) if self.trim_padding else self.input_size
        if not self.trim_padding:  # a model of fixed size: the window must fit in it
            fit = min(scale, canvas[0] / cw, canvas[1] / ch)
            nw, nh = max(1, round(cw * fit)), max(1, round(ch * fit))
        if canvas[0] * canvas[1] > budget:
            return None
        # an array is only read (a view); a frame converts the window alone, once
        part = source[y : y + ch, x : x + cw] if isinstance(source, np.ndarray) else source.to_bgr(window)
        resized = cv2.resize(part, (nw, nh), interpolation=cv2.INTER_LINEAR)
        layout = self._resolve_layout(canvas)
        pad = (0, 0) if layout == "yolox" else ((canvas[0] - nw) // 2, (canvas[1] - nh) // 2)
        win = _Letterbox(nw / cw, pad, canvas, (float(x), float(y)))
        return self._blob(resized, win), win

    # -- a closer look where something moved ---------------------------------------------------------------------
    def look_closer(
        self,
        frame: Any,
        regions: list[tuple[int, int, int, int]],
        *,
        magnify: float = 2.0,
        budget: float = 1.0,
        when_idle: bool = True,
    ) -> sv.Detections:
        """People in square windows around ``regions`` of a picture, magnified ``magnify`` times the first look's.

        The analyzer asks for it where the picture changed and no person's box explains the change: a small person
        the shrunk picture hides from the model (a 480x270 camera is fed at 0.87 of its size; a cyclist 30 pixels
        tall is found at 0.1-0.5 there, and on most pictures at 0.4-0.7 at twice the scale).

        Args:
            frame: a :class:`~kedirivms.Frame` (its window converted in colour) or a luma/BGR array (read only).
            regions: ``(x, y, width, height)`` in the picture's pixels, the most wanted first; each gets a square
                window twice its longer side (at least a quarter of the picture's height) around its centre.
            magnify: model pixels per picture pixel, times the first look's.
            budget: most model pixels all windows may cost, as a multiple of the first look's; a window that does
                not fit is skipped.
            when_idle: skip (return nothing) while another camera waits for the shared model or it is busier than
                ``MAX_BUSY``.

        Returns:
            The people found (NMS over all windows), in the picture's pixels.

        Raises:
            DetectorError: see :meth:`detect`.
        """
        if not regions or (when_idle and (self.session.waiting() > 0 or self.session.busy_share() > MAX_BUSY)):
            return empty_detections()
        if isinstance(frame, np.ndarray):
            h, w = frame.shape[:2]
        else:
            w, h = int(frame.width), int(frame.height)
        first = self._place(w, h, self._crop(w, h))[2]
        left = budget * first.canvas[0] * first.canvas[1]
        scale = magnify * first.scale
        boxes, scores = [], []
        for rx, ry, rw, rh in regions:
            side = min(max(2.0 * max(rw, rh), h / 4.0), w, h)
            x = int(min(max(0.0, rx + rw / 2.0 - side / 2.0), w - side)) & ~1
            y = int(min(max(0.0, ry + rh / 2.0 - side / 2.0), h - side)) & ~1
            window = (x, y, min(w - x, math.ceil(side)), min(h - y, math.ceil(side)))
            fed = self._window_blob(frame, window, scale, left)
            if fed is None:
                continue
            blob, win = fed
            left -= win.canvas[0] * win.canvas[1]
            self.closer_looks += 1
            xyxy, score = self._candidates(blob, win, (w, h))
            boxes.append(xyxy)
            scores.append(score)
        if not boxes:
            return empty_detections()
        return self._nms(np.concatenate(boxes), np.concatenate(scores))

    # -- the line pass ------------------------------------------------------------------------------------------
    def _line_pass(self, first: sv.Detections, source: Any, w: int, h: int) -> sv.Detections:
        """``first`` with the queue zone's people replaced by a second pass on its crop, when ``line`` asks.

        ``source`` is the picture: a :class:`~kedirivms.Frame` (scaled and converted in colour in one pass, then
        the crop taken) or the array :meth:`detect` was given.
        """
        line = self.line
        if line is None:
            return first
        busy = self.session.waiting() > 0 or self.session.busy_share() > MAX_BUSY
        if not line.wanted(first, w, h, model_busy=busy):
            return first
        crop = line.crop(w, h)
        if crop is None:
            return first
        x, y, cw, ch = crop
        first_scale = self._place(w, h, self._crop(w, h))[2].scale
        planned = line.plan_scale((cw, ch), first_scale, self.input_size[0] * self.input_size[1])
        if planned is None:
            return first
        scale = planned
        if not self.trim_padding:  # a model of fixed size: the crop must fit in it
            scale = min(scale, self.input_size[0] / cw, self.input_size[1] / ch)
        nw, nh = max(1, round(cw * scale)), max(1, round(ch * scale))
        canvas = self._trimmed(nw, nh, (1 << 30, 1 << 30)) if self.trim_padding else self.input_size
        layout = self._resolve_layout(canvas)
        pad = (0, 0) if layout == "yolox" else ((canvas[0] - nw) // 2, (canvas[1] - nh) // 2)
        box = _Letterbox(scale, pad, canvas, (float(x), float(y)))
        if isinstance(source, np.ndarray):
            part = source[y : y + ch, x : x + cw]  # a view; only read
            resized = cv2.resize(part, (nw, nh), interpolation=cv2.INTER_AREA if scale < 1 else cv2.INTER_LINEAR)
        else:  # the whole picture scaled and converted in one pass, then the crop's part of it taken
            ox, oy = round(x * scale), round(y * scale)
            whole = source.to_bgr(size=(max(1, round(w * scale)), max(1, round(h * scale))))
            resized = whole[oy : oy + nh, ox : ox + nw]
            box = replace(box, origin=(ox / scale, oy / scale))
        self.line_runs += 1
        second = self._infer(self._blob(resized, box), box, (w, h))
        return line.merge(first, second, w, h, self.nms_iou)

    # -- output -----------------------------------------------------------------------------------------------
    def _resolve_layout(self, size: tuple[int, int]) -> Layout:
        """The output layout at this input size: as asked, or guessed from one blank picture once per session."""
        if self._asked == "auto":
            w_in, h_in = size

            def probe() -> Layout:
                return _guess_layout(self.session.run(np.zeros((1, 3, h_in, w_in), dtype=np.float32)), size)

            self.layout = self.session.remember(("layout", size), probe)
        return self.layout

    def _infer(self, blob: np.ndarray, box: _Letterbox, wh: tuple[int, int]) -> sv.Detections:
        return self._nms(*self._candidates(blob, box, wh))

    def _nms(self, xyxy: np.ndarray, score: np.ndarray) -> sv.Detections:
        """The people left after non-maximum suppression of the model's candidate boxes."""
        if len(score) == 0:
            return empty_detections()
        return person_detections(xyxy, score).with_nms(threshold=self.nms_iou)

    def _candidates(
        self, blob: np.ndarray, box: _Letterbox, wh: tuple[int, int], floor: float | None = None
    ) -> tuple[np.ndarray, np.ndarray]:
        """The model's person boxes over the confidence threshold (or ``floor``), before NMS, in the picture's
        pixels."""
        out = self.session.run(blob).astype(np.float32, copy=False)
        xyxy, score = self._decode(out, box.canvas, floor)
        if len(score) == 0:
            return xyxy.reshape(0, 4), score
        px, py = box.pad
        ox, oy = box.origin
        xyxy[:, [0, 2]] = np.clip((xyxy[:, [0, 2]] - px) / box.scale + ox, 0, wh[0])
        xyxy[:, [1, 3]] = np.clip((xyxy[:, [1, 3]] - py) / box.scale + oy, 0, wh[1])
        return xyxy, score

    def _decode(
        self, out: np.ndarray, canvas: tuple[int, int], floor: float | None = None
    ) -> tuple[np.ndarray, np.ndarray]:
        floor = self.confidence if floor is None else floor
        rows = out[0] if out.ndim == 3 else out
        if rows.ndim != 2:
            raise DetectorError(
                f"unexpected ONNX output shape {out.shape}", operation="queue detector", hint="set layout"
            )
        layout = self.layout
        try:
            if layout == "nms":  # x1 y1 x2 y2 score class
                keep = (rows[:, 4] >= floor) & (rows[:, 5].round() == self.person_class)
                return rows[keep, :4].copy(), rows[keep, 4].copy()
            if layout == "yolov8":  # (4 + C, N)
                rows = rows.T
                scores = rows[:, 4 + self.person_class]
            else:  # yolov5 / yolox: (N, 5 + C)
                scores = rows[:, 4] * rows[:, 5 + self.person_class]
        except IndexError as exc:
            raise DetectorError(
                f"ONNX output {out.shape} has no class {self.person_class} in layout {layout}",
                operation="queue detector",
                hint="check person_class and layout",
            ) from exc
        keep = np.nonzero(scores >= floor)[0]
        cand = rows[keep]
        if layout == "yolox":
            grid, stride = self._yolox_grid(len(rows), canvas)
            centre = (cand[:, :2] + grid[keep]) * stride[keep]
            size = np.exp(np.minimum(cand[:, 2:4], 20.0)) * stride[keep]
        else:
            centre, size = cand[:, :2], cand[:, 2:4]
        xyxy = np.concatenate([centre - size / 2, centre + size / 2], axis=1).astype(np.float32)
        return xyxy, scores[keep].astype(np.float32)

    def _yolox_grid(self, n: int, size: tuple[int, int]) -> tuple[np.ndarray, np.ndarray]:
        cached = self._grids.get(size)
        if cached is None or len(cached[0]) != n:
            w_in, h_in = size
            grids, strides = [], []
            for s in _STRIDES:
                gy, gx = np.mgrid[0 : h_in // s, 0 : w_in // s]
                grids.append(np.stack([gx.ravel(), gy.ravel()], axis=1))
                strides.append(np.full((gx.size, 1), s))
            grid, stride = np.concatenate(grids).astype(np.float32), np.concatenate(strides).astype(np.float32)
            if len(grid) != n:
                raise DetectorError(
                    f"YOLOX output has {n} rows, expected {len(grid)} for input {w_in}x{h_in}",
                    operation="queue detector",
                    hint="set input_size to the size the model was exported with",
                )
            cached = self._grids[size] = (grid, stride)
        return cached


def _metadata_size(metadata: dict[str, str]) -> tuple[int, int] | None:
    """``kedirivms.input_size`` (``"416x416"``, width x height) from a model's metadata, if there."""
    text = metadata.get("kedirivms.input_size", "")
    w, _, h = text.partition("x")
    return (int(w), int(h)) if w.isdigit() and h.isdigit() else None


def _guess_layout(out: np.ndarray, input_size: tuple[int, int]) -> Layout:
    """Tell the layout from the output of one run on a blank picture."""
    rows = out[0] if out.ndim == 3 else out
    if rows.ndim != 2:
        raise DetectorError(f"unexpected ONNX output shape {out.shape}", operation="queue detector", hint="set layout")
    w_in, h_in = input_size
    cells = sum((w_in // s) * (h_in // s) for s in _STRIDES)
    if rows.shape[1] == 6 and rows.shape[0] != 6:
        return "nms"
    if rows.shape[0] == cells and rows.shape[1] >= 6:
        return "yolox"  # one prediction per grid cell (anchor-free), where YOLOv5 has three anchors per cell
    if 5 <= rows.shape[0] < rows.shape[1]:
        return "yolov8"
    if rows.shape[1] >= 6:
        return "yolov5"
    raise DetectorError(f"unexpected ONNX output shape {out.shape}", operation="queue detector", hint="set layout")
