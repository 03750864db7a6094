"""Benchmark: triage.vmcore open_program() + inspect() against a bare drgn script.

Both sides open the same vmcore, load the same vmlinux and walk ``amd_iommu_list``; the bare
side reads nothing else. Runs alternate in one process; prints medians and the ratio (target
<= 1.5x) for each QEMU fixture of tests/qemu/build-fixture.sh that is built (Debian 6.1, 6.12), or
for explicit paths:

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


def default_fixtures() -> list[Path]:
    from tests.qemufix import fixture_dirs

    return fixture_dirs()


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
    if args.vmcore and args.vmlinux:
        pairs = [(args.vmcore, args.vmlinux)]
    else:
        pairs = [(str(f / "vmcore"), str(f / "vmlinux")) for f in default_fixtures()]
    if not pairs:
        print("skipped: no vmcore/vmlinux fixture; run tests/qemu/build-fixture.sh 6.1 (and 6.12)")
        return 0
    try:
        import drgn  # noqa: F401
    except ImportError:
        print("skipped: drgn is not installed")
        return 0
    status = 0
    for vmcore, vmlinux in pairs:
        status |= measure(vmcore, vmlinux, args.repeat)
    return status


def measure(vmcore: str, vmlinux: str, repeat: int) -> int:
    """Medians of both sides on one dump, and their ratio."""
    if not (os.path.isfile(vmcore) and os.path.isfile(vmlinux)):
        print(f"skipped: {vmcore} or {vmlinux} missing")
        return 0
    if bare(vmcore, vmlinux) != triage_side(vmcore, vmlinux):  # warm-up and sanity check
        print("error: the two sides disagree on the number of IOMMUs")
        return 1
    bare_times, triage_times = [], []
    for _ in range(repeat):
        bare_times.append(timed(bare, vmcore, vmlinux))
        triage_times.append(timed(triage_side, vmcore, vmlinux))
    bare_median, triage_median = statistics.median(bare_times), statistics.median(triage_times)
    ratio = triage_median / bare_median
    print(f"{vmcore}:")
    print(f"  bare drgn (open + vmlinux + walk amd_iommu_list): median {bare_median * 1000:.1f} ms")
    print(f"  triage open_program + inspect:                    median {triage_median * 1000:.1f} ms")
    print(f"  ratio {ratio:.2f}x (target <= {TARGET_RATIO}x): {'ok' if ratio <= TARGET_RATIO else 'OVER TARGET'}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
