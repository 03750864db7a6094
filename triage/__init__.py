"""snp-triage: diagnose AMD SEV-SNP / AMD-Vi kdump failures from console captures and vmcores.

Library use::

    import triage
    report = triage.analyze(["console.log"])
    for finding in report.findings:
        print(finding.rule_id, finding.severity, finding.title)
"""
__version__ = "0.1.0"

from .ingest import iter_events, read_capture, read_captures  # noqa: E402
from .model import SCHEMA_VERSION, Boot, Capture, Event, Frame, Line  # noqa: E402


def analyze(*args, **kwargs):
    """Parse, segment and match captures; see :func:`triage.api.analyze`."""
    from .api import analyze as _analyze

    return _analyze(*args, **kwargs)


__all__ = [
    "SCHEMA_VERSION", "Boot", "Capture", "Event", "Frame", "Line", "analyze", "iter_events",
    "read_capture", "read_captures", "__version__",
]
