"""The library entry points: the same report object the CLI renders.

    >>> import triage
    >>> report = triage.analyze(["console.log"])
    >>> [f.rule_id for f in report.findings]
"""
from __future__ import annotations

import os
from collections.abc import Callable, Iterable, Sequence
from dataclasses import replace

from ..engine import EventIndex, Explanation, Summary, explain, match
from ..errors import InputError, VmcoreError
from ..ingest import Input, read_capture
from ..model import VMCORE_LOG_SUFFIX, Capture, Report, VmcoreFacts
from ..rulepack import Rule, load_rules
from .capturesets import Expanded, expand, is_capture_set, local_dump
from .crosscheck import cross_check
from .quality import assess

__all__ = ["analyze", "analyze_inputs", "analyze_program", "analyze_vmcore", "explain_rule", "why_not"]


def analyze(
    files: Sequence[str] | str,
    *,
    rule_dirs: Iterable[str] = (),
    vmcore: str | None = None,
    vmlinux: str | None = None,
    rules: Sequence[Rule] | None = None,
    progress: Callable[[str], Callable[[int, int | None], None]] | None = None,
    all_events: bool = False,
) -> Report:
    """Parse the captures, split boots, match the rule packs, assess the capture.

    ``files`` are paths (or '-' for stdin); a directory or tar archive is a kdump crash directory or
    a sosreport: its logs are read in order and its dump (unless ``vmcore`` is given) goes to the vmcore
    stage. ``rule_dirs`` add custom packs; ``vmcore`` (with ``vmlinux``) adds the crashed kernel's memory
    state; ``progress(name)`` gives a callback told how far the reading of that input got.
    The rules are matched on a bounded summary of each input (triage/engine/summary.py), so
    memory does not grow with the input and ``report.captures[i].events`` holds only the events
    the summary kept; ``all_events=True`` keeps every event instead (as does a vmcore, whose
    cross-checks read every AMD-Vi line). Findings are the same either way.
    """
    if isinstance(files, str):
        files = [files]
    expanded = expand(_distinct(files), vmcore_given=vmcore is not None)
    inputs = expanded.inputs
    if progress is not None:
        inputs = [replace(item, progress=progress(item.name)) for item in inputs]
    rule_list = list(rules) if rules is not None else load_rules(rule_dirs)
    weights = None
    if all_events or vmcore is not None or expanded.dump is not None:
        captures = [read_capture(item) for item in inputs]
    else:
        captures, weights = _summarised(inputs, rule_list)
    facts, problem, shown = None, None, vmcore
    if vmcore is not None:
        try:
            facts = _inspect(vmcore, vmlinux, live=False)
        except VmcoreError as exc:  # the console logs are still diagnosed; the report says what was skipped
            problem = str(exc)
    elif expanded.dump is not None:
        shown = expanded.dump.name
        facts, problem = _inspect_found(expanded, vmlinux)
    report = _diagnose(captures, rule_list, facts, shown, problem, weights)
    return _with_sets(report, expanded, vmcore is not None)


def _summarised(inputs: list[Input], rules: list[Rule]) -> tuple[list[Capture], dict[int, int]]:
    """Each input read into a bounded summary: the captures hold the kept events only."""
    captures, weights = [], {}
    for item in inputs:
        summary = Summary(rules)
        capture = read_capture(item, sink=summary.add)
        kept, kept_weights = summary.finish()
        capture.events, capture.summarised = kept, capture.summarised - len(kept)
        weights.update(kept_weights)
        captures.append(capture)
    return captures, weights


def _inspect_found(expanded: Expanded, vmlinux: str | None) -> tuple[VmcoreFacts | None, str | None]:
    """The vmcore stage on the dump a crash directory held; what went wrong as one line."""
    assert expanded.dump is not None
    try:
        with local_dump(expanded.dump) as path:
            return _inspect(path, vmlinux, live=False, extra_dirs=expanded.debug_dirs,
                            source=expanded.dump.name), None
    except (VmcoreError, InputError) as exc:
        return None, str(exc)


def _with_sets(report: Report, expanded: Expanded, vmcore_given: bool) -> Report:
    report.capture_sets = expanded.summaries(vmcore_given)
    report.quality = expanded.notes + report.quality
    return report


def analyze_inputs(inputs: Sequence[Input], rules: Sequence[Rule]) -> Report:
    """The main job on inputs already opened by the caller (in-memory archive members, named captures),
    with a rule list loaded once: what a fleet scan's workers run for every capture."""
    captures, weights = _summarised(list(inputs), list(rules))  # bounded, as the main job
    return _diagnose(captures, list(rules), None, None, None, weights)


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
    """Read a vmcore (or the live kernel), diagnose its own kernel log and any console logs.

    ``vmcore`` may be a kdump crash directory or a tar archive of one: its dump is read and its
    saved logs join ``logs``; one without a dump still has its logs diagnosed (the report says so).
    """
    expanded = expand([vmcore]) if vmcore is not None and not live and is_capture_set(vmcore) else None
    if expanded is None:
        facts, log_text = _inspect(vmcore, vmlinux, live=live, with_log=True)
        return _with_log(facts, log_text, vmcore or "live", logs, rule_dirs)
    extra = expand(_distinct(logs)).inputs
    if expanded.dump is None:
        captures = [read_capture(item) for item in expanded.inputs + extra]
        report = _diagnose(captures, load_rules(rule_dirs), None, vmcore,
                           f"{vmcore}: holds no dump (vmcore, dump.*) to read")
        report.quality = [q for q in report.quality if q.code != "vmcore-unreadable"]  # said once, by the layout
        return _with_sets(report, expanded, False)
    with local_dump(expanded.dump) as path:
        facts, log_text = _inspect(path, vmlinux, live=False, with_log=True, extra_dirs=expanded.debug_dirs,
                                   source=expanded.dump.name)
    report = _with_log(facts, log_text, expanded.dump.name, [], rule_dirs, expanded.inputs + extra)
    return _with_sets(report, expanded, False)


def analyze_program(prog: object, *, logs: Sequence[str] = (), rule_dirs: Iterable[str] = (),
                    label: str = "drgn program") -> Report:
    """The diagnosis of a ``drgn.Program`` someone already opened (a drgn session, corelens): its
    facts and its own kernel log, with any console logs beside."""
    from .. import vmcore as vm

    facts = vm.inspect(prog, source=label)  # type: ignore[arg-type]
    try:
        text = vm.kernel_log_text(prog)  # type: ignore[arg-type]
    except Exception as exc:  # noqa: BLE001 - a log that cannot be read is a skipped check
        facts.skip("kernel log", f"could not read the printk buffer: {exc}")
        text = ""
    return _with_log(facts, text, label, logs, rule_dirs)


def _with_log(facts: VmcoreFacts, log_text: str, label: str, logs: Sequence[str], rule_dirs: Iterable[str],
              inputs: Sequence[Input] = ()) -> Report:
    name = f"{label} {VMCORE_LOG_SUFFIX}"
    captures = [read_capture(Input.from_text(log_text, name))] if log_text else []
    captures += [read_capture(item) for item in inputs]
    captures += [read_capture(Input.from_arg(f)) for f in _distinct(logs)]
    return _diagnose(captures, load_rules(rule_dirs), facts, label)


def _inspect(path: str | None, vmlinux: str | None, live: bool, with_log: bool = False,
             extra_dirs: Sequence[str] = (), source: str | None = None):
    from .. import vmcore as vm

    prog = vm.open_program(path, vmlinux=vmlinux, live=live, extra_debug_dirs=extra_dirs)
    facts = vm.inspect(prog, source=source or path or "live")
    if not with_log:
        return facts
    try:
        text = vm.kernel_log_text(prog)
    except Exception as exc:  # a log that cannot be read is a skipped check, not a failure
        facts.skip("kernel log", f"could not read the printk buffer: {exc}")
        text = ""
    return facts, text


def _diagnose(captures: list[Capture], rules: list[Rule], facts: VmcoreFacts | None,
              vmcore_path: str | None, vmcore_error: str | None = None,
              weights: dict[int, int] | None = None) -> Report:
    facts_dict = facts.to_dict() if facts is not None else None
    findings = match(captures, rules, vmcore=facts_dict, index=EventIndex(captures, weights))
    if vmcore_error is not None:
        for finding in findings:
            if finding.vmcore is not None:
                finding.caveats.append(f"vmcore given but not read ({vmcore_error}): its checks were skipped")
    notes = assess(captures, findings, vmcore_given=facts is not None, vmcore_error=vmcore_error,
                   vmcore_partial=facts.partial if facts is not None else None, vmcore_path=vmcore_path)
    report = Report(captures=captures, findings=findings, quality=notes, rules=rules, vmcore=facts,
                    vmcore_path=vmcore_path, vmcore_error=vmcore_error)
    if facts is not None:
        report.cross_checks = cross_check(facts, captures)
    return report


def explain_rule(report: Report, rule_id: str) -> Explanation:
    """How far one rule got on the report's captures (KeyError naming the known rules if there is none).

    Step by step counts need every event: give it a report of ``analyze(..., all_events=True)``
    (the CLI's ``--why-not`` does); on a summarised report it explains from the kept events.
    """
    rule = next((r for r in report.rules if r.id == rule_id), None)
    if rule is None:
        known = ", ".join(sorted(r.id for r in report.rules))
        raise KeyError(f"no rule {rule_id!r}; known rules: {known}")
    facts = report.vmcore.to_dict() if report.vmcore is not None else None
    return explain(report.captures, rule, vmcore=facts)


def why_not(report: Report, rule_id: str) -> str:
    """Which step of a rule did not match on the report's captures, in words."""
    return str(explain_rule(report, rule_id))
