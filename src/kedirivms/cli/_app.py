"""The shared typer app and output helpers for every command group."""

from __future__ import annotations

import json
import sys
from typing import Any

import typer
from pydantic import BaseModel
from rich.console import Console

from kedirivms._redact import redact_text
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


def print_error(message: str) -> None:
    """Print one redacted error line on stderr."""
    err_console.print(f"[bold red]error:[/] {redact_text(message)}", highlight=False, soft_wrap=True)


def exit_code_for(exc: KedirivmsError) -> int:
    """Map an error class to a stable exit code."""
    table: list[tuple[type[KedirivmsError], int]] = [
        (AuthenticationFailed, 3),
        (Timeout, 4),
        (ConnectionFailed, 5),
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
    sys.stdout.write(json.dumps(to_jsonable(value), indent=2, default=str) + "\n")


def emit_json_line(value: Any) -> None:
    """Write ``value`` as one compact JSON line and flush (streaming outputs)."""
    sys.stdout.write(json.dumps(to_jsonable(value), default=str) + "\n")
    sys.stdout.flush()


def to_jsonable(value: Any) -> Any:
    if isinstance(value, BaseModel):
        return value.model_dump(mode="json")
    if isinstance(value, (list, tuple)):
        return [to_jsonable(v) for v in value]
    if isinstance(value, dict):
        return {k: to_jsonable(v) for k, v in value.items()}
    return value


JsonOption = typer.Option(False, "--json", help="Print JSON (fields are the snake_case model fields).")
