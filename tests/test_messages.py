"""Known one-line messages: every rule of the message grammars, with its fields.

Lines are the printk formats of the kernel sources named in grammars/*.lark
rendered as they appear in real logs (several are quoted verbatim from real
captures).
"""
from __future__ import annotations

import pytest

from triage.ingest import messages

from .conftest import parse_text

EXAMPLES = [
    # (grammar, line, message id, expected fields subset)
    ("amd_vi", "AMD-Vi: Translation is already enabled - trying to copy translation structures", "translation_pre_enabled_copy", {}),
    ("amd_vi", "AMD-Vi: Translation is already enabled - trying to reuse translation structures", "translation_pre_enabled_reuse", {}),
    ("amd_vi", "AMD-Vi: Translation was enabled for IOMMU:3 but we are not in kdump mode", "translation_enabled_not_kdump", {"iommu_index": 3}),
    ("amd_vi", "AMD-Vi: Copied DEV table from previous kernel.", "dev_table_copied", {}),
    ("amd_vi", "AMD-Vi: Failed to copy DEV table from previous kernel.", "dev_table_copy_failed", {}),
    ("amd_vi", "AMD-Vi: Reused DEV table from previous kernel.", "dev_table_reused", {}),
    ("amd_vi", "AMD-Vi: Failed to reuse DEV table from previous kernel.", "dev_table_reuse_failed", {}),
    ("amd_vi", "AMD-Vi: Failed to remap memory for reusing old device table!", "dev_table_remap_failed", {}),
    ("amd_vi", "AMD-Vi: The device table size of IOMMU:2 is not expected!", "dev_table_size_unexpected", {"iommu_index": 2}),
    ("amd_vi", "AMD-Vi: The address of old device table is above 4G, not trustworthy!", "dev_table_above_4g", {}),
    ("amd_vi", "AMD-Vi: Failed to allocate memory for copying old device table!", "dev_table_alloc_failed", {}),
    ("amd_vi", "AMD-Vi: Re-using CWB buffers from the previous kernel", "reuse_cwb", {}),
    ("amd_vi", "AMD-Vi: Re-using command buffer from the previous kernel", "reuse_cmd_buf", {}),
    ("amd_vi", "AMD-Vi: Re-using event buffer from the previous kernel", "reuse_evt_buf", {}),
    ("amd_vi", "AMD-Vi: Completion-Wait loop timed out", "completion_wait_timeout", {}),
    ("amd_vi", "AMD-Vi: IOMMU 0000:00:00.2: Completion-Wait loop timed out", "completion_wait_timeout", {"bdf": "0000:00:00.2"}),
    ("amd_vi", "AMD-Vi: Command buffer timeout", "command_buffer_timeout", {}),
    ("amd_vi", "AMD-Vi: CMD Buffer head=16 tail=512", "cmd_buffer_dump", {"head": 16, "tail": 512}),
    ("amd_vi", "AMD-Vi: IOMMU event log overflow", "event_log_overflow", {}),
    ("amd_vi", "AMD-Vi: IOMMU Event log restarting", "log_restarting", {"log": "Event"}),
    ("amd_vi", "AMD-Vi: No event written to event log", "no_event_written", {}),
    ("amd_vi", "iommu ivhd0: AMD-Vi: Event logged [IOTLB_INV_TIMEOUT device=06:00.0 address=0x100210750]", "event_logged", {}),
    ("amd_vi", "AMD-Vi: Using global IVHD EFR:0x841f77e022094ace, EFR2:0x0", "global_efr", {"efr": 0x841F77E022094ACE, "efr2": 0}),
    ("amd_vi", "AMD-Vi: Extended features (0x25bf732fa2295afe, 0x1d): PPR X2APIC NX GT [5] IA GA PC GA_vAPIC", "extended_features", {"efr2": 0x1D}),
    ("amd_vi", "AMD-Vi: Extended features (0xf77ef22294ada): PPR NX GT IA GA PC GA_vAPIC", "extended_features", {"efr": 0xF77EF22294ADA}),
    ("amd_vi", "pci 0000:00:00.2: AMD-Vi: Found IOMMU cap 0x40", "found_iommu", {"cap": 0x40}),
    ("amd_vi", "AMD-Vi: Found IOMMU at 0000:00:00.2 cap 0x40", "found_iommu_at", {"bdf": "0000:00:00.2"}),
    ("amd_vi", "pci 0000:00:00.2: AMD-Vi: IOMMU performance counters supported", "perf_counters", {}),
    ("amd_vi", "AMD-Vi: Interrupt remapping enabled", "ir_enabled", {}),
    ("amd_vi", "AMD-Vi: X2APIC enabled", "x2apic_enabled", {}),
    ("amd_vi", "AMD-Vi: Virtual APIC enabled", "vapic_enabled", {}),
    ("amd_vi", "AMD-Vi: Force to disable Virtual APIC due to SNP", "vapic_disabled_snp", {}),
    ("amd_vi", "AMD-Vi: V2 page table enabled (Paging mode : 4 level)", "v2_pgtable", {"paging_level": 4}),
    ("amd_vi", "AMD-Vi: Disabling interrupt remapping", "disabling_ir", {}),
    ("amd_vi", "AMD-Vi: [Firmware Bug]: : IOAPIC[33] not in IVRS table", "ioapic_not_in_ivrs", {"ioapic": 33}),
    ("amd_vi", "AMD-Vi: [Firmware Bug]: : No southbridge IOAPIC found", "no_southbridge_ioapic", {}),
    ("amd_vi", "AMD-Vi: IVRS table error: bad checksum", "ivrs_error", {}),
    ("amd_vi", "AMD-Vi: [Firmware Bug]: IVRS invalid checksum", "ivrs_checksum", {}),
    ("amd_vi", "AMD-Vi: Unknown option - 'on'", "unknown_option", {"option": "on"}),
    ("amd_vi", "AMD-Vi: Using strict mode due to virtualization", "strict_mode_virtualization", {}),
    ("amd_vi", "AMD-Vi: AMD IOMMUv2 loaded and initialized", "iommuv2_loaded", {}),
    ("amd_vi", "AMD-Vi: ivrs, add hid:AMDI0020, uid:\\_SB.FUR0, rdevid:160", "ivrs_add_hid", {"hid": "AMDI0020", "rdevid": 160}),
    ("amd_vi", "AMD-Vi: IOMMU1: Failed to initialize IOMMU Hardware (error=-22)!", "init_failed", {"iommu_index": 1, "error_code": -22}),
    ("amd_vi", "AMD-Vi: [Firmware Bug]: Found inconsistent EFR/EFR2 0x1,0x0 (global 0x3,0x0) on iommu1 (0000:40:00.2).", "efr_inconsistent", {}),
    ("amd_vi", "AMD-Vi: [Firmware Bug]: EFR mismatch. Use IVHD EFR (0x1 : 0x2), EFR2 (0x0 : 0x0).", "efr_mismatch", {}),
    ("amd_vi", "AMD-Vi: AMD-Vi: device: 0000:00:02.0 cap: 0040 flags: d1 info 0000", "ivrs_dump", {}),
    ("amd_vi", "AMD-Vi: SNP enabled", "snp_enabled", {}),
    ("amd_vi", "AMD-Vi: IOMMU SNP support enabled.", "snp_enabled", {}),
    ("amd_vi", "AMD-Vi: SNP: IOMMU disabled or configured in passthrough mode, SNP cannot be supported.", "snp_not_supported", {}),
    ("amd_vi", "AMD-Vi: SNP: IOMMU is disabled or configured in passthrough mode, SNP cannot be supported", "snp_not_supported", {}),
    ("amd_vi", "AMD-Vi: SEV-SNP: IOMMU is either disabled or configured in passthrough mode.", "snp_not_supported", {}),
    ("amd_vi", "AMD-Vi: SNP: Too late to enable SNP for IOMMU.", "snp_too_late", {}),
    ("amd_vi", "AMD-Vi: Force to using AMD IOMMU v1 page table due to SNP", "snp_force_v1", {}),
    ("amd_vi", "AMD-Vi: IOMMU PFN 100805 not assigned in RMP table", "iommu_pfn_rmp", {}),
    ("amd_vi", "AMD-Vi: PSMASH failed for IOMMU PFN 100800 huge RMP entry, ret: 3, level: 2", "psmash_failed", {}),
    ("amd_vi", "AMD-Vi: Applying erratum: Increase Event log size to 0x8000", "erratum_log_size", {"size": 0x8000}),
    ("sev", "ccp 0000:22:00.1: sev enabled", "sev_enabled", {}),
    ("sev", "ccp 0000:03:00.5: psp enabled", "psp_enabled", {}),
    ("sev", "ccp 0000:22:00.1: sev initialization failed", "sev_init_failed", {}),
    ("sev", "ccp 0000:03:00.5: SEV: memory encryption not enabled by BIOS", "sev_not_enabled_by_bios", {}),
    ("sev", "ccp 0000:47:00.1: SEV firmware updated from 1.55.21 to 1.55.31", "fw_updated", {"from_version": "1.55.21"}),
    ("sev", "ccp 0000:47:00.1: SEV-SNP API:1.55 build:31", "api_version", {"api_major": 1, "api_minor": 55, "build": 31}),
    ("sev", "ccp 0000:47:00.1: SEV: failed to INIT error 0x1, rc -5", "sev_init_error", {"error": 1, "rc": -5}),
    ("sev", "ccp 0000:47:00.1: SEV: INIT_EX failed 0x1, rc -5", "sev_init_error", {"rc": -5}),
    ("sev", "ccp 0000:47:00.1: SEV-SNP: failed to INIT rc -110, error 0x0", "snp_init_failed", {"rc": -110, "error": 0}),
    ("sev", "ccp 0000:47:00.1: SEV-SNP: SNP_INIT_EX failed rc -110, error 0x0", "snp_init_failed", {"rc": -110}),
    ("sev", "ccp 0000:23:00.1: SEV-SNP DF_FLUSH failed", "snp_df_flush_failed", {}),
    ("sev", "ccp 0000:23:00.1: SEV-SNP DF_FLUSH failed, ret = -5, error = 0xe", "snp_df_flush_failed", {"rc": -5, "error": 0xE}),
    ("sev", "ccp 0000:23:00.1: SEV-SNP DF_FLUSH failed with error 14", "snp_df_flush_failed", {"error": 14}),
    ("sev", "ccp 0000:23:00.1: SEV-SNP: SNP_DF_FLUSH failed rc -5, error 0xe", "snp_df_flush_failed", {"error": 0xE}),
    ("sev", "ccp 0000:23:00.1: SEV: DF_FLUSH failed 0x1, rc -5", "sev_df_flush_failed", {}),
    ("sev", "ccp 0000:47:00.1: SEV-SNP firmware shutdown failed, rc -16, error 0x0", "snp_shutdown_failed", {"rc": -16, "error": 0}),
    ("sev", "ccp 0000:47:00.1: SEV-SNP firmware shutdown failed", "snp_shutdown_failed", {}),
    ("sev", "ccp 0000:47:00.1: SNP IOMMU shutdown failed", "snp_iommu_shutdown_failed", {}),
    ("sev", "ccp 0000:47:00.1: SEV: failed to SHUTDOWN error 0x1, rc -5", "sev_shutdown_failed", {}),
    ("sev", "ccp 0000:23:00.1: sev command 0x86 timed out, disabling PSP", "psp_cmd_timeout", {"command": 0x86}),
    ("sev", "ccp 0000:23:00.1: SEV: too many firmware commands in progress, no command buffers available.", "psp_no_cmd_buffers", {}),
    ("sev", "ccp 0000:23:00.1: SEV: TMR allocation failed, SEV-ES support unavailable", "tmr_alloc_failed", {}),
    ("sev", "kvm_amd: SEV-SNP enabled (ASIDs 1 - 254)", "kvm_snp_enabled", {"asid_first": 1, "asid_last": 254}),
    ("sev", "kvm_amd: SEV enabled (ASIDs 255 - 1006)", "kvm_sev_enabled", {"asid_first": 255}),
    ("sev", "SEV-SNP: RMP table physical range [0x0000000088900000 - 0x00000000a8efffff]", "rmp_table_range", {"start": 0x88900000, "end": 0xA8EFFFFF}),
    ("sev", "SEV-SNP: Segmented RMP using 128GB segments", "rmp_segmented", {"segment_gb": 128}),
    ("sev", "SEV-SNP: Reserving start/end of RMP table on a 2MB boundary [0x0000000088900000]", "rmp_2mb_reserve", {"address": 0x88900000}),
    ("sev", "SEV-SNP: Memory for the RMP table has not been reserved by BIOS", "rmp_config_error", {}),
    ("sev", "SEV-SNP: PFN 0x100805, RMP entry: [0x6000000000000001 - 0x0000000000000000]", "rmp_entry",
     {"pfn": 0x100805, "rmp_lo": 0x6000000000000001, "rmp_hi": 0}),
    ("sev", "SEV-SNP: PFN 0x100805 unassigned, dumping non-zero entries in 2M PFN region: [0x100800 - 0x100a00]",
     "rmp_entry", {"pfn": 0x100805, "start": 0x100800}),
    ("sev", "SEV-SNP: RMPUPDATE failed for PFN 100805, pg_level: 1, ret: 3", "rmpupdate_failed", {}),
    ("sev", "SEV-SNP: Leaking PFN range 0x100800-0x100a00", "snp_leaking_pages", {"start": 0x100800}),
    ("kernel", "Linux version 6.1.0-56-amd64 (debian-kernel@lists.debian.org) (gcc-12) #1 SMP", "banner", {"release": "6.1.0-56-amd64"}),
    ("kernel", "Command line: console=ttyS0 elfcorehdr=2080116K", "command_line", {}),
    ("kernel", "crashkernel reserved: 0x0000000055000000 - 0x0000000075000000 (512 MB)", "crashkernel_reserved", {}),
    ("kernel", "Reserving 256MB of memory at 1776MB for crashkernel (System RAM: 2047MB)", "crashkernel_reserved", {"size_mb": 256}),
    ("kernel", "DMI: QEMU Standard PC (Q35 + ICH9, 2009), BIOS 1.16.2-debian-1.16.2-1 04/01/2014", "hardware", {}),
    ("kernel", "..TIMER: vector=0x30 apic1=0 pin1=2 apic2=-1 pin2=-1", "timer_check", {"vector": 0x30, "apic2": -1}),
    ("kernel", "..MP-BIOS bug: 8254 timer not connected to IO-APIC", "mp_bios_timer_bug", {}),
    ("kernel", "** 93 printk messages dropped **", "printk_dropped", {"count": 93}),
    ("kernel", "Kernel Offset: 0x35a00000 from 0xffffffff81000000 (relocation range: 0xffffffff80000000-0xffffffffbfffffff)", "kernel_offset", {}),
    ("kernel", "Rebooting in 86400 seconds..", "rebooting", {"seconds": 86400}),
    ("kernel", "reboot: Power down", "power_down", {}),
    ("kernel", "reboot: Restarting system", "reboot", {}),
    ("kernel", "sysrq: Trigger a crash", "sysrq_crash", {}),
    ("kernel", "Decompressing Linux... Parsing ELF... done.", "decompressor", {}),
    ("kernel", "Starting crashdump kernel...", "crash_kexec", {}),
    ("amd_vi", "[Firmware Bug]: AMD-Vi: IOAPIC[4] not in IVRS table", "ioapic_not_in_ivrs", {}),
    ("amd_vi", "[Firmware Bug]: AMD-Vi: No southbridge IOAPIC found", "no_southbridge_ioapic", {}),  # real 155
    ("amd_vi", "perf/amd_iommu: Detected AMD IOMMU #0 (2 banks, 4 counters/bank).", "perf_iommu_detected", {"iommu_index": 0}),
    ("sev", "kvm_amd: SEV-ES supported: 99 ASIDs", "kvm_sev_supported", {"asid_count": 99}),
    ("sev", "PSP driver not init", "psp_not_init", {}),
    ("kernel", "amd_iommu_report_page_fault: 96 callbacks suppressed", "callbacks_suppressed",
     {"function": "amd_iommu_report_page_fault", "count": 96}),
    ("kernel", "Interrupts enabled after amd_iommu_resume+0x0/0x40", "irqs_enabled_after_resume", {}),
    # what a boot ran on (real lines: tests/corpus/real/149, 292, 230, 298)
    ("kernel", "smpboot: CPU0: AMD EPYC 7601 32-Core Processor (family: 0x17, model: 0x1, stepping: 0x2)",
     "cpu_identity", {"cpu_name": "AMD EPYC 7601 32-Core Processor", "cpu_family": 0x17}),
    ("kernel", "smpboot: CPU0: Intel(R) Core(TM) Ultra 5 125H (family: 0x6, model: 0xaa, stepping: 0x4)",
     "cpu_identity", {"cpu_name": "Intel(R) Core(TM) Ultra 5 125H", "cpu_family": 6}),
    ("kernel", "smpboot: CPU0: Intel(R) Core(TM) Ultra 7", "cpu_identity", {"cpu_name": "Intel(R) Core(TM) Ultra 7"}),
    ("kernel", "Booting Linux on physical CPU 0x0000000000 [0x610f0000]", "arm_boot_cpu", {}),
    ("kernel", "Hypervisor detected: KVM", "hypervisor_detected", {"hypervisor": "KVM"}),
    # the kdump tools' outcome (real lines: tests/corpus/real/248, 232, samples/qemu-amd-iommu-kdump-6.1.log)
    ("kdump", "saving vmcore complete", "dump_saved", {}),
    ("kdump", "The dumpfile is saved to /mnt/out/vmcore.kdump.tmp.", "dump_saved", {"dump_path": "/mnt/out/vmcore.kdump.tmp"}),
    ("kdump", "kdump.sh[297]: kdump: saving vmcore failed, _exitcode:1", "dump_failed", {}),
    ("kdump", "kdump.sh[297]: kdump: saving vmcore-dmesg.txt failed", "dmesg_failed", {}),
    ("kdump", "kdump: saving vmcore-dmesg.txt complete", "dmesg_saved", {}),
    ("platform", "[drm ERROR :psp_hw_init] PSP firmware loading failed", "gpu_psp_error", {}),
    ("platform", "hpsa 0000:02:00.0: DMAR: 32bit DMA uses non-identity mapping", "dmar_message", {}),
    # other platforms' messages, from the real captures in tests/corpus/real/ (108, 109, 116-122, 131, 140-145)
    ("platform", "DMAR: DRHD: handling fault status reg 3", "dmar_fault", {}),
    ("platform", "DMAR: [DMA Read NO_PASID] Request device [0b:00.0] fault addr 0xe4f4b000 [fault reason 0x06] PTE Read access is not set",
     "dmar_fault_record", {"dmar_request": "DMA Read NO_PASID", "source_id": "0b:00.0"}),
    ("platform", "DMAR-IR: [Firmware Bug]: ioapic 0 has no mapping iommu, interrupt remapping will be disabled", "dmar_ir_message", {}),
    ("platform", "DMAR: 32bit DMA uses non-identity mapping", "dmar_message", {}),
    ("platform", "arm-smmu arm-smmu.1.auto: Unhandled context fault: fsr=0x80000402, iova=0x1032ae000, fsynr=0x70043, cb=2",
     "smmu_context_fault", {}),
    ("platform", "arm-smmu d00000.iommu: FSR    = 00000402 [Format=2 TF], SID=0x0", "smmu_message", {}),
    ("platform", "amdgpu 0000:03:00.0: amdgpu: PSP resume failed", "gpu_psp_error", {}),
    ("platform", "[drm:psp_hw_start [amdgpu]] *ERROR* PSP create ring failed!", "gpu_psp_error", {}),
    ("platform", "[drm:amdgpu_job_timedout [amdgpu]] *ERROR* ring gfx timeout, signaled seq=26025, emitted seq=26027", "gpu_error", {}),
    ("platform", "ccp 0000:c3:00.2: tee enabled", "psp_client", {}),
    ("platform", "amd-pmf AMDI0105:00: TEE enact cmd failed. err: ffff000e, ret:0", "pmf_tee_error", {}),
    ("platform", "Failed to open TA session (-12)", "amdtee_error", {}),
    ("platform", "(XEN) AMD-Vi: Error initialization", "xen_message", {}),
    ("platform", "kvm: no hardware support", "kvm_no_hardware_support", {}),
    ("platform", "Direct firmware load for amdgpu/psp_13_0_8_toc.bin failed with error -2", "firmware_load_failed",
     {"firmware": "amdgpu/psp_13_0_8_toc.bin", "error_code": -2}),
]


@pytest.mark.parametrize("table, text, message, fields", EXAMPLES, ids=[f"{e[0]}:{e[2]}:{i}" for i, e in enumerate(EXAMPLES)])
def test_message(table, text, message, fields):
    found = messages.message_table(table).match(text)
    assert found is not None, text
    assert found[0] == message
    for key, value in fields.items():
        assert found[1].get(key) == value, (key, found[1])


@pytest.mark.parametrize("table", list(messages.MESSAGE_GRAMMARS))
def test_every_grammar_rule_has_an_example(table):
    """A message added to a grammar comes with a test line here."""
    covered = {e[2] for e in EXAMPLES if e[0] == table}
    assert set(messages.message_table(table).ids) <= covered


def test_event_logged_decoding_in_all_spellings():
    text = "\n".join([
        # current, device unknown to the driver
        "[ 5.1] AMD-Vi: Event logged [IO_PAGE_FAULT device=0000:02:00.0 domain=0x000d address=0xfffffffdf8000000 flags=0x0020]",
        # device-attributed form of the 4.20+ kernels
        "[ 5.2] nvme 0000:01:00.0: AMD-Vi: Event logged [IO_PAGE_FAULT domain=0x0000 address=0x0 flags=0x0020]",
        # 5.x window without the AMD-Vi prefix
        "[ 5.3] iommu ivhd0: Event logged [IOTLB_INV_TIMEOUT device=06:00.0 address=0x100210750]",
        # old: no segment, zero padded
        "[ 5.4] AMD-Vi: Event logged [IO_PAGE_FAULT device=06:00.0 domain=0x0000 address=0x000000fdf9103000 flags=0x0000]",
        # RMP events with comma separated fields
        "[ 5.5] AMD-Vi: Event logged [RMP_PAGE_FAULT device=0000:c1:00.0, vmg_tag=0x0001, gpa=0x7f000, flags_rmp=0x0001, flags=0x0020]",
        # the UNKNOWN form has no closing bracket
        "[ 5.6] iommu ivhd1: AMD-Vi: Event logged [UNKNOWN event[0]=0x00000001 event[1]=0x20000000 event[2]=0x0 event[3]=0x0",
    ])
    events = [e for e in parse_text(text).events if e.kind == "iommu_event"]
    assert [e.get("event_type") for e in events] == [
        "IO_PAGE_FAULT", "IO_PAGE_FAULT", "IOTLB_INV_TIMEOUT", "IO_PAGE_FAULT", "RMP_PAGE_FAULT", "UNKNOWN"]
    assert events[0].get("device") == "0000:02:00.0" and events[0].get("domain") == 0xD
    assert events[0].get("address") == 0xFFFFFFFDF8000000 and events[0].get("flags") == 0x20
    assert events[1].get("device") == "0000:01:00.0" and events[1].get("address") == 0
    assert events[2].get("device") == "06:00.0" and events[2].get("address") == 0x100210750
    assert events[4].get("gpa") == 0x7F000 and events[4].get("flags_rmp") == 1
    assert events[5].get("event1") == 0x20000000
    assert all(e.subsystem == "AMD-Vi" and e.message == "event_logged" for e in events)


def test_psp_command_named():
    events = parse_text("[ 9.0] ccp 0000:23:00.1: sev command 0x86 timed out, disabling PSP").events
    assert events[0].kind == "sev" and events[0].get("command_name") == "SNP_SHUTDOWN_EX"
    assert events[0].subsystem == "ccp" and events[0].get("device") == "0000:23:00.1"


def test_unnamed_driver_lines_are_still_events():
    events = parse_text("[ 1.7] AMD-Vi: in early_enable_iommus\n[ 2.0] ccp 0000:03:00.5: enabling device (0000 -> 0002)\n").events
    assert [(e.kind, e.message) for e in events] == [("amd_vi", None), ("sev", None)]


def test_api_version_snp_flag():
    events = parse_text("[ 9.0] ccp 0000:47:00.1: SEV API:1.55 build:31\n[ 9.1] ccp 0000:47:00.1: SEV-SNP API:1.55 build:31\n").events
    assert [e.get("snp") for e in events] == [False, True]
    assert events[1].subsystem == "SEV-SNP"


@pytest.mark.parametrize("text", [
    "ccp 0000:01:00.5: SEV API:1.55 build:5",
    "ccp 0000:01:00.5: sev command 0x85 timed out, disabling PSP",
    "AMD-Vi: Completion-Wait loop timed out",
    "iommu ivhd0: AMD-Vi: Event logged [IO_PAGE_FAULT device=0000:41:00.0 domain=0x0000 address=0x0 flags=0x0]",
])
def test_platform_grammar_never_takes_amd_vi_or_sev_lines(text):
    """The other platforms' grammar is tried before sev.lark: it must not swallow SEV or AMD-Vi lines."""
    assert messages.message_table("platform").match(text) is None
    event = parse_text(f"[    1.000000] {text}\n").events[0]
    assert event.kind in ("sev", "amd_vi", "iommu_event")
