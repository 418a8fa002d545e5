// SPDX-License-Identifier: MIT
/*
 * Process facts for OTLP resources: container ids from cgroup texts of each runtime, the stat
 * line, environment lookups, a whole fake /proc tree, and a real child process.
 */
#include <criterion/criterion.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>
#include "procinfo.h"

#define ID_A "3f4e8a1b2c9d0e7f6a5b4c3d2e1f0a9b8c7d6e5f4a3b2c1d0e9f8a7b6c5d4e3f"
/* How long to wait for a child's exec to be visible in /proc: 100 x 10 ms. */
#define EXEC_WAIT_TRIES	  100
#define EXEC_WAIT_STEP_US 10000

#define ID_B	   "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"
#define POD_UID	   "5b2e9f3c-1a7d-4e8b-9c0d-2f6a4b8e1d3c"
#define POD_UID_US "5b2e9f3c_1a7d_4e8b_9c0d_2f6a4b8e1d3c"

static int container_id(const char *text, char out[ZT_CONTAINER_ID_LEN + 1])
{
	return zt_cgroup_container_id(text, out, ZT_CONTAINER_ID_LEN + 1);
}

Test(cgroup, docker_systemd_scope_v2)
{
	char id[ZT_CONTAINER_ID_LEN + 1];

	cr_assert_eq(container_id("0::/system.slice/docker-" ID_A ".scope\n", id), 0);
	cr_assert_str_eq(id, ID_A);
}

Test(cgroup, cri_containerd_in_kubepods_slice)
{
	char id[ZT_CONTAINER_ID_LEN + 1];
	const char *text = "0::/kubepods.slice/kubepods-burstable.slice/"
			   "kubepods-burstable-pod1b2c3d4e_5f60_7182_93a4_b5c6d7e8f901.slice/"
			   "cri-containerd-" ID_A ".scope\n";

	cr_assert_eq(container_id(text, id), 0);
	cr_assert_str_eq(id, ID_A);
}

Test(cgroup, crio_scope_not_conmon)
{
	char id[ZT_CONTAINER_ID_LEN + 1];

	/* conmon, CRI-O's monitor, runs in crio-conmon-ID.scope: that is not the container */
	cr_assert_eq(container_id("0::/kubepods.slice/crio-conmon-" ID_B ".scope\n", id), -ENOENT);
	cr_assert_eq(container_id("0::/kubepods.slice/crio-" ID_B ".scope\n", id), 0);
	cr_assert_str_eq(id, ID_B);
}

Test(cgroup, podman_libpod_scope)
{
	char id[ZT_CONTAINER_ID_LEN + 1];

	cr_assert_eq(container_id("0::/machine.slice/libpod-" ID_B ".scope/container\n", id), 0);
	cr_assert_str_eq(id, ID_B);
}

Test(cgroup, v1_bare_id_on_every_controller)
{
	char id[ZT_CONTAINER_ID_LEN + 1];
	const char *text = "12:pids:/docker/" ID_A "\n"
			   "11:memory:/docker/" ID_A "\n"
			   "1:name=systemd:/docker/" ID_A "\n";

	cr_assert_eq(container_id(text, id), 0);
	cr_assert_str_eq(id, ID_A);
}

Test(cgroup, v1_kubepods_innermost_wins)
{
	char id[ZT_CONTAINER_ID_LEN + 1];

	/* a pod sandbox id and the container id both look like ids: the last segment is ours */
	cr_assert_eq(container_id("4:cpu:/kubepods/besteffort/pod42/" ID_B "/" ID_A, id), 0);
	cr_assert_str_eq(id, ID_A);
}

Test(cgroup, uppercase_is_lowercased)
{
	char id[ZT_CONTAINER_ID_LEN + 1];

	cr_assert_eq(container_id("0::/docker/3F4E8A1B2C9D0E7F6A5B4C3D2E1F0A9B8C7D6E5F4A3B2C1D0E9F"
				  "8A7B6C5D4E3F",
				  id),
		     0);
	cr_assert_str_eq(id, ID_A);
}

Test(cgroup, no_container)
{
	char id[ZT_CONTAINER_ID_LEN + 1];

	cr_assert_eq(container_id("0::/user.slice/user-1000.slice/session-3.scope\n", id), -ENOENT);
	cr_assert_eq(container_id("0::/init.scope\n", id), -ENOENT);
	cr_assert_eq(container_id("", id), -ENOENT);
	/* one hex digit short, one too many, and a non-hex character */
	cr_assert_eq(container_id("0::/docker/" ID_A "0\n", id), -ENOENT);
	cr_assert_eq(container_id("0::/docker-" ID_A "x.scope\n", id), -ENOENT);
	cr_assert_eq(container_id("0::/docker/3f4e8a1b2c9d0e7f6a5b4c3d2e1f0a9b8c7d6e5f4a3b2c1d0e9f8"
				  "a7b6c5d4e3\n",
				  id),
		     -ENOENT);
	cr_assert_eq(container_id("0::/docker/g" ID_A "\n", id), -ENOENT);
	/* a line without the two colons has no path to look at */
	cr_assert_eq(container_id(ID_A "\n", id), -ENOENT);
}

Test(cgroup, small_buffer)
{
	char id[ZT_CONTAINER_ID_LEN];

	cr_assert_eq(zt_cgroup_container_id("0::/docker/" ID_A, id, sizeof(id)), -ENOSPC);
}

Test(stat, comm_with_spaces_and_parens)
{
	/* field 22 is 777; the comm "(a) b)" must end at the last ')' */
	const char *line = "4242 ((a) b)) S 1 4242 4242 0 -1 4194560 100 0 0 0 1 2 0 0 20 0 1 0 "
			   "777 1000 200 18446744073709551615\n";
	char comm[ZT_COMM_LEN];
	uint64_t start = 0;

	cr_assert_eq(zt_proc_stat_parse(line, comm, &start), 0);
	cr_assert_str_eq(comm, "(a) b)");
	cr_assert_eq(start, 777);
}

Test(stat, long_comm_truncated)
{
	const char *line =
	    "1 (abcdefghijklmnopqrstuvwxyz) S 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 9\n";
	char comm[ZT_COMM_LEN];
	uint64_t start = 0;

	cr_assert_eq(zt_proc_stat_parse(line, comm, &start), 0);
	cr_assert_str_eq(comm, "abcdefghijklmno");
	cr_assert_eq(start, 9);
}

Test(stat, malformed)
{
	char comm[ZT_COMM_LEN];
	uint64_t start;

	cr_assert_eq(zt_proc_stat_parse("1 (x) S 0 0 0\n", comm, &start), -EINVAL);
	cr_assert_eq(zt_proc_stat_parse("1 x S 0\n", comm, &start), -EINVAL);
	cr_assert_eq(
	    zt_proc_stat_parse("1 (x) S 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 -\n", comm, &start),
	    -EINVAL);
}

Test(environ, lookup)
{
	static const char env[] = "OTEL_SERVICE_NAME_X=no\0PATH=/bin\0OTEL_SERVICE_NAME=checkout\0"
				  "EMPTY=\0LAST=unterminated";
	size_t len = sizeof(env) - 1, vlen = 99;
	const char *v;

	v = zt_environ_get(env, len, "OTEL_SERVICE_NAME", &vlen);
	cr_assert_not_null(v);
	cr_assert_eq(vlen, strlen("checkout"));
	cr_assert_eq(memcmp(v, "checkout", vlen), 0);
	v = zt_environ_get(env, len, "EMPTY", &vlen);
	cr_assert_not_null(v);
	cr_assert_eq(vlen, 0);
	v = zt_environ_get(env, len, "LAST", &vlen);
	cr_assert_not_null(v);
	cr_assert_eq(vlen, strlen("unterminated"));
	cr_assert_null(zt_environ_get(env, len, "OTEL_SERVICE", &vlen));
	cr_assert_null(zt_environ_get(env, len, "MISSING", &vlen));
}

static void write_file(const char *dir, const char *name, const void *data, size_t len)
{
	char path[PATH_MAX];
	int fd;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
	cr_assert_geq(fd, 0, "create %s", path);
	cr_assert_eq(write(fd, data, len), (ssize_t)len);
	close(fd);
}

/* A fake /proc with one process, 4242, in root (a mkdtemp directory). */
static void fake_proc(char *root, bool with_env)
{
	static const char stat[] = "4242 (orders) S 1 4242 4242 0 -1 4194560 100 0 0 0 1 2 0 0 20 "
				   "0 1 0 123456 1000 200\n";
	static const char cmdline[] = "/opt/shop/bin/orders\0--orders\0005\0";
	static const char environ[] = "HOME=/root\0OTEL_SERVICE_NAME=order-service\0"
				      "OTEL_RESOURCE_ATTRIBUTES=team=payments,tier=gold\0";
	static const char cgroup[] = "0::/system.slice/docker-" ID_A ".scope\n";
	char dir[PATH_MAX / 2], path[PATH_MAX];

	strcpy(root, "/tmp/zt-procinfo-XXXXXX");
	cr_assert_not_null(mkdtemp(root));
	snprintf(dir, sizeof(dir), "%s/4242", root);
	cr_assert_eq(mkdir(dir, 0755), 0);
	write_file(dir, "stat", stat, sizeof(stat) - 1);
	write_file(dir, "cmdline", cmdline, sizeof(cmdline) - 1);
	if (with_env)
		write_file(dir, "environ", environ, sizeof(environ) - 1);
	write_file(dir, "cgroup", cgroup, sizeof(cgroup) - 1);
	snprintf(path, sizeof(path), "%s/exe", dir);
	cr_assert_eq(symlink("/opt/shop/bin/orders", path), 0);
}

static void remove_fake_proc(const char *root)
{
	static const char *const names[] = {"stat", "cmdline", "environ", "cgroup", "exe"};
	char path[PATH_MAX];

	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		snprintf(path, sizeof(path), "%s/4242/%s", root, names[i]);
		unlink(path);
	}
	snprintf(path, sizeof(path), "%s/4242", root);
	rmdir(path);
	rmdir(root);
}

Test(procinfo, fake_proc_tree)
{
	struct zt_process_info info;
	char root[PATH_MAX];

	fake_proc(root, true);
	cr_assert_eq(zt_procinfo_read_at(root, 4242, &info), 0);
	cr_expect_eq(info.pid, 4242);
	cr_expect_eq(info.start_time, 123456);
	cr_expect_str_eq(info.comm, "orders");
	cr_expect_str_eq(info.exe, "/opt/shop/bin/orders");
	cr_expect_str_eq(info.cmdline, "/opt/shop/bin/orders --orders 5");
	cr_expect_str_eq(info.service_name, "order-service");
	cr_expect(info.service_name_from_env);
	cr_expect_str_eq(info.resource_attrs, "team=payments,tier=gold");
	cr_expect_str_eq(info.container_id, ID_A);
	zt_procinfo_free(&info);
	cr_expect_null(info.exe);
	remove_fake_proc(root);
}

/* A pod's container: uid from the cgroup, namespace and name from the pods directory. */
Test(procinfo, pod_of_a_kubernetes_container)
{
	static const char cgroup[] =
	    "0::/kubepods.slice/kubepods-burstable.slice/kubepods-burstable-pod" POD_UID_US
	    ".slice/cri-containerd-" ID_B ".scope\n";
	struct zt_process_info info, copy;
	char root[PATH_MAX], dir[PATH_MAX + 8], pods[] = "/tmp/zt-pods-procinfo-XXXXXX";
	char entry[PATH_MAX];

	fake_proc(root, false);
	snprintf(dir, sizeof(dir), "%s/4242", root);
	write_file(dir, "cgroup", cgroup, sizeof(cgroup) - 1);
	cr_assert_eq(zt_procinfo_read_at(root, 4242, &info), 0);
	cr_expect_str_eq(info.container_id, ID_B);
	cr_expect_str_eq(info.k8s_pod_uid, POD_UID);
	cr_expect_null(info.k8s_namespace, "names come from the pods directory");
	cr_assert_not_null(mkdtemp(pods));
	cr_assert_eq(zt_procinfo_add_pod_names(&info, pods), 0);
	cr_expect_null(info.k8s_namespace, "no entry for the uid yet");
	snprintf(entry, sizeof(entry), "%s/shop_orders-7d9f_" POD_UID, pods);
	cr_assert_eq(mkdir(entry, 0755), 0);
	cr_assert_eq(zt_procinfo_add_pod_names(&info, pods), 0);
	cr_expect_str_eq(info.k8s_namespace, "shop");
	cr_expect_str_eq(info.k8s_pod_name, "orders-7d9f");
	cr_assert_eq(zt_procinfo_copy(&copy, &info), 0);
	cr_expect_str_eq(copy.k8s_pod_uid, POD_UID);
	cr_expect_str_eq(copy.k8s_pod_name, "orders-7d9f");
	cr_expect_neq(copy.k8s_pod_name, info.k8s_pod_name);
	zt_procinfo_free(&copy);
	zt_procinfo_free(&info);
	cr_expect_null(info.k8s_pod_uid);
	rmdir(entry);
	rmdir(pods);
	remove_fake_proc(root);
}

Test(procinfo, service_name_defaults_to_exe_basename)
{
	struct zt_process_info info;
	char root[PATH_MAX];

	fake_proc(root, false);
	cr_assert_eq(zt_procinfo_read_at(root, 4242, &info), 0);
	cr_expect_str_eq(info.service_name, "orders");
	cr_expect_not(info.service_name_from_env);
	cr_expect_null(info.resource_attrs);
	zt_procinfo_free(&info);
	remove_fake_proc(root);
}

Test(procinfo, missing_process)
{
	struct zt_process_info info;

	/* above any pid_max the kernel allows (4194304) */
	cr_assert_eq(zt_procinfo_read(INT_MAX, &info), -ENOENT);
	cr_assert_null(info.exe);
}

Test(procinfo, real_child_with_otel_environment)
{
	char *const argv[] = {"/bin/sleep", "30", NULL};
	char *const envp[] = {"OTEL_SERVICE_NAME=sleepy",
			      "OTEL_RESOURCE_ATTRIBUTES=deployment.environment=test", NULL};
	struct zt_process_info info, copy;
	int pipefd[2], ret;
	char c;
	pid_t pid;

	/* the child tells us it is about to exec; then wait for /proc/PID/exe to be sleep */
	cr_assert_eq(pipe2(pipefd, O_CLOEXEC), 0);
	pid = fork();
	cr_assert_geq(pid, 0);
	if (pid == 0) {
		execve(argv[0], argv, envp);
		_exit(127);
	}
	close(pipefd[1]);
	cr_assert_eq(read(pipefd[0], &c, 1), 0); /* EOF at exec (O_CLOEXEC) */
	close(pipefd[0]);

	/* exec sets the command line up after closing our pipe: wait for it */
	for (int tries = 1;; tries++) {
		ret = zt_procinfo_read(pid, &info);
		if (ret || (info.cmdline && !strcmp(info.comm, "sleep")) ||
		    tries == EXEC_WAIT_TRIES)
			break;
		zt_procinfo_free(&info);
		usleep(EXEC_WAIT_STEP_US);
	}
	kill(pid, SIGKILL);
	waitpid(pid, NULL, 0);
	cr_assert_eq(ret, 0);
	cr_expect_eq(info.pid, (uint32_t)pid);
	cr_expect_str_eq(info.comm, "sleep");
	cr_expect_str_eq(info.cmdline, "/bin/sleep 30");
	cr_expect_str_eq(info.service_name, "sleepy");
	cr_expect_str_eq(info.resource_attrs, "deployment.environment=test");
	cr_expect_gt(info.start_time, 0);
	cr_expect_not_null(info.exe);
	cr_expect_eq(strcmp(strrchr(info.exe, '/'), "/sleep"), 0, "exe %s", info.exe);

	cr_assert_eq(zt_procinfo_copy(&copy, &info), 0);
	cr_expect_neq(copy.cmdline, info.cmdline);
	cr_expect_str_eq(copy.cmdline, info.cmdline);
	cr_expect_str_eq(copy.service_name, "sleepy");
	if (info.container_id) {
		cr_expect_neq(copy.container_id, info.container_id);
		cr_expect_str_eq(copy.container_id, info.container_id);
	}
	zt_procinfo_free(&copy);
	zt_procinfo_free(&info);
}
