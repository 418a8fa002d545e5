// SPDX-License-Identifier: MIT
/*
 * The agent config: a file with every setting loads into exactly those values, defaults fill
 * a minimal one, and each kind of mistake gets its exact message with FILE:LINE:COLUMN. Then
 * rule matching against process identities, rule equality for reloads, sizes, and the
 * --check-config command's output and exit codes.
 */
#include <criterion/criterion.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "agent_config.h"
#include "cmd_agent_check.h"
#include "export_otlp.h"
#include "unit/fixtures/fixture_path.h"
#include "ztrace/limits.h"

#define ERRLEN 1024
#define MiB    (1ull << 20)

static void assert_str(const char *got, const char *want, const char *what)
{
	if (!want)
		cr_assert_null(got, "%s: want NULL, got '%s'", what, got);
	else
		cr_assert(got && !strcmp(got, want), "%s: got '%s', want '%s'", what,
			  got ? got : "(null)", want);
}

/* Write text to agent.yaml in a fresh directory and load it by that relative name, so that
 * messages start "agent.yaml:". Returns what zt_agent_config_load() returns. */
static int load_text(const char *text, struct zt_agent_config *c, char *err)
{
	char dir[] = "/tmp/zt-agent-config-XXXXXX";
	int fd, ret;

	cr_assert_not_null(mkdtemp(dir));
	cr_assert_eq(chdir(dir), 0);
	fd = open("agent.yaml", O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	cr_assert_geq(fd, 0);
	cr_assert_eq(write(fd, text, strlen(text)), (ssize_t)strlen(text));
	close(fd);
	ret = zt_agent_config_load("agent.yaml", c, err, ERRLEN);
	unlink("agent.yaml");
	cr_assert_eq(chdir("/"), 0);
	rmdir(dir);
	return ret;
}

Test(agent_config, full_file_exact_contents)
{
	struct zt_agent_config c;
	const struct zt_agent_rule *r;
	char path[PATH_MAX], err[ERRLEN];
	int ret;

	zt_fixture(path, "agent/full.yaml");
	ret = zt_agent_config_load(path, &c, err, sizeof(err));
	cr_assert_eq(ret, 0, "%d: %s", ret, err);
	assert_str(c.path, path, "path");
	cr_assert_eq(c.log_format, ZT_AGENT_LOG_JSON);
	cr_assert_eq(c.log_level, ZT_LOG_DEBUG);
	cr_assert_eq(c.max_memory, 32 * MiB);
	assert_str(c.metrics_addr, "127.0.0.1:9464", "metrics_addr");
	assert_str(c.otlp.endpoint, "http://otel-collector:4318", "otlp.endpoint");
	cr_assert_eq(c.otlp.json, 1);
	cr_assert_eq(c.otlp.gzip, 0);
	assert_str(c.otlp.headers, "authorization=Bearer x,x-tenant=shop", "otlp.headers");
	cr_assert_eq(c.otlp.timeout_ms, 2500);
	assert_str(c.record.path, "/var/lib/ztrace/agent.zt", "record.path");
	cr_assert_eq(c.record.max_size, 128 * MiB);
	cr_assert_eq(c.record.keep, 5);
	cr_assert_eq(c.nrules, 2);

	r = &c.rules[0];
	assert_str(r->name, "orders", "name");
	cr_assert_eq(r->line, 17);
	assert_str(r->match.exe, "/usr/local/bin/orders*", "exe");
	assert_str(r->match.comm, "orders", "comm");
	assert_str(r->match.cgroup, "*/kubepods*", "cgroup");
	assert_str(r->match.container_id, "3f2a9c1b7d4e", "container_id");
	assert_str(r->match.k8s_namespace, "shop", "k8s_namespace");
	assert_str(r->match.k8s_pod, "orders-*", "k8s_pod");
	cr_assert_eq(r->match.n_k8s_pod_labels, 2);
	assert_str(r->match.k8s_pod_labels[0], "app=orders", "label 0");
	assert_str(r->match.k8s_pod_labels[1], "tier", "label 1");
	cr_assert_eq(r->nprobes, 2);
	assert_str(r->probes[0], "process_order", "probe 0");
	assert_str(r->probes[1], "u:libc:malloc", "probe 1");
	cr_assert_eq(r->syscalls, true);
	assert_str(r->syscall_list, "read,write", "syscall_list");
	cr_assert_eq(r->min_duration_ns, 1000000);
	cr_assert_eq(r->sample, 0.25);
	cr_assert_eq(r->has_error_rule, true);
	cr_assert(zt_error_rule_match(&r->error_rule, -1));
	cr_assert_not(zt_error_rule_match(&r->error_rule, 0));
	cr_assert_eq(r->ret32, true);

	r = &c.rules[1];
	assert_str(r->name, "db", "name");
	cr_assert_eq(r->line, 32);
	assert_str(r->match.exe, NULL, "exe");
	assert_str(r->match.comm, "postgres*", "comm");
	cr_assert_eq(r->match.n_k8s_pod_labels, 1);
	assert_str(r->match.k8s_pod_labels[0], "app=db", "label");
	cr_assert_eq(r->nprobes, 0);
	cr_assert_eq(r->syscalls, true);
	assert_str(r->syscall_list, NULL, "syscall_list");
	cr_assert_eq(r->min_duration_ns, 0);
	cr_assert_eq(r->sample, 1.0);
	cr_assert_eq(r->has_error_rule, false);
	cr_assert_eq(r->ret32, false);

	cr_assert_eq(zt_agent_config_find_rule(&c, "db"), &c.rules[1]);
	cr_assert_null(zt_agent_config_find_rule(&c, "nope"));
	zt_agent_config_free(&c);
	cr_assert_null(c.rules);
	cr_assert_eq(c.nrules, 0);
	zt_agent_config_free(&c); /* twice is harmless */
}

Test(agent_config, minimal_file_gets_defaults)
{
	struct zt_agent_config c;
	char path[PATH_MAX], err[ERRLEN];
	int ret;

	zt_fixture(path, "agent/minimal.yaml");
	ret = zt_agent_config_load(path, &c, err, sizeof(err));
	cr_assert_eq(ret, 0, "%d: %s", ret, err);
	cr_assert_eq(c.log_format, ZT_AGENT_LOG_LOGFMT);
	cr_assert_eq(c.log_level, ZT_LOG_INFO);
	cr_assert_eq(c.max_memory, ZT_AGENT_DEFAULT_MAX_MEMORY);
	cr_assert_eq(c.metrics_retention_ns, ZT_METRICS_EXITED_LINGER_S * 1000000000ull);
	cr_assert_eq(c.rules[0].ncaptures, 0);
	cr_assert_eq(c.probe_budget_ns, ZT_GOVERNOR_DEFAULT_BUDGET_NS);
	assert_str(c.metrics_addr, NULL, "metrics_addr");
	assert_str(c.otlp.endpoint, NULL, "otlp.endpoint");
	cr_assert_eq(c.otlp.json, -1);
	cr_assert_eq(c.otlp.gzip, -1);
	assert_str(c.otlp.headers, NULL, "otlp.headers");
	cr_assert_eq(c.otlp.timeout_ms, 0);
	assert_str(c.record.path, NULL, "record.path");
	assert_str(c.k8s_pods_dir, "/var/log/pods", "k8s_pods_dir");
	cr_assert_eq(c.record.max_size, ZT_AGENT_DEFAULT_RECORD_MAX_SIZE);
	cr_assert_eq(c.record.keep, ZT_AGENT_DEFAULT_RECORD_KEEP);
	cr_assert_eq(c.nrules, 1);
	assert_str(c.rules[0].name, "one", "name");
	assert_str(c.rules[0].match.exe, "/usr/bin/true", "exe");
	cr_assert_eq(c.rules[0].nprobes, 1);
	assert_str(c.rules[0].probes[0], "main", "probe");
	cr_assert_eq(c.rules[0].syscalls, false);
	cr_assert_eq(c.rules[0].sample, 1.0);
	zt_agent_config_free(&c);
}

Test(agent_config, anchors_and_aliases)
{
	struct zt_agent_config c;
	char path[PATH_MAX], err[ERRLEN];
	int ret;

	zt_fixture(path, "agent/anchors.yaml");
	ret = zt_agent_config_load(path, &c, err, sizeof(err));
	cr_assert_eq(ret, 0, "%d: %s", ret, err);
	cr_assert_eq(c.nrules, 2);
	for (size_t i = 0; i < 2; i++) {
		assert_str(c.rules[i].match.comm, "nginx*", "comm");
		cr_assert_eq(c.rules[i].nprobes, 2);
		assert_str(c.rules[i].probes[0], "handle_*", "probe 0");
		assert_str(c.rules[i].probes[1], "u:libssl.so.3:SSL_*", "probe 1");
	}
	cr_assert_eq(c.rules[0].syscalls, false);
	cr_assert_eq(c.rules[1].syscalls, true);
	zt_agent_config_free(&c);
}

/* Scalars in other spellings: quoted strings, flow style, YAML 1.2 booleans, sizes as plain
 * integers, null values that count as absent. */
Test(agent_config, value_spellings)
{
	struct zt_agent_config c;
	char err[ERRLEN];
	int ret;

	ret = load_text("max_memory: 8388608\n"
			"probe_budget: 0.5%\n"
			"metrics_addr: '9464'\n"
			"otlp: {endpoint: \"https://collector.example:4318/v1/traces\", gzip: TRUE,"
			" protocol: http/protobuf}\n"
			"record:\n"
			"log_level:\n"
			"rules: [{name: a, match: {container_id: \"" /* all digits: a YAML int */
			"123456789012\"}, syscalls: True, sample: .5, min_duration: 250}]\n",
			&c, err);
	cr_assert_eq(ret, 0, "%d: %s", ret, err);
	cr_assert_eq(c.max_memory, 8 * MiB);
	cr_assert_eq(c.probe_budget_ns, 5000000);
	assert_str(c.metrics_addr, "9464", "metrics_addr");
	assert_str(c.otlp.endpoint, "https://collector.example:4318/v1/traces", "endpoint");
	cr_assert_eq(c.otlp.gzip, 1);
	cr_assert_eq(c.otlp.json, 0);
	assert_str(c.record.path, NULL, "record.path");
	cr_assert_eq(c.log_level, ZT_LOG_INFO);
	assert_str(c.rules[0].match.container_id, "123456789012", "container_id");
	cr_assert_eq(c.rules[0].syscalls, true);
	cr_assert_eq(c.rules[0].sample, 0.5);
	cr_assert_eq(c.rules[0].min_duration_ns, 250);
	zt_agent_config_free(&c);
}

struct bad_case {
	const char *yaml;
	const char *msg; /* after "agent.yaml:" */
};

/* Rules that are valid, to put a mistake after. */
#define RULE_OK "  - name: orders\n    match: {exe: /bin/x}\n    probes: [main]\n"

static const struct bad_case bad[] = {
    /* unknown keys, at every level */
    {"rules:\n" RULE_OK "  - name: pay\n    match: {comm: pay}\n    probez: [x]\n",
     "7:5: unknown key 'probez' in rule 'pay' (expected one of: name, match, probes, syscalls, "
     "min_duration, sample, error_if, ret32, capture)"},
    {"log_formt: json\nrules:\n" RULE_OK,
     "1:1: unknown key 'log_formt' (expected one of: log_format, log_level, max_memory, "
     "metrics_addr, otlp, probe_budget, record, k8s_pods_dir, rules, metrics_retention)"},
    {"otlp:\n  endpoint: http://c:4318\n  compression: gzip\nrules:\n" RULE_OK,
     "3:3: unknown key 'compression' in otlp (expected one of: endpoint, protocol, headers, gzip, "
     "timeout)"},
    {"record: {path: /x, rotate: 3}\nrules:\n" RULE_OK,
     "1:20: unknown key 'rotate' in record (expected one of: path, max_size, keep)"},
    {"rules:\n  - name: a\n    match:\n      binary: /bin/x\n    probes: [main]\n",
     "4:7: unknown key 'binary' in the match of rule 'a' (expected one of: exe, comm, cgroup, "
     "container_id, k8s_namespace, k8s_pod, k8s_pod_label)"},
    {"rules:\n  - match: {exe: /x}\n    probes: [main]\n    nmae: a\n",
     "4:5: unknown key 'nmae' in rule #1 (expected one of: name, match, probes, syscalls, "
     "min_duration, sample, error_if, ret32, capture)"},
    {"rules:\n" RULE_OK "rules: []\n", "5:1: duplicate key 'rules' (first at line 1)"},
    {"rules:\n  - name: a\n    match: {exe: /x, exe: /y}\n    probes: [main]\n",
     "3:22: duplicate key 'exe' in the match of rule 'a' (first at line 3)"},
    {"? [a, b]\n: 1\nrules:\n" RULE_OK, "1:3: a key must be a name, got a list"},
    /* wrong types */
    {"rules: {name: a}\n", "1:8: 'rules' must be a list of rules, got a mapping"},
    {"rules:\n  - orders\n", "2:5: each rule must be a mapping of settings, got 'orders'"},
    {"otlp: http://c:4318\nrules:\n" RULE_OK,
     "1:7: 'otlp' must be a mapping of settings, got 'http://c:4318'"},
    {"otlp: {endpoint: http://c:4318, gzip: yes}\nrules:\n" RULE_OK,
     "1:39: 'gzip' in otlp must be true or false, got 'yes'"},
    {"otlp: {endpoint: http://c:4318, gzip: \"true\"}\nrules:\n" RULE_OK,
     "1:39: 'gzip' in otlp must be true or false, got 'true'"},
    {"rules:\n  - name: a\n    match: {exe: /x}\n    probes: main\n",
     "4:13: 'probes' in rule 'a' must be a list of probe specs, got 'main'"},
    {"rules:\n  - name: a\n    match: {exe: /x}\n    probes: [main, [x]]\n",
     "4:20: item 2 of 'probes' in rule 'a' must be a probe spec, got a list"},
    {"rules:\n  - name: a\n    match: {exe: /x}\n    probes: [main, ~]\n",
     "4:20: item 2 of 'probes' in rule 'a' must be a probe spec, got nothing"},
    {"rules:\n  - name: [a]\n    match: {exe: /x}\n    probes: [main]\n",
     "2:11: 'name' in rule #1 must be a string, got a list"},
    {"rules:\n  - name: a\n    match: {exe: [/x]}\n    probes: [main]\n",
     "3:18: 'exe' in the match of rule 'a' must be a string, got a list"},
    {"log_format: xml\nrules:\n" RULE_OK, "1:13: 'log_format' must be logfmt or json, got 'xml'"},
    {"log_level: verbose\nrules:\n" RULE_OK,
     "1:12: 'log_level' must be error, warn, notice, info or debug, got 'verbose'"},
    {"rules:\n  - name: a\n    match: {exe: /x}\n    syscalls: all\n",
     "4:15: 'syscalls' in rule 'a' must be true, false or a list of syscall names, got 'all'"},
    {"rules:\n  - name: a\n    match: {exe: /x}\n    probes: [main]\n    sample: 1.5\n",
     "5:13: 'sample' in rule 'a' must be a fraction in (0, 1] (1 keeps every root span), got "
     "'1.5'"},
    {"rules:\n  - name: a\n    match: {exe: /x}\n    probes: [main]\n    sample: 0\n",
     "5:13: 'sample' in rule 'a' must be a fraction in (0, 1] (1 keeps every root span), got "
     "'0'"},
    {"rules:\n  - name: a\n    match: {exe: /x}\n    probes: [main]\n    sample: nan\n",
     "5:13: 'sample' in rule 'a' must be a fraction in (0, 1] (1 keeps every root span), got "
     "'nan'"},
    {"record: {path: /x, keep: -1}\nrules:\n" RULE_OK,
     "1:26: 'keep' in record must be a number of rotated files from 0 to 100, got '-1'"},
    {"record: {path: /x, keep: 101}\nrules:\n" RULE_OK,
     "1:26: 'keep' in record must be a number of rotated files from 0 to 100, got '101'"},
    /* globs, probe specs, syscalls, labels, container ids */
    {"rules:\n  - name: a\n    match: {exe: \"/usr/bin/[abc\"}\n    probes: [main]\n",
     "3:18: bad exe glob in the match of rule 'a': unbalanced '[' in glob '/usr/bin/[abc': close "
     "the set with ']'"},
    {"rules:\n  - name: a\n    match: {cgroup: \"\"}\n    probes: [main]\n",
     "3:21: bad cgroup glob in the match of rule 'a': empty glob: write a function name or a "
     "pattern such as 'handle_*'"},
    {"rules:\n  - name: a\n    match: {comm: a_very_long_process_name}\n    probes: [main]\n",
     "3:19: comm 'a_very_long_process_name' in the match of rule 'a' can never match: the kernel "
     "keeps the first 15 characters of a process name (write 'a_very_long_pro' or match on "
     "exe)"},
    {"rules:\n  - name: a\n    match: {exe: /x}\n    probes: [main, \"u:libc\"]\n",
     "4:20: bad probe in rule 'a': "},
    {"rules:\n  - name: a\n    match: {exe: /x}\n    probes: [main, \"x:y:z\"]\n",
     "4:20: bad probe in rule 'a': "},
    {"rules:\n  - name: a\n    match: {exe: /x}\n    probes: [main, main]\n",
     "4:20: probe 'main' is listed twice in rule 'a'"},
    {"rules:\n  - name: a\n    match: {exe: /x}\n    syscalls: [read, reed]\n",
     "4:22: unknown syscall 'reed' in rule 'a' (names as in syscalls(2): read, openat...)"},
    {"rules:\n  - name: a\n    match: {exe: /x}\n    syscalls: []\n",
     "4:15: empty 'syscalls' list in rule 'a': write syscalls: false to trace none"},
    {"rules:\n  - name: a\n    match: {k8s_pod_label: \"=x\"}\n    probes: [main]\n",
     "3:28: bad k8s_pod_label '=x' in the match of rule 'a': write key=value (or key for any "
     "value)"},
    {"rules:\n  - name: a\n    match: {container_id: 3F2A9C1B7D4E}\n    probes: [main]\n",
     "3:27: bad container_id '3F2A9C1B7D4E' in the match of rule 'a': give 12 to 64 lowercase "
     "hex digits (the full id or a prefix, as docker ps shows)"},
    {"rules:\n  - name: a\n    match: {container_id: abc}\n    probes: [main]\n",
     "3:27: bad container_id 'abc' in the match of rule 'a': give 12 to 64 lowercase hex digits "
     "(the full id or a prefix, as docker ps shows)"},
    {"rules:\n  - name: a\n    match: {exe: /x}\n    probes: [main]\n    error_if: ret<<0\n",
     "5:15: bad error_if in rule 'a': "},
    /* exporters */
    {"otlp: {endpoint: \"localhost:4318\"}\nrules:\n" RULE_OK,
     "1:18: bad endpoint in otlp: OTLP endpoint 'localhost:4318' has no scheme: write "
     "http://localhost:4318"},
    {"otlp: {endpoint: \"ftp://c:21\"}\nrules:\n" RULE_OK,
     "1:18: bad endpoint in otlp: OTLP endpoint 'ftp://c:21': scheme 'ftp' is not supported: "
     "ztrace sends OTLP/HTTP, use http:// or https://"},
    {"otlp: {gzip: true}\nrules:\n" RULE_OK,
     "1:7: otlp has no endpoint: give one like http://otel-collector:4318"},
    {"otlp: {endpoint: http://c:4318, protocol: grpc}\nrules:\n" RULE_OK,
     "1:43: bad protocol in otlp: "},
    {"otlp: {endpoint: http://c:4318, headers: \"a=1,b\"}\nrules:\n" RULE_OK,
     "1:42: bad headers in otlp: item 'b' is not key=value: write key=value,key2=value2"},
    {"otlp: {endpoint: http://c:4318, timeout: 10}\nrules:\n" RULE_OK,
     "1:42: timeout '10' in otlp is out of range: give 1ms or more"},
    {"metrics_addr: \"127.0.0.1:99999\"\nrules:\n" RULE_OK, "1:15: bad metrics_addr: "},
    {"record: {max_size: 1GiB}\nrules:\n" RULE_OK,
     "1:9: record has no path: give one like /var/lib/ztrace/agent.zt"},
    {"k8s_pods_dir: pods\nrules:\n" RULE_OK,
     "1:15: k8s_pods_dir 'pods' must be absolute (the agent runs in /)"},
    {"record: {path: agent.zt}\nrules:\n" RULE_OK,
     "1:16: record path 'agent.zt' must be absolute (the agent runs in /)"},
    /* durations and sizes */
    {"rules:\n  - name: a\n    match: {exe: /x}\n    probes: [main]\n    min_duration: 1 "
     "fortnight\n",
     "5:19: bad min_duration '1 fortnight' in rule 'a': expected a number with a unit ns, us, ms "
     "or s, e.g. 500us or 2ms"},
    {"rules:\n  - name: a\n    match: {exe: /x}\n    probes: [main]\n    min_duration: -1ms\n",
     "5:19: bad min_duration '-1ms' in rule 'a': expected a number with a unit ns, us, ms or s, "
     "e.g. 500us or 2ms"},
    {"max_memory: 12XB\nrules:\n" RULE_OK,
     "1:13: bad max_memory '12XB': expected bytes with an optional unit (B, KiB, MiB, GiB, TiB, "
     "KB, MB, GB or TB), e.g. 64MiB"},
    {"probe_budget: 150%\nrules:\n" RULE_OK,
     "1:15: bad probe budget '150%': give a percentage of one CPU (e.g. 2%) or nanoseconds of "
     "BPF run time per second (1 to 999999999)"},
    {"max_memory: 1MiB\nrules:\n" RULE_OK,
     "1:13: max_memory '1MiB' is too small: give at least 4096KiB"},
    {"max_memory: 99999999999999GiB\nrules:\n" RULE_OK,
     "1:13: 'max_memory' is too large: '99999999999999GiB'"},
    {"record: {path: /x, max_size: 10KB}\nrules:\n" RULE_OK,
     "1:30: max_size '10KB' in record is too small: give at least 1024KiB"},
    {"metrics_retention: 500ms\nrules:\n" RULE_OK,
     "1:20: metrics_retention '500ms' is out of range: give 1s to 300s"},
    {"metrics_retention: 11m\nrules:\n" RULE_OK,
     "1:20: bad metrics_retention '11m': expected a number with a unit ns, us, ms or s, e.g. "
     "500us or 2ms"},
    {"metrics_retention: 301s\nrules:\n" RULE_OK,
     "1:20: metrics_retention '301s' is out of range: give 1s to 300s"},
    {"rules:\n  - name: a\n    match: {exe: /x}\n    probes: [main]\n"
     "    capture: [\"main:arg0\", \"main:arg9\"]\n",
     "5:28: bad capture 'main:arg9' in rule 'a': argument 9 in 'arg9' is not a register "
     "argument: x86-64 passes the first 6 in registers, arg0 to arg5"},
    {"rules:\n  - name: a\n    match: {exe: /x}\n    probes: [main]\n    capture: main\n",
     "5:14: 'capture' in rule 'a' must be a list of capture specs, got 'main'"},
    /* rules as a whole */
    {"rules:\n" RULE_OK "  - name: orders\n    match: {comm: y}\n    syscalls: true\n",
     "5:11: duplicate rule name 'orders' (first at line 2)"},
    {"rules: []\n", "1:8: no rules: give at least one under 'rules:'"},
    {"log_format: json\n", "1:1: no rules: give at least one under 'rules:'"},
    {"rules:\n", "1:1: no rules: give at least one under 'rules:'"},
    {"rules:\n  - name: a\n    probes: [main]\n",
     "2:5: rule 'a' has no 'match': say which processes it selects"},
    {"rules:\n  - name: a\n    match: {}\n    probes: [main]\n",
     "3:12: empty match in rule 'a': give at least one of exe, comm, cgroup, container_id, "
     "k8s_namespace, k8s_pod, k8s_pod_label (a rule never selects every process)"},
    {"rules:\n  - name: a\n    match: {exe: /x}\n",
     "2:5: rule 'a' traces nothing: give it probes, syscalls: true, or both"},
    {"rules:\n  - name: a\n    match: {exe: /x}\n    syscalls: false\n",
     "2:5: rule 'a' traces nothing: give it probes, syscalls: true, or both"},
    {"rules:\n  - match: {exe: /x}\n    probes: [main]\n",
     "2:5: rule #1 has no name: give each rule a unique 'name'"},
    {"rules:\n  - name: \"\"\n    match: {exe: /x}\n    probes: [main]\n",
     "2:11: empty name in rule #1"},
    /* the document itself */
    {"", "1:1: the config is empty: give at least one rule under 'rules:'"},
    {"# nothing but a comment\n", "1:1: the config is empty: give at least one rule under "
				  "'rules:'"},
    {"- a\n- b\n", "1:1: the config must be a mapping of settings, got a list"},
    {"rules:\n" RULE_OK "---\nrules:\n" RULE_OK,
     "6:1: a second YAML document: the file must hold one (remove the '---' line)"},
    {"rules:\n  - name: a\n   match: {exe: /x}\n",
     "3:4: invalid YAML: did not find expected '-' indicator (while parsing a block "
     "collection at line 2)"},
    {"rules: [a\n", "2:1: invalid YAML: did not find expected ',' or ']' (while parsing a flow "
		    "sequence at line 1)"},
    {"rules: *nowhere\n", "1:8: invalid YAML: found undefined alias"},
    {"log_format: \"\\0\"\nrules:\n" RULE_OK, "1:13: 'log_format' contains a NUL character"},
    {"log_format: \xff\nrules:\n" RULE_OK, "1:13: invalid YAML: invalid leading UTF-8 octet"},
};

Test(agent_config, k8s_pods_dir_given)
{
	struct zt_agent_config c;
	char err[ERRLEN];

	cr_assert_eq(load_text("k8s_pods_dir: /srv/pods\nrules:\n" RULE_OK, &c, err), 0, "%s", err);
	assert_str(c.k8s_pods_dir, "/srv/pods", "k8s_pods_dir");
	zt_agent_config_free(&c);
}

Test(agent_config, capture_and_metrics_retention_given)
{
	struct zt_agent_config c;
	char err[ERRLEN];

	cr_assert_eq(load_text("metrics_retention: 2s\nrules:\n  - name: a\n    match: {exe: /x}\n"
			       "    probes: [main, f]\n    capture: [\"main:arg0\", \"f*:str1/8\"]\n",
			       &c, err),
		     0, "%s", err);
	cr_assert_eq(c.metrics_retention_ns, 2000000000ull);
	cr_assert_eq(c.rules[0].ncaptures, 2);
	assert_str(c.rules[0].captures[0], "main:arg0", "capture 0");
	assert_str(c.rules[0].captures[1], "f*:str1/8", "capture 1");
	zt_agent_config_free(&c);
}

Test(agent_config, errors_name_file_line_column)
{
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		struct zt_agent_config c;
		char err[ERRLEN], want[ERRLEN];
		int ret;

		memset(&c, 0xa5, sizeof(c));
		ret = load_text(bad[i].yaml, &c, err);
		snprintf(want, sizeof(want), "agent.yaml:%s", bad[i].msg);
		cr_assert_eq(ret, -EINVAL, "case %zu: %d (%s)\n%s", i, ret, err, bad[i].yaml);
		/* messages passed through from other modules are checked up to where they start */
		if (want[strlen(want) - 1] == ' ')
			cr_assert(!strncmp(err, want, strlen(want)) && strlen(err) > strlen(want),
				  "case %zu:\n got: %s\nwant: %s...", i, err, want);
		else
			cr_assert_str_eq(err, want, "case %zu:\n got: %s\nwant: %s", i, err, want);
		cr_assert_null(c.rules, "case %zu: nothing left to free", i);
		cr_assert_null(c.path);
	}
}

/* The messages of the modules the checks delegate to, whole, for the cases above that only
 * compare their start: the delegation must pass the text through, not a paraphrase. */
Test(agent_config, delegated_messages_whole)
{
	struct zt_agent_config c;
	char err[ERRLEN];

	cr_assert_eq(
	    load_text("otlp: {endpoint: http://c:4318, protocol: grpc}\nrules:\n" RULE_OK, &c, err),
	    -EINVAL);
	cr_assert(strstr(err, "grpc"), "%s", err);
	cr_assert_eq(load_text("rules:\n  - name: a\n    match: {exe: /x}\n"
			       "    probes: [\"x:y:z\"]\n",
			       &c, err),
		     -EINVAL);
	cr_assert(strstr(err, "'x:y:z'"), "%s", err);
	cr_assert_eq(load_text("metrics_addr: \"127.0.0.1:99999\"\nrules:\n" RULE_OK, &c, err),
		     -EINVAL);
	cr_assert(strstr(err, "99999"), "%s", err);
}

Test(agent_config, unreadable_files)
{
	struct zt_agent_config c;
	char err[ERRLEN], dir[] = "/tmp/zt-agent-config-XXXXXX", path[PATH_MAX];
	int fd;

	cr_assert_eq(zt_agent_config_load("/nonexistent/agent.yaml", &c, err, sizeof(err)),
		     -ENOENT);
	cr_assert_str_eq(err, "cannot read /nonexistent/agent.yaml: No such file or directory");
	cr_assert_eq(zt_agent_config_load("/tmp", &c, err, sizeof(err)), -EISDIR);
	cr_assert_str_eq(err, "cannot read /tmp: Is a directory");

	cr_assert_not_null(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/big.yaml", dir);
	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	cr_assert_geq(fd, 0);
	cr_assert_eq(ftruncate(fd, ZT_AGENT_CONFIG_MAX_BYTES + 1), 0);
	close(fd);
	cr_assert_eq(zt_agent_config_load(path, &c, err, sizeof(err)), -EFBIG);
	cr_assert(strstr(err, "it is larger than 1048576 bytes"), "%s", err);
	unlink(path);
	rmdir(dir);
}

/*
 * A config in memory (what the fuzzer parses) loads as the same file would: exactly len bytes
 * are read, and messages name the given name.
 */
Test(agent_config, parse_from_memory)
{
	static const char text[] = "rules:\n"
				   "  - name: a\n"
				   "    match: {exe: /bin/a}\n"
				   "    probes: [main]\n"
				   "  - name: a\n";
	struct zt_agent_config c;
	char err[ERRLEN];

	/* the second rule, past len, is not read */
	cr_assert_eq(zt_agent_config_parse("mem.yaml", text, strlen(text) - strlen("  - name: a\n"),
					   &c, err, sizeof(err)),
		     0, "%s", err);
	cr_assert_str_eq(c.path, "mem.yaml");
	cr_assert_eq(c.nrules, 1);
	assert_str(c.rules[0].match.exe, "/bin/a", "exe");
	zt_agent_config_free(&c);

	cr_assert_eq(zt_agent_config_parse("mem.yaml", text, strlen(text), &c, err, sizeof(err)),
		     -EINVAL);
	cr_assert_str_eq(err, "mem.yaml:5:5: rule 'a' has no 'match': say which processes it "
			      "selects");
	cr_assert_eq(zt_agent_config_parse("mem.yaml", "rules: [", 8, &c, err, sizeof(err)),
		     -EINVAL);
	cr_assert_str_eq(err, "mem.yaml:2:1: invalid YAML: did not find expected node content "
			      "(while parsing a flow node at line 2)");
	cr_assert_eq(zt_agent_config_parse("mem.yaml", "", 0, &c, err, sizeof(err)), -EINVAL);
	cr_assert_str_eq(err, "mem.yaml:1:1: the config is empty: give at least one rule under "
			      "'rules:'");
}

/*
 * Collections nested past ZT_YAML_MAX_DEPTH are refused before the document is built: libyaml
 * takes time quadratic in the depth, so 1 MiB of '[' would hold a (re)load for many minutes.
 */
Test(agent_config, nesting_depth_bounded, .timeout = 10)
{
	size_t n = ZT_AGENT_CONFIG_MAX_BYTES / 2 - 16, len;
	char err[ERRLEN], *text = malloc(2 * n + 16);
	struct zt_agent_config c;

	cr_assert_not_null(text);
	/* the top mapping is level 1: 31 lists below it pass the depth check */
	len = (size_t)sprintf(text, "rules: ");
	memset(text + len, '[', 31);
	memset(text + len + 31, ']', 31);
	text[len + 62] = '\0';
	cr_assert_eq(zt_agent_config_parse("a.yaml", text, strlen(text), &c, err, ERRLEN), -EINVAL);
	cr_assert_str_eq(err, "a.yaml:1:9: each rule must be a mapping of settings, got a list");

	memset(text + len, '[', n);
	memset(text + len + n, ']', n);
	text[len + 2 * n] = '\0';
	cr_assert_eq(zt_agent_config_parse("a.yaml", text, strlen(text), &c, err, ERRLEN), -EINVAL);
	cr_assert_str_eq(err, "a.yaml:1:39: lists and mappings nest deeper than 32 levels");
	free(text);
}

/* Anchors and aliases past ZT_YAML_MAX_REFS are refused: libyaml's lookups are quadratic. */
Test(agent_config, anchors_and_aliases_bounded, .timeout = 10)
{
	size_t max = 1 << 16, len;
	char err[ERRLEN], *text = malloc(max);
	struct zt_agent_config c;

	cr_assert_not_null(text);
	/* 256 of each load; then the 257th anchor, or the 257th alias, is refused */
	len = (size_t)sprintf(text, "x: [&a0 1");
	for (int i = 1; i < 256; i++)
		len += (size_t)sprintf(text + len, ", &a%d 1", i);
	for (int i = 0; i < 256; i++)
		len += (size_t)sprintf(text + len, ", *a255");
	sprintf(text + len, "]\n");
	cr_assert_eq(zt_agent_config_parse("a.yaml", text, strlen(text), &c, err, ERRLEN), -EINVAL);
	cr_assert_str_eq(err,
			 "a.yaml:1:1: unknown key 'x' (expected one of: log_format, log_level, "
			 "max_memory, metrics_addr, otlp, probe_budget, record, k8s_pods_dir, "
			 "rules, metrics_retention)");

	sprintf(text + len, ", *a0]\n");
	cr_assert_eq(zt_agent_config_parse("a.yaml", text, strlen(text), &c, err, ERRLEN), -EINVAL);
	cr_assert_str_eq(err, "a.yaml:1:3991: more than 256 aliases ('*name')");
	sprintf(text + len, ", &b 1]\n");
	cr_assert_eq(zt_agent_config_parse("a.yaml", text, strlen(text), &c, err, ERRLEN), -EINVAL);
	cr_assert_str_eq(err, "a.yaml:1:3991: more than 256 anchors ('&name')");
	free(text);
}

/* A process in a Kubernetes pod, and one on the host. */
static const char *const pod_labels[] = {"app=orders", "tier=backend", "team="};
static const struct zt_proc_identity in_pod = {
    .exe = "/run/containerd/io.containerd.runtime.v2.task/k8s.io/3f2a9c1b7d4e5f60718293a4b5c6d7e8"
	   "f9a0b1c2d3e4f5a6b7c8d9e0f1a2b3c4d5/rootfs/usr/local/bin/orders",
    .exe_in_ns = "/usr/local/bin/orders",
    .comm = "orders",
    .cgroup = "/kubepods.slice/kubepods-burstable.slice/kubepods-burstable-pod1234.slice/"
	      "cri-containerd-3f2a9c1b7d4e5f60718293a4b5c6d7e8f9a0b1c2d3e4f5a6b7c8d9e0f1a2b3c4d5."
	      "scope",
    .container_id = "3f2a9c1b7d4e5f60718293a4b5c6d7e8f9a0b1c2d3e4f5a6b7c8d9e0f1a2b3c4d5",
    .k8s_namespace = "shop",
    .k8s_pod = "orders-7d9f8-abcde",
    .k8s_pod_labels = pod_labels,
    .n_k8s_pod_labels = 3,
};
static const struct zt_proc_identity on_host = {
    .exe = "/usr/local/bin/orders-v2",
    .comm = "orders-v2",
    .cgroup = "/system.slice/orders.service",
};

struct match_case {
	struct zt_agent_match m;
	bool pod, host; /* whether it selects in_pod, on_host */
};

static char *labels_app[] = {"app=orders"};
static char *labels_app_tier[] = {"app=orders", "tier=backend"};
static char *labels_wrong[] = {"app=orders", "tier=frontend"};
static char *labels_key[] = {"tier"};
static char *labels_empty_value[] = {"team="};
static char *labels_prefix_key[] = {"ap=orders"};

static const struct match_case match_cases[] = {
    {{.exe = "/usr/local/bin/orders*"}, true, true}, /* in-namespace path, host path */
    {{.exe = "/usr/local/bin/orders"}, true, false},
    {{.exe = "*/rootfs/usr/local/bin/orders"}, true, false},
    {{.exe = "/usr/local/bin/*-v2"}, false, true},
    {{.exe = "/opt/*"}, false, false},
    {{.comm = "orders"}, true, false},
    {{.comm = "orders*"}, true, true},
    {{.comm = "order"}, false, false},
    {{.cgroup = "*/kubepods*"}, true, false},
    {{.cgroup = "/system.slice/*"}, false, true},
    {{.container_id = "3f2a9c1b7d4e"}, true, false}, /* the 12-digit prefix */
    {{.container_id = "3f2a9c1b7d4e5f60718293a4b5c6d7e8f9a0b1c2d3e4f5a6b7c8d9e0f1a2b3c4d5"},
     true,
     false},
    {{.container_id = "3f2a9c1b7d4f"}, false, false},
    {{.k8s_namespace = "shop"}, true, false},
    {{.k8s_namespace = "sho"}, false, false},
    {{.k8s_pod = "orders-*"}, true, false},
    {{.k8s_pod = "payments-*"}, false, false},
    {{.k8s_pod_labels = labels_app, .n_k8s_pod_labels = 1}, true, false},
    {{.k8s_pod_labels = labels_app_tier, .n_k8s_pod_labels = 2}, true, false},
    {{.k8s_pod_labels = labels_wrong, .n_k8s_pod_labels = 2}, false, false},
    {{.k8s_pod_labels = labels_key, .n_k8s_pod_labels = 1}, true, false},
    {{.k8s_pod_labels = labels_empty_value, .n_k8s_pod_labels = 1}, true, false},
    {{.k8s_pod_labels = labels_prefix_key, .n_k8s_pod_labels = 1}, false, false},
    /* every selector must match */
    {{.comm = "orders*", .k8s_namespace = "shop"}, true, false},
    {{.exe = "/usr/local/bin/orders*", .cgroup = "/system.slice/*"}, false, true},
    {{.comm = "orders", .cgroup = "/system.slice/*"}, false, false},
    /* no selector selects nothing */
    {{0}, false, false},
};

Test(agent_config, rule_matching_table)
{
	for (size_t i = 0; i < sizeof(match_cases) / sizeof(match_cases[0]); i++) {
		struct zt_agent_rule r = {.name = "t", .match = match_cases[i].m};

		cr_assert_eq(zt_agent_rule_matches(&r, &in_pod), match_cases[i].pod,
			     "case %zu on the pod process", i);
		cr_assert_eq(zt_agent_rule_matches(&r, &on_host), match_cases[i].host,
			     "case %zu on the host process", i);
	}
}

Test(agent_config, unknown_identity_fields_do_not_match)
{
	struct zt_proc_identity bare = {.exe = "/usr/bin/orders"};
	struct zt_agent_rule r = {.name = "t"};

	r.match.exe = "/usr/bin/orders";
	cr_assert(zt_agent_rule_matches(&r, &bare));
	r.match.comm = "*";
	cr_assert_not(zt_agent_rule_matches(&r, &bare), "comm unknown");
	r.match.comm = NULL;
	r.match.k8s_pod_labels = labels_key;
	r.match.n_k8s_pod_labels = 1;
	cr_assert_not(zt_agent_rule_matches(&r, &bare), "labels unknown");
	r.match.k8s_pod_labels = NULL;
	r.match.n_k8s_pod_labels = 0;
	r.match.container_id = "3f2a9c1b7d4e";
	cr_assert_not(zt_agent_rule_matches(&r, &bare), "no container");
}

Test(agent_config, rules_compare_for_reload)
{
	struct zt_agent_config a, b;
	char err[ERRLEN];

	cr_assert_eq(load_text("rules:\n"
			       "  - name: x\n    match: {exe: /x}\n    probes: [main, f]\n"
			       "  - name: y\n    match: {comm: y}\n    syscalls: [read]\n"
			       "  - name: z\n    match: {comm: z}\n    probes: [main]\n"
			       "    error_if: ret<0\n",
			       &a, err),
		     0, "%s", err);
	/* x moved down by a comment line: equal; y traces another syscall; z another rule */
	cr_assert_eq(load_text("rules:\n# moved\n"
			       "  - name: x\n    match: {exe: /x}\n    probes: [main, f]\n"
			       "  - name: y\n    match: {comm: y}\n    syscalls: [read, write]\n"
			       "  - name: z\n    match: {comm: z}\n    probes: [main]\n"
			       "    error_if: ret!=0\n",
			       &b, err),
		     0, "%s", err);
	cr_assert_neq(a.rules[0].line, b.rules[0].line);
	cr_assert(zt_agent_rule_equal(&a.rules[0], &b.rules[0]));
	cr_assert_not(zt_agent_rule_equal(&a.rules[1], &b.rules[1]));
	cr_assert_not(zt_agent_rule_equal(&a.rules[2], &b.rules[2]));
	cr_assert_not(zt_agent_rule_equal(&a.rules[0], &a.rules[2]));
	/* z differs only in its policy: it stays attached over a reload; y traces more */
	cr_assert(zt_agent_rule_same_probes(&a.rules[0], &b.rules[0]));
	cr_assert(zt_agent_rule_same_probes(&a.rules[2], &b.rules[2]));
	cr_assert_not(zt_agent_rule_same_probes(&a.rules[1], &b.rules[1]));
	cr_assert_not(zt_agent_rule_same_probes(&a.rules[0], &a.rules[2]));
	zt_agent_config_free(&a);
	zt_agent_config_free(&b);
}

Test(agent_config, otlp_settings_overlay)
{
	struct zt_agent_config c;
	struct zt_otlp_config o;
	char err[ERRLEN];

	zt_otlp_config_defaults(&o);
	o.headers = "from=env";
	cr_assert_eq(load_text("otlp: {endpoint: http://c:4318, protocol: http/json, timeout: 3s}\n"
			       "rules:\n" RULE_OK,
			       &c, err),
		     0, "%s", err);
	zt_agent_otlp_apply(&c, &o);
	assert_str(o.endpoint, "http://c:4318", "endpoint");
	cr_assert_eq(o.endpoint_exact, false);
	cr_assert_eq(o.json, true);
	cr_assert_eq(o.gzip, true, "not in the file: the default stays");
	assert_str(o.headers, "from=env", "not in the file: the environment's stays");
	cr_assert_eq(o.timeout_ms, 3000);
	zt_agent_config_free(&c);
}

Test(agent_config, sizes)
{
	static const struct {
		const char *text;
		int ret;
		uint64_t bytes;
	} cases[] = {
	    {"0", 0, 0},
	    {"4096", 0, 4096},
	    {"12B", 0, 12},
	    {"64MiB", 0, 64ull << 20},
	    {"64Mi", 0, 64ull << 20},
	    {"64M", 0, 64ull << 20},
	    {"2GiB", 0, 2ull << 30},
	    {"3KiB", 0, 3072},
	    {"1TiB", 0, 1ull << 40},
	    {"5kB", 0, 5000},
	    {"5KB", 0, 5000},
	    {"2MB", 0, 2000000},
	    {"1GB", 0, 1000000000},
	    {"16383PiB", -EINVAL, 0},
	    {"17179869183GiB", 0, 17179869183ull << 30},
	    {"17179869184GiB", -ERANGE, 0},
	    {"18446744073709551616", -ERANGE, 0},
	    {"", -EINVAL, 0},
	    {"MiB", -EINVAL, 0},
	    {"-1", -EINVAL, 0},
	    {" 1", -EINVAL, 0},
	    {"1 MiB", -EINVAL, 0},
	    {"1.5GiB", -EINVAL, 0},
	    {"1mib", -EINVAL, 0},
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		uint64_t bytes = 0;
		int ret = zt_parse_size(cases[i].text, &bytes);

		cr_assert_eq(ret, cases[i].ret, "'%s': %d", cases[i].text, ret);
		if (!ret)
			cr_assert_eq(bytes, cases[i].bytes, "'%s': %llu", cases[i].text,
				     (unsigned long long)bytes);
	}
}

/* --check-config: one line on stdout and exit 0, or the message on stderr and exit 2. */
static int run_check(const char *path, char *out, size_t outlen, char *errout, size_t errlen)
{
	int outp[2], errp[2], status;
	ssize_t n;
	pid_t pid;

	cr_assert_eq(pipe(outp), 0);
	cr_assert_eq(pipe(errp), 0);
	pid = fork();
	cr_assert_geq(pid, 0);
	if (pid == 0) {
		dup2(outp[1], 1);
		dup2(errp[1], 2);
		_exit(zt_cmd_agent_check(path));
	}
	close(outp[1]);
	close(errp[1]);
	n = read(outp[0], out, outlen - 1);
	out[n > 0 ? n : 0] = '\0';
	n = read(errp[0], errout, errlen - 1);
	errout[n > 0 ? n : 0] = '\0';
	close(outp[0]);
	close(errp[0]);
	cr_assert_eq(waitpid(pid, &status, 0), pid);
	cr_assert(WIFEXITED(status));
	return WEXITSTATUS(status);
}

Test(agent_config, check_config_command)
{
	char path[PATH_MAX], out[ERRLEN], errout[ERRLEN];

	zt_fixture(path, "agent/full.yaml");
	cr_assert_eq(run_check(path, out, sizeof(out), errout, sizeof(errout)), 0);
	cr_assert_str_eq(out, "config OK: 2 rules\n");
	cr_assert_str_eq(errout, "");

	zt_fixture(path, "agent/minimal.yaml");
	cr_assert_eq(run_check(path, out, sizeof(out), errout, sizeof(errout)), 0);
	cr_assert_str_eq(out, "config OK: 1 rule\n");

	cr_assert_eq(run_check("/nonexistent.yaml", out, sizeof(out), errout, sizeof(errout)), 2);
	cr_assert_str_eq(out, "");
	cr_assert_str_eq(errout,
			 "ztrace: cannot read /nonexistent.yaml: No such file or directory\n");
}
