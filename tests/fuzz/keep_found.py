#!/usr/bin/env python3
"""Keep the few small inputs a campaign found that reach triage/ lines the seeds do not.

    .venv/bin/python tests/fuzz/keep_found.py ingest bench/out/fuzz/ingest/corpus --max-size 512 --max-files 12

Runs each target (without atheris) under a line tracer limited to triage/, first
over the seed corpus tests/fuzz/corpus/TARGET/, then over the candidates from
smallest to largest; a candidate no bigger than --max-size is copied in as
``found-SHA1`` when it reaches lines nothing before it did. Stops at --max-files.
"""
from __future__ import annotations

import argparse
import hashlib
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent.parent
TRIAGE = str(ROOT / "triage")


def lines_reached(fn, data: bytes) -> set[tuple[str, int]]:
    seen: set[tuple[str, int]] = set()

    def tracer(frame, event, arg):
        filename = frame.f_code.co_filename
        if not filename.startswith(TRIAGE):
            return None
        if event == "line":
            seen.add((filename, frame.f_lineno))
        return tracer

    sys.settrace(tracer)
    try:
        fn(data)
    except Exception:  # noqa: BLE001, S110 - failing inputs are the campaign's business, not this one's
        pass
    finally:
        sys.settrace(None)
    return seen


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("target")
    parser.add_argument("found", type=Path, help="folder of inputs a campaign found")
    parser.add_argument("--max-size", type=int, default=512)
    parser.add_argument("--max-files", type=int, default=12)
    parser.add_argument("--dry-run", action="store_true")
    args = parser.parse_args(argv)
    sys.path.insert(0, str(ROOT))
    from tests.fuzz import targets

    fn = targets.TARGETS[args.target]
    targets.warm_up()
    seeds = HERE / "corpus" / args.target
    covered: set[tuple[str, int]] = set()
    for path in sorted(seeds.iterdir()):
        covered |= lines_reached(fn, path.read_bytes())
    print(f"{args.target}: seeds reach {len(covered)} lines of triage/")
    candidates = sorted((p for p in args.found.iterdir() if p.is_file() and p.stat().st_size <= args.max_size),
                        key=lambda p: (p.stat().st_size, p.name))
    kept = 0
    for path in candidates:
        data = path.read_bytes()
        new = lines_reached(fn, data) - covered
        if not new:
            continue
        covered |= new
        name = f"found-{hashlib.sha1(data).hexdigest()[:12]}"
        where = sorted({f"{Path(f).relative_to(ROOT)}:{n}" for f, n in new})[:3]
        print(f"  keep {name} ({len(data)} bytes): {len(new)} new lines, e.g. {', '.join(where)}")
        if not args.dry_run:
            (seeds / name).write_bytes(data)
        kept += 1
        if kept >= args.max_files:
            break
    print(f"{args.target}: kept {kept} of {len(candidates)} candidates; now {len(covered)} lines")
    return 0


if __name__ == "__main__":
    sys.exit(main())
