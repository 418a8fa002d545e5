#!/usr/bin/env bash
# Install what ztrace needs to build, run its demo and pass its tests, from Debian's packages
# by name. Idempotent: installs only what is missing, and runs apt-get update only then.
set -euo pipefail

packages=(
	make gcc clang llvm lld pkg-config
	libbpf-dev bpftool libelf-dev zlib1g-dev
	libcriterion-dev
	libmicrohttpd-dev libcurl4-openssl-dev systemtap-sdt-dev libyaml-dev
	prometheus
	python3
	# tests/integ/test_deploy: systemd-analyze verifies scripts/deploy/ztrace.service
	systemd
	qemu-system-x86 busybox-static xz-utils kmod
	# make bench: the tools ztrace is compared with, side by side
	bpftrace libbpf-tools strace linux-perf
	# make fuzz, fuzz-smoke: libFuzzer and clang's sanitizer runtimes (only a Recommends of clang)
	libclang-rt-14-dev
)
# Node.js runs the independent OTLP receiver used by tests; a machine may already carry a
# newer build that bundles npm, so only install Debian's when the commands are absent.
command -v node >/dev/null 2>&1 || packages+=(nodejs)
command -v npm >/dev/null 2>&1 || packages+=(npm)

missing=()
for p in "${packages[@]}"; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done

if [ ${#missing[@]} -eq 0 ]; then
	exit 0
fi

if [ "$(id -u)" -ne 0 ]; then
	echo "install-deps: missing packages: ${missing[*]}; run as root (sudo $0)" >&2
	exit 2
fi

echo "install-deps: installing ${missing[*]}" >&2
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
