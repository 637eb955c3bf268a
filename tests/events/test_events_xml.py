"""Notification parsing from raw replies: topic prefixes, vendor topics, items, dates; the topic set; filters."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from lxml import etree

from kedirivms.onvif._events_xml import parse_notifications, parse_topic_set, to_datetime, topic_filter

CELL = "tns1:RuleEngine/CellMotionDetector/Motion"
ENVELOPE = """<env:Envelope xmlns:env="http://www.w3.org/2003/05/soap-envelope"
  xmlns:wsnt="http://docs.oasis-open.org/wsn/b-2" xmlns:tt="http://www.onvif.org/ver10/schema" {ns}>
  <env:Body><tev:PullMessagesResponse xmlns:tev="http://www.onvif.org/ver10/events/wsdl">
    <wsnt:NotificationMessage><wsnt:Topic Dialect="x">{topic}</wsnt:Topic>
      <wsnt:Message><tt:Message UtcTime="{when}" {op}>
        <tt:Source><tt:SimpleItem Name="VideoSourceConfigurationToken" Value="vsc1"/></tt:Source>
        <tt:Key><tt:SimpleItem Name="Id" Value="7"/></tt:Key>
        <tt:Data><tt:SimpleItem Name="{item}" Value="{value}"/><tt:ElementItem Name="Box"><tt:Rect/></tt:ElementItem>
        </tt:Data></tt:Message></wsnt:Message>
    </wsnt:NotificationMessage></tev:PullMessagesResponse></env:Body></env:Envelope>"""


def reply(**kw: str) -> etree._Element:
    values = {
        "ns": 'xmlns:ns9="http://www.onvif.org/ver10/topics"',
        "topic": "ns9:VideoSource/MotionAlarm",
        "when": "2026-11-27T10:00:00Z",
        "op": 'PropertyOperation="Changed"',
        "item": "State",
        "value": "true",
    }
    values.update(kw)  # fmt: skip
    return etree.fromstring(ENVELOPE.format(**values).encode())


@pytest.mark.parametrize(
    ("kw", "topic", "motion", "tamper"),
    [
        ({}, "tns1:VideoSource/MotionAlarm", True, None),  # any prefix bound to the ONVIF topic namespace
        ({"ns": 'xmlns:tns1="http://www.onvif.org/ver10/topics"', "topic": f" {CELL} ", "item": "IsMotion",
          "value": "false"}, CELL, False, None),
        ({"ns": 'xmlns:tnsaxis="http://www.axis.com/2009/event/topics"', "topic": "tnsaxis:VideoSource/Tampering",
          "item": "State", "value": "1"}, "tnsaxis:VideoSource/Tampering", None, True),
        ({"ns": "", "topic": "tns1:VideoSource/GlobalSceneChange/ImagingService"},
         "tns1:VideoSource/GlobalSceneChange/ImagingService", None, True),  # undeclared tns1: kept as ONVIF
    ],
    ids=["other-prefix", "cell-motion", "vendor-tamper", "undeclared-tns1"],
)  # fmt: skip
def test_notification_topics_and_helpers(
    kw: dict[str, str], topic: str, motion: bool | None, tamper: bool | None
) -> None:
    [ev] = parse_notifications(reply(**kw))
    assert ev.topic == topic and ev.motion is motion and ev.tamper is tamper
    assert ev.key == {"Id": "7"} and ev.data["Box"] == "Rect" and ev.source_token == "vsc1"


@pytest.mark.parametrize(
    ("when", "op", "expected_op"),
    [
        ("2026-11-27-10:00:00Z", "", None),  # dashed date quirk, no property operation
        ("2026-11-27T17:00:00+07:00", 'PropertyOperation="Initialized"', "Initialized"),
        ("2026-11-27T10:00:00", 'PropertyOperation="Bogus"', None),  # naive: read as UTC; unknown operation dropped
    ],
)
def test_times_and_operations(when: str, op: str, expected_op: str | None) -> None:
    [ev] = parse_notifications(reply(when=when, op=op))
    assert ev.utc_time == datetime(2026, 11, 27, 10, tzinfo=UTC) and ev.property_operation == expected_op


def test_to_datetime_rejects_garbage() -> None:
    assert to_datetime("yesterday") is None and to_datetime(None) is None


def test_topic_set_flattening() -> None:
    xml = """<wstop:TopicSet xmlns:wstop="http://docs.oasis-open.org/wsn/t-1" xmlns:tt="http://www.onvif.org/ver10/schema"
      xmlns:tns1="http://www.onvif.org/ver10/topics"><tns1:Device><Trigger><DigitalInput wstop:topic="true">
      <tt:MessageDescription IsProperty="true"><tt:Source><tt:SimpleItemDescription Name="InputToken"
      Type="tt:ReferenceToken"/></tt:Source><tt:Data><tt:SimpleItemDescription Name="LogicalState" Type="xs:boolean"/>
      </tt:Data></tt:MessageDescription></DigitalInput></Trigger></tns1:Device></wstop:TopicSet>"""
    [topic] = parse_topic_set(list(etree.fromstring(xml)))
    assert topic.topic == "tns1:Device/Trigger/DigitalInput" and topic.is_property
    assert topic.source_items == {"InputToken": "tt:ReferenceToken"} and topic.data_items == {
        "LogicalState": "xs:boolean"
    }


def test_topic_filter_binds_tns1() -> None:
    el = topic_filter(["VideoSource/MotionAlarm", "tns1:RuleEngine//."])
    assert el.text == "tns1:VideoSource/MotionAlarm|tns1:RuleEngine//."
    assert el.nsmap["tns1"] == "http://www.onvif.org/ver10/topics"
    assert el.get("Dialect") == "http://www.onvif.org/ver10/tev/topicExpression/ConcreteSet"
