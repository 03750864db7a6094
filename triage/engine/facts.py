"""Check a rule's vmcore conditions against the facts the vmcore stage read."""
from __future__ import annotations

from typing import Any, Iterable, Mapping

from ..model import VMCORE_NOT_CHECKED, VmcoreResult
from ..rulepack import FactCheck

__all__ = ["evaluate_vmcore"]


_MISSING = object()


def _lookup(facts: Any, parts: list[str]) -> list[Any]:
    """All values at a dotted path; ``*`` fans out over lists/dicts."""
    if not parts:
        return [facts]
    head, rest = parts[0], parts[1:]
    if head == "*":
        items = facts.values() if isinstance(facts, Mapping) else (facts if isinstance(facts, list) else [])
        out = []
        for item in items:
            out.extend(_lookup(item, rest))
        return out
    if isinstance(facts, Mapping):
        if head in facts:
            return _lookup(facts[head], rest)
        return [_MISSING]
    if isinstance(facts, list) and head.isdigit():
        i = int(head)
        return _lookup(facts[i], rest) if i < len(facts) else [_MISSING]
    value = getattr(facts, head, _MISSING) if not isinstance(facts, (str, int, float, bool)) else _MISSING
    return _lookup(value, rest) if value is not _MISSING else [_MISSING]


def _unwrap(value: Any) -> tuple[bool, Any, str | None]:
    """(available, value, why not) of a looked-up fact.

    The vmcore stage's ``VmcoreFacts.to_dict()`` wraps every fact as
    ``{"value": ..., "source": ..., "unavailable": reason?, "note": ...?}``;
    plain values (hand-written facts, fixtures) are taken as they are.
    """
    if isinstance(value, Mapping) and "value" in value and "source" in value:
        if value.get("unavailable"):
            return False, None, str(value["unavailable"])
        return True, value["value"], None
    if hasattr(value, "unavailable") and hasattr(value, "value") and hasattr(value, "source"):
        if value.unavailable is not None:
            return False, None, str(value.unavailable)
        return True, value.value, None
    return True, value, None


def evaluate_vmcore(checks: Iterable[FactCheck], facts: Any) -> VmcoreResult:
    """Check a rule's vmcore conditions against a facts dict (or a VmcoreFacts object)."""
    checks = list(checks)
    if facts is not None and not isinstance(facts, Mapping) and hasattr(facts, "to_dict"):
        facts = facts.to_dict()
    if facts is None:
        return VmcoreResult(VMCORE_NOT_CHECKED,
                            [{"fact": c.path, "expected": c.test.describe(), "actual": None, "result": "not checked"}
                             for c in checks])
    rows = []
    status = "confirmed"
    for c in checks:
        values, reasons = [], []
        for raw in _lookup(facts, c.path.split(".")):
            if raw is _MISSING:
                continue
            ok, value, why = _unwrap(raw)
            if ok:
                values.append(value)
            else:
                reasons.append(why)
        if not values:
            row = {"fact": c.path, "expected": c.test.describe(), "actual": None, "result": "missing"}
            if reasons:
                row["why"] = "; ".join(dict.fromkeys(r for r in reasons if r))
            rows.append(row)
            if status == "confirmed":
                status = "incomplete"
            continue
        ok = any(c.test.test(v) for v in values)
        rows.append({"fact": c.path, "expected": c.test.describe(),
                     "actual": values[0] if len(values) == 1 else values, "result": "ok" if ok else "failed"})
        if not ok:
            status = "contradicted"
    return VmcoreResult(status, rows)
