"""What a fleet scan finds under its PATHs: captures, capture sets and archives, each a Unit.

Runs in the coordinator, before any diagnosis: directories are walked (sorted, links to directories
not followed), globs expanded, tar archives handed to workers whole (their members are listed and read
there), crash directories and sosreports recognised as one capture set each, and every other file
taken as a capture, hashed here so that a re-scan passes over what the store already has.
"""
from __future__ import annotations

import glob
import os
from collections.abc import Iterator
from dataclasses import dataclass, field

from ..errors import InputError, UsageError
from ..ingest.layouts import recognise
from .host import host_from_path
from .names import (DEBIAN_DMESG, DEFAULT_EXCLUDES, FEDORA_DMESG, FEDORA_KDUMP_LOG, LAYOUT_HOST_FROM,
                    is_tar_name, skipped_by_name)
from .units import Part, Unit, file_chunks, hash_parts

__all__ = ["Discovery", "discover", "expand"]

_GLOB_CHARS = set("*?[")


@dataclass
class Discovery:
    """Counts of what a walk passed over, filled in as it goes."""

    skipped_by_name: int = 0
    unreadable: list[str] = field(default_factory=list)


def expand(paths: list[str]) -> list[tuple[str, str | None]]:
    """Each PATH (or every match of a glob) with the root a host may be read below; a PATH that names
    nothing is a usage error, said before anything is scanned."""
    out: list[tuple[str, str | None]] = []
    for arg in paths:
        if os.path.lexists(arg):
            out.append((arg, arg if os.path.isdir(arg) else None))
            continue
        if _GLOB_CHARS & set(arg):
            matches = sorted(glob.glob(arg, recursive=True))
            if not matches:
                raise UsageError(f"snp-triage fleet scan: {arg}: no file matches")
            root = _glob_root(arg)
            out.extend((m, root) for m in matches)
            continue
        raise UsageError(f"snp-triage fleet scan: {arg}: no such file or directory")
    return out


def _glob_root(pattern: str) -> str | None:
    """The directory part of a glob before its first wildcard (hosts are read below it)."""
    head = []
    for part in pattern.split(os.sep):
        if _GLOB_CHARS & set(part):
            break
        head.append(part)
    root = os.sep.join(head)
    return root if root and os.path.isdir(root) else None


def discover(paths: list[str], found: Discovery, excludes: tuple[str, ...] = DEFAULT_EXCLUDES,
             hash_captures: bool = True) -> Iterator[Unit]:
    """Every unit under the PATHs, each file once (a file reached twice, by two PATHs or a link, is one)."""
    seen: set[tuple[int, int]] = set()
    for path, root in expand(paths):
        if os.path.isdir(path):
            yield from _walk(path, root, found, excludes, seen, hash_captures)
        else:
            unit = _file_unit(path, root, found, seen, hash_captures, explicit=True, excludes=excludes)
            if unit is not None:
                yield unit


def _walk(top: str, root: str | None, found: Discovery, excludes: tuple[str, ...], seen: set,
          hash_captures: bool) -> Iterator[Unit]:
    for directory, dirnames, filenames in os.walk(top, onerror=lambda e: found.unreadable.append(
            f"{e.filename}: {e.strerror}")):
        dirnames.sort()
        capture_set = _capture_set(directory, filenames, dirnames)
        if capture_set is not None:
            # a crash directory or a sosreport is one capture set: nothing else in it is a capture
            dirnames[:] = []
            unit = _set_unit(directory, capture_set, root, found, seen, hash_captures)
            if unit is not None:
                yield unit
            continue
        for name in sorted(filenames):
            unit = _file_unit(os.path.join(directory, name), root, found, seen, hash_captures, excludes=excludes)
            if unit is not None:
                yield unit


#: names that make a directory worth asking triage.ingest.layouts about
_LAYOUT_NAMES = {FEDORA_DMESG, FEDORA_KDUMP_LOG, "vmcore-dmesg-incomplete.txt", "vmcore", "vmcore.flat",
                 "vmcore-incomplete"}


def _capture_set(directory: str, filenames: list[str], dirnames: list[str]):
    """The layout a directory has (triage.ingest.layouts), or None for a plain directory."""
    if not (_LAYOUT_NAMES & set(filenames) or "sos_commands" in dirnames
            or any(DEBIAN_DMESG.match(n) or n.startswith(("dump.", "dump-incomplete")) for n in filenames)):
        return None
    try:
        found = recognise(directory)
    except InputError:
        return None
    return found if found.kind != "plain file" else None


def _identity(path: str, seen: set) -> bool:
    """False when this file was met already in this walk."""
    try:
        st = os.stat(path)
    except OSError:
        return True
    key = (st.st_dev, st.st_ino)
    if key in seen:
        return False
    seen.add(key)
    return True


def _file_unit(path: str, root: str | None, found: Discovery, seen: set, hash_captures: bool,
               explicit: bool = False, excludes: tuple[str, ...] = DEFAULT_EXCLUDES) -> Unit | None:
    name = os.path.basename(path)
    if not os.path.isfile(path) or not _identity(path, seen):
        return None
    if not explicit and skipped_by_name(name, excludes):
        found.skipped_by_name += 1
        return None
    host, host_from = host_from_path(path, root)
    try:
        seen_at = os.path.getmtime(path)
        kind = "archive" if is_tar_name(name) else "capture"
        content = _hash([path]) if hash_captures or kind == "archive" else None
    except OSError as exc:
        content, seen_at, kind = None, None, "capture"
        found.unreadable.append(f"{path}: {exc.strerror or exc}")
    return Unit(kind, path, (Part(path),), host=host, host_from=host_from, seen_at=seen_at, content_hash=content)


def _set_unit(directory: str, capture_set, root: str | None, found: Discovery, seen: set,
              hash_captures: bool) -> Unit | None:
    paths = [item.path for item in capture_set.logs if item.path]
    paths = [p for p in paths if _identity(p, seen)]
    host, host_from = capture_set.host, LAYOUT_HOST_FROM.get(capture_set.kind)
    if host is None:
        host, host_from = host_from_path(directory, root)
    origin = directory.rstrip(os.sep) + os.sep
    try:
        seen_at = max(os.path.getmtime(p) for p in paths) if paths else os.path.getmtime(directory)
        content = _hash(paths) if hash_captures and paths else None
    except OSError as exc:
        content, seen_at = None, None
        found.unreadable.append(f"{directory}: {exc.strerror or exc}")
    if not paths:  # a dump without its log, an empty sosreport: accounted for, as a failure with its reason
        content = hash_parts([(0, [("no-log:" + origin).encode("utf-8", "surrogateescape")])])
    return Unit("capture", origin, tuple(Part(p) for p in paths), host=host, host_from=host_from,
                seen_at=seen_at, content_hash=content, layout=capture_set.kind,
                note="; ".join(capture_set.notes) or None)


def _hash(paths: list[str]) -> str:
    return hash_parts((os.path.getsize(p), file_chunks(p)) for p in paths)
