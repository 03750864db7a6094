"""Diagnosis rules: the YAML format, its schema, loading, lint and fixture runs.

A rule file (``rules/<RULE-ID>.yaml``) holds one rule (a mapping) or a list of
rules.  The format is documented for support engineers in ``rules/README.md``;
this module is its only interpreter.  Nothing in a rule is executed: values are
plain data (strings, numbers, lists) and the only "language" is a restricted
regular expression dialect (see :func:`check_regex`).

Every rule file is validated when it is loaded.  A mistake raises
:class:`RuleError` naming the file, the line and the field (``match.sequence[1].
fields.pf_reason``), including unknown keys, so a typo never silently turns a
condition off.
"""
from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Iterable, Sequence

import yaml
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

try:  # Python >= 3.11
    from re import _parser as _sre_parse  # type: ignore[attr-defined]
    from re import _constants as _sre_c  # type: ignore[attr-defined]
except ImportError:  # pragma: no cover - older Pythons
    import sre_constants as _sre_c  # type: ignore[no-redef]
    import sre_parse as _sre_parse  # type: ignore[no-redef]

from .releases import FixRef, parse_release

__all__ = [
    "RuleError", "Problem", "Rule", "Pattern", "Step", "Condition", "FieldTest", "BootFilter",
    "VmcoreSpec", "FactCheck", "FixtureResult", "SEVERITIES", "KNOWN_MESSAGES", "KNOWN_FIELDS",
    "REGEX_LINE_LIMIT", "REGEX_TEXT_LIMIT", "check_regex", "shipped_rules_dir", "rule_files",
    "load_rule_file", "load_rules", "lint", "run_fixtures",
]

SEVERITIES = ("critical", "error", "warning", "info")
SEVERITY_RANK = {name: rank for rank, name in enumerate(SEVERITIES)}
ROLES = ("first", "kdump", "unknown")
ENDINGS = ("panic", "reboot", "cut off", "next boot")
SCOPES = ("boot", "source", "next_boot")

#: Regex input bounds: a rule regex sees each line of an event's text
#: separately, cut to REGEX_LINE_LIMIT characters, and only the first
#: REGEX_TEXT_LIMIT characters of the whole text.
REGEX_LINE_LIMIT = 1024
REGEX_TEXT_LIMIT = 4096
#: Largest accepted worst-case backtracking estimate of one regex on one line
#: (see check_regex); about 1 ms of work per line for a single ``.*``.
REGEX_COST_BUDGET = 1 << 26

REPORT_KINDS = ("kernel_panic", "oops", "bug", "warning", "lockup", "call_trace")
_REPORT_FIELDS = (
    "title", "guilty_function", "frames", "rip", "cpu", "pid", "comm", "tainted", "release",
    "hardware", "kdump_loaded", "pf_address", "pf_access", "pf_error_code", "pf_reason",
    "pf_what", "panic_message", "bug_type", "bug_file", "bug_line", "lockup_type", "warn_where",
    "warn_function", "header_class", "stuck_seconds", "lockup_cpu", "oops_count", "build", "modules",
    "oops_code", "oops_flags", "trace_id", "bug_what", "gpf_detail", "end_message", "workqueue",
    "rcu_flavor",
)

#: Message ids the parser emits, per event kind (used by lint to catch typos;
#: an id missing here is a lint warning, not an error, so the parser may grow).
KNOWN_MESSAGES: dict[str, frozenset[str | None]] = {
    "amd_vi": frozenset({
        "translation_pre_enabled_copy", "translation_pre_enabled_reuse", "translation_enabled_not_kdump",
        "dev_table_copied", "dev_table_copy_failed", "dev_table_reused", "dev_table_reuse_failed",
        "dev_table_remap_failed", "dev_table_size_unexpected", "dev_table_above_4g",
        "completion_wait_timeout", "command_buffer_timeout", "cmd_buffer_dump", "reuse_cwb",
        "reuse_cmd_buf", "reuse_evt_buf", "ir_enabled", "x2apic_enabled", "vapic_enabled",
        "snp_enabled", "snp_not_supported", "snp_too_late", "global_efr", "extended_features",
        "found_iommu", "perf_counters", "disabling_ir", "ioapic_not_in_ivrs", "no_southbridge_ioapic",
        "ivrs_error", "unknown_option", "strict_mode_virtualization", "event_log_overflow",
        "log_restarting", "iommu_pfn_rmp", "iommuv2_loaded", "ivrs_add_hid", "ivrs_dump", None,
    }),
    "iommu_event": frozenset({"event_logged"}),
    "sev": frozenset({
        "sev_enabled", "sev_init_failed", "sev_not_enabled_by_bios", "fw_updated", "api_version",
        "sev_init_error", "snp_init_failed", "snp_df_flush_failed", "snp_shutdown_failed",
        "snp_iommu_shutdown_failed", "psp_cmd_timeout", "rmp_table_range", "rmp_segmented",
        "rmp_2mb_reserve", "rmp_config_error", "rmp_entry", "rmpupdate_failed", "snp_leaking_pages",
        "kvm_snp_enabled", "psp_enabled", None,
    }),
    "boot_banner": frozenset({"banner", None}),
    "command_line": frozenset({"command_line", None}),
    "kernel_message": frozenset({
        "timer_check", "mp_bios_timer_bug", "printk_dropped", "crashkernel_reserved", "kernel_offset",
        "rebooting", "power_down", "reboot", "sysrq_crash", "decompressor", "kdump_loaded_line",
        "hardware", None,
    }),
    **{kind: frozenset({None}) for kind in REPORT_KINDS},
}

_COMMON_FIELDS = ("kind", "source", "boot", "line", "end_line", "timestamp", "level", "caller",
                  "subsystem", "message", "text")
#: Field names known per kind (lint warns on others: probably a typo).
KNOWN_FIELDS: dict[str, frozenset[str]] = {
    "amd_vi": frozenset({"iommu_index", "bdf", "head", "tail", "reason", "efr", "efr2", "features",
                         "option", "pfn", "device", "cap", "device_prefix", "hid", "uid", "rdevid",
                         "ivrs_dump"}),
    "iommu_event": frozenset({"event_type", "device", "domain", "address", "flags", "pasid", "gpa",
                              "spa", "vmg_tag", "flags_rmp", "tag"}),
    "sev": frozenset({"snp", "api_major", "api_minor", "build", "error", "rc", "command",
                      "command_name", "start", "end", "pfn", "device", "from_version", "to_version",
                      "address", "rmp_entry", "detail", "asid_first", "asid_last"}),
    "boot_banner": frozenset({"release", "version_text"}),
    "command_line": frozenset({"command_line", "kdump"}),
    "kernel_message": frozenset({"vector", "apic1", "pin1", "apic2", "pin2", "count", "detail",
                                 "offset_mb", "size_mb", "seconds", "hardware"}),
    **{kind: frozenset(_REPORT_FIELDS) for kind in REPORT_KINDS},
}


# --------------------------------------------------------------------------
# errors


class RuleError(ValueError):
    """A rule file is invalid.  ``str()`` reads ``file:line: field: message``."""

    def __init__(self, message: str, file: str | Path | None = None, line: int | None = None,
                 field: str | None = None) -> None:
        self.message = message
        self.file = str(file) if file is not None else None
        self.line = line
        self.field = field
        where = ":".join(str(x) for x in (self.file, self.line) if x is not None)
        text = message
        if field:
            text = f"{field}: {text}"
        if where:
            text = f"{where}: {text}"
        super().__init__(text)


@dataclass
class Problem:
    """One lint finding about the rule pack."""

    severity: str  # "error" | "warning"
    file: str | None
    line: int | None
    field: str | None
    message: str
    rule_id: str | None = None

    def __str__(self) -> str:
        where = ":".join(str(x) for x in (self.file, self.line) if x is not None)
        text = f"{self.severity}: "
        if where:
            text += f"{where}: "
        if self.field:
            text += f"{self.field}: "
        return text + self.message

    def to_dict(self) -> dict[str, Any]:
        return {"severity": self.severity, "file": self.file, "line": self.line,
                "field": self.field, "message": self.message, "rule_id": self.rule_id}


# --------------------------------------------------------------------------
# regexes: restricted so a hostile log cannot make them hang


class RegexRejected(ValueError):
    pass


def _regex_cost(items: Any, limit: int) -> tuple[int, bool]:
    """(worst-case backtracking factor, contains a repeat) of a parsed subpattern."""
    cost = 1
    has_repeat = False
    for op, av in items:
        name = str(op)
        if name in ("MAX_REPEAT", "MIN_REPEAT", "POSSESSIVE_REPEAT"):
            lo, hi, body = av
            inner, inner_repeat = _regex_cost(body, limit)
            unbounded = hi == _sre_c.MAXREPEAT or hi > limit
            if inner_repeat and hi > 1:
                raise RegexRejected("nested quantifier (a repeated group that itself contains a "
                                    "repeat, like (a+)+): can take exponential time")
            branchy = inner > 1
            if branchy and unbounded:
                raise RegexRejected("unbounded repeat of a group with alternatives or optional parts "
                                    "(like (a|ab)*): can take exponential time")
            reps = limit if unbounded else hi
            factor = (inner ** reps) if branchy else (reps + 1)
            cost *= max(factor, 1)
            has_repeat = has_repeat or hi > 1
        elif name == "BRANCH":
            total = 0
            for alt in av[1]:
                c, r = _regex_cost(alt, limit)
                total += c
                has_repeat = has_repeat or r
            cost *= max(total, 1)
        elif name in ("SUBPATTERN", "ATOMIC_GROUP"):
            body = av[-1] if name == "SUBPATTERN" else av
            c, r = _regex_cost(body, limit)
            cost *= c
            has_repeat = has_repeat or r
        elif name in ("GROUPREF", "GROUPREF_EXISTS", "GROUPREF_IGNORE", "GROUPREF_LOC_IGNORE",
                      "GROUPREF_UNI_IGNORE"):
            raise RegexRejected("back-references are not allowed")
        elif name in ("ASSERT", "ASSERT_NOT"):
            raise RegexRejected("look-ahead/look-behind assertions are not allowed")
        if cost > (1 << 62):
            cost = 1 << 62
    return cost, has_repeat


def check_regex(pattern: str) -> re.Pattern[str]:
    """Compile a rule regex after the safety checks; raise ValueError saying why not.

    Rules are matched against untrusted logs with Python's backtracking ``re``,
    so patterns are restricted instead of timed out:

    * no nested quantifiers (``(a+)+``, ``(\\w+\\s?)*``), no unbounded repeat
      of a group with alternatives (``(a|ab)*``): exponential;
    * no back-references, look-ahead or look-behind;
    * the worst-case backtracking estimate on one line of REGEX_LINE_LIMIT
      characters (line length x product of the repeat ranges) must stay under
      REGEX_COST_BUDGET, which allows one unbounded ``.*``/``+`` plus a few
      small bounded ones (``\\d{1,8}``) but not ``a.*b.*c`` (cubic).
    """
    if not isinstance(pattern, str):
        raise RegexRejected("a regex must be a string")
    try:
        parsed = _sre_parse.parse(pattern)
        compiled = re.compile(pattern)
    except re.error as exc:
        raise RegexRejected(f"invalid regex: {exc}") from None
    cost, _ = _regex_cost(list(parsed), REGEX_LINE_LIMIT)
    if cost * REGEX_LINE_LIMIT > REGEX_COST_BUDGET:
        raise RegexRejected(
            "too expensive in the worst case: more than one unbounded repeat (*, +, {n,}) or very "
            "wide bounded ones; split it into several regexes (all must match) or bound the repeats, "
            "e.g. \\d{1,10} instead of \\d+")
    return compiled


def regex_search(compiled: re.Pattern[str], lines: Sequence[str]) -> bool:
    """Search each line (bounded as documented) for the pattern."""
    budget = REGEX_TEXT_LIMIT
    for line in lines:
        if budget <= 0:
            break
        chunk = line[:min(REGEX_LINE_LIMIT, budget)]
        budget -= len(chunk) + 1
        if compiled.search(chunk):
            return True
    return False


# --------------------------------------------------------------------------
# compiled rule objects

_NUM_RE = re.compile(r"^\s*(?:0x[0-9a-fA-F]+|-?\d+)\s*$")
#: bare hex as the kernel prints addresses ("ffff9f5340805000"): 8+ digits
_BARE_HEX_RE = re.compile(r"^\s*[0-9a-fA-F]{8,}\s*$")


def _as_number(value: Any) -> int | float | None:
    """Numbers, and text holding one: "0x86", "-110", "ffff9f5340805000".

    Bare digit strings shorter than 16 characters are decimal; longer ones,
    and bare strings of 8+ hex digits with letters, are hex (kernel addresses).
    """
    if isinstance(value, bool):
        return None
    if isinstance(value, (int, float)):
        return value
    if isinstance(value, str):
        text = value.strip()
        if _NUM_RE.match(text):
            if text.lower().startswith("0x"):
                return int(text, 16)
            if len(text.lstrip("-")) < 16:
                return int(text)
        if _BARE_HEX_RE.match(text):
            return int(text, 16)
    return None


def _same(actual: Any, expected: Any) -> bool:
    if actual == expected and type(actual) is not bool and type(expected) is not bool:
        return True
    if isinstance(expected, bool) or isinstance(actual, bool):
        return actual is expected or (isinstance(actual, bool) and actual == expected
                                      and isinstance(expected, bool))
    a, e = _as_number(actual), _as_number(expected)
    if a is not None and e is not None:
        return a == e
    if isinstance(actual, str) and isinstance(expected, str):
        return actual == expected
    return False


_OPS = ("equals", "not_equals", "in", "not_in", "gte", "lte", "gt", "lt", "exists", "contains",
        "matches", "has_bits", "aligned_to", "end_aligned_to", "not")


@dataclass
class FieldTest:
    """Comparisons on one value; all must hold."""

    ops: list[tuple[str, Any]]

    def test(self, value: Any, present: bool = True) -> bool:
        for op, arg in self.ops:
            if not _apply(op, arg, value, present):
                return False
        return True

    def describe(self) -> str:
        return " and ".join(_describe_op(op, arg) for op, arg in self.ops)

    def plain(self) -> Any:
        return [[op, arg.plain() if isinstance(arg, FieldTest) else
                 (arg.pattern if isinstance(arg, re.Pattern) else arg)] for op, arg in self.ops]

    def equality_values(self) -> list[Any] | None:
        """Hashable values this test requires (for the field index), or None."""
        for op, arg in self.ops:
            if op == "equals" and _hashable(arg):
                return [arg]
            if op == "in" and all(_hashable(a) for a in arg):
                return list(arg)
        return None


def _hashable(value: Any) -> bool:
    return isinstance(value, (str, int, bool)) or value is None


def _apply(op: str, arg: Any, value: Any, present: bool) -> bool:
    if op == "exists":
        return (present and value is not None) == bool(arg)
    if op == "not":
        return not arg.test(value, present)
    if not present or value is None:
        return op in ("not_equals", "not_in")
    if op == "equals":
        return _same(value, arg)
    if op == "not_equals":
        return not _same(value, arg)
    if op == "in":
        return any(_same(value, a) for a in arg)
    if op == "not_in":
        return not any(_same(value, a) for a in arg)
    if op in ("gte", "lte", "gt", "lt"):
        v, a = _as_number(value), _as_number(arg)
        if v is None or a is None:
            if isinstance(value, str) and isinstance(arg, str):
                v, a = value, arg  # type: ignore[assignment]
            else:
                return False
        if op == "gte":
            return v >= a  # type: ignore[operator]
        if op == "lte":
            return v <= a  # type: ignore[operator]
        if op == "gt":
            return v > a  # type: ignore[operator]
        return v < a  # type: ignore[operator]
    if op == "contains":
        if isinstance(value, str):
            return str(arg) in value
        if isinstance(value, (list, tuple, set, frozenset)):
            return any(_same(v, arg) or (isinstance(v, str) and v == str(arg)) for v in value)
        return False
    if op == "matches":
        if isinstance(value, (list, tuple)):
            return any(regex_search(arg, [str(v)]) for v in value)
        return regex_search(arg, [str(value)])
    if op in ("has_bits", "aligned_to", "end_aligned_to"):
        v = _as_number(value)
        if not isinstance(v, int):
            return False
        if op == "has_bits":
            return v & arg == arg
        if op == "aligned_to":
            return v % arg == 0
        return (v + 1) % arg == 0
    raise AssertionError(op)


def _describe_op(op: str, arg: Any) -> str:
    if isinstance(arg, re.Pattern):
        return f"matches /{arg.pattern}/"
    if op == "not":
        return f"not ({arg.describe()})"
    if isinstance(arg, int) and not isinstance(arg, bool) and op in ("has_bits", "aligned_to", "end_aligned_to"):
        arg = hex(arg)
    words = {"equals": "=", "not_equals": "!=", "in": "in", "not_in": "not in", "gte": ">=",
             "lte": "<=", "gt": ">", "lt": "<", "contains": "contains", "matches": "matches",
             "has_bits": "has bits", "aligned_to": "aligned to", "end_aligned_to": "end aligned to"}
    if op == "exists":
        return "exists" if arg else "is absent"
    if isinstance(arg, bool):
        return f"{words[op]} {'true' if arg else 'false'}"
    return f"{words[op]} {arg!r}" if isinstance(arg, str) else f"{words[op]} {arg}"


_FUNC_SUFFIX = re.compile(r"(?:\.(?:part|isra|constprop|cold|llvm|lto_priv)(?:\.\d+)?)+$")


def _frame_functions(event: Any) -> list[str]:
    names: list[str] = []
    rip = event.fields.get("rip")
    for frame in ([rip] if rip is not None else []) + list(event.fields.get("frames") or ()):
        fn = getattr(frame, "function", None)
        if fn:
            names.append(_FUNC_SUFFIX.sub("", fn))
    return names


@dataclass
class Condition:
    """What one event must look like."""

    kinds: tuple[str, ...]
    messages: tuple[str | None, ...] | None = None  # None: any message
    subsystems: tuple[str, ...] | None = None
    levels: tuple[str, ...] | None = None
    fields: list[tuple[str, FieldTest]] = field(default_factory=list)
    regexes: list[re.Pattern[str]] = field(default_factory=list)
    frame: FieldTest | None = None
    key: str = ""

    def __post_init__(self) -> None:
        if not self.key:
            self.key = json.dumps({
                "k": sorted(self.kinds), "m": None if self.messages is None else sorted(map(str, self.messages)),
                "s": None if self.subsystems is None else sorted(self.subsystems),
                "l": None if self.levels is None else sorted(self.levels),
                "f": [[n, t.plain()] for n, t in self.fields],
                "r": [r.pattern for r in self.regexes], "fr": self.frame.plain() if self.frame else None,
            }, sort_keys=True, default=str)

    @property
    def index_keys(self) -> list[tuple[str, str | None]] | None:
        """(kind, message) keys of the event index, or None for whole kinds."""
        if self.messages is None:
            return None
        return [(k, m) for k in self.kinds for m in self.messages]

    def test(self, event: Any, skip_fields: frozenset[str] = frozenset()) -> bool:
        """Everything except kind/message (the index already selected those)."""
        if self.subsystems is not None and event.subsystem not in self.subsystems:
            return False
        if self.levels is not None and event.level not in self.levels:
            return False
        for name, test in self.fields:
            if name in skip_fields:
                continue
            if name in _COMMON_FIELDS:
                value, present = getattr(event, name), True
            else:
                present = name in event.fields
                value = event.fields.get(name)
            if not test.test(value, present):
                return False
        if self.frame is not None:
            names = _frame_functions(event)
            if not any(self.frame.test(n) for n in names):
                return False
        if self.regexes:
            text = event.text if isinstance(event.text, list) else [str(event.text)]
            for rx in self.regexes:
                if not regex_search(rx, text):
                    return False
        return True

    def matches(self, event: Any) -> bool:
        if event.kind not in self.kinds:
            return False
        if self.messages is not None and event.message not in self.messages:
            return False
        return self.test(event)

    def describe(self) -> str:
        what = "/".join(self.kinds)
        if self.messages is not None:
            what += " " + "|".join(str(m) for m in self.messages)
        extra = []
        if self.subsystems:
            extra.append("subsystem in " + ",".join(self.subsystems))
        if self.levels:
            extra.append("level in " + ",".join(self.levels))
        extra += [f"{n} {t.describe()}" for n, t in self.fields]
        if self.frame:
            extra.append(f"a stack frame {self.frame.describe()}")
        extra += [f"text matches /{r.pattern}/" for r in self.regexes]
        return what + (f" ({'; '.join(extra)})" if extra else "")


@dataclass
class Step:
    """One item of ``sequence``/``all``/``absent``/``supporting``."""

    conditions: list[Condition]  # alternatives (any_of); usually one
    label: str
    at_least: int = 1
    within: float | None = None  # seconds, for at_least > 1
    if_missing: str | None = None  # supporting: caveat when not seen
    after: str | None = None  # absent: only after the step with this label
    before: str | None = None  # absent: only before the step with this label
    line: int | None = None
    explicit_label: bool = False

    def describe(self) -> str:
        text = " or ".join(c.describe() for c in self.conditions)
        if self.at_least > 1:
            text = f"at least {self.at_least} x {text}"
            if self.within is not None:
                text += f" within {self.within:g} s"
        return text


@dataclass
class BootFilter:
    roles: tuple[str, ...] | None = None
    not_roles: tuple[str, ...] | None = None
    ended: tuple[str, ...] | None = None
    kdump_loaded: bool | None = None

    def empty(self) -> bool:
        return self.roles is None and self.not_roles is None and self.ended is None and self.kdump_loaded is None

    def describe(self) -> str:
        parts = []
        if self.roles:
            parts.append("role " + "|".join(self.roles))
        if self.not_roles:
            parts.append("role not " + "|".join(self.not_roles))
        if self.ended:
            parts.append("ended by " + "|".join(self.ended))
        if self.kdump_loaded is not None:
            parts.append("kdump loaded" if self.kdump_loaded else "no kdump loaded")
        return ", ".join(parts) or "any boot"


@dataclass
class Pattern:
    """One way a rule can match (an alternative of ``match``)."""

    scope: str = "boot"
    boot: BootFilter = field(default_factory=BootFilter)
    sequence: list[Step] = field(default_factory=list)
    all: list[Step] = field(default_factory=list)
    absent: list[Step] = field(default_factory=list)
    supporting: list[Step] = field(default_factory=list)
    caveats: list[str] = field(default_factory=list)
    label: str | None = None
    first: "Pattern | None" = None  # next_boot: the boot that panicked
    then: "Pattern | None" = None  # next_boot: the boot after it
    line: int | None = None

    def required_steps(self) -> list[Step]:
        return self.sequence + self.all


@dataclass
class FactCheck:
    path: str
    test: FieldTest
    label: str | None = None

    def describe(self) -> str:
        return f"{self.path} {self.test.describe()}"


@dataclass
class VmcoreSpec:
    checks: list[FactCheck]
    required: bool = False  # the rule asserts nothing without vmcore facts
    line: int | None = None


@dataclass
class Rule:
    id: str
    title: str
    severity: str
    summary: str
    remedy: str
    match: list[Pattern]
    references: list[str] = field(default_factory=list)
    fixed_by: list[FixRef] = field(default_factory=list)
    unconfirmed: list[str] = field(default_factory=list)
    vmcore: VmcoreSpec | None = None
    report: str = "once"  # once per scope | each matching event | distinct titles per boot
    superseded_by: list[str] = field(default_factory=list)
    match_proves_unfixed: str | None = None  # why the matched text proves the fix is missing
    fix_boot: str = "last"  # whose release the fix verdict checks: the finding's boot, or the first of a next_boot pair
    path: str | None = None
    line: int | None = None

    @property
    def needs_vmcore(self) -> bool:
        return bool(self.vmcore and self.vmcore.required)

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.id, "title": self.title, "severity": self.severity, "summary": self.summary,
            "remedy": self.remedy, "references": list(self.references),
            "fixed_by": [f.to_dict() for f in self.fixed_by], "unconfirmed": list(self.unconfirmed),
            "needs_vmcore": self.needs_vmcore, "path": self.path,
        }


# --------------------------------------------------------------------------
# schema: walk the composed YAML nodes (for line numbers) and build the objects


class _File:
    def __init__(self, path: str) -> None:
        self.path = path
        self._constructor = yaml.constructor.SafeConstructor()

    def error(self, node: Node | None, fieldname: str | None, message: str) -> RuleError:
        line = node.start_mark.line + 1 if node is not None else None
        return RuleError(message, file=self.path, line=line, field=fieldname)

    def mapping(self, node: Node, fieldname: str, allowed: Iterable[str],
                required: Iterable[str] = ()) -> dict[str, tuple[Node, Node]]:
        if not isinstance(node, MappingNode):
            raise self.error(node, fieldname, f"must be a mapping (key: value lines), not {_node_kind(node)}")
        out: dict[str, tuple[Node, Node]] = {}
        allowed = tuple(allowed)
        for key_node, value_node in node.value:
            if not isinstance(key_node, ScalarNode):
                raise self.error(key_node, fieldname, "keys must be plain words")
            key = str(key_node.value)
            sub = f"{fieldname}.{key}" if fieldname else key
            if key in out:
                raise self.error(key_node, sub, "duplicate key")
            if key not in allowed:
                hint = _closest(key, allowed)
                raise self.error(key_node, sub, f"unknown key {key!r}" + (f" (did you mean {hint!r}?)" if hint else "")
                                 + f"; allowed: {', '.join(allowed)}")
            out[key] = (key_node, value_node)
        for key in required:
            if key not in out:
                raise self.error(node, f"{fieldname}.{key}" if fieldname else key, "required key is missing")
        return out

    def scalar(self, node: Node, fieldname: str) -> Any:
        if not isinstance(node, ScalarNode):
            raise self.error(node, fieldname, f"must be a single value, not {_node_kind(node)}")
        return self._constructor.construct_object(node, deep=True)

    def string(self, node: Node, fieldname: str, allow_empty: bool = False) -> str:
        value = self.scalar(node, fieldname)
        if value is None and allow_empty:
            return ""
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            value = node.value  # e.g. a release "6.18" written without quotes
        if not isinstance(value, str):
            raise self.error(node, fieldname, f"must be text, not {type(value).__name__}")
        if not value.strip() and not allow_empty:
            raise self.error(node, fieldname, "must not be empty")
        return value.strip() if "\n" not in value.strip() else value.strip()

    def strings(self, node: Node, fieldname: str, single_ok: bool = True) -> list[str]:
        if isinstance(node, SequenceNode):
            return [self.string(item, f"{fieldname}[{i}]") for i, item in enumerate(node.value)]
        if single_ok:
            return [self.string(node, fieldname)]
        raise self.error(node, fieldname, "must be a list")

    def boolean(self, node: Node, fieldname: str) -> bool:
        value = self.scalar(node, fieldname)
        if not isinstance(value, bool):
            raise self.error(node, fieldname, "must be true or false")
        return value

    def integer(self, node: Node, fieldname: str, minimum: int | None = None) -> int:
        value = self.scalar(node, fieldname)
        if isinstance(value, bool) or not isinstance(value, int):
            raise self.error(node, fieldname, "must be a whole number")
        if minimum is not None and value < minimum:
            raise self.error(node, fieldname, f"must be at least {minimum}")
        return value

    def seconds(self, node: Node, fieldname: str) -> float:
        value = self.scalar(node, fieldname)
        if isinstance(value, str):
            m = re.fullmatch(r"\s*(\d+(?:\.\d+)?)\s*(ms|s)?\s*", value)
            if not m:
                raise self.error(node, fieldname, "must be a number of seconds, e.g. 5 or 1.5 s or 500 ms")
            value = float(m.group(1)) / (1000.0 if m.group(2) == "ms" else 1.0)
        if isinstance(value, bool) or not isinstance(value, (int, float)) or value <= 0:
            raise self.error(node, fieldname, "must be a positive number of seconds")
        return float(value)

    def sequence(self, node: Node, fieldname: str) -> list[Node]:
        if not isinstance(node, SequenceNode):
            raise self.error(node, fieldname, f"must be a list ('- ' items), not {_node_kind(node)}")
        return list(node.value)

    def regex(self, node: Node, fieldname: str) -> re.Pattern[str]:
        pattern = self.scalar(node, fieldname)
        if not isinstance(pattern, str):
            raise self.error(node, fieldname, "a regex must be text (quote it)")
        try:
            return check_regex(pattern)
        except ValueError as exc:
            raise self.error(node, fieldname, f"regex {pattern!r} rejected: {exc}") from None


def _node_kind(node: Node) -> str:
    if isinstance(node, MappingNode):
        return "a mapping"
    if isinstance(node, SequenceNode):
        return "a list"
    return f"the value {node.value!r}"


def _closest(word: str, choices: Iterable[str]) -> str | None:
    import difflib
    found = difflib.get_close_matches(word, list(choices), n=1, cutoff=0.6)
    return found[0] if found else None


_RULE_KEYS = ("id", "title", "severity", "summary", "remedy", "references", "fixed_by", "unconfirmed",
              "match", "vmcore", "report", "superseded_by", "match_proves_unfixed", "fix_boot")
_PATTERN_KEYS = ("scope", "boot", "sequence", "all", "absent", "supporting", "caveats", "label",
                 "first", "then")
_SUBPATTERN_KEYS = ("boot", "sequence", "all", "absent", "supporting")
_COND_KEYS = ("kind", "message", "subsystem", "level", "fields", "regex", "frame")
_STEP_KEYS = _COND_KEYS + ("label", "at_least", "within", "any_of")
_ID_RE = re.compile(r"^[A-Z0-9][A-Z0-9-]*[A-Z0-9]$")


def _comparator(f: _File, node: Node, fieldname: str) -> FieldTest:
    """``value`` (equals), ``[a, b]`` (in) or a mapping of operators."""
    if isinstance(node, ScalarNode):
        return FieldTest([("equals", f.scalar(node, fieldname))])
    if isinstance(node, SequenceNode):
        return FieldTest([("in", [f.scalar(item, f"{fieldname}[{i}]") for i, item in enumerate(node.value)])])
    items = f.mapping(node, fieldname, _OPS)
    if not items:
        raise f.error(node, fieldname, "needs at least one comparison")
    ops: list[tuple[str, Any]] = []
    for op, (_, value_node) in items.items():
        sub = f"{fieldname}.{op}"
        if op in ("in", "not_in"):
            values = f.sequence(value_node, sub)
            ops.append((op, [f.scalar(item, f"{sub}[{i}]") for i, item in enumerate(values)]))
        elif op == "exists":
            ops.append((op, f.boolean(value_node, sub)))
        elif op == "matches":
            ops.append((op, f.regex(value_node, sub)))
        elif op in ("has_bits", "aligned_to", "end_aligned_to"):
            ops.append((op, f.integer(value_node, sub, minimum=1)))
        elif op in ("gte", "lte", "gt", "lt"):
            value = f.scalar(value_node, sub)
            if isinstance(value, bool) or not isinstance(value, (int, float, str)):
                raise f.error(value_node, sub, "must be a number")
            if isinstance(value, str) and _as_number(value) is None:
                raise f.error(value_node, sub, "must be a number (decimal or 0x-hex)")
            ops.append((op, value))
        elif op == "not":
            ops.append((op, _comparator(f, value_node, sub)))
        else:
            ops.append((op, f.scalar(value_node, sub)))
    return FieldTest(ops)


def _condition(f: _File, items: dict[str, tuple[Node, Node]], node: Node, fieldname: str) -> Condition:
    if "kind" not in items:
        raise f.error(node, f"{fieldname}.kind", "required key is missing (every condition names an event kind)")
    kinds = tuple(f.strings(items["kind"][1], f"{fieldname}.kind"))
    messages: tuple[str | None, ...] | None = None
    if "message" in items:
        mnode = items["message"][1]
        if isinstance(mnode, SequenceNode):
            messages = tuple(None if (isinstance(n, ScalarNode) and f.scalar(n, fieldname) is None)
                             else f.string(n, f"{fieldname}.message[{i}]") for i, n in enumerate(mnode.value))
        else:
            value = f.scalar(mnode, f"{fieldname}.message")
            messages = (None,) if value is None else (f.string(mnode, f"{fieldname}.message"),)
    subsystems = tuple(f.strings(items["subsystem"][1], f"{fieldname}.subsystem")) if "subsystem" in items else None
    levels = None
    if "level" in items:
        levels = tuple(f.strings(items["level"][1], f"{fieldname}.level"))
        for i, lv in enumerate(levels):
            if lv not in ("emerg", "alert", "crit", "err", "warning", "notice", "info", "debug"):
                raise f.error(items["level"][1], f"{fieldname}.level", f"unknown level {lv!r} "
                              "(emerg, alert, crit, err, warning, notice, info, debug)")
    fields: list[tuple[str, FieldTest]] = []
    if "fields" in items:
        fnode = items["fields"][1]
        if not isinstance(fnode, MappingNode):
            raise f.error(fnode, f"{fieldname}.fields", "must be a mapping of field name to comparison")
        seen = set()
        for key_node, value_node in fnode.value:
            name = str(key_node.value)
            sub = f"{fieldname}.fields.{name}"
            if name in seen:
                raise f.error(key_node, sub, "duplicate key")
            seen.add(name)
            if not re.fullmatch(r"[a-z_][a-z0-9_]*", name):
                raise f.error(key_node, sub, "field names are lower-case words")
            fields.append((name, _comparator(f, value_node, sub)))
    regexes: list[re.Pattern[str]] = []
    if "regex" in items:
        rnode = items["regex"][1]
        if isinstance(rnode, SequenceNode):
            regexes = [f.regex(n, f"{fieldname}.regex[{i}]") for i, n in enumerate(rnode.value)]
        else:
            regexes = [f.regex(rnode, f"{fieldname}.regex")]
    frame = None
    if "frame" in items:
        frame = _comparator(f, items["frame"][1], f"{fieldname}.frame")
    return Condition(kinds=kinds, messages=messages, subsystems=subsystems, levels=levels,
                     fields=fields, regexes=regexes, frame=frame)


def _step(f: _File, node: Node, fieldname: str, extra: tuple[str, ...] = (), default_label: str = "") -> Step:
    items = f.mapping(node, fieldname, _STEP_KEYS + extra)
    if "any_of" in items:
        clash = [k for k in _COND_KEYS if k in items]
        if clash:
            raise f.error(items[clash[0]][0], f"{fieldname}.{clash[0]}",
                          "put conditions inside any_of, not next to it")
        alts = f.sequence(items["any_of"][1], f"{fieldname}.any_of")
        if not alts:
            raise f.error(items["any_of"][1], f"{fieldname}.any_of", "needs at least one condition")
        conditions = []
        for i, alt in enumerate(alts):
            sub = f"{fieldname}.any_of[{i}]"
            conditions.append(_condition(f, f.mapping(alt, sub, _COND_KEYS), alt, sub))
    else:
        conditions = [_condition(f, items, node, fieldname)]
    label = f.string(items["label"][1], f"{fieldname}.label") if "label" in items else default_label
    step = Step(conditions=conditions, label=label, line=node.start_mark.line + 1, explicit_label="label" in items)
    if "at_least" in items:
        step.at_least = f.integer(items["at_least"][1], f"{fieldname}.at_least", minimum=1)
    if "within" in items:
        step.within = f.seconds(items["within"][1], f"{fieldname}.within")
        if step.at_least < 2:
            raise f.error(items["within"][0], f"{fieldname}.within", "only makes sense with at_least: 2 or more")
    if "if_missing" in items:
        step.if_missing = f.string(items["if_missing"][1], f"{fieldname}.if_missing")
    if "after" in items:
        step.after = f.string(items["after"][1], f"{fieldname}.after")
    if "before" in items:
        step.before = f.string(items["before"][1], f"{fieldname}.before")
    return step


def _boot_filter(f: _File, node: Node, fieldname: str) -> BootFilter:
    items = f.mapping(node, fieldname, ("role", "not_role", "ended", "kdump_loaded"))
    out = BootFilter()
    for key, attr, choices in (("role", "roles", ROLES), ("not_role", "not_roles", ROLES), ("ended", "ended", ENDINGS)):
        if key in items:
            values = tuple(f.strings(items[key][1], f"{fieldname}.{key}"))
            for v in values:
                if v not in choices:
                    raise f.error(items[key][1], f"{fieldname}.{key}", f"unknown value {v!r}; allowed: {', '.join(choices)}")
            setattr(out, attr, values)
    if "kdump_loaded" in items:
        out.kdump_loaded = f.boolean(items["kdump_loaded"][1], f"{fieldname}.kdump_loaded")
    return out


def _steps(f: _File, items: dict[str, tuple[Node, Node]], key: str, fieldname: str,
           extra: tuple[str, ...] = ()) -> list[Step]:
    if key not in items:
        return []
    nodes = f.sequence(items[key][1], f"{fieldname}.{key}")
    return [_step(f, n, f"{fieldname}.{key}[{i}]", extra, default_label=f"{key}[{i}]") for i, n in enumerate(nodes)]


def _subpattern(f: _File, node: Node, fieldname: str, keys: tuple[str, ...]) -> Pattern:
    items = f.mapping(node, fieldname, keys)
    pat = Pattern(line=node.start_mark.line + 1)
    if "scope" in items:
        scope = f.string(items["scope"][1], f"{fieldname}.scope")
        if scope not in SCOPES:
            raise f.error(items["scope"][1], f"{fieldname}.scope", f"unknown scope {scope!r}; allowed: {', '.join(SCOPES)}")
        pat.scope = scope
    if "label" in items:
        pat.label = f.string(items["label"][1], f"{fieldname}.label")
    if "caveats" in items:
        pat.caveats = f.strings(items["caveats"][1], f"{fieldname}.caveats")
    if "boot" in items:
        pat.boot = _boot_filter(f, items["boot"][1], f"{fieldname}.boot")
    pat.sequence = _steps(f, items, "sequence", fieldname)
    pat.all = _steps(f, items, "all", fieldname)
    pat.absent = _steps(f, items, "absent", fieldname, ("after", "before"))
    pat.supporting = _steps(f, items, "supporting", fieldname, ("if_missing",))
    labels = [s.label for s in pat.sequence + pat.all]
    dupes = {x for x in labels if labels.count(x) > 1}
    if dupes:
        raise f.error(node, fieldname, f"step labels must be unique: {', '.join(sorted(dupes))}")
    for i, step in enumerate(pat.absent):
        for ref in (step.after, step.before):
            if ref is not None and ref not in [s.label for s in pat.sequence]:
                raise f.error(node, f"{fieldname}.absent[{i}]",
                              f"after/before must name a sequence step label; {ref!r} is not one")
    if pat.scope == "next_boot":
        for part in ("first", "then"):
            if part not in items:
                raise f.error(node, f"{fieldname}.{part}", "required for scope next_boot")
            setattr(pat, part, _subpattern(f, items[part][1], f"{fieldname}.{part}", _SUBPATTERN_KEYS))
            sub = getattr(pat, part)
            if not sub.required_steps():
                raise f.error(items[part][1], f"{fieldname}.{part}", "needs a sequence or all")
        if pat.required_steps():
            raise f.error(node, fieldname, "with scope next_boot put the steps under first: and then:")
        if pat.first is not None and pat.first.boot.ended is None:
            pat.first.boot.ended = ("panic",)
    else:
        for part in ("first", "then"):
            if part in items:
                raise f.error(items[part][0], f"{fieldname}.{part}", "only allowed with scope: next_boot")
        if not pat.required_steps() and "sequence" in keys:
            raise f.error(node, fieldname, "needs a sequence or all (what must be seen)")
    return pat


def _fixed_by(f: _File, node: Node, fieldname: str) -> list[FixRef]:
    out = []
    for i, item in enumerate(f.sequence(node, fieldname)):
        sub = f"{fieldname}[{i}]"
        items = f.mapping(item, sub, ("commit", "subject", "mainline", "stable", "unconfirmed"), ("subject",))
        commit = None
        if "commit" in items:
            commit = f.string(items["commit"][1], f"{sub}.commit")
            if not re.fullmatch(r"[0-9a-f]{7,40}", commit):
                raise f.error(items["commit"][1], f"{sub}.commit", "must be an abbreviated or full git commit id (hex)")
        mainline = None
        if "mainline" in items and f.scalar(items["mainline"][1], f"{sub}.mainline") is not None:
            mainline = f.string(items["mainline"][1], f"{sub}.mainline")
            rel = parse_release(mainline)
            if rel is None or rel.vendor or rel.patch or rel.next_date:
                raise f.error(items["mainline"][1], f"{sub}.mainline", "must be a mainline release like 6.18 or 6.18-rc3")
        stable: list[str] = []
        if "stable" in items:
            stable = f.strings(items["stable"][1], f"{sub}.stable")
            for s in stable:
                rel = parse_release(s)
                if rel is None or rel.vendor or rel.rc is not None or rel.patch == 0:
                    raise f.error(items["stable"][1], f"{sub}.stable", f"{s!r} is not a stable release like 6.17.8")
        unconfirmed = f.boolean(items["unconfirmed"][1], f"{sub}.unconfirmed") if "unconfirmed" in items else False
        out.append(FixRef(commit=commit, subject=f.string(items["subject"][1], f"{sub}.subject"),
                          mainline=mainline, stable=tuple(stable), unconfirmed=unconfirmed))
    return out


def _vmcore(f: _File, node: Node, fieldname: str) -> VmcoreSpec:
    items = f.mapping(node, fieldname, ("required", "all"), ("all",))
    checks = []
    for i, item in enumerate(f.sequence(items["all"][1], f"{fieldname}.all")):
        sub = f"{fieldname}.all[{i}]"
        citems = f.mapping(item, sub, ("fact", "label") + _OPS, ("fact",))
        path = f.string(citems["fact"][1], f"{sub}.fact")
        if not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*(\.(\*|\d+|[A-Za-z_][A-Za-z0-9_]*))*", path):
            raise f.error(citems["fact"][1], f"{sub}.fact", "must be a dotted path like psp.snp_initialized "
                          "(use * for 'any element of a list')")
        ops_node = MappingNode(tag="tag:yaml.org,2002:map",
                               value=[(k, v) for k, v in item.value if str(k.value) in _OPS],
                               start_mark=item.start_mark, end_mark=item.end_mark)
        if not ops_node.value:
            raise f.error(item, sub, "needs a comparison (equals, in, gte, lte, exists, ...)")
        test = _comparator(f, ops_node, sub)
        label = f.string(citems["label"][1], f"{sub}.label") if "label" in citems else None
        checks.append(FactCheck(path=path, test=test, label=label))
    required = f.boolean(items["required"][1], f"{fieldname}.required") if "required" in items else False
    return VmcoreSpec(checks=checks, required=required, line=node.start_mark.line + 1)


def _rule(f: _File, node: Node, fieldname: str) -> Rule:
    items = f.mapping(node, fieldname, _RULE_KEYS, ("id", "title", "severity", "summary", "remedy", "match"))
    p = (lambda key: f"{fieldname}.{key}" if fieldname else key)
    rule_id = f.string(items["id"][1], p("id"))
    if not _ID_RE.match(rule_id):
        raise f.error(items["id"][1], p("id"), "rule ids are upper-case words joined by '-', e.g. SNP-KDUMP-CWB-TIMEOUT")
    severity = f.string(items["severity"][1], p("severity"))
    if severity not in SEVERITIES:
        raise f.error(items["severity"][1], p("severity"), f"unknown severity {severity!r}; allowed: {', '.join(SEVERITIES)}")
    mnode = items["match"][1]
    if isinstance(mnode, MappingNode) and any(str(k.value) == "any_of" for k, _ in mnode.value):
        mitems = f.mapping(mnode, p("match"), ("any_of",))
        alts = f.sequence(mitems["any_of"][1], p("match.any_of"))
        if not alts:
            raise f.error(mitems["any_of"][1], p("match.any_of"), "needs at least one alternative")
        patterns = [_subpattern(f, a, p(f"match.any_of[{i}]"), _PATTERN_KEYS) for i, a in enumerate(alts)]
    else:
        patterns = [_subpattern(f, mnode, p("match"), _PATTERN_KEYS)]
    rule = Rule(
        id=rule_id, title=f.string(items["title"][1], p("title")), severity=severity,
        summary=f.string(items["summary"][1], p("summary")), remedy=f.string(items["remedy"][1], p("remedy")),
        match=patterns, path=f.path, line=node.start_mark.line + 1,
    )
    if "references" in items:
        rule.references = f.strings(items["references"][1], p("references"))
    if "unconfirmed" in items:
        rule.unconfirmed = f.strings(items["unconfirmed"][1], p("unconfirmed"))
    if "fixed_by" in items:
        rule.fixed_by = _fixed_by(f, items["fixed_by"][1], p("fixed_by"))
    if "vmcore" in items:
        rule.vmcore = _vmcore(f, items["vmcore"][1], p("vmcore"))
    if "report" in items:
        rule.report = f.string(items["report"][1], p("report"))
        if rule.report not in ("once", "each", "distinct"):
            raise f.error(items["report"][1], p("report"), "must be 'once' (one finding per boot), 'each' (one per "
                          "event) or 'distinct' (one per distinct event title in a boot, repeats collapsed)")
        if rule.report in ("each", "distinct"):
            for i, pat in enumerate(patterns):
                if pat.scope == "next_boot" or len(pat.sequence) != 1 or pat.all:
                    raise f.error(items["report"][1], p("report"),
                                  "'each'/'distinct' need every alternative to have exactly one sequence step and no all/next_boot")
    if "superseded_by" in items:
        rule.superseded_by = f.strings(items["superseded_by"][1], p("superseded_by"))
    if "fix_boot" in items:
        rule.fix_boot = f.string(items["fix_boot"][1], p("fix_boot"))
        if rule.fix_boot not in ("first", "last"):
            raise f.error(items["fix_boot"][1], p("fix_boot"), "must be 'first' (the boot that panicked, for "
                          "next_boot rules) or 'last' (the boot the finding is about)")
    if "match_proves_unfixed" in items:
        rule.match_proves_unfixed = f.string(items["match_proves_unfixed"][1], p("match_proves_unfixed"))
    return rule


def load_rule_file(path: str | Path) -> list[Rule]:
    """Validate and load one rule file (a rule mapping or a list of them)."""
    path = Path(path)
    f = _File(str(path))
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise RuleError(f"cannot read: {exc}", file=path) from None
    try:
        node = yaml.compose(text, Loader=yaml.SafeLoader)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 if mark is not None else None
        raise RuleError(f"broken YAML: {exc.problem or exc}", file=path, line=line) from None
    except yaml.YAMLError as exc:
        raise RuleError(f"broken YAML: {exc}", file=path) from None
    if node is None:
        raise RuleError("empty rule file", file=path, line=1)
    try:
        if isinstance(node, SequenceNode):
            rules = [_rule(f, item, f"[{i}]") for i, item in enumerate(node.value)]
        else:
            rules = [_rule(f, node, "")]
    except yaml.constructor.ConstructorError as exc:
        mark = exc.problem_mark
        raise RuleError(f"bad value: {exc.problem}", file=path,
                        line=mark.line + 1 if mark else None) from None
    return rules


def shipped_rules_dir() -> Path:
    try:
        from .paths import data_dir
    except ImportError:  # pragma: no cover - before paths.py existed
        return Path(__file__).resolve().parent.parent / "rules"
    return data_dir("rules")


def rule_files(directory: str | Path) -> list[Path]:
    directory = Path(directory)
    if directory.is_file():
        return [directory]
    return sorted(p for p in directory.glob("*.y*ml") if p.suffix in (".yaml", ".yml") and p.is_file())


def load_rules(extra_dirs: Iterable[str | Path] = (), *, shipped: bool = True) -> list[Rule]:
    """The shipped pack plus rules from ``extra_dirs`` (later ones override same ids).

    Raises RuleError on the first invalid file, or on an id defined twice in
    the same directory.
    """
    dirs: list[Path] = ([shipped_rules_dir()] if shipped else []) + [Path(d) for d in extra_dirs]
    by_id: dict[str, Rule] = {}
    for directory in dirs:
        if not directory.exists():
            raise RuleError("rule directory does not exist", file=directory)
        seen_here: dict[str, Rule] = {}
        for path in rule_files(directory):
            for rule in load_rule_file(path):
                if rule.id in seen_here:
                    raise RuleError(f"rule id {rule.id} is also defined in {seen_here[rule.id].path}",
                                    file=path, line=rule.line, field="id")
                seen_here[rule.id] = rule
                by_id[rule.id] = rule
    return list(by_id.values())


# --------------------------------------------------------------------------
# lint


def _iter_conditions(rule: Rule) -> Iterable[tuple[str, Step, Condition]]:
    for pat in rule.match:
        parts = [pat] + [p for p in (pat.first, pat.then) if p is not None]
        for part in parts:
            for group in ("sequence", "all", "absent", "supporting"):
                for step in getattr(part, group):
                    for cond in step.conditions:
                        yield group, step, cond


def lint(rule_dirs: Iterable[str | Path] | None = None, *, fixtures: bool = True) -> list[Problem]:
    """Check rule files: schema (errors), suspicious ids/fields, missing fixtures (warnings).

    ``rule_dirs`` defaults to the shipped pack.
    """
    dirs = [Path(d) for d in rule_dirs] if rule_dirs is not None else [shipped_rules_dir()]
    problems: list[Problem] = []
    all_rules: list[Rule] = []
    for directory in dirs:
        if not directory.exists():
            problems.append(Problem("error", str(directory), None, None, "rule directory does not exist"))
            continue
        ids: dict[str, str] = {}
        for path in rule_files(directory):
            try:
                rules = load_rule_file(path)
            except RuleError as exc:
                problems.append(Problem("error", exc.file, exc.line, exc.field, exc.message))
                continue
            for rule in rules:
                all_rules.append(rule)
                if rule.id in ids:
                    problems.append(Problem("error", rule.path, rule.line, "id",
                                            f"rule id {rule.id} is also defined in {ids[rule.id]}", rule.id))
                ids[rule.id] = str(path)
                if len(rules) == 1 and path.stem != rule.id:
                    problems.append(Problem("warning", rule.path, rule.line, "id",
                                            f"file name {path.name} does not match the rule id {rule.id}", rule.id))
                problems.extend(_lint_rule(rule))
                if fixtures:
                    problems.extend(_lint_fixtures(rule, directory))
    known_ids = {r.id for r in all_rules}
    for rule in all_rules:
        for other in rule.superseded_by:
            if other not in known_ids:
                problems.append(Problem("warning", rule.path, rule.line, "superseded_by",
                                        f"no rule with id {other} is loaded", rule.id))
    return problems


def _lint_rule(rule: Rule) -> list[Problem]:
    out = []
    for group, step, cond in _iter_conditions(rule):
        where = f"{group} step {step.label!r}"
        for kind in cond.kinds:
            if kind not in KNOWN_MESSAGES:
                out.append(Problem("warning", rule.path, step.line, where,
                                   f"event kind {kind!r} is not one the parser produces", rule.id))
                continue
            for message in cond.messages or ():
                if message not in KNOWN_MESSAGES[kind]:
                    hint = _closest(str(message), [m for m in KNOWN_MESSAGES[kind] if m])
                    out.append(Problem("warning", rule.path, step.line, where,
                                       f"message id {message!r} is not known for kind {kind}"
                                       + (f" (did you mean {hint!r}?)" if hint else ""), rule.id))
            for name, _ in cond.fields:
                if name not in _COMMON_FIELDS and name not in KNOWN_FIELDS.get(kind, frozenset()):
                    hint = _closest(name, KNOWN_FIELDS.get(kind, ()))
                    out.append(Problem("warning", rule.path, step.line, where,
                                       f"field {name!r} is not known for kind {kind}"
                                       + (f" (did you mean {hint!r}?)" if hint else ""), rule.id))
        if cond.messages is None and any(k in ("amd_vi", "sev", "iommu_event", "kernel_message") for k in cond.kinds) \
                and not cond.fields and not cond.regexes:
            out.append(Problem("warning", rule.path, step.line, where,
                               "matches every message of the kind; name a message id", rule.id))
    if rule.vmcore and rule.vmcore.required and not rule.vmcore.checks:
        out.append(Problem("error", rule.path, rule.vmcore.line, "vmcore", "required vmcore block has no checks", rule.id))
    return out


def fixture_dir(rule: Rule, rules_dir: Path) -> Path:
    return rules_dir / "fixtures" / rule.id


def _lint_fixtures(rule: Rule, directory: Path) -> list[Problem]:
    fdir = fixture_dir(rule, directory)
    pos = sorted(fdir.glob("positive*.log")) if fdir.is_dir() else []
    neg = sorted(fdir.glob("negative*.log")) if fdir.is_dir() else []
    out = []
    if not pos:
        out.append(Problem("warning", str(fdir), None, None, "no positive*.log fixture", rule.id))
    if not neg:
        out.append(Problem("warning", str(fdir), None, None, "no negative*.log fixture", rule.id))
    return out


# --------------------------------------------------------------------------
# fixtures


@dataclass
class FixtureResult:
    rule_id: str
    path: str
    expect: str  # "positive" | "negative"
    status: str  # "pass" | "fail" | "error" | "skip"
    detail: str = ""
    findings: list[Any] = field(default_factory=list)

    @property
    def passed(self) -> bool:
        return self.status == "pass"

    def to_dict(self) -> dict[str, Any]:
        return {"rule_id": self.rule_id, "path": self.path, "expect": self.expect,
                "status": self.status, "detail": self.detail,
                "findings": [f.rule_id for f in self.findings]}


def load_vmcore_facts(path: Path) -> dict[str, Any] | None:
    """Facts for a fixture: ``<stem>.vmcore.yaml`` or ``.json`` next to the log."""
    for suffix in (".vmcore.yaml", ".vmcore.yml", ".vmcore.json"):
        candidate = path.with_name(path.stem + suffix)
        if candidate.exists():
            text = candidate.read_text(encoding="utf-8")
            data = json.loads(text) if suffix.endswith("json") else yaml.safe_load(text)
            if not isinstance(data, dict):
                raise ValueError(f"{candidate}: vmcore facts must be a mapping")
            return data
    return None


def run_fixtures(rule_dirs: Iterable[str | Path] | None = None,
                 reader: Callable[[str], Any] | None = None) -> list[FixtureResult]:
    """Run every rule's fixtures: positive*.log must yield the rule, negative*.log must not.

    ``rule_dirs`` defaults to the shipped pack; each directory's fixtures live
    in ``<dir>/fixtures/<RULE-ID>/``.  ``reader`` turns a path into a Capture
    (default ``triage.ingest.read_capture``); without a parser every fixture
    is reported as ``skip``.
    """
    from .engine import match  # late: engine imports this module

    dirs = [Path(d) for d in rule_dirs] if rule_dirs is not None else [shipped_rules_dir()]
    if reader is None:
        try:
            from .ingest import read_capture as reader  # type: ignore[no-redef]
        except ImportError as exc:
            reader = None
            missing = f"parser not available ({exc})"
    results: list[FixtureResult] = []
    for directory in dirs:
        try:
            rules = load_rules([directory], shipped=False)
        except RuleError as exc:
            results.append(FixtureResult("?", str(exc.file), "load", "error", str(exc)))
            continue
        for rule in rules:
            fdir = fixture_dir(rule, directory)
            files = sorted(fdir.glob("positive*.log")) + sorted(fdir.glob("negative*.log")) if fdir.is_dir() else []
            for path in files:
                expect = "positive" if path.name.startswith("positive") else "negative"
                if reader is None:
                    results.append(FixtureResult(rule.id, str(path), expect, "skip", missing))
                    continue
                try:
                    capture = reader(str(path))
                    facts = load_vmcore_facts(path)
                    findings = [x for x in match([capture], [rule], vmcore=facts) if x.rule_id == rule.id]
                except Exception as exc:  # a fixture must not stop the run
                    results.append(FixtureResult(rule.id, str(path), expect, "error", f"{type(exc).__name__}: {exc}"))
                    continue
                if expect == "positive":
                    ok = bool(findings)
                    detail = (f"matched boot {findings[0].boot}, lines {findings[0].lines[:6]}" if ok
                              else "expected a finding, got none")
                else:
                    ok = not findings
                    detail = "no finding, as expected" if ok else f"unexpected finding at boot {findings[0].boot}, lines {findings[0].lines[:6]}"
                results.append(FixtureResult(rule.id, str(path), expect, "pass" if ok else "fail", detail, findings))
    return results
