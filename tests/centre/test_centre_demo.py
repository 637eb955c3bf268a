"""``make demo`` opens with the centre's page: its URL is the first line, and the page shows the demo's counters live
while the story runs; the PNG chart stays for the terminal-only user."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import urllib.request
from pathlib import Path
from typing import Any

from .conftest import wait_until

COUNTERS = {"loket-1", "loket-2", "loket-nvr"}


def _sigint_as_ctrl_c() -> None:
    """In the demo's process, before it starts: SIGINT does what Ctrl-C does, even where the tests were started
    with SIGINT ignored (a background job of a non-interactive shell), which a child would inherit."""
    signal.signal(signal.SIGINT, signal.SIG_DFL)


def get_json(url: str) -> Any:
    with urllib.request.urlopen(url, timeout=10) as r:
        return json.loads(r.read())


def test_demo_prints_the_page_first_and_the_page_shows_its_counters_live(tmp_path: Path) -> None:
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).parents[2] / "src"), "COLUMNS": "150"}
    # the page lives as long as the story. A fixed short story once ended (and its page with it) before any camera of
    # a loaded CI box had delivered a frame, so the story is long and the test ends it with SIGINT (Ctrl-C) once the
    # page has shown its counters live; the demo then still writes its results
    proc = subprocess.Popen(
        [sys.executable, "-m", "kedirivms.demo", "--seconds", "240", "--out", str(tmp_path), "--http", "127.0.0.1:0"],
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env=env, preexec_fn=_sigint_as_ctrl_c,
    )  # fmt: skip
    try:
        assert proc.stdout is not None
        first = proc.stdout.readline()
        assert first.startswith("centre page: http://127.0.0.1:"), first
        url = first.split()[2]
        # before any camera runs, every counter of the demo has its tile (offline)
        tiles = get_json(url + "api/counters")["counters"]
        assert {t["camera"] for t in tiles} == COUNTERS
        # while the story runs, its counters come alive on the page: frames, then queue statistics
        wait_until(lambda: any(t["state"] != "offline" for t in get_json(url + "api/counters")["counters"]), 60.0, 0.5)
        wait_until(lambda: get_json(url + "api/fleet")["events"] > 0, 60.0, 0.5)
        proc.send_signal(signal.SIGINT)
        out, _ = proc.communicate(timeout=120)
    except Exception as exc:  # say what the demo printed: a page that went away is the demo having ended
        if proc.poll() is None:
            proc.kill()
        rest, _ = proc.communicate(timeout=10)
        raise AssertionError(f"{exc!r}; the demo (exit {proc.returncode}) printed:\n{rest}") from exc
    assert proc.returncode == 0, out
    assert "story ended early" in out, out
    assert (tmp_path / "queue_chart.png").read_bytes()[:4] == b"\x89PNG"  # the chart stays
    assert (tmp_path / "centre.sqlite").exists()


# Ctrl-C while the deployment's cameras are still being tried: the test above sends SIGINT once the page shows an
# event, and on a loaded box that came before the story's board, where the interrupt escaped (a traceback, or a
# process held open by the deployment's threads)
_CTRL_C_WHILE_TRIED = """
import os, signal, sys
from kedirivms.deploy import Deployment
from kedirivms import demo

tried = Deployment.wait_tried

def interrupted(self, timeout):
    os.kill(os.getpid(), signal.SIGINT)  # a real SIGINT, as Ctrl-C sends it
    return tried(self, timeout)

Deployment.wait_tried = interrupted
demo.main(sys.argv[1:])
"""


def test_ctrl_c_while_the_cameras_are_tried_ends_the_story_early(tmp_path: Path) -> None:
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).parents[2] / "src"), "COLUMNS": "150"}
    proc = subprocess.run(
        [sys.executable, "-c", _CTRL_C_WHILE_TRIED, "--seconds", "240", "--out", str(tmp_path), "--http", ""],
        capture_output=True, text=True, env=env, timeout=100, preexec_fn=_sigint_as_ctrl_c,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "story ended early" in proc.stdout and "Traceback" not in proc.stderr, proc.stdout + proc.stderr
    assert (tmp_path / "queue_chart.png").read_bytes()[:4] == b"\x89PNG"  # its results are still shown
