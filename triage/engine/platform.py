"""Decide a rule's ``platform:`` block on the machine facts of a scope, and say which facts decided.

A boot's facts come from its own messages (``triage/ingest/platform.py``).  A fragment often lacks
them (a mail quotes the panic, not the CPU line), so a fact the boot does not show is taken from the
other boots of the same input, which are nearly always the same machine; the finding says so.  A
CPU's own line outranks a guess: the order is the boot's own CPU line, another boot's CPU line, the
boot's inferred fact (AMD-Vi lines -> AMD), another boot's inferred fact.
"""
from __future__ import annotations

from dataclasses import dataclass, field

from ..model import CONFIDENCES, PlatformFact
from ..rulepack import PlatformFilter
from ..rulepack.values import as_number
from .index import EventIndex, ScopeKey

__all__ = ["PlatformCheck", "check_platform", "raise_confidence"]


@dataclass
class PlatformCheck:
    """The outcome of one rule's platform block in one scope."""

    ok: bool
    why: str = ""  # why the rule does not apply (when not ok)
    decided: list[str] = field(default_factory=list)  # "cpu_vendor AMD (line 12: smpboot: ...)"
    raised_by: list[str] = field(default_factory=list)  # facts that raise the confidence
    unseen: list[str] = field(default_factory=list)  # facts the rule names that the capture does not show


def _facts(index: EventIndex, scope: ScopeKey) -> dict[str, tuple[PlatformFact, int]]:
    """fact -> (fact, boot index) for a scope: its boot's own facts, then the input's other boots'."""
    ci, bi = scope
    cache = index.platform_cache
    layers = cache.get((ci, None))
    if layers is None:  # once per input: the first boot that shows a fact wins, per strength
        inferred: dict[str, tuple[PlatformFact, int]] = {}
        stated: dict[str, tuple[PlatformFact, int]] = {}
        for boot in index.captures[ci].boots:
            for name, fact in boot.platform.items():
                (inferred if fact.inferred else stated).setdefault(name, (fact, boot.index))
        layers = cache[(ci, None)] = {"inferred": inferred, "stated": stated}
    if bi is None:
        return {**layers["inferred"], **layers["stated"]}
    info = index.boots.get(scope)
    own = info.boot.platform.items() if info else ()
    own_inferred = {name: (fact, bi) for name, fact in own if fact.inferred}
    own_stated = {name: (fact, bi) for name, fact in own if not fact.inferred}
    return {**layers["inferred"], **own_inferred, **layers["stated"], **own_stated}


def _is(fact: PlatformFact, values: tuple[str, ...]) -> bool:
    if isinstance(fact.value, int):
        return any(as_number(v) == fact.value for v in values)
    return str(fact.value) in values


def _at(fact: PlatformFact, boot: int, scope: ScopeKey) -> str:
    where = f"line {fact.line}" if scope[1] in (None, boot) else f"boot {boot}, line {fact.line}"
    return f"({where}: {fact.text})"


def _describe(name: str, fact: PlatformFact, boot: int, scope: ScopeKey) -> str:
    return f"{name} {fact.value} {_at(fact, boot, scope)}"


def check_platform(index: EventIndex, filt: PlatformFilter, scope: ScopeKey) -> PlatformCheck:
    """Whether a rule with this platform block may fire in ``scope``, and the facts that decided."""
    if filt.empty():
        return PlatformCheck(True)
    facts = _facts(index, scope)
    out = PlatformCheck(True)
    for name, values in filt.exclude.items():
        if name in facts and _is(facts[name][0], values):
            fact, boot = facts[name]
            return PlatformCheck(False, f"excluded on this platform: {_describe(name, fact, boot, scope)}")
    for name, values in filt.require.items():
        if name not in facts:
            continue
        fact, boot = facts[name]
        if not _is(fact, values):
            return PlatformCheck(False, f"needs {name} {'|'.join(values)}: {_describe(name, fact, boot, scope)}")
    seen: dict[tuple[int, int], list[str]] = {}  # (boot, line) -> "name value" shown there
    where: dict[tuple[int, int], PlatformFact] = {}
    for name in filt.names():
        if name in facts:
            fact, boot = facts[name]
            seen.setdefault((boot, fact.line), []).append(f"{name} {fact.value}")
            where[(boot, fact.line)] = fact
            if name in filt.raises and _is(fact, filt.raises[name]):
                out.raised_by.append(_describe(name, fact, boot, scope))
        elif name in filt.require or name in filt.raises:
            out.unseen.append(name)
    for (boot, line), names in seen.items():
        out.decided.append(f"{', '.join(names)} {_at(where[(boot, line)], boot, scope)}")
    return out


def raise_confidence(confidence: str, check: PlatformCheck | None) -> str:
    """One step surer when a ``raises`` fact was seen, but never ``confirmed`` from the platform alone.

    ``confirmed`` means the chain and its context are in the capture; a platform fact (SNP is on) makes
    a single symptom likely, it does not stand in for the missing lines.
    """
    if check is None or not check.raised_by or confidence != "possible":
        return confidence
    return CONFIDENCES[CONFIDENCES.index(confidence) - 1]
