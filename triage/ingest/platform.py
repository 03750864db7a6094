"""Per-boot platform facts: what a boot's own messages say about the machine it ran on.

A rule about SEV-SNP or the AMD IOMMU must never fire on an Intel, ARM or client-AMD machine,
and SNP evidence makes an SNP diagnosis surer.  Which message shows which fact is data
(``grammars/platform.yaml``); this module applies it to each event as ingestion goes, so the
facts cost nothing per plain line and stay bounded (one small dict per boot).
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from functools import lru_cache
from typing import Any

import yaml

from ..errors import GrammarError
from ..model import PLATFORM_FACTS, Boot, Event, PlatformFact
from ..paths import data_dir

__all__ = ["PlatformTable", "load_platform_table", "platform_table", "observe"]

#: facts the CPU's own name outranks when another message set them first
_CPU_NAME_WINS = ("cpu_vendor", "board")
#: CPU facts that only the CPU's own lines state; from any other message they are inferred
_CPU_FACTS = ("cpu_vendor", "board", "arch")
_CPU_LINES = ("cpu_identity", "arm_boot_cpu")
_TEXT_CUT = 120


@dataclass(frozen=True)
class _Entry:
    facts: tuple[tuple[str, str], ...]  # (fact, value or "=field")
    when: tuple[tuple[str, str], ...]  # (field, text it must contain)


@dataclass(frozen=True)
class PlatformTable:
    """grammars/platform.yaml, checked."""

    messages: dict[str, tuple[_Entry, ...]]  # "<kind>.<message>" or "<kind>"
    cpu_names: tuple[tuple[re.Pattern[str], tuple[tuple[str, str], ...]], ...]


def _error(path: Path, where: str, message: str) -> GrammarError:
    return GrammarError(f"{path}: {where}: {message}")


def _facts(path: Path, where: str, body: Any, allow_fields: bool) -> tuple[tuple[str, str], ...]:
    if not isinstance(body, dict):
        raise _error(path, where, "must be a mapping of fact: value")
    out = []
    for name, value in body.items():
        if name not in PLATFORM_FACTS:
            raise _error(path, f"{where}.{name}", f"unknown fact; known: {', '.join(PLATFORM_FACTS)}")
        text = str(value)
        allowed = PLATFORM_FACTS[name]
        if text.startswith("="):
            if not allow_fields:
                raise _error(path, f"{where}.{name}", "a field reference (=field) is only allowed under messages:")
        elif allowed is not None and text not in allowed:
            raise _error(path, f"{where}.{name}", f"{text!r} is not one of {', '.join(allowed)}")
        out.append((str(name), text))
    return tuple(out)


@lru_cache(maxsize=None)
def platform_table() -> PlatformTable:
    """The shipped ``grammars/platform.yaml``, loaded and checked once."""
    return load_platform_table(data_dir("grammars") / "platform.yaml")


def load_platform_table(path: Path) -> PlatformTable:
    """Load and check a platform table; a mistake raises GrammarError naming the file and the entry."""
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    except (OSError, UnicodeDecodeError, yaml.YAMLError) as exc:
        raise GrammarError(f"{path}: cannot read the platform table: {str(exc).splitlines()[0]}") from None
    if not isinstance(data, dict) or set(data) - {"messages", "cpu_names"}:
        raise GrammarError(f"{path}: a mapping with messages: and cpu_names:")
    messages = {}
    for key, body in (data.get("messages") or {}).items():
        entries = []
        for i, item in enumerate(body if isinstance(body, list) else [body]):
            where = f"messages.{key}" + (f"[{i}]" if isinstance(body, list) else "")
            if not isinstance(item, dict):
                raise _error(path, where, "must be a mapping (or a list of mappings)")
            item = dict(item)
            when = item.pop("when", {}) or {}
            if not isinstance(when, dict):
                raise _error(path, f"{where}.when", "must be a mapping of field: text")
            entries.append(_Entry(_facts(path, where, item, True), tuple((str(k), str(v).lower()) for k, v in when.items())))
        messages[str(key)] = tuple(entries)
    names = []
    for i, item in enumerate(data.get("cpu_names") or []):
        where = f"cpu_names[{i}]"
        if not isinstance(item, dict) or set(item) != {"matches", "set"}:
            raise _error(path, where, "needs matches: (a regex) and set: (facts)")
        try:
            rx = re.compile(str(item["matches"]))
        except re.error as exc:
            raise _error(path, f"{where}.matches", f"bad regex: {exc}") from None
        names.append((rx, _facts(path, f"{where}.set", item["set"], False)))
    return PlatformTable(messages, tuple(names))


def _value(spec: str, event: Event) -> str | int | None:
    if not spec.startswith("="):
        return spec
    value = event.fields.get(spec[1:])
    if value is None or value == "":
        return None
    return value.strip() if isinstance(value, str) else value


def _field(event: Event, name: str) -> str:
    value = event.body if name == "body" else event.get(name)
    return str(value if value is not None else "").lower()


def _set(boot: Boot, name: str, value: str | int, event: Event, override: bool = False) -> None:
    if name in boot.platform and not override:
        return
    text = (event.body or (event.text[0] if event.text else "")).strip()
    inferred = name in _CPU_FACTS and event.message not in _CPU_LINES
    boot.platform[name] = PlatformFact(value, event.line, text[:_TEXT_CUT], inferred)


def observe(boot: Boot, event: Event) -> None:
    """Record what ``event`` shows about ``boot``'s platform (first evidence wins; the CPU name outranks)."""
    table = platform_table()
    for key in (f"{event.kind}.{event.message}", event.kind):
        for entry in table.messages.get(key, ()):
            if all(text in _field(event, field) for field, text in entry.when):
                for name, spec in entry.facts:
                    value = _value(spec, event)
                    if value is not None:
                        _set(boot, name, value, event)
    if event.message == "cpu_identity":
        name = str(event.fields.get("cpu_name") or "")
        for rx, facts in table.cpu_names:
            if rx.search(name):
                for fact, value in facts:
                    _set(boot, fact, value, event, override=fact in _CPU_NAME_WINS
                         and boot.platform.get(fact, PlatformFact("", 0, "")).line != event.line)
