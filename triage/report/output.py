"""Print a report in the format asked for."""
from __future__ import annotations

import sys

from ..model import Report
from .jsonout import report_json
from .markdown import report_markdown
from .render import console, report_renderable

__all__ = ["render_report", "FORMATS"]

#: --format choices
FORMATS = ("rich", "json", "markdown", "html")


def render_report(report: Report, fmt: str = "rich") -> None:
    """Write the report to stdout as rich text, JSON, Markdown or HTML.

    HTML is written as UTF-8 bytes whatever the locale: the page declares that charset, and a
    replaced character in a file is worse than in a terminal.
    """
    if fmt == "html":
        from .htmlreport import report_html  # only this format needs it

        sys.stdout.flush()
        sys.stdout.buffer.write(report_html(report).encode("utf-8", "replace"))
        sys.stdout.buffer.flush()
    elif fmt == "json":
        sys.stdout.write(report_json(report) + "\n")
    elif fmt == "markdown":
        sys.stdout.write(report_markdown(report) + "\n")
    else:
        con = console()
        con.print(report_renderable(report, con.width))
