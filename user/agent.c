// SPDX-License-Identifier: MIT
/*
 * The agent: processes are selected by rules (executable glob, name, cgroup, container) as
 * they exec (the sched_process_exec hook) or at start (a /proc scan). A rule's functions are
 * attached once per file for every process (pid -1), and the kernel's target map decides which
 * processes count: 100 processes of one program cost one attachment. A traced process gets
 * the policy (error_if, ret32, min_duration, sample) of the first rule, in file order, that
 * selects it: the kernel judges its calls by it (targets map), the session its spans.
 */
#include <dirent.h>
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <bpf/bpf.h>
#include "agent.h"
#include "agent_config.h"
#include "agent_state.h"
#include "log.h"
#include "proc_identity.h"
#include "session.h"

/*
 * Have the probes marked in want capture the arguments rule's capture specs name for them, before
 * they are attached. A failure is logged: the probes are attached without capture.
 */
static void capture_rule(struct zt_agent *a, const struct zt_agent_rule *rule, const uint8_t *want)
{
	struct zt_capture_spec *specs = calloc(rule->ncaptures, sizeof(*specs));
	size_t n = 0;
	char err[256];

	if (!specs) {
		zt_warn("rule '%s': no argument capture: out of memory", rule->name);
		return;
	}
	for (; n < rule->ncaptures; n++)
		if (zt_capture_spec_parse(rule->captures[n], &specs[n], err, sizeof(err)))
			break; /* checked when the config was loaded: only -ENOMEM */
	if (n < rule->ncaptures)
		zt_warn("rule '%s': no argument capture: out of memory", rule->name);
	else if (!a->capture_args)
		zt_warn("rule '%s': no argument capture: the agent started without a rule that "
			"captures (restart it to capture)",
			rule->name);
	else if (zt_session_apply_capture_specs(&a->s, specs, n, want))
		zt_warn("rule '%s': %s", rule->name, a->s.err);
	while (n--)
		zt_capture_spec_free(&specs[n]);
	free(specs);
}

/* Attach the function specs of rule r in pid's binaries (once per file), in r's group. */
static int attach_rule(struct zt_agent *a, uint32_t pid, size_t r, const char *exe)
{
	struct zt_resolve_ctx ctx = {.pid = (int)pid, .exe = exe, .max_probes = ZT_MAX_PROBES};
	const struct zt_agent_rule *rule = &a->cfg.rules[r];
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
			if (!a->owner[ids[k]]) {
				want[ids[k]] = 1;
				any = true;
			}
		}
		free(ids);
		zt_probe_spec_free(&spec);
	}
	if (any) {
		/* a probe a removed rule made capture captures again only if this rule says so */
		for (size_t i = 0; i < ZT_MAX_PROBES; i++)
			if (want[i])
				zt_loader_clear_args(a->s.loader, (uint32_t)i);
		if (rule->ncaptures)
			capture_rule(a, rule, want);
		zt_loader_set_group(a->s.loader, a->group[r]);
		ret = zt_session_attach_marked(&a->s, want, -1);
		if (ret)
			zt_err("rule '%s': %s", rule->name, a->s.err);
		/* not attached (the process may have ended first): the next process tries again */
		for (size_t i = 0; !ret && i < ZT_MAX_PROBES; i++)
			if (want[i])
				a->owner[i] = a->group[r];
	}
	free(want);
	return ret;
}

/* The kernel's entry for a process rule r selects, with flags. */
static void rule_policy(const struct zt_agent_rule *r, uint8_t flags, struct zt_target_policy *out)
{
	struct zt_error_rule none = {.op = ZT_ERR_NONE};

	zt_loader_target_policy(r->has_error_rule ? &r->error_rule : &none, r->ret32,
				r->min_duration_ns, flags, out);
}

/* The session's side of the policy of pid: its rule's sample (the kernel judges errors). */
static bool span_policy_of(struct zt_session *s, uint32_t pid, struct zt_span_policy *out)
{
	struct zt_agent *a = s->owner;
	const struct zt_agent_rule *r;

	if (pid >= a->pid_max || a->rule_of[pid] <= 0)
		return false;
	r = &a->cfg.rules[a->rule_of[pid] - 1];
	memset(out, 0, sizeof(*out));
	out->sample = r->sample;
	out->rule = r->name;
	return true;
}

/*
 * Every rule that selected pid did so by its executable's host path alone: have the kernel select
 * the next processes of that file at their exec, so that their first calls are not missed while the
 * agent reads the exec record (it matches them again then, as any other).
 */
static void select_file(struct zt_agent *a, uint32_t pid, const struct zt_target_policy *policy)
{
	char path[64];
	struct stat st;
	int ret;

	snprintf(path, sizeof(path), "/proc/%u/exe", pid);
	if (stat(path, &st))
		return; /* gone: the next process of the file is matched the slow way */
	ret = zt_loader_select_file(a->s.loader, st.st_dev, st.st_ino, policy);
	if (ret)
		zt_warn("pid %u: the kernel cannot select its executable at exec (%s); later "
			"processes of it are traced from when the agent matches them",
			pid, strerror(-ret));
}

/*
 * Match pid against the rules: it gets the probes of every rule that selects it, and the
 * policy of the first. exec: pid has just exec'd a new program (else found by a /proc scan).
 */
static void consider(struct zt_agent *a, uint32_t pid, bool exec)
{
	struct zt_target_policy policy;
	size_t nmatch = 0;
	bool by_file = true;
	uint8_t flags = 0;
	struct zt_proc_ident id;
	int first = 0;

	if (pid == (uint32_t)getpid() || zt_proc_identity_read(pid, a->cfg.k8s_pods_dir, &id))
		return;
	for (size_t i = 0; i < a->cfg.nrules; i++) {
		const struct zt_agent_rule *rule = &a->cfg.rules[i];

		if (!zt_agent_rule_matches(rule, &id.id))
			continue;
		attach_rule(a, pid, i, id.seen_exe);
		flags |= ZT_TARGET_FUNCS | (rule->syscalls ? ZT_TARGET_SYSCALLS : 0);
		if (!first)
			first = (int)i + 1;
		nmatch++;
		by_file &= zt_agent_rule_selects_file(rule, id.id.exe);
	}
	if (flags) {
		rule_policy(&a->cfg.rules[first - 1], flags, &policy);
		if (zt_loader_set_target(a->s.loader, (int)pid, &policy))
			return;
		if (by_file)
			select_file(a, pid, &policy);
		a->selected++;
		if (pid < a->pid_max) {
			if (exec || a->rule_of[pid] != first)
				zt_info("tracing pid %u (%s) by rule '%s'%s", pid, id.seen_exe,
					a->cfg.rules[first - 1].name,
					nmatch > 1 ? " (first of the rules selecting it: its "
						     "policy applies)"
						   : "");
			if (!a->rule_of[pid])
				a->traced++;
			a->rule_of[pid] = first;
		}
		/* read its /proc facts now (resource attributes, pid-reuse identity); an exec
		 * in a process already known (a pod's shell) was read again by the session */
		zt_session_process(&a->s, pid, NULL);
		return;
	}
	/* an exec into a program no rule selects, or a rule gone: stop tracing that process
	 * (the kernel may have selected it by file at its exec: a hard link of a selected file) */
	if (exec)
		zt_loader_remove_target(a->s.loader, (int)pid);
	if (pid < a->pid_max && a->rule_of[pid]) {
		zt_loader_remove_target(a->s.loader, (int)pid);
		a->rule_of[pid] = 0;
		a->traced--;
	}
}

void zt_agent_scan(struct zt_agent *a)
{
	DIR *d = opendir("/proc");
	struct dirent *e;

	/* files are selected again as the rules select their processes; the facts read from now
	 * on look pods up where this config says */
	zt_loader_clear_files(a->s.loader);
	zt_proctable_set_pods_dir(a->s.procs, a->cfg.k8s_pods_dir);
	if (!d)
		return;
	while ((e = readdir(d))) {
		char *end;
		unsigned long pid = strtoul(e->d_name, &end, 10);

		if (*end == '\0' && pid > 0)
			consider(a, (uint32_t)pid, false);
	}
	closedir(d);
}

static void on_exec(struct zt_session *s, uint32_t pid)
{
	struct zt_agent *a = s->owner;

	a->execs++;
	consider(a, pid, true);
}

static void on_exit_cb(struct zt_session *s, uint32_t pid)
{
	struct zt_agent *a = s->owner;

	zt_loader_remove_target(s->loader, (int)pid);
	if (pid < a->pid_max && a->rule_of[pid]) {
		a->rule_of[pid] = 0;
		a->traced--;
	}
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
static void options_from_config(struct zt_agent *a, bool *syscalls)
{
	struct zt_options *o = &a->opts;

	o->cmd = ZT_CMD_AGENT;
	o->quiet = true;
	o->max_probes = ZT_MAX_PROBES;
	o->metrics_addr = a->cfg.metrics_addr;
	o->metrics_retention_ns = a->cfg.metrics_retention_ns;
	o->otlp_url = a->cfg.otlp.endpoint;
	o->otlp_protocol = a->cfg.otlp.json == 1   ? "http/json"
			   : a->cfg.otlp.json == 0 ? "http/protobuf"
						   : NULL;
	o->otlp_gzip = a->cfg.otlp.gzip;
	o->output = a->cfg.record.path;
	o->probe_budget_ns = a->cfg.probe_budget_ns;
	o->max_memory = a->max_memory_flag ? a->max_memory_flag : a->cfg.max_memory;
	if (a->cfg.otlp.headers)
		setenv("OTEL_EXPORTER_OTLP_HEADERS", a->cfg.otlp.headers, 1);
	/* error_if, ret32, min_duration and sample are per rule: see consider() */
	*syscalls = false;
	for (size_t i = 0; i < a->cfg.nrules; i++)
		*syscalls |= a->cfg.rules[i].syscalls;
	o->syscalls = *syscalls;
}

int zt_cmd_agent(const struct zt_options *cli)
{
	struct zt_agent a = {.config_path = cli->config, .max_memory_flag = cli->max_memory};
	struct zt_loader_config lcfg = {0};
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
	zt_log_set_format(a.cfg.log_format == ZT_AGENT_LOG_JSON ? ZT_LOGFMT_JSON
								: ZT_LOGFMT_LOGFMT);
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
	a.s.on_reload = zt_agent_reload;
	a.s.policy_of = span_policy_of;
	a.pid_max = read_pid_max();
	a.rule_of = calloc(a.pid_max, sizeof(*a.rule_of));
	a.owner = calloc(ZT_MAX_PROBES, sizeof(*a.owner));
	a.group = calloc(a.cfg.nrules, sizeof(*a.group));
	if (!a.rule_of || !a.owner || !a.group) {
		snprintf(a.s.err, sizeof(a.s.err), "out of memory");
		code = ZT_EXIT_FAILURE;
		goto fail;
	}
	ret = zt_session_start_exporters(&a.s);
	if (ret)
		goto fail;
	/* a restart rotates the previous run's file rather than overwriting it */
	if (a.cfg.record.path && access(a.cfg.record.path, F_OK) == 0 &&
	    (ret = zt_store_shift(a.cfg.record.path, a.cfg.record.keep))) {
		snprintf(a.s.err, sizeof(a.s.err), "cannot rotate %s: %s", a.cfg.record.path,
			 strerror(-ret));
		code = ZT_EXIT_FAILURE;
		goto fail;
	}
	lcfg.filter_tgids = true;
	lcfg.report_execs = true;
	lcfg.syscalls = syscalls;
	/* slots for captured arguments are allocated only when a rule asks for them */
	for (size_t i = 0; i < a.cfg.nrules; i++)
		lcfg.capture_args |= a.cfg.rules[i].ncaptures > 0;
	a.capture_args = lcfg.capture_args;
	if (zt_session_open_pipeline(&a.s, &lcfg, &code))
		goto fail;
	if (a.s.store && zt_store_set_rotation(a.s.store, a.cfg.record.path, a.cfg.record.max_size,
					       a.cfg.record.keep)) {
		snprintf(a.s.err, sizeof(a.s.err), "out of memory");
		code = ZT_EXIT_FAILURE;
		goto fail;
	}
	for (size_t i = 0; i < a.cfg.nrules; i++)
		a.group[i] = ++a.next_group;
	a.s.t0_ns = zt_realtime_ns();
	zt_agent_scan(&a);
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
	free(a.owner);
	free(a.group);
	return code;
}
