// SPDX-License-Identifier: MIT
/*
 * The deployment files of scripts/deploy/ against the tools that consume them and against the
 * binary they deploy: the Kubernetes manifests parse (libyaml, read here independently of the
 * agent's own loader) and wire the ConfigMap, probes, ports and mounts together; the ConfigMap
 * carries scripts/deploy/agent.yaml and `ztrace agent --check-config` accepts it; every flag a
 * manifest, the Dockerfile or the systemd unit passes is one `ztrace help` lists; the runtime
 * image installs the packages of every library the binary links and no compiler; promtool
 * checks and unit-tests the alert rules; the Grafana dashboard is JSON whose queries are valid
 * PromQL naming only metrics ztrace exports; systemd-analyze verifies the unit.
 *
 * Binaries come from $ZT_OUTPUT (default .output). Run from the repository root.
 */
#include <criterion/criterion.h>
#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <yaml.h>

#include "agent_config.h"
#include "common/runproc.h"
#include "metrics.h"

#define DEPLOY	     "scripts/deploy/"
#define TOOL_MS	     30000 /* promtool, systemd-analyze, python3, dpkg */
#define CHECK_MS     10000 /* ztrace agent --check-config */
#define MAX_DOCS     8
#define MAX_NAMES    256
#define MAX_WORDS    64
#define BIN_PATH     "/usr/local/sbin/ztrace"
#define CONFIG_PATH  "/etc/ztrace/agent.yaml"
#define METRICS_PORT 9464
#define ERRLEN	     1024

static char ztrace_bin[PATH_MAX];

static void setup(void)
{
	const char *dir = getenv("ZT_OUTPUT");
	char path[PATH_MAX];

	snprintf(path, sizeof(path), "%s/ztrace", dir && *dir ? dir : ".output");
	cr_assert_not_null(realpath(path, ztrace_bin),
			   "%s: %s (build it with make; run from the repo root)", path,
			   strerror(errno));
	cr_assert_eq(access(DEPLOY "daemonset.yaml", R_OK), 0,
		     DEPLOY "daemonset.yaml: %s (run from the repo root)", strerror(errno));
}

TestSuite(deploy, .init = setup, .timeout = 120);

/* ---- small helpers ---- */

static char *slurp(const char *path)
{
	FILE *f = fopen(path, "re");
	char *buf;
	long len;

	cr_assert_not_null(f, "%s: %s", path, strerror(errno));
	cr_assert_eq(fseek(f, 0, SEEK_END), 0);
	len = ftell(f);
	rewind(f);
	buf = malloc(len + 1);
	cr_assert_not_null(buf);
	cr_assert_eq(fread(buf, 1, len, f), (size_t)len);
	buf[len] = '\0';
	fclose(f);
	return buf;
}

static void spill(const char *path, const char *text)
{
	FILE *f = fopen(path, "we");

	cr_assert_not_null(f, "%s: %s", path, strerror(errno));
	cr_assert_eq(fputs(text, f) >= 0, true);
	cr_assert_eq(fclose(f), 0);
}

/* Run argv to completion; fails the test unless it exits with want. Caller frees p. */
static void run_expect(struct zt_proc *p, char *const argv[], int want)
{
	int ret = zt_run(p, argv, NULL, TOOL_MS);

	cr_assert_eq(ret, want, "%s exited %d, want %d\nstdout:\n%s\nstderr:\n%s", argv[0], ret,
		     want, zt_proc_text(p, ZT_STDOUT), zt_proc_text(p, ZT_STDERR));
}

/* Whether word (e.g. "--config") occurs in text delimited by non-flag characters. */
static bool has_word(const char *text, const char *word)
{
	size_t n = strlen(word);

	for (const char *p = strstr(text, word); p; p = strstr(p + 1, word)) {
		bool start = p == text || !(isalnum((unsigned char)p[-1]) || p[-1] == '-');
		bool end = !(isalnum((unsigned char)p[n]) || p[n] == '-' || p[n] == '_');

		if (start && end)
			return true;
	}
	return false;
}

/* `ztrace help`: the usage text, which lists every flag the binary accepts. */
static char *usage_text(void)
{
	char *argv[] = {ztrace_bin, "help", NULL};
	struct zt_proc p;
	char *text;

	run_expect(&p, argv, 0);
	text = strdup(zt_proc_text(&p, ZT_STDOUT));
	zt_proc_free(&p);
	cr_assert(has_word(text, "--config"), "ztrace help lists no --config:\n%s", text);
	return text;
}

/* Every "--flag" or "--flag=value" word in words[0..n) is listed by `ztrace help`. */
static void assert_flags_known(char *const *words, size_t n, const char *where)
{
	char *usage = usage_text();

	for (size_t i = 0; i < n; i++) {
		char flag[128];

		if (strncmp(words[i], "--", 2))
			continue;
		snprintf(flag, sizeof(flag), "%.*s", (int)strcspn(words[i], "="), words[i]);
		cr_assert(has_word(usage, flag), "%s passes %s, which `ztrace help` does not list",
			  where, flag);
	}
	free(usage);
}

/* ---- YAML: every document of a file, and lookups by path ---- */

struct ydocs {
	yaml_document_t doc[MAX_DOCS];
	size_t n;
};

static void yload(const char *path, struct ydocs *d)
{
	char *text = slurp(path);
	yaml_parser_t parser;

	d->n = 0;
	cr_assert(yaml_parser_initialize(&parser));
	yaml_parser_set_input_string(&parser, (unsigned char *)text, strlen(text));
	for (;;) {
		cr_assert_lt(d->n, MAX_DOCS, "%s: too many documents", path);
		cr_assert(yaml_parser_load(&parser, &d->doc[d->n]), "%s:%zu:%zu: %s", path,
			  parser.problem_mark.line + 1, parser.problem_mark.column + 1,
			  parser.problem ? parser.problem : "YAML error");
		if (!yaml_document_get_root_node(&d->doc[d->n])) {
			yaml_document_delete(&d->doc[d->n]);
			break;
		}
		d->n++;
	}
	yaml_parser_delete(&parser);
	free(text);
}

static void yfree(struct ydocs *d)
{
	for (size_t i = 0; i < d->n; i++)
		yaml_document_delete(&d->doc[i]);
	d->n = 0;
}

/*
 * The node at path below n: keys separated by '/', numbers index lists ("spec/containers/0/
 * args"). NULL when some step does not exist.
 */
static yaml_node_t *yget(yaml_document_t *doc, yaml_node_t *n, const char *path)
{
	char step[128];

	while (n && *path) {
		size_t len = strcspn(path, "/");

		snprintf(step, sizeof(step), "%.*s", (int)len, path);
		path += len + (path[len] == '/');
		if (n->type == YAML_SEQUENCE_NODE) {
			char *end;
			long i = strtol(step, &end, 10);
			long count = n->data.sequence.items.top - n->data.sequence.items.start;

			if (*end || i < 0 || i >= count)
				return NULL;
			n = yaml_document_get_node(doc, n->data.sequence.items.start[i]);
		} else if (n->type == YAML_MAPPING_NODE) {
			yaml_node_t *found = NULL;

			for (yaml_node_pair_t *p = n->data.mapping.pairs.start;
			     p < n->data.mapping.pairs.top; p++) {
				yaml_node_t *k = yaml_document_get_node(doc, p->key);

				if (k->type == YAML_SCALAR_NODE &&
				    !strcmp((char *)k->data.scalar.value, step))
					found = yaml_document_get_node(doc, p->value);
			}
			n = found;
		} else {
			return NULL;
		}
	}
	return n;
}

/* The value of key in mapping n (a key that may hold '/'), or NULL. */
static yaml_node_t *ykey(yaml_document_t *doc, yaml_node_t *n, const char *key)
{
	if (!n || n->type != YAML_MAPPING_NODE)
		return NULL;
	for (yaml_node_pair_t *p = n->data.mapping.pairs.start; p < n->data.mapping.pairs.top;
	     p++) {
		yaml_node_t *k = yaml_document_get_node(doc, p->key);

		if (k->type == YAML_SCALAR_NODE && !strcmp((char *)k->data.scalar.value, key))
			return yaml_document_get_node(doc, p->value);
	}
	return NULL;
}

/* The scalar at path (fails the test when it is missing or not a scalar). */
static const char *ystr(yaml_document_t *doc, yaml_node_t *n, const char *path)
{
	yaml_node_t *v = yget(doc, n, path);

	cr_assert_not_null(v, "no %s", path);
	cr_assert_eq(v->type, YAML_SCALAR_NODE, "%s is not a scalar", path);
	return (const char *)v->data.scalar.value;
}

static size_t ylen(yaml_node_t *n)
{
	cr_assert_eq(n->type, YAML_SEQUENCE_NODE);
	return n->data.sequence.items.top - n->data.sequence.items.start;
}

/* Item i of list n. */
static yaml_node_t *yat(yaml_document_t *doc, yaml_node_t *n, size_t i)
{
	cr_assert_lt(i, ylen(n));
	return yaml_document_get_node(doc, n->data.sequence.items.start[i]);
}

/* The scalars of the list at path, into words (at most MAX_WORDS). */
static size_t ywords(yaml_document_t *doc, yaml_node_t *n, const char *path, char **words)
{
	yaml_node_t *list = yget(doc, n, path);
	size_t count;

	cr_assert_not_null(list, "no %s", path);
	count = ylen(list);
	cr_assert_leq(count, MAX_WORDS);
	for (size_t i = 0; i < count; i++) {
		yaml_node_t *item = yat(doc, list, i);

		cr_assert_eq(item->type, YAML_SCALAR_NODE, "%s: item %zu is not a scalar", path, i);
		words[i] = (char *)item->data.scalar.value;
	}
	return count;
}

/* The document of kind in d, or fail. */
static yaml_document_t *ykind(struct ydocs *d, const char *kind)
{
	for (size_t i = 0; i < d->n; i++) {
		yaml_node_t *k = yget(&d->doc[i], yaml_document_get_root_node(&d->doc[i]), "kind");

		if (k && k->type == YAML_SCALAR_NODE && !strcmp((char *)k->data.scalar.value, kind))
			return &d->doc[i];
	}
	cr_assert_fail("no %s document", kind);
	return NULL;
}

/* ---- metric names ---- */

/* DESIGN.md's metric families ("Metrics"); histograms also name _bucket, _sum, _count. */
static const char *const design_metrics[] = {
    "ztrace_function_calls_total",
    "ztrace_function_errors_total",
    "ztrace_function_duration_seconds",
    "ztrace_syscalls_total",
    "ztrace_syscall_errors_total",
    "ztrace_syscall_duration_seconds",
    "ztrace_events_total",
    "ztrace_spans_exported_total",
};

struct names {
	char *v[MAX_NAMES];
	size_t n;
};

static bool names_has(const struct names *s, const char *name)
{
	for (size_t i = 0; i < s->n; i++)
		if (!strcmp(s->v[i], name))
			return true;
	return false;
}

static void names_add(struct names *s, const char *name, size_t len)
{
	char *copy = strndup(name, len);

	cr_assert_not_null(copy);
	if (names_has(s, copy)) {
		free(copy);
		return;
	}
	cr_assert_lt(s->n, MAX_NAMES);
	s->v[s->n++] = copy;
}

static void names_free(struct names *s)
{
	for (size_t i = 0; i < s->n; i++)
		free(s->v[i]);
	s->n = 0;
}

/* The series names the agent's registry exposes: its "# TYPE" families, histograms expanded. */
static void exported_names(struct names *out)
{
	struct zt_metrics *m = zt_metrics_new();
	struct zt_agg_val v = {.count = 1, .sum_ns = 1000, .max_ns = 1000};
	char *text = NULL;
	size_t len;

	/* one of each kind of series: a family without samples is not rendered */
	cr_assert_not_null(m);
	v.buckets[10] = 1;
	cr_assert_eq(zt_metrics_set_function(m, 1, 1, "orders", "process_order", "/bin/orders", &v),
		     0);
	cr_assert_eq(zt_metrics_set_syscall(m, 1, 1, "orders", 0, &v), 0);
	cr_assert_eq(zt_metrics_set_events(m, "process_order", 1, 0), 0);
	cr_assert_eq(zt_metrics_set_exported(m, "otlp", 1, 0, 0), 0);
	zt_metrics_set_ringbuf_fill(m, 1, 2);
	cr_assert_eq(zt_metrics_render(m, &text, &len), 0);
	for (char *line = text; line && *line; line = strchr(line, '\n'), line += !!line) {
		char name[128], type[32];

		if (sscanf(line, "# TYPE %127s %31s", name, type) != 2)
			continue;
		names_add(out, name, strlen(name));
		if (!strcmp(type, "histogram")) {
			static const char *const parts[] = {"_bucket", "_sum", "_count"};

			for (size_t i = 0; i < 3; i++) {
				char series[160];

				snprintf(series, sizeof(series), "%s%s", name, parts[i]);
				names_add(out, series, strlen(series));
			}
		}
	}
	free(text);
	zt_metrics_free(m);
	for (size_t i = 0; i < sizeof(design_metrics) / sizeof(design_metrics[0]); i++)
		cr_assert(names_has(out, design_metrics[i]),
			  "DESIGN.md's %s is not exported by the registry", design_metrics[i]);
}

/*
 * The metric names a PromQL expression uses: identifiers outside quotes and not Grafana
 * variables that name ztrace's own series or the standard process_* and up series.
 */
static void promql_names(const char *expr, struct names *out)
{
	const char *p = expr;

	while (*p) {
		if (*p == '"' || *p == '\'') {
			char q = *p++;

			while (*p && *p != q)
				p += (*p == '\\' && p[1]) ? 2 : 1;
			p += !!*p;
		} else if (*p == '$') {
			for (p++; isalnum((unsigned char)*p) || *p == '_'; p++)
				;
		} else if (isalpha((unsigned char)*p) || *p == '_') {
			const char *start = p;

			while (isalnum((unsigned char)*p) || *p == '_' || *p == ':')
				p++;
			if (!strncmp(start, "ztrace_", 7) || !strncmp(start, "process_", 8) ||
			    (p - start == 2 && !strncmp(start, "up", 2)))
				names_add(out, start, p - start);
		} else {
			p++;
		}
	}
}

/* ---- ConfigMap ---- */

Test(deploy, configmap_carries_the_sample_config_and_it_checks)
{
	char dir[] = "/tmp/zt-deploy-XXXXXX", path[PATH_MAX], err[ERRLEN];
	struct zt_agent_config cfg;
	char *sample = slurp(DEPLOY "agent.yaml");
	struct ydocs d;
	yaml_document_t *doc;
	yaml_node_t *root;
	struct zt_proc p;
	int ret;

	yload(DEPLOY "configmap.yaml", &d);
	cr_assert_eq(d.n, 1);
	doc = ykind(&d, "ConfigMap");
	root = yaml_document_get_root_node(doc);
	cr_assert_str_eq(ystr(doc, root, "apiVersion"), "v1");
	cr_assert_str_eq(ystr(doc, root, "metadata/name"), "ztrace-config");
	cr_assert_str_eq(ystr(doc, root, "metadata/namespace"), "ztrace");
	cr_assert_str_eq(ystr(doc, root, "data/agent.yaml"), sample,
			 "configmap.yaml's agent.yaml differs from " DEPLOY "agent.yaml");

	/* the embedded text, loaded by the agent's own loader and by the binary */
	cr_assert_not_null(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/agent.yaml", dir);
	spill(path, ystr(doc, root, "data/agent.yaml"));
	ret = zt_agent_config_load(path, &cfg, err, sizeof(err));
	cr_assert_eq(ret, 0, "%s", err);
	cr_assert_eq(cfg.nrules, 2);
	cr_assert_str_eq(cfg.metrics_addr, "0.0.0.0:9464");
	zt_agent_config_free(&cfg);

	{
		char *argv[] = {ztrace_bin, "agent", "--config", path, "--check-config", NULL};

		run_expect(&p, argv, 0);
		cr_assert_str_eq(zt_proc_text(&p, ZT_STDOUT), "config OK: 2 rules\n");
		zt_proc_free(&p);
	}
	/* and a broken copy is refused with its position, exit 2 */
	{
		char *argv[] = {ztrace_bin, "agent", "--config", path, "--check-config", NULL};
		char want[PATH_MAX + 64];

		spill(path, "rules:\n  - name: x\n    match: {exe: /x}\n    probez: [main]\n");
		run_expect(&p, argv, 2);
		snprintf(want, sizeof(want), "ztrace: %s:4:5: unknown key 'probez' in rule 'x'",
			 path);
		cr_assert(strstr(zt_proc_text(&p, ZT_STDERR), want), "stderr: %s",
			  zt_proc_text(&p, ZT_STDERR));
		zt_proc_free(&p);
	}
	unlink(path);
	rmdir(dir);
	yfree(&d);
	free(sample);
}

/* ---- DaemonSet ---- */

/* The volume called name in the pod spec, or NULL. */
static yaml_node_t *volume(yaml_document_t *doc, yaml_node_t *pod, const char *name)
{
	yaml_node_t *vols = yget(doc, pod, "volumes");

	for (size_t i = 0; vols && i < ylen(vols); i++) {
		yaml_node_t *v = yat(doc, vols, i);

		if (!strcmp(ystr(doc, v, "name"), name))
			return v;
	}
	return NULL;
}

/* The container's mount at mount_path: its volume must be a hostPath of the same path. */
static yaml_node_t *host_mount(yaml_document_t *doc, yaml_node_t *pod, yaml_node_t *c,
			       const char *mount_path)
{
	yaml_node_t *mounts = yget(doc, c, "volumeMounts");

	cr_assert_not_null(mounts, "no volumeMounts");
	for (size_t i = 0; i < ylen(mounts); i++) {
		yaml_node_t *m = yat(doc, mounts, i), *v;

		if (strcmp(ystr(doc, m, "mountPath"), mount_path))
			continue;
		v = volume(doc, pod, ystr(doc, m, "name"));
		cr_assert_not_null(v, "mount %s names no volume", mount_path);
		cr_assert_str_eq(ystr(doc, v, "hostPath/path"), mount_path);
		return m;
	}
	cr_assert_fail("nothing mounted at %s", mount_path);
	return NULL;
}

static bool mount_read_only(yaml_document_t *doc, yaml_node_t *m)
{
	yaml_node_t *ro = yget(doc, m, "readOnly");

	return ro && !strcmp((char *)ro->data.scalar.value, "true");
}

Test(deploy, daemonset_wires_config_probes_privileges_and_mounts)
{
	static const char *const caps[] = {"BPF",	 "PERFMON",	 "SYS_ADMIN",
					   "SYS_PTRACE", "SYS_RESOURCE", "DAC_READ_SEARCH"};
	char *words[MAX_WORDS], err[ERRLEN], port[16];
	struct zt_agent_config cfg;
	yaml_node_t *root, *pod, *c, *m;
	yaml_document_t *doc;
	struct ydocs d;
	uint64_t limit;
	size_t n;

	cr_assert_eq(zt_agent_config_load(DEPLOY "agent.yaml", &cfg, err, sizeof(err)), 0, "%s",
		     err);
	yload(DEPLOY "daemonset.yaml", &d);
	cr_assert_eq(d.n, 2);
	doc = ykind(&d, "Namespace");
	cr_assert_str_eq(ystr(doc, yaml_document_get_root_node(doc), "metadata/name"), "ztrace");
	doc = ykind(&d, "DaemonSet");
	root = yaml_document_get_root_node(doc);
	cr_assert_str_eq(ystr(doc, root, "apiVersion"), "apps/v1");
	cr_assert_str_eq(ystr(doc, root, "metadata/namespace"), "ztrace");
	pod = yget(doc, root, "spec/template/spec");
	cr_assert_not_null(pod);
	cr_assert_str_eq(ystr(doc, pod, "hostPID"), "true");
	/* the selector selects the template: each of its labels is on the pod */
	{
		yaml_node_t *sel = yget(doc, root, "spec/selector/matchLabels");
		yaml_node_t *labels = yget(doc, root, "spec/template/metadata/labels");

		cr_assert_not_null(sel);
		cr_assert_geq(sel->data.mapping.pairs.top - sel->data.mapping.pairs.start, 1);
		for (yaml_node_pair_t *p = sel->data.mapping.pairs.start;
		     p < sel->data.mapping.pairs.top; p++) {
			const char *k =
			    (char *)yaml_document_get_node(doc, p->key)->data.scalar.value;
			yaml_node_t *want = yaml_document_get_node(doc, p->value);
			yaml_node_t *got = ykey(doc, labels, k);

			cr_assert_not_null(got, "the pod template has no label %s", k);
			cr_assert_str_eq((char *)got->data.scalar.value,
					 (char *)want->data.scalar.value);
		}
	}

	c = yget(doc, pod, "containers/0");
	cr_assert_not_null(c);
	cr_assert_null(yget(doc, pod, "containers/1"), "one container");
	cr_assert_str_eq(ystr(doc, c, "command/0"), BIN_PATH);
	n = ywords(doc, c, "args", words);
	cr_assert_eq(n, 3);
	cr_assert_str_eq(words[0], "agent");
	cr_assert_str_eq(words[1], "--config");
	cr_assert_str_eq(words[2], CONFIG_PATH);
	assert_flags_known(words, n, "daemonset.yaml");

	/* the config comes from the ConfigMap, mounted where --config points */
	m = NULL;
	for (size_t i = 0; i < ylen(yget(doc, c, "volumeMounts")); i++) {
		yaml_node_t *mount = yat(doc, yget(doc, c, "volumeMounts"), i);

		if (!strcmp(ystr(doc, mount, "mountPath"), "/etc/ztrace"))
			m = mount;
	}
	cr_assert_not_null(m, "the config directory /etc/ztrace is not mounted");
	cr_assert(mount_read_only(doc, m));
	cr_assert_str_eq(ystr(doc, volume(doc, pod, ystr(doc, m, "name")), "configMap/name"),
			 "ztrace-config");

	/* probes and scraping on the port of metrics_addr */
	snprintf(port, sizeof(port), "%d", METRICS_PORT);
	cr_assert(strstr(cfg.metrics_addr, port), "metrics_addr %s", cfg.metrics_addr);
	cr_assert_str_eq(ystr(doc, c, "ports/0/name"), "metrics");
	cr_assert_str_eq(ystr(doc, c, "ports/0/containerPort"), port);
	cr_assert_str_eq(ystr(doc, c, "livenessProbe/httpGet/path"), "/healthz");
	cr_assert_str_eq(ystr(doc, c, "livenessProbe/httpGet/port"), "metrics");
	cr_assert_str_eq(ystr(doc, c, "readinessProbe/httpGet/path"), "/readyz");
	cr_assert_str_eq(ystr(doc, c, "readinessProbe/httpGet/port"), "metrics");

	/* resources: all four set, the memory limit above the config's cache budget */
	ystr(doc, c, "resources/requests/cpu");
	ystr(doc, c, "resources/requests/memory");
	ystr(doc, c, "resources/limits/cpu");
	cr_assert_eq(zt_parse_size(ystr(doc, c, "resources/limits/memory"), &limit), 0);
	cr_assert_gt(limit, cfg.max_memory);

	/* minimal privileges: not privileged, every capability dropped but the listed ones */
	cr_assert_str_eq(ystr(doc, c, "securityContext/privileged"), "false");
	cr_assert_str_eq(ystr(doc, c, "securityContext/capabilities/drop/0"), "ALL");
	n = ywords(doc, c, "securityContext/capabilities/add", words);
	cr_assert_eq(n, sizeof(caps) / sizeof(caps[0]));
	for (size_t i = 0; i < n; i++)
		cr_assert_str_eq(words[i], caps[i]);

	cr_assert_not(mount_read_only(doc, host_mount(doc, pod, c, "/sys/kernel/tracing")));
	cr_assert_not(mount_read_only(doc, host_mount(doc, pod, c, "/sys/fs/bpf")));
	cr_assert(mount_read_only(doc, host_mount(doc, pod, c, "/sys/kernel/btf")));

	zt_agent_config_free(&cfg);
	yfree(&d);
}

/* Prometheus finds the agents by the pod's prometheus.io annotations. */
Test(deploy, daemonset_scrape_annotations)
{
	yaml_node_t *ann;
	yaml_document_t *doc;
	struct ydocs d;

	yload(DEPLOY "daemonset.yaml", &d);
	doc = ykind(&d, "DaemonSet");
	ann = yget(doc, yaml_document_get_root_node(doc), "spec/template/metadata/annotations");
	cr_assert_not_null(ann);
	cr_assert_not_null(ykey(doc, ann, "prometheus.io/scrape"));
	cr_assert_str_eq((char *)ykey(doc, ann, "prometheus.io/scrape")->data.scalar.value, "true");
	cr_assert_not_null(ykey(doc, ann, "prometheus.io/port"));
	cr_assert_eq(atoi((char *)ykey(doc, ann, "prometheus.io/port")->data.scalar.value),
		     METRICS_PORT);
	cr_assert_not_null(ykey(doc, ann, "prometheus.io/path"));
	cr_assert_str_eq((char *)ykey(doc, ann, "prometheus.io/path")->data.scalar.value,
			 "/metrics");
	yfree(&d);
}

/* ---- Dockerfile ---- */

/* The Dockerfile's instructions, continuation lines joined, comments dropped. */
static size_t docker_instructions(char *text, char **lines, size_t max)
{
	size_t n = 0;
	char *w = text;

	/* join "\\\n" continuations in place */
	for (char *r = text; *r; r++) {
		if (r[0] == '\\' && r[1] == '\n') {
			r++;
			*w++ = ' ';
			continue;
		}
		*w++ = *r;
	}
	*w = '\0';
	for (char *line = strtok(text, "\n"); line; line = strtok(NULL, "\n")) {
		while (isspace((unsigned char)*line))
			line++;
		if (!*line || *line == '#')
			continue;
		cr_assert_lt(n, max);
		lines[n++] = line;
	}
	return n;
}

/* The package names an `apt-get install` in a RUN line installs (after the last "install"). */
static size_t apt_packages(const char *run, char **pkgs, size_t max)
{
	const char *p = strstr(run, "apt-get install");
	size_t n = 0;

	cr_assert_not_null(p, "no apt-get install in: %s", run);
	p += strlen("apt-get install");
	while (*p && strncmp(p, "&&", 2)) {
		size_t len;

		while (isspace((unsigned char)*p))
			p++;
		len = strcspn(p, " \t");
		if (len && *p != '-' && strncmp(p, "&&", 2)) {
			cr_assert_lt(n, max);
			pkgs[n++] = strndup(p, len);
		}
		p += len;
	}
	return n;
}

/* The Debian package holding a shared library, found through ldd's path and dpkg -S. */
static char *library_package(const char *ldd, const char *soname)
{
	char pattern[PATH_MAX + 8], path[PATH_MAX], *pkg = NULL;
	const char *at = strstr(ldd, soname);

	cr_assert_not_null(at, "ldd lists no %s", soname);
	at = strstr(at, "=> ");
	cr_assert_not_null(at);
	snprintf(path, sizeof(path), "%.*s", (int)strcspn(at + 3, " \n"), at + 3);
	/* merged /usr: the package may have registered either spelling of the directory */
	for (int variant = 0; variant < 2 && !pkg; variant++) {
		char *argv[] = {"dpkg", "-S", pattern, NULL};
		struct zt_proc p;

		if (variant == 0)
			snprintf(pattern, sizeof(pattern), "%s", path);
		else if (!strncmp(path, "/usr/", 5))
			snprintf(pattern, sizeof(pattern), "%s", path + 4);
		else
			snprintf(pattern, sizeof(pattern), "/usr%s", path);
		if (zt_run(&p, argv, NULL, TOOL_MS) == 0) {
			const char *out = zt_proc_text(&p, ZT_STDOUT);

			pkg = strndup(out, strcspn(out, ":"));
		}
		zt_proc_free(&p);
	}
	cr_assert_not_null(pkg, "no Debian package holds %s", path);
	return pkg;
}

Test(deploy, dockerfile_stages_packages_and_entrypoint)
{
	static const char *const compilers[] = {"gcc", "clang", "llvm", "make", "bpftool"};
	char *text = slurp(DEPLOY "Dockerfile"), *lines[128], *runtime[MAX_WORDS];
	char *entry[MAX_WORDS], *copy_dest = NULL;
	size_t n = docker_instructions(text, lines, 128), stage = 0, nrt = 0, nentry = 0;
	struct zt_proc p;

	for (size_t i = 0; i < n; i++) {
		if (!strncmp(lines[i], "FROM ", 5)) {
			stage++;
			if (stage == 1)
				cr_assert_str_eq(lines[i], "FROM debian:bookworm AS build");
			else
				cr_assert_str_eq(lines[i], "FROM debian:bookworm-slim");
		} else if (stage == 2 && !strncmp(lines[i], "RUN ", 4)) {
			nrt += apt_packages(lines[i], runtime + nrt, MAX_WORDS - nrt);
		} else if (stage == 2 && !strncmp(lines[i], "COPY --from=build ", 18)) {
			copy_dest = strrchr(lines[i], ' ') + 1;
		} else if (stage == 2 && !strncmp(lines[i], "ENTRYPOINT ", 11)) {
			/* exec form: a JSON array of plain strings */
			const char *q = strchr(lines[i], '[');

			cr_assert_not_null(q, "ENTRYPOINT is not in exec form");
			while ((q = strchr(q, '"'))) {
				size_t len = strcspn(q + 1, "\"");

				cr_assert_lt(nentry, MAX_WORDS);
				entry[nentry++] = strndup(q + 1, len);
				q += len + 2;
			}
		} else if (stage == 1 && !strncmp(lines[i], "RUN make", 8)) {
			cr_assert(strstr(lines[i], "ztrace"), "the build stage builds: %s",
				  lines[i]);
		}
	}
	cr_assert_eq(stage, 2, "two stages");

	/* the runtime stage: no compiler, no -dev package */
	for (size_t i = 0; i < nrt; i++) {
		cr_assert_null(strstr(runtime[i], "-dev"), "runtime installs %s", runtime[i]);
		for (size_t j = 0; j < sizeof(compilers) / sizeof(compilers[0]); j++)
			cr_assert_str_neq(runtime[i], compilers[j], "runtime installs a compiler");
	}

	/* the entry point runs the copied binary as the agent, with flags the binary knows */
	cr_assert_not_null(copy_dest, "no COPY --from=build");
	cr_assert_str_eq(copy_dest, BIN_PATH);
	cr_assert_eq(nentry, 4);
	cr_assert_str_eq(entry[0], BIN_PATH);
	cr_assert_str_eq(entry[1], "agent");
	cr_assert_str_eq(entry[2], "--config");
	cr_assert_str_eq(entry[3], CONFIG_PATH);
	assert_flags_known(entry, nentry, "the Dockerfile's ENTRYPOINT");

	/* every library the binary links (but libc, in the base image) comes from a runtime
	 * package */
	{
		char *readelf_argv[] = {"readelf", "-d", ztrace_bin, NULL};
		char *ldd_argv[] = {"ldd", ztrace_bin, NULL};
		struct zt_proc l;
		size_t needed = 0;

		run_expect(&p, readelf_argv, 0);
		run_expect(&l, ldd_argv, 0);
		for (const char *s = strstr(zt_proc_text(&p, ZT_STDOUT), "Shared library: ["); s;
		     s = strstr(s + 1, "Shared library: [")) {
			char soname[128], *pkg;
			bool found = false;

			snprintf(soname, sizeof(soname), "%.*s", (int)strcspn(s + 17, "]"), s + 17);
			if (!strcmp(soname, "libc.so.6") || !strcmp(soname, "libm.so.6"))
				continue;
			pkg = library_package(zt_proc_text(&l, ZT_STDOUT), soname);
			for (size_t i = 0; i < nrt; i++)
				found |= !strcmp(runtime[i], pkg);
			cr_assert(found,
				  "ztrace links %s from %s, which the runtime stage does not "
				  "install",
				  soname, pkg);
			free(pkg);
			needed++;
		}
		cr_assert_geq(needed, 5, "libbpf, libelf, zlib, libmicrohttpd, libcurl (libyaml)");
		zt_proc_free(&l);
		zt_proc_free(&p);
	}
	for (size_t i = 0; i < nrt; i++)
		free(runtime[i]);
	for (size_t i = 0; i < nentry; i++)
		free(entry[i]);
	free(text);
}

/* ---- Prometheus rules ---- */

/* The expr of every rule in alerts.yaml. */
static size_t alert_exprs(struct ydocs *d, char **exprs)
{
	yaml_document_t *doc = &d->doc[0];
	yaml_node_t *groups = yget(doc, yaml_document_get_root_node(doc), "groups");
	size_t n = 0;

	cr_assert_not_null(groups);
	for (size_t g = 0; g < ylen(groups); g++) {
		yaml_node_t *rules = yget(doc, yat(doc, groups, g), "rules");

		for (size_t r = 0; rules && r < ylen(rules); r++) {
			cr_assert_lt(n, MAX_WORDS);
			exprs[n++] = (char *)ystr(doc, yat(doc, rules, r), "expr");
		}
	}
	return n;
}

Test(deploy, alert_rules_pass_promtool_and_their_tests)
{
	char *check_argv[] = {"promtool", "check", "rules", DEPLOY "alerts.yaml", NULL};
	char *test_argv[] = {"promtool", "test", "rules", DEPLOY "alerts_test.yaml", NULL};
	struct names exported = {0}, used = {0};
	char *exprs[MAX_WORDS];
	struct zt_proc p;
	struct ydocs d;
	size_t n;

	run_expect(&p, check_argv, 0);
	cr_assert(strstr(zt_proc_text(&p, ZT_STDOUT), "SUCCESS: 5 rules found"), "%s",
		  zt_proc_text(&p, ZT_STDOUT));
	zt_proc_free(&p);
	run_expect(&p, test_argv, 0);
	cr_assert(strstr(zt_proc_text(&p, ZT_STDOUT), "SUCCESS"), "%s",
		  zt_proc_text(&p, ZT_STDOUT));
	zt_proc_free(&p);

	yload(DEPLOY "alerts.yaml", &d);
	n = alert_exprs(&d, exprs);
	cr_assert_eq(n, 5);
	exported_names(&exported);
	for (size_t i = 0; i < n; i++)
		promql_names(exprs[i], &used);
	for (size_t i = 0; i < used.n; i++)
		cr_assert(names_has(&exported, used.v[i]) || !strcmp(used.v[i], "up"),
			  "alerts.yaml uses %s, which ztrace does not export", used.v[i]);
	cr_assert(names_has(&used, "ztrace_function_errors_total"));
	cr_assert(names_has(&used, "ztrace_function_calls_total"));
	cr_assert(names_has(&used, "ztrace_function_duration_seconds_bucket"));
	cr_assert(names_has(&used, "ztrace_events_total"));
	names_free(&exported);
	names_free(&used);
	yfree(&d);
}

/* ---- Grafana ---- */

/* python3 prints every "expr" of the dashboard (rows' nested panels too), one per line. */
static const char *const list_exprs_py =
    "import json, sys\n"
    "d = json.load(open(sys.argv[1]))\n"
    "def walk(panels):\n"
    "    for p in panels:\n"
    "        for t in p.get('targets', []):\n"
    "            print(t['expr'].replace('\\n', ' '))\n"
    "        walk(p.get('panels', []))\n"
    "walk(d['panels'])\n"
    "for v in d['templating']['list']:\n"
    "    q = v.get('query')\n"
    "    if isinstance(q, dict):\n"
    "        print(q['query'].replace('label_values(', '').split(',')[0])\n";

Test(deploy, grafana_dashboard_queries_are_promql_on_exported_metrics)
{
	char *tool_argv[] = {"python3", "-m", "json.tool", DEPLOY "grafana-dashboard.json", NULL};
	char *list_argv[] = {"python3", "-c", (char *)list_exprs_py,
			     DEPLOY "grafana-dashboard.json", NULL};
	char dir[] = "/tmp/zt-deploy-XXXXXX", rules_path[PATH_MAX];
	struct names exported = {0}, used = {0};
	char *check_argv[] = {"promtool", "check", "rules", rules_path, NULL};
	size_t nexpr = 0, cap = 1 << 16, len = 0;
	char *rules = malloc(cap), *text;
	struct zt_proc p;

	run_expect(&p, tool_argv, 0);
	zt_proc_free(&p);
	run_expect(&p, list_argv, 0);
	text = strdup(zt_proc_text(&p, ZT_STDOUT));
	zt_proc_free(&p);

	/* every query as a recording rule, Grafana's variables given values, for promtool */
	cr_assert_not_null(rules);
	len += snprintf(rules, cap, "groups:\n  - name: dashboard\n    rules:\n");
	for (char *line = strtok(text, "\n"); line; line = strtok(NULL, "\n")) {
		char expr[4096] = "";
		const char *s = line;

		promql_names(line, &used);
		while (*s && strlen(expr) < sizeof(expr) - 32) {
			if (!strncmp(s, "$__rate_interval", 16)) {
				strcat(expr, "5m");
				s += 16;
			} else if (*s == '$') {
				strcat(expr, ".*");
				for (s++; isalnum((unsigned char)*s) || *s == '_'; s++)
					;
			} else if (*s == '\'') {
				strcat(expr, "''");
				s++;
			} else {
				strncat(expr, s++, 1);
			}
		}
		len += snprintf(rules + len, cap - len,
				"      - record: dashboard:query%zu\n        expr: '%s'\n", nexpr++,
				expr);
		cr_assert_lt(len, cap);
	}
	cr_assert_geq(nexpr, 12, "panels for calls, errors, p50, p99, syscalls, capture, export");
	cr_assert_not_null(mkdtemp(dir));
	snprintf(rules_path, sizeof(rules_path), "%s/dashboard.rules.yaml", dir);
	spill(rules_path, rules);
	run_expect(&p, check_argv, 0);
	zt_proc_free(&p);
	unlink(rules_path);
	rmdir(dir);

	exported_names(&exported);
	for (size_t i = 0; i < used.n; i++)
		cr_assert(names_has(&exported, used.v[i]),
			  "the dashboard queries %s, which ztrace does not export", used.v[i]);
	{
		static const char *const wanted[] = {
		    "ztrace_function_calls_total",
		    "ztrace_function_errors_total",
		    "ztrace_function_duration_seconds_bucket",
		    "ztrace_syscalls_total",
		    "ztrace_syscall_errors_total",
		    "ztrace_events_total",
		    "ztrace_spans_exported_total",
		};

		for (size_t i = 0; i < sizeof(wanted) / sizeof(wanted[0]); i++)
			cr_assert(names_has(&used, wanted[i]), "no panel shows %s", wanted[i]);
	}
	names_free(&exported);
	names_free(&used);
	free(text);
	free(rules);
}

/* ---- systemd ---- */

Test(deploy, systemd_unit_verifies_and_passes_known_flags)
{
	static const char *const units[] = {"sysinit.target", "basic.target", "multi-user.target",
					    "network-online.target", "shutdown.target"};
	char root[] = "/tmp/zt-deploy-XXXXXX", path[PATH_MAX], unit_path[PATH_MAX];
	char *unit = slurp(DEPLOY "ztrace.service"), *words[MAX_WORDS];
	char *verify_argv[] = {"systemd-analyze", "verify", NULL, "--man=no", unit_path, NULL};
	char root_opt[PATH_MAX + 8];
	struct zt_proc p;
	size_t n = 0;

	/* the unit in a root of its own where its binaries exist, with the targets it names */
	cr_assert_not_null(mkdtemp(root));
	snprintf(root_opt, sizeof(root_opt), "--root=%s", root);
	verify_argv[2] = root_opt;
	{
		char script[4 * PATH_MAX];
		char *sh_argv[] = {"sh", "-c", script, NULL};
		size_t off;

		off = snprintf(script, sizeof(script),
			       "set -e; cd %s; mkdir -p usr/local/sbin bin etc/systemd/system "
			       "usr/lib/systemd/system; cp %s usr/local/sbin/ztrace; cp /bin/kill "
			       "bin/kill; cp %s/" DEPLOY "ztrace.service etc/systemd/system/",
			       root, ztrace_bin, getcwd(path, sizeof(path)));
		for (size_t i = 0; i < sizeof(units) / sizeof(units[0]); i++)
			off += snprintf(script + off, sizeof(script) - off,
					"; cp /usr/lib/systemd/system/%s usr/lib/systemd/system/",
					units[i]);
		run_expect(&p, sh_argv, 0);
		zt_proc_free(&p);
	}
	snprintf(unit_path, sizeof(unit_path), "%s/etc/systemd/system/ztrace.service", root);
	run_expect(&p, verify_argv, 0);
	/* systemd-analyze exits 0 on unknown keys and bad values: it only warns */
	cr_assert_str_eq(zt_proc_text(&p, ZT_STDERR), "", "systemd-analyze verify warns:\n%s",
			 zt_proc_text(&p, ZT_STDERR));
	zt_proc_free(&p);
	{
		char *rm_argv[] = {"rm", "-rf", root, NULL};

		run_expect(&p, rm_argv, 0);
		zt_proc_free(&p);
	}

	/* ExecStart runs the agent on the config; every Exec line's flags are the binary's */
	for (char *line = strtok(unit, "\n"); line; line = strtok(NULL, "\n")) {
		if (strncmp(line, "Exec", 4) ||
		    strncmp(strchr(line, '=') + 1, BIN_PATH, strlen(BIN_PATH)))
			continue;
		if (!strncmp(line, "ExecStart=", 10))
			cr_assert_str_eq(line,
					 "ExecStart=" BIN_PATH " agent --config " CONFIG_PATH);
		for (char *w = strchr(line, '=') + 1; *w;) {
			size_t len = strcspn(w, " ");

			cr_assert_lt(n, MAX_WORDS);
			words[n++] = strndup(w, len);
			w += len + !!w[len];
		}
	}
	cr_assert_geq(n, 4, "no ExecStart running " BIN_PATH);
	assert_flags_known(words, n, "ztrace.service");
	for (size_t i = 0; i < n; i++)
		free(words[i]);
	free(unit);
}
