/* SPDX-License-Identifier: MIT */
/*
 * bench_producer: the pipeline and footprint benchmarks' target. T threads call the traced
 * function bench_span() for a fixed time, as fast as they can or at a total rate, and count
 * their calls, so a tracer's delivered + lost records can be checked against the exact count.
 *
 * bench_span's first instruction is the 5-byte nop that Linux 6.18 turns into a call (its
 * cheapest uprobe, see bench_call.c), so the kernel produces spans as fast as it can.
 *
 *   bench_producer [--threads T] [--duration-ms MS] [--rate CALLS_PER_SEC] [--wait] [--hold]
 *
 * --rate 0 (the default) means as fast as possible. --wait prints "ready <pid>" and blocks for
 * a byte (or EOF) on stdin before the work; --hold prints the result line, then blocks for
 * another byte before exiting, so a benchmark can read the tracer's counters while the target
 * is still alive. The result line is
 *   bench_producer: threads=T calls=N elapsed_ns=E
 */
#include <getopt.h>
#include <pthread.h>
#include <stdint.h>
#include <string.h>

#include "target_util.h"

#define MAX_THREADS	64
#define MAX_DURATION_MS 600000
#define MAX_RATE	1000000000L
/* A rate-limited thread sleeps this long between bursts: bursts of rate/1000 calls. */
#define PACING_NS ZT_NS_PER_MS
/* Calls between two clock reads when unlimited. */
#define CALLS_PER_BATCH 64

long bench_span(long i);

__asm__(".text\n"
	".globl bench_span\n"
	".type bench_span, @function\n"
	"bench_span:\n"
	"	.byte 0x0f, 0x1f, 0x44, 0x00, 0x00\n" /* nopl 0x0(%rax,%rax,1) */
	"	lea 1(%rdi,%rdi,2), %rax\n"
	"	ret\n"
	".size bench_span, .-bench_span\n");

struct worker {
	pthread_t thread;
	int64_t end_ns;
	double rate; /* calls per second for this thread, 0 = unlimited */
	long calls;
	long sum;
};

static int64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * ZT_NS_PER_SEC + ts.tv_nsec;
}

/* Calls bench_span until end_ns; paced so calls made by time t stay at rate * elapsed. */
static void *work(void *arg)
{
	struct worker *w = arg;
	int64_t start = now_ns(), now = start;

	while (now < w->end_ns) {
		long due = CALLS_PER_BATCH;

		if (w->rate > 0) {
			int64_t next = now + PACING_NS;
			struct timespec ts = {.tv_sec = next / ZT_NS_PER_SEC,
					      .tv_nsec = next % ZT_NS_PER_SEC};

			due = (long)(w->rate * (double)(now - start) / ZT_NS_PER_SEC) - w->calls;
			for (long j = 0; j < due; j++)
				w->sum += bench_span(j);
			w->calls += due > 0 ? due : 0;
			while (clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &ts, NULL) == EINTR)
				;
		} else {
			for (long j = 0; j < due; j++)
				w->sum += bench_span(j);
			w->calls += due;
		}
		now = now_ns();
	}
	return NULL;
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
	    {"threads", required_argument, NULL, 't'},
	    {"duration-ms", required_argument, NULL, 'd'},
	    {"rate", required_argument, NULL, 'r'},
	    {"wait", no_argument, NULL, 'w'},
	    {"hold", no_argument, NULL, 'h'},
	    {0},
	};
	static struct worker workers[MAX_THREADS];
	long threads = 2, duration_ms = 1000, rate = 0, calls = 0;
	int wait = 0, hold = 0, c, err;
	int64_t start, elapsed;

	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		if (c == 't' && !zt_target_parse_long(optarg, 1, MAX_THREADS, &threads))
			continue;
		if (c == 'd' && !zt_target_parse_long(optarg, 1, MAX_DURATION_MS, &duration_ms))
			continue;
		if (c == 'r' && !zt_target_parse_long(optarg, 0, MAX_RATE, &rate))
			continue;
		if (c == 'w' || c == 'h') {
			*(c == 'w' ? &wait : &hold) = 1;
			continue;
		}
		fprintf(stderr, "usage: bench_producer [--threads T] [--duration-ms MS] "
				"[--rate CALLS_PER_SEC] [--wait] [--hold]\n");
		return 2;
	}
	if (wait && zt_target_wait_go())
		return 1;

	start = now_ns();
	for (long t = 0; t < threads; t++) {
		workers[t].end_ns = start + duration_ms * ZT_NS_PER_MS;
		workers[t].rate = (double)rate / threads;
		err = pthread_create(&workers[t].thread, NULL, work, &workers[t]);
		if (err) {
			fprintf(stderr, "bench_producer: pthread_create: %s\n", strerror(err));
			return 1;
		}
	}
	for (long t = 0; t < threads; t++) {
		pthread_join(workers[t].thread, NULL);
		calls += workers[t].calls;
	}
	elapsed = now_ns() - start;
	printf("bench_producer: threads=%ld calls=%ld elapsed_ns=%lld\n", threads, calls,
	       (long long)elapsed);
	fflush(stdout);
	if (hold)
		zt_target_wait_byte();
	return 0;
}
