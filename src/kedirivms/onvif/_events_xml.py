"""Raw-XML readers for events: notification messages, the topic set, topic filters.

zeep cannot carry the text of ``wsnt:Topic`` (mixed content holding a QName), so notifications are read from the
reply tree, resolving the topic prefix against the namespaces in scope: whatever prefix a camera uses for the
ONVIF topic namespace, topics come out as ``tns1:...``.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime
from typing import Any

from lxml import etree

from kedirivms.onvif.models_events import CameraEvent, EventTopic

WSNT = "http://docs.oasis-open.org/wsn/b-2"
WSTOP = "http://docs.oasis-open.org/wsn/t-1"
WSA = "http://www.w3.org/2005/08/addressing"
TT = "http://www.onvif.org/ver10/schema"
ONVIF_TOPICS = "http://www.onvif.org/ver10/topics"
CONCRETE_SET = "http://www.onvif.org/ver10/tev/topicExpression/ConcreteSet"

_OPERATIONS = ("Initialized", "Changed", "Deleted")
_DASHED = re.compile(r"^(\d{4}-\d{2}-\d{2})[-\s_](\d{1,2}:\d{2}.*)$")


def _local(el: etree._Element) -> str:
    return etree.QName(el).localname


def to_datetime(value: Any) -> datetime | None:
    """A UTC datetime from a zeep/xs:dateTime value or text (dashed and naive forms tolerated)."""
    if value is None:
        return None
    if isinstance(value, datetime):
        return value.astimezone(UTC) if value.tzinfo else value.replace(tzinfo=UTC)
    text = str(value).strip()
    m = _DASHED.match(text)
    if m:
        text = f"{m.group(1)}T{m.group(2)}"
    try:
        parsed = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        return None
    return parsed.astimezone(UTC) if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def normalise_topic(text: str, nsmap: dict[str | None, str]) -> str:
    """``ns:Path/To/Topic`` with the ONVIF topic namespace written as ``tns1`` whatever its prefix."""
    text = " ".join(text.split())
    if ":" not in text.split("/", 1)[0]:
        return text
    prefix, path = text.split(":", 1)
    if nsmap.get(prefix) == ONVIF_TOPICS or (prefix == "tns1" and prefix not in nsmap):
        return f"tns1:{path}"
    return text


def _items(parent: etree._Element | None) -> dict[str, str]:
    out: dict[str, str] = {}
    if parent is None:
        return out
    for item in parent:
        if not isinstance(item.tag, str):
            continue
        name = item.get("Name")
        if name is None:
            continue
        if _local(item) == "SimpleItem":
            out[name] = item.get("Value", "")
        elif _local(item) == "ElementItem":  # structured payloads: keep the element name of the content
            child = next((c for c in item if isinstance(c.tag, str)), None)
            out[name] = _local(child) if child is not None else ""
    return out


def _child(parent: etree._Element, local: str) -> etree._Element | None:
    return next((c for c in parent if isinstance(c.tag, str) and _local(c) == local), None)


def parse_notifications(root: etree._Element) -> list[CameraEvent]:
    """Every ``wsnt:NotificationMessage`` of a PullMessages reply, typed."""
    out: list[CameraEvent] = []
    for holder in root.iter(f"{{{WSNT}}}NotificationMessage"):
        topic_el = _child(holder, "Topic")
        topic = normalise_topic(topic_el.text or "", dict(topic_el.nsmap)) if topic_el is not None else ""
        wrapper = _child(holder, "Message")
        message = _child(wrapper, "Message") if wrapper is not None else None
        if message is None:
            out.append(CameraEvent(topic=topic))
            continue
        operation = message.get("PropertyOperation")
        out.append(
            CameraEvent(
                topic=topic,
                utc_time=to_datetime(message.get("UtcTime")),
                property_operation=operation if operation in _OPERATIONS else None,
                source=_items(_child(message, "Source")),
                key=_items(_child(message, "Key")),
                data=_items(_child(message, "Data")),
            )
        )
    return out


def parse_topic_set(roots: list[etree._Element]) -> list[EventTopic]:
    """Flatten a ``wstop:TopicSet`` into topics with their source/data item descriptions."""
    out: list[EventTopic] = []

    def walk(el: etree._Element, path: list[str], prefix: str) -> None:
        here = [*path, _local(el)]
        desc = _child(el, "MessageDescription")
        if el.get(f"{{{WSTOP}}}topic") == "true" or desc is not None:
            out.append(
                EventTopic(
                    topic=f"{prefix}:{'/'.join(here)}",
                    is_property=(desc is not None and desc.get("IsProperty", "false").lower() == "true"),
                    source_items=_descriptions(desc, "Source"),
                    data_items=_descriptions(desc, "Data"),
                )
            )
        for child in el:
            if isinstance(child.tag, str) and _local(child) != "MessageDescription" and child.get("Name") is None:
                walk(child, here, prefix)

    for root in roots:
        ns = etree.QName(root).namespace
        prefix = "tns1" if ns == ONVIF_TOPICS else (root.prefix or "ns")
        walk(root, [], prefix)
    return out


def _descriptions(desc: etree._Element | None, part: str) -> dict[str, str]:
    holder = _child(desc, part) if desc is not None else None
    if holder is None:
        return {}
    return {d.get("Name", ""): d.get("Type", "") for d in holder if isinstance(d.tag, str) and d.get("Name")}


def topic_filter(topics: list[str]) -> etree._Element:
    """A ``wsnt:TopicExpression`` (ConcreteSet dialect) selecting ``topics`` (``tns1:`` bound to ONVIF topics)."""
    el = etree.Element(f"{{{WSNT}}}TopicExpression", nsmap={"wsnt": WSNT, "tns1": ONVIF_TOPICS})
    el.set("Dialect", CONCRETE_SET)
    el.text = "|".join(t if ":" in t.split("/", 1)[0] else f"tns1:{t}" for t in topics)
    return el
