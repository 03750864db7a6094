"""AMD IOMMU device tables of the crashed kernel.

Mirrors ``drivers/iommu/amd/init.c`` (``alloc_dev_table()``, the per-segment tables on
``amd_iommu_pci_seg_list`` since 5.19, the global ``amd_iommu_dev_table`` before) and
``struct dev_table_entry`` (``u64 data[4]``) of ``drivers/iommu/amd/amd_iommu_types.h``.
"""
from __future__ import annotations

from typing import TYPE_CHECKING

from ..model.vmcore import DeviceTable, Fact
from ._read import READ_ERRORS, global_fact
from .mm import PAGE_SIZE, virt_to_phys

if TYPE_CHECKING:
    import drgn

__all__ = ["DEV_TABLE_ENTRY_SIZE", "device_tables", "count_valid_dtes"]

# drivers/iommu/amd/amd_iommu_types.h: #define DEV_TABLE_ENTRY_SIZE 32
DEV_TABLE_ENTRY_SIZE = 32


def device_tables(prog: "drgn.Program") -> tuple[list[DeviceTable], str | None]:
    """Every device table: one per segment on ``amd_iommu_pci_seg_list`` (>= 5.19), else the global one.

    :param prog: the crashed kernel
    :return: (tables from ``struct amd_iommu_pci_seg.{dev_table,dev_table_size}``, or from the
        globals; the reason when none could be found)
    """
    from drgn.helpers.linux.list import list_for_each_entry

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
    """<= 5.18: ``amd_iommu_dev_table`` sized from ``dev_table_size`` or ``amd_iommu_last_bdf``."""
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
        # the per-segment formula of newer init.c (dev_table_size =
        # max(roundup_pow_of_two((last_bdf + 1) * DEV_TABLE_ENTRY_SIZE), SZ_4K)), applied to the
        # old global table: unconfirmed for those kernels
        size = Fact(max(_roundup_pow2((last.value + 1) * DEV_TABLE_ENTRY_SIZE), PAGE_SIZE), "derived")
        note = "unconfirmed: size derived as max(roundup_pow_of_two((last_bdf + 1) * 32), 4 KiB)"
        source = "globals amd_iommu_dev_table, amd_iommu_last_bdf"
    return [_device_table(prog, 0, table, size.value, source, note)], None


def _roundup_pow2(n: int) -> int:
    """``roundup_pow_of_two(n)`` (include/linux/log2.h)."""
    return 1 << max(n - 1, 0).bit_length()


def _device_table(prog: "drgn.Program", segment: int, virt: int, size: int, source: str,
                  note: str | None = None) -> DeviceTable:
    phys = virt_to_phys(prog, virt).get() if virt else None
    valid, unreadable = count_valid_dtes(prog, virt, size) if virt else (None, 0)
    return DeviceTable(segment, virt, phys, size, size // DEV_TABLE_ENTRY_SIZE, valid, unreadable, source, note)


def count_valid_dtes(prog: "drgn.Program", table: int, size: int) -> tuple[int | None, int]:
    """Count the valid entries of a device table.

    A ``struct dev_table_entry`` is valid when ``data[0]`` bit 0 (V, ``DTE_FLAG_V``) is set.
    Pages missing from the dump (e.g. zero pages dropped by ``makedumpfile -d``) are skipped.

    :param table: virtual address of the table (``struct dev_table_entry *``)
    :param size: its size in bytes
    :return: (valid entries in the readable pages, or None if no page could be read;
        pages that could not be read)
    """
    valid, unreadable, read_any = 0, 0, False
    for start in range(0, size, PAGE_SIZE):
        try:
            page = prog.read(table + start, min(PAGE_SIZE, size - start))
        except READ_ERRORS:
            unreadable += 1
            continue
        read_any = True
        valid += sum(page[off] & 1 for off in range(0, len(page), DEV_TABLE_ENTRY_SIZE))
    return (valid if read_any else None), unreadable
