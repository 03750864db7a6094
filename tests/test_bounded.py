"""Long captures in bounded memory: boots past the latest few live on disk, the JSON report streams them,
tables show a bounded number of boots; the output is the same as when everything was in memory."""
from __future__ import annotations

import io
from pathlib import Path

import pytest

import triage
from triage.ingest import boots as boots_module
from triage.ingest import read_boots
from triage.report.jsonout import report_json, write_report_json
from triage.report.markdown import report_markdown
from triage.report.render import BOOT_ROWS_SHOWN, plain_text, report_renderable, shown_boots

ROOT = Path(__file__).resolve().parent.parent
SAMPLE = ROOT / "samples" / "qemu-amd-iommu-kdump-6.1.log"


def _many_boots(path: Path, count: int) -> Path:
    """The QEMU sample (a panic, then its kdump kernel) repeated: 2 * count boots."""
    text = SAMPLE.read_bytes()
    path.write_bytes(text * count)
    return path


def test_spilled_boots_read_back_as_kept_in_memory(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = _many_boots(tmp_path / "many.log", 12)
    whole = [b.to_dict() for b in read_boots(str(path)).boots]
    monkeypatch.setattr(boots_module, "BOOTS_IN_MEMORY", 2)
    capture = read_boots(str(path))
    assert capture.boots._first > 0  # most of them went to disk
    assert [b.to_dict() for b in capture.boots] == whole
    assert [capture.boots[i].to_dict() for i in (0, 5, -1)] == [whole[0], whole[5], whole[-1]]
    assert len(whole) == 24 and whole[1]["role"] == "kdump" and whole[0]["role"] == "first"


def test_diagnosis_with_spilled_boots_is_unchanged(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = _many_boots(tmp_path / "many.log", 12)
    before = report_json(triage.analyze([str(path)]))
    monkeypatch.setattr(boots_module, "BOOTS_IN_MEMORY", 2)
    report = triage.analyze([str(path)])
    assert report_json(report) == before
    out = io.StringIO()
    write_report_json(report, out)
    assert out.getvalue() == before + "\n"


@pytest.mark.parametrize("name", ["samples/lkml-2024-09-09-snp-kdump-thread.txt", "rules/fixtures/GENERIC-WARNING/positive.log"])
def test_streamed_json_report_is_the_document(name: str) -> None:
    report = triage.analyze([str(ROOT / name), str(SAMPLE)])
    out = io.StringIO()
    write_report_json(report, out)
    assert out.getvalue() == report_json(report) + "\n"


def test_tables_show_a_bounded_number_of_boots(tmp_path: Path) -> None:
    path = _many_boots(tmp_path / "many.log", BOOT_ROWS_SHOWN)  # 2 * BOOT_ROWS_SHOWN boots
    report = triage.analyze([str(path)])
    capture = report.captures[0]
    cited = {f.boot for f in report.findings}
    shown, hidden = shown_boots(capture, cited)
    assert len(shown) + hidden == 2 * BOOT_ROWS_SHOWN
    assert len(shown) <= BOOT_ROWS_SHOWN + len(cited)
    assert {b.index for b in shown} >= cited | {0, 2 * BOOT_ROWS_SHOWN - 1}
    if hidden:
        assert "boots not shown" in plain_text(report_renderable(report, 140))
        assert "boots not shown" in report_markdown(report)


def test_short_captures_show_every_boot() -> None:
    report = triage.analyze([str(SAMPLE)])
    shown, hidden = shown_boots(report.captures[0])
    assert hidden == 0 and len(shown) == len(report.captures[0].boots)
