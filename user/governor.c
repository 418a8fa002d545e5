// SPDX-License-Identifier: MIT
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <bpf/bpf.h>
#include "governor.h"
#include "log.h"

#define NS_PER_S  1000000000ull
#define NS_PER_MS 1000000ull
#define NPROGS	  4 /* zt_loader_function_progs: entry, return, multi entry, multi return */

struct prog_stats {
	uint64_t run_time_ns;
	uint64_t run_cnt;
};

struct zt_governor {
	struct zt_loader *loader;
	uint64_t budget_ns;
	int stats_fd; /* holds the kernel's BPF run-time stats on */
	uint64_t last_ms;
	struct prog_stats progs[NPROGS];
	uint64_t calls[ZT_MAX_PROBES]; /* at the last tick */
	uint64_t cost[ZT_MAX_PROBES];  /* ns/s over the last interval */
	uint8_t shift[ZT_MAX_PROBES];
	uint8_t old_shift[ZT_MAX_PROBES]; /* before the last tick's decisions */
};

int zt_governor_parse_budget(const char *text, uint64_t *ns_per_s, char *err, size_t errlen)
{
	char *end;
	double v;

	errno = 0;
	v = strtod(text, &end);
	if (end == text || errno || !isfinite(v) || v <= 0 || text[0] == '-' || text[0] == '+')
		goto bad;
	if (*end == '%' && end[1] == '\0') {
		if (v > 100)
			goto bad;
		*ns_per_s = (uint64_t)(v * (double)NS_PER_S / 100);
	} else if (*end == '\0' && v < (double)NS_PER_S) {
		*ns_per_s = (uint64_t)v;
	} else {
		goto bad;
	}
	if (*ns_per_s)
		return 0;
bad:
	snprintf(err, errlen,
		 "bad probe budget '%s': give a percentage of one CPU (e.g. 2%%) or nanoseconds "
		 "of BPF run time per second (1 to 999999999)",
		 text);
	return -EINVAL;
}

/* The smallest shift that brings cost_ns under budget_ns, within ZT_GOVERNOR_MAX_SHIFT. */
static uint32_t shift_needed(uint64_t cost_ns, uint64_t budget_ns)
{
	uint32_t s = 0;

	while (s < ZT_GOVERNOR_MAX_SHIFT && (cost_ns >> s) > budget_ns)
		s++;
	return s;
}

uint32_t zt_governor_decide(uint64_t cost_ns, uint64_t budget_ns, uint32_t shift)
{
	uint64_t relaxed_budget = budget_ns / ZT_GOVERNOR_LIFT_FACTOR;
	uint32_t need = shift_needed(cost_ns, budget_ns), relaxed;

	if (need >= shift)
		return need;
	relaxed = shift_needed(cost_ns, relaxed_budget ? relaxed_budget : 1);
	return relaxed < shift ? relaxed : shift;
}

struct zt_governor *zt_governor_new(struct zt_loader *l, uint64_t budget_ns)
{
	struct zt_governor *g = calloc(1, sizeof(*g));
	int fd;

	if (!g)
		return NULL;
	fd = bpf_enable_stats(BPF_STATS_RUN_TIME);
	if (fd < 0) {
		int err = errno;

		free(g);
		errno = err;
		return NULL;
	}
	g->loader = l;
	g->budget_ns = budget_ns;
	g->stats_fd = fd;
	return g;
}

/* Mean BPF run time of one function call over the interval: entry mean + return mean. */
static uint64_t mean_call_ns(struct zt_governor *g)
{
	uint64_t mean[2] = {0, 0}, rt[2] = {0, 0}, cnt[2] = {0, 0};
	int fds[NPROGS];

	zt_loader_function_progs(g->loader, fds);
	for (int i = 0; i < NPROGS; i++) {
		struct bpf_prog_info info;
		uint32_t len = sizeof(info);

		memset(&info, 0, sizeof(info));
		if (fds[i] < 0 || bpf_obj_get_info_by_fd(fds[i], &info, &len))
			continue;
		/* even: entry programs, odd: return programs */
		rt[i % 2] += info.run_time_ns - g->progs[i].run_time_ns;
		cnt[i % 2] += info.run_cnt - g->progs[i].run_cnt;
		g->progs[i].run_time_ns = info.run_time_ns;
		g->progs[i].run_cnt = info.run_cnt;
	}
	for (int k = 0; k < 2; k++)
		mean[k] = cnt[k] ? rt[k] / cnt[k] : 0;
	return mean[0] + mean[1];
}

/* Say why probe p's sampling went from old to its shift now. */
static void log_decision(const struct zt_governor *g, const struct zt_probe *p, uint32_t old)
{
	unsigned long long cost = g->cost[p->id], budget = g->budget_ns,
			   n = 1ull << g->shift[p->id];

	if (g->shift[p->id] > old)
		zt_notice("probe %s costs %llu ns/s over budget %llu ns/s: sampling 1 in %llu",
			  p->text, cost, budget, n);
	else if (g->shift[p->id])
		zt_notice("probe %s costs %llu ns/s, under budget %llu ns/s: sampling relaxed to "
			  "1 in %llu",
			  p->text, cost, budget, n);
	else
		zt_notice("probe %s costs %llu ns/s, under budget %llu ns/s: sampling lifted, "
			  "every call kept",
			  p->text, cost, budget);
}

/* Measure probe p over the interval and set its sampling. Returns the shift it had before. */
static uint32_t govern(struct zt_governor *g, const struct zt_probe *p, uint64_t mean,
		       uint64_t interval_ms, struct zt_metrics *m)
{
	uint32_t old = g->shift[p->id], shift;
	struct zt_probe_stats st;
	int ret;

	if (zt_loader_probe_stats(g->loader, p->id, &st))
		return old;
	/* ns/s = calls in the interval x mean ns per call / interval in seconds */
	g->cost[p->id] = (uint64_t)((double)(st.calls - g->calls[p->id]) * (double)mean * 1000.0 /
				    (double)interval_ms);
	g->calls[p->id] = st.calls;
	shift = zt_governor_decide(g->cost[p->id], g->budget_ns, old);
	if (shift != old) {
		ret = zt_loader_set_sample_shift(g->loader, p->id, shift);
		if (ret)
			zt_warn("probe %s: cannot set its sampling: %s", p->text, strerror(-ret));
		else
			g->shift[p->id] = (uint8_t)shift;
	}
	if (m)
		zt_metrics_set_sampling(m, p->text, st.sampled_out, 1ull << g->shift[p->id]);
	return old;
}

void zt_governor_tick(struct zt_governor *g, const struct zt_probe_table *probes,
		      struct zt_metrics *m, uint64_t now_ms)
{
	uint64_t interval_ms = now_ms - g->last_ms, mean;

	if (!g->last_ms) { /* the first tick only takes the baseline */
		g->last_ms = now_ms;
		mean_call_ns(g);
		return;
	}
	if (interval_ms < ZT_GOVERNOR_INTERVAL_MS)
		return;
	g->last_ms = now_ms;
	mean = mean_call_ns(g);
	for (size_t i = 0; i < probes->n; i++) {
		const struct zt_probe *p = &probes->v[i];

		if (p->kind == ZT_KIND_FUNCTION && p->id < ZT_MAX_PROBES)
			g->old_shift[p->id] = (uint8_t)govern(g, p, mean, interval_ms, m);
	}
	/* logged once every probe's metrics say so: whoever reads a line finds them current */
	for (size_t i = 0; i < probes->n; i++) {
		const struct zt_probe *p = &probes->v[i];

		if (p->kind == ZT_KIND_FUNCTION && p->id < ZT_MAX_PROBES &&
		    g->old_shift[p->id] != g->shift[p->id])
			log_decision(g, p, g->old_shift[p->id]);
	}
}

uint64_t zt_governor_sampled_out(struct zt_governor *g, const struct zt_probe_table *probes,
				 size_t *nprobes)
{
	uint64_t total = 0;

	*nprobes = 0;
	for (size_t i = 0; i < probes->n; i++) {
		struct zt_probe_stats st;

		if (probes->v[i].kind != ZT_KIND_FUNCTION ||
		    zt_loader_probe_stats(g->loader, probes->v[i].id, &st) || !st.sampled_out)
			continue;
		total += st.sampled_out;
		(*nprobes)++;
	}
	return total;
}

void zt_governor_free(struct zt_governor *g)
{
	if (!g)
		return;
	close(g->stats_fd);
	free(g);
}
