"""This boot's kernel log, read by the project's own ingest pipeline and diagnosed by its rule packs.

Where the log comes from, first found wins: ``--dmesg FILE`` (a ``dmesg``
or ``journalctl -k`` capture); a sosreport's ``sos_commands/kernel/dmesg``;
``/var/log/dmesg`` (written at boot by some distributions); on a live host,
``/dev/kmsg``.  The facts are message ids of ``grammars/amd_vi.lark`` and
``grammars/sev.lark`` (no pattern of this module's own):

* IOMMU SNP: ``snp_enabled`` ("IOMMU SNP support enabled." 6.9+, "SNP enabled"
  6.3-6.8), ``snp_not_supported`` / ``snp_too_late`` (SNP cleared for this boot);
* EFR SNP support: ``global_efr`` bit 63 (``FEATURE_SNP``) or
  ``extended_features`` naming ``SNP`` (drivers/iommu/amd/init.c);
* PSP: ``api_version`` with ``snp`` ("SEV-SNP API:1.55 build:24": SNP_INIT done,
  and the SNP firmware version), ``snp_init_failed``, ``psp_cmd_timeout``
  (``psp_dead``: no PSP command, SNP_SHUTDOWN_EX included, runs after it);
* KVM: ``kvm_snp_enabled`` ("kvm_amd: SEV-SNP enabled (ASIDs 1 - 252)");
* RMP: ``rmp_table_range`` / ``rmp_segmented``;
* the boot's platform facts (``Boot.platform``, grammars/platform.yaml: CPU vendor, IOMMU, "SNP seen"),
  shown as they are and used for the CPU vendor when /proc/cpuinfo is not in the tree.

The last boot of the log is "this boot"; findings of the whole log are kept
(an earlier boot's failed kdump in a journal is evidence too).
"""
from __future__ import annotations

from dataclasses import dataclass, field

from ..engine import match
from ..ingest import Input, read_capture
from ..model import Capture, Event, Finding
from ..rulepack import Rule
from .model import Fact
from .reader import RootReader

__all__ = ["LogFacts", "read_log", "DMESG_PATHS", "EFR_SNP_BIT"]

#: sosreport's dmesg (sos/report/plugins/kernel.py) and a boot-time copy
DMESG_PATHS = ("/sos_commands/kernel/dmesg", "/var/log/dmesg")
#: EFR bit 63, FEATURE_SNP (drivers/iommu/amd/amd_iommu_types.h)
EFR_SNP_BIT = 1 << 63
#: the most of one dmesg file read (a sosreport's dmesg is a few MiB at most)
_LOG_LIMIT = 64 << 20


@dataclass
class LogFacts:
    """What this boot's log says about SNP, the IOMMU and the PSP."""

    source: str | None = None
    facts: list[Fact] = field(default_factory=list)
    capture: Capture | None = None
    iommu_snp: bool | None = None
    iommu_snp_line: str = ""
    efr_snp: bool | None = None
    snp_api: tuple[int, int, int] | None = None  # (major, minor, build) of the SNP firmware
    sev_api: tuple[int, int, int] | None = None
    snp_init_failed: bool = False
    psp_dead: bool = False
    kvm_snp: bool | None = None
    rmp: bool = False
    platform: dict[str, tuple[str, str]] = field(default_factory=dict)  # the boot's platform facts: value, where
    findings: list[Finding] = field(default_factory=list)

    def where(self, event: Event) -> str:
        return f"{self.source}:{event.line}"

    def add(self, name: str, value, source: str) -> None:
        if value is not None:
            self.facts.append(Fact(name, value, source))


def read_log(reader: RootReader, files: list[str], rules: list[Rule]) -> LogFacts:
    """The log's facts and findings; empty LogFacts when no log could be read."""
    log = LogFacts()
    inputs: list[Input] = []
    if files:
        inputs = [Input.from_arg(f) for f in files]
        for path in DMESG_PATHS + ("/dev/kmsg",):
            reader.note(path, "not applicable", "--dmesg given")
    else:
        for path in DMESG_PATHS:
            if reader.live and path.startswith("/sos_commands/"):
                continue  # a sosreport's path: a live host has none
            if inputs:
                reader.note(path, "not applicable", f"the log was read from {inputs[0].name}")
                continue
            data = reader.read_bytes(path, limit=_LOG_LIMIT)
            if data is not None:
                inputs.append(Input(path, None, data))
        if inputs:
            reader.note("/dev/kmsg", "not applicable", f"the log was read from {inputs[0].name}")
        else:
            text = reader.kmsg()
            if text is not None:
                inputs.append(Input.from_text(text, "/dev/kmsg"))
    if not inputs:
        return log
    captures = [read_capture(item) for item in inputs]
    log.source = ", ".join(c.source for c in captures)
    log.capture = captures[-1]
    log.findings = match(captures, rules)
    _scan(log, captures[-1])
    return log


def _scan(log: LogFacts, capture: Capture) -> None:
    last = capture.boots[-1].index if capture.boots else 0
    # the platform facts the ingest stage keeps per boot (grammars/platform.yaml): one home for them
    for name, fact in (capture.boots[-1].platform.items() if capture.boots else ()):
        where = f"{log.source}:{fact.line}" + (" (inferred)" if fact.inferred else "")
        log.platform[name] = (str(fact.value), where)
        log.add(f"log.platform.{name}", str(fact.value), where)
    for event in capture.events:
        if event.boot != last:
            continue
        name = event.message
        if event.kind == "amd_vi":
            if name == "snp_enabled":
                log.iommu_snp, log.iommu_snp_line = True, log.where(event)
            elif name in ("snp_not_supported", "snp_too_late"):
                log.iommu_snp, log.iommu_snp_line = False, log.where(event)
            elif name == "global_efr" and isinstance(event.get("efr"), int):
                log.efr_snp = bool(event.get("efr") & EFR_SNP_BIT)
                log.add("iommu.efr", f"{event.get('efr'):#x}", log.where(event))
            elif name == "extended_features" and log.efr_snp is not True:
                features = str(event.get("features") or "").split()
                log.efr_snp = "SNP" in features
        elif event.kind == "sev":
            if name == "api_version":
                version = (int(event.get("api_major")), int(event.get("api_minor")), int(event.get("build")))
                if event.get("snp"):
                    log.snp_api = version
                    log.add("psp.snp_api", "%d.%d build %d" % version, log.where(event))
                else:
                    log.sev_api = version
                    log.add("psp.sev_api", "%d.%d build %d" % version, log.where(event))
            elif name == "snp_init_failed":
                log.snp_init_failed = True
                log.add("psp.snp_init_failed", event.text[0].strip(), log.where(event))
            elif name == "psp_cmd_timeout":
                log.psp_dead = True
                log.add("psp.dead", event.text[0].strip(), log.where(event))
            elif name == "kvm_snp_enabled":
                log.kvm_snp = True
                log.add("kvm_amd.snp_asids", f"{event.get('asid_first')}-{event.get('asid_last')}", log.where(event))
            elif name in ("rmp_table_range", "rmp_segmented"):
                log.rmp = True
    log.add("iommu.snp", log.iommu_snp, log.iommu_snp_line)
    log.add("iommu.efr_snp", log.efr_snp, log.source or "")
    log.add("rmp.table", log.rmp or None, log.source or "")
