/* SPDX-License-Identifier: MIT */
/* Test helper shared by the integration tests: where the binaries are, and argv building. */
#ifndef ZT_TEST_TESTENV_H
#define ZT_TEST_TESTENV_H

#include <stddef.h>

/* Arguments an argv under construction can hold. */
#define ZT_ARGV_MAX 32

/* The absolute path of rel under $ZT_OUTPUT (default .output) into out (PATH_MAX bytes);
 * fails the test, saying how to build it, when it does not exist. */
void zt_output_path(char *out, const char *rel);

/* The ztrace binary to test into out (PATH_MAX bytes): $ZT_ZTRACE when set (another build of
 * it, e.g. the AddressSanitizer one), else ztrace under $ZT_OUTPUT. */
void zt_ztrace_path(char *out);

/* An argv being built: always NULL-terminated. */
struct zt_argv {
	char *v[ZT_ARGV_MAX + 1];
	size_t n;
};

/* Append arg (not copied); fails the test past ZT_ARGV_MAX. */
void zt_argv_add(struct zt_argv *a, const char *arg);

/* A port on 127.0.0.1 where nothing listens (for now): bound, read back and closed. */
int zt_free_port(void);

#endif
