"""The fleet page in a real headless browser (the HTML tests' Chromium through Playwright): it renders
without an error or a request, and the buckets, chart and drill-down of the JSON are in the DOM."""
from __future__ import annotations

import pytest

pytest.importorskip("sqlalchemy", reason="fleet needs SQLAlchemy: pip install -e '.[test]'")

from triage.fleet.buckets import build_report  # noqa: E402
from triage.fleet.html import fleet_html  # noqa: E402
from triage.fleet.scan import scan  # noqa: E402
from triage.fleet.store import open_store  # noqa: E402

from .fleet_helpers import DAY, FLEET_CAPTURES, T0, make_fleet  # noqa: E402
from .test_html_browser import browser, open_page  # noqa: E402,F401 - the shared browser fixtures

pytestmark = pytest.mark.browser


def test_fleet_page_renders_quietly_with_its_buckets_chart_and_drilldown(open_page, tmp_path):  # noqa: F811
    fleet = make_fleet(tmp_path)
    store = open_store(str(tmp_path / "f.db"))
    scan([str(fleet)], store, jobs=1)
    listing = build_report(store, now=T0 + 8 * DAY)
    snp = next(b for b in listing.buckets if b.rule_id == "SNP-KDUMP-CWB-TIMEOUT")
    report = build_report(store, now=T0 + 8 * DAY, bucket=snp.id)
    store.close()
    opened = open_page(fleet_html(report), name="fleet.html")
    opened.check_quiet()
    page = opened.page
    rows = page.locator("#buckets tbody tr").all_inner_texts()
    assert len(rows) == len(report.buckets) and sum(b.count for b in report.buckets) == FLEET_CAPTURES
    assert any(snp.id in row and "SNP-KDUMP-CWB-TIMEOUT (kdump kernel)" in row and "not fixed 2" in row for row in rows)
    assert page.locator("#chart svg").count() == 1 and page.locator("#chart svg circle").count() >= len(report.buckets[:8])
    drill = page.locator("#drilldown").inner_text()
    assert "Completion-Wait loop timed out" in drill and "10.0.0.7" in drill and "lkml" in drill
