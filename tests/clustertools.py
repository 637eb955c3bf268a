"""Cluster test helpers (shared with the benchmarks and the demo, so they live in the library)."""

from kedirivms.cluster._harness import WorkerProc, lease_intervals, overlaps, wait_for, write_fleet

__all__ = ["WorkerProc", "lease_intervals", "overlaps", "wait_for", "write_fleet"]
