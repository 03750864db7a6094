"""The vmcore part of the HTML report, drawn from the report's JSON ``vmcore`` object.

Why from the JSON object and generically: the page must say what ``--format json`` says and no
more, so every fact is shown as the JSON carries it (value, hex, where it was read, or why it is
unavailable); a fact added to :mod:`triage.model.vmcore` appears here without a change.
"""
from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from .htmlkit import Html, badge, banner, kv, section, table, tag

__all__ = ["vmcore_section", "fact_cell"]

#: the fact groups shown as label/value lists, in this order, with their headings
_GROUPS = (("machine", "Machine"), ("globals", "AMD-Vi, SME and kexec globals"), ("psp", "PSP / SEV firmware"))
#: COMPLETION_WAIT commands shown per IOMMU (newest first)
_WAITS_SHOWN = 4
#: integers from here on are shown in hex (addresses, masks, EFR); below, in decimal (indexes, counts)
_HEX_FROM = 0x10000


def _plain(value: Any) -> str:
    return "true" if value is True else "false" if value is False else "-" if value is None else str(value)


def _is_fact(value: Any) -> bool:
    return isinstance(value, Mapping) and "value" in value and "source" in value


def fact_cell(fact: Any) -> Html:
    """A fact as its JSON says: large integers in hex, the reason when unavailable, its source as a tooltip."""
    if not _is_fact(fact):
        return tag("span", "-" if fact is None else str(fact))
    if fact.get("unavailable"):
        return tag("span", f"n/a ({fact['unavailable']})", class_="muted", title=fact.get("source") or None)
    value = fact.get("value")
    text = fact.get("hex") if isinstance(value, int) and value >= _HEX_FROM else _plain(value)
    note = tag("div", fact["note"], class_="small muted") if fact.get("note") else None
    return tag("span", tag("code", text), note, title=fact.get("source") or None)


def _facts_table(name: str, group: Mapping[str, Any]) -> Html:
    rows = [(key, fact_cell(fact), tag("span", fact.get("source", ""), class_="small muted"))
            for key, fact in group.items() if _is_fact(fact)]
    return table(("fact", "value", "read from"), rows, caption=name)


def _index(iommu: Mapping[str, Any], position: int) -> object:
    """The IOMMU's own index when the dump gave it, else its position on the list."""
    value = (iommu.get("index") or {}).get("value")
    return position if value is None else value


def _iommus(iommus: list[Mapping[str, Any]]) -> Html:
    """One row per fact, one column per IOMMU (29 facts do not fit as columns)."""
    if not iommus:
        return tag("p", "No struct amd_iommu found on amd_iommu_list.", class_="empty")
    keys = [k for k, v in iommus[0].items() if _is_fact(v)]
    rows = [(key, *[fact_cell(i.get(key)) for i in iommus]) for key in keys]
    headers = ("fact", *[f"IOMMU {_index(i, n)}" for n, i in enumerate(iommus)])
    out = [table(headers, rows, caption="AMD IOMMUs (struct amd_iommu on amd_iommu_list)")]
    for n, iommu in enumerate(iommus):
        waits = iommu.get("completion_waits") or []
        if waits:
            cols = ("age", "slot", "store", "store_address", "data", "matches_cwb", "matches_cwb_with_sme",
                    "matches_cmd_sem_paddr")
            rows = [tuple(hex(w[c]) if c == "store_address" and isinstance(w.get(c), int) else _plain(w.get(c))
                          for c in cols) for w in waits[:_WAITS_SHOWN]]
            out.append(table(cols, rows, caption=f"IOMMU {_index(iommu, n)}: last COMPLETION_WAIT commands in the ring "
                                                 f"({len(waits)} found, newest first)"))
    return Html("".join(out))


def vmcore_section(vmcore: Mapping[str, Any] | None) -> Html:
    """The report JSON's ``vmcore`` object as a section; nothing when no vmcore was given."""
    if vmcore is None:
        return Html("")
    path = vmcore.get("path") or "the running kernel"
    if vmcore.get("error"):
        error = str(vmcore["error"])
        said = error if path in error else f"{path}: {error}"  # the error usually names the file already
        return section("vmcore", banner(tag("strong", "The vmcore could not be read: "), said, tone="warning"),
                       id="vmcore")
    facts = vmcore.get("facts") or {}
    parts: list[Html] = [kv([("path", tag("code", path)), ("IOMMUs", fact_cell(facts.get("iommu_count")))])]
    parts += [_facts_table(title, facts[name]) for name, title in _GROUPS if isinstance(facts.get(name), Mapping)]
    parts.append(_iommus(list(facts.get("iommus") or [])))
    tables = facts.get("device_tables") or []
    if tables:
        cols = list(tables[0].keys())
        parts.append(table(cols, [[hex(t[c]) if c in ("virt", "phys") and isinstance(t.get(c), int) else
                                   _plain(t.get(c)) for c in cols] for t in tables],
                           caption="Device tables"))
    checks = vmcore.get("cross_checks") or []
    if checks:
        parts.append(table(("check", "verdict", "detail", "line"),
                           [(c["check"], badge(c["verdict"], c["verdict"]), c["detail"], c.get("line") or "")
                            for c in checks], caption="vmcore against the console logs"))
    skipped = facts.get("skipped") or []
    if skipped:
        parts.append(table(("check", "why not"), [(s.get("check"), s.get("reason")) for s in skipped],
                           caption="vmcore checks skipped"))
    return section("vmcore", parts, id="vmcore")
