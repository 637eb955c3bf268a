"""Benchmark: events from a district leaf node through a WAN cut: lost, duplicated, catch-up time.

Load: a 3-node JetStream hub (R3) and a leaf node with its own JetStream domain, linked through a TCP relay that
cuts and restores the link; a publisher (the workers' :class:`JetStreamSink`) sends ``queue_stats``-sized events
to the leaf at ``--rate`` per second; the centre (durable consumer + SQLite store) runs in this process.

* baseline (same run, no cut): after ``--warm`` seconds of publishing, the time until the centre holds everything;
* cut: the link is down for ``--cut`` seconds while publishing goes on; after healing, the catch-up time until the
  centre holds every event published before the heal, then the totals: events published (acknowledged by the
  leaf), stored at the centre, lost (published, never stored), duplicated (stored twice: impossible by the store's
  key, so also the redeliveries the store ignored are shown).

Run: ``.venv/bin/python benchmarks/cluster_events.py [--cut 600] [--rate 20]``. Goal (issue 13): a 10-minute cut
caught up <= 60 s after healing, 0 lost, 0 duplicated.
"""

from __future__ import annotations

import argparse
import sqlite3
import statistics
import tempfile
import threading
import time
from datetime import UTC, datetime
from pathlib import Path

from kedirivms.analytics import Event
from kedirivms.cluster import Centre, JetStreamSink
from kedirivms.cluster._nats import NatsLink, retry
from kedirivms.cluster._server import TcpRelay, hub_cluster, leaf_node
from kedirivms.cluster.events import ensure_events_stream


class Publisher:
    """Events at a steady rate through a JetStreamSink; remembers every id it submitted."""

    def __init__(self, link: NatsLink, rate: float) -> None:
        self.sink = JetStreamSink(link, lambda cam: "pare", name="bench")
        self.sink.start()
        self.rate = rate
        self.ids: list[str] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def _run(self) -> None:
        i = 0
        start = time.monotonic()
        while not self._stop.is_set():
            data = {"length_mean": 2.5, "length_max": 4, "wait_mean_s": 95.0, "served": 3, "seq": i}
            ev = Event(camera=f"loket-{i % 8}", source="queue", kind="queue_stats", time=datetime.now(UTC), data=data)
            self.ids.append(ev.id)
            self.sink.submit(ev)
            i += 1
            self._stop.wait(max(0.0, start + i / self.rate - time.monotonic()))

    def pause(self) -> None:
        self._stop.set()
        self._thread.join()

    def drained(self) -> bool:
        st = self.sink.stats
        return st.queued == 0 and st.sent + st.failed + st.dropped >= len(self.ids)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--cut", type=float, default=600.0, help="link down for this long, seconds (default 600)")
    parser.add_argument("--rate", type=float, default=20.0, help="events per second (default 20)")
    parser.add_argument("--warm", type=float, default=20.0, help="baseline publishing time, seconds")
    args = parser.parse_args()
    root = Path(tempfile.mkdtemp(prefix="kedirivms-events-"))
    hubs = hub_cluster(root / "hub")
    for h in hubs:
        h.start()
    relay = TcpRelay(("127.0.0.1", hubs[0].leaf_port))  # type: ignore[attr-defined]
    leaf = leaf_node(root, "leaf-pare", "pare", [f"nats-leaf://127.0.0.1:{relay.port}"]).start()
    link = NatsLink(leaf.url)
    retry(lambda: link.connect(5.0))
    retry(lambda: ensure_events_stream(link))
    centre = Centre([h.url for h in hubs], root / "centre.sqlite", leaf_domains=["pare"], replicas=3)
    retry(lambda: centre.start(), timeout=60)
    try:
        pub = Publisher(link, args.rate)
        time.sleep(args.warm)
        pub.pause()
        t0 = time.monotonic()
        while not (pub.drained() and set(pub.ids) <= centre.store.event_ids()):
            time.sleep(0.05)
        drain = time.monotonic() - t0
        with sqlite3.connect(root / "centre.sqlite") as db:
            lags = sorted(r[0] for r in db.execute("SELECT received - time FROM events"))
        baseline = statistics.median(lags)
        print(f"baseline (no cut): {len(pub.ids)} events at {args.rate:.0f}/s, publish-to-stored lag p50 "
              f"{baseline * 1000:.0f} ms, max {lags[-1] * 1000:.0f} ms; all stored {drain:.2f} s after publishing "
              f"stopped", flush=True)  # fmt: skip

        pub2 = Publisher(link, args.rate)
        relay.cut()
        print(f"link cut for {args.cut:.0f} s ...", flush=True)
        time.sleep(args.cut)
        before_heal = list(pub2.ids)
        relay.restore()
        healed = time.monotonic()
        first = None
        n0 = centre.store.count()
        while not set(before_heal) <= centre.store.event_ids():
            if first is None and centre.store.count() > n0:
                first = time.monotonic() - healed
            time.sleep(0.1)
        catch_up = time.monotonic() - healed
        print(f"after healing: first event from the cut at the centre after {first or 0:.1f} s", flush=True)
        time.sleep(2.0)
        pub2.pause()
        while not pub2.drained():
            time.sleep(0.05)
        pub.sink.close()
        pub2.sink.close()
        published = set(pub.ids) | set(pub2.ids)
        deadline = time.monotonic() + 120
        while not published <= centre.store.event_ids() and time.monotonic() < deadline:
            time.sleep(0.1)
        stored = centre.store.event_ids()
        lost = len(published - stored)
        print(f"cut {args.cut:.0f} s at {args.rate:.0f} events/s: {len(before_heal)} events published during the cut, "
              f"caught up {catch_up:.1f} s after healing ({catch_up / baseline:.0f}x the no-cut p50 lag, "
              f"{catch_up / args.cut * 100:.1f} % of the cut)")  # fmt: skip
        print(f"total: published {len(published)}, stored {centre.store.count()}, lost {lost}, duplicated 0 stored "
              f"(redeliveries ignored by the store: {centre.store.duplicates()}, JetStream de-duplicated publish "
              f"retries: {pub.sink.duplicates + pub2.sink.duplicates})")  # fmt: skip
        print("load: 3-node JetStream hub (R3) + 1 leaf (own domain) on loopback through a TCP relay, 2 cores shared")
    finally:
        centre.close()
        link.close()
        relay.close()
        leaf.stop()
        for h in hubs:
            h.stop()


if __name__ == "__main__":
    main()
