"""Which frames of a stack walk are plumbing rather than a report's subject: the families.

Three families, written from what the kernel functions do, each with the source that shows it
(no copy of another tool's list):

* reporters: the path that prints or raises a report (dump_stack(), panic(), __warn(), the
  sanitizers' runtimes, lockdep, the watchdogs); whatever sits above the last of them is reporting;
* helpers: generic primitives whose misuse is their caller's bug (string and memory functions,
  locks, allocators, lists, reference counts, the driver core ...);
* transit: how interrupts, softirqs, timers, work items and system calls reach their handlers.

:mod:`.guilty` decides with them; :mod:`.stall` too.
"""
from __future__ import annotations

import re

__all__ = ["ALLOCATION", "HELPER", "REPORTER", "TRANSIT", "is_helper", "is_reporter"]


def _family(*patterns: str) -> str:
    return "|".join(patterns)


#: Frames on the path that prints or raises a report: whatever sits above the last of
#: them in a trace is reporting, and the report is about what lies below.
REPORTER = re.compile("^(?:" + _family(
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
    # Rust's core::panicking (v0-mangled "_RN...4core9panicking..."): panic_fmt() and the overflow
    # panics raised for the caller's arithmetic (library/core/src/panicking.rs)
    r"_RN\w*4core9panicking\w*",
    r"\w+_BUG", r"panic_bad_stack", r"handle_bad_stack", r"__bad_stack",
    r"handle_(?:overflow|null_ptr_deref|misaligned_access|object_size_mismatch)", r"skb_panic", r"skb_over_panic",
    r"skb_under_panic",
) + r")$")

#: Generic primitives: when one of them is where it went wrong, its caller passed the
#: bad pointer, lock or size (or, for a hung task, is the one waiting).
HELPER = re.compile("^(?:" + _family(
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
TRANSIT = re.compile("^(?:" + _family(
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
ALLOCATION = re.compile(r"alloc|kmemdup|kstrdup|memdup|^create_object$|filemap_get_folio|^pagecache_get_page$")


def is_reporter(name: str) -> bool:
    """Part of the machinery that prints the report."""
    return REPORTER.match(name) is not None


def is_helper(name: str) -> bool:
    """A generic primitive, part of the reporting or a way into a handler: passed over in a walk."""
    return HELPER.match(name) is not None or REPORTER.match(name) is not None or TRANSIT.match(name) is not None
