"""The report as Markdown, ready to paste into a bug or a mail."""
from __future__ import annotations

from rich.console import Group

from ..model import Report
from .render import MAX_FINDINGS_SHOWN, fix_text, plain_text, vmcore_renderables

__all__ = ["report_markdown"]


def _cell(value: object) -> str:
    """A table cell: '|' escaped, one line."""
    return " ".join(str(value).split()).replace("|", "\\|")


def report_markdown(report: Report) -> str:
    """The report as Markdown, ready to paste into a bug."""
    out: list[str] = ["# snp-triage report", ""]
    root = report.root_cause
    if root is not None:
        out += [f"**Diagnosis:** {root.title} (`{root.rule_id}`, {root.confidence})", "",
                " ".join(root.summary.split()), ""]
    else:
        out += ["**No finding:** nothing in the rule packs matched.", ""]
    out += ["## Boots", "", "| source | # | lines | started by | role | release | ended |", "|---|---|---|---|---|---|---|"]
    for capture in report.captures:
        for b in capture.boots:
            cells = (capture.source, b.index, f"{b.first_line}-{b.last_line}", b.started_by, b.role, b.release or "?",
                     b.ended)
            out.append("| " + " | ".join(_cell(c) for c in cells) + " |")
    out.append("")
    if report.findings:
        out += ["## Findings", ""]
        ranked = report.ranked_findings()
        for f in ranked[:MAX_FINDINGS_SHOWN]:
            out += [f"### {f.severity.upper()} `{f.rule_id}`: {f.title}", "",
                    f"- **Where:** {f.source}, boot {f.boot} ({f.boot_role}{', ' + f.release if f.release else ''})",
                    f"- **Confidence:** {f.confidence} ({f.confidence_reason})"
                    + (f"; to confirm: {' '.join(f.to_confirm.split())}" if f.to_confirm else "")]
            if f.platform:
                out.append(f"- **Platform:** {'; '.join(f.platform)}")
            out += ["- **Evidence:**"]
            out += [f"  - {'' if e.role == 'required' else '(supporting) '}{e.summary}" for e in f.evidence]
            out += [f"- **Cause:** {' '.join(f.summary.split())}", f"- **Remedy:** {' '.join(f.remedy.split())}"]
            if f.fix:
                out.append(f"- **Fix:** {fix_text(f)}")
            if f.vmcore is not None:
                out.append(f"- **vmcore:** {f.vmcore}")
            out += [f"- **Note:** {' '.join(c.split())}" for c in f.caveats]
            out.append("")
        if len(ranked) > MAX_FINDINGS_SHOWN:
            out += [f"{len(ranked) - MAX_FINDINGS_SHOWN} more (all of them in --format json):", "",
                    "| severity | rule | where | title |", "|---|---|---|---|"]
            out += ["| " + " | ".join(_cell(c) for c in (f.severity, f.rule_id, f"{f.source} boot {f.boot}", f.title))
                    + " |" for f in ranked[MAX_FINDINGS_SHOWN:]]
            out.append("")
    if report.vmcore is not None:
        out += ["## vmcore", "", "```", plain_text(Group(*vmcore_renderables(report))), "```", ""]
    if report.quality:
        out += ["## Capture quality", ""]
        out += [f"- **{q.code}** ({q.source}{'' if q.boot is None else f' boot {q.boot}'}): {q.message} "
                f"*Collect:* {q.collect}" for q in report.quality]
        out.append("")
    return "\n".join(out)
