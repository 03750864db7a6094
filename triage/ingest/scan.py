"""Find the lines worth parsing.

The scanner runs one compiled expression (the TRIGGER of grammars/scan.lark)
over whole blocks of bytes, so the bulk of a capture -- noise -- is counted,
not parsed. Matching lines (plus the line after each, which may carry the
wrapped end of a message) are decoded and split by :mod:`.envelope`.
"""
from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass

from . import grammar
from ..model import Line
from .envelope import parse_line, slots_for
from .reader import Input, read_blocks

try:  # RE2 scans blocks ~10x faster than re for an alternation of anchors
    import re2 as _fast_re

    _fast_re.compile(b"x")
except Exception:  # pragma: no cover - exercised only without google-re2
    _fast_re = re


#: terminal escapes: CSI (colours, cursor), OSC (titles), charset designation and the few
#: two-byte ones terminals use; any other ESC is dropped alone, so a stray ESC never eats
#: the character after it ("\x1bKernel panic" stays "Kernel panic")
_ANSI = re.compile(rb"\x1b(?:\[[0-9;?]*[ -/]*[@-~]|\][^\x07\x1b\n]*(?:\x07|\x1b\\)|[()][0-9A-Za-z]|[78=>]|c(?![a-z])|)")


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
    if b"\x00" in block:  # (line breaks were normalised by the reader)
        block = block.translate(None, b"\x00")
    if b"\x1b" in block:
        block = _ANSI.sub(b"", block)
    return block


#: a line a kernel wrote, whatever it says: a printk stamp (also dmesg -T/-H) or a syslog "kernel:" tag
_KERNEL_TEXT = re.compile(rb"(?m)^[ \t>|]*(?:<\d{1,3}>)?\[ *(?:\d{1,10}[.,]\d{1,9}|\+\d|[^\W\d_]{2,5}\.? )|kernel: |"
                          rb'"_TRANSPORT" ?: ?"kernel"')  # a journal record (-o json) of the kernel's


class KernelText:
    """Whether an input holds any line a kernel wrote (set by :func:`scan` at its first such line)."""

    seen = False


def scan(item: Input, everything: bool = False, kernel_text: KernelText | None = None) -> Iterator[Scanned]:
    """Triggered lines of one input (every line with ``everything``).

    ``kernel_text``, when given, learns whether any line looked like a kernel's (one search a
    block until the first is found), so a capture of prose alone can say it holds no boot.
    """
    find_trigger = _finder(trigger_pattern())
    envelope = grammar.envelope_regex()
    slots = slots_for(envelope)
    name = item.name
    lineno = 0  # number of the last line consumed
    mid_line = False  # the previous block ended inside a (giant) line
    for raw_block in read_blocks(item):
        block = _clean(raw_block)
        if kernel_text is not None and not kernel_text.seen and _KERNEL_TEXT.search(block):
            kernel_text.seen = True
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
