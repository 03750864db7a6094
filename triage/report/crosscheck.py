"""The crashed kernel's memory (vmcore facts) against what the consoles printed."""
from __future__ import annotations

from collections.abc import Sequence

from ..model import Capture, CrossCheck, VmcoreFacts

__all__ = ["cross_check"]


def cross_check(facts: VmcoreFacts, captures: Sequence[Capture]) -> list[CrossCheck]:
    """Memory of the crashed kernel against what the consoles printed."""
    from .. import vmcore as vm

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
            logged = vm.parse_logged_cwb(event.text[0], bare=False)
            if logged is None:
                continue
            result = vm.compare_logged_cwb(facts, logged)
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
