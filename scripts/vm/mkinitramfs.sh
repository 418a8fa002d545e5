#!/usr/bin/env bash
# Build the test VM's initramfs: static busybox, scripts/vm/init, and the kernel modules that
# mounting the host's root needs (virtio PCI, 9p over virtio, overlayfs), with everything they
# depend on, listed in load order in /modules.order.
#
# usage: mkinitramfs.sh KERNEL_DIR OUT.cpio [MODULE...]
#
# KERNEL_DIR holds lib/modules/VERSION/ as unpacked from the Debian package. That tree has no
# modules.dep (depmod runs at install time), so dependencies come from each module's own
# depends= field. Compressed modules (.ko.xz, .ko.zst, .ko.gz) are decompressed here so that
# busybox's insmod loads them whatever it was built with. MODULE adds more modules by name.
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
[ $# -ge 2 ] || {
	echo "usage: $0 KERNEL_DIR OUT.cpio [MODULE...]" >&2
	exit 2
}
kdir=$1
out=$2
shift 2
want=(virtio_pci 9pnet_virtio 9p overlay "$@")

die() {
	echo "mkinitramfs: $*" >&2
	exit 1
}

busybox=$(command -v busybox) || die "busybox not found (Debian: busybox-static)"
# A dynamic busybox would need the host's libc inside the initramfs.
if ldd "$busybox" >/dev/null 2>&1; then
	die "$busybox is dynamically linked (Debian: busybox-static)"
fi

versions=("$kdir"/lib/modules/*/)
mods=${versions[0]}
[ -d "$mods" ] || die "no lib/modules/VERSION in $kdir"

# Every module file, once; names in depends= use '_' where file names may use '-'.
all=$(find "$mods" -name '*.ko' -o -name '*.ko.*')
# module_path NAME: the file of module NAME.
module_path() {
	grep -E "/${1//_/[-_]}\.ko(\.[a-z]+)?\$" <<<"$all" | head -1
}

# Depth-first, dependencies before dependents, each module once.
declare -A seen path
order=()
visit() {
	local m=${1//-/_} f d
	[ -n "${seen[$m]:-}" ] && return 0
	seen[$m]=1
	f=$(module_path "$m")
	path[$m]=$f
	[ -n "$f" ] || die "module $m not found under $mods (built in? then drop it from the list)"
	for d in $(modinfo -F depends "$f" | tr ',' ' '); do
		visit "$d"
	done
	order+=("$m")
}
for m in "${want[@]}"; do
	visit "$m"
done

stage=$(mktemp -d)
trap 'rm -rf "$stage"' EXIT
mkdir -p "$stage"/{bin,dev,proc,sys,lib/modules,mnt,newroot}
cp "$busybox" "$stage/bin/busybox"
ln -s busybox "$stage/bin/sh"
install -m 0755 "$here/init" "$stage/init"
for m in "${order[@]}"; do
	f=${path[$m]}
	case "$f" in
	*.ko) cp "$f" "$stage/lib/modules/$m.ko" ;;
	*.ko.xz) xz -dc "$f" >"$stage/lib/modules/$m.ko" ;;
	*.ko.zst) zstd -qdc "$f" >"$stage/lib/modules/$m.ko" ;;
	*.ko.gz) gzip -dc "$f" >"$stage/lib/modules/$m.ko" ;;
	*) die "unknown module format: $f" ;;
	esac
	echo "$m" >>"$stage/modules.order"
done
# Uncompressed: the guest would spend longer inflating it under TCG than reading it.
(cd "$stage" && find . | busybox cpio -o -H newc 2>/dev/null) >"$out.tmp.$$"
mv "$out.tmp.$$" "$out"
