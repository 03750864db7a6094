"""The fleet report's data: buckets from the stored captures, overrides applied, a window of time, drill-downs.

Counts, hosts, kernels and fix verdicts are those of the captures seen in the window (``--since``);
``new`` says a bucket's first capture ever falls inside it.  A capture's time is when it was written
(its file's or archive member's mtime), not when it was scanned.
"""
from __future__ import annotations

import json
import re
import time
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from typing import Any

from ..errors import UsageError
from .overrides import SPLIT_FACETS, Override

__all__ = ["BucketRow", "Drilldown", "FleetReport", "build_report", "parse_since", "FLEET_SCHEMA", "DAY", "names_text", "fix_text"]

#: version of the fleet report's JSON
FLEET_SCHEMA = 1
DAY = 86400.0
_SINCE = re.compile(r"^(\d{1,6})([mhdw])$")
_UNITS = {"m": 60.0, "h": 3600.0, "d": DAY, "w": 7 * DAY}
#: hosts and kernels named per bucket in the list (the drill-down has them all)
LIST_NAMES = 5


def parse_since(text: str | None) -> float | None:
    """``7d`` -> seconds; m, h, d, w units."""
    if text is None:
        return None
    found = _SINCE.match(text.strip())
    if not found:
        raise UsageError(f"snp-triage fleet report: --since {text}: give a number and a unit m, h, d or w (e.g. 7d)")
    return int(found.group(1)) * _UNITS[found.group(2)]


@dataclass
class BucketRow:
    """One bucket: what it is and how often, where and on which kernels it was seen."""

    id: str
    title: str
    basis: str
    count: int
    first_seen: float | None
    last_seen: float | None
    new: bool
    hosts: list[str]
    host_count: int
    kernels: list[str]
    fix: dict[str, int]
    rule_id: str | None
    ticket: str | None = None
    merged: list[str] = field(default_factory=list)  # buckets merged into this one by an override
    example: str | None = None  # the most recent capture's origin
    per_day: dict[str, int] = field(default_factory=dict)  # YYYY-MM-DD -> captures

    def to_dict(self) -> dict[str, Any]:
        return {"id": self.id, "title": self.title, "basis": self.basis, "count": self.count,
                "first_seen": _iso(self.first_seen), "last_seen": _iso(self.last_seen), "new": self.new,
                "hosts": self.hosts, "host_count": self.host_count, "kernels": self.kernels, "fix": self.fix,
                "rule_id": self.rule_id, "ticket": self.ticket, "merged": self.merged, "example": self.example,
                "per_day": self.per_day}


@dataclass
class Drilldown:
    """One bucket in detail: an example capture with its evidence lines, every host, every capture."""

    bucket: BucketRow
    example: dict[str, Any]
    hosts: list[dict[str, Any]]
    captures: list[dict[str, Any]]

    def to_dict(self) -> dict[str, Any]:
        return {"bucket": self.bucket.to_dict(), "example": self.example, "hosts": self.hosts,
                "captures": self.captures}


@dataclass
class FleetReport:
    """Everything ``fleet report`` prints."""

    store: str
    now: float
    since: float | None  # the window's start (None: all time)
    buckets: list[BucketRow]
    statuses: dict[str, int]
    failures: list[dict[str, Any]]  # reason -> count, example
    moves: list[dict[str, Any]]
    drilldown: Drilldown | None = None
    host: str | None = None
    total: int = 0

    def to_dict(self) -> dict[str, Any]:
        return {"schema": FLEET_SCHEMA, "store": self.store, "now": _iso(self.now), "since": _iso(self.since),
                "host": self.host, "captures": self.total, "statuses": self.statuses,
                "buckets": [b.to_dict() for b in self.buckets], "failures": self.failures,
                "bucket_moves": self.moves, "drilldown": self.drilldown.to_dict() if self.drilldown else None}


def names_text(values: list[str], total: int | None = None) -> str:
    """The first LIST_NAMES of a bucket's hosts or kernels, and how many more."""
    shown = ", ".join(values[:LIST_NAMES])
    more = (total if total is not None else len(values)) - min(len(values), LIST_NAMES)
    return shown + (f" (+{more})" if more > 0 else "")


def fix_text(bucket: BucketRow) -> str:
    """A bucket's fix verdicts with their counts."""
    return ", ".join(f"{status} {count}" for status, count in bucket.fix.items())


def _iso(stamp: float | None) -> str | None:
    return None if stamp is None else time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(stamp))


def _day(stamp: float | None) -> str:
    return time.strftime("%Y-%m-%d", time.gmtime(stamp)) if stamp is not None else "unknown"


def _assign(rows: list[dict[str, Any]], overrides: list[Override], moves: list[dict[str, Any]]):
    """Each row's bucket id and title after the overrides; tickets, titles and merges per bucket."""
    renamed = {m["old_bucket"]: m["new_bucket"] for m in moves}  # an override written against an older version
    rules = [o if "bucket" not in o.match or o.match["bucket"] not in renamed else
             Override(match={**o.match, "bucket": renamed[o.match["bucket"]]}, merge_into=o.merge_into,
                      split_by=o.split_by, ticket=o.ticket, title=o.title, where=o.where) for o in overrides]
    tickets: dict[str, str] = {}
    titles: dict[str, str] = {}
    merged: dict[str, set[str]] = defaultdict(set)
    base_titles = {row["bucket"]: row["bucket_title"] for row in rows}
    out = []
    for row in rows:
        bucket, title = row["bucket"], row["bucket_title"]
        for rule in rules:
            if not rule.matches(row, bucket, title):
                continue
            if rule.merge_into:
                target = renamed.get(rule.merge_into, rule.merge_into)
                if target != bucket:
                    merged[target].add(bucket)
                    bucket, title = target, base_titles.get(target, title)
            elif rule.split_by:
                value = row.get(SPLIT_FACETS[rule.split_by]) or "unknown"
                bucket, title = f"{bucket}/{value}", f"{title} [{rule.split_by}={value}]"
            if rule.ticket:
                tickets[bucket] = rule.ticket
            if rule.title:
                titles[bucket] = rule.title
        out.append((row, bucket, titles.get(bucket, title)))
    return out, tickets, titles, merged


def build_report(store, *, since: float | None = None, host: str | None = None, bucket: str | None = None,
                 overrides: list[Override] = (), now: float | None = None) -> FleetReport:
    """The report from a store (anything with rows(), status_counts(), failures(), bucket_moves())."""
    now = time.time() if now is None else now
    start = now - since if since is not None else None
    moves = store.bucket_moves()
    rows = store.rows()
    if host is not None:
        rows = [r for r in rows if r.get("host") == host]
    assigned, tickets, titles, merged = _assign(rows, list(overrides), moves)
    first_ever: dict[str, float] = {}
    for row, bid, _ in assigned:
        seen = row.get("seen_at")
        if seen is not None:
            first_ever[bid] = min(first_ever.get(bid, seen), seen)
    groups: dict[str, list[tuple[dict[str, Any], str]]] = defaultdict(list)
    for row, bid, title in assigned:
        seen = row.get("seen_at")
        if start is not None and (seen is None or seen < start):
            continue
        groups[bid].append((row, titles.get(bid, title)))
    buckets = [_bucket(bid, members, first_ever.get(bid), start, tickets.get(bid), sorted(merged.get(bid, ())))
               for bid, members in groups.items()]
    buckets.sort(key=lambda b: (-b.count, -(b.last_seen or 0), b.id))
    report = FleetReport(store=store.where, now=now, since=start, buckets=buckets, statuses=store.status_counts(),
                         failures=_failures(store.failures()), moves=moves, host=host,
                         total=sum(b.count for b in buckets))
    if bucket is not None:
        report.drilldown = _drilldown(bucket, buckets, groups, renamed={m["old_bucket"]: m["new_bucket"] for m in moves})
    return report


def _bucket(bid: str, members: list[tuple[dict[str, Any], str]], first_ever: float | None, start: float | None,
            ticket: str | None, merged: list[str]) -> BucketRow:
    rows = [r for r, _ in members]
    seen = [r["seen_at"] for r in rows if r.get("seen_at") is not None]
    hosts = Counter(r.get("host") or "unknown" for r in rows)
    kernels = Counter(r.get("release") or "unknown" for r in rows)
    fix = Counter(r.get("fix_status") or "no fix recorded" for r in rows)
    latest = max(rows, key=lambda r: (r.get("seen_at") or 0, r["id"]))
    per_day = Counter(_day(r.get("seen_at")) for r in rows)
    rule_ids = Counter(r.get("rule_id") for r in rows if r.get("rule_id"))
    return BucketRow(
        id=bid, title=members[0][1], basis=rows[0].get("bucket_basis") or "", count=len(rows),
        first_seen=min(seen) if seen else None, last_seen=max(seen) if seen else None,
        new=first_ever is not None and start is not None and first_ever >= start,
        hosts=[h for h, _ in sorted(hosts.items(), key=lambda kv: (-kv[1], kv[0]))],
        host_count=len(hosts), kernels=[k for k, _ in sorted(kernels.items(), key=lambda kv: (-kv[1], kv[0]))],
        fix=dict(sorted(fix.items())), rule_id=rule_ids.most_common(1)[0][0] if rule_ids else None,
        ticket=ticket, merged=merged, example=latest["origin"], per_day=dict(sorted(per_day.items())))


def _failures(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    by_reason: dict[tuple[str, str], list[dict[str, Any]]] = defaultdict(list)
    for row in rows:
        by_reason[(row["status"], row.get("reason") or "not diagnosed yet (an interrupted scan)")].append(row)
    out = [{"status": status, "reason": reason, "count": len(items), "example": items[0]["origin"]}
           for (status, reason), items in by_reason.items()]
    return sorted(out, key=lambda f: (-f["count"], f["status"], f["reason"]))


def _drilldown(bucket: str, buckets: list[BucketRow], groups, renamed: dict[str, str]) -> Drilldown:
    wanted = renamed.get(bucket, bucket)
    row = next((b for b in buckets if b.id == wanted), None)
    if row is None:
        matches = [b for b in buckets if b.id.startswith(wanted)]
        if len(matches) != 1:
            raise UsageError(f"snp-triage fleet report: --bucket {bucket}: "
                             f"{'no such bucket in this window' if not matches else 'ambiguous prefix'}")
        row = matches[0]
    members = [r for r, _ in groups[row.id]]
    latest = max(members, key=lambda r: (r.get("seen_at") or 0, r["id"]))
    detail = json.loads(latest.get("detail") or "{}")
    example = {"origin": latest["origin"], "host": latest.get("host"), "seen": _iso(latest.get("seen_at")),
               "release": latest.get("release"), "diagnosis": latest.get("diagnosis"),
               "fix_status": latest.get("fix_status"), "root": detail.get("root"),
               "crash": (detail.get("fingerprint") or {}).get("signatures", [None])[0] if
               (detail.get("fingerprint") or {}).get("signatures") else None}
    per_host: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for r in members:
        per_host[r.get("host") or "unknown"].append(r)
    hosts = [{"host": h, "count": len(rs), "last_seen": _iso(max((r.get("seen_at") or 0) for r in rs) or None),
              "kernels": sorted({r.get("release") or "unknown" for r in rs})}
             for h, rs in sorted(per_host.items(), key=lambda kv: (-len(kv[1]), kv[0]))]
    captures = [{"origin": r["origin"], "host": r.get("host"), "seen": _iso(r.get("seen_at")),
                 "release": r.get("release"), "diagnosis": r.get("diagnosis"), "crash": r.get("crash_title")}
                for r in sorted(members, key=lambda r: (-(r.get("seen_at") or 0), r["origin"]))]
    return Drilldown(row, example, hosts, captures)
