"""Read the fixes table (``rules/fixes.yaml``) and a rule's ``fixed_by`` list resolved against it.

The table is data a support engineer edits (its format is in ``rules/README.md``); this module
is its only interpreter and reports mistakes with file, line and field like the rule loader.
The verdicts computed from it live in ``releases.py``.
"""
from __future__ import annotations

import re

from yaml.nodes import Node, ScalarNode

from ..model import FixRef
from .releases import DISTRO_STATUSES, DISTROS, BranchFix, DistroFix, FixEntry, FixTable, Release, parse_release
from .schema import RuleFile

__all__ = ["build_fixes", "fixed_by", "mainline_release", "stable_release"]


def mainline_release(f: RuleFile, node: Node, fieldname: str) -> str:
    mainline = f.string(node, fieldname)
    rel = parse_release(mainline)
    if rel is None or rel.vendor or rel.patch or rel.next_date:
        raise f.error(node, fieldname, "must be a mainline release like 6.18 or 6.18-rc3")
    return mainline


def stable_release(f: RuleFile, node: Node, fieldname: str, text: str) -> Release:
    rel = parse_release(text)
    if rel is None or rel.vendor or rel.rc is not None or rel.patch == 0:
        raise f.error(node, fieldname, f"{text!r} is not a stable release like 6.17.8")
    return rel


def _branch(f: RuleFile, node: Node, fieldname: str) -> tuple[int, int]:
    text = f.string(node, fieldname)
    m = re.fullmatch(r"(\d+)\.(\d+)", text)
    if not m:
        raise f.error(node, fieldname, f"{text!r} is not a branch like 6.12")
    return int(m.group(1)), int(m.group(2))


def _source(f: RuleFile, items: dict[str, tuple[Node, Node]], fieldname: str) -> tuple[bool, str]:
    return (f.boolean(items["confirmed"][1], f"{fieldname}.confirmed"),
            f.string(items["source"][1], f"{fieldname}.source"))


def build_fixes(f: RuleFile, node: Node) -> FixTable:
    """The fixes table (``rules/fixes.yaml``): ``fixes:`` a list of commits with their releases."""
    top = f.mapping(node, "", ("fixes",), ("fixes",))
    table = FixTable()
    for i, item in enumerate(f.sequence(top["fixes"][1], "fixes")):
        sub = f"fixes[{i}]"
        items = f.mapping(item, sub, ("commit", "subject", "mainline", "confirmed", "source", "stable",
                                      "distributions", "fixes"), ("subject", "mainline", "confirmed", "source"))
        commit = None
        if "commit" in items:
            commit = f.string(items["commit"][1], f"{sub}.commit").lower()
            if not re.fullmatch(r"[0-9a-f]{7,40}", commit):
                raise f.error(items["commit"][1], f"{sub}.commit", "must be an abbreviated or full git commit id (hex)")
            if table.find(commit):
                raise f.error(items["commit"][1], f"{sub}.commit", f"commit {commit} is listed twice")
        mainline = None
        if f.scalar(items["mainline"][1], f"{sub}.mainline") is not None:
            mainline = mainline_release(f, items["mainline"][1], f"{sub}.mainline")
        confirmed, source = _source(f, items, sub)
        stable = []
        seen_branches = set()
        for j, bnode in enumerate(f.sequence(items["stable"][1], f"{sub}.stable") if "stable" in items else []):
            bsub = f"{sub}.stable[{j}]"
            b = f.mapping(bnode, bsub, ("branch", "first", "not_in", "confirmed", "source"),
                          ("branch", "confirmed", "source"))
            branch = _branch(f, b["branch"][1], f"{bsub}.branch")
            if branch in seen_branches:
                raise f.error(b["branch"][1], f"{bsub}.branch", f"branch {branch[0]}.{branch[1]} is listed twice")
            seen_branches.add(branch)
            releases = {}
            for key in ("first", "not_in"):
                if key in b and f.scalar(b[key][1], f"{bsub}.{key}") is not None:
                    text = f.string(b[key][1], f"{bsub}.{key}")
                    rel = stable_release(f, b[key][1], f"{bsub}.{key}", text)
                    if rel.branch != branch:
                        raise f.error(b[key][1], f"{bsub}.{key}", f"{text} is not on the {branch[0]}.{branch[1]} branch")
                    releases[key] = text
            bconfirmed, bsource = _source(f, b, bsub)
            stable.append(BranchFix(branch=branch, first=releases.get("first"), not_in=releases.get("not_in"),
                                    confirmed=bconfirmed, source=bsource))
        distros = []
        for j, dnode in enumerate(f.sequence(items["distributions"][1], f"{sub}.distributions")
                                  if "distributions" in items else []):
            dsub = f"{sub}.distributions[{j}]"
            d = f.mapping(dnode, dsub, ("distro", "kernels", "branch", "status", "first", "not_in", "confirmed",
                                        "source"), ("distro", "kernels", "status", "confirmed", "source"))
            distro = f.string(d["distro"][1], f"{dsub}.distro")
            if distro not in DISTROS:
                raise f.error(d["distro"][1], f"{dsub}.distro", f"unknown distribution {distro!r}; allowed: "
                              + ", ".join(DISTROS))
            status = f.string(d["status"][1], f"{dsub}.status")
            if status not in DISTRO_STATUSES:
                raise f.error(d["status"][1], f"{dsub}.status", f"unknown status {status!r}; allowed: "
                              + ", ".join(DISTRO_STATUSES))
            branch_d = _branch(f, d["branch"][1], f"{dsub}.branch") if "branch" in d else None
            releases = {}
            for key in ("first", "not_in"):
                if key in d:
                    text = f.string(d[key][1], f"{dsub}.{key}")
                    stable_release(f, d[key][1], f"{dsub}.{key}", text)
                    releases[key] = text
            dconfirmed, dsource = _source(f, d, dsub)
            distros.append(DistroFix(distro=distro, kernels=f.string(d["kernels"][1], f"{dsub}.kernels"),
                                     status=status, branch=branch_d, first=releases.get("first"),
                                     not_in=releases.get("not_in"), confirmed=dconfirmed, source=dsource))
        fixes = tuple(f.strings(items["fixes"][1], f"{sub}.fixes")) if "fixes" in items else ()
        table.add(FixEntry(commit=commit, subject=f.string(items["subject"][1], f"{sub}.subject"),
                           mainline=mainline, confirmed=confirmed, source=source, stable=tuple(stable),
                           distributions=tuple(distros), fixes=fixes, path=f.path,
                           line=item.start_mark.line + 1))
    return table


def fixed_by(f: RuleFile, node: Node, fieldname: str, table: FixTable | None) -> list[FixRef]:
    """A rule's fixes: commit ids resolved against the fixes table (rules/fixes.yaml).

    ``- 38e5f33ee359`` or ``- commit: 38e5f33ee359`` names a fix of the table; an id the table
    does not hold is an error.  A mapping with a ``subject`` defines the fix in place (the
    older form, for custom packs without a fixes.yaml); the shipped rules use the table.
    """
    out = []
    for i, item in enumerate(f.sequence(node, fieldname)):
        sub = f"{fieldname}[{i}]"
        if isinstance(item, ScalarNode):
            out.append(_resolve_fix(f, item, sub, f.string(item, sub), table))
            continue
        items = f.mapping(item, sub, ("commit", "subject", "mainline", "stable", "unconfirmed"))
        commit = None
        if "commit" in items:
            commit = f.string(items["commit"][1], f"{sub}.commit")
            if not re.fullmatch(r"[0-9a-f]{7,40}", commit):
                raise f.error(items["commit"][1], f"{sub}.commit", "must be an abbreviated or full git commit id (hex)")
        if "subject" not in items:
            if commit is None:
                raise f.error(item, f"{sub}.commit", "required key is missing (name the fix by its commit id)")
            extra = [k for k in items if k != "commit"]
            if extra:
                raise f.error(items[extra[0]][0], f"{sub}.{extra[0]}",
                              "release data of a fix named by commit lives in rules/fixes.yaml")
            out.append(_resolve_fix(f, items["commit"][1], f"{sub}.commit", commit, table))
            continue
        if not any(k in items for k in ("mainline", "stable", "unconfirmed")):
            # a subject (and maybe a commit) without release data: the table must know it
            subject = f.string(items["subject"][1], f"{sub}.subject")
            if commit is not None:
                out.append(_resolve_fix(f, items["commit"][1], f"{sub}.commit", commit, table))
                continue
            entry = table.lookup(None, subject) if table is not None else None
            if entry is None:
                raise f.error(items["subject"][1], f"{sub}.subject", f"unknown fix {subject!r}: add it to "
                              "rules/fixes.yaml (or give its mainline release here)")
            out.append(entry.ref())
            continue
        mainline = None
        if "mainline" in items and f.scalar(items["mainline"][1], f"{sub}.mainline") is not None:
            mainline = mainline_release(f, items["mainline"][1], f"{sub}.mainline")
        stable: list[str] = []
        if "stable" in items:
            stable = f.strings(items["stable"][1], f"{sub}.stable")
            for s in stable:
                stable_release(f, items["stable"][1], f"{sub}.stable", s)
        unconfirmed = f.boolean(items["unconfirmed"][1], f"{sub}.unconfirmed") if "unconfirmed" in items else False
        out.append(FixRef(commit=commit, subject=f.string(items["subject"][1], f"{sub}.subject"),
                          mainline=mainline, stable=tuple(stable), unconfirmed=unconfirmed))
    return out


def _resolve_fix(f: RuleFile, node: Node, fieldname: str, commit: str, table: FixTable | None) -> FixRef:
    if not re.fullmatch(r"[0-9a-f]{7,40}", commit):
        raise f.error(node, fieldname, "must be an abbreviated or full git commit id (hex)")
    found = table.find(commit) if table is not None else []
    if not found:
        raise f.error(node, fieldname, f"unknown fix commit {commit}: add it to rules/fixes.yaml "
                      "(or to a fixes.yaml beside a custom pack)")
    if len(found) > 1:
        raise f.error(node, fieldname, f"commit {commit} is ambiguous in the fixes table: "
                      + ", ".join(str(e.commit) for e in found))
    return found[0].ref()
