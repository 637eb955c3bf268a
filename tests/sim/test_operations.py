"""Every Device and Media operation answers schema-valid replies that a strict third-party zeep client parses."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from _sim_zeep import MEDIA_BINDING, PASSWORD, PTZ_BINDING, zeep_service
from zeep.exceptions import Fault

from kedirivms.sim import EncoderSpec, VirtualCamera, VirtualCameraConfig

TDS = "http://www.onvif.org/ver10/device/wsdl"
TRT = "http://www.onvif.org/ver10/media/wsdl"


def subcodes(fault: Fault) -> list[str]:
    return [q.localname for q in fault.subcodes or []]


def test_device_information_and_services(device: Any, camera: VirtualCamera) -> None:
    info = device.GetDeviceInformation()
    cfg = camera.config
    assert (info.Manufacturer, info.Model, info.FirmwareVersion) == (cfg.manufacturer, cfg.model, cfg.firmware_version)
    assert (info.SerialNumber, info.HardwareId) == (cfg.serial_number, cfg.hardware_id)
    services = {s.Namespace: s for s in device.GetServices(IncludeCapability=True)}
    assert services[TDS].XAddr == camera.device_url
    assert services[TRT].XAddr == camera.media_url
    assert services[TDS].Capabilities._value_1.Security.UsernameToken is True
    assert {s.XAddr.rsplit("/", 1)[1] for s in services.values()} >= {"ptz_service", "events_service"}
    assert all(s.Capabilities is None for s in device.GetServices(IncludeCapability=False))
    caps = device.GetCapabilities(Category=["All"])
    assert caps.Device.XAddr == camera.device_url and caps.Media.XAddr == camera.media_url
    assert caps.Media.StreamingCapabilities.RTP_RTSP_TCP is True
    only_media = device.GetCapabilities(Category=["Media"])
    assert only_media.Device is None and only_media.Media is not None
    assert device.GetWsdlUrl().startswith("http://")


def test_date_time_ntp_and_time_zone(device: Any, camera: VirtualCamera) -> None:
    reply = device.GetSystemDateAndTime()
    utc = reply.UTCDateTime
    camera_time = dt.datetime(utc.Date.Year, utc.Date.Month, utc.Date.Day, utc.Time.Hour, utc.Time.Minute,
                              utc.Time.Second, tzinfo=dt.UTC)  # fmt: skip
    assert abs((camera_time - dt.datetime.now(dt.UTC)).total_seconds()) < 5
    target = dt.datetime.now(dt.UTC) + dt.timedelta(days=400)
    device.SetSystemDateAndTime(
        DateTimeType="Manual",
        DaylightSavings=False,
        TimeZone={"TZ": "WIB-7"},
        UTCDateTime={"Date": {"Year": target.year, "Month": target.month, "Day": target.day},
                     "Time": {"Hour": target.hour, "Minute": target.minute, "Second": target.second}},
    )  # fmt: skip
    assert abs(camera.state.clock_skew_s - 400 * 86400) < 5
    with pytest.raises(Fault) as info:  # tokens are now checked against the camera clock, 400 days ahead
        device.GetHostname()
    assert subcodes(info.value) == ["NotAuthorized"]
    device = zeep_service(camera.device_url, created=camera.now())
    reply = device.GetSystemDateAndTime()
    assert reply.DateTimeType == "Manual" and reply.TimeZone.TZ == "WIB-7"
    assert reply.UTCDateTime.Date.Year == target.year
    local = reply.LocalDateTime.Time.Hour
    assert local == (reply.UTCDateTime.Time.Hour + 7) % 24
    with pytest.raises(Fault) as info:
        device.SetSystemDateAndTime(DateTimeType="NTP", DaylightSavings=False, TimeZone={"TZ": "not a zone"})
    assert subcodes(info.value) == ["InvalidArgVal", "InvalidTimeZone"]
    device.SetNTP(FromDHCP=False, NTPManual=[{"Type": "DNS", "DNSname": "pool.ntp.org"},
                                            {"Type": "IPv4", "IPv4Address": "192.0.2.1"}])  # fmt: skip
    ntp = device.GetNTP()
    assert [h.DNSname or h.IPv4Address for h in ntp.NTPManual] == ["pool.ntp.org", "192.0.2.1"]


def test_hostname_scopes_and_network(device: Any, camera: VirtualCamera) -> None:
    device.SetHostname(Name="counter-07")
    assert device.GetHostname().Name == "counter-07" and camera.state.hostname == "counter-07"
    with pytest.raises(Fault) as info:
        device.SetHostname(Name="bad name!")
    assert subcodes(info.value) == ["InvalidArgVal", "InvalidHostname"]
    scopes = {s.ScopeItem: s.ScopeDef for s in device.GetScopes()}
    assert scopes["onvif://www.onvif.org/name/Virtual%20Camera"] == "Configurable"
    assert scopes["onvif://www.onvif.org/Profile/Streaming"] == "Fixed"
    device.SetScopes(Scopes=["onvif://www.onvif.org/name/Loket_1", "onvif://www.onvif.org/location/Kediri"])
    device.AddScopes(ScopeItem=["onvif://www.onvif.org/location/building/B"])
    removed = device.RemoveScopes(ScopeItem=["onvif://www.onvif.org/location/Kediri"])
    assert removed == ["onvif://www.onvif.org/location/Kediri"]
    items = [s.ScopeItem for s in device.GetScopes() if s.ScopeDef == "Configurable"]
    assert items == ["onvif://www.onvif.org/name/Loket_1", "onvif://www.onvif.org/location/building/B"]
    with pytest.raises(Fault) as info:
        device.RemoveScopes(ScopeItem=["onvif://www.onvif.org/Profile/Streaming"])
    assert subcodes(info.value) == ["OperationProhibited", "FixedScope"]
    nics = device.GetNetworkInterfaces()
    assert nics[0].IPv4.Config.Manual[0].Address == camera.host and nics[0].Info.HwAddress.count(":") == 5


def test_users_lifecycle(device: Any, camera: VirtualCamera) -> None:
    assert [(u.Username, u.UserLevel, u.Password) for u in device.GetUsers()] == [("admin", "Administrator", None)]
    device.CreateUsers(User=[{"Username": "viewer", "Password": "view-1", "UserLevel": "User"}])
    assert zeep_service(camera.device_url, username="viewer", password="view-1").GetHostname().Name
    with pytest.raises(Fault) as info:
        device.CreateUsers(User=[{"Username": "viewer", "Password": "x", "UserLevel": "User"}])
    assert subcodes(info.value) == ["OperationProhibited", "UsernameClash"]
    device.SetUser(User=[{"Username": "viewer", "Password": "view-2", "UserLevel": "Operator"}])
    assert camera.state.user("viewer").level == "Operator"  # type: ignore[union-attr]
    with pytest.raises(Fault):
        zeep_service(camera.device_url, username="viewer", password="view-1").GetHostname()
    device.DeleteUsers(Username=["viewer"])
    assert [u.Username for u in device.GetUsers()] == ["admin"]
    with pytest.raises(Fault) as info:
        device.DeleteUsers(Username=["admin"])
    assert subcodes(info.value) == ["InvalidArgVal", "FixedUser"]
    assert PASSWORD not in repr(camera.state) and "view-2" not in repr(camera.state)


def test_reboot_recorded_and_downtime() -> None:
    with VirtualCamera(VirtualCameraConfig(password=PASSWORD, reboot_downtime_s=30)) as cam:
        device = zeep_service(cam.device_url, timeout=2)
        assert device.SystemReboot()
        assert cam.state.reboots == 1
        with pytest.raises(Exception) as info:  # the camera "reboots": connections dropped without reply
            device.GetHostname()
        assert "Connection" in type(info.value).__name__ or "Connection" in str(info.value)
        cam._unavailable_until = 0.0  # reboot over
        assert device.GetHostname().Name


def test_profiles_sources_and_uris(media: Any, camera: VirtualCamera) -> None:
    profiles = media.GetProfiles()
    assert [p.token for p in profiles] == ["Profile_1_main", "Profile_1_sub"]
    main, sub = profiles
    assert main.VideoSourceConfiguration.SourceToken == "VideoSource_1"
    assert (main.VideoEncoderConfiguration.Resolution.Width, main.VideoEncoderConfiguration.Resolution.Height) == (
        1920, 1080)  # fmt: skip
    assert main.VideoEncoderConfiguration.RateControl.FrameRateLimit == 30
    assert main.VideoEncoderConfiguration.H264.GovLength == 30
    assert main.PTZConfiguration.NodeToken == "PTZNode_1" and sub.PTZConfiguration is None
    assert media.GetProfile(ProfileToken="Profile_1_sub").VideoEncoderConfiguration.RateControl.BitrateLimit == 512
    sources = media.GetVideoSources()
    assert [(s.token, s.Resolution.Width) for s in sources] == [("VideoSource_1", 1920)]
    for protocol in ("RTSP", "UDP", "TCP"):
        uri = media.GetStreamUri(StreamSetup={"Stream": "RTP-Unicast", "Transport": {"Protocol": protocol}},
                                 ProfileToken="Profile_1_sub")  # fmt: skip
        assert uri.Uri == f"rtsp://{camera.host}:554/Profile_1_sub"
    with pytest.raises(Fault) as info:
        media.GetStreamUri(StreamSetup={"Stream": "RTP-Multicast", "Transport": {"Protocol": "UDP"}},
                           ProfileToken="Profile_1_main")  # fmt: skip
    assert subcodes(info.value) == ["InvalidArgVal", "InvalidStreamSetup"]
    with pytest.raises(Fault) as info:
        media.GetProfile(ProfileToken="Profile_9_main")
    assert subcodes(info.value) == ["InvalidArgVal", "NoProfile"]
    snap = media.GetSnapshotUri(ProfileToken="Profile_1_main").Uri
    assert snap == f"{camera.base_url}/onvif/snapshot/Profile_1_main.jpg"


def test_encoder_configuration_set_persists_and_validates(media: Any, camera: VirtualCamera) -> None:
    opts = media.GetVideoEncoderConfigurationOptions(ConfigurationToken="VideoEncoder_1_sub")
    assert {(r.Width, r.Height) for r in opts.H264.ResolutionsAvailable} >= {(1280, 720), (640, 360)}
    assert (opts.H264.FrameRateRange.Min, opts.H264.FrameRateRange.Max) == (1, 30)
    assert [e for e in opts.Extension._value_1 if e.tag.endswith("H264")]  # H264Options2 with BitrateRange
    configs = media.GetVideoEncoderConfigurations()
    assert [c.token for c in configs] == ["VideoEncoder_1_main", "VideoEncoder_1_sub"]
    assert len(media.GetCompatibleVideoEncoderConfigurations(ProfileToken="Profile_1_main")) == 2
    conf = media.GetVideoEncoderConfiguration(ConfigurationToken="VideoEncoder_1_sub")
    conf.Resolution.Width, conf.Resolution.Height = 1280, 720
    conf.RateControl.FrameRateLimit, conf.RateControl.BitrateLimit, conf.H264.GovLength = 15, 1024, 15
    media.SetVideoEncoderConfiguration(Configuration=conf, ForcePersistence=True)
    assert camera.state.encoders["VideoEncoder_1_sub"] == EncoderSpec(
        width=1280, height=720, fps=15, bitrate_kbps=1024, gop=15, quality=conf.Quality)  # fmt: skip
    enc = media.GetProfile(ProfileToken="Profile_1_sub").VideoEncoderConfiguration
    assert (enc.Resolution.Width, enc.RateControl.FrameRateLimit, enc.H264.GovLength) == (1280, 15, 15)
    for field, value in (("Width", 1000), ("FrameRateLimit", 99), ("GovLength", 0)):
        bad = media.GetVideoEncoderConfiguration(ConfigurationToken="VideoEncoder_1_sub")
        target = bad.Resolution if field == "Width" else bad.RateControl if field == "FrameRateLimit" else bad.H264
        setattr(target, field, value)
        with pytest.raises(Fault) as info:
            media.SetVideoEncoderConfiguration(Configuration=bad, ForcePersistence=True)
        assert subcodes(info.value) == ["InvalidArgVal", "ConfigModify"]
        assert info.value.code.endswith("Sender")
    assert camera.state.encoders["VideoEncoder_1_sub"].width == 1280  # unchanged by refused sets


def test_nvr_sixteen_channels() -> None:
    with VirtualCamera(VirtualCameraConfig(password=PASSWORD, channels=16)) as cam:
        media = zeep_service(cam.media_url, MEDIA_BINDING)
        profiles = media.GetProfiles()
        assert len(profiles) == 32
        assert {p.VideoSourceConfiguration.SourceToken for p in profiles} == {f"VideoSource_{n}" for n in range(1, 17)}
        assert profiles[-1].token == "Profile_16_sub" and all(p.PTZConfiguration is None for p in profiles)
        assert len(media.GetVideoSources()) == 16
        assert len(media.GetVideoEncoderConfigurations()) == 32
        device = zeep_service(cam.device_url)
        assert "ptz_service" not in {s.XAddr.rsplit("/", 1)[1] for s in device.GetServices(IncludeCapability=False)}


def test_unimplemented_operation_is_action_not_supported(device: Any) -> None:
    with pytest.raises(Fault) as info:
        device.GetDot11Capabilities()  # in the WSDL, deliberately not simulated
    assert subcodes(info.value) == ["ActionNotSupported"] and info.value.code.endswith("Receiver")


def test_tokens_out_of_range_or_of_another_kind_are_refused(camera: VirtualCamera) -> None:
    ptz = zeep_service(f"{camera.base_url}/onvif/ptz_service", PTZ_BINDING)
    for token in ("Profile_0_main", "Profile_2_main", "VideoEncoder_1_main", "Profile_1_hd"):
        assert camera.snapshot(token) is None
        with pytest.raises(Fault) as info:
            ptz.GetStatus(ProfileToken=token)
        assert subcodes(info.value) == ["InvalidArgVal", "NoProfile"], token
    assert camera.snapshot("Profile_1_sub") is not None
