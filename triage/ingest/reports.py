"""Turn the classified lines of one kernel report into a report event.

The lines were classified by the line classes of grammars/report.lark; here
lark's LALR parser checks them against the report structure of the same
grammar and a small transformer collects header, details and frames.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

from lark import Lark, Token, Transformer
from lark.exceptions import LarkError
from lark.lexer import Lexer

from ..model import Frame, Line, normalize_function
from . import grammar as grammar_mod
from ..errors import GrammarError

HEADER_KIND = {
    "PANIC": "kernel_panic",
    "PAGE_FAULT": "oops", "GPF": "oops", "INVALID_OPCODE": "oops", "DIVIDE_ERROR": "oops",
    "OOPS_LINE": "oops", "ARM_OOPS": "oops",
    "KERNEL_BUG": "bug", "KMEMLEAK": "bug", "UBSAN": "bug", "BUG": "bug",
    "WARNING": "warning", "SELF_CHECK": "warning", "LOCKDEP_INFO": "warning",
    "SOFT_LOCKUP": "lockup", "WORKQUEUE_LOCKUP": "lockup", "HARD_LOCKUP": "lockup",
    "HUNG_TASK": "lockup", "RCU_STALL": "lockup",
    "NMI_BACKTRACE": "call_trace", "CPU_LINE": "call_trace", "TRACE_HEAD": "call_trace",
}
#: Lines that state the oops itself; absorbed when they follow a BUG/oops header.
OOPS_DETAIL = {"PAGE_FAULT", "GPF", "INVALID_OPCODE", "DIVIDE_ERROR", "OOPS_LINE", "ARM_OOPS"}
END_CLASSES = {"END_TRACE", "END_PANIC"}

#: Frames that print or raise the report, never its cause.
_PLUMBING = re.compile(
    r"^(?:_*dump_stack(?:_lvl)?|show_stack|show_trace_log_lvl|panic|nmi_panic|vpanic|__warn|"
    r"warn_slowpath\w*|report_bug|handle_bug|exc_invalid_op|asm_exc_invalid_op|invalid_op|do_error_trap|"
    r"do_trap|do_invalid_op|die|oops_end|no_context|__bad_area\w*|bad_area\w*|page_fault_oops|"
    r"kernelmode_fixup_or_oops|do_user_addr_fault|exc_page_fault|asm_exc_page_fault|page_fault|"
    r"do_page_fault|__do_page_fault|async_page_fault|kasan_\w+|__kasan_\w+|print_address_description\w*|"
    r"print_report|check_memory_region\w*|__asan_\w+|ubsan_\w+|__ubsan_\w+|kmsan_\w+|__msan_\w+|"
    r"kcsan_\w+|__tsan_\w+|print_\w+|lockdep_\w+|__lock_acquire|lock_acquire|validate_chain|"
    r"check_\w+_usage|mark_lock\w*|debug_\w+|__might_sleep|___might_sleep|__might_fault|__might_resched|"
    r"__schedule_bug|nmi_cpu_backtrace\w*|nmi_trigger_cpumask_backtrace|arch_trigger_cpumask_backtrace|"
    r"watchdog\w*|check_hung_\w+|hung_task\w*|rcu_dump\w*|print_cpu_stall\w*|rcu_check_gp_kthread\w*|"
    r"sysrq_handle_crash|__handle_sysrq\w*|fortify_panic|__stack_chk_fail|bug_handler|"
    r"__x86_return_thunk|__pfx_\w+|entry_SYSCALL_64\w*|do_syscall_64|ret_from_fork\w*|kthread|"
    r"common_startup_64|secondary_startup_64\w*|"
    # waiting primitives: a hung task's subject is whoever waits, not how
    r"__schedule|schedule\w*|io_schedule\w*|preempt_schedule\w*|__mutex_lock\w*|mutex_lock\w*|"
    r"__down\w*|down_read\w*|down_write\w*|rwsem_down\w*|call_rwsem_\w+|__rwsem\w*|"
    r"wait_for_completion\w*|__wait_for_common|wait_for_common\w*|__flush_work|flush_work|"
    r"_raw_spin_lock\w*|do_raw_spin_lock|queued_spin_lock_slowpath|native_queued_spin_lock_slowpath|"
    # string and memory primitives: the caller is the subject
    r"spin_dump|spin_bug|memcpy|memset|memmove|memcmp|__memcpy|__memset|__memmove|strcpy|strlen|strncpy|"
    # checkers and reporters that sit between the bug and the report
    r"sched_show_task|show_regs|show_trace\w*|dump_backtrace\w*|register_lock_class|rcu_gp_kthread\w*|"
    r"debug_print_object|check_preemption_disabled|__list_del_entry_valid\w*|__list_add_valid\w*|"
    r"__sanitizer_\w+|context_switch|__switch_to\w*|__x86_indirect_thunk_\w+|refcount_warn_saturate|"
    r"refcount_\w+|skb_panic|skb_over_panic|skb_under_panic|retint_kernel|__check_object_size|"
    r"check_object_size|usercopy_abort|__warn_printk|kfree|kvfree|kmalloc\w*|__kmalloc\w*|"
    r"__alloc_pages\w*|__vmalloc\w*|lockdep_\w+|lock_release|lock_is_held\w*|rcu_lockdep_\w+)$"
)
@dataclass
class Classified:
    """One line of a report with its line class and raw fields."""

    cls: str
    fields: dict[str, str]
    line: Line


@dataclass
class ReportParts:
    """What the transformer collects from the parse tree."""

    header: Classified | None = None
    details: list[Classified] = field(default_factory=list)
    frames: list[Frame] = field(default_factory=list)


class _LineTokens(Lexer):
    """Feeds already-classified lines to lark as tokens."""

    def __init__(self, lexer_conf: Any) -> None:
        pass

    def lex(self, data: list[Classified]):  # type: ignore[override]
        for index, item in enumerate(data):
            yield Token(item.cls, str(index))


@lru_cache(maxsize=None)
def report_grammar() -> grammar_mod.Grammar:
    """``grammars/report.lark``, loaded once: LALR over classified lines, and its line classes."""
    path, text = grammar_mod.grammar_text("report")
    try:
        # "line" lists the line classes in priority order; as a second start it stays in the parsed grammar
        lark = Lark(text, start=["report", "line"], parser="lalr", lexer=_LineTokens)
    except Exception as exc:  # lark raises several error types
        raise GrammarError(f"{path}: {exc}".splitlines()[0]) from None
    return grammar_mod.of_lark("report", lark)


_NAMED_GROUP = re.compile(r"\(\?P<(\w+)>")


@dataclass(frozen=True)
class LineClasses:
    """The report grammar's line classes as one ordered alternation."""

    pattern: re.Pattern[str]
    order: tuple[str, ...]

    def classify(self, body: str) -> tuple[str, dict[str, str]] | None:
        """(line class, raw field texts); the transformer types the fields."""
        m = self.pattern.match(body)
        if m is None:
            return None
        name = m.lastgroup
        prefix = name + "__"
        return name, {
            group[len(prefix):]: value
            for group, value in m.groupdict().items()
            if value is not None and group.startswith(prefix)
        }


@lru_cache(maxsize=None)
def line_classes() -> LineClasses:
    """The line classes of ``report.lark``, read from the same Lark object that parses reports."""
    grammar = report_grammar()
    order = [alt[0].name for alt in grammar_mod.expansions(grammar, "line")]
    parts = []
    for name in order:
        regexp = grammar_mod.terminal_regex(grammar, name)
        regexp = _NAMED_GROUP.sub(lambda m, n=name: f"(?P<{n}__{m.group(1)}>", regexp)
        parts.append(f"(?P<{name}>{regexp})")
    return LineClasses(re.compile("|".join(parts)), tuple(order))




class _Collect(Transformer):
    def __init__(self, items: list[Classified]) -> None:
        super().__init__()
        self.items = items
        self.parts = ReportParts()
        self._traces = 0

    def _item(self, token: Token) -> Classified:
        return self.items[int(token.value)]

    def header(self, children):
        self.parts.header = self._item(children[0])

    def detail(self, children):
        for child in children:
            if isinstance(child, Token):
                self.parts.details.append(self._item(child))

    def trace(self, children):
        self._traces += 1
        tokens = []
        for child in children:
            tokens.extend(child if isinstance(child, list) else [child])
        for token in tokens:
            item = self._item(token)
            if item.cls == "TRACE_HEAD":
                continue
            if item.cls == "CONTEXT":  # contexts are attached by line order afterwards
                continue
            frame = _frame(item)
            if frame is None:
                continue
            if self._traces == 1:  # later traces (e.g. an NMI backtrace's) stay in the event's text
                self.parts.frames.append(frame)

    def trace_item(self, children):
        return children

    def report(self, children):
        return self.parts


def _frame(item: Classified) -> Frame | None:
    f = item.fields
    if item.cls == "FRAME":
        return Frame(
            function=f.get("function"), offset=int(f["offset"], 16), size=int(f["size"], 16),
            module=f.get("module"), reliable=not f.get("unreliable"), line=item.line.number,
        )
    if item.cls == "INLINE_FRAME":
        return Frame(function=f.get("function"), reliable=not f.get("unreliable"), line=item.line.number)
    return None


def _frame_from_text(text: str, line: int) -> Frame | None:
    m = re.match(r"\s*(?:\? )?([\w.$]+)\+0x([0-9a-f]+)/0x([0-9a-f]+)(?: \[([\w-]+)\])?", text)
    if m is None:
        m2 = re.match(r"\s*(0x[0-9a-f]+)", text)
        return Frame(function=None, address=m2.group(1), line=line) if m2 else None
    return Frame(function=m.group(1), offset=int(m.group(2), 16), size=int(m.group(3), 16),
                 module=m.group(4), line=line)


def parse_report(items: list[Classified]) -> ReportParts:
    """Parse one report's classified lines with the report grammar."""
    collector = _Collect(items)
    try:
        tree = report_grammar().lark.parse(items, start="report")
        parts = collector.transform(tree)
    except LarkError:
        # the grammar is permissive; if lines arrive in an order it does not
        # know, keep the header and every line as a detail rather than lose it
        parts = ReportParts(header=items[0], details=items[1:])
    _contexts(parts, items)
    return parts


def _contexts(parts: ReportParts, items: list[Classified]) -> None:
    """Attach <TASK>/<IRQ>/<NMI> contexts to frames by line order."""
    by_line = {frame.line: frame for frame in parts.frames}
    context = None
    for item in items:
        if item.cls == "CONTEXT":
            context = None if item.fields.get("context_end") else item.fields.get("context")
        elif item.line.number in by_line:
            by_line[item.line.number].context = context


def build_fields(kind: str, parts: ReportParts) -> dict[str, Any]:
    """Kind-specific fields of a report event: title, guilty function, where."""
    header = parts.header
    out: dict[str, Any] = {"header_class": header.cls if header else None}
    everything = ([header] if header else []) + parts.details
    for item in everything:
        for name, value in item.fields.items():
            if name in _FRAME_GROUPS:
                continue
            out.setdefault(name, value.strip() if isinstance(value, str) else value)
        if item.cls == "CONTINUATION" and "panic_message" in out:
            out["panic_message"] = f"{out['panic_message']} {item.line.body.strip()}".strip()
    _type_fields(out)
    out["frames"] = parts.frames
    rip_item = next((d for d in everything if d.cls == "RIP"), None)
    out["rip"] = _frame_from_text(rip_item.fields.get("rip", ""), rip_item.line.number) if rip_item else None
    out["guilty_function"] = guilty_function(kind, out, parts.frames, header.line.body if header else "")
    out["title"] = title(kind, header, out)
    return out


#: capture groups of report.lark that are parts of a frame, not report fields
_FRAME_GROUPS = ("unreliable", "function", "offset", "size", "module", "context", "context_end")
#: report.lark group -> the report field it fills (older spellings of the same fact)
_RENAMED_GROUPS = {"pid_hardware": "hardware", "warn_where_old": "warn_where", "warn_function_old": "warn_function",
                   "taint": "tainted"}
#: fields every report event gets from build_fields itself
_BUILT_FIELDS = ("header_class", "frames", "rip", "guilty_function", "title", "tainted")


@lru_cache(maxsize=None)
def report_fields() -> frozenset[str]:
    """Every field a report event can carry: report.lark's named groups, renamed, plus the built ones."""
    groups: set[str] = set()
    for regexp in report_grammar().patterns.values():
        groups.update(_NAMED_GROUP.findall(regexp))
    groups -= set(_FRAME_GROUPS)
    return frozenset({_RENAMED_GROUPS.get(g, g) for g in groups} | set(_BUILT_FIELDS))


def _type_fields(out: dict[str, Any]) -> None:
    for name in ("cpu", "pid", "lockup_cpu", "stuck_seconds", "oops_count", "bug_line"):
        if isinstance(out.get(name), str) and out[name].isdigit() and len(out[name]) <= 20:
            out[name] = int(out[name])
    if isinstance(out.get("pf_error_code"), str):
        out["pf_error_code"] = int(out["pf_error_code"], 16)
    if "kdump_loaded" in out:
        out["kdump_loaded"] = True
    if out.get("pid_hardware") and "hardware" not in out:
        out["hardware"] = out["pid_hardware"]
    out.pop("pid_hardware", None)
    for old, new in (("warn_where_old", "warn_where"), ("warn_function_old", "warn_function")):
        if old in out:
            out.setdefault(new, out.pop(old))
    if "taint" in out:
        out["tainted"] = out.pop("taint").strip() or True
    elif "release" in out:
        out["tainted"] = False


_HEADER_FUNCTION = re.compile(r" in ([A-Za-z_][\w.$]*)\+0x[0-9a-f]+/0x[0-9a-f]+")


def guilty_function(kind: str, fields: dict[str, Any], frames: list[Frame], header: str = "") -> str | None:
    """The first function that is the report's subject, not its plumbing."""
    warned = fields.get("warn_function")
    if kind == "warning" and warned and not _PLUMBING.match(normalize_function(warned)):
        return normalize_function(warned)
    named = _HEADER_FUNCTION.search(header) if kind in ("bug", "warning") else None
    if named:  # "BUG: KASAN: use-after-free in remove_wait_queue+0xfb/0x120": the sanitizer names it
        return normalize_function(named.group(1))
    rip: Frame | None = fields.get("rip")
    if kind in ("oops", "bug", "lockup") and rip and rip.function and not _PLUMBING.match(normalize_function(rip.function)):
        return normalize_function(rip.function)
    for frame in frames:
        if frame.reliable and frame.function:
            name = normalize_function(frame.function)
            if not _PLUMBING.match(name):
                return name
    return None


def title(kind: str, header: Classified | None, fields: dict[str, Any]) -> str:
    """A one-line title in the manner of syzkaller's: what, and in which function."""
    text = header.line.body.strip() if header else kind
    if kind == "kernel_panic":
        return f"Kernel panic - not syncing: {fields.get('panic_message') or ''}".strip()
    if header is not None and header.cls == "PAGE_FAULT":
        text = f"BUG: {fields.get('pf_what', 'unable to handle page fault')}"
    elif header is not None and header.cls in ("GPF", "INVALID_OPCODE", "DIVIDE_ERROR", "OOPS_LINE"):
        text = re.sub(r":? [0-9a-f]{4} \[#\d+\].*$", "", text)
        text = re.sub(r",? (?:probably|maybe) for .*$", "", text)
    elif header is not None and header.cls == "WARNING" and fields.get("warn_where"):
        text = f"WARNING at {fields['warn_where']}"
    elif header is not None and header.cls == "KERNEL_BUG":
        text = f"kernel BUG at {fields.get('bug_file')}:{fields.get('bug_line')}"
    elif header is not None and header.cls == "SOFT_LOCKUP":
        text = "BUG: soft lockup"
    elif header is not None and header.cls == "HUNG_TASK":
        text = "INFO: task hung"
    elif header is not None and header.cls == "CPU_LINE":
        text = "dump_stack trace"
    text = re.sub(r"\s+in [\w.$]+(?:\+0x[0-9a-f]+/0x[0-9a-f]+)?\s*$", "", text)
    guilty = fields.get("guilty_function")
    return f"{text} in {guilty}" if guilty else text
