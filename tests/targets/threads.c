/* SPDX-License-Identifier: MIT */
/*
 * threads: many short-lived threads, each calling one traced function once, to check that a
 * tracer keeps up with threads being created and ending (one span each, none lost or merged).
 *
 *   threads [--threads N] [--batch B] [--wait]
 *
 * After --wait (prints "ready <pid>", blocks until a byte arrives on stdin) it starts N threads
 * (default 2000), at most B (default 100) alive at once: thread i calls thread_work(i), which
 * returns i, records its tid and ends. Then it prints
 *   threads: threads=N calls=N distinct_tids=D
 * D is how many different tids the threads had; it is N unless the kernel reused a tid of an
 * ended thread (pid_max wrapped), which a test needs to know to count tids exactly.
 */
#include <getopt.h>
#include <pthread.h>
#include <string.h>
#include <sys/syscall.h>

#include "target_util.h"

#define MAX_THREADS 100000L
#define MAX_BATCH   1000L
/* Small stacks: a batch of threads needs little memory. */
#define THREAD_STACK_BYTES (64 * 1024)

struct job {
	pthread_t thread;
	long index;
	long ret;
	pid_t tid;
};

/* Calls of thread_work(): a side effect, so the compiler cannot drop the calls. */
static long work_calls;

/* The traced function. Returns @index. */
ZT_TARGET_FN long thread_work(long index)
{
	__atomic_fetch_add(&work_calls, 1, __ATOMIC_RELAXED);
	return index;
}

static void *thread_main(void *arg)
{
	struct job *j = arg;

	j->tid = (pid_t)syscall(SYS_gettid);
	j->ret = thread_work(j->index);
	return NULL;
}

static int cmp_tid(const void *a, const void *b)
{
	pid_t x = *(const pid_t *)a, y = *(const pid_t *)b;

	return (x > y) - (x < y);
}

/* Returns how many different tids the jobs had. Sorts a copy; -1 when out of memory. */
static long distinct_tids(const struct job *jobs, long n)
{
	pid_t *tids = calloc((size_t)n, sizeof(*tids));
	long i, d = 0;

	if (!tids)
		return -1;
	for (i = 0; i < n; i++)
		tids[i] = jobs[i].tid;
	qsort(tids, (size_t)n, sizeof(*tids), cmp_tid);
	for (i = 0; i < n; i++)
		d += i == 0 || tids[i] != tids[i - 1];
	free(tids);
	return d;
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
	    {"threads", required_argument, NULL, 'n'},
	    {"batch", required_argument, NULL, 'b'},
	    {"wait", no_argument, NULL, 'w'},
	    {0},
	};
	long nthreads = 2000, batch = 100, i, j;
	pthread_attr_t attr;
	struct job *jobs;
	int wait = 0, c, err;

	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		if (c == 'n' && !zt_target_parse_long(optarg, 1, MAX_THREADS, &nthreads))
			continue;
		if (c == 'b' && !zt_target_parse_long(optarg, 1, MAX_BATCH, &batch))
			continue;
		if (c == 'w') {
			wait = 1;
			continue;
		}
		fprintf(stderr, "usage: threads [--threads N] [--batch B] [--wait]\n");
		return 2;
	}
	jobs = calloc((size_t)nthreads, sizeof(*jobs));
	if (!jobs || pthread_attr_init(&attr) ||
	    pthread_attr_setstacksize(&attr, THREAD_STACK_BYTES)) {
		fprintf(stderr, "threads: out of memory\n");
		return 1;
	}
	if (wait) {
		err = zt_target_wait_go();
		if (err) {
			fprintf(stderr, "threads: waiting on stdin: %s\n", strerror(-err));
			return 1;
		}
	}
	for (i = 0; i < nthreads; i += batch) {
		long end = i + batch < nthreads ? i + batch : nthreads;

		for (j = i; j < end; j++) {
			jobs[j].index = j;
			err = pthread_create(&jobs[j].thread, &attr, thread_main, &jobs[j]);
			if (err) {
				fprintf(stderr, "threads: pthread_create: %s\n", strerror(err));
				return 1;
			}
		}
		for (j = i; j < end; j++)
			pthread_join(jobs[j].thread, NULL);
	}
	for (i = 0; i < nthreads; i++) {
		if (jobs[i].ret != i) {
			fprintf(stderr, "threads: thread %ld returned %ld\n", i, jobs[i].ret);
			return 1;
		}
	}
	printf("threads: threads=%ld calls=%ld distinct_tids=%ld\n", nthreads, work_calls,
	       distinct_tids(jobs, nthreads));
	pthread_attr_destroy(&attr);
	free(jobs);
	return 0;
}
