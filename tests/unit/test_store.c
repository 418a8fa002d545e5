// SPDX-License-Identifier: MIT
/*
 * The record file: round trips across blocks, processes and metric snapshots, files cut at
 * every kind of place, flipped bytes, foreign and newer files, and the writer's file handling.
 */
#include <criterion/criterion.h>
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include <zlib.h>

#include "store.h"

/* Size of the version-1 header, as laid out in store.h. */
#define HEADER_BYTES 112
#define BOOT_OFFSET  1699990000123456789ll

static char tmpdir[] = "/tmp/zt-store-XXXXXX";

static void make_tmpdir(void)
{
	cr_assert_not_null(mkdtemp(tmpdir));
}

static void remove_tmpdir(void)
{
	char cmd[64];

	snprintf(cmd, sizeof(cmd), "rm -rf %s", tmpdir);
	cr_assert_eq(system(cmd), 0);
}

TestSuite(store, .init = make_tmpdir, .fini = remove_tmpdir);

static void tmp_path(char *out, size_t len, const char *name)
{
	cr_assert_lt(snprintf(out, len, "%s/%s", tmpdir, name), (int)len);
}

static const char *const names[] = {"main", "process_order", "validate",       "say \"hi\"",
				    "read", "openat",	     "handle_request", ""};
static const char *const probes[] = {"u:/opt/orders:main", "u:/opt/orders:process_order", NULL,
				     "u:/opt/orders:say*", "syscall:read"};
static const char *const binaries[] = {"/opt/orders", NULL, "/usr/lib/libc.so.6"};

/* A deterministic, varied span number i: every field differs between spans. */
static struct zt_span make_span(unsigned i)
{
	uint64_t x = 0x9e3779b97f4a7c15ull * (i + 1);
	struct zt_span s = {
	    .span_id = x ^ 0x1234,
	    .parent_span_id = i % 4 ? x - 7 : 0,
	    .start_ns = 1700000000000000000ull + i * 1000ull,
	    .end_ns = 1700000000000000000ull + i * 1000ull + (x % 100000),
	    .ret = (int64_t)(x >> 3) * (i % 2 ? -1 : 1),
	    .syscall_ns = i % 3 ? x % 777 : 0,
	    .syscall_count = i % 3,
	    .pid = 1000 + i % 5,
	    .tid = 2000 + i % 9,
	    .probe_id = i % 11,
	    .depth = i % 4,
	    .kind = i % 5,
	    .status = i % 3,
	    .name = names[i % 8],
	    .probe = probes[i % 5],
	    .binary = binaries[i % 3],
	};

	for (int b = 0; b < 16; b++)
		s.trace_id[b] = (uint8_t)(x >> (b % 8 * 8)) ^ b;
	snprintf(s.comm, sizeof(s.comm), "worker-%u", i % 7);
	if (i % 13 == 0)
		memcpy(s.comm, "sixteen-chars-xy", ZT_COMM_LEN); /* a full comm, no NUL */
	/* captured arguments on some: integers, a string cut at its limit, an unreadable one */
	if (i % 6 == 1) {
		s.args.spec.int_mask = 0x05;
		s.args.spec.int32_mask = 0x04;
		s.args.regs[0] = x;
		s.args.regs[2] = 0xfffffff9;
		s.args.spec.nstr = 1 + i % 2;
		s.args.strs[0] = (struct zt_arg_str){.arg = 1, .len = (uint16_t)(i % 65)};
		memset(s.args.strs[0].text, 'a' + i % 26, s.args.strs[0].len);
		s.args.strs[0].flags =
		    s.args.strs[0].len == ZT_ARG_STR_MAX ? ZT_ARG_STR_TRUNCATED : 0;
		s.args.strs[1] = (struct zt_arg_str){.arg = 5, .flags = ZT_ARG_STR_FAULT};
	}
	return s;
}

static bool str_same(const char *a, const char *b)
{
	return (!a && !b) || (a && b && !strcmp(a, b));
}

static void assert_span_eq(const struct zt_span *got, const struct zt_span *want, unsigned i)
{
	cr_assert_eq(memcmp(got->trace_id, want->trace_id, 16), 0, "span %u trace id", i);
	cr_assert_eq(got->span_id, want->span_id, "span %u", i);
	cr_assert_eq(got->parent_span_id, want->parent_span_id, "span %u", i);
	cr_assert_eq(got->start_ns, want->start_ns, "span %u", i);
	cr_assert_eq(got->end_ns, want->end_ns, "span %u", i);
	cr_assert_eq(got->ret, want->ret, "span %u", i);
	cr_assert_eq(got->syscall_ns, want->syscall_ns, "span %u", i);
	cr_assert_eq(got->syscall_count, want->syscall_count, "span %u", i);
	cr_assert_eq(got->pid, want->pid, "span %u", i);
	cr_assert_eq(got->tid, want->tid, "span %u", i);
	cr_assert_eq(got->probe_id, want->probe_id, "span %u", i);
	cr_assert_eq(got->depth, want->depth, "span %u", i);
	cr_assert_eq(got->kind, want->kind, "span %u", i);
	cr_assert_eq(got->status, want->status, "span %u", i);
	/* a comm that fills the array comes back cut to 15 bytes + NUL */
	cr_assert_eq(strncmp(got->comm, want->comm, ZT_COMM_LEN - 1), 0, "span %u comm", i);
	cr_assert_eq(got->comm[ZT_COMM_LEN - 1], '\0', "span %u comm", i);
	cr_assert(str_same(got->name, want->name), "span %u name %s", i, got->name);
	cr_assert(str_same(got->probe, want->probe), "span %u probe %s", i, got->probe);
	cr_assert(str_same(got->binary, want->binary), "span %u binary %s", i, got->binary);
	cr_assert_eq(memcmp(&got->args, &want->args, sizeof(got->args)), 0, "span %u args", i);
}

/*
 * Write nblocks blocks of per_block spans (made by make_span in order) to path, recording the
 * file offset where each block ends in ends[] (ends[-1] being the header's end).
 */
static void write_blocks(const char *path, unsigned nblocks, unsigned per_block, uint64_t *ends)
{
	char err[256] = "";
	struct zt_store_writer *w = zt_store_create(path, BOOT_OFFSET, err, sizeof(err));
	struct zt_store_stats st;

	cr_assert_not_null(w, "%s", err);
	for (unsigned b = 0; b < nblocks; b++) {
		for (unsigned i = 0; i < per_block; i++) {
			struct zt_span s = make_span(b * per_block + i);

			cr_assert_eq(zt_store_add_span(w, &s), 0);
		}
		cr_assert_eq(zt_store_flush(w), 0);
		zt_store_get_stats(w, &st);
		cr_assert_eq(st.blocks, b + 1);
		ends[b] = st.bytes;
	}
	cr_assert_eq(zt_store_close(w), 0);
}

/* Read every span of path; returns how many, checking each against make_span. */
static unsigned read_and_check(const char *path, struct zt_store_reader **rp)
{
	char err[256] = "";
	struct zt_store_reader *r;
	struct zt_span s;
	unsigned n = 0;
	int ret;

	cr_assert_eq(zt_store_open(path, &r, err, sizeof(err)), 0, "%s", err);
	while ((ret = zt_store_next_span(r, &s)) == 1) {
		struct zt_span want = make_span(n);

		assert_span_eq(&s, &want, n);
		n++;
	}
	cr_assert_eq(ret, 0);
	*rp = r;
	return n;
}

static void copy_cut(const char *from, const char *to, off_t len)
{
	char cmd[512];

	snprintf(cmd, sizeof(cmd), "cp %s %s", from, to);
	cr_assert_eq(system(cmd), 0);
	cr_assert_eq(truncate(to, len), 0);
}

static void flip_byte(const char *path, off_t at)
{
	int fd = open(path, O_RDWR);
	uint8_t c;

	cr_assert_geq(fd, 0);
	cr_assert_eq(pread(fd, &c, 1, at), 1);
	c ^= 0x40;
	cr_assert_eq(pwrite(fd, &c, 1, at), 1);
	close(fd);
}

static off_t file_size(const char *path)
{
	struct stat st;

	cr_assert_eq(stat(path, &st), 0);
	return st.st_size;
}

Test(store, round_trip_1000_spans_in_7_blocks)
{
	char path[256], err[256] = "", host[ZT_STORE_HOSTNAME_LEN] = "", reason_want[64];
	uint64_t offset;
	struct zt_store_reader *r;
	const char *reason;
	unsigned n;

	tmp_path(path, sizeof(path), "run.zt");
	/* 6 blocks of 150 spans and one of 100 */
	{
		struct zt_store_writer *w = zt_store_create(path, BOOT_OFFSET, err, sizeof(err));
		struct zt_store_stats st;

		cr_assert_not_null(w, "%s", err);
		for (unsigned i = 0; i < 1000; i++) {
			struct zt_span s = make_span(i);

			cr_assert_eq(zt_store_add_span(w, &s), 0);
			if (i % 150 == 149)
				cr_assert_eq(zt_store_flush(w), 0);
		}
		zt_store_get_stats(w, &st);
		cr_assert_eq(st.blocks, 6);
		cr_assert_eq(st.spans, 1000);
		cr_assert_eq(zt_store_close(w), 0);
	}
	n = read_and_check(path, &r);
	cr_assert_eq(n, 1000);
	cr_assert_eq(zt_store_blocks_read(r), 7);
	cr_assert_eq(zt_store_stopped_at(r, &offset, &reason), ZT_STORE_END);
	cr_assert_eq(offset, (uint64_t)file_size(path));
	snprintf(reason_want, sizeof(reason_want), "end of file at offset %llu",
		 (unsigned long long)offset);
	cr_assert_str_eq(reason, reason_want);
	gethostname(host, sizeof(host) - 1);
	cr_assert_eq(zt_store_get_header(r)->version, ZT_STORE_VERSION);
	cr_assert_eq(zt_store_get_header(r)->boot_offset_ns, BOOT_OFFSET);
	cr_assert_str_eq(zt_store_get_header(r)->hostname, host);
	/* the end is sticky */
	{
		struct zt_span s;

		cr_assert_eq(zt_store_next_span(r, &s), 0);
	}
	zt_store_reader_close(r);
}

Test(store, flushes_a_block_every_64k_of_payload)
{
	char path[256], err[256] = "";
	struct zt_store_writer *w;
	struct zt_store_reader *r;
	struct zt_store_stats st;

	tmp_path(path, sizeof(path), "big.zt");
	w = zt_store_create(path, BOOT_OFFSET, err, sizeof(err));
	cr_assert_not_null(w, "%s", err);
	/* a span entry is 8 + 104 bytes: 2000 of them are 224000 bytes, 3 whole 64 KiB blocks
	 * (the definitions add a few hundred bytes, not another 64 KiB) */
	for (unsigned i = 0; i < 2000; i++) {
		struct zt_span s = make_span(i);

		cr_assert_eq(zt_store_add_span(w, &s), 0);
	}
	zt_store_get_stats(w, &st);
	cr_assert_eq(st.blocks, 3);
	cr_assert_eq(zt_store_close(w), 0);
	cr_assert_eq(read_and_check(path, &r), 2000);
	cr_assert_eq(zt_store_blocks_read(r), 4);
	zt_store_reader_close(r);
}

Test(store, interns_strings_by_content)
{
	char path[256], err[256] = "", name[32];
	struct zt_store_writer *w;
	struct zt_store_reader *r;
	struct zt_span s = make_span(0), got;

	tmp_path(path, sizeof(path), "intern.zt");
	w = zt_store_create(path, BOOT_OFFSET, err, sizeof(err));
	cr_assert_not_null(w, "%s", err);
	/* the same buffer holds a different name each time: the file must keep all three */
	s.name = name;
	strcpy(name, "first");
	cr_assert_eq(zt_store_add_span(w, &s), 0);
	strcpy(name, "second");
	cr_assert_eq(zt_store_add_span(w, &s), 0);
	strcpy(name, "first");
	cr_assert_eq(zt_store_add_span(w, &s), 0);
	s.binary = NULL; /* NULL and "" are different strings */
	s.probe = "";
	cr_assert_eq(zt_store_add_span(w, &s), 0);
	cr_assert_eq(zt_store_close(w), 0);

	cr_assert_eq(zt_store_open(path, &r, err, sizeof(err)), 0, "%s", err);
	cr_assert_eq(zt_store_next_span(r, &got), 1);
	cr_assert_str_eq(got.name, "first");
	cr_assert_eq(zt_store_next_span(r, &got), 1);
	cr_assert_str_eq(got.name, "second");
	cr_assert_eq(zt_store_next_span(r, &got), 1);
	cr_assert_str_eq(got.name, "first");
	cr_assert_str_eq(got.binary, "/opt/orders");
	cr_assert_eq(zt_store_next_span(r, &got), 1);
	cr_assert_null(got.binary);
	cr_assert_str_eq(got.probe, "");
	cr_assert_eq(zt_store_next_span(r, &got), 0);
	zt_store_reader_close(r);
}

Test(store, processes_and_metrics_in_file_order)
{
	char path[256], err[256] = "";
	struct zt_store_writer *w;
	struct zt_store_reader *r;
	struct zt_store_item item;
	struct zt_span s = make_span(1);
	const struct zt_store_process *procs;
	size_t nprocs;
	struct zt_store_process p = {
	    .pid = 4242,
	    .start_time = 123456,
	    .comm = "orders",
	    .exe = "/opt/orders",
	    .cmdline = "/opt/orders --port 8080",
	    .service_name = "checkout",
	    .service_name_from_env = true,
	    .container_id = NULL,
	    .resource_attrs = "deployment.environment=prod",
	};
	const struct zt_store_metric samples[] = {
	    {"ztrace_events_total", "probe=\"u:/opt/orders:main\",outcome=\"delivered\"", 990},
	    {"ztrace_events_total", "probe=\"u:/opt/orders:main\",outcome=\"lost\"", 10},
	    {"ztrace_up", NULL, 1.5},
	};

	tmp_path(path, sizeof(path), "mixed.zt");
	w = zt_store_create(path, BOOT_OFFSET, err, sizeof(err));
	cr_assert_not_null(w, "%s", err);
	cr_assert_eq(zt_store_add_process(w, &p), 0);
	cr_assert_eq(zt_store_add_span(w, &s), 0);
	cr_assert_eq(zt_store_add_metrics(w, 1700000001000000000ull, samples, 3), 0);
	cr_assert_eq(zt_store_flush(w), 0);
	p.pid = 7;
	p.comm = NULL;
	p.service_name_from_env = false;
	cr_assert_eq(zt_store_add_process(w, &p), 0);
	cr_assert_eq(zt_store_add_metrics(w, 1700000002000000000ull, samples, 0), 0);
	{
		const struct zt_store_metric bad = {NULL, "x=\"y\"", 1};

		cr_assert_eq(zt_store_add_metrics(w, 0, &bad, 1), -EINVAL);
	}
	cr_assert_eq(zt_store_close(w), 0);

	cr_assert_eq(zt_store_open(path, &r, err, sizeof(err)), 0, "%s", err);
	cr_assert_eq(zt_store_next(r, &item), ZT_STORE_ITEM_PROCESS);
	cr_assert_eq(item.process.pid, 4242);
	cr_assert_eq(item.process.start_time, 123456);
	cr_assert_str_eq(item.process.comm, "orders");
	cr_assert_str_eq(item.process.exe, "/opt/orders");
	cr_assert_str_eq(item.process.cmdline, "/opt/orders --port 8080");
	cr_assert_str_eq(item.process.service_name, "checkout");
	cr_assert(item.process.service_name_from_env);
	cr_assert_null(item.process.container_id);
	cr_assert_str_eq(item.process.resource_attrs, "deployment.environment=prod");
	cr_assert_eq(zt_store_next(r, &item), ZT_STORE_ITEM_SPAN);
	assert_span_eq(&item.span, &s, 1);
	cr_assert_eq(zt_store_next(r, &item), ZT_STORE_ITEM_METRICS);
	cr_assert_eq(item.metrics.time_ns, 1700000001000000000ull);
	cr_assert_eq(item.metrics.count, 3);
	cr_assert_str_eq(item.metrics.samples[0].name, "ztrace_events_total");
	cr_assert_str_eq(item.metrics.samples[1].labels,
			 "probe=\"u:/opt/orders:main\",outcome=\"lost\"");
	cr_assert_eq(item.metrics.samples[1].value, 10);
	cr_assert_str_eq(item.metrics.samples[2].labels, ""); /* NULL labels are stored empty */
	cr_assert_eq(item.metrics.samples[2].value, 1.5);
	cr_assert_eq(zt_store_next(r, &item), ZT_STORE_ITEM_PROCESS);
	cr_assert_eq(item.process.pid, 7);
	cr_assert_null(item.process.comm);
	cr_assert(!item.process.service_name_from_env);
	cr_assert_eq(zt_store_next(r, &item), ZT_STORE_ITEM_METRICS);
	cr_assert_eq(item.metrics.count, 0);
	cr_assert_eq(zt_store_next(r, &item), 0);
	procs = zt_store_processes(r, &nprocs);
	cr_assert_eq(nprocs, 2);
	cr_assert_eq(procs[0].pid, 4242);
	cr_assert_str_eq(procs[0].cmdline, "/opt/orders --port 8080");
	cr_assert_eq(procs[1].pid, 7);
	zt_store_reader_close(r);
}

Test(store, process_info_mapping_round_trips)
{
	struct zt_process_info info = {.pid = 9, .start_time = 77, .comm = "svc"};
	struct zt_process_info back;
	struct zt_store_process p;

	info.exe = "/usr/bin/svc";
	info.cmdline = "svc -v";
	info.service_name = "svc";
	info.container_id = "0123";
	zt_store_process_from_info(&p, &info);
	cr_assert_eq(p.pid, 9);
	cr_assert_eq(p.start_time, 77);
	cr_assert_str_eq(p.comm, "svc");
	cr_assert_eq(p.exe, info.exe); /* borrowed, not copied */
	cr_assert_eq(zt_store_process_to_info(&back, &p), 0);
	cr_assert_eq(back.pid, 9);
	cr_assert_str_eq(back.comm, "svc");
	cr_assert_str_eq(back.exe, "/usr/bin/svc");
	cr_assert_neq(back.exe, info.exe);
	cr_assert_str_eq(back.container_id, "0123");
	cr_assert_null(back.resource_attrs);
	zt_procinfo_free(&back);
}

/* Three blocks of 100 spans; the cases below cut or damage copies of this file. */
static char three[256];
static uint64_t ends[3];

static void write_three(void)
{
	tmp_path(three, sizeof(three), "three.zt");
	write_blocks(three, 3, 100, ends);
	cr_assert_eq((uint64_t)file_size(three), ends[2]);
}

/* Read a damaged copy: expect want spans, then a stop of kind why at offset with reason. */
static void expect_stop(const char *path, unsigned want, enum zt_store_stop why, uint64_t at,
			const char *reason_want)
{
	struct zt_store_reader *r;
	const char *reason;
	uint64_t offset;

	cr_assert_eq(read_and_check(path, &r), want);
	cr_assert_eq(zt_store_stopped_at(r, &offset, &reason), why, "%s", reason);
	cr_assert_eq(offset, at);
	cr_assert_str_eq(reason, reason_want);
	zt_store_reader_close(r);
}

Test(store, cut_inside_a_block_header)
{
	char path[256], want[128];

	write_three();
	tmp_path(path, sizeof(path), "cut1.zt");
	copy_cut(three, path, ends[0] + 7);
	snprintf(want, sizeof(want),
		 "truncated block at offset %llu (the file ends 7 bytes into its 16-byte header)",
		 (unsigned long long)ends[0]);
	expect_stop(path, 100, ZT_STORE_TRUNCATED, ends[0], want);
}

Test(store, cut_inside_a_block_payload)
{
	char path[256], want[128];

	write_three();
	tmp_path(path, sizeof(path), "cut2.zt");
	copy_cut(three, path, ends[1] + 16 + 10);
	snprintf(
	    want, sizeof(want),
	    "truncated block at offset %llu (the file ends 10 bytes into its %llu-byte payload)",
	    (unsigned long long)ends[1], (unsigned long long)(ends[2] - ends[1] - 16));
	expect_stop(path, 200, ZT_STORE_TRUNCATED, ends[1], want);
}

Test(store, cut_one_byte_short)
{
	char path[256], want[128];

	write_three();
	tmp_path(path, sizeof(path), "cut3.zt");
	copy_cut(three, path, ends[2] - 1);
	snprintf(want, sizeof(want),
		 "truncated block at offset %llu (the file ends %llu bytes into its %llu-byte "
		 "payload)",
		 (unsigned long long)ends[1], (unsigned long long)(ends[2] - ends[1] - 16 - 1),
		 (unsigned long long)(ends[2] - ends[1] - 16));
	expect_stop(path, 200, ZT_STORE_TRUNCATED, ends[1], want);
}

Test(store, cut_at_a_block_boundary_reads_as_complete)
{
	char path[256], want[128];

	write_three();
	tmp_path(path, sizeof(path), "cut4.zt");
	copy_cut(three, path, ends[1]);
	snprintf(want, sizeof(want), "end of file at offset %llu", (unsigned long long)ends[1]);
	expect_stop(path, 200, ZT_STORE_END, ends[1], want);
}

Test(store, header_only_file_is_empty_and_clean)
{
	char path[256], want[128];

	write_three();
	tmp_path(path, sizeof(path), "cut5.zt");
	copy_cut(three, path, HEADER_BYTES);
	snprintf(want, sizeof(want), "end of file at offset %d", HEADER_BYTES);
	expect_stop(path, 0, ZT_STORE_END, HEADER_BYTES, want);
}

Test(store, crc_mismatch_names_the_block)
{
	char path[256], want[128];

	write_three();
	tmp_path(path, sizeof(path), "flip.zt");
	copy_cut(three, path, ends[2]);
	flip_byte(path, ends[0] + 16 + (ends[1] - ends[0] - 16) / 2);
	snprintf(want, sizeof(want), "CRC mismatch in block at offset %llu",
		 (unsigned long long)ends[0]);
	expect_stop(path, 100, ZT_STORE_CORRUPT, ends[0], want);
}

Test(store, bad_block_magic_names_the_block)
{
	char path[256], want[128];

	write_three();
	tmp_path(path, sizeof(path), "magic.zt");
	copy_cut(three, path, ends[2]);
	flip_byte(path, ends[1]);
	snprintf(want, sizeof(want), "bad block magic at offset %llu", (unsigned long long)ends[1]);
	expect_stop(path, 200, ZT_STORE_CORRUPT, ends[1], want);
}

Test(store, absurd_block_length_is_corrupt)
{
	char path[256], want[128];

	write_three();
	tmp_path(path, sizeof(path), "len.zt");
	copy_cut(three, path, ends[2]);
	flip_byte(path, HEADER_BYTES + 11); /* top byte of the first block's uncompressed length */
	snprintf(want, sizeof(want), "corrupt block length at offset %d", HEADER_BYTES);
	expect_stop(path, 0, ZT_STORE_CORRUPT, HEADER_BYTES, want);
}

static void expect_open_error(const char *path, int ret_want, const char *err_want)
{
	struct zt_store_reader *r = (void *)1;
	char err[256] = "";

	cr_assert_eq(zt_store_open(path, &r, err, sizeof(err)), ret_want, "%s", err);
	cr_assert_null(r);
	cr_assert_str_eq(err, err_want);
}

static void write_text(const char *path, const char *text)
{
	FILE *f = fopen(path, "w");

	cr_assert_not_null(f);
	fputs(text, f);
	cr_assert_eq(fclose(f), 0);
}

Test(store, foreign_file_is_refused)
{
	char path[256];

	tmp_path(path, sizeof(path), "notes.txt");
	write_text(path, "{\"traceEvents\":[]}\nthis is not a record file\n");
	expect_open_error(path, -EINVAL, "not a ztrace record file (bad magic at offset 0)");
	write_text(path, "\x7f"
			 "E");
	expect_open_error(path, -EINVAL, "not a ztrace record file (bad magic at offset 0)");
	/* the start of the magic and nothing else: a header cut short, not a foreign file */
	write_text(path, "ZT");
	expect_open_error(path, -EBADMSG, "truncated header at offset 0 (the file has 2 bytes)");
	write_text(path, "");
	expect_open_error(path, -EINVAL, "not a ztrace record file (empty file)");
	tmp_path(path, sizeof(path), "missing.zt");
	expect_open_error(path, -ENOENT, "No such file or directory");
}

Test(store, cut_header_is_reported)
{
	char path[256];

	write_three();
	tmp_path(path, sizeof(path), "hdr.zt");
	copy_cut(three, path, 5);
	expect_open_error(path, -EBADMSG, "truncated header at offset 0 (the file has 5 bytes)");
	copy_cut(three, path, 100);
	expect_open_error(path, -EBADMSG,
			  "truncated header at offset 0 (the file has 100 bytes, the header 112)");
}

Test(store, damaged_header_is_reported)
{
	char path[256];

	write_three();
	tmp_path(path, sizeof(path), "hdrflip.zt");
	copy_cut(three, path, ends[2]);
	flip_byte(path, 40); /* inside the host name */
	expect_open_error(path, -EBADMSG, "corrupt header (CRC mismatch at offset 0)");
}

Test(store, newer_version_is_refused)
{
	char path[256];
	uint8_t v2[4] = {3, 0, 0, 0};
	int fd;

	write_three();
	tmp_path(path, sizeof(path), "v2.zt");
	copy_cut(three, path, ends[2]);
	fd = open(path, O_RDWR);
	cr_assert_geq(fd, 0);
	cr_assert_eq(pwrite(fd, v2, 4, 8), 4);
	close(fd);
	expect_open_error(path, -EPROTONOSUPPORT,
			  "record file version 3 is newer than this ztrace reads (version 2)");
}

/* Files written before arguments were captured (version 1) read the same. */
Test(store, version_1_file_reads)
{
	char path[256], err[256] = "";
	struct zt_store_writer *w;
	struct zt_store_reader *r;
	uint8_t hdr[HEADER_BYTES];
	struct zt_span s;
	unsigned n = 0;
	int fd, ret;

	tmp_path(path, sizeof(path), "v1.zt");
	w = zt_store_create(path, BOOT_OFFSET, err, sizeof(err));
	cr_assert_not_null(w, "%s", err);
	for (unsigned i = 0; i < 20; i++) {
		s = make_span(i);
		memset(&s.args, 0, sizeof(s.args)); /* version 1 had none */
		cr_assert_eq(zt_store_add_span(w, &s), 0);
	}
	cr_assert_eq(zt_store_close(w), 0);
	fd = open(path, O_RDWR);
	cr_assert_geq(fd, 0);
	cr_assert_eq(pread(fd, hdr, sizeof(hdr), 0), (ssize_t)sizeof(hdr));
	hdr[8] = 1; /* version, then the header's CRC over everything before it */
	{
		uint32_t crc = (uint32_t)crc32(0, hdr, sizeof(hdr) - 4);

		for (int b = 0; b < 4; b++)
			hdr[sizeof(hdr) - 4 + b] = (uint8_t)(crc >> (8 * b));
	}
	cr_assert_eq(pwrite(fd, hdr, sizeof(hdr), 0), (ssize_t)sizeof(hdr));
	close(fd);
	cr_assert_eq(zt_store_open(path, &r, err, sizeof(err)), 0, "%s", err);
	cr_assert_eq(zt_store_get_header(r)->version, 1);
	while ((ret = zt_store_next_span(r, &s)) == 1) {
		struct zt_span want = make_span(n);

		memset(&want.args, 0, sizeof(want.args));
		assert_span_eq(&s, &want, n);
		n++;
	}
	cr_assert_eq(ret, 0);
	cr_assert_eq(n, 20);
	zt_store_reader_close(r);
}

Test(store, creates_private_file_and_refuses_symlinks)
{
	char path[256], link[256], err[256] = "", want[512];
	struct zt_store_writer *w;
	mode_t old = umask(0);
	struct stat st;

	tmp_path(path, sizeof(path), "mode.zt");
	write_text(path, "old contents, readable by all");
	cr_assert_eq(chmod(path, 0644), 0);
	w = zt_store_create(path, 0, err, sizeof(err));
	umask(old);
	cr_assert_not_null(w, "%s", err);
	cr_assert_eq(zt_store_close(w), 0);
	cr_assert_eq(stat(path, &st), 0);
	cr_assert_eq(st.st_mode & 07777, 0600);
	cr_assert_eq(st.st_size, HEADER_BYTES); /* truncated, then just the header */

	tmp_path(link, sizeof(link), "link.zt");
	cr_assert_eq(symlink(path, link), 0);
	errno = 0;
	w = zt_store_create(link, 0, err, sizeof(err));
	cr_assert_null(w);
	cr_assert_eq(errno, ELOOP);
	snprintf(want, sizeof(want), "%s is a symbolic link; refusing to write through it", link);
	cr_assert_str_eq(err, want);
}

Test(store, write_failure_is_reported)
{
	char err[256] = "";
	struct zt_store_writer *w;

	errno = 0;
	w = zt_store_create("/dev/full", 0, err, sizeof(err));
	cr_assert_null(w);
	cr_assert_eq(errno, ENOSPC);
	cr_assert_str_eq(err, "cannot write /dev/full: No space left on device");
	errno = 0;
	w = zt_store_create("/nonexistent-dir/run.zt", 0, err, sizeof(err));
	cr_assert_null(w);
	cr_assert_eq(errno, ENOENT);
	cr_assert_str_eq(err, "cannot create /nonexistent-dir/run.zt: No such file or directory");
}

Test(store, writer_killed_leaves_its_flushed_blocks)
{
	char path[256], want[128];
	uint64_t ends[3];
	int status;
	pid_t pid;

	tmp_path(path, sizeof(path), "killed.zt");
	pid = fork();
	cr_assert_geq(pid, 0);
	if (pid == 0) {
		char err[256];
		struct zt_store_writer *w = zt_store_create(path, BOOT_OFFSET, err, sizeof(err));

		if (!w)
			_exit(1);
		for (unsigned i = 0; i < 350; i++) {
			struct zt_span s = make_span(i);

			if (zt_store_add_span(w, &s))
				_exit(1);
			if (i % 100 == 99 && zt_store_flush(w))
				_exit(1);
		}
		/* 50 spans still buffered, never written */
		raise(SIGKILL);
		_exit(1);
	}
	cr_assert_eq(waitpid(pid, &status, 0), pid);
	cr_assert(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL, "status %#x", status);
	/* the same spans in the same blocks give the same offsets */
	tmp_path(three, sizeof(three), "ref.zt");
	write_blocks(three, 3, 100, ends);
	cr_assert_eq((uint64_t)file_size(path), ends[2]);
	snprintf(want, sizeof(want), "end of file at offset %llu", (unsigned long long)ends[2]);
	expect_stop(path, 300, ZT_STORE_END, ends[2], want);
}
