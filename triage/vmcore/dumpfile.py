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

kdump-tools (Debian/Ubuntu ``kdump-config``) always writes its dump this way (``MAKEDUMP_ARGS``
defaults to ``-F -c -d 31`` and ``-F`` is added when missing) and pipes it through gzip, bzip2, xz
or lz4 when ``KDUMP_COMPRESSION`` is set: such a file is decompressed while it is reassembled.

Damage found here does not stop the stage: a flattened stream that ends early, or an ELF dump
shorter than its program headers say, is read as far as it goes and the reason travels with the
facts (``VmcoreFacts.partial``).
"""
from __future__ import annotations

import bz2
import gzip
import lzma
import os
import shutil
import struct
import tempfile
import zlib
from dataclasses import dataclass
from typing import BinaryIO

from ..errors import VmcoreError

__all__ = ["FLAT_HEADER_SIZE", "FLATTENED_SIGNATURE", "Reassembled", "compression_of", "elf_shortfall",
           "is_flattened", "reassemble", "unpack_to_temp", "write_flattened"]

#: First bytes of makedumpfile's flattened format (``MAKEDUMPFILE_SIGNATURE``).
FLATTENED_SIGNATURE = b"makedumpfile"
#: ``MAX_SIZE_MDF_HEADER``: the header block before the first record.
FLAT_HEADER_SIZE = 4096
_TYPE_FLAT_HEADER = 1
_END_FLAG = -1
_RECORD = struct.Struct(">qq")  # struct makedumpfile_data_header { int64_t offset, buf_size; } (big-endian)
_COPY = 4 << 20
_TMP_ENV = "SNP_TRIAGE_TMPDIR"
_COMPRESSED = {b"\x1f\x8b": "gzip", b"BZh": "bzip2", b"\xfd7zXZ\x00": "xz", b"\x04\x22\x4d\x18": "lz4"}


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
        return _reassemble(_Stream(src, None), target_fd, source)


class _Stream:
    """A (decompressing) stream whose damage ends it: reads after a decompression error return b""
    and ``damage`` says what happened, so a cut .xz is read up to the cut like a cut file."""

    def __init__(self, raw: BinaryIO, kind: str | None) -> None:
        self._raw, self.kind = raw, kind
        self.damage: str | None = None
        self.position = 0  # bytes handed out
        self._pending = b""

    def peek(self, size: int) -> bytes:
        """The next ``size`` bytes, left to be read again."""
        if len(self._pending) < size:
            self._pending += self._read(size - len(self._pending))
        return self._pending[:size]

    def read(self, size: int) -> bytes:
        if self._pending:
            data, self._pending = self._pending[:size], self._pending[size:]
            if len(data) < size:
                data += self._read(size - len(data))
        else:
            data = self._read(size)
        self.position += len(data)
        return data

    def _read(self, size: int) -> bytes:
        if self.damage:
            return b""
        try:
            return self._raw.read(size)
        except (EOFError, OSError, lzma.LZMAError, zlib.error, ValueError) as exc:
            self.damage = f"the {self.kind} stream is damaged or ends early after {self.position} bytes ({exc})"
            return b""


def _reassemble(src: _Stream, target_fd: int, name: str) -> Reassembled:
    header = src.read(FLAT_HEADER_SIZE)
    if len(header) < 32 or not is_flattened(header):
        raise VmcoreError(f"{name}: not a makedumpfile flattened dump (no 'makedumpfile' header)")
    kind, version = struct.unpack_from(">qq", header, 16)
    if kind != _TYPE_FLAT_HEADER:
        raise VmcoreError(f"{name}: flattened header of unknown type {kind} (version {version})")
    if len(header) < FLAT_HEADER_SIZE:
        return Reassembled(0, 0, _why(src, f"flattened dump ends inside its {FLAT_HEADER_SIZE}-byte header"))
    size = records = 0
    while True:
        raw = src.read(_RECORD.size)
        if len(raw) < _RECORD.size:
            return Reassembled(size, records, _why(src, f"flattened dump ends early after {records} records (no "
                                                        f"end marker): {src.position} bytes, the dump is incomplete"))
        offset, length = _RECORD.unpack(raw)
        if offset == _END_FLAG and length == _END_FLAG:
            return Reassembled(size, records, src.damage)
        if offset < 0 or length <= 0:
            return Reassembled(size, records, f"flattened dump record {records + 1} is damaged "
                                              f"(offset {offset}, size {length})")
        done = 0
        while done < length:
            chunk = src.read(min(_COPY, length - done))
            if not chunk:
                size = max(size, offset + done)
                return Reassembled(size, records, _why(src, f"flattened dump ends inside record {records + 1} "
                                                            f"({done} of {length} bytes at offset {offset:#x})"))
            os.pwrite(target_fd, chunk, offset + done)
            done += len(chunk)
        records += 1
        size = max(size, offset + length)


def _why(src: _Stream, what: str) -> str:
    return f"{src.damage}: {what}" if src.damage else what


def _copy(src: _Stream, target_fd: int) -> Reassembled:
    """A compressed ELF or kdump-compressed dump: decompressed as it is."""
    size = 0
    while chunk := src.read(_COPY):
        os.pwrite(target_fd, chunk, size)
        size += len(chunk)
    return Reassembled(size, 0, src.damage)


def compression_of(head: bytes) -> str | None:
    """gzip, bzip2, xz or lz4 when a dump file starts with that format's magic (kdump-tools'
    KDUMP_COMPRESSION pipes makedumpfile's flattened output through one of them)."""
    return next((kind for magic, kind in _COMPRESSED.items() if head.startswith(magic)), None)


def _open_stream(source: str, raw: BinaryIO) -> _Stream:
    kind = compression_of(raw.read(8))
    raw.seek(0)
    if kind is None:
        return _Stream(raw, None)
    if kind == "lz4":
        try:
            import lz4.frame  # type: ignore[import-not-found]
        except ImportError:
            raise VmcoreError(f"{source}: lz4-compressed dump; run 'lz4 -d {source} OUT' and read OUT "
                              "(or install the 'lz4' package)") from None
        return _Stream(lz4.frame.LZ4FrameFile(raw), kind)
    opener = {"gzip": gzip.GzipFile, "bzip2": bz2.BZ2File, "xz": lzma.LZMAFile}[kind]
    return _Stream(opener(fileobj=raw) if kind == "gzip" else opener(raw), kind)


def unpack_to_temp(source: str) -> tuple[str, Reassembled]:
    """The dump drgn can read, in a new temporary file (``$SNP_TRIAGE_TMPDIR``, else the system's) the
    caller removes: a flattened dump reassembled, a compressed one (gzip, bzip2, xz, lz4: kdump-tools)
    decompressed and, if flattened inside, reassembled. Streaming; refused up front when the directory
    has less free space than the file itself, and in one line when it fills up."""
    folder = os.environ.get(_TMP_ENV) or tempfile.gettempdir()
    need = os.path.getsize(source)
    free = shutil.disk_usage(folder).free
    hint = (f"set {_TMP_ENV} to a larger directory, or run 'makedumpfile -R OUT < {source}' (after "
            "decompressing it) and read OUT")
    if free < need:
        raise VmcoreError(f"{source}: unpacking the dump needs at least {need >> 20} MiB in {folder} "
                          f"({free >> 20} MiB free); {hint}")
    fd, path = tempfile.mkstemp(prefix="snp-triage-", suffix=".vmcore", dir=folder)
    try:
        with open(source, "rb") as raw:
            stream = _open_stream(source, raw)
            flattened = is_flattened(stream.peek(len(FLATTENED_SIGNATURE)))
            result = _reassemble(stream, fd, source) if flattened else _copy(stream, fd)
    except OSError as exc:
        os.close(fd)
        os.unlink(path)
        raise VmcoreError(f"{source}: cannot unpack the dump into {folder}: {exc.strerror or exc}; {hint}") from None
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
