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

import importlib  # noqa: E402
from typing import Any  # noqa: E402

from .errors import GrammarError, InputError, RuleError, TriageError, UsageError, VmcoreError  # noqa: E402

#: The rest of the API is imported on first use (PEP 562): ``import triage`` stays cheap, which
#: matters where it is imported on every start, as drgn does with its plugins (triage.drgn_plugin).
_LAZY = {
    **dict.fromkeys(("Input", "iter_events", "read_capture", "read_captures"), ".ingest"),
    **dict.fromkeys(("SCHEMA_VERSION", "Boot", "Capture", "Event", "Evidence", "Finding", "Frame", "Line",
                     "QualityNote", "Report"), ".model"),
    **dict.fromkeys(("analyze", "analyze_vmcore"), ".report"),
    **dict.fromkeys(("Rule", "load_rules"), ".rulepack"),
}

__all__ = [
    "__version__", "SCHEMA_VERSION",
    # entry points
    "analyze", "analyze_vmcore", "read_capture", "read_captures", "iter_events", "load_rules", "Input",
    # data
    "Report", "Finding", "Evidence", "QualityNote", "Capture", "Boot", "Event", "Frame", "Line", "Rule",
    # errors
    "TriageError", "InputError", "GrammarError", "RuleError", "VmcoreError", "UsageError",
]


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'triage' has no attribute {name!r}")
    value = getattr(importlib.import_module(module, __name__), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_LAZY))
