"""Vmcore inspection stage: what the crashed kernel's memory says about AMD-Vi and SEV-SNP.

The console log tells what a kernel printed; the vmcore of the *crashed* (first) kernel tells
what state it left the IOMMUs and the PSP in when it handed over to the kdump kernel. This
package reads that state with drgn, in the style of drgn's own helpers: small functions taking
a ``drgn.Program`` (or a ``struct amd_iommu *``), each naming the kernel structures and fields
it reads, one module per kernel source:

* :mod:`.program` -- opening a vmcore or the live kernel with its debug info
* :mod:`.dumpfile` -- flattened (and kdump-tools' compressed) dumps unpacked; truncated dumps found
* :mod:`.debugdirs` -- ccp.ko's debug info from the distributions' debug package paths
* :mod:`.mm` -- x86_64 addresses (``arch/x86/include/asm/page_64*.h``)
* :mod:`.machine` -- release and CPU vendor (``init_uts_ns``, ``boot_cpu_data``)
* :mod:`.amd_iommu` -- ``struct amd_iommu``, the CWB and EXCL_BASE, AMD-Vi globals
  (``drivers/iommu/amd/init.c``, ``amd_iommu_types.h``)
* :mod:`.amd_iommu_ring` -- the command ring and COMPLETION_WAIT (``drivers/iommu/amd/iommu.c``)
* :mod:`.dev_table` -- the device tables (``drivers/iommu/amd/init.c``)
* :mod:`.ccp` -- PSP / SEV firmware state (``drivers/crypto/ccp/``)
* :mod:`.printk` -- the kernel log (``kernel/printk/``)
* :mod:`.facts` -- :func:`inspect`, gathering all of it, and the console-log cross-check

Every value is a :class:`~triage.model.vmcore.Fact`: the value, where it came from (a field, a
global, or a derivation) and, when it could not be had, why (field or symbol missing in this
kernel, memory not in the dump, debug info not loaded). Helpers never raise for a missing
field; only :func:`open_program` raises, and only :class:`~triage.errors.VmcoreError` with a
one-line message. Facts resting on kernel details inferred from the code rather than seen in
a kernel source say "unconfirmed" in their note.

What a vmcore cannot give: MMIO registers (the real EXCL_BASE/LIMIT, head/tail, control), PSP
mailbox state, usually the RMP. Only the *programmed* Completion-Wait-Buffer address can be
reconstructed here, from ``cmd_sem``/``cmd_sem_paddr`` and ``sme_me_mask``.
"""
from __future__ import annotations

from ..errors import VmcoreError
from ..model.vmcore import (CompletionWait, CwbCrossCheck, DeviceTable, Fact, GlobalFacts, IommuFacts,
                            MachineFacts, PspFacts, SkippedCheck, VmcoreFacts)
from ._read import global_fact, member_fact
from .amd_iommu import (AMD_IOMMU_FLAG_TRANS_PRE_ENABLED, FEATURE_SNP, PM_ADDR_MASK, amd_iommu_globals,
                        cmd_sem_address, cmd_sem_value, excl_programmed, expected_cwb_register, expected_excl_fact,
                        for_each_amd_iommu, format_bdf, init_state_fact, iommu_efr, iommu_facts, iommu_segment)
from .amd_iommu_ring import (CMD_BUFFER_SIZE, CMD_COMPL_WAIT, CMD_COMPL_WAIT_INT_MASK, CMD_COMPL_WAIT_STORE_MASK,
                             CMD_ENTRY_SIZE, cmd_sem_state, decode_command, iommu_command_ring,
                             match_completion_waits, ring_completion_waits)
from .ccp import PSP_UNAVAILABLE, SEV_STATE_NAMES, psp_facts, sev_device
from .dev_table import DEV_TABLE_ENTRY_SIZE, count_valid_dtes, device_tables
from .facts import compare_logged_cwb, expected_excl_base, inspect, parse_logged_cwb
from .machine import X86_VENDOR_AMD, X86_VENDOR_HYGON, kernel_release, machine_facts
from .mm import DEFAULT_PAGE_OFFSET, PAGE_SIZE, START_KERNEL_MAP, page_offset, virt_to_phys
from .printk import format_printk_record, kernel_log, kernel_log_lines, kernel_log_text
from .program import KDUMP_SIGNATURE, PARTIAL_KEY, default_vmlinux_candidates, open_program
from .dumpfile import (FLAT_HEADER_SIZE, FLATTENED_SIGNATURE, Reassembled, compression_of, elf_shortfall,
                       is_flattened, reassemble, unpack_to_temp, write_flattened)
from .debugdirs import DEBUG_MODULES, load_module_debug_info, module_debug_candidates

__all__ = [
    # errors and facts
    "VmcoreError", "Fact", "CompletionWait", "IommuFacts", "DeviceTable", "GlobalFacts", "PspFacts",
    "MachineFacts", "SkippedCheck", "VmcoreFacts", "CwbCrossCheck",
    # reading
    "global_fact", "member_fact",
    # program
    "KDUMP_SIGNATURE", "PARTIAL_KEY", "default_vmlinux_candidates", "open_program",
    # dumpfile, debugdirs
    "FLAT_HEADER_SIZE", "FLATTENED_SIGNATURE", "Reassembled", "compression_of", "elf_shortfall", "is_flattened",
    "reassemble", "unpack_to_temp", "write_flattened", "DEBUG_MODULES", "load_module_debug_info", "module_debug_candidates",
    # mm
    "PAGE_SIZE", "DEFAULT_PAGE_OFFSET", "START_KERNEL_MAP", "page_offset", "virt_to_phys",
    # machine
    "X86_VENDOR_AMD", "X86_VENDOR_HYGON", "kernel_release", "machine_facts",
    # amd_iommu
    "PM_ADDR_MASK", "FEATURE_SNP", "AMD_IOMMU_FLAG_TRANS_PRE_ENABLED", "for_each_amd_iommu", "iommu_segment",
    "format_bdf", "iommu_efr", "cmd_sem_address", "cmd_sem_value", "expected_cwb_register", "expected_excl_fact",
    "excl_programmed", "iommu_facts", "init_state_fact", "amd_iommu_globals",
    # amd_iommu_ring
    "CMD_BUFFER_SIZE", "CMD_ENTRY_SIZE", "CMD_COMPL_WAIT", "CMD_COMPL_WAIT_STORE_MASK", "CMD_COMPL_WAIT_INT_MASK",
    "decode_command", "ring_completion_waits", "match_completion_waits", "iommu_command_ring", "cmd_sem_state",
    # dev_table
    "DEV_TABLE_ENTRY_SIZE", "device_tables", "count_valid_dtes",
    # ccp
    "PSP_UNAVAILABLE", "SEV_STATE_NAMES", "sev_device", "psp_facts",
    # printk
    "format_printk_record", "kernel_log", "kernel_log_lines", "kernel_log_text",
    # facts
    "inspect", "expected_excl_base", "parse_logged_cwb", "compare_logged_cwb",
]
