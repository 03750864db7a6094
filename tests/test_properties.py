"""Property-based tests: no input crashes or hangs the parser, and every line is accounted for."""
from __future__ import annotations

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from triage.ingest.envelope import parse_line
from triage.errors import InputError

from .conftest import FOUNDING, QEMU_LOG, parse_text

REAL_LINES = FOUNDING.read_bytes().splitlines() + QEMU_LOG.read_bytes().splitlines()[395:445]

FRAGMENTS = [
    b"[    1.000000] ", b"[  767.964958][ T1042] ", b"> ", b">>> EMERGENCY ", b"<4>", b"Jan 30 14:55:04 host kernel: ",
    b"AMD-Vi: ", b"iommu ivhd0: AMD-Vi: Event logged [", b"IO_PAGE_FAULT device=0000:02:00.0 ", b"]",
    b"Kernel panic - not syncing: ", b"BUG: unable to handle page fault for address: ", b"#PF: ",
    b"CPU: 0 PID: 1 Comm: x Not tainted 6.1.0 #1", b"Call Trace:", b" <TASK>", b" foo+0x1/0x2", b"RIP: 0010:",
    b"---[ end trace 0 ]---", b"Linux version 6.1.0 (x@y)", b"Command line: elfcorehdr=1K", b"ccp 0000:01:00.1: ",
    b"SEV-SNP: ", b"\x1b[31m", b"\r", b"\x00", b"\xff\xfe", b"\t", b"{\"MESSAGE\":", b"-- Boot 1 --", b"(", b"[",
    b"Completion-Wait loop timed out", b"Decompressing Linux...", b"..TIMER: vector=0x30", b"WARNING: ",
]

line_strategy = st.lists(st.one_of(st.sampled_from(FRAGMENTS), st.binary(max_size=12)), max_size=8).map(b"".join)
capture_strategy = st.lists(st.one_of(line_strategy, st.sampled_from(REAL_LINES)), max_size=60).map(b"\n".join)


def _accounted(data: bytes) -> None:
    try:
        capture = parse_text(data)
    except InputError as exc:  # refusing binary junk with a clear, one-line message is fine
        assert str(exc).startswith("<test>: ") and "\n" not in str(exc)
        return
    if capture.input_error:  # compressed data that ends early: the readable part, and one line saying so
        assert "\n" not in capture.input_error and capture.input_error.startswith("<test>: ")
        return
    lines = data.replace(b"\r\n", b"\n").replace(b"\r", b"\n")  # a bare CR is a line break too
    expected = lines.count(b"\n") + (1 if lines and not lines.endswith(b"\n") else 0)
    assert capture.total_lines == expected
    assert capture.plain_lines + sum(len(e.text) for e in capture.events) == capture.total_lines
    for event in capture.events:
        assert 1 <= event.line <= event.end_line <= capture.total_lines
        assert 0 <= event.boot < len(capture.boots)
    boots = capture.boots
    assert [b.index for b in boots] == list(range(len(boots)))


@settings(max_examples=300, deadline=5000, suppress_health_check=[HealthCheck.too_slow])
@given(capture_strategy)
def test_random_captures_never_crash_and_every_line_is_accounted_for(data):
    _accounted(data)


@settings(max_examples=150, deadline=5000, suppress_health_check=[HealthCheck.too_slow])
@given(st.data())
def test_mutated_real_captures(data):
    lines = list(REAL_LINES)
    for _ in range(data.draw(st.integers(0, 8))):
        op = data.draw(st.sampled_from(["delete", "duplicate", "garble", "split", "swap"]))
        i = data.draw(st.integers(0, len(lines) - 1))
        if op == "delete" and len(lines) > 1:
            del lines[i]
        elif op == "duplicate":
            lines.insert(i, lines[i])
        elif op == "garble":
            cut = data.draw(st.integers(0, len(lines[i])))
            lines[i] = lines[i][:cut] + data.draw(st.binary(max_size=8)) + lines[i][cut:]
        elif op == "split":
            cut = data.draw(st.integers(0, len(lines[i])))
            lines[i:i + 1] = [lines[i][:cut], lines[i][cut:]]
        elif op == "swap":
            j = data.draw(st.integers(0, len(lines) - 1))
            lines[i], lines[j] = lines[j], lines[i]
    _accounted(b"\n".join(lines) + b"\n")


@settings(max_examples=500, deadline=2000)
@given(st.binary(max_size=400))
def test_any_single_line_parses(raw):
    line = parse_line("t", 1, raw.replace(b"\n", b""))
    assert line.number == 1 and isinstance(line.body, str)


@settings(max_examples=50, deadline=10000)
@given(st.integers(1, 50), st.sampled_from([b"(", b"[", b"a", b" ", b"0x", b"+0x1/0x", b"AMD-Vi: "]))
def test_pathological_repetition_does_not_hang(n, piece):
    _accounted(b"[    1.000000] " + piece * (n * 400) + b"\n")
