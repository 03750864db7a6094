"""The event index: events of several captures by (kind, message) and by boot.

Cost model: events are indexed once per match by ``(kind, message)`` and by
boot.  A rule step only looks at the events under its own keys, and a
boot-scoped alternative is only tried in boots that hold events for its first
step, so rules about messages absent from a capture cost a few dictionary
look-ups.  Equality tests on a field (``event_type: IO_PAGE_FAULT``) over long
candidate lists use a per-field index built once and shared by all rules;
filtered candidate lists are cached per (condition, scope).
"""
from __future__ import annotations

import heapq
from dataclasses import dataclass
from typing import Any, Sequence

from ..ingest.envelope import parse_line
from ..model import EVENT_ATTRS, KDUMP_ONLY_MESSAGES, REPORT_KINDS, Boot, BootRole, Capture, Event
from ..rulepack import Condition
from ..rulepack.values import index_key

__all__ = ["EventIndex", "BootInfo", "ScopeKey", "event_text"]

_FIELD_INDEX_MIN = 64  # build a field index for candidate lists longer than this


def event_text(event: Event) -> str:
    """What an event says, for evidence and explanations: a report's title, else its message body."""
    if event.kind in REPORT_KINDS and event.fields.get("title"):
        return str(event.fields["title"])
    body = event.body
    if body is None and event.text:  # an event built by hand, not by ingestion: read its envelope once
        body = event.body = parse_line(event.source, event.line, event.text[0].encode("utf-8", "replace")).body
    return (body or "").strip() or event.message or event.kind


ScopeKey = tuple  # (capture index, boot index) or (capture index, None) for a whole source


@dataclass
class BootInfo:
    """A boot as the rules see it: its effective role and why."""

    capture: int
    source: str
    boot: Boot
    role: BootRole  # effective role
    role_reason: str
    banner: str | None = None


class EventIndex:
    """Events of several captures grouped by (kind, message) and by boot."""

    def __init__(self, captures: Sequence[Capture]) -> None:
        self.captures = list(captures)
        self.km: dict[tuple[str, str | None], dict[ScopeKey, list[Event]]] = {}
        self.kinds: dict[str, set[tuple[str, str | None]]] = {}
        self.boots: dict[ScopeKey, BootInfo] = {}
        self.boot_order: dict[int, list[int]] = {}
        self._cache: dict[tuple[str, ScopeKey], list[Event]] = {}
        self._lines_cache: dict[int, list[int]] = {}
        self._field_index: dict[tuple, dict[Any, list[Event]]] = {}
        self.platform_cache: dict[ScopeKey, dict[str, Any]] = {}  # engine/platform.py: facts per input
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

    def _boot_info(self, ci: int, cap: Capture, boot: Boot) -> BootInfo:
        """The role rules see: the boot's own (triage/ingest/boots.py decides it while reading), except
        that a kdump-only message (KDUMP_ONLY_MESSAGES, the one list both use) outweighs a command line
        without elfcorehdr=, and captures built without ingestion get their role here."""
        scope = (ci, boot.index)
        banner = None
        banners = self._kind_events("boot_banner", scope)
        if banners:
            banner = banners[0].fields.get("version_text") or (banners[0].text[0] if banners[0].text else None)
        found = [evs[0] for evs in (self.km.get(("amd_vi", m), {}).get(scope) for m in KDUMP_ONLY_MESSAGES) if evs]
        if found:
            first = min(found, key=lambda e: e.line)
            reason = f"line {first.line}: '{event_text(first)}' is only printed by a kdump kernel"
            if boot.role == "kdump":
                return BootInfo(ci, cap.source, boot, "kdump", boot.role_reason or reason, banner)
            return BootInfo(ci, cap.source, boot, "kdump", reason, banner)
        if boot.role != "unknown":
            return BootInfo(ci, cap.source, boot, boot.role, boot.role_reason or "parser", banner)
        cmds = self._kind_events("command_line", scope)
        if cmds and any(e.fields.get("kdump") for e in cmds):
            return BootInfo(ci, cap.source, boot, "kdump", f"line {cmds[0].line}: kdump command line", banner)
        return BootInfo(ci, cap.source, boot, "unknown", boot.role_reason or "no banner, command line or kdump-only message", banner)

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
                picked = [p for p in (index.get(index_key(v)) for v in values) if p]
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
            common = name in EVENT_ATTRS
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
                key = index_key(v)
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
