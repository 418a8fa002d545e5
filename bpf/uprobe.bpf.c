// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * Function spans from uprobes. One entry and one return program are attached to every traced
 * function; the BPF cookie carries the probe id, so one program pair serves all functions.
 */
#include "span_stack.bpf.h"

char LICENSE[] SEC("license") = "Dual MIT/GPL";

SEC("uprobe")
int BPF_KPROBE(zt_uprobe_entry)
{
	__u64 cookie = bpf_get_attach_cookie(ctx);

	zt_args_capture(ctx, cookie, zt_push((__u32)cookie));
	return 0;
}

SEC("uretprobe")
int BPF_KRETPROBE(zt_uprobe_return, long ret)
{
	__u64 cookie = bpf_get_attach_cookie(ctx);

	zt_pop_flags((__u32)cookie, ret, zt_args_flag(cookie));
	return 0;
}

/*
 * The same pair for uprobe_multi links (Linux 6.6+), which need programs loaded for that
 * attach type; the agent loads these only where the kernel has them.
 */
SEC("uprobe")
int BPF_KPROBE(zt_uprobe_multi_entry)
{
	__u64 cookie = bpf_get_attach_cookie(ctx);

	zt_args_capture(ctx, cookie, zt_push((__u32)cookie));
	return 0;
}

SEC("uretprobe")
int BPF_KRETPROBE(zt_uprobe_multi_return, long ret)
{
	__u64 cookie = bpf_get_attach_cookie(ctx);

	zt_pop_flags((__u32)cookie, ret, zt_args_flag(cookie));
	return 0;
}

/* Agent discovery (report_execs): every exec on the host, for matching against its rules. */
const volatile bool report_execs = false;

/* Files whose every exec the agent's rules select, with the policy the process gets. */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, ZT_MAX_EXEC_FILES);
	__type(key, struct zt_file_key);
	__type(value, struct zt_target_policy);
} exec_files SEC(".maps");

/*
 * Make the exec'ing process a target now if its executable is one the agent selects by file:
 * the uprobes of that file are attached already, so its first calls are traced instead of
 * those made before the agent reads the exec record and catches up.
 */
static __always_inline void zt_select_by_file(__u32 tgid)
{
	struct task_struct *task = (struct task_struct *)bpf_get_current_task();
	struct inode *inode = BPF_CORE_READ(task, mm, exe_file, f_inode);
	struct zt_file_key key = {};
	struct zt_target_policy *policy;

	if (!inode)
		return;
	key.dev = BPF_CORE_READ(inode, i_sb, s_dev);
	key.ino = BPF_CORE_READ(inode, i_ino);
	policy = bpf_map_lookup_elem(&exec_files, &key);
	if (policy)
		bpf_map_update_elem(&targets, &tgid, policy, BPF_ANY);
}

/*
 * A process replaced its image. Calls open in the old image never return: end them as
 * incomplete now, or the new image's calls would nest under them. Then tell user space, which
 * forgets what it cached about the old image (and the agent matches the new one).
 */
SEC("raw_tp/sched_process_exec")
int BPF_PROG(zt_exec, struct task_struct *p, pid_t old_pid)
{
	__u32 tgid = bpf_get_current_pid_tgid() >> 32;
	struct zt_exit_rec *r;

	/* old_pid: the exec'ing thread's tid before de_thread() gave it the leader's */
	zt_flush_exec(tgid, old_pid);
	if (report_execs)
		zt_select_by_file(tgid); /* only the agent gives files to select */
	else if (!zt_traced_for(tgid, ZT_TARGET_FUNCS | ZT_TARGET_SYSCALLS))
		return 0;
	r = bpf_ringbuf_reserve(&events, sizeof(*r), 0);
	if (!r) {
		struct zt_probe_stats *s = zt_stats(ZT_EXEC_STATS_ID);

		if (s)
			s->lost++;
		return 0;
	}
	r->hdr.type = ZT_REC_EXEC;
	r->hdr.flags = 0;
	r->hdr.size = sizeof(*r);
	r->hdr.ts_ns = bpf_ktime_get_ns();
	r->pid = tgid;
	r->pad = 0;
	/* the agent must attach before the program gets far: wake it now */
	bpf_ringbuf_submit(r, BPF_RB_FORCE_WAKEUP);
	return 0;
}

/* A thread is exiting: its open calls will never return. When it is the process's last
 * thread, tell the agent, which then collects the process's final aggregates. */
SEC("raw_tp/sched_process_exit")
int zt_thread_exit(void *ctx)
{
	struct task_struct *task = (struct task_struct *)bpf_get_current_task();
	__u32 tgid = bpf_get_current_pid_tgid() >> 32;
	struct zt_exit_rec *r;

	zt_flush_thread();
	/* do_exit() drops signal->live before this tracepoint: 0 means the group is dead */
	if (BPF_CORE_READ(task, signal, live.counter) != 0 ||
	    !zt_traced_for(tgid, ZT_TARGET_FUNCS | ZT_TARGET_SYSCALLS))
		return 0;
	r = bpf_ringbuf_reserve(&events, sizeof(*r), 0);
	if (!r) {
		struct zt_probe_stats *s = zt_stats(ZT_EXIT_STATS_ID);

		if (s)
			s->lost++;
		return 0;
	}
	r->hdr.type = ZT_REC_EXIT;
	r->hdr.flags = 0;
	r->hdr.size = sizeof(*r);
	r->hdr.ts_ns = bpf_ktime_get_ns();
	r->pid = tgid;
	r->pad = 0;
	zt_submit(r);
	return 0;
}
