/* SPDX-License-Identifier: MIT */
/*
 * orders: the bundled demo and the main integration target. Deterministic by design so tests
 * can assert exact span counts.
 *
 *   orders [--orders N] [--threads T] [--sleep-ms MS] [--wait] [--quiet]
 *
 * Each of T worker threads handles N orders; thread t handles ids t*N+1 .. t*N+N, so the ids
 * 1 .. N*T are each handled once. Per order, process_order(id):
 *   slow_io(MS)           once, nanosleep MS milliseconds (default 2); returns 0
 *   validate_order(id)    -22 (-EINVAL) when id % 5 == 0, else 0
 *   on error              process_order returns -1 without pricing
 *   compute_price(id)     price_lookup(id) and apply_discount(price, pct) in libpricing.so,
 *                         plus fib(5) (a 5-cent handling fee, computed the slow way)
 *   process_order         returns 0
 *
 * fib(n) recurses naively: calls(n) = 1 + calls(n-1) + calls(n-2), calls(0) = calls(1) = 1,
 * so fib(5) makes exactly 15 calls of fib per priced order, at recursion depths 1..5 with
 * 1, 2, 4, 6, 2 calls per depth, and returns 5. With F = floor(N*T / 5) failed orders:
 *   process_order, validate_order, slow_io: N*T    (F of them error: ret -1 and -22)
 *   compute_price, price_lookup, apply_discount: N*T - F
 *   fib: 15 * (N*T - F)
 * e.g. --orders 10 --threads 2: 20, 20, 20, 16, 16, 16, 240, with 4 + 4 errors.
 *
 * Traced functions return long, not int: x86-64 leaves the upper half of %rax undefined for an
 * int, so a uretprobe reading %rax as 64 bits could see -22 as 4294967274.
 *
 * --wait prints "ready <pid>" on stdout and blocks until a byte arrives on stdin, so a test
 * can attach with -p first. The last line on stdout (unless --quiet) is
 *   orders: threads=T orders=N*T ok=OK failed=F fib_calls=C total_cents=S
 */
#include <errno.h>
#include <getopt.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pricing.h"
#include "target_util.h"

/* Every this-many-th order id is invalid. */
#define INVALID_EVERY 5
/* fib(FIB_N) is the handling fee; 15 calls of fib for n = 5. */
#define FIB_N 5
/* Discount steps: id % DISCOUNT_STEPS * DISCOUNT_STEP_PCT percent. */
#define DISCOUNT_STEPS	  3
#define DISCOUNT_STEP_PCT 5
#define MAX_THREADS	  64
#define MAX_ORDERS	  100000000L
#define MAX_SLEEP_MS	  60000L

static long sleep_ms = 2;
static long fib_calls;
static __thread long thread_cents;

struct worker {
	pthread_t thread;
	long first_id;
	long count;
	long ok;
	long failed;
	long cents;
};

/* Returns the @n-th Fibonacci number, recursively (the call tree is the point). */
ZT_TARGET_FN long fib(long n)
{
	__atomic_fetch_add(&fib_calls, 1, __ATOMIC_RELAXED);
	if (n < 2)
		return n;
	return fib(n - 1) + fib(n - 2);
}

/* Returns 0 when order @id is valid, -EINVAL for every INVALID_EVERY-th id. */
ZT_TARGET_FN long validate_order(long id)
{
	return id % INVALID_EVERY == 0 ? -EINVAL : 0;
}

/* Stands for a blocking backend call: sleeps @ms milliseconds. Returns 0. */
ZT_TARGET_FN long slow_io(long ms)
{
	zt_target_sleep_ms(ms);
	return 0;
}

/* Returns the price of order @id in cents: base price, discount, then the handling fee. */
ZT_TARGET_FN long compute_price(long id)
{
	long price = price_lookup(id);

	price = apply_discount(price, id % DISCOUNT_STEPS * DISCOUNT_STEP_PCT);
	return price + fib(FIB_N);
}

/* Handles order @id. Returns 0, or -1 when the order is invalid (then it is not priced). */
ZT_TARGET_FN long process_order(long id)
{
	slow_io(sleep_ms);
	if (validate_order(id) < 0)
		return -1;
	thread_cents += compute_price(id);
	return 0;
}

/* Thread body: processes the worker's range of order ids. */
static void *worker_main(void *arg)
{
	struct worker *w = arg;
	long i;

	for (i = 0; i < w->count; i++) {
		if (process_order(w->first_id + i) == 0)
			w->ok++;
		else
			w->failed++;
	}
	w->cents = thread_cents;
	return NULL;
}

static void usage(FILE *f)
{
	fprintf(f, "usage: orders [--orders N] [--threads T] [--sleep-ms MS] [--wait] [--quiet]\n");
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
	    {"orders", required_argument, NULL, 'n'},
	    {"threads", required_argument, NULL, 't'},
	    {"sleep-ms", required_argument, NULL, 's'},
	    {"wait", no_argument, NULL, 'w'},
	    {"quiet", no_argument, NULL, 'q'},
	    {"help", no_argument, NULL, 'h'},
	    {0},
	};
	struct worker workers[MAX_THREADS] = {0};
	long orders = 10, threads = 1, ok = 0, failed = 0, cents = 0, t;
	const char *what = NULL;
	int wait = 0, quiet = 0, c, err;

	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (c) {
		case 'n':
			what = "orders";
			err = zt_target_parse_long(optarg, 0, MAX_ORDERS, &orders);
			break;
		case 't':
			what = "threads";
			err = zt_target_parse_long(optarg, 1, MAX_THREADS, &threads);
			break;
		case 's':
			what = "sleep-ms";
			err = zt_target_parse_long(optarg, 0, MAX_SLEEP_MS, &sleep_ms);
			break;
		case 'w':
			wait = 1;
			err = 0;
			break;
		case 'q':
			quiet = 1;
			err = 0;
			break;
		case 'h':
			usage(stdout);
			return 0;
		default:
			usage(stderr);
			return 2;
		}
		if (err) {
			fprintf(stderr, "orders: bad value '%s' for --%s\n", optarg, what);
			return 2;
		}
	}
	if (optind < argc) {
		usage(stderr);
		return 2;
	}

	if (wait) {
		err = zt_target_wait_go();
		if (err) {
			fprintf(stderr, "orders: waiting on stdin: %s\n", strerror(-err));
			return 1;
		}
	}

	for (t = 0; t < threads; t++) {
		workers[t].first_id = t * orders + 1;
		workers[t].count = orders;
		err = pthread_create(&workers[t].thread, NULL, worker_main, &workers[t]);
		if (err) {
			fprintf(stderr, "orders: pthread_create: %s\n", strerror(err));
			return 1;
		}
	}
	for (t = 0; t < threads; t++) {
		pthread_join(workers[t].thread, NULL);
		ok += workers[t].ok;
		failed += workers[t].failed;
		cents += workers[t].cents;
	}

	if (!quiet)
		printf("orders: threads=%ld orders=%ld ok=%ld failed=%ld fib_calls=%ld "
		       "total_cents=%ld\n",
		       threads, orders * threads, ok, failed,
		       __atomic_load_n(&fib_calls, __ATOMIC_RELAXED), cents);
	return 0;
}
