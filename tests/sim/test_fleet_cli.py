"""Fleets on distinct loopback addresses, many concurrent clients, the ``simulate`` command."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor

import pytest
import requests
from _sim_zeep import MEDIA_BINDING, PASSWORD, zeep_service

from kedirivms.errors import ConnectionFailed
from kedirivms.sim import CameraRunState, VirtualCamera, VirtualCameraConfig, VirtualFleet


def test_fleet_on_distinct_hosts() -> None:
    base = VirtualCameraConfig(password=PASSWORD, auth="digest", port=0)
    with VirtualFleet.start(3, base=base, distinct_hosts=True) as fleet:
        assert [cam.host for cam in fleet] == ["127.0.1.1", "127.0.1.2", "127.0.1.3"]
        serials = set()
        for cam in fleet:
            from requests.auth import HTTPDigestAuth

            device = zeep_service(cam.device_url, username=None, http_auth=HTTPDigestAuth("admin", PASSWORD))
            serials.add(device.GetDeviceInformation().SerialNumber)
            xaddrs = {s.XAddr for s in device.GetServices(IncludeCapability=False)}
            assert all(x.startswith(f"http://{cam.host}:{cam.port}/") for x in xaddrs)
        assert len(serials) == 3
    assert all(cam.run_state is CameraRunState.STOPPED for cam in fleet)


def test_fleet_same_host_consecutive_ports_and_bind_failure() -> None:
    with VirtualCamera(VirtualCameraConfig(auth="none")) as probe:
        taken = probe.port
        with pytest.raises(ConnectionFailed, match="cannot listen"):
            VirtualCamera(VirtualCameraConfig(port=taken)).start()
    with VirtualFleet.start(2, base=VirtualCameraConfig(auth="none"), distinct_hosts=False) as fleet:
        assert len({cam.port for cam in fleet}) == 2 and {cam.host for cam in fleet} == {"127.0.0.1"}


def test_many_concurrent_clients_keep_alive() -> None:
    with VirtualCamera(VirtualCameraConfig(password=PASSWORD, channels=4)) as cam:

        def work(i: int) -> int:
            media = zeep_service(cam.media_url, MEDIA_BINDING)
            device = zeep_service(cam.device_url)
            n = 0
            for _ in range(5):
                n += len(media.GetProfiles())
                assert device.GetDeviceInformation().Model
            return n

        with ThreadPoolExecutor(8) as pool:
            assert list(pool.map(work, range(8))) == [40] * 8
        assert sum(1 for r in cam.request_log if r.status == 200) == 80


def test_stop_closes_idle_keep_alive_connections() -> None:
    cam = VirtualCamera(VirtualCameraConfig(auth="none")).start()
    session = requests.Session()
    url = f"{cam.base_url}/onvif/snapshot/Profile_1_sub.jpg"
    assert session.get(url, timeout=5).status_code == 200  # leaves a keep-alive connection open
    cam.stop()
    with pytest.raises(requests.exceptions.ConnectionError):
        session.get(url, timeout=2)
    cam.stop()  # idempotent


def _simulate(*args: str) -> subprocess.Popen[str]:
    env = {**os.environ, "COLUMNS": "200"}
    return subprocess.Popen(
        [sys.executable, "-m", "kedirivms.sim", *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
    )


def test_simulate_json_then_sigterm_stops_cleanly() -> None:
    proc = _simulate("--cameras", "2", "--nvr-channels", "3", "--auth", "digest", "--password", PASSWORD, "--json")
    try:
        assert proc.stdout is not None
        rows = json.loads(proc.stdout.readline())
        assert [r["channels"] for r in rows] == [3, 3] and len(rows[0]["profiles"]) == 6
        from requests.auth import HTTPDigestAuth

        for row in rows:
            assert row["auth"] == "digest" and row["password"] == PASSWORD
            device = zeep_service(row["device_url"], username=None, http_auth=HTTPDigestAuth("admin", PASSWORD))
            assert device.GetDeviceInformation().Manufacturer
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=10) == 0
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()


def test_simulate_table_and_bad_option(capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> None:
    from kedirivms.cli import main

    monkeypatch.setenv("COLUMNS", "200")
    main(["simulate", "--cameras", "2", "--duration", "0.2"])
    out = capsys.readouterr().out
    assert out.count("/onvif/device_service") == 2 and "admin123" in out
    with pytest.raises(SystemExit) as bad:
        main(["simulate", "--auth", "kerberos", "--duration", "0"])
    err = capsys.readouterr().err
    assert bad.value.code != 0 and "kerberos" in err and len(err.strip().splitlines()) == 1


def test_simulate_with_rtsp_serves_the_advertised_stream_uris() -> None:
    import socket

    from kedirivms.cli._simulate import start_cameras

    site = start_cameras(2, "127.0.0.1", 0, True, VirtualCameraConfig(auth="none", channels=2), rtsp=True)
    try:
        for cam in site.fleet:
            media = zeep_service(cam.media_url, MEDIA_BINDING)
            setup = {"Stream": "RTP-Unicast", "Transport": {"Protocol": "RTSP"}}
            uri = media.GetStreamUri(StreamSetup=setup, ProfileToken="Profile_2_sub").Uri
            host, port = uri.split("/")[2].split(":")
            assert host == cam.host and int(port) != 554
            with socket.create_connection((host, int(port)), timeout=5) as sock:
                sock.sendall(f"DESCRIBE {uri} RTSP/1.0\r\nCSeq: 1\r\nAccept: application/sdp\r\n\r\n".encode())
                reply = b""
                while b"m=video" not in reply:  # headers and SDP may arrive in pieces
                    chunk = sock.recv(4096)
                    if not chunk:
                        break
                    reply += chunk
            assert reply.startswith(b"RTSP/1.0 200") and b"H264" in reply
        cam = site.fleet[0]
        media = zeep_service(cam.media_url, MEDIA_BINDING)
        conf = media.GetVideoEncoderConfiguration(ConfigurationToken="VideoEncoder_2_sub")
        conf.Resolution.Width, conf.Resolution.Height = 320, 240
        media.SetVideoEncoderConfiguration(Configuration=conf, ForcePersistence=True)
        spec = site.rtsp_servers[0].streams["Profile_2_sub"]
        assert (spec.width, spec.height) == (320, 240)
    finally:
        site.stop()
