"""The preflight report for people (rich, Markdown) and tools (JSON), like the main report's outputs.

Rich output uses the report stage's console (colour off when piped or with
NO_COLOR, width from COLUMNS); host text is always shown as text, never as
markup.  JSON is :meth:`PreflightReport.to_dict` through the report's
encoder (RFC 8259, schema in the README).
"""
from __future__ import annotations

import sys

from rich.console import Group
from rich.panel import Panel
from rich.table import Table
from rich.text import Text

from ..report.jsonout import json_text
from ..report.render import console
from .model import PreflightReport

__all__ = ["render_preflight", "preflight_markdown", "preflight_renderable", "VERDICT_STYLE"]

#: how each verdict is shown on a terminal
VERDICT_STYLE = {"ok": "green", "risk": "yellow", "fails": "bold red", "unknown": "cyan",
                 "not applicable": "dim", "kdump will work": "bold green", "will fail": "bold red",
                 "at risk": "bold yellow"}


def _fact_value(value) -> str:
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, list):
        return ", ".join(map(str, value)) if value else "none"
    return str(value)


def preflight_renderable(report: PreflightReport, width: int | None = None) -> Group:
    parts: list = []
    style = VERDICT_STYLE.get(report.overall.answer, "")
    parts.append(Panel(Text(report.overall.text, style=style), title=Text(f"snp-triage preflight: {report.root}"),
                       title_align="left"))
    parts.append(Text("checks", style="bold"))
    grid = Table.grid(padding=(0, 2))
    grid.add_column(no_wrap=True)
    grid.add_column(overflow="fold")
    for check in report.checks:
        body = Text(check.title, style="bold")
        body.append("\n" + check.reason)
        if check.collect:
            body.append("\ncollect: " + check.collect)
        if check.fix:
            sig = f"[{check.signature}] " if check.signature and check.verdict in ("risk", "fails") else ""
            body.append("\nfix: " + sig + check.fix)
        grid.add_row(Text(check.verdict, style=VERDICT_STYLE.get(check.verdict, "")), body)
    parts.append(grid)
    facts = Table(title=Text("facts"), title_justify="left")
    for column in ("fact", "value", "source"):
        facts.add_column(column, overflow="fold")
    for fact in report.facts:
        facts.add_row(Text(fact.name), Text(_fact_value(fact.value)), Text(fact.source))
    parts.append(facts)
    if report.unread:
        unread = Table(title=Text("not read"), title_justify="left")
        for column in ("file", "why"):
            unread.add_column(column, overflow="fold")
        for record in report.unread:
            unread.add_row(Text(record.path), Text(f"{record.status}: {record.why}" if record.why else record.status))
        parts.append(unread)
    if report.unconfirmed:
        parts.append(Text("Not confirmed (kernel reference): " + " ".join(report.unconfirmed), style="dim"))
    return Group(*parts)


def _cell(value: object) -> str:
    return str(value).replace("|", "\\|").replace("\n", "<br>")


def preflight_markdown(report: PreflightReport) -> str:
    out = [f"# snp-triage preflight: `{report.root}`", "", f"**{report.overall.text}**", "",
           "| check | verdict | reason | fix |", "|---|---|---|---|"]
    for check in report.checks:
        reason = check.reason + (f" (collect: {check.collect})" if check.collect else "")
        fix = (f"`{check.signature}` " if check.signature and check.verdict in ("risk", "fails") else "") + check.fix
        out.append(f"| {_cell(check.title)} | {check.verdict} | {_cell(reason)} | {_cell(fix)} |")
    out += ["", "## Facts", "", "| fact | value | source |", "|---|---|---|"]
    out += [f"| {_cell(f.name)} | {_cell(_fact_value(f.value))} | {_cell(f.source)} |" for f in report.facts]
    if report.unread:
        out += ["", "## Not read", "", "| file | why |", "|---|---|"]
        out += [f"| {_cell(r.path)} | {_cell(r.status + (': ' + r.why if r.why else ''))} |" for r in report.unread]
    if report.unconfirmed:
        out += ["", "## Not confirmed", ""] + [f"- {_cell(u)}" for u in report.unconfirmed]
    return "\n".join(out)


def render_preflight(report: PreflightReport, fmt: str = "rich") -> None:
    if fmt == "json":
        sys.stdout.write(json_text(report.to_dict()) + "\n")
    elif fmt == "markdown":
        sys.stdout.write(preflight_markdown(report) + "\n")
    else:
        con = console()
        con.print(preflight_renderable(report, con.width))
