/* SPDX-License-Identifier: MIT */
/*
 * bench_syscall: the syscall cost benchmark's target. Calls getppid() (through syscall(2), so
 * no libc cache can skip the kernel) in a loop for a fixed time per round and prints the time
 * per call, so a tracer's added cost per syscall is (traced - untraced).
 *
 *   bench_syscall [--rounds R] [--round-ms MS] [--warmup-ms MS] [--wait]
 *
 * --wait prints "ready <pid>" and blocks until a byte (or EOF) arrives on stdin. A warm-up of
 * --warmup-ms (default 0) first prints "warmup calls=N ..." (its calls count in calls=, not in
 * the median: they pay for first touches). Each round prints
 *   round I calls=N ns_per_call=X cpu_ns_per_call=Y
 * wall-clock and this thread's CPU time per call: the second leaves out the time other programs
 * held the CPU, but also the time a ptrace-based tracer held the thread stopped. The last line is
 *   bench_call: rounds=R calls=N median_ns_per_call=X
 */
#include <getopt.h>
#include <stdint.h>
#include <stdlib.h>
#include <sys/syscall.h>

#include "target_util.h"

#define MAX_ROUNDS   100
#define MAX_ROUND_MS 60000
/* Syscalls between two clock reads (a vDSO read, no syscall, so tracers do not see it). */
#define CALLS_PER_BATCH 64

/* Reads @clock in ns: CLOCK_MONOTONIC (vDSO, no syscall) or the thread's CPU clock. */
static int64_t clock_ns(clockid_t clock)
{
	struct timespec ts;

	clock_gettime(clock, &ts);
	return (int64_t)ts.tv_sec * ZT_NS_PER_SEC + ts.tv_nsec;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

/*
 * Calls getppid() in batches until @ms milliseconds have passed. Returns the number of calls;
 * the wall-clock and thread CPU ns per call go to *@wall and *@cpu.
 */
static long run_round(long ms, double *wall, double *cpu)
{
	int64_t cpu_start = clock_ns(CLOCK_THREAD_CPUTIME_ID);
	int64_t start = clock_ns(CLOCK_MONOTONIC), elapsed;
	long calls = 0;

	do {
		for (long j = 0; j < CALLS_PER_BATCH; j++)
			syscall(SYS_getppid);
		calls += CALLS_PER_BATCH;
		elapsed = clock_ns(CLOCK_MONOTONIC) - start;
	} while (elapsed < ms * ZT_NS_PER_MS);
	*cpu = (double)(clock_ns(CLOCK_THREAD_CPUTIME_ID) - cpu_start) / calls;
	*wall = (double)elapsed / calls;
	return calls;
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
	    {"rounds", required_argument, NULL, 'r'},
	    {"round-ms", required_argument, NULL, 'm'},
	    {"warmup-ms", required_argument, NULL, 'u'},
	    {"wait", no_argument, NULL, 'w'},
	    {0},
	};
	double per_call[MAX_ROUNDS], cpu;
	long rounds = 5, round_ms = 300, warmup_ms = 0, total = 0, calls;
	int wait = 0, c;

	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		if (c == 'r' && !zt_target_parse_long(optarg, 1, MAX_ROUNDS, &rounds))
			continue;
		if (c == 'm' && !zt_target_parse_long(optarg, 1, MAX_ROUND_MS, &round_ms))
			continue;
		if (c == 'u' && !zt_target_parse_long(optarg, 0, MAX_ROUND_MS, &warmup_ms))
			continue;
		if (c == 'w') {
			wait = 1;
			continue;
		}
		goto usage;
	}
	if (optind != argc)
		goto usage;
	if (wait && zt_target_wait_go())
		return 1;

	if (warmup_ms) {
		calls = run_round(warmup_ms, &per_call[0], &cpu);
		total += calls;
		printf("warmup calls=%ld ns_per_call=%.2f cpu_ns_per_call=%.2f\n", calls,
		       per_call[0], cpu);
	}
	for (long r = 0; r < rounds; r++) {
		calls = run_round(round_ms, &per_call[r], &cpu);
		total += calls;
		printf("round %ld calls=%ld ns_per_call=%.2f cpu_ns_per_call=%.2f\n", r, calls,
		       per_call[r], cpu);
		fflush(stdout);
	}
	qsort(per_call, rounds, sizeof(per_call[0]), cmp_double);
	printf("bench_syscall: rounds=%ld calls=%ld median_ns_per_call=%.2f\n", rounds, total,
	       per_call[rounds / 2]);
	return 0;
usage:
	fprintf(stderr, "usage: bench_syscall [--rounds R] [--round-ms MS] [--warmup-ms MS] "
			"[--wait]\n");
	return 2;
}
