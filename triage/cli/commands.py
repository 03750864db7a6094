"""One handler per command: options in, exit status out."""
from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Callable

from ..errors import UsageError
from ..ingest import Input
from .progress import ProgressBar

__all__ = ["HANDLERS", "EXIT_OK", "EXIT_FINDINGS", "EXIT_ERROR", "EXIT_EMPTY"]

EXIT_OK, EXIT_FINDINGS, EXIT_ERROR, EXIT_EMPTY = 0, 1, 2, 3


def _check_vmlinux(vmlinux: str | None) -> None:
    if vmlinux is not None and os.path.isdir(vmlinux):
        raise UsageError(f"snp-triage: --vmlinux {vmlinux}: is a directory; give the vmlinux file itself")


def _status(report, fail_on: str) -> int:
    """Exit status of a diagnosis; a partly read input still makes it 2, after the report."""
    for problem in report.input_errors:
        print(f"snp-triage: {problem}", file=sys.stderr)
    if report.input_errors:
        return EXIT_ERROR
    if report.empty:
        return EXIT_EMPTY
    return EXIT_FINDINGS if report.fails(fail_on) else EXIT_OK


def _inputs(files: list[str]) -> list[Input]:
    """The files given, crash directories and sosreports opened up into their logs."""
    from ..report.capturesets import expand

    return expand(files, vmcore_given=True).inputs


def _cmd_events(options: argparse.Namespace) -> int:
    from ..ingest import iter_events, iter_everything
    from ..report.jsonout import write_jsonl

    kinds = set(options.kind)
    for item in _inputs(options.files):
        stream = iter_everything(item) if options.plain else iter_events(item)
        write_jsonl((e.to_dict() for e in stream if not kinds or e.kind in kinds), sys.stdout.buffer)
    return EXIT_OK


def _cmd_boots(options: argparse.Namespace) -> int:
    from ..ingest import read_boots
    from ..report.jsonout import write_jsonl
    from ..report.render import boots_table, console

    captures = [read_boots(item) for item in _inputs(options.files)]
    if options.json:
        write_jsonl((boot.to_dict() for capture in captures for boot in capture.boots), sys.stdout.buffer)
    else:
        con = console()
        for capture in captures:
            con.print(boots_table(capture, con.width))
    problems = [c.input_error for c in captures if c.input_error]
    for problem in problems:
        print(f"snp-triage: {problem}", file=sys.stderr)
    return EXIT_ERROR if problems else EXIT_OK


def _cmd_analyze(options: argparse.Namespace) -> int:
    from ..report import analyze, render_report
    from ..report.capturesets import is_capture_set

    if options.vmlinux and not options.vmcore and not any(is_capture_set(f) for f in options.files):
        raise UsageError("snp-triage: --vmlinux goes with --vmcore or a crash directory (or use 'snp-triage vmcore "
                         "VMCORE --vmlinux FILE')")
    _check_vmlinux(options.vmlinux)
    bar = ProgressBar(not options.quiet)
    try:
        report = analyze(options.files, rule_dirs=options.rules, vmcore=options.vmcore, vmlinux=options.vmlinux,
                         progress=bar.for_input if bar.enabled else None,
                         all_events=bool(options.why_not))  # --why-not counts the events no condition passed
    finally:
        bar.close()
    if options.why_not:
        return _why_not(report, options)
    render_report(report, options.format)
    return _status(report, options.fail_on)


def _why_not(report, options: argparse.Namespace) -> int:
    """--why-not RULE: the explanation in the format asked for; exit 0 if the rule matched, 1 if not."""
    from ..report.analyze import explain_rule
    from ..report.jsonout import json_text

    try:
        explanation = explain_rule(report, options.why_not)
    except KeyError as exc:
        raise UsageError(f"snp-triage: {exc.args[0]}") from None
    if options.format == "json":
        sys.stdout.write(json_text(explanation.to_dict()) + "\n")
    elif options.format == "markdown":
        sys.stdout.write("```\n" + str(explanation) + "\n```\n")
    elif options.format == "html":
        from ..report.htmlkit import document, tag

        page = document(f"snp-triage --why-not {options.why_not}", tag("pre", str(explanation), class_="log"))
        sys.stdout.flush()
        sys.stdout.buffer.write(page.encode("utf-8", "replace"))
    else:
        sys.stdout.write(str(explanation) + "\n")
    return EXIT_OK if explanation.matched else EXIT_FINDINGS


def _cmd_rules(options: argparse.Namespace) -> int:
    from .rules import run_rules_command

    return run_rules_command(options)


def _cmd_vmcore(options: argparse.Namespace) -> int:
    from ..report import analyze_vmcore, render_report

    if not options.vmcore and not options.live:
        raise UsageError("snp-triage vmcore: give a VMCORE path or --live")
    if options.vmcore and options.live:
        raise UsageError("snp-triage vmcore: give a VMCORE path or --live, not both")
    _check_vmlinux(options.vmlinux)
    report = analyze_vmcore(options.vmcore, vmlinux=options.vmlinux, live=options.live, logs=options.log,
                            rule_dirs=options.rules)
    render_report(report, options.format)
    return _status(report, options.fail_on)


def _cmd_fleet(options: argparse.Namespace) -> int:
    from .fleet import run_fleet_command

    return run_fleet_command(options)


def _cmd_preflight(options: argparse.Namespace) -> int:
    from ..preflight import run_preflight
    from ..preflight.render import render_preflight

    report = run_preflight(options.root, dmesg=options.dmesg, rule_dirs=options.rules)
    render_preflight(report, options.format)
    return EXIT_FINDINGS if report.fails(options.fail_on) else EXIT_OK


HANDLERS: dict[str, Callable[[argparse.Namespace], int]] = {
    "analyze": _cmd_analyze, "events": _cmd_events, "boots": _cmd_boots, "rules": _cmd_rules,
    "vmcore": _cmd_vmcore, "preflight": _cmd_preflight, "fleet": _cmd_fleet,
}
