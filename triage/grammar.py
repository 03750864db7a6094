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

from lark import Lark
from lark.grammar import NonTerminal, Terminal

from .paths import data_dir

_RULE_NAME = re.compile(r"^\??([a-z_][a-z0-9_]*)\s*:", re.M)
_NAMED_GROUP = re.compile(r"\(\?P<(\w+)>")
_ESCAPED_SPACE = re.compile(r"(?:\\ )+")


from .errors import GrammarError


@lru_cache(maxsize=None)
def load(name: str) -> Lark:
    """Lark object for ``grammars/<name>.lark`` with every rule usable as a start."""
    path = data_dir("grammars") / f"{name}.lark"
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise GrammarError(f"{path}: cannot read grammar: {exc.strerror}") from None
    in_file_order = list(dict.fromkeys(_RULE_NAME.findall(text)))
    try:
        lark = Lark(text, start=in_file_order, parser="earley", lexer="basic", keep_all_tokens=True)
    except Exception as exc:  # lark raises several error types
        raise GrammarError(f"{path}: {exc}".splitlines()[0]) from None
    lark._snp_rule_order = in_file_order
    return lark


def terminal_regex(lark: Lark, name: str) -> str:
    """The regular expression lark uses for one terminal."""
    return _terminal_patterns(lark)[name]


def _terminal_patterns(lark: Lark) -> dict[str, str]:
    cache = getattr(lark, "_snp_patterns", None)
    if cache is None:
        cache = {}
        for term in lark.terminals:
            regexp = term.pattern.to_regexp()
            if term.pattern.type == "str":
                regexp = _ESCAPED_SPACE.sub(" +", regexp)
            cache[term.name] = regexp
        lark._snp_patterns = cache
    return cache


def _expansions(lark: Lark, rule: str) -> list[list[Any]]:
    return [list(r.expansion) for r in lark.rules if r.origin.name == rule]


def _sequence_regex(lark: Lark, symbols: list[Any], group_prefix: str, seen: set[str]) -> str:
    """Regex for a sequence of terminals; named terminals become named groups."""
    parts = []
    for symbol in symbols:
        if isinstance(symbol, NonTerminal):
            alternatives = _expansions(lark, symbol.name)
            inner = "|".join(_sequence_regex(lark, alt, group_prefix, seen) for alt in alternatives)
            parts.append(f"(?:{inner})")
            continue
        assert isinstance(symbol, Terminal)
        if symbol.name.startswith("__IGNORE"):
            continue
        regexp = terminal_regex(lark, symbol.name)
        if symbol.filter_out or symbol.name.startswith("__") or not symbol.name.isupper() or _is_literal(lark, symbol.name):
            parts.append(f"(?:{regexp})")
            continue
        group = f"{group_prefix}{symbol.name.lower()}"
        if group in seen:  # a field used twice in one alternative: keep the first
            parts.append(f"(?:{regexp})")
        else:
            seen.add(group)
            parts.append(f"(?P<{group}>{regexp})")
    return r"\s*".join(parts)


def _is_literal(lark: Lark, name: str) -> bool:
    for term in lark.terminals:
        if term.name == name:
            return term.pattern.type == "str"
    return False


def rule_regex(lark: Lark, rule: str, group_prefix: str = "") -> str:
    """Alternation of a rule's expansions, one named group per field terminal.

    Field groups that only some alternatives contain are still unique: when a
    field appears in several alternatives, later ones get a numbered suffix
    that :class:`MessageTable` folds back.
    """
    expansions = _expansions(lark, rule)
    runs = _optional_runs(expansions)
    if runs is not None:  # "A B? (C D)?": one sequence with optional parts, not 2^n alternatives
        seen: set[str] = set()
        parts = []
        for symbols, optional in runs:
            regexp = _sequence_regex(lark, symbols, group_prefix, seen)
            parts.append(f"(?:{regexp})?" if optional else regexp)
        return r"\s*".join(parts)
    alternatives = []
    used: set[str] = set()
    for index, expansion in enumerate(expansions):
        seen: set[str] = set()
        regexp = _sequence_regex(lark, expansion, group_prefix, seen)
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


@dataclass(frozen=True)
class MessageTable:
    """All messages of one grammar file compiled into one anchored regex."""

    name: str
    prefix: re.Pattern[str]
    pattern: re.Pattern[str]
    ids: tuple[str, ...]
    groups: dict[str, tuple[tuple[int, str, Any], ...]]  # message id -> (group, field, converter)

    def match(self, text: str) -> tuple[str, dict[str, Any], str] | None:
        """(message id, fields, prefix text) for a known message, else None."""
        pre = self.prefix.match(text)
        if pre is None:
            return None
        m = self.pattern.match(text, pre.end())
        if m is None:
            return None
        message = m.lastgroup
        fields: dict[str, Any] = {}
        for number, name, to_value in self.groups[message]:  # only this message's groups: storms stay cheap
            value = m.group(number)
            if value is not None and name not in fields:
                fields[name] = to_value(name, value.strip())
        return message, fields, pre.group(0)


def _keep(name: str, value: str) -> str:
    return value


def _converter(regexp: str, name: str):
    """How to type a field, decided once from its terminal: text stays text."""
    if name.endswith("_x") or regexp.startswith(("0x", "-?\\d", "\\d")) or "0x[" in regexp:
        return convert
    return _keep


def convert(name: str, value: str) -> Any:
    """0x-hex and decimal text to int; names ending in _x are bare hex."""
    if name.endswith("_x"):
        try:
            return int(value, 16)
        except ValueError:
            return value
    if value.startswith(("0x", "0X")):
        try:
            return int(value, 16)
        except ValueError:
            return value
    if value.isdigit() or (value[:1] == "-" and value[1:].isdigit()):
        return int(value)
    return value


@lru_cache(maxsize=None)
def message_table(name: str) -> MessageTable:
    lark = load(name)
    # tried in file order: a grammar puts its storm-prone messages first
    known = {r.origin.name for r in lark.rules} - {"start", "prefix"}
    ids = tuple(name for name in lark._snp_rule_order if name in known)
    body = "|".join(f"(?P<{mid}>{rule_regex(lark, mid, mid + '__')})" for mid in ids)
    patterns = _terminal_patterns(lark)
    if "PREFIX" in patterns:
        prefix = patterns["PREFIX"]
    elif "OPTIONAL_PREFIX" in patterns:
        prefix = f"(?:{patterns['OPTIONAL_PREFIX']})?"
    else:
        prefix = ""
    try:
        pattern = re.compile(rf"(?:{body})\s*$")
        prefix_re = re.compile(prefix)
    except re.error as exc:
        raise GrammarError(f"grammars/{name}.lark: rule does not compile: {exc}") from None
    groups: dict[str, list[tuple[int, str, Any]]] = {mid: [] for mid in ids}
    for group, number in pattern.groupindex.items():
        if "__" in group:
            mid, field_name = group.split("__", 1)
            field_name = field_name.split("__", 1)[0]
            groups[mid].append((number, field_name, _converter(patterns.get(field_name.upper(), ""), field_name)))
    frozen = {mid: tuple(sorted(items)) for mid, items in groups.items()}
    return MessageTable(name, prefix_re, pattern, ids, frozen)


@dataclass(frozen=True)
class LineClasses:
    """The report grammar's line classes as one ordered alternation."""

    pattern: re.Pattern[str]
    order: tuple[str, ...]

    def classify(self, body: str) -> tuple[str, dict[str, str]] | None:
        """(line class, raw field texts); the transformer types the fields."""
        m = self.pattern.match(body)
        if m is None:
            return None
        name = m.lastgroup
        prefix = name + "__"
        return name, {
            group[len(prefix):]: value
            for group, value in m.groupdict().items()
            if value is not None and group.startswith(prefix)
        }


@lru_cache(maxsize=None)
def line_classes() -> LineClasses:
    lark = load("report")
    order = [alt[0].name for alt in _expansions(lark, "line")]
    parts = []
    for name in order:
        regexp = terminal_regex(lark, name)
        regexp = _NAMED_GROUP.sub(lambda m, n=name: f"(?P<{n}__{m.group(1)}>", regexp)
        parts.append(f"(?P<{name}>{regexp})")
    return LineClasses(re.compile("|".join(parts)), tuple(order))


@lru_cache(maxsize=None)
def envelope_regex() -> re.Pattern[str]:
    """The ``envelope`` rule as one anchored regex, every slot optional."""
    lark = load("envelope")
    longest = max(_expansions(lark, "envelope"), key=len)
    parts = []
    for symbol in longest:
        alternatives = _expansions(lark, symbol.name)
        inner = "|".join(
            "".join(f"(?P<{s.name}>{terminal_regex(lark, s.name)})" for s in alt) for alt in alternatives
        )
        if symbol.name == "body":
            parts.append("(?P<BODY>.*)")
        else:
            parts.append(f"(?:{inner})?")
    return re.compile("".join(parts))
