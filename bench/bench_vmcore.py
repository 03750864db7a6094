"""Benchmark: triage.vmcore open_program() + inspect() against a bare drgn script.

Both sides open the same vmcore, load the same vmlinux and walk ``amd_iommu_list``; the bare
side reads nothing else. Runs alternate in one process; prints medians and the ratio (target
<= 1.5x). Uses the QEMU fixture of tests/qemu/build-fixture.sh, or explicit paths:

    python bench/bench_vmcore.py [--vmcore PATH --vmlinux PATH] [--repeat N]
"""
from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

TARGET_RATIO = 1.5


def default_fixture() -> Path:
    return Path(os.environ.get("SNP_TRIAGE_FIXTURE_DIR", Path.home() / ".cache" / "snp-triage" / "qemu-fixture"))


def bare(vmcore: str, vmlinux: str) -> int:
    """What a hand-written drgn script would do: open, load vmlinux, walk the IOMMU list."""
    import drgn
    from drgn.helpers.linux.list import list_for_each_entry

    prog = drgn.Program()
    prog.set_core_dump(vmcore)
    prog.load_debug_info([vmlinux])
    head = prog["amd_iommu_list"].address_of_()
    return sum(1 for iommu in list_for_each_entry("struct amd_iommu", head, "list") if iommu.index.value_() >= 0)


def triage_side(vmcore: str, vmlinux: str) -> int:
    from triage import vmcore as v

    facts = v.inspect(v.open_program(vmcore, vmlinux=vmlinux), vmcore)
    return len(facts.iommus)


def timed(fn, *args) -> float:
    start = time.perf_counter()
    fn(*args)
    return time.perf_counter() - start


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--vmcore")
    parser.add_argument("--vmlinux")
    parser.add_argument("--repeat", type=int, default=7)
    args = parser.parse_args(argv)
    vmcore = args.vmcore or str(default_fixture() / "vmcore")
    vmlinux = args.vmlinux or str(default_fixture() / "vmlinux")
    if not (os.path.isfile(vmcore) and os.path.isfile(vmlinux)):
        print(f"skipped: no vmcore/vmlinux fixture ({vmcore}, {vmlinux}); run tests/qemu/build-fixture.sh")
        return 0
    try:
        import drgn  # noqa: F401
    except ImportError:
        print("skipped: drgn is not installed")
        return 0
    if bare(vmcore, vmlinux) != triage_side(vmcore, vmlinux):  # warm-up and sanity check
        print("error: the two sides disagree on the number of IOMMUs")
        return 1
    bare_times, triage_times = [], []
    for _ in range(args.repeat):
        bare_times.append(timed(bare, vmcore, vmlinux))
        triage_times.append(timed(triage_side, vmcore, vmlinux))
    bare_median, triage_median = statistics.median(bare_times), statistics.median(triage_times)
    ratio = triage_median / bare_median
    print(f"bare drgn (open + vmlinux + walk amd_iommu_list): median {bare_median * 1000:.1f} ms")
    print(f"triage open_program + inspect:                    median {triage_median * 1000:.1f} ms")
    print(f"ratio {ratio:.2f}x (target <= {TARGET_RATIO}x): {'ok' if ratio <= TARGET_RATIO else 'OVER TARGET'}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
