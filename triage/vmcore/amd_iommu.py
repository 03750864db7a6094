"""AMD IOMMU (AMD-Vi) state of the crashed kernel: ``struct amd_iommu`` and the driver's globals.

Mirrors ``drivers/iommu/amd/amd_iommu_types.h`` (``struct amd_iommu``, ``for_each_iommu()``)
and ``drivers/iommu/amd/init.c`` (``amd_iommu_list``, ``init_state``, the global EFR, and
``iommu_set_cwwb_range()``, which programs the completion-wait buffer (CWB) into the
EXCL_BASE/EXCL_LIMIT registers). The registers themselves are MMIO and not in a vmcore: what
is read here is the value the kernel wrote, rebuilt from ``cmd_sem``/``cmd_sem_paddr`` and
``sme_me_mask``.
"""
from __future__ import annotations

from typing import TYPE_CHECKING, Iterator

from ..model.vmcore import Fact, GlobalFacts, IommuFacts
from ._read import derive, global_fact, has_member, is_pointer, member_fact, read_fact, strip_type
from .amd_iommu_ring import cmd_sem_state, iommu_command_ring, match_completion_waits
from .mm import virt_to_phys

if TYPE_CHECKING:
    import drgn

__all__ = [
    "PM_ADDR_MASK", "FEATURE_SNP", "AMD_IOMMU_FLAG_TRANS_PRE_ENABLED",
    "for_each_amd_iommu", "iommu_segment", "format_bdf", "iommu_efr", "cmd_sem_address", "cmd_sem_value",
    "expected_cwb_register", "expected_excl_fact", "excl_programmed", "iommu_facts", "init_state_fact",
    "amd_iommu_globals",
]

# drivers/iommu/amd/amd_iommu_types.h: #define PM_ADDR_MASK 0x000ffffffffff000ULL
PM_ADDR_MASK = 0x000FFFFFFFFFF000
# drivers/iommu/amd/amd_iommu_types.h: #define FEATURE_SNP BIT_ULL(63)
FEATURE_SNP = 1 << 63
# drivers/iommu/amd/amd_iommu_types.h: #define AMD_IOMMU_FLAG_TRANS_PRE_ENABLED (1 << 0)
AMD_IOMMU_FLAG_TRANS_PRE_ENABLED = 1 << 0


def for_each_amd_iommu(prog: "drgn.Program") -> Iterator["drgn.Object"]:
    """Iterate over every IOMMU, like ``for_each_iommu()``.

    :param prog: the crashed kernel
    :return: iterator of ``struct amd_iommu *`` objects on ``amd_iommu_list`` (linked through ``.list``)
    """
    from drgn.helpers.linux.list import list_for_each_entry

    return list_for_each_entry("struct amd_iommu", prog["amd_iommu_list"].address_of_(), "list")


def iommu_segment(iommu: "drgn.Object") -> Fact:
    """PCI segment of an IOMMU.

    :param iommu: ``struct amd_iommu *``
    :return: ``pci_seg->id`` (>= 5.19, ``struct amd_iommu_pci_seg *``) or the ``u16 pci_seg`` (older)
    """
    if not has_member(iommu, "pci_seg"):
        return Fact.missing("struct amd_iommu.pci_seg", "field pci_seg missing in this kernel")
    seg = iommu.pci_seg
    if is_pointer(seg):
        return read_fact("struct amd_iommu.pci_seg->id", lambda: seg.id.value_())
    return read_fact("struct amd_iommu.pci_seg (u16, < 5.19)", lambda: seg.value_())


def format_bdf(segment: int | None, devid: int) -> str:
    """``SSSS:BB:DD.F`` from a PCI segment and a devid (bus<<8 | dev<<3 | fn)."""
    return f"{segment or 0:04x}:{devid >> 8:02x}:{(devid >> 3) & 0x1F:02x}.{devid & 7:x}"


def iommu_efr(prog: "drgn.Program", iommu: "drgn.Object") -> tuple[Fact, Fact]:
    """The Extended Feature Register of an IOMMU, as the driver's ``check_feature()`` sees it.

    ``check_feature()`` (drivers/iommu/amd/amd_iommu.h, ~6.6+) tests the global
    ``amd_iommu_efr`` (set up in drivers/iommu/amd/init.c as the AND of all IOMMUs); older
    kernels test ``iommu->features``. On Debian's 6.12 kernel ``iommu->features`` was
    observed (with drgn) to read 0 while ``amd_iommu_efr`` held the bits.

    :param iommu: ``struct amd_iommu *``
    :return: (``iommu->features`` as read, the effective EFR: ``features``, or the global
        ``amd_iommu_efr`` when ``features`` is 0 or missing)
    """
    own = member_fact(iommu, "features", "struct amd_iommu")
    if own.available and own.value:
        return own, Fact(own.value, own.source)
    glob = global_fact(prog, "amd_iommu_efr")
    if glob.available and glob.value:
        return own, Fact(glob.value, "global amd_iommu_efr (iommu->features is 0 or missing)")
    if own.available:
        return own, Fact(own.value, own.source)
    return own, Fact.missing("struct amd_iommu.features / amd_iommu_efr", f"{own.unavailable}; {glob.unavailable}")


def cmd_sem_address(iommu: "drgn.Object") -> tuple[Fact, bool]:
    """Virtual address of the completion-wait semaphore.

    >= 5.10 (commit c69d89aff393): ``volatile u64 *cmd_sem`` points to its own 4 KiB page, the
    CWB (``alloc_cwwb_sem()`` in drivers/iommu/amd/init.c); <= 5.9: ``volatile u64 cmd_sem``
    inside ``struct amd_iommu`` itself.

    :param iommu: ``struct amd_iommu *``
    :return: (the address, whether it is the <= 5.9 embedded form)
    """
    if not has_member(iommu, "cmd_sem"):
        return Fact.missing("struct amd_iommu.cmd_sem", "field cmd_sem missing in this kernel"), False
    sem = iommu.cmd_sem
    if is_pointer(sem):
        return read_fact("struct amd_iommu.cmd_sem", lambda: sem.value_()), False
    return read_fact("&struct amd_iommu.cmd_sem (embedded u64, <= 5.9)", lambda: sem.address_), True


def cmd_sem_value(iommu: "drgn.Object", embedded: bool) -> Fact:
    """Current ``*cmd_sem``: the last value the IOMMU stored (or the CPU reset it to).

    :param iommu: ``struct amd_iommu *``
    :param embedded: the second value of :func:`cmd_sem_address`
    """
    if embedded:
        return member_fact(iommu, "cmd_sem", "struct amd_iommu")
    return read_fact("*struct amd_iommu.cmd_sem", lambda: iommu.cmd_sem[0].value_())


def expected_cwb_register(phys: int, sme_me_mask: int) -> int:
    """Value ``iommu_set_cwwb_range()`` writes to both EXCL_BASE and EXCL_LIMIT.

    ``iommu_virt_to_phys(cmd_sem) & PM_ADDR_MASK`` (drivers/iommu/amd/init.c), where
    ``iommu_virt_to_phys()`` (drivers/iommu/amd/amd_iommu.h) is ``__sme_set(virt_to_phys())``:
    the SME C-bit is included when host memory encryption is active.

    :param phys: physical address of ``cmd_sem``
    :param sme_me_mask: the kernel's ``sme_me_mask``
    """
    return (phys | sme_me_mask) & PM_ADDR_MASK


def expected_excl_fact(phys: Fact, paddr: Fact, sme: Fact) -> Fact:
    """EXCL_BASE/LIMIT value as programmed by ``iommu_set_cwwb_range()``.

    :param phys: physical address of ``cmd_sem``
    :param paddr: ``iommu->cmd_sem_paddr`` (>= 6.18), used when available
    :param sme: ``sme_me_mask`` (taken as 0, with a note, when unknown)
    """
    if paddr.available:
        return Fact(paddr.value & PM_ADDR_MASK, "struct amd_iommu.cmd_sem_paddr & PM_ADDR_MASK")
    if not phys.available:
        return Fact.missing("derived: (virt_to_phys(cmd_sem) | sme_me_mask) & PM_ADDR_MASK", phys.unavailable or "")
    note = None if sme.available else f"sme_me_mask unknown ({sme.unavailable}); taken as 0"
    return Fact(expected_cwb_register(phys.value, sme.get(0)),
                "derived: (virt_to_phys(cmd_sem) | sme_me_mask) & PM_ADDR_MASK", None, note)


def excl_programmed(efr_snp: Fact, embedded: bool) -> Fact:
    """Whether ``iommu_set_cwwb_range()`` would have written EXCL_BASE/LIMIT.

    Only kernels >= 5.10 (pointer ``cmd_sem``, "iommu/amd: Re-purpose Exclusion range
    registers to support SNP CWWB") re-purpose the exclusion registers, and only when
    ``check_feature(FEATURE_SNP)`` (EFR bit 63, SNPSup). Seen in the ~6.11+ init.c;
    unconfirmed for 5.10-6.10.

    :param efr_snp: EFR bit 63 of this IOMMU
    :param embedded: whether ``cmd_sem`` is the <= 5.9 embedded form
    """
    source = "derived: EFR bit 63 (FEATURE_SNP) and pointer cmd_sem (>= 5.10)"
    if embedded:
        return Fact(False, source, None, "kernel predates the CWWB use of EXCL_BASE (5.10)")
    if not efr_snp.available:
        return Fact.missing(source, f"EFR unknown: {efr_snp.unavailable}")
    note = None if efr_snp.value else "EFR has no SNP support: the value shown is what it would be"
    return Fact(bool(efr_snp.value), source, None,
                note or "unconfirmed for 5.10-6.10 kernels: [S] only for >= ~6.11 init.c")


def iommu_facts(prog: "drgn.Program", iommu: "drgn.Object", sme: Fact) -> IommuFacts:
    """Everything about one IOMMU: identity, EFR, CWB, EXCL_BASE value and command ring.

    :param iommu: ``struct amd_iommu *``
    :param sme: ``sme_me_mask`` of the crashed kernel
    """
    s = "struct amd_iommu"
    out = IommuFacts()
    out.address = Fact(iommu.value_(), "amd_iommu_list entry (struct amd_iommu *)")
    out.index = member_fact(iommu, "index", s)
    out.segment = iommu_segment(iommu)
    out.devid = member_fact(iommu, "devid", s)
    if out.devid.available:
        out.bdf = Fact(format_bdf(out.segment.get(), out.devid.value), "derived: pci segment + devid")
    else:
        out.bdf = Fact.missing("derived: pci segment + devid", out.devid.unavailable or "")
    out.mmio_phys = member_fact(iommu, "mmio_phys", s)
    out.features, out.efr = iommu_efr(prog, iommu)
    out.features2 = member_fact(iommu, "features2", s)
    out.efr_snp = derive(out.efr, "derived: EFR bit 63 (FEATURE_SNP)", lambda efr: bool(efr & FEATURE_SNP))
    out.is_iommu_v2 = member_fact(iommu, "is_iommu_v2", s)
    out.flags = member_fact(iommu, "flags", s)
    out.trans_pre_enabled = derive(out.flags, "derived: flags bit 0 (AMD_IOMMU_FLAG_TRANS_PRE_ENABLED)",
                                   lambda flags: bool(flags & AMD_IOMMU_FLAG_TRANS_PRE_ENABLED))
    _cwb_facts(prog, iommu, out, sme)
    out.cmd_buf_virt = member_fact(iommu, "cmd_buf", s)
    out.cmd_buf_phys = _phys_of(prog, out.cmd_buf_virt)
    out.cmd_buf_head = member_fact(iommu, "cmd_buf_head", s)
    out.cmd_buf_tail = member_fact(iommu, "cmd_buf_tail", s)
    out.completion_waits_status, out.completion_waits = iommu_command_ring(prog, iommu)
    match_completion_waits(out.completion_waits, out.cmd_sem_phys, sme.get(0), out.cmd_sem_paddr)
    out.evt_buf_phys = _phys_of(prog, member_fact(iommu, "evt_buf", s))
    return out


def _cwb_facts(prog: "drgn.Program", iommu: "drgn.Object", out: IommuFacts, sme: Fact) -> None:
    """cmd_sem (virt/phys/value), cmd_sem_val, cmd_sem_paddr and the EXCL_BASE/LIMIT value."""
    out.cmd_sem_virt, embedded = cmd_sem_address(iommu)
    out.cmd_sem_phys = _phys_of(prog, out.cmd_sem_virt)
    out.cmd_sem_value = cmd_sem_value(iommu, embedded)
    # u64 (5.10 - ~6.x), atomic64_t (read as .counter), u64 again after commit 9e249c484128
    out.cmd_sem_val = member_fact(iommu, "cmd_sem_val", "struct amd_iommu")
    if embedded and not out.cmd_sem_val.available:
        out.cmd_sem_val.unavailable = "field cmd_sem_val missing (<= 5.9 kernels store the constant 1)"
    out.cmd_sem_paddr = member_fact(iommu, "cmd_sem_paddr", "struct amd_iommu")
    if not out.cmd_sem_paddr.available and not has_member(iommu, "cmd_sem_paddr"):
        out.cmd_sem_paddr.unavailable = "field cmd_sem_paddr missing (added in 6.18)"
    out.cmd_sem_state = cmd_sem_state(out.cmd_sem_value, out.cmd_sem_val)
    out.excl_base = expected_excl_fact(out.cmd_sem_phys, out.cmd_sem_paddr, sme)
    out.excl_limit = Fact(out.excl_base.value, "same value as EXCL_BASE (iommu_set_cwwb_range)",
                          out.excl_base.unavailable, out.excl_base.note)
    out.excl_programmed = excl_programmed(out.efr_snp, embedded)


def _phys_of(prog: "drgn.Program", virt: Fact) -> Fact:
    """Physical address of the pointer in ``virt``, its source naming that pointer."""
    if not virt.available:
        return Fact.missing(f"derived: physical address of {virt.source}", virt.unavailable or "")
    if not virt.value:
        return Fact.missing(f"derived: physical address of {virt.source}", "pointer is NULL")
    phys = virt_to_phys(prog, virt.value)
    phys.source = f"{phys.source} of {virt.source}"
    return phys


def init_state_fact(prog: "drgn.Program") -> Fact:
    """State of the driver's init state machine.

    :param prog: the crashed kernel
    :return: enumerator name of the static ``init_state`` (``enum iommu_init_state``,
        drivers/iommu/amd/init.c), e.g. ``IOMMU_INITIALIZED``
    """
    raw = read_fact("static init_state (enum iommu_init_state)", lambda: prog["init_state"].read_())
    if not raw.available:
        return raw
    obj = raw.value
    names = {value: name for name, value in (strip_type(obj.type_).enumerators or ())}
    number = obj.value_()
    return Fact(names.get(number, f"unknown ({number})"), raw.source)


def amd_iommu_globals(prog: "drgn.Program") -> GlobalFacts:
    """Read the AMD-Vi, SME and kexec globals that say how the crashed kernel set up its IOMMUs.

    From drivers/iommu/amd/init.c: ``amd_iommu_snp_en``, ``amd_iommu_irq_remap``,
    ``init_state``, ``amd_iommu_pre_enabled``, ``amd_iommu_efr``/``amd_iommu_efr2`` (~6.6+);
    drivers/iommu/irq_remapping.c: ``irq_remapping_enabled``; arch/x86/mm/mem_encrypt_amd.c
    (mem_encrypt.c in older kernels): ``sme_me_mask``; kernel/panic.c:
    ``crash_kexec_post_notifiers``; kernel/kexec_core.c: ``kexec_crash_image``;
    arch/x86/virt/svm/sev.c: ``snp_nr_leaked_pages``.

    :param prog: the crashed kernel
    """
    out = GlobalFacts()
    out.amd_iommu_snp_en = global_fact(prog, "amd_iommu_snp_en")
    out.amd_iommu_irq_remap = global_fact(prog, "amd_iommu_irq_remap")
    out.irq_remapping_enabled = global_fact(prog, "irq_remapping_enabled")
    out.sme_me_mask = global_fact(prog, "sme_me_mask")
    out.init_state = init_state_fact(prog)
    out.amd_iommu_pre_enabled = global_fact(prog, "amd_iommu_pre_enabled", "static")
    out.amd_iommu_efr = global_fact(prog, "amd_iommu_efr")
    out.amd_iommu_efr2 = global_fact(prog, "amd_iommu_efr2")
    out.crash_kexec_post_notifiers = global_fact(prog, "crash_kexec_post_notifiers")
    image = global_fact(prog, "kexec_crash_image")
    # kexec_crash_loaded() (kernel/kexec_core.c) is !!kexec_crash_image; that a non-NULL image
    # means a usable crash kernel is inferred, unconfirmed
    out.crash_kernel_loaded = derive(image, "derived: kexec_crash_image != NULL", bool)
    out.crash_kernel_loaded.note = "unconfirmed: meaning inferred from kexec code (kernel/kexec_core.c)"
    out.snp_nr_leaked_pages = global_fact(prog, "snp_nr_leaked_pages")
    return out
