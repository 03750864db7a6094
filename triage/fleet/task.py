"""The worker's task: one Unit in, its Outcomes out; the same code runs in a process pool and on Dask.

A worker diagnoses every capture with :func:`triage.report.analyze.analyze_inputs`, the main job's own
pipeline and rule packs (loaded once per process), fingerprints it and returns a record for the store.
It never writes anywhere: the coordinator is the only writer.  Whatever goes wrong with one capture
becomes that capture's ``failed`` outcome with a one-line reason; nothing escapes as an exception.
"""
from __future__ import annotations

import os
import tarfile
import tempfile
from typing import Any

from ..errors import TriageError
from ..ingest import Input
from ..model import Report
from ..report.analyze import analyze_inputs
from ..rulepack import load_rules
from ..ingest.layouts import recognise
from .archive import MemberGroup, iter_member_captures
from .names import LAYOUT_HOST_FROM
from .fingerprint import fingerprint
from .host import HEAD_BYTES, host_from_text
from .units import Outcome, Part, Settings, Unit, file_chunks, hash_parts

__all__ = ["run_unit", "record_of", "EVIDENCE_EVENTS", "EVIDENCE_LINES"]

#: evidence kept per capture for the drill-down: events of the root cause, lines of each
EVIDENCE_EVENTS = 3
EVIDENCE_LINES = 4
_rules_cache: dict[tuple[str, ...], list[Any]] = {}


def _rules(settings: Settings) -> list[Any]:
    rules = _rules_cache.get(settings.rule_dirs)
    if rules is None:
        rules = _rules_cache[settings.rule_dirs] = load_rules(list(settings.rule_dirs))
    return rules


def run_unit(unit: Unit, settings: Settings) -> list[Outcome]:
    """Diagnose one unit; every capture it holds gets exactly one outcome."""
    if unit.kind == "archive":
        return _run_archive(unit, settings)
    content_hash = unit.content_hash
    if not unit.parts:
        what = {"sosreport": "the sosreport holds no kernel log"}.get(unit.layout or "", "the crash directory holds no console log")
        return [_failed(unit, content_hash or _origin_hash(unit), f"{what}{'; ' + unit.note if unit.note else ''}")]
    try:
        if content_hash is None:
            content_hash = hash_parts((os.path.getsize(p.path), file_chunks(p.path)) for p in unit.parts)
        inputs = [Input(_part_name(unit, p), p.path) for p in unit.parts]
        with open(unit.parts[0].path, "rb") as handle:
            head = handle.read(HEAD_BYTES)
    except OSError as exc:
        return [_failed(unit, content_hash or _origin_hash(unit), f"cannot read: {exc.strerror or exc}")]
    return [_diagnosed(unit, content_hash, inputs, head, settings)]


def _part_name(unit: Unit, part: Part) -> str:
    return part.name if len(unit.parts) > 1 or part.member else unit.origin


def _origin_hash(unit: Unit) -> str:
    """A capture that could not even be read is keyed by where it was (it is still accounted for)."""
    return hash_parts([(0, [("unreadable:" + unit.origin).encode("utf-8", "surrogateescape")])])


def _failed(unit: Unit, content_hash: str, reason: str, origin: str | None = None) -> Outcome:
    return Outcome(content_hash=content_hash, origin=origin or unit.origin, status="failed",
                   reason=_one_line(reason), host=unit.host, host_from=unit.host_from, seen_at=unit.seen_at,
                   layout=unit.layout, unit_origin=unit.origin)


def _one_line(text: str) -> str:
    line = " ".join(str(text).split())
    return line if len(line) <= 300 else line[:297] + "..."


def _diagnosed(unit: Unit, content_hash: str, inputs: list[Input], head: bytes, settings: Settings,
               origin: str | None = None, seen_at: float | None = None) -> Outcome:
    origin = origin or unit.origin
    try:
        report = analyze_inputs(inputs, _rules(settings))
    except TriageError as exc:
        return _failed(unit, content_hash, str(exc), origin)
    except MemoryError:
        return _failed(unit, content_hash, "out of memory while diagnosing it", origin)
    except Exception as exc:  # a bug must not lose the capture: it is recorded with its reason
        return _failed(unit, content_hash, f"internal error: {type(exc).__name__}: {exc}", origin)
    if report.empty:
        return _failed(unit, content_hash, "empty capture (no line to diagnose)", origin)
    host, host_from = unit.host, unit.host_from
    if host_from in (None, "path"):
        text_host, text_from = host_from_text(head)
        if text_host:
            host, host_from = text_host, text_from
    return Outcome(content_hash=content_hash, origin=origin, status="done", host=host, host_from=host_from,
                   seen_at=seen_at if seen_at is not None else unit.seen_at, record=record_of(report),
                   layout=unit.layout, unit_origin=unit.origin)


def record_of(report: Report) -> dict[str, Any]:
    """What the store keeps of one diagnosis: the bucketing columns and a compact detail."""
    fp = fingerprint(report)
    root = report.root_cause
    primary = fp.primary
    release = root.release if root is not None and root.release else None
    if release is None and primary is not None:
        release = primary.facets.get("release")
    if release is None:
        release = next((b.release for c in report.captures for b in c.boots if b.release), None)
    detail = {
        "fingerprint": fp.to_dict(),
        "root": _root_detail(root) if root is not None else None,
        "findings": [{"rule_id": f.rule_id, "severity": f.severity, "confidence": f.confidence,
                      "boot_role": f.boot_role, "fix": f.fix.status if f.fix else None}
                     for f in report.ranked_findings()],
        "quality": sorted({q.code for q in report.quality}),
        "input_error": "; ".join(report.input_errors) or None,
        "lines": sum(c.total_lines for c in report.captures),
    }
    return {
        "bucket": fp.bucket, "bucket_title": fp.bucket_title, "bucket_basis": fp.bucket_basis,
        "fp_version": fp.version, "diagnosis": fp.diagnosis.key if fp.diagnosis else None,
        "rule_id": root.rule_id if root else None, "boot_role": root.boot_role if root else None,
        "confidence": root.confidence if root else None, "severity": root.severity if root else None,
        "release": release, "fix_status": root.fix.status if root is not None and root.fix else None,
        "finding_count": len(report.findings), "report_count": len(fp.signatures),
        "crash_title": primary.title if primary else None, "detail": detail,
    }


def _root_detail(root) -> dict[str, Any]:
    evidence = []
    for ev in root.evidence:
        if ev.role != "required":
            continue
        lines = [line for event in ev.events[:EVIDENCE_EVENTS] for line in event.text[:EVIDENCE_LINES]]
        evidence.append({"label": ev.label, "summary": ev.summary, "first_line": ev.first_line,
                         "last_line": ev.last_line, "lines": lines})
    return {"rule_id": root.rule_id, "title": root.title, "severity": root.severity, "summary": root.summary,
            "source": root.source, "boot": root.boot, "fix": root.fix.to_dict() if root.fix else None,
            "evidence": evidence}


#: a member larger than this is spooled to a temporary file instead of held in memory
MEMBER_IN_MEMORY = 256 << 20


def _run_archive(unit: Unit, settings: Settings) -> list[Outcome]:
    path = unit.parts[0].path
    outcomes: list[Outcome] = []
    try:
        capture_set = _capture_set(path)
        with tarfile.open(path, mode="r:*") as tar:
            if capture_set is not None:  # a sosreport or a packed crash directory: one capture set
                return [_run_members(tar, unit, _set_group(tar, unit, capture_set), settings)]
            for group in iter_member_captures(tar, unit):
                outcomes.append(_run_members(tar, unit, group, settings))
    except (tarfile.TarError, OSError, EOFError) as exc:  # a damaged archive: what was read is kept
        reason = f"cannot read the archive: {exc}"
        if not outcomes:
            return [_failed(unit, _origin_hash(unit), reason)]
        outcomes.append(_failed(unit, _origin_hash(unit), reason + f" (after {len(outcomes)} captures)",
                                origin=unit.origin + "!<rest>"))
    return outcomes


def _capture_set(path: str):
    """What triage.ingest.layouts makes of an archive: a sosreport or crash directory, else None."""
    try:
        found = recognise(path)
    except TriageError:
        return None
    return found if found.kind != "plain file" else None


def _set_group(tar: tarfile.TarFile, unit: Unit, capture_set) -> MemberGroup:
    members = [tar.getmember(item.member) for item in capture_set.logs if item.member]
    mtime = max((float(m.mtime) for m in members), default=unit.seen_at)
    return MemberGroup("", members, capture_set.host, LAYOUT_HOST_FROM.get(capture_set.kind) if capture_set.host
                       else None, mtime, capture_set.kind)


def _run_members(tar: tarfile.TarFile, unit: Unit, group, settings: Settings) -> Outcome:
    """One capture made of archive members: read in memory (spooled to temporary files when huge),
    hashed, diagnosed; nothing is written next to the archive."""
    origin = f"{unit.origin}!{group.name}" if group.name else unit.origin  # a set is the archive itself
    spooled: list[str] = []
    if not group.members:
        return _failed(unit, _origin_hash(unit), f"{group.layout or 'the archive'} holds no console log",
                       origin=origin)
    try:
        if sum(m.size for m in group.members) <= MEMBER_IN_MEMORY:
            blobs = [_member_bytes(tar, m) for m in group.members]
            content_hash = hash_parts((len(b), [b]) for b in blobs)
            inputs = [Input.from_text(b, f"{unit.origin}!{m.name}") for m, b in zip(group.members, blobs)]
            head = blobs[0][:HEAD_BYTES] if blobs else b""
        else:
            for member in group.members:
                spooled.append(_spool(tar, member))
            content_hash = hash_parts((os.path.getsize(s), file_chunks(s)) for s in spooled)
            inputs = [Input(f"{unit.origin}!{m.name}", s) for m, s in zip(group.members, spooled)]
            with open(spooled[0], "rb") as handle:
                head = handle.read(HEAD_BYTES)
        if content_hash in unit.skip:
            return Outcome(content_hash=content_hash, origin=origin, status="done", skipped=True,
                           unit_origin=unit.origin)
        member_unit = Unit("capture", origin, (), host=group.host or unit.host,
                           host_from=group.host_from or unit.host_from, seen_at=group.mtime, layout=group.layout)
        outcome = _diagnosed(member_unit, content_hash, inputs, head, settings, origin=origin, seen_at=group.mtime)
        outcome.unit_origin = unit.origin
        return outcome
    finally:
        for name in spooled:
            os.unlink(name)


def _member_bytes(tar: tarfile.TarFile, member: tarfile.TarInfo) -> bytes:
    handle = tar.extractfile(member)
    return handle.read() if handle is not None else b""


def _spool(tar: tarfile.TarFile, member: tarfile.TarInfo) -> str:
    fd, name = tempfile.mkstemp(prefix="snp-triage-member-")
    with os.fdopen(fd, "wb") as out:
        handle = tar.extractfile(member)
        while handle is not None and (chunk := handle.read(1 << 20)):
            out.write(chunk)
    return name
