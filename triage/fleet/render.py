"""The fleet report for people and tools: rich tables on a terminal, Markdown for a ticket, JSON.

All three show the same data (:class:`triage.fleet.buckets.FleetReport`); JSON has everything, the
others a bucket table, the failures and, with ``--bucket``, the drill-down.  Log text and file
names are never read as rich markup.
"""
from __future__ import annotations

import sys
from typing import Any

from rich.table import Table
from rich.text import Text

from ..report.jsonout import json_text
from ..report.render import console
from .buckets import FleetReport, _iso, fix_text as _fix, names_text as _names

__all__ = ["render_fleet", "fleet_markdown", "FLEET_FORMATS"]

FLEET_FORMATS = ("rich", "json", "markdown", "html")


def _window(report: FleetReport) -> str:
    since = f"since {_iso(report.since)}" if report.since is not None else "all time"
    host = f", host {report.host}" if report.host else ""
    return f"{report.total} captures in {len(report.buckets)} buckets ({since}{host}); store {report.store}"


def render_fleet(report: FleetReport, fmt: str) -> None:
    """Print the report in one of FLEET_FORMATS on stdout."""
    if fmt == "json":
        sys.stdout.write(json_text(report.to_dict()) + "\n")
    elif fmt == "markdown":
        sys.stdout.write(fleet_markdown(report))
    elif fmt == "html":
        from .html import fleet_html

        sys.stdout.write(fleet_html(report))
    else:
        _rich(report)


def _rich(report: FleetReport) -> None:
    con = console()
    con.print(Text(_window(report)))
    table = Table(title="buckets", title_justify="left")
    for column in ("bucket", "title", "count", "first seen", "last seen", "hosts", "kernels", "fix", "new", "ticket"):
        table.add_column(column, overflow="fold")
    for b in report.buckets:
        table.add_row(*(Text(str(c)) for c in (b.id, b.title, b.count, _iso(b.first_seen) or "-",
                                               _iso(b.last_seen) or "-", _names(b.hosts, b.host_count),
                                               _names(b.kernels), _fix(b), "new" if b.new else "", b.ticket or "")))
    con.print(table)
    if report.failures:
        fails = Table(title="not diagnosed", title_justify="left")
        for column in ("status", "count", "reason", "example"):
            fails.add_column(column, overflow="fold")
        for f in report.failures:
            fails.add_row(*(Text(str(f[k])) for k in ("status", "count", "reason", "example")))
        con.print(fails)
    if report.drilldown is not None:
        _rich_drilldown(con, report)


def _rich_drilldown(con, report: FleetReport) -> None:
    d = report.drilldown
    assert d is not None
    con.print(Text.assemble(("bucket ", "bold"), (d.bucket.id, "bold"), f"  {d.bucket.title}  "
                            f"({d.bucket.count} captures, {d.bucket.host_count} hosts)"))
    for line in _example_lines(d.example):
        con.print(Text(line))
    hosts = Table(title="hosts", title_justify="left")
    for column in ("host", "captures", "last seen", "kernels"):
        hosts.add_column(column, overflow="fold")
    for h in d.hosts:
        hosts.add_row(*(Text(str(c)) for c in (h["host"], h["count"], h["last_seen"] or "-", ", ".join(h["kernels"]))))
    con.print(hosts)


def _example_lines(example: dict[str, Any]) -> list[str]:
    """The example capture and its evidence, as plain lines (shared by rich and Markdown)."""
    out = [f"example: {example['origin']} (host {example.get('host') or 'unknown'}, seen {example.get('seen') or '-'}, "
           f"kernel {example.get('release') or 'unknown'})"]
    root = example.get("root")
    if root:
        fix = (root.get("fix") or {}).get("status")
        out.append(f"root cause: {root['rule_id']} ({root['severity']}): {root['title']}"
                   + (f"; fix: {fix}" if fix else ""))
        for ev in root.get("evidence", []):
            out.append(f"  {ev['label']}: {ev['summary']}")
            out.extend(f"    {line}" for line in ev.get("lines", []))
    crash = example.get("crash")
    if crash:
        out.append(f"crash: {crash['title']} (line {crash['line']}), stack {crash['stack_hash']}: "
                   + " <- ".join(crash.get("frames", [])))
    return out


def _md(text: object) -> str:
    return str(text).replace("|", "\\|").replace("\n", " ")


def fleet_markdown(report: FleetReport) -> str:
    lines = ["# Fleet report", "", _md(_window(report)), "",
             "| bucket | title | count | first seen | last seen | hosts | kernels | fix | new | ticket |",
             "|---|---|---:|---|---|---|---|---|---|---|"]
    for b in report.buckets:
        lines.append("| " + " | ".join(_md(c) for c in (
            f"`{b.id}`", b.title, b.count, _iso(b.first_seen) or "-", _iso(b.last_seen) or "-",
            _names(b.hosts, b.host_count), _names(b.kernels), _fix(b), "new" if b.new else "", b.ticket or "")) + " |")
    if report.failures:
        lines += ["", "## Not diagnosed", "", "| status | count | reason | example |", "|---|---:|---|---|"]
        for f in report.failures:
            lines.append("| " + " | ".join(_md(f[k]) for k in ("status", "count", "reason", "example")) + " |")
    d = report.drilldown
    if d is not None:
        lines += ["", f"## Bucket `{d.bucket.id}`: {_md(d.bucket.title)}", "", "```"]
        lines += [line.replace("```", "'''") for line in _example_lines(d.example)]
        lines += ["```", "", "| host | captures | last seen | kernels |", "|---|---:|---|---|"]
        for h in d.hosts:
            lines.append(f"| {_md(h['host'])} | {h['count']} | {h['last_seen'] or '-'} | {_md(', '.join(h['kernels']))} |")
    return "\n".join(lines) + "\n"
