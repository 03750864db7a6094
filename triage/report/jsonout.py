"""JSON for tools: the report document and JSON Lines streams (events, boots)."""
from __future__ import annotations

import json
import math
from collections.abc import Iterable
from typing import Any, BinaryIO, TextIO

from ..model import Report

__all__ = ["json_line", "write_jsonl", "json_text", "report_json", "write_report_json", "finite"]


try:  # orjson encodes an event ~10x faster than json: it decides the rate of 'events' on storms
    import orjson as _orjson
except ImportError:  # pragma: no cover - exercised only without orjson
    _orjson = None

_json_compact = json.JSONEncoder(default=str, separators=(",", ":"), allow_nan=False).encode


def finite(obj: Any) -> Any:
    """The object with NaN and infinities replaced by null: JSON (RFC 8259) has no such numbers."""
    if isinstance(obj, float):
        return obj if math.isfinite(obj) else None
    if isinstance(obj, dict):
        return {key: finite(value) for key, value in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [finite(value) for value in obj]
    return obj


def json_line(obj: Any) -> bytes:
    """One compact JSON object as bytes (orjson when present, identical output from json)."""
    if _orjson is not None:
        try:
            return _orjson.dumps(obj, default=str)  # (orjson writes null for NaN and infinities)
        except (TypeError, _orjson.JSONEncodeError):  # an integer wider than 64 bits, a lone surrogate
            pass
    return _json_compact(finite(obj)).encode("utf-8")


def write_jsonl(objects: Iterable[Any], stream: BinaryIO, batch: int = 2048) -> int:
    """Write JSON Lines in large blocks; returns the number of lines written.

    When the objects stop with an error (an input that ends early), what came
    before it is written first.
    """
    count = 0
    pending: list[bytes] = []

    def flush() -> None:
        nonlocal count, pending
        if pending:
            pending.append(b"")
            stream.write(b"\n".join(pending))
            count += len(pending) - 1
            pending = []

    try:
        for obj in objects:
            pending.append(json_line(obj))
            if len(pending) >= batch:
                flush()
    finally:
        flush()
        stream.flush()
    return count


def json_text(obj: Any) -> str:
    """An indented JSON document, valid RFC 8259 whatever the values (orjson when present: the
    json module's indented encoder was a fifth of the main job on a capture of many boots)."""
    if _orjson is not None:
        try:
            text = _orjson.dumps(obj, default=str, option=_orjson.OPT_INDENT_2 | _orjson.OPT_NON_STR_KEYS)
        except (TypeError, _orjson.JSONEncodeError):  # an integer wider than 64 bits, a lone surrogate
            text = b"\x80"
        if text.isascii():  # else json's \u escapes: a console that cannot show UTF-8 loses nothing
            return text.decode()
    return json.dumps(finite(obj), indent=2, default=str, allow_nan=False)


def report_json(report: Report) -> str:
    """The report document (schema in the README)."""
    return json_text(report.to_dict())


#: each source's boots (a long capture's are on disk: triage/ingest/boots.py) and the findings
#: are written one at a time, never gathered into one document
_MARK = "@@snp-triage {}@@"


def write_report_json(report: Report, stream: TextIO) -> None:
    """The report document (the text report_json gives), written with bounded memory."""
    data = report.to_dict(boots=False, findings=False)
    arrays = []
    for ci, (source, capture) in enumerate(zip(data["sources"], report.captures)):
        source["boots"] = _MARK.format(f"boots {ci}")
        arrays.append((source["boots"], capture.boots))
    data["findings"] = _MARK.format("findings")
    arrays.append((data["findings"], report.findings))
    text = json_text(data)
    pos = 0
    for mark, items in arrays:  # in the order they appear in the document
        quoted = json.dumps(mark)
        at = text.index(quoted, pos)
        stream.write(text[pos:at])
        line = text[text.rindex("\n", 0, at) + 1:at]
        indent = line[:len(line) - len(line.lstrip())]
        _write_array(items, indent, stream)
        pos = at + len(quoted)
    stream.write(text[pos:] + "\n")


def _write_array(items, indent: str, stream: TextIO) -> None:
    """A JSON array of objects (each with to_dict()), indented as json_text would at this depth."""
    if not len(items):
        stream.write("[]")
        return
    inner = indent + "  "
    pending = ["["]
    sep = "\n"
    for item in items:
        pending.append(sep + inner + json_text(item.to_dict()).replace("\n", "\n" + inner))
        sep = ",\n"
        if len(pending) >= 512:
            stream.write("".join(pending))
            pending = []
    pending.append("\n" + indent + "]")
    stream.write("".join(pending))
