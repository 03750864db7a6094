"""snp-triage preflight on the /proc, /sys and /etc files the QEMU fixture records from its real kernels.

tests/qemu/build-fixture.sh (as extended on branch eco13) boots Debian's 6.1
or 6.12 kernel under QEMU with an emulated AMD IOMMU (no SNP) and its init
script copies the /proc, /sys and /etc files of the first kernel and of the
kdump kernel into ``<fixture>/state/first`` and ``<fixture>/state/kdump``,
each with the kernel's ``dmesg.txt``.  The fixture is
``$SNP_TRIAGE_FIXTURE_DIR``, else ``~/.cache/snp-triage/qemu-fixture-6.1``,
``-6.12`` and the older ``qemu-fixture``; ``SNP_TRIAGE_PREFLIGHT_FIRST`` /
``SNP_TRIAGE_PREFLIGHT_KDUMP`` name the two trees directly.  Each test skips,
saying which directory is missing, when no fixture has been built.
"""
from __future__ import annotations

import os
from pathlib import Path

import pytest

from triage.preflight import run_preflight
from triage.preflight.hostfacts import parse_bool, parse_cpuinfo

pytestmark = pytest.mark.qemu

_CACHE = Path.home() / ".cache" / "snp-triage"
_FIXTURES = ([Path(os.environ["SNP_TRIAGE_FIXTURE_DIR"])] if os.environ.get("SNP_TRIAGE_FIXTURE_DIR") else
             [_CACHE / "qemu-fixture-6.1", _CACHE / "qemu-fixture-6.12", _CACHE / "qemu-fixture"])
FIXTURE = next((f for f in _FIXTURES if (f / "state").is_dir()), _FIXTURES[0])
TREES = {
    "first": Path(os.environ.get("SNP_TRIAGE_PREFLIGHT_FIRST", FIXTURE / "state" / "first")),
    "kdump": Path(os.environ.get("SNP_TRIAGE_PREFLIGHT_KDUMP", FIXTURE / "state" / "kdump")),
}
ANSWERS = ("kdump will work", "will fail", "at risk", "unknown", "not applicable")


def _dmesg(tree: Path) -> list[str]:
    """The kernel's own log, which the fixture records beside its files as dmesg.txt."""
    return [str(tree / "dmesg.txt")] if (tree / "dmesg.txt").is_file() else []


def _tree(which: str) -> Path:
    tree = TREES[which]
    if not (tree / "proc").is_dir():
        pytest.skip(f"no recorded preflight tree in {tree} (build the QEMU fixture with tests/qemu/build-fixture.sh "
                    "from a branch that records /proc, /sys and /etc: needs root, network and ~1 GB)")
    return tree


@pytest.mark.parametrize("which", sorted(TREES))
def test_preflight_reads_a_real_kernels_files(which):
    tree = _tree(which)
    report = run_preflight(str(tree), dmesg=_dmesg(tree))
    assert report.overall.answer in ANSWERS
    cpuinfo = tree / "proc" / "cpuinfo"
    if cpuinfo.is_file():
        vendor = parse_cpuinfo(cpuinfo.read_text(errors="replace")).get("vendor_id")
        assert report.fact("cpu.vendor") == vendor
        if vendor != "AuthenticAMD":
            assert report.overall.answer == "not applicable"
            return
    release = tree / "proc" / "sys" / "kernel" / "osrelease"
    if release.is_file():
        assert report.fact("kernel.release") == release.read_text().strip()
    # QEMU emulates the AMD IOMMU without SNP: the SNP-only checks must not claim anything
    snp = {c.id: c.verdict for c in report.checks}
    if report.fact("snp.state") == "off":
        assert snp["crash-kernel-fixes"] == snp["panic-shutdown"] == snp["snp-firmware"] == "not applicable"
    loaded = tree / "sys" / "kernel" / "kexec_crash_loaded"
    if loaded.is_file():
        expected = "ok" if parse_bool(loaded.read_text()) else "fails"
        assert snp["crash-kernel-loaded"] == expected


def test_the_first_kernel_names_its_crash_kernel():
    tree = _tree("first")
    report = run_preflight(str(tree), dmesg=_dmesg(tree))
    if report.overall.answer == "not applicable":
        pytest.skip("the recorded CPU is not AuthenticAMD")
    assert report.fact("crash_kernel.release") is not None, [s.to_dict() for s in report.unread]


def test_the_qemu_first_kernel_is_a_healthy_non_snp_amd_host():
    """QEMU's default CPU (qemu64) says AuthenticAMD, family 0xf: no SNP; the init script loaded a crash kernel."""
    tree = _tree("first")
    report = run_preflight(str(tree), dmesg=_dmesg(tree))
    if report.fact("cpu.vendor") != "AuthenticAMD":
        pytest.skip("the recorded CPU is not AuthenticAMD")
    verdicts = {c.id: c.verdict for c in report.checks}
    assert report.fact("snp.state") == "off"
    assert verdicts["crash-kernel-loaded"] == "ok"
    assert verdicts["boot-log"] == "ok", [c.reason for c in report.checks if c.id == "boot-log"]
    assert report.overall.answer != "will fail"


def test_the_qemu_kdump_kernel_has_no_crash_kernel_of_its_own():
    tree = _tree("kdump")
    report = run_preflight(str(tree), dmesg=_dmesg(tree))
    if report.fact("cpu.vendor") != "AuthenticAMD":
        pytest.skip("the recorded CPU is not AuthenticAMD")
    assert report.overall.signature == "KDUMP-NOT-LOADED"
