/* SPDX-License-Identifier: MIT */
/* Test helper: spawn a program with pipes and collect its output with deadlines. */
#include "runproc.h"

#include <errno.h>
#include <linux/sched.h>
#include <fcntl.h>
#include <grp.h>
#include <poll.h>
#include <pwd.h>
#include <signal.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

/* Bytes read from a pipe per read() call. */
#define ZT_PROC_READ_CHUNK 65536
/* How often zt_proc_wait() checks whether the child exited, in milliseconds. */
#define ZT_PROC_REAP_POLL_MS 10

long long zt_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Milliseconds left until @deadline (zt_now_ms() time), never negative. */
static int ms_left(long long deadline)
{
	long long left = deadline - zt_now_ms();

	return left > 0 ? (int)left : 0;
}

/* Makes room for @extra more bytes plus the terminating NUL. Returns 0 or -ENOMEM. */
static int buf_reserve(struct zt_outbuf *b, size_t extra)
{
	size_t cap = b->cap ? b->cap : ZT_PROC_READ_CHUNK;
	char *data;

	if (b->len + extra + 1 <= b->cap)
		return 0;
	while (cap < b->len + extra + 1)
		cap *= 2;
	data = realloc(b->data, cap);
	if (!data)
		return -ENOMEM;
	b->data = data;
	b->data[b->len] = '\0';
	b->cap = cap;
	return 0;
}

static void close_fd(int *fd)
{
	if (*fd >= 0)
		close(*fd);
	*fd = -1;
}

/*
 * Child side of zt_proc_spawn(): wires the pipes, drops privileges if asked, and execs.
 * Reports a failure's errno on @err_fd (close-on-exec, so a successful exec closes it).
 */
static void child_exec(char *const argv[], const int in[2], const int out[2], const int err[2],
		       int err_fd, const struct passwd *nobody, pid_t parent)
{
	sigset_t none;
	int e;

	/* The parent may ignore SIGPIPE or block signals; neither must leak into the program. */
	signal(SIGPIPE, SIG_DFL);
	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL);

	if (dup2(in[0], STDIN_FILENO) < 0 || dup2(out[1], STDOUT_FILENO) < 0 ||
	    dup2(err[1], STDERR_FILENO) < 0)
		goto fail;
	if (nobody) {
		if (setgroups(0, NULL) || setgid(nobody->pw_gid) || setuid(nobody->pw_uid))
			goto fail;
	}
	/* Set after setuid(): a credential change clears the parent-death signal. */
	if (prctl(PR_SET_PDEATHSIG, SIGKILL) || getppid() != parent)
		goto fail;
	execvp(argv[0], argv);
fail:
	e = errno;
	if (write(err_fd, &e, sizeof(e)) < 0)
		_exit(127);
	_exit(127);
}

int zt_proc_spawn(struct zt_proc *p, char *const argv[], const struct zt_spawn_opts *opts)
{
	int in[2] = {-1, -1}, out[2] = {-1, -1}, err[2] = {-1, -1}, status_pipe[2] = {-1, -1};
	struct passwd *nobody = NULL;
	pid_t parent = getpid();
	int ret = 0, child_errno;
	ssize_t n;

	memset(p, 0, sizeof(*p));
	p->in_fd = p->out_fd[0] = p->out_fd[1] = -1;
	/* Writing to a child that exited must fail with EPIPE, not kill the test. */
	signal(SIGPIPE, SIG_IGN);

	if (opts && opts->as_nobody) {
		/* Looked up before fork(): getpwnam() is not async-signal-safe. */
		nobody = getpwnam("nobody");
		if (!nobody)
			return -ENOENT;
	}
	if (pipe2(in, O_CLOEXEC) || pipe2(out, O_CLOEXEC) || pipe2(err, O_CLOEXEC) ||
	    pipe2(status_pipe, O_CLOEXEC)) {
		ret = -errno;
		goto out;
	}

	p->pid = fork();
	if (p->pid < 0) {
		ret = -errno;
		goto out;
	}
	if (p->pid == 0)
		child_exec(argv, in, out, err, status_pipe[1], nobody, parent);

	close_fd(&status_pipe[1]);
	do {
		n = read(status_pipe[0], &child_errno, sizeof(child_errno));
	} while (n < 0 && errno == EINTR);
	if (n == sizeof(child_errno)) {
		/* exec failed: reap the child and report why. */
		waitpid(p->pid, NULL, 0);
		p->reaped = true;
		ret = -child_errno;
		goto out;
	}

	p->in_fd = in[1];
	p->out_fd[ZT_STDOUT] = out[0];
	p->out_fd[ZT_STDERR] = err[0];
	in[1] = out[0] = err[0] = -1;
	fcntl(p->out_fd[ZT_STDOUT], F_SETFL, O_NONBLOCK);
	fcntl(p->out_fd[ZT_STDERR], F_SETFL, O_NONBLOCK);
out:
	close_fd(&in[0]);
	close_fd(&in[1]);
	close_fd(&out[0]);
	close_fd(&out[1]);
	close_fd(&err[0]);
	close_fd(&err[1]);
	close_fd(&status_pipe[0]);
	close_fd(&status_pipe[1]);
	return ret;
}

/* Reads what is available on stream @s; closes it at EOF. Returns bytes read or -errno. */
static ssize_t drain_stream(struct zt_proc *p, enum zt_stream s)
{
	struct zt_outbuf *b = &p->out[s];
	ssize_t total = 0, n;
	int ret;

	while (p->out_fd[s] >= 0) {
		ret = buf_reserve(b, ZT_PROC_READ_CHUNK);
		if (ret)
			return ret;
		n = read(p->out_fd[s], b->data + b->len, ZT_PROC_READ_CHUNK);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && errno == EAGAIN)
			break;
		if (n < 0)
			return -errno;
		if (n == 0) {
			close_fd(&p->out_fd[s]);
			break;
		}
		b->len += n;
		b->data[b->len] = '\0';
		total += n;
	}
	return total;
}

/* Like zt_proc_pump(), but returns the number of bytes read (0 on timeout) or -errno. */
static ssize_t pump(struct zt_proc *p, int timeout_ms)
{
	struct pollfd fds[2];
	ssize_t total = 0, n;
	int nfds = 0, i, ret;

	for (i = 0; i < 2; i++) {
		if (p->out_fd[i] < 0)
			continue;
		fds[nfds].fd = p->out_fd[i];
		fds[nfds].events = POLLIN;
		nfds++;
	}
	if (!nfds)
		return 0;
	ret = poll(fds, nfds, timeout_ms);
	if (ret < 0)
		return errno == EINTR ? 0 : -errno;
	for (i = 0; i < 2; i++) {
		n = drain_stream(p, i);
		if (n < 0)
			return n;
		total += n;
	}
	return total;
}

int zt_proc_pump(struct zt_proc *p, int timeout_ms)
{
	ssize_t n = pump(p, timeout_ms);

	return n < 0 ? (int)n : 0;
}

/* Finds the first complete line of @text containing @needle; returns its start or NULL. */
static const char *find_line(const char *text, const char *needle, size_t *len)
{
	const char *line = text, *nl;

	while (line && (nl = strchr(line, '\n'))) {
		const char *hit = memmem(line, nl - line, needle, strlen(needle));

		if (hit) {
			*len = nl - line;
			return line;
		}
		line = nl + 1;
	}
	return NULL;
}

int zt_time_scale_ms(int ms)
{
	const char *s = getenv("ZT_TIME_SCALE");
	int k = s ? atoi(s) : 1;

	return ms * (k > 0 ? k : 1);
}

int zt_proc_wait_line(struct zt_proc *p, enum zt_stream s, const char *needle, int timeout_ms,
		      char *line, size_t size)
{
	long long deadline = zt_now_ms() + zt_time_scale_ms(timeout_ms);
	const char *hit;
	size_t len;
	ssize_t n;

	for (;;) {
		hit = find_line(zt_proc_text(p, s), needle, &len);
		if (hit) {
			if (line && size) {
				if (len >= size)
					len = size - 1;
				memcpy(line, hit, len);
				line[len] = '\0';
			}
			return 0;
		}
		if (p->out_fd[s] < 0)
			return -EPIPE;
		if (!ms_left(deadline))
			return -ETIMEDOUT;
		n = pump(p, ms_left(deadline));
		if (n < 0)
			return (int)n;
	}
}

int zt_proc_write(struct zt_proc *p, const void *buf, size_t len)
{
	const char *c = buf;
	ssize_t n;

	if (p->in_fd < 0)
		return -EBADF;
	while (len) {
		n = write(p->in_fd, c, len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -errno;
		c += n;
		len -= n;
	}
	return 0;
}

void zt_proc_close_stdin(struct zt_proc *p)
{
	close_fd(&p->in_fd);
}

int zt_proc_signal(struct zt_proc *p, int sig)
{
	if (p->reaped || p->pid <= 0)
		return -ESRCH;
	return kill(p->pid, sig) ? -errno : 0;
}

/* Reaps the child if it exited. Returns 1 when reaped, 0 if still running, or -errno. */
static int try_reap(struct zt_proc *p)
{
	pid_t r;

	if (p->reaped)
		return 1;
	do {
		r = waitpid(p->pid, &p->status, WNOHANG);
	} while (r < 0 && errno == EINTR);
	if (r < 0)
		return -errno;
	if (r == 0)
		return 0;
	p->reaped = true;
	return 1;
}

/* Exit code of a wait status: 0..255, or 128 + signal. */
static int exit_code(int status)
{
	if (WIFEXITED(status))
		return WEXITSTATUS(status);
	if (WIFSIGNALED(status))
		return 128 + WTERMSIG(status);
	return -ECHILD;
}

int zt_proc_wait(struct zt_proc *p, int timeout_ms)
{
	long long deadline = zt_now_ms() + zt_time_scale_ms(timeout_ms), quiet_until;
	ssize_t n;
	int ret;

	for (;;) {
		ret = try_reap(p);
		if (ret < 0)
			return ret;
		if (ret)
			break;
		if (!ms_left(deadline))
			return -ETIMEDOUT;
		/* Both pipes closed: nothing to poll on, so sleep between reap attempts. */
		if (p->out_fd[0] < 0 && p->out_fd[1] < 0) {
			poll(NULL, 0, ZT_PROC_REAP_POLL_MS);
			continue;
		}
		n = pump(p, ms_left(deadline) < ZT_PROC_REAP_POLL_MS ? ms_left(deadline)
								     : ZT_PROC_REAP_POLL_MS);
		if (n < 0)
			return (int)n;
	}

	/* Collect what is left; a grandchild may keep the pipes open, so stop when it is quiet. */
	quiet_until = zt_now_ms() + ZT_PROC_DRAIN_MS;
	while ((p->out_fd[0] >= 0 || p->out_fd[1] >= 0) && ms_left(quiet_until)) {
		n = pump(p, ms_left(quiet_until));
		if (n < 0)
			return (int)n;
		if (n > 0)
			quiet_until = zt_now_ms() + ZT_PROC_DRAIN_MS;
	}
	return exit_code(p->status);
}

void zt_proc_free(struct zt_proc *p)
{
	int i;

	if (p->pid > 0 && !p->reaped) {
		kill(p->pid, SIGKILL);
		while (waitpid(p->pid, &p->status, 0) < 0 && errno == EINTR)
			;
		p->reaped = true;
	}
	close_fd(&p->in_fd);
	for (i = 0; i < 2; i++) {
		close_fd(&p->out_fd[i]);
		free(p->out[i].data);
		p->out[i].data = NULL;
		p->out[i].len = p->out[i].cap = 0;
	}
}

int zt_run(struct zt_proc *p, char *const argv[], const struct zt_spawn_opts *opts, int timeout_ms)
{
	int ret = zt_proc_spawn(p, argv, opts);

	if (ret)
		return ret;
	zt_proc_close_stdin(p);
	return zt_proc_wait(p, timeout_ms);
}

const char *zt_proc_text(const struct zt_proc *p, enum zt_stream s)
{
	return p->out[s].data ? p->out[s].data : "";
}

size_t zt_count_lines(const char *text)
{
	size_t n = 0;

	for (; *text; text++)
		n += *text == '\n';
	return n;
}

/* A pid of one's choice: clone3 with set_tid, then exec. */
pid_t zt_spawn_as_pid(pid_t pid, char *const argv[], int stdin_fd, int stdout_fd)
{
	struct clone_args ca = {.exit_signal = SIGCHLD};
	pid_t tid = pid;
	long child;

	if (pid > 0) {
		ca.set_tid = (uintptr_t)&tid;
		ca.set_tid_size = 1;
	}
	child = syscall(SYS_clone3, &ca, sizeof(ca));
	if (child < 0)
		return -errno;
	if (child == 0) {
		int null = open("/dev/null", O_RDWR);

		dup2(stdin_fd >= 0 ? stdin_fd : null, STDIN_FILENO);
		dup2(stdout_fd >= 0 ? stdout_fd : null, STDOUT_FILENO);
		execv(argv[0], argv);
		_exit(127);
	}
	return (pid_t)child;
}
