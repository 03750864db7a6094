"""The library entry points: the same report object the CLI renders.

    >>> import triage
    >>> report = triage.analyze(["console.log"])
    >>> [f.rule_id for f in report.findings]
"""
from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from .engine import SEVERITY_RANK, Finding, explain, match
from .ingest import read_capture
from .model import SCHEMA_VERSION, Capture
from .quality import VMCORE_LOG_SUFFIX, QualityNote, assess
from .reader import Input
from .rules import Rule, load_rules

#: --fail-on levels in decreasing severity; "never" disables.
FAIL_LEVELS = ("critical", "error", "warning", "info")


@dataclass
class CrossCheck:
    """The vmcore compared with what the console printed."""

    check: str
    verdict: str  # match | mismatch | match-without-sme | unknown | info
    detail: str
    source: str | None = None
    line: int | None = None

    def to_dict(self) -> dict[str, Any]:
        return {"check": self.check, "verdict": self.verdict, "detail": self.detail, "source": self.source,
                "line": self.line}


@dataclass
class Report:
    """Everything one analysis found; rendered by triage.render, serialised by to_dict()."""

    captures: list[Capture]
    findings: list[Finding]
    quality: list[QualityNote]
    rules: list[Rule] = field(repr=False, default_factory=list)
    vmcore: Any = None  # triage.vmcore.VmcoreFacts when a vmcore was read
    vmcore_path: str | None = None
    cross_checks: list[CrossCheck] = field(default_factory=list)

    def fails(self, level: str) -> bool:
        """Whether any finding is at or above ``level`` (``never``: never)."""
        if level == "never":
            return False
        threshold = SEVERITY_RANK.get(level, 1)
        return any(SEVERITY_RANK.get(f.severity, 9) <= threshold for f in self.findings)

    @property
    def root_cause(self) -> Finding | None:
        def is_consequence(f: Finding) -> bool:  # "This is the consequence of SNP-KDUMP-CWB-TIMEOUT"
            text = " ".join(f.summary.split())
            return any(f"consequence of {other.rule_id}" in text for other in self.findings if other is not f)

        ranked = sorted(self.findings, key=lambda f: (SEVERITY_RANK.get(f.severity, 9), is_consequence(f),
                                                      not f.rule_id.startswith("SNP-")))
        return ranked[0] if ranked else None

    def to_dict(self) -> dict[str, Any]:
        return {
            "schema": SCHEMA_VERSION,
            "sources": [
                {"source": c.source, "total_lines": c.total_lines, "plain_lines": c.plain_lines,
                 "event_count": len(c.events), "formats": c.formats,
                 "boots": [b.to_dict() for b in c.boots]}
                for c in self.captures
            ],
            "findings": [f.to_dict() for f in self.findings],
            "root_cause": self.root_cause.rule_id if self.root_cause else None,
            "quality": [q.to_dict() for q in self.quality],
            "vmcore": None if self.vmcore is None else {
                "path": self.vmcore_path, "facts": self.vmcore.to_dict(),
                "cross_checks": [c.to_dict() for c in self.cross_checks]},
        }


def analyze(
    files: Sequence[str] | str,
    *,
    rule_dirs: Iterable[str] = (),
    vmcore: str | None = None,
    vmlinux: str | None = None,
    rules: Sequence[Rule] | None = None,
) -> Report:
    """Parse the captures, split boots, match the rule packs, assess the capture.

    ``files`` are paths (or '-' for stdin); ``rule_dirs`` add custom packs;
    ``vmcore`` (with ``vmlinux``) adds the crashed kernel's memory state.
    """
    if isinstance(files, str):
        files = [files]
    captures = [read_capture(Input.from_arg(f)) for f in files]
    rule_list = list(rules) if rules is not None else load_rules(rule_dirs)
    facts = None
    if vmcore is not None:
        facts = _inspect(vmcore, vmlinux, live=False)
    return _diagnose(captures, rule_list, facts, vmcore)


def analyze_vmcore(
    vmcore: str | None,
    *,
    vmlinux: str | None = None,
    live: bool = False,
    logs: Sequence[str] = (),
    rule_dirs: Iterable[str] = (),
) -> Report:
    """Read a vmcore (or the live kernel), diagnose its own kernel log and any console logs."""
    facts, log_text = _inspect(vmcore, vmlinux, live=live, with_log=True)
    name = f"{vmcore or 'live kernel'} {VMCORE_LOG_SUFFIX}"
    captures = [read_capture(Input.from_text(log_text, name))] if log_text else []
    captures += [read_capture(Input.from_arg(f)) for f in logs]
    return _diagnose(captures, load_rules(rule_dirs), facts, vmcore or "live")


def _inspect(path: str | None, vmlinux: str | None, live: bool, with_log: bool = False):
    from . import vmcore as vm

    prog = vm.open_program(path, vmlinux=vmlinux, live=live)
    facts = vm.inspect(prog, source=path or "live")
    if not with_log:
        return facts
    try:
        text = vm.kernel_log_text(prog)
    except Exception as exc:  # a log that cannot be read is a skipped check, not a failure
        facts.skip("kernel log", f"could not read the printk buffer: {exc}")
        text = ""
    return facts, text


def _diagnose(captures: list[Capture], rules: list[Rule], facts: Any, vmcore_path: str | None) -> Report:
    facts_dict = facts.to_dict() if facts is not None else None
    findings = match(captures, rules, vmcore=facts_dict)
    notes = assess(captures, findings, vmcore_given=facts is not None)
    report = Report(captures=captures, findings=findings, quality=notes, rules=rules, vmcore=facts,
                    vmcore_path=vmcore_path)
    if facts is not None:
        report.cross_checks = cross_check(facts, captures)
    return report


_CWB_IN_LOG = re.compile(r"(?:cmd_sem_paddr|cwwb_sem_paddr|CWB|paddr)\s*[=:]?\s*(0x[0-9a-fA-F]+)")


def cross_check(facts: Any, captures: Sequence[Capture]) -> list[CrossCheck]:
    """Memory of the crashed kernel against what the consoles printed."""
    from . import vmcore as vm

    checks: list[CrossCheck] = []
    release = facts.machine.release.value if facts.machine and facts.machine.release else None
    crashed = [b for c in captures for b in c.boots if b.role == "first" or b.ended == "panic"]
    if release and crashed:
        logged = {b.release for b in crashed if b.release}
        if logged:
            verdict = "match" if release in logged else "mismatch"
            checks.append(CrossCheck("release", verdict,
                                     f"vmcore kernel {release}; crashed kernel in the log: {', '.join(sorted(logged))}"))
    for capture in captures:
        for event in capture.events:
            if event.kind != "amd_vi":
                continue
            found = _CWB_IN_LOG.search(event.text[0])
            if not found:
                continue
            result = vm.compare_logged_cwb(facts, found.group(1))
            checks.append(CrossCheck("CWB address printed by the kdump kernel vs crashed kernel's EXCL_BASE",
                                     result.verdict, result.detail, capture.source, event.line))
    snp_on = facts.globals.amd_iommu_snp_en.value if facts.globals else None
    snp_findings = [f for f in _all_snp_kdump(captures)]
    if snp_on is False and snp_findings:
        checks.append(CrossCheck("SNP enforcement", "mismatch",
                                 "the log shows kdump completion-wait timeouts, but amd_iommu_snp_en is false in "
                                 "this vmcore: look for another cause (or a vmcore from a different crash)"))
    elif snp_on is not None:
        checks.append(CrossCheck("SNP enforcement", "info", f"amd_iommu_snp_en = {str(snp_on).lower()} in the vmcore"))
    return checks


def _all_snp_kdump(captures: Sequence[Capture]):
    for capture in captures:
        for event in capture.events:
            if event.message == "completion_wait_timeout":
                boot = capture.boots[event.boot]
                if boot.role == "kdump":
                    yield event


def why_not(report: Report, rule_id: str) -> str:
    """Which step of a rule did not match on the report's captures, in words."""
    rule = next((r for r in report.rules if r.id == rule_id), None)
    if rule is None:
        known = ", ".join(sorted(r.id for r in report.rules))
        raise KeyError(f"no rule {rule_id!r}; known rules: {known}")
    facts = report.vmcore.to_dict() if report.vmcore is not None else None
    return str(explain(report.captures, rule, vmcore=facts))
