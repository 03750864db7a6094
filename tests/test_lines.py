"""The envelope of one line: every capture format, on real captured text."""
from __future__ import annotations

import pytest
from lark import Lark

from triage.ingest import grammar
from triage.ingest.envelope import parse_line
from triage.paths import data_dir

from .conftest import FOUNDING, QEMU_LOG


def line(text: str):
    return parse_line("t", 1, text.encode())


@pytest.mark.parametrize(
    "raw, stamp, level, caller, quote, origin, kernel, body",
    [
        # raw dmesg (QEMU serial capture)
        ("[    8.305586] Kernel panic - not syncing: sysrq triggered crash", 8.305586, None, None, 0, "console", True,
         "Kernel panic - not syncing: sysrq triggered crash"),
        # level name written by a console capture tool, quoted three deep in a mail (founding thread)
        (">>> EMERGENCY [ 1.376701] Kernel panic - not syncing: timer doesn't work", 1.376701, 0, None, 3, "console",
         True, "Kernel panic - not syncing: timer doesn't work"),
        # "> >" quoting with blanks
        ("> > [ 1.723543] AMD-Vi: Translation is already enabled - trying to copy translation structures", 1.723543,
         None, None, 2, "console", True,
         "AMD-Vi: Translation is already enabled - trying to copy translation structures"),
        # CONFIG_PRINTK_CALLER fused with the stamp (syzkaller)
        ("[  767.964958][ T1042] INFO: task syz-executor013:7561 blocked for more than 143 seconds.", 767.964958,
         None, "T1042", 0, "console", True, "INFO: task syz-executor013:7561 blocked for more than 143 seconds."),
        ("[   44.381409][    C4]  BUG: KCSAN: data-race in e1000_clean_rx_irq+0x551/0xb10", 44.381409, None, "C4", 0,
         "console", True, " BUG: KCSAN: data-race in e1000_clean_rx_irq+0x551/0xb10"),
        # caller marker alone
        ("[T123] hello", None, None, "T123", 0, "console", True, "hello"),
        # /dev/kmsg style level
        ("<6>[    0.000000] Linux version 6.1.0-56-amd64", 0.0, 6, None, 0, "console", True, "Linux version 6.1.0-56-amd64"),
        # journalctl short (real-dev 047)
        ("Jan 30 14:55:04 homeserver kernel: watchdog: BUG: soft lockup - CPU#1 stuck for 22s! [jackett:333]", None,
         None, None, 0, "journal", True, "watchdog: BUG: soft lockup - CPU#1 stuck for 22s! [jackett:333]"),
        # a userspace line in the same journal: not the kernel
        ("Jan 30 14:28:09 homeserver gnome-session-binary[9505]: WARNING: Could not get session path for session.",
         None, None, None, 0, "journal", False, "WARNING: Could not get session path for session."),
        # journalctl short-iso and short-monotonic
        ("2024-09-09T12:00:00+0000 host kernel: AMD-Vi: Completion-Wait loop timed out", None, None, None, 0, "journal",
         True, "AMD-Vi: Completion-Wait loop timed out"),
        ("[   12.345678] host kernel: AMD-Vi: Completion-Wait loop timed out", 12.345678, None, None, 0, "journal", True,
         "AMD-Vi: Completion-Wait loop timed out"),
        # dmesg -x and dmesg -T
        ("kern  :err   : [   12.340000] AMD-Vi: Completion-Wait loop timed out", 12.34, 3, None, 0, "dmesg", True,
         "AMD-Vi: Completion-Wait loop timed out"),
        ("[Mon Sep  9 12:00:00 2024] AMD-Vi: Completion-Wait loop timed out", None, None, None, 0, "dmesg", True,
         "AMD-Vi: Completion-Wait loop timed out"),
        # the kernel's own "word word:" text is not a journal header (syzkaller 49)
        ("[  616.309156] divide error: 0000 [#1] SMP DEBUG_PAGEALLOC KASAN", 616.309156, None, None, 0, "console", True,
         "divide error: 0000 [#1] SMP DEBUG_PAGEALLOC KASAN"),
        # no envelope at all (decompressor, pasted oops)
        ("Decompressing Linux... Parsing ELF... done.", None, None, None, 0, "plain", True,
         "Decompressing Linux... Parsing ELF... done."),
    ],
)
def test_envelope_formats(raw, stamp, level, caller, quote, origin, kernel, body):
    parsed = line(raw)
    assert parsed.timestamp == stamp
    assert parsed.level == level
    assert parsed.caller == caller
    assert parsed.quote_depth == quote
    assert parsed.origin == origin
    assert parsed.kernel is kernel
    assert parsed.body == body


def test_torn_line_keeps_the_kernel_part():
    # satyr rhbz836206: a line corrupted by interleaving with another stream
    parsed = line("--2012-06-28 06:[  120.833075]  [<ffffffff8166bbe9>] system_call_fastpath+0x16/0x1b ")
    assert parsed.torn and parsed.timestamp == 120.833075
    assert parsed.body.strip().endswith("system_call_fastpath+0x16/0x1b")


def test_message_written_over_a_prompt():
    parsed = line("syzkaller login: [   35.184476] BUG: using __this_cpu_read() in preemptible [00000000] code")
    assert parsed.embedded and not parsed.torn
    assert parsed.body.startswith("BUG: using __this_cpu_read()")


def test_second_message_run_into_the_first():
    parsed = line("[   76.470085] syz-executor7: vmalloc: allocation failure: 34359738352 bytes"
                  "[   76.471107] BUG: unable to handle kernel paging request at ffffffffa4493138")
    assert parsed.torn and parsed.timestamp == 76.471107
    assert parsed.body.startswith("BUG: unable to handle kernel paging request")


def test_journal_json_record():
    parsed = line('{"MESSAGE":"AMD-Vi: Completion-Wait loop timed out","PRIORITY":"1","_TRANSPORT":"kernel",'
                  '"_SOURCE_MONOTONIC_TIMESTAMP":"2077901","_BOOT_ID":"abc"}')
    assert parsed.origin == "json" and parsed.kernel
    assert parsed.body == "AMD-Vi: Completion-Wait loop timed out"
    assert parsed.level == 1 and parsed.timestamp == pytest.approx(2.077901) and parsed.boot_id == "abc"


def test_journal_json_message_as_byte_array():
    parsed = line('{"MESSAGE":[65,77,68,45,86,105,58,32,255],"_TRANSPORT":"kernel"}')
    assert parsed.body.startswith("AMD-Vi: ")


def test_invalid_utf8_and_control_bytes_are_decoded_not_fatal():
    parsed = parse_line("t", 1, b"[    1.000000] AMD-Vi: \xff\xfe caf\xc3\xa9")
    assert parsed.timestamp == 1.0 and "\ufffd" in parsed.body


def test_huge_line_is_truncated_and_flagged():
    parsed = parse_line("t", 1, b"[    1.000000] " + b"A" * 200_000)
    assert parsed.truncated and len(parsed.raw) <= 64 << 10


@pytest.mark.parametrize(
    "raw",
    [
        "[    8.309370] CPU: 1 PID: 1 Comm: init Kdump: loaded Not tainted 6.1.0-56-amd64 #1  Debian 6.1.192-2",
        ">>> EMERGENCY [ 1.376701] Kernel panic - not syncing: timer doesn't work",
        "[  767.964958][ T1042] INFO: task syz-executor013:7561 blocked for more than 143 seconds.",
        "Jan 30 14:55:04 homeserver kernel: watchdog: BUG: soft lockup - CPU#1 stuck for 22s! [jackett:333]",
        "kern  :err   : [   12.34] AMD-Vi: Completion-Wait loop timed out",
        "<6>[    0.000000] Linux version 6.1.0-56-amd64",
    ],
)
def test_compiled_envelope_agrees_with_lark(raw):
    """The fast regex is compiled from grammars/envelope.lark: lark itself must read the line the same way."""
    text = (data_dir("grammars") / "envelope.lark").read_text()
    parser = Lark(text, start="envelope", parser="earley", lexer="dynamic", ambiguity="resolve")
    tree = parser.parse(raw)
    lark_parts = {tok.type: str(tok) for tok in tree.scan_values(lambda t: hasattr(t, "type"))}
    regex_parts = {k: v for k, v in grammar.envelope_regex().match(raw).groupdict().items() if v}
    assert lark_parts["BODY"].strip() == regex_parts["BODY"].strip()
    for slot in ("STAMP", "QUOTE", "LEVEL_NAME", "CALLER", "SYSLOG_HEAD", "DMESG_FACILITY", "PRI"):
        if slot in regex_parts:
            assert slot in lark_parts, slot


def test_stamp_padding_is_spaces_only():
    # found by hypothesis: \x1c counts as whitespace to Python but is no printk padding
    parsed = line("[\x1c 1.711588] AMD-Vi: in early_enable_iommus")
    assert parsed.timestamp is None and parsed.origin == "plain"


def test_bare_console_fast_path_agrees_with_the_envelope():
    """parse_line skips the full envelope for '[ stamp] text'; on real lines both must give the same Line."""
    from triage.ingest import envelope as env

    real = [line for path in (FOUNDING, QEMU_LOG) for line in path.read_bytes().splitlines()]
    for raw in real:
        fast = parse_line("t", 1, raw)
        slow_envelope = grammar.envelope_regex()
        saved = env._PLAIN_CONSOLE
        env._PLAIN_CONSOLE = __import__("re").compile(r"(?!)")  # never matches: the full envelope
        try:
            slow = parse_line("t", 1, raw, slow_envelope)
        finally:
            env._PLAIN_CONSOLE = saved
        assert fast == slow, raw
