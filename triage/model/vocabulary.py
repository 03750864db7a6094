"""The words every stage shares: kinds, levels, severities, roles, endings, statuses.

One home for each: the grammars, the rule schema, the engine and the report
all take these names from here, so a new role or severity is added once.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Literal, get_args

#: Version of the JSON shapes printed by ``events``, ``boots`` and the report (README: JSON).
#: 2: findings carry confidence; sources input_error; boots reordered_lines; vmcore error.
#: 3: boots carry ``platform`` facts; findings carry ``platform`` (the facts that decided).
SCHEMA_VERSION = 3

#: Kernel report kinds (multi-line structures assembled from many lines).
ReportKind = Literal["kernel_panic", "oops", "bug", "warning", "lockup", "call_trace"]
REPORT_KINDS: tuple[str, ...] = get_args(ReportKind)

#: Kinds of one-line known messages; their message ids are the rule names of
#: the grammar of the same name (``grammars/amd_vi.lark`` ...).
MessageKind = Literal["amd_vi", "sev", "iommu_event", "kernel_message", "boot_banner", "command_line", "platform",
                      "kdump_tool"]
MESSAGE_KINDS: tuple[str, ...] = get_args(MessageKind)

#: Kinds whose message ids say what happened (evidence is grouped by id).
KNOWN_MESSAGE_KINDS = ("amd_vi", "sev", "iommu_event", "kernel_message", "platform", "kdump_tool")

#: printk levels by number (``pr_emerg`` = 0 ... ``pr_debug`` = 7).
LEVEL_NAMES = ("emerg", "alert", "crit", "err", "warning", "notice", "info", "debug")

#: Finding severities, most severe first; the rank is the index.
Severity = Literal["critical", "error", "warning", "info"]
SEVERITIES: tuple[str, ...] = get_args(Severity)
SEVERITY_RANK = {name: rank for rank, name in enumerate(SEVERITIES)}
#: ``--fail-on`` choices: a severity, or never.
FAIL_LEVELS: tuple[str, ...] = SEVERITIES + ("never",)

#: What a boot was: the kernel that (usually) crashed, the kdump kernel after it.
BootRole = Literal["first", "kdump", "unknown"]
BOOT_ROLES: tuple[str, ...] = get_args(BootRole)

#: How a boot's log ends.
BootEnding = Literal["panic", "reboot", "cut off", "next boot"]
BOOT_ENDINGS: tuple[str, ...] = get_args(BootEnding)

#: Where a rule alternative looks: one boot, a whole source, a boot and the next.
Scope = Literal["boot", "source", "next_boot"]
SCOPES: tuple[str, ...] = get_args(Scope)

#: How sure a finding is (declared per rule alternative, never computed from rule ids):
#: confirmed: the chain and its context are in the capture; likely: its distinctive part is,
#: its context (the boot role, the first step) is missing or inferred; possible: one symptom.
Confidence = Literal["confirmed", "likely", "possible"]
CONFIDENCES: tuple[str, ...] = get_args(Confidence)
CONFIDENCE_RANK = {name: rank for rank, name in enumerate(CONFIDENCES)}

#: Facts about the machine a boot ran on, and the values each may take (``grammars/platform.yaml``
#: says which messages show them; rules require or exclude them in a ``platform:`` block).
#: ``None`` as the value list: free text or a number (``cpu_model``, ``cpu_family``, ``hypervisor``).
PLATFORM_FACTS: dict[str, tuple[str, ...] | None] = {
    "arch": ("x86_64", "arm64"),
    "cpu_vendor": ("AMD", "Intel", "Hygon", "other"),
    "cpu_family": None,
    "cpu_model": None,
    "board": ("server", "client"),
    "iommu": ("amd_vi", "dmar", "smmu"),
    "snp": ("true",),
    "hypervisor": None,
}

#: What the vmcore said about a finding.
VmcoreStatus = Literal["confirmed", "contradicted", "incomplete", "not checked (no vmcore)"]
VMCORE_NOT_CHECKED: VmcoreStatus = "not checked (no vmcore)"

#: A fix verdict.
FixStatus = Literal["fixed", "not fixed", "unknown"]

#: Common attributes of every event (rules address them like fields).
EVENT_ATTRS = ("kind", "source", "boot", "line", "end_line", "timestamp", "level", "caller",
               "subsystem", "message", "text")

#: Suffixes the compiler adds to a function's symbol (``foo.isra.0``, ``foo.cold``).
COMPILER_SUFFIX = re.compile(r"(?:\.(?:part|isra|constprop|cold|llvm|lto_priv)(?:\.\d+)?)+$")

#: amd_vi messages only a kdump (crash) kernel prints: the IOMMU was found
#: enabled and is_kdump_kernel() was true (drivers/iommu/amd/init.c,
#: early_amd_iommu_init() / copy_device_table()).  A boot holding one of them
#: is a kdump boot even without a banner or command line.
KDUMP_ONLY_MESSAGES = frozenset({
    "translation_pre_enabled_copy", "translation_pre_enabled_reuse", "dev_table_copied",
    "dev_table_copy_failed", "dev_table_reused", "dev_table_reuse_failed", "dev_table_remap_failed",
    "reuse_cwb", "reuse_cmd_buf", "reuse_evt_buf",
})

#: What one input path is (triage/ingest/layouts.py): a lone capture file, a crash directory written by
#: kdump-utils (Fedora/RHEL) or kdump-tools (Debian/Ubuntu), or a sosreport (tree or tarball).
CaptureSetKind = Literal["plain file", "kdump-fedora", "kdump-debian", "sosreport"]
CAPTURE_SET_KINDS: tuple[str, ...] = get_args(CaptureSetKind)

#: Source name given to a kernel log read out of a vmcore.
VMCORE_LOG_SUFFIX = "(kernel log)"


def normalize_function(name: str) -> str:
    """``foo.isra.0`` -> ``foo``: the symbol as written in the source."""
    return COMPILER_SUFFIX.sub("", name)


@dataclass(frozen=True)
class Vocabulary:
    """What the parser can emit: message ids and field names per event kind.

    Built from the grammars by :func:`triage.ingest.vocabulary`; the rule
    linter checks rules against it.
    """

    messages: dict[str, frozenset[str | None]] = field(default_factory=dict)
    fields: dict[str, frozenset[str]] = field(default_factory=dict)
