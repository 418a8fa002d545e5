/* SPDX-License-Identifier: MIT */
/*
 * execer: calls a traced function a fixed number of times, then either exits or replaces
 * itself with another program from inside two traced calls, so tests can check what a tracer
 * makes of calls that an exec ends (they never return) and of the new image.
 *
 *   execer [--wait] [--calls N] [--hold] [--exec PATH ARG...]
 *
 * --wait prints "ready <pid>" and blocks for a byte (or EOF) on stdin first. Then
 *   exec_work(i)        for i = 0..N-1, returning i
 * and with --exec:
 *   exec_outer()        calls exec_middle()
 *   exec_middle()       execv(PATH, [PATH, ARG...]): neither call ever returns
 * (an execv that fails prints "execer: exec PATH: ERROR" and exits 1). Without --exec it
 * prints "execer: pid=P calls=N" and, with --hold, blocks for another byte before exiting 0.
 */
#include <string.h>

#include "target_util.h"

#define MAX_CALLS 1000000

/* Counts exec_work() calls: a side effect, so the compiler cannot drop or fold the calls. */
static volatile long works;

/* Returns i: one complete call per iteration. */
ZT_TARGET_FN long exec_work(long i)
{
	works++;
	return i;
}

/* Replaces the process image; returns only when execv fails. */
ZT_TARGET_FN long exec_middle(char **argv)
{
	execv(argv[0], argv);
	return -errno;
}

ZT_TARGET_FN long exec_outer(char **argv)
{
	return exec_middle(argv);
}

int main(int argc, char **argv)
{
	long calls = 0, sum = 0, err;
	int wait = 0, hold = 0, i;
	char **exec_argv = NULL;

	for (i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--wait")) {
			wait = 1;
		} else if (!strcmp(argv[i], "--hold")) {
			hold = 1;
		} else if (!strcmp(argv[i], "--calls") && i + 1 < argc &&
			   !zt_target_parse_long(argv[i + 1], 0, MAX_CALLS, &calls)) {
			i++;
		} else if (!strcmp(argv[i], "--exec") && i + 1 < argc) {
			exec_argv = &argv[i + 1];
			break;
		} else {
			fprintf(
			    stderr,
			    "usage: execer [--wait] [--calls N] [--hold] [--exec PATH ARG...]\n");
			return 2;
		}
	}
	if (wait && zt_target_wait_go())
		return 1;
	for (long c = 0; c < calls; c++)
		sum += exec_work(c);
	if (exec_argv) {
		fflush(stdout);
		err = exec_outer(exec_argv);
		fprintf(stderr, "execer: exec %s: %s\n", exec_argv[0], strerror((int)-err));
		return 1;
	}
	printf("execer: pid=%d calls=%ld\n", (int)getpid(), calls);
	fflush(stdout);
	if (hold)
		zt_target_wait_byte();
	return sum == calls * (calls - 1) / 2 && works == calls ? 0 : 1;
}
