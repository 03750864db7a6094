#!/usr/bin/env python3
"""Coverage-guided fuzzing of one target of tests/fuzz/targets.py with atheris (libFuzzer).

    .venv/bin/python tests/fuzz/run.py ingest --runs 100000
    .venv/bin/python tests/fuzz/run.py report --seconds 600 --keep-going
    .venv/bin/python tests/fuzz/run.py rules --corpus /tmp/rules-corpus -- -use_value_profile=1
    .venv/bin/python tests/fuzz/run.py ingest --minimize bench/out/fuzz/ingest/crashes/FILE

Targets: ingest, report, rules, vmcore. The seed corpus tests/fuzz/corpus/TARGET is
read every time; new inputs go to --corpus (default bench/out/fuzz/TARGET/corpus,
git-ignored), so the committed seeds stay small.

Without --keep-going the first broken contract stops the run the libFuzzer way
(traceback, crash-* file under --crash-dir). With --keep-going every failing input
is recorded under --crash-dir as ``SIGNATURE-SHA1`` (the smallest one seen per
signature, with the traceback beside it in ``.txt``) and fuzzing goes on. A real
hang (no return within --timeout s) still ends the run with a timeout-* file.

--stats FILE is rewritten every second and at the end with the executions and
failures seen so far (JSON), for bench/fuzz_campaign.py.

--minimize FILE shrinks a failing input without atheris: lines first, then bytes,
keeping the same failure signature; the result is written beside it as FILE.min.
"""
from __future__ import annotations

import argparse
import hashlib
import json
import os
import re
import sys
import time
import traceback
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent.parent
TARGET_NAMES = ("ingest", "report", "rules", "vmcore")
MAX_LEN = {"ingest": 16384, "report": 16384, "rules": 8192, "vmcore": 8192}


# ---------------------------------------------------------------- failure signatures

def signature(exc: BaseException) -> str:
    """A short, stable name for a failure: what broke and where.

    Contract assertions of the targets are named by their category
    (``contract-lines``, ``contract-slow``...). Other exceptions are named by
    their type and the innermost frame inside triage/ (or the innermost frame
    at all when triage/ is not on the stack, e.g. inside rich).
    """
    if isinstance(exc, AssertionError):
        first = str(exc).split(":", 1)[0]
        if re.fullmatch(r"[a-z]+", first):
            return f"contract-{first}"
    frames = traceback.extract_tb(exc.__traceback__)
    where = None
    for frame in reversed(frames):
        parts = Path(frame.filename).parts
        if "triage" in parts and "tests" not in parts:
            where = frame
            break
    if where is None and frames:
        where = frames[-1]
    if where is None:
        return type(exc).__name__
    parts = Path(where.filename).parts
    for anchor in ("triage", "site-packages"):
        if anchor in parts:
            parts = parts[parts.index(anchor) + (1 if anchor == "site-packages" else 0):]
            break
    return f"{type(exc).__name__}@{'/'.join(parts[-3:])}:{where.lineno}"


def slug(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9_.-]+", "_", text).strip("_")[:90]


def describe(exc: BaseException) -> str:
    return "".join(traceback.format_exception(type(exc), exc, exc.__traceback__))


# ---------------------------------------------------------------- recording failures

class Recorder:
    """Counts executions and failures; keeps the smallest input per signature."""

    def __init__(self, target: str, crash_dir: Path, stats_path: Path | None) -> None:
        self.target = target
        self.crash_dir = crash_dir
        self.stats_path = stats_path
        self.executions = 0
        self.failures: dict[str, dict] = {}
        self.last_write = 0.0
        self.started = time.time()

    def failed(self, data: bytes, exc: BaseException) -> None:
        sig = signature(exc)
        entry = self.failures.setdefault(sig, {"count": 0, "size": None, "file": None, "first": time.time()})
        entry["count"] += 1
        if entry["size"] is not None and len(data) >= entry["size"]:
            return
        self.crash_dir.mkdir(parents=True, exist_ok=True)
        if entry["file"]:
            for old in (Path(entry["file"]), Path(entry["file"] + ".txt")):
                old.unlink(missing_ok=True)
        path = self.crash_dir / f"{slug(sig)}-{hashlib.sha1(data).hexdigest()[:10]}"
        path.write_bytes(data)
        path.with_name(path.name + ".txt").write_text(f"{sig}\n\n{describe(exc)}")
        entry["size"], entry["file"] = len(data), str(path)
        self.write_stats(force=True)

    def write_stats(self, force: bool = False) -> None:
        now = time.time()
        if self.stats_path is None or (not force and now - self.last_write < 1.0):
            return
        self.last_write = now
        doc = {"target": self.target, "executions": self.executions, "seconds": round(now - self.started, 1),
               "failures": self.failures}
        tmp = self.stats_path.with_name(self.stats_path.name + ".tmp")
        tmp.write_text(json.dumps(doc, indent=1))
        os.replace(tmp, self.stats_path)


# ---------------------------------------------------------------- minimising

def _fails_as(fn, data: bytes, sig: str) -> bool:
    try:
        fn(data)
    except Exception as exc:  # noqa: BLE001
        return signature(exc) == sig
    return False


def _ddmin(chunks: list[bytes], still_fails) -> list[bytes]:
    """Delta debugging: drop ever smaller runs of chunks while the failure stays."""
    n = 2
    while len(chunks) >= 2:
        size = max(1, len(chunks) // n)
        removed = False
        for start in range(0, len(chunks), size):
            trial = chunks[:start] + chunks[start + size:]
            if trial and still_fails(trial):
                chunks, n, removed = trial, max(n - 1, 2), True
                break
        if not removed:
            if size == 1:
                break
            n = min(len(chunks), n * 2)
    return chunks


def minimize(fn, data: bytes, budget: float = 120.0) -> tuple[bytes, str]:
    try:
        fn(data)
    except Exception as exc:  # noqa: BLE001
        sig = signature(exc)
    else:
        raise SystemExit("the input does not fail: nothing to minimise")
    deadline = time.time() + budget

    def still(chunks: list[bytes]) -> bool:
        return time.time() < deadline and _fails_as(fn, b"".join(chunks), sig)

    lines = _ddmin(data.splitlines(keepends=True), still)
    raw = b"".join(lines)
    chars = _ddmin([raw[i:i + 1] for i in range(len(raw))], still)
    return b"".join(chars), sig


# ---------------------------------------------------------------- main

def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("target", choices=TARGET_NAMES)
    parser.add_argument("--runs", type=int, default=-1, help="executions (default: no limit)")
    parser.add_argument("--seconds", type=int, default=0, help="wall-clock budget (default: no limit)")
    parser.add_argument("--corpus", type=Path, help="where new inputs go (default bench/out/fuzz/TARGET/corpus)")
    parser.add_argument("--crash-dir", type=Path, help="default bench/out/fuzz/TARGET/crashes")
    parser.add_argument("--keep-going", action="store_true", help="record failures and go on fuzzing")
    parser.add_argument("--stats", type=Path, help="JSON file with executions and failures so far")
    parser.add_argument("--timeout", type=int, default=30, help="seconds before one input counts as a hang")
    parser.add_argument("--max-len", type=int, help="largest input (default per target)")
    parser.add_argument("--rss-limit-mb", type=int, default=3072)
    parser.add_argument("--minimize", type=Path, metavar="FILE", help="shrink a failing input, no fuzzing")
    parser.add_argument("libfuzzer_args", nargs="*", help="more libFuzzer flags, after --")
    args = parser.parse_args(argv)

    sys.path.insert(0, str(ROOT))
    out = ROOT / "bench" / "out" / "fuzz" / args.target
    crash_dir = args.crash_dir or out / "crashes"

    if args.minimize:
        from tests.fuzz import targets
        targets.warm_up()
        small, sig = minimize(targets.TARGETS[args.target], args.minimize.read_bytes())
        dest = args.minimize.with_name(args.minimize.name + ".min")
        dest.write_bytes(small)
        print(f"{sig}: {args.minimize.stat().st_size} -> {len(small)} bytes, written to {dest}")
        return 0

    import atheris

    # not "RegEx": its pattern proxies break lark, which compiles the grammars with re
    atheris.enabled_hooks.add("str")
    with atheris.instrument_imports(include=["triage"]):
        from tests.fuzz import targets
    if args.target == "vmcore" and not targets.HAVE_DRGN:
        print("vmcore: drgn is not installed; target skipped", file=sys.stderr)
        return 0
    fn = targets.TARGETS[args.target]
    targets.warm_up()

    corpus = args.corpus or out / "corpus"
    corpus.mkdir(parents=True, exist_ok=True)
    crash_dir.mkdir(parents=True, exist_ok=True)
    seeds = HERE / "corpus" / args.target
    recorder = Recorder(args.target, crash_dir, args.stats)

    def one_input(data: bytes) -> None:
        recorder.executions += 1
        try:
            fn(data)
        except Exception as exc:
            if not args.keep_going:
                raise
            recorder.failed(data, exc)
        recorder.write_stats()

    import atexit
    atexit.register(recorder.write_stats, True)

    flags = [f"-artifact_prefix={crash_dir}/", f"-timeout={args.timeout}", f"-rss_limit_mb={args.rss_limit_mb}",
             f"-max_len={args.max_len or MAX_LEN[args.target]}", "-print_final_stats=1"]
    if args.runs >= 0:
        flags.append(f"-runs={args.runs}")
    if args.seconds:
        flags.append(f"-max_total_time={args.seconds}")
    dirs = [str(corpus)] + ([str(seeds)] if seeds.is_dir() else [])
    atheris.Setup([sys.argv[0]] + flags + list(args.libfuzzer_args) + dirs, one_input)
    atheris.Fuzz()
    return 0


if __name__ == "__main__":
    sys.exit(main())
