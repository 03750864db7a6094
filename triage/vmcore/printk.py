"""The crashed kernel's own log, from its printk buffer.

Mirrors ``kernel/printk/printk.c`` and ``kernel/printk/printk_ringbuffer.c``: the lockless
ringbuffer ``prb`` (>= 5.10) or the older ``log_buf``, read with drgn's
:func:`drgn.helpers.linux.printk.get_printk_records`, and printed as ``dmesg`` does.
"""
from __future__ import annotations

from typing import TYPE_CHECKING

from ..model.vmcore import Fact
from ._read import READ_ERRORS, has_symbol, unavailable_reason

if TYPE_CHECKING:
    import drgn

__all__ = ["format_printk_record", "kernel_log", "kernel_log_lines", "kernel_log_text"]


def format_printk_record(timestamp_ns: int, text: bytes | str, level: int | None = None) -> list[str]:
    """dmesg-style lines ``[%5lu.%06lu] text`` (one per line of a multi-line record).

    :param timestamp_ns: the record's timestamp in nanoseconds
    :param level: printk level; given, each line starts with ``<level>``
    """
    if isinstance(text, bytes):
        text = text.decode("utf-8", "replace")
    prefix = f"[{timestamp_ns // 1_000_000_000:5d}.{timestamp_ns % 1_000_000_000 // 1000:06d}] "
    if level is not None:
        prefix = f"<{level}>{prefix}"
    return [prefix + part for part in text.rstrip("\n").split("\n")]


def kernel_log(prog: "drgn.Program", levels: bool = False) -> tuple[list[str], Fact]:
    """The kernel log from ``prb`` (>= 5.10) or ``log_buf`` (older).

    :param prog: the crashed kernel
    :param levels: prefix each line with its ``<level>``
    :return: (dmesg lines, a status Fact: the number of records, or why there are none)
    """
    from drgn.helpers.linux.printk import get_printk_records

    source = "printk ring buffer (prb / log_buf) via drgn get_printk_records"
    if not (has_symbol(prog, "prb") or has_symbol(prog, "log_buf")):
        return [], Fact.missing(source, "neither prb (>= 5.10) nor log_buf found in the debug info")
    try:
        records = get_printk_records(prog)
    except READ_ERRORS as exc:
        return [], Fact.missing(source, unavailable_reason(exc))
    lines: list[str] = []
    for record in records:
        lines.extend(format_printk_record(record.timestamp, record.text, record.level if levels else None))
    return lines, Fact(len(records), source, None, "value = number of records")


def kernel_log_lines(prog: "drgn.Program", levels: bool = False) -> list[str]:
    """The crashed kernel's printk buffer as dmesg lines.

    Raises nothing: an unreadable buffer yields an empty list (see :func:`kernel_log`).
    """
    return kernel_log(prog, levels)[0]


def kernel_log_text(prog: "drgn.Program", levels: bool = False) -> str:
    """The kernel log as one text, ready for the project's normal log pipeline."""
    lines = kernel_log_lines(prog, levels)
    return "\n".join(lines) + ("\n" if lines else "")
