"""The analytics plugin contract (version ``CONTRACT_VERSION``).

A plugin is a **class** (or any zero-argument callable with the same attributes) that the runner instantiates
once per camera pipeline, so every instance holds the state of exactly one camera. Its hook methods are marked
with :data:`hookimpl`; each instance is registered in its own pluggy ``PluginManager`` holding these specs,
so a slow or failing plugin never touches another plugin or another camera.

Class attributes read by the runner:

* ``name`` (``str``, required): a short identifier, ``[a-z0-9_-]``; also the ``source`` of its events.
* ``version`` (``str``): the plugin's own version, shown in metrics.
* ``Config`` (a pydantic model class): validated per camera from the camera's plugin settings; the instance
  gets it in :func:`on_start`. Default: a model with no fields that forbids extra keys.
* ``max_fps`` (``float | None``): the frame rate the plugin asks for; ``None`` means every decoded frame.
* ``contract`` (``str``): the contract version the plugin was written for (default ``CONTRACT_VERSION``); a
  different major version is refused at load time.

Hooks are called with keyword arguments, and an implementation may accept any subset of a spec's
arguments (so specs can grow without breaking plugins). All hooks of one instance run on that plugin's own
worker thread, one call at a time, so a plugin needs no locking for its own state. Each hook may return
events: ``None``, one :class:`~kedirivms.analytics.events.Event` or an iterable of them.

Third-party plugins are found through the entry-point group ``kedirivms``; the entry point names the class::

    [project.entry-points.kedirivms]
    loiter = "acme_loiter:LoiterPlugin"

Example:
    >>> from kedirivms.analytics.hookspecs import hookimpl
    >>> class Bright:
    ...     name = "bright"
    ...     max_fps = 2.0
    ...     @hookimpl
    ...     def on_frame(self, frame, ctx):
    ...         if frame.y.mean() > 200:
    ...             return ctx.event("too_bright", {"mean": float(frame.y.mean())})
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from datetime import UTC, datetime
from typing import TYPE_CHECKING

import pluggy
from pydantic import BaseModel, ConfigDict, Field

from kedirivms.analytics.events import Event, JsonValue

if TYPE_CHECKING:  # the stream package is a sibling concern; only its types are needed here
    from kedirivms.stream import Frame

__all__ = [
    "CONTRACT_VERSION",
    "PROJECT",
    "CameraInfo",
    "EventResult",
    "PluginContext",
    "hookimpl",
    "hookspec",
]

CONTRACT_VERSION = "1.0"
"""Version of this contract: a plugin written for another *major* version is refused."""

PROJECT = "kedirivms"
"""The pluggy project name and the entry-point group that third-party plugins register in."""

hookspec = pluggy.HookspecMarker(PROJECT)
hookimpl = pluggy.HookimplMarker(PROJECT)
"""Marks a plugin method as the implementation of the hook of the same name."""

EventResult = Event | Iterable[Event] | None
"""What a hook may return: nothing, one event or an iterable of events."""


class CameraInfo(BaseModel):
    """The camera a plugin instance serves.

    Attributes:
        name: the camera's name in the deployment (unique; used in event ``camera`` and MQTT topics).
        source: the stream URL with any password redacted.
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    name: str = Field(description="Camera name, unique in the deployment.")
    source: str = Field(default="", description="Stream URL, password redacted.")


class PluginContext:
    """Per-camera, per-plugin context handed to every hook as ``ctx``.

    One object per plugin instance, updated by the runner before each call (do not hand it to other threads).

    Attributes:
        camera: the camera this instance serves.
        plugin: the plugin name (the ``source`` of the events it builds).
        config: the validated config model (the same object :func:`on_start` receives).
        logger: the logger ``kedirivms.plugin.<name>`` (name the camera in messages: ``ctx.camera.name``).
        seq: number of frames delivered to this plugin so far (the current one included).
        dropped: frames dropped so far because this plugin was still busy (latest-frame policy).
        frame_time: wall-clock time (epoch seconds) of the current frame, or ``None`` outside ``on_frame``.
    """

    __slots__ = ("camera", "config", "dropped", "frame_time", "logger", "plugin", "seq")

    def __init__(self, camera: CameraInfo, plugin: str, config: BaseModel) -> None:
        self.camera = camera
        self.plugin = plugin
        self.config = config
        self.logger = logging.getLogger(f"kedirivms.plugin.{plugin}")
        self.seq = 0
        self.dropped = 0
        self.frame_time: float | None = None

    def event(
        self,
        kind: str,
        data: dict[str, JsonValue] | None = None,
        *,
        zone: str | None = None,
        time: float | datetime | None = None,
    ) -> Event:
        """Build an event from this plugin on this camera.

        Args:
            kind: what happened, e.g. ``pile_up`` (letters, digits, ``_.:-``).
            data: JSON-compatible details.
            zone: the zone it concerns, if any.
            time: epoch seconds or an aware datetime; default: the current frame's time, else now.

        Returns:
            A new :class:`Event` (``camera`` and ``source`` filled in).
        """
        # Event turns epoch seconds into a UTC datetime itself
        when = time if time is not None else self.frame_time
        if when is None:
            when = datetime.now(UTC)
        return Event(camera=self.camera.name, source=self.plugin, kind=kind, time=when, zone=zone, data=data or {})

    def __repr__(self) -> str:
        return f"PluginContext(camera={self.camera.name!r}, plugin={self.plugin!r}, seq={self.seq})"


# The specs are module-level functions (pluggy's ``add_hookspecs`` takes a module); bodies are docstrings.


@hookspec
def on_start(camera: CameraInfo, config: BaseModel, ctx: PluginContext) -> EventResult:
    """Called once when the camera pipeline starts, before any frame.

    Args:
        camera: the camera this instance serves.
        config: the plugin's ``Config`` model, validated for this camera.
        ctx: the plugin context.

    Returns:
        Events to emit (usually ``None``). Raising here disables the plugin for this camera.
    """


@hookspec
def on_frame(frame: Frame, ctx: PluginContext) -> EventResult:
    """Called for each frame delivered to the plugin (at most ``max_fps`` per second, latest frame first).

    Args:
        frame: a decoded frame; ``frame.y`` is a **read-only** (H, W) uint8 luma view. It is valid for this
            call: keep anything longer as ``frame.copy()`` or a numpy copy.
        ctx: the plugin context (``ctx.seq``, ``ctx.dropped``, ``ctx.frame_time``, ``ctx.event()``).

    Returns:
        Events found in this frame (detections go in an event's ``data``), or ``None``.
    """


@hookspec
def on_event(event: Event, ctx: PluginContext) -> EventResult:
    """Called for each event on this camera that the plugin did not emit itself.

    Camera events (ONVIF topics submitted with ``runner.submit_event``) and other plugins' events arrive here.
    Events returned from ``on_event`` go to the sinks but are not fed back to ``on_event`` (no loops).

    Args:
        event: the event.
        ctx: the plugin context.

    Returns:
        Derived events, or ``None``.
    """


@hookspec
def on_stop(ctx: PluginContext) -> EventResult:
    """Called once when the pipeline stops (also after the plugin was disabled, unless ``on_start`` failed).

    Args:
        ctx: the plugin context.

    Returns:
        Final events (e.g. a last partial interval), or ``None``.
    """
