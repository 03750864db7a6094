"""Crash signatures and buckets: what varies between two occurrences of one crash stays out of the hash."""
from __future__ import annotations

import re

from hypothesis import given, settings
from hypothesis import strategies as st

from triage.fleet.fingerprint import FINGERPRINT_VERSION, crash_signature, fingerprint, normalize_title
from triage.ingest import Input
from triage.report.analyze import analyze_inputs
from triage.rulepack import load_rules

from .conftest import FOUNDING, QEMU_LOG, ROOT, parse_text

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
