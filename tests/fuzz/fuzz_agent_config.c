// SPDX-License-Identifier: MIT
/*
 * libFuzzer target: zt_agent_config_parse() on any text (the agent's YAML config, parsed from
 * memory as zt_agent_config_load() parses a file), then what the agent does with a loaded
 * config: match every rule against fixed process identities, compare each rule with itself and
 * with the same rule of a second parse, look rules up by name, overlay the OTLP settings.
 *
 * metrics_addr may name a host that the parser resolves: the fuzzer runs in a network
 * namespace of its own, so no lookup leaves the machine.
 */
#include <errno.h>
#include <sched.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "agent_config.h"
#include "export_otlp.h"
#include "fuzz_util.h"
#include "ztrace/limits.h"

#define ERR_BYTES 512
#define NAME	  "agent.yaml"

static const char *const labels[] = {"app=web", "tier=front", "team="};

/* Processes a rule may select: on the host, in a container, in a Kubernetes pod. */
static const struct zt_proc_identity idents[] = {
    {.exe = "/usr/bin/python3.11", .comm = "python3"},
    {.exe = "/var/lib/docker/overlay2/abc/merged/app/server",
     .exe_in_ns = "/app/server",
     .comm = "server",
     .cgroup = "/system.slice/docker-0123456789abcdef.scope",
     .container_id = "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"},
    {.exe = "/usr/local/bin/api",
     .comm = "api",
     .cgroup = "/kubepods.slice/kubepods-burstable.slice/kubepods-burstable-pod1234.slice",
     .container_id = "fedcba9876543210fedcba9876543210fedcba9876543210fedcba9876543210",
     .k8s_namespace = "default",
     .k8s_pod = "web-7d4b9c-x2x9q",
     .k8s_pod_labels = labels,
     .n_k8s_pod_labels = sizeof(labels) / sizeof(labels[0])},
    {0},
};

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	/* a new network namespace (as root, else inside a new user namespace): no DNS traffic */
	if (unshare(CLONE_NEWNET) && unshare(CLONE_NEWUSER | CLONE_NEWNET)) {
		perror("fuzz_agent_config: unshare(CLONE_NEWNET)");
		abort();
	}
	return 0;
}

/* Check a parsed config and run what the agent runs on one. */
static void check_config(const struct zt_agent_config *c, const struct zt_agent_config *again)
{
	struct zt_otlp_config o;

	ZT_FUZZ_CHECK(!strcmp(c->path, NAME) && c->k8s_pods_dir && c->k8s_pods_dir[0] == '/');
	ZT_FUZZ_CHECK(c->nrules >= 1 && c->nrules <= ZT_AGENT_MAX_RULES);
	ZT_FUZZ_CHECK(!c->record.path || c->record.path[0] == '/');
	ZT_FUZZ_CHECK(c->nrules == again->nrules);
	for (size_t i = 0; i < c->nrules; i++) {
		const struct zt_agent_rule *r = &c->rules[i];

		ZT_FUZZ_CHECK(r->name && r->name[0]);
		ZT_FUZZ_CHECK(r->nprobes || r->syscalls);
		ZT_FUZZ_CHECK(r->sample > 0 && r->sample <= 1);
		ZT_FUZZ_CHECK(zt_agent_config_find_rule(c, r->name) == r);
		ZT_FUZZ_CHECK(zt_agent_rule_equal(r, r) && zt_agent_rule_same_probes(r, r));
		ZT_FUZZ_CHECK(zt_agent_rule_equal(r, &again->rules[i]));
		for (size_t j = 0; j < sizeof(idents) / sizeof(idents[0]); j++) {
			bool m = zt_agent_rule_matches(r, &idents[j]);

			ZT_FUZZ_CHECK(m == zt_agent_rule_matches(&again->rules[i], &idents[j]));
			/* a rule that selects a file selects each of its processes */
			if (idents[j].exe && zt_agent_rule_selects_file(r, idents[j].exe))
				ZT_FUZZ_CHECK(m);
		}
		if (i)
			ZT_FUZZ_CHECK(!zt_agent_rule_same_probes(r, &c->rules[0]));
	}
	zt_otlp_config_defaults(&o);
	zt_agent_otlp_apply(c, &o);
	ZT_FUZZ_CHECK(!c->otlp.endpoint || o.endpoint == c->otlp.endpoint);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char err[ERR_BYTES] = "", err2[ERR_BYTES] = "";
	struct zt_agent_config c, again;
	int ret, ret2;

	if (size > ZT_AGENT_CONFIG_MAX_BYTES)
		return 0;
	ret = zt_agent_config_parse(NAME, (const char *)data, size, &c, err, sizeof(err));
	ZT_FUZZ_CHECK(ret == 0 || ret == -EINVAL || ret == -ENOMEM);
	if (ret)
		ZT_FUZZ_CHECK(!strncmp(err, NAME ":", strlen(NAME ":")));
	/* the parser keeps no state between two loads: the same input, the same result */
	ret2 = zt_agent_config_parse(NAME, (const char *)data, size, &again, err2, sizeof(err2));
	ZT_FUZZ_CHECK(ret2 == ret && !strcmp(err, err2));
	if (!ret)
		check_config(&c, &again);
	zt_agent_config_free(&c);
	zt_agent_config_free(&again);
	return 0;
}
