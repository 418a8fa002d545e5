#!/usr/bin/env bash
# Write the uncompressed ELF kernel (vmlinux) held inside a bzImage (vmlinuz).
#
# usage: extract-vmlinux.sh VMLINUZ OUT
#
# Why: QEMU boots an ELF vmlinux with a PVH note (CONFIG_PVH=y) directly with -kernel, skipping
# the firmware and the in-guest decompressor, which under TCG saves seconds per boot.
# A bzImage carries its payload as one compressed stream after the real-mode setup code and the
# decompressor stub. Each place where a known compression magic occurs is tried in turn until one
# decompresses into an ELF file: the magic bytes can also occur by chance earlier in the stub.
set -euo pipefail

[ $# -eq 2 ] || {
	echo "usage: $0 VMLINUZ OUT" >&2
	exit 2
}
in=$1
out=$2
tmp=$out.tmp.$$
trap 'rm -f "$tmp"' EXIT

# try MAGIC_HEX DECOMPRESSOR...: decompress from each offset of the magic; 0 once one is ELF.
try() {
	local magic=$1 off
	shift
	# grep -b on the hex dump gives byte offsets into the dump, two characters per input byte.
	for off in $(od -An -v -tx1 "$in" | tr -d ' \n' | grep -ob "$magic" | cut -d: -f1); do
		[ $((off % 2)) -eq 0 ] || continue
		tail -c +$((off / 2 + 1)) "$in" | "$@" >"$tmp" 2>/dev/null || true
		if [ "$(head -c 4 "$tmp" | od -An -tx1 | tr -d ' ')" = 7f454c46 ]; then
			mv "$tmp" "$out"
			return 0
		fi
	done
	return 1
}

# xz (Debian's choice, CONFIG_KERNEL_XZ), then zstd and gzip for other kernels.
# --single-stream: stop at the end of the payload and ignore the trailer that follows it.
try fd377a585a00 xz -dc --single-stream && exit 0
command -v zstd >/dev/null && try 28b52ffd zstd -dc && exit 0
try 1f8b0800 gzip -dc && exit 0
echo "extract-vmlinux: no xz, zstd or gzip payload that decompresses to ELF in $in" >&2
exit 1
