"""Stream sources of ``snapshot``/``record``/``stream``: a URL gets ``-u``/``-p``; ``record`` cleans up after itself."""

from __future__ import annotations

import json
import signal
from collections.abc import Iterator
from pathlib import Path

import pytest

from clitools import run
from kedirivms.sim.rtsp import RtspServer, StreamSpec

PASSWORD = "Src-s3cret-pw"


@pytest.fixture(scope="module")
def locked() -> Iterator[RtspServer]:
    """An RTSP server that refuses requests without the viewer's credentials."""
    with RtspServer(users={"viewer": PASSWORD}) as srv:
        # its own spec: encoders are shared process-wide, and the RTSP server tests count starts of theirs
        srv.add_stream("cam", StreamSpec(width=160, height=120, fps=10, bitrate=120_000, gop=10))
        yield srv


def test_snapshot_of_url_embeds_user_and_password(
    locked: RtspServer, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    out_file = tmp_path / "frame.png"
    code, out, err = run(capsys, "snapshot", locked.url("cam"), "-u", "viewer", "-p", PASSWORD, "-o", str(out_file))
    assert code == 0, err
    assert out_file.read_bytes()[:4] == b"\x89PNG" and PASSWORD not in out + err
    refused = tmp_path / "refused.png"
    code, out, err = run(capsys, "snapshot", locked.url("cam"), "--timeout", "3", "-o", str(refused))
    assert code == 3 and "refused the credentials" in err and not refused.exists()


def test_record_url_restores_sigterm_handler(
    locked: RtspServer, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    before = signal.getsignal(signal.SIGTERM)
    code, out, err = run(capsys, "record", locked.url("cam"), "-u", "viewer", "-p", PASSWORD,
                         "--root", str(tmp_path), "--camera", "c", "--seconds", "1", "--json")  # fmt: skip
    assert code == 0, err
    last = json.loads(out.strip().splitlines()[-1])
    assert last["state"] == "closed" and last["packets_written"] > 0
    assert PASSWORD not in out + err
    assert signal.getsignal(signal.SIGTERM) is before


def test_record_bad_retention_is_one_line(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    code, _, err = run(capsys, "record", "rtsp://127.0.0.1:9/none", "--root", str(tmp_path), "--max-age", "soon")
    assert code == 2 and "not a duration" in err
    assert len(err.strip().splitlines()) == 1 and "Traceback" not in err
