"""Integration tier: triage.vmcore on a real kdump vmcore of Debian's 6.1 kernel under QEMU.

The fixture (vmcore + debug vmlinux + serial console log) is built by
tests/qemu/build-fixture.sh: a q35 machine with an emulated AMD IOMMU (interrupt remapping on,
no SNP) loads a crash kernel, panics via sysrq, and the kdump kernel saves the dump with
``makedumpfile -c -d 31``. These tests skip when the fixture has not been built.
"""
from __future__ import annotations

import json
import os
import re
import shutil
from pathlib import Path

import pytest

pytestmark = pytest.mark.qemu

FIXTURE = Path(os.environ.get("SNP_TRIAGE_FIXTURE_DIR",
                              Path.home() / ".cache" / "snp-triage" / "qemu-fixture"))
VMCORE, VMLINUX, CONSOLE = FIXTURE / "vmcore", FIXTURE / "vmlinux", FIXTURE / "console.log"

if not (VMCORE.is_file() and VMLINUX.is_file()):
    pytest.skip(f"QEMU fixture not built in {FIXTURE} (run tests/qemu/build-fixture.sh: needs root, "
                "network and ~1 GB of downloads)", allow_module_level=True)

pytest.importorskip("drgn")
from triage import vmcore as v  # noqa: E402


@pytest.fixture(scope="module")
def prog():
    return v.open_program(str(VMCORE), vmlinux=str(VMLINUX))


@pytest.fixture(scope="module")
def facts(prog):
    return v.inspect(prog, str(VMCORE))


@pytest.fixture(scope="module")
def log_lines(prog):
    return v.kernel_log_lines(prog)


def test_machine(facts):
    assert facts.machine.is_x86_64.value is True
    assert facts.machine.is_amd.value is True  # QEMU's default TCG CPU reports AuthenticAMD
    release = (FIXTURE / "release").read_text().strip() if (FIXTURE / "release").exists() else None
    assert facts.machine.release.value == (release or facts.machine.release.value)
    assert facts.machine.release.value.startswith("6.1.0-")


def test_one_iommu_with_cwb(facts):
    assert facts.iommu_count.value == 1
    [iommu] = facts.iommus
    assert iommu.index.value == 0 and iommu.segment.value == 0
    assert iommu.mmio_phys.value == 0xFED80000
    assert iommu.efr_snp.value is False
    phys = iommu.cmd_sem_phys.value
    assert phys and phys % 4096 == 0  # 6.1: cmd_sem is its own 4 KiB page
    assert facts.globals.sme_me_mask.value == 0
    assert iommu.excl_base.value == iommu.excl_limit.value == phys & v.PM_ADDR_MASK
    assert iommu.excl_programmed.value is False  # no SNPSup in QEMU's EFR
    assert iommu.cmd_sem_value.value == iommu.cmd_sem_val.value > 0
    assert not iommu.cmd_sem_paddr.available


def test_last_completion_wait_stores_to_the_cwb(facts):
    iommu = facts.iommus[0]
    last = iommu.last_completion_wait
    assert last is not None and last.age == 0
    assert last.store_address == iommu.cmd_sem_phys.value
    assert last.matches_cwb is True
    assert last.data == iommu.cmd_sem_val.value


def test_snp_not_enabled(facts):
    assert facts.globals.amd_iommu_snp_en.value is False
    assert facts.globals.crash_kernel_loaded.value is True
    assert facts.globals.init_state.value == "IOMMU_INITIALIZED"
    assert any(s.check == "psp" for s in facts.skipped)  # no PSP in QEMU, no ccp module


def test_device_table(facts):
    [table] = facts.device_tables
    assert table.segment == 0 and table.entries * 32 == table.size
    assert table.valid_entries and table.valid_entries > 0


def test_kernel_log(log_lines, facts):
    text = "\n".join(log_lines)
    assert "sysrq triggered crash" in text
    found = re.search(r"pci (\S+): AMD-Vi: Found IOMMU cap", text)
    assert found and found.group(1) == facts.iommus[0].bdf.value
    assert all(re.match(r"\[ *\d+\.\d{6}\] ", line) for line in log_lines)


def test_kernel_log_matches_serial_console(log_lines):
    if not CONSOLE.exists():
        pytest.skip("console.log not in the fixture")
    console = CONSOLE.read_text(errors="replace").splitlines()
    panic = next(line for line in log_lines if "Kernel panic - not syncing: sysrq triggered crash" in line)
    assert panic in console


def test_to_dict_is_json(facts):
    data = json.loads(json.dumps(facts.to_dict()))
    assert data["iommus"][0]["excl_base"]["hex"].startswith("0x")


def test_cross_check_with_console_address(facts):
    phys = facts.iommus[0].cmd_sem_phys.value
    assert v.compare_logged_cwb(facts, f"cmd_sem_paddr {phys:#x}").verdict == "match"


def test_truncated_vmcore_is_a_clean_error(tmp_path):
    cut = tmp_path / "vmcore.cut"
    with open(VMCORE, "rb") as src, open(cut, "wb") as dst:
        dst.write(src.read(1_000_000))
    with pytest.raises(v.VmcoreError, match=str(cut)):
        v.open_program(str(cut), vmlinux=str(VMLINUX))


def test_wrong_vmlinux_is_a_clean_error(tmp_path):
    bogus = tmp_path / "vmlinux"
    bogus.write_bytes(b"\x7fELF" + bytes(100))
    with pytest.raises(v.VmcoreError, match=str(bogus)):
        v.open_program(str(VMCORE), vmlinux=str(bogus))


def test_missing_debug_info_is_a_clean_error(facts):
    release = facts.machine.release.value
    if any(os.path.exists(p) for p in v.default_vmlinux_candidates(release)):
        pytest.skip("this machine has the debug vmlinux installed")
    with pytest.raises(v.VmcoreError, match="no debug info"):
        v.open_program(str(VMCORE))


def test_vmlinux_found_through_extra_debug_dirs(tmp_path, facts):
    release = facts.machine.release.value
    link = tmp_path / f"vmlinux-{release}"
    try:
        link.symlink_to(VMLINUX)
    except OSError:
        shutil.copy(VMLINUX, link)
    prog = v.open_program(str(VMCORE), extra_debug_dirs=[str(tmp_path)])
    assert v.inspect(prog).iommu_count.value == 1
