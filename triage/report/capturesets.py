"""Inputs that are crash directories or sosreports, turned into logs plus one dump for a single report.

``snp-triage DIR`` (and ``snp-triage vmcore DIR``) take what kdump or sos wrote as it is:
:func:`triage.ingest.layouts.recognise` says which files are logs and which are dumps; this module
puts the logs in front of the log pipeline, picks the dump for the vmcore stage, and turns what
the layout says (no dump, an unfinished one, more than one) into capture-quality notes, so the
report tells the reader what it was given and what it could not use.
"""
from __future__ import annotations

import contextlib
import os
import shutil
import tarfile
import tempfile
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field

from ..errors import InputError
from ..ingest import Input
from ..ingest.layouts import CaptureSet, DumpFile, is_archive, recognise
from ..model import CaptureSetSummary, QualityNote

__all__ = ["Expanded", "expand", "is_capture_set", "local_dump"]

_COPY_BLOCK = 4 << 20


@dataclass
class Expanded:
    """The inputs of one run once crash directories and sosreports are opened up."""

    inputs: list[Input] = field(default_factory=list)
    sets: list[CaptureSet] = field(default_factory=list)
    dump: DumpFile | None = None  # the dump the vmcore stage reads, if any set had one
    notes: list[QualityNote] = field(default_factory=list)

    @property
    def debug_dirs(self) -> list[str]:
        """Crash directories searched for a vmlinux (people copy it beside the dump)."""
        return [s.root for s in self.sets if os.path.isdir(s.root) and s.kind != "sosreport"]

    def summaries(self, vmcore_given: bool) -> list[CaptureSetSummary]:
        read = self.dump.name if self.dump is not None and not vmcore_given else None
        return [CaptureSetSummary(s.kind, s.root, s.host, [i.name for i in s.logs], [d.name for d in s.dumps],
                                  read if self.dump in s.dumps else None)
                for s in self.sets if s.kind != "plain file"]


def is_capture_set(path: str) -> bool:
    """A directory or a tar archive: something recognise() must open up."""
    if path == "-":
        return False
    return os.path.isdir(path) or (os.path.isfile(path) and is_archive(path))


def expand(paths: Sequence[str], vmcore_given: bool = False) -> Expanded:
    """Plain files stay as they are; each directory or tar archive is recognised as a capture set.

    :param vmcore_given: a dump was named explicitly (--vmcore): the sets' dumps are not read
    :raises InputError: for a directory or archive that is neither a crash directory nor a sosreport
    """
    out = Expanded()
    for path in paths:
        if not is_capture_set(path):
            out.inputs.append(Input.from_arg(path))
            continue
        found = recognise(path)
        out.sets.append(found)
        out.inputs.extend(found.logs)
        out.notes.extend(_layout_notes(found, vmcore_given))
    dumps = [d for s in out.sets for d in s.dumps]
    if dumps and not vmcore_given:
        out.dump = next((d for d in dumps if d.complete), dumps[0])
        for other in dumps:
            if other != out.dump:
                out.notes.append(QualityNote(
                    "dump-not-read", "info", other.name, None,
                    f"{other.name} was not read: one dump per report ({out.dump.name} was).",
                    f"Run 'snp-triage vmcore {other.name}' for that one."))
    return out


def _layout_notes(found: CaptureSet, vmcore_given: bool) -> list[QualityNote]:
    notes = [QualityNote("capture-set", "warning", found.root, None, note + ".",
                         "Check the dump target's free space and the kdump kernel's log (kexec-dmesg.log, the "
                         "serial console) for why the kdump service stopped.") for note in found.notes]
    if found.kind in ("kdump-fedora", "kdump-debian") and not found.dumps and not vmcore_given:
        notes.append(QualityNote(
            "no-dump-in-crash-directory", "warning", found.root, None,
            "The crash directory holds no dump (no vmcore, dump.*): the crashed kernel's memory was not checked; "
            "its saved log was diagnosed.",
            "The kdump kernel saved the log but not the dump: its own log (kexec-dmesg.log, or the serial "
            "console of the kdump boot) says why the core collector failed."))
    if not found.logs:
        notes.append(QualityNote(
            "no-log-in-capture-set", "warning", found.root, None,
            f"No kernel log found in this {found.kind}.",
            "Add the serial console or BMC SOL log of the crash, or 'journalctl -k -b -1' from the host."))
    return notes


@contextlib.contextmanager
def local_dump(dump: DumpFile) -> Iterator[str]:
    """A path drgn can open: the dump itself, or a tar member copied to a temporary file (removed after).

    drgn reads dumps through a file descriptor with random access, which a compressed archive member
    cannot give; the copy is streamed, never held in memory.
    """
    if dump.member is None:
        yield dump.path
        return
    folder = tempfile.mkdtemp(prefix="snp-triage-dump-")
    target = os.path.join(folder, os.path.basename(dump.member))
    try:
        try:
            with tarfile.open(dump.path, "r:*") as tar:
                source = tar.extractfile(dump.member)
                if source is None:
                    raise InputError(f"{dump.name}: not a regular file in the archive")
                with source, open(target, "wb") as sink:
                    shutil.copyfileobj(source, sink, _COPY_BLOCK)
        except (tarfile.TarError, OSError, EOFError, KeyError) as exc:
            raise InputError(f"{dump.name}: cannot copy the dump out of the archive: {exc}") from None
        yield target
    finally:
        shutil.rmtree(folder, ignore_errors=True)
