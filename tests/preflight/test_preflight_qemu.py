"""snp-triage preflight on the /proc, /sys and /etc files the QEMU fixture records from its real kernels.

tests/qemu/build-fixture.sh (extended on branch eco13) boots Debian's kernel
under QEMU with an emulated AMD IOMMU (no SNP) and copies the files preflight
reads from the first kernel and from the kdump kernel into
``$SNP_TRIAGE_FIXTURE_DIR/preflight/first`` and ``.../preflight/kdump``
(override with ``SNP_TRIAGE_PREFLIGHT_FIRST`` / ``SNP_TRIAGE_PREFLIGHT_KDUMP``).
Each test skips, saying which directory is missing, when the fixture has not
been built.
"""
from __future__ import annotations

import os
from pathlib import Path

import pytest

from triage.preflight import run_preflight
from triage.preflight.hostfacts import parse_bool, parse_cpuinfo

pytestmark = pytest.mark.qemu

FIXTURE = Path(os.environ.get("SNP_TRIAGE_FIXTURE_DIR", Path.home() / ".cache" / "snp-triage" / "qemu-fixture"))
TREES = {
    "first": Path(os.environ.get("SNP_TRIAGE_PREFLIGHT_FIRST", FIXTURE / "preflight" / "first")),
    "kdump": Path(os.environ.get("SNP_TRIAGE_PREFLIGHT_KDUMP", FIXTURE / "preflight" / "kdump")),
}
ANSWERS = ("kdump will work", "will fail", "at risk", "unknown", "not applicable")


def _tree(which: str) -> Path:
    tree = TREES[which]
    if not (tree / "proc").is_dir():
        pytest.skip(f"no recorded preflight tree in {tree} (build the QEMU fixture with tests/qemu/build-fixture.sh "
                    "from a branch that records /proc, /sys and /etc: needs root, network and ~1 GB)")
    return tree


@pytest.mark.parametrize("which", sorted(TREES))
def test_preflight_reads_a_real_kernels_files(which):
    tree = _tree(which)
    report = run_preflight(str(tree))
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
    report = run_preflight(str(tree))
    if report.overall.answer == "not applicable":
        pytest.skip("the recorded CPU is not AuthenticAMD")
    assert report.fact("crash_kernel.release") is not None, [s.to_dict() for s in report.unread]
