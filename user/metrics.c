// SPDX-License-Identifier: MIT
/* The metrics registry: processes, their series and ztrace's own counters; see metrics.h. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "metrics_internal.h"

#define NS_PER_SEC 1000000000ull

static uint64_t monotonic_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * NS_PER_SEC + (uint64_t)ts.tv_nsec;
}

/* Grow *arr (elements of size elem) so that it holds at least n + 1. Returns 0 or -ENOMEM. */
static int grow(void **arr, size_t *cap, size_t n, size_t elem)
{
	size_t ncap;
	void *p;

	if (n < *cap)
		return 0;
	ncap = *cap ? 2 * *cap : 8;
	p = realloc(*arr, ncap * elem);
	if (!p)
		return -ENOMEM;
	*arr = p;
	*cap = ncap;
	return 0;
}

struct zt_metrics *zt_metrics_new(void)
{
	struct zt_metrics *m = calloc(1, sizeof(*m));

	if (!m)
		return NULL;
	pthread_mutex_init(&m->lock, NULL);
	m->now_ns = monotonic_ns;
	m->retention_ns = (uint64_t)ZT_METRICS_EXITED_LINGER_S * NS_PER_SEC;
	return m;
}

static void proc_free_series(struct proc *p)
{
	for (size_t i = 0; i < p->nfns; i++) {
		free(p->fns[i].function);
		free(p->fns[i].binary);
	}
	free(p->fns);
	p->fns = NULL;
	p->nfns = p->fns_cap = 0;
	if (p->sys) {
		for (int nr = 0; nr < ZT_MAX_SYSCALLS; nr++)
			free(p->sys[nr]);
		free(p->sys);
		p->sys = NULL;
	}
}

static void proc_free(struct proc *p)
{
	proc_free_series(p);
	for (size_t i = 0; i < ZT_METRICS_CONTAINER_LABELS; i++)
		free(p->container[i]);
	free(p);
}

void zt_metrics_free(struct zt_metrics *m)
{
	if (!m)
		return;
	for (size_t i = 0; i < m->nprocs; i++)
		proc_free(m->procs[i]);
	free(m->procs);
	for (size_t i = 0; i < m->nevents; i++)
		free(m->events[i].probe);
	free(m->events);
	for (size_t i = 0; i < m->nexporters; i++)
		free(m->exporters[i].exporter);
	free(m->exporters);
	for (size_t i = 0; i < m->nsampled; i++)
		free(m->sampled[i].rule);
	free(m->sampled);
	for (size_t i = 0; i < m->ncaches; i++)
		free(m->caches[i].cache);
	free(m->caches);
	pthread_mutex_destroy(&m->lock);
	free(m);
}

void zt_metrics_set_retention(struct zt_metrics *m, uint64_t ns)
{
	pthread_mutex_lock(&m->lock);
	/* a series freed by the grace period before its retention ended would break the promise */
	m->retention_ns = ns < ZT_METRICS_MAX_RETENTION_NS ? ns : ZT_METRICS_MAX_RETENTION_NS;
	pthread_mutex_unlock(&m->lock);
}

void zt_metrics_set_clock(struct zt_metrics *m, uint64_t (*now_ns)(void))
{
	pthread_mutex_lock(&m->lock);
	m->now_ns = now_ns ? now_ns : monotonic_ns;
	pthread_mutex_unlock(&m->lock);
}

static int proc_cmp(const struct proc *p, uint32_t pid, uint64_t start_time)
{
	if (p->pid != pid)
		return p->pid < pid ? -1 : 1;
	if (p->start_time != start_time)
		return p->start_time < start_time ? -1 : 1;
	return 0;
}

/* Index of (pid, start_time) in m->procs if *found, else where it would be inserted. */
static size_t proc_search(const struct zt_metrics *m, uint32_t pid, uint64_t start_time,
			  bool *found)
{
	size_t lo = 0, hi = m->nprocs;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		int c = proc_cmp(m->procs[mid], pid, start_time);

		if (c == 0) {
			*found = true;
			return mid;
		}
		if (c < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	*found = false;
	return lo;
}

static void mark_exited(struct zt_metrics *m, struct proc *p)
{
	if (p->state != PROC_LIVE)
		return;
	p->state = PROC_EXITED;
	p->exited_ns = m->now_ns();
}

static void set_comm(struct proc *p, const char *comm)
{
	size_t n = comm ? strnlen(comm, ZT_COMM_LEN - 1) : 0;

	if (n == 0 && p->comm[0])
		return; /* not known (read after the process had gone): keep what was known */
	memcpy(p->comm, comm ? comm : "", n);
	p->comm[n] = '\0';
}

/*
 * The process (pid, start_time), created live if new. Returns it, or NULL with *err = -ESRCH
 * (exited and removed) or -ENOMEM.
 */
static struct proc *proc_get(struct zt_metrics *m, uint32_t pid, uint64_t start_time,
			     const char *comm, int *err)
{
	bool found;
	size_t at = proc_search(m, pid, start_time, &found);
	struct proc *p;

	/*
	 * Start time 0: not known, the process was gone when its facts were (re)read, e.g. after
	 * the memory budget evicted them. It is the latest process seen with this pid, not a new
	 * one (which would hide that one's series behind itself and count it nowhere).
	 */
	if (!found && start_time == 0) {
		size_t last = at;

		while (last < m->nprocs && m->procs[last]->pid == pid)
			last++;
		if (last > at) {
			at = last - 1;
			found = true;
		}
	}
	if (found) {
		p = m->procs[at];
		if (p->state == PROC_GONE) {
			*err = -ESRCH;
			return NULL;
		}
		set_comm(p, comm);
		return p;
	}
	if (grow((void **)&m->procs, &m->procs_cap, m->nprocs, sizeof(*m->procs))) {
		*err = -ENOMEM;
		return NULL;
	}
	p = calloc(1, sizeof(*p));
	if (!p) {
		*err = -ENOMEM;
		return NULL;
	}
	p->pid = pid;
	p->start_time = start_time;
	set_comm(p, comm);
	/* A pid belongs to one live process at a time: the others with this pid have ended. */
	for (size_t i = at; i > 0 && m->procs[i - 1]->pid == pid; i--)
		mark_exited(m, m->procs[i - 1]);
	for (size_t i = at; i < m->nprocs && m->procs[i]->pid == pid; i++)
		mark_exited(m, m->procs[i]);
	memmove(&m->procs[at + 1], &m->procs[at], (m->nprocs - at) * sizeof(*m->procs));
	m->procs[at] = p;
	m->nprocs++;
	return p;
}

static int fn_cmp(const struct fn_series *s, const char *function, const char *binary)
{
	int c = strcmp(s->function, function);

	return c ? c : strcmp(s->binary, binary);
}

int zt_metrics_set_function(struct zt_metrics *m, uint32_t pid, uint64_t start_time,
			    const char *comm, const char *function, const char *binary,
			    const struct zt_agg_val *v)
{
	struct fn_series *s;
	struct proc *p;
	size_t lo, hi;
	int err = 0;

	if (!binary)
		binary = "";
	pthread_mutex_lock(&m->lock);
	p = proc_get(m, pid, start_time, comm, &err);
	if (!p)
		goto out;
	lo = 0;
	hi = p->nfns;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		int c = fn_cmp(&p->fns[mid], function, binary);

		if (c == 0) {
			p->fns[mid].v = *v;
			goto out;
		}
		if (c < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	if (grow((void **)&p->fns, &p->fns_cap, p->nfns, sizeof(*p->fns))) {
		err = -ENOMEM;
		goto out;
	}
	s = &p->fns[lo];
	memmove(s + 1, s, (p->nfns - lo) * sizeof(*s));
	s->function = strdup(function);
	s->binary = strdup(binary);
	if (!s->function || !s->binary) {
		free(s->function);
		free(s->binary);
		memmove(s, s + 1, (p->nfns - lo) * sizeof(*s));
		err = -ENOMEM;
		goto out;
	}
	s->v = *v;
	p->nfns++;
out:
	pthread_mutex_unlock(&m->lock);
	return err;
}

int zt_metrics_set_syscall(struct zt_metrics *m, uint32_t pid, uint64_t start_time,
			   const char *comm, int nr, const struct zt_agg_val *v)
{
	struct proc *p;
	int err = 0;

	if (nr < 0 || nr >= ZT_MAX_SYSCALLS)
		return -EINVAL;
	pthread_mutex_lock(&m->lock);
	p = proc_get(m, pid, start_time, comm, &err);
	if (!p)
		goto out;
	if (!p->sys) {
		p->sys = calloc(ZT_MAX_SYSCALLS, sizeof(*p->sys));
		if (!p->sys) {
			err = -ENOMEM;
			goto out;
		}
	}
	if (!p->sys[nr]) {
		p->sys[nr] = malloc(sizeof(*p->sys[nr]));
		if (!p->sys[nr]) {
			err = -ENOMEM;
			goto out;
		}
	}
	*p->sys[nr] = *v;
out:
	pthread_mutex_unlock(&m->lock);
	return err;
}

int zt_metrics_set_container(struct zt_metrics *m, uint32_t pid, uint64_t start_time,
			     const char *comm, const struct zt_metrics_container *c)
{
	const char *values[ZT_METRICS_CONTAINER_LABELS] = {c->container_id, c->k8s_namespace,
							   c->k8s_pod};
	struct proc *p;
	int err = 0;

	pthread_mutex_lock(&m->lock);
	p = proc_get(m, pid, start_time, comm, &err);
	/* called at every refresh: copy only what changed */
	for (size_t i = 0; p && i < ZT_METRICS_CONTAINER_LABELS; i++) {
		char *copy = NULL;

		if (!values[i] ? !p->container[i]
			       : p->container[i] && !strcmp(p->container[i], values[i]))
			continue;
		if (values[i] && !(copy = strdup(values[i]))) {
			err = -ENOMEM;
			break;
		}
		free(p->container[i]);
		p->container[i] = copy;
	}
	pthread_mutex_unlock(&m->lock);
	return err;
}

/* Delete processes whose grace period after exit is over. Called with the lock held. */
static void prune(struct zt_metrics *m)
{
	uint64_t now = m->now_ns();
	size_t kept = 0;

	for (size_t i = 0; i < m->nprocs; i++) {
		struct proc *p = m->procs[i];

		if (p->state != PROC_LIVE &&
		    now - p->exited_ns >= (uint64_t)ZT_METRICS_EXITED_GRACE_S * NS_PER_SEC) {
			proc_free(p);
			continue;
		}
		m->procs[kept++] = p;
	}
	m->nprocs = kept;
}

/* Heap bytes of p's series. Called with the lock held. */
static uint64_t proc_bytes(const struct proc *p)
{
	uint64_t n = sizeof(*p) + p->fns_cap * sizeof(*p->fns);

	for (size_t i = 0; i < p->nfns; i++)
		n += strlen(p->fns[i].function) + strlen(p->fns[i].binary) + 2;
	if (p->sys) {
		n += ZT_MAX_SYSCALLS * sizeof(*p->sys);
		for (int nr = 0; nr < ZT_MAX_SYSCALLS; nr++)
			n += p->sys[nr] ? sizeof(*p->sys[nr]) : 0;
	}
	return n;
}

static uint64_t series_bytes(const struct zt_metrics *m)
{
	uint64_t n = m->procs_cap * sizeof(*m->procs);

	for (size_t i = 0; i < m->nprocs; i++)
		n += proc_bytes(m->procs[i]);
	return n;
}

/* Everything the registry holds on the heap. Called with the lock held. */
static uint64_t registry_bytes(const struct zt_metrics *m)
{
	uint64_t n = sizeof(*m) + series_bytes(m) + m->events_cap * sizeof(*m->events);

	for (size_t i = 0; i < m->nevents; i++)
		n += strlen(m->events[i].probe) + 1;
	return n;
}

uint64_t zt_metrics_bytes(struct zt_metrics *m)
{
	uint64_t n;

	pthread_mutex_lock(&m->lock);
	n = registry_bytes(m);
	pthread_mutex_unlock(&m->lock);
	return n;
}

size_t zt_metrics_evict_exited(struct zt_metrics *m, uint64_t max_bytes)
{
	size_t evicted = 0;
	uint64_t total;

	pthread_mutex_lock(&m->lock);
	total = registry_bytes(m);
	while (total > max_bytes) {
		struct proc *oldest = NULL;

		for (size_t i = 0; i < m->nprocs; i++) {
			struct proc *p = m->procs[i];

			if (p->state == PROC_EXITED &&
			    (!oldest || p->exited_ns < oldest->exited_ns))
				oldest = p;
		}
		if (!oldest)
			break;
		/* gone before its last scrape; the tombstone still refuses late updates */
		total -= proc_bytes(oldest);
		proc_free_series(oldest);
		oldest->state = PROC_GONE;
		total += proc_bytes(oldest);
		evicted++;
	}
	pthread_mutex_unlock(&m->lock);
	return evicted;
}

int zt_metrics_process_exited(struct zt_metrics *m, uint32_t pid, uint64_t start_time)
{
	bool found;
	size_t at;
	int err = 0;

	pthread_mutex_lock(&m->lock);
	at = proc_search(m, pid, start_time, &found);
	if (found)
		mark_exited(m, m->procs[at]);
	else
		err = -ENOENT;
	prune(m);
	pthread_mutex_unlock(&m->lock);
	return err;
}

/* The entry of probe, created (zeroed) where missing; NULL when out of memory. Under m->lock. */
static struct probe_events *probe_events_get(struct zt_metrics *m, const char *probe)
{
	struct probe_events *e;
	size_t lo = 0, hi = m->nevents;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		int c = strcmp(m->events[mid].probe, probe);

		if (c == 0)
			return &m->events[mid];
		if (c < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	if (grow((void **)&m->events, &m->events_cap, m->nevents, sizeof(*m->events)))
		return NULL;
	e = &m->events[lo];
	memmove(e + 1, e, (m->nevents - lo) * sizeof(*e));
	memset(e, 0, sizeof(*e));
	e->probe = strdup(probe);
	if (!e->probe) {
		memmove(e, e + 1, (m->nevents - lo) * sizeof(*e));
		return NULL;
	}
	m->nevents++;
	return e;
}

int zt_metrics_set_events(struct zt_metrics *m, const char *probe, uint64_t delivered,
			  uint64_t lost)
{
	struct probe_events *e;

	pthread_mutex_lock(&m->lock);
	e = probe_events_get(m, probe);
	if (e) {
		e->delivered = delivered;
		e->lost = lost;
	}
	pthread_mutex_unlock(&m->lock);
	return e ? 0 : -ENOMEM;
}

int zt_metrics_set_sampling(struct zt_metrics *m, const char *probe, uint64_t sampled_out,
			    uint64_t period)
{
	struct probe_events *e;

	pthread_mutex_lock(&m->lock);
	e = probe_events_get(m, probe);
	if (e) {
		e->sampling_set = true;
		e->sampled_out = sampled_out;
		e->sample_period = period;
	}
	pthread_mutex_unlock(&m->lock);
	return e ? 0 : -ENOMEM;
}

void zt_metrics_set_memory(struct zt_metrics *m, uint64_t used_bytes, uint64_t budget_bytes)
{
	pthread_mutex_lock(&m->lock);
	m->memory_set = true;
	m->memory_used = used_bytes;
	m->memory_budget = budget_bytes;
	pthread_mutex_unlock(&m->lock);
}

/*
 * The element named name of arr (n elements of elem bytes, each starting with its owned
 * char *name), added zeroed at the end when missing. Returns it, or NULL for lack of memory.
 */
static void *named_entry(void **arr, size_t *n, size_t *cap, size_t elem, const char *name)
{
	char *e;

	for (size_t i = 0; i < *n; i++) {
		e = (char *)*arr + i * elem;
		if (strcmp(*(char **)e, name) == 0)
			return e;
	}
	if (grow(arr, cap, *n, elem))
		return NULL;
	e = (char *)*arr + *n * elem;
	memset(e, 0, elem);
	*(char **)e = strdup(name);
	if (!*(char **)e)
		return NULL;
	(*n)++;
	return e;
}

int zt_metrics_set_exported(struct zt_metrics *m, const char *exporter, uint64_t sent,
			    uint64_t dropped, uint64_t failed)
{
	struct exporter_stats *x;

	pthread_mutex_lock(&m->lock);
	x = named_entry((void **)&m->exporters, &m->nexporters, &m->exporters_cap,
			sizeof(*m->exporters), exporter);
	if (x) {
		x->sent = sent;
		x->dropped = dropped;
		x->failed = failed;
	}
	pthread_mutex_unlock(&m->lock);
	return x ? 0 : -ENOMEM;
}

int zt_metrics_add_sampled_out(struct zt_metrics *m, const char *rule, uint64_t spans)
{
	struct sampled_out *x;

	pthread_mutex_lock(&m->lock);
	x = named_entry((void **)&m->sampled, &m->nsampled, &m->sampled_cap, sizeof(*m->sampled),
			rule);
	if (x)
		x->spans += spans;
	pthread_mutex_unlock(&m->lock);
	return x ? 0 : -ENOMEM;
}

int zt_metrics_set_evictions(struct zt_metrics *m, const char *cache, uint64_t evictions)
{
	struct cache_evictions *x;

	pthread_mutex_lock(&m->lock);
	x = named_entry((void **)&m->caches, &m->ncaches, &m->caches_cap, sizeof(*m->caches),
			cache);
	if (x)
		x->evictions = evictions;
	pthread_mutex_unlock(&m->lock);
	return x ? 0 : -ENOMEM;
}

void zt_metrics_set_ringbuf_fill(struct zt_metrics *m, uint64_t used_bytes, uint64_t size_bytes)
{
	double ratio = size_bytes ? (double)used_bytes / (double)size_bytes : 0;

	pthread_mutex_lock(&m->lock);
	if (!m->fill_set || ratio > m->fill_peak)
		m->fill_peak = ratio;
	m->fill_last = ratio;
	m->fill_set = true;
	pthread_mutex_unlock(&m->lock);
}

/*
 * Decide which process each pid shows this render. Two processes with one pid have the same
 * label values, so only one may be shown: the earliest exited one awaiting its final render,
 * else the live one (there is at most one: a new one marks the others exited).
 */
static void mark_hidden(struct zt_metrics *m)
{
	size_t i = 0;

	while (i < m->nprocs) {
		size_t end = i, shown = m->nprocs;

		while (end < m->nprocs && m->procs[end]->pid == m->procs[i]->pid)
			end++;
		for (size_t j = i; j < end && shown == m->nprocs; j++)
			if (m->procs[j]->state == PROC_EXITED)
				shown = j;
		for (size_t j = i; j < end && shown == m->nprocs; j++)
			if (m->procs[j]->state == PROC_LIVE)
				shown = j;
		for (size_t j = i; j < end; j++)
			m->procs[j]->hidden = j != shown;
		i = end;
	}
}

int zt_metrics_render(struct zt_metrics *m, char **text, size_t *len)
{
	struct zt_prom out;
	uint64_t now;
	int err;

	zt_prom_init(&out);
	pthread_mutex_lock(&m->lock);
	prune(m);
	mark_hidden(m);
	zt_metrics_render_families(&out, m);

	err = zt_prom_finish(&out, text, len);
	if (err)
		goto out;
	/*
	 * An exited process goes once a successful render included it and it has lingered long
	 * enough for every scraper, not only the quickest, to see its final values.
	 */
	now = m->now_ns();
	for (size_t i = 0; i < m->nprocs; i++) {
		struct proc *p = m->procs[i];

		if (p->state == PROC_EXITED && !p->hidden &&
		    now - p->exited_ns >= m->retention_ns) {
			p->state = PROC_GONE;
			proc_free_series(p);
		}
	}
	m->fill_peak = m->fill_last;
out:
	pthread_mutex_unlock(&m->lock);
	zt_prom_free(&out);
	return err;
}
