/* SPDX-License-Identifier: MIT */
/*
 * Faults ztrace must survive (issue 8), against the real ztrace binary and kernel, as root:
 * a pid reused by a new process, an exec in the middle of traced calls, an event flood, an
 * OTLP endpoint that never answers, a pid that exits during attach, unreadable configuration
 * and bad URLs, and a kernel lacking BTF or the BPF ring buffer. Counts are exact.
 *
 * Binaries come from $ZT_OUTPUT (default .output): targets/, and ztrace unless $ZT_ZTRACE
 * names another build of it (the AddressSanitizer run, tests/integ/faults.mk). Run from the
 * repository root, one test at a time (--jobs=1).
 */
#include <criterion/criterion.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "common/bpfstate.h"
#include "common/jsonl.h"
#include "common/runproc.h"
#include "common/testenv.h"
#include "common/webget.h"
#include "common/ztrun.h"

/* Deadlines, in milliseconds. */
#define EXIT_MS	   8000 /* a traced run ends */
#define METRICS_MS 5000 /* ztrace's registry catches up (it refreshes every second) */
#define POLL_MS	   20

/* tests/targets/execer.c */
#define EXECER_FN "exec_work"

/*
 * PID reuse: the old process makes OLD_CALLS calls and exits; the new one, given the same pid,
 * makes NEW_CALLS. The new one starts REUSE_GAP_MS after the old one's exit: ztrace's consumer
 * polls every 10 ms (ZT_POLL_INTERVAL_MS) and must have handled the exit by then.
 */
#define OLD_CALLS    "3"
#define NEW_CALLS    "5"
#define REUSE_GAP_MS 200

/* Exec: calls before and after the exec, and the two calls the exec never returns from. */
#define CALLS_BEFORE_EXEC "2"
#define CALLS_AFTER_EXEC  "3"
/*
 * ztrace reads the new image's /proc facts when it handles the exec, which the kernel wakes it
 * for at once; the new image holds this long first, so that it still runs then.
 */
#define EXEC_SEEN_MS 500
/* Room for the keys of ztrace's per-thread stacks map: far more than the threads traced. */
#define STACK_KEYS_MAX 64

/*
 * Flood: FLOOD_THREADS threads call bench_span as fast as they can for FLOOD_MS while the test
 * leaves ztrace's stdout unread for FLOOD_STALL_MS: ztrace blocks on the full pipe, the 4 MiB
 * ring buffer fills and the kernel counts what it could not store. ztrace's peak resident
 * memory must stay under FLOOD_MAX_HWM_KB (the ring buffer's pages included).
 */
#define FLOOD_THREADS	 "2"
#define FLOOD_MS	 "2000"
#define FLOOD_STALL_MS	 1000
#define FLOOD_MAX_HWM_KB (64 * 1024)
#define FLOOD_EXIT_MS	 60000 /* writing a full ring buffer's spans as JSON */
/* -d FLOOD_SHORT_S during a FLOOD_LONG_MS flood ends within FLOOD_DURATION_SLACK_MS of it. */
#define FLOOD_SHORT_S		"1"
#define FLOOD_LONG_MS		"6000"
#define FLOOD_DURATION_SLACK_MS 1500

/*
 * OTLP endpoint that never answers: each request gives up after HANG_TIMEOUT_MS
 * (OTEL_EXPORTER_OTLP_TIMEOUT); ztrace traces for HANG_DURATION_S, then may spend up to
 * ZT_OTLP_EXIT_FLUSH_MS (5 s, include/ztrace/limits.h) trying to send what is queued.
 */
#define HANG_TIMEOUT_MS	 "1000"
#define HANG_DURATION_S	 "2"
#define HANG_ORDER_SLEEP "20"
#define HANG_EXIT_MS	 (ZT_OTLP_EXIT_FLUSH_MS + 3000)

static char ztrace_bin[PATH_MAX];
static char execer_bin[PATH_MAX];
static char orders_bin[PATH_MAX];
static char producer_bin[PATH_MAX];

static void setup(void)
{
	if (geteuid() != 0)
		cr_skip_test("integration tests load BPF programs: run as root");
	zt_ztrace_path(ztrace_bin);
	zt_output_path(execer_bin, "targets/execer");
	zt_output_path(orders_bin, "targets/orders");
	zt_output_path(producer_bin, "targets/bench_producer");
}

TestSuite(faults, .init = setup, .timeout = 90);

/* --- helpers --- */

static void av_ztrace(struct zt_argv *a, const char *cmd)
{
	a->n = 0;
	zt_argv_add(a, ztrace_bin);
	zt_argv_add(a, cmd);
}

/* The CALLS column of @name's row in a summary table, or -1 when it has no row. */
static long long summary_calls(const char *text, const char *name)
{
	size_t n = strlen(name);

	for (const char *line = text; line && *line; line = strchr(line, '\n'), line += !!line)
		if (strncmp(line, name, n) == 0 && line[n] == ' ')
			return strtoll(line + n, NULL, 10);
	return -1;
}

/* The "events: delivered D, lost L" line of the summary. */
static void summary_events(const char *text, long long *delivered, long long *lost)
{
	const char *line = strstr(text, "events: delivered ");

	cr_assert_not_null(line, "no events line in:\n%s", text);
	cr_assert_eq(sscanf(line, "events: delivered %lld, lost %lld", delivered, lost), 2, "%s",
		     line);
}

/* VmHWM of process @pid in kB, or -1 once it is gone. */
static long proc_hwm_kb(pid_t pid)
{
	char path[64], line[256];
	long kb = -1;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/status", (int)pid);
	f = fopen(path, "r");
	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f))
		if (sscanf(line, "VmHWM: %ld kB", &kb) == 1)
			break;
	fclose(f);
	return kb;
}

/* A temporary directory with execer copied in as @name and hard-linked as @link: one file,
 * so one set of uprobes, that runs under two names (two comms). */
struct scratch {
	char dir[64];
	char exe[PATH_MAX];
	char link[PATH_MAX];
};

static void scratch_make(struct scratch *s, const char *name, const char *other)
{
	char buf[1 << 16];
	int in, out;
	ssize_t n;

	snprintf(s->dir, sizeof(s->dir), "/tmp/zt-faults-XXXXXX");
	cr_assert_not_null(mkdtemp(s->dir), "mkdtemp: %s", strerror(errno));
	snprintf(s->exe, sizeof(s->exe), "%s/%s", s->dir, name);
	snprintf(s->link, sizeof(s->link), "%s/%s", s->dir, other);
	in = open(execer_bin, O_RDONLY | O_CLOEXEC);
	cr_assert_geq(in, 0, "%s: %s", execer_bin, strerror(errno));
	out = open(s->exe, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0755);
	cr_assert_geq(out, 0, "%s: %s", s->exe, strerror(errno));
	while ((n = read(in, buf, sizeof(buf))) > 0)
		cr_assert_eq(write(out, buf, (size_t)n), n);
	cr_assert_eq(n, 0);
	close(in);
	cr_assert_eq(close(out), 0);
	cr_assert_eq(link(s->exe, s->link), 0, "link: %s", strerror(errno));
}

static void scratch_remove(struct scratch *s)
{
	unlink(s->link);
	unlink(s->exe);
	rmdir(s->dir);
}

/* --- PID reuse --- */

static int reap(pid_t pid)
{
	int status;

	cr_assert_eq(waitpid(pid, &status, 0), pid, "waitpid: %s", strerror(errno));
	return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

/* How many lines of @text contain @needle. */
static size_t count_lines_with(const char *text, const char *needle)
{
	size_t n = 0;

	for (const char *line = text; line && *line; line = strchr(line, '\n'), line += !!line) {
		const char *hit = strstr(line, needle), *eol = strchr(line, '\n');

		n += hit && (!eol || hit < eol);
	}
	return n;
}

/*
 * Scrapes ztrace's /metrics until the calls series of @comm (pid @pid) reads @want; fails
 * after METRICS_MS. Returns the exposition (malloc'd).
 */
static char *scrape_until(struct zt_proc *zt, unsigned int port, pid_t pid, const char *comm,
			  const char *binary, double want)
{
	long long deadline = zt_now_ms() + zt_time_scale_ms(METRICS_MS);
	char url[64], series[PATH_MAX + 160];
	char *body = NULL;

	snprintf(url, sizeof(url), "http://127.0.0.1:%u/metrics", port);
	snprintf(series, sizeof(series),
		 "ztrace_function_calls_total{pid=\"%d\",comm=\"%s\",function=\"" EXECER_FN
		 "\",binary=\"%s\"}",
		 (int)pid, comm, binary);
	for (;;) {
		free(body);
		cr_assert_eq(zt_http_get(url, &body), 200, "GET %s failed", url);
		if (zt_exposition_value(body, series) == want)
			return body;
		cr_assert_lt(zt_now_ms(), deadline, "no '%s %g' in:\n%s", series, want, body);
		zt_proc_pump(zt, POLL_MS);
	}
}

/*
 * A process exits and a new one gets its pid (forced with clone3's set_tid), both running the
 * same file under two names. ztrace, tracing every process that runs the file, must keep them
 * apart: spans with the right comm and order, and separate metric series with exact counts.
 */
Test(faults, reused_pid_is_a_new_process)
{
	char probe[PATH_MAX + 32], addr[32], line[64] = "", *body;
	struct zt_spans spans;
	struct zt_argv a = {0};
	struct scratch s;
	struct zt_proc zt;
	long long old_end = 0, new_start = LLONG_MAX;
	unsigned int port = zt_free_port();
	pid_t pid, again;
	int hold[2], done[2];

	scratch_make(&s, "reuse_old", "reuse_new");
	snprintf(probe, sizeof(probe), "u:%s:" EXECER_FN, s.exe);
	snprintf(addr, sizeof(addr), "127.0.0.1:%u", port);
	av_ztrace(&a, "trace");
	zt_argv_add(&a, "--format");
	zt_argv_add(&a, "json");
	zt_argv_add(&a, "--metrics-addr");
	zt_argv_add(&a, addr);
	zt_argv_add(&a, probe);
	zt_start_tracing(&zt, &a);

	{
		char *old_argv[] = {s.exe, "--calls", OLD_CALLS, NULL};

		pid = zt_spawn_as_pid(0, old_argv, -1, -1);
		cr_assert_gt(pid, 0, "clone3: %s", strerror(-pid));
		cr_assert_eq(reap(pid), 0, "the old process failed");
	}
	usleep(REUSE_GAP_MS * 1000);
	cr_assert_eq(pipe2(hold, O_CLOEXEC), 0);
	cr_assert_eq(pipe2(done, O_CLOEXEC), 0);
	{
		char *new_argv[] = {s.link, "--calls", NEW_CALLS, "--hold", NULL};

		again = zt_spawn_as_pid(pid, new_argv, hold[0], done[1]);
		cr_assert_eq(again, pid, "clone3 with set_tid %d: %s", (int)pid,
			     again < 0 ? strerror(-again) : "another pid");
	}
	close(hold[0]);
	close(done[1]);
	/* "execer: pid=P calls=N": the new process made its calls and holds */
	cr_assert_gt(read(done[0], line, sizeof(line) - 1), 0, "the new process said nothing");
	close(done[0]);

	/* ztrace's registry is refreshed every second: let it see the new process's counts */
	usleep(2 * ZT_METRICS_REFRESH_MS * 1000);
	/*
	 * README: an exited process is shown for at least 60 s after its exit, and a reused pid
	 * never merges with it. Both would carry the same pid label, so the old process's final
	 * count is what this pid shows meanwhile: 3, not 5 or 8, in exactly one series.
	 */
	body = scrape_until(&zt, port, pid, "reuse_old", s.exe, atoi(OLD_CALLS));
	snprintf(probe, sizeof(probe), "ztrace_function_calls_total{pid=\"%d\",", (int)pid);
	cr_assert_eq(count_lines_with(body, probe), 1, "%s", body);
	free(body);
	close(hold[1]);
	cr_assert_eq(reap(pid), 0, "the new process failed");
	cr_assert_eq(zt_proc_signal(&zt, SIGINT), 0);
	zt_expect_exit(&zt, "ztrace", 0, EXIT_MS);

	zt_parse_spans(&zt, &spans);
	cr_assert_eq(spans.n, (size_t)(atoi(OLD_CALLS) + atoi(NEW_CALLS)), "%zu spans:\n%s",
		     spans.n, zt_proc_text(&zt, ZT_STDOUT));
	for (size_t i = 0; i < spans.n; i++) {
		const struct zt_span *sp = &spans.v[i];
		bool old = strcmp(sp->comm, "reuse_old") == 0;

		cr_assert_eq(sp->pid, pid);
		cr_assert_str_eq(sp->status, "ok");
		cr_assert(old || strcmp(sp->comm, "reuse_new") == 0, "comm %s", sp->comm);
		cr_assert_lt(sp->ret, atoi(old ? OLD_CALLS : NEW_CALLS));
		if (old && sp->end_ns > old_end)
			old_end = sp->end_ns;
		if (!old && sp->start_ns < new_start)
			new_start = sp->start_ns;
	}
	cr_assert_lt(old_end, new_start, "the processes' spans overlap in time");
	cr_assert_eq(summary_calls(zt_proc_text(&zt, ZT_STDERR), EXECER_FN),
		     atoi(OLD_CALLS) + atoi(NEW_CALLS), "%s", zt_proc_text(&zt, ZT_STDERR));
	zt_spans_free(&spans);
	zt_proc_free(&zt);
	scratch_remove(&s);
}

/* --- exec in the middle of traced calls --- */

/* The only span named @name with status @status. */
static const struct zt_span *only(const struct zt_spans *spans, const char *name,
				  const char *status)
{
	const struct zt_span *found = NULL;

	for (size_t i = 0; i < spans->n; i++) {
		if (strcmp(spans->v[i].name, name) || strcmp(spans->v[i].status, status))
			continue;
		cr_assert_null(found, "two %s spans of %s", status, name);
		found = &spans->v[i];
	}
	cr_assert_not_null(found, "no %s span of %s", status, name);
	return found;
}

/*
 * Runs @exe --calls CALLS_BEFORE_EXEC --exec @then... traced with -p for 'exec_*' and checks
 * what precedes the exec: the calls made before it are ok, exec_outer and exec_middle are
 * incomplete, nested, and end at the exec (before anything the new image does). Leaves the
 * parsed spans in @spans and ztrace's stderr in @zt.
 */
static void run_exec(const char *exe, const char *const *then, struct zt_proc *zt,
		     struct zt_spans *spans)
{
	const char *extra[16] = {"--calls", CALLS_BEFORE_EXEC, "--exec"};
	static const char *const args[] = {"exec_*", NULL};
	const struct zt_span *outer, *middle;
	size_t n = 3, before = 0;
	struct zt_proc target;

	for (; *then; then++)
		extra[n++] = *then;
	zt_trace_waiting_json(ztrace_bin, zt, &target, exe, extra, args);
	zt_release(&target);
	zt_expect_exit(&target, "execer", 0, EXIT_MS);
	zt_expect_exit(zt, "ztrace", 0, EXIT_MS);
	zt_parse_spans(zt, spans);

	outer = only(spans, "exec_outer", "incomplete");
	middle = only(spans, "exec_middle", "incomplete");
	/* the name they were called under, not the one the exec gave the process */
	cr_assert_str_eq(outer->comm, "execer");
	cr_assert_str_eq(middle->comm, "execer");
	cr_assert_str_eq(outer->parent_span_id, "");
	cr_assert_str_eq(middle->parent_span_id, outer->span_id);
	cr_assert_str_eq(middle->trace_id, outer->trace_id);
	for (size_t i = 0; i < spans->n; i++) {
		const struct zt_span *sp = &spans->v[i];

		cr_assert_eq(sp->pid, target.pid);
		if (strcmp(sp->name, EXECER_FN) || sp->start_ns > outer->start_ns)
			continue;
		before++;
		cr_assert_str_eq(sp->status, "ok");
		cr_assert_str_eq(sp->comm, "execer");
	}
	cr_assert_eq(before, (size_t)atoi(CALLS_BEFORE_EXEC), "%s", zt_proc_text(zt, ZT_STDOUT));
	cr_assert_eq(summary_calls(zt_proc_text(zt, ZT_STDERR), "exec_outer"), 1);
	cr_assert_eq(summary_calls(zt_proc_text(zt, ZT_STDERR), "exec_middle"), 1);
	zt_proc_free(&target);
}

/*
 * The exec'd program is the same file under another name: its calls are traced as new root
 * spans under the new name, after the two calls the exec ended, never inside them.
 */
Test(faults, exec_of_a_traced_file_mid_call)
{
	const char *then[] = {NULL, "--calls", CALLS_AFTER_EXEC, NULL};
	const struct zt_span *outer;
	struct zt_spans spans;
	struct scratch s;
	struct zt_proc zt;
	size_t after = 0;

	scratch_make(&s, "execer", "execer_next");
	then[0] = s.link;
	run_exec(s.exe, then, &zt, &spans);
	cr_assert_eq(spans.n, (size_t)(atoi(CALLS_BEFORE_EXEC) + 2 + atoi(CALLS_AFTER_EXEC)), "%s",
		     zt_proc_text(&zt, ZT_STDOUT));
	outer = only(&spans, "exec_outer", "incomplete");
	for (size_t i = 0; i < spans.n; i++) {
		const struct zt_span *sp = &spans.v[i];

		if (strcmp(sp->name, EXECER_FN) || sp->start_ns < outer->start_ns)
			continue;
		after++;
		cr_assert_str_eq(sp->comm, "execer_next", "a stale name after the exec");
		cr_assert_str_eq(sp->status, "ok");
		cr_assert_str_eq(sp->parent_span_id, "",
				 "a call of the new image nested in the old");
		cr_assert_str_neq(sp->trace_id, outer->trace_id);
		cr_assert_geq(sp->start_ns, only(&spans, "exec_middle", "incomplete")->end_ns,
			      "the old image's calls ended after the new image started");
	}
	cr_assert_eq(after, (size_t)atoi(CALLS_AFTER_EXEC), "%s", zt_proc_text(&zt, ZT_STDOUT));
	cr_assert_eq(summary_calls(zt_proc_text(&zt, ZT_STDERR), EXECER_FN),
		     atoi(CALLS_BEFORE_EXEC) + atoi(CALLS_AFTER_EXEC));
	zt_spans_free(&spans);
	zt_proc_free(&zt);
	scratch_remove(&s);
}

/* The exec'd program is another file: nothing after the exec is traced, ztrace ends with it. */
Test(faults, exec_of_another_program_mid_call)
{
	char true_bin[PATH_MAX];
	const char *then[] = {true_bin, NULL};
	struct zt_spans spans;
	struct zt_proc zt;

	cr_assert_not_null(realpath("/bin/true", true_bin));
	run_exec(execer_bin, then, &zt, &spans);
	cr_assert_eq(spans.n, (size_t)(atoi(CALLS_BEFORE_EXEC) + 2), "%s",
		     zt_proc_text(&zt, ZT_STDOUT));
	cr_assert_eq(summary_calls(zt_proc_text(&zt, ZT_STDERR), EXECER_FN),
		     atoi(CALLS_BEFORE_EXEC));
	zt_spans_free(&spans);
	zt_proc_free(&zt);
}

/* CLOCK_REALTIME now, in ns: what span times are exported in. */
static long long realtime_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

/*
 * A second thread execs from inside two traced calls while the main thread blocks in a third:
 * the exec kills the main thread and moves the exec'ing one to the main thread's pid. All three
 * calls end, incomplete and under the old name, at the exec (not when ztrace detaches), and
 * ztrace keeps no per-thread stack for the exec'ing thread's old tid. The new image's calls are
 * not asserted: the kernel ties a pid's uprobes to the task of the thread that died.
 */
Test(faults, exec_from_a_thread_mid_call)
{
	const char *extra[] = {"--calls", CALLS_BEFORE_EXEC, "--from-thread", "--exec", NULL,
			       "--calls", CALLS_AFTER_EXEC,  "--hold",	      NULL};
	static const char *const args[] = {"exec_*", NULL};
	const struct zt_span *hold, *outer, *middle;
	unsigned int tids[STACK_KEYS_MAX];
	struct zt_proc zt, target;
	size_t n_tids, before = 0;
	struct zt_spans spans;
	long long exec_seen;
	struct scratch s;
	int ret;

	scratch_make(&s, "execer", "execer_next");
	extra[4] = s.link;
	zt_trace_waiting_json(ztrace_bin, &zt, &target, s.exe, extra, args);
	zt_release(&target);
	ret = zt_proc_wait_line(&target, ZT_STDOUT, "execer: pid=", EXIT_MS, NULL, 0);
	cr_assert_eq(ret, 0, "the new image did not hold (%s): %s", strerror(-ret),
		     zt_proc_text(&target, ZT_STDERR));
	exec_seen = realtime_ns();
	/* at most the new image's thread: the old tid's stack went with the exec */
	ret = zt_bpf_map_u32_keys(zt.pid, "stacks", tids, STACK_KEYS_MAX, &n_tids);
	cr_assert_eq(ret, 0, "ztrace's stacks map: %s", strerror(-ret));
	for (size_t i = 0; i < n_tids; i++)
		cr_assert_eq(tids[i], (unsigned int)target.pid, "a stack kept for tid %u", tids[i]);
	zt_release(&target);
	zt_expect_exit(&target, "execer", 0, EXIT_MS);
	zt_expect_exit(&zt, "ztrace", 0, EXIT_MS);
	zt_parse_spans(&zt, &spans);

	hold = only(&spans, "exec_hold", "incomplete");
	outer = only(&spans, "exec_outer", "incomplete");
	middle = only(&spans, "exec_middle", "incomplete");
	cr_assert_eq(hold->tid, target.pid);
	cr_assert_neq(outer->tid, target.pid, "the exec was not made by the second thread");
	cr_assert_eq(middle->tid, outer->tid);
	cr_assert_str_eq(middle->parent_span_id, outer->span_id);
	cr_assert_str_eq(outer->parent_span_id, "");
	cr_assert_str_eq(hold->parent_span_id, "");
	/* one exec ended both at once, before the new image ran; the main thread died first */
	cr_assert_eq(outer->end_ns, middle->end_ns);
	cr_assert_lt(outer->end_ns, exec_seen, "the exec'ing thread's calls ended at the detach");
	cr_assert_leq(hold->end_ns, outer->end_ns);
	for (size_t i = 0; i < spans.n; i++) {
		const struct zt_span *sp = &spans.v[i];

		cr_assert_eq(sp->pid, target.pid);
		if (strcmp(sp->comm, "execer"))
			continue;
		before++;
		cr_assert_lt(sp->start_ns, outer->end_ns, "%s under the old name", sp->name);
		if (!strcmp(sp->name, EXECER_FN))
			cr_assert_str_eq(sp->status, "ok");
	}
	cr_assert_eq(before, (size_t)atoi(CALLS_BEFORE_EXEC) + 3, "%s",
		     zt_proc_text(&zt, ZT_STDOUT));
	zt_spans_free(&spans);
	zt_proc_free(&zt);
	zt_proc_free(&target);
	scratch_remove(&s);
}

/* Occurrences of @needle in @text. */
static size_t count_substr(const char *text, const char *needle)
{
	size_t n = 0;

	for (const char *p = strstr(text, needle); p; p = strstr(p + 1, needle))
		n++;
	return n;
}

/*
 * Checks resource @i of the OTLP/JSON @line: the executable @exe and @spans spans, each
 * under the thread name @comm.
 */
static void expect_image(const char *line, size_t i, const char *exe, size_t spans,
			 const char *comm)
{
	const char *at = line, *end;
	char needle[PATH_MAX + 128], *chunk;

	for (size_t k = 0; k <= i; k++) {
		at = strstr(at + (k > 0), "{\"resource\":");
		cr_assert_not_null(at, "no resource %zu in %s", k, line);
	}
	end = strstr(at + 1, "{\"resource\":");
	chunk = strndup(at, end ? (size_t)(end - at) : strlen(at));
	cr_assert_not_null(chunk);
	snprintf(needle, sizeof(needle),
		 "{\"key\":\"process.executable.path\",\"value\":{\"stringValue\":\"%s\"}}", exe);
	cr_assert_not_null(strstr(chunk, needle), "resource %zu is not %s: %s", i, exe, chunk);
	cr_assert_eq(count_substr(chunk, "\"spanId\":"), spans, "resource %zu: %s", i, chunk);
	snprintf(needle, sizeof(needle),
		 "{\"key\":\"thread.name\",\"value\":{\"stringValue\":\"%s\"}}", comm);
	cr_assert_eq(count_substr(chunk, needle), spans, "resource %zu: %s", i, chunk);
	free(chunk);
}

/*
 * A record file across an exec keeps one entry per image: its export gives the spans made
 * before the exec (the two it ended included) the old image's executable and name, and those
 * made after it the new image's.
 */
Test(faults, record_across_an_exec_keeps_each_image)
{
	const char *extra[] = {"--calls", CALLS_BEFORE_EXEC, "--exec", NULL,
			       "--calls", CALLS_AFTER_EXEC,  "--hold", NULL};
	char file[PATH_MAX], pid[16], counts[64];
	size_t before = atoi(CALLS_BEFORE_EXEC) + 2, after = atoi(CALLS_AFTER_EXEC);
	struct zt_proc zt, target, e;
	struct zt_argv a = {0};
	struct scratch s;
	const char *out;
	int ret;

	scratch_make(&s, "execer", "execer_next");
	extra[3] = s.link;
	snprintf(file, sizeof(file), "%s/run.zt", s.dir);
	zt_start_waiting(&target, s.exe, extra);
	snprintf(pid, sizeof(pid), "%d", (int)target.pid);
	av_ztrace(&a, "record");
	zt_argv_add(&a, "-o");
	zt_argv_add(&a, file);
	zt_argv_add(&a, "-p");
	zt_argv_add(&a, pid);
	zt_argv_add(&a, "exec_*");
	zt_start_tracing(&zt, &a);
	zt_release(&target);
	ret = zt_proc_wait_line(&target, ZT_STDOUT, "execer: pid=", EXIT_MS, NULL, 0);
	cr_assert_eq(ret, 0, "the new image did not hold (%s): %s", strerror(-ret),
		     zt_proc_text(&target, ZT_STDERR));
	usleep(zt_time_scale_ms(EXEC_SEEN_MS) * 1000);
	zt_release(&target);
	zt_expect_exit(&target, "execer", 0, EXIT_MS);
	zt_expect_exit(&zt, "ztrace", 0, EXIT_MS);

	av_ztrace(&a, "report");
	zt_argv_add(&a, file);
	cr_assert_eq(zt_run(&e, a.v, NULL, EXIT_MS), 0, "%s", zt_proc_text(&e, ZT_STDERR));
	snprintf(counts, sizeof(counts), ", %zu spans from 2 processes\n", before + after);
	cr_assert_not_null(strstr(zt_proc_text(&e, ZT_STDOUT), counts), "%s",
			   zt_proc_text(&e, ZT_STDOUT));
	zt_proc_free(&e);
	av_ztrace(&a, "export");
	zt_argv_add(&a, file);
	zt_argv_add(&a, "--format");
	zt_argv_add(&a, "otlp-json");
	cr_assert_eq(zt_run(&e, a.v, NULL, EXIT_MS), 0, "%s", zt_proc_text(&e, ZT_STDERR));
	out = zt_proc_text(&e, ZT_STDOUT);
	cr_assert_eq(zt_count_lines(out), 1, "%s", out);
	cr_assert_eq(count_substr(out, "{\"resource\":"), 2, "%s", out);
	/* the spans of one pid in time order: the old image's first */
	expect_image(out, 0, s.exe, before, "execer");
	expect_image(out, 1, s.link, after, "execer_next");
	zt_proc_free(&e);
	zt_proc_free(&zt);
	zt_proc_free(&target);
	unlink(file);
	scratch_remove(&s);
}

/* --- event flood --- */

/*
 * bench_producer floods bench_span from 2 threads while ztrace's JSON output is not read for
 * a second: the ring buffer fills and records are lost until ztrace, back to its loop, sees it
 * over half full and switches to in-kernel aggregation (README, "--aggregate"). Every call is
 * accounted for: the kernel's count equals the target's own, every record made before the
 * switch was delivered (a span line) or counted lost, and memory stays bounded.
 */
Test(faults, flood_accounts_every_call)
{
	const char *extra[] = {"--threads", FLOOD_THREADS, "--duration-ms", FLOOD_MS, NULL};
	long long produced = -1, delivered, lost;
	long hwm = 0, kb;
	static const char *const args[] = {"bench_span", NULL};
	struct zt_proc target, zt;
	struct zt_spans spans;
	const char *line, *err;
	int ret;

	zt_trace_waiting_json(ztrace_bin, &zt, &target, producer_bin, extra, args);
	zt_release(&target);
	/* ztrace's stdout unread: it blocks once the pipe is full */
	usleep(FLOOD_STALL_MS * 1000);
	for (long long deadline = zt_now_ms() + zt_time_scale_ms(FLOOD_EXIT_MS);;) {
		kb = proc_hwm_kb(zt.pid);
		if (kb > hwm)
			hwm = kb;
		ret = zt_proc_wait(&zt, POLL_MS);
		if (ret != -ETIMEDOUT)
			break;
		zt_proc_pump(&target, 0);
		cr_assert_lt(zt_now_ms(), deadline, "ztrace still runs after the flood");
	}
	cr_assert_eq(ret, 0, "ztrace exited %d; stderr:\n%s", ret, zt_proc_text(&zt, ZT_STDERR));
	zt_expect_exit(&target, "bench_producer", 0, EXIT_MS);
	line = strstr(zt_proc_text(&target, ZT_STDOUT), "bench_producer: threads=");
	cr_assert_not_null(line, "%s", zt_proc_text(&target, ZT_STDOUT));
	cr_assert_eq(sscanf(line, "bench_producer: threads=%*d calls=%lld", &produced), 1);

	err = zt_proc_text(&zt, ZT_STDERR);
	summary_events(err, &delivered, &lost);
	zt_parse_spans(&zt, &spans);
	cr_log_info("flood: produced %lld, delivered %lld, lost %lld, ztrace VmHWM %ld kB",
		    produced, delivered, lost, hwm);
	cr_assert_gt(lost, 0, "no record was lost: no flood (%lld calls)", produced);
	cr_assert_eq(summary_calls(err, "bench_span"), produced, "the kernel's count:\n%s", err);
	cr_assert_eq((long long)spans.n, delivered, "span lines vs delivered");
	/* calls after the switch make no record, so records <= calls; the summary counts them all
	 */
	cr_assert_not_null(strstr(err, "ztrace: warning: ring buffer over 50% full: switched to "
				       "in-kernel aggregation (spans only for failed calls)\n"),
			   "%s", err);
	cr_assert_leq(delivered + lost, produced, "%s", err);
	cr_assert_not_null(strstr(err, "(calls counted in the kernel"), "%s", err);
	cr_assert_gt(hwm, 0, "VmHWM never read");
	cr_assert_lt(hwm, FLOOD_MAX_HWM_KB, "ztrace's peak memory %ld kB", hwm);
	zt_spans_free(&spans);
	zt_proc_free(&zt);
	zt_proc_free(&target);
}

/*
 * -d ends tracing on time during a flood: the consumer, slower than the producers, used to
 * drain the ring buffer without end and notice neither the timer nor the fill.
 */
Test(faults, flood_does_not_delay_duration)
{
	const char *extra[] = {"--threads", FLOOD_THREADS, "--duration-ms", FLOOD_LONG_MS, NULL};
	static const char *const args[] = {"-d", FLOOD_SHORT_S, "bench_span", NULL};
	struct zt_proc target, zt;
	long long start;

	zt_trace_waiting_json(ztrace_bin, &zt, &target, producer_bin, extra, args);
	start = zt_now_ms();
	zt_release(&target);
	zt_expect_exit(&zt, "ztrace", 0, atoi(FLOOD_LONG_MS));
	cr_assert_lt(zt_now_ms() - start, atoi(FLOOD_SHORT_S) * 1000 + FLOOD_DURATION_SLACK_MS,
		     "-d " FLOOD_SHORT_S " took %lld ms", zt_now_ms() - start);
	cr_assert_eq(zt_proc_wait(&target, 0), -ETIMEDOUT, "the flood ended first");
	zt_proc_free(&zt);
	zt_proc_free(&target);
}

/* --- OTLP endpoint that accepts and never answers --- */

/* A socket listening on 127.0.0.1 that never accepts: the kernel completes connections into
 * its backlog, so a client connects and then waits forever for an answer. */
static int silent_listener(unsigned int *port)
{
	struct sockaddr_in sa = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
	socklen_t len = sizeof(sa);
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);

	cr_assert_geq(fd, 0);
	cr_assert_eq(bind(fd, (struct sockaddr *)&sa, sizeof(sa)), 0, "%s", strerror(errno));
	cr_assert_eq(listen(fd, 64), 0);
	cr_assert_eq(getsockname(fd, (struct sockaddr *)&sa, &len), 0);
	*port = ntohs(sa.sin_port);
	return fd;
}

Test(faults, otlp_endpoint_never_answers)
{
	const char *extra[] = {"--orders",	 "100000",  "--sleep-ms",
			       HANG_ORDER_SLEEP, "--quiet", NULL};
	unsigned long long sent, dropped, failed;
	long long calls, delivered, lost, t_end;
	struct zt_proc target, zt;
	struct zt_spans spans;
	char url[64];
	const char *args[] = {"--otlp", url, "-d", HANG_DURATION_S, "process_order", NULL};
	unsigned int port;
	const char *err, *line;
	int fd = silent_listener(&port);

	cr_assert_eq(setenv("OTEL_EXPORTER_OTLP_TIMEOUT", HANG_TIMEOUT_MS, 1), 0);
	snprintf(url, sizeof(url), "http://127.0.0.1:%u", port);
	zt_trace_waiting_json(ztrace_bin, &zt, &target, orders_bin, extra, args);
	zt_release(&target);
	t_end = zt_now_ms() + atoi(HANG_DURATION_S) * 1000;
	zt_expect_exit(&zt, "ztrace", 0, atoi(HANG_DURATION_S) * 1000 + HANG_EXIT_MS);
	cr_assert_lt(zt_now_ms() - t_end, HANG_EXIT_MS, "ztrace took too long after -d");
	cr_assert_eq(zt_proc_wait(&target, 0), -ETIMEDOUT, "orders ended early");

	err = zt_proc_text(&zt, ZT_STDERR);
	zt_parse_spans(&zt, &spans);
	calls = summary_calls(err, "process_order");
	summary_events(err, &delivered, &lost);
	cr_assert_gt(spans.n, 0);
	cr_assert_eq(calls, (long long)spans.n, "%s", err);
	cr_assert_eq(delivered, (long long)spans.n);
	cr_assert_eq(lost, 0);
	cr_assert_not_null(strstr(err, "Operation timed out after "), "%s", err);
	line = strstr(err, "ztrace: otlp: ");
	cr_assert_not_null(line, "%s", err);
	cr_assert_eq(sscanf(line, "ztrace: otlp: %llu spans sent, %llu dropped", &sent, &dropped),
		     2, "%s", line);
	line = strstr(line, "), ");
	cr_assert_not_null(line);
	cr_assert_eq(sscanf(line, "), %llu failed", &failed), 1, "%s", line);
	cr_assert_eq(sent, 0);
	cr_assert_eq(dropped + failed, spans.n, "every unsent span must be counted: %s", err);
	zt_spans_free(&spans);
	zt_proc_free(&zt);
	zt_proc_free(&target);
	close(fd);
}

/* --- a pid that exits during attach --- */

/*
 * sleep runs for a few milliseconds while ztrace attaches to every function of its libc (over
 * 2000, which takes a while). Whatever the moment of the exit: a refusal naming the pid in
 * one line with exit 2, or a clean run with exit 0; never a crash, a hang or another code.
 */
Test(faults, pid_exits_during_attach)
{
	static const char *const lifetimes[] = {"0.005", "0.02", "0.05", "0.1", "0.2", "0.4"};
	int refused = 0, traced = 0;

	for (size_t i = 0; i < sizeof(lifetimes) / sizeof(lifetimes[0]); i++) {
		char *sleep_argv[] = {"sleep", (char *)lifetimes[i], NULL};
		char pid[16], want_exited[96], want_gone[96], want_none[96];
		struct zt_proc target, zt;
		struct zt_argv a = {0};
		const char *err;
		int code;

		cr_assert_eq(zt_proc_spawn(&target, sleep_argv, NULL), 0);
		snprintf(pid, sizeof(pid), "%d", (int)target.pid);
		av_ztrace(&a, "trace");
		zt_argv_add(&a, "-p");
		zt_argv_add(&a, pid);
		zt_argv_add(&a, "u:libc:*");
		zt_argv_add(&a, "--max-probes");
		zt_argv_add(&a, "4096");
		zt_argv_add(&a, "-d");
		zt_argv_add(&a, "5");
		code = zt_run(&zt, a.v, NULL, EXIT_MS);
		err = zt_proc_text(&zt, ZT_STDERR);
		snprintf(want_exited, sizeof(want_exited),
			 "ztrace: pid %s exited while ztrace was attaching: nothing was traced\n",
			 pid);
		snprintf(want_gone, sizeof(want_gone),
			 "ztrace: pid %s has exited: nothing to trace\n", pid);
		snprintf(want_none, sizeof(want_none),
			 "ztrace: no process with pid %s: check the pid (ps -p %s)\n", pid, pid);
		if (code == 2) {
			refused++;
			cr_assert(!strcmp(err, want_exited) || !strcmp(err, want_gone) ||
				      !strcmp(err, want_none),
				  "sleep %s: refusal is not one clear line:\n%s", lifetimes[i],
				  err);
		} else {
			traced++;
			cr_assert_eq(code, 0, "sleep %s: ztrace exited %d:\n%s", lifetimes[i], code,
				     err);
			cr_assert_not_null(strstr(err, ZT_TRACING_LINE), "%s", err);
			cr_assert_not_null(
			    strstr(zt_proc_text(&zt, ZT_STDOUT), "events: delivered "), "%s",
			    zt_proc_text(&zt, ZT_STDOUT));
		}
		zt_expect_exit(&target, "sleep", 0, EXIT_MS);
		zt_proc_free(&zt);
		zt_proc_free(&target);
	}
	cr_log_info("pid exits during attach: %d refused, %d traced to the end", refused, traced);
}

/* --- bad input not covered by test_bad_input.c --- */

Test(faults, unreadable_agent_config)
{
	char file[] = "/tmp/zt-faults-config-XXXXXX", line[PATH_MAX + 64];
	static const char *const missing[] = {
	    "ztrace: cannot read /nonexistent/agent.yaml: No such file or directory", NULL};
	static const char *const directory[] = {"ztrace: cannot read /tmp: Is a directory", NULL};
	const char *denied[] = {line, NULL};
	struct zt_argv a = {0};
	int fd;

	av_ztrace(&a, "agent");
	zt_argv_add(&a, "--config");
	zt_argv_add(&a, "/nonexistent/agent.yaml");
	zt_expect_refusal(&a, NULL, missing, NULL, 0);
	av_ztrace(&a, "agent");
	zt_argv_add(&a, "--config");
	zt_argv_add(&a, "/tmp");
	zt_expect_refusal(&a, NULL, directory, NULL, 0);

	/* mode 000: root reads it anyway, so as the user nobody */
	fd = mkstemp(file);
	cr_assert_geq(fd, 0);
	cr_assert_eq(write(fd, "rules: []\n", 10), 10);
	close(fd);
	cr_assert_eq(chmod(file, 0), 0);
	snprintf(line, sizeof(line), "ztrace: cannot read %s: Permission denied\n", file);
	av_ztrace(&a, "agent");
	zt_argv_add(&a, "--config");
	zt_argv_add(&a, file);
	zt_expect_refusal(&a, &(struct zt_spawn_opts){.as_nobody = true}, denied, NULL, 0);
	unlink(file);
}

Test(faults, bad_otlp_url)
{
	static const struct {
		const char *url, *line;
	} cases[] = {
	    {"ftp://x", "ztrace: OTLP endpoint 'ftp://x': scheme 'ftp' is not supported: ztrace "
			"sends OTLP/HTTP, use http:// or https://\n"},
	    {"http://", "ztrace: OTLP endpoint 'http://' is not a valid URL (No host part in the "
			"URL): give one like http://localhost:4318\n"},
	};
	struct zt_argv a = {0};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		const char *needles[] = {cases[i].line, NULL};

		av_ztrace(&a, "trace");
		zt_argv_add(&a, "--otlp");
		zt_argv_add(&a, cases[i].url);
		zt_argv_add(&a, "--syscalls=read");
		zt_argv_add(&a, "-d");
		zt_argv_add(&a, "2");
		zt_expect_refusal(&a, NULL, needles, NULL, 0);
	}
}

/* --- kernel features --- */

/* The agent logs its refusal in its log format (logfmt): exit 2, one line, msg="@msg". */
static void expect_agent_refusal(struct zt_argv *a, const char *msg)
{
	char want[512];
	struct zt_proc zt;
	const char *err;
	int code;

	snprintf(want, sizeof(want), "level=error msg=\"%.*s\"\n", (int)strcspn(msg, "\n"), msg);
	code = zt_run(&zt, a->v, NULL, ZT_REFUSE_MS);
	err = zt_proc_text(&zt, ZT_STDERR);
	cr_assert_eq(code, 2, "the agent exited %d, want 2:\n%s", code, err);
	cr_assert_eq(zt_count_lines(err), 1, "want one line, got:\n%s", err);
	cr_assert_not_null(strstr(err, want), "no '%s' in: %s", want, err);
	zt_proc_free(&zt);
}

/*
 * ZTRACE_TEST_HIDE_FEATURE makes ztrace's feature check see BTF or the BPF ring buffer
 * missing: the trace command and the agent each say exactly what, in one line, exit 2.
 */
Test(faults, missing_kernel_feature_is_named)
{
	static const struct {
		const char *feature, *line;
	} cases[] = {
	    {"btf", "ztrace: this kernel has no BTF (/sys/kernel/btf/vmlinux: No such file or "
		    "directory): ztrace needs a kernel built with CONFIG_DEBUG_INFO_BTF=y\n"},
	    {"ringbuf", "ztrace: this kernel has no BPF ring buffer (BPF_MAP_TYPE_RINGBUF): ztrace "
			"needs Linux 5.8 or later\n"},
	};
	char config[] = "/tmp/zt-faults-agent-XXXXXX";
	struct zt_argv a = {0};
	FILE *f;
	int fd;

	fd = mkstemp(config);
	cr_assert_geq(fd, 0);
	f = fdopen(fd, "w");
	cr_assert_not_null(f);
	fprintf(f, "rules:\n"
		   "  - name: orders\n"
		   "    match:\n"
		   "      exe: \"*/zt-faults-nothing\"\n"
		   "    probes: [process_order]\n");
	cr_assert_eq(fclose(f), 0);
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		const char *needles[] = {cases[i].line, NULL};

		cr_assert_eq(setenv("ZTRACE_TEST_HIDE_FEATURE", cases[i].feature, 1), 0);
		av_ztrace(&a, "trace");
		zt_argv_add(&a, "--syscalls=read");
		zt_argv_add(&a, "-d");
		zt_argv_add(&a, "2");
		zt_expect_refusal(&a, NULL, needles, NULL, 0);
		av_ztrace(&a, "agent");
		zt_argv_add(&a, "--config");
		zt_argv_add(&a, config);
		expect_agent_refusal(&a, cases[i].line + strlen("ztrace: "));
	}
	unsetenv("ZTRACE_TEST_HIDE_FEATURE");
	unlink(config);
}
