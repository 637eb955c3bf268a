"""Servers that write headers and body in two TCP segments with Nagle on (the virtual camera's
``split_reply_nagle`` quirk): a keep-alive client in delayed-ACK mode stalls ~40 ms per call; ours does not.

Counted, not timed: the kernel's ``TcpExt DelayedACKs`` counter (per network namespace) says how often an ACK
waited for the delayed-ACK timer. Each run happens in a network namespace of its own (``unshare --net``), so no
other traffic counts; the baseline is plain `requests` (a third-party client) on the same camera.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from kedirivms import Camera
from kedirivms.sim import VirtualCamera, VirtualCameraConfig

CALLS = 20

_SCRIPT = """
import json, sys
import requests
from kedirivms import Camera
from kedirivms.sim import VirtualCamera, VirtualCameraConfig

def delayed_acks():
    lines = open("/proc/net/netstat").read().splitlines()
    for head, values in zip(lines[::2], lines[1::2]):
        if head.startswith("TcpExt:"):
            return int(dict(zip(head.split()[1:], values.split()[1:]))["DelayedACKs"])

BODY = ('<?xml version="1.0"?><s:Envelope xmlns:s="http://www.w3.org/2003/05/soap-envelope"><s:Body>'
        '<GetSystemDateAndTime xmlns="http://www.onvif.org/ver10/device/wsdl"/></s:Body></s:Envelope>')
HEADERS = {"Content-Type": "application/soap+xml"}
out = {}
for auth in ("none", "digest"):
    cfg = VirtualCameraConfig(auth=auth, password="Quirk-pw-1", quirks=frozenset({"split_reply_nagle"}))
    with VirtualCamera(cfg) as vc:
        with Camera(vc.device_url, username="admin", password="Quirk-pw-1") as cam:
            cam.device_information()
            before = delayed_acks()
            infos = [cam.device_information() for _ in range(CALLS)]
            out["kedirivms-" + auth] = delayed_acks() - before
            assert all(i.manufacturer for i in infos)
        with requests.Session() as s:
            s.post(vc.device_url, data=BODY, headers=HEADERS, timeout=5)
            before = delayed_acks()
            for _ in range(CALLS):
                r = s.post(vc.device_url, data=BODY, headers=HEADERS, timeout=5)
                assert r.status_code == 200 and b"SystemDateAndTime" in r.content
            out["requests-" + auth] = delayed_acks() - before
print(json.dumps(out))
"""


def test_replies_sent_in_two_segments_are_whole(vcam_password: str) -> None:
    cfg = VirtualCameraConfig(password=vcam_password, quirks=frozenset({"split_reply_nagle"}))
    with VirtualCamera(cfg) as vcam, Camera(vcam.device_url, username="admin", password=vcam_password) as cam:
        for _ in range(5):
            assert cam.device_information().model == cfg.model
            assert [p.token for p in cam.profiles()] == ["Profile_1_main", "Profile_1_sub"]


def test_no_call_waits_for_the_delayed_ack_timer() -> None:
    if os.geteuid() != 0 or shutil.which("unshare") is None or shutil.which("ip") is None:
        pytest.skip("needs root, unshare and ip to count ACKs in a network namespace of its own")
    src = str(Path(__file__).resolve().parents[2] / "src")
    code = f"CALLS = {CALLS}\n" + textwrap.dedent(_SCRIPT)
    proc = subprocess.run(
        ["unshare", "--net", "sh", "-c", 'ip link set lo up && exec "$0" -c "$1"', sys.executable, code],
        capture_output=True, text=True, timeout=120, env={**os.environ, "PYTHONPATH": src},
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    counts = json.loads(proc.stdout.strip().splitlines()[-1])
    # the quirk is real: a plain keep-alive client waits for the timer on (nearly) every call
    assert counts["requests-none"] >= CALLS // 2 and counts["requests-digest"] >= CALLS // 2, counts
    # ours acknowledges at once: raw urllib3 path (WS-UsernameToken/none) and requests' Digest path alike
    assert counts["kedirivms-none"] <= 2 and counts["kedirivms-digest"] <= 2, counts
