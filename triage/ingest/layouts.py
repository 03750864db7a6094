"""Recognise what one input path is: a capture file, a kdump crash directory, or a sosreport.

Engineers hand over what the tools wrote, not loose files.  One path (a directory or a tar
archive) becomes a :class:`CaptureSet`: its kind, the host it came from, the log files in the
order to read them, and the dump files.  The names are the ones the tools write:

* Fedora/RHEL, kdump-utils ``dracut/99kdumpbase/kdump.sh`` (formerly kexec-tools'
  ``dracut-kdump.sh``): ``$KDUMP_PATH/$HOST_IP-$DATEDIR/`` with ``DATEDIR=$(date +%Y-%m-%d-%T)``
  and ``HOST_IP=127.0.0.1`` for local targets; in it ``vmcore-dmesg.txt`` (``vmcore-dmesg-
  incomplete.txt`` until vmcore-dmesg finished), ``vmcore`` (``vmcore-incomplete`` until the core
  collector finished; ``vmcore.flat``, makedumpfile's flattened format, for ssh targets:
  ``dump_ssh()``), and ``kexec-dmesg.log`` (the kdump kernel's own ``dmesg -T`` and
  ``journalctl -ab``: ``save_log()``).
* Debian/Ubuntu, kdump-tools ``/usr/sbin/kdump-config`` ``kdump_save_core()``:
  ``$KDUMP_COREDIR/$KDUMP_STAMP/`` (``<host>-$KDUMP_STAMP`` for network targets, ``define_stampdir()``)
  with ``KDUMP_STAMP=$(date +%Y%m%d%H%M)``; in it ``dmesg.$KDUMP_STAMP`` (``makedumpfile
  --dump-dmesg``) and ``dump.$KDUMP_STAMP`` plus ``.bz2``/``.gz``/``.lz4``/``.xz`` when
  KDUMP_COMPRESSION is set (``dump-incomplete*`` until done; ``vmcore.$KDUMP_STAMP`` when the
  collector is ``cp``).
* sos, ``sos/report/plugins/kernel.py`` (``dmesg`` and ``dmesg -T`` command output:
  ``sos_commands/kernel/dmesg``, ``dmesg_-T``; ``/var/log/dmesg``) and ``logs.py``
  (``/var/log/messages*``, ``kern.log*``/``syslog*`` without a journal, and ``add_journal()``:
  ``journalctl --no-pager`` with ``--boot`` (this boot) / ``--boot -1`` (the last one) under
  ``sos_commands/logs/``).  Archives are ``sosreport-<host>[-<case>]-<YYYY-MM-DD>-<random>.tar.xz``
  holding one top directory of that name; the tree's ``hostname`` file names the host too.

Tar archives are listed, not extracted: their log members are read through
:func:`triage.ingest.reader.open_input` (``Input.from_member``).
"""
from __future__ import annotations

import os
import re
import tarfile
from dataclasses import dataclass

from ..errors import InputError
from ..model.vocabulary import CaptureSetKind
from .reader import Input, display_name

__all__ = ["CaptureSet", "DumpFile", "recognise"]

_FEDORA_DIR = re.compile(r"^(?P<host>.+)-(?P<date>\d{4}-\d{2}-\d{2}-\d{2}:\d{2}:\d{2})$")
_DEBIAN_DIR = re.compile(r"^(?:(?P<host>.+)-)?(?P<stamp>\d{12})$")
_SOS_NAME = re.compile(r"^sosreport-(?P<host>.+?)(?:-\d+)?-\d{4}-\d{2}-\d{2}-[A-Za-z0-9]+$")
_TAR_SUFFIX = re.compile(r"\.(?:tar|tar\.(?:gz|xz|bz2)|tgz|txz|tbz2?)$")

_FEDORA_LOGS = ("vmcore-dmesg.txt", "vmcore-dmesg-incomplete.txt", "kexec-dmesg.log")
_FEDORA_DUMPS = ("vmcore", "vmcore.flat", "vmcore-incomplete")
_DEBIAN_DMESG = re.compile(r"^dmesg\.(\d{12})$")
_DEBIAN_DUMP = re.compile(r"^(?:dump|vmcore)\.(\d{12})(?:\.(?:bz2|gz|lz4|xz))?$")
_DEBIAN_PARTIAL = re.compile(r"^(?:dump-incomplete(?:\.(?:bz2|gz|lz4|xz))?|vmcore-incomplete)$")
_ROTATED = re.compile(r"^(?P<base>messages|kern\.log|syslog)(?:(?:[.-])(?P<tag>[^.]+))?(?:\.(?:gz|xz|bz2|zst))?$")
_JOURNAL = "journalctl_--no-pager"


@dataclass(frozen=True)
class DumpFile:
    """A memory dump found in a capture set."""

    path: str  # the file, or the archive holding it
    member: str | None = None  # its name inside the archive
    complete: bool = True  # False: the tool's "-incomplete" name, it never finished writing

    @property
    def name(self) -> str:
        return f"{display_name(self.path)}:{display_name(self.member)}" if self.member else display_name(self.path)


@dataclass(frozen=True)
class CaptureSet:
    """One input path as the tools wrote it."""

    kind: CaptureSetKind
    root: str  # the path given: a file, a directory or a tar archive
    host: str | None  # from the directory or archive name (or sos's hostname file); None if unknown
    logs: tuple[Input, ...]  # in reading order: the crashed kernel's log before the kdump kernel's
    dumps: tuple[DumpFile, ...]  # the complete dumps first
    notes: tuple[str, ...] = ()  # what the layout says about the capture (e.g. an unfinished dump)


class _Tree:
    """Files of a directory or of a tar archive, by path relative to the capture set's top."""

    def __init__(self, root: str) -> None:
        self.root = root
        self.archive = not os.path.isdir(root)
        self._dirs: dict[str, set[str]] = {}
        self._top = ""
        if self.archive:
            self._list_archive()

    def _list_archive(self) -> None:
        name = display_name(self.root)
        try:
            with tarfile.open(self.root, "r:*") as tar:
                members = [m.name for m in tar if m.isfile()]
        except (tarfile.TarError, OSError, EOFError) as exc:
            raise InputError(f"{name}: cannot list the archive: {exc}") from None
        tops = {m.lstrip("./").split("/", 1)[0] for m in members if "/" in m.lstrip("./")}
        if len(tops) == 1 and all("/" in m.lstrip("./") for m in members):
            self._top = tops.pop()
        for member in members:
            rel = member.lstrip("./")
            rel = rel[len(self._top) + 1:] if self._top else rel
            folder, _, base = rel.rpartition("/")
            self._dirs.setdefault(folder, set()).add(base)
        self._members = {self._rel(m): m for m in members}

    def _rel(self, member: str) -> str:
        rel = member.lstrip("./")
        return rel[len(self._top) + 1:] if self._top else rel

    @property
    def top_name(self) -> str:
        """The name that carries the host: the directory's, or the archive's single top folder."""
        if not self.archive:
            return os.path.basename(os.path.normpath(self.root))
        return self._top or _TAR_SUFFIX.sub("", os.path.basename(self.root))

    def files(self, folder: str = "") -> list[str]:
        if self.archive:
            return sorted(self._dirs.get(folder, ()))
        path = os.path.join(self.root, folder)
        try:
            return sorted(n for n in os.listdir(path) if os.path.isfile(os.path.join(path, n)))
        except OSError:
            return []

    def has_dir(self, folder: str) -> bool:
        if self.archive:
            return any(d == folder or d.startswith(folder + "/") for d in self._dirs)
        return os.path.isdir(os.path.join(self.root, folder))

    def input(self, rel: str) -> Input:
        if self.archive:
            return Input.from_member(self.root, self._members[rel])
        return Input.from_arg(os.path.join(self.root, rel))

    def dump(self, rel: str, complete: bool = True) -> DumpFile:
        if self.archive:
            return DumpFile(self.root, self._members[rel], complete)
        return DumpFile(os.path.join(self.root, rel), None, complete)

    def first_line(self, rel: str) -> str | None:
        if os.path.basename(rel) not in self.files(os.path.dirname(rel)):
            return None
        try:
            if self.archive:
                with tarfile.open(self.root, "r:*") as tar:
                    stream = tar.extractfile(self._members[rel])
                    data = stream.read(256) if stream else b""
            else:
                with open(os.path.join(self.root, rel), "rb") as handle:
                    data = handle.read(256)
        except (OSError, KeyError, tarfile.TarError, EOFError):
            return None
        line = data.decode("utf-8", "replace").strip().splitlines()
        return line[0].strip() if line and line[0].strip() else None


def recognise(path: str) -> CaptureSet:
    """What ``path`` is.  A plain capture file is a set of one log; a directory or tar archive
    must be a kdump crash directory or a sosreport, else InputError (one line, naming it)."""
    name = display_name(path)
    if not os.path.exists(path):
        raise InputError(f"{name}: no such file or directory")
    if os.path.isfile(path) and not _is_archive(path):
        return CaptureSet("plain file", path, None, (Input.from_arg(path),), ())
    tree = _Tree(path)
    for attempt in (_sosreport, _fedora, _debian):
        found = attempt(tree)
        if found is not None:
            return found
    inner = _crash_subdirs(path) if not tree.archive else []
    if inner:
        shown = ", ".join(inner[:3]) + (", ..." if len(inner) > 3 else "")
        raise InputError(f"{name}: holds {len(inner)} crash directories ({shown}): give one of them")
    what = "archive" if tree.archive else "directory"
    raise InputError(f"{name}: {what} is neither a kdump crash directory (vmcore, vmcore-dmesg.txt, "
                     f"dump.*, dmesg.*) nor a sosreport (sos_commands/)")


def _is_archive(path: str) -> bool:
    if _TAR_SUFFIX.search(path):
        return True
    try:
        return tarfile.is_tarfile(path)
    except OSError:
        return False


def _fedora(tree: _Tree) -> CaptureSet | None:
    files = set(tree.files())
    if not files & set(_FEDORA_LOGS + _FEDORA_DUMPS):
        return None
    logs = [n for n in _FEDORA_LOGS if n in files]
    if "vmcore-dmesg.txt" in logs and "vmcore-dmesg-incomplete.txt" in logs:
        logs.remove("vmcore-dmesg-incomplete.txt")  # a later run finished it
    dumps = [tree.dump(n, complete=n != "vmcore-incomplete") for n in _FEDORA_DUMPS if n in files]
    notes = []
    if "vmcore-incomplete" in files:
        notes.append("vmcore-incomplete: the core collector did not finish writing the dump")
    if "vmcore-dmesg-incomplete.txt" in logs:
        notes.append("vmcore-dmesg-incomplete.txt: vmcore-dmesg did not finish reading the crashed kernel's log")
    match = _FEDORA_DIR.match(tree.top_name)
    return CaptureSet("kdump-fedora", tree.root, match["host"] if match else None,
                      tuple(tree.input(n) for n in logs), tuple(dumps), tuple(notes))


def _debian(tree: _Tree) -> CaptureSet | None:
    files = tree.files()
    dmesg = sorted((m[1], n) for n in files if (m := _DEBIAN_DMESG.match(n)))
    dumps = sorted((m[1], n) for n in files if (m := _DEBIAN_DUMP.match(n)))
    partial = [n for n in files if _DEBIAN_PARTIAL.match(n)]
    if not (dmesg or dumps or partial):
        return None
    found = [tree.dump(n) for _, n in dumps] + [tree.dump(n, complete=False) for n in partial]
    notes = [f"{n}: kdump-tools did not finish writing the dump" for n in partial]
    match = _DEBIAN_DIR.match(tree.top_name)
    return CaptureSet("kdump-debian", tree.root, match["host"] if match else None,
                      tuple(tree.input(n) for _, n in dmesg), tuple(found), tuple(notes))


def _sosreport(tree: _Tree) -> CaptureSet | None:
    if not tree.has_dir("sos_commands"):
        return None
    logs = _rotated(tree, "var/log", "messages") or _rotated(tree, "var/log", "kern.log") \
        or _rotated(tree, "var/log", "syslog")
    logs += _journals(tree)
    kernel = tree.files("sos_commands/kernel")
    # the ring buffer at collection time: the boot after the crash, so it is read last
    dmesg = next((n for n in ("dmesg", "dmesg_-T") if n in kernel), None)
    if dmesg:
        logs.append(f"sos_commands/kernel/{dmesg}")
    elif "dmesg" in tree.files("var/log"):
        logs.append("var/log/dmesg")
    host = tree.first_line("hostname")
    if host is None:
        match = _SOS_NAME.match(tree.top_name)
        host = match["host"] if match else None
    notes = () if logs else ("the sosreport holds no kernel log (no dmesg, messages or journal output)",)
    return CaptureSet("sosreport", tree.root, host, tuple(tree.input(n) for n in logs), (), notes)


def _rotated(tree: _Tree, folder: str, base: str) -> list[str]:
    """A log and its rotations, oldest first: ``messages-20261129`` (dateext) and ``messages.2``
    before ``messages.1`` before ``messages``."""
    keyed = []
    for name in tree.files(folder):
        match = _ROTATED.match(name)
        if not match or match["base"] != base:
            continue
        tag = match["tag"]
        if tag is None:
            key: tuple = (2, 0, "")
        elif tag.isdigit() and len(tag) < 4:  # logrotate's numbered copies: higher is older
            key = (1, -int(tag), "")
        else:  # dateext: a date sorts by itself
            key = (0, 0, tag)
        keyed.append((key, f"{folder}/{name}"))
    return [path for _, path in sorted(keyed)]


def _journals(tree: _Tree) -> list[str]:
    """The full journal when sos took it, else the last boot's before this boot's (never both: the
    full journal holds them)."""
    names = [n for n in tree.files("sos_commands/logs") if n.startswith(_JOURNAL)]
    plain = {re.sub(r"_+", "_", n[len(_JOURNAL):]).strip("_"): n for n in names}
    if "" in plain:
        return [f"sos_commands/logs/{plain['']}"]
    return [f"sos_commands/logs/{plain[key]}" for key in ("--boot_-1", "--boot") if key in plain]


def _crash_subdirs(path: str) -> list[str]:
    """Subdirectories that are crash directories: the user gave /var/crash instead of one of them."""
    try:
        names = sorted(os.listdir(path))
    except OSError:
        return []
    out = []
    for sub in names:
        full = os.path.join(path, sub)
        if os.path.isdir(full) and (_FEDORA_DIR.match(sub) or _DEBIAN_DIR.match(sub)):
            tree = _Tree(full)
            if _fedora(tree) or _debian(tree):
                out.append(sub)
    return out
