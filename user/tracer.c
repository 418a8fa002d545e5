// SPDX-License-Identifier: MIT
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdio_ext.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/signalfd.h>
#include <sys/timerfd.h>
#include <time.h>
#include <unistd.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include "log.h"
#include "export_text.h"
#include "session.h"
#include "syscall_names.h"
#include "tracer.h"
#include "version.h"
/* ztrace trace / record: set up, run and finish one session. */

static int parse_specs(struct zt_session *t)
{
	const struct zt_options *o = t->opts;

	t->specs = calloc(o->nspecs ? o->nspecs : 1, sizeof(*t->specs));
	if (!t->specs)
		return -ENOMEM;
	for (size_t i = 0; i < o->nspecs; i++) {
		if (zt_probe_spec_parse(o->specs[i], &t->specs[i], t->err, sizeof(t->err)))
			return -EINVAL;
		t->nspecs++;
	}
	return 0;
}

static int setup_targets(struct zt_session *t)
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

/*
 * Read a target's /proc facts now, while it surely exists: a short-lived one may be gone before
 * its first record is read. A launched command has not exec'd yet, so what exec will change is
 * filled in from what ztrace is about to run.
 */
static void remember_target(struct zt_session *t, const struct zt_target *tg)
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

static void describe_session(struct zt_session *t)
{
	size_t nfuncs = zt_loader_uprobe_count(t->loader) + t->kernel_attached;
	char what[256] = "", points[64] = "";
	size_t len = 0;

	if (!t->ntargets) {
		snprintf(what, sizeof(what), "every process");
	} else {
		for (size_t i = 0; i < t->ntargets && len < sizeof(what) - 16; i++)
			len += (size_t)snprintf(what + len, sizeof(what) - len, "%s%d",
						i ? "," : "pid ", t->targets[i].pid);
	}

	if (t->points_attached)
		snprintf(points, sizeof(points), ", %zu event probe%s", t->points_attached,
			 t->points_attached == 1 ? "" : "s");
	fprintf(stderr, "ztrace: tracing %zu function%s%s%s in %s. Hit Ctrl-C to end.\n", nfuncs,
		nfuncs == 1 ? "" : "s", points, t->opts->syscalls ? " and syscalls" : "", what);
}

static bool all_targets_exited(struct zt_session *t)
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
	struct epoll_event ev = {.events = EPOLLIN, .data.fd = fd};

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
int zt_session_run(struct zt_session *t)
{
	int ep = epoll_create1(EPOLL_CLOEXEC), sfd = -1, tfd = -1, ret = 0;
	sigset_t mask;

	stop_signals(&mask);
	sfd = signalfd(-1, &mask, SFD_CLOEXEC | SFD_NONBLOCK);
	if (t->opts->duration_s > 0) {
		struct itimerspec its = {0};

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
		if (!t->aggregated &&
		    zt_loader_ringbuf_used(t->loader) >= ZT_OVERLOAD_RINGBUF_BYTES) {
			/* the consumer is falling behind: count in the kernel instead of losing */
			if (zt_loader_set_aggregate(t->loader, true) == 0) {
				t->aggregated = true;
				zt_warn("ring buffer over %u%% full: switched to in-kernel aggregation "
					"(spans only for failed calls%s)",
					(unsigned)(100ull * ZT_OVERLOAD_RINGBUF_BYTES /
						   ZT_RINGBUF_BYTES),
					t->opts->min_duration_ns ? " and slow ones" : "");
			}
		}
		zt_session_drain(t, false);
		if (t->governor)
			zt_governor_tick(t->governor, &t->probes, t->metrics, zt_monotonic_ms());
		if ((t->metrics || t->store || t->membudget.max_bytes) &&
		    zt_monotonic_ms() - last_publish >= ZT_METRICS_REFRESH_MS) {
			zt_session_publish(t);
			if (t->membudget.max_bytes)
				zt_membudget_enforce(&t->membudget, t->procs, t->metrics);
			last_publish = zt_monotonic_ms();
		}
		for (int i = 0; i < n; i++) {
			if (evs[i].data.fd == tfd)
				stop = true;
			if (evs[i].data.fd == sfd) {
				struct signalfd_siginfo si;

				/* SIGHUP reloads where the session can (the agent), else it stops */
				while (read(sfd, &si, sizeof(si)) == sizeof(si)) {
					if (si.ssi_signo == SIGHUP && t->on_reload)
						t->on_reload(t);
					else
						stop = true;
				}
			}
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

/* json on stdout and record files stay machine-readable: the summary goes to stderr */
static FILE *summary_out(const struct zt_session *t)
{
	return t->opts->format == ZT_FORMAT_JSON || t->opts->cmd == ZT_CMD_RECORD ? stderr
										  : stdout;
}

/* Counts above are of the calls kept: say how many the governor left out. */
static void warn_sampled(struct zt_session *t)
{
	size_t nprobes;
	uint64_t n = zt_governor_sampled_out(t->governor, &t->probes, &nprobes);

	if (n)
		zt_warn("the overhead governor sampled out %llu calls of %zu probe%s: the counts "
			"above are of the calls kept",
			(unsigned long long)n, nprobes, nprobes == 1 ? "" : "s");
}

void zt_session_finish(struct zt_session *t)
{
	uint64_t delivered = 0, lost = 0, overflow = 0, args_lost = 0;

	zt_kprobes_detach(t->kprobes);
	zt_points_detach(t->points);
	zt_loader_detach(t->loader);
	zt_session_drain(t, true);
	zt_session_flush_open_calls(t);
	zt_collect_finish(&t->collect);
	zt_session_publish_final(t);
	if (t->otlp) {
		uint64_t sent, dropped, failed;

		zt_otlp_stop(t->otlp, ZT_OTLP_EXIT_FLUSH_MS);
		zt_session_publish_exported(t);
		zt_otlp_counts(t->otlp, &sent, &dropped, &failed);
		fprintf(
		    stderr,
		    "ztrace: otlp: %llu spans sent, %llu dropped (queue full or unsent at exit), "
		    "%llu failed (rejected or retried too long)\n",
		    (unsigned long long)sent, (unsigned long long)dropped,
		    (unsigned long long)failed);
	}
	if (t->store) {
		if (zt_store_close(t->store))
			zt_err("could not finish writing %s: the file holds what was written "
			       "before",
			       t->opts->output);
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
		zt_summary_set_capture(t->exact, p->text, p->delivered, st.lost);
		delivered += p->delivered;
		lost += st.lost;
		overflow += st.overflow;
		args_lost += st.args_lost;
	}
	if (t->opts->syscalls) {
		struct zt_probe_stats st = {0};

		zt_loader_probe_stats(t->loader, ZT_SYSCALL_STATS_ID, &st);
		if (t->syscall_delivered || st.lost) {
			zt_summary_set_capture(t->summary, "syscall", t->syscall_delivered,
					       st.lost);
			zt_summary_set_capture(t->exact, "syscall", t->syscall_delivered, st.lost);
		}
	}
	fflush(t->out);
	if (t->spans_sampled_out)
		fprintf(stderr,
			"ztrace: %llu spans sampled out (whole traces, by the rules' sample)\n",
			(unsigned long long)t->spans_sampled_out);
	/*
	 * With every call a span, the span-fed table has exact percentiles; when spans were not all
	 * made, some were lost or sampled out, the kernel's counts are the exact ones.
	 */
	if (t->aggregated || lost || t->spans_sampled_out)
		fprintf(summary_out(t),
			"(calls counted in the kernel%s: percentiles from log2 "
			"buckets)\n",
			lost ? " because span records were lost" : "");
	zt_summary_print(t->aggregated || lost || t->spans_sampled_out ? t->exact : t->summary,
			 summary_out(t));
	if (t->governor)
		warn_sampled(t);
	if (overflow)
		zt_warn("%llu calls nested deeper than %d traced calls were not recorded",
			(unsigned long long)overflow, ZT_MAX_DEPTH);
	if (args_lost)
		zt_warn("%llu calls were recorded without their --capture arguments: more than %d "
			"calls with captured arguments were open at once",
			(unsigned long long)args_lost, ZT_MAX_ARG_SLOTS);
	if (t->invalid_records)
		zt_warn("%llu malformed records from the kernel were ignored",
			(unsigned long long)t->invalid_records);
	(void)delivered;
}

/*
 * A -p target that exits while ztrace sets up makes a later step fail on its vanished /proc
 * files; say what really happened. It is bad input: nothing could be traced.
 */
static void explain_target_exit(struct zt_session *t, int *code)
{
	for (size_t i = 0; i < t->ntargets; i++) {
		struct zt_target *tg = &t->targets[i];

		if (!tg->launched && zt_target_poll_exit(tg)) {
			snprintf(t->err, sizeof(t->err),
				 "pid %d exited while ztrace was attaching: nothing was traced",
				 tg->pid);
			*code = ZT_EXIT_USAGE;
			return;
		}
	}
}

int zt_cmd_trace(const struct zt_options *o)
{
	struct zt_session t = {.opts = o, .out = stdout};
	struct zt_loader_config lcfg = {.error_rule = o->error_rule, .ret32 = o->ret32};
	int code = ZT_EXIT_USAGE, ret;
	sigset_t sigs;

	/* Room for a batch of lines and one more: glibc must never flush in the middle of a line
	 * (see ZT_OUT_FLUSH_BYTES); a terminal stays line-buffered. */
	if (!isatty(STDOUT_FILENO))
		setvbuf(stdout, NULL, _IOFBF, ZT_OUT_BUF_BYTES);
	/* only the main thread writes stdout: no stdio locking per call (half the JSON cost) */
	__fsetlocking(stdout, FSETLOCKING_BYCALLER);
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
		    zt_syscall_parse_list(o->syscall_list, t.syscall_selected, t.err,
					  sizeof(t.err)))
			goto fail;
	}
	lcfg.syscalls = o->syscalls;
	lcfg.capture_args = o->ncaptures > 0;
	lcfg.syscall_selected = t.syscall_selected;
	lcfg.syscall_spans = o->syscall_spans;
	lcfg.syscall_min_ns = o->min_duration_ns;
	lcfg.aggregate = o->aggregate;
	lcfg.span_min_ns = o->min_duration_ns;
	t.aggregated = o->aggregate;
	ret = parse_specs(&t);
	if (ret)
		goto fail;
	ret = zt_session_start_exporters(&t);
	if (ret)
		goto fail;
	ret = setup_targets(&t);
	if (ret)
		goto fail;
	if (zt_session_resolve(&t, &code))
		goto fail;
	lcfg.filter_tgids = t.ntargets > 0;
	if (zt_session_open_pipeline(&t, &lcfg, &code))
		goto fail;
	for (size_t i = 0; i < t.ntargets; i++) {
		ret = zt_loader_add_target(t.loader, t.targets[i].pid,
					   ZT_TARGET_FUNCS | ZT_TARGET_SYSCALLS);
		if (ret) {
			snprintf(t.err, sizeof(t.err), "cannot add pid %d to the filter: %s",
				 t.targets[i].pid, strerror(-ret));
			code = ZT_EXIT_FAILURE;
			goto fail;
		}
	}
	if (zt_session_attach(&t, &code))
		goto fail;
	t.t0_ns = zt_realtime_ns();
	if (o->format == ZT_FORMAT_TEXT && !o->quiet && o->cmd != ZT_CMD_RECORD)
		zt_text_write_header(t.out);
	fflush(t.out);
	for (size_t i = 0; i < t.ntargets; i++)
		remember_target(&t, &t.targets[i]);
	describe_session(&t);
	for (size_t i = 0; i < t.ntargets; i++) {
		if (t.targets[i].launched && zt_target_release(&t.targets[i])) {
			snprintf(t.err, sizeof(t.err),
				 "the launched command died before it started");
			code = ZT_EXIT_FAILURE;
			goto fail;
		}
	}
	ret = zt_session_run(&t);
	zt_session_finish(&t);
	code = ret ? ZT_EXIT_FAILURE : ZT_EXIT_OK;
	goto out;
fail:
	explain_target_exit(&t, &code);
	zt_err("%s", t.err);
out:
	for (size_t i = 0; i < t.ntargets; i++) {
		if (code != ZT_EXIT_OK)
			zt_target_abort(&t.targets[i]);
		zt_target_close(&t.targets[i]);
	}
	zt_session_cleanup(&t);
	free(t.targets);
	return code;
}
