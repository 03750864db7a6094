"""All the vmcore checks in one pass, and their cross-check with a console log.

:func:`inspect` runs the helpers of :mod:`triage.vmcore` (``boot_cpu_data`` and
``init_uts_ns``, the AMD-Vi globals of ``drivers/iommu/amd/init.c``, every ``struct amd_iommu``
on ``amd_iommu_list``, the device tables, and the ccp driver's ``struct sev_device``) into one
:class:`~triage.model.vmcore.VmcoreFacts`. A check that cannot run (not x86_64, not AMD,
symbols missing, a damaged dump) is listed in ``skipped`` and never raises.

:func:`compare_logged_cwb` then sets a CWB address printed in a console log against the
EXCL_BASE value each IOMMU's ``iommu_set_cwwb_range()`` programmed.
"""
from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any, Callable

from ..model.vmcore import CwbCrossCheck, Fact, GlobalFacts, MachineFacts, PspFacts, VmcoreCheck, VmcoreFacts
from ._read import READ_ERRORS, unavailable_reason
from .amd_iommu import PM_ADDR_MASK, amd_iommu_globals, for_each_amd_iommu, iommu_facts
from .ccp import PSP_UNAVAILABLE, psp_facts
from .dev_table import device_tables
from .machine import machine_facts
from .program import PARTIAL_KEY

if TYPE_CHECKING:
    import drgn

__all__ = ["inspect", "expected_excl_base", "parse_logged_cwb", "compare_logged_cwb"]


def inspect(prog: "drgn.Program", source: str | None = None) -> VmcoreFacts:
    """Gather machine, globals, every IOMMU, device tables and PSP state from ``prog``.

    Checks that cannot run (not x86_64, not AMD, symbols missing) are listed in ``skipped``.

    :param prog: the crashed kernel (see :func:`~triage.vmcore.open_program`)
    :param source: what to record as the facts' source: the vmcore path, ``"live"``, or None
    """
    facts = VmcoreFacts(source=source)
    try:
        facts.partial = prog.cache.get(PARTIAL_KEY)
    except AttributeError:  # a stand-in program without drgn's cache
        pass
    facts.machine = _guarded(facts, "machine", lambda: machine_facts(prog), MachineFacts())
    if not facts.machine.is_x86_64.get(False):
        _skip_amd(facts, f"not an x86_64 kernel ({facts.machine.arch.value})")
        return facts
    if facts.machine.is_amd.available and not facts.machine.is_amd.value:
        _skip_amd(facts, f"not an AMD/Hygon CPU (x86_vendor={facts.machine.vendor_name.value})")
        return facts
    facts.globals = _guarded(facts, "globals", lambda: amd_iommu_globals(prog), GlobalFacts())
    _guarded(facts, "iommus", lambda: _collect_iommus(prog, facts), None)
    _guarded(facts, "device_tables", lambda: _collect_device_tables(prog, facts), None)
    facts.psp = _guarded(facts, "psp", lambda: psp_facts(prog), PspFacts())
    if not facts.psp.sev_device.available and not any(s.check == "psp" for s in facts.skipped):
        facts.skip("psp", facts.psp.psp_master.unavailable or facts.psp.sev_device.unavailable or PSP_UNAVAILABLE)
    return facts


def _skip_amd(facts: VmcoreFacts, reason: str) -> None:
    for check in ("globals", "iommus", "device_tables", "psp"):
        facts.skip(check, reason)


def _guarded(facts: VmcoreFacts, check: VmcoreCheck, fn: Callable[[], Any], default: Any) -> Any:
    """Run one check; an unexpected error skips that check instead of escaping."""
    try:
        return fn()
    except Exception as exc:  # noqa: BLE001 - a damaged dump must not abort the report
        facts.skip(check, f"failed: {unavailable_reason(exc)}")
        return default


def _collect_iommus(prog: "drgn.Program", facts: VmcoreFacts) -> None:
    try:
        iommus = list(for_each_amd_iommu(prog))
    except READ_ERRORS as exc:
        facts.iommu_count = Fact.missing("amd_iommu_list", unavailable_reason(exc))
        facts.skip("iommus", f"amd_iommu_list: {unavailable_reason(exc)}")
        return
    facts.iommu_count = Fact(len(iommus), "amd_iommu_list (list_for_each_entry over struct amd_iommu.list)")
    if not iommus:
        facts.skip("iommus", "amd_iommu_list is empty (no AMD IOMMU initialised, or amd_iommu=off)")
    for iommu in iommus:
        facts.iommus.append(iommu_facts(prog, iommu, facts.globals.sme_me_mask))


def _collect_device_tables(prog: "drgn.Program", facts: VmcoreFacts) -> None:
    tables, reason = device_tables(prog)
    facts.device_tables = tables
    if reason:
        facts.skip("device_tables", reason)


# ==============================================================================================
# Cross-checks with a console log
# ==============================================================================================


def expected_excl_base(facts: VmcoreFacts) -> dict[int, int]:
    """IOMMU index -> EXCL_BASE/LIMIT value the crashed kernel programmed (or would have)."""
    out = {}
    for position, iommu in enumerate(facts.iommus):
        if iommu.excl_base.available:
            out[iommu.index.get(position)] = iommu.excl_base.value
    return out


# A CWB address printed in a log line: a keyword, then the address, either right after it
# ("cmd_sem_paddr 0x100805000", "cwwb_sem_paddr: 0x100805000", "CWB=0x100805000",
# "paddr = 0x100805000") or a few non-digits later ("EXCL_BASE is 100805000").
_LOGGED_CWB = re.compile(r"(?:cmd_sem_paddr|cwwb_sem_paddr|paddr|EXCL_BASE|CWB)"
                         r"(?:\s*[=:]?\s*(0x[0-9a-fA-F]+)|\D{0,8}?(0x[0-9a-fA-F]+|[0-9a-fA-F]{6,}))")
_HEX = re.compile(r"0x[0-9a-fA-F]+")


def parse_logged_cwb(text: str, bare: bool = True) -> int | None:
    """The CWB physical address in a console line such as ``cmd_sem_paddr 0x100805000``.

    :param text: a log line (or just the address)
    :param bare: with no CWB keyword in ``text``, take its first ``0x`` number (so that an
        address already cut out of a line parses); False for scanning arbitrary log lines
    :return: the address, or None
    """
    found = _LOGGED_CWB.search(text)
    if found is not None:
        return int(found.group(1) or found.group(2), 16)
    if not bare:
        return None
    number = _HEX.search(text)
    return int(number.group(0), 16) if number else None


def compare_logged_cwb(facts: VmcoreFacts, logged: int | str) -> CwbCrossCheck:
    """Compare a CWB physical address printed in a console log with the programmed EXCL_BASE.

    :param facts: what :func:`inspect` read from the crashed kernel
    :param logged: the address, or text holding it (see :func:`parse_logged_cwb`)
    :return: the comparison; ``verdict`` ``match-without-sme`` when they agree only without
        the SME C-bit (``sme_me_mask``)
    """
    address = parse_logged_cwb(logged) if isinstance(logged, str) else logged
    expected = expected_excl_base(facts)
    if address is None or not expected:
        detail = "no address in the log text" if address is None else "no EXCL_BASE could be derived from the vmcore"
        return CwbCrossCheck(address, expected, [], [], "unknown", detail)
    sme = facts.globals.sme_me_mask.get(0)
    wanted = address & PM_ADDR_MASK
    exact = [i for i, v in expected.items() if v == wanted]
    loose = [i for i, v in expected.items() if v not in (wanted,) and (v & ~sme) == (wanted & ~sme)]
    if exact:
        return CwbCrossCheck(address, expected, exact, loose, "match",
                             f"{address:#x} equals EXCL_BASE of IOMMU {exact}")
    if loose:
        return CwbCrossCheck(address, expected, [], loose, "match-without-sme",
                             f"{address:#x} equals EXCL_BASE of IOMMU {loose} only without the SME C-bit")
    listed = ", ".join(f"iommu{i}={v:#x}" for i, v in expected.items())
    return CwbCrossCheck(address, expected, [], [], "mismatch", f"{address:#x} differs from {listed}")
