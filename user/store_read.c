// SPDX-License-Identifier: MIT
/* The record file reader: header check, then block by block, stopping at the first bad one. */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <zlib.h>
#include "store_format.h"

struct reader_def {
	char *name;
	char *probe;
	char *binary;
};

struct zt_store_reader {
	int fd;
	struct zt_store_header hdr;
	uint64_t offset;	  /* file offset of the next block */
	uint64_t block_offset;	  /* file offset of the block in payload */
	struct store_buf zbuf;	  /* compressed bytes of the current block */
	struct store_buf payload; /* its decompressed entries */
	size_t pos;		  /* next entry in payload */
	struct reader_def *defs;
	size_t ndefs;
	size_t defs_cap;
	struct zt_store_process *procs;
	size_t nprocs;
	size_t procs_cap;
	struct zt_store_metric *samples;
	size_t samples_cap;
	uint64_t blocks;
	enum zt_store_stop stop;
	uint64_t stop_offset;
	char reason[160];
};

/* Read up to len bytes, stopping early only at the end of the file. Returns the count or -errno. */
static ssize_t read_full(int fd, uint8_t *buf, size_t len)
{
	size_t done = 0;

	while (done < len) {
		ssize_t n = read(fd, buf + done, len - done);

		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		if (n == 0)
			break;
		done += n;
	}
	return done;
}

/* Stop reading at offset for the reason formatted from fmt. Returns 0 (the end). */
static int __attribute__((format(printf, 4, 5)))
reader_stop(struct zt_store_reader *r, enum zt_store_stop why, uint64_t offset, const char *fmt,
	    ...)
{
	va_list ap;

	r->stop = why;
	r->stop_offset = offset;
	va_start(ap, fmt);
	vsnprintf(r->reason, sizeof(r->reason), fmt, ap);
	va_end(ap);
	return 0;
}

int zt_store_open(const char *path, struct zt_store_reader **out, char *err, size_t errlen)
{
	struct zt_store_reader *r;
	uint8_t hdr[HDR_SIZE_MAX];
	uint32_t version, size;
	ssize_t n;
	int ret;

	*out = NULL;
	r = calloc(1, sizeof(*r));
	if (!r) {
		snprintf(err, errlen, "out of memory");
		return -ENOMEM;
	}
	r->fd = open(path, O_RDONLY | O_CLOEXEC);
	if (r->fd < 0) {
		ret = -errno;
		snprintf(err, errlen, "%s", strerror(-ret));
		goto fail;
	}
	n = read_full(r->fd, hdr, HDR_OFF_BOOT);
	if (n < 0) {
		ret = n;
		snprintf(err, errlen, "%s", strerror(-ret));
		goto fail;
	}
	ret = -EINVAL;
	if (n == 0) {
		snprintf(err, errlen, "not a ztrace record file (empty file)");
		goto fail;
	}
	if (memcmp(hdr, store_magic, n < 8 ? n : 8)) {
		snprintf(err, errlen, "not a ztrace record file (bad magic at offset 0)");
		goto fail;
	}
	ret = -EBADMSG;
	if (n < HDR_OFF_BOOT) {
		snprintf(err, errlen, "truncated header at offset 0 (the file has %zd bytes)", n);
		goto fail;
	}
	version = le32_get(hdr + HDR_OFF_VERSION);
	size = le32_get(hdr + HDR_OFF_SIZE);
	if (version > ZT_STORE_VERSION) {
		ret = -EPROTONOSUPPORT;
		snprintf(err, errlen,
			 "record file version %u is newer than this ztrace reads (version %u)",
			 version, ZT_STORE_VERSION);
		goto fail;
	}
	if (version == 0 || size < HDR_SIZE || size > HDR_SIZE_MAX) {
		snprintf(err, errlen, "corrupt header at offset 0 (version %u, size %u)", version,
			 size);
		goto fail;
	}
	n = read_full(r->fd, hdr + HDR_OFF_BOOT, size - HDR_OFF_BOOT);
	if (n < 0) {
		ret = n;
		snprintf(err, errlen, "%s", strerror(-ret));
		goto fail;
	}
	if ((size_t)n < size - HDR_OFF_BOOT) {
		snprintf(err, errlen,
			 "truncated header at offset 0 (the file has %zd bytes, the header %u)",
			 n + HDR_OFF_BOOT, size);
		goto fail;
	}
	if (le32_get(hdr + size - 4) != crc32(0, hdr, size - 4)) {
		snprintf(err, errlen, "corrupt header (CRC mismatch at offset 0)");
		goto fail;
	}
	r->hdr.version = version;
	r->hdr.boot_offset_ns = (int64_t)le64_get(hdr + HDR_OFF_BOOT);
	r->hdr.created_ns = le64_get(hdr + HDR_OFF_CREATED);
	memcpy(r->hdr.hostname, hdr + HDR_OFF_HOST, ZT_STORE_HOSTNAME_LEN);
	r->hdr.hostname[ZT_STORE_HOSTNAME_LEN - 1] = '\0';
	r->offset = size;
	r->stop = ZT_STORE_READING;
	*out = r;
	return 0;
fail:
	zt_store_reader_close(r);
	return ret;
}

const struct zt_store_header *zt_store_get_header(const struct zt_store_reader *r)
{
	return &r->hdr;
}

/* Load the next block into r->payload. Returns 1, 0 when reading stopped, or -errno. */
static int read_block(struct zt_store_reader *r)
{
	uint8_t hdr[BLOCK_HDR_SIZE];
	uint32_t clen, ulen;
	uLongf dlen;
	ssize_t n;
	int ret;

	n = read_full(r->fd, hdr, sizeof(hdr));
	if (n < 0)
		return n;
	if (n == 0)
		return reader_stop(r, ZT_STORE_END, r->offset, "end of file at offset %llu",
				   (unsigned long long)r->offset);
	if (n < BLOCK_HDR_SIZE)
		return reader_stop(r, ZT_STORE_TRUNCATED, r->offset,
				   "truncated block at offset %llu (the file ends %zd bytes into "
				   "its %d-byte header)",
				   (unsigned long long)r->offset, n, BLOCK_HDR_SIZE);
	if (le32_get(hdr) != BLOCK_MAGIC)
		return reader_stop(r, ZT_STORE_CORRUPT, r->offset, "bad block magic at offset %llu",
				   (unsigned long long)r->offset);
	clen = le32_get(hdr + 4);
	ulen = le32_get(hdr + 8);
	if (!clen || !ulen || ulen > ZT_STORE_BLOCK_MAX || clen > compressBound(ZT_STORE_BLOCK_MAX))
		return reader_stop(r, ZT_STORE_CORRUPT, r->offset,
				   "corrupt block length at offset %llu",
				   (unsigned long long)r->offset);
	r->zbuf.len = 0;
	ret = buf_reserve(&r->zbuf, clen);
	if (ret)
		return ret;
	n = read_full(r->fd, r->zbuf.data, clen);
	if (n < 0)
		return n;
	if ((size_t)n < clen)
		return reader_stop(r, ZT_STORE_TRUNCATED, r->offset,
				   "truncated block at offset %llu (the file ends %zd bytes into "
				   "its %u-byte payload)",
				   (unsigned long long)r->offset, n, clen);
	if (le32_get(hdr + 12) != crc32(0, r->zbuf.data, clen))
		return reader_stop(r, ZT_STORE_CORRUPT, r->offset,
				   "CRC mismatch in block at offset %llu",
				   (unsigned long long)r->offset);
	r->payload.len = 0;
	ret = buf_reserve(&r->payload, ulen);
	if (ret)
		return ret;
	dlen = ulen;
	if (uncompress(r->payload.data, &dlen, r->zbuf.data, clen) != Z_OK || dlen != ulen)
		return reader_stop(r, ZT_STORE_CORRUPT, r->offset,
				   "undecodable block at offset %llu",
				   (unsigned long long)r->offset);
	r->payload.len = ulen;
	r->pos = 0;
	r->block_offset = r->offset;
	r->offset += BLOCK_HDR_SIZE + clen;
	r->blocks++;
	return 1;
}

/* A cursor over one entry body; any read past its end marks it bad. */
struct cursor {
	const uint8_t *p;
	size_t left;
	bool bad;
};

static const uint8_t *cur_take(struct cursor *c, size_t len)
{
	const uint8_t *p = c->p;

	if (c->bad || len > c->left) {
		c->bad = true;
		return NULL;
	}
	c->p += len;
	c->left -= len;
	return p;
}

static uint16_t cur_u16(struct cursor *c)
{
	const uint8_t *p = cur_take(c, 2);

	return p ? le16_get(p) : 0;
}

static uint32_t cur_u32(struct cursor *c)
{
	const uint8_t *p = cur_take(c, 4);

	return p ? le32_get(p) : 0;
}

static uint64_t cur_u64(struct cursor *c)
{
	const uint8_t *p = cur_take(c, 8);

	return p ? le64_get(p) : 0;
}

/* A string inside the payload (NUL-terminated there by the writer), or NULL if absent/bad. */
static const char *cur_str(struct cursor *c, bool present)
{
	uint32_t len = cur_u32(c);
	const uint8_t *p = c->bad ? NULL : cur_take(c, (size_t)len + 1);

	if (!p || p[len] != '\0') {
		c->bad = true;
		return NULL;
	}
	return present ? (const char *)p : NULL;
}

/* Stop at a malformed entry of the current block. Returns 0. */
static int bad_entry(struct zt_store_reader *r, size_t entry_pos)
{
	return reader_stop(r, ZT_STORE_CORRUPT, r->block_offset,
			   "corrupt entry %zu bytes into the block at offset %llu", entry_pos,
			   (unsigned long long)r->block_offset);
}

/* Remember a definition. Returns 0, 1 if malformed, or -ENOMEM. */
static int decode_def(struct zt_store_reader *r, struct cursor *c)
{
	uint32_t id = cur_u32(c);
	uint16_t flags;
	const char *name, *probe, *binary;
	struct reader_def *d;
	bool failed = false;

	cur_u16(c); /* kind: each span carries its own */
	flags = cur_u16(c);
	name = cur_str(c, flags & DEF_HAS_NAME);
	probe = cur_str(c, flags & DEF_HAS_PROBE);
	binary = cur_str(c, flags & DEF_HAS_BINARY);
	/* Ids are handed out in order; anything else means the payload is damaged. */
	if (c->bad || id != r->ndefs)
		return 1;
	if (r->ndefs == r->defs_cap) {
		size_t cap = r->defs_cap ? r->defs_cap * 2 : 32;

		d = realloc(r->defs, cap * sizeof(*d));
		if (!d)
			return -ENOMEM;
		r->defs = d;
		r->defs_cap = cap;
	}
	d = &r->defs[r->ndefs];
	d->name = strdup_null(name, &failed);
	d->probe = strdup_null(probe, &failed);
	d->binary = strdup_null(binary, &failed);
	if (failed) {
		free(d->name);
		free(d->probe);
		free(d->binary);
		return -ENOMEM;
	}
	r->ndefs++;
	return 0;
}

/* Fill s from a span body. Returns 0 or 1 if malformed. */
/* The captured arguments after a span body (version 2) into a. Returns 0, or 1 if malformed. */
static int decode_span_args(struct cursor *c, struct zt_args_part *a)
{
	const uint8_t *p = cur_take(c, SPAN_ARGS_FIXED_SIZE);

	if (!p)
		return 1;
	a->spec.int_mask = p[0];
	a->spec.int32_mask = p[1];
	a->spec.nstr = p[2];
	if (a->spec.nstr > ZT_ARGS_MAX_STRS)
		return 1;
	for (unsigned i = 0; i < ZT_ARGS_MAX; i++)
		a->regs[i] = le64_get(p + 4 + 8 * i);
	for (unsigned k = 0; k < a->spec.nstr; k++) {
		struct zt_arg_str *s = &a->strs[k];
		const uint8_t *t;

		p = cur_take(c, SPAN_ARG_STR_HDR_SIZE);
		if (!p)
			return 1;
		s->arg = p[0];
		s->flags = p[1];
		s->len = le16_get(p + 2);
		if (s->len > ZT_ARG_STR_MAX)
			return 1;
		t = cur_take(c, s->len);
		if (!t)
			return 1;
		memcpy(s->text, t, s->len);
	}
	/* the checks a record from the kernel gets: indexes, one value per argument, no NUL */
	return zt_span_args_check(a) || c->left ? 1 : 0;
}

static int decode_span(struct zt_store_reader *r, struct cursor *c, struct zt_span *s)
{
	const uint8_t *p = cur_take(c, SPAN_BODY_SIZE);
	uint32_t id;

	if (!p)
		return 1;
	memset(s, 0, sizeof(*s));
	memcpy(s->trace_id, p, 16);
	s->span_id = le64_get(p + 16);
	s->parent_span_id = le64_get(p + 24);
	s->start_ns = le64_get(p + 32);
	s->end_ns = le64_get(p + 40);
	s->ret = (int64_t)le64_get(p + 48);
	s->syscall_ns = le64_get(p + 56);
	s->syscall_count = le32_get(p + 64);
	s->pid = le32_get(p + 68);
	s->tid = le32_get(p + 72);
	s->probe_id = le32_get(p + 76);
	id = le32_get(p + 80);
	s->depth = le16_get(p + 84);
	s->kind = p[86];
	s->status = p[87];
	memcpy(s->comm, p + 88, ZT_COMM_LEN);
	s->comm[ZT_COMM_LEN - 1] = '\0';
	if (id >= r->ndefs)
		return 1;
	if (c->left && decode_span_args(c, &s->args))
		return 1;
	s->name = r->defs[id].name;
	s->probe = r->defs[id].probe;
	s->binary = r->defs[id].binary;
	return 0;
}

/* Keep a process in the reader's table and point *p at it. Returns 0, 1 if malformed, -ENOMEM. */
static int decode_process(struct zt_store_reader *r, struct cursor *c, struct zt_store_process *p)
{
	const char *strs[PROC_NSTRINGS];
	char *copies[PROC_NSTRINGS] = {NULL};
	struct zt_store_process *q;
	uint32_t pid = cur_u32(c), flags = cur_u32(c);
	uint64_t start = cur_u64(c);
	bool failed = false;

	for (int i = 0; i < PROC_NSTRINGS; i++)
		strs[i] = cur_str(c, flags & (1u << i));
	if (c->bad)
		return 1;
	if (r->nprocs == r->procs_cap) {
		size_t cap = r->procs_cap ? r->procs_cap * 2 : 16;

		q = realloc(r->procs, cap * sizeof(*q));
		if (!q)
			return -ENOMEM;
		r->procs = q;
		r->procs_cap = cap;
	}
	for (int i = 0; i < PROC_NSTRINGS; i++)
		copies[i] = strdup_null(strs[i], &failed);
	if (failed) {
		for (int i = 0; i < PROC_NSTRINGS; i++)
			free(copies[i]);
		return -ENOMEM;
	}
	q = &r->procs[r->nprocs++];
	*q = (struct zt_store_process){
	    .pid = pid,
	    .start_time = start,
	    .comm = copies[0],
	    .exe = copies[1],
	    .cmdline = copies[2],
	    .service_name = copies[3],
	    .service_name_from_env = flags & PROC_SERVICE_FROM_ENV,
	    .container_id = copies[4],
	    .resource_attrs = copies[5],
	};
	*p = *q;
	return 0;
}

/* Point m at a snapshot whose strings live in the current payload. Returns 0, 1, -ENOMEM. */
static int decode_metrics(struct zt_store_reader *r, struct cursor *c, struct zt_store_metrics *m)
{
	uint64_t time_ns = cur_u64(c);
	uint32_t n = cur_u32(c);

	cur_u32(c);
	/* Each sample takes at least 18 bytes: a count beyond that is damage, not a big alloc. */
	if (c->bad || n > c->left / 18)
		return 1;
	if (n > r->samples_cap) {
		struct zt_store_metric *s = realloc(r->samples, n * sizeof(*s));

		if (!s)
			return -ENOMEM;
		r->samples = s;
		r->samples_cap = n;
	}
	for (uint32_t i = 0; i < n; i++) {
		uint64_t bits;

		r->samples[i].name = cur_str(c, true);
		r->samples[i].labels = cur_str(c, true);
		bits = cur_u64(c);
		memcpy(&r->samples[i].value, &bits, sizeof(bits));
	}
	if (c->bad)
		return 1;
	m->time_ns = time_ns;
	m->samples = r->samples;
	m->count = n;
	return 0;
}

int zt_store_next(struct zt_store_reader *r, struct zt_store_item *item)
{
	for (;;) {
		struct cursor c;
		size_t at = r->pos;
		uint32_t type, len;
		int ret;

		if (r->stop != ZT_STORE_READING)
			return 0;
		if (r->pos == r->payload.len) {
			ret = read_block(r);
			if (ret <= 0)
				return ret;
			continue;
		}
		if (r->payload.len - r->pos < ENTRY_HDR_SIZE)
			return bad_entry(r, at);
		type = le16_get(r->payload.data + r->pos);
		len = le32_get(r->payload.data + r->pos + 4);
		if (len > r->payload.len - r->pos - ENTRY_HDR_SIZE)
			return bad_entry(r, at);
		c = (struct cursor){.p = r->payload.data + r->pos + ENTRY_HDR_SIZE, .left = len};
		r->pos += ENTRY_HDR_SIZE + len;
		switch (type) {
		case ENTRY_DEF:
			ret = decode_def(r, &c);
			break;
		case ENTRY_SPAN:
			item->type = ZT_STORE_ITEM_SPAN;
			ret = decode_span(r, &c, &item->span);
			break;
		case ENTRY_PROCESS:
			item->type = ZT_STORE_ITEM_PROCESS;
			ret = decode_process(r, &c, &item->process);
			break;
		case ENTRY_METRICS:
			item->type = ZT_STORE_ITEM_METRICS;
			ret = decode_metrics(r, &c, &item->metrics);
			break;
		default:
			continue; /* from a later minor revision: skip it */
		}
		if (ret < 0)
			return ret;
		if (ret > 0)
			return bad_entry(r, at);
		if (type != ENTRY_DEF)
			return item->type;
	}
}

int zt_store_next_span(struct zt_store_reader *r, struct zt_span *out)
{
	struct zt_store_item item;
	int ret;

	while ((ret = zt_store_next(r, &item)) > 0) {
		if (item.type == ZT_STORE_ITEM_SPAN) {
			*out = item.span;
			return 1;
		}
	}
	return ret;
}

const struct zt_store_process *zt_store_processes(const struct zt_store_reader *r, size_t *n)
{
	*n = r->nprocs;
	return r->procs;
}

enum zt_store_stop zt_store_stopped_at(const struct zt_store_reader *r, uint64_t *offset,
				       const char **reason)
{
	if (offset)
		*offset = r->stop == ZT_STORE_READING ? r->offset : r->stop_offset;
	if (reason)
		*reason = r->stop == ZT_STORE_READING ? "still reading" : r->reason;
	return r->stop;
}

uint64_t zt_store_blocks_read(const struct zt_store_reader *r)
{
	return r->blocks;
}

void zt_store_reader_close(struct zt_store_reader *r)
{
	if (!r)
		return;
	if (r->fd >= 0)
		close(r->fd);
	for (size_t i = 0; i < r->ndefs; i++) {
		free(r->defs[i].name);
		free(r->defs[i].probe);
		free(r->defs[i].binary);
	}
	for (size_t i = 0; i < r->nprocs; i++) {
		free((char *)r->procs[i].comm);
		free((char *)r->procs[i].exe);
		free((char *)r->procs[i].cmdline);
		free((char *)r->procs[i].service_name);
		free((char *)r->procs[i].container_id);
		free((char *)r->procs[i].resource_attrs);
	}
	free(r->defs);
	free(r->procs);
	free(r->samples);
	free(r->zbuf.data);
	free(r->payload.data);
	free(r);
}
