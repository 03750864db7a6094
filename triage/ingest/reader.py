"""Read inputs: files, stdin, compressed captures; refuse what is not text.

Inputs are opened read-only and streamed in blocks, so memory does not grow
with the size of a capture. Decompression happens on the fly.
"""
from __future__ import annotations

import bz2
import io
import lzma
import os
import sys
import tarfile
import zlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import BinaryIO

from ..errors import InputError, TruncatedInput

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


_CONTROL = {c: f"\\x{c:02x}" for c in range(32)} | {ord("\n"): "\\n", ord("\t"): "\\t", ord("\r"): "\\r", 127: "\\x7f"}


def display_name(path: str) -> str:
    """A file name as reports show it: undecodable bytes as \\xff, control characters escaped
    (a newline in a name would break a table), everything else as it is."""
    text = path.encode("utf-8", "surrogateescape").decode("utf-8", "backslashreplace")
    return text.translate(_CONTROL)


@dataclass(frozen=True)
class Input:
    """One input: its display name and how to open it."""

    name: str
    path: str | None  # None for stdin (or for in-memory data)
    data: bytes | None = None  # text handed over by a library caller
    #: a file inside the tar archive at ``path`` (a sosreport or a packed crash directory), read
    #: straight out of the archive (decompressed on the fly), never extracted to disk
    member: str | None = None
    #: told (bytes of the input read so far, its size or None) after each block: a progress bar
    progress: Callable[[int, int | None], None] | None = field(default=None, compare=False, repr=False)

    @classmethod
    def from_arg(cls, arg: str) -> "Input":
        """A path as given on the command line ('-' is stdin); the name shown is :func:`display_name`."""
        return cls("<stdin>", None) if arg == "-" else cls(display_name(arg), arg)

    @classmethod
    def from_member(cls, archive: str, member: str) -> "Input":
        """One file inside a tar archive; shown as ``archive:member``."""
        return cls(f"{display_name(archive)}:{display_name(member)}", archive, member=member)

    @classmethod
    def from_text(cls, text: str | bytes, name: str = "<text>") -> "Input":
        return cls(name, None, text.encode("utf-8", "surrogateescape") if isinstance(text, str) else text)


class _Zlib:
    """gzip members through zlib, with the decompressor API of lzma and bz2."""

    def __init__(self) -> None:
        self._d = zlib.decompressobj(16 + zlib.MAX_WBITS)
        self._tail = b""

    @property
    def needs_input(self) -> bool:
        return not self._tail

    @property
    def eof(self) -> bool:
        return self._d.eof

    @property
    def unused_data(self) -> bytes:
        return self._d.unused_data

    def decompress(self, data: bytes, max_length: int) -> bytes:
        out = self._d.decompress(self._tail + data, max_length)
        self._tail = self._d.unconsumed_tail
        return out


class _Zstd:
    """zstd frames with bounded output: input is fed a little at a time (a zstd bomb
    expands one RLE block of 4 bytes into 128 KiB, so 1 KiB of input stays under 32 MiB)."""

    _FEED = 1024

    def __init__(self) -> None:
        try:
            import zstandard
        except ImportError:
            raise InputError("zstd-compressed, but the 'zstandard' package is not installed") from None
        self._d = zstandard.ZstdDecompressor().decompressobj()
        self._buffer = b""

    @property
    def needs_input(self) -> bool:
        return not self._buffer

    @property
    def eof(self) -> bool:
        return self._d.eof

    @property
    def unused_data(self) -> bytes:
        return self._d.unused_data + self._buffer if self._d.eof else b""

    def decompress(self, data: bytes, max_length: int) -> bytes:
        self._buffer += data
        piece, self._buffer = self._buffer[:self._FEED], self._buffer[self._FEED:]
        return self._d.decompress(piece)


_DECODERS = {"gzip": _Zlib, "xz": lambda: lzma.LZMADecompressor(lzma.FORMAT_XZ), "bzip2": bz2.BZ2Decompressor,
             "zstd": _Zstd}
_MAGIC_OF = {kind: magic for magic, kind in _MAGIC.items()}
_IN_CHUNK = 256 << 10


class _Decompressed(io.RawIOBase):
    """A compressed stream read in bounded pieces, refusing what ends early or carries garbage.

    gzip, xz, bzip2 and zstd are treated alike (Python's own readers differ: a
    truncated zstd stream or xz/bz2 followed by garbage read as if whole).  Several
    concatenated streams are one capture; NUL padding after the last is allowed.
    """

    def __init__(self, raw: BinaryIO, kind: str, name: str) -> None:
        super().__init__()
        self._raw, self._kind, self._name = raw, kind, name
        self._dec = _DECODERS[kind]()
        self._pending = b""
        self._fed = False
        self._done = False
        self.produced = 0

    def readable(self) -> bool:
        return True

    def _fail(self, what: str) -> TruncatedInput:
        return TruncatedInput(f"{self._name}: cannot read all of it: {what} after {self.produced} bytes of text",
                              self.produced)

    def read(self, size: int = -1) -> bytes:
        limit = size if size and size > 0 else BLOCK_SIZE
        while not self._done:
            if self._dec.eof:  # what follows a stream is looked at once its text was handed out
                self._next_stream()
                continue
            if self._dec.needs_input and not self._pending:
                self._pending = self._raw.read(_IN_CHUNK)
                if not self._pending:
                    self._done = True
                    if self._fed:
                        raise self._fail(f"{self._kind} data ends early (truncated)")
                    return b""
            data, self._pending = self._pending, b""
            self._fed = self._fed or bool(data)
            try:
                out = self._dec.decompress(data, limit)
            except Exception as exc:  # zlib/lzma/bz2/zstd each raise their own kind
                self._done = True
                raise self._fail(f"corrupt {self._kind} data ({_describe(exc)})") from None
            if out:
                self.produced += len(out)
                return out
        return b""

    def _next_stream(self) -> None:
        rest = self._dec.unused_data + self._pending
        while len(rest) < 8:
            more = self._raw.read(_IN_CHUNK)
            if not more:
                break
            rest += more
        if not rest:
            self._done = True
            return
        if rest.startswith(_MAGIC_OF[self._kind]):
            self._dec, self._pending, self._fed = _DECODERS[self._kind](), rest, False
            return
        while not rest.strip(b"\0"):  # padding: only NUL bytes may follow
            rest = self._raw.read(_IN_CHUNK)
            if not rest:
                self._done = True
                return
        self._done = True
        raise self._fail(f"data that is not {self._kind} follows the compressed stream")


def open_input(item: Input) -> BinaryIO:
    """A binary stream of the (decompressed) capture."""
    name = item.name
    if item.data is not None:
        raw: BinaryIO = io.BytesIO(item.data)
    elif item.path is None:
        raw = sys.stdin.buffer
    elif item.member is not None:
        raw = _open_member(item.path, item.member, name)
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
            try:
                return _Decompressed(peekable, kind, name)  # type: ignore[return-value]
            except InputError as exc:
                raise InputError(f"{name}: {exc}") from None
    return peekable


class _Member(io.RawIOBase):
    """A tar member as a raw stream that closes its archive with it."""

    def __init__(self, archive: tarfile.TarFile, stream: BinaryIO) -> None:
        super().__init__()
        self._archive, self._stream = archive, stream

    def readable(self) -> bool:
        return True

    def readinto(self, buffer) -> int:  # type: ignore[no-untyped-def]
        data = self._stream.read(len(buffer))
        buffer[:len(data)] = data
        return len(data)

    def tell(self) -> int:
        return self._stream.tell()

    def close(self) -> None:
        if not self.closed:
            self._stream.close()
            self._archive.close()
        super().close()


def _open_member(archive: str, member: str, name: str) -> BinaryIO:
    """A file inside a tar archive (any compression tarfile knows), streamed, never extracted."""
    try:
        tar = tarfile.open(archive, "r:*")  # noqa: SIM115 - closed with the member
    except FileNotFoundError:
        raise InputError(f"{name}: no such file") from None
    except (tarfile.TarError, OSError, EOFError) as exc:
        raise InputError(f"{name}: cannot open the archive: {_describe(exc)}") from None
    try:
        stream = tar.extractfile(member)
    except (KeyError, tarfile.TarError, OSError, EOFError) as exc:
        tar.close()
        raise InputError(f"{name}: not a file in the archive ({_describe(exc)})") from None
    if stream is None:
        tar.close()
        raise InputError(f"{name}: not a regular file in the archive")
    return _Member(tar, stream)  # type: ignore[return-value]


def _binary_reason(sample: bytes) -> str | None:
    """Why a capture's first block is not text, judged on its content without NUL bytes.

    Serial consoles often start with runs of NULs (line noise before the
    firmware speaks), so NULs alone never make a capture binary unless there
    is nothing else; escape codes and broken UTF-8 are normal, but not mostly.
    """
    for magic, what in _BINARY_MAGIC.items():
        if sample.startswith(magic):
            return what
    if not sample:
        return None
    text = sample.replace(b"\0", b"")[:SNIFF_SIZE]
    if not text:
        return "binary data (only NUL bytes), not a text console capture"
    control = sum(1 for b in text if 0 < b < 9 or 13 < b < 32 and b != 27)
    undecodable = len(text) - len(text.decode("utf-8", "ignore").encode("utf-8"))
    if control > len(text) * 0.05 or undecodable > len(text) * 0.3:
        return "binary data, not a text console capture"
    return None


def _line_breaks(data: bytes) -> bytes:
    """CRLF and a bare CR are line breaks (a CR-only capture is many lines, not one)."""
    if b"\r" in data:
        data = data.replace(b"\r\n", b"\n").replace(b"\r", b"\n")
    return data


def read_blocks(item: Input) -> Iterator[bytes]:
    """The capture as blocks of whole lines (the last one may lack a newline).

    Line endings are normalised to LF here (CRLF and bare CR), so every later
    stage counts the lines a person sees.
    """
    stream = open_input(item)
    size = _size(item) if item.progress is not None else None
    try:
        carry = b""
        first = True
        while True:
            if item.progress is not None:
                item.progress(_position(stream), size)
            try:
                chunk = stream.read(BLOCK_SIZE)
            except InputError:
                raise
            except Exception as exc:  # zlib/lzma/bz2/zstd each raise their own kind
                raise InputError(f"{item.name}: cannot read: {_describe(exc)}") from None
            if first:
                first = False
                reason = _binary_reason(chunk)
                if reason:
                    raise InputError(f"{item.name}: {reason}")
            if not chunk:
                break
            data = carry + chunk
            if data.endswith(b"\r"):  # its LF may open the next chunk
                data, held = data[:-1], b"\r"
            else:
                held = b""
            data = _line_breaks(data)
            cut = data.rfind(b"\n") + 1
            if cut == 0:
                # a giant line with no newline yet: hand it over whole, the
                # scanner truncates it; never hold more than a few blocks
                if len(data) < 4 * BLOCK_SIZE:
                    carry = data + held
                    continue
                cut = len(data)
            carry = data[cut:] + held
            yield data[:cut]
        if carry:
            yield _line_breaks(carry)
    finally:
        if stream is not sys.stdin.buffer:
            stream.close()


def _size(item: Input) -> int | None:
    if item.data is not None:
        return len(item.data)
    try:
        return os.path.getsize(item.path) if item.path and item.member is None else None
    except OSError:
        return None


def _position(stream: BinaryIO) -> int:
    """How much of the input file a (decompressing) stream has consumed."""
    raw = getattr(stream, "_raw", stream)
    try:
        return raw.tell()
    except (OSError, ValueError, AttributeError):
        return 0


def _describe(exc: BaseException) -> str:
    text = getattr(exc, "strerror", None) or str(exc) or type(exc).__name__
    return text.splitlines()[0]
