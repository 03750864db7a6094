"""The fixes table (rules/fixes.yaml): it loads, rules resolve commits against it, verdicts name their rule."""
from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from triage.rulepack import RuleError, load_rule_file, load_rules, rule_files, shipped_rules_dir
from triage.rulepack.pack import FIXES_FILE, load_fixes, shipped_fixes
from triage.rulepack.releases import fix_verdict

SERIES = ["f32fe7cb0198", "38e5f33ee359", "8c571019d8a8", "9be15fbfc6c5"]

RULE = """\
id: TEST-RULE
title: "a test rule"
severity: warning
summary: "why"
remedy: "what to do"
fixed_by: {fixed_by}
match:
  sequence:
    - label: first
      kind: amd_vi
      message: completion_wait_timeout
"""


def refs(*commits):
    table = shipped_fixes()
    return [table.lookup(c).ref() for c in commits]


def write(tmp_path: Path, text: str, name: str = "TEST-RULE.yaml") -> Path:
    path = tmp_path / name
    path.write_text(textwrap.dedent(text))
    return path


def test_table_loads_and_records_sources():
    table = shipped_fixes()
    for commit in SERIES + ["c2e8dc1222c2", "9e249c484128", "f366a8dac1b8"]:
        entry = table.lookup(commit)
        assert entry is not None, commit
        assert entry.subject and entry.source
    entry = table.lookup("38e5f33ee359")
    assert entry.mainline == "6.18" and entry.confirmed
    assert entry.branches()[(6, 17)].first == "6.17.8"
    assert entry.branches()[(6, 12)].not_in == "6.12.117"
    assert not table.lookup("c2e8dc1222c2").confirmed
    assert table.lookup("9e249c484128").fixes == ("d2a0cac10597",)
    assert table.lookup(None, "x86/sev: Add callback to apply RMP table fixups for kexec").mainline == "6.11"


def test_table_is_not_a_rule_file():
    assert FIXES_FILE not in [p.name for p in rule_files(shipped_rules_dir())]


def test_shipped_rules_name_fixes_by_commit_only():
    for path in rule_files(shipped_rules_dir()):
        text = path.read_text()
        assert "mainline:" not in text and "stable: [" not in text, path.name
    rules = {r.id: r for r in load_rules()}
    fixes = rules["SNP-KDUMP-CWB-TIMEOUT"].fixed_by
    assert [f.commit for f in fixes] == SERIES
    assert fixes[0].mainline == "6.18" and fixes[0].stable == ("6.17.8",)


@pytest.mark.parametrize("release, banner, status, words", [
    # mainline
    ("6.18.0", None, "fixed", "mainline 6.18 and later carry"),
    ("6.19.3", None, "fixed", "mainline 6.18 and later carry"),
    ("6.17.0", None, "not fixed", "mainline before 6.18 lacks"),
    # the 6.17 stable branch: first fixed in 6.17.8
    ("6.17.5", None, "not fixed", "6.17 stable branch: first fixed in 6.17.8; this kernel is 6.17.5"),
    ("6.17.9", None, "fixed", "6.17 stable branch: first fixed in 6.17.8; this kernel is 6.17.9"),
    # the 6.12 branch: 6.12.117 seen without 38e5f33ee359 (Debian, observed)
    ("6.12.60", None, "not fixed", "6.12 stable branch: 6.12.117 does not carry 38e5f33ee359 yet"),
    ("6.12.130", None, "unknown", "6.12 stable branch: not known whether it carries"),
    # a branch the table says nothing about
    ("6.6.100", None, "unknown", "6.6 stable branch: not known whether it carries"),
    # distributions
    ("6.12.57+deb13-amd64", None, "not fixed", "Debian 6.12.x+deb13 / +deb12 backports: does not carry 38e5f33ee359"),
    ("6.12.140+deb13-amd64", None, "unknown", "Debian 6.12.x+deb13 / +deb12 backports: backport status unknown"),
    ("5.14.0-427.el9.x86_64", None, "unknown", "RHEL/CentOS Stream RHEL 9/10, CentOS Stream: backport status unknown"),
    ("6.4.0-150600.23.7-default", None, "unknown", "SUSE SLES / openSUSE: backport status unknown"),
    ("6.8.0-45-generic", None, "unknown", "Ubuntu all series: backport status unknown"),
    ("6.5.13-1-pve", None, "unknown", "Proxmox 6.5.13-1-pve: no backport record"),
])
def test_verdict_names_its_branch_rule(release, banner, status, words):
    verdict = fix_verdict(release, refs(*SERIES), banner=banner)
    assert verdict.status == status, verdict.explanation
    assert words in verdict.explanation, verdict.explanation
    assert len(verdict.per_fix) == 4


def test_debian_per_fix_says_backport_status_unknown():
    verdict = fix_verdict("6.12.57+deb13-amd64", refs(*SERIES))
    why = {f: w for f, _, w in verdict.per_fix}
    assert why["f32fe7cb0198"].startswith("Debian 6.12.x+deb13 / +deb12 backports: backport status unknown")


def test_partial_backport_verdict_keys_on_each_patch():
    """CIP 6.12.y carries the ccp skip and the cmd/evt-buffer skip, not remap/reuse."""
    verdict = fix_verdict("6.12.58-cip5", refs(*SERIES))
    per_fix = {f: s for f, s, _ in verdict.per_fix}
    assert per_fix == {"f32fe7cb0198": "not fixed", "38e5f33ee359": "not fixed",
                       "8c571019d8a8": "fixed", "9be15fbfc6c5": "fixed"}
    assert verdict.status == "not fixed"
    assert "CIP 6.12.y-cip (Dec 2025 rebase): does not carry" in verdict.explanation
    only_skip = fix_verdict("6.12.58-cip5", refs("9be15fbfc6c5"))
    assert only_skip.status == "fixed" and "CIP" in only_skip.explanation


def test_unconfirmed_branch_is_said():
    verdict = fix_verdict("6.19.0", refs("c2e8dc1222c2"))
    assert verdict.status == "fixed" and "not confirmed" in verdict.explanation


def test_rule_names_fix_by_commit(tmp_path):
    (rule,) = load_rule_file(write(tmp_path, RULE.format(fixed_by="[38e5f33ee359, 9be15fbfc6c5]")))
    assert [f.commit for f in rule.fixed_by] == ["38e5f33ee359", "9be15fbfc6c5"]
    assert rule.fixed_by[0].subject == "iommu/amd: Reuse device table for kdump"
    (rule,) = load_rule_file(write(tmp_path, RULE.format(fixed_by="\n  - commit: 38e5f33")))
    assert rule.fixed_by[0].commit == "38e5f33ee359"  # an abbreviated id resolves to the table's


def test_unknown_commit_is_an_error_with_file_and_line(tmp_path):
    path = write(tmp_path, RULE.format(fixed_by="\n  - commit: 38e5f33ee359\n  - commit: abcdef123456"))
    with pytest.raises(RuleError) as info:
        load_rule_file(path)
    err = info.value
    assert err.file == str(path) and err.line == 8 and err.field == "fixed_by[1].commit"
    assert "unknown fix commit abcdef123456" in err.message
    path = write(tmp_path, RULE.format(fixed_by="[deadbeef0000]"))
    with pytest.raises(RuleError) as info:
        load_rule_file(path)
    assert info.value.line == 6 and info.value.field == "fixed_by[0]"


def test_release_data_belongs_in_the_table(tmp_path):
    path = write(tmp_path, RULE.format(fixed_by="\n  - commit: 38e5f33ee359\n    stable: [6.17.8]"))
    with pytest.raises(RuleError) as info:
        load_rule_file(path)
    assert info.value.field == "fixed_by[0].stable" and "fixes.yaml" in info.value.message


def test_custom_pack_brings_its_own_table(tmp_path, monkeypatch):
    from triage.rulepack import releases
    # keep the process-wide registry of loaded tables as it was for the other tests
    monkeypatch.setattr(releases, "_REGISTRY", releases.FixTable(releases.default_table().entries))
    (tmp_path / FIXES_FILE).write_text(textwrap.dedent("""\
        fixes:
          - commit: abcdef123456
            subject: "a local fix"
            mainline: "6.20"
            confirmed: false
            source: "local patch queue"
            stable:
              - {branch: "6.12", first: "6.12.200", confirmed: true, source: "our changelog"}
        """))
    (rule,) = load_rule_file(write(tmp_path, RULE.format(fixed_by="[abcdef123456, 38e5f33ee359]")))
    assert rule.fixed_by[0].mainline == "6.20"
    verdict = fix_verdict("6.12.201", rule.fixed_by[:1])
    assert verdict.status == "fixed" and "first fixed in 6.12.200" in verdict.explanation


@pytest.mark.parametrize("entry, field", [
    ('{commit: xyz, subject: s, mainline: "6.18", confirmed: true, source: m}', "fixes[0].commit"),
    ('{commit: abcdef1, subject: s, mainline: "6.18.2", confirmed: true, source: m}', "fixes[0].mainline"),
    ('{commit: abcdef1, subject: s, mainline: "6.18", source: m}', "fixes[0].confirmed"),
    ('{commit: abcdef1, subject: s, mainline: "6.18", confirmed: true, source: m, '
     'stable: [{branch: "6.12", first: "6.17.8", confirmed: true, source: m}]}', "fixes[0].stable[0].first"),
    ('{commit: abcdef1, subject: s, mainline: "6.18", confirmed: true, source: m, '
     'distributions: [{distro: gentoo, kernels: k, status: unknown, confirmed: false, source: m}]}',
     "fixes[0].distributions[0].distro"),
    ('{commit: abcdef1, subject: s, mainline: "6.18", confirmed: true, source: m, typo: 1}', "fixes[0].typo"),
])
def test_table_errors_name_file_line_field(tmp_path, entry, field):
    path = tmp_path / FIXES_FILE
    path.write_text("fixes:\n  - " + entry + "\n")
    with pytest.raises(RuleError) as info:
        load_fixes(path)
    assert info.value.file == str(path) and info.value.line == 2 and info.value.field == field


def test_partial_backport_kdump_finding_names_each_patch():
    """A CIP 6.12.y kdump kernel (skip patches only) that timed out: not fixed, per patch."""
    from triage.engine import match
    from triage.ingest import read_capture
    path = shipped_rules_dir() / "fixtures" / "SNP-KDUMP-CWB-TIMEOUT" / "positive-partial-backport-cip.log"
    rules = [r for r in load_rules() if r.id == "SNP-KDUMP-CWB-TIMEOUT"]
    (finding,) = match([read_capture(str(path))], rules)
    assert finding.fix.status == "not fixed"
    per_fix = {f: s for f, s, _ in finding.fix.per_fix}
    assert per_fix == {"f32fe7cb0198": "not fixed", "38e5f33ee359": "not fixed",
                       "8c571019d8a8": "fixed", "9be15fbfc6c5": "fixed"}


@pytest.mark.parametrize("release, status, words", [
    ("6.12.60", "fixed", "not needed: 9e249c484128"),  # before d2a0cac10597 reached 6.12.y (6.12.75)
    ("6.12.80", "unknown", "6.12 stable branch: not known whether it carries 9e249c484128"),
    ("6.19.5", "fixed", "which this kernel does not carry"),
    ("6.19.6", "fixed", "6.19 stable branch: first fixed in 6.19.6"),
])
def test_fix_of_a_regression_is_not_needed_before_the_regression(release, status, words):
    verdict = fix_verdict(release, refs("9e249c484128"))
    assert verdict.status == status and words in verdict.explanation, verdict.explanation
