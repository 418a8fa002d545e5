// SPDX-License-Identifier: MIT
/* The record file writer. The layout is described in store.h, its constants in store_format.h. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/stat.h>
#include <zlib.h>
#include "log.h"
#include "store_format.h"

/* Fastest zlib level: the writer runs beside the ring-buffer consumer and spans compress well
 * anyway (repeated ids, names and comms); a smaller file is not worth dropped events. */
#define STORE_ZLIB_LEVEL Z_BEST_SPEED

/* Bytes a string takes in an entry: u32 length, the bytes, a NUL (so readers can point at it). */
static size_t str_size(const char *s)
{
	return 4 + (s ? strlen(s) : 0) + 1;
}

static void str_put(struct store_buf *b, const char *s)
{
	size_t len = s ? strlen(s) : 0;

	le32_put(buf_put(b, 4), len);
	memcpy(buf_put(b, len), s ? s : "", len);
	*buf_put(b, 1) = '\0';
}

struct store_def {
	char *name;
	char *probe;
	char *binary;
	enum zt_span_kind kind;
	uint64_t hash;
};

struct zt_store_writer {
	int fd;
	int error; /* sticky: the first write error */
	struct store_buf payload;
	struct store_buf block; /* block header + compressed payload, reused */
	struct store_def *defs;
	size_t ndefs;
	size_t defs_cap;
	uint32_t *slots; /* open addressing: def index + 1, 0 = free */
	size_t nslots;
	struct zt_store_stats stats;
	/* rotation (zt_store_set_rotation): off while path is NULL */
	char *path;
	uint64_t max_size;
	unsigned keep;
	int64_t boot_offset_ns;
	struct store_buf replay; /* process entries, written again at the top of a new file */
};

/* Write all of buf to fd, retrying short writes. Returns 0 or -errno. */
static int write_all(int fd, const uint8_t *buf, size_t len)
{
	while (len) {
		ssize_t n = write(fd, buf, len);

		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		buf += n;
		len -= n;
	}
	return 0;
}

static void header_encode(uint8_t hdr[HDR_SIZE], int64_t boot_offset_ns, uint64_t created_ns,
			  const char *host)
{
	memset(hdr, 0, HDR_SIZE);
	memcpy(hdr, store_magic, sizeof(store_magic));
	le32_put(hdr + HDR_OFF_VERSION, ZT_STORE_VERSION);
	le32_put(hdr + HDR_OFF_SIZE, HDR_SIZE);
	le64_put(hdr + HDR_OFF_BOOT, (uint64_t)boot_offset_ns);
	le64_put(hdr + HDR_OFF_CREATED, created_ns);
	memcpy(hdr + HDR_OFF_HOST, host, strnlen(host, ZT_STORE_HOSTNAME_LEN - 1));
	le32_put(hdr + HDR_SIZE - 4, crc32(0, hdr, HDR_SIZE - 4));
}

static int open_file(struct zt_store_writer *w, const char *path, char *err, size_t errlen);

struct zt_store_writer *zt_store_create(const char *path, int64_t boot_offset_ns, char *err,
					size_t errlen)
{
	struct zt_store_writer *w;
	int ret;

	w = calloc(1, sizeof(*w));
	if (!w) {
		snprintf(err, errlen, "out of memory");
		errno = ENOMEM;
		return NULL;
	}
	w->boot_offset_ns = boot_offset_ns;
	ret = open_file(w, path, err, errlen);
	if (ret) {
		free(w);
		errno = -ret;
		return NULL;
	}
	return w;
}

/* Create path (0600, never through a symlink) as w's file and write its header. 0 or -errno. */
static int open_file(struct zt_store_writer *w, const char *path, char *err, size_t errlen)
{
	uint8_t hdr[HDR_SIZE];
	char host[ZT_STORE_HOSTNAME_LEN] = "";
	struct timespec now;
	struct stat st;
	int ret;

	w->fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW | O_CLOEXEC, 0600);
	if (w->fd < 0) {
		ret = -errno;
		if (ret == -ELOOP)
			snprintf(err, errlen, "%s is a symbolic link; refusing to write through it",
				 path);
		else
			snprintf(err, errlen, "cannot create %s: %s", path, strerror(-ret));
		goto fail;
	}
	/* O_TRUNC keeps the mode of a file that already existed; the file holds command lines,
	 * so narrow it. Devices and pipes (-o /dev/null) keep theirs. */
	if (fstat(w->fd, &st) == 0 && S_ISREG(st.st_mode) && fchmod(w->fd, 0600) < 0) {
		ret = -errno;
		snprintf(err, errlen, "cannot make %s private: %s", path, strerror(-ret));
		goto fail;
	}
	gethostname(host, sizeof(host) - 1);
	clock_gettime(CLOCK_REALTIME, &now);
	header_encode(hdr, w->boot_offset_ns, (uint64_t)now.tv_sec * 1000000000ull + now.tv_nsec,
		      host);
	ret = write_all(w->fd, hdr, sizeof(hdr));
	if (ret) {
		snprintf(err, errlen, "cannot write %s: %s", path, strerror(-ret));
		goto fail;
	}
	w->stats.bytes = sizeof(hdr);
	return 0;
fail:
	if (w->fd >= 0)
		close(w->fd);
	w->fd = -1;
	return ret;
}

static int rotate(struct zt_store_writer *w);

int zt_store_flush(struct zt_store_writer *w)
{
	uLongf clen;
	uint8_t *hdr;
	int ret;

	if (w->error)
		return w->error;
	if (!w->payload.len)
		return 0;
	clen = compressBound(w->payload.len);
	w->block.len = 0;
	ret = buf_reserve(&w->block, BLOCK_HDR_SIZE + clen);
	if (ret)
		return ret;
	hdr = buf_put(&w->block, BLOCK_HDR_SIZE);
	if (compress2(w->block.data + BLOCK_HDR_SIZE, &clen, w->payload.data, w->payload.len,
		      STORE_ZLIB_LEVEL) != Z_OK)
		return -ENOMEM; /* compress2 fails only for lack of memory with a big enough buffer
				 */
	le32_put(hdr, BLOCK_MAGIC);
	le32_put(hdr + 4, clen);
	le32_put(hdr + 8, w->payload.len);
	le32_put(hdr + 12, crc32(0, w->block.data + BLOCK_HDR_SIZE, clen));
	ret = write_all(w->fd, w->block.data, BLOCK_HDR_SIZE + clen);
	if (ret) {
		/* Cut a partly written block off so the file stays readable to its last whole
		 * block; best effort, as the disk may be what failed. */
		if (ftruncate(w->fd, w->stats.bytes) < 0)
			lseek(w->fd, 0, SEEK_END);
		w->error = ret;
		return ret;
	}
	w->stats.bytes += BLOCK_HDR_SIZE + clen;
	w->stats.blocks++;
	w->payload.len = 0;
	if (w->path && w->stats.bytes >= w->max_size)
		return rotate(w);
	return 0;
}

/* Start an entry of type with a body of len bytes. Returns 0 or -errno. */
static int entry_begin(struct zt_store_writer *w, enum entry_type type, size_t len)
{
	uint8_t *p;
	int ret;

	if (w->error)
		return w->error;
	if (len > ZT_STORE_ENTRY_MAX)
		return -E2BIG;
	ret = buf_reserve(&w->payload, ENTRY_HDR_SIZE + len);
	if (ret)
		return ret;
	p = buf_put(&w->payload, ENTRY_HDR_SIZE);
	le16_put(p, type);
	le16_put(p + 2, 0);
	le32_put(p + 4, len);
	return 0;
}

/* An entry is complete: write the block if enough is buffered. Returns 0 or -errno. */
static int entry_end(struct zt_store_writer *w)
{
	if (w->payload.len >= ZT_STORE_BLOCK_BYTES)
		return zt_store_flush(w);
	return 0;
}

static uint64_t hash_str(uint64_t h, const char *s)
{
	/* FNV-1a; a NULL string hashes differently from "" through the marker byte. */
	h = (h ^ (s ? 1 : 2)) * 0x100000001b3ull;
	for (; s && *s; s++)
		h = (h ^ (uint8_t)*s) * 0x100000001b3ull;
	return h;
}

static bool str_eq(const char *a, const char *b)
{
	return (!a && !b) || (a && b && !strcmp(a, b));
}

/* Grow the intern table to nslots slots (a power of two). Returns 0 or -ENOMEM. */
static int defs_rehash(struct zt_store_writer *w, size_t nslots)
{
	uint32_t *slots = calloc(nslots, sizeof(*slots));

	if (!slots)
		return -ENOMEM;
	for (size_t i = 0; i < w->ndefs; i++) {
		size_t j = w->defs[i].hash & (nslots - 1);

		while (slots[j])
			j = (j + 1) & (nslots - 1);
		slots[j] = i + 1;
	}
	free(w->slots);
	w->slots = slots;
	w->nslots = nslots;
	return 0;
}

/*
 * Find the definition of s's (kind, name, probe, binary), writing a new definition entry the
 * first time it is seen. Returns the id (>= 0) or -errno.
 */
static int64_t def_intern(struct zt_store_writer *w, const struct zt_span *s)
{
	uint64_t h = 0xcbf29ce484222325ull ^ s->kind;
	struct store_def *d;
	bool failed = false;
	uint16_t flags = 0;
	size_t j;
	int ret;

	h = hash_str(hash_str(hash_str(h, s->name), s->probe), s->binary);
	if (w->nslots) {
		for (j = h & (w->nslots - 1); w->slots[j]; j = (j + 1) & (w->nslots - 1)) {
			d = &w->defs[w->slots[j] - 1];
			if (d->hash == h && d->kind == s->kind && str_eq(d->name, s->name) &&
			    str_eq(d->probe, s->probe) && str_eq(d->binary, s->binary))
				return w->slots[j] - 1;
		}
	}
	if ((w->ndefs + 1) * 2 > w->nslots) {
		ret = defs_rehash(w, w->nslots ? w->nslots * 2 : 64);
		if (ret)
			return ret;
	}
	if (w->ndefs == w->defs_cap) {
		size_t cap = w->defs_cap ? w->defs_cap * 2 : 32;

		d = realloc(w->defs, cap * sizeof(*d));
		if (!d)
			return -ENOMEM;
		w->defs = d;
		w->defs_cap = cap;
	}
	d = &w->defs[w->ndefs];
	*d = (struct store_def){
	    .name = strdup_null(s->name, &failed),
	    .probe = strdup_null(s->probe, &failed),
	    .binary = strdup_null(s->binary, &failed),
	    .kind = s->kind,
	    .hash = h,
	};
	ret = failed
		  ? -ENOMEM
		  : entry_begin(w, ENTRY_DEF,
				8 + str_size(s->name) + str_size(s->probe) + str_size(s->binary));
	if (ret) {
		free(d->name);
		free(d->probe);
		free(d->binary);
		return ret;
	}
	flags |= s->name ? DEF_HAS_NAME : 0;
	flags |= s->probe ? DEF_HAS_PROBE : 0;
	flags |= s->binary ? DEF_HAS_BINARY : 0;
	le32_put(buf_put(&w->payload, 4), w->ndefs);
	le16_put(buf_put(&w->payload, 2), s->kind);
	le16_put(buf_put(&w->payload, 2), flags);
	str_put(&w->payload, s->name);
	str_put(&w->payload, s->probe);
	str_put(&w->payload, s->binary);
	for (j = h & (w->nslots - 1); w->slots[j]; j = (j + 1) & (w->nslots - 1))
		;
	w->slots[j] = ++w->ndefs;
	/* No flush here: the span that needs this definition follows in the same block. */
	return w->ndefs - 1;
}

/* Bytes the captured arguments of a take in a span entry (0 without any). */
static size_t span_args_size(const struct zt_args_part *a)
{
	size_t n;

	if (!zt_span_args_present(a))
		return 0;
	n = SPAN_ARGS_FIXED_SIZE;
	for (unsigned k = 0; k < a->spec.nstr && k < ZT_ARGS_MAX_STRS; k++)
		n += SPAN_ARG_STR_HDR_SIZE + a->strs[k].len;
	return n;
}

/* Write a's arguments at p (span_args_size(a) bytes; see store_format.h). */
static void put_span_args(uint8_t *p, const struct zt_args_part *a)
{
	p[0] = a->spec.int_mask;
	p[1] = a->spec.int32_mask;
	p[2] = a->spec.nstr;
	p[3] = 0;
	p += 4;
	for (unsigned i = 0; i < ZT_ARGS_MAX; i++, p += 8)
		le64_put(p, a->regs[i]);
	for (unsigned k = 0; k < a->spec.nstr && k < ZT_ARGS_MAX_STRS; k++) {
		const struct zt_arg_str *s = &a->strs[k];

		p[0] = s->arg;
		p[1] = s->flags;
		le16_put(p + 2, s->len);
		memcpy(p + SPAN_ARG_STR_HDR_SIZE, s->text, s->len);
		p += SPAN_ARG_STR_HDR_SIZE + s->len;
	}
}

int zt_store_add_span(struct zt_store_writer *w, const struct zt_span *s)
{
	int64_t id = def_intern(w, s);
	size_t args = span_args_size(&s->args);
	uint8_t *p;
	int ret;

	if (id < 0)
		return id;
	ret = entry_begin(w, ENTRY_SPAN, SPAN_BODY_SIZE + args);
	if (ret)
		return ret;
	p = buf_put(&w->payload, SPAN_BODY_SIZE);
	memcpy(p, s->trace_id, 16);
	le64_put(p + 16, s->span_id);
	le64_put(p + 24, s->parent_span_id);
	le64_put(p + 32, s->start_ns);
	le64_put(p + 40, s->end_ns);
	le64_put(p + 48, (uint64_t)s->ret);
	le64_put(p + 56, s->syscall_ns);
	le32_put(p + 64, s->syscall_count);
	le32_put(p + 68, s->pid);
	le32_put(p + 72, s->tid);
	le32_put(p + 76, s->probe_id);
	le32_put(p + 80, id);
	le16_put(p + 84, s->depth);
	p[86] = s->kind;
	p[87] = s->status;
	memcpy(p + 88, s->comm, ZT_COMM_LEN);
	if (args)
		put_span_args(buf_put(&w->payload, args), &s->args);
	w->stats.spans++;
	return entry_end(w);
}

/* Keep a process entry for the next file; past the budget the oldest half goes. */
static void replay_keep(struct zt_store_writer *w, const uint8_t *entry, size_t len)
{
	struct store_buf *r = &w->replay;

	if (r->len + len > ZT_STORE_REPLAY_MAX_BYTES) {
		size_t cut = 0;

		/* whole entries only: walk their headers to the middle */
		while (cut < r->len / 2)
			cut += ENTRY_HDR_SIZE + le32_get(r->data + cut + 4);
		for (size_t at = 0; at < cut; at += ENTRY_HDR_SIZE + le32_get(r->data + at + 4))
			w->stats.processes_forgotten++;
		memmove(r->data, r->data + cut, r->len - cut);
		r->len -= cut;
	}
	if (r->len + len > ZT_STORE_REPLAY_MAX_BYTES || buf_reserve(r, len)) {
		w->stats.processes_forgotten++;
		return;
	}
	memcpy(buf_put(r, len), entry, len);
}

/* Forget the definitions: a new file must define its names again. */
static void defs_reset(struct zt_store_writer *w)
{
	for (size_t i = 0; i < w->ndefs; i++) {
		free(w->defs[i].name);
		free(w->defs[i].probe);
		free(w->defs[i].binary);
	}
	w->ndefs = 0;
	if (w->slots)
		memset(w->slots, 0, w->nslots * sizeof(*w->slots));
}

/* PATH.n of the rotation (PATH for 0), in buf. */
static void rotated_name(const char *path, unsigned n, char *buf, size_t len)
{
	if (n)
		snprintf(buf, len, "%s.%u", path, n);
	else
		snprintf(buf, len, "%s", path);
}

int zt_store_shift(const char *path, unsigned keep)
{
	char from[PATH_MAX], to[PATH_MAX];

	for (unsigned n = keep; n > 0; n--) {
		rotated_name(path, n - 1, from, sizeof(from));
		rotated_name(path, n, to, sizeof(to));
		/* rename() replaces PATH.<keep>, the oldest; a missing PATH.n is a gap, fine */
		if (rename(from, to) < 0 && errno != ENOENT)
			return -errno;
	}
	if (keep == 0 && unlink(path) < 0 && errno != ENOENT)
		return -errno;
	return 0;
}

/*
 * The file reached max_size: close it, shift PATH -> PATH.1 -> .. PATH.<keep> (the oldest
 * dropped) and start a new PATH that begins with the processes seen so far. Returns 0 or
 * -errno (then sticky: the writer stops).
 */
static int rotate(struct zt_store_writer *w)
{
	char err[256] = "";
	int ret = 0;

	if (fdatasync(w->fd) < 0 && errno != EINVAL && errno != EROFS)
		ret = -errno;
	if (close(w->fd) < 0 && !ret)
		ret = -errno;
	w->fd = -1;
	if (!ret)
		ret = zt_store_shift(w->path, w->keep);
	if (!ret)
		ret = open_file(w, w->path, err, sizeof(err));
	if (ret) {
		/* a long-running writer has no caller to tell at once: say it here */
		zt_err("record file rotation failed, nothing more is recorded: %s",
		       err[0] ? err : strerror(-ret));
		w->error = ret;
		return ret;
	}
	defs_reset(w);
	w->stats.rotations++;
	if (w->replay.len) {
		ret = buf_reserve(&w->payload, w->replay.len);
		if (ret) {
			w->error = ret;
			return ret;
		}
		memcpy(buf_put(&w->payload, w->replay.len), w->replay.data, w->replay.len);
	}
	return 0;
}

int zt_store_set_rotation(struct zt_store_writer *w, const char *path, uint64_t max_size,
			  unsigned keep)
{
	char *copy = strdup(path);

	if (!copy)
		return -ENOMEM;
	free(w->path);
	w->path = copy;
	w->max_size = max_size;
	w->keep = keep;
	return 0;
}

int zt_store_add_process(struct zt_store_writer *w, const struct zt_store_process *p)
{
	const char *strs[PROC_NSTRINGS] = {p->comm,	    p->exe,	     p->cmdline,
					   p->service_name, p->container_id, p->resource_attrs};
	size_t len = 16;
	uint32_t flags = p->service_name_from_env ? PROC_SERVICE_FROM_ENV : 0;
	uint8_t *q;
	int ret;

	for (int i = 0; i < PROC_NSTRINGS; i++) {
		len += str_size(strs[i]);
		flags |= strs[i] ? 1u << i : 0;
	}
	ret = entry_begin(w, ENTRY_PROCESS, len);
	if (ret)
		return ret;
	q = buf_put(&w->payload, 16);
	le32_put(q, p->pid);
	le32_put(q + 4, flags);
	le64_put(q + 8, p->start_time);
	for (int i = 0; i < PROC_NSTRINGS; i++)
		str_put(&w->payload, strs[i]);
	w->stats.processes++;
	if (w->path)
		replay_keep(w, q - ENTRY_HDR_SIZE, ENTRY_HDR_SIZE + len);
	return entry_end(w);
}

int zt_store_add_metrics(struct zt_store_writer *w, uint64_t time_ns,
			 const struct zt_store_metric *samples, size_t n)
{
	size_t len = 16;
	uint8_t *q;
	int ret;

	for (size_t i = 0; i < n; i++) {
		if (!samples[i].name)
			return -EINVAL;
		len += str_size(samples[i].name) + str_size(samples[i].labels) + 8;
		if (len > ZT_STORE_ENTRY_MAX)
			return -E2BIG;
	}
	ret = entry_begin(w, ENTRY_METRICS, len);
	if (ret)
		return ret;
	q = buf_put(&w->payload, 16);
	le64_put(q, time_ns);
	le32_put(q + 8, n);
	le32_put(q + 12, 0);
	for (size_t i = 0; i < n; i++) {
		uint64_t bits;

		str_put(&w->payload, samples[i].name);
		str_put(&w->payload, samples[i].labels);
		memcpy(&bits, &samples[i].value, sizeof(bits));
		le64_put(buf_put(&w->payload, 8), bits);
	}
	w->stats.metric_snapshots++;
	return entry_end(w);
}

void zt_store_get_stats(const struct zt_store_writer *w, struct zt_store_stats *st)
{
	*st = w->stats;
}

int zt_store_close(struct zt_store_writer *w)
{
	int ret;

	if (!w)
		return 0;
	ret = zt_store_flush(w);
	/* The point of the file is to survive the run: make it durable before saying so. */
	if (w->fd >= 0) {
		if (!ret && fdatasync(w->fd) < 0 && errno != EINVAL && errno != EROFS)
			ret = -errno;
		if (close(w->fd) < 0 && !ret)
			ret = -errno;
	}
	defs_reset(w);
	free(w->defs);
	free(w->path);
	free(w->replay.data);
	free(w->slots);
	free(w->payload.data);
	free(w->block.data);
	free(w);
	return ret;
}

void zt_store_process_from_info(struct zt_store_process *out, const struct zt_process_info *info)
{
	*out = (struct zt_store_process){
	    .pid = info->pid,
	    .start_time = info->start_time,
	    .comm = info->comm,
	    .exe = info->exe,
	    .cmdline = info->cmdline,
	    .service_name = info->service_name,
	    .service_name_from_env = info->service_name_from_env,
	    .container_id = info->container_id,
	    .resource_attrs = info->resource_attrs,
	};
}

int zt_store_process_to_info(struct zt_process_info *info, const struct zt_store_process *p)
{
	bool failed = false;

	memset(info, 0, sizeof(*info));
	info->pid = p->pid;
	info->start_time = p->start_time;
	if (p->comm)
		snprintf(info->comm, sizeof(info->comm), "%s", p->comm);
	info->exe = strdup_null(p->exe, &failed);
	info->cmdline = strdup_null(p->cmdline, &failed);
	info->service_name = strdup_null(p->service_name, &failed);
	info->service_name_from_env = p->service_name_from_env;
	info->container_id = strdup_null(p->container_id, &failed);
	info->resource_attrs = strdup_null(p->resource_attrs, &failed);
	if (failed) {
		zt_procinfo_free(info);
		return -ENOMEM;
	}
	return 0;
}
