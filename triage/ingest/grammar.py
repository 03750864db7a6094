"""Load the lark grammars and compile their flat rules into fast regexes.

The grammars in ``grammars/`` are the one description of the formats. Lark
parses multi-line report structures directly; for the per-line work (millions
of lines) the rules here are turned into anchored regular expressions built
from lark's own terminal patterns, so nothing is described twice.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from pathlib import Path

from lark import Lark
from lark.grammar import NonTerminal, Terminal

from ..errors import GrammarError
from ..paths import data_dir

_RULE_NAME = re.compile(r"^\??([a-z_][a-z0-9_]*)\s*:", re.M)
_ESCAPED_SPACE = re.compile(r"(?:\\ )+")


@dataclass(frozen=True)
class Grammar:
    """One grammar file: lark's parse of it plus what the compilers need."""

    name: str
    lark: Lark
    rule_order: tuple[str, ...]  # rule names in file order (a message table tries them so)
    patterns: dict[str, str]  # terminal name -> the regex lark uses for it
    literals: frozenset[str]  # terminals written as "strings"


def grammar_text(name: str) -> tuple[Path, str]:
    """Path and text of ``grammars/<name>.lark`` (GrammarError naming the file if unreadable)."""
    path = data_dir("grammars") / f"{name}.lark"
    try:
        return path, path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise GrammarError(f"{path}: cannot read grammar: {getattr(exc, 'strerror', None) or exc}") from None


@lru_cache(maxsize=None)
def load(name: str) -> Grammar:
    """``grammars/<name>.lark`` with every rule usable as a start (Earley, for tests and tools)."""
    path, text = grammar_text(name)
    in_file_order = tuple(dict.fromkeys(_RULE_NAME.findall(text)))
    try:
        lark = Lark(text, start=list(in_file_order), parser="earley", lexer="basic", keep_all_tokens=True)
    except Exception as exc:  # lark raises several error types
        raise GrammarError(f"{path}: {exc}".splitlines()[0]) from None
    return of_lark(name, lark, in_file_order)


def of_lark(name: str, lark: Lark, rule_order: tuple[str, ...] = ()) -> Grammar:
    """Wrap a Lark object built elsewhere (the report grammar's LALR parser)."""
    patterns = {}
    literals = set()
    for term in lark.terminals:
        regexp = term.pattern.to_regexp()
        if term.pattern.type == "str":
            regexp = _ESCAPED_SPACE.sub(" +", regexp)
            literals.add(term.name)
        patterns[term.name] = regexp
    return Grammar(name, lark, rule_order, patterns, frozenset(literals))


def terminal_regex(grammar: Grammar, name: str) -> str:
    """The regular expression lark uses for one terminal."""
    return grammar.patterns[name]


def expansions(grammar: Grammar, rule: str) -> list[list[Any]]:
    """Lark's expansions of one rule (``?`` parts and ``|`` multiplied out)."""
    return [list(r.expansion) for r in grammar.lark.rules if r.origin.name == rule]


def _sequence_regex(grammar: Grammar, symbols: list[Any], group_prefix: str, seen: set[str]) -> str:
    """Regex for a sequence of terminals; named terminals become named groups."""
    parts = []
    for symbol in symbols:
        if isinstance(symbol, NonTerminal):
            alternatives = expansions(grammar, symbol.name)
            inner = "|".join(_sequence_regex(grammar, alt, group_prefix, seen) for alt in alternatives)
            parts.append(f"(?:{inner})")
            continue
        assert isinstance(symbol, Terminal)
        if symbol.name.startswith("__IGNORE"):
            continue
        regexp = terminal_regex(grammar, symbol.name)
        if symbol.filter_out or symbol.name.startswith("__") or not symbol.name.isupper() or symbol.name in grammar.literals:
            parts.append(f"(?:{regexp})")
            continue
        group = f"{group_prefix}{symbol.name.lower()}"
        if group in seen:  # a field used twice in one alternative: keep the first
            parts.append(f"(?:{regexp})")
        else:
            seen.add(group)
            parts.append(f"(?P<{group}>{regexp})")
    return r"\s*".join(parts)


def rule_regex(grammar: Grammar, rule: str, group_prefix: str = "") -> str:
    """Alternation of a rule's expansions, one named group per field terminal.

    Field groups that only some alternatives contain are still unique: when a
    field appears in several alternatives, later ones get a numbered suffix
    that :class:`MessageTable` folds back.
    """
    alternatives_of_rule = expansions(grammar, rule)
    runs = _optional_runs(alternatives_of_rule)
    if runs is not None:  # "A B? (C D)?": one sequence with optional parts, not 2^n alternatives
        seen: set[str] = set()
        parts = []
        for symbols, optional in runs:
            regexp = _sequence_regex(grammar, symbols, group_prefix, seen)
            parts.append(f"(?:{regexp})?" if optional else regexp)
        return r"\s*".join(parts)
    alternatives = []
    used: set[str] = set()
    for index, expansion in enumerate(alternatives_of_rule):
        seen: set[str] = set()
        regexp = _sequence_regex(grammar, expansion, group_prefix, seen)
        # make group names unique across alternatives
        for group in seen:
            if group in used:
                regexp = regexp.replace(f"(?P<{group}>", f"(?P<{group}__{index}>")
        used |= seen
        alternatives.append(regexp)
    # longest alternatives first, so optional parts are taken when present
    alternatives.sort(key=len, reverse=True)
    return "|".join(f"(?:{alt})" for alt in alternatives)


def _optional_runs(expansions: list[list[Any]]) -> list[tuple[list[Any], bool]] | None:
    """The expansions lark made of ``?`` parts, folded back into optional runs.

    Only when exact: every expansion is a subsequence of the longest and there
    are exactly 2**k of them for k optional runs; otherwise None.
    """
    if len(expansions) < 2:
        return None
    longest = max(expansions, key=len)
    presence: list[set[int]] = [set() for _ in longest]
    for number, alternative in enumerate(expansions):
        j = 0
        for k, symbol in enumerate(longest):
            if j < len(alternative) and alternative[j] == symbol:
                presence[k].add(number)
                j += 1
        if j != len(alternative):
            return None
    everyone = set(range(len(expansions)))
    runs: list[tuple[list[Any], bool, frozenset[int]]] = []
    for symbol, present in zip(longest, presence):
        key = frozenset(present)
        if runs and runs[-1][2] == key:
            runs[-1][0].append(symbol)
        else:
            runs.append(([symbol], present != everyone, key))
    optional = [r for r in runs if r[1]]
    if len(expansions) != 2 ** len(optional):
        return None
    return [(symbols, is_optional) for symbols, is_optional, _ in runs]


@lru_cache(maxsize=None)
def envelope_regex() -> re.Pattern[str]:
    """The ``envelope`` rule as one anchored regex, every slot optional."""
    grammar = load("envelope")
    longest = max(expansions(grammar, "envelope"), key=len)
    parts = []
    for symbol in longest:
        alternatives = expansions(grammar, symbol.name)
        inner = "|".join(
            "".join(f"(?P<{s.name}>{terminal_regex(grammar, s.name)})" for s in alt) for alt in alternatives
        )
        if symbol.name == "body":
            parts.append("(?P<BODY>.*)")
        else:
            parts.append(f"(?:{inner})?")
    return re.compile("".join(parts))
