#!/usr/bin/env python3
"""Rule-engine cost: the shipped pack vs the shipped pack + 500 generated rules.

Builds one capture holding N (default 1,000,000) ``IO_PAGE_FAULT``
``iommu_event`` events in a kdump boot -- through the real parser
(``triage.ingest``) when it is importable, else by constructing the events
directly (``--direct`` forces that) -- then times ``engine.match()`` for

* the shipped pack alone, and
* the shipped pack plus 500 generated rules (varied kinds, messages, field
  tests, regexes, counts, absent/next_boot structures; most never match,
  some hit the same 1M-event candidate list through indexed fields),

a few repetitions each in the same process, and prints the medians and the
ratio (target: <= 2x).  Each ``match()`` call rebuilds the event index, as the
CLI does; the index build time is printed on its own as well.

    PYTHONPATH=. python bench/bench_rules.py [--events N] [--repeat R] [--direct]
"""
from __future__ import annotations

import argparse
import random
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from triage.engine import EventIndex, match  # noqa: E402
from triage.model import Boot, Capture, Event  # noqa: E402
from triage.ingest import vocabulary  # noqa: E402
from triage.rulepack import load_rules  # noqa: E402

KNOWN_MESSAGES = vocabulary().messages

DEVICES = [f"0000:{0x41 + i:02x}:00.0" for i in range(16)]
OTHER_TYPES = ["ILLEGAL_DEV_TABLE_ENTRY", "RMP_PAGE_FAULT", "IOTLB_INV_TIMEOUT", "DEV_TAB_HARDWARE_ERROR",
               "PAGE_TAB_HARDWARE_ERROR", "ILLEGAL_COMMAND_ERROR", "COMMAND_HARDWARE_ERROR",
               "INVALID_DEVICE_REQUEST", "INVALID_PPR_REQUEST", "RMP_HW_ERROR"]


# ---------------------------------------------------------------- the capture


def _log_lines(n: int):
    yield ("[    0.000000] Linux version 6.8.0-45-generic (buildd@lcy02-amd64-075) (gcc 13.2.0) "
           "#45-Ubuntu SMP PREEMPT_DYNAMIC Fri Aug 30 12:02:04 UTC 2024")
    yield "[    0.000000] Command line: BOOT_IMAGE=/vmlinuz ro irqpoll nr_cpus=1 reset_devices elfcorehdr=1916276K"
    yield "[    0.300000] AMD-Vi: Translation is already enabled - trying to copy translation structures"
    yield "[    0.310000] AMD-Vi: Copied DEV table from previous kernel."
    for i in range(n):
        yield (f"[{1.0 + i * 0.0001:12.6f}] mlx5_core {DEVICES[i % 16]}: AMD-Vi: Event logged "
               f"[IO_PAGE_FAULT domain=0x0012 address=0x{0xfff0000 + 64 * i:x} flags=0x0020]")


def build_capture(n: int, direct: bool) -> tuple[Capture, str]:
    if not direct:
        try:
            from triage.ingest import read_capture
        except ImportError:
            direct = True
    if not direct:
        with tempfile.TemporaryDirectory() as tmp:
            path = Path(tmp) / "storm.log"
            with path.open("w") as out:
                for line in _log_lines(n):
                    out.write(line + "\n")
            return read_capture(str(path)), "real parser"
    events = [
        Event("amd_vi", "storm.log", 0, 3, 3, [l], 0.3, None, None, "AMD-Vi", "translation_pre_enabled_copy", {})
        for l in ["[    0.300000] AMD-Vi: Translation is already enabled - trying to copy translation structures"]
    ]
    events.append(Event("amd_vi", "storm.log", 0, 4, 4, ["[    0.310000] AMD-Vi: Copied DEV table from previous kernel."],
                        0.31, None, None, "AMD-Vi", "dev_table_copied", {}))
    for i, line in enumerate(_log_lines(n)):
        if i < 4:
            continue
        k = i - 4
        events.append(Event("iommu_event", "storm.log", 0, i + 1, i + 1, [line], 1.0 + k * 0.0001, "err", None,
                            "AMD-Vi", "event_logged",
                            {"event_type": "IO_PAGE_FAULT", "device": DEVICES[k % 16], "domain": 0x12,
                             "address": 0xfff0000 + 64 * k, "flags": 0x20, "pasid": None}))
    boots = [Boot("storm.log", 0, 1, n + 4, "banner", release="6.8.0-45-generic", role="kdump",
                  role_reason="elfcorehdr", event_count=len(events))]
    return Capture("storm.log", boots, events, n + 4, 0), "constructed directly"


# ---------------------------------------------------------------- 500 rules


def _quote(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def generate_rules(directory: Path, count: int = 500, seed: int = 1) -> None:
    rng = random.Random(seed)
    amd_messages = sorted(m for m in KNOWN_MESSAGES["amd_vi"] if m)
    sev_messages = sorted(m for m in KNOWN_MESSAGES["sev"] if m)
    kmsg = sorted(m for m in KNOWN_MESSAGES["kernel_message"] if m)
    words = ["timed out", "failed", "SNP", "IOMMU", "table", "buffer", "rc -110", "0x86", "ivhd", "DTE"]
    for i in range(count):
        shape = rng.random()
        rid = f"GEN-{i:04d}"
        head = (f"id: {rid}\ntitle: generated rule {i}\nseverity: {rng.choice(['critical', 'error', 'warning', 'info'])}\n"
                f"summary: generated\nremedy: none\n")
        if shape < 0.30:  # amd_vi message + regex, sometimes a count
            body = (f"match:\n  sequence:\n    - kind: amd_vi\n      message: {rng.choice(amd_messages)}\n"
                    f"      regex: {_quote(rng.choice(words) + '.*' + str(i))}\n")
            if rng.random() < 0.3:
                body += f"      at_least: {rng.randint(2, 5)}\n      within: {rng.randint(1, 10)}\n"
        elif shape < 0.50:  # sev with field comparisons, boot role filters
            body = (f"match:\n  boot: {{role: {rng.choice(['first', 'kdump'])}}}\n  sequence:\n"
                    f"    - kind: sev\n      message: {rng.choice(sev_messages)}\n"
                    f"      fields:\n        rc: {{lte: -{rng.randint(1, 200)}}}\n")
        elif shape < 0.62:  # reports with regex / frames
            body = (f"match:\n  sequence:\n    - kind: {rng.choice(['oops', 'bug', 'warning', 'lockup'])}\n"
                    f"      frame: {{matches: {_quote('^' + rng.choice(['iommu_', 'sev_', 'snp_', 'kvm_']) + 'x' + str(i))}}}\n")
        elif shape < 0.80:  # iommu events of other types (indexed), sometimes a device
            body = (f"match:\n  sequence:\n    - kind: iommu_event\n      message: event_logged\n      fields:\n"
                    f"        event_type: {rng.choice(OTHER_TYPES)}\n")
            if rng.random() < 0.5:
                body += f"        device: {_quote(rng.choice(DEVICES))}\n"
        elif shape < 0.88:  # IO_PAGE_FAULT from a device that never faults (indexed on device)
            body = (f"match:\n  sequence:\n    - kind: iommu_event\n      message: event_logged\n      fields:\n"
                    f"        event_type: IO_PAGE_FAULT\n        device: {_quote(f'0000:{0xa0 + i % 64:02x}:00.{i % 8}')}\n"
                    f"      at_least: {rng.randint(2, 20)}\n")
        elif shape < 0.94:  # sequence with absent, across kinds
            body = (f"match:\n  sequence:\n    - {{label: a, kind: kernel_message, message: {rng.choice(kmsg)}}}\n"
                    f"    - {{label: b, kind: amd_vi, message: {rng.choice(amd_messages)}}}\n"
                    f"  absent:\n    - {{kind: sev, message: {rng.choice(sev_messages)}, after: a}}\n")
        else:  # next_boot
            body = (f"match:\n  scope: next_boot\n  first:\n    sequence:\n      - {{kind: kernel_panic, fields: "
                    f"{{panic_message: {{contains: {_quote(rng.choice(words))}}}}}}}\n"
                    f"  then:\n    sequence:\n      - {{kind: sev, message: {rng.choice(sev_messages)}}}\n")
        (directory / f"{rid}.yaml").write_text(head + body)


# ---------------------------------------------------------------- timing


def timed(captures, rules, repeat):
    times, found = [], None
    for _ in range(repeat):
        start = time.perf_counter()
        found = match(captures, rules)
        times.append(time.perf_counter() - start)
    return statistics.median(times), times, found


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--events", type=int, default=1_000_000)
    ap.add_argument("--rules", type=int, default=500)
    ap.add_argument("--repeat", type=int, default=5)
    ap.add_argument("--direct", action="store_true", help="construct events directly instead of parsing a log")
    args = ap.parse_args(argv)

    t0 = time.perf_counter()
    capture, how = build_capture(args.events, args.direct)
    events = sum(1 for e in capture.events if e.kind == "iommu_event")
    print(f"capture: {len(capture.events):,} events ({events:,} iommu_event) via {how} "
          f"in {time.perf_counter() - t0:.1f} s")

    shipped = load_rules()
    with tempfile.TemporaryDirectory() as tmp:
        generate_rules(Path(tmp), args.rules)
        extra = load_rules([tmp], shipped=False)
    print(f"rules: {len(shipped)} shipped, {len(extra)} generated")

    idx_times = []
    for _ in range(args.repeat):
        start = time.perf_counter()
        EventIndex([capture])
        idx_times.append(time.perf_counter() - start)
    idx = statistics.median(idx_times)

    base, base_all, found_base = timed([capture], shipped, args.repeat)
    both, both_all, found_both = timed([capture], shipped + extra, args.repeat)
    print(f"index build alone:        median {idx:.3f} s")
    print(f"shipped pack:             median {base:.3f} s  ({', '.join(f'{t:.2f}' for t in base_all)})")
    print(f"shipped + {len(extra)} generated: median {both:.3f} s  ({', '.join(f'{t:.2f}' for t in both_all)})")
    print(f"findings: {sorted({f.rule_id for f in found_base})} / +{len(found_both) - len(found_base)} generated")
    ratio = both / base if base else float("inf")
    print(f"ratio: {ratio:.2f}x (target <= 2x) -> {'OK' if ratio <= 2.0 else 'OVER TARGET'}")
    return 0 if ratio <= 2.0 else 1


if __name__ == "__main__":
    sys.exit(main())
