"""Integration tier: crash directories, every dump format and a mismatched vmlinux on the QEMU fixtures.

From each fixture (tests/qemu/build-fixture.sh, Debian 6.1 and 6.12) the test lays out what
kdump-utils (Fedora/RHEL) and kdump-tools (Debian/Ubuntu) would have written, with symbolic links
to the fixture's files, and runs ``snp-triage DIR`` on it; it checks that the flattened dump
(``makedumpfile -F``), the ELF dump (``-E``) and QEMU's memory-only dump give the facts of the
kdump-compressed one, and that the 6.1 vmlinux on the 6.12 dump is refused in one line.
"""
from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from .conftest import ROOT
from .qemufix import SKIP_REASON, fixture_dirs, series

pytestmark = pytest.mark.qemu

FIXTURES = fixture_dirs()
if not FIXTURES:
    pytest.skip(SKIP_REASON, allow_module_level=True)

pytest.importorskip("drgn")
from triage import vmcore as v  # noqa: E402

STAMP = "202611300412"


def run(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "triage", *args], capture_output=True, text=True, cwd=ROOT,
                          timeout=600)


@pytest.fixture(scope="module", params=FIXTURES, ids=[series(f) for f in FIXTURES])
def fixture(request):
    return request.param


@pytest.fixture(scope="module")
def baseline(fixture):
    return _facts(fixture / "vmcore", fixture)


def _facts(path: Path, fixture: Path) -> dict:
    data = v.inspect(v.open_program(str(path), vmlinux=str(fixture / "vmlinux")), "x").to_dict()
    data["source"] = None
    return data


def _link(root: Path, name: str, target: Path) -> None:
    if target.exists():
        (root / name).symlink_to(target)


def test_fedora_crash_directory_gives_the_fused_report(tmp_path, fixture):
    root = tmp_path / "127.0.0.1-2026-11-30-04:12:31"
    root.mkdir()
    _link(root, "vmcore", fixture / "vmcore")
    _link(root, "vmcore-dmesg.txt", fixture / "vmcore-dmesg.txt")  # vmcore-dmesg, as kdump.sh saves it
    _link(root, "kexec-dmesg.log", fixture / "kdump-dmesg.txt")
    done = run(str(root), "--vmlinux", str(fixture / "vmlinux"), "--format", "json", "--fail-on", "never")
    assert done.returncode == 0, done.stderr
    data = json.loads(done.stdout)
    assert data["capture_sets"][0]["kind"] == "kdump-fedora" and data["capture_sets"][0]["host"] == "127.0.0.1"
    assert data["vmcore"]["path"] == str(root / "vmcore") and data["vmcore"]["facts"]["iommu_count"]["value"] == 1
    roles = [b["role"] for s in data["sources"] for b in s["boots"]]
    assert roles == ["first", "kdump"]  # the crashed kernel's saved log, then the kdump kernel's own
    assert data["sources"][0]["boots"][0]["ended"] == "panic"
    assert data["vmcore"]["cross_checks"]


def test_debian_crash_directory_finds_the_vmlinux_beside_the_dump(tmp_path, fixture, baseline):
    root = tmp_path / STAMP
    root.mkdir()
    release = (fixture / "release").read_text().strip()
    _link(root, f"dmesg.{STAMP}", fixture / "dmesg.txt")  # makedumpfile --dump-dmesg, as kdump-config saves it
    # kdump-config writes 'makedumpfile -F -c -d 31' output: the flattened format
    flat = fixture / "vmcore.flat"
    _link(root, f"dump.{STAMP}", flat if flat.exists() else fixture / "vmcore")
    _link(root, f"vmlinux-{release}", fixture / "vmlinux")
    done = run("vmcore", str(root), "--format", "json", "--fail-on", "never")
    assert done.returncode == 0, done.stderr
    data = json.loads(done.stdout)
    assert data["vmcore"]["facts"]["machine"]["release"]["value"] == release
    sources = [s["source"] for s in data["sources"]]
    assert sources == [f"{root / f'dump.{STAMP}'} (kernel log)", str(root / f"dmesg.{STAMP}")]
    assert data["sources"][1]["boots"][0]["ended"] == "panic"
    assert {k: v for k, v in data["vmcore"]["facts"].items() if k != "source"} == \
        {k: v for k, v in baseline.items() if k != "source"}


def test_flattened_dump_gives_the_same_facts_as_its_elf(fixture, baseline):
    if not (fixture / "vmcore.flat").exists() or not (fixture / "vmcore.elf").exists():
        pytest.skip("fixture built before it kept vmcore.flat and vmcore.elf (FORCE=1 rebuilds it)")
    flat, elf = _facts(fixture / "vmcore.flat", fixture), _facts(fixture / "vmcore.elf", fixture)
    assert flat == elf == baseline


def test_qemu_memory_only_dump(fixture, baseline):
    """virsh dump --memory-only / QMP dump-guest-memory: an ELF without kdump's filtering, taken
    before the panic; the IOMMU state is the same."""
    path = fixture / "qemu-memory.elf"
    if not path.exists():
        pytest.skip("fixture built without the QEMU memory dump")
    facts = _facts(path, fixture)
    assert facts["machine"] == baseline["machine"] and facts["iommu_count"]["value"] == 1
    assert facts["iommus"][0]["cmd_sem_phys"] == baseline["iommus"][0]["cmd_sem_phys"]


def test_mismatched_vmlinux_is_refused_in_one_line():
    by_series = {series(f): f for f in FIXTURES}
    if not {"6.1", "6.12"} <= set(by_series):
        pytest.skip("needs both the 6.1 and the 6.12 fixture")
    dump, wrong = by_series["6.12"] / "vmcore", by_series["6.1"] / "vmlinux"
    done = run("vmcore", str(dump), "--vmlinux", str(wrong))
    assert done.returncode == 2 and done.stdout == ""
    assert done.stderr.count("\n") == 1
    assert f"{wrong}: debug info does not match {dump}" in done.stderr and "6.12" in done.stderr


def test_fixture_records_both_kernels_state(fixture):
    """The /proc and /sys files a preflight check reads, as each kernel saw them."""
    state = fixture / "state"
    if not state.exists():
        pytest.skip("fixture built before it recorded the kernels' state")
    first, kdump = state / "first", state / "kdump"
    assert "crashkernel=256M" in (first / "proc/cmdline").read_text()
    assert (first / "sys/kernel/kexec_crash_loaded").read_text().strip() == "1"
    assert "Crash kernel" in (first / "proc/iomem").read_text()
    assert "reset_devices" in (kdump / "proc/cmdline").read_text()
    assert (first / "sys/firmware/acpi/tables/IVRS").read_bytes()[:4] == b"IVRS"
    assert list((first / "sys/class/iommu").glob("*/amd-iommu/features"))


FINDER_SCRIPT = """
import drgn, logging, sys
logging.getLogger("drgn").setLevel(logging.CRITICAL)
fixture, use_finder = sys.argv[1], sys.argv[2] == "1"
prog = drgn.Program()
prog.set_core_dump(fixture + "/vmcore")
if not use_finder:
    prog.set_enabled_debug_info_finders([f for f in prog.enabled_debug_info_finders() if f != "snp_triage_ccp"])
prog.debug_info_options.kernel_directories = ()
prog.debug_info_options.directories = (fixture,)  # as 'drgn --debug-directory FIXTURE'
prog.load_debug_info([fixture + "/vmlinux"], main=True, default=False)
try:
    prog.load_debug_info(default=True)
except drgn.MissingDebugInfoError:
    pass  # the other modules' debug info is not in the fixture
print(prog.module("ccp").debug_file_path)
"""


@pytest.mark.parametrize("use_finder", [True, False], ids=["plugin", "drgn-alone"])
def test_plugin_finds_ccp_debug_info_in_the_debug_package_layout(fixture, use_finder):
    """The plugin's finder (registered by drgn_prog_set) finds ccp.ko where the -dbg package puts
    it under a debug directory; drgn's own search does not (it looks by build ID there)."""
    from .test_drgn_plugin import _env

    done = subprocess.run([sys.executable, "-c", FINDER_SCRIPT, str(fixture), "1" if use_finder else "0"],
                          capture_output=True, text=True, env=_env(), timeout=300)
    assert done.returncode == 0, done.stderr
    found = done.stdout.strip().splitlines()[-1]
    if use_finder:
        assert found.startswith(str(fixture)) and found.endswith("kernel/drivers/crypto/ccp/ccp.ko")
    else:
        assert found == "None"


def test_kdump_tools_xz_compressed_dump(tmp_path, fixture, baseline):
    """KDUMP_COMPRESSION=xz: 'makedumpfile -F -c -d 31 /proc/vmcore | xz -c > dump.STAMP.xz'."""
    import lzma
    import shutil

    flat = fixture / "vmcore.flat"
    if not flat.exists():
        pytest.skip("fixture built before it kept vmcore.flat (FORCE=1 rebuilds it)")
    packed = tmp_path / f"dump.{STAMP}.xz"
    with open(flat, "rb") as src, lzma.open(packed, "wb", preset=0) as dst:
        shutil.copyfileobj(src, dst, 4 << 20)
    assert _facts(packed, fixture) == baseline


def test_crash_directory_tarball_with_the_dump_inside(tmp_path, fixture):
    """A crash directory sent as a tarball: the logs are read from the archive, the dump is copied
    out to a temporary file for drgn and removed after."""
    import tarfile

    archive = tmp_path / "crash.tar"
    with tarfile.open(archive, "w") as tar:
        tar.add(fixture / "vmcore-dmesg.txt", "127.0.0.1-2026-11-30-04:12:31/vmcore-dmesg.txt")
        tar.add(fixture / "vmcore", "127.0.0.1-2026-11-30-04:12:31/vmcore")
    done = run(str(archive), "--vmlinux", str(fixture / "vmlinux"), "--format", "json", "--fail-on", "never")
    assert done.returncode == 0, done.stderr
    data = json.loads(done.stdout)
    assert data["vmcore"]["path"] == f"{archive}:127.0.0.1-2026-11-30-04:12:31/vmcore"
    assert data["vmcore"]["facts"]["iommu_count"]["value"] == 1
    assert sorted(p.name for p in tmp_path.iterdir()) == ["crash.tar"]
