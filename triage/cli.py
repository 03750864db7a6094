"""Command line: ``snp-triage [analyze] FILE...``, ``events``, ``boots``, ``rules``, ``vmcore``.

Exit status: 0 nothing at or above --fail-on, 1 findings, 2 usage or input
error. Every error the user can cause ends in one line on stderr, never a
traceback.
"""
from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Callable, Sequence

from . import __version__
from .grammar import GrammarError
from .reader import Input, InputError

EXIT_OK, EXIT_FINDINGS, EXIT_ERROR = 0, 1, 2
COMMANDS = ("analyze", "events", "boots", "rules", "vmcore")


class UsageError(Exception):
    """Bad arguments: message for the user, exit status 2."""


class _Parser(argparse.ArgumentParser):
    def error(self, message: str):  # argparse prints usage and exits 2 itself; keep it one line
        raise UsageError(f"{self.prog}: {message}")


def _inputs(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("files", nargs="+", metavar="FILE",
                        help="console captures: paths, '-' for stdin; .gz .xz .bz2 .zst are read directly")


def build_parser() -> dict[str, argparse.ArgumentParser]:
    parsers: dict[str, argparse.ArgumentParser] = {}
    analyze = _Parser(prog="snp-triage", description="Diagnose SEV-SNP / AMD-Vi kdump failures from console captures.")
    _inputs(analyze)
    analyze.add_argument("--format", choices=("rich", "json", "markdown"), default="rich")
    analyze.add_argument("--fail-on", choices=("critical", "error", "warning", "info", "never"), default="error",
                         help="lowest severity that makes the exit status 1 (default: error)")
    analyze.add_argument("--rules", action="append", default=[], metavar="DIR", help="add a custom rule pack")
    analyze.add_argument("--why-not", metavar="RULE", help="explain which step of RULE did not match")
    analyze.add_argument("--vmcore", metavar="VMCORE", help="also inspect this vmcore (see 'snp-triage vmcore')")
    analyze.add_argument("--vmlinux", metavar="PATH", help="debug info for --vmcore")
    analyze.add_argument("--version", action="version", version=f"snp-triage {__version__}")
    parsers["analyze"] = analyze

    events = _Parser(prog="snp-triage events", description="Print structured events as JSON Lines.")
    _inputs(events)
    events.add_argument("--kind", action="append", default=[], help="only these kinds (repeatable)")
    events.add_argument("--plain", action="store_true",
                        help="also print every other line as a 'message' event (slow, complete)")
    parsers["events"] = events

    boots = _Parser(prog="snp-triage boots", description="Show the boots found in each capture.")
    _inputs(boots)
    boots.add_argument("--json", action="store_true", help="JSON Lines instead of a table")
    parsers["boots"] = boots

    rules = _Parser(prog="snp-triage rules", description="List, show, lint and test rule packs.")
    sub = rules.add_subparsers(dest="action", required=True, parser_class=_Parser)
    listing = sub.add_parser("list")
    listing.add_argument("--rules", action="append", default=[], metavar="DIR")
    show = sub.add_parser("show")
    show.add_argument("rule_id", metavar="ID")
    show.add_argument("--rules", action="append", default=[], metavar="DIR")
    for name in ("lint", "test"):
        p = sub.add_parser(name)
        p.add_argument("dirs", nargs="*", metavar="DIR", help="rule packs (default: the shipped pack)")
    parsers["rules"] = rules

    vmcore = _Parser(prog="snp-triage vmcore", description="Read AMD IOMMU and SEV-SNP state from a vmcore with drgn.")
    vmcore.add_argument("vmcore", nargs="?", metavar="VMCORE")
    vmcore.add_argument("--vmlinux", metavar="PATH")
    vmcore.add_argument("--live", action="store_true", help="inspect the running kernel (needs root)")
    vmcore.add_argument("--log", action="append", default=[], metavar="FILE", help="console captures to fuse")
    vmcore.add_argument("--format", choices=("rich", "json", "markdown"), default="rich")
    vmcore.add_argument("--fail-on", choices=("critical", "error", "warning", "info", "never"), default="error")
    vmcore.add_argument("--rules", action="append", default=[], metavar="DIR")
    parsers["vmcore"] = vmcore
    return parsers


def main(argv: Sequence[str] | None = None) -> int:
    args = list(sys.argv[1:] if argv is None else argv)
    try:
        return _main(args)
    except Exception as exc:  # the last line of defence: no traceback for users
        if os.environ.get("SNP_TRIAGE_DEBUG"):
            raise
        print(f"snp-triage: internal error: {type(exc).__name__}: {exc} (set SNP_TRIAGE_DEBUG=1 for details)",
              file=sys.stderr)
        return EXIT_ERROR


def _main(args: list[str]) -> int:
    try:
        return _dispatch(args)
    except UsageError as exc:
        print(str(exc), file=sys.stderr)
        return EXIT_ERROR
    except (InputError, GrammarError) as exc:
        print(f"snp-triage: {exc}", file=sys.stderr)
        return EXIT_ERROR
    except Exception as exc:
        if type(exc).__name__ in ("RuleError", "VmcoreError"):  # their messages name file/line/field
            print(f"snp-triage: {exc}", file=sys.stderr)
            return EXIT_ERROR
        raise
    except BrokenPipeError:
        _quiet_stdout()
        return EXIT_OK
    except KeyboardInterrupt:
        print("snp-triage: interrupted", file=sys.stderr)
        return 130


def _quiet_stdout() -> None:
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
    except OSError:
        pass


def _dispatch(args: list[str]) -> int:
    parsers = build_parser()
    command = "analyze"
    if args and args[0] in COMMANDS:
        command = args.pop(0)
    if command == "analyze" and args and args[0] in ("-h", "--help"):
        parsers["analyze"].print_help()
        print("\ncommands: " + ", ".join(COMMANDS) + " (snp-triage COMMAND --help)")
        return EXIT_OK
    options = parsers[command].parse_args(args)
    handler: Callable[[argparse.Namespace], int] = _HANDLERS[command]
    return handler(options)


def _cmd_events(options: argparse.Namespace) -> int:
    from .ingest import iter_events, iter_everything
    from .render import write_jsonl

    kinds = set(options.kind)
    for arg in options.files:
        item = Input.from_arg(arg)
        stream = iter_everything(item) if options.plain else iter_events(item)
        write_jsonl((e.to_dict() for e in stream if not kinds or e.kind in kinds), sys.stdout.buffer)
    return EXIT_OK


def _cmd_boots(options: argparse.Namespace) -> int:
    from .ingest import read_boots
    from .render import boots_table, console, write_jsonl

    captures = [read_boots(Input.from_arg(arg)) for arg in options.files]
    if options.json:
        write_jsonl((boot.to_dict() for capture in captures for boot in capture.boots), sys.stdout.buffer)
        return EXIT_OK
    con = console()
    for capture in captures:
        con.print(boots_table(capture))
    return EXIT_OK


def _cmd_analyze(options: argparse.Namespace) -> int:
    from .api import analyze
    from .render import render_report

    report = analyze(options.files, rule_dirs=options.rules, vmcore=options.vmcore, vmlinux=options.vmlinux)
    if options.why_not:
        from .api import why_not

        try:
            print(why_not(report, options.why_not))
        except KeyError as exc:
            raise UsageError(f"snp-triage: {exc.args[0]}") from None
        return EXIT_OK
    render_report(report, options.format)
    return EXIT_FINDINGS if report.fails(options.fail_on) else EXIT_OK


def _cmd_rules(options: argparse.Namespace) -> int:
    from .rulescli import run_rules_command

    return run_rules_command(options)


def _cmd_vmcore(options: argparse.Namespace) -> int:
    from .api import analyze_vmcore
    from .render import render_report

    if not options.vmcore and not options.live:
        raise UsageError("snp-triage vmcore: give a VMCORE path or --live")
    report = analyze_vmcore(options.vmcore, vmlinux=options.vmlinux, live=options.live, logs=options.log,
                            rule_dirs=options.rules)
    render_report(report, options.format)
    return EXIT_FINDINGS if report.fails(options.fail_on) else EXIT_OK


_HANDLERS: dict[str, Callable[[argparse.Namespace], int]] = {
    "analyze": _cmd_analyze, "events": _cmd_events, "boots": _cmd_boots, "rules": _cmd_rules,
    "vmcore": _cmd_vmcore,
}
