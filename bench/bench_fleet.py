"""Fleet triage figures, each printed next to its target (issue 12).

1. Bucket quality against syzkaller's titles (../shared/corpus/syzkaller, titles without "corrupted"):
   two captures share a bucket iff syzkaller gives them the same title; pairwise precision (>= 0.95)
   and recall (>= 0.85) over the captures that got a crash or diagnosis bucket (the ones with no
   report found are counted apart: that is detection, measured by tests/test_corpus.py).
2. Throughput on N captures made from real samples (tests/corpus/real, samples/, the syzkaller logs,
   each copy made distinct by one plain line appended): captures/s at -j1 and -j2 (>= 1.8x), a Dask
   LocalCluster with 2 worker processes vs the -j2 pool (<= 1.3x slower), the coordinator's peak RSS
   (<= 200 MB), store bytes per capture.  Medians of --runs runs, each scan in a fresh process on a
   fresh store.

    python bench/bench_fleet.py [--captures 10000] [--runs 3] [--skip-quality] [--skip-throughput]
"""
from __future__ import annotations

import argparse
import collections
import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
SHARED = Path(os.environ.get("SNP_TRIAGE_SHARED", ROOT.parent / "shared"))


def _syzkaller_log(path: Path) -> tuple[dict, bytes]:
    from tests.test_corpus import load_syzkaller

    return load_syzkaller(path)


def bucket_agreement() -> tuple[float, float, int, int]:
    """Pairwise (precision, recall) of the fleet buckets against syzkaller's titles, the captures
    bucketed and those with no report found (tests/test_fleet_fingerprint.py asserts the targets)."""
    from triage.fleet.task import record_of
    from triage.ingest import Input
    from triage.report.analyze import analyze_inputs
    from triage.rulepack import load_rules

    rules = load_rules([])
    items, unbucketed = [], 0
    for path in sorted((SHARED / "corpus" / "syzkaller").iterdir()):
        if not path.name.isdigit():
            continue
        header, log = _syzkaller_log(path)
        title = (header.get("TITLE") or [""])[0]
        if not title or "corrupted" in title:
            continue
        record = record_of(analyze_inputs([Input.from_text(log, path.name)], rules))
        if record["bucket_basis"] == "none":
            unbucketed += 1
            continue
        items.append((title, record["bucket"]))

    def pairs(counter: collections.Counter) -> int:
        return sum(n * (n - 1) // 2 for n in counter.values())

    same_both = pairs(collections.Counter(items))
    same_bucket = pairs(collections.Counter(b for _, b in items))
    same_title = pairs(collections.Counter(t for t, _ in items))
    precision = same_both / same_bucket if same_bucket else 1.0
    recall = same_both / same_title if same_title else 1.0
    return precision, recall, len(items), unbucketed


def quality() -> None:
    precision, recall, bucketed, unbucketed = bucket_agreement()
    print(f"bucket quality on {bucketed} syzkaller captures ({unbucketed} with no report found, left out)")
    print(f"  pairwise precision {precision:.3f}   target >= 0.95   {'ok' if precision >= 0.95 else 'MISSED'}")
    print(f"  pairwise recall    {recall:.3f}   target >= 0.85   {'ok' if recall >= 0.85 else 'MISSED'}")


def make_captures(directory: Path, count: int) -> None:
    """count distinct captures from real samples (round robin), each with one plain line appended."""
    sources: list[bytes] = [p.read_bytes() for p in sorted((ROOT / "tests" / "corpus" / "real").glob("*.log"))]
    sources += [p.read_bytes() for p in sorted((ROOT / "samples").glob("*.txt")) + sorted((ROOT / "samples").glob("*.log"))]
    syz = SHARED / "corpus" / "syzkaller"
    if syz.is_dir():
        sources += [_syzkaller_log(p)[1] for p in sorted(syz.iterdir()) if p.name.isdigit()]
    for i in range(count):
        sub = directory / f"host{i % 50:02d}"
        sub.mkdir(exist_ok=True)
        data = sources[i % len(sources)]
        (sub / f"capture-{i:05d}.log").write_bytes(data + f"\nfleet bench copy {i}\n".encode())


def one_scan(args: argparse.Namespace) -> None:
    """Child mode: one scan in this process; prints seconds, peak RSS and store size as JSON."""
    from triage.fleet.scan import scan
    from triage.fleet.store import open_store

    store = open_store(args.db)
    cluster = client = None
    scheduler = None
    if args.dask:
        from distributed import Client, LocalCluster

        cluster = LocalCluster(n_workers=args.jobs, threads_per_worker=1, processes=True, dashboard_address=None,
                               silence_logs=50)
        client = Client(cluster)
        client.run(lambda: None)  # workers up before the clock starts
        scheduler = client
    started = time.perf_counter()
    summary = scan([args.one_scan], store, jobs=args.jobs, scheduler=scheduler)
    seconds = time.perf_counter() - started
    store.close()
    if client is not None:
        client.close()
        cluster.close()
    size = sum(os.path.getsize(args.db + s) for s in ("", "-wal", "-shm") if os.path.exists(args.db + s))
    usage = resource.getrusage(resource.RUSAGE_SELF)
    print(json.dumps({"seconds": seconds, "cpu": usage.ru_utime + usage.ru_stime, "diagnosed": summary.diagnosed, "failed": summary.failed,
                      "rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, "bytes": size}))


def _run(corpus: Path, jobs: int, dask: bool, work: Path) -> dict:
    db = work / f"store-{time.monotonic_ns()}.db"
    cmd = [sys.executable, __file__, "--one-scan", str(corpus), "--db", str(db), "--jobs", str(jobs)]
    if dask:
        cmd.append("--dask")
    out = subprocess.run(cmd, capture_output=True, text=True, check=True, cwd=ROOT).stdout
    result = json.loads(out.strip().splitlines()[-1])
    for suffix in ("", "-wal", "-shm"):
        if os.path.exists(str(db) + suffix):
            os.unlink(str(db) + suffix)
    return result


def throughput(count: int, runs: int) -> None:
    with tempfile.TemporaryDirectory(prefix="snp-triage-fleet-bench-") as tmp:
        work = Path(tmp)
        corpus = work / "captures"
        corpus.mkdir()
        make_captures(corpus, count)
        results: dict[str, list[dict]] = {"j1": [], "j2": [], "dask2": []}
        for _ in range(runs):  # interleaved, so a busy spell of the machine hits every setting alike
            results["j1"].append(_run(corpus, 1, False, work))
            results["j2"].append(_run(corpus, 2, False, work))
            results["dask2"].append(_run(corpus, 2, True, work))
    med = {k: statistics.median(r["seconds"] for r in v) for k, v in results.items()}
    rate = {k: count / s for k, s in med.items()}
    rss = max(r["rss_mb"] for v in results.values() for r in v)
    per_capture = statistics.median(r["bytes"] for r in results["j2"]) / count
    failed = max(r["failed"] for v in results.values() for r in v)
    print(f"throughput on {count} captures from real samples (median of {runs}; {failed} failed at most):")
    for name, values in results.items():
        print(f"  runs {name}: " + ", ".join(f"{count / r['seconds']:.0f}" for r in values) + " captures/s")
    print(f"  -j1 {rate['j1']:.0f} captures/s, -j2 {rate['j2']:.0f} captures/s, Dask 2 workers "
          f"{rate['dask2']:.0f} captures/s")
    speedup = med["j1"] / med["j2"]
    print(f"  -j2 vs -j1            {speedup:.2f}x   target >= 1.8x   {'ok' if speedup >= 1.8 else 'MISSED'}")
    slower = med["dask2"] / med["j2"]
    print(f"  Dask vs -j2 pool      {slower:.2f}x slower   target <= 1.3x   {'ok' if slower <= 1.3 else 'MISSED'}")
    print(f"  coordinator peak RSS  {rss:.0f} MB   target <= 200 MB   {'ok' if rss <= 200 else 'MISSED'}")
    print(f"  store bytes/capture   {per_capture:.0f} B (SQLite file with its WAL)")
    coordinator = statistics.median(r["cpu"] for r in results["j2"]) / count * 1000
    print(f"  coordinator CPU       {coordinator:.2f} ms/capture at -j2 (start-up included), against "
          f"{med['j1'] / count * 1000:.2f} ms/capture of wall time at -j1: what bounds -j2 is cores, not the "
          f"coordinator; load average when done {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--captures", type=int, default=10000)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--skip-quality", action="store_true")
    parser.add_argument("--skip-throughput", action="store_true")
    parser.add_argument("--one-scan", help=argparse.SUPPRESS)
    parser.add_argument("--db", help=argparse.SUPPRESS)
    parser.add_argument("--jobs", type=int, default=1, help=argparse.SUPPRESS)
    parser.add_argument("--dask", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.one_scan:
        one_scan(args)
        return
    if not args.skip_quality:
        quality()
    if not args.skip_throughput:
        throughput(args.captures, args.runs)


if __name__ == "__main__":
    main()
