"""Small helpers shared by the subpackages: re-exported names shown as the package's own, and pydantic
validation errors as one line."""

from __future__ import annotations

import contextlib
import inspect
from collections.abc import Iterable
from typing import Any

from pydantic import ValidationError


def claim(namespace: dict[str, Any], names: Iterable[str]) -> None:
    """Give the classes and functions ``names`` of a package ``namespace`` (its ``globals()``) the package as
    ``__module__``, so reprs, docs and tracebacks show ``kedirivms.record.Recorder``, not a private module."""
    module = namespace["__name__"]
    for name in names:
        obj = namespace[name]
        if isinstance(obj, type) or inspect.isfunction(obj):
            with contextlib.suppress(AttributeError, TypeError):
                obj.__module__ = module


def one_line(exc: ValidationError) -> str:
    """``field.path: message; other: message`` for every error of ``exc``."""
    return "; ".join(f"{'.'.join(str(p) for p in err['loc']) or '(root)'}: {err['msg']}" for err in exc.errors())
