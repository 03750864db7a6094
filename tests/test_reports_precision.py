"""What is no kernel report: prose, C code and userspace output that share words with one.

Each text is fed alone and stamped like a console line, so nothing but the words can tell
it from the kernel. Lines are constructed, in the manner of mails, source files, systemd
and Python output.
"""
from __future__ import annotations

import pytest

from triage.model import REPORT_KINDS

from .conftest import parse_text

PROSE = [
    "I think this is a BUG in the driver, see below.",
    "BUG fixes are welcome, please send patches.",
    "BUG #1234 was closed as a duplicate.",
    "general protection fault handling is described in the Intel SDM.",
    "Oops, I forgot to attach the log.",
    "Call Trace: see the attached screenshot",
    "UBSAN: is enabled in this build",
    "kernel BUG at the end of the article",
    "Kernel panic - not syncing would be bad",
    "unreferenced object handling in Python is via gc",
    "divide error in your spreadsheet formula",
    "Internal error: please contact support",
    "Unable to handle kernel module signature",
    "INFO: task completed in 3 seconds.",
    "watchdog: BUG: soft lockup is a kernel message you may see",
]

C_CODE = [
    "    WARN_ON(!list_empty(&dev->list));",
    "    BUG_ON(!page);",
    '    pr_warn("WARNING: %s:%d at %pS, CPU#%d: %s/%d\\n", file, line, caller,',
    '\tpanic("Kernel panic - not syncing: %s", msg);',
    "static void dump_stack_print_info(const char *log_lvl)",
    '+\t\tpr_warn("WARNING: CPU: %d PID: %d at %s:%d %pS\\n",',
]

USERSPACE = [
    "[  OK  ] Started Journal Service.",
    "[FAILED] Failed to start Load Kernel Modules.",
    "Traceback (most recent call last):",
    '  File "/usr/lib/python3/dist-packages/foo.py", line 12, in <module>',
    "    raise ValueError('bad value')",
    "ValueError: bad value",
    "WARNING: the configuration file is deprecated",
    "WARNING: CPU frequency scaling is disabled",
    "WARNING: at least 2 GB of RAM is recommended",
    "2024-05-01 12:00:00 WARNING: disk almost full",
    "app[123]: WARNING: low memory",
    "NMI watchdog: enabled on all CPUs, permanently consumes one hw-PMU counter.",
]


def _kernel_reports(text: str):
    return [e for e in parse_text(text).events if e.kind in REPORT_KINDS]


@pytest.mark.parametrize("line", PROSE + C_CODE + USERSPACE)
def test_no_report_from_words_alone(line):
    for text in (f"{line}\nnext line\n", f"[   12.345678] {line}\n[   12.345679] next line\n"):
        assert _kernel_reports(text) == [], text


def test_a_python_traceback_stays_plain():
    text = """\
Traceback (most recent call last):
  File "/usr/bin/tool", line 8, in <module>
    sys.exit(main())
  File "/usr/lib/python3/site-packages/tool/cli.py", line 42, in main
    raise RuntimeError("WARNING: BUG: Oops")
RuntimeError: WARNING: BUG: Oops
"""
    assert _kernel_reports(text) == []


def test_a_systemd_boot_transcript_stays_plain():
    text = """\
[  OK  ] Reached target Local File Systems.
         Starting Create Volatile Files and Directories...
[  OK  ] Finished Create Volatile Files and Directories.
[FAILED] Failed to start Network Manager Wait Online.
See 'systemctl status NetworkManager-wait-online.service' for details.
WARNING: the network is not ready
"""
    assert _kernel_reports(text) == []


def test_app_warnings_in_a_row_are_no_splat():
    text = "WARNING: low disk space\nWARNING: low disk space\nWARNING: retrying in 5 seconds\n"
    assert _kernel_reports(text) == []


def test_a_hung_task_line_lookalike_without_the_kernel_header_before_it_stays_plain():
    # the torn hung-task header's second half is only looked at after a line the scanner keeps
    text = "db pool status\nworker:5432 blocked for more than 30 seconds.\n"
    assert _kernel_reports(text) == []


def test_kernel_words_in_c_source_stay_plain():
    text = """\
static void __warn_printk_example(void)
{
\tWARN_ON_ONCE(1);
\tpr_err("BUG: unable to handle page fault for address: %px\\n", addr);
\tdump_stack();
}
"""
    assert _kernel_reports(text) == []
