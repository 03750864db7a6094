"""Engine semantics on hand-built events, and the shipped pack on real captures."""
from __future__ import annotations

import os
import random
import textwrap
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from triage.engine import EventIndex, explain, match
from triage.model import Boot, Capture, Event, Frame
from triage.rulepack import Condition, FieldTest, load_rule_file, load_rules

ROOT = Path(__file__).resolve().parent.parent
SHARED = Path(os.environ.get("SNP_TRIAGE_SHARED", ROOT.parent / "shared"))
CORPUS = SHARED / "corpus" / "real-dev"


def sample(name: str) -> Path:
    """A real capture: the project's samples/, else the shared samples; skip if neither has it."""
    for base in (ROOT / "samples", SHARED / "samples"):
        if (base / name).exists():
            return base / name
    pytest.skip(f"sample {name} not present")

try:
    from triage.ingest import read_capture
    HAVE_PARSER = True
except ImportError:  # pragma: no cover
    HAVE_PARSER = False
needs_parser = pytest.mark.skipif(not HAVE_PARSER, reason="triage.ingest not available yet")


# ---------------------------------------------------------------- helpers


def ev(kind, message=None, line=1, boot=0, ts=None, text=None, source="test.log", **fields):
    return Event(kind=kind, source=source, boot=boot, line=line, end_line=line,
                 text=[text or f"{kind} {message}"], timestamp=ts, message=message, fields=fields)


def capture(events, boots=None, source="test.log"):
    if boots is None:
        boots = [Boot(source, i, 1, 1000, "banner") for i in sorted({e.boot for e in events})]
    return Capture(source, boots, sorted(events, key=lambda e: e.line), 1000, 0)


def rule(tmp_path, text, name="T.yaml", title="t"):
    header = f'id: T-RULE\ntitle: "{title}"\nseverity: error\nsummary: "s"\nremedy: "r"\n'
    path = tmp_path / name
    path.write_text(header + textwrap.dedent(text))
    return load_rule_file(path)[0]


A = "  - {label: a, kind: amd_vi, message: translation_pre_enabled_copy}\n"
B = "  - {label: b, kind: amd_vi, message: completion_wait_timeout}\n"


def ids(findings):
    return [f.rule_id for f in findings]


# ---------------------------------------------------------------- sequence / all / absent


def test_sequence_order(tmp_path):
    r = rule(tmp_path, "match:\n  sequence:\n" + textwrap.indent(A + B, "  "))
    good = capture([ev("amd_vi", "translation_pre_enabled_copy", 1), ev("amd_vi", "completion_wait_timeout", 2)])
    bad = capture([ev("amd_vi", "completion_wait_timeout", 1), ev("amd_vi", "translation_pre_enabled_copy", 2)])
    (f,) = match([good], [r])
    assert f.lines == [1, 2] and f.boot == 0
    assert match([bad], [r]) == []
    # unordered 'all' accepts both
    r2 = rule(tmp_path, "match:\n  all:\n" + textwrap.indent(A + B, "  "), "T2.yaml")
    assert len(match([bad], [r2])) == 1


def test_sequence_evidence_collapses_repeats(tmp_path):
    r = rule(tmp_path, "match:\n  sequence:\n" + textwrap.indent(A + B, "  "))
    events = [ev("amd_vi", "translation_pre_enabled_copy", 1, ts=0.5)]
    events += [ev("amd_vi", "completion_wait_timeout", 10 + i, ts=1.0 + 0.175 * i,
                  text="[ 1.0] AMD-Vi: Completion-Wait loop timed out") for i in range(9)]
    (f,) = match([capture(events)], [r])
    timeouts = f.evidence[1]
    assert timeouts.count == 9
    assert timeouts.summary == "AMD-Vi: Completion-Wait loop timed out \u00d79 over 1.4 s (lines 10\u201318)"
    assert len(timeouts.events) == 6  # first and last three kept


def test_count_within(tmp_path):
    r = rule(tmp_path, "match:\n  sequence:\n    - {kind: iommu_event, message: event_logged, at_least: 3, within: 5}\n")
    close = [ev("iommu_event", "event_logged", i, ts=10.0 + i) for i in range(3)]
    spread = [ev("iommu_event", "event_logged", i, ts=10.0 * i) for i in range(3)]
    untimed = [ev("iommu_event", "event_logged", i) for i in range(3)]
    assert len(match([capture(close)], [r])) == 1
    assert match([capture(spread)], [r]) == []
    (f,) = match([capture(untimed)], [r])
    assert any("time window not checked" in c for c in f.caveats)
    assert match([capture(close[:2])], [r]) == []
    text = str(explain([capture(spread)], r))
    assert "at most 1 within 5 s" in text


def test_absent_and_after(tmp_path):
    r = rule(tmp_path, "match:\n  sequence:\n" + textwrap.indent(A, "  ")
             + "  absent:\n    - {kind: amd_vi, message: reuse_cwb, after: a}\n")
    before = capture([ev("amd_vi", "reuse_cwb", 1), ev("amd_vi", "translation_pre_enabled_copy", 2)])
    after = capture([ev("amd_vi", "translation_pre_enabled_copy", 1), ev("amd_vi", "reuse_cwb", 2)])
    assert len(match([before], [r])) == 1
    assert match([after], [r]) == []
    assert "violated" in str(explain([after], r))


def test_field_comparisons(tmp_path):
    r = rule(tmp_path, """\
        match:
          sequence:
            - kind: [oops, bug]
              fields:
                pf_reason: not-present page
                pf_access: {contains: "read access"}
                pf_address: {gte: 0xffff800000000000}
                pf_error_code: {lte: 0x8}
              frame: [iommu_completion_wait]
        """)
    frames = [Frame("dump_stack_lvl"), Frame("iommu_completion_wait.part.0.isra.0", 0x38, 0x140)]
    hit = ev("oops", None, 5, pf_reason="not-present page", pf_access="supervisor read access in kernel mode",
             pf_address="ffff9f5340805000", pf_error_code=0, frames=frames)
    assert len(match([capture([hit])], [r])) == 1
    low = ev("oops", None, 5, pf_reason="not-present page", pf_access="supervisor read access in kernel mode",
             pf_address="0000000000000008", pf_error_code=0, frames=frames)
    assert match([capture([low])], [r]) == []
    no_frame = ev("oops", None, 5, pf_reason="not-present page", pf_access="supervisor read access in kernel mode",
                  pf_address="ffff9f5340805000", pf_error_code=0, frames=[Frame("foo")])
    assert match([capture([no_frame])], [r]) == []


def test_bit_and_alignment_comparisons(tmp_path):
    r = rule(tmp_path, """\
        match:
          sequence:
            - kind: sev
              message: rmp_table_range
              fields:
                start: {not: {aligned_to: 0x200000}}
            - kind: amd_vi
              message: global_efr
              fields:
                efr: {has_bits: 0x8000000000000000}
        """)
    good = [ev("sev", "rmp_table_range", 1, start=0x88900000, end=0xa8efffff),
            ev("amd_vi", "global_efr", 2, efr=0x841f77e022094ace)]
    assert len(match([capture(good)], [r])) == 1
    aligned = [ev("sev", "rmp_table_range", 1, start=0x88800000, end=0xa8ffffff), good[1]]
    assert match([capture(aligned)], [r]) == []
    no_snp = [good[0], ev("amd_vi", "global_efr", 2, efr=0x25bf732fa2295afe)]
    assert match([capture(no_snp)], [r]) == []


# ---------------------------------------------------------------- scopes and roles


def test_boot_vs_source_scope(tmp_path):
    events = [ev("amd_vi", "translation_pre_enabled_copy", 1, boot=0), ev("amd_vi", "completion_wait_timeout", 20, boot=1)]
    r_boot = rule(tmp_path, "match:\n  sequence:\n" + textwrap.indent(A + B, "  "))
    r_src = rule(tmp_path, "match:\n  scope: source\n  sequence:\n" + textwrap.indent(A + B, "  "), "S.yaml")
    assert match([capture(events)], [r_boot]) == []
    (f,) = match([capture(events)], [r_src])
    assert f.boot == 1 and f.boots == [0, 1]
    # separate captures are separate sources
    split = [capture([events[0]], source="a.log"), capture([ev("amd_vi", "completion_wait_timeout", 20, source="b.log")],
                                                           source="b.log")]
    assert match(split, [r_src]) == []


def test_next_boot(tmp_path):
    r = rule(tmp_path, """\
        match:
          scope: next_boot
          first:
            sequence:
              - {label: panic, kind: kernel_panic}
          then:
            sequence:
              - {label: timeouts, kind: amd_vi, message: completion_wait_timeout}
        """)
    boots = [Boot("test.log", 0, 1, 9, "banner", ended="panic"), Boot("test.log", 1, 10, 19, "after panic"),
             Boot("test.log", 2, 20, 29, "banner")]
    ok = capture([ev("kernel_panic", None, 5, 0), ev("amd_vi", "completion_wait_timeout", 12, 1)], boots)
    (f,) = match([ok], [r])
    assert f.boot == 1 and f.boots == [0, 1] and f.lines == [5, 12]
    too_late = capture([ev("kernel_panic", None, 5, 0), ev("amd_vi", "completion_wait_timeout", 22, 2)], boots)
    assert match([too_late], [r]) == []
    no_panic_boots = [Boot("test.log", 0, 1, 9, "banner", ended="reboot"), boots[1]]
    no_panic = capture([ev("amd_vi", "completion_wait_timeout", 12, 1)], no_panic_boots)
    assert match([no_panic], [r]) == []


def test_roles_parser_evidence_and_command_line(tmp_path):
    r = rule(tmp_path, "match:\n  boot: {role: kdump}\n  sequence:\n" + textwrap.indent(B, "  "))
    r_not = rule(tmp_path, "match:\n  boot: {not_role: kdump}\n  sequence:\n" + textwrap.indent(B, "  "), "N.yaml")
    timeout = ev("amd_vi", "completion_wait_timeout", 5)
    by_parser = capture([timeout], [Boot("test.log", 0, 1, 9, "banner", role="kdump", role_reason="elfcorehdr")])
    by_message = capture([ev("amd_vi", "dev_table_copied", 2), timeout])
    by_cmdline = capture([ev("command_line", "command_line", 1, command_line="elfcorehdr=1916276K", kdump=True), timeout])
    plain = capture([timeout])
    for cap in (by_parser, by_message, by_cmdline):
        assert len(match([cap], [r])) == 1
        assert match([cap], [r_not]) == []
    assert match([plain], [r]) == []
    assert len(match([plain], [r_not])) == 1
    (f,) = match([by_message], [r])
    assert f.boot_role == "kdump" and any("taken as a kdump kernel" in c for c in f.caveats)


# ---------------------------------------------------------------- vmcore slot


VM = "vmcore:\n  {req}all:\n    - fact: psp.snp_initialized\n      equals: true\n    - fact: iommus.*.snp\n      equals: true\n"


def test_vmcore_optional(tmp_path):
    r = rule(tmp_path, "match:\n  sequence:\n" + textwrap.indent(B, "  ") + VM.format(req=""))
    cap = capture([ev("amd_vi", "completion_wait_timeout", 1)])
    (f,) = match([cap], [r])
    assert f.vmcore.status == "not checked (no vmcore)"
    # what would be checked reads as a requirement, never as values that were read
    assert str(f.vmcore) == ("no vmcore given; the crashed kernel's vmcore would confirm this if "
                             "psp.snp_initialized = true and iommus.*.snp = true")
    assert not any("vmcore" in c for c in f.caveats)
    (f,) = match([cap], [r], vmcore={"psp": {"snp_initialized": True}, "iommus": [{"snp": False}, {"snp": True}]})
    assert f.vmcore.status == "confirmed"
    (f,) = match([cap], [r], vmcore={"psp": {"snp_initialized": False}, "iommus": [{"snp": True}]})
    assert f.vmcore.status == "contradicted" and any("contradicts" in c for c in f.caveats)
    (f,) = match([cap], [r], vmcore={"psp": {}})
    assert f.vmcore.status == "incomplete"


def test_vmcore_required_never_asserts_from_log_alone(tmp_path):
    r = rule(tmp_path, "match:\n  sequence:\n" + textwrap.indent(B, "  ") + VM.format(req="required: true\n  "))
    cap = capture([ev("amd_vi", "completion_wait_timeout", 1)])
    assert match([cap], [r]) == []
    assert match([cap], [r], vmcore={"psp": {"snp_initialized": True}, "iommus": [{"snp": False}]}) == []
    (f,) = match([cap], [r], vmcore={"psp": {"snp_initialized": True}, "iommus": [{"snp": True}]})
    assert f.needs_vmcore and f.vmcore.status == "confirmed"
    text = str(explain([cap], r))
    assert "needs vmcore facts" in text and "not checked (no vmcore)" in text


# ---------------------------------------------------------------- reporting


def test_report_each_distinct_placeholders_and_supersede(tmp_path):
    generic = rule(tmp_path, """\
        report: distinct
        superseded_by: [SPECIFIC]
        match:
          sequence:
            - {kind: kernel_panic}
        """, "G.yaml", title="Panic: {panic_message}")
    generic.id = "GENERIC"
    specific = rule(tmp_path, "match:\n  sequence:\n    - {kind: kernel_panic, fields: {panic_message: {matches: '^timer'}}}\n",
                    "SP.yaml")
    specific.id = "SPECIFIC"
    events = [ev("kernel_panic", None, 1, boot=0, panic_message="timer doesn't work", title="Kernel panic - timer"),
              ev("kernel_panic", None, 9, boot=1, panic_message="sysrq triggered crash", title="Kernel panic - sysrq"),
              ev("kernel_panic", None, 12, boot=1, panic_message="sysrq triggered crash", title="Kernel panic - sysrq")]
    found = match([capture(events)], [generic, specific])
    assert sorted(ids(found)) == ["GENERIC", "SPECIFIC"]
    g = next(f for f in found if f.rule_id == "GENERIC")
    assert g.title == "Panic: sysrq triggered crash" and g.evidence[0].count == 2
    kept = match([capture(events)], [generic, specific], keep_superseded=True)
    assert sorted(ids(kept)) == ["GENERIC", "GENERIC", "SPECIFIC"]
    generic.report = "each"
    assert ids(match([capture(events)], [generic])) == ["GENERIC"] * 3


def test_fix_verdict_in_finding(tmp_path):
    r = rule(tmp_path, "match:\n  sequence:\n" + textwrap.indent(A + B, "  ") + textwrap.dedent("""\
        fixed_by:
          - commit: 38e5f33ee359
            subject: "iommu/amd: Reuse device table for kdump"
            mainline: "6.18"
            stable: ["6.17.8"]
        """))
    events = [ev("amd_vi", "translation_pre_enabled_copy", 1), ev("amd_vi", "completion_wait_timeout", 2)]
    for release, status in (("6.11.0", "not fixed"), ("6.18.2", "fixed"), ("6.8.0-45-generic", "unknown"), (None, "unknown")):
        cap = capture(events, [Boot("test.log", 0, 1, 9, "banner", release=release)])
        (f,) = match([cap], [r])
        assert f.fix.status == status and f.release == release
    r.match_proves_unfixed = "the copy wording was removed by 38e5f33ee359"
    cap = capture(events, [Boot("test.log", 0, 1, 9, "banner", release="6.8.0-45-generic")])
    (f,) = match([cap], [r])
    assert f.fix.status == "not fixed" and "copy wording" in f.fix.explanation


def test_explain_reports_furthest_step(tmp_path):
    r = rule(tmp_path, "match:\n  sequence:\n" + textwrap.indent(A + B, "  ")
             + "    - {label: c, kind: kernel_panic, fields: {panic_message: {matches: '^timer'}}}\n")
    cap = capture([ev("amd_vi", "translation_pre_enabled_copy", 1), ev("amd_vi", "completion_wait_timeout", 2),
                   ev("kernel_panic", None, 3, panic_message="sysrq triggered crash")])
    result = explain([cap], r)
    assert not result.matched
    (best,) = result.best_attempts()
    assert [s.status for s in best.steps] == ["matched", "matched", "missing"]
    assert "panic_message is 'sysrq triggered crash'" in best.steps[2].detail
    text = str(result)
    assert "did not match" in text and "x sequence c: missing" in text
    assert result.to_dict()["best_attempts"][0]["steps"][2]["status"] == "missing"
    cap_ok = capture([ev("amd_vi", "translation_pre_enabled_copy", 1), ev("amd_vi", "completion_wait_timeout", 2),
                      ev("kernel_panic", None, 3, panic_message="timer doesn't work")])
    assert explain([cap_ok], r).matched


# ---------------------------------------------------------------- index correctness and cost


@settings(max_examples=40, deadline=None)
@given(st.lists(st.tuples(st.sampled_from(["IO_PAGE_FAULT", "ILLEGAL_DEV_TABLE_ENTRY", "RMP_PAGE_FAULT", "0x86", "134"]),
                          st.sampled_from(["0000:41:00.0", "0000:06:00.0", None]),
                          st.integers(0, 2)), min_size=0, max_size=300),
       st.sampled_from([["IO_PAGE_FAULT"], ["IO_PAGE_FAULT", "RMP_PAGE_FAULT"], [134], ["nothing"]]),
       st.sampled_from([None, "0000:41:00.0"]))
def test_field_index_agrees_with_brute_force(rows, types, device):
    events = [ev("iommu_event", "event_logged", i + 1, boot=b, event_type=t, device=d) for i, (t, d, b) in enumerate(rows)]
    cap = capture(events, [Boot("test.log", i, 1, 9999, "banner") for i in range(3)])
    fields = [("event_type", FieldTest([("in", types)]))]
    if device:
        fields.append(("device", FieldTest([("equals", device)])))
    cond = Condition(kinds=("iommu_event",), messages=("event_logged",), fields=fields)
    index = EventIndex([cap])
    for scope in [(0, b) for b in range(3)] + [(0, None)]:
        expected = [e for e in events if (scope[1] is None or e.boot == scope[1]) and e.kind in cond.kinds
                    and (cond.messages is None or e.message in cond.messages) and cond.test(e)]
        assert index.candidates(cond, scope) == expected


def test_unrelated_rules_cost_nothing(tmp_path):
    """Rules about messages absent from the capture must not scan the events."""
    events = [ev("iommu_event", "event_logged", i + 1, ts=i * 0.001, event_type="IO_PAGE_FAULT") for i in range(100_000)]
    cap = capture(events)
    many = []
    for i in range(300):
        many.append(rule(tmp_path, f"match:\n  sequence:\n    - {{kind: sev, message: snp_init_failed, regex: 'x{i}'}}\n"
                         f"    - {{kind: amd_vi, message: completion_wait_timeout}}\n", f"R{i}.yaml"))
    index = EventIndex([cap])
    examined = []
    real_test = Condition.test

    def counting(self, event, skip=frozenset()):
        examined.append(event)
        return real_test(self, event, skip)

    Condition.test = counting  # count the work instead of timing it (no timing asserts in the suite)
    try:
        assert match([cap], many, index=index) == []
    finally:
        Condition.test = real_test
    assert examined == []  # not one of the 100,000 events was looked at


# ---------------------------------------------------------------- the shipped pack on real captures


@needs_parser
def test_founding_mail():
    cap = read_capture(str(sample("lkml-2024-09-09-snp-kdump-thread.txt")))
    found = match([cap], load_rules())
    assert sorted(ids(found)) == ["SNP-KDUMP-CWB-DIRECTMAP-PF", "SNP-KDUMP-CWB-TIMEOUT", "SNP-KDUMP-IR-TIMER-PANIC"]
    cwb = next(f for f in found if f.rule_id == "SNP-KDUMP-CWB-TIMEOUT")
    assert cwb.fix.status == "not fixed" and cwb.boot_role == "kdump"
    assert cwb.release == "6.11.0-rc6-next-20240903-snp-host-f2a41ff576cc+"
    assert any(e.label == "cwb-stack" for e in cwb.evidence)
    ir = next(f for f in found if f.rule_id == "SNP-KDUMP-IR-TIMER-PANIC")
    assert any("different boots or excerpts" in c for c in ir.caveats)
    pf = next(f for f in found if f.rule_id == "SNP-KDUMP-CWB-DIRECTMAP-PF")
    assert any("No RIP or stack" in c for c in pf.caveats)


@needs_parser
@pytest.mark.parametrize("name", ["qemu-amd-iommu-kdump-6.1.log", "qemu-amd-iommu-kdump-6.1-amd_iommu_dump.log"])
def test_healthy_qemu_kdump_only_generic_panic(name):
    """A kdump test that worked: the deliberate sysrq crash (no GENERIC-PANIC) and, where the capture
    shows it, the saved dump; nothing about SNP or the IOMMU."""
    cap = read_capture(str(sample(name)))
    found = match([cap], load_rules())
    assert ids(found)[0] == "SYSRQ-CRASH" and set(ids(found)) <= {"SYSRQ-CRASH", "KDUMP-DUMP-SAVED"}
    assert found[0].boot == 0 and "SysRq" in found[0].title
    why = explain([cap], {r.id: r for r in load_rules()}["SNP-KDUMP-CWB-TIMEOUT"])
    assert not why.matched
    assert "Completion-Wait" not in str(why) or "missing" in str(why)


@needs_parser
@pytest.mark.skipif(not CORPUS.exists(), reason="real-dev corpus not present")
def test_no_snp_findings_on_unrelated_real_logs():
    rules = load_rules()
    for path in sorted(CORPUS.glob("*.log")):
        found = match([read_capture(str(path))], rules)
        assert not [f for f in found if "snp" in f.tags], (path.name, ids(found))


def test_random_synthetic_captures_do_not_crash():
    rng = random.Random(7)
    kinds = [("amd_vi", "translation_pre_enabled_copy"), ("amd_vi", "completion_wait_timeout"), ("kernel_panic", None),
             ("oops", None), ("sev", "api_version"), ("sev", "psp_cmd_timeout"), ("iommu_event", "event_logged"),
             ("command_line", "command_line"), ("sev", "rmp_table_range")]
    rules = load_rules()
    for _ in range(20):
        events = []
        for i in range(60):
            k, m = rng.choice(kinds)
            events.append(ev(k, m, i + 1, boot=i // 20, ts=rng.random() * 10 if rng.random() < 0.8 else None,
                             panic_message=rng.choice(["timer doesn't work", "x"]), command=rng.choice([0x85, 0x86]),
                             api_major=1, api_minor=rng.randint(49, 56), event_type="IO_PAGE_FAULT",
                             pf_reason=rng.choice(["RMP violation", "not-present page"]), start=rng.randint(0, 1 << 40),
                             end=rng.randint(0, 1 << 40), command_line="intremap=off", kdump=rng.random() < 0.5))
        boots = [Boot("test.log", i, 1, 9999, "banner", ended=rng.choice(["panic", "reboot", "cut off"])) for i in range(3)]
        for f in match([capture(events, boots)], rules):
            assert f.evidence and f.lines


def test_vmcore_facts_in_vmcore_stage_shape(tmp_path):
    """VmcoreFacts.to_dict() wraps facts as {value, source, unavailable?}; unavailable = missing."""
    r = rule(tmp_path, "match:\n  sequence:\n" + textwrap.indent(B, "  ") + VM.format(req=""))
    cap = capture([ev("amd_vi", "completion_wait_timeout", 1)])
    facts = {"psp": {"snp_initialized": {"value": True, "source": "sev_device.snp_initialized"}},
             "iommus": [{"snp": {"value": True, "source": "x", "hex": "0x1"}}]}
    (f,) = match([cap], [r], vmcore=facts)
    assert f.vmcore.status == "confirmed"
    facts["psp"]["snp_initialized"] = {"value": None, "source": "sev_device", "unavailable": "ccp not loaded"}
    (f,) = match([cap], [r], vmcore=facts)
    assert f.vmcore.status == "incomplete"
    assert any("ccp not loaded" in c for c in f.caveats)


def test_vmcore_facts_object():
    try:
        from triage.vmcore import VmcoreFacts, Fact
    except ImportError:  # pragma: no cover
        pytest.skip("vmcore stage not available")
    from triage.engine import evaluate_vmcore
    from triage.rulepack import FactCheck
    facts = VmcoreFacts()
    facts.psp.snp_initialized = Fact(True, "sev_device.snp_initialized")
    checks = [FactCheck("psp.snp_initialized", FieldTest([("equals", True)])),
              FactCheck("psp.cmd_in_flight", FieldTest([("equals", True)]))]
    result = evaluate_vmcore(checks, facts)
    assert [row["result"] for row in result.checks] == ["ok", "missing"]
    assert result.status == "incomplete"
    assert evaluate_vmcore(checks, facts.to_dict()).status == "incomplete"


def test_fix_boot_first_for_next_boot(tmp_path):
    r = rule(tmp_path, """\
        fix_boot: first
        fixed_by:
          - {commit: abcdef123456, subject: fix, mainline: "6.11"}
        match:
          scope: next_boot
          first:
            sequence:
              - {kind: kernel_panic}
          then:
            sequence:
              - {kind: oops}
        """)
    boots = [Boot("test.log", 0, 1, 9, "banner", ended="panic", release="6.12.0"),
             Boot("test.log", 1, 10, 19, "banner", release="6.10.0")]
    (f,) = match([capture([ev("kernel_panic", None, 5, 0), ev("oops", None, 12, 1)], boots)], [r])
    assert f.boot == 1 and f.release == "6.10.0"
    assert f.fix.status == "fixed" and f.fix.explanation.startswith("boot 0")


@pytest.mark.parametrize("count", [10, 100])
def test_equals_on_bare_hex_field_does_not_depend_on_event_count(tmp_path, count):
    """Regression: the field index (used above 64 candidates) normalised bare hex differently from the
    per-event test, so 'pf_address: ffff9f5340805000' matched in a boot of 10 events and not of 100."""
    r = rule(tmp_path, "match:\n  sequence:\n    - kind: oops\n      fields:\n        pf_address: 0xffff9f5340805000\n")
    events = [ev("oops", None, i + 1, pf_address=f"{0xffff9f5340800000 + i * 0x1000:x}") for i in range(count)]
    events.append(ev("oops", None, count + 1, pf_address="ffff9f5340805000"))
    (f,) = match([capture(events)], [r])
    assert f.lines == [6, count + 1]
