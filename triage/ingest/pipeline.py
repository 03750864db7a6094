"""The ingestion pipeline end to end: read -> scan lines -> assemble events and boots.

This is the entry point the CLI, the rule engine and the vmcore stage use.
"""
from __future__ import annotations

from collections.abc import Iterator

from .assemble import Assembler
from .scan import scan
from ..model import Capture, Event
from .reader import Input


def _input(source: str | Input) -> Input:
    return source if isinstance(source, Input) else Input.from_arg(str(source))


def iter_events(source: str | Input, assembler: Assembler | None = None) -> Iterator[Event]:
    """Events of one input (a path, '-' or an Input) in input order, streaming (memory stays bounded)."""
    item = _input(source)
    asm = assembler or Assembler(item.name)
    for scanned in scan(item):
        yield from asm.feed(scanned)
    yield from asm.finish()


def iter_everything(source: str | Input) -> Iterator[Event]:
    """Like iter_events, plus a 'message' event for every other line."""
    item = _input(source)
    asm = Assembler(item.name)
    asm.plain_events = True
    for scanned in scan(item, everything=True):
        yield from asm.feed(scanned)
    yield from asm.finish()


def read_boots(source: str | Input) -> Capture:
    """Boots and line counts of one input without keeping its events."""
    item = _input(source)
    asm = Assembler(item.name)
    for _ in iter_events(item, asm):
        pass
    return _capture(item, asm, [])


def read_capture(source: str | Input) -> Capture:
    """Everything ingestion learns from one input (a path, '-' or an Input)."""
    item = _input(source)
    asm = Assembler(item.name)
    events = list(iter_events(item, asm))
    return _capture(item, asm, events)


def _capture(item: Input, asm: Assembler, events: list[Event]) -> Capture:
    return Capture(
        source=item.name, boots=asm.boots.boots, events=events, total_lines=asm.total_lines,
        plain_lines=asm.plain_lines, torn_lines=asm.torn_lines, truncated_lines=asm.truncated_lines,
        formats=dict(asm.formats),
    )


def read_captures(sources: list[str]) -> list[Capture]:
    """read_capture of each source, in order."""
    return [read_capture(s) for s in sources]
