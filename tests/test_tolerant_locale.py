"""Layers added for locales, indentation, wrapping at a space and journal json-pretty records.

Lines are taken from the real captures in tests/corpus/real/ (the number in each id names the
capture) and from ../shared/corpus/syzkaller; the property tests at the end throw random months,
indentation and wraps at real lines and check that no line is lost and prose stays prose.
"""
from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from triage.errors import InputError
from triage.ingest.envelope import parse_line
from triage.model import REPORT_KINDS

from .conftest import parse_text

#: month abbreviations as glibc's locales print them (C, de, fr, es, it, pt, nl)
MONTHS = ["Jan", "mar", "Mär", "Okt", "Dez", "janv.", "févr.", "avril", "juil.", "août", "déc.", "ene", "ago", "dic",
          "gen", "giu", "lug", "ott", "fev", "out", "mrt", "mei"]


@pytest.mark.parametrize("raw, body, origin", [
    # 312: journalctl short of a host in an es/it locale, 4.10's two-line AMD-Vi event
    ("mar 31 11:47:16 pi-MS-7A34 kernel: AMD-Vi: Event logged [", "AMD-Vi: Event logged [", "journal"),
    # 314: dmesg -T in fr_FR
    ("[mar. mars 22 09:18:20 2022] sdb: detected capacity change from 644245094400 to 751619276800",
     "sdb: detected capacity change from 644245094400 to 751619276800", "dmesg"),
    ("[lun. janv.  3 10:33:47 2022] 99491 pages reserved", "99491 pages reserved", "dmesg"),
    # 316: one field line of a journalctl -o json-pretty record quoted in a mail
    ('>         "_BOOT_ID" : "b03ed610f21d46ab8243a495ba5a0058",', '"_BOOT_ID" : "b03ed610f21d46ab8243a495ba5a0058",',
     "json"),
])
def test_locale_and_json_pretty_layers(raw, body, origin):
    line = parse_line("t", 1, raw.encode())
    assert (line.body.strip(), line.origin) == (body, origin)


def test_a_two_line_event_with_a_locale_month_is_one_event():
    capture = parse_text(
        "mar 12 05:57:11 pi-MSI-B350-Tomahawk-Kingstone kernel: AMD-Vi: Event logged [\n"
        "mar 12 05:57:11 pi-MSI-B350-Tomahawk-Kingstone kernel: IO_PAGE_FAULT device=24:00.0 domain=0x0003 "
        "address=0x000000f4004dc600 flags=0x0010]\n".encode())
    (event,) = capture.events
    assert (event.kind, event.fields["event_type"], event.fields["device"], event.end_line) == \
        ("iommu_event", "IO_PAGE_FAULT", "24:00.0", 2)


def test_json_pretty_boot_ids_split_boots():
    # 316 (cut): two records of two boots
    capture = parse_text(b'> {\n>         "_TRANSPORT" : "kernel",\n'
                         b'>         "_BOOT_ID" : "b03ed610f21d46ab8243a495ba5a0058",\n> }\n> {\n'
                         b'>         "_BOOT_ID" : "e2ae14a9def345aa803a13648b95429c",\n> }\n')
    assert len(capture.boots) == 2 and capture.total_lines == 7


def test_a_header_wrapped_at_a_space_is_rejoined():
    # 206 (dmesg -T, German, format=flowed): the hung-task header went on the next line without its space
    capture = parse_text("[Mo Apr 29 20:44:47 2019] INFO: task btrfs-transacti:10227 blocked for \n"
                         "more than 120 seconds.\n"
                         "[Mo Apr 29 20:44:47 2019] Call Trace:\n"
                         "[Mo Apr 29 20:44:47 2019]  schedule+0x32/0x80\n".encode())
    (report,) = [e for e in capture.events if e.kind in REPORT_KINDS]
    assert (report.kind, report.line, report.end_line) == ("lockup", 1, 4)


def test_a_report_line_indented_by_a_mail_is_read_but_a_markdown_code_block_is_not():
    # 142: the poster cut the syslog prefix and left its space; 243: a blog's four-space example block
    mail = parse_text(b" WARNING: CPU: 0 PID: 0 at kernel/workqueue.c:2771 flush_workqueue+0x3ca/0x420\n"
                      b"Jul 10 21:33:42 apu2c4 kernel: Modules linked in:\n")
    assert [e.kind for e in mail.events if e.kind in REPORT_KINDS] == ["warning"]
    blog = parse_text(b"    Kernel panic - not syncing: No init found.\n")
    assert not [e for e in blog.events if e.kind in REPORT_KINDS]


# ------------------------------------------------------------------ properties
REAL_BODIES = ["AMD-Vi: Event logged [IO_PAGE_FAULT device=24:00.0 domain=0x0003 address=0x000000f4004dc600 flags=0x0010]",
               "AMD-Vi: Completion-Wait loop timed out", "Kernel panic - not syncing: Fatal exception",
               "hrtimer: interrupt took 6635757 ns"]


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.sampled_from(MONTHS), st.integers(1, 31), st.sampled_from(["host", "pi-MS-7A34", ""]),
       st.sampled_from(REAL_BODIES), st.booleans())
def test_any_locale_month_keeps_the_message(month, day, host, body, dmesg_t):
    if dmesg_t:
        raw = f"[lun. {month} {day:2d} 10:33:47 2022] {body}"
    else:
        raw = f"{month} {day:2d} 11:47:16 {host + ' ' if host else ''}kernel: {body}"
    line = parse_line("t", 1, raw.encode())
    assert line.body == body and line.kernel
    assert dmesg_t or line.wallclock is not None  # a syslog line's time, whatever the locale


#: text without a colon: no header of any kernel report can form in it, whatever is put in front
PROSE = st.text(alphabet=st.characters(blacklist_categories=("Cs", "Cc"), blacklist_characters=":"), max_size=60)


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.tuples(st.sampled_from(["", " ", "  ", "    ", "> "]), PROSE), max_size=20),
       st.sampled_from(MONTHS))
def test_indented_or_dated_prose_never_becomes_a_report(lines, month):
    data = "\n".join(f"{indent}{month} 3 {text}" if i % 3 == 0 else indent + text
                     for i, (indent, text) in enumerate(lines)).encode()
    try:
        capture = parse_text(data)
    except InputError as exc:
        assert "\n" not in str(exc)
        return
    assert capture.plain_lines + sum(len(e.text) for e in capture.events) == capture.total_lines
    assert not [e for e in capture.events if e.kind in REPORT_KINDS]


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.integers(8, 60), st.sampled_from(["", " "]))
def test_wrapping_a_real_header_anywhere_never_loses_a_line(cut, indent):
    header = "INFO: task btrfs-transacti:10227 blocked for more than 120 seconds."
    data = f"{indent}{header[:cut]}\n{header[cut:]}\n Call Trace:\n  schedule+0x32/0x80\n".encode()
    capture = parse_text(data)
    assert capture.plain_lines + sum(len(e.text) for e in capture.events) == capture.total_lines == 4


def test_an_unreliable_marker_wrapped_away_from_its_frame_stays_with_it():
    # 234 (rsyslog precise stamps, every line wrapped by the mail client): "? " ended one line, the frame began the next
    capture = parse_text(
        b"Nov 16 12:33:15.314038 vsa-0000002a-vc-1 kernel: [78961.814054] Call Trace:\n"
        b"Nov 16 12:33:15.314040 vsa-0000002a-vc-1 kernel: [78961.814067]  ? \n"
        b"__schedule+0x290/0x8a0\n"
        b"Nov 16 12:33:15.314041 vsa-0000002a-vc-1 kernel: [78961.814070] \n"
        b"preempt_schedule_irq+0x37/0x60\n")
    (trace,) = [e for e in capture.events if e.kind in REPORT_KINDS]
    assert [(f.function, f.reliable) for f in trace.get("frames")][:1] == [("__schedule", False)]
    assert capture.plain_lines + sum(len(e.text) for e in capture.events) == capture.total_lines == 5


def test_powerpc_frames_are_frames():
    # 221 (openbmc list, POWER9 host): "[sp] [ip] func+off/size", " (unreliable)" after the first
    capture = parse_text(b"[   22.565071] NMI backtrace for cpu 7\n"
                         b"[   22.565110] Call Trace:\n"
                         b"[   22.565134] [c000003ff463f280] [c000000000c457d8] dump_stack+0xbc/0x104 (unreliable)\n"
                         b"[   22.565165] [c000003ff463f2c0] [c000000000c50af4] nmi_cpu_backtrace+0x104/0x130\n")
    (trace,) = [e for e in capture.events if e.kind in REPORT_KINDS]
    assert [f.function for f in trace.get("frames")] == ["dump_stack", "nmi_cpu_backtrace"]


def test_a_free_text_line_rejoined_from_two_counts_both():
    # found by hypothesis (tests/test_properties.py): "WARNING:" and " <TASK>" rejoin into a free-text
    # WARNING, which stays plain text: two lines, both accounted for
    capture = parse_text(b"WARNING: \n <TASK>")
    assert (capture.plain_lines, capture.total_lines, capture.events) == (2, 2, [])
