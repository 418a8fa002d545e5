// SPDX-License-Identifier: MIT
/* zt_exec_image: the ELF program the kernel runs for a command, through "#!" lines. */
#include <criterion/criterion.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>
#include "exec_image.h"

static char dir[] = "/tmp/zt-exec-image-XXXXXX";

static void setup(void)
{
	cr_assert_not_null(mkdtemp(dir));
}

static void teardown(void)
{
	char cmd[PATH_MAX];

	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	cr_expect_eq(system(cmd), 0);
}

TestSuite(exec_image, .init = setup, .fini = teardown);

/* Write an executable file dir/name with text; its path into path. */
static void script(const char *name, const char *text, char *path, size_t len)
{
	FILE *f;

	snprintf(path, len, "%s/%s", dir, name);
	f = fopen(path, "w");
	cr_assert_not_null(f);
	fputs(text, f);
	fclose(f);
	cr_assert_eq(chmod(path, 0755), 0);
}

Test(exec_image, an_elf_file_is_itself)
{
	char out[PATH_MAX];

	cr_assert_eq(zt_exec_image("/bin/true", NULL, out, sizeof(out)), 0);
	cr_expect_str_eq(out, "/bin/true");
}

Test(exec_image, a_script_runs_its_interpreter)
{
	char path[PATH_MAX], out[PATH_MAX];

	script("a.sh", "#!  /bin/true  -x\necho\n", path, sizeof(path));
	cr_assert_eq(zt_exec_image(path, NULL, out, sizeof(out)), 0);
	cr_expect_str_eq(out, "/bin/true");
}

Test(exec_image, env_runs_the_program_found_through_path)
{
	char path[PATH_MAX], prog[PATH_MAX], out[PATH_MAX], search[2 * PATH_MAX];

	script("prog", "\177ELF", prog, sizeof(prog)); /* not a script: the answer */
	script("b.sh", "#!/usr/bin/env prog\n", path, sizeof(path));
	snprintf(search, sizeof(search), "/nonexistent:%s", dir);
	cr_assert_eq(zt_exec_image(path, search, out, sizeof(out)), 0);
	cr_expect_str_eq(out, prog);
	/* without a PATH, or with an option env interprets itself, env is the program */
	cr_assert_eq(zt_exec_image(path, NULL, out, sizeof(out)), 0);
	cr_expect_str_eq(out, "/usr/bin/env");
	script("c.sh", "#!/usr/bin/env -S prog -x\n", path, sizeof(path));
	cr_assert_eq(zt_exec_image(path, search, out, sizeof(out)), 0);
	cr_expect_str_eq(out, "/usr/bin/env");
	/* NAME nowhere on PATH */
	script("d.sh", "#!/usr/bin/env no-such-program-zt\n", path, sizeof(path));
	cr_expect_eq(zt_exec_image(path, search, out, sizeof(out)), -ENOENT);
}

Test(exec_image, scripts_chain_up_to_the_kernel_limit)
{
	char path[PATH_MAX], text[PATH_MAX + 8], out[PATH_MAX];

	/* s0 runs /bin/true; s(i) runs s(i-1): s4 is four scripts deep, s5 five */
	snprintf(text, sizeof(text), "#!/bin/true\n");
	for (int i = 0; i <= 5; i++) {
		char name[8];

		snprintf(name, sizeof(name), "s%d", i);
		script(name, text, path, sizeof(path));
		snprintf(text, sizeof(text), "#!%s\n", path);
	}
	snprintf(path, sizeof(path), "%s/s3", dir);
	cr_assert_eq(zt_exec_image(path, NULL, out, sizeof(out)), 0);
	cr_expect_str_eq(out, "/bin/true");
	snprintf(path, sizeof(path), "%s/s4", dir);
	cr_expect_eq(zt_exec_image(path, NULL, out, sizeof(out)), -ELOOP);
}

Test(exec_image, bad_scripts_and_files)
{
	char path[PATH_MAX], out[PATH_MAX];

	script("e.sh", "#!\n", path, sizeof(path));
	cr_expect_eq(zt_exec_image(path, NULL, out, sizeof(out)), -ENOEXEC);
	script("f.sh", "#!/nonexistent/interp\n", path, sizeof(path));
	cr_expect_eq(zt_exec_image(path, NULL, out, sizeof(out)), -ENOENT);
	cr_expect_eq(zt_exec_image("/nonexistent/file", NULL, out, sizeof(out)), -ENOENT);
	script("g.sh", "#!/bin/true\n", path, sizeof(path));
	cr_expect_eq(zt_exec_image(path, NULL, out, 4), -ENAMETOOLONG);
}
