"""Two files given together are one incident: the crashed kernel's log and the kdump kernel's log
(``snp-triage crashed.log kdump.log``) give the findings of the two concatenated."""
from __future__ import annotations

from pathlib import Path

from triage.report import analyze

REAL = Path(__file__).resolve().parent / "corpus" / "real"
# md archive of the SNP kdump v2 thread: the crashed kernel (DF_FLUSH failed, sysrq panic) on lines
# 1-39, then the kdump kernel (decompressor, completion-wait timeouts, the IR timer panic)
WHOLE = next(REAL.glob("123-*.log"))
SPLIT_AT = 39


def _split(tmp_path: Path) -> tuple[Path, Path]:
    lines = WHOLE.read_text(encoding="utf-8").splitlines(keepends=True)
    crashed, kdump = tmp_path / "crashed.log", tmp_path / "kdump.log"
    crashed.write_text("".join(lines[:SPLIT_AT]), encoding="utf-8")
    kdump.write_text("".join(lines[SPLIT_AT:]), encoding="utf-8")
    return crashed, kdump


def _found(report) -> set[tuple[str, str]]:
    return {(f.rule_id, f.confidence) for f in report.findings}


def test_two_files_find_what_the_concatenation_finds(tmp_path: Path) -> None:
    crashed, kdump = _split(tmp_path)
    together = analyze([str(crashed), str(kdump)])
    assert _found(together) == _found(analyze([str(WHOLE)]))
    shutdown = next(f for f in together.findings if f.rule_id == "SNP-PANIC-SHUTDOWN-FAILED")
    assert shutdown.source == str(crashed) or shutdown.source == str(kdump)


def test_the_kdump_log_alone_misses_the_crashed_kernels_chain(tmp_path: Path) -> None:
    _, kdump = _split(tmp_path)
    alone = analyze([str(kdump)])
    assert "SNP-PANIC-SHUTDOWN-FAILED" not in {f.rule_id for f in alone.findings}
    assert "first-kernel-missing" in {q.code for q in alone.quality}


def test_quality_does_not_ask_for_a_log_that_was_given(tmp_path: Path) -> None:
    crashed, kdump = _split(tmp_path)
    codes = {q.code for q in analyze([str(crashed), str(kdump)]).quality}
    assert not codes & {"first-kernel-missing", "kdump-boot-missing"}


def test_the_same_file_twice_is_read_once(tmp_path: Path) -> None:
    report = analyze([str(WHOLE), str(WHOLE)])
    assert len(report.captures) == 1
    assert _found(report) == _found(analyze([str(WHOLE)]))


def test_a_split_file_starts_its_boot_at_its_first_line(tmp_path: Path) -> None:
    # the kdump log begins with the decompressor: its first line starts the boot (no empty boot 0)
    _, kdump = _split(tmp_path)
    boots = analyze([str(kdump)]).captures[0].boots
    assert boots[0].role == "kdump" and boots[0].first_line == 1 and boots[0].started_by == "decompressor"
