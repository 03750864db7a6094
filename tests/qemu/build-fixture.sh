#!/usr/bin/env bash
# Build the QEMU kdump fixture used by tests/test_vmcore_qemu.py and bench/bench_vmcore.py.
#
# What it produces, under ${SNP_TRIAGE_FIXTURE_DIR:-$HOME/.cache/snp-triage/qemu-fixture}:
#   vmcore        kdump-compressed dump (makedumpfile -c -d 31) of a Debian 6.1 kernel that
#                 panicked via sysrq on a QEMU q35 machine with an emulated AMD IOMMU (no SNP)
#   vmlinux       the matching debug vmlinux from the linux-image-*-dbg package
#   console.log   serial console of both boots (first kernel + kdump kernel)
#   release       the kernel release string (uname -r)
#
# Idempotent: every download and intermediate file is cached; a finished fixture is left
# alone unless FORCE=1. Needs root (apt-get), network access to the Debian mirrors, and
# several minutes of TCG emulation (no KVM is used). The -dbg package is ~1 GB.
#
# Environment:
#   SNP_TRIAGE_FIXTURE_DIR   output/cache directory (see above)
#   SNP_TRIAGE_KERNEL_ABI    e.g. 6.1.0-56 (default: newest 6.1.0-N-amd64 with a -dbg package)
#   QEMU_TIMEOUT             seconds for the whole QEMU run (default 2400)
#   FORCE=1                  re-run QEMU even if a vmcore exists
set -euo pipefail

FIX="${SNP_TRIAGE_FIXTURE_DIR:-$HOME/.cache/snp-triage/qemu-fixture}"
QEMU_TIMEOUT="${QEMU_TIMEOUT:-2400}"
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
    if ((${#missing[@]})); then
        [[ $(id -u) == 0 ]] || die "need root to apt-get install ${missing[*]}"
        log "installing ${missing[*]}"
        apt-get update -q
        DEBIAN_FRONTEND=noninteractive apt-get install -y -q "${missing[@]}"
    fi
    # busybox-static must really be static: the initramfs has no libc for it.
    if ldd /bin/busybox >/dev/null 2>&1; then die "/bin/busybox is not static (install busybox-static)"; fi
}

pick_abi() {
    if [[ -n "${SNP_TRIAGE_KERNEL_ABI:-}" ]]; then echo "$SNP_TRIAGE_KERNEL_ABI"; return; fi
    [[ -s "$FIX/abi" ]] && { cat "$FIX/abi"; return; }
    local abi
    abi=$(apt-cache search --names-only '^linux-image-6\.1\.0-[0-9]+-amd64-dbg$' \
          | sed -n 's/^linux-image-\(6\.1\.0-[0-9]*\)-amd64-dbg .*/\1/p' | sort -V | tail -1)
    [[ -n "$abi" ]] || die "no linux-image-6.1.0-*-amd64-dbg package found (apt-get update?)"
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

extract_vmlinux() {  # $1 = release; only the vmlinux is taken from the big -dbg package
    local rel=$1 deb
    [[ -s "$FIX/vmlinux" ]] && return
    deb=$(download "linux-image-$rel-dbg")
    log "extracting vmlinux-$rel from $(basename "$deb")"
    dpkg-deb --fsys-tarfile "$deb" | tar -x -C "$FIX" --wildcards "./usr/lib/debug/boot/vmlinux-$rel"
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
say "init start: kernel $(uname -r), mode $MODE"
say "cmdline: $(cat /proc/cmdline)"
while read -r ko; do insmod "/lib/modules/$(uname -r)/$ko" 2>/dev/null; done < /modules.order
mkdir -p /mnt/out
mount -t 9p -o trans=virtio,version=9p2000.L labout /mnt/out || halt_now "9p mount FAILED"
say "9p share labout mounted on /mnt/out"
if [ "$MODE" = first ]; then
    APPEND="console=ttyS0,115200 irqpoll nr_cpus=1 reset_devices lab.mode=kdump"
    kexec -p /boot/vmlinuz --initrd=/boot/crash.cpio.gz --append="$APPEND" || halt_now "kexec -p FAILED"
    say "kexec_crash_loaded=$(cat /sys/kernel/kexec_crash_loaded)"
    dmesg | grep -i -e 'AMD-Vi' -e iommu | sed 's/^/  /' > /dev/console
    say "PANIC-NOW: echo c > /proc/sysrq-trigger"
    echo 1 > /proc/sys/kernel/sysrq
    echo c > /proc/sysrq-trigger
    halt_now "still alive after sysrq-c"
fi
say "in kdump kernel; /proc/vmcore is $(stat -c %s /proc/vmcore) bytes"
dmesg > /mnt/out/kdump-dmesg.txt
if makedumpfile -c -d 31 /proc/vmcore /mnt/out/vmcore.tmp; then
    mv /mnt/out/vmcore.tmp /mnt/out/vmcore
    say "makedumpfile -c -d 31 ok: $(stat -c %s /mnt/out/vmcore) bytes"
else
    say "makedumpfile FAILED"
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
    module_load_order "$moddir" virtio_pci 9pnet_virtio 9p > "$root/modules.order"
    while read -r ko; do
        install -D -m 0644 "$moddir/$ko" "$root/lib/modules/$rel/$ko"
        if [[ $ko == *.xz ]]; then xz -d -f "$root/lib/modules/$rel/$ko"; fi
    done < "$root/modules.order"
    sed -i 's/\.xz$//' "$root/modules.order"
    write_init "$root/init"
    # Crash (kdump) initramfs first, then the first-kernel one which carries it plus vmlinuz.
    (cd "$root" && find . | cpio -o -H newc --quiet | gzip -1) > "$FIX/crash.cpio.gz"
    cp "$FIX/crash.cpio.gz" "$root/boot/crash.cpio.gz"
    cp "$KTREE/boot/vmlinuz-$rel" "$root/boot/vmlinuz"
    (cd "$root" && find . | cpio -o -H newc --quiet | gzip -1) > "$FIX/initramfs.cpio.gz"
}

run_qemu() {  # $1 = release
    local rel=$1 rc=0
    rm -f "$OUT/vmcore" "$OUT/vmcore.tmp" "$FIX/console.log"
    log "running QEMU (TCG, timeout ${QEMU_TIMEOUT}s); console -> $FIX/console.log"
    timeout "$QEMU_TIMEOUT" qemu-system-x86_64 \
        -machine q35,kernel-irqchip=split -accel tcg \
        -device amd-iommu,intremap=on -device vmcoreinfo \
        -m 2G -smp 2 -no-reboot \
        -display none -monitor none -serial "file:$FIX/console.log" \
        -kernel "$KTREE/boot/vmlinuz-$rel" -initrd "$FIX/initramfs.cpio.gz" \
        -append "console=ttyS0,115200 crashkernel=256M panic=-1 lab.mode=first" \
        -fsdev "local,id=labout,path=$OUT,security_model=none" \
        -device virtio-9p-pci,fsdev=labout,mount_tag=labout || rc=$?
    [[ $rc == 0 ]] || log "QEMU exited with status $rc"
    [[ -s "$OUT/vmcore" ]] || die "no vmcore produced; see $FIX/console.log"
    mv "$OUT/vmcore" "$FIX/vmcore"
}

main() {
    install_host_tools
    local abi rel
    abi=$(pick_abi)
    rel="$abi-amd64"
    log "kernel release $rel"
    extract_kernel "$rel"
    extract_vmlinux "$rel"
    build_initramfs "$rel"
    run_qemu "$rel"
    echo "$rel" > "$FIX/release"
    log "done: $FIX/vmcore ($(stat -c %s "$FIX/vmcore") bytes), $FIX/vmlinux"
}

main "$@"
