"""WS-Security UsernameToken (PasswordDigest) headers built against the camera's clock."""

from __future__ import annotations

import base64
import hashlib
import os
from datetime import UTC, datetime, timedelta
from xml.sax.saxutils import escape

from lxml import etree

WSSE = "http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-wssecurity-secext-1.0.xsd"
WSU = "http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-wssecurity-utility-1.0.xsd"
PASSWORD_DIGEST = "http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-username-token-profile-1.0#PasswordDigest"
BASE64 = "http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-soap-message-security-1.0#Base64Binary"


def utc_stamp(moment: datetime) -> str:
    """``YYYY-MM-DDTHH:MM:SS.mmmZ`` in UTC (cameras reject offsets other than ``Z``)."""
    m = moment.astimezone(UTC)
    return (
        f"{m.year:04d}-{m.month:02d}-{m.day:02d}T{m.hour:02d}:{m.minute:02d}:{m.second:02d}."
        f"{m.microsecond // 1000:03d}Z"
    )


def password_digest(nonce: bytes, created: str, password: str) -> str:
    """Base64(SHA-1(nonce + created + password)) per the UsernameToken profile."""
    return base64.b64encode(hashlib.sha1(nonce + created.encode() + password.encode()).digest()).decode()


def security_xml(username: str, password: str, clock_offset_s: float, soap_env: str) -> str:
    """A ``wsse:Security`` header, as XML text, whose ``Created`` is the camera's idea of now.

    Text rather than an element tree: it is built for every authenticated call, and a string costs a fraction.
    """
    nonce = os.urandom(16)
    created = utc_stamp(datetime.now(UTC) + timedelta(seconds=clock_offset_s))
    return (
        f'<wsse:Security xmlns:wsse="{WSSE}" xmlns:wsu="{WSU}" xmlns:env="{soap_env}" env:mustUnderstand="1">'
        f"<wsse:UsernameToken><wsse:Username>{escape(username)}</wsse:Username>"
        f'<wsse:Password Type="{PASSWORD_DIGEST}">{password_digest(nonce, created, password)}</wsse:Password>'
        f'<wsse:Nonce EncodingType="{BASE64}">{base64.b64encode(nonce).decode()}</wsse:Nonce>'
        f"<wsu:Created>{created}</wsu:Created></wsse:UsernameToken></wsse:Security>"
    )


def security_header(username: str, password: str, clock_offset_s: float, soap_env: str) -> etree._Element:
    """:func:`security_xml` as an element, for envelopes built as trees (zeep's)."""
    return etree.fromstring(security_xml(username, password, clock_offset_s, soap_env))


def soap_header(envelope: etree._Element) -> etree._Element:
    """The envelope's SOAP ``Header`` element, created first in the envelope if missing."""
    env_ns = etree.QName(envelope).namespace
    hdr = envelope.find(f"{{{env_ns}}}Header")
    if hdr is None:
        hdr = etree.Element(f"{{{env_ns}}}Header")
        envelope.insert(0, hdr)
    return hdr


def remove_security(envelope: etree._Element) -> etree._Element:
    """Drop any ``wsse:Security`` header (a retry re-signs with a fresh nonce); returns the Header."""
    hdr = soap_header(envelope)
    for old in hdr.findall(f"{{{WSSE}}}Security"):
        hdr.remove(old)
    return hdr


def add_security(envelope: etree._Element, header: etree._Element) -> None:
    """Put ``header`` first in the envelope's SOAP Header, replacing an older ``wsse:Security``."""
    remove_security(envelope).insert(0, header)
