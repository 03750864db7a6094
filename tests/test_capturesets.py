"""``snp-triage DIR`` and ``snp-triage vmcore DIR``: crash directories and sosreports as one input.

The logs are the real QEMU capture (first kernel as the saved dmesg, kdump kernel as
kexec-dmesg.log); the dumps are a fake crashed kernel written as an ELF vmcore
(tests/vmcore_fakes.py), plain and flattened, so the fused report has facts to show.
"""
from __future__ import annotations

import io
import json
import os
import subprocess
import sys
import tarfile
from pathlib import Path

import pytest

from .conftest import QEMU_LOG, ROOT

sys.path.insert(0, str(Path(__file__).resolve().parent))

LINES = QEMU_LOG.read_text(encoding="utf-8").splitlines(keepends=True)
FIRST, KDUMP = "".join(LINES[:439]), "".join(LINES[439:])
FEDORA = "127.0.0.1-2026-11-30-04:12:31"
STAMP = "202611300412"


def run(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "triage", *args], capture_output=True, text=True, cwd=ROOT,
                          timeout=300, env={**os.environ, "COLUMNS": "120"})


def report(*args: str) -> tuple[dict, subprocess.CompletedProcess]:
    done = run(*args, "--format", "json", "--fail-on", "never")
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout), done


def fedora_dir(root: Path, dump: bytes | None = None, name: str = "vmcore") -> Path:
    root.mkdir(parents=True)
    (root / "vmcore-dmesg.txt").write_text(FIRST)
    (root / "kexec-dmesg.log").write_text(KDUMP)
    if dump is not None:
        (root / name).write_bytes(dump)
    return root


@pytest.fixture(scope="module")
def fake_dump(tmp_path_factory):
    """(ELF vmcore bytes, path of the fake vmlinux) of a fake SNP host's crashed kernel."""
    pytest.importorskip("drgn")
    import vmcore_fakes as vf

    if not vf.have_gcc():
        pytest.skip("gcc is needed to build the fake kernels")
    work = tmp_path_factory.mktemp("fake")
    built = vf.build(work, vf.Scenario())
    return vf.write_elf_core(built, work / "vmcore", built.elf).read_bytes(), built.elf


def test_fedora_directory_without_a_dump_still_diagnoses_its_logs(tmp_path):
    root = fedora_dir(tmp_path / FEDORA)
    data, done = report(str(root))
    assert [s["source"] for s in data["sources"]] == [str(root / "vmcore-dmesg.txt"), str(root / "kexec-dmesg.log")]
    assert [b["role"] for s in data["sources"] for b in s["boots"]] == ["first", "kdump"]
    [crash] = data["capture_sets"]
    assert (crash["kind"], crash["host"], crash["dumps"], crash["dump_read"]) == ("kdump-fedora", "127.0.0.1", [], None)
    note = next(q for q in data["quality"] if q["code"] == "no-dump-in-crash-directory")
    assert "holds no dump" in note["message"] and data["vmcore"] is None
    rich = run(str(root), "--fail-on", "never")
    assert rich.returncode == 0 and "holds no dump" in " ".join(rich.stdout.split())


def test_fedora_directory_with_its_dump_gives_one_fused_report(tmp_path, fake_dump):
    core, vmlinux = fake_dump
    root = fedora_dir(tmp_path / FEDORA, core)
    data, _ = report(str(root), "--vmlinux", str(vmlinux))
    assert data["vmcore"]["path"] == str(root / "vmcore") and data["vmcore"].get("error") is None
    assert data["vmcore"]["facts"]["iommus"][0]["cmd_sem_phys"]["value"] == 0x100805000
    assert data["capture_sets"][0]["dump_read"] == str(root / "vmcore")
    assert len(data["sources"]) == 2 and not any(q["code"] == "no-dump-in-crash-directory" for q in data["quality"])


def test_ssh_target_flattened_dump_is_read(tmp_path, fake_dump):
    from triage.vmcore import write_flattened

    core, vmlinux = fake_dump
    root = fedora_dir(tmp_path / "10.0.0.7-2026-11-30-04:12:31")
    (tmp_path / "elf").write_bytes(core)
    write_flattened(str(tmp_path / "elf"), str(root / "vmcore.flat"))
    data, _ = report("vmcore", str(root), "--vmlinux", str(vmlinux))
    assert data["vmcore"]["facts"]["machine"]["release"]["value"] == "6.1.0-fake-amd64"
    assert data["capture_sets"][0]["host"] == "10.0.0.7"
    # the crashed kernel's own log (the fake has none) plus the two saved logs
    assert [s["source"] for s in data["sources"]][-2:] == [str(root / "vmcore-dmesg.txt"), str(root / "kexec-dmesg.log")]


def test_debian_directory_tarball_with_its_dump(tmp_path, fake_dump):
    core, vmlinux = fake_dump
    archive = tmp_path / "crash.tar.gz"
    with tarfile.open(archive, "w:gz") as tar:
        for name, data in ((f"dmesg.{STAMP}", FIRST.encode()), (f"dump.{STAMP}", core)):
            info = tarfile.TarInfo(f"{STAMP}/{name}")
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
    data, _ = report(str(archive), "--vmlinux", str(vmlinux))
    assert data["capture_sets"][0]["kind"] == "kdump-debian"
    assert data["vmcore"]["path"] == f"{archive}:{STAMP}/dump.{STAMP}" and data["vmcore"]["facts"]
    assert data["sources"][0]["source"] == f"{archive}:{STAMP}/dmesg.{STAMP}"


def test_vmcore_command_on_a_directory_without_a_dump(tmp_path):
    root = tmp_path / STAMP
    root.mkdir()
    (root / f"dmesg.{STAMP}").write_text(FIRST)
    data, _ = report("vmcore", str(root))
    assert data["vmcore"]["error"] == f"{root}: holds no dump (vmcore, dump.*) to read"
    assert [q["code"] for q in data["quality"]].count("no-dump-in-crash-directory") == 1
    assert not any(q["code"] == "vmcore-unreadable" for q in data["quality"])
    assert data["sources"][0]["boots"][0]["ended"] == "panic"


def test_sosreport_tarball(tmp_path):
    top = "sosreport-epyc-host-3-2026-11-30-abcdefg"
    archive = tmp_path / f"{top}.tar.xz"
    with tarfile.open(archive, "w:xz") as tar:
        for name, text in (("var/log/messages-20261129", FIRST), ("sos_commands/kernel/dmesg", KDUMP),
                           ("hostname", "epyc-host-3\n")):
            info = tarfile.TarInfo(f"{top}/{name}")
            info.size = len(text.encode())
            tar.addfile(info, io.BytesIO(text.encode()))
    data, _ = report(str(archive))
    assert data["capture_sets"][0]["host"] == "epyc-host-3"
    assert [s["source"].rsplit("/", 1)[1] for s in data["sources"]] == ["messages-20261129", "dmesg"]
    assert data["sources"][0]["boots"][0]["role"] == "first"


@pytest.mark.parametrize("command", [(), ("vmcore",), ("boots",)])
def test_unrecognised_directory_is_one_line_and_exit_2(tmp_path, command):
    (tmp_path / "notes.txt").write_text("nothing here\n")
    done = run(*command, str(tmp_path))
    assert done.returncode == 2 and done.stdout == ""
    assert done.stderr.count("\n") == 1 and "neither a kdump crash directory" in done.stderr


def test_boots_and_events_read_a_crash_directory(tmp_path):
    root = fedora_dir(tmp_path / FEDORA)
    done = run("boots", "--json", str(root))
    assert done.returncode == 0, done.stderr
    assert [json.loads(line)["role"] for line in done.stdout.splitlines()] == ["first", "kdump"]


def test_truncated_dump_in_a_crash_directory_is_a_quality_note(tmp_path, fake_dump):
    core, vmlinux = fake_dump
    root = fedora_dir(tmp_path / FEDORA, core[:len(core) - 3 * 4096], name="vmcore-incomplete")
    data, done = report(str(root), "--vmlinux", str(vmlinux))
    codes = [q["code"] for q in data["quality"]]
    assert "capture-set" in codes and "vmcore-partial" in codes  # unfinished, and cut short
    assert data["vmcore"]["facts"]["partial"].startswith("the ELF dump is truncated")
    rich = run(str(root), "--vmlinux", str(vmlinux), "--fail-on", "never")
    assert "The vmcore could be read only in" in rich.stdout
