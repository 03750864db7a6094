"""x86_64 kernel addresses: the direct map, the kernel image and physical addresses.

Mirrors the memory layout of ``arch/x86/include/asm/page_64_types.h`` and the translation of
``__phys_addr_nodebug()`` in ``arch/x86/include/asm/page_64.h`` (``__pa()``, ``__pa_symbol()``);
on a real kernel it uses drgn's own :mod:`drgn.helpers.linux.mm`.
"""
from __future__ import annotations

from typing import TYPE_CHECKING

from ..model.vmcore import Fact
from ._read import global_fact, is_kernel, read_fact

if TYPE_CHECKING:
    import drgn

__all__ = ["PAGE_SIZE", "DEFAULT_PAGE_OFFSET", "START_KERNEL_MAP", "page_offset", "virt_to_phys"]

# arch/x86/include/asm/page_types.h: #define PAGE_SIZE (_AC(1,UL) << PAGE_SHIFT), PAGE_SHIFT 12
PAGE_SIZE = 4096

#: Default direct-map base when the program has no ``page_offset_base`` (tests, non-kernels).
# arch/x86/include/asm/page_64_types.h: #define __PAGE_OFFSET_BASE_L4 _AC(0xffff888000000000, UL)
# (4-level paging without KASLR; 5-level paging uses __PAGE_OFFSET_BASE_L5, not handled: unconfirmed)
DEFAULT_PAGE_OFFSET = 0xFFFF888000000000
# arch/x86/include/asm/page_64_types.h: #define __START_KERNEL_map _AC(0xffffffff80000000, UL)
START_KERNEL_MAP = 0xFFFFFFFF80000000


def page_offset(prog: "drgn.Program") -> Fact:
    """Base of the direct map.

    :param prog: the crashed kernel
    :return: ``page_offset_base`` (``__PAGE_OFFSET`` with CONFIG_DYNAMIC_MEMORY_LAYOUT, e.g. KASLR),
        else :data:`DEFAULT_PAGE_OFFSET` with an "unconfirmed" note
    """
    base = global_fact(prog, "page_offset_base")
    if base.available:
        return base
    return Fact(DEFAULT_PAGE_OFFSET, "default x86_64 PAGE_OFFSET", None,
                "unconfirmed: page_offset_base not readable; 4-level paging without KASLR assumed")


def virt_to_phys(prog: "drgn.Program", addr: int) -> Fact:
    """Physical address of a kernel virtual address.

    Direct-map addresses (kmalloc, page allocator: where ``cmd_sem``, ``cmd_buf`` and the device
    table live) use drgn's ``virt_to_phys`` on a kernel program, else ``addr - PAGE_OFFSET``
    (``__pa()``); kernel-image addresses use ``addr - __START_KERNEL_map + phys_base``
    (``__pa_symbol()``); anything else (vmalloc/ioremap) walks ``init_mm``'s page tables.

    :param prog: the crashed kernel
    :param addr: a kernel virtual address
    :return: a Fact holding the physical address, its source naming the translation used
    """
    if addr >= START_KERNEL_MAP:
        base = global_fact(prog, "phys_base")
        if base.available:
            return Fact(addr - START_KERNEL_MAP + base.value,
                        "derived: __pa_symbol (addr - __START_KERNEL_map + phys_base)")
        return Fact.missing("derived: __pa_symbol", f"phys_base: {base.unavailable}")
    offset = page_offset(prog)
    if offset.value <= addr < offset.value + (1 << 46):
        if is_kernel(prog):
            from drgn.helpers.linux.mm import virt_to_phys as _drgn_virt_to_phys
            return read_fact("derived: virt_to_phys() (drgn direct map)",
                             lambda: _drgn_virt_to_phys(prog, addr).value_())
        return Fact(addr - offset.value, f"derived: addr - PAGE_OFFSET ({offset.source})", None, offset.note)
    if is_kernel(prog):
        from drgn.helpers.linux.mm import follow_phys
        return read_fact("derived: follow_phys(init_mm) page-table walk",
                         lambda: follow_phys(prog["init_mm"].address_of_(), addr).value_())
    return Fact.missing("derived: virt_to_phys", f"{addr:#x} is outside the direct map")
