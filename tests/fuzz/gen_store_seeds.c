// SPDX-License-Identifier: MIT
/*
 * Writes the record-file seeds of the store fuzzer into DIR: record files made by the real
 * writer (store.h), as raw inputs (whole, cut short in the header, in a block header and in a
 * payload) and as framed payloads (see store_frame.h). Run by fuzz.mk:
 *
 *   gen_store_seeds DIR
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

#include "fuzz/store_frame.h"
#include "store.h"

/* Spans written into the multi-block seed, and how often it flushes a block. */
#define MANY_SPANS   40
#define FLUSH_EVERY  10
#define SPAN_BASE_NS 1700000000000000000ull
#define SPAN_STEP_NS 1000ull
#define BOOT_OFFSET  1690000000000000000ll

struct bytes {
	uint8_t *data;
	size_t len;
};

static int read_file(const char *path, struct bytes *b)
{
	struct stat st;
	int fd = open(path, O_RDONLY | O_CLOEXEC), ret = 0;

	if (fd < 0)
		return -errno;
	if (fstat(fd, &st)) {
		ret = -errno;
		goto out;
	}
	b->len = (size_t)st.st_size;
	b->data = malloc(b->len ? b->len : 1);
	if (!b->data) {
		ret = -ENOMEM;
		goto out;
	}
	if (read(fd, b->data, b->len) != (ssize_t)b->len)
		ret = -EIO;
out:
	close(fd);
	return ret;
}

/* Write MODE then LEN bytes of DATA to DIR/NAME. */
static int write_seed(const char *dir, const char *name, uint8_t mode, const uint8_t *data,
		      size_t len)
{
	char path[4096];
	FILE *f;
	int ret = 0;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	f = fopen(path, "w");
	if (!f)
		return -errno;
	if (fwrite(&mode, 1, 1, f) != 1 || (len && fwrite(data, 1, len, f) != len))
		ret = -EIO;
	if (fclose(f) && !ret)
		ret = -errno;
	return ret;
}

static void fill_span(struct zt_span *s, uint32_t i)
{
	static const char *const names[] = {"process_order", "validate_order", "read"};

	memset(s, 0, sizeof(*s));
	s->trace_id[0] = 0x42;
	s->trace_id[15] = (uint8_t)i;
	s->span_id = 0x1000 + i;
	s->parent_span_id = i % 3 ? 0x1000 + i - 1 : 0;
	s->start_ns = SPAN_BASE_NS + i * SPAN_STEP_NS;
	s->end_ns = s->start_ns + SPAN_STEP_NS / 2;
	s->ret = i % 5 ? 0 : -22;
	s->syscall_count = i % 4;
	s->syscall_ns = i * 7;
	s->pid = 4242;
	s->tid = 4242 + i % 2;
	s->probe_id = i % 3;
	s->depth = (uint16_t)(i % 3);
	s->kind = i % 3 == 2 ? ZT_KIND_SYSCALL : ZT_KIND_FUNCTION;
	s->status = i % 5 ? ZT_STATUS_OK : ZT_STATUS_ERROR;
	snprintf(s->comm, sizeof(s->comm), "orders");
	s->name = names[i % 3];
	s->probe = i % 3 == 2 ? "syscall:read" : "u:/opt/orders:*_order";
	s->binary = i % 3 == 2 ? NULL : "/opt/orders";
	/* captured arguments (--capture) on the first function span: an integer and a string */
	if (i == 1) {
		s->args.spec.int_mask = 0x01;
		s->args.spec.nstr = 1;
		s->args.regs[0] = 42;
		s->args.strs[0] = (struct zt_arg_str){.arg = 1, .len = 3};
		memcpy(s->args.strs[0].text, "abc", 3);
	}
}

/* A record file at PATH with NSPANS spans, a process and a metric snapshot. */
static int write_record(const char *path, uint32_t nspans)
{
	struct zt_store_process p = {
	    .pid = 4242,
	    .start_time = 123456,
	    .comm = "orders",
	    .exe = "/opt/orders",
	    .cmdline = "orders --threads 2",
	    .service_name = "checkout",
	    .service_name_from_env = true,
	    .container_id = NULL,
	    .resource_attrs = "deployment.environment=test",
	};
	const struct zt_store_metric samples[] = {
	    {"ztrace_events_total", "probe=\"u:/opt/orders:*_order\",outcome=\"delivered\"", 40},
	    {"ztrace_events_total", "probe=\"u:/opt/orders:*_order\",outcome=\"lost\"", 0},
	};
	char err[256];
	struct zt_store_writer *w = zt_store_create(path, BOOT_OFFSET, err, sizeof(err));
	struct zt_span s;
	int ret = 0;

	if (!w) {
		fprintf(stderr, "gen_store_seeds: %s: %s\n", path, err);
		return -errno;
	}
	ret = zt_store_add_process(w, &p);
	for (uint32_t i = 0; i < nspans && !ret; i++) {
		fill_span(&s, i);
		ret = zt_store_add_span(w, &s);
		if (!ret && (i + 1) % FLUSH_EVERY == 0)
			ret = zt_store_flush(w);
	}
	if (!ret && nspans)
		ret = zt_store_add_metrics(w, SPAN_BASE_NS, samples,
					   sizeof(samples) / sizeof(samples[0]));
	if (zt_store_close(w) && !ret)
		ret = -EIO;
	return ret;
}

/*
 * The framed form of record file B: each block's payload, uncompressed, behind its u16
 * length. Payloads longer than a u16 are cut (the seeds stay small anyway).
 */
static int frame_blocks(const struct bytes *b, struct bytes *out)
{
	size_t off = le32_get(b->data + HDR_OFF_SIZE), cap;

	out->len = 0;
	out->data = NULL;
	while (off + BLOCK_HDR_SIZE <= b->len) {
		uint32_t clen = le32_get(b->data + off + 4), ulen = le32_get(b->data + off + 8);
		uLongf dlen = ulen;
		uint8_t *p;

		if (off + BLOCK_HDR_SIZE + clen > b->len)
			return -EINVAL;
		cap = out->len + ZT_FRAME_LEN_BYTES + ulen;
		p = realloc(out->data, cap);
		if (!p)
			return -ENOMEM;
		out->data = p;
		if (uncompress(out->data + out->len + ZT_FRAME_LEN_BYTES, &dlen,
			       b->data + off + BLOCK_HDR_SIZE, clen) != Z_OK)
			return -EINVAL;
		if (dlen > UINT16_MAX)
			dlen = UINT16_MAX;
		le16_put(out->data + out->len, (uint16_t)dlen);
		out->len += ZT_FRAME_LEN_BYTES + dlen;
		off += BLOCK_HDR_SIZE + clen;
	}
	return 0;
}

/*
 * Seeds from one record file of NSPANS spans: whole, cut short at three places, framed (read
 * item by item and span by span).
 */
static int seeds_of(const char *dir, const char *name, uint32_t nspans)
{
	char path[4096], seed[256];
	struct bytes b = {0}, framed = {0};
	size_t hdr, cuts[3];
	int ret;

	snprintf(path, sizeof(path), "%s/%s.tmp", dir, name);
	ret = write_record(path, nspans);
	if (!ret)
		ret = read_file(path, &b);
	unlink(path);
	if (ret)
		goto out;
	snprintf(seed, sizeof(seed), "%s.raw", name);
	ret = write_seed(dir, seed, ZT_FRAME_RAW, b.data, b.len);
	if (ret)
		goto out;
	hdr = le32_get(b.data + HDR_OFF_SIZE);
	cuts[0] = hdr / 2;					/* inside the header */
	cuts[1] = hdr + BLOCK_HDR_SIZE / 2;			/* inside the first block header */
	cuts[2] = b.len > hdr + BLOCK_HDR_SIZE ? b.len - 1 : 0; /* inside the last payload */
	for (int i = 0; i < 3; i++) {
		if (!cuts[i] || cuts[i] >= b.len)
			continue;
		snprintf(seed, sizeof(seed), "%s.cut%d.raw", name, i);
		ret = write_seed(dir, seed, ZT_FRAME_RAW, b.data, cuts[i]);
		if (ret)
			goto out;
	}
	ret = frame_blocks(&b, &framed);
	if (ret || !framed.len)
		goto out;
	snprintf(seed, sizeof(seed), "%s.framed", name);
	ret = write_seed(dir, seed, ZT_FRAME_BLOCKS, framed.data, framed.len);
	if (ret)
		goto out;
	snprintf(seed, sizeof(seed), "%s.framed.spans", name);
	ret = write_seed(dir, seed, ZT_FRAME_BLOCKS | ZT_FRAME_SPANS_ONLY, framed.data, framed.len);
out:
	free(b.data);
	free(framed.data);
	if (ret)
		fprintf(stderr, "gen_store_seeds: %s: %s\n", name, strerror(-ret));
	return ret;
}

int main(int argc, char **argv)
{
	if (argc != 2) {
		fprintf(stderr, "usage: gen_store_seeds DIR\n");
		return 2;
	}
	if (seeds_of(argv[1], "empty", 0) || seeds_of(argv[1], "small", 3) ||
	    seeds_of(argv[1], "blocks", MANY_SPANS))
		return 1;
	return 0;
}
