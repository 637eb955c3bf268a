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
ONVIF_SCHEMA = "http://www.onvif.org/ver10/schema"
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


# Candidates are found by libxml2 and a bytes search (a Python walk over every element cost more than the rest
# of a reply's handling): elements without a namespace, in document order (a parent is repaired before its
# children); leaf texts with a colon and no "T", looked at only when the raw reply holds a dashed date-time.
_UNQUALIFIED = etree.XPath("//*[namespace-uri()='']")
_DATETIME_LIKE = etree.XPath("//*[not(*)][contains(., ':')][not(contains(., 'T'))]")
# the day and what follows it ("-27-10:", "-27 9:"); starting with a literal keeps the scan ~20x faster
_DASHED_IN_BYTES = re.compile(rb"-\d\d[-\s_]\d{1,2}:")


def normalise(root: etree._Element, raw: bytes | None = None) -> etree._Element:
    """Repair the tolerated vendor quirks in place and return ``root``.

    ``raw``, the bytes ``root`` was parsed from, lets replies without a dashed date-time skip that repair.
    """
    for el in _UNQUALIFIED(root):
        parent = el.getparent()
        if parent is not None and isinstance(parent.tag, str) and parent.tag[0] == "{":
            el.tag = parent.tag[: parent.tag.index("}") + 1] + el.tag
    if raw is not None and not _DASHED_IN_BYTES.search(raw):
        return root
    for el in _DATETIME_LIKE(root):
        text = el.text
        m = _DASHED_DATETIME.match(text) if text and len(text) < 40 and text.lstrip()[:1].isdigit() else None
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
