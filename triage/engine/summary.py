"""The bounded summary the rule engine diagnoses from, built while ingestion streams.

Why: keeping every event of a capture for the engine made the main job grow with its input
(a 1 M-line IOMMU fault storm held about 1 GB). The rules only ever look at events that pass one
of their conditions, at a few events of each boot (its banner, command line, panic, kdump-only
AMD-Vi messages, whether it panicked: :class:`~triage.engine.index.BootInfo`), and at the first and last events of a
run (evidence keeps 3 at each end). So the summary:

* counts, and does not keep, events that pass no condition of any rule and tell nothing about
  their boot's role;
* puts every other event in a *bucket* keyed by (boot, kind, message, the conditions it passes, the
  fields evidence groups repeats by -- device, event type: ``findings._group_key`` -- and for
  ``report: each|distinct`` rules the event's own key): events of one bucket are interchangeable
  for every rule and every evidence group, except for where they are and how many there are;
* keeps the first :data:`HEAD` and the last :data:`TAIL` events of a bucket and counts those in
  between; the first kept tail event carries that count as its *weight*
  (:meth:`triage.engine.index.EventIndex.count`), so counts in evidence stay exact;
* forgets the role-only events of a boot that holds nothing a rule can use once two later boots
  have started (a capture of a million boots keeps a handful of them), unless a ``next_boot``
  alternative's first boot needs no event (then any boot's role may decide).

Findings and evidence are the same as with every event kept (``tests/test_summary.py`` checks
this on every rule fixture, the founding thread and the corpora) whenever no bucket overflows.
When one does (a storm of more than HEAD + TAIL alike events in one boot) two things are decided
on the kept events only: a time window (``within``) must be met by kept events (the first HEAD
of a storm, in practice), and a sequence step that starts inside the dropped middle of a storm
starts at its first kept tail event and counts the whole middle.
"""
from __future__ import annotations

from collections import deque
from collections.abc import Sequence

from ..model import KDUMP_ONLY_MESSAGES, Event
from ..rulepack import Condition, Pattern, Rule
from .findings import _group_key
from .index import event_text

__all__ = ["Summary", "HEAD", "TAIL"]

#: events kept at the start of each bucket (a storm's time windows are decided on these)
HEAD = 1024
#: events kept at the end of each bucket
TAIL = 64
#: kinds the engine reads to settle a boot's role and banner (index.EventIndex._boot_info), kept
#: once per boot even when no rule names them
_ROLE_KINDS = frozenset({"boot_banner", "command_line", "kernel_panic"})
#: distinct (kind, message, attributes read) whose conditions passed are remembered
_MEMO = 4096
_ABSENT = object()  # a field the event does not have (a test may tell it from None)
#: boots this far behind the current one can no longer receive events (held reports are flushed
#: when a boot starts)
_SETTLED = 2


def _patterns(rule: Rule) -> list[Pattern]:
    out = []
    for pat in rule.match:
        out.extend(p for p in (pat, pat.first, pat.then) if p is not None)
    return out


class _Conditions:
    """Every condition of a rule pack, found by an event's (kind, message)."""

    def __init__(self, rules: Sequence[Rule]) -> None:
        self.conditions: list[Condition] = []
        self.anchors: set[int] = set()  # conditions of the first step of report: each|distinct rules
        self.each: set[int] = set()  # ... of report: each rules
        seen: dict[str, int] = {}
        #: a next_boot alternative whose first boot needs no event reads the role of any boot
        self.every_boot = any(pat.scope == "next_boot" and pat.first is not None and not pat.first.required_steps()
                              for rule in rules for pat in rule.match)
        for rule in rules:
            for pat in _patterns(rule):
                for si, step in enumerate(pat.sequence + pat.all + pat.absent + pat.supporting):
                    for cond in step.conditions:
                        ci = seen.get(cond.key)
                        if ci is None:
                            ci = seen[cond.key] = len(self.conditions)
                            self.conditions.append(cond)
                        if rule.report in ("each", "distinct") and si == 0 and pat.sequence:
                            self.anchors.add(ci)
                            if rule.report == "each":
                                self.each.add(ci)
        self._by_key: dict[tuple[str, str | None], tuple[list[tuple[int, Condition]], tuple[str, ...] | None]] = {}
        self._memo: dict[tuple, tuple[int, ...]] = {}

    def _for_key(self, kind: str, message: str | None):
        """The conditions an event of this (kind, message) may pass, and the attributes they read
        (None when one reads more than attributes: its text or its frames)."""
        key = (kind, message)
        found = self._by_key.get(key)
        if found is None:
            conds = [(ci, c) for ci, c in enumerate(self.conditions)
                     if kind in c.kinds and (c.messages is None or message in c.messages)]
            names: tuple[str, ...] | None = tuple(sorted({n for _, c in conds for n, _ in c.fields}))
            if any(c.regexes or c.frame is not None for _, c in conds):
                names = None
            found = self._by_key[key] = (conds, names)
        return found

    def passed(self, event: Event) -> tuple[int, ...]:
        """The conditions the event passes (memoised on what they read: a storm's events are alike)."""
        conds, names = self._for_key(event.kind, event.message)
        if not conds:
            return ()
        if names is None:
            return tuple(ci for ci, cond in conds if cond.test(event))
        sig = (event.kind, event.message, event.subsystem, event.level, *(event.get(n, _ABSENT) for n in names))
        try:
            hit = self._memo.get(sig)
        except TypeError:  # a list-valued field: test it directly
            return tuple(ci for ci, cond in conds if cond.test(event))
        if hit is None:
            if len(self._memo) >= _MEMO:
                self._memo.clear()
            hit = self._memo[sig] = tuple(ci for ci, cond in conds if cond.test(event))
        return hit


class _Bucket:
    """The first HEAD and last TAIL events of a run of alike events, and how many fell between."""

    __slots__ = ("head", "tail", "dropped", "limit")

    def __init__(self, limit: int) -> None:
        self.head: list[tuple[int, Event]] = []
        self.tail: deque[tuple[int, Event]] = deque(maxlen=TAIL)
        self.dropped = 0
        self.limit = limit

    def add(self, seq: int, event: Event) -> None:
        if len(self.head) < self.limit:
            self.head.append((seq, event))
        elif self.limit < HEAD:  # a role-only bucket: its first event is all the engine reads
            self.dropped += 1
        else:
            if len(self.tail) == TAIL:
                self.dropped += 1
            self.tail.append((seq, event))


class Summary:
    """Feed it a capture's events in input order (:meth:`add`); :meth:`finish` gives what it kept.

    ``kept`` events keep their input order; ``weights`` maps ``id(event)`` of a kept event to the
    number of alike events dropped just before it; ``dropped`` counts every event not kept.
    """

    def __init__(self, rules: Sequence[Rule]) -> None:
        self._conditions = _Conditions(rules)
        self._buckets: dict[tuple, _Bucket] = {}
        self._by_boot: dict[int, list[tuple]] = {}  # boot -> its bucket keys
        self._useful: set[int] = set()  # boots holding events some rule condition passes
        self._boot = 0
        self._seq = 0
        self.dropped = 0

    def add(self, event: Event) -> None:
        self._seq += 1
        boot = event.boot
        conds = self._conditions
        if boot > self._boot:
            self._boot = boot
            if not conds.every_boot:
                self._forget_before(boot - _SETTLED)
        passed = conds.passed(event)
        if passed:
            # evidence counts repeats per group (device, event type ...): each group has its own bucket
            key: tuple = (boot, event.kind, event.message, passed, _group_key(event))
            anchors = conds.anchors.intersection(passed)
            if anchors:
                key += ((event.line,) if conds.each.intersection(anchors)
                        else (event.fields.get("title") or event_text(event),))
            self._useful.add(boot)
            limit = HEAD
        elif event.kind in _ROLE_KINDS or event.message in KDUMP_ONLY_MESSAGES:
            key = (boot, event.kind, event.message, (), bool(event.fields.get("kdump")))
            limit = 1
        else:
            self.dropped += 1
            return
        bucket = self._buckets.get(key)
        if bucket is None:
            bucket = self._buckets[key] = _Bucket(limit)
            self._by_boot.setdefault(boot, []).append(key)
        bucket.add(self._seq, event)

    def _forget_before(self, boot: int) -> None:
        """Role-only events of settled boots that no rule can use: counted, no longer kept."""
        for old in [b for b in self._by_boot if b < boot]:
            keys = self._by_boot.pop(old)
            if old in self._useful:
                self._useful.discard(old)
                continue  # its buckets stay
            for key in keys:
                bucket = self._buckets.pop(key)
                self.dropped += len(bucket.head) + len(bucket.tail) + bucket.dropped

    def finish(self) -> tuple[list[Event], dict[int, int]]:
        """(kept events in input order, weights by id of the event that carries them)."""
        kept: list[tuple[int, Event]] = []
        weights: dict[int, int] = {}
        for bucket in self._buckets.values():
            kept.extend(bucket.head)
            kept.extend(bucket.tail)
            if bucket.dropped:
                if bucket.tail:
                    weights[id(bucket.tail[0][1])] = bucket.dropped
                else:
                    self.dropped += bucket.dropped
        kept.sort(key=lambda pair: pair[0])
        return [event for _, event in kept], weights
