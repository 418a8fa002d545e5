#!/usr/bin/env bash
# The test suite as run inside the VM (make test-vm runs it through scripts/vmtest.sh).
#
# usage: suite.sh [--cmd 'SHELL COMMAND']... [BINARY...]
#
# Prints what the guest kernel offers (the point of running there), checks the facts the VM
# suite relies on, runs the Criterion BINARYs with scripts/run-tests.sh (one line per binary and
# a closing "vm: N passed, N failed"), then each --cmd with bash, reporting ok/FAILED with its
# output shown only on failure. Exits non-zero if anything failed.
set -u

cmds=()
bins=()
while [ $# -gt 0 ]; do
	case "$1" in
	--cmd) cmds+=("${2:?}"); shift 2 ;;
	*) bins+=("$1"); shift ;;
	esac
done

failed=0
yn() {
	if "$@"; then echo yes; else echo no; fi
}

kver=$(uname -r)
echo "vm: kernel $kver (Debian $(sed -n 's/.* Debian \([^ ]*\) .*/\1/p' /proc/version))," \
	"$(nproc) CPUs, $(awk '/MemTotal/ {printf "%d MiB", $2 / 1024}' /proc/meminfo)"
echo "vm: btf $(yn test -r /sys/kernel/btf/vmlinux)," \
	"kprobes $(yn test -w /sys/kernel/tracing/kprobe_events)," \
	"uprobes $(yn test -w /sys/kernel/tracing/uprobe_events)," \
	"ftrace functions $(grep -c . /sys/kernel/tracing/available_filter_functions 2>/dev/null || echo 0)"
# The guest exists to give the suite what the host lacks; without these it proves nothing.
for need in /sys/kernel/btf/vmlinux /sys/kernel/tracing/kprobe_events /sys/fs/bpf; do
	if [ ! -e "$need" ]; then
		echo "vm: FAILED: $need is missing in the guest" >&2
		failed=1
	fi
done

if [ ${#bins[@]} -gt 0 ]; then
	"$(dirname "$0")/../run-tests.sh" vm "${bins[@]}" || failed=1
fi

log=$(mktemp)
trap 'rm -f "$log"' EXIT
for c in "${cmds[@]}"; do
	start=$SECONDS
	if bash -c "$c" >"$log" 2>&1; then
		printf 'ok      %s (%ss)\n' "$c" $((SECONDS - start))
	else
		printf 'FAILED  %s (exit %d, %ss)\n' "$c" $? $((SECONDS - start))
		cat "$log"
		failed=1
	fi
done
exit $failed
