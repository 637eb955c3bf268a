"""The synchronous NATS facade against a real nats-server: key-value compare-and-set with TTLs, JetStream
publish de-duplication, and every failure as a kedirivms error (never a raw nats exception)."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path

import pytest

from kedirivms.cluster._nats import NatsLink
from kedirivms.cluster._server import NatsServer, free_port
from kedirivms.errors import ClusterError, ClusterTimeout, LeaseConflict


def test_kv_compare_and_set_and_ttl(nats_single: NatsServer) -> None:
    with NatsLink(nats_single.url) as link:
        link.ensure_kv("t-leases")
        rev = link.kv_create("t-leases", "cam.a", b"w1", ttl=2)
        with pytest.raises(LeaseConflict):
            link.kv_create("t-leases", "cam.a", b"w2", ttl=2)
        rev2 = link.kv_update("t-leases", "cam.a", b"w1", last=rev, ttl=2)
        assert rev2 > rev
        with pytest.raises(LeaseConflict):
            link.kv_update("t-leases", "cam.a", b"w1", last=rev, ttl=2)  # a stale revision loses
        entry = link.kv_get("t-leases", "cam.a")
        assert entry is not None and entry.value == b"w1" and entry.revision == rev2
        deadline = time.monotonic() + 10
        while link.kv_get("t-leases", "cam.a") is not None and time.monotonic() < deadline:
            time.sleep(0.2)
        assert link.kv_get("t-leases", "cam.a") is None, "the TTL removed the key"
        rev3 = link.kv_create("t-leases", "cam.a", b"w2", ttl=5)
        link.kv_delete("t-leases", "cam.a", last=rev3)
        assert link.kv_get("t-leases", "cam.a") is None
        link.kv_create("t-leases", "cam.a", b"w3", ttl=5)  # a deleted key can be created again
        assert set(link.kv_entries("t-leases")) == {"cam.a"}


def test_publish_is_deduplicated_by_message_id(nats_single: NatsServer) -> None:
    with NatsLink(nats_single.url) as link:
        link.ensure_stream("T_EVENTS", ["t.>"], max_age=60)
        first = link.publish("t.a", b"x", msg_id="id-1")
        again = link.publish("t.a", b"x", msg_id="id-1")
        assert not first.duplicate and again.duplicate and again.seq == first.seq
        assert link.stream_state("T_EVENTS")["messages"] == 1
        with pytest.raises(ClusterError):
            link.publish("nobody.listens", b"x", msg_id="id-2", timeout=1.0)


def test_source_states_and_plain_subscriptions(nats_single: NatsServer) -> None:
    with NatsLink(nats_single.url) as link:
        seen: list[tuple[str, dict[str, str]]] = []
        link.ensure_kv("t-members")
        link.subscribe("$KV.t-members.>", lambda subject, headers: seen.append((subject, headers)))
        rev = link.kv_create("t-members", "w.a", b"1", ttl=30)
        link.kv_delete("t-members", "w.a", last=rev)
        link.ensure_stream("T_A", ["ta.>"], max_age=60)
        link.ensure_stream("T_B", ["tb.>"], max_age=60)
        for i in range(3):
            link.publish("ta.x", b"x", msg_id=f"a{i}")
        link.publish("tb.x", b"x", msg_id="b0")
        link.ensure_stream("T_ALL", [], max_age=60, sources=[("T_A", None), ("T_B", None)])
        deadline = time.monotonic() + 10
        while link.stream_state("T_ALL")["messages"] < 4 and time.monotonic() < deadline:
            time.sleep(0.1)
        states = {s.name: s for s in link.stream_sources("T_ALL")}
        assert set(states) == {"T_A", "T_B"} and all(s.domain is None for s in states.values())
        assert (states["T_A"].seq, states["T_B"].seq) in ((3, 1), (None, None))  # older servers omit it
        assert link.last_seq("T_A") == 3 and link.last_seq("T_NONE") is None
        with pytest.raises(ClusterError):
            link.stream_sources("T_NONE")
        assert [s for s, _ in seen] == ["$KV.t-members.w.a"] * 2
        assert seen[1][1].get("KV-Operation") == "DEL"


def test_connect_waits_for_its_loop_thread(nats_single: NatsServer, monkeypatch: pytest.MonkeyPatch) -> None:
    """On a loaded box the loop thread may start running after ``connect`` hands it the connection (seen: a worker
    of the test suite exiting 'not connected (hint: call connect() first)' at start): connect waits for it."""
    run_forever = asyncio.BaseEventLoop.run_forever

    def late(self: asyncio.AbstractEventLoop) -> None:
        time.sleep(0.3)
        run_forever(self)  # type: ignore[arg-type]

    monkeypatch.setattr(asyncio.BaseEventLoop, "run_forever", late)
    with NatsLink(nats_single.url) as link:
        link.ensure_kv("t-late")
        assert link.kv_get("t-late", "nothing") is None


def test_unreachable_and_unconnected_are_kedirivms_errors() -> None:
    link = NatsLink(f"nats://user:Hidden-pw@127.0.0.1:{free_port()}", timeout=1.0)
    with pytest.raises(ClusterError) as info:
        link.connect(timeout=1.5)
    assert "Hidden-pw" not in str(info.value)
    link.close()
    with pytest.raises(ClusterError, match="not connected"):
        NatsLink("nats://127.0.0.1:1").kv_get("x", "y")


def test_frozen_server_gives_a_bounded_timeout(tmp_path) -> None:  # type: ignore[no-untyped-def]
    import signal

    server = NatsServer("frozen", tmp_path, free_port(), f'jetstream {{ store_dir: "{tmp_path / "js"}" }}').start()
    try:
        with NatsLink(server.url, timeout=1.0) as link:
            link.ensure_kv("t-frozen")
            assert server.process is not None
            server.process.send_signal(signal.SIGSTOP)
            # the stop takes effect asynchronously (every thread of the Go process): wait until the kernel says so
            stat = Path(f"/proc/{server.process.pid}/stat")
            deadline = time.monotonic() + 5
            while stat.read_text().rsplit(")", 1)[1].split()[0] != "T" and time.monotonic() < deadline:
                time.sleep(0.01)
            try:
                start = time.monotonic()
                with pytest.raises(ClusterTimeout):
                    link.kv_get("t-frozen", "k")
                assert time.monotonic() - start < 10  # bounded by the call's time-out, not forever
            finally:
                server.process.send_signal(signal.SIGCONT)
    finally:
        server.stop()
