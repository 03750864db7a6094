"""Benchmark: the scanner's engine, RE2 (google-re2, the one shipped) vs Hyperscan (``hyperscan`` on PyPI).

The scanner (triage/ingest/scan.py) looks for the TRIGGER of grammars/scan.lark in 4 MiB blocks
and hands the lines holding one to assembly. This measures that step alone, on the same blocks of
a capture, for both engines: RE2 searched from Python once per triggered line (as scan.py does),
Hyperscan scanning each block once with a callback per match. Both must find the same lines.

    python bench/bench_scanner.py CAPTURE [--repeat 5]

(Hyperscan needs ``pip install hyperscan``; without it only RE2 is measured.) Medians of --repeat
runs, alternating; the ratio is Hyperscan / RE2 in the same run.
"""
from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from triage.ingest import grammar  # noqa: E402
from triage.ingest.scan import _finder, _triggered_lines, trigger_pattern  # noqa: E402

BLOCK = 4 << 20


def blocks(path: str) -> list[bytes]:
    """The capture cut at line ends into blocks of about BLOCK bytes (read once, kept in memory)."""
    data = Path(path).read_bytes()
    out, pos = [], 0
    while pos < len(data):
        end = data.find(b"\n", pos + BLOCK)
        end = len(data) if end < 0 else end + 1
        out.append(data[pos:end])
        pos = end
    return out


def re2_lines(parts: list[bytes]) -> list[int]:
    find = _finder(trigger_pattern())
    starts = []
    for i, block in enumerate(parts):
        starts.extend((i, s) for s, _ in _triggered_lines(find, block, 0))
    return starts


def hyperscan_scanner():
    import hyperscan

    pattern = grammar.terminal_regex(grammar.load("scan"), "TRIGGER").encode()
    db = hyperscan.Database()
    db.compile(expressions=[pattern], ids=[0], elements=1, flags=[0])

    def lines(parts: list[bytes]) -> list[int]:
        starts = []
        for i, block in enumerate(parts):
            ends: list[int] = []
            db.scan(block, match_event_handler=lambda _id, _from, to, _flags, ctx: ctx.append(to), context=ends)
            last = -1
            rfind, find = block.rfind, block.find
            for to in ends:
                if to <= last:
                    continue  # another anchor of a line already taken
                start = rfind(b"\n", 0, to - 1) + 1 if to else 0
                end = find(b"\n", max(to - 1, start))
                last = len(block) if end < 0 else end
                starts.append((i, start))
        return starts

    return lines


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("capture")
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args(argv)
    parts = blocks(args.capture)
    size = sum(map(len, parts)) / 1e6
    engines = {"re2": re2_lines}
    try:
        engines["hyperscan"] = hyperscan_scanner()
    except ImportError:
        print("hyperscan is not installed: RE2 only", file=sys.stderr)
    times: dict[str, list[float]] = {name: [] for name in engines}
    found: dict[str, list] = {}
    for _ in range(args.repeat):
        for name, scan in engines.items():
            start = time.perf_counter()
            found[name] = scan(parts)
            times[name].append(time.perf_counter() - start)
    print(f"{args.capture}: {size:.0f} MB in {len(parts)} blocks, {len(found['re2']):,} triggered lines (RE2)")
    for name, walls in times.items():
        med = statistics.median(walls)
        print(f"{name:<10} median {med:.3f} s ({min(walls):.3f}-{max(walls):.3f}), {size / med:,.0f} MB/s, "
              f"{len(found[name]):,} lines")
    if "hyperscan" in times:
        same = found["hyperscan"] == found["re2"]
        print(f"hyperscan / re2 = {statistics.median(times['hyperscan']) / statistics.median(times['re2']):.2f}x; "
              f"same lines: {same}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
