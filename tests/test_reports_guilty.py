"""Which function a report is about, on real reports of each kind: contexts, lockdep, leaks, hangs.

Lines are real console output, cut (a trace shortened, registers left out) but not
edited, unless a test says it is constructed. The origin of each is named: the
syzkaller corpus in ../shared/corpus/syzkaller (report test data, by file number),
the real-dev captures, or a public bug report.
"""
from __future__ import annotations

from triage.model import REPORT_KINDS

from .conftest import first_report as _report
from .conftest import frame_functions as _functions
from .conftest import parse_text




# ------------------------------------------------------------------ contexts and exception frames
def test_oops_in_an_interrupt_stays_in_the_interrupt():
    # syzkaller 358 (4.14): an indirect call through a freed timer crashes the retpoline thunk;
    # the frames after </IRQ> belong to the interrupted task, not to the oops
    event = _report("""\
[  155.309477] general protection fault: 0000 [#1] SMP KASAN PTI
[  155.348063] RIP: 0010:__x86_indirect_thunk_rax+0x10/0x20
[  155.463091] Call Trace:
[  155.465665]  <IRQ>
[  155.505535]  run_timer_softirq+0x53d/0xe70
[  155.580512]  __do_softirq+0x305/0xba7
[  155.631559]  irq_exit+0x1ac/0x1d0
[  155.634999]  smp_apic_timer_interrupt+0x29a/0x870
[  155.673251]  apic_timer_interrupt+0x8e/0xa0
[  155.677556]  </IRQ>
[  155.679789] RIP: 0010:copy_page_range+0xb82/0x20f0
[  155.684702] RSP: 0018:ffff8801a9136be8 EFLAGS: 00000246 ORIG_RAX: ffffffffffffff10
[  155.820312]  copy_mm+0xedc/0x1700
[  155.849419]  copy_process.part.42+0x1d42/0x4ed0
""")
    frames = event.get("frames")
    assert [f.function for f in frames][-2:] == ["copy_mm", "copy_process.part.42"]  # one trace, across the RIP
    assert [f.context for f in frames][:2] == ["IRQ", "IRQ"] and frames[-1].context is None
    assert event.get("guilty_function") == "run_timer_softirq"


def test_stall_detected_from_the_timer_interrupt_blames_the_interrupted_code():
    # syzkaller 468 (5.x): the timer interrupt ran the detector; after </IRQ> the stalled task,
    # whose own RIP (lock_acquire, a lock primitive) comes first; the RCU kthread's dump follows
    event = _report("""\
[  839.223284][    C1] rcu: INFO: rcu_preempt detected stalls on CPUs/tasks:
[  839.258215][    C1] Call Trace:
[  839.261494][    C1]  <IRQ>
[  839.264483][    C1]  sched_show_task.cold+0x2ee/0x35d
[  839.274562][    C1]  rcu_sched_clock_irq.cold+0xb23/0xc37
[  839.280179][    C1]  update_process_times+0x2d/0x70
[  839.285257][    C1]  tick_sched_handle+0xa2/0x190
[  839.290123][    C1]  tick_sched_timer+0x53/0x140
[  839.294896][    C1]  __hrtimer_run_queues+0x364/0xe40
[  839.321988][    C1]  hrtimer_interrupt+0x314/0x770
[  839.327058][    C1]  smp_apic_timer_interrupt+0x160/0x610
[  839.332644][    C1]  apic_timer_interrupt+0xf/0x20
[  839.337576][    C1]  </IRQ>
[  839.340603][    C1] RIP: 0010:lock_acquire+0x20b/0x410
[  839.365614][    C1] RSP: 0018:ffffc90001f57ad0 EFLAGS: 00000286 ORIG_RAX: ffffffffffffff13
[  839.419020][    C1]  vcpu_enter_guest+0x323d/0x6100
[  839.478770][    C1]  kvm_arch_vcpu_ioctl_run+0x430/0x17b0
[  839.490122][    C1]  kvm_vcpu_ioctl+0x4dc/0xfc0
[  839.550066][    C1]  entry_SYSCALL_64_after_hwframe+0x49/0xbe
[  839.555962][    C1] RIP: 0033:0x4478a9
[  839.627819][    C1] rcu: rcu_preempt kthread starved for 10542 jiffies! g10641 f0x2 RCU_GP_WAIT_FQS(5) ->state=0x0 ->cpu=1
[  839.638999][    C1] rcu: RCU grace-period kthread stack dump:
[  839.652821][    C1] Call Trace:
[  839.656122][    C1]  __schedule+0x934/0x1f90
[  839.681553][    C1]  schedule+0xdc/0x2b0
[  839.716370][    C1]  rcu_gp_kthread+0xa10/0x1940
""")
    frames = event.get("frames")
    assert [f.function for f in frames][8:11] == ["apic_timer_interrupt", "vcpu_enter_guest", "kvm_arch_vcpu_ioctl_run"]
    assert event.get("guilty_function") == "vcpu_enter_guest"


def test_kasan_guilty_frame_is_in_the_access_trace_not_allocated_or_freed_by():
    # syzkaller 226 (4.16): the access's trace, then "Allocated by task"/"Freed by task" stacks
    # ("?" frames of the access's trace and its user registers left out)
    event = _report("""\
[  353.735888] BUG: KASAN: use-after-free in __list_add_valid+0xc6/0xd0
[  353.742378] Read of size 8 at addr ffff8801d0d16658 by task syz-executor1/23896
[  353.749812] 
[  353.751441] CPU: 0 PID: 23896 Comm: syz-executor1 Not tainted 4.16.0-rc7+ #374
[  353.769453] Call Trace:
[  353.769474]  dump_stack+0x194/0x24d
[  353.769529]  print_address_description+0x73/0x250
[  353.769550]  kasan_report+0x23c/0x360
[  353.769564]  __asan_report_load8_noabort+0x14/0x20
[  353.769573]  __list_add_valid+0xc6/0xd0
[  353.769585]  rdma_listen+0x581/0x8e0
[  353.769614]  ucma_listen+0x172/0x1f0
[  353.769656]  ucma_write+0x2d6/0x3d0
[  353.769951]  entry_SYSCALL_64_after_hwframe+0x42/0xb7
[  353.769958] RIP: 0033:0x454e79
[  353.770012] 
[  353.770018] Allocated by task 23659:
[  353.770029]  save_stack+0x43/0xd0
[  353.770038]  kasan_kmalloc+0xad/0xe0
[  353.770047]  __kmalloc_node_track_caller+0x47/0x70
[  353.770059]  __kmalloc_reserve.isra.39+0x41/0xd0
[  353.770067]  __alloc_skb+0x13b/0x780
[  353.770158] 
[  353.770162] Freed by task 23659:
[  353.770169]  save_stack+0x43/0xd0
[  353.770177]  __kasan_slab_free+0x11a/0x170
[  353.770191]  kfree+0xd9/0x260
[  353.770199]  skb_free_head+0x74/0xb0
""")
    assert _functions(event)[-1] == "entry_SYSCALL_64_after_hwframe"  # the allocation stacks are other traces
    assert event.get("guilty_function") == "rdma_listen"



# ------------------------------------------------------------------ lockdep, leaks, hangs
def test_lockdep_names_the_acquisition_site():
    # syzkaller 26 (4.14): the first lock line, the lock being acquired
    event = _report("""\
[  127.525803] ======================================================
[  127.532093] WARNING: possible circular locking dependency detected
[  127.538376] 4.14.0-rc1+ #1 Not tainted
[  127.548509] syz-executor0/22269 is trying to acquire lock:
[  127.554094]  (&bdev->bd_mutex){+.+.}, at: [<ffffffff8232bf0e>] blkdev_reread_part+0x1e/0x40
[  127.562560]
[  127.562560] but task is already holding lock:
[  127.568495]  (&lo->lo_ctl_mutex#2){+.+.}, at: [<ffffffff83542c29>] lo_compat_ioctl+0x109/0x140
""")
    assert event.get("lock_function") == "blkdev_reread_part"
    assert event.get("guilty_function") == "blkdev_reread_part"


def test_lockdep_bad_unlock_names_the_release_site():
    # syzkaller 116 (4.9): print_ip_sym() of the unlock, before the held-lock listing
    event = _report("""\
[  264.309846] [ BUG: bad unlock balance detected! ]
[  264.314656] 4.9.65-gea83e4a #95 Not tainted
[  264.323751] syz-executor1/1081 is trying to release lock (mrt_lock) at:
[  264.330694] [<ffffffff834dea24>] ipmr_mfc_seq_stop+0xe4/0x140
[  264.336540] but there are no more locks to release!
[  264.348145] 1 lock held by syz-executor1/1081:
[  264.352688]  #0:  (&p->lock){+.+.+.}, at: [<ffffffff815e4ded>] seq_read+0xdd/0x1290
""")
    assert event.get("guilty_function") == "ipmr_mfc_seq_stop"


def test_old_lockdep_lock_order_header():
    # syzkaller 30 (4.10): "[ INFO: %s-safe -> %s-unsafe lock order detected ]"
    event = _report("""\
[  121.451623] ======================================================
[  121.452013] [ INFO: SOFTIRQ-safe -> SOFTIRQ-unsafe lock order detected ]
[  121.452013] 4.10.0-rc8+ #228 Not tainted
[  121.453507] syz-executor1/19557 [HC0[0]:SC0[0]:HE0:SE1] is trying to acquire:
[  121.453507]  (&(&r->consumer_lock)->rlock){+.+...}, at: [<ffffffff82df4347>] tun_device_event+0x897/0xc70
""")
    assert event.kind == "warning" and event.get("header_class") == "LOCKDEP_INFO"


def test_memory_leak_absorbs_its_object_and_skips_the_allocators():
    # syzkaller 52 (symbolized): "BUG: memory leak" (syzkaller's executor) then kmemleak's object
    capture = parse_text("""\
2018/01/09 14:28:48 BUG: memory leak
unreferenced object 0xffff8800342540c0 (size 1864): 
  comm "a.out", pid 24109, jiffies 4299060398 (age 27.984s) 
  hex dump (first 32 bytes): 
    00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00  ................ 
    0a 00 07 40 00 00 00 00 00 00 00 00 00 00 00 00  ...@............ 
  backtrace: 
    [<ffffffff85c73a22>] kmemleak_alloc+0x72/0xc0 mm/kmemleak.c:915 
    [<ffffffff816cc14d>] kmem_cache_alloc+0x12d/0x2c0 mm/slub.c:2607 
    [<ffffffff84b642c9>] sk_prot_alloc+0x69/0x340 net/core/sock.c:1344 
    [<ffffffff84b6d36a>] sk_alloc+0x3a/0x6b0 net/core/sock.c:1419 
    [<ffffffff850c6d57>] inet6_create+0x2d7/0x1000 net/ipv6/af_inet6.c:173 
    [<ffffffff84b5f47c>] __sock_create+0x37c/0x640 net/socket.c:1162 
""")
    leaks = [e for e in capture.events if e.kind in REPORT_KINDS]
    # one report from "BUG: memory leak" (or, where the envelope keeps the harness's stamp and that
    # line out, from the object) to the end of the backtrace
    assert len(leaks) == 1 and leaks[0].line in (1, 2) and leaks[0].end_line == 13
    assert leaks[0].get("guilty_function") == "inet6_create"



def test_hung_task_torn_by_a_line_break_in_its_comm():
    # syzkaller 1001: the task's name holds a line break; the rest of the header is on the next line
    event = _report(
        "[ 1052.080846][   T41] INFO: task \ufffd\ufffd\n"
        "[ 1052.080846][   T41] \ufffd\ufffd \ufffd!\ufffd:18088 blocked for more than 143 seconds.\n"
        "[ 1052.189780][   T41] Call Trace:\n"
        "[ 1052.199981][   T41]  <TASK>\n"
        "[ 1052.211420][   T41]  __schedule+0x10e9/0x6820\n"
        "[ 1052.227703][   T41]  schedule+0xdd/0x390\n"
        "[ 1052.258119][   T41]  schedule_timeout+0x1b2/0x280\n"
        "[ 1052.291037][   T41]  __wait_for_common+0x2e7/0x4c0\n"
        "[ 1052.427704][   T41]  __flush_work+0x7c7/0xcb0\n"
        "[ 1052.456896][   T41]  p9_fd_close+0x299/0x5a0\n")
    assert event.kind == "lockup" and (event.get("pid"), event.get("stuck_seconds")) == (18088, 143)
    assert event.get("guilty_function") == "p9_fd_close"



def test_workqueue_leak_names_the_work_function():
    # syzkaller 212 (4.3): process_one_work() reports the work function that kept a lock
    event = _report("""\
[   51.132760] BUG: workqueue leaked lock or atomic: kworker/0:0/0x00000000/4
[   51.132760]      last function: addrconf_dad_work
[   51.144513] 1 lock held by kworker/0:0/4:
[   51.148666]  #0:  (rcu_read_lock_bh){......}, at: [<ffffffff8294ef60>] hashlimit_mt_common.isra.11+0x190/0x22a0
[   51.159587] CPU: 0 PID: 4 Comm: kworker/0:0 Not tainted 4.3.5+ #124
[   51.175313] Workqueue: ipv6_addrconf addrconf_dad_work
""")
    assert event.get("guilty_function") == "addrconf_dad_work"


def test_stack_protector_panic_names_the_function():
    # syzkaller 320: __stack_chk_fail() panics naming the function whose canary was overwritten
    event = _report("[  678.752880] Kernel panic - not syncing: stack-protector: Kernel stack is corrupted in: "
                    "udp4_lib_lookup2+0x7ea/0x7f0\n")
    assert event.get("guilty_function") == "udp4_lib_lookup2"
    # syzkaller 322 (4.4): an address the kernel could not name is no function; the trace names it
    event = _report("""\
[  122.900948] Kernel panic - not syncing: stack-protector: Kernel stack is corrupted in: ffffffff8343632e
[  122.900948] 
[  122.911966] CPU: 1 PID: 7987 Comm: syz-executor1 Not tainted 4.4.153-g5e24b4e #90
[  122.953181] Call Trace:
[  122.955761]  [<ffffffff81e162ed>] dump_stack+0xc1/0x124
[  122.961127]  [<ffffffff8140d474>] panic+0x19e/0x38d
[  122.966141]  [<ffffffff8140d2d6>] ? add_taint.cold.4+0x16/0x16
[  122.977740]  [<ffffffff8343632e>] ? ip6_xmit+0x18ae/0x1a00
[  122.988991]  [<ffffffff81132bc2>] __stack_chk_fail+0x22/0x30
[  122.994784]  [<ffffffff8343632e>] ip6_xmit+0x18ae/0x1a00
""")
    assert event.get("guilty_function") == "ip6_xmit"
