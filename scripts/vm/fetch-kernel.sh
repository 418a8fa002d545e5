#!/usr/bin/env bash
# Fetch Debian 12's own 6.1 kernel for the test VM and unpack it into a cache directory; print
# the kernel directory (it holds vmlinux, boot/ and lib/modules/VERSION/).
#
# usage: fetch-kernel.sh [CACHE_DIR]      (default: $ZT_VM_CACHE, else .output/vm)
#
# The package (linux-image-6.1.0-N-amd64-unsigned, the newest N that apt knows) is downloaded
# with `apt-get download` and unpacked with `dpkg -x`: it is never installed as the host's kernel.
# Idempotent: a kernel already unpacked in the cache is re-used without asking apt anything, so
# later runs need no network. Set ZT_VM_KERNEL_PKG to pin another package; the standard flavour
# is needed (-cloud- lacks 9p). Safe to run concurrently: the cache is locked while it is filled.
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
cache=${1:-${ZT_VM_CACHE:-$here/../../.output/vm}}
# Debian's standard 6.1 flavour; -cloud- and -rt- are other flavours and do not match.
pkg_re='^linux-image-6\.1\.0-[0-9]+-amd64-unsigned$'

die() {
	echo "fetch-kernel: $*" >&2
	exit 1
}

mkdir -p "$cache"
cache=$(cd "$cache" && pwd)
exec 9>"$cache/.lock"
flock 9

# A finished unpack leaves a .done marker, so an interrupted one is redone.
pick_cached() {
	local d
	for d in "$cache"/linux-*/; do
		if [ -f "$d/.done" ]; then
			printf '%s\n' "${d%/}"
		fi
	done | sort -V | tail -1
}

if [ -n "${ZT_VM_KERNEL_PKG:-}" ]; then
	pkg=$ZT_VM_KERNEL_PKG
else
	kdir=$(pick_cached)
	if [ -n "$kdir" ]; then
		echo "$kdir"
		exit 0
	fi
	pkg=$(apt-cache search --names-only "$pkg_re" 2>/dev/null | awk '{print $1}' | sort -V | tail -1)
	if [ -z "$pkg" ]; then
		# A fresh container may have no package lists yet.
		[ "$(id -u)" -eq 0 ] || die "no $pkg_re in apt's lists; run apt-get update as root"
		apt-get update -qq >&2
		pkg=$(apt-cache search --names-only "$pkg_re" | awk '{print $1}' | sort -V | tail -1)
	fi
	[ -n "$pkg" ] || die "apt knows no package matching $pkg_re"
fi
ver=${pkg#linux-image-}
kdir=$cache/linux-${ver%-unsigned}
if [ -f "$kdir/.done" ]; then
	echo "$kdir"
	exit 0
fi

echo "fetch-kernel: fetching $pkg into $cache" >&2
dl=$cache/dl
rm -rf "$dl" "$kdir"
mkdir -p "$dl"
# Root's download is unsandboxed either way; saying so keeps apt from warning about _apt.
(cd "$dl" && apt-get -qq -o APT::Sandbox::User=root download "$pkg" >&2) ||
	die "apt-get download $pkg failed"
deb=$(ls "$dl"/*.deb)
dpkg -x "$deb" "$kdir"
vmlinuz=$(ls "$kdir"/boot/vmlinuz-*)
"$here/extract-vmlinux.sh" "$vmlinuz" "$kdir/vmlinux"
rm -rf "$dl"
touch "$kdir/.done"
echo "$kdir"
