/* SPDX-License-Identifier: MIT */
/*
 * Test helper: the independent OTLP receiver of tests/peers/otlp-receiver (Node.js), started
 * on a free port, and what it received read back one span per line, split into columns.
 * Needs node and tests/peers/otlp-receiver/setup.sh (npm ci); run from the repository root.
 */
#ifndef ZT_TEST_OTLP_RECEIVER_H
#define ZT_TEST_OTLP_RECEIVER_H

#include <limits.h>
#include <stdbool.h>
#include <stddef.h>

#include "common/runproc.h"

/* Columns of a spans.js or decode.js --tsv line (tests/peers/otlp-receiver/otlp.js tsvLines). */
#define TSV_COLS 14

enum {
	C_SEQ,
	C_SERVICE,
	C_PID,
	C_TRACE,
	C_SPAN,
	C_PARENT,
	C_NAME,
	C_KIND,
	C_STATUS,
	C_MESSAGE,
	C_START,
	C_END,
	C_ATTRS,
	C_RESOURCE
};

struct zt_receiver {
	struct zt_proc p;
	char dir[PATH_MAX]; /* a mkdtemp directory for its files */
	char out[PATH_MAX + 16];
	char port_file[PATH_MAX + 16];
	int port;
};

/* What the receiver got, one span per line, split into columns (in place, in *text). */
struct zt_received {
	char *text;
	char *(*cols)[TSV_COLS];
	size_t n;
	char *raw; /* the receiver's output file, for content-type checks */
};

/* Find the receiver's directory; fails the test, saying how to install it, when it is missing. */
void zt_receiver_setup(void);

/* A mkdtemp directory for r's files. */
void zt_receiver_dir(struct zt_receiver *r);

/* Start receiver.js on port (0: any) with extra options; waits for its port file. */
void zt_receiver_start(struct zt_receiver *r, int port, const char *const *extra);

/* SIGTERM the receiver and reap it. */
void zt_receiver_stop(struct zt_receiver *r);

/* Remove r's files and directory. */
void zt_receiver_cleanup(struct zt_receiver *r);

/* What r received, one span per line, split into columns; free with zt_received_free(). */
void zt_read_received(struct zt_receiver *r, struct zt_received *rcv);

void zt_received_free(struct zt_received *rcv);

/* True when the semicolon-separated k=v list (a C_ATTRS or C_RESOURCE column) has exactly k=v. */
bool zt_kv_has(const char *list, const char *k, const char *v);

#endif
