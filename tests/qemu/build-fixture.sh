#!/usr/bin/env bash
# Build the QEMU kdump fixture used by tests/test_vmcore_qemu.py, tests/test_kdump_dirs_qemu.py
# and bench/bench_vmcore.py, for one Debian kernel series:
#
#   tests/qemu/build-fixture.sh [6.1|6.12]          (default 6.1)
#
# 6.1 is bookworm's kernel (linux-image-6.1.0-N-amd64), 6.12 the one bookworm carries beside it
# (linux-image-6.12.N+deb12-amd64); the two differ where the tool looks (struct amd_iommu's
# layout, the EFR in the global amd_iommu_efr on 6.12).
#
# What it produces, under ${SNP_TRIAGE_FIXTURE_DIR:-$HOME/.cache/snp-triage/qemu-fixture-SERIES}:
#   vmcore          kdump-compressed dump (makedumpfile -c -d 31) of the kernel after a sysrq panic
#                   on a QEMU q35 machine with an emulated AMD IOMMU (no SNP), ccp.ko loaded
#   vmcore.elf      the same memory as an ELF dump (makedumpfile -E -d 31)
#   vmcore.flat     the same again in makedumpfile's flattened format (-F -c -d 31), as kdump
#                   writes it over ssh
#   qemu-memory.elf QEMU's memory-only ELF dump of the first kernel (dump-guest-memory, before
#                   the panic), as libvirt's 'virsh dump --memory-only' writes it
#   vmlinux         the matching debug vmlinux from the linux-image-*-dbg package
#   lib/modules/REL/.../ccp.ko  ccp's debug info from the same package (the PSP/SEV checks)
#   console.log     serial console of both boots (first kernel + kdump kernel)
#   dmesg.txt       the crashed kernel's log as kdump-tools saves it (makedumpfile --dump-dmesg)
#   vmcore-dmesg.txt  the same as kdump-utils saves it (vmcore-dmesg), when kexec-tools has it
#   kdump-dmesg.txt the kdump kernel's own dmesg
#   state/first/, state/kdump/  /proc and /sys files of each kernel (cmdline, iomem, kexec_crash_*,
#                   the IOMMU's sysfs, the IVRS table, ...) and etc/ where the initramfs has one
#   release         the kernel release string (uname -r)
#
# Idempotent: every download and intermediate file is cached; a finished fixture is left
# alone unless FORCE=1. Needs root (apt-get), network access to the Debian mirrors, and
# tens of minutes of TCG emulation (no KVM is used). Each -dbg package is ~1 GB.
#
# Environment:
#   SNP_TRIAGE_FIXTURE_DIR   output/cache directory (see above)
#   SNP_TRIAGE_KERNEL_ABI    e.g. 6.1.0-56 or 6.12.107+deb12 (default: the newest of the series
#                            with a -dbg package)
#   QEMU_TIMEOUT             seconds for the whole QEMU run (default 3600)
#   FORCE=1                  re-run QEMU even if a vmcore exists
set -euo pipefail

SERIES="${1:-6.1}"
case "$SERIES" in
    6.1)  ABI_RE='6\.1\.0-[0-9]+' ;;
    6.12) ABI_RE='6\.12\.[0-9]+\+deb12' ;;
    *) echo "build-fixture: unknown kernel series '$SERIES' (6.1 or 6.12)" >&2; exit 2 ;;
esac
FIX="${SNP_TRIAGE_FIXTURE_DIR:-$HOME/.cache/snp-triage/qemu-fixture-$SERIES}"
QEMU_TIMEOUT="${QEMU_TIMEOUT:-3600}"
DEBS="$FIX/debs"
KTREE="$FIX/kernel"          # extracted linux-image package
WORK="$FIX/work"             # initramfs staging
OUT="$FIX/out"               # 9p share written by the kdump kernel

log() { printf 'build-fixture: %s\n' "$*" >&2; }
die() { log "ERROR: $*"; exit 1; }

mkdir -p "$FIX" "$DEBS" "$OUT"

if [[ -s "$FIX/vmcore" && -s "$FIX/vmlinux" && "${FORCE:-0}" != 1 ]]; then
    log "fixture already complete in $FIX (FORCE=1 to rebuild)"
    exit 0
fi

install_host_tools() {
    local missing=()
    command -v qemu-system-x86_64 >/dev/null || missing+=(qemu-system-x86)
    [[ -x /bin/busybox ]] || missing+=(busybox-static)
    command -v kexec >/dev/null || missing+=(kexec-tools)
    command -v makedumpfile >/dev/null || missing+=(makedumpfile)
    command -v cpio >/dev/null || missing+=(cpio)
    command -v python3 >/dev/null || missing+=(python3)
    if ((${#missing[@]})); then
        [[ $(id -u) == 0 ]] || die "need root to apt-get install ${missing[*]}"
        log "installing ${missing[*]}"
        apt-get update -q
        DEBIAN_FRONTEND=noninteractive apt-get install -y -q "${missing[@]}"
    fi
    # busybox-static must really be static: the initramfs has no libc for it.
    if ldd /bin/busybox >/dev/null 2>&1; then die "/bin/busybox is not static (install busybox-static)"; fi
}

newest_abi() {
    apt-cache search --names-only "^linux-image-${ABI_RE}-amd64-dbg\$" \
        | sed -En "s/^linux-image-(${ABI_RE})-amd64-dbg .*/\\1/p" | sort -V | tail -1
}

pick_abi() {
    if [[ -n "${SNP_TRIAGE_KERNEL_ABI:-}" ]]; then echo "$SNP_TRIAGE_KERNEL_ABI"; return; fi
    [[ -s "$FIX/abi" ]] && { cat "$FIX/abi"; return; }
    local abi
    abi=$(newest_abi)
    if [[ -z "$abi" ]]; then  # stale or missing lists: refresh once before concluding
        log "no $SERIES -dbg package in the apt lists; running apt-get update"
        apt-get update -q >&2 || true
        abi=$(newest_abi)
    fi
    [[ -n "$abi" ]] || die "no linux-image-$SERIES*-amd64-dbg package found even after apt-get update"
    echo "$abi" > "$FIX/abi"
    echo "$abi"
}

download() {  # download PACKAGE into $DEBS unless a .deb of it is cached
    local pkg=$1
    if ! compgen -G "$DEBS/${pkg}_*.deb" >/dev/null; then
        log "downloading $pkg"
        (cd "$DEBS" && apt-get download -q "$pkg") >&2
    fi
    compgen -G "$DEBS/${pkg}_*.deb" | sort -V | tail -1
}

extract_kernel() {  # $1 = release
    local rel=$1 deb
    [[ -s "$KTREE/boot/vmlinuz-$rel" && -d "$KTREE/lib/modules/$rel" ]] && return
    if apt-cache show "linux-image-$rel-unsigned" >/dev/null 2>&1; then
        deb=$(download "linux-image-$rel-unsigned")
    else
        deb=$(download "linux-image-$rel")
    fi
    log "extracting $(basename "$deb")"
    rm -rf "$KTREE" && mkdir -p "$KTREE"
    dpkg-deb -x "$deb" "$KTREE"
}

CCP_DEBUG=kernel/drivers/crypto/ccp/ccp.ko

extract_vmlinux() {  # $1 = release; only vmlinux and ccp.ko are taken from the big -dbg package
    local rel=$1 deb
    [[ -s "$FIX/vmlinux" && -s "$FIX/lib/modules/$rel/$CCP_DEBUG" ]] && return
    deb=$(download "linux-image-$rel-dbg")
    log "extracting vmlinux-$rel and ccp.ko's debug info from $(basename "$deb")"
    dpkg-deb --fsys-tarfile "$deb" | tar -x -C "$FIX" --wildcards "./usr/lib/debug/boot/vmlinux-$rel" \
        "./usr/lib/debug/lib/modules/$rel/$CCP_DEBUG*"
    mkdir -p "$FIX/lib/modules/$rel/$(dirname "$CCP_DEBUG")"
    # beside the vmlinux, where triage.vmcore looks for module debug info (lib/modules/REL/...)
    local ccp
    ccp=$(compgen -G "$FIX/usr/lib/debug/lib/modules/$rel/$CCP_DEBUG*" | head -1)
    if [[ $ccp == *.xz ]]; then xz -d -c "$ccp" > "$FIX/lib/modules/$rel/$CCP_DEBUG"; else
        mv "$ccp" "$FIX/lib/modules/$rel/$CCP_DEBUG"; fi
    mv "$FIX/usr/lib/debug/boot/vmlinux-$rel" "$FIX/vmlinux.tmp"
    rm -rf "$FIX/usr"
    mv "$FIX/vmlinux.tmp" "$FIX/vmlinux"
}

copy_binary() {  # copy a dynamic binary and its shared libraries into the initramfs root $1
    local root=$1 bin=$2 lib
    install -D -m 0755 "$bin" "$root$bin"
    for lib in $(ldd "$bin" | grep -o '/[^ ]*'); do
        [[ -e "$root$lib" ]] || install -D -m 0755 "$(readlink -f "$lib")" "$root$lib"
    done
}

module_load_order() {  # print .ko paths (relative to lib/modules/REL) in dependency order
    # The .deb ships no modules.dep (depmod runs at install time), so the dependencies are
    # read from each module's own .modinfo "depends=" string.
    local moddir=$1; shift
    python3 - "$moddir" "$@" <<'PY'
import lzma, os, re, sys
moddir, wanted = sys.argv[1], sys.argv[2:]
by_name = {}
for line in open(os.path.join(moddir, "modules.order")):
    path = line.strip()
    for candidate in (path, path + ".xz"):
        if os.path.exists(os.path.join(moddir, candidate)):
            name = os.path.basename(path).split(".ko")[0].replace("-", "_")
            by_name[name] = candidate
def depends(path):
    data = open(os.path.join(moddir, path), "rb").read()
    if path.endswith(".xz"):
        data = lzma.decompress(data)
    found = re.search(rb"\0depends=([^\0]*)\0", data)
    return [d.replace("-", "_") for d in found.group(1).decode().split(",") if d] if found else []
order = []
def visit(name):
    path = by_name.get(name)
    if path is None or path in order:      # absent = built into this kernel
        return
    for dep in depends(path):
        visit(dep)
    order.append(path)
for name in wanted:
    visit(name)
print("\n".join(order))
PY
}

write_init() {  # $1 = file
    cat > "$1" <<'INIT'
#!/bin/busybox sh
/bin/busybox --install -s /bin
export PATH=/bin:/sbin:/usr/bin:/usr/sbin
mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev 2>/dev/null
mkdir -p /tmp && mount -t tmpfs tmpfs /tmp     # makedumpfile writes its vmcoreinfo copy here
MODE=first
grep -q 'lab.mode=kdump' /proc/cmdline && MODE=kdump
say() { echo "LAB[$MODE]: $*" > /dev/console; }
halt_now() { sync; say "$1, powering off"; poweroff -f; sleep 5; echo o > /proc/sysrq-trigger; }
snapshot() {  # the /proc, /sys and /etc files a preflight check reads, as this kernel shows them
    local dest=/mnt/out/state/$MODE f
    for f in /proc/cmdline /proc/version /proc/iomem /proc/cpuinfo /proc/modules /proc/interrupts \
             /proc/meminfo /proc/sys/kernel/panic /proc/sys/kernel/panic_on_oops /proc/sys/kernel/sysrq \
             /proc/sys/kernel/kexec_load_disabled /proc/sys/kernel/tainted /proc/sys/kernel/random/boot_id \
             /sys/kernel/kexec_crash_loaded /sys/kernel/kexec_crash_size /sys/kernel/kexec_loaded \
             /sys/kernel/vmcoreinfo /sys/class/iommu/*/amd-iommu/* /sys/kernel/iommu_groups/*/type \
             /sys/module/ccp/parameters/* /sys/module/kvm_amd/parameters/* /sys/module/iommu/parameters/* \
             /sys/bus/pci/devices/*/vendor /sys/bus/pci/devices/*/device /sys/bus/pci/devices/*/class \
             /sys/firmware/acpi/tables/IVRS /sys/firmware/acpi/tables/DMAR /etc/*; do
        [ -f "$f" ] && [ -r "$f" ] || continue
        mkdir -p "$dest$(dirname "$f")" && cat "$f" > "$dest$f" 2>/dev/null
    done
    dmesg > "$dest/dmesg.txt"
    say "state of the $MODE kernel recorded in state/$MODE"
}
say "init start: kernel $(uname -r), mode $MODE"
say "cmdline: $(cat /proc/cmdline)"
while read -r ko; do insmod "/lib/modules/$(uname -r)/$ko" 2>/dev/null; done < /modules.order
say "modules loaded: $(cut -d' ' -f1 /proc/modules | tr '\n' ' ')"
mkdir -p /mnt/out
mount -t 9p -o trans=virtio,version=9p2000.L labout /mnt/out || halt_now "9p mount FAILED"
say "9p share labout mounted on /mnt/out"
if [ "$MODE" = first ]; then
    APPEND="console=ttyS0,115200 irqpoll nr_cpus=1 reset_devices lab.mode=kdump"
    echo "kexec -p /boot/vmlinuz --initrd=/boot/crash.cpio.gz --append=\"$APPEND\"" > /mnt/out/kexec-command
    kexec -p /boot/vmlinuz --initrd=/boot/crash.cpio.gz --append="$APPEND" || halt_now "kexec -p FAILED"
    say "kexec_crash_loaded=$(cat /sys/kernel/kexec_crash_loaded)"
    dmesg | grep -i -e 'AMD-Vi' -e iommu | sed 's/^/  /' > /dev/console
    snapshot
    say "READY-FOR-QEMU-DUMP"
    i=0
    while [ ! -e /mnt/out/qemu-dump-done ] && [ $i -lt 900 ]; do sleep 1; i=$((i + 1)); done
    say "host says QEMU dump done (waited ${i}s)"
    say "PANIC-NOW: echo c > /proc/sysrq-trigger"
    echo 1 > /proc/sys/kernel/sysrq
    echo c > /proc/sysrq-trigger
    halt_now "still alive after sysrq-c"
fi
say "in kdump kernel; /proc/vmcore is $(stat -c %s /proc/vmcore) bytes"
snapshot
dmesg > /mnt/out/kdump-dmesg.txt
makedumpfile --dump-dmesg /proc/vmcore /mnt/out/dmesg.txt && say "makedumpfile --dump-dmesg ok"
if [ -x /usr/sbin/vmcore-dmesg ]; then
    /usr/sbin/vmcore-dmesg /proc/vmcore > /mnt/out/vmcore-dmesg.txt && say "vmcore-dmesg ok"
fi
dump() {  # $1 = output name, the rest: makedumpfile options
    local out=$1; shift
    if makedumpfile "$@" /proc/vmcore "/mnt/out/$out.tmp"; then
        mv "/mnt/out/$out.tmp" "/mnt/out/$out"; say "makedumpfile $* ok: $(stat -c %s "/mnt/out/$out") bytes"
    else
        say "makedumpfile $* FAILED"
    fi
}
dump vmcore -c -d 31
dump vmcore.elf -E -d 31
# -F writes to stdout, as kdump.sh pipes it to ssh (dump_ssh())
if makedumpfile -F -c -d 31 /proc/vmcore > /mnt/out/vmcore.flat.tmp; then
    mv /mnt/out/vmcore.flat.tmp /mnt/out/vmcore.flat; say "makedumpfile -F -c -d 31 ok"
else
    say "makedumpfile -F FAILED"
fi
halt_now "KDUMP-DONE"
INIT
    chmod 0755 "$1"
}

build_initramfs() {  # $1 = release
    # Always rebuilt (a few seconds) so that changes to the init script take effect.
    local rel=$1 root="$WORK/root" moddir="$KTREE/lib/modules/$1" ko
    log "building initramfs"
    rm -rf "$WORK" && mkdir -p "$root"/{bin,sbin,proc,sys,dev,mnt,tmp,boot,"lib/modules/$rel"}
    cp /bin/busybox "$root/bin/busybox"
    copy_binary "$root" "$(command -v kexec)"
    copy_binary "$root" "$(command -v makedumpfile)"
    if command -v vmcore-dmesg >/dev/null; then
        copy_binary "$root" "$(command -v vmcore-dmesg)"
        [[ -x "$root/usr/sbin/vmcore-dmesg" ]] || install -D -m 0755 "$root$(command -v vmcore-dmesg)" "$root/usr/sbin/vmcore-dmesg"
    fi
    # ccp: the PSP driver (no PSP under QEMU, but its globals are in the dump with their debug info);
    # qemu_fw_cfg: exposes the guest's VMCOREINFO to QEMU (-device vmcoreinfo), which dump-guest-memory
    # writes into the memory-only ELF dump
    module_load_order "$moddir" qemu_fw_cfg virtio_pci 9pnet_virtio 9p ccp > "$root/modules.order"
    while read -r ko; do
        install -D -m 0644 "$moddir/$ko" "$root/lib/modules/$rel/$ko"
        if [[ $ko == *.xz ]]; then xz -d -f "$root/lib/modules/$rel/$ko"; fi
        if [[ $ko == *.zst ]]; then zstd -q -d -f --rm "$root/lib/modules/$rel/$ko"; fi
    done < "$root/modules.order"
    sed -i -E 's/\.(xz|zst)$//' "$root/modules.order"
    write_init "$root/init"
    # Crash (kdump) initramfs first, then the first-kernel one which carries it plus vmlinuz.
    (cd "$root" && find . | cpio -o -H newc --quiet | gzip -1) > "$FIX/crash.cpio.gz"
    cp "$FIX/crash.cpio.gz" "$root/boot/crash.cpio.gz"
    cp "$KTREE/boot/vmlinuz-$rel" "$root/boot/vmlinuz"
    (cd "$root" && find . | cpio -o -H newc --quiet | gzip -1) > "$FIX/initramfs.cpio.gz"
}

qemu_dump_when_ready() {  # host side: QEMU's memory-only ELF dump once the first kernel is ready
    local qmp=$1 waited=0
    while ! grep -q 'READY-FOR-QEMU-DUMP' "$FIX/console.log" 2>/dev/null; do
        sleep 2; waited=$((waited + 2))
        ((waited < QEMU_TIMEOUT)) || return 0
    done
    log "first kernel ready: dump-guest-memory (memory-only ELF) -> $FIX/qemu-memory.elf"
    python3 - "$qmp" "$FIX/qemu-memory.elf" <<'PY' || log "dump-guest-memory FAILED"
import json, socket, sys
sock = socket.socket(socket.AF_UNIX)
sock.connect(sys.argv[1])
stream = sock.makefile("rw")
def call(command, **arguments):
    stream.write(json.dumps({"execute": command, "arguments": arguments}) + "\n"); stream.flush()
    while True:
        reply = json.loads(stream.readline())
        if "return" in reply or "error" in reply:
            return reply
json.loads(stream.readline())  # greeting
call("qmp_capabilities")
print(call("dump-guest-memory", paging=False, protocol="file:" + sys.argv[2]), file=sys.stderr)
PY
    touch "$OUT/qemu-dump-done"
}

run_qemu() {  # $1 = release
    local rel=$1 rc=0 qmp="$FIX/qmp.sock" helper
    rm -rf "$OUT" "$FIX/console.log" "$FIX/qemu-memory.elf" && mkdir -p "$OUT"
    log "running QEMU (TCG, timeout ${QEMU_TIMEOUT}s); console -> $FIX/console.log"
    qemu_dump_when_ready "$qmp" & helper=$!
    timeout "$QEMU_TIMEOUT" qemu-system-x86_64 \
        -machine q35,kernel-irqchip=split -accel tcg \
        -device amd-iommu,intremap=on -device vmcoreinfo \
        -m 2G -smp 2 -no-reboot \
        -display none -monitor none -serial "file:$FIX/console.log" \
        -qmp "unix:$qmp,server=on,wait=off" \
        -kernel "$KTREE/boot/vmlinuz-$rel" -initrd "$FIX/initramfs.cpio.gz" \
        -append "console=ttyS0,115200 crashkernel=256M panic=-1 lab.mode=first" \
        -fsdev "local,id=labout,path=$OUT,security_model=none" \
        -device virtio-9p-pci,fsdev=labout,mount_tag=labout || rc=$?
    kill "$helper" 2>/dev/null || true
    wait "$helper" 2>/dev/null || true
    [[ $rc == 0 ]] || log "QEMU exited with status $rc"
    [[ -s "$OUT/vmcore" ]] || die "no vmcore produced; see $FIX/console.log"
    local f
    for f in vmcore vmcore.elf vmcore.flat dmesg.txt vmcore-dmesg.txt kdump-dmesg.txt kexec-command; do
        [[ -e "$OUT/$f" ]] && mv "$OUT/$f" "$FIX/$f"
    done
    rm -rf "$FIX/state" && [[ -d "$OUT/state" ]] && mv "$OUT/state" "$FIX/state"
    return 0
}

main() {
    install_host_tools
    local abi rel
    abi=$(pick_abi)
    rel="$abi-amd64"
    log "kernel series $SERIES, release $rel, fixture in $FIX"
    extract_kernel "$rel"
    extract_vmlinux "$rel"
    build_initramfs "$rel"
    run_qemu "$rel"
    echo "$rel" > "$FIX/release"
    log "done: $FIX/vmcore ($(stat -c %s "$FIX/vmcore") bytes), $FIX/vmlinux"
    ls -l "$FIX" >&2
}

main "$@"
