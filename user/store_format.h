/* SPDX-License-Identifier: MIT */
/*
 * The record file's byte layout (see store.h), shared by its writer (store.c) and reader
 * (store_read.c) and by nobody else.
 */
#ifndef ZTRACE_STORE_FORMAT_H
#define ZTRACE_STORE_FORMAT_H

#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include "span_args.h"
#include "store.h"

static const uint8_t store_magic[8] = {'Z', 'T', 'R', 'A', 'C', 'E', 0x1a, '\n'};
#define BLOCK_MAGIC 0x4b42545au /* "ZTBK" as little-endian bytes */

/* Header: magic, version, size, boot offset, creation time, host, flags, crc. */
#define HDR_OFF_VERSION 8
#define HDR_OFF_SIZE	12
#define HDR_OFF_BOOT	16
#define HDR_OFF_CREATED 24
#define HDR_OFF_HOST	32
#define HDR_OFF_FLAGS	(HDR_OFF_HOST + ZT_STORE_HOSTNAME_LEN)
#define HDR_SIZE	(HDR_OFF_FLAGS + 8)
/* A later version may grow the header; beyond this its size field is corrupt. */
#define HDR_SIZE_MAX   4096
#define BLOCK_HDR_SIZE 16
#define ENTRY_HDR_SIZE 8

enum entry_type {
	ENTRY_DEF = 1,
	ENTRY_SPAN = 2,
	ENTRY_PROCESS = 3,
	ENTRY_METRICS = 4,
};

/* Span body: ids, times, counters, def id, depth, kind, status, comm (see zt_store_add_span). */
#define SPAN_BODY_SIZE (16 + 8 * 6 + 4 * 5 + 2 + 1 + 1 + ZT_COMM_LEN)

/*
 * Captured arguments (version 2), after the span body when the span has any: int_mask,
 * int32_mask, string count, a zero byte, ZT_ARGS_MAX registers (u64), then per string its
 * argument, flags (enum zt_arg_str_flags), length (u16) and that many bytes.
 */
#define SPAN_ARGS_FIXED_SIZE  (4 + 8 * ZT_ARGS_MAX)
#define SPAN_ARG_STR_HDR_SIZE 4

/* Presence bits for optional strings, in the order they are written. */
#define DEF_HAS_NAME	      (1u << 0)
#define DEF_HAS_PROBE	      (1u << 1)
#define DEF_HAS_BINARY	      (1u << 2)
#define PROC_NSTRINGS	      6
#define PROC_SERVICE_FROM_ENV (1u << 31)

/* ---- little-endian helpers ---- */

static inline void le16_put(uint8_t *p, uint16_t v)
{
	p[0] = v;
	p[1] = v >> 8;
}

static inline void le32_put(uint8_t *p, uint32_t v)
{
	for (int i = 0; i < 4; i++)
		p[i] = v >> (8 * i);
}

static inline void le64_put(uint8_t *p, uint64_t v)
{
	for (int i = 0; i < 8; i++)
		p[i] = v >> (8 * i);
}

static inline uint16_t le16_get(const uint8_t *p)
{
	return p[0] | (uint16_t)p[1] << 8;
}

static inline uint32_t le32_get(const uint8_t *p)
{
	return p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static inline uint64_t le64_get(const uint8_t *p)
{
	return le32_get(p) | (uint64_t)le32_get(p + 4) << 32;
}

/* ---- growable byte buffer ---- */

struct store_buf {
	uint8_t *data;
	size_t len;
	size_t cap;
};

/* Make room for extra more bytes. Returns 0 or -ENOMEM. */
static inline int buf_reserve(struct store_buf *b, size_t extra)
{
	size_t cap = b->cap ? b->cap : 4096;
	uint8_t *data;

	if (b->len + extra <= b->cap)
		return 0;
	while (cap < b->len + extra)
		cap *= 2;
	data = realloc(b->data, cap);
	if (!data)
		return -ENOMEM;
	b->data = data;
	b->cap = cap;
	return 0;
}

/* Append len bytes; the caller reserved room. Returns where they went. */
static inline uint8_t *buf_put(struct store_buf *b, size_t len)
{
	uint8_t *p = b->data + b->len;

	b->len += len;
	return p;
}

/* A copy of s (NULL stays NULL); sets *failed when out of memory. */
static inline char *strdup_null(const char *s, bool *failed)
{
	char *d;

	if (!s)
		return NULL;
	d = strdup(s);
	if (!d)
		*failed = true;
	return d;
}

#endif
