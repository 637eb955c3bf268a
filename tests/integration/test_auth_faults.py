"""Auth modes, NAT address rewrite, injected faults and vendor quirks, each giving a typed error or tolerance."""

from __future__ import annotations

import logging
from typing import Any

import pytest

from kedirivms import Camera
from kedirivms.errors import (
    AuthenticationFailed,
    ConnectionFailed,
    KedirivmsError,
    OnvifFault,
    ProtocolError,
    Timeout,
)
from kedirivms.sim import VirtualCamera


@pytest.mark.parametrize("mode", ["digest", "basic", "any", "username_token"])
def test_auth_modes_auto(vcam_factory: Any, connect: Any, mode: str) -> None:
    vcam = vcam_factory(auth=mode)
    with connect(vcam) as cam:
        assert cam.device_information().model == vcam.config.model
        assert cam.profiles()
        assert cam.snapshot("Profile_1_sub")[:2] == b"\xff\xd8"
    expected = {"digest": "digest", "basic": "basic"}.get(mode, "username_token")
    assert cam._transport.auth_mode == expected


def test_digest_only_camera_refuses_forced_username_token(vcam_factory: Any, connect: Any, vcam_password: str) -> None:
    vcam = vcam_factory(auth="digest")
    with pytest.raises(AuthenticationFailed) as info, connect(vcam, auth="username_token") as cam:
        cam.device_information()
    assert vcam_password not in str(info.value)


def test_no_auth_camera(vcam_factory: Any) -> None:
    vcam = vcam_factory(auth="none")
    with Camera(vcam.device_url, timeout=3) as cam:
        assert cam.device_information().manufacturer


def test_nat_advertised_address_is_rewritten(vcam_factory: Any, connect: Any) -> None:
    vcam = vcam_factory(advertised_host="10.0.0.99", advertised_port=8080, rtsp_port=8554)
    with connect(vcam) as cam:
        assert all(f"{vcam.host}:{vcam.port}" in url for url in cam.services().xaddrs.values())
        assert cam.stream_uri().uri.startswith(f"rtsp://{vcam.host}:8554/")
        assert cam.media.snapshot_uri("Profile_1_main").startswith(f"http://{vcam.host}:{vcam.port}/")
        assert cam.profiles()
    # opt-out: the advertised addresses are kept (and never contacted here)
    cam = connect(vcam, rewrite_addresses=False)
    assert cam.services().xaddrs["media"].startswith("http://10.0.0.99:8080/")


@pytest.mark.parametrize(
    ("kind", "error"),
    [
        ("delay", Timeout),
        ("http500", OnvifFault),
        ("malformed", ProtocolError),
        ("drop", ConnectionFailed),
        ("hostile", ProtocolError),
    ],
)
def test_faults_give_typed_errors(
    camera: Camera, vcam: VirtualCamera, vcam_password: str, kind: str, error: type
) -> None:
    vcam.inject_fault(kind, operation="GetProfiles", delay_s=5.0)  # type: ignore[arg-type]
    try:
        with pytest.raises(error) as info:
            camera.profiles()
    finally:
        vcam.clear_faults()
    assert "GetProfiles" in str(info.value) and vcam.host in str(info.value)
    assert vcam_password not in str(info.value)
    assert camera.profiles()  # the camera object stays usable


def test_connection_refused(unused_port: int, vcam_password: str) -> None:
    with pytest.raises(ConnectionFailed, match="hint"):
        Camera(f"127.0.0.1:{unused_port}", username="admin", password=vcam_password, timeout=2).connect()


@pytest.mark.parametrize("quirk", ["date_dash", "overflow_time", "xaddr_other_host", "no_wsa_prefix"])
def test_quirks_tolerated(vcam_factory: Any, connect: Any, quirk: str) -> None:
    vcam = vcam_factory(quirks=frozenset({quirk}), clock_skew_s=3600.0)
    with connect(vcam) as cam:
        assert abs(cam.clock_offset_s - 3600.0) < 62  # overflow_time may roll a minute
        assert cam.device.system_date_time().utc_time is not None
        assert cam.profiles()
        assert all(vcam.host in url for url in cam.services().xaddrs.values())


def test_fault_with_undeclared_prefix(vcam_factory: Any, connect: Any) -> None:
    vcam = vcam_factory(quirks=frozenset({"fault_undeclared_prefix"}))
    with pytest.raises(AuthenticationFailed), connect(vcam, password="bad-password-xyz") as cam:
        cam.device_information()


def test_null_uri(vcam_factory: Any, connect: Any) -> None:
    vcam = vcam_factory(quirks=frozenset({"null_uri"}))
    with connect(vcam) as cam:
        with pytest.raises(ProtocolError, match="empty stream URI"):
            cam.stream_uri()
        profiles = cam.profiles(with_stream_uris=True)
        assert profiles and all(p.stream_uri is None for p in profiles)


def test_no_credentials_in_logs_or_errors(
    vcam_factory: Any, connect: Any, vcam_password: str, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    digest = vcam_factory(auth="digest")
    messages: list[str] = []
    with connect(digest) as cam:
        uri = cam.stream_uri()
        messages += [repr(cam), str(uri), repr(uri), uri.model_dump_json(), str(cam.profiles(with_stream_uris=True))]
    for kind in ("drop", "malformed", "http500"):
        digest.inject_fault(kind)  # type: ignore[arg-type]
        try:
            with connect(digest) as cam:
                cam.profiles()
        except KedirivmsError as exc:
            messages += [str(exc), repr(exc)]
        finally:
            digest.clear_faults()
    try:
        with connect(digest, password="an0ther-Secret") as cam:
            cam.profiles()
    except KedirivmsError as exc:
        messages += [str(exc), repr(exc)]
    text = "\n".join(messages + [r.getMessage() for r in caplog.records])
    assert vcam_password not in text and "an0ther-Secret" not in text
    assert len(messages) >= 8


def test_one_dropped_connection_is_retried_for_reads_only(camera: Camera, vcam: VirtualCamera) -> None:
    vcam.inject_fault("drop", operation="GetProfiles", count=1)
    assert camera.profiles()  # a read is retried once, with back-off
    vcam.inject_fault("drop", operation="SetHostname", count=1)
    with pytest.raises(ConnectionFailed):
        camera.device.set_hostname("loket-5")  # a write is not: it may have been applied
    camera.device.set_hostname("loket-5")
    assert camera.device.hostname() == "loket-5"
