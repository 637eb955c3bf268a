"""Helpers for the CLI tests (importable because pyproject adds tests/ to pytest's pythonpath)."""

from __future__ import annotations

import pytest

from kedirivms.cli import main


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    """Run ``kedirivms *argv`` in-process; return (exit code, stdout, stderr)."""
    with pytest.raises(SystemExit) as info:
        main(list(argv))
        raise SystemExit(0)
    out, err = capsys.readouterr()
    return int(info.value.code or 0), out, err
