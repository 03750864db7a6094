"""snp-triage: diagnose AMD SEV-SNP / AMD-Vi kdump failures from console captures and vmcores.

Library use::

    import triage
    report = triage.analyze(["console.log"])
    for finding in report.findings:
        print(finding.rule_id, finding.severity, finding.title)

The pipeline, one package per stage (arrows point one way)::

    cli -> report -> engine -> rulepack -> model
                  \\        \\-> ingest  -> model
                   \\-> vmcore -> model

Everything here is importable without drgn; the vmcore stage loads it when used.
"""
__version__ = "0.1.0"

from .errors import GrammarError, InputError, RuleError, TriageError, UsageError, VmcoreError  # noqa: E402
from .ingest import Input, iter_events, read_capture, read_captures  # noqa: E402
from .model import (SCHEMA_VERSION, Boot, Capture, Event, Evidence, Finding, Frame, Line,  # noqa: E402
                    QualityNote, Report)
from .report import analyze, analyze_vmcore  # noqa: E402
from .rulepack import Rule, load_rules  # noqa: E402

__all__ = [
    "__version__", "SCHEMA_VERSION",
    # entry points
    "analyze", "analyze_vmcore", "read_capture", "read_captures", "iter_events", "load_rules", "Input",
    # data
    "Report", "Finding", "Evidence", "QualityNote", "Capture", "Boot", "Event", "Frame", "Line", "Rule",
    # errors
    "TriageError", "InputError", "GrammarError", "RuleError", "VmcoreError", "UsageError",
]
