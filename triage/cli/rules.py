"""``snp-triage rules list|show|lint|test``: the rule packs as a support engineer handles them."""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

from rich.table import Table
from rich.text import Text

from ..engine import run_fixtures
from ..ingest import vocabulary
from ..report.render import console
from ..rulepack import lint, load_rules, shipped_rules_dir
from ..rulepack.model import PLACEHOLDER

EXIT_OK, EXIT_FAIL, EXIT_ERROR = 0, 1, 2


def run_rules_command(options: argparse.Namespace) -> int:
    """list | show | lint | test."""
    action = options.action
    if action == "list":
        return _list(options.rules)
    if action == "show":
        return _show(options.rule_id, options.rules)
    dirs = options.dirs or [str(shipped_rules_dir())]
    if action == "lint":
        return _lint(dirs)
    return _test(dirs, getattr(options, "update", False))


def _fix_name(fix) -> str:
    """'9e249c484128 (6.18)', or the commit alone when its first release is not recorded."""
    name = fix.commit[:12] if fix.commit else f'"{fix.subject}"'
    return f"{name} ({fix.mainline})" if fix.mainline else name


def _list(extra: list[str]) -> int:
    rules = load_rules(extra)
    table = Table(title=f"{len(rules)} rules", title_justify="left")
    for column in ("id", "severity", "title", "fixed by", "needs vmcore"):
        table.add_column(column, overflow="fold")
    for rule in sorted(rules, key=lambda r: r.id):
        fixes = ", ".join(_fix_name(f) for f in rule.fixed_by) if rule.fixed_by else "-"
        title = PLACEHOLDER.sub(lambda m: f"<{m.group(0)[1:-1]}>", rule.title)  # filled from the event at match time
        table.add_row(*(Text(cell) for cell in (rule.id, rule.severity, title, fixes, "yes" if rule.needs_vmcore else "")))
    console().print(table)
    return EXIT_OK


def _show(rule_id: str, extra: list[str]) -> int:
    rules = {r.id: r for r in load_rules(extra)}
    rule = rules.get(rule_id)
    if rule is None:
        console(stderr=True).print(Text(f"snp-triage: no rule {rule_id!r}; 'snp-triage rules list' shows them"))
        return EXIT_ERROR
    path = Path(rule.path) if rule.path else None
    con = console()
    con.print(Text.assemble((rule.id, "bold"), f"  {rule.title}  ({rule.severity})"))
    if path and path.exists():
        con.print(Text(f"file: {path}"))
        con.file.flush()
        sys.stdout.write(path.read_text(encoding="utf-8"))  # as written: the YAML is not rewrapped
        sys.stdout.flush()
    return EXIT_OK


def _lint(dirs: list[str]) -> int:
    problems = lint(dirs, vocabulary=vocabulary())
    con = console()
    for problem in problems:
        con.print(str(problem), markup=False, highlight=False)
    errors = [p for p in problems if getattr(p, "severity", "error") == "error"]
    con.print(f"{len(problems)} problem(s), {len(errors)} error(s) in {', '.join(dirs)}", markup=False)
    return EXIT_FAIL if errors else EXIT_OK


def _test(dirs: list[str], update: bool = False) -> int:
    results = run_fixtures(dirs, update=update)
    table = Table(title="rule fixtures", title_justify="left")
    for column in ("rule", "fixture", "expect", "result", "detail"):
        table.add_column(column, overflow="fold")
    for r in results:
        style = {"pass": "green", "fail": "bold red", "error": "bold red", "skip": "yellow"}.get(r.status, "")
        table.add_row(Text(r.rule_id), Text(Path(r.path).name), Text(r.expect), Text(r.status, style=style), Text(r.detail))
    con = console()
    con.print(table)
    failed = [r for r in results if r.status in ("fail", "error")]
    con.print(f"{len(results) - len(failed)} passed, {len(failed)} failed", markup=False, highlight=False)
    return EXIT_FAIL if failed or not results else EXIT_OK
