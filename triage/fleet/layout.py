"""Directories that are one capture set: kdump crash directories and sosreport trees.

For each directory of a walk, which of its files form capture sets, the host the layout names, and
which subdirectories the walk need not enter (a sosreport's other thousands of files are no console
capture).  Names of the kdump files are in names.py; a sosreport is recognised by its
``sos_commands/`` directory (sos writes it into every report) and its logs are the kernel ring
buffer it saved (``sos_commands/kernel/dmesg*``), syslog (``var/log/messages*``, ``var/log/syslog*``)
and the kernel journal (``sos_commands/logs/journalctl_*``).
"""
from __future__ import annotations

import os
import re

from .names import DEBIAN_DMESG, FEDORA_DMESG, FEDORA_KDUMP_LOG, crash_dir_host

__all__ = ["capture_sets", "CaptureSet"]

#: (files, host, host_from, layout, subdirectories to prune)
CaptureSet = tuple[list[str], str | None, str | None, str, set[str]]

_SOS_LOGS = (("sos_commands", "kernel"), ("var", "log"), ("sos_commands", "logs"))
_SOS_NAME = re.compile(r"^(?:dmesg.*|messages(?:[.-].*)?|syslog(?:\.\d+)?(?:\.gz)?|journalctl_.*kernel.*)$")
#: sosreport-<host>[-<case>]-<date>-<random>: the directory sos names after the host it ran on
_SOS_DIR = re.compile(r"^sosreport-([A-Za-z0-9][\w.-]*?)(?:-\d+)?-\d{4}-\d\d-\d\d-\w+$")


def capture_sets(directory: str, filenames: list[str], dirnames: list[str]) -> tuple[list[CaptureSet], set[str]]:
    """The capture sets of one directory and the file names they took."""
    names = set(filenames)
    base = os.path.basename(os.path.normpath(directory))
    if FEDORA_DMESG in names:
        files = [FEDORA_DMESG] + ([FEDORA_KDUMP_LOG] if FEDORA_KDUMP_LOG in names else [])
        host = crash_dir_host(base)
        return [(files, host, "crash directory" if host else None, "fedora-kdump", set())], set(files)
    dmesgs = [n for n in filenames if DEBIAN_DMESG.match(n)]
    if dmesgs:
        return [([n], None, None, "debian-kdump-tools", set()) for n in dmesgs], set(dmesgs)
    if "sos_commands" in dirnames:
        return _sosreport(directory, base, names), set(filenames) & {"hostname"}
    return [], set()


def _sosreport(directory: str, base: str, names: set[str]) -> list[CaptureSet]:
    host, host_from = _sos_host(directory, base, names)
    sets: list[CaptureSet] = []
    for parts in _SOS_LOGS:
        folder = os.path.join(directory, *parts)
        try:
            entries = sorted(os.listdir(folder))
        except OSError:
            continue
        for entry in entries:
            rel = os.path.join(*parts, entry)
            if _SOS_NAME.match(entry) and os.path.isfile(os.path.join(directory, rel)):
                sets.append(([rel], host, host_from, "sosreport", set()))
    prune = {d for d in os.listdir(directory) if os.path.isdir(os.path.join(directory, d))}
    if sets:
        sets[0] = (sets[0][0], host, host_from, "sosreport", prune)
    else:
        sets.append(([], host, host_from, "sosreport", prune))
    return sets


def _sos_host(directory: str, base: str, names: set[str]) -> tuple[str | None, str | None]:
    if "hostname" in names:
        try:
            with open(os.path.join(directory, "hostname"), encoding="utf-8", errors="replace") as handle:
                name = handle.readline().strip()
            if name:
                return name, "sosreport"
        except OSError:
            pass
    found = _SOS_DIR.match(base)
    return (found.group(1), "sosreport") if found else (None, None)
