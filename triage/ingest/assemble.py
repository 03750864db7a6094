"""Assemble scanned lines into events and boots (the ingestion stage).

Known one-line messages (grammars/amd_vi.lark, sev.lark, kernel.lark) become
events at once; report lines (grammars/report.lark) are gathered until the
report ends and then parsed as a whole. Events come out in input order.
"""
from __future__ import annotations

import re
from functools import lru_cache
from typing import Any

from .messages import MESSAGE_GRAMMARS, decode_iommu_event, derive_fields, message_table
from .boots import BootTracker
from .joins import _OPEN_EVENT, LineJoins
from .scan import Scanned
from ..model import LEVEL_NAMES, Event, Line
from .reports import END_CLASSES, HEADER_KIND, OOPS_DETAIL, Classified, build_fields, line_classes, parse_report

#: A report ends when this many lines pass without a line of it.
MAX_REPORT_GAP = 40
#: ... or when this many seconds pass between two of its lines.
MAX_REPORT_SECONDS = 10.0

_DEVICE_PREFIX = re.compile(r"^(?:(?P<driver>[\w-]+) (?P<device>[0-9a-f]{4}:[0-9a-f]{2}:[0-9a-f]{2}\.[0-7]|ivhd\d+): )")
_SEV_LIKE = re.compile(r"^(?:(?:ccp|psp) [0-9a-f]{4}:[0-9a-f]{2}:[0-9a-f]{2}\.[0-7]: |SEV-SNP: |SEV: |kvm_amd: SEV)")
_JOURNAL_BOOT = re.compile(r"^-- (?:Boot [0-9a-f]+|Reboot) --")
_SUBSYSTEM = re.compile(r"^([\w.-]{2,20}): ")


class Assembler(LineJoins):
    """Streaming assembly of one source's scanned lines."""

    def __init__(self, source: str) -> None:
        self.source = source
        self.boots = BootTracker(source)
        # in this order: platform before sev, so a client TEE line of a ccp device is not taken for SEV
        self.tables = [message_table(name) for name in MESSAGE_GRAMMARS]
        self.amd_vi_prefix = message_table("amd_vi").prefix  # "AMD-Vi: " lines no rule names
        self.kdump_tools = message_table("kdump")  # userspace, but the kdump kernel's outcome
        self.classes = line_classes()
        self.report: list[Classified] = []
        self.report_boot = 0
        self.held: list[Event] = []  # messages printed while a report is open
        self.total_lines = 0
        self.plain_lines = 0
        self.torn_lines = 0
        self.truncated_lines = 0
        self.formats: dict[str, int] = {}
        self.plain_events = False  # emit every other line as a 'message' event
        self._unmatched: Line | None = None  # the last line nothing recognised
        self._wall_base: float | None = None  # the first wall-clock stamp of the current boot ...
        self._wall_boot = -1  # ... and that boot
        self._open_record: tuple[Event, Line] | None = None  # an IOMMU event record whose fields are on the next line
        self.quoted_printable = False  # a mail whose text is quoted-printable (soft breaks, =3D ...)
        self._qp_held: Line | None = None  # a quoted-printable line that ended in a soft break

    # -- input -------------------------------------------------------------
    def _feed(self, item: Scanned) -> list[Event]:
        out: list[Event] = []
        if self._open_record is not None:
            if not item.skipped and item.line is not None and self._continues_open(item.line, out):
                return out  # the line completed the open event record
            self._release_open(out)
        if item.skipped:
            self._plain(item.skipped, (item.line.number - 1) if item.line else self.total_lines + item.skipped)
        line = item.line
        if line is None:
            return out
        self.total_lines = line.number + line.raw.count("\n")
        self.formats[line.origin] = self.formats.get(line.origin, 0) + 1
        if line.truncated:
            self.truncated_lines += 1
        if line.torn:
            self.torn_lines += 1
            self.boots.torn()
        body = line.body
        if not line.kernel and body and not line.embedded and self._kdump_tool(line, out):
            return out
        if not line.kernel or not body or body.isspace() or (line.embedded and self._stale_quote(line)):
            self._plain_line(line, out)
            return out
        if body[:3] == "-- " and _JOURNAL_BOOT.match(body):
            self._close_report(out)
            self._plain(1, line.number)  # the marker belongs to the boot it ends
            self.boots.start("journal boot marker", line.number + 1)
            return out
        self._boundaries(line, out)
        if line.timestamp is None and line.wallclock is not None:
            # a syslog line: seconds since the boot's first such line, so that rules can measure
            # time windows (the boot tracker saw no stamp: wall-clock time never resets)
            if self._wall_base is None or self._wall_boot != self.boots.index or line.wallclock < self._wall_base:
                self._wall_base, self._wall_boot = line.wallclock, self.boots.index
            line.timestamp = round(line.wallclock - self._wall_base, 6)
            self.boots.note_time(line.timestamp)
        message = self._message(line)
        if message is not None:
            self._on_message(message, line, out)
            return out
        classified = self.classes.classify(line.body)
        if classified is not None and self._on_report_line(Classified(classified[0], classified[1], line), out):
            return out
        fallback = self._unknown_subsystem_event(line)
        if fallback is not None:
            self._on_message(fallback, line, out)
            return out
        if self._continues_report(line):
            self.report.append(Classified("CONTINUATION", {}, line))
            return out
        if self._rejoin(line, out):
            return out
        self._plain_line(line, out)
        self._unmatched = line
        return out

    def _rejoin(self, line: Line, out: list[Event]) -> bool:
        """A report line broken in two by a mail or bug tracker ("CPU: 1 PID: 1" / "88243 Comm: ...")."""
        prev = self._unmatched
        self._unmatched = None
        if prev is None or prev.number != line.number - 1 or line.timestamp is not None or prev.quote_depth != line.quote_depth:
            return False
        joined = self.classes.classify(prev.body + line.body)
        if joined is None or joined[0] in ("FRAME", "INLINE_FRAME", "REGISTERS"):
            return False
        merged = Line(source=line.source, number=prev.number, raw=prev.raw + "\n" + line.raw,
                      body=prev.body + line.body, timestamp=prev.timestamp, level=prev.level,
                      caller=prev.caller, quote_depth=prev.quote_depth, origin=prev.origin)
        self._plain(-1, line.number)  # the first half was counted as plain ...
        if self._on_report_line(Classified(joined[0], joined[1], merged), out):
            return True
        self._plain(1, line.number)  # ... and stays plain when the whole is no report line
        return False

    def finish(self) -> list[Event]:
        out: list[Event] = []
        self._release_held(out)
        self._release_open(out)
        self._close_report(out)
        self._flush(out)
        self.boots.finish()
        return out

    # -- plain lines and boundaries ----------------------------------------
    def _plain(self, count: int, last_line: int) -> None:
        self.plain_lines += count
        self.total_lines = max(self.total_lines, last_line)
        self.boots.plain(count, last_line)

    def _stale_quote(self, line: Line) -> bool:
        """Another program quoting an older kernel line: not the kernel speaking now."""
        last = self.boots.current.last_timestamp
        return line.embedded and line.timestamp is not None and last is not None and line.timestamp < last - 0.1

    def _plain_line(self, line: Line, out: list[Event]) -> None:
        extra = line.raw.count("\n")  # a line joined from several physical ones counts them all
        self._plain(1 + extra, line.number + extra)
        if not self.plain_events:
            return
        event = self._event("message", line, None, None, {})
        if self.report:
            self.held.append(event)
        else:
            self._flush(out)
            out.append(event)

    def _boundaries(self, line: Line, out: list[Event]) -> None:
        boots = self.boots
        before = boots.index
        if self.report and line.timestamp is not None:
            last = self.report[-1].line
            if last.timestamp is not None and line.timestamp < last.timestamp - 0.1:
                self._close_report(out)
        boots.before_line(line.timestamp, line.number, line.boot_id)
        if boots.index != before:
            self._close_report(out)
        boots.kernel_line(line.number)

    def _continues_report(self, line: Line) -> bool:
        """An untriggered line right after a report header: its wrapped end."""
        if not self.report or line.timestamp is not None or not line.body.strip():
            return False
        last = self.report[-1]
        return last.cls == "PANIC" and last.line.number == line.number - 1 and last.line.quote_depth == line.quote_depth

    # -- known messages ---------------------------------------------------------
    def _message(self, line: Line) -> Event | None:
        body = line.body
        if body[:1] in (" ", "\t"):  # a message pasted with indentation (no stamp to anchor it)
            body = body.lstrip()
        for table in self.tables:
            found = table.match(body)
            if found is None:
                continue
            message, fields, prefix = found
            return self._message_event(table.name, message, fields, prefix, line)
        return None

    def _kdump_tool(self, line: Line, out: list[Event]) -> bool:
        """A journal/syslog line of the kdump tools (kdump.sh, kdump-tools, makedumpfile) saying how the save went."""
        found = self.kdump_tools.match(line.body.strip())
        if found is None:
            return False
        self._boundaries(line, out)
        self._on_message(self._message_event("kdump", found[0], found[1], found[2], line), line, out)
        return True

    def _message_event(self, table: str, message: str, fields: dict[str, Any], prefix: str, line: Line) -> Event:
        kind, subsystem = MESSAGE_GRAMMARS[table], None
        if table == "amd_vi":
            subsystem = "AMD-Vi"
            device = _device_of_prefix(prefix)
            if device:
                fields.setdefault("device_prefix", device)
        elif table == "sev":
            subsystem = _sev_subsystem(prefix, line.body.lstrip()[len(prefix):])
        else:
            sub = _SUBSYSTEM.match(line.body)
            subsystem = sub.group(1) if sub else None
        declared, fields = derive_fields(table, message, fields)
        kind = declared or kind
        if kind == "iommu_event":
            iommu = device if device and device.startswith("ivhd") else None
            fields = decode_iommu_event(fields, None if iommu else device)
            fields["iommu"] = iommu
        elif table == "sev" and prefix:
            fields.setdefault("device", prefix.rstrip(": ").split(" ")[-1])
        return self._event(kind, line, subsystem, message, fields)

    def _unknown_subsystem_event(self, line: Line) -> Event | None:
        """Driver lines of AMD-Vi or ccp/SEV that no rule names: kept as events."""
        body = line.body
        amd = self.amd_vi_prefix.match(body)
        if amd is not None and amd.group(0):
            return self._event("amd_vi", line, "AMD-Vi", None, {})
        sev = _SEV_LIKE.match(body)
        if sev is not None:
            return self._event("sev", line, _sev_subsystem(sev.group(0), body[sev.end():]), None, {})
        return None

    def _event(self, kind: str, line: Line, subsystem: str | None, message: str | None, fields: dict[str, Any]) -> Event:
        text = [line.raw] if "\n" not in line.raw else line.raw.split("\n")
        return Event(kind, self.source, self.boots.index, line.number, line.number + len(text) - 1, text,
                     line.timestamp, _level(line.level), line.caller, subsystem, message, fields, line.body)

    def _on_message(self, event: Event, line: Line, out: list[Event]) -> None:
        if event.kind in ("amd_vi", "iommu_event") and line.body[-1:] != "]" and _OPEN_EVENT.search(line.body):
            self._open_record = (event, line)  # its fields may follow on the next line
            return
        self._place(event, line, out)

    def _place(self, event: Event, line: Line, out: list[Event]) -> None:
        if event.kind == "boot_banner":
            self._close_report(out)
            self.boots.banner(line.number)
            event.boot = self.boots.index
        elif event.message == "decompressor":
            self._close_report(out)
            self.boots.start("decompressor", line.number)
            event.boot = self.boots.index
        elif self.boots.after_panic_starts_boot(event.message, event.kind):
            self._close_report(out)
            self.boots.start("after panic", line.number)
            event.boot = self.boots.index
        if not self.report:
            if self.held:
                self._flush(out)
            self._emit(event, out)
        elif line.number - self.report[-1].line.number <= MAX_REPORT_GAP:
            self.held.append(event)
        else:
            self._close_report(out)
            self._emit(event, out)

    # -- reports -------------------------------------------------------------
    def _on_report_line(self, item: Classified, out: list[Event]) -> bool:
        """Add a report line; False when it is not part of any report."""
        cls = item.cls
        line = item.line
        if self.report and not self._fits(item):
            self._close_report(out)
        if self.report:
            first = self.report[0]
            if cls in HEADER_KIND and cls not in ("CPU_LINE", "TRACE_HEAD"):
                absorb = (cls in OOPS_DETAIL and first.cls in ("PAGE_FAULT", "KERNEL_BUG", "BUG", "ARM_OOPS")
                          and not self._has(OOPS_DETAIL, skip_first=True))
                if not absorb:
                    self._close_report(out)
                    self._open(item, out)
                    return True
            elif cls == "CPU_LINE" and (self._has({"CPU_LINE", "PID_LINE"}) or self._has({"FRAME"})):
                self._close_report(out)
                self._open(item, out)
                return True
            self.report.append(item)
            if cls in END_CLASSES:
                self._close_report(out)
            return True
        if cls in HEADER_KIND:
            if self.boots.after_panic_starts_boot(None, "report") and cls not in ("NMI_BACKTRACE", "CPU_LINE", "TRACE_HEAD"):
                self.boots.start("after panic", line.number)
            self._open(item, out)
            return True
        if cls == "END_PANIC":
            return False
        return False

    def _fits(self, item: Classified) -> bool:
        last = self.report[-1].line
        line = item.line
        if line.number - last.number > MAX_REPORT_GAP or line.quote_depth != last.quote_depth:
            return False
        if line.timestamp is not None and last.timestamp is not None and line.timestamp - last.timestamp > MAX_REPORT_SECONDS:
            return False
        if line.caller and last.caller and line.caller != last.caller and item.cls in HEADER_KIND:
            return False
        return True

    def _has(self, classes: set[str], skip_first: bool = False) -> bool:
        items = self.report[1:] if skip_first else self.report
        return any(i.cls in classes for i in items)

    def _open(self, item: Classified, out: list[Event]) -> None:
        self._flush(out)
        self.report = [item]
        self.report_boot = self.boots.index
        if item.cls == "PANIC":
            self.boots.panic_seen()

    def _close_report(self, out: list[Event]) -> None:
        if not self.report:
            self._flush(out)
            return
        items, self.report = self.report, []
        header = items[0]
        if len(items) == 1 and _free_text_header(header):
            # "WARNING: the mand mount option is deprecated": a message, not a splat
            self._plain(1, header.line.number)
            self._flush(out)
            return
        kind = HEADER_KIND.get(header.cls, "call_trace")
        parts = parse_report(items)
        fields = build_fields(kind, parts)
        first, last = items[0].line, items[-1].line
        event = Event(
            kind=kind, source=self.source, boot=self.report_boot, line=first.number, end_line=last.number,
            text=[raw for i in items for raw in i.line.raw.split("\n")], timestamp=first.timestamp, level=_level(first.level),
            caller=first.caller, subsystem=None, message=None, fields=fields, body=first.body,
        )
        self.held.append(event)
        self._flush(out)

    def _flush(self, out: list[Event]) -> None:
        if not self.held:
            return
        held, self.held = sorted(self.held, key=lambda e: e.line), []
        for event in held:
            self._emit(event, out)

    def _emit(self, event: Event, out: list[Event]) -> None:
        if event.kind != "message":
            self.boots.record(event)
        out.append(event)


@lru_cache(maxsize=1024)
def _device_of_prefix(prefix: str) -> str | None:
    """'nvme 0000:01:00.0: AMD-Vi: ' -> '0000:01:00.0' (storms repeat a handful of prefixes)."""
    found = _DEVICE_PREFIX.match(prefix)
    return found.group("device") if found else None


def _free_text_header(item: Classified) -> bool:
    """Headers that are only a report when report lines follow them."""
    if item.cls == "LOCKDEP_INFO":
        return "turned off" in item.line.body
    return item.cls == "WARNING" and "warn_what" in item.fields


def _level(level: int | None) -> str | None:
    return LEVEL_NAMES[level] if level is not None and 0 <= level < 8 else None


def _sev_subsystem(prefix: str, rest: str) -> str:
    if prefix.startswith("kvm_amd"):
        return "kvm_amd"
    if rest.startswith("SEV-SNP") or prefix.startswith("SEV-SNP"):
        return "SEV-SNP"
    if prefix.startswith(("ccp", "psp")):
        return "ccp"
    return "SEV"
