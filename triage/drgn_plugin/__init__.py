"""The drgn plugin: snp-triage's AMD IOMMU and SEV-SNP helpers inside a ``drgn`` session.

People who read vmcores live in drgn; the checks nobody else has should be there too. After
``pip install snp-triage`` this package is registered as the ``snp_triage`` entry point of the
``drgn.plugins`` group (pyproject.toml), which drgn imports when it starts (drgn's
docs/advanced_usage.rst, "Writing Plugins"). Importing it registers the commands of
:mod:`.commands` (``amd_iommu``, ``snp_state``, ``snp_triage``: ``%amd_iommu`` in drgn's
interactive prompt, ``run_command(prog, "amd_iommu")`` in a script), and drgn calls the
:func:`drgn_prog_set` hook once a program is set to a kernel: it registers a debug-info finder
for ccp.ko in the distributions' debug package paths (:mod:`triage.vmcore.debugdirs`), so the PSP
and SEV state can be read in a plain ``drgn -c vmcore`` session. With drgn-tools installed, the
same diagnosis is a corelens module (:mod:`.corelens`).

The helpers themselves are :mod:`triage.vmcore` (``from triage.vmcore import *`` in the session).
This package sits above the report stage (it renders the diagnosis); nothing imports it but drgn.
drgn imports it on every start, so it imports the rest of snp-triage only when a command runs.
"""
from __future__ import annotations

import logging
from typing import Any

__all__ = ["drgn_prog_set", "ccp_debug_info_finder", "FINDER_NAME", "COMMANDS"]

#: Name of the debug-info finder this plugin registers.
FINDER_NAME = "snp_triage_ccp"
#: The commands this plugin adds to drgn.
COMMANDS = ("amd_iommu", "snp_state", "snp_triage")

try:  # drgn >= 0.0.31 has a command API; older drgn still gets the finder and the helpers
    from . import commands as _commands  # noqa: F401 - registers the commands on import
except ImportError:  # pragma: no cover - depends on the installed drgn
    _commands = None

try:  # corelens discovers CorelensModule subclasses that are imported
    from . import corelens as _corelens  # noqa: F401
except ImportError:
    _corelens = None


def ccp_debug_info_finder(modules: list[Any]) -> None:
    """drgn debug-info finder: offer ccp.ko's debug file from the debug package paths to the ccp module."""
    from ..vmcore.debugdirs import DEBUG_MODULES, module_debug_candidates

    for module in modules:
        if module.name not in DEBUG_MODULES or not module.wants_debug_file():
            continue
        try:
            release = module.prog["UTS_RELEASE"].string_().decode()
        except Exception:  # noqa: BLE001 - no VMCOREINFO: nothing to look for
            return
        options = module.prog.debug_info_options  # drgn -d DIR / --kernel-directory DIR: roots too
        roots = [d for d in (*options.directories, *options.kernel_directories) if d and d.startswith("/")]
        for path in module_debug_candidates(module.name, release, extra_dirs=roots):
            try:
                module.try_file(path)
            except Exception:  # noqa: BLE001 - a missing or foreign file is just not used
                continue
            if not module.wants_debug_file():
                break


def drgn_prog_set(prog: Any) -> None:
    """drgn plugin hook, called when ``prog`` is attached to a core dump or a live kernel."""
    import drgn

    if not prog.flags & drgn.ProgramFlags.IS_LINUX_KERNEL:
        return
    try:
        prog.register_debug_info_finder(FINDER_NAME, ccp_debug_info_finder, enable_index=-1)
    except Exception as exc:  # noqa: BLE001 - an older drgn without finders: the commands still work
        logging.getLogger("drgn").debug("snp_triage: no debug info finder registered: %s", exc)
