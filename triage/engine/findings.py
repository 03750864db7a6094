"""Turn a matched alternative into a Finding: evidence with repeats collapsed, filled texts, fix verdict."""
from __future__ import annotations

import re
from typing import Any, Mapping

from ..model import (KNOWN_MESSAGE_KINDS, Event, Evidence, EvidenceGroup, Finding,
                     Verdict)
from ..rulepack import Pattern, Rule
from ..rulepack.model import OPTIONAL_TEXT, PLACEHOLDER
from ..rulepack.releases import fix_verdict
from .evaluate import StepHit
from .facts import evaluate_vmcore
from .index import EventIndex, event_text
from .platform import PlatformCheck, raise_confidence

__all__ = ["make_finding"]

_EVIDENCE_KEEP = 3  # events kept at each end of a collapsed repeat
#: integer fields shown in hex in rule texts (the kernel prints them so)
_HEX_FIELD = re.compile(r"addr|gpa|pfn|efr|flags|base|command|error_code")


def _fill(template: str, hits: list[StepHit]) -> str:
    """Replace ``{field}`` (first event of the last required step) and
    ``{label.field}`` (first event of the step with that label); ``[[...]]`` is kept only
    when every placeholder inside it has a value."""
    if "{" not in template or not hits:
        return OPTIONAL_TEXT.sub(lambda m: m.group(1), template)
    by_label = {h.step.label: h for h in hits}
    missing: list[str] = []

    def optional(m: re.Match[str]) -> str:
        missing.clear()
        text = PLACEHOLDER.sub(value, m.group(1))
        return "" if missing else text

    def value(m: re.Match[str]) -> str:
        if m.group(2):
            hit = by_label.get(m.group(1))
            name = m.group(2)
        else:
            hit = hits[-1]
            name = m.group(1)
        if hit is None or not hit.events:
            return m.group(0)
        v = hit.events[0].get(name)
        if v is None:
            missing.append(name)
            return "(unknown)"
        if isinstance(v, bool):  # "tainted: no", not "tainted: False"
            return "yes" if v else "no"
        if isinstance(v, list):
            return ", ".join(str(x) for x in v[:5])
        if isinstance(v, int) and _HEX_FIELD.search(name):
            return f"{v:#x}"  # addresses and page numbers as the kernel prints them
        return str(v)

    return PLACEHOLDER.sub(value, OPTIONAL_TEXT.sub(optional, template))


#: fields that tell repeats of one message apart in the evidence: a storm from two devices is
#: two groups, each named with its own device and count (never one group under the first's name)
_DISTINCT_FIELDS = ("event_type", "device", "device_prefix", "bdf", "iommu", "dump_path")


def _group_key(e: Event) -> tuple:
    if e.message is None and e.kind not in KNOWN_MESSAGE_KINDS:
        return (e.kind, e.fields.get("title"))
    fields = e.fields
    return (e.kind, e.message) + tuple(fields.get(name) for name in _DISTINCT_FIELDS)


def _groups(evs: list[Event]) -> list[EvidenceGroup]:
    keyed: dict[tuple, list] = {}
    for e in evs:  # one pass, also for storms: the middle of a run may hold another device
        k = _group_key(e)
        g = keyed.get(k)
        if g is None:
            keyed[k] = [e, e, 1]
        else:
            g[1] = e
            g[2] += 1
    return [EvidenceGroup(event_text(first), n, first.line, last.line if n > 1 else first.end_line,
                          first.timestamp, last.timestamp) for first, last, n in keyed.values()]


def _evidence(hit: StepHit, role: str) -> Evidence:
    evs = hit.events
    keep = evs if len(evs) <= 2 * _EVIDENCE_KEEP else evs[:_EVIDENCE_KEEP] + evs[-_EVIDENCE_KEEP:]
    return Evidence(label=hit.step.label, role=role, count=len(evs), events=list(keep),
                    first_line=evs[0].line, last_line=evs[-1].end_line if len(evs) == 1 else evs[-1].line,
                    first_timestamp=evs[0].timestamp, last_timestamp=evs[-1].timestamp, boot=evs[0].boot,
                    description=hit.step.describe(), groups=_groups(evs))


def make_finding(index: EventIndex, rule: Rule, alt: int, pat: Pattern, capture_i: int, boots: list[int],
                  hits: list[StepHit], support: list[StepHit], notes: list[str],
                  vmcore: Mapping[str, Any] | None, *, platform: PlatformCheck | None = None,
                  first_boot: tuple[int, int] | None = None) -> Finding:
    cap = index.captures[capture_i]
    evidence = [_evidence(h, "required") for h in hits] + [_evidence(h, "supporting") for h in support]
    main_boot = boots[-1]
    if pat.scope == "source" and hits:
        main_boot = hits[-1].events[0].boot
        boots = sorted({h.events[0].boot for h in hits})
    info = index.boots.get((capture_i, main_boot))
    release = info.boot.release if info else None
    if release is None and hits:
        # a report's "CPU: ... Not tainted <release>" line among the evidence
        release = next((e.fields.get("release") for h in hits for e in h.events[:1] if e.fields.get("release")), None)
    if release is None and pat.scope == "source":
        # excerpts quoted together: borrow the release of another boot that holds evidence
        release = next((index.boots[(capture_i, b)].boot.release for b in boots
                        if (capture_i, b) in index.boots and index.boots[(capture_i, b)].boot.release), None)
    caveats: list[str] = list(rule.unconfirmed) + list(pat.caveats) + notes
    if rule.overrides:
        caveats.append(f"a custom rule ({rule.path}) replaced the rule of the same id in {rule.overrides}")
    if info and info.role == "kdump" and info.boot.role != "kdump":
        caveats.append(f"boot {main_boot} taken as a kdump kernel: {info.role_reason}")
    fix = None
    if rule.fixed_by:
        fix_release, fix_info = release, info
        if rule.fix_boot == "first" and first_boot is not None:  # next_boot: the kernel that panicked
            fix_info = index.boots.get(first_boot)
            fix_release = fix_info.boot.release if fix_info else None
        elif rule.fix_boot == "first" and len(boots) > 1:
            fix_info = index.boots.get((capture_i, boots[0]))
            fix_release = fix_info.boot.release if fix_info else None
        fix = fix_verdict(fix_release, rule.fixed_by, banner=fix_info.banner if fix_info else None)
        if fix_info is not info and fix_info is not None:
            fix = Verdict(fix.status, f"boot {fix_info.boot.index} (the kernel that needs the fix): {fix.explanation}",
                          fix.per_fix)
        if rule.match_proves_unfixed and fix.status != "not fixed":
            fix = Verdict("not fixed", f"{rule.match_proves_unfixed} (version check: {fix.status}: {fix.explanation})",
                          fix.per_fix, proven=True)
        elif rule.match_proves_unfixed:
            fix = Verdict(fix.status, fix.explanation, fix.per_fix, proven=True)
    vm = None
    if rule.vmcore is not None:
        vm = evaluate_vmcore(rule.vmcore.checks, vmcore)
        if vm.status == "contradicted":
            caveats.append("vmcore contradicts this diagnosis: " + "; ".join(
                f"{r['fact']} is {r['actual']!r}" for r in vm.checks if r["result"] == "failed"))
        elif vm.status == "incomplete":
            caveats.append("vmcore facts missing: " + ", ".join(
                r["fact"] + (f" ({r['why']})" if r.get("why") else "") for r in vm.checks if r["result"] == "missing"))
    confidence = raise_confidence(pat.confidence, platform)
    reason = pat.label or ("the rule's chain" if len(rule.match) == 1 else f"alternative {alt + 1}")
    if confidence != pat.confidence and platform is not None:
        reason += f"; {pat.confidence} from the log, {confidence} with " + "; ".join(platform.raised_by)
    if platform is not None and platform.unseen:
        caveats.append("the capture does not show the machine's " + ", ".join(platform.unseen)
                       + " (no CPU, IOMMU or SEV identification lines): the platform is assumed to fit")
    return Finding(
        rule_id=rule.id, title=_fill(rule.title, hits), severity=rule.severity, source=cap.source,
        boot=main_boot, boots=boots, boot_role=info.role if info else "unknown",
        release=release, evidence=evidence, summary=_fill(rule.summary, hits), remedy=_fill(rule.remedy, hits),
        references=list(rule.references), fix=fix, caveats=list(dict.fromkeys(caveats)), vmcore=vm,
        alternative=alt, alternative_label=pat.label, needs_vmcore=rule.needs_vmcore,
        tags=list(rule.tags), consequence_of=list(rule.consequence_of), confidence=confidence,
        confidence_reason=reason, platform=list(platform.decided) if platform else [],
        to_confirm=_fill(pat.confirm_with, hits) if confidence != "confirmed" else "",
    )
