"""Crash signatures and buckets: what varies between two occurrences of one crash stays out of the hash."""
from __future__ import annotations

import re

from hypothesis import given, settings
from hypothesis import strategies as st

from triage.fleet.fingerprint import FINGERPRINT_VERSION, crash_signature, fingerprint, normalize_title
from triage.ingest import Input
from triage.report.analyze import analyze_inputs
from triage.rulepack import load_rules

from .conftest import FOUNDING, QEMU_LOG, ROOT, parse_text, shared

#: the real sysrq crash of the QEMU sample (lines 402-427), as the console printed it
SYSRQ = "\n".join(QEMU_LOG.read_text().splitlines()[401:427]) + "\n"


def _signature(text: str):
    events = [e for e in parse_text(text).events if e.kind == "kernel_panic"]
    assert len(events) == 1
    return crash_signature(events[0])


def test_sysrq_crash_signature():
    sig = _signature(SYSRQ)
    assert sig.title == "Kernel panic - not syncing: sysrq triggered crash in sysrq_handle_crash"
    # plumbing (dump_stack_lvl, panic, the __handle_sysrq dispatcher) skipped, '?' frames left out,
    # offsets never hashed
    assert sig.frames == ("sysrq_handle_crash", "write_sysrq_trigger", "proc_reg_write", "vfs_write", "ksys_write")
    assert sig.facets == {"cpu": 1, "pid": 1, "comm": "init", "tainted": False, "release": "6.1.0-56-amd64",
                          "time": 8.305586}


def test_cpu_pid_comm_time_offsets_and_suffixes_stay_out_of_the_hash():
    other = SYSRQ.replace("CPU: 1 PID: 1 Comm: init", "CPU: 7 PID: 4242 Comm: bash") \
        .replace("[    8.3", "[  912.3").replace("sysrq_handle_crash+0x16/0x20", "sysrq_handle_crash+0x1a/0x30") \
        .replace("write_sysrq_trigger+0x24/0x40", "write_sysrq_trigger.constprop.0+0x30/0x50") \
        .replace("proc_reg_write+0x56/0xa0", "proc_reg_write.llvm.1234567+0x56/0xa0") \
        .replace("Not tainted", "Tainted: G           OE")
    a, b = _signature(SYSRQ), _signature(other)
    assert (a.key, a.stack_hash, a.title) == (b.key, b.stack_hash, b.title)
    assert a.facets != b.facets


def test_a_different_caller_changes_the_stack_hash_a_different_function_the_bucket():
    caller = _signature(SYSRQ.replace("proc_reg_write+", "vfs_iter_write+"))
    assert caller.stack_hash != _signature(SYSRQ).stack_hash and caller.key == _signature(SYSRQ).key
    moved = _signature(SYSRQ.replace("sysrq_handle_crash", "sysrq_handle_reboot"))
    assert moved.key != _signature(SYSRQ).key


def test_a_module_is_a_token_of_its_frame():
    sig = _signature(SYSRQ.replace("proc_reg_write+0x56/0xa0", "proc_reg_write+0x56/0xa0 [fuse]"))
    assert "proc_reg_write [fuse]" in sig.frames


def test_specific_root_cause_buckets_by_diagnosis():
    report = analyze_inputs([Input.from_arg(str(FOUNDING))], load_rules([]))
    fp = fingerprint(report)
    assert fp.version == FINGERPRINT_VERSION and fp.bucket_basis == "diagnosis"
    assert fp.diagnosis.key == "SNP-KDUMP-CWB-TIMEOUT/kdump/confirmed"
    assert fp.bucket_title == "SNP-KDUMP-CWB-TIMEOUT (kdump kernel)" and re.fullmatch(r"[0-9a-f]{16}", fp.bucket)
    assert fp.signatures  # the crash signatures are kept as facets of the capture


def test_generic_root_cause_buckets_by_crash():
    gpf = ROOT / "tests" / "corpus" / "real" / "102-iommu-list-ftdi-xhci-page-faults-qp-kernlog-and-quoted-gpf.log"
    fp = fingerprint(analyze_inputs([Input.from_arg(str(gpf))], load_rules([])))
    assert fp.diagnosis.rule_id.startswith("GENERIC-") and fp.diagnosis.generic and fp.bucket_basis == "crash"
    assert fp.bucket_title == "general protection fault in prefetch_freepointer"


def test_rcu_stall_flavours_are_one_class():
    assert normalize_title("rcu: INFO: rcu_preempt self-detected stall on CPU") == "INFO: rcu detected stall"
    assert normalize_title("INFO: rcu_sched detected stalls on CPUs/tasks:") == "INFO: rcu detected stall"


def test_task_and_values_are_not_part_of_a_class():
    assert normalize_title("BUG: scheduling while atomic: syz-executor.3/8021/0x00000002") == \
        "BUG: scheduling while atomic"
    assert normalize_title("BUG: Dentry ffff88006f4c1b40{i=8bb9,n=lo} still in use (1) [unmount of proc proc]") == \
        "BUG: Dentry ADDR still in use"


@settings(max_examples=300, deadline=None)
@given(st.text(max_size=200))
def test_normalize_title_is_idempotent_and_keeps_no_number(text):
    once = normalize_title(text)
    assert normalize_title(once) == once
    assert not re.search(r"(?<![\w])\d+(?![\w])", once.replace("NUM", "").replace("ADDR", ""))


def _syzkaller_fingerprint(name: str):
    from .test_corpus import load_syzkaller

    _, log = load_syzkaller(shared("corpus", "syzkaller", name))
    return fingerprint(analyze_inputs([Input.from_text(log, name)], load_rules([])))


def test_kasan_access_is_part_of_the_title_in_either_kernel_format():
    # 16: "BUG: KASAN: use-after-free in remove_wait_queue+0xfb/0x120 at addr ..." then "Write of size 8
    # by task ..." (before 4.11); 147: "Read of size 8 at addr ... by task ..." after a header naming
    # __lock_acquire: syzkaller titles them "... Write in remove_wait_queue" and "... Read in ..."
    write, read = _syzkaller_fingerprint("16"), _syzkaller_fingerprint("147")
    assert write.bucket_title == "BUG: KASAN: use-after-free Write in remove_wait_queue"
    assert read.bucket_title == "BUG: KASAN: use-after-free Read in remove_wait_queue"
    assert write.bucket != read.bucket


def test_waits_of_one_family_share_a_bucket():
    # syzkaller titles all three "INFO: task hung in synchronize_rcu": 179 hangs in synchronize_sched,
    # 432 in synchronize_rcu_expedited, 435 in __synchronize_srcu
    prints = [_syzkaller_fingerprint(n) for n in ("179", "432", "435")]
    assert {p.bucket_title for p in prints} == {"INFO: task hung in synchronize_rcu"}
    assert len({p.bucket for p in prints}) == 1


def test_a_trusty_tee_panic_is_the_crash_not_the_warning_it_causes():
    # 353/354: the secure world's ASSERT, then the kernel's WARNING in trusty_std_call32 (one
    # "trusty: " record cut by another in 353)
    chan, ref = _syzkaller_fingerprint("353"), _syzkaller_fingerprint("354")
    assert chan.bucket_title.startswith("trusty: ASSERT FAILED: !list_in_list(&chan->node)")
    assert ref.bucket_title.startswith("trusty: ASSERT FAILED: list_in_list(&ref->ref_node)")
    assert chan.bucket != ref.bucket


def test_the_first_report_is_the_crash():
    # 195: the KASAN wild-memory-access in sg_read comes first, the general protection fault after it
    assert _syzkaller_fingerprint("195").bucket_title == "BUG: KASAN: wild-memory-access Read in sg_read"


def test_bucket_agreement_with_syzkaller_titles_meets_the_targets():
    """Issue 12's yardstick, also printed by bench/bench_fleet.py: pairwise precision >= 0.95, recall >= 0.85."""
    import importlib.util

    shared("corpus", "syzkaller")
    spec = importlib.util.spec_from_file_location("bench_fleet", ROOT / "bench" / "bench_fleet.py")
    bench = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(bench)
    precision, recall, bucketed, _ = bench.bucket_agreement()
    assert bucketed >= 590
    assert precision >= 0.95 and recall >= 0.85, (precision, recall)
