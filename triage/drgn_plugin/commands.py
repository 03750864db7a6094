"""drgn commands: ``amd_iommu``, ``snp_state`` and ``snp_triage``, following drgn's command conventions.

Registered with drgn's ``linux_kernel_command`` decorator (``drgn/commands/linux.py``: enabled only
when the program is a Linux kernel), argparse options declared with ``drgn.commands.argument``,
functions named ``_cmd_<name>`` taking ``(prog, name, args, **kwargs)``; output goes to stdout so
drgn's redirections and pipes (``%amd_iommu | grep CWB``) apply. Each command reads the facts
once per program (``prog.cache``; never for a live kernel, whose state moves). The rest of
snp-triage is imported when a command runs, not when drgn loads the plugin.

The text is built by :func:`format_amd_iommu` and :func:`format_snp_state` from the same
:class:`~triage.model.vmcore.VmcoreFacts` the report shows, so a drgn user and a report reader
see the same values with the same provenance.
"""
from __future__ import annotations

import argparse
import json
from typing import TYPE_CHECKING, Any

from drgn import Program, ProgramFlags
from drgn.commands import CommandError, argument
from drgn.commands.linux import linux_kernel_command

from ..errors import TriageError

if TYPE_CHECKING:
    from ..model.vmcore import Fact, VmcoreFacts

__all__ = ["facts_of", "format_amd_iommu", "format_snp_state"]

_CACHE_KEY = "snp_triage_facts"


def facts_of(prog: Program) -> VmcoreFacts:
    """:func:`triage.vmcore.inspect` of ``prog``, read once per core dump."""
    from ..vmcore import inspect

    if prog.flags & ProgramFlags.IS_LIVE:
        return inspect(prog, "live")
    facts = prog.cache.get(_CACHE_KEY)
    if facts is None:
        facts = prog.cache[_CACHE_KEY] = inspect(prog, "drgn")
    return facts


def _show(fact: Fact, hex_: bool = True) -> str:
    if not fact.available:
        return f"unavailable ({fact.unavailable})"
    value = fact.value
    if isinstance(value, bool) or not isinstance(value, int):
        return str(value)
    return f"{value:#x}" if hex_ else str(value)


def format_amd_iommu(facts: VmcoreFacts) -> str:
    """One block per ``struct amd_iommu``: where it is, its EFR, the CWB, EXCL_BASE and the last
    COMPLETION_WAIT of its command ring."""
    lines = [f"AMD IOMMUs: {_show(facts.iommu_count, hex_=False)}"]
    for iommu in facts.iommus:
        lines.append(f"IOMMU {_show(iommu.index, hex_=False)}  {_show(iommu.bdf)}  "
                     f"(struct amd_iommu *){_show(iommu.address)}")
        rows = [
            ("mmio_phys", _show(iommu.mmio_phys)),
            ("EFR", f"{_show(iommu.efr)}  SNPSup={_show(iommu.efr_snp)}  [{iommu.efr.source}]"),
            ("translation pre-enabled", _show(iommu.trans_pre_enabled)),
            ("CWB (cmd_sem) phys", _show(iommu.cmd_sem_phys)),
            ("cmd_sem stored/issued", f"{_show(iommu.cmd_sem_value)} / {_show(iommu.cmd_sem_val)}  "
                                      f"({_show(iommu.cmd_sem_state)})"),
            ("EXCL_BASE (expected)", f"{_show(iommu.excl_base)}  programmed={_show(iommu.excl_programmed)}"),
            ("command ring head/tail", f"{_show(iommu.cmd_buf_head)} / {_show(iommu.cmd_buf_tail)}"),
        ]
        last = iommu.last_completion_wait
        if last is not None:
            match = {True: "= CWB", False: "!= CWB", None: "CWB unknown"}[last.matches_cwb]
            rows.append(("last COMPLETION_WAIT", f"store {last.store_address:#x} ({match}) data {last.data:#x}"))
        else:
            rows.append(("last COMPLETION_WAIT", _show(iommu.completion_waits_status)))
        lines += [f"  {name:<24}{value}" for name, value in rows]
    for table in facts.device_tables:
        lines.append(f"device table seg {table.segment}: {table.entries} entries, valid {table.valid_entries}, "
                     f"unreadable pages {table.unreadable_pages}")
    lines += [f"skipped {s.check}: {s.reason}" for s in facts.skipped if s.check in ("iommus", "device_tables")]
    return "\n".join(lines)


def format_snp_state(facts: VmcoreFacts) -> str:
    """The SNP-relevant globals (AMD-Vi, SME, kexec) and the PSP/SEV firmware state."""
    g, p, m = facts.globals, facts.psp, facts.machine
    rows = [
        ("kernel", f"{_show(m.release)} {_show(m.arch)} {_show(m.vendor_name)}"),
        ("amd_iommu_snp_en", _show(g.amd_iommu_snp_en)),
        ("amd_iommu init_state", _show(g.init_state)),
        ("sme_me_mask", _show(g.sme_me_mask)),
        ("irq remapping", f"amd_iommu_irq_remap={_show(g.amd_iommu_irq_remap)} "
                          f"irq_remapping_enabled={_show(g.irq_remapping_enabled)}"),
        ("amd_iommu_efr (6.12+)", _show(g.amd_iommu_efr)),
        ("crash kernel loaded", _show(g.crash_kernel_loaded)),
        ("crash_kexec_post_notifiers", _show(g.crash_kexec_post_notifiers)),
        ("snp_nr_leaked_pages", _show(g.snp_nr_leaked_pages, hex_=False)),
        ("psp_master", _show(p.psp_master)),
    ]
    if p.sev_device.available:
        rows += [
            ("SEV state", f"{_show(p.state_name)}  snp_initialized={_show(p.snp_initialized)}"),
            ("SEV firmware", f"{_show(p.api_major, False)}.{_show(p.api_minor, False)} build {_show(p.build, False)}"),
            ("SEV command in flight", _show(p.cmd_in_flight)),
        ]
    else:
        rows.append(("SEV device", _show(p.sev_device)))
    lines = [f"{name:<28}{value}" for name, value in rows]
    if facts.partial:
        lines.append(f"dump read in part: {facts.partial}")
    lines += [f"skipped {s.check}: {s.reason}" for s in facts.skipped if s.check in ("globals", "psp", "machine")]
    return "\n".join(lines)


def _json(value: Any) -> str:
    return json.dumps(value, indent=2, default=str)


@linux_kernel_command(
    description="show each AMD IOMMU: EFR, completion-wait buffer, EXCL_BASE, last COMPLETION_WAIT",
    long_description="Reads every struct amd_iommu on amd_iommu_list (drivers/iommu/amd/init.c) and its "
                     "command ring, and the device tables, as snp-triage's vmcore stage does.",
    arguments=(argument("--json", action="store_true", help="the facts as JSON, with their sources"),),
)
def _cmd_amd_iommu(prog: Program, name: str, args: argparse.Namespace, **kwargs: Any) -> None:
    facts = facts_of(prog)
    if args.json:
        data = facts.to_dict()
        print(_json({"iommu_count": data["iommu_count"], "iommus": data["iommus"],
                     "device_tables": data["device_tables"]}))
    else:
        print(format_amd_iommu(facts))


@linux_kernel_command(
    description="show the SEV-SNP state: amd_iommu_snp_en, SME mask, PSP/SEV firmware state",
    long_description="The AMD-Vi, SME and kexec globals and the ccp driver's struct sev_device "
                     "(drivers/crypto/ccp/sev-dev.c); needs ccp.ko's debug info for the PSP part.",
    arguments=(argument("--json", action="store_true", help="the facts as JSON, with their sources"),),
)
def _cmd_snp_state(prog: Program, name: str, args: argparse.Namespace, **kwargs: Any) -> None:
    facts = facts_of(prog)
    if args.json:
        data = facts.to_dict()
        print(_json({k: data[k] for k in ("machine", "globals", "psp", "skipped", "partial")}))
    else:
        print(format_snp_state(facts))


@linux_kernel_command(
    description="diagnose this kernel: its own log through snp-triage's rules, with the vmcore facts",
    long_description="The full snp-triage report of the loaded program: the kernel log in its printk "
                     "buffer matched against the rule packs, fused with the IOMMU and SNP facts.",
    arguments=(
        argument("--format", choices=("rich", "json", "markdown"), default="rich", help="report format"),
        argument("--log", action="append", default=[], metavar="FILE",
                 help="console captures of the same crash to diagnose with it (repeatable)"),
        argument("--rules", action="append", default=[], metavar="DIR", help="add a custom rule pack"),
    ),
)
def _cmd_snp_triage(prog: Program, name: str, args: argparse.Namespace, **kwargs: Any) -> None:
    try:
        release = prog["UTS_RELEASE"].string_().decode()
    except Exception:  # noqa: BLE001 - a label only
        release = "unknown release"
    from ..report import analyze_program, render_report

    try:
        report = analyze_program(prog, logs=args.log, rule_dirs=args.rules, label=f"drgn program ({release})")
    except TriageError as exc:  # a log or rule pack that cannot be read: one line, as drgn prints errors
        raise CommandError(str(exc)) from None
    render_report(report, args.format)
