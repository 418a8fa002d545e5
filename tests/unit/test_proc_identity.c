// SPDX-License-Identifier: MIT
/*
 * Process identity for the agent's rules: pod uids in the cgroup paths of both kubelet cgroup
 * drivers, the kubelet's pods-directory entry names, mountinfo lines and the walk from a path
 * inside a mount namespace to the same file on the host, and the identity of this process.
 */
#include <criterion/criterion.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include "k8s_pod.h"
#include "proc_identity.h"

#define UID    "5b2e9f3c-1a7d-4e8b-9c0d-2f6a4b8e1d3c"
#define UID_US "5b2e9f3c_1a7d_4e8b_9c0d_2f6a4b8e1d3c"
#define CID    "9e8d7c6b5a4f3e2d1c0b9a8f7e6d5c4b3a2f1e0d9c8b7a6f5e4d3c2b1a0f9e8d"

static int pod_uid(const char *cgroup, char out[ZT_K8S_POD_UID_LEN + 1])
{
	memset(out, 0, ZT_K8S_POD_UID_LEN + 1);
	return zt_cgroup_pod_uid(cgroup, out, ZT_K8S_POD_UID_LEN + 1);
}

Test(pod_uid, systemd_driver_each_qos_class)
{
	static const char *const paths[] = {
	    "/kubepods.slice/kubepods-besteffort.slice/kubepods-besteffort-pod" UID_US
	    ".slice/cri-containerd-" CID ".scope",
	    "/kubepods.slice/kubepods-burstable.slice/kubepods-burstable-pod" UID_US
	    ".slice/crio-" CID ".scope",
	    "/kubepods.slice/kubepods-pod" UID_US ".slice/cri-containerd-" CID ".scope",
	    /* the pod's own slice, without a container below it */
	    "/kubepods.slice/kubepods-burstable.slice/kubepods-burstable-pod" UID_US ".slice",
	};
	char uid[ZT_K8S_POD_UID_LEN + 1];

	for (size_t i = 0; i < sizeof(paths) / sizeof(paths[0]); i++) {
		cr_assert_eq(pod_uid(paths[i], uid), 0, "%s", paths[i]);
		cr_assert_str_eq(uid, UID, "%s", paths[i]);
	}
}

Test(pod_uid, cgroupfs_driver_and_whole_cgroup_files)
{
	char uid[ZT_K8S_POD_UID_LEN + 1];

	cr_assert_eq(pod_uid("/kubepods/burstable/pod" UID "/" CID, uid), 0);
	cr_assert_str_eq(uid, UID);
	cr_assert_eq(pod_uid("/kubepods/pod" UID "/" CID, uid), 0);
	cr_assert_str_eq(uid, UID);
	/* a /proc/PID/cgroup text of a hybrid host: v1 lines, then the unified one */
	cr_assert_eq(pod_uid("4:memory:/kubepods/besteffort/pod" UID "/" CID "\n"
			     "1:name=systemd:/kubepods/besteffort/pod" UID "/" CID "\n"
			     "0::/kubepods/besteffort/pod" UID "/" CID "\n",
			     uid),
		     0);
	cr_assert_str_eq(uid, UID);
	/* upper-case hex (never written so, but read as the same uid) */
	cr_assert_eq(pod_uid("/kubepods/podABCDEF01-2345-6789-abcd-ef0123456789/x", uid), 0);
	cr_assert_str_eq(uid, "abcdef01-2345-6789-abcd-ef0123456789");
}

Test(pod_uid, not_a_pod)
{
	static const char *const paths[] = {
	    "/",
	    "/system.slice/docker-" CID ".scope",
	    "/user.slice/user-1000.slice/session-2.scope",
	    /* "pod" not at the start of the component nor after a dash */
	    "/kubepods.slice/kubepods-besteffort.slice/kubepods-besteffortpod" UID_US ".slice",
	    "/kubepods/ipod" UID,
	    /* one digit short, one too many, a bad separator, not hex */
	    "/kubepods/pod5b2e9f3c-1a7d-4e8b-9c0d-2f6a4b8e1d3",
	    "/kubepods/pod" UID "0",
	    "/kubepods/pod5b2e9f3c-1a7d-4e8b-9c0d.2f6a4b8e1d3c",
	    "/kubepods/pod5b2e9f3c-1a7d-4e8b-9c0d-2f6a4b8e1d3g",
	    "",
	};
	char uid[ZT_K8S_POD_UID_LEN + 1];

	for (size_t i = 0; i < sizeof(paths) / sizeof(paths[0]); i++)
		cr_assert_eq(pod_uid(paths[i], uid), -ENOENT, "%s", paths[i]);
	cr_assert_eq(zt_cgroup_pod_uid("/kubepods/pod" UID, uid, ZT_K8S_POD_UID_LEN), -ENOSPC);
}

Test(pods_dir, entry_names)
{
	struct zt_pod_ref ref;

	cr_assert_eq(zt_pods_dir_entry_parse("shop_orders-7d9f8c6b5-x2x4q_" UID, &ref), 0);
	cr_assert_str_eq(ref.namespace, "shop");
	cr_assert_str_eq(ref.pod, "orders-7d9f8c6b5-x2x4q");
	cr_assert_str_eq(ref.uid, UID);
	cr_assert_eq(zt_pods_dir_entry_parse("kube-system_coredns.abc_" UID, &ref), 0);
	cr_assert_str_eq(ref.namespace, "kube-system");
	cr_assert_str_eq(ref.pod, "coredns.abc");

	static const char *const bad[] = {
	    ".",
	    "..",
	    "shop",
	    "shop_orders",
	    "_orders_" UID,
	    "shop__" UID,
	    "shop_orders_",
	    "shop_orders_" UID "0",
	    "shop_orders_not-a-uid",
	    "shop_orders_" UID_US,
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		cr_assert_eq(zt_pods_dir_entry_parse(bad[i], &ref), -EINVAL, "%s", bad[i]);
}

Test(pods_dir, find_by_uid)
{
	char dir[] = "/tmp/zt-pods-unit-XXXXXX", path[PATH_MAX];
	static const char *const entries[] = {
	    "billing_orders-1_5b2e9f3c-1a7d-4e8b-9c0d-2f6a4b8e1d3d",
	    "shop_orders-2_" UID,
	    "not-an-entry",
	};
	struct zt_pod_ref ref;

	cr_assert_not_null(mkdtemp(dir));
	for (size_t i = 0; i < 3; i++) {
		snprintf(path, sizeof(path), "%s/%s", dir, entries[i]);
		cr_assert_eq(mkdir(path, 0755), 0);
	}
	cr_assert_eq(zt_pods_dir_find(dir, UID, &ref), 0);
	cr_assert_str_eq(ref.namespace, "shop");
	cr_assert_str_eq(ref.pod, "orders-2");
	cr_assert_eq(zt_pods_dir_find(dir, "00000000-0000-0000-0000-000000000000", &ref), -ENOENT);
	for (size_t i = 0; i < 3; i++) {
		snprintf(path, sizeof(path), "%s/%s", dir, entries[i]);
		rmdir(path);
	}
	rmdir(dir);
	cr_assert_eq(zt_pods_dir_find(dir, UID, &ref), -ENOENT, "the directory is gone");
}

Test(mountinfo, lines)
{
	char line[] = "69 68 254:0 /work/my\\040app/orders /opt/app/orders rw,relatime shared:1 - "
		      "ext4 /dev/vda rw";
	char bad1[] = "69 68 254:0 /x", bad2[] = "69 68 254-0 / / rw - ext4 /dev/vda rw";
	struct zt_mount m;

	cr_assert_eq(zt_mountinfo_parse_line(line, &m), 0);
	cr_assert_eq(m.major, 254);
	cr_assert_eq(m.minor, 0);
	cr_assert_str_eq(m.root, "/work/my app/orders");
	cr_assert_str_eq(m.mount_point, "/opt/app/orders");
	cr_assert_eq(zt_mountinfo_parse_line(bad1, &m), -EINVAL);
	cr_assert_eq(zt_mountinfo_parse_line(bad2, &m), -EINVAL);
}

/* A container's mount namespace: an overlay root, a tmpfs on /opt (mounted twice: the second
 * hides the first), a bind mount of a host file and one of a host directory. */
static const char ns_info[] =
    "1 0 0:50 / / rw - overlay overlay rw\n"
    "2 1 0:40 / /opt rw - tmpfs none rw\n"
    "3 1 0:41 / /opt rw - tmpfs none rw\n"
    "4 3 254:0 /work/out/targets/orders /opt/app/orders rw - ext4 /dev/vda rw\n"
    "5 1 254:1 /srv/data /data rw - ext4 /dev/vdb rw\n"
    "garbage\n";

/* The host: / on vda, /srv on vdb, and the overlay's merged directory. */
static const char host_info[] =
    "27 1 254:0 / / rw - ext4 /dev/vda rw\n"
    "28 27 254:1 / /srv rw - ext4 /dev/vdb rw\n"
    "29 27 254:1 /srv /mnt/srv-again rw - ext4 /dev/vdb rw\n"
    "30 27 0:50 / /var/lib/docker/overlay2/abc/merged rw - overlay x rw\n";

Test(mountinfo, path_in_its_file_system)
{
	unsigned major = 0, minor = 0;
	char fs[PATH_MAX];

	cr_assert_eq(
	    zt_mountinfo_fs_path(ns_info, "/opt/app/orders", &major, &minor, fs, sizeof(fs)), 0);
	cr_assert_eq(major, 254);
	cr_assert_eq(minor, 0);
	cr_assert_str_eq(fs, "/work/out/targets/orders");
	cr_assert_eq(zt_mountinfo_fs_path(ns_info, "/data/db/x.so", &major, &minor, fs, sizeof(fs)),
		     0);
	cr_assert_eq(minor, 1);
	cr_assert_str_eq(fs, "/srv/data/db/x.so");
	cr_assert_eq(zt_mountinfo_fs_path(ns_info, "/opt/other", &major, &minor, fs, sizeof(fs)),
		     0);
	cr_assert_eq(minor, 41, "the later mount on /opt hides the earlier");
	cr_assert_eq(zt_mountinfo_fs_path(ns_info, "/usr/bin/app", &major, &minor, fs, sizeof(fs)),
		     0);
	cr_assert_eq(major, 0);
	cr_assert_eq(minor, 50);
	cr_assert_str_eq(fs, "/usr/bin/app");
	/* "/optx" is not below "/opt" */
	cr_assert_eq(zt_mountinfo_fs_path(ns_info, "/optx", &major, &minor, fs, sizeof(fs)), 0);
	cr_assert_eq(minor, 50);
	cr_assert_eq(zt_mountinfo_fs_path("", "/x", &major, &minor, fs, sizeof(fs)), -ENOENT);
	cr_assert_eq(zt_mountinfo_fs_path(ns_info, "/opt/app/orders", &major, &minor, fs, 8),
		     -ENAMETOOLONG);
}

struct accepted {
	const char *want; /* accept only this path (NULL: the first) */
	int seen;
};

static bool accept_path(const char *path, void *arg)
{
	struct accepted *a = arg;

	a->seen++;
	return !a->want || !strcmp(path, a->want);
}

Test(mountinfo, reach_from_the_host)
{
	struct accepted a = {NULL, 0};
	char out[PATH_MAX];

	cr_assert_eq(zt_mountinfo_reach(host_info, 254, 0, "/work/out/targets/orders", accept_path,
					&a, out, sizeof(out)),
		     0);
	cr_assert_str_eq(out, "/work/out/targets/orders");
	cr_assert_eq(
	    zt_mountinfo_reach(host_info, 0, 50, "/usr/bin/app", accept_path, &a, out, sizeof(out)),
	    0);
	cr_assert_str_eq(out, "/var/lib/docker/overlay2/abc/merged/usr/bin/app");
	/* two host mounts reach /srv/data: the first candidate refused, the second taken */
	a = (struct accepted){"/mnt/srv-again/data/x", 0};
	cr_assert_eq(
	    zt_mountinfo_reach(host_info, 254, 1, "/srv/data/x", accept_path, &a, out, sizeof(out)),
	    0);
	cr_assert_str_eq(out, "/mnt/srv-again/data/x");
	cr_assert_eq(a.seen, 2);
	a = (struct accepted){"/nowhere", 0};
	cr_assert_eq(
	    zt_mountinfo_reach(host_info, 254, 1, "/srv/data/x", accept_path, &a, out, sizeof(out)),
	    -ENOENT);
	cr_assert_eq(zt_mountinfo_reach(host_info, 9, 9, "/x", accept_path, &a, out, sizeof(out)),
		     -ENOENT);
}

Test(identity, this_process)
{
	struct zt_proc_ident id;
	char exe[PATH_MAX];
	ssize_t n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);

	cr_assert_gt(n, 0);
	exe[n] = '\0';
	cr_assert_eq(zt_proc_identity_read((uint32_t)getpid(), "/nonexistent", &id), 0);
	cr_assert_str_eq(id.id.exe, exe);
	cr_assert_str_eq(id.seen_exe, exe);
	cr_assert_null(id.id.exe_in_ns, "same mount namespace: one path");
	cr_assert_str_eq(id.id.comm, "test_proc_ident");
	cr_assert_null(id.id.k8s_namespace);
	cr_assert_null(id.id.k8s_pod);
	cr_assert_eq(zt_proc_identity_read(0, NULL, &id), -ENOENT);
}
