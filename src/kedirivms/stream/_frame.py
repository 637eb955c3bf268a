"""Decoded video frames as read-only, zero-copy numpy views over PyAV planes.

Lifetime rules (see docs/frames.md): a view keeps its :class:`av.VideoFrame` (and so the decoder's buffer) alive;
views are read-only because the decoder may still reference the picture; keep data longer than one iteration with
an explicit :meth:`Frame.copy` or ``np.array(view)``.
"""

from __future__ import annotations

import contextlib
import os
import threading
from fractions import Fraction
from typing import TYPE_CHECKING, Any

import av
import numpy as np
from av.video.plane import VideoPlane
from av.video.reformatter import VideoReformatter

from kedirivms.errors import DecodeError, InvalidArgument

if TYPE_CHECKING:
    from av.video.frame import VideoFrame

__all__ = ["Frame"]

Roi = tuple[int, int, int, int]
_DEFAULT_TB = Fraction(1, 90000)


_Layout = tuple[tuple[int, int, np.dtype[Any], bool], ...]
_layouts: dict[str, _Layout] = {}


def _plane_layout(frame: VideoFrame, name: str | None = None) -> _Layout:
    """Per plane: (channels, bytes per sample, dtype, packed); cached per pixel format (hot path)."""
    layout = _layouts.get(name) if name is not None else None
    if layout is not None:
        return layout
    fmt = frame.format
    layout = _layouts.get(fmt.name)
    if layout is not None:
        return layout
    per_plane: dict[int, list[int]] = {}
    for comp in fmt.components:
        per_plane.setdefault(comp.plane, []).append(comp.bits)
    endian = ">" if fmt.is_big_endian else "<"
    out = []
    for index in range(len(frame.planes)):
        bits = per_plane.get(index, [8])
        dtype = np.dtype(f"{endian}u2") if max(bits) > 8 else np.dtype(np.uint8)
        out.append((len(bits), dtype.itemsize, dtype, not fmt.is_planar))
    layout = _layouts[fmt.name] = tuple(out)
    return layout


def _reformat(frame: VideoFrame, **kwargs: Any) -> VideoFrame:
    """``frame.reformat(**kwargs)`` with a scaler of its own.

    PyAV caches one scaler on each frame and scales without the GIL: two threads converting one frame at once (two
    plugins of a camera get the same frame) shared it, and the process died. The caller also holds the frame's
    lock: PyAV sets the source frame's colour fields for the time of a conversion.
    """
    return VideoReformatter().reformat(frame, **kwargs)


def _view(frame: VideoFrame, index: int, name: str | None = None) -> np.ndarray:
    channels, itemsize, dtype, packed = _plane_layout(frame, name)[index]
    plane = VideoPlane(frame, index)  # cheaper than frame.planes[index], which builds every plane
    line_size = plane.line_size
    if line_size < 0:  # bottom-up pictures: not produced by FFmpeg video decoders
        raise DecodeError("negative line size is not supported for zero-copy views", operation="frame view")
    # A read-only memoryview makes the array read-only: the decoder may still reference this picture.
    # Chain that keeps the picture alive: array.base -> VideoPlane -> VideoFrame.
    buffer = memoryview(plane).toreadonly()
    height = plane.height
    if channels == 1 and line_size % itemsize == 0:
        # fast path (every planar YUV plane): rows of line_size bytes, then drop the stride padding
        rows = np.frombuffer(buffer, dtype, count=(line_size // itemsize) * height).reshape(height, -1)
        return rows[:, : plane.width] if rows.shape[1] != plane.width else rows
    # PyAV's plane.width counts samples of one component; packed planes (nv12 UV, rgb24) hold several.
    width = frame.width if packed and channels > 1 else plane.width
    if channels == 1:
        shape: tuple[int, ...] = (height, width)
        strides: tuple[int, ...] = (line_size, itemsize)
    else:
        shape = (height, width, channels)
        strides = (line_size, itemsize * channels, itemsize)
    arr: np.ndarray = np.ndarray(shape, dtype, buffer=buffer, strides=strides)
    return arr


def _without_luma(frame: VideoFrame) -> bool:
    """Whether the picture's first plane is not luma (RGB, packed or planar, or palette indices)."""
    fmt = frame.format
    return bool(fmt.is_rgb or fmt.has_palette)


class Frame:
    """One decoded picture with zero-copy views and explicit copies.

    Attributes:
        pts: presentation timestamp in ``time_base`` units (``None`` if the source gave none).
        time_base: the stream time base (seconds per pts unit).
        stream_time: ``pts * time_base`` in seconds (0.0 when unknown).
        time: wall-clock capture time, UTC epoch seconds (receipt time mapped through the stream clock).
        key_frame: True for a keyframe (IDR/I picture).
        width: picture width in pixels.
        height: picture height in pixels.
        format: pixel format name, e.g. ``"yuv420p"``, ``"yuvj420p"``, ``"nv12"``, ``"yuv420p10le"``.
        index: sequence number of this frame in its stream (counts decoded frames, across reconnects).

    Example:
        >>> grey = frame.y            # (H, W) uint8, read-only, no copy
        >>> rgb = frame.to_rgb(roi=(0, 0, 64, 64))   # (64, 64, 3) uint8 copy
    """

    __slots__ = (
        "_av",
        "_y",
        "_planes",
        "_lock",
        "pts",
        "time_base",
        "stream_time",
        "time",
        "key_frame",
        "width",
        "height",
        "format",
        "index",
    )

    def __init__(
        self,
        av_frame: VideoFrame,
        *,
        time: float,
        index: int = 0,
        time_base: Fraction | None = None,
        stream_time: float | None = None,
    ) -> None:
        self._av = av_frame
        self._lock = threading.RLock()  # conversions of this picture, one at a time (see _reformat)
        self._y: np.ndarray | None = None
        self._planes: tuple[np.ndarray, ...] | None = None
        self.pts: int | None = av_frame.pts
        if time_base is None:
            time_base = av_frame.time_base or _DEFAULT_TB
        self.time_base: Fraction = time_base
        if stream_time is None:
            stream_time = self.pts * float(time_base) if self.pts is not None else 0.0
        self.stream_time: float = stream_time
        self.time = time
        self.key_frame: bool = bool(av_frame.key_frame)
        self.width: int = av_frame.width
        self.height: int = av_frame.height
        self.format: str = av_frame.format.name
        self.index = index

    # -- views (free) ---------------------------------------------------------------------------------------
    @property
    def y(self) -> np.ndarray:
        """Luma as a read-only ``(height, width)`` array; uint8, uint16 for > 8 bits.

        A view of the luma plane, no copy, for YUV and grey pictures (every camera stream). A picture without a luma
        plane (packed or planar RGB, a palette: GIF, PNG) is converted to 8-bit grey once (a copy).
        """
        if self._y is None:
            if _without_luma(self._av):
                with self._lock:
                    grey = _reformat(self._av, format="gray").to_ndarray()
                grey.flags.writeable = False
                self._y = grey
            else:
                self._y = _view(self._av, 0, self.format)
        return self._y

    @property
    def planes(self) -> tuple[np.ndarray, ...]:
        """Read-only views of every plane, stride-aware, no copy.

        yuv420p/yuvj420p: ``Y (H, W)``, ``U (H/2, W/2)``, ``V (H/2, W/2)``; nv12: ``Y``, ``UV (H/2, W/2, 2)``;
        yuv422p: chroma ``(H, W/2)``; 10-bit formats give uint16 samples; packed RGB gives ``(H, W, 3)``.
        """
        if self._planes is None:
            views = [_view(self._av, 0, self.format) if _without_luma(self._av) else self.y]
            count = len(_plane_layout(self._av, self.format))
            views.extend(_view(self._av, i, self.format) for i in range(1, count))
            self._planes = tuple(views)
        return self._planes

    @property
    def av_frame(self) -> VideoFrame:
        """The underlying :class:`av.VideoFrame` (shared, do not modify its planes)."""
        return self._av

    # -- copies (cost named) --------------------------------------------------------------------------------
    def to_rgb(self, roi: Roi | None = None, *, size: tuple[int, int] | None = None) -> np.ndarray:
        """Convert to RGB, only the region asked, optionally scaled in the same pass.

        Args:
            roi: ``(x, y, width, height)`` in pixels, or ``None`` for the whole picture.
            size: ``(width, height)`` of the result: the whole picture is scaled and converted in one
                swscale pass (cheaper than converting at full size, e.g. for a detector's input); not
                combined with ``roi``.

        Returns:
            A new ``(height, width, 3)`` uint8 array (a copy, writeable).

        Raises:
            InvalidArgument: the region is empty or outside the picture, the size is not positive, or both
                ``roi`` and ``size`` were given.
        """
        return self._convert("rgb24", roi, size)

    def to_bgr(self, roi: Roi | None = None, *, size: tuple[int, int] | None = None) -> np.ndarray:
        """Like :meth:`to_rgb` with channels in OpenCV's BGR order."""
        return self._convert("bgr24", roi, size)

    def copy(self) -> Frame:
        """Return a deep copy that owns its pixels (safe to keep; the decoder buffer is released)."""
        src = self._av
        dst = av.VideoFrame(src.width, src.height, src.format.name)
        for i, view in enumerate(self.planes):
            target = _writable_view(dst, i)
            target[...] = view
        _copy_props(src, dst)
        out = Frame(dst, time=self.time, index=self.index)
        out.key_frame = self.key_frame
        return out

    def save(self, path: str | os.PathLike[str], *, quality: int = 90) -> None:
        """Write the picture as PNG or JPEG, chosen by the file suffix.

        Raises:
            InvalidArgument: unknown suffix.
        """
        from PIL import Image

        suffix = os.fspath(path).lower().rsplit(".", 1)[-1]
        kinds = {"png": "PNG", "jpg": "JPEG", "jpeg": "JPEG"}
        if suffix not in kinds:
            raise InvalidArgument(
                f"cannot save a frame as {suffix!r}", operation="save frame", hint="use .png, .jpg or .jpeg"
            )
        image = Image.fromarray(self.to_rgb())
        if kinds[suffix] == "JPEG":
            image.save(path, "JPEG", quality=quality)
        else:
            image.save(path, "PNG")

    def _convert(self, fmt: str, roi: Roi | None, size: tuple[int, int] | None = None) -> np.ndarray:
        with self._lock:
            return self._convert_locked(fmt, roi, size)

    def _convert_locked(self, fmt: str, roi: Roi | None, size: tuple[int, int] | None) -> np.ndarray:
        src = self._av
        if size is not None:
            w, h = (int(v) for v in size)
            if roi is not None or w <= 0 or h <= 0:
                raise InvalidArgument(
                    f"cannot scale to {size} with roi {roi}",
                    operation="frame conversion",
                    hint="size is (width, height) > 0 and applies to the whole picture",
                )
            return _reformat(src, width=w, height=h, format=fmt, interpolation="AREA", threads=1).to_ndarray()
        if roi is None:
            return _reformat(src, format=fmt, threads=1).to_ndarray()
        x, y, w, h = (int(v) for v in roi)
        if w <= 0 or h <= 0 or x < 0 or y < 0 or x + w > self.width or y + h > self.height:
            raise InvalidArgument(
                f"roi {roi} is outside the {self.width}x{self.height} picture",
                operation="frame conversion",
                hint="roi is (x, y, width, height) in pixels",
            )
        # Crop on the chroma grid so every plane crops at a whole sample, then trim the converted result.
        fmt_src = src.format
        cw = 1 << _log2_sub(fmt_src, "w")
        ch = 1 << _log2_sub(fmt_src, "h")
        x0, y0 = x - x % cw, y - y % ch
        x1 = min(self.width, -(-(x + w) // cw) * cw)
        y1 = min(self.height, -(-(y + h) // ch) * ch)
        crop = av.VideoFrame(x1 - x0, y1 - y0, fmt_src.name)
        for i, view in enumerate(self.planes):
            sx = view.shape[1] / self.width
            sy = view.shape[0] / self.height
            target = _writable_view(crop, i)
            px0, py0 = round(x0 * sx), round(y0 * sy)
            target[...] = view[py0 : py0 + target.shape[0], px0 : px0 + target.shape[1]]
        _copy_props(src, crop)
        rgb = _reformat(crop, format=fmt, threads=1).to_ndarray()
        return np.ascontiguousarray(rgb[y - y0 : y - y0 + h, x - x0 : x - x0 + w])

    def __repr__(self) -> str:
        kind = "key" if self.key_frame else "delta"
        return (
            f"<kedirivms.Frame #{self.index} {self.width}x{self.height} {self.format} {kind} "
            f"pts={self.pts} t={self.stream_time:.3f}s>"
        )


def _log2_sub(fmt: Any, axis: str) -> int:
    # chroma_width()/chroma_height() exist on VideoFormat; derive log2 subsampling from a 1024 px reference
    if len(fmt.components) < 2:
        return 0
    full = 1024
    size = fmt.chroma_width(full) if axis == "w" else fmt.chroma_height(full)
    return max(0, (full // max(size, 1)).bit_length() - 1)


def _writable_view(frame: VideoFrame, index: int) -> np.ndarray:
    """A writable view of a frame we own (copies and crops only, never a decoded picture)."""
    view = _view(frame, index)
    buffer = memoryview(VideoPlane(frame, index))
    out: np.ndarray = np.ndarray(view.shape, view.dtype, buffer=buffer, strides=view.strides)
    return out


def _copy_props(src: VideoFrame, dst: VideoFrame) -> None:
    dst.pts = src.pts
    if src.time_base is not None:  # a picture made from an array has none (PyAV refuses to set None)
        dst.time_base = src.time_base
    for name in ("color_range", "colorspace"):
        with contextlib.suppress(AttributeError, ValueError):  # older PyAV: read-only properties
            setattr(dst, name, getattr(src, name))
