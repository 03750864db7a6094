"""Noise made of real boot logs, for benchmarks that measure what users feed the tool.

The project's own generator (gen_capture.py) writes sparser noise than a real EPYC boot, whose
early lines are dense with ``pci``, ``iommu``, ``AMD-Vi`` and ``ccp`` messages: the 2026-11
figures (6x grep) were measured on it, real-boot noise gave about 15x. This module builds a
capture from real full boot logs instead:

* each boot is one real log, its lines and stamps verbatim (stamped lines only: a boot starts at
  0 s, so boots split as on a real console);
* after it the host "runs": lines drawn at random from the same logs (none that starts a boot or
  a kernel report), with stamps that go on rising, until the boot holds ``boot_every`` bytes.

The logs: the full boots in tests/corpus/real (licences in tests/corpus/real/README.md), the QEMU
sample in samples/, and where this machine has them the shared development captures named in
SHARED_BOOTS (read in place, not copied: their licences are their repositories').
"""
from __future__ import annotations

import random
import re
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
REPO_BOOTS = [
    "tests/corpus/real/107-iommu-list-thinkpad-ryzen-resume-warnings-amd-iommu-x2apic-full-dmesg.log",
    "tests/corpus/real/116-pdx86-list-hp-elitebook-strix-pmf-tee-enact-failed-s2idle.log",
    "tests/corpus/real/117-pdx86-list-framework-desktop-amdtee-firmware-load-qp-dmesg.log",
    "tests/corpus/real/149-iommu-list-dell-r7425-epyc-kdump-oom-amd-iommu-domain-alloc-qp-ttys0.log",
    "samples/qemu-amd-iommu-kdump-6.1.log",
]
SHARED_BOOTS = [
    "/work/shared/corpus/real-dev/038-supermicro-h13-dual-epyc-full-boot-8-iommus.log",
    "/work/shared/samples/qemu-amd-iommu-kdump-6.1-amd_iommu_dump.log",
]
_STAMPED = re.compile(r"^\[ *(\d+\.\d{6})\] (.*)$")
#: lines that start a boot, or belong to a kernel report (its frames, registers, code bytes), stay
#: in their boot, never in the runtime filler: alone and out of place they are no real noise
_STRUCTURAL = re.compile(r"Linux version|Command line|Kernel command line|Kernel panic|Call Trace|RIP:|cut here|"
                         r"BUG|WARNING:|Oops|end trace|Hardware name|CPU: \d+ PID|Kdump|kexec|crashkernel|"
                         r"Decompressing|Booting the kernel|soft lockup|hung_task|Modules linked|Tainted|"
                         r"\+0x[0-9a-f]+/0x|[A-Z][A-Z0-9]{1,3}: ?[0-9a-f]{8}|Code: |</?(?:TASK|IRQ|NMI|SOFTIRQ|EOI)>|"
                         r"stall|sysrq|SysRq|reboot: |Restarting|Call trace|\] \? ")


def boot_logs() -> list[tuple[str, list[tuple[float, str]]]]:
    """(name, [(stamp, message)]) of every real boot log available here."""
    out = []
    for path in [REPO / p for p in REPO_BOOTS] + [Path(p) for p in SHARED_BOOTS]:
        if not path.is_file():
            continue
        lines = []
        for raw in path.read_text(encoding="utf-8", errors="replace").splitlines():
            found = _STAMPED.match(raw)
            if found:
                lines.append((float(found.group(1)), found.group(2)))
        start = next((i for i, (t, _) in enumerate(lines) if t == 0.0), None)
        if start is not None and len(lines) - start > 200:
            out.append((path.name, lines[start:]))
    return out


def _boots(boots, rng: random.Random, size: int, boot_every: int):
    """About ``size`` bytes of boots and runtime lines, one boot at a time: (bytes, lines)."""
    filler = [msg for _, lines in boots for _, msg in lines if msg and not _STRUCTURAL.search(msg)]
    total = count = 0
    while total < size:
        name, lines = boots[count % len(boots)]
        count += 1
        block = [f"[{t:12.6f}] {msg}\n" for t, msg in lines]
        t = lines[-1][0]
        written = sum(len(s) for s in block)
        while written < boot_every and total + written < size:
            t += rng.random() * 0.5
            line = f"[{t:12.6f}] {rng.choice(filler)}\n"
            block.append(line)
            written += len(line)
        total += written
        yield "".join(block).encode("utf-8"), len(block)


def write(path: str, size: int, seed: int = 1, boot_every: int = 16 << 20) -> dict:
    """A capture of about ``size`` bytes in ``path``; returns its statistics."""
    boots = boot_logs()
    written = lines = count = 0
    with open(path, "wb") as out:
        for data, n in _boots(boots, random.Random(seed), size, boot_every):
            out.write(data)
            written, lines, count = written + len(data), lines + n, count + 1
    return {"bytes": written, "lines": lines, "boots": count, "logs": [name for name, _ in boots]}


def stream(size: int, seed: int = 1, piece: int = 256 << 20, boot_every: int = 16 << 20):
    """``size`` bytes of such noise as blocks, never held whole: the boots of one ``piece`` are
    built once and sent again and again (each starts at 0 s, as after a reboot)."""
    blocks = [data for data, _ in _boots(boot_logs(), random.Random(seed), min(size, piece), boot_every)]
    sent = 0
    while sent < size:
        for data in blocks:
            block = data[: size - sent]
            yield block
            sent += len(block)
            if sent >= size:
                return
