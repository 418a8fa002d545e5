/* SPDX-License-Identifier: MIT */
/*
 * The record file (DESIGN.md "Record file"): a header, then zlib-compressed blocks that each
 * carry their lengths and a CRC, so a file cut short by a crash reads up to its last whole block.
 *
 * File layout, all integers little-endian:
 *
 *   header  magic "ZTRACE\x1a\n", u32 version, u32 header size, i64 boot offset (realtime -
 *           monotonic ns), u64 creation time (unix ns), char host[ZT_STORE_HOSTNAME_LEN],
 *           u32 flags, u32 crc32 of everything before it
 *   block   u32 magic "ZTBK", u32 compressed length, u32 uncompressed length,
 *           u32 crc32 of the compressed bytes, then the compressed payload
 *   payload a sequence of entries {u16 type, u16 reserved, u32 body length, body}; a reader
 *           skips entry types it does not know and ignores trailing bytes of a body it does.
 *
 * Spans refer to their name, probe text and binary path by a definition id; the definition is
 * written once per file, before the first span that uses it.
 */
#ifndef ZTRACE_STORE_H
#define ZTRACE_STORE_H

#include <stddef.h>
#include <stdint.h>
#include "procinfo.h"
#include "span.h"

/* 2: a span entry may end with the arguments its call captured (--capture); version 1 files,
 * whose spans have none, read the same. */
#define ZT_STORE_VERSION 2

struct zt_store_writer;
struct zt_store_reader;

/*
 * A traced process as the record file keeps it: the fields of struct zt_process_info
 * (procinfo.h), with the same meanings. Strings may be NULL (unknown).
 */
struct zt_store_process {
	uint32_t pid;
	uint64_t
	    start_time; /* /proc/PID/stat starttime (clock ticks after boot): tells pid reuse */
	const char *comm;
	const char *exe;	    /* absolute path of the executable */
	const char *cmdline;	    /* arguments joined by single spaces */
	const char *service_name;   /* OTEL_SERVICE_NAME of the target, else basename(exe) */
	bool service_name_from_env; /* service_name came from the target's environment */
	const char *container_id;
	const char *resource_attrs; /* the target's OTEL_RESOURCE_ATTRIBUTES, raw */
};

/* Point out's fields at info's (nothing is copied: out lives no longer than info). */
void zt_store_process_from_info(struct zt_store_process *out, const struct zt_process_info *info);

/*
 * Fill info from p, copying the strings (comm truncated to ZT_COMM_LEN - 1). Returns 0 or
 * -ENOMEM (info is then zeroed); free info with zt_procinfo_free().
 */
int zt_store_process_to_info(struct zt_process_info *info, const struct zt_store_process *p);

/* One metric sample: name, its labels in exposition form (`pid="1",comm="x"`), value. */
struct zt_store_metric {
	const char *name;
	const char *labels;
	double value;
};

/* A metric snapshot: all samples taken at one time. */
struct zt_store_metrics {
	uint64_t time_ns; /* unix ns */
	const struct zt_store_metric *samples;
	size_t count;
};

/* What the header says about the run that wrote the file. */
struct zt_store_header {
	uint32_t version;
	int64_t boot_offset_ns; /* CLOCK_REALTIME - CLOCK_MONOTONIC when recording started */
	uint64_t created_ns;	/* unix ns */
	char hostname[ZT_STORE_HOSTNAME_LEN];
};

struct zt_store_stats {
	uint64_t spans;
	uint64_t processes;
	uint64_t metric_snapshots;
	uint64_t blocks;
	uint64_t bytes;		      /* written to the current file so far, header included */
	uint64_t rotations;	      /* files closed and renamed (zt_store_set_rotation) */
	uint64_t processes_forgotten; /* not carried into later files (ZT_STORE_REPLAY_MAX_BYTES) */
};

/*
 * Create (or truncate) the record file at path with mode 0600, refusing a symlink as the last
 * component, and write its header. Returns the writer, or NULL with errno set and a message in
 * err. The writer is not thread-safe.
 */
struct zt_store_writer *zt_store_create(const char *path, int64_t boot_offset_ns, char *err,
					size_t errlen);

/*
 * Buffer span s (its strings are copied or interned; the caller keeps ownership). Writes a
 * block once ZT_STORE_BLOCK_BYTES of payload are buffered. Returns 0 or -errno; after a write
 * error every later call fails with the same error.
 */
int zt_store_add_span(struct zt_store_writer *w, const struct zt_span *s);

/* Buffer process p. Returns 0 or -errno (-E2BIG if its strings exceed ZT_STORE_ENTRY_MAX). */
int zt_store_add_process(struct zt_store_writer *w, const struct zt_store_process *p);

/* Buffer a metric snapshot of n samples taken at time_ns. Returns 0 or -errno. */
int zt_store_add_metrics(struct zt_store_writer *w, uint64_t time_ns,
			 const struct zt_store_metric *samples, size_t n);

/*
 * Rotate the file at path (the one w was created at) by size: once a written block brings it
 * to max_size bytes, it is closed and renamed PATH.1, PATH.1 becomes PATH.2 .. up to
 * PATH.<keep> (the oldest is dropped; keep 0 keeps none), and a new PATH is started (0600,
 * never through a symlink) with its own header, definitions and the processes seen so far, so
 * every file reads on its own. A file may pass max_size by one block. Returns 0 or -ENOMEM.
 */
int zt_store_set_rotation(struct zt_store_writer *w, const char *path, uint64_t max_size,
			  unsigned keep);

/*
 * Move PATH to PATH.1, PATH.1 to PATH.2 .. up to PATH.<keep> (the oldest dropped; keep 0
 * removes PATH): what a rotation does, and what a restarted agent does before writing PATH
 * anew. Missing files are skipped. Returns 0 or -errno of rename/unlink.
 */
int zt_store_shift(const char *path, unsigned keep);

/* Compress and write whatever is buffered as one block (nothing if empty). Returns 0 or -errno. */
int zt_store_flush(struct zt_store_writer *w);

/* Counters of what has been written so far. */
void zt_store_get_stats(const struct zt_store_writer *w, struct zt_store_stats *st);

/*
 * Flush, sync and close the file and free w (always, even on error). Returns 0 or the first
 * error the writer met. NULL is accepted.
 */
int zt_store_close(struct zt_store_writer *w);

/* Items a reader returns, in file order. */
enum zt_store_item_type {
	ZT_STORE_ITEM_SPAN = 1,
	ZT_STORE_ITEM_PROCESS,
	ZT_STORE_ITEM_METRICS,
};

struct zt_store_item {
	enum zt_store_item_type type;
	union {
		struct zt_span span;
		struct zt_store_process process;
		struct zt_store_metrics metrics;
	};
};

/* Why a reader stopped. */
enum zt_store_stop {
	ZT_STORE_READING,   /* not at the end yet */
	ZT_STORE_END,	    /* the file ended after a whole block: clean */
	ZT_STORE_TRUNCATED, /* the file ends inside a block (a writer killed mid-write) */
	ZT_STORE_CORRUPT,   /* bad block magic, CRC mismatch, undecodable payload */
};

/*
 * Open the record file at path and check its header. Returns 0 and the reader in *r, or
 * -errno with a message in err: "not a ztrace record file (bad magic at offset 0)" for a
 * foreign file, -EPROTONOSUPPORT naming both versions for a file from a newer ztrace.
 */
int zt_store_open(const char *path, struct zt_store_reader **r, char *err, size_t errlen);

/* The file's header; owned by r. */
const struct zt_store_header *zt_store_get_header(const struct zt_store_reader *r);

/*
 * Read the next item. Returns its type (> 0), 0 at the end (clean or not: see
 * zt_store_stopped_at), or -errno on an I/O or memory error. Span names, probe texts, binary
 * paths and process strings are owned by r and stay valid until zt_store_reader_close; metric
 * samples stay valid until the next call.
 */
int zt_store_next(struct zt_store_reader *r, struct zt_store_item *item);

/* Like zt_store_next, skipping everything but spans: 1 with *out filled, 0 at the end, -errno. */
int zt_store_next_span(struct zt_store_reader *r, struct zt_span *out);

/*
 * Processes read so far (all of them once zt_store_next has returned 0), in file order; a
 * pid recorded twice appears twice. Owned by r.
 */
const struct zt_store_process *zt_store_processes(const struct zt_store_reader *r, size_t *n);

/*
 * Where and why reading stopped. *offset is the file offset of the first byte not read as part
 * of a whole, valid block (the end of the file when clean); *reason is a sentence owned by r,
 * e.g. "truncated block at offset 70200" or "CRC mismatch in block at offset 4096".
 */
enum zt_store_stop zt_store_stopped_at(const struct zt_store_reader *r, uint64_t *offset,
				       const char **reason);

/* Blocks read whole so far. */
uint64_t zt_store_blocks_read(const struct zt_store_reader *r);

/* Close the file and free r and every string it handed out. NULL is accepted. */
void zt_store_reader_close(struct zt_store_reader *r);

#endif
