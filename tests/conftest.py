"""Shared test helpers: where the real captures live, and parsing text in memory."""
from __future__ import annotations

import os
from pathlib import Path

import pytest

from triage.ingest import read_capture
from triage.model import Capture
from triage.ingest import Input

ROOT = Path(__file__).resolve().parent.parent
SAMPLES = ROOT / "samples"
SHARED = Path(os.environ.get("SNP_TRIAGE_SHARED", ROOT.parent / "shared"))
FOUNDING = SAMPLES / "lkml-2024-09-09-snp-kdump-thread.txt"
QEMU_LOG = SAMPLES / "qemu-amd-iommu-kdump-6.1.log"


def parse_text(text: str | bytes, name: str = "<test>") -> Capture:
    """Run the whole ingestion pipeline on text held in memory."""
    return read_capture(Input.from_text(text, name))


def shared(*parts: str) -> Path:
    """A path under ../shared, skipping the test when it is not there."""
    path = SHARED.joinpath(*parts)
    if not path.exists():
        pytest.skip(f"{path} not present (the shared corpus lives beside the project)")
    return path


def report_events(text: str | bytes):
    """The kernel reports (any report kind) ingestion finds in a text."""
    from triage.model import REPORT_KINDS

    return [e for e in parse_text(text).events if e.kind in REPORT_KINDS]


def first_report(text: str | bytes):
    """The first report that is more than a bare call trace (fails the test when there is none)."""
    found = [e for e in report_events(text) if e.kind != "call_trace"]
    assert found, "no report"
    return found[0]


def frame_functions(event, reliable_only: bool = True) -> list:
    """A report's call-trace functions, reliable frames only unless asked."""
    return [f.function for f in event.get("frames") if f.reliable or not reliable_only]
