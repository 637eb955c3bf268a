"""Which worker should run which camera: rendezvous (highest-random-weight) hashing under per-worker capacity and
site pins.

Every worker computes the same assignment from the same membership view, so no coordinator is needed; the
leases in the key-value bucket make it exclusive. With N workers and spare capacity, a joining worker takes about
1/(N+1) of the cameras and nothing else moves (only cameras whose top-ranked worker is the new one change).
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Mapping

from pydantic import BaseModel, ConfigDict, Field

__all__ = ["Member", "assign", "rank"]


class Member(BaseModel):
    """A live worker as it announces itself in the membership bucket."""

    model_config = ConfigDict(frozen=True, extra="ignore")

    id: str = Field(description="Worker id (`kedirivms worker --id`).")
    capacity: int = Field(ge=0, description="Cameras it takes at most.")
    sites: list[str] | None = Field(None, description="Sites it is restricted to (None: any site).")
    host: str = Field("", description="Host name, for status displays.")
    pid: int = Field(0, description="Process id, for status displays.")


def _weight(camera: str, worker: str) -> int:
    return int.from_bytes(hashlib.blake2b(f"{camera}\x00{worker}".encode(), digest_size=8).digest(), "big")


def rank(camera: str, workers: Iterable[str]) -> list[str]:
    """Workers in rendezvous order for ``camera`` (the first is its preferred worker)."""
    return sorted(workers, key=lambda w: (_weight(camera, w), w), reverse=True)


def assign(cameras: Mapping[str, tuple[str, list[str] | None]], members: Iterable[Member]) -> dict[str, str | None]:
    """Assign every camera to one live worker.

    Args:
        cameras: camera name -> (site id, the worker ids its site is pinned to, or None for any worker).
        members: the live workers.

    Returns:
        camera -> worker id, or None when no eligible worker has room (the camera waits).

    Example:
        >>> assign({"c1": ("kota", None)}, [Member(id="w1", capacity=8)])
        {'c1': 'w1'}
    """
    live = {m.id: m for m in members}
    room = {m.id: m.capacity for m in live.values()}
    out: dict[str, str | None] = {}
    # pinned cameras first: they have the fewest choices, so unpinned ones must not use up their workers' room
    for camera in sorted(cameras, key=lambda c: (cameras[c][1] is None, c)):
        site, pins = cameras[camera]
        eligible = [w for w, m in live.items() if (pins is None or w in pins) and (m.sites is None or site in m.sites)]
        out[camera] = None
        for worker in rank(camera, eligible):
            if room[worker] > 0:
                room[worker] -= 1
                out[camera] = worker
                break
    return out
