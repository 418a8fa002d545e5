// SPDX-License-Identifier: MIT
/*
 * The agent: processes are selected by rules (executable glob, name, cgroup, container) as
 * they exec (the sched_process_exec hook) or at start (a /proc scan). A rule's functions are
 * attached once per file for every process (pid -1), and the kernel's target map decides which
 * processes count: 100 processes of one program cost one attachment.
 */
#include <dirent.h>
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <bpf/bpf.h>
#include "agent.h"
#include "agent_config.h"
#include "log.h"
#include "procinfo.h"
#include "session.h"

struct agent {
	struct zt_session s;
	struct zt_options opts; /* what the session reads, made from the config */
	struct zt_agent_config cfg;
	const char *config_path;
	uint8_t *attached;	/* [ZT_MAX_PROBES]: attached for every process */
	int *rule_of;		/* [pid_max]: 1 + index of the rule tracing pid, 0 = none */
	size_t pid_max;
	size_t traced;
	uint64_t execs, selected;
	uint64_t max_memory_flag; /* --max-memory, over the config's; 0 = not given */
};

/* What the rules can select a process by, read from /proc. Strings live in the buffers. */
struct identity {
	struct zt_proc_identity id;
	char exe[PATH_MAX], comm[ZT_COMM_LEN + 1], cgroup[PATH_MAX], container[80];
};

static int read_identity(uint32_t pid, struct identity *out)
{
	char path[64], line[1024];
	ssize_t n;
	FILE *f;

	memset(out, 0, sizeof(*out));
	snprintf(path, sizeof(path), "/proc/%u/exe", pid);
	n = readlink(path, out->exe, sizeof(out->exe) - 1);
	if (n <= 0)
		return -ENOENT; /* gone, or a kernel thread */
	out->exe[n] = '\0';
	snprintf(path, sizeof(path), "/proc/%u/comm", pid);
	f = fopen(path, "r");
	if (f) {
		if (fgets(out->comm, sizeof(out->comm), f))
			out->comm[strcspn(out->comm, "\n")] = '\0';
		fclose(f);
	}
	snprintf(path, sizeof(path), "/proc/%u/cgroup", pid);
	f = fopen(path, "r");
	if (f) {
		char text[4096] = "";
		size_t len = 0;

		while (fgets(line, sizeof(line), f)) {
			/* cgroup v2: the "0::PATH" line */
			if (strncmp(line, "0::", 3) == 0) {
				snprintf(out->cgroup, sizeof(out->cgroup), "%s", line + 3);
				out->cgroup[strcspn(out->cgroup, "\n")] = '\0';
			}
			len += (size_t)snprintf(text + len, sizeof(text) - len, "%s", line);
			if (len >= sizeof(text))
				break;
		}
		fclose(f);
		if (zt_cgroup_container_id(text, out->container, sizeof(out->container)))
			out->container[0] = '\0';
	}
	out->id.exe = out->exe;
	out->id.comm = out->comm;
	out->id.cgroup = out->cgroup[0] ? out->cgroup : NULL;
	out->id.container_id = out->container[0] ? out->container : NULL;
	/* Kubernetes namespace, pod name and labels are not on the host: see scripts/deploy */
	return 0;
}

/* Attach the rule's function specs in pid's binaries (once per file). */
static int attach_rule(struct agent *a, uint32_t pid, const struct zt_agent_rule *rule,
		       const char *exe)
{
	struct zt_resolve_ctx ctx = { .pid = (int)pid, .exe = exe, .max_probes = ZT_MAX_PROBES };
	uint8_t *want = calloc(ZT_MAX_PROBES, 1);
	bool any = false;
	int ret = 0;

	if (!want)
		return -ENOMEM;
	for (size_t i = 0; i < rule->nprobes; i++) {
		struct zt_probe_spec spec;
		uint32_t *ids = NULL;
		size_t nids = 0;
		char err[512];

		if (zt_probe_spec_parse(rule->probes[i], &spec, err, sizeof(err)))
			continue; /* checked when the config was loaded */
		if (spec.kind != ZT_SPEC_UPROBE) {
			zt_warn("rule '%s': only function probes are supported by the agent; '%s' "
				"ignored",
				rule->name, rule->probes[i]);
		} else if (zt_probes_resolve(&a->s.probes, &spec, &ctx, &ids, &nids, err,
					     sizeof(err))) {
			zt_warn("rule '%s', pid %u (%s): %s", rule->name, pid, exe, err);
		}
		for (size_t k = 0; k < nids; k++) {
			if (!a->attached[ids[k]]) {
				want[ids[k]] = 1;
				any = true;
			}
		}
		free(ids);
		zt_probe_spec_free(&spec);
	}
	if (any) {
		ret = zt_session_attach_marked(&a->s, want, -1);
		if (ret)
			zt_err("rule '%s': %s", rule->name, a->s.err);
		for (size_t i = 0; i < ZT_MAX_PROBES; i++)
			a->attached[i] |= want[i];
	}
	free(want);
	return ret;
}

/* Match pid against the rules: it gets the probes of every rule that selects it. */
static void consider(struct agent *a, uint32_t pid)
{
	uint8_t flags = 0;
	struct identity id;
	int first = 0;

	if (pid == (uint32_t)getpid() || read_identity(pid, &id))
		return;
	for (size_t i = 0; i < a->cfg.nrules; i++) {
		const struct zt_agent_rule *rule = &a->cfg.rules[i];

		if (!zt_agent_rule_matches(rule, &id.id))
			continue;
		attach_rule(a, pid, rule, id.exe);
		flags |= ZT_TARGET_FUNCS | (rule->syscalls ? ZT_TARGET_SYSCALLS : 0);
		if (!first)
			first = (int)i + 1;
		zt_info("tracing pid %u (%s) by rule '%s'", pid, id.exe, rule->name);
	}
	if (flags && zt_loader_add_target(a->s.loader, (int)pid, flags) == 0) {
		a->selected++;
		if (pid < a->pid_max) {
			if (!a->rule_of[pid])
				a->traced++;
			a->rule_of[pid] = first;
		}
		/* read its /proc facts now: resource attributes, pid-reuse identity */
		zt_proctable_get(a->s.procs, pid, NULL, NULL);
		return;
	}
	/* an exec into a program no rule selects: stop tracing that process */
	if (!flags && pid < a->pid_max && a->rule_of[pid]) {
		zt_loader_remove_target(a->s.loader, (int)pid);
		a->rule_of[pid] = 0;
		a->traced--;
	}
}

static void scan_processes(struct agent *a)
{
	DIR *d = opendir("/proc");
	struct dirent *e;

	if (!d)
		return;
	while ((e = readdir(d))) {
		char *end;
		unsigned long pid = strtoul(e->d_name, &end, 10);

		if (*end == '\0' && pid > 0)
			consider(a, (uint32_t)pid);
	}
	closedir(d);
}

static void on_exec(struct zt_session *s, uint32_t pid)
{
	struct agent *a = s->owner;

	a->execs++;
	consider(a, pid);
}

static void on_exit_cb(struct zt_session *s, uint32_t pid)
{
	struct agent *a = s->owner;

	zt_loader_remove_target(s->loader, (int)pid);
	if (pid < a->pid_max && a->rule_of[pid]) {
		a->rule_of[pid] = 0;
		a->traced--;
	}
}

/* SIGHUP: a good config replaces the old one; a bad one is refused and the old one stays. */
static void on_reload(struct zt_session *s)
{
	struct agent *a = s->owner;
	struct zt_agent_config next;
	char err[512];
	bool same = true;

	if (zt_agent_config_load(a->config_path, &next, err, sizeof(err))) {
		zt_err("config reload refused, the running config stays: %s", err);
		return;
	}
	same = next.nrules == a->cfg.nrules;
	for (size_t i = 0; same && i < next.nrules; i++)
		same = zt_agent_rule_equal(&next.rules[i], &a->cfg.rules[i]);
	zt_agent_config_free(&a->cfg);
	a->cfg = next;
	if (!a->max_memory_flag)
		s->membudget.max_bytes = a->cfg.max_memory;
	if (same) {
		zt_notice("config reloaded: rules unchanged");
		return;
	}
	/* Rules changed: re-select every process and re-attach what the new rules need. */
	zt_loader_detach_uprobes(s->loader);
	memset(a->attached, 0, ZT_MAX_PROBES);
	for (size_t pid = 0; pid < a->pid_max; pid++) {
		if (a->rule_of[pid])
			zt_loader_remove_target(s->loader, (int)pid);
	}
	memset(a->rule_of, 0, a->pid_max * sizeof(*a->rule_of));
	a->traced = 0;
	scan_processes(a);
	zt_notice("config reloaded: %zu rules, %zu processes traced", a->cfg.nrules, a->traced);
}

static size_t read_pid_max(void)
{
	FILE *f = fopen("/proc/sys/kernel/pid_max", "r");
	unsigned long v = 0;

	if (f) {
		if (fscanf(f, "%lu", &v) != 1)
			v = 0;
		fclose(f);
	}
	return v ? v + 1 : 4194305;
}

/* The session options the config implies (exporters, syscalls). */
static void options_from_config(struct agent *a, bool *syscalls)
{
	struct zt_options *o = &a->opts;

	o->cmd = ZT_CMD_AGENT;
	o->quiet = true;
	o->max_probes = ZT_MAX_PROBES;
	o->metrics_addr = a->cfg.metrics_addr;
	o->otlp_url = a->cfg.otlp.endpoint;
	o->otlp_protocol = a->cfg.otlp.json == 1 ? "http/json" : a->cfg.otlp.json == 0 ? "http/protobuf" : NULL;
	o->otlp_gzip = a->cfg.otlp.gzip;
	o->output = a->cfg.record.path;
	o->probe_budget_ns = a->cfg.probe_budget_ns;
	o->max_memory = a->max_memory_flag ? a->max_memory_flag : a->cfg.max_memory;
	if (a->cfg.otlp.headers)
		setenv("OTEL_EXPORTER_OTLP_HEADERS", a->cfg.otlp.headers, 1);
	*syscalls = false;
	for (size_t i = 0; i < a->cfg.nrules; i++) {
		*syscalls |= a->cfg.rules[i].syscalls;
		if (a->cfg.rules[i].has_error_rule && o->error_rule.op == ZT_ERR_NONE)
			o->error_rule = a->cfg.rules[i].error_rule;
	}
	o->syscalls = *syscalls;
}

int zt_cmd_agent(const struct zt_options *cli)
{
	struct agent a = { .config_path = cli->config, .max_memory_flag = cli->max_memory };
	struct zt_loader_config lcfg = { 0 };
	int code = ZT_EXIT_USAGE, ret;
	bool syscalls;
	sigset_t sigs;

	sigemptyset(&sigs);
	sigaddset(&sigs, SIGINT);
	sigaddset(&sigs, SIGTERM);
	sigaddset(&sigs, SIGHUP);
	sigprocmask(SIG_BLOCK, &sigs, NULL);
	if (zt_agent_config_load(cli->config, &a.cfg, a.s.err, sizeof(a.s.err)))
		goto fail;
	zt_log_set_format(a.cfg.log_format == ZT_AGENT_LOG_JSON ? ZT_LOGFMT_JSON : ZT_LOGFMT_LOGFMT);
	if (cli->verbose == 0)
		zt_log_set_level(a.cfg.log_level);
	if (zt_check_privileges(a.s.err, sizeof(a.s.err)))
		goto fail;
	options_from_config(&a, &syscalls);
	a.s.opts = &a.opts;
	a.s.out = stdout;
	a.s.owner = &a;
	a.s.on_exec = on_exec;
	a.s.on_exit = on_exit_cb;
	a.s.on_reload = on_reload;
	a.pid_max = read_pid_max();
	a.rule_of = calloc(a.pid_max, sizeof(*a.rule_of));
	a.attached = calloc(ZT_MAX_PROBES, 1);
	if (!a.rule_of || !a.attached) {
		snprintf(a.s.err, sizeof(a.s.err), "out of memory");
		code = ZT_EXIT_FAILURE;
		goto fail;
	}
	ret = zt_session_start_exporters(&a.s);
	if (ret)
		goto fail;
	lcfg.filter_tgids = true;
	lcfg.report_execs = true;
	lcfg.syscalls = syscalls;
	lcfg.error_rule = a.opts.error_rule;
	if (zt_session_open_pipeline(&a.s, &lcfg, &code))
		goto fail;
	a.s.t0_ns = zt_realtime_ns();
	scan_processes(&a);
	zt_notice("agent running: %zu rules, %zu processes traced, %zu functions attached",
		  a.cfg.nrules, a.traced, zt_loader_uprobe_count(a.s.loader));
	ret = zt_session_run(&a.s);
	zt_session_finish(&a.s);
	code = ret ? ZT_EXIT_FAILURE : ZT_EXIT_OK;
	goto out;
fail:
	zt_err("%s", a.s.err);
out:
	zt_session_cleanup(&a.s);
	zt_agent_config_free(&a.cfg);
	free(a.rule_of);
	free(a.attached);
	return code;
}
