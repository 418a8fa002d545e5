/* SPDX-License-Identifier: MIT */
/*
 * usdt_app: a program with its own USDT probes (sys/sdt.h), for USDT tracing tests.
 *
 *   usdt_app [--jobs N] [--wait]
 *
 * Each of N jobs (default 3) fires app:job_start(id), then app:tick(id) twice inside
 * do_job(id), then app:job_end(id). do_job() is a traced function: the ticks are points on its
 * span, and app:job_start..job_end bounds a span around it. --wait prints "ready <pid>" and
 * blocks for a byte on stdin first. The last line is "usdt_app: jobs=N".
 */
#include <string.h>
#include <sys/sdt.h>

#include "target_util.h"

ZT_TARGET_FN long do_job(long id)
{
	DTRACE_PROBE1(app, tick, id);
	zt_target_sleep_ms(1);
	DTRACE_PROBE1(app, tick, id);
	return id;
}

int main(int argc, char **argv)
{
	long jobs = 3, sum = 0;
	int wait = 0;

	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--wait") == 0)
			wait = 1;
		else if (strcmp(argv[i], "--jobs") == 0 && i + 1 < argc)
			zt_target_parse_long(argv[++i], 1, 1000000, &jobs);
	}
	if (wait) {
		printf("ready %d\n", (int)getpid());
		fflush(stdout);
		zt_target_wait_byte();
	}
	for (long id = 1; id <= jobs; id++) {
		DTRACE_PROBE1(app, job_start, id);
		sum += do_job(id);
		DTRACE_PROBE1(app, job_end, id);
	}
	printf("usdt_app: jobs=%ld sum=%ld\n", jobs, sum);
	return 0;
}
