"""Opening a vmcore, or the live kernel, with its debug info.

Wraps :class:`drgn.Program`: ``set_core_dump()`` for ELF (``/proc/vmcore`` as saved by
kdump, QEMU's and libvirt's memory-only dumps) and kdump-compressed (``makedumpfile``) dumps, the
flattened format (``makedumpfile -F``) once reassembled (:mod:`.dumpfile`), ``set_kernel()`` for
``/proc/kcore``, then ``load_debug_info()`` for vmlinux and modules; ccp.ko's debug info is also
looked for where distributions install it (:mod:`.debugdirs`). Files drgn would reject obscurely
are refused first with a one-line :class:`~triage.errors.VmcoreError` naming the file. A dump
that is damaged but readable (truncated, zero-filled) is opened, and why it is incomplete is kept
in ``prog.cache[PARTIAL_KEY]`` for :func:`~triage.vmcore.inspect` to report.
"""
from __future__ import annotations

import logging
import os
from typing import Iterable, Sequence

from ..errors import VmcoreError
from ._read import READ_ERRORS, drgn, is_kernel
from .debugdirs import load_module_debug_info
from .dumpfile import FLATTENED_SIGNATURE, compression_of, elf_shortfall, unpack_to_temp

__all__ = ["KDUMP_SIGNATURE", "PARTIAL_KEY", "default_vmlinux_candidates", "open_program"]

#: First bytes of a kdump-compressed dump (makedumpfile's ``KDUMP_SIGNATURE``).
KDUMP_SIGNATURE = b"KDUMP   "
#: ``prog.cache`` key of why the dump could be read only in part (a string), when it could.
PARTIAL_KEY = "snp_triage_partial"


def default_vmlinux_candidates(release: str, extra_dirs: Iterable[str] = ()) -> list[str]:
    """Where distributions put the debug vmlinux of ``release``.

    :param release: the kernel release (``uname -r``)
    :param extra_dirs: directories searched first, in the layouts distributions use
    :return: candidate paths, most specific first (they need not exist)
    """
    paths = []
    for base in extra_dirs:
        paths += [os.path.join(base, f"vmlinux-{release}"), os.path.join(base, "vmlinux"),
                  os.path.join(base, "boot", f"vmlinux-{release}"),
                  os.path.join(base, "usr/lib/debug/boot", f"vmlinux-{release}"),
                  os.path.join(base, "lib/modules", release, "vmlinux")]
    paths += [f"/usr/lib/debug/boot/vmlinux-{release}", f"/usr/lib/debug/lib/modules/{release}/vmlinux",
              f"/boot/vmlinux-{release}", f"/lib/modules/{release}/build/vmlinux"]
    return paths


def _check_dump_file(path: str) -> None:
    """Fail early, with the path in the message, for files drgn would reject obscurely."""
    if not os.path.exists(path):
        raise VmcoreError(f"{path}: no such file")
    if os.path.isdir(path):
        raise VmcoreError(f"{path}: is a directory, not a vmcore")
    try:
        with open(path, "rb") as handle:
            head = handle.read(16)
    except OSError as exc:
        raise VmcoreError(f"{path}: cannot read: {exc.strerror or exc}") from None
    if not head:
        raise VmcoreError(f"{path}: empty file, not a vmcore")
    known = (b"\x7fELF", KDUMP_SIGNATURE, FLATTENED_SIGNATURE)
    if not (head.startswith(known) or compression_of(head)):
        raise VmcoreError(f"{path}: not an ELF, kdump-compressed or flattened vmcore")


def _is_elf(path: str) -> bool:
    try:
        with open(path, "rb") as handle:
            return handle.read(4) == b"\x7fELF"
    except OSError:
        return False


def _attach(prog: "drgn.Program", vmcore_path: str | None, live: bool) -> str:
    """Point ``prog`` at the dump or the running kernel; return a label for messages."""
    if live:
        try:
            prog.set_kernel()
        except PermissionError:
            raise VmcoreError("live kernel: permission denied reading /proc/kcore (run as root)") from None
        except (OSError, ValueError) as exc:
            raise VmcoreError(f"live kernel: cannot attach: {exc}") from None
        return "live kernel"
    if vmcore_path is None:
        raise VmcoreError("no vmcore given (pass a vmcore path or live=True)")
    _check_dump_file(vmcore_path)
    with open(vmcore_path, "rb") as handle:
        head = handle.read(len(FLATTENED_SIGNATURE))
    if head.startswith(FLATTENED_SIGNATURE) or compression_of(head):
        _set_unpacked(prog, vmcore_path)
    else:
        _set_core(prog, vmcore_path, vmcore_path)
        partial = elf_shortfall(vmcore_path)
        if partial:
            prog.cache[PARTIAL_KEY] = partial
    if not is_kernel(prog):
        raise VmcoreError(f"{vmcore_path}: an ELF core of a process, not a kernel vmcore (no VMCOREINFO)")
    return vmcore_path


def _set_core(prog: "drgn.Program", path: str, label: str) -> None:
    try:
        prog.set_core_dump(path)
    except Exception as exc:  # noqa: BLE001 - libkdumpfile errors arrive as plain Exception
        raise VmcoreError(f"{label}: not a usable vmcore (truncated or damaged?): {_one_line(exc)}") from None


def _set_unpacked(prog: "drgn.Program", path: str) -> None:
    """Reassemble a flattened dump (decompressing it first when kdump-tools compressed it) into a
    temporary file, open it, and remove its name at once (drgn keeps the file open; nothing is left)."""
    temp, result = unpack_to_temp(path)
    try:
        if result.size == 0:
            raise VmcoreError(f"{path}: the dump holds no data ({result.partial or 'no records'})")
        with open(temp, "rb") as handle:
            inner = handle.read(8)
        if not (inner.startswith(b"\x7fELF") or inner.startswith(KDUMP_SIGNATURE)):
            raise VmcoreError(f"{path}: does not hold an ELF or kdump-compressed vmcore once unpacked")
        _set_core(prog, temp, path)
        partial = result.partial or elf_shortfall(temp)
    finally:
        os.unlink(temp)
    if partial:
        prog.cache[PARTIAL_KEY] = partial


def _one_line(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return text[0] if text else type(exc).__name__


def open_program(vmcore_path: str | None = None, vmlinux: str | None = None, live: bool = False,
                 extra_debug_dirs: Sequence[str] = ()) -> "drgn.Program":
    """Open a vmcore (ELF or kdump-compressed) or the live kernel with its debug info.

    Debug info: ``vmlinux`` when given (its build must match), else the distro locations for
    the dump's release. Module debug info (ccp for the PSP checks) is searched next to it and
    in the usual places; if missing, :func:`~triage.vmcore.inspect` lists the affected checks
    as skipped.

    :param vmcore_path: the dump; None with ``live=True``
    :param vmlinux: the debug vmlinux of the dumped kernel
    :param live: read the running kernel (``/proc/kcore``, needs root) instead of a dump
    :param extra_debug_dirs: more directories to search for vmlinux and module debug info
    :return: a :class:`drgn.Program` whose kernel memory and release string could be read
    :raises VmcoreError: with a one-line message naming the file
    """
    if drgn is None:
        raise VmcoreError("drgn is not installed: vmcore checks need the 'drgn' package")
    prog = drgn.Program()
    label = _attach(prog, vmcore_path, live)
    release = _dump_release(prog)
    _load_kernel_debug_info(prog, label, release, vmlinux, tuple(extra_debug_dirs))
    _check_readable(prog, label, release)
    return prog


def _dump_release(prog: "drgn.Program") -> str:
    try:
        return prog["UTS_RELEASE"].string_().decode()
    except READ_ERRORS:
        return "unknown"


def _module_dirs(vmlinux: str, release: str) -> list[str]:
    """Module debug directories that belong with an explicit vmlinux."""
    # Only well-known subdirectories: drgn may walk these recursively looking for .ko files,
    # so the vmlinux's own directory (possibly $HOME) is not added.
    here = os.path.dirname(os.path.abspath(vmlinux))
    candidates = [os.path.join(here, "lib/modules", release), os.path.join(here, "modules", release),
                  os.path.normpath(os.path.join(here, "..", "lib/modules", release))]
    return [path for path in candidates if os.path.isdir(path)]


def _load_kernel_debug_info(prog: "drgn.Program", label: str, release: str, vmlinux: str | None,
                            extra_dirs: tuple[str, ...]) -> None:
    options = prog.debug_info_options
    if vmlinux is not None:
        if not os.path.isfile(vmlinux):
            raise VmcoreError(f"{vmlinux}: no such vmlinux file")
        if not _is_elf(vmlinux):
            raise VmcoreError(f"{vmlinux}: not an ELF file, cannot be the kernel's debug info")
        module_dirs = tuple(_module_dirs(vmlinux, release))
        options.kernel_directories = module_dirs + extra_dirs + tuple(options.kernel_directories)
        options.directories = extra_dirs + tuple(options.directories)
        _try_load(prog, [vmlinux], main=True, default=False)
        if prog.main_module().wants_debug_file():
            raise VmcoreError(f"{vmlinux}: debug info does not match {label} (kernel {release}); "
                              "all vmcore checks skipped")
    else:
        options.kernel_directories = extra_dirs + tuple(options.kernel_directories)
        options.directories = extra_dirs + tuple(options.directories)
        candidates = [p for p in default_vmlinux_candidates(release, extra_dirs) if os.path.isfile(p)]
        _try_load(prog, candidates, main=True, default=False)
        if prog.main_module().wants_debug_file():
            raise VmcoreError(f"{label}: no debug info (vmlinux) found for kernel {release}; all vmcore checks "
                              f"skipped (install linux-image-{release}-dbg or pass a vmlinux)")
    _try_load(prog, [], main=False, default=True)  # modules: missing ones only skip PSP checks
    # ccp.ko (PSP/SEV state) from the distributions' debug packages and beside the vmlinux used
    load_module_debug_info(prog, release, vmlinux or prog.main_module().debug_file_path, extra_dirs)


def _try_load(prog: "drgn.Program", paths: list[str], main: bool, default: bool) -> None:
    """load_debug_info() without drgn's "missing debugging symbols" log lines on stderr."""
    drgn_log = logging.getLogger("drgn")
    level = drgn_log.level
    drgn_log.setLevel(logging.ERROR)
    try:
        prog.load_debug_info(paths, main=main, default=default)
    except drgn.MissingDebugInfoError:
        pass  # reported through wants_debug_file() / skipped checks
    except Exception as exc:  # noqa: BLE001 - never let a drgn traceback escape
        raise VmcoreError(f"{paths[0] if paths else 'debug info'}: cannot load debug info: {_one_line(exc)}") from None
    finally:
        drgn_log.setLevel(level)


def _check_readable(prog: "drgn.Program", label: str, release: str) -> None:
    """Read the release string through the debug info: catches truncated dumps and wrong vmlinux."""
    try:
        seen = prog["init_uts_ns"].name.release.string_().decode(errors="replace")
    except drgn.FaultError as exc:
        # a damaged dump is still read for what it has; the reason goes with the facts
        reason = f"kernel memory unreadable at {exc.address:#x} (init_uts_ns): truncated or damaged dump"
        prog.cache[PARTIAL_KEY] = "; ".join(filter(None, [prog.cache.get(PARTIAL_KEY), reason]))
        return
    except Exception as exc:  # noqa: BLE001
        raise VmcoreError(f"{label}: debug info unusable: {_one_line(exc)}") from None
    if not seen and release != "unknown":
        reason = "the kernel's memory reads as zeros (init_uts_ns is empty): a zero-filled or damaged dump"
        prog.cache[PARTIAL_KEY] = "; ".join(filter(None, [prog.cache.get(PARTIAL_KEY), reason]))
        return
    if release != "unknown" and seen != release:
        raise VmcoreError(f"{label}: debug info is for kernel {seen!r} but the dump is {release!r}; "
                          "all vmcore checks skipped")
