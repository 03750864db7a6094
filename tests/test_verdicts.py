"""One verdict per fix per boot: the log's proof outranks the version check (real capture)."""
from __future__ import annotations

from pathlib import Path

from triage.report import analyze

REAL = Path(__file__).resolve().parent / "corpus" / "real"


def test_two_findings_of_one_boot_agree_on_the_same_fixes() -> None:
    # AMDESE linux PR 5: a backport's kdump kernel prints the pre-38e5f33ee359 wording, no release line
    report = analyze([str(next(REAL.glob("127-*.log")))])
    verdicts = {f.rule_id: f.fix for f in report.findings if f.fix is not None}
    cwb, panic = verdicts["SNP-KDUMP-CWB-TIMEOUT"], verdicts["SNP-KDUMP-IR-TIMER-PANIC"]
    assert cwb.status == panic.status == "not fixed" and cwb.proven and panic.proven
    assert panic.explanation.startswith("SNP-KDUMP-CWB-TIMEOUT shows in this boot's log")
    assert "the version check alone said unknown" in panic.explanation
    assert panic.to_dict()["proven"] is True
