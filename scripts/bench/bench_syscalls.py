# SPDX-License-Identifier: MIT
"""Benchmark 2, syscall cost: ns per getppid() with nothing attached, with empty raw_syscalls
enter+exit programs (the floor), with ztrace --syscalls (in-kernel aggregation, no spans) and
with libbpf-tools syscount -L, a bpftrace latency histogram and strace -c."""

import re

from benchlib import (BenchError, add_ratios, describe_environment, emit_json, environment_now, fmt,
                      measure_interleaved, parse_rounds, print_table, traced_run)

TOOLS = ['none', 'floor', 'ztrace', 'syscount', 'bpftrace', 'strace']
GETPPID_ROW_RE = re.compile(r'^getppid\s+(\d+)\s', re.M)


def bpftrace_script(pid):
    """Per-syscall latency histograms of one process, the bpftrace way."""
    return (f'tracepoint:raw_syscalls:sys_enter /pid == {pid}/ {{ @start[tid] = nsecs; }} '
            'tracepoint:raw_syscalls:sys_exit /@start[tid]/ '
            '{ @ns[args->id] = hist(nsecs - @start[tid]); delete(@start[tid]); } '
            'BEGIN { printf("ready\\n"); }')


def tracer_spec(ctx, tool):
    """(argv of pid, ready (regex, stream), stop), (None, None, None) untraced, or None when
    the tool is not installed."""
    if tool == 'none':
        return (None, None, None)
    if tool == 'floor':
        return (lambda pid: [ctx.empty_probe, 'syscalls'], (r'^attached$', 'out'), 'stdin')
    if tool == 'ztrace':
        return (lambda pid: [ctx.ztrace, 'trace', '-q', '--syscalls', '-p', str(pid)],
                (r'^ztrace: tracing ', 'err'), 'exit')
    path = ctx.tools[tool]
    if not path:
        return None
    if tool == 'syscount':
        # stdbuf: libbpf-tools print through stdio, fully buffered into a pipe.
        return (lambda pid: ['stdbuf', '-oL', path, '-L', '-p', str(pid)],
                (r'^Tracing syscalls', 'out'), 'sigint')
    if tool == 'bpftrace':
        return (lambda pid: [path, '-e', bpftrace_script(pid)], (r'^ready$', 'out'), 'sigint')
    if tool == 'strace':
        return (lambda pid: [path, '-c', '-f', '-p', str(pid)], (r'Process \d+ attached', 'err'),
                'exit')
    raise ValueError(tool)


def measure_once(ctx, tool):
    """One bench_syscall run of ctx.rounds rounds (after a warm-up) under tool, or None when
    the tool is not installed."""
    spec = tracer_spec(ctx, tool)
    if spec is None:
        return None
    argv, ready, stop = spec
    target_argv = [ctx.target('bench_syscall'), '--rounds', str(ctx.rounds), '--round-ms',
                   str(ctx.round_ms), '--warmup-ms', str(ctx.warmup_ms), '--wait']
    target, tracer, _ = traced_run(target_argv, argv, ready, stop,
                                   target_timeout=ctx.rounds * ctx.round_ms / 1000 + 60)
    wall, cpu, calls = parse_rounds(target.text('out'))
    if len(wall) != ctx.rounds:
        raise BenchError(f'bench_syscall under {tool} printed {len(wall)} rounds')
    res = {'rounds_ns': wall, 'rounds_cpu_ns': cpu, 'calls': calls}
    if tracer and tracer.p.returncode != 0:
        # An exit code (or -signal) other than 0 is a tracer bug the table must show.
        res['tracer_exit'] = tracer.p.returncode
    if tool == 'ztrace':
        m = GETPPID_ROW_RE.search(tracer.text())
        counted = int(m.group(1)) if m else None
        res['count_exact'] = counted == calls
        res['count_detail'] = f'getppid counted {counted} != {calls} calls'
    return res


def run(ctx):
    """Runs benchmark 2; prints its table and JSON line and returns the summary."""
    print(f'\n== 2. syscall cost: getppid() (ns per call: median of {ctx.runs} interleaved '
          f'runs x {ctx.rounds} rounds of {ctx.round_ms} ms) ==')
    env = environment_now(ctx.env)
    print(describe_environment(env))
    tools = measure_interleaved(ctx, 'getppid', TOOLS, lambda tool: measure_once(ctx, tool))
    add_ratios(tools, ['floor', 'syscount'])

    rows = []
    for tool in TOOLS:
        t = tools[tool]
        note = t.get('error') or t.get('skipped') or ''
        if tool == 'ztrace' and 'count_exact' in t:
            note = 'getppid count exact' if t['count_exact'] else t['count_detail']
        if tool == 'strace':
            note = 'ptrace: its cost is in wall time, cpu leaves out the stops'
        if 'tracer_exit' in t:
            note += f' (exit {t["tracer_exit"]})'
        rows.append([tool, fmt(t.get('cpu_ns_per_call')), fmt(t.get('ns_per_call')),
                     fmt(t.get('added_cpu_ns')), fmt(t.get('added_ns')),
                     fmt(t.get('vs_floor_cpu'), 2), fmt(t.get('vs_syscount_cpu'), 2),
                     fmt(t.get('vs_syscount'), 2), note[:70]])
    print_table(['tool', 'cpu ns/call', 'wall ns/call', 'added cpu', 'added wall',
                 'x floor (cpu)', 'x syscount (cpu)', 'x syscount (wall)', 'note'], rows)
    print('floor: empty raw_syscalls sys_enter+sys_exit programs (system-wide); ztrace, '
          'syscount, strace: -p PID; bpftrace: a pid filter')
    summary = {'benchmark': 'syscall_cost', 'unit': 'ns_per_call', 'runs': ctx.runs,
               'rounds_per_run': ctx.rounds, 'round_ms': ctx.round_ms,
               'warmup_ms': ctx.warmup_ms, 'env': env, 'tools': tools}
    emit_json(summary)
    return summary
