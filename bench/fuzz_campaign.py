#!/usr/bin/env python3
"""A fuzzing campaign: every target of tests/fuzz/targets.py in turn, one atheris process at a time.

    .venv/bin/python bench/fuzz_campaign.py --runs 300000            # each target
    .venv/bin/python bench/fuzz_campaign.py --runs ingest=400000,report=150000,rules=250000,vmcore=150000
    .venv/bin/python bench/fuzz_campaign.py --seconds 600 --targets ingest,report

Each target runs ``tests/fuzz/run.py TARGET --keep-going`` under ``nice -n 10`` until
its budget (executions and/or seconds) is spent. A process that stops early (a
real hang past --timeout, a crash of the interpreter, out of memory) is counted
and started again for the rest of the budget. Everything goes under --out
(default bench/out/fuzz, git-ignored): TARGET/corpus (inputs found), TARGET/crashes
(failing inputs, smallest per signature, with their tracebacks in .txt),
TARGET/log.txt (libFuzzer's output) and summary.json.

Printed per target: executions, failures (distinct signatures / failing
executions), hangs (inputs over the time limit or killed by --timeout),
interpreter crashes, new corpus files; and the totals.
"""
from __future__ import annotations

import argparse
import json
import re
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
RUN = ROOT / "tests" / "fuzz" / "run.py"
TARGETS = ("ingest", "report", "rules", "vmcore")
ARTIFACT_KINDS = ("crash-", "timeout-", "oom-", "leak-", "slow-unit-")


def _budget(text: str | None, targets: list[str]) -> dict[str, int]:
    if not text:
        return {t: -1 for t in targets}
    if "=" not in text:
        return {t: int(text) for t in targets}
    out = {t: 0 for t in targets}
    for part in text.split(","):
        name, _, value = part.partition("=")
        if name not in out:
            raise SystemExit(f"unknown target in --runs: {name}")
        out[name] = int(value)
    return out


def _files(folder: Path) -> set[str]:
    return {p.name for p in folder.iterdir()} if folder.is_dir() else set()


def run_target(target: str, runs: int, seconds: float, out: Path, python: str, nice: int, timeout: int,
               max_restarts: int) -> dict:
    base = out / target
    corpus, crashes = base / "corpus", base / "crashes"
    corpus.mkdir(parents=True, exist_ok=True)
    crashes.mkdir(parents=True, exist_ok=True)
    log = base / "log.txt"
    corpus_before = _files(corpus)
    artifacts_before = _files(crashes)
    result = {"target": target, "executions": 0, "processes": 0, "failures": {}, "hangs": 0,
              "interpreter_crashes": 0, "oom": 0, "new_corpus_files": 0, "artifacts": [], "seconds": 0.0}
    started = time.time()
    while result["processes"] <= max_restarts:
        left_runs = -1 if runs < 0 else runs - result["executions"]
        left_seconds = 0 if not seconds else int(seconds - (time.time() - started))
        if (runs >= 0 and left_runs <= 0) or (seconds and left_seconds <= 0):
            break
        stats = base / f"stats-{result['processes']}.json"
        cmd = ["nice", "-n", str(nice), python, str(RUN), target, "--keep-going", "--stats", str(stats),
               "--corpus", str(corpus), "--crash-dir", str(crashes), "--timeout", str(timeout)]
        if left_runs > 0:
            cmd += ["--runs", str(left_runs)]
        if left_seconds > 0:
            cmd += ["--seconds", str(left_seconds)]
        result["processes"] += 1
        with log.open("a") as handle:
            handle.write(f"\n### {' '.join(cmd)}\n")
            handle.flush()
            proc = subprocess.run(cmd, cwd=ROOT, stdout=handle, stderr=subprocess.STDOUT, check=False)
        text = log.read_text(errors="replace").rsplit("\n### ", 1)[-1]
        done = re.findall(r"stat::number_of_executed_units: (\d+)", text)
        doc = json.loads(stats.read_text()) if stats.exists() else {"executions": 0, "failures": {}}
        executed = int(done[-1]) if done else doc["executions"]
        result["executions"] += executed
        for sig, entry in doc["failures"].items():
            agg = result["failures"].setdefault(sig, {"count": 0, "file": None, "size": None})
            agg["count"] += entry["count"]
            if agg["size"] is None or (entry["size"] is not None and entry["size"] < agg["size"]):
                agg["size"], agg["file"] = entry["size"], entry["file"]
        new_artifacts = sorted(n for n in _files(crashes) - artifacts_before if n.startswith(ARTIFACT_KINDS))
        artifacts_before |= set(new_artifacts)
        for name in new_artifacts:
            result["artifacts"].append(str(crashes / name))
            if name.startswith(("timeout-", "slow-unit-")):
                result["hangs"] += 1
            elif name.startswith("oom-"):
                result["oom"] += 1
            else:
                result["interpreter_crashes"] += 1
        if proc.returncode != 0 and not new_artifacts:
            result["interpreter_crashes"] += 1
            result["artifacts"].append(f"exit status {proc.returncode} without artifact (see {log})")
        if executed == 0 and proc.returncode != 0:
            break  # it cannot even start: do not loop
        if proc.returncode == 0:
            break
    result["hangs"] += sum(e["count"] for s, e in result["failures"].items() if s == "contract-slow")
    result["new_corpus_files"] = len(_files(corpus) - corpus_before)
    result["seconds"] = round(time.time() - started, 1)
    return result


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", help="executions per target: N, or target=N,... (default: no limit)")
    parser.add_argument("--seconds", type=float, default=0, help="wall-clock budget per target")
    parser.add_argument("--targets", default=",".join(TARGETS))
    parser.add_argument("--out", type=Path, default=ROOT / "bench" / "out" / "fuzz")
    parser.add_argument("--python", default=sys.executable)
    parser.add_argument("--nice", type=int, default=10)
    parser.add_argument("--timeout", type=int, default=30, help="seconds before one input is a hang")
    parser.add_argument("--max-restarts", type=int, default=20)
    args = parser.parse_args(argv)
    targets = [t for t in args.targets.split(",") if t]
    for t in targets:
        if t not in TARGETS:
            raise SystemExit(f"unknown target {t}; known: {', '.join(TARGETS)}")
    budget = _budget(args.runs, targets)
    if all(v < 0 for v in budget.values()) and not args.seconds:
        raise SystemExit("give --runs or --seconds: a campaign needs a budget")
    args.out.mkdir(parents=True, exist_ok=True)
    results = []
    for target in targets:
        if budget[target] == 0:
            continue
        print(f"{target}: fuzzing (runs {budget[target] if budget[target] >= 0 else 'unlimited'}"
              f"{f', {args.seconds:.0f} s' if args.seconds else ''})...", flush=True)
        res = run_target(target, budget[target], args.seconds, args.out, args.python, args.nice, args.timeout,
                         args.max_restarts)
        results.append(res)
        _print_one(res)
        (args.out / "summary.json").write_text(json.dumps(results, indent=1))
    print()
    head = f"{'target':8} {'executions':>11} {'failures':>9} {'failing':>8} {'hangs':>6} {'crashes':>8} {'oom':>4} " \
           f"{'new corpus':>10} {'seconds':>8}"
    print(head)
    print("-" * len(head))
    for r in results:
        print(f"{r['target']:8} {r['executions']:>11} {len(r['failures']):>9} "
              f"{sum(e['count'] for e in r['failures'].values()):>8} {r['hangs']:>6} {r['interpreter_crashes']:>8} "
              f"{r['oom']:>4} {r['new_corpus_files']:>10} {r['seconds']:>8}")
    print("-" * len(head))
    print(f"{'total':8} {sum(r['executions'] for r in results):>11} {sum(len(r['failures']) for r in results):>9} "
          f"{sum(sum(e['count'] for e in r['failures'].values()) for r in results):>8} "
          f"{sum(r['hangs'] for r in results):>6} {sum(r['interpreter_crashes'] for r in results):>8} "
          f"{sum(r['oom'] for r in results):>4} {sum(r['new_corpus_files'] for r in results):>10} "
          f"{sum(r['seconds'] for r in results):>8.1f}")
    print(f"\nfailing inputs (smallest per signature) and tracebacks: {args.out}/TARGET/crashes/; "
          f"summary: {args.out / 'summary.json'}")
    return 0


def _print_one(r: dict) -> None:
    print(f"  {r['executions']} executions in {r['seconds']} s ({r['processes']} process(es)), "
          f"{len(r['failures'])} failure signature(s), {r['hangs']} hang(s), "
          f"{r['interpreter_crashes']} interpreter crash(es), {r['new_corpus_files']} new corpus files", flush=True)
    for sig, entry in sorted(r["failures"].items()):
        print(f"    {entry['count']:>7} x {sig}  ({entry['size']} bytes: {entry['file']})")
    for artifact in r["artifacts"]:
        print(f"    artifact: {artifact}")


if __name__ == "__main__":
    sys.exit(main())
