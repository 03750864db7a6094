"""The command line's options: one argparse parser per command, every option with its help."""
from __future__ import annotations

import argparse

from .. import __version__
from ..errors import UsageError
from ..model import FAIL_LEVELS, MESSAGE_KINDS, REPORT_KINDS
from ..preflight.model import FAIL_ON
from .fleet import add_fleet_parser

__all__ = ["COMMANDS", "EVENT_KINDS", "PREFLIGHT_FAIL_ON", "build_parser"]

COMMANDS = ("analyze", "events", "boots", "rules", "vmcore", "preflight", "fleet")
_FORMATS = ("rich", "json", "markdown", "html")
#: what ``events --kind`` accepts: every kind the parser emits
EVENT_KINDS = tuple(REPORT_KINDS) + tuple(MESSAGE_KINDS) + ("message",)
#: what ``preflight --fail-on`` accepts
PREFLIGHT_FAIL_ON = FAIL_ON

USAGE = ("snp-triage [analyze] FILE... [options]\n"
         "       snp-triage events FILE... | boots FILE... | rules list|show|lint|test | vmcore VMCORE\n"
         "       snp-triage preflight [--root DIR] | fleet scan PATH... | fleet report")
EPILOG = ("commands: analyze (the default: the diagnosis), events (JSON Lines), boots (the boots of each "
          "capture), rules (the rule packs), vmcore (a crashed kernel's memory), preflight (will this host's kdump "
          "work?), fleet (many captures: scan into a store, report buckets); 'snp-triage COMMAND --help'.  "
          "Exit status: 0 no finding at or above --fail-on, 1 findings, 2 usage or input error (also when an "
          "input could be read only in part), 3 every input was empty.")
_FORMAT_HELP = ("output: rich (a terminal report), json (schema in the README), markdown (for a bug or a mail), "
                "html (one self-contained page: no script, loads nothing)")
_FAIL_HELP = "lowest severity that makes the exit status 1 (default: error; never: always 0)"


class _Parser(argparse.ArgumentParser):
    def error(self, message: str):  # argparse prints usage and exits 2 itself; keep it one line
        raise UsageError(f"{self.prog}: {message}")


def _inputs(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("files", nargs="+", metavar="FILE",
                        help="console captures: paths, '-' for stdin; .gz .xz .bz2 .zst are read directly; a "
                             "kdump crash directory or sosreport (directory or tarball) is read as its logs and dump")


def build_parser() -> dict[str, argparse.ArgumentParser]:
    parsers: dict[str, argparse.ArgumentParser] = {}
    analyze = _Parser(prog="snp-triage", usage=USAGE, epilog=EPILOG,
                      description="Diagnose SEV-SNP / AMD-Vi kdump failures from console captures.")
    _inputs(analyze)
    analyze.add_argument("--format", choices=_FORMATS, default="rich", help=_FORMAT_HELP)
    analyze.add_argument("--fail-on", choices=FAIL_LEVELS, default="error", help=_FAIL_HELP)
    analyze.add_argument("--rules", action="append", default=[], metavar="DIR",
                         help="add a custom rule pack (repeatable; a rule replacing a shipped one needs override: true)")
    analyze.add_argument("--why-not", metavar="RULE",
                         help="explain which step of RULE did not match (exit 0 if it matched, 1 if not)")
    analyze.add_argument("--vmcore", metavar="VMCORE", help="also inspect this vmcore (see 'snp-triage vmcore')")
    analyze.add_argument("--vmlinux", metavar="FILE",
                         help="vmlinux with debug info for --vmcore or for the dump of a crash directory")
    analyze.add_argument("--quiet", action="store_true", help="no progress bar on stderr (there is none when piped)")
    analyze.add_argument("--version", action="version", version=f"snp-triage {__version__}")
    parsers["analyze"] = analyze

    events = _Parser(prog="snp-triage events", description="Print structured events as JSON Lines.")
    _inputs(events)
    events.add_argument("--kind", action="append", default=[], choices=EVENT_KINDS, metavar="KIND",
                        help=f"only events of this kind (repeatable): {', '.join(EVENT_KINDS)}")
    events.add_argument("--plain", action="store_true",
                        help="also print every other line as a 'message' event (slow, complete)")
    parsers["events"] = events

    boots = _Parser(prog="snp-triage boots", description="Show the boots found in each capture.")
    _inputs(boots)
    boots.add_argument("--json", action="store_true", help="JSON Lines instead of a table")
    parsers["boots"] = boots

    rules = _Parser(prog="snp-triage rules", description="List, show, lint and test rule packs.")
    sub = rules.add_subparsers(dest="action", required=True, parser_class=_Parser)
    listing = sub.add_parser("list", help="every rule: id, severity, title, fixes")
    listing.add_argument("--rules", action="append", default=[], metavar="DIR", help="add a custom rule pack")
    show = sub.add_parser("show", help="one rule's file, as written")
    show.add_argument("rule_id", metavar="ID")
    show.add_argument("--rules", action="append", default=[], metavar="DIR", help="add a custom rule pack")
    for name, what in (("lint", "check rule files"), ("test", "run every rule's fixtures against their golden files")):
        p = sub.add_parser(name, help=what)
        p.add_argument("dirs", nargs="*", metavar="DIR", help="rule packs (default: the shipped pack)")
        if name == "test":
            p.add_argument("--update", action="store_true",
                           help="rewrite each fixture's <name>.expected.yaml from this run (review the diff)")
    parsers["rules"] = rules

    vmcore = _Parser(prog="snp-triage vmcore", description="Read AMD IOMMU and SEV-SNP state from a vmcore with drgn.")
    vmcore.add_argument("vmcore", nargs="?", metavar="VMCORE",
                        help="ELF, kdump-compressed or flattened vmcore, or a kdump crash directory (or its tarball): "
                             "its dump and saved logs")
    vmcore.add_argument("--vmlinux", metavar="FILE",
                        help="vmlinux with debug info (default: the distribution's paths for the dump's release)")
    vmcore.add_argument("--live", action="store_true", help="inspect the running kernel instead (needs root)")
    vmcore.add_argument("--log", action="append", default=[], metavar="FILE",
                        help="console captures to diagnose with it (repeatable)")
    vmcore.add_argument("--format", choices=_FORMATS, default="rich", help=_FORMAT_HELP)
    vmcore.add_argument("--fail-on", choices=FAIL_LEVELS, default="error", help=_FAIL_HELP)
    vmcore.add_argument("--rules", action="append", default=[], metavar="DIR", help="add a custom rule pack")
    parsers["vmcore"] = vmcore

    preflight = _Parser(prog="snp-triage preflight",
                        description="Before the crash: will this SEV-SNP host's kdump work? Reads the host (or a "
                                    "collected tree) read-only. Exit status: 0 nothing at or above --fail-on, 1 a "
                                    "check fails or is at risk, 2 usage error or unreadable --root.")
    preflight.add_argument("--root", default="/", metavar="DIR",
                           help="read a sosreport or a copied /proc, /sys, /etc tree instead of this host")
    preflight.add_argument("--dmesg", action="append", default=[], metavar="FILE",
                           help="this boot's kernel log ('dmesg' or 'journalctl -k' output; default: the tree's "
                                "sos_commands/kernel/dmesg or /var/log/dmesg, else /dev/kmsg on a live host)")
    preflight.add_argument("--format", choices=_FORMATS[:3], default="rich", help="output: rich, json or markdown")
    preflight.add_argument("--fail-on", choices=PREFLIGHT_FAIL_ON, default="risk",
                           help="lowest check verdict that makes the exit status 1 (default: risk; never: always 0)")
    preflight.add_argument("--rules", action="append", default=[], metavar="DIR", help="add a custom rule pack")
    parsers["preflight"] = preflight
    add_fleet_parser(parsers, _Parser)
    return parsers
