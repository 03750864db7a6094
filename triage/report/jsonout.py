"""JSON for tools: the report document and JSON Lines streams (events, boots)."""
from __future__ import annotations

import json
from collections.abc import Iterable
from typing import Any, BinaryIO

from ..model import Report

__all__ = ["json_line", "write_jsonl", "report_json"]


try:  # orjson encodes an event ~10x faster than json: it decides the rate of 'events' on storms
    import orjson as _orjson
except ImportError:  # pragma: no cover - exercised only without orjson
    _orjson = None

_json_compact = json.JSONEncoder(default=str, separators=(",", ":")).encode


def json_line(obj: Any) -> bytes:
    """One compact JSON object as bytes (orjson when present, identical output from json)."""
    if _orjson is not None:
        try:
            return _orjson.dumps(obj, default=str)
        except (TypeError, _orjson.JSONEncodeError):  # e.g. an integer wider than 64 bits
            pass
    return _json_compact(obj).encode("utf-8")


def write_jsonl(objects: Iterable[Any], stream: BinaryIO, batch: int = 2048) -> int:
    """Write JSON Lines in large blocks; returns the number of lines written."""
    count = 0
    pending: list[bytes] = []
    for obj in objects:
        pending.append(json_line(obj))
        if len(pending) >= batch:
            pending.append(b"")
            stream.write(b"\n".join(pending))
            count += len(pending) - 1
            pending = []
    if pending:
        pending.append(b"")
        stream.write(b"\n".join(pending))
        count += len(pending) - 1
    stream.flush()
    return count


def report_json(report: Report) -> str:
    """The report document (schema in the README)."""
    return json.dumps(report.to_dict(), indent=2, default=str)
