"""Run every rule's fixtures: ``positive*.log`` must yield the rule, ``negative*.log`` must not.

Fixture running lives with the engine (it ingests and matches); the rule pack
itself never imports the engine or the ingestion.
"""
from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Iterable

import yaml

from ..errors import RuleError
from ..ingest import read_capture
from ..rulepack import fixture_dir, load_rules, shipped_rules_dir
from .match import match

__all__ = ["FixtureResult", "run_fixtures", "load_vmcore_facts", "golden_path", "expected_findings"]


@dataclass
class FixtureResult:
    """One fixture file run against its rule."""

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


GOLDEN_SUFFIX = ".expected.yaml"
_GOLDEN_HEAD = ("# Expected findings of {rule} on {name}: rule, boot, evidence lines, confidence, fix status.\n"
                "# Written by 'snp-triage rules test --update'; a reviewer reads the diff.\n")


def golden_path(fixture: Path) -> Path:
    """``positive-x.log`` -> ``positive-x.expected.yaml`` beside it."""
    return fixture.with_name(fixture.stem + GOLDEN_SUFFIX)


def expected_findings(findings: list[Any]) -> list[dict[str, Any]]:
    """What a golden file records of each finding (stable across runs, small to review)."""
    return [{"rule": f.rule_id, "boot": f.boot, "lines": list(f.lines), "confidence": f.confidence,
             "fix": f.fix.status if f.fix else None} for f in findings]


def _golden(path: Path, actual: list[dict[str, Any]], update: bool) -> str | None:
    """None when the golden file agrees (or was rewritten); else what differs."""
    golden = golden_path(path)
    if update:
        head = _GOLDEN_HEAD.format(rule=path.parent.name, name=path.name)
        golden.write_text(head + yaml.safe_dump({"findings": actual}, sort_keys=False, width=100,
                                                default_flow_style=None), encoding="utf-8")
        return None
    if not golden.exists():
        return f"no {golden.name} beside it: run 'snp-triage rules test --update' and review it"
    try:
        expected = (yaml.safe_load(golden.read_text(encoding="utf-8")) or {}).get("findings") or []
    except (yaml.YAMLError, AttributeError) as exc:
        return f"{golden.name} is not a findings file: {str(exc).splitlines()[0]}"
    if expected == actual:
        return None
    return f"{golden.name} expects {expected}, got {actual}"


def run_fixtures(rule_dirs: Iterable[str | Path] | None = None,
                 reader: Callable[[str], Any] | None = None, *, update: bool = False) -> list[FixtureResult]:
    """Run every rule's fixtures: positive*.log must yield the rule, negative*.log must not, and the
    findings must be the ones its golden file (``<fixture>.expected.yaml``) records.

    ``rule_dirs`` defaults to the shipped pack; each directory's fixtures live
    in ``<dir>/fixtures/<RULE-ID>/``.  ``reader`` turns a path into a Capture
    (default ``triage.ingest.read_capture``).  ``update`` rewrites the golden
    files from this run instead of comparing (``rules test --update``).
    """
    dirs = [Path(d) for d in rule_dirs] if rule_dirs is not None else [shipped_rules_dir()]
    if reader is None:
        reader = read_capture
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
                try:
                    capture = reader(str(path))
                    facts = load_vmcore_facts(path)
                    # with the rules it declares itself superseded by, as in the whole pack: a negative
                    # fixture may show the more specific rule taking the event over
                    peers = [rule] + [r for r in rules if r.id in rule.superseded_by]
                    findings = [x for x in match([capture], peers, vmcore=facts) if x.rule_id == rule.id]
                except Exception as exc:  # a fixture must not stop the run
                    results.append(FixtureResult(rule.id, str(path), expect, "error", f"{type(exc).__name__}: {exc}"))
                    continue
                if expect == "positive":
                    ok = bool(findings)
                    detail = (f"matched boot {findings[0].boot}, lines {findings[0].lines[:6]}, {findings[0].confidence}"
                              if ok else "expected a finding, got none")
                else:
                    ok = not findings
                    detail = "no finding, as expected" if ok else f"unexpected finding at boot {findings[0].boot}, lines {findings[0].lines[:6]}"
                if ok:
                    differs = _golden(path, expected_findings(findings), update)
                    if differs:
                        ok, detail = False, differs
                results.append(FixtureResult(rule.id, str(path), expect, "pass" if ok else "fail", detail, findings))
    return results
