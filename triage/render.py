"""Reports for people (rich, Markdown) and for tools (JSON).

Each piece is a small function returning a rich renderable or a string, so
the CLI and library users can compose them.
"""
from __future__ import annotations

import os
import sys

from rich.console import Console
from rich.table import Table

from .model import Capture


def console(stderr: bool = False) -> Console:
    """A console that drops colour when not on a terminal or when NO_COLOR is set."""
    stream = sys.stderr if stderr else sys.stdout
    no_color = bool(os.environ.get("NO_COLOR")) or not stream.isatty()
    return Console(file=stream, no_color=no_color, highlight=False, soft_wrap=False,
                   width=None if stream.isatty() else 120)


def _seconds(first: float | None, last: float | None) -> str:
    if first is None:
        return "-"
    if last is None or last == first:
        return f"{first:.3f}"
    return f"{first:.3f}-{last:.3f}"


def boots_table(capture: Capture) -> Table:
    table = Table(title=f"{capture.source}: {len(capture.boots)} boot(s), {capture.total_lines} lines",
                  title_justify="left", show_lines=False)
    for column in ("#", "lines", "started by", "role", "release", "ended", "time (s)", "events", "plain", "notes"):
        table.add_column(column, overflow="fold")
    for boot in capture.boots:
        notes = []
        if boot.hardware:
            notes.append(boot.hardware)
        if boot.panic_message:
            notes.append(f"panic: {boot.panic_message}")
        if boot.kdump_loaded:
            notes.append("Kdump: loaded")
        if boot.dropped_messages:
            notes.append(f"{boot.dropped_messages} printk messages dropped")
        if boot.torn_lines:
            notes.append(f"{boot.torn_lines} torn lines")
        release = boot.release or "?"
        if boot.release and boot.release_from and boot.release_from != "banner":
            release += f" (from {boot.release_from})"
        table.add_row(
            str(boot.index), f"{boot.first_line}-{boot.last_line}", boot.started_by, boot.role, release,
            boot.ended, _seconds(boot.first_timestamp, boot.last_timestamp), str(boot.event_count),
            str(boot.plain_lines), "; ".join(notes),
        )
    return table
