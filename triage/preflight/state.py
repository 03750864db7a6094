"""What the checks share: the host's SNP state, the fix table's words for a set of fixes, the rules they cite.

SNP counts as on when any of these says so: the PSP's "SEV-SNP API:" line
(SNP_INIT done), "kvm_amd: SEV-SNP enabled", ``kvm_amd.sev_snp=Y``, or the
IOMMU's "IOMMU SNP support enabled." (SNP_INIT can then run whenever
kvm_amd loads: from about 6.16 SNP is initialised by KVM, not at PSP probe).
It counts as off when the IOMMU driver cleared it for this boot ("SNP: ...
SNP cannot be supported"), when the CPU flags lack ``sev_snp``, or when the
CPU family is older than Zen 3 (19h): Rome (17h) has SEV and SEV-ES only.
"""
from __future__ import annotations

from dataclasses import dataclass, field

from ..model import FixRef
from ..rulepack import Rule
from .dmesg import LogFacts
from .hostfacts import HostFacts
from .kdump import CrashKernel

__all__ = ["SnpState", "snp_state", "fix_text", "Inputs", "ZEN3_FAMILY"]

#: the first CPU family with SEV-SNP (Zen 3, EPYC 7003 "Milan"); Zen 4/5 are 19h and 1Ah
ZEN3_FAMILY = 0x19


@dataclass
class SnpState:
    """Whether SNP is on, and the facts that say so."""

    state: str  # on | off | unknown
    on: list[str] = field(default_factory=list)
    off: list[str] = field(default_factory=list)

    @property
    def active(self) -> bool:
        return self.state == "on"


@dataclass
class Inputs:
    """Everything the checks read."""

    host: HostFacts
    crash: CrashKernel
    log: LogFacts
    rules: dict[str, Rule]
    snp: SnpState


def snp_state(host: HostFacts, log: LogFacts) -> SnpState:
    st = SnpState("unknown")
    if log.snp_api is not None:
        st.on.append("the PSP initialised SNP (SEV-SNP API:%d.%d build:%d)" % log.snp_api)
    if log.kvm_snp:
        st.on.append("kvm_amd enabled SEV-SNP ASIDs")
    if host.kvm_snp:
        st.on.append("kvm_amd.sev_snp=Y")
    if log.iommu_snp:
        st.on.append("the IOMMU driver enabled SNP support (" + log.iommu_snp_line + ")")
    if log.iommu_snp is False:
        st.off.append("the IOMMU driver cleared SNP for this boot (" + log.iommu_snp_line + ")")
    if host.flag("sev_snp") is False:
        st.off.append("the CPU flags in /proc/cpuinfo lack sev_snp")
    if host.family is not None and host.amd and host.family < ZEN3_FAMILY:
        st.off.append(f"CPU family {host.family:#x} has no SEV-SNP (it starts with Zen 3, family 0x19)")
    if log.iommu_snp is False or (st.off and not st.on):
        st.state = "off"
    elif st.on:
        st.state = "on"
    return st


def fix_text(fixes: list[FixRef]) -> str:
    """``f32fe7cb0198, 38e5f33ee359 (mainline 6.18; stable 6.17.8)``: the fix table's releases per commit."""
    groups: dict[tuple, list[str]] = {}
    for fix in fixes:
        key = (fix.mainline, fix.stable, fix.unconfirmed)
        groups.setdefault(key, []).append(fix.commit[:12] if fix.commit else f'"{fix.subject}"')
    parts = []
    for (mainline, stable, unconfirmed), names in groups.items():
        where = [f"mainline {mainline}"] if mainline else []
        if stable:
            where.append("stable " + ", ".join(stable))
        text = ", ".join(names) + (f" ({'; '.join(where)})" if where else "")
        parts.append(text + (" [releases not confirmed]" if unconfirmed else ""))
    return "; ".join(parts)
