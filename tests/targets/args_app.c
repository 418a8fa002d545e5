/* SPDX-License-Identifier: MIT */
/*
 * args_app: known arguments for the argument-capture tests (--capture).
 *
 *   args_app [--wait]
 *
 * Calls, in this order and once each:
 *   submit_order(42, "abc")                      returns 3 (the string's length)
 *   submit_order(-7, LONG_SKU)                   100 bytes: longer than any capture limit
 *   submit_order(7, EXACT_SKU)                   exactly 32 bytes (the default limit)
 *   submit_order(9, NULL)                        returns -1 (an unreadable pointer)
 *   audit_order(42, "secret-token-...")          returns 42: never captured by the tests
 * then prints "args_app: calls=5 id_sum=51".
 */
#include <getopt.h>
#include <string.h>

#include "target_util.h"

#define LONG_SKU                                                                                   \
	"0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789abcdefghijklmno"  \
	"pqrstuvwxyzAB"
#define EXACT_SKU  "abcdefghijklmnopqrstuvwxyz012345"
#define SECRET_ARG "secret-token-3f9a1c"

static long calls;
static long id_sum; /* uses every id, or clang would not even pass the unused ones */

/* Returns the length of @sku, -1 for NULL; @id only travels in a register. */
ZT_TARGET_FN long submit_order(int id, const char *sku)
{
	calls++;
	id_sum += id;
	return sku ? (long)strlen(sku) : -1;
}

/* Returns @id; @note is memory a trace without --capture must never show. */
ZT_TARGET_FN long audit_order(long id, const char *note)
{
	calls++;
	return note[0] ? id : 0;
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
	    {"wait", no_argument, NULL, 'w'},
	    {0},
	};
	int wait = 0, c, err;

	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		if (c == 'w') {
			wait = 1;
			continue;
		}
		fprintf(stderr, "usage: args_app [--wait]\n");
		return 2;
	}
	if (wait) {
		err = zt_target_wait_go();
		if (err) {
			fprintf(stderr, "args_app: waiting on stdin: %s\n", strerror(-err));
			return 1;
		}
	}
	submit_order(42, "abc");
	submit_order(-7, LONG_SKU);
	submit_order(7, EXACT_SKU);
	submit_order(9, NULL);
	audit_order(42, SECRET_ARG);
	printf("args_app: calls=%ld id_sum=%ld\n", calls, id_sum);
	return 0;
}
