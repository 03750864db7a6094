"""One handler per command: options in, exit status out."""
from __future__ import annotations

import argparse
import sys
from collections.abc import Callable

from ..errors import UsageError
from ..ingest import Input

__all__ = ["HANDLERS", "EXIT_OK", "EXIT_FINDINGS", "EXIT_ERROR"]

EXIT_OK, EXIT_FINDINGS, EXIT_ERROR = 0, 1, 2


def _cmd_events(options: argparse.Namespace) -> int:
    from ..ingest import iter_events, iter_everything
    from ..report.jsonout import write_jsonl

    kinds = set(options.kind)
    for arg in options.files:
        item = Input.from_arg(arg)
        stream = iter_everything(item) if options.plain else iter_events(item)
        write_jsonl((e.to_dict() for e in stream if not kinds or e.kind in kinds), sys.stdout.buffer)
    return EXIT_OK


def _cmd_boots(options: argparse.Namespace) -> int:
    from ..ingest import read_boots
    from ..report.jsonout import write_jsonl
    from ..report.render import boots_table, console

    captures = [read_boots(Input.from_arg(arg)) for arg in options.files]
    if options.json:
        write_jsonl((boot.to_dict() for capture in captures for boot in capture.boots), sys.stdout.buffer)
        return EXIT_OK
    con = console()
    for capture in captures:
        con.print(boots_table(capture))
    return EXIT_OK


def _cmd_analyze(options: argparse.Namespace) -> int:
    from ..report import analyze, render_report

    report = analyze(options.files, rule_dirs=options.rules, vmcore=options.vmcore, vmlinux=options.vmlinux)
    if options.why_not:
        from ..report import why_not

        try:
            print(why_not(report, options.why_not))
        except KeyError as exc:
            raise UsageError(f"snp-triage: {exc.args[0]}") from None
        return EXIT_OK
    render_report(report, options.format)
    return EXIT_FINDINGS if report.fails(options.fail_on) else EXIT_OK


def _cmd_rules(options: argparse.Namespace) -> int:
    from .rules import run_rules_command

    return run_rules_command(options)


def _cmd_vmcore(options: argparse.Namespace) -> int:
    from ..report import analyze_vmcore, render_report

    if not options.vmcore and not options.live:
        raise UsageError("snp-triage vmcore: give a VMCORE path or --live")
    report = analyze_vmcore(options.vmcore, vmlinux=options.vmlinux, live=options.live, logs=options.log,
                            rule_dirs=options.rules)
    render_report(report, options.format)
    return EXIT_FINDINGS if report.fails(options.fail_on) else EXIT_OK


HANDLERS: dict[str, Callable[[argparse.Namespace], int]] = {
    "analyze": _cmd_analyze, "events": _cmd_events, "boots": _cmd_boots, "rules": _cmd_rules,
    "vmcore": _cmd_vmcore,
}
