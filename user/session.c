// SPDX-License-Identifier: MIT
/* Setting up and tearing down what every session has: exporters, BPF pipeline, buffers. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <bpf/libbpf.h>
#include "log.h"
#include "session.h"
#include "version.h"

/* The host part of a [HOST:]PORT address, into buf. */
static const char *metrics_host(const char *addr, char *buf, size_t len)
{
	const char *colon = strrchr(addr, ':');

	snprintf(buf, len, "%.*s", (int)(colon - addr), addr);
	return buf;
}

/* OTLP export when asked for with --otlp or the standard environment variables. */
static int start_otlp(struct zt_session *t)
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
	if (o->otlp_protocol &&
	    zt_otlp_parse_protocol(o->otlp_protocol, &c.json, t->err, sizeof(t->err)))
		return -EINVAL;
	if (o->otlp_gzip == 0)
		c.gzip = false;
	c.scope_version = ZTRACE_VERSION;
	if (zt_otlp_check_url(c.endpoint, t->err, sizeof(t->err)))
		return -EINVAL;
	t->otlp = zt_otlp_start(&c, t->err, sizeof(t->err));
	return t->otlp ? 0 : -EINVAL;
}

int zt_session_start_exporters(struct zt_session *t)
{
	const struct zt_options *o = t->opts;
	int ret = start_otlp(t);

	if (ret)
		return ret;
	/* A port in use is the user's to fix: find out before anything is attached. */
	if (o->metrics_addr) {
		char host[256];

		t->metrics = zt_metrics_new();
		if (!t->metrics) {
			snprintf(t->err, sizeof(t->err), "out of memory");
			return -ENOMEM;
		}
		if (o->metrics_retention_ns)
			zt_metrics_set_retention(t->metrics, o->metrics_retention_ns);
		t->http = zt_http_start(o->metrics_addr, t->metrics, t->err, sizeof(t->err));
		if (!t->http)
			return -EINVAL;
		zt_notice("metrics at http://%s:%u/metrics",
			strchr(o->metrics_addr, ':') && o->metrics_addr[0] != ':'
			    ? metrics_host(o->metrics_addr, host, sizeof(host))
			    : "127.0.0.1",
			zt_http_port(t->http));
	}
	return 0;
}

int zt_session_open_pipeline(struct zt_session *t, const struct zt_loader_config *lcfg,
			     int *code)
{
	const struct zt_options *o = t->opts;

	/* a kernel that lacks a feature is named, not left to a verifier error */
	if (zt_check_kernel_features(t->err, sizeof(t->err))) {
		*code = ZT_EXIT_USAGE;
		return -EOPNOTSUPP;
	}
	t->loader = zt_loader_open(lcfg, t->err, sizeof(t->err));
	if (!t->loader) {
		*code = ZT_EXIT_FAILURE;
		return -EINVAL;
	}
	t->rb = ring_buffer__new(bpf_map__fd(zt_loader_events(t->loader)), zt_session_drain_record,
				 t, NULL);
	t->summary = zt_summary_new();
	t->exact = zt_summary_new();
	t->procs = zt_proctable_new();
	if (!t->rb || !t->summary || !t->exact || !t->procs) {
		snprintf(t->err, sizeof(t->err), "cannot set up the ring buffer: %s",
			 strerror(errno));
		*code = ZT_EXIT_FAILURE;
		return -ENOMEM;
	}
	zt_stitch_init(&t->stitch);
	if (o->output) {
		t->store = zt_store_create(o->output, t->stitch.mono_to_real_ns, t->err,
					   sizeof(t->err));
		if (!t->store) {
			*code = ZT_EXIT_USAGE;
			return -EINVAL;
		}
	}
	t->collect = (struct zt_collect){
	    .loader = t->loader,
	    .probes = &t->probes,
	    .procs = t->procs,
	    .metrics = t->metrics,
	    .summary = t->summary,
	    .exact = t->exact,
	    .syscalls = lcfg->syscalls,
	};
	t->membudget.max_bytes = o->max_memory;
	if (o->probe_budget_ns) {
		t->governor = zt_governor_new(t->loader, o->probe_budget_ns);
		if (!t->governor)
			zt_warn("overhead governor off: cannot enable the kernel's BPF run-time "
				"stats: %s",
				strerror(errno));
	}
	return 0;
}

void zt_session_cleanup(struct zt_session *t)
{
	if (t->store)
		zt_store_close(t->store);
	zt_otlp_free(t->otlp);
	zt_http_stop(t->http);
	zt_metrics_free(t->metrics);
	ring_buffer__free(t->rb);
	zt_kprobes_close(t->kprobes);
	zt_points_close(t->points);
	zt_governor_free(t->governor);
	t->governor = NULL;
	zt_loader_close(t->loader);
	zt_summary_free(t->summary);
	zt_summary_free(t->exact);
	zt_proctable_free(t->procs);
	zt_probes_free(&t->probes);
	for (size_t i = 0; t->want && i < (t->ntargets ? t->ntargets : 1); i++)
		free(t->want[i]);
	free(t->want);
	t->want = NULL;
	for (size_t i = 0; i < t->nspecs; i++)
		zt_probe_spec_free(&t->specs[i]);
	free(t->specs);
	free(t->syscall_selected);
	for (int i = 0; i < ZT_MAX_SYSCALLS; i++) {
		free(t->syscall_probe[i]);
		t->syscall_probe[i] = NULL;
	}
	t->store = NULL;
	t->otlp = NULL;
	t->http = NULL;
	t->metrics = NULL;
	t->rb = NULL;
	t->kprobes = NULL;
	t->points = NULL;
	t->loader = NULL;
	t->summary = NULL;
	t->exact = NULL;
	t->procs = NULL;
	t->specs = NULL;
	t->nspecs = 0;
	t->syscall_selected = NULL;
}
