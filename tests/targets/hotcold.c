/* SPDX-License-Identifier: MIT */
/*
 * hotcold: calls the tiny function hot(i) in a tight loop for a while; one hot call in
 * COLD_EVERY also calls cold(i) from inside it. For the overhead governor's test: hot is costly
 * enough to be sampled, cold is not, and cold runs inside hot calls that are sampled out.
 *
 *   hotcold [--seconds S] [--wait]
 *
 * The counts the program made itself are printed when the loop ends:
 *   hotcold: hot=N cold=M
 * With --wait it then blocks until stdin closes (so a test can scrape metrics before it exits).
 */
#include <getopt.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "target_util.h"

#define MAX_SECONDS 600
#define COLD_EVERY  4096 /* also how often the clock is read */

static long cold_calls;

ZT_TARGET_FN long cold(long i)
{
	cold_calls++;
	return i + 1;
}

ZT_TARGET_FN long hot(long i)
{
	if (i % COLD_EVERY == 0)
		return cold(i);
	return i * 3 + 1;
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
	    {"seconds", required_argument, NULL, 's'},
	    {"wait", no_argument, NULL, 'w'},
	    {0},
	};
	long seconds = 3, i, sum = 0;
	long long end;
	int wait = 0, c;

	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		if (c == 's' && !zt_target_parse_long(optarg, 1, MAX_SECONDS, &seconds))
			continue;
		if (c == 'w') {
			wait = 1;
			continue;
		}
		fprintf(stderr, "usage: hotcold [--seconds S] [--wait]\n");
		return 2;
	}
	end = zt_target_now_ns() + seconds * ZT_NS_PER_SEC;
	for (i = 0;; i++) {
		if (i % COLD_EVERY == 0 && zt_target_now_ns() >= end)
			break;
		sum += hot(i);
	}
	printf("hotcold: hot=%ld cold=%ld sum=%ld\n", i, cold_calls, sum);
	fflush(stdout);
	if (wait)
		zt_target_wait_byte();
	return 0;
}
