// SPDX-License-Identifier: MIT
#include <errno.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "otlp_attrs.h"
#include "span_args.h"

/* Protobuf strings must be UTF-8 and collectors reject a whole request otherwise, while
 * process command lines and names are arbitrary bytes: the encoders check every string. */
size_t zt_utf8_seq_len(const uint8_t *s, size_t n)
{
	uint32_t cp;
	size_t len;

	if (s[0] < 0x80)
		return 1;
	if (s[0] >= 0xc2 && s[0] <= 0xdf)
		len = 2, cp = s[0] & 0x1f;
	else if (s[0] >= 0xe0 && s[0] <= 0xef)
		len = 3, cp = s[0] & 0x0f;
	else if (s[0] >= 0xf0 && s[0] <= 0xf4)
		len = 4, cp = s[0] & 0x07;
	else
		return 0;
	if (len > n)
		return 0;
	for (size_t i = 1; i < len; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return 0;
		cp = cp << 6 | (s[i] & 0x3f);
	}
	if ((len == 3 && cp < 0x800) || (len == 4 && cp < 0x10000) || cp > 0x10ffff ||
	    (cp >= 0xd800 && cp <= 0xdfff))
		return 0;
	return len;
}

/* Bytes of s[0..n) once every invalid byte is replaced by U+FFFD. */
size_t zt_utf8_clean_len(const char *s, size_t n)
{
	size_t out = 0;

	for (size_t i = 0; i < n;) {
		size_t l = zt_utf8_seq_len((const uint8_t *)s + i, n - i);

		out += l ? l : ZT_UTF8_REPLACEMENT_LEN;
		i += l ? l : 1;
	}
	return out;
}

static void attr_set_put(struct zt_otlp_attr_set *set, const struct zt_otlp_attr *attr)
{
	for (size_t i = 0; i < set->n; i++) {
		if (!strcmp(set->a[i].key, attr->key)) {
			set->a[i] = *attr;
			return;
		}
	}
	if (set->n == ZT_OTLP_MAX_RESOURCE_ATTRS) {
		set->dropped++;
		return;
	}
	set->a[set->n++] = *attr;
}

static void attr_set_string(struct zt_otlp_attr_set *set, const char *key, const char *value)
{
	struct zt_otlp_attr a = {
	    .key = key, .type = ZT_ATTR_STRING, .str = value, .str_len = strlen(value)};

	attr_set_put(set, &a);
}

static void attr_set_int(struct zt_otlp_attr_set *set, const char *key, int64_t value)
{
	struct zt_otlp_attr a = {.key = key, .type = ZT_ATTR_INT, .num = value};

	attr_set_put(set, &a);
}

static int attr_set_env_entry(const char *key, const char *value, void *ctx)
{
	struct zt_otlp_attr_set *set = ctx;
	char *k, *v;

	if (set->n_owned + 2 > sizeof(set->owned) / sizeof(set->owned[0])) {
		set->dropped++;
		return 0;
	}
	k = strdup(key);
	v = strdup(value);
	if (!k || !v) {
		free(k);
		free(v);
		return -ENOMEM;
	}
	set->owned[set->n_owned++] = k;
	set->owned[set->n_owned++] = v;
	attr_set_string(set, k, v);
	return 0;
}

void zt_otlp_attr_set_free(struct zt_otlp_attr_set *set)
{
	for (size_t i = 0; i < set->n_owned; i++)
		free(set->owned[i]);
	set->n_owned = 0;
}

/*
 * The agent's OTEL_RESOURCE_ATTRIBUTES says things about a whole node (e.g.
 * deployment.environment); the target's own settings are more specific, and are applied in
 * the order an OpenTelemetry SDK inside the target would apply them.
 */
int zt_otlp_resource_attrs(const struct zt_otlp_batch *b, const struct zt_otlp_group *g,
			   struct zt_otlp_attr_set *set)
{
	const struct zt_process_info *p = g->proc;
	int err;

	memset(set, 0, sizeof(*set));
	if (p) {
		if (p->service_name && !p->service_name_from_env)
			attr_set_string(set, "service.name", p->service_name);
	} else if (g->n) {
		memcpy(set->comm, g->spans[0].comm, ZT_COMM_LEN);
		set->comm[ZT_COMM_LEN] = '\0';
		attr_set_string(set, "service.name", set->comm);
	}
	if (b->host_name)
		attr_set_string(set, "host.name", b->host_name);
	if (p || g->n)
		attr_set_int(set, "process.pid", p ? p->pid : g->spans[0].pid);
	if (p && p->exe)
		attr_set_string(set, "process.executable.path", p->exe);
	if (p && p->cmdline)
		attr_set_string(set, "process.command_line", p->cmdline);
	if (p) {
		/* the container, and OpenTelemetry's k8s.* conventions for a pod (k8s_pod.h) */
		const char *const where[][2] = {{"container.id", p->container_id},
						{"k8s.pod.uid", p->k8s_pod_uid},
						{"k8s.namespace.name", p->k8s_namespace},
						{"k8s.pod.name", p->k8s_pod_name}};

		for (size_t i = 0; i < sizeof(where) / sizeof(where[0]); i++)
			if (where[i][1])
				attr_set_string(set, where[i][0], where[i][1]);
	}
	if (b->resource_attrs) {
		err = zt_otlp_parse_kv_list(b->resource_attrs, attr_set_env_entry, set);
		if (err < 0)
			return err;
	}
	if (p && p->resource_attrs) {
		err = zt_otlp_parse_kv_list(p->resource_attrs, attr_set_env_entry, set);
		if (err < 0)
			return err;
	}
	if (p && p->service_name && p->service_name_from_env)
		attr_set_string(set, "service.name", p->service_name);
	return 0;
}

#define ARG_KEYS(suffix)                                                                           \
	{                                                                                          \
		"ztrace.arg0" suffix, "ztrace.arg1" suffix, "ztrace.arg2" suffix,                  \
		    "ztrace.arg3" suffix, "ztrace.arg4" suffix, "ztrace.arg5" suffix               \
	}
_Static_assert(ZT_ARGS_MAX == 6, "one key per register argument");

/* The captured arguments (--capture) into out: ztrace.argN, with ztrace.argN.truncated for a
 * string cut at its limit and ztrace.argN.unreadable (no value) for one that could not be read.
 * Returns how many. */
static size_t arg_attrs(const struct zt_args_part *a, struct zt_otlp_attr *out)
{
	static const char *const keys[] = ARG_KEYS(""), *const cut[] = ARG_KEYS(".truncated");
	static const char *const unreadable[] = ARG_KEYS(".unreadable");
	struct zt_arg_view v[ZT_ARGS_MAX];
	size_t n = zt_span_args_list(a, v), k = 0;

	for (size_t i = 0; i < n; i++) {
		unsigned idx = v[i].index;

		if (!v[i].is_str) {
			out[k++] = (struct zt_otlp_attr){
			    .key = keys[idx], .type = ZT_ATTR_INT, .num = v[i].value};
		} else if (!v[i].text) {
			out[k++] = (struct zt_otlp_attr){
			    .key = unreadable[idx], .type = ZT_ATTR_BOOL, .num = 1};
		} else {
			out[k++] = (struct zt_otlp_attr){.key = keys[idx],
							 .type = ZT_ATTR_STRING,
							 .str = v[i].text,
							 .str_len = v[i].len};
			if (v[i].truncated)
				out[k++] = (struct zt_otlp_attr){
				    .key = cut[idx], .type = ZT_ATTR_BOOL, .num = 1};
		}
	}
	return k;
}

size_t zt_otlp_span_attrs(const struct zt_span *s, struct zt_otlp_attr out[ZT_OTLP_SPAN_ATTRS_MAX])
{
	size_t n = 0;

	if (s->kind == ZT_KIND_FUNCTION || s->kind == ZT_KIND_KERNEL || s->kind == ZT_KIND_USDT)
		out[n++] = (struct zt_otlp_attr){.key = "code.function.name",
						 .type = ZT_ATTR_STRING,
						 .str = s->name ? s->name : "",
						 .str_len = s->name ? strlen(s->name) : 0};
	out[n++] = (struct zt_otlp_attr){.key = "thread.id", .type = ZT_ATTR_INT, .num = s->tid};
	if (s->comm[0])
		out[n++] = (struct zt_otlp_attr){.key = "thread.name",
						 .type = ZT_ATTR_STRING,
						 .str = s->comm,
						 .str_len = strnlen(s->comm, ZT_COMM_LEN)};
	if (s->probe)
		out[n++] = (struct zt_otlp_attr){.key = "ztrace.probe",
						 .type = ZT_ATTR_STRING,
						 .str = s->probe,
						 .str_len = strlen(s->probe)};
	/* An incomplete call never returned: it has no return value to report. */
	if (s->status == ZT_STATUS_INCOMPLETE)
		out[n++] = (struct zt_otlp_attr){
		    .key = "ztrace.incomplete", .type = ZT_ATTR_BOOL, .num = 1};
	else
		out[n++] = (struct zt_otlp_attr){
		    .key = "ztrace.return_value", .type = ZT_ATTR_INT, .num = s->ret};
	if (s->syscall_count)
		out[n++] = (struct zt_otlp_attr){
		    .key = "ztrace.syscall.count", .type = ZT_ATTR_INT, .num = s->syscall_count};
	if (s->syscall_ns)
		out[n++] = (struct zt_otlp_attr){.key = "ztrace.syscall.duration_ns",
						 .type = ZT_ATTR_INT,
						 .num = (int64_t)s->syscall_ns};
	return n + arg_attrs(&s->args, out + n);
}

void zt_otlp_status_message(const struct zt_span *s, char message[ZT_OTLP_STATUS_MESSAGE_LEN])
{
	snprintf(message, ZT_OTLP_STATUS_MESSAGE_LEN, "returned %" PRId64, s->ret);
}

void zt_otlp_span_id_bytes(uint64_t id, uint8_t out[8])
{
	for (int i = 0; i < 8; i++)
		out[i] = id >> (56 - 8 * i);
}

/* ---- key=value lists ---- */

static int hex_digit(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/* Trim [*s, *e) of blanks in place. */
static void trim(const char **s, const char **e)
{
	while (*s < *e && (**s == ' ' || **s == '\t'))
		(*s)++;
	while (*e > *s && ((*e)[-1] == ' ' || (*e)[-1] == '\t'))
		(*e)--;
}

int zt_otlp_parse_kv_list(const char *list,
			  int (*fn)(const char *key, const char *value, void *ctx), void *ctx)
{
	const char *p = list;
	char *key = NULL, *value = NULL;
	int skipped = 0, err = 0;

	while (p && *p) {
		const char *comma = strchr(p, ',');
		const char *end = comma ? comma : p + strlen(p);
		const char *eq = memchr(p, '=', end - p);
		const char *ks = p, *ke = eq, *vs, *ve = end;
		size_t n = 0;

		p = comma ? comma + 1 : NULL;
		if (!eq) {
			/* an empty entry (",," or a trailing comma) is not an error */
			trim(&ks, &ve);
			skipped += ks != ve;
			continue;
		}
		vs = eq + 1;
		trim(&ks, &ke);
		trim(&vs, &ve);
		if (ks == ke) {
			skipped++;
			continue;
		}
		key = strndup(ks, ke - ks);
		value = malloc(ve - vs + 1);
		if (!key || !value) {
			err = -ENOMEM;
			goto out;
		}
		for (const char *c = vs; c < ve; c++) {
			int hi, lo;

			if (*c == '%' && ve - c >= 3 && (hi = hex_digit(c[1])) >= 0 &&
			    (lo = hex_digit(c[2])) >= 0) {
				value[n++] = hi << 4 | lo;
				c += 2;
			} else {
				value[n++] = *c;
			}
		}
		value[n] = '\0';
		err = fn(key, value, ctx);
		free(key);
		free(value);
		key = value = NULL;
		if (err < 0)
			goto out;
	}
out:
	free(key);
	free(value);
	return err < 0 ? err : skipped;
}
