"""``kedirivms discover`` against responders on 127.0.1.x, and the HTTP check against a VirtualCamera."""

from __future__ import annotations

import json
import threading
from collections.abc import Callable

import pytest

from clitools import run
from kedirivms.discovery import discover
from kedirivms.sim import VirtualCamera
from kedirivms.sim.discovery import DiscoveryResponder


def test_discover_range_json(fleet: Callable[..., DiscoveryResponder], capsys: pytest.CaptureFixture[str]) -> None:
    cams = [
        fleet(host=f"127.0.1.{i}", scopes=[f"onvif://www.onvif.org/name/Cam{i}", "onvif://www.onvif.org/location/Pare"])
        for i in (91, 92)
    ]
    code, out, err = run(capsys, "discover", "--range", "127.0.1.90-95", "--timeout", "1.0", "--json")
    assert (code, err) == (0, "")
    items = json.loads(out)
    assert [i["endpoint"] for i in items] == [c.endpoint for c in cams]
    for item, cam in zip(items, cams, strict=True):
        assert item["xaddrs"] == cam.xaddrs
        assert item["name"] == f"Cam{cam.host.rsplit('.', 1)[1]}"
        assert (item["location"], item["hardware"], item["address"]) == ("Pare", None, cam.host)
        assert item["scopes"] == cam.scopes
        assert {"types", "profiles", "metadata_version", "source", "interface"} <= set(item)


def test_discover_range_table(fleet: Callable[..., DiscoveryResponder], capsys: pytest.CaptureFixture[str]) -> None:
    fleet(host="127.0.1.93", scopes=["onvif://www.onvif.org/name/Loket%20Utara"])
    code, out, _ = run(capsys, "discover", "-r", "127.0.1.93", "-t", "0.5")
    assert code == 0
    assert "Loket Utara" in out and "127.0.1.93" in out and "1 device(s)" in out


def test_discover_watch_sweeps_report_found_and_lost(
    fleet: Callable[..., DiscoveryResponder], capsys: pytest.CaptureFixture[str]
) -> None:
    cam = fleet(host="127.0.1.94")

    # the camera leaves while the watch waits for its second sweep
    threading.Timer(0.8, cam.stop).start()
    code, out, _ = run(
        capsys,
        "discover",
        "-r",
        "127.0.1.94",
        "-t",
        "0.3",
        "--watch",
        "--interval",
        "1.0",
        "--duration",
        "2.5",
        "--json",
    )
    assert code == 0
    events = [(e["event"], e["endpoint"]) for e in map(json.loads, out.splitlines())]
    assert events == [("found", cam.endpoint), ("lost", cam.endpoint)]


@pytest.mark.parametrize(
    ("argv", "code", "message"),
    [
        (["discover", "--http-check"], 2, "--http-check needs --range"),
        (["discover", "-r", "10.0.0.0/33"], 2, "bad target"),
        (["discover", "-i", "no-such-if0"], 2, "no local interface"),
    ],
)
def test_discover_errors_are_one_line(
    capsys: pytest.CaptureFixture[str], argv: list[str], code: int, message: str
) -> None:
    got, out, err = run(capsys, *argv)
    assert got == code and out == ""
    assert message in err and len(err.strip().splitlines()) == 1


def test_http_check_finds_a_virtual_camera_that_ignores_probes() -> None:
    # A real ONVIF SOAP peer (digest auth required for everything but GetSystemDateAndTime), no WS-Discovery.
    with VirtualCamera(host="127.0.1.95", port=8899, auth="digest"):
        devices = discover(ranges=["127.0.1.95"], timeout=0.3, http_check_ports=[80, 8899], http_timeout=1.0)
    assert [(d.address, d.source, d.xaddrs) for d in devices] == [
        ("127.0.1.95", "http", ["http://127.0.1.95:8899/onvif/device_service"])
    ]
