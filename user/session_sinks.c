// SPDX-License-Identifier: MIT
/* Where a session's records go: terminal, summary, record file, OTLP, metrics. */
#include <errno.h>
#include <stdio_ext.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <bpf/bpf.h>
#include "export_json.h"
#include "export_text.h"
#include "session.h"
#include "span_args.h"
#include "syscall_names.h"

uint64_t zt_realtime_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec;
}

uint64_t zt_monotonic_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

/* Name a syscall span: the syscall's name, and "syscall:NAME" as its probe. */
static void name_syscall_span(struct zt_session *t, struct zt_span *s)
{
	uint32_t nr = s->probe_id;
	const char *name = zt_syscall_name((int)nr);

	s->kind = ZT_KIND_SYSCALL;
	s->name = name ? name : "syscall";
	s->probe = "syscall";
	s->binary = NULL;
	/* syscalls fail by returning -errno, whatever --error-if says about functions */
	if (s->status != ZT_STATUS_INCOMPLETE)
		s->status = s->ret < 0 ? ZT_STATUS_ERROR : ZT_STATUS_OK;
	if (nr < ZT_MAX_SYSCALLS && name) {
		if (!t->syscall_probe[nr] &&
		    asprintf(&t->syscall_probe[nr], "syscall:%s", name) < 0)
			t->syscall_probe[nr] = NULL;
		if (t->syscall_probe[nr])
			s->probe = t->syscall_probe[nr];
	}
}

/* Hand one finished span to every consumer: the terminal and the summary. */
static void emit_span(struct zt_session *t, struct zt_span *s, bool syscall)
{
	const struct zt_probe *p = syscall ? NULL : zt_probes_get(&t->probes, s->probe_id);

	if (syscall) {
		name_syscall_span(t, s);
	} else {
		s->kind = p ? p->kind : ZT_KIND_FUNCTION;
		s->name = p ? p->name : "?";
		s->probe = p ? p->text : "?";
		s->binary = p ? p->binary : NULL;
	}
	if (!t->opts->quiet && t->opts->cmd != ZT_CMD_RECORD) {
		/*
		 * A launched command writes to the same stdout. Hand the kernel whole lines in
		 * writes of at most PIPE_BUF bytes, which a pipe never interleaves, so none of its
		 * lines lands inside one of ours.
		 */
		if (__fpending(t->out) > ZT_OUT_FLUSH_BYTES)
			fflush(t->out);
		if (t->opts->format == ZT_FORMAT_JSON) {
			const struct zt_process_info *pi = t->current_proc;
			struct zt_json_container c = {0};

			if (pi)
				c = (struct zt_json_container){pi->container_id, pi->k8s_pod_uid,
							       pi->k8s_namespace, pi->k8s_pod_name};
			zt_json_write_span(t->out, s, &c);
		} else {
			zt_text_write_span(t->out, s, t->t0_ns);
		}
	}
	if (t->store)
		zt_store_add_span(t->store, s);
	if (t->otlp)
		zt_otlp_submit(t->otlp, s, t->current_proc); /* a full queue counts the drop */
	/* syscalls are summarised from the kernel's exact aggregates instead (see finish) */
	if (!syscall)
		zt_summary_add(t->summary, s);
}

void zt_session_record_process(struct zt_session *t, const struct zt_process_info *pi,
			       uint64_t exec_ns)
{
	struct zt_store_process sp;

	if (!t->store || !pi)
		return;
	zt_store_process_from_info(&sp, pi);
	sp.exec_ns = exec_ns;
	zt_store_add_process(t->store, &sp);
}

const struct zt_process_info *zt_session_process(struct zt_session *t, uint32_t pid,
						 const char *comm)
{
	const struct zt_process_info *pi;
	bool created;

	pi = zt_proctable_get(t->procs, pid, comm, &created);
	if (created)
		zt_session_record_process(t, pi, 0);
	return pi;
}

/*
 * pid exec'd at mono_ns (CLOCK_MONOTONIC): same process, new image, whose exe, comm and command
 * line replace the old one's. When the old image was known, the new one is read now, while it
 * surely runs, and gets its own record file entry that starts at the exec: the spans from
 * before the exec keep the old image's.
 */
static void session_process_exec(struct zt_session *t, uint32_t pid, uint64_t mono_ns)
{
	bool known = zt_proctable_peek(t->procs, pid);

	zt_proctable_remove(t->procs, pid);
	if (known)
		zt_session_record_process(t, zt_proctable_get(t->procs, pid, NULL, NULL),
					  mono_ns + t->stitch.mono_to_real_ns);
}

int zt_session_handle_record(void *ctx, void *data, size_t size)
{
	const struct zt_rec_hdr *hdr = data;
	struct zt_session *t = ctx;
	const struct zt_span_rec *rec = data;
	const struct zt_args_part *args = NULL;
	struct zt_span span = {0};
	const struct zt_process_info *pi;
	struct zt_span_policy policy;
	struct zt_probe *p;

	/* The kernel side is ours, but a mismatched build must not be trusted blindly. */
	if (size < sizeof(*hdr) || hdr->size != size) {
		t->invalid_records++;
		return 0;
	}
	if (hdr->type == ZT_REC_EXIT && size == sizeof(struct zt_exit_rec)) {
		uint32_t pid = ((const struct zt_exit_rec *)data)->pid;

		zt_collect_process_exit(&t->collect, pid);
		if (t->on_exit)
			t->on_exit(t, pid);
		return 0;
	}
	if (hdr->type == ZT_REC_EXEC && size == sizeof(struct zt_exit_rec)) {
		uint32_t pid = ((const struct zt_exit_rec *)data)->pid;

		session_process_exec(t, pid, hdr->ts_ns);
		if (t->on_exec)
			t->on_exec(t, pid);
		return 0;
	}
	if (hdr->type != ZT_REC_SPAN) {
		t->invalid_records++;
		return 0;
	}
	/* the arguments a probe captured (--capture) trail its record; others keep its size */
	if (hdr->flags & ZT_SPAN_ARGS) {
		args = (const struct zt_args_part *)(rec + 1);
		if (size != sizeof(*rec) + sizeof(*args) || zt_span_args_check(args)) {
			t->invalid_records++;
			return 0;
		}
	} else if (size != sizeof(*rec)) {
		t->invalid_records++;
		return 0;
	}
	/* first sight of a process: read its /proc facts while it is surely alive */
	pi = zt_session_process(t, rec->pid, rec->comm);
	t->current_proc = pi;
	if (rec->hdr.flags & ZT_SPAN_SYSCALL) {
		t->syscall_delivered++;
	} else if (rec->probe_id < t->probes.n) {
		p = &t->probes.v[rec->probe_id];
		p->delivered++;
	}
	if (t->policy_of && t->policy_of(t, rec->pid, &policy) &&
	    !zt_stitch_sampled_in(&t->stitch, rec->root_id, policy.sample)) {
		t->spans_sampled_out++;
		if (t->metrics)
			zt_metrics_add_sampled_out(t->metrics, policy.rule, 1);
		return 0;
	}
	zt_stitch_span(&t->stitch, rec, args, &span);
	emit_span(t, &span, rec->hdr.flags & ZT_SPAN_SYSCALL);
	return 0;
}

/* Stops ring_buffer__consume() once the drain's budget is spent (the record is consumed). */
#define DRAIN_BUDGET_SPENT (-EAGAIN)

int zt_session_drain_record(void *ctx, void *data, size_t size)
{
	struct zt_session *t = ctx;

	zt_session_handle_record(ctx, data, size);
	if (t->drain_left && --t->drain_left == 0)
		return DRAIN_BUDGET_SPENT;
	return 0;
}

/*
 * Under a flood the producers refill the ring buffer faster than a slow consumer (a JSON
 * reader, a full pipe) empties it, and an unbounded drain would never return: the loop could
 * not stop at -d or Ctrl-C, nor switch to aggregation as the ring buffer fills.
 */
int zt_session_drain(struct zt_session *t, bool all)
{
	int n;

	t->drain_left = all ? 0 : ZT_DRAIN_BATCH_RECORDS;
	n = ring_buffer__consume(t->rb);
	if (n == DRAIN_BUDGET_SPENT)
		n = ZT_DRAIN_BATCH_RECORDS;
	t->drain_left = 0;
	return n;
}

/* Calls still open when ztrace detaches never return as far as ztrace can see. */
void zt_session_flush_open_calls(struct zt_session *t)
{
	int fd = zt_loader_stacks_fd(t->loader);
	struct zt_thread_stack st;
	__u32 key, next;
	void *prev = NULL;
	uint64_t now;
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	now = (uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec;
	while (bpf_map_get_next_key(fd, prev, &next) == 0) {
		key = next;
		prev = &key;
		if (bpf_map_lookup_elem(fd, &key, &st))
			continue;
		for (uint32_t d = st.depth < ZT_MAX_DEPTH ? st.depth : ZT_MAX_DEPTH; d > 0; d--) {
			const struct zt_frame *f = &st.frames[d - 1];
			struct zt_span_rec rec = {
			    .hdr = {.type = ZT_REC_SPAN,
				    .flags = ZT_SPAN_INCOMPLETE,
				    .size = sizeof(rec),
				    .ts_ns = now},
			    .span_id = f->span_id,
			    .parent_id = d > 1 ? st.frames[d - 2].span_id : 0,
			    .root_id = st.root_id,
			    .start_ns = f->start_ns,
			    .end_ns = now,
			    .syscall_ns = f->syscall_ns,
			    .syscall_count = f->syscall_count,
			    .probe_id = f->probe_id,
			    .pid = st.tgid,
			    .tid = key,
			    .depth = (uint16_t)(d - 1),
			};
			/* syscall frames carry the syscall number above ZT_AGG_SYSCALL_BASE */
			if (f->probe_id >= ZT_AGG_SYSCALL_BASE) {
				rec.hdr.flags |= ZT_SPAN_SYSCALL;
				rec.probe_id = f->probe_id - ZT_AGG_SYSCALL_BASE;
			}
			/* the name the calls were made under (the stack keeps it) */
			memcpy(rec.comm, st.comm, sizeof(rec.comm));
			zt_session_handle_record(t, &rec, sizeof(rec));
		}
	}
}

/* ztrace's own counters: records delivered and lost per probe. */
static void publish_capture(struct zt_session *t)
{
	for (size_t i = 0; i < t->probes.n; i++) {
		struct zt_probe *p = &t->probes.v[i];
		struct zt_probe_stats st;

		if (zt_loader_probe_stats(t->loader, p->id, &st) == 0)
			zt_metrics_set_events(t->metrics, p->text, p->delivered, st.lost);
	}
	if (t->opts->syscalls) {
		struct zt_probe_stats st;

		if (zt_loader_probe_stats(t->loader, ZT_SYSCALL_STATS_ID, &st) == 0)
			zt_metrics_set_events(t->metrics, "syscall", t->syscall_delivered, st.lost);
	}
}

/* A metric snapshot for the record file: the capture counters the report shows. */
static void record_snapshot(struct zt_session *t)
{
	size_t n = 0, cap = 2 * t->probes.n + 2;
	struct zt_store_metric *v = calloc(cap, sizeof(*v));

	if (!v)
		return;
	for (size_t i = 0; i <= t->probes.n; i++) {
		const char *probe = i < t->probes.n ? t->probes.v[i].text : "syscall";
		uint32_t id = i < t->probes.n ? t->probes.v[i].id : ZT_SYSCALL_STATS_ID;
		uint64_t delivered =
		    i < t->probes.n ? t->probes.v[i].delivered : t->syscall_delivered;
		struct zt_probe_stats st = {0};

		if (i == t->probes.n && !t->opts->syscalls)
			break;
		zt_loader_probe_stats(t->loader, id, &st);
		/* a probe that never fired adds only zeros: with 'u:libc:*' that is thousands of
		 * samples a second, which the report reads as zero anyway */
		if (!delivered && !st.lost)
			continue;
		for (int lost = 0; lost < 2; lost++) {
			char *labels;

			if (asprintf(&labels, "probe=\"%s\",outcome=\"%s\"", probe,
				     lost ? "lost" : "delivered") < 0)
				goto out;
			v[n].name = "ztrace_events_total";
			v[n].labels = labels;
			v[n].value = (double)(lost ? st.lost : delivered);
			n++;
		}
	}
	zt_store_add_metrics(t->store, zt_realtime_ns(), v, n);
out:
	for (size_t k = 0; k < n; k++)
		free((char *)v[k].labels);
	free(v);
}

void zt_session_publish_exported(struct zt_session *t)
{
	uint64_t sent, dropped, failed;

	if (!t->otlp || !t->metrics)
		return;
	zt_otlp_counts(t->otlp, &sent, &dropped, &failed);
	zt_metrics_set_exported(t->metrics, "otlp", sent, dropped, failed);
}

void zt_session_publish(struct zt_session *t)
{
	if (t->store) {
		record_snapshot(t);
		zt_store_flush(t->store);
	}
	if (!t->metrics)
		return;
	zt_collect_refresh(&t->collect);
	publish_capture(t);
	zt_session_publish_exported(t);
}

void zt_session_publish_final(struct zt_session *t)
{
	if (t->metrics)
		publish_capture(t);
	if (t->store)
		record_snapshot(t);
}
