"""Fixtures for discovery tests: fleets of WS-Discovery responders on 127.0.1.x, a tiny ONVIF HTTP peer, and
network namespaces for multicast (subprocesses inside them; always deleted)."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import textwrap
import threading
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

from kedirivms.sim.discovery import DiscoveryResponder

PYTHON = str(Path(sys.executable))


@pytest.fixture
def fleet() -> Iterator[Callable[..., DiscoveryResponder]]:
    """Start responders with ``fleet(host=..., ...)``; all are stopped at teardown."""
    started: list[DiscoveryResponder] = []

    def start(**kwargs: Any) -> DiscoveryResponder:
        host = kwargs.setdefault("host", "127.0.1.5")
        kwargs.setdefault("xaddrs", [f"http://{host}:8080/onvif/device_service"])
        responder = DiscoveryResponder(**kwargs).start()
        started.append(responder)
        return responder

    yield start
    for responder in started:
        responder.stop()


_GSDT_REPLY = b"""<?xml version="1.0" encoding="UTF-8"?>
<s:Envelope xmlns:s="http://www.w3.org/2003/05/soap-envelope" xmlns:tds="http://www.onvif.org/ver10/device/wsdl"
 xmlns:tt="http://www.onvif.org/ver10/schema"><s:Body><tds:GetSystemDateAndTimeResponse><tds:SystemDateAndTime>
<tt:DateTimeType>NTP</tt:DateTimeType><tt:DaylightSavings>false</tt:DaylightSavings>
</tds:SystemDateAndTime></tds:GetSystemDateAndTimeResponse></s:Body></s:Envelope>"""


_FAULT_REPLY = b"""<?xml version="1.0" encoding="UTF-8"?>
<s:Envelope xmlns:s="http://www.w3.org/2003/05/soap-envelope"><s:Body><s:Fault><s:Code><s:Value>s:Sender</s:Value>
</s:Code><s:Reason><s:Text xml:lang="en">Sender not Authorized</s:Text></s:Reason></s:Fault></s:Body></s:Envelope>"""


class _OnvifHandler(BaseHTTPRequestHandler):
    onvif = True
    fault = False

    def do_POST(self) -> None:  # noqa: N802 (http.server API)
        body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
        if self.fault:
            # firmware that wants credentials even for GetSystemDateAndTime: still an ONVIF device
            payload, status, ctype = _FAULT_REPLY, 401, "application/soap+xml"
        elif self.onvif and self.path == "/onvif/device_service" and b"GetSystemDateAndTime" in body:
            payload, status, ctype = _GSDT_REPLY, 200, "application/soap+xml"
        else:
            payload, status, ctype = b"<html>not here</html>", 404, "text/html"
        self.send_response(status)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)

    def log_message(self, *args: Any) -> None:
        pass


class _PlainHandler(_OnvifHandler):
    onvif = False


class _FaultHandler(_OnvifHandler):
    fault = True


@pytest.fixture
def http_peer() -> Iterator[Callable[[str, int, str], None]]:
    """``http_peer(host, port, kind)`` serves, until teardown, ``onvif``: GetSystemDateAndTime; ``fault``: a SOAP
    fault (HTTP 401) for everything; ``web``: a 404 web page."""
    servers: list[ThreadingHTTPServer] = []

    def start(host: str, port: int, kind: str = "onvif") -> None:
        handler = {"onvif": _OnvifHandler, "fault": _FaultHandler, "web": _PlainHandler}[kind]
        server = ThreadingHTTPServer((host, port), handler)
        server.daemon_threads = True
        threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.1}, daemon=True).start()
        servers.append(server)

    yield start
    for server in servers:
        server.shutdown()
        server.server_close()


# ----------------------------------------------------------------------------------------- namespaces


def _netns_reason() -> str | None:
    if os.geteuid() != 0:
        return "multicast tests need root to create a network namespace"
    if shutil.which("ip") is None:
        return "multicast tests need iproute2 ('ip' not found)"
    return None


class Netns:
    """A network namespace with ``lo`` up and a multicast route; run Python in it with :meth:`spawn`."""

    def __init__(self, name: str) -> None:
        self.name = name
        self.procs: list[subprocess.Popen[str]] = []

    def ip(self, *args: str) -> None:
        subprocess.run(["ip", "-n", self.name, *args], check=True, capture_output=True, timeout=10)

    def spawn(self, code: str) -> subprocess.Popen[str]:
        """Start ``code`` (dedented) in the namespace; it should print one JSON document on stdout."""
        proc = subprocess.Popen(
            ["ip", "netns", "exec", self.name, PYTHON, "-c", textwrap.dedent(code)],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        self.procs.append(proc)
        return proc

    @staticmethod
    def ready(proc: subprocess.Popen[str]) -> Any:
        """Read the first stdout line of a spawned process (its "ready" JSON)."""
        assert proc.stdout is not None
        line = proc.stdout.readline()
        if not line:
            _, err = proc.communicate(timeout=10)
            pytest.fail(f"namespace process died before it was ready:\n{err}")
        return json.loads(line)

    @staticmethod
    def release(proc: subprocess.Popen[str]) -> None:
        """Tell a spawned process waiting on stdin to finish."""
        assert proc.stdin is not None
        proc.stdin.write("stop\n")
        proc.stdin.flush()

    @staticmethod
    def collect_lines(proc: subprocess.Popen[str], timeout: float = 30) -> list[Any]:
        """Wait for a spawned process and return every stdout line parsed as JSON."""
        try:
            out, err = proc.communicate(timeout=timeout)
        except subprocess.TimeoutExpired:
            proc.kill()
            out, err = proc.communicate()
            pytest.fail(f"namespace process hung; stderr:\n{err}")
        assert proc.returncode == 0, f"namespace process failed ({proc.returncode}):\n{err}"
        return [json.loads(line) for line in out.splitlines() if line.strip()]

    @staticmethod
    def collect(proc: subprocess.Popen[str], timeout: float = 30) -> Any:
        """Wait for a spawned process and return the last JSON line it printed (fail with its stderr otherwise)."""
        return Netns.collect_lines(proc, timeout)[-1]


@pytest.fixture
def netns_factory() -> Iterator[Callable[[], Netns]]:
    """Create namespaces named ``kvms-test-<pid>-<n>``; all are deleted (with their veths) at teardown."""
    reason = _netns_reason()
    if reason:
        pytest.skip(reason)
    made: list[Netns] = []

    def make() -> Netns:
        ns = Netns(f"kvms-test-{os.getpid()}-{len(made)}")
        subprocess.run(["ip", "netns", "add", ns.name], check=True, capture_output=True, timeout=10)
        made.append(ns)
        ns.ip("link", "set", "lo", "up")
        return ns

    yield make
    for ns in made:
        for proc in ns.procs:
            if proc.poll() is None:
                proc.kill()
                proc.communicate()
        subprocess.run(["ip", "netns", "del", ns.name], capture_output=True, timeout=10)


@pytest.fixture
def lo_netns(netns_factory: Callable[[], Netns]) -> Netns:
    """One namespace where multicast goes over ``lo``."""
    ns = netns_factory()
    ns.ip("route", "add", "224.0.0.0/4", "dev", "lo")
    return ns


@pytest.fixture
def veth_pair(netns_factory: Callable[[], Netns]) -> tuple[Netns, Netns]:
    """Two namespaces joined by a veth pair: ``a`` has 10.77.0.1/24 (``kv0``), ``b`` has 10.77.0.2/24 (``kv1``).

    The veth is created inside the namespaces, so no host interface is ever touched.
    """
    a, b = netns_factory(), netns_factory()
    a.ip("link", "add", "kv0", "type", "veth", "peer", "name", "kv1", "netns", b.name)
    for ns, dev, addr in ((a, "kv0", "10.77.0.1/24"), (b, "kv1", "10.77.0.2/24")):
        # no duplicate address detection: the IPv6 link-local address is usable as soon as the link is up
        subprocess.run(
            ["ip", "netns", "exec", ns.name, "sh", "-c", f"echo 0 > /proc/sys/net/ipv6/conf/{dev}/accept_dad"],
            check=True,
            capture_output=True,
            timeout=10,
        )
        ns.ip("addr", "add", addr, "dev", dev)
        ns.ip("link", "set", dev, "up")
        ns.ip("route", "add", "224.0.0.0/4", "dev", dev)
    return a, b
