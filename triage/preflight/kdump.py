"""Which kernel kdump will boot, its release and its command line, from the distribution's kdump set-up.

The order of the sources, first found wins:

1. the command really loaded, where a tool recorded it: Debian/Ubuntu
   kdump-tools writes it to ``$KDUMP_COREDIR/kexec_cmd`` (default
   ``/var/crash/kexec_cmd``; kdump-config kdump_load()), and a sosreport's
   ``sos_commands/kdump/kdump-config_show`` repeats it under "kexec command:";
2. Debian/Ubuntu ``/etc/default/kdump-tools``: ``KDUMP_KERNEL`` (default
   ``/var/lib/kdump/vmlinuz``, a link to ``/boot/vmlinuz-<release>``),
   ``KDUMP_CMDLINE`` (else ``/proc/cmdline`` without ``crashkernel=``,
   ``BOOT_IMAGE=``, hugepages options and, on x86_64, ``iommu=`` and
   ``intel_iommu=``), ``KDUMP_CMDLINE_APPEND``;
3. Fedora/RHEL (kdumpctl) and SUSE ``/etc/sysconfig/kdump``: ``KDUMP_KERNELVER``
   (empty: the running kernel), ``KDUMP_COMMANDLINE`` (empty: ``/proc/cmdline``),
   ``KDUMP_COMMANDLINE_REMOVE``, ``KDUMP_COMMANDLINE_APPEND``; ``/etc/kdump.conf``
   holds where and how the dump is saved (``path``, ``core_collector``,
   ``failure_action``), not the kernel.

The release comes from ``KDUMP_KERNELVER``, else from the image's bzImage
header (``/boot/vmlinuz-*``, often readable by root only), else from its file
name, else (no configuration says otherwise) the running kernel's.
"""
from __future__ import annotations

import shlex
from dataclasses import dataclass, field

from .hostfacts import HostFacts, cmdline_options
from .model import Fact
from .reader import RootReader, bzimage_head_size, bzimage_version

__all__ = ["CrashKernel", "find_crash_kernel", "parse_shell_vars", "derive_cmdline", "kexec_command"]

KDUMP_TOOLS = "/etc/default/kdump-tools"
SYSCONFIG = "/etc/sysconfig/kdump"
KDUMP_CONF = "/etc/kdump.conf"
SOS_KDUMP_SHOW = "/sos_commands/kdump/kdump-config_show"
#: what kdump-config strips from /proc/cmdline (kdump_load(); x86_64 adds the last three)
KDUMP_TOOLS_STRIP = ("crashkernel", "abm", "isolcpus", "hugepages", "hugepagesz", "default_hugepagesz",
                     "edac_core.edac_report", "edac_report", "BOOT_IMAGE", "processor.max_cstate",
                     "intel_iommu", "iommu", "intel_idle.max_cstate")
#: kdump-tools' own KDUMP_CMDLINE_APPEND when the configuration leaves it unset (Debian's value, also
#: the founding mail's kdump command line; other builds differ in options that do not touch the IOMMU)
KDUMP_TOOLS_DEFAULT_APPEND = "reset_devices systemd.unit=kdump-tools-dump.service nr_cpus=1 irqpoll nousb"
#: kdump.conf directives worth showing
KDUMP_CONF_KEYS = ("path", "core_collector", "failure_action", "default", "dracut_args")


@dataclass
class CrashKernel:
    """The kernel kdump will boot, as far as the host's files tell."""

    facts: list[Fact] = field(default_factory=list)
    tool: str | None = None  # kdump-tools | kdumpctl (sysconfig)
    enabled: bool | None = None  # USE_KDUMP
    release: str | None = None
    release_from: str | None = None
    banner: str | None = None  # the bzImage's version string
    image: str | None = None
    image_from: str = ""
    cmdline: str | None = None
    cmdline_from: str | None = None
    config_read: bool = False
    assumed: bool = False  # no configuration found: the running kernel's image is assumed

    def add(self, name: str, value, source: str) -> None:
        if value is not None:
            self.facts.append(Fact(name, value, source))


def parse_shell_vars(text: str) -> dict[str, str]:
    """``NAME=value`` assignments of a shell configuration file (quotes removed, no expansion)."""
    out: dict[str, str] = {}
    for line in text.splitlines():
        line = line.strip()
        if not line or line.startswith("#") or "=" not in line:
            continue
        name, _, value = line.partition("=")
        name = name.strip()
        if name.startswith("export "):
            name = name[len("export "):].strip()
        if not name.replace("_", "").isalnum():
            continue
        try:
            words = shlex.split(value, comments=True)
        except ValueError:
            words = [value.strip().strip("\"'")]
        out[name] = " ".join(words)
    return out


def derive_cmdline(base: str, strip: tuple[str, ...], append: str) -> str:
    """``base`` without the options named in ``strip``, then ``append``."""
    kept = [w for w in base.split() if w.partition("=")[0] not in strip]
    return " ".join(kept + append.split())


def kexec_command(text: str) -> tuple[str | None, str | None]:
    """(command line, kernel image) of a recorded ``kexec -p ... --command-line="..." IMAGE`` command."""
    at = text.find("kexec")
    if at < 0:
        return None, None
    line = text[at:].splitlines()[0]
    try:
        words = shlex.split(line)
    except ValueError:
        return None, None
    cmdline = next((w.partition("=")[2] for w in words if w.startswith(("--command-line=", "--append="))), None)
    image = words[-1] if len(words) > 1 and not words[-1].startswith("-") else None
    return cmdline, image


def find_crash_kernel(reader: RootReader, host: HostFacts) -> CrashKernel:
    crash = CrashKernel()
    debian = reader.read_text(KDUMP_TOOLS)
    sysconfig = reader.read_text(SYSCONFIG)
    if debian is not None:
        crash.tool, crash.config_read = "kdump-tools", True
        _kdump_tools(reader, host, crash, parse_shell_vars(debian))
        if sysconfig is None:
            reader.note(SYSCONFIG, "not applicable", "Debian/Ubuntu host: kdump-tools is configured instead")
            reader.note(KDUMP_CONF, "not applicable", "Debian/Ubuntu host: kdump-tools is configured instead")
    elif sysconfig is not None:
        crash.tool, crash.config_read = "kdumpctl", True
        _sysconfig(reader, host, crash, parse_shell_vars(sysconfig))
        reader.note(KDUMP_TOOLS, "not applicable", "Fedora/RHEL/SUSE host: /etc/sysconfig/kdump is used instead")
    if crash.tool is None and host.release:
        # no configuration: the running kernel's image is what kdump tools load by default
        crash.image, crash.assumed = f"/boot/vmlinuz-{host.release}", True
        crash.image_from = "assumed: no kdump configuration, so the running kernel's image"
        crash.release_from = "assumed: no kdump configuration found, so the running kernel's image"
    _image_release(reader, crash)
    crash.add("crash_kernel.tool", crash.tool, KDUMP_TOOLS if crash.tool == "kdump-tools" else SYSCONFIG)
    crash.add("crash_kernel.enabled", crash.enabled, KDUMP_TOOLS)
    crash.add("crash_kernel.image", crash.image, crash.image_from)
    crash.add("crash_kernel.release", crash.release, crash.release_from or "")
    crash.add("crash_kernel.version_string", crash.banner, crash.image or "")
    crash.add("crash_kernel.cmdline", crash.cmdline, crash.cmdline_from or "")
    return crash


def _kdump_tools(reader: RootReader, host: HostFacts, crash: CrashKernel, env: dict[str, str]) -> None:
    use = env.get("USE_KDUMP")
    crash.enabled = None if use is None else use.strip() not in ("", "0")
    coredir = env.get("KDUMP_COREDIR") or "/var/crash"
    recorded = None
    for path in (f"{coredir.rstrip('/')}/kexec_cmd", SOS_KDUMP_SHOW):
        text = reader.read_text(path)
        if text is not None:
            cmdline, image = kexec_command(text)
            if cmdline is not None or image is not None:
                recorded = path
                crash.cmdline, crash.cmdline_from = cmdline, f"{path} (the command kdump-config ran)"
                if image:
                    crash.image, crash.image_from = image, path
                break
    if recorded is None:
        base = env.get("KDUMP_CMDLINE") or None
        append = env.get("KDUMP_CMDLINE_APPEND", KDUMP_TOOLS_DEFAULT_APPEND)
        if base is not None:
            crash.cmdline = derive_cmdline(base, (), append)
            crash.cmdline_from = f"derived from {KDUMP_TOOLS} (KDUMP_CMDLINE + KDUMP_CMDLINE_APPEND)"
        elif host.cmdline is not None:
            crash.cmdline = derive_cmdline(host.cmdline, KDUMP_TOOLS_STRIP, append)
            crash.cmdline_from = (f"derived as kdump-config does: /proc/cmdline without crashkernel=, iommu= ... "
                                  f"+ KDUMP_CMDLINE_APPEND of {KDUMP_TOOLS}"
                                  + ("" if "KDUMP_CMDLINE_APPEND" in env else " (unset there: kdump-tools' default)"))
    if crash.image is None:
        crash.image = env.get("KDUMP_KERNEL") or (f"/boot/vmlinuz-{host.release}" if host.release else None)
        crash.image_from = f"{KDUMP_TOOLS} " + ("KDUMP_KERNEL" if env.get("KDUMP_KERNEL") else
                                               "(no KDUMP_KERNEL: the running kernel's image)")
    crash.release_from = KDUMP_TOOLS + (" KDUMP_KERNEL" if env.get("KDUMP_KERNEL") else " (running kernel)")
    if recorded is not None:
        crash.release_from = recorded


def _sysconfig(reader: RootReader, host: HostFacts, crash: CrashKernel, env: dict[str, str]) -> None:
    version = env.get("KDUMP_KERNELVER") or None
    if version:
        crash.release, crash.release_from = version, f"{SYSCONFIG} KDUMP_KERNELVER"
        crash.image, crash.image_from = f"/boot/vmlinuz-{version}", f"{SYSCONFIG} KDUMP_KERNELVER"
    elif host.release:
        crash.image = f"/boot/vmlinuz-{host.release}"
        crash.release_from = f"{SYSCONFIG} (KDUMP_KERNELVER empty: the running kernel)"
        crash.image_from = crash.release_from
    base = env.get("KDUMP_COMMANDLINE") or None
    remove = tuple(env.get("KDUMP_COMMANDLINE_REMOVE", "").split()) + ("crashkernel",)
    append = env.get("KDUMP_COMMANDLINE_APPEND", "")
    if base is not None:
        crash.cmdline = derive_cmdline(base, (), append)
        crash.cmdline_from = f"derived from {SYSCONFIG} (KDUMP_COMMANDLINE + KDUMP_COMMANDLINE_APPEND)"
    elif host.cmdline is not None:
        crash.cmdline = derive_cmdline(host.cmdline, remove, append)
        crash.cmdline_from = (f"derived as kdumpctl does: /proc/cmdline without crashkernel= and "
                              f"KDUMP_COMMANDLINE_REMOVE, + KDUMP_COMMANDLINE_APPEND of {SYSCONFIG}")
    conf = reader.read_text(KDUMP_CONF)
    if conf is not None:
        for line in conf.splitlines():
            key, _, value = line.strip().partition(" ")
            if key in KDUMP_CONF_KEYS and not line.lstrip().startswith("#"):
                crash.add(f"kdump.conf.{key}", value.strip(), KDUMP_CONF)


def _image_release(reader: RootReader, crash: CrashKernel) -> None:
    """The release from the image's header or name, unless the configuration named it."""
    if crash.image is None:
        return
    target = reader.link_target(crash.image) or crash.image
    if target != crash.image:
        crash.add("crash_kernel.image_target", target, crash.image)
    head = reader.read_bytes(crash.image, limit=bzimage_head_size())
    version = bzimage_version(head) if head is not None else None
    if version is not None:
        crash.banner = version
        if crash.release is None:
            crash.release = version.split()[0]
            crash.release_from = f"{crash.image}: the bzImage header's version string"
        return
    name = target.rsplit("/", 1)[-1]
    for prefix in ("vmlinuz-", "vmlinux-", "bzImage-"):
        if name.startswith(prefix) and len(name) > len(prefix) and crash.release is None:
            crash.release = name[len(prefix):]
            crash.release_from = f"{target}: the image's file name" + (
                f" ({crash.image} links to it)" if target != crash.image else "")
            return


def crash_options(crash: CrashKernel) -> list[tuple[str, str | None]]:
    return cmdline_options(crash.cmdline or "")
