"""Facts the parser has that the report must not hide: the kdump save's outcome, a deliberate sysrq
crash, a silent reset, per-device repeats, format-aware advice (real captures throughout)."""
from __future__ import annotations

from pathlib import Path

from triage.ingest.pipeline import read_capture
from triage.report import analyze

ROOT = Path(__file__).resolve().parent.parent
REAL = ROOT / "tests" / "corpus" / "real"
QEMU = ROOT / "samples" / "qemu-amd-iommu-kdump-6.1.log"


def _real(prefix: str) -> Path:
    (path,) = REAL.glob(f"{prefix}-*.log")
    return path


def _kdump_tool(path: Path) -> list[tuple[int, str]]:
    return [(e.line, e.message) for e in read_capture(path).events if e.kind == "kdump_tool"]


def test_the_dump_saved_in_a_fedora_journal() -> None:
    # linux-usb mail: "May 01 09:50:02 FQDN kdump[568]: saving vmcore complete" (userspace journal lines)
    path = _real("248")
    assert (3221, "dump_saved") in _kdump_tool(path)
    capture = read_capture(path)
    assert [b.dump for b in capture.boots if b.role == "kdump"] == ["saved"]
    report = analyze([str(path)])
    assert {"SYSRQ-CRASH", "KDUMP-DUMP-SAVED"} <= {f.rule_id for f in report.findings}


def test_the_dump_failed_on_a_ppc_console() -> None:
    # linuxppc-dev: "[ 14.456662] kdump.sh[297]: kdump: saving vmcore failed, _exitcode:1"
    path = _real("232")
    assert [m for _, m in _kdump_tool(path)] == ["dmesg_failed", "dump_failed", "dump_failed"]
    report = analyze([str(path)])
    failed = [f for f in report.findings if f.rule_id == "KDUMP-DUMP-FAILED"]
    assert failed and failed[0].severity == "error"
    assert "KDUMP-DUMP-SAVED" not in {f.rule_id for f in report.findings}


def test_makedumpfile_dump_dmesg_is_not_a_dump() -> None:
    # kexec list: "makedumpfile Failed." after "makedumpfile --dump-dmesg" extracts the log, not the dump
    assert _kdump_tool(_real("311")) == []


def test_a_sysrq_crash_is_labelled_deliberate_and_the_saved_dump_named() -> None:
    report = analyze([str(QEMU)])
    ids = [f.rule_id for f in report.findings]
    assert "GENERIC-PANIC" not in ids and ids.count("SYSRQ-CRASH") == 1
    saved = next(f for f in report.findings if f.rule_id == "KDUMP-DUMP-SAVED")
    # two saves to two paths: both named, not one under the other's text
    texts = [g.text for e in saved.evidence for g in e.groups]
    assert any("vmcore.kdump.tmp" in t for t in texts) and any("vmcore.elf.tmp" in t for t in texts)
    assert "saved to /mnt/out/vmcore.kdump.tmp" in " ".join(saved.summary.split())


def test_a_storm_from_two_devices_names_both_with_their_counts() -> None:
    # iommu list: ahci 0000:63:00.0 faults x28, then one fault of mpt3sas 0000:61:00.0
    path = next(REAL.glob("*amd-kdump-nopt-ahci-mpt3sas-page-faults.log"))
    report = analyze([str(path)])
    finding = next(f for f in report.findings if f.rule_id == "GENERIC-IOMMU-FAULTS")
    groups = [g for e in finding.evidence for g in e.groups]
    by_device = {("ahci" if "ahci" in g.text else "mpt3sas" if "mpt3sas" in g.text else "?"): g.count for g in groups}
    assert by_device.get("ahci", 0) > 1 and by_device.get("mpt3sas", 0) >= 1


def test_a_boot_that_stops_without_a_word_is_a_silent_reset(tmp_path: Path) -> None:
    """A real laptop boot that ran 4338 s (pdx86 list, HP EliteBook), then a real banner of the next kernel."""
    capture = tmp_path / "two-boots.log"
    banner = QEMU.read_text(encoding="utf-8").splitlines()[:30]
    capture.write_text(_real("116").read_text(encoding="utf-8") + "\n".join(banner) + "\n", encoding="utf-8")
    report = analyze([str(capture)])
    notes = [n for n in report.quality if n.code == "silent-reset"]
    assert notes and notes[0].boot == 0 and "ipmitool sel" in notes[0].collect


def test_quoted_excerpts_are_not_silent_resets() -> None:
    # crypto list: two excerpts of different runs quoted in one mail (a stamp going back, no banner)
    report = analyze([str(_real("152"))])
    assert not [n for n in report.quality if n.code == "silent-reset"]


def test_time_stamp_advice_fits_the_format() -> None:
    advice = {}
    for prefix in ("141", "225"):  # dmesg -T in a GitHub issue; an old log without stamps (ABRT example)
        report = analyze([str(_real(prefix))])
        advice[prefix] = next(n.collect for n in report.quality if n.code == "no-timestamps")
    assert "without -T/-H" in advice["141"] and "printk.time=1" not in advice["141"]
    assert "printk.time=1" in advice["225"]
