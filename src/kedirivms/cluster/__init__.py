"""Scale-out on NATS JetStream: workers lease cameras from a key-value bucket and run their pipelines; events go
through JetStream streams (leaf nodes at district edges, sourced by the hub) to the command centre's store.

See docs/scale-out.md. Needs the ``cluster`` extra: ``pip install 'kedirivms[cluster]'``.
"""

from __future__ import annotations

from kedirivms._exports import claim
from kedirivms.cluster.assignment import Member, assign, rank
from kedirivms.cluster.centre import CameraView, Centre, CentreStore, FleetView, WorkerView
from kedirivms.cluster.events import CENTRE_STREAM, EVENTS_STREAM, JetStreamSink, event_subject
from kedirivms.cluster.worker import LEASE_BUCKET, MEMBER_BUCKET, Worker, WorkerConfig, WorkerStatus

__all__ = [
    "CENTRE_STREAM",
    "EVENTS_STREAM",
    "LEASE_BUCKET",
    "MEMBER_BUCKET",
    "CameraView",
    "Centre",
    "CentreStore",
    "FleetView",
    "JetStreamSink",
    "Member",
    "Worker",
    "WorkerConfig",
    "WorkerStatus",
    "WorkerView",
    "assign",
    "event_subject",
    "rank",
]

claim(globals(), [n for n in __all__ if not n.isupper()])
