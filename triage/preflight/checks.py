"""The checks, one function each: the facts in, a verdict (ok / risk / fails / unknown / not applicable) out.

Each names the failure it predicts by its rule id in ``rules/`` (or
``KDUMP-NOT-LOADED``, which needs no rule) and takes the fix commits and
their releases from the rules' ``fixed_by`` and the fixes table
(``rules/fixes.yaml`` through :func:`triage.rulepack.releases.fix_verdict`,
whose explanation names the branch rule it used).  Where a check rests on a
fact the kernel reference marks unconfirmed, :data:`UNCONFIRMED` says so.
"""
from __future__ import annotations

from ..model import SEVERITY_RANK, SEVERITIES
from ..rulepack.releases import fix_verdict, parse_release
from .hostfacts import cmdline_options
from .model import Check
from .state import Inputs, fix_text

__all__ = ["CHECKS", "UNCONFIRMED", "KDUMP_NOT_LOADED", "SNP_FW_MIN_SAFE", "run_checks"]

#: preflight's own name for "no crash kernel loaded" (no rule: there is no kdump kernel log to match)
KDUMP_NOT_LOADED = "KDUMP-NOT-LOADED"
#: SNP firmware from which the IOMMU pages come back right after SNP_SHUTDOWN_EX
#: (rules/SNP-FW-RECLAIM-KEXEC-RMP-PF.yaml matches api_minor <= 52; drivers/crypto/ccp/sev-dev.c comment)
SNP_FW_MIN_SAFE = (1, 53)
#: kdump command-line options that switch the IOMMU or interrupt remapping off or to passthrough
#: (rules/SNP-KDUMP-WORKAROUND-NOTES.yaml)
IOMMU_OPTIONS = {("amd_iommu", "off"), ("iommu", "off"), ("intremap", "off"), ("iommu", "pt")}
_CWB, _PARTIAL, _DOMAIN = "SNP-KDUMP-CWB-TIMEOUT", "SNP-KDUMP-PARTIAL-BACKPORT", "IOMMU-KDUMP-DOMAIN-ID-CLASH"
_SHUTDOWN, _FW, _NOTES = "SNP-PANIC-SHUTDOWN-FAILED", "SNP-FW-RECLAIM-KEXEC-RMP-PF", "SNP-KDUMP-WORKAROUND-NOTES"
_COLLECT_LOG = ("this boot's kernel log: --dmesg FILE with 'journalctl -k -b' or 'dmesg' output "
                "(a sosreport carries sos_commands/kernel/dmesg)")
_COLLECT_KDUMP = ("the kdump configuration (/etc/sysconfig/kdump or /etc/default/kdump-tools) and "
                  "'kdumpctl status' / 'kdump-config show'")

#: what the kernel reference (sections 6 and 7) marks unconfirmed, per check that rests on it
UNCONFIRMED = {
    "snp-state": "The sev_snp CPU flag shows from 6.9 (c3b86e61b756) on hosts where SNP is usable; older or "
                 "vendor kernels may not show it (release inferred).",
    "crash-kernel-fixes": "Which stable and vendor branches carry all four commits of the 6.18 series is known "
                          "only for 6.17.y (from 6.17.8); whether a partial backport still times out on an SNP "
                          "host is not confirmed; 8c571019d8a8's skip was reported overwritten in 6.18 by the "
                          "459daec42ea0 merge (2025-10-29).",
    "crash-kernel-domain-ids": "That a kdump kernel without c2e8dc1222c2 faults on reused domain ids is inferred "
                               "from the fix's description; its first mainline release is not recorded.",
    "crash-cmdline": "The effect of amd_iommu=off, intremap=off or iommu=pt in the kdump kernel of an "
                     "SNP-locked IOMMU is not found in any source; the kdump command line is derived from the "
                     "configuration as the tools build it, unless a recorded kexec command was found.",
    "panic-shutdown": "An SNP guest running at panic makes SNP_SHUTDOWN_EX need DF_FLUSH, which fails with "
                      "WBINVD_REQUIRED (founding mail, 2024-09-09); guests hidden from this reader (hidepid, "
                      "other namespaces) are not seen.",
}


def _check(cid: str, title: str, verdict: str, reason: str, **kw) -> Check:
    return Check(id=cid, title=title, verdict=verdict, reason=reason, **kw)  # type: ignore[arg-type]


def _snp_gate(inp: Inputs, cid: str, title: str) -> Check | None:
    """The verdict of an SNP-only check when SNP is not (known to be) on, else None."""
    if inp.snp.state == "off":
        return _check(cid, title, "not applicable", "SNP is off: the IOMMU is never left locked at panic")
    if inp.snp.state == "unknown":
        return _check(cid, title, "unknown", "whether SNP is on is not known", collect=_COLLECT_LOG)
    return None


def amd_host(inp: Inputs) -> Check:
    title = "AMD host"
    host = inp.host
    if host.vendor is None and host.log_vendor is not None:
        where = f"/proc/cpuinfo not read; the log shows an {host.log_vendor} platform ({host.log_vendor_line})"
        if host.log_vendor != "AMD":
            return _check("amd-host", title, "not applicable", f"{where}: SEV-SNP and the AMD IOMMU are AMD EPYC "
                          "features", sources=[host.log_vendor_line])
        return _check("amd-host", title, "ok", where, sources=[host.log_vendor_line])
    if host.vendor is None:
        return _check("amd-host", title, "unknown", "/proc/cpuinfo could not be read",
                      collect="/proc/cpuinfo", sources=["/proc/cpuinfo"])
    if not host.amd:
        return _check("amd-host", title, "not applicable",
                      f"{host.vendor} CPU ({host.model_name or 'model unknown'}): SEV-SNP and the AMD IOMMU are "
                      f"AMD EPYC features", sources=["/proc/cpuinfo"])
    family = f"family {host.family:#x}" if host.family is not None else "family unknown"
    return _check("amd-host", title, "ok", f"AuthenticAMD, {family} ({host.model_name or 'model unknown'})",
                  sources=["/proc/cpuinfo"])


def snp_enabled(inp: Inputs) -> Check:
    title = "SNP enabled in the IOMMU and the PSP"
    snp, log, host = inp.snp, inp.log, inp.host
    sources = ["/proc/cpuinfo", "/sys/module/kvm_amd/parameters/sev_snp"] + ([log.source] if log.source else [])
    efr = {True: "; the IOMMU's EFR has SNP support (bit 63)", False: "; the IOMMU's EFR lacks SNP support",
           None: ""}[log.efr_snp]
    first = host.cmdline and [f"{n}={v}" for n, v in cmdline_options(host.cmdline)
                              if (n, v) in IOMMU_OPTIONS]
    cmd = f"; the running kernel's command line has {', '.join(first)}" if first else ""
    if snp.state == "on":
        return _check("snp-enabled", title, "ok", "SNP is on: " + "; ".join(snp.on) + efr + cmd
                      + ". The SNP checks below apply.", sources=sources)
    if snp.state == "off":
        return _check("snp-enabled", title, "ok", "SNP is off: " + "; ".join(snp.off) + efr + cmd
                      + ". The SNP-specific checks do not apply.", sources=sources)
    return _check("snp-enabled", title, "unknown",
                  "nothing read says whether SNP is on (no SEV-SNP/AMD-Vi lines, no kvm_amd parameters)" + efr,
                  collect=_COLLECT_LOG, sources=sources)


def crash_loaded(inp: Inputs) -> Check:
    title = "crash kernel loaded"
    host, crash = inp.host, inp.crash
    sources = ["/sys/kernel/kexec_crash_loaded", "/sys/kernel/kexec_crash_size", "/proc/cmdline"]
    if host.crash_loaded:
        size = f" ({host.crash_size // (1 << 20)} MiB reserved)" if host.crash_size else ""
        return _check("crash-kernel-loaded", title, "ok", f"a crash kernel is loaded{size}", sources=sources)
    if host.crash_loaded is None:
        return _check("crash-kernel-loaded", title, "unknown", "/sys/kernel/kexec_crash_loaded could not be read",
                      collect="/sys/kernel/kexec_crash_loaded and kexec_crash_size", sources=sources)
    why = ["no crash kernel is loaded (kexec_crash_loaded is 0)"]
    reserved = host.cmdline is not None and any(n == "crashkernel" for n, _ in cmdline_options(host.cmdline))
    if host.crash_size == 0:
        why.append("no memory is reserved for one (kexec_crash_size is 0"
                   + (")" if reserved else ", no crashkernel= on the command line)"))
    if crash.enabled is False:
        why.append("USE_KDUMP=0 in /etc/default/kdump-tools")
    return _check("crash-kernel-loaded", title, "fails", "; ".join(why), signature=KDUMP_NOT_LOADED,
                  fix="boot with a crashkernel= reservation, enable the kdump service (kdumpctl / kdump-config "
                      "load) and check that /sys/kernel/kexec_crash_loaded reads 1",
                  sources=sources)


def _crash_release(inp: Inputs) -> tuple[str | None, str | None]:
    """(release, banner) of the crash kernel; the running kernel's banner when it is the same release
    (a distribution banner names the upstream base the fixes table needs: "Debian 6.12.117-1")."""
    crash, host = inp.crash, inp.host
    banner = crash.banner or (host.banner if crash.release == host.release else None)
    return crash.release, banner


def crash_fixes(inp: Inputs) -> Check:
    title = "crash kernel carries the SNP kdump series"
    cid = "crash-kernel-fixes"
    gate = _snp_gate(inp, cid, title)
    if gate is not None:
        return gate
    release, banner = _crash_release(inp)
    sources = [s for s in (inp.crash.release_from, inp.crash.image) if s]
    rule = inp.rules[_CWB]
    if release is None:
        return _check(cid, title, "unknown", "the kernel kdump boots could not be identified",
                      collect=_COLLECT_KDUMP, sources=sources)
    verdict = fix_verdict(release, rule.fixed_by, banner=banner)
    assumed = " (assumed: no kdump configuration was found)" if inp.crash.assumed else ""
    base = dict(fix_verdict=verdict.to_dict(), sources=sources)
    if verdict.status == "fixed":
        return _check(cid, title, "ok", f"crash kernel {release}{assumed}: {verdict.explanation}", **base)
    fix = (f"boot a crash kernel with {fix_text(rule.fixed_by)}, or backport the whole series (and "
           f"c2e8dc1222c2) into this one")
    if verdict.status == "unknown":
        return _check(cid, title, "risk", f"crash kernel {release}{assumed}: not shown to carry the series: "
                      f"{verdict.explanation}", fix=fix, signature=_CWB,
                      because=f"crash kernel {release} is not shown to carry the SNP kdump series "
                              f"(no backport record for its branch)", **base)
    partial_rule = inp.rules[_PARTIAL]
    gap = {f.commit for f in partial_rule.fixed_by}
    carried = [c for c, status, _ in verdict.per_fix if status == "fixed" and not any(c.startswith(g) for g in gap)]
    if carried:
        return _check(cid, title, "risk", f"crash kernel {release}{assumed} carries only part of the series "
                      f"({', '.join(carried)}): {verdict.explanation}", fix=fix, signature=_PARTIAL,
                      because=f"crash kernel {release} carries only {', '.join(carried)} of the SNP kdump series",
                      **base)
    doomed = _shutdown_fails(inp)
    if doomed:
        return _check(cid, title, "fails", f"crash kernel {release}{assumed} lacks the series and {doomed}: "
                      f"{verdict.explanation}", fix=fix, signature=_CWB,
                      because=f"crash kernel {release} lacks the SNP kdump series and {doomed}", **base)
    return _check(cid, title, "risk", f"crash kernel {release}{assumed} lacks the series: kdump works only if "
                  f"SNP_SHUTDOWN_EX succeeds at panic (no SNP guest running, the PSP idle): "
                  f"{verdict.explanation}", fix=fix, signature=_CWB,
                  because=f"crash kernel {release} lacks the SNP kdump series", **base)


def _shutdown_fails(inp: Inputs) -> str:
    """Why SNP_SHUTDOWN_EX will not complete at panic, or ''.

    drivers/crypto/ccp/sev-dev.c: snp_shutdown_on_panic() runs from the panic notifier chain, which
    kernel/panic.c calls before __crash_kexec() only with crash_kexec_post_notifiers; a PSP declared
    dead (psp_dead, "sev command %#x timed out, disabling PSP") takes no command; with SNP guests,
    __sev_snp_shutdown_locked() gets DFFLUSH_REQUIRED and its DF_FLUSH retry fails (founding mail).
    """
    host, log = inp.host, inp.log
    if log.psp_dead:
        return "the PSP is dead this boot (a 'sev command ... timed out, disabling PSP' line), so no PSP command runs"
    if host.post_notifiers is False:
        return ("crash_kexec_post_notifiers is off, so the SNP panic notifier (SNP_SHUTDOWN_EX) only runs after "
                "the kexec, i.e. never")
    if host.guests:
        return (f"SNP guests are running ({', '.join(host.guests)}): SNP_SHUTDOWN_EX at panic then needs "
                f"DF_FLUSH, which fails (WBINVD_REQUIRED)")
    return ""


def crash_domain_ids(inp: Inputs) -> Check:
    title = "crash kernel keeps domain ids of the reused device table (c2e8dc1222c2)"
    cid = "crash-kernel-domain-ids"
    if not inp.host.amd:
        return _check(cid, title, "not applicable", "not an AMD IOMMU host")
    release, banner = _crash_release(inp)
    if release is None:
        return _check(cid, title, "unknown", "the kernel kdump boots could not be identified",
                      collect=_COLLECT_KDUMP)
    rule = inp.rules[_DOMAIN]
    verdict = fix_verdict(release, rule.fixed_by, banner=banner)
    base = dict(fix_verdict=verdict.to_dict(), sources=[s for s in (inp.crash.release_from,) if s])
    if verdict.status == "fixed":
        return _check(cid, title, "ok", f"crash kernel {release}: {verdict.explanation}", **base)
    if verdict.status == "unknown":
        return _check(cid, title, "unknown", f"crash kernel {release}: {verdict.explanation}",
                      collect=f"the changelog of {release}: does it carry {fix_text(rule.fixed_by)}?", **base)
    return _check(cid, title, "risk", f"crash kernel {release} reuses the old device table without "
                  f"c2e8dc1222c2: {verdict.explanation}", signature=_DOMAIN,
                  because=f"crash kernel {release} reuses the old device table without c2e8dc1222c2",
                  fix=f"a crash kernel with {fix_text(rule.fixed_by)}; keep reset_devices on its command line",
                  **base)


def panic_shutdown(inp: Inputs) -> Check:
    title = "SNP shut down at panic (crash_kexec_post_notifiers, SNP guests, PSP)"
    cid = "panic-shutdown"
    host = inp.host
    sources = ["/sys/module/kernel/parameters/crash_kexec_post_notifiers"] + host.guest_sources
    gate = _snp_gate(inp, cid, title)
    if gate is not None:
        return gate
    fixed = inp.crash.release is not None and fix_verdict(
        _crash_release(inp)[0], inp.rules[_CWB].fixed_by, banner=_crash_release(inp)[1]).status == "fixed"
    doomed = _shutdown_fails(inp)
    if doomed:
        if fixed:
            return _check(cid, title, "ok", f"{doomed}; the crash kernel carries the 6.18 series and takes over "
                          "the locked IOMMU", sources=sources)
        return _check(cid, title, "risk", doomed[0].upper() + doomed[1:], signature=_SHUTDOWN, sources=sources,
                      fix="a crash kernel with the SNP kdump series (see crash-kernel-fixes); until then stop "
                          "SNP guests before planned crash tests")
    if host.post_notifiers is None:
        return _check(cid, title, "unknown", "crash_kexec_post_notifiers could not be read", sources=sources,
                      collect="/sys/module/kernel/parameters/crash_kexec_post_notifiers")
    if host.guests is None and not fixed:
        return _check(cid, title, "unknown", "no process table or libvirt state was readable, so running SNP "
                      "guests cannot be seen", sources=sources,
                      collect="the process list ('ps auxwww') or /run/libvirt/qemu/*.xml")
    return _check(cid, title, "ok", "crash_kexec_post_notifiers is on and no SNP guest is running"
                  if not host.guests else "crash_kexec_post_notifiers is on", sources=sources)


def crash_cmdline(inp: Inputs) -> Check:
    title = "crash kernel command line (amd_iommu=, intremap=, iommu=, reset_devices)"
    cid = "crash-cmdline"
    crash = inp.crash
    if not inp.host.amd:
        return _check(cid, title, "not applicable", "not an AMD IOMMU host")
    if crash.cmdline is None:
        return _check(cid, title, "unknown", "the crash kernel's command line could not be derived",
                      collect=_COLLECT_KDUMP)
    sources = [crash.cmdline_from or ""]
    found = [f"{n}={v}" for n, v in cmdline_options(crash.cmdline) if (n, v) in IOMMU_OPTIONS]
    if found and inp.snp.active:
        return _check(cid, title, "risk", f"the crash kernel boots with {' '.join(found)}: not validated on an "
                      f"SNP host, where the IOMMU is probably left enabled with the crashed kernel's locked "
                      f"tables (inferred: kernel reference, SNP-KDUMP-WORKAROUND-NOTES)",
                      signature=_NOTES, fix=f"drop {' '.join(found)} and use a crash kernel with the SNP kdump "
                      "series instead", sources=sources)
    if found and inp.snp.state == "unknown":
        return _check(cid, title, "unknown", f"the crash kernel boots with {' '.join(found)}, which matters only "
                      "if SNP is on, and whether it is is not known", collect=_COLLECT_LOG, sources=sources)
    if not any(n == "reset_devices" for n, _ in cmdline_options(crash.cmdline)):
        return _check(cid, title, "risk", "the crash kernel's command line lacks reset_devices: devices keep "
                      "DMA running into the reused or copied IOMMU tables", signature="IOMMU-EVENT-STORM",
                      fix="add reset_devices to KDUMP_COMMANDLINE_APPEND / KDUMP_CMDLINE_APPEND", sources=sources)
    note = f" ({' '.join(found)}: SNP is off, so the IOMMU can be turned off in a kdump kernel)" if found else ""
    return _check(cid, title, "ok", f"reset_devices set, no IOMMU option that matters for SNP{note}",
                  sources=sources)


def snp_firmware(inp: Inputs) -> Check:
    title = "SNP firmware version"
    cid = "snp-firmware"
    gate = _snp_gate(inp, cid, title)
    if gate is not None:
        return gate
    api = inp.log.snp_api
    if api is None:
        return _check(cid, title, "unknown", "no 'SEV-SNP API:' line in the log read", collect=_COLLECT_LOG)
    text = "%d.%d build %d" % api
    if api[:2] < SNP_FW_MIN_SAFE:
        rule = inp.rules[_FW]
        return _check(cid, title, "risk", f"SNP firmware {text} is older than 1.53: after SNP_SHUTDOWN_EX it "
                      "leaves the IOMMU pages in a state that faults (RMP violation) in the next kernel",
                      signature=_FW, because=f"the SNP firmware is {text}, older than 1.53",
                      fix=f"SNP firmware 1.53 or later (BIOS update), and a kernel with "
                      f"{fix_text(rule.fixed_by)}", sources=[inp.log.source or ""])
    return _check(cid, title, "ok", f"SNP firmware {text}", sources=[inp.log.source or ""])


def boot_log(inp: Inputs) -> Check:
    title = "this boot's log: known failure signatures"
    cid = "boot-log"
    log = inp.log
    if log.source is None:
        return _check(cid, title, "unknown", "no kernel log could be read", collect=_COLLECT_LOG)
    worst, named = 99, []
    for finding in log.findings:
        rank = SEVERITY_RANK.get(finding.severity, len(SEVERITIES) - 1)
        if finding.confidence == "possible":
            rank = min(rank + 1, len(SEVERITIES) - 1)
        line = finding.lines[0] if finding.lines else None
        named.append(f"{finding.rule_id} ({SEVERITIES[rank]}" + (f", line {line})" if line else ")"))
        if "generic" not in finding.tags:
            worst = min(worst, rank)
    if worst <= SEVERITY_RANK["critical"]:
        first = next(f for f in log.findings if "generic" not in f.tags)
        return _check(cid, title, "fails", f"{log.source} already shows {', '.join(named)}: {first.title}",
                      signature=first.rule_id, fix=first.remedy.strip(), sources=[log.source],
                      because=f"{log.source} already shows it: {first.title}")
    if worst <= SEVERITY_RANK["error"]:
        first = next(f for f in log.findings if "generic" not in f.tags)
        return _check(cid, title, "risk", f"{log.source} shows {', '.join(named)}: {first.title}",
                      signature=first.rule_id, fix=first.remedy.strip(), sources=[log.source],
                      because=f"{log.source} shows it: {first.title}")
    extra = f" (only {', '.join(named)})" if named else ""
    return _check(cid, title, "ok", f"no SNP/IOMMU failure signature in {log.source}{extra}", sources=[log.source])


#: the checks in the order they are shown (and the overall answer picks the first decisive one)
CHECKS = (amd_host, snp_enabled, crash_loaded, boot_log, crash_fixes, panic_shutdown, crash_domain_ids,
          crash_cmdline, snp_firmware)


def run_checks(inp: Inputs) -> list[Check]:
    if inp.host.amd is False:  # nothing else applies: the answer is "not applicable"
        return [amd_host(inp)]
    return [check(inp) for check in CHECKS]
