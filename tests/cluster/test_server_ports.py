"""The test servers' own set-up: ports handed out for one cluster never repeat, and a nats-server that cannot
bind its port is an error at start (not a "ready" taken from whoever else listens there)."""

from __future__ import annotations

import socket
from pathlib import Path

import pytest

from kedirivms.cluster._server import NatsServer, free_ports, hub_cluster
from kedirivms.errors import ClusterError


def test_ports_for_one_cluster_are_distinct(tmp_path: Path) -> None:
    for _ in range(50):
        ports = free_ports(9)
        assert len(set(ports)) == 9, ports
    nodes = hub_cluster(tmp_path, 3)
    taken = [n.port for n in nodes] + [n.leaf_port for n in nodes]  # type: ignore[attr-defined]
    assert len(set(taken)) == len(taken), taken


def test_a_server_whose_port_is_taken_fails_to_start(tmp_path: Path) -> None:
    with socket.socket() as squatter:
        squatter.bind(("127.0.0.1", 0))
        squatter.listen(1)
        port = int(squatter.getsockname()[1])
        server = NatsServer("late", tmp_path, port, "")
        try:
            with pytest.raises(ClusterError, match="late"):
                server.start(timeout=10.0)
        finally:
            server.kill()
