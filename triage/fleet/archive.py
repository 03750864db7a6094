"""The captures inside a tar archive (plain, gzip, xz, bzip2), found from its member list and read
without extracting anything to disk.

Members of one kdump crash directory are one capture (names.py says which); every other regular
member is a capture of its own, unless its name says it is none.  Groups come in archive order, so
a compressed archive is read front to back.
"""
from __future__ import annotations

import posixpath
import tarfile
from collections.abc import Iterator
from dataclasses import dataclass

from .names import DEBIAN_DMESG, FEDORA_DMESG, FEDORA_KDUMP_LOG, crash_dir_host, skipped_by_name
from .units import Unit

__all__ = ["MemberGroup", "iter_member_captures"]


@dataclass
class MemberGroup:
    """Archive members diagnosed together, with what their place in the archive says."""

    name: str  # the member, or the crash directory with a trailing '/'
    members: list[tarfile.TarInfo]
    host: str | None = None
    host_from: str | None = None
    mtime: float | None = None
    layout: str | None = None


def iter_member_captures(tar: tarfile.TarFile, unit: Unit) -> Iterator[MemberGroup]:
    """The captures of an open archive, in member order."""
    files = [m for m in tar.getmembers() if m.isreg() and not skipped_by_name(posixpath.basename(m.name))]
    by_dir: dict[str, list[tarfile.TarInfo]] = {}
    for member in files:
        by_dir.setdefault(posixpath.dirname(member.name), []).append(member)
    grouped: dict[str, MemberGroup] = {}
    for directory, members in by_dir.items():
        names = {posixpath.basename(m.name): m for m in members}
        base = posixpath.basename(directory)
        if FEDORA_DMESG in names:
            parts = [names[FEDORA_DMESG]] + ([names[FEDORA_KDUMP_LOG]] if FEDORA_KDUMP_LOG in names else [])
            host = crash_dir_host(base)
            group = MemberGroup(directory + "/", parts, host, "crash directory" if host else None,
                                float(parts[0].mtime), "fedora-kdump")
            for m in parts:
                grouped[m.name] = group
    for member in files:
        group = grouped.get(member.name)
        if group is not None:
            if group.members[0] is member:
                yield group
            continue
        base = posixpath.basename(member.name)
        layout = "debian-kdump-tools" if DEBIAN_DMESG.match(base) else None
        host, host_from = _host_from_member_path(member.name)
        yield MemberGroup(member.name, [member], host, host_from, float(member.mtime), layout)


def _host_from_member_path(name: str) -> tuple[str | None, str | None]:
    """``host42/console.log`` in an archive: its first directory, as for a scan root."""
    parts = [p for p in name.split("/") if p not in ("", ".")]
    if len(parts) >= 2:
        return parts[0], "path"
    return None, None
