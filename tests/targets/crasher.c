/* SPDX-License-Identifier: MIT */
/*
 * crasher: dies of SIGSEGV in the middle of traced calls, so tests can check that the calls
 * it never returns from are reported as incomplete.
 *
 *   crasher [--wait]
 *
 * After --wait (prints "ready <pid>", blocks until a byte arrives on stdin):
 *   crash_warmup()     returns CRASHER_WARMUP_RET (42): one complete call before the crash
 *   crash_outer()      calls crash_middle()
 *   crash_middle()     calls crash_inner()
 *   crash_inner()      stores through a NULL pointer: the process dies of SIGSEGV
 * So a tracer of 'crash_*' sees exactly one complete span (crash_warmup, ret 42) and three
 * open ones, nested outer > middle > inner. Nothing is printed after "ready"; the exit status
 * is death by SIGSEGV (the shell reports 139).
 */
#include <getopt.h>
#include <string.h>

#include "target_util.h"

#define CRASHER_WARMUP_RET 42

/*
 * The pointer crash_inner() writes through. volatile: the compiler cannot see that it is NULL,
 * so it emits a real store (not a trap instruction) and the fault is an ordinary SIGSEGV.
 */
static int *volatile nowhere;
/* Counts crash_warmup() calls: a side effect, so the compiler cannot drop the call. */
static volatile long warmups;

/* Returns CRASHER_WARMUP_RET: a call that completes before the crash. */
ZT_TARGET_FN long crash_warmup(void)
{
	warmups++;
	return CRASHER_WARMUP_RET;
}

/* Never returns: faults on a NULL store. */
ZT_TARGET_FN long crash_inner(void)
{
	*nowhere = 1;
	return 0;
}

/* Never returns: its callee faults. */
ZT_TARGET_FN long crash_middle(void)
{
	return crash_inner() + 1;
}

/* Never returns: its callee's callee faults. */
ZT_TARGET_FN long crash_outer(void)
{
	return crash_middle() + 1;
}

int main(int argc, char **argv)
{
	int err;

	if (argc > 2 || (argc == 2 && strcmp(argv[1], "--wait"))) {
		fprintf(stderr, "usage: crasher [--wait]\n");
		return 2;
	}
	if (argc == 2) {
		err = zt_target_wait_go();
		if (err) {
			fprintf(stderr, "crasher: waiting on stdin: %s\n", strerror(-err));
			return 1;
		}
	}
	if (crash_warmup() != CRASHER_WARMUP_RET)
		return 1;
	return (int)crash_outer();
}
