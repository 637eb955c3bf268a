"""The shared typer app and output helpers for every command group."""

from __future__ import annotations

import json
import logging
import math
import sys
from typing import Any

import typer
from pydantic import BaseModel
from rich.console import Console
from rich.markup import escape
from rich.text import Text

from kedirivms._redact import PRINT_LIMIT, printable, redact_text
from kedirivms.errors import (
    AuthenticationFailed,
    ConfigError,
    ConnectionFailed,
    InvalidArgument,
    KedirivmsError,
    NotSupported,
    Timeout,
)

app = typer.Typer(
    name="kedirivms",
    help="ONVIF cameras and NVRs: discover, control, stream, record, analyse, provision.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)

console = Console()
err_console = Console(stderr=True)
ERROR_CHARS = 1000  # an error line, camera text included, is cut here (a 1 MB fault reason printed nothing else)


def print_error(message: str) -> None:
    """Print one error line on stderr: redacted, control characters escaped, bounded (never read as markup)."""
    err_console.print(Text.assemble(("error:", "bold red"), " ", printable(message, ERROR_CHARS)), soft_wrap=True)


def safe(text: object, limit: int = PRINT_LIMIT) -> str:
    """Peer text for a rich markup string or table cell: redacted, one line, bounded, markup escaped."""
    return escape(printable(str(text), limit))


class _PrintableFormatter(logging.Formatter):
    """One redacted, escaped, bounded line per record: no traceback, no secret, no terminal codes."""

    def format(self, record: logging.LogRecord) -> str:
        return f"{record.levelname.lower()}: {printable(record.getMessage(), ERROR_CHARS)}"


class _StderrHandler(logging.StreamHandler):
    """Writes to whatever ``sys.stderr`` is at the time of the record (in-process callers swap it)."""

    @property
    def stream(self) -> Any:
        return sys.stderr

    @stream.setter
    def stream(self, value: Any) -> None:
        pass


def quiet_foreign_loggers() -> None:
    """Keep third-party library logs (zeep's schema warnings, with their tracebacks) off the user's terminal, and
    print the library's own warnings through the redaction point, one line each.

    Without a handler, Python prints WARNING records (tracebacks included) to stderr as they are.
    """
    for name in ("zeep", "urllib3", "requests"):
        logger = logging.getLogger(name)
        if not logger.handlers:
            logger.addHandler(logging.NullHandler())
            logger.propagate = False
    ours = logging.getLogger("kedirivms")
    if not ours.handlers and not logging.getLogger().handlers:
        handler = _StderrHandler()
        handler.setLevel(logging.WARNING)
        handler.setFormatter(_PrintableFormatter())
        ours.addHandler(handler)


def exit_code_for(exc: KedirivmsError) -> int:
    """Map an error class to a stable exit code."""
    table: list[tuple[type[KedirivmsError], int]] = [
        (AuthenticationFailed, 3),
        (Timeout, 4),
        (ConnectionFailed, 5),  # StreamOpenError included
        (NotSupported, 6),
        (InvalidArgument, 2),
        (ConfigError, 2),
    ]
    for cls, code in table:
        if isinstance(exc, cls):
            return code
    return 1


def emit_json(value: Any) -> None:
    """Write ``value`` (a model, a list of models or plain data) as JSON on stdout."""
    sys.stdout.write(json.dumps(to_jsonable(value), indent=2, default=_jsonable_str, allow_nan=False) + "\n")


def emit_json_line(value: Any) -> None:
    """Write ``value`` as one compact JSON line and flush (streaming outputs)."""
    sys.stdout.write(json.dumps(to_jsonable(value), default=_jsonable_str, allow_nan=False) + "\n")
    sys.stdout.flush()


def to_jsonable(value: Any) -> Any:
    """``value`` as JSON data: models dumped, strings redacted, NaN and infinities as ``null`` (valid JSON)."""
    if isinstance(value, BaseModel):
        return to_jsonable(value.model_dump(mode="json"))
    if isinstance(value, (list, tuple)):
        return [to_jsonable(v) for v in value]
    if isinstance(value, dict):
        return {to_jsonable(k): to_jsonable(v) for k, v in value.items()}
    if isinstance(value, str):
        return redact_text(value)
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value


def _jsonable_str(value: Any) -> str:
    return redact_text(str(value))


JsonOption = typer.Option(False, "--json", help="Print JSON (fields are the snake_case model fields).")
