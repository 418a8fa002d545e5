/* SPDX-License-Identifier: MIT */
/*
 * sysload: a known number of syscalls, for syscall tracing tests.
 *
 *   sysload [--wait] [--hold]
 *
 * do_sleeps() makes 100 nanosleep(1 ms) syscalls, do_missing_opens() 50 openat() of a missing
 * file (ENOENT), do_reads() 10 one-byte read()s of /dev/zero (opened before --wait). The raw
 * syscalls are made with syscall(2) so the names are exact (glibc's nanosleep() would use
 * clock_nanosleep). --wait prints "ready <pid>" and blocks for a byte on stdin before the work
 * (attach then, and the counts above are exact); --hold blocks for another byte after it.
 * The last line is "sysload: done".
 */
#include <fcntl.h>
#include <string.h>
#include <sys/syscall.h>

#include "target_util.h"

#define SLEEPS 100
#define MISSING_OPENS 50
#define READS 10

ZT_TARGET_FN int do_sleeps(void)
{
	struct timespec ts = { .tv_sec = 0, .tv_nsec = ZT_NS_PER_MS };

	for (int i = 0; i < SLEEPS; i++)
		syscall(SYS_nanosleep, &ts, NULL);
	return SLEEPS;
}

ZT_TARGET_FN int do_missing_opens(void)
{
	int failed = 0;

	for (int i = 0; i < MISSING_OPENS; i++)
		failed += syscall(SYS_openat, AT_FDCWD, "/nonexistent/ztrace-missing", O_RDONLY) < 0;
	return failed;
}

ZT_TARGET_FN int do_reads(int fd)
{
	char c;
	int n = 0;

	for (int i = 0; i < READS; i++)
		n += (int)syscall(SYS_read, fd, &c, 1);
	return n;
}

int main(int argc, char **argv)
{
	int wait = 0, hold = 0, fd;

	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--wait") == 0)
			wait = 1;
		else if (strcmp(argv[i], "--hold") == 0)
			hold = 1;
		else {
			fprintf(stderr, "usage: sysload [--wait] [--hold]\n");
			return 2;
		}
	}
	fd = open("/dev/zero", O_RDONLY);
	if (fd < 0)
		return 1;
	if (wait) {
		printf("ready %d\n", (int)getpid());
		fflush(stdout);
		zt_target_wait_byte();
	}
	do_sleeps();
	do_missing_opens();
	do_reads(fd);
	if (hold) {
		printf("worked\n");
		fflush(stdout);
		zt_target_wait_byte();
	}
	printf("sysload: done\n");
	return 0;
}
