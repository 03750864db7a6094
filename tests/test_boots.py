"""Splitting captures into boots, and what each boot was."""
from __future__ import annotations

import json

from triage.ingest import read_capture

from .conftest import FOUNDING, QEMU_LOG, parse_text, shared


def test_qemu_two_kernels():
    boots = read_capture(str(QEMU_LOG)).boots
    assert [(b.first_line, b.started_by, b.role, b.ended) for b in boots] == [
        (1, "banner", "first", "panic"), (440, "banner", "kdump", "reboot")]
    first, kdump = boots
    assert first.release == kdump.release == "6.1.0-56-amd64" and first.release_from == "banner"
    assert "crashkernel=256M" in first.command_line and "elfcorehdr=2080116K" in kdump.command_line
    assert first.kdump_loaded and first.panic_message == "sysrq triggered crash"
    assert first.hardware.startswith("QEMU Standard PC (Q35 + ICH9, 2009)")
    assert first.last_line == 439 and first.last_timestamp == 8.309370
    assert kdump.first_timestamp == 0.0


def test_founding_thread_excerpts_are_separate_boots():
    boots = read_capture(str(FOUNDING)).boots
    assert [(b.first_line, b.started_by) for b in boots] == [(1, "start of input"), (35, "after panic"), (100, "timestamp reset")]
    assert boots[0].ended == "panic" and boots[0].panic_message == "timer doesn't work through Interrupt-remapped IO-APIC"
    assert boots[0].role == "unknown"  # one quoted line tells nothing about which kernel it was
    assert [b.role for b in boots[1:]] == ["kdump", "kdump"]
    assert boots[1].release == "6.11.0-rc6-next-20240903-snp-host-f2a41ff576cc+"
    assert boots[1].release_from == "report (CPU: line)"
    assert boots[1].last_timestamp == 2.077901 and boots[2].first_timestamp == 1.708959


def test_unexpected_reboot_with_bios_and_decompressor():
    log = next(shared("corpus", "real-dev").glob("029*.log"))
    boots = read_capture(str(log)).boots
    assert len(boots) == 2
    assert boots[0].ended == "next boot" and boots[0].last_line < boots[1].first_line
    assert boots[1].started_by == "decompressor" and boots[1].release == "4.20.0-rc3+"


def test_release_from_boot_image_when_the_banner_is_cut():
    log = next(shared("corpus", "real-dev").glob("039*.log"))
    boot = read_capture(str(log)).boots[0]
    assert boot.release == "6.5.13-1-pve" and boot.release_from == "command line (BOOT_IMAGE)"


def test_kdump_role_from_panic_with_kdump_loaded():
    text = """\
[  100.0] Kernel panic - not syncing: Fatal exception
[  100.0] CPU: 3 PID: 1 Comm: init Kdump: loaded Not tainted 6.8.0-45-generic #45-Ubuntu
[    0.000000] Linux version 6.8.0-45-generic (buildd@lcy02) #45-Ubuntu SMP
"""
    boots = parse_text(text).boots
    assert [(b.role, b.role_reason) for b in boots] == [
        ("first", "panicked; the next boot is its kdump kernel"), ("kdump", "follows a panic with 'Kdump: loaded'")]


def test_journal_boot_markers_and_json_boot_ids():
    text = """\
-- Boot 1a2b3c --
Sep 09 12:00:00 host kernel: Linux version 6.11.0 (x@y) #1 SMP
Sep 09 12:00:01 host kernel: Command line: root=/dev/sda crashkernel=512M
-- Boot 4d5e6f --
Sep 09 12:05:00 host kernel: Linux version 6.11.0 (x@y) #1 SMP
"""
    boots = parse_text(text).boots
    assert len(boots) == 2 and boots[0].role == "first"
    records = [
        {"MESSAGE": "Linux version 6.1.0 (x@y) #1", "_TRANSPORT": "kernel", "_BOOT_ID": "a", "_SOURCE_MONOTONIC_TIMESTAMP": "0"},
        {"MESSAGE": "Kernel panic - not syncing: sysrq triggered crash", "_TRANSPORT": "kernel", "_BOOT_ID": "a",
         "_SOURCE_MONOTONIC_TIMESTAMP": "9000000"},
        {"MESSAGE": "Linux version 6.1.0 (x@y) #1", "_TRANSPORT": "kernel", "_BOOT_ID": "b", "_SOURCE_MONOTONIC_TIMESTAMP": "0"},
    ]
    capture = parse_text("\n".join(json.dumps(r) for r in records))
    assert [b.ended for b in capture.boots] == ["panic", "cut off"]


def test_printk_dropped_and_torn_lines_are_counted():
    text = "[    1.000000] Linux version 6.1.0 (x@y) #1\n[    2.000000] ** 12 printk messages dropped **\n" \
           "[    3.000000] foo bar[    3.100000] AMD-Vi: Completion-Wait loop timed out\n"
    boot = parse_text(text).boots[0]
    assert boot.dropped_messages == 12 and boot.torn_lines == 1


def test_interleaved_cpu_stamps_do_not_split_a_boot():
    text = "[ 5.000100] Linux version 6.1.0 (x@y) #1\n[ 5.000300][ C1] AMD-Vi: Completion-Wait loop timed out\n" \
           "[ 5.000200][ C0] AMD-Vi: Completion-Wait loop timed out\n"
    assert len(parse_text(text).boots) == 1


def test_quoting_program_echoing_old_lines_is_not_a_reboot():
    capture = read_capture(str(QEMU_LOG))
    assert len(capture.boots) == 2
    assert not any(e.line in range(383, 398) for e in capture.events)  # LAB[first]: echoes
