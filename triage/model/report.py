"""What one analysis hands to people and tools: the Report and its parts."""
from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any, Literal

from .capture import Capture
from .findings import Finding
from .vmcore import VmcoreFacts
from .vocabulary import CONFIDENCE_RANK, SCHEMA_VERSION, SEVERITIES, SEVERITY_RANK

#: How the vmcore compares with what a console printed.
CrossVerdict = Literal["match", "mismatch", "match-without-sme", "unknown", "info"]


@dataclass
class CrossCheck:
    """The vmcore compared with what the console printed."""

    check: str
    verdict: CrossVerdict
    detail: str
    source: str | None = None
    line: int | None = None

    def to_dict(self) -> dict[str, Any]:
        return {"check": self.check, "verdict": self.verdict, "detail": self.detail, "source": self.source,
                "line": self.line}


@dataclass
class QualityNote:
    """One gap in the capture, with the evidence and the next step."""

    code: str  # stable id, e.g. "first-kernel-missing"
    severity: Literal["warning", "info"]
    source: str
    boot: int | None
    message: str
    collect: str  # what to collect next

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass
class CaptureSetSummary:
    """One input path that was a crash directory or a sosreport, as the report shows it."""

    kind: str  # triage.model.vocabulary.CaptureSetKind
    root: str
    host: str | None
    logs: list[str]  # display names, in the order they were read
    dumps: list[str]
    dump_read: str | None  # the dump the vmcore stage read (None: none, or --vmcore given)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass
class Report:
    """Everything one analysis found; rendered by triage.report.render, serialised by to_dict()."""

    captures: list[Capture]
    findings: list[Finding]
    quality: list[QualityNote]
    rules: list[Any] = field(repr=False, default_factory=list)  # the triage.rulepack.Rule objects matched
    vmcore: VmcoreFacts | None = None  # when a vmcore was read
    vmcore_path: str | None = None
    vmcore_error: str | None = None  # a vmcore was given but could not be read (the logs were still diagnosed)
    cross_checks: list[CrossCheck] = field(default_factory=list)
    capture_sets: list[CaptureSetSummary] = field(default_factory=list)  # crash directories, sosreports

    @staticmethod
    def effective_severity(finding: Finding) -> str:
        """The severity --fail-on counts: a ``possible`` finding one level lower than its rule's."""
        rank = SEVERITY_RANK.get(finding.severity, len(SEVERITIES) - 1)
        if finding.confidence == "possible":
            rank = min(rank + 1, len(SEVERITIES) - 1)
        return SEVERITIES[rank]

    def fails(self, level: str) -> bool:
        """Whether any finding is at or above ``level`` (``never``: never); see effective_severity."""
        if level == "never":
            return False
        threshold = SEVERITY_RANK.get(level, 1)
        return any(SEVERITY_RANK[self.effective_severity(f)] <= threshold for f in self.findings)

    def _rank(self) -> Any:
        found = {f.rule_id for f in self.findings}

        def rank(f: Finding) -> tuple[bool, int, bool, int, bool]:
            consequence = any(other in found and other != f.rule_id for other in f.consequence_of)
            return (f.confidence == "possible", SEVERITY_RANK.get(f.severity, 9), consequence,
                    CONFIDENCE_RANK.get(f.confidence, 9), "snp" not in f.tags)

        return rank

    @property
    def root_cause(self) -> Finding | None:
        """The most severe finding that is not a declared consequence of another one found.

        ``possible`` findings come after every ``confirmed`` and ``likely`` one; among equals,
        confirmed before likely, then findings tagged ``snp`` (the failures this tool exists
        for).  Linear in the number of findings.
        """
        return min(self.findings, key=self._rank()) if self.findings else None

    def ranked_findings(self) -> list[Finding]:
        """Findings in the order a reader wants them: by the root-cause ranking, then where they are."""
        rank = self._rank()
        return sorted(self.findings, key=lambda f: (rank(f), f.source, f.boot, f.lines[:1], f.rule_id))

    @property
    def empty(self) -> bool:
        """Every input was empty: there was nothing to diagnose."""
        return bool(self.captures) and all(c.empty for c in self.captures)

    @property
    def input_errors(self) -> list[str]:
        """Inputs read only in part (one line each)."""
        return [c.input_error for c in self.captures if c.input_error]

    def _vmcore_dict(self) -> dict[str, Any] | None:
        if self.vmcore_error is not None:
            return {"path": self.vmcore_path, "error": self.vmcore_error, "facts": None, "cross_checks": []}
        if self.vmcore is None:
            return None
        return {"path": self.vmcore_path, "facts": self.vmcore.to_dict(),
                "cross_checks": [c.to_dict() for c in self.cross_checks]}

    def to_dict(self, boots: bool = True, findings: bool = True) -> dict[str, Any]:
        """The JSON document (``boots``/``findings`` False: left out, for writers that stream them)."""
        root = self.root_cause
        return {
            "schema": SCHEMA_VERSION,
            "sources": [
                {"source": c.source, "total_lines": c.total_lines, "plain_lines": c.plain_lines,
                 "event_count": c.event_total, "formats": c.formats, "input_error": c.input_error,
                 "boots": [b.to_dict() for b in c.boots] if boots else []}
                for c in self.captures
            ],
            "findings": [f.to_dict() for f in self.findings] if findings else [],
            "root_cause": root.rule_id if root else None,
            "quality": [q.to_dict() for q in self.quality],
            "vmcore": self._vmcore_dict(),
            "capture_sets": [s.to_dict() for s in self.capture_sets],
        }
