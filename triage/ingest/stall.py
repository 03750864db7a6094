"""What a stall is about: the unit of work the stalled CPU was doing.

An RCU stall, a soft lockup or a hard lockup is noticed from the timer interrupt or an
NMI while the CPU loops; where the trace shows it is a random point of the loop, one of
several functions from one report to the next. What stays the same is the work the loop
runs for: the system call, file or socket operation, work item, timer, softirq, page
fault or kernel thread. The stall's subject is the function just inside the first place
that dispatched such work (the innermost dispatcher found walking outwards), past the
generic helpers; syzkaller names stalls the same way (pkg/report/linux.go,
linuxStallFrameExtractor), and its titles are this project's yardstick.

A stack that overflowed is the same question: the frame it died in is one of a deep recursion;
the work that recursed is the subject.

Boot-time init code runs no such unit (init/main.c: kernel_init() -> do_initcalls()):
a stall there keeps the looping function as its subject, as does a stall whose trace
reaches no dispatcher. The looping function is kept either way (field ``stalled_in``).
"""
from __future__ import annotations

import re

from .guilty import after_reporting, is_helper, principal_walk
from .stack import Step

__all__ = ["STALL_CLASSES", "runaway_field", "stall_subject"]

#: the report headers of stalls (grammars/report.lark)
STALL_CLASSES = frozenset({"RCU_STALL", "SOFT_LOCKUP", "HARD_LOCKUP"})
#: a stack that ran over its end (kernel/sched/core.c schedule_debug(): "corrupted stack end detected inside
#: scheduler"; arch/x86/kernel/traps.c handle_stack_overflow(): "stack guard page was hit", "kernel stack
#: overflow"): where the trace shows it is one frame of a deep recursion, the same question as a stall's
_OVERFLOW = ("corrupted stack end", "stack guard page was hit", "kernel stack overflow")


def runaway_field(header_class: str | None, header: str) -> str | None:
    """The field that keeps where a stall looped or a stack overflowed; None for other reports."""
    if header_class in STALL_CLASSES:
        return "stalled_in"
    if any(words in header for words in _OVERFLOW):
        return "overflowed_in"
    return None

#: places that dispatch a unit of work; a name containing one of these is such a place
_DISPATCH = re.compile("|".join((
    # system call entry: arch/x86/entry/common.c, arch/arm64/kernel/syscall.c
    r"do_syscall_", r"do_fast_syscall_", r"do_int80_syscall", r"sysenter_dispatch", r"tracesys",
    r"^invoke_syscall$", r"^x64_sys_call$", r"^el0_svc_common",
    # work items, softirqs, timers, kernel threads: kernel/workqueue.c, kernel/softirq.c,
    # kernel/time/timer.c, kernel/kthread.c, kernel/smpboot.c
    r"^process_one_work$", r"do_softirq", r"^call_timer_fn", r"_run_timers", r"^run_timer_softirq",
    r"^run_ksoftirqd", r"^smpboot_thread_fn", r"^kthread$", r"^ret_from_fork", r"^start_secondary",
    r"^cpu_startup_entry",
    # packet receive: net/core/dev.c
    r"netif_receive_skb",
    # file operations, reached from read/write/ioctl/mmap/open: fs/read_write.c, fs/ioctl.c, mm/mmap.c,
    # fs/open.c, block/ioctl.c
    r"vfs_read", r"vfs_write", r"vfs_iter_read", r"vfs_iter_write", r"do_iter_read", r"do_iter_write",
    r"vfs_ioctl", r"ksys_ioctl", r"compat_ioctl", r"compat_sys_ioctl", r"blkdev_ioctl",
    r"blkdev_driver_ioctl", r"^call_read_iter", r"^call_write_iter", r"do_iter_readv_writev", r"^call_mmap",
    r"mmap_region", r"do_mmap", r"do_dentry_open", r"vfs_open",
    # socket operations and netlink dispatch: net/socket.c, net/core/sock.c, net/netfilter/nfnetlink.c,
    # net/core/rtnetlink.c
    r"^sock_sendmsg", r"^sock_recvmsg", r"^sock_release", r"^__sock_release", r"__sys_setsockopt",
    r"kernel_setsockopt", r"sock_common_setsockopt", r"__sys_listen", r"kernel_listen", r"sk_common_release",
    r"^sock_mmap", r"__sys_accept", r"kernel_accept", r"^sock_do_ioctl", r"^sock_ioctl", r"^compat_sock_ioctl",
    r"^nfnetlink_rcv_msg", r"^rtnetlink_rcv_msg",
    r"^(?:compat_)?(?:SYSC|SyS|__sys|___sys|__do_sys|__se_sys|__x64_sys|__ia32_sys|__arm64_sys)_(?:socketpair|connect|ioctl)",
    # page faults: mm/memory.c, arch/x86/mm/fault.c
    r"__do_fault", r"handle_mm_fault", r"do_page_fault", r"^page_fault$",
    # work run on the way back to user mode: fs/file_table.c, kernel/task_work.c, kernel/entry/common.c
    r"__fput", r"task_work_run", r"exit_to_usermode", r"exit_to_user_mode",
    # a cross-CPU function call waited for: kernel/smp.c (the wait is the subject itself)
    r"smp_call_function",
)))
#: boot-time init: no unit of work (init/main.c, arch/x86/kernel/head64.c)
_INIT = re.compile(r"^(?:kernel_init|kernel_init_freeable|do_one_initcall|do_initcalls|do_basic_setup|start_kernel|"
                   r"rest_init|x86_64_start_\w+|arch_call_rest_init)$")


def stall_subject(steps: list[Step], kind: str) -> str | None:
    """The function just inside the innermost dispatcher of a stall's stack; None where there is none."""
    walk = principal_walk(steps)
    walk = walk[after_reporting(walk, kind):]
    unwound = any(s.frame.reliable for s in walk)
    inside = None
    for step in walk:
        name = step.function
        if not name or (unwound and not step.frame.reliable):
            continue
        if _INIT.match(name):
            return None
        if _DISPATCH.search(name):
            return name if "smp_call_function" in name else inside
        if not is_helper(name):
            inside = name
    return None
