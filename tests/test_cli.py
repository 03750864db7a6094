"""The command line as a user meets it: inputs, errors, exit codes, JSON shapes."""
from __future__ import annotations

import bz2
import gzip
import hashlib
import json
import lzma
import os
import subprocess
import sys

import pytest

from .conftest import QEMU_LOG, ROOT

TEXT = QEMU_LOG.read_bytes()


def run(*args: str, stdin: bytes | None = None, env: dict | None = None) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "triage", *args], input=stdin, capture_output=True, cwd=ROOT,
                          timeout=120, env={**os.environ, **(env or {})})


def event_lines(result) -> list[dict]:
    assert result.returncode == 0, result.stderr
    return [json.loads(line) for line in result.stdout.decode().splitlines()]


@pytest.mark.parametrize("suffix, compress", [
    (".gz", gzip.compress), (".xz", lzma.compress), (".bz2", bz2.compress), ("", lambda b: b)])
def test_compressed_inputs_read_directly(tmp_path, suffix, compress):
    path = tmp_path / f"console.log{suffix}"
    path.write_bytes(compress(TEXT))
    events = event_lines(run("events", str(path)))
    assert [e["kind"] for e in events if e["kind"] == "kernel_panic"] == ["kernel_panic"]
    assert events[0]["source"] == str(path)


def test_zstd_input(tmp_path):
    zstandard = pytest.importorskip("zstandard")
    path = tmp_path / "console.log.zst"
    path.write_bytes(zstandard.ZstdCompressor().compress(TEXT))
    assert len(event_lines(run("events", str(path)))) == len(event_lines(run("events", str(QEMU_LOG))))


def test_stdin():
    events = event_lines(run("events", "-", stdin=TEXT))
    assert events[0]["source"] == "<stdin>" and any(e["kind"] == "kernel_panic" for e in events)


def test_kind_filter_and_plain_mode():
    only = event_lines(run("events", "--kind", "amd_vi", str(QEMU_LOG)))
    assert only and {e["kind"] for e in only} == {"amd_vi"}
    everything = event_lines(run("events", "--plain", str(QEMU_LOG)))
    covered = sum(len(e["text"]) for e in everything)
    assert covered == TEXT.count(b"\n")  # every input line is in exactly one event
    assert {e["kind"] for e in everything} >= {"message", "kernel_panic", "amd_vi"}


@pytest.mark.parametrize("make, expect", [
    (lambda p: None, "no such file"),
    (lambda p: p.mkdir(), "is a directory"),
    (lambda p: p.write_bytes(b"\x7fELF\x02\x01\x01" + bytes(2000)), "ELF file"),
    (lambda p: p.write_bytes(bytes(range(256)) * 400), "binary data"),
    (lambda p: p.write_bytes(b"\x1f\x8b\x08\x00garbage-not-gzip"), "cannot read"),
])
def test_bad_inputs_one_line_error(tmp_path, make, expect):
    path = tmp_path / "input"
    make(path)
    for command in ("events", "boots"):
        result = run(command, str(path))
        err = result.stderr.decode()
        assert result.returncode == 2
        assert expect in err and str(path) in err
        assert len(err.strip().splitlines()) == 1 and "Traceback" not in err


def test_unreadable_file(tmp_path):
    if os.geteuid() == 0:
        pytest.skip("root reads everything")
    path = tmp_path / "secret.log"
    path.write_bytes(TEXT)
    path.chmod(0)
    result = run("events", str(path))
    assert result.returncode == 2 and "permission denied" in result.stderr.decode()


def test_usage_error_exit_2():
    result = run("events")
    assert result.returncode == 2 and "Traceback" not in result.stderr.decode()


def test_inputs_are_never_modified(tmp_path):
    path = tmp_path / "console.log.gz"
    path.write_bytes(gzip.compress(TEXT))
    before = (hashlib.sha256(path.read_bytes()).hexdigest(), os.stat(path).st_mtime_ns)
    for command in (("events",), ("boots",), ("boots", "--json")):
        run(*command, str(path))
    assert (hashlib.sha256(path.read_bytes()).hexdigest(), os.stat(path).st_mtime_ns) == before


def test_garbage_text_and_huge_lines_do_not_fail(tmp_path):
    path = tmp_path / "odd.log"
    path.write_bytes(b"\x00\x1b[31mred\x1b[0m\r\n" + b"x" * 3_000_000 + b"\n[    1.000000] AMD-Vi: Completion-Wait loop timed out\n"
                     + b"\xff\xfe\xfd invalid utf-8\n")
    events = event_lines(run("events", str(path)))
    assert [(e["line"], e["message"]) for e in events] == [(3, "completion_wait_timeout")]


def test_boots_json_schema():
    result = run("boots", "--json", str(QEMU_LOG))
    boots = [json.loads(line) for line in result.stdout.decode().splitlines()]
    assert [b["schema"] for b in boots] == [3, 3]  # schema 3 since boots carry platform facts
    assert {"index", "first_line", "last_line", "release", "command_line", "role", "hardware", "ended"} <= set(boots[0])


def test_no_colour_when_piped():
    result = run("boots", str(QEMU_LOG))
    assert b"\x1b[" not in result.stdout


def test_closed_pipe_is_a_normal_end(tmp_path):
    """Regression: 'snp-triage events FILE | head' exited 2 with "internal error: BrokenPipeError"."""
    storm = tmp_path / "storm.log"
    line = "[   12.000000] iommu ivhd0: AMD-Vi: Event logged [IO_PAGE_FAULT device=0000:41:00.0 domain=0x0000 "
    storm.write_text("".join(f"{line}address=0x{i:x} flags=0x0000]\n" for i in range(200_000)))
    proc = subprocess.Popen([sys.executable, "-m", "triage", "events", str(storm)], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, cwd=ROOT)
    first = proc.stdout.readline()
    proc.stdout.close()  # the reader goes away, as 'head -1' does
    stderr = proc.stderr.read()
    assert proc.wait(timeout=120) == 0
    assert json.loads(first)["kind"] == "iommu_event"
    assert stderr == b""


def test_progress_bar_only_on_a_terminal(tmp_path):
    """A slow input shows a progress bar on stderr when stderr is a terminal, nothing when piped or --quiet."""
    import pty
    import select

    storm = tmp_path / "storm.log"
    line = "[   12.000000] iommu ivhd0: AMD-Vi: Event logged [IO_PAGE_FAULT device=0000:41:00.0 domain=0x0000 "
    storm.write_text("".join(f"{line}address=0x{i:x} flags=0x0000]\n" for i in range(150_000)))

    def stderr_of(*args: str) -> bytes:
        leader, follower = pty.openpty()
        proc = subprocess.Popen([sys.executable, "-m", "triage", *args, str(storm)], stdout=subprocess.DEVNULL,
                                stderr=follower, cwd=ROOT, env={**os.environ, "COLUMNS": "100"})
        os.close(follower)
        out = b""
        while True:
            ready, _, _ = select.select([leader], [], [], 120)
            if not ready:
                break
            try:
                chunk = os.read(leader, 65536)
            except OSError:
                break
            if not chunk:
                break
            out += chunk
        proc.wait(timeout=120)
        os.close(leader)
        return out

    assert b"storm.log" in stderr_of("--fail-on", "never")  # the bar names the input
    assert stderr_of("--fail-on", "never", "--quiet") == b""
    piped = run("--fail-on", "never", "--format", "json", str(storm))
    assert piped.returncode == 0 and piped.stderr == b""
