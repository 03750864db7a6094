"""Generate large, realistic console captures for the ingestion benchmark (stdlib only).

    python bench/gen_capture.py noise OUT --size 1G [--seed 1] [--boot-every 16M]
    python bench/gen_capture.py storm OUT [--lines 1000000] [--seed 1]

``noise``: many boots of ordinary kernel boot and runtime output (e820, ACPI tables,
PCI enumeration, IOMMU groups, usb, ext4/xfs, NIC link up/down, bridges, audit,
systemd, UFW, segfaults...), shapes taken from the real captures in
../shared/samples and ../shared/corpus. About one line in 10,000 is a real AMD-Vi /
ccp / SEV message, about one in 100,000 starts a kernel report (WARNING, oops, soft
lockup, hung task). A ``Linux version`` banner starts a new boot every ~16 MB; some
boots end in a panic followed by a kdump kernel. A small fraction of boots is
written as a journal (``Sep 09 12:00:00 host kernel: ...``) or with ``<6>`` levels.

``storm``: a short boot preamble, then N ``Event logged [IO_PAGE_FAULT ...]`` lines
in both the ``iommu ivhd0: AMD-Vi:`` and the device-attributed ``nvme 0000:c1:00.0:
AMD-Vi:`` forms.

Output is a pure function of the arguments (same seed, same bytes). Sizes take
K/M/G suffixes (powers of 1024). Lines are built in chunks and written in large
blocks: a 1 GB capture takes some ten seconds.
"""
from __future__ import annotations

import argparse
import os
import random
import sys
import time

#: Bump when the output for the same arguments changes (invalidates benchmark caches).
GENERATOR_VERSION = 1

CHUNK_LINES = 32768
DEFAULT_SIGNAL_EVERY = 10_000  # lines between sparse AMD-Vi/ccp/SEV lines (mean)
DEFAULT_REPORT_EVERY = 100_000  # lines between kernel reports (mean)


def parse_size(text: str) -> int:
    """'1G', '200M', '64K', '123' -> bytes (binary multiples)."""
    text = text.strip().upper().removesuffix("B").removesuffix("I")
    mult = 1
    if text and text[-1] in "KMGT":
        mult = 1024 ** ("KMGT".index(text[-1]) + 1)
        text = text[:-1]
    value = float(text)
    if value <= 0:
        raise argparse.ArgumentTypeError("size must be positive")
    return int(value * mult)


# ---------------------------------------------------------------------------
# Machines
# ---------------------------------------------------------------------------

PROFILES = [
    {
        "name": "epyc-snp",
        "host": "snp-host-{n:02d}",
        "releases": ["6.8.0-45-generic", "6.11.0-rc6-next-20240903-snp-host-f2a41ff576cc+",
                     "5.14.0-570.23.1.el9_6.x86_64", "6.12.9-200.fc41.x86_64"],
        "dmi": "Supermicro AS -2125HS-TNR/H13DSH, BIOS 1.6a 03/25/2024",
        "cpu": "AMD EPYC 9454 48-Core Processor (family: 0x19, model: 0x11, stepping: 0x1)",
        "cpus": 96, "nodes": 2, "ram_mb": 786432,
        "iommus": ["0000:00:00.2", "0000:20:00.2", "0000:40:00.2", "0000:60:00.2",
                   "0000:80:00.2", "0000:a0:00.2", "0000:c0:00.2", "0000:e0:00.2"],
        "buses": ["00", "01", "02", "03", "20", "21", "40", "41", "46", "60", "61", "80", "81",
                  "a0", "a1", "c0", "c1", "c2", "e0", "e1", "e2"],
        "psp": "0000:46:00.1", "snp": True, "efr": "0x25bf732fa2295afe", "efr2": "0x1d",
        "nics": [("igb", "0000:c2:00.0", "eno1"), ("igb", "0000:c2:00.1", "eno2"),
                 ("mlx5_core", "0000:41:00.0", "enp65s0f0np0"), ("i40e", "0000:02:00.0", "enp2s0f0")],
        "disks": [("nvme", "0000:c1:00.0", "nvme0n1"), ("nvme", "0000:21:00.0", "nvme1n1")],
        "bridges": ["vmbr0", "virbr0"],
    },
    {
        "name": "ryzen",
        "host": "homeserver{n}",
        "releases": ["6.5.11-7-pve", "6.8.12-4-pve", "5.3.0-29-generic"],
        "dmi": "ASUSTeK COMPUTER INC. PN51-E1/PN51-E1, BIOS 0508 10/13/2021",
        "cpu": "AMD Ryzen 7 5700U with Radeon Graphics (family: 0x17, model: 0x68, stepping: 0x1)",
        "cpus": 16, "nodes": 1, "ram_mb": 65536,
        "iommus": ["0000:00:00.2"],
        "buses": ["00", "01", "02", "03", "04"],
        "psp": "0000:04:00.2", "snp": False, "efr": "0x206d73ef22254ade", "efr2": "0x0",
        "nics": [("r8169", "0000:02:00.0", "enp2s0"), ("iwlwifi", "0000:03:00.0", "wlp3s0")],
        "disks": [("nvme", "0000:01:00.0", "nvme0n1")],
        "bridges": ["vmbr0", "docker0"],
    },
    {
        "name": "qemu",
        "host": "guest{n}",
        "releases": ["6.1.0-56-amd64", "6.1.0-26-amd64"],
        "dmi": "QEMU Standard PC (Q35 + ICH9, 2009), BIOS 1.16.2-debian-1.16.2-1 04/01/2014",
        "cpu": "AMD QEMU TCG CPU version 2.5+ (family: 0xf, model: 0x6b, stepping: 0x1)",
        "cpus": 2, "nodes": 1, "ram_mb": 2048,
        "iommus": ["0000:00:02.0"],
        "buses": ["00"],
        "psp": None, "snp": False, "efr": "0x0", "efr2": "0x0",
        "nics": [("virtio_net", "0000:00:03.0", "enp0s3")],
        "disks": [("virtio_blk", "0000:00:04.0", "vda")],
        "bridges": ["docker0"],
    },
]

PCI_KINDS = [  # vendor:device, class, driver
    ("1022:14a4", "0x060000", None), ("1022:14a5", "0x080600", None), ("1022:14a6", "0x060400", "pcieport"),
    ("1022:14a7", "0x060400", "pcieport"), ("1022:14ab", "0x060400", "pcieport"), ("1022:14ac", "0x130000", None),
    ("1022:790b", "0x0c0500", "piix4_smbus"), ("1022:790e", "0x060100", None), ("1022:14ad", "0x060000", None),
    ("1022:14b0", "0x060000", None), ("1022:14b4", "0x060000", None), ("144d:a80a", "0x010802", "nvme"),
    ("8086:1533", "0x020000", "igb"), ("15b3:101d", "0x020000", "mlx5_core"), ("1a03:2000", "0x030000", "ast"),
    ("1022:14c9", "0x130000", None), ("1022:14ca", "0x108000", "ccp"), ("1022:14cb", "0x0c0330", "xhci_hcd"),
    ("1022:7901", "0x010601", "ahci"), ("8086:1572", "0x020000", "i40e"),
]

FUNCS = [
    "dump_stack_lvl", "dump_stack", "__warn", "report_bug", "handle_bug", "exc_invalid_op", "asm_exc_invalid_op",
    "iommu_completion_wait", "amd_iommu_flush_all_caches", "amd_iommu_domain_flush_pages", "iommu_v1_map_pages",
    "__iommu_map", "iommu_map_sg", "iommu_dma_map_sg", "__dma_map_sg_attrs", "dma_map_sgtable",
    "nvme_map_data", "nvme_queue_rq", "blk_mq_dispatch_rq_list", "__blk_mq_sched_dispatch_requests",
    "blk_mq_sched_dispatch_requests", "blk_mq_run_hw_queue", "blk_mq_flush_plug_list", "__blk_flush_plug",
    "blk_finish_plug", "ext4_writepages", "do_writepages", "filemap_fdatawrite_wbc", "__writeback_single_inode",
    "writeback_sb_inodes", "wb_writeback", "wb_workfn", "process_one_work", "worker_thread", "kthread",
    "ret_from_fork", "ret_from_fork_asm", "kmem_cache_alloc", "kmalloc_trace", "__kmalloc", "skb_release_data",
    "napi_consume_skb", "mlx5e_poll_tx_cq", "mlx5e_napi_poll", "__napi_poll", "net_rx_action", "__do_softirq",
    "irq_exit_rcu", "common_interrupt", "asm_common_interrupt", "cpuidle_enter_state", "cpuidle_enter",
    "do_idle", "cpu_startup_entry", "start_secondary", "secondary_startup_64_no_verify", "schedule",
    "__schedule", "schedule_timeout", "wait_for_completion", "__flush_work", "rcu_barrier", "synchronize_rcu",
    "kvm_vcpu_ioctl", "kvm_arch_vcpu_ioctl_run", "svm_vcpu_run", "sev_handle_vmgexit", "snp_page_reclaim",
    "rmpupdate", "__x64_sys_ioctl", "do_syscall_64", "entry_SYSCALL_64_after_hwframe", "vfs_write",
    "ksys_write", "__x64_sys_write", "vfs_read", "ksys_read", "do_sys_openat2", "__x64_sys_openat",
    "exit_to_user_mode_prepare", "syscall_exit_to_user_mode", "filp_close", "do_dup2", "kmem_cache_free",
    "smp_call_function_many_cond", "on_each_cpu_cond_mask", "flush_tlb_mm_range", "zap_page_range_single",
    "madvise_vma_behavior", "do_madvise", "__x64_sys_madvise", "page_fault_oops", "do_user_addr_fault",
    "exc_page_fault", "asm_exc_page_fault", "mutex_lock", "__mutex_lock", "i40e_clean_rx_irq",
    "igb_poll", "usb_hcd_giveback_urb", "xhci_irq", "__handle_irq_event_percpu", "handle_irq_event",
]
MODULES = [
    "vhost_net", "vhost", "macvtap", "macvlan", "tap", "xt_nat", "veth", "nf_conntrack_netlink", "xfrm_user",
    "xt_addrtype", "br_netfilter", "xt_CHECKSUM", "xt_MASQUERADE", "xt_conntrack", "ipt_REJECT", "nf_reject_ipv4",
    "xt_tcpudp", "ip6table_mangle", "ip6table_nat", "iptable_mangle", "iptable_nat", "nf_nat", "nf_conntrack",
    "nf_defrag_ipv6", "nf_defrag_ipv4", "nf_tables", "nfnetlink", "bridge", "stp", "llc", "amd64_edac",
    "edac_mce_amd", "kvm_amd", "kvm", "irqbypass", "crct10dif_pclmul", "crc32_pclmul", "ghash_clmulni_intel",
    "sha512_ssse3", "aesni_intel", "crypto_simd", "cryptd", "rapl", "ipmi_ssif", "acpi_ipmi", "ipmi_si",
    "ipmi_devintf", "ipmi_msghandler", "k10temp", "ccp", "ast", "drm_shmem_helper", "drm_kms_helper", "drm",
    "mlx5_ib", "ib_uverbs", "ib_core", "mlx5_core", "mlxfw", "psample", "tls", "pci_hyperv_intf", "igb",
    "i2c_algo_bit", "dca", "nvme", "nvme_core", "xhci_pci", "xhci_pci_renesas", "ahci", "libahci", "i40e",
    "xfs", "ext4", "mbcache", "jbd2", "dm_mod", "sd_mod", "sg", "overlay", "autofs4", "fuse", "loop",
]
COMMS = ["kworker/u256:3", "kworker/12:1H", "swapper/0", "qemu-system-x86", "CPU 3/KVM", "nvme-wq",
         "jbd2/nvme0n1p2-8", "systemd-journal", "containerd", "postgres", "java", "python3", "sshd"]
UNITS = ["systemd-tmpfiles-clean.service", "apt-daily.service", "apt-daily-upgrade.service", "logrotate.service",
         "man-db.service", "fstrim.service", "sysstat-collect.service", "phpsessionclean.service",
         "pve-daily-update.service", "certbot.service", "motd-news.service", "fwupd-refresh.service",
         "update-notifier-download.service", "dpkg-db-backup.service", "e2scrub_all.service", "anacron.service"]
USB_DEVICES = [("0781", "5581", "Ultra", "SanDisk"), ("046d", "c52b", "USB Receiver", "Logitech"),
               ("0951", "1666", "DataTraveler 3.0", "Kingston"), ("058f", "6387", "Mass Storage", "Generic"),
               ("0bda", "8153", "USB 10/100/1000 LAN", "Realtek"), ("1a86", "7523", "USB Serial", "QinHeng"),
               ("0557", "2419", "USB Composite Device", "ATEN"), ("2109", "0817", "USB3.0 Hub", "VIA Labs, Inc.")]
APPARMOR = [("snap.firefox.firefox", "/proc/{pid}/cgroup", "open", "firefox"),
            ("rsyslogd", "/run/systemd/sessions/", "open", "rsyslogd"),
            ("lxc-container-default-cgns", "/sys/fs/cgroup/", "mount", "systemd"),
            ("/usr/sbin/cups-browsed", "/usr/share/cups/locale/", "open", "cups-browsed"),
            ("snap-update-ns.lxd", "/snap/lxd/", "mkdir", "snap-update-ns")]


def _uuid(rng: random.Random) -> str:
    h = f"{rng.getrandbits(128):032x}"
    return f"{h[:8]}-{h[8:12]}-{h[12:16]}-{h[16:20]}-{h[20:]}"


def _mac(rng: random.Random) -> str:
    return ":".join(f"{rng.getrandbits(8):02x}" for _ in range(6))


def _ip(rng: random.Random, net: str = "10.20") -> str:
    return f"{net}.{rng.randrange(0, 255)}.{rng.randrange(1, 255)}"


def _frame(rng: random.Random, name: str | None = None, unreliable: bool = False) -> str:
    size = rng.randrange(0x40, 0x1200)
    off = rng.randrange(0x4, size)
    text = f"{name or rng.choice(FUNCS)}+0x{off:x}/0x{size:x}"
    if rng.random() < 0.12:
        text += f" [{rng.choice(MODULES)}]"
    return (" ? " if unreliable else " ") + text


def _regs(rng: random.Random, user: bool) -> list[str]:
    def r() -> str:
        kind = rng.random()
        if kind < 0.3:
            return "0000000000000000"
        if kind < 0.6:
            return f"ffff{rng.getrandbits(48):012x}"
        if user:
            return f"00007f{rng.getrandbits(40):010x}"
        return f"{rng.getrandbits(32):016x}"
    return [
        f"RSP: {'002b' if user else '0018'}:{'00007ffe' if user else 'ffffb35e'}{rng.getrandbits(32):08x} "
        f"EFLAGS: {rng.choice(['00000246', '00010246', '00010282', '00000202'])}"
        + (f" ORIG_RAX: {rng.getrandbits(8):016x}" if user else ""),
        f"RAX: {r()} RBX: {r()} RCX: {r()}",
        f"RDX: {r()} RSI: {r()} RDI: {r()}",
        f"RBP: {r()} R08: {r()} R09: {r()}",
        f"R10: {r()} R11: {r()} R12: {r()}",
        f"R13: {r()} R14: {r()} R15: {r()}",
    ]


def _code(rng: random.Random) -> str:
    raw = [f"{rng.getrandbits(8):02x}" for _ in range(64)]
    raw[42] = f"<{raw[42]}>"
    return "Code: " + " ".join(raw)


# ---------------------------------------------------------------------------
# Formatting: (dt_us, level, body) entries -> text lines
# ---------------------------------------------------------------------------

class Formatter:
    """Turns (time in us, level, body) into one line of the boot's capture style.

    level < 0 marks a userspace line ("sshd[123]: ..."), only written by journals.
    """

    def __init__(self, style: str, host: str, wall_base: int) -> None:
        self.style = style
        self.host = host
        self.wall_base = wall_base
        self._sec = -1
        self._wall = ""

    def _wallclock(self, t: int) -> str:
        sec = t // 1_000_000
        if sec != self._sec:
            self._sec = sec
            self._wall = time.strftime("%b %d %H:%M:%S", time.gmtime(self.wall_base + sec))
        return self._wall

    def line(self, t: int, level: int, body: str) -> str:
        if self.style == "dmesg":
            return f"[{t // 1_000_000:5d}.{t % 1_000_000:06d}] {body}"
        if self.style == "level":
            return f"<{level if level >= 0 else 6}>[{t // 1_000_000:5d}.{t % 1_000_000:06d}] {body}"
        if level < 0:
            return f"{self._wallclock(t)} {self.host} {body}"
        return f"{self._wallclock(t)} {self.host} kernel: {body}"

    def lines(self, t: int, entries) -> tuple[list[str], int]:
        out = []
        append = out.append
        style = self.style
        if style == "dmesg":
            for dt, _level, body in entries:
                t += dt
                append(f"[{t // 1_000_000:5d}.{t % 1_000_000:06d}] {body}")
        elif style == "level":
            for dt, level, body in entries:
                t += dt
                append(f"<{level if level >= 0 else 6}>[{t // 1_000_000:5d}.{t % 1_000_000:06d}] {body}")
        else:
            host = self.host
            for dt, level, body in entries:
                t += dt
                wall = self._wallclock(t)
                append(f"{wall} {host} {body}" if level < 0 else f"{wall} {host} kernel: {body}")
        return out, t


# ---------------------------------------------------------------------------
# Boot preamble
# ---------------------------------------------------------------------------

def _devices(rng: random.Random, prof: dict) -> list[tuple[str, str, str, str | None]]:
    """(bdf, vendor:device, class, driver) for the PCI enumeration of one boot."""
    devs = []
    special = {bdf: drv for drv, bdf, _ in prof["nics"]} | {bdf: drv for drv, bdf, _ in prof["disks"]}
    for bus in prof["buses"]:
        for slot in range(rng.randrange(2, 9) if bus.endswith("0") else 1):
            for fn in range(rng.choice([1, 1, 2, 3, 8]) if bus.endswith("0") else rng.choice([1, 2])):
                bdf = f"0000:{bus}:{slot:02x}.{fn}"
                vd, cls, drv = rng.choice(PCI_KINDS)
                devs.append((bdf, vd, cls, special.get(bdf, drv)))
    for bdf, drv in special.items():
        if not any(d[0] == bdf for d in devs):
            devs.append((bdf, "8086:1533" if drv in ("igb",) else "144d:a80a", "0x020000", drv))
    for bdf in prof["iommus"]:
        if not any(d[0] == bdf for d in devs):
            devs.append((bdf, "1022:14a5", "0x080600", None))
    if prof["psp"] and not any(d[0] == prof["psp"] for d in devs):
        devs.append((prof["psp"], "1022:14ca", "0x108000", "ccp"))
    devs.sort()
    return devs


def preamble(rng: random.Random, prof: dict, release: str, kdump: bool, host: str, boot_epoch: int):
    """Entries (dt_us, level, body) of one kernel boot up to userspace."""
    out: list[tuple[int, int, str]] = []

    def add(body: str, dt: int = 0, level: int = 6) -> None:
        out.append((dt, level, body))

    def tick(lo: int = 20, hi: int = 900) -> int:
        return rng.randrange(lo, hi)

    ram = prof["ram_mb"]
    day = time.strftime("%a %b %d %H:%M:%S UTC %Y", time.gmtime(boot_epoch - rng.randrange(86400, 86400 * 90)))
    if "generic" in release:
        version = (f"(buildd@lcy02-amd64-080) (x86_64-linux-gnu-gcc-12 (Ubuntu 12.3.0-1ubuntu1~22.04) 12.3.0, GNU ld "
                   f"(GNU Binutils for Ubuntu) 2.38) #{rng.randrange(40, 60)}~22.04.1-Ubuntu SMP PREEMPT_DYNAMIC {day}")
    elif ".el9" in release or ".fc4" in release:
        version = (f"(mockbuild@iad1-prod-build001.bld.equ.rockylinux.org) (gcc (GCC) 11.5.0 20240719 (Red Hat "
                   f"11.5.0-5), GNU ld version 2.35.2-63.el9) #1 SMP PREEMPT_DYNAMIC {day}")
    elif "pve" in release:
        version = (f"(build@proxmox) (gcc (Debian 12.2.0-14) 12.2.0, GNU ld (GNU Binutils for Debian) 2.40) "
                   f"#1 SMP PREEMPT_DYNAMIC PMX {release.split('-')[0]}-{rng.randrange(1, 9)} ({day})")
    elif release.endswith("+"):
        version = f"(root@ethanolx) (gcc (GCC) 13.2.1 20231205, GNU ld version 2.41-37) #78 SMP PREEMPT_DYNAMIC {day}"
    else:
        version = (f"(debian-kernel@lists.debian.org) (gcc-12 (Debian 12.2.0-14+deb12u1) 12.2.0, GNU ld (GNU Binutils "
                   f"for Debian) 2.40) #1 SMP PREEMPT_DYNAMIC Debian 6.1.{rng.randrange(90, 200)}-{rng.randrange(1, 4)} "
                   f"({time.strftime('%Y-%m-%d', time.gmtime(boot_epoch - 86400 * 20))})")
    add(f"Linux version {release} {version}", 0, 5)
    root = _uuid(rng)
    if kdump:
        cmdline = (f"BOOT_IMAGE=/boot/vmlinuz-{release} root=UUID={root} ro console=ttyS0,115200 irqpoll nr_cpus=1 "
                   f"reset_devices cgroup_disable=memory mce=off numa=off udev.children-max=2 panic=10 "
                   f"acpi_no_memhotplug transparent_hugepage=never nokaslr hest_disable novmcoredd "
                   f"cma=0 hugetlb_cma=0 disable_cpu_apicid=0 elfcorehdr={rng.randrange(400000, 900000)}K")
    else:
        cmdline = (f"BOOT_IMAGE=/boot/vmlinuz-{release} root=UUID={root} ro console=tty0 console=ttyS0,115200n8 "
                   f"crashkernel=1G-4G:192M,4G-64G:256M,64G-:512M amd_iommu=on iommu=pt"
                   + (" mem_encrypt=on kvm_amd.sev=1" if prof["snp"] else "") + " quiet")
    add(f"Command line: {cmdline}")
    add("BIOS-provided physical RAM map:")
    base = 0
    for i in range(rng.randrange(6, 15)):
        size = rng.choice([0x9f000, 0x1000, 0x60000, 0x7fe00000, 0x3e000000, 0x200000, 0x100000000])
        kind = "usable" if i % 3 != 1 else rng.choice(["reserved", "ACPI data", "ACPI NVS"])
        add(f"BIOS-e820: [mem 0x{base:016x}-0x{base + size - 1:016x}] {kind}")
        base += size
    add("NX (Execute Disable) protection: active")
    add(f"SMBIOS {rng.choice(['2.8', '3.3.0', '3.5.0'])} present.")
    add(f"DMI: {prof['dmi']}")
    add(f"tsc: Detected {rng.randrange(2000, 3800)}.{rng.randrange(1000):03d} MHz processor")
    add("e820: update [mem 0x00000000-0x00000fff] usable ==> reserved")
    add(f"last_pfn = 0x{rng.getrandbits(24):x} max_arch_pfn = 0x400000000")
    add("x86/PAT: Configuration [0-7]: WB  WC  UC- UC  WB  WP  UC- WT  ")
    add("ACPI: Early table checksum verification disabled")
    oem = rng.choice(["SUPERM", "ALASKA", "BOCHS ", "_ASUS_"])
    for sig in ["RSDP", "XSDT", "FACP", "DSDT", "FACS", "SSDT", "APIC", "MCFG", "HPET", "BERT", "SSDT", "IVRS",
                "SSDT", "CRAT", "CDIT", "SRAT", "SLIT", "WSMT", "EINJ", "HEST", "FPDT"][: rng.randrange(9, 22)]:
        addr = 0x7FFE0000 + rng.getrandbits(16)
        add(f"ACPI: {sig} 0x{addr:016X} {rng.getrandbits(16):06X} (v{rng.randrange(1, 6):02d} {oem} A M I    "
            f"{rng.getrandbits(16):08X} AMI  {rng.getrandbits(24):08X})")
    for sig in ("FACP", "DSDT", "FACS", "APIC", "MCFG", "IVRS"):
        lo = 0x7FFE0000 + rng.getrandbits(16)
        add(f"ACPI: Reserving {sig} table memory at [mem 0x{lo:x}-0x{lo + rng.randrange(0x40, 0x2000):x}]")
    if not kdump:
        add(f"Reserving 256MB of memory at {rng.randrange(1000, 3000)}MB for crashkernel (System RAM: {ram}MB)",
            tick())
    add("Zone ranges:")
    add("  DMA      [mem 0x0000000000001000-0x0000000000ffffff]")
    add("  DMA32    [mem 0x0000000001000000-0x00000000ffffffff]")
    add(f"  Normal   [mem 0x0000000100000000-0x{ram * 1048576 + 0xfffffff:016x}]")
    add("Movable zone start for each node")
    add("Early memory node ranges")
    for node in range(prof["nodes"]):
        add(f"  node   {node}: [mem 0x{node << 40:016x}-0x{(node << 40) + 0x7fffffff:016x}]")
    add(f"ACPI: PM-Timer IO Port: 0x{rng.choice([0x408, 0x608, 0x808]):x}")
    add(f"IOAPIC[0]: apic_id {prof['cpus']}, version 33, address 0xfec00000, GSI 0-23")
    add("ACPI: INT_SRC_OVR (bus 0 bus_irq 0 global_irq 2 dfl dfl)")
    add("ACPI: INT_SRC_OVR (bus 0 bus_irq 9 global_irq 9 low level)")
    add("ACPI: Using ACPI (MADT) for SMP configuration information")
    cpus = 1 if kdump else prof["cpus"]
    add(f"smpboot: Allowing {prof['cpus']} CPUs, 0 hotplug CPUs")
    add(f"setup_percpu: NR_CPUS:8192 nr_cpumask_bits:{cpus} nr_cpu_ids:{cpus} nr_node_ids:{prof['nodes']}")
    add(f"percpu: Embedded {rng.randrange(56, 70)} pages/cpu s{rng.randrange(200000, 240000)} r8192 d28672 u262144")
    add(f"Kernel command line: {cmdline}")
    add(f"Dentry cache hash table entries: {1 << rng.randrange(17, 24)} (order: {rng.randrange(8, 14)}, "
        f"{1 << rng.randrange(20, 27)} bytes, linear)")
    add(f"Memory: {rng.randrange(200000, ram * 1000)}K/{ram * 1024}K available (16384K kernel code, 4096K rwdata, "
        f"10240K rodata, 4096K init, 4096K bss, {rng.randrange(100000, 900000)}K reserved, 0K cma-reserved)")
    add(f"SLUB: HWalign=64, Order=0-3, MinObjects=0, CPUs={cpus}, Nodes={prof['nodes']}")
    add(f"ftrace: allocating {rng.randrange(40000, 60000)} entries in {rng.randrange(150, 240)} pages")
    add("rcu: Preemptible hierarchical RCU implementation.")
    add(f"rcu: \tRCU restricting CPUs from NR_CPUS=8192 to nr_cpu_ids={cpus}.")
    add(f"NR_IRQS: 524544, nr_irqs: {rng.randrange(400, 3000)}, preallocated irqs: 16")
    add("Console: colour dummy device 80x25")
    add("printk: console [tty0] enabled")
    add("printk: console [ttyS0] enabled", 0)
    add("ACPI: Core revision 20230628")
    add("clocksource: hpet: mask: 0xffffffff max_cycles: 0xffffffff, max_idle_ns: 133484873504 ns")
    add("APIC: Switch to symmetric I/O mode setup", 4000)
    add(f"AMD-Vi: Using global IVHD EFR:{prof['efr']}, EFR2:{prof['efr2']}", tick(1000, 8000))
    if kdump:
        add("AMD-Vi: Translation is already enabled - trying to copy translation structures", tick())
        add("AMD-Vi: Copied DEV table from previous kernel.", tick())
    add("x2apic enabled" if prof["cpus"] > 8 else "Switched APIC routing to physical flat.", tick())
    add("..TIMER: vector=0x30 apic1=0 pin1=2 apic2=-1 pin2=-1", tick(100, 9000))
    add(f"Calibrating delay loop (skipped), value calculated using timer frequency.. "
        f"{rng.randrange(4000, 7600)}.{rng.randrange(100):02d} BogoMIPS (lpj={rng.randrange(8000000, 15000000)})",
        tick())
    add("x86/cpu: User Mode Instruction Prevention (UMIP) activated", tick())
    add("Spectre V1 : Mitigation: usercopy/swapgs barriers and __user pointer sanitization", tick())
    add("Spectre V2 : Mitigation: Retpolines", tick())
    add("Speculative Store Bypass: Mitigation: Speculative Store Bypass disabled via prctl", tick())
    for bit, what in ((0x001, "x87 floating point registers"), (0x002, "SSE registers"), (0x004, "AVX registers"),
                      (0x020, "AVX-512 opmask"), (0x200, "Protection Keys User registers")):
        add(f"x86/fpu: Supporting XSAVE feature 0x{bit:03x}: '{what}'", tick(10, 300))
    add("Freeing SMP alternatives memory: 44K", tick(10000, 200000))
    add("pid_max: default: 131072 minimum: 1024", tick())
    add("LSM: initializing lsm=lockdown,capability,landlock,yama,apparmor,integrity", tick())
    add("Mount-cache hash table entries: 65536 (order: 7, 524288 bytes, linear)", tick())
    add(f"smpboot: CPU0: {prof['cpu']}", tick(10000, 150000))
    add("Performance Events: Fam17h+ 16-deep LBR, core perfctr, AMD PMU driver.", tick())
    add("rcu: Hierarchical SRCU implementation.", tick())
    add("smp: Bringing up secondary CPUs ...", tick())
    add("x86: Booting SMP configuration:", tick())
    add(f"smp: Brought up {prof['nodes']} node{'s' if prof['nodes'] > 1 else ''}, {cpus} CPUs", tick(50000, 400000))
    add(f"smpboot: Total of {cpus} processors activated ({rng.randrange(5000, 900000)}.{rng.randrange(100):02d} "
        f"BogoMIPS)", tick())
    add("devtmpfs: initialized", tick(1000, 40000))
    add("x86/mm: Memory block size: 2048MB", tick())
    add("NET: Registered PF_NETLINK/PF_ROUTE protocol family", tick())
    add("audit: initializing netlink subsys (disabled)", tick())
    add(f"audit: type=2000 audit({boot_epoch}.{rng.randrange(1000):03d}:1): state=initialized audit_enabled=0 res=1",
        tick())
    for gov in ("fair_share", "bang_bang", "step_wise", "user_space", "power_allocator"):
        add(f"thermal_sys: Registered thermal governor '{gov}'", tick(10, 200))
    add("cpuidle: using governor menu", tick())
    add("acpiphp: ACPI Hot Plug PCI Controller Driver version: 0.5", tick())
    add("PCI: MMCONFIG for domain 0000 [bus 00-ff] at [mem 0xe0000000-0xefffffff] (base 0xe0000000)", tick())
    add("PCI: Using configuration type 1 for base access", tick())
    add("HugeTLB: registered 1.00 GiB page size, pre-allocated 0 pages", tick(1000, 60000))
    add("ACPI: Added _OSI(Module Device)", tick())
    add("ACPI: Added _OSI(Processor Device)", tick())
    add(f"ACPI: {rng.randrange(1, 12)} ACPI AML tables successfully acquired and loaded", tick(1000, 30000))
    add("ACPI: Interpreter enabled", tick())
    add("ACPI: PM: (supports S0 S5)", tick())
    add("ACPI: Using IOAPIC for interrupt routing", tick())
    add('PCI: Using host bridge windows from ACPI; if necessary, use "pci=nocrs" and report a bug', tick())
    devs = _devices(rng, prof)
    roots = sorted({d[0][:7] for d in devs if d[0][5:7] in prof["buses"] and d[0][5:7].endswith("0")})
    for root in roots:
        bus = root[5:7]
        add(f"ACPI: PCI Root Bridge [S0D{bus[0]}] (domain 0000 [bus {bus}-{int(bus, 16) + 0x1f:02x}])", tick(1000, 9000))
        add(f"acpi PNP0A08:0{bus[0]}: _OSC: OS supports [ExtendedConfig ASPM ClockPM Segments MSI EDR HPX-Type3]",
            tick())
        add(f"acpi PNP0A08:0{bus[0]}: _OSC: OS now controls [PCIeHotplug SHPCHotplug PME AER PCIeCapability LTR DPC]",
            tick())
        add(f"PCI host bridge to bus 0000:{bus}", tick())
        add(f"pci_bus 0000:{bus}: root bus resource [io  0x0000-0x03af window]", tick(10, 100))
        add(f"pci_bus 0000:{bus}: root bus resource [mem 0x{rng.getrandbits(32) & 0xfff00000:08x}-"
            f"0x{(rng.getrandbits(32) | 0xfffff):08x} window]", tick(10, 100))
        add(f"pci_bus 0000:{bus}: root bus resource [bus {bus}-{int(bus, 16) + 0x1f:02x}]", tick(10, 100))
    for bdf, vd, cls, _drv in devs:
        add(f"pci {bdf}: [{vd}] type {'01' if cls == '0x060400' else '00'} class {cls} "
            f"{'PCIe Root Port' if cls == '0x060400' else 'PCIe Endpoint'}", tick(10, 400))
        for bar in range(rng.choice([0, 0, 1, 2, 3])):
            lo = rng.getrandbits(32) & 0xfffff000
            add(f"pci {bdf}: BAR {bar * 2} [mem 0x{lo:08x}-0x{lo + 0xfff:08x}{' 64bit pref' if bar else ''}]",
                tick(10, 200))
        if cls == "0x060400":
            add(f"pci {bdf}: PCI bridge to [bus {rng.randrange(1, 255):02x}]", tick(10, 200))
        if rng.random() < 0.2:
            add(f"pci {bdf}: PME# supported from D0 D3hot D3cold", tick(10, 200))
    for link in "ABCDEFGH":
        add(f"ACPI: PCI: Interrupt link LNK{link} configured for IRQ {rng.choice([5, 10, 11])}", tick(10, 500))
        if kdump:
            add(f"ACPI: PCI: Interrupt link LNK{link} disabled", tick(10, 200))
    add("iommu: Default domain type: Passthrough (set via kernel command line)", tick(1000, 5000))
    add("pps_core: LinuxPPS API ver. 1 registered", tick())
    add("PTP clock support registered", tick())
    add("EDAC MC: Ver: 3.0.0", tick())
    add("NetLabel: Initializing", tick())
    add("PCI: Using ACPI for IRQ routing", tick())
    add("PCI: pci_cache_line_size set to 64 bytes", tick())
    add("hpet0: at MMIO 0xfed00000, IRQs 2, 8, 0, 0, 0, 0, 0, 0", tick())
    add("clocksource: Switched to clocksource tsc-early", tick(1000, 20000))
    add("VFS: Disk quotas dquot_6.6.0", tick(10000, 100000))
    add("pnp: PnP ACPI init", tick())
    add(f"pnp: PnP ACPI: found {rng.randrange(3, 8)} devices", tick(1000, 8000))
    add("NET: Registered PF_INET protocol family", tick())
    add(f"TCP established hash table entries: {1 << rng.randrange(14, 20)} (order: 10, 4194304 bytes, vmalloc)",
        tick())
    add("TCP: Hash tables configured (established 524288 bind 65536)", tick())
    add("NET: Registered PF_UNIX/PF_LOCAL protocol family", tick())
    add("PCI: CLS 64 bytes, default 64", tick())
    for idx, iommu in enumerate(prof["iommus"]):
        if prof["name"] == "qemu":
            add(f"pci {iommu}: AMD-Vi: Found IOMMU cap 0x40", tick(100, 4000))
        else:
            add(f"pci {iommu}: AMD-Vi: IOMMU performance counters supported", tick(100, 4000))
        group = idx * 10
        for bdf, *_ in devs:
            if bdf[5:7] in prof["buses"][idx * 2: idx * 2 + 3] and rng.random() < 0.8:
                add(f"pci {bdf}: Adding to iommu group {group}", tick(10, 80))
                if rng.random() < 0.5:
                    group += 1
    feats = "PPR X2APIC NX GT IA GA PC GA_vAPIC" + (" SNP" if prof["snp"] else "")
    add(f"AMD-Vi: Extended features ({prof['efr']}, {prof['efr2']}): {feats}", tick())
    add("AMD-Vi: Interrupt remapping enabled", tick())
    if prof["cpus"] > 8:
        add("AMD-Vi: X2APIC enabled", tick())
        add("AMD-Vi: Virtual APIC enabled", tick())
    if prof["snp"]:
        lo = 0x35600000 + (rng.randrange(0, 64) << 20)
        add(f"SEV-SNP: RMP table physical range [0x{lo:016x} - 0x{lo + 0x405fffff:016x}]", tick())
    for idx in range(len(prof["iommus"])):
        add(f"perf/amd_iommu: Detected AMD IOMMU #{idx} (2 banks, 4 counters/bank).", tick(10, 300))
    add("LVT offset 0 assigned for vector 0x400", tick())
    add("Initialise system trusted keyrings", tick(1000, 40000))
    add("workingset: timestamp_bits=36 max_order=26 bucket_order=0", tick())
    add("Key type asymmetric registered", tick())
    add("Block layer SCSI generic (bsg) driver version 0.4 loaded (major 242)", tick())
    add("io scheduler mq-deadline registered", tick())
    add("Serial: 8250/16550 driver, 32 ports, IRQ sharing enabled", tick())
    add("00:03: ttyS0 at I/O 0x3f8 (irq = 4, base_baud = 115200) is a 16550A", tick())
    add("i8042: PNP: No PS/2 controller found.", tick())
    add("mousedev: PS/2 mouse device common for all mice", tick())
    add("rtc_cmos 00:02: RTC can wake from S4", tick())
    rtc = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(boot_epoch))
    add(f"rtc_cmos 00:02: setting system clock to {rtc} UTC ({boot_epoch})", tick())
    add("NET: Registered PF_INET6 protocol family", tick(10000, 90000))
    add("Segment Routing with IPv6", tick())
    add("registered taskstats version 1", tick())
    add("Loading compiled-in X.509 certificates", tick())
    add(f"Loaded X.509 cert 'Build time autogenerated kernel key: {rng.getrandbits(160):040x}'", tick(10000, 60000))
    add("zswap: loaded using pool lzo/zbud", tick())
    add("Key type .fscrypt registered", tick())
    add("ima: No TPM chip found, activating TPM-bypass!", tick())
    add("ima: Allocated hash algorithm: sha256", tick())
    for what in ("security.selinux", "security.SMACK64 (disabled)", "security.apparmor", "security.ima",
                 "security.capability"):
        add(f"evm: {what}", tick(10, 200))
    add("clk: Disabling unused clocks", tick(10000, 300000))
    add("Freeing unused decrypted memory: 2028K", tick())
    add(f"Freeing unused kernel image (initmem) memory: {rng.randrange(2000, 5000)}K", tick())
    add("Write protecting the kernel read-only data: 26624k", tick())
    add("x86/mm: Checked W+X mappings: passed, no W+X pages found.", tick(10000, 120000))
    add("Run /init as init process", tick())
    # drivers probing from the initramfs
    for n, (drv, bdf, name) in enumerate(prof["disks"]):
        if drv == "nvme":
            add(f"nvme nvme{n}: pci function {bdf}", tick(1000, 90000))
            add(f"nvme nvme{n}: {rng.choice([32, 63, 127])}/0/0 default/read/poll queues", tick(1000, 90000))
            add(f" {name}: p1 p2 p3", tick(100, 5000))
        else:
            add(f"virtio_blk virtio1: [{name}] {rng.randrange(1 << 22, 1 << 28)} 512-byte logical blocks "
                f"(10.7 GB/10.0 GiB)", tick(1000, 9000))
            add(f" {name}: {name}1 {name}2", tick(100, 5000))
    usb_buses = 1 if kdump else rng.randrange(2, 9)
    for b in range(1, usb_buses + 1):
        ctl = next((d[0] for d in devs if d[3] == "xhci_hcd"), "0000:00:14.0")
        add(f"xhci_hcd {ctl}: xHCI Host Controller", tick(10, 400))
        add(f"xhci_hcd {ctl}: new USB bus registered, assigned bus number {b}", tick(10, 400))
        add(f"usb usb{b}: New USB device found, idVendor=1d6b, idProduct=000{2 + b % 2}, "
            f"bcdDevice= {release.split('.')[0]}.{release.split('.')[1][:2]}", tick(10, 400))
        add(f"usb usb{b}: New USB device strings: Mfr=3, Product=2, SerialNumber=1", tick(10, 100))
        add(f"usb usb{b}: Product: xHCI Host Controller", tick(10, 100))
        add(f"usb usb{b}: Manufacturer: Linux {release} xhci-hcd", tick(10, 100))
        add(f"usb usb{b}: SerialNumber: {ctl}", tick(10, 100))
        add(f"hub {b}-0:1.0: USB hub found", tick(10, 200))
        add(f"hub {b}-0:1.0: {rng.choice([1, 2, 4])} ports detected", tick(10, 200))
    for a in range(1, (3 if kdump else rng.randrange(4, 24))):
        add(f"ata{a}: SATA link down (SStatus 0 SControl 300)", tick(10000, 1200000), 6)
    for drv, bdf, ifname in prof["nics"]:
        if drv == "igb":
            add(f"igb {bdf}: Intel(R) Gigabit Ethernet Network Connection", tick(1000, 40000))
            add(f"igb {bdf}: {bdf[5:7]}:{bdf[8:10]}.0 eth0: (PCIe:5.0Gb/s:Width x1) {_mac(rng)}", tick())
        elif drv == "mlx5_core":
            add(f"mlx5_core {bdf}: firmware version: 22.39.1002", tick(1000, 40000))
            add(f"mlx5_core {bdf}: 126.024 Gb/s available PCIe bandwidth (16.0 GT/s PCIe x8 link)", tick())
        elif drv == "r8169":
            add(f"r8169 {bdf} eth0: RTL8125B, {_mac(rng)}, XID 641, IRQ {rng.randrange(30, 90)}", tick(1000, 40000))
        elif drv == "iwlwifi":
            add(f"iwlwifi {bdf}: loaded firmware version 77.2df8986f.0 cc-a0-77.ucode op_mode iwlmvm", tick())
        add(f"{drv} {bdf} {ifname}: renamed from eth0", tick(1000, 90000))
    if prof["psp"] and not kdump:
        psp = prof["psp"]
        add(f"ccp {psp}: enabling device (0000 -> 0002)", tick(1000, 90000))
        add(f"ccp {psp}: sev enabled", tick())
        add(f"ccp {psp}: psp enabled", tick())
        if prof["snp"]:
            add(f"ccp {psp}: SEV API:1.55 build:21", tick(10000, 900000))
            add(f"ccp {psp}: SEV-SNP API:1.55 build:21", tick())
        else:
            add(f"ccp {psp}: SEV: memory encryption not enabled by BIOS", tick(), 4)
    add(f"EXT4-fs ({prof['disks'][0][2]}p2): mounted filesystem {_uuid(rng)} ro with ordered data mode. "
        f"Quota mode: none.", tick(10000, 900000))
    add("systemd[1]: systemd 252.30-1~deb12u2 running in system mode (+PAM +AUDIT +SELINUX +APPARMOR +IMA +SMACK "
        "+SECCOMP +GCRYPT -GNUTLS +OPENSSL +ACL +BLKID +CURL +ELFUTILS +FIDO2 +IDN2 -IDN +IPTC +KMOD +LIBCRYPTSETUP "
        "+LIBFDISK +PCRE2 -PWQUALITY +P11KIT +QRENCODE +TPM2 +BZIP2 +LZ4 +XZ +ZLIB +ZSTD -BPF_FRAMEWORK "
        "-XKBCOMMON +UTMP +SYSVINIT default-hierarchy=unified)", tick(10000, 900000))
    add("systemd[1]: Detected architecture x86-64.", tick())
    add(f"systemd[1]: Hostname set to <{host}>.", tick())
    for unit in ("Slice Units", "Swaps", "Local Encrypted Volumes", "Path Units", "Socket Units"):
        add(f"systemd[1]: Reached target {unit}.", tick(100, 3000))
    for desc in ("Journal Service", "Coldplug All udev Devices", "Load Kernel Modules",
                 "Remount Root and Kernel File Systems", "Create Static Device Nodes in /dev"):
        add(f"systemd[1]: Starting {desc}...", tick(100, 3000))
    add(f"EXT4-fs ({prof['disks'][0][2]}p2): re-mounted {_uuid(rng)} r/w. Quota mode: none.", tick(1000, 50000))
    add(f"systemd-journald[{rng.randrange(300, 900)}]: Received client request to flush runtime journal.",
        tick(1000, 90000))
    if not kdump:
        add("RPC: Registered tcp NFSv4.1 backchannel transport module.", tick(1000, 90000))
        if prof["name"] != "qemu":
            add("kvm_amd: TSC scaling supported", tick(1000, 90000))
            add("kvm_amd: Nested Virtualization enabled", tick())
            add("kvm_amd: Nested Paging enabled", tick())
        if prof["snp"]:
            add("kvm_amd: SEV enabled (ASIDs 100 - 1006)", tick())
            add("kvm_amd: SEV-ES enabled (ASIDs 1 - 99)", tick())
            add("kvm_amd: SEV-SNP enabled (ASIDs 1 - 99)", tick())
        if prof["name"] != "qemu":
            add("kvm_amd: Virtual VMLOAD VMSAVE supported", tick())
            add("kvm_amd: Virtual GIF supported", tick())
            add("EDAC amd64: F19h_M10h detected (node 0).", tick())
            add("EDAC MC0: Giving out device to module amd64_edac controller F19h_M10h: DEV 0000:00:18.3 "
                "(INTERRUPT)", tick())
        add("intel_rapl_common: Found RAPL domain package", tick())
        for drv, bdf, ifname in prof["nics"]:
            if drv == "igb":
                add(f"igb {bdf} {ifname}: igb: {ifname} NIC Link is Up 1000 Mbps Full Duplex, Flow Control: RX/TX",
                    tick(100000, 3000000))
            elif drv == "r8169":
                add(f"r8169 {bdf} {ifname}: Link is Up - 1Gbps/Full - flow control rx/tx", tick(100000, 3000000))
            elif drv == "mlx5_core":
                add(f"mlx5_core {bdf} {ifname}: Link up", tick(100000, 3000000))
        for br in prof["bridges"]:
            add(f"{br}: port 1({prof['nics'][0][2]}) entered blocking state", tick())
            add(f"{br}: port 1({prof['nics'][0][2]}) entered forwarding state", tick())
    return out


# ---------------------------------------------------------------------------
# Runtime noise episodes: lists of (dt_us, level, body)
# ---------------------------------------------------------------------------

class Context:
    """What one boot's runtime noise talks about (its devices and counters)."""

    def __init__(self, rng: random.Random, prof: dict, host: str, boot_epoch: int) -> None:
        self.rng = rng
        self.prof = prof
        self.host = host
        self.epoch = boot_epoch
        self.usb_num = rng.randrange(2, 6)
        self.scsi_host = rng.randrange(4, 10)
        self.audit_serial = rng.randrange(100, 1000)
        self.vmids = [rng.randrange(100, 200) for _ in range(6)]
        self.sd = "bcdefg"
        self.users = ["root", "admin", "deploy", "backup"]


def ep_usb_storage(c: Context) -> list:
    rng = c.rng
    bus, port = rng.randrange(1, 5), f"{rng.randrange(1, 5)}" + (f".{rng.randrange(1, 5)}" if rng.random() < .3 else "")
    vend, prod, name, mfr = rng.choice(USB_DEVICES)
    c.usb_num = c.usb_num % 127 + 1
    n, h, sd = c.usb_num, c.scsi_host, rng.choice(c.sd)
    c.scsi_host += 1
    blocks = rng.choice([30031872, 60063744, 121145344, 242614272])
    dev = f"{bus}-{port}"
    return [
        (0, 6, f"usb {dev}: new high-speed USB device number {n} using xhci_hcd"),
        (rng.randrange(100000, 200000), 6, f"usb {dev}: New USB device found, idVendor={vend}, idProduct={prod}, "
                                           f"bcdDevice= 1.{rng.randrange(0, 30):02d}"),
        (rng.randrange(2, 20), 6, f"usb {dev}: New USB device strings: Mfr=1, Product=2, SerialNumber=3"),
        (rng.randrange(2, 20), 6, f"usb {dev}: Product: {name}"),
        (rng.randrange(2, 20), 6, f"usb {dev}: Manufacturer: {mfr}"),
        (rng.randrange(2, 20), 6, f"usb {dev}: SerialNumber: {rng.getrandbits(64):016X}"),
        (rng.randrange(500, 5000), 6, f"usb-storage {dev}:1.0: USB Mass Storage device detected"),
        (rng.randrange(50, 500), 6, f"scsi host{h}: usb-storage {dev}:1.0"),
        (rng.randrange(900000, 1100000), 5, f"scsi {h}:0:0:0: Direct-Access     {mfr[:8]:<8} {name[:16]:<16} 1.00 "
                                            f"PQ: 0 ANSI: 6"),
        (rng.randrange(50, 500), 5, f"sd {h}:0:0:0: Attached scsi generic sg{rng.randrange(1, 9)} type 0"),
        (rng.randrange(50, 500), 5, f"sd {h}:0:0:0: [sd{sd}] {blocks} 512-byte logical blocks: "
                                    f"({blocks * 512 / 1e9:.1f} GB/{blocks * 512 / 2 ** 30:.1f} GiB)"),
        (rng.randrange(50, 500), 5, f"sd {h}:0:0:0: [sd{sd}] Write Protect is off"),
        (rng.randrange(5, 50), 7, f"sd {h}:0:0:0: [sd{sd}] Mode Sense: 43 00 00 00"),
        (rng.randrange(50, 500), 5, f"sd {h}:0:0:0: [sd{sd}] Write cache: disabled, read cache: enabled, "
                                    f"doesn't support DPO or FUA"),
        (rng.randrange(500, 5000), 6, f" sd{sd}: sd{sd}1"),
        (rng.randrange(50, 500), 5, f"sd {h}:0:0:0: [sd{sd}] Attached SCSI removable disk"),
    ]


def ep_usb_disconnect(c: Context) -> list:
    rng = c.rng
    return [(0, 6, f"usb {rng.randrange(1, 5)}-{rng.randrange(1, 5)}: USB disconnect, device number "
                   f"{rng.randrange(2, 40)}")]


def ep_usb_hid(c: Context) -> list:
    rng = c.rng
    bus, port = rng.randrange(1, 5), rng.randrange(1, 5)
    c.usb_num = c.usb_num % 127 + 1
    inst = rng.randrange(1, 0x20)
    return [
        (0, 6, f"usb {bus}-{port}: new full-speed USB device number {c.usb_num} using xhci_hcd"),
        (rng.randrange(100000, 200000), 6, f"usb {bus}-{port}: New USB device found, idVendor=046d, "
                                           f"idProduct=c52b, bcdDevice=12.11"),
        (rng.randrange(2, 20), 6, f"usb {bus}-{port}: Product: USB Receiver"),
        (rng.randrange(2, 20), 6, f"usb {bus}-{port}: Manufacturer: Logitech"),
        (rng.randrange(2000, 20000), 6, f"input: Logitech USB Receiver as /devices/pci0000:00/0000:00:08.1/"
                                        f"0000:c5:00.3/usb{bus}/{bus}-{port}/{bus}-{port}:1.0/0003:046D:C52B."
                                        f"{inst:04X}/input/input{rng.randrange(10, 60)}"),
        (rng.randrange(2000, 20000), 6, f"hid-generic 0003:046D:C52B.{inst:04X}: input,hidraw{rng.randrange(0, 6)}: "
                                        f"USB HID v1.11 Keyboard [Logitech USB Receiver] on "
                                        f"usb-0000:c5:00.3-{port}/input0"),
    ]


def ep_link(c: Context) -> list:
    rng = c.rng
    drv, bdf, ifname = rng.choice(c.prof["nics"])
    if drv == "igb":
        down, up = (f"igb {bdf} {ifname}: igb: {ifname} NIC Link is Down",
                    f"igb {bdf} {ifname}: igb: {ifname} NIC Link is Up 1000 Mbps Full Duplex, Flow Control: RX/TX")
    elif drv == "mlx5_core":
        down, up = f"mlx5_core {bdf} {ifname}: Link down", f"mlx5_core {bdf} {ifname}: Link up"
    elif drv == "i40e":
        down, up = (f"i40e {bdf} {ifname}: NIC Link is Down",
                    f"i40e {bdf} {ifname}: NIC Link is Up, 10 Gbps Full Duplex, Flow Control: None")
    elif drv == "iwlwifi":
        ap = _mac(rng)
        return [(0, 6, f"{ifname}: disconnect from AP {ap} for new auth to {_mac(rng)}"),
                (rng.randrange(1000, 90000), 6, f"{ifname}: authenticate with {ap} (local address={_mac(rng)})"),
                (rng.randrange(100, 9000), 6, f"{ifname}: send auth to {ap} (try 1/3)"),
                (rng.randrange(100, 9000), 6, f"{ifname}: authenticated"),
                (rng.randrange(100, 9000), 6, f"{ifname}: associate with {ap} (try 1/3)"),
                (rng.randrange(100, 9000), 6, f"{ifname}: RX AssocResp from {ap} (capab=0x1411 status=0 aid=3)"),
                (rng.randrange(100, 9000), 6, f"{ifname}: associated")]
    else:
        down, up = (f"{drv} {bdf} {ifname}: Link is Down",
                    f"{drv} {bdf} {ifname}: Link is Up - 1Gbps/Full - flow control rx/tx")
    out = [(0, 6, down), (rng.randrange(1000000, 9000000), 6, up)]
    if rng.random() < 0.4:
        out.append((rng.randrange(10, 900), 6, f"IPv6: ADDRCONF(NETDEV_CHANGE): {ifname}: link becomes ready"))
    if rng.random() < 0.3:
        out.append((rng.randrange(10, 900), 6, f"bond0: (slave {ifname}): link status definitely up, "
                                               f"1000 Mbps full duplex"))
    return out


def _port_joins(rng: random.Random, br: str, port: int, dev: str, renamed=None) -> list:
    """A device joining a bridge port: blocking, disabled, allmulti/promisc, (renamed), forwarding."""
    lines = [(0, 6, f"{br}: port {port}({dev}) entered blocking state"),
             (rng.randrange(10, 900), 6, f"{br}: port {port}({dev}) entered disabled state"),
             (rng.randrange(10, 900), 6, f"{dev}: entered allmulticast mode"),
             (rng.randrange(10, 900), 6, f"{dev}: entered promiscuous mode")]
    if renamed is not None:
        lines.append(renamed())
    lines.append((rng.randrange(10, 900), 6, f"{br}: port {port}({dev}) entered blocking state"))
    lines.append((rng.randrange(10, 900), 6, f"{br}: port {port}({dev}) entered forwarding state"))
    return lines


def ep_tap(c: Context) -> list:
    rng = c.rng
    br = rng.choice(c.prof["bridges"])
    vmid = rng.choice(c.vmids)
    port = rng.randrange(2, 9)
    tap = f"tap{vmid}i{rng.randrange(0, 2)}"
    if rng.random() < 0.5:
        return [(0, 6, f"{br}: port {port}({tap}) entered disabled state"),
                (rng.randrange(100, 9000), 6, f"{tap} (unregistering): left allmulticast mode"),
                (rng.randrange(10, 900), 6, f"{tap} (unregistering): left promiscuous mode"),
                (rng.randrange(10, 900), 6, f"{br}: port {port}({tap}) entered disabled state")]
    return _port_joins(rng, br, port, tap)


def ep_veth(c: Context) -> list:
    rng = c.rng
    veth = f"veth{rng.getrandbits(28):07x}"
    port = rng.randrange(1, 30)
    if rng.random() < 0.5:
        return [(0, 6, f"docker0: port {port}({veth}) entered disabled state"),
                (rng.randrange(10, 9000), 6, f"{veth[:-1]}{rng.randrange(10)}: renamed from eth0"),
                (rng.randrange(10, 9000), 6, f"docker0: port {port}({veth}) entered disabled state"),
                (rng.randrange(10, 900), 6, f"{veth} (unregistering): left allmulticast mode"),
                (rng.randrange(10, 900), 6, f"{veth} (unregistering): left promiscuous mode"),
                (rng.randrange(10, 900), 6, f"docker0: port {port}({veth}) entered disabled state")]
    return _port_joins(rng, "docker0", port, veth,
                       lambda: (rng.randrange(10000, 90000), 6, f"eth0: renamed from veth{rng.getrandbits(28):07x}"))


def _audit_stamp(c: Context) -> str:
    c.audit_serial += 1
    return f"audit({c.epoch + c.rng.randrange(0, 400000)}.{c.rng.randrange(1000):03d}:{c.audit_serial})"


def ep_audit_apparmor(c: Context) -> list:
    rng = c.rng
    profile, name, op, comm = rng.choice(APPARMOR)
    pid = rng.randrange(300, 4000000)
    return [(0, 5, f'audit: type=1400 {_audit_stamp(c)}: apparmor="DENIED" operation="{op}" class="file" '
                   f'profile="{profile}" name="{name.format(pid=pid)}" pid={pid} comm="{comm}" requested_mask="r" '
                   f'denied_mask="r" fsuid={rng.choice([0, 1000, 33])} ouid=0')]


def ep_audit_unit(c: Context) -> list:
    rng = c.rng
    unit = rng.choice(UNITS).removesuffix(".service")
    out = []
    for typ in (1130, 1131):
        out.append((rng.randrange(100000, 30000000) if out else 0, 5,
                    f"audit: type={typ} {_audit_stamp(c)}: pid=1 uid=0 auid=4294967295 ses=4294967295 "
                    f"subj=unconfined msg='unit={unit} comm=\"systemd\" exe=\"/usr/lib/systemd/systemd\" "
                    f"hostname=? addr=? terminal=? res=success'"))
    return out


def ep_systemd(c: Context) -> list:
    rng = c.rng
    unit = rng.choice(UNITS)
    desc = unit.removesuffix(".service").replace("-", " ").title()
    return [(0, 6, f"systemd[1]: Starting {unit} - {desc}..."),
            (rng.randrange(10000, 5000000), 6, f"systemd[1]: {unit}: Deactivated successfully."),
            (rng.randrange(10, 900), 6, f"systemd[1]: Finished {unit} - {desc}."),
            (rng.randrange(10, 900), 6, f"systemd[1]: {unit}: Consumed {rng.randrange(1, 900)}ms CPU time.")]


def ep_journald(c: Context) -> list:
    rng = c.rng
    n = rng.randrange(1000, 90000)
    return [(0, 6, f"systemd-journald[{rng.randrange(300, 900)}]: Data hash table of /var/log/journal/"
                   f"{rng.getrandbits(128):032x}/system.journal has a fill level at 75.0 ({n} of {n * 4 // 3} "
                   f"items, {rng.randrange(8, 128)}M file size, {rng.randrange(200, 900)} bytes per hash table item),"
                   f" suggesting rotation."),
            (rng.randrange(10, 900), 6, "systemd-journald[%d]: /var/log/journal/%032x/system.journal: Journal "
             "header limits reached or header out-of-date, rotating." % (rng.randrange(300, 900), rng.getrandbits(128)))]


def ep_ext4(c: Context) -> list:
    rng = c.rng
    dev = rng.choice(["sdb1", "sdc1", "dm-2", "dm-3", "loop0", "nvme1n1p1"])
    uuid = _uuid(rng)
    kind = rng.random()
    if kind < 0.4:
        return [(0, 6, f"EXT4-fs ({dev}): mounted filesystem {uuid} r/w with ordered data mode. Quota mode: none.")]
    if kind < 0.8:
        return [(0, 6, f"EXT4-fs ({dev}): unmounting filesystem {uuid}.")]
    return [(0, 6, f"XFS ({dev}): Mounting V5 Filesystem {uuid}"),
            (rng.randrange(10000, 900000), 6, f"XFS ({dev}): Ending clean mount")]


def ep_ufw(c: Context) -> list:
    rng = c.rng
    ifname = rng.choice(c.prof["nics"])[2]
    proto = rng.choice(["UDP", "TCP", "UDP"])
    ln = rng.randrange(40, 1500)
    df = "DF " if rng.random() < 0.5 else ""
    tail = (f"SPT={rng.randrange(1024, 65535)} DPT={rng.choice([137, 138, 5353, 1900, 57621, 443, 22])} "
            + (f"LEN={ln - 20}" if proto == "UDP" else f"WINDOW={rng.randrange(1000, 65535)} RES=0x00 SYN URGP=0"))
    return [(0, 4, f"[UFW BLOCK] IN={ifname} OUT= MAC={_mac(rng)}:{_mac(rng)}:08:00 SRC={_ip(rng)} "
                   f"DST={_ip(rng)} LEN={ln} TOS=0x00 PREC=0x00 TTL={rng.choice([1, 64, 128, 255])} "
                   f"ID={rng.randrange(0, 65535)} {df}PROTO={proto} {tail}")]


def ep_misc(c: Context) -> list:
    rng = c.rng
    kind = rng.randrange(12)
    if kind == 0:
        a = rng.randrange(2501, 9000)
        return [(0, 6, f"perf: interrupt took too long ({a} > {a - rng.randrange(1, 500)}), lowering "
                       f"kernel.perf_event_max_sample_rate to {rng.randrange(20000, 80000)}")]
    if kind == 1:
        return [(0, 6, f"loop{rng.randrange(0, 30)}: detected capacity change from 0 to {rng.randrange(8, 900000)}")]
    if kind == 2:
        return [(0, 4, f"hrtimer: interrupt took {rng.randrange(10000, 900000)} ns")]
    if kind == 3:
        host = rng.choice(["nas01", "10.20.0.5", "filer.lab"])
        return [(0, 5, f"nfs: server {host} not responding, still trying"),
                (rng.randrange(1000000, 90000000), 5, f"nfs: server {host} OK")]
    if kind == 4:
        return [(0, 6, f"kauditd_printk_skb: {rng.randrange(1, 60)} callbacks suppressed")]
    if kind == 5:
        comm = rng.choice(["python3", "node", "java", "chrome", "gnome-shell"])
        pid = rng.randrange(1000, 4000000)
        lib = rng.choice(["libc.so.6", "libglib-2.0.so.0.7400.6", "libstdc++.so.6.0.30", "node"])
        base = 0x7f0000000000 + (rng.getrandbits(28) << 12)
        out = [(0, 6, f"{comm}[{pid}]: segfault at {rng.getrandbits(16):x} ip {base + rng.getrandbits(20):016x} "
                      f"sp 00007ffd{rng.getrandbits(32):08x} error {rng.choice([4, 6, 14])} in "
                      f"{lib}[{base:x}+{rng.getrandbits(20):x}] likely on CPU {rng.randrange(0, 16)} "
                      f"(core {rng.randrange(0, 8)}, socket 0)")]
        if rng.random() < 0.5:
            out.append((rng.randrange(5, 50), 6, _code(rng)))
        return out
    if kind == 6:
        return [(0, 4, f"TCP: request_sock_TCP: Possible SYN flooding on port {rng.choice([80, 443, 8443])}. "
                       f"Sending cookies.  Check SNMP counters.")]
    if kind == 7:
        return [(0, 6, f"nvme nvme{rng.randrange(0, 2)}: I/O {rng.randrange(0, 1024)} QID {rng.randrange(1, 64)} "
                       f"timeout, completion polled")]
    if kind == 8:
        return [(0, 5, f"EDAC MC0: 1 CE on mc#0csrow#{rng.randrange(0, 4)}channel#{rng.randrange(0, 12)} "
                       f"(csrow:{rng.randrange(0, 4)} channel:{rng.randrange(0, 12)} page:0x{rng.getrandbits(24):x} "
                       f"offset:0x{rng.getrandbits(12):x} grain:64 syndrome:0x{rng.getrandbits(16):x})")]
    if kind == 9:
        return [(0, 6, f"cgroup: fork rejected by pids controller in /system.slice/"
                       f"{rng.choice(UNITS)}")]
    if kind == 10:
        return [(0, 6, f"device-mapper: thin: Data device (dm-{rng.randrange(0, 9)}) discard unsupported: "
                       f"Disabling discard passdown.")]
    return [(0, 6, f"process '{rng.choice(['/usr/bin/fwupdmgr', '/usr/lib/snapd/snapd'])}' started with "
                   f"executable stack")]


def ep_user(c: Context) -> list:
    """Userspace lines of a journal (level -1)."""
    rng = c.rng
    user = rng.choice(c.users)
    pid = rng.randrange(1000, 4000000)
    ip = _ip(rng, "192.168")
    kind = rng.randrange(4)
    if kind == 0:
        n = rng.randrange(1, 9000)
        return [(0, -1, f"sshd[{pid}]: Accepted publickey for {user} from {ip} port {rng.randrange(1024, 65535)} "
                        f"ssh2: ED25519 SHA256:{rng.getrandbits(256):064x}"[:150]),
                (rng.randrange(100, 9000), -1, f"sshd[{pid}]: pam_unix(sshd:session): session opened for user "
                                               f"{user}(uid=1000) by (uid=0)"),
                (rng.randrange(100, 9000), -1, f"systemd-logind[{rng.randrange(500, 900)}]: New session {n} of user "
                                               f"{user}."),
                (rng.randrange(100, 9000), -1, f"systemd[1]: Started session-{n}.scope - Session {n} of User "
                                               f"{user}.")]
    if kind == 1:
        return [(0, -1, f"CRON[{pid}]: pam_unix(cron:session): session opened for user root(uid=0) by (uid=0)"),
                (rng.randrange(100, 9000), -1, f"CRON[{pid + 1}]: (root) CMD (command -v debian-sa1 > /dev/null && "
                                               f"debian-sa1 1 1)"),
                (rng.randrange(100000, 900000), -1, f"CRON[{pid}]: pam_unix(cron:session): session closed for user "
                                                    f"root")]
    if kind == 2:
        unit = rng.choice(UNITS)
        return [(0, -1, f"systemd[1]: Starting {unit}..."),
                (rng.randrange(100000, 9000000), -1, f"systemd[1]: {unit}: Deactivated successfully."),
                (rng.randrange(10, 900), -1, f"systemd[1]: Finished {unit}.")]
    return [(0, -1, f"sshd[{pid}]: Connection closed by authenticating user {user} {ip} port "
                    f"{rng.randrange(1024, 65535)} [preauth]")]


EPISODES = [  # (weight, maker, journal-only)
    (6, ep_usb_storage, False), (6, ep_usb_disconnect, False), (3, ep_usb_hid, False), (10, ep_link, False),
    (10, ep_tap, False), (10, ep_veth, False), (14, ep_audit_apparmor, False), (10, ep_audit_unit, False),
    (10, ep_systemd, False), (2, ep_journald, False), (6, ep_ext4, False), (14, ep_ufw, False),
    (10, ep_misc, False), (40, ep_user, True),
]

#: Gaps between runtime episodes (us): mostly sub-second to minutes, log-spread.
GAPS = sorted(int(10 ** random.Random(7).uniform(3.5, 7.6)) for _ in range(4096))


def episode_pool(c: Context, journal: bool, size: int = 4096) -> list[list]:
    makers = [(w, m) for w, m, journal_only in EPISODES if journal or not journal_only]
    weights = [w for w, _ in makers]
    return [maker(c) for _, maker in c.rng.choices(makers, weights, k=size)]


# ---------------------------------------------------------------------------
# Sparse AMD-Vi / ccp / SEV lines and kernel reports
# ---------------------------------------------------------------------------

EVENT_FLAGS = ["0x0000", "0x0010", "0x0020", "0x0030", "0x0050", "0x0070"]


def io_page_fault(rng: random.Random, prof: dict, device_form: bool) -> str:
    drv, bdf, _ = rng.choice(prof["disks"] + prof["nics"])
    domain = rng.choice([0x0000, 0x0012, 0x0013, 0x001a, 0x0022])
    addr = rng.getrandbits(rng.choice([32, 40, 48])) & ~0x3f
    flags = rng.choice(EVENT_FLAGS)
    if device_form:
        return f"{drv} {bdf}: AMD-Vi: Event logged [IO_PAGE_FAULT domain=0x{domain:04x} address=0x{addr:x} flags={flags}]"
    ivhd = rng.randrange(len(prof["iommus"]))
    return (f"iommu ivhd{ivhd}: AMD-Vi: Event logged [IO_PAGE_FAULT device={bdf} domain=0x{domain:04x} "
            f"address=0x{addr:x} flags={flags}]")


def signal_lines(rng: random.Random, prof: dict) -> list:
    """One rare, real AMD-Vi / ccp / SEV message (sometimes a short burst)."""
    kind = rng.randrange(10)
    psp = prof["psp"] or "0000:00:00.2"
    if kind <= 3:
        return [(rng.randrange(0, 300) if i else 0, 3, io_page_fault(rng, prof, rng.random() < 0.5))
                for i in range(rng.choice([1, 1, 2, 4]))]
    if kind == 4:
        dev = rng.choice(prof["disks"])[1][5:]
        return [(0, 3, f"iommu ivhd0: AMD-Vi: Event logged [INVALID_DEVICE_REQUEST device={dev} "
                       f"pasid=0x00000 address=0x{rng.getrandbits(32):x} flags=0x0a00]")]
    if kind == 5:
        return [(0, 3, "AMD-Vi: Completion-Wait loop timed out")] * rng.choice([1, 1, 3])
    if kind == 6:
        return [(0, 3, f"ccp {psp}: sev command 0x{rng.choice([0x4, 0x81, 0xa1]):x} timed out, disabling PSP")]
    if kind == 7:
        pfn = rng.getrandbits(28)
        return [(0, 3, f"SEV-SNP: RMPUPDATE failed for PFN {pfn:x}, pg_level: 1, ret: {rng.choice([1, 2, 5])}")]
    if kind == 8:
        return [(0, 4, "AMD-Vi: IOMMU event log overflow")]
    return [(0, 6, f"kvm_amd: SEV-SNP enabled (ASIDs 1 - {rng.choice([99, 509])})")]


def report_lines(rng: random.Random, release: str, prof: dict) -> tuple[list, str | None]:
    """One kernel report; returns (entries, panic message if it brings the kernel down)."""
    cpu = rng.randrange(0, prof["cpus"])
    pid = rng.randrange(1, 4000000)
    comm = rng.choice(COMMS)
    tainted = rng.choice(["Not tainted", "Tainted: G        W", "Tainted: G           OE     "])
    hw = f"Hardware name: {prof['dmi']}"
    mods = "Modules linked in: " + " ".join(rng.sample(MODULES, rng.randrange(12, 40)))
    kind = rng.randrange(4)
    body: list[str] = []
    panic = None
    level = 4
    if kind == 0:  # WARNING
        fn = rng.choice(FUNCS)
        body += ["------------[ cut here ]------------",
                 f"WARNING: CPU: {cpu} PID: {pid} at drivers/iommu/amd/iommu.c:{rng.randrange(100, 4000)} "
                 f"{_frame(rng, fn).strip()}", mods,
                 f"CPU: {cpu} PID: {pid} Comm: {comm} {tainted} {release} #1", hw]
        if comm.startswith("kworker"):
            body.append("Workqueue: events_unbound flush_to_ldisc")
        body += [f"RIP: 0010:{_frame(rng, fn).strip()}", _code(rng)] + _regs(rng, False)
        body += [f"FS:  0000000000000000(0000) GS:ffff{rng.getrandbits(48):012x}(0000) knlGS:0000000000000000",
                 "CS:  0010 DS: 0000 ES: 0000 CR0: 0000000080050033",
                 f"CR2: 0000{rng.getrandbits(48):012x} CR3: 000000{rng.getrandbits(40):010x} CR4: 0000000000350ef0",
                 "Call Trace:", " <TASK>", " ? show_regs+0x6d/0x80", " ? __warn+0x89/0x160"]
        body += [_frame(rng, unreliable=rng.random() < 0.3) for _ in range(rng.randrange(6, 24))]
        body += [" </TASK>", "---[ end trace 0000000000000000 ]---"]
    elif kind == 1:  # oops
        addr = f"ffff{rng.getrandbits(48):012x}"
        fn = rng.choice(FUNCS)
        body += [f"BUG: unable to handle page fault for address: {addr}",
                 "#PF: supervisor read access in kernel mode", "#PF: error_code(0x0000) - not-present page",
                 f"PGD {rng.getrandbits(36):x}067 P4D {rng.getrandbits(36):x}067 PUD 0",
                 "Oops: 0000 [#1] PREEMPT SMP NOPTI",
                 f"CPU: {cpu} PID: {pid} Comm: {comm} {tainted} {release} #1", hw,
                 f"RIP: 0010:{_frame(rng, fn).strip()}", _code(rng)] + _regs(rng, False)
        body += ["Call Trace:", " <TASK>"]
        body += [_frame(rng, unreliable=rng.random() < 0.3) for _ in range(rng.randrange(6, 24))]
        body += [" </TASK>", mods, f"CR2: {addr}", "---[ end trace 0000000000000000 ]---"]
        level = 1
        if rng.random() < 0.3:
            panic = "Fatal exception"
    elif kind == 2:  # soft lockup
        fn = rng.choice(FUNCS)
        body += [f"watchdog: BUG: soft lockup - CPU#{cpu} stuck for {rng.randrange(22, 90)}s! [{comm}:{pid}]", mods,
                 f"CPU: {cpu} PID: {pid} Comm: {comm} {tainted} {release} #1", hw,
                 f"RIP: 0010:{_frame(rng, fn).strip()}", _code(rng)] + _regs(rng, False)
        body += ["Call Trace:", " <IRQ>", " ? watchdog_timer_fn+0x1f0/0x270", " </IRQ>", " <TASK>"]
        body += [_frame(rng, unreliable=rng.random() < 0.3) for _ in range(rng.randrange(5, 16))]
        body += [" </TASK>"]
        level = 0
    else:  # hung task
        body += [f"INFO: task {comm}:{pid} blocked for more than {rng.choice([120, 122, 241, 362])} seconds.",
                 f"      {tainted} {release} #1",
                 '"echo 0 > /proc/sys/kernel/hung_task_timeout_secs" disables this message.',
                 f"task:{comm:<15} state:D stack:0     pid:{pid}  ppid:2      flags:0x00004000",
                 "Call Trace:", " <TASK>", " __schedule+0x3fd/0x1560", " schedule+0x5e/0xd0"]
        body += [_frame(rng, unreliable=rng.random() < 0.2) for _ in range(rng.randrange(5, 14))]
        body += [" </TASK>"]
        level = 3
    entries = [(0, level, line) for line in body]
    if panic:
        entries.append((rng.randrange(10, 900), 0, f"Kernel panic - not syncing: {panic}"))
    return entries, panic


def panic_lines(rng: random.Random, release: str, prof: dict) -> list:
    """A sysrq-triggered crash (how kdump is usually tested), like the QEMU sample."""
    cpu = rng.randrange(0, prof["cpus"])
    body = ["sysrq: Trigger a crash", "Kernel panic - not syncing: sysrq triggered crash",
            f"CPU: {cpu} PID: {rng.randrange(1000, 90000)} Comm: bash Kdump: loaded Not tainted {release} #1",
            f"Hardware name: {prof['dmi']}", "Call Trace:", " <TASK>", " dump_stack_lvl+0x44/0x5c",
            " panic+0x118/0x2f4", " sysrq_handle_crash+0x16/0x20", " __handle_sysrq.cold+0x44/0x11c",
            " write_sysrq_trigger+0x24/0x40", " proc_reg_write+0x56/0xa0", " vfs_write+0xc7/0x3f0",
            " ? filp_close+0x5b/0x70", " ksys_write+0x6b/0xf0", " do_syscall_64+0x5d/0xb0",
            " entry_SYSCALL_64_after_hwframe+0x6e/0xd8", f"RIP: 0033:0x{rng.getrandbits(24):x}", _code(rng)]
    body += _regs(rng, True) + [" </TASK>"]
    return [(rng.randrange(10, 500) if i < 2 else 0, 0, line) for i, line in enumerate(body)]


# ---------------------------------------------------------------------------
# Writers
# ---------------------------------------------------------------------------

class BlockWriter:
    """Accumulates text lines and writes them in large blocks, up to an optional byte limit."""

    def __init__(self, fh, limit: int | None = None, block: int = 8 << 20) -> None:
        self.fh = fh
        self.limit = limit
        self.block = block
        self.parts: list[str] = []
        self.pending = 0
        self.written = 0
        self.lines = 0
        self.full = False

    def add(self, lines: list[str]) -> None:
        if self.full or not lines:
            return
        text = "\n".join(lines) + "\n"
        self.parts.append(text)
        self.pending += len(text)
        self.lines += len(lines)
        if self.limit is not None and self.written + self.pending >= self.limit:
            self._flush_limited()
        elif self.pending >= self.block:
            self.flush()

    def flush(self) -> None:
        if self.parts:
            data = "".join(self.parts).encode("ascii", "replace")
            self.fh.write(data)
            self.written += len(data)
            self.parts, self.pending = [], 0

    def _flush_limited(self) -> None:
        data = "".join(self.parts).encode("ascii", "replace")
        self.parts, self.pending = [], 0
        room = self.limit - self.written
        if len(data) > room:
            cut = data.rfind(b"\n", 0, room) + 1
            self.lines -= data.count(b"\n", cut)
            data = data[:cut]
        self.fh.write(data)
        self.written += len(data)
        self.full = True


def _geometric(rng: random.Random, mean: int) -> int:
    return max(1, int(rng.expovariate(1.0 / mean)))


def write_noise(path: str, size: int, seed: int = 1, boot_every: int = 16 << 20,
                signal_every: int = DEFAULT_SIGNAL_EVERY, report_every: int = DEFAULT_REPORT_EVERY) -> dict:
    rng = random.Random(seed)
    stats = {"mode": "noise", "boots": 0, "signal_lines": 0, "reports": 0, "panics": 0, "formats": {}}
    epoch = 1725868800 + rng.randrange(0, 86400 * 30)  # September 2024
    next_signal = _geometric(rng, signal_every)
    next_report = _geometric(rng, report_every)
    with open(path, "wb") as fh:
        out = BlockWriter(fh, limit=size)
        kdump_next = False
        boot_no = 0
        while not out.full:
            prof = PROFILES[rng.choices(range(len(PROFILES)), [5, 3, 2])[0]] if boot_no % 7 else PROFILES[0]
            host = prof["host"].format(n=seed % 100)
            release = rng.choice(prof["releases"])
            # a small fraction of boots in other capture formats
            style = "journal" if boot_no % 13 == 5 else "level" if boot_no % 11 == 7 else "dmesg"
            if kdump_next:
                style = "dmesg"  # kdump kernels are seen on the serial console
            stats["formats"][style] = stats["formats"].get(style, 0) + 1
            fmt = Formatter(style, host, epoch)
            if style == "journal":
                out.add([f"-- Boot {rng.getrandbits(128):032x} --"])
            lines, t = fmt.lines(0, preamble(rng, prof, release, kdump_next, host, epoch))
            out.add(lines)
            stats["boots"] += 1
            boot_no += 1
            if kdump_next:  # the kdump kernel saves the dump and reboots
                kdump_next = False
                out.add(fmt.lines(t, [(rng.randrange(2000000, 30000000), 6, "reboot: Restarting system")])[0])
                epoch += 120
                continue
            ctx = Context(rng, prof, host, epoch)
            pool = episode_pool(ctx, style == "journal")
            budget = out.written + out.pending + int(boot_every * rng.uniform(0.5, 1.5))
            boot_lines = 0
            ended = None
            while not out.full and out.written + out.pending < budget and ended is None:
                entries: list = []
                extend = entries.extend
                eps = rng.choices(pool, k=CHUNK_LINES // 3)
                gaps = rng.choices(GAPS, k=len(eps))
                for ep, gap in zip(eps, gaps):
                    first = ep[0]
                    entries.append((first[0] + gap, first[1], first[2]))
                    extend(ep[1:])
                    boot_lines += len(ep)
                    if boot_lines >= next_signal:
                        sig = signal_lines(rng, prof)
                        extend(sig)
                        stats["signal_lines"] += len(sig)
                        next_signal = boot_lines + _geometric(rng, signal_every)
                    if boot_lines >= next_report:
                        rep, panic = report_lines(rng, release, prof)
                        extend(rep)
                        stats["reports"] += 1
                        next_report = boot_lines + _geometric(rng, report_every)
                        if panic:
                            ended = "panic"
                            break
                lines, t = fmt.lines(t, entries)
                out.add(lines)
            next_signal = max(1, next_signal - boot_lines)
            next_report = max(1, next_report - boot_lines)
            if ended is None:
                roll = rng.random()
                if roll < 0.15:
                    out.add(fmt.lines(t, panic_lines(rng, release, prof))[0])
                    ended = "panic"
                elif roll < 0.75:
                    out.add(fmt.lines(t, [
                        (rng.randrange(1000, 900000), 6, "systemd-shutdown[1]: Syncing filesystems and block devices."),
                        (rng.randrange(1000, 900000), 6, "systemd-shutdown[1]: Sending SIGTERM to remaining processes..."),
                        (rng.randrange(1000, 900000), 6, "systemd-shutdown[1]: All filesystems, swaps, loop devices, "
                                                         "MD devices and DM devices detached."),
                        (rng.randrange(1000, 900000), 5, "reboot: Restarting system")])[0])
                # else: cut off (power loss, hard reset): the next banner just follows
            if ended == "panic":
                stats["panics"] += 1
                kdump_next = True
            epoch += t // 1_000_000 + rng.randrange(60, 600)
        out.flush()
    stats.update(bytes=out.written, lines=out.lines)
    return stats


def write_storm(path: str, lines: int = 1_000_000, seed: int = 1) -> dict:
    rng = random.Random(seed)
    prof = PROFILES[0]
    release = prof["releases"][0]
    epoch = 1725868800 + rng.randrange(0, 86400 * 30)
    host = prof["host"].format(n=seed % 100)
    fmt = Formatter("dmesg", host, epoch)
    # a realistic set of devices doing DMA: nvme, NICs, GPUs behind several IOMMUs
    devices = [("nvme", "0000:c1:00.0"), ("nvme", "0000:21:00.0"), ("mlx5_core", "0000:41:00.0"),
               ("mlx5_core", "0000:41:00.1"), ("igb", "0000:c2:00.0"), ("amdgpu", "0000:e3:00.0"),
               ("vfio-pci", "0000:81:00.0"), ("ahci", "0000:63:00.0")]
    weights = [40, 10, 15, 5, 5, 10, 10, 5]
    domains = [0x0012, 0x0012, 0x0013, 0x001a, 0x0000]
    with open(path, "wb") as fh:
        out = BlockWriter(fh)
        pre, t = fmt.lines(0, preamble(rng, prof, release, False, host, epoch))
        out.add(pre)
        t += 3_600_000_000
        done = 0
        while done < lines:
            n = min(CHUNK_LINES, lines - done)
            devs = rng.choices(devices, weights, k=n)
            forms = rng.choices((True, False), k=n)
            chunk = []
            append = chunk.append
            page = rng.getrandbits(36) << 12
            for (drv, bdf), device_form in zip(devs, forms):
                t += rng.randrange(1, 40)
                if rng.random() < 0.05:
                    page = rng.getrandbits(36) << 12
                addr = page + (rng.getrandbits(12) & ~0x3f)
                domain = domains[(t >> 4) % 5]
                flags = EVENT_FLAGS[(t >> 3) % 6]
                stamp = f"[{t // 1_000_000:5d}.{t % 1_000_000:06d}] "
                if device_form:
                    append(f"{stamp}{drv} {bdf}: AMD-Vi: Event logged [IO_PAGE_FAULT domain=0x{domain:04x} "
                           f"address=0x{addr:x} flags={flags}]")
                else:
                    append(f"{stamp}iommu ivhd{int(bdf[5:7], 16) >> 5}: AMD-Vi: Event logged [IO_PAGE_FAULT "
                           f"device={bdf} domain=0x{domain:04x} address=0x{addr:x} flags={flags}]")
            out.add(chunk)
            done += n
        out.flush()
    return {"mode": "storm", "storm_lines": lines, "preamble_lines": len(pre), "bytes": out.written,
            "lines": out.lines}


def generate(mode: str, path: str, *, size: int | None = None, lines: int | None = None, seed: int = 1,
             boot_every: int = 16 << 20) -> dict:
    """Write one capture to ``path`` atomically; returns what was written (with timing)."""
    tmp = f"{path}.tmp-{os.getpid()}"
    start = time.perf_counter()
    try:
        if mode == "noise":
            stats = write_noise(tmp, size or (1 << 30), seed=seed, boot_every=boot_every)
        elif mode == "storm":
            stats = write_storm(tmp, lines or 1_000_000, seed=seed)
        else:
            raise ValueError(f"unknown mode {mode!r}")
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise
    stats["seconds"] = round(time.perf_counter() - start, 2)
    stats["generator_version"] = GENERATOR_VERSION
    return stats


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("mode", choices=("noise", "storm"))
    parser.add_argument("path", metavar="OUT")
    parser.add_argument("--size", type=parse_size, default=parse_size("1G"), help="noise: capture size (default 1G)")
    parser.add_argument("--boot-every", type=parse_size, default=parse_size("16M"),
                        help="noise: mean bytes per boot (default 16M)")
    parser.add_argument("--lines", type=int, default=1_000_000, help="storm: IO_PAGE_FAULT lines (default 1000000)")
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args(argv)
    stats = generate(args.mode, args.path, size=args.size, lines=args.lines, seed=args.seed,
                     boot_every=args.boot_every)
    mb = stats["bytes"] / 1e6
    print(f"{args.path}: {mb:.1f} MB, {stats['lines']} lines in {stats['seconds']:.1f}s "
          f"({mb / max(stats['seconds'], 1e-9):.0f} MB/s)", file=sys.stderr)
    print(" ".join(f"{k}={v}" for k, v in stats.items() if k not in ("bytes", "lines", "seconds")), file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
