"""The real-capture corpus (tests/corpus/real/): labels read, every label fact checked against the tool.

Each ``NNN-name.log`` is a real capture from a public source, cut but never edited; ``NNN-name.yaml``
is what a careful reader takes from it (schema in tests/corpus/real/README.md).  :func:`evaluate`
runs the whole pipeline on one capture and compares, fact by fact:

``boots``     the number of boots
``report``    a kernel report of the labelled kind starts at the labelled line
``frames``    its first call-trace functions (reliable frames, in order) start with the labelled ones
``message``   the labelled text is on as many lines as the label says and, where it is in the tool's
              domain (AMD-Vi, IOMMU, SEV/SNP/PSP, DMAR/SMMU, panics: ``DOMAIN``), every such line
              is part of an event (not a plain line); with ``event: false`` (text quoted
              in prose or code) no such line is part of an event
``rule``      a rule the label expects fires; ``not_rule``: a rule it rules out does not

Used by tests/test_real_corpus.py (the tier, with thresholds) and bench/real_corpus.py (the report).
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

import yaml

import triage
from triage.model import REPORT_KINDS, Report

CORPUS = Path(__file__).resolve().parent / "corpus" / "real"

#: a labelled message line in the tool's domain must become an event; other labelled lines
#: (a driver's own complaint, quoted for context) must only be there, as many times as said
DOMAIN = re.compile(rb"AMD-Vi|amd_iommu|AMD IOMMU|IOMMU|iommu|SEV|SNP|RMP|PSP|psp|ccp |DMAR|smmu|TEE|tee |"
                    rb"Kernel panic|TIMER|crashkernel|Kdump")


@dataclass
class Fact:
    capture: str
    kind: str  # boots | report | frames | message | rule | not_rule
    what: str
    agrees: bool
    detail: str = ""


@dataclass
class Result:
    capture: str
    facts: list[Fact] = field(default_factory=list)
    events: int = 0
    holds_known_text: bool = False  # a kernel report or an AMD-Vi/SEV message is labelled
    error: str | None = None
    platform: str = "unknown"
    snp_related: bool | None = None
    fired: list[str] = field(default_factory=list)


def captures(directory: Path = CORPUS) -> list[tuple[Path, Path]]:
    """(log, label) pairs, in name order."""
    out = []
    for label in sorted(directory.glob("*.yaml")):
        log = label.with_suffix(".log")
        if log.exists():
            out.append((log, label))
    return out


def _frames(event) -> list[str]:
    return [f.function for f in event.fields.get("frames") or () if f.function and f.reliable]


def evaluate(log: Path, label_path: Path) -> Result:
    label = yaml.safe_load(label_path.read_text(encoding="utf-8")) or {}
    name = log.stem
    result = Result(name)
    try:
        report: Report = triage.analyze([str(log)], all_events=True)  # the label facts look at every event
    except triage.TriageError as exc:
        result.error = str(exc)
        report = None  # type: ignore[assignment]
    facts = result.facts
    reports_label = label.get("reports") or []
    messages_label = label.get("messages") or []
    # a kernel report, or an AMD-Vi/IOMMU/SEV... message (DOMAIN): the text that must never give zero events
    result.holds_known_text = bool(reports_label or [
        m for m in messages_label
        if m.get("event", True) is not False and DOMAIN.search(str(m.get("text", "")).encode("utf-8"))])
    if report is None:
        for item in reports_label:
            facts.append(Fact(name, "report", f"line {item.get('line')} {item.get('kind')}", False, result.error or ""))
        return result
    capture = report.captures[0]
    events = capture.events
    result.platform = str(label.get("platform") or "unknown")
    result.snp_related = (label.get("expected") or {}).get("snp_related")
    result.fired = sorted({f.rule_id for f in report.findings})
    result.events = len(events)
    if label.get("boots") is not None:
        want = int(label["boots"])
        facts.append(Fact(name, "boots", f"{want} boot(s)", len(capture.boots) == want,
                          f"found {len(capture.boots)}"))
    kernel_reports = [e for e in events if e.kind in REPORT_KINDS]
    for item in reports_label:
        line, kind = item.get("line"), item.get("kind")
        found = [e for e in kernel_reports if e.line == line]
        same_kind = [e for e in found if e.kind == kind]
        what = f"line {line} {kind}: {str(item.get('header', ''))[:60]}"
        detail = (f"found {', '.join(f'{e.kind}@{e.line}' for e in found)}" if found else
                  "nearest: " + ", ".join(f"{e.kind}@{e.line}" for e in sorted(
                      kernel_reports, key=lambda e: abs(e.line - (line or 0)))[:2]) if kernel_reports else "no report")
        facts.append(Fact(name, "report", what, bool(same_kind), "" if same_kind else detail))
        want_frames = [f for f in item.get("frames") or [] if f]
        if want_frames:
            got = _frames(same_kind[0]) if same_kind else (_frames(found[0]) if found else [])
            ok = got[:len(want_frames)] == want_frames
            facts.append(Fact(name, "frames", f"line {line} frames {want_frames}", ok, "" if ok else f"got {got[:6]}"))
    covered: set[int] = set()
    for e in events:
        covered.update(range(e.line, e.end_line + 1))
    lines = log.read_bytes().replace(b"\r\n", b"\n").replace(b"\r", b"\n").split(b"\n")
    for item in messages_label:
        text = str(item.get("text", "")).encode("utf-8")
        holding = [i + 1 for i, raw in enumerate(lines) if text and text in raw]
        in_events = [n for n in holding if n in covered]
        want = item.get("count")
        if item.get("event", True) is False:  # quoted in prose or code: present, and never an event
            ok = bool(holding) and not in_events
            facts.append(Fact(name, "message", f"{item.get('text')!r} is not an event", ok,
                              "" if ok else f"{len(in_events)} line(s) became events"))
            continue
        needs_event = bool(DOMAIN.search(text))
        ok = (bool(holding) and (not needs_event or len(in_events) == len(holding))
              and (want is None or len(holding) == want))
        facts.append(Fact(name, "message", f"{item.get('text')!r} x{want}", ok,
                          "" if ok else f"{len(in_events)}/{len(holding)} lines in events (label says {want})"))
    expected = label.get("expected") or {}
    fired = {f.rule_id for f in report.findings}
    for rule in expected.get("rules") or []:
        facts.append(Fact(name, "rule", rule, rule in fired, "" if rule in fired else f"fired: {sorted(fired)}"))
    for rule in expected.get("not_rules") or []:
        facts.append(Fact(name, "not_rule", rule, rule not in fired, "" if rule not in fired else "fired"))
    return result


def evaluate_all(directory: Path = CORPUS) -> list[Result]:
    return [evaluate(log, label) for log, label in captures(directory)]


def summary(results: list[Result]) -> dict[str, tuple[int, int]]:
    """fact kind -> (agreeing, total), plus 'all'."""
    out: dict[str, list[int]] = {}
    for result in results:
        for fact in result.facts:
            for key in (fact.kind, "all"):
                counts = out.setdefault(key, [0, 0])
                counts[0] += fact.agrees
                counts[1] += 1
    return {k: (v[0], v[1]) for k, v in out.items()}


def silent(results: list[Result]) -> list[str]:
    """Captures that hold a labelled report or message and yet gave no event at all."""
    return [r.capture for r in results if r.holds_known_text and r.events == 0]


#: platforms where an SNP finding is always wrong: SEV-SNP is an AMD EPYC feature
NOT_SNP_PLATFORMS = ("intel", "arm", "amd-client", "qemu-guest")


def snp_on_other_platforms(results: list[Result]) -> list[tuple[str, str]]:
    """(capture, rule) of every SNP finding on a capture from an Intel, ARM, client-AMD or guest platform,
    or from a capture whose label says the failure is not SNP-related and shows a GPU's own PSP."""
    out = []
    for r in results:
        if r.platform in NOT_SNP_PLATFORMS:
            out.extend((r.capture, rule) for rule in r.fired if rule.startswith("SNP-"))
    return out
