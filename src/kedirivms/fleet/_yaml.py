"""YAML loading that remembers where every key and value came from (line and column), for precise errors."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import yaml

from kedirivms.errors import ConfigError

Path = tuple[str | int, ...]


@dataclass(frozen=True)
class Mark:
    """A 1-based position in the source file."""

    line: int
    column: int

    def __str__(self) -> str:
        return f"line {self.line}, column {self.column}"


@dataclass
class Marks:
    """Positions of values (``values``) and of mapping keys (``keys``) by their path from the document root."""

    source: str
    values: dict[Path, Mark] = field(default_factory=dict)
    keys: dict[Path, Mark] = field(default_factory=dict)

    def find(self, path: Sequence[str | int], *, key: bool = False) -> Mark | None:
        """The position of the value at ``path`` (of its key with ``key``), or of its nearest known ancestor."""
        p = tuple(path)
        first, second = (self.keys, self.values) if key else (self.values, self.keys)
        while True:
            if p in first:
                return first[p]
            if p in second:
                return second[p]
            if not p:
                return None
            p = p[:-1]

    def at(self, path: Sequence[str | int], *, key: bool = False) -> str:
        """``"file:LINE:COL"`` for ``path`` (its nearest known ancestor), or the file name alone."""
        mark = self.find(path, key=key)
        return f"{self.source}:{mark.line}:{mark.column}" if mark else self.source


def _mark(node: yaml.Node) -> Mark:
    return Mark(node.start_mark.line + 1, node.start_mark.column + 1)


MAX_NODES = 200_000
"""Refuse documents that expand to more values than this (aliases of aliases: a "YAML bomb")."""


class _Builder:
    def __init__(self, source: str) -> None:
        self.loader = yaml.SafeLoader("")
        self.marks = Marks(source)
        self.count = 0

    def build(self, node: yaml.Node, path: Path) -> Any:
        self.count += 1
        if self.count > MAX_NODES:
            raise ConfigError(
                f"{self.marks.source}: more than {MAX_NODES} values after expanding aliases",
                hint="an inventory does not need nested aliases; check for an alias loop or a YAML bomb",
            )
        self.marks.values.setdefault(path, _mark(node))
        if isinstance(node, yaml.MappingNode):
            self.loader.flatten_mapping(node)  # resolves '<<' merge keys
            out: dict[Any, Any] = {}
            for key_node, value_node in node.value:
                key = self.build_scalar_key(key_node)
                if key in out:
                    raise ConfigError(
                        f"{self.marks.source}:{_mark(key_node).line}:{_mark(key_node).column}: duplicate key {key!r}",
                        hint="each key may appear once per mapping",
                    )
                self.marks.keys[(*path, key)] = _mark(key_node)
                out[key] = self.build(value_node, (*path, key))
            return out
        if isinstance(node, yaml.SequenceNode):
            return [self.build(item, (*path, i)) for i, item in enumerate(node.value)]
        return self.loader.construct_object(node, deep=True)

    def build_scalar_key(self, node: yaml.Node) -> Any:
        if not isinstance(node, yaml.ScalarNode):
            m = _mark(node)
            raise ConfigError(f"{self.marks.source}:{m.line}:{m.column}: mapping keys must be plain values")
        value = self.loader.construct_object(node, deep=True)
        return str(value) if not isinstance(value, str) else value


def load_yaml(text: str, source: str = "<inventory>") -> tuple[Any, Marks]:
    """Parse one YAML document (safe tags only) into plain data plus the positions of every key and value.

    Raises:
        ConfigError: a syntax error or duplicate key, with ``source:line:column``.
    """
    try:
        node = yaml.compose(text, Loader=yaml.SafeLoader)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        where = f"{source}:{mark.line + 1}:{mark.column + 1}" if mark else source
        raise ConfigError(f"{where}: YAML syntax error: {exc.problem or exc}", hint="fix the YAML syntax") from None
    except yaml.YAMLError as exc:
        raise ConfigError(f"{source}: YAML error: {exc}") from None
    builder = _Builder(source)
    if node is None:
        return {}, builder.marks
    try:
        return builder.build(node, ()), builder.marks
    except yaml.constructor.ConstructorError as exc:
        mark = exc.problem_mark
        where = f"{source}:{mark.line + 1}:{mark.column + 1}" if mark else source
        raise ConfigError(f"{where}: {exc.problem}", hint="only plain YAML types are allowed") from None
