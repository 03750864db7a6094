"""``fleet scan``'s coordinator: find the captures, pass over what is stored, diagnose the rest on a pool
or a Dask cluster, write every outcome to the store.

The coordinator is the store's only writer.  Captures found on disk are recorded ``pending`` before
any is diagnosed; outcomes are written in batches of one transaction each; on Ctrl-C the outcomes
received are written and the scan is marked ``interrupted``.  What stays pending is diagnosed by the
next scan, which also re-diagnoses whatever an older rule pack or fingerprint version produced.
"""
from __future__ import annotations

import hashlib
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from .. import __version__
from ..paths import data_dir
from .discover import Discovery, discover
from .executors import default_jobs, run_dask, run_pool
from .fingerprint import FINGERPRINT_VERSION
from .names import DEFAULT_EXCLUDES
from .store import Store
from .units import Outcome, Settings, Unit

__all__ = ["ScanSummary", "scan", "pack_hash", "settings_for", "WRITE_BATCH"]

#: outcomes per store transaction (and at least one write per WRITE_EVERY seconds)
WRITE_BATCH = 256
WRITE_EVERY = 2.0


@dataclass
class ScanSummary:
    """What one scan did; every capture found is in exactly one of diagnosed, failed, skipped, duplicate."""

    found: int = 0
    diagnosed: int = 0
    failed: int = 0
    skipped: int = 0  # stored by this rule pack and fingerprint version already
    duplicate: int = 0  # the same content met twice in this scan
    skipped_by_name: int = 0
    archives: int = 0
    interrupted: bool = False
    seconds: float = 0.0
    failures: list[str] = field(default_factory=list)  # "origin: reason", the first few

    @property
    def rate(self) -> float:
        return self.diagnosed / self.seconds if self.seconds else 0.0

    def line(self) -> str:
        parts = [f"{self.found} captures found", f"{self.diagnosed} diagnosed", f"{self.failed} failed",
                 f"{self.skipped} already stored"]
        if self.duplicate:
            parts.append(f"{self.duplicate} duplicates")
        if self.skipped_by_name:
            parts.append(f"{self.skipped_by_name} files passed over by name")
        text = ", ".join(parts) + f" in {self.seconds:.1f} s"
        return text + (" (interrupted: the next scan resumes)" if self.interrupted else "")

    def counts(self) -> dict[str, int]:
        return {"found": self.found, "diagnosed": self.diagnosed, "failed": self.failed, "skipped": self.skipped}


def pack_hash(rule_dirs: Sequence[str] = ()) -> str:
    """What the stored diagnoses depend on: the rule packs, the grammars and the tool's version."""
    h = hashlib.blake2b(digest_size=16)
    h.update(__version__.encode())
    folders = [data_dir("grammars"), data_dir("rules")] + [Path(d) for d in rule_dirs]
    for folder in folders:
        for path in sorted(p for p in Path(folder).glob("*") if p.suffix in (".lark", ".yaml", ".yml")):
            h.update(path.name.encode())
            h.update(path.read_bytes())
    return h.hexdigest()


def settings_for(rule_dirs: Sequence[str] = ()) -> Settings:
    return Settings(rule_dirs=tuple(rule_dirs), pack_hash=pack_hash(rule_dirs), fp_version=FINGERPRINT_VERSION)


def scan(paths: Sequence[str], store: Store, *, rule_dirs: Sequence[str] = (), jobs: int | None = None,
         scheduler: str | object | None = None, excludes: tuple[str, ...] = DEFAULT_EXCLUDES,
         progress: Callable[[int, int], None] | None = None) -> ScanSummary:
    """Scan the PATHs into the store; ``progress(done, total)`` after each finished unit."""
    started = time.monotonic()
    settings = settings_for(rule_dirs)
    summary = ScanSummary()
    found = Discovery()
    units = list(discover(list(paths), found, excludes))
    summary.skipped_by_name = found.skipped_by_name
    known = store.current(settings.pack_hash, settings.fp_version)
    todo = _select(units, known, store, settings, summary)
    scan_id = store.begin_scan(settings.pack_hash, settings.fp_version, list(paths))
    store.mark_pending((u for u in todo if u.kind == "capture"), scan_id, settings.pack_hash, settings.fp_version)
    writer = _Writer(store, scan_id, settings, summary)
    status = "interrupted"
    try:
        jobs = jobs or default_jobs()
        results: Iterator[tuple[Unit, list[Outcome]]]
        if scheduler is not None:
            results = run_dask(todo, settings, scheduler, jobs)
        else:
            results = run_pool(todo, settings, jobs)
        done = 0
        for unit, outcomes in results:
            writer.add(unit, outcomes)
            done += 1
            if progress is not None:
                progress(done, len(todo))
        status = "done"
    finally:
        summary.interrupted = status != "done"
        writer.flush()
        summary.seconds = time.monotonic() - started
        store.finish_scan(scan_id, status, summary.counts())
    return summary


def _select(units: list[Unit], known: set[str], store: Store, settings: Settings, summary: ScanSummary) -> list[Unit]:
    """The units to diagnose: captures not stored by this pack and version, archives not scanned whole."""
    todo: list[Unit] = []
    this_scan: set[str] = set()
    member_skip: frozenset[str] | None = None
    for unit in units:
        if unit.kind == "archive":
            summary.archives += 1
            if unit.content_hash and store.archive_current(unit.content_hash, settings.pack_hash,
                                                           settings.fp_version, known):
                continue
            if member_skip is None:
                member_skip = frozenset(known)
            todo.append(Unit(**{**unit.__dict__, "skip": member_skip}))
            continue
        summary.found += 1
        if unit.content_hash in known:
            summary.skipped += 1
        elif unit.content_hash is not None and unit.content_hash in this_scan:
            summary.duplicate += 1
        else:
            if unit.content_hash is not None:
                this_scan.add(unit.content_hash)
            todo.append(unit)
    return todo


class _Writer:
    """Outcomes buffered and written in batches; archive members counted as they come."""

    def __init__(self, store: Store, scan_id: int, settings: Settings, summary: ScanSummary) -> None:
        self.store, self.scan_id, self.settings, self.summary = store, scan_id, settings, summary
        self.buffer: list[Outcome] = []
        self.archives: list[tuple[Unit, list[str]]] = []
        self.last = time.monotonic()
        self.seen: set[str] = set()

    def add(self, unit: Unit, outcomes: list[Outcome]) -> None:
        members = []
        for outcome in outcomes:
            if unit.kind == "archive":
                self.summary.found += 1
                members.append(outcome.content_hash)
                if outcome.skipped:
                    self.summary.skipped += 1
                    continue
                if outcome.content_hash in self.seen:
                    self.summary.duplicate += 1
                    continue
            self.seen.add(outcome.content_hash)
            if outcome.status == "failed":
                self.summary.failed += 1
                if len(self.summary.failures) < 20:
                    self.summary.failures.append(f"{outcome.origin}: {outcome.reason}")
            else:
                self.summary.diagnosed += 1
            self.buffer.append(outcome)
        if unit.kind == "archive" and unit.content_hash and not any(
                o.status == "failed" and o.origin.endswith("!<rest>") for o in outcomes):
            self.archives.append((unit, members))
        if len(self.buffer) >= WRITE_BATCH or time.monotonic() - self.last > WRITE_EVERY:
            self.flush()

    def flush(self) -> None:
        if self.buffer:
            self.store.write(self.buffer, self.scan_id, self.settings.pack_hash)
            self.buffer = []
        for unit, members in self.archives:
            self.store.write_archive(unit.content_hash or "", unit.origin, self.settings.pack_hash,
                                     self.settings.fp_version, members)
        self.archives = []
        self.last = time.monotonic()
