"""Match rules against captures: every alternative in every scope that can hold it."""
from __future__ import annotations

import bisect
from typing import Any, Mapping, Sequence

from ..model import SEVERITY_RANK, Capture, Event, Finding
from ..rulepack import Pattern, Rule
from .evaluate import Attempt, Evaluator, StepTrace, Tracer, union
from .facts import evaluate_vmcore
from .findings import make_finding
from .index import EventIndex, event_text
from .platform import PlatformCheck, check_platform
from .verdicts import reconcile_fix_verdicts

__all__ = ["match", "run_rule"]


def _anchor_keys(index: EventIndex, pat: Pattern) -> list[tuple[str, str | None]] | None:
    """Index keys whose presence a scope needs (the first required step's), or None."""
    steps = pat.required_steps()
    if not steps:
        return None
    keys: list[tuple[str, str | None]] = []
    for cond in steps[0].conditions:
        keys.extend(index.keys_for(cond))
    return keys


def run_rule(index: EventIndex, ev: Evaluator, rule: Rule, vmcore: Mapping[str, Any] | None,
              tracers: list[Attempt] | None = None) -> list[Finding]:
    findings: list[Finding] = []
    done: set[tuple[int, int]] = set()
    vm_gate = rule.vmcore is not None and rule.vmcore.required
    if vm_gate and tracers is None:
        vm = evaluate_vmcore(rule.vmcore.checks, vmcore)  # type: ignore[union-attr]
        if vm.status != "confirmed":
            return []
    for alt, pat in enumerate(rule.match):
        if pat.scope == "next_boot":
            assert pat.first is not None and pat.then is not None
            keys = _anchor_keys(index, pat.then) or []
            scopes = sorted(index.scopes_with(keys, "boot")) if tracers is None else sorted(index.boots)
            for ci, bi in scopes:
                before = _previous_boot(index, ci, bi)
                if before is None:
                    if tracers is not None:
                        tracers.append(Attempt(alt, pat.label, "next_boot", index.captures[ci].source, bi, False,
                                               [StepTrace("boot", "previous boot", "a boot before this one", "missing",
                                                          "first boot of the first input")]))
                    continue
                pci, prev = before
                tracer = Tracer() if tracers is not None else None
                plat = check_platform(index, rule.platform, (ci, bi))
                where = f"boot {prev}" + (f" of {index.captures[pci].source}" if pci != ci else "")
                if tracer:
                    _trace_platform(tracer, rule, plat)
                    tracer.add("boot", "first", f"{where} (the one before)", "passed")
                if not plat.ok:
                    if tracers is not None and tracer is not None:
                        tracers.append(Attempt(alt, pat.label, "next_boot", index.captures[ci].source, bi, False,
                                               tracer.steps))
                    continue
                r1 = ev.run(pat.first, (pci, prev), tracer)
                r2 = ev.run(pat.then, (ci, bi), tracer) if r1 is not None else None
                if tracer is not None and r1 is None:
                    tracer.add("boot", "then", f"boot {bi}", "not reached")
                matched = r1 is not None and r2 is not None
                if tracers is not None and tracer is not None:
                    tracers.append(Attempt(alt, pat.label, "next_boot", index.captures[ci].source, bi, matched, tracer.steps))
                if matched and (ci, bi) not in done:
                    done.add((ci, bi))
                    notes = r1[2] + r2[2]  # type: ignore[index]
                    if pci != ci:
                        notes = notes + [f"the crashed kernel is {where}: the inputs were read as one incident "
                                         "(one file's last boot panicked, the next file starts with the boot after it)"]
                    findings.append(make_finding(index, rule, alt, pat, ci, [prev, bi] if pci == ci else [bi],
                                                  r1[0] + r2[0], r1[1] + r2[1], notes, vmcore,  # type: ignore[index]
                                                  platform=plat, first_boot=(pci, prev)))
            continue
        keys = _anchor_keys(index, pat) or []
        if tracers is None:
            scopes = sorted(index.scopes_with(keys, pat.scope))
        elif pat.scope == "boot":
            scopes = sorted(index.boots)
        else:
            scopes = sorted({(ci, None) for ci in range(len(index.captures))})
        for scope in scopes:
            plat = check_platform(index, rule.platform, scope)
            if not plat.ok and tracers is None:
                continue
            if rule.report in ("each", "distinct") and tracers is None:
                if not ev.boot_ok(pat.boot, scope):
                    continue
                groups: dict[Any, list[Event]] = {}
                for event in union(index, pat.sequence[0], scope):
                    gkey = ((event.boot, event.fields.get("title") or event_text(event))
                            if rule.report == "distinct" else event.line)
                    groups.setdefault(gkey, []).append(event)
                for group in groups.values():
                    res = ev.run(pat, scope, None, only_event=group[0])
                    if res is None:
                        continue
                    key = (scope[0], group[0].line)
                    if key in done:
                        continue
                    done.add(key)
                    if len(group) > 1:
                        res[0][-1].events = group
                    findings.append(make_finding(index, rule, alt, pat, scope[0], [group[0].boot], *res, vmcore,
                                                 platform=plat))
                continue
            tracer = Tracer() if tracers is not None else None
            if tracer is not None:
                _trace_platform(tracer, rule, plat)
            res = ev.run(pat, scope, tracer) if plat.ok else None
            if tracers is not None and tracer is not None:
                src = index.captures[scope[0]].source
                tracers.append(Attempt(alt, pat.label, pat.scope, src, scope[1], res is not None, tracer.steps))
            if res is None:
                continue
            hits = res[0]
            boot = scope[1] if scope[1] is not None else hits[-1].events[0].boot
            if (scope[0], boot) in done:
                continue
            done.add((scope[0], boot))
            findings.append(make_finding(index, rule, alt, pat, scope[0], [boot], *res, vmcore, platform=plat))
    return findings


def _previous_boot(index: EventIndex, ci: int, bi: int) -> tuple[int, int] | None:
    """The boot before ``bi``: in the same input, or, for an input's first boot, the last boot of the input
    given before it (``crashed.log kdump.log`` are one incident, as if the files were concatenated)."""
    order = index.boot_order.get(ci, [])
    pos = bisect.bisect_left(order, bi)
    if pos < len(order) and order[pos] == bi and pos > 0:
        return ci, order[pos - 1]
    if pos == 0 and ci > 0:
        earlier = index.boot_order.get(ci - 1, [])
        if earlier:
            return ci - 1, earlier[-1]
    return None


def _trace_platform(tracer: Tracer, rule: Rule, plat: PlatformCheck) -> None:
    if rule.platform.empty():
        return
    detail = plat.why if not plat.ok else "; ".join(plat.decided) or "no platform fact in the capture"
    tracer.add("platform", "platform", "machine facts (platform:)", "passed" if plat.ok else "failed", detail)


def _supersede(findings: list[Finding], rules: Sequence[Rule]) -> list[Finding]:
    wanted = {r.id: set(r.superseded_by) for r in rules if r.superseded_by}
    if not wanted:
        return findings
    cited: dict[str, set[tuple[str, int]]] = {}
    for f in findings:
        cited.setdefault(f.rule_id, set()).update((f.source, e.line) for ev in f.evidence for e in ev.events)
    out = []
    for f in findings:
        others = wanted.get(f.rule_id)
        if others:
            mine = {(f.source, e.line) for ev in f.evidence if ev.role == "required" for e in ev.events}
            if any(mine & cited.get(o, set()) for o in others):
                continue
        out.append(f)
    return out


def match(captures: Sequence[Capture] | Capture, rules: Sequence[Rule], vmcore: Mapping[str, Any] | None = None,
          *, keep_superseded: bool = False, index: EventIndex | None = None) -> list[Finding]:
    """All findings of ``rules`` over ``captures``.

    ``vmcore`` is the crashed kernel's facts dict (``VmcoreFacts.to_dict()``):
    rules with a ``vmcore`` block report whether the facts confirm them, and
    rules whose vmcore block is ``required`` only fire when it confirms.
    Generic findings that cite the same event as a rule listed in their
    ``superseded_by`` are dropped unless ``keep_superseded``.
    """
    if isinstance(captures, Capture):
        captures = [captures]
    index = index or EventIndex(captures)
    ev = Evaluator(index)
    findings: list[Finding] = []
    for rule in rules:
        findings.extend(run_rule(index, ev, rule, vmcore))
    if not keep_superseded:
        findings = _supersede(findings, rules)
    findings = reconcile_fix_verdicts(findings, {r.id: frozenset(f.commit or f.subject for f in r.fixed_by)
                                                 for r in rules if r.fixed_by})
    findings.sort(key=lambda f: (f.source, f.boot, SEVERITY_RANK.get(f.severity, 9),
                                 f.lines[0] if f.lines else 0, f.rule_id))
    return findings
