"""Events through JetStream: subjects ``kedirivms.<site>.<camera>.<kind>``, a ``Nats-Msg-Id`` per event (its id)
for de-duplication, and the stream names and limits shared by workers and the centre.

A worker publishes into the ``KEDIRIVMS_EVENTS`` stream of the JetStream domain it is connected to (a district's
leaf node, which keeps events through WAN cuts); the hub's ``KEDIRIVMS_CENTRE`` stream sources the hub's and every
leaf's ``KEDIRIVMS_EVENTS``; the centre reads ``KEDIRIVMS_CENTRE`` with a durable consumer.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable

from kedirivms.analytics import Event
from kedirivms.cluster._nats import NatsLink
from kedirivms.errors import ClusterError
from kedirivms.sinks import Sink

__all__ = ["CENTRE_STREAM", "EVENTS_STREAM", "FLEET_SITE", "JetStreamSink", "event_subject", "ensure_events_stream"]

log = logging.getLogger("kedirivms.cluster")

EVENTS_STREAM = "KEDIRIVMS_EVENTS"
"""The stream each JetStream domain (hub, every leaf) captures ``kedirivms.>`` into."""
CENTRE_STREAM = "KEDIRIVMS_CENTRE"
"""The hub stream that sources every domain's events stream; the centre consumes it."""
FLEET_SITE = "_fleet"
"""The site token of worker-level events: ``kedirivms._fleet.<worker>.worker_state``."""

_TOKEN = re.compile(r"[.*>\s\x00]")


def event_subject(site: str, camera: str, kind: str) -> str:
    """``kedirivms.<site>.<camera>.<kind>``, with subject wildcards, dots and spaces in tokens made ``_``."""
    return "kedirivms." + ".".join(_TOKEN.sub("_", t) or "_" for t in (site, camera, kind))


def ensure_events_stream(
    link: NatsLink, *, replicas: int = 1, max_age: float = 7 * 86400, max_bytes: int = 1 << 30
) -> None:
    """Create (or update) the domain's events stream with its retention limits."""
    link.ensure_stream(
        EVENTS_STREAM,
        ["kedirivms.>"],
        max_age=max_age,
        max_bytes=max_bytes,
        replicas=replicas,
        duplicate_window=600.0,
    )


class JetStreamSink(Sink):
    """Publish events to JetStream, waiting for each acknowledgement and retrying (same message id) until it
    comes: a retry after a lost acknowledgement is de-duplicated by the stream, so nothing is stored twice.

    Events wait in the sink's bounded queue while NATS is away (the oldest is dropped, and counted, when full);
    the leaf node a worker talks to is local, so WAN cuts do not reach this queue.

    Args:
        link: a connected :class:`NatsLink` (not closed by the sink).
        site_of: camera name -> site id, for the subject.
        name: label in stats.
        queue_size: events waiting at most.
    """

    kind = "jetstream"

    def __init__(
        self, link: NatsLink, site_of: Callable[[str], str], *, name: str = "jetstream", queue_size: int = 100_000
    ) -> None:
        super().__init__(name=name, queue_size=queue_size)
        self._link = link
        self._site_of = site_of
        self.duplicates = 0

    def _connected(self) -> bool | None:
        return self._link.connected.is_set()

    def _deliver(self, event: Event) -> bool:
        subject = event_subject(self._site_of(event.camera), event.camera, event.kind)
        payload = event.model_dump_json().encode()
        delay = 0.1
        while True:
            try:
                ack = self._link.publish(subject, payload, msg_id=event.id, timeout=2.0)
            except ClusterError as exc:
                self._error(str(exc))
                if self._time_left() <= 0:
                    return False
                self._sleep(delay)
                delay = min(2.0, delay * 2)
                continue
            if ack.duplicate:
                self.duplicates += 1  # an earlier attempt had been stored: fine, nothing twice
            return True
