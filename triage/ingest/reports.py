"""Turn the classified lines of one kernel report into a report event.

The lines were classified by the line classes of grammars/report.lark; here
lark's LALR parser checks them against the report structure of the same
grammar and a small transformer collects header, details and the stack walk
(frames and the RIP lines of exception frames, in line order). Which function
the report is about is decided in :mod:`.guilty`.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

from lark import Lark, Token, Transformer, Tree
from lark.exceptions import LarkError
from lark.lexer import Lexer

from ..model import Frame, Line
from . import grammar as grammar_mod
from ..errors import GrammarError
from .guilty import guilty_function
from .stall import runaway_field, stall_subject
from .stack import Step, frame_from_text, walk

__all__ = [
    "END_CLASSES", "HEADER_KIND", "OOPS_DETAIL", "Classified", "LineClasses", "ReportParts", "build_fields",
    "guilty_function", "line_classes", "parse_report", "report_fields", "report_grammar", "title",
]

HEADER_KIND = {
    "PANIC": "kernel_panic",
    "PAGE_FAULT": "oops", "GPF": "oops", "INVALID_OPCODE": "oops", "DIVIDE_ERROR": "oops",
    "OOPS_LINE": "oops", "ARM_OOPS": "oops",
    "KERNEL_BUG": "bug", "KMEMLEAK": "bug", "UBSAN": "bug", "BUG": "bug", "TRUSTY_PANIC": "bug",
    "WARNING": "warning", "SELF_CHECK": "warning", "LOCKDEP_INFO": "warning",
    "SOFT_LOCKUP": "lockup", "WORKQUEUE_LOCKUP": "lockup", "HARD_LOCKUP": "lockup",
    "HUNG_TASK": "lockup", "HUNG_TASK_TAIL": "lockup", "RCU_STALL": "lockup",
    "NMI_BACKTRACE": "call_trace", "CPU_LINE": "call_trace", "TRACE_HEAD": "call_trace",
    # "#PF: supervisor read access in kernel mode" (show_fault_oops(), arch/x86/mm/fault.c, 5.1+) first:
    # a page fault oops whose "BUG: ..." line the poster cut off
    "PF_ACCESS": "oops",
}
#: Lines that state the oops itself; absorbed when they follow a BUG/oops header.
#: KMEMLEAK: the first "unreferenced object" after "BUG: memory leak" is that leak.
OOPS_DETAIL = {"PAGE_FAULT", "GPF", "INVALID_OPCODE", "DIVIDE_ERROR", "OOPS_LINE", "ARM_OOPS", "KMEMLEAK"}
END_CLASSES = {"END_TRACE", "END_PANIC"}

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
    frames: list[Frame] = field(default_factory=list)  # the principal trace
    steps: list[Step] = field(default_factory=list)  # the stack walk the guilty function is chosen from


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
    """Header and details from the tree; traces come back as lists, in line order, for _walk."""

    def __init__(self, items: list[Classified]) -> None:
        super().__init__()
        self.items = items
        self.parts = ReportParts()

    def _item(self, token: Token) -> Classified:
        return self.items[int(token.value)]

    def header(self, children):
        self.parts.header = self._item(children[0])

    def detail(self, children):
        out = []
        for child in children:
            if isinstance(child, Token):
                item = self._item(child)
                self.parts.details.append(item)
                out.append(item)
            elif isinstance(child, tuple):
                out.append(child)
        return out

    def trace(self, children):
        tokens = []
        for child in children:
            tokens.extend(child if isinstance(child, list) else [child])
        return ("trace", [self._item(t) for t in tokens])

    def trace_item(self, children):
        return children

    def report(self, children):
        ordered: list[Any] = []
        for child in children:
            if isinstance(child, list):
                ordered.extend(child)
        self.parts.steps, self.parts.frames = walk(ordered)
        return self.parts


def parse_report(items: list[Classified]) -> ReportParts:
    """Parse one report's classified lines with the report grammar."""
    collector = _Collect(items)
    try:
        tree = report_grammar().lark.parse(items, start="report")
        parts = collector.transform(tree)
        if isinstance(parts, Tree):  # pragma: no cover - a grammar without a report callback
            raise LarkError("no report")
    except LarkError:
        # the grammar is permissive; if lines arrive in an order it does not
        # know, keep the header and every line as a detail rather than lose it
        parts = ReportParts(header=items[0], details=items[1:])
    return parts


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
    out["rip"] = frame_from_text(rip_item.fields.get("rip", ""), rip_item.line.number) if rip_item else None
    out["guilty_function"] = guilty_function(kind, out, parts.steps, header.cls if header else None,
                                             header.line.body if header else "")
    runaway = runaway_field(header.cls, header.line.body) if header is not None else None
    if runaway:
        subject = stall_subject(parts.steps, kind)  # the work the CPU ran, not where it looped or overflowed
        if subject:
            out[runaway], out["guilty_function"] = out["guilty_function"], subject
    out["title"] = title(kind, header, out)
    return out


#: capture groups of report.lark that are parts of a frame, not report fields
_FRAME_GROUPS = ("unreliable", "function", "offset", "size", "module", "context", "context_end", "source_file")
#: spellings of one field in several alternatives of a line class (a group name is unique in a regex)
_SPELLING = re.compile(r"_(?:old|new)$")
#: report.lark group -> the report field it fills (older spellings of the same fact)
_RENAMED_GROUPS = {"pid_hardware": "hardware", "taint": "tainted"}
#: fields every report event gets from build_fields itself
_BUILT_FIELDS = ("header_class", "frames", "rip", "guilty_function", "title", "tainted", "stack_from_line", "stalled_in", "overflowed_in")


def _field_name(group: str) -> str:
    group = _SPELLING.sub("", group)
    return _RENAMED_GROUPS.get(group, group)


@lru_cache(maxsize=None)
def report_fields() -> frozenset[str]:
    """Every field a report event can carry: report.lark's named groups, renamed, plus the built ones."""
    groups: set[str] = set()
    for regexp in report_grammar().patterns.values():
        groups.update(_NAMED_GROUP.findall(regexp))
    groups -= set(_FRAME_GROUPS)
    return frozenset({_field_name(g) for g in groups} | set(_BUILT_FIELDS))


def _type_fields(out: dict[str, Any]) -> None:
    for name in [n for n in out if _SPELLING.search(n)]:
        out.setdefault(_SPELLING.sub("", name), out.pop(name))
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
    if "taint" in out:
        out["tainted"] = out.pop("taint").strip() or True
    elif "release" in out:
        out["tainted"] = False


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
    elif header is not None and header.cls == "WARNING" and fields.get("warn_function"):
        text = "WARNING"
    elif header is not None and header.cls == "TRUSTY_PANIC":
        # syzkaller's words: "trusty: ASSERT FAILED: <condition>", "trusty: panic: <what>"
        if "trusty_assert" in fields:
            return f"trusty: ASSERT FAILED: {fields['trusty_assert']}".strip()
        return f"trusty: panic: {fields.get('trusty_what', '')}".strip()
    elif header is not None and header.cls == "KERNEL_BUG":
        text = f"kernel BUG at {fields.get('bug_file')}:{fields.get('bug_line')}"
    elif header is not None and header.cls == "SOFT_LOCKUP":
        text = "BUG: soft lockup"
    elif header is not None and header.cls in ("HUNG_TASK", "HUNG_TASK_TAIL"):
        text = "INFO: task hung"
    elif header is not None and header.cls == "CPU_LINE":
        text = "dump_stack trace"
    elif header is not None and header.cls == "BUG" and fields.get("kasan_access") and "KASAN: " in text:
        # syzkaller's titles name the access: "KASAN: use-after-free Read in f" (mm/kasan/report.c
        # prints it on the next line; before 4.11 the header ended "at addr ADDR")
        text = re.sub(r"\s+in [\w.$]+(?:\+0x[0-9a-f]+/0x[0-9a-f]+)?(?: at addr \S+)?\s*$", "", text)
        text = f"{text} {fields['kasan_access']}"
    text = re.sub(r"\s+in [\w.$]+(?:\+0x[0-9a-f]+/0x[0-9a-f]+)?\s*$", "", text)
    guilty = fields.get("guilty_function")
    return f"{text} in {guilty}" if guilty else text
