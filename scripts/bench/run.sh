#!/usr/bin/env bash
# make bench: ztrace's benchmarks side by side with their baselines and with bpftrace,
# libbpf-tools and strace (scripts/bench/bench.py says what each measures).
#   usage: run.sh OUTPUT [calls|syscalls|pipeline|footprint|attach|agent ...]
# Needs root (BPF) and the build in OUTPUT (make bench builds it first). Results are printed
# and written to OUTPUT/bench/results.json.
set -euo pipefail

out=${1:?usage: run.sh OUTPUT [BENCHMARK...]}
shift
if [ "$(id -u)" -ne 0 ]; then
	echo "bench: loading BPF programs needs root: run sudo make bench" >&2
	exit 2
fi
# Tracers look up the kernel's tracing files; ztrace mounts tracefs itself, bpftrace does not.
if [ ! -d /sys/kernel/tracing/events ] && ! mountpoint -q /sys/kernel/tracing; then
	mount -t tracefs tracefs /sys/kernel/tracing 2>/dev/null || true
fi
# bpftrace keeps its maps and programs in locked memory on kernels without memcg accounting.
ulimit -l unlimited 2>/dev/null || true
exec python3 -B -u "$(dirname "$0")/bench.py" "$out" "$@"
