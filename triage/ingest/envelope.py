"""Take one line's envelope apart: quote, capture tool, level, printk stamp, caller.

The envelope rule of grammars/envelope.lark, compiled to one anchored regex
(``grammar.envelope_regex``), names every prefix slot; this module turns the
slots into a :class:`~triage.model.Line`.
"""
from __future__ import annotations

import datetime
import json
import re

from . import grammar
from ..model import LEVEL_NAMES, Line

#: characters kept of one line; longer ones are truncated (and marked)
MAX_LINE = 64 << 10

_STAMP_INSIDE = re.compile(r"\[ *\d+\.\d{6}\]")
#: a bare console line's stamp (the envelope's STAMP terminal, without the other slots)
_PLAIN_CONSOLE = re.compile(r"\[ *(\d{1,20}\.\d{1,20})\] ?")
#: ... unless a host and tag follow: journalctl -o short-monotonic (the envelope's MONO_HEAD)
_MONO_TAIL = re.compile(r"(?:[^\s:]+ )?(?:kernel|[\w.\/@-]+\[\d{1,20}\]): ")
_LEVEL_WORDS = {
    "EMERGENCY": 0, "EMERG": 0, "ALERT": 1, "CRITICAL": 2, "CRIT": 2, "ERROR": 3, "ERR": 3,
    "WARNING": 4, "WARN": 4, "NOTICE": 5, "INFO": 6, "DEBUG": 7,
}
_FACILITY_LEVEL = re.compile(r":\s*(emerg|alert|crit|err|warn|notice|info|debug)\s*:")
_TAG = re.compile(r" ([\w.\/@-]+)(?:\[\d+\])?: $")


_ORIGINS = ("SYSLOG_HEAD", "ISO_HEAD", "RFC5424_HEAD", "MONO_HEAD", "DMESG_FACILITY", "WALLCLOCK", "RELATIVE",
            "KMSG_HEAD", "TALOS_HEAD", "KERNEL_TAG", "CAPTURE_STAMP")
#: HTML entities a rendered page or a web archive leaves in pasted lines (the kernel prints none)
_ENTITIES = {"&gt;": ">", "&lt;": "<", "&amp;": "&", "&quot;": '"', "&#39;": "'", "&#x27;": "'", "&nbsp;": " "}
_ENTITY = re.compile("|".join(map(re.escape, _ENTITIES)))


class _Slots:
    """Group numbers of the compiled envelope, looked up once."""

    def __init__(self, envelope: re.Pattern[str]) -> None:
        index = envelope.groupindex
        self.envelope = envelope
        self.body = index["BODY"] - 1
        self.quote = index["QUOTE"] - 1
        self.decor = index["DECOR"] - 1
        self.pri = index["PRI"] - 1
        self.level = index["LEVEL_NAME"] - 1
        self.stamp = index["STAMP"] - 1
        self.caller = index["CALLER"] - 1
        self.origins = tuple((name, index[name] - 1) for name in _ORIGINS)


_slots_cache: dict[int, _Slots] = {}


def slots_for(envelope: re.Pattern[str]) -> _Slots:
    slots = _slots_cache.get(id(envelope))
    if slots is None or slots.envelope is not envelope:
        slots = _slots_cache[id(envelope)] = _Slots(envelope)
    return slots


def parse_line(source: str, number: int, data: bytes, envelope: re.Pattern[str] | None = None,
               slots: _Slots | None = None) -> Line:
    """Decode one line and split its envelope (quote, origin, level, stamp, caller)."""
    truncated = len(data) > MAX_LINE
    text = data[:MAX_LINE].decode("utf-8", "replace").rstrip()
    if "&" in text and ";" in text:
        text = _ENTITY.sub(lambda m: _ENTITIES[m.group(0)], text)
    if envelope is None:
        envelope = grammar.envelope_regex()
    if slots is None:
        slots = slots_for(envelope)
    plain = _PLAIN_CONSOLE.match(text)
    if (plain is not None and text[plain.end():plain.end() + 1] not in ("[", " ", "")
            and not _MONO_TAIL.match(text, plain.end())):
        # the common case, a bare console line "[  12.345678] text": what the envelope would
        # give, without its dozen optional slots (tests check both agree on real lines)
        line = Line(source, number, text, text[plain.end():], float(plain.group(1)), truncated=truncated)
        if "]" in line.body and _STAMP_INSIDE.search(line.body):
            _untangle(line, envelope, torn_only=True)
        return line
    g = envelope.match(text).groups()  # every slot is optional: the envelope always matches
    body = g[slots.body] or ""
    line = Line(source, number, text, body, truncated=truncated)
    if g[slots.quote]:
        line.quote_depth = g[slots.quote].count(">")
    decor = g[slots.decor]
    if decor and ("*" in decor or "`" in decor):  # "**[ 1.2] Kernel panic ...**": the closing marks too
        body = line.body = body.rstrip("*`").rstrip()
    origin = head = None
    for name, i in slots.origins:
        if g[i]:
            origin, head = name, g[i]
            break
    if origin is not None:
        _origin(line, origin, head)
    if g[slots.pri]:
        line.level = int(g[slots.pri][1:-1]) & 7
    if g[slots.level]:
        line.level = _LEVEL_WORDS.get(g[slots.level].split()[0])
    if g[slots.stamp]:
        line.timestamp = float(g[slots.stamp].strip()[1:-1])
    if g[slots.caller]:
        line.caller = g[slots.caller].strip()[1:-1].strip()
    if origin is None and line.timestamp is None and line.caller is None and line.level is None:
        if body.startswith("{") and '"MESSAGE"' in body:
            _journal_json(line, body)
        elif body[-2:] in ('",', '"') and '"_BOOT_ID"' in body and _PRETTY_BOOT_ID.match(body):
            # journalctl -o json-pretty prints a record over many lines; its _BOOT_ID line names the boot
            line.origin, line.boot_id = "json", body.split('"')[3]
        elif not _untangle(line, envelope, torn_only=False) and line.origin == "console":
            line.origin = "plain"
    elif "]" in body and _STAMP_INSIDE.search(body):
        _untangle(line, envelope, torn_only=True)
    return line


#: month abbreviations of the C locale and of the glibc locales syslog and journal lines are most often
#: written in (de, fr, es, it, pt, nl), lower case, without the dot: month index
_MONTHS = {name: index for index, names in enumerate((
    "jan janv ene gen", "feb fév févr fev", "mar mär mars mrt", "apr avr avril abr", "may mai mag mei",
    "jun juin giu", "jul juil lug", "aug août ago", "sep sept set", "oct okt ott out", "nov",
    "dec dez déc dic")) for name in names.split()}
_DAYS_BEFORE = (0, 31, 59, 90, 120, 151, 181, 212, 243, 273, 304, 334)
_WALL = re.compile(r"(?:(\d{4})-(\d\d)-(\d\d)[T ]|([^\W\d_]{3,5})\.? +(\d{1,2}) )(\d\d):(\d\d):(\d\d)(?:[.,](\d{1,9}))?")


def _wall_seconds(head: str) -> float | None:
    """Seconds of a syslog/journal wall-clock stamp, counted from the start of its year (syslog has
    none): enough to measure how far apart two lines of one capture are."""
    m = _WALL.match(head)
    if m is None:
        return None
    if m.group(1):
        month, day = int(m.group(2)) - 1, int(m.group(3))
    else:
        month, day = _MONTHS.get(m.group(4).lower(), -1), int(m.group(5))
    if not 0 <= month < 12:
        return None
    seconds = ((_DAYS_BEFORE[month] + day - 1) * 24 + int(m.group(6))) * 3600 + int(m.group(7)) * 60 + int(m.group(8))
    return seconds + (float("0." + m.group(9)) if m.group(9) else 0.0)


_DMESG_T = re.compile(r"\[[^\W\d_]{2,5}\.? ([^\W\d_]{3,5})\.? +(\d{1,2}) (\d\d):(\d\d):(\d\d) (\d{4})\]")


def _dmesg_t_seconds(head: str) -> float | None:
    """Seconds since 1970 of a ``dmesg -T`` stamp in any of the locales _MONTHS knows
    ("[Mon Sep  9 12:00:00 2024]", "[lun. janv.  3 10:33:47 2022]", "[Mo Apr 29 20:44:47 2019]")."""
    m = _DMESG_T.match(head)
    month = _MONTHS.get(m.group(1).lower(), -1) if m else -1
    if m is None or month < 0 or not 1 <= int(m.group(2)) <= 31 or int(m.group(6)) < 1:
        return None
    days = (datetime.date(int(m.group(6)), month + 1, 1) - datetime.date(1970, 1, 1)).days + int(m.group(2)) - 1
    return float(((days * 24 + int(m.group(3))) * 60 + int(m.group(4))) * 60 + int(m.group(5)))


def _origin(line: Line, origin: str, head: str) -> None:
    if origin in ("SYSLOG_HEAD", "ISO_HEAD", "MONO_HEAD"):
        line.origin = "journal"
        tag = _TAG.search(head)
        line.kernel = bool(tag) and tag.group(1) == "kernel"
        if origin == "MONO_HEAD":
            line.timestamp = float(head[1:head.index("]")].strip())
        else:
            line.wallclock = _wall_seconds(head)
    elif origin == "RFC5424_HEAD":
        line.origin = "journal"
        line.level = int(head[1:head.index(">")]) & 7
        line.kernel = head.split(" ")[3] == "kernel"
    elif origin == "KMSG_HEAD":  # level,seq,usec,flags; (printk's /dev/kmsg record, netconsole ext)
        line.origin = "kmsg"
        level, _, usec, _ = head.split(",", 3)
        line.level = int(level) & 7
        line.timestamp = int(usec) / 1e6
    elif origin == "TALOS_HEAD":
        line.origin = "journal"
        word = head.split(":")[2].strip()
        line.level = LEVEL_NAMES.index("warning" if word == "warn" else word)
    elif origin == "KERNEL_TAG":
        line.origin = "journal"
    elif origin == "RELATIVE":  # dmesg -H: a delta or a minute, not seconds since boot
        line.origin = "dmesg"
    elif origin == "DMESG_FACILITY":
        line.origin = "dmesg"
        level = _FACILITY_LEVEL.search(head)
        if level:
            line.level = LEVEL_NAMES.index(level.group(1) if level.group(1) != "warn" else "warning")
        line.kernel = head.startswith("kern")
    elif origin == "WALLCLOCK":  # dmesg -T: wall-clock time the kernel's stamp was converted to
        line.origin = "dmesg"
        line.wallclock = _dmesg_t_seconds(head)
    elif origin == "CAPTURE_STAMP":  # only a capture tool's stamp in front of the kernel's line
        line.origin = "tool"


def _untangle(line: Line, envelope: re.Pattern[str], torn_only: bool) -> bool:
    """A printk stamp after other text on the line: keep the kernel's part.

    "bytes[  76.4] BUG: ..." is two console lines run together (torn);
    "syzkaller login: [  35.1] BUG: ..." is the kernel writing over a prompt.
    Quoting programs ("LAB:   [ 0.0] AMD-Vi: ...") look the same: assembly
    drops such embedded lines when their stamp goes back in time.
    """
    for found in _STAMP_INSIDE.finditer(line.body):
        start = found.start()
        if start == 0:
            continue
        torn = not line.body[start - 1].isspace()
        if torn_only and not torn:
            continue
        rest = envelope.match(line.body[start:])
        if rest is None:
            continue
        line.torn, line.embedded = torn, not torn
        line.timestamp = float(found.group(0)[1:-1])
        if rest.group("CALLER"):
            line.caller = rest.group("CALLER").strip()[1:-1].strip()
        line.body = rest.group("BODY") or ""
        return True
    return False


#: one field line of a journalctl -o json-pretty record: '        "_BOOT_ID" : "b03ed610f21d46ab8243a495ba5a0058",'
_PRETTY_BOOT_ID = re.compile(r'\s*"_BOOT_ID" ?: ?"[0-9a-f]{32}",?$')


def _journal_json(line: Line, body: str) -> None:
    """journalctl -o json: one JSON object a line."""
    try:
        record = json.loads(body)
    except (ValueError, RecursionError):  # broken, or nested deeper than a journal record ever is
        line.origin = "plain"
        return
    if not isinstance(record, dict):
        return
    message = record.get("MESSAGE")
    if isinstance(message, list):  # non-UTF-8 messages are arrays of bytes
        message = bytes(b & 0xFF for b in message if isinstance(b, int)).decode("utf-8", "replace")
    line.origin = "json"
    line.body = str(message or "")
    line.kernel = record.get("_TRANSPORT") == "kernel" or record.get("SYSLOG_IDENTIFIER") == "kernel"
    priority = record.get("PRIORITY")
    if isinstance(priority, str) and priority.isdigit() and len(priority) <= 2:
        line.level = int(priority) & 7
    mono = record.get("_SOURCE_MONOTONIC_TIMESTAMP") or record.get("__MONOTONIC_TIMESTAMP")
    if isinstance(mono, str) and mono.isdigit() and len(mono) <= 20:  # microseconds since boot
        line.timestamp = int(mono) / 1e6
    boot_id = record.get("_BOOT_ID")
    if isinstance(boot_id, str):
        line.boot_id = boot_id
