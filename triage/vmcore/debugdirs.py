"""Module debug info where distributions install it: ccp.ko, for the PSP and SEV firmware state.

The PSP/SEV facts (``psp_master``, ``struct sev_device``) live in ccp.ko, not in vmlinux, so
without ccp's debug info those checks are skipped. drgn's standard search finds module debug
files by build ID and under its kernel directories; the debug packages lay them out by path:

* Debian/Ubuntu ``linux-image-REL-dbg`` / ``-dbgsym``:
  ``/usr/lib/debug/lib/modules/REL/kernel/drivers/crypto/ccp/ccp.ko``
* Fedora/RHEL ``kernel-debuginfo``:
  ``/usr/lib/debug/lib/modules/REL/kernel/drivers/crypto/ccp/ccp.ko.debug``

and people who fetched the debug package by hand keep the same tree, or the file itself, beside
the vmlinux they pass. Each candidate is offered to drgn's ``Module.try_file()``, which accepts
it only if its build ID matches the module in the dump.
"""
from __future__ import annotations

import logging
import os
from collections.abc import Sequence

from ._read import drgn

__all__ = ["DEBUG_MODULES", "module_debug_candidates", "load_module_debug_info"]

#: Modules whose debug info the checks need, with their path under lib/modules/REL/
#: (drivers/crypto/ccp/Makefile builds ccp.ko with the PSP and SEV parts: sp-dev.c, psp-dev.c, sev-dev.c).
DEBUG_MODULES = {"ccp": "kernel/drivers/crypto/ccp/ccp.ko"}
_SUFFIXES = ("", ".debug")


def module_debug_candidates(name: str, release: str, vmlinux: str | None = None,
                            extra_dirs: Sequence[str] = ()) -> list[str]:
    """Where the debug file of module ``name`` may be, most specific first (they need not exist).

    :param vmlinux: the vmlinux the user gave: its directory, and the debug tree it sits in, come first
    :param extra_dirs: more roots, searched like the vmlinux's directory
    """
    rel = DEBUG_MODULES.get(name, f"{name}.ko")
    bases: list[str] = []
    if vmlinux is not None:
        # the link's directory and, for a symbolic link, its target's
        for here in dict.fromkeys([os.path.dirname(os.path.abspath(vmlinux)), os.path.dirname(os.path.realpath(vmlinux))]):
            bases.append(here)
            # .../usr/lib/debug/boot/vmlinux-REL (an extracted -dbg package): its usr/lib/debug root
            if os.path.basename(here) == "boot":
                bases.append(os.path.dirname(here))
    bases += list(extra_dirs)
    paths = []
    for base in bases:
        for suffix in _SUFFIXES:
            paths += [os.path.join(base, os.path.basename(rel) + suffix),
                      os.path.join(base, "lib/modules", release, rel + suffix),
                      os.path.join(base, "usr/lib/debug/lib/modules", release, rel + suffix)]
    for suffix in _SUFFIXES:
        paths.append(os.path.join("/usr/lib/debug/lib/modules", release, rel + suffix))
    return paths


def load_module_debug_info(prog: "drgn.Program", release: str, vmlinux: str | None = None,
                           extra_dirs: Sequence[str] = ()) -> list[str]:
    """Offer the candidates to each loaded module of :data:`DEBUG_MODULES` still wanting debug info.

    :return: the files drgn accepted
    """
    loaded = []
    wanted = {}
    try:
        for module in prog.modules():
            if module.name in DEBUG_MODULES and module.wants_debug_file():
                wanted[module.name] = module
    except Exception:  # noqa: BLE001 - a program without module support: nothing to add
        return loaded
    drgn_log = logging.getLogger("drgn")
    level = drgn_log.level
    drgn_log.setLevel(logging.ERROR)
    try:
        for name, module in wanted.items():
            for path in module_debug_candidates(name, release, vmlinux, extra_dirs):
                if not os.path.isfile(path):
                    continue
                try:
                    module.try_file(path)
                except Exception:  # noqa: BLE001 - an unreadable candidate is just not used
                    continue
                if not module.wants_debug_file():
                    loaded.append(path)
                    break
    finally:
        drgn_log.setLevel(level)
    return loaded
