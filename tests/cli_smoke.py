"""CLI exit-code smoke test for a venv made with a plain ``pip install .`` (no dev extras): ``make test`` runs it.

It imports only the installed package and runs its ``kedirivms`` script, so a runtime dependency that only the dev
extras happen to bring (click once was one) fails CI here. Not collected by pytest (the suite has its own venv).
Run: ``.venv-plain/bin/python tests/cli_smoke.py``.
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
from pathlib import Path

from kedirivms.sim import VirtualCamera, VirtualCameraConfig

SCRIPT = Path(sys.executable).parent / "kedirivms"
PASSWORD = "Smoke-s3cret-pw"


def _closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def check(expected: int, *argv: str) -> str:
    """Run ``kedirivms *argv``; fail unless it exits ``expected`` without a traceback or the password."""
    env = {**os.environ, "KEDIRIVMS_PASSWORD": ""}
    done = subprocess.run([str(SCRIPT), *argv], capture_output=True, text=True, timeout=60, env=env)
    shown = done.stdout + done.stderr
    problems = []
    if done.returncode != expected:
        problems.append(f"exit {done.returncode}, expected {expected}")
    if "Traceback" in shown:
        problems.append("a traceback")
    if PASSWORD in shown:
        problems.append("the password")
    if problems:
        raise SystemExit(f"FAIL kedirivms {' '.join(argv)}: {', '.join(problems)}\n{shown[-3000:]}")
    print(f"ok   exit {expected}  kedirivms {' '.join(argv)}".replace(PASSWORD, "***"))
    return done.stdout


def main() -> None:
    closed = _closed_port()
    check(0, "--help")
    usage = check(2, "info", "--bogus")
    del usage
    check(5, "info", f"127.0.0.1:{closed}", "--timeout", "1")
    check(5, "stream", f"rtsp://127.0.0.1:{closed}/x", "--seconds", "1", "--timeout", "1", "--read-timeout", "1")
    check(0, "doctor", "--json")
    cam = VirtualCamera(VirtualCameraConfig(password=PASSWORD)).start()
    try:
        report = json.loads(check(0, "info", cam.device_url, "-u", "admin", "-p", PASSWORD, "--json", "--timeout", "3"))
        assert report["profiles"], report
        check(3, "info", cam.device_url, "-u", "admin", "-p", "wrong-password", "--timeout", "3")
    finally:
        cam.stop()
    print("cli smoke: all exit codes as documented")


if __name__ == "__main__":
    main()
