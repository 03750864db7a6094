"""Fingerprints: what makes two captures "the same failure", versioned so buckets can be recomputed.

A capture gets two keys, in the spirit of syzbot's titles, ABRT's duphash and Socorro's signatures:

- a **diagnosis key**: the root-cause rule, the role of the boot it is about, its confidence;
- a **crash signature** for every kernel report: a readable title ``<class> in <guilty function>``
  and a hash over the top normalised reliable frames (offsets and compiler suffixes such as
  ``.isra.0``/``.cold`` dropped by :func:`triage.model.vocabulary.normalize_function`, the module
  kept as a token, plumbing frames skipped with the guilty-function walk's own families).  CPU, PID,
  comm, time and taint never enter a hash: they are kept as facets.

The **bucket** of a capture: a specific (non-``generic``) root cause is the failure itself, so its
bucket is the rule and the boot role; otherwise the capture's first kernel report decides, by its
normalised title (syzkaller's titles say the class and the guilty function; measured against them in
``bench/bench_fleet.py``), and by class and stack hash when the report names no function.

``FINGERPRINT_VERSION`` changes whenever any of this changes: stored captures of an older version
are re-bucketed by the next scan and the store keeps which old bucket became which new one.
"""
from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass, field
from typing import Any

from ..ingest.guilty import is_helper
from ..model import Event, Frame, Report, normalize_function

__all__ = ["FINGERPRINT_VERSION", "TOP_FRAMES", "CrashSignature", "Diagnosis", "Fingerprint",
           "crash_signature", "diagnosis_key", "fingerprint", "normalize_title"]

#: bumped whenever a key below is computed differently (the store re-buckets older captures)
FINGERPRINT_VERSION = 2
#: frames hashed, innermost first, after the plumbing
TOP_FRAMES = 5
#: report kinds in the order the primary crash is chosen (a bare call trace only when nothing else)
_PRIMARY_KINDS = ("oops", "bug", "warning", "lockup", "kernel_panic", "call_trace")
#: the tag a rule carries when it only restates a kernel report (rules/GENERIC-*.yaml)
GENERIC_TAG = "generic"

_HEX = re.compile(r"\b(?:0x)?[0-9a-fA-F]{6,}\b|\b0x[0-9a-fA-F]+\b")
_NUM = re.compile(r"\b\d+\b")
_SPACES = re.compile(r"\s+")
#: what varies between two occurrences of one failure and is no part of its class, in the order removed:
#: stray printk stamps, bracketed/braced/parenthesised values ("[unmount of proc proc]", "{i=8bb9,n=lo}",
#: "(ptrval)"), a symbol with its offset ("in memcpy+0x1c/0x30 [test_kasan]"), "at addr ADDR",
#: the task "comm/pid/preempt-count" after a colon (kernel/sched/core.c __schedule_bug(),
#: lib/smp_processor_id.c check_preemption_disabled()), x86's non-canonical note (arch/x86/kernel/traps.c)
_VARIABLE = (
    re.compile(r"\[ *\d+\.\d+\]"),
    re.compile(r"(?<=\S)(?: (?:\[[^\]]*\]|\([^)]*\))|\{[^}]*\})"),  # a title that is "[ BUG: ... ]" stays
    re.compile(r" in [\w.$]+\+(?:0x)?[0-9a-f]+/(?:0x)?[0-9a-f]+"),
    re.compile(r" at addr \S+"),
    re.compile(r": \S+/\d+(?:/\S+)?$"),
    re.compile(r",? (?:probably )?for non-canonical address \S+"),
)
#: RCU's two stall reports are one failure class (kernel/rcu/tree_stall.h: print_cpu_stall() prints
#: "self-detected stall on CPU", print_other_cpu_stall() "detected stalls on CPUs/tasks"), whatever the flavour
#: lockdep's reports of a lock order it objects to are one class, a possible deadlock
#: (kernel/locking/lockdep.c: print_circular_bug_header(), print_deadlock_bug())
_LOCKDEP_DEADLOCK = re.compile(r"^WARNING: possible (?:circular locking dependency|recursive locking) detected")
#: one failure printed in the words of several kernel generations, folded to one class:
#: - KASAN's bad free: "double-free or invalid-free" until 5.x, then "double-free" or "invalid-free"
#:   apart (mm/kasan/report.c kasan_report_invalid_free()); the class is a free of what is no object
#: - the stack guard page: "BUG: stack guard page was hit at", later with the stack's name
#:   ("BUG: TASK stack guard page was hit at", arch/x86/kernel/traps.c handle_stack_overflow())
#: - the x86 #GP on a bad selector, "segment-related general protection fault" (traps.c since 5.9)
#: - the frame unwinder's complaints about a corrupt stack (arch/x86/kernel/unwind_frame.c
#:   update_stack_state(): "kernel stack regs at ADDR in COMM:PID has bad 'bp' value ADDR"): the
#:   address and the task are no part of the class
_CLASS_FOLDS = (
    (re.compile(r"KASAN: (?:double-free or invalid-free|double-free|invalid-free)\b"), "KASAN: invalid-free"),
    (re.compile(r"BUG: (?:\w+ )?stack guard page was hit\b.*"), "BUG: stack guard page was hit"),
    (re.compile(r"^segment-related general protection fault"), "general protection fault"),
    (re.compile(r"^(WARNING: kernel stack (?:regs|frame pointer)) at .* (has bad (?:'\w+' )?value)\b.*"), r"\1 \2"),
)
#: functions that only wait for another part of the kernel, folded to the family they belong to: a
#: task hung or a CPU stuck in any of them is one failure, whichever variant the kernel version used
#: - RCU grace-period waits (kernel/rcu/tree.c synchronize_rcu(), synchronize_rcu_expedited() in
#:   tree_exp.h, synchronize_sched() until 4.20 folded it into synchronize_rcu(), kernel/rcu/srcutree.c
#:   synchronize_srcu(), __synchronize_srcu())
#: - cross-CPU calls waiting for their IPI to be served (kernel/smp.c smp_call_function_single(),
#:   smp_call_function_many(), smp_call_function_many_cond())
_FUNCTION_FAMILIES = {
    "synchronize_rcu_expedited": "synchronize_rcu", "synchronize_sched": "synchronize_rcu",
    "synchronize_sched_expedited": "synchronize_rcu", "synchronize_srcu": "synchronize_rcu",
    "__synchronize_srcu": "synchronize_rcu", "synchronize_srcu_expedited": "synchronize_rcu",
    "smp_call_function_single": "smp_call_function", "smp_call_function_many": "smp_call_function",
    "smp_call_function_many_cond": "smp_call_function",
}
#: a WARN() in library code or in an API's argument checks is about its caller's misuse, not the
#: library: lib/ holds the generic helpers (lib/refcount.c refcount_warn_saturate(), lib/debugobjects.c
#: debug_print_object(), lib/kobject.c kobject_add_internal(), lib/list_debug.c); usb_submit_urb()
#: warns of a caller's bogus pipe type (drivers/usb/core/urb.c), kmalloc_slab() of a size no cache
#: holds (mm/slab_common.c), __flush_work() of a work item never initialised (kernel/workqueue.c),
#: register_lock_class() of a lock key a caller set wrong (kernel/locking/lockdep.c)
_LIBRARY_WARNING = re.compile(r"^WARNING at (?:lib/|drivers/usb/core/urb\.c|mm/slab_common\.c|kernel/workqueue\.c"
                              r"|kernel/locking/lockdep\.c)")
_RCU_STALL = re.compile(r"^(?:rcu: )?INFO: rcu_\w+ (?:self-detected stall on CPU|detected stalls? on CPUs/tasks:?)")


def normalize_title(title: str) -> str:
    """A report's class with what varies between occurrences removed or replaced: addresses, numbers,
    task names and ids, bracketed values; RCU stall flavours folded into one class."""
    text = title
    for pattern in _VARIABLE:
        text = pattern.sub("", text)
    text = _RCU_STALL.sub("INFO: rcu detected stall", text)
    text = _LOCKDEP_DEADLOCK.sub("WARNING: possible deadlock", text)
    for pattern, folded in _CLASS_FOLDS:
        text = pattern.sub(folded, text)
    text = _HEX.sub("ADDR", text)
    text = _NUM.sub("NUM", text)
    return _SPACES.sub(" ", text).strip(" :")


def _short_hash(*parts: str) -> str:
    return hashlib.blake2b("\x1f".join(parts).encode("utf-8", "surrogateescape"), digest_size=8).hexdigest()


@dataclass(frozen=True)
class CrashSignature:
    """One kernel report, as a key: readable title, normalised class, hashed frames, facets."""

    kind: str
    klass: str  # the title without its " in <function>" part, normalised
    guilty: str | None  # normalised guilty function
    title: str  # "<class> in <guilty function>" (or the class alone)
    frames: tuple[str, ...]  # the hashed tokens: "function" or "function [module]"
    stack_hash: str
    line: int
    boot: int
    facets: dict[str, Any] = field(default_factory=dict, compare=False)  # cpu, pid, comm, tainted, time, release

    @property
    def key(self) -> str:
        """The crash part of a bucket: the title when it names a function, else class and stack."""
        if self.guilty:
            return "crash:" + _short_hash(self.kind_group, self.title)
        return "crash:" + _short_hash(self.kind_group, self.klass, self.stack_hash)

    @property
    def kind_group(self) -> str:
        """call traces stand alone; every other report is keyed by its title, whatever the parser called it."""
        return "trace" if self.kind == "call_trace" else "report"

    def to_dict(self) -> dict[str, Any]:
        return {"kind": self.kind, "class": self.klass, "guilty": self.guilty, "title": self.title,
                "frames": list(self.frames), "stack_hash": self.stack_hash, "line": self.line, "boot": self.boot,
                "facets": dict(self.facets), "key": self.key}


@dataclass(frozen=True)
class Diagnosis:
    """The root cause as a key: rule, boot role, confidence."""

    rule_id: str
    boot_role: str
    confidence: str
    generic: bool  # the rule restates a kernel report (tag 'generic'): the crash decides the bucket

    @property
    def key(self) -> str:
        return f"{self.rule_id}/{self.boot_role}/{self.confidence}"

    def to_dict(self) -> dict[str, Any]:
        return {"rule_id": self.rule_id, "boot_role": self.boot_role, "confidence": self.confidence,
                "generic": self.generic, "key": self.key}


@dataclass(frozen=True)
class Fingerprint:
    """Everything a capture is bucketed by, with the version of the algorithm that made it."""

    version: int
    diagnosis: Diagnosis | None
    signatures: tuple[CrashSignature, ...]
    bucket: str  # stable id: "<16 hex>"
    bucket_title: str
    bucket_basis: str  # diagnosis | crash | none

    @property
    def primary(self) -> CrashSignature | None:
        return _primary(self.signatures)

    def to_dict(self) -> dict[str, Any]:
        return {"version": self.version, "diagnosis": self.diagnosis.to_dict() if self.diagnosis else None,
                "signatures": [s.to_dict() for s in self.signatures], "bucket": self.bucket,
                "bucket_title": self.bucket_title, "bucket_basis": self.bucket_basis}


def _frame_token(frame: Frame | dict[str, Any]) -> tuple[str | None, bool]:
    """(token, reliable) of one frame: the normalised function and its module; offsets never count."""
    if isinstance(frame, dict):
        function, module, reliable = frame.get("function"), frame.get("module"), frame.get("reliable", True)
    else:
        function, module, reliable = frame.function, frame.module, frame.reliable
    if not function:
        return None, bool(reliable)
    name = normalize_function(function)
    return (f"{name} [{module}]" if module else name), bool(reliable)


def _stack_tokens(event: Event) -> tuple[str, ...]:
    """The top TOP_FRAMES normalised frames below the plumbing: reliable ones, or all of them when a
    kernel without frame pointers marked every frame unreliable ("? ")."""
    frames = list(event.fields.get("frames") or [])
    rip = event.fields.get("rip")
    if rip is not None:
        frames.insert(0, rip)
    tokens = [_frame_token(f) for f in frames]
    tokens = [(t, r) for t, r in tokens if t is not None]
    reliable = [t for t, r in tokens if r]
    chosen = reliable if reliable else [t for t, _ in tokens]
    out: list[str] = []
    for token in chosen:
        if is_helper(token.split(" [", 1)[0]) or (out and out[-1] == token):
            continue
        out.append(token)
        if len(out) == TOP_FRAMES:
            break
    return tuple(out)


def crash_signature(event: Event, trace: Event | None = None) -> CrashSignature:
    """The signature of one kernel report event; ``trace`` is the call trace printed right after it
    (an RCU stall's backtrace, a WARNING's stack printed apart): its frames stand in for a report
    that has none, its guilty function for a report that names none."""
    title = event.fields.get("title") or event.kind
    guilty_raw = event.fields.get("guilty_function")
    if trace is not None and (not guilty_raw or not event.fields.get("frames")):
        guilty_raw = guilty_raw or trace.fields.get("guilty_function")
        event = Event(event.kind, event.source, event.boot, event.line, event.end_line, event.text,
                      event.timestamp, fields={**trace.fields, **{k: v for k, v in event.fields.items() if v}})
    guilty = normalize_function(guilty_raw) if guilty_raw else None
    guilty = _FUNCTION_FAMILIES.get(guilty, guilty) if guilty else None
    klass = title
    own = event.fields.get("guilty_function")
    if own and title.endswith(" in " + own):
        klass = title[: -len(" in " + own)]
    klass = normalize_title(klass)
    frames = _stack_tokens(event)
    if guilty and _LIBRARY_WARNING.match(klass):
        guilty = _caller_of(guilty, frames) or guilty
    readable = f"{klass} in {guilty}" if guilty else klass
    facets = {name: event.fields.get(name) for name in ("cpu", "pid", "comm", "tainted", "release")
              if event.fields.get(name) is not None}
    if event.timestamp is not None:
        facets["time"] = event.timestamp
    return CrashSignature(kind=event.kind, klass=klass, guilty=guilty, title=readable, frames=frames,
                          stack_hash=_short_hash(*frames) if frames else "-", line=event.line, boot=event.boot,
                          facets=facets)


def _caller_of(function: str, frames: tuple[str, ...]) -> str | None:
    """The first hashed frame below ``function`` (module token dropped); when the function itself is
    not among them (an unreliable "? " frame, or printed apart), the first hashed frame."""
    names = [f.split(" [", 1)[0] for f in frames]
    below = names[names.index(function) + 1:] if function in names else names
    return below[0] if below else None


def diagnosis_key(report: Report) -> Diagnosis | None:
    """The root cause of a report as a key, or None when nothing was found."""
    root = report.root_cause
    if root is None:
        return None
    return Diagnosis(rule_id=root.rule_id, boot_role=root.boot_role, confidence=root.confidence,
                     generic=GENERIC_TAG in root.tags)


#: lines between a report without a trace and the call trace that belongs to it
_TRACE_GAP = 80


def _with_traces(events: list[Event]):
    """Each event with the stack printed for it apart, if any: the next call trace, or the panic that
    panic_on_warn raised carrying the WARNING's stack (kernel/panic.c __warn() -> panic()), in the same
    boot and source within _TRACE_GAP lines."""
    reports = [e for e in events if e.kind in _PRIMARY_KINDS]
    for i, event in enumerate(reports):
        trace = None
        for later in reports[i + 1:i + 4]:
            if (later.kind in ("call_trace", "kernel_panic") and later.fields.get("frames")
                    and later.boot == event.boot and later.source == event.source
                    and later.line - event.end_line <= _TRACE_GAP):
                trace = later
                break
        yield event, trace


def _primary(signatures: tuple[CrashSignature, ...]) -> CrashSignature | None:
    """The capture's crash: its first report (what follows a first oops is most often its consequence,
    as syzkaller's report parser also takes the first); a panic only when no report came before it
    to explain it, a bare call trace only when nothing else was printed."""
    for kinds in (_PRIMARY_KINDS[:4], ("kernel_panic",), ("call_trace",)):
        found = [s for s in signatures if s.kind in kinds]
        if found:
            return found[0]
    return None


def fingerprint(report: Report, report_kinds: tuple[str, ...] = _PRIMARY_KINDS) -> Fingerprint:
    """Diagnosis key, crash signatures and bucket of one analysed capture."""
    signatures = tuple(crash_signature(e, trace) for c in report.captures for e, trace in _with_traces(c.events)
                       if e.kind in report_kinds)
    diagnosis = diagnosis_key(report)
    primary = _primary(signatures)
    if diagnosis is not None and (not diagnosis.generic or primary is None):
        bucket = _short_hash(str(FINGERPRINT_VERSION), "diagnosis", diagnosis.rule_id, diagnosis.boot_role)
        title = f"{diagnosis.rule_id} ({diagnosis.boot_role} kernel)"
        basis = "diagnosis"
    elif primary is not None:
        bucket = _short_hash(str(FINGERPRINT_VERSION), primary.key)
        title = primary.title
        basis = "crash"
    else:
        bucket = _short_hash(str(FINGERPRINT_VERSION), "none")
        title = "no kernel report, no finding"
        basis = "none"
    return Fingerprint(version=FINGERPRINT_VERSION, diagnosis=diagnosis, signatures=signatures, bucket=bucket,
                       bucket_title=title, bucket_basis=basis)
