"""Read inputs: files, stdin, compressed captures; refuse what is not text.

Inputs are opened read-only and streamed in blocks, so memory does not grow
with the size of a capture. Decompression happens on the fly.
"""
from __future__ import annotations

import bz2
import gzip
import io
import lzma
import os
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from typing import BinaryIO

BLOCK_SIZE = 4 << 20
SNIFF_SIZE = 64 << 10

_MAGIC = {
    b"\x1f\x8b": "gzip",
    b"\xfd7zXZ\x00": "xz",
    b"BZh": "bzip2",
    b"\x28\xb5\x2f\xfd": "zstd",
}
_BINARY_MAGIC = {
    b"\x7fELF": "an ELF file (a vmcore or vmlinux? use 'snp-triage vmcore')",
    b"KDUMP   ": "a kdump-compressed vmcore (use 'snp-triage vmcore')",
    b"makedumpfile\x00": "a makedumpfile flattened vmcore (use 'snp-triage vmcore')",
    b"PK\x03\x04": "a zip archive (unpack it first)",
    b"%PDF": "a PDF document",
}


from ..errors import InputError


@dataclass(frozen=True)
class Input:
    """One input: its display name and how to open it."""

    name: str
    path: str | None  # None for stdin (or for in-memory data)
    data: bytes | None = None  # text handed over by a library caller

    @classmethod
    def from_arg(cls, arg: str) -> "Input":
        return cls("<stdin>", None) if arg == "-" else cls(arg, arg)

    @classmethod
    def from_text(cls, text: str | bytes, name: str = "<text>") -> "Input":
        return cls(name, None, text.encode("utf-8", "surrogateescape") if isinstance(text, str) else text)


def _decompressor(kind: str, raw: BinaryIO, name: str) -> BinaryIO:
    if kind == "gzip":
        return gzip.GzipFile(fileobj=raw, mode="rb")
    if kind == "xz":
        return lzma.LZMAFile(raw, mode="rb")
    if kind == "bzip2":
        return bz2.BZ2File(raw, mode="rb")
    try:
        import zstandard
    except ImportError:
        raise InputError(f"{name}: zstd-compressed, but the 'zstandard' package is not installed") from None
    return zstandard.ZstdDecompressor().stream_reader(raw, read_across_frames=True)


def open_input(item: Input) -> BinaryIO:
    """A binary stream of the (decompressed) capture."""
    name = item.name
    if item.data is not None:
        raw: BinaryIO = io.BytesIO(item.data)
    elif item.path is None:
        raw = sys.stdin.buffer
    else:
        if os.path.isdir(item.path):
            raise InputError(f"{name}: is a directory, not a console capture")
        try:
            raw = open(item.path, "rb")  # noqa: SIM115 - closed by the caller
        except FileNotFoundError:
            raise InputError(f"{name}: no such file") from None
        except PermissionError:
            raise InputError(f"{name}: permission denied") from None
        except OSError as exc:
            raise InputError(f"{name}: cannot open: {exc.strerror}") from None
    peekable = io.BufferedReader(raw, buffer_size=SNIFF_SIZE) if not hasattr(raw, "peek") else raw
    head = peekable.peek(16)[:16]
    for magic, kind in _MAGIC.items():
        if head.startswith(magic):
            return _decompressor(kind, peekable, name)
    return peekable


def _binary_reason(sample: bytes) -> str | None:
    for magic, what in _BINARY_MAGIC.items():
        if sample.startswith(magic):
            return what
    if not sample:
        return None
    # Console captures carry stray NULs, escape codes and broken UTF-8 -- but
    # not mostly NULs, and only a sprinkling of other control bytes.
    nul = sample.count(0)
    control = sum(1 for b in sample if 0 < b < 9 or 13 < b < 32 and b != 27)
    undecodable = len(sample) - len(sample.decode("utf-8", "ignore").encode("utf-8"))
    if nul > len(sample) * 0.5 or control > len(sample) * 0.05 or undecodable > len(sample) * 0.3:
        return "binary data, not a text console capture"
    return None


def read_blocks(item: Input) -> Iterator[bytes]:
    """The capture as blocks of whole lines (the last one may lack a newline)."""
    stream = open_input(item)
    try:
        carry = b""
        first = True
        while True:
            try:
                chunk = stream.read(BLOCK_SIZE)
            except Exception as exc:  # zlib/lzma/bz2/zstd each raise their own kind
                raise InputError(f"{item.name}: cannot read: {_describe(exc)}") from None
            if first:
                first = False
                reason = _binary_reason(chunk[:SNIFF_SIZE])
                if reason:
                    raise InputError(f"{item.name}: {reason}")
            if not chunk:
                break
            data = carry + chunk
            cut = data.rfind(b"\n") + 1
            if cut == 0:
                # a giant line with no newline yet: hand it over whole, the
                # scanner truncates it; never hold more than a few blocks
                if len(data) < 4 * BLOCK_SIZE:
                    carry = data
                    continue
                cut = len(data)
            carry = data[cut:]
            yield data[:cut]
        if carry:
            yield carry
    finally:
        if stream is not sys.stdin.buffer:
            stream.close()


def _describe(exc: BaseException) -> str:
    text = getattr(exc, "strerror", None) or str(exc) or type(exc).__name__
    return text.splitlines()[0]
