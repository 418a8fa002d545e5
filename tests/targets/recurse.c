/* SPDX-License-Identifier: MIT */
/*
 * recurse: one recursive function called far deeper than a tracer's per-thread span stack
 * (ZT_MAX_DEPTH, 32), to check that the overflow is counted and the recorded part still nests.
 *
 *   recurse [--depth N] [--wait]
 *
 * dive(1) calls dive(2), ..., down to dive(N) (default 100): exactly N calls of dive, the call
 * at level L running inside the call at level L - 1 and returning L. After --wait (prints
 * "ready <pid>", blocks until a byte arrives on stdin) it does that once and prints
 *   recurse: depth=N calls=N
 */
#include <getopt.h>
#include <string.h>

#include "target_util.h"

#define MAX_DEPTH 100000L

static long depth = 100;
static long calls;

/* Returns @level after descending to level @depth below it. */
ZT_TARGET_FN long dive(long level)
{
	calls++;
	if (level < depth && dive(level + 1) != level + 1)
		return -1;
	return level;
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
	    {"depth", required_argument, NULL, 'n'},
	    {"wait", no_argument, NULL, 'w'},
	    {0},
	};
	int wait = 0, c, err;

	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		if (c == 'n' && !zt_target_parse_long(optarg, 1, MAX_DEPTH, &depth))
			continue;
		if (c == 'w') {
			wait = 1;
			continue;
		}
		fprintf(stderr, "usage: recurse [--depth N] [--wait]\n");
		return 2;
	}
	if (wait) {
		err = zt_target_wait_go();
		if (err) {
			fprintf(stderr, "recurse: waiting on stdin: %s\n", strerror(-err));
			return 1;
		}
	}
	if (dive(1) != 1)
		return 1;
	printf("recurse: depth=%ld calls=%ld\n", depth, calls);
	return 0;
}
