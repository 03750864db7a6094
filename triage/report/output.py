"""Print a report in the format asked for."""
from __future__ import annotations

import sys

from ..model import Report
from .jsonout import write_report_json
from .markdown import report_markdown
from .render import console, report_renderable

__all__ = ["render_report", "FORMATS"]

#: --format choices
FORMATS = ("rich", "json", "markdown")


def render_report(report: Report, fmt: str = "rich") -> None:
    """Write the report to stdout as rich text, JSON or Markdown."""
    if fmt == "json":
        write_report_json(report, sys.stdout)
    elif fmt == "markdown":
        sys.stdout.write(report_markdown(report) + "\n")
    else:
        con = console()
        con.print(report_renderable(report, con.width))
