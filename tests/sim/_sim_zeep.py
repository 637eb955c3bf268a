"""Helpers for the virtual-camera tests: strict third-party zeep clients built from the onvif-zeep WSDLs."""

from __future__ import annotations

import datetime as dt
from typing import Any

import requests
from requests.auth import AuthBase
from zeep import Client, Settings
from zeep.transports import Transport
from zeep.wsdl import Document
from zeep.wsse.username import UsernameToken

from kedirivms.sim._soap import wsdl_dir

DEVICE_BINDING = "{http://www.onvif.org/ver10/device/wsdl}DeviceBinding"
MEDIA_BINDING = "{http://www.onvif.org/ver10/media/wsdl}MediaBinding"
PTZ_BINDING = "{http://www.onvif.org/ver20/ptz/wsdl}PTZBinding"
PASSWORD = "s3cret-Pw"

_DOCS: dict[str, Document] = {}
_STRICT = Settings(strict=True, forbid_dtd=False, forbid_entities=True)


def _document(name: str) -> Document:
    # a third-party strict parse of the same WSDL, once per test session
    if name not in _DOCS:
        _DOCS[name] = Document(str(wsdl_dir() / name), Transport(), settings=_STRICT)
    return _DOCS[name]


def zeep_service(
    url: str,
    binding: str = DEVICE_BINDING,
    *,
    username: str | None = "admin",
    password: str | None = PASSWORD,
    digest: bool = True,
    created: dt.datetime | None = None,
    http_auth: AuthBase | None = None,
    timeout: float = 5.0,
) -> Any:
    """A strict zeep service proxy for ``url`` with a UsernameToken (or none) and optional HTTP auth."""
    wsdl = {DEVICE_BINDING: "devicemgmt.wsdl", MEDIA_BINDING: "media.wsdl", PTZ_BINDING: "ptz.wsdl"}[binding]
    session = requests.Session()
    session.auth = http_auth
    transport = Transport(session=session, timeout=timeout, operation_timeout=timeout)
    wsse = None
    if username is not None and password is not None:
        wsse = UsernameToken(username, password, use_digest=digest, created=created)
    client = Client(_document(wsdl), settings=_STRICT, transport=transport, wsse=wsse)
    return client.create_service(binding, url)
