"""The bounded summary the main job matches on gives the findings and evidence of the in-memory engine.

triage.analyze() matches rules on a summary built while ingestion streams
(triage/engine/summary.py); ``all_events=True`` keeps every event, as the engine always did.
Both must say the same on every rule fixture, the founding thread, the QEMU sample and the real
corpora (tests/corpus/real in the tree; /work/shared/corpus/real-dev and syzkaller where this
machine has them), and on a storm long enough to overflow the summary's buckets.
"""
from __future__ import annotations

import json
from pathlib import Path

import pytest

import triage
from triage.engine.summary import HEAD, TAIL, Summary
from triage.model import Event

ROOT = Path(__file__).resolve().parent.parent
SHARED = Path("/work/shared/corpus")
RULES = triage.load_rules([])


def _inputs() -> list[Path]:
    found = sorted((ROOT / "rules" / "fixtures").rglob("*.log"))
    found += sorted((ROOT / "samples").glob("*.txt")) + sorted((ROOT / "samples").glob("*.log"))
    found += sorted((ROOT / "tests" / "corpus" / "real").glob("*.log"))
    return found


def _shared() -> list[Path]:
    return sorted(p for sub in ("real-dev", "syzkaller") for p in (SHARED / sub).glob("*") if p.is_file()
                  and p.suffix not in (".yaml", ".md", ".json"))


def _said(report: triage.Report) -> str:
    """Everything the report says, except the kept events themselves."""
    data = report.to_dict()
    return json.dumps({"findings": data["findings"], "root_cause": data["root_cause"], "quality": data["quality"],
                       "sources": data["sources"]}, sort_keys=True, default=str)


def _same(path: Path) -> None:
    try:
        full = triage.analyze([str(path)], rules=RULES, all_events=True)
    except triage.TriageError:
        with pytest.raises(triage.TriageError):
            triage.analyze([str(path)], rules=RULES)
        return
    summary = triage.analyze([str(path)], rules=RULES)
    assert _said(summary) == _said(full), path.name


@pytest.mark.parametrize("path", _inputs(), ids=lambda p: str(p.relative_to(ROOT)))
def test_summary_matches_in_memory_engine(path: Path) -> None:
    _same(path)


def test_summary_matches_on_shared_corpora() -> None:
    paths = _shared()
    if not paths:
        pytest.skip(f"{SHARED} is not on this machine")
    for path in paths:
        _same(path)


def test_fixtures_keep_far_fewer_events_than_they_read() -> None:
    """The founding thread: the summary keeps what rules use, not the whole capture."""
    path = ROOT / "samples" / "lkml-2024-09-09-snp-kdump-thread.txt"
    report = triage.analyze([str(path)], rules=RULES)
    capture = report.captures[0]
    assert capture.summarised > 0
    assert len(capture.events) < capture.event_total


STORM_LINE = ("[ {t:10.6f}] {dev}: AMD-Vi: Event logged [IO_PAGE_FAULT domain=0x0000 "
              "address=0x{a:x} flags=0x0010]\n")
DEVICES = ("nvme 0000:21:00.0", "nvme 0000:21:00.0", "ahci 0000:63:00.0")


def test_storm_overflowing_a_bucket_keeps_exact_counts(tmp_path: Path) -> None:
    """A storm of two devices, each longer than HEAD + TAIL: same findings, counts and per-device
    evidence groups, a bounded number of events kept."""
    n = 3 * (HEAD + TAIL) + 3000
    path = tmp_path / "storm.log"
    with path.open("w") as out:
        out.write("[    0.000000] Linux version 6.8.0-45-generic (buildd@lcy02) #42 SMP\n")
        out.write("[    0.000000] Command line: BOOT_IMAGE=/boot/vmlinuz-6.8.0-45-generic ro amd_iommu=on\n")
        for i in range(n):
            out.write(STORM_LINE.format(t=100 + i * 0.001, dev=DEVICES[i % 3], a=0x6548dd584000 + 64 * i))
    full = triage.analyze([str(path)], rules=RULES, all_events=True)
    summary = triage.analyze([str(path)], rules=RULES)
    assert _said(summary) == _said(full)
    [finding] = summary.findings
    assert finding.rule_id == "GENERIC-IOMMU-FAULTS"
    assert finding.evidence[0].count == n
    assert sorted(g.count for g in finding.evidence[0].groups) == [n // 3, n - n // 3]
    assert len(summary.captures[0].events) <= 2 * (HEAD + TAIL) + 2


def test_events_no_rule_uses_are_counted_not_kept() -> None:
    summary = Summary(RULES)
    plain = Event("kernel_message", "x", 0, 1, 1, ["[    1.000000] hello"], 1.0, None, None, None, None, {}, "hello")
    summary.add(plain)
    kept, weights = summary.finish()
    assert kept == [] and weights == {} and summary.dropped == 1
