// SPDX-License-Identifier: MIT
/*
 * The OTLP encoders. A fixed batch (three processes, nested, error, incomplete and syscall
 * spans, attribute precedence, bytes that are not UTF-8) is compared with golden files
 * (ZT_UPDATE_GOLDEN=1 rewrites them), a batch with random ids and the current time is compared
 * after normalising ids and times, and the protobuf output is decoded by the OpenTelemetry
 * project's own generated code (tests/peers/otlp-receiver/decode.js, run with node), which
 * must see the same request in the protobuf and the JSON encoding.
 */
#include <criterion/criterion.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include "common/otlp_receiver.h"
#include "golden/golden.h"
#include "otlp_attrs.h"
#include "otlp_encode.h"
#include "otlp_http.h"

#define ID_A	"3f4e8a1b2c9d0e7f6a5b4c3d2e1f0a9b8c7d6e5f4a3b2c1d0e9f8a7b6c5d4e3f"
#define BASE_NS 1700000000000000000ull
#define N_SPANS 6
/* Bytes per line of the protobuf golden hex dump. */
#define HEX_LINE_BYTES 32
/* Longest output of decode.js we accept. */
#define DECODE_OUT_MAX (1 << 20)

static const struct zt_process_info proc_orders = {
    .pid = 4242,
    .start_time = 123456,
    .comm = "orders",
    .exe = "/opt/shop/bin/orders",
    /* quotes, a tab and a byte that is not UTF-8 (0xff) after a valid "é" */
    .cmdline = "/opt/shop/bin/orders --note \"caf\xc3\xa9\"\t\xff",
    .service_name = "orders",
    .container_id = ID_A,
    .resource_attrs = "team=payments, service.version = 1.2.3",
};

static const struct zt_process_info proc_checkout = {
    .pid = 5151,
    .start_time = 999,
    .comm = "checkout",
    .exe = "/usr/bin/checkout",
    .cmdline = "checkout",
    .service_name = "checkout-svc",
    .service_name_from_env = true,
    .resource_attrs = "service.name=overridden,region=eu%2Cwest",
};

struct fixture {
	struct zt_span spans[N_SPANS];
	struct zt_otlp_group groups[3];
	struct zt_otlp_batch batch;
};

static void set_trace(struct zt_span *s, uint8_t seed)
{
	for (int i = 0; i < 16; i++)
		s->trace_id[i] = seed + i;
}

/*
 * Build the batch. With random ids and times the structure is the same: trace and span ids
 * shared or linked the same way, times in the same order.
 */
static void make_batch(struct fixture *f, bool random)
{
	uint64_t ids[N_SPANS] = {0x1111111111111111, 0x2222222222222222, 0x3333333333333333,
				 0x4444444444444444, 0xfedcba9876543210, 0x0000000000000042};
	uint8_t traces[4] = {0x10, 0x20, 0x30, 0x40};
	uint64_t base = BASE_NS;
	struct zt_span *s = f->spans;

	memset(f, 0, sizeof(*f));
	if (random) {
		struct timespec ts;

		bool distinct;

		/* the normaliser numbers ids by first sight: equal random values (a 1 in 40 chance
		 * for four random bytes) would number differently from the fixed batch */
		do {
			cr_assert_eq(getrandom(ids, sizeof(ids), 0), (ssize_t)sizeof(ids));
			cr_assert_eq(getrandom(traces, sizeof(traces), 0), (ssize_t)sizeof(traces));
			distinct = true;
			for (int i = 0; i < N_SPANS; i++)
				distinct &= ids[i] != 0;
			for (int i = 0; i < 4; i++)
				for (int j = i + 1; j < 4; j++)
					distinct &= traces[i] != traces[j];
			for (int i = 0; i < N_SPANS; i++)
				for (int j = i + 1; j < N_SPANS; j++)
					distinct &= ids[i] != ids[j];
		} while (!distinct);
		clock_gettime(CLOCK_REALTIME, &ts);
		base = (uint64_t)ts.tv_sec * 1000000000ull + ts.tv_nsec;
	}
	for (int i = 0; i < N_SPANS; i++) {
		s[i].span_id = ids[i];
		s[i].pid = 4242;
		s[i].tid = 4242;
		strcpy(s[i].comm, "orders");
		s[i].kind = ZT_KIND_FUNCTION;
	}
	/* orders: process_order { validate_order (error), write (syscall) }, then ship_order
	 * on another thread, cut off (incomplete) */
	set_trace(&s[0], traces[0]);
	s[0].name = "process_order";
	s[0].probe = "u:/opt/shop/bin/orders:process_order";
	s[0].start_ns = base;
	s[0].end_ns = base + 5000000;
	s[0].syscall_count = 3;
	s[0].syscall_ns = 45000;
	s[1] = s[0];
	s[1].span_id = ids[1];
	s[1].parent_span_id = ids[0];
	s[1].name = "validate_order";
	s[1].probe = "u:/opt/shop/bin/orders:validate_order";
	s[1].start_ns = base + 1000;
	s[1].end_ns = base + 2000;
	s[1].syscall_count = 0;
	s[1].syscall_ns = 0;
	s[1].ret = -22;
	s[1].status = ZT_STATUS_ERROR;
	s[1].depth = 1;
	s[2] = s[1];
	s[2].span_id = ids[2];
	s[2].name = "write";
	s[2].kind = ZT_KIND_SYSCALL;
	s[2].probe = NULL;
	s[2].start_ns = base + 3000;
	s[2].end_ns = base + 4000;
	s[2].ret = 12;
	s[2].status = ZT_STATUS_OK;
	set_trace(&s[3], traces[1]);
	s[3].tid = 4243;
	strcpy(s[3].comm, "worker-1");
	s[3].name = "ship_order";
	s[3].probe = "u:/opt/shop/bin/orders:ship_order";
	s[3].start_ns = base + 6000;
	s[3].end_ns = base + 9000;
	s[3].status = ZT_STATUS_INCOMPLETE;
	/* checkout: one root whose id has the top bit set */
	set_trace(&s[4], traces[2]);
	s[4].pid = s[4].tid = 5151;
	strcpy(s[4].comm, "checkout");
	s[4].name = "handle_request";
	s[4].probe = "u:/usr/bin/checkout:handle_request";
	s[4].start_ns = base + 10000;
	s[4].end_ns = base + 20000;
	s[4].ret = 1;
	/* a process ztrace knows nothing about */
	set_trace(&s[5], traces[3]);
	s[5].pid = s[5].tid = 77;
	strcpy(s[5].comm, "cron");
	s[5].name = "tick";
	s[5].probe = "u:/usr/sbin/cron:tick";
	s[5].start_ns = base + 30000;
	s[5].end_ns = base + 30001;

	f->groups[0] = (struct zt_otlp_group){.proc = &proc_orders, .spans = &s[0], .n = 4};
	f->groups[1] = (struct zt_otlp_group){.proc = &proc_checkout, .spans = &s[4], .n = 1};
	f->groups[2] = (struct zt_otlp_group){.proc = NULL, .spans = &s[5], .n = 1};
	f->batch = (struct zt_otlp_batch){
	    .host_name = "testhost",
	    .resource_attrs = "deployment.environment=test,team=platform",
	    .scope_version = "0.1.0",
	    .groups = f->groups,
	    .n_groups = 3,
	};
}

static char *hex_dump(const struct zt_buf *b)
{
	size_t len = b->len * 2 + b->len / HEX_LINE_BYTES + 2, n = 0;
	char *out = malloc(len);

	cr_assert_not_null(out);
	for (size_t i = 0; i < b->len; i++) {
		n += sprintf(out + n, "%02x", b->data[i]);
		if (i % HEX_LINE_BYTES == HEX_LINE_BYTES - 1 || i == b->len - 1)
			out[n++] = '\n';
	}
	out[n] = '\0';
	return out;
}

/* The JSON text with every id replaced by "<id N>" (N numbering distinct ids in order of
 * appearance, so links between spans survive) and every time by "<time>". */
static char *normalise_ids_times(const char *json)
{
	static const char *const id_keys[] = {"\"traceId\":\"", "\"spanId\":\"",
					      "\"parentSpanId\":\""};
	static const char *const time_keys[] = {"\"startTimeUnixNano\":\"",
						"\"endTimeUnixNano\":\""};
	char seen[3 * N_SPANS][33];
	size_t n_seen = 0, n = 0;
	char *out = malloc(strlen(json) + 1);
	const char *p = json;

	cr_assert_not_null(out);
	while (*p) {
		bool matched = false;

		for (size_t k = 0; k < 3 && !matched; k++) {
			size_t kl = strlen(id_keys[k]), vl;
			size_t i;

			if (strncmp(p, id_keys[k], kl))
				continue;
			vl = strcspn(p + kl, "\"");
			cr_assert_leq(vl, 32);
			for (i = 0; i < n_seen; i++)
				if (strlen(seen[i]) == vl && !strncmp(seen[i], p + kl, vl))
					break;
			if (i == n_seen) {
				cr_assert_lt(n_seen, sizeof(seen) / sizeof(seen[0]));
				memcpy(seen[n_seen], p + kl, vl);
				seen[n_seen++][vl] = '\0';
			}
			n += sprintf(out + n, "%.*s<id %zu>", (int)kl, p, i + 1);
			p += kl + vl;
			matched = true;
		}
		for (size_t k = 0; k < 2 && !matched; k++) {
			size_t kl = strlen(time_keys[k]);

			if (strncmp(p, time_keys[k], kl))
				continue;
			n += sprintf(out + n, "%.*s<time>", (int)kl, p);
			p += kl + strcspn(p + kl, "\"");
			matched = true;
		}
		if (!matched)
			out[n++] = *p++;
	}
	out[n] = '\0';
	return out;
}

static char *encode_json(const struct zt_otlp_batch *b)
{
	struct zt_buf buf = {0};

	cr_assert_eq(zt_otlp_encode_json(b, &buf), 0);
	cr_assert_eq(zt_buf_append(&buf, "\n", 2), 0); /* newline and NUL */
	return (char *)buf.data;
}

Test(otlp_golden, protobuf)
{
	struct fixture f;
	struct zt_buf buf = {0};
	char *hex;

	make_batch(&f, false);
	cr_assert_eq(zt_otlp_encode_proto(&f.batch, &buf), 0);
	hex = hex_dump(&buf);
	zt_golden_check("otlp_batch.pb.hex", hex, strlen(hex));
	free(hex);
	zt_buf_free(&buf);
}

Test(otlp_golden, json)
{
	struct fixture f;
	char *json;

	make_batch(&f, false);
	json = encode_json(&f.batch);
	zt_golden_check("otlp_batch.json", json, strlen(json));
	free(json);
}

Test(otlp_golden, normalised_random_ids_and_times)
{
	struct fixture fixed, rnd;
	char *a, *b, *na, *nb;

	make_batch(&fixed, false);
	make_batch(&rnd, true);
	a = encode_json(&fixed.batch);
	b = encode_json(&rnd.batch);
	cr_assert_str_neq(a, b);
	na = normalise_ids_times(a);
	nb = normalise_ids_times(b);
	zt_golden_check("otlp_batch.norm.json", na, strlen(na));
	cr_assert_str_eq(nb, na);
	free(a);
	free(b);
	free(na);
	free(nb);
}

Test(otlp_encode, empty_batch)
{
	struct zt_otlp_batch batch = {0};
	struct zt_buf buf = {0};

	cr_assert_eq(zt_otlp_encode_proto(&batch, &buf), 0);
	cr_assert_eq(buf.len, 0);
	cr_assert_eq(zt_otlp_encode_json(&batch, &buf), 0);
	cr_assert_eq(buf.len, strlen("{\"resourceSpans\":[]}"));
	cr_assert_eq(memcmp(buf.data, "{\"resourceSpans\":[]}", buf.len), 0);
	zt_buf_free(&buf);
}

Test(otlp_encode, one_span_exact_bytes)
{
	/* a span alone, checked field by field against the protobuf wire format by hand */
	struct zt_span s = {.span_id = 0x0102030405060708,
			    .start_ns = 1,
			    .end_ns = 0x0200,
			    .name = "f",
			    .tid = 300,
			    .kind = ZT_KIND_SYSCALL};
	struct zt_otlp_group g = {.spans = &s, .n = 1};
	struct zt_otlp_batch b = {.groups = &g, .n_groups = 1};
	struct zt_buf buf = {0};
	static const uint8_t span_msg[] = {
	    0x0a, 16,	0,    0,    0,	 0,   0,   0,	0,   0,	   0,	0,    0,   0,
	    0,	  0,	0,    0,				/* trace_id */
	    0x12, 8,	1,    2,    3,	 4,   5,   6,	7,   8, /* span_id, big-endian */
	    0x2a, 1,	'f',					/* name */
	    0x30, 1,						/* kind INTERNAL */
	    0x39, 1,	0,    0,    0,	 0,   0,   0,	0,	/* start, fixed64 little-endian */
	    0x41, 0,	2,    0,    0,	 0,   0,   0,	0,	/* end */
	    0x4a, 16,	0x0a, 9,    't', 'h', 'r', 'e', 'a', 'd',  '.', 'i',  'd', 0x12,
	    3,	  0x18, 0xac, 0x02, /* thread.id = 300 (varint ac 02) */
	    0x4a, 25,	0x0a, 19,   'z', 't', 'r', 'a', 'c', 'e',  '.', 'r',  'e', 't',
	    'u',  'r',	'n',  '_',  'v', 'a', 'l', 'u', 'e', 0x12, 2,	0x18, 0, /* ret 0 */
	};
	const uint8_t *p;

	cr_assert_eq(zt_otlp_encode_proto(&b, &buf), 0);
	/* the span is the last thing in the request: ... 0x12 LEN span */
	cr_assert_geq(buf.len, sizeof(span_msg) + 2);
	p = buf.data + buf.len - sizeof(span_msg);
	cr_assert_eq(p[-2], 0x12);
	cr_assert_eq(p[-1], sizeof(span_msg));
	cr_assert_eq(memcmp(p, span_msg, sizeof(span_msg)), 0);
	zt_buf_free(&buf);
}

struct kv_seen {
	char text[512];
	size_t n;
};

static int collect_kv(const char *key, const char *value, void *ctx)
{
	struct kv_seen *s = ctx;

	s->n += snprintf(s->text + s->n, sizeof(s->text) - s->n, "[%s]=[%s]", key, value);
	return 0;
}

static int stop_at_b(const char *key, const char *value, void *ctx)
{
	return strcmp(key, "b") ? 0 : -ECANCELED;
}

Test(kv_list, parse)
{
	struct kv_seen s = {0};

	cr_assert_eq(zt_otlp_parse_kv_list(" a = 1 ,b=x%3Dy%2c z,,c=,=nokey,novalue,d=%zz%4",
					   collect_kv, &s),
		     2);
	cr_assert_str_eq(s.text, "[a]=[1][b]=[x=y, z][c]=[][d]=[%zz%4]");
	cr_assert_eq(zt_otlp_parse_kv_list("", collect_kv, &s), 0);
	cr_assert_eq(zt_otlp_parse_kv_list("a=1,b=2,c=3", stop_at_b, NULL), -ECANCELED);
}

/* ---- the independent decoder ---- */

/* The repository root, found the way golden.h finds tests/unit/golden. */
static void repo_path(char *out, const char *rel)
{
	char golden[PATH_MAX];
	size_t len;

	zt_golden_path(golden, "");
	len = strlen(golden) - strlen(ZT_GOLDEN_DIR "/");
	cr_assert_lt(snprintf(out, PATH_MAX, "%.*s%s", (int)len, golden, rel), PATH_MAX);
}

/* Run node decode.js ARGS with stdin from data; returns its stdout (malloc'ed). */
static char *run_decoder(const void *data, size_t len, const char *arg1, const char *arg2)
{
	char script[PATH_MAX], modules[PATH_MAX], in_path[] = "/tmp/zt-otlp-in-XXXXXX";
	char *argv[] = {"node", script, (char *)arg1, (char *)arg2, NULL};
	char *out = malloc(DECODE_OUT_MAX);
	size_t n = 0;
	int fd, pipefd[2], status;
	ssize_t r;
	pid_t pid;

	repo_path(script, "tests/peers/otlp-receiver/decode.js");
	repo_path(modules,
		  "tests/peers/otlp-receiver/node_modules/@opentelemetry/otlp-transformer");
	cr_assert_eq(access(modules, F_OK), 0,
		     "the OTLP peer is not installed: run tests/peers/otlp-receiver/setup.sh");
	fd = mkstemp(in_path);
	cr_assert_geq(fd, 0);
	cr_assert_eq(write(fd, data, len), (ssize_t)len);
	cr_assert_eq(lseek(fd, 0, SEEK_SET), 0);
	unlink(in_path);
	cr_assert_eq(pipe(pipefd), 0);
	pid = fork();
	cr_assert_geq(pid, 0);
	if (pid == 0) {
		dup2(fd, 0);
		dup2(pipefd[1], 1);
		execvp("node", argv);
		_exit(127);
	}
	close(fd);
	close(pipefd[1]);
	cr_assert_not_null(out);
	while ((r = read(pipefd[0], out + n, DECODE_OUT_MAX - 1 - n)) > 0)
		n += r;
	out[n] = '\0';
	close(pipefd[0]);
	cr_assert_eq(waitpid(pid, &status, 0), pid);
	cr_assert(WIFEXITED(status) && WEXITSTATUS(status) == 0,
		  "decode.js %s failed (status %#x), output: %s", arg1 ? arg1 : "", status, out);
	return out;
}

/* Split the TSV output into lines of TSV_COLS columns (in place). Returns the line count. */
static size_t split_tsv(char *text, char *cols[][TSV_COLS], size_t max)
{
	size_t n = 0;
	char *save_line, *line;

	for (line = strtok_r(text, "\n", &save_line); line;
	     line = strtok_r(NULL, "\n", &save_line)) {
		size_t c = 0;

		cr_assert_lt(n, max);
		for (char *p = line;; p++) {
			char *tab = strchr(p, '\t');

			cr_assert_lt(c, TSV_COLS, "too many columns: %s", line);
			cols[n][c++] = p;
			if (!tab)
				break;
			*tab = '\0';
			p = tab;
		}
		cr_assert_eq(c, TSV_COLS, "line has %zu columns", c);
		n++;
	}
	return n;
}

static void span_id_hex(uint64_t id, char out[17])
{
	snprintf(out, 17, "%016llx", (unsigned long long)id);
}

Test(otlp_peer, protobuf_decodes_to_the_spans)
{
	struct fixture f;
	struct zt_buf buf = {0};
	char *cols[N_SPANS][TSV_COLS], hex[33], want[64];
	char *out;

	make_batch(&f, false);
	cr_assert_eq(zt_otlp_encode_proto(&f.batch, &buf), 0);
	out = run_decoder(buf.data, buf.len, "--tsv", NULL);
	cr_assert_eq(split_tsv(out, cols, N_SPANS), N_SPANS, "%s", out);
	for (int i = 0; i < N_SPANS; i++) {
		const struct zt_span *s = &f.spans[i];

		zt_trace_id_hex(s->trace_id, hex);
		cr_expect_str_eq(cols[i][C_TRACE], hex);
		span_id_hex(s->span_id, hex);
		cr_expect_str_eq(cols[i][C_SPAN], hex);
		if (s->parent_span_id)
			span_id_hex(s->parent_span_id, hex);
		cr_expect_str_eq(cols[i][C_PARENT], s->parent_span_id ? hex : "-");
		cr_expect_str_eq(cols[i][C_NAME], s->name);
		cr_expect_str_eq(cols[i][C_KIND], "1");
		snprintf(want, sizeof(want), "%llu", (unsigned long long)s->start_ns);
		cr_expect_str_eq(cols[i][C_START], want);
		snprintf(want, sizeof(want), "%llu", (unsigned long long)s->end_ns);
		cr_expect_str_eq(cols[i][C_END], want);
		cr_expect_str_eq(cols[i][C_STATUS], s->status == ZT_STATUS_ERROR ? "2" : "0");
	}
	/* the span ids link children to their parent, in the same trace */
	cr_expect_str_eq(cols[1][C_PARENT], cols[0][C_SPAN]);
	cr_expect_str_eq(cols[2][C_PARENT], cols[0][C_SPAN]);
	cr_expect_str_eq(cols[1][C_TRACE], cols[0][C_TRACE]);
	cr_expect_str_eq(cols[4][C_SPAN], "fedcba9876543210");
	cr_expect_str_eq(cols[1][C_MESSAGE], "returned -22");

	cr_expect_str_eq(cols[0][C_ATTRS],
			 "code.function.name=process_order;thread.id=4242;thread.name=orders;"
			 "ztrace.probe=u:/opt/shop/bin/orders:process_order;ztrace.return_value=0;"
			 "ztrace.syscall.count=3;ztrace.syscall.duration_ns=45000");
	cr_expect_str_eq(cols[1][C_ATTRS],
			 "code.function.name=validate_order;thread.id=4242;thread.name=orders;"
			 "ztrace.probe=u:/opt/shop/bin/orders:validate_order;"
			 "ztrace.return_value=-22");
	/* a syscall has no code.function.name, and this one no probe */
	cr_expect_str_eq(cols[2][C_ATTRS], "thread.id=4242;thread.name=orders;"
					   "ztrace.return_value=12");
	cr_expect_str_eq(cols[3][C_ATTRS],
			 "code.function.name=ship_order;thread.id=4243;thread.name=worker-1;"
			 "ztrace.incomplete=true;ztrace.probe=u:/opt/shop/bin/orders:ship_order");

	/* resources: the target's attributes beat the agent's, OTEL_SERVICE_NAME beats both */
	cr_expect_str_eq(
	    cols[0][C_RESOURCE],
	    "container.id=" ID_A ";deployment.environment=test;host.name=testhost;"
	    "process.command_line=/opt/shop/bin/orders --note \"caf\xc3\xa9\" "
	    "\xef\xbf\xbd;process.executable.path=/opt/shop/bin/orders;"
	    "process.pid=4242;service.name=orders;service.version=1.2.3;team=payments");
	cr_expect_str_eq(cols[4][C_RESOURCE],
			 "deployment.environment=test;host.name=testhost;process.command_line="
			 "checkout;process.executable.path=/usr/bin/checkout;process.pid=5151;"
			 "region=eu,west;service.name=checkout-svc;team=platform");
	cr_expect_str_eq(cols[5][C_RESOURCE], "deployment.environment=test;host.name=testhost;"
					      "process.pid=77;service.name=cron;team=platform");
	free(out);
	zt_buf_free(&buf);
}

Test(otlp_peer, json_and_protobuf_are_the_same_request)
{
	struct fixture f;
	struct zt_buf pb = {0}, gz = {0};
	char *json, *from_pb, *from_json, *from_gz;

	make_batch(&f, false);
	cr_assert_eq(zt_otlp_encode_proto(&f.batch, &pb), 0);
	json = encode_json(&f.batch);
	from_pb = run_decoder(pb.data, pb.len, NULL, NULL);
	from_json = run_decoder(json, strlen(json), "--json", NULL);
	cr_assert_str_eq(from_json, from_pb);
	/* what the exporter sends with Content-Encoding: gzip */
	cr_assert_eq(zt_gzip(pb.data, pb.len, &gz), 0);
	cr_assert_lt(gz.len, pb.len);
	from_gz = run_decoder(gz.data, gz.len, "--gzip", NULL);
	cr_assert_str_eq(from_gz, from_pb);
	/* spot-check the normalised form itself */
	cr_assert_not_null(strstr(from_pb, "\"scope\":{\"name\":\"ztrace\",\"version\":\"0.1.0\"}"),
			   "%s", from_pb);
	free(json);
	free(from_pb);
	free(from_json);
	free(from_gz);
	zt_buf_free(&pb);
	zt_buf_free(&gz);
}

Test(otlp_peer, decoder_rejects_garbage)
{
	char script[PATH_MAX];
	char cmd[2 * PATH_MAX];

	/* the peer must be able to fail, or the tests above prove nothing */
	repo_path(script, "tests/peers/otlp-receiver/decode.js");
	snprintf(cmd, sizeof(cmd), "printf '\\x0a\\x05\\x01' | node %s >/dev/null 2>&1", script);
	cr_assert_neq(system(cmd), 0);
	snprintf(
	    cmd, sizeof(cmd),
	    "echo '{\"resourceSpans\":[{\"scopeSpans\":[{\"spans\":[{\"traceId\":\"xyz\"}]}]}]}'"
	    " | node %s --json >/dev/null 2>&1",
	    script);
	cr_assert_neq(system(cmd), 0);
}
