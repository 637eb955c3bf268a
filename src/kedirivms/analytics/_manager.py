"""Plugin discovery, validation and per-camera instantiation (private; the public face is ``PluginRegistry``).

Third-party plugins come from the ``kedirivms`` entry-point group, built-ins through the same loader, and
in-house ones through :meth:`PluginRegistry.register`. Each camera gets fresh instances, each registered in its
own pluggy ``PluginManager`` that holds the contract's specs: pluggy checks the hook names and arguments
(``check_pending``) and calls the hooks with keyword arguments.
"""

from __future__ import annotations

import inspect
import logging
import re
import threading
import types
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from importlib.metadata import EntryPoint, entry_points
from typing import Any

import pluggy
from pydantic import BaseModel, ConfigDict, ValidationError

from kedirivms._exports import one_line
from kedirivms.analytics import hookspecs
from kedirivms.analytics.hookspecs import CONTRACT_VERSION, PROJECT, CameraInfo, PluginContext
from kedirivms.errors import PluginError, PluginValidationError

__all__ = ["PluginInfo", "PluginRegistry"]

_log = logging.getLogger("kedirivms.analytics")
_NAME = re.compile(r"^[a-z0-9][a-z0-9_-]{0,63}$")
_HOOKS = ("on_start", "on_frame", "on_event", "on_stop")

# Built-in plugins are loaded exactly like third-party entry points (lazily, by "module:attribute").
_BUILTINS: dict[str, str] = {"queue": "kedirivms.analytics.queue:QueuePlugin"}


class _NoConfig(BaseModel):
    """Config of a plugin that declares none: accepts no options."""

    model_config = ConfigDict(extra="forbid", frozen=True)


@dataclass(frozen=True)
class PluginInfo:
    """What the registry knows about a plugin class.

    Attributes:
        name: the plugin name (``[a-z0-9_-]``).
        version: the plugin's own version string.
        factory: the class (or zero-argument callable) creating one instance per camera.
        config_model: the pydantic model validating its per-camera config.
        max_fps: the frame rate it asks for (``None``: every frame).
        origin: where it came from: ``builtin``, ``entry-point <dist>`` or ``registered``.
    """

    name: str
    version: str
    factory: Callable[[], Any]
    config_model: type[BaseModel]
    max_fps: float | None
    origin: str


def _inspect(factory: Any, *, name: str | None, origin: str) -> PluginInfo:
    """Read and check a plugin class's contract attributes."""
    label = name or getattr(factory, "name", None) or getattr(factory, "__name__", repr(factory))
    if not callable(factory):
        raise PluginValidationError(f"plugin {label!r} from {origin} is not a class or factory")
    plugin_name = name or getattr(factory, "name", None)
    if not isinstance(plugin_name, str) or not _NAME.match(plugin_name):
        raise PluginValidationError(
            f"plugin {label!r} from {origin} has no valid `name`",
            hint="set a class attribute `name` of lowercase letters, digits, '_' or '-'",
        )
    contract = str(getattr(factory, "contract", CONTRACT_VERSION))
    if contract.split(".")[0] != CONTRACT_VERSION.split(".")[0]:
        raise PluginValidationError(
            f"plugin {plugin_name!r} was written for contract {contract}, this kedirivms speaks {CONTRACT_VERSION}",
            hint="install a plugin release made for this kedirivms version",
        )
    config_model = getattr(factory, "Config", None) or _NoConfig
    if not (isinstance(config_model, type) and issubclass(config_model, BaseModel)):
        raise PluginValidationError(f"plugin {plugin_name!r}: `Config` must be a pydantic model class")
    max_fps = getattr(factory, "max_fps", None)
    if max_fps is not None and (not isinstance(max_fps, int | float) or max_fps <= 0):
        raise PluginValidationError(f"plugin {plugin_name!r}: `max_fps` must be a positive number or None")
    if not _marked(factory):
        raise PluginValidationError(
            f"plugin {plugin_name!r} implements none of {', '.join(_HOOKS)}",
            hint="mark hook methods with @kedirivms.hookimpl",
        )
    return PluginInfo(
        name=plugin_name,
        version=str(getattr(factory, "version", "0")),
        factory=factory,
        config_model=config_model,
        max_fps=float(max_fps) if max_fps is not None else None,
        origin=origin,
    )


class PluginRegistry:
    """The plugins available to runners: built-ins, ``kedirivms`` entry points and registered classes.

    Entry points are read on first use (or :meth:`load`); a plugin that fails to import is logged and left out,
    so one broken distribution does not stop the others.

    Args:
        entry_points: read the ``kedirivms`` entry-point group (default ``True``).
        builtins: include the built-in plugins (default ``True``).

    Example:
        >>> registry = PluginRegistry(entry_points=False, builtins=False)
        >>> registry.register(MyPlugin)  # doctest: +SKIP
        >>> registry.names()  # doctest: +SKIP
        ['mine']
    """

    def __init__(self, *, entry_points: bool = True, builtins: bool = True) -> None:
        self._use_entry_points = entry_points
        self._use_builtins = builtins
        self._plugins: dict[str, PluginInfo] = {}
        self._errors: dict[str, str] = {}
        self._loaded = False
        self._lock = threading.Lock()

    def register(self, factory: Any, *, name: str | None = None) -> PluginInfo:
        """Register a plugin class programmatically (it replaces an entry point of the same name).

        Args:
            factory: the plugin class (see :mod:`kedirivms.analytics.hookspecs`).
            name: register under this name instead of ``factory.name``.

        Returns:
            The plugin's :class:`PluginInfo`.

        Raises:
            PluginValidationError: the class does not follow the contract.
        """
        info = _inspect(factory, name=name, origin="registered")
        _check_hooks(info)
        with self._lock:
            self._plugins[info.name] = info
        return info

    def load(self) -> None:
        """Read built-ins and entry points now (idempotent); failures are kept in :attr:`errors`."""
        with self._lock:
            if self._loaded:
                return
            self._loaded = True
            found: list[tuple[EntryPoint, str]] = []
            if self._use_builtins:
                found += [(EntryPoint(n, v, PROJECT), "builtin") for n, v in _BUILTINS.items()]
            if self._use_entry_points:
                for ep in entry_points(group=PROJECT):
                    dist = ep.dist.name if ep.dist is not None else "?"
                    found.append((ep, f"entry-point {dist}"))
            for ep, origin in found:
                if ep.name in self._plugins and self._plugins[ep.name].origin == "registered":
                    continue  # programmatic registration wins
                try:
                    info = _inspect(ep.load(), name=None, origin=origin)
                    _check_hooks(info)
                except Exception as exc:  # any import error of a third-party distribution
                    self._errors[ep.name] = f"{type(exc).__name__}: {exc}"
                    _log.warning("analytics plugin %r (%s) could not be loaded: %s", ep.name, origin, exc)
                    continue
                if info.name in self._plugins and self._plugins[info.name].origin == "registered":
                    continue
                self._plugins[info.name] = info

    @property
    def errors(self) -> Mapping[str, str]:
        """Plugins that failed to load, by entry-point name: the error text."""
        self.load()
        return dict(self._errors)

    def names(self) -> list[str]:
        """Names of the available plugins, sorted."""
        self.load()
        return sorted(self._plugins)

    def get(self, name: str) -> PluginInfo:
        """The plugin registered as ``name``.

        Raises:
            PluginError: no such plugin (the message lists the available ones and load errors).
        """
        self.load()
        try:
            return self._plugins[name]
        except KeyError:
            why = f" (failed to load: {self._errors[name]})" if name in self._errors else ""
            raise PluginError(
                f"no analytics plugin named {name!r}{why}",
                hint=f"available: {', '.join(self.names()) or 'none'}; install the plugin's distribution",
            ) from None

    def __iter__(self) -> Iterator[PluginInfo]:
        self.load()
        return iter(sorted(self._plugins.values(), key=lambda i: i.name))


def _check_hooks(info: PluginInfo) -> None:
    """Let pluggy validate the hook names and arguments once, on a throw-away instance manager."""
    pm = _new_manager()
    try:
        pm.register(_HookProbe(info.factory), name=info.name)
        pm.check_pending()
    except pluggy.PluginValidationError as exc:
        raise PluginValidationError(
            f"plugin {info.name!r} does not match contract {CONTRACT_VERSION}: {exc}",
            hint="hook arguments must be a subset of the spec's (see docs/plugins.md)",
        ) from exc


def _marked(factory: Any) -> list[str]:
    """Names of the attributes marked with ``@hookimpl``."""
    return [n for n in dir(factory) if hasattr(getattr(factory, n, None), f"{PROJECT}_impl")]


class _HookProbe:
    """Exposes a class's hook functions unbound, so pluggy can check them without instantiating the class."""

    def __init__(self, factory: Any) -> None:
        for hook in _marked(factory):
            method = getattr(factory, hook)
            plain = isinstance(factory, type) and inspect.isfunction(method)
            if plain and not isinstance(inspect.getattr_static(factory, hook), staticmethod):
                method = types.MethodType(method, self)  # as bound on an instance: `self` is implicit
            setattr(self, hook, method)


def _new_manager() -> pluggy.PluginManager:
    pm = pluggy.PluginManager(PROJECT)
    pm.add_hookspecs(hookspecs)
    return pm


def validate_config(info: PluginInfo, camera: str, config: Mapping[str, Any] | BaseModel | None) -> BaseModel:
    """Validate a plugin's per-camera config.

    Raises:
        PluginValidationError: naming the camera, the plugin and the fields.
    """
    if isinstance(config, info.config_model):
        return config
    raw = config.model_dump() if isinstance(config, BaseModel) else dict(config or {})
    try:
        return info.config_model.model_validate(raw)
    except ValidationError as exc:
        raise PluginValidationError(
            f"invalid config for plugin {info.name!r}: {one_line(exc)}",
            camera=camera,
            operation="configure plugin",
            hint="see the plugin's Config model for the accepted keys",
        ) from None


class PluginInstance:
    """One plugin instance serving one camera, with its own pluggy manager (private to the runner)."""

    def __init__(self, info: PluginInfo, camera: CameraInfo, config: BaseModel) -> None:
        self.info = info
        self.config = config
        try:
            self.obj = info.factory()
        except Exception as exc:
            raise PluginError(
                f"plugin {info.name!r} could not be created: {type(exc).__name__}: {exc}",
                camera=camera.name,
                operation="create plugin",
            ) from exc
        self.pm = _new_manager()
        try:
            self.pm.register(self.obj, name=info.name)
            self.pm.check_pending()
        except pluggy.PluginValidationError as exc:
            raise PluginValidationError(
                f"plugin {info.name!r} does not match contract {CONTRACT_VERSION}: {exc}", camera=camera.name
            ) from exc
        self.ctx = PluginContext(camera, info.name, config)
        hook = self.pm.hook
        self.on_start = hook.on_start
        self.on_frame = hook.on_frame
        self.on_event = hook.on_event
        self.on_stop = hook.on_stop
        self.has_frame = bool(hook.on_frame.get_hookimpls())
        self.has_event = bool(hook.on_event.get_hookimpls())
