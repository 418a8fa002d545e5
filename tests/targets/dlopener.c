/* SPDX-License-Identifier: MIT */
/*
 * dlopener: loads libpricing.so with dlopen() only after it started, then calls price_lookup,
 * so tests can check that a tracer picks up a library mapped after it attached.
 *
 *   dlopener [--delay-ms MS] [--wait] [--wait-loaded] [--calls K] [--interval-ms MS]
 *
 * 1. With --wait: prints "ready <pid>" and blocks until a byte arrives on stdin; without it,
 *    sleeps MS milliseconds (default 500).
 * 2. dlopen()s libpricing.so from its own directory, prints "loaded".
 * 3. With --wait-loaded: blocks until another byte arrives on stdin.
 * 4. Calls price_lookup(i) for i = 1..K (default 10) through call_pricing(), sleeping
 *    --interval-ms (default 0) between calls, and prints "dlopener: calls=K sum=S".
 */
#include <dlfcn.h>
#include <getopt.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "target_util.h"

#define MAX_CALLS 100000000L
#define MAX_MS	  60000L
#define LIB_NAME  "libpricing.so"

typedef long (*price_fn)(long);

/* Calls @fn on @id; a function of the main executable, so it can be traced too. */
ZT_TARGET_FN long call_pricing(price_fn fn, long id)
{
	return fn(id);
}

/*
 * Writes the path of LIB_NAME next to this executable into @buf of @size bytes.
 * Returns 0 or -errno.
 */
static int lib_path(char *buf, size_t size)
{
	char exe[PATH_MAX];
	ssize_t n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
	char *slash;

	if (n < 0)
		return -errno;
	exe[n] = '\0';
	slash = strrchr(exe, '/');
	if (!slash)
		return -ENOENT;
	*slash = '\0';
	if ((size_t)snprintf(buf, size, "%s/%s", exe, LIB_NAME) >= size)
		return -ENAMETOOLONG;
	return 0;
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
	    {"delay-ms", required_argument, NULL, 'd'},	   {"wait", no_argument, NULL, 'w'},
	    {"wait-loaded", no_argument, NULL, 'l'},	   {"calls", required_argument, NULL, 'c'},
	    {"interval-ms", required_argument, NULL, 'i'}, {0},
	};
	long delay_ms = 500, calls = 10, interval_ms = 0, i, sum = 0;
	int wait = 0, wait_loaded = 0, c, err = 0;
	char path[PATH_MAX];
	price_fn lookup;
	void *lib;

	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (c) {
		case 'd':
			err = zt_target_parse_long(optarg, 0, MAX_MS, &delay_ms);
			break;
		case 'w':
			wait = 1;
			break;
		case 'l':
			wait_loaded = 1;
			break;
		case 'c':
			err = zt_target_parse_long(optarg, 0, MAX_CALLS, &calls);
			break;
		case 'i':
			err = zt_target_parse_long(optarg, 0, MAX_MS, &interval_ms);
			break;
		default:
			err = -EINVAL;
		}
		if (err) {
			fprintf(stderr, "usage: dlopener [--delay-ms MS] [--wait] [--wait-loaded] "
					"[--calls K] [--interval-ms MS]\n");
			return 2;
		}
	}

	if (wait)
		err = zt_target_wait_go();
	else
		zt_target_sleep_ms(delay_ms);
	if (!err)
		err = lib_path(path, sizeof(path));
	if (err) {
		fprintf(stderr, "dlopener: %s\n", strerror(-err));
		return 1;
	}

	lib = dlopen(path, RTLD_NOW);
	if (!lib) {
		fprintf(stderr, "dlopener: dlopen: %s\n", dlerror());
		return 1;
	}
	lookup = (price_fn)dlsym(lib, "price_lookup");
	if (!lookup) {
		fprintf(stderr, "dlopener: dlsym: %s\n", dlerror());
		return 1;
	}
	printf("loaded\n");
	fflush(stdout);
	if (wait_loaded) {
		err = zt_target_wait_byte();
		if (err) {
			fprintf(stderr, "dlopener: waiting on stdin: %s\n", strerror(-err));
			return 1;
		}
	}

	for (i = 1; i <= calls; i++) {
		sum += call_pricing(lookup, i);
		if (interval_ms && i < calls)
			zt_target_sleep_ms(interval_ms);
	}
	printf("dlopener: calls=%ld sum=%ld\n", calls, sum);
	dlclose(lib);
	return 0;
}
