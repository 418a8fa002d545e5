/* SPDX-License-Identifier: MIT */
/*
 * `ztrace agent` and processes in containers, without a container runtime: the target runs in
 * a new mount namespace (unshare -m) from a bind mount at /opt/app/orders on a tmpfs, in a
 * cgroup v2 directory named as a runtime names its scope (docker-<id>.scope, or a Kubernetes
 * pod's kubepods-besteffort-pod<uid>.slice/cri-containerd-<id>.scope next to a fake kubelet
 * pods directory). Rules select it by its host path, by its path inside the namespace, and by
 * Kubernetes namespace and pod; its spans (into the OTLP receiver of tests/peers, and in the
 * agent's record file) and its /metrics series carry the container id and the pod.
 *
 * Needs root, a cgroup v2 hierarchy (found in /proc/self/mountinfo: /sys/fs/cgroup, or
 * /sys/fs/cgroup/unified on hybrid hosts), unshare(1) and the OTLP receiver (make peers).
 */
#include <criterion/criterion.h>
#include <errno.h>
#include <limits.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/jsonl.h"
#include "common/otlp_receiver.h"
#include "common/runproc.h"
#include "common/testenv.h"

#define START_MS    10000 /* the agent prints "agent running" */
#define RUN_MS	    10000 /* a target, curl, the agent's exit */
#define SETTLE_MS   1500  /* > the agent's 1 s metrics refresh */
#define ORDERS	    5	  /* orders --orders 5: process_order is called 5 times */
#define CGROUP2_LEN 256	  /* room for the cgroup2 mount point */

#define CONTAINER_ID  "4f1c2b3a5d6e7f8091a2b3c4d5e6f708192a3b4c5d6e7f8091a2b3c4d5e6f708"
#define POD_UID	      "5b2e9f3c-1a7d-4e8b-9c0d-2f6a4b8e1d3c"
#define POD_UID_US    "5b2e9f3c_1a7d_4e8b_9c0d_2f6a4b8e1d3c" /* as the systemd driver writes it */
#define OTHER_POD_UID "5b2e9f3c-1a7d-4e8b-9c0d-2f6a4b8e1d3d"
#define POD_NS	      "shop"
#define POD_NAME      "orders-7d9f8c6b5-x2x4q"
#define POD_CID	      "9e8d7c6b5a4f3e2d1c0b9a8f7e6d5c4b3a2f1e0d9c8b7a6f5e4d3c2b1a0f9e8d"

static char ztrace_bin[PATH_MAX], orders_bin[PATH_MAX], pricing_lib[PATH_MAX];
static char cgroup2[CGROUP2_LEN];	  /* where the cgroup v2 hierarchy is mounted */
static char test_slice[CGROUP2_LEN + 64]; /* <cgroup2>/ztrace-test-<pid>.slice: removed after */
static char config[PATH_MAX], pods_dir[PATH_MAX], record[PATH_MAX];
static int metrics_port;
static char last_metrics[16384]; /* the last /metrics text read, for failure messages */

/* The mount point of the cgroup2 file system into out, or "" when there is none. */
static void find_cgroup2(char *out, size_t len)
{
	FILE *f = fopen("/proc/self/mountinfo", "r");
	char line[1024], point[CGROUP2_LEN], type[64];

	out[0] = '\0';
	cr_assert_not_null(f);
	while (fgets(line, sizeof(line), f)) {
		const char *dash = strstr(line, " - ");

		if (dash && sscanf(dash, " - %63s", type) == 1 && !strcmp(type, "cgroup2") &&
		    sscanf(line, "%*s %*s %*s %*s %255s", point) == 1) {
			snprintf(out, len, "%s", point);
			break;
		}
	}
	fclose(f);
}

static void setup(void)
{
	if (geteuid() != 0)
		cr_skip_test("integration tests load BPF programs: run as root");
	find_cgroup2(cgroup2, sizeof(cgroup2));
	if (!cgroup2[0])
		cr_skip_test("no cgroup v2 hierarchy is mounted (cgroup2 in /proc/self/mountinfo)");
	zt_output_path(ztrace_bin, "ztrace");
	zt_output_path(orders_bin, "targets/orders");
	zt_output_path(pricing_lib, "targets/libpricing.so");
	zt_receiver_setup();
	snprintf(test_slice, sizeof(test_slice), "%s/ztrace-test-%d.slice", cgroup2, (int)getpid());
	snprintf(config, sizeof(config), "/tmp/zt-agent-containers-%d.yaml", (int)getpid());
	snprintf(record, sizeof(record), "/tmp/zt-agent-containers-%d.zt", (int)getpid());
	snprintf(pods_dir, sizeof(pods_dir), "/tmp/zt-pods-XXXXXX");
	cr_assert_not_null(mkdtemp(pods_dir));
	metrics_port = zt_free_port();
}

/* Remove the cgroup directories below dir, innermost first (they are empty by now). */
static void remove_cgroups(const char *dir)
{
	char cmd[PATH_MAX + 64];

	snprintf(cmd, sizeof(cmd), "find '%s' -depth -type d -exec rmdir {} + 2>/dev/null", dir);
	if (access(dir, F_OK) == 0 && system(cmd) != 0)
		cr_log_warn("cannot remove %s", dir);
}

static void teardown(void)
{
	char cmd[PATH_MAX + 16];

	if (test_slice[0])
		remove_cgroups(test_slice);
	unlink(config);
	unlink(record);
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", pods_dir);
	if (pods_dir[0] && system(cmd) != 0)
		cr_log_warn("cannot remove %s", pods_dir);
}

TestSuite(agent_containers, .init = setup, .fini = teardown, .timeout = 90);

/* A config exporting to the receiver on otlp_port with one rule: match (YAML lines) and
 * process_order. */
static void write_config(int otlp_port, const char *match)
{
	FILE *f = fopen(config, "w");

	cr_assert(f);
	fprintf(f,
		"log_level: info\n"
		"metrics_addr: 127.0.0.1:%d\n"
		"k8s_pods_dir: %s\n"
		"otlp:\n"
		"  endpoint: http://127.0.0.1:%d\n"
		"record:\n"
		"  path: %s\n"
		"rules:\n"
		"  - name: shop\n"
		"    match:\n"
		"%s"
		"    probes: [process_order]\n",
		metrics_port, pods_dir, otlp_port, record, match);
	fclose(f);
}

/* mkdir -p of a cgroup path below the test slice; returns the full path in out. */
static void make_cgroup(const char *rel, char *out, size_t len)
{
	char cmd[2 * PATH_MAX];
	int n;

	n = snprintf(out, len, "%s/%s", test_slice, rel);
	cr_assert_lt((size_t)n, len);
	snprintf(cmd, sizeof(cmd), "mkdir -p '%s'", out);
	cr_assert_eq(system(cmd), 0, "cannot create the cgroup %s", out);
}

/*
 * Start orders --wait in cgroup cg, in a new mount namespace where it runs from a bind mount
 * at /opt/app/orders (its library next to it, found through $ORIGIN) on a tmpfs over /opt.
 * Returns once it printed "ready PID": its pid is t->pid (sh, unshare and orders exec in turn).
 */
static void start_contained(struct zt_proc *t, const char *cg)
{
	char script[4 * PATH_MAX], line[64];
	char *argv[] = {"sh", "-c", script, NULL};

	snprintf(script, sizeof(script),
		 "echo $$ > '%s/cgroup.procs' && exec unshare -m sh -c '"
		 "mount -t tmpfs ztrace-test /opt && mkdir /opt/app && "
		 "touch /opt/app/orders /opt/app/libpricing.so && "
		 "mount --bind %s /opt/app/orders && mount --bind %s /opt/app/libpricing.so && "
		 "exec /opt/app/orders --orders %d --threads 1 --wait'",
		 cg, orders_bin, pricing_lib, ORDERS);
	cr_assert_eq(zt_proc_spawn(t, argv, NULL), 0);
	cr_assert_eq(zt_proc_wait_line(t, ZT_STDOUT, "ready", START_MS, line, sizeof(line)), 0,
		     "%s", zt_proc_text(t, ZT_STDERR));
	cr_assert_eq(atoi(line + strlen("ready ")), (int)t->pid, "%s", line);
}

static void start_agent(struct zt_proc *agent)
{
	char *argv[] = {ztrace_bin, "agent", "--config", config, NULL};

	cr_assert_eq(zt_proc_spawn(agent, argv, NULL), 0);
	cr_assert_eq(zt_proc_wait_line(agent, ZT_STDERR, "agent running", START_MS, NULL, 0), 0,
		     "%s", zt_proc_text(agent, ZT_STDERR));
}

/* The agent selected pid (it logs "tracing pid PID"), then let the target run to its end. */
static void run_selected(struct zt_proc *agent, struct zt_proc *t)
{
	char needle[96];

	snprintf(needle, sizeof(needle), "tracing pid %d (/opt/app/orders)", (int)t->pid);
	cr_assert_eq(zt_proc_wait_line(agent, ZT_STDERR, needle, RUN_MS, NULL, 0), 0, "%s",
		     zt_proc_text(agent, ZT_STDERR));
	cr_assert_eq(zt_proc_write(t, "g", 1), 0);
	cr_assert_eq(zt_proc_wait(t, RUN_MS), 0, "%s", zt_proc_text(t, ZT_STDERR));
}

/* The value of the /metrics line that starts with prefix, or -1 when there is none. */
static long long metric(const char *prefix)
{
	char url[64], *argv[] = {"curl", "-s", url, NULL};
	struct zt_proc p = {0};
	const char *text, *line;
	long long v = -1;

	snprintf(url, sizeof(url), "http://127.0.0.1:%d/metrics", metrics_port);
	cr_assert_eq(zt_run(&p, argv, NULL, RUN_MS), 0);
	text = zt_proc_text(&p, ZT_STDOUT);
	snprintf(last_metrics, sizeof(last_metrics), "%s", text);
	for (line = text; line && *line; line = strchr(line, '\n') ? strchr(line, '\n') + 1 : NULL)
		if (!strncmp(line, prefix, strlen(prefix)))
			v = atoll(line + strlen(prefix));
	zt_proc_free(&p);
	return v;
}

/* process_order's call counter of pid, with the container labels the series must carry. */
static long long calls_of(pid_t pid, const char *container_labels)
{
	char prefix[512];

	snprintf(
	    prefix, sizeof(prefix),
	    "ztrace_function_calls_total{pid=\"%d\",comm=\"orders\",function=\"process_order\","
	    "binary=\"/opt/app/orders\"%s} ",
	    (int)pid, container_labels);
	return metric(prefix);
}

/* Exactly ORDERS process_order spans of pid arrived, each with every {k, v} of kv (ended by
 * {NULL, NULL}) in its resource. */
static void expect_spans(const struct zt_received *rcv, pid_t pid, const char *const (*kv)[2])
{
	char num[16];
	size_t n = 0;

	snprintf(num, sizeof(num), "%d", (int)pid);
	for (size_t i = 0; i < rcv->n; i++) {
		const char *resource = rcv->cols[i][C_RESOURCE];

		if (strcmp(rcv->cols[i][C_PID], num))
			continue;
		cr_assert_str_eq(rcv->cols[i][C_NAME], "process_order");
		for (const char *const(*p)[2] = kv; (*p)[0]; p++)
			cr_expect(zt_kv_has(resource, (*p)[0], (*p)[1]), "no %s=%s in %s", (*p)[0],
				  (*p)[1], resource);
		n++;
	}
	cr_assert_eq(n, ORDERS, "%zu spans of pid %d, want %d", n, (int)pid, ORDERS);
}

/* The record file has exactly ORDERS spans of pid, each with its container id (the record file
 * keeps a process's container, not its pod). */
static void expect_record(pid_t pid, const char *container_id)
{
	char *argv[] = {ztrace_bin, "export", record, "--format", "jsonl", NULL};
	char err[256], want[128];
	struct zt_spans spans = {0};
	struct zt_proc p = {0};
	size_t n = 0;

	cr_assert_eq(zt_run(&p, argv, NULL, RUN_MS), 0, "%s", zt_proc_text(&p, ZT_STDERR));
	cr_assert_eq(zt_jsonl_parse(zt_proc_text(&p, ZT_STDOUT), &spans, err, sizeof(err)), 0, "%s",
		     err);
	snprintf(want, sizeof(want), "\"container.id\":\"%s\"", container_id);
	for (size_t i = 0; i < spans.n; i++) {
		if (spans.v[i].pid != pid)
			continue;
		cr_expect(spans.v[i].attributes && strstr(spans.v[i].attributes, want), "%s",
			  spans.v[i].attributes);
		n++;
	}
	cr_assert_eq(n, ORDERS, "%zu spans of pid %d in the record file", n, (int)pid);
	zt_spans_free(&spans);
	zt_proc_free(&p);
}

/* One test's agent and the OTLP receiver it exports to. */
struct run {
	struct zt_proc agent;
	struct zt_receiver r;
};

/* Start the receiver, then the agent with one rule: match (YAML lines). */
static void begin(struct run *run, const char *match)
{
	memset(run, 0, sizeof(*run));
	zt_receiver_dir(&run->r);
	zt_receiver_start(&run->r, 0, NULL);
	write_config(run->r.port, match);
	start_agent(&run->agent);
}

/* Stop the agent (its exporter flushes) and the receiver: exactly ORDERS spans of pid, with kv
 * in their resource, arrived; the record file has them too. kv starts with container.id. */
static void end(struct run *run, pid_t pid, const char *const (*kv)[2])
{
	struct zt_received rcv;

	zt_proc_signal(&run->agent, SIGINT);
	cr_assert_eq(zt_proc_wait(&run->agent, RUN_MS), 0, "%s",
		     zt_proc_text(&run->agent, ZT_STDERR));
	zt_receiver_stop(&run->r);
	zt_read_received(&run->r, &rcv);
	expect_spans(&rcv, pid, kv);
	zt_received_free(&rcv);
	zt_receiver_cleanup(&run->r);
	zt_proc_free(&run->agent);
	expect_record(pid, kv[0][1]);
}

/* A rule on the host path of the file a container runs from a bind mount selects it. */
Test(agent_containers, host_path_rule_selects_a_process_in_another_mount_namespace)
{
	static const char *const kv[][2] = {{"container.id", CONTAINER_ID},
					    {"process.executable.path", "/opt/app/orders"},
					    {NULL, NULL}};
	char match[PATH_MAX + 32], cg[PATH_MAX];
	struct zt_proc t = {0};
	struct run run;

	snprintf(match, sizeof(match), "      exe: \"%s\"\n", orders_bin);
	make_cgroup("docker-" CONTAINER_ID ".scope", cg, sizeof(cg));
	begin(&run, match);
	start_contained(&t, cg);
	run_selected(&run.agent, &t);
	usleep(SETTLE_MS * 1000);
	cr_assert_eq(calls_of(t.pid, ",container_id=\"" CONTAINER_ID "\""), ORDERS, "%s",
		     last_metrics);
	end(&run, t.pid, kv);
	zt_proc_free(&t);
}

/* A rule on the path inside the namespace selects it too, and not a host process of the file. */
Test(agent_containers, in_namespace_path_rule_selects_it_and_not_the_host_process)
{
	static const char *const kv[][2] = {{"container.id", CONTAINER_ID}, {NULL, NULL}};
	char *host_argv[] = {orders_bin, "--orders", "2", "--threads", "1", "--quiet", NULL};
	struct zt_proc t = {0}, host = {0};
	char cg[PATH_MAX], prefix[128];
	struct run run;

	make_cgroup("docker-" CONTAINER_ID ".scope", cg, sizeof(cg));
	begin(&run, "      exe: \"/opt/app/*\"\n");
	start_contained(&t, cg);
	run_selected(&run.agent, &t);
	cr_assert_eq(zt_run(&host, host_argv, NULL, RUN_MS), 0);
	usleep(SETTLE_MS * 1000);
	cr_assert_eq(calls_of(t.pid, ",container_id=\"" CONTAINER_ID "\""), ORDERS, "%s",
		     last_metrics);
	snprintf(prefix, sizeof(prefix), "ztrace_function_calls_total{pid=\"%d\"", (int)host.pid);
	cr_assert_eq(metric(prefix), -1, "orders run from its host path is not under /opt/app");
	end(&run, t.pid, kv);
	zt_proc_free(&host);
	zt_proc_free(&t);
}

/* A pod's container is selected by namespace and pod name and carries the k8s attributes. */
Test(agent_containers, k8s_namespace_and_pod_rule_selects_a_pod_container)
{
	/* the whole pod is selected, its shell too: what orders execs replaces what was read */
	static const char *const kv[][2] = {{"container.id", POD_CID},
					    {"k8s.pod.uid", POD_UID},
					    {"k8s.namespace.name", POD_NS},
					    {"k8s.pod.name", POD_NAME},
					    {"process.executable.path", "/opt/app/orders"},
					    {"service.name", "orders"},
					    {NULL, NULL}};
	char cg[PATH_MAX], other_cg[PATH_MAX], entry[2 * PATH_MAX];
	struct zt_proc t = {0}, other = {0};
	struct run run;

	/* the kubelet's log directory of the pod, and one of another namespace's pod */
	snprintf(entry, sizeof(entry), "%s/" POD_NS "_" POD_NAME "_" POD_UID, pods_dir);
	cr_assert_eq(mkdir(entry, 0755), 0, "%s: %s", entry, strerror(errno));
	snprintf(entry, sizeof(entry), "%s/billing_" POD_NAME "_" OTHER_POD_UID, pods_dir);
	cr_assert_eq(mkdir(entry, 0755), 0, "%s: %s", entry, strerror(errno));
	make_cgroup("kubepods.slice/kubepods-besteffort.slice/kubepods-besteffort-pod" POD_UID_US
		    ".slice/cri-containerd-" POD_CID ".scope",
		    cg, sizeof(cg));
	/* a container of no pod the pods directory knows: not selected */
	make_cgroup("docker-" CONTAINER_ID ".scope", other_cg, sizeof(other_cg));
	begin(&run, "      k8s_namespace: " POD_NS "\n"
		    "      k8s_pod: \"orders-*\"\n");
	start_contained(&other, other_cg);
	start_contained(&t, cg);
	run_selected(&run.agent, &t);
	cr_assert_eq(zt_proc_write(&other, "g", 1), 0);
	cr_assert_eq(zt_proc_wait(&other, RUN_MS), 0);
	usleep(SETTLE_MS * 1000);
	cr_assert_eq(calls_of(t.pid, ",container_id=\"" POD_CID "\",k8s_namespace=\"" POD_NS
				     "\",k8s_pod=\"" POD_NAME "\""),
		     ORDERS, "%s", last_metrics);
	cr_assert_eq(calls_of(other.pid, ",container_id=\"" CONTAINER_ID "\""), -1);
	end(&run, t.pid, kv);
	zt_proc_free(&other);
	zt_proc_free(&t);
}
