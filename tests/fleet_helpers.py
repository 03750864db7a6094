"""A small fleet of real captures laid out in tmp_path as support teams receive them: host directories,
a Fedora and a Debian kdump crash directory, a tar.gz archive holding captures and a crash directory."""
from __future__ import annotations

import io
import os
import shutil
import tarfile
from pathlib import Path

from .conftest import FOUNDING, QEMU_LOG, ROOT

REAL = ROOT / "tests" / "corpus" / "real"
#: fixed capture times (seconds since the epoch) so reports are golden
T0 = 1764460800.0  # 2025-11-30T00:00:00Z
DAY = 86400.0

#: real captures used in the fleet (name in tests/corpus/real or samples/, where it goes)
_LOOSE = [
    (REAL / "102-iommu-list-ftdi-xhci-page-faults-qp-kernlog-and-quoted-gpf.log", "hostA/console.log", 0),
    (REAL / "103-iommu-list-raven-igpu-ats-cwait-iotlb-inv-timeout-indented.log", "hostB/console.log", 1),
    (REAL / "104-iommu-list-raven-ats-thread-nested-quotes-qp.log", "hostC/console.log", 2),
    (REAL / "108-iommu-list-intel-t450s-dmar-xhci-faults-syslog.log", "hostD/messages", 3),
    (QEMU_LOG, "qemu/serial.log", 4),
    (FOUNDING, "lkml/thread.txt", 5),
]


def _put(src: Path, dest: Path, when: float) -> None:
    dest.parent.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(src, dest)
    os.utime(dest, (when, when))


def make_fleet(top: Path) -> Path:
    """Lay out the fleet under ``top/fleet``; returns that directory."""
    fleet = top / "fleet"
    for src, rel, day in _LOOSE:
        _put(src, fleet / rel, T0 + day * DAY)
    fedora = fleet / "crash" / "10.0.0.7-2026-11-30-04:12:31"
    _put(FOUNDING, fedora / "vmcore-dmesg.txt", T0 + 6 * DAY)
    _put(QEMU_LOG, fedora / "kexec-dmesg.log", T0 + 6 * DAY)
    debian = fleet / "crash" / "202611300412"
    _put(REAL / "100-iommu-list-amd-kdump-nopt-ahci-mpt3sas-page-faults.log", debian / "dmesg.202611300412",
         T0 + 6 * DAY)
    (fleet / "README.md").write_text("not a capture\n")
    make_archive(fleet / "batch.tar.gz")
    return fleet


def make_archive(path: Path) -> None:
    """A tar.gz with two host captures and a Fedora crash directory (members with fixed mtimes)."""
    members = [
        ("hostE/console.log", REAL / "111-crypto-list-sev-init-ex-writeback-eintr-oops-panic.log", 2),
        ("hostF/console.log", REAL / "113-crypto-list-snp-kvm-builtin-wrmsr-gp-snp-init-error-3.log", 3),
        ("var/crash/10.0.0.9-2026-12-01-10:00:00/vmcore-dmesg.txt",
         REAL / "112-crypto-list-ccp-null-psp-master-gpf-kasan-shutdown.log", 4),
        ("notes.md", None, 4),
    ]
    with tarfile.open(path, "w:gz") as tar:
        for name, src, day in members:
            data = src.read_bytes() if src else b"# not a capture\n"
            info = tarfile.TarInfo(name)
            info.size = len(data)
            info.mtime = int(T0 + day * DAY)
            tar.addfile(info, io.BytesIO(data))
    os.utime(path, (T0, T0))


#: captures in make_fleet: 6 loose files, 2 crash directories, 3 in the archive
FLEET_CAPTURES = 11
