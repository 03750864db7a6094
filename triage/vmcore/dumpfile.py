"""Dump files as they arrive: makedumpfile's flattened format reassembled, damage found before drgn reads.

kdump streams its dump with ``makedumpfile -F`` when the target is ssh or a raw disk (kdump-utils
``kdump.sh`` ``dump_ssh()``/``dump_raw()``; the result is ``vmcore.flat``). drgn cannot read that
format, so it is reassembled here, streaming, into a sparse temporary file: memory stays at one
copy block whatever the dump's size. The layout (makedumpfile ``makedumpfile.h``,
``write_start_flat_header()``/``write_buffer()``/``rearrange_dumpdata()``; QEMU's ``dump.c`` writes the
same): a 4096-byte header starting with the 16-byte signature ``makedumpfile`` (NUL padded) and
two big-endian int64s, type 1 and version 1; then records, each a big-endian int64 offset and
int64 size followed by that many bytes to be written at that offset of the reassembled dump; an
offset and size of -1 end the stream.

Damage found here does not stop the stage: a flattened stream that ends early, or an ELF dump
shorter than its program headers say, is read as far as it goes and the reason travels with the
facts (``VmcoreFacts.partial``).
"""
from __future__ import annotations

import os
import shutil
import struct
import tempfile
from dataclasses import dataclass

from ..errors import VmcoreError

__all__ = ["FLAT_HEADER_SIZE", "FLATTENED_SIGNATURE", "Reassembled", "elf_shortfall", "is_flattened",
           "reassemble", "reassemble_to_temp", "write_flattened"]

#: First bytes of makedumpfile's flattened format (``MAKEDUMPFILE_SIGNATURE``).
FLATTENED_SIGNATURE = b"makedumpfile"
#: ``MAX_SIZE_MDF_HEADER``: the header block before the first record.
FLAT_HEADER_SIZE = 4096
_TYPE_FLAT_HEADER = 1
_END_FLAG = -1
_RECORD = struct.Struct(">qq")  # struct makedumpfile_data_header { int64_t offset, buf_size; } (big-endian)
_COPY = 4 << 20
_TMP_ENV = "SNP_TRIAGE_TMPDIR"


@dataclass(frozen=True)
class Reassembled:
    """What reassembly produced."""

    size: int  # bytes of the reassembled dump (its highest written offset)
    records: int
    partial: str | None  # why the stream stopped before its end marker (None: complete)


def is_flattened(head: bytes) -> bool:
    """Whether a file's first bytes are makedumpfile's flattened header."""
    return head.startswith(FLATTENED_SIGNATURE)


def reassemble(source: str, target_fd: int) -> Reassembled:
    """Write the flattened dump ``source`` into ``target_fd`` as the dump it stands for, streaming.

    :raises VmcoreError: the header is not makedumpfile's flattened header
    """
    with open(source, "rb") as src:
        header = src.read(FLAT_HEADER_SIZE)
        if len(header) < 32 or not is_flattened(header):
            raise VmcoreError(f"{source}: not a makedumpfile flattened dump (no 'makedumpfile' header)")
        kind, version = struct.unpack_from(">qq", header, 16)
        if kind != _TYPE_FLAT_HEADER:
            raise VmcoreError(f"{source}: flattened header of unknown type {kind} (version {version})")
        if len(header) < FLAT_HEADER_SIZE:
            return Reassembled(0, 0, f"flattened dump ends inside its {FLAT_HEADER_SIZE}-byte header")
        size = records = 0
        while True:
            raw = src.read(_RECORD.size)
            if len(raw) < _RECORD.size:
                return Reassembled(size, records, f"flattened dump ends early after {records} records (no end "
                                                  f"marker): {src.tell()} bytes, the dump is incomplete")
            offset, length = _RECORD.unpack(raw)
            if offset == _END_FLAG and length == _END_FLAG:
                return Reassembled(size, records, None)
            if offset < 0 or length <= 0:
                return Reassembled(size, records, f"flattened dump record {records + 1} is damaged "
                                                  f"(offset {offset}, size {length})")
            done = 0
            while done < length:
                chunk = src.read(min(_COPY, length - done))
                if not chunk:
                    size = max(size, offset + done)
                    return Reassembled(size, records, f"flattened dump ends inside record {records + 1} "
                                                      f"({done} of {length} bytes at offset {offset:#x})")
                os.pwrite(target_fd, chunk, offset + done)
                done += len(chunk)
            records += 1
            size = max(size, offset + length)


def reassemble_to_temp(source: str) -> tuple[str, Reassembled]:
    """Reassemble into a new temporary file (``$SNP_TRIAGE_TMPDIR``, else the system's); the caller
    removes it. Refused up front when the directory has less free space than the flattened file."""
    folder = os.environ.get(_TMP_ENV) or tempfile.gettempdir()
    need = os.path.getsize(source)
    free = shutil.disk_usage(folder).free
    if free < need:
        raise VmcoreError(f"{source}: reassembling the flattened dump needs about {need >> 20} MiB in {folder} "
                          f"({free >> 20} MiB free); set {_TMP_ENV} to a larger directory, or run "
                          f"'makedumpfile -R OUT < {source}' and read OUT")
    fd, path = tempfile.mkstemp(prefix="snp-triage-", suffix=".vmcore", dir=folder)
    try:
        result = reassemble(source, fd)
    except BaseException:
        os.close(fd)
        os.unlink(path)
        raise
    os.close(fd)
    return path, result


def write_flattened(source: str, target: str, block: int = 1 << 20) -> None:
    """Write ``source`` in the flattened format (records of ``block`` bytes; blocks of zeros inside the
    file are left out, as holes, the last block never). Used by tests and to make samples; the reverse
    of :func:`reassemble`."""
    size = os.path.getsize(source)
    with open(source, "rb") as src, open(target, "wb") as out:
        header = FLATTENED_SIGNATURE.ljust(16, b"\0") + struct.pack(">qq", _TYPE_FLAT_HEADER, 1)
        out.write(header.ljust(FLAT_HEADER_SIZE, b"\0"))
        offset = 0
        while chunk := src.read(block):
            if chunk.strip(b"\0") or offset + len(chunk) == size:
                out.write(_RECORD.pack(offset, len(chunk)) + chunk)
            offset += len(chunk)
        out.write(_RECORD.pack(_END_FLAG, _END_FLAG))


def _amount(size: int) -> str:
    return f"{size >> 20} MiB" if size >= 1 << 20 else f"{-(-size // 1024)} KiB"


def elf_shortfall(path: str) -> str | None:
    """Why an ELF dump is incomplete: its PT_LOAD segments reach past the end of the file (a copy cut
    short, a disk that filled up). None when the file holds every segment, or is not 64-bit ELF."""
    try:
        with open(path, "rb") as handle:
            ident = handle.read(64)
            if len(ident) < 64 or ident[:4] != b"\x7fELF" or ident[4] != 2:
                return None
            endian = "<" if ident[5] == 1 else ">"
            phoff, = struct.unpack_from(endian + "Q", ident, 32)
            phentsize, phnum = struct.unpack_from(endian + "HH", ident, 54)
            handle.seek(phoff)
            table = handle.read(phentsize * phnum)
            size = os.fstat(handle.fileno()).st_size
    except OSError:
        return None
    end = 0
    for i in range(len(table) // phentsize if phentsize else 0):
        p_type, _, p_offset, _, _, p_filesz = struct.unpack_from(endian + "IIQQQQ", table, i * phentsize)
        if p_type == 1:  # PT_LOAD
            end = max(end, p_offset + p_filesz)
    if end > size:
        return (f"the ELF dump is truncated: {size} of the {end} bytes its program headers describe "
                f"({_amount(end - size)} of memory missing)")
    return None
