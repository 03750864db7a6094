"""The ingestion pipeline end to end: read -> scan lines -> assemble events and boots.

This is the entry point the CLI, the rule engine and the vmcore stage use.
"""
from __future__ import annotations

from collections.abc import Callable, Iterator

from .assemble import Assembler
from .scan import KernelText, scan
from ..model import Capture, Event
from ..errors import TruncatedInput
from .reader import Input


def _input(source: str | Input) -> Input:
    return source if isinstance(source, Input) else Input.from_arg(str(source))


def _events(item: Input, asm: Assembler, everything: bool = False,
            kernel_text: KernelText | None = None) -> Iterator[Event]:
    try:
        for scanned in scan(item, everything=everything, kernel_text=kernel_text):
            yield from asm.feed(scanned)
    except TruncatedInput:
        yield from asm.finish()  # what was readable is whole: its reports close, its boots end
        raise
    yield from asm.finish()


def iter_events(source: str | Input, assembler: Assembler | None = None) -> Iterator[Event]:
    """Events of one input (a path, '-' or an Input) in input order, streaming (memory stays bounded).

    A compressed input that ends early raises TruncatedInput after the events of its readable part.
    """
    item = _input(source)
    return _events(item, assembler or Assembler(item.name))


def iter_everything(source: str | Input) -> Iterator[Event]:
    """Like iter_events, plus a 'message' event for every other line."""
    item = _input(source)
    asm = Assembler(item.name)
    asm.plain_events = True
    return _events(item, asm, everything=True)


def _read(source: str | Input, keep: bool, sink: Callable[[Event], None] | None = None) -> Capture:
    item = _input(source)
    asm = Assembler(item.name)
    events: list[Event] = []
    counted = 0
    problem = None
    kernel_text = KernelText()
    try:
        for event in _events(item, asm, kernel_text=kernel_text):
            if sink is not None:
                sink(event)
                counted += 1
            elif keep:
                events.append(event)
            else:
                counted += 1
    except TruncatedInput as exc:  # keep the readable part; the capture says what was lost
        problem = str(exc)
    boots = asm.boots.boots
    if not kernel_text.seen and not any(b.event_count or b.release or b.command_line for b in boots):
        boots = []  # nothing a kernel printed: prose, code, userspace logs, an empty file
    return Capture(
        source=item.name, boots=boots, events=events, summarised=counted,
        total_lines=asm.total_lines, plain_lines=asm.plain_lines, torn_lines=asm.torn_lines,
        truncated_lines=asm.truncated_lines, formats=dict(asm.formats), input_error=problem,
    )


def read_boots(source: str | Input) -> Capture:
    """Boots and line counts of one input without keeping its events."""
    return _read(source, keep=False)


def read_capture(source: str | Input, *, sink: Callable[[Event], None] | None = None) -> Capture:
    """Everything ingestion learns from one input (a path, '-' or an Input).

    With ``sink``, each event goes to ``sink`` as it is read instead of into the capture (whose
    ``summarised`` then counts them): the main job's bounded summary (triage/engine/summary.py).

    An empty input, or one with no kernel event at all, has no boots.  A compressed input that ends early gives the
    capture of its readable part with ``input_error`` saying what happened.
    """
    return _read(source, keep=True, sink=sink)


def read_captures(sources: list[str]) -> list[Capture]:
    """read_capture of each source, in order."""
    return [read_capture(s) for s in sources]
