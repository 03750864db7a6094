"""The report for people on a terminal: composed rich renderables.

Each piece is a small function returning a rich renderable or a string, so
the CLI and library users can compose them.
"""
from __future__ import annotations

import os
import sys

from rich.console import Console, Group
from rich.panel import Panel
from rich.table import Table
from rich.text import Text

from ..model import Boot, Capture, Finding, Report


#: width of output that goes to a file or a pipe, unless COLUMNS says otherwise
PIPE_WIDTH = 120
#: below this width tables drop their less important columns
NARROW = 100


def _width(stream) -> int | None:
    columns = os.environ.get("COLUMNS", "")
    if columns.isdigit() and 20 <= int(columns) <= 1000:
        return int(columns)
    return None if stream.isatty() else PIPE_WIDTH


def console(stderr: bool = False) -> Console:
    """A console that drops colour when not on a terminal or when NO_COLOR is set.

    Its width is COLUMNS when set (also when piped), the terminal's, or 120
    for files and pipes.  Input text is never read as markup: renderables
    here wrap it in Text.
    """
    stream = sys.stderr if stderr else sys.stdout
    no_color = bool(os.environ.get("NO_COLOR")) or not stream.isatty()
    return Console(file=stream, no_color=no_color, highlight=False, soft_wrap=False, markup=False,
                   emoji=False, width=_width(stream))


def plural(count: int, word: str) -> str:
    """'1 line', '2 lines'."""
    return f"{count} {word}" + ("" if count == 1 else "s")


def _cells(*values: object) -> list[Text]:
    """Table cells that show text as it is (a '[/]' in a log line is not markup)."""
    return [v if isinstance(v, Text) else Text("" if v is None else str(v)) for v in values]


def _seconds(first: float | None, last: float | None) -> str:
    if first is None:
        return "-"
    if last is None or last == first:
        return f"{first:.3f}"
    return f"{first:.3f}-{last:.3f}"


def platform_text(boot: Boot) -> str:
    """"AMD EPYC 9654 96-Core Processor (server), AMD-Vi, SNP": what the boot's lines say it ran on."""
    facts = {name: fact.value for name, fact in boot.platform.items()}
    cpu = str(facts.get("cpu_model") or facts.get("cpu_vendor") or facts.get("arch") or "")
    if "board" in facts and cpu:
        cpu += f" ({facts['board']})"
    iommu = {"amd_vi": "AMD-Vi", "dmar": "Intel VT-d", "smmu": "ARM SMMU"}.get(str(facts.get("iommu")), "")
    parts = [cpu, iommu, "SNP" if facts.get("snp") == "true" else "",
             f"guest of {facts['hypervisor']}" if "hypervisor" in facts else ""]
    return ", ".join(p for p in parts if p)


def boots_table(capture: Capture, width: int | None = None) -> Table:
    """The boots of one capture; below NARROW columns, the counts and times are left out."""
    narrow = width is not None and width < NARROW
    table = Table(title=Text(f"{capture.source}: {plural(len(capture.boots), 'boot')}, "
                             f"{plural(capture.total_lines, 'line')}"), title_justify="left", show_lines=False)
    columns = ("#", "boot") if narrow else (
        "#", "lines", "started by", "role", "release", "ended", "time (s)", "events", "plain", "notes")
    for column in columns:
        table.add_column(column, overflow="fold", no_wrap=column in ("#", "lines", "started by", "role", "ended"))
    for boot in capture.boots:
        notes = []
        if boot.hardware:
            notes.append(boot.hardware)
        if boot.platform:
            notes.append(platform_text(boot))
        if boot.panic_message:
            notes.append(f"panic: {boot.panic_message}")
        if boot.kdump_loaded:
            notes.append("Kdump: loaded")
        if boot.dump:
            notes.append("dump saved" if boot.dump == "saved" else "dump NOT saved")
        if boot.dropped_messages:
            notes.append(f"{boot.dropped_messages} printk messages dropped")
        if boot.torn_lines:
            notes.append(f"{boot.torn_lines} torn lines")
        release = boot.release or "?"
        if boot.release and boot.release_from and boot.release_from != "banner":
            release += f" (from {boot.release_from})"
        if narrow:  # one cell of short lines that wrap well at any width
            text = (f"lines {boot.first_line}-{boot.last_line}, {boot.started_by}; role {boot.role}; "
                    f"ended by {boot.ended}\nrelease {release}")
            table.add_row(*_cells(boot.index, text + "".join(f"\n{n}" for n in notes)))
            continue
        table.add_row(*_cells(
            boot.index, f"{boot.first_line}-{boot.last_line}", boot.started_by, boot.role, release,
            boot.ended, _seconds(boot.first_timestamp, boot.last_timestamp), boot.event_count,
            boot.plain_lines, "; ".join(notes),
        ))
    return table


# ---------------------------------------------------------------- the report

SEVERITY_STYLE = {"critical": "bold white on red", "error": "bold red", "warning": "yellow", "info": "cyan"}
VERDICT_STYLE = {"fixed": "green", "not fixed": "bold red", "unknown": "yellow"}


def fix_text(finding: Finding) -> str:
    fix = finding.fix
    return f"{fix.status}: {fix.explanation}" if fix else ""


def finding_panel(finding: Finding) -> Panel:
    """One finding: what, where, why, what to do, whether the kernel has the fix."""
    body = Text()
    body.append(finding.title + "\n", style="bold")
    where = f"{finding.source}, boot {finding.boot} ({finding.boot_role}"
    where += f", {finding.release})" if finding.release else ")"
    body.append("where     ", style="bold").append(where + "\n")
    body.append("confidence", style="bold").append(f" {finding.confidence} ({finding.confidence_reason})\n")
    if finding.to_confirm:
        body.append("to confirm", style="bold").append(" " + " ".join(finding.to_confirm.split()) + "\n")
    if finding.platform:
        body.append("platform  ", style="bold").append(" " + "; ".join(finding.platform) + "\n")
    body.append("evidence\n", style="bold")
    for evidence in finding.evidence:
        marker = "  * " if evidence.role == "required" else "  - "
        body.append(marker).append(evidence.summary + "\n", style="dim" if evidence.role != "required" else "")
    body.append("cause     ", style="bold").append(" ".join(finding.summary.split()) + "\n")
    body.append("remedy    ", style="bold").append(" ".join(finding.remedy.split()) + "\n")
    if finding.fix:
        body.append("fix       ", style="bold").append(fix_text(finding) + "\n", style=VERDICT_STYLE.get(finding.fix.status, ""))
    if finding.vmcore is not None:
        body.append("vmcore    ", style="bold").append(str(finding.vmcore) + "\n")
    for caveat in finding.caveats:
        body.append("note      ", style="bold").append(" ".join(caveat.split()) + "\n", style="italic")
    if finding.references:
        body.append("refs      ", style="bold").append("; ".join(finding.references[:4]) + "\n", style="dim")
    # the title line is in the body (it wraps there); the panel's own title stays short enough not to be cut
    title = Text.assemble((f" {finding.severity.upper()} ", SEVERITY_STYLE.get(finding.severity, "")), " ",
                          (finding.rule_id, "bold"), f" ({finding.confidence})")
    return Panel(body, title=title, title_align="left", expand=True)


#: findings shown in full (panels, Markdown sections); the rest are one table row each, and
#: every finding is in --format json
MAX_FINDINGS_SHOWN = 20


def more_findings_table(findings: list[Finding]) -> Table:
    """The findings past MAX_FINDINGS_SHOWN, one row each."""
    table = Table(title=Text(f"{plural(len(findings), 'more finding')} (all of them in --format json)"),
                  title_justify="left")
    for column in ("severity", "confidence", "rule", "where", "title"):
        table.add_column(column, overflow="fold")
    for f in findings:
        table.add_row(*_cells(f.severity, f.confidence, f.rule_id, f"{f.source} boot {f.boot} line {f.lines[:1] or '-'}",
                              f.title))
    return table


def quality_table(report: Report) -> Table:
    table = Table(title=Text("Capture quality: what is missing, what to collect next"), title_justify="left")
    table.add_column("source/boot", overflow="fold")
    table.add_column("gap", overflow="fold")
    table.add_column("collect next", overflow="fold")
    for note in report.quality:
        where = note.source + (f" boot {note.boot}" if note.boot is not None else "")
        table.add_row(*_cells(where, note.message, note.collect))
    return table


def _fact(fact, hexadecimal: bool = True) -> str:
    """A vmcore fact for a table cell: addresses in hex, counts in decimal, or why it is missing."""
    if fact is None:
        return "-"
    if getattr(fact, "unavailable", None):
        return f"n/a ({fact.unavailable})"
    value = fact.value
    if isinstance(value, bool):
        return str(value).lower()
    if isinstance(value, int):
        return hex(value) if hexadecimal else str(value)
    return "-" if value is None else str(value)


def vmcore_renderables(report: Report) -> list:
    facts = report.vmcore
    out: list = []
    head = Table(title=Text(f"vmcore: {report.vmcore_path}"), title_justify="left", show_header=False)
    head.add_column("fact", style="bold")
    head.add_column("value", overflow="fold")
    g, p, m = facts.globals, facts.psp, facts.machine
    for label, fact in (("kernel release", m.release), ("AMD system", m.is_amd), ("amd_iommu_snp_en", g.amd_iommu_snp_en),
                        ("irq_remapping_enabled", _fact(g.irq_remapping_enabled, False)), ("sme_me_mask", g.sme_me_mask),
                        ("IOMMU init state", g.init_state), ("crash_kexec_post_notifiers", g.crash_kexec_post_notifiers),
                        ("crash kernel loaded", g.crash_kernel_loaded), ("PSP: SNP initialised", p.snp_initialized),
                        ("PSP: SEV state", p.state_name), ("PSP: API", _api(p)), ("PSP dead", p.psp_dead),
                        ("PSP command in flight", p.cmd_in_flight)):
        head.add_row(*_cells(label, fact if isinstance(fact, str) else _fact(fact)))
    out.append(head)
    iommus = Table(title="AMD IOMMUs (struct amd_iommu on amd_iommu_list)", title_justify="left")
    for column in ("#", "BDF", "mmio", "EFR SNP", "cmd_sem virt", "cmd_sem phys", "*cmd_sem / cmd_sem_val",
                   "EXCL_BASE=LIMIT", "last COMPLETION_WAIT"):
        iommus.add_column(column, overflow="fold")
    for iommu in facts.iommus:
        last = iommu.last_completion_wait
        if last is None:
            wait = _fact(iommu.completion_waits_status) if iommu.completion_waits_status.unavailable else "none in ring"
        else:
            same = "= CWB" if last.matches_cwb or last.matches_cwb_with_sme or last.matches_cmd_sem_paddr else "!= CWB"
            wait = f"store {last.store_address:#x} data {last.data} ({same})"
        excl = _fact(iommu.excl_base)
        if iommu.excl_programmed.available and iommu.excl_programmed.value is False:
            excl += " (not programmed: no EFR SNP)"
        iommus.add_row(*_cells(_fact(iommu.index, False), _fact(iommu.bdf), _fact(iommu.mmio_phys),
                               _fact(iommu.efr_snp), _fact(iommu.cmd_sem_virt), _fact(iommu.cmd_sem_phys),
                               f"{_fact(iommu.cmd_sem_value, False)} / {_fact(iommu.cmd_sem_val, False)}", excl, wait))
    out.append(iommus)
    if report.cross_checks:
        cross = Table(title="vmcore vs console", title_justify="left")
        for column in ("check", "verdict", "detail"):
            cross.add_column(column, overflow="fold")
        for check in report.cross_checks:
            cross.add_row(*_cells(check.check, check.verdict,
                                  check.detail + (f" (line {check.line})" if check.line else "")))
        out.append(cross)
    if facts.skipped:
        skipped = Table(title="vmcore checks skipped", title_justify="left")
        skipped.add_column("check")
        skipped.add_column("why", overflow="fold")
        for item in facts.skipped:
            skipped.add_row(*_cells(item.check, item.reason))
        out.append(skipped)
    return out


def _api(psp) -> str:
    if psp.api_major.available and psp.api_minor.available:
        build = f" build {psp.build.value}" if psp.build.available else ""
        return f"{psp.api_major.value}.{psp.api_minor.value}{build}"
    return _fact(psp.api_major)


def report_renderable(report: Report, width: int | None = None) -> Group:
    """The whole report: diagnosis, boots, vmcore, findings (root cause first), capture quality."""
    parts: list = []
    root = report.root_cause
    if root is None:
        parts.append(Text("No finding: nothing in the rule packs matched.", style="bold green"))
    else:
        parts.append(Text.assemble(("Diagnosis: ", "bold"), (root.title, "bold"),
                                   f"  [{root.rule_id}, {root.confidence}]"))
        parts.append(Text(" ".join(root.summary.split())))
    for capture in report.captures:
        parts.append(boots_table(capture, width))
    if report.vmcore is not None:
        parts.extend(vmcore_renderables(report))
    if report.findings:
        ranked = report.ranked_findings()
        parts.append(Text(f"Findings ({len(ranked)}), most severe first", style="bold"))
        parts.extend(finding_panel(f) for f in ranked[:MAX_FINDINGS_SHOWN])
        if len(ranked) > MAX_FINDINGS_SHOWN:
            parts.append(more_findings_table(ranked[MAX_FINDINGS_SHOWN:]))
    if report.quality:
        parts.append(quality_table(report))
    return Group(*parts)


def plain_text(renderable) -> str:
    con = Console(width=140, no_color=True, record=True, markup=False, file=open(os.devnull, "w"))  # noqa: SIM115
    con.print(renderable)
    return con.export_text()
