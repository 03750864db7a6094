"""Per-boot platform facts (grammars/platform.yaml) and the rules' platform blocks, on real captures."""
from __future__ import annotations

from pathlib import Path

import pytest

from triage.engine import match
from triage.errors import GrammarError, RuleError
from triage.ingest.pipeline import read_capture
from triage.ingest.platform import load_platform_table
from triage.report import analyze
from triage.report.analyze import explain_rule
from triage.rulepack import load_rules

ROOT = Path(__file__).resolve().parent.parent
REAL = ROOT / "tests" / "corpus" / "real"
FOUNDING = ROOT / "samples" / "lkml-2024-09-09-snp-kdump-thread.txt"


def _real(prefix: str) -> Path:
    (path,) = REAL.glob(f"{prefix}-*.log")
    return path


def _facts(prefix: str, boot: int) -> dict[str, object]:
    cap = read_capture(_real(prefix))
    return {name: fact.value for name, fact in cap.boots[boot].platform.items()}


@pytest.mark.parametrize("prefix, boot, expected", [
    # Dell R7425 kdump mail: "smpboot: CPU0: AMD EPYC 7601 32-Core Processor (family: 0x17, ...)"
    ("149", 1, {"cpu_vendor": "AMD", "board": "server", "cpu_family": 0x17, "iommu": "amd_vi", "arch": "x86_64"}),
    # ThinkPad with a Ryzen 7 PRO 4750U: a client part, never SNP
    ("107", 1, {"cpu_vendor": "AMD", "board": "client", "cpu_family": 0x17}),
    # HP EliteBook (Strix): the PMF TEE line says client before the CPU line does
    ("116", 0, {"cpu_vendor": "AMD", "board": "client", "cpu_family": 0x1a}),
    # Intel Meteor Lake dock thread: DMAR lines and the Intel CPU
    ("292", 0, {"cpu_vendor": "Intel", "iommu": "dmar"}),
    # AlmaLinux 9 aarch64 vmcore-dmesg: "Booting Linux on physical CPU 0x0000000000 [0x610f0000]"
    ("230", 0, {"arch": "arm64"}),
    # healthy SNP host (AMDSEV issue 159): "SEV-SNP: RMP table physical address", "SEV-SNP API:1.52"
    ("147", 0, {"cpu_vendor": "AMD", "snp": "true"}),
    # OVMF guest serial log: "Hypervisor detected: KVM"
    ("298", 0, {"hypervisor": "KVM"}),
])
def test_platform_facts_from_real_boots(prefix: str, boot: int, expected: dict[str, object]) -> None:
    facts = _facts(prefix, boot)
    assert {k: facts.get(k) for k in expected} == expected


def test_every_fact_names_the_line_that_showed_it() -> None:
    cap = read_capture(_real("149"))
    fact = cap.boots[1].platform["cpu_model"]
    lines = _real("149").read_text(encoding="utf-8", errors="replace").splitlines()
    assert "EPYC 7601" in lines[fact.line - 1] and "EPYC 7601" in fact.text


def test_the_cpu_name_outranks_what_other_messages_suggest(tmp_path: Path) -> None:
    # an emulated AMD IOMMU in a guest on an Intel host prints AMD-Vi lines before the CPU line
    amd_vi = "[    0.000000] AMD-Vi: Using global IVHD EFR:0x0, EFR2:0x0"
    intel = _line(_real("292"), "smpboot: CPU0: Intel")
    capture = tmp_path / "guest.log"
    capture.write_text(f"{amd_vi}\n{intel}\n", encoding="utf-8")
    facts = read_capture(capture).boots[0].platform
    assert facts["iommu"].value == "amd_vi" and facts["cpu_vendor"].value == "Intel"
    assert facts["cpu_vendor"].line == 2


def _line(path: Path, needle: str) -> str:
    return next(line for line in path.read_text(encoding="utf-8", errors="replace").splitlines() if needle in line)


def _with_first_line(tmp_path: Path, line: str) -> Path:
    out = tmp_path / "capture.log"
    out.write_text(line + "\n" + FOUNDING.read_text(encoding="utf-8"), encoding="utf-8")
    return out


def test_snp_findings_never_on_an_intel_machine(tmp_path: Path) -> None:
    """The founding thread's chain under an Intel CPU line: the CPU's own line outranks the AMD vendor
    guessed from the AMD-Vi lines; no SNP finding, and why-not names the line that decided."""
    capture = _with_first_line(tmp_path, _line(_real("292"), "smpboot: CPU0: Intel"))
    rules = load_rules()
    findings = match(read_capture(capture), rules)
    assert not [f for f in findings if "snp" in f.tags]
    trace = explain_rule(analyze([str(capture)]), "SNP-KDUMP-CWB-TIMEOUT")
    platform_steps = [s for a in trace.attempts for s in a.steps if s.group == "platform"]
    assert platform_steps and all(s.status == "failed" for s in platform_steps)
    assert "excluded on this platform: cpu_vendor Intel" in platform_steps[0].detail


def test_snp_findings_never_on_a_client_amd_machine(tmp_path: Path) -> None:
    capture = _with_first_line(tmp_path, _line(_real("107"), "smpboot: CPU0: AMD Ryzen"))
    report = analyze([str(capture)])
    assert not [f for f in report.findings if "snp" in f.tags]
    # the non-SNP explanation of the panic remains
    assert "IR-TIMER-PANIC" in {f.rule_id for f in report.findings}


def test_a_server_cpu_line_is_shown_as_the_deciding_fact(tmp_path: Path) -> None:
    capture = _with_first_line(tmp_path, _line(_real("149"), "smpboot: CPU0: AMD EPYC"))
    report = analyze([str(capture)])
    cwb = next(f for f in report.findings if f.rule_id == "SNP-KDUMP-CWB-TIMEOUT")
    assert any("board server" in p and "EPYC 7601" in p for p in cwb.platform)
    assert cwb.to_dict()["platform"] == cwb.platform


def test_snp_seen_raises_a_lone_symptom_to_likely(tmp_path: Path) -> None:
    panic_alone = ROOT / "rules" / "fixtures" / "IR-TIMER-PANIC" / "positive-panic-alone-lkml.log"
    before = analyze([str(panic_alone)])
    assert [f.confidence for f in before.findings if f.rule_id == "IR-TIMER-PANIC"] == ["possible"]
    rmp = _line(_real("147"), "SEV-SNP: RMP table physical address")
    capture = tmp_path / "with-snp.log"
    capture.write_text(rmp + "\n" + panic_alone.read_text(encoding="utf-8"), encoding="utf-8")
    after = analyze([str(capture)])
    (finding,) = [f for f in after.findings if f.rule_id == "IR-TIMER-PANIC"]
    assert finding.confidence == "likely"
    assert "possible from the log, likely with snp true" in finding.confidence_reason


@pytest.mark.parametrize("block, field, message", [
    ("platform: {exclude: {cpu_vendr: Intel}}", "platform.exclude.cpu_vendr", "did you mean 'cpu_vendor'"),
    ("platform: {exclude: {cpu_vendor: Intell}}", "platform.exclude.cpu_vendor", "'Intell' is not a value"),
    ("platform: {prefer: {snp: true}}", "platform.prefer", "unknown key"),
    ("platform: {raises: {snp: {equals: true}}}", "platform.raises.snp", "single value"),
])
def test_a_broken_platform_block_names_its_field(tmp_path: Path, block: str, field: str, message: str) -> None:
    (tmp_path / "X-RULE.yaml").write_text(
        "id: X-RULE\ntitle: t\nseverity: info\nsummary: s\nremedy: r\n" + block + "\n"
        "match:\n  sequence:\n    - kind: amd_vi\n      message: completion_wait_timeout\n", encoding="utf-8")
    with pytest.raises(RuleError) as err:
        load_rules([tmp_path], shipped=False)
    assert err.value.field == field and message in str(err.value)


def test_a_broken_platform_table_names_its_entry(tmp_path: Path) -> None:
    bad = tmp_path / "platform.yaml"
    bad.write_text("messages:\n  amd_vi: {iommu: vtd}\n", encoding="utf-8")
    with pytest.raises(GrammarError, match=r"platform.yaml: messages.amd_vi.iommu: 'vtd' is not one of"):
        load_platform_table(bad)
