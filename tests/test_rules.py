"""Rule files: schema errors with file/line/field, regex safety, lint, the shipped pack and its fixtures."""
from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from triage.engine import run_fixtures
from triage.ingest import vocabulary
from triage.rulepack import (REGEX_LINE_LIMIT, RuleError, check_regex, lint, load_rule_file, load_rules,
                             shipped_rules_dir)

SHIPPED = shipped_rules_dir()

GOOD = """\
id: TEST-RULE
title: "a test rule"
severity: warning
summary: "why"
remedy: "what to do"
match:
  sequence:
    - label: first
      kind: amd_vi
      message: completion_wait_timeout
"""


def write(tmp_path: Path, text: str, name: str = "TEST-RULE.yaml") -> Path:
    path = tmp_path / name
    path.write_text(textwrap.dedent(text))
    return path


def error_of(tmp_path: Path, text: str) -> RuleError:
    path = write(tmp_path, text)
    with pytest.raises(RuleError) as info:
        load_rule_file(path)
    err = info.value
    assert err.file == str(path)
    assert str(path) in str(err)
    return err


# ---------------------------------------------------------------- schema errors


def test_good_rule_loads(tmp_path):
    (rule,) = load_rule_file(write(tmp_path, GOOD))
    assert rule.id == "TEST-RULE" and rule.severity == "warning"
    assert rule.match[0].sequence[0].conditions[0].messages == ("completion_wait_timeout",)


def test_broken_yaml_names_line(tmp_path):
    err = error_of(tmp_path, GOOD + "  bad: [unclosed\n")
    assert "broken YAML" in err.message
    assert err.line is not None and err.line >= 11


def test_unknown_key_names_file_line_field(tmp_path):
    text = GOOD.replace("remedy:", "remedyy: x\nremedy:")
    err = error_of(tmp_path, text)
    assert err.field == "remedyy"
    assert err.line == 5
    assert "unknown key" in err.message and "did you mean 'remedy'" in err.message
    assert f"{err.file}:5: remedyy:" in str(err)


def test_unknown_key_in_step(tmp_path):
    text = GOOD.replace("      message: completion_wait_timeout", "      mesage: completion_wait_timeout")
    err = error_of(tmp_path, text)
    assert err.field == "match.sequence[0].mesage"
    assert err.line == 10


def test_bad_severity(tmp_path):
    err = error_of(tmp_path, GOOD.replace("severity: warning", "severity: fatal"))
    assert err.field == "severity" and err.line == 3
    assert "critical, error, warning, info" in err.message


def test_missing_required_key(tmp_path):
    err = error_of(tmp_path, GOOD.replace('remedy: "what to do"\n', ""))
    assert err.field == "remedy" and "missing" in err.message


def test_missing_kind(tmp_path):
    err = error_of(tmp_path, GOOD.replace("      kind: amd_vi\n", ""))
    assert err.field == "match.sequence[0].kind"


def test_bad_regex(tmp_path):
    text = GOOD + "      regex: 'timed (out'\n"
    err = error_of(tmp_path, text)
    assert err.field == "match.sequence[0].regex" and err.line == 11
    assert "invalid regex" in err.message


def test_nested_quantifier_regex_rejected(tmp_path):
    text = GOOD + "      regex: '(a+)+$'\n"
    err = error_of(tmp_path, text)
    assert err.field == "match.sequence[0].regex" and err.line == 11
    assert "nested quantifier" in err.message


def test_regex_in_field_comparison_checked(tmp_path):
    text = GOOD + "      fields:\n        bdf: {matches: '(\\w+\\s?)*$'}\n"
    err = error_of(tmp_path, text)
    assert err.field == "match.sequence[0].fields.bdf.matches"
    assert err.line == 12


def test_duplicate_key(tmp_path):
    err = error_of(tmp_path, GOOD.replace('title: "a test rule"', 'title: "a"\ntitle: "b"'))
    assert err.field == "title" and "duplicate" in err.message


def test_bad_id_and_commit_and_release(tmp_path):
    assert error_of(tmp_path, GOOD.replace("id: TEST-RULE", "id: test rule")).field == "id"
    fixed = GOOD + "fixed_by:\n  - commit: not-hex\n    subject: x\n"
    assert error_of(tmp_path, fixed).field == "fixed_by[0].commit"
    fixed = GOOD + "fixed_by:\n  - commit: abcdef123456\n    subject: x\n    mainline: 6.18.3\n"
    assert error_of(tmp_path, fixed).field == "fixed_by[0].mainline"
    fixed = GOOD + "fixed_by:\n  - commit: abcdef123456\n    subject: x\n    stable: [6.18-rc1]\n"
    assert error_of(tmp_path, fixed).field == "fixed_by[0].stable"


def test_scope_errors(tmp_path):
    err = error_of(tmp_path, GOOD.replace("  sequence:", "  scope: everywhere\n  sequence:"))
    assert err.field == "match.scope"
    err = error_of(tmp_path, GOOD.replace("  sequence:", "  scope: next_boot\n  sequence:"))
    assert err.field == "match.first"
    text = GOOD + "  absent:\n    - kind: amd_vi\n      message: reuse_cwb\n      after: nosuchstep\n"
    err = error_of(tmp_path, text)
    assert "after/before" in err.message


def test_within_needs_count_and_bad_comparator(tmp_path):
    err = error_of(tmp_path, GOOD + "      within: 5\n")
    assert err.field == "match.sequence[0].within"
    err = error_of(tmp_path, GOOD + "      fields:\n        bdf: {aproximately: 3}\n")
    assert err.field == "match.sequence[0].fields.bdf.aproximately"


def test_vmcore_block(tmp_path):
    text = GOOD + "vmcore:\n  required: true\n  all:\n    - fact: psp.snp_initialized\n      equals: true\n"
    (rule,) = load_rule_file(write(tmp_path, text))
    assert rule.needs_vmcore and rule.vmcore.checks[0].path == "psp.snp_initialized"
    err = error_of(tmp_path, GOOD + "vmcore:\n  all:\n    - fact: 'psp..x'\n      equals: true\n")
    assert err.field == "vmcore.all[0].fact"
    err = error_of(tmp_path, GOOD + "vmcore:\n  all:\n    - fact: psp.x\n")
    assert "comparison" in err.message


def test_list_of_rules_in_one_file(tmp_path):
    body = textwrap.indent(GOOD, "  ").replace("  id: TEST-RULE", "- id: TEST-RULE", 1)
    two = body + body.replace("TEST-RULE", "TEST-TWO")
    rules = load_rule_file(write(tmp_path, two, "pack.yaml"))
    assert [r.id for r in rules] == ["TEST-RULE", "TEST-TWO"]
    err = error_of(tmp_path, two.replace("severity: warning", "severity: bad", 1))
    assert err.field == "[0].severity"


def test_empty_file(tmp_path):
    err = error_of(tmp_path, "")
    assert "empty" in err.message


# ---------------------------------------------------------------- regex safety


@pytest.mark.parametrize("pattern", [
    "Completion-Wait loop timed out", r"^timer doesn't work", r"(?i)rmp violation",
    r"(^|\s)(amd_iommu=off|iommu=off|intremap=off|iommu=pt)(\s|$)", r"drivers/iommu/amd/init\.c",
    r"SEV-SNP API:1\.\d{1,3}", r"^.*foo", r"\d{1,10}\.\d+",
])
def test_safe_regexes_accepted(pattern):
    check_regex(pattern)


@pytest.mark.parametrize("pattern, why", [
    (r"(a+)+$", "nested"), (r"(\w+\s?)*$", "nested"), (r"(a|ab)*c", "alternatives"),
    (r"(a*)*", "nested"), (r"(.)\1", "back-references"), (r"foo(?=bar)", "look-ahead"),
    (r"a.*b.*c", "expensive"), (r"\d+\.\d+", "expensive"),
])
def test_dangerous_regexes_rejected(pattern, why):
    with pytest.raises(ValueError) as info:
        check_regex(pattern)
    assert why in str(info.value)


def test_accepted_regex_is_fast_on_hostile_line():
    from triage.rulepack import regex_search
    rx = check_regex(r"^.*x")
    hostile = ["a" * 100000]

    class Recording:  # what regex_search hands the pattern: the work is bounded by the text it sees
        seen: list[int] = []

        def search(self, text):
            self.seen.append(len(text))
            return rx.search(text)

    recording = Recording()
    assert not regex_search(recording, hostile * 10)
    assert max(recording.seen) <= REGEX_LINE_LIMIT and sum(recording.seen) <= 4096 + 10
    assert REGEX_LINE_LIMIT <= 4096


# ---------------------------------------------------------------- loading and lint


def test_shipped_pack_loads_and_lints_clean():
    rules = load_rules()
    ids = {r.id for r in rules}
    required = {
        "SNP-KDUMP-CWB-TIMEOUT", "SNP-KDUMP-IR-TIMER-PANIC", "SNP-KDUMP-DT-REUSE-BUG", "SNP-KDUMP-CWB-DIRECTMAP-PF",
        "SNP-KDUMP-CWB-RMP-WRITE-PF", "SNP-KDUMP-INCONSISTENT-CWB-TIMEOUT", "SNP-PANIC-SHUTDOWN-FAILED",
        "SNP-PANIC-NOTIFIER-SKIPPED", "SNP-FW-RECLAIM-KEXEC-RMP-PF", "SNP-RMP-KEXEC-ALIGN", "SNP-DISABLED-BY-IOMMU",
        "SNP-INIT-TIMEOUT", "SNP-INIT-IN-KDUMP", "IOMMU-CWAIT-TIMEOUT-GENERIC", "IOMMU-EVENT-STORM",
        "SNP-KDUMP-WORKAROUND-NOTES", "GENERIC-PANIC", "GENERIC-OOPS", "GENERIC-BUG", "GENERIC-WARNING",
        "GENERIC-LOCKUP",
    }
    assert required <= ids
    problems = lint(vocabulary=vocabulary())
    assert [str(p) for p in problems] == []
    by_id = {r.id: r for r in rules}
    assert by_id["SNP-PANIC-NOTIFIER-SKIPPED"].needs_vmcore
    assert by_id["SNP-KDUMP-CWB-TIMEOUT"].fixed_by and by_id["SNP-KDUMP-CWB-TIMEOUT"].unconfirmed


def test_every_shipped_rule_has_fixtures():
    for rule in load_rules():
        fdir = SHIPPED / "fixtures" / rule.id
        assert list(fdir.glob("positive*.log")), rule.id
        assert list(fdir.glob("negative*.log")), rule.id


def test_lint_reports_errors_and_typos(tmp_path):
    write(tmp_path, GOOD.replace("severity: warning", "severity: nope"), "BROKEN.yaml")
    write(tmp_path, GOOD.replace("TEST-RULE", "TYPO-RULE").replace("completion_wait_timeout", "completion_wait_timout")
          .replace("kind: amd_vi", "kind: amd_vi\n      fields:\n        bfd: {exists: true}"), "TYPO-RULE.yaml")
    problems = lint([tmp_path], vocabulary=vocabulary())
    errors = [p for p in problems if p.severity == "error"]
    assert len(errors) == 1 and errors[0].field == "severity" and errors[0].line == 3
    texts = [str(p) for p in problems]
    assert any("did you mean 'completion_wait_timeout'" in t for t in texts)
    assert any("did you mean 'bdf'" in t for t in texts)
    assert any("no positive*.log fixture" in t for t in texts)


def test_extra_dirs_override_and_duplicates(tmp_path):
    extra = tmp_path / "extra"
    extra.mkdir()
    # a custom pack replacing a shipped rule must say so (it used to replace it silently)
    write(extra, GOOD.replace("TEST-RULE", "SNP-KDUMP-CWB-TIMEOUT"), "SNP-KDUMP-CWB-TIMEOUT.yaml")
    with pytest.raises(RuleError) as silent:
        load_rules([extra])
    assert "override: true" in str(silent.value) and silent.value.field == "id"
    write(extra, GOOD.replace("TEST-RULE", "SNP-KDUMP-CWB-TIMEOUT") + "override: true\n", "SNP-KDUMP-CWB-TIMEOUT.yaml")
    rules = {r.id: r for r in load_rules([extra])}
    assert rules["SNP-KDUMP-CWB-TIMEOUT"].title == "a test rule"
    assert rules["SNP-KDUMP-CWB-TIMEOUT"].overrides.endswith("rules/SNP-KDUMP-CWB-TIMEOUT.yaml")
    write(extra, GOOD.replace("TEST-RULE", "SNP-KDUMP-CWB-TIMEOUT"), "other.yaml")
    with pytest.raises(RuleError) as info:
        load_rules([extra])
    assert "also defined" in str(info.value)
    with pytest.raises(RuleError):
        load_rules([tmp_path / "missing"])


# ---------------------------------------------------------------- fixtures through the real parser

try:
    from triage.ingest import read_capture  # noqa: F401
    HAVE_PARSER = True
except ImportError:  # pragma: no cover - before the parser landed
    HAVE_PARSER = False


def _fixture_files():
    out = []
    for rule_dir in sorted((SHIPPED / "fixtures").iterdir()):
        for path in sorted(rule_dir.glob("*.log")):
            out.append(pytest.param(rule_dir.name, path, id=f"{rule_dir.name}/{path.name}"))
    return out


@pytest.mark.skipif(not HAVE_PARSER, reason="triage.ingest not available yet")
@pytest.mark.parametrize("rule_id, path", _fixture_files())
def test_fixture(rule_id, path):
    from triage.engine import match
    from triage.ingest import read_capture
    from triage.engine import load_vmcore_facts
    rules = load_rules()
    rule = {r.id: r for r in rules}[rule_id]
    peers = [rule] + [r for r in rules if r.id in rule.superseded_by]  # as 'rules test' runs it
    findings = [f for f in match([read_capture(str(path))], peers, vmcore=load_vmcore_facts(path))
                if f.rule_id == rule_id]
    if path.name.startswith("positive"):
        assert findings, f"{path.name}: expected {rule_id}"
    else:
        assert not findings, f"{path.name}: unexpected {rule_id} at lines {findings[0].lines}"


@pytest.mark.skipif(not HAVE_PARSER, reason="triage.ingest not available yet")
def test_run_fixtures_all_pass():
    results = run_fixtures()
    assert results and all(r.status == "pass" for r in results), [
        (r.rule_id, r.path, r.detail) for r in results if r.status != "pass"]
    assert {r.expect for r in results} == {"positive", "negative"}


def test_run_fixtures_without_parser_skips(tmp_path):
    write(tmp_path, GOOD)
    fdir = tmp_path / "fixtures" / "TEST-RULE"
    fdir.mkdir(parents=True)
    (fdir / "positive.log").write_text("[ 1.0] AMD-Vi: Completion-Wait loop timed out\n")

    def broken_reader(path):
        raise OSError("cannot read")

    results = run_fixtures([tmp_path], reader=broken_reader)
    assert [r.status for r in results] == ["error"]
    assert "cannot read" in results[0].detail


def test_lint_vocabulary_comes_from_the_grammars(tmp_path):
    """Regression: lint's hand-kept message list called valid ids (psmash_failed, init_failed,
    v2_pgtable) unknown; the vocabulary is now read from grammars/*.lark and fields.yaml."""
    steps = "".join(f"    - {{kind: amd_vi, message: {m}}}\n" for m in ("psmash_failed", "init_failed", "v2_pgtable"))
    write(tmp_path, GOOD.replace("  sequence:\n    - label: first\n      kind: amd_vi\n      message: completion_wait_timeout\n",
                                 "  all:\n" + steps))
    assert [str(p) for p in lint([tmp_path], fixtures=False, vocabulary=vocabulary())] == []
    vocab = vocabulary()
    assert {"psmash_failed", "init_failed", "v2_pgtable", "event_logged"} <= vocab.messages["amd_vi"] | vocab.messages["iommu_event"]
    assert "kdump_loaded_line" not in vocab.messages["kernel_message"]  # a stale id the hand-kept list had
    assert {"pfn", "reason", "device_prefix"} <= vocab.fields["amd_vi"]
    assert {"command_name", "snp", "device"} <= vocab.fields["sev"]
    assert "kdump" in vocab.fields["command_line"]
    assert {"title", "frames", "guilty_function", "pf_address", "tainted", "hardware"} <= vocab.fields["oops"]


def test_golden_files_catch_a_changed_finding_and_update_rewrites_them(tmp_path):
    """Each fixture carries its expected findings (rule, boot, lines, confidence, fix); a change shows as a diff."""
    import shutil

    from triage.engine.fixtures import golden_path

    pack = tmp_path / "pack"
    shutil.copytree(SHIPPED / "fixtures" / "SNP-KDUMP-CWB-TIMEOUT", pack / "fixtures" / "SNP-KDUMP-CWB-TIMEOUT")
    shutil.copy(SHIPPED / "SNP-KDUMP-CWB-TIMEOUT.yaml", pack)
    assert all(r.passed for r in run_fixtures([pack])), [r.detail for r in run_fixtures([pack])]
    golden = golden_path(pack / "fixtures" / "SNP-KDUMP-CWB-TIMEOUT" / "positive-console.log")
    golden.write_text(golden.read_text().replace("confidence: confirmed", "confidence: likely"))
    failed = [r for r in run_fixtures([pack]) if not r.passed]
    assert len(failed) == 1 and "expects" in failed[0].detail and "likely" in failed[0].detail
    golden.unlink()
    missing = [r for r in run_fixtures([pack]) if not r.passed]
    assert "rules test --update" in missing[0].detail
    assert all(r.passed for r in run_fixtures([pack], update=True))
    assert all(r.passed for r in run_fixtures([pack])) and golden.exists()


def test_sev_init_failure_names_the_firmware_status(tmp_path):
    """grammars/fields.yaml decodes the firmware status (enum sev_ret_code) for the SEV-FW-INIT-FAILED title."""
    from triage.engine import match
    from triage.ingest import read_capture
    log = tmp_path / "init.log"
    log.write_text("[    0.000000] Linux version 6.16.3 (b@h) (gcc) #1 SMP\n"
                   "[   11.702131] ccp 0000:42:00.1: SEV-SNP: SNP_INIT_EX failed rc -5, error 0x13\n")
    rules = [r for r in load_rules() if r.id == "SEV-FW-INIT-FAILED"]
    (finding,) = match([read_capture(str(log))], rules)
    assert "HWSEV_RET_PLATFORM" in finding.title
