"""Hardened XML parsing and the vendor-quirk normalisation applied to every ONVIF reply.

Hostile input (DTDs, entity declarations, external references) is refused outright. Quirks seen in the field are
repaired on the parsed tree before zeep deserialises it:

* date-times written with ``-`` or a space instead of ``T`` (``2026-11-27-10:00:00Z``);
* elements that lost their namespace prefix (e.g. WS-Addressing ``<Address>`` in a subscription reference): an
  unqualified element inherits its parent's namespace, as ONVIF schemas are ``elementFormDefault="qualified"``;
* fault codes whose prefixes are not declared: faults are read as text, never resolved as QNames.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from lxml import etree

from kedirivms._safexml import HostileXML, parse_untrusted

__all__ = ["HostileXML", "FaultInfo", "find_fault", "normalise", "parse"]

SOAP12_ENV = "http://www.w3.org/2003/05/soap-envelope"
SOAP11_ENV = "http://schemas.xmlsoap.org/soap/envelope/"

_DASHED_DATETIME = re.compile(
    r"^\s*(\d{4}-\d{2}-\d{2})[-\s_](\d{1,2}:\d{2}(?::\d{2}(?:\.\d+)?)?)\s*(Z|[+-]\d{2}:?\d{2})?\s*$"
)


def parse(content: bytes) -> etree._Element:
    """Parse a camera reply with the shared hardened parser (no DTD, entities or network).

    Raises:
        HostileXML: the document declares a DOCTYPE/ENTITY.
        etree.XMLSyntaxError: not well-formed XML.
    """
    return parse_untrusted(content)


def normalise(root: etree._Element) -> etree._Element:
    """Repair the tolerated vendor quirks in place and return ``root``."""
    for el in root.iter():
        if not isinstance(el.tag, str):
            continue
        if el.tag[0] != "{":
            parent = el.getparent()
            if parent is not None and isinstance(parent.tag, str) and parent.tag[0] == "{":
                el.tag = parent.tag[: parent.tag.index("}") + 1] + el.tag
        text = el.text
        if text and len(text) < 40 and len(el) == 0 and text[:1].isdigit():
            m = _DASHED_DATETIME.match(text)
            if m:
                time_part = m.group(2)
                if time_part.count(":") == 1:
                    time_part += ":00"
                if len(time_part.split(":", 1)[0]) == 1:
                    time_part = "0" + time_part
                el.text = f"{m.group(1)}T{time_part}{m.group(3) or ''}"
    return root


@dataclass
class FaultInfo:
    """A SOAP fault read as plain text (prefixes need not be declared)."""

    code: str | None
    subcodes: list[str] = field(default_factory=list)
    reason: str | None = None

    @property
    def local_subcodes(self) -> list[str]:
        return [s.rsplit(":", 1)[-1].rsplit("}", 1)[-1] for s in self.subcodes]

    def has(self, *names: str) -> bool:
        wanted = {n.lower() for n in names}
        local = {s.lower() for s in self.local_subcodes}
        code = (self.code or "").rsplit(":", 1)[-1].lower()
        return bool(wanted & local) or code in wanted


def find_fault(root: etree._Element) -> FaultInfo | None:
    """Return the fault in a SOAP 1.2 or 1.1 envelope, or ``None``."""
    for env in (SOAP12_ENV, SOAP11_ENV):
        fault = root.find(f"{{{env}}}Body/{{{env}}}Fault")
        if fault is None:
            continue
        if env == SOAP12_ENV:
            code = fault.findtext(f"{{{env}}}Code/{{{env}}}Value")
            subcodes: list[str] = []
            sub = fault.find(f"{{{env}}}Code/{{{env}}}Subcode")
            while sub is not None:
                value = sub.findtext(f"{{{env}}}Value")
                if value:
                    subcodes.append(value.strip())
                sub = sub.find(f"{{{env}}}Subcode")
            reason = fault.findtext(f"{{{env}}}Reason/{{{env}}}Text")
        else:
            code = fault.findtext("faultcode") or fault.findtext(f"{{{env}}}faultcode")
            subcodes = []
            reason = fault.findtext("faultstring") or fault.findtext(f"{{{env}}}faultstring")
        return FaultInfo(
            code=code.strip() if code else None,
            subcodes=subcodes,
            reason=reason.strip() if reason else None,
        )
    return None
