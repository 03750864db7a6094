"""The report stage: findings fused with vmcore facts and capture quality, for people and tools.

``analyze``     the library entry points: analyze(), analyze_vmcore(), why_not()
``crosscheck``  vmcore facts against what the consoles printed
``quality``     what a capture lacks and what to collect next
``render``      rich renderables (boot table, finding panels, vmcore tables)
``markdown``    the report as Markdown
``jsonout``     the report as JSON, events and boots as JSON Lines
``htmlkit``     a page kit for self-contained HTML (escaping, cards, tables, log lines, timeline);
                ``htmlstyle`` its stylesheet, ``htmlchart`` counts over time as inline SVG
``htmlreport``  the report as one HTML page (``htmlvmcore``: its vmcore section)
``output``      print a report in the format asked for

Depends on :mod:`triage.engine`, :mod:`triage.rulepack`, :mod:`triage.ingest`,
:mod:`triage.vmcore` and :mod:`triage.model`.
"""
from ..model import Report
from .analyze import analyze, analyze_vmcore, why_not
from .output import FORMATS, render_report

__all__ = ["Report", "analyze", "analyze_vmcore", "why_not", "render_report", "FORMATS"]
