"""The real-capture corpus as a test tier: the figures of bench/real_corpus.py held as a floor.

Raise a floor when the tool gets better; never lower one to make a change pass (fix the change, or
the label if it was wrong, saying why in the label's source_note).
"""
from __future__ import annotations

import pytest

from .realcorpus import CORPUS, NOT_SNP_PLATFORMS, captures, evaluate_all, silent, snp_on_other_platforms, summary

#: fact kind -> lowest share of label facts that must agree (figures of 2026-12-04)
FLOORS = {"all": 0.979, "message": 0.982, "not_rule": 0.998, "report": 0.905, "boots": 0.85, "rule": 0.965,
          "frames": 0.76}


@pytest.fixture(scope="module")
def results():
    if not captures():
        pytest.skip(f"no captures in {CORPUS}")
    return evaluate_all()


def test_corpus_is_labelled_and_sourced():
    pairs = captures()
    assert len(pairs) >= 150
    logs = {p.stem for p in CORPUS.glob("*.log")}
    assert logs == {log.stem for log, _ in pairs}, "every capture has a label and every label a capture"


@pytest.mark.parametrize("kind", sorted(FLOORS))
def test_agreement_floor(results, kind):
    agree, total = summary(results)[kind]
    misses = [f"{f.capture} [{f.kind}] {f.what} -- {f.detail}" for r in results for f in r.facts
              if f.kind == kind and not f.agrees]
    print(f"{kind}: {agree}/{total} = {agree / total:.1%}")
    assert agree / total >= FLOORS[kind], "\n".join(misses[:40])


def test_no_capture_with_a_report_or_known_message_is_silent(results):
    assert silent(results) == []


def test_no_capture_raises(results):
    assert [r.capture for r in results if r.error] == []


def test_no_snp_finding_on_other_platforms(results):
    """Intel, ARM, client-AMD and guest captures never get an SNP finding (issue 10's discrimination)."""
    assert len([r for r in results if r.platform in NOT_SNP_PLATFORMS]) >= 20
    assert snp_on_other_platforms(results) == []
