"""Which function a kernel report is about: its guilty function.

A report's stack walk lists, innermost first, the functions that print the
report, the function that went wrong, and its callers. The guilty function is
the first frame that is neither part of the reporting machinery nor a generic
helper whose misuse is its caller's bug:

1. a lockdep report names the site it objects to: the lone "[<ip>] f" line of a
   bad unlock (print_ip_sym()) or its first lock line ("... at: f+off/size",
   print_lock(), kernel/locking/lockdep.c);
2. a header that names a function (a sanitizer's "in f+off/size", the WARNING's
   "at f+off/size", a stack protector's "corrupted in: f", the work function of
   a workqueue leak) names the subject, unless that function is a helper or a
   static inline of a header file;
3. an oops whose PC is a bare address was a call through a bad pointer: the
   link register names the caller (arm, arm64);
4. otherwise (or past such a helper) the stack walk: everything down to the last
   reporting frame is skipped ("prefer the frame after the sanitizer entry",
   the trap into report_bug(), the timer interrupt that noticed a stall); the
   RIP of an exception frame counts as the innermost frame of the interrupted
   code; the walk keeps to the stack the subject runs on (an oops in <IRQ> is
   not about the task after </IRQ>); helpers, the paths into handlers and
   unreliable ("? ") frames are passed over, and neither end nor extend the
   reporting. A kernel without frame pointers prints every frame with "? ":
   then those are all there is. A lock-order report and a bad page walk their
   first stack (the new dependency, page_owner's allocation), not the reporting
   task's; a lockdep report whose task stack is all plumbing walks its chain;
5. with nothing left below the plumbing, the named function or the crash site.

A stall or a stack overflow is about the work the CPU ran (:mod:`.stall`).

The families of plumbing frames (reporters, helpers, transit) are in :mod:`.plumbing`.
"""
from __future__ import annotations

import re
from typing import Any

from ..model import normalize_function
from .plumbing import ALLOCATION as _ALLOCATION
from .plumbing import HELPER as _HELPER
from .plumbing import REPORTER as _REPORTER
from .plumbing import TRANSIT as _TRANSIT
from .plumbing import is_helper, is_reporter
from .stack import Step

__all__ = ["after_reporting", "guilty_function", "is_helper", "is_reporter", "principal_walk"]


#: lockdep's headers (kernel/locking/lockdep.c): the first lock line names the subject
_LOCKDEP = re.compile(r"circular locking|recursive locking|lock inversion|lock order|inconsistent lock state|"
                      r"unlock balance|held lock|locks held|lock held|[Nn]ested lock|possible deadlock")
#: lockdep's hooks into every lock operation: a sanitizer report in them is about the lock passed in
_LOCK_HOOK = re.compile(r"^(?:_*lock_acquire\w*|_*lock_release|_*lock_is_held\w*|lock_acquired|lock_contended|"
                        r"(?:debug_)?lockdep_\w+|mark_lock\w*|validate_chain|check_prevs?_add|hlock_class|"
                        r"find_held_lock|register_lock_class|look_up_lock_class)$")
_STACK_CORRUPTED = re.compile(r"corrupted in: (?![0-9a-f]+\b)([A-Za-z_][\w.$]*)")
_HEADER_NAMED = re.compile(r" in ([A-Za-z_][\w.$]*)(?:\+0x[0-9a-f]+/0x[0-9a-f]+(?: ([\w/.+-]+\.[chS]):\d+)?"
                           r"| ([\w/.+-]+\.[chS]):\d+)")
#: a symbolized location in a header file: an inline helper, called by the subject
_HEADER_FILE = re.compile(r"\.h(?::\d+)?$")


def _named(kind: str, fields: dict[str, Any], header_class: str | None, header: str) -> tuple[str | None, bool]:
    """The function the header itself names, if any, and whether its source is a header file."""
    if header_class == "WARNING":
        name = fields.get("warn_function")
        # "at include/linux/seqlock.h:271 __seqprop_assert": a static inline WARNs for its caller
        return (None if not name or name.startswith("0x") else name), bool(_HEADER_FILE.search(fields.get("warn_where") or ""))
    if header_class == "PANIC":
        found = _STACK_CORRUPTED.search(fields.get("panic_message") or "")
        return (found.group(1) if found else None), False
    if "workqueue leaked lock" in header and fields.get("workqueue"):
        # process_one_work() names the work function that returned holding a lock (kernel/workqueue.c)
        return fields["workqueue"].split()[-1], False
    if kind in ("bug", "warning"):  # "BUG: KASAN: use-after-free in remove_wait_queue+0xfb/0x120"
        found = _HEADER_NAMED.search(header)
        if found:
            source = found.group(2) or found.group(3) or ""
            return found.group(1), bool(_HEADER_FILE.search(source))
    return None, False


def _inlined_helper(step: Step) -> bool:
    """Symbolized into a header file: a static inline the subject called."""
    return bool(step.source and _HEADER_FILE.search(step.source))


def _lockdep(fields: dict[str, Any], header_class: str | None, header: str, steps: list[Step]) -> str | None:
    """The site a lockdep report names: its first lock line, or the lone "[<ip>] f+off/size" line
    print_ip_sym() prints for a bad unlock ("... is trying to release lock (x) at:")."""
    if header_class not in ("SELF_CHECK", "LOCKDEP_INFO", "BUG", "WARNING") or not _LOCKDEP.search(header):
        return None
    if header_class == "WARNING" and "warn_what" not in fields:
        return None  # a WARN_ON() splat, not lockdep's own header
    first = steps[0] if steps else None
    if first is not None and not first.rip and first.function and not is_helper(first.function) \
            and sum(1 for s in steps if s.trace == first.trace) == 1:
        return first.function
    name = normalize_function(fields["lock_function"]) if fields.get("lock_function") else None
    # process_one_work() "acquires" a work item's pseudo-lock: no subject, the walk finds one
    return name if name and not is_helper(name) else None


def guilty_function(kind: str, fields: dict[str, Any], steps: list[Step], header_class: str | None = None,
                    header: str = "") -> str | None:
    """The first function that is the report's subject, not its plumbing."""
    site = _lockdep(fields, header_class, header, steps)
    if site and "lock order" not in header:
        return site
    # print_bad_irq_dependency() ("X-safe -> X-unsafe lock order detected") lists the locks of
    # both dependencies; where the new one is made is its stack backtrace: the walk, then the site
    named, inlined = _named(kind, fields, header_class, header)
    if named:
        named = normalize_function(named)
        if inlined:
            pass  # "in ip6_dst_store include/net/ip6_fib.h:176 [inline]": its caller is the subject
        elif header_class != "WARNING" and kind in ("bug", "warning"):
            # a sanitizer names the access: the subject unless a primitive made it for its caller
            # (an unwinder or printk that reads out of bounds is itself the culprit)
            if not _HELPER.match(named) and not _LOCK_HOOK.match(named):
                return named
        elif not is_helper(named) or _TRANSIT.match(named):
            return named
    if kind == "call_trace" and not steps:
        return None
    rip = fields.get("rip")
    if kind == "oops" and rip is not None and not rip.function and fields.get("link_register"):
        # "pc : 0xffff00008340a200" names nothing: the call came from the link register's function
        caller = normalize_function(fields["link_register"].split("+", 1)[0])
        if not is_helper(caller):
            return caller
    # a leak, or a page found bad when it was allocated: the allocation's user, not its wrappers
    leak = header_class == "KMEMLEAK" or "memory leak" in header or "Bad page state" in header
    walk = principal_walk(steps)
    if steps and ("lock order" in header or "Bad page state" in header):
        # the stacks print_bad_irq_dependency() (which dependency is new) and page_owner
        # (mm/page_owner.c: who allocated the bad page) print come before the reporting task's
        # backtrace: the first of them is the subject's
        walk = _first_trace(steps)
    walk, found = _walk(walk, kind, named, leak)
    if found is None and steps and _LOCKDEP.search(header):
        # nothing but plumbing in the reporting task's stack (a work item's pseudo-lock taken by
        # process_one_work()): the dependency chain lockdep printed first names the subject
        found = _walk(_first_trace(steps), kind, named, leak)[1]
    if found is not None:
        return found
    if kind == "oops":  # a call through a bad pointer ("RIP: 0010:0x286"): the dispatcher that made it
        dispatcher = next((s.function for s in walk if s.function and s.frame.reliable
                           and _TRANSIT.match(s.function)), None)
        if dispatcher:
            return dispatcher
    # nothing below the plumbing: the function the report names, or where it crashed, is all there is
    crash_site = next((step.function for step in steps
                       if step.rip and step.function and not is_reporter(step.function)), None)
    return named or site or crash_site


def _first_trace(steps: list[Step]) -> list[Step]:
    return [s for s in steps if s.trace == steps[0].trace]


def _walk(walk: list[Step], kind: str, named: str | None, leak: bool) -> tuple[list[Step], str | None]:
    """The rest of the walk past the reporting (and the helper the header named), and its first subject."""
    start = after_reporting(walk, kind)
    if named:  # past the helper the header named: "BUG: KASAN: ... in memcmp+0xe3/0x160" (its first
        # frame: a later one is the helper called again further out, not the access)
        unwound = any(s.frame.reliable for s in walk)
        at = next((i for i, step in enumerate(walk)
                   if step.function == named and (step.frame.reliable or not unwound)), None)
        if at is not None and at >= start:
            start = at + 1
    walk = _one_stack(walk[start:])
    for reliable_only in (True, False):
        for step in walk:
            name = step.function
            if not name or (reliable_only and not step.frame.reliable):
                continue
            if step.rip and _TRANSIT.match(name):
                return walk, name  # the crash site is the dispatcher itself
            if is_helper(name) or _inlined_helper(step) or (leak and _ALLOCATION.search(name)):
                continue
            return walk, name
        if any(s.frame.reliable for s in walk):
            break  # "? " frames are noise next to reliable ones; they are all a kernel without frame pointers has
    return walk, None


def principal_walk(steps: list[Step]) -> list[Step]:
    """The steps of the principal trace and the RIP lines printed just before it."""
    principal = [s for s in steps if s.principal]
    return principal or steps


def _one_stack(walk: list[Step]) -> list[Step]:
    """The walk up to where it leaves the stack the subject runs on: an oops in an interrupt is
    about the interrupt's frames, not about the task it interrupted (after </IRQ>). A RIP printed
    before the trace's first marker belongs to the stack that follows it."""
    section = next((s.section for s in walk if not s.rip and s.function), None)
    if section is None:
        return walk
    out = []
    for step in walk:
        if step.section > section:
            break
        out.append(step)
    return out


def after_reporting(walk: list[Step], kind: str) -> int:
    """Index after the last reporting frame above the first frame that could be the subject.

    For a lockup the timer interrupt that ran the detector is part of the reporting too."""
    cut = 0
    unwound = any(s.frame.reliable for s in walk)
    for index, step in enumerate(walk):
        name = step.function
        if not name or (unwound and not step.frame.reliable):
            continue  # a "? " frame is stack garbage: it neither reports nor ends the reporting
        if is_reporter(name) or (kind == "lockup" and not step.rip and _TRANSIT.match(name)):
            cut = index + 1
        elif (step.frame.reliable or not unwound) and not _HELPER.match(name) and not _inlined_helper(step) \
                and not (_TRANSIT.match(name) and not step.rip):
            break
    return cut
