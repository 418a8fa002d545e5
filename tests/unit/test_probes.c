// SPDX-License-Identifier: MIT
/*
 * The probe table: a function is one probe per FILE, not per path. Two containers may run
 * different files at the same path; the agent attaches once per probe, so sharing an entry by
 * path would leave the second file unprobed.
 */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "probe_spec.h"
#include "probes.h"
#include "unit/fixtures/fixture_path.h"

static char dir[] = "/tmp/zt-probes-XXXXXX";

static void setup(void)
{
	cr_assert_not_null(mkdtemp(dir));
}

static void teardown(void)
{
	char cmd[PATH_MAX + 16];

	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	cr_expect_eq(system(cmd), 0);
}

TestSuite(probes, .init = setup, .fini = teardown);

/*
 * Copy the fixture library to dir/lib.so as a new file: copied beside the old one, then renamed
 * over it, so the two exist at once and cannot share an inode number.
 */
static void place_library(void)
{
	char src[PATH_MAX], cmd[4 * PATH_MAX];

	zt_fixture(src, "libsym.so");
	snprintf(cmd, sizeof(cmd), "cp '%s' '%s/lib.so.new' && mv -f '%s/lib.so.new' '%s/lib.so'",
		 src, dir, dir, dir);
	cr_assert_eq(system(cmd), 0);
}

/* Resolve u:DIR/lib.so:zt_fix_* system-wide into tab; returns how many ids came back. */
static size_t resolve(struct zt_probe_table *tab, uint32_t **ids)
{
	struct zt_resolve_ctx ctx = {.max_probes = 1000};
	char text[PATH_MAX + 32], err[512];
	struct zt_probe_spec spec;
	size_t n = 0;

	snprintf(text, sizeof(text), "u:%s/lib.so:zt_fix_*", dir);
	cr_assert_eq(zt_probe_spec_parse(text, &spec, err, sizeof(err)), 0, "%s", err);
	cr_assert_eq(zt_probes_resolve(tab, &spec, &ctx, ids, &n, err, sizeof(err)), 0, "%s", err);
	zt_probe_spec_free(&spec);
	return n;
}

Test(probes, the_same_file_twice_is_the_same_probes)
{
	struct zt_probe_table tab = {0};
	uint32_t *a, *b;
	size_t na, nb;

	place_library();
	na = resolve(&tab, &a);
	nb = resolve(&tab, &b);
	cr_assert_gt(na, 0);
	cr_assert_eq(nb, na);
	cr_assert_eq(tab.n, na, "no new entry for a file already in the table");
	cr_expect_arr_eq(a, b, na * sizeof(*a));
	free(a);
	free(b);
	zt_probes_free(&tab);
}

Test(probes, another_file_at_the_same_path_gets_its_own_probes)
{
	struct zt_probe_table tab = {0};
	uint32_t *a, *b;
	size_t na, nb;

	place_library();
	na = resolve(&tab, &a);
	place_library(); /* the same bytes, another file: offsets equal, inode not */
	nb = resolve(&tab, &b);
	cr_assert_eq(nb, na);
	cr_assert_eq(tab.n, 2 * na, "the second file needs probes of its own to be attached");
	for (size_t i = 0; i < na; i++) {
		const struct zt_probe *p = &tab.v[a[i]], *q = &tab.v[b[i]];

		cr_expect_neq(a[i], b[i]);
		cr_expect_str_eq(p->name, q->name);
		cr_expect_eq(p->offset, q->offset);
		cr_expect_neq(p->ino, q->ino);
	}
	free(a);
	free(b);
	zt_probes_free(&tab);
}
