"""One preflight run: read the host, run the checks, give the overall answer.

    >>> from triage.preflight import run_preflight
    >>> report = run_preflight("/")             # or a sosreport / copied tree
    >>> report.overall.text
    'not applicable: GenuineIntel CPU ...'

The overall answer takes the most severe check, in the order the checks are
listed: "will fail: <signature> because <fact>", then "at risk: ...", then
"unknown: collect <...>"; with every check ok, "kdump will work".  A host
whose CPU is not AMD gets "not applicable" and nothing else is read.
"""
from __future__ import annotations

from collections.abc import Iterable, Sequence

from ..rulepack import Rule, load_rules
from .checks import UNCONFIRMED, run_checks
from .dmesg import LogFacts, read_log
from .hostfacts import collect_host
from .kdump import CrashKernel, find_crash_kernel
from .model import Check, Fact, Overall, PreflightReport
from .reader import RootReader
from .state import Inputs, snp_state

__all__ = ["run_preflight", "overall_answer"]


def run_preflight(root: str = "/", *, dmesg: Sequence[str] = (), rule_dirs: Iterable[str] = (),
                  rules: Sequence[Rule] | None = None) -> PreflightReport:
    """Read ``root`` (read-only), check it, answer.  InputError when ``root`` cannot be read."""
    reader = RootReader(root)
    host = collect_host(reader)
    crash, log = CrashKernel(), LogFacts()
    rule_list: list[Rule] = []
    if host.amd is not False:
        rule_list = list(rules) if rules is not None else load_rules(rule_dirs)
        crash = find_crash_kernel(reader, host)
        log = read_log(reader, list(dmesg), rule_list)
        if host.vendor is None and "cpu_vendor" in log.platform:
            host.log_vendor, host.log_vendor_line = log.platform["cpu_vendor"]
    inputs = Inputs(host=host, crash=crash, log=log, rules={r.id: r for r in rule_list},
                    snp=snp_state(host, log))
    checks = run_checks(inputs)
    facts = host.facts + crash.facts + log.facts
    if host.amd is not False:
        facts.append(Fact("snp.state", inputs.snp.state, "; ".join(inputs.snp.on or inputs.snp.off) or "-"))
    unconfirmed = [UNCONFIRMED[c.id] for c in checks if c.id in UNCONFIRMED and c.verdict != "not applicable"]
    return PreflightReport(root=root, facts=facts, sources=reader.sources(), checks=checks,
                           overall=overall_answer(checks, host.vendor), unconfirmed=unconfirmed)


def overall_answer(checks: list[Check], vendor: str | None = None) -> Overall:
    first = checks[0] if checks else None
    if first is not None and first.id == "amd-host" and first.verdict == "not applicable":
        return Overall("not applicable", f"not applicable: {first.reason}")
    for verdict, answer in (("fails", "will fail"), ("risk", "at risk")):
        hit = next((c for c in checks if c.verdict == verdict), None)
        if hit is not None:
            more = sum(1 for c in checks if c.verdict in ("fails", "risk")) - 1
            tail = f" (and {more} more check{'s' if more > 1 else ''} at risk or failing)" if more > 0 else ""
            return Overall(answer, f"{answer}: {hit.signature} because {hit.because or hit.reason}{tail}",  # type: ignore[arg-type]
                           signature=hit.signature)
    unknown = [c for c in checks if c.verdict == "unknown"]
    if unknown:
        collect = list(dict.fromkeys(c.collect or c.reason for c in unknown))
        return Overall("unknown", "unknown: collect " + "; ".join(collect), collect=collect)
    return Overall("kdump will work", "kdump will work")
