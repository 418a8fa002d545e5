// SPDX-License-Identifier: MIT
#include <string.h>
#include <sys/random.h>
#include <time.h>
#include "stitch.h"

/* splitmix64's finalizer: a bijection on 64-bit values, so distinct kernel ids stay distinct. */
static uint64_t mix64(uint64_t x)
{
	x ^= x >> 30;
	x *= 0xbf58476d1ce4e5b9ULL;
	x ^= x >> 27;
	x *= 0x94d049bb133111ebULL;
	x ^= x >> 31;
	return x;
}

static uint64_t ts_ns(clockid_t clk)
{
	struct timespec ts;

	clock_gettime(clk, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec;
}

void zt_stitch_init(struct zt_stitch *st)
{
	uint64_t best = UINT64_MAX;

	memset(st, 0, sizeof(*st));
	if (getrandom(st->salt, sizeof(st->salt), 0) != sizeof(st->salt)) {
		/* no entropy source: still unique within the run, just predictable */
		st->salt[0] = ts_ns(CLOCK_REALTIME);
		st->salt[1] = mix64(st->salt[0]);
		st->salt[2] = mix64(st->salt[1]);
	}
	/* The offset is read between two monotonic reads; keep the tightest of a few tries. */
	for (int i = 0; i < 5; i++) {
		uint64_t m0 = ts_ns(CLOCK_MONOTONIC);
		uint64_t r = ts_ns(CLOCK_REALTIME);
		uint64_t m1 = ts_ns(CLOCK_MONOTONIC);

		if (m1 - m0 < best) {
			best = m1 - m0;
			st->mono_to_real_ns = (int64_t)(r - (m0 + (m1 - m0) / 2));
		}
	}
}

uint64_t zt_stitch_span_id(const struct zt_stitch *st, uint64_t kernel_id)
{
	uint64_t id;

	if (!kernel_id)
		return 0;
	id = mix64(kernel_id ^ st->salt[0]);
	/* 0 means "no parent" on the wire; the bijection maps exactly one input there */
	return id ? id : 1;
}

void zt_stitch_span(const struct zt_stitch *st, const struct zt_span_rec *rec,
		    const struct zt_args_part *args, struct zt_span *out)
{
	uint64_t hi = mix64(rec->root_id ^ st->salt[1]);
	uint64_t lo = mix64(rec->root_id ^ st->salt[2]);

	for (int i = 0; i < 8; i++) {
		out->trace_id[i] = (uint8_t)(hi >> (56 - 8 * i));
		out->trace_id[8 + i] = (uint8_t)(lo >> (56 - 8 * i));
	}
	out->span_id = zt_stitch_span_id(st, rec->span_id);
	out->parent_span_id = zt_stitch_span_id(st, rec->parent_id);
	out->start_ns = rec->start_ns + st->mono_to_real_ns;
	out->end_ns = rec->end_ns + st->mono_to_real_ns;
	out->ret = rec->ret;
	out->syscall_ns = rec->syscall_ns;
	out->syscall_count = rec->syscall_count;
	out->pid = rec->pid;
	out->tid = rec->tid;
	out->probe_id = rec->probe_id;
	out->depth = rec->depth;
	memcpy(out->comm, rec->comm, sizeof(out->comm));
	out->comm[sizeof(out->comm) - 1] = '\0';
	if (args)
		out->args = *args;
	else
		memset(&out->args, 0, sizeof(out->args));
	/* judged by the kernel, by the rule of the process's policy (a point event is never) */
	if (rec->hdr.flags & ZT_SPAN_INCOMPLETE)
		out->status = ZT_STATUS_INCOMPLETE;
	else
		out->status = rec->hdr.flags & ZT_SPAN_ERROR ? ZT_STATUS_ERROR : ZT_STATUS_OK;
}

bool zt_stitch_sampled_in(const struct zt_stitch *st, uint64_t root_id, double fraction)
{
	/* a keyed hash of the root: every span of a trace gets the same answer */
	uint64_t h = mix64(root_id ^ st->salt[0] ^ st->salt[1]);

	if (fraction >= 1)
		return true;
	return (double)h < fraction * 18446744073709551616.0; /* 2^64 */
}
