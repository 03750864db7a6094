"""Known one-line messages: the grammars' message tables and the declared field table.

A message grammar (``amd_vi.lark``, ``sev.lark``, ``kernel.lark``) names each
message by a rule; its upper-case terminals are the fields.  The few fields
whose event name or value the grammar cannot express (a renamed field, a flag,
a command number's name) are declared in ``grammars/fields.yaml`` and applied
here, so no message is special-cased in code.  :func:`vocabulary` reports the
message ids and fields the parser can emit, read from the same data.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

import yaml

from ..errors import GrammarError
from ..model import REPORT_KINDS, Vocabulary
from ..paths import data_dir
from .grammar import Grammar, expansions, load, rule_regex

__all__ = ["MESSAGE_GRAMMARS", "MessageTable", "FieldSpec", "message_table", "message_ids", "field_specs",
           "derive_fields", "convert", "decode_iommu_event", "IOMMU_EVENT_FIELDS", "vocabulary"]

#: grammar file -> the event kind of its messages
MESSAGE_GRAMMARS = {"amd_vi": "amd_vi", "platform": "platform", "sev": "sev", "kernel": "kernel_message",
                    "kdump": "kdump_tool"}

#: rules of a message grammar that are not messages
_NOT_MESSAGES = frozenset({"start", "prefix"})


def message_ids(grammar: Grammar) -> tuple[str, ...]:
    """Message ids of a grammar in file order (a table tries them so: storm-prone ones first)."""
    known = {r.origin.name for r in grammar.lark.rules} - _NOT_MESSAGES
    return tuple(name for name in grammar.rule_order if name in known)


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


#: longest digit string taken as a number (the grammars bound fields to 20 digits; this is the
#: last guard before int(), which refuses decimal text over 4,300 digits)
MAX_NUMBER_DIGITS = 40


def convert(name: str, value: str) -> Any:
    """0x-hex and decimal text to int; names ending in _x are bare hex; anything longer than
    MAX_NUMBER_DIGITS digits stays text."""
    if len(value) > MAX_NUMBER_DIGITS + 2:
        return value
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
    """All messages of ``grammars/<name>.lark`` as one anchored regex with typed field groups."""
    grammar = load(name)
    ids = message_ids(grammar)
    body = "|".join(f"(?P<{mid}>{rule_regex(grammar, mid, mid + '__')})" for mid in ids)
    patterns = grammar.patterns
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




# --------------------------------------------------------------------------
# the declared field table (grammars/fields.yaml)


@dataclass(frozen=True)
class FieldSpec:
    """What grammars/fields.yaml says of one message."""

    kind: str | None = None
    rename: tuple[tuple[str, str], ...] = ()
    only: tuple[str, ...] | None = None
    equals: tuple[tuple[str, str, Any], ...] = ()  # (new field, captured field, value)
    contains: tuple[tuple[str, str, str], ...] = ()  # (new field, captured field, text)
    lookup: tuple[tuple[str, str, dict[Any, str]], ...] = ()  # (new field, captured field, table)

    def apply(self, fields: dict[str, Any]) -> dict[str, Any]:
        for old, new in self.rename:
            if old in fields:
                fields[new] = fields.pop(old)
            else:
                fields.setdefault(new, None)
        if self.only is not None:
            fields = {name: fields.get(name, "") for name in self.only}
        for new, source, value in self.equals:
            fields[new] = fields.pop(source, "") == value
        for new, source, text in self.contains:
            fields[new] = text in (fields.get(source) or "")
        for new, source, table in self.lookup:
            fields[new] = table.get(fields.get(source), "unknown")
        return fields

    def produces(self, captured: set[str]) -> set[str]:
        """Event field names, given the names the grammar captures."""
        out = set(captured)
        for old, new in self.rename:
            out.discard(old)
            out.add(new)
        if self.only is not None:
            out = set(self.only)
        for new, source, _ in self.equals:
            out.discard(source)
            out.add(new)
        out |= {new for new, _, _ in self.contains} | {new for new, _, _ in self.lookup}
        return out


_SPEC_KEYS = ("kind", "rename", "only", "equals", "contains", "lookup")


def _spec_error(key: str, message: str) -> GrammarError:
    return GrammarError(f"{data_dir('grammars') / 'fields.yaml'}: {key}: {message}")


@lru_cache(maxsize=None)
def field_specs() -> dict[tuple[str, str], FieldSpec]:
    """grammars/fields.yaml, checked: (grammar, message id) -> FieldSpec."""
    path = data_dir("grammars") / "fields.yaml"
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    except (OSError, UnicodeDecodeError, yaml.YAMLError) as exc:
        raise GrammarError(f"{path}: cannot read the field table: {str(exc).splitlines()[0]}") from None
    if not isinstance(data, dict):
        raise GrammarError(f"{path}: must be a mapping")
    tables = data.pop("tables", {}) or {}
    specs: dict[tuple[str, str], FieldSpec] = {}
    for key, body in data.items():
        grammar, _, message = str(key).partition(".")
        if grammar not in MESSAGE_GRAMMARS or not message:
            raise _spec_error(str(key), f"keys are <grammar>.<message id>, grammar one of {', '.join(MESSAGE_GRAMMARS)}")
        if not isinstance(body, dict) or set(body) - set(_SPEC_KEYS):
            raise _spec_error(str(key), f"a mapping of {', '.join(_SPEC_KEYS)}")
        if message not in message_ids(load(grammar)):
            raise _spec_error(str(key), f"no message {message!r} in grammars/{grammar}.lark")

        def pairs(name: str) -> list[tuple[str, Any]]:
            value = body.get(name) or {}
            if not isinstance(value, dict):
                raise _spec_error(f"{key}.{name}", "must be a mapping")
            return list(value.items())

        lookups = []
        for new, ref in pairs("lookup"):
            if not (isinstance(ref, list) and len(ref) == 2 and ref[1] in tables):
                raise _spec_error(f"{key}.lookup.{new}", "must be [captured_field, table name from tables:]")
            lookups.append((new, ref[0], dict(tables[ref[1]])))
        for name in ("equals", "contains"):
            for new, ref in pairs(name):
                if not (isinstance(ref, list) and len(ref) == 2):
                    raise _spec_error(f"{key}.{name}.{new}", "must be [captured_field, value]")
        specs[(grammar, message)] = FieldSpec(
            kind=body.get("kind"),
            rename=tuple((str(a), str(b)) for a, b in pairs("rename")),
            only=tuple(body["only"]) if body.get("only") is not None else None,
            equals=tuple((n, r[0], r[1]) for n, r in pairs("equals")),
            contains=tuple((n, r[0], str(r[1])) for n, r in pairs("contains")),
            lookup=tuple(lookups))
    return specs


def derive_fields(grammar: str, message: str, fields: dict[str, Any]) -> tuple[str | None, dict[str, Any]]:
    """(declared event kind or None, fields after the declared renames and derivations)."""
    spec = field_specs().get((grammar, message))
    if spec is None:
        return None, fields
    return spec.kind, spec.apply(fields)


# --------------------------------------------------------------------------
# IOMMU event records: "Event logged [IO_PAGE_FAULT device=... domain=... address=... flags=...]"
# (drivers/iommu/amd/iommu.c, amd_iommu_print_event() and its helpers)

#: numeric fields of an event record; the key=value list decides which are printed
_EVENT_INT_FIELDS = ("domain", "address", "flags", "pasid", "gpa", "spa", "vmg_tag", "flags_rmp", "tag")
_EVENT_INT_SET = frozenset(_EVENT_INT_FIELDS)
_EVENT_KV = re.compile(r"([\w\[\]]+)=([^\s,\]]+)")
#: every field an iommu_event carries (UNKNOWN events add event0, event1, ...)
IOMMU_EVENT_FIELDS = ("event_type", "device", "iommu") + _EVENT_INT_FIELDS


def decode_iommu_event(fields: dict[str, Any], device: str | None) -> dict[str, Any]:
    """Decode ``Event logged [TYPE key=value ...]`` in all its spellings."""
    # the fields every event type has are always present; the rest only when printed
    out: dict[str, Any] = {"event_type": fields.get("event_type"), "device": device, "domain": None,
                           "address": None, "flags": None}
    for key, value in _EVENT_KV.findall(str(fields.get("event_fields") or "")):
        if key in _EVENT_INT_SET:
            try:
                out[key] = int(value, 0)  # 0x... or decimal
            except ValueError:
                out[key] = convert(key, value)
        elif key.startswith("event"):  # UNKNOWN: event[0]=0x... -> event0
            out[key.replace("[", "").replace("]", "")] = convert(key, value)
        else:
            out[key] = value
    return out


# --------------------------------------------------------------------------
# what the parser can emit


#: fields the assembler adds from a message's prefix, per kind
_PREFIX_FIELDS = {"amd_vi": {"device_prefix"}, "sev": {"device"}}


def _captured_fields(grammar: Grammar, message: str) -> set[str]:
    """Field names a message rule captures: its upper-case, non-literal terminals, lower-cased."""
    out: set[str] = set()
    todo, seen = [message], set()
    while todo:
        rule = todo.pop()
        if rule in seen:
            continue
        seen.add(rule)
        for expansion in expansions(grammar, rule):
            for symbol in expansion:
                name = symbol.name
                if name.islower():
                    todo.append(name)
                elif not name.startswith("_") and name.isupper() and name not in grammar.literals:
                    out.add(name.lower())
    return out


@lru_cache(maxsize=None)
def vocabulary() -> Vocabulary:
    """Message ids and field names per event kind, read from the grammars and fields.yaml."""
    from .reports import report_fields  # the report grammar's own field names

    messages: dict[str, set[str | None]] = {}
    fields: dict[str, set[str]] = {}
    specs = field_specs()
    for gname, default_kind in MESSAGE_GRAMMARS.items():
        grammar = load(gname)
        for mid in message_ids(grammar):
            spec = specs.get((gname, mid))
            kind = (spec.kind if spec and spec.kind else default_kind)
            captured = _captured_fields(grammar, mid)
            names = spec.produces(captured) if spec else captured
            if kind == "iommu_event":  # decoded from the record's key=value list
                names = set(IOMMU_EVENT_FIELDS)
            messages.setdefault(kind, {None}).add(mid)
            fields.setdefault(kind, set()).update(names | _PREFIX_FIELDS.get(kind, set()))
    for kind in REPORT_KINDS:
        messages[kind] = {None}
        fields[kind] = set(report_fields())
    return Vocabulary({k: frozenset(v) for k, v in messages.items()}, {k: frozenset(v) for k, v in fields.items()})
