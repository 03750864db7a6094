"""What the engine finds: findings, their evidence, fix verdicts and vmcore results."""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal, Mapping

from .capture import Event
from .vocabulary import VMCORE_NOT_CHECKED, BootRole, Confidence, FixStatus, Severity, VmcoreStatus

#: required steps prove the finding; supporting ones add context
EvidenceRole = Literal["required", "supporting"]


@dataclass(frozen=True)
class FixRef:
    """One upstream commit that fixes a signature (a rule's ``fixed_by`` entry)."""

    commit: str | None
    subject: str
    mainline: str | None = None  # first mainline release, "6.18" or "6.18-rc3"
    stable: tuple[str, ...] = ()  # first stable release per branch known to carry it
    unconfirmed: bool = False  # the release numbers were not checked against tags

    @classmethod
    def from_any(cls, value: "FixRef | Mapping[str, Any]") -> "FixRef":
        if isinstance(value, FixRef):
            return value
        return cls(commit=value.get("commit"), subject=value.get("subject", ""),
                   mainline=value.get("mainline"), stable=tuple(value.get("stable") or ()),
                   unconfirmed=bool(value.get("unconfirmed", False)))

    @property
    def name(self) -> str:
        if self.commit:
            return f'{self.commit[:12]} ("{self.subject}")' if self.subject else self.commit[:12]
        return f'"{self.subject}"'

    def to_dict(self) -> dict[str, Any]:
        return {"commit": self.commit, "subject": self.subject, "mainline": self.mainline,
                "stable": list(self.stable), "unconfirmed": self.unconfirmed}


@dataclass(frozen=True)
class Verdict:
    """Whether a kernel carries the fixes of a signature, and why the tool thinks so."""

    status: FixStatus
    explanation: str
    per_fix: tuple[tuple[str, str, str], ...] = field(default=())  # (commit/subject, status, why)
    proven: bool = False  # the log itself shows the fix is missing (a rule's match_proves_unfixed)

    def to_dict(self) -> dict[str, Any]:
        return {"status": self.status, "explanation": self.explanation, "proven": self.proven,
                "per_fix": [{"fix": f, "status": s, "why": w} for f, s, w in self.per_fix]}

    def __str__(self) -> str:
        return f"{self.status}: {self.explanation}"



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
    role: EvidenceRole
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
    """What the vmcore facts said about one finding's rule."""

    status: VmcoreStatus
    checks: list[dict[str, Any]] = field(default_factory=list)  # fact, expected, actual, result

    def to_dict(self) -> dict[str, Any]:
        return {"status": self.status, "checks": self.checks}

    def __str__(self) -> str:
        if self.status == VMCORE_NOT_CHECKED and self.checks:
            # what would be checked, as a requirement: never printed as if the values were read
            wanted = " and ".join(f"{c['fact']} {c['expected']}" for c in self.checks)
            return f"no vmcore given; the crashed kernel's vmcore would confirm this if {wanted}"
        return self.status


@dataclass
class Finding:
    """One rule matched: where, on which evidence, what it means and whether the kernel is fixed."""

    rule_id: str
    title: str
    severity: Severity
    source: str
    boot: int  # the boot the finding is about (the later one for next_boot)
    boots: list[int]
    boot_role: BootRole
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
    confidence: Confidence = "confirmed"
    confidence_reason: str = ""  # why this confidence: the alternative that matched
    to_confirm: str = ""  # what would make it confirmed (a line, a log, a vmcore), when it is not
    tags: list[str] = field(default_factory=list)  # the rule's tags (snp, iommu, kdump, generic)
    consequence_of: list[str] = field(default_factory=list)  # rule ids this finding follows from
    platform: list[str] = field(default_factory=list)  # the machine facts its rule's platform block looked at

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
            "needs_vmcore": self.needs_vmcore, "confidence": self.confidence,
            "confidence_reason": self.confidence_reason, "to_confirm": self.to_confirm,
            "tags": self.tags, "consequence_of": self.consequence_of, "platform": self.platform,
        }
