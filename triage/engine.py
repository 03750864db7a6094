"""Match diagnosis rules against parsed captures.

``match(captures, rules, vmcore=None)`` returns :class:`Finding` objects;
``explain(captures, rule, vmcore=None)`` says how far one rule got and which
step stopped it (``--why-not``).

Cost model: the events are indexed once per call by ``(kind, message)`` and by
boot.  A rule step only ever looks at the events listed under its own
``(kind, message)`` keys, and a boot-scoped alternative is only tried in boots
that hold events for its first step, so rules about messages absent from a
capture cost a few dictionary look-ups.  Equality tests on a field
(``event_type: IO_PAGE_FAULT``) over long candidate lists use a per-field
index built once and shared by all rules; filtered candidate lists are cached
per (condition, scope), so rules repeating a condition share the work.
"""
from __future__ import annotations

import bisect
import heapq
import re
from collections import deque
from dataclasses import dataclass, field
from typing import Any, Iterable, Mapping, Sequence

from .model import Boot, Capture, Event
from .releases import Verdict, fix_verdict
from .rules import (SEVERITY_RANK, BootFilter, Condition, FactCheck, FixtureResult, Pattern, Rule,
                    Step, lint, load_rules, run_fixtures)

__all__ = ["Finding", "Evidence", "EvidenceGroup", "VmcoreResult", "Explanation", "Attempt", "StepTrace",
           "EventIndex", "match", "explain", "evaluate_vmcore", "KDUMP_EVIDENCE",
           "load_rules", "run_fixtures", "lint", "FixtureResult"]

#: amd_vi messages only a kdump (crash) kernel prints: the IOMMU was found
#: enabled and ``is_kdump_kernel()`` was true.  A boot holding one of them is
#: treated as a kdump boot even without a banner or command line.
KDUMP_EVIDENCE = frozenset({
    "translation_pre_enabled_copy", "translation_pre_enabled_reuse", "dev_table_copied",
    "dev_table_copy_failed", "dev_table_reused", "dev_table_reuse_failed", "dev_table_remap_failed",
    "reuse_cwb", "reuse_cmd_buf", "reuse_evt_buf",
})

_FIELD_INDEX_MIN = 64  # build a field index for candidate lists longer than this
_EVIDENCE_KEEP = 3  # events kept at each end of a collapsed repeat


# --------------------------------------------------------------------------
# results


@dataclass
class EvidenceGroup:
    """Identical messages within one step's evidence."""

    text: str
    count: int
    first_line: int
    last_line: int
    first_timestamp: float | None
    last_timestamp: float | None

    @property
    def summary(self) -> str:
        if self.count == 1:
            return f"{self.text} (line {self.first_line})"
        span = ""
        if self.first_timestamp is not None and self.last_timestamp is not None:
            span = f" over {self.last_timestamp - self.first_timestamp:.1f} s"
        return f"{self.text} \u00d7{self.count}{span} (lines {self.first_line}\u2013{self.last_line})"


@dataclass
class Evidence:
    """The events that satisfied one step (repeats collapsed)."""

    label: str
    role: str  # "required" | "supporting"
    count: int
    events: list[Event]  # first and last few when count is large
    first_line: int
    last_line: int
    first_timestamp: float | None = None
    last_timestamp: float | None = None
    boot: int | None = None
    description: str = ""
    groups: list[EvidenceGroup] = field(default_factory=list)

    @property
    def lines(self) -> list[int]:
        return [e.line for e in self.events]

    @property
    def summary(self) -> str:
        """E.g. "AMD-Vi: Completion-Wait loop timed out \u00d79 over 1.4 s (lines 60\u201378)"."""
        if self.groups:
            text = "; ".join(g.summary for g in self.groups[:4])
            if len(self.groups) > 4:
                text += f"; and {len(self.groups) - 4} other message(s)"
            return text
        return self.label

    def to_dict(self) -> dict[str, Any]:
        return {"label": self.label, "role": self.role, "count": self.count, "summary": self.summary,
                "first_line": self.first_line, "last_line": self.last_line,
                "first_timestamp": self.first_timestamp, "last_timestamp": self.last_timestamp,
                "boot": self.boot, "lines": self.lines, "description": self.description,
                "groups": [{"text": g.text, "count": g.count, "first_line": g.first_line,
                            "last_line": g.last_line, "first_timestamp": g.first_timestamp,
                            "last_timestamp": g.last_timestamp} for g in self.groups]}


@dataclass
class VmcoreResult:
    status: str  # "confirmed" | "contradicted" | "incomplete" | "not checked (no vmcore)"
    checks: list[dict[str, Any]] = field(default_factory=list)  # fact, expected, actual, result

    def to_dict(self) -> dict[str, Any]:
        return {"status": self.status, "checks": self.checks}

    def __str__(self) -> str:
        return self.status


@dataclass
class Finding:
    rule_id: str
    title: str
    severity: str
    source: str
    boot: int  # the boot the finding is about (the later one for next_boot)
    boots: list[int]
    boot_role: str
    release: str | None
    evidence: list[Evidence]
    summary: str
    remedy: str
    references: list[str]
    fix: Verdict | None  # None when the rule records no fix
    caveats: list[str]
    vmcore: VmcoreResult | None
    alternative: int = 0
    alternative_label: str | None = None
    needs_vmcore: bool = False

    @property
    def lines(self) -> list[int]:
        out: list[int] = []
        for ev in self.evidence:
            if ev.role == "required":
                out.extend(ev.lines)
        return sorted(set(out))

    @property
    def events(self) -> list[Event]:
        return [e for ev in self.evidence for e in ev.events]

    def to_dict(self) -> dict[str, Any]:
        return {
            "rule_id": self.rule_id, "title": self.title, "severity": self.severity, "source": self.source,
            "boot": self.boot, "boots": self.boots, "boot_role": self.boot_role, "release": self.release,
            "evidence": [e.to_dict() for e in self.evidence], "summary": self.summary, "remedy": self.remedy,
            "references": self.references, "fix": self.fix.to_dict() if self.fix else None,
            "caveats": self.caveats, "vmcore": self.vmcore.to_dict() if self.vmcore else None,
            "alternative": self.alternative, "alternative_label": self.alternative_label,
            "needs_vmcore": self.needs_vmcore,
        }


# --------------------------------------------------------------------------
# the index

_TS_PREFIX = re.compile(r"^[>\s]*(?:<\d+>)?\s*(?:[A-Z]+\s+)?(?:\[\s*\d+\.\d+\]\s*)?(?:\[\s*[TC]\d+\]\s*)?")


def _event_text(event: Event) -> str:
    if event.kind in ("kernel_panic", "oops", "bug", "warning", "lockup", "call_trace") and event.fields.get("title"):
        return str(event.fields["title"])
    if event.text:
        return _TS_PREFIX.sub("", event.text[0]).strip() or event.message or event.kind
    return event.message or event.kind


ScopeKey = tuple  # (capture index, boot index) or (capture index, None) for a whole source


@dataclass
class _BootInfo:
    capture: int
    source: str
    boot: Boot
    role: str  # effective role
    role_reason: str
    banner: str | None = None


class EventIndex:
    """Events of several captures grouped by (kind, message) and by boot."""

    def __init__(self, captures: Sequence[Capture]) -> None:
        self.captures = list(captures)
        self.km: dict[tuple[str, str | None], dict[ScopeKey, list[Event]]] = {}
        self.kinds: dict[str, set[tuple[str, str | None]]] = {}
        self.boots: dict[ScopeKey, _BootInfo] = {}
        self.boot_order: dict[int, list[int]] = {}
        self._cache: dict[tuple[str, ScopeKey], list[Event]] = {}
        self._lines_cache: dict[int, list[int]] = {}
        self._field_index: dict[tuple, dict[Any, list[Event]]] = {}
        km = self.km
        for ci, cap in enumerate(self.captures):
            boots = {b.index: b for b in cap.boots}
            for ev in cap.events:
                key = (ev.kind, ev.message)
                per = km.get(key)
                if per is None:
                    per = km[key] = {}
                    self.kinds.setdefault(ev.kind, set()).add(key)
                scope = (ci, ev.boot)
                lst = per.get(scope)
                if lst is None:
                    per[scope] = [ev]
                    if ev.boot not in boots:  # an event outside every known boot: synthesise one
                        boots[ev.boot] = Boot(source=cap.source, index=ev.boot, first_line=ev.line,
                                              last_line=ev.end_line, started_by="unknown")
                else:
                    lst.append(ev)
            for per in km.values():
                for scope, lst in per.items():
                    if scope[0] == ci and any(lst[i].line > lst[i + 1].line for i in range(len(lst) - 1)):
                        lst.sort(key=lambda e: (e.line, e.end_line))
            self.boot_order[ci] = sorted(boots)
            for bi, boot in boots.items():
                self.boots[(ci, bi)] = self._boot_info(ci, cap, boot)

    def _boot_info(self, ci: int, cap: Capture, boot: Boot) -> _BootInfo:
        scope = (ci, boot.index)
        banner = None
        banners = self._kind_events("boot_banner", scope)
        if banners:
            banner = banners[0].fields.get("version_text") or (banners[0].text[0] if banners[0].text else None)
        found = [evs[0] for evs in (self.km.get(("amd_vi", m), {}).get(scope) for m in KDUMP_EVIDENCE) if evs]
        if found:
            first = min(found, key=lambda e: e.line)
            reason = f"line {first.line}: '{_event_text(first)}' is only printed by a kdump kernel"
            if boot.role == "kdump":
                return _BootInfo(ci, cap.source, boot, "kdump", boot.role_reason or reason, banner)
            return _BootInfo(ci, cap.source, boot, "kdump", reason, banner)
        if boot.role != "unknown":
            return _BootInfo(ci, cap.source, boot, boot.role, boot.role_reason or "parser", banner)
        cmds = self._kind_events("command_line", scope)
        if cmds and any(e.fields.get("kdump") for e in cmds):
            return _BootInfo(ci, cap.source, boot, "kdump", f"line {cmds[0].line}: kdump command line", banner)
        return _BootInfo(ci, cap.source, boot, "unknown", boot.role_reason or "no banner, command line or kdump-only message", banner)

    def _kind_events(self, kind: str, scope: ScopeKey) -> list[Event]:
        """Events of a kind in one boot, whatever their message id."""
        out: list[Event] = []
        for key in sorted(self.kinds.get(kind, ()), key=str):
            out.extend(self.km[key].get(scope, ()))
        out.sort(key=lambda e: e.line)
        return out

    # -- scopes -----------------------------------------------------------

    def scopes_with(self, keys: list[tuple[str, str | None]], scope_kind: str) -> set[ScopeKey]:
        out: set[ScopeKey] = set()
        for key in keys:
            per = self.km.get(key)
            if not per:
                continue
            if scope_kind == "boot":
                out.update(per.keys())
            else:
                out.update((s[0], None) for s in per.keys())
        return out

    def keys_for(self, cond: Condition) -> list[tuple[str, str | None]]:
        keys = cond.index_keys
        if keys is None:
            keys = [k for kind in cond.kinds for k in self.kinds.get(kind, ())]
        return keys

    def _base(self, cond: Condition, scope: ScopeKey) -> list[Event]:
        lists = []
        for key in self.keys_for(cond):
            per = self.km.get(key)
            if not per:
                continue
            if scope[1] is None:
                for bi in self.boot_order.get(scope[0], ()):
                    lst = per.get((scope[0], bi))
                    if lst:
                        lists.append(lst)
            else:
                lst = per.get(scope)
                if lst:
                    lists.append(lst)
        if not lists:
            return []
        if len(lists) == 1:
            return lists[0]
        return list(heapq.merge(*lists, key=lambda e: (e.line, e.end_line)))

    def candidates(self, cond: Condition, scope: ScopeKey) -> list[Event]:
        """Events in ``scope`` satisfying ``cond``, in line order (cached)."""
        ck = (cond.key, scope)
        hit = self._cache.get(ck)
        if hit is not None:
            return hit
        base = self._base(cond, scope)
        if not base:
            self._cache[ck] = base
            return base
        skip: set[str] = set()
        if len(base) > _FIELD_INDEX_MIN:
            # equality tests on fields: use the (shared, lazily built) field
            # indexes and keep the smallest selection; other tests run on it
            best: tuple[int, str, list[list[Event]], bool] | None = None
            for name, test in cond.fields:
                values = test.equality_values()
                if values is None or name == "text":
                    continue
                index = self._field_index_for(cond, scope, name, base)
                picked = [p for p in (index.get(_norm(v)) for v in values) if p]
                size = sum(len(p) for p in picked)
                if best is None or size < best[0]:
                    best = (size, name, picked, len(test.ops) == 1)
                if size == 0:
                    break
            if best is not None:
                _, name, picked, exact = best
                if not picked:
                    base = []
                elif len(picked) == 1:
                    base = picked[0]
                else:
                    base = list(heapq.merge(*picked, key=lambda e: (e.line, e.end_line)))
                if exact:
                    skip.add(name)
        frozen = frozenset(skip)
        if cond.subsystems is None and cond.levels is None and not cond.regexes and cond.frame is None \
                and all(n in frozen for n, _ in cond.fields):
            out = base
        else:
            test = cond.test
            out = [e for e in base if test(e, frozen)]
        self._cache[ck] = out
        return out

    def _field_index_for(self, cond: Condition, scope: ScopeKey, name: str, base: list[Event]) -> dict[Any, list[Event]]:
        fk = (tuple(self.keys_for(cond)), scope, name)
        index = self._field_index.get(fk)
        if index is None:
            raw: dict[Any, list[Event]] = {}
            common = name in ("kind", "source", "boot", "line", "end_line", "timestamp", "level", "caller",
                              "subsystem", "message")
            unhashable: list[Event] = []
            for e in base:
                v = getattr(e, name) if common else e.fields.get(name)
                try:
                    lst = raw.get(v)
                except TypeError:
                    unhashable.append(e)
                    continue
                if lst is None:
                    raw[v] = [e]
                else:
                    lst.append(e)
            # normalise only the distinct values ("0x86" == 134); merge what collides
            index = {}
            for v, lst in raw.items():
                key = _norm(v)
                if key in index:
                    index[key] = sorted(index[key] + lst, key=lambda e: (e.line, e.end_line))
                else:
                    index[key] = lst
            self._field_index[fk] = index
        return index

    def lines_of(self, events: list[Event]) -> list[int]:
        key = id(events)
        hit = self._lines_cache.get(key)
        if hit is None or len(hit) != len(events):
            hit = [e.line for e in events]
            self._lines_cache[key] = hit
        return hit


def _norm(value: Any) -> Any:
    """Normalise values for the field index so 0x86 == 134 == '0x86'."""
    if isinstance(value, bool) or value is None:
        return value
    if isinstance(value, str):
        text = value.strip()
        if re.fullmatch(r"0x[0-9a-fA-F]+", text):
            return int(text, 16)
        if re.fullmatch(r"-?\d+", text):
            return int(text)
        return value
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return value


# --------------------------------------------------------------------------
# evaluation


@dataclass
class _StepHit:
    step: Step
    events: list[Event]  # all matching events after the anchor (evidence)
    at_line: int  # line where the step is complete (for ordering)


@dataclass
class StepTrace:
    """What happened to one step while explaining a rule."""

    group: str  # sequence | all | absent | supporting | boot
    label: str
    description: str
    status: str  # matched | missing | not reached | violated | clear | seen | not seen | failed | passed
    detail: str = ""
    lines: list[int] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return {"group": self.group, "label": self.label, "description": self.description,
                "status": self.status, "detail": self.detail, "lines": self.lines}


@dataclass
class Attempt:
    alternative: int
    alternative_label: str | None
    scope: str
    source: str
    boot: int | None
    matched: bool
    steps: list[StepTrace]

    @property
    def progress(self) -> int:
        return sum(1 for s in self.steps if s.status in ("matched", "passed", "clear"))

    def to_dict(self) -> dict[str, Any]:
        return {"alternative": self.alternative, "alternative_label": self.alternative_label,
                "scope": self.scope, "source": self.source, "boot": self.boot, "matched": self.matched,
                "steps": [s.to_dict() for s in self.steps]}


class _Tracer:
    def __init__(self) -> None:
        self.steps: list[StepTrace] = []

    def add(self, *args: Any, **kwargs: Any) -> None:
        self.steps.append(StepTrace(*args, **kwargs))


def _union(index: EventIndex, step: Step, scope: ScopeKey) -> list[Event]:
    lists = [index.candidates(c, scope) for c in step.conditions]
    lists = [x for x in lists if x]
    if not lists:
        return []
    if len(lists) == 1:
        return lists[0]
    seen: set[int] = set()
    out = []
    for e in heapq.merge(*lists, key=lambda e: (e.line, e.end_line)):
        if id(e) not in seen:
            seen.add(id(e))
            out.append(e)
    return out


def _find_count(events: list[Event], start: int, step: Step) -> tuple[int | None, str]:
    """Index of the event completing ``at_least`` (within the window), or None + why."""
    n = step.at_least
    avail = len(events) - start
    if avail < n:
        return None, f"found {avail}, need {n}"
    if n == 1 or step.within is None:
        return start + n - 1, ""
    window: deque[float] = deque()
    best = 0
    stamped = False
    for i in range(start, len(events)):
        t = events[i].timestamp
        if t is None:
            continue
        stamped = True
        window.append(t)
        while window[0] < t - step.within:
            window.popleft()
        if len(window) >= n:
            return i, ""
        if len(window) > best:
            best = len(window)
    if not stamped:
        return start + n - 1, "no timestamps: time window not checked"
    return None, f"at most {best} within {step.within:g} s (need {n})"


class _Eval:
    """Evaluate one pattern in one scope."""

    def __init__(self, index: EventIndex) -> None:
        self.index = index

    def boot_ok(self, filt: BootFilter, scope: ScopeKey, tracer: _Tracer | None = None) -> bool:
        if filt.empty() or scope[1] is None:
            return True
        info = self.index.boots.get(scope)
        if info is None:
            return False
        problems = []
        if filt.roles is not None and info.role not in filt.roles:
            problems.append(f"role is {info.role} ({info.role_reason}), need {'|'.join(filt.roles)}")
        if filt.not_roles is not None and info.role in filt.not_roles:
            problems.append(f"role is {info.role} ({info.role_reason})")
        if filt.ended is not None and info.boot.ended not in filt.ended:
            has_panic = bool(self.index._kind_events("kernel_panic", scope))
            if not ("panic" in filt.ended and has_panic):
                problems.append(f"boot ended by {info.boot.ended}, need {'|'.join(filt.ended)}")
        if filt.kdump_loaded is not None and bool(info.boot.kdump_loaded) != filt.kdump_loaded:
            problems.append(f"kdump_loaded is {info.boot.kdump_loaded}")
        if tracer is not None:
            tracer.add("boot", "boot", filt.describe(), "failed" if problems else "passed",
                       "; ".join(problems) or f"role {info.role} ({info.role_reason}), ended by {info.boot.ended}")
        return not problems

    def run(self, pat: Pattern, scope: ScopeKey, tracer: _Tracer | None = None,
            only_event: Event | None = None) -> tuple[list[_StepHit], list[_StepHit], list[str]] | None:
        """(required hits, supporting hits, notes) or None."""
        if not self.boot_ok(pat.boot, scope, tracer):
            return None
        hits: list[_StepHit] = []
        notes: list[str] = []
        prev_line = -1
        ok = True
        for si, step in enumerate(pat.sequence):
            if not ok:
                if tracer:
                    tracer.add("sequence", step.label, step.describe(), "not reached")
                continue
            events = _union(self.index, step, scope)
            if only_event is not None and si == len(pat.sequence) - 1:
                events = [only_event]
            lines = [e.line for e in events] if len(events) < 64 else self.index.lines_of(events)
            start = bisect.bisect_right(lines, prev_line)
            pos, why = _find_count(events, start, step)
            if pos is None:
                ok = False
                if tracer:
                    tracer.add("sequence", step.label, step.describe(), "missing",
                               self._why_missing(step, scope, events, start, prev_line, why))
                continue
            if why:
                notes.append(f"{step.label}: {why}")
            tail = events[start:]
            hits.append(_StepHit(step, tail, events[pos].line))
            prev_line = events[pos].line
            if tracer:
                tracer.add("sequence", step.label, step.describe(), "matched",
                           f"{len(tail)} event(s) from line {tail[0].line}" + (f"; {why}" if why else ""),
                           [e.line for e in tail[:5]])
        for step in pat.all:
            events = _union(self.index, step, scope)
            pos, why = _find_count(events, 0, step)
            if pos is None:
                ok = False
                if tracer:
                    tracer.add("all", step.label, step.describe(), "missing",
                               self._why_missing(step, scope, events, 0, -1, why))
                continue
            if why:
                notes.append(f"{step.label}: {why}")
            hits.append(_StepHit(step, events, events[pos].line))
            if tracer:
                tracer.add("all", step.label, step.describe(), "matched",
                           f"{len(events)} event(s)", [e.line for e in events[:5]])
        if not ok:
            if tracer:
                for step in pat.absent:
                    tracer.add("absent", step.label, step.describe(), "not reached")
            return None
        by_label = {h.step.label: h for h in hits}
        for step in pat.absent:
            events = _union(self.index, step, scope)
            lo = by_label[step.after].at_line if step.after else -1
            hi = by_label[step.before].at_line if step.before else None
            if lo >= 0 or hi is not None:
                events = [e for e in events if e.line > lo and (hi is None or e.line < hi)]
            if len(events) >= step.at_least:
                ok = False
                if tracer:
                    tracer.add("absent", step.label, step.describe(), "violated",
                               f"present at line {events[0].line}: {_event_text(events[0])}",
                               [e.line for e in events[:5]])
            elif tracer:
                tracer.add("absent", step.label, step.describe(), "clear")
        if not ok:
            return None
        support: list[_StepHit] = []
        for step in pat.supporting:
            events = _union(self.index, step, scope)
            if events:
                support.append(_StepHit(step, events, events[0].line))
                if tracer:
                    tracer.add("supporting", step.label, step.describe(), "seen", "",
                               [e.line for e in events[:5]])
            else:
                if step.if_missing:
                    notes.append(step.if_missing)
                if tracer:
                    tracer.add("supporting", step.label, step.describe(), "not seen")
        return hits, support, notes

    def _why_missing(self, step: Step, scope: ScopeKey, events: list[Event], start: int,
                     prev_line: int, why: str) -> str:
        parts = []
        for cond in step.conditions:
            base = self.index._base(cond, scope)
            if not base:
                parts.append(f"no {cond.describe().split(' (')[0]} event in this scope")
                continue
            passed = self.index.candidates(cond, scope)
            if not passed:
                example = base[0]
                parts.append(f"{len(base)} {'/'.join(cond.kinds)} event(s) found but none pass the "
                             f"conditions (first at line {example.line}: {_failed_tests(cond, example)})")
                continue
            after = [e for e in passed if e.line > prev_line]
            if not after and prev_line >= 0:
                parts.append(f"{len(passed)} matching event(s) but none after line {prev_line} "
                             f"(first at line {passed[0].line})")
        if not parts and why:
            parts.append(why)
        elif why and events[start:]:
            parts.append(why)
        return "; ".join(parts)


def _failed_tests(cond: Condition, event: Event) -> str:
    out = []
    if cond.subsystems is not None and event.subsystem not in cond.subsystems:
        out.append(f"subsystem is {event.subsystem!r}")
    if cond.levels is not None and event.level not in cond.levels:
        out.append(f"level is {event.level!r}")
    for name, test in cond.fields:
        present = name in event.fields or hasattr(event, name)
        value = event.get(name)
        if not test.test(value, present):
            out.append(f"{name} is {value!r}, need {test.describe()}")
    if cond.frame is not None:
        out.append("no stack frame " + cond.frame.describe())
    for rx in cond.regexes:
        from .rules import regex_search
        if not regex_search(rx, event.text):
            out.append(f"text does not match /{rx.pattern}/")
    return "; ".join(out) or "?"


# --------------------------------------------------------------------------
# vmcore facts


_MISSING = object()


def _lookup(facts: Any, parts: list[str]) -> list[Any]:
    """All values at a dotted path; ``*`` fans out over lists/dicts."""
    if not parts:
        return [facts]
    head, rest = parts[0], parts[1:]
    if head == "*":
        items = facts.values() if isinstance(facts, Mapping) else (facts if isinstance(facts, list) else [])
        out = []
        for item in items:
            out.extend(_lookup(item, rest))
        return out
    if isinstance(facts, Mapping):
        if head in facts:
            return _lookup(facts[head], rest)
        return [_MISSING]
    if isinstance(facts, list) and head.isdigit():
        i = int(head)
        return _lookup(facts[i], rest) if i < len(facts) else [_MISSING]
    value = getattr(facts, head, _MISSING) if not isinstance(facts, (str, int, float, bool)) else _MISSING
    return _lookup(value, rest) if value is not _MISSING else [_MISSING]


def _unwrap(value: Any) -> tuple[bool, Any, str | None]:
    """(available, value, why not) of a looked-up fact.

    The vmcore stage's ``VmcoreFacts.to_dict()`` wraps every fact as
    ``{"value": ..., "source": ..., "unavailable": reason?, "note": ...?}``;
    plain values (hand-written facts, fixtures) are taken as they are.
    """
    if isinstance(value, Mapping) and "value" in value and "source" in value:
        if value.get("unavailable"):
            return False, None, str(value["unavailable"])
        return True, value["value"], None
    if hasattr(value, "unavailable") and hasattr(value, "value") and hasattr(value, "source"):
        if value.unavailable is not None:
            return False, None, str(value.unavailable)
        return True, value.value, None
    return True, value, None


def evaluate_vmcore(checks: Iterable[FactCheck], facts: Any) -> VmcoreResult:
    """Check a rule's vmcore conditions against a facts dict (or a VmcoreFacts object)."""
    checks = list(checks)
    if facts is not None and not isinstance(facts, Mapping) and hasattr(facts, "to_dict"):
        facts = facts.to_dict()
    if facts is None:
        return VmcoreResult("not checked (no vmcore)",
                            [{"fact": c.path, "expected": c.test.describe(), "actual": None, "result": "not checked"}
                             for c in checks])
    rows = []
    status = "confirmed"
    for c in checks:
        values, reasons = [], []
        for raw in _lookup(facts, c.path.split(".")):
            if raw is _MISSING:
                continue
            ok, value, why = _unwrap(raw)
            if ok:
                values.append(value)
            else:
                reasons.append(why)
        if not values:
            row = {"fact": c.path, "expected": c.test.describe(), "actual": None, "result": "missing"}
            if reasons:
                row["why"] = "; ".join(dict.fromkeys(r for r in reasons if r))
            rows.append(row)
            if status == "confirmed":
                status = "incomplete"
            continue
        ok = any(c.test.test(v) for v in values)
        rows.append({"fact": c.path, "expected": c.test.describe(),
                     "actual": values[0] if len(values) == 1 else values, "result": "ok" if ok else "failed"})
        if not ok:
            status = "contradicted"
    return VmcoreResult(status, rows)


# --------------------------------------------------------------------------
# building findings


_PLACEHOLDER = re.compile(r"\{([a-z_][a-z0-9_]*)(?:\.([a-z_][a-z0-9_]*))?\}")


def _fill(template: str, hits: list[_StepHit]) -> str:
    """Replace ``{field}`` (first event of the last required step) and
    ``{label.field}`` (first event of the step with that label)."""
    if "{" not in template or not hits:
        return template
    by_label = {h.step.label: h for h in hits}

    def value(m: re.Match[str]) -> str:
        if m.group(2):
            hit = by_label.get(m.group(1))
            name = m.group(2)
        else:
            hit = hits[-1]
            name = m.group(1)
        if hit is None or not hit.events:
            return m.group(0)
        v = hit.events[0].get(name)
        if v is None:
            return "(unknown)"
        if isinstance(v, list):
            return ", ".join(str(x) for x in v[:5])
        return str(v)

    return _PLACEHOLDER.sub(value, template)


def _group_key(e: Event) -> tuple:
    if e.message is None and e.kind not in ("amd_vi", "sev", "iommu_event", "kernel_message"):
        return (e.kind, e.fields.get("title"))
    return (e.kind, e.message, e.fields.get("event_type"))


def _groups(evs: list[Event]) -> list[EvidenceGroup]:
    if len(evs) > 2000 and _group_key(evs[0]) == _group_key(evs[-1]):
        # long runs (event storms): one group, without walking every event
        keyed = {_group_key(evs[0]): [evs[0], evs[-1], len(evs)]}
    else:
        keyed = {}
        for e in evs:
            k = _group_key(e)
            g = keyed.get(k)
            if g is None:
                keyed[k] = [e, e, 1]
            else:
                g[1] = e
                g[2] += 1
    return [EvidenceGroup(_event_text(first), n, first.line, last.line if n > 1 else first.end_line,
                          first.timestamp, last.timestamp) for first, last, n in keyed.values()]


def _evidence(hit: _StepHit, role: str) -> Evidence:
    evs = hit.events
    keep = evs if len(evs) <= 2 * _EVIDENCE_KEEP else evs[:_EVIDENCE_KEEP] + evs[-_EVIDENCE_KEEP:]
    return Evidence(label=hit.step.label, role=role, count=len(evs), events=list(keep),
                    first_line=evs[0].line, last_line=evs[-1].end_line if len(evs) == 1 else evs[-1].line,
                    first_timestamp=evs[0].timestamp, last_timestamp=evs[-1].timestamp, boot=evs[0].boot,
                    description=hit.step.describe(), groups=_groups(evs))


def _make_finding(index: EventIndex, rule: Rule, alt: int, pat: Pattern, capture_i: int, boots: list[int],
                  hits: list[_StepHit], support: list[_StepHit], notes: list[str],
                  vmcore: Mapping[str, Any] | None, role_boot: int | None = None) -> Finding:
    cap = index.captures[capture_i]
    evidence = [_evidence(h, "required") for h in hits] + [_evidence(h, "supporting") for h in support]
    main_boot = boots[-1]
    if pat.scope == "source" and hits:
        main_boot = hits[-1].events[0].boot
        boots = sorted({h.events[0].boot for h in hits})
    info = index.boots.get((capture_i, main_boot))
    release = info.boot.release if info else None
    if release is None and hits:
        # a report's "CPU: ... Not tainted <release>" line among the evidence
        release = next((e.fields.get("release") for h in hits for e in h.events[:1] if e.fields.get("release")), None)
    if release is None and pat.scope == "source":
        # excerpts quoted together: borrow the release of another boot that holds evidence
        release = next((index.boots[(capture_i, b)].boot.release for b in boots
                        if (capture_i, b) in index.boots and index.boots[(capture_i, b)].boot.release), None)
    caveats: list[str] = list(rule.unconfirmed) + list(pat.caveats) + notes
    if info and info.role == "kdump" and info.boot.role != "kdump":
        caveats.append(f"boot {main_boot} taken as a kdump kernel: {info.role_reason}")
    fix = None
    if rule.fixed_by:
        fix_release, fix_info = release, info
        if rule.fix_boot == "first" and len(boots) > 1:
            fix_info = index.boots.get((capture_i, boots[0]))
            fix_release = fix_info.boot.release if fix_info else None
        fix = fix_verdict(fix_release, rule.fixed_by, banner=fix_info.banner if fix_info else None)
        if fix_info is not info and fix_info is not None:
            fix = Verdict(fix.status, f"boot {fix_info.boot.index} (the kernel that needs the fix): {fix.explanation}",
                          fix.per_fix)
        if rule.match_proves_unfixed and fix.status != "not fixed":
            fix = Verdict("not fixed", f"{rule.match_proves_unfixed} (version check: {fix.status}: {fix.explanation})",
                          fix.per_fix)
    vm = None
    if rule.vmcore is not None:
        vm = evaluate_vmcore(rule.vmcore.checks, vmcore)
        if vm.status == "not checked (no vmcore)":
            caveats.append("vmcore: not checked (no vmcore); " + "; ".join(c.describe() for c in rule.vmcore.checks))
        elif vm.status == "contradicted":
            caveats.append("vmcore contradicts this diagnosis: " + "; ".join(
                f"{r['fact']} is {r['actual']!r}" for r in vm.checks if r["result"] == "failed"))
        elif vm.status == "incomplete":
            caveats.append("vmcore facts missing: " + ", ".join(
                r["fact"] + (f" ({r['why']})" if r.get("why") else "") for r in vm.checks if r["result"] == "missing"))
    return Finding(
        rule_id=rule.id, title=_fill(rule.title, hits), severity=rule.severity, source=cap.source,
        boot=main_boot, boots=boots, boot_role=info.role if info else "unknown",
        release=release, evidence=evidence, summary=_fill(rule.summary, hits), remedy=_fill(rule.remedy, hits),
        references=list(rule.references), fix=fix, caveats=list(dict.fromkeys(caveats)), vmcore=vm,
        alternative=alt, alternative_label=pat.label, needs_vmcore=rule.needs_vmcore,
    )


def _anchor_keys(index: EventIndex, pat: Pattern) -> list[tuple[str, str | None]] | None:
    """Index keys whose presence a scope needs (the first required step's), or None."""
    steps = pat.required_steps()
    if not steps:
        return None
    keys: list[tuple[str, str | None]] = []
    for cond in steps[0].conditions:
        keys.extend(index.keys_for(cond))
    return keys


def _run_rule(index: EventIndex, ev: _Eval, rule: Rule, vmcore: Mapping[str, Any] | None,
              tracers: list[Attempt] | None = None) -> list[Finding]:
    findings: list[Finding] = []
    done: set[tuple[int, int]] = set()
    vm_gate = rule.vmcore is not None and rule.vmcore.required
    if vm_gate and tracers is None:
        vm = evaluate_vmcore(rule.vmcore.checks, vmcore)  # type: ignore[union-attr]
        if vm.status != "confirmed":
            return []
    for alt, pat in enumerate(rule.match):
        if pat.scope == "next_boot":
            assert pat.first is not None and pat.then is not None
            keys = _anchor_keys(index, pat.then) or []
            scopes = sorted(index.scopes_with(keys, "boot")) if tracers is None else sorted(index.boots)
            for ci, bi in scopes:
                order = index.boot_order.get(ci, [])
                pos = order.index(bi) if bi in order else -1
                if pos <= 0:
                    if tracers is not None:
                        tracers.append(Attempt(alt, pat.label, "next_boot", index.captures[ci].source, bi, False,
                                               [StepTrace("boot", "previous boot", "a boot before this one", "missing",
                                                          "first boot of the source")]))
                    continue
                prev = order[pos - 1]
                tracer = _Tracer() if tracers is not None else None
                if tracer:
                    tracer.add("boot", "first", f"boot {prev} (the one before)", "passed")
                r1 = ev.run(pat.first, (ci, prev), tracer)
                r2 = ev.run(pat.then, (ci, bi), tracer) if r1 is not None else None
                if tracer is not None and r1 is None:
                    tracer.add("boot", "then", f"boot {bi}", "not reached")
                matched = r1 is not None and r2 is not None
                if tracers is not None and tracer is not None:
                    tracers.append(Attempt(alt, pat.label, "next_boot", index.captures[ci].source, bi, matched, tracer.steps))
                if matched and (ci, bi) not in done:
                    done.add((ci, bi))
                    findings.append(_make_finding(index, rule, alt, pat, ci, [prev, bi],
                                                  r1[0] + r2[0], r1[1] + r2[1], r1[2] + r2[2], vmcore))  # type: ignore[index]
            continue
        keys = _anchor_keys(index, pat) or []
        if tracers is None:
            scopes = sorted(index.scopes_with(keys, pat.scope))
        elif pat.scope == "boot":
            scopes = sorted(index.boots)
        else:
            scopes = sorted({(ci, None) for ci in range(len(index.captures))})
        for scope in scopes:
            if rule.report in ("each", "distinct") and tracers is None:
                if not ev.boot_ok(pat.boot, scope):
                    continue
                groups: dict[Any, list[Event]] = {}
                for event in _union(index, pat.sequence[0], scope):
                    gkey = ((event.boot, event.fields.get("title") or _event_text(event))
                            if rule.report == "distinct" else event.line)
                    groups.setdefault(gkey, []).append(event)
                for group in groups.values():
                    res = ev.run(pat, scope, None, only_event=group[0])
                    if res is None:
                        continue
                    key = (scope[0], group[0].line)
                    if key in done:
                        continue
                    done.add(key)
                    if len(group) > 1:
                        res[0][-1].events = group
                    findings.append(_make_finding(index, rule, alt, pat, scope[0], [group[0].boot], *res, vmcore))
                continue
            tracer = _Tracer() if tracers is not None else None
            res = ev.run(pat, scope, tracer)
            if tracers is not None and tracer is not None:
                src = index.captures[scope[0]].source
                tracers.append(Attempt(alt, pat.label, pat.scope, src, scope[1], res is not None, tracer.steps))
            if res is None:
                continue
            hits = res[0]
            boot = scope[1] if scope[1] is not None else hits[-1].events[0].boot
            if (scope[0], boot) in done:
                continue
            done.add((scope[0], boot))
            findings.append(_make_finding(index, rule, alt, pat, scope[0], [boot], *res, vmcore))
    return findings


def _supersede(findings: list[Finding], rules: Sequence[Rule]) -> list[Finding]:
    wanted = {r.id: set(r.superseded_by) for r in rules if r.superseded_by}
    if not wanted:
        return findings
    cited: dict[str, set[tuple[str, int]]] = {}
    for f in findings:
        cited.setdefault(f.rule_id, set()).update((f.source, e.line) for ev in f.evidence for e in ev.events)
    out = []
    for f in findings:
        others = wanted.get(f.rule_id)
        if others:
            mine = {(f.source, e.line) for ev in f.evidence if ev.role == "required" for e in ev.events}
            if any(mine & cited.get(o, set()) for o in others):
                continue
        out.append(f)
    return out


def match(captures: Sequence[Capture] | Capture, rules: Sequence[Rule], vmcore: Mapping[str, Any] | None = None,
          *, keep_superseded: bool = False, index: EventIndex | None = None) -> list[Finding]:
    """All findings of ``rules`` over ``captures``.

    ``vmcore`` is the crashed kernel's facts dict (``VmcoreFacts.to_dict()``):
    rules with a ``vmcore`` block report whether the facts confirm them, and
    rules whose vmcore block is ``required`` only fire when it confirms.
    Generic findings that cite the same event as a rule listed in their
    ``superseded_by`` are dropped unless ``keep_superseded``.
    """
    if isinstance(captures, Capture):
        captures = [captures]
    index = index or EventIndex(captures)
    ev = _Eval(index)
    findings: list[Finding] = []
    for rule in rules:
        findings.extend(_run_rule(index, ev, rule, vmcore))
    if not keep_superseded:
        findings = _supersede(findings, rules)
    findings.sort(key=lambda f: (f.source, f.boot, SEVERITY_RANK.get(f.severity, 9),
                                 f.lines[0] if f.lines else 0, f.rule_id))
    return findings


# --------------------------------------------------------------------------
# explain


@dataclass
class Explanation:
    rule_id: str
    title: str
    matched: bool
    findings: list[Finding]
    attempts: list[Attempt]
    notes: list[str]
    vmcore: VmcoreResult | None = None

    def best_attempts(self) -> list[Attempt]:
        """The furthest attempt per alternative (all matched ones first)."""
        out: dict[int, Attempt] = {}
        for a in self.attempts:
            cur = out.get(a.alternative)
            if cur is None or (a.matched, a.progress) > (cur.matched, cur.progress):
                out[a.alternative] = a
        return [out[k] for k in sorted(out)]

    def to_dict(self) -> dict[str, Any]:
        return {"rule_id": self.rule_id, "title": self.title, "matched": self.matched,
                "findings": [f.to_dict() for f in self.findings],
                "best_attempts": [a.to_dict() for a in self.best_attempts()],
                "attempts": [a.to_dict() for a in self.attempts], "notes": self.notes,
                "vmcore": self.vmcore.to_dict() if self.vmcore else None}

    def __str__(self) -> str:
        out = [f"{self.rule_id}: {self.title}",
               "MATCHED" if self.matched else "did not match"]
        out += [f"note: {n}" for n in self.notes]
        if self.findings:
            for f in self.findings:
                out.append(f"  finding in {f.source} boot {f.boot} (lines {', '.join(map(str, f.lines[:8]))})")
        for a in self.best_attempts():
            where = f"{a.source}" + (f" boot {a.boot}" if a.boot is not None else "")
            head = f"alternative {a.alternative + 1}" + (f" ({a.alternative_label})" if a.alternative_label else "")
            out.append(f"{head}, furthest in {where} [{a.scope} scope]: {'matched' if a.matched else 'stopped'}")
            for s in a.steps:
                mark = {"matched": "+", "passed": "+", "clear": "+", "seen": "+", "missing": "x",
                        "violated": "x", "failed": "x", "not reached": ".", "not seen": "-"}.get(s.status, " ")
                line = f"  {mark} {s.group} {s.label}: {s.status}"
                if s.description and s.group != "boot":
                    line += f" -- {s.description}"
                if s.detail:
                    line += f"\n      {s.detail}"
                out.append(line)
        return "\n".join(out)


def explain(captures: Sequence[Capture] | Capture, rule: Rule, vmcore: Mapping[str, Any] | None = None) -> Explanation:
    """Why ``rule`` did (not) match: every scope tried, step by step.

    ``str()`` of the result is a readable report (best attempt per
    alternative); ``to_dict()`` has everything.
    """
    if isinstance(captures, Capture):
        captures = [captures]
    index = EventIndex(captures)
    ev = _Eval(index)
    attempts: list[Attempt] = []
    notes: list[str] = []
    _run_rule(index, ev, rule, vmcore, tracers=attempts)
    findings = _run_rule(index, _Eval(index), rule, vmcore)
    vm = None
    if rule.vmcore is not None:
        vm = evaluate_vmcore(rule.vmcore.checks, vmcore)
        if rule.vmcore.required and vm.status != "confirmed":
            notes.append(f"this rule needs vmcore facts ({'; '.join(c.describe() for c in rule.vmcore.checks)}): "
                         f"{vm.status}" + (" -- the log part alone never asserts it" if vmcore is None else ""))
    if not index.boots:
        notes.append("the captures hold no events")
    return Explanation(rule.id, rule.title, bool(findings), findings, attempts, notes, vm)
