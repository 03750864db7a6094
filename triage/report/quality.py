"""Capture quality: what the material lacks, and what to collect next.

A diagnosis is only as good as the capture. These checks look at the boots
and findings and say, in the engineer's terms, what is missing.
"""
from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from ..model import VMCORE_LOG_SUFFIX, Capture, Finding, QualityNote

__all__ = ["assess"]

#: findings about the IOMMU/SNP kdump chain (declared by the rules' tags) make
#: the vmcore and the crashed kernel's log worth asking for
_CHAIN_TAGS = frozenset({"snp", "iommu"})
#: a boot that ran this long and then stopped without a word was reset, not quoted in part
_RUNNING_SECONDS = 60.0
#: how a boot starts when a new kernel really booted (a stamp going back may be a quoted excerpt)
_NEW_KERNEL = ("banner", "decompressor", "journal boot id", "journal boot marker")


def assess(captures: Sequence[Capture], findings: Sequence[Finding], vmcore_given: bool,
           vmcore_error: str | None = None) -> list[QualityNote]:
    """What each capture lacks, and what to collect next."""
    notes: list[QualityNote] = []
    for capture in captures:
        if capture.empty:
            notes.append(QualityNote(
                "empty-capture", "warning", capture.source, None, "Empty capture: the input has no line at all.",
                "Check that the right file was given and that the capture tool wrote to it."))
        if capture.input_error:
            notes.append(QualityNote(
                "input-truncated", "warning", capture.source, None,
                f"Only part of the input could be read ({capture.input_error}); the diagnosis covers that part.",
                "Copy the file again from its source, or decompress what is readable by hand and pass the text."))
    if vmcore_error is not None:
        notes.append(QualityNote(
            "vmcore-unreadable", "warning", captures[0].source if captures else "", None,
            f"The vmcore was not read ({vmcore_error}): every vmcore check was skipped; the console logs were "
            "diagnosed without it.",
            "Give the vmlinux with debug info of the crashed kernel's exact release (--vmlinux), or the dump of "
            "this crash; 'snp-triage vmcore VMCORE' says what is wrong with it."))
    snp_findings = [f for f in findings if _CHAIN_TAGS.intersection(f.tags)]
    for i, capture in enumerate(captures):
        if not capture.empty:
            # inputs given together are one incident (crashed.log kdump.log): what a neighbour holds is not missing
            given = _Neighbours(crashed_before=i > 0 and any(b.ended == "panic" for b in captures[i - 1].boots),
                                kdump_after=i + 1 < len(captures) and any(b.role == "kdump" for b in captures[i + 1].boots))
            notes.extend(_capture_notes(capture, [f for f in snp_findings if f.source == capture.source],
                                        [f for f in findings if f.source == capture.source], given))
    if snp_findings and not vmcore_given and vmcore_error is None:
        notes.append(QualityNote(
            "no-vmcore", "info", captures[0].source if captures else "", None,
            "No vmcore was given: the IOMMU completion-wait buffer, the programmed EXCL_BASE and the PSP's SNP "
            "state of the crashed kernel were not checked.",
            "If the kdump kernel saved one (or a later kdump did), run 'snp-triage vmcore VMCORE --vmlinux VMLINUX "
            "--log THIS-LOG'; otherwise pstore/ramoops or a BMC SOL log of the crashed kernel helps."))
    return notes


@dataclass(frozen=True)
class _Neighbours:
    """What the inputs given beside a capture already hold."""

    crashed_before: bool = False  # the input before it ends with a panic (the crashed kernel's log)
    kdump_after: bool = False  # the input after it starts with a kdump kernel


def _capture_notes(capture: Capture, snp_findings: list[Finding], findings: list[Finding],
                   given: _Neighbours = _Neighbours()) -> list[QualityNote]:
    notes: list[QualityNote] = []
    source = capture.source

    def note(code: str, severity: str, boot: int | None, message: str, collect: str) -> None:
        notes.append(QualityNote(code, severity, source, boot, message, collect))

    boots = capture.boots
    kernel_boots = [b for b in boots if b.event_count or b.release or b.command_line]
    if not capture.events:
        note("no-kernel-events", "warning", None,
             "No kernel events were found: this may not be a kernel console capture, or it holds only userspace output.",
             "The serial console / BMC SOL log, 'journalctl -k -b -1 -o short-monotonic', or 'dmesg' of the failing host.")
        return notes
    reordered = [b for b in boots if b.reordered_lines]
    if reordered:
        note("fragments-out-of-order", "info", reordered[0].index,
             f"{sum(b.reordered_lines for b in reordered)} line(s) go back in time within a boot: the capture quotes "
             "parts of the log out of order (a mail or a bug), or pastes one part twice; they were kept in their boot.",
             "The console log as the capture tool wrote it, in one piece, rather than an excerpt.")
    kdump = [b for b in boots if b.role == "kdump"]
    firsts = [b for b in boots if b.role == "first" or b.ended == "panic"]
    if kdump and not any(b.index < kdump[0].index for b in firsts) and not given.crashed_before:
        note("first-kernel-missing", "warning", kdump[0].index,
             "The capture starts in the kdump kernel: the crashed kernel's log (its panic, and the SEV/SNP shutdown "
             "messages printed by the panic notifier) is not in it.",
             "The console log from before the crash (serial/SOL log, netconsole, or pstore: /sys/fs/pstore/dmesg-*).")
    for boot in kdump:
        if boot.command_line is None:
            note("kdump-banner-missing", "info", boot.index,
                 f"Boot {boot.index} (kdump) has no 'Linux version' banner or command line in the capture, so its "
                 "release and parameters are inferred.",
                 "Capture the kdump kernel from its first line; add 'earlyprintk=serial' or 'ignore_loglevel' to "
                 "KDUMP_COMMANDLINE_APPEND if early lines are missing.")
        elif "amd_iommu_dump" not in boot.command_line and any(
                f.boot == boot.index for f in snp_findings):
            note("no-amd-iommu-dump", "info", boot.index,
                 f"The kdump command line of boot {boot.index} lacks 'amd_iommu_dump=1': the IVHD/device table dump "
                 "(and, on newer kernels, the command-buffer dump after a completion-wait timeout) is not printed.",
                 "Add 'amd_iommu_dump=1' (and 'ignore_loglevel') to KDUMP_COMMANDLINE_APPEND and reproduce.")
    reported = {f.boot for f in findings}
    for boot, after in zip(boots, boots[1:]):
        if (boot.ended == "next boot" and boot.dump is None and boot.index not in reported
                and after.started_by in _NEW_KERNEL and (boot.last_timestamp or 0) > _RUNNING_SECONDS):
            note("silent-reset", "warning", boot.index,
                 f"Boot {boot.index} ends without a panic, an oops or a reboot message after running "
                 f"{boot.last_timestamp:.0f} s, and boot {after.index} starts: a silent reset (hardware watchdog, "
                 "power, firmware) or console output lost before the reset.",
                 "The BMC's event log (ipmitool sel elist), pstore (/sys/fs/pstore), and a console capture that "
                 "keeps running through the reset.")
    last = boots[-1]
    if last.ended == "cut off" and last.role == "kdump" and last.dump is None:
        note("kdump-cut-off", "warning", last.index,
             f"The capture ends inside the kdump kernel (boot {last.index}) with neither a panic, a vmcore save nor "
             "a power-off: the capture was cut, or the kdump kernel hung.",
             "Keep capturing until the kdump kernel reboots or powers off; note whether it hung.")
    from_vmcore = source.endswith(VMCORE_LOG_SUFFIX)  # a vmcore's own log always ends at the panic
    if (not from_vmcore and any(b.ended == "panic" and b.kdump_loaded for b in boots) and not kdump
            and boots[-1].ended == "panic" and not given.kdump_after):
        note("kdump-boot-missing", "warning", boots[-1].index,
             "The crashed kernel had a crash kernel loaded ('Kdump: loaded'), but the capture ends at its panic: the "
             "kdump kernel's output is not in it.",
             "Capture the console after the panic as well (the kdump kernel prints on the same console).")
    dropped = sum(b.dropped_messages for b in boots)
    if dropped:
        note("printk-dropped", "warning", None,
             f"{dropped} printk messages were dropped by the kernel: evidence may be missing.",
             "Raise the console speed or log_buf_len, or capture via netconsole/pstore.")
    if capture.torn_lines:
        note("torn-lines", "info", None,
             f"{capture.torn_lines} lines were torn or interleaved (two console writers on one line); they were "
             "untangled where a time stamp allowed.",
             "A capture with 'printk.time=1' and CONFIG_PRINTK_CALLER makes interleaving easy to undo.")
    if capture.truncated_lines:
        note("truncated-lines", "info", None,
             f"{capture.truncated_lines} over-long lines were truncated to 64 KiB.", "Nothing: usually binary noise.")
    if kernel_boots and all(b.first_timestamp is None for b in kernel_boots):
        # the advice fits the capture's format: a journal has its own times, dmesg -T/-H printed them
        if any(capture.formats.get(f) for f in ("journal", "json", "syslog")):
            collect = "Export the journal with its kernel times: 'journalctl -k -o short-monotonic' (or -o json)."
        elif capture.formats.get("dmesg"):
            collect = ("Run 'dmesg' without -T/-H: its raw stamps are seconds since boot and survive a suspend; "
                       "or 'journalctl -k -o short-monotonic'.")
        else:
            collect = "Boot with 'printk.time=1' (kdump: add it to KDUMP_COMMANDLINE_APPEND)."
        note("no-timestamps", "info", None,
             "The capture carries no printk time stamps: boots are split by banners only and rates cannot be measured.",
             collect)
    return notes
