/* SPDX-License-Identifier: MIT */
/*
 * bench_call: the traced-call cost benchmark's target. Calls one tiny function in a loop for a
 * fixed time per round and prints the time per call, so a tracer's added cost per call is
 * (traced - untraced). The kernel handles a uprobe differently depending on the probed
 * function's first instruction, so there is one function per flavour:
 *
 *   bench_push   C, built with a frame pointer: first instruction `push %rbp` (emulated)
 *   bench_lea    assembly: first instruction `lea` (single-stepped out of line)
 *   bench_nop    assembly: first instruction the 5-byte `nopl 0x0(%rax,%rax,1)` that Linux
 *                6.18 rewrites into a call (its optimized uprobe path for USDT-style nops)
 *
 * All three compute i * 3 + 1. A fourth, `args`, calls bench_args(i, i + 1, a 32-byte string)
 * (first instruction `push %rbp`) for the cost of argument capture (--capture). The nop flavour is
 * written in assembly because clang's patchable_function_entry emits `nopl 0x8(%rax,%rax,1)`, which
 * is not the kernel's nop5.
 *
 *   bench_call FLAVOUR [--rounds R] [--round-ms MS] [--warmup-ms MS] [--wait]
 *
 * --wait prints "ready <pid>" and blocks until a byte (or EOF) arrives on stdin. A warm-up of
 * --warmup-ms (default 0) first prints "warmup calls=N ..." (its calls count in calls=, not in
 * the median: they pay for first touches). Each round prints
 *   round I calls=N ns_per_call=X cpu_ns_per_call=Y
 * wall-clock and this thread's CPU time per call: the second leaves out the time other programs
 * held the CPU, but also the time a ptrace-based tracer held the thread stopped. The last line is
 *   bench_call: flavour=F rounds=R calls=N median_ns_per_call=X
 */
#include <getopt.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "target_util.h"

#define MAX_ROUNDS   100
#define MAX_ROUND_MS 60000
/* Calls between two clock reads: the clock's ~20 ns vanish in a batch even when untraced. */
#define CALLS_PER_BATCH 256

ZT_TARGET_FN long bench_push(long i)
{
	return i * 3 + 1;
}

long bench_lea(long i);
long bench_nop(long i);

/* --capture's benchmark: 2 integers and a 32-byte string. */
#define ARGS_STR "0123456789abcdefghijklmnopqrstuv"
_Static_assert(sizeof(ARGS_STR) - 1 == 32, "the string capture benchmark reads 32 bytes");

ZT_TARGET_FN long bench_args(long i, long j, const char *s)
{
	return i * 3 + j + s[0];
}

/* The args flavour: the same one-argument signature as the others. */
static long bench_args_call(long i)
{
	return bench_args(i, i + 1, ARGS_STR);
}

__asm__(".text\n"
	".globl bench_lea\n"
	".type bench_lea, @function\n"
	"bench_lea:\n"
	"	lea 1(%rdi,%rdi,2), %rax\n"
	"	ret\n"
	".size bench_lea, .-bench_lea\n"
	".globl bench_nop\n"
	".type bench_nop, @function\n"
	"bench_nop:\n"
	"	.byte 0x0f, 0x1f, 0x44, 0x00, 0x00\n" /* nopl 0x0(%rax,%rax,1) */
	"	lea 1(%rdi,%rdi,2), %rax\n"
	"	ret\n"
	".size bench_nop, .-bench_nop\n");

static const struct {
	const char *name;
	long (*fn)(long);
} flavours[] = {
    {"push", bench_push},
    {"lea", bench_lea},
    {"nop", bench_nop},
    {"args", bench_args_call},
};

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
 * Calls @fn in batches until @ms milliseconds have passed, adding its results to *@sum so no
 * call can be optimized away. Returns the number of calls; the wall-clock and thread CPU ns
 * per call go to *@wall and *@cpu.
 */
static long run_round(long (*volatile fn)(long), long ms, long *sum, double *wall, double *cpu)
{
	int64_t cpu_start = clock_ns(CLOCK_THREAD_CPUTIME_ID);
	int64_t start = clock_ns(CLOCK_MONOTONIC), elapsed;
	long calls = 0;

	do {
		for (long j = 0; j < CALLS_PER_BATCH; j++)
			*sum += fn(j);
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
	/* volatile: the compiler must not see through the pointer and inline the C flavour. */
	long (*volatile fn)(long) = NULL;
	double per_call[MAX_ROUNDS], cpu;
	long rounds = 5, round_ms = 300, warmup_ms = 0, total = 0, sum = 0, calls;
	const char *flavour;
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
	if (optind != argc - 1)
		goto usage;
	flavour = argv[optind];
	for (size_t k = 0; k < sizeof(flavours) / sizeof(flavours[0]); k++)
		if (!strcmp(flavour, flavours[k].name))
			fn = flavours[k].fn;
	if (!fn)
		goto usage;
	if (wait && zt_target_wait_go())
		return 1;

	if (warmup_ms) {
		calls = run_round(fn, warmup_ms, &sum, &per_call[0], &cpu);
		total += calls;
		printf("warmup calls=%ld ns_per_call=%.2f cpu_ns_per_call=%.2f\n", calls,
		       per_call[0], cpu);
	}
	for (long r = 0; r < rounds; r++) {
		calls = run_round(fn, round_ms, &sum, &per_call[r], &cpu);
		total += calls;
		printf("round %ld calls=%ld ns_per_call=%.2f cpu_ns_per_call=%.2f\n", r, calls,
		       per_call[r], cpu);
		fflush(stdout);
	}
	qsort(per_call, rounds, sizeof(per_call[0]), cmp_double);
	printf("bench_call: flavour=%s rounds=%ld calls=%ld median_ns_per_call=%.2f sum=%ld\n",
	       flavour, rounds, total, per_call[rounds / 2], sum);
	return 0;
usage:
	fprintf(stderr, "usage: bench_call push|lea|nop|args [--rounds R] [--round-ms MS] "
			"[--warmup-ms MS] [--wait]\n");
	return 2;
}
