#!/usr/bin/env bash
# The demo: trace the bundled orders program (tests/targets/orders.c) from its first
# instruction, with function spans, the summary table and the Prometheus metrics.
set -euo pipefail
out=${1:-.output}
zt=$out/ztrace
target=$out/targets/orders

if [ "$(id -u)" -ne 0 ]; then
	echo "demo: ztrace loads BPF programs: run it as root (sudo make demo)" >&2
	exit 2
fi

echo "== 1. Function spans: $target, 2 threads x 4 orders, every call as it returns"
echo "   \$ $zt trace process_order validate_order compute_price fib 'u:libpricing.so:*' --error-if 'ret<0' -- $target --orders 4 --threads 2"
"$zt" trace process_order validate_order compute_price fib 'u:libpricing.so:*' \
	--error-if 'ret<0' -- "$target" --orders 4 --threads 2
echo
echo "== 2. The same as JSON lines (first 3 spans; the program's own output left out)"
"$zt" trace process_order validate_order --error-if 'ret<0' --format json \
	-- "$target" --orders 2 --threads 1 2>/dev/null | grep '^{' | head -3
echo
echo "== 3. Metrics: the same program for about 2 seconds, with syscalls, scraped from --metrics-addr"
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
echo "   \$ $zt trace -q --syscalls process_order validate_order --error-if 'ret<0' --metrics-addr $port -- $target --orders 2000 --threads 2 &"
"$zt" trace -q --syscalls process_order validate_order --error-if 'ret<0' \
	--metrics-addr "$port" -- "$target" --orders 2000 --threads 2 >/dev/null 2>&1 &
zpid=$!
echo "   \$ curl -s http://127.0.0.1:$port/metrics | grep -E '^ztrace_(function|syscall)_(calls|errors)|^ztrace_syscalls_total|^ztrace_events'"
# Metrics are refreshed from the kernel once a second: scrape as soon as the calls show, while
# the program still runs (about 2 s).
metrics=
for _ in $(seq 50); do
	sleep 0.1
	metrics=$(curl -s "http://127.0.0.1:$port/metrics" || true)
	grep -q '^ztrace_function_calls_total.*process_order.* [1-9]' <<<"$metrics" && break
done
if ! grep -E '^ztrace_function_(calls|errors)_total|^ztrace_events_total' <<<"$metrics"; then
	echo "demo: no metrics could be scraped from port $port" >&2
	exit 1
fi
grep -E '^ztrace_syscalls_total' <<<"$metrics" | sort -t' ' -k2 -rn | head -6
echo "   (and more: histograms, syscall errors, export counters; see README \"Metrics\")"
wait $zpid
