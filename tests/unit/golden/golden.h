/* SPDX-License-Identifier: MIT */
/*
 * Golden-file checks for the exporters' unit tests. The expected output of a test lives in
 * tests/unit/golden/NAME; run the test with ZT_UPDATE_GOLDEN=1 in the environment to rewrite
 * the file from the current output (then review the diff). The directory is found from the
 * working directory (make runs tests from the repository root) or else from the test binary
 * ($(OUTPUT)/tests/unit/test_x, with OUTPUT inside the repository).
 */
#ifndef ZT_TEST_GOLDEN_H
#define ZT_TEST_GOLDEN_H

#include <criterion/criterion.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define ZT_GOLDEN_DIR "tests/unit/golden"

/* Write the path of golden file name into out (PATH_MAX bytes); fails the test if not found. */
static inline void zt_golden_path(char *out, const char *name)
{
	char exe[PATH_MAX];
	ssize_t len;

	if (access(ZT_GOLDEN_DIR, F_OK) == 0) {
		cr_assert_lt(snprintf(out, PATH_MAX, "%s/%s", ZT_GOLDEN_DIR, name), PATH_MAX);
		return;
	}
	len = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
	cr_assert_gt(len, 0, "readlink /proc/self/exe");
	exe[len] = '\0';
	/* Drop "/test_x", "/unit", "/tests" and "/$(OUTPUT)". */
	for (int up = 0; up < 4; up++) {
		char *slash = strrchr(exe, '/');

		cr_assert_not_null(slash, "cannot find %s from %s", ZT_GOLDEN_DIR, exe);
		*slash = '\0';
	}
	cr_assert_lt(snprintf(out, PATH_MAX, "%s/%s/%s", exe, ZT_GOLDEN_DIR, name), PATH_MAX);
}

/* Assert that text (len bytes) equals golden file name, or rewrite it under ZT_UPDATE_GOLDEN. */
static inline void zt_golden_check(const char *name, const char *text, size_t len)
{
	char path[PATH_MAX];
	const char *update = getenv("ZT_UPDATE_GOLDEN");
	char *want;
	long size;
	FILE *f;

	zt_golden_path(path, name);
	if (update && !strcmp(update, "1")) {
		f = fopen(path, "w");
		cr_assert_not_null(f, "cannot write %s", path);
		cr_assert_eq(fwrite(text, 1, len, f), len);
		cr_assert_eq(fclose(f), 0);
		return;
	}
	f = fopen(path, "r");
	cr_assert_not_null(f, "missing golden file %s (ZT_UPDATE_GOLDEN=1 creates it)", path);
	cr_assert_eq(fseek(f, 0, SEEK_END), 0);
	size = ftell(f);
	rewind(f);
	want = malloc(size + 1);
	cr_assert_not_null(want);
	cr_assert_eq(fread(want, 1, size, f), (size_t)size);
	want[size] = '\0';
	fclose(f);
	cr_assert_eq((size_t)size, len, "%s: %zu bytes expected, got %zu:\n%.*s", path,
		     (size_t)size, len, (int)len, text);
	cr_assert_eq(memcmp(want, text, len), 0, "%s differs; got:\n%.*s", path, (int)len, text);
	free(want);
}

#endif
