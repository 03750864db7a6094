"""The contract under hostile and odd input: a report or a one-line error, never a crash, nothing lost.

One test per finding of the hardening review (issue 8), each named after what used to go wrong.
"""
from __future__ import annotations

import bz2
import gzip
import json
import lzma
import os
import subprocess
import sys
from pathlib import Path

import pytest

from triage.errors import RuleError
from triage.rulepack import load_rule_file, load_rules

from .conftest import FOUNDING, QEMU_LOG, ROOT, parse_text

PANIC = b"[    1.376701] Kernel panic - not syncing: timer doesn't work through Interrupt-remapped IO-APIC\n"
TEXT = QEMU_LOG.read_bytes()


def run(*args: str, stdin: bytes | None = None, env: dict | None = None, columns: int = 120):
    environment = {**os.environ, "COLUMNS": str(columns), **(env or {})}
    return subprocess.run([sys.executable, "-m", "triage", *args], input=stdin, capture_output=True, cwd=ROOT,
                          timeout=120, env=environment)


def one_line_error(result, code: int = 2) -> str:
    err = result.stderr.decode("utf-8", "replace")
    assert result.returncode == code, err
    assert "Traceback" not in err and "internal error" not in err
    assert len(err.strip().splitlines()) == 1, err
    return err


def kinds(result) -> list[str]:
    return [json.loads(line)["kind"] for line in result.stdout.decode().splitlines()]


# ---------------------------------------------------------------- crashes


@pytest.mark.parametrize("fmt", ["rich", "markdown"])
def test_non_utf8_locale_falls_back_to_ascii(fmt):
    result = run(str(FOUNDING), "--format", fmt, env={"PYTHONIOENCODING": "ascii", "LC_ALL": "C", "LANG": "C"})
    assert result.returncode == 1, result.stderr.decode()
    assert b"SNP-KDUMP-CWB-TIMEOUT" in result.stdout
    result.stdout.decode("ascii")  # nothing but ASCII reached the terminal
    assert result.stderr == b""


def test_log_text_is_never_markup(tmp_path):
    capture = tmp_path / "markup.log"
    capture.write_bytes(b"[    1.000000] Kernel panic - not syncing: bad [/] here [bold]x[/bold]\n")
    report = run(str(capture))
    assert report.returncode == 1, report.stderr.decode()
    assert b"bad [/] here [bold]x[/bold]" in report.stdout
    boots = run("boots", str(capture))
    assert boots.returncode == 0 and b"[bold]x[/bold]" in boots.stdout


def test_rule_text_is_never_markup(tmp_path):
    pack = tmp_path / "pack"
    pack.mkdir()
    (pack / "X-MARKUP.yaml").write_text(
        'id: X-MARKUP\ntitle: "reads [/sys/kernel/kexec_crash_loaded] and [bold]"\nseverity: info\nsummary: s\n'
        "remedy: r\nmatch:\n  sequence:\n    - kind: kernel_panic\n")
    listing = run("rules", "list", "--rules", str(pack), columns=200)
    assert listing.returncode == 0, listing.stderr.decode()
    assert b"[/sys/kernel/kexec_crash_loaded]" in listing.stdout
    show = run("rules", "show", "X-MARKUP", "--rules", str(pack))
    assert show.returncode == 0 and b"[/sys/kernel/kexec_crash_loaded] and [bold]" in show.stdout


@pytest.mark.parametrize("record", [
    b"[" * 20000 + b"]" * 20000,
    b'{"MESSAGE": "x", "__MONOTONIC_TIMESTAMP": "' + b"9" * 400 + b'", "_TRANSPORT": "kernel"}',
    b'{"MESSAGE": "x", "PRIORITY": "' + b"7" * 5000 + b'", "_TRANSPORT": "kernel"}',
    b'{"MESSAGE": "' + b"[" * 5000 + b'", "_TRANSPORT": "kernel"}',
])
def test_hostile_journal_json_lines(record):
    line = b'{"MESSAGE":' + record + b"}" if record.startswith(b"[") else record
    capture = parse_text(line + b"\n" + PANIC)
    assert capture.total_lines == 2
    assert [e.kind for e in capture.events] == ["kernel_panic"]


@pytest.mark.parametrize("line", [
    b"[    1.000000] AMD-Vi: Found IOMMU cap 0x40 at index " + b"9" * 5000,
    b"[    1.000000] CPU: " + b"7" * 5000 + b" PID: 1 Comm: swapper Not tainted 6.1.0 #1",
    b"[    1.000000] watchdog: BUG: soft lockup - CPU#" + b"3" * 5000 + b" stuck for 22s! [x:1]",
    b"[    1.000000] ccp 0000:47:00.1: SEV API:1.55 build:" + b"5" * 5000,
    b"[" + b"9" * 400 + b".000000] Kernel panic - not syncing: huge stamp",
])
def test_huge_numbers_in_fields(line, tmp_path):
    capture = parse_text(line + b"\n" + PANIC)
    assert capture.total_lines == 2
    path = tmp_path / "huge.log"
    path.write_bytes(line + b"\n" + PANIC)
    result = run(str(path), "--format", "json")
    assert result.returncode == 1, result.stderr.decode()
    json.loads(result.stdout, parse_constant=lambda c: pytest.fail(f"{c} is not JSON"))


def test_full_disk_is_an_ordinary_error():
    if not Path("/dev/full").exists():
        pytest.skip("no /dev/full here")
    with open("/dev/full", "wb") as full:
        result = subprocess.run([sys.executable, "-m", "triage", str(FOUNDING)], stdout=full,
                                stderr=subprocess.PIPE, cwd=ROOT, timeout=120)
    err = result.stderr.decode()
    assert result.returncode == 2 and "cannot write the output" in err
    assert "Traceback" not in err and "internal error" not in err and len(err.strip().splitlines()) == 1


# ---------------------------------------------------------------- silent losses and wrong answers


@pytest.mark.parametrize("ending", [b"\r", b"\r\n", b"mixed"])
def test_cr_line_endings(ending):
    lines = TEXT.splitlines()
    if ending == b"mixed":
        data = b"".join(line + (b"\r" if i % 2 else b"\r\n") for i, line in enumerate(lines))
    else:
        data = ending.join(lines) + ending
    capture = parse_text(data)
    assert capture.total_lines == len(lines)
    assert [e.kind for e in capture.events].count("kernel_panic") == 1


def test_cr_at_a_block_boundary_is_one_break(monkeypatch):
    from triage.ingest import reader

    monkeypatch.setattr(reader, "BLOCK_SIZE", 64)
    data = (b"[    0.000000] x" + b"y" * 47 + b"\r\n") * 20 + PANIC
    capture = parse_text(data)
    assert capture.total_lines == 21 and [e.kind for e in capture.events] == ["kernel_panic"]


def test_leading_nul_runs_are_not_binary():
    capture = parse_text(b"\0" * 100_000 + TEXT)
    assert [e.kind for e in capture.events].count("kernel_panic") == 1


def test_only_nuls_is_binary(tmp_path):
    path = tmp_path / "zeros.log"
    path.write_bytes(b"\0" * 200_000)
    assert "binary" in one_line_error(run("events", str(path)))


def _zstd(data: bytes) -> bytes:
    zstandard = pytest.importorskip("zstandard")
    return zstandard.ZstdCompressor().compress(data)


@pytest.mark.parametrize("suffix, compress", [
    (".gz", gzip.compress), (".xz", lzma.compress), (".bz2", bz2.compress), (".zst", _zstd)])
@pytest.mark.parametrize("damage", ["truncated", "trailing garbage"])
def test_damaged_compressed_inputs_are_treated_alike(tmp_path, suffix, compress, damage):
    """The readable part is diagnosed, one line says what happened, exit status 2 (README: Inputs)."""
    whole = compress(TEXT * 3)
    data = whole[: len(whole) * 2 // 3] if damage == "truncated" else whole + b"this is not compressed data"
    path = tmp_path / f"console.log{suffix}"
    path.write_bytes(data)
    events = run("events", str(path))
    err = one_line_error(events)
    assert str(path) in err and ("truncated" in err or "not" in err or "corrupt" in err)
    if damage == "trailing garbage":  # every line came out before the garbage
        assert kinds(events).count("kernel_panic") == 3
    report = run(str(path), "--format", "json")
    one_line_error(report)
    doc = json.loads(report.stdout)
    assert doc["sources"][0]["input_error"] and any(q["code"] == "input-truncated" for q in doc["quality"])


def test_concatenated_streams_and_nul_padding_are_whole(tmp_path):
    path = tmp_path / "two.log.gz"
    path.write_bytes(gzip.compress(TEXT) + gzip.compress(TEXT) + b"\0" * 512)
    events = run("events", str(path))
    assert events.returncode == 0 and kinds(events).count("kernel_panic") == 2


def test_stray_escape_does_not_eat_a_character():
    capture = parse_text(b"[    1.376701] \x1bKernel panic - not syncing: Fatal exception\n")
    assert [e.kind for e in capture.events] == ["kernel_panic"]
    coloured = parse_text(b"\x1b[31m[    1.376701] Kernel panic - not syncing: Fatal exception\x1b[0m\n")
    assert [e.kind for e in coloured.events] == ["kernel_panic"]


def test_yaml_alias_amplification_is_refused(tmp_path):
    big = "x" * 100_000  # 2,000 aliases of it: 200 MB once expanded
    refs = ", ".join(["*a"] * 2000)
    path = tmp_path / "BOMB.yaml"
    path.write_text(f"id: BOMB\ntitle: &a \"{big}\"\nseverity: info\nsummary: s\nremedy: r\nreferences: [{refs}]\n"
                    "match:\n  sequence:\n    - kind: kernel_panic\n")
    with pytest.raises(RuleError) as info:
        load_rule_file(path)
    assert info.value.file == str(path) and info.value.line is not None
    small = tmp_path / "ALIAS.yaml"
    small.write_text("id: ALIAS\ntitle: &t t\nseverity: info\nsummary: *t\nremedy: r\n"
                     "match:\n  sequence:\n    - kind: kernel_panic\n")
    with pytest.raises(RuleError) as alias:
        load_rule_file(small)
    assert alias.value.line == 2 and "anchor" in str(alias.value)


def test_custom_pack_cannot_silently_replace_a_shipped_rule(tmp_path):
    pack = tmp_path / "pack"
    pack.mkdir()
    body = ("id: GENERIC-PANIC\ntitle: \"my panic\"\nseverity: info\nsummary: s\nremedy: r\n"
            "match:\n  sequence:\n    - kind: kernel_panic\n")
    (pack / "GENERIC-PANIC.yaml").write_text(body)
    assert "override: true" in one_line_error(run(str(FOUNDING), "--rules", str(pack)))
    (pack / "GENERIC-PANIC.yaml").write_text(body + "override: true\n")
    report = json.loads(run(str(FOUNDING), "--rules", str(pack), "--format", "json").stdout)
    mine = [f for f in report["findings"] if f["rule_id"] == "GENERIC-PANIC"]
    assert mine and mine[0]["title"] == "my panic"
    assert any("replaced the rule of the same id" in c for c in mine[0]["caveats"])
    assert {r.id for r in load_rules([pack])} >= {"GENERIC-PANIC", "SNP-KDUMP-CWB-TIMEOUT"}


@pytest.mark.parametrize("make", [lambda p: p.write_bytes(b""), lambda p: p.write_bytes(gzip.compress(b""))])
def test_empty_input_says_so(tmp_path, make):
    path = tmp_path / "empty.log.gz"
    make(path)
    result = run(str(path))
    assert result.returncode == 3 and b"Empty capture" in result.stdout
    assert b"1-0" not in result.stdout and b"1 boot" not in result.stdout
    doc = json.loads(run(str(path), "--format", "json").stdout)
    assert doc["sources"][0]["boots"] == [] and [q["code"] for q in doc["quality"]] == ["empty-capture"]
    assert run("/dev/null").returncode == 3
    assert run(str(path), str(FOUNDING)).returncode == 1  # one empty input among others: exit by the findings


def test_unusable_vmcore_keeps_the_log_report(tmp_path):
    pytest.importorskip("drgn")
    foreign = tmp_path / "not-a-vmcore"
    foreign.write_bytes(Path(sys.executable).resolve().read_bytes()[:1 << 20])  # an ELF executable, not a core
    result = run(str(FOUNDING), "--vmcore", str(foreign), "--format", "json")
    assert result.returncode == 1, result.stderr.decode()
    doc = json.loads(result.stdout)
    assert doc["root_cause"] == "SNP-KDUMP-CWB-TIMEOUT"
    assert doc["vmcore"]["error"] and doc["vmcore"]["facts"] is None
    assert any(q["code"] == "vmcore-unreadable" for q in doc["quality"])


@pytest.mark.parametrize("args, expect", [
    (("events", "--kind", "panics", str(FOUNDING)), "invalid choice"),
    ((str(FOUNDING), "--vmlinux", "/boot/vmlinux"), "--vmlinux goes with --vmcore"),
    (("vmcore", "--live", str(FOUNDING)), "not both"),
    ((str(FOUNDING), "--vmcore", str(FOUNDING), "--vmlinux", "/tmp"), "is a directory"),
])
def test_misworded_options_are_refused(args, expect):
    assert expect in one_line_error(run(*args))


def test_json_is_always_valid(tmp_path):
    path = tmp_path / "stamp.log"
    path.write_bytes(b"[" + b"1" * 400 + b".5] Kernel panic - not syncing: x\n" + PANIC)
    for args in (("--format", "json"), ("events",), ("boots", "--json")):
        result = run(*args, str(path)) if args[0] != "--format" else run(str(path), *args)
        for doc in (result.stdout.decode().splitlines() if args[0] != "--format" else [result.stdout.decode()]):
            json.loads(doc, parse_constant=lambda c: pytest.fail(f"{c} is not JSON"))


# ---------------------------------------------------------------- rendering


@pytest.mark.parametrize("columns", [60, 200])
def test_report_at_60_and_200_columns(columns):
    result = run(str(FOUNDING), columns=columns)
    assert result.returncode == 1
    lines = result.stdout.decode().splitlines()
    assert max(len(line) for line in lines) <= columns
    text = result.stdout.decode()
    for rule in ("SNP-KDUMP-CWB-TIMEOUT", "SNP-KDUMP-IR-TIMER-PANIC", "SNP-KDUMP-CWB-DIRECTMAP-PF"):
        assert rule in text  # panel titles are never cut
    boots = run("boots", str(FOUNDING), columns=columns).stdout.decode()
    assert "timestamp reset" in boots and "started by" in boots or columns < 100
    assert "started b\n" not in boots


def test_piped_output_follows_columns():
    narrow = run(str(FOUNDING), columns=70).stdout.decode()
    wide = run(str(FOUNDING), columns=180).stdout.decode()
    assert max(map(len, narrow.splitlines())) <= 70 < max(map(len, wide.splitlines())) <= 180


def test_no_none_false_or_bad_plurals_leak():
    listing = run("rules", "list", columns=250).stdout.decode()
    assert "(None)" not in listing and "9e249c484128" in listing
    warning = (b"[    1.000000] WARNING: CPU: 0 PID: 1 at fs/x.c:1 f+0x1/0x2\n"
               b"[    1.000001] CPU: 0 PID: 1 Comm: swapper Not tainted 6.1.0 #1\n")
    report = run("-", "--fail-on", "never", stdin=warning, columns=200).stdout.decode()
    assert "tainted: False" not in report and "tainted: no" in report
    one = run("boots", "-", stdin=PANIC).stdout.decode()
    assert "1 line" in one and "1 lines" not in one


def test_rules_show_prints_the_file_as_written():
    show = run("rules", "show", "SNP-KDUMP-CWB-TIMEOUT", columns=60).stdout.decode()
    text = (ROOT / "rules" / "SNP-KDUMP-CWB-TIMEOUT.yaml").read_text()
    assert text in show


def test_odd_file_names_in_reports(tmp_path):
    newline = tmp_path / "a\nb.log"
    newline.write_bytes(TEXT)
    markdown = run(str(newline), "--format", "markdown").stdout.decode()
    rows = [line for line in markdown.splitlines() if line.startswith("| ") and "a\\nb.log" in line]
    assert rows and all(row.count("|") == 8 for row in rows)
    odd = os.fsencode(tmp_path) + b"/x\xff.log"
    with open(odd, "wb") as handle:
        handle.write(TEXT)
    result = subprocess.run([sys.executable, "-m", "triage", "boots", odd], capture_output=True, cwd=ROOT,
                            timeout=120, env={**os.environ, "COLUMNS": "200"})
    assert result.returncode == 0 and b"x\\xff.log" in result.stdout and b"\\udcff" not in result.stdout


def test_usage_lists_the_commands_and_every_option_has_help():
    usage = run("--no-such-option").stderr.decode()
    assert "events" in usage or "usage" not in usage
    helps = [run(*cmd, "--help").stdout.decode() for cmd in ((), ("events",), ("boots",), ("vmcore",))]
    assert all(c in helps[0] for c in ("events", "boots", "rules", "vmcore"))
    assert "output: rich" in helps[0] and "output: rich" in helps[3] and "debug info" in helps[3]
    assert "Exit status" in helps[0]


def test_an_snp_error_is_listed_before_a_generic_panic_of_the_same_severity():
    doc = run(str(FOUNDING), columns=200).stdout.decode()
    order = [rule for rule in ("SNP-KDUMP-CWB-TIMEOUT", "GENERIC-PANIC", "SNP-KDUMP-CWB-DIRECTMAP-PF")
             if f" {rule} " in doc or f" {rule}\n" in doc]
    if "GENERIC-PANIC" in order:
        assert order.index("SNP-KDUMP-CWB-DIRECTMAP-PF") < order.index("GENERIC-PANIC")


def test_many_findings_are_summarised(tmp_path):
    path = tmp_path / "warnings.log"
    path.write_bytes(b"".join(b"[    %d.000000] WARNING: CPU: 0 PID: 1 at fs/x%d.c:1 f%d+0x1/0x2\n" % (i, i, i)
                              for i in range(1, 31)))
    rich_text = run(str(path), "--fail-on", "never", columns=200).stdout.decode()
    assert "more findings (all of them in --format json)" in rich_text
    doc = json.loads(run(str(path), "--format", "json").stdout)
    assert len([f for f in doc["findings"] if f["rule_id"] == "GENERIC-WARNING"]) == 30
