"""Shared CLI options: camera target, credentials (flag, env, secret file, prompt), time-outs, auth mode."""

from __future__ import annotations

import os
import sys
from pathlib import Path
from urllib.parse import quote, urlsplit, urlunsplit

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


def is_direct_source(target: str) -> bool:
    """rtsp://, file paths and media URLs are decoded directly; hosts and device-service URLs are cameras."""
    if Path(target).is_file() or target.startswith("file:"):
        return True
    scheme, sep, rest = target.partition("://")
    if not sep:
        return False
    if scheme.lower() in ("http", "https"):
        path = rest.partition("/")[2]
        return bool(path) and "onvif" not in path.lower()
    return True


def stream_source(
    target: str,
    profile: str | None,
    username: str | None,
    password: str | None,
    password_file: Path | None,
    timeout: float,
    auth: str,
    transport: str = "tcp",
) -> tuple[str, str | None]:
    """The decoder source of TARGET (credentials embedded) and the camera's name (``None`` for a URL or file).

    A camera is asked for the stream URI of ``profile`` (default: its first); a URL without credentials gets
    ``-u``/``-p`` embedded; a file is used as is.
    """
    if not is_direct_source(target):
        with open_camera(target, username, password, password_file, timeout, auth) as cam:
            return cam.stream_uri(profile, transport).with_credentials(), cam.name  # type: ignore[arg-type]
    if target.startswith("file:") and "://" not in target:
        return target[len("file:") :], None
    parts = urlsplit(target)
    if not username or not parts.netloc or parts.username:
        return target, None
    secret = resolve_password(username, password, password_file)
    userinfo = quote(username, safe="") + (f":{quote(secret, safe='')}" if secret else "")
    return urlunsplit((parts.scheme, f"{userinfo}@{parts.netloc}", parts.path, parts.query, parts.fragment)), None
