"""What the vmcore stage read from a crashed kernel: plain, typed facts.

:class:`VmcoreFacts` is what :func:`triage.vmcore.inspect` returns.  Every value
in it is a :class:`Fact`: the value, where it came from (a struct field, a
global, or a derivation) and, when it could not be had, why.  These classes
carry data only; the drgn code that fills them lives in :mod:`triage.vmcore`,
so the rest of the tool (engine, report, library users) can take and build
them without drgn installed.
"""
from __future__ import annotations

from dataclasses import dataclass, field, fields, is_dataclass
from typing import Any, Literal, get_args

__all__ = [
    "Fact", "CompletionWait", "IommuFacts", "DeviceTable", "GlobalFacts", "PspFacts", "MachineFacts",
    "SkippedCheck", "VmcoreFacts", "CwbCrossCheck",
    "CmdSemState", "CMD_SEM_STATES", "VmcoreCheck", "VMCORE_CHECKS", "CwbVerdict", "CWB_VERDICTS",
]

#: What ``*cmd_sem`` (last value the IOMMU stored) says against ``cmd_sem_val``
#: (last value the driver issued): the value of :attr:`IommuFacts.cmd_sem_state`.
CmdSemState = Literal["no completion wait issued", "caught up", "never written by the IOMMU",
                      "behind (completion wait outstanding or timed out)"]
CMD_SEM_STATES: tuple[str, ...] = get_args(CmdSemState)

#: Names of the groups of checks that can be skipped (:attr:`SkippedCheck.check`).
VmcoreCheck = Literal["machine", "globals", "iommus", "device_tables", "psp", "kernel log"]
VMCORE_CHECKS: tuple[str, ...] = get_args(VmcoreCheck)

#: How a CWB address printed in a console log compares with the vmcore's EXCL_BASE.
CwbVerdict = Literal["match", "match-without-sme", "mismatch", "unknown"]
CWB_VERDICTS: tuple[str, ...] = get_args(CwbVerdict)


@dataclass(slots=True)
class Fact:
    """One value read from the dump, with its provenance.

    ``source`` names the field/global or the derivation; ``unavailable`` says why there is no
    value (then ``value`` is None); ``note`` carries caveats, e.g. "unconfirmed: ...".
    """

    value: Any = None
    source: str = ""
    unavailable: str | None = None
    note: str | None = None

    @property
    def available(self) -> bool:
        """Whether there is a value (``unavailable`` is None)."""
        return self.unavailable is None

    @classmethod
    def missing(cls, source: str, reason: str, note: str | None = None) -> "Fact":
        """A Fact without a value: ``reason`` says why."""
        return cls(None, source, reason, note)

    def get(self, default: Any = None) -> Any:
        """The value, or ``default`` when it is unavailable."""
        return self.value if self.unavailable is None else default

    def to_dict(self) -> dict[str, Any]:
        """``{value, hex (ints only), source, unavailable (if so), note (if any)}``."""
        out: dict[str, Any] = {"value": _plain(self.value), "source": self.source}
        if isinstance(self.value, int) and not isinstance(self.value, bool):
            out["hex"] = hex(self.value)
        if self.unavailable is not None:
            out["unavailable"] = self.unavailable
        if self.note:
            out["note"] = self.note
        return out


def _not_collected(source: str = "") -> Fact:
    """Default of every Fact field: nothing was read (yet)."""
    return Fact.missing(source, "not collected")


@dataclass(slots=True)
class CompletionWait:
    """A COMPLETION_WAIT command found in an IOMMU command ring (``struct iommu_cmd``)."""

    slot: int  # ring index 0..511
    offset: int  # byte offset in cmd_buf
    age: int  # 0 = the slot just before cmd_buf_tail, 1 = the one before that, ...
    dwords: tuple[int, int, int, int]
    store: bool  # S bit: store data to the address
    interrupt: bool  # I bit
    store_address: int  # bits 51:3 from data[1][19:0]:data[0][31:3]
    data: int  # data[3]:data[2], the sequence value to be stored
    matches_cwb: bool | None = None  # store_address == cmd_sem physical address
    matches_cwb_with_sme: bool | None = None  # == (phys | sme_me_mask) & (bits 51:3)
    matches_cmd_sem_paddr: bool | None = None  # == cmd_sem_paddr (>= 6.18)


@dataclass(slots=True)
class IommuFacts:
    """One ``struct amd_iommu`` of the crashed kernel."""

    address: Fact = field(default_factory=_not_collected)  # the struct amd_iommu * itself
    index: Fact = field(default_factory=_not_collected)
    segment: Fact = field(default_factory=_not_collected)  # PCI segment
    devid: Fact = field(default_factory=_not_collected)
    bdf: Fact = field(default_factory=_not_collected)  # "SSSS:BB:DD.F"
    mmio_phys: Fact = field(default_factory=_not_collected)
    features: Fact = field(default_factory=_not_collected)  # iommu->features as read
    features2: Fact = field(default_factory=_not_collected)
    efr: Fact = field(default_factory=_not_collected)  # effective EFR (iommu->features or amd_iommu_efr)
    efr_snp: Fact = field(default_factory=_not_collected)  # EFR bit 63 (FEATURE_SNP)
    is_iommu_v2: Fact = field(default_factory=_not_collected)
    flags: Fact = field(default_factory=_not_collected)
    trans_pre_enabled: Fact = field(default_factory=_not_collected)
    cmd_sem_virt: Fact = field(default_factory=_not_collected)
    cmd_sem_phys: Fact = field(default_factory=_not_collected)
    cmd_sem_value: Fact = field(default_factory=_not_collected)  # *cmd_sem: last value stored
    cmd_sem_val: Fact = field(default_factory=_not_collected)  # last value issued
    cmd_sem_paddr: Fact = field(default_factory=_not_collected)  # >= 6.18
    cmd_sem_state: Fact = field(default_factory=_not_collected)  # value: a CmdSemState
    excl_base: Fact = field(default_factory=_not_collected)  # programmed EXCL_BASE (the CWB)
    excl_limit: Fact = field(default_factory=_not_collected)
    excl_programmed: Fact = field(default_factory=_not_collected)
    cmd_buf_virt: Fact = field(default_factory=_not_collected)
    cmd_buf_phys: Fact = field(default_factory=_not_collected)
    cmd_buf_head: Fact = field(default_factory=_not_collected)
    cmd_buf_tail: Fact = field(default_factory=_not_collected)
    completion_waits: list[CompletionWait] = field(default_factory=list)  # newest first
    completion_waits_status: Fact = field(default_factory=_not_collected)
    evt_buf_phys: Fact = field(default_factory=_not_collected)

    @property
    def last_completion_wait(self) -> CompletionWait | None:
        """The newest COMPLETION_WAIT in the ring, if any was found."""
        return self.completion_waits[0] if self.completion_waits else None


@dataclass(slots=True)
class DeviceTable:
    """One device table (per PCI segment on >= 5.19, the global one before)."""

    segment: int
    virt: int
    phys: int | None
    size: int  # bytes
    entries: int
    valid_entries: int | None  # DTEs with data[0] bit 0 (V) set, in readable pages
    unreadable_pages: int
    source: str
    note: str | None = None


@dataclass(slots=True)
class GlobalFacts:
    """AMD-Vi, SME and kexec globals of the crashed kernel."""

    amd_iommu_snp_en: Fact = field(default_factory=_not_collected)
    amd_iommu_irq_remap: Fact = field(default_factory=_not_collected)
    irq_remapping_enabled: Fact = field(default_factory=_not_collected)
    sme_me_mask: Fact = field(default_factory=_not_collected)
    init_state: Fact = field(default_factory=_not_collected)  # enum iommu_init_state name
    amd_iommu_pre_enabled: Fact = field(default_factory=_not_collected)
    amd_iommu_efr: Fact = field(default_factory=_not_collected)
    amd_iommu_efr2: Fact = field(default_factory=_not_collected)
    crash_kexec_post_notifiers: Fact = field(default_factory=_not_collected)
    crash_kernel_loaded: Fact = field(default_factory=_not_collected)
    snp_nr_leaked_pages: Fact = field(default_factory=_not_collected)


@dataclass(slots=True)
class PspFacts:
    """PSP / SEV firmware state from the ccp module."""

    psp_master: Fact = field(default_factory=_not_collected)
    sev_device: Fact = field(default_factory=_not_collected)
    snp_initialized: Fact = field(default_factory=_not_collected)
    state: Fact = field(default_factory=_not_collected)
    state_name: Fact = field(default_factory=_not_collected)
    api_major: Fact = field(default_factory=_not_collected)
    api_minor: Fact = field(default_factory=_not_collected)
    build: Fact = field(default_factory=_not_collected)
    psp_dead: Fact = field(default_factory=_not_collected)
    cmd_in_flight: Fact = field(default_factory=_not_collected)  # sev_cmd_mutex held


@dataclass(slots=True)
class MachineFacts:
    """Kernel release, architecture and CPU vendor of the crashed kernel."""

    release: Fact = field(default_factory=_not_collected)
    arch: Fact = field(default_factory=_not_collected)
    is_x86_64: Fact = field(default_factory=_not_collected)
    vendor: Fact = field(default_factory=_not_collected)  # X86_VENDOR_* number
    vendor_name: Fact = field(default_factory=_not_collected)
    is_amd: Fact = field(default_factory=_not_collected)  # AMD or Hygon


@dataclass(slots=True)
class SkippedCheck:
    """A group of checks that could not run, and why."""

    check: VmcoreCheck | str
    reason: str


@dataclass(slots=True)
class VmcoreFacts:
    """Everything :func:`triage.vmcore.inspect` read from one crashed kernel."""

    machine: MachineFacts = field(default_factory=MachineFacts)
    globals: GlobalFacts = field(default_factory=GlobalFacts)
    iommu_count: Fact = field(default_factory=_not_collected)
    iommus: list[IommuFacts] = field(default_factory=list)
    device_tables: list[DeviceTable] = field(default_factory=list)
    psp: PspFacts = field(default_factory=PspFacts)
    skipped: list[SkippedCheck] = field(default_factory=list)
    source: str | None = None  # vmcore path, "live", or None
    #: why the dump could be read only in part (truncated, zero-filled, an unfinished flattened
    #: stream); None when it was whole. Facts read from it are real; missing ones say so.
    partial: str | None = None

    def skip(self, check: VmcoreCheck | str, reason: str) -> None:
        """Record that ``check`` could not run."""
        self.skipped.append(SkippedCheck(check, reason))

    def to_dict(self) -> dict[str, Any]:
        """JSON-serialisable form: Facts become {value, hex (ints), source, unavailable, note}."""
        return _plain(self)


@dataclass(slots=True)
class CwbCrossCheck:
    """Console-logged CWB physical address vs the crashed kernel's programmed EXCL_BASE."""

    logged: int | None
    expected: dict[int, int]  # IOMMU index -> EXCL_BASE/LIMIT value
    matches: list[int]  # IOMMU indexes whose EXCL_BASE equals the logged address
    matches_without_sme: list[int]  # equal only once the SME C-bit is cleared
    verdict: CwbVerdict
    detail: str


def _plain(value: Any) -> Any:
    """``value`` as JSON-ready data: Facts, dataclasses, lists, dicts and bytes turned plain."""
    if isinstance(value, Fact):
        return value.to_dict()
    if is_dataclass(value) and not isinstance(value, type):
        return {f.name: _plain(getattr(value, f.name)) for f in fields(value)}
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, bytes):
        return value.decode("utf-8", "replace")
    return value
