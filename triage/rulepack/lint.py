"""Lint a rule pack: schema errors, unknown message ids and fields, missing fixtures."""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterable, Literal

from ..errors import RuleError
from ..model import EVENT_ATTRS, KNOWN_MESSAGE_KINDS, Vocabulary
from .model import OPTIONAL_TEXT, Condition, Pattern, Rule, Step, placeholders
from .pack import load_rule_file, rule_files, shipped_rules_dir
from .schema import closest

__all__ = ["Problem", "lint", "fixture_dir"]


@dataclass
class Problem:
    """One lint finding about the rule pack."""

    severity: Literal["error", "warning"]
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


def _iter_conditions(rule: Rule) -> Iterable[tuple[str, Step, Condition]]:
    for pat in rule.match:
        parts = [pat] + [p for p in (pat.first, pat.then) if p is not None]
        for part in parts:
            for group in ("sequence", "all", "absent", "supporting"):
                for step in getattr(part, group):
                    for cond in step.conditions:
                        yield group, step, cond


def lint(rule_dirs: Iterable[str | Path] | None = None, *, fixtures: bool = True,
         vocabulary: Vocabulary | None = None) -> list[Problem]:
    """Check rule files: schema (errors), suspicious ids/fields, missing fixtures (warnings).

    ``rule_dirs`` defaults to the shipped pack.  ``vocabulary`` is what the
    parser can emit (``triage.ingest.vocabulary()``, read from the grammars);
    without it message ids and field names are not checked.
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
                problems.extend(_lint_rule(rule, vocabulary))
                if fixtures:
                    problems.extend(_lint_fixtures(rule, directory))
    known_ids = {r.id for r in all_rules}
    for rule in all_rules:
        for key in ("superseded_by", "consequence_of"):
            for other in getattr(rule, key):
                if other not in known_ids:
                    problems.append(Problem("warning", rule.path, rule.line, key,
                                            f"no rule with id {other} is loaded", rule.id))
    return problems


def _lint_rule(rule: Rule, vocabulary: Vocabulary | None) -> list[Problem]:
    out = []
    for group, step, cond in _iter_conditions(rule):
        where = f"{group} step {step.label!r}"
        for kind in (cond.kinds if vocabulary is not None else ()):
            known_messages = vocabulary.messages
            known_fields = vocabulary.fields
            if kind not in known_messages:
                out.append(Problem("warning", rule.path, step.line, where,
                                   f"event kind {kind!r} is not one the parser produces", rule.id))
                continue
            for message in cond.messages or ():
                if message not in known_messages[kind]:
                    hint = closest(str(message), [m for m in known_messages[kind] if m])
                    out.append(Problem("warning", rule.path, step.line, where,
                                       f"message id {message!r} is not known for kind {kind}"
                                       + (f" (did you mean {hint!r}?)" if hint else ""), rule.id))
            for name, _ in cond.fields:
                if name not in EVENT_ATTRS and name not in known_fields.get(kind, frozenset()):
                    hint = closest(name, known_fields.get(kind, ()))
                    out.append(Problem("warning", rule.path, step.line, where,
                                       f"field {name!r} is not known for kind {kind}"
                                       + (f" (did you mean {hint!r}?)" if hint else ""), rule.id))
        if cond.messages is None and any(k in KNOWN_MESSAGE_KINDS for k in cond.kinds) \
                and not cond.fields and not cond.regexes:
            out.append(Problem("warning", rule.path, step.line, where,
                               "matches every message of the kind; name a message id", rule.id))
    if vocabulary is not None:
        out.extend(_lint_placeholders(rule, vocabulary))
    if rule.vmcore and rule.vmcore.required and not rule.vmcore.checks:
        out.append(Problem("error", rule.path, rule.vmcore.line, "vmcore", "required vmcore block has no checks", rule.id))
    return out


def _step_fields(step: Step, vocabulary: Vocabulary) -> set[str]:
    """Every field an event matching ``step`` can carry."""
    names = set(EVENT_ATTRS)
    for cond in step.conditions:
        for kind in cond.kinds:
            names |= set(vocabulary.fields.get(kind, ()))
    return names


def _lint_placeholders(rule: Rule, vocabulary: Vocabulary) -> list[Problem]:
    """Each ``{field}`` / ``{label.field}`` must be a field the step it names can carry: a
    placeholder no grammar fills prints "(unknown)" in every finding.  Inside ``[[...]]`` (left out
    when empty) it is enough that one alternative can fill it."""
    out = []
    texts = [("title", rule.title), ("summary", rule.summary), ("remedy", rule.remedy)]
    optional_fails: dict[tuple[str, str | None, str], list[str]] = {}
    alternatives = 0
    for alt, pat in enumerate(rule.match):
        parts: list[Pattern] = [pat] + [p for p in (pat.first, pat.then) if p is not None]
        steps = [s for part in parts for s in part.required_steps()]
        if not steps:
            continue
        alternatives += 1
        by_label = {s.label: s for part in parts for s in part.sequence + part.all + part.supporting}
        for key, text in texts + [(f"match alternative {alt + 1} confirm_with", pat.confirm_with)]:
            optional = {(label, name) for seg in OPTIONAL_TEXT.findall(text or "") for label, name in placeholders(seg)}
            for label, name in placeholders(text or ""):
                ref = f"{label}.{name}" if label else name
                step = steps[-1] if label is None else by_label.get(label)
                if step is None:
                    why = f"{{{ref}}}: alternative {alt + 1} has no step labelled {label!r}"
                elif name not in _step_fields(step, vocabulary):
                    hint = closest(name, sorted(_step_fields(step, vocabulary)))
                    why = (f"{{{ref}}}: no grammar gives events of step {step.label!r} a field {name!r}"
                           + (f" (did you mean {hint!r}?)" if hint else ""))
                else:
                    continue
                if (label, name) in optional and not key.startswith("match alternative"):
                    optional_fails.setdefault((key, label, name), []).append(why)
                else:
                    out.append(Problem("error", rule.path, rule.line, key, why, rule.id))
    for (key, _, _), whys in optional_fails.items():
        if len(whys) >= alternatives:  # no alternative can fill it: the [[...]] is never shown
            out.append(Problem("error", rule.path, rule.line, key, whys[0] + " (in no alternative)", rule.id))
    return out


def fixture_dir(rule: Rule, rules_dir: Path) -> Path:
    """``<pack>/fixtures/<RULE-ID>/``: the rule's positive*.log and negative*.log."""
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
