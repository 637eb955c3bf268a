"""Authentication per mode (UsernameToken, Digest, Basic, none, any), clock skew, and snapshot auth."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
import requests
from _sim_zeep import PASSWORD, zeep_service
from requests.auth import HTTPBasicAuth, HTTPDigestAuth
from zeep.exceptions import Fault, TransportError

from kedirivms.sim import VirtualCamera, VirtualCameraConfig

TOKEN, TOKEN_TEXT, BAD_TOKEN, DIGEST, BAD_DIGEST, BASIC, NOTHING = (
    "token", "token_text", "bad_token", "digest", "bad_digest", "basic", "nothing")  # fmt: skip


def _client(cam: VirtualCamera, creds: str) -> Any:
    kwargs: dict[str, Any] = {"username": None, "password": None}
    if creds in (TOKEN, TOKEN_TEXT, BAD_TOKEN):
        kwargs = {"password": "wrong" if creds == BAD_TOKEN else PASSWORD, "digest": creds != TOKEN_TEXT}
    elif creds in (DIGEST, BAD_DIGEST):
        kwargs["http_auth"] = HTTPDigestAuth("admin", PASSWORD if creds == DIGEST else "wrong")
    elif creds == BASIC:
        kwargs["http_auth"] = HTTPBasicAuth("admin", PASSWORD)
    return zeep_service(cam.device_url, **kwargs)


# (auth mode, credentials presented, expected: "ok" | "fault" (NotAuthorized SOAP fault) | 401)
CASES = [
    ("username_token", TOKEN, "ok"),
    ("username_token", TOKEN_TEXT, "ok"),
    ("username_token", BAD_TOKEN, "fault"),
    ("username_token", NOTHING, "fault"),
    ("username_token", DIGEST, "fault"),
    ("digest", DIGEST, "ok"),
    ("digest", BAD_DIGEST, 401),
    ("digest", TOKEN, 401),
    ("digest", NOTHING, 401),
    ("basic", BASIC, "ok"),
    ("basic", DIGEST, 401),
    ("basic", NOTHING, 401),
    ("none", NOTHING, "ok"),
    ("none", BAD_TOKEN, "ok"),
    ("any", TOKEN, "ok"),
    ("any", DIGEST, "ok"),
    ("any", BAD_TOKEN, 401),
    ("any", NOTHING, 401),
]


@pytest.mark.parametrize(("mode", "creds", "expected"), CASES)
def test_auth_modes(mode: str, creds: str, expected: Any) -> None:
    with VirtualCamera(VirtualCameraConfig(password=PASSWORD, auth=mode)) as cam:  # type: ignore[arg-type]
        client = _client(cam, creds)
        if expected == "ok":
            assert client.GetDeviceInformation().Model == cam.config.model
            assert cam.request_log[-1].username == ("admin" if mode != "none" else None)
        elif expected == "fault":
            with pytest.raises(Fault) as info:
                client.GetDeviceInformation()
            assert info.value.code.endswith("Sender")
            assert [q.localname for q in info.value.subcodes] == ["NotAuthorized"]
        else:
            with pytest.raises((Fault, TransportError)) as info:
                client.GetDeviceInformation()
            if isinstance(info.value, Fault):  # 401 carries the NotAuthorized fault as its body
                assert [q.localname for q in info.value.subcodes] == ["NotAuthorized"]
            assert cam.request_log[-1].status == 401
        # GetSystemDateAndTime is answered without credentials unless time_requires_auth
        assert _client(cam, NOTHING).GetSystemDateAndTime().UTCDateTime.Date.Year >= 2024
        assert PASSWORD not in str(cam.request_log)


def test_digest_challenge_is_rfc7616() -> None:
    with VirtualCamera(VirtualCameraConfig(password=PASSWORD, auth="digest")) as cam:
        body = (
            b'<e:Envelope xmlns:e="http://www.w3.org/2003/05/soap-envelope"><e:Body>'
            b'<GetHostname xmlns="http://www.onvif.org/ver10/device/wsdl"/></e:Body></e:Envelope>'
        )
        reply = requests.post(cam.device_url, data=body, timeout=5)
        assert reply.status_code == 401
        challenge = reply.headers["WWW-Authenticate"]
        assert challenge.startswith("Digest ") and 'qop="auth"' in challenge and "algorithm=MD5" in challenge
        assert b"NotAuthorized" in reply.content


def test_time_requires_auth() -> None:
    with VirtualCamera(VirtualCameraConfig(password=PASSWORD, time_requires_auth=True)) as cam:
        with pytest.raises(Fault):
            _client(cam, NOTHING).GetSystemDateAndTime()
        assert _client(cam, TOKEN).GetSystemDateAndTime().DateTimeType in ("NTP", "Manual")


@pytest.mark.parametrize("years", [10, -10])
def test_clock_skew_checked_against_created(years: int) -> None:
    skew = years * 365.25 * 86400
    with VirtualCamera(VirtualCameraConfig(password=PASSWORD, clock_skew_s=skew)) as cam:
        utc = _client(cam, NOTHING).GetSystemDateAndTime().UTCDateTime
        seen = dt.datetime(utc.Date.Year, utc.Date.Month, utc.Date.Day, utc.Time.Hour, utc.Time.Minute,
                           utc.Time.Second, tzinfo=dt.UTC)  # fmt: skip
        assert abs((seen - dt.datetime.now(dt.UTC)).total_seconds() - skew) < 5
        with pytest.raises(Fault) as info:  # Created from the client's own clock: 10 years off
            _client(cam, TOKEN).GetDeviceInformation()
        assert [q.localname for q in info.value.subcodes] == ["NotAuthorized"]
        on_camera_clock = zeep_service(cam.device_url, created=cam.now())
        assert on_camera_clock.GetDeviceInformation().Model == cam.config.model
        # 200 s off is inside the ~300 s window, 400 s is not
        assert zeep_service(cam.device_url, created=cam.now() + dt.timedelta(seconds=200)).GetHostname()
        with pytest.raises(Fault):
            zeep_service(cam.device_url, created=cam.now() - dt.timedelta(seconds=400)).GetHostname()


def test_replayed_nonce_refused() -> None:
    with VirtualCamera(VirtualCameraConfig(password=PASSWORD)) as cam:
        from zeep.wsse.username import UsernameToken

        body = (
            '<env:Envelope xmlns:env="http://www.w3.org/2003/05/soap-envelope"><env:Header>{}</env:Header>'
            '<env:Body><GetHostname xmlns="http://www.onvif.org/ver10/device/wsdl"/></env:Body></env:Envelope>'
        )
        from lxml import etree

        token = UsernameToken("admin", PASSWORD, use_digest=True)
        envelope = etree.fromstring(body.format("").encode())
        token.apply(envelope, {})
        data = etree.tostring(envelope)
        headers = {"Content-Type": "application/soap+xml"}
        assert requests.post(cam.device_url, data=data, headers=headers, timeout=5).status_code == 200
        again = requests.post(cam.device_url, data=data, headers=headers, timeout=5)
        assert again.status_code == 400 and b"NotAuthorized" in again.content


@pytest.mark.parametrize(("mode", "auth_cls"), [("digest", HTTPDigestAuth), ("username_token", HTTPDigestAuth),
                                                ("any", HTTPDigestAuth), ("basic", HTTPBasicAuth)])  # fmt: skip
def test_snapshot_http_auth(mode: str, auth_cls: type) -> None:
    with VirtualCamera(VirtualCameraConfig(password=PASSWORD, auth=mode, channels=2)) as cam:  # type: ignore[arg-type]
        url = f"{cam.base_url}/onvif/snapshot/Profile_2_sub.jpg"
        refused = requests.get(url, timeout=5)
        assert refused.status_code == 401
        assert refused.headers["WWW-Authenticate"].split()[0] == ("Basic" if mode == "basic" else "Digest")
        assert requests.get(url, auth=auth_cls("admin", "wrong"), timeout=5).status_code == 401
        ok = requests.get(url, auth=auth_cls("admin", PASSWORD), timeout=5)
        assert ok.status_code == 200 and ok.headers["Content-Type"] == "image/jpeg"
        assert ok.content[:2] == b"\xff\xd8" and ok.content[-2:] == b"\xff\xd9"
        missing = requests.get(f"{cam.base_url}/onvif/snapshot/Profile_3_main.jpg", auth=auth_cls("admin", PASSWORD),
                               timeout=5)  # fmt: skip
        assert missing.status_code == 404


def test_snapshot_is_a_decodable_jpeg_at_encoder_size() -> None:
    import io

    import av

    with VirtualCamera(VirtualCameraConfig(auth="none")) as cam:
        data = requests.get(f"{cam.base_url}/onvif/snapshot/Profile_1_sub.jpg", timeout=5).content
        with av.open(io.BytesIO(data), format="image2pipe") as container:
            frame = next(container.decode(video=0))
        assert (frame.width, frame.height) == (640, 360)


def test_ipv6_loopback_and_digest_uri_must_match() -> None:
    with VirtualCamera(VirtualCameraConfig(host="::1", password=PASSWORD, auth="digest")) as cam:
        assert cam.device_url.startswith("http://[::1]:")
        device = zeep_service(cam.device_url, username=None, http_auth=HTTPDigestAuth("admin", PASSWORD))
        assert device.GetDeviceInformation().Model
        snap = f"{cam.base_url}/onvif/snapshot/Profile_1_sub.jpg"
        challenge = requests.get(snap, timeout=5)
        assert challenge.status_code == 401
        # a valid response computed for another uri is refused
        auth = HTTPDigestAuth("admin", PASSWORD)
        auth.init_per_thread_state()
        auth._thread_local.chal = requests.utils.parse_dict_header(
            challenge.headers["WWW-Authenticate"].split(" ", 1)[1]
        )
        header = auth.build_digest_header("GET", f"{cam.base_url}/onvif/snapshot/Profile_1_main.jpg")
        assert requests.get(snap, headers={"Authorization": header}, timeout=5).status_code == 401
        assert requests.get(snap, auth=HTTPDigestAuth("admin", PASSWORD), timeout=5).status_code == 200
