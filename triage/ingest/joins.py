"""Lines that belong together: quoted-printable mail text and IOMMU event records split in two.

Mixed into the Assembler: ``feed`` decodes a quoted-printable mail's text (and joins its soft line
breaks) before a line is assembled; an ``Event logged [`` record whose fields went to the next line
(two printk calls in old kernels, or a mail client's wrap) is held until that line comes.  A line
joined from several physical ones keeps them all in ``raw`` (newline-separated), so every input line
stays accounted for, and says so (``Line.joined``, the event field ``joined``).
"""
from __future__ import annotations

import quopri
import re

from ..model import Event, Line
from .envelope import parse_line
from .scan import Scanned

__all__ = ["LineJoins"]

#: a mail's text part in quoted-printable (RFC 2045): decoded, soft line breaks joined
_QP_HEADER = re.compile(r"Content-Transfer-Encoding:\s*quoted-printable", re.I)
#: physical lines joined into one at most (a runaway soft-break chain is decoded as it is)
_QP_MAX_JOIN = 8


def _qp_decode(line: Line) -> Line:
    """The line with =XX escapes decoded and its physical lines (if joined) as one; raw stays as read."""
    decoded = quopri.decodestring(line.raw.encode("utf-8", "surrogateescape")).replace(b"\n", b"")
    parsed = parse_line(line.source, line.number, decoded)
    parsed.raw = line.raw
    parsed.joined = "\n" in line.raw
    return parsed


def _qp_join(held: Line, line: Line) -> Line:
    """A soft-broken line and its continuation, still encoded (decoded once complete)."""
    joined = Line(held.source, held.number, held.raw + "\n" + line.raw, held.body)
    if line.raw.endswith("=") and len(joined.raw.split("\n")) < _QP_MAX_JOIN:
        return joined  # the soft break goes on: decoded when the chain ends
    return _qp_decode(joined)


#: an event record cut before its fields: "Event logged [", "Event logged [IO_PAGE_FAULT", "Event logged "
_OPEN_EVENT = re.compile(r"Event logged(?: ?\[(?:[A-Z_]{3,40}(?: [^\]]*)?)?)?\s*$")
#: the rest of it on the next line: "[IO_PAGE_FAULT domain=0x000c ...]", "INVALID_DEVICE_REQUEST device=... ]"
_EVENT_TAIL = re.compile(r"^\s*\[?\s*(?:[A-Z_]{3,40}\b)?[^\[\]]*=[^\[\]]*\]\s*$")


class LineJoins:
    """The joining half of the Assembler (see the module docstring)."""

    quoted_printable: bool
    _qp_held: Line | None
    _open_record: tuple[Event, Line] | None

    def feed(self, item: Scanned) -> list[Event]:
        """Events completed by one scanned line (quoted-printable mail text decoded first)."""
        out: list[Event] = []
        line = item.line
        if self._qp_held is not None:  # a line that ended in a soft break: this one may continue it
            held, self._qp_held = self._qp_held, None
            if line is not None and not item.skipped and line.number == held.number + held.raw.count("\n") + 1:
                line = _qp_join(held, line)
                item = Scanned(0, line, item.context)
            else:
                out.extend(self._feed(Scanned(0, held, False)))
        if line is not None and not self.quoted_printable and "rintable" in line.raw and _QP_HEADER.search(line.raw):
            self.quoted_printable = True  # "Content-Transfer-Encoding: quoted-printable": the mail's text follows
        elif line is not None and self.quoted_printable and "=" in line.raw:
            if line.raw.endswith("=") and len(self._qp_chain(line)) < _QP_MAX_JOIN:
                if item.skipped:
                    out.extend(self._feed(Scanned(item.skipped, None, False)))  # type: ignore[arg-type]
                self._qp_held = line
                return out
            else:
                line = _qp_decode(line)
                item = Scanned(item.skipped, line, item.context)
        out.extend(self._feed(item))
        return out

    @staticmethod
    def _qp_chain(line: Line) -> list[str]:
        return line.raw.split("\n")

    # -- event records split over two lines ---------------------------------
    def _continues_open(self, line: Line, out: list[Event]) -> bool:
        """'AMD-Vi: Event logged [' and its fields on the next line, as kernels before 4.x printed them
        (drivers/iommu/amd_iommu.c iommu_print_event(): two printk calls) or as a mail client wrapped it."""
        event, first = self._open_record  # type: ignore[misc]
        body = line.body
        if line.number != first.number + 1 or line.quote_depth != first.quote_depth or not _EVENT_TAIL.match(body):
            return False
        glue = "" if first.body.rstrip().endswith("[") else " "
        joined = first.body.rstrip() + glue + body.strip()
        if "Event logged [" not in joined:
            joined = joined.replace("Event logged ", "Event logged [", 1) if "Event logged [" not in joined else joined
        merged_line = Line(source=line.source, number=first.number, raw=first.raw, body=joined,
                           timestamp=first.timestamp, level=first.level, caller=first.caller,
                           quote_depth=first.quote_depth, origin=first.origin)
        merged = self._message(merged_line)
        if merged is None or merged.kind != "iommu_event" or not merged.fields.get("event_type"):
            return False
        self._open_record = None
        self.total_lines = line.number
        self.formats[line.origin] = self.formats.get(line.origin, 0) + 1
        self._boundaries(line, out)
        merged.end_line = line.number
        merged.text = [first.raw, line.raw]
        merged.fields["joined"] = True  # recorded: two physical lines made this one record
        self._place(merged, first, out)
        return True

    def _release_held(self, out: list[Event]) -> None:
        """At the end: a soft-broken line nothing continued is decoded as it is."""
        if self._qp_held is not None:
            held, self._qp_held = self._qp_held, None
            out.extend(self._feed(Scanned(0, _qp_decode(held), False)))  # type: ignore[attr-defined]

    def _release_open(self, out: list[Event]) -> None:
        if self._open_record is not None:
            event, line = self._open_record
            self._open_record = None
            self._place(event, line, out)
