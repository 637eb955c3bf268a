"""XML-schema helpers of the tests: the ONVIF schemas shipped with the package, compiled by lxml."""

from __future__ import annotations

from lxml import etree

from kedirivms.sim._soap import wsdl_dir


def wsdl_schema(name: str) -> etree.XMLSchema:
    """The schema embedded in the shipped WSDL ``name`` (e.g. ``"ptz.wsdl"``), compiled with the WSDL's location as
    base URL so its import of ./onvif.xsd resolves to the local file."""
    wsdl = etree.parse(str(wsdl_dir() / name))
    embedded = wsdl.find(".//{http://www.w3.org/2001/XMLSchema}schema")
    assert embedded is not None, f"{name} embeds no schema"
    return etree.XMLSchema(etree.fromstring(etree.tostring(embedded), base_url=str(wsdl_dir() / name)))
