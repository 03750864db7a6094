"""One verdict per fix per boot: what the log proves outranks what the version number suggests.

A rule whose matched text itself shows a fix is missing (``match_proves_unfixed``) and another rule
that checks the same commits against the release could disagree about one boot: the report would
say "not fixed" and "fixed" side by side.  The log's proof wins and the other finding says why.
"""
from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping, Sequence

from ..model import Finding, Verdict

__all__ = ["reconcile_fix_verdicts"]


def reconcile_fix_verdicts(findings: Sequence[Finding], fixes: Mapping[str, frozenset[str]]) -> list[Finding]:
    """Findings of one boot whose rules name the same fix commits (``fixes``: rule id -> commits) get one
    verdict (in place; linear in findings)."""

    def _commits(finding: Finding) -> frozenset[str]:
        return fixes.get(finding.rule_id, frozenset())

    by_boot: dict[tuple[str, int], list[Finding]] = defaultdict(list)
    for finding in findings:
        if finding.fix is not None:
            by_boot[(finding.source, finding.boot)].append(finding)
    for group in by_boot.values():
        proofs = [f for f in group if f.fix is not None and f.fix.proven and f.fix.status == "not fixed"]
        if not proofs:
            continue
        for finding in group:
            fix = finding.fix
            if fix is None or fix.status == "not fixed":
                continue
            proof = next((p for p in proofs if _commits(finding) & _commits(p)), None)
            if proof is None or proof.fix is None:
                continue
            finding.fix = Verdict(
                "not fixed", f"{proof.rule_id} shows in this boot's log that the fix is missing "
                f"({proof.fix.explanation}); the version check alone said {fix.status}: {fix.explanation}",
                fix.per_fix, proven=True)
    return list(findings)
