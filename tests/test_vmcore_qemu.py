"""Integration tier: triage.vmcore on real kdump vmcores of Debian's 6.1 and 6.12 kernels under QEMU.

The fixtures (vmcore + debug vmlinux + ccp.ko debug info + serial console log) are built by
tests/qemu/build-fixture.sh: a q35 machine with an emulated AMD IOMMU (interrupt remapping on,
no SNP) loads a crash kernel, panics via sysrq, and the kdump kernel saves the dump with
``makedumpfile -c -d 31``. Every test runs on each fixture built; they skip when none is.
The two kernels differ where the tool looks: on 6.12 the EFR is the global ``amd_iommu_efr``
(iommu->features is no longer filled from the IVHD), on 6.1 it is ``iommu->features``.
"""
from __future__ import annotations

import json
import os
import re
import shutil
from pathlib import Path

import pytest

pytestmark = pytest.mark.qemu

from .qemufix import SKIP_REASON, fixture_dirs, series

FIXTURES = fixture_dirs()
if not FIXTURES:
    pytest.skip(SKIP_REASON, allow_module_level=True)

pytest.importorskip("drgn")
from triage import vmcore as v  # noqa: E402


@pytest.fixture(scope="module", params=FIXTURES, ids=[series(f) for f in FIXTURES])
def fixture(request):
    return request.param


@pytest.fixture(scope="module")
def kernel(fixture):
    return series(fixture)


@pytest.fixture(scope="module")
def prog(fixture):
    return v.open_program(str(fixture / "vmcore"), vmlinux=str(fixture / "vmlinux"))


@pytest.fixture(scope="module")
def facts(prog, fixture):
    return v.inspect(prog, str(fixture / "vmcore"))


@pytest.fixture(scope="module")
def log_lines(prog):
    return v.kernel_log_lines(prog)


def test_machine(facts, fixture, kernel):
    assert facts.machine.is_x86_64.value is True
    assert facts.machine.is_amd.value is True  # QEMU's default TCG CPU reports AuthenticAMD
    release = (fixture / "release").read_text().strip() if (fixture / "release").exists() else None
    assert facts.machine.release.value == (release or facts.machine.release.value)
    assert facts.machine.release.value.startswith({"6.1": "6.1.0-", "6.12": "6.12."}[kernel])


def test_efr_comes_from_where_the_kernel_keeps_it(facts, kernel):
    [iommu] = facts.iommus
    assert iommu.efr.value == 0x29D3  # QEMU's amd-iommu: PreF PPR GT IA GA HE (no SNPSup)
    if kernel == "6.12":  # the EFR moved to the global amd_iommu_efr, iommu->features is 0
        assert facts.globals.amd_iommu_efr.value == 0x29D3 and "amd_iommu_efr" in iommu.efr.source
    else:  # 6.1: iommu->features, and the global (IVHD EFR, 0 under QEMU) is not the source
        assert iommu.efr.source == "struct amd_iommu.features"


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


def test_psp_state_is_read_from_ccp_debug_info(prog, facts, fixture):
    """ccp.ko is loaded in the guest; its debug info, beside the vmlinux as the -dbg package lays it
    out, is found and read: psp_master is NULL (no PSP under QEMU), a fact, not a missing symbol."""
    [ccp] = [m for m in prog.modules() if m.name == "ccp"]
    assert ccp.debug_file_path and str(fixture) in ccp.debug_file_path
    assert facts.psp.psp_master.available and facts.psp.psp_master.value == 0
    assert [s.reason for s in facts.skipped if s.check == "psp"] == ["psp_master is NULL: no PSP probed"]


def test_device_table(facts):
    [table] = facts.device_tables
    assert table.segment == 0 and table.entries * 32 == table.size
    assert table.valid_entries and table.valid_entries > 0


def test_kernel_log(log_lines, facts, kernel):
    text = "\n".join(log_lines)
    assert "sysrq triggered crash" in text
    assert "AMD-Vi: Extended features (0x29d3" in text
    found = re.search(r"pci (\S+): AMD-Vi: Found IOMMU cap", text)
    if kernel == "6.1":
        assert found and found.group(1) == facts.iommus[0].bdf.value
    else:  # 6.12 no longer prints where it found the IOMMU
        assert found is None
    assert all(re.match(r"\[ *\d+\.\d{6}\] ", line) for line in log_lines)


def test_kernel_log_matches_serial_console(log_lines, fixture):
    console_log = fixture / "console.log"
    if not console_log.exists():
        pytest.skip("console.log not in the fixture")
    console = console_log.read_text(errors="replace").splitlines()
    panic = next(line for line in log_lines if "Kernel panic - not syncing: sysrq triggered crash" in line)
    assert panic in console


def test_to_dict_is_json(facts):
    data = json.loads(json.dumps(facts.to_dict()))
    assert data["iommus"][0]["excl_base"]["hex"].startswith("0x")


def test_cross_check_with_console_address(facts):
    phys = facts.iommus[0].cmd_sem_phys.value
    assert v.compare_logged_cwb(facts, f"cmd_sem_paddr {phys:#x}").verdict == "match"


def test_truncated_vmcore_gives_partial_facts_with_the_reason(tmp_path, fixture):
    """A kdump-compressed dump cut after 1 MB: its header and VMCOREINFO are there, the kernel's
    memory is not; the facts say why instead of the run failing."""
    cut = tmp_path / "vmcore.cut"
    with open(fixture / "vmcore", "rb") as src, open(cut, "wb") as dst:
        dst.write(src.read(1_000_000))
    facts = v.inspect(v.open_program(str(cut), vmlinux=str(fixture / "vmlinux")), str(cut))
    assert "truncated or damaged dump" in facts.partial
    assert not facts.iommus and any(s.check == "iommus" for s in facts.skipped)


def test_wrong_vmlinux_is_a_clean_error(tmp_path, fixture):
    bogus = tmp_path / "vmlinux"
    bogus.write_bytes(b"\x7fELF" + bytes(100))
    with pytest.raises(v.VmcoreError, match=str(bogus)):
        v.open_program(str(fixture / "vmcore"), vmlinux=str(bogus))


def test_missing_debug_info_is_a_clean_error(facts, fixture):
    release = facts.machine.release.value
    if any(os.path.exists(p) for p in v.default_vmlinux_candidates(release)):
        pytest.skip("this machine has the debug vmlinux installed")
    with pytest.raises(v.VmcoreError, match="no debug info"):
        v.open_program(str(fixture / "vmcore"))


def test_vmlinux_found_through_extra_debug_dirs(tmp_path, facts, fixture):
    release = facts.machine.release.value
    link = tmp_path / f"vmlinux-{release}"
    try:
        link.symlink_to(fixture / "vmlinux")
    except OSError:
        shutil.copy(fixture / "vmlinux", link)
    prog = v.open_program(str(fixture / "vmcore"), extra_debug_dirs=[str(tmp_path)])
    assert v.inspect(prog).iommu_count.value == 1
