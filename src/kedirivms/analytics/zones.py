"""Zones: named polygons in normalised image coordinates, with masks, point tests and a PNG preview.

A zone is drawn once by the command centre on a snapshot and holds at any stream resolution because its
vertices are fractions of the picture (``x`` of the width, ``y`` of the height, origin top-left). Three kinds
matter to the queue plugin:

* ``queue``: the floor where people wait in line;
* ``service``: the customer side of the counter; reaching it ends a wait;
* ``counter``: the staff side of the counter, where the clerk must be (``counter_unstaffed`` watches it).

Rasterising and point-in-polygon tests are supervision's (:func:`supervision.polygon_to_mask`,
:class:`supervision.PolygonZone`); drawing is OpenCV's.
"""

from __future__ import annotations

import functools
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any, Literal

import numpy as np
from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from kedirivms.errors import ConfigError, InvalidArgument

__all__ = ["Zone", "ZoneKind", "Zones", "draw_zones", "save_zone_preview"]

ZoneKind = Literal["queue", "service", "counter", "other"]
"""What a zone is for: ``queue`` line, ``service`` (customer side of the desk), ``counter`` (staff side)."""

# RGB colours per kind for previews.
_COLOURS: dict[str, tuple[int, int, int]] = {
    "queue": (255, 170, 0),
    "service": (0, 200, 255),
    "counter": (60, 220, 60),
    "other": (220, 0, 220),
}


class Zone(BaseModel):
    """A named polygon in normalised coordinates.

    Attributes:
        name: unique name on the camera (appears in events' ``zone``).
        kind: what the zone is for.
        points: at least three ``(x, y)`` vertices, each in ``[0, 1]`` (fractions of width and height).

    Example:
        >>> z = Zone(name="line", kind="queue", points=[(0.1, 0.5), (0.5, 0.5), (0.5, 0.9), (0.1, 0.9)])
        >>> z.contains([(32, 140)], (320, 180)).tolist()
        [True]
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str = Field(min_length=1, max_length=64, description="Unique zone name on the camera.")
    kind: ZoneKind = Field(default="other", description="queue, service, counter or other.")
    points: tuple[tuple[float, float], ...] = Field(
        min_length=3, description="Polygon vertices as (x, y) fractions of width and height, in [0, 1]."
    )

    @field_validator("points")
    @classmethod
    def _in_unit_square(cls, value: tuple[tuple[float, float], ...]) -> tuple[tuple[float, float], ...]:
        for x, y in value:
            if not (0.0 <= x <= 1.0 and 0.0 <= y <= 1.0):
                raise ValueError(f"zone vertices are fractions of the picture in [0, 1], got ({x}, {y})")
        if _area(np.asarray(value, dtype=np.float64)) <= 1e-9:
            raise ValueError("zone polygon has no area (are all vertices on one line?)")
        return value

    def to_pixels(self, resolution_wh: tuple[int, int]) -> np.ndarray:
        """The vertices in pixels.

        Args:
            resolution_wh: picture ``(width, height)`` in pixels.

        Returns:
            A new ``(N, 2)`` int32 array of pixel coordinates (clamped to the picture).
        """
        return _pixels(self.points, _check_resolution(resolution_wh))

    def mask(self, resolution_wh: tuple[int, int]) -> np.ndarray:
        """The zone rasterised at a resolution.

        Args:
            resolution_wh: picture ``(width, height)`` in pixels.

        Returns:
            A new ``(H, W)`` bool array, True inside the polygon.
        """
        return _raster(self.points, _check_resolution(resolution_wh)).copy()

    def polygon_zone(self, resolution_wh: tuple[int, int], anchor: Any = None) -> Any:
        """A :class:`supervision.PolygonZone` for this zone at a resolution (tests detections by an anchor).

        Args:
            resolution_wh: picture ``(width, height)`` in pixels.
            anchor: the box point that must lie inside (``CENTER`` suits top-down views, ``BOTTOM_CENTER``
                oblique ones where the feet mark the floor position).

        Returns:
            A new ``supervision.PolygonZone``. A side drawn on the picture's edge lies on it (``x = width`` or
            ``y = height``, where a box reaching that edge ends), so a person cut by the edge is in the zone.
        """
        import supervision as sv

        wh = _check_resolution(resolution_wh)
        polygon = _pixels(self.points, wh, edge=True)
        return sv.PolygonZone(polygon=polygon, triggering_anchors=(anchor or sv.Position.CENTER,))

    def contains(self, points_px: Sequence[Sequence[float]] | np.ndarray, resolution_wh: tuple[int, int]) -> np.ndarray:
        """Which pixel points lie inside the zone.

        Args:
            points_px: ``(N, 2)`` pixel coordinates ``(x, y)``.
            resolution_wh: picture ``(width, height)`` the points refer to.

        Returns:
            A new ``(N,)`` bool array (points outside the picture are outside the zone; the polygon's edge pixels
            are inside, and so is a point on the picture's far edge, ``x = width`` or ``y = height``, where the zone
            reaches it).
        """
        return _lookup(_raster(self.points, _check_resolution(resolution_wh)), points_px)


@functools.lru_cache(maxsize=32)
def _raster(points: tuple[tuple[float, float], ...], wh: tuple[int, int]) -> np.ndarray:
    """The polygon rasterised at ``wh`` (read-only, shared: point tests run per detection on every camera)."""
    import supervision as sv

    mask = sv.polygon_to_mask(_pixels(points, wh), resolution_wh=wh).astype(bool)
    mask.flags.writeable = False
    return mask


def _pixels(points: tuple[tuple[float, float], ...], wh: tuple[int, int], *, edge: bool = False) -> np.ndarray:
    """Vertices in pixels: in the last pixel row and column, or with ``edge`` on the picture's far edge."""
    w, h = wh
    last = 0 if edge else 1
    pts = np.round(np.asarray(points, dtype=np.float64) * np.array([w, h], dtype=np.float64))
    pts[:, 0] = np.clip(pts[:, 0], 0, w - last)
    pts[:, 1] = np.clip(pts[:, 1], 0, h - last)
    return pts.astype(np.int32)


def _area(pts: np.ndarray) -> float:
    x, y = pts[:, 0], pts[:, 1]
    return 0.5 * abs(float(np.dot(x, np.roll(y, -1)) - np.dot(y, np.roll(x, -1))))


def _check_resolution(resolution_wh: tuple[int, int]) -> tuple[int, int]:
    w, h = int(resolution_wh[0]), int(resolution_wh[1])
    if w < 2 or h < 2:
        raise InvalidArgument(f"resolution must be at least 2x2 pixels, got {w}x{h}", operation="zone")
    return w, h


def _lookup(mask: np.ndarray, points_px: Sequence[Sequence[float]] | np.ndarray) -> np.ndarray:
    pts = np.asarray(points_px, dtype=np.float64).reshape(-1, 2)
    h, w = mask.shape
    # a point on the picture's far edge (a box reaching it ends there) is in the last pixel
    xi = np.where(pts[:, 0] == w, w - 1, np.floor(pts[:, 0])).astype(np.int64)
    yi = np.where(pts[:, 1] == h, h - 1, np.floor(pts[:, 1])).astype(np.int64)
    inside = (xi >= 0) & (xi < w) & (yi >= 0) & (yi < h)
    out = np.zeros(len(pts), dtype=bool)
    out[inside] = mask[yi[inside], xi[inside]]
    return out


class Zones(BaseModel):
    """The zones of one camera.

    Attributes:
        zones: the polygons; names are unique.

    Example:
        >>> zones = Zones(zones=[Zone(name="line", kind="queue", points=[(0, 0), (1, 0), (1, 1)])])
        >>> zones.first("queue").name
        'line'
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    zones: tuple[Zone, ...] = Field(default=(), description="Zone polygons of the camera; unique names.")

    @model_validator(mode="after")
    def _unique_names(self) -> Zones:
        names = [z.name for z in self.zones]
        dupes = sorted({n for n in names if names.count(n) > 1})
        if dupes:
            raise ValueError(f"zone names must be unique per camera, repeated: {', '.join(dupes)}")
        return self

    def of_kind(self, kind: ZoneKind) -> list[Zone]:
        """All zones of a kind, in declaration order."""
        return [z for z in self.zones if z.kind == kind]

    def first(self, kind: ZoneKind) -> Zone:
        """The first zone of a kind.

        Raises:
            ConfigError: no zone of that kind is defined (the message lists the kinds present).
        """
        for zone in self.zones:
            if zone.kind == kind:
                return zone
        present = ", ".join(sorted({z.kind for z in self.zones})) or "none"
        raise ConfigError(
            f"no {kind!r} zone defined (kinds present: {present})",
            operation="zones",
            hint=f"add a zone with kind: {kind}",
        )


def _snapshot_rgb(snapshot: Any) -> np.ndarray:
    """A writable RGB uint8 copy of a Frame (its luma), a grey (H, W) or an RGB (H, W, 3) array."""
    import cv2  # imported on use: OpenCV's loader edits LD_LIBRARY_PATH at import

    if hasattr(snapshot, "y") and not isinstance(snapshot, np.ndarray):
        snapshot = snapshot.y
    arr = np.asarray(snapshot)
    if arr.dtype != np.uint8:
        raise InvalidArgument(f"snapshot must be uint8, got {arr.dtype}", operation="zone preview")
    if arr.ndim == 2:
        return cv2.cvtColor(arr, cv2.COLOR_GRAY2RGB)  # new array; the source view is only read
    if arr.ndim == 3 and arr.shape[2] == 3:
        return arr.copy()
    raise InvalidArgument(
        f"snapshot must be a Frame, an (H, W) grey or an (H, W, 3) RGB array, got shape {arr.shape}",
        operation="zone preview",
    )


def draw_zones(snapshot: Any, zones: Zones | Iterable[Zone], *, alpha: float = 0.3, labels: bool = True) -> np.ndarray:
    """Draw zones over a snapshot.

    Args:
        snapshot: a :class:`kedirivms.stream.Frame` (its luma is used), an ``(H, W)`` uint8 grey array or an
            ``(H, W, 3)`` uint8 RGB array. It is never written to.
        zones: the zones to draw (a :class:`Zones` or any iterable of :class:`Zone`).
        alpha: fill opacity in ``[0, 1]``.
        labels: write ``name (kind)`` at each zone's first vertex.

    Returns:
        A new ``(H, W, 3)`` uint8 RGB image.

    Example:
        >>> rgb = draw_zones(np.zeros((90, 160), np.uint8), [Zone(name="a", points=[(0, 0), (1, 0), (1, 1)])])
        >>> rgb.shape
        (90, 160, 3)
    """
    import cv2  # imported on use: OpenCV's loader edits LD_LIBRARY_PATH at import

    canvas = _snapshot_rgb(snapshot)
    if isinstance(zones, Zones):
        zones = zones.zones
    h, w = canvas.shape[:2]
    fill = canvas.copy()
    thickness = max(1, round(min(w, h) / 240))
    outlines = []
    for zone in zones:
        pts = zone.to_pixels((w, h))
        colour = _COLOURS[zone.kind]
        cv2.fillPoly(fill, [pts], colour)
        outlines.append((zone, pts, colour))
    canvas = cv2.addWeighted(fill, float(alpha), canvas, 1.0 - float(alpha), 0.0)
    scale = max(0.35, min(w, h) / 720)
    for zone, pts, colour in outlines:
        cv2.polylines(canvas, [pts], isClosed=True, color=colour, thickness=thickness, lineType=cv2.LINE_AA)
        if labels:
            x, y = int(pts[:, 0].min()), int(pts[:, 1].min())
            org = (x + 3, max(y + int(14 * scale / 0.5), 12))
            text = zone.name if zone.name == zone.kind else f"{zone.name} ({zone.kind})"
            cv2.putText(canvas, text, org, cv2.FONT_HERSHEY_SIMPLEX, scale, (0, 0, 0), thickness + 2, cv2.LINE_AA)
            cv2.putText(canvas, text, org, cv2.FONT_HERSHEY_SIMPLEX, scale, colour, thickness, cv2.LINE_AA)
    return canvas


def save_zone_preview(snapshot: Any, zones: Zones | Iterable[Zone], path: str | Path, **kwargs: Any) -> Path:
    """Draw zones over a snapshot and write a PNG.

    Args:
        snapshot: as for :func:`draw_zones`.
        zones: the zones to draw.
        path: the PNG file to write (parent folders must exist).
        **kwargs: passed to :func:`draw_zones`.

    Returns:
        The path written.

    Raises:
        InvalidArgument: bad snapshot, or the file could not be written (the message names it).
    """
    import cv2  # imported on use: OpenCV's loader edits LD_LIBRARY_PATH at import

    out = Path(path)
    rgb = draw_zones(snapshot, zones, **kwargs)
    ok = cv2.imwrite(str(out), cv2.cvtColor(rgb, cv2.COLOR_RGB2BGR))
    if not ok:
        raise InvalidArgument(
            f"could not write PNG {out}", operation="zone preview", hint="check the folder exists and ends in .png"
        )
    return out
