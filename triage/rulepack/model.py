"""The rule model: what a loaded rule file becomes.

Plain dataclasses built by :mod:`.loader` from YAML and read by the engine.
A :class:`Rule` has alternatives (:class:`Pattern`); each is steps
(:class:`Step`) of conditions on events (:class:`Condition`), a boot filter and
optional vmcore fact checks.  Nothing here is executed from rule text.
"""
from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from typing import Any

from ..model import EVENT_ATTRS, Confidence, Event, FixRef, Scope, Severity, normalize_function
from .regex import regex_search
from .values import FieldTest

__all__ = ["Condition", "Step", "BootFilter", "Pattern", "FactCheck", "VmcoreSpec", "Rule", "PLACEHOLDER",
           "placeholders", "OPTIONAL_TEXT"]

#: ``{field}`` and ``{label.field}`` in a rule's title, summary and remedy
PLACEHOLDER = re.compile(r"\{([a-z_][a-z0-9_]*)(?:\.([a-z_][a-z0-9_]*))?\}")
#: ``[[ text with {field} ]]``: left out when a placeholder inside has no value (e.g. no CPU was printed)
OPTIONAL_TEXT = re.compile(r"\[\[(.*?)\]\]", re.S)


def placeholders(text: str) -> list[tuple[str | None, str]]:
    """(step label or None, field) of every placeholder in ``text``."""
    return [(m.group(1), m.group(2)) if m.group(2) else (None, m.group(1)) for m in PLACEHOLDER.finditer(text)]


def _frame_functions(event: Event) -> list[str]:
    """The RIP's and the call trace's functions, compiler suffixes dropped."""
    names: list[str] = []
    rip = event.fields.get("rip")
    for frame in ([rip] if rip is not None else []) + list(event.fields.get("frames") or ()):
        fn = getattr(frame, "function", None)
        if fn:
            names.append(normalize_function(fn))
    return names


@dataclass
class Condition:
    """What one event must look like."""

    kinds: tuple[str, ...]
    messages: tuple[str | None, ...] | None = None  # None: any message
    subsystems: tuple[str, ...] | None = None
    levels: tuple[str, ...] | None = None
    fields: list[tuple[str, FieldTest]] = field(default_factory=list)
    regexes: list[re.Pattern[str]] = field(default_factory=list)
    frame: FieldTest | None = None
    key: str = ""

    def __post_init__(self) -> None:
        if not self.key:
            self.key = json.dumps({
                "k": sorted(self.kinds), "m": None if self.messages is None else sorted(map(str, self.messages)),
                "s": None if self.subsystems is None else sorted(self.subsystems),
                "l": None if self.levels is None else sorted(self.levels),
                "f": [[n, t.plain()] for n, t in self.fields],
                "r": [r.pattern for r in self.regexes], "fr": self.frame.plain() if self.frame else None,
            }, sort_keys=True, default=str)

    @property
    def index_keys(self) -> list[tuple[str, str | None]] | None:
        """(kind, message) keys of the event index, or None for whole kinds."""
        if self.messages is None:
            return None
        return [(k, m) for k in self.kinds for m in self.messages]

    def test(self, event: Event, skip_fields: frozenset[str] = frozenset()) -> bool:
        """Everything except kind/message (the index already selected those)."""
        if self.subsystems is not None and event.subsystem not in self.subsystems:
            return False
        if self.levels is not None and event.level not in self.levels:
            return False
        for name, test in self.fields:
            if name in skip_fields:
                continue
            if name in EVENT_ATTRS:
                value, present = getattr(event, name), True
            else:
                present = name in event.fields
                value = event.fields.get(name)
            if not test.test(value, present):
                return False
        if self.frame is not None:
            names = _frame_functions(event)
            if not any(self.frame.test(n) for n in names):
                return False
        if self.regexes:
            text = event.text if isinstance(event.text, list) else [str(event.text)]
            for rx in self.regexes:
                if not regex_search(rx, text):
                    return False
        return True

    def describe(self) -> str:
        what = "/".join(self.kinds)
        if self.messages is not None:
            what += " " + "|".join(str(m) for m in self.messages)
        extra = []
        if self.subsystems:
            extra.append("subsystem in " + ",".join(self.subsystems))
        if self.levels:
            extra.append("level in " + ",".join(self.levels))
        extra += [f"{n} {t.describe()}" for n, t in self.fields]
        if self.frame:
            extra.append(f"a stack frame {self.frame.describe()}")
        extra += [f"text matches /{r.pattern}/" for r in self.regexes]
        return what + (f" ({'; '.join(extra)})" if extra else "")


@dataclass
class Step:
    """One item of ``sequence``/``all``/``absent``/``supporting``."""

    conditions: list[Condition]  # alternatives (any_of); usually one
    label: str
    at_least: int = 1
    within: float | None = None  # seconds, for at_least > 1
    if_missing: str | None = None  # supporting: caveat when not seen
    after: str | None = None  # absent: only after the step with this label
    before: str | None = None  # absent: only before the step with this label
    line: int | None = None

    def describe(self) -> str:
        text = " or ".join(c.describe() for c in self.conditions)
        if self.at_least > 1:
            text = f"at least {self.at_least} x {text}"
            if self.within is not None:
                text += f" within {self.within:g} s"
        return text


@dataclass
class BootFilter:
    """Which boots an alternative applies to (``boot:`` in a rule)."""

    roles: tuple[str, ...] | None = None
    not_roles: tuple[str, ...] | None = None
    ended: tuple[str, ...] | None = None
    kdump_loaded: bool | None = None

    def empty(self) -> bool:
        return self.roles is None and self.not_roles is None and self.ended is None and self.kdump_loaded is None

    def describe(self) -> str:
        parts = []
        if self.roles:
            parts.append("role " + "|".join(self.roles))
        if self.not_roles:
            parts.append("role not " + "|".join(self.not_roles))
        if self.ended:
            parts.append("ended by " + "|".join(self.ended))
        if self.kdump_loaded is not None:
            parts.append("kdump loaded" if self.kdump_loaded else "no kdump loaded")
        return ", ".join(parts) or "any boot"


@dataclass
class PlatformFilter:
    """A rule's ``platform:`` block: machine facts (``PLATFORM_FACTS``) it needs, excludes, or is surer with.

    A fact the capture does not show never excludes and never fails ``require`` (fragments rarely
    show the CPU); the finding then says which facts were not seen.
    """

    require: dict[str, tuple[str, ...]] = field(default_factory=dict)  # when shown, the fact must be one of
    exclude: dict[str, tuple[str, ...]] = field(default_factory=dict)  # when shown as one of these: no finding
    raises: dict[str, tuple[str, ...]] = field(default_factory=dict)  # when shown: confidence one step up

    def empty(self) -> bool:
        return not (self.require or self.exclude or self.raises)

    def names(self) -> list[str]:
        return list(dict.fromkeys([*self.require, *self.exclude, *self.raises]))


@dataclass
class Pattern:
    """One way a rule can match (an alternative of ``match``)."""

    scope: Scope = "boot"
    boot: BootFilter = field(default_factory=BootFilter)
    sequence: list[Step] = field(default_factory=list)
    all: list[Step] = field(default_factory=list)
    absent: list[Step] = field(default_factory=list)
    supporting: list[Step] = field(default_factory=list)
    caveats: list[str] = field(default_factory=list)
    label: str | None = None
    first: "Pattern | None" = None  # next_boot: the boot that panicked
    then: "Pattern | None" = None  # next_boot: the boot after it
    confidence: Confidence = "confirmed"  # how sure a finding of this alternative is
    confirm_with: str = ""  # what would make it confirmed (for likely and possible alternatives)
    line: int | None = None

    def required_steps(self) -> list[Step]:
        return self.sequence + self.all


@dataclass
class FactCheck:
    """One vmcore fact a rule checks (``vmcore.all[]``)."""

    path: str
    test: FieldTest
    label: str | None = None

    def describe(self) -> str:
        return f"{self.path} {self.test.describe()}"


@dataclass
class VmcoreSpec:
    """A rule's ``vmcore:`` block."""

    checks: list[FactCheck]
    required: bool = False  # the rule asserts nothing without vmcore facts
    line: int | None = None


@dataclass
class Rule:
    """One diagnosis: what to look for (``match``), what it means and what fixes it."""

    id: str
    title: str
    severity: Severity
    summary: str
    remedy: str
    match: list[Pattern]
    references: list[str] = field(default_factory=list)
    fixed_by: list[FixRef] = field(default_factory=list)
    unconfirmed: list[str] = field(default_factory=list)
    vmcore: VmcoreSpec | None = None
    report: str = "once"  # once per scope | each matching event | distinct titles per boot
    superseded_by: list[str] = field(default_factory=list)
    match_proves_unfixed: str | None = None  # why the matched text proves the fix is missing
    fix_boot: str = "last"  # whose release the fix verdict checks: the finding's boot, or the first of a next_boot pair
    tags: list[str] = field(default_factory=list)  # e.g. snp, iommu, kdump, generic
    override: bool = False  # replaces a rule of the same id from an earlier pack (override: true)
    overrides: str | None = None  # the file of the rule it replaced (set by load_rules)
    consequence_of: list[str] = field(default_factory=list)  # rule ids this failure follows from
    platform: PlatformFilter = field(default_factory=PlatformFilter)
    path: str | None = None
    line: int | None = None

    @property
    def needs_vmcore(self) -> bool:
        return bool(self.vmcore and self.vmcore.required)

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.id, "title": self.title, "severity": self.severity, "summary": self.summary,
            "remedy": self.remedy, "references": list(self.references),
            "fixed_by": [f.to_dict() for f in self.fixed_by], "unconfirmed": list(self.unconfirmed),
            "needs_vmcore": self.needs_vmcore, "tags": list(self.tags),
            "consequence_of": list(self.consequence_of), "path": self.path, "overrides": self.overrides,
        }
