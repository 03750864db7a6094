"""Command line: ``snp-triage [analyze] FILE...``, ``events``, ``boots``, ``rules``, ``vmcore``, ``preflight``.

Exit status: 0 nothing at or above --fail-on, 1 findings, 2 usage or input
error. Every error the user can cause ends in one line on stderr, never a
traceback; a closed output pipe is a normal end.
"""
from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Callable, Sequence

from ..errors import TriageError, UsageError
from .commands import EXIT_ERROR, EXIT_OK, HANDLERS
from .parser import COMMANDS, build_parser

__all__ = ["main"]


def _ascii_fallback() -> None:
    """Where stdout cannot encode the report's characters (LANG=C, PYTHONIOENCODING=ascii), replace
    them instead of failing: the report in ASCII with '?' for the rest beats no report."""
    for stream in (sys.stdout, sys.stderr):
        encoding = getattr(stream, "encoding", None) or "ascii"
        try:
            "\u00d7\u2013\u2014\u2192".encode(encoding)
        except (UnicodeEncodeError, LookupError):
            try:
                stream.reconfigure(errors="replace")  # type: ignore[union-attr]
            except (AttributeError, ValueError):
                pass


def main(argv: Sequence[str] | None = None) -> int:
    """The ``snp-triage`` entry point; returns the exit status."""
    args = list(sys.argv[1:] if argv is None else argv)
    _ascii_fallback()
    try:
        status = _main(args)
        sys.stdout.flush()  # a full disk shows here, not at interpreter exit
        return status
    except BrokenPipeError:
        _quiet_stdout()
        return EXIT_OK
    except OSError as exc:  # writing the output failed: a full disk, a closed terminal
        _quiet_stdout()
        print(f"snp-triage: cannot write the output: {exc.strerror or exc}", file=sys.stderr)
        return EXIT_ERROR
    except Exception as exc:  # the last line of defence: no traceback for users
        if os.environ.get("SNP_TRIAGE_DEBUG"):
            raise
        print(f"snp-triage: internal error: {type(exc).__name__}: {exc} (set SNP_TRIAGE_DEBUG=1 for details)",
              file=sys.stderr)
        return EXIT_ERROR


def _main(args: list[str]) -> int:
    try:
        return _dispatch(args)
    except BrokenPipeError:  # 'snp-triage events FILE | head': the reader is done, so are we
        _quiet_stdout()
        return EXIT_OK
    except UsageError as exc:
        print(str(exc), file=sys.stderr)
        return EXIT_ERROR
    except TriageError as exc:  # the message names the file, line or field
        print(f"snp-triage: {exc}", file=sys.stderr)
        return EXIT_ERROR
    except OSError as exc:  # writing the output failed (reading inputs raises InputError)
        _quiet_stdout()
        print(f"snp-triage: cannot write the output: {exc.strerror or exc}", file=sys.stderr)
        return EXIT_ERROR
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
    handler: Callable[[argparse.Namespace], int] = HANDLERS[command]
    return handler(options)
