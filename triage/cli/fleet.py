"""``snp-triage fleet scan|report``: many captures into a store, and buckets out of it."""
from __future__ import annotations

import argparse
import sys
import time

from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

from ..report.render import console

__all__ = ["add_fleet_parser", "run_fleet_command"]

EXIT_OK, EXIT_FAILED, EXIT_ERROR = 0, 1, 2
_DB_HELP = ("the store: a file path (SQLite) or a postgresql:// URL (default: snp-triage-fleet.db in the "
            "current directory)")


def add_fleet_parser(parsers: dict, parser_class) -> None:
    fleet = parser_class(prog="snp-triage fleet", description="Scan many captures into a store; report buckets.")
    sub = fleet.add_subparsers(dest="action", required=True, parser_class=parser_class)
    scan = sub.add_parser("scan", help="diagnose every capture under the PATHs into the store")
    scan.add_argument("paths", nargs="+", metavar="PATH",
                      help="directories (recursive), globs, tar archives, crash directories, sosreports, files")
    scan.add_argument("--db", metavar="STORE", help=_DB_HELP)
    scan.add_argument("-j", "--jobs", type=int, metavar="N", help="worker processes (default: the core count)")
    scan.add_argument("--scheduler", metavar="tcp://HOST:PORT",
                      help="run on this Dask cluster instead of a local pool (pip install 'snp-triage[dask]')")
    scan.add_argument("--rules", action="append", default=[], metavar="DIR", help="add a custom rule pack")
    scan.add_argument("--exclude", action="append", default=[], metavar="GLOB",
                      help="also pass over files whose name matches (documents, dumps and images are by default)")
    scan.add_argument("--quiet", action="store_true", help="no progress bar (there is none when stderr is not a terminal)")
    report = sub.add_parser("report", help="buckets: counts, first/last seen, hosts, kernels, fix verdicts")
    report.add_argument("--db", metavar="STORE", help=_DB_HELP)
    report.add_argument("--since", metavar="AGE", help="only captures written in the last AGE (30m, 12h, 7d, 4w)")
    report.add_argument("--bucket", metavar="ID", help="drill down into one bucket (an id or its unique prefix)")
    report.add_argument("--host", metavar="H", help="only this host's captures")
    report.add_argument("--overrides", metavar="FILE", help="YAML rules that merge or split buckets, attach tickets")
    report.add_argument("--format", choices=("rich", "json", "markdown", "html"), default="rich",
                        help="rich (terminal), json, markdown, html (one self-contained page)")
    report.add_argument("--now", type=float, help=argparse.SUPPRESS)  # fixed clock for golden tests
    parsers["fleet"] = fleet


def run_fleet_command(options: argparse.Namespace) -> int:
    from ..errors import UsageError

    if options.action == "scan":
        if options.jobs is not None and options.jobs < 1:
            raise UsageError("snp-triage fleet scan: -j must be 1 or more")
        return _scan(options)
    return _report(options)


def _scan(options: argparse.Namespace) -> int:
    from ..fleet.names import DEFAULT_EXCLUDES
    from ..fleet.scan import scan
    from ..fleet.store import open_store

    store = open_store(options.db)
    progress = _Bar(not options.quiet)
    try:
        summary = scan(options.paths, store, rule_dirs=options.rules, jobs=options.jobs, scheduler=options.scheduler,
                       excludes=DEFAULT_EXCLUDES + tuple(options.exclude), progress=progress.update)
    except KeyboardInterrupt:
        progress.close()
        print("snp-triage fleet scan: interrupted; what was diagnosed is stored, the next scan resumes",
              file=sys.stderr)
        return 130
    finally:
        progress.close()
        store.close()
    print(summary.line())
    for failure in summary.failures[:5]:
        print(f"  failed: {failure}")
    if summary.failed > 5:
        print(f"  ... {summary.failed - 5} more: 'snp-triage fleet report' lists every reason")
    return EXIT_OK


def _report(options: argparse.Namespace) -> int:
    from ..fleet.buckets import build_report, parse_since
    from ..fleet.overrides import load_overrides
    from ..fleet.render import render_fleet
    from ..fleet.store import open_store

    since = parse_since(options.since)
    overrides = load_overrides(options.overrides) if options.overrides else []
    store = open_store(options.db, create=False)
    try:
        report = build_report(store, since=since, host=options.host, bucket=options.bucket, overrides=overrides,
                              now=options.now)
    finally:
        store.close()
    render_fleet(report, options.format)
    return EXIT_OK


class _Bar:
    """captures/s and time left on stderr, only on a terminal."""

    def __init__(self, enabled: bool) -> None:
        self.enabled = enabled and sys.stderr.isatty()
        self._progress: Progress | None = None
        self._task = None
        self._started = time.monotonic()

    def update(self, done: int, total: int) -> None:
        if not self.enabled:
            return
        if self._progress is None:
            self._progress = Progress(TextColumn("scanning"), BarColumn(), MofNCompleteColumn(),
                                      TextColumn("{task.fields[rate]:.1f} captures/s"), TimeRemainingColumn(),
                                      console=console(stderr=True), transient=True)
            self._progress.start()
            self._task = self._progress.add_task("scan", total=total, rate=0.0)
        elapsed = max(time.monotonic() - self._started, 1e-6)
        self._progress.update(self._task, completed=done, total=total, rate=done / elapsed)

    def close(self) -> None:
        if self._progress is not None:
            self._progress.stop()
            self._progress = None
