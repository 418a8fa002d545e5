#!/usr/bin/env bash
# Run Criterion test binaries and print one closing line: "N passed, N failed".
# usage: run-tests.sh KIND BINARY...   (KIND is a label: unit, integ, all)
set -u
kind=$1
shift
passed=0
failed=0
crashed=0
failed_bins=()
log=$(mktemp)
trap 'rm -f "$log"' EXIT

for bin in "$@"; do
	name=${bin##*/}
	case "$bin" in
	*/integ/*)
		if [ "$(id -u)" -ne 0 ]; then
			echo "run-tests: $name needs root (it loads BPF programs): run sudo make test" >&2
			failed=$((failed + 1))
			failed_bins+=("$name")
			continue
		fi
		;;
	esac
	start=$(date +%s)
	"$bin" --jobs=1 >"$log" 2>&1
	rc=$?
	synth=$(grep -E '^\[====\] Synthesis:' "$log" | tail -1)
	p=$(sed -nE 's/.*Passing: ([0-9]+).*/\1/p' <<<"$synth")
	f=$(sed -nE 's/.*Failing: ([0-9]+).*/\1/p' <<<"$synth")
	c=$(sed -nE 's/.*Crashing: ([0-9]+).*/\1/p' <<<"$synth")
	passed=$((passed + ${p:-0}))
	failed=$((failed + ${f:-0}))
	crashed=$((crashed + ${c:-0}))
	printf '%-28s %s (%ss)\n' "$name" "${synth#*Synthesis: }" "$(($(date +%s) - start))"
	if [ $rc -ne 0 ] || [ -z "$synth" ]; then
		cat "$log"
		failed_bins+=("$name")
		[ -z "$synth" ] && failed=$((failed + 1))
	fi
done

echo
[ ${#failed_bins[@]} -gt 0 ] && echo "failed: ${failed_bins[*]}"
echo "$kind: $passed passed, $((failed)) failed"
[ ${#failed_bins[@]} -eq 0 ]
