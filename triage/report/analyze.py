"""The library entry points: the same report object the CLI renders.

    >>> import triage
    >>> report = triage.analyze(["console.log"])
    >>> [f.rule_id for f in report.findings]
"""
from __future__ import annotations

import os
from collections.abc import Callable, Iterable, Sequence
from dataclasses import replace

from ..engine import Explanation, explain, match
from ..errors import VmcoreError
from ..ingest import Input, read_capture
from ..model import VMCORE_LOG_SUFFIX, Capture, Report, VmcoreFacts
from ..rulepack import Rule, load_rules
from .crosscheck import cross_check
from .quality import assess

__all__ = ["analyze", "analyze_inputs", "analyze_vmcore", "explain_rule", "why_not"]


def analyze(
    files: Sequence[str] | str,
    *,
    rule_dirs: Iterable[str] = (),
    vmcore: str | None = None,
    vmlinux: str | None = None,
    rules: Sequence[Rule] | None = None,
    progress: Callable[[str], Callable[[int, int | None], None]] | None = None,
) -> Report:
    """Parse the captures, split boots, match the rule packs, assess the capture.

    ``files`` are paths (or '-' for stdin); ``rule_dirs`` add custom packs;
    ``vmcore`` (with ``vmlinux``) adds the crashed kernel's memory state;
    ``progress(name)`` gives a callback told how far the reading of that input got.
    """
    if isinstance(files, str):
        files = [files]
    inputs = [Input.from_arg(f) for f in _distinct(files)]
    if progress is not None:
        inputs = [replace(item, progress=progress(item.name)) for item in inputs]
    captures = [read_capture(item) for item in inputs]
    rule_list = list(rules) if rules is not None else load_rules(rule_dirs)
    facts, problem = None, None
    if vmcore is not None:
        try:
            facts = _inspect(vmcore, vmlinux, live=False)
        except VmcoreError as exc:  # the console logs are still diagnosed; the report says what was skipped
            problem = str(exc)
    return _diagnose(captures, rule_list, facts, vmcore, problem)


def analyze_inputs(inputs: Sequence[Input], rules: Sequence[Rule]) -> Report:
    """The main job on inputs already opened by the caller (in-memory archive members, named captures),
    with a rule list loaded once: what a fleet scan's workers run for every capture."""
    return _diagnose([read_capture(item) for item in inputs], list(rules), None, None)


def _distinct(files: Sequence[str]) -> list[str]:
    """The inputs, each file once (the same path given twice, or through a link, is read once)."""
    seen: set[str] = set()
    out = []
    for name in files:
        key = name if name == "-" else os.path.realpath(name)
        if key not in seen:
            seen.add(key)
            out.append(name)
    return out


def analyze_vmcore(
    vmcore: str | None,
    *,
    vmlinux: str | None = None,
    live: bool = False,
    logs: Sequence[str] = (),
    rule_dirs: Iterable[str] = (),
) -> Report:
    """Read a vmcore (or the live kernel), diagnose its own kernel log and any console logs."""
    facts, log_text = _inspect(vmcore, vmlinux, live=live, with_log=True)
    name = f"{vmcore or 'live kernel'} {VMCORE_LOG_SUFFIX}"
    captures = [read_capture(Input.from_text(log_text, name))] if log_text else []
    captures += [read_capture(Input.from_arg(f)) for f in _distinct(logs)]
    return _diagnose(captures, load_rules(rule_dirs), facts, vmcore or "live")


def _inspect(path: str | None, vmlinux: str | None, live: bool, with_log: bool = False):
    from .. import vmcore as vm

    prog = vm.open_program(path, vmlinux=vmlinux, live=live)
    facts = vm.inspect(prog, source=path or "live")
    if not with_log:
        return facts
    try:
        text = vm.kernel_log_text(prog)
    except Exception as exc:  # a log that cannot be read is a skipped check, not a failure
        facts.skip("kernel log", f"could not read the printk buffer: {exc}")
        text = ""
    return facts, text


def _diagnose(captures: list[Capture], rules: list[Rule], facts: VmcoreFacts | None,
              vmcore_path: str | None, vmcore_error: str | None = None) -> Report:
    facts_dict = facts.to_dict() if facts is not None else None
    findings = match(captures, rules, vmcore=facts_dict)
    if vmcore_error is not None:
        for finding in findings:
            if finding.vmcore is not None:
                finding.caveats.append(f"vmcore given but not read ({vmcore_error}): its checks were skipped")
    notes = assess(captures, findings, vmcore_given=facts is not None, vmcore_error=vmcore_error)
    report = Report(captures=captures, findings=findings, quality=notes, rules=rules, vmcore=facts,
                    vmcore_path=vmcore_path, vmcore_error=vmcore_error)
    if facts is not None:
        report.cross_checks = cross_check(facts, captures)
    return report


def explain_rule(report: Report, rule_id: str) -> Explanation:
    """How far one rule got on the report's captures (KeyError naming the known rules if there is none)."""
    rule = next((r for r in report.rules if r.id == rule_id), None)
    if rule is None:
        known = ", ".join(sorted(r.id for r in report.rules))
        raise KeyError(f"no rule {rule_id!r}; known rules: {known}")
    facts = report.vmcore.to_dict() if report.vmcore is not None else None
    return explain(report.captures, rule, vmcore=facts)


def why_not(report: Report, rule_id: str) -> str:
    """Which step of a rule did not match on the report's captures, in words."""
    return str(explain_rule(report, rule_id))
