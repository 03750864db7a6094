"""Real console logs at scale: syzkaller's 747 report tests and the real-dev set."""
from __future__ import annotations

import re

import pytest

from triage.ingest import messages, reports
from triage.ingest import read_capture
from triage.ingest.envelope import parse_line
from triage.ingest.scan import trigger_pattern
from triage.model import REPORT_KINDS
from triage.ingest import Input

from .conftest import SAMPLES, shared

pytestmark = pytest.mark.corpus


def load_syzkaller(path):
    """Header up to the first empty line; the log after it, without a REPORT: section (SOURCE.md)."""
    lines = path.read_bytes().replace(b"\r", b"").split(b"\n")
    header, i = {}, 0
    while i < len(lines) and lines[i] != b"":
        text = lines[i].decode("utf-8", "replace")
        if not text.startswith("#") and ":" in text:
            key, value = text.split(":", 1)
            header.setdefault(key.strip(), []).append(value.strip())
        i += 1
    log = lines[i + 1:]
    for j in range(len(log) - 1):
        if log[j] == b"" and log[j + 1].startswith(b"REPORT:"):
            log = log[:j]
            break
    return header, b"\n".join(log)


def test_syzkaller_detection_agrees_with_titles():
    directory = shared("corpus", "syzkaller")
    files = sorted(p for p in directory.iterdir() if p.name.isdigit())
    assert len(files) == 747
    agree, disagree = 0, []
    for path in files:
        header, log = load_syzkaller(path)
        capture = read_capture(Input.from_text(log, path.name))  # must not raise
        assert capture.plain_lines + sum(len(e.text) for e in capture.events) == capture.total_lines
        has_report = any(e.kind in REPORT_KINDS and e.kind != "call_trace" for e in capture.events)
        expected = bool((header.get("TITLE") or [""])[0])
        if has_report == expected:
            agree += 1
        else:
            disagree.append(path.name)
    share = agree / len(files)
    print(f"syzkaller: {agree}/{len(files)} = {share:.1%} agree; disagree: {' '.join(disagree)}")
    assert share >= 0.95


_TITLE_FUNCTION = re.compile(r" in (\S+?)(?:\.(?:part|isra|constprop|cold)\.NUM)?(?: at addr ADDR)?$")


def test_syzkaller_guilty_function():
    """The function after the last ' in ' of TITLE/ALT, where the report names one (SOURCE.md)."""
    directory = shared("corpus", "syzkaller")
    compared = agreed = 0
    for path in sorted(p for p in directory.iterdir() if p.name.isdigit()):
        header, log = load_syzkaller(path)
        expected = set()
        for title in (header.get("TITLE") or []) + (header.get("ALT") or []):
            found = _TITLE_FUNCTION.search(title)
            if found and found.group(1) != "corrupted":
                expected.add(found.group(1))
        if not expected:
            continue
        reports = [e for e in read_capture(Input.from_text(log, path.name)).events
                   if e.kind in REPORT_KINDS and e.kind != "call_trace"]
        if not reports:
            continue
        compared += 1
        agreed += reports[0].get("guilty_function") in expected
    print(f"syzkaller guilty function: {agreed}/{compared} = {agreed / compared:.1%}")
    # a floor against regressions; syzkaller's own skip lists are far longer than ours
    assert compared > 500 and agreed / compared >= 0.30


def test_real_dev_captures_parse_and_account_for_every_line():
    for log in sorted(shared("corpus", "real-dev").glob("*.log")):
        capture = read_capture(str(log))
        assert capture.plain_lines + sum(len(e.text) for e in capture.events) == capture.total_lines, log.name


def test_supermicro_epyc_boot_events():
    log = next(shared("corpus", "real-dev").glob("038*.log"))
    capture = read_capture(str(log))
    perf = [e.text[0].split("pci ")[1].split(":", 3)[:3] for e in capture.events if e.message == "perf_counters"]
    assert len(perf) == 8
    efr = [e for e in capture.events if e.message == "global_efr"][0]
    assert efr.get("efr") == 0x25BF732FA2295AFE and efr.get("efr2") == 0x1D
    assert [e.get("device") for e in capture.events if e.message == "psp_enabled"] == ["0000:03:00.5", "0000:81:00.5"]
    assert [e for e in capture.events if e.message == "sev_not_enabled_by_bios"][0].subsystem == "ccp"
    boot = capture.boots[0]
    assert boot.release == "5.14.0-570.23.1.el9_6.x86_64" and boot.role == "first"
    assert [e for e in capture.events if e.kind in REPORT_KINDS] == []


def _real_lines():
    paths = list(SAMPLES.glob("*.log")) + list(SAMPLES.glob("*.txt"))
    try:
        paths += list(shared("corpus", "real-dev").glob("*.log"))
    except pytest.skip.Exception:
        pass
    for path in paths:
        for number, raw in enumerate(path.read_bytes().replace(b"\r", b"").split(b"\n"), 1):
            yield path.name, number, raw


def test_scanner_trigger_covers_every_grammar():
    """Whatever a message rule or report line class recognises, the scanner's TRIGGER sees."""
    trigger = trigger_pattern()
    tables = [messages.message_table(n) for n in ("amd_vi", "sev", "kernel")]
    classes = reports.line_classes()
    missed = []
    for name, number, raw in _real_lines():
        body = parse_line(name, number, raw).body
        known = any(t.match(body) for t in tables) or classes.classify(body) is not None
        if known and not trigger.search(raw):
            missed.append(f"{name}:{number}: {raw[:80]!r}")
    assert missed == []
