"""Split one capture into boots and learn what each boot was.

A capture often holds two kernels: the one that crashed and the kdump kernel.
A new boot starts at a ``Linux version`` banner, at decompressor output, at a
journal boot marker, when printk time stamps jump back (the banner was not
captured), or at the first kernel message after a panic that is not part of
the panic's own trailer (x86 stops all other CPUs in panic(), so the crashed
kernel prints nothing new after it).
"""
from __future__ import annotations

import pickle
import re
import tempfile
from array import array
from dataclasses import fields
from collections.abc import Callable, Iterator, Sequence
from typing import overload

from ..model import KDUMP_ONLY_MESSAGES, Boot, Event
from .platform import observe

_BOOT_IMAGE = re.compile(r"BOOT_IMAGE=\S*?vmlinu[xz]-(\S+)")

#: Time stamps may step back a little when CPUs interleave; more is a reboot.
RESET_TOLERANCE = 0.1
#: a stamp that goes back in time starts a new boot only if it lands in a kernel's first
#: seconds (a kdump kernel starts at 0); a jump back to, say, 210 s after 225 s is a mail or
#: a bug quoting part of the log out of order, counted in Boot.reordered_lines instead
EARLY_BOOT_SECONDS = 60.0
#: a capture's opening lines that are this few (and neither panicked nor rebooted) are an excerpt
#: quoted ahead of the full log (a mail, a bug): the log that follows is the same boot
EXCERPT_LINES = 10

#: What a crashed kernel still prints after ``Kernel panic - not syncing``.
PANIC_TRAILER = {
    "kernel_offset", "rebooting", "crash_kexec", "printk_dropped", "sysrq_crash",
}


#: a spilled boot is the tuple of its fields: half the bytes of the pickled object, and read back in
#: 40% of the time (the main job reads each spilled boot several times)
_BOOT_FIELDS = tuple(f.name for f in fields(Boot))

#: boots kept in memory: the most recent ones (a boot this far back is closed: no event lands in it)
BOOTS_IN_MEMORY = 256


class BootStore(Sequence[Boot]):
    """The boots of one source: the latest BOOTS_IN_MEMORY in memory, older ones in an unlinked
    temporary file (a capture of a million boots must not hold a million Boot objects).

    Reading a spilled boot gives a copy; the tracker only changes boots still in memory.
    """

    def __init__(self, settle: Callable[[Boot, Boot], None] | None = None) -> None:
        self._recent: list[Boot] = []
        self._first = 0  # index in the sequence of self._recent[0]
        self._file = None
        self._offsets = array("Q")
        self._settle = settle  # called with (boot, the boot after it) before a boot is spilled

    def append(self, boot: Boot) -> None:
        self._recent.append(boot)
        if len(self._recent) > 2 * BOOTS_IN_MEMORY:
            self._spill(len(self._recent) - BOOTS_IN_MEMORY)

    def _spill(self, count: int) -> None:
        if self._file is None:
            self._file = tempfile.TemporaryFile(prefix="snp-triage-boots-")
        out = self._file
        out.seek(0, 2)
        for i in range(count):
            boot = self._recent[i]
            if self._settle is not None:
                self._settle(boot, self._recent[i + 1])
            self._offsets.append(out.tell())
            pickle.dump(tuple(getattr(boot, name) for name in _BOOT_FIELDS), out, protocol=pickle.HIGHEST_PROTOCOL)
        del self._recent[:count]
        self._first += count

    def pop(self) -> Boot:
        return self._recent.pop()

    def __len__(self) -> int:
        return self._first + len(self._recent)

    @overload
    def __getitem__(self, i: int) -> Boot: ...
    @overload
    def __getitem__(self, i: slice) -> list[Boot]: ...

    def __getitem__(self, i):
        if isinstance(i, slice):
            return [self[j] for j in range(*i.indices(len(self)))]
        if i < 0:
            i += len(self)
        if not 0 <= i < len(self):
            raise IndexError(i)
        if i >= self._first:
            return self._recent[i - self._first]
        assert self._file is not None
        self._file.seek(self._offsets[i])
        return Boot(*pickle.load(self._file))

    def __iter__(self) -> Iterator[Boot]:
        if self._file is not None and self._first:
            self._file.seek(0)
            for _ in range(self._first):
                yield Boot(*pickle.load(self._file))
        yield from list(self._recent)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Sequence) and list(self) == list(other)

    def __repr__(self) -> str:
        return f"BootStore({len(self)} boots, {self._first} on disk)"


class BootTracker:
    """Keeps the current boot of one source and closes it when the next starts."""

    def __init__(self, source: str) -> None:
        self.source = source
        self.boots = BootStore(_settle_roles)
        self.current = Boot(source=source, index=0, first_line=1, last_line=0, started_by="start of input")
        self.boots.append(self.current)
        self.index = 0  # of the current boot
        self._kernel_lines = 0  # kernel lines seen in the current boot
        self._banner_seen = False
        self._last_timestamp: float | None = None
        self._panicked = False
        self._journal_boot: str | None = None
        self._stamp_line = 0  # line whose stamp last updated the boot ...
        self._stamp_before: float | None = None  # ... and the boot's last stamp before it

    # -- starting boots --------------------------------------------------

    def _opening_excerpt(self) -> bool:
        """The current boot is only a few quoted lines at the top of the input (see EXCERPT_LINES)."""
        boot = self.current
        return (boot.index == 0 and boot.started_by == "start of input" and not self._banner_seen
                and not self._panicked and boot.ended == "cut off" and 0 < self._kernel_lines <= EXCERPT_LINES)

    def start(self, reason: str, line: int) -> None:
        """Begin a new boot at ``line`` unless the current one is still empty (or an opening excerpt)."""
        if (self._kernel_lines == 0 and not self._banner_seen) or (
                self.current.first_line == line and not self.current.event_count):
            # nothing of the current boot yet, or only this very line: it starts the boot we are in
            if self.current.started_by == "start of input":
                self.current.started_by = reason
            return
        if reason in ("timestamp reset", "banner") and self._opening_excerpt():
            self.current.reordered_lines += self._kernel_lines  # the excerpt came before its log
            self.current.started_by = reason
            self._kernel_lines = EXCERPT_LINES + 1  # one excerpt only
            return
        if reason == "decompressor" and self.current.started_by == "decompressor" and not self._banner_seen:
            return  # more output of the same decompressor
        previous = self.current
        if previous.ended == "cut off":
            previous.ended = "next boot"
        stamp = None
        if self._stamp_line == line:  # this line's stamp was booked to the old boot
            stamp = previous.last_timestamp
            previous.last_timestamp = self._stamp_before
            if previous.first_timestamp == stamp and self._stamp_before is None:
                previous.first_timestamp = None
        previous.last_line = min(previous.last_line, line - 1)
        self.current = Boot(source=self.source, index=previous.index + 1, first_line=line,
                            last_line=line - 1, started_by=reason, first_timestamp=stamp, last_timestamp=stamp)
        if previous.ended == "panic" and previous.kdump_loaded:
            self.current.role, self.current.role_reason = "kdump", "follows a panic with 'Kdump: loaded'"
        self.boots.append(self.current)
        self.index = self.current.index
        self._kernel_lines = 0
        self._banner_seen = False
        self._last_timestamp = stamp
        self._panicked = False

    def before_line(self, timestamp: float | None, line: int, journal_boot: str | None) -> None:
        """Boundaries visible from the envelope alone: stamp reset, journal boot id."""
        if journal_boot is not None:
            if self._journal_boot is not None and journal_boot != self._journal_boot:
                self.start("journal boot id", line)
            self._journal_boot = journal_boot
        if timestamp is None:
            return
        last = self._last_timestamp
        if last is not None and timestamp < last - RESET_TOLERANCE:
            if timestamp >= EARLY_BOOT_SECONDS and not self._journal_boot:
                self.current.reordered_lines += 1  # an out-of-order fragment, not a new kernel
                return
            self.start("timestamp reset", line)
        self._last_timestamp = timestamp
        self._stamp_line, self._stamp_before = line, self.current.last_timestamp
        if self.current.first_timestamp is None:
            self.current.first_timestamp = timestamp
        self.current.last_timestamp = timestamp

    def note_time(self, seconds: float) -> None:
        """A wall-clock line's seconds within the boot (syslog, journal, dmesg -T): the boot's time span."""
        boot = self.current
        if boot.first_timestamp is None:
            boot.first_timestamp = seconds
        boot.last_timestamp = seconds if boot.last_timestamp is None else max(boot.last_timestamp, seconds)

    def after_panic_starts_boot(self, message: str | None, kind: str) -> bool:
        """Whether a kernel line seen after a panic belongs to a new boot."""
        if not self._panicked:
            return False
        if kind in ("sev", "iommu_event") or message in PANIC_TRAILER:
            return False
        return True

    def panic_seen(self) -> None:
        """A panic header opened in the current boot: what follows is trailer or a new boot."""
        self._panicked = True

    def banner(self, line: int) -> None:
        if self.current.first_line == line:  # the banner's stamp reset already split here
            self.current.started_by = "banner"
        elif self._banner_seen or (self._kernel_lines > 2 and self.current.started_by != "decompressor"):
            self.start("banner", line)
        elif self.current.started_by == "start of input":
            self.current.started_by = "banner"
        self._banner_seen = True

    # -- learning about the current boot -----------------------------------
    def kernel_line(self, line: int) -> None:
        self._kernel_lines += 1
        self.current.last_line = max(self.current.last_line, line)

    def plain(self, count: int, last_line: int) -> None:
        self.current.plain_lines += count
        self.current.last_line = max(self.current.last_line, last_line)

    def torn(self) -> None:
        self.current.torn_lines += 1

    def record(self, event: Event) -> None:
        """Update the boot the event belongs to."""
        boot = self.boots[event.boot] if event.boot >= self.index - BOOTS_IN_MEMORY else Boot(self.source, event.boot, 0, 0, "")
        boot.event_count += 1
        if event.end_line > boot.last_line:
            boot.last_line = event.end_line
        kind, message = event.kind, event.message
        if kind == "iommu_event":  # storms: nothing more to learn about the boot
            if "iommu" not in boot.platform:
                observe(boot, event)
            return
        observe(boot, event)
        if kind == "boot_banner" and boot.release is None:
            boot.release, boot.release_from = event.fields.get("release"), "banner"
        elif kind == "command_line" and boot.command_line is None:
            boot.command_line = event.fields.get("command_line") or ""
            if event.fields.get("kdump"):
                boot.role, boot.role_reason = "kdump", "command line carries elfcorehdr="
            elif boot.role == "unknown":
                boot.role, boot.role_reason = "first", "command line without elfcorehdr="
            image = _BOOT_IMAGE.search(boot.command_line)
            if image and boot.release is None:
                boot.release, boot.release_from = image.group(1), "command line (BOOT_IMAGE)"
        elif message == "hardware" and boot.hardware is None:
            boot.hardware = event.fields.get("hardware")
        elif message in KDUMP_ONLY_MESSAGES and boot.role == "unknown":
            boot.role, boot.role_reason = "kdump", "AMD-Vi found translation enabled by the previous kernel (kdump only)"
        elif kind == "kdump_tool" and message in ("dump_saved", "dump_failed"):
            boot.dump = "saved" if message == "dump_saved" else "failed"
        elif message == "printk_dropped":
            boot.dropped_messages += int(event.fields.get("count") or 0)
        elif message in ("power_down", "reboot") and boot.ended != "panic":
            boot.ended = "reboot"
        if event.fields.get("hardware") and boot.hardware is None:
            boot.hardware = event.fields["hardware"]
        if event.fields.get("kdump_loaded"):
            boot.kdump_loaded = True
        if event.fields.get("release") and boot.release is None and kind != "boot_banner":
            boot.release, boot.release_from = event.fields["release"], "report (CPU: line)"
        if kind == "kernel_panic" and boot.ended != "panic":
            boot.ended = "panic"
            boot.panic_message = event.fields.get("panic_message")

    def finish(self) -> BootStore:
        """Close the last boot and settle roles that only hindsight gives."""
        last = self.boots[-1]
        if len(self.boots) > 1 and last.first_line > last.last_line and not last.event_count:
            self.boots.pop()  # a boot marker on the input's last line: nothing of that boot was captured
            self.boots[-1].ended = "next boot"
        recent = self.boots._recent
        for before, after in zip(recent, recent[1:]):
            _settle_roles(before, after)
        return self.boots


def _settle_roles(before: Boot, after: Boot) -> None:
    """A boot that panicked with kdump loaded, followed by a kdump kernel, was the first kernel."""
    if after.role == "kdump" and before.role == "unknown" and before.ended == "panic" and before.kdump_loaded:
        before.role, before.role_reason = "first", "panicked; the next boot is its kdump kernel"
