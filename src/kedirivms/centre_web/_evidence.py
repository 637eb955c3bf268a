"""The page's evidence: clips around alerts, cut from recordings through the cluster (or this host's own root),
kept in a small temporary folder and served to the page's ``<video>``."""

from __future__ import annotations

import contextlib
import secrets
import shutil
import tempfile
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from kedirivms.cluster.evidence import EvidenceClip, EvidenceFetcher, check_range, cut_clip
from kedirivms.errors import InvalidArgument
from kedirivms.record import SegmentIndex

__all__ = ["Evidence", "cluster_evidence", "local_evidence"]

PRE_S = 15.0
"""Seconds of recording shown before an alert starts."""
POST_S = 15.0
"""Seconds shown after it cleared."""

Cut = Callable[[str, str, float, float, Path], EvidenceClip]


class Evidence:
    """Clips for the page: ``clip(site, camera, start, end)`` cuts (or reuses) one, ``path(id)`` serves it.

    Args:
        cut: writes the clip of (site, camera, start, end) to a path (a cluster fetch or a local cut).
        max_clips: clips kept at once (the oldest goes first).
        keep: seconds a clip is reused for the same range.
        on_close: called by :meth:`close` (to release what ``cut`` holds).
    """

    def __init__(
        self, cut: Cut, *, max_clips: int = 16, keep: float = 600.0, on_close: Callable[[], None] | None = None
    ) -> None:
        self._cut = cut
        self._on_close = on_close
        self.max_clips = max_clips
        self.keep = keep
        self._dir = Path(tempfile.mkdtemp(prefix="kedirivms-clips-"))
        self._lock = threading.Lock()
        self._fetching = threading.Semaphore(2)  # at most two cuts at once: the rest wait
        self._by_key: dict[tuple[str, str, float, float], tuple[str, EvidenceClip, float]] = {}
        self._files: dict[str, Path] = {}

    def clip(self, site: str, camera: str, start: float, end: float) -> tuple[str | None, EvidenceClip]:
        """(clip id or None when nothing was recorded, the clip) of ``camera`` over ``[start, end]``.

        Raises:
            InvalidArgument: an empty or too long range.
            ClusterError: the cluster failed to deliver it (ClusterTimeout: in time).
            StorageError: the local cut failed.
        """
        check_range(start, end)
        key = (site, camera, round(start, 1), round(end, 1))
        with self._fetching:
            with self._lock:
                hit = self._by_key.get(key)
                if hit is not None and time.monotonic() - hit[2] < self.keep:
                    return (hit[0] if hit[1].path is not None else None), hit[1]
            ident = secrets.token_urlsafe(12)
            path = self._dir / f"{ident}.mp4"
            clip = self._cut(site, camera, start, end, path)
            with self._lock:
                self._by_key[key] = (ident, clip, time.monotonic())
                if clip.path is not None:
                    self._files[ident] = clip.path
                self._evict()
        return (ident if clip.path is not None else None), clip

    def _evict(self) -> None:
        now = time.monotonic()
        for key, (ident, _, made) in sorted(self._by_key.items(), key=lambda kv: kv[1][2]):
            if now - made > self.keep or len(self._by_key) > self.max_clips:
                del self._by_key[key]
                path = self._files.pop(ident, None)
                if path is not None:
                    path.unlink(missing_ok=True)

    def path(self, ident: str) -> Path | None:
        """The file of a clip id handed out by :meth:`clip` (None: unknown or evicted)."""
        with self._lock:
            return self._files.get(ident)

    def close(self) -> None:
        """Remove every clip."""
        with self._lock:
            self._by_key.clear()
            self._files.clear()
        shutil.rmtree(self._dir, ignore_errors=True)
        if self._on_close is not None:
            self._on_close()


def cluster_evidence(link: Any, **kwargs: Any) -> Evidence:
    """Clips fetched from the workers through the centre's NATS link (:class:`EvidenceFetcher`)."""
    fetcher = EvidenceFetcher(link, **kwargs)
    return Evidence(fetcher.fetch)


def local_evidence(root: str | Path) -> Evidence:
    """Clips cut from this host's recording root (``kedirivms run --http``)."""
    lock = threading.Lock()
    opened: list[SegmentIndex] = []

    def cut(site: str, camera: str, start: float, end: float, path: Path) -> EvidenceClip:
        with lock:
            if not opened:
                opened.append(SegmentIndex(root))
        clip = cut_clip(opened[0], camera, start, end, path)
        clip.worker = "local"
        return clip

    def close() -> None:
        with lock:
            for ix in opened:
                with contextlib.suppress(Exception):
                    ix.close()
            opened.clear()

    return Evidence(cut, on_close=close)


def alert_window(since: float, until: float | None, now: float, max_range: float) -> tuple[float, float]:
    """The range shown for an alert: ``PRE_S`` before it started to ``POST_S`` after it cleared (or now), at most
    ``max_range`` long (a very long alert shows its start)."""
    start = since - PRE_S
    end = (until + POST_S) if until is not None else now
    end = min(max(end, since + 1.0), start + max_range)
    if end <= start:
        raise InvalidArgument("the alert's range is empty")
    return start, end
