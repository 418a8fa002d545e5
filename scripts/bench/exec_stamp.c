// SPDX-License-Identifier: MIT
/*
 * exec_stamp: the agent benchmark's target for the time from an exec to its first span. It
 * reads CLOCK_REALTIME first thing in main, then calls exec_tick(i) for i = 0, 1, .. COUNT-1,
 * call i at PERIOD_US * i after that stamp (or as soon after as the scheduler allows), so the
 * first span a tracer records says both when tracing began (its start) and how many calls it
 * missed (its return value, i).
 *
 *   exec_stamp PERIOD_US COUNT
 *
 * Prints "exec_stamp: pid=P start_ns=T calls=COUNT" (T: unix ns) when done: printing first
 * would delay the calls.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

#define NS_PER_US     1000ll
#define NS_PER_SEC    1000000000ll
#define MAX_PERIOD_US 1000000
#define MAX_COUNT     1000000

/* The traced call: returns its index, which a span's return value then carries. */
__attribute__((noipa, used)) long exec_tick(long i)
{
	__asm__ volatile("" ::: "memory");
	return i;
}

static long long ts_ns(const struct timespec *ts)
{
	return (long long)ts->tv_sec * NS_PER_SEC + ts->tv_nsec;
}

int main(int argc, char **argv)
{
	struct timespec real, mono, at;
	long period_us, count;

	clock_gettime(CLOCK_REALTIME, &real);
	clock_gettime(CLOCK_MONOTONIC, &mono);
	if (argc != 3 || (period_us = strtol(argv[1], NULL, 10)) < 1 || period_us > MAX_PERIOD_US ||
	    (count = strtol(argv[2], NULL, 10)) < 1 || count > MAX_COUNT) {
		fprintf(stderr, "usage: exec_stamp PERIOD_US COUNT (1..%d, 1..%d)\n", MAX_PERIOD_US,
			MAX_COUNT);
		return 2;
	}
	for (long i = 0; i < count; i++) {
		long long due = ts_ns(&mono) + i * period_us * NS_PER_US;

		at.tv_sec = due / NS_PER_SEC;
		at.tv_nsec = due % NS_PER_SEC;
		while (clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &at, NULL) == EINTR)
			;
		exec_tick(i);
	}
	printf("exec_stamp: pid=%d start_ns=%lld calls=%ld\n", (int)getpid(), ts_ns(&real), count);
	return 0;
}
