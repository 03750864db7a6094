"""Which function a kernel report is about: its guilty function.

A report's stack walk lists, innermost first, the functions that print the
report, the function that went wrong, and its callers. The guilty function is
the first frame that is neither part of the reporting machinery nor a generic
helper whose misuse is its caller's bug:

1. a lockdep report names the site it objects to: the lone "[<ip>] f" line of a
   bad unlock (print_ip_sym()) or its first lock line ("... at: f+off/size",
   print_lock(), kernel/locking/lockdep.c);
2. a header that names a function (a sanitizer's "in f+off/size", the WARNING's
   "at f+off/size", a stack protector's "corrupted in: f", the work function of
   a workqueue leak) names the subject, unless that function is a helper or a
   static inline of a header file;
3. an oops whose PC is a bare address was a call through a bad pointer: the
   link register names the caller (arm, arm64);
4. otherwise (or past such a helper) the stack walk: everything down to the last
   reporting frame is skipped ("prefer the frame after the sanitizer entry",
   the trap into report_bug(), the timer interrupt that noticed a stall); the
   RIP of an exception frame counts as the innermost frame of the interrupted
   code; the walk keeps to the stack the subject runs on (an oops in <IRQ> is
   not about the task after </IRQ>); helpers, the paths into handlers and
   unreliable ("? ") frames are passed over. A kernel without frame pointers
   prints every frame with "? ": then those are all there is;
5. with nothing left below the plumbing, the named function or the crash site.

The families below are written from what the kernel functions do, each with
the source that shows it; they are no copy of another tool's list.
"""
from __future__ import annotations

import re
from typing import Any

from ..model import normalize_function
from .stack import Step

__all__ = ["after_reporting", "guilty_function", "is_helper", "is_reporter", "principal_walk"]


def _family(*patterns: str) -> str:
    return "|".join(patterns)


#: Frames on the path that prints or raises a report: whatever sits above the last of
#: them in a trace is reporting, and the report is about what lies below.
_REPORTER = re.compile("^(?:" + _family(
    # printing a stack: lib/dump_stack.c, arch/*/kernel/dumpstack.c, stacktrace.c, unwinders
    r"_*dump_stack\w*", r"show_stack\w*", r"show_trace\w*", r"show_regs\w*", r"dump_backtrace\w*",
    r"walk_stackframe", r"arch_stack_walk\w*", r"unwind_\w+", r"__unwind_start", r"stack_trace_\w+",
    r"save_stack\w*", r"print_stack_trace", r"dump_cpu_task", r"sched_show_task", r"v?printk\w*", r"_printk",
    # panic() and the oops path: kernel/panic.c, arch/x86/kernel/dumpstack.c (oops_end, __die)
    r"_*v?panic", r"panic_\w+", r"nmi_panic", r"check_panic_on_warn", r"die\w*", r"__die\w*", r"oops_\w+", r"make_task_dead",
    # WARN()/BUG(): lib/bug.c report_bug(), kernel/panic.c __warn(), the trap that reaches them
    r"__warn\w*", r"warn_slowpath\w*", r"report_bug", r"handle_bug", r"fixup_bug", r"bug_handler",
    r"do_trap\w*", r"do_error_trap", r"do_invalid_op", r"invalid_op", r"handle_invalid_op", r"exc_\w+",
    r"asm_exc_\w+", r"do_int3\w*", r"do_general_protection", r"general_protection", r"do_divide_error",
    r"divide_error", r"die_addr", r"brk_handler", r"call_(?:el1_)?break_hook", r"do_debug_exception",
    r"el1_\w+", r"el1h_64_\w+", r"do_undefinstr", r"__und_svc", r"do_trap_\w+", r"handle_exception",
    # page faults the kernel cannot fix up: arch/x86/mm/fault.c, arch/arm64/mm/fault.c, arch/arm/mm/fault.c
    r"page_fault\w*", r"async_page_fault", r"_*do_page_fault", r"do_user_addr_fault", r"do_kern_addr_fault",
    r"handle_page_fault", r"_*bad_area\w*", r"no_context", r"page_fault_oops", r"kernelmode_fixup_or_oops",
    r"spurious_kernel_fault", r"is_prefetch", r"fixup_exception", r"__do_kernel_fault", r"do_mem_abort",
    r"do_tag_check_fault", r"do_translation_fault", r"do_bad_area", r"do_DataAbort", r"__dabt_svc",
    # the sanitizers' runtimes: mm/kasan/report.c, mm/kmsan, kernel/kcsan, lib/ubsan.c, mm/kfence
    r"_*kasan_\w+", r"_*asan_\w+", r"_*hwasan_\w+", r"print_address_description\w*", r"print_report",
    r"print_error_description", r"start_report", r"end_report", r"describe_object\w*", r"print_track",
    r"check_memory_region\w*", r"_*kmsan_\w+", r"_*msan_\w+", r"_*kcsan_\w+", r"_*tsan_\w+", r"_*ubsan_\w+",
    r"_*kfence_\w+", r"object_err", r"slab_err", r"slab_bug", r"print_trailer", r"check_object",
    r"free_debug_processing", r"__slab_free_debug\w*", r"kmemleak_\w+", r"_*sanitizer_\w+",
    # lockdep's reporting and its own checks: kernel/locking/lockdep.c
    r"print_\w*bug\w*", r"print_\w*lock\w*", r"check_noncircular", r"check_prevs?_add", r"validate_chain",
    r"check_deadlock", r"check_irq_usage", r"check_usage\w*", r"mark_lock\w*", r"mark_usage", r"mark_held_locks",
    r"_*lock_acquire\w*", r"_*lock_release", r"lock_acquired", r"lock_contended", r"lockdep_\w+",
    r"register_lock_class", r"look_up_lock_class", r"reacquire_held_locks", r"debug_check_no_locks_\w+", r"debug_show_\w+",
    r"find_held_lock", r"hlock_class", r"_*lock_is_held\w*", r"trace_hardirqs_\w+", r"lock_downgrade",
    r"debug_lockdep_\w+",
    # might_sleep(), smp_processor_id() and scheduler self-checks: kernel/sched/core.c, lib/smp_processor_id.c
    r"_*might_sleep", r"_*might_resched", r"_*might_fault", r"_*cant_sleep", r"__schedule_bug",
    r"check_preemption_disabled", r"debug_smp_processor_id", r"__this_cpu_preempt_check",
    # debugobjects, refcount, list and usercopy checks that WARN for their caller: lib/debugobjects.c,
    # lib/refcount.c, lib/list_debug.c, mm/usercopy.c, lib/string_helpers.c (fortify), kernel/panic.c
    r"debug_print_object", r"_*debug_check_no_obj_freed", r"_*debug_object_\w+", r"refcount_warn_saturate",
    r"refcount_error_report", r"warn_bogus_irq_restore", r"usercopy_abort", r"usercopy_warn", r"_*check_object_size",
    r"__check_heap_object",
    r"_*fortify_\w+", r"__stack_chk_fail\w*", r"spin_bug", r"spin_dump", r"rwlock_bug",
    # watchdogs and RCU stall detection: kernel/watchdog.c, kernel/hung_task.c, kernel/rcu/tree_stall.h,
    # lib/nmi_backtrace.c
    r"watchdog\w*", r"check_hung_\w+", r"hung_task\w*", r"rcu_dump_cpu_stacks", r"print_cpu_stall\w*",
    r"print_other_cpu_stall\w*", r"check_cpu_stall\w*", r"rcu_check_callbacks", r"rcu_sched_clock_irq",
    r"rcu_pending", r"rcu_check_gp_kthread_\w+", r"rcu_stall_\w+", r"rcu_gp_kthread\w*", r"rcu_gp_fqs\w*",
    r"nmi_cpu_backtrace\w*", r"\w*trigger_\w*backtrace\w*", r"nmi_handle", r"default_do_nmi", r"do_nmi",
    r"end_repeat_nmi", r"do_handle_IPI", r"ipi_handler",
    # crash triggers and fault injection that print a trace on purpose: drivers/tty/sysrq.c, lib/fault-inject.c
    r"fail_dump", r"should_fail\w*", r"_*should_failslab",
    # a file system's or Rust's own assertion/panic helpers (fs/btrfs/messages.c, fs/reiserfs/prints.c)
    r"\w*assertfail", r"assfail", r"_*reiserfs_panic", r"rust_begin_unwind", r"\w*rust_begin_unwind",
    r"rust_helper_BUG",
    r"\w+_BUG", r"panic_bad_stack", r"handle_bad_stack", r"__bad_stack",
    r"handle_(?:overflow|null_ptr_deref|misaligned_access|object_size_mismatch)", r"skb_panic", r"skb_over_panic",
    r"skb_under_panic",
) + r")$")

#: Generic primitives: when one of them is where it went wrong, its caller passed the
#: bad pointer, lock or size (or, for a hung task, is the one waiting).
_HELPER = re.compile("^(?:" + _family(
    # string, memory, formatting and user-copy primitives: lib/string.c, lib/vsprintf.c, lib/usercopy.c,
    # lib/iov_iter.c, arch/*/lib
    r"_*mem(?:cpy|set|move|cmp|chr|scan|chr_inv)\w*", r"string\w*",
    r"_*str(?:n?cpy|n?cat|[ls]cpy|lcat|n?cmp|n?casecmp|n?len|r?chr|nchr|n?str|sep|c?spn|pbrk|to\w+)\w*",
    r"v?s[cn]{0,2}printf",
    r"format_decode", r"pointer", r"va_format", r"widen_string", r"number", r"_*copy_(?:to|from|in|out)_\w+",
    r"_*raw_copy_\w+", r"copy_user_\w+", r"_*copy_(?:mc_)?\w*_user\w*", r"\w*copy_to_iter\w*", r"copyin",
    r"copyout",
    r"copy_page_(?:to|from)_iter\w*", r"_*(?:get|put)_user\w*", r"_*read_once_size\w*", r"_*write_once_size\w*",
    r"instrument_\w+", r"_*(?:mem|str)\w*_chk", r"k?v?asprintf\w*", r"read_word_at_a_time",
    r"load_unaligned_zeropad",
    r"_*read_once\w*", r"_*write_once\w*", r"hex_string", r"\w+_address_string", r"ip[46]\w*_string",
    r"symbol_string", r"resource_string", r"escaped_string", r"uuid_string", r"dentry_name", r"hex_dump_to_buffer",
    r"print_hex_dump\w*", r"_*dev_(?:v?printk\w*|info|err|warn|notice|crit|alert|emerg|dbg)",
    # locks and waiting: kernel/locking/, kernel/sched/{core,completion,wait}.c, kernel/workqueue.c
    r"_raw_\w+", r"do_raw_\w+", r"raw_spin_\w+", r"spin_\w+", r"read_\w*lock\w*", r"write_\w*lock\w*",
    r"\w*queued_\w*lock\w*", r"\w*queued_spin_lock_slowpath", r"pv_wait\w*", r"osq_lock",
    r"_*mutex_\w+", r"_*ww_mutex_\w+", r"_*rt_mutex_\w+", r"rt_mutex\w*", r"_*rwsem_\w+", r"rwsem\w*",
    r"call_rwsem_\w+",
    r"_*down(?:_\w+)?", r"_*up(?:_\w+)?", r"percpu_(?:down|up)_\w+", r"percpu_rwsem_\w+", r"_atomic_dec_and_\w+",
    r"atomic_dec_and_\w+", r"refcount_dec_and_\w*lock\w*", r"_*lock_sock\w*", r"release_sock", r"_*task_rq_lock", r"task_rq_lock",
    r"_*rq_lock\w*", r"raw_spin_rq_\w+", r"local_bh_\w+", r"_*local_bh_enable\w*", r"preempt_count_\w+",
    r"_*rcu_read_\w+", r"rcu_lock_\w+", r"bit_spin_\w+", r"_*wait_on_bit\w*", r"out_of_line_wait_on_\w+",
    r"bit_wait\w*", r"_*schedule\w*", r"preempt_schedule\w*", r"io_schedule\w*", r"_*cond_resched\w*",
    r"context_switch", r"_*switch_to\w*", r"finish_task_switch\w*", r"_*wait_for_common\w*",
    r"do_wait_for_common", r"wait_for_completion\w*", r"_*wait_event\w*", r"prepare_to_wait\w*",
    r"finish_wait", r"complete(?:_all)?", r"console_(?:un|try)?lock",
    r"_*wake_up(?:_common\w*|_locked\w*|_sync\w*|_bit|_var|_process|_q|_state|_all\w*)?",
    r"try_to_wake_up", r"autoremove_wake_function", r"default_wake_function",
    r"msleep\w*", r"usleep_range\w*", r"_*wait_rcu_gp", r"rcu_barrier\w*", r"_*flush_work\w*",
    r"flush_\w*workqueue", r"drain_workqueue",
    r"_*cancel_\w*work\w*", r"wq_barrier_func", r"wait_on_page_\w+", r"_*lock_page\w*", r"unlock_page",
    r"_*folio_lock\w*", r"folio_unlock", r"folio_wait_\w+", r"_*filemap_fdatawait\w*",
    # allocators: mm/slub.c, mm/slab_common.c, mm/page_alloc.c, mm/vmalloc.c, mm/util.c
    r"_*k[mvz]?alloc\w*", r"_*kcalloc\w*", r"_*kmalloc\w*", r"_*krealloc\w*", r"_*kmem_cache_\w+",
    r"kmemdup\w*", r"kstrn?dup\w*", r"v?memdup_user\w*", r"_*kv[mzc]alloc\w*", r"_*v[mz]alloc\w*",
    r"_*alloc_pages\w*", r"alloc_page\w*", r"_*alloc_frozen_pages\w*", r"get_page_from_freelist",
    r"_*get_free_pages", r"get_zeroed_page", r"post_alloc_hook", r"prep_new_page", r"_*slab_alloc\w*",
    r"slab_post_alloc_hook", r"_*set_page_owner", r"pcpu_\w+", r"_*alloc_percpu\w*", r"free_percpu\w*",
    r"kv?free\w*", r"vfree\w*", r"_*vunmap", r"_*free_pages\w*", r"free_large_kmalloc",
    r"_*slab_free\w*", r"do_slab_free", r"warn_alloc\w*", r"mempool_\w+",
    # lists, trees, hashes, bitmaps, atomics: include/linux/list.h, lib/rbtree.c, lib/xarray.c, lib/idr.c,
    # lib/rhashtable.c, lib/klist.c, lib/find_bit.c, lib/crc*.c, include/linux/jhash.h
    r"_*list_\w+", r"_*hlist_\w+",
    r"_*rb_(?:erase|insert|next|prev|first|last|replace|link_node|add|find)\w*", r"klist_\w+", r"_*xas?_\w+",
    r"_*idr_\w+", r"_*ida_\w+",
    r"_*radix_tree_\w+", r"_*rhashtable_\w+", r"rht_\w+", r"jhash\w*", r"crc\w+", r"_*find_\w*bit\w*",
    r"_*bitmap_\w+", r"_*(?:test_and_)?(?:set|clear|change|test)_bit\w*", r"constant_test_bit",
    r"variable_test_bit", r"_*arch_atomic\w*", r"atomic\w*", r"_*cmpxchg\w*", r"__cmpwait\w*",
    # reference counts and object registration that check their callers' arguments: lib/refcount.c,
    # lib/kobject.c, fs/sysfs/, fs/kernfs/, fs/proc/generic.c, lib/ref_tracker.c, lib/percpu-refcount.c
    r"_*refcount_\w+", r"kref_\w+", r"_*percpu_ref_\w+", r"ref_tracker_\w+", r"_*kobject_\w+", r"sysfs_\w+",
    r"internal_create_group", r"proc_register", r"_*proc_create\w*", r"add_uevent_var",
    # inode link counts and dentry references checked by the VFS: fs/inode.c, fs/dcache.c
    r"(?:drop|inc|clear|set)_nlink", r"dput", r"fast_dput", r"__dput\w*",
    # socket buffers: net/core/skbuff.c (skb_put() and friends BUG on their caller's length)
    r"skb_put\w*", r"skb_push\w*", r"skb_pull\w*", r"__skb_pull\w*", r"skb_warn_bad_offload",
    r"_*kfree_skb\w*", r"consume_skb\w*", r"skb_release_\w+",
    # MMIO and port accessors: include/asm-generic/io.h, lib/logic_pio.c
    r"_*raw_(?:read|write)[bwlq]", r"logic_(?:in|out)[bwl]", r"(?:read|write)[bwlq](?:_relaxed)?",
    # the retpoline and return thunks an indirect call or return goes through (arch/x86/lib/retpoline.S),
    # and the function-padding symbols of CONFIG_FUNCTION_PADDING_ALIGNMENT
    r"__x86_indirect_thunk_\w+", r"__x86_return_thunk", r"__pfx_\w+",
    # timers and work items: kernel/time/timer.c, kernel/workqueue.c
    r"del_timer\w*", r"init_timer_key", r"_*init_timer\w*", r"_*try_to_del_timer_sync", r"sk_stop_timer\w*", r"sk_reset_timer", r"destroy_workqueue",
    r"_*mod_timer\w*", r"lock_timer_base", r"add_timer\w*",
    r"_*timer_delete\w*", r"timer_is_static_object", r"hrtimer_(?:try_to_)?cancel", r"try_to_grab_pending",
    r"_*queue_work\w*", r"_*queue_delayed_work\w*", r"mod_delayed_work\w*", r"kthread_(?:stop|park|unpark)\w*",
    # tracepoint probes run inside whatever fired them: include/trace/perf.h, trace_events.h
    r"perf_trace_\w+", r"trace_event_raw_event_\w+", r"__traceiter_\w+", r"__bpf_trace_\w+",
    # the driver core and the USB core's URB calls, which check and touch the objects they are given:
    # drivers/base/core.c, drivers/usb/core/urb.c
    r"device_(?:del|add|register|unregister|destroy|release|release_driver\w*|create_\w+|remove_\w+|for_each_child)",
    r"[gp][eu]t_device", r"get_device_parent", r"devres_release_all", r"dpm_sysfs_\w+", r"i2c_del_adapter",
    r"__unregister_client",
    # netdevice unregistration, which checks the state its caller left the device in: net/core/dev.c
    r"rollback_registered\w*", r"unregister_netdevice\w*", r"unregister_netdev",
    r"usb_(?:kill|poison|unlink|submit|free|get|put)_urb", r"usb_kill_anchored_urbs", r"usb_start_wait_urb",
    r"usb_(?:control|bulk|interrupt)_msg\w*",
    # buffer heads and inode references: fs/buffer.c, fs/inode.c
    r"mark_buffer_dirty\w*", r"_*brelse", r"_*bforget", r"_*getblk\w*", r"_*bread\w*", r"iput",
    r"_*wait_on_buffer", r"_*lock_buffer", r"unlock_buffer",
    # physical address conversions that BUG on a bad address: arch/x86/mm/physaddr.c
    r"__phys_addr\w*", r"__virt_addr_valid",
    # SRCU and the tty line discipline semaphore: kernel/rcu/srcutree.c, drivers/tty/tty_ldsem.c
    r"cleanup_srcu_struct", r"_*srcu_read_\w+", r"ldsem_\w+",
    # queueing an RCU callback on the caller's rcu_head: kernel/rcu/tree.c, srcutree.c
    r"_*call_rcu\w*", r"call_srcu", r"kvfree_call_rcu", r"kfree_rcu\w*",
    # debugobjects' callbacks into the object's own type: lib/debugobjects.c
    r"\w+_is_static_object", r"\w+_fixup_\w+", r"debug_(?:work|timer|hrtimer|rcu_head|object)_\w+",
    # the idle loop: kernel/sched/idle.c
    r"cpu_startup_entry", r"do_idle", r"_*cpuidle_\w+", r"cpu_idle\w*", r"default_idle\w*", r"arch_cpu_idle\w*",
    r"start_secondary", r"secondary_startup\w*", r"call_cpuidle", r"start_cpu",
) + r")$")

#: How interrupts, softirqs, timers, work items and system calls reach their handlers: passed
#: over in a walk, yet the subject where the crash site itself is one of them (a freed work item
#: or timer crashes process_one_work() or __run_timers()).
_TRANSIT = re.compile("^(?:" + _family(
    r"_*irq_exit\w*", r"exiting_irq", r"irqentry_exit\w*",
    # the timer interrupt (kernel/time/, arch/x86/kernel/apic/apic.c): a stall's reporter runs from it
    r"update_process_times", r"tick_sched_\w+", r"tick_nohz_handler", r"tick_handle_periodic", r"tick_periodic",
    r"_*hrtimer_run_queues", r"_*hrtimer_interrupt", r"__run_hrtimer\w*", r"local_apic_timer_interrupt",
    r"\w*apic_timer_interrupt\w*", r"_*sysvec_\w+", r"asm_call_\w+", r"call_on_\w*stack", r"run_on_irqstack\w*",
    # softirqs, timers, work items, kernel threads and system calls: kernel/softirq.c, kernel/time/timer.c,
    # kernel/workqueue.c, kernel/kthread.c, arch/*/entry
    r"_*do_softirq\w*", r"invoke_softirq", r"run_ksoftirqd", r"smpboot_thread_fn",
    r"call_timer_fn", r"expire_timers", r"_*run_timers?\w*", r"tasklet_action\w*", r"process_one_work",
    r"process_scheduled_works", r"worker_thread", r"kthread", r"ret_from_fork\w*", r"do_syscall_\w+",
    r"_*do_fast_syscall_32", r"do_int80_syscall_32", r"entry_\w+", r"x64_sys_call", r"invoke_syscall",
    r"el0_svc\w*", r"do_el0_svc", r"el0t_\w+", r"ret_fast_syscall", r"_*switch_to_asm",
    # interrupt entry and dispatch, sysrq dispatch: kernel/irq/, drivers/irqchip/, drivers/tty/sysrq.c
    r"irq_work_\w+", r"_*handle_irq\w*", r"retint_\w+", r"ret_from_intr", r"common_interrupt",
    r"_*handle_sysrq\w*", r"arch_timer_handler_\w+",
    r"handle_percpu_devid_irq", r"generic_handle_\w+", r"_*handle_domain_irq", r"gic_handle_irq", r"__irq_svc",
    r"__irq_usr", r"_*handle_irq_event\w*",
) + r")$")

#: a leak's subject is who keeps the object, not the chain of allocation wrappers below it
_ALLOCATION = re.compile(r"alloc|kmemdup|kstrdup|memdup|^create_object$|filemap_get_folio|^pagecache_get_page$")
#: lockdep's headers (kernel/locking/lockdep.c): the first lock line names the subject
_LOCKDEP = re.compile(r"circular locking|recursive locking|lock inversion|lock order|inconsistent lock state|"
                      r"unlock balance|held lock|locks held|lock held|[Nn]ested lock|possible deadlock")
#: lockdep's hooks into every lock operation: a sanitizer report in them is about the lock passed in
_LOCK_HOOK = re.compile(r"^(?:_*lock_acquire\w*|_*lock_release|_*lock_is_held\w*|lock_acquired|lock_contended|"
                        r"(?:debug_)?lockdep_\w+|mark_lock\w*|validate_chain|check_prevs?_add|hlock_class|"
                        r"find_held_lock|register_lock_class|look_up_lock_class)$")
_STACK_CORRUPTED = re.compile(r"corrupted in: (?![0-9a-f]+\b)([A-Za-z_][\w.$]*)")
_HEADER_NAMED = re.compile(r" in ([A-Za-z_][\w.$]*)(?:\+0x[0-9a-f]+/0x[0-9a-f]+(?: ([\w/.+-]+\.[chS]):\d+)?"
                           r"| ([\w/.+-]+\.[chS]):\d+)")
#: a symbolized location in a header file: an inline helper, called by the subject
_HEADER_FILE = re.compile(r"\.h(?::\d+)?$")


def is_reporter(name: str) -> bool:
    """Part of the machinery that prints the report."""
    return _REPORTER.match(name) is not None


def is_helper(name: str) -> bool:
    """A generic primitive, part of the reporting or a way into a handler: passed over in a walk."""
    return _HELPER.match(name) is not None or _REPORTER.match(name) is not None or _TRANSIT.match(name) is not None


def _named(kind: str, fields: dict[str, Any], header_class: str | None, header: str) -> tuple[str | None, bool]:
    """The function the header itself names, if any, and whether its source is a header file."""
    if header_class == "WARNING":
        name = fields.get("warn_function")
        # "at include/linux/seqlock.h:271 __seqprop_assert": a static inline WARNs for its caller
        return (None if not name or name.startswith("0x") else name), bool(_HEADER_FILE.search(fields.get("warn_where") or ""))
    if header_class == "PANIC":
        found = _STACK_CORRUPTED.search(fields.get("panic_message") or "")
        return (found.group(1) if found else None), False
    if "workqueue leaked lock" in header and fields.get("workqueue"):
        # process_one_work() names the work function that returned holding a lock (kernel/workqueue.c)
        return fields["workqueue"].split()[-1], False
    if kind in ("bug", "warning"):  # "BUG: KASAN: use-after-free in remove_wait_queue+0xfb/0x120"
        found = _HEADER_NAMED.search(header)
        if found:
            source = found.group(2) or found.group(3) or ""
            return found.group(1), bool(_HEADER_FILE.search(source))
    return None, False


def _inlined_helper(step: Step) -> bool:
    """Symbolized into a header file: a static inline the subject called."""
    return bool(step.source and _HEADER_FILE.search(step.source))


def _lockdep(fields: dict[str, Any], header_class: str | None, header: str, steps: list[Step]) -> str | None:
    """The site a lockdep report names: its first lock line, or the lone "[<ip>] f+off/size" line
    print_ip_sym() prints for a bad unlock ("... is trying to release lock (x) at:")."""
    if header_class not in ("SELF_CHECK", "LOCKDEP_INFO", "BUG", "WARNING") or not _LOCKDEP.search(header):
        return None
    if header_class == "WARNING" and "warn_what" not in fields:
        return None  # a WARN_ON() splat, not lockdep's own header
    first = steps[0] if steps else None
    if first is not None and not first.rip and first.function and not is_helper(first.function) \
            and sum(1 for s in steps if s.trace == first.trace) == 1:
        return first.function
    name = normalize_function(fields["lock_function"]) if fields.get("lock_function") else None
    # process_one_work() "acquires" a work item's pseudo-lock: no subject, the walk finds one
    return name if name and not is_helper(name) else None


def guilty_function(kind: str, fields: dict[str, Any], steps: list[Step], header_class: str | None = None,
                    header: str = "") -> str | None:
    """The first function that is the report's subject, not its plumbing."""
    site = _lockdep(fields, header_class, header, steps)
    if site and "lock order" not in header:
        return site
    # print_bad_irq_dependency() ("X-safe -> X-unsafe lock order detected") lists the locks of
    # both dependencies; where the new one is made is its stack backtrace: the walk, then the site
    named, inlined = _named(kind, fields, header_class, header)
    if named:
        named = normalize_function(named)
        if inlined:
            pass  # "in ip6_dst_store include/net/ip6_fib.h:176 [inline]": its caller is the subject
        elif header_class != "WARNING" and kind in ("bug", "warning"):
            # a sanitizer names the access: the subject unless a primitive made it for its caller
            # (an unwinder or printk that reads out of bounds is itself the culprit)
            if not _HELPER.match(named) and not _LOCK_HOOK.match(named):
                return named
        elif not is_helper(named) or _TRANSIT.match(named):
            return named
    if kind == "call_trace" and not steps:
        return None
    rip = fields.get("rip")
    if kind == "oops" and rip is not None and not rip.function and fields.get("link_register"):
        # "pc : 0xffff00008340a200" names nothing: the call came from the link register's function
        caller = normalize_function(fields["link_register"].split("+", 1)[0])
        if not is_helper(caller):
            return caller
    # a leak, or a page found bad when it was allocated: the allocation's user, not its wrappers
    leak = header_class == "KMEMLEAK" or "memory leak" in header or "Bad page state" in header
    walk = principal_walk(steps)
    start = after_reporting(walk, kind)
    if named:  # past the helper the header named: "BUG: KASAN: ... in memcmp+0xe3/0x160" (its first
        # frame: a later one is the helper called again further out, not the access)
        unwound = any(s.frame.reliable for s in walk)
        at = next((i for i, step in enumerate(walk)
                   if step.function == named and (step.frame.reliable or not unwound)), None)
        if at is not None and at >= start:
            start = at + 1
    walk = _one_stack(walk[start:])
    for reliable_only in (True, False):
        for step in walk:
            name = step.function
            if not name or (reliable_only and not step.frame.reliable):
                continue
            if step.rip and _TRANSIT.match(name):
                return name  # the crash site is the dispatcher itself
            if is_helper(name) or _inlined_helper(step) or (leak and _ALLOCATION.search(name)):
                continue
            return name
        if any(s.frame.reliable for s in walk):
            break  # "? " frames are noise next to reliable ones; they are all a kernel without frame pointers has
    if kind == "oops":  # a call through a bad pointer ("RIP: 0010:0x286"): the dispatcher that made it
        dispatcher = next((s.function for s in walk if s.function and s.frame.reliable
                           and _TRANSIT.match(s.function)), None)
        if dispatcher:
            return dispatcher
    # nothing below the plumbing: the function the report names, or where it crashed, is all there is
    crash_site = next((step.function for step in steps
                       if step.rip and step.function and not is_reporter(step.function)), None)
    return named or site or crash_site


def principal_walk(steps: list[Step]) -> list[Step]:
    """The steps of the principal trace and the RIP lines printed just before it."""
    principal = [s for s in steps if s.principal]
    return principal or steps


def _one_stack(walk: list[Step]) -> list[Step]:
    """The walk up to where it leaves the stack the subject runs on: an oops in an interrupt is
    about the interrupt's frames, not about the task it interrupted (after </IRQ>). A RIP printed
    before the trace's first marker belongs to the stack that follows it."""
    section = next((s.section for s in walk if not s.rip and s.function), None)
    if section is None:
        return walk
    out = []
    for step in walk:
        if step.section > section:
            break
        out.append(step)
    return out


def after_reporting(walk: list[Step], kind: str) -> int:
    """Index after the last reporting frame above the first frame that could be the subject.

    For a lockup the timer interrupt that ran the detector is part of the reporting too."""
    cut = 0
    unwound = any(s.frame.reliable for s in walk)
    for index, step in enumerate(walk):
        name = step.function
        if not name or (unwound and not step.frame.reliable):
            continue  # a "? " frame is stack garbage: it neither reports nor ends the reporting
        if is_reporter(name) or (kind == "lockup" and not step.rip and _TRANSIT.match(name)):
            cut = index + 1
        elif (step.frame.reliable or not unwound) and not _HELPER.match(name) and not _inlined_helper(step) \
                and not (_TRANSIT.match(name) and not step.rip):
            break
    return cut
