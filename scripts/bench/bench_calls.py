# SPDX-License-Identifier: MIT
"""Benchmark 1, traced-call cost: ns per call of a tiny function with nothing attached, with an
empty uprobe+uretprobe pair (the floor), with ztrace and with the usual alternatives, for three
first instructions that the kernel handles differently (emulated, single-stepped, optimized)."""

import re
import subprocess

from benchlib import (BenchError, add_ratios, describe_environment, emit_json, environment_now, fmt,
                      measure_interleaved, parse_events, parse_rounds, print_table, traced_run)

# Flavour, the regex its first instruction must match, and what the kernel does with it.
FLAVOURS = [
    ('push', r'^push\s+%rbp$', 'emulated'),
    ('lea', r'^(lea|mov)\s', 'single-stepped'),
    ('nop', r'^nopl\s+0x0\(%rax,%rax,1\)$', 'nop5, optimized on 6.18+'),
]
NOP5_BYTES = '0f 1f 44 00 00'

TOOLS = ['none', 'floor', 'ztrace', 'ztrace-agg', 'bpftrace', 'funclatency']
# The cost of --capture: the same probe without and with 2 integers and a 32-byte string.
CAPTURE_TOOLS = ['none', 'floor', 'ztrace', 'ztrace-capture']
CAPTURE_SPEC = 'bench_args:arg0,arg1,str2/32'


def first_instruction(binary, func):
    """(raw bytes, instruction) of func's first instruction, from objdump."""
    out = subprocess.run(['objdump', '-d', f'--disassemble={func}', binary],
                         capture_output=True, text=True, check=True).stdout
    lines = out.splitlines()
    for i, line in enumerate(lines):
        if line.endswith(f'<{func}>:'):
            for insn in lines[i + 1:]:
                parts = insn.split('\t')
                if len(parts) >= 3:
                    return parts[1].strip(), ' '.join(parts[2].split())
    raise BenchError(f'objdump shows no instruction of {func} in {binary}')


def bpftrace_script(binary, func):
    """A bpftrace timing script: start times in a map, a histogram of durations."""
    return (f'uprobe:{binary}:{func} {{ @start[tid] = nsecs; }} '
            f'uretprobe:{binary}:{func} /@start[tid]/ '
            f'{{ @ns = hist(nsecs - @start[tid]); delete(@start[tid]); }} '
            'BEGIN { printf("ready\\n"); }')


def tracer_spec(ctx, tool, binary, func):
    """(argv of pid, ready (regex, stream), stop) for a tool, or None when it is unavailable."""
    if tool == 'none':
        return (None, None, None)
    if tool == 'floor':
        return (lambda pid: [ctx.empty_probe, 'uprobe', binary, func], (r'^attached$', 'out'),
                'stdin')
    if tool in ('ztrace', 'ztrace-agg', 'ztrace-capture'):
        if tool == 'ztrace-agg' and not ctx.ztrace_aggregate:
            return None
        extra = {'ztrace-agg': ['--aggregate'],
                 'ztrace-capture': ['--capture', CAPTURE_SPEC]}.get(tool, [])
        return (lambda pid: [ctx.ztrace, 'trace', '-q', *extra, '-p', str(pid), func],
                (r'^ztrace: tracing ', 'err'), 'exit')
    if tool == 'bpftrace':
        if not ctx.tools['bpftrace']:
            return None
        return (lambda pid: [ctx.tools['bpftrace'], '-p', str(pid), '-e',
                             bpftrace_script(binary, func)], (r'^ready$', 'out'), 'sigint')
    if tool == 'funclatency':
        if not ctx.tools['funclatency']:
            return None
        # stdbuf: libbpf-tools print through stdio, fully buffered into a pipe.
        return (lambda pid: ['stdbuf', '-oL', ctx.tools['funclatency'], '-p', str(pid),
                             f':{func}'],
                (r'^Tracing ', 'out'), 'sigint')
    raise ValueError(tool)


def measure_once(ctx, flavour, tool):
    """One target run of ctx.rounds rounds (after a warm-up) under tool, or None when the tool
    is not available."""
    binary = ctx.target('bench_call')
    func = f'bench_{flavour}'
    spec = tracer_spec(ctx, tool, binary, func)
    if spec is None:
        return None
    argv, ready, stop = spec
    target_argv = [binary, flavour, '--rounds', str(ctx.rounds), '--round-ms', str(ctx.round_ms),
                   '--warmup-ms', str(ctx.warmup_ms), '--wait']
    target, tracer, _ = traced_run(target_argv, argv, ready, stop,
                                   target_timeout=ctx.rounds * ctx.round_ms / 1000 + 60)
    wall, cpu, calls = parse_rounds(target.text('out'))
    if len(wall) != ctx.rounds:
        raise BenchError(f'bench_call {flavour} under {tool} printed {len(wall)} rounds')
    res = {'rounds_ns': wall, 'rounds_cpu_ns': cpu, 'calls': calls}
    if tracer and tracer.p.returncode != 0:
        # An exit code (or -signal) other than 0 is a tracer bug the table must show.
        res['tracer_exit'] = tracer.p.returncode
    if tool in ('ztrace', 'ztrace-capture'):
        delivered, lost = parse_events(tracer.text())
        res['count_exact'] = delivered is not None and delivered + lost == calls
        res['count_detail'] = f'spans {delivered} + {lost} lost != {calls} calls'
    elif tool == 'ztrace-agg':
        # No span records: the summary's CALLS column is counted in the kernel.
        m = re.search(rf'^{func}\s+(\d+)\s', tracer.text(), re.M)
        counted = int(m.group(1)) if m else None
        res['count_exact'] = counted == calls
        res['count_detail'] = f'calls counted {counted} != {calls}'
    return res


def measure_capture(ctx):
    """The cost of --capture on bench_args (push %rbp): ztrace with and without it. Prints its
    table and returns the pooled results."""
    tools = measure_interleaved(ctx, 'args', CAPTURE_TOOLS,
                                lambda tool: measure_once(ctx, 'args', tool))
    add_ratios(tools, ['floor'])
    z, c = tools['ztrace'], tools['ztrace-capture']
    rows = []
    for tool in CAPTURE_TOOLS:
        t = tools[tool]
        note = t.get('error', t.get('skipped', ''))[:60]
        if 'count_exact' in t:
            note = 'spans exact' if t['count_exact'] else t['count_detail']
        rows.append([tool, fmt(t.get('cpu_ns_per_call')), fmt(t.get('ns_per_call')),
                     fmt(t.get('added_cpu_ns')), note])
    print(f'\n-- --capture {CAPTURE_SPEC} (bench_args, first instruction push %rbp) --')
    print_table(['tool', 'cpu ns/call', 'wall ns/call', 'added cpu ns', 'check'], rows)
    if z.get('cpu_ns_per_call') is not None and c.get('cpu_ns_per_call') is not None:
        tools['capture_cpu_ns'] = c['cpu_ns_per_call'] - z['cpu_ns_per_call']
        print(f'capture of 2 integers and a 32-byte string adds '
              f'{fmt(tools["capture_cpu_ns"])} cpu ns per call')
    return tools


def run(ctx):
    """Runs benchmark 1; prints its table and JSON line and returns the summary."""
    print(f'\n== 1. traced-call cost (ns per call: median of {ctx.runs} interleaved runs x '
          f'{ctx.rounds} rounds of {ctx.round_ms} ms) ==')
    env = environment_now(ctx.env)
    print(describe_environment(env))
    binary = ctx.target('bench_call')
    flavours = {}
    for flavour, rx, handling in FLAVOURS:
        raw, insn = first_instruction(binary, f'bench_{flavour}')
        ok = re.match(rx, insn) is not None and (flavour != 'nop' or raw == NOP5_BYTES)
        tools = measure_interleaved(ctx, flavour, TOOLS,
                                    lambda tool: measure_once(ctx, flavour, tool))
        add_ratios(tools, ['floor'])
        flavours[flavour] = {'first_insn': insn, 'first_insn_bytes': raw,
                             'first_insn_verified': ok, 'kernel_handling': handling,
                             'tools': tools}

    rows = []
    for flavour, f in flavours.items():
        insn = f['first_insn'] + ('' if f['first_insn_verified'] else ' (UNEXPECTED)')
        for n, tool in enumerate(TOOLS):
            t = f['tools'][tool]
            note = t.get('error', t.get('skipped', ''))[:60]
            if 'count_exact' in t:
                note = (('calls counted' if tool == 'ztrace-agg' else 'spans') + ' exact'
                        if t['count_exact'] else t['count_detail'])
            if 'tracer_exit' in t:
                note += f' (exit {t["tracer_exit"]})'
            rows.append([flavour if n == 0 else '', insn if n == 0 else '', tool,
                         fmt(t.get('cpu_ns_per_call')), fmt(t.get('ns_per_call')),
                         fmt(t.get('added_cpu_ns')), fmt(t.get('vs_floor_cpu'), 2),
                         fmt(t.get('vs_floor'), 2), note])
    print_table(['flavour', 'first instruction', 'tool', 'cpu ns/call', 'wall ns/call',
                 'added cpu ns', 'x floor (cpu)', 'x floor (wall)', 'check'], rows)
    capture = measure_capture(ctx)
    print('cpu: the calling thread\'s CPU time, which holds all of a uprobe\'s cost and none '
          'of other programs\' (the goal is judged on it); wall: elapsed time. x floor: added '
          'cost / the empty uprobe+uretprobe pair\'s added cost.')
    if not ctx.ztrace_aggregate:
        print('ztrace-agg: n/a, this ztrace has no --aggregate mode')
    summary = {'benchmark': 'call_cost', 'unit': 'ns_per_call', 'runs': ctx.runs,
               'rounds_per_run': ctx.rounds, 'round_ms': ctx.round_ms,
               'warmup_ms': ctx.warmup_ms, 'env': env, 'flavours': flavours,
               'capture': capture}
    emit_json(summary)
    return summary
