"""Reports whose stack another header prints, and what a stall is about.

Lines are real console output from the syzkaller corpus (../shared/corpus/syzkaller,
report test data, by file number), cut (registers and "? " frames left out where the
test says so) but not edited.
"""
from __future__ import annotations

from triage.model import REPORT_KINDS

from .conftest import parse_text

PANIC_ON_WARN = """\
[   44.461565] refcount_t: underflow; use-after-free.
[   44.466577] ------------[ cut here ]------------
[   44.471332] WARNING: CPU: 1 PID: 2992 at lib/refcount.c:186 refcount_sub_and_test+0x167/0x1b0
[   44.479978] Kernel panic - not syncing: panic_on_warn set ...
[   44.479978] 
[   44.487309] CPU: 1 PID: 2992 Comm: syzkaller263121 Not tainted 4.14.0-rc5+ #91
[   44.494631] Hardware name: Google Google Compute Engine/Google Compute Engine, BIOS Google 01/01/2011
[   44.503948] Call Trace:
[   44.506504]  dump_stack+0x194/0x257
[   44.514735]  panic+0x1e4/0x417
[   44.530498]  __warn+0x1c4/0x1d9
[   44.538466]  report_bug+0x211/0x2d0
[   44.542078]  fixup_bug+0x40/0x90
[   44.545410]  do_trap+0x260/0x390
[   44.548743]  do_error_trap+0x120/0x390
[   44.573519]  do_invalid_op+0x1b/0x20
[   44.577201]  invalid_op+0x18/0x20
[   44.580618] RIP: 0010:refcount_sub_and_test+0x167/0x1b0
[   44.585944] RSP: 0018:ffff8801d1f4e9c8 EFLAGS: 00010282
[   44.669090]  sctp_wfree+0x183/0x620
[   44.682043]  skb_release_head_state+0x124/0x200
[   44.686676]  skb_release_all+0x15/0x60
[   44.690528]  consume_skb+0x153/0x490
[   44.728672]  sctp_chunk_put+0x29c/0x420
"""


def _reports(text: str):
    capture = parse_text(text)
    assert capture.plain_lines + sum(len(e.text) for e in capture.events) == capture.total_lines
    return [e for e in capture.events if e.kind in REPORT_KINDS]


def test_a_warning_borrows_the_stack_panic_on_warn_printed():
    # syzkaller 157 (4.14, "? " frames left out): __warn() panicked before it printed the trace
    warning, panic = _reports(PANIC_ON_WARN)
    assert (warning.kind, warning.line, warning.end_line) == ("warning", 3, 3)  # its own line only
    assert warning.get("guilty_function") == "sctp_wfree" and warning.get("stack_from_line") == 4
    assert warning.get("release") == "4.14.0-rc5+"  # the panic's CPU line is the same task's
    assert (panic.kind, panic.line) == ("kernel_panic", 4)  # the panic stays an event of its own
    assert panic.get("panic_message").startswith("panic_on_warn set")


def test_a_report_with_its_own_stack_lends_nothing():
    # constructed from the capture above: a WARNING that printed a trace of its own borrows nothing
    text = PANIC_ON_WARN.replace("[   44.479978] Kernel panic", "[   44.479977] Call Trace:\n"
                                 "[   44.479977]  sctp_wfree+0x183/0x620\n[   44.479978] Kernel panic", 1)
    warning, panic = _reports(text)
    assert warning.get("stack_from_line") is None and warning.get("guilty_function") == "sctp_wfree"
    assert panic.kind == "kernel_panic"


def test_a_free_text_warning_borrows_nothing():
    # constructed: a pr_warn() "WARNING: <text>" line before the panic stays a plain line
    text = "[    1.000000] WARNING: the mand mount option is deprecated\n" + PANIC_ON_WARN.split("\n", 3)[3]
    reports = _reports(text)
    assert [e.kind for e in reports] == ["kernel_panic"]


RCU_STALL_IN_IRQ = """\
[  809.100032][    C1] rcu: INFO: rcu_preempt detected stalls on CPUs/tasks:
[  809.107137][    C1] rcu: 	0-...0: (1 GPs behind) idle=59a/1/0x4000000000000000 softirq=8266/8267 fqs=5250 
[  809.117093][    C1] 	(detected by 1, t=10502 jiffies, g=6117, q=61)
[  809.123600][    C1] Sending NMI from CPU 1 to CPUs 0:
[  809.130926][    C1] NMI backtrace for cpu 0
[  809.130931][    C1] CPU: 0 PID: 6826 Comm: syz-executor019 Not tainted 5.8.0-rc3-syzkaller #0
[  809.130935][    C1] Hardware name: Google Google Compute Engine/Google Compute Engine, BIOS Google 01/01/2011
[  809.130939][    C1] RIP: 0010:preempt_count_add+0xe/0x150
[  809.130950][    C1] RSP: 0018:ffffc90000007cf0 EFLAGS: 00000006
[  809.130993][    C1] Call Trace:
[  809.130995][    C1]  <IRQ>
[  809.130997][    C1]  _raw_spin_lock+0xe/0x40
[  809.131000][    C1]  advance_sched+0x47/0x8c0
[  809.131012][    C1]  __hrtimer_run_queues+0x47f/0x930
[  809.131014][    C1]  hrtimer_interrupt+0x373/0xd60
[  809.131017][    C1]  __sysvec_apic_timer_interrupt+0xf0/0x260
[  809.131020][    C1]  asm_call_on_stack+0xf/0x20
[  809.131022][    C1]  </IRQ>
[  809.131025][    C1]  sysvec_apic_timer_interrupt+0xb9/0x130
[  809.131028][    C1]  asm_sysvec_apic_timer_interrupt+0x12/0x20
[  809.131032][    C1] RIP: 0010:_raw_spin_unlock_irqrestore+0xa5/0xd0
[  809.131043][    C1] RSP: 0018:ffffc90001277408 EFLAGS: 00000282
[  809.131066][    C1]  taprio_change+0x4245/0x51f0
[  809.131072][    C1]  qdisc_create+0x7d1/0x1410
[  809.131077][    C1]  tc_modify_qdisc+0x962/0x1d90
[  809.131082][    C1]  rtnetlink_rcv_msg+0x889/0xd40
[  809.131105][    C1]  netlink_rcv_skb+0x190/0x3a0
[  809.131110][    C1]  netlink_unicast+0x786/0x940
[  809.131113][    C1]  netlink_sendmsg+0xa57/0xd70
[  809.131118][    C1]  ____sys_sendmsg+0x519/0x800
[  809.131124][    C1]  __sys_sendmsg+0x2b1/0x360
[  809.131141][    C1]  do_syscall_64+0x73/0xe0
[  809.131144][    C1]  entry_SYSCALL_64_after_hwframe+0x44/0xa9
"""


def test_an_rcu_stall_borrows_the_stalled_cpus_nmi_backtrace_and_names_its_work():
    # syzkaller 501 (5.8, "Code:" and register lines left out): the detector on CPU 1 asked CPU 0 for
    # its backtrace; CPU 0 looped in a timer inside the qdisc change netlink asked for
    stall, backtrace = _reports(RCU_STALL_IN_IRQ)
    assert (stall.kind, stall.get("header_class"), stall.end_line) == ("lockup", "RCU_STALL", 1)
    assert stall.get("stalled_in") == "advance_sched"  # where it looped, kept
    assert stall.get("guilty_function") == "tc_modify_qdisc"  # the work: just inside rtnetlink's dispatch
    assert stall.get("pid") == 6826 and backtrace.kind == "call_trace"


def test_a_stall_in_boot_time_init_keeps_the_looping_function():
    # syzkaller 523 (5.x, "? " frames left out): an initcall waits for an expedited grace period;
    # kernel_init() runs no unit of work, so the subject stays where it waited
    stall = _reports("""\
[  118.704531][    T1] rcu: INFO: rcu_preempt detected expedited stalls on CPUs/tasks: { 2-... } 10886 jiffies s: 25 root: 0x4/.
[  118.770640][    T1] rcu: blocking rcu_node structures:
[  118.810521][    T1] Task dump for CPU 2:
[  118.831578][    T1] swapper/0       R  running task    28272     1      0 0x00004000
[  118.872247][    T1] Call Trace:
[  118.906021][    T1]  sched_show_task.cold+0x2da/0x33e
[  119.030866][    T1]  rcu_exp_wait_wake.cold+0x4a0/0x7ef
[  119.120302][    T1]  synchronize_rcu_expedited+0x502/0x5f0
[  119.730575][    T1]  synchronize_rcu+0xdf/0x180
[  119.930377][    T1]  rcu_set_runtime_mode+0x5/0x5a
[  119.960465][    T1]  do_one_initcall+0x10a/0x7b0
[  120.210341][    T1]  kernel_init_freeable+0x4f4/0x5a3
[  120.270367][    T1]  kernel_init+0xd/0x1c0
[  120.300423][    T1]  ret_from_fork+0x1f/0x30
""")[0]
    assert stall.get("guilty_function") == "rcu_exp_wait_wake" and stall.get("stalled_in") is None


def test_a_stack_overflow_names_the_work_that_recursed():
    # syzkaller 330 (4.20, "? " frames, registers and most of the reclaim path left out): the stack ran over
    # its end in reclaim under a writeback work item; the frame it died in is kept as overflowed_in
    panic = _reports("""\
[  335.974403] Kernel panic - not syncing: corrupted stack end detected inside scheduler
[  335.975933] CPU: 0 PID: 11678 Comm: kworker/u12:6 Not tainted 4.20.0+ #11
[  335.978779] Workqueue: writeback wb_workfn (flush-8:0)
[  335.979784] Call Trace:
[  335.980287]  dump_stack+0x1d3/0x2c6
[  335.982672]  panic+0x2ad/0x55f
[  335.986347]  __schedule+0x1ec6/0x1ed0
[  335.993751]  preempt_schedule_irq+0x87/0x110
[  335.994383]  retint_kernel+0x1b/0x2d
[  335.994939] RIP: 0010:__sanitizer_cov_trace_pc+0x26/0x50
[  336.006590]  rmap_walk+0x119/0x350
[  336.009046]  try_to_unmap+0x1f3/0xa40
[  336.020876]  shrink_page_list+0x70ef/0xc2e0
[  336.314367]  do_writepages+0x9a/0x1a0
[  336.317308]  __writeback_single_inode+0x20a/0x1660
[  336.338247]  writeback_sb_inodes+0x71f/0x1210
[  336.344617]  __writeback_inodes_wb+0x1b9/0x340
[  336.346588]  wb_writeback+0xa73/0xfc0
[  336.356813]  wb_workfn+0xd65/0x1790
[  336.370426]  process_one_work+0xc90/0x1c40
[  336.387991]  worker_thread+0x17f/0x1390
""")[0]
    assert panic.kind == "kernel_panic" and panic.get("guilty_function") == "wb_workfn"
    assert panic.get("overflowed_in") == "rmap_walk"


def test_a_location_line_is_no_stack_a_panic_lends_one():
    # syzkaller 642 (5.14, register and "? " lines left out): "Preemption disabled at:" prints one frame
    bug, panic = _reports("""\
[ 2500.529878][T12771] BUG: scheduling while atomic: syz-executor.1/12771/0x00000002
[ 2500.537844][T12771] no locks held by syz-executor.1/12771.
[ 2500.543497][T12771] Modules linked in:
[ 2500.547558][T12771] Preemption disabled at:
[ 2500.547572][T12771] [<ffffffff812b2934>] kernel_fpu_begin_mask+0x64/0x260
[ 2500.558965][T12771] Kernel panic - not syncing: scheduling while atomic
[ 2500.565901][T12771] CPU: 0 PID: 12771 Comm: syz-executor.1 Not tainted 5.14.0-rc6-syzkaller #0
[ 2500.584832][T12771] Call Trace:
[ 2500.588127][T12771]  dump_stack_lvl+0xcd/0x134
[ 2500.592949][T12771]  panic+0x306/0x73d
[ 2500.622673][T12771]  __schedule_bug.cold+0x10c/0x143
[ 2500.627802][T12771]  __schedule+0x1a07/0x26f0
[ 2500.649224][T12771]  schedule+0xd3/0x270
[ 2500.653313][T12771]  exit_to_user_mode_prepare+0x14a/0x290
[ 2500.658963][T12771]  syscall_exit_to_user_mode+0x19/0x60
[ 2500.664437][T12771]  do_syscall_64+0x42/0xb0
""")
    assert bug.get("guilty_function") == "exit_to_user_mode_prepare" and bug.get("stack_from_line") == 6
    assert panic.kind == "kernel_panic"
