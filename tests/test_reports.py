"""Multi-line kernel reports, checked against the facts a careful reader takes
from real captures (../shared/corpus/real-dev/*.yaml) and the shipped samples."""
from __future__ import annotations


import pytest
import yaml

from triage.model import REPORT_KINDS

from .conftest import QEMU_LOG, parse_text, shared
from triage.ingest import read_capture

KIND_OF_FACT = {"oopses": ("oops", "bug"), "bugs": ("bug",), "warnings": ("warning",), "lockups": ("lockup",)}


def _facts(name: str):
    log = next(shared("corpus", "real-dev").glob(f"{name}*.log"))
    facts = yaml.safe_load(log.with_suffix(".yaml").read_text())
    return read_capture(str(log)), facts


def _reports(capture):
    return [e for e in capture.events if e.kind in REPORT_KINDS]


def _reliable(event, n=5):
    return [f.function for f in event.get("frames") if f.reliable][:n]


@pytest.mark.parametrize("name", ["022", "023", "024", "025", "026", "027"])
def test_satyr_reports_match_the_facts(name):
    capture, facts = _facts(name)
    expected = []
    for key, kinds in KIND_OF_FACT.items():
        for fact in facts.get(key) or []:
            expected.append((kinds, fact))
    reports = [e for e in _reports(capture) if e.kind != "call_trace"]
    assert len(reports) == len(expected)
    for event, (kinds, fact) in zip(reports, expected):
        assert event.kind in kinds
        assert event.text[0].strip().endswith(fact["first_line"].strip()) or fact["first_line"] in event.text[0]
        assert _reliable(event) == fact["call_trace_first5"]
        rip = fact.get("rip", "")
        if rip and not rip.startswith("unknown"):
            assert event.get("rip").function == rip
        release = str(facts["kernel_version"])
        assert event.get("release") == release or capture.boots[0].release == release


def test_oops_old_format_gpf_fields():
    capture, _ = _facts("023")
    event = _reports(capture)[0]
    assert event.kind == "oops" and event.get("oops_code") == "0000"
    assert event.get("comm") == "X" and event.get("pid") == 946 and event.get("tainted") is False
    assert event.get("guilty_function") == "find_get_entry"
    assert event.title == "general protection fault in find_get_entry"


def test_split_lines_and_null_deref():
    capture, facts = _facts("022")
    event = _reports(capture)[0]
    assert event.kind == "oops" and event.get("pf_address") == "0000000000000008"
    assert event.get("hardware", "").startswith("System manufacturer System Product Name")
    assert event.end_line == 49  # the Modules linked in / CR2 trailer after the trace belongs to it


def test_kernel_bug_absorbs_invalid_opcode():
    capture, _ = _facts("027")
    event = _reports(capture)[0]
    assert event.kind == "bug" and event.get("bug_file") == "include/net/cfg80211.h" and event.get("bug_line") == 2473
    assert event.get("oops_code") == "0000"
    assert event.get("trace_id") == "eba191717996895b"
    assert event.get("guilty_function") == "wdev_priv"


def test_hung_tasks_nmi_backtraces_and_panic_with_caller_ids():
    capture, facts = _facts("028")
    reports = _reports(capture)
    hung = [e for e in reports if e.kind == "lockup"]
    assert [e.get("pid") for e in hung] == [7561] + facts["reports"][0]["other_tasks"]
    assert _reliable(hung[0]) == facts["reports"][0]["call_trace_first5_first_report"]
    assert all(e.caller == "T1042" for e in hung)
    nmi = [e for e in reports if e.kind == "call_trace" and e.get("header_class") == "NMI_BACKTRACE"]
    assert [e.get("cpu") for e in nmi] == [1, 0]
    assert nmi[1].get("rip").function == facts["reports"][1]["cpu0_rip"]
    assert _reliable(nmi[1]) == facts["reports"][1]["cpu0_call_trace_first5"]
    panic = [e for e in reports if e.kind == "kernel_panic"][0]
    assert panic.get("panic_message") == "hung_task: blocked tasks"
    assert _reliable(panic) == facts["panics"][0]["call_trace_first5"]
    assert capture.boots[0].ended == "panic"


def test_journal_soft_lockups_at_the_stated_lines():
    capture, facts = _facts("047")
    reports = [e for e in _reports(capture) if e.kind != "call_trace"]
    assert [e.line for e in reports] == [r["line_in_file"] for r in facts["reports"]]
    for event, fact in zip(reports, facts["reports"]):
        if "call_trace_first5" in fact:
            assert _reliable(event) == fact["call_trace_first5"]
        if "rip" in fact:
            assert event.get("rip").function == fact["rip"]
    # userspace 'WARNING:' lines of gnome-session are not kernel warnings
    assert [e.line for e in reports if e.kind == "warning"] == [90]
    assert all(e.get("kdump_loaded") for e in reports if e.get("cpu") is not None and e.kind == "lockup" and e.get("release"))


def test_srso_warning_substring_is_not_a_splat():
    capture, _ = _facts("039")
    assert _reports(capture) == []


def test_panic_report_of_the_qemu_capture():
    capture = read_capture(str(QEMU_LOG))
    panic = [e for e in capture.events if e.kind == "kernel_panic"][0]
    assert (panic.line, panic.end_line) == (403, 439)
    assert panic.get("cpu") == 1 and panic.get("comm") == "init" and panic.get("kdump_loaded") is True
    assert panic.get("release") == "6.1.0-56-amd64"
    frames = panic.get("frames")
    assert str(frames[0]) == "dump_stack_lvl+0x44/0x5c"
    assert frames[7].reliable is False and frames[7].function == "filp_close"
    assert {f.context for f in frames} == {"TASK"}
    # sysrq_handle_crash() is where the deliberate crash happens (drivers/tty/sysrq.c): the subject
    assert panic.get("guilty_function") == "sysrq_handle_crash"
    assert panic.get("rip").address == "0x47b7a0"


def test_warning_new_format_and_irq_context():
    text = """\
[  100.000001] ------------[ cut here ]------------
[  100.000002] WARNING: CPU: 6 PID: 0 at net/sched/sch_generic.c:447 dev_watchdog+0x258/0x260
[  100.000003] Modules linked in: igb
[  100.000004] CPU: 6 PID: 0 Comm: swapper/6 Tainted: G        W         5.3.0-29-generic #31-Ubuntu
[  100.000005] RIP: 0010:dev_watchdog+0x258/0x260
[  100.000006] Call Trace:
[  100.000007]  <IRQ>
[  100.000008]  ? pfifo_fast_enqueue+0x150/0x150
[  100.000009]  call_timer_fn+0x32/0x130
[  100.000010]  </IRQ>
[  100.000011]  do_idle+0x1f0/0x270
[  100.000012] ---[ end trace 9b8c5a3e0a8d1f2e ]---
"""
    event = [e for e in parse_text(text).events if e.kind == "warning"][0]
    assert (event.line, event.end_line) == (2, 12)
    assert event.get("warn_where") == "net/sched/sch_generic.c:447" and event.get("guilty_function") == "dev_watchdog"
    assert [(f.function, f.context, f.reliable) for f in event.get("frames")] == [
        ("pfifo_fast_enqueue", "IRQ", False), ("call_timer_fn", "IRQ", True), ("do_idle", None, True)]
    assert event.get("tainted") == "G        W" and event.title == "WARNING at net/sched/sch_generic.c:447 in dev_watchdog"


def test_module_frames():
    text = "[ 1.0] BUG: unable to handle page fault for address: ffffc90000a3c000\n" \
           "[ 1.0] RIP: 0010:amdgpu_vm_sdma_commit+0x59/0x130 [amdgpu]\n" \
           "[ 1.0] Call Trace:\n[ 1.0]  amdgpu_vm_update_ptes+0x4d5/0x760 [amdgpu]\n"
    event = parse_text(text).events[0]
    assert event.get("rip").module == "amdgpu" and event.get("frames")[0].module == "amdgpu"
    assert event.get("guilty_function") == "amdgpu_vm_sdma_commit"
