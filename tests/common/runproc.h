/* SPDX-License-Identifier: MIT */
/*
 * Test helper: run a program with pipes on stdin, stdout and stderr, collect its output while
 * waiting for lines or for its exit, with deadlines. Dependency-free C.
 */
#ifndef ZT_TEST_RUNPROC_H
#define ZT_TEST_RUNPROC_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

/* After the child was reaped, keep reading its pipes until EOF or this long without data
 * (a grandchild may still hold them). */
#define ZT_PROC_DRAIN_MS 200

/* Output collected from one stream; data is NUL-terminated (and may be NULL while empty). */
struct zt_outbuf {
	char *data;
	size_t len;
	size_t cap;
};

enum zt_stream {
	ZT_STDOUT,
	ZT_STDERR,
};

/* A spawned child. Fill with zt_proc_spawn(), release with zt_proc_free(). */
struct zt_proc {
	pid_t pid;	      /* the child's pid (kept after it was reaped) */
	int in_fd;	      /* write end of the child's stdin; -1 once closed */
	int out_fd[2];	      /* read ends of stdout and stderr (enum zt_stream); -1 at EOF */
	struct zt_outbuf out[2]; /* everything read so far from stdout and stderr */
	int status;	      /* wait status, valid once reaped */
	bool reaped;
};

struct zt_spawn_opts {
	/* Drop to the user "nobody" (and its group, no supplementary groups) before exec. */
	bool as_nobody;
};

/*
 * Starts argv[0] (looked up in PATH when it has no slash) with @argv. @opts may be NULL.
 * The child gets SIGKILL if the test process dies, so a failing test leaves nothing running.
 * Sets SIGPIPE to ignored in the calling process, so writing to a child that exited fails
 * with EPIPE instead of killing the test. Returns 0, or -errno (including the errno of a
 * failed exec, e.g. -ENOENT).
 */
int zt_proc_spawn(struct zt_proc *p, char *const argv[], const struct zt_spawn_opts *opts);

/* Waits up to @timeout_ms for output and reads what is there. Returns 0 or -errno. */
int zt_proc_pump(struct zt_proc *p, int timeout_ms);

/*
 * Waits until a complete line (ended by '\n') containing @needle has arrived on @s, reading
 * both streams meanwhile. Copies the first such line, without its newline, to @line (@size
 * bytes, may be NULL). Returns 0, -ETIMEDOUT after @timeout_ms, or -EPIPE when the stream
 * ended without such a line.
 */
int zt_proc_wait_line(struct zt_proc *p, enum zt_stream s, const char *needle, int timeout_ms,
		      char *line, size_t size);

/* Writes all of @buf to the child's stdin. Returns 0 or -errno (-EPIPE if it closed it). */
int zt_proc_write(struct zt_proc *p, const void *buf, size_t len);

/* Closes the child's stdin (it reads EOF). */
void zt_proc_close_stdin(struct zt_proc *p);

/* Sends @sig to the child unless it was already reaped. Returns 0 or -errno. */
int zt_proc_signal(struct zt_proc *p, int sig);

/*
 * Waits up to @timeout_ms for the child to exit, collecting its output until its pipes close
 * (or stay quiet ZT_PROC_DRAIN_MS after the exit). Returns its exit code (0..255),
 * 128 + the signal number when a signal killed it, -ETIMEDOUT if it is still running, or
 * -errno.
 */
int zt_proc_wait(struct zt_proc *p, int timeout_ms);

/* Kills the child if it still runs, reaps it and frees everything. */
void zt_proc_free(struct zt_proc *p);

/*
 * Runs @argv with stdin closed and waits for it up to @timeout_ms; the caller owns @p and its
 * output and frees it with zt_proc_free(). Returns what zt_proc_wait() returns, or the
 * -errno of zt_proc_spawn().
 */
int zt_run(struct zt_proc *p, char *const argv[], const struct zt_spawn_opts *opts, int timeout_ms);

/* Returns the text collected from @s so far (never NULL). */
const char *zt_proc_text(const struct zt_proc *p, enum zt_stream s);

/* Returns the number of '\n'-terminated lines in @text. */
size_t zt_count_lines(const char *text);

/* ms times ZT_TIME_SCALE (default 1): deadlines stretched for slow machines (the emulated
 * guest of make test-vm runs ~20x slower). Every wait of this helper is scaled. */
int zt_time_scale_ms(int ms);

/* Returns the monotonic clock in milliseconds. */
long long zt_now_ms(void);

/*
 * Start argv as a child whose pid is pid (any pid when 0), through clone3's set_tid (Linux 5.5,
 * needs CAP_SYS_ADMIN): stdin from stdin_fd and stdout to stdout_fd (/dev/null when -1). Not a
 * struct zt_proc: the caller reaps it. Returns its pid, or -errno (-EEXIST: pid is taken).
 */
pid_t zt_spawn_as_pid(pid_t pid, char *const argv[], int stdin_fd, int stdout_fd);

#endif
