// SPDX-License-Identifier: MIT
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/signalfd.h>
#include <sys/timerfd.h>
#include <time.h>
#include <unistd.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include "collect.h"
#include "export_json.h"
#include "export_otlp.h"
#include "export_text.h"
#include "http_server.h"
#include "kprobes.h"
#include "ksyms.h"
#include "loader.h"
#include "log.h"
#include "probe_spec.h"
#include "probes.h"
#include "proctable.h"
#include "stitch.h"
#include "store.h"
#include "syscall_names.h"
#include "summary.h"
#include "target.h"
#include "tracer.h"
#include "version.h"

#define ERRLEN 512

struct tracer {
	const struct zt_options *opts;
	struct zt_target *targets;
	size_t ntargets;
	struct zt_probe_spec *specs;
	size_t nspecs;
	struct zt_probe_table probes;
	struct zt_loader *loader;
	struct zt_kprobes *kprobes; /* k: specs */
	struct ring_buffer *rb;
	struct zt_stitch stitch;
	struct zt_summary *summary;
	struct zt_proctable *procs;
	struct zt_metrics *metrics; /* --metrics-addr */
	struct zt_http *http;
	struct zt_collect collect;
	struct zt_store_writer *store; /* record -o FILE */
	struct zt_otlp_exporter *otlp; /* --otlp URL or OTEL_EXPORTER_OTLP_*ENDPOINT */
	const struct zt_process_info *current_proc; /* of the record being handled */
	FILE *out;
	uint64_t t0_ns;
	uint64_t invalid_records;
	uint64_t syscall_delivered;
	size_t kernel_attached; /* kernel functions */
	bool *syscall_selected; /* --syscalls=LIST, NULL = all */
	char *syscall_probe[ZT_MAX_SYSCALLS]; /* "syscall:NAME", made on first use */
	char err[ERRLEN];
};

static uint64_t realtime_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec;
}

/* Name a syscall span: the syscall's name, and "syscall:NAME" as its probe. */
static void name_syscall_span(struct tracer *t, struct zt_span *s)
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
		if (!t->syscall_probe[nr] && asprintf(&t->syscall_probe[nr], "syscall:%s", name) < 0)
			t->syscall_probe[nr] = NULL;
		if (t->syscall_probe[nr])
			s->probe = t->syscall_probe[nr];
	}
}

/* Hand one finished span to every consumer: the terminal and the summary. */
static void emit_span(struct tracer *t, struct zt_span *s, bool syscall)
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
		if (t->opts->format == ZT_FORMAT_JSON)
			zt_json_write_span(t->out, s);
		else
			zt_text_write_span(t->out, s, t->t0_ns);
	}
	if (t->store)
		zt_store_add_span(t->store, s);
	if (t->otlp)
		zt_otlp_submit(t->otlp, s, t->current_proc); /* a full queue counts the drop */
	/* syscalls are summarised from the kernel's exact aggregates instead (see finish) */
	if (!syscall)
		zt_summary_add(t->summary, s);
}

static int handle_record(void *ctx, void *data, size_t size)
{
	const struct zt_rec_hdr *hdr = data;
	struct tracer *t = ctx;
	const struct zt_span_rec *rec = data;
	struct zt_span span = { 0 };
	const struct zt_process_info *pi;
	struct zt_probe *p;
	bool created;

	/* The kernel side is ours, but a mismatched build must not be trusted blindly. */
	if (size < sizeof(*hdr) || hdr->size != size) {
		t->invalid_records++;
		return 0;
	}
	if (hdr->type == ZT_REC_EXIT && size == sizeof(struct zt_exit_rec)) {
		zt_collect_process_exit(&t->collect, ((const struct zt_exit_rec *)data)->pid);
		return 0;
	}
	if (hdr->type != ZT_REC_SPAN || size != sizeof(*rec)) {
		t->invalid_records++;
		return 0;
	}
	/* first sight of a process: read its /proc facts while it is surely alive */
	pi = zt_proctable_get(t->procs, rec->pid, rec->comm, &created);
	if (t->otlp)
		t->current_proc = pi;
	if (created && pi && t->store) {
		struct zt_store_process sp;

		zt_store_process_from_info(&sp, pi);
		zt_store_add_process(t->store, &sp);
	}
	if (rec->hdr.flags & ZT_SPAN_SYSCALL) {
		t->syscall_delivered++;
	} else if (rec->probe_id < t->probes.n) {
		p = &t->probes.v[rec->probe_id];
		p->delivered++;
	}
	zt_stitch_span(&t->stitch, rec, &span);
	emit_span(t, &span, rec->hdr.flags & ZT_SPAN_SYSCALL);
	return 0;
}

/* Calls still open when ztrace detaches never return as far as ztrace can see. */
static void flush_open_calls(struct tracer *t)
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
				.hdr = { .type = ZT_REC_SPAN, .flags = ZT_SPAN_INCOMPLETE,
					 .size = sizeof(rec), .ts_ns = now },
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
			char path[64];
			FILE *comm;

			/* syscall frames carry the syscall number above ZT_AGG_SYSCALL_BASE */
			if (f->probe_id >= ZT_AGG_SYSCALL_BASE) {
				rec.hdr.flags |= ZT_SPAN_SYSCALL;
				rec.probe_id = f->probe_id - ZT_AGG_SYSCALL_BASE;
			}
			snprintf(path, sizeof(path), "/proc/%u/task/%u/comm", st.tgid, key);
			comm = fopen(path, "r");
			if (comm) {
				if (fgets(rec.comm, sizeof(rec.comm), comm))
					rec.comm[strcspn(rec.comm, "\n")] = '\0';
				fclose(comm);
			}
			handle_record(t, &rec, sizeof(rec));
		}
	}
}

static int parse_specs(struct tracer *t)
{
	const struct zt_options *o = t->opts;

	t->specs = calloc(o->nspecs ? o->nspecs : 1, sizeof(*t->specs));
	if (!t->specs)
		return -ENOMEM;
	for (size_t i = 0; i < o->nspecs; i++) {
		if (zt_probe_spec_parse(o->specs[i], &t->specs[i], t->err, sizeof(t->err)))
			return -EINVAL;
		t->nspecs++;
		if (t->specs[i].kind != ZT_SPEC_UPROBE && t->specs[i].kind != ZT_SPEC_KPROBE) {
			snprintf(t->err, sizeof(t->err),
				 "probe spec '%s': USDT and tracepoint probes are not supported yet",
				 o->specs[i]);
			return -EOPNOTSUPP;
		}
	}
	return 0;
}

static int setup_targets(struct tracer *t)
{
	const struct zt_options *o = t->opts;
	int ret;

	t->targets = calloc(o->npids ? o->npids : 1, sizeof(*t->targets));
	if (!t->targets)
		return -ENOMEM;
	for (size_t i = 0; i < o->npids; i++) {
		ret = zt_target_attach_pid(o->pids[i], &t->targets[i], t->err, sizeof(t->err));
		if (ret)
			return ret;
		t->ntargets++;
	}
	if (o->command) {
		ret = zt_target_launch(o->command, &t->targets[0], t->err, sizeof(t->err));
		if (ret)
			return ret;
		t->ntargets = 1;
	}
	return 0;
}

/* Say which functions the kernel would not probe: a few by name, the rest counted. */
static void warn_refused(struct tracer *t, const uint32_t *ids, const int *refused, size_t n)
{
	size_t shown = 0, total = 0;

	for (size_t i = 0; i < n; i++) {
		const struct zt_probe *p = zt_probes_get(&t->probes, ids[i]);

		if (!refused[i])
			continue;
		total++;
		if (shown++ < ZT_REFUSED_SHOWN)
			zt_warn("cannot trace %s in %s: %s; skipped", p->name, p->binary,
				refused[i] == -524 ? "uprobes cannot take its first instruction"
						   : strerror(-refused[i]));
	}
	if (total > shown)
		zt_warn("... and %zu more functions the kernel would not probe", total - shown);
}

/* Attach the probes marked in want to one process (pid, or -1 for all), one file at a time. */
static int attach_marked(struct tracer *t, const uint8_t *want, int pid)
{
	size_t n = t->probes.n;
	uint64_t *offsets = calloc(n ? n : 1, sizeof(*offsets));
	uint32_t *ids = calloc(n ? n : 1, sizeof(*ids));
	int *refused = calloc(n ? n : 1, sizeof(*refused));
	uint8_t *done = calloc(n ? n : 1, 1);
	int ret = 0;

	if (!offsets || !ids || !refused || !done) {
		ret = -ENOMEM;
		goto out;
	}
	for (size_t i = 0; i < n; i++) {
		const char *path = t->probes.v[i].open_path;
		size_t m = 0;

		if (!want[i] || done[i])
			continue;
		for (size_t k = i; k < n; k++) {
			if (!want[k] || done[k] || strcmp(t->probes.v[k].open_path, path))
				continue;
			done[k] = 1;
			offsets[m] = t->probes.v[k].offset;
			ids[m++] = (uint32_t)k;
		}
		ret = zt_loader_attach_uprobes(t->loader, path, pid, offsets, ids, m, refused,
					       t->err, sizeof(t->err));
		if (ret < 0)
			goto out;
		warn_refused(t, ids, refused, m);
		ret = 0;
	}
out:
	free(offsets);
	free(ids);
	free(refused);
	free(done);
	return ret;
}

/* Resolve every spec for every target and attach: uprobe pairs per (function, process). */
static int attach_probes(struct tracer *t)
{
	size_t ntargets = t->ntargets ? t->ntargets : 1;
	uint8_t *want = NULL;
	int ret = 0;

	for (size_t i = 0; i < ntargets; i++) {
		struct zt_target *tg = t->ntargets ? &t->targets[i] : NULL;
		struct zt_resolve_ctx ctx = {
			.pid = tg ? tg->pid : 0,
			.exe = tg ? tg->exe : NULL,
			.not_started = tg && tg->launched,
			.max_probes = t->opts->max_probes,
		};

		free(want);
		want = calloc(ZT_MAX_PROBES, 1);
		if (!want)
			return -ENOMEM;
		for (size_t s = 0; s < t->nspecs; s++) {
			uint32_t *ids = NULL;
			size_t nids = 0;

			if (t->specs[s].kind != ZT_SPEC_UPROBE)
				continue;
			ret = zt_probes_resolve(&t->probes, &t->specs[s], &ctx, &ids, &nids, t->err,
						sizeof(t->err));
			if (ret)
				goto out;
			for (size_t k = 0; k < nids; k++)
				want[ids[k]] = 1;
			free(ids);
		}
		ret = attach_marked(t, want, tg ? tg->pid : -1);
		if (ret)
			goto out;
	}
	zt_info("attached through %s", zt_loader_uses_uprobe_multi(t->loader)
						? "uprobe_multi links"
						: "one perf-event link per function");
out:
	free(want);
	return ret;
}

/* Add the k: specs' functions to the probe table, each spec checked against --max-probes;
 * *n counts the k: specs. */
static int resolve_kernel_specs(struct tracer *t, size_t *n)
{
	*n = 0;
	for (size_t s = 0; s < t->nspecs; s++) {
		const struct zt_probe_spec *sp = &t->specs[s];
		char **m = NULL;
		size_t nm = 0;
		int ret;

		if (sp->kind != ZT_SPEC_KPROBE)
			continue;
		ret = zt_ksyms_match(sp->glob, &m, &nm);
		if (ret) {
			snprintf(t->err, sizeof(t->err), "cannot list kernel functions: %s",
				 strerror(-ret));
			return ret;
		}
		if (nm == 0) {
			snprintf(t->err, sizeof(t->err),
				 "probe spec '%s' matches no kernel function (searched "
				 "available_filter_functions): list them with ztrace probes -k GLOB",
				 sp->text);
			return -ENOENT;
		}
		if (nm > t->opts->max_probes) {
			snprintf(t->err, sizeof(t->err),
				 "probe spec '%s' matches %zu kernel functions, more than --max-probes "
				 "%u: narrow the glob or raise --max-probes",
				 sp->text, nm, t->opts->max_probes);
			zt_ksyms_free(m, nm);
			return -E2BIG;
		}
		for (size_t i = 0; i < nm; i++) {
			long id = zt_probes_add_kernel(&t->probes, m[i]);

			if (id < 0) {
				snprintf(t->err, sizeof(t->err), "probe spec '%s': too many probes",
					 sp->text);
				zt_ksyms_free(m, nm);
				return (int)id;
			}
		}
		zt_ksyms_free(m, nm);
		(*n)++;
	}
	return 0;
}

/* Attach every k: function; *code is set to the exit code an error deserves. */
static int attach_kernel_probes(struct tracer *t, int *code)
{
	size_t nspecs = 0, attached = 0, failed = 0;
	const char *first = NULL;
	bool unavailable;
	int ret = resolve_kernel_specs(t, &nspecs);

	if (ret) {
		*code = ret == -ENOENT || ret == -E2BIG ? ZT_EXIT_USAGE : ZT_EXIT_FAILURE;
		return ret;
	}
	if (!nspecs)
		return 0;
	for (size_t i = 0; i < t->probes.n && !first; i++)
		if (t->probes.v[i].kind == ZT_KIND_KERNEL)
			first = t->probes.v[i].name;
	t->kprobes = zt_kprobes_open(t->loader, (enum zt_kmech)t->opts->kprobe_mechanism, first,
				     &unavailable, t->err, sizeof(t->err));
	if (!t->kprobes) {
		*code = unavailable ? ZT_EXIT_USAGE : ZT_EXIT_FAILURE;
		return -EOPNOTSUPP;
	}
	zt_info("kernel functions through %s", zt_kmech_name(zt_kprobes_mechanism(t->kprobes)));
	for (size_t i = 0; i < t->probes.n; i++) {
		const struct zt_probe *p = &t->probes.v[i];
		char err[256];

		if (p->kind != ZT_KIND_KERNEL)
			continue;
		if (zt_kprobes_attach(t->kprobes, p->name, p->id, err, sizeof(err))) {
			if (failed++ < ZT_REFUSED_SHOWN)
				zt_warn("%s; skipped", err);
			continue;
		}
		attached++;
	}
	if (failed > ZT_REFUSED_SHOWN)
		zt_warn("... and %zu more kernel functions could not be attached",
			failed - ZT_REFUSED_SHOWN);
	if (!attached) {
		snprintf(t->err, sizeof(t->err), "no kernel function could be attached");
		*code = ZT_EXIT_FAILURE;
		return -ENOENT;
	}
	t->kernel_attached = attached;
	return 0;
}

/*
 * Read a target's /proc facts now, while it surely exists: a short-lived one may be gone before
 * its first record is read. A launched command has not exec'd yet, so what exec will change is
 * filled in from what ztrace is about to run.
 */
static void remember_target(struct tracer *t, const struct zt_target *tg)
{
	struct zt_process_info info;
	size_t len = 0;

	if (zt_procinfo_read(tg->pid, &info))
		return;
	if (tg->launched) {
		const char *base = strrchr(tg->exe, '/') ? strrchr(tg->exe, '/') + 1 : tg->exe;

		free(info.exe);
		info.exe = strdup(tg->exe);
		snprintf(info.comm, sizeof(info.comm), "%.*s", (int)sizeof(info.comm) - 1, base);
		if (!info.service_name_from_env) {
			free(info.service_name);
			info.service_name = strdup(base);
		}
		free(info.cmdline);
		for (char **a = t->opts->command; *a; a++)
			len += strlen(*a) + 1;
		info.cmdline = calloc(1, len + 1);
		for (char **a = t->opts->command; info.cmdline && *a; a++) {
			if (a != t->opts->command)
				strcat(info.cmdline, " ");
			strcat(info.cmdline, *a);
		}
	}
	zt_proctable_put(t->procs, &info);
	zt_procinfo_free(&info);
}

static void describe_session(struct tracer *t)
{
	char what[256] = "";
	size_t len = 0;

	if (!t->ntargets) {
		snprintf(what, sizeof(what), "every process");
	} else {
		for (size_t i = 0; i < t->ntargets && len < sizeof(what) - 16; i++)
			len += (size_t)snprintf(what + len, sizeof(what) - len, "%s%d",
						i ? "," : "pid ", t->targets[i].pid);
	}
	size_t nfuncs = zt_loader_uprobe_count(t->loader) + t->kernel_attached;

	fprintf(stderr, "ztrace: tracing %zu function%s%s in %s. Hit Ctrl-C to end.\n", nfuncs,
		nfuncs == 1 ? "" : "s", t->opts->syscalls ? " and syscalls" : "", what);
}

static uint64_t monotonic_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

/* ztrace's own counters: records delivered and lost per probe. */
static void publish_capture(struct tracer *t)
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
static void record_snapshot(struct tracer *t)
{
	size_t n = 0, cap = 2 * t->probes.n + 2;
	struct zt_store_metric *v = calloc(cap, sizeof(*v));
	char (*labels)[PATH_MAX + 64] = calloc(cap, sizeof(*labels));

	if (!v || !labels)
		goto out;
	for (size_t i = 0; i <= t->probes.n; i++) {
		const char *probe = i < t->probes.n ? t->probes.v[i].text : "syscall";
		uint32_t id = i < t->probes.n ? t->probes.v[i].id : ZT_SYSCALL_STATS_ID;
		uint64_t delivered = i < t->probes.n ? t->probes.v[i].delivered
						     : t->syscall_delivered;
		struct zt_probe_stats st = { 0 };

		if (i == t->probes.n && !t->opts->syscalls)
			break;
		zt_loader_probe_stats(t->loader, id, &st);
		for (int lost = 0; lost < 2; lost++) {
			snprintf(labels[n], sizeof(labels[n]), "probe=\"%s\",outcome=\"%s\"", probe,
				 lost ? "lost" : "delivered");
			v[n].name = "ztrace_events_total";
			v[n].labels = labels[n];
			v[n].value = (double)(lost ? st.lost : delivered);
			n++;
		}
	}
	zt_store_add_metrics(t->store, realtime_ns(), v, n);
out:
	free(v);
	free(labels);
}

static void publish_exported(struct tracer *t)
{
	uint64_t sent, dropped, failed;

	if (!t->otlp || !t->metrics)
		return;
	zt_otlp_counts(t->otlp, &sent, &dropped, &failed);
	zt_metrics_set_exported(t->metrics, "otlp", sent, dropped, failed);
}

static void publish_metrics(struct tracer *t)
{
	if (t->store) {
		record_snapshot(t);
		zt_store_flush(t->store);
	}
	if (!t->metrics)
		return;
	zt_collect_refresh(&t->collect);
	publish_capture(t);
	publish_exported(t);
}

static bool all_targets_exited(struct tracer *t)
{
	if (!t->ntargets)
		return false;
	for (size_t i = 0; i < t->ntargets; i++)
		if (!zt_target_poll_exit(&t->targets[i]))
			return false;
	return true;
}

static int add_fd(int ep, int fd)
{
	struct epoll_event ev = { .events = EPOLLIN, .data.fd = fd };

	return fd < 0 ? 0 : epoll_ctl(ep, EPOLL_CTL_ADD, fd, &ev);
}

/* The signals that end a session; blocked in every thread and read through a signalfd. */
static void stop_signals(sigset_t *mask)
{
	sigemptyset(mask);
	sigaddset(mask, SIGINT);
	sigaddset(mask, SIGTERM);
	sigaddset(mask, SIGHUP);
}

/* Consume records until a signal, the end of -d, or the exit of every target. */
static int run_loop(struct tracer *t)
{
	int ep = epoll_create1(EPOLL_CLOEXEC), sfd = -1, tfd = -1, ret = 0;
	sigset_t mask;

	stop_signals(&mask);
	sfd = signalfd(-1, &mask, SFD_CLOEXEC | SFD_NONBLOCK);
	if (t->opts->duration_s > 0) {
		struct itimerspec its = { 0 };

		tfd = timerfd_create(CLOCK_MONOTONIC, TFD_CLOEXEC | TFD_NONBLOCK);
		its.it_value.tv_sec = (time_t)t->opts->duration_s;
		its.it_value.tv_nsec =
			(long)((t->opts->duration_s - (double)its.it_value.tv_sec) * 1e9);
		timerfd_settime(tfd, 0, &its, NULL);
	}
	if (ep < 0 || sfd < 0 || add_fd(ep, sfd) || add_fd(ep, tfd) ||
	    add_fd(ep, ring_buffer__epoll_fd(t->rb))) {
		ret = -errno;
		zt_err("cannot set up the event loop: %s", strerror(errno));
		goto out;
	}
	for (size_t i = 0; i < t->ntargets; i++)
		add_fd(ep, t->targets[i].pidfd);

	for (uint64_t last_publish = 0;;) {
		struct epoll_event evs[8];
		bool stop = false;
		int n = epoll_wait(ep, evs, 8, ZT_POLL_INTERVAL_MS);

		if (n < 0 && errno != EINTR) {
			ret = -errno;
			break;
		}
		/* Records are submitted without a wakeup; drain on every tick. */
		if (t->metrics)
			zt_metrics_set_ringbuf_fill(t->metrics, zt_loader_ringbuf_used(t->loader),
						    ZT_RINGBUF_BYTES);
		ring_buffer__consume(t->rb);
		if ((t->metrics || t->store) &&
		    monotonic_ms() - last_publish >= ZT_METRICS_REFRESH_MS) {
			publish_metrics(t);
			last_publish = monotonic_ms();
		}
		for (int i = 0; i < n; i++) {
			if (evs[i].data.fd == sfd || evs[i].data.fd == tfd)
				stop = true;
		}
		if (stop || all_targets_exited(t))
			break;
	}
out:
	if (sfd >= 0)
		close(sfd);
	if (tfd >= 0)
		close(tfd);
	if (ep >= 0)
		close(ep);
	return ret;
}

static void finish(struct tracer *t)
{
	uint64_t delivered = 0, lost = 0, overflow = 0;

	zt_kprobes_detach(t->kprobes);
	zt_loader_detach(t->loader);
	ring_buffer__consume(t->rb);
	flush_open_calls(t);
	zt_collect_finish(&t->collect);
	if (t->metrics)
		publish_capture(t);
	if (t->otlp) {
		uint64_t sent, dropped, failed;

		zt_otlp_stop(t->otlp, ZT_OTLP_EXIT_FLUSH_MS);
		publish_exported(t);
		zt_otlp_counts(t->otlp, &sent, &dropped, &failed);
		fprintf(stderr,
			"ztrace: otlp: %llu spans sent, %llu dropped (queue full or unsent at exit), "
			"%llu failed (rejected or retried too long)\n",
			(unsigned long long)sent, (unsigned long long)dropped,
			(unsigned long long)failed);
	}
	if (t->store) {
		record_snapshot(t);
		if (zt_store_close(t->store))
			zt_err("could not finish writing %s: the file holds what was written "
			       "before", t->opts->output);
		else
			fprintf(stderr, "ztrace: wrote %s\n", t->opts->output);
		t->store = NULL;
	}
	for (size_t i = 0; i < t->probes.n; i++) {
		struct zt_probe *p = &t->probes.v[i];
		struct zt_probe_stats st;

		if (zt_loader_probe_stats(t->loader, p->id, &st))
			continue;
		zt_summary_set_capture(t->summary, p->text, p->delivered, st.lost);
		delivered += p->delivered;
		lost += st.lost;
		overflow += st.overflow;
	}
	if (t->opts->syscalls) {
		struct zt_probe_stats st = { 0 };


		zt_loader_probe_stats(t->loader, ZT_SYSCALL_STATS_ID, &st);
		if (t->syscall_delivered || st.lost)
			zt_summary_set_capture(t->summary, "syscall", t->syscall_delivered, st.lost);
	}
	fflush(t->out);
	/* json on stdout and record files stay machine-readable: the summary goes to stderr */
	zt_summary_print(t->summary, t->opts->format == ZT_FORMAT_JSON ||
					     t->opts->cmd == ZT_CMD_RECORD
				     ? stderr
				     : stdout);
	if (overflow)
		zt_warn("%llu calls nested deeper than %d traced calls were not recorded",
			(unsigned long long)overflow, ZT_MAX_DEPTH);
	if (t->invalid_records)
		zt_warn("%llu malformed records from the kernel were ignored",
			(unsigned long long)t->invalid_records);
	(void)delivered;
	(void)lost;
}

/* The host part of a [HOST:]PORT address, into buf. */
static const char *metrics_host(const char *addr, char *buf, size_t len)
{
	const char *colon = strrchr(addr, ':');

	snprintf(buf, len, "%.*s", (int)(colon - addr), addr);
	return buf;
}

/* OTLP export when asked for with --otlp or the standard environment variables. */
static int start_otlp(struct tracer *t)
{
	const struct zt_options *o = t->opts;
	struct zt_otlp_config c;

	if (!o->otlp_url && !getenv("OTEL_EXPORTER_OTLP_ENDPOINT") &&
	    !getenv("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT"))
		return 0;
	zt_otlp_config_defaults(&c);
	if (zt_otlp_config_from_env(&c, t->err, sizeof(t->err)))
		return -EINVAL;
	if (o->otlp_url) {
		c.endpoint = o->otlp_url;
		c.endpoint_exact = false;
	}
	if (o->otlp_protocol && zt_otlp_parse_protocol(o->otlp_protocol, &c.json, t->err,
							sizeof(t->err)))
		return -EINVAL;
	if (o->otlp_gzip == 0)
		c.gzip = false;
	c.scope_version = ZTRACE_VERSION;
	if (zt_otlp_check_url(c.endpoint, t->err, sizeof(t->err)))
		return -EINVAL;
	t->otlp = zt_otlp_start(&c, t->err, sizeof(t->err));
	return t->otlp ? 0 : -EINVAL;
}

int zt_cmd_trace(const struct zt_options *o)
{
	struct tracer t = { .opts = o, .out = stdout };
	struct zt_loader_config lcfg = { .error_rule = o->error_rule, .ret32 = o->ret32 };
	int code = ZT_EXIT_USAGE, ret;
	sigset_t sigs;

	/* Before any thread exists (HTTP server, OTLP sender), so none of them takes Ctrl-C. */
	stop_signals(&sigs);
	sigprocmask(SIG_BLOCK, &sigs, NULL);
	if (zt_check_privileges(t.err, sizeof(t.err)))
		goto fail;
	if (!o->nspecs && !o->syscalls) {
		snprintf(t.err, sizeof(t.err),
			 "nothing to trace: give probe specs (e.g. 'handle_*' or u:libc:malloc) or "
			 "--syscalls");
		goto fail;
	}
	if (o->syscalls && o->syscall_list) {
		t.syscall_selected = calloc(ZT_MAX_SYSCALLS, sizeof(bool));
		if (!t.syscall_selected ||
		    zt_syscall_parse_list(o->syscall_list, t.syscall_selected, t.err, sizeof(t.err)))
			goto fail;
	}
	lcfg.syscalls = o->syscalls;
	lcfg.syscall_selected = t.syscall_selected;
	lcfg.syscall_spans = o->syscall_spans;
	lcfg.syscall_min_ns = o->min_duration_ns;
	ret = parse_specs(&t);
	if (ret)
		goto fail;
	ret = start_otlp(&t);
	if (ret)
		goto fail;
	/* A port in use is the user's to fix: find out before anything is attached. */
	if (o->metrics_addr) {
		t.metrics = zt_metrics_new();
		if (!t.metrics) {
			snprintf(t.err, sizeof(t.err), "out of memory");
			goto fail;
		}
		t.http = zt_http_start(o->metrics_addr, t.metrics, t.err, sizeof(t.err));
		if (!t.http)
			goto fail;
		fprintf(stderr, "ztrace: metrics at http://%s:%u/metrics\n",
			strchr(o->metrics_addr, ':') && o->metrics_addr[0] != ':'
				? metrics_host(o->metrics_addr, t.err, sizeof(t.err))
				: "127.0.0.1",
			zt_http_port(t.http));
	}
	ret = setup_targets(&t);
	if (ret)
		goto fail;
	lcfg.filter_tgids = t.ntargets > 0;
	t.loader = zt_loader_open(&lcfg, t.err, sizeof(t.err));
	if (!t.loader) {
		code = ZT_EXIT_FAILURE;
		goto fail;
	}
	for (size_t i = 0; i < t.ntargets; i++) {
		ret = zt_loader_add_target(t.loader, t.targets[i].pid);
		if (ret) {
			snprintf(t.err, sizeof(t.err), "cannot add pid %d to the filter: %s",
				 t.targets[i].pid, strerror(-ret));
			code = ZT_EXIT_FAILURE;
			goto fail;
		}
	}
	ret = attach_probes(&t);
	if (ret) {
		/* bad specs are the user's to fix; a refused attach is ours */
		if (ret != -ENOENT && ret != -EINVAL && ret != -E2BIG && ret != -ENOEXEC &&
		    ret != -EXDEV && ret != -EACCES)
			code = ZT_EXIT_FAILURE;
		goto fail;
	}
	if (attach_kernel_probes(&t, &code))
		goto fail;
	t.rb = ring_buffer__new(bpf_map__fd(zt_loader_events(t.loader)), handle_record, &t, NULL);
	t.summary = zt_summary_new();
	t.procs = zt_proctable_new();
	if (!t.rb || !t.summary || !t.procs) {
		snprintf(t.err, sizeof(t.err), "cannot set up the ring buffer: %s", strerror(errno));
		code = ZT_EXIT_FAILURE;
		goto fail;
	}
	zt_stitch_init(&t.stitch, &o->error_rule);
	if (o->output) {
		t.store = zt_store_create(o->output, t.stitch.mono_to_real_ns, t.err, sizeof(t.err));
		if (!t.store)
			goto fail;
	}
	t.collect = (struct zt_collect){
		.loader = t.loader,
		.probes = &t.probes,
		.procs = t.procs,
		.metrics = t.metrics,
		.summary = t.summary,
		.syscalls = o->syscalls,
	};
	t.t0_ns = realtime_ns();
	if (o->format == ZT_FORMAT_TEXT && !o->quiet && o->cmd != ZT_CMD_RECORD)
		zt_text_write_header(t.out);
	fflush(t.out);
	for (size_t i = 0; i < t.ntargets; i++)
		remember_target(&t, &t.targets[i]);
	describe_session(&t);
	for (size_t i = 0; i < t.ntargets; i++) {
		if (t.targets[i].launched && zt_target_release(&t.targets[i])) {
			snprintf(t.err, sizeof(t.err), "the launched command died before it started");
			code = ZT_EXIT_FAILURE;
			goto fail;
		}
	}
	ret = run_loop(&t);
	finish(&t);
	code = ret ? ZT_EXIT_FAILURE : ZT_EXIT_OK;
	goto out;
fail:
	zt_err("%s", t.err);
out:
	for (size_t i = 0; i < t.ntargets; i++) {
		if (code != ZT_EXIT_OK)
			zt_target_abort(&t.targets[i]);
		zt_target_close(&t.targets[i]);
	}
	if (t.store)
		zt_store_close(t.store);
	zt_otlp_free(t.otlp);
	zt_http_stop(t.http);
	zt_metrics_free(t.metrics);
	ring_buffer__free(t.rb);
	zt_kprobes_close(t.kprobes);
	zt_loader_close(t.loader);
	zt_summary_free(t.summary);
	zt_proctable_free(t.procs);
	zt_probes_free(&t.probes);
	for (size_t i = 0; i < t.nspecs; i++)
		zt_probe_spec_free(&t.specs[i]);
	free(t.specs);
	free(t.targets);
	free(t.syscall_selected);
	for (int i = 0; i < ZT_MAX_SYSCALLS; i++)
		free(t.syscall_probe[i]);
	return code;
}
