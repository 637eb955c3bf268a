"""A hostile RTSP server (tests/hostile_peers.py) against ``kedirivms stream`` and ``open_stream``.

Each row of :data:`hostile_peers.RTSP_CASES` says what DESCRIBE gets and which error (and documented exit code)
must come out; a closed port must give a connection failure too. No case may hang, print a traceback or a secret.
"""

from __future__ import annotations

import json
import time
from pathlib import Path

import pytest

from clitools import free_port, run
from hostile_peers import PASSWORD, RTSP_CASES, HostileRtsp, RtspCase
from kedirivms import open_stream
from kedirivms.errors import ConnectionFailed, KedirivmsError

BOUND = 30.0  # a hang bound, not a speed assertion


def _with_password(url: str) -> str:
    return url.replace("rtsp://", f"rtsp://admin:{PASSWORD}@")


@pytest.mark.parametrize("case", RTSP_CASES, ids=[c.name for c in RTSP_CASES])
def test_open_stream(case: RtspCase) -> None:
    with HostileRtsp(case) as server:
        started = time.monotonic()
        with pytest.raises(case.error) as info, open_stream(_with_password(server.url), timeout=(2.0, 1.0),
                                                            reconnect=False) as stream:  # fmt: skip
            stream.read(timeout=10)
        assert time.monotonic() - started < BOUND
    assert PASSWORD not in str(info.value) + repr(info.value)


@pytest.mark.parametrize("case", RTSP_CASES, ids=[c.name for c in RTSP_CASES])
def test_cli_stream_exit_code(case: RtspCase, capsys: pytest.CaptureFixture[str]) -> None:
    with HostileRtsp(case) as server:
        code, out, err = run(
            capsys, "stream", _with_password(server.url), "--seconds", "1", "--read-timeout", "1", "--timeout", "2",
            "--json",
        )  # fmt: skip
    assert code == case.cli, err
    assert out == "" and err.startswith("error: ") and err.count("\n") == 1, err
    assert "Traceback" not in err and PASSWORD not in err


def test_cli_stream_closed_port_exits_5(capsys: pytest.CaptureFixture[str]) -> None:
    url = f"rtsp://admin:{PASSWORD}@127.0.0.1:{free_port()}/x"
    code, out, err = run(capsys, "stream", url, "--seconds", "1", "--read-timeout", "1", "--timeout", "1", "--json")
    assert code == 5, err
    assert PASSWORD not in out + err
    with pytest.raises(ConnectionFailed), open_stream(url, timeout=(1.0, 1.0), reconnect=False) as stream:
        stream.read(timeout=5)


def test_cli_stream_of_a_real_server_still_exits_0(capsys: pytest.CaptureFixture[str], server_process: object) -> None:
    server = server_process()  # type: ignore[operator]
    code, out, err = run(capsys, "stream", server.url, "--seconds", "2", "--json")
    assert code == 0, err
    assert json.loads(out)["frames"] > 0


def test_every_failure_is_typed() -> None:
    assert all(issubclass(c.error, KedirivmsError) for c in RTSP_CASES)


@pytest.mark.parametrize("name", ["401-digest", "404"])
def test_cli_record_exit_codes(name: str, capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    case = next(c for c in RTSP_CASES if c.name == name)
    with HostileRtsp(case) as server:
        code, out, err = run(
            capsys, "record", _with_password(server.url), "--root", str(tmp_path), "--seconds", "1", "--timeout", "2",
            "--json",
        )  # fmt: skip
    assert code == case.cli, err
    assert err.startswith("error: ") and err.count("\n") == 1 and PASSWORD not in out + err
