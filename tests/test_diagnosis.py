"""The main job end to end: findings, evidence lines, fix verdicts, formats, exit codes, tooling."""
from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

import triage
from triage.report import analyze, why_not

from .conftest import FOUNDING, QEMU_LOG, ROOT

FIXTURE = Path(os.environ.get("SNP_TRIAGE_FIXTURE_DIR", Path.home() / ".cache/snp-triage/qemu-fixture"))


def run(*args: str, env: dict | None = None) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "triage", *args], capture_output=True, text=True, cwd=ROOT,
                          timeout=300, env={**os.environ, **(env or {})})


@pytest.fixture(scope="module")
def founding():
    return analyze([str(FOUNDING)])


def _by_rule(report):
    return {f.rule_id: f for f in report.findings}


def test_founding_thread_names_the_three_signatures(founding):
    found = _by_rule(founding)
    assert {"SNP-KDUMP-CWB-TIMEOUT", "SNP-KDUMP-IR-TIMER-PANIC", "SNP-KDUMP-CWB-DIRECTMAP-PF"} <= set(found)
    assert not [f for f in founding.findings if f.rule_id.startswith("GENERIC-")]  # superseded by the SNP rules


def test_cwb_timeout_evidence_and_verdict(founding):
    cwb = _by_rule(founding)["SNP-KDUMP-CWB-TIMEOUT"]
    assert cwb.boot == 1 and cwb.boot_role == "kdump" and cwb.severity == "critical"
    assert cwb.lines == [37, 63]  # "trying to copy translation structures", "Completion-Wait loop timed out"
    assert cwb.fix.status == "not fixed" and "f32fe7cb0198" in cwb.fix.explanation
    assert cwb.release == "6.11.0-rc6-next-20240903-snp-host-f2a41ff576cc+"
    assert cwb.vmcore is not None and cwb.vmcore.status == "not checked (no vmcore)"


def test_ir_timer_panic_and_directmap_pf_evidence(founding):
    found = _by_rule(founding)
    assert 24 in found["SNP-KDUMP-IR-TIMER-PANIC"].lines and 63 in found["SNP-KDUMP-IR-TIMER-PANIC"].lines
    assert found["SNP-KDUMP-IR-TIMER-PANIC"].fix.status == "not fixed"
    pf = found["SNP-KDUMP-CWB-DIRECTMAP-PF"]
    assert pf.boot == 2 and 121 in pf.lines and {118, 119} & set(pf.lines)


def test_root_cause_is_the_cwb_timeout(founding):
    assert founding.root_cause.rule_id == "SNP-KDUMP-CWB-TIMEOUT"  # the IR panic is its consequence


def test_healthy_kdump_has_no_snp_finding():
    report = analyze([str(QEMU_LOG)])
    # the deliberate sysrq crash and the kdump kernel saving its dump: nothing about SNP
    assert [f.rule_id for f in report.findings] == ["SYSRQ-CRASH", "KDUMP-DUMP-SAVED"]
    assert report.findings[0].lines == [403]


def test_healthy_epyc_boot_has_no_finding():
    from .conftest import shared

    log = next(shared("corpus", "real-dev").glob("038*.log"))
    # a healthy boot; its one fact worth saying: "ccp 0000:03:00.5: SEV: memory encryption not enabled by BIOS"
    findings = analyze([str(log)]).findings
    assert [(f.rule_id, f.severity) for f in findings] == [("SEV-NOT-ENABLED-BY-BIOS", "info")]


def test_quality_notes(founding):
    codes = {(q.code, q.boot) for q in founding.quality}
    assert ("kdump-banner-missing", 1) in codes and ("no-vmcore", None) in codes


def test_json_report_schema():
    result = run(str(FOUNDING), "--format", "json")
    assert result.returncode == 1
    data = json.loads(result.stdout)
    assert data["schema"] == 3 and data["root_cause"] == "SNP-KDUMP-CWB-TIMEOUT"
    assert [b["role"] for b in data["sources"][0]["boots"]] == ["unknown", "kdump", "kdump"]
    cwb = next(f for f in data["findings"] if f["rule_id"] == "SNP-KDUMP-CWB-TIMEOUT")
    assert cwb["fix"]["status"] == "not fixed" and cwb["boot"] == 1
    assert [e["first_line"] for e in cwb["evidence"] if e["role"] == "required"] == [37, 63]


def test_markdown_report():
    result = run(str(FOUNDING), "--format", "markdown")
    assert result.returncode == 1
    assert result.stdout.startswith("# snp-triage report") and "### CRITICAL `SNP-KDUMP-CWB-TIMEOUT`" in result.stdout
    assert "## Capture quality" in result.stdout


def test_rich_report_without_colour_when_piped():
    result = run(str(FOUNDING))
    assert result.returncode == 1 and "\x1b[" not in result.stdout
    assert "SNP-KDUMP-CWB-TIMEOUT" in result.stdout and "not fixed" in result.stdout


# a kdump test that worked (a deliberate sysrq crash, the dump saved): info findings only
@pytest.mark.parametrize("fail_on, code", [("error", 0), ("warning", 0), ("critical", 0), ("never", 0), ("info", 1)])
def test_fail_on_levels(fail_on, code):
    assert run(str(QEMU_LOG), "--format", "json", "--fail-on", fail_on).returncode == code


def test_why_not_names_the_missing_step():
    result = run(str(QEMU_LOG), "--why-not", "SNP-KDUMP-CWB-TIMEOUT")
    # exit 1: the rule did not match (0 when it does); --format json gives the explanation as data
    assert result.returncode == 1 and "did not match" in result.stdout and "missing" in result.stdout
    as_json = json.loads(run(str(QEMU_LOG), "--why-not", "SNP-KDUMP-CWB-TIMEOUT", "--format", "json").stdout)
    assert as_json["matched"] is False and as_json["best_attempts"][0]["steps"]
    matched = run(str(QEMU_LOG), "--why-not", "GENERIC-PANIC")
    assert matched.returncode == 0 and "MATCHED" in matched.stdout and "{panic_message}" not in matched.stdout
    unknown = run(str(QEMU_LOG), "--why-not", "NO-SUCH-RULE")
    assert unknown.returncode == 2 and "NO-SUCH-RULE" in unknown.stderr and "Traceback" not in unknown.stderr


def test_why_not_library():
    report = analyze([str(QEMU_LOG)])
    assert "needs vmcore" in why_not(report, "SNP-PANIC-NOTIFIER-SKIPPED").replace("needs vmcore facts", "needs vmcore")


def test_custom_rule_pack(tmp_path):
    pack = tmp_path / "pack"
    pack.mkdir()
    (pack / "SITE-TIMER-CHECK.yaml").write_text(
        "id: SITE-TIMER-CHECK\ntitle: IO-APIC timer check seen\nseverity: warning\n"
        "summary: The kernel checked the IO-APIC timer.\nremedy: Nothing; an example of a site rule.\n"
        "match:\n  sequence:\n    - kind: kernel_message\n      message: timer_check\n")
    data = json.loads(run(str(QEMU_LOG), "--format", "json", "--rules", str(pack)).stdout)
    site = [f for f in data["findings"] if f["rule_id"] == "SITE-TIMER-CHECK"]
    assert [(f["boot"], f["evidence"][0]["first_line"]) for f in site] == [(0, 270), (1, 589)] or len(site) == 2


def test_broken_rule_file_names_file_line_and_field(tmp_path):
    pack = tmp_path / "pack"
    pack.mkdir()
    (pack / "BAD.yaml").write_text("id: BAD\ntitle: x\nseverity: urgent\nsummary: s\nremedy: r\nmatch:\n  sequence: []\n")
    result = run(str(QEMU_LOG), "--rules", str(pack))
    assert result.returncode == 2 and "Traceback" not in result.stderr
    assert "BAD.yaml" in result.stderr and ":3" in result.stderr and "severity" in result.stderr


def test_rules_tooling():
    listing = run("rules", "list")
    assert listing.returncode == 0 and "SNP-KDUMP-CWB-TIMEOUT" in listing.stdout and "{" not in listing.stdout
    assert run("rules", "show", "SNP-KDUMP-CWB-TIMEOUT").stdout.count("id: SNP-KDUMP-CWB-TIMEOUT") == 1
    assert run("rules", "show", "NOPE").returncode == 2
    lint = run("rules", "lint")
    assert lint.returncode == 0 and "0 error(s)" in lint.stdout
    test = run("rules", "test")
    assert test.returncode == 0 and " 0 failed" in test.stdout


def test_library_api_matches_the_cli():
    report = triage.analyze([str(FOUNDING)])
    cli = json.loads(run(str(FOUNDING), "--format", "json").stdout)
    assert [f.rule_id for f in report.findings] == [f["rule_id"] for f in cli["findings"]]


def test_vmcore_errors_are_one_line(tmp_path):
    junk = tmp_path / "vmcore"
    junk.write_bytes(b"not a dump at all" * 100)
    result = run("vmcore", str(junk))
    assert result.returncode == 2 and str(junk) in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1 and "Traceback" not in result.stderr
    assert run("vmcore").returncode == 2


@pytest.mark.qemu
def test_vmcore_report_on_the_qemu_fixture():
    vmcore, vmlinux = FIXTURE / "vmcore", FIXTURE / "vmlinux"
    if not (vmcore.exists() and vmlinux.exists()):
        pytest.skip(f"QEMU fixture not built (run tests/qemu/build-fixture.sh; looked in {FIXTURE})")
    result = run("vmcore", str(vmcore), "--vmlinux", str(vmlinux), "--format", "json")
    assert result.returncode == 1, result.stderr  # GENERIC-PANIC is an error
    data = json.loads(result.stdout)
    iommu = data["vmcore"]["facts"]["iommus"][0]
    assert iommu["cmd_sem_phys"]["value"] == iommu["excl_base"]["value"]
    assert iommu["completion_waits"][0]["store_address"] == iommu["cmd_sem_phys"]["value"]
    assert data["vmcore"]["facts"]["globals"]["amd_iommu_snp_en"]["value"] is False
    assert [f["rule_id"] for f in data["findings"]] == ["GENERIC-PANIC"]
    assert "sysrq triggered crash" in data["findings"][0]["title"]


def test_confidence_is_declared_and_shown():
    """Schema 2: every finding says how sure it is and, short of confirmed, what would confirm it."""
    report = analyze([str(FOUNDING)])
    by_rule = {f.rule_id: f for f in report.findings}
    assert by_rule["SNP-KDUMP-CWB-TIMEOUT"].confidence == "confirmed"
    assert by_rule["SNP-KDUMP-CWB-TIMEOUT"].to_confirm == ""
    ir = by_rule["SNP-KDUMP-IR-TIMER-PANIC"]  # the mail quotes the panic apart from the timeouts
    assert ir.confidence == "likely" and "in one piece" in ir.to_confirm
    data = report.to_dict()
    assert {f["confidence"] for f in data["findings"]} <= {"confirmed", "likely", "possible"}
    text = run(str(FOUNDING), "--fail-on", "never").stdout
    assert "(likely)" in text and "to confirm" in text


def test_the_canonical_fragment_without_its_head_is_named(tmp_path):
    """A real excerpt (AMDESE/linux PR 5): copied DEV table, twelve timeouts, the IR timer panic, no first lines."""
    fixture = ROOT / "rules" / "fixtures" / "SNP-KDUMP-IR-TIMER-PANIC" / "positive-headless-amdese-pr5.log"
    report = analyze([str(fixture)])
    by_rule = {f.rule_id: f for f in report.findings}
    assert by_rule["SNP-KDUMP-IR-TIMER-PANIC"].confidence == "likely"
    assert "GENERIC-PANIC" not in by_rule and "IR-TIMER-PANIC" not in by_rule
    alone = tmp_path / "panic.log"
    alone.write_bytes(fixture.read_bytes().splitlines(keepends=True)[-1])  # the panic line alone
    only = analyze([str(alone)])
    assert [(f.rule_id, f.confidence) for f in only.findings] == [("IR-TIMER-PANIC", "possible")]
    # a possible finding counts one level lower for --fail-on: critical -> error
    assert only.fails("error") and not only.fails("critical")


def test_the_same_file_given_twice_is_read_once(tmp_path):
    link = tmp_path / "again.log"
    link.symlink_to(FOUNDING)
    report = analyze([str(FOUNDING), str(FOUNDING), str(link)])
    assert len(report.captures) == 1
    assert [f.rule_id for f in report.findings] == [f.rule_id for f in analyze([str(FOUNDING)]).findings]
