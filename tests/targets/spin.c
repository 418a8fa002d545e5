/* SPDX-License-Identifier: MIT */
/*
 * spin: calls the tiny function work(i) in a tight loop, to measure the cost a probe adds per
 * call (compare ns_per_call traced and untraced).
 *
 *   spin [--iters N] [--wait]
 *
 * --wait prints "ready <pid>" and blocks until a byte arrives on stdin. The last line is
 *   spin: iters=N sum=S ns_per_call=X.XX
 */
#include <getopt.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "target_util.h"

#define MAX_ITERS 10000000000L

/* The probed function: cheap on purpose so the probe's own cost dominates. */
ZT_TARGET_FN long work(long i)
{
	return i * 3 + 1;
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
	    {"iters", required_argument, NULL, 'n'},
	    {"wait", no_argument, NULL, 'w'},
	    {0},
	};
	long iters = 1000000, i, sum = 0;
	long long start, elapsed;
	int wait = 0, c, err;

	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		if (c == 'n' && !zt_target_parse_long(optarg, 0, MAX_ITERS, &iters))
			continue;
		if (c == 'w') {
			wait = 1;
			continue;
		}
		fprintf(stderr, "usage: spin [--iters N] [--wait]\n");
		return 2;
	}
	if (wait) {
		err = zt_target_wait_go();
		if (err) {
			fprintf(stderr, "spin: waiting on stdin: %s\n", strerror(-err));
			return 1;
		}
	}

	start = zt_target_now_ns();
	for (i = 0; i < iters; i++)
		sum += work(i);
	elapsed = zt_target_now_ns() - start;

	printf("spin: iters=%ld sum=%ld ns_per_call=%.2f\n", iters, sum,
	       iters ? (double)elapsed / iters : 0.0);
	return 0;
}
