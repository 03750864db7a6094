"""Evaluate one rule alternative in one scope: sequences, counts in a window, absence, support."""
from __future__ import annotations

import bisect
import heapq
from collections import deque
from dataclasses import dataclass, field
from typing import Any

from ..model import Event
from ..rulepack import BootFilter, Condition, Pattern, Step, regex_search
from .index import EventIndex, ScopeKey, event_text

__all__ = ["StepTrace", "Attempt", "Evaluator", "StepHit", "Tracer", "union"]


@dataclass
class StepHit:
    """The events that satisfied one step."""

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
    """One try of one alternative in one scope, step by step (for --why-not)."""

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


class Tracer:
    """Collects StepTraces while an explanation runs."""

    def __init__(self) -> None:
        self.steps: list[StepTrace] = []

    def add(self, *args: Any, **kwargs: Any) -> None:
        self.steps.append(StepTrace(*args, **kwargs))


def union(index: EventIndex, step: Step, scope: ScopeKey) -> list[Event]:
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


def _find_count(events: list[Event], start: int, step: Step, weights: dict[int, int]) -> tuple[int | None, str]:
    """Index of the event completing ``at_least`` (within the window), or None + why.

    ``weights`` (EventIndex.weights) count the events a summary dropped; a time window is
    decided on the kept events only.
    """
    n = step.at_least
    if weights:
        avail = len(events) - start + sum(weights.get(id(e), 0) for e in events[start:])
    else:
        avail = len(events) - start
    if avail < n:
        return None, f"found {avail}, need {n}"
    if n == 1 or step.within is None:
        if not weights:
            return start + n - 1, ""
        total = 0
        for i in range(start, len(events)):
            total += 1 + weights.get(id(events[i]), 0)
            if total >= n:
                return i, ""
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
        return _find_count(events, start, Step(step.conditions, step.label, n), weights)[0], \
            "no timestamps: time window not checked"
    return None, f"at most {best} within {step.within:g} s (need {n})"


class Evaluator:
    """Evaluate one pattern in one scope."""

    def __init__(self, index: EventIndex) -> None:
        self.index = index

    def boot_ok(self, filt: BootFilter, scope: ScopeKey, tracer: Tracer | None = None) -> bool:
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

    def run(self, pat: Pattern, scope: ScopeKey, tracer: Tracer | None = None,
            only_event: Event | None = None) -> tuple[list[StepHit], list[StepHit], list[str]] | None:
        """(required hits, supporting hits, notes) or None."""
        if not self.boot_ok(pat.boot, scope, tracer):
            return None
        hits: list[StepHit] = []
        notes: list[str] = []
        prev_line = -1
        ok = True
        for si, step in enumerate(pat.sequence):
            if not ok:
                if tracer:
                    tracer.add("sequence", step.label, step.describe(), "not reached")
                continue
            events = union(self.index, step, scope)
            if only_event is not None and si == len(pat.sequence) - 1:
                events = [only_event]
            lines = [e.line for e in events] if len(events) < 64 else self.index.lines_of(events)
            start = bisect.bisect_right(lines, prev_line)
            pos, why = _find_count(events, start, step, self.index.weights)
            if pos is None:
                ok = False
                if tracer:
                    tracer.add("sequence", step.label, step.describe(), "missing",
                               self._why_missing(step, scope, events, start, prev_line, why))
                continue
            if why:
                notes.append(f"{step.label}: {why}")
            tail = events[start:]
            hits.append(StepHit(step, tail, events[pos].line))
            prev_line = events[pos].line
            if tracer:
                tracer.add("sequence", step.label, step.describe(), "matched",
                           f"{self.index.count(tail)} event(s) from line {tail[0].line}" + (f"; {why}" if why else ""),
                           [e.line for e in tail[:5]])
        for step in pat.all:
            events = union(self.index, step, scope)
            pos, why = _find_count(events, 0, step, self.index.weights)
            if pos is None:
                ok = False
                if tracer:
                    tracer.add("all", step.label, step.describe(), "missing",
                               self._why_missing(step, scope, events, 0, -1, why))
                continue
            if why:
                notes.append(f"{step.label}: {why}")
            hits.append(StepHit(step, events, events[pos].line))
            if tracer:
                tracer.add("all", step.label, step.describe(), "matched",
                           f"{self.index.count(events)} event(s)", [e.line for e in events[:5]])
        if not ok:
            if tracer:
                for step in pat.absent:
                    tracer.add("absent", step.label, step.describe(), "not reached")
            return None
        by_label = {h.step.label: h for h in hits}
        for step in pat.absent:
            events = union(self.index, step, scope)
            lo = by_label[step.after].at_line if step.after else -1
            hi = by_label[step.before].at_line if step.before else None
            if lo >= 0 or hi is not None:
                events = [e for e in events if e.line > lo and (hi is None or e.line < hi)]
            if self.index.count(events) >= step.at_least:
                ok = False
                if tracer:
                    tracer.add("absent", step.label, step.describe(), "violated",
                               f"present at line {events[0].line}: {event_text(events[0])}",
                               [e.line for e in events[:5]])
            elif tracer:
                tracer.add("absent", step.label, step.describe(), "clear")
        if not ok:
            return None
        support: list[StepHit] = []
        for step in pat.supporting:
            events = union(self.index, step, scope)
            if events:
                support.append(StepHit(step, events, events[0].line))
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
        if not regex_search(rx, event.text):
            out.append(f"text does not match /{rx.pattern}/")
    return "; ".join(out) or "?"
