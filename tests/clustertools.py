"""Cluster test helpers (most are shared with the benchmarks and the demo, so they live in the library)."""

from __future__ import annotations

from kedirivms.cluster._harness import WorkerProc, lease_intervals, overlaps, wait_for, write_fleet
from kedirivms.sim import EncoderSpec, VirtualCameraConfig, VirtualFleet

__all__ = ["WorkerProc", "lease_intervals", "overlaps", "small_fleet", "wait_for", "write_fleet"]


def small_fleet(n: int, password: str) -> VirtualFleet:
    """``n`` virtual cameras with RTSP, 320x240 @ 5 fps on both profiles (use as a context manager)."""
    small = EncoderSpec(width=320, height=240, fps=5, bitrate_kbps=128, gop=5)
    return VirtualFleet.start(n, base=VirtualCameraConfig(password=password, main=small, sub=small), rtsp=True)
