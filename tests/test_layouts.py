"""Crash directories and sosreports recognised as one capture set (triage/ingest/layouts.py).

The trees are built in tmp_path with the file names the tools write (kdump-utils' kdump.sh,
kdump-tools' kdump-config, sos's kernel and logs plugins: cited in layouts.py) and real console
text: the QEMU capture of Debian's 6.1 kernel, its first kernel as the saved dmesg and its kdump
kernel as kexec-dmesg.log.
"""
from __future__ import annotations

import gzip
import io
import tarfile
from datetime import datetime
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from triage.errors import InputError
from triage.ingest import read_capture
from triage.ingest.layouts import recognise

from .conftest import QEMU_LOG

LINES = QEMU_LOG.read_text(encoding="utf-8").splitlines(keepends=True)
FIRST = "".join(LINES[:439])  # the first kernel up to its sysrq panic
KDUMP = "".join(LINES[439:])  # the kdump kernel's boot
STAMP = "202611300412"


def _tree(root: Path, files: dict[str, str | bytes]) -> Path:
    for rel, content in files.items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(content if isinstance(content, bytes) else content.encode())
    return root


def _names(found) -> list[str]:
    return [Path(i.member or i.path).name for i in found.logs]


def test_fedora_crash_directory(tmp_path):
    root = _tree(tmp_path / "127.0.0.1-2026-11-30-04:12:31",
                 {"vmcore": b"\x7fELF", "vmcore-dmesg.txt": FIRST, "kexec-dmesg.log": KDUMP})
    found = recognise(str(root))
    assert (found.kind, found.host) == ("kdump-fedora", "127.0.0.1")
    assert _names(found) == ["vmcore-dmesg.txt", "kexec-dmesg.log"]
    assert [Path(d.path).name for d in found.dumps] == ["vmcore"] and found.dumps[0].complete
    assert found.notes == ()
    first, kdump = (read_capture(i) for i in found.logs)
    assert [b.role for b in first.boots] == ["first"]
    assert first.boots[0].release == "6.1.0-56-amd64" and first.boots[0].ended == "panic"
    assert kdump.boots and kdump.boots[0].role == "kdump"


def test_fedora_unfinished_dump_and_ssh_flattened_dump(tmp_path):
    partial = recognise(str(_tree(tmp_path / "10.1.2.3-2026-11-30-04:12:31",
                                  {"vmcore-incomplete": b"", "vmcore-dmesg-incomplete.txt": FIRST})))
    assert partial.host == "10.1.2.3"
    assert [d.complete for d in partial.dumps] == [False]
    assert any("did not finish writing" in n for n in partial.notes)
    assert any("vmcore-dmesg did not finish" in n for n in partial.notes)
    ssh = recognise(str(_tree(tmp_path / "x", {"vmcore.flat": b"makedumpfile\0", "vmcore-dmesg.txt": FIRST})))
    assert ssh.kind == "kdump-fedora" and ssh.host is None  # not the tool's directory name
    assert [Path(d.path).name for d in ssh.dumps] == ["vmcore.flat"]


def test_fedora_directory_without_a_dump(tmp_path):
    found = recognise(str(_tree(tmp_path / "127.0.0.1-2026-11-30-04:12:31", {"vmcore-dmesg.txt": FIRST})))
    assert found.kind == "kdump-fedora" and found.dumps == () and _names(found) == ["vmcore-dmesg.txt"]


def test_debian_crash_directory(tmp_path):
    root = _tree(tmp_path / STAMP, {f"dmesg.{STAMP}": FIRST, f"dump.{STAMP}": b"KDUMP   ",
                                    "linux-image-6.1.0-56-amd64": b""})
    found = recognise(str(root))
    assert (found.kind, found.host) == ("kdump-debian", None)
    assert _names(found) == [f"dmesg.{STAMP}"]
    assert [Path(d.path).name for d in found.dumps] == [f"dump.{STAMP}"]
    assert read_capture(found.logs[0]).boots[0].ended == "panic"


def test_debian_network_target_and_compressed_unfinished_dump(tmp_path):
    root = _tree(tmp_path / f"crashhost-7-{STAMP}", {f"dmesg.{STAMP}": FIRST, "dump-incomplete.xz": b""})
    found = recognise(str(root))
    assert (found.kind, found.host) == ("kdump-debian", "crashhost-7")
    assert [(Path(d.path).name, d.complete) for d in found.dumps] == [("dump-incomplete.xz", False)]
    assert found.notes == ("dump-incomplete.xz: kdump-tools did not finish writing the dump",)


SOS = {
    "hostname": "epyc-host-3\n",
    "var/log/messages": KDUMP,
    "var/log/messages-20261129": FIRST,
    "var/log/secure": "not read\n",
    "sos_commands/logs/journalctl_--no-pager_--boot_-1": FIRST,
    "sos_commands/logs/journalctl_--no-pager_--boot": KDUMP,
    "sos_commands/logs/journalctl_--disk-usage": "Archived and active journals take up 8.0M\n",
    "sos_commands/kernel/dmesg": KDUMP,
    "sos_commands/kernel/dmesg_-T": KDUMP,
}


def test_sosreport_tree(tmp_path):
    found = recognise(str(_tree(tmp_path / "sosreport-epyc-host-3-2026-11-30-abcdefg", SOS)))
    assert (found.kind, found.host, found.dumps) == ("sosreport", "epyc-host-3", ())
    assert [str(Path(i.path).relative_to(found.root)) for i in found.logs] == [
        "var/log/messages-20261129", "var/log/messages",
        "sos_commands/logs/journalctl_--no-pager_--boot_-1", "sos_commands/logs/journalctl_--no-pager_--boot",
        "sos_commands/kernel/dmesg"]


def test_sosreport_prefers_the_full_journal_and_orders_numbered_rotations(tmp_path):
    root = _tree(tmp_path / "sosreport-a-b-12345-2026-11-30-xyz", {
        "var/log/kern.log": KDUMP, "var/log/kern.log.1": FIRST, "var/log/kern.log.2.gz": gzip.compress(FIRST.encode()),
        "sos_commands/logs/journalctl_--no-pager": FIRST + KDUMP,
        "sos_commands/logs/journalctl_--no-pager_--boot": KDUMP,
        "sos_commands/kernel/dmesg_-T": KDUMP})
    found = recognise(str(root))
    assert found.host == "a-b"  # from the archive name (case id 12345 dropped): no hostname file
    assert [str(Path(i.path).relative_to(found.root)) for i in found.logs] == [
        "var/log/kern.log.2.gz", "var/log/kern.log.1", "var/log/kern.log",
        "sos_commands/logs/journalctl_--no-pager", "sos_commands/kernel/dmesg_-T"]
    assert read_capture(found.logs[0]).boots[0].ended == "panic"  # a gzip rotation is read as text


def _tar(path: Path, top: str, files: dict[str, str | bytes], mode: str = "w:xz") -> Path:
    with tarfile.open(path, mode) as tar:
        for rel, content in files.items():
            data = content if isinstance(content, bytes) else content.encode()
            info = tarfile.TarInfo(f"{top}/{rel}")
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
    return path


def test_sosreport_tarball_is_read_without_extracting(tmp_path):
    top = "sosreport-epyc-host-3-2026-11-30-abcdefg"
    archive = _tar(tmp_path / f"{top}.tar.xz", top, SOS)
    found = recognise(str(archive))
    assert (found.kind, found.host) == ("sosreport", "epyc-host-3")
    assert [i.member for i in found.logs][0] == f"{top}/var/log/messages-20261129"
    assert found.logs[0].name == f"{archive}:{top}/var/log/messages-20261129"
    capture = read_capture(found.logs[0])
    assert capture.source == found.logs[0].name and capture.boots[0].ended == "panic"
    assert sorted(p.name for p in tmp_path.iterdir()) == [archive.name]  # nothing extracted


def test_crash_directory_tarball(tmp_path):
    top = "127.0.0.1-2026-11-30-04:12:31"
    archive = _tar(tmp_path / "crash.tar.gz", top, {"vmcore-dmesg.txt": FIRST, "vmcore": b"\x7fELF"}, "w:gz")
    found = recognise(str(archive))
    assert (found.kind, found.host) == ("kdump-fedora", "127.0.0.1")
    assert found.dumps[0].member == f"{top}/vmcore" and found.dumps[0].name == f"{archive}:{top}/vmcore"
    assert read_capture(found.logs[0]).boots[0].release == "6.1.0-56-amd64"


def test_a_plain_file_is_a_set_of_one(tmp_path):
    path = _tree(tmp_path, {"console.log": FIRST}) / "console.log"
    found = recognise(str(path))
    assert (found.kind, found.host, found.dumps) == ("plain file", None, ())
    assert [i.path for i in found.logs] == [str(path)]


def test_unrecognised_directory_is_one_line_error(tmp_path):
    _tree(tmp_path / "stuff", {"notes.txt": "hello\n"})
    with pytest.raises(InputError, match=r"stuff: directory is neither a kdump crash directory .* nor a sosreport"):
        recognise(str(tmp_path / "stuff"))
    with pytest.raises(InputError, match="no such file or directory"):
        recognise(str(tmp_path / "absent"))


def test_var_crash_itself_names_its_crash_directories(tmp_path):
    _tree(tmp_path / "crash", {f"{STAMP}/dmesg.{STAMP}": FIRST,
                               "127.0.0.1-2026-11-30-04:12:31/vmcore-dmesg.txt": FIRST})
    with pytest.raises(InputError, match=r"holds 2 crash directories \(127\.0\.0\.1-.*, 202611300412\): give one"):
        recognise(str(tmp_path / "crash"))


def test_broken_archive_is_one_line_error(tmp_path):
    top = "sosreport-h-2026-11-30-abc"
    archive = _tar(tmp_path / "sos.tar.gz", top, SOS, "w:gz")
    cut = tmp_path / "cut.tar.gz"
    cut.write_bytes(archive.read_bytes()[:200])
    with pytest.raises(InputError, match=r"cut\.tar\.gz: cannot list the archive"):
        recognise(str(cut))


@settings(max_examples=60, deadline=None)
@given(host=st.from_regex(r"[a-z0-9][a-z0-9.-]{0,20}[a-z0-9]", fullmatch=True),
       when=st.datetimes(min_value=datetime(2000, 1, 1)).map(lambda d: d.strftime("%Y-%m-%d-%H:%M:%S")))
def test_fedora_host_is_read_back_from_any_directory_name(tmp_path_factory, host, when):
    root = _tree(tmp_path_factory.mktemp("c") / f"{host}-{when}", {"vmcore-dmesg.txt": FIRST[:200]})
    assert recognise(str(root)).host == host


@settings(max_examples=60, deadline=None)
@given(st.lists(st.sampled_from(["messages", "messages.1", "messages.2", "messages.3.gz", "messages-20261101",
                                 "messages-20261128.gz", "messages-20261130"]), unique=True, min_size=1))
def test_rotations_are_read_oldest_first(tmp_path_factory, names):
    root = _tree(tmp_path_factory.mktemp("s"), {"sos_commands/x": "", **{f"var/log/{n}": "" for n in names}})
    order = [Path(i.path).name for i in recognise(str(root)).logs]
    rank = ["messages-20261101", "messages-20261128.gz", "messages-20261130", "messages.3.gz", "messages.2",
            "messages.1", "messages"]
    assert order == sorted(names, key=rank.index)
