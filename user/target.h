/* SPDX-License-Identifier: MIT */
/* The processes being traced: checking a pid, launching a command held before exec, and
 * noticing when they exit. */
#ifndef ZTRACE_TARGET_H
#define ZTRACE_TARGET_H

#include <stdbool.h>
#include <stddef.h>
#include <limits.h>

struct zt_target {
	int pid;
	int pidfd;	     /* readable when the process exits; -1 if unavailable */
	bool launched;	     /* started by ztrace (and reaped by it) */
	bool exited;
	int release_fd;	     /* launched: write end of the pipe the child waits on before exec */
	char exe[PATH_MAX];  /* main executable, as seen from ztrace's mount namespace */
};

/*
 * Check that pid names a live user-space process and fill t. Returns 0, or -ESRCH (no such
 * process), -EPERM (a kernel thread: nothing to attach to) with a one-line message in err.
 */
int zt_target_attach_pid(int pid, struct zt_target *t, char *err, size_t errlen);

/*
 * Fork argv[0] (looked up in PATH like a shell does) held before exec: the child runs none of
 * its code until zt_target_release(). Returns 0 or -errno (-ENOENT: no such command) with err.
 */
int zt_target_launch(char *const argv[], struct zt_target *t, char *err, size_t errlen);

/* Let a launched child exec. Returns 0, or -errno when the child is gone. */
int zt_target_release(struct zt_target *t);

/* Kill and reap a launched child that never got released (setup failed). */
void zt_target_abort(struct zt_target *t);

/* Mark t exited if it has (reaping a launched child). Returns t->exited. */
bool zt_target_poll_exit(struct zt_target *t);

void zt_target_close(struct zt_target *t);

#endif
