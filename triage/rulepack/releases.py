"""Kernel release strings: parse, compare, and decide whether a fix is in.

``parse_release()`` turns what ``uname -r`` / the ``Linux version`` banner
prints into a :class:`Release`:

* mainline ``6.11.0``, ``6.11.0-rc6``; stable ``6.17.8``;
* linux-next and local builds ``6.11.0-rc6-next-20240903-snp-host-f2a41ff576cc+``;
* distribution kernels ``5.14.0-427.el9.x86_64``, ``6.8.0-45-generic``,
  ``6.1.0-56-amd64``, ``6.12.117+deb12-amd64`` (``vendor=True``).  Their
  upstream base comes from the banner text when it says so
  (``Debian 6.1.192-2``, ``(Ubuntu 6.8.0-45.45-generic 6.8.12)``).

``fix_verdict(release, fixed_by)`` answers "does this kernel carry the fix?"
with ``fixed`` / ``not fixed`` / ``unknown`` and a sentence saying why.  It
only uses version arithmetic and the fixes table (``rules/fixes.yaml``: first
release per stable branch, releases seen without the fix, distribution
records): a vendor kernel gets ``unknown`` (backports are invisible in the
version) unless its upstream base is already new enough or the table has a
record for its distribution.  The verdict names the branch rule it used.

This module is longer than 400 lines because release parsing, the fixes
table's records and the verdict rules that read them belong together; a split
into a separate fixes module is the natural next step.
"""
from __future__ import annotations

import datetime as _dt
import re
from dataclasses import dataclass
from functools import total_ordering
from typing import Any, Callable, Iterable, Mapping

from ..model import FixRef, Verdict

__all__ = [
    "Release", "Verdict", "FixRef", "parse_release", "upstream_from_banner",
    "fix_verdict", "MAINLINE_RELEASE_DATES", "BranchFix", "DistroFix", "FixEntry", "FixTable", "DISTRO_NAMES",
    "default_table",
]

#: Mainline release dates (used only to place linux-next snapshots).
#: The merge window of X.Y opens on the release date of X.(Y-1) and closes
#: with X.Y-rc1 two weeks later.
MAINLINE_RELEASE_DATES: dict[tuple[int, int], _dt.date] = {
    (5, 10): _dt.date(2020, 12, 13), (5, 11): _dt.date(2021, 2, 14), (5, 12): _dt.date(2021, 4, 25),
    (5, 13): _dt.date(2021, 6, 27), (5, 14): _dt.date(2021, 8, 29), (5, 15): _dt.date(2021, 10, 31),
    (5, 16): _dt.date(2022, 1, 9), (5, 17): _dt.date(2022, 3, 20), (5, 18): _dt.date(2022, 5, 22),
    (5, 19): _dt.date(2022, 7, 31), (6, 0): _dt.date(2022, 10, 2), (6, 1): _dt.date(2022, 12, 11),
    (6, 2): _dt.date(2023, 2, 19), (6, 3): _dt.date(2023, 4, 23), (6, 4): _dt.date(2023, 6, 25),
    (6, 5): _dt.date(2023, 8, 27), (6, 6): _dt.date(2023, 10, 30), (6, 7): _dt.date(2024, 1, 7),
    (6, 8): _dt.date(2024, 3, 10), (6, 9): _dt.date(2024, 5, 12), (6, 10): _dt.date(2024, 7, 14),
    (6, 11): _dt.date(2024, 9, 15), (6, 12): _dt.date(2024, 11, 17), (6, 13): _dt.date(2025, 1, 19),
    (6, 14): _dt.date(2025, 3, 24), (6, 15): _dt.date(2025, 5, 25), (6, 16): _dt.date(2025, 7, 27),
    (6, 17): _dt.date(2025, 9, 28), (6, 18): _dt.date(2025, 11, 30),
    (6, 19): _dt.date(2026, 2, 8),  # not checked against the tag: 6.19.6-rc1 was reviewed on 2026-02-28
}

_VERSION = re.compile(r"^\s*(\d+)\.(\d+)(?:\.(\d+))?(.*?)\s*$")
_RC = re.compile(r"^-rc(\d+)")
_NEXT = re.compile(r"-next-(\d{8})")
# distribution ABI/packaging suffixes: "-427.el9.x86_64", "-45-generic",
# "-56-amd64", "+deb12-amd64", "-150600.23.7-default", "-1-pve", ".fc40"...
_DISTRO_PATTERNS: tuple[tuple[str, re.Pattern[str]], ...] = (
    ("rhel", re.compile(r"\.el\d+(?:_\d+)?(?:uek)?(?:\.|$)")),
    ("fedora", re.compile(r"\.fc\d+(?:\.|$)")),
    ("amazon", re.compile(r"\.amzn\d+(?:\.|$)")),
    ("debian", re.compile(r"(?:^-\d+(?:-rt)?-(?:cloud-)?(?:amd64|arm64|686|686-pae)$|\+deb\d+|\+bpo|~bpo)")),
    ("ubuntu", re.compile(r"^-\d+-(?:generic|lowlatency|aws|azure|gcp|gke|oracle|kvm|ibm|nvidia|oem|raspi|realtime)\S*$")),
    ("suse", re.compile(r"^-\d+(?:\.\d+)+-(?:default|azure|rt|kvmsmall|64kb)$")),
    ("proxmox", re.compile(r"^-\d+-pve$")),
    ("arch", re.compile(r"^-arch\d+-\d+$")),
    ("cip", re.compile(r"^-cip\d+(?:-rt\d+)?$")),
)
_GENERIC_ABI = re.compile(r"^[-+]\d+(?:[.\-_]\d+)*[.\-+][A-Za-z]")


@total_ordering
@dataclass(frozen=True)
class Release:
    """A parsed kernel release.  Ordering compares the upstream version only."""

    text: str
    major: int
    minor: int
    patch: int = 0
    rc: int | None = None
    next_date: _dt.date | None = None  # linux-next snapshot date
    local: str = ""  # everything after X.Y.Z[-rcN][-next-DATE]
    vendor: bool = False  # distribution kernel: backports invisible in the number
    distro: str | None = None
    upstream: tuple[int, int, int] | None = None  # upstream base of a vendor kernel, when known
    dirty: bool = False  # trailing '+': built from a tree with changes on top

    @property
    def branch(self) -> tuple[int, int]:
        return (self.major, self.minor)

    @property
    def base(self) -> tuple[int, int, int]:
        """Upstream version this kernel is built from (vendor base when known)."""
        if self.upstream is not None:
            return self.upstream
        return (self.major, self.minor, self.patch)

    @property
    def custom(self) -> bool:
        """A local build with a non-distribution suffix (patches on top unknown)."""
        return not self.vendor and (bool(self.local) or self.dirty)

    def _key(self) -> tuple:
        major, minor, patch = self.base
        # X.Y-rcN < X.Y(.0) < X.Y.1
        return (major, minor, 0 if self.rc is not None else 1, self.rc or 0, patch)

    def __lt__(self, other: "Release") -> bool:
        if not isinstance(other, Release):
            return NotImplemented
        return self._key() < other._key()

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Release):
            return NotImplemented
        return self._key() == other._key()

    def __hash__(self) -> int:
        return hash(self._key())

    def describe(self) -> str:
        parts = [self.text]
        if self.vendor:
            base = ".".join(map(str, self.upstream)) if self.upstream else None
            parts.append(f"({self.distro or 'vendor'} kernel" + (f", based on {base})" if base else ")"))
        elif self.next_date:
            parts.append(f"(linux-next snapshot {self.next_date.isoformat()})")
        return " ".join(parts)

    def to_dict(self) -> dict[str, Any]:
        return {
            "text": self.text, "major": self.major, "minor": self.minor, "patch": self.patch,
            "rc": self.rc, "next_date": self.next_date.isoformat() if self.next_date else None,
            "local": self.local, "vendor": self.vendor, "distro": self.distro,
            "upstream": ".".join(map(str, self.upstream)) if self.upstream else None,
            "dirty": self.dirty,
        }


def upstream_from_banner(banner: str | None, branch: tuple[int, int] | None = None) -> tuple[int, int, int] | None:
    """Upstream version named in a distribution banner, if any.

    ``... #1 SMP PREEMPT_DYNAMIC Debian 6.1.192-2 (2026-11-16)`` -> (6, 1, 192);
    ``... (Ubuntu 6.8.0-45.45-generic 6.8.12)`` -> (6, 8, 12).  The compiler's
    own version ("gcc-12 (Debian 12.2.0-14)") also looks like this, so with
    ``branch`` only a version of that X.Y is taken, else the last one.
    """
    if not banner:
        return None
    found = [tuple(int(x) for x in m.groups()) for m in re.finditer(r"\bDebian (\d+)\.(\d+)\.(\d+)", banner)]
    found += [tuple(int(x) for x in m.groups())
              for m in re.finditer(r"\(Ubuntu [^ )]+ (\d+)\.(\d+)\.(\d+)\)", banner)]
    if branch is not None:
        found = [v for v in found if v[:2] == branch]
    return found[-1] if found else None  # type: ignore[return-value]


def parse_release(text: str | None, banner: str | None = None) -> Release | None:
    """Parse ``uname -r`` text; ``banner`` is the whole ``Linux version`` line, if known."""
    if not text:
        return None
    m = _VERSION.match(text)
    if m is None:
        return None
    major, minor = int(m.group(1)), int(m.group(2))
    patch = int(m.group(3)) if m.group(3) else 0
    rest = m.group(4) or ""
    dirty = rest.endswith("+")
    if dirty:
        rest = rest[:-1]
    rc = None
    rm = _RC.match(rest)
    if rm:
        rc = int(rm.group(1))
        rest = rest[rm.end():]
    next_date = None
    nm = _NEXT.match(rest) if rest.startswith("-next-") else None
    if nm:
        try:
            next_date = _dt.datetime.strptime(nm.group(1), "%Y%m%d").date()
        except ValueError:
            next_date = None
        rest = rest[nm.end():]
    distro = None
    if rc is None and next_date is None and rest:
        for name, pattern in _DISTRO_PATTERNS:
            if pattern.search(rest):
                distro = name
                break
        if distro is None and _GENERIC_ABI.match(rest):
            distro = "distribution"
    vendor = distro is not None
    upstream = upstream_from_banner(banner, (major, minor)) if vendor else None
    if upstream is None and vendor and patch > 0 and distro in ("debian", "proxmox", "arch", "fedora", "cip"):
        upstream = (major, minor, patch)  # "6.12.117+deb12-amd64": the number is upstream's
    return Release(text=text.strip(), major=major, minor=minor, patch=patch, rc=rc,
                   next_date=next_date, local=rest, vendor=vendor, distro=distro,
                   upstream=upstream, dirty=dirty)


# --------------------------------------------------------------------------
# the fixes table (rules/fixes.yaml): what is known about each fix's releases

#: how verdicts name a distribution (Release.distro -> text)
DISTRO_NAMES = {"debian": "Debian", "ubuntu": "Ubuntu", "rhel": "RHEL/CentOS Stream", "suse": "SUSE",
                "fedora": "Fedora", "proxmox": "Proxmox", "arch": "Arch", "amazon": "Amazon Linux",
                "cip": "CIP", "distribution": "distribution"}
#: distribution ids a fixes table may name
DISTROS = tuple(DISTRO_NAMES)
DISTRO_STATUSES = ("carried", "not carried", "unknown")


@dataclass(frozen=True)
class BranchFix:
    """One stable branch's record for a fix: its first release carrying it, or a release seen without it."""

    branch: tuple[int, int]
    first: str | None = None  # first release of the branch that carries the fix
    not_in: str | None = None  # a release of the branch known not to carry it
    confirmed: bool = False
    source: str = ""


@dataclass(frozen=True)
class DistroFix:
    """One distribution kernel line's record for a fix."""

    distro: str  # a Release.distro id: debian, ubuntu, rhel, suse, cip, ...
    kernels: str  # how the line is named in verdicts: "6.12.x+deb13", "9 (5.14.0-*.el9)"
    status: str  # carried | not carried | unknown
    branch: tuple[int, int] | None = None  # upstream X.Y of the line (None: every kernel of the distro)
    first: str | None = None  # upstream base from which it is carried
    not_in: str | None = None  # upstream base seen without it
    confirmed: bool = False
    source: str = ""


@dataclass(frozen=True)
class FixEntry:
    """One commit of the fixes table."""

    commit: str | None
    subject: str
    mainline: str | None
    confirmed: bool
    source: str
    stable: tuple[BranchFix, ...] = ()
    distributions: tuple[DistroFix, ...] = ()
    fixes: tuple[str, ...] = ()  # commits this one repairs (regressions), for the report
    path: str = ""
    line: int = 0

    def branches(self) -> dict[tuple[int, int], BranchFix]:
        return {b.branch: b for b in self.stable}

    def distro_entries(self, distro: str | None, branch: tuple[int, int]) -> list[DistroFix]:
        """Records for this distribution: those of the kernel's X.Y first, then distribution-wide ones."""
        mine = [d for d in self.distributions if d.distro == distro]
        return [d for d in mine if d.branch == branch] + [d for d in mine if d.branch is None]

    def ref(self) -> FixRef:
        """The FixRef a rule carries (release numbers from the table)."""
        return FixRef(commit=self.commit, subject=self.subject, mainline=self.mainline,
                      stable=tuple(b.first for b in self.stable if b.first), unconfirmed=not self.confirmed)


class FixTable:
    """Fix entries by commit id (abbreviated ids match by prefix) or, without an id, by subject."""

    def __init__(self, entries: Iterable[FixEntry] = ()) -> None:
        self.entries: list[FixEntry] = []
        for e in entries:
            self.add(e)

    def add(self, entry: FixEntry) -> None:
        """Add or replace (same commit, or same subject without a commit)."""
        self.entries = [e for e in self.entries if not _same_fix(e, entry)] + [entry]

    def update(self, other: "FixTable") -> None:
        for e in other.entries:
            self.add(e)

    def find(self, commit: str) -> list[FixEntry]:
        commit = commit.lower()
        return [e for e in self.entries if e.commit and (e.commit.startswith(commit) or commit.startswith(e.commit))]

    def lookup(self, commit: str | None, subject: str | None = None) -> FixEntry | None:
        if commit:
            found = self.find(commit)
            return found[0] if len(found) == 1 else None
        if subject:
            found = [e for e in self.entries if e.commit is None and e.subject == subject]
            return found[0] if len(found) == 1 else None
        return None

    def __len__(self) -> int:
        return len(self.entries)


def _same_fix(a: FixEntry, b: FixEntry) -> bool:
    if a.commit and b.commit:
        return a.commit.startswith(b.commit) or b.commit.startswith(a.commit)
    return a.commit is None and b.commit is None and a.subject == b.subject


#: every table loaded so far (the shipped one first, then custom packs' fixes.yaml)
_REGISTRY = FixTable()
#: loads the shipped table; set by triage.rulepack.pack (which imports this module, not the reverse)
_SHIPPED_LOADER: "Callable[[], FixTable] | None" = None
_SHIPPED_LOADED = False


def set_shipped_loader(loader: "Callable[[], FixTable]") -> None:
    global _SHIPPED_LOADER
    _SHIPPED_LOADER = loader


def default_table() -> FixTable:
    """The fixes known to this process: the shipped table plus any custom pack's table loaded since."""
    global _SHIPPED_LOADED
    if not _SHIPPED_LOADED and _SHIPPED_LOADER is not None:
        _SHIPPED_LOADED = True
        merged = FixTable(_SHIPPED_LOADER().entries)
        merged.update(_REGISTRY)
        _REGISTRY.entries = merged.entries
    return _REGISTRY


def register_table(table: FixTable) -> None:
    """Make a loaded table's records available to fix_verdict() (called by the pack loader)."""
    _REGISTRY.update(table)


# --------------------------------------------------------------------------
# fix verdicts


def _previous_branch(branch: tuple[int, int]) -> tuple[int, int] | None:
    older = [k for k in MAINLINE_RELEASE_DATES if k < branch]
    return max(older) if older else None


def _merge_window(major: int, minor: int) -> tuple[_dt.date, _dt.date] | None:
    """(opening, rc1 date) of the merge window of X.Y, from the table."""
    prev = _previous_branch((major, minor))
    if prev is None:
        return None
    opening = MAINLINE_RELEASE_DATES[prev]
    return opening, opening + _dt.timedelta(days=14)


def _distro_name(distro: str | None) -> str:
    return DISTRO_NAMES.get(distro or "", (distro or "vendor").capitalize())


def _branch_name(branch: tuple[int, int]) -> str:
    return f"{branch[0]}.{branch[1]}"


def _unconfirmed(confirmed: bool) -> str:
    return "" if confirmed else " (not confirmed)"


def _verdict_vendor(rel: Release, fix: FixRef, entry: "FixEntry | None", first: Release,
                    first_name: str, caveat: str) -> tuple[str, str]:
    base = rel.base
    base_rel = Release(text=".".join(map(str, base)), major=base[0], minor=base[1], patch=base[2])
    known_base = rel.upstream is not None
    name = _distro_name(rel.distro)
    if base_rel >= first:
        return "fixed", (f"mainline {first_name} and later carry {{fix}}; this {name} kernel {rel.text} is "
                         f"based on {base_rel.text}{caveat}")
    for d in (entry.distro_entries(rel.distro, rel.branch) if entry else ()):
        label = f"{name} {d.kernels}"
        src = f" [{d.source}]"
        if d.status == "carried":
            if d.first and known_base:
                since = parse_release(d.first)
                if since is not None and base_rel < since:
                    return "not fixed", (f"{label}: carries {{fix}} from {d.first}{_unconfirmed(d.confirmed)}; "
                                         f"this kernel is based on {base_rel.text}{src}")
            if d.first and not known_base:
                continue
            return "fixed", f"{label}: carries {{fix}}{_unconfirmed(d.confirmed)}; this kernel is {rel.text}{src}"
        if d.status == "not carried":
            if d.not_in and not known_base:
                return "unknown", (f"{label}: {d.not_in} did not carry {{fix}}; this kernel is {rel.describe()}, "
                                   f"its upstream base is not known (the banner shows it){src}")
            if d.not_in and known_base:
                seen = parse_release(d.not_in)
                if seen is not None and base_rel > seen:
                    return "unknown", (f"{label}: {d.not_in} did not carry {{fix}}; this kernel is based on "
                                       f"the newer {base_rel.text}, check its changelog{src}")
            return "not fixed", (f"{label}: does not carry {{fix}}{_unconfirmed(d.confirmed)}; "
                                 f"this kernel is {rel.describe()}{src}")
        return "unknown", f"{label}: backport status unknown for {{fix}}; this kernel is {rel.describe()}{src}"
    stable = entry.branches() if entry else {s.branch: s for s in _stable_from_ref(fix)}
    s = stable.get(base_rel.branch)
    if s is not None and s.first and known_base:
        since = parse_release(s.first)
        if since is not None and base_rel >= since:
            return "fixed", (f"{_branch_name(s.branch)} stable branch: first fixed in {s.first}"
                             f"{_unconfirmed(s.confirmed)}; this {name} kernel is based on {base_rel.text} "
                             f"(assuming the vendor kept {{fix}})")
    return "unknown", (f"{name} {rel.text}: no backport record for {{fix}}; the version number cannot "
                       f"show backports, check the vendor's changelog")


def _stable_from_ref(fix: FixRef) -> list["BranchFix"]:
    out = []
    for text in fix.stable:
        s = parse_release(text)
        if s is not None:
            out.append(BranchFix(branch=s.branch, first=text, confirmed=not fix.unconfirmed, source=""))
    return out


def _verdict_one(rel: Release, fix: FixRef, table: "FixTable | None" = None) -> tuple[str, str]:
    """(status, explanation template with a ``{fix}`` placeholder) for one fix."""
    table = table if table is not None else default_table()
    entry = table.lookup(fix.commit, fix.subject)
    caveat = " (release numbers for this fix are not confirmed)" if fix.unconfirmed else ""
    for regression in (entry.fixes if entry else ()):
        # a kernel that never had the regression this fix repairs does not need the fix
        bad = table.lookup(regression)
        if bad is None or bad.commit == (entry.commit if entry else None):
            continue
        status, why = _verdict_one(rel, bad.ref(), table)
        if status == "not fixed":
            return "fixed", (f"not needed: {{fix}} repairs the regression {bad.commit[:12]} "
                             f"(\"{bad.subject}\"), which this kernel does not carry - "
                             + why.replace("{fix}", bad.commit[:12]).replace("first fixed in", "first carried in"))
    first = parse_release(fix.mainline) if fix.mainline else None
    if first is None:
        return "unknown", f"first mainline release of {{fix}} is not recorded{caveat}"
    first_name = fix.mainline

    if rel.vendor:
        return _verdict_vendor(rel, fix, entry, first, first_name, caveat)

    if rel.next_date is not None:
        window = _merge_window(first.major, first.minor)
        if first.rc is not None and first.rc > 1:
            # merged after rc1: only snapshots after that rc are sure to have it
            return "unknown", (f"linux-next snapshot {rel.next_date.isoformat()}; {{fix}} was merged "
                               f"late in {first_name}, compare the snapshot with the merge date{caveat}")
        if window is None:
            return "unknown", f"linux-next snapshot {rel.next_date.isoformat()}; no date known for {first_name}"
        opening, rc1 = window
        if rel.next_date >= rc1:
            return "fixed", (f"linux-next snapshot {rel.next_date.isoformat()} is after {first.major}."
                             f"{first.minor}-rc1 (~{rc1.isoformat()}), which contains {{fix}}{caveat}")
        prev = _previous_branch(first.branch)
        prev_window = _merge_window(*prev) if prev else None
        if prev_window is not None and rel.next_date < prev_window[1]:
            return "not fixed", (f"linux-next snapshot {rel.next_date.isoformat()} predates the development "
                                 f"cycle of {first_name} (opened ~{prev_window[1].isoformat()}), so it cannot "
                                 f"contain {{fix}}{caveat}")
        return "unknown", (f"linux-next snapshot {rel.next_date.isoformat()} falls in the development cycle "
                           f"of {first_name}; whether it already had {{fix}} depends on when the "
                           f"subsystem tree took it")

    if rel.rc is not None:
        if rel.branch != first.branch:
            if rel < first:
                return "not fixed", (f"mainline before {first_name} lacks {{fix}}; this kernel is {rel.text}, "
                                     f"older than {first_name}{caveat}")
            return "fixed", f"mainline {first_name} and later carry {{fix}}; this kernel is {rel.text}{caveat}"
        need = first.rc if first.rc is not None else 1
        if rel.rc >= need:
            how = "merge window" if first.rc is None else f"-rc{need}"
            return "fixed", (f"{rel.text}: {{fix}} was merged for {first.major}.{first.minor} in the "
                             f"{how}, so -rc{rel.rc} contains it{caveat}")
        return "not fixed", f"{rel.text}: {{fix}} only arrived in {first.major}.{first.minor}-rc{need}{caveat}"

    # mainline X.Y.0 or stable X.Y.Z
    if rel >= first:
        return "fixed", f"mainline {first_name} and later carry {{fix}}; this kernel is {rel.text}{caveat}"
    if rel.patch == 0:
        return "not fixed", (f"mainline before {first_name} lacks {{fix}}; this kernel is {rel.text}, a mainline "
                             f"release older than {first_name}{caveat}")
    branches = entry.branches() if entry else {s.branch: s for s in _stable_from_ref(fix)}
    s = branches.get(rel.branch)
    name = _branch_name(rel.branch)
    if s is not None and s.first:
        since = parse_release(s.first)
        if since is not None:
            status = "fixed" if rel.patch >= since.patch else "not fixed"
            return status, (f"{name} stable branch: first fixed in {s.first}{_unconfirmed(s.confirmed)}; "
                            f"this kernel is {rel.text}" + ("" if status == "fixed" else ", which lacks {fix}"))
    if s is not None and s.not_in:
        seen = parse_release(s.not_in)
        if seen is not None and rel.patch <= seen.patch:
            return "not fixed", (f"{name} stable branch: {s.not_in} does not carry {{fix}} yet"
                                 f"{_unconfirmed(s.confirmed)} [{s.source}]; this kernel is {rel.text}")
    note = f" [{s.source}]" if s is not None and s.source else ""
    return "unknown", (f"{name} stable branch: not known whether it carries {{fix}}{note}; this kernel is "
                       f"{rel.text}, check the {name}.y changelog")


def fix_verdict(release: "str | Release | None", fixed_by: Iterable["FixRef | Mapping[str, Any]"],
                banner: str | None = None, table: "FixTable | None" = None) -> Verdict:
    """Does ``release`` carry every commit in ``fixed_by``?

    All fixed -> ``fixed``; any definitely missing -> ``not fixed``; else ``unknown``.
    """
    fixes = [FixRef.from_any(f) for f in fixed_by]
    if not fixes:
        return Verdict("unknown", "no upstream fix is recorded for this signature")
    rel = release if isinstance(release, Release) else parse_release(release, banner)
    if rel is None:
        names = ", ".join(f.commit[:12] if f.commit else f.subject for f in fixes)
        text = f"kernel release not known (no banner or report line); check for {names}"
        if release:
            text = f"cannot parse kernel release {release!r}; check for {names}"
        return Verdict("unknown", text)
    templated = [(f, *_verdict_one(rel, f, table)) for f in fixes]
    results = [(f, status, template.replace("{fix}", f.name)) for f, status, template in templated]
    per_fix = tuple((f.commit[:12] if f.commit else f.subject, status, why) for f, status, why in results)
    statuses = {status for _, status, _ in results}
    if statuses == {"fixed"}:
        status = "fixed"
    elif "not fixed" in statuses:
        status = "not fixed"
    else:
        status = "unknown"
    if len(results) == 1:
        explanation = results[0][2]
    else:
        # group the fixes that share the same reason: "... where A, B first landed"
        groups: dict[str, list[FixRef]] = {}
        for f, s, template in templated:
            if s == status:
                groups.setdefault(template, []).append(f)
        parts = []
        for template, group in groups.items():
            names = ", ".join(f.commit[:12] if f.commit else f'"{f.subject}"' for f in group)
            parts.append(template.replace("{fix}", names))
        explanation = "; ".join(parts)
    if rel.vendor and status == "unknown":
        missing = [f for f, s, _ in results if s != "fixed"]
        names = ", ".join(f.commit[:12] if f.commit else f'"{f.subject}"' for f in missing)
        explanation = f"vendor kernel {rel.describe()}: {explanation}; check for backports of {names}"
    if rel.custom and not rel.vendor:
        explanation += f" (local build '{rel.local or '+'}': patches on top are not visible in the version)"
    return Verdict(status, explanation, per_fix)
