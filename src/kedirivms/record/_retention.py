"""Retention: delete the oldest segments by age per camera, by total bytes, and to keep a free-disk floor."""

from __future__ import annotations

import collections
import os
import shutil
import time
from pathlib import Path

from kedirivms.errors import StorageError
from kedirivms.record._index import SegmentIndex
from kedirivms.record._layout import remove_empty_dirs
from kedirivms.record._models import RetentionPolicy, RetentionReport, Segment, SegmentStatus

__all__ = ["apply_retention"]

_DONE = (SegmentStatus.COMPLETE, SegmentStatus.RECOVERED)
_BATCH = 200


def apply_retention(
    index: SegmentIndex | str | os.PathLike[str], policy: RetentionPolicy, *, now: float | None = None
) -> RetentionReport:
    """Delete segments the policy no longer keeps, oldest first; returns what was deleted.

    Only closed segments (``complete`` or ``recovered``) are candidates: the segment being written is never
    deleted. Rules apply in order: age (per camera, then the default), total bytes, free-disk floor.

    Args:
        index: a :class:`SegmentIndex` or a recording root.
        policy: the :class:`RetentionPolicy`.
        now: epoch seconds to age against (default: the current time).

    Returns:
        A :class:`RetentionReport`.

    Raises:
        StorageError: a file could not be deleted or the index could not be updated.

    Example:
        >>> apply_retention("/srv/rec", RetentionPolicy(max_age="30d", max_bytes="500G"))
    """
    own = not isinstance(index, SegmentIndex)
    ix = SegmentIndex(index) if not isinstance(index, SegmentIndex) else index
    try:
        return _apply(ix, policy, time.time() if now is None else now)
    finally:
        if own:
            ix.close()


def _apply(ix: SegmentIndex, policy: RetentionPolicy, now: float) -> RetentionReport:
    # queries stay small on a large index: age rules select by end time, size rules walk the oldest in batches
    deleted: list[Segment] = []
    reasons: collections.Counter[str] = collections.Counter()

    def delete(seg: Segment, reason: str) -> None:
        _delete(ix, seg)
        deleted.append(seg)
        reasons[reason] += 1

    if policy.max_age is not None or policy.max_age_per_camera:
        for camera in ix.cameras():
            limit = policy.max_age_per_camera.get(camera, policy.max_age)
            if limit is not None:
                for seg in ix.segments(camera, statuses=_DONE, ended_before=now - limit):
                    delete(seg, "max_age")
    if policy.max_bytes is not None:
        total = ix.total_bytes()
        while total > policy.max_bytes:
            batch = ix.segments(statuses=_DONE, limit=_BATCH)
            if not batch:
                break
            for seg in batch:
                if total <= policy.max_bytes:
                    break
                delete(seg, "max_bytes")
                total -= seg.bytes
    if policy.min_free_bytes is not None:
        while shutil.disk_usage(ix.root).free < policy.min_free_bytes:
            batch = ix.segments(statuses=_DONE, limit=_BATCH)
            if not batch:
                break
            for seg in batch:
                if shutil.disk_usage(ix.root).free >= policy.min_free_bytes:
                    break
                delete(seg, "min_free_bytes")
    deleted.sort(key=lambda s: (s.start, s.path))
    return RetentionReport(
        deleted=deleted,
        freed_bytes=sum(s.bytes for s in deleted),
        kept_bytes=ix.total_bytes(),
        reasons=dict(reasons),
    )


def _delete(ix: SegmentIndex, seg: Segment) -> None:
    path: Path = ix.root / seg.path
    try:
        path.unlink(missing_ok=True)
    except OSError as exc:
        raise StorageError(
            f"cannot delete {seg.path}: {exc.strerror}",
            camera=seg.camera,
            operation="retention",
            hint="check the permissions of the recording root",
        ) from exc
    # file first, then the row: a crash in between leaves a row without a file, which reconcile removes
    ix.remove_segment(seg.path)
    remove_empty_dirs(ix.root, seg.path)
