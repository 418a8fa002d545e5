#!/usr/bin/env bash
# Run one command inside a QEMU guest running Debian 12's own 6.1 kernel, whose root is the
# host's / (read-only, with a throw-away tmpfs overlay on top), in the same working directory
# and with the same environment. The command's stdout and stderr stream to ours; we exit with
# its exit code.
#
# usage: vmtest.sh [OPTIONS] -- CMD [ARG...]
#   --kernel-dir DIR  kernel to boot: DIR/vmlinux (or DIR/boot/vmlinuz-*) and DIR/lib/modules/*
#                     (default: $ZT_VM_KERNEL_DIR, else fetched by scripts/vm/fetch-kernel.sh)
#   --rw DIR          also mount host DIR read-write at the same path (repeatable); everything
#                     else the guest writes is lost when it powers off
#   --mem SIZE        guest RAM (default 2G)         --cpus N     vCPUs (default 2)
#   --timeout SEC     kill the guest after SEC seconds (default 3600), exit 124
#   --dmesg FILE      save the guest's kernel log to FILE
#   --append ARGS     add ARGS to the kernel's command line
#   --verbose         show the kernel's boot log
#   --interactive     give the command our stdin (e.g. -- bash -i, to look around in the guest)
#   --accel tcg|kvm   tcg (default, $ZT_VM_ACCEL) works everywhere; kvm where /dev/kvm can run
#                     a stock kernel (not on these machines), and then much faster
# Exit codes: CMD's own; 124 on timeout; 125 if the guest never ran CMD (init failed: rerun
# with --verbose); 2 on bad usage.
#
# Why this shape: this machine's kernel has no kprobes and refuses fentry, its /dev/kvm cannot
# run stock kernels, so the guest runs under TCG; Debian's kernel has CONFIG_PVH=y, so QEMU
# boots the uncompressed vmlinux directly (no firmware, no decompressor) and the first command
# starts a few seconds after launch. The guest sees the host's files, so binaries built here
# run there unchanged. Needs root: 9p exports all of / with the host's owners and modes.
# QEMU's options are comma-separated lists, not mistaken array syntax.
# shellcheck disable=SC2054
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
kernel_dir=${ZT_VM_KERNEL_DIR:-}
mem=2G
cpus=2
timeout=3600
dmesg_out=
verbose=0
interactive=0
accel=${ZT_VM_ACCEL:-tcg}
extra_append=
rw_dirs=()

usage() {
	sed -n '/^# usage:/,/^# Exit codes/p' "$0" | sed 's/^# \{0,1\}//' >&2
	exit 2
}

while [ $# -gt 0 ]; do
	case "$1" in
	--kernel-dir) kernel_dir=${2:?}; shift 2 ;;
	--rw) rw_dirs+=("$(cd "${2:?}" && pwd)"); shift 2 ;;
	--mem) mem=${2:?}; shift 2 ;;
	--cpus) cpus=${2:?}; shift 2 ;;
	--timeout) timeout=${2:?}; shift 2 ;;
	--dmesg) dmesg_out=${2:?}; shift 2 ;;
	--append) extra_append+=" ${2?}"; shift 2 ;;
	--verbose) verbose=1; shift ;;
	--interactive) interactive=1; shift ;;
	--accel) accel=${2:?}; shift 2 ;;
	--) shift; break ;;
	-h | --help) usage ;;
	*) usage ;;
	esac
done
[ $# -gt 0 ] || usage

if [ "$(id -u)" -ne 0 ]; then
	echo "vmtest: must run as root (the guest's root is the host's / over 9p)" >&2
	exit 2
fi
for c in qemu-system-x86_64 busybox; do
	command -v $c >/dev/null || {
		echo "vmtest: $c not found: run scripts/install-deps.sh" >&2
		exit 2
	}
done

[ -n "$kernel_dir" ] || kernel_dir=$("$here/vm/fetch-kernel.sh")
kernel_dir=$(cd "$kernel_dir" && pwd)

run=$(mktemp -d "${TMPDIR:-/tmp}/vmtest.XXXXXX")
trap 'rm -rf "$run"' EXIT

vmlinux=$kernel_dir/vmlinux
if [ ! -f "$vmlinux" ]; then
	vmlinux=$run/vmlinux
	zimages=("$kernel_dir"/boot/vmlinuz-*)
	"$here/vm/extract-vmlinux.sh" "${zimages[0]}" "$vmlinux"
fi
# Built once per kernel and kept next to it (process start-up is slow on these machines, and
# the image only changes with the scripts that make it); rebuilt when they are newer.
initrd=$kernel_dir/initramfs.cpio
[ -w "$kernel_dir" ] || initrd=$run/initramfs.cpio
if [ ! -f "$initrd" ] || [ "$here/vm/init" -nt "$initrd" ] || [ "$here/vm/mkinitramfs.sh" -nt "$initrd" ]; then
	"$here/vm/mkinitramfs.sh" "$kernel_dir" "$initrd"
fi

# The shared directory: the command to run going in, its exit code and kernel log coming out.
share=$run/share
mkdir "$share"
{
	echo "# Written by scripts/vmtest.sh: the host's environment, directory and command."
	for v in $(compgen -e); do
		case $v in
		# Shell bookkeeping, and make's jobserver whose file descriptors are not in the guest.
		PWD | OLDPWD | SHLVL | _ | MAKEFLAGS | MFLAGS | MAKELEVEL | MAKEOVERRIDES) continue ;;
		esac
		printf 'export %s=%q\n' "$v" "${!v}"
	done
	echo "export ZT_VM=1"
	printf 'cd %q || exit 125\n' "$PWD"
	printf 'exec'
	printf ' %q' "$@"
	printf '\n'
} >"$share/cmd"

fsdevs=(
	-fsdev "local,id=hostroot,path=/,security_model=passthrough,readonly=on,multidevs=remap"
	-device virtio-9p-pci,fsdev=hostroot,mount_tag=hostroot
	-fsdev "local,id=vmshare,path=$share,security_model=passthrough"
	-device virtio-9p-pci,fsdev=vmshare,mount_tag=vmshare
)
i=0
for d in "${rw_dirs[@]}"; do
	fsdevs+=(-fsdev "local,id=rw$i,path=$d,security_model=passthrough,multidevs=remap"
		-device "virtio-9p-pci,fsdev=rw$i,mount_tag=rw$i")
	printf 'rw%d %s\n' $i "$d" >>"$share/rw"
	i=$((i + 1))
done

# ttyS0 is the command's stdout (our stdout) and ttyS1 its stderr (our stderr, handed to QEMU
# as an fd set so that pipes, files and terminals all work); the command's stdin is /dev/null
# (--interactive: ttyS0, fed from our stdin). ttyS2 is the kernel's console, kept in a log shown
# when the guest fails (--verbose: streamed to our stderr), so that kernel messages never mix
# with the command's output.
# mitigations=off: TCG does not speculate, so they would only slow the guest down.
append="console=ttyS2 panic=-1 rdinit=/init mitigations=off$extra_append"
console=(-chardev "file,id=con,path=$run/console.log")
if [ $verbose -eq 1 ]; then
	console=(-chardev file,id=con,path=/dev/fdset/2,append=on)
else
	append+=" quiet"
fi
stdin=/dev/null
if [ $interactive -eq 1 ]; then
	touch "$share/interactive"
	stdin=/dev/stdin
fi
case $accel in
tcg) accel_args=(-accel tcg,thread=multi -cpu max) ;;
kvm) accel_args=(-accel kvm -cpu host) ;;
*) usage ;;
esac

rc=0
timeout --foreground -k 10 "$timeout" qemu-system-x86_64 \
	-nodefaults -no-user-config -no-reboot -display none -monitor none \
	-machine pc "${accel_args[@]}" -smp "$cpus" -m "$mem" \
	-kernel "$vmlinux" -initrd "$initrd" -append "$append" \
	-add-fd fd=3,set=2 \
	-chardev stdio,id=out,signal=on -serial chardev:out \
	-chardev file,id=err,path=/dev/fdset/2,append=on -serial chardev:err \
	"${console[@]}" -serial chardev:con \
	"${fsdevs[@]}" <"$stdin" 3>&2 || rc=$?

# 124: timed out and stopped by SIGTERM; 137: it ignored that and was killed 10 s later.
if [ $rc -eq 124 ] || [ $rc -eq 137 ]; then
	echo "vmtest: the guest ran longer than ${timeout}s and was killed" >&2
	exit 124
fi
if [ ! -f "$share/rc" ]; then
	[ -f "$run/console.log" ] && cat "$run/console.log" >&2
	echo "vmtest: the guest did not run the command (qemu exit $rc); rerun with --verbose" >&2
	exit 125
fi
[ -z "$dmesg_out" ] || cp "$share/dmesg" "$dmesg_out"
exit "$(cat "$share/rc")"
