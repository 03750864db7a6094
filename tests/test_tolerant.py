"""The tolerant envelope: every layer a real capture puts around a kernel line, and lines split in two.

Lines are taken from the real captures in tests/corpus/real/ (the number in each id names the
capture); the property tests at the end throw random layers at real lines.
"""
from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from triage.errors import InputError
from triage.ingest.envelope import parse_line

from .conftest import FOUNDING, parse_text

LAYERS = [
    # (id, raw line, expected body, origin, timestamp, level)
    ("103-table-pipe", "  | AMD-Vi: Completion-Wait loop timed out", "AMD-Vi: Completion-Wait loop timed out", None, None, None),
    ("138-empty-host", "Jun 15 11:59:16   kernel: AMD-Vi: Completion-Wait loop timed out",
     "AMD-Vi: Completion-Wait loop timed out", "journal", None, None),
    ("217-no-host", "Jan 15 00:53:02 kernel: INFO: task kworker/303:0:77625 blocked for more than 122 seconds.",
     "INFO: task kworker/303:0:77625 blocked for more than 122 seconds.", "journal", None, None),
    ("126-mono-no-host", "[  126.228774] kernel: ccp 0000:01:00.5: sev command 0x85 timed out, disabling PSP",
     "ccp 0000:01:00.5: sev command 0x85 timed out, disabling PSP", "journal", 126.228774, None),
    ("137-blanked-stamp", "[] AMD-Vi: Event logged [IO_PAGE_FAULT device=00:00.0 domain=0x0000 address=0xffdefa80 flags=0x0050]",
     "AMD-Vi: Event logged [IO_PAGE_FAULT device=00:00.0 domain=0x0000 address=0xffdefa80 flags=0x0050]", "dmesg", None, None),
    ("204-dmesg-x-H", "kern  :warn  : [  +0.000007] WARNING: CPU: 6 PID: 2810353 at",
     "WARNING: CPU: 6 PID: 2810353 at", "dmesg", None, 4),
    ("206-dmesg-T-german", "[Mo Apr 29 20:44:47 2019] INFO: task btrfs-transacti:10227 blocked for",
     "INFO: task btrfs-transacti:10227 blocked for", "dmesg", None, None),
    ("207-kmsg", "2,3508,4363269431,-;kernel BUG at fs/inode.c:611!", "kernel BUG at fs/inode.c:611!", "kmsg", 4363.269431, 2),
    ("236-talosctl", "kantai1: kern: warning: [2025-02-25T16:19:43.741350529Z]: WARNING:", "WARNING:", "journal", None, 4),
    ("235-dmesg-H", "[  +0.005254] kernel BUG at fs/ext4/inode.c:2731!", "kernel BUG at fs/ext4/inode.c:2731!", "dmesg", None, None),
    ("130-kernel-tag", "kernel: [   13.134460] AMD-Vi: Event logged [", "AMD-Vi: Event logged [", "journal", 13.134460, None),
    ("html-escaped", "&gt; [    1.000000] AMD-Vi: Completion-Wait loop timed out", "AMD-Vi: Completion-Wait loop timed out",
     None, 1.0, None),
    ("markdown-bold", "**[    1.376701] Kernel panic - not syncing: timer doesn't work through Interrupt-remapped IO-APIC**",
     "Kernel panic - not syncing: timer doesn't work through Interrupt-remapped IO-APIC", None, 1.376701, None),
    ("bullet", "- [    0.738341] AMD-Vi: Completion-Wait loop timed out", "AMD-Vi: Completion-Wait loop timed out", None, 0.738341, None),
    ("rfc5424", "<4>1 2024-05-01T10:00:00.123Z host kernel - - - AMD-Vi: Completion-Wait loop timed out",
     "AMD-Vi: Completion-Wait loop timed out", "journal", None, 4),
]


@pytest.mark.parametrize("raw, body, origin, timestamp, level", [x[1:] for x in LAYERS], ids=[x[0] for x in LAYERS])
def test_layer(raw, body, origin, timestamp, level):
    line = parse_line("t", 1, raw.encode())
    assert line.body == body
    if origin is not None:
        assert line.origin == origin
    assert line.timestamp == timestamp
    assert line.level == level


@pytest.mark.parametrize("text, event_type, device", [
    # 130: kernels before 4.x printed the record's fields with a second printk
    (b"kernel: [   13.134460] AMD-Vi: Event logged [\n"
     b"kernel: [   13.137925] INVALID_DEVICE_REQUEST device=00:00.1 address=0x000000fdf8000020 flags=0x0a00]\n",
     "INVALID_DEVICE_REQUEST", "00:00.1"),
    # 105: format=flowed broke the line after "Event logged "
    (b"     [    4.194306] nvme 0000:01:00.0: AMD-Vi: Event logged \n"
     b"[IO_PAGE_FAULT domain=0x000c address=0xffffc080 flags=0x0050]\n", "IO_PAGE_FAULT", "0000:01:00.0"),
    # 101: a mail client wrapped the syslog line inside the record
    (b"Nov 29 10:50:00 node1 kernel: AMD-Vi: Event logged [IO_PAGE_FAULT\n"
     b"device=42:00.0 domain=0x005e address=0xfffffffdf8030000 flags=0x0008]\n", "IO_PAGE_FAULT", "42:00.0"),
])
def test_event_records_split_over_two_lines_are_one_event(text, event_type, device):
    capture = parse_text(text)
    (event,) = capture.events
    assert (event.kind, event.line, event.end_line) == ("iommu_event", 1, 2)
    assert event.fields["event_type"] == event_type and event.fields["device"] == device
    assert event.fields["joined"] is True and capture.plain_lines == 0


def test_an_open_record_without_its_fields_stays_one_line():
    capture = parse_text(b"[    1.0] AMD-Vi: Event logged [\n[    1.1] AMD-Vi: Completion-Wait loop timed out\n")
    assert [(e.kind, e.message, e.end_line) for e in capture.events] == [
        ("iommu_event", "event_logged", 1), ("amd_vi", "completion_wait_timeout", 2)]


REAL = [line for line in FOUNDING.read_bytes().splitlines() if b"AMD-Vi" in line or b"Kernel panic" in line]
PREFIXES = ["> ", ">> ", "> > ", "  | ", "- ", "* ", "**", "`", "<pre>", "&gt; ", "\t", "    ",
            "Jan 30 14:55:04 host kernel: ", "Jan 30 14:55:04   kernel: ", "2024-05-01T10:00:00+02:00 host kernel: ",
            "kern  :err   : ", "6,1234,5678901,-;", "<4>", "EMERGENCY ", "kernel: "]


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.sampled_from(PREFIXES), max_size=3), st.sampled_from(REAL))
def test_random_layers_keep_the_message(prefixes, line):
    """Any stack of real-world layers in front of a real kernel line: no crash, the message is kept."""
    raw = "".join(prefixes).encode() + line
    parsed = parse_line("t", 1, raw)
    message = line.split(b"] ", 1)[-1].decode("utf-8", "replace").strip()
    assert message.split(":")[0] in parsed.body or message[:20] in parsed.raw


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.one_of(st.sampled_from(REAL), st.text(max_size=40).map(lambda t: t.encode("utf-8", "replace"))),
                max_size=30), st.sampled_from([b"\n", b"\r\n", b"=\n"]))
def test_prose_and_wrapping_never_lose_a_line(lines, separator):
    data = separator.join(lines)
    try:
        capture = parse_text(data)
    except InputError as exc:  # mostly control characters: refused in one line, which is fine
        assert "\n" not in str(exc)
        return
    assert capture.plain_lines + sum(len(e.text) for e in capture.events) == capture.total_lines


def test_quoted_printable_mail_text_is_decoded_and_soft_breaks_joined():
    """102, 200, 255...: a mail's text part in quoted-printable; =3D, =20 decoded, '=' line ends joined."""
    text = (b"Content-Type: text/plain; charset=utf-8\nContent-Transfer-Encoding: quoted-printable\n\n"
            b"[  100.1] xhci_hcd 0000:01:00.0: AMD-Vi: Event logged [IO_PAGE_FAULT domain=3D0x0000 address=\n"
            b"=3D0xff flags=3D0x0050]\n"
            b"[  101.0] AMD-Vi: Completion-Wait loop timed out=20\n")
    capture = parse_text(text)
    fault, timeout = capture.events
    assert (fault.kind, fault.line, fault.end_line, fault.fields["address"]) == ("iommu_event", 4, 5, 0xFF)
    assert timeout.message == "completion_wait_timeout"
    assert capture.plain_lines + sum(len(e.text) for e in capture.events) == capture.total_lines == 6


def test_equals_signs_outside_a_quoted_printable_mail_are_left_alone():
    capture = parse_text(b"[  100.1] AMD-Vi: Event logged [IO_PAGE_FAULT device=00:00.0 domain=0000 address=\n")
    assert capture.events[0].text == ["[  100.1] AMD-Vi: Event logged [IO_PAGE_FAULT device=00:00.0 domain=0000 address="]


def test_syslog_wall_clock_becomes_seconds_within_the_boot():
    """101: two page faults eleven hours apart in syslog are not a storm (GENERIC-IOMMU-FAULTS used a
    window it could not measure)."""
    capture = parse_text(
        b"Nov 29 10:50:00 node1 kernel: AMD-Vi: Event logged [IO_PAGE_FAULT device=42:00.0 domain=0x005e "
        b"address=0xfffffffdf8030000 flags=0x0008]\n"
        b"Nov 29 22:02:03 node1 kernel: AMD-Vi: Event logged [IO_PAGE_FAULT device=c8:02.1 domain=0x005f "
        b"address=0xfffffffdf8060000 flags=0x0008]\n"
        b"2024-05-01T10:00:00.250+02:00 node1 kernel: AMD-Vi: Completion-Wait loop timed out\n")
    assert [e.timestamp for e in capture.events][:2] == [0.0, 11 * 3600 + 12 * 60 + 3]
    assert capture.events[2].timestamp is not None
