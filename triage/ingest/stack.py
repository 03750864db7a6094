"""The stack walk of one kernel report: frames and exception-frame RIPs, in line order.

show_trace_log_lvl() (arch/x86/kernel/dumpstack.c) and its counterparts on other
architectures print a trace innermost frame first; where the unwinder crosses an
exception frame it prints that frame's registers (RIP, Code:) and goes on with the
interrupted stack, and <IRQ>/<NMI>/<TASK> markers (since 5.x, <EOI> before) tell
the stacks apart. Here the lines of one report become :class:`Step` entries,
grouped into traces; the principal trace is the first one under "Call Trace:".
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from ..model import Frame, normalize_function

__all__ = ["Step", "frame_from_text", "frame_of", "walk"]

#: what the unwinder prints inside a trace when it crosses an exception frame
#: (show_trace_log_lvl() -> show_regs_if_on_stack(), arch/x86/kernel/dumpstack.c)
_EXCEPTION_FRAME = {"RIP", "LINK_REGISTER", "REGISTERS", "CODE", "CONTEXT"}
#: the outermost frames of a kernel stack: whatever frame follows one (not a "? " one) starts another trace
#: (KASAN's "Allocated by task"/"Freed by task" stacks follow the access's without a heading)
_STACK_BOTTOM = re.compile(
    r"^(?:entry_SYSCALL_64\w*|entry_SYSENTER\w*|entry_INT80\w*|ret_from_fork\w*|ret_fast_syscall|ret_to_user|"
    r"el0t_64_sync|el0_sync\w*|secondary_startup_64\w*|common_startup_64|start_cpu)$"
)


@dataclass(slots=True)
class Step:
    """One entry of a report's stack walk: a frame, or the RIP line of an exception frame."""

    frame: Frame
    trace: int  # which trace of the report (0 = the first printed)
    source: str | None = None  # "net/ipv6/ip6_output.c:1748" where the trace is symbolized
    rip: bool = False
    section: int = 0  # how many <IRQ>/</IRQ>/<TASK>/<EOI>... markers came before it: a change of stack
    principal: bool = False  # in the report's principal trace

    @property
    def function(self) -> str | None:
        return normalize_function(self.frame.function) if self.frame.function else None


def walk(ordered: list[Any]) -> tuple[list[Step], list[Frame]]:
    """The stack walk of a report, and the frames of its principal trace.

    ``ordered`` holds a report's detail lines and its traces (``("trace", [lines])``)
    in line order; frames and RIP lines come out in line order, grouped into traces.
    A trace that follows an exception frame of the one before (a kernel RIP, its
    registers, an </IRQ> or </NMI> ending) goes on with it: the unwinder printed the
    frame in the middle of one stack. "Call Trace:", </TASK>, a stack's outermost
    frame, a user-mode RIP and any other detail end a trace.
    """
    walker = _Walker()
    for node in ordered:
        if isinstance(node, tuple):
            walker.trace(node[1])
        elif node.cls == "CONTEXT":
            walker.context(node)
        elif node.cls == "RIP":
            walker.rip(node)
        elif node.cls not in _EXCEPTION_FRAME:
            walker.open = False
    principal = next((t for t in sorted(walker.heads) if walker.heads[t]), 0)
    for step in walker.steps:
        step.principal = step.trace == principal
    return walker.steps, [s.frame for s in walker.steps if s.principal and not s.rip]


class _Walker:
    def __init__(self) -> None:
        self.steps: list[Step] = []
        self.heads: dict[int, bool] = {}  # trace index -> began with "Call Trace:"
        self.index = -1  # the current trace
        self.open = False  # the current trace may go on (after an exception frame)
        self.crossed = False  # a kernel RIP was printed since the current trace's last frame
        self.where: str | None = None  # the context (TASK, IRQ, NMI...) the next frame is in
        self.section = 0

    def _new_trace(self, headed: bool) -> None:
        self.index += 1
        self.heads[self.index] = headed
        self.open = True

    def trace(self, lines: list[Any]) -> None:
        if lines[0].cls == "TRACE_HEAD" or not (self.open and self.crossed):
            self._new_trace(lines[0].cls == "TRACE_HEAD")
        self.open, self.crossed = True, False
        for item in lines:
            if item.cls == "CONTEXT":
                self.context(item)
                continue
            frame = frame_of(item)
            if frame is None:
                continue
            last = self.steps[-1] if self.steps else None
            if not self.open or (last is not None and last.trace == self.index and last.frame.reliable
                                 and last.frame.function and _STACK_BOTTOM.match(last.frame.function)):
                self._new_trace(False)
            frame.context = self.where
            self.steps.append(Step(frame, self.index, item.fields.get("source_file"), section=self.section))

    def context(self, item: Any) -> None:
        self.section += 1
        ending = bool(item.fields.get("context_end"))
        self.where = None if ending else item.fields.get("context")
        if ending and item.fields.get("context") == "TASK":
            self.open = False  # the task's stack is the outermost one

    def rip(self, item: Any) -> None:
        text = item.fields.get("rip", "")
        rip = frame_from_text(text, item.line.number)
        if rip is None or not rip.function:
            self.open = False  # a user-mode RIP ("RIP: 0033:0x47b7a0"): the kernel stack ended there
            return
        rip.context = self.where
        # before "Call Trace:" it is the innermost frame of the trace that follows
        position = self.index if self.open else self.index + 1
        self.steps.append(Step(rip, position, _source_of(text), rip=True, section=self.section))
        self.crossed = self.crossed or self.open


def frame_of(item: Any) -> Frame | None:
    """The frame a FRAME, ARM_FRAME or INLINE_FRAME line names."""
    f = item.fields
    if item.cls in ("FRAME", "ARM_FRAME"):
        return Frame(
            function=f.get("function"), offset=int(f["offset"], 16) if "offset" in f else None,
            size=int(f["size"], 16) if "size" in f else None,
            module=f.get("module"), reliable=not f.get("unreliable"), line=item.line.number,
        )
    if item.cls == "INLINE_FRAME":
        return Frame(function=f.get("function"), reliable=not f.get("unreliable"), line=item.line.number)
    return None


#: "func+off/size [module]"; 2.6 kernels wrote a module's symbol ":radeon:radeon_cp_init_ring_buffer+0x90/0x302"
_RIP_FRAME = re.compile(r"\s*(?:\? )?(?::[\w-]+:)?([\w.$]+)\+0x([0-9a-f]+)/0x([0-9a-f]+)(?: \[([\w-]+)\])?")
#: a symbolized RIP of an inlined function: "RIP: 0010:pcpu_addr_to_page mm/percpu-vm.c:358 [inline]"
_RIP_INLINE = re.compile(r"\s*([A-Za-z_][\w.$]*) ([\w/.-]+\.[chS]:\d+)(?: \[inline\])?")
_SOURCE = re.compile(r" ([\w/.-]+\.[chS]:\d+)")


def frame_from_text(text: str, line: int) -> Frame | None:
    """The frame in a RIP/PC line's text; a bare address where it names none."""
    m = _RIP_FRAME.match(text)
    if m is None:
        inline = _RIP_INLINE.match(text)
        if inline:
            return Frame(function=inline.group(1), line=line)
        m2 = re.match(r"\s*(0x[0-9a-f]+)", text)
        return Frame(function=None, address=m2.group(1), line=line) if m2 else None
    return Frame(function=m.group(1), offset=int(m.group(2), 16), size=int(m.group(3), 16),
                 module=m.group(4), line=line)


def _source_of(text: str) -> str | None:
    m = _SOURCE.search(text)
    return m.group(1) if m else None
