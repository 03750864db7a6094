"""PSP / SEV firmware state of the crashed kernel, from the ccp driver.

Mirrors ``drivers/crypto/ccp/``: the global ``psp_master`` (``struct psp_device *``,
psp-dev.c), its ``sev_data`` (``struct sev_device``, sev-dev.h) and the statics of sev-dev.c
(``psp_dead``, ``sev_cmd_mutex``). ccp is usually a module, so these need its debug info;
without it the PSP checks are reported as skipped.
"""
from __future__ import annotations

from ..model.vmcore import Fact, PspFacts
from ._read import (READ_ERRORS, derive, drgn, global_fact, has_member, is_kernel, member_fact, plain_value,
                    read_fact, unavailable_reason)

__all__ = ["PSP_UNAVAILABLE", "SEV_STATE_NAMES", "sev_device", "psp_facts"]

#: Why PSP facts are missing when ``psp_master`` cannot be read.
PSP_UNAVAILABLE = "ccp module debug info not loaded / PSP not present"

#: SEV platform states: ``enum sev_state`` (include/linux/psp-sev.h: SEV_STATE_UNINIT = 0x0,
#: SEV_STATE_INIT = 0x1, SEV_STATE_WORKING = 0x2). Not re-checked against the target kernels:
#: reported as unconfirmed.
SEV_STATE_NAMES = {0: "UNINIT", 1: "INIT", 2: "WORKING"}


def sev_device(prog: "drgn.Program") -> tuple[Fact, Fact, "drgn.Object | None"]:
    """The SEV device of the PSP, if the crashed kernel probed one.

    ``psp_master->sev_data`` is a ``void *`` that sev-dev.c sets to its ``struct sev_device``;
    the cast is unconfirmed.

    :param prog: the crashed kernel
    :return: (``psp_master`` fact, ``sev_data`` fact, the ``struct sev_device *`` object if usable)
    """
    master = read_fact("global psp_master (ccp module)", lambda: prog["psp_master"].read_())
    if not master.available:
        reason = f"{PSP_UNAVAILABLE} ({master.unavailable}; {_module_debug_state(prog, 'ccp')})"
        return Fact.missing(master.source, reason), Fact.missing("psp_master->sev_data", reason), None
    if not master.value:
        master = Fact(0, master.source)
        return master, Fact.missing("psp_master->sev_data", "psp_master is NULL: no PSP probed"), None
    ptr = master.value
    master = Fact(ptr.value_(), master.source)
    try:
        data = ptr.sev_data.read_()
        sev = drgn.cast(prog.type("struct sev_device *"), data)
    except READ_ERRORS as exc:
        return master, Fact.missing("psp_master->sev_data as struct sev_device *", unavailable_reason(exc)), None
    if not sev.value_():
        return master, Fact.missing("psp_master->sev_data", "sev_data is NULL: SEV not initialised"), None
    return master, Fact(sev.value_(), "psp_master->sev_data (void *, cast to struct sev_device *)",
                        None, "unconfirmed: sev_data type is from memory"), sev


def psp_facts(prog: "drgn.Program") -> PspFacts:
    """SEV/SNP firmware state: ``snp_initialized``, platform state, API version, ``psp_dead``, command mutex.

    ``struct sev_device`` has ``int state`` up to 6.17; 6.18 (commit 459daec42ea0, "crypto: ccp -
    Cache SEV platform status and platform state") replaced it by ``sev_plat_status.state``.

    :param prog: the crashed kernel
    """
    out = PspFacts()
    out.psp_master, out.sev_device, sev = sev_device(prog)
    out.psp_dead = global_fact(prog, "psp_dead", "static")
    # A held sev_cmd_mutex at panic makes the SNP panic notifier (snp_shutdown_on_panic() in
    # sev-dev.c) return without shutting down.
    out.cmd_in_flight = read_fact("static sev_cmd_mutex.owner != 0",
                                  lambda: plain_value(prog["sev_cmd_mutex"].owner.read_()) != 0)
    for fact in (out.psp_dead, out.cmd_in_flight):
        if not fact.available and not out.psp_master.available:
            fact.unavailable = f"{PSP_UNAVAILABLE} ({fact.unavailable})"
    if sev is None:
        reason = "no struct sev_device (see sev_device)"
        for name in ("snp_initialized", "state", "state_name", "api_major", "api_minor", "build"):
            setattr(out, name, Fact.missing(f"struct sev_device.{name}", reason))
        return out
    s = "struct sev_device"
    out.snp_initialized = member_fact(sev, "snp_initialized", s)
    out.state = member_fact(sev, "state", s) if has_member(sev, "state") \
        else member_fact(sev, "sev_plat_status.state", s)
    out.state_name = derive(out.state, f"{out.state.source} (SEV_STATE_*)",
                            lambda v: SEV_STATE_NAMES.get(v, f"unknown ({v})"))
    out.state_name.note = "unconfirmed: SEV_STATE_* values from memory"
    out.api_major = member_fact(sev, "api_major", s)
    out.api_minor = member_fact(sev, "api_minor", s)
    out.build = member_fact(sev, "build", s)
    return out


def _module_debug_state(prog: "drgn.Program", name: str) -> str:
    """Whether kernel module ``name`` was loaded in the crashed kernel and has debug info."""
    try:
        for module in prog.modules():
            if module.name == name:
                return f"module {name}: debug info " + ("missing" if module.wants_debug_file() else "loaded")
    except READ_ERRORS + (drgn.MissingDebugInfoError,):  # type: ignore[operator]
        return f"module {name}: state unknown"
    if not is_kernel(prog):
        return f"module {name}: state unknown"
    return f"module {name} not seen among the crashed kernel's modules"
