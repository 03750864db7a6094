"""Why a rule did or did not match (``--why-not``): every scope tried, step by step."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Mapping, Sequence

from ..model import Capture, Finding, VmcoreResult
from ..rulepack import Rule
from ..rulepack.model import PLACEHOLDER
from .evaluate import Attempt, Evaluator
from .facts import evaluate_vmcore
from .index import EventIndex
from .match import run_rule

__all__ = ["Explanation", "explain"]


@dataclass
class Explanation:
    """How far one rule got on the captures, and which step stopped it."""

    rule_id: str
    title: str
    matched: bool
    findings: list[Finding]
    attempts: list[Attempt]
    notes: list[str]
    vmcore: VmcoreResult | None = None

    def best_attempts(self) -> list[Attempt]:
        """The furthest attempt per alternative (all matched ones first)."""
        out: dict[int, Attempt] = {}
        for a in self.attempts:
            cur = out.get(a.alternative)
            if cur is None or (a.matched, a.progress) > (cur.matched, cur.progress):
                out[a.alternative] = a
        return [out[k] for k in sorted(out)]

    def to_dict(self) -> dict[str, Any]:
        return {"rule_id": self.rule_id, "title": self.title, "matched": self.matched,
                "findings": [f.to_dict() for f in self.findings],
                "best_attempts": [a.to_dict() for a in self.best_attempts()],
                "attempts": [a.to_dict() for a in self.attempts], "notes": self.notes,
                "vmcore": self.vmcore.to_dict() if self.vmcore else None}

    def __str__(self) -> str:
        out = [f"{self.rule_id}: {self.title}",
               "MATCHED" if self.matched else "did not match"]
        out += [f"note: {n}" for n in self.notes]
        if self.findings:
            for f in self.findings:
                out.append(f"  finding in {f.source} boot {f.boot} (lines {', '.join(map(str, f.lines[:8]))})")
        for a in self.best_attempts():
            where = f"{a.source}" + (f" boot {a.boot}" if a.boot is not None else "")
            head = f"alternative {a.alternative + 1}" + (f" ({a.alternative_label})" if a.alternative_label else "")
            out.append(f"{head}, furthest in {where} [{a.scope} scope]: {'matched' if a.matched else 'stopped'}")
            for s in a.steps:
                mark = {"matched": "+", "passed": "+", "clear": "+", "seen": "+", "missing": "x",
                        "violated": "x", "failed": "x", "not reached": ".", "not seen": "-"}.get(s.status, " ")
                line = f"  {mark} {s.group} {s.label}: {s.status}"
                if s.description and s.group != "boot":
                    line += f" -- {s.description}"
                if s.detail:
                    line += f"\n      {s.detail}"
                out.append(line)
        return "\n".join(out)


def explain(captures: Sequence[Capture] | Capture, rule: Rule, vmcore: Mapping[str, Any] | None = None) -> Explanation:
    """Why ``rule`` did (not) match: every scope tried, step by step.

    ``str()`` of the result is a readable report (best attempt per
    alternative); ``to_dict()`` has everything.
    """
    if isinstance(captures, Capture):
        captures = [captures]
    index = EventIndex(captures)
    ev = Evaluator(index)
    attempts: list[Attempt] = []
    notes: list[str] = []
    run_rule(index, ev, rule, vmcore, tracers=attempts)
    findings = run_rule(index, Evaluator(index), rule, vmcore)
    vm = None
    if rule.vmcore is not None:
        vm = evaluate_vmcore(rule.vmcore.checks, vmcore)
        if rule.vmcore.required and vm.status != "confirmed":
            notes.append(f"this rule needs vmcore facts ({'; '.join(c.describe() for c in rule.vmcore.checks)}): "
                         f"{vm.status}" + (" -- the log part alone never asserts it" if vmcore is None else ""))
    if not index.boots:
        notes.append("the captures hold no events")
    # a matched rule's title is filled from its evidence; otherwise its placeholders show as <field>
    title = findings[0].title if findings else PLACEHOLDER.sub(lambda m: f"<{m.group(0)[1:-1]}>", rule.title)
    return Explanation(rule.id, title, bool(findings), findings, attempts, notes, vm)
