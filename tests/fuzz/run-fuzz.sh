#!/usr/bin/env bash
# Run the libFuzzer targets built by tests/fuzz/fuzz.mk, each for a bounded time, and print one
# line per target with the inputs it executed; exits non-zero if any target crashed, leaked,
# timed out or failed to replay a saved regression input.
#
#   run-fuzz.sh FUZZ_DIR SECONDS TARGET[:SECONDS]...
#
# A TARGET:SECONDS runs that target for its own SECONDS.
#
# For each TARGET: replay tests/fuzz/regressions/TARGET/ (inputs that once crashed it), then
# (whatever the replay gave) fuzz from tests/fuzz/corpus/TARGET/ and FUZZ_DIR/seeds/TARGET/, keeping new inputs in
# FUZZ_DIR/corpus/TARGET/ and a crashing one in FUZZ_DIR/artifacts/TARGET/. A dictionary
# tests/fuzz/TARGET.dict is used when there is one, and the flags in tests/fuzz/TARGET.options.
set -u
if [ $# -lt 3 ]; then
	echo "usage: $0 FUZZ_DIR SECONDS TARGET[:SECONDS]..." >&2
	exit 2
fi
dir=$1
seconds=$2
shift 2
src=$(dirname "$0")
# A slow input (a hang) fails after this many seconds; memory is bounded too.
per_input_timeout=10
rss_limit_mb=2048
failed=()
total=0

printf '%-12s %12s %10s %8s  %s\n' TARGET EXECUTIONS EXEC/S CORPUS RESULT
for arg in "$@"; do
	t=${arg%%:*}
	secs=$seconds
	[[ $arg == *:* ]] && secs=${arg#*:}
	bin=$dir/fuzz_$t
	work=$dir/corpus/$t
	art=$dir/artifacts/$t
	log=$dir/fuzz_$t.log
	rm -rf "$art"
	mkdir -p "$work" "$art"
	args=(-timeout=$per_input_timeout -rss_limit_mb=$rss_limit_mb -print_final_stats=1
	      -artifact_prefix="$art/")
	[ -f "$src/$t.dict" ] && args+=(-dict="$src/$t.dict")
	# more libFuzzer flags, one a line (e.g. a larger -max_len)
	[ -f "$src/$t.options" ] && mapfile -t -O ${#args[@]} args <"$src/$t.options"

	reg=$src/regressions/$t
	if [ -d "$reg" ] && [ -n "$(ls -A "$reg" 2>/dev/null)" ]; then
		if ! "$bin" "${args[@]}" "$reg"/* >"$log.replay" 2>&1; then
			printf '%-12s %12s %10s %8s  %s\n' "$t" - - - "FAILED replaying $reg"
			awk '/^Running: / { last = $0 }
			     /ERROR:|invariant failed|runtime error/ { if (!on) print last; on = 1 }
			     on && n++ < 12' "$log.replay"
			failed+=("$t")
		fi
	fi

	seeds=("$src/corpus/$t")
	[ -d "$dir/seeds/$t" ] && seeds+=("$dir/seeds/$t")
	"$bin" "${args[@]}" -max_total_time="$secs" "$work" "${seeds[@]}" >"$log" 2>&1
	rc=$?
	runs=$(sed -nE 's/^stat::number_of_executed_units: *([0-9]+).*/\1/p' "$log" | tail -1)
	speed=$(sed -nE 's/^stat::average_exec_per_sec: *([0-9]+).*/\1/p' "$log" | tail -1)
	corpus=$(find "$work" -type f | wc -l)
	total=$((total + ${runs:-0}))
	if [ $rc -eq 0 ]; then
		result=ok
	else
		result="FAILED (exit $rc): see $log"
		[[ " ${failed[*]} " == *" $t "* ]] || failed+=("$t")
	fi
	printf '%-12s %12s %10s %8s  %s\n' "$t" "${runs:-?}" "${speed:-?}" "$corpus" "$result"
	if [ $rc -ne 0 ]; then
		# the report (sanitizer or broken invariant), and the saved input
		awk '/ERROR:|invariant failed|runtime error/ { on = 1 } on && n++ < 12' "$log"
		ls "$art" | sed "s|^|  saved input: $art/|"
	fi
done
echo
if [ ${#failed[@]} -gt 0 ]; then
	echo "fuzz: $total executions in all; failed: ${failed[*]}"
else
	echo "fuzz: $total executions in all, $# targets, none failed"
fi
[ ${#failed[@]} -eq 0 ]
