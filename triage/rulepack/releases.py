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
only uses version arithmetic: a vendor kernel gets ``unknown`` (backports are
invisible in the version) unless its upstream base is already new enough.
"""
from __future__ import annotations

import datetime as _dt
import re
from dataclasses import dataclass
from functools import total_ordering
from typing import Any, Iterable, Mapping

from ..model import FixRef, Verdict

__all__ = [
    "Release", "Verdict", "FixRef", "parse_release", "upstream_from_banner",
    "fix_verdict", "MAINLINE_RELEASE_DATES",
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
    if upstream is None and vendor and patch > 0 and distro in ("debian", "proxmox", "arch", "fedora"):
        upstream = (major, minor, patch)  # "6.12.117+deb12-amd64": the number is upstream's
    return Release(text=text.strip(), major=major, minor=minor, patch=patch, rc=rc,
                   next_date=next_date, local=rest, vendor=vendor, distro=distro,
                   upstream=upstream, dirty=dirty)


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


def _verdict_one(rel: Release, fix: FixRef) -> tuple[str, str]:
    """(status, explanation template with a ``{fix}`` placeholder) for one fix."""
    caveat = " (release numbers for this fix are not confirmed)" if fix.unconfirmed else ""
    first = parse_release(fix.mainline) if fix.mainline else None
    if first is None:
        return "unknown", f"first mainline release of {{fix}} is not recorded{caveat}"
    first_name = fix.mainline
    # stable branches known to carry it
    stable = [s for s in (parse_release(x) for x in fix.stable) if s is not None]

    if rel.vendor:
        base = rel.base
        base_rel = Release(text=".".join(map(str, base)), major=base[0], minor=base[1], patch=base[2])
        if base_rel >= first:
            return "fixed", (f"vendor kernel based on {base_rel.text}, which is not older than "
                             f"{first_name} where {{fix}} landed{caveat}")
        for s in stable:
            if s.branch == base_rel.branch and rel.upstream is not None and base_rel >= s:
                return "fixed", (f"vendor kernel based on {base_rel.text}; {s.text} carries {{fix}}"
                                 f" (assuming the vendor kept it){caveat}")
        return "unknown", (f"vendor kernel ({rel.describe()}): the version number cannot show backports; "
                           f"check the vendor's changelog for {{fix}}")

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
                return "not fixed", f"{rel.text} is older than {first_name}, where {{fix}} first landed{caveat}"
            return "fixed", f"{rel.text} is newer than {first_name}, where {{fix}} first landed{caveat}"
        need = first.rc if first.rc is not None else 1
        if rel.rc >= need:
            how = "merge window" if first.rc is None else f"-rc{need}"
            return "fixed", (f"{rel.text}: {{fix}} was merged for {first.major}.{first.minor} in the "
                             f"{how}, so -rc{rel.rc} contains it{caveat}")
        return "not fixed", f"{rel.text}: {{fix}} only arrived in {first.major}.{first.minor}-rc{need}{caveat}"

    # mainline X.Y.0 or stable X.Y.Z
    if rel >= first:
        return "fixed", f"{rel.text} is not older than {first_name}, where {{fix}} first landed{caveat}"
    if rel.patch == 0:
        return "not fixed", (f"{rel.text} is a mainline release older than {first_name}, where "
                             f"{{fix}} first landed{caveat}")
    for s in stable:
        if s.branch == rel.branch:
            if rel.patch >= s.patch:
                return "fixed", f"{rel.text}: the {s.major}.{s.minor}.y stable branch carries {{fix}} since {s.text}{caveat}"
            return "not fixed", f"{rel.text}: the {s.major}.{s.minor}.y stable branch only carries {{fix}} from {s.text}{caveat}"
    return "unknown", (f"{rel.text}: not known whether the {rel.major}.{rel.minor}.y stable branch carries "
                       f"{{fix}}; check its changelog")


def fix_verdict(release: "str | Release | None", fixed_by: Iterable["FixRef | Mapping[str, Any]"],
                banner: str | None = None) -> Verdict:
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
    templated = [(f, *_verdict_one(rel, f)) for f in fixes]
    results = [(f, status, template.replace("{fix}", f.name)) for f, status, template in templated]
    per_fix = tuple((f.commit[:12] if f.commit else f.subject, status, why) for f, status, why in results)
    statuses = {status for _, status, _ in results}
    if statuses == {"fixed"}:
        status = "fixed"
    elif "not fixed" in statuses:
        status = "not fixed"
    else:
        status = "unknown"
    if rel.vendor and status == "unknown":
        missing = [f for f, s, _ in results if s != "fixed"]
        names = ", ".join(f.commit[:12] if f.commit else f'"{f.subject}"' for f in missing)
        explanation = f"vendor kernel {rel.describe()}, check for backports of {names}"
    elif len(results) == 1:
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
    if rel.custom and not rel.vendor:
        explanation += f" (local build '{rel.local or '+'}': patches on top are not visible in the version)"
    return Verdict(status, explanation, per_fix)
