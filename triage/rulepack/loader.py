"""Build rule objects from a rule file's YAML nodes: the schema, one function per part.

The format is documented for support engineers in ``rules/README.md``; this
module is its only interpreter.  Unknown keys are errors, so a typo never
silently turns a condition off.  It also reads the fixes table
(``rules/fixes.yaml``, built by ``fixtable.py``) that ``fixed_by`` commits are
resolved against.
"""
from __future__ import annotations

import re
from typing import Any

from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

from ..model import BOOT_ENDINGS, BOOT_ROLES, CONFIDENCES, LEVEL_NAMES, PLATFORM_FACTS, SCOPES, SEVERITIES
from .model import BootFilter, Condition, FactCheck, Pattern, PlatformFilter, Rule, Step, VmcoreSpec
from .fixtable import build_fixes, fixed_by
from .releases import FixTable
from .schema import RuleFile
from .values import OPS, FieldTest, as_number

__all__ = ["build_rule", "build_fixes"]


_RULE_KEYS = ("id", "title", "severity", "summary", "remedy", "references", "fixed_by", "unconfirmed",
              "match", "vmcore", "report", "superseded_by", "match_proves_unfixed", "fix_boot", "tags",
              "consequence_of", "override", "platform")
_PATTERN_KEYS = ("scope", "boot", "sequence", "all", "absent", "supporting", "caveats", "label",
                 "first", "then", "confidence", "confirm_with")
_SUBPATTERN_KEYS = ("boot", "sequence", "all", "absent", "supporting")
_COND_KEYS = ("kind", "message", "subsystem", "level", "fields", "regex", "frame")
_STEP_KEYS = _COND_KEYS + ("label", "at_least", "within", "any_of")
_ID_RE = re.compile(r"^[A-Z0-9][A-Z0-9-]*[A-Z0-9]$")
_TAG_RE = re.compile(r"^[a-z][a-z0-9-]*$")


def _comparator(f: RuleFile, node: Node, fieldname: str) -> FieldTest:
    """``value`` (equals), ``[a, b]`` (in) or a mapping of operators."""
    if isinstance(node, ScalarNode):
        return FieldTest([("equals", f.scalar(node, fieldname))])
    if isinstance(node, SequenceNode):
        return FieldTest([("in", [f.scalar(item, f"{fieldname}[{i}]") for i, item in enumerate(node.value)])])
    items = f.mapping(node, fieldname, OPS)
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
            if isinstance(value, str) and as_number(value) is None:
                raise f.error(value_node, sub, "must be a number (decimal or 0x-hex)")
            ops.append((op, value))
        elif op == "not":
            ops.append((op, _comparator(f, value_node, sub)))
        else:
            ops.append((op, f.scalar(value_node, sub)))
    return FieldTest(ops)


def _condition(f: RuleFile, items: dict[str, tuple[Node, Node]], node: Node, fieldname: str) -> Condition:
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
            if lv not in LEVEL_NAMES:
                raise f.error(items["level"][1], f"{fieldname}.level", f"unknown level {lv!r} "
                              f"({', '.join(LEVEL_NAMES)})")
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


def _step(f: RuleFile, node: Node, fieldname: str, extra: tuple[str, ...] = (), default_label: str = "") -> Step:
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
    step = Step(conditions=conditions, label=label, line=node.start_mark.line + 1)
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


def _boot_filter(f: RuleFile, node: Node, fieldname: str) -> BootFilter:
    items = f.mapping(node, fieldname, ("role", "not_role", "ended", "kdump_loaded"))
    out = BootFilter()
    for key, attr, choices in (("role", "roles", BOOT_ROLES), ("not_role", "not_roles", BOOT_ROLES), ("ended", "ended", BOOT_ENDINGS)):
        if key in items:
            values = tuple(f.strings(items[key][1], f"{fieldname}.{key}"))
            for v in values:
                if v not in choices:
                    raise f.error(items[key][1], f"{fieldname}.{key}", f"unknown value {v!r}; allowed: {', '.join(choices)}")
            setattr(out, attr, values)
    if "kdump_loaded" in items:
        out.kdump_loaded = f.boolean(items["kdump_loaded"][1], f"{fieldname}.kdump_loaded")
    return out


def _steps(f: RuleFile, items: dict[str, tuple[Node, Node]], key: str, fieldname: str,
           extra: tuple[str, ...] = ()) -> list[Step]:
    if key not in items:
        return []
    nodes = f.sequence(items[key][1], f"{fieldname}.{key}")
    return [_step(f, n, f"{fieldname}.{key}[{i}]", extra, default_label=f"{key}[{i}]") for i, n in enumerate(nodes)]


def _subpattern(f: RuleFile, node: Node, fieldname: str, keys: tuple[str, ...]) -> Pattern:
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
    if "confidence" in items:
        confidence = f.string(items["confidence"][1], f"{fieldname}.confidence")
        if confidence not in CONFIDENCES:
            raise f.error(items["confidence"][1], f"{fieldname}.confidence",
                          f"unknown confidence {confidence!r}; allowed: {', '.join(CONFIDENCES)}")
        pat.confidence = confidence  # type: ignore[assignment]
    if "confirm_with" in items:
        pat.confirm_with = f.string(items["confirm_with"][1], f"{fieldname}.confirm_with")
    if pat.confidence != "confirmed" and not pat.confirm_with and "sequence" in keys:
        raise f.error(node, f"{fieldname}.confirm_with",
                      f"a {pat.confidence} alternative says what would make it confirmed (confirm_with:)")
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


def _platform(f: RuleFile, node: Node, fieldname: str) -> PlatformFilter:
    """``platform: {require: {...}, exclude: {...}, raises: {...}}``: fact -> value or list of values."""
    items = f.mapping(node, fieldname, ("require", "exclude", "raises"))
    out = PlatformFilter()
    for key in ("require", "exclude", "raises"):
        if key not in items:
            continue
        facts: dict[str, tuple[str, ...]] = {}
        for name, (knode, vnode) in f.mapping(items[key][1], f"{fieldname}.{key}", PLATFORM_FACTS).items():
            sub = f"{fieldname}.{key}.{name}"
            nodes = vnode.value if isinstance(vnode, SequenceNode) else [vnode]
            for item in nodes:
                f.scalar(item, sub)  # a single value (or a list of them), never a mapping
            values = tuple(str(item.value) for item in nodes)  # as written: `snp: true` is the text "true"
            allowed = PLATFORM_FACTS[name]
            for v in values:
                if allowed is not None and v not in allowed:
                    raise f.error(vnode, sub, f"{v!r} is not a value of {name}; allowed: {', '.join(allowed)}")
            facts[name] = values
        setattr(out, key, facts)
    return out


def _vmcore(f: RuleFile, node: Node, fieldname: str) -> VmcoreSpec:
    items = f.mapping(node, fieldname, ("required", "all"), ("all",))
    checks = []
    for i, item in enumerate(f.sequence(items["all"][1], f"{fieldname}.all")):
        sub = f"{fieldname}.all[{i}]"
        citems = f.mapping(item, sub, ("fact", "label") + OPS, ("fact",))
        path = f.string(citems["fact"][1], f"{sub}.fact")
        if not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*(\.(\*|\d+|[A-Za-z_][A-Za-z0-9_]*))*", path):
            raise f.error(citems["fact"][1], f"{sub}.fact", "must be a dotted path like psp.snp_initialized "
                          "(use * for 'any element of a list')")
        ops_node = MappingNode(tag="tag:yaml.org,2002:map",
                               value=[(k, v) for k, v in item.value if str(k.value) in OPS],
                               start_mark=item.start_mark, end_mark=item.end_mark)
        if not ops_node.value:
            raise f.error(item, sub, "needs a comparison (equals, in, gte, lte, exists, ...)")
        test = _comparator(f, ops_node, sub)
        label = f.string(citems["label"][1], f"{sub}.label") if "label" in citems else None
        checks.append(FactCheck(path=path, test=test, label=label))
    required = f.boolean(items["required"][1], f"{fieldname}.required") if "required" in items else False
    return VmcoreSpec(checks=checks, required=required, line=node.start_mark.line + 1)


def build_rule(f: RuleFile, node: Node, fieldname: str, fixes: FixTable | None = None) -> Rule:
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
        rule.fixed_by = fixed_by(f, items["fixed_by"][1], p("fixed_by"), fixes)
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
    if "tags" in items:
        rule.tags = f.strings(items["tags"][1], p("tags"))
        for tag in rule.tags:
            if not _TAG_RE.match(tag):
                raise f.error(items["tags"][1], p("tags"), f"tag {tag!r}: tags are lower-case words like snp, kdump")
    if "platform" in items:
        rule.platform = _platform(f, items["platform"][1], p("platform"))
    if "override" in items:
        rule.override = f.boolean(items["override"][1], p("override"))
    if "consequence_of" in items:
        rule.consequence_of = f.strings(items["consequence_of"][1], p("consequence_of"))
        for other in rule.consequence_of:
            if not _ID_RE.match(other) or other == rule.id:
                raise f.error(items["consequence_of"][1], p("consequence_of"),
                              f"{other!r} must be the id of another rule")
    return rule
