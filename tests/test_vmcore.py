"""Tests for triage.vmcore on fake crashed kernels (see tests/vmcore_fakes.py).

Each fake kernel is real DWARF (gcc-compiled declarations in a given kernel era's layout) plus
crafted memory, so the helpers run exactly the drgn code paths they run on a vmcore.
"""
from __future__ import annotations

import importlib
import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

drgn = pytest.importorskip("drgn")
sys.path.insert(0, os.path.dirname(__file__))

import vmcore_fakes as vf  # noqa: E402
from hypothesis import given, strategies as st  # noqa: E402

from triage import vmcore as v  # noqa: E402

needs_gcc = pytest.mark.skipif(not vf.have_gcc(), reason="gcc is needed to build the fake kernels")

PM = v.PM_ADDR_MASK


@pytest.fixture(scope="session")
def workdir(tmp_path_factory):
    return tmp_path_factory.mktemp("fake-kernels")


@pytest.fixture
def make(workdir):
    """Build a fake kernel: make(**Scenario fields) -> (Built, VmcoreFacts)."""

    def _make(**kwargs):
        built = vf.build(workdir, vf.Scenario(**kwargs))
        return built, v.inspect(built.prog, "fake")

    return _make


# ================================================================================================
# Package layout
# ================================================================================================

VMCORE_MODULES = sorted(p.stem for p in (Path(v.__file__).parent).glob("*.py"))


def test_model_imports_without_drgn():
    code = ("import sys, triage.model.vmcore as m; m.VmcoreFacts().to_dict(); "
            "print(sorted(k for k in sys.modules if k == 'drgn' or k.startswith(('drgn.', 'triage.vmcore'))))")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "[]"


@pytest.mark.parametrize("name", VMCORE_MODULES)
def test_every_module_has_a_docstring_and_all(name):
    module = importlib.import_module(f"triage.vmcore.{name}" if name != "__init__" else "triage.vmcore")
    assert module.__doc__ and module.__doc__.strip()
    assert module.__all__ and all(hasattr(module, item) for item in module.__all__)
    for item in module.__all__:
        obj = getattr(module, item)
        if callable(obj) and getattr(obj, "__module__", None) == module.__name__:
            assert obj.__doc__, f"{module.__name__}.{item} has no docstring"


def test_package_exports_every_public_helper():
    public = {item for name in VMCORE_MODULES if not name.startswith("_")
              for item in importlib.import_module(f"triage.vmcore.{name}").__all__}
    model = importlib.import_module("triage.model.vmcore")
    facts = {item for item in model.__all__ if isinstance(getattr(model, item), type)}
    assert set(v.__all__) == public | facts | {"VmcoreError", "global_fact", "member_fact"}


# ================================================================================================
# Pure decoding
# ================================================================================================


def test_decode_completion_wait_bit_layout():
    # data[0] = addr[31:3] | S, data[1] = addr[51:32] | opcode 1 << 28, data[2..3] = value
    opcode, address, data = v.decode_command([0x00805001, 0x10000001, 0x2D, 0x1])
    assert opcode == v.CMD_COMPL_WAIT
    assert address == 0x100805000
    assert data == (1 << 32) | 0x2D


@given(st.integers(0, (1 << 49) - 1).map(lambda a: a << 3), st.integers(0, (1 << 64) - 1))
def test_completion_wait_round_trip(address, value):
    opcode, decoded, data = v.decode_command(vf.completion_wait(address, value, interrupt=True))
    assert (opcode, decoded, data) == (1, address, value)


@pytest.mark.parametrize("sme, expected", [
    (0, 0x100805000),
    (1 << 47, 0x800100805000),
    (1 << 51, 0x8000100805000),
    (1 << 52, 0x100805000),  # outside PM_ADDR_MASK (bits 51:12): dropped
])
def test_expected_cwb_register(sme, expected):
    assert v.expected_cwb_register(0x100805123, sme) == expected


def test_ring_walks_backwards_from_tail_and_wraps():
    ring = bytearray(v.CMD_BUFFER_SIZE)

    def put(slot, dwords):
        ring[slot * 16:slot * 16 + 16] = b"".join(d.to_bytes(4, "little") for d in dwords)

    put(511, vf.completion_wait(0x1000, 3))
    put(510, vf.completion_wait(0x1000, 2))
    put(0, [0, 0x8 << 28, 0, 0])  # INV_ALL in slot 0, tail just after it
    waits = v.ring_completion_waits(bytes(ring), tail=16, count=4)
    assert [(w.slot, w.age, w.data) for w in waits] == [(511, 1, 3), (510, 2, 2)]


def test_format_printk_record_like_dmesg():
    assert v.format_printk_record(8_304_865_999, b"sysrq: Trigger a crash") == [
        "[    8.304865] sysrq: Trigger a crash"]
    assert v.format_printk_record(12_000_001_000, "a\nb\n", level=0) == [
        "<0>[   12.000001] a", "<0>[   12.000001] b"]


def test_format_bdf():
    assert v.format_bdf(0, 0x0002) == "0000:00:00.2"
    assert v.format_bdf(1, 0x4018) == "0001:40:03.0"
    assert v.format_bdf(None, 0x18) == "0000:00:03.0"


# ================================================================================================
# Kernel layouts
# ================================================================================================


@needs_gcc
def test_6_1_layout_snp_host(make):
    built, facts = make()
    assert facts.machine.release.value == "6.1.0-fake-amd64"
    assert facts.machine.is_amd.value is True
    assert facts.iommu_count.value == 1
    iommu = facts.iommus[0]
    assert iommu.index.value == 0
    assert (iommu.segment.value, iommu.segment.source) == (0, "struct amd_iommu.pci_seg->id")
    assert iommu.bdf.value == "0000:00:00.2"
    assert iommu.mmio_phys.value == 0xFED80000
    assert iommu.efr_snp.value is True and iommu.efr.source == "struct amd_iommu.features"
    assert iommu.is_iommu_v2.value is True
    assert iommu.trans_pre_enabled.value is True
    assert iommu.cmd_sem_virt.value == vf.virt(vf.CWB_PHYS)
    assert iommu.cmd_sem_phys.value == vf.CWB_PHYS
    assert iommu.cmd_sem_value.value == 0x2C and iommu.cmd_sem_val.value == 0x2D
    assert iommu.cmd_sem_state.value.startswith("behind")
    assert "unconfirmed" in iommu.cmd_sem_state.note
    assert not iommu.cmd_sem_paddr.available and "6.18" in iommu.cmd_sem_paddr.unavailable
    assert iommu.excl_base.value == iommu.excl_limit.value == 0x100805000
    assert iommu.excl_programmed.value is True
    assert iommu.cmd_buf_phys.value == vf.CMD_BUF_PHYS
    assert (iommu.cmd_buf_head.value, iommu.cmd_buf_tail.value) == (0x60, 0x60)
    assert iommu.evt_buf_phys.value == vf.EVT_BUF_PHYS
    last = iommu.last_completion_wait
    assert (last.slot, last.age, last.store, last.interrupt) == (5, 0, True, False)
    assert last.store_address == 0x100805000 and last.data == 0x2D
    assert last.matches_cwb is True and last.matches_cwb_with_sme is True
    assert last.matches_cmd_sem_paddr is None
    # older waits come next, newest first; the one to another address is reported as not matching
    assert [w.data for w in iommu.completion_waits] == [0x2D, 0x2C, 7, 99]
    assert iommu.completion_waits[2].matches_cwb is False


@needs_gcc
def test_6_1_globals_device_table_and_psp(make):
    _, facts = make()
    g = facts.globals
    assert g.amd_iommu_snp_en.value is True
    assert g.amd_iommu_irq_remap.value is True and g.irq_remapping_enabled.value == 1
    assert g.init_state.value == "IOMMU_INITIALIZED"
    assert g.amd_iommu_pre_enabled.value is False
    assert g.crash_kexec_post_notifiers.value is True and g.crash_kernel_loaded.value is True
    assert not g.amd_iommu_efr.available and "amd_iommu_efr" in g.amd_iommu_efr.unavailable
    [table] = facts.device_tables
    assert (table.segment, table.phys, table.size, table.entries) == (0, vf.DEV_TABLE_PHYS, 8192, 256)
    assert table.valid_entries == 5 and table.unreadable_pages == 0
    psp = facts.psp
    assert psp.snp_initialized.value is True
    assert (psp.state.value, psp.state.source) == (2, "struct sev_device.state")
    assert psp.state_name.value == "WORKING" and "unconfirmed" in psp.state_name.note
    assert (psp.api_major.value, psp.api_minor.value, psp.build.value) == (1, 55, 31)
    assert psp.psp_dead.value is False and psp.cmd_in_flight.value is True
    assert facts.skipped == []


@needs_gcc
@pytest.mark.parametrize("bit", [47, 51])
def test_sme_c_bit_in_excl_base_and_store_address(make, bit):
    _, facts = make(sme_me_mask=1 << bit)
    iommu = facts.iommus[0]
    expected = (0x100805000 | 1 << bit) & PM
    assert iommu.excl_base.value == expected
    assert iommu.cmd_sem_phys.value == 0x100805000  # the C-bit is not part of virt_to_phys()
    last = iommu.last_completion_wait
    assert last.store_address == expected
    assert last.matches_cwb is False and last.matches_cwb_with_sme is True


@needs_gcc
def test_6_18_layout(make):
    _, facts = make(layout="6.18", features=0, global_efr=vf.SNP | vf.EFR_QEMU, sme_me_mask=1 << 51,
                    release="6.18.1-fake")
    iommu = facts.iommus[0]
    assert iommu.features.value == 0
    assert iommu.efr.value == vf.SNP | vf.EFR_QEMU and "amd_iommu_efr" in iommu.efr.source
    assert iommu.efr_snp.value is True
    assert iommu.features2.value == 0
    assert not iommu.is_iommu_v2.available
    assert iommu.cmd_sem_val.value == 0x2D  # atomic64_t -> .counter
    assert iommu.cmd_sem_paddr.value == 0x8000100805000
    assert iommu.excl_base.value == 0x8000100805000
    assert iommu.excl_base.source == "struct amd_iommu.cmd_sem_paddr & PM_ADDR_MASK"
    assert iommu.last_completion_wait.matches_cmd_sem_paddr is True
    assert facts.psp.state.source == "struct sev_device.sev_plat_status.state"
    assert facts.psp.state.value == 2
    assert facts.globals.amd_iommu_efr.value == vf.SNP | vf.EFR_QEMU


@needs_gcc
def test_pre_5_19_layout_embedded_cmd_sem_and_legacy_log(make, workdir):
    built, facts = make(layout="5.4", release="5.4.0-fake", segment=0, log=[
        (8_304_865_123, "sysrq: Trigger a crash"),
        (8_305_586_000, "Kernel panic - not syncing: sysrq triggered crash")])
    iommu = facts.iommus[0]
    assert iommu.segment.source.startswith("struct amd_iommu.pci_seg (u16")
    assert iommu.bdf.value == "0000:00:00.2"
    offset = built.kernel.offsetof("struct amd_iommu", "cmd_sem")
    assert iommu.cmd_sem_phys.value == vf.IOMMU_PHYS + offset == built.cmd_sem_phys
    assert "embedded" in iommu.cmd_sem_virt.source
    assert iommu.cmd_sem_value.value == 0x2C
    assert not iommu.cmd_sem_val.available and "5.9" in iommu.cmd_sem_val.unavailable
    assert iommu.excl_programmed.value is False
    assert iommu.last_completion_wait.store_address == vf.IOMMU_PHYS + offset
    assert iommu.last_completion_wait.matches_cwb is True
    assert not facts.globals.amd_iommu_snp_en.available
    [table] = facts.device_tables
    assert table.source == "globals amd_iommu_dev_table, amd_iommu_last_bdf"
    assert (table.size, table.valid_entries) == (8192, 5) and "unconfirmed" in table.note
    assert v.kernel_log_lines(built.prog) == [
        "[    8.304865] sysrq: Trigger a crash",
        "[    8.305586] Kernel panic - not syncing: sysrq triggered crash"]
    assert v.kernel_log_text(built.prog).endswith("sysrq triggered crash\n")


@needs_gcc
def test_kernel_log_unavailable_without_printk_symbols(make):
    built, _ = make()
    lines, status = v.kernel_log(built.prog)
    assert lines == [] and "prb" in status.unavailable


# ================================================================================================
# Degraded dumps
# ================================================================================================


@needs_gcc
def test_missing_psp_master_symbol(make):
    _, facts = make(psp="absent")
    assert not facts.psp.psp_master.available
    assert v.PSP_UNAVAILABLE in facts.psp.psp_master.unavailable
    assert not facts.psp.snp_initialized.available
    assert not facts.psp.psp_dead.available
    assert [s.check for s in facts.skipped] == ["psp"]
    assert facts.iommus[0].excl_base.value == 0x100805000  # the rest still works


@needs_gcc
def test_psp_master_null(make):
    _, facts = make(psp="null")
    assert facts.psp.psp_master.value == 0
    assert "NULL" in facts.psp.sev_device.unavailable
    assert not facts.psp.snp_initialized.available


@needs_gcc
def test_unreadable_cmd_sem_page(make):
    _, facts = make(map_cwb=False)
    iommu = facts.iommus[0]
    assert not iommu.cmd_sem_value.available
    assert "FaultError" in iommu.cmd_sem_value.unavailable
    assert hex(vf.virt(vf.CWB_PHYS)) in iommu.cmd_sem_value.unavailable
    assert iommu.cmd_sem_phys.value == vf.CWB_PHYS and iommu.excl_base.value == 0x100805000
    assert not iommu.cmd_sem_state.available


@needs_gcc
def test_unreadable_command_ring(make):
    _, facts = make(map_cmd_buf=False)
    iommu = facts.iommus[0]
    assert iommu.completion_waits == []
    assert "FaultError" in iommu.completion_waits_status.unavailable


@needs_gcc
def test_missing_field(make):
    _, facts = make(extra=("NO_FLAGS",))
    iommu = facts.iommus[0]
    assert not iommu.flags.available and "flags" in iommu.flags.unavailable
    assert not iommu.trans_pre_enabled.available
    assert iommu.cmd_sem_val.value == 0x2D  # fields after it are still read at the right offset


@needs_gcc
def test_empty_iommu_list(make):
    _, facts = make(iommus=0)
    assert facts.iommu_count.value == 0 and facts.iommus == []
    assert any(s.check == "iommus" and "empty" in s.reason for s in facts.skipped)
    assert v.expected_excl_base(facts) == {}


@needs_gcc
def test_two_iommus(make):
    _, facts = make(iommus=2)
    assert [i.index.value for i in facts.iommus] == [0, 1]
    assert [i.mmio_phys.value for i in facts.iommus] == [0xFED80000, 0xFED80000 + 0x80000]
    assert v.expected_excl_base(facts) == {0: 0x100805000, 1: 0x100805000}


@needs_gcc
def test_non_amd_vendor_skips_amd_checks(make):
    _, facts = make(vendor=0)
    assert facts.machine.is_amd.value is False and facts.machine.vendor_name.value == "Intel"
    assert {s.check for s in facts.skipped} == {"globals", "iommus", "device_tables", "psp"}
    assert all("Intel" in s.reason for s in facts.skipped)
    assert facts.iommus == []


@needs_gcc
def test_unreadable_device_table_page(make):
    _, facts = make(unreadable_dt_page=True)
    [table] = facts.device_tables
    assert table.unreadable_pages == 1 and table.valid_entries == 5


def test_non_x86_program_is_a_report_not_an_error():
    platform = drgn.Platform(drgn.Architecture.AARCH64,
                             drgn.PlatformFlags.IS_64_BIT | drgn.PlatformFlags.IS_LITTLE_ENDIAN)
    facts = v.inspect(vf.FakeKernel(None, platform).prog)
    assert facts.machine.is_x86_64.value is False and facts.machine.arch.value == "aarch64"
    assert {s.check for s in facts.skipped} == {"globals", "iommus", "device_tables", "psp"}
    json.dumps(facts.to_dict())


def test_program_without_debug_info_never_raises():
    facts = v.inspect(vf.FakeKernel(None).prog)
    assert not facts.machine.release.available
    assert not facts.globals.sme_me_mask.available
    assert any(s.check == "iommus" for s in facts.skipped)
    assert any(s.check == "psp" for s in facts.skipped)
    json.dumps(facts.to_dict())


@needs_gcc
def test_unexpected_error_in_a_check_is_skipped_not_raised(make, monkeypatch):
    built, _ = make()

    def boom(prog):
        raise RuntimeError("corrupt sev_device")

    monkeypatch.setattr("triage.vmcore.facts.psp_facts", boom)  # inspect() looks it up there
    facts = v.inspect(built.prog)
    assert any(s.check == "psp" and "corrupt sev_device" in s.reason for s in facts.skipped)
    assert facts.iommus[0].excl_base.value == 0x100805000


# ================================================================================================
# Serialisation and cross-checks
# ================================================================================================


@needs_gcc
def test_to_dict_is_json_with_sources_and_hex(make):
    _, facts = make(psp="absent")
    data = json.loads(json.dumps(facts.to_dict()))
    iommu = data["iommus"][0]
    assert iommu["excl_base"] == {"value": 0x100805000, "hex": "0x100805000",
                                  "source": "derived: (virt_to_phys(cmd_sem) | sme_me_mask) & PM_ADDR_MASK"}
    assert iommu["completion_waits"][0]["store_address"] == 0x100805000
    assert iommu["cmd_sem_paddr"]["value"] is None and "unavailable" in iommu["cmd_sem_paddr"]
    assert data["psp"]["psp_master"]["unavailable"].startswith(v.PSP_UNAVAILABLE)
    assert data["skipped"] == [{"check": "psp", "reason": facts.skipped[0].reason}]
    assert data["source"] == "fake"


@needs_gcc
def test_compare_logged_cwb(make):
    _, facts = make()
    result = v.compare_logged_cwb(facts, "AMD-Vi: in build_completion_wait, paddr = 0x100805000")
    assert (result.verdict, result.matches, result.logged) == ("match", [0], 0x100805000)
    assert v.compare_logged_cwb(facts, "cmd_sem_paddr 0x100805000").verdict == "match"
    assert v.compare_logged_cwb(facts, 0x100806000).verdict == "mismatch"
    assert v.compare_logged_cwb(facts, "no address here").verdict == "unknown"


@needs_gcc
def test_compare_logged_cwb_without_c_bit(make):
    _, facts = make(sme_me_mask=1 << 47)
    assert v.expected_excl_base(facts) == {0: 0x800100805000}
    result = v.compare_logged_cwb(facts, "cmd_sem_paddr 0x100805000")
    assert result.verdict == "match-without-sme" and result.matches_without_sme == [0]
    assert v.compare_logged_cwb(facts, "paddr 0x800100805000").verdict == "match"


# The regex triage/api.py has used to find a CWB address in an AMD-Vi console line;
# parse_logged_cwb must accept all of it so that api.py can use it instead.
API_CWB_IN_LOG = r"(?:cmd_sem_paddr|cwwb_sem_paddr|CWB|paddr)\s*[=:]?\s*(0x[0-9a-fA-F]+)"


@pytest.mark.parametrize("line, address", [
    ("AMD-Vi: in build_completion_wait, paddr = 0x100805000", 0x100805000),
    ("cmd_sem_paddr 0x100805000", 0x100805000),
    ("AMD-Vi: cwwb_sem_paddr: 0x8000100805000", 0x8000100805000),
    ("AMD-Vi: CWB=0x100805000", 0x100805000),
    ("iommu 0x5: CWB            =   0x100805000", 0x100805000),  # api form with a long gap
    ("EXCL_BASE is 100805000", 0x100805000),  # address without 0x, a few words on
])
def test_parse_logged_cwb_forms(line, address):
    assert v.parse_logged_cwb(line) == address
    assert v.parse_logged_cwb(line, bare=False) == address
    api = re.search(API_CWB_IN_LOG, line)
    assert api is None or int(api.group(1), 16) == address


def test_parse_logged_cwb_bare_number():
    assert v.parse_logged_cwb("0x100805000") == 0x100805000  # an address already cut out of a line
    assert v.parse_logged_cwb("AMD-Vi: Event logged [IO_PAGE_FAULT address=0xfffff000]", bare=False) is None
    assert v.parse_logged_cwb("no address here") is None


@given(st.from_regex(API_CWB_IN_LOG, fullmatch=True))
def test_parse_logged_cwb_reads_what_the_api_regex_reads(line):
    assert v.parse_logged_cwb(line, bare=False) == int(re.fullmatch(API_CWB_IN_LOG, line).group(1), 16)


@given(st.from_regex(API_CWB_IN_LOG))
def test_parse_logged_cwb_finds_an_address_wherever_the_api_regex_does(line):
    assert v.parse_logged_cwb(line, bare=False) is not None


# ================================================================================================
# open_program errors
# ================================================================================================


def test_open_program_missing_file(tmp_path):
    path = tmp_path / "nope.vmcore"
    with pytest.raises(v.VmcoreError, match=str(path)):
        v.open_program(str(path))


def test_open_program_empty_file(tmp_path):
    path = tmp_path / "empty.vmcore"
    path.write_bytes(b"")
    with pytest.raises(v.VmcoreError, match=rf"{path}: empty file"):
        v.open_program(str(path))


def test_open_program_garbage_file(tmp_path):
    path = tmp_path / "garbage.vmcore"
    path.write_bytes(os.urandom(4096))
    with pytest.raises(v.VmcoreError, match=rf"{path}: not an ELF, kdump-compressed or flattened"):
        v.open_program(str(path))


def test_open_program_directory(tmp_path):
    with pytest.raises(v.VmcoreError, match=rf"{tmp_path}: is a directory"):
        v.open_program(str(tmp_path))


def test_open_program_flattened_format_without_data(tmp_path):
    path = tmp_path / "flat.vmcore"
    path.write_bytes(b"makedumpfile\0\0\0\0" + bytes(100))
    with pytest.raises(v.VmcoreError, match="flattened header of unknown type 0"):
        v.open_program(str(path))


@needs_gcc
def test_open_program_elf_that_is_not_a_core(workdir):
    elf = vf.build_elf(workdir, "6.1")
    with pytest.raises(v.VmcoreError, match=rf"{elf}: not a usable vmcore"):
        v.open_program(str(elf))


def test_open_program_truncated_kdump_header(tmp_path):
    path = tmp_path / "trunc.vmcore"
    path.write_bytes(b"KDUMP   " + bytes(200))
    with pytest.raises(v.VmcoreError, match=str(path)) as info:
        v.open_program(str(path))
    assert "\n" not in str(info.value)


def test_open_program_needs_a_target():
    with pytest.raises(v.VmcoreError, match="no vmcore"):
        v.open_program()


def test_default_vmlinux_candidates():
    paths = v.default_vmlinux_candidates("6.1.0-56-amd64", ["/x"])
    assert paths[0] == "/x/vmlinux-6.1.0-56-amd64"
    assert "/usr/lib/debug/boot/vmlinux-6.1.0-56-amd64" in paths
    assert "/usr/lib/debug/lib/modules/6.1.0-56-amd64/vmlinux" in paths
    assert "/boot/vmlinux-6.1.0-56-amd64" in paths
    assert "/lib/modules/6.1.0-56-amd64/build/vmlinux" in paths
