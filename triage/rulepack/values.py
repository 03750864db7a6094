"""Values in rules and events, compared the way the kernel prints them.

``0x86``, ``134`` and ``"0x86"`` are the same number; a bare ``ffff9f53408050000``
is a hex address.  :func:`as_number` is the one normalisation: rule tests,
the engine's field index and vmcore fact checks all use it.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from .regex import regex_search

__all__ = ["OPS", "FieldTest", "as_number", "same", "index_key"]


_NUM_RE = re.compile(r"^\s*(?:0x[0-9a-fA-F]+|-?\d+)\s*$")
#: bare hex as the kernel prints addresses ("ffff9f5340805000"): 8+ digits
_BARE_HEX_RE = re.compile(r"^\s*[0-9a-fA-F]{8,}\s*$")


def as_number(value: Any) -> int | float | None:
    """Numbers, and text holding one: "0x86", "-110", "ffff9f5340805000".

    Bare digit strings shorter than 16 characters are decimal; longer ones,
    and bare strings of 8+ hex digits with letters, are hex (kernel addresses).
    """
    if isinstance(value, bool):
        return None
    if isinstance(value, (int, float)):
        return value
    if isinstance(value, str):
        text = value.strip()
        if _NUM_RE.match(text):
            if text.lower().startswith("0x"):
                return int(text, 16)
            if len(text.lstrip("-")) < 16:
                return int(text)
        if _BARE_HEX_RE.match(text):
            return int(text, 16)
    return None


def same(actual: Any, expected: Any) -> bool:
    if actual == expected and type(actual) is not bool and type(expected) is not bool:
        return True
    if isinstance(expected, bool) or isinstance(actual, bool):
        return actual is expected or (isinstance(actual, bool) and actual == expected
                                      and isinstance(expected, bool))
    a, e = as_number(actual), as_number(expected)
    if a is not None and e is not None:
        return a == e
    if isinstance(actual, str) and isinstance(expected, str):
        return actual == expected
    return False


OPS = ("equals", "not_equals", "in", "not_in", "gte", "lte", "gt", "lt", "exists", "contains",
        "matches", "has_bits", "aligned_to", "end_aligned_to", "not")


@dataclass
class FieldTest:
    """Comparisons on one value; all must hold."""

    ops: list[tuple[str, Any]]

    def test(self, value: Any, present: bool = True) -> bool:
        for op, arg in self.ops:
            if not _apply(op, arg, value, present):
                return False
        return True

    def describe(self) -> str:
        return " and ".join(_describe_op(op, arg) for op, arg in self.ops)

    def plain(self) -> Any:
        return [[op, arg.plain() if isinstance(arg, FieldTest) else
                 (arg.pattern if isinstance(arg, re.Pattern) else arg)] for op, arg in self.ops]

    def equality_values(self) -> list[Any] | None:
        """Hashable values this test requires (for the field index), or None."""
        for op, arg in self.ops:
            if op == "equals" and _hashable(arg):
                return [arg]
            if op == "in" and all(_hashable(a) for a in arg):
                return list(arg)
        return None


def _hashable(value: Any) -> bool:
    return isinstance(value, (str, int, bool)) or value is None


def _apply(op: str, arg: Any, value: Any, present: bool) -> bool:
    if op == "exists":
        return (present and value is not None) == bool(arg)
    if op == "not":
        return not arg.test(value, present)
    if not present or value is None:
        return op in ("not_equals", "not_in")
    if op == "equals":
        return same(value, arg)
    if op == "not_equals":
        return not same(value, arg)
    if op == "in":
        return any(same(value, a) for a in arg)
    if op == "not_in":
        return not any(same(value, a) for a in arg)
    if op in ("gte", "lte", "gt", "lt"):
        v, a = as_number(value), as_number(arg)
        if v is None or a is None:
            if isinstance(value, str) and isinstance(arg, str):
                v, a = value, arg  # type: ignore[assignment]
            else:
                return False
        if op == "gte":
            return v >= a  # type: ignore[operator]
        if op == "lte":
            return v <= a  # type: ignore[operator]
        if op == "gt":
            return v > a  # type: ignore[operator]
        return v < a  # type: ignore[operator]
    if op == "contains":
        if isinstance(value, str):
            return str(arg) in value
        if isinstance(value, (list, tuple, set, frozenset)):
            return any(same(v, arg) or (isinstance(v, str) and v == str(arg)) for v in value)
        return False
    if op == "matches":
        if isinstance(value, (list, tuple)):
            return any(regex_search(arg, [str(v)]) for v in value)
        return regex_search(arg, [str(value)])
    if op in ("has_bits", "aligned_to", "end_aligned_to"):
        v = as_number(value)
        if not isinstance(v, int):
            return False
        if op == "has_bits":
            return v & arg == arg
        if op == "aligned_to":
            return v % arg == 0
        return (v + 1) % arg == 0
    raise AssertionError(op)


def _describe_op(op: str, arg: Any) -> str:
    if isinstance(arg, re.Pattern):
        return f"matches /{arg.pattern}/"
    if op == "not":
        return f"not ({arg.describe()})"
    if isinstance(arg, int) and not isinstance(arg, bool) and op in ("has_bits", "aligned_to", "end_aligned_to"):
        arg = hex(arg)
    words = {"equals": "=", "not_equals": "!=", "in": "in", "not_in": "not in", "gte": ">=",
             "lte": "<=", "gt": ">", "lt": "<", "contains": "contains", "matches": "matches",
             "has_bits": "has bits", "aligned_to": "aligned to", "end_aligned_to": "end aligned to"}
    if op == "exists":
        return "exists" if arg else "is absent"
    if isinstance(arg, bool):
        return f"{words[op]} {'true' if arg else 'false'}"
    return f"{words[op]} {arg!r}" if isinstance(arg, str) else f"{words[op]} {arg}"


def index_key(value: Any) -> Any:
    """The key under which the engine's field index files a value: equal keys <=> ``same``.

    Numbers (and text holding one, by :func:`as_number`) become ints; other
    values stay as they are.  The per-event test and the index agree because
    both go through as_number.
    """
    if isinstance(value, bool) or value is None:
        return value
    number = as_number(value)
    if number is not None:
        return int(number) if isinstance(number, float) and number.is_integer() else number
    return value
