"""The plain typed data that flows through the pipeline, and the shared vocabulary.

Data moves one way: ingest produces :class:`Capture` (lines -> events and
boots), the engine turns captures and rules into :class:`Finding` objects, and
the report stage wraps them in a :class:`Report`.  Each stage takes and returns
only these dataclasses, so it can be tested and replaced on its own, and the
library hands out the same objects the CLI prints.
"""
from .capture import Boot, Capture, Event, Frame, Line, PlatformFact
from .findings import Evidence, EvidenceGroup, EvidenceRole, Finding, FixRef, Verdict, VmcoreResult
from .report import CrossCheck, QualityNote, Report
from .vmcore import (CompletionWait, CwbCrossCheck, DeviceTable, Fact, GlobalFacts, IommuFacts, MachineFacts,
                     PspFacts, SkippedCheck, VmcoreFacts)
from .vocabulary import (BOOT_ENDINGS, BOOT_ROLES, COMPILER_SUFFIX, EVENT_ATTRS, FAIL_LEVELS,
                         CONFIDENCE_RANK, CONFIDENCES, KDUMP_ONLY_MESSAGES, KNOWN_MESSAGE_KINDS, LEVEL_NAMES, MESSAGE_KINDS, PLATFORM_FACTS, REPORT_KINDS, SCHEMA_VERSION,
                         SCOPES, SEVERITIES, SEVERITY_RANK, VMCORE_LOG_SUFFIX, VMCORE_NOT_CHECKED,
                         BootEnding, BootRole, Confidence, FixStatus, MessageKind, ReportKind, Scope, Severity,
                         VmcoreStatus, Vocabulary, normalize_function)

__all__ = [
    "Boot", "Capture", "Event", "Frame", "Line", "PlatformFact", "PLATFORM_FACTS", "Evidence", "EvidenceGroup", "EvidenceRole", "Finding", "FixRef",
    "Verdict", "VmcoreResult", "CrossCheck", "QualityNote", "Report", "KDUMP_ONLY_MESSAGES", "CONFIDENCES",
    "CONFIDENCE_RANK", "Confidence",
    "CompletionWait", "CwbCrossCheck", "DeviceTable", "Fact", "GlobalFacts", "IommuFacts", "MachineFacts", "PspFacts",
    "SkippedCheck", "VmcoreFacts",
    "BOOT_ENDINGS", "BOOT_ROLES", "COMPILER_SUFFIX", "EVENT_ATTRS", "FAIL_LEVELS", "KNOWN_MESSAGE_KINDS",
    "LEVEL_NAMES", "MESSAGE_KINDS", "REPORT_KINDS", "SCHEMA_VERSION", "SCOPES", "SEVERITIES", "SEVERITY_RANK",
    "VMCORE_LOG_SUFFIX", "VMCORE_NOT_CHECKED", "BootEnding", "BootRole", "FixStatus", "MessageKind",
    "ReportKind", "Scope", "Severity", "VmcoreStatus", "Vocabulary", "normalize_function",
]
