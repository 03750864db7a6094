"""The report as one self-contained HTML page (``snp-triage FILE --format html``).

Why a page: a support engineer reads a diagnosis in a ticket or a browser, prints it, mails it.
The page holds the same data as ``--format json`` (it is drawn from ``Report.to_dict()``; the
only things added are the capture's own raw evidence lines from the findings' events), in the
order a reader wants: the root cause first, then the capture's boots on a timeline with each
finding placed on the boot and line of its evidence, then every finding (severity, confidence
and why, evidence lines by number, cause, remedy, fix verdict per commit, what to collect), the
vmcore facts when a vmcore was read, and the capture-quality notes.  Built with :mod:`htmlkit`:
no script, nothing fetched, all capture text escaped.
"""
from __future__ import annotations

from collections import Counter
from collections.abc import Mapping, Sequence
from typing import Any

from ..model import SCHEMA_VERSION, SEVERITIES, Finding, Report
from .htmlkit import (Card, Html, Mark, Span, badge, banner, cards, document, kv, linkify, log_lines, section,
                      table, tag, timeline)
from .htmlvmcore import vmcore_section
from .render import MAX_FINDINGS_SHOWN, plural

__all__ = ["report_html"]

#: lines of one event (a report with its call trace) shown before the rest is summarised
MAX_EVENT_LINES = 60

Json = Mapping[str, Any]


def _anchor(number: int) -> str:
    return f"finding-{number}"


def _boot_anchor(source_index: int, boot: int) -> str:
    return f"boot-{source_index}-{boot}"


def _event_rows(finding: Finding, evidence_index: int) -> list[tuple[int | str | None, str]]:
    """The raw lines of one evidence step's events, numbered, with gaps between distant lines."""
    evidence = finding.evidence[evidence_index]
    rows: list[tuple[int | str | None, str]] = []
    previous_end: int | None = None
    for event in evidence.events:
        if previous_end is not None and event.line > previous_end + 1:
            rows.append((None, "\u22ef"))
        consecutive = len(event.text) == event.end_line - event.line + 1
        for offset, text in enumerate(event.text[:MAX_EVENT_LINES]):
            number: int | str = event.line + offset if consecutive else (event.line if offset == 0 else "")
            rows.append((number, text))
        if len(event.text) > MAX_EVENT_LINES:
            rows.append((None, f"\u22ef {len(event.text) - MAX_EVENT_LINES} more lines of this report, "
                               f"to line {event.end_line}"))
        previous_end = event.end_line
    if evidence.count > len(evidence.events):
        rows.append((None, f"{evidence.count} events in all, lines {evidence.first_line}\u2013{evidence.last_line}; "
                           f"{len(evidence.events)} shown"))
    return rows


def _where(f: Json, source_index: int | None = None) -> Html:
    """Source, boot (a link to it on the timeline when its source's index is given), role, release."""
    role = f["boot_role"] + (f", {f['release']}" if f.get("release") else "")
    boots = f.get("boots") or []
    also = f" (boots {', '.join(map(str, boots))})" if len(boots) > 1 else ""
    boot = f"boot {f['boot']}"
    if source_index is not None:
        boot = tag("a", boot, href=f"#{_boot_anchor(source_index, f['boot'])}")
    return tag("span", f"{f['source']}, ", boot, f" ({role}){also}")


def _verdict(fix: Json | None) -> Html:
    if not fix:
        return tag("span", "no fix recorded for this signature", class_="muted")
    return Html(badge(fix["status"], fix["status"]) + " " + tag("span", fix["explanation"]))


def _collect(f: Json, notes: Sequence[Json], root: bool) -> list[Html]:
    """What to collect next for one finding: its to_confirm, and the quality notes of its boots."""
    out = [tag("li", tag("strong", "to confirm: "), " ".join(f["to_confirm"].split()))] if f.get("to_confirm") else []
    boots = set(f.get("boots") or [f["boot"]])
    for note in notes:
        if note["source"] == f["source"] and (note["boot"] in boots or (root and note["boot"] is None)):
            out.append(tag("li", tag("code", note["code"]), ": ", note["collect"]))
    return out


def _finding(number: int, f: Json, finding: Finding, notes: Sequence[Json], numbers: Mapping[str, int],
             root: bool, source_index: int | None) -> Html:
    """One finding in full."""
    head = tag("h3", badge(f["severity"].upper(), f["severity"]), " ", tag("code", f["rule_id"]), " ",
               badge(f["confidence"], "info"), " ", badge("root cause", "bad") if root else None,
               tag("span", f" #{number}", class_="muted small"))
    facts = kv([
        ("where", _where(f, source_index)),
        ("confidence", f"{f['confidence']}: {f['confidence_reason']}" if f.get("confidence_reason") else f["confidence"]),
        ("fix", _verdict(f.get("fix"))),
        ("vmcore", str(finding.vmcore) if finding.vmcore is not None else None),
        ("platform", "; ".join(f.get("platform") or [])),
        ("follows from", [Html(tag("a", r, href=f"#{_anchor(numbers[r])}") + " ") if r in numbers else f"{r} "
                          for r in f.get("consequence_of") or []]),
        ("tags", ", ".join(f.get("tags") or [])),
    ])
    steps = []
    for index, (ev, evidence) in enumerate(zip(f["evidence"], finding.evidence)):
        label = tag("div", badge(ev["role"], "neutral" if ev["role"] == "required" else "info"), " ",
                    tag("strong", ev["label"]), " ", tag("span", ev.get("description") or "", class_="muted"),
                    tag("div", ev["summary"]), class_="log-head")
        steps.append(Html(label + log_lines(_event_rows(finding, index), highlight=ev.get("lines") or ())))
    per_fix = (f.get("fix") or {}).get("per_fix") or []
    collect = _collect(f, notes, root)
    body = [head, tag("p", tag("strong", f["title"])), facts, tag("h4", "Evidence"), steps,
            tag("h4", "Cause"), tag("p", " ".join(f["summary"].split())),
            tag("h4", "Remedy"), tag("p", " ".join(f["remedy"].split())),
            table(("fix", "status", "why"), [(tag("code", p["fix"], class_="nw"), badge(p["status"], p["status"]), p["why"])
                                                 for p in per_fix],
                  caption="Fix verdict per commit") if per_fix else None,
            Html(tag("h4", "What to collect") + tag("ul", collect)) if collect else None,
            Html(tag("h4", "Notes") + tag("ul", [tag("li", " ".join(c.split())) for c in f["caveats"]]))
            if f.get("caveats") else None,
            Html(tag("h4", "References") + tag("ul", [tag("li", linkify(r)) for r in f["references"]]))
            if f.get("references") else None]
    return tag("article", body, class_=f"finding root s-{f['severity']}" if root else "finding", id=_anchor(number),
               data_rule=f["rule_id"], data_severity=f["severity"], data_boot=f["boot"])


def _platform(facts: Json) -> list[Html]:
    """A boot's platform facts: each value with the line that showed it (the line's text as tooltip)."""
    out = []
    for name, fact in facts.items():
        where = f"line {fact['line']}" if fact.get("line") else ""
        how = ", ".join(x for x in (where, "inferred" if fact.get("inferred") else "") if x)
        if out:
            out.append(Html("; "))
        out.append(tag("span", f"{name} ", tag("code", fact.get("value")), f" ({how})" if how else "",
                       title=fact.get("text") or None))
    return out


def _boot_detail(boot: Json, notes: Sequence[Json]) -> Html:
    stamps = [f"{t:.6f} s" for t in (boot.get("first_timestamp"), boot.get("last_timestamp")) if t is not None]
    time = " \u2013 ".join(stamps) or None
    ended = boot["ended"] + (f": {boot['panic_message']}" if boot.get("panic_message") else "")
    counts = [plural(boot["event_count"], "event"), plural(boot["plain_lines"], "plain line")]
    counts += [f"{boot[k]} {k.replace('_', ' ')}" for k in ("dropped_messages", "torn_lines", "reordered_lines")
               if boot.get(k)]
    return kv([
        ("role", boot["role"] + (f" ({boot['role_reason']})" if boot.get("role_reason") else "")),
        ("release", (boot.get("release") or "unknown") +
         (f" (from {boot['release_from']})" if boot.get("release") and boot.get("release_from") else "")),
        ("lines", f"{boot['first_line']}\u2013{boot['last_line']}"), ("time", time),
        ("started by", boot["started_by"]), ("ended by", ended),
        ("kdump", "loaded ('Kdump: loaded' in a report)" if boot.get("kdump_loaded") else None),
        ("hardware", boot.get("hardware")), ("platform", _platform(boot.get("platform") or {})), ("command line", tag("code", boot["command_line"])
                                             if boot.get("command_line") else None),
        ("lines read", ", ".join(counts)),
        ("capture quality", [tag("div", tag("code", n["code"]), ": ", n["message"]) for n in notes]),
    ])


def _timeline(source_index: int, source: Json, shown: Sequence[tuple[int, Json]], notes: Sequence[Json]) -> Html:
    spans = []
    for boot in source["boots"]:
        marks = []
        for number, f in shown:
            if f["source"] != source["source"]:
                continue
            on_boot = [ev for ev in f["evidence"] if (f["boot"] if ev.get("boot") is None else ev["boot"]) == boot["index"]]
            if not on_boot and f["boot"] != boot["index"]:
                continue
            steps = "; ".join(f"{ev['label']} line {ev['first_line']}" for ev in on_boot)
            first = min((ev["first_line"] for ev in on_boot), default=boot["first_line"])
            marks.append(Mark(first, str(number), f"#{_anchor(number)}", f["severity"],
                              f"#{number} {f['rule_id']} ({f['severity']}, {f['confidence']})" + (f": {steps}" if steps else ""),
                              chip=f"#{number} {f['rule_id']}"))
        label = f"boot {boot['index']} \u00b7 {boot['role']} \u00b7 {boot.get('release') or 'release unknown'} \u00b7 {boot['ended']}"
        boot_notes = [n for n in notes if n["source"] == source["source"] and n["boot"] == boot["index"]]
        spans.append(Span(boot["first_line"], boot["last_line"], label, _boot_detail(boot, boot_notes),
                          marks=marks, css=f"r-{boot['role']}", id=_boot_anchor(source_index, boot["index"])))
    caption = (f"{source['source']}: {plural(len(source['boots']), 'boot')}, {plural(source['total_lines'], 'line')}; "
               "width by lines (short boots widened); numbers are findings, placed at their first evidence line in the boot")
    return timeline(spans, caption=caption)


def _summary_cards(data: Json, root: Json | None, quality: Sequence[Json]) -> Html:
    severities = Counter(f["severity"] for f in data["findings"])
    boots = [b for s in data["sources"] for b in s["boots"]]
    roles = Counter(b["role"] for b in boots)
    items = [
        Card("root cause", root["rule_id"] if root else "none", root["title"] if root else "nothing in the rule packs matched",
             root["severity"] if root else "ok"),
        Card("fix verdict", (root.get("fix") or {}).get("status", "none recorded") if root else "-",
             "for the root cause's kernel" if root and root.get("fix") else None,
             (root.get("fix") or {}).get("status", "neutral") if root else "neutral"),
        Card("findings", len(data["findings"]), ", ".join(f"{severities[s]} {s}" for s in SEVERITIES if severities[s]),
             next((s for s in SEVERITIES if severities[s]), "ok")),
        Card("boots", len(boots), ", ".join(f"{n} {r}" for r, n in sorted(roles.items()))),
        Card("capture quality", plural(len(quality), "note"),
             ", ".join(f"{n} {s}" for s, n in sorted(Counter(q["severity"] for q in quality).items())),
             "warning" if any(q["severity"] == "warning" for q in quality) else "neutral"),
    ]
    vmcore = data.get("vmcore")
    if vmcore is not None:
        items.append(Card("vmcore", "not read" if vmcore.get("error") else "read", vmcore.get("path"),
                          "warning" if vmcore.get("error") else "ok"))
    return cards(items)


def _diagnosis(root: Json | None, number: int | None, empty: bool) -> Html:
    if empty:
        return banner(tag("strong", "Empty capture: "), "the input holds no line to diagnose.", tone="warning")
    if root is None:
        return banner(tag("strong", "No finding: "), "nothing in the rule packs matched.", tone="ok")
    title = tag("a", root["title"], href=f"#{_anchor(number)}") if number and number <= MAX_FINDINGS_SHOWN else root["title"]
    return banner(tag("div", tag("strong", "Diagnosis: "), title),
                  tag("div", badge(root["severity"].upper(), root["severity"]), " ", tag("code", root["rule_id"]), " ",
                      badge(root["confidence"], "info"), " ", _verdict(root.get("fix"))),
                  tag("p", " ".join(root["summary"].split())), tone=root["severity"])


def report_html(report: Report) -> str:
    """The whole report as one HTML document (UTF-8 text)."""
    data = report.to_dict()
    index_of = {id(f): i for i, f in enumerate(report.findings)}
    ranked = [(report.findings[index_of[id(f)]], data["findings"][index_of[id(f)]]) for f in report.ranked_findings()]
    numbers: dict[str, int] = {}  # rule id -> the first finding of it shown in full (links lead there)
    for number, (_, f) in enumerate(ranked[:MAX_FINDINGS_SHOWN], 1):
        numbers.setdefault(f["rule_id"], number)
    root_finding = report.root_cause  # the finding whose rule_id is the JSON's root_cause
    root_number = next((n for n, (finding, _) in enumerate(ranked, 1) if finding is root_finding), None)
    root = ranked[root_number - 1][1] if root_number else None
    quality = data["quality"]
    body: list[Html] = []
    for source in data["sources"]:
        if source.get("input_error"):
            body.append(banner(tag("strong", "Input read only in part: "), source["input_error"], tone="warning"))
    body.append(_diagnosis(root, root_number, report.empty))
    body.append(_summary_cards(data, root, quality))
    shown = [(n, f) for n, (_, f) in enumerate(ranked, 1) if n <= MAX_FINDINGS_SHOWN]
    body.append(section("Boots and findings", [_timeline(i, s, shown, quality) for i, s in enumerate(data["sources"])],
                        id="boots"))
    if ranked:
        sources = {s["source"]: i for i, s in enumerate(data["sources"])}
        full = [_finding(n, f, finding, quality, numbers, n == root_number, sources.get(f["source"]))
                for n, (finding, f) in enumerate(ranked, 1) if n <= MAX_FINDINGS_SHOWN]
        rest = [(n, badge(f["severity"], f["severity"]), f["confidence"], tag("code", f["rule_id"]), _where(f),
                 ", ".join(str(x) for x in (finding.lines[:5] or ["-"])), f["title"])
                for n, (finding, f) in enumerate(ranked, 1) if n > MAX_FINDINGS_SHOWN]
        more = table(("#", "severity", "confidence", "rule", "where", "lines", "title"), rest, numeric=(0,),
                     caption=f"{plural(len(rest), 'more finding')} (all of them in --format json)") if rest else None
        body.append(section(f"Findings ({len(ranked)}), root cause first", full, more, id="findings"))
    body.append(vmcore_section(data.get("vmcore")))
    if quality:
        rows = [(badge(q["severity"], q["severity"]), tag("code", q["code"]),
                 q["source"] + ("" if q["boot"] is None else f" boot {q['boot']}"), q["message"], q["collect"])
                for q in quality]
        body.append(section("Capture quality: what is missing, what to collect next",
                            table(("severity", "code", "where", "gap", "collect next"), rows), id="quality"))
    sources = ", ".join(s["source"] for s in data["sources"]) or "no input"
    tab = f"snp-triage: {root['rule_id'] if root else 'no finding'} \u00b7 {sources}"
    return document("snp-triage report", *body, subtitle=f"{sources} \u00b7 {plural(len(ranked), 'finding')}",
                    tab_title=tab,
                    footer=f"snp-triage; the same data as --format json (schema {SCHEMA_VERSION}). "
                           "This page runs no script and loads nothing.")
