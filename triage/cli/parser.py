"""The command line's options: one argparse parser per command, every option with its help."""
from __future__ import annotations

import argparse

from .. import __version__
from ..errors import UsageError
from ..model import FAIL_LEVELS

__all__ = ["COMMANDS", "build_parser"]

COMMANDS = ("analyze", "events", "boots", "rules", "vmcore")
_FORMATS = ("rich", "json", "markdown")


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
    analyze.add_argument("--format", choices=_FORMATS, default="rich")
    analyze.add_argument("--fail-on", choices=FAIL_LEVELS, default="error",
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
    vmcore.add_argument("--format", choices=_FORMATS, default="rich")
    vmcore.add_argument("--fail-on", choices=FAIL_LEVELS, default="error")
    vmcore.add_argument("--rules", action="append", default=[], metavar="DIR")
    parsers["vmcore"] = vmcore
    return parsers
