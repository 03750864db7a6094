"""Every generation of kernel report the report grammar describes, one test each.

Lines are real console output, cut (a trace shortened, registers left out) but not
edited, unless a test says it is constructed. The origin of each is named: the
syzkaller corpus in ../shared/corpus/syzkaller (report test data, by file number),
the real-dev captures, or a public bug report.
"""
from __future__ import annotations

from triage.ingest import reports

from .conftest import first_report as _report
from .conftest import frame_functions as _functions
from .conftest import report_events as _reports




# ------------------------------------------------------------------ WARNING headers
def test_warning_6_19_header():
    # syzkaller 744 (linux-next 6.16, the format of 6.19): __warn() prints
    # "WARNING: %s:%d at %pS, CPU#%d: %s/%d"; another task's USB lines are interleaved
    event = _report("""\
[  237.726449][  T112] WARNING: fs/jfs/jfs_dmap.c:2867 at dbAdjTree+0x454/0x4e0, CPU#0: jfsCommit/112
[  237.729558][   T43] usb 1-1: config 1 interface 0 altsetting 0 has 1 endpoint descriptor, different from the interface descriptor's value: 0
[  237.736143][  T112] Modules linked in:
[  237.755269][  T112] CPU: 0 UID: 0 PID: 112 Comm: jfsCommit Not tainted 6.16.0-rc2-next-20250617-syzkaller #0 PREEMPT(full) 
[  237.778028][  T112] Hardware name: Google Google Compute Engine/Google Compute Engine, BIOS Google 05/07/2025
[  237.797266][  T112] RIP: 0010:dbAdjTree+0x454/0x4e0
[  237.823544][  T112] RSP: 0018:ffffc900026c7988 EFLAGS: 00010293
""")
    assert event.kind == "warning" and event.get("header_class") == "WARNING"
    assert event.get("warn_where") == "fs/jfs/jfs_dmap.c:2867" and event.get("warn_function") == "dbAdjTree"
    assert (event.get("cpu"), event.get("comm"), event.get("pid")) == (0, "jfsCommit", 112)
    assert event.get("release") == "6.16.0-rc2-next-20250617-syzkaller"
    assert event.get("guilty_function") == "dbAdjTree"
    assert event.title == "WARNING at fs/jfs/jfs_dmap.c:2867 in dbAdjTree"



def test_warning_6_19_condition_and_riscv_pc():
    # syzkaller 999: CONFIG_DEBUG_BUGVERBOSE_DETAILED puts "[condition] " before the file
    # (include/asm-generic/bug.h, WARN_CONDITION_STR); RISC-V prints "epc :" for the PC
    event = _report("""\
[ 9877.699641][    C0] ------------[ cut here ]------------
[ 9877.700279][    C0] WARNING: [time_after(jiffies, timeout)] io_uring/io_uring.c:3026 at io_ring_exit_work+0x44c/0xbc0, CPU#0: kworker/u8:0/10040
[ 9877.701489][    C0] Modules linked in:
[ 9877.705688][    C0] Workqueue: iou_exit io_ring_exit_work
[ 9877.706821][    C0] epc : io_ring_exit_work+0x44c/0xbc0
[ 9877.707647][    C0]  ra : io_ring_exit_work+0x44c/0xbc0
[ 9877.713144][    C0] [<ffffffff80014264>] io_ring_exit_work+0x44c/0xbc0
[ 9877.714119][    C0] [<ffffffff801c2668>] process_one_work+0x930/0x1e14
[ 9877.714770][    C0] [<ffffffff801c408c>] worker_thread+0x540/0xcbc
""")
    assert event.get("warn_condition") == "time_after(jiffies, timeout)"
    assert event.get("warn_where") == "io_uring/io_uring.c:3026" and event.get("comm") == "kworker/u8:0"
    assert event.get("rip").function == "io_ring_exit_work"
    assert event.get("guilty_function") == "io_ring_exit_work"


def test_warning_6_19_at_0x0_takes_the_function_from_the_trace():
    # syzkaller 755: the new x86 bug table can leave %pS of the WARN site "0x0"
    event = _report("""\
[   92.518566][ T5982] ------------[ cut here ]------------
[   92.524796][ T5982] EA inode 11 i_nlink=2
[   92.524882][ T5982] WARNING: fs/ext4/xattr.c:1058 at 0x0, CPU#0: syz.0.17/5982
[   92.537107][ T5982] Modules linked in:
[   92.541176][ T5982] CPU: 0 UID: 0 PID: 5982 Comm: syz.0.17 Not tainted syzkaller #0 PREEMPT(full)
[   92.561124][ T5982] RIP: 0010:ext4_xattr_inode_update_ref+0x4dc/0x570
[   92.660779][ T5982] Call Trace:
[   92.664385][ T5982]  <TASK>
[   92.667663][ T5982]  ? __pfx_inode_set_ctime_to_ts+0x10/0x10
[   92.685672][ T5982]  ext4_xattr_set_entry+0xabb/0x1e20
[   92.691132][ T5982]  ext4_xattr_ibody_set+0x254/0x6a0
""")
    assert event.get("warn_where") == "fs/ext4/xattr.c:1058" and event.get("warn_function") == "0x0"
    assert event.get("guilty_function") == "ext4_xattr_inode_update_ref"


def test_warning_6_19_in_a_helper_blames_its_caller():
    # syzkaller 754: refcount_warn_saturate() (lib/refcount.c) warns about its caller's object
    event = _report("""\
[   99.069428][ T6051] WARNING: lib/refcount.c:19 at 0x0, CPU#1: syz.3.20/6051
[   99.078460][ T6051] Modules linked in:
[   99.108470][ T6051] RIP: 0010:refcount_warn_saturate+0xc5/0x110
[   99.217473][ T6051] Call Trace:
[   99.220803][ T6051]  <TASK>
[   99.223753][ T6051]  __vma_enter_locked+0x62e/0x6a0
[   99.229335][ T6051]  ? __vma_start_write+0x23/0x140
[   99.235141][ T6051]  ? __pfx___vma_enter_locked+0x10/0x10
[   99.240967][ T6051]  __vma_start_write+0x23/0x140
""")
    assert event.get("guilty_function") == "__vma_enter_locked"



def test_warning_3x_to_6_18_header():
    # syzkaller 182: "WARNING: CPU: %d PID: %d at %s:%d %pS", kobject_add_internal() warning about its caller
    event = _report("[  179.154920] WARNING: CPU: 1 PID: 3485 at lib/kobject.c:244 kobject_add_internal+0x3f6/0xbc0\n")
    assert (event.get("cpu"), event.get("pid")) == (1, 3485)
    assert event.get("warn_where") == "lib/kobject.c:244" and event.get("warn_function") == "kobject_add_internal"



def test_warning_without_a_file_and_with_the_function_on_the_next_line():
    # constructed: __warn() without a file prints "WARNING: CPU: %d PID: %d at %pS"
    event = _report("WARNING: CPU: 2 PID: 17 at amd_iommu_flush_all+0x1a/0x40\n"
                    "Modules linked in:\n")
    assert event.get("warn_function") == "amd_iommu_flush_all" and event.get("warn_where") is None
    # a mail client wrapped the header after the file (tests/corpus/real 101 of the main tree)
    event = _report("[17879.279111] WARNING: CPU: 5 PID: 0 at net/sched/sch_generic.c:447\n"
                    "dev_watchdog+0x121/0x17e\n")
    assert event.get("warn_where") == "net/sched/sch_generic.c:447" and event.get("guilty_function") == "dev_watchdog"


def test_warning_2_6_header():
    # real-dev 026 (satyr, github issue 113, a 3.10 kernel still printing the 2.6 header of
    # warn_slowpath_common(): "WARNING: at %s:%d %pS()")
    event = _report("""\
WARNING: at drivers/iommu/intel_irq_remapping.c:533 intel_irq_remapping_supported+0x37/0x7a()
This system BIOS has enabled interrupt remapping
Modules linked in:
CPU: 0 PID: 1 Comm: swapper/0 Not tainted 3.10.12-100.fc18.x86_64 #1
Call Trace:
 [<ffffffff81656b45>] dump_stack+0x19/0x1b
 [<ffffffff8105d670>] warn_slowpath_common+0x70/0xa0
 [<ffffffff81529d1f>] ? kzalloc+0xf/0x20
 [<ffffffff8105d6ff>] warn_slowpath_fmt_taint+0x3f/0x50
 [<ffffffff8103883b>] ? ioapic_read_entry+0x4b/0x60
 [<ffffffff81d59a57>] intel_irq_remapping_supported+0x37/0x7a
 [<ffffffff8152cfbd>] irq_remapping_supported+0x2d/0x30
""")
    assert event.get("warn_where") == "drivers/iommu/intel_irq_remapping.c:533"
    assert event.get("guilty_function") == "intel_irq_remapping_supported"



# ------------------------------------------------------------------ frames of every age
def test_old_frames_with_addresses():
    # syzkaller 36 (4.8): " [<ffffffff...>] func+off/size", "?" for unreliable ones
    event = _report("""\
[  734.270366] [ BUG: syz-executor/31761 still has locks held! ]
[  734.562654] Call Trace:
[  734.565257]  [<ffffffff82d383a9>] dump_stack+0x12e/0x185
[  734.570819]  [<ffffffff81463cb5>] debug_check_no_locks_held+0x125/0x140
[  734.577590]  [<ffffffff860bae47>] unix_stream_read_generic+0x1317/0x1b70
[  734.584440]  [<ffffffff860b9b30>] ? unix_getname+0x290/0x290
[  734.622486]  [<ffffffff860bb7fb>] unix_stream_splice_read+0x15b/0x1d0
""")
    frames = event.get("frames")
    assert [f.function for f in frames] == ["dump_stack", "debug_check_no_locks_held", "unix_stream_read_generic",
                                            "unix_getname", "unix_stream_splice_read"]
    assert [f.reliable for f in frames] == [True, True, True, False, True]
    assert (frames[2].offset, frames[2].size) == (0x1317, 0x1b70)
    assert event.get("guilty_function") == "unix_stream_read_generic"


def test_kernel_without_frame_pointers_every_frame_unreliable():
    # a Fedora 10 (2.6.27, i686) Xorg oops from a public bug report, syslog prefix removed:
    # every frame is "? ", the guilty function is the EIP's, and frames are still extracted
    event = _report("""\
BUG: unable to handle kernel NULL pointer dereference at 00000000
IP: [<f88dec25>] :radeon:radeon_cp_init_ring_buffer+0x90/0x302
*pde = 6f5c6067
Oops: 0000 [#1] SMP.
Pid: 8003, comm: Xorg Not tainted (2.6.27.9-159.fc10.i686 #1)
EIP: 0060:[<f88dec25>] EFLAGS: 00213246 CPU: 1
EIP is at radeon_cp_init_ring_buffer+0x90/0x302 [radeon]
Call Trace:
[<f88e11c7>] ? radeon_cp_resume+0x7d/0xbc [radeon]
[<f88745f8>] ? drm_ioctl+0x1b0/0x225 [drm]
[<c049b1c0>] ? vfs_ioctl+0x50/0x69
[<c049b460>] ? sys_ioctl+0x40/0x5c
[<c0403c76>] ? syscall_call+0x7/0xb
""")
    frames = event.get("frames")
    assert [f.function for f in frames] == ["radeon_cp_resume", "drm_ioctl", "vfs_ioctl", "sys_ioctl", "syscall_call"]
    assert not any(f.reliable for f in frames) and frames[0].module == "radeon"
    assert event.get("rip").function == "radeon_cp_init_ring_buffer"
    assert event.get("guilty_function") == "radeon_cp_init_ring_buffer"


def test_all_unreliable_frames_give_the_first_that_is_no_plumbing():
    # syzkaller 482 (a hung task on a kernel built without frame pointers), trace cut
    event = _report("""\
[  440.207852][ T1045] INFO: task syz-executor.1:12632 can't die for more than 143 seconds.
[  440.235983][ T1045] Call Trace:
[  440.239833][ T1045]  ? rcu_read_lock_sched_held+0x110/0x130
[  440.245566][ T1045]  ? __alloc_pages_nodemask+0x61b/0x8d0
[  440.257859][ T1045]  ? trace_hardirqs_on_thunk+0x1a/0x1c
[  440.304777][ T1045]  ? kimage_alloc_pages+0x1bc/0x210
[  440.322492][ T1045]  ? kimage_alloc_page+0x2c7/0x9f0
""")
    assert len(event.get("frames")) == 5 and not any(f.reliable for f in event.get("frames"))
    assert event.get("guilty_function") == "kimage_alloc_pages"


def test_arm_frames():
    # syzkaller 676 (ARM, 6.0): "[<pc>] (function) from [<lr>] (caller+off/size)"; PC 0x0 names nothing
    event = _report("""\
[  794.144523][ T8604] Unable to handle kernel NULL pointer dereference at virtual address 00000000
[  794.146728][ T8604] Internal error: Oops: 80000207 [#1] PREEMPT SMP ARM
[  794.149090][ T8604] PC is at 0x0
[  794.172256][ T8604] Backtrace:
[  794.172767][ T8604] [<808ea9f4>] (gsmld_receive_buf) from [<808dcfac>] (tty_ioctl+0x7b4/0xa6c)
[  794.173346][ T8604]  r10:84e00c00 r9:20000000 r8:85048900 r7:808ea9f4 r6:84e00c00 r5:85363540
[  794.173988][ T8604] [<808dc7f8>] (tty_ioctl) from [<804b9814>] (sys_ioctl+0x110/0xa74)
[  794.175125][ T8604] [<804b9704>] (sys_ioctl) from [<80200060>] (ret_fast_syscall+0x0/0x1c)
""")
    assert _functions(event) == ["gsmld_receive_buf", "tty_ioctl", "sys_ioctl"]
    assert event.get("guilty_function") == "gsmld_receive_buf"


def test_symbolized_inline_frames_and_header_helpers():
    # syzkaller guilty test 2 (4.12, symbolized): the RIP lines name inlined functions;
    # free_percpu() is an allocator, so the subject is its caller in kernel/bpf/hashtab.c
    event = _report("""\
general protection fault: 0000 [#1] SMP KASAN
CPU: 2 PID: 10785 Comm: kworker/2:4 Not tainted 4.12.0-rc3+ #370
RIP: 0010:pcpu_addr_to_page mm/percpu-vm.c:358 [inline]
RIP: 0010:pcpu_chunk_addr_search mm/percpu.c:852 [inline]
RIP: 0010:free_percpu+0x189/0x4a0 mm/percpu.c:1264
RSP: 0018:ffff880060b47188 EFLAGS: 00010002
Call Trace:
 htab_free_elems+0x191/0x250 kernel/bpf/hashtab.c:112
 prealloc_destroy+0x17/0x90 kernel/bpf/hashtab.c:191
 htab_map_free+0xe6/0x650 kernel/bpf/hashtab.c:1093
""")
    assert event.get("rip").function == "pcpu_addr_to_page"
    assert event.get("guilty_function") == "htab_free_elems"


def test_a_sanitizer_header_naming_an_inline_header_function_blames_the_caller():
    # syzkaller guilty test 28 (4.15, symbolized; the symbolizer's second header line left out):
    # the access is in a header's inline helper, under the workqueue's debugobjects check
    event = _report("""\
BUG: KASAN: use-after-free in constant_test_bit arch/x86/include/asm/bitops.h:325 [inline]
Read of size 8 at addr ffff8801beca5788 by task syz-executor2/12922

CPU: 0 PID: 12922 Comm: syz-executor2 Not tainted 4.15.0-rc5+ #178
Call Trace:
 __dump_stack lib/dump_stack.c:17 [inline]
 dump_stack+0x194/0x257 lib/dump_stack.c:53
 print_address_description+0x73/0x250 mm/kasan/report.c:252
 kasan_report_error mm/kasan/report.c:351 [inline]
 kasan_report+0x25b/0x340 mm/kasan/report.c:409
 __asan_report_load8_noabort+0x14/0x20 mm/kasan/report.c:430
 constant_test_bit arch/x86/include/asm/bitops.h:325 [inline]
 work_is_static_object+0x39/0x40 kernel/workqueue.c:443
 debug_object_activate+0x36f/0x730 lib/debugobjects.c:470
 debug_work_activate kernel/workqueue.c:492 [inline]
 __queue_work+0x163/0x1230 kernel/workqueue.c:1381
 queue_work_on+0x16a/0x1c0 kernel/workqueue.c:1487
 queue_work include/linux/workqueue.h:488 [inline]
 strp_check_rcv+0x25/0x30 net/strparser/strparser.c:552
 kcm_attach net/kcm/kcmsock.c:1439 [inline]
""")
    assert event.get("guilty_function") == "strp_check_rcv"


# ------------------------------------------------------------------ other headers
def test_slub_object_inside_a_kasan_report_is_no_new_report():
    # syzkaller 1: Linux 4.3-4.9 KASAN printed the object through SLUB's object_err()
    assert reports.line_classes().classify("BUG UNIX (Not tainted): kasan: bad access detected")[0] \
        == "KASAN_SLAB_OBJECT"
    assert _reports("[   72.159680] BUG UNIX (Not tainted): kasan: bad access detected\n") == []
    # SLUB's own slab_bug() header stays one (mm/slub.c)
    event = _report("[  367.131148] BUG kmalloc-8 (Tainted: G    B         ): Object already free\n")
    assert event.kind == "bug" and event.get("slab_cache") == "kmalloc-8"


def test_divide_error_of_linux_5_8():
    # syzkaller 522: exc_divide_error() of 5.8-5.9 printed "divide_error" (arch/x86/kernel/traps.c)
    assert reports.line_classes().classify("divide_error: 0000 [#1] PREEMPT SMP KASAN")[0] == "DIVIDE_ERROR"
    assert reports.line_classes().classify("divide error: 0000 [#1] SMP")[0] == "DIVIDE_ERROR"


def test_arm64_pc_that_names_nothing_takes_the_link_register():
    # syzkaller 604 (arm64, 4.9): a call through 0xdeadbeef; "LR is at" names the caller
    event = _report("""\
[   28.231851] Internal error: Oops - SP/PC alignment exception: 8a000000 [#1] PREEMPT SMP
[   28.231866] Modules linked in:
[   28.231879] CPU: 6 PID: 1942 Comm: syz-executor Not tainted 4.9.232-dirty_audio #1
[   28.231909] PC is at 0xffffffffdeadbeef
[   28.231925] LR is at SyS_darby+0x34/0x48
[   28.231935] pc : [<ffffffffdeadbeef>] lr : [<ffffff90080ed944>] pstate: 60400145
[   28.232433] Call trace:
[   28.232568] [<0000000015c44a38>] 0xffffffffdeadbeef
[   28.232581] [<000000004fa15e98>] el0_svc_naked+0x34/0x38
""")
    assert event.get("rip").function is None and event.get("link_register") == "SyS_darby+0x34/0x48"
    assert event.get("guilty_function") == "SyS_darby"
