"""A small synchronous facade over nats-py: the asyncio client runs on its own event-loop thread.

Every call is bounded by a time-out, and every nats-py (and socket) exception is mapped here, at this one
boundary, to :class:`~kedirivms.errors.ClusterError` (:class:`ClusterTimeout`, :class:`LeaseConflict`).
Nothing outside this module imports ``nats``.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import contextlib
import json
import logging
import threading
import time
from collections.abc import Callable, Coroutine, Sequence
from dataclasses import dataclass
from typing import Any, TypeVar

from kedirivms._redact import redact_url
from kedirivms.errors import ClusterError, ClusterTimeout, ConfigError, KedirivmsError, LeaseConflict

try:
    import nats
    import nats.errors
    import nats.js.errors
    from nats.js.api import (
        AckPolicy,
        ConsumerConfig,
        DeliverPolicy,
        ExternalStream,
        KeyValueConfig,
        StorageType,
        StreamConfig,
        StreamSource,
    )
except ImportError as exc:  # the optional extra is missing
    raise ConfigError("scale-out needs the nats-py client", hint="pip install 'kedirivms[cluster]'") from exc

__all__ = ["KvEntry", "Message", "NatsLink", "PubAck", "SourceState", "retry"]

log = logging.getLogger("kedirivms.cluster")
T = TypeVar("T")
_WRONG_LAST_SEQUENCE = (10071, 10164)  # JetStream API error codes: "wrong last sequence"


@dataclass(frozen=True)
class KvEntry:
    """A key-value entry: its value and revision (the stream sequence that compare-and-set compares)."""

    key: str
    value: bytes
    revision: int


@dataclass(frozen=True)
class PubAck:
    """JetStream's answer to a publish: the stream, its sequence, and whether it was a de-duplicated repeat."""

    stream: str
    seq: int
    duplicate: bool


@dataclass(frozen=True)
class SourceState:
    """How one source of a stream is doing (from the stream's info).

    Attributes:
        name: the origin stream's name.
        domain: the origin's JetStream domain (None: the same domain as the stream).
        seq: the origin's last sequence copied so far (None if the server does not report it; 2.15 does).
        active: seconds since the source last showed activity (None: it has no source consumer now).
        error: the server's last error for this source, if any.
    """

    name: str
    domain: str | None
    seq: int | None
    active: float | None
    error: str | None


@dataclass(frozen=True)
class Message:
    """A message fetched from a pull consumer (ack it with :meth:`NatsLink.ack`)."""

    subject: str
    data: bytes
    headers: dict[str, str]
    stream_seq: int
    delivered: int
    raw: Any


class NatsLink:
    """One NATS connection (with JetStream) behind blocking calls, each with a time-out.

    The client reconnects by itself; calls made while it is away fail with :class:`ClusterError` or
    :class:`ClusterTimeout` (nothing blocks longer than its time-out).

    Args:
        servers: ``nats://host:port`` URL(s); ``user:password@`` is accepted and never logged.
        name: the client name shown by the server.
        timeout: default time-out of each call, seconds.
        domain: the JetStream domain to use (a leaf node's own domain, or the hub's), None for the local one.

    Example:
        >>> with NatsLink("nats://127.0.0.1:4222") as link:  # doctest: +SKIP
        ...     link.kv_create("leases", "cam.loket-1", b"w1", ttl=10)
    """

    def __init__(
        self,
        servers: str | Sequence[str],
        *,
        name: str = "kedirivms",
        timeout: float = 5.0,
        domain: str | None = None,
    ) -> None:
        self.servers = [servers] if isinstance(servers, str) else list(servers)
        self.label = ", ".join(redact_url(s) for s in self.servers)
        self.name = name
        self.timeout = timeout
        self.domain = domain
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self._nc: Any = None
        self._js: Any = None
        self._kv: dict[str, Any] = {}
        self._subs: dict[str, Any] = {}
        self.connected = threading.Event()

    def __repr__(self) -> str:
        return f"<kedirivms NatsLink {self.label}>"

    # -- life cycle -----------------------------------------------------------------------------------------------
    def connect(self, timeout: float | None = None) -> NatsLink:
        """Start the loop thread and connect (the client keeps reconnecting afterwards).

        Raises:
            ClusterError: no server answered within ``timeout`` seconds.
        """
        wait = timeout if timeout is not None else self.timeout
        if self._loop is None:
            loop = asyncio.new_event_loop()
            running = threading.Event()
            loop.call_soon(running.set)
            self._thread = threading.Thread(target=loop.run_forever, name="kedirivms-nats", daemon=True)
            self._thread.start()
            running.wait(wait)  # the thread may start late on a loaded box; _call refuses a loop not yet running
            self._loop = loop

        async def _connect() -> None:
            async def on_error(exc: Exception) -> None:
                log.debug("nats %s: %s", self.label, exc)

            async def on_disconnect() -> None:
                self.connected.clear()

            async def on_reconnect() -> None:
                self.connected.set()

            self._nc = await nats.connect(
                self.servers,
                name=self.name,
                connect_timeout=max(1, int(min(wait, 5))),
                reconnect_time_wait=0.5,
                max_reconnect_attempts=-1,
                allow_reconnect=True,
                ping_interval=2,
                max_outstanding_pings=2,
                error_cb=on_error,
                disconnected_cb=on_disconnect,
                reconnected_cb=on_reconnect,
            )
            self._js = self._nc.jetstream(domain=self.domain, timeout=self.timeout)
            self.connected.set()

        try:
            self._call(_connect(), wait + 1.0, "connect")
        except BaseException:
            self.close(timeout=1.0)
            raise
        return self

    def close(self, timeout: float = 5.0) -> None:
        """Drain and close the connection and stop the loop thread; idempotent."""
        loop, self._loop = self._loop, None
        if loop is None:
            return
        nc, self._nc = self._nc, None
        if nc is not None:
            with contextlib.suppress(Exception):
                asyncio.run_coroutine_threadsafe(nc.close(), loop).result(timeout)
        loop.call_soon_threadsafe(loop.stop)
        if self._thread is not None:
            self._thread.join(timeout)
        with contextlib.suppress(RuntimeError):
            loop.close()
        self.connected.clear()

    def __enter__(self) -> NatsLink:
        return self.connect()

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- key-value --------------------------------------------------------------------------------------------------
    def ensure_kv(self, bucket: str, *, replicas: int = 1, history: int = 1, timeout: float | None = None) -> None:
        """Bind to a key-value bucket, creating it (per-key TTLs allowed) when missing."""

        async def _ensure() -> None:
            try:
                self._kv[bucket] = await self._js.key_value(bucket)
            except nats.js.errors.BucketNotFoundError:
                config = KeyValueConfig(bucket=bucket, history=history, replicas=replicas, storage=StorageType.FILE)
                self._kv[bucket] = await self._js.create_key_value(config=config)

        self._call(_ensure(), timeout, f"key-value bucket {bucket}")

    def kv_create(self, bucket: str, key: str, value: bytes, *, ttl: float | None = None) -> int:
        """Create a key only if it does not exist (or was deleted); returns its revision.

        Raises:
            LeaseConflict: the key exists.
        """
        kv = self._bucket(bucket)
        return int(self._call(kv.create(key, value, msg_ttl=_ttl(ttl)), None, f"create {bucket}/{key}"))

    def kv_update(self, bucket: str, key: str, value: bytes, *, last: int, ttl: float | None = None) -> int:
        """Compare-and-set: write only if the key's revision is still ``last``; returns the new revision.

        Raises:
            LeaseConflict: the key changed (or expired) since ``last``.
        """
        self._bucket(bucket)
        # KeyValue.update() takes no TTL: the same compare-and-set is a publish on the key's subject expecting
        # the last revision (the bucket lives in the connected server's JetStream domain)
        headers = {"Nats-Expected-Last-Subject-Sequence": str(last)}
        coro = self._js.publish(f"$KV.{bucket}.{key}", value, headers=headers, msg_ttl=_ttl(ttl))
        return int(self._call(coro, None, f"update {bucket}/{key}").seq)

    def kv_get(self, bucket: str, key: str) -> KvEntry | None:
        """The key's current entry, or None when absent, deleted or expired."""
        kv = self._bucket(bucket)

        async def _get() -> KvEntry | None:
            try:
                entry = await kv.get(key)
            except (nats.js.errors.KeyNotFoundError, nats.js.errors.KeyDeletedError):
                return None
            return KvEntry(key, entry.value or b"", int(entry.revision or 0))

        return self._call(_get(), None, f"get {bucket}/{key}")

    def kv_delete(self, bucket: str, key: str, *, last: int | None = None) -> None:
        """Delete a key (only at revision ``last`` when given).

        Raises:
            LeaseConflict: the key changed since ``last``.
        """
        kv = self._bucket(bucket)
        self._call(kv.delete(key, last=last), None, f"delete {bucket}/{key}")

    def kv_entries(self, bucket: str, prefix: str = "") -> dict[str, KvEntry]:
        """Every live entry of a bucket whose key starts with ``prefix``."""
        kv = self._bucket(bucket)

        async def _all() -> dict[str, KvEntry]:
            try:
                keys = await kv.keys()
            except nats.js.errors.NoKeysError:
                return {}
            out: dict[str, KvEntry] = {}
            for key in keys:
                if not key.startswith(prefix):
                    continue
                try:
                    entry = await kv.get(key)
                except (nats.js.errors.KeyNotFoundError, nats.js.errors.KeyDeletedError):
                    continue
                out[key] = KvEntry(key, entry.value or b"", int(entry.revision or 0))
            return out

        return self._call(_all(), None, f"list {bucket}")

    # -- streams ----------------------------------------------------------------------------------------------------
    def ensure_stream(
        self,
        name: str,
        subjects: Sequence[str] = (),
        *,
        max_age: float | None = None,
        max_bytes: int | None = None,
        replicas: int = 1,
        duplicate_window: float = 120.0,
        sources: Sequence[tuple[str, str | None]] = (),
        timeout: float | None = None,
    ) -> None:
        """Create a stream, or update its limits and sources (idempotent).

        Args:
            name: stream name.
            subjects: subjects it captures (none for a stream that only sources others).
            max_age: drop messages older than this, seconds (retention limit).
            max_bytes: drop the oldest messages beyond this size.
            replicas: copies kept on a JetStream cluster (1 or 3).
            duplicate_window: how long ``Nats-Msg-Id`` values are remembered for de-duplication, seconds.
            sources: ``(stream, domain)`` pairs to source from (a leaf's stream in its own domain).
        """
        srcs = [StreamSource(name=s, external=ExternalStream(api=f"$JS.{d}.API") if d else None) for s, d in sources]
        config = StreamConfig(
            name=name,
            subjects=list(subjects) or None,
            max_age=max_age,
            max_bytes=max_bytes,
            num_replicas=replicas,
            duplicate_window=min(duplicate_window, max_age) if max_age else duplicate_window,
            storage=StorageType.FILE,
            sources=srcs or None,
        )

        async def _ensure() -> None:
            try:
                await self._js.stream_info(name)
            except nats.js.errors.NotFoundError:
                await self._js.add_stream(config)
            else:
                await self._js.update_stream(config)

        self._call(_ensure(), timeout, f"stream {name}")

    def stream_state(self, name: str) -> dict[str, int]:
        """``messages``, ``first_seq`` and ``last_seq`` of a stream."""

        async def _info() -> dict[str, int]:
            info = await self._js.stream_info(name)
            st = info.state
            return {"messages": int(st.messages), "first_seq": int(st.first_seq), "last_seq": int(st.last_seq)}

        return self._call(_info(), None, f"stream {name}")

    def domain_answers(self, domain: str, stream: str, timeout: float = 1.0) -> bool:
        """Whether ``stream`` in JetStream ``domain`` answers now (a leaf reachable through its link)."""
        return self.last_seq(stream, domain=domain, timeout=timeout) is not None

    def last_seq(self, stream: str, *, domain: str | None = None, timeout: float = 1.0) -> int | None:
        """The last sequence of ``stream`` in ``domain`` (None: this link's domain), or None if it does not
        answer within ``timeout`` seconds (its domain unreachable, or its leader being elected)."""
        nc = self._nc
        if nc is None:
            return None

        async def _probe() -> int | None:
            js = nc.jetstream(domain=domain or self.domain, timeout=timeout)
            try:
                info = await js.stream_info(stream)
            except Exception:  # any failure means: not answering now
                return None
            return int(info.state.last_seq)

        try:
            return self._call(_probe(), timeout + 1.0, f"probe {domain or 'local'}/{stream}")
        except ClusterError:
            return None

    def stream_sources(self, name: str, timeout: float | None = None) -> list[SourceState]:
        """The state of each source of stream ``name``, in its configuration's order.

        Raises:
            ClusterError: the stream did not answer (or does not exist).
        """
        nc = self._nc
        self._jetstream()
        wait = timeout if timeout is not None else self.timeout
        prefix = f"$JS.{self.domain}.API" if self.domain else "$JS.API"

        async def _info() -> list[SourceState]:
            # raw JSON: nats-py's StreamSourceInfo drops ``external`` (which source is which) and ``seq``
            reply = json.loads((await nc.request(f"{prefix}.STREAM.INFO.{name}", b"", timeout=wait)).data)
            if "error" in reply:
                err = reply["error"]
                raise ClusterError(f"JetStream refused: {err.get('description', err)}", operation=f"stream {name}")
            out = []
            for src in reply.get("sources") or []:
                api = (src.get("external") or {}).get("api") or ""
                parts = api.split(".")
                domain = parts[1] if len(parts) == 4 and parts[0] == "$JS" and parts[3] == "API" else None
                active = src.get("active")
                error = src.get("error")
                out.append(
                    SourceState(
                        name=str(src.get("name")),
                        domain=domain,
                        seq=int(src["seq"]) if "seq" in src else None,
                        active=None if active is None or active < 0 else active / 1e9,
                        error=None if not error else str(error.get("description", error)),
                    )
                )
            return out

        return self._call(_info(), wait + 0.5, f"stream {name}")

    def stream_leader(self, name: str) -> str | None:
        """The server name leading a stream on a JetStream cluster (None on a single server)."""

        async def _leader() -> str | None:
            info = await self._js.stream_info(name)
            return info.cluster.leader if info.cluster is not None else None

        return self._call(_leader(), None, f"stream {name}")

    def publish(self, subject: str, data: bytes, *, msg_id: str, timeout: float | None = None) -> PubAck:
        """Publish to JetStream and wait for the stream's acknowledgement.

        ``msg_id`` (the ``Nats-Msg-Id`` header) makes a retry of the same message a no-op within the stream's
        duplicate window.

        Raises:
            ClusterTimeout: no acknowledgement in time (safe to retry with the same ``msg_id``).
            ClusterError: no stream captures ``subject``, or the connection is down.
        """
        wait = timeout if timeout is not None else self.timeout
        coro = self._jetstream().publish(subject, data, timeout=wait, headers={"Nats-Msg-Id": msg_id})
        ack = self._call(coro, wait + 0.5, f"publish {subject}")
        return PubAck(str(ack.stream), int(ack.seq), bool(ack.duplicate))

    # -- plain subscriptions ----------------------------------------------------------------------------------------
    def subscribe(self, subject: str, on_message: Callable[[str, dict[str, str]], None]) -> None:
        """Call ``on_message(subject, headers)`` for each plain NATS message on ``subject`` (wildcards allowed).

        The callback runs on the link's loop thread: it must return at once (set an event, count). The
        subscription is renewed by the client after a reconnect, and ends with :meth:`close`.
        """

        async def _cb(msg: Any) -> None:
            try:
                on_message(msg.subject, dict(msg.headers or {}))
            except Exception:  # a callback's bug must not stop the subscription
                log.exception("nats %s: callback for %s failed", self.label, subject)

        async def _sub() -> None:
            await self._nc.subscribe(subject, cb=_cb)

        self._jetstream()
        self._call(_sub(), None, f"subscribe {subject}")

    # -- pull consumers ---------------------------------------------------------------------------------------------
    def pull_subscribe(self, stream: str, durable: str, *, ack_wait: float = 30.0, subject: str = ">") -> None:
        """Bind to (creating when missing) a durable pull consumer of ``stream`` delivering everything; calling it
        again re-binds (and re-creates the consumer if the servers lost it)."""

        async def _sub() -> None:
            config = ConsumerConfig(
                durable_name=durable,
                ack_policy=AckPolicy.EXPLICIT,
                deliver_policy=DeliverPolicy.ALL,
                ack_wait=ack_wait,
                max_ack_pending=10_000,
            )
            sub = await self._js.pull_subscribe(
                subject if subject != ">" else "", durable=durable, stream=stream, config=config
            )
            old, self._subs[durable] = self._subs.get(durable), sub
            if old is not None:  # re-bound: the old inbox would only collect stray deliveries
                with contextlib.suppress(Exception):
                    await old.unsubscribe()

        self._call(_sub(), None, f"consumer {stream}/{durable}")

    def fetch(self, durable: str, batch: int = 100, timeout: float = 1.0) -> list[Message]:
        """Up to ``batch`` messages (an empty list when none arrive within ``timeout`` seconds)."""
        sub = self._subs[durable]

        async def _fetch() -> list[Message]:
            try:
                msgs = await sub.fetch(batch, timeout=timeout)
            except nats.errors.TimeoutError:
                return []
            out = []
            for m in msgs:
                md = m.metadata
                out.append(Message(m.subject, m.data, dict(m.headers or {}), md.sequence.stream, md.num_delivered, m))
            return out

        return self._call(_fetch(), timeout + 2.0, f"fetch {durable}")

    def ack(self, message: Message) -> None:
        """Acknowledge a fetched message (sent, not confirmed: a lost ack means a redelivery, which an idempotent
        consumer ignores)."""
        self._call(message.raw.ack(), None, "ack")

    # -- core request/reply (not JetStream) -------------------------------------------------------------------------
    @property
    def max_payload(self) -> int:
        """The largest message the server accepts, bytes (1 MiB by default)."""
        nc = self._nc
        return int(getattr(nc, "max_payload", 0) or 1 << 20) if nc is not None else 1 << 20

    def serve(self, subject: str, handler: Callable[[bytes], bytes | None], *, workers: int = 2) -> Callable[[], None]:
        """Answer requests on ``subject`` (wildcards allowed) with ``handler(data)``; None sends no answer.

        The handler runs on a small thread pool (it may block, e.g. to read files), never on the loop thread.

        Returns:
            A function that stops answering (unsubscribes and shuts the pool down).
        """
        pool = concurrent.futures.ThreadPoolExecutor(workers, thread_name_prefix="kedirivms-nats-serve")

        async def _sub() -> Any:
            loop = asyncio.get_running_loop()

            async def on_msg(msg: Any) -> None:
                if not msg.reply:
                    return
                try:
                    answer = await loop.run_in_executor(pool, handler, msg.data)
                except Exception:  # a handler bug must not kill the subscription
                    log.exception("nats %s: handler for %s failed", self.label, subject)
                    return
                if answer is not None:
                    with contextlib.suppress(Exception):  # the asker went away
                        await msg.respond(answer)

            sub = await self._nc.subscribe(subject, cb=on_msg)
            await self._nc.flush()  # the server knows the subscription before serve() returns
            return sub

        if self._nc is None:
            pool.shutdown(wait=False)
            raise ClusterError("not connected", operation=f"serve {subject}", camera=self.label)
        sub = self._call(_sub(), None, f"serve {subject}")

        def stop() -> None:
            with contextlib.suppress(KedirivmsError):
                self._call(sub.unsubscribe(), 2.0, f"unsubscribe {subject}")
            pool.shutdown(wait=False, cancel_futures=True)

        return stop

    def request(self, subject: str, data: bytes, *, timeout: float | None = None) -> bytes:
        """One request, its first answer.

        Raises:
            ClusterTimeout: nobody answered within ``timeout`` seconds.
            ClusterError: nobody listens on ``subject`` (the server says so at once), or the connection is down.
        """
        wait = timeout if timeout is not None else self.timeout
        self._jetstream()

        async def _req() -> bytes:
            msg = await self._nc.request(subject, data, timeout=wait)
            return bytes(msg.data)

        return self._call(_req(), wait + 0.5, f"request {subject}")

    def gather(
        self, subject: str, data: bytes, *, timeout: float, enough: Callable[[bytes], bool] | None = None
    ) -> list[bytes]:
        """Ask everyone listening on ``subject``; every answer within ``timeout`` seconds (fewer when an answer
        is ``enough``: the gathering stops at it). Nobody listening gives an empty list, not an error."""
        self._jetstream()

        async def _gather() -> list[bytes]:
            answers: list[bytes] = []
            done = asyncio.Event()
            inbox = self._nc.new_inbox()

            async def on_msg(msg: Any) -> None:
                answers.append(bytes(msg.data))
                if enough is not None and enough(answers[-1]):
                    done.set()

            sub = await self._nc.subscribe(inbox, cb=on_msg)
            try:
                await self._nc.publish(subject, data, reply=inbox)
                with contextlib.suppress(asyncio.TimeoutError, TimeoutError):
                    await asyncio.wait_for(done.wait(), timeout)
            finally:
                with contextlib.suppress(Exception):
                    await sub.unsubscribe()
            return answers

        return self._call(_gather(), timeout + 2.0, f"gather {subject}")

    # -- the one boundary ---------------------------------------------------------------------------------------
    def _bucket(self, bucket: str) -> Any:
        self._jetstream()
        kv = self._kv.get(bucket)
        if kv is None:
            raise ClusterError(f"key-value bucket {bucket} not bound", hint="call ensure_kv() first")
        return kv

    def _jetstream(self) -> Any:
        if self._js is None or self._loop is None:
            raise ClusterError("not connected", camera=self.label, hint="call connect() first")
        return self._js

    def _call(self, coro: Coroutine[Any, Any, T], timeout: float | None, operation: str) -> T:
        loop = self._loop
        if loop is None or not loop.is_running():
            coro.close()
            raise ClusterError("not connected", operation=operation, camera=self.label, hint="call connect() first")
        wait = timeout if timeout is not None else self.timeout + 0.5
        future = asyncio.run_coroutine_threadsafe(coro, loop)
        try:
            return future.result(wait)
        except concurrent.futures.TimeoutError:
            future.cancel()
            concurrent.futures.wait([future], timeout=1.0)  # let the task finish cancelling on the loop
            raise ClusterTimeout(
                f"no answer within {wait:.1f} s", operation=operation, camera=self.label, hint="is NATS reachable?"
            ) from None
        except KedirivmsError:
            raise
        except Exception as exc:
            raise _map(exc, operation, self.label) from exc


def retry(step: Callable[[], object], timeout: float = 30.0) -> None:
    """Run ``step`` until it does not raise ClusterError (a leader election, a node restarting), up to
    ``timeout`` seconds; a :class:`LeaseConflict` is not retried."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            step()
            return
        except LeaseConflict:
            raise
        except ClusterError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.5)


def _ttl(ttl: float | None) -> float | None:
    # JetStream per-message TTLs are whole seconds (>= 1)
    return None if ttl is None else float(max(1, round(ttl)))


def _map(exc: Exception, operation: str, label: str) -> ClusterError:
    if isinstance(exc, nats.js.errors.KeyWrongLastSequenceError) or (
        isinstance(exc, nats.js.errors.APIError) and getattr(exc, "err_code", None) in _WRONG_LAST_SEQUENCE
    ):
        return LeaseConflict("the key changed (held or renewed by another worker)", operation=operation)
    if isinstance(exc, nats.errors.NoRespondersError):
        return ClusterError("nobody answers on this subject", operation=operation, camera=label)
    if isinstance(exc, (nats.errors.TimeoutError, asyncio.TimeoutError, TimeoutError)):
        return ClusterTimeout("no answer in time", operation=operation, camera=label, hint="is NATS reachable?")
    if isinstance(exc, nats.js.errors.NoStreamResponseError):
        return ClusterError("no JetStream stream answered", operation=operation, camera=label)
    if isinstance(exc, (nats.js.errors.ServiceUnavailableError, nats.errors.NoRespondersError)):
        return ClusterError(
            "no JetStream server answered (a leader being elected, or the stream or consumer is missing)",
            operation=operation,
            camera=label,
        )
    if isinstance(exc, nats.js.errors.APIError):
        return ClusterError(f"JetStream refused: {exc.description or exc}", operation=operation, camera=label)
    if isinstance(exc, (nats.errors.Error, OSError, ConnectionError)):
        name = type(exc).__name__
        return ClusterError(f"{name}: {exc}", operation=operation, camera=label, hint="is NATS reachable?")
    return ClusterError(f"{type(exc).__name__}: {exc}", operation=operation, camera=label)
