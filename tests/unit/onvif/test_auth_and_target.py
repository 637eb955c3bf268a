"""UsernameToken digests, target parsing, URL redaction and the address rewrite."""

from __future__ import annotations

import base64
import hashlib
from datetime import UTC, datetime

import pytest

from kedirivms._redact import redact_text, redact_url, strip_userinfo
from kedirivms.errors import InvalidArgument
from kedirivms.onvif import _auth, parse_target
from kedirivms.onvif._transport import OnvifTransport


def test_password_digest_matches_the_profile_formula() -> None:
    nonce, created, pw = b"0123456789abcdef", "2026-11-27T10:00:00.000Z", "s3cret"
    expected = base64.b64encode(hashlib.sha1(nonce + created.encode() + pw.encode()).digest()).decode()
    assert _auth.password_digest(nonce, created, pw) == expected


def test_created_is_utc_z_and_applies_offset() -> None:
    # a password with a character base64 never has: a random nonce or digest can't spell it ("pw" once did)
    header = _auth.security_header(
        "admin", "pw!secret", 3600.0 * 24 * 365 * 10, "http://www.w3.org/2003/05/soap-envelope"
    )
    created = header.find(f".//{{{_auth.WSU}}}Created").text
    assert created.endswith("Z")
    year = datetime.strptime(created, "%Y-%m-%dT%H:%M:%S.%fZ").year
    assert year >= datetime.now(UTC).year + 9
    assert b"pw!secret" not in _auth.etree.tostring(header)


@pytest.mark.parametrize(
    ("target", "port", "expected"),
    [
        ("10.1.2.3", None, ("http", "10.1.2.3", 80, "/onvif/device_service")),
        ("10.1.2.3:8080", None, ("http", "10.1.2.3", 8080, "/onvif/device_service")),
        ("cam.local", 8000, ("http", "cam.local", 8000, "/onvif/device_service")),
        ("http://10.1.2.3:81/onvif/dev", None, ("http", "10.1.2.3", 81, "/onvif/dev")),
        ("https://cam", None, ("https", "cam", 443, "/onvif/device_service")),
        ("[::1]:8080", None, ("http", "::1", 8080, "/onvif/device_service")),
    ],
)
def test_parse_target(target: str, port: int | None, expected: tuple[str, str, int, str]) -> None:
    assert parse_target(target, port) == expected


@pytest.mark.parametrize("target", ["", "   ", "ftp://x", "http://:80", "host:notaport"])
def test_parse_target_rejects(target: str) -> None:
    with pytest.raises(InvalidArgument):
        parse_target(target)


def test_redaction() -> None:
    assert redact_url("rtsp://admin:pa55@10.0.0.1:554/s") == "rtsp://admin:***@10.0.0.1:554/s"
    assert redact_url("rtsp://10.0.0.1/s") == "rtsp://10.0.0.1/s"
    assert "pa55" not in redact_text("open rtsp://u:pa55@h/x failed", ("pa55",))
    assert redact_text("token pa55 here", ("pa55",)) == "token *** here"
    assert strip_userinfo("rtsp://u:p@h:1/x") == "rtsp://h:1/x"


@pytest.mark.parametrize(
    ("advertised", "rewrite", "expected"),
    [
        ("http://10.0.0.99:8080/onvif/media", True, "http://127.0.0.1:18080/onvif/media"),
        ("http://10.0.0.99:8080/onvif/media", False, "http://10.0.0.99:8080/onvif/media"),
        ("rtsp://10.0.0.99:554/Profile_1", True, "rtsp://127.0.0.1:554/Profile_1"),
        ("http://127.0.0.1/onvif/media", True, "http://127.0.0.1:18080/onvif/media"),  # own host, no port: reached
        ("http://[::1/onvif/media", True, None),  # unparseable: not an address we could use
        ("rtsp://127.0.0.1:99999/x", True, None),
        ("(null)", True, None),
        ("", True, None),
        (None, True, None),
    ],
)
def test_address_rewrite(advertised: str | None, rewrite: bool, expected: str | None) -> None:
    t = OnvifTransport(
        "127.0.0.1",
        18080,
        username=None,
        password=None,
        connect_timeout=1,
        read_timeout=1,
        rewrite_addresses=rewrite,
        label="t",
    )
    try:
        assert t.rewrite(advertised) == expected
    finally:
        t.close()


@pytest.mark.parametrize("timeout", [0, -1, (1.0, -2.0), "soon"])
def test_bad_timeouts_are_invalid_arguments(timeout: object) -> None:
    from kedirivms import Camera

    with pytest.raises(InvalidArgument, match="invalid timeout"):
        Camera("127.0.0.1", timeout=timeout)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("text", "shown"),
    [
        ("fault: password Reg1stered-pw refused", "fault: password *** refused"),
        ("http://admin:Reg1stered-pw@10.0.0.1/x", "http://admin:***@10.0.0.1/x"),
        ("a\nerror: forged", "a\\nerror: forged"),  # one line: the newline is shown as an escape
        ("\x9b2J\u202eevil", "\\x9b2J\\u202eevil"),
        ("x" * 1000, "x" * 400 + "… (1000 chars)"),
    ],
)
def test_printable_redacts_registered_secrets_and_escapes(text: str, shown: str) -> None:
    from kedirivms._redact import printable, register_secret

    register_secret("Reg1stered-pw")
    assert printable(text) == shown


def test_errors_never_carry_a_registered_secret() -> None:
    from kedirivms._redact import register_secret
    from kedirivms.errors import OnvifFault

    register_secret("An0ther-secret")
    err = OnvifFault("camera said An0ther-secret", detail="An0ther-secret", hint="try An0ther-secret")
    assert "An0ther-secret" not in str(err) + repr(err) + str(err.detail)
