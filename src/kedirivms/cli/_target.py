"""Shared CLI options: camera target, credentials (flag, env, secret file, prompt), time-outs, auth mode."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import typer

from kedirivms.errors import ConfigError
from kedirivms.onvif import Camera, Timeouts

PASSWORD_ENV = "KEDIRIVMS_PASSWORD"

TargetArg = typer.Argument(..., help="Camera: host, host:port or a device-service URL.")
UserOption = typer.Option(None, "-u", "--username", help="ONVIF user name.")
PasswordOption = typer.Option(
    None, "-p", "--password", help=f"Password (prefer ${PASSWORD_ENV}, --password-file or the prompt)."
)
PasswordFileOption = typer.Option(None, "--password-file", help="File whose first line is the password.")
TimeoutOption = typer.Option(10.0, "--timeout", help="Read time-out per request, seconds (connect: min(3, this)).")
AuthOption = typer.Option("auto", "--auth", help="auto, username_token, digest, basic or none.")


def resolve_password(username: str | None, password: str | None, password_file: Path | None) -> str | None:
    """Password from the flag, the secret file, ``$KEDIRIVMS_PASSWORD`` or an interactive prompt."""
    if password is not None:
        return password
    if password_file is not None:
        try:
            lines = password_file.read_text().splitlines()
        except OSError as exc:
            raise ConfigError(f"cannot read password file {password_file}: {exc.strerror}") from None
        return lines[0].strip() if lines else ""
    env = os.environ.get(PASSWORD_ENV)
    if env is not None:
        return env
    if username and sys.stdin.isatty():
        return str(typer.prompt(f"Password for {username}", hide_input=True))
    return None


def open_camera(
    target: str,
    username: str | None,
    password: str | None,
    password_file: Path | None,
    timeout: float,
    auth: str,
) -> Camera:
    """Build (not yet connect) a :class:`Camera` from CLI options."""
    secret = resolve_password(username, password, password_file)
    return Camera(
        target,
        username=username,
        password=secret,
        timeout=Timeouts(connect=min(3.0, timeout), read=timeout),
        auth=auth,  # type: ignore[arg-type]
    )
