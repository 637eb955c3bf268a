"""Parsing untrusted XML: camera replies, SOAP requests to the virtual camera, WS-Discovery datagrams.

One hardened parser for all of them: no DTD loading, no entity expansion, no network, no huge trees; documents
that declare a DOCTYPE or ENTITY are refused outright. lxml parser objects are not thread-safe, so each thread
gets its own.
"""

from __future__ import annotations

import threading

from lxml import etree

__all__ = ["HostileXML", "parse_untrusted"]

_local = threading.local()


class HostileXML(ValueError):
    """The document carries a DTD or entity declarations."""


def _parser() -> etree.XMLParser:
    parser = getattr(_local, "parser", None)
    if parser is None:
        parser = etree.XMLParser(
            resolve_entities=False,
            no_network=True,
            load_dtd=False,
            dtd_validation=False,
            huge_tree=False,
            remove_comments=True,
            remove_pis=True,
        )
        _local.parser = parser
    return parser


def parse_untrusted(data: bytes) -> etree._Element:
    """Parse ``data`` with the hardened parser of this thread.

    Raises:
        HostileXML: the document declares a DOCTYPE or ENTITY.
        etree.XMLSyntaxError: not well-formed XML.
    """
    if b"<!DOCTYPE" in data or b"<!ENTITY" in data:
        raise HostileXML("DTDs and entity declarations are refused")
    root = etree.fromstring(data, _parser())
    doc = root.getroottree().docinfo
    if doc.doctype or doc.internalDTD is not None or doc.externalDTD is not None:  # belt and braces
        raise HostileXML("DTDs are refused")
    return root
