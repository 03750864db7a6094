"""Rule texts: placeholders are checked by lint against what the grammars produce, and [[...]] drops
the parts whose fields a report did not print."""
from __future__ import annotations

from pathlib import Path

from triage.ingest import vocabulary
from triage.report import analyze
from triage.rulepack import lint

REAL = Path(__file__).resolve().parent / "corpus" / "real"

_RULE = """id: X-LOCKUP
title: "{title}"
severity: info
summary: "{summary}"
remedy: r
match:
  sequence:
    - label: lockup
      kind: lockup
"""


def _lint(tmp_path: Path, summary: str) -> list[str]:
    (tmp_path / "X-LOCKUP.yaml").write_text(_RULE.replace("{summary}", summary), encoding="utf-8")
    return [str(p) for p in lint([tmp_path], fixtures=False, vocabulary=vocabulary()) if p.severity == "error"]


def test_lint_refuses_a_placeholder_no_grammar_fills(tmp_path: Path) -> None:
    (problem,) = _lint(tmp_path, "stuck: {lockup_type}")
    assert "summary: {lockup_type}: no grammar gives events of step 'lockup' a field 'lockup_type'" in problem
    assert "did you mean 'lockup_cpu'" in problem


def test_lint_refuses_a_label_the_alternative_does_not_have(tmp_path: Path) -> None:
    (problem,) = _lint(tmp_path, "{panic.panic_message}")
    assert "alternative 1 has no step labelled 'panic'" in problem


def test_lint_accepts_fields_of_the_step(tmp_path: Path) -> None:
    assert _lint(tmp_path, "[[CPU {lockup_cpu}]] {stuck_seconds} {lockup.comm}") == []


def _lockup_summary(path: Path) -> str:
    report = analyze([str(path)])
    (finding,) = [f for f in report.findings if f.rule_id == "GENERIC-LOCKUP"][:1]
    return " ".join(finding.summary.split())


def test_a_soft_lockup_names_cpu_time_and_task() -> None:
    # RHEL 6 vmcore-dmesg: "BUG: soft lockup - CPU#20 stuck for 67s! [libvirtd:21321]"
    summary = _lockup_summary(next(REAL.glob("262-*.log")))
    assert "on CPU 20, stuck for 67 s, in ebt_arp_mt; task libvirtd (PID 21321)" in summary
    assert "unknown" not in summary


def test_a_hung_task_leaves_out_the_cpu_it_never_printed() -> None:
    path = next(p for p in sorted(REAL.glob("*.log"))
                if "blocked for more than" in p.read_text(encoding="utf-8", errors="replace"))
    summary = _lockup_summary(path)
    assert "stuck for" in summary and "on CPU" not in summary and "unknown" not in summary
