# ruff: noqa: I001
"""The ``kedirivms`` command line: a thin shell over the public library.

Each command group lives in its own module and registers itself on :data:`app` when imported below.
One handler (:func:`main`) maps :class:`~kedirivms.errors.KedirivmsError` to one line on stderr and the exit code
of its class (documented in docs/cli.md).
"""

from __future__ import annotations

import sys

import typer

from kedirivms.cli._app import app, exit_code_for, print_error, quiet_foreign_loggers

# Command groups: each module registers its commands on ``app`` at import time (one line per group).
from kedirivms.cli import _device  # noqa: F401,I001  (info, profiles, snapshot)
from kedirivms.cli import _simulate  # noqa: F401,I001
from kedirivms.cli import _run  # noqa: F401,I001  (run CONFIG.yaml)
from kedirivms.cli import _doctor  # noqa: F401,I001  (doctor)
from kedirivms.cli import _discover  # noqa: F401,I001  (discover)
from kedirivms.cli import _record  # noqa: F401,I001  (record, recordings, export, retention)
from kedirivms.cli import _stream  # noqa: F401,I001  (stream)
from kedirivms.cli import _provision  # noqa: F401,I001  (plan, apply, inventory)
from kedirivms.cli import _ptz  # noqa: F401,I001  (ptz, imaging, events)
from kedirivms.cli import _cluster  # noqa: F401,I001  (worker, centre)

__all__ = ["app", "main"]


def main(argv: list[str] | None = None) -> None:
    """Run the CLI; :class:`KedirivmsError` becomes one stderr line and a non-zero exit code.

    Exit codes (docs/cli.md): 0 success, 1 other failures, 2 usage/invalid argument/configuration, 3 authentication,
    4 time-out, 5 connection failed, 6 not supported, 70 an internal error, 130 interrupted.
    """
    from kedirivms.errors import KedirivmsError

    quiet_foreign_loggers()
    try:
        app(args=argv, standalone_mode=False)
    except KedirivmsError as exc:
        print_error(str(exc))
        sys.exit(exit_code_for(exc))
    except typer.Exit as exc:
        sys.exit(exc.exit_code)
    except typer.Abort:
        print_error("aborted")
        sys.exit(130)
    except KeyboardInterrupt:
        sys.exit(130)
    except Exception as exc:
        # usage errors: typer's own exceptions (click's before typer vendored it) carry show() and exit_code;
        # duck-typed so the CLI imports nothing the package does not declare
        show, code = getattr(exc, "show", None), getattr(exc, "exit_code", None)
        if callable(show) and isinstance(code, int):
            show()
            sys.exit(code)
        print_error(f"unexpected error: {type(exc).__name__}: {exc}")
        sys.exit(70)
