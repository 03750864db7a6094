"""The HTML pages in a real headless browser: Debian's Chromium driven by Playwright for Python.

Each page is opened from a file in tmp_path as a person would open it.  Every request the page
makes is recorded and any other than the page itself is refused; console messages and page
errors are collected.  The tests check that the page renders without an error, asks for nothing,
shows the facts of the JSON in the rendered DOM (not just in the text), keeps hostile capture
text inert, and lays out for print without cutting anything.

Playwright never downloads a browser here: it launches ``/usr/bin/chromium`` (Debian's package
``chromium``; ``SNP_TRIAGE_CHROMIUM`` names another binary).  Without Playwright or Chromium, or
when Chromium cannot start, the tests are skipped with the reason.
"""
from __future__ import annotations

import os
import shutil
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from triage.report import analyze
from triage.report.htmlchart import svg_timeseries
from triage.report.htmlkit import document, log_lines, section
from triage.report.htmlreport import report_html

from .conftest import FOUNDING, QEMU_LOG, ROOT
from .test_html import HOSTILE

pytestmark = pytest.mark.browser

CHROMIUM = os.environ.get("SNP_TRIAGE_CHROMIUM", "/usr/bin/chromium")
#: no sandbox (CI runs as root), nothing in the background that could reach the network
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync",
                 "--disable-default-apps", "--disable-extensions", "--disable-dev-shm-usage"]
#: real captures beyond the founding thread: a QEMU kdump, an SNP kdump thread, a full dmesg with 13 findings
REAL = [FOUNDING, QEMU_LOG,
        ROOT / "tests/corpus/real/123-lkml-md-archive-snp-kdump-v2-df-flush-failed-cwait-ir-timer-panic.log",
        ROOT / "tests/corpus/real/107-iommu-list-thinkpad-ryzen-resume-warnings-amd-iommu-x2apic-full-dmesg.log"]


@pytest.fixture(scope="module")
def browser():
    try:
        from playwright.sync_api import Error, sync_playwright
    except ImportError:
        pytest.skip("Playwright for Python is not installed (pip install -e '.[test]')")
    if not (os.path.isfile(CHROMIUM) or shutil.which(CHROMIUM)):
        pytest.skip(f"Chromium not found at {CHROMIUM} (apt-get install chromium, or set SNP_TRIAGE_CHROMIUM)")
    manager = sync_playwright().start()
    try:
        instance = manager.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, timeout=60_000)
    except Error as exc:
        manager.stop()
        pytest.skip(f"Chromium at {CHROMIUM} cannot start: {str(exc).strip().splitlines()[0]}")
    yield instance
    instance.close()
    manager.stop()


@dataclass
class Opened:
    """A page as the browser rendered it, with everything it tried to do."""

    page: object
    url: str
    requests: list[str] = field(default_factory=list)
    refused: list[str] = field(default_factory=list)
    console: list[tuple[str, str]] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)

    def check_quiet(self) -> None:
        """No page error, no console error or warning, no request but the page itself."""
        assert not self.errors, self.errors
        assert not [m for m in self.console if m[0] in ("error", "warning")], self.console
        assert self.requests == [self.url] and not self.refused, (self.requests, self.refused)


@pytest.fixture
def open_page(browser, tmp_path):
    contexts = []

    def opener(html: str, name: str = "report.html", media: str = "screen", width: int = 1280) -> Opened:
        path = tmp_path / name
        path.write_text(html, encoding="utf-8")
        context = browser.new_context(viewport={"width": width, "height": 900}, offline=True)
        contexts.append(context)
        page = context.new_page()
        opened = Opened(page, path.as_uri())

        def route(route):
            if route.request.url == opened.url:
                route.continue_()
            else:
                opened.refused.append(route.request.url)
                route.abort()

        context.route("**/*", route)
        page.on("request", lambda request: opened.requests.append(request.url))
        page.on("console", lambda message: opened.console.append((message.type, message.text)))
        page.on("pageerror", lambda error: opened.errors.append(str(error)))
        page.emulate_media(media=media)
        page.goto(opened.url, wait_until="load")
        return opened

    yield opener
    for context in contexts:
        context.close()


def _text(opened: Opened, selector: str) -> list[str]:
    return opened.page.locator(selector).all_inner_texts()


@pytest.mark.parametrize("capture", REAL, ids=lambda p: Path(p).name[:40])
def test_real_capture_renders_quietly_with_the_json_facts(open_page, capture):
    report = analyze([str(capture)])
    data = report.to_dict()
    opened = open_page(report_html(report))
    opened.check_quiet()
    page = opened.page
    ranked = [f.rule_id for f in report.ranked_findings()][:20]
    assert page.locator("article.finding").evaluate_all("els => els.map(e => e.dataset.rule)") == ranked
    if data["root_cause"]:
        assert data["root_cause"] in page.locator(".banner").first.inner_text()
        assert page.locator("article.finding.root").get_attribute("data-rule") == data["root_cause"]
    position = {id(f): i for i, f in enumerate(report.findings)}
    shown = [data["findings"][position[id(f)]] for f in report.ranked_findings()][:20]
    for number, finding in enumerate(shown, 1):
        article = page.locator(f"article#finding-{number}")
        assert article.get_attribute("data-rule") == finding["rule_id"]
        text = article.inner_text()
        assert finding["severity"].upper() in text and finding["confidence"] in text
        if finding["fix"]:
            assert finding["fix"]["status"] in text
        for evidence in finding["evidence"]:
            for line in evidence["lines"]:
                row = article.locator(f'.log .row[data-line="{line}"]')
                assert row.count() >= 1 and row.first.is_visible(), (finding["rule_id"], line)
    boots = [b for s in data["sources"] for b in s["boots"]]
    items = _text(opened, ".tl-list > li")
    assert len(items) == len(boots)
    for boot, item in zip(boots, items):
        assert f"boot {boot['index']}" in item and boot["role"] in item and boot["ended"] in item
        assert f"{boot['first_line']}\u2013{boot['last_line']}" in item
    assert page.locator(".tl-strip .tl-span").count() == len(boots)


def test_founding_thread_key_facts_are_visible(open_page):
    opened = open_page(report_html(analyze([str(FOUNDING)])))
    opened.check_quiet()
    page = opened.page
    banner = page.locator(".banner").first.inner_text()
    assert "SNP-KDUMP-CWB-TIMEOUT" in banner and "not fixed" in banner
    for rule in ("SNP-KDUMP-CWB-TIMEOUT", "SNP-KDUMP-IR-TIMER-PANIC", "SNP-KDUMP-CWB-DIRECTMAP-PF"):
        assert page.locator(f'article[data-rule="{rule}"]').is_visible()
    timeout = page.locator('article[data-rule="SNP-KDUMP-CWB-TIMEOUT"] .row[data-line="63"]').inner_text()
    assert "AMD-Vi: Completion-Wait loop timed out" in timeout
    # the marks on the boot strip lead to the findings
    href = page.locator(".tl-mark").first.get_attribute("href")
    assert href.startswith("#finding-") and page.locator(href).count() == 1


@pytest.mark.parametrize("capture", [FOUNDING, REAL[3]], ids=lambda p: Path(p).name[:40])
def test_narrow_screen_has_no_sideways_scroll(open_page, capture):
    opened = open_page(report_html(analyze([str(capture)])), width=360)
    opened.check_quiet()
    assert opened.page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
    assert opened.page.title().startswith("snp-triage: ")


def test_hostile_text_is_inert(open_page, tmp_path):
    text = FOUNDING.read_text(encoding="utf-8").replace("Interrupt-remapped IO-APIC", "Interrupt-remapped IO-APIC"
                                                        + HOSTILE)
    capture = tmp_path / '"><img src=x onerror="window.__pwned=9">.log'
    capture.write_text(text + f"[    9.000000] Kernel panic - not syncing: {HOSTILE}\n"
                       "[    9.100000] AMD-Vi: <iframe src=\"http://127.0.0.1:9/x\"></iframe><link rel=stylesheet "
                       "href=\"http://127.0.0.1:9/s.css\">\n", encoding="utf-8")
    opened = open_page(report_html(analyze([str(capture)])))
    opened.check_quiet()  # nothing requested: not x, not 127.0.0.1
    page = opened.page
    assert page.evaluate("window.__pwned") is None
    assert page.locator("script, img, iframe, link, object, embed").count() == 0
    body = page.locator("body").inner_text()
    assert HOSTILE in body and 'onerror="window.__pwned=9"' in body


def test_page_works_without_javascript_and_prints_without_cutting(browser, tmp_path):
    path = tmp_path / "report.html"
    path.write_text(report_html(analyze([str(FOUNDING)])), encoding="utf-8")
    context = browser.new_context(java_script_enabled=False, viewport={"width": 800, "height": 1000}, offline=True)
    try:
        page = context.new_page()
        page.emulate_media(media="print")
        page.goto(path.as_uri())
        assert page.locator('article[data-rule="SNP-KDUMP-CWB-TIMEOUT"] .row[data-line="37"]').is_visible()
        # nothing wider than the paper: long log lines wrap instead of scrolling out of the print
        assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
        assert page.evaluate("[...document.querySelectorAll('.log')].every(e => e.scrollWidth <= e.clientWidth)")
        pdf = page.pdf(format="A4")
        assert pdf.startswith(b"%PDF") and pdf.count(b"/Type /Page") >= 2
    finally:
        context.close()


def test_chart_renders_for_the_fleet_page(open_page):
    series = {"SNP-KDUMP-CWB-TIMEOUT": [(date(2026, 11, 28), 2), (date(2026, 12, 1), 5), (date(2026, 12, 4), 1)],
              "GENERIC-OOPS <i>": [(date(2026, 11, 30), 3)]}
    opened = open_page(document("fleet", section("Buckets over time", svg_timeseries(series, title="captures per day"))))
    opened.check_quiet()
    page = opened.page
    box = page.locator(".chart svg").bounding_box()
    assert box and box["width"] > 600 and box["height"] > 150
    assert page.locator(".chart polyline").count() == 2 and page.locator(".chart circle").count() == 4
    assert page.locator(".legend li").all_inner_texts() == ["SNP-KDUMP-CWB-TIMEOUT (8)", "GENERIC-OOPS <i> (3)"]
    assert page.locator(".chart circle title").first.text_content() == "SNP-KDUMP-CWB-TIMEOUT: 2026-11-28: 2"


_MARKUP_ALPHABET = st.sampled_from(list("<>&\"'/=;:!-? \tabcx") + ["script", "img", "onerror", "&amp;", "<!--",
                                                                      "-->", "]]>", "\u00e9", "\u202e", "\U0001f600"])


@pytest.fixture(scope="module")
def blank_page(browser):
    page = browser.new_page()
    yield page
    page.close()


@settings(max_examples=30, deadline=None)
@given(st.lists(_MARKUP_ALPHABET, max_size=40).map("".join))
def test_any_markup_like_text_renders_as_itself(blank_page, text):
    blank_page.set_content(document("t", log_lines([(7, text)])))
    assert blank_page.locator(".log .row .tx").text_content() == text
    assert blank_page.evaluate("document.querySelectorAll('.log *').length") == 3  # row, number, text: nothing new
