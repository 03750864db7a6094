"""Gathering the lines of one kernel report, and when to end it.

Mixed into the Assembler: a report line either goes on the open report or closes it and
opens the next. One case is neither: a report whose header came without a stack trace
and a second header that prints the stack of the same moment.

* ``panic()`` called from the path that reported: ``__warn()`` with ``panic_on_warn``
  set (kernel/panic.c; before 4.16 it panicked before printing the WARNING's trace),
  the lockup and hung-task detectors with their ``*_panic`` switches (kernel/watchdog.c,
  kernel/hung_task.c). panic() dumps the current stack, which is the report's stack.
* the NMI backtrace an RCU stall or a hard lockup asks for (rcu_dump_cpu_stacks(),
  kernel/rcu/tree_stall.h; watchdog_hardlockup_check(), kernel/watchdog.c;
  nmi_cpu_backtrace(), lib/nmi_backtrace.c): the stalled CPU's stack.

The second report is kept as its own event (a kernel_panic stays a kernel_panic); the
first one *borrows* its stack: its frames and guilty function come from the lines that
follow, while its text stays its own lines, so every input line is counted once.
syzkaller's report parser does the same by not starting a new report at "Kernel panic"
(pkg/report/linux.go, reportStartIgnores).
"""
from __future__ import annotations

from typing import Any

from ..model import LEVEL_NAMES, Event
from .reports import END_CLASSES, HEADER_KIND, OOPS_DETAIL, Classified, build_fields, parse_report

__all__ = ["ReportGathering", "event_level"]

#: A report ends when this many lines pass without a line of it.
MAX_REPORT_GAP = 40
#: ... or when this many seconds pass between two of its lines.
MAX_REPORT_SECONDS = 10.0

#: lines that show a report already has a stack of its own
_STACK_CLASSES = frozenset({"TRACE_HEAD", "RIP", "LINK_REGISTER"})
_FRAME_CLASSES = frozenset({"FRAME", "ARM_FRAME", "INLINE_FRAME"})
#: headers whose report prints the stack of whatever reported before them (module docstring)
_LENDERS = frozenset({"PANIC", "NMI_BACKTRACE"})
#: line classes that open a report only where none is open (a header cut off by the poster, a
#: dump_stack() trace); inside a report they are its lines
_OPEN_ONLY = frozenset({"CPU_LINE", "TRACE_HEAD", "PF_ACCESS"})
#: the detectors that ask for the stalled CPU's NMI backtrace instead of printing a stack
_NMI_BORROWERS = frozenset({"RCU_STALL", "HARD_LOCKUP"})
#: headers that are no report of their own, or a panic that cannot borrow from another panic
_NEVER_BORROW = frozenset({"PANIC", "NMI_BACKTRACE"}) | _OPEN_ONLY


class ReportGathering:
    """The report half of the Assembler (see the module docstring)."""

    source: str
    boots: Any
    held: list[Event]
    report: list[Classified]
    report_boot: int
    lent_at: int  # index in ``report`` of a header that lends its stack to the report before it (0: none)

    def _flush(self, out: list[Event]) -> None: ...  # provided by the Assembler
    def _emit(self, event: Event, out: list[Event]) -> None: ...
    def _plain(self, count: int, last_line: int) -> None: ...

    def _part(self) -> list[Classified]:
        """The lines of the report being added to (the lender's, once one joined)."""
        return self.report[self.lent_at:] if self.lent_at else self.report

    def _on_report_line(self, item: Classified, out: list[Event]) -> bool:
        """Add a report line; False when it is not part of any report."""
        cls = item.cls
        line = item.line
        if self.report and not self._fits(item):
            self._close_report(out)
        if self.report:
            part = self._part()
            first = part[0]
            if cls in HEADER_KIND and cls not in _OPEN_ONLY:
                absorb = (cls in OOPS_DETAIL and first.cls in ("PAGE_FAULT", "KERNEL_BUG", "BUG", "ARM_OOPS", "PF_ACCESS")
                          and not self._has(OOPS_DETAIL, skip_first=True))
                if absorb:
                    pass
                elif self._lends(item):
                    self.lent_at = len(self.report)
                    self.report.append(item)
                    if cls == "PANIC":
                        self.boots.panic_seen()
                    return True
                else:
                    self._close_report(out)
                    self._open(item, out)
                    return True
            elif cls == "CPU_LINE" and (self._has({"CPU_LINE", "PID_LINE"}) or self._has({"TRACE_HEAD"})):
                self._close_report(out)
                self._open(item, out)
                return True
            self.report.append(item)
            if cls in END_CLASSES:
                self._close_report(out)
            return True
        if cls in HEADER_KIND:
            if self.boots.after_panic_starts_boot(None, "report") and cls != "NMI_BACKTRACE" and cls not in _OPEN_ONLY:
                self.boots.start("after panic", line.number)
            self._open(item, out)
            return True
        return False

    def _lends(self, item: Classified) -> bool:
        """Whether a new header prints the stack the open report has not printed (module docstring)."""
        if self.lent_at or item.cls not in _LENDERS:
            return False
        header = self.report[0]
        if header.cls == "RCU_STALL" and item.cls == "NMI_BACKTRACE":
            return True  # the stalled CPU's stack, whatever else the detector dumped (the RCU kthread's)
        frames = sum(1 for i in self.report if i.cls in _FRAME_CLASSES)
        if header.cls in _NEVER_BORROW or frames > 1 or any(i.cls in _STACK_CLASSES for i in self.report):
            return False  # one frame is a location ("Preemption disabled at:"), not a stack
        if header.cls == "WARNING" and "warn_what" in header.fields:
            return False  # "WARNING: <free text>": a message, not a splat
        return item.cls == "PANIC" or header.cls in _NMI_BORROWERS

    def _fits(self, item: Classified) -> bool:
        last = self.report[-1].line
        line = item.line
        if line.number - last.number > MAX_REPORT_GAP or line.quote_depth != last.quote_depth:
            return False
        if line.timestamp is not None and last.timestamp is not None and line.timestamp - last.timestamp > MAX_REPORT_SECONDS:
            return False
        if line.caller and last.caller and line.caller != last.caller and item.cls in HEADER_KIND:
            return False
        return True

    def _has(self, classes: set[str], skip_first: bool = False) -> bool:
        part = self._part()
        items = part[1:] if skip_first else part
        return any(i.cls in classes for i in items)

    def _open(self, item: Classified, out: list[Event]) -> None:
        self._flush(out)
        self.report = [item]
        self.lent_at = 0
        self.report_boot = self.boots.index
        if item.cls == "PANIC":
            self.boots.panic_seen()

    def _close_report(self, out: list[Event]) -> None:
        if not self.report:
            self._flush(out)
            return
        items, self.report = self.report, []
        lent_at, self.lent_at = self.lent_at, 0
        if lent_at:
            borrower, lender = items[:lent_at], items[lent_at:]
            own = [i for i in borrower if i.cls not in _STACK_CLASSES | _FRAME_CLASSES | {"CONTEXT"}]
            self._report_event(borrower, own + lender[1:])
            self._report_event(lender, lender)
        else:
            self._report_event(items, items)
        self._flush(out)

    def _report_event(self, items: list[Classified], parsed: list[Classified]) -> None:
        """The event of a report's lines ``items``; its fields come from ``parsed`` (a borrower's
        lines and the stack it borrows)."""
        header = items[0]
        if len(items) == 1 and _free_text_header(header):
            # "WARNING: the mand mount option is deprecated": a message, not a splat (a line rejoined
            # from two physical ones counts both)
            extra = header.line.raw.count("\n")
            self._plain(1 + extra, header.line.number + extra)
            return
        kind = HEADER_KIND.get(header.cls, "call_trace")
        fields = build_fields(kind, parse_report(parsed))
        if parsed is not items:
            fields["stack_from_line"] = items[-1].line.number + 1  # says where its stack came from
        first, last = items[0].line, items[-1].line
        self.held.append(Event(
            kind=kind, source=self.source, boot=self.report_boot, line=first.number, end_line=last.number,
            text=[raw for i in items for raw in i.line.raw.split("\n")], timestamp=first.timestamp,
            level=event_level(first.level), caller=first.caller, subsystem=None, message=None, fields=fields,
            body=first.body,
        ))


def _free_text_header(item: Classified) -> bool:
    """Headers that are only a report when report lines follow them."""
    if item.cls == "LOCKDEP_INFO":
        return "turned off" in item.line.body
    return item.cls == "WARNING" and "warn_what" in item.fields


def event_level(level: int | None) -> str | None:
    """The printk level's name, if the line had one."""
    return LEVEL_NAMES[level] if level is not None and 0 <= level < 8 else None
