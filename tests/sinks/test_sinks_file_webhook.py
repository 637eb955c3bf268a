"""JSONL and webhook sinks (the webhook against a local HTTP server), the bounded queue and build_sink."""

from __future__ import annotations

import json
import logging
from pathlib import Path
from typing import Any

import pytest

from kedirivms import Event
from kedirivms.errors import ConfigError, StorageError
from kedirivms.sinks import (
    CallbackSink,
    JsonlSink,
    JsonlSinkConfig,
    MqttSink,
    WebhookSink,
    WebhookSinkConfig,
    build_sink,
)


def test_jsonl_appends_one_flushed_line_per_event(tmp_path: Path, event: Any, wait_until: Any) -> None:
    path = tmp_path / "a" / "b" / "events.jsonl"
    path.parent.mkdir(parents=True)
    path.write_text(make_line(event(-1)))  # an existing file is appended to
    sink = JsonlSink(JsonlSinkConfig(path=path))
    with sink:
        for n in range(3):
            sink.submit(event(n))
        # flushed per event: readable while the sink is still open
        assert wait_until(lambda: len(path.read_text().splitlines()) == 4)
    lines = [Event.model_validate_json(line) for line in path.read_text().splitlines()]
    assert [e.data["n"] for e in lines] == [-1, 0, 1, 2]
    assert sink.stats.model_dump(include={"kind", "submitted", "sent", "dropped", "failed", "queued"}) == {
        "kind": "jsonl",
        "submitted": 3,
        "sent": 3,
        "dropped": 0,
        "failed": 0,
        "queued": 0,
    }
    assert sink.submit(event(9)) is False and sink.stats.dropped == 1  # closed


def make_line(e: Event) -> str:
    return e.model_dump_json() + "\n"


def test_jsonl_rotates_by_size_and_keeps_backups(tmp_path: Path, event: Any) -> None:
    path = tmp_path / "events.jsonl"
    with JsonlSink(JsonlSinkConfig(path=path, rotate_bytes=1024, backups=2)) as sink:
        for n in range(60):
            sink.submit(event(n))
    files = sorted(p.name for p in tmp_path.iterdir())
    assert files == ["events.jsonl", "events.jsonl.1", "events.jsonl.2"]
    for name in files:
        assert (tmp_path / name).stat().st_size <= 1024
    kept = [
        Event.model_validate_json(line).data["n"]
        for name in ("events.jsonl.2", "events.jsonl.1", "events.jsonl")
        for line in (tmp_path / name).read_text().splitlines()
    ]
    assert kept == list(range(60 - len(kept), 60))  # oldest rotated away, order kept


def test_jsonl_reports_an_unwritable_path(tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("")
    sink = JsonlSink(JsonlSinkConfig(path=blocker / "events.jsonl"))
    with pytest.raises(StorageError, match="cannot open .*events.jsonl"):
        sink.start()


def test_queue_is_bounded_and_drops_the_oldest(event: Any) -> None:
    got: list[Event] = []
    sink = CallbackSink(got.append, queue_size=3)
    for n in range(5):  # not started yet: nothing is delivered, the queue keeps the latest 3
        assert sink.submit(event(n))
    assert (sink.stats.dropped, sink.stats.queued) == (2, 3)
    sink.start()
    sink.close()
    assert [e.data["n"] for e in got] == [2, 3, 4] and sink.stats.sent == 3


def test_webhook_retries_transient_errors_with_backoff(receiver: Any, event: Any, caplog: Any) -> None:
    caplog.set_level(logging.INFO, logger="kedirivms.sinks")
    receiver.plan = [500, 503, 200, 200]  # first event: two failures then success
    config = WebhookSinkConfig(
        url=receiver.url, attempts=4, backoff=(0.05, 0.2), headers={"X-Site": "kediri"}, bearer_token="t0ken"
    )
    with WebhookSink(config) as sink:
        sink.submit(event(1))
        sink.submit(event(2))
    assert sink.stats.sent == 2 and sink.stats.failed == 0
    assert [b["data"]["n"] for b in receiver.bodies] == [1, 1, 1, 2]
    assert len({b["id"] for b in receiver.bodies[:3]}) == 1  # same id on every retry: receivers can de-duplicate
    assert Event.model_validate(receiver.bodies[-1]) == event(2).model_copy(update={"id": receiver.bodies[-1]["id"]})
    headers = receiver.headers[0]
    assert headers["Content-Type"] == "application/json" and headers["X-Site"] == "kediri"
    assert headers["Authorization"] == "Bearer t0ken"
    assert sum("retrying" in r.getMessage() for r in caplog.records) == 2
    assert all("t0ken" not in r.getMessage() for r in caplog.records)


def test_webhook_gives_up_and_does_not_retry_client_errors(receiver: Any, event: Any) -> None:
    receiver.plan = [400, 500, 500]
    with WebhookSink(WebhookSinkConfig(url=receiver.url, attempts=2, backoff=(0.05, 0.1))) as sink:
        sink.submit(event(1))  # 400: refused, not retried
        sink.submit(event(2))  # 500, 500: attempts exhausted
    assert (sink.stats.sent, sink.stats.failed) == (0, 2)
    assert [b["data"]["n"] for b in receiver.bodies] == [1, 2, 2]
    assert sink.stats.last_error is not None and "HTTP 500" in sink.stats.last_error


def test_webhook_times_out_and_hides_credentials(receiver: Any, event: Any) -> None:
    receiver.delay = 1.0
    url = receiver.url.replace("http://", "http://hook:pa55word@")
    sink = WebhookSink(WebhookSinkConfig(url=url, attempts=1, timeout=(1.0, 0.2)))
    with sink:
        sink.submit(event(1))
    assert sink.stats.failed == 1
    assert "Read timed out" in (sink.stats.last_error or "") or "timed out" in (sink.stats.last_error or "")
    assert "pa55word" not in (sink.stats.last_error or "") and "pa55word" not in repr(sink)


def test_webhook_never_blocks_the_producer(receiver: Any, event: Any) -> None:
    receiver.gate.clear()  # the receiver hangs: the sink's thread is stuck in one POST
    sink = WebhookSink(WebhookSinkConfig(url=receiver.url, queue_size=5, timeout=(1.0, 10.0)))
    with sink:
        for n in range(40):
            assert sink.submit(event(n))
        stats = sink.stats
        receiver.gate.set()
    assert stats.queued == 5 and stats.dropped >= 34
    assert sink.stats.submitted == 40 and sink.stats.sent + sink.stats.dropped + sink.stats.failed == 40


@pytest.mark.parametrize(
    ("config", "kind"),
    [
        ({"type": "jsonl", "path": "x.jsonl"}, JsonlSink),
        ({"type": "webhook", "url": "https://example.invalid/hook"}, WebhookSink),
        ({"type": "mqtt", "url": "mqtt://127.0.0.1:1883"}, MqttSink),
        (JsonlSinkConfig(path=Path("y.jsonl")), JsonlSink),
    ],
)
def test_build_sink(config: Any, kind: type) -> None:
    sink = build_sink(config)
    assert type(sink) is kind and sink.stats.sent == 0  # built, not started: no thread, no connection


@pytest.mark.parametrize(
    ("config", "match"),
    [
        ({"type": "kafka"}, "does not match any of the expected tags"),
        ({"type": "jsonl"}, r"jsonl\.path: Field required"),
        ({"type": "jsonl", "path": "x", "rotate": 5}, r"jsonl\.rotate: Extra inputs"),
        ({"type": "webhook", "url": "ftp://x"}, r"url must start with http"),
        ({"type": "webhook", "url": "http://x", "timeout": [0, 1]}, "must be > 0"),
        ({"type": "mqtt", "url": "http://broker"}, "url must look like mqtt://"),
        ({"type": "mqtt", "url": "mqtt://b", "qos": 3}, r"mqtt\.qos"),
    ],
)
def test_build_sink_rejects(config: dict[str, Any], match: str) -> None:
    with pytest.raises(ConfigError, match=match):
        build_sink(config)


def test_sink_stats_serialise() -> None:
    stats = CallbackSink(lambda e: None, name="table").stats
    assert json.loads(stats.model_dump_json())["name"] == "table"
