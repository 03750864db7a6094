"""The HTML page and its kit without a browser: escaping, structure, and the same facts as the JSON.

The browser tests (tests/test_html_browser.py) render the same pages in Chromium; these check
what can be checked from the text, on real captures and on hostile text.
"""
from __future__ import annotations

import json
import subprocess
import sys
from datetime import date, datetime

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from triage.model import CompletionWait, Fact, IommuFacts, Report, VmcoreFacts
from triage.model.report import CrossCheck
from triage.report import analyze, htmlreport
from triage.report.htmlchart import svg_timeseries
from triage.report.htmlkit import Card, Html, Mark, Span, cards, document, esc, kv, linkify, log_lines, table, tag, timeline
from triage.report.htmlreport import report_html

from .conftest import FOUNDING, QEMU_LOG, ROOT
from .htmlcheck import check_fragment, check_page

HOSTILE = '<script>window.__pwned=1</script><img src=x onerror="window.__pwned=2"> & </pre>'


def run(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "triage", *args], capture_output=True, cwd=ROOT, timeout=300)


@pytest.fixture(scope="module")
def founding():
    return analyze([str(FOUNDING)])


# ---------------------------------------------------------------- the kit

def test_esc_escapes_markup_quotes_and_shows_control_characters():
    assert esc('<a href="x">\'&') == "&lt;a href=&quot;x&quot;&gt;&#x27;&amp;"
    assert esc("a\x00b\x1bc\rd\te\nf\x85") == "a\\x00b\\x1bc\\x0dd\te\nf\\x85"
    assert esc("\udcff") == "\ufffd"  # a lone surrogate (surrogateescape'd byte) cannot be encoded


@settings(max_examples=300, deadline=None)
@given(st.text())
def test_any_text_stays_text(text):
    page = check_fragment(tag("p", text, title=text))
    assert page.tags == {"p": 1}
    shown = page.all_text
    assert shown.replace("\ufffd", "") == "".join(
        c if c in "\t\n" or not (ord(c) < 0x20 or 0x7f <= ord(c) <= 0x9f) else f"\\x{ord(c):02x}"
        for c in text if not 0xD800 <= ord(c) <= 0xDFFF).replace("\ufffd", "")


def test_html_is_kept_and_str_is_escaped():
    assert tag("div", Html("<b>x</b>"), "<b>y</b>") == "<div><b>x</b>&lt;b&gt;y&lt;/b&gt;</div>"
    assert tag("td", None, class_="num", hidden=True, title=None) == '<td class="num" hidden></td>'


def test_kit_pieces_are_well_formed():
    markup = Html("".join([
        cards([Card("findings", 3, "2 critical", "critical"), Card("<x>", "<y>")]),
        kv([("a", "1"), ("empty", None), ("b", Html("<code>2</code>"))]),
        table(("#", "name"), [(1, "<one>"), (2, "two")], caption="t", numeric=(0,)),
        log_lines([(12, "[ 1.0] <hostile>"), (None, "\u22ef"), (15, "x")], highlight=[12]),
        timeline([Span(1, 10, "boot 0", "d", marks=[Mark(3, "1", "#f1", "critical", chip="#1 RULE")]),
                  Span(11, 12, "boot 1")]),
    ]))
    page = check_fragment(markup)
    assert "<hostile>" in page.all_text and "<x>" in page.all_text
    assert [a["data-line"] for a in page.with_data("data-line")] == ["12", "15"]
    assert page.tags["li"] == 2 and "#1 RULE" in page.all_text and "empty" not in page.all_text


def test_timeline_gives_short_spans_a_visible_share():
    markup = timeline([Span(1, 10_000, "long"), Span(10_001, 10_002, "short")])
    widths = [float(part.split("width:")[1].split("%")[0]) for part in markup.split('class="tl-span')[1:]]
    assert widths[1] >= 6.5 and abs(sum(widths) - 100) < 0.01


def test_linkify_makes_only_http_links():
    out = linkify('see https://lore.kernel.org/a?b=1&c="2", javascript:alert(1) and <https://x.org/y>.')
    assert check_fragment(out).hrefs == ["https://lore.kernel.org/a?b=1&c=", "https://x.org/y"]
    assert 'href="https://lore.kernel.org/a?b=1&amp;c="' in out and 'href="https://x.org/y"' in out


def test_document_has_the_csp_and_no_script():
    page = document("t <x>", Html("<p>body</p>"), subtitle="s", footer="f")
    checked = check_page(page)
    assert "script" not in page.lower().replace("no script", "")
    assert "script-src" not in checked.csp and "default-src 'none'" in checked.csp


# ---------------------------------------------------------------- the chart

def test_svg_timeseries_one_line_per_series_one_dot_per_point():
    series = {"SNP-KDUMP-CWB-TIMEOUT": [(date(2026, 12, 1), 3), (date(2026, 11, 28), 1), (date(2026, 12, 3), 0)],
              "<b>bucket</b>": [(date(2026, 12, 2), 7)]}
    markup = svg_timeseries(series, title="buckets <per day>")
    page = check_fragment(markup)
    assert page.tags["polyline"] == 2 and page.tags["circle"] == 4 and page.tags["svg"] == 1
    assert "<b>bucket</b>" in page.all_text and "buckets <per day>" in page.all_text
    assert "2026-11-28" in page.all_text and "2026-12-03" in page.all_text  # first and last x ticks
    first = markup.split("<polyline")[1].split('points="')[1].split('"')[0].split()
    assert [float(p.split(",")[0]) for p in first] == sorted(float(p.split(",")[0]) for p in first)
    assert "(4)" in page.all_text and "(7)" in page.all_text  # totals in the legend


def test_svg_timeseries_edge_cases():
    assert "No data." in svg_timeseries({}) and "no data" in svg_timeseries({"a": []}, title="x")
    one = check_fragment(svg_timeseries({"a": [(datetime(2026, 12, 4, 17, 30), 0)]}))
    assert one.tags["circle"] == 1 and "2026-12-04 17:30" in one.all_text
    many = svg_timeseries({f"s{i}": [(date(2026, 1, 1 + i), i)] for i in range(10)})
    assert many.count("stroke-dasharray") == 2  # past eight colours, a dash pattern


# ---------------------------------------------------------------- the report page

def _finding_articles(page):
    return [a for a in page.with_data("data-rule")]


def test_founding_page_has_the_json_facts(founding):
    text = report_html(founding)
    page = check_page(text)
    data = founding.to_dict()
    shown = page.all_text
    ranked = [f.rule_id for f in founding.ranked_findings()]
    assert [a["data-rule"] for a in _finding_articles(page)] == ranked
    assert ranked[0] == data["root_cause"] == "SNP-KDUMP-CWB-TIMEOUT"
    assert "Diagnosis:" in shown and "root cause" in shown and "not fixed" in shown
    lines = {int(a["data-line"]) for a in page.with_data("data-line")}
    for finding in data["findings"]:
        assert finding["title"] in shown and finding["confidence_reason"] in shown
        for evidence in finding["evidence"]:
            assert set(evidence["lines"]) <= lines and evidence["summary"] in shown
        for per_fix in finding["fix"]["per_fix"]:
            assert per_fix["why"] in shown
    boots = data["sources"][0]["boots"]
    assert page.tags["li"] >= len(boots)
    for boot in boots:
        assert f"{boot['first_line']}\u2013{boot['last_line']}" in shown
    assert "6.11.0-rc6-next-20240903-snp-host-f2a41ff576cc+" in shown
    for note in data["quality"]:
        assert note["message"] in shown and note["collect"] in shown
    for boot in boots:  # platform facts (schema 3), each with its line
        for name, fact in (boot.get("platform") or {}).items():
            assert f"{name} {fact['value']} (line {fact['line']}" in shown
    for finding in data["findings"]:
        assert all(text in shown for text in finding.get("platform") or [])


def test_founding_page_outline(founding):
    """The page's outline, golden: the diagnosis order a reader sees."""
    page = check_page(report_html(founding))
    assert [text for level, text in page.headings if level != "h4"] == [
        "snp-triage report",
        "Boots and findings",
        "Findings (3), root cause first",
        "CRITICAL SNP-KDUMP-CWB-TIMEOUT confirmed root cause #1",
        "CRITICAL SNP-KDUMP-IR-TIMER-PANIC likely #2",
        "ERROR SNP-KDUMP-CWB-DIRECTMAP-PF confirmed #3",
        "Capture quality: what is missing, what to collect next",
    ]
    first = page.headings.index(("h3", "CRITICAL SNP-KDUMP-CWB-TIMEOUT confirmed root cause #1"))
    assert [text for _, text in page.headings[first + 1:first + 7]] == [
        "Evidence", "Cause", "Remedy", "What to collect", "Notes", "References"]


def test_evidence_shows_the_captured_lines(founding):
    text = report_html(founding)
    raw = FOUNDING.read_text(encoding="utf-8").splitlines()
    for line in (37, 63, 39):  # 'Translation is already enabled', the timeout, the call trace's first line
        assert f'data-line="{line}"><span class="ln">{line}</span><span class="tx">{esc(raw[line - 1])}</span>' in text


def test_more_findings_than_shown_become_table_rows(founding, monkeypatch):
    monkeypatch.setattr(htmlreport, "MAX_FINDINGS_SHOWN", 1)
    page = check_page(report_html(founding))
    assert len(_finding_articles(page)) == 1
    assert "2 more findings (all of them in --format json)" in page.all_text
    assert "SNP-KDUMP-CWB-DIRECTMAP-PF" in page.all_text


def test_hostile_capture_and_file_name_stay_text(tmp_path):
    text = FOUNDING.read_text(encoding="utf-8").replace("Interrupt-remapped IO-APIC", "Interrupt-remapped IO-APIC"
                                                        + HOSTILE)
    path = tmp_path / '"><img src=x onerror=alert(1)>.log'
    path.write_text(text + f"[    9.000000] Kernel panic - not syncing: {HOSTILE}\n", encoding="utf-8")
    result = run(str(path), "--format", "html")
    assert result.returncode == 1, result.stderr
    out = result.stdout.decode("utf-8")
    page = check_page(out)  # no <script>, <img> or event handler: only the kit's elements
    assert HOSTILE in page.all_text and '"><img src=x onerror=alert(1)>.log' in page.all_text
    assert page.tags["script"] == 0 and page.tags["img"] == 0


def test_two_captures_two_timelines():
    report = analyze([str(FOUNDING), str(QEMU_LOG)])
    page = check_page(report_html(report))  # ids unique, every in-page link leads to an element
    assert page.tags["ol"] == 2
    assert page.tags["li"] >= sum(len(c.boots) for c in report.captures)
    assert str(QEMU_LOG) in page.all_text and str(FOUNDING) in page.all_text


def test_empty_capture_and_no_finding(tmp_path):
    empty = tmp_path / "empty.log"
    empty.write_bytes(b"")
    assert "Empty capture" in check_page(report_html(analyze([str(empty)]))).all_text
    quiet = tmp_path / "quiet.log"
    quiet.write_text("[    0.000000] Linux version 6.12.0 (b@h) #1 SMP\n[    1.000000] nothing here\n")
    page = check_page(report_html(analyze([str(quiet)])))
    assert "No finding" in page.all_text and not _finding_articles(page)


def test_vmcore_facts_and_errors_are_shown(founding):
    facts = VmcoreFacts()
    facts.machine.release = Fact("6.11.0-rc6", "init_uts_ns.name.release")
    facts.globals.amd_iommu_snp_en = Fact(True, "amd_iommu_snp_en")
    facts.globals.sme_me_mask = Fact(0x8000000000000, "sme_me_mask")
    facts.psp.psp_dead = Fact.missing("psp_master->sev_data", "ccp module not loaded")
    facts.skip("device tables", "amd_iommu_dev_table: <absent>")
    iommu = IommuFacts(index=Fact(3, "iommu->index"), excl_base=Fact(0x1234000, "MMIO_EXCL_BASE_OFFSET"))
    iommu.completion_waits = [CompletionWait(5, 80, 0, (1, 2, 3, 4), True, False, 0x1234008, 7, False)]
    facts.iommus = [iommu, IommuFacts()]
    report = Report(founding.captures, founding.findings, founding.quality, vmcore=facts, vmcore_path="/var/crash/vmcore",
                    cross_checks=[CrossCheck("cwb", "mismatch", "EXCL_BASE 0x1 != logged 0x2", founding.captures[0].source, 37)])
    markup = report_html(report)
    shown = check_page(markup).all_text
    for fact in ("6.11.0-rc6", "0x8000000000000", "n/a (ccp module not loaded)", "amd_iommu_dev_table: <absent>",
                 "EXCL_BASE 0x1 != logged 0x2", "/var/crash/vmcore", "IOMMU 3", "IOMMU 1", "0x1234000",
                 "IOMMU 3: last COMPLETION_WAIT commands in the ring (1 found, newest first)", "0x1234008"):
        assert fact in shown, fact
    assert '<span title="iommu-&gt;index"><code>3</code></span>' in markup  # an index in decimal, not as an address
    broken = Report(founding.captures, founding.findings, founding.quality, vmcore_path="core",
                    vmcore_error="core: not a usable vmcore")
    assert "The vmcore could not be read" in check_page(report_html(broken)).all_text


def test_cli_html_is_utf8_whatever_the_locale():
    result = subprocess.run([sys.executable, "-m", "triage", str(QEMU_LOG), "--format", "html"], capture_output=True,
                            cwd=ROOT, timeout=300, env={"PATH": "/usr/bin:/bin", "LANG": "C", "PYTHONIOENCODING": "ascii"})
    assert result.returncode in (0, 1), result.stderr
    page = check_page(result.stdout.decode("utf-8"))
    assert "\u00b7" in page.all_text  # the boot labels' middle dot survives an ASCII locale


def test_cli_html_and_json_name_the_same_findings():
    html_out, json_out = run(str(QEMU_LOG), "--format", "html"), run(str(QEMU_LOG), "--format", "json")
    page, data = check_page(html_out.stdout.decode("utf-8")), json.loads(json_out.stdout)
    assert sorted(a["data-rule"] for a in _finding_articles(page)) == sorted(f["rule_id"] for f in data["findings"])
    assert html_out.returncode == json_out.returncode


def test_why_not_as_html():
    result = run(str(QEMU_LOG), "--why-not", "SNP-KDUMP-CWB-TIMEOUT", "--format", "html")
    assert result.returncode == 1  # the rule did not match
    page = check_page(result.stdout.decode("utf-8"))
    assert page.tags["pre"] == 1 and "did not match" in page.all_text


def test_unreadable_vmcore_end_to_end(tmp_path):
    junk = tmp_path / "vmcore"
    junk.write_bytes(b"not a vmcore")
    result = run(str(FOUNDING), "--vmcore", str(junk), "--format", "html")
    assert result.returncode == 1, result.stderr  # the logs are still diagnosed
    page = check_page(result.stdout.decode("utf-8"))
    assert f"The vmcore could not be read: {junk}: " in page.all_text
    assert "SNP-KDUMP-CWB-TIMEOUT" in page.all_text


def test_input_read_in_part_is_said_at_the_top(tmp_path):
    import gzip

    whole = gzip.compress(FOUNDING.read_bytes())
    cut = tmp_path / "console.log.gz"
    cut.write_bytes(whole[: len(whole) * 2 // 3])
    result = run(str(cut), "--format", "html")
    assert result.returncode == 2 and b"cannot read all of it" in result.stderr  # the report first, then exit 2
    page = check_page(result.stdout.decode("utf-8"))
    assert page.all_text.index("Input read only in part: ") < page.all_text.index("Boots and findings")
