"""The issue's 'done when' on the founding LKML thread, through the CLI."""
from __future__ import annotations

import json
import subprocess
import sys

import pytest

from .conftest import FOUNDING, ROOT


def run(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "triage", *args], capture_output=True, text=True, cwd=ROOT, timeout=120)


@pytest.fixture(scope="module")
def events():
    result = run("events", str(FOUNDING))
    assert result.returncode == 0, result.stderr
    return [json.loads(line) for line in result.stdout.splitlines()]


def test_every_event_carries_the_common_fields(events):
    for event in events:
        assert event["schema"] == 3
        for key in ("kind", "source", "boot", "line", "end_line", "text", "timestamp", "level", "caller", "subsystem"):
            assert key in event


def test_copy_and_copied_dev_table_in_both_kdump_excerpts(events):
    copy = [(e["boot"], e["line"]) for e in events if e.get("message") == "translation_pre_enabled_copy"]
    copied = [(e["boot"], e["line"]) for e in events if e.get("message") == "dev_table_copied"]
    assert copy == [(1, 37), (2, 118)] and copied == [(1, 38), (2, 119)]


def test_cwb_timeout(events):
    timeouts = [e for e in events if e.get("message") == "completion_wait_timeout"]
    assert [(e["boot"], e["line"], e["timestamp"], e["subsystem"]) for e in timeouts] == [(1, 63, 2.077901, "AMD-Vi")]


def test_io_apic_timer_panic(events):
    panic = [e for e in events if e["kind"] == "kernel_panic"]
    assert len(panic) == 1 and (panic[0]["line"], panic[0]["end_line"]) == (24, 25)
    assert panic[0]["panic_message"] == "timer doesn't work through Interrupt-remapped IO-APIC"
    assert panic[0]["level"] == "emerg" and panic[0]["boot"] == 0


def test_dump_stack_trace_with_frames(events):
    trace = [e for e in events if e["kind"] == "call_trace"]
    assert len(trace) == 1 and (trace[0]["line"], trace[0]["end_line"]) == (39, 62)
    frames = trace[0]["frames"]
    assert [f["function"] for f in frames[:4]] == [
        "dump_stack_lvl", "dump_stack", "iommu_completion_wait.part.0.isra.0", "amd_iommu_flush_all_caches"]
    assert frames[4] == {"function": "memcpy_toio", "offset": 0x25, "size": 0xC0, "module": None, "reliable": False,
                         "context": "TASK", "address": None, "line": 47}
    assert frames[-1]["function"] == "common_startup_64"
    assert trace[0]["guilty_function"] == "iommu_completion_wait"
    assert trace[0]["release"] == "6.11.0-rc6-next-20240903-snp-host-f2a41ff576cc+"
    assert trace[0]["hardware"] == "AMD Corporation ETHANOL_X/ETHANOL_X, BIOS RXM100AB 10/17/2022"


def test_page_fault_oops_with_pf_details(events):
    oops = [e for e in events if e["kind"] == "oops"]
    assert len(oops) == 1 and (oops[0]["line"], oops[0]["end_line"], oops[0]["boot"]) == (121, 123, 2)
    assert oops[0]["pf_address"] == "ffff9f5340805000"
    assert oops[0]["pf_access"] == "supervisor read access in kernel mode"
    assert oops[0]["pf_error_code"] == 0 and oops[0]["pf_reason"] == "not-present page"


def test_quoted_c_code_and_prose_yield_no_events(events):
    assert not [e for e in events if 64 <= e["line"] <= 99]
    assert not [e for e in events if e["line"] <= 23 or 26 <= e["line"] <= 34]


def test_boots_command_shows_the_separate_kdump_boots():
    result = run("boots", "--json", str(FOUNDING))
    boots = [json.loads(line) for line in result.stdout.splitlines()]
    assert [(b["index"], b["first_line"], b["role"], b["ended"]) for b in boots] == [
        (0, 1, "unknown", "panic"), (1, 35, "kdump", "next boot"), (2, 100, "kdump", "cut off")]
    table = run("boots", str(FOUNDING))
    assert table.returncode == 0 and "timestamp" in table.stdout and "kdump" in table.stdout and "3 boots" in table.stdout
