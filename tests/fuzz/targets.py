"""Fuzz targets: one plain function per surface, ``target(data: bytes) -> None``.

Each target feeds ``data`` to the public library API and checks the contract:

* every input gives a result or a clean error of the project's own classes
  (:class:`triage.errors.TriageError` and its subclasses, as narrow as the
  surface promises); any other exception propagates as it is;
* no hang: a call on an input under 64 KiB takes less than ``TIME_LIMIT`` s;
* no lost line: ``total_lines`` is the number of lines of the (decompressed)
  input, and every line is either in an event's text or counted as plain;
* JSON output is RFC 8259 (no NaN/Infinity);
* rich output never crashes, and input text never turns into rich markup or
  emoji (the report rendered with markup and emoji off must read the same);
* HTML output is well formed and holds only the page kit's elements and
  attributes (tests/htmlcheck.py): input text never turns into markup.

A broken contract raises :class:`AssertionError` whose message starts with a
short category (``lines:``, ``json:``, ``markup:``, ``slow:``, ``errorline:``...),
so the harness can tell distinct failures apart.

The same functions run under atheris (``tests/fuzz/run.py``), over the corpus
and the saved crashes (``tests/test_fuzz_regressions.py``) and under
hypothesis. They use only the public API.
"""
from __future__ import annotations

import atexit
import bz2
import gzip
import io
import json
import lzma
import os
import re
import shutil
import tempfile
import time
import zlib
from pathlib import Path
from typing import Self

import triage
from triage import (
    vmcore as vm,  # importable without drgn; imported here so atheris instruments it
)
from triage.errors import InputError, RuleError, TriageError, VmcoreError
from triage.report.jsonout import json_line, report_json
from triage.report.htmlreport import report_html
from triage.report.markdown import report_markdown
from tests.htmlcheck import check_page
from triage.report.render import report_renderable

try:
    import zstandard
except ImportError:  # pragma: no cover - zstandard is a dependency
    zstandard = None

try:
    import drgn  # noqa: F401
    HAVE_DRGN = True
except ImportError:  # pragma: no cover - exercised only without drgn
    HAVE_DRGN = False

__all__ = ["HAVE_DRGN", "SMALL", "TARGETS", "TIME_LIMIT", "ingest", "report", "rules", "vmcore"]

#: Largest time one call may take on an input under SMALL bytes (of decompressed text).
TIME_LIMIT = float(os.environ.get("SNP_FUZZ_TIME_LIMIT", "2.0"))
SMALL = 64 << 10

_HERE = Path(__file__).resolve().parent
_ROOT = _HERE.parent.parent
#: The capture the fuzzed rules are matched against (events with long texts for regexes).
_RULES_CAPTURE = _HERE / "rules_capture.log"

_tmpdir: str | None = None


def _tmp(name: str) -> str:
    """A path in this process's scratch folder (removed at exit)."""
    global _tmpdir
    if _tmpdir is None:
        _tmpdir = tempfile.mkdtemp(prefix="snp-fuzz-")
        atexit.register(shutil.rmtree, _tmpdir, True)
    return os.path.join(_tmpdir, name)


def _write(name: str, data: bytes) -> str:
    path = _tmp(name)
    with open(path, "wb") as handle:
        handle.write(data)
    return path


def _raise_on_constant(name: str):
    raise AssertionError(f"json: non-RFC 8259 constant {name} in JSON output")


def _check_json(text: str | bytes, what: str) -> object:
    try:
        return json.loads(text, parse_constant=_raise_on_constant)
    except ValueError as exc:
        raise AssertionError(f"json: {what} is not valid JSON: {exc}") from None


def _check_error(exc: TriageError, allowed: tuple[type, ...]) -> None:
    """A clean error: one of the allowed classes, with a one-line message."""
    if not isinstance(exc, allowed):
        raise AssertionError(  # noqa: TRY004 - a broken contract, not a bad argumentf"errorclass: {type(exc).__name__} where only {[c.__name__ for c in allowed]} "
                             f"are allowed: {exc}")
    text = str(exc)
    assert text and "\n" not in text, f"errorline: message is not one line: {text!r}"


class _Clock:
    """Time one call; fail when a small input took longer than TIME_LIMIT."""

    def __init__(self, size: int, what: str) -> None:
        self.size, self.what = size, what

    def __enter__(self) -> Self:
        self.start = time.perf_counter()
        return self

    def __exit__(self, *exc_info) -> None:
        took = time.perf_counter() - self.start
        if self.size < SMALL and took > TIME_LIMIT:
            raise AssertionError(f"slow: {self.what} took {took:.2f} s on {self.size} bytes "
                                 f"(limit {TIME_LIMIT} s)")


# ---------------------------------------------------------------- decompression, as the reader sees it

_COMPRESSORS = {
    "gzip": lambda d: gzip.compress(d, mtime=0),
    "bzip2": bz2.compress,
    "xz": lzma.compress,
    "zstd": (lambda d: zstandard.ZstdCompressor().compress(d)) if zstandard else None,
}


_MAGIC = (b"\x1f\x8b", b"\xfd7zXZ\x00", b"BZh", b"\x28\xb5\x2f\xfd")
DAMAGED = object()  # _decompressed: a compressed stream that cannot be read whole


def _open_compressed(data: bytes):
    """A reader of the compressed stream ``data`` starts with (None: not compressed)."""
    head = data[:16]
    if head.startswith(b"\x1f\x8b"):
        return gzip.GzipFile(fileobj=io.BytesIO(data))
    if head.startswith(b"\xfd7zXZ\x00"):
        return lzma.LZMAFile(io.BytesIO(data))
    if head.startswith(b"BZh"):
        return bz2.BZ2File(io.BytesIO(data))
    if head.startswith(b"\x28\xb5\x2f\xfd") and zstandard is not None:
        return zstandard.ZstdDecompressor().stream_reader(io.BytesIO(data), read_across_frames=True)
    return None


def _decompressed(data: bytes, limit: int = 4 * SMALL):
    """The bytes the reader will see: ``data`` itself, its decompressed text,
    None (too large to tell) or DAMAGED (broken or truncated stream)."""
    if not data.startswith(_MAGIC):
        return data
    try:
        stream = _open_compressed(data)
        if stream is None:
            return None
        with stream:
            out = stream.read(limit + 1)
        return out if len(out) <= limit else None
    except Exception:  # noqa: BLE001 - damaged stream: the reader must refuse it cleanly
        return DAMAGED


def _expected_lines(text: bytes) -> int:
    """Lines a person sees: LF, CRLF and a bare CR each end one (the reader's documented rule)."""
    text = text.replace(b"\r\n", b"\n").replace(b"\r", b"\n")
    return text.count(b"\n") + (1 if text and not text.endswith(b"\n") else 0)


# ---------------------------------------------------------------- ingest

def _check_capture(capture: triage.Capture, text: bytes | None) -> None:
    total = capture.total_lines
    if text is not None:
        expected = _expected_lines(text)
        assert total == expected, f"lines: total_lines {total} but the input has {expected} lines"
    in_events = sum(len(e.text) for e in capture.events)
    assert in_events + capture.plain_lines == total, (
        f"lines: {in_events} event lines + {capture.plain_lines} plain lines != {total} total lines")
    boots = capture.boots
    assert [b.index for b in boots] == list(range(len(boots))), "boots: indexes are not 0..n-1"
    for event in capture.events:
        assert 1 <= event.line <= event.end_line <= total, (
            f"events: lines {event.line}-{event.end_line} outside 1..{total}")
        assert 0 <= event.boot < len(boots), f"events: boot {event.boot} of {len(boots)} boots"
        assert all(isinstance(t, str) for t in event.text), "events: text holds a non-string"
        _check_json(json_line(event.to_dict()), "an event's JSON line")
    for boot in boots:
        assert 1 <= boot.first_line <= max(boot.last_line, 1), (
            f"boots: lines {boot.first_line}-{boot.last_line}")
        _check_json(json_line(boot.to_dict()), "a boot's JSON line")


def _read(source, what: str, size: int) -> triage.Capture | None:
    try:
        with _Clock(size, what):
            return triage.read_capture(source)
    except TriageError as exc:
        _check_error(exc, (InputError,))
        return None


def _summary(capture: triage.Capture | None) -> object:
    if capture is None:
        return None
    return (capture.total_lines, capture.plain_lines, capture.torn_lines, capture.truncated_lines,
            capture.formats, repr(capture.events), repr(capture.boots))


def ingest(data: bytes) -> None:
    """read_capture on the bytes, through memory, a file, a compressed file or str.

    The way in is chosen from a checksum of the data, so every input always
    takes the same way (reproducible) and the corpus spreads over all of them.
    """
    text = _decompressed(data)
    size = len(text) if isinstance(text, bytes) else len(data)
    way = zlib.crc32(data) % 4
    if way == 0:
        capture = _read(triage.Input.from_text(data), "read_capture(Input.from_text(bytes))", size)
    elif way == 1:
        capture = _read(_write("capture.log", data), "read_capture(path)", size)
    elif way == 2:
        # the same bytes compressed: the decompressed capture must equal the plain one
        kinds = [k for k, fn in _COMPRESSORS.items() if fn is not None]
        kind = kinds[(zlib.crc32(data) >> 2) % len(kinds)]
        path = _write("capture.log.z", _COMPRESSORS[kind](data))
        capture = _read(path, f"read_capture({kind} file)", size)
        if not data.startswith(_MAGIC):  # the reader takes off one layer of compression, not two
            plain = _read(triage.Input.from_text(data, path), "read_capture(Input.from_text(bytes))", size)
            assert _summary(capture) == _summary(plain), f"compressed: {kind} capture differs from the plain one"
    else:
        decoded = data.decode("utf-8", "surrogateescape")
        capture = _read(triage.Input.from_text(decoded), "read_capture(Input.from_text(str))", size)
    if capture is not None:
        if way == 2:
            text = data if data.startswith(_MAGIC) else text  # one layer off: the data itself
        _check_damaged(capture, text)
        _check_capture(capture, text if isinstance(text, bytes) else None)


def _check_damaged(capture: triage.Capture, text) -> None:
    """A damaged compressed input is an InputError, or a capture of its readable part that says so."""
    if text is DAMAGED:
        assert getattr(capture, "input_error", None), (
            "lostdata: a damaged compressed input gave a capture that does not say it was cut short")


# ---------------------------------------------------------------- report

_rules_cache: list | None = None


def _shipped_rules() -> list:
    global _rules_cache
    if _rules_cache is None:
        _rules_cache = triage.load_rules()
    return _rules_cache


def _rendered(renderable, **options) -> str:
    from rich.console import Console

    console = Console(file=io.StringIO(), width=80, record=True, **options)
    console.print(renderable)
    return console.export_text()


_CONTROL = re.compile(rb"[\x00-\x08\x0b-\x1f\x7f]")
_MARKUP_TAG = re.compile(rb"\[[a-z#/@][^\[\]\n]*\]")  # what rich.markup reads as a tag
_EMOJI_CODE = re.compile(rb"(?=:([^\s:]+?)(?:-(?:emoji|text))?:)")


def _may_become_markup(data: bytes) -> bool:
    """Whether text taken from ``data`` could hold a rich markup tag or an emoji code.

    Control bytes are dropped first, as the reader drops NULs and escape codes.
    Only then is the report rendered a second time to compare (rendering
    is most of a report's cost); for other inputs the two renders are equal.
    """
    from rich._emoji_codes import EMOJI

    cleaned = _CONTROL.sub(b"", data)
    if _MARKUP_TAG.search(cleaned):
        return True
    return any(m.group(1).decode("utf-8", "replace").lower() in EMOJI for m in _EMOJI_CODE.finditer(cleaned))


def _check_rich(make, report: triage.Report, data: bytes) -> None:
    """The rich rendering never crashes; input text never becomes markup or emoji."""
    shown = _rendered(make(report))
    if _may_become_markup(data):
        literal = _rendered(make(report), markup=False, emoji=False)
        assert shown == literal, "markup: input text was read as rich markup or emoji codes"


def _check_report(report: triage.Report, what: str, data: bytes, text: bytes | None = None) -> None:
    doc = _check_json(report_json(report), f"report_json of {what}")
    if text is not None:
        expected = _expected_lines(text)
        for source in doc["sources"]:
            assert source["total_lines"] == expected, (
                f"lines: report says {source['total_lines']} lines, the input has {expected}")
    markdown = report_markdown(report)
    assert isinstance(markdown, str), "markdown: not a string"
    try:  # well formed, only the kit's elements and attributes: no input text became markup
        check_page(report_html(report))
    except AssertionError as exc:
        raise AssertionError(f"html: {exc}") from None
    _check_rich(report_renderable, report, text if text is not None else data)


def report(data: bytes) -> None:
    """analyze() a file holding the bytes; the report as JSON, Markdown and rich text."""
    path = _write("console.log", data)
    text = _decompressed(data)
    size = len(text) if isinstance(text, bytes) else len(data)
    try:
        with _Clock(size, "analyze + render"):
            result = triage.analyze([path], rules=_shipped_rules())
            for capture in result.captures:
                _check_damaged(capture, text)
            _check_report(result, "a console log", data, text if isinstance(text, bytes) else None)
    except TriageError as exc:
        _check_error(exc, (InputError,))


# ---------------------------------------------------------------- rules

def rules(data: bytes) -> None:
    """load_rule_file on the bytes as a YAML file; rules that load are run on a capture."""
    path = _write("rule.yaml", data)
    try:
        with _Clock(len(data), "load_rule_file"):
            loaded = triage.rulepack.load_rule_file(path)
    except TriageError as exc:
        _check_error(exc, (RuleError,))
        return
    assert isinstance(loaded, list) and all(isinstance(r, triage.Rule) for r in loaded), "rules: not a list of Rule"
    try:
        with _Clock(len(data), "analyze with the loaded rules"):
            result = triage.analyze([str(_RULES_CAPTURE)], rules=loaded)
            _check_json(report_json(result), "report_json with fuzzed rules")
            markdown = report_markdown(result)
            assert isinstance(markdown, str), "markdown: not a string"
            _check_rich(report_renderable, result, data)
    except TriageError as exc:  # a rule that loaded must not fail when it runs
        raise AssertionError(f"rulerun: a rule that loaded failed to run: {type(exc).__name__}: {exc}") from None


# ---------------------------------------------------------------- vmcore

def vmcore(data: bytes) -> None:
    """open_program on the bytes as a vmcore file: a program, or VmcoreError."""
    if not HAVE_DRGN:
        return
    path = _write("vmcore", data)
    try:
        with _Clock(len(data), "open_program"):
            vm.open_program(path)
    except TriageError as exc:
        _check_error(exc, (VmcoreError,))


TARGETS = {"ingest": ingest, "report": report, "rules": rules, "vmcore": vmcore}


def warm_up() -> None:
    """Load grammars and rules once, so the first timed call does not pay for it."""
    triage.read_capture(triage.Input.from_text(b"[    0.000000] Linux version 6.1.0 (x@y) #1\n"))
    _shipped_rules()
