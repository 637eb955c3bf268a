"""A hostile ONVIF camera (tests/hostile_peers.py) against ``kedirivms info --json`` and the getting-started API.

Each row of :data:`hostile_peers.SOAP_CASES` names the reply it breaks and what must come out: a valid result or
the error class (the CLI: its documented exit code). Every run must end within the request deadline, print no
traceback, no secret and no forged line, and the CLI's ``--json`` must be valid JSON.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from typing import Any

import pytest

from clitools import run
from hostile_peers import PASSWORD, SOAP_CASES, HostileCamera, SoapCase, fault, trickle
from kedirivms import Camera
from kedirivms.errors import KedirivmsError
from kedirivms.sim import VirtualCamera, VirtualCameraConfig


# connect and read time-outs: generous for the cases that must succeed on a loaded machine, short (request
# deadline 2 s) for the cases that only end at the deadline
def _timeout(case: SoapCase) -> float:
    return 1.0 if case.slow else 3.0


BOUND = 20.0  # no case may take longer (a hang bound, not a speed assertion)


@pytest.fixture(scope="module")
def upstream() -> Iterator[VirtualCamera]:
    cam = VirtualCamera(VirtualCameraConfig(password=PASSWORD)).start()
    yield cam
    cam.stop()


def _no_nan(value: str) -> Any:
    raise AssertionError(f"invalid JSON constant {value}")


def _api(url: str, timeout: float) -> tuple[Any, str]:
    with Camera(url, username="admin", password=PASSWORD, timeout=(timeout, timeout)) as cam:
        cam.device_information()
        profiles = cam.profiles(with_stream_uris=True)
        return profiles, repr(cam.services()) + repr(profiles)


@pytest.mark.parametrize("case", SOAP_CASES, ids=[c.name for c in SOAP_CASES])
def test_api(upstream: VirtualCamera, case: SoapCase) -> None:
    with HostileCamera(upstream.device_url, case) as hostile:
        started = time.monotonic()
        if case.api is None:
            _, shown = _api(hostile.url, _timeout(case))
            assert PASSWORD not in shown and "admin:" not in shown
        else:
            with pytest.raises(case.api) as info:
                _api(hostile.url, _timeout(case))
            shown = str(info.value) + repr(info.value) + str(getattr(info.value, "detail", ""))
            assert PASSWORD not in shown
        assert time.monotonic() - started < BOUND
        if case.name == "profiles-20000":
            assert "GetStreamUri" not in hostile.seen  # refused before acting on any of them


# the CLI path is the API's plus printing: one absurd value per field is enough there
CLI_CASES = [c for c in SOAP_CASES if "number" not in c.tags or c.name.startswith(("number-Width", "clock-"))]


@pytest.mark.parametrize("case", CLI_CASES, ids=[c.name for c in CLI_CASES])
def test_cli_info(upstream: VirtualCamera, case: SoapCase, capsys: pytest.CaptureFixture[str]) -> None:
    with HostileCamera(upstream.device_url, case) as hostile:
        started = time.monotonic()
        timeout = str(_timeout(case))
        code, out, err = run(capsys, "info", hostile.url, "-u", "admin", "-p", PASSWORD, "--json", "--timeout", timeout)
        assert time.monotonic() - started < BOUND
    assert code == case.cli, err
    assert "Traceback" not in out + err
    assert PASSWORD not in out + err
    if code == 0:
        assert err == ""  # nothing logged on success (zeep's warnings included)
        report = json.loads(out, parse_constant=_no_nan)
        assert "admin:" not in json.dumps(report["services"])
    else:
        assert out == ""
        assert err.startswith("error: ") and err.count("\n") == 1, err  # one line: nothing forged after it
        assert len(err) < 1200
        assert "\x9b" not in err and "\u202e" not in err


def test_cli_info_table_escapes_camera_text(upstream: VirtualCamera, capsys: pytest.CaptureFixture[str]) -> None:
    case = next(c for c in SOAP_CASES if c.name == "device-markup")
    with HostileCamera(upstream.device_url, case) as hostile:
        code, out, err = run(capsys, "info", hostile.url, "-u", "admin", "-p", PASSWORD, "--timeout", "3")
    assert code == 0, err
    assert "[bold]x[/] [/]" in out  # shown literally, not read as markup
    assert "\x9b" not in out and "\u202e" not in out


def test_failed_connect_closes_the_session(upstream: VirtualCamera) -> None:
    case = next(c for c in SOAP_CASES if c.name == "basic-401-forever")
    with HostileCamera(upstream.device_url, case) as hostile:
        cam = Camera(hostile.url, username="admin", password=PASSWORD, timeout=(3.0, 3.0))
        with pytest.raises(KedirivmsError), cam:
            pass
    assert cam.state.value == "closed"
    assert not cam._transport.session.adapters["http://"].poolmanager.pools  # type: ignore[attr-defined]


def test_usage_error_prints_usage_and_exits_2(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run(capsys, "info", "--bogus")
    assert code == 2
    assert "Usage:" in err and "--bogus" in err and "unexpected error" not in err


@pytest.mark.parametrize(
    ("name", "code"), [("fault-not-authorized-events", 3), ("unsupported-events", 6), ("slowloris-events", 4)]
)
def test_cli_events_exit_codes(
    upstream: VirtualCamera, capsys: pytest.CaptureFixture[str], name: str, code: int
) -> None:
    action = {
        "fault-not-authorized-events": fault("nope", "ter:NotAuthorized"),
        "unsupported-events": fault("no", "ter:ActionNotSupported"),
        "slowloris-events": trickle(b"HTTP/1.1 200 OK\r\nContent-Length: 9999\r\n\r\n<", b"x", 0.5),
    }[name]
    case = SoapCase(name, "CreatePullPointSubscription", action, None, code)
    with HostileCamera(upstream.device_url, case) as hostile:
        got, out, err = run(
            capsys, "events", hostile.url, "-u", "admin", "-p", PASSWORD, "--seconds", "1", "--json", "--timeout", "1"
        )
    assert got == code, err
    assert err.startswith("error: ") and err.count("\n") == 1 and PASSWORD not in out + err
