"""The plugin contract: Event validation, registry checks, per-camera config validation (no network)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import numpy as np
import pytest
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from clitools import plugin_registry
from kedirivms import Event, hookimpl
from kedirivms.analytics import (
    CONTRACT_VERSION,
    AnalyticsRunner,
    CameraAnalytics,
    CameraInfo,
    PluginContext,
    PluginRegistry,
    PluginSettings,
    hookspecs,
)
from kedirivms.errors import ConfigError, PluginError, PluginValidationError

T0 = datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)


@pytest.mark.parametrize(
    ("time", "expected"),
    [
        (0, datetime(1970, 1, 1, tzinfo=UTC)),
        (1767323045.0, T0),
        (T0, T0),
        (T0.replace(tzinfo=None), T0),  # naive: taken as UTC
        (T0.astimezone(timezone(timedelta(hours=7))), T0),  # WIB converted to UTC
        ("2026-01-02T03:04:05Z", T0),
    ],
)
def test_event_time_is_utc(time: Any, expected: datetime) -> None:
    event = Event(camera="c", source="queue", kind="pile_up", time=time)
    assert event.time == expected and event.time.utcoffset() == timedelta(0)
    assert event.timestamp == expected.timestamp()


@pytest.mark.parametrize(
    ("fields", "error"),
    [
        ({"kind": "pile up"}, "kind must be"),
        ({"kind": ""}, "kind must be"),
        ({"kind": "x" * 65}, "kind must be"),
        ({"camera": ""}, "at least 1 character"),
        ({"data": {"n": np.int64(3)}}, "data.n"),  # numpy ints are not JSON: convert with int()
        ({"data": {"obj": object()}}, "data.obj"),
        ({"colour": "red"}, "Extra inputs are not permitted"),
    ],
)
def test_event_rejects(fields: dict[str, Any], error: str) -> None:
    base: dict[str, Any] = {"camera": "c", "source": "s", "kind": "k", "time": 0}
    with pytest.raises(ValidationError, match=error):
        Event(**{**base, **fields})


def test_event_round_trips_json_and_has_unique_ids() -> None:
    a = Event(camera="c", source="tns1:RuleEngine/X", kind="tns1:x.y-z", time=T0, zone="q", data={"n": [1, 2.5]})
    b = Event(camera="c", source="s", kind="k", time=T0)
    assert Event.model_validate_json(a.model_dump_json()) == a
    assert a.id != b.id and len(a.id) == 32
    with pytest.raises(ValidationError):
        a.kind = "other"  # type: ignore[misc]


def test_context_builds_events_from_the_frame_time() -> None:
    ctx = PluginContext(CameraInfo(name="cam", source="rtsp://h/x"), "mine", None)  # type: ignore[arg-type]
    ctx.frame_time = 100.5
    event = ctx.event("seen", {"a": 1}, zone="queue")
    assert (event.camera, event.source, event.kind, event.zone, event.data) == (
        "cam",
        "mine",
        "seen",
        "queue",
        {"a": 1},
    )
    assert event.timestamp == 100.5
    assert ctx.event("x", time=5).timestamp == 5
    ctx.frame_time = None
    assert abs(ctx.event("x").time - datetime.now(UTC)) < timedelta(seconds=60)
    assert "cam" in repr(ctx)


def test_specs_are_the_documented_contract() -> None:
    assert CONTRACT_VERSION == "1.0" and hookspecs.PROJECT == "kedirivms"
    specs = {n for n in dir(hookspecs) if hasattr(getattr(hookspecs, n), "kedirivms_spec")}
    assert specs == {"on_start", "on_frame", "on_event", "on_stop"}


class MyConfig(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)
    threshold: int = Field(default=3, ge=1)


class Mine:
    name = "mine"
    version = "1.0.0"
    Config = MyConfig
    max_fps = 4

    @hookimpl
    def on_frame(self, frame: Any) -> None:
        pass


class Typo:
    name = "typo"

    @hookimpl
    def on_frame(self, frme: Any) -> None:
        pass


class Unknown:
    name = "unknown-hook"

    @hookimpl
    def on_frames(self, frame: Any) -> None:
        pass


class NoHooks:
    name = "nohooks"

    def on_frame(self, frame: Any) -> None:
        pass


def _plugin(**attrs: Any) -> type:
    def on_frame(self: Any, frame: Any) -> None:
        pass

    return type("P", (), {"on_frame": hookimpl(on_frame), **attrs})


@pytest.mark.parametrize(
    ("factory", "error"),
    [
        (Typo, "frme"),
        (Unknown, "unknown hook 'on_frames'"),
        (NoHooks, "implements none of"),
        (_plugin(), "no valid `name`"),
        (_plugin(name="Bad Name"), "no valid `name`"),
        (_plugin(name="p", contract="2.0"), "written for contract 2.0"),
        (_plugin(name="p", Config=dict), "`Config` must be a pydantic model"),
        (_plugin(name="p", max_fps=0), "`max_fps` must be a positive number"),
        ("not callable", "not a class or factory"),
    ],
)
def test_registry_refuses_plugins_that_break_the_contract(factory: Any, error: str) -> None:
    with pytest.raises(PluginValidationError, match=error):
        PluginRegistry(entry_points=False, builtins=False).register(factory)


def test_registry_registers_and_describes() -> None:
    registry = PluginRegistry(entry_points=False, builtins=False)
    info = registry.register(Mine)
    assert (info.name, info.version, info.config_model, info.max_fps, info.origin) == (
        "mine",
        "1.0.0",
        MyConfig,
        4.0,
        "registered",
    )
    registry.register(Mine, name="mine-2")
    assert registry.names() == ["mine", "mine-2"] and [i.name for i in registry] == ["mine", "mine-2"]
    assert registry.register(_plugin(name="p", contract="1.7")).name == "p"  # same major version
    with pytest.raises(PluginError, match=r"no analytics plugin named 'nope'.*available: mine, mine-2, p"):
        registry.get("nope")


@pytest.mark.parametrize(
    ("cameras", "error", "match"),
    [
        ([{"plugins": [{"name": "mine", "config": {"threshold": 0}}]}], PluginValidationError, r"cam-1.*threshold"),
        ([{"plugins": [{"name": "mine", "config": {"treshold": 5}}]}], PluginValidationError, r"treshold.*Extra"),
        ([{"plugins": [{"name": "missing"}]}], PluginError, "no analytics plugin named 'missing'"),
        ([{"plugins": [{"name": "mine"}, {"name": "mine"}]}], ConfigError, "listed twice"),
        ([{}, {}], ConfigError, "camera names must be unique"),
    ],
)
def test_runner_validates_the_deployment_before_starting(
    cameras: list[dict[str, Any]], error: type, match: str
) -> None:
    cams = [CameraAnalytics(name="cam-1", **c) for c in cameras]
    with pytest.raises(error, match=match):
        AnalyticsRunner(cams, registry=plugin_registry(Mine))


def test_settings_models_forbid_unknown_keys_and_hide_credentials() -> None:
    with pytest.raises(ValidationError):
        PluginSettings(name="mine", confg={})  # type: ignore[call-arg]
    with pytest.raises(ValidationError):
        CameraAnalytics(name="a/b")  # not topic-safe
    cam = CameraAnalytics(name="c", source="rtsp://admin:hunter2@10.0.0.5/sub", plugins=[{"name": "mine"}])  # type: ignore[list-item]
    assert "hunter2" not in repr(cam)
    runner = AnalyticsRunner([cam], registry=plugin_registry(Mine))
    runner.stop()  # stopping a runner that never started is fine
    with pytest.raises(Exception, match="stopped"):
        runner.start()


def test_a_registered_plugin_wins_over_an_entry_point_and_broken_ones_are_reported(monkeypatch: Any) -> None:
    from importlib.metadata import EntryPoint

    from kedirivms.analytics import _manager

    fake = [
        EntryPoint("mine", f"{__name__}:Typo", "kedirivms"),
        EntryPoint("broken", "kedirivms_no_such_module:Plugin", "kedirivms"),
    ]
    monkeypatch.setattr(_manager, "entry_points", lambda group: fake if group == "kedirivms" else [])
    registry = PluginRegistry(builtins=False)
    registry.register(Mine)
    assert registry.names() == ["mine"] and registry.get("mine").factory is Mine
    assert "ModuleNotFoundError" in registry.errors["broken"]
    with pytest.raises(PluginError, match="failed to load: ModuleNotFoundError"):
        registry.get("broken")


def test_a_sink_that_cannot_start_stops_everything(tmp_path: Any) -> None:
    import threading

    from kedirivms.errors import StorageError
    from kedirivms.sinks import CallbackSink, JsonlSink, JsonlSinkConfig

    blocker = tmp_path / "file"
    blocker.write_text("")
    ok = CallbackSink(lambda e: None, name="ok")
    bad = JsonlSink(JsonlSinkConfig(path=blocker / "events.jsonl"))
    cams = [CameraAnalytics(name="c", plugins=[PluginSettings(name="mine")])]
    runner = AnalyticsRunner(cams, [ok, bad], registry=plugin_registry(Mine))
    with pytest.raises(StorageError):
        runner.start()
    assert runner.state.value == "stopped"
    ours = ("kedirivms-sink-", "kedirivms-plugin-", "kedirivms-reader-")
    assert not [t for t in threading.enumerate() if t.name.startswith(ours)]
    assert ok.submit(Event(camera="c", source="s", kind="k", time=0)) is False  # closed with the runner


def test_event_from_a_camera_notification() -> None:
    from kedirivms.onvif import CameraEvent

    message = CameraEvent(
        topic="tns1:RuleEngine/CellMotionDetector/Motion",
        utc_time=T0,
        property_operation="Changed",
        source={"VideoSourceConfigurationToken": "VSC_1"},
        data={"IsMotion": "true"},
    )
    event = Event.from_camera_event("counter-1", message)
    assert (event.camera, event.source, event.kind, event.time) == (
        "counter-1",
        "tns1:RuleEngine/CellMotionDetector/Motion",
        "Motion",
        T0,
    )
    assert event.data == {
        "source": {"VideoSourceConfigurationToken": "VSC_1"},
        "key": {},
        "data": {"IsMotion": "true"},
        "operation": "Changed",
    }
    bare = Event.from_camera_event("c", CameraEvent(topic="acme:Vendor Thing/Door open"))
    assert bare.kind == "Door_open" and bare.data["operation"] is None
    assert abs(bare.time - datetime.now(UTC)) < timedelta(seconds=60)
