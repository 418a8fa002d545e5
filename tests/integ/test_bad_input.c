/* SPDX-License-Identifier: MIT */
/*
 * Bad input and faults (issue 8), against the real ztrace binary as root.
 *
 * Bad input: every refusal must exit 2 with exactly one line on stderr that starts "ztrace: "
 * and names the problem, print nothing on stdout, and leave no process it launched behind.
 * Faults: ztrace SIGKILLed while recording, a target dying of SIGSEGV inside traced calls,
 * recursion deeper than the span stack, and 2000 short-lived threads; counts are exact.
 *
 * Binaries come from $ZT_OUTPUT (default .output): ztrace and targets/. Run from the
 * repository root, one test at a time (--jobs=1): some tests look at system-wide BPF state.
 */
#include <criterion/criterion.h>
#include <dirent.h>
#include <elf.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "common/bpfstate.h"
#include "common/jsonl.h"
#include "common/procmem.h"
#include "common/runproc.h"
#include "common/testenv.h"
#include "common/ztrun.h"
#include "elf_sym.h"
#include "procmaps.h"

/* Deadlines, in milliseconds. */
#define EXIT_MS		8000 /* a traced run ends */
#define CLEANUP_MS	3000 /* the kernel drops a killed tracer's links */
#define CLEANUP_POLL_MS 20
/* How long ztrace records before the SIGKILL: past one record-file flush (1 s). */
#define RECORD_BEFORE_KILL_MS 1500
/* -d for runs that must be refused: bounds the test if ztrace wrongly accepts one. */
#define REFUSED_DURATION "2"

#define ARGV_MAX 32

/* tests/targets/crasher.c */
#define CRASHER_WARMUP_RET 42
/* tests/targets/recurse.c and the span stack (include/ztrace/limits.h) */
#define SPAN_STACK_DEPTH ZT_MAX_DEPTH
/*
 * Recursion depths: past the span stack but within Linux's MAX_URETPROBE_DEPTH (64 nested
 * return probes per task, kernel/events/uprobes.c), and past both.
 */
#define RECURSE_WITHIN_KERNEL_LIMIT 48
#define RECURSE_PAST_KERNEL_LIMIT   100
/* tests/targets/threads.c */
#define THREADS 2000
/* orders for the SIGKILL test: long enough to be killed mid-run, short enough for < 10 s */
#define KILL_ORDERS   "16"
#define KILL_SLEEP_MS "150"

static char ztrace_bin[PATH_MAX];
static char orders_bin[PATH_MAX];
static char pricing_lib[PATH_MAX];
static char crasher_bin[PATH_MAX];
static char recurse_bin[PATH_MAX];
static char threads_bin[PATH_MAX];

/* Starts @a with ztrace_bin and @cmd ("trace", "report", ...). */
static void av_ztrace(struct zt_argv *a, const char *cmd)
{
	a->n = 0;
	zt_argv_add(a, ztrace_bin);
	zt_argv_add(a, cmd);
}

static void setup(void)
{
	if (geteuid() != 0)
		cr_skip_test("integration tests load BPF programs: run as root");
	zt_ztrace_path(ztrace_bin);
	zt_output_path(orders_bin, "targets/orders");
	zt_output_path(pricing_lib, "targets/libpricing.so");
	zt_output_path(crasher_bin, "targets/crasher");
	zt_output_path(recurse_bin, "targets/recurse");
	zt_output_path(threads_bin, "targets/threads");
}

TestSuite(bad_input, .init = setup, .timeout = 20);

/* --- running things --- */

static void expect_refusal(struct zt_argv *a, const char *const *needles)
{
	zt_expect_refusal(a, NULL, needles, NULL, 0);
}

/* The pid of a process that existed and is gone (reaped): nothing has it now. */
static pid_t gone_pid(void)
{
	pid_t pid = fork();

	cr_assert_geq(pid, 0, "fork: %s", strerror(errno));
	if (pid == 0)
		_exit(0);
	cr_assert_eq(waitpid(pid, NULL, 0), pid);
	cr_assert(kill(pid, 0) != 0 && errno == ESRCH, "pid %d still exists", (int)pid);
	return pid;
}

/* How many processes run the executable at @path (by /proc/PID/exe). */
static size_t processes_running(const char *path)
{
	DIR *d = opendir("/proc");
	struct dirent *de;
	size_t n = 0;

	cr_assert_not_null(d);
	while ((de = readdir(d)) != NULL) {
		char link[sizeof(de->d_name) + 16], exe[PATH_MAX];
		ssize_t len;

		if (de->d_name[0] < '1' || de->d_name[0] > '9')
			continue;
		snprintf(link, sizeof(link), "/proc/%s/exe", de->d_name);
		len = readlink(link, exe, sizeof(exe) - 1);
		if (len <= 0)
			continue;
		exe[len] = '\0';
		n += strcmp(exe, path) == 0;
	}
	closedir(d);
	return n;
}

/* --- private copies of the targets --- */

struct scratch {
	char dir[64];
	char orders[PATH_MAX];
	char lib[PATH_MAX];
};

static void copy_file(const char *from, const char *to)
{
	char buf[1 << 16];
	int in = open(from, O_RDONLY | O_CLOEXEC), out;
	ssize_t n;

	cr_assert_geq(in, 0, "%s: %s", from, strerror(errno));
	out = open(to, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0755);
	cr_assert_geq(out, 0, "%s: %s", to, strerror(errno));
	while ((n = read(in, buf, sizeof(buf))) > 0)
		cr_assert_eq(write(out, buf, (size_t)n), n);
	cr_assert_eq(n, 0);
	close(in);
	cr_assert_eq(close(out), 0);
}

/*
 * A temporary directory holding copies of orders and libpricing.so (orders finds the library
 * next to itself), so that a test can strip or patch them and find its own processes by path.
 */
static void scratch_make(struct scratch *s)
{
	snprintf(s->dir, sizeof(s->dir), "/tmp/zt-bad-input-XXXXXX");
	cr_assert_not_null(mkdtemp(s->dir), "mkdtemp: %s", strerror(errno));
	snprintf(s->orders, sizeof(s->orders), "%s/orders", s->dir);
	snprintf(s->lib, sizeof(s->lib), "%s/libpricing.so", s->dir);
	copy_file(orders_bin, s->orders);
	copy_file(pricing_lib, s->lib);
}

static void scratch_remove(struct scratch *s)
{
	unlink(s->orders);
	unlink(s->lib);
	rmdir(s->dir);
}

/* --- bad input --- */

Test(bad_input, nonexistent_pid)
{
	struct zt_argv a = {0};
	char pid[16], want[64];
	const char *needles[] = {want, NULL};

	snprintf(pid, sizeof(pid), "%d", (int)gone_pid());
	snprintf(want, sizeof(want), "no process with pid %s", pid);
	av_ztrace(&a, "trace");
	zt_argv_add(&a, "-p");
	zt_argv_add(&a, pid);
	zt_argv_add(&a, "process_order");
	expect_refusal(&a, needles);
}

Test(bad_input, kernel_thread_pid)
{
	static const char *const needles[] = {"pid 2 is a kernel thread", NULL};
	struct zt_argv a = {0};
	char comm[32] = "";
	FILE *f = fopen("/proc/2/comm", "r");

	cr_assert_not_null(f);
	cr_assert_not_null(fgets(comm, sizeof(comm), f));
	fclose(f);
	cr_assert_str_eq(comm, "kthreadd\n", "pid 2 is not kthreadd here");
	av_ztrace(&a, "trace");
	zt_argv_add(&a, "-p");
	zt_argv_add(&a, "2");
	zt_argv_add(&a, "process_order");
	expect_refusal(&a, needles);
}

/* Without root, ztrace says so and names the capabilities it lacks; the target is unharmed. */
Test(bad_input, not_root_names_capabilities)
{
	static const char *const needles[] = {"must run as root", "CAP_BPF", "CAP_PERFMON", NULL};
	const char *extra[] = {"--orders", "1", NULL};
	struct zt_proc orders;
	struct zt_argv a = {0};
	char pid[16];

	zt_start_waiting(&orders, orders_bin, extra);
	snprintf(pid, sizeof(pid), "%d", (int)orders.pid);
	av_ztrace(&a, "trace");
	zt_argv_add(&a, "-p");
	zt_argv_add(&a, pid);
	zt_argv_add(&a, "process_order");
	zt_expect_refusal(&a, &(struct zt_spawn_opts){.as_nobody = true}, needles, NULL, 0);
	zt_release(&orders);
	zt_expect_exit(&orders, "orders", 0, EXIT_MS);
	zt_proc_free(&orders);
}

/* A non-ELF file, with -p of a running target and in launch mode (which must not leave the
 * launched command behind). */
Test(bad_input, non_elf_file)
{
	static const char *const needles[] = {"u:/etc/passwd:main",
					      "/etc/passwd is not an ELF file", NULL};
	struct scratch s;
	struct zt_proc orders;
	struct zt_argv a = {0};
	char pid[16];

	zt_start_waiting(&orders, orders_bin, NULL);
	snprintf(pid, sizeof(pid), "%d", (int)orders.pid);
	av_ztrace(&a, "trace");
	zt_argv_add(&a, "-p");
	zt_argv_add(&a, pid);
	zt_argv_add(&a, "u:/etc/passwd:main");
	expect_refusal(&a, needles);
	zt_proc_free(&orders);

	scratch_make(&s);
	av_ztrace(&a, "trace");
	zt_argv_add(&a, "u:/etc/passwd:main");
	zt_argv_add(&a, "--");
	zt_argv_add(&a, s.orders);
	zt_argv_add(&a, "--orders");
	zt_argv_add(&a, "1");
	expect_refusal(&a, needles);
	cr_assert_eq(processes_running(s.orders), 0, "the refused launch left %s running",
		     s.orders);
	scratch_remove(&s);
}

/* An ELF file for another machine: a copy of libpricing.so relabelled aarch64. */
Test(bad_input, elf_of_another_architecture)
{
	const Elf64_Half machine = EM_AARCH64; /* little-endian, like the file */
	struct scratch s;
	struct zt_proc orders;
	struct zt_argv a = {0};
	char pid[16], spec[PATH_MAX + 8], named[PATH_MAX + 64];
	const char *needles[] = {spec, named, "not x86_64", NULL};
	int fd;

	scratch_make(&s);
	fd = open(s.lib, O_WRONLY | O_CLOEXEC);
	cr_assert_geq(fd, 0);
	cr_assert_eq(pwrite(fd, &machine, sizeof(machine), offsetof(Elf64_Ehdr, e_machine)),
		     (ssize_t)sizeof(machine));
	close(fd);
	snprintf(spec, sizeof(spec), "u:%s:*", s.lib);
	snprintf(named, sizeof(named), "%s is an ELF file for aarch64", s.lib);

	zt_start_waiting(&orders, orders_bin, NULL);
	snprintf(pid, sizeof(pid), "%d", (int)orders.pid);
	av_ztrace(&a, "trace");
	zt_argv_add(&a, "-p");
	zt_argv_add(&a, pid);
	zt_argv_add(&a, spec);
	expect_refusal(&a, needles);
	zt_proc_free(&orders);
	scratch_remove(&s);
}

/* A stripped executable: process_* is only in .symtab, which strip removed. */
Test(bad_input, stripped_binary)
{
	static const char *const needles[] = {"'process_*'", "stripped", "no .symtab", NULL};
	char *strip_argv[] = {"strip", NULL, NULL};
	struct scratch s;
	struct zt_proc strip;
	struct zt_argv a = {0};

	scratch_make(&s);
	strip_argv[1] = s.orders;
	cr_assert_eq(zt_run(&strip, strip_argv, NULL, ZT_REFUSE_MS), 0, "strip: %s",
		     zt_proc_text(&strip, ZT_STDERR));
	zt_proc_free(&strip);

	av_ztrace(&a, "trace");
	zt_argv_add(&a, "process_*");
	zt_argv_add(&a, "--");
	zt_argv_add(&a, s.orders);
	zt_argv_add(&a, "--orders");
	zt_argv_add(&a, "1");
	expect_refusal(&a, needles);
	cr_assert_eq(processes_running(s.orders), 0, "the refused launch left %s running",
		     s.orders);
	scratch_remove(&s);
}

/* A glob matching nothing names the spec and the file searched; the target is unharmed. */
Test(bad_input, glob_matches_nothing)
{
	const char *extra[] = {"--orders", "1", NULL};
	const char *needles[] = {"'zz_no_such_fn_*'", "matches no function", orders_bin, NULL};
	struct zt_proc orders;
	struct zt_argv a = {0};
	char pid[16];

	zt_start_waiting(&orders, orders_bin, extra);
	snprintf(pid, sizeof(pid), "%d", (int)orders.pid);
	av_ztrace(&a, "trace");
	zt_argv_add(&a, "-p");
	zt_argv_add(&a, pid);
	zt_argv_add(&a, "zz_no_such_fn_*");
	expect_refusal(&a, needles);
	zt_release(&orders);
	zt_expect_exit(&orders, "orders", 0, EXIT_MS);
	cr_assert_not_null(strstr(zt_proc_text(&orders, ZT_STDOUT), "orders: threads=1 orders=1 "));
	zt_proc_free(&orders);
}

/* 'u:libc:*' is refused past --max-probes 10 with the exact count of libc's functions. */
Test(bad_input, glob_matches_more_than_max_probes)
{
	struct zt_proc orders;
	struct zt_argv a = {0};
	struct zt_maps maps = {0};
	struct zt_elf *libc = NULL;
	struct zt_elf_func *funcs = NULL;
	const char *libc_path;
	char pid[16], count[128];
	const char *needles[] = {"'u:libc:*'", count, "more than --max-probes 10", NULL};
	size_t n = 0;

	zt_start_waiting(&orders, orders_bin, NULL);
	snprintf(pid, sizeof(pid), "%d", (int)orders.pid);
	/* the count ztrace must report: libc's functions as elf_sym.h lists them */
	cr_assert_eq(zt_procmaps_read(orders.pid, &maps), 0);
	libc_path = zt_procmaps_find_lib(&maps, "libc");
	cr_assert_not_null(libc_path, "orders maps no libc");
	cr_assert_eq(zt_elf_open(libc_path, &libc), 0);
	cr_assert_eq(zt_elf_match_funcs(libc, "*", &funcs, &n), 0);
	cr_assert_gt(n, 10);
	snprintf(count, sizeof(count), "matches %zu functions in %s", n, libc_path);
	zt_elf_funcs_free(funcs, n);
	zt_elf_close(libc);
	zt_procmaps_free(&maps);

	av_ztrace(&a, "trace");
	zt_argv_add(&a, "-p");
	zt_argv_add(&a, pid);
	zt_argv_add(&a, "--max-probes");
	zt_argv_add(&a, "10");
	zt_argv_add(&a, "u:libc:*");
	expect_refusal(&a, needles);
	zt_proc_free(&orders);
}

/* Malformed specs: each refused with what is wrong about it. */
Test(bad_input, malformed_specs)
{
	static const struct {
		const char *spec;
		const char *why;
	} cases[] = {
	    {"", "empty probe spec"},
	    {"u:", "malformed probe spec 'u:'"},
	    {"u::main", "empty FILE in probe spec 'u::main'"},
	    {"u:/bin/true:", "empty function glob in probe spec 'u:/bin/true:'"},
	    {"k:", "empty function glob in probe spec 'k:'"},
	    {"k:a:b", "malformed probe spec 'k:a:b'"},
	    {"t:sched", "malformed probe spec 't:sched'"},
	    {"t::x", "empty CATEGORY in probe spec 't::x'"},
	    {"t:sched:", "empty NAME in probe spec 't:sched:'"},
	    {"usdt:/bin/true:p", "malformed probe spec 'usdt:/bin/true:p'"},
	    {"usdt:/bin/true::n", "empty PROVIDER in probe spec 'usdt:/bin/true::n'"},
	    {"usdt:/bin/true:p:a..", "empty END in probe spec 'usdt:/bin/true:p:a..'"},
	    {"x:foo", "unknown probe type 'x' in 'x:foo'"},
	    {":main", "missing probe type in ':main'"},
	    {"u:/bin/true:[abc", "unbalanced '[' in glob '[abc'"},
	    {"u:/bin/true:fo\\", "ends with '\\'"},
	    {"ma;in", "invalid character ';' in function glob 'ma;in'"},
	    {"ma\tin", "control character 0x09 at byte 2"},
	};
	struct zt_argv a = {0};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		const char *needles[] = {cases[i].why, NULL};

		av_ztrace(&a, "trace");
		zt_argv_add(&a, "-d");
		zt_argv_add(&a, REFUSED_DURATION);
		zt_argv_add(&a, cases[i].spec);
		expect_refusal(&a, needles);
	}
}

Test(bad_input, unknown_syscall_name)
{
	static const char *const needles[] = {"unknown syscall 'no_such_call' in --syscalls", NULL};
	static const char *const empty[] = {"empty syscall name in --syscalls='read,,write'", NULL};
	struct zt_argv a = {0};

	av_ztrace(&a, "trace");
	zt_argv_add(&a, "--syscalls=read,no_such_call");
	zt_argv_add(&a, "-d");
	zt_argv_add(&a, REFUSED_DURATION);
	expect_refusal(&a, needles);
	av_ztrace(&a, "trace");
	zt_argv_add(&a, "--syscalls=read,,write");
	zt_argv_add(&a, "-d");
	zt_argv_add(&a, REFUSED_DURATION);
	expect_refusal(&a, empty);
}

Test(bad_input, bad_error_if)
{
	static const char *const rules[] = {
	    "ret<<0", "ret", "ret<", "ret<abc", "x<0", "ret<0 junk", "ret<99999999999999999999", "",
	};
	struct zt_argv a = {0};

	for (size_t i = 0; i < sizeof(rules) / sizeof(rules[0]); i++) {
		char want[128];
		const char *needles[] = {want, "write ret OP NUMBER", NULL};

		snprintf(want, sizeof(want), "bad --error-if '%s'", rules[i]);
		av_ztrace(&a, "trace");
		zt_argv_add(&a, "--error-if");
		zt_argv_add(&a, rules[i]);
		zt_argv_add(&a, "-d");
		zt_argv_add(&a, REFUSED_DURATION);
		zt_argv_add(&a, "--syscalls=read");
		expect_refusal(&a, needles);
	}
}

Test(bad_input, bad_duration)
{
	static const char *const durations[] = {"abc", "0", "-1", "5x", "", "1,5"};
	struct zt_argv a = {0};

	for (size_t i = 0; i < sizeof(durations) / sizeof(durations[0]); i++) {
		char want[64];
		const char *needles[] = {want, "expected a number of seconds", NULL};

		snprintf(want, sizeof(want), "bad -d '%s'", durations[i]);
		av_ztrace(&a, "trace");
		zt_argv_add(&a, "--syscalls=read");
		zt_argv_add(&a, "-d");
		zt_argv_add(&a, durations[i]);
		expect_refusal(&a, needles);
	}
}

/*
 * -d nan, -d inf and -d 1e300 are not durations: with them ztrace traced until killed. Each must
 * be refused like any bad -d.
 */
Test(bad_input, duration_not_finite)
{
	static const char *const durations[] = {"nan", "inf", "1e300"};
	struct zt_argv a = {0};

	for (size_t i = 0; i < sizeof(durations) / sizeof(durations[0]); i++) {
		char want[64];
		const char *needles[] = {want, NULL};

		snprintf(want, sizeof(want), "bad -d '%s'", durations[i]);
		av_ztrace(&a, "trace");
		zt_argv_add(&a, "--syscalls=read");
		zt_argv_add(&a, "-d");
		zt_argv_add(&a, durations[i]);
		expect_refusal(&a, needles);
	}
}

Test(bad_input, unknown_option)
{
	static const struct {
		const char *arg;
		const char *why;
	} cases[] = {
	    {"--bogus", "unknown or incomplete option '--bogus'"},
	    {"-Z", "option -Z is unknown"},
	    {"-p", "option -p needs a value"},
	    {"--max-probes", "unknown or incomplete option '--max-probes'"},
	};
	struct zt_argv a = {0};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		const char *needles[] = {cases[i].why, NULL};

		av_ztrace(&a, "trace");
		zt_argv_add(&a, "process_order");
		zt_argv_add(&a, cases[i].arg);
		expect_refusal(&a, needles);
	}
	av_ztrace(&a, "frobnicate");
	{
		static const char *const needles[] = {"unknown command 'frobnicate'", NULL};

		expect_refusal(&a, needles);
	}
}

/* --metrics-retention: a duration from 1s to 300s, else one line and exit 2. */
Test(bad_input, metrics_retention_out_of_range)
{
	static const char *const values[] = {"500ms", "301s", "1m", "-1s"};
	struct zt_argv a = {0};

	for (size_t i = 0; i < sizeof(values) / sizeof(values[0]); i++) {
		char why[128];
		const char *needles[] = {why, NULL};

		snprintf(why, sizeof(why),
			 "bad --metrics-retention '%s': expected a duration from 1s to 300s such "
			 "as 60s",
			 values[i]);
		av_ztrace(&a, "trace");
		zt_argv_add(&a, "--metrics-retention");
		zt_argv_add(&a, values[i]);
		zt_argv_add(&a, "process_order");
		expect_refusal(&a, needles);
	}
}

Test(bad_input, command_not_found)
{
	static const char *const needles[] = {"cannot run '/nonexistent/cmd'", "not found", NULL};
	static const char *const denied[] = {"cannot run '/etc/passwd'", "Permission denied", NULL};
	struct zt_argv a = {0};

	av_ztrace(&a, "trace");
	zt_argv_add(&a, "process_order");
	zt_argv_add(&a, "--");
	zt_argv_add(&a, "/nonexistent/cmd");
	expect_refusal(&a, needles);
	av_ztrace(&a, "trace");
	zt_argv_add(&a, "process_order");
	zt_argv_add(&a, "--");
	zt_argv_add(&a, "/etc/passwd");
	expect_refusal(&a, denied);
}

/* A script whose "#!" interpreter does not exist cannot run: said before anything loads. */
Test(bad_input, script_with_a_missing_interpreter)
{
	static const char *const needles[] = {
	    "probe spec 'u:libc:getenv': cannot tell which program",
	    "runs (its \"#!\" interpreter): No such file or directory", NULL};
	char script[PATH_MAX];
	struct zt_argv a = {0};
	FILE *f;

	snprintf(script, sizeof(script), "/tmp/zt-badinterp-%d.sh", (int)getpid());
	f = fopen(script, "w");
	cr_assert_not_null(f);
	fputs("#!/nonexistent/interpreter\n", f);
	fclose(f);
	cr_assert_eq(chmod(script, 0755), 0);
	av_ztrace(&a, "trace");
	zt_argv_add(&a, "u:libc:getenv");
	zt_argv_add(&a, "--");
	zt_argv_add(&a, script);
	expect_refusal(&a, needles);
	unlink(script);
}

/* A directory is no command either; ztrace exited 1 and blamed the probe spec. */
Test(bad_input, command_is_a_directory)
{
	static const char *const needles[] = {"cannot run '/tmp'", NULL};
	struct zt_argv a = {0};

	av_ztrace(&a, "trace");
	zt_argv_add(&a, "process_order");
	zt_argv_add(&a, "--");
	zt_argv_add(&a, "/tmp");
	expect_refusal(&a, needles);
}

/* A library the target does not map, with -p, and in launch mode (not among its needs). */
Test(bad_input, library_not_mapped)
{
	static const char *const needles[] = {"'u:libnotthere:*'", "libnotthere", NULL};
	struct zt_proc orders;
	struct zt_argv a = {0};
	struct scratch s;
	char pid[16];

	zt_start_waiting(&orders, orders_bin, NULL);
	snprintf(pid, sizeof(pid), "%d", (int)orders.pid);
	av_ztrace(&a, "trace");
	zt_argv_add(&a, "-p");
	zt_argv_add(&a, pid);
	zt_argv_add(&a, "u:libnotthere:*");
	expect_refusal(&a, needles);
	zt_proc_free(&orders);

	scratch_make(&s);
	av_ztrace(&a, "trace");
	zt_argv_add(&a, "u:libnotthere:*");
	zt_argv_add(&a, "--");
	zt_argv_add(&a, s.orders);
	expect_refusal(&a, needles);
	cr_assert_eq(processes_running(s.orders), 0, "the refused launch left %s running",
		     s.orders);
	scratch_remove(&s);
}

/* k: specs cannot work on this kernel (no kprobes, fentry refused): a clear refusal. */
Test(bad_input, kernel_probe_unavailable)
{
	static const char *const needles[] = {"k:", NULL};
	struct zt_argv a = {0};

	av_ztrace(&a, "trace");
	zt_argv_add(&a, "-d");
	zt_argv_add(&a, REFUSED_DURATION);
	zt_argv_add(&a, "k:vfs_read");
	expect_refusal(&a, needles);
}

Test(bad_input, report_of_bad_files)
{
	char empty[] = "/tmp/zt-bad-input-empty-XXXXXX", magic[] = "/tmp/zt-bad-input-magic-XXXXXX";
	static const char record_magic[8] = {'Z', 'T', 'R', 'A', 'C', 'E', 0x1a, '\n'};
	static const char *const not_record[] = {
	    "/etc/passwd: not a ztrace record file (bad magic at offset 0)", NULL};
	static const char *const missing[] = {"/nonexistent/run.zt", "No such file or directory",
					      NULL};
	static const char *const directory[] = {"/tmp", "Is a directory", NULL};
	const char *empty_needles[] = {empty, "not a ztrace record file (empty file)", NULL};
	const char *magic_needles[] = {magic, "truncated header", NULL};
	struct zt_argv a = {0};
	int fd;

	av_ztrace(&a, "report");
	zt_argv_add(&a, "/etc/passwd");
	expect_refusal(&a, not_record);
	av_ztrace(&a, "report");
	zt_argv_add(&a, "/nonexistent/run.zt");
	expect_refusal(&a, missing);
	av_ztrace(&a, "report");
	zt_argv_add(&a, "/tmp");
	expect_refusal(&a, directory);

	fd = mkstemp(empty);
	cr_assert_geq(fd, 0);
	close(fd);
	av_ztrace(&a, "report");
	zt_argv_add(&a, empty);
	expect_refusal(&a, empty_needles);
	unlink(empty);

	/* the magic alone: a file cut inside its header */
	fd = mkstemp(magic);
	cr_assert_geq(fd, 0);
	cr_assert_eq(write(fd, record_magic, sizeof(record_magic)), (ssize_t)sizeof(record_magic));
	close(fd);
	av_ztrace(&a, "report");
	zt_argv_add(&a, magic);
	expect_refusal(&a, magic_needles);
	unlink(magic);
}

Test(bad_input, export_bad_format_and_file)
{
	static const char *const format[] = {"unknown export format 'xml'",
					     "jsonl, otlp-json or perfetto", NULL};
	static const char *const not_record[] = {"/etc/passwd: not a ztrace record file", NULL};
	static const char *const no_format[] = {"export needs --format", NULL};
	struct zt_argv a = {0};

	av_ztrace(&a, "export");
	zt_argv_add(&a, "/etc/passwd");
	zt_argv_add(&a, "--format");
	zt_argv_add(&a, "xml");
	expect_refusal(&a, format);
	av_ztrace(&a, "export");
	zt_argv_add(&a, "/etc/passwd");
	zt_argv_add(&a, "--format");
	zt_argv_add(&a, "jsonl");
	expect_refusal(&a, not_record);
	av_ztrace(&a, "export");
	zt_argv_add(&a, "/etc/passwd");
	expect_refusal(&a, no_format);
}

/*
 * Bad values are echoed in the message: a newline or escape in one must not break the message
 * into several lines (or reach the terminal raw).
 */
Test(bad_input, control_characters_stay_on_one_line)
{
	static const char *const cases[][6] = {
	    {"trace", "-d", "1\n2", "--syscalls=read", NULL},
	    {"trace", "--error-if=ret<0\nx", "--syscalls=read", "-d", REFUSED_DURATION, NULL},
	    {"trace", "--max-probes=1\n0", "--syscalls=read", "-d", REFUSED_DURATION, NULL},
	    {"trace", "--syscalls=read,wr\nite", "-d", REFUSED_DURATION, NULL},
	    {"report", "/nonexistent/run\n.zt", NULL},
	};
	struct zt_argv a = {0};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		av_ztrace(&a, cases[i][0]);
		for (size_t j = 1; cases[i][j]; j++)
			zt_argv_add(&a, cases[i][j]);
		expect_refusal(&a, NULL);
	}
}

/* --- faults --- */

/* The first byte of function @name of @path in process @pid: int3 while a uprobe is on it. */
static unsigned char first_byte(pid_t pid, const char *path, const char *name)
{
	unsigned long addr;
	unsigned char byte;
	int ret;

	ret = zt_proc_func_addr(pid, path, name, &addr);
	cr_assert_eq(ret, 0, "address of %s in %d: %s", name, (int)pid, strerror(-ret));
	ret = zt_proc_peek(pid, addr, &byte, 1);
	cr_assert_eq(ret, 0, "read %s in %d: %s", name, (int)pid, strerror(-ret));
	return byte;
}

/* Whether the traced functions of orders all start with @byte. */
static bool orders_sites_are(pid_t pid, unsigned char byte)
{
	return first_byte(pid, orders_bin, "process_order") == byte &&
	       first_byte(pid, orders_bin, "slow_io") == byte &&
	       first_byte(pid, pricing_lib, "price_lookup") == byte;
}

/* True when no link or program of @ids exists any more. */
static bool bpf_ids_gone(const struct zt_bpf_ids *ids)
{
	for (size_t i = 0; i < ids->n_links; i++)
		if (zt_bpf_link_exists(ids->links[i]) != 0)
			return false;
	for (size_t i = 0; i < ids->n_progs; i++)
		if (zt_bpf_prog_exists(ids->progs[i]) != 0)
			return false;
	return true;
}

/*
 * SIGKILL while recording: the kernel drops every link, program and uprobe of the dead
 * ztrace; the target runs on to its normal end; the record file (0600) reads cleanly up to its
 * last whole block, and holds only whole spans of the functions traced.
 */
Test(bad_input, sigkill_while_recording)
{
	const char *extra[] = {"--orders", KILL_ORDERS, "--sleep-ms", KILL_SLEEP_MS, NULL};
	char file[] = "/tmp/zt-bad-input-run-XXXXXX", pid[16];
	size_t events_before = 0, events_after = 0;
	struct zt_bpf_ids ids = {0};
	struct zt_proc orders, zt, rd;
	struct zt_spans spans;
	struct zt_argv a = {0};
	long long deadline;
	bool have_events;
	struct stat st;
	int fd;

	fd = mkstemp(file);
	cr_assert_geq(fd, 0);
	close(fd);
	unlink(file); /* ztrace creates it */
	have_events = zt_uprobe_events_count(orders_bin, &events_before) == 0;

	zt_start_waiting(&orders, orders_bin, extra);
	cr_assert(orders_sites_are(orders.pid, ZT_X86_PUSH_RBP),
		  "the traced functions must start with push %%rbp (tests/targets/targets.mk)");
	snprintf(pid, sizeof(pid), "%d", (int)orders.pid);
	av_ztrace(&a, "record");
	zt_argv_add(&a, "-o");
	zt_argv_add(&a, file);
	zt_argv_add(&a, "-p");
	zt_argv_add(&a, pid);
	zt_argv_add(&a, "process_order");
	zt_argv_add(&a, "slow_io");
	zt_argv_add(&a, "u:libpricing.so:*");
	zt_start_tracing(&zt, &a);
	cr_assert(orders_sites_are(orders.pid, ZT_X86_INT3),
		  "tracing, but a function has no uprobe");
	cr_assert_eq(zt_fdinfo_bpf_ids(zt.pid, &ids), 0);
	cr_assert_gt(ids.n_progs, 0, "ztrace holds no BPF program while tracing");
	zt_release(&orders);
	usleep(RECORD_BEFORE_KILL_MS * 1000);
	cr_assert_eq(zt_proc_wait(&orders, 0), -ETIMEDOUT, "orders finished before the kill");
	cr_assert_eq(zt_proc_signal(&zt, SIGKILL), 0);
	zt_expect_exit(&zt, "ztrace", 128 + SIGKILL, EXIT_MS);

	deadline = zt_now_ms() + CLEANUP_MS;
	while ((!bpf_ids_gone(&ids) || !orders_sites_are(orders.pid, ZT_X86_PUSH_RBP)) &&
	       zt_now_ms() < deadline)
		usleep(CLEANUP_POLL_MS * 1000);
	cr_assert_eq(zt_proc_wait(&orders, 0), -ETIMEDOUT, "orders ended before the checks");
	cr_assert(bpf_ids_gone(&ids), "a link or program of the killed ztrace still exists");
	cr_assert(orders_sites_are(orders.pid, ZT_X86_PUSH_RBP),
		  "a uprobe breakpoint outlived the killed ztrace");
	if (have_events) {
		cr_assert_eq(zt_uprobe_events_count(orders_bin, &events_after), 0);
		cr_assert_eq(events_after, events_before, "uprobe_events changed");
	}
	/* the target finishes its work normally */
	zt_expect_exit(&orders, "orders", 0, EXIT_MS);
	cr_assert_not_null(
	    strstr(zt_proc_text(&orders, ZT_STDOUT), "orders: threads=1 orders=" KILL_ORDERS " "),
	    "%s", zt_proc_text(&orders, ZT_STDOUT));

	cr_assert_eq(stat(file, &st), 0, "no record file: %s", strerror(errno));
	cr_assert_eq(st.st_mode & 0777, 0600, "record file mode %o", st.st_mode & 0777);
	av_ztrace(&a, "export");
	zt_argv_add(&a, file);
	zt_argv_add(&a, "--format");
	zt_argv_add(&a, "jsonl");
	cr_assert_eq(zt_run(&rd, a.v, NULL, EXIT_MS), 0, "export of the killed run failed: %s",
		     zt_proc_text(&rd, ZT_STDERR));
	zt_parse_spans(&rd, &spans);
	/* at least one flush happened while orders ran: whole spans, of the traced functions */
	cr_assert_gt(spans.n, 0, "the record file holds no span");
	cr_assert_eq(zt_spans_count(&spans, "process_order") + zt_spans_count(&spans, "slow_io") +
			 zt_spans_count(&spans, "price_lookup") +
			 zt_spans_count(&spans, "apply_discount"),
		     spans.n, "a span of an untraced function");
	cr_assert_leq(zt_spans_count(&spans, "process_order"), (size_t)atoi(KILL_ORDERS));
	for (size_t i = 0; i < spans.n; i++) {
		cr_assert_eq(spans.v[i].pid, orders.pid);
		cr_assert_geq(spans.v[i].end_ns, spans.v[i].start_ns);
	}
	zt_spans_free(&spans);
	zt_proc_free(&rd);

	av_ztrace(&a, "report");
	zt_argv_add(&a, file);
	cr_assert_eq(zt_run(&rd, a.v, NULL, EXIT_MS), 0, "report of the killed run failed: %s",
		     zt_proc_text(&rd, ZT_STDERR));
	cr_assert_not_null(strstr(zt_proc_text(&rd, ZT_STDOUT), "process_order"), "%s",
			   zt_proc_text(&rd, ZT_STDOUT));
	zt_proc_free(&rd);
	zt_bpf_ids_free(&ids);
	zt_proc_free(&zt);
	zt_proc_free(&orders);
	unlink(file);
}

/*
 * The target dies of SIGSEGV three traced calls deep: ztrace ends by itself with 0, the one
 * call that returned is ok, the three open ones are incomplete and still nest.
 */
Test(bad_input, target_crashes_mid_call)
{
	static const char *const args[] = {"crash_*", NULL};
	struct zt_proc crasher, zt;
	struct zt_spans spans;
	const struct zt_span *warm = NULL, *outer = NULL, *middle = NULL, *inner = NULL;

	zt_trace_waiting_json(ztrace_bin, &zt, &crasher, crasher_bin, NULL, args);
	zt_release(&crasher);
	zt_expect_exit(&crasher, "crasher", 128 + SIGSEGV, EXIT_MS);
	zt_expect_exit(&zt, "ztrace", 0, EXIT_MS);

	zt_parse_spans(&zt, &spans);
	cr_assert_eq(spans.n, 4, "want 4 spans, got %zu:\n%s", spans.n,
		     zt_proc_text(&zt, ZT_STDOUT));
	for (size_t i = 0; i < spans.n; i++) {
		const struct zt_span *s = &spans.v[i];

		cr_assert_eq(s->pid, crasher.pid);
		cr_assert_eq(s->tid, crasher.pid);
		if (!strcmp(s->name, "crash_warmup"))
			warm = s;
		else if (!strcmp(s->name, "crash_outer"))
			outer = s;
		else if (!strcmp(s->name, "crash_middle"))
			middle = s;
		else if (!strcmp(s->name, "crash_inner"))
			inner = s;
	}
	cr_assert(warm && outer && middle && inner, "a span is missing:\n%s",
		  zt_proc_text(&zt, ZT_STDOUT));
	cr_assert_str_eq(warm->status, "ok");
	cr_assert_eq(warm->ret, CRASHER_WARMUP_RET);
	cr_assert_str_eq(warm->parent_span_id, "");
	cr_assert_str_eq(outer->status, "incomplete");
	cr_assert_str_eq(middle->status, "incomplete");
	cr_assert_str_eq(inner->status, "incomplete");
	cr_assert_str_eq(outer->parent_span_id, "");
	cr_assert_str_eq(middle->parent_span_id, outer->span_id);
	cr_assert_str_eq(inner->parent_span_id, middle->span_id);
	cr_assert_str_eq(middle->trace_id, outer->trace_id);
	cr_assert_str_eq(inner->trace_id, outer->trace_id);
	cr_assert_str_neq(warm->trace_id, outer->trace_id, "two root calls share a trace");
	cr_assert_geq(inner->start_ns, middle->start_ns);
	cr_assert_geq(middle->start_ns, outer->start_ns);
	zt_spans_free(&spans);
	zt_proc_free(&zt);
	zt_proc_free(&crasher);
}

/*
 * recurse --depth @depth with 'dive' traced: the calls at levels 1..32 (the span stack) are
 * recorded, each returning its level and nested in the level above; the deeper ones are
 * counted in a warning. Nothing is incomplete: every call returned.
 */
static void check_recursion(int depth)
{
	char depth_arg[16], want[128], done[96];
	const char *extra[] = {"--depth", depth_arg, NULL};
	static const char *const args[] = {"dive", NULL};
	const struct zt_span *by_level[SPAN_STACK_DEPTH + 1] = {0};
	struct zt_proc target, zt;
	struct zt_spans spans;

	snprintf(depth_arg, sizeof(depth_arg), "%d", depth);
	zt_trace_waiting_json(ztrace_bin, &zt, &target, recurse_bin, extra, args);
	zt_release(&target);
	zt_expect_exit(&target, "recurse", 0, EXIT_MS);
	snprintf(done, sizeof(done), "ready %d\nrecurse: depth=%d calls=%d\n", (int)target.pid,
		 depth, depth);
	cr_assert_str_eq(zt_proc_text(&target, ZT_STDOUT), done);
	zt_expect_exit(&zt, "ztrace", 0, EXIT_MS);

	zt_parse_spans(&zt, &spans);
	cr_assert_eq(spans.n, SPAN_STACK_DEPTH, "want %d spans, got %zu:\n%s", SPAN_STACK_DEPTH,
		     spans.n, zt_proc_text(&zt, ZT_STDOUT));
	for (size_t i = 0; i < spans.n; i++) {
		const struct zt_span *s = &spans.v[i];

		cr_assert_str_eq(s->status, "ok", "dive (line %zu) is %s, ret %lld", s->line,
				 s->status, s->ret);
		cr_assert(s->ret >= 1 && s->ret <= SPAN_STACK_DEPTH, "dive returned %lld", s->ret);
		cr_assert_null(by_level[s->ret], "two spans of level %lld", s->ret);
		by_level[s->ret] = s;
	}
	cr_assert_str_eq(by_level[1]->parent_span_id, "");
	for (int level = 2; level <= SPAN_STACK_DEPTH; level++) {
		const struct zt_span *s = by_level[level], *up = by_level[level - 1];

		cr_assert_str_eq(s->parent_span_id, up->span_id, "level %d is not inside %d", level,
				 level - 1);
		cr_assert_str_eq(s->trace_id, by_level[1]->trace_id);
		cr_assert_geq(s->start_ns, up->start_ns);
		cr_assert_leq(s->end_ns, up->end_ns);
	}
	snprintf(want, sizeof(want), "ztrace: warning: %d calls nested deeper than %d traced calls",
		 depth - SPAN_STACK_DEPTH, SPAN_STACK_DEPTH);
	cr_assert_not_null(strstr(zt_proc_text(&zt, ZT_STDERR), want), "no '%s' in:\n%s", want,
			   zt_proc_text(&zt, ZT_STDERR));
	zt_spans_free(&spans);
	zt_proc_free(&zt);
	zt_proc_free(&target);
}

/* Deeper than the span stack, within the kernel's limit of nested return probes. */
Test(bad_input, recursion_deeper_than_span_stack)
{
	check_recursion(RECURSE_WITHIN_KERNEL_LIMIT);
}

/*
 * Depth 100: past the span stack and past the kernel's 64 nested return probes, so the
 * returns of the deepest 36 calls are never seen. The recorded levels must still come out
 * whole, ok and nested.
 */
Test(bad_input, recursion_deeper_than_uretprobe_limit)
{
	check_recursion(RECURSE_PAST_KERNEL_LIMIT);
}

/* 2000 threads, each calling thread_work(i) once: 2000 ok spans, i = 0..1999, 2000 tids. */
Test(bad_input, many_short_lived_threads)
{
	static bool seen[THREADS];
	static const char *const args[] = {"thread_work", NULL};
	struct zt_proc target, zt;
	struct zt_spans spans;
	char want[96];
	const char *out;

	zt_trace_waiting_json(ztrace_bin, &zt, &target, threads_bin, NULL, args);
	zt_release(&target);
	zt_expect_exit(&target, "threads", 0, EXIT_MS);
	zt_expect_exit(&zt, "ztrace", 0, EXIT_MS);
	out = zt_proc_text(&target, ZT_STDOUT);
	snprintf(want, sizeof(want), "threads: threads=%d calls=%d distinct_tids=%d\n", THREADS,
		 THREADS, THREADS);
	cr_assert_not_null(strstr(out, want), "threads printed:\n%s", out);

	zt_parse_spans(&zt, &spans);
	cr_assert_eq(spans.n, THREADS, "want %d spans, got %zu", THREADS, spans.n);
	cr_assert_eq(zt_spans_count_status(&spans, "thread_work", "ok"), THREADS);
	cr_assert_eq(zt_spans_distinct_tids(&spans, "thread_work"), THREADS);
	memset(seen, 0, sizeof(seen));
	for (size_t i = 0; i < spans.n; i++) {
		const struct zt_span *s = &spans.v[i];

		cr_assert(s->ret >= 0 && s->ret < THREADS, "thread_work returned %lld", s->ret);
		cr_assert(!seen[s->ret], "two spans returned %lld", s->ret);
		seen[s->ret] = true;
		cr_assert_eq(s->pid, target.pid);
		cr_assert_neq(s->tid, s->pid, "thread_work ran in the main thread");
		cr_assert_str_eq(s->parent_span_id, "");
	}
	snprintf(want, sizeof(want), "delivered %d, lost 0", THREADS);
	cr_assert_not_null(strstr(zt_proc_text(&zt, ZT_STDERR), want), "%s",
			   zt_proc_text(&zt, ZT_STDERR));
	zt_spans_free(&spans);
	zt_proc_free(&zt);
	zt_proc_free(&target);
}
