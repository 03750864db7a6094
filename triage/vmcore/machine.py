"""Which kernel and which machine the dump comes from: release, architecture, CPU vendor.

Mirrors ``init/version.c`` (``init/version-timestamp.c`` in newer kernels: ``init_uts_ns``,
whose ``name.release`` is ``uname -r``) and ``arch/x86/include/asm/processor.h``
(``boot_cpu_data``, ``struct cpuinfo_x86``, ``X86_VENDOR_*``).
"""
from __future__ import annotations

from ..model.vmcore import Fact, MachineFacts
from ._read import derive, drgn, read_fact

__all__ = ["X86_VENDOR_AMD", "X86_VENDOR_HYGON", "kernel_release", "machine_facts"]

# arch/x86/include/asm/processor.h: #define X86_VENDOR_AMD 2
X86_VENDOR_AMD = 2
# arch/x86/include/asm/processor.h: #define X86_VENDOR_HYGON 9
X86_VENDOR_HYGON = 9
# The other X86_VENDOR_* numbers of arch/x86/include/asm/processor.h, for names in the report.
_VENDOR_NAMES = {0: "Intel", 1: "Cyrix", X86_VENDOR_AMD: "AMD", 3: "UMC", 5: "Centaur", 7: "Transmeta",
                 8: "NSC", X86_VENDOR_HYGON: "Hygon", 10: "Zhaoxin"}


def kernel_release(prog: "drgn.Program") -> Fact:
    """The crashed kernel's release string (``uname -r``).

    :param prog: the crashed kernel
    :return: ``init_uts_ns.name.release``, falling back to the vmcoreinfo's ``UTS_RELEASE``
    """
    fact = read_fact("init_uts_ns.name.release", lambda: prog["init_uts_ns"].name.release.string_().decode())
    if fact.available:
        return fact
    fallback = read_fact("UTS_RELEASE (vmcoreinfo)", lambda: prog["UTS_RELEASE"].string_().decode())
    return fallback if fallback.available else fact


def machine_facts(prog: "drgn.Program") -> MachineFacts:
    """Release, architecture (drgn's ``Program.platform``) and CPU vendor (``boot_cpu_data.x86_vendor``).

    :param prog: the crashed kernel
    """
    out = MachineFacts()
    out.release = kernel_release(prog)
    arch = prog.platform.arch if prog.platform is not None else None
    out.arch = Fact(arch.name.lower() if arch is not None else "unknown", "drgn Program.platform")
    out.is_x86_64 = Fact(arch == drgn.Architecture.X86_64, "drgn Program.platform")
    out.vendor = read_fact("boot_cpu_data.x86_vendor", lambda: prog["boot_cpu_data"].x86_vendor.value_())
    out.vendor_name = derive(out.vendor, "boot_cpu_data.x86_vendor (X86_VENDOR_*)",
                             lambda v: _VENDOR_NAMES.get(v, f"unknown ({v})"))
    out.vendor_name.note = "unconfirmed: X86_VENDOR_* numbers other than AMD=2 from memory"
    out.is_amd = derive(out.vendor, "boot_cpu_data.x86_vendor in (X86_VENDOR_AMD, X86_VENDOR_HYGON)",
                        lambda v: v in (X86_VENDOR_AMD, X86_VENDOR_HYGON))
    return out
