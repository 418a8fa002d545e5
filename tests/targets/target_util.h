/* SPDX-License-Identifier: MIT */
/* Small helpers shared by the traced test programs (header-only: each target is one file). */
#ifndef ZT_TARGET_UTIL_H
#define ZT_TARGET_UTIL_H

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

/*
 * Every traced function of a target: never inlined, cloned (.constprop/.isra) or merged, so it
 * appears once in .symtab under its own name and each call is a real call the uprobe sees.
 * Targets are built with clang (see targets.mk), which has no noipa.
 */
#ifdef __clang__
#define ZT_TARGET_FN __attribute__((noinline, used))
#else
#define ZT_TARGET_FN __attribute__((noipa, used))
#endif

#define ZT_NS_PER_MS  1000000L
#define ZT_NS_PER_SEC 1000000000L

/*
 * Parses @s as a decimal long in [@min, @max] into *@out. Returns 0, or -EINVAL when @s is not
 * a number or is out of range.
 */
static inline int zt_target_parse_long(const char *s, long min, long max, long *out)
{
	char *end;
	long v;

	errno = 0;
	v = strtol(s, &end, 10);
	if (errno || end == s || *end || v < min || v > max)
		return -EINVAL;
	*out = v;
	return 0;
}

/* Sleeps @ms milliseconds, resuming after signals. */
/* CLOCK_MONOTONIC in nanoseconds. */
static inline long long zt_target_now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * ZT_NS_PER_SEC + ts.tv_nsec;
}

static inline void zt_target_sleep_ms(long ms)
{
	struct timespec ts = {.tv_sec = ms / 1000, .tv_nsec = (ms % 1000) * ZT_NS_PER_MS};

	while (nanosleep(&ts, &ts) && errno == EINTR)
		;
}

/* Blocks until one byte (or EOF) arrives on stdin. Returns 0 or -errno. */
static inline int zt_target_wait_byte(void)
{
	char c;
	ssize_t n;

	do {
		n = read(STDIN_FILENO, &c, 1);
	} while (n < 0 && errno == EINTR);
	return n < 0 ? -errno : 0;
}

/*
 * Prints "ready <pid>" on stdout and blocks until one byte (or EOF) arrives on stdin, so a test
 * can attach a tracer before the interesting work starts. Returns 0 or -errno.
 */
static inline int zt_target_wait_go(void)
{
	printf("ready %d\n", (int)getpid());
	if (fflush(stdout))
		return -errno;
	return zt_target_wait_byte();
}

#endif
