"""What the HTML page costs next to the JSON document it is drawn from: render time and size.

    PYTHONPATH=. python bench/bench_html.py [--repeat 5] [--storm-lines 100000]

Each capture is analysed once; then ``report_json`` and ``report_html`` render the same Report
alternately, ``--repeat`` times each, and the script prints the medians, the ratio HTML/JSON
(the baseline is the JSON render in the same run) and both sizes. The captures: the founding
thread, the QEMU kdump log, a real full dmesg with 13 findings, and a generated IO_PAGE_FAULT
storm (``gen_capture.py storm``, in a temporary directory) whose page must stay bounded: its
evidence keeps the first and last events only.
"""
from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from triage.report import analyze  # noqa: E402
from triage.report.htmlreport import report_html  # noqa: E402
from triage.report.jsonout import report_json  # noqa: E402

CAPTURES = [ROOT / "samples/lkml-2024-09-09-snp-kdump-thread.txt", ROOT / "samples/qemu-amd-iommu-kdump-6.1.log",
            ROOT / "tests/corpus/real/107-iommu-list-thinkpad-ryzen-resume-warnings-amd-iommu-x2apic-full-dmesg.log"]


def _median_seconds(render, report, repeat: int) -> tuple[float, int]:
    times, size = [], 0
    for _ in range(repeat):
        start = time.perf_counter()
        size = len(render(report).encode("utf-8", "replace"))
        times.append(time.perf_counter() - start)
    return statistics.median(times), size


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--storm-lines", type=int, default=100_000)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        captures = list(CAPTURES)
        if args.storm_lines:
            from gen_capture import write_storm

            storm = Path(tmp) / "storm.log"
            write_storm(str(storm), args.storm_lines)
            captures.append(storm)
        print(f"{'capture':44} {'findings':>8} {'json ms':>8} {'html ms':>8} {'ratio':>6} {'json KB':>8} {'html KB':>8}")
        for path in captures:
            report = analyze([str(path)])
            json_t, json_b, html_t, html_b = [], 0, [], 0
            for _ in range(args.repeat):  # alternate, so that drift on a shared machine hits both
                t, json_b = _median_seconds(report_json, report, 1)
                json_t.append(t)
                t, html_b = _median_seconds(report_html, report, 1)
                html_t.append(t)
            j, h = statistics.median(json_t), statistics.median(html_t)
            print(f"{path.name[:44]:44} {len(report.findings):>8} {j * 1000:>8.1f} {h * 1000:>8.1f} {h / j:>5.2f}x "
                  f"{json_b / 1024:>8.1f} {html_b / 1024:>8.1f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
