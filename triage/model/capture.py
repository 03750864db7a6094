"""Plain typed objects that flow through the pipeline.

Data moves one way: reader -> lines -> events/boots -> findings -> report.
Every stage consumes and produces these dataclasses only, so each stage can be
tested (and replaced) on its own and the library API hands out the same
objects the CLI prints.
"""
from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict, dataclass, field, fields
from typing import Any

from .vocabulary import EVENT_ATTRS, SCHEMA_VERSION, BootEnding, BootRole


@dataclass(slots=True)
class Line:
    """One physical input line with its envelope (prefixes) taken apart."""

    source: str
    number: int  # 1-based line number in the (decompressed) input
    raw: str  # decoded text, control characters removed, no newline
    body: str  # the kernel message after every prefix
    timestamp: float | None = None  # seconds since boot (dmesg stamp)
    level: int | None = None  # syslog level 0..7
    caller: str | None = None  # CONFIG_PRINTK_CALLER id: "T123" / "C4"
    quote_depth: int = 0  # '>' markers of a mail/bug quote
    origin: str = "console"  # console | journal | syslog | json | plain
    kernel: bool = True  # False for userspace lines of a journal/syslog
    torn: bool = False  # the line carries a fragment of another line
    embedded: bool = False  # the kernel text follows other output on the same line
    truncated: bool = False  # cut at the reader's maximum line length
    boot_id: str | None = None  # journal JSON records carry the boot they belong to
    joined: bool = False  # several physical lines made this one (raw holds them, "\n"-separated)
    wallclock: float | None = None  # a syslog/journal line's wall-clock stamp, in seconds (see Assembler)


@dataclass(slots=True)
class Frame:
    """One entry of a Call Trace (or the RIP line)."""

    function: str | None
    offset: int | None = None
    size: int | None = None
    module: str | None = None
    reliable: bool = True  # False for '?' frames
    context: str | None = None  # TASK / IRQ / NMI / SOFTIRQ
    address: str | None = None  # raw address where printed instead of a symbol
    line: int | None = None

    def __str__(self) -> str:
        if self.function is None:
            return self.address or "?"
        text = self.function
        if self.offset is not None:
            text += f"+{self.offset:#x}"
            if self.size is not None:
                text += f"/{self.size:#x}"
        if self.module:
            text += f" [{self.module}]"
        return ("? " if not self.reliable else "") + text


@dataclass(slots=True)
class Event:
    """A structured event: a known message or a whole kernel report.

    ``fields`` holds the kind-specific values (``title``, ``frames``, IOMMU
    index, addresses...). They are flattened into the JSON object.
    """

    kind: str
    source: str
    boot: int
    line: int
    end_line: int
    text: list[str]
    timestamp: float | None = None
    level: str | None = None
    caller: str | None = None
    subsystem: str | None = None
    message: str | None = None  # stable id of a known message
    fields: dict[str, Any] = field(default_factory=dict)
    body: str | None = None  # the first line's message, envelope removed (not in the JSON)

    def get(self, name: str, default: Any = None) -> Any:
        """Common attribute or kind-specific field, as rules address them."""
        if name in EVENT_ATTRS:
            return getattr(self, name)
        return self.fields.get(name, default)

    @property
    def title(self) -> str:
        return self.fields.get("title") or self.message or self.kind

    @property
    def lines(self) -> range:
        return range(self.line, self.end_line + 1)

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "schema": SCHEMA_VERSION, "kind": self.kind, "source": self.source, "boot": self.boot,
            "line": self.line, "end_line": self.end_line, "timestamp": self.timestamp, "level": self.level,
            "caller": self.caller, "subsystem": self.subsystem, "message": self.message, "text": self.text,
        }
        for key, value in self.fields.items():
            out[key] = value if value is None or type(value) in _SCALARS else _plain(value)
        return out


_SCALARS = (str, int, float, bool)


def _plain(value: Any) -> Any:
    if isinstance(value, Frame):
        return {k: v for k, v in asdict(value).items()}
    if isinstance(value, list):
        return [_plain(v) for v in value]
    return value


@dataclass(slots=True)
class PlatformFact:
    """One fact about the machine a boot ran on (``PLATFORM_FACTS``), with the line that showed it."""

    value: str | int
    line: int
    text: str  # the message that showed it (cut to 120 characters)
    inferred: bool = False  # a CPU fact guessed from another message (AMD-Vi -> AMD), not the CPU's own line

    def describe(self) -> str:
        return f"{self.value} (line {self.line}: {self.text})"


@dataclass(slots=True)
class Boot:
    """One kernel run seen in one input: from its start to how it ended."""

    source: str
    index: int  # 0-based within the source
    first_line: int
    last_line: int
    started_by: str  # banner | timestamp reset | decompressor | after panic | start of input
    release: str | None = None
    release_from: str | None = None  # banner | report (CPU: line) | command line
    command_line: str | None = None
    role: BootRole = "unknown"
    role_reason: str | None = None
    hardware: str | None = None
    ended: BootEnding = "cut off"
    panic_message: str | None = None
    kdump_loaded: bool = False  # a report line said 'Kdump: loaded'
    dump: str | None = None  # the kdump tools said the dump was "saved" or "failed" (last word wins)
    first_timestamp: float | None = None
    last_timestamp: float | None = None
    event_count: int = 0
    plain_lines: int = 0  # lines kept as plain messages (not events)
    dropped_messages: int = 0  # 'printk messages dropped' / '** N printk messages dropped **'
    torn_lines: int = 0
    reordered_lines: int = 0  # lines whose stamp goes back in time within the boot (fragments out of order)
    platform: dict[str, PlatformFact] = field(default_factory=dict)  # fact name (PLATFORM_FACTS) -> what showed it

    def to_dict(self) -> dict[str, Any]:
        # by hand, not dataclasses.asdict(): its deep copy was a third of the main job on a capture
        # of many short boots (every field is a scalar but the platform facts)
        out: dict[str, Any] = {"schema": SCHEMA_VERSION}
        for name in _BOOT_FIELDS:
            out[name] = getattr(self, name)
        out["platform"] = {name: {key: getattr(fact, key) for key in _FACT_FIELDS}
                           for name, fact in self.platform.items()}
        return out


_BOOT_FIELDS = tuple(f.name for f in fields(Boot) if f.name != "platform")
_FACT_FIELDS = tuple(f.name for f in fields(PlatformFact))


@dataclass(slots=True)
class Capture:
    """Everything ingestion learnt from one input."""

    source: str
    boots: Sequence[Boot]  # a list, or for long captures triage.ingest.boots.BootStore (older boots on disk)
    events: list[Event]
    total_lines: int
    plain_lines: int
    torn_lines: int = 0
    truncated_lines: int = 0
    formats: dict[str, int] = field(default_factory=dict)  # origin -> line count
    input_error: str | None = None  # the input could not be read to its end (e.g. a truncated .gz)
    summarised: int = 0  # events read but not in ``events`` (a bounded summary kept the others)

    @property
    def event_total(self) -> int:
        """Every event the input held, kept or not."""
        return len(self.events) + self.summarised

    @property
    def empty(self) -> bool:
        """No line at all (0 bytes, /dev/null, an empty .gz)."""
        return self.total_lines == 0
