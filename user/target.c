// SPDX-License-Identifier: MIT
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>
#include "target.h"

static int pidfd_open(int pid)
{
	return (int)syscall(SYS_pidfd_open, pid, 0);
}

int zt_target_attach_pid(int pid, struct zt_target *t, char *err, size_t errlen)
{
	char link[64];
	ssize_t n;

	memset(t, 0, sizeof(*t));
	t->pid = pid;
	t->release_fd = -1;
	t->pidfd = pidfd_open(pid);
	if (t->pidfd < 0 && errno == ESRCH) {
		snprintf(err, errlen, "no process with pid %d: check the pid (ps -p %d)", pid, pid);
		return -ESRCH;
	}
	snprintf(link, sizeof(link), "/proc/%d/exe", pid);
	n = readlink(link, t->exe, sizeof(t->exe) - 1);
	if (n < 0) {
		int e = errno;
		/* an exited process not yet reaped (a zombie) has no exe either */
		bool gone = zt_target_poll_exit(t);

		zt_target_close(t);
		if (gone) {
			snprintf(err, errlen, "pid %d has exited: nothing to trace", pid);
			return -ESRCH;
		}
		if (e == ENOENT && kill(pid, 0) == 0) {
			snprintf(err, errlen,
				 "pid %d is a kernel thread: it has no user-space code to trace", pid);
			return -EPERM;
		}
		snprintf(err, errlen, "no process with pid %d: check the pid (ps -p %d)", pid, pid);
		return -ESRCH;
	}
	t->exe[n] = '\0';
	return 0;
}

/* Find cmd the way execvp() will, so the executable can be read before it runs. */
static int lookup_command(const char *cmd, char *out, size_t outlen)
{
	const char *path = getenv("PATH");
	char *dirs, *dir, *save;
	int ret = -ENOENT;

	if (strchr(cmd, '/')) {
		struct stat st;

		if (stat(cmd, &st))
			return -errno;
		if (!S_ISREG(st.st_mode))
			return -EISDIR;
		if (access(cmd, X_OK))
			return -errno;
		return realpath(cmd, out) ? 0 : -errno;
	}
	dirs = strdup(path && *path ? path : "/usr/local/bin:/usr/bin:/bin");
	if (!dirs)
		return -ENOMEM;
	for (dir = strtok_r(dirs, ":", &save); dir; dir = strtok_r(NULL, ":", &save)) {
		char cand[PATH_MAX];
		struct stat st;

		snprintf(cand, sizeof(cand), "%s/%s", dir, cmd);
		if (stat(cand, &st) == 0 && S_ISREG(st.st_mode) && access(cand, X_OK) == 0) {
			ret = realpath(cand, out) ? 0 : -errno;
			break;
		}
	}
	free(dirs);
	(void)outlen;
	return ret;
}

int zt_target_launch(char *const argv[], struct zt_target *t, char *err, size_t errlen)
{
	int fds[2];
	pid_t pid;
	int ret;

	memset(t, 0, sizeof(*t));
	t->pidfd = -1;
	t->release_fd = -1;
	ret = lookup_command(argv[0], t->exe, sizeof(t->exe));
	if (ret) {
		snprintf(err, errlen, "cannot run '%s': %s", argv[0],
			 ret == -ENOENT	  ? "command not found"
			 : ret == -EISDIR ? "not a regular file: give an executable"
					  : strerror(-ret));
		return ret;
	}
	if (pipe2(fds, O_CLOEXEC))
		goto fail_errno;
	pid = fork();
	if (pid < 0) {
		close(fds[0]);
		close(fds[1]);
		goto fail_errno;
	}
	if (pid == 0) {
		char go;

		sigset_t none;

		/* ztrace blocks its stop signals for its own threads; the command gets them back */
		sigemptyset(&none);
		sigprocmask(SIG_SETMASK, &none, NULL);
		/* Held here until the parent has attached; EOF means the parent gave up. */
		close(fds[1]);
		if (read(fds[0], &go, 1) != 1)
			_exit(127);
		close(fds[0]);
		execv(t->exe, argv);
		fprintf(stderr, "ztrace: cannot exec %s: %s\n", t->exe, strerror(errno));
		_exit(127);
	}
	close(fds[0]);
	t->pid = pid;
	t->launched = true;
	t->release_fd = fds[1];
	t->pidfd = pidfd_open(pid);
	return 0;
fail_errno:
	ret = -errno;
	snprintf(err, errlen, "cannot start '%s': %s", argv[0], strerror(errno));
	return ret;
}

int zt_target_release(struct zt_target *t)
{
	ssize_t n;

	if (t->release_fd < 0)
		return 0;
	n = write(t->release_fd, "g", 1);
	close(t->release_fd);
	t->release_fd = -1;
	return n == 1 ? 0 : -errno;
}

void zt_target_abort(struct zt_target *t)
{
	if (!t->launched || t->exited)
		return;
	if (t->release_fd >= 0) {
		close(t->release_fd); /* the child reads EOF and exits without running anything */
		t->release_fd = -1;
	} else {
		kill(t->pid, SIGKILL);
	}
	waitpid(t->pid, NULL, 0);
	t->exited = true;
}

bool zt_target_poll_exit(struct zt_target *t)
{
	if (t->exited)
		return true;
	if (t->launched) {
		int status;

		if (waitpid(t->pid, &status, WNOHANG) == t->pid)
			t->exited = true;
	} else if (t->pidfd >= 0) {
		/* readable once the process has exited, zombie or not */
		struct pollfd pfd = { .fd = t->pidfd, .events = POLLIN };

		if (poll(&pfd, 1, 0) > 0)
			t->exited = true;
	} else if (kill(t->pid, 0) && errno == ESRCH) {
		t->exited = true;
	}
	return t->exited;
}

void zt_target_close(struct zt_target *t)
{
	if (t->pidfd >= 0)
		close(t->pidfd);
	if (t->release_fd >= 0)
		close(t->release_fd);
	t->pidfd = -1;
	t->release_fd = -1;
}
