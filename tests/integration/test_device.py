"""Device management against a virtual camera over loopback."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from kedirivms import Camera
from kedirivms.errors import AuthenticationFailed, InvalidArgument
from kedirivms.sim import VirtualCamera


def test_information_and_services(camera: Camera, vcam: VirtualCamera) -> None:
    info = camera.device_information()
    assert (info.manufacturer, info.model) == (vcam.config.manufacturer, vcam.config.model)
    assert info.serial_number == vcam.config.serial_number
    xaddrs = camera.services().xaddrs
    assert {"device", "media"} <= set(xaddrs)
    assert all(url.startswith(f"http://{vcam.host}:{vcam.port}/") for url in xaddrs.values())


def test_system_date_time_and_set_time(camera: Camera, vcam: VirtualCamera) -> None:
    sdt = camera.device.system_date_time()
    assert sdt.utc_time is not None and abs(sdt.clock_offset_s) < 2.5
    target = datetime.now(UTC) + timedelta(days=3)
    camera.device.set_system_time(target, time_zone="WIB-7")
    assert abs(vcam.state.clock_skew_s - 3 * 86400) < 5
    assert abs(camera.clock_offset_s - 3 * 86400) < 5
    assert vcam.state.time_zone == "WIB-7"
    camera.device.set_time_source("NTP")
    assert vcam.state.date_time_type == "NTP"
    camera.device.set_time_zone("CST-8")
    assert camera.device.system_date_time().time_zone == "CST-8"
    camera.device.set_system_time(target)  # Manual clock: a time-zone change must carry the camera's time
    camera.device.set_time_zone("WITA-8")
    sdt = camera.device.system_date_time()
    assert sdt.time_zone == "WITA-8" and sdt.date_time_type == "Manual"
    assert abs(camera.clock_offset_s - 3 * 86400) < 5


def test_ntp(camera: Camera, vcam: VirtualCamera) -> None:
    camera.device.set_ntp(["10.20.0.1", "ntp.kediri.go.id", "fe80::1"])
    ntp = camera.device.ntp()
    assert ntp.servers == ["10.20.0.1", "ntp.kediri.go.id", "fe80::1"] and not ntp.from_dhcp
    with pytest.raises(InvalidArgument):
        camera.device.set_ntp(["not a host"])


def test_hostname(camera: Camera) -> None:
    camera.device.set_hostname("loket-3")
    assert camera.device.hostname() == "loket-3"
    with pytest.raises(InvalidArgument, match="hostname"):
        camera.device.set_hostname("-bad name")


def test_scopes(camera: Camera) -> None:
    camera.device.set_scopes(name="Loket 3", location="Kecamatan Pesantren/Loket 3")
    assert camera.device.scope_values("name") == ["Loket 3"]
    assert camera.device.scope_values("location") == ["Kecamatan Pesantren/Loket 3"]
    assert any(s.fixed for s in camera.device.scopes())
    camera.device.set_scopes(name="Loket 4")
    assert camera.device.scope_values("name") == ["Loket 4"]
    assert camera.device.scope_values("location") == ["Kecamatan Pesantren/Loket 3"]


def test_users(camera: Camera, vcam: VirtualCamera) -> None:
    camera.device.create_user("viewer", "view-pass-1", level="User")
    assert ("viewer", "User") in [(u.username, u.user_level) for u in camera.device.users()]
    camera.device.set_user("viewer", "view-pass-2")
    with Camera(vcam.device_url, username="viewer", password="view-pass-2", timeout=3) as viewer:
        assert viewer.device_information().model == vcam.config.model
    camera.device.delete_user("viewer")
    assert "viewer" not in [u.username for u in camera.device.users()]
    with pytest.raises(InvalidArgument):
        camera.device.create_user("x", "y", level="Root")


def test_network_interfaces_and_reboot(camera: Camera, vcam: VirtualCamera) -> None:
    nics = camera.device.network_interfaces()
    assert nics and nics[0].token and nics[0].ipv4_addresses
    camera.device.reboot()
    assert vcam.state.reboots == 1


@pytest.mark.parametrize("years", [10, -10, 3, 0])
def test_clock_skew_years(vcam_factory: Any, connect: Any, years: int) -> None:
    skew = years * 365.25 * 86400
    vcam = vcam_factory(clock_skew_s=skew)
    with connect(vcam) as cam:
        assert abs(cam.clock_offset_s - skew) < 2.5
        assert cam.device.hostname()  # authenticated call accepted thanks to the offset


def test_clock_relearned_after_the_camera_clock_jumps(camera: Camera, vcam: VirtualCamera) -> None:
    assert camera.device.hostname()
    with vcam.state.lock:
        vcam.state.clock_skew_s = 5 * 365 * 86400.0
    assert camera.device.hostname()  # NotAuthorized -> re-learn once -> retry
    assert abs(camera.clock_offset_s - 5 * 365 * 86400.0) < 2.5


def test_time_requires_auth(vcam_factory: Any, connect: Any) -> None:
    vcam = vcam_factory(time_requires_auth=True, clock_skew_s=1000.0)
    with connect(vcam) as cam:
        assert abs(cam.clock_offset_s - 1000.0) < 2.5
        assert cam.device_information().model


def test_wrong_password(vcam: VirtualCamera, connect: Any) -> None:
    with pytest.raises(AuthenticationFailed) as info:
        connect(vcam, password="wrong-password-123").device_information()
    assert "wrong-password-123" not in str(info.value)
    assert vcam.config.host in str(info.value)
