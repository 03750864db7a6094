"""Vmcore inspection stage: what the crashed kernel's memory says about AMD-Vi and SEV-SNP.

The console log tells what a kernel printed; the vmcore of the *crashed* (first) kernel tells
what state it left the IOMMUs and the PSP in when it handed over to the kdump kernel. This
module reads that state with drgn, in the style of drgn's own helpers: small functions taking a
``drgn.Program`` (or a ``struct amd_iommu *``), each naming the kernel structures and fields it
reads.

Every value is a :class:`Fact`: the value, where it came from (a field, a global, or a
derivation) and, when it could not be had, why (field or symbol missing in this kernel, memory
not in the dump, debug info not loaded). Helpers never raise for a missing field; only
:func:`open_program` raises, and only :class:`VmcoreError` with a one-line message.

Facts marked "unconfirmed" rest on kernel details the project's reference marks [I] (inferred,
not re-checked against a source) and are reported as such.

What a vmcore cannot give: MMIO registers (the real EXCL_BASE/LIMIT, head/tail, control), PSP
mailbox state, usually the RMP. Only the *programmed* Completion-Wait-Buffer address can be
reconstructed here, from ``cmd_sem``/``cmd_sem_paddr`` and ``sme_me_mask``.
"""
from __future__ import annotations

import logging
import os
import re
from typing import Any, Callable, Iterable, Iterator, Sequence

try:  # drgn is optional for the rest of the tool: only this stage needs it.
    import drgn
    from drgn.helpers.linux.list import list_for_each_entry
except ImportError:  # pragma: no cover - exercised only without drgn installed
    drgn = None  # type: ignore[assignment]

# --- constants from drivers/iommu/amd/amd_iommu_types.h (reference §3.3-3.5, [S]) -------------
PM_ADDR_MASK = 0x000FFFFFFFFFF000
FEATURE_SNP = 1 << 63
AMD_IOMMU_FLAG_TRANS_PRE_ENABLED = 1 << 0
CMD_BUFFER_SIZE = 8192
CMD_ENTRY_SIZE = 16
CMD_COMPL_WAIT = 0x1
CMD_COMPL_WAIT_STORE_MASK = 0x1
CMD_COMPL_WAIT_INT_MASK = 0x2
DEV_TABLE_ENTRY_SIZE = 32
PAGE_SIZE = 4096

# --- x86 constants ---------------------------------------------------------------------------
X86_VENDOR_AMD = 2
X86_VENDOR_HYGON = 9  # from memory of arch/x86/include/asm/processor.h: unconfirmed
#: Default x86_64 direct-map base (4-level paging, no KASLR); only used when the program is not
#: a real kernel (tests) and has no ``page_offset_base``. Unconfirmed for 5-level paging.
DEFAULT_PAGE_OFFSET = 0xFFFF888000000000
START_KERNEL_MAP = 0xFFFFFFFF80000000

#: SEV platform states (uapi psp-sev.h) - from memory, unconfirmed.
SEV_STATE_NAMES = {0: "UNINIT", 1: "INIT", 2: "WORKING"}

PSP_UNAVAILABLE = "ccp module debug info not loaded / PSP not present"


from .errors import VmcoreError
from .model.vmcore import (CompletionWait, CwbCrossCheck, DeviceTable, Fact, GlobalFacts, IommuFacts,  # noqa: F401
                           MachineFacts, PspFacts, SkippedCheck, VmcoreFacts)


# ==============================================================================================
# Reading values without raising
# ==============================================================================================

_READ_ERRORS: tuple[type[BaseException], ...] = (LookupError, AttributeError, TypeError, ValueError, OverflowError)
if drgn is not None:
    _READ_ERRORS = (drgn.FaultError, drgn.ObjectAbsentError) + _READ_ERRORS


def _reason(exc: BaseException) -> str:
    """Turn a drgn exception into a short 'why unavailable' text."""
    if drgn is not None and isinstance(exc, drgn.FaultError):
        return f"memory at {exc.address:#x} not readable in the dump (FaultError: {exc.message})"
    if drgn is not None and isinstance(exc, drgn.ObjectAbsentError):
        return "value absent (optimized out in the debug info)"
    if isinstance(exc, KeyError):
        what = exc.args[0] if exc.args else "symbol not found"
        return f"{what} (not in this kernel, or its debug info is not loaded)"
    if isinstance(exc, LookupError):
        return f"not in this kernel's debug info: {exc}"
    if isinstance(exc, AttributeError):
        return f"field missing in this kernel: {exc}"
    return f"{type(exc).__name__}: {exc}"


def _value(obj: "drgn.Object") -> Any:
    """Plain Python value of a scalar object; ``atomic*_t`` yields its ``.counter``."""
    underlying = _strip(obj.type_)
    if underlying.kind in (drgn.TypeKind.STRUCT, drgn.TypeKind.UNION) and underlying.has_member("counter"):
        return obj.counter.value_()
    if underlying.kind == drgn.TypeKind.BOOL:
        return bool(obj.value_())
    return obj.value_()


def _strip(type_: "drgn.Type") -> "drgn.Type":
    """The type with typedefs and qualifiers removed."""
    while type_.kind == drgn.TypeKind.TYPEDEF:
        type_ = type_.type
    return type_.unqualified()


def _has_member(obj: "drgn.Object", name: str) -> bool:
    type_ = _strip(obj.type_)
    if type_.kind == drgn.TypeKind.POINTER:
        type_ = _strip(type_.type)
    try:
        return type_.has_member(name)
    except TypeError:
        return False


def _read(source: str, getter: Callable[[], Any], note: str | None = None) -> Fact:
    """Evaluate ``getter`` into a Fact; drgn errors become an 'unavailable' reason."""
    try:
        return Fact(getter(), source, None, note)
    except _READ_ERRORS as exc:
        return Fact.missing(source, _reason(exc), note)


def global_fact(prog: "drgn.Program", name: str, what: str = "global", note: str | None = None) -> Fact:
    """Value of the global (or static) variable ``name``."""
    return _read(f"{what} {name}", lambda: _value(prog[name].read_()), note)


def member_fact(obj: "drgn.Object", path: str, struct: str, note: str | None = None) -> Fact:
    """Value of ``obj->path`` (dotted for nested members), sourced as ``struct.path``."""
    source = f"{struct}.{path}"

    def get() -> Any:
        value = obj
        for part in path.split("."):
            value = value.member_(part)
        return _value(value.read_())

    return _read(source, get, note)


# ==============================================================================================
# Address translation
# ==============================================================================================


def _is_kernel(prog: "drgn.Program") -> bool:
    return bool(prog.flags & drgn.ProgramFlags.IS_LINUX_KERNEL)


def page_offset(prog: "drgn.Program") -> Fact:
    """Base of the direct map: ``page_offset_base`` (KASLR) or the default constant."""
    base = global_fact(prog, "page_offset_base")
    if base.available:
        return base
    return Fact(DEFAULT_PAGE_OFFSET, "default x86_64 PAGE_OFFSET", None,
                "unconfirmed: page_offset_base not readable; 4-level paging without KASLR assumed")


def virt_to_phys(prog: "drgn.Program", addr: int) -> Fact:
    """Physical address of a kernel virtual address.

    Direct-map addresses (kmalloc, page allocator: where ``cmd_sem``, ``cmd_buf`` and the device
    table live) use drgn's ``virt_to_phys`` on a kernel program, else ``addr - PAGE_OFFSET``;
    kernel-image addresses use ``addr - __START_KERNEL_map + phys_base``; anything else
    (vmalloc/ioremap) walks ``init_mm``'s page tables.
    """
    if addr >= START_KERNEL_MAP:
        base = global_fact(prog, "phys_base")
        if base.available:
            return Fact(addr - START_KERNEL_MAP + base.value,
                        "derived: __pa_symbol (addr - __START_KERNEL_map + phys_base)")
        return Fact.missing("derived: __pa_symbol", f"phys_base: {base.unavailable}")
    offset = page_offset(prog)
    if offset.value <= addr < offset.value + (1 << 46):
        if _is_kernel(prog):
            from drgn.helpers.linux.mm import virt_to_phys as _drgn_virt_to_phys
            return _read("derived: virt_to_phys() (drgn direct map)", lambda: _drgn_virt_to_phys(prog, addr).value_())
        return Fact(addr - offset.value, f"derived: addr - PAGE_OFFSET ({offset.source})", None, offset.note)
    if _is_kernel(prog):
        from drgn.helpers.linux.mm import follow_phys
        return _read("derived: follow_phys(init_mm) page-table walk",
                     lambda: follow_phys(prog["init_mm"].address_of_(), addr).value_())
    return Fact.missing("derived: virt_to_phys", f"{addr:#x} is outside the direct map")


def expected_cwb_register(phys: int, sme_me_mask: int) -> int:
    """Value ``iommu_set_cwwb_range()`` writes to both EXCL_BASE and EXCL_LIMIT.

    ``iommu_virt_to_phys(cmd_sem) & PM_ADDR_MASK`` where iommu_virt_to_phys adds the SME C-bit
    (reference §3.4, [S]).
    """
    return (phys | sme_me_mask) & PM_ADDR_MASK


# ==============================================================================================
# IOMMU helpers
# ==============================================================================================


def for_each_amd_iommu(prog: "drgn.Program") -> Iterator["drgn.Object"]:
    """Iterate over ``struct amd_iommu *`` on ``amd_iommu_list`` (linked through ``.list``)."""
    return list_for_each_entry("struct amd_iommu", prog["amd_iommu_list"].address_of_(), "list")


def iommu_segment(iommu: "drgn.Object") -> Fact:
    """PCI segment: ``pci_seg->id`` (>= 5.19, pointer) or the ``u16 pci_seg`` (older)."""
    if not _has_member(iommu, "pci_seg"):
        return Fact.missing("struct amd_iommu.pci_seg", "field pci_seg missing in this kernel")
    seg = iommu.pci_seg
    if _strip(seg.type_).kind == drgn.TypeKind.POINTER:
        return _read("struct amd_iommu.pci_seg->id", lambda: seg.id.value_())
    return _read("struct amd_iommu.pci_seg (u16, < 5.19)", lambda: seg.value_())


def format_bdf(segment: int | None, devid: int) -> str:
    """``SSSS:BB:DD.F`` from a PCI segment and a devid (bus<<8 | dev<<3 | fn)."""
    return f"{segment or 0:04x}:{devid >> 8:02x}:{(devid >> 3) & 0x1F:02x}.{devid & 7:x}"


def iommu_efr(prog: "drgn.Program", iommu: "drgn.Object") -> tuple[Fact, Fact]:
    """(``iommu->features``, effective EFR): falls back to global ``amd_iommu_efr`` when 0.

    On 6.12 ``features`` was seen to read 0 while ``amd_iommu_efr`` held the bits (reference,
    observed); the driver's ``check_feature()`` uses the global there.
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
    """Virtual address of the completion-wait semaphore and whether it is the ≤5.9 embedded form.

    ≥5.10: ``volatile u64 *cmd_sem`` points to its own 4 KiB page (the CWB); ≤5.9: ``volatile
    u64 cmd_sem`` inside ``struct amd_iommu`` itself.
    """
    if not _has_member(iommu, "cmd_sem"):
        return Fact.missing("struct amd_iommu.cmd_sem", "field cmd_sem missing in this kernel"), False
    sem = iommu.cmd_sem
    if _strip(sem.type_).kind == drgn.TypeKind.POINTER:
        return _read("struct amd_iommu.cmd_sem", lambda: sem.value_()), False
    return _read("&struct amd_iommu.cmd_sem (embedded u64, <= 5.9)", lambda: sem.address_), True


def cmd_sem_value(iommu: "drgn.Object", embedded: bool) -> Fact:
    """Current ``*cmd_sem``: the last value the IOMMU stored (or the CPU reset it to)."""
    if embedded:
        return member_fact(iommu, "cmd_sem", "struct amd_iommu")
    return _read("*struct amd_iommu.cmd_sem", lambda: iommu.cmd_sem[0].value_())


def cmd_sem_state(value: Fact, issued: Fact) -> Fact:
    """Compare ``*cmd_sem`` (last stored) with ``cmd_sem_val`` (last issued) - reference §3.5 [I]."""
    note = "unconfirmed: derived from the driver's completion-wait logic"
    if not (value.available and issued.available):
        return Fact.missing("derived: *cmd_sem vs cmd_sem_val", "needs both *cmd_sem and cmd_sem_val", note)
    stored, last = value.value, issued.value
    if last == 0:
        state = "no completion wait issued"
    elif stored == last:
        state = "caught up"
    elif stored == 0:
        state = "never written by the IOMMU"
    else:
        state = "behind (completion wait outstanding or timed out)"
    return Fact(state, "derived: *cmd_sem vs cmd_sem_val", None, note)


def decode_command(dwords: Sequence[int]) -> tuple[int, int, int]:
    """(opcode, store address, data) of a 16-byte IOMMU command (``u32 data[4]``).

    Reading of reference §3.5 (``build_completion_wait()``): data[0] = low 32 bits of the store
    address | S (bit 0) | I (bit 1) (bit 2 = F in the AMD spec, unconfirmed); data[1] = address
    bits 51:32 in its bits 19:0 and the opcode in bits 31:28; data[2]/data[3] = low/high half of
    the 64-bit value to store. The address is 8-byte aligned, so its bits 2:0 carry the flags.
    """
    opcode = dwords[1] >> 28
    address = ((dwords[1] & 0xFFFFF) << 32) | (dwords[0] & 0xFFFFFFF8)
    data = (dwords[3] << 32) | dwords[2]
    return opcode, address, data


def ring_completion_waits(ring: bytes, tail: int, count: int = 4) -> list[CompletionWait]:
    """The ``count`` most recent COMPLETION_WAIT entries, walking backwards from ``tail``."""
    slots = len(ring) // CMD_ENTRY_SIZE
    found: list[CompletionWait] = []
    start = (tail // CMD_ENTRY_SIZE) % slots if slots else 0
    for age in range(slots):
        slot = (start - 1 - age) % slots
        offset = slot * CMD_ENTRY_SIZE
        dwords = tuple(int.from_bytes(ring[offset + 4 * i: offset + 4 * i + 4], "little") for i in range(4))
        opcode, address, data = decode_command(dwords)
        if opcode != CMD_COMPL_WAIT:
            continue
        found.append(CompletionWait(slot, offset, age, dwords, bool(dwords[0] & CMD_COMPL_WAIT_STORE_MASK),
                                    bool(dwords[0] & CMD_COMPL_WAIT_INT_MASK), address, data))
        if len(found) >= count:
            break
    return found


def _match_waits(waits: list[CompletionWait], phys: Fact, sme: int, paddr: Fact) -> None:
    """Fill the ``matches_*`` flags of decoded waits (address field is bits 51:3)."""
    field_mask = ((1 << 52) - 1) & ~0x7
    for wait in waits:
        if phys.available:
            wait.matches_cwb = wait.store_address == phys.value & field_mask
            wait.matches_cwb_with_sme = wait.store_address == (phys.value | sme) & field_mask
        if paddr.available:
            wait.matches_cmd_sem_paddr = wait.store_address == paddr.value & field_mask


def iommu_command_ring(prog: "drgn.Program", iommu: "drgn.Object", count: int = 4) -> tuple[Fact, list[CompletionWait]]:
    """Read ``cmd_buf`` (8 KiB, 512 x 16 B) and decode the last COMPLETION_WAIT commands."""
    source = "struct amd_iommu.cmd_buf[0..8192) from cmd_buf_tail backwards"
    try:
        ring = prog.read(iommu.cmd_buf.value_(), CMD_BUFFER_SIZE)
        tail = iommu.cmd_buf_tail.value_()
    except _READ_ERRORS as exc:
        return Fact.missing(source, _reason(exc)), []
    waits = ring_completion_waits(ring, tail, count)
    status = f"{len(waits)} COMPLETION_WAIT command(s) found in the ring"
    return Fact(status, source), waits


def excl_programmed(efr_snp: Fact, embedded: bool) -> Fact:
    """Whether ``iommu_set_cwwb_range()`` would have written EXCL_BASE/LIMIT.

    Only kernels ≥5.10 (pointer ``cmd_sem``) re-purpose the exclusion registers, and only when
    the EFR has SNPSup (bit 63); [S] for ≈6.11+, unconfirmed for 5.10-6.10.
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
    """Collect every per-IOMMU fact of reference §5 "Additional vmcore-only checks"."""
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
    out.efr_snp = _derive(out.efr, "derived: EFR bit 63 (FEATURE_SNP)", lambda efr: bool(efr & FEATURE_SNP))
    out.is_iommu_v2 = member_fact(iommu, "is_iommu_v2", s)
    out.flags = member_fact(iommu, "flags", s)
    out.trans_pre_enabled = _derive(out.flags, "derived: flags bit 0 (AMD_IOMMU_FLAG_TRANS_PRE_ENABLED)",
                                    lambda flags: bool(flags & AMD_IOMMU_FLAG_TRANS_PRE_ENABLED))
    _cwb_facts(prog, iommu, out, sme)
    out.cmd_buf_virt = member_fact(iommu, "cmd_buf", s)
    out.cmd_buf_phys = _phys_of(prog, out.cmd_buf_virt)
    out.cmd_buf_head = member_fact(iommu, "cmd_buf_head", s)
    out.cmd_buf_tail = member_fact(iommu, "cmd_buf_tail", s)
    out.completion_waits_status, out.completion_waits = iommu_command_ring(prog, iommu)
    _match_waits(out.completion_waits, out.cmd_sem_phys, sme.get(0), out.cmd_sem_paddr)
    out.evt_buf_phys = _phys_of(prog, member_fact(iommu, "evt_buf", s))
    return out


def _cwb_facts(prog: "drgn.Program", iommu: "drgn.Object", out: IommuFacts, sme: Fact) -> None:
    """cmd_sem (virt/phys/value), cmd_sem_val, cmd_sem_paddr and the EXCL_BASE/LIMIT value."""
    out.cmd_sem_virt, embedded = cmd_sem_address(iommu)
    out.cmd_sem_phys = _phys_of(prog, out.cmd_sem_virt)
    out.cmd_sem_value = cmd_sem_value(iommu, embedded)
    out.cmd_sem_val = member_fact(iommu, "cmd_sem_val", "struct amd_iommu")
    if embedded and not out.cmd_sem_val.available:
        out.cmd_sem_val.unavailable = "field cmd_sem_val missing (<= 5.9 kernels store the constant 1)"
    out.cmd_sem_paddr = member_fact(iommu, "cmd_sem_paddr", "struct amd_iommu")
    if not out.cmd_sem_paddr.available and not _has_member(iommu, "cmd_sem_paddr"):
        out.cmd_sem_paddr.unavailable = "field cmd_sem_paddr missing (added in 6.18)"
    out.cmd_sem_state = cmd_sem_state(out.cmd_sem_value, out.cmd_sem_val)
    out.excl_base = expected_excl_fact(out.cmd_sem_phys, out.cmd_sem_paddr, sme)
    out.excl_limit = Fact(out.excl_base.value, "same value as EXCL_BASE (iommu_set_cwwb_range)",
                          out.excl_base.unavailable, out.excl_base.note)
    out.excl_programmed = excl_programmed(out.efr_snp, embedded)


def expected_excl_fact(phys: Fact, paddr: Fact, sme: Fact) -> Fact:
    """EXCL_BASE/LIMIT value as programmed: from ``cmd_sem_paddr`` (≥6.18) else derived."""
    if paddr.available:
        return Fact(paddr.value & PM_ADDR_MASK, "struct amd_iommu.cmd_sem_paddr & PM_ADDR_MASK")
    if not phys.available:
        return Fact.missing("derived: (virt_to_phys(cmd_sem) | sme_me_mask) & PM_ADDR_MASK", phys.unavailable or "")
    note = None if sme.available else f"sme_me_mask unknown ({sme.unavailable}); taken as 0"
    return Fact(expected_cwb_register(phys.value, sme.get(0)),
                "derived: (virt_to_phys(cmd_sem) | sme_me_mask) & PM_ADDR_MASK", None, note)


def _derive(base: Fact, source: str, fn: Callable[[Any], Any]) -> Fact:
    if not base.available:
        return Fact.missing(source, base.unavailable or "")
    return Fact(fn(base.value), source, None, base.note)


def _phys_of(prog: "drgn.Program", virt: Fact) -> Fact:
    if not virt.available:
        return Fact.missing(f"derived: physical address of {virt.source}", virt.unavailable or "")
    if not virt.value:
        return Fact.missing(f"derived: physical address of {virt.source}", "pointer is NULL")
    phys = virt_to_phys(prog, virt.value)
    phys.source = f"{phys.source} of {virt.source}"
    return phys


# ==============================================================================================
# Device tables
# ==============================================================================================


def device_tables(prog: "drgn.Program") -> tuple[list[DeviceTable], str | None]:
    """Device tables: per segment on ``amd_iommu_pci_seg_list`` (≥5.19), else the globals.

    Returns (tables, reason-if-none-could-be-found).
    """
    try:
        head = prog["amd_iommu_pci_seg_list"]
    except KeyError:
        return _legacy_device_table(prog)
    tables = []
    for seg in list_for_each_entry("struct amd_iommu_pci_seg", head.address_of_(), "list"):
        tables.append(_device_table(prog, seg.id.value_(), seg.dev_table.value_(), seg.dev_table_size.value_(),
                                    "struct amd_iommu_pci_seg.{dev_table,dev_table_size}"))
    return tables, None


def _legacy_device_table(prog: "drgn.Program") -> tuple[list[DeviceTable], str | None]:
    """≤5.18: ``amd_iommu_dev_table`` sized from ``dev_table_size`` or ``amd_iommu_last_bdf``."""
    try:
        table = prog["amd_iommu_dev_table"].value_()
    except KeyError:
        return [], "neither amd_iommu_pci_seg_list nor amd_iommu_dev_table found"
    note, source = None, "globals amd_iommu_dev_table, dev_table_size"
    size = global_fact(prog, "dev_table_size")
    if not size.available:
        last = global_fact(prog, "amd_iommu_last_bdf")
        if not last.available:
            return [], f"device table size unknown: {last.unavailable}"
        size = Fact(max(_roundup_pow2((last.value + 1) * DEV_TABLE_ENTRY_SIZE), PAGE_SIZE), "derived")
        note = "unconfirmed: size derived as max(roundup_pow_of_two((last_bdf + 1) * 32), 4 KiB)"
        source = "globals amd_iommu_dev_table, amd_iommu_last_bdf"
    return [_device_table(prog, 0, table, size.value, source, note)], None


def _roundup_pow2(n: int) -> int:
    return 1 << max(n - 1, 0).bit_length()


def _device_table(prog: "drgn.Program", segment: int, virt: int, size: int, source: str,
                  note: str | None = None) -> DeviceTable:
    phys = virt_to_phys(prog, virt).get() if virt else None
    valid, unreadable = count_valid_dtes(prog, virt, size) if virt else (None, 0)
    return DeviceTable(segment, virt, phys, size, size // DEV_TABLE_ENTRY_SIZE, valid, unreadable, source, note)


def count_valid_dtes(prog: "drgn.Program", table: int, size: int) -> tuple[int | None, int]:
    """(entries with DTE data[0] bit 0 (V) set, pages that could not be read).

    Pages missing from the dump (e.g. zero pages dropped by ``makedumpfile -d``) are skipped.
    """
    valid, unreadable, read_any = 0, 0, False
    for start in range(0, size, PAGE_SIZE):
        try:
            page = prog.read(table + start, min(PAGE_SIZE, size - start))
        except _READ_ERRORS:
            unreadable += 1
            continue
        read_any = True
        valid += sum(page[off] & 1 for off in range(0, len(page), DEV_TABLE_ENTRY_SIZE))
    return (valid if read_any else None), unreadable


# ==============================================================================================
# Globals, PSP, machine
# ==============================================================================================


def init_state_fact(prog: "drgn.Program") -> Fact:
    """Enumerator name of the static ``init_state`` (``enum iommu_init_state``)."""
    raw = _read("static init_state (enum iommu_init_state)", lambda: prog["init_state"].read_())
    if not raw.available:
        return raw
    obj = raw.value
    names = {value: name for name, value in (_strip(obj.type_).enumerators or ())}
    number = obj.value_()
    return Fact(names.get(number, f"unknown ({number})"), raw.source)


def amd_iommu_globals(prog: "drgn.Program") -> GlobalFacts:
    """Read the AMD-Vi, SME and kexec globals listed in reference §3.1 / §5."""
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
    out.crash_kernel_loaded = _derive(image, "derived: kexec_crash_image != NULL", bool)
    out.crash_kernel_loaded.note = "unconfirmed: meaning inferred from kexec code (reference §3.7 [I])"
    out.snp_nr_leaked_pages = global_fact(prog, "snp_nr_leaked_pages")
    return out


def sev_device(prog: "drgn.Program") -> tuple[Fact, Fact, "drgn.Object | None"]:
    """(psp_master, sev_data) facts and the ``struct sev_device *`` object if usable."""
    master = _read("global psp_master (ccp module)", lambda: prog["psp_master"].read_())
    if not master.available:
        reason = f"{PSP_UNAVAILABLE} ({master.unavailable}; {_module_debug_state(prog, 'ccp')})"
        return Fact.missing(master.source, reason), Fact.missing("psp_master->sev_data", reason), None
    if not master.value:
        master = Fact(0, master.source)
        return master, Fact.missing("psp_master->sev_data", "psp_master is NULL: no PSP probed"), None
    ptr = master.value
    master = Fact(ptr.value_(), master.source)
    try:
        data = ptr.sev_data.read_()
        sev = drgn.cast(prog.type("struct sev_device *"), data)
    except _READ_ERRORS as exc:
        return master, Fact.missing("psp_master->sev_data as struct sev_device *", _reason(exc)), None
    if not sev.value_():
        return master, Fact.missing("psp_master->sev_data", "sev_data is NULL: SEV not initialised"), None
    return master, Fact(sev.value_(), "psp_master->sev_data (void *, cast to struct sev_device *)",
                        None, "unconfirmed: sev_data type is from memory"), sev


def psp_facts(prog: "drgn.Program") -> PspFacts:
    """SEV/SNP firmware state: ``snp_initialized``, state, API version, ``psp_dead``, command mutex."""
    out = PspFacts()
    out.psp_master, out.sev_device, sev = sev_device(prog)
    out.psp_dead = global_fact(prog, "psp_dead", "static")
    # A held sev_cmd_mutex at panic makes the SNP panic notifier return without shutting down.
    out.cmd_in_flight = _read("static sev_cmd_mutex.owner != 0",
                              lambda: _value(prog["sev_cmd_mutex"].owner.read_()) != 0)
    for fact in (out.psp_dead, out.cmd_in_flight):
        if not fact.available and not out.psp_master.available:
            fact.unavailable = f"{PSP_UNAVAILABLE} ({fact.unavailable})"
    if sev is None:
        reason = "no struct sev_device (see sev_device)"
        for name in ("snp_initialized", "state", "state_name", "api_major", "api_minor", "build"):
            setattr(out, name, Fact.missing(f"struct sev_device.{name}", reason))
        return out
    s = "struct sev_device"
    out.snp_initialized = member_fact(sev, "snp_initialized", s)
    out.state = member_fact(sev, "state", s) if _has_member(sev, "state") \
        else member_fact(sev, "sev_plat_status.state", s)
    out.state_name = _derive(out.state, f"{out.state.source} (SEV_STATE_*)",
                             lambda v: SEV_STATE_NAMES.get(v, f"unknown ({v})"))
    out.state_name.note = "unconfirmed: SEV_STATE_* values from memory"
    out.api_major = member_fact(sev, "api_major", s)
    out.api_minor = member_fact(sev, "api_minor", s)
    out.build = member_fact(sev, "build", s)
    return out


def _module_debug_state(prog: "drgn.Program", name: str) -> str:
    """Whether kernel module ``name`` was loaded in the crashed kernel and has debug info."""
    try:
        for module in prog.modules():
            if module.name == name:
                return f"module {name}: debug info " + ("missing" if module.wants_debug_file() else "loaded")
    except _READ_ERRORS + (drgn.MissingDebugInfoError,):  # type: ignore[operator]
        return f"module {name}: state unknown"
    if not _is_kernel(prog):
        return f"module {name}: state unknown"
    return f"module {name} not seen among the crashed kernel's modules"


def kernel_release(prog: "drgn.Program") -> Fact:
    """``init_uts_ns.name.release``, falling back to the vmcoreinfo's ``UTS_RELEASE``."""
    fact = _read("init_uts_ns.name.release", lambda: prog["init_uts_ns"].name.release.string_().decode())
    if fact.available:
        return fact
    fallback = _read("UTS_RELEASE (vmcoreinfo)", lambda: prog["UTS_RELEASE"].string_().decode())
    return fallback if fallback.available else fact


def machine_facts(prog: "drgn.Program") -> MachineFacts:
    """Release, architecture and CPU vendor (``boot_cpu_data.x86_vendor``)."""
    out = MachineFacts()
    out.release = kernel_release(prog)
    arch = prog.platform.arch if prog.platform is not None else None
    out.arch = Fact(arch.name.lower() if arch is not None else "unknown", "drgn Program.platform")
    out.is_x86_64 = Fact(arch == drgn.Architecture.X86_64, "drgn Program.platform")
    out.vendor = _read("boot_cpu_data.x86_vendor", lambda: prog["boot_cpu_data"].x86_vendor.value_())
    names = {0: "Intel", 1: "Cyrix", X86_VENDOR_AMD: "AMD", 3: "UMC", 5: "Centaur", 7: "Transmeta",
             8: "NSC", X86_VENDOR_HYGON: "Hygon", 10: "Zhaoxin"}
    out.vendor_name = _derive(out.vendor, "boot_cpu_data.x86_vendor (X86_VENDOR_*)",
                              lambda v: names.get(v, f"unknown ({v})"))
    out.vendor_name.note = "unconfirmed: X86_VENDOR_* numbers other than AMD=2 from memory"
    out.is_amd = _derive(out.vendor, "boot_cpu_data.x86_vendor in (X86_VENDOR_AMD, X86_VENDOR_HYGON)",
                         lambda v: v in (X86_VENDOR_AMD, X86_VENDOR_HYGON))
    return out


# ==============================================================================================
# Kernel log
# ==============================================================================================


def format_printk_record(timestamp_ns: int, text: bytes | str, level: int | None = None) -> list[str]:
    """dmesg-style lines ``[%5lu.%06lu] text`` (one per line of a multi-line record)."""
    if isinstance(text, bytes):
        text = text.decode("utf-8", "replace")
    prefix = f"[{timestamp_ns // 1_000_000_000:5d}.{timestamp_ns % 1_000_000_000 // 1000:06d}] "
    if level is not None:
        prefix = f"<{level}>{prefix}"
    return [prefix + part for part in text.rstrip("\n").split("\n")]


def kernel_log_lines(prog: "drgn.Program", levels: bool = False) -> list[str]:
    """The crashed kernel's printk buffer as dmesg lines (drgn ``get_printk_records``).

    Raises nothing: an unreadable buffer yields an empty list (see :func:`kernel_log`).
    """
    return kernel_log(prog, levels)[0]


def kernel_log(prog: "drgn.Program", levels: bool = False) -> tuple[list[str], Fact]:
    """(dmesg lines, status Fact) from ``prb`` (≥5.10) or ``log_buf`` (older)."""
    from drgn.helpers.linux.printk import get_printk_records

    source = "printk ring buffer (prb / log_buf) via drgn get_printk_records"
    if not (_has_symbol(prog, "prb") or _has_symbol(prog, "log_buf")):
        return [], Fact.missing(source, "neither prb (>= 5.10) nor log_buf found in the debug info")
    try:
        records = get_printk_records(prog)
    except _READ_ERRORS as exc:
        return [], Fact.missing(source, _reason(exc))
    lines: list[str] = []
    for record in records:
        lines.extend(format_printk_record(record.timestamp, record.text, record.level if levels else None))
    return lines, Fact(len(records), source, None, "value = number of records")


def _has_symbol(prog: "drgn.Program", name: str) -> bool:
    try:
        prog[name]
    except KeyError:
        return False
    return True


def kernel_log_text(prog: "drgn.Program", levels: bool = False) -> str:
    """The kernel log as one text, ready for the project's normal log pipeline."""
    lines = kernel_log_lines(prog, levels)
    return "\n".join(lines) + ("\n" if lines else "")


# ==============================================================================================
# Top level
# ==============================================================================================


def inspect(prog: "drgn.Program", source: str | None = None) -> VmcoreFacts:
    """Gather machine, globals, every IOMMU, device tables and PSP state from ``prog``.

    Checks that cannot run (not x86_64, not AMD, symbols missing) are listed in ``skipped``.
    """
    facts = VmcoreFacts(source=source)
    facts.machine = _guarded(facts, "machine", lambda: machine_facts(prog), MachineFacts())
    if not facts.machine.is_x86_64.get(False):
        _skip_amd(facts, f"not an x86_64 kernel ({facts.machine.arch.value})")
        return facts
    if facts.machine.is_amd.available and not facts.machine.is_amd.value:
        _skip_amd(facts, f"not an AMD/Hygon CPU (x86_vendor={facts.machine.vendor_name.value})")
        return facts
    facts.globals = _guarded(facts, "globals", lambda: amd_iommu_globals(prog), GlobalFacts())
    _guarded(facts, "iommus", lambda: _collect_iommus(prog, facts), None)
    _guarded(facts, "device_tables", lambda: _collect_device_tables(prog, facts), None)
    facts.psp = _guarded(facts, "psp", lambda: psp_facts(prog), PspFacts())
    if not facts.psp.sev_device.available and not any(s.check == "psp" for s in facts.skipped):
        facts.skip("psp", facts.psp.psp_master.unavailable or facts.psp.sev_device.unavailable or PSP_UNAVAILABLE)
    return facts


def _skip_amd(facts: VmcoreFacts, reason: str) -> None:
    for check in ("globals", "iommus", "device_tables", "psp"):
        facts.skip(check, reason)


def _guarded(facts: VmcoreFacts, check: str, fn: Callable[[], Any], default: Any) -> Any:
    """Run one check; an unexpected error skips that check instead of escaping."""
    try:
        return fn()
    except Exception as exc:  # noqa: BLE001 - a damaged dump must not abort the report
        facts.skip(check, f"failed: {_reason(exc)}")
        return default


def _collect_iommus(prog: "drgn.Program", facts: VmcoreFacts) -> None:
    try:
        iommus = list(for_each_amd_iommu(prog))
    except _READ_ERRORS as exc:
        facts.iommu_count = Fact.missing("amd_iommu_list", _reason(exc))
        facts.skip("iommus", f"amd_iommu_list: {_reason(exc)}")
        return
    facts.iommu_count = Fact(len(iommus), "amd_iommu_list (list_for_each_entry over struct amd_iommu.list)")
    if not iommus:
        facts.skip("iommus", "amd_iommu_list is empty (no AMD IOMMU initialised, or amd_iommu=off)")
    for iommu in iommus:
        facts.iommus.append(iommu_facts(prog, iommu, facts.globals.sme_me_mask))


def _collect_device_tables(prog: "drgn.Program", facts: VmcoreFacts) -> None:
    tables, reason = device_tables(prog)
    facts.device_tables = tables
    if reason:
        facts.skip("device_tables", reason)


# ==============================================================================================
# Cross-checks for the fusion stage
# ==============================================================================================


def expected_excl_base(facts: VmcoreFacts) -> dict[int, int]:
    """IOMMU index -> EXCL_BASE/LIMIT value the crashed kernel programmed (or would have)."""
    out = {}
    for position, iommu in enumerate(facts.iommus):
        if iommu.excl_base.available:
            out[iommu.index.get(position)] = iommu.excl_base.value
    return out


_PADDR_RE = re.compile(r"(?:cmd_sem_paddr|paddr|EXCL_BASE|CWB)\D{0,8}?(0x[0-9a-fA-F]+|[0-9a-fA-F]{6,})")


def parse_logged_cwb(text: str) -> int | None:
    """First CWB address in a console line such as ``cmd_sem_paddr 0x100805000``."""
    found = _PADDR_RE.search(text)
    if found is None:
        bare = re.search(r"0x[0-9a-fA-F]+", text)
        return int(bare.group(0), 16) if bare else None
    token = found.group(1)
    return int(token, 16)


def compare_logged_cwb(facts: VmcoreFacts, logged: int | str) -> CwbCrossCheck:
    """Compare a CWB physical address printed in a console log with the programmed EXCL_BASE."""
    address = parse_logged_cwb(logged) if isinstance(logged, str) else logged
    expected = expected_excl_base(facts)
    if address is None or not expected:
        detail = "no address in the log text" if address is None else "no EXCL_BASE could be derived from the vmcore"
        return CwbCrossCheck(address, expected, [], [], "unknown", detail)
    sme = facts.globals.sme_me_mask.get(0)
    wanted = address & PM_ADDR_MASK
    exact = [i for i, v in expected.items() if v == wanted]
    loose = [i for i, v in expected.items() if v not in (wanted,) and (v & ~sme) == (wanted & ~sme)]
    if exact:
        return CwbCrossCheck(address, expected, exact, loose, "match",
                             f"{address:#x} equals EXCL_BASE of IOMMU {exact}")
    if loose:
        return CwbCrossCheck(address, expected, [], loose, "match-without-sme",
                             f"{address:#x} equals EXCL_BASE of IOMMU {loose} only without the SME C-bit")
    listed = ", ".join(f"iommu{i}={v:#x}" for i, v in expected.items())
    return CwbCrossCheck(address, expected, [], [], "mismatch", f"{address:#x} differs from {listed}")


# ==============================================================================================
# Opening a dump
# ==============================================================================================

KDUMP_SIGNATURE = b"KDUMP   "
FLATTENED_SIGNATURE = b"makedumpfile"


def default_vmlinux_candidates(release: str, extra_dirs: Iterable[str] = ()) -> list[str]:
    """Where distributions put the debug vmlinux of ``release`` (plus ``extra_dirs``)."""
    paths = []
    for base in extra_dirs:
        paths += [os.path.join(base, f"vmlinux-{release}"), os.path.join(base, "vmlinux"),
                  os.path.join(base, "boot", f"vmlinux-{release}"),
                  os.path.join(base, "usr/lib/debug/boot", f"vmlinux-{release}"),
                  os.path.join(base, "lib/modules", release, "vmlinux")]
    paths += [f"/usr/lib/debug/boot/vmlinux-{release}", f"/usr/lib/debug/lib/modules/{release}/vmlinux",
              f"/boot/vmlinux-{release}", f"/lib/modules/{release}/build/vmlinux"]
    return paths


def _check_dump_file(path: str) -> None:
    """Fail early, with the path in the message, for files drgn would reject obscurely."""
    if not os.path.exists(path):
        raise VmcoreError(f"{path}: no such file")
    if os.path.isdir(path):
        raise VmcoreError(f"{path}: is a directory, not a vmcore")
    try:
        with open(path, "rb") as handle:
            head = handle.read(16)
    except OSError as exc:
        raise VmcoreError(f"{path}: cannot read: {exc.strerror or exc}") from None
    if not head:
        raise VmcoreError(f"{path}: empty file, not a vmcore")
    if head.startswith(FLATTENED_SIGNATURE):
        raise VmcoreError(f"{path}: makedumpfile flattened format; convert it with 'makedumpfile -R out < {path}'")
    if not (head.startswith(b"\x7fELF") or head.startswith(KDUMP_SIGNATURE)):
        raise VmcoreError(f"{path}: not an ELF or kdump-compressed vmcore")


def _is_elf(path: str) -> bool:
    try:
        with open(path, "rb") as handle:
            return handle.read(4) == b"\x7fELF"
    except OSError:
        return False


def _attach(prog: "drgn.Program", vmcore_path: str | None, live: bool) -> str:
    """Point ``prog`` at the dump or the running kernel; return a label for messages."""
    if live:
        try:
            prog.set_kernel()
        except PermissionError:
            raise VmcoreError("live kernel: permission denied reading /proc/kcore (run as root)") from None
        except (OSError, ValueError) as exc:
            raise VmcoreError(f"live kernel: cannot attach: {exc}") from None
        return "live kernel"
    if vmcore_path is None:
        raise VmcoreError("no vmcore given (pass a vmcore path or live=True)")
    _check_dump_file(vmcore_path)
    try:
        prog.set_core_dump(vmcore_path)
    except Exception as exc:  # noqa: BLE001 - libkdumpfile errors arrive as plain Exception
        raise VmcoreError(f"{vmcore_path}: not a usable vmcore (truncated or damaged?): {_one_line(exc)}") from None
    if not _is_kernel(prog):
        raise VmcoreError(f"{vmcore_path}: an ELF core of a process, not a kernel vmcore (no VMCOREINFO)")
    return vmcore_path


def _one_line(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return text[0] if text else type(exc).__name__


def open_program(vmcore_path: str | None = None, vmlinux: str | None = None, live: bool = False,
                 extra_debug_dirs: Sequence[str] = ()) -> "drgn.Program":
    """Open a vmcore (ELF or kdump-compressed) or the live kernel with its debug info.

    Debug info: ``vmlinux`` when given (its build must match), else the distro locations for
    the dump's release. Module debug info (ccp for the PSP checks) is searched next to it and
    in the usual places; if missing, :func:`inspect` lists the affected checks as skipped.
    Raises :class:`VmcoreError` with a one-line message naming the file.
    """
    if drgn is None:
        raise VmcoreError("drgn is not installed: vmcore checks need the 'drgn' package")
    prog = drgn.Program()
    label = _attach(prog, vmcore_path, live)
    release = _dump_release(prog)
    _load_kernel_debug_info(prog, label, release, vmlinux, tuple(extra_debug_dirs))
    _check_readable(prog, label, release)
    return prog


def _dump_release(prog: "drgn.Program") -> str:
    try:
        return prog["UTS_RELEASE"].string_().decode()
    except _READ_ERRORS:
        return "unknown"


def _module_dirs(vmlinux: str, release: str) -> list[str]:
    """Module debug directories that belong with an explicit vmlinux."""
    # Only well-known subdirectories: drgn may walk these recursively looking for .ko files,
    # so the vmlinux's own directory (possibly $HOME) is not added.
    here = os.path.dirname(os.path.abspath(vmlinux))
    candidates = [os.path.join(here, "lib/modules", release), os.path.join(here, "modules", release),
                  os.path.normpath(os.path.join(here, "..", "lib/modules", release))]
    return [path for path in candidates if os.path.isdir(path)]


def _load_kernel_debug_info(prog: "drgn.Program", label: str, release: str, vmlinux: str | None,
                            extra_dirs: tuple[str, ...]) -> None:
    options = prog.debug_info_options
    if vmlinux is not None:
        if not os.path.isfile(vmlinux):
            raise VmcoreError(f"{vmlinux}: no such vmlinux file")
        if not _is_elf(vmlinux):
            raise VmcoreError(f"{vmlinux}: not an ELF file, cannot be the kernel's debug info")
        module_dirs = tuple(_module_dirs(vmlinux, release))
        options.kernel_directories = module_dirs + extra_dirs + tuple(options.kernel_directories)
        options.directories = extra_dirs + tuple(options.directories)
        _try_load(prog, [vmlinux], main=True, default=False)
        if prog.main_module().wants_debug_file():
            raise VmcoreError(f"{vmlinux}: debug info does not match {label} (kernel {release}); "
                              "all vmcore checks skipped")
    else:
        options.kernel_directories = extra_dirs + tuple(options.kernel_directories)
        options.directories = extra_dirs + tuple(options.directories)
        candidates = [p for p in default_vmlinux_candidates(release, extra_dirs) if os.path.isfile(p)]
        _try_load(prog, candidates, main=True, default=False)
        if prog.main_module().wants_debug_file():
            raise VmcoreError(f"{label}: no debug info (vmlinux) found for kernel {release}; all vmcore checks "
                              f"skipped (install linux-image-{release}-dbg or pass a vmlinux)")
    _try_load(prog, [], main=False, default=True)  # modules: missing ones only skip PSP checks


def _try_load(prog: "drgn.Program", paths: list[str], main: bool, default: bool) -> None:
    """load_debug_info() without drgn's "missing debugging symbols" log lines on stderr."""
    drgn_log = logging.getLogger("drgn")
    level = drgn_log.level
    drgn_log.setLevel(logging.ERROR)
    try:
        prog.load_debug_info(paths, main=main, default=default)
    except drgn.MissingDebugInfoError:
        pass  # reported through wants_debug_file() / skipped checks
    except Exception as exc:  # noqa: BLE001 - never let a drgn traceback escape
        raise VmcoreError(f"{paths[0] if paths else 'debug info'}: cannot load debug info: {_one_line(exc)}") from None
    finally:
        drgn_log.setLevel(level)


def _check_readable(prog: "drgn.Program", label: str, release: str) -> None:
    """Read the release string through the debug info: catches truncated dumps and wrong vmlinux."""
    try:
        seen = prog["init_uts_ns"].name.release.string_().decode()
    except drgn.FaultError as exc:
        raise VmcoreError(f"{label}: kernel memory unreadable (truncated or damaged vmcore?): "
                          f"FaultError at {exc.address:#x}") from None
    except Exception as exc:  # noqa: BLE001
        raise VmcoreError(f"{label}: debug info unusable: {_one_line(exc)}") from None
    if release != "unknown" and seen != release:
        raise VmcoreError(f"{label}: debug info is for kernel {seen!r} but the dump is {release!r}; "
                          "all vmcore checks skipped")
