"""Kernel release parsing and fix verdicts."""
from __future__ import annotations

import datetime as dt

import pytest

from triage.rulepack.releases import FixRef, Release, fix_verdict, parse_release, upstream_from_banner

KDUMP_SERIES = [
    {"commit": "f32fe7cb0198", "subject": "iommu/amd: Add support to remap/unmap IOMMU buffers for kdump",
     "mainline": "6.18", "stable": ["6.17.8"]},
    {"commit": "38e5f33ee359", "subject": "iommu/amd: Reuse device table for kdump",
     "mainline": "6.18", "stable": ["6.17.8"]},
]
DEBIAN_BANNER = ("Linux version 6.1.0-56-amd64 (debian-kernel@lists.debian.org) (gcc-12 (Debian 12.2.0-14+deb12u1) "
                 "12.2.0, GNU ld (GNU Binutils for Debian) 2.40) #1 SMP PREEMPT_DYNAMIC Debian 6.1.192-2 (2026-11-16)")
UBUNTU_BANNER = ("Linux version 6.8.0-45-generic (buildd@lcy02-amd64-075) (x86_64-linux-gnu-gcc-13 (Ubuntu 13.2.0-23ubuntu4) "
                 "13.2.0) #45-Ubuntu SMP PREEMPT_DYNAMIC Fri Aug 30 12:02:04 UTC 2024 (Ubuntu 6.8.0-45.45-generic 6.8.12)")


@pytest.mark.parametrize("text, expect", [
    ("6.11.0", dict(major=6, minor=11, patch=0, rc=None, vendor=False, local="")),
    ("6.11.0-rc6", dict(major=6, minor=11, patch=0, rc=6, vendor=False)),
    ("6.11.0-rc6-next-20240903-snp-host-f2a41ff576cc+",
     dict(major=6, minor=11, rc=6, next_date=dt.date(2024, 9, 3), local="-snp-host-f2a41ff576cc", dirty=True, vendor=False)),
    ("6.17.8", dict(major=6, minor=17, patch=8, vendor=False)),
    ("5.14.0-427.el9.x86_64", dict(major=5, minor=14, patch=0, vendor=True, distro="rhel")),
    ("5.14.0-570.23.1.el9_6.x86_64", dict(vendor=True, distro="rhel")),
    ("6.8.0-45-generic", dict(major=6, minor=8, vendor=True, distro="ubuntu")),
    ("5.3.0-29-generic", dict(major=5, minor=3, vendor=True, distro="ubuntu")),
    ("6.1.0-56-amd64", dict(major=6, minor=1, patch=0, vendor=True, distro="debian")),
    ("6.12.117+deb12-amd64", dict(vendor=True, distro="debian", upstream=(6, 12, 117))),
    ("6.5.13-1-pve", dict(vendor=True, distro="proxmox")),
    ("5.3.6-300.fc31.x86_64", dict(vendor=True, distro="fedora")),
    ("4.20.0-rc3+", dict(major=4, minor=20, rc=3, dirty=True, vendor=False)),
])
def test_parse(text, expect):
    rel = parse_release(text)
    assert rel is not None
    for key, value in expect.items():
        assert getattr(rel, key) == value, key


def test_parse_garbage():
    assert parse_release("") is None
    assert parse_release(None) is None
    assert parse_release("not-a-kernel") is None


def test_debian_upstream_from_banner():
    rel = parse_release("6.1.0-56-amd64", DEBIAN_BANNER)
    assert rel.upstream == (6, 1, 192)
    assert rel.base == (6, 1, 192)
    assert "6.1.192" in rel.describe()
    assert upstream_from_banner(UBUNTU_BANNER) == (6, 8, 12)
    assert upstream_from_banner(DEBIAN_BANNER, (6, 1)) == (6, 1, 192)  # not gcc's "Debian 12.2.0"
    # a banner for another kernel is not trusted
    assert parse_release("6.8.0-45-generic", DEBIAN_BANNER).upstream is None


def test_ordering():
    order = ["6.11.0-rc1", "6.11.0-rc6", "6.11.0", "6.11.3", "6.12.0-rc1", "6.18.0", "6.18.1"]
    parsed = [parse_release(x) for x in order]
    assert parsed == sorted(parsed)
    assert parse_release("6.18") == parse_release("6.18.0")
    assert isinstance(parsed[0], Release)


@pytest.mark.parametrize("release, status, words", [
    ("6.18.0", "fixed", "mainline 6.18 and later"),
    ("6.19.2", "fixed", "6.18"),
    ("6.18.0-rc1", "fixed", "merge window"),
    ("6.17.8", "fixed", "6.17 stable branch: first fixed in 6.17.8; this kernel is 6.17.8"),
    ("6.17.10", "fixed", "6.17 stable branch: first fixed in 6.17.8; this kernel is 6.17.10"),
    ("6.17.7", "not fixed", "6.17 stable branch: first fixed in 6.17.8; this kernel is 6.17.7"),
    ("6.17.0", "not fixed", "mainline release older"),
    ("6.17.0-rc4", "not fixed", "older than 6.18"),
    ("6.11.0", "not fixed", "older than 6.18"),
    ("6.11.0-rc6", "not fixed", "older than 6.18"),
    ("6.11.0-rc6-next-20240903-snp-host-f2a41ff576cc+", "not fixed", "predates"),
    ("6.18.0-rc3-next-20251020", "fixed", "after 6.18-rc1"),
    ("6.17.0-rc7-next-20250920", "unknown", "development cycle"),
    ("6.12.50", "not fixed", "6.12 stable branch: 6.12.117 does not carry 38e5f33ee359"),
    ("6.6.80", "unknown", "6.6 stable branch: not known whether it carries"),
    ("5.14.0-427.el9.x86_64", "unknown", "check for backports of f32fe7cb0198, 38e5f33ee359"),
    ("6.8.0-45-generic", "unknown", "vendor kernel"),
    ("5.3.0-29-generic", "unknown", "vendor kernel"),
    ("6.1.0-56-amd64", "unknown", "Debian 6.1.x (bookworm): 6.1.192 did not carry"),
    ("6.18.3-1-pve", "fixed", "based on 6.18.3"),
    (None, "unknown", "release not known"),
])
def test_fix_verdict(release, status, words):
    verdict = fix_verdict(release, KDUMP_SERIES)
    assert verdict.status == status, verdict.explanation
    assert words in verdict.explanation
    if release is not None:
        assert len(verdict.per_fix) == 2


def test_vendor_mentions_base_from_banner():
    # the table records that Debian 6.1.192-2 still has the old "copy" code (observed)
    verdict = fix_verdict("6.1.0-56-amd64", KDUMP_SERIES, banner=DEBIAN_BANNER)
    assert verdict.status == "not fixed"
    assert "based on 6.1.192" in verdict.explanation
    assert "Debian 6.1.x (bookworm): does not carry 38e5f33ee359" in verdict.explanation
    # a kernel the table says nothing about stays unknown and asks for the vendor's changelog
    verdict = fix_verdict("6.8.0-45-generic", KDUMP_SERIES, banner=UBUNTU_BANNER)
    assert verdict.status == "unknown" and "based on 6.8.12" in verdict.explanation
    assert "check for backports" in verdict.explanation


def test_local_build_is_flagged():
    verdict = fix_verdict("6.11.0-rc6-next-20240903-snp-host-f2a41ff576cc+", KDUMP_SERIES)
    assert "local build" in verdict.explanation


def test_fix_merged_after_rc1():
    late = [{"commit": "abcdef123456", "subject": "late fix", "mainline": "6.18-rc3"}]
    assert fix_verdict("6.18.0-rc2", late).status == "not fixed"
    assert fix_verdict("6.18.0-rc3", late).status == "fixed"
    assert fix_verdict("6.18.0", late).status == "fixed"


def test_no_fix_recorded_and_unknown_mainline():
    assert fix_verdict("6.11.0", []).status == "unknown"
    verdict = fix_verdict("6.11.0", [FixRef(commit="abcdef123456", subject="x")])  # not in rules/fixes.yaml
    assert verdict.status == "unknown" and "not recorded" in verdict.explanation


def test_mixed_fixes_any_missing_is_not_fixed():
    mixed = [{"commit": "aaaaaaaaaaaa", "subject": "old", "mainline": "6.9"},
             {"commit": "bbbbbbbbbbbb", "subject": "new", "mainline": "6.18"}]
    verdict = fix_verdict("6.12.0", mixed)
    assert verdict.status == "not fixed"
    assert "bbbbbbbbbbbb" in verdict.explanation
    statuses = dict((f, s) for f, s, _ in verdict.per_fix)
    assert statuses == {"aaaaaaaaaaaa": "fixed", "bbbbbbbbbbbb": "not fixed"}


def test_unconfirmed_release_is_said():
    verdict = fix_verdict("6.12.0", [{"subject": "x86/sev: Add callback to apply RMP table fixups for kexec",
                                      "mainline": "6.11", "unconfirmed": True}])
    assert verdict.status == "fixed"
    assert "not confirmed" in verdict.explanation
