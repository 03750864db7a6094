"""The running host's own facts: CPU, command line, kvm_amd, kexec state, panic settings, SNP guests.

Each parser takes the text of one file; :func:`collect_host` reads them
through a :class:`~triage.preflight.reader.RootReader` and records each fact
with the file it came from.  Where the files live and what they mean:

* ``/proc/cpuinfo``: ``vendor_id``, ``cpu family``, ``flags`` (``sev``,
  ``sev_es``, ``sev_snp``: arch/x86/include/asm/cpufeatures.h X86_FEATURE_SEV*).
* ``/proc/cmdline``: ``crashkernel=``, ``amd_iommu=``, ``intremap=``, ``iommu=``,
  ``mem_encrypt=``, ``kvm_amd.sev_snp=``.
* ``/proc/sys/kernel/osrelease`` and ``/proc/version``: the running release and
  banner (the banner names a distribution's upstream base: "Debian 6.12.117-1").
* ``/sys/module/kvm_amd/parameters/{sev,sev_es,sev_snp}`` (Y/N, or 1/0 on old kernels).
* ``/sys/kernel/kexec_crash_loaded`` (1 = a crash kernel is loaded) and
  ``kexec_crash_size`` (bytes reserved by ``crashkernel=``), kernel/ksysfs.c.
* ``/sys/module/kernel/parameters/crash_kexec_post_notifiers`` (kernel/panic.c;
  arch/x86/virt/svm/sev.c snp_rmptable_init() sets it on an SNP host so the
  SNP panic notifier runs before the kdump kexec).
* ``/proc/sys/kernel/{panic,panic_on_oops,kexec_load_disabled}``.
* ``/sys/bus/pci/devices/*/{bootloader_version,tee_version}``: the PSP's boot loader and TEE
  firmware versions, exported by drivers/crypto/ccp/sp-pci.c on some parts only (fwupd's pci-psp
  plugin reads the same files); the SEV/SNP API version is only in the log ("SEV-SNP API:1.55 build:24").
* SNP guests: QEMU processes with an ``sev-snp-guest`` object in
  ``/proc/<pid>/cmdline`` (or a sosreport's ``ps auxwww``), libvirt's status
  XML of running domains in ``/run/libvirt/qemu/*.xml`` with
  ``<launchSecurity type='sev-snp'>``.
"""
from __future__ import annotations

import os
from dataclasses import dataclass, field

from .model import Fact
from .reader import RootReader

__all__ = ["HostFacts", "collect_host", "parse_cpuinfo", "cmdline_options", "parse_bool", "snp_guest_name"]

#: command-line options that matter here (the first kernel's and the crash kernel's)
WATCHED_OPTIONS = ("crashkernel", "amd_iommu", "intremap", "iommu", "mem_encrypt", "kvm_amd.sev_snp",
                   "kvm_amd.sev", "reset_devices")
#: sosreport's copy of 'ps auxwww' (sos/report/plugins/process.py)
_PS_FILES = ("/sos_commands/process/ps_auxwww", "/sos_commands/process/ps_auxfwww")
#: sosreport's 'uname -a' output: "Linux HOST RELEASE #1 SMP ..."
_SOS_UNAME = "/sos_commands/kernel/uname_-a"
#: the QEMU object type of an SNP guest (qemu/qapi/qom.json SevSnpGuestProperties)
SNP_OBJECT = "sev-snp-guest"


@dataclass
class HostFacts:
    """What the host's /proc, /sys and process table say."""

    facts: list[Fact] = field(default_factory=list)
    vendor: str | None = None
    family: int | None = None
    model_name: str | None = None
    cpu_flags: frozenset[str] | None = None
    release: str | None = None
    banner: str | None = None
    cmdline: str | None = None
    kvm_sev: bool | None = None
    kvm_sev_es: bool | None = None
    kvm_snp: bool | None = None
    crash_loaded: bool | None = None
    crash_size: int | None = None
    post_notifiers: bool | None = None
    log_vendor: str | None = None  # the log's platform fact cpu_vendor (AMD, Intel, ...), when cpuinfo is missing
    log_vendor_line: str = ""
    guests: list[str] | None = None  # None: no process table or libvirt state was readable
    guest_sources: list[str] = field(default_factory=list)

    def add(self, name: str, value, source: str) -> None:
        if value is not None:
            self.facts.append(Fact(name, value, source))

    def flag(self, name: str) -> bool | None:
        return None if self.cpu_flags is None else name in self.cpu_flags

    @property
    def amd(self) -> bool | None:
        """AuthenticAMD in /proc/cpuinfo; without it, what the log's platform facts say; else None."""
        if self.vendor is not None:
            return self.vendor == "AuthenticAMD"
        return None if self.log_vendor is None else self.log_vendor == "AMD"


def parse_cpuinfo(text: str) -> dict[str, str]:
    """The first processor's ``key: value`` pairs."""
    out: dict[str, str] = {}
    for line in text.splitlines():
        if not line.strip():
            if out:
                break
            continue
        key, sep, value = line.partition(":")
        if sep:
            out.setdefault(key.strip(), value.strip())
    return out


def cmdline_options(cmdline: str) -> list[tuple[str, str | None]]:
    """``name=value`` words of a kernel command line, in order (``--`` ends the kernel's part)."""
    out: list[tuple[str, str | None]] = []
    for word in cmdline.split():
        if word == "--":
            break
        name, sep, value = word.partition("=")
        out.append((name, value if sep else None))
    return out


def parse_bool(text: str | None) -> bool | None:
    """A module parameter's Y/N (or 1/0)."""
    if text is None:
        return None
    word = text.strip().upper()
    if word in ("Y", "1", "YES", "ON"):
        return True
    if word in ("N", "0", "NO", "OFF"):
        return False
    return None


def _int(text: str | None) -> int | None:
    try:
        return int(text.strip()) if text is not None else None
    except ValueError:
        return None


def _snp_object(value: str) -> bool:
    """``-object`` value of an SNP guest: ``sev-snp-guest,id=...`` or libvirt's JSON ``{"qom-type":"sev-snp-guest",...}``."""
    return value.startswith(SNP_OBJECT + ",") or value == SNP_OBJECT or f'"qom-type":"{SNP_OBJECT}"' in value


def snp_guest_name(args: list[str]) -> str | None:
    """The guest's name when these QEMU arguments create an SNP guest (an ``-object`` of that type), else None."""
    if not any(prev == "-object" and _snp_object(arg) for prev, arg in zip(args, args[1:])):
        return None
    for i, arg in enumerate(args[:-1]):
        if arg == "-name":
            value = args[i + 1]
            for part in value.split(","):
                if part.startswith("guest="):
                    return part[len("guest="):]
            return value.split(",")[0]
    return args[0].rsplit("/", 1)[-1] if args else "qemu"


def collect_host(reader: RootReader) -> HostFacts:
    host = HostFacts()
    text = reader.read_text("/proc/cpuinfo")
    if text is not None:
        info = parse_cpuinfo(text)
        host.vendor = info.get("vendor_id")
        host.family = _int(info.get("cpu family"))
        host.model_name = info.get("model name")
        host.cpu_flags = frozenset(info.get("flags", "").split())
        host.add("cpu.vendor", host.vendor, "/proc/cpuinfo")
        host.add("cpu.family", f"{host.family:#x}" if host.family is not None else None, "/proc/cpuinfo")
        host.add("cpu.model_name", host.model_name, "/proc/cpuinfo")
        host.add("cpu.sev_flags", sorted(f for f in host.cpu_flags if f in ("sev", "sev_es", "sev_snp")),
                 "/proc/cpuinfo flags")
    host.release = reader.value("/proc/sys/kernel/osrelease")
    host.add("kernel.release", host.release, "/proc/sys/kernel/osrelease")
    host.banner = reader.value("/proc/version")
    host.add("kernel.banner", host.banner, "/proc/version")
    if host.release is None and host.banner and host.banner.startswith("Linux version "):
        host.release = host.banner.split()[2]
        host.add("kernel.release", host.release, "/proc/version")
    if host.release is None and not reader.live:  # a sosreport keeps 'uname -a' (sos kernel plugin)
        uname = reader.value(_SOS_UNAME)
        words = uname.split() if uname else []
        if len(words) > 2 and words[0] == "Linux":
            host.release = words[2]
            host.add("kernel.release", host.release, _SOS_UNAME)
    cmdline = reader.read_text("/proc/cmdline")
    if cmdline is not None:
        host.cmdline = cmdline.replace("\0", " ").strip()
        host.add("kernel.cmdline", host.cmdline, "/proc/cmdline")
    for name in ("sev", "sev_es", "sev_snp"):
        path = f"/sys/module/kvm_amd/parameters/{name}"
        value = parse_bool(reader.value(path))
        setattr(host, {"sev": "kvm_sev", "sev_es": "kvm_sev_es", "sev_snp": "kvm_snp"}[name], value)
        host.add(f"kvm_amd.{name}", value, path)
    host.crash_loaded = parse_bool(reader.value("/sys/kernel/kexec_crash_loaded"))
    host.add("kexec.crash_loaded", host.crash_loaded, "/sys/kernel/kexec_crash_loaded")
    host.crash_size = _int(reader.value("/sys/kernel/kexec_crash_size"))
    host.add("kexec.crash_size", host.crash_size, "/sys/kernel/kexec_crash_size")
    path = "/sys/module/kernel/parameters/crash_kexec_post_notifiers"
    host.post_notifiers = parse_bool(reader.value(path))
    host.add("kernel.crash_kexec_post_notifiers", host.post_notifiers, path)
    for name in ("panic", "panic_on_oops", "kexec_load_disabled"):
        path = f"/proc/sys/kernel/{name}"
        host.add(f"sysctl.kernel.{name}", _int(reader.value(path)), path)
    for attr in ("bootloader_version", "tee_version"):
        paths = reader.glob(f"/sys/bus/pci/devices/*/{attr}")
        for path in paths:
            host.add(f"psp.{attr}", reader.value(path), path)
        if not paths:
            reader.note(f"/sys/bus/pci/devices/*/{attr}", "missing",
                        "no PSP exports it here (drivers/crypto/ccp/sp-pci.c, some parts only)")
    _guests(reader, host)
    return host


def _guests(reader: RootReader, host: HostFacts) -> None:
    """SNP guests visible in the process table or libvirt's state of running domains."""
    found: list[str] = []
    seen_any = False
    pids = reader.glob("/proc/[0-9]*/cmdline")
    if pids:
        seen_any = True
        readable = 0
        own = f"/proc/{os.getpid()}/cmdline" if reader.live else None
        for path in pids:
            if path == own:
                continue
            data = reader.read_bytes(path, record=False)
            if data is None:
                continue
            readable += 1
            name = snp_guest_name([a.decode("utf-8", "replace") for a in data.split(b"\0") if a])
            if name is not None:
                found.append(f"{name} (pid {path.split('/')[2]})")
        reader.note("/proc/*/cmdline", "read", f"{readable} of {len(pids)} processes readable")
        host.guest_sources.append("/proc/*/cmdline")
    else:
        reader.note("/proc/*/cmdline", "missing", "no process table in this tree")
    present = [p for p in _PS_FILES if not reader.live and reader.exists(p)]
    if not present and not reader.live:
        reader.note(_PS_FILES[0], "missing", "no sosreport process list in this tree")
    for path in present:
        text = reader.read_text(path, limit=8 << 20)
        if text is None:
            continue
        seen_any = True
        host.guest_sources.append(path)
        for line in text.splitlines():
            name = snp_guest_name(line.split())
            if name is not None:
                found.append(f"{name} ({path.rsplit('/', 1)[-1]})")
        break
    xml = reader.glob("/run/libvirt/qemu/*.xml")
    if xml:
        seen_any = True
        host.guest_sources.append("/run/libvirt/qemu/*.xml")
        for path in xml:
            text = reader.read_text(path)
            if text is not None and _libvirt_snp(text):
                found.append(f"{path.rsplit('/', 1)[-1][:-4]} (libvirt)")
    elif reader.exists("/run/libvirt/qemu"):
        seen_any = True
        host.guest_sources.append("/run/libvirt/qemu")
    host.guests = sorted(set(found)) if seen_any else None
    host.add("snp_guests", host.guests, ", ".join(host.guest_sources) or "no process table")


def _libvirt_snp(xml: str) -> bool:
    """A libvirt domain (status) XML with <launchSecurity type='sev-snp'> (libvirt formatdomain: launchSecurity)."""
    at = xml.find("<launchSecurity")
    while at >= 0:
        tag = xml[at:xml.find(">", at) + 1]
        if "sev-snp" in tag:
            return True
        at = xml.find("<launchSecurity", at + 1)
    return False
