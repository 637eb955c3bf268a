"""Scenes the virtual camera encodes: a tiny protocol and the default moving-shapes scene.

A scene draws picture ``index`` at scene time ``t`` (seconds since the encoder started). It returns either an
``(H, W, 3)`` uint8 RGB image or an ``(H * 3 // 2, W)`` uint8 I420 (yuv420p) buffer: Y rows, then the U and V
quarter planes. Drawing straight into I420 skips a colour conversion per frame, which matters with a fleet.
"""

from __future__ import annotations

import math
import time
from typing import Protocol, runtime_checkable

import numpy as np

__all__ = ["MovingShapesScene", "Scene", "i420_planes"]


@runtime_checkable
class Scene(Protocol):
    """What the RTSP server needs from a scene.

    Implementations must be cheap (they run at the stream's frame rate) and may be called from an encoder
    thread; one instance can feed several streams of different sizes.
    """

    def render(self, index: int, t: float, width: int, height: int) -> np.ndarray:
        """Draw picture ``index`` at ``t`` seconds.

        Returns:
            ``(height, width, 3)`` uint8 RGB, or ``(height * 3 // 2, width)`` uint8 I420.
        """
        ...


def i420_planes(buf: np.ndarray, width: int, height: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Split an I420 buffer of shape ``(H * 3 // 2, W)`` into writable ``Y (H, W)``, ``U``, ``V (H/2, W/2)`` views."""
    flat = buf.reshape(-1)
    ysize = width * height
    csize = (width // 2) * (height // 2)
    y = flat[:ysize].reshape(height, width)
    u = flat[ysize : ysize + csize].reshape(height // 2, width // 2)
    v = flat[ysize + csize : ysize + 2 * csize].reshape(height // 2, width // 2)
    return y, u, v


# (Y, U, V) of a few saturated colours, BT.601 limited range
_COLOURS = [(82, 90, 240), (145, 54, 34), (41, 240, 110), (210, 16, 146), (170, 166, 16)]


class MovingShapesScene:
    """Moving rectangles over a gradient with a wall-clock overlay, drawn directly in I420.

    Args:
        shapes: number of moving boxes.
        label: text drawn under the clock (e.g. the camera name); empty for none.
        clock: draw the UTC wall clock and frame number.

    Example:
        >>> img = MovingShapesScene().render(0, 0.0, 320, 240)   # (360, 320) uint8 I420
    """

    def __init__(self, shapes: int = 3, *, label: str = "", clock: bool = True) -> None:
        self.shapes = shapes
        self.label = label
        self.clock = clock
        self._backgrounds: dict[tuple[int, int], np.ndarray] = {}

    def _background(self, width: int, height: int) -> np.ndarray:
        key = (width, height)
        bg = self._backgrounds.get(key)
        if bg is None:
            bg = np.empty((height * 3 // 2, width), np.uint8)
            y, u, v = i420_planes(bg, width, height)
            ramp = np.linspace(40, 120, width, dtype=np.float32)[None, :] + np.linspace(0, 40, height)[:, None]
            y[...] = ramp.astype(np.uint8)
            u[...] = 128
            v[...] = 128
            self._backgrounds[key] = bg
        return bg

    def render(self, index: int, t: float, width: int, height: int) -> np.ndarray:
        """Draw one picture (see :class:`Scene`); returns a fresh ``(H * 3 // 2, W)`` I420 buffer."""
        out = self._background(width, height).copy()
        y, u, v = i420_planes(out, width, height)
        box = max(8, min(width, height) // 6) & ~1
        for k in range(self.shapes):
            speed = 0.35 + 0.2 * k
            phase = t * speed + k * 1.7
            cx = (0.5 + 0.42 * math.sin(phase * 2.1)) * (width - box)
            cy = (0.5 + 0.42 * math.cos(phase * 1.3 + k)) * (height - box)
            x0, y0 = int(cx) & ~1, int(cy) & ~1
            cy_, cu, cv = _COLOURS[k % len(_COLOURS)]
            y[y0 : y0 + box, x0 : x0 + box] = cy_
            u[y0 // 2 : (y0 + box) // 2, x0 // 2 : (x0 + box) // 2] = cu
            v[y0 // 2 : (y0 + box) // 2, x0 // 2 : (x0 + box) // 2] = cv
        if self.clock:
            self._overlay(y, index, width, height)
        return out

    def _overlay(self, y: np.ndarray, index: int, width: int, height: int) -> None:
        import cv2

        now = time.time()
        stamp = time.strftime("%Y-%m-%d %H:%M:%S", time.gmtime(now)) + f".{int(now * 1000) % 1000:03d}Z"
        scale = max(0.35, height / 720)
        thick = max(1, int(round(scale * 2)))
        line = int(28 * scale) + 4
        y[0 : line * (2 if self.label else 1) + 8, :] //= 3  # darken a band so the text reads on any scene
        cv2.putText(y, f"{stamp} #{index}", (6, line), cv2.FONT_HERSHEY_SIMPLEX, scale, 235, thick, cv2.LINE_8)
        if self.label:
            cv2.putText(y, self.label, (6, 2 * line), cv2.FONT_HERSHEY_SIMPLEX, scale, 235, thick, cv2.LINE_8)
