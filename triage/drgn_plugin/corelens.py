"""The same checks as a corelens module, for drgn-tools users (``corelens VMCORE -M snp_triage``).

drgn-tools' corelens runs :class:`CorelensModule` subclasses (``drgn_tools/corelens.py``: a
``name``, a ``run(prog, args)`` printing to stdout, ``add_args(parser)``,
``skip_unless_have_kmods``/``debuginfo_kmods`` for the kernel modules whose debug info it needs,
``default_args`` for its report mode). Corelens finds subclasses that have been imported; the
drgn plugin (:mod:`triage.drgn_plugin`) imports this module whenever drgn-tools is installed.
Without drgn-tools importing this module raises ImportError, which the plugin ignores.
"""
from __future__ import annotations

import argparse
from typing import Any

from drgn_tools.corelens import CorelensModule  # ImportError without drgn-tools

from .commands import facts_of, format_amd_iommu, format_snp_state

__all__ = ["SnpTriage"]


class SnpTriage(CorelensModule):
    """AMD IOMMU and SEV-SNP state of the crashed kernel, and snp-triage's diagnosis of its log"""

    name = "snp_triage"
    debuginfo_kmods = ["ccp"]  # the PSP/SEV part: skipped (said in the output) without it
    default_args = [["--facts"]]  # the report mode prints the facts; -M snp_triage --diagnose for all
    live_ok = True

    def add_args(self, parser: argparse.ArgumentParser) -> None:
        """--facts (default in reports): IOMMU and SNP facts; --diagnose: the full report."""
        parser.add_argument("--facts", action="store_true", help="the IOMMU and SNP facts (default)")
        parser.add_argument("--diagnose", action="store_true", help="also the rule-based diagnosis of the log")
        parser.add_argument("--format", choices=("rich", "json", "markdown"), default="markdown")

    def run(self, prog: Any, args: argparse.Namespace) -> None:
        """Print the facts (and the diagnosis with --diagnose)."""
        from ..report import analyze_program, render_report

        facts = facts_of(prog)
        print(format_snp_state(facts))
        print()
        print(format_amd_iommu(facts))
        if args.diagnose:
            print()
            render_report(analyze_program(prog, label="corelens"), args.format)
