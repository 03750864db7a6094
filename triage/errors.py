"""Every error snp-triage raises on purpose, under one base class.

The CLI catches :class:`TriageError` and prints its one-line message with exit
status 2; anything else reaching the top is a bug.  Library users catch the
same classes.
"""
from __future__ import annotations

from pathlib import Path

__all__ = ["TriageError", "InputError", "TruncatedInput", "GrammarError", "RuleError", "VmcoreError", "UsageError"]


class TriageError(Exception):
    """Base of all expected errors; ``str()`` is one line for the user."""


class InputError(TriageError):
    """An input cannot be read as a console capture (the message names it)."""


class TruncatedInput(InputError):
    """A compressed input ends early or carries garbage: what came before was read.

    ``readable_bytes`` is how much text it gave.  The pipeline reports the
    readable part and says so; the exit status is still 2.
    """

    def __init__(self, message: str, readable_bytes: int = 0) -> None:
        super().__init__(message)
        self.readable_bytes = readable_bytes


class GrammarError(TriageError):
    """A grammar file is missing or broken (the message names the file)."""


class VmcoreError(TriageError):
    """A vmcore (or the live kernel) could not be opened; the message is one line."""


class UsageError(TriageError):
    """Bad command-line arguments."""


class RuleError(TriageError, ValueError):
    """A rule file is invalid.  ``str()`` reads ``file:line: field: message``."""

    def __init__(self, message: str, file: str | Path | None = None, line: int | None = None,
                 field: str | None = None) -> None:
        self.message = message
        self.file = str(file) if file is not None else None
        self.line = line
        self.field = field
        where = ":".join(str(x) for x in (self.file, self.line) if x is not None)
        text = message
        if field:
            text = f"{field}: {text}"
        if where:
            text = f"{where}: {text}"
        super().__init__(text)
