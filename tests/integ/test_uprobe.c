/* SPDX-License-Identifier: MIT */
/*
 * Integration tests of function tracing with uprobes: run the real ztrace binary as root
 * against tests/targets/orders (and libpricing.so) and check the JSON spans it prints, exactly.
 *
 * Binaries come from $ZT_OUTPUT (default .output): $ZT_OUTPUT/ztrace and $ZT_OUTPUT/targets/.
 * Run from the repository root, as root, one test at a time (--jobs=1): some tests look at
 * system-wide BPF state.
 */
#include <criterion/criterion.h>
#include <errno.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "common/bpfstate.h"
#include "common/jsonl.h"
#include "common/procmem.h"
#include "common/runproc.h"
#include "common/testenv.h"

/* What tests/targets/orders.c does (see its header comment); these tests mirror it. */
#define ORDERS_INVALID_EVERY	 5     /* validate_order fails for id % 5 == 0 */
#define ORDERS_EINVAL_RET	 (-22) /* ... returning -EINVAL */
#define ORDERS_FAILED_RET	 (-1)  /* and process_order returns -1 */
#define ORDERS_FIB_N		 5     /* compute_price adds fib(5) */
#define ORDERS_FIB_RET		 5     /* fib(5) */
#define ORDERS_FIB_DEPTH	 5     /* deepest fib frame below compute_price */
#define ORDERS_PRICE_BASE	 1000  /* price_lookup(id) = 1000 + (id % 7) * 125 */
#define ORDERS_PRICE_STEPS	 7
#define ORDERS_PRICE_STEP	 125
#define ORDERS_DISCOUNT_STEPS	 3 /* apply_discount(price, id % 3 * 5) */
#define ORDERS_DISCOUNT_STEP_PCT 5
#define PERCENT			 100
/* Calls of fib per priced order at recursion depth 1..5: 15 in all. */
static const long fib_per_depth[ORDERS_FIB_DEPTH] = {1, 2, 4, 6, 2};
#define ORDERS_FIB_CALLS 15

/* Deadlines, in milliseconds. */
#define ATTACH_MS	5000 /* ztrace prints "ztrace: tracing " */
#define READY_MS	3000 /* a --wait target prints "ready <pid>" */
#define EXIT_MS		8000 /* a traced run ends */
#define ERROR_EXIT_MS	5000 /* ztrace refuses bad input */
#define CLEANUP_MS	3000 /* the kernel drops a dead tracer's probes */
#define CLEANUP_POLL_MS 20
#define KILL_AFTER_MS	600 /* into a traced run of orders, for the SIGKILL test */
#define INTO_SLEEP_MS	500 /* after release, a --sleep-ms 4000 order is inside slow_io */
/* Detaching (unregistering uprobes) takes the kernel about a second. */
#define DETACH_MS 3000
/* -d 1 ends tracing this long after the "tracing" line: 1 s, plus detaching. */
#define DURATION_MIN_MS 900
#define DURATION_MAX_MS 3500
/* -d for runs that should be refused: bounds the test if ztrace wrongly accepts them. */
#define REFUSED_DURATION_ARG "2"

#define NS_PER_MS 1000000LL
/* 2020-01-01 in Unix ns: a span starting before that has a bad clock conversion. */
#define UNIX_NS_2020 1577836800000000000LL
#define NS_PER_DAY   (86400LL * 1000000000LL)

#define ARGV_MAX     32
#define TRACING_LINE "ztrace: tracing "
#define NO_SUCH_PID  999999

/* Absolute paths of the binaries under test, set by setup(). */
static char ztrace_bin[PATH_MAX];
static char orders_bin[PATH_MAX];
static char pricing_lib[PATH_MAX];
static char dlopener_bin[PATH_MAX];

/* The specs that trace all of orders' interesting functions. */
static const char *const order_specs[] = {
    "process_order", "validate_order", "compute_price", "fib", "slow_io", "u:libpricing.so:*",
};

static void av_add_specs(struct zt_argv *a)
{
	size_t i;

	for (i = 0; i < sizeof(order_specs) / sizeof(order_specs[0]); i++)
		zt_argv_add(a, order_specs[i]);
}

static void setup(void)
{
	if (geteuid() != 0)
		cr_skip_test("integration tests load BPF programs: run as root");
	zt_ztrace_path(ztrace_bin);
	zt_output_path(orders_bin, "targets/orders");
	zt_output_path(pricing_lib, "targets/libpricing.so");
	zt_output_path(dlopener_bin, "targets/dlopener");
}

/* The last @max bytes of @s, for failure messages. */
static const char *tail(const char *s, size_t max)
{
	size_t len = strlen(s);

	return len > max ? s + len - max : s;
}

#define OUT_TAIL 3000

/* Parses ztrace's stdout into @spans; fails the test on any malformed line. */
static void parse_spans(struct zt_proc *zt, struct zt_spans *spans)
{
	char err[512];
	int ret;

	memset(spans, 0, sizeof(*spans));
	ret = zt_jsonl_parse(zt_proc_text(zt, ZT_STDOUT), spans, err, sizeof(err));
	cr_assert_eq(ret, 0, "ztrace's JSON output does not parse: %s\nstdout:\n%s", err,
		     tail(zt_proc_text(zt, ZT_STDOUT), OUT_TAIL));
}

/*
 * Starts orders --wait with @extra arguments and waits for its "ready <pid>" line; checks
 * that the pid it prints is the child's.
 */
static void start_waiting_orders(struct zt_proc *orders, const char *const *extra)
{
	struct zt_argv a = {0};
	char line[128];
	int ret, pid;

	zt_argv_add(&a, orders_bin);
	zt_argv_add(&a, "--wait");
	for (; extra && *extra; extra++)
		zt_argv_add(&a, *extra);
	ret = zt_proc_spawn(orders, a.v, NULL);
	cr_assert_eq(ret, 0, "spawn %s: %s", orders_bin, strerror(-ret));
	ret = zt_proc_wait_line(orders, ZT_STDOUT, "ready ", READY_MS, line, sizeof(line));
	cr_assert_eq(ret, 0, "orders did not print 'ready' (%s); stderr: %s", strerror(-ret),
		     zt_proc_text(orders, ZT_STDERR));
	cr_assert_eq(sscanf(line, "ready %d", &pid), 1, "bad ready line '%s'", line);
	cr_assert_eq(pid, orders->pid);
}

/* Starts ztrace with @a and waits for its "ztrace: tracing " line on stderr. */
static void start_tracing(struct zt_proc *zt, struct zt_argv *a)
{
	char line[512];
	int ret;

	ret = zt_proc_spawn(zt, a->v, NULL);
	cr_assert_eq(ret, 0, "spawn %s: %s", ztrace_bin, strerror(-ret));
	ret = zt_proc_wait_line(zt, ZT_STDERR, TRACING_LINE, ATTACH_MS, line, sizeof(line));
	cr_assert_eq(ret, 0, "no '%s' line from ztrace within %d ms (%s); stderr:\n%s",
		     TRACING_LINE, ATTACH_MS, strerror(-ret), zt_proc_text(zt, ZT_STDERR));
	cr_assert_eq(strncmp(line, TRACING_LINE, strlen(TRACING_LINE)), 0,
		     "'%s' must start the line: '%s'", TRACING_LINE, line);
}

/* Releases a --wait target: one byte on its stdin. */
static void release(struct zt_proc *target)
{
	int ret = zt_proc_write(target, "g", 1);

	cr_assert_eq(ret, 0, "write to the target's stdin: %s", strerror(-ret));
}

/* Waits for @p to exit with @code, failing with its stderr otherwise. */
static void expect_exit(struct zt_proc *p, const char *what, int code, int timeout_ms)
{
	int ret = zt_proc_wait(p, timeout_ms);

	cr_assert_eq(ret, code, "%s: exit %d (%s), want %d; stderr:\n%s", what, ret,
		     ret < 0 ? strerror(-ret) : "", code,
		     tail(zt_proc_text(p, ZT_STDERR), OUT_TAIL));
}

/* --- what a run of orders must look like --- */

struct orders_run {
	long orders;	  /* --orders */
	long threads;	  /* --threads */
	long sleep_ms;	  /* --sleep-ms */
	pid_t pid;	  /* the target's pid, 0 when unknown (launch mode) */
	long total_cents; /* from orders' last line, -1 when unknown */
};

static long price_of(long id)
{
	return ORDERS_PRICE_BASE + id % ORDERS_PRICE_STEPS * ORDERS_PRICE_STEP;
}

static long discounted(long id)
{
	long price = price_of(id), pct = id % ORDERS_DISCOUNT_STEPS * ORDERS_DISCOUNT_STEP_PCT;

	return price - price * pct / PERCENT;
}

static bool is_lib_function(const char *name)
{
	return !strcmp(name, "price_lookup") || !strcmp(name, "apply_discount");
}

/* Returns the only child of @parent named @name; fails unless there is exactly one. */
static const struct zt_span *only_child(const struct zt_spans *s, const struct zt_span *parent,
					const char *name)
{
	const struct zt_span *found = NULL;
	size_t i, n = 0;

	for (i = 0; i < s->n; i++) {
		if (strcmp(s->v[i].parent_span_id, parent->span_id) || strcmp(s->v[i].name, name))
			continue;
		found = &s->v[i];
		n++;
	}
	cr_assert_eq(n, 1, "%s (line %zu) has %zu %s children, want 1", parent->name, parent->line,
		     n, name);
	return found;
}

static size_t children(const struct zt_spans *s, const struct zt_span *parent)
{
	size_t i, n = 0;

	for (i = 0; i < s->n; i++)
		n += !strcmp(s->v[i].parent_span_id, parent->span_id);
	return n;
}

static int cmp_str_ptr(const void *a, const void *b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* Fails unless the @n strings at @v are all different. */
static void assert_distinct(const char **v, size_t n, const char *what)
{
	size_t i;

	qsort(v, n, sizeof(*v), cmp_str_ptr);
	for (i = 1; i < n; i++)
		cr_assert_str_neq(v[i - 1], v[i], "two %s are %s", what, v[i]);
}

/* Checks the fields of one span that do not depend on other spans. */
static void check_span_fields(const struct zt_span *sp, const struct orders_run *r, pid_t pid)
{
	char probe[PATH_MAX + ZT_SPAN_NAME_MAX + 8];
	long long now = (long long)time(NULL) * 1000000000LL;

	cr_assert_eq(sp->fields, ZT_F_ALL, "line %zu lacks fields (have 0x%x of 0x%x)", sp->line,
		     sp->fields, ZT_F_ALL);
	cr_assert(zt_is_hex(sp->trace_id, ZT_TRACE_ID_HEX), "line %zu: trace_id '%s'", sp->line,
		  sp->trace_id);
	cr_assert(zt_is_hex(sp->span_id, ZT_SPAN_ID_HEX), "line %zu: span_id '%s'", sp->line,
		  sp->span_id);
	cr_assert(!sp->parent_span_id[0] || zt_is_hex(sp->parent_span_id, ZT_SPAN_ID_HEX),
		  "line %zu: parent_span_id '%s'", sp->line, sp->parent_span_id);
	cr_assert_str_eq(sp->kind, "function", "line %zu", sp->line);
	cr_assert_str_eq(sp->comm, "orders", "line %zu", sp->line);
	cr_assert_eq(sp->pid, pid, "line %zu: pid %lld, want %d", sp->line, sp->pid, (int)pid);
	cr_assert_neq(sp->tid, sp->pid, "line %zu: orders works in threads, not in main", sp->line);
	cr_assert_gt(sp->start_ns, UNIX_NS_2020, "line %zu: start_ns %lld is not Unix time",
		     sp->line, sp->start_ns);
	cr_assert_lt(sp->start_ns, now + NS_PER_DAY, "line %zu: start_ns in the future", sp->line);
	cr_assert_geq(sp->end_ns, sp->start_ns, "line %zu", sp->line);
	cr_assert_eq(sp->duration_ns, sp->end_ns - sp->start_ns, "line %zu", sp->line);

	snprintf(probe, sizeof(probe), "u:%s:%s",
		 is_lib_function(sp->name) ? pricing_lib : orders_bin, sp->name);
	cr_assert_str_eq(sp->probe, probe, "line %zu", sp->line);

	if (!strcmp(sp->name, "slow_io"))
		cr_assert_geq(sp->duration_ns, r->sleep_ms * NS_PER_MS,
			      "slow_io (line %zu) took %lld ns, it sleeps %ld ms", sp->line,
			      sp->duration_ns, r->sleep_ms);

	/* With --error-if 'ret<0' exactly the negative returns are errors. */
	cr_assert_str_eq(sp->status, sp->ret < 0 ? "error" : "ok", "line %zu: %s returned %lld",
			 sp->line, sp->name, sp->ret);
}

/* Checks that @child nests in @parent: same thread, same trace, inside its time span. */
static void check_nesting(const struct zt_span *child, const struct zt_span *parent)
{
	cr_assert_eq(child->tid, parent->tid, "%s (line %zu) and its parent %s differ in tid",
		     child->name, child->line, parent->name);
	cr_assert_eq(child->pid, parent->pid);
	cr_assert_str_eq(child->trace_id, parent->trace_id,
			 "%s (line %zu) is not in its parent's trace", child->name, child->line);
	cr_assert_geq(child->start_ns, parent->start_ns, "%s (line %zu) starts before its parent",
		      child->name, child->line);
	cr_assert_leq(child->end_ns, parent->end_ns, "%s (line %zu) ends after its parent",
		      child->name, child->line);
}

/* Returns the depth of fib span @sp below its compute_price (1 for the outermost fib). */
static int fib_depth(const struct zt_spans *s, const struct zt_span *sp)
{
	int depth = 0;

	while (!strcmp(sp->name, "fib")) {
		const struct zt_span *parent = zt_span_parent(s, sp);

		cr_assert_not_null(parent, "fib (line %zu) has no parent span", sp->line);
		cr_assert(!strcmp(parent->name, "fib") || !strcmp(parent->name, "compute_price"),
			  "fib's parent is %s (line %zu)", parent->name, parent->line);
		cr_assert_leq(++depth, ORDERS_FIB_DEPTH, "fib recursion deeper than fib(5) makes");
		sp = parent;
	}
	return depth;
}

/*
 * Checks one process_order span @po and its subtree against order id @id. Returns true when
 * they match (without failing), so the caller can find which thread ran which ids.
 */
static bool order_matches(const struct zt_spans *s, const struct zt_span *po, long id)
{
	bool bad = id % ORDERS_INVALID_EVERY == 0;
	const struct zt_span *cp;
	size_t i;

	if (po->ret != (bad ? ORDERS_FAILED_RET : 0))
		return false;
	if (bad)
		return true;
	for (i = 0; i < s->n; i++) {
		cp = &s->v[i];
		if (!strcmp(cp->parent_span_id, po->span_id) && !strcmp(cp->name, "compute_price"))
			return cp->ret == discounted(id) + ORDERS_FIB_RET;
	}
	return false;
}

/* Checks a process_order span's children and their return values (@id: its order id). */
static void check_order_tree(const struct zt_spans *s, const struct zt_span *po, long id)
{
	bool bad = id % ORDERS_INVALID_EVERY == 0;
	const struct zt_span *io, *vo, *cp, *pl, *ad, *fib;

	io = only_child(s, po, "slow_io");
	vo = only_child(s, po, "validate_order");
	cr_assert_eq(io->ret, 0);
	cr_assert_eq(vo->ret, bad ? ORDERS_EINVAL_RET : 0, "validate_order(%ld) returned %lld", id,
		     vo->ret);
	cr_assert_lt(io->start_ns, vo->start_ns, "slow_io runs before validate_order");
	cr_assert_eq(children(s, po), bad ? 2 : 3, "process_order(%ld) (line %zu) has %zu children",
		     id, po->line, children(s, po));
	if (bad)
		return;

	cp = only_child(s, po, "compute_price");
	cr_assert_lt(vo->start_ns, cp->start_ns, "validate_order runs before compute_price");
	pl = only_child(s, cp, "price_lookup");
	ad = only_child(s, cp, "apply_discount");
	fib = only_child(s, cp, "fib");
	cr_assert_eq(children(s, cp), 3);
	cr_assert_eq(pl->ret, price_of(id), "price_lookup(%ld) returned %lld", id, pl->ret);
	cr_assert_eq(ad->ret, discounted(id), "apply_discount for order %ld returned %lld", id,
		     ad->ret);
	cr_assert_eq(fib->ret, ORDERS_FIB_RET, "fib(%d) returned %lld", ORDERS_FIB_N, fib->ret);
	cr_assert_eq(cp->ret, ad->ret + fib->ret, "compute_price(%ld) returned %lld", id, cp->ret);
	cr_assert_lt(pl->start_ns, ad->start_ns, "price_lookup runs before apply_discount");
	cr_assert_lt(ad->start_ns, fib->start_ns, "apply_discount runs before fib");
}

/*
 * Checks the process_order spans of each thread: a thread t runs ids t*N+1 .. t*N+N in
 * order, so sorted by start time each thread's orders must match one unused t exactly.
 */
static void check_threads(const struct zt_spans *s, const struct orders_run *r)
{
	const struct zt_span **mine = calloc(r->orders, sizeof(*mine));
	bool *used = calloc(r->threads, sizeof(*used));
	long long *tids = calloc(r->threads, sizeof(*tids));
	size_t i, n_tids = 0, k, j;
	long t, found;

	cr_assert(mine && used && tids);
	cr_assert_eq(zt_spans_distinct_tids(s, "process_order"), (size_t)r->threads,
		     "process_order ran in %zu threads, want %ld",
		     zt_spans_distinct_tids(s, "process_order"), r->threads);
	for (i = 0; i < s->n; i++) {
		if (strcmp(s->v[i].name, "process_order"))
			continue;
		for (k = 0; k < n_tids && tids[k] != s->v[i].tid; k++)
			;
		if (k == n_tids)
			tids[n_tids++] = s->v[i].tid;
	}

	for (k = 0; k < n_tids; k++) {
		size_t n = 0;

		for (i = 0; i < s->n; i++) {
			if (s->v[i].tid != tids[k] || strcmp(s->v[i].name, "process_order"))
				continue;
			cr_assert_lt(n, (size_t)r->orders, "thread %lld ran more than %ld orders",
				     tids[k], r->orders);
			/* Insertion by start time. */
			for (j = n++; j > 0 && mine[j - 1]->start_ns > s->v[i].start_ns; j--)
				mine[j] = mine[j - 1];
			mine[j] = &s->v[i];
		}
		cr_assert_eq(n, (size_t)r->orders, "thread %lld ran %zu orders, want %ld", tids[k],
			     n, r->orders);

		found = -1;
		for (t = 0; t < r->threads && found < 0; t++) {
			if (used[t])
				continue;
			for (j = 0; j < n && order_matches(s, mine[j], t * r->orders + j + 1); j++)
				;
			if (j == n)
				found = t;
		}
		cr_assert_geq(found, 0, "thread %lld's orders match no thread's order ids",
			      tids[k]);
		used[found] = true;
		for (j = 0; j < n; j++) {
			if (j + 1 < n)
				cr_assert_leq(mine[j]->end_ns, mine[j + 1]->start_ns,
					      "orders of thread %lld overlap", tids[k]);
			check_order_tree(s, mine[j], found * r->orders + j + 1);
		}
	}
	free(mine);
	free(used);
	free(tids);
}

/* Checks every span of a run of orders traced with order_specs and --error-if 'ret<0'. */
static void check_orders_spans(const struct zt_spans *s, const struct orders_run *r)
{
	long total = r->orders * r->threads, failed = total / ORDERS_INVALID_EVERY;
	long ok = total - failed, depth_count[ORDERS_FIB_DEPTH] = {0}, cents = 0;
	const struct {
		const char *name;
		long count;
		long errors;
	} want[] = {
	    {"process_order", total, failed},
	    {"validate_order", total, failed},
	    {"slow_io", total, 0},
	    {"compute_price", ok, 0},
	    {"price_lookup", ok, 0},
	    {"apply_discount", ok, 0},
	    {"fib", ok * ORDERS_FIB_CALLS, 0},
	};
	const char **ids, **traces;
	size_t i, sum = 0, roots = 0;
	pid_t pid;
	int d;

	cr_assert_gt(s->n, 0, "no spans at all");
	for (i = 0; i < sizeof(want) / sizeof(want[0]); i++) {
		cr_assert_eq(zt_spans_count(s, want[i].name), (size_t)want[i].count,
			     "%zu %s spans, want %ld", zt_spans_count(s, want[i].name),
			     want[i].name, want[i].count);
		cr_assert_eq(zt_spans_count_status(s, want[i].name, "error"),
			     (size_t)want[i].errors, "%zu %s spans with status error, want %ld",
			     zt_spans_count_status(s, want[i].name, "error"), want[i].name,
			     want[i].errors);
		sum += want[i].count;
	}
	cr_assert_eq(s->n, sum, "%zu spans, want %zu (spans of functions not traced?)", s->n, sum);

	pid = r->pid ? r->pid : (pid_t)s->v[0].pid;
	ids = calloc(s->n, sizeof(*ids));
	traces = calloc(s->n, sizeof(*traces));
	cr_assert(ids && traces);
	for (i = 0; i < s->n; i++) {
		const struct zt_span *sp = &s->v[i], *parent = zt_span_parent(s, sp);

		check_span_fields(sp, r, pid);
		ids[i] = sp->span_id;
		if (!strcmp(sp->name, "process_order")) {
			cr_assert_str_empty(sp->parent_span_id,
					    "process_order (line %zu) is not a root span",
					    sp->line);
			traces[roots++] = sp->trace_id;
			continue;
		}
		cr_assert_not_null(parent, "%s (line %zu): parent %s is not among the spans",
				   sp->name, sp->line, sp->parent_span_id);
		check_nesting(sp, parent);
		if (!strcmp(sp->name, "fib")) {
			d = fib_depth(s, sp);
			depth_count[d - 1]++;
		} else if (is_lib_function(sp->name)) {
			cr_assert_str_eq(parent->name, "compute_price", "line %zu", sp->line);
		} else {
			cr_assert_str_eq(parent->name, "process_order", "line %zu", sp->line);
		}
		if (!strcmp(sp->name, "compute_price"))
			cents += sp->ret;
		cr_assert_str_eq(zt_span_root(s, sp)->name, "process_order");
	}
	assert_distinct(ids, s->n, "span ids");
	cr_assert_eq(roots, (size_t)total);
	assert_distinct(traces, roots, "root spans' trace ids");
	for (d = 0; d < ORDERS_FIB_DEPTH; d++)
		cr_assert_eq(depth_count[d], fib_per_depth[d] * ok,
			     "%ld fib spans at recursion depth %d, want %ld", depth_count[d], d + 1,
			     fib_per_depth[d] * ok);
	if (r->total_cents >= 0)
		cr_assert_eq(cents, r->total_cents,
			     "compute_price returns add up to %ld, orders "
			     "printed total_cents=%ld",
			     cents, r->total_cents);
	check_threads(s, r);
	free(ids);
	free(traces);
}

/* Parses orders' last line and checks its counts; stores total_cents in @r. */
static void check_orders_summary(struct zt_proc *orders, struct orders_run *r)
{
	long threads, n, ok, failed, fib_calls, cents;
	const char *out = zt_proc_text(orders, ZT_STDOUT), *line = strstr(out, "orders: ");
	long total = r->orders * r->threads;

	cr_assert_not_null(line, "orders printed no summary: %s", out);
	cr_assert_eq(sscanf(line,
			    "orders: threads=%ld orders=%ld ok=%ld failed=%ld fib_calls=%ld "
			    "total_cents=%ld",
			    &threads, &n, &ok, &failed, &fib_calls, &cents),
		     6, "bad summary: %s", line);
	cr_assert_eq(threads, r->threads);
	cr_assert_eq(n, total);
	cr_assert_eq(failed, total / ORDERS_INVALID_EVERY);
	cr_assert_eq(ok, total - failed);
	cr_assert_eq(fib_calls, ok * ORDERS_FIB_CALLS);
	r->total_cents = cents;
}

/* Adds "-p PID" to @a, formatting into @buf (16 bytes). */
static void av_add_pid(struct zt_argv *a, char *buf, pid_t pid)
{
	snprintf(buf, 16, "%d", (int)pid);
	zt_argv_add(a, "-p");
	zt_argv_add(a, buf);
}

/* ztrace trace [SPECS] --format json --error-if 'ret<0' */
static void av_trace_json(struct zt_argv *a)
{
	zt_argv_add(a, ztrace_bin);
	zt_argv_add(a, "trace");
	zt_argv_add(a, "--format");
	zt_argv_add(a, "json");
	zt_argv_add(a, "--error-if");
	zt_argv_add(a, "ret<0");
}

/*
 * Attaches to orders --wait (@orders_arg, @threads_arg), releases it and checks every span.
 */
static void trace_attached(const char *orders_arg, const char *threads_arg)
{
	const char *extra[] = {"--orders", orders_arg, "--threads", threads_arg, NULL};
	struct orders_run r = {
	    .orders = atol(orders_arg), .threads = atol(threads_arg), .sleep_ms = 2};
	struct zt_proc orders, zt;
	struct zt_argv a = {0};
	struct zt_spans spans;
	char pid[16];

	start_waiting_orders(&orders, extra);
	r.pid = orders.pid;
	av_trace_json(&a);
	av_add_pid(&a, pid, orders.pid);
	av_add_specs(&a);
	start_tracing(&zt, &a);
	release(&orders);
	expect_exit(&orders, "orders", 0, EXIT_MS);
	check_orders_summary(&orders, &r);
	/* Tracing ends by itself when the only target exits. */
	expect_exit(&zt, "ztrace", 0, EXIT_MS);

	parse_spans(&zt, &spans);
	cr_assert_eq(spans.other_lines, 0, "stdout holds only spans in json mode:\n%s",
		     tail(zt_proc_text(&zt, ZT_STDOUT), OUT_TAIL));
	check_orders_spans(&spans, &r);
	zt_spans_free(&spans);
	zt_proc_free(&zt);
	zt_proc_free(&orders);
}

/* generous: every wait has its own (scaled) deadline; this only stops a hang in the VM */
TestSuite(uprobe, .init = setup, .timeout = 600);

/* -- COMMAND: the whole run of orders, every call from the first one. */
Test(uprobe, launch_counts_parents_errors)
{
	struct orders_run r = {.orders = 10, .threads = 2, .sleep_ms = 2, .total_cents = -1};
	struct zt_argv a = {0};
	struct zt_spans spans;
	struct zt_proc zt;
	int ret;

	av_trace_json(&a);
	av_add_specs(&a);
	zt_argv_add(&a, "--");
	zt_argv_add(&a, orders_bin);
	zt_argv_add(&a, "--orders");
	zt_argv_add(&a, "10");
	zt_argv_add(&a, "--threads");
	zt_argv_add(&a, "2");
	/* orders shares ztrace's stdout: keep it quiet so stdout holds spans only. */
	zt_argv_add(&a, "--quiet");
	ret = zt_run(&zt, a.v, NULL, EXIT_MS);
	cr_assert_eq(ret, 0, "ztrace exited %d; stderr:\n%s", ret,
		     tail(zt_proc_text(&zt, ZT_STDERR), OUT_TAIL));
	cr_assert_not_null(strstr(zt_proc_text(&zt, ZT_STDERR), TRACING_LINE),
			   "no '%s' on stderr:\n%s", TRACING_LINE, zt_proc_text(&zt, ZT_STDERR));

	parse_spans(&zt, &spans);
	cr_assert_eq(spans.other_lines, 0, "stdout holds only spans in json mode:\n%s",
		     tail(zt_proc_text(&zt, ZT_STDOUT), OUT_TAIL));
	cr_assert_gt(spans.n, 0, "no spans; stderr:\n%s", zt_proc_text(&zt, ZT_STDERR));
	cr_assert_neq(spans.v[0].pid, zt.pid, "spans must come from orders, not ztrace");
	check_orders_spans(&spans, &r);
	zt_spans_free(&spans);
	zt_proc_free(&zt);
}

/* -p PID of a program that is already running (attached before it does any work). */
Test(uprobe, attach_running)
{
	trace_attached("10", "2");
}

/* Four threads: four distinct tids, each with its own orders and parent chains. */
Test(uprobe, attach_threads)
{
	trace_attached("5", "4");
}

/* The first byte of process_order in @pid. */
static unsigned char probe_site_byte(pid_t pid)
{
	unsigned long addr;
	unsigned char byte;
	int ret;

	ret = zt_proc_func_addr(pid, orders_bin, "process_order", &addr);
	cr_assert_eq(ret, 0, "address of process_order in %d: %s", (int)pid, strerror(-ret));
	ret = zt_proc_peek(pid, addr, &byte, 1);
	cr_assert_eq(ret, 0, "read process_order in %d: %s", (int)pid, strerror(-ret));
	return byte;
}

/* True when no link or program of @ids exists any more. */
static bool bpf_ids_gone(const struct zt_bpf_ids *ids)
{
	size_t i;

	for (i = 0; i < ids->n_links; i++)
		if (zt_bpf_link_exists(ids->links[i]) != 0)
			return false;
	for (i = 0; i < ids->n_progs; i++)
		if (zt_bpf_prog_exists(ids->progs[i]) != 0)
			return false;
	return true;
}

/*
 * SIGKILL gives ztrace no chance to clean up: the kernel must drop its uprobes, links and
 * programs when its file descriptors close, and the target, stopped inside probed calls with
 * hijacked return addresses, must finish normally. The checks follow ztrace's own objects (the
 * link and program ids it held, the breakpoint in the target) rather than system-wide counts,
 * which any other tracer running on the machine would change.
 */
Test(uprobe, sigkill_leaves_no_probe)
{
	const char *extra[] = {"--orders", "8", "--threads", "1", "--sleep-ms", "500", NULL};
	struct orders_run r = {.orders = 8, .threads = 1};
	size_t events_before = 0, events_after = 0;
	struct zt_bpf_ids ids = {0};
	struct zt_proc orders, zt;
	struct zt_argv a = {0};
	long long deadline;
	bool have_events;
	char pid[16];
	int ret;

	have_events = zt_uprobe_events_count(orders_bin, &events_before) == 0;
	start_waiting_orders(&orders, extra);
	cr_assert_eq(probe_site_byte(orders.pid), ZT_X86_PUSH_RBP,
		     "process_order must start with push %%rbp (see tests/targets/targets.mk)");

	av_trace_json(&a);
	av_add_pid(&a, pid, orders.pid);
	av_add_specs(&a);
	start_tracing(&zt, &a);
	cr_assert_eq(probe_site_byte(orders.pid), ZT_X86_INT3,
		     "ztrace says it is tracing but process_order has no breakpoint");
	ret = zt_fdinfo_bpf_ids(zt.pid, &ids);
	cr_assert_eq(ret, 0, "fdinfo of ztrace: %s", strerror(-ret));
	cr_assert_gt(ids.n_progs, 0, "ztrace holds no BPF program while tracing");

	/*
	 * Kill it mid-run (orders needs 8 x 500 ms; the kernel takes about a second to tear a
	 * killed ztrace down): orders is then inside slow_io, under process_order, with both
	 * return addresses hijacked by uretprobes.
	 */
	release(&orders);
	usleep(KILL_AFTER_MS * 1000);
	cr_assert_eq(zt_proc_wait(&orders, 0), -ETIMEDOUT, "orders finished too early");
	cr_assert_eq(zt_proc_signal(&zt, SIGKILL), 0);
	expect_exit(&zt, "ztrace", 128 + SIGKILL, EXIT_MS);

	deadline = zt_now_ms() + CLEANUP_MS;
	while ((!bpf_ids_gone(&ids) || probe_site_byte(orders.pid) != ZT_X86_PUSH_RBP) &&
	       zt_now_ms() < deadline)
		usleep(CLEANUP_POLL_MS * 1000);
	cr_assert_eq(zt_proc_wait(&orders, 0), -ETIMEDOUT,
		     "orders ended before the checks; make its run longer");
	cr_assert(bpf_ids_gone(&ids), "a link or program of the killed ztrace still exists");
	cr_assert_eq(probe_site_byte(orders.pid), ZT_X86_PUSH_RBP,
		     "the breakpoint in process_order outlived ztrace");
	if (have_events) {
		/* Uprobes made through tracefs (the legacy way) must go too. */
		cr_assert_eq(zt_uprobe_events_count(orders_bin, &events_after), 0);
		cr_assert_eq(events_after, events_before,
			     "uprobe_events grew from %zu to %zu lines", events_before,
			     events_after);
	}

	expect_exit(&orders, "orders", 0, EXIT_MS);
	check_orders_summary(&orders, &r);
	zt_bpf_ids_free(&ids);
	zt_proc_free(&zt);
	zt_proc_free(&orders);
}

/*
 * SIGINT while calls are open: ztrace exits 0, reports the open calls as incomplete, and the
 * target carries on and exits normally.
 */
Test(uprobe, sigint_flushes_open_calls_as_incomplete)
{
	const char *extra[] = {"--orders", "1", "--threads", "1", "--sleep-ms", "4000", NULL};
	struct orders_run r = {.orders = 1, .threads = 1};
	struct zt_proc orders, zt;
	struct zt_argv a = {0};
	const struct zt_span *po, *io;
	struct zt_spans spans;
	char pid[16];

	start_waiting_orders(&orders, extra);
	av_trace_json(&a);
	av_add_pid(&a, pid, orders.pid);
	zt_argv_add(&a, "process_order");
	zt_argv_add(&a, "slow_io");
	start_tracing(&zt, &a);
	release(&orders);
	/* Let orders enter slow_io's 4 s sleep. */
	usleep(INTO_SLEEP_MS * 1000);
	cr_assert_eq(zt_proc_signal(&zt, SIGINT), 0);
	expect_exit(&zt, "ztrace after SIGINT", 0, DETACH_MS);
	cr_assert_eq(zt_proc_wait(&orders, 0), -ETIMEDOUT, "orders ended with ztrace");

	parse_spans(&zt, &spans);
	cr_assert_eq(spans.n, 2, "%zu spans, want the 2 open calls:\n%s", spans.n,
		     zt_proc_text(&zt, ZT_STDOUT));
	cr_assert_eq(zt_spans_count_status(&spans, "process_order", "incomplete"), 1);
	cr_assert_eq(zt_spans_count_status(&spans, "slow_io", "incomplete"), 1);
	po = &spans.v[strcmp(spans.v[0].name, "process_order") ? 1 : 0];
	io = &spans.v[strcmp(spans.v[0].name, "process_order") ? 0 : 1];
	cr_assert_str_empty(po->parent_span_id);
	cr_assert_str_eq(io->parent_span_id, po->span_id);
	cr_assert_str_eq(io->trace_id, po->trace_id);
	cr_assert_eq(po->pid, orders.pid);
	cr_assert_eq(io->tid, po->tid);
	cr_assert_geq(io->start_ns, po->start_ns);
	zt_spans_free(&spans);

	expect_exit(&orders, "orders", 0, EXIT_MS);
	check_orders_summary(&orders, &r);
	zt_proc_free(&zt);
	zt_proc_free(&orders);
}

/* -d ends tracing on time even when the target does nothing, and leaves it running. */
Test(uprobe, duration_ends_tracing)
{
	const char *extra[] = {"--orders", "2", NULL};
	struct orders_run r = {.orders = 2, .threads = 1};
	struct zt_proc orders, zt;
	struct zt_argv a = {0};
	long long started, took;
	char pid[16];

	start_waiting_orders(&orders, extra);
	av_trace_json(&a);
	av_add_pid(&a, pid, orders.pid);
	zt_argv_add(&a, "-d");
	zt_argv_add(&a, "1");
	zt_argv_add(&a, "process_order");
	start_tracing(&zt, &a);
	started = zt_now_ms();
	expect_exit(&zt, "ztrace -d 1", 0, EXIT_MS);
	took = zt_now_ms() - started;
	cr_assert_geq(took, DURATION_MIN_MS, "ztrace -d 1 ended %lld ms after it started tracing",
		      took);
	cr_assert_leq(took, DURATION_MAX_MS, "ztrace -d 1 ran %lld ms after it started tracing",
		      took);
	cr_assert_str_empty(zt_proc_text(&zt, ZT_STDOUT), "no call happened, yet spans:\n%s",
			    zt_proc_text(&zt, ZT_STDOUT));
	cr_assert_eq(zt_proc_wait(&orders, 0), -ETIMEDOUT, "orders ended with ztrace");
	cr_assert_eq(probe_site_byte(orders.pid), ZT_X86_PUSH_RBP,
		     "the breakpoint outlived ztrace -d");

	release(&orders);
	expect_exit(&orders, "orders", 0, EXIT_MS);
	check_orders_summary(&orders, &r);
	zt_proc_free(&zt);
	zt_proc_free(&orders);
}

/*
 * A launched script's process runs its interpreter, then (exec) the program: a library name
 * is resolved through the "#!" interpreter (env finds sh on PATH), and the pid's calls into
 * it are traced across the exec, from the first instruction.
 */
Test(uprobe, launched_script_traces_through_its_interpreter)
{
	char script[PATH_MAX];
	struct zt_spans spans;
	struct zt_argv a = {0};
	struct zt_proc zt;
	FILE *f;

	snprintf(script, sizeof(script), "/tmp/zt-script-%d.sh", (int)getpid());
	f = fopen(script, "w");
	cr_assert_not_null(f);
	fprintf(f, "#!/usr/bin/env sh\nexec '%s' --orders 3 --threads 1 --quiet\n", orders_bin);
	fclose(f);
	cr_assert_eq(chmod(script, 0755), 0);
	av_trace_json(&a);
	zt_argv_add(&a, "u:libc:nanosleep"); /* slow_io: once per order; sh never sleeps */
	zt_argv_add(&a, "--");
	zt_argv_add(&a, script);
	cr_assert_eq(zt_run(&zt, a.v, NULL, EXIT_MS), 0, "%s", zt_proc_text(&zt, ZT_STDERR));
	unlink(script);
	parse_spans(&zt, &spans);
	cr_expect_eq(zt_spans_count(&spans, "nanosleep"), 3, "%s",
		     tail(zt_proc_text(&zt, ZT_STDOUT), OUT_TAIL));
	zt_spans_free(&spans);
	zt_proc_free(&zt);
}

#define DLOPEN_CALLS	 7
#define DLOPEN_CALLS_ARG "7"

/*
 * u:/abs/path:GLOB names the file, so a library the target dlopen()s after ztrace attached is
 * traced from its first call.
 */
Test(uprobe, absolute_path_covers_later_dlopen)
{
	struct zt_proc target, zt;
	struct zt_argv a = {0}, t = {0};
	char pid[16], spec[PATH_MAX + 32], probe[PATH_MAX + 32], line[128];
	struct zt_spans spans;
	long sum = 0, id;
	size_t i;
	int ret, tpid;

	zt_argv_add(&t, dlopener_bin);
	zt_argv_add(&t, "--wait");
	zt_argv_add(&t, "--calls");
	zt_argv_add(&t, DLOPEN_CALLS_ARG);
	ret = zt_proc_spawn(&target, t.v, NULL);
	cr_assert_eq(ret, 0, "spawn %s: %s", dlopener_bin, strerror(-ret));
	ret = zt_proc_wait_line(&target, ZT_STDOUT, "ready ", READY_MS, line, sizeof(line));
	cr_assert_eq(ret, 0, "dlopener is not ready: %s", strerror(-ret));
	cr_assert_eq(sscanf(line, "ready %d", &tpid), 1);
	cr_assert_eq(tpid, target.pid);

	snprintf(spec, sizeof(spec), "u:%s:price_lookup", pricing_lib);
	av_trace_json(&a);
	av_add_pid(&a, pid, target.pid);
	zt_argv_add(&a, "call_pricing");
	zt_argv_add(&a, spec);
	start_tracing(&zt, &a);
	release(&target);
	expect_exit(&target, "dlopener", 0, EXIT_MS);
	/* dlopener calls price_lookup(1 .. DLOPEN_CALLS). */
	for (id = 1; id <= DLOPEN_CALLS; id++)
		sum += price_of(id);
	snprintf(line, sizeof(line), "dlopener: calls=%d sum=%ld\n", DLOPEN_CALLS, sum);
	cr_assert_not_null(strstr(zt_proc_text(&target, ZT_STDOUT), line), "dlopener printed: %s",
			   zt_proc_text(&target, ZT_STDOUT));
	expect_exit(&zt, "ztrace", 0, EXIT_MS);

	parse_spans(&zt, &spans);
	cr_assert_eq(zt_spans_count(&spans, "call_pricing"), DLOPEN_CALLS);
	cr_assert_eq(zt_spans_count(&spans, "price_lookup"), DLOPEN_CALLS,
		     "%zu price_lookup spans, want %d", zt_spans_count(&spans, "price_lookup"),
		     DLOPEN_CALLS);
	cr_assert_eq(spans.n, 2 * DLOPEN_CALLS);
	snprintf(probe, sizeof(probe), "u:%s:price_lookup", pricing_lib);
	for (i = 0; i < spans.n; i++) {
		const struct zt_span *sp = &spans.v[i], *parent = zt_span_parent(&spans, sp);

		cr_assert_eq(sp->pid, target.pid);
		cr_assert_str_eq(sp->comm, "dlopener");
		if (strcmp(sp->name, "price_lookup"))
			continue;
		cr_assert_str_eq(sp->probe, probe);
		cr_assert_not_null(parent, "price_lookup (line %zu) has no parent", sp->line);
		cr_assert_str_eq(parent->name, "call_pricing");
		cr_assert_eq(parent->ret, sp->ret);
		cr_assert_geq(sp->ret, ORDERS_PRICE_BASE);
	}
	zt_spans_free(&spans);
	zt_proc_free(&zt);
	zt_proc_free(&target);
}

/* --- bad input: exit code 2 and one line on stderr that starts "ztrace: " --- */

/* Runs ztrace with @a (and @opts) and checks the one-line refusal; returns it in @line. */
static void expect_refusal(struct zt_argv *a, const struct zt_spawn_opts *opts, char *line,
			   size_t size)
{
	struct zt_proc zt;
	const char *err;
	int ret;

	ret = zt_run(&zt, a->v, opts, ERROR_EXIT_MS);
	err = zt_proc_text(&zt, ZT_STDERR);
	cr_assert_eq(ret, 2, "ztrace exited %d, want 2 (bad input); stderr:\n%s", ret, err);
	cr_assert_str_empty(zt_proc_text(&zt, ZT_STDOUT), "nothing on stdout when refusing: %s",
			    zt_proc_text(&zt, ZT_STDOUT));
	cr_assert_eq(zt_count_lines(err), 1, "want one line on stderr, got:\n%s", err);
	cr_assert_eq(strncmp(err, "ztrace: ", 8), 0, "message must start 'ztrace: ': %s", err);
	snprintf(line, size, "%.*s", (int)strcspn(err, "\n"), err);
	zt_proc_free(&zt);
}

Test(uprobe, error_no_such_pid)
{
	struct zt_argv a = {0};
	char pid[16], line[512], want[256];

	cr_assert(kill(NO_SUCH_PID, 0) != 0 && errno == ESRCH, "pid %d exists", NO_SUCH_PID);
	zt_argv_add(&a, ztrace_bin);
	zt_argv_add(&a, "trace");
	av_add_pid(&a, pid, NO_SUCH_PID);
	zt_argv_add(&a, "process_order");
	expect_refusal(&a, NULL, line, sizeof(line));
	snprintf(want, sizeof(want), "ztrace: no process with pid %d: check the pid (ps -p %d)",
		 NO_SUCH_PID, NO_SUCH_PID);
	cr_assert_str_eq(line, want);
}

/* Each glob matching nothing is refused, naming the spec; the target is left unharmed. */
Test(uprobe, error_glob_matches_nothing)
{
	static const char *const specs[] = {"no_such_fn_*", "u:libpricing.so:nope_*"};
	const char *extra[] = {"--orders", "1", NULL};
	struct orders_run r = {.orders = 1, .threads = 1};
	struct zt_proc orders;
	char pid[16], line[512];
	size_t i;

	start_waiting_orders(&orders, extra);
	for (i = 0; i < sizeof(specs) / sizeof(specs[0]); i++) {
		struct zt_argv a = {0};

		zt_argv_add(&a, ztrace_bin);
		zt_argv_add(&a, "trace");
		av_add_pid(&a, pid, orders.pid);
		zt_argv_add(&a, "-d");
		zt_argv_add(&a, REFUSED_DURATION_ARG);
		zt_argv_add(&a, "process_order");
		zt_argv_add(&a, specs[i]);
		expect_refusal(&a, NULL, line, sizeof(line));
		cr_assert_not_null(strstr(line, specs[i]), "message does not name '%s': %s",
				   specs[i], line);
		cr_assert_not_null(strstr(line, "matches no function"), "%s", line);
	}
	cr_assert_eq(probe_site_byte(orders.pid), ZT_X86_PUSH_RBP,
		     "a refused run left a breakpoint in process_order");
	release(&orders);
	expect_exit(&orders, "orders", 0, EXIT_MS);
	check_orders_summary(&orders, &r);
	zt_proc_free(&orders);
}

Test(uprobe, error_not_an_elf_file)
{
	char path[] = "/tmp/zt-not-elf-XXXXXX", spec[64], line[512];
	static const char text[] = "#!/bin/sh\necho this is a script, not ELF\n";
	struct zt_argv a = {0};
	int fd;

	fd = mkstemp(path);
	cr_assert_geq(fd, 0, "mkstemp: %s", strerror(errno));
	cr_assert_eq(write(fd, text, sizeof(text) - 1), (ssize_t)(sizeof(text) - 1));
	fchmod(fd, 0755);
	close(fd);
	snprintf(spec, sizeof(spec), "u:%s:main", path);

	zt_argv_add(&a, ztrace_bin);
	zt_argv_add(&a, "trace");
	zt_argv_add(&a, "-d");
	zt_argv_add(&a, REFUSED_DURATION_ARG);
	zt_argv_add(&a, spec);
	expect_refusal(&a, NULL, line, sizeof(line));
	unlink(path);
	cr_assert_not_null(strstr(line, "not an ELF file"), "%s", line);
	cr_assert_not_null(strstr(line, path), "message does not name the file: %s", line);
}

Test(uprobe, error_missing_file)
{
	struct zt_argv a = {0};
	char line[512];

	zt_argv_add(&a, ztrace_bin);
	zt_argv_add(&a, "trace");
	zt_argv_add(&a, "-d");
	zt_argv_add(&a, REFUSED_DURATION_ARG);
	zt_argv_add(&a, "u:/nonexistent/zt-no-such-file:main");
	expect_refusal(&a, NULL, line, sizeof(line));
	cr_assert_not_null(strstr(line, "/nonexistent/zt-no-such-file"),
			   "message does not name the file: %s", line);
}

Test(uprobe, error_malformed_spec)
{
	static const char *const specs[] = {"u:", "u::price_*",
					    "u:libpricing.so:", "u:libpricing.so"};
	char pid[16], line[512];
	struct zt_proc orders;
	size_t i;

	start_waiting_orders(&orders, NULL);
	for (i = 0; i < sizeof(specs) / sizeof(specs[0]); i++) {
		struct zt_argv a = {0};

		zt_argv_add(&a, ztrace_bin);
		zt_argv_add(&a, "trace");
		av_add_pid(&a, pid, orders.pid);
		zt_argv_add(&a, "-d");
		zt_argv_add(&a, REFUSED_DURATION_ARG);
		zt_argv_add(&a, specs[i]);
		expect_refusal(&a, NULL, line, sizeof(line));
		cr_assert_not_null(strstr(line, specs[i]), "message does not name '%s': %s",
				   specs[i], line);
	}
	zt_proc_free(&orders);
}

Test(uprobe, error_not_root)
{
	struct zt_spawn_opts nobody = {.as_nobody = true};
	struct zt_argv a = {0};
	char pid[16], line[512];
	struct zt_proc orders;

	start_waiting_orders(&orders, NULL);
	zt_argv_add(&a, ztrace_bin);
	zt_argv_add(&a, "trace");
	av_add_pid(&a, pid, orders.pid);
	zt_argv_add(&a, "process_order");
	expect_refusal(&a, &nobody, line, sizeof(line));
	cr_assert_not_null(strstr(line, "must run as root"), "%s", line);
	zt_proc_free(&orders);
}
