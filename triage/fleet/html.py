"""The fleet report as one self-contained HTML page: buckets over time as an inline SVG chart, then the tables.

Built with the report stage's page kit (:mod:`triage.report.htmlkit`, :mod:`triage.report.htmlchart`):
everything escaped, no script, a CSP that forbids every request, so a page made from hostile capture
text and file names stays inert when it is opened from a ticket.
"""
from __future__ import annotations

from datetime import date

from ..report.htmlchart import svg_timeseries
from ..report.htmlkit import Card, Html, badge, banner, cards, document, kv, linkify, log_lines, section, table, tag
from .buckets import FleetReport, _iso, fix_text as _fix, names_text as _names

__all__ = ["fleet_html", "CHART_BUCKETS"]

#: buckets drawn in the chart (the largest; the table has them all)
CHART_BUCKETS = 8


def _series(report: FleetReport) -> dict[str, list[tuple[date, int]]]:
    out = {}
    for b in report.buckets[:CHART_BUCKETS]:
        points = [(date.fromisoformat(day), n) for day, n in b.per_day.items() if day != "unknown"]
        if points:
            out[f"{b.id[:8]} {b.title[:60]}"] = points
    return out


def fleet_html(report: FleetReport) -> str:
    since = _iso(report.since) or "all time"
    failed = sum(f["count"] for f in report.failures if f["status"] == "failed")
    pending = sum(f["count"] for f in report.failures if f["status"] == "pending")
    summary = cards([
        Card("captures", str(report.total), f"since {since}" if report.since else "all time"),
        Card("buckets", str(len(report.buckets)), f"{sum(b.new for b in report.buckets)} new"),
        Card("hosts", str(len({h for b in report.buckets for h in b.hosts}))),
        Card("not diagnosed", str(failed + pending), f"{failed} failed, {pending} pending",
             tone="warning" if failed + pending else "ok"),
    ])
    chart = section("Buckets over time", svg_timeseries(_series(report), title="captures per day",
                                                        y_label="captures"), id="chart")
    rows = []
    for b in report.buckets:
        rows.append([tag("code", b.id), b.title, str(b.count), _iso(b.first_seen) or "-", _iso(b.last_seen) or "-",
                     _names(b.hosts, b.host_count), _names(b.kernels), _fix(b),
                     badge("new", "warning") if b.new else "", linkify(b.ticket) if b.ticket else ""])
    buckets = section("Buckets", table(["bucket", "title", "count", "first seen", "last seen", "hosts", "kernels",
                                        "fix", "new", "ticket"], rows, numeric=(2,)), id="buckets")
    parts: list[Html] = [summary, chart, buckets]
    if report.failures:
        parts.append(section("Not diagnosed", table(["status", "count", "reason", "example"],
                                                    [[f["status"], str(f["count"]), f["reason"], f["example"]]
                                                     for f in report.failures], numeric=(1,)), id="failures"))
    if report.drilldown is not None:
        parts.append(_drilldown(report))
    title = "snp-triage fleet report"
    return document(title, *parts, subtitle=f"{report.total} captures, {len(report.buckets)} buckets, "
                                            f"since {since}; store {report.store}",
                    footer="Made by snp-triage fleet report: self-contained, no script, no request.")


def _drilldown(report: FleetReport) -> Html:
    d = report.drilldown
    assert d is not None
    ex = d.example
    root = ex.get("root") or {}
    body: list[Html] = [kv([("example", ex["origin"]), ("host", ex.get("host")), ("seen", ex.get("seen")),
                            ("kernel", ex.get("release")), ("diagnosis", ex.get("diagnosis")),
                            ("fix", ex.get("fix_status"))])]
    if root:
        body.append(banner(tag("strong", root["rule_id"]), f" ({root['severity']}): {root['title']}",
                           tone=root.get("severity") or "neutral"))
        for ev in root.get("evidence", []):
            body.append(tag("p", tag("strong", ev["label"]), ": ", ev["summary"]))
            body.append(log_lines([(ev["first_line"] if i == 0 else "", line) for i, line in enumerate(ev["lines"])]))
    crash = ex.get("crash")
    if crash:
        body.append(tag("p", tag("strong", "crash: "), crash["title"], f" (stack {crash['stack_hash']})"))
        body.append(log_lines([(None, frame) for frame in crash.get("frames", [])]))
    body.append(table(["host", "captures", "last seen", "kernels"],
                      [[h["host"], str(h["count"]), h["last_seen"] or "-", ", ".join(h["kernels"])] for h in d.hosts],
                      caption="hosts", numeric=(1,)))
    body.append(table(["capture", "host", "seen", "kernel", "crash"],
                      [[c["origin"], c["host"] or "", c["seen"] or "-", c["release"] or "", c["crash"] or ""]
                       for c in d.captures[:200]], caption="captures"))
    return section(f"Bucket {d.bucket.id}: {d.bucket.title}", *body, id="drilldown")
