"""Fake crashed kernels for testing triage.vmcore without an SNP machine.

A small C file declares the kernel structures and globals the inspection reads, in the layout
of a given kernel era (selected with -D macros). gcc compiles it with DWARF and links it at
kernel-like addresses; the ELF is loaded as the main module of a ``drgn.Program``, so the code
under test sees real type information. Memory is crafted page by page in Python and exposed
with ``Program.add_memory_segment``; pages never written are absent, so reading them raises
``drgn.FaultError`` exactly as a page missing from a vmcore does.

Only declarations are modelled on the kernel (field names, types, order of interest); no
kernel code is copied.
"""
from __future__ import annotations

import shutil
import struct
import subprocess
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import drgn

PAGE = 4096
PAGE_OFFSET = 0xFFFF888000000000
PLATFORM = drgn.Platform(drgn.Architecture.X86_64,
                         drgn.PlatformFlags.IS_64_BIT | drgn.PlatformFlags.IS_LITTLE_ENDIAN)

KERNEL_C = r"""
#include <stdbool.h>
typedef unsigned char u8;
typedef unsigned short u16;
typedef unsigned int u32;
typedef unsigned long long u64;
typedef struct { long long counter; } atomic64_t;
typedef struct { long counter; } atomic_long_t;
typedef struct { unsigned int raw_lock; } raw_spinlock_t;
#define USED __attribute__((used))

struct list_head { struct list_head *next, *prev; };
struct dev_table_entry { u64 data[4]; };

#ifndef PRE_519
struct amd_iommu_pci_seg {
    struct list_head list;
    void *dev_data_list;
    u16 id;
    u16 last_bdf;
    u32 dev_table_size;
    u32 alias_table_size;
    u32 rlookup_table_size;
    struct dev_table_entry *dev_table;
    struct amd_iommu **rlookup_table;
    struct dev_table_entry *old_dev_tbl_cpy;
    u16 *alias_table;
};
struct list_head amd_iommu_pci_seg_list;
#else
struct dev_table_entry *amd_iommu_dev_table;
u16 amd_iommu_last_bdf;
#endif

struct amd_iommu {
    struct list_head list;
    int index;
    raw_spinlock_t lock;
    void *dev;
#ifdef PRE_519
    u16 pci_seg;
#else
    struct amd_iommu_pci_seg *pci_seg;
#endif
    u64 mmio_phys;
    u64 mmio_phys_end;
    u8 *mmio_base;
    u32 cap;
    u8 acpi_flags;
    u64 features;
#ifdef HAVE_FEATURES2
    u64 features2;
#endif
#ifdef HAVE_IS_IOMMU_V2
    bool is_iommu_v2;
#endif
    u16 devid;
    u16 cap_ptr;
    u64 exclusion_start;
    u64 exclusion_length;
    u8 *cmd_buf;
    u32 cmd_buf_head;
    u32 cmd_buf_tail;
    u8 *evt_buf;
    u8 *ppr_log;
    bool int_enabled;
    bool need_sync;
#ifndef NO_FLAGS
    u32 flags;
#endif
#ifdef EMBEDDED_CMD_SEM
    volatile u64 cmd_sem __attribute__((aligned(8)));
#else
    volatile u64 *cmd_sem;
#ifdef ATOMIC_CMD_SEM_VAL
    atomic64_t cmd_sem_val;
#else
    u64 cmd_sem_val;
#endif
#endif
#ifdef HAVE_CMD_SEM_PADDR
    u64 cmd_sem_paddr;
#endif
};

enum iommu_init_state {
    IOMMU_START_STATE, IOMMU_IVRS_DETECTED, IOMMU_ACPI_FINISHED, IOMMU_ENABLED,
    IOMMU_PCI_INIT, IOMMU_INTERRUPTS_EN, IOMMU_INITIALIZED, IOMMU_NOT_FOUND,
    IOMMU_INIT_ERROR, IOMMU_CMDLINE_DISABLED,
};

struct list_head amd_iommu_list;
#ifndef NO_SNP_EN
bool amd_iommu_snp_en;
#endif
bool amd_iommu_irq_remap;
int irq_remapping_enabled;
u64 sme_me_mask;
static enum iommu_init_state init_state USED;
static bool amd_iommu_pre_enabled USED;
#ifdef HAVE_GLOBAL_EFR
u64 amd_iommu_efr;
u64 amd_iommu_efr2;
#endif
bool crash_kexec_post_notifiers;
struct kimage { int type; };
struct kimage *kexec_crash_image;
unsigned long page_offset_base;
unsigned long phys_base;

struct new_utsname {
    char sysname[65], nodename[65], release[65], version[65], machine[65], domainname[65];
};
struct uts_namespace { struct new_utsname name; };
struct uts_namespace init_uts_ns;
struct cpuinfo_x86 { u8 x86; u8 x86_vendor; u8 x86_model; u8 x86_stepping; };
struct cpuinfo_x86 boot_cpu_data;

#ifndef NO_PSP
struct psp_device { struct list_head entry; void *dev; void *sev_data; };
struct psp_device *psp_master;
struct sev_user_data_status {
    u8 api_major; u8 api_minor; u8 state; u8 owner; u32 flags; u8 build; u32 guest_count;
};
struct sev_device {
    void *dev;
    struct psp_device *psp;
    void *io_regs;
#ifdef SEV_PLAT_STATUS
    struct sev_user_data_status sev_plat_status;
#else
    int state;
#endif
    unsigned int int_rcvd;
    u8 api_major;
    u8 api_minor;
    u8 build;
    void *cmd_buf;
    bool snp_initialized;
};
struct mutex { atomic_long_t owner; raw_spinlock_t wait_lock; struct list_head wait_list; };
static bool psp_dead USED;
static struct mutex sev_cmd_mutex USED;
#endif
"""

# Legacy (pre-5.10) structured printk buffer, in its own unit: drgn looks up log_buf by file.
PRINTK_C = r"""
typedef unsigned char u8;
typedef unsigned short u16;
typedef unsigned int u32;
typedef unsigned long long u64;
struct printk_log {
    u64 ts_nsec;
    u16 len;
    u16 text_len;
    u16 dict_len;
    u8 facility;
    u8 flags:5;
    u8 level:3;
};
enum log_flags { LOG_NEWLINE = 2, LOG_CONT = 8 };
static char *log_buf __attribute__((used));
static u32 log_first_idx __attribute__((used));
static u32 log_next_idx __attribute__((used));
static u64 log_first_seq __attribute__((used));
static u64 log_next_seq __attribute__((used));
"""

#: Kernel eras: the -D macros that give each its struct layout.
LAYOUTS: dict[str, tuple[str, ...]] = {
    # 6.1: cmd_sem u64 *, cmd_sem_val u64, pci_seg pointer, is_iommu_v2, no cmd_sem_paddr
    "6.1": ("HAVE_FEATURES2", "HAVE_IS_IOMMU_V2"),
    # >= 6.18: atomic64_t cmd_sem_val, cmd_sem_paddr, features2, global EFR, sev_plat_status
    "6.18": ("HAVE_FEATURES2", "ATOMIC_CMD_SEM_VAL", "HAVE_CMD_SEM_PADDR", "HAVE_GLOBAL_EFR", "SEV_PLAT_STATUS"),
    # 5.4: u16 pci_seg, embedded cmd_sem, global device table, no amd_iommu_snp_en, legacy printk
    "5.4": ("PRE_519", "EMBEDDED_CMD_SEM", "HAVE_IS_IOMMU_V2", "NO_SNP_EN", "LEGACY_PRINTK"),
}


def have_gcc() -> bool:
    return shutil.which("gcc") is not None


def build_elf(workdir: Path, layout: str, extra: tuple[str, ...] = ()) -> Path:
    """Compile and link the fake kernel for ``layout`` (+ extra macros); cached by name."""
    macros = LAYOUTS[layout] + tuple(extra)
    name = "kernel-" + "-".join([layout.replace(".", "_"), *sorted(extra)])
    out = workdir / f"{name}.elf"
    if out.exists():
        return out
    workdir.mkdir(parents=True, exist_ok=True)
    sources = [workdir / "kernel.c"]
    sources[0].write_text(KERNEL_C)
    if "LEGACY_PRINTK" in macros:
        sources.append(workdir / "printk.c")
        sources[1].write_text(PRINTK_C)
    objects = []
    for src in sources:
        obj = workdir / f"{name}-{src.stem}.o"
        _run(["gcc", "-g", "-O0", "-fno-eliminate-unused-debug-types", "-fno-pic",
              *[f"-D{m}" for m in macros], "-c", str(src), "-o", str(obj)])
        objects.append(str(obj))
    _run(["gcc", "-g", "-nostdlib", "-static", "-no-pie", "-Wl,-e,0",
          "-Wl,-Ttext=0xffffffff81000000", "-Wl,-Tdata=0xffffffff82000000",
          "-Wl,-Tbss=0xffffffff82100000", *objects, "-o", str(out)])
    return out


def _run(cmd: list[str]) -> None:
    done = subprocess.run(cmd, capture_output=True, text=True)
    if done.returncode:
        raise RuntimeError(f"{' '.join(cmd)} failed:\n{done.stderr}")


def virt(phys: int) -> int:
    """Direct-map address of a physical address."""
    return PAGE_OFFSET + phys


class FakeKernel:
    """A drgn Program with the fake kernel's DWARF and sparse crafted memory."""

    def __init__(self, elf: Path | None, platform: drgn.Platform = PLATFORM):
        self.prog = drgn.Program(platform)
        self.pages: dict[int, bytearray] = {}
        if elf is not None:
            module = self.prog.main_module("fake-vmlinux", create=True)
            module.try_file(str(elf), force=True)

    # -- raw memory -------------------------------------------------------------------------
    def _page(self, base: int) -> bytearray:
        page = self.pages.get(base)
        if page is None:
            page = self.pages[base] = bytearray(PAGE)

            def read(address: int, count: int, offset: int, physical: bool, page=page) -> bytes:
                return bytes(page[offset:offset + count])

            self.prog.add_memory_segment(base, PAGE, read)
        return page

    def write(self, address: int, data: bytes) -> None:
        for i, byte in enumerate(data):
            where = address + i
            self._page(where - where % PAGE)[where % PAGE] = byte

    def map_zero(self, address: int, size: int) -> None:
        """Make [address, address+size) readable (as zeros)."""
        for base in range(address - address % PAGE, address + size, PAGE):
            self._page(base)

    def write_u32s(self, address: int, values: list[int]) -> None:
        self.write(address, b"".join(v.to_bytes(4, "little") for v in values))

    def write_u64(self, address: int, value: int) -> None:
        self.write(address, value.to_bytes(8, "little"))

    # -- typed memory -----------------------------------------------------------------------
    def write_object(self, address: int, type_: str | drgn.Type, value: Any) -> None:
        self.write(address, drgn.Object(self.prog, type_, value).to_bytes_())

    def set_global(self, name: str, value: Any) -> None:
        obj = self.prog[name]
        self.write_object(obj.address_, obj.type_, value)

    def address_of(self, name: str) -> int:
        return self.prog[name].address_

    def offsetof(self, type_: str, member: str) -> int:
        return drgn.offsetof(self.prog.type(type_), member)

    def empty_list(self, name: str) -> None:
        head = self.address_of(name)
        self.set_global(name, {"next": head, "prev": head})


# ================================================================================================
# Scenarios
# ================================================================================================

CWB_PHYS = 0x100805000  # the CWB page of the founding mail's debug line "paddr = 0x100805000"
IOMMU_PHYS = 0x3000000
SEG_PHYS = 0x1000000
DEV_TABLE_PHYS = 0x2000000
CMD_BUF_PHYS = 0x4000000
EVT_BUF_PHYS = 0x5000000
PSP_PHYS = 0x6000000
SEV_PHYS = 0x6001000
EFR_QEMU = 0x29D3
SNP = 1 << 63


@dataclass
class Scenario:
    """Inputs of one fake crashed kernel (defaults: an SNP host that crashed with SNP on)."""

    layout: str = "6.1"
    extra: tuple[str, ...] = ()
    release: str = "6.1.0-fake-amd64"
    vendor: int = 2
    sme_me_mask: int = 0
    features: int = SNP | EFR_QEMU
    global_efr: int = 0
    devid: int = 0x0002  # 00:00.2, where AMD IOMMUs usually sit
    segment: int = 0
    flags: int = 1  # TRANS_PRE_ENABLED
    cmd_sem_stored: int = 0x2C
    cmd_sem_issued: int = 0x2D
    map_cwb: bool = True
    map_cmd_buf: bool = True
    valid_dtes: int = 5
    unreadable_dt_page: bool = False
    iommus: int = 1
    psp: str = "present"  # present | null | absent (compile without it)
    snp_initialized: bool = True
    sev_state: int = 2
    cmd_mutex_owner: int = 0xFFFF888100ABC000
    log: list[tuple[int, str]] = field(default_factory=list)


@dataclass
class Built:
    kernel: FakeKernel
    scenario: Scenario
    cmd_sem_phys: int
    store_address: int  # what the ring's completion waits store to
    elf: Path | None = None  # the fake vmlinux

    @property
    def prog(self) -> drgn.Program:
        return self.kernel.prog


def build(workdir: Path, sc: Scenario) -> Built:
    """Compile (cached) and populate a fake kernel for ``sc``."""
    extra = tuple(sc.extra) + (("NO_PSP",) if sc.psp == "absent" else ())
    elf = build_elf(workdir, sc.layout, extra)
    k = FakeKernel(elf)
    _machine(k, sc)
    _globals(k, sc)
    embedded = "EMBEDDED_CMD_SEM" in LAYOUTS[sc.layout]
    cmd_sem_phys = IOMMU_PHYS + k.offsetof("struct amd_iommu", "cmd_sem") if embedded else CWB_PHYS
    # What build_completion_wait() puts in the command: iommu_virt_to_phys() adds the C-bit.
    store = (cmd_sem_phys | sc.sme_me_mask) & ((1 << 52) - 1)
    _device_tables(k, sc)
    _iommus(k, sc, embedded, cmd_sem_phys, store)
    if sc.psp != "absent":
        _psp(k, sc)
    if sc.log:
        write_legacy_log(k, sc.log)
    return Built(k, sc, cmd_sem_phys, store, elf)


def _machine(k: FakeKernel, sc: Scenario) -> None:
    k.write(k.prog["init_uts_ns"].name.release.address_, sc.release.encode() + b"\0")
    k.set_global("boot_cpu_data", {"x86": 25, "x86_vendor": sc.vendor, "x86_model": 1})
    k.set_global("page_offset_base", PAGE_OFFSET)
    k.set_global("phys_base", 0)


def _globals(k: FakeKernel, sc: Scenario) -> None:
    if "NO_SNP_EN" not in LAYOUTS[sc.layout]:
        k.set_global("amd_iommu_snp_en", bool(sc.features & SNP or sc.global_efr & SNP))
    k.set_global("amd_iommu_irq_remap", True)
    k.set_global("irq_remapping_enabled", 1)
    k.set_global("sme_me_mask", sc.sme_me_mask)
    k.set_global("init_state", 6)  # IOMMU_INITIALIZED
    k.set_global("amd_iommu_pre_enabled", False)
    k.set_global("crash_kexec_post_notifiers", True)
    k.set_global("kexec_crash_image", virt(0x7000000))
    if "HAVE_GLOBAL_EFR" in LAYOUTS[sc.layout]:
        k.set_global("amd_iommu_efr", sc.global_efr)
        k.set_global("amd_iommu_efr2", 0)


def _device_tables(k: FakeKernel, sc: Scenario) -> None:
    size = 2 * PAGE  # 256 entries (last_bdf 0xff)
    k.map_zero(virt(DEV_TABLE_PHYS), size)
    for entry in range(sc.valid_dtes):
        k.write_u64(virt(DEV_TABLE_PHYS) + entry * 32, 0x3 if entry % 2 else 0x1)
    k.write_u64(virt(DEV_TABLE_PHYS) + 7 * 32, 0x2)  # TV without V: not counted
    if sc.unreadable_dt_page:
        k.pages.pop(virt(DEV_TABLE_PHYS) + PAGE)
        k.prog.add_memory_segment(virt(DEV_TABLE_PHYS) + PAGE, PAGE, _fault_reader)
    if sc.layout == "5.4":
        k.set_global("amd_iommu_dev_table", virt(DEV_TABLE_PHYS))
        k.set_global("amd_iommu_last_bdf", 0xFF)
        return
    head = k.address_of("amd_iommu_pci_seg_list")
    seg = virt(SEG_PHYS)
    k.set_global("amd_iommu_pci_seg_list", {"next": seg, "prev": seg})
    k.write_object(seg, "struct amd_iommu_pci_seg", {
        "list": {"next": head, "prev": head}, "id": sc.segment, "last_bdf": 0xFF,
        "dev_table_size": size, "dev_table": virt(DEV_TABLE_PHYS)})


def _fault_reader(address: int, count: int, offset: int, physical: bool) -> bytes:
    raise drgn.FaultError("page excluded from the dump", address)


def _iommus(k: FakeKernel, sc: Scenario, embedded: bool, cmd_sem_phys: int, store: int) -> None:
    head = k.address_of("amd_iommu_list")
    if sc.iommus == 0:
        k.empty_list("amd_iommu_list")
        return
    nodes = [virt(IOMMU_PHYS + i * 0x10000) for i in range(sc.iommus)]
    k.set_global("amd_iommu_list", {"next": nodes[0], "prev": nodes[-1]})
    for i, node in enumerate(nodes):
        value = _iommu_value(sc, i, embedded, cmd_sem_phys)
        value["list"] = {"next": nodes[i + 1] if i + 1 < len(nodes) else head,
                         "prev": nodes[i - 1] if i else head}
        k.write_object(node, "struct amd_iommu", _only_members(k, value))
    if embedded:
        k.write_u64(virt(IOMMU_PHYS) + k.offsetof("struct amd_iommu", "cmd_sem"), sc.cmd_sem_stored)
    elif sc.map_cwb:
        k.write_u64(virt(CWB_PHYS), sc.cmd_sem_stored)
    if sc.map_cmd_buf:
        _command_ring(k, sc, store)


def _iommu_value(sc: Scenario, index: int, embedded: bool, cmd_sem_phys: int) -> dict[str, Any]:
    value: dict[str, Any] = {
        "index": index, "mmio_phys": 0xFED80000 + index * 0x80000, "mmio_phys_end": 0x80000,
        "features": sc.features, "features2": 0, "is_iommu_v2": True, "devid": sc.devid,
        "cap_ptr": 0x40, "cmd_buf": virt(CMD_BUF_PHYS), "cmd_buf_head": 0x60,
        "cmd_buf_tail": 0x60, "evt_buf": virt(EVT_BUF_PHYS), "flags": sc.flags,
        "pci_seg": sc.segment if sc.layout == "5.4" else virt(SEG_PHYS),
    }
    if not embedded:
        value["cmd_sem"] = virt(cmd_sem_phys)
        atomic = "ATOMIC_CMD_SEM_VAL" in LAYOUTS[sc.layout]
        value["cmd_sem_val"] = {"counter": sc.cmd_sem_issued} if atomic else sc.cmd_sem_issued
        value["cmd_sem_paddr"] = (cmd_sem_phys | sc.sme_me_mask)
    return value


def _only_members(k: FakeKernel, value: dict[str, Any]) -> dict[str, Any]:
    type_ = k.prog.type("struct amd_iommu")
    return {name: v for name, v in value.items() if type_.has_member(name)}


def completion_wait(address: int, data: int, interrupt: bool = False) -> list[int]:
    """The four dwords of a COMPLETION_WAIT storing ``data`` at ``address`` (S bit set)."""
    low = (address & 0xFFFFFFF8) | 0x1 | (0x2 if interrupt else 0)
    high = ((address >> 32) & 0xFFFFF) | (0x1 << 28)
    return [low, high, data & 0xFFFFFFFF, data >> 32]


def _command_ring(k: FakeKernel, sc: Scenario, store: int) -> None:
    """Ring with, before tail 0x60: an old wait elsewhere, invalidations, then two waits."""
    base = virt(CMD_BUF_PHYS)
    k.map_zero(base, 8192)
    entries = [
        completion_wait(0x12345000, 7),  # slot 0: older wait to some other address
        [0x0000FFFF, 0x3 << 28, 0x7FFFF000, 0x7FFFFFFF],  # INV_IOMMU_PAGES
        completion_wait(store, sc.cmd_sem_issued - 1),
        [0x0000FFFF, 0x5 << 28, 0, 0],  # INV_IRT
        [0, 0x8 << 28, 0, 0],  # INV_ALL
        completion_wait(store, sc.cmd_sem_issued),  # slot 5: the last one (tail = 0x60)
    ]
    for slot, dwords in enumerate(entries):
        k.write_u32s(base + slot * 16, dwords)
    k.write_u32s(base + 500 * 16, completion_wait(0xABC000, 99))  # stale, from a previous lap


def _psp(k: FakeKernel, sc: Scenario) -> None:
    if sc.psp == "null":
        k.set_global("psp_master", 0)
        return
    k.set_global("psp_master", virt(PSP_PHYS))
    k.write_object(virt(PSP_PHYS), "struct psp_device", {"sev_data": virt(SEV_PHYS)})
    sev: dict[str, Any] = {"api_major": 1, "api_minor": 55, "build": 31, "snp_initialized": sc.snp_initialized}
    if k.prog.type("struct sev_device").has_member("state"):
        sev["state"] = sc.sev_state
    else:
        sev["sev_plat_status"] = {"state": sc.sev_state}
    k.write_object(virt(SEV_PHYS), "struct sev_device", sev)
    k.set_global("psp_dead", False)
    k.set_global("sev_cmd_mutex", {"owner": {"counter": sc.cmd_mutex_owner}})


def write_legacy_log(k: FakeKernel, records: list[tuple[int, str]]) -> None:
    """Fill the pre-5.10 ``log_buf`` with ``(timestamp_ns, text)`` records."""
    buf = virt(0x8000000)
    offset = 0
    header = k.prog.type("struct printk_log").size
    for ts, text in records:
        body = text.encode()
        length = (header + len(body) + 7) & ~7
        k.write_object(buf + offset, "struct printk_log", {
            "ts_nsec": ts, "len": length, "text_len": len(body), "dict_len": 0,
            "facility": 0, "flags": 2, "level": 6})
        k.write(buf + offset + header, body)
        offset += length
    k.map_zero(buf, offset + 16)
    k.write_u64(k.prog.object("log_buf", filename="printk.c").address_, buf)
    k.set_global("log_first_idx", 0)
    k.set_global("log_next_idx", offset)
    k.set_global("log_first_seq", 0)
    k.set_global("log_next_seq", len(records))


# ================================================================================================
# The fake kernel as a dump file
# ================================================================================================

START_KERNEL_MAP = 0xFFFFFFFF80000000
#: somewhere drgn's x86_64 page-table walker may look; never needed, every page has a PT_LOAD
SWAPPER_PG_DIR = 0xFFFFFFFF82A00000


def build_id(elf: Path) -> str:
    """The GNU build ID of the fake vmlinux (drgn matches it against the dump's VMCOREINFO)."""
    data = elf.read_bytes()
    at = data.find(b"GNU\0")
    size = int.from_bytes(data[at - 8:at - 4], "little")
    return data[at + 4:at + 4 + size].hex()


def write_elf_core(built: Built, path: Path, elf: Path) -> Path:
    """The fake kernel's memory as an ELF vmcore like /proc/vmcore saved with cp: one PT_NOTE with
    VMCOREINFO (linux/crash_core.h names: OSRELEASE, PAGESIZE, KERNELOFFSET, SYMBOL(swapper_pg_dir),
    BUILD-ID of ``elf``, the fake vmlinux it was built from) and one PT_LOAD per run of pages, with
    their virtual and physical addresses."""
    kernel = built.kernel
    runs: list[list[Any]] = []
    for base in sorted(kernel.pages):
        if runs and runs[-1][0] + len(runs[-1][1]) == base:
            runs[-1][1].extend(kernel.pages[base])
        else:
            runs.append([base, bytearray(kernel.pages[base])])
    info = (f"OSRELEASE={built.scenario.release}\nPAGESIZE={PAGE}\nKERNELOFFSET=0\n"
            f"SYMBOL(swapper_pg_dir)={SWAPPER_PG_DIR:x}\nBUILD-ID={build_id(elf)}\n").encode()
    name = b"VMCOREINFO\0"
    note = (struct.pack("<III", len(name), len(info), 0) + name.ljust(-(-len(name) // 4) * 4, b"\0")
            + info.ljust(-(-len(info) // 4) * 4, b"\0"))
    phnum = 1 + len(runs)
    offset = 64 + 56 * phnum
    headers = [struct.pack("<IIQQQQQQ", 4, 0, offset, 0, 0, len(note), len(note), 4)]  # PT_NOTE
    offset += len(note)
    for base, blob in runs:
        phys = base - START_KERNEL_MAP if base >= START_KERNEL_MAP else base - PAGE_OFFSET
        headers.append(struct.pack("<IIQQQQQQ", 1, 7, offset, base, phys, len(blob), len(blob), PAGE))  # PT_LOAD
        offset += len(blob)
    ident = b"\x7fELF" + bytes([2, 1, 1, 0]) + bytes(8)  # ELFCLASS64, little-endian, ET_CORE, EM_X86_64
    header = ident + struct.pack("<HHIQQQIHHHHHH", 4, 62, 1, 0, 64, 0, 0, 64, 56, phnum, 64, 0, 0)
    path.write_bytes(header + b"".join(headers) + note + b"".join(bytes(blob) for _, blob in runs))
    return path
