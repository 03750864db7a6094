#!/usr/bin/env python3
"""(Re)build the seed corpus under tests/fuzz/corpus/ and tests/fuzz/rules_capture.log.

Deterministic: the seeds are cut from samples/*, rules/fixtures/*/*.log and
rules/*.yaml, plus a few hand-made inputs and tiny ELF cores built here.
Inputs that atheris found and that were kept on purpose live in the same
folders with a ``found-`` prefix; this script leaves those alone.

    .venv/bin/python tests/fuzz/make_corpus.py
"""
from __future__ import annotations

import gzip
import hashlib
import struct
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent.parent
CORPUS = HERE / "corpus"
MAX_LINES = 40


def _cut(data: bytes, start: int = 0, lines: int = MAX_LINES) -> bytes:
    return b"".join(data.splitlines(keepends=True)[start:start + lines])


def _put(target: str, name: str, data: bytes) -> None:
    folder = CORPUS / target
    folder.mkdir(parents=True, exist_ok=True)
    (folder / name).write_bytes(data)


# ---------------------------------------------------------------- console captures

HAND_MADE = {
    # a report whose lines carry every kind of prefix the envelope knows
    "prefixes.log": (b"<4>[  767.964958][ T1042] AMD-Vi: Completion-Wait loop timed out\n"
                     b"> [    1.000000] Kernel panic - not syncing: quoted\n"
                     b"Jan 30 14:55:04 host kernel: [    2.000000] BUG: unable to handle page fault for address: "
                     b"ffff888000000000\n"
                     b"{\"MESSAGE\":\"AMD-Vi: Completion-Wait loop timed out\",\"_BOOT_ID\":\"x\","
                     b"\"__REALTIME_TIMESTAMP\":\"1\",\"_TRANSPORT\":\"kernel\"}\n"
                     b"-- Boot 0123abcd --\n"
                     b">>> EMERGENCY [    0.000000] Linux version 6.1.0 (x@y) #1\n"),
    "escapes.log": (b"\x1b[31m[    1.000000] AMD-Vi: Event logged [IO_PAGE_FAULT device=0000:02:00.0 domain=0x0000 "
                    b"address=0x1000 flags=0x0000]\x1b[0m\r\n[    1.1\x00] Kernel panic - not syncing: x\r\n"
                    b"\xff\xfe[    2.000000] WARNING: CPU: 0 PID: 1 at foo.c:1 bar+0x1/0x2\n"),
    "markup.log": (b"[    0.000000] Linux version 6.1.0-[bold]x[/bold] (x@y) #1\n"
                   b"[    1.000000] Kernel panic - not syncing: [red]boom[/red] :fire:\n"),
    "torn.log": (b"[    1.000000] Kernel panic - not syncing: [    1.000001] AMD-Vi: Completion-Wait loop timed out\n"
                 b"d out\n[    0.000000] Linux version 6.1.0 (x@y) #1\n[    0.000000] Command line: elfcorehdr=1K\n"),
    "numbers.log": (b"[99999999999.999999] AMD-Vi: Event logged [IO_PAGE_FAULT device=ffff:ff:1f.7 domain=0xffffffff "
                    b"address=0xffffffffffffffffffffffff flags=0x1e999]\n"
                    b"[    1.000000] ccp 0000:23:00.1: SEV API:1e999.nan build:inf\n"),
    "nolf.log": b"[    1.000000] Kernel panic - not syncing: no newline at the end",
}


def _captures() -> dict[str, bytes]:
    out: dict[str, bytes] = {}
    seen: set[str] = set()
    for path in sorted((ROOT / "rules" / "fixtures").glob("*/*.log")):
        data = _cut(path.read_bytes())
        digest = hashlib.sha1(data).hexdigest()
        if digest in seen:
            continue
        seen.add(digest)
        out[f"{path.parent.name}--{path.stem}.log"] = data
    lkml = (ROOT / "samples" / "lkml-2024-09-09-snp-kdump-thread.txt").read_bytes()
    out["lkml-thread-a.log"] = _cut(lkml, 0)
    out["lkml-thread-b.log"] = _cut(lkml, 60, 60)
    qemu = (ROOT / "samples" / "qemu-amd-iommu-kdump-6.1.log").read_bytes()
    for start in (0, 395, 420, 600, 900):
        out[f"qemu-6.1-{start}.log"] = _cut(qemu, start)
    out.update(HAND_MADE)
    return out


# ---------------------------------------------------------------- rule files

HAND_MADE_RULES = {
    "minimal.yaml": (b"id: FUZZ-MINIMAL\ntitle: t\nseverity: info\nsummary: s\nremedy: r\n"
                     b"match:\n  sequence:\n    - kind: amd_vi\n      regex: 'timed (out|in)'\n"),
    "list.yaml": (b"- id: FUZZ-A\n  title: '[bold]a[/bold] :fire:'\n  severity: warning\n  summary: s\n  remedy: r\n"
                  b"  match:\n    all:\n      - kind: panic\n        fields: {title: {matches: 'a+b'}}\n"
                  b"- id: FUZZ-B\n  title: b\n  severity: error\n  summary: s\n  remedy: r\n"
                  b"  match:\n    sequence:\n      - kind: [amd_vi, panic]\n        at_least: 2\n        within: 5\n"),
    "anchors.yaml": b"a: &x [*x]\n",
    "tags.yaml": b"id: !!python/object:os.system x\n",
}


def _rule_files() -> dict[str, bytes]:
    out = {p.name: p.read_bytes() for p in sorted((ROOT / "rules").glob("*.yaml"))}
    out.update(HAND_MADE_RULES)
    return out


# ---------------------------------------------------------------- vmcores

def _note(name: bytes, ntype: int, desc: bytes) -> bytes:
    def pad(b: bytes) -> bytes:
        return b + b"\0" * (-len(b) % 4)
    name += b"\0"
    return struct.pack("<III", len(name), len(desc), ntype) + pad(name) + pad(desc)


def elf_core(notes: bytes, page: bytes = b"\0" * 256, paddr: int = 0x1000000,
             vaddr: int = 0xFFFFFFFF81000000) -> bytes:
    """An x86_64 ELF core: header, PT_NOTE, one PT_LOAD of ``page``."""
    ehsize, phsize = 64, 56
    notes_off = ehsize + 2 * phsize
    load_off = notes_off + len(notes)
    load_off += -load_off % 16
    header = struct.pack("<4sBBBBB7xHHIQQQIHHHHHH", b"\x7fELF", 2, 1, 1, 0, 0, 4, 62, 1, 0, ehsize, 0, 0,
                         ehsize, phsize, 2, 0, 0, 0)
    ph_note = struct.pack("<IIQQQQQQ", 4, 0, notes_off, 0, 0, len(notes), len(notes), 0)
    ph_load = struct.pack("<IIQQQQQQ", 1, 7, load_off, vaddr, paddr, len(page), len(page), 4096)
    out = header + ph_note + ph_load + notes
    return out + b"\0" * (load_off - len(out)) + page


VMCOREINFO = (b"OSRELEASE=6.1.0-fuzz\nPAGESIZE=4096\nSYMBOL(swapper_pg_dir)=ffffffff82000000\n"
              b"SYMBOL(_stext)=ffffffff81000000\nKERNELOFFSET=0\nNUMBER(phys_base)=0\n"
              b"NUMBER(pgtable_l5_enabled)=0\nCRASHTIME=1700000000\n")


def _vmcores() -> dict[str, bytes]:
    prstatus = _note(b"CORE", 1, b"\0" * 336)  # NT_PRSTATUS of x86_64
    return {
        "kernel-core.elf": elf_core(_note(b"VMCOREINFO", 0, VMCOREINFO)),
        "kernel-core-prstatus.elf": elf_core(prstatus + _note(b"VMCOREINFO", 0, VMCOREINFO)),
        "process-core.elf": elf_core(prstatus),
        "kdump-header.bin": b"KDUMP   " + struct.pack("<I", 6) + b"\0" * 52,
        "flattened.bin": b"makedumpfile\0\0\0\0" + b"\0" * 48,
        "gzip-text.gz": gzip.compress(b"not a vmcore\n", mtime=0),
    }


# ---------------------------------------------------------------- the capture fuzzed rules run on

def rules_capture() -> bytes:
    """A first kernel that panics, then a kdump kernel with CWB timeouts, plus long event texts."""
    fixtures = ROOT / "rules" / "fixtures"
    first = (fixtures / "SNP-PANIC-SHUTDOWN-FAILED" / "positive.log").read_bytes()
    kdump = (fixtures / "SNP-KDUMP-CWB-TIMEOUT" / "positive-console.log").read_bytes()
    long_lines = (b"[    2.700000] AMD-Vi: " + b"(" * 1500 + b"\n"
                  b"[    2.710000] ccp 0000:23:00.1: " + b"a" * 3000 + b"!\n"
                  b"[    2.720000] WARNING: CPU: 0 PID: 1 at " + b"x " * 1200 + b"\n")
    lines = kdump.splitlines(keepends=True)
    return first + b"".join(lines[:12]) + long_lines + b"".join(lines[12:])


def main() -> int:
    for target, files in (("ingest", _captures()), ("report", _captures()), ("rules", _rule_files()),
                          ("vmcore", _vmcores())):
        folder = CORPUS / target
        if folder.exists():
            for old in folder.iterdir():
                if not old.name.startswith("found-"):
                    old.unlink()
        for name, data in files.items():
            _put(target, name, data)
    (HERE / "rules_capture.log").write_bytes(rules_capture())
    total = sum(p.stat().st_size for p in CORPUS.rglob("*") if p.is_file())
    print(f"corpus: {sum(1 for p in CORPUS.rglob('*') if p.is_file())} files, {total} bytes")
    return 0


if __name__ == "__main__":
    sys.exit(main())
