"""Read-only access to a host's files, live (``/``) or under a collected tree (``--root DIR``).

Every path is named as it is on the host (``/proc/cmdline``) and resolved
under the root; a symbolic link in a copied tree that points to an absolute
path (``/var/lib/kdump/vmlinuz -> /boot/vmlinuz-6.8.0-45-generic``) is
followed inside the tree, never out of it.  Each look-up is recorded, so the
report can list every file it could not read and why (missing, permission,
not applicable, unreadable).  Nothing is ever opened for writing.

Also here: the kernel's own log from ``/dev/kmsg`` on a live host (records
``prio,seq,usec,flags;text`` turned into ``<level>[seconds] text`` lines, the
``dmesg -r`` form the ingest envelope reads), and the version string in a
bzImage's setup header (Documentation/arch/x86/boot.rst: ``HdrS`` at 0x202,
``kernel_version`` at 0x20e points to a NUL-terminated string at that
offset + 0x200).
"""
from __future__ import annotations

import errno
import glob
import os
import stat

from ..errors import InputError
from .model import ReadStatus, SourceRecord

__all__ = ["RootReader", "TEXT_LIMIT", "bzimage_version"]

#: the most of one text file read (configuration, /proc and /sys files are far smaller)
TEXT_LIMIT = 1 << 20
#: symbolic links followed before giving up (the kernel's own limit, MAXSYMLINKS)
_MAX_LINKS = 40
#: bytes of a bzImage read for its version string (the setup sectors hold it)
_BZIMAGE_HEAD = 64 * 1024
#: the most of /dev/kmsg read (log_buf_len is at most a few MiB on real hosts)
_KMSG_LIMIT = 32 << 20


class RootReader:
    """Files of one host, read-only, with a record of every look-up."""

    def __init__(self, root: str = "/") -> None:
        if not root:
            raise InputError("--root: empty path")
        try:
            st = os.stat(root)
        except OSError as exc:
            raise InputError(f"--root {root}: cannot read it: {exc.strerror or exc}") from None
        if not stat.S_ISDIR(st.st_mode):
            raise InputError(f"--root {root}: not a directory (give the top of a sosreport or of a copied tree)")
        if not os.access(root, os.R_OK | os.X_OK):
            raise InputError(f"--root {root}: permission denied (cannot list it)")
        self.root = os.path.abspath(root)
        self.live = self.root == "/"
        self.records: dict[str, SourceRecord] = {}

    # ------------------------------------------------------------------ paths

    def locate(self, path: str) -> tuple[str, str]:
        """(path on this machine, path on the host after links) for a host path; OSError(ELOOP) on a loop."""
        if self.live:
            return path, os.path.realpath(path)
        todo = [p for p in path.split("/") if p]
        done: list[str] = []
        hops = 0
        while todo:
            part = todo.pop(0)
            if part in ("", "."):
                continue
            if part == "..":
                if done:
                    done.pop()
                continue
            here = os.path.join(self.root, *done, part)
            if os.path.islink(here):
                hops += 1
                if hops > _MAX_LINKS:
                    raise OSError(errno.ELOOP, "too many levels of symbolic links", path)
                target = os.readlink(here)
                if target.startswith("/"):
                    done = []
                todo = [p for p in target.split("/") if p] + todo
                continue
            done.append(part)
        return os.path.join(self.root, *done), "/" + "/".join(done)

    def note(self, path: str, status: ReadStatus, why: str = "") -> None:
        """Record a look-up: the first record of a path wins, except that a read replaces anything and
        "not applicable" replaces "missing" (a file another one made unnecessary)."""
        old = self.records.get(path)
        if old is None or (status == "read" and old.status != "read") or (
                status == "not applicable" and old.status == "missing"):
            self.records[path] = SourceRecord(path, status, why)

    def exists(self, path: str) -> bool:
        try:
            return os.path.exists(self.locate(path)[0])
        except OSError:
            return False

    def glob(self, pattern: str) -> list[str]:
        """Host paths matching a glob pattern (sorted); links inside the tree are not followed here."""
        if self.live:
            return sorted(glob.glob(pattern))
        base = self.root.rstrip("/")
        return sorted(p[len(base):] for p in glob.glob(glob.escape(base) + pattern))

    # ------------------------------------------------------------------ reading

    def read_bytes(self, path: str, limit: int = TEXT_LIMIT, record: bool = True) -> bytes | None:
        """The file's first ``limit`` bytes, or None (recorded with the reason)."""
        host = path
        try:
            real, host = self.locate(path)
            with open(real, "rb") as handle:
                data = handle.read(limit)
        except (FileNotFoundError, NotADirectoryError):
            if record:
                self.note(path, "missing", "no such file" + (f" (it links to {host})" if host != path else ""))
            return None
        except PermissionError:
            if record:
                self.note(path, "permission", "permission denied (run as root, or collect it with a sosreport)")
            return None
        except IsADirectoryError:
            if record:
                self.note(path, "unreadable", "is a directory")
            return None
        except OSError as exc:  # EIO from a sysfs attribute, a link loop
            if record:
                self.note(path, "unreadable", exc.strerror or str(exc))
            return None
        if record:
            self.note(path, "read")
        return data

    def read_text(self, path: str, limit: int = TEXT_LIMIT, record: bool = True) -> str | None:
        data = self.read_bytes(path, limit, record)
        return None if data is None else data.decode("utf-8", errors="replace")

    def value(self, path: str) -> str | None:
        """A one-value file (/sys, /proc/sys): its stripped text."""
        text = self.read_text(path)
        return None if text is None else text.strip()

    def link_target(self, path: str) -> str | None:
        """The host path a (possibly linked) path ends at (whether that file is in the tree or not)."""
        try:
            return self.locate(path)[1]
        except OSError:
            return None

    # ------------------------------------------------------------------ the kernel log of a live host

    def kmsg(self) -> str | None:
        """The live kernel log from /dev/kmsg as ``<level>[seconds] text`` lines, or None (recorded)."""
        path = "/dev/kmsg"
        if not self.live:
            self.note(path, "not applicable", "--root given: a collected tree has no live kernel log")
            return None
        try:
            fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK)
        except FileNotFoundError:
            self.note(path, "missing", "no such device")
            return None
        except PermissionError:
            self.note(path, "permission", "needs root or CAP_SYSLOG (dmesg_restrict); give --dmesg FILE instead")
            return None
        except OSError as exc:
            self.note(path, "unreadable", exc.strerror or str(exc))
            return None
        lines: list[str] = []
        size = 0
        try:
            while size < _KMSG_LIMIT:
                try:
                    record = os.read(fd, 16384)
                except BlockingIOError:
                    break
                except BrokenPipeError:  # EPIPE: records overwritten while reading; the next read goes on
                    continue
                except OSError as exc:
                    if exc.errno == errno.EINVAL:  # a record longer than the buffer: skip it
                        continue
                    raise
                if not record:
                    break
                size += len(record)
                line = _kmsg_line(record.decode("utf-8", errors="replace"))
                if line is not None:
                    lines.append(line)
        except OSError as exc:
            self.note(path, "unreadable", exc.strerror or str(exc))
            return None
        finally:
            os.close(fd)
        self.note(path, "read")
        return "\n".join(lines) + ("\n" if lines else "")

    def sources(self) -> list[SourceRecord]:
        return list(self.records.values())


def _kmsg_line(record: str) -> str | None:
    """One /dev/kmsg record (Documentation/ABI/testing/dev-kmsg) as a ``dmesg -r`` line."""
    header, sep, rest = record.partition(";")
    if not sep:
        return None
    fields = header.split(",")
    if len(fields) < 3 or not fields[0].isdigit() or not fields[2].isdigit():
        return None
    level = int(fields[0]) & 7
    usec = int(fields[2])
    text = rest.split("\n", 1)[0]  # continuation lines (" KEY=value") are the record's dictionary
    return f"<{level}>[{usec // 1_000_000:5d}.{usec % 1_000_000:06d}] {text}"


def bzimage_version(head: bytes) -> str | None:
    """The kernel_version string of an x86 bzImage setup header, or None when it is not one."""
    if len(head) < 0x210 or head[0x202:0x206] != b"HdrS":
        return None
    offset = int.from_bytes(head[0x20E:0x210], "little")
    if offset == 0:
        return None
    start = offset + 0x200
    end = head.find(b"\0", start, start + 512)
    if start >= len(head) or end < 0:
        return None
    text = head[start:end].decode("ascii", errors="replace").strip()
    return text or None


def bzimage_head_size() -> int:
    return _BZIMAGE_HEAD
