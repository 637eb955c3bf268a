"""File layout under the recording root, and fragmented-MP4 box checks used to recover crashed segments."""

from __future__ import annotations

import datetime as dt
import os
import re
import struct
from collections.abc import Collection
from pathlib import Path

from kedirivms.errors import InvalidArgument

INDEX_NAME = "index.sqlite3"
QUARANTINE = ".quarantine"
_SAFE = re.compile(r"[^A-Za-z0-9._-]+")
_SEG = re.compile(r"^(\d{4}-\d{2}-\d{2})/(\d{2})/(\d{2})\.(\d{2})(?:-(\d+))?\.mp4$")


def camera_dir_name(camera: str) -> str:
    """A file-system-safe folder name for ``camera`` (``[A-Za-z0-9._-]``, others become ``_``).

    Raises:
        InvalidArgument: the name is empty or only dots.
    """
    name = _SAFE.sub("_", camera.strip()).strip("_")
    if not name or set(name) <= {"."}:
        raise InvalidArgument(f"camera name {camera!r} cannot be a folder name", hint="use letters and digits")
    return name


def utc(value: dt.datetime | float) -> dt.datetime:
    """A timezone-aware UTC datetime from an epoch float or a datetime (naive datetimes are taken as UTC)."""
    if isinstance(value, int | float):
        return dt.datetime.fromtimestamp(value, dt.UTC)
    if value.tzinfo is None:
        return value.replace(tzinfo=dt.UTC)
    return value.astimezone(dt.UTC)


def segment_relpath(camera: str, start: float, taken: set[str] | None = None) -> str:
    """``<camera>/<YYYY-MM-DD>/<HH>/<MM.SS>.mp4`` for a segment starting at epoch ``start`` (UTC).

    Two segments starting within the same second (a quick reconnect) get ``-1``, ``-2``... suffixes.
    """
    t = utc(start)
    base = f"{camera}/{t:%Y-%m-%d}/{t:%H}/{t:%M.%S}"
    rel = f"{base}.mp4"
    n = 0
    while taken is not None and rel in taken:
        n += 1
        rel = f"{base}-{n}.mp4"
    return rel


def start_from_relpath(rel: str) -> float | None:
    """Epoch start second encoded in a segment's relative path (None if it does not follow the layout)."""
    parts = rel.split("/", 1)
    if len(parts) != 2:
        return None
    m = _SEG.match(parts[1])
    if not m:
        return None
    day, hour, minute, second = m.group(1), m.group(2), m.group(3), m.group(4)
    try:
        t = dt.datetime.strptime(f"{day} {hour}:{minute}:{second}", "%Y-%m-%d %H:%M:%S").replace(tzinfo=dt.UTC)
    except ValueError:
        return None
    return t.timestamp()


def iter_segment_files(root: Path, cameras: Collection[str] | None = None) -> list[str]:
    """Relative paths of every ``.mp4`` under ``root`` laid out as segments (quarantine excluded).

    Args:
        root: the recording root.
        cameras: only these camera folders (default: all).
    """
    out: list[str] = []
    if not root.is_dir():
        return out
    for cam in sorted(os.listdir(root)):
        cam_dir = root / cam
        if cam.startswith(".") or not cam_dir.is_dir() or (cameras is not None and cam not in cameras):
            continue
        for dirpath, _dirs, files in os.walk(cam_dir):
            for name in files:
                if name.endswith(".mp4"):
                    rel = os.path.relpath(os.path.join(dirpath, name), root).replace(os.sep, "/")
                    if start_from_relpath(rel) is not None:
                        out.append(rel)
    return sorted(out)


def complete_length(path: Path) -> tuple[int, int]:
    """Scan top-level MP4 boxes; return (bytes up to the last whole fragment, number of whole fragments).

    A fragmented MP4 is ``ftyp moov (moof mdat)*``; a crash leaves a cut ``moof`` or ``mdat`` at the end. The
    returned length ends after the last complete ``mdat`` (or after ``moov`` when no fragment is whole).
    """
    size = path.stat().st_size
    good = 0
    fragments = 0
    seen_moov = False
    pos = 0
    with path.open("rb") as f:
        while pos + 8 <= size:
            f.seek(pos)
            head = f.read(16)
            box_size, box_type = struct.unpack(">I4s", head[:8])
            if box_size == 1 and len(head) >= 16:
                box_size = struct.unpack(">Q", head[8:16])[0]
            elif box_size == 0:
                box_size = size - pos
            if box_size < 8 or pos + box_size > size:
                break
            pos += box_size
            if box_type == b"moov":
                seen_moov = True
                good = pos
            elif box_type == b"mdat" and seen_moov:
                fragments += 1
                good = pos
            elif box_type in (b"ftyp", b"moof", b"free", b"styp", b"sidx"):
                continue
            elif box_type == b"mfra" and seen_moov:
                good = pos
    return (good if seen_moov else 0), fragments


def move_to_quarantine(root: Path, rel: str) -> str:
    """Move a segment under ``<root>/.quarantine/`` keeping its layout; returns the new relative path."""
    target = root / QUARANTINE / rel
    target.parent.mkdir(parents=True, exist_ok=True)
    n = 0
    while target.exists():
        n += 1
        target = target.with_name(f"{target.stem}.{n}{target.suffix}")
    os.replace(root / rel, target)
    return os.path.relpath(target, root).replace(os.sep, "/")


def remove_empty_dirs(root: Path, rel: str) -> None:
    """Remove the hour and day folders of ``rel`` if they became empty (never the camera folder)."""
    parent = (root / rel).parent
    for _ in range(2):
        try:
            parent.rmdir()
        except OSError:
            return
        parent = parent.parent
