"""Before the crash: will this SEV-SNP host's kdump work? (``snp-triage preflight``)

A stage above :mod:`triage.report`: it reads a live host or a collected
tree read-only, diagnoses its boot log with the engine and the shipped rule
packs, takes fix releases from the fixes table, and answers per check
(ok / risk / fails / unknown / not applicable) and overall.

``reader``     the host's files under a root, every look-up recorded; /dev/kmsg; bzImage versions
``hostfacts``  /proc and /sys facts, SNP guests
``kdump``      the crash kernel kdump will boot: release and command line from the distribution's set-up
``dmesg``      this boot's log through the ingest pipeline and the rule packs
``state``      SNP on/off, fix-table wording
``checks``     one function per check
``run``        the run and the overall answer
``render``     rich, Markdown and JSON output
``model``      the report's dataclasses and verdict words

Depends on :mod:`triage.report`, :mod:`triage.engine`, :mod:`triage.rulepack`,
:mod:`triage.ingest` and :mod:`triage.model`; only :mod:`triage.cli` imports it.
"""
from .model import CHECK_VERDICTS, FAIL_ON, Check, Overall, PreflightReport
from .run import run_preflight

__all__ = ["run_preflight", "PreflightReport", "Check", "Overall", "CHECK_VERDICTS", "FAIL_ON"]
