"""Which files a fleet scan takes for captures, by name: archives, dumps, crash-directory files, noise.

A scan walks whatever it is given; files whose names say they are no console capture (documents,
rule files, images, vmcores) are passed over and counted, every other file is a capture.  Crash
directories are recognised by the files kdump writes into them:

- Fedora/RHEL kdump (kdumpctl, ``/var/crash/<host>-<date>/``): ``vmcore`` and ``vmcore-dmesg.txt``
  (the crashed kernel's log, makedumpfile --dump-dmesg), ``kexec-dmesg.log`` (the kdump kernel's own);
- Debian/Ubuntu kdump-tools (``/var/crash/<stamp>/``): ``dump.<stamp>`` and ``dmesg.<stamp>``.
"""
from __future__ import annotations

import fnmatch
import re

__all__ = ["TAR_SUFFIXES", "is_tar_name", "skipped_by_name", "DEFAULT_EXCLUDES", "FEDORA_DMESG",
           "FEDORA_KDUMP_LOG", "DEBIAN_DMESG", "crash_dir_host", "LAYOUT_HOST_FROM"]

TAR_SUFFIXES = (".tar", ".tar.gz", ".tgz", ".tar.xz", ".txz", ".tar.bz2", ".tbz2", ".tar.zst")
#: names that are no console capture: documents, labels, rule files, pictures, dumps, code
DEFAULT_EXCLUDES = (
    "*.md", "*.rst", "*.html", "*.yaml", "*.yml", "*.tsv", "*.csv", "*.py", "*.sh", "*.png", "*.jpg",
    "*.jpeg", "*.gif", "*.svg", "*.pdf", "*.zip", "LICENSE*", "AUTHORS", "COPYING", ".*",
    "vmcore", "vmcore.flat", "vmcore-incomplete", "dump.[0-9]*", "*.ko", "vmlinux*", "*.rpm", "*.deb",
    "*.sqlite", "*.db", "*.db-wal", "*.db-shm", "*.sqlite-wal", "*.sqlite-shm",
)
FEDORA_DMESG = "vmcore-dmesg.txt"
FEDORA_KDUMP_LOG = "kexec-dmesg.log"
DEBIAN_DMESG = re.compile(r"^dmesg\.\d{12,14}$")
#: kdumpctl names the directory <host>-<YYYY-MM-DD-HH:MM[:SS]> (host is an IP address by default)
_FEDORA_DIR = re.compile(r"^(.+)-\d{4}-\d\d-\d\d-\d\d:\d\d(?::\d\d)?$")


#: what a layout's host name came from (triage.ingest.layouts kinds)
LAYOUT_HOST_FROM = {"kdump-fedora": "crash directory", "kdump-debian": "crash directory", "sosreport": "sosreport"}


def is_tar_name(name: str) -> bool:
    lower = name.lower()
    return lower.endswith(TAR_SUFFIXES)


def skipped_by_name(name: str, excludes: tuple[str, ...] = DEFAULT_EXCLUDES) -> bool:
    """Whether a file's base name says it is no console capture."""
    return any(fnmatch.fnmatchcase(name, pattern) for pattern in excludes)


def crash_dir_host(dirname: str) -> str | None:
    """The host of a Fedora/RHEL crash directory name (``10.0.0.7-2026-11-30-04:12:31`` -> ``10.0.0.7``)."""
    found = _FEDORA_DIR.match(dirname)
    return found.group(1) if found else None
