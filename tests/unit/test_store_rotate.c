// SPDX-License-Identifier: MIT
/*
 * Record file rotation by size (the agent's `record: {path, max_size, keep}`): with a tiny
 * max_size the file rotates many times; keep is honoured, every file reads and reports on its
 * own (its own definitions, the processes), and the spans across the files are exactly the
 * spans written, in order.
 */
#include <criterion/criterion.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/stat.h>

#include "cmd_report.h"
#include "store.h"

#define SPANS	      3000
#define PER_FLUSH     50 /* spans per block: the writer flushes every block we ask */
#define TINY_MAX_SIZE 4096
#define BOOT_OFFSET   1699990000123456789ll

static char tmpdir[] = "/tmp/zt-rotate-XXXXXX";
static char path[256];

static void make_tmpdir(void)
{
	cr_assert_not_null(mkdtemp(tmpdir));
	snprintf(path, sizeof(path), "%s/run.zt", tmpdir);
}

static void remove_tmpdir(void)
{
	char cmd[64];

	snprintf(cmd, sizeof(cmd), "rm -rf %s", tmpdir);
	cr_assert_eq(system(cmd), 0);
}

TestSuite(store_rotate, .init = make_tmpdir, .fini = remove_tmpdir);

static const char *const names[] = {"process_order", "validate_order", "fib"};

/* Span i: its span id says which it is (i + 1). */
static struct zt_span span_no(unsigned i)
{
	struct zt_span s = {
	    .span_id = i + 1,
	    .start_ns = 1700000000000000000ull + i * 1000ull,
	    .end_ns = 1700000000000000000ull + i * 1000ull + 500 + i % 77,
	    .pid = 4242,
	    .tid = 4242,
	    .probe_id = i % 3,
	    .kind = ZT_KIND_FUNCTION,
	    .status = ZT_STATUS_OK,
	    .name = names[i % 3],
	    .probe = "u:/opt/orders:*",
	    .binary = "/opt/orders",
	};

	s.trace_id[15] = (uint8_t)(i + 1);
	s.trace_id[14] = (uint8_t)((i + 1) >> 8);
	snprintf(s.comm, sizeof(s.comm), "orders");
	return s;
}

static const struct zt_store_process orders_process = {.pid = 4242,
						       .start_time = 99,
						       .comm = "orders",
						       .exe = "/opt/orders",
						       .service_name = "orders"};

/* Write SPANS spans to path, rotating at TINY_MAX_SIZE with keep; returns the rotations. */
static uint64_t write_rotating(unsigned keep)
{
	struct zt_store_writer *w;
	struct zt_store_stats st;
	char err[256];

	w = zt_store_create(path, BOOT_OFFSET, err, sizeof(err));
	cr_assert_not_null(w, "%s", err);
	cr_assert_eq(zt_store_set_rotation(w, path, TINY_MAX_SIZE, keep), 0);
	cr_assert_eq(zt_store_add_process(w, &orders_process), 0);
	for (unsigned i = 0; i < SPANS; i++) {
		struct zt_span s = span_no(i);

		cr_assert_eq(zt_store_add_span(w, &s), 0);
		if (i % PER_FLUSH == PER_FLUSH - 1)
			cr_assert_eq(zt_store_flush(w), 0);
	}
	zt_store_get_stats(w, &st);
	cr_assert_eq(st.spans, SPANS);
	cr_assert_eq(st.processes_forgotten, 0);
	cr_assert_eq(zt_store_close(w), 0);
	return st.rotations;
}

/* PATH.n (PATH for 0). */
static void nth(char *out, size_t len, unsigned n)
{
	if (n)
		snprintf(out, len, "%s.%u", path, n);
	else
		snprintf(out, len, "%s", path);
}

/*
 * Read file n whole: clean end, the process present, every span named, span ids consecutive
 * from the first; the report reads it too. Returns how many spans; *first is the first index.
 */
static unsigned check_file(unsigned n, unsigned *first)
{
	char file[300], err[256] = "";
	struct zt_store_reader *r;
	struct zt_store_item it;
	bool process = false;
	unsigned spans = 0;
	const char *why;
	uint64_t off;
	struct stat sb;
	FILE *devnull;
	int ret;

	nth(file, sizeof(file), n);
	cr_assert_eq(stat(file, &sb), 0, "%s: %s", file, strerror(errno));
	cr_assert_eq(sb.st_mode & 0777, 0600, "%s", file);
	cr_assert_eq(zt_store_open(file, &r, err, sizeof(err)), 0, "%s: %s", file, err);
	while ((ret = zt_store_next(r, &it)) > 0) {
		if (it.type == ZT_STORE_ITEM_PROCESS) {
			cr_assert_eq(it.process.pid, 4242);
			cr_assert_str_eq(it.process.exe, "/opt/orders");
			process = true;
		} else if (it.type == ZT_STORE_ITEM_SPAN) {
			struct zt_span want = span_no((unsigned)it.span.span_id - 1);

			if (!spans)
				*first = (unsigned)it.span.span_id - 1;
			cr_assert_eq(it.span.span_id, *first + spans + 1, "%s", file);
			cr_assert_str_eq(it.span.name, want.name, "%s: definitions of its own",
					 file);
			cr_assert_str_eq(it.span.probe, want.probe);
			cr_assert_eq(it.span.end_ns, want.end_ns);
			spans++;
		}
	}
	cr_assert_eq(ret, 0, "%s", file);
	cr_assert_eq(zt_store_stopped_at(r, &off, &why), ZT_STORE_END, "%s: %s", file, why);
	zt_store_reader_close(r);
	cr_assert(process, "%s starts with the processes seen before", file);
	devnull = fopen("/dev/null", "w");
	cr_assert_eq(zt_cmd_report(file, 3, devnull), 0, "%s", file);
	fclose(devnull);
	return spans;
}

/*
 * Check PATH.<oldest> .. PATH.1, PATH: together they hold spans first .. SPANS - 1 in order
 * (a file may hold none: the last flush rotated). Returns the first span they hold.
 */
static unsigned check_chain(unsigned oldest)
{
	unsigned next = SPANS, first = SPANS, start = 0, spans;
	char file[300];

	for (unsigned n = oldest + 1; n-- > 0;) {
		spans = check_file(n, &start);
		if (!spans)
			continue;
		if (first == SPANS)
			first = next = start;
		cr_assert_eq(start, next, "file %u continues where the older one ended", n);
		next += spans;
	}
	cr_assert_eq(next, SPANS, "the newest file ends with the last span written");
	nth(file, sizeof(file), oldest + 1);
	cr_assert_eq(access(file, F_OK), -1, "%s: no more files than kept", file);
	return first;
}

Test(store_rotate, every_span_once_across_the_kept_files)
{
	uint64_t rotations = write_rotating(100);

	cr_assert_geq(rotations, 10, "a tiny max_size rotates often (%llu)",
		      (unsigned long long)rotations);
	cr_assert_eq(check_chain((unsigned)rotations), 0, "every span written is in a file");
}

Test(store_rotate, keep_drops_the_oldest)
{
	uint64_t rotations = write_rotating(2);

	cr_assert_geq(rotations, 10);
	/* only the newest spans are left: about 3 files' worth */
	cr_assert_gt(check_chain(2), SPANS / 2);
}

Test(store_rotate, keep_zero_keeps_only_the_current_file)
{
	uint64_t rotations = write_rotating(0);

	cr_assert_geq(rotations, 10);
	cr_assert_eq(check_chain(0), SPANS, "the last flush rotated: the new file is empty");
}

static void put_text(unsigned n, const char *text)
{
	char file[300];
	FILE *f;

	nth(file, sizeof(file), n);
	f = fopen(file, "w");
	cr_assert_not_null(f);
	fputs(text, f);
	fclose(f);
}

/* The text of PATH.n, or "" when it does not exist. */
static const char *get_text(unsigned n)
{
	static char text[16];
	char file[300];
	FILE *f;

	nth(file, sizeof(file), n);
	text[0] = '\0';
	f = fopen(file, "r");
	if (f) {
		cr_assert_not_null(fgets(text, sizeof(text), f));
		fclose(f);
	}
	return text;
}

Test(store_rotate, shift_moves_the_files_up_and_drops_the_oldest)
{
	put_text(0, "zero");
	put_text(1, "one");
	put_text(2, "two");
	cr_assert_eq(zt_store_shift(path, 2), 0);
	cr_assert_str_eq(get_text(0), "", "PATH is free for a new file");
	cr_assert_str_eq(get_text(1), "zero");
	cr_assert_str_eq(get_text(2), "one", "the oldest, two, was dropped");
	cr_assert_str_eq(get_text(3), "");
	/* a gap (no PATH) is skipped */
	cr_assert_eq(zt_store_shift(path, 2), 0);
	cr_assert_str_eq(get_text(1), "");
	cr_assert_str_eq(get_text(2), "zero");
	put_text(0, "new");
	cr_assert_eq(zt_store_shift(path, 0), 0);
	cr_assert_str_eq(get_text(0), "", "keep 0 removes PATH");
	cr_assert_str_eq(get_text(2), "zero", "and leaves the others alone");
}

/* The text of file (at most 255 bytes). */
static const char *read_log(const char *file)
{
	static char text[256];
	FILE *f = fopen(file, "r");
	size_t n;

	cr_assert_not_null(f);
	n = fread(text, 1, sizeof(text) - 1, f);
	text[n] = '\0';
	fclose(f);
	return text;
}

Test(store_rotate, a_failed_rotation_stops_the_writer_and_keeps_the_file)
{
	struct zt_store_writer *w;
	char file[300], err[256];
	struct zt_span s = span_no(0);
	unsigned first;
	char log[300];
	int ret = 0, saved, fd;

	/* PATH.1 is a directory: PATH cannot be renamed onto it */
	nth(file, sizeof(file), 1);
	cr_assert_eq(mkdir(file, 0700), 0);
	w = zt_store_create(path, BOOT_OFFSET, err, sizeof(err));
	cr_assert_not_null(w, "%s", err);
	cr_assert_eq(zt_store_set_rotation(w, path, TINY_MAX_SIZE, 1), 0);
	cr_assert_eq(zt_store_add_process(w, &orders_process), 0);
	/* the one line it logs, caught */
	snprintf(log, sizeof(log), "%s/log", tmpdir);
	fflush(stderr);
	saved = dup(STDERR_FILENO);
	fd = open(log, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	cr_assert(saved >= 0 && fd >= 0);
	dup2(fd, STDERR_FILENO);
	close(fd);
	for (unsigned i = 0; i < SPANS && !ret; i++) {
		s = span_no(i);
		ret = zt_store_add_span(w, &s);
		if (!ret && i % PER_FLUSH == PER_FLUSH - 1)
			ret = zt_store_flush(w);
	}
	fflush(stderr);
	dup2(saved, STDERR_FILENO);
	close(saved);
	cr_assert_eq(ret, -EISDIR);
	cr_assert_str_eq(read_log(log), "ztrace: record file rotation failed, nothing more is "
					"recorded: Is a directory\n");
	cr_assert_eq(zt_store_add_span(w, &s), -EISDIR, "the error is sticky");
	cr_assert_eq(zt_store_close(w), -EISDIR);
	/* what was written before stays readable */
	cr_assert_gt(check_file(0, &first), 0);
	cr_assert_eq(first, 0);
}
