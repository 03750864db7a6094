"""The work of a fleet scan as plain data: what a worker is handed (a Unit) and what it hands back (an Outcome).

Both cross process and machine boundaries (a process pool pickles them, Dask ships them to other
hosts), so they hold paths, names and numbers only, never open files or parsed objects.
"""
from __future__ import annotations

import hashlib
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any, Literal

__all__ = ["Part", "Unit", "Outcome", "Settings", "hash_parts", "file_chunks", "UNIT_KINDS", "STATUSES"]

#: a capture: files (or archive members) diagnosed together; an archive: a tar whose members a
#: worker finds and diagnoses without extracting them to disk
UnitKind = Literal["capture", "archive"]
UNIT_KINDS = ("capture", "archive")
#: where each capture found ends: pending while a scan that found it has not finished it
Status = Literal["pending", "done", "failed"]
STATUSES = ("pending", "done", "failed")


@dataclass(frozen=True)
class Part:
    """One file of a capture: a path, or a member of the tar archive at that path."""

    path: str
    member: str | None = None

    @property
    def name(self) -> str:
        return f"{self.path}!{self.member}" if self.member else self.path


@dataclass(frozen=True)
class Settings:
    """What every worker needs to diagnose like the main job: the rule packs."""

    rule_dirs: tuple[str, ...] = ()
    pack_hash: str = ""  # of the rule packs, grammars and tool version the stored results were made with
    fp_version: int = 0


@dataclass(frozen=True)
class Unit:
    """One piece of work: a capture (its parts) or an archive (its members are found by the worker)."""

    kind: UnitKind
    origin: str  # what the report shows: a path, "archive.tar!member", a crash directory
    parts: tuple[Part, ...]
    host: str | None = None  # from the layout or the path; the capture's own text may name it better
    host_from: str | None = None  # path | crash directory | sosreport | syslog | journal
    seen_at: float | None = None  # when the capture was written (mtime), seconds since the epoch
    content_hash: str | None = None  # computed by the coordinator for captures on disk
    skip: frozenset[str] = frozenset()  # archive members' content hashes already stored (not re-diagnosed)
    layout: str | None = None  # the crash-directory or sosreport layout that grouped the parts
    note: str | None = None  # what the layout says (an unfinished dump); a set without a log fails with it


@dataclass
class Outcome:
    """A capture's result: done (with its record) or failed (with a one-line reason)."""

    content_hash: str
    origin: str
    status: Status
    reason: str | None = None
    host: str | None = None
    host_from: str | None = None
    seen_at: float | None = None
    record: dict[str, Any] = field(default_factory=dict)  # the columns and detail the store keeps
    layout: str | None = None
    unit_origin: str | None = None  # the unit it came from (an archive's members share one)
    skipped: bool = False  # an archive member already stored: not re-diagnosed, nothing to write


def hash_parts(parts: Iterable[tuple[int, Iterable[bytes]]]) -> str:
    """The content hash of a capture: each part's size, then its bytes (streamed), in order."""
    h = hashlib.blake2b(digest_size=32)
    for size, chunks in parts:
        h.update(size.to_bytes(8, "little"))
        for chunk in chunks:
            h.update(chunk)
    return h.hexdigest()


def file_chunks(path: str, block: int = 1 << 20) -> Iterator[bytes]:
    """A file's bytes in blocks, opened read-only."""
    with open(path, "rb") as handle:
        while chunk := handle.read(block):
            yield chunk
