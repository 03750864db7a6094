"""Reading values from a program without raising: the shared core of the vmcore helpers.

Every helper of :mod:`triage.vmcore` turns what drgn reads into a
:class:`~triage.model.vmcore.Fact`; a field or symbol missing in this kernel,
memory missing from the dump or a value optimised out becomes the Fact's
``unavailable`` reason instead of an exception.  Private to the package.
"""
from __future__ import annotations

from typing import Any, Callable

from ..model.vmcore import Fact

try:  # drgn is optional for the rest of the tool: only the vmcore stage needs it.
    import drgn
except ImportError:  # pragma: no cover - exercised only without drgn installed
    drgn = None  # type: ignore[assignment]

__all__ = [
    "drgn", "READ_ERRORS", "unavailable_reason", "plain_value", "strip_type", "is_pointer", "has_member",
    "has_symbol", "is_kernel", "read_fact", "global_fact", "member_fact", "derive",
]

#: Exceptions a read of the dump may raise when a field, symbol or page is missing.
READ_ERRORS: tuple[type[BaseException], ...] = (LookupError, AttributeError, TypeError, ValueError, OverflowError)
if drgn is not None:
    READ_ERRORS = (drgn.FaultError, drgn.ObjectAbsentError) + READ_ERRORS


def unavailable_reason(exc: BaseException) -> str:
    """A short 'why unavailable' text for a drgn (or lookup) exception."""
    if drgn is not None and isinstance(exc, drgn.FaultError):
        return f"memory at {exc.address:#x} not readable in the dump (FaultError: {exc.message})"
    if drgn is not None and isinstance(exc, drgn.ObjectAbsentError):
        return "value absent (optimized out in the debug info)"
    if isinstance(exc, KeyError):
        what = exc.args[0] if exc.args else "symbol not found"
        return f"{what} (not in this kernel, or its debug info is not loaded)"
    if isinstance(exc, LookupError):
        return f"not in this kernel's debug info: {exc}"
    if isinstance(exc, AttributeError):
        return f"field missing in this kernel: {exc}"
    return f"{type(exc).__name__}: {exc}"


def strip_type(type_: "drgn.Type") -> "drgn.Type":
    """The type with typedefs and qualifiers removed."""
    while type_.kind == drgn.TypeKind.TYPEDEF:
        type_ = type_.type
    return type_.unqualified()


def plain_value(obj: "drgn.Object") -> Any:
    """Plain Python value of a scalar object; ``atomic_t``/``atomic64_t`` yield their ``.counter``."""
    underlying = strip_type(obj.type_)
    if underlying.kind in (drgn.TypeKind.STRUCT, drgn.TypeKind.UNION) and underlying.has_member("counter"):
        return obj.counter.value_()
    if underlying.kind == drgn.TypeKind.BOOL:
        return bool(obj.value_())
    return obj.value_()


def is_pointer(obj: "drgn.Object") -> bool:
    """Whether ``obj`` is a pointer (behind any typedef)."""
    return strip_type(obj.type_).kind == drgn.TypeKind.POINTER


def has_member(obj: "drgn.Object", name: str) -> bool:
    """Whether the struct ``obj`` (or points to) has a member ``name`` in this kernel."""
    type_ = strip_type(obj.type_)
    if type_.kind == drgn.TypeKind.POINTER:
        type_ = strip_type(type_.type)
    try:
        return type_.has_member(name)
    except TypeError:
        return False


def has_symbol(prog: "drgn.Program", name: str) -> bool:
    """Whether the program knows an object (variable, constant) called ``name``."""
    try:
        prog[name]
    except KeyError:
        return False
    return True


def is_kernel(prog: "drgn.Program") -> bool:
    """Whether ``prog`` is a Linux kernel (a vmcore or /proc/kcore), not a test program."""
    return bool(prog.flags & drgn.ProgramFlags.IS_LINUX_KERNEL)


def read_fact(source: str, getter: Callable[[], Any], note: str | None = None) -> Fact:
    """Evaluate ``getter`` into a Fact; a read error becomes the 'unavailable' reason."""
    try:
        return Fact(getter(), source, None, note)
    except READ_ERRORS as exc:
        return Fact.missing(source, unavailable_reason(exc), note)


def global_fact(prog: "drgn.Program", name: str, what: str = "global", note: str | None = None) -> Fact:
    """Value of the global (or static) variable ``name``, sourced as ``"{what} {name}"``.

    :param prog: the crashed kernel
    :return: a Fact holding the plain value (``.counter`` of an atomic)
    """
    return read_fact(f"{what} {name}", lambda: plain_value(prog[name].read_()), note)


def member_fact(obj: "drgn.Object", path: str, struct: str, note: str | None = None) -> Fact:
    """Value of ``obj->path`` (dotted for nested members), sourced as ``"{struct}.{path}"``.

    :param obj: a struct object or a pointer to one
    :return: a Fact holding the plain value
    """
    source = f"{struct}.{path}"

    def get() -> Any:
        value = obj
        for part in path.split("."):
            value = value.member_(part)
        return plain_value(value.read_())

    return read_fact(source, get, note)


def derive(base: Fact, source: str, fn: Callable[[Any], Any]) -> Fact:
    """``fn(base.value)`` as a new Fact; unavailable (with base's reason) when base is."""
    if not base.available:
        return Fact.missing(source, base.unavailable or "")
    return Fact(fn(base.value), source, None, base.note)
