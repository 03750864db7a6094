"""Find the lines worth parsing and take their envelopes apart.

The scanner runs one compiled expression (the TRIGGER of grammars/scan.lark)
over whole blocks of bytes, so the bulk of a capture -- noise -- is counted,
not parsed. Matching lines (plus the line after each, which may carry the
wrapped end of a message) are decoded and split by the envelope grammar.
"""
from __future__ import annotations

import json
import re
from collections.abc import Iterator
from dataclasses import dataclass

from . import grammar
from .model import LEVEL_NAMES, Line
from .reader import Input, read_blocks

try:  # RE2 scans blocks ~10x faster than re for an alternation of anchors
    import re2 as _fast_re

    _fast_re.compile(b"x")
except Exception:  # pragma: no cover - exercised only without google-re2
    _fast_re = re

MAX_LINE = 64 << 10  # characters kept of one line; longer ones are truncated

_ANSI = re.compile(rb"\x1b(?:\[[0-9;?]*[ -/]*[@-~]|\][^\x07\x1b\n]*(?:\x07|\x1b\\)|[@-Z\\-_])")
_STAMP_INSIDE = re.compile(r"\[ *\d+\.\d{6}\]")
_LEVEL_WORDS = {
    "EMERGENCY": 0, "EMERG": 0, "ALERT": 1, "CRITICAL": 2, "CRIT": 2, "ERROR": 3, "ERR": 3,
    "WARNING": 4, "WARN": 4, "NOTICE": 5, "INFO": 6, "DEBUG": 7,
}
_FACILITY_LEVEL = re.compile(r":\s*(emerg|alert|crit|err|warn|notice|info|debug)\s*:")
_TAG = re.compile(r" ([\w.\/@-]+)(?:\[\d+\])?: $")


@dataclass(slots=True)
class Scanned:
    """A line handed to assembly, with the count of plain lines before it."""

    skipped: int  # plain (untriggered) lines between the previous one and this
    line: Line | None  # None: only a count of plain lines at the end of a block
    context: bool  # only the line after a trigger: wrapped text, maybe


def trigger_pattern():
    lark = grammar.load("scan")
    return _fast_re.compile(grammar.terminal_regex(lark, "TRIGGER").encode())


def _finder(pattern):
    """``find(block, pos) -> start of the next match or -1``, as cheap per call as the library allows.

    google-re2's Python wrapper spends most of a search on bookkeeping for str
    offsets; on bytes its compiled object can be asked directly.
    """
    raw = getattr(pattern, "_regexp", None)
    anchor = getattr(getattr(_fast_re, "_Anchor", None), "UNANCHORED", None)
    if raw is not None and anchor is not None and hasattr(raw, "Match"):
        match = raw.Match

        def find(block: bytes, pos: int) -> int:
            return match(anchor, block, pos, len(block))[0][0]

        try:
            if find(b"x Kernel panic", 0) == 2 and find(b"nothing", 0) == -1:
                return find
        except Exception:  # pragma: no cover - a different google-re2 internals
            pass
    search = pattern.search

    def find_public(block: bytes, pos: int) -> int:
        m = search(block, pos)
        return -1 if m is None else m.start()

    return find_public


def _clean(block: bytes) -> bytes:
    if b"\r" in block or b"\x00" in block:
        block = block.translate(None, b"\r\x00")
    if b"\x1b" in block:
        block = _ANSI.sub(b"", block)
    return block


def scan(item: Input, everything: bool = False) -> Iterator[Scanned]:
    """Triggered lines of one input (every line with ``everything``)."""
    find_trigger = _finder(trigger_pattern())
    envelope = grammar.envelope_regex()
    slots = _slots(envelope)
    name = item.name
    lineno = 0  # number of the last line consumed
    mid_line = False  # the previous block ended inside a (giant) line
    for raw_block in read_blocks(item):
        block = _clean(raw_block)
        pos = 0
        if mid_line:
            # the rest of a truncated giant line: already numbered and kept
            end = block.find(b"\n")
            pos = len(block) if end < 0 else end + 1
        mid_line = not raw_block.endswith(b"\n")
        size = len(block)
        pending = 0
        lines = _all_lines(block, pos) if everything else _triggered_lines(find_trigger, block, pos)
        following = next(lines, None)
        while following is not None:
            start, end = following
            following = next(lines, None)
            if start < pos:
                continue
            pending += block.count(b"\n", pos, start)
            lineno += pending + 1
            yield Scanned(pending, parse_line(name, lineno, block[start:end], envelope, slots), False)
            pending = 0
            pos = end + 1
            if not everything and pos < size and (following is None or following[0] != pos):
                # the following line has no anchor: hand it on for wrapped messages and torn reports
                nxt = block.find(b"\n", pos)
                if nxt < 0:
                    nxt = size
                lineno += 1
                yield Scanned(0, parse_line(name, lineno, block[pos:nxt], envelope, slots), True)
                pos = nxt + 1
        if pos < size:
            # a last partial line counts here once; its continuation is skipped above
            pending += block.count(b"\n", pos, size) + (0 if block.endswith(b"\n") else 1)
        elif mid_line and pos >= size and (not block or block.endswith(b"\n")) and not raw_block.endswith(b"\n"):
            pending += 1  # a last line that cleaning emptied (only escapes or NULs)
        lineno += pending
        if pending:
            yield Scanned(pending, None, False)  # type: ignore[arg-type]


def _triggered_lines(find_trigger, block: bytes, pos: int) -> Iterator[tuple[int, int]]:
    """(start, end) of each line with an anchor; one search per line, however many anchors it holds."""
    rfind, find = block.rfind, block.find
    size = len(block)
    while pos < size:
        hit = find_trigger(block, pos)
        if hit < 0:
            return
        end = find(b"\n", hit)
        if end < 0:
            end = size
        yield rfind(b"\n", 0, hit) + 1, end
        pos = end + 1


def _all_lines(block: bytes, pos: int) -> Iterator[tuple[int, int]]:
    size = len(block)
    while pos < size:
        nxt = block.find(b"\n", pos)
        if nxt < 0:
            yield pos, size
            return
        yield pos, nxt
        pos = nxt + 1


_ORIGINS = ("SYSLOG_HEAD", "ISO_HEAD", "MONO_HEAD", "DMESG_FACILITY", "WALLCLOCK", "TOOL_HEAD")


class _Slots:
    """Group numbers of the compiled envelope, looked up once."""

    def __init__(self, envelope: re.Pattern[str]) -> None:
        index = envelope.groupindex
        self.envelope = envelope
        self.body = index["BODY"] - 1
        self.quote = index["QUOTE"] - 1
        self.pri = index["PRI"] - 1
        self.level = index["LEVEL_NAME"] - 1
        self.stamp = index["STAMP"] - 1
        self.caller = index["CALLER"] - 1
        self.origins = tuple((name, index[name] - 1) for name in _ORIGINS)


_slots_cache: dict[int, _Slots] = {}


def _slots(envelope: re.Pattern[str]) -> _Slots:
    slots = _slots_cache.get(id(envelope))
    if slots is None or slots.envelope is not envelope:
        slots = _slots_cache[id(envelope)] = _Slots(envelope)
    return slots


def parse_line(source: str, number: int, data: bytes, envelope: re.Pattern[str] | None = None,
               slots: _Slots | None = None) -> Line:
    """Decode one line and split its envelope (quote, origin, level, stamp, caller)."""
    truncated = len(data) > MAX_LINE
    text = data[:MAX_LINE].decode("utf-8", "replace").rstrip()
    if envelope is None:
        envelope = grammar.envelope_regex()
    if slots is None:
        slots = _slots(envelope)
    g = envelope.match(text).groups()  # every slot is optional: the envelope always matches
    body = g[slots.body] or ""
    line = Line(source, number, text, body, truncated=truncated)
    if g[slots.quote]:
        line.quote_depth = g[slots.quote].count(">")
    origin = head = None
    for name, i in slots.origins:
        if g[i]:
            origin, head = name, g[i]
            break
    if origin is not None:
        _origin(line, origin, head)
    if g[slots.pri]:
        line.level = int(g[slots.pri][1:-1]) & 7
    if g[slots.level]:
        line.level = _LEVEL_WORDS.get(g[slots.level].split()[0])
    if g[slots.stamp]:
        line.timestamp = float(g[slots.stamp].strip()[1:-1])
    if g[slots.caller]:
        line.caller = g[slots.caller].strip()[1:-1].strip()
    if origin is None and line.timestamp is None and line.caller is None and line.level is None:
        if body.startswith("{") and '"MESSAGE"' in body:
            _journal_json(line, body)
        elif not _untangle(line, envelope, torn_only=False) and line.origin == "console":
            line.origin = "plain"
    elif "]" in body and _STAMP_INSIDE.search(body):
        _untangle(line, envelope, torn_only=True)
    return line


def _origin(line: Line, origin: str, head: str) -> None:
    if origin in ("SYSLOG_HEAD", "ISO_HEAD", "MONO_HEAD"):
        line.origin = "journal"
        tag = _TAG.search(head)
        line.kernel = bool(tag) and tag.group(1) == "kernel"
        if origin == "MONO_HEAD":
            line.timestamp = float(head[1:head.index("]")].strip())
    elif origin == "DMESG_FACILITY":
        line.origin = "dmesg"
        level = _FACILITY_LEVEL.search(head)
        if level:
            line.level = LEVEL_NAMES.index(level.group(1) if level.group(1) != "warn" else "warning")
        line.kernel = head.startswith("kern")
    elif origin == "WALLCLOCK":
        line.origin = "dmesg"
    elif origin == "TOOL_HEAD":
        line.origin = "tool"


def _untangle(line: Line, envelope: re.Pattern[str], torn_only: bool) -> bool:
    """A printk stamp after other text on the line: keep the kernel's part.

    "bytes[  76.4] BUG: ..." is two console lines run together (torn);
    "syzkaller login: [  35.1] BUG: ..." is the kernel writing over a prompt.
    Quoting programs ("LAB:   [ 0.0] AMD-Vi: ...") look the same: assembly
    drops such embedded lines when their stamp goes back in time.
    """
    for found in _STAMP_INSIDE.finditer(line.body):
        start = found.start()
        if start == 0:
            continue
        torn = not line.body[start - 1].isspace()
        if torn_only and not torn:
            continue
        rest = envelope.match(line.body[start:])
        if rest is None:
            continue
        line.torn, line.embedded = torn, not torn
        line.timestamp = float(found.group(0)[1:-1])
        if rest.group("CALLER"):
            line.caller = rest.group("CALLER").strip()[1:-1].strip()
        line.body = rest.group("BODY") or ""
        return True
    return False


def _journal_json(line: Line, body: str) -> None:
    """journalctl -o json: one JSON object a line."""
    try:
        record = json.loads(body)
    except ValueError:
        line.origin = "plain"
        return
    if not isinstance(record, dict):
        return
    message = record.get("MESSAGE")
    if isinstance(message, list):  # non-UTF-8 messages are arrays of bytes
        message = bytes(b & 0xFF for b in message if isinstance(b, int)).decode("utf-8", "replace")
    line.origin = "json"
    line.body = str(message or "")
    line.kernel = record.get("_TRANSPORT") == "kernel" or record.get("SYSLOG_IDENTIFIER") == "kernel"
    priority = record.get("PRIORITY")
    if isinstance(priority, str) and priority.isdigit():
        line.level = int(priority) & 7
    mono = record.get("_SOURCE_MONOTONIC_TIMESTAMP") or record.get("__MONOTONIC_TIMESTAMP")
    if isinstance(mono, str) and mono.isdigit():
        line.timestamp = int(mono) / 1e6
    boot_id = record.get("_BOOT_ID")
    if isinstance(boot_id, str):
        line.boot_id = boot_id
