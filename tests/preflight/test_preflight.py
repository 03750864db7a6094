"""snp-triage preflight on hand-built host trees (tests/preflight/trees, sources in README.md there).

Each tree's ``expected.yaml`` holds the golden answer: overall, signature,
exit status and every check's verdict.  Variants of the trees made in
tmp_path cover the verdicts the trees alone do not (a dead PSP,
crash_kexec_post_notifiers off, no guest running, a bzImage header, a
permission error, a link out of the tree).
"""
from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

from triage.model import SCHEMA_VERSION
from triage.preflight import CHECK_VERDICTS, run_preflight
from triage.preflight import reader as reader_module
from triage.preflight.hostfacts import cmdline_options, parse_cpuinfo, snp_guest_name
from triage.preflight.kdump import KDUMP_TOOLS_STRIP, derive_cmdline, kexec_command, parse_shell_vars
from triage.preflight.reader import _kmsg_line, bzimage_version

HERE = Path(__file__).resolve().parent
TREES = HERE / "trees"
ROOT = HERE.parent.parent
FOUNDING = ROOT / "samples" / "lkml-2024-09-09-snp-kdump-thread.txt"


def cli(*args: str) -> subprocess.CompletedProcess:
    """The command in a process of its own (as users run it)."""
    return subprocess.run([sys.executable, "-m", "triage", "preflight", *args], capture_output=True, text=True,
                          cwd=ROOT, env={**os.environ, "COLUMNS": "160", "NO_COLOR": "1"})


@pytest.fixture
def main(capsys, monkeypatch):
    """The command in this process (fast): returns (exit status, stdout, stderr)."""
    from triage.cli import main as entry

    monkeypatch.setenv("COLUMNS", "160")
    monkeypatch.setenv("NO_COLOR", "1")

    def run(*args: str):
        status = entry(["preflight", *args])
        out = capsys.readouterr()
        return status, out.out, out.err
    return run


def verdicts(report) -> dict[str, str]:
    return {c.id: c.verdict + (f" {c.signature}" if c.signature and c.verdict in ("risk", "fails") else "")
            for c in report.checks}


def copy_tree(name: str, tmp_path: Path) -> Path:
    target = tmp_path / name
    shutil.copytree(TREES / name, target, symlinks=True)
    return target


def check(report, cid: str):
    return next(c for c in report.checks if c.id == cid)


@pytest.mark.parametrize("tree", sorted(p.name for p in TREES.iterdir() if p.is_dir()))
def test_each_tree_gives_its_golden_answer(tree):
    expected = yaml.safe_load((TREES / tree / "expected.yaml").read_text())
    report = run_preflight(str(TREES / tree))
    assert report.overall.answer == expected["overall"]
    assert report.overall.signature == expected["signature"]
    assert (1 if report.fails("risk") else 0) == expected["exit"]
    assert verdicts(report) == expected["checks"]


def test_every_verdict_and_answer_is_covered_by_the_trees():
    seen_checks, seen_answers = set(), set()
    for tree in TREES.iterdir():
        if tree.is_dir():
            expected = yaml.safe_load((tree / "expected.yaml").read_text())
            seen_answers.add(expected["overall"])
            seen_checks.update(v.split(" ")[0] if not v.startswith("not ") else v for v in expected["checks"].values())
    assert seen_checks == set(CHECK_VERDICTS)
    assert seen_answers == {"kdump will work", "will fail", "at risk", "unknown", "not applicable"}


def test_the_cli_exit_status_follows_the_checks(main):
    assert main("--root", str(TREES / "snp-ok"))[0] == 0
    status, out, _ = main("--root", str(TREES / "snp-old-kdump-guests"))
    assert status == 1 and "will fail: SNP-KDUMP-CWB-TIMEOUT" in out
    assert main("--root", str(TREES / "snp-partial-backport"))[0] == 1  # at risk
    assert main("--root", str(TREES / "snp-partial-backport"), "--fail-on", "fails")[0] == 0
    assert main("--root", str(TREES / "snp-unknown"))[0] == 0
    assert main("--root", str(TREES / "snp-unknown"), "--fail-on", "unknown")[0] == 1
    assert main("--root", str(TREES / "snp-old-kdump-guests"), "--fail-on", "never")[0] == 0
    proc = cli("--root", str(TREES / "intel-this-machine"))
    assert proc.returncode == 0 and "not applicable: GenuineIntel CPU" in proc.stdout


def test_an_unreadable_root_is_a_usage_error(tmp_path, main):
    for bad in (tmp_path / "nowhere", FOUNDING):
        status, out, err = main("--root", str(bad))
        assert status == 2 and out == ""
        assert len(err.strip().splitlines()) == 1 and "--root" in err
    assert main("--root", str(TREES / "snp-ok"), "--fail-on", "sometimes")[0] == 2


def test_json_follows_the_report_conventions(main):
    import json

    doc = json.loads(main("--root", str(TREES / "snp-partial-backport"), "--format", "json")[1])
    assert doc["schema"] == SCHEMA_VERSION and doc["kind"] == "preflight"
    assert doc["overall"]["answer"] == "at risk"
    assert {c["verdict"] for c in doc["checks"]} <= set(CHECK_VERDICTS)
    assert all(c["schema"] == SCHEMA_VERSION for c in doc["checks"])
    fixes = next(c for c in doc["checks"] if c["id"] == "crash-kernel-fixes")
    # the verdict comes from the fixes table and names the branch rule it used (the CIP 6.12.y record)
    assert fixes["fix_verdict"]["status"] == "not fixed"
    assert "CIP 6.12.y-cip" in fixes["fix_verdict"]["explanation"]
    per_fix = {f["fix"]: f["status"] for f in fixes["fix_verdict"]["per_fix"]}
    assert per_fix == {"f32fe7cb0198": "not fixed", "38e5f33ee359": "not fixed", "8c571019d8a8": "fixed",
                       "9be15fbfc6c5": "fixed"}
    assert "mainline 6.18; stable 6.17.8" in fixes["fix"]  # releases from rules/fixes.yaml
    assert {s["status"] for s in doc["sources"]} <= {"read", "missing", "permission", "not applicable", "unreadable"}


def test_markdown_and_rich_show_the_answer_and_what_was_not_read(main):
    md = main("--root", str(TREES / "snp-unknown"), "--format", "markdown")[1]
    assert md.startswith("# snp-triage preflight") and "**unknown: collect" in md
    assert "| /etc/sysconfig/kdump | missing: no such file |" in md
    rich = main("--root", str(TREES / "snp-rhel-amd-iommu-off"))[1]
    assert "at risk: SNP-KDUMP-CWB-TIMEOUT because crash kernel 5.14.0-570.el9.x86_64" in rich
    assert "amd_iommu=off" in rich and "not read" in rich


def test_unread_files_say_why(tmp_path):
    report = run_preflight(str(TREES / "snp-unknown"))
    why = {s.path: s.status for s in report.sources}
    assert why["/proc/cmdline"] == "missing"
    assert why["/etc/default/kdump-tools"] == "missing" and why["/etc/sysconfig/kdump"] == "missing"
    report = run_preflight(str(TREES / "snp-old-kdump-guests"))
    why = {s.path: (s.status, s.why) for s in report.sources}
    assert why["/etc/sysconfig/kdump"][0] == "not applicable" and "kdump-tools" in why["/etc/sysconfig/kdump"][1]
    assert why["/sos_commands/kernel/dmesg"][0] == "missing"
    assert why["/dev/kmsg"][0] == "not applicable"


def test_firmware_versions_come_from_the_log_and_the_psp_device():
    report = run_preflight(str(TREES / "snp-ok"))
    assert report.fact("psp.snp_api") == "1.55 build 24"
    assert report.fact("psp.bootloader_version") == "00.2d.00.78"
    report = run_preflight(str(TREES / "snp-partial-backport"))
    assert next(s for s in report.sources if s.path == "/sys/bus/pci/devices/*/bootloader_version").status == "missing"


def test_a_missing_dmesg_file_is_a_usage_error(main, tmp_path):
    status, out, err = main("--root", str(TREES / "snp-ok"), "--dmesg", str(tmp_path / "none.log"))
    assert status == 2 and out == "" and len(err.strip().splitlines()) == 1 and "none.log" in err


def test_a_permission_error_is_recorded_not_raised(tmp_path, monkeypatch):
    tree = copy_tree("snp-ok", tmp_path)
    locked = str(tree / "etc" / "sysconfig" / "kdump")
    real_open = open

    def guarded(path, *args, **kwargs):
        if str(path) == locked:
            raise PermissionError(13, "Permission denied", path)
        return real_open(path, *args, **kwargs)

    monkeypatch.setattr(reader_module, "open", guarded, raising=False)
    report = run_preflight(str(tree))
    record = next(s for s in report.sources if s.path == "/etc/sysconfig/kdump")
    assert record.status == "permission" and "root" in record.why


def test_inputs_are_left_as_they_were():
    def digest() -> str:
        h = hashlib.sha256()
        for path in sorted(TREES.rglob("*")):
            if path.is_file() and not path.is_symlink():
                h.update(str(path).encode() + path.read_bytes() + str(path.stat().st_mtime_ns).encode())
        return h.hexdigest()

    before = digest()
    for tree in TREES.iterdir():
        if tree.is_dir():
            run_preflight(str(tree))
    assert digest() == before


def test_links_are_followed_inside_the_tree_only(tmp_path):
    tree = copy_tree("snp-ok", tmp_path)
    (tree / "proc" / "cpuinfo").unlink()
    os.symlink("/proc/cpuinfo", tree / "proc" / "cpuinfo")  # a copy made with links to itself: a loop, not this host
    report = run_preflight(str(tree))
    record = next(s for s in report.sources if s.path == "/proc/cpuinfo")
    assert record.status == "unreadable" and "symbolic links" in record.why
    assert report.fact("cpu.vendor") is None
    # a relative link climbing above the tree stops at its top: /etc/hostname of the tree, not of this machine
    (tree / "etc" / "kdump.conf").unlink()
    os.symlink("../../../../../../../../../etc/hostname", tree / "etc" / "kdump.conf")
    report = run_preflight(str(tree))
    record = next(s for s in report.sources if s.path == "/etc/kdump.conf")
    assert record.status == "missing" and "/etc/hostname" in record.why
    # the Debian tree's /var/lib/kdump/vmlinuz -> /boot/vmlinuz-<release> is resolved inside the tree
    debian = run_preflight(str(TREES / "amd-no-snp"))
    assert debian.fact("crash_kernel.image_target") == "/boot/vmlinuz-6.1.0-56-amd64"
    assert debian.fact("crash_kernel.release") == "6.1.0-56-amd64"


# ---------------------------------------------------------------- variants of the trees


def _append(path: Path, text: str) -> None:
    with open(path, "a", encoding="utf-8") as handle:
        handle.write(text)


def test_a_sosreport_without_osrelease_gives_the_release_from_uname(tmp_path):
    tree = copy_tree("snp-partial-backport", tmp_path)
    (tree / "proc" / "sys" / "kernel" / "osrelease").unlink()
    (tree / "proc" / "version").unlink()
    (tree / "sos_commands" / "kernel" / "uname_-a").write_text(
        "Linux snp-host-07 6.12.58-cip3 #1 SMP PREEMPT_DYNAMIC x86_64 GNU/Linux\n")
    report = run_preflight(str(tree))
    assert report.fact("kernel.release") == "6.12.58-cip3"


def test_without_cpuinfo_the_logs_platform_facts_name_the_vendor(tmp_path):
    tree = copy_tree("snp-ok", tmp_path)
    (tree / "proc" / "cpuinfo").unlink()
    report = run_preflight(str(tree))
    amd = check(report, "amd-host")
    assert amd.verdict == "ok" and "the log shows an AMD platform" in amd.reason
    assert report.fact("log.platform.snp") == "true"
    assert report.overall.answer == "kdump will work"
    # a real Intel capture (VT-d faults of a ThinkPad T450s, tests/corpus/real/108) names an Intel platform
    intel = copy_tree("snp-unknown", tmp_path)
    (intel / "proc" / "cpuinfo").unlink()
    dmar = ROOT / "tests" / "corpus" / "real" / "108-iommu-list-intel-t450s-dmar-xhci-faults-syslog.log"
    report = run_preflight(str(intel), dmesg=[str(dmar)])
    assert report.fact("log.platform.cpu_vendor") == "Intel"
    assert report.overall.answer == "not applicable"


def test_a_dead_psp_dooms_an_old_crash_kernel_even_without_guests(tmp_path):
    tree = copy_tree("snp-old-kdump-guests", tmp_path)
    for pid in ("5120", "5188"):
        shutil.rmtree(tree / "proc" / pid)
    # printk format of drivers/crypto/ccp/sev-dev.c __sev_do_cmd_locked(); 0x86 = SNP_SHUTDOWN_EX
    _append(tree / "var" / "log" / "dmesg", "[ 5123.456789] ccp 0000:05:00.5: sev command 0x86 timed out, disabling PSP\n")
    report = run_preflight(str(tree))
    fixes = check(report, "crash-kernel-fixes")
    assert fixes.verdict == "fails" and "the PSP is dead" in fixes.reason
    assert check(report, "boot-log").verdict == "risk" and check(report, "boot-log").signature == "SEV-PSP-CMD-TIMEOUT"
    assert report.fact("psp.dead")


def test_post_notifiers_off_dooms_an_old_crash_kernel(tmp_path):
    tree = copy_tree("snp-old-kdump-guests", tmp_path)
    for pid in ("5120", "5188"):
        shutil.rmtree(tree / "proc" / pid)
    (tree / "sys/module/kernel/parameters/crash_kexec_post_notifiers").write_text("N\n")
    report = run_preflight(str(tree))
    assert check(report, "crash-kernel-fixes").verdict == "fails"
    assert "crash_kexec_post_notifiers is off" in report.overall.text
    assert check(report, "panic-shutdown").verdict == "risk"


def test_an_old_crash_kernel_without_guests_is_at_risk_not_failing(tmp_path):
    tree = copy_tree("snp-old-kdump-guests", tmp_path)
    for pid in ("5120", "5188"):
        shutil.rmtree(tree / "proc" / pid)
    report = run_preflight(str(tree))
    fixes = check(report, "crash-kernel-fixes")
    assert fixes.verdict == "risk" and "works only if SNP_SHUTDOWN_EX succeeds" in fixes.reason
    assert check(report, "panic-shutdown").verdict == "ok"
    assert report.overall.answer == "at risk"


def test_a_log_that_already_shows_the_failure_fails(tmp_path):
    report = run_preflight(str(TREES / "snp-ok"), dmesg=[str(FOUNDING)])
    boot = check(report, "boot-log")
    assert boot.verdict == "fails" and boot.signature in ("SNP-KDUMP-IR-TIMER-PANIC", "SNP-KDUMP-CWB-TIMEOUT")
    assert report.overall.answer == "will fail"
    assert next(s for s in report.sources if s.path == "/sos_commands/kernel/dmesg").status == "not applicable"


def test_the_release_comes_from_the_bzimage_header(tmp_path):
    tree = copy_tree("amd-no-snp", tmp_path)
    version = (b"6.1.0-99-amd64 (debian-kernel@lists.debian.org) (gcc-12 (Debian 12.2.0-14) 12.2.0) "
               b"#1 SMP PREEMPT_DYNAMIC Debian 6.1.999-1 (2026-11-01)")
    (tree / "boot").mkdir()
    (tree / "boot" / "vmlinuz-6.1.0-56-amd64").write_bytes(_bzimage(version))
    report = run_preflight(str(tree))
    assert report.fact("crash_kernel.release") == "6.1.0-99-amd64"
    assert report.fact("crash_kernel.version_string") == version.decode()
    assert "bzImage header" in next(f.source for f in report.facts if f.name == "crash_kernel.release")


def _bzimage(version: bytes) -> bytes:
    """A setup header as Documentation/arch/x86/boot.rst lays it out: HdrS at 0x202, kernel_version at 0x20e."""
    head = bytearray(0x4000)
    head[0x1FE:0x200] = b"\x55\xaa"
    head[0x202:0x206] = b"HdrS"
    head[0x206:0x208] = (0x020F).to_bytes(2, "little")
    pointer = 0x3000 - 0x200
    head[0x20E:0x210] = pointer.to_bytes(2, "little")
    head[0x3000:0x3000 + len(version) + 1] = version + b"\0"
    return bytes(head)


def test_bzimage_version_reads_only_setup_headers():
    assert bzimage_version(_bzimage(b"6.18.3 (x@y) #1")) == "6.18.3 (x@y) #1"
    assert bzimage_version(b"\x7fELF" + b"\0" * 0x300) is None
    assert bzimage_version(b"") is None


def test_kmsg_records_become_lines_the_pipeline_reads():
    from triage.ingest import Input, read_capture

    line = _kmsg_line("6,1234,14697866,-;ccp 0000:05:00.5: SEV-SNP API:1.55 build:24\n SUBSYSTEM=pci\n")
    assert line == "<6>[   14.697866] ccp 0000:05:00.5: SEV-SNP API:1.55 build:24"
    event = read_capture(Input.from_text(line + "\n", "kmsg")).events[0]
    assert (event.message, event.timestamp, event.level, event.get("snp")) == ("api_version", 14.697866, "info", True)
    assert _kmsg_line("no header here") is None


def test_configuration_parsers():
    env = parse_shell_vars('# c\nUSE_KDUMP=1\nKDUMP_CMDLINE_APPEND="a b=1  c"\nexport X=\'y\'\nbad line\n')
    assert env == {"USE_KDUMP": "1", "KDUMP_CMDLINE_APPEND": "a b=1  c", "X": "y"}
    assert derive_cmdline("BOOT_IMAGE=/v ro iommu=pt crashkernel=512M amd_iommu=on", KDUMP_TOOLS_STRIP,
                          "reset_devices") == "ro amd_iommu=on reset_devices"
    assert kexec_command('/sbin/kexec -p --command-line="ro x=1" --initrd=/i /var/lib/kdump/vmlinuz\n') == (
        "ro x=1", "/var/lib/kdump/vmlinuz")
    assert cmdline_options("a=1 b -- c=2") == [("a", "1"), ("b", None)]
    assert snp_guest_name(["qemu", "-name", "guest=vm1,debug-threads=on", "-object", "sev-snp-guest,id=s"]) == "vm1"
    assert snp_guest_name(["qemu", "-object", "sev-guest,id=s"]) is None
    assert snp_guest_name(["snp-triage", "--dmesg", "sev-snp-guest,id=x.log"]) is None  # not an -object
    assert snp_guest_name(["qemu", "-name", "guest=vm2", "-object",
                           '{"qom-type":"sev-snp-guest","id":"lsec0","cbitpos":51}']) == "vm2"
    assert parse_cpuinfo("vendor_id\t: AuthenticAMD\ncpu family\t: 25\n\nvendor_id : other\n")["vendor_id"] == \
        "AuthenticAMD"


@settings(max_examples=200, deadline=None)
@given(st.text(max_size=400))
def test_the_text_parsers_never_raise(text):
    parse_shell_vars(text)
    cmdline_options(text)
    kexec_command(text)
    parse_cpuinfo(text)
    snp_guest_name(text.split())
    _kmsg_line(text)


@settings(max_examples=200, deadline=None)
@given(st.binary(max_size=0x600))
def test_bzimage_version_never_raises(data):
    bzimage_version(data)
    bzimage_version(data[:0x202] + b"HdrS" + data[0x206:])


def test_this_machine():
    """On this project's (Intel) machine: 'not applicable', exit 0; on an AMD machine, some answer."""
    report = run_preflight("/")
    vendor = report.fact("cpu.vendor")
    if vendor is not None and vendor != "AuthenticAMD":
        assert report.overall.answer == "not applicable" and not report.fails("risk")
        assert run_preflight("/").overall.text.startswith("not applicable: ")
    else:
        assert report.overall.answer in ("kdump will work", "will fail", "at risk", "unknown")


def test_the_readme_transcript_is_what_the_tool_prints(main, monkeypatch):
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    command = "$ COLUMNS=100 snp-triage preflight --root tests/preflight/trees/snp-old-kdump-guests\n"
    shown = readme.split(command, 1)[1].split("\nfacts\n", 1)[0]
    monkeypatch.setenv("COLUMNS", "100")
    monkeypatch.chdir(ROOT)
    status, out, _ = main("--root", "tests/preflight/trees/snp-old-kdump-guests")
    printed = "\n".join(line.rstrip() for line in out.split("\nfacts", 1)[0].splitlines())
    assert status == 1 and printed == shown


def test_the_live_kernel_log_reads_through_the_pipeline():
    """/dev/kmsg records as 'dmesg -r' lines: the running kernel's banner is found (root only)."""
    from triage.ingest import Input, read_capture
    from triage.preflight.reader import RootReader

    reader = RootReader("/")
    text = reader.kmsg()
    if text is None:
        pytest.skip(f"/dev/kmsg not readable here: {reader.records['/dev/kmsg'].why}")
    capture = read_capture(Input.from_text(text, "/dev/kmsg"))
    releases = {b.release for b in capture.boots}
    if os.uname().release not in releases:
        pytest.skip("the kernel's banner has left the ring buffer")
    assert capture.boots[-1].release == os.uname().release
