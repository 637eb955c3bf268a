"""JSON Lines file sink: one event per line, appended and flushed per event, optional size rotation."""

from __future__ import annotations

import logging
import os
from pathlib import Path
from typing import IO, TYPE_CHECKING, Literal

from pydantic import BaseModel, ConfigDict, Field

from kedirivms.errors import StorageError
from kedirivms.sinks._base import Sink

if TYPE_CHECKING:  # at run time sinks do not import analytics (which imports sinks)
    from kedirivms.analytics.events import Event

__all__ = ["JsonlSink", "JsonlSinkConfig"]

_log = logging.getLogger("kedirivms.sinks")


class JsonlSinkConfig(BaseModel):
    """Settings of a :class:`JsonlSink` (``type: jsonl`` in a deployment file)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    type: Literal["jsonl"] = Field(default="jsonl", description="Sink kind.")
    path: Path = Field(description="The file; parent folders are created; appended to.")
    rotate_bytes: int | None = Field(
        default=None, ge=1024, description="Rotate when the file reaches this size (path.1, path.2, ...)."
    )
    backups: int = Field(default=5, ge=1, le=1000, description="Rotated files kept.")
    fsync: bool = Field(default=False, description="fsync after each event (durable, slower).")
    queue_size: int = Field(default=10000, ge=1, description="Events waiting at most; the oldest is dropped.")
    name: str | None = Field(default=None, description="Label in stats and logs (default: the file name).")


class JsonlSink(Sink):
    """Append events to a JSON Lines file (the default sink).

    Each line is ``Event.model_dump_json()``; the file is flushed after every event so a crash loses at most the
    queued ones. With ``rotate_bytes`` the file is renamed to ``path.1`` (older ones shift up to ``backups``).

    Args:
        config: the settings.

    Raises:
        StorageError: at :meth:`start`, when the file cannot be opened for appending.

    Example:
        >>> with JsonlSink(JsonlSinkConfig(path="events.jsonl")) as sink:  # doctest: +SKIP
        ...     sink.submit(event)
    """

    kind = "jsonl"

    def __init__(self, config: JsonlSinkConfig) -> None:
        super().__init__(name=config.name or config.path.name, queue_size=config.queue_size)
        self.config = config
        self._file: IO[str] | None = None

    def _open(self) -> None:
        path = self.config.path
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            self._file = path.open("a", encoding="utf-8")
        except OSError as exc:
            raise StorageError(
                f"cannot open {path} for appending: {exc.strerror or exc}",
                operation="open JSONL sink",
                hint="check the folder exists and is writable",
            ) from exc

    def _close(self) -> None:
        if self._file is not None:
            self._file.close()
            self._file = None

    def _deliver(self, event: Event) -> bool:
        if self._file is None:
            return False
        line = event.model_dump_json() + "\n"
        try:
            if self.config.rotate_bytes and self._file.tell() + len(line) > self.config.rotate_bytes:
                self._rotate()
            self._file.write(line)
            self._file.flush()
            if self.config.fsync:
                os.fsync(self._file.fileno())
        except OSError as exc:
            self._error(f"write {self.config.path}: {exc.strerror or exc}")
            _log.error("JSONL sink %r: cannot write %s: %s", self.name, self.config.path, exc)
            return False
        return True

    def _rotate(self) -> None:
        assert self._file is not None
        if self._file.tell() == 0:
            return
        self._file.close()
        path = self.config.path
        for index in range(self.config.backups - 1, 0, -1):
            older = path.with_name(f"{path.name}.{index}")
            if older.exists():
                older.replace(path.with_name(f"{path.name}.{index + 1}"))
        path.replace(path.with_name(f"{path.name}.1"))
        self._file = path.open("a", encoding="utf-8")
