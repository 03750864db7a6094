"""Benchmark: speed and peak memory at scale, every figure beside its target (issue 11).

One command, every case measured against ``grep -c AMD-Vi`` on the same input in the same run
(grep's stdout goes to a pipe: with /dev/null GNU grep stops at the first match), medians of
--repeat runs (default 3), peak RSS of the whole process (ru_maxrss via os.wait4, see
bench_ingest.py's launcher):

=============  ===========================================================  ======================
case           input                                                        targets
=============  ===========================================================  ======================
noise          1 GiB of real boot logs (bench/real_noise.py)                events, main <= 5x grep
storm          1,000,000 IO_PAGE_FAULT lines after a boot (gen_capture.py)  events >= 150,000/s;
                                                                            main <= 8 s, <= 150 MB
boots          1,000,000 boots (banner, command line, an AMD-Vi line each)  main <= 60 s, <= 150 MB
                                                                            (events, boots --json too)
findings       100,000 distinct WARNING reports (100,000 findings), and     time(N)/time(N/10) near
               10,000 for the ratio                                         10 (nothing quadratic)
stream         10 GB of real-boot noise piped to stdin, never stored        main <= 150 MB (one run)
two cores      (chunked reading on two processes: not built, see README)    <= 0.6x one process
=============  ===========================================================  ======================

    python bench/bench_scale.py             # the sizes above; about 25 minutes on 2 shared cores
    python bench/bench_scale.py --quick     # a tenth of each (a minute or two), same report
    python bench/bench_scale.py --only storm,boots --repeat 5

Captures go to --out-dir (default bench/out/, git-ignored) and are deleted at the end unless --keep.
Exit status 0 whatever the figures (no timing assertions), 2 if a command fails.
"""
from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
sys.path.insert(0, str(HERE))

import gen_capture  # noqa: E402
import real_noise  # noqa: E402
from bench_ingest import LAUNCHER, Run, Series, drain  # noqa: E402

CASES = ("noise", "storm", "boots", "findings", "stream", "cores")


def run(cmd: list[str], env: dict[str, str] | None = None, feed=None) -> Run:
    """Run cmd (stdin from the blocks of ``feed`` when given): wall, peak RSS, lines printed."""
    with tempfile.TemporaryFile() as err, tempfile.NamedTemporaryFile("r") as result:
        launcher = [sys.executable, "-I", "-S", "-c", LAUNCHER, result.name]
        proc = subprocess.Popen(launcher + cmd, stdout=subprocess.PIPE, stderr=err, env=env,
                                stdin=subprocess.PIPE if feed is not None else subprocess.DEVNULL)
        writer = None
        if feed is not None:
            def pump() -> None:
                try:
                    for block in feed:
                        proc.stdin.write(block)
                except BrokenPipeError:
                    pass
                finally:
                    try:
                        proc.stdin.close()
                    except BrokenPipeError:
                        pass
            writer = threading.Thread(target=pump, daemon=True)
            writer.start()
        lines, head = drain(proc.stdout.fileno())
        proc.stdout.close()
        proc.wait()
        if writer is not None:
            writer.join()
        fields = result.read().split()
        code = int(fields[2]) if len(fields) == 3 else proc.returncode
        if proc.returncode != 0 or code not in (0, 1):
            err.seek(0)
            raise SystemExit(f"bench_scale: {' '.join(cmd)} exited {code}\n{err.read()[-2000:].decode('utf-8', 'replace')}")
    return Run(float(fields[0]), int(fields[1]), lines, head)


class Bench:
    def __init__(self, args: argparse.Namespace) -> None:
        self.args = args
        self.env = dict(os.environ, PYTHONPATH=str(REPO) + (os.pathsep + os.environ["PYTHONPATH"]
                                                              if os.environ.get("PYTHONPATH") else ""))
        self.grep_env = dict(os.environ, LC_ALL="C")
        self.tool = [sys.executable, "-m", "triage"]
        self.rows: list[tuple[str, str, str, str, str]] = []  # case, figure, value, target, verdict
        self.table: list[tuple[str, Series]] = []
        self.created: list[Path] = []

    def scale(self, full: int) -> int:
        return full // 10 if self.args.quick else full

    def measure(self, case: str, commands: dict[str, tuple[list[str], dict]], repeat: int | None = None,
                feed=None) -> dict[str, Series]:
        """Each command --repeat times, alternating, after one unmeasured warm-up run of the first."""
        series = {label: Series(f"{case}: {label}") for label in commands}
        repeat = repeat or self.args.repeat
        first = next(iter(commands.values()))
        if repeat > 1:
            run(*first, feed=feed() if feed else None)
        for i in range(repeat):
            for label, (cmd, env) in commands.items():
                print(f"  {case} run {i + 1}/{repeat}: {label} ...", file=sys.stderr, flush=True)
                series[label].runs.append(run(cmd, env, feed=feed() if feed else None))
        self.table.extend((case, s) for s in series.values())
        return series

    def capture(self, name: str, make) -> Path:
        path = self.args.out_dir / name
        if not path.exists():
            print(f"generating {path} ...", file=sys.stderr, flush=True)
            start = time.perf_counter()
            make(str(path))
            print(f"  {path.stat().st_size / 1e6:.0f} MB in {time.perf_counter() - start:.0f}s", file=sys.stderr)
            self.created.append(path)
        return path

    def grep(self, path: Path) -> tuple[list[str], dict]:
        return ["grep", "-c", "AMD-Vi", str(path)], self.grep_env

    def triage(self, *args: str) -> tuple[list[str], dict]:
        return self.tool + list(args), self.env

    def verdict(self, case: str, figure: str, value: float, target: float, fmt: str, higher: bool = False) -> None:
        ok = value >= target if higher else value <= target
        sign = ">=" if higher else "<="
        self.rows.append((case, figure, fmt.format(value), f"{sign} {fmt.format(target)}", "met" if ok else "MISSED"))

    # -- cases -------------------------------------------------------------
    def noise(self) -> None:
        size = self.scale(1 << 30)
        path = self.capture(f"real-noise-{size}.log", lambda p: real_noise.write(p, size))
        s = self.measure("noise", {"grep": self.grep(path), "events": self.triage("events", str(path)),
                                   "main": self.triage("--format", "json", "--fail-on", "never", str(path))})
        g = s["grep"].median
        self.verdict("noise", f"events / grep ({path.stat().st_size / 1e6:.0f} MB)", s["events"].median / g, 5, "{:.1f}x")
        self.verdict("noise", "main job / grep", s["main"].median / g, 5, "{:.1f}x")
        self.verdict("noise", "main job peak RSS MB", s["main"].rss_mb, 150, "{:.0f}")

    def storm(self) -> None:
        lines = self.scale(1_000_000)
        path = self.capture(f"storm-{lines}.log", lambda p: gen_capture.generate("storm", p, lines=lines))
        s = self.measure("storm", {"grep": self.grep(path), "events": self.triage("events", str(path)),
                                   "main": self.triage("--format", "json", "--fail-on", "never", str(path))})
        ev = s["events"]
        self.verdict("storm", f"events: events/s ({ev.runs[-1].lines:,} events; {ev.median / s['grep'].median:.0f}x grep)",
                     ev.runs[-1].lines / ev.median, 150_000, "{:,.0f}", higher=True)
        self.verdict("storm", f"main job s ({s['main'].median / s['grep'].median:.0f}x grep)", s["main"].median,
                     8 * lines / 1_000_000, "{:.1f}")
        self.verdict("storm", "main job peak RSS MB", s["main"].rss_mb, 150, "{:.0f}")
        self.verdict("storm", "events peak RSS MB", ev.rss_mb, 150, "{:.0f}")

    def boots(self) -> None:
        count = self.scale(1_000_000)
        path = self.capture(f"boots-{count}.log", lambda p: _write_boots(p, count))
        s = self.measure("boots", {"grep": self.grep(path), "events": self.triage("events", str(path)),
                                   "boots --json": self.triage("boots", "--json", str(path)),
                                   "main": self.triage("--format", "json", "--fail-on", "never", str(path))})
        g = s["grep"].median
        self.verdict("boots", f"main job s ({count:,} boots; {s['main'].median / g:.0f}x grep)", s["main"].median,
                     60 * count / 1_000_000, "{:.1f}")
        for label in ("main", "events", "boots --json"):
            self.verdict("boots", f"{label} peak RSS MB", s[label].rss_mb, 150, "{:.0f}")

    def findings(self) -> None:
        n = self.scale(100_000)
        big = self.capture(f"warnings-{n}.log", lambda p: _write_warnings(p, n))
        small = self.capture(f"warnings-{n // 10}.log", lambda p: _write_warnings(p, n // 10))
        s = self.measure("findings", {"grep": self.grep(big),
                                      f"main {n // 10:,}": self.triage("--format", "json", "--fail-on", "never", str(small)),
                                      f"main {n:,}": self.triage("--format", "json", "--fail-on", "never", str(big))})
        t_small, t_big = s[f"main {n // 10:,}"].median, s[f"main {n:,}"].median
        self.verdict("findings", f"time({n:,}) / time({n // 10:,}) findings ({t_big:.0f} s)", t_big / t_small, 12, "{:.1f}")
        self.verdict("findings", f"main {n:,} peak RSS MB (findings kept)", s[f"main {n:,}"].rss_mb, 150, "{:.0f}")

    def stream(self) -> None:
        size = self.scale(10 * 10 ** 9)
        feed = lambda: real_noise.stream(size)  # noqa: E731
        s = self.measure("stream", {"grep -": (["grep", "-c", "AMD-Vi"], self.grep_env),
                                    "main -": self.triage("--format", "json", "--fail-on", "never", "-")},
                         repeat=1, feed=feed)
        self.verdict("stream", f"main job on {size / 1e9:.0f} GB from stdin, peak RSS MB "
                     f"({s['main -'].median:.0f} s, {s['main -'].median / s['grep -'].median:.0f}x grep)",
                     s["main -"].rss_mb, 150, "{:.0f}")

    def cores(self) -> None:
        self.rows.append(("cores", "2 processes / 1 process on 1 GB", "not built", "<= 0.6x", "MISSED"))

    def report(self) -> None:
        print()
        print(f"python {sys.version.split()[0]}, {os.cpu_count()} CPUs (shared), repeat={self.args.repeat}"
              f"{', --quick (a tenth of each size)' if self.args.quick else ''}; medians, peak RSS = max of runs")
        header = f"{'command':<34} {'median s':>9} {'min-max s':>13} {'peak RSS MB':>12} {'lines out':>11}"
        print(header)
        print("-" * len(header))
        for _, s in self.table:
            print(f"{s.label:<34} {s.median:9.2f} {s.spread:>13} {s.rss_mb:12.0f} {s.runs[-1].lines:11,d}")
        print()
        header = f"{'case':<9} {'figure':<62} {'value':>10} {'target':>12}  verdict"
        print(header)
        print("-" * len(header))
        for case, figure, value, target, verdict in self.rows:
            print(f"{case:<9} {figure:<62} {value:>10} {target:>12}  {verdict}")


def _write_boots(path: str, count: int) -> None:
    """``count`` short boots, each a banner, a command line, an AMD-Vi line and a plain line
    (the messages are those of the storm capture's Ubuntu 6.8 boot)."""
    boot = ("[    0.000000] Linux version 6.8.0-45-generic (buildd@lcy02-amd64-080) (x86_64-linux-gnu-gcc-12 (Ubuntu "
            "12.3.0-1ubuntu1~22.04) 12.3.0, GNU ld (GNU Binutils for Ubuntu) 2.38) #42~22.04.1-Ubuntu SMP\n"
            "[    0.000000] Command line: BOOT_IMAGE=/boot/vmlinuz-6.8.0-45-generic root=/dev/sda1 ro "
            "console=ttyS0,115200n8 amd_iommu=on crashkernel=512M\n"
            "[    1.204000] AMD-Vi: Interrupt remapping enabled\n"
            "[    2.000000] systemd[1]: Started systemd-journald.service - Journal Service.\n").encode()
    with open(path, "wb") as out:
        for _ in range(count // 1000):
            out.write(boot * 1000)
        out.write(boot * (count % 1000))


def _write_warnings(path: str, count: int) -> None:
    """``count`` WARNING reports, each at a different place (so each is its own finding)."""
    with open(path, "w") as out:
        out.write("[    0.000000] Linux version 6.8.0-45-generic (buildd@lcy02-amd64-080) #42~22.04.1-Ubuntu SMP\n")
        t = 1.0
        for i in range(count):
            lines = ["------------[ cut here ]------------",
                     f"WARNING: CPU: 3 PID: 1 at drivers/iommu/amd/iommu{i}.c:123 func_{i}+0x10/0x20",
                     "Modules linked in: ccp kvm_amd", "CPU: 3 PID: 1 Comm: swapper/0 Not tainted 6.8.0-45-generic #42",
                     f"RIP: 0010:func_{i}+0x10/0x20", "Call Trace:", " <TASK>", f" caller_{i}+0x1/0x2", " </TASK>",
                     "---[ end trace 0000000000000000 ]---"]
            for line in lines:
                t += 0.000001
                out.write(f"[{t:12.6f}] {line}\n")
            t += 0.5


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="a tenth of every size")
    parser.add_argument("--repeat", type=int, default=3, help="measured runs of each command (default 3)")
    parser.add_argument("--only", default=",".join(CASES), help=f"comma-separated cases of {', '.join(CASES)}")
    parser.add_argument("--out-dir", type=Path, default=Path(os.environ.get("SNP_TRIAGE_BENCH_DIR", HERE / "out")))
    parser.add_argument("--keep", action="store_true", help="keep the generated captures")
    args = parser.parse_args(argv)
    wanted = [c for c in args.only.split(",") if c]
    unknown = set(wanted) - set(CASES)
    if unknown or args.repeat < 1:
        parser.error(f"unknown case {sorted(unknown)}" if unknown else "--repeat must be >= 1")
    args.out_dir.mkdir(parents=True, exist_ok=True)
    bench = Bench(args)
    try:
        for case in CASES:
            if case in wanted:
                print(f"{case} ...", file=sys.stderr, flush=True)
                getattr(bench, case)()
    finally:
        if not args.keep:
            for path in bench.created:
                path.unlink(missing_ok=True)
    bench.report()
    return 0


if __name__ == "__main__":
    sys.exit(main())
