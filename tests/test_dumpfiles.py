"""Every dump format people have: ELF, flattened (makedumpfile -F), truncated and zero-filled dumps.

A fake crashed kernel (tests/vmcore_fakes.py: real DWARF from gcc, crafted memory) is written as
an ELF vmcore in tmp_path; the same dump in makedumpfile's flattened format must give the same
facts, and damaged copies give partial facts with the reason instead of an error.
"""
from __future__ import annotations

import bz2
import gzip
import lzma
import shutil
import struct
import subprocess
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))
pytest.importorskip("drgn")

import vmcore_fakes as vf  # noqa: E402
from hypothesis import given, settings, strategies as st  # noqa: E402

from triage import vmcore as v  # noqa: E402
from triage.errors import VmcoreError  # noqa: E402

pytestmark = pytest.mark.skipif(not vf.have_gcc(), reason="gcc is needed to build the fake kernels")


@pytest.fixture(scope="module")
def dump(tmp_path_factory):
    """(ELF vmcore, fake vmlinux, facts read from the fake program directly)."""
    work = tmp_path_factory.mktemp("dumps")
    built = vf.build(work, vf.Scenario())
    core = vf.write_elf_core(built, work / "vmcore", built.elf)
    return core, built.elf, v.inspect(built.prog, "fake")


def _facts(path: Path, vmlinux: Path) -> v.VmcoreFacts:
    return v.inspect(v.open_program(str(path), vmlinux=str(vmlinux)), "dump")


def _without_sources(facts: v.VmcoreFacts) -> dict:
    """The facts' values: how an address was derived differs between a real dump (drgn's direct map)
    and the fake program (page_offset_base)."""
    data = facts.to_dict()
    for iommu in data["iommus"]:
        for fact in iommu.values():
            if isinstance(fact, dict) and "source" in fact:
                fact["source"] = None
    data["source"] = None
    return data


def test_generated_elf_dump_gives_the_fake_kernels_facts(dump):
    core, elf, direct = dump
    facts = _facts(core, elf)
    assert facts.partial is None
    assert _without_sources(facts) == _without_sources(direct)
    assert facts.iommus[0].cmd_sem_phys.value == vf.CWB_PHYS and facts.psp.snp_initialized.value is True


def test_flattened_dump_gives_the_same_facts_as_its_elf(dump, tmp_path):
    core, elf, _ = dump
    flat = tmp_path / "vmcore.flat"
    v.write_flattened(str(core), str(flat), block=8192)
    assert flat.read_bytes().startswith(b"makedumpfile\0\0\0\0")
    assert _facts(flat, elf).to_dict() | {"source": None} == _facts(core, elf).to_dict() | {"source": None}
    assert sorted(p.name for p in tmp_path.iterdir()) == ["vmcore.flat"]  # the reassembled copy is gone


def test_flattened_stream_reassembles_byte_for_byte(dump, tmp_path):
    core, _, _ = dump
    flat = tmp_path / "flat"
    v.write_flattened(str(core), str(flat), block=4096)
    out = tmp_path / "out"
    with open(out, "wb") as handle:
        result = v.reassemble(str(flat), handle.fileno())
    assert result.partial is None and result.records > 1
    assert out.read_bytes() == core.read_bytes()[:result.size]
    assert not core.read_bytes()[result.size:].strip(b"\0")  # only a hole of zeros may trail


@pytest.mark.skipif(shutil.which("makedumpfile") is None, reason="makedumpfile is not installed")
def test_makedumpfile_reassembles_our_flattened_stream_identically(dump, tmp_path):
    """makedumpfile -R (rearrange_dumpdata()) agrees with our reading of the format."""
    core, _, _ = dump
    flat, out = tmp_path / "flat", tmp_path / "rearranged"
    v.write_flattened(str(core), str(flat))
    with open(flat, "rb") as stdin:
        done = subprocess.run(["makedumpfile", "-R", str(out)], stdin=stdin, capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    ours = tmp_path / "ours"
    with open(ours, "wb") as handle:
        v.reassemble(str(flat), handle.fileno())
    assert out.read_bytes().rstrip(b"\0") == ours.read_bytes().rstrip(b"\0")


def test_truncated_flattened_dump_gives_partial_facts_with_the_reason(dump, tmp_path):
    core, elf, _ = dump
    flat = tmp_path / "vmcore.flat"
    v.write_flattened(str(core), str(flat), block=4096)
    data = flat.read_bytes()
    cut = tmp_path / "cut.flat"
    cut.write_bytes(data[:len(data) * 2 // 3])
    facts = _facts(cut, elf)
    assert "flattened dump ends" in facts.partial
    assert facts.machine.release.value == "6.1.0-fake-amd64"  # the front of the dump is there


def test_truncated_elf_dump_gives_partial_facts_with_the_reason(dump, tmp_path):
    core, elf, _ = dump
    data = core.read_bytes()
    cut = tmp_path / "vmcore.cut"
    cut.write_bytes(data[:len(data) - 3 * vf.PAGE])
    facts = _facts(cut, elf)
    assert facts.partial.startswith("the ELF dump is truncated")
    assert "12 KiB of memory missing" in facts.partial


def test_zero_filled_dump_gives_partial_facts_with_the_reason(dump, tmp_path):
    core, elf, _ = dump
    data = bytearray(core.read_bytes())
    ident = struct.unpack_from("<Q", data, 32)[0]  # e_phoff
    phnum = struct.unpack_from("<H", data, 56)[0]
    first_load = min(struct.unpack_from("<Q", data, ident + i * 56 + 8)[0] for i in range(1, phnum))
    data[first_load:] = bytes(len(data) - first_load)  # every page zero, headers intact
    zeros = tmp_path / "vmcore.zero"
    zeros.write_bytes(bytes(data))
    facts = _facts(zeros, elf)
    assert "zero-filled" in facts.partial
    assert not facts.iommus and any(s.check == "iommus" for s in facts.skipped)


def test_flattened_header_only_is_a_clean_error(tmp_path):
    path = tmp_path / "flat.vmcore"
    path.write_bytes(b"makedumpfile\0\0\0\0" + struct.pack(">qq", 1, 1) + bytes(100))
    with pytest.raises(VmcoreError, match=rf"{path}: the dump holds no data \(flattened dump ends inside"):
        v.open_program(str(path))


def test_flattened_dump_of_something_else_is_a_clean_error(tmp_path):
    source, flat = tmp_path / "text", tmp_path / "flat"
    source.write_bytes(b"hello" * 1000)
    v.write_flattened(str(source), str(flat))
    with pytest.raises(VmcoreError, match="does not hold an ELF or kdump-compressed vmcore once unpacked"):
        v.open_program(str(flat))


def test_reassembly_refuses_when_the_temporary_directory_is_too_small(tmp_path, monkeypatch):
    flat = tmp_path / "flat"
    flat.write_bytes(b"makedumpfile\0\0\0\0" + struct.pack(">qq", 1, 1))
    monkeypatch.setenv("SNP_TRIAGE_TMPDIR", str(tmp_path))
    monkeypatch.setattr(shutil, "disk_usage", lambda _: shutil._ntuple_diskusage(10, 10, 0))
    with pytest.raises(VmcoreError, match="set SNP_TRIAGE_TMPDIR to a larger directory"):
        v.unpack_to_temp(str(flat))


@settings(max_examples=40, deadline=None)
@given(st.lists(st.tuples(st.integers(0, 1 << 20), st.binary(min_size=1, max_size=300)), max_size=12),
       st.integers(0, 400))
def test_reassembly_writes_every_record_where_it_says(tmp_path_factory, records, cut):
    """Records in any order, overlapping or not, land at their offsets; a stream cut anywhere is
    reassembled up to the cut and says so."""
    folder = tmp_path_factory.mktemp("flat")
    stream = b"makedumpfile\0\0\0\0" + struct.pack(">qq", 1, 1)
    stream = stream.ljust(v.FLAT_HEADER_SIZE, b"\0")
    expected = bytearray()
    for offset, data in records:
        stream += struct.pack(">qq", offset, len(data)) + data
        expected.extend(bytes(max(0, offset + len(data) - len(expected))))
        expected[offset:offset + len(data)] = data
    stream += struct.pack(">qq", -1, -1)
    whole, out = folder / "whole", folder / "out"
    whole.write_bytes(stream)
    with open(out, "wb") as handle:
        result = v.reassemble(str(whole), handle.fileno())
    assert result.partial is None and result.records == len(records)
    assert out.read_bytes() == bytes(expected)
    cut_at = max(len(stream) - 16 - cut, v.FLAT_HEADER_SIZE)
    (folder / "cut").write_bytes(stream[:cut_at])
    with open(folder / "out2", "wb") as handle:
        partial = v.reassemble(str(folder / "cut"), handle.fileno())
    assert partial.partial is not None and "flattened dump ends" in partial.partial


@pytest.mark.parametrize("suffix, compress", [(".xz", lambda b: lzma.compress(b, preset=0)),
                                               (".gz", lambda b: gzip.compress(b, compresslevel=1)),
                                               (".bz2", lambda b: bz2.compress(b, compresslevel=1))])
def test_kdump_tools_compressed_flattened_dump(dump, tmp_path, suffix, compress):
    """kdump-config: 'makedumpfile -F -c -d 31 /proc/vmcore | compress > dump.STAMP.xz'."""
    core, elf, _ = dump
    flat = tmp_path / "flat"
    v.write_flattened(str(core), str(flat))
    packed = tmp_path / f"dump.202611300412{suffix}"
    packed.write_bytes(compress(flat.read_bytes()))
    assert _without_sources(_facts(packed, elf)) == _without_sources(_facts(core, elf))


def test_compressed_elf_dump(dump, tmp_path):
    core, elf, _ = dump
    packed = tmp_path / "vmcore.gz"
    packed.write_bytes(gzip.compress(core.read_bytes(), compresslevel=1))
    facts = _facts(packed, elf)
    assert facts.partial is None and facts.iommus[0].cmd_sem_phys.value == vf.CWB_PHYS


def test_cut_compressed_flattened_dump_gives_partial_facts(dump, tmp_path):
    core, elf, _ = dump
    flat = tmp_path / "flat"
    v.write_flattened(str(core), str(flat), block=4096)
    data = lzma.compress(flat.read_bytes(), preset=0)
    cut = tmp_path / "dump.202611300412.xz"
    cut.write_bytes(data[:len(data) * 2 // 3])
    facts = _facts(cut, elf)
    assert facts.partial.startswith("the xz stream is damaged or ends early")
    assert "flattened dump ends" in facts.partial


def test_lz4_dump_without_the_lz4_package_says_what_to_do(tmp_path):
    try:
        import lz4.frame  # noqa: F401
        pytest.skip("the lz4 package is installed: lz4 dumps are read")
    except ImportError:
        pass
    path = tmp_path / "dump.202611300412.lz4"
    path.write_bytes(b"\x04\x22\x4d\x18" + bytes(64))
    with pytest.raises(VmcoreError, match=rf"{path}: lz4-compressed dump; run 'lz4 -d"):
        v.open_program(str(path))


def test_ccp_debug_candidates_follow_the_debug_packages_and_the_vmlinux(tmp_path):
    release = "6.12.118+deb12-amd64"
    tree = tmp_path / "dbg" / "usr/lib/debug"
    (tree / "boot").mkdir(parents=True)
    (tree / "boot" / f"vmlinux-{release}").write_bytes(b"\x7fELF")
    link = tmp_path / "crash" / f"vmlinux-{release}"
    link.parent.mkdir()
    link.symlink_to(tree / "boot" / f"vmlinux-{release}")
    paths = v.module_debug_candidates("ccp", release, str(link))
    rel = "kernel/drivers/crypto/ccp/ccp.ko"
    assert paths[0] == str(link.parent / "ccp.ko")
    # the extracted -dbg package the link points into: usr/lib/debug/lib/modules/REL/...
    assert str(tree / "lib/modules" / release / rel) in paths
    assert f"/usr/lib/debug/lib/modules/{release}/{rel}" in paths  # Debian/Ubuntu -dbg, -dbgsym
    assert paths[-1] == f"/usr/lib/debug/lib/modules/{release}/{rel}.debug"  # Fedora kernel-debuginfo
