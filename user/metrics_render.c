// SPDX-License-Identifier: MIT
/* The metrics registry rendered as Prometheus text: the families and their HELP texts. */
#include <stdio.h>
#include <sys/resource.h>
#include <unistd.h>

#include "metrics_internal.h"
#include "syscall_names.h"

#define US_PER_SEC 1000000.0
/* Bytes of a decimal uint32 label value (pid, syscall number), NUL included. */
#define U32_TEXT_LEN 12
/* Labels of a per-process series: pid, comm, what it counts (2), the container's (3). */
#define SERIES_LABELS_MAX 7

/* The container labels a process's series carry when known, in this order. */
static const char *const container_label_names[ZT_METRICS_CONTAINER_LABELS] = {
    "container_id", "k8s_namespace", "k8s_pod"};

/* What a per-process series is made of: one row of a family. */
enum series_part { PART_CALLS, PART_ERRORS, PART_DURATION };

/*
 * The labels of one of p's series: pid, comm, then what (nwhat labels: function and binary,
 * or syscall), then the container labels known for p. Returns how many.
 */
static size_t series_labels(const struct proc *p, const char *pid, const struct zt_prom_label *what,
			    size_t nwhat, struct zt_prom_label out[SERIES_LABELS_MAX])
{
	size_t n = 0;

	out[n++] = (struct zt_prom_label){"pid", pid};
	out[n++] = (struct zt_prom_label){"comm", p->comm};
	for (size_t i = 0; i < nwhat; i++)
		out[n++] = what[i];
	for (size_t i = 0; i < ZT_METRICS_CONTAINER_LABELS; i++)
		if (p->container[i])
			out[n++] =
			    (struct zt_prom_label){container_label_names[i], p->container[i]};
	return n;
}

/* Write part of every visible process's function series (one family's samples). */
static void render_functions(struct zt_prom *out, struct zt_metrics *m, enum series_part part)
{
	char pid[U32_TEXT_LEN];

	for (size_t i = 0; i < m->nprocs; i++) {
		const struct proc *p = m->procs[i];

		if (p->state == PROC_GONE || p->hidden)
			continue;
		snprintf(pid, sizeof(pid), "%u", p->pid);
		for (size_t f = 0; f < p->nfns; f++) {
			const struct fn_series *s = &p->fns[f];
			struct zt_prom_label what[] = {{"function", s->function},
						       {"binary", s->binary}};
			struct zt_prom_label labels[SERIES_LABELS_MAX];
			size_t n = series_labels(p, pid, what, 2, labels);

			/* every call, those the governor left out untimed included */
			if (part == PART_CALLS)
				zt_prom_sample_u64(out, labels, n, s->v.count + s->v.sampled_out);
			else if (part == PART_ERRORS)
				zt_prom_sample_u64(out, labels, n, s->v.errors);
			else
				zt_prom_histogram_log2(out, labels, n, s->v.buckets,
						       ZT_HIST_BUCKETS, s->v.sum_ns);
		}
	}
}

/* Write part of every visible process's syscall series, by syscall number. */
static void render_syscalls(struct zt_prom *out, struct zt_metrics *m, enum series_part part)
{
	char pid[U32_TEXT_LEN], number[U32_TEXT_LEN];

	for (size_t i = 0; i < m->nprocs; i++) {
		const struct proc *p = m->procs[i];

		if (p->state == PROC_GONE || p->hidden || !p->sys)
			continue;
		snprintf(pid, sizeof(pid), "%u", p->pid);
		for (int nr = 0; nr < ZT_MAX_SYSCALLS; nr++) {
			const struct zt_agg_val *v = p->sys[nr];
			const char *name = zt_syscall_name(nr);
			struct zt_prom_label what, labels[SERIES_LABELS_MAX];
			size_t n;

			if (!v)
				continue;
			/* A number the table doesn't know (a newer kernel) is labelled by itself.
			 */
			if (!name) {
				snprintf(number, sizeof(number), "%d", nr);
				name = number;
			}
			what = (struct zt_prom_label){"syscall", name};
			n = series_labels(p, pid, &what, 1, labels);
			if (part == PART_CALLS)
				zt_prom_sample_u64(out, labels, n, v->count);
			else if (part == PART_ERRORS)
				zt_prom_sample_u64(out, labels, n, v->errors);
			else
				zt_prom_histogram_log2(out, labels, n, v->buckets, ZT_HIST_BUCKETS,
						       v->sum_ns);
		}
	}
}

/* The overhead governor's sampling and the memory budget's caches (user/governor.h). */
static void render_governor(struct zt_prom *out, struct zt_metrics *m)
{
	bool sampling = false;

	for (size_t i = 0; i < m->nevents; i++)
		sampling |= m->events[i].sampling_set;
	/* families only where there is something to show: ztrace trace has no governor */
	if (sampling) {
		zt_prom_family(out, "ztrace_function_calls_sampled_out_total", ZT_PROM_COUNTER,
			       "Calls of a function probe left out by the overhead governor's "
			       "in-kernel sampling: counted in ztrace_function_calls_total, not timed "
			       "in ztrace_function_duration_seconds.");
		for (size_t i = 0; i < m->nevents; i++) {
			struct zt_prom_label l[] = {{"probe", m->events[i].probe}};

			if (m->events[i].sampling_set)
				zt_prom_sample_u64(out, l, 1, m->events[i].sampled_out);
		}
		zt_prom_family(out, "ztrace_probe_sample_rate", ZT_PROM_GAUGE,
			       "The governor keeps 1 call in this many of a function probe (1: "
			       "every call).");
		for (size_t i = 0; i < m->nevents; i++) {
			struct zt_prom_label l[] = {{"probe", m->events[i].probe}};

			if (m->events[i].sampling_set)
				zt_prom_sample_u64(out, l, 1, m->events[i].sample_period);
		}
	}
	if (!m->memory_set)
		return;
	zt_prom_family(out, "ztrace_cache_evictions_total", ZT_PROM_COUNTER,
		       "Entries a cache of the agent evicted to stay within max_memory.");
	for (size_t i = 0; i < m->ncaches; i++) {
		struct zt_prom_label l[] = {{"cache", m->caches[i].cache}};

		zt_prom_sample_u64(out, l, 1, m->caches[i].evictions);
	}
	zt_prom_family(out, "ztrace_cache_memory_bytes", ZT_PROM_GAUGE,
		       "Bytes the agent's caches hold (what max_memory bounds; BPF maps and the "
		       "ring buffer are kernel memory, not counted).");
	zt_prom_sample_u64(out, NULL, 0, m->memory_used);
	zt_prom_family(out, "ztrace_cache_memory_budget_bytes", ZT_PROM_GAUGE,
		       "The agent's max_memory.");
	zt_prom_sample_u64(out, NULL, 0, m->memory_budget);
}

static void render_own(struct zt_prom *out, struct zt_metrics *m)
{
	zt_prom_family(out, "ztrace_events_total", ZT_PROM_COUNTER,
		       "Records per probe delivered to ztrace or lost because the ring buffer was "
		       "full; capture rate = delivered / (delivered + lost).");
	for (size_t i = 0; i < m->nevents; i++) {
		const struct probe_events *e = &m->events[i];
		struct zt_prom_label delivered[] = {{"probe", e->probe}, {"outcome", "delivered"}};
		struct zt_prom_label lost[] = {{"probe", e->probe}, {"outcome", "lost"}};

		zt_prom_sample_u64(out, delivered, 2, e->delivered);
		zt_prom_sample_u64(out, lost, 2, e->lost);
	}

	render_governor(out, m);

	zt_prom_family(out, "ztrace_spans_exported_total", ZT_PROM_COUNTER,
		       "Spans per exporter sent, dropped because its queue was full, or failed "
		       "after retries.");
	for (size_t i = 0; i < m->nexporters; i++) {
		const struct exporter_stats *x = &m->exporters[i];
		struct zt_prom_label sent[] = {{"exporter", x->exporter}, {"outcome", "sent"}};
		struct zt_prom_label dropped[] = {{"exporter", x->exporter},
						  {"outcome", "dropped"}};
		struct zt_prom_label failed[] = {{"exporter", x->exporter}, {"outcome", "failed"}};

		zt_prom_sample_u64(out, sent, 2, x->sent);
		zt_prom_sample_u64(out, dropped, 2, x->dropped);
		zt_prom_sample_u64(out, failed, 2, x->failed);
	}

	/* only where a rule samples: ztrace trace keeps every span */
	if (m->nsampled)
		zt_prom_family(out, "ztrace_spans_sampled_out_total", ZT_PROM_COUNTER,
			       "Spans not exported because their trace was left out by the sample "
			       "fraction of the rule tracing the process.");
	for (size_t i = 0; i < m->nsampled; i++) {
		struct zt_prom_label rule[] = {{"rule", m->sampled[i].rule}};

		zt_prom_sample_u64(out, rule, 1, m->sampled[i].spans);
	}

	zt_prom_family(
	    out, "ztrace_ringbuf_fill_ratio", ZT_PROM_GAUGE,
	    "Highest fill of the BPF ring buffer (0 to 1) seen since the previous scrape.");
	if (m->fill_set)
		zt_prom_sample(out, NULL, 0, m->fill_peak);
}

/* The agent's own CPU time and resident memory, under the names every Prometheus client uses. */
static void render_self(struct zt_prom *out)
{
	struct rusage ru;
	unsigned long size, resident;
	FILE *f;

	zt_prom_family(out, "process_cpu_seconds_total", ZT_PROM_COUNTER,
		       "Total user and system CPU time spent in seconds.");
	if (getrusage(RUSAGE_SELF, &ru) == 0) {
		double cpu = (double)ru.ru_utime.tv_sec + (double)ru.ru_stime.tv_sec +
			     (double)(ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / US_PER_SEC;

		zt_prom_sample(out, NULL, 0, cpu);
	}

	zt_prom_family(out, "process_resident_memory_bytes", ZT_PROM_GAUGE,
		       "Resident memory size in bytes.");
	f = fopen("/proc/self/statm", "re");
	if (!f)
		return;
	if (fscanf(f, "%lu %lu", &size, &resident) == 2)
		zt_prom_sample_u64(out, NULL, 0,
				   (uint64_t)resident * (uint64_t)sysconf(_SC_PAGESIZE));
	fclose(f);
}

void zt_metrics_render_families(struct zt_prom *out, struct zt_metrics *m)
{
	zt_prom_family(out, "ztrace_function_calls_total", ZT_PROM_COUNTER,
		       "Completed calls of a traced function, per process.");
	render_functions(out, m, PART_CALLS);
	zt_prom_family(out, "ztrace_function_errors_total", ZT_PROM_COUNTER,
		       "Calls of a traced function whose return value met the error rule.");
	render_functions(out, m, PART_ERRORS);
	zt_prom_family(out, "ztrace_function_duration_seconds", ZT_PROM_HISTOGRAM,
		       "Duration of traced function calls (log2 buckets computed in the kernel).");
	render_functions(out, m, PART_DURATION);

	zt_prom_family(out, "ztrace_syscalls_total", ZT_PROM_COUNTER,
		       "Completed syscalls, per process.");
	render_syscalls(out, m, PART_CALLS);
	zt_prom_family(out, "ztrace_syscall_errors_total", ZT_PROM_COUNTER,
		       "Syscalls that returned an error (a negative value).");
	render_syscalls(out, m, PART_ERRORS);
	zt_prom_family(out, "ztrace_syscall_duration_seconds", ZT_PROM_HISTOGRAM,
		       "Syscall latency from sys_enter to sys_exit (log2 buckets computed in the "
		       "kernel).");
	render_syscalls(out, m, PART_DURATION);

	render_own(out, m);
	render_self(out);
}
