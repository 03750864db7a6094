"""Reading YAML nodes with file, line and field in every error.

The loader walks the nodes PyYAML composed (not the constructed values), so a
mistake anywhere names ``file:line: field.path: what is wrong``.
"""
from __future__ import annotations

import difflib
import re
from typing import Any, Iterable

import yaml
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

from ..errors import RuleError
from .regex import check_regex

__all__ = ["RuleFile", "node_kind", "closest"]


class RuleFile:
    """One rule file being read: typed accessors that raise RuleError with file, line and field."""

    def __init__(self, path: str) -> None:
        self.path = path
        self._constructor = yaml.constructor.SafeConstructor()

    def error(self, node: Node | None, fieldname: str | None, message: str) -> RuleError:
        line = node.start_mark.line + 1 if node is not None else None
        return RuleError(message, file=self.path, line=line, field=fieldname)

    def mapping(self, node: Node, fieldname: str, allowed: Iterable[str],
                required: Iterable[str] = ()) -> dict[str, tuple[Node, Node]]:
        if not isinstance(node, MappingNode):
            raise self.error(node, fieldname, f"must be a mapping (key: value lines), not {node_kind(node)}")
        out: dict[str, tuple[Node, Node]] = {}
        allowed = tuple(allowed)
        for key_node, value_node in node.value:
            if not isinstance(key_node, ScalarNode):
                raise self.error(key_node, fieldname, "keys must be plain words")
            key = str(key_node.value)
            sub = f"{fieldname}.{key}" if fieldname else key
            if key in out:
                raise self.error(key_node, sub, "duplicate key")
            if key not in allowed:
                hint = closest(key, allowed)
                raise self.error(key_node, sub, f"unknown key {key!r}" + (f" (did you mean {hint!r}?)" if hint else "")
                                 + f"; allowed: {', '.join(allowed)}")
            out[key] = (key_node, value_node)
        for key in required:
            if key not in out:
                raise self.error(node, f"{fieldname}.{key}" if fieldname else key, "required key is missing")
        return out

    def scalar(self, node: Node, fieldname: str) -> Any:
        if not isinstance(node, ScalarNode):
            raise self.error(node, fieldname, f"must be a single value, not {node_kind(node)}")
        return self._constructor.construct_object(node, deep=True)

    def string(self, node: Node, fieldname: str, allow_empty: bool = False) -> str:
        value = self.scalar(node, fieldname)
        if value is None and allow_empty:
            return ""
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            value = node.value  # e.g. a release "6.18" written without quotes
        if not isinstance(value, str):
            raise self.error(node, fieldname, f"must be text, not {type(value).__name__}")
        if not value.strip() and not allow_empty:
            raise self.error(node, fieldname, "must not be empty")
        return value.strip() if "\n" not in value.strip() else value.strip()

    def strings(self, node: Node, fieldname: str, single_ok: bool = True) -> list[str]:
        if isinstance(node, SequenceNode):
            return [self.string(item, f"{fieldname}[{i}]") for i, item in enumerate(node.value)]
        if single_ok:
            return [self.string(node, fieldname)]
        raise self.error(node, fieldname, "must be a list")

    def boolean(self, node: Node, fieldname: str) -> bool:
        value = self.scalar(node, fieldname)
        if not isinstance(value, bool):
            raise self.error(node, fieldname, "must be true or false")
        return value

    def integer(self, node: Node, fieldname: str, minimum: int | None = None) -> int:
        value = self.scalar(node, fieldname)
        if isinstance(value, bool) or not isinstance(value, int):
            raise self.error(node, fieldname, "must be a whole number")
        if minimum is not None and value < minimum:
            raise self.error(node, fieldname, f"must be at least {minimum}")
        return value

    def seconds(self, node: Node, fieldname: str) -> float:
        value = self.scalar(node, fieldname)
        if isinstance(value, str):
            m = re.fullmatch(r"\s*(\d+(?:\.\d+)?)\s*(ms|s)?\s*", value)
            if not m:
                raise self.error(node, fieldname, "must be a number of seconds, e.g. 5 or 1.5 s or 500 ms")
            value = float(m.group(1)) / (1000.0 if m.group(2) == "ms" else 1.0)
        if isinstance(value, bool) or not isinstance(value, (int, float)) or value <= 0:
            raise self.error(node, fieldname, "must be a positive number of seconds")
        return float(value)

    def sequence(self, node: Node, fieldname: str) -> list[Node]:
        if not isinstance(node, SequenceNode):
            raise self.error(node, fieldname, f"must be a list ('- ' items), not {node_kind(node)}")
        return list(node.value)

    def regex(self, node: Node, fieldname: str) -> re.Pattern[str]:
        pattern = self.scalar(node, fieldname)
        if not isinstance(pattern, str):
            raise self.error(node, fieldname, "a regex must be text (quote it)")
        try:
            return check_regex(pattern)
        except ValueError as exc:
            raise self.error(node, fieldname, f"regex {pattern!r} rejected: {exc}") from None


def node_kind(node: Node) -> str:
    if isinstance(node, MappingNode):
        return "a mapping"
    if isinstance(node, SequenceNode):
        return "a list"
    return f"the value {node.value!r}"


def closest(word: str, choices: Iterable[str]) -> str | None:
    """The nearest allowed word, for "did you mean" hints."""
    found = difflib.get_close_matches(word, list(choices), n=1, cutoff=0.6)
    return found[0] if found else None
