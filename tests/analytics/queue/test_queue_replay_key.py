"""benchmarks/_queue_replay.py's recording key: the detector's code makes it, not its docs or comments."""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[3] / "benchmarks"))
from _queue_replay import _code  # noqa: E402

SOURCE = '''"""A module."""

LIMIT = 3
"""The limit."""


def f(x: int) -> int:
    """Twice x."""
    return 2 * x  # doubled
'''


def _key(tmp_path: Path, text: str) -> bytes:
    p = tmp_path / "mod.py"
    p.write_text(text, encoding="utf-8")
    return _code(p)


def test_the_key_follows_code_not_docs(tmp_path: Path) -> None:
    base = _key(tmp_path, SOURCE)
    docs = SOURCE.replace("Twice x.", "Two times x,\n    written out.").replace("# doubled", "# x + x")
    assert _key(tmp_path, docs.replace('"""The limit."""\n', "")) == base
    assert _key(tmp_path, "\n\n" + SOURCE) == base  # moved down: no line numbers in it
    assert _key(tmp_path, SOURCE.replace("2 * x", "3 * x")) != base
    assert _key(tmp_path, SOURCE.replace("LIMIT = 3", "LIMIT = 4")) != base
    assert _key(tmp_path, SOURCE.replace("return 2 * x", 'print("Twice x.")\n    return 2 * x')) != base
