"""What a preflight run produces: the files it read or could not read, the facts, the checks, the answer.

Plain dataclasses with ``to_dict()``; the words a preflight verdict may take
live here (they are preflight's own: the diagnosis has no "risk"). The JSON
follows the report's conventions (README, "JSON"): every document carries
``"schema"`` (the project's JSON schema version) and says what it is in
``"kind": "preflight"``.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal, get_args

from ..model import SCHEMA_VERSION

__all__ = ["CheckVerdict", "CHECK_VERDICTS", "FAIL_ON", "Answer", "ANSWERS", "ReadStatus", "READ_STATUSES",
           "SourceRecord", "Fact", "Check", "Overall", "PreflightReport", "DOCUMENT_KIND"]

#: one check's verdict: ok; risk (may fail, depending on what runs at panic time or on an
#: unknown backport); fails (will fail as things stand); unknown (a fact it needs is missing);
#: not applicable (nothing to check: no SNP, no AMD host)
CheckVerdict = Literal["ok", "risk", "fails", "unknown", "not applicable"]
CHECK_VERDICTS: tuple[str, ...] = get_args(CheckVerdict)
#: --fail-on choices, most severe first: exit 1 when a check is at or above it
FAIL_ON: tuple[str, ...] = ("fails", "risk", "unknown", "never")
_RANK = {"fails": 0, "risk": 1, "unknown": 2, "ok": 3, "not applicable": 4}

#: the overall answer
Answer = Literal["kdump will work", "will fail", "at risk", "unknown", "not applicable"]
ANSWERS: tuple[str, ...] = get_args(Answer)

#: what happened when a file was looked for
ReadStatus = Literal["read", "missing", "permission", "not applicable", "unreadable"]
READ_STATUSES: tuple[str, ...] = get_args(ReadStatus)

#: the document's ``kind`` in JSON
DOCUMENT_KIND = "preflight"


@dataclass(frozen=True)
class SourceRecord:
    """One file (or command output) preflight looked for, and what came of it."""

    path: str  # as on the host: "/proc/cmdline", not the --root copy's path
    status: ReadStatus
    why: str = ""  # for anything but "read": missing / permission denied / not applicable because ...

    def to_dict(self) -> dict[str, Any]:
        return {"path": self.path, "status": self.status, "why": self.why}


@dataclass(frozen=True)
class Fact:
    """One fact about the host, with the file (and line) it came from."""

    name: str  # stable id: "cpu.vendor", "kexec.crash_loaded", "crash_kernel.release"
    value: Any
    source: str  # "/proc/cpuinfo", "/var/log/dmesg:12", "derived: ..."

    def to_dict(self) -> dict[str, Any]:
        return {"name": self.name, "value": self.value, "source": self.source}


@dataclass
class Check:
    """One question about the host's kdump, answered."""

    id: str  # stable: "snp-enabled", "crash-kernel-loaded", ...
    title: str
    verdict: CheckVerdict
    reason: str
    fix: str = ""  # what to do about it (empty when ok)
    signature: str | None = None  # the rule id (or preflight's own name) of the failure it predicts
    sources: list[str] = field(default_factory=list)  # the facts' files
    fix_verdict: dict[str, Any] | None = None  # the fixes table's verdict (Verdict.to_dict()), naming its branch rule
    collect: str = ""  # for unknown: what to collect
    because: str = ""  # the decisive fact in a few words, for the overall answer (default: the reason)

    @property
    def rank(self) -> int:
        return _RANK[self.verdict]

    def to_dict(self) -> dict[str, Any]:
        return {"schema": SCHEMA_VERSION, "id": self.id, "title": self.title, "verdict": self.verdict,
                "reason": self.reason, "fix": self.fix, "signature": self.signature, "sources": list(self.sources),
                "fix_verdict": self.fix_verdict, "collect": self.collect, "because": self.because or self.reason}


@dataclass
class Overall:
    """The one-line answer: "kdump will work", "will fail: SIG because FACT", "unknown: collect ..."."""

    answer: Answer
    text: str
    signature: str | None = None
    collect: list[str] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return {"answer": self.answer, "text": self.text, "signature": self.signature, "collect": list(self.collect)}


@dataclass
class PreflightReport:
    """Everything one preflight run found."""

    root: str
    facts: list[Fact]
    sources: list[SourceRecord]
    checks: list[Check]
    overall: Overall
    unconfirmed: list[str] = field(default_factory=list)  # facts the checks rest on that the reference marks [I]

    def fact(self, name: str, default: Any = None) -> Any:
        return next((f.value for f in self.facts if f.name == name), default)

    def fails(self, level: str) -> bool:
        """Whether a check's verdict is at or above ``level`` (fails / risk / unknown; never: never)."""
        if level == "never":
            return False
        threshold = _RANK[level]
        return any(c.rank <= threshold for c in self.checks)

    @property
    def unread(self) -> list[SourceRecord]:
        return [s for s in self.sources if s.status != "read"]

    def to_dict(self) -> dict[str, Any]:
        return {
            "schema": SCHEMA_VERSION, "kind": DOCUMENT_KIND, "root": self.root,
            "overall": self.overall.to_dict(),
            "checks": [c.to_dict() for c in self.checks],
            "facts": [f.to_dict() for f in self.facts],
            "sources": [s.to_dict() for s in self.sources],
            "unconfirmed": list(self.unconfirmed),
        }
