# SPDX-License-Identifier: MIT
"""Benchmark 6, the agent (`ztrace agent --config FILE`):

(a) footprint: the agent's VmRSS, VmHWM and CPU (% of one core, from /proc/PID/stat over the
run) while one rule traces 100 concurrent processes of bench_producer, each calling bench_span
at a fixed rate; the baseline is the same agent and rule with no process to trace, over as
long. The agent's /metrics must count every call (its exact check).

(b) exec to first span: exec_stamp stamps CLOCK_REALTIME first thing in main and calls
exec_tick(i) every PERIOD_US; the first span of each process in the agent's record file says
when tracing began (its start - the stamp) and how many calls were missed (its return value).
For the first process of a file the agent attaches after it read the exec (each run uses a
fresh copy of exec_stamp: a new inode); later processes of an attached file are selected by the
kernel at their exec (the exec_files map), so none of their calls should be missed."""

import os
import re
import shutil
import socket
import subprocess
import tempfile
import time
import urllib.request

from benchlib import (BenchError, Proc, describe_environment, emit_json, environment_now, fmt,
                      median, print_table, proc_cpu_s, proc_status_kb)

PROCESSES = 100
RATES = [100, 1000]  # calls per second of each process
# what the agent exports: metrics only (in-kernel counts), or also every span to a record file;
# with the overhead governor at its default budget (as deployed), or off (every call costs)
MODES = ['metrics', 'metrics + record', 'metrics + record, governor off']
DURATION_MS = 4000
LATENCY_RUNS = 20
PERIOD_US = 200  # exec_stamp: one call every 200 us
STAMP_CALLS = 2500  # 0.5 s of calls: longer than any attach should take
PRODUCER_RE = re.compile(r'bench_producer: threads=\d+ calls=(\d+) elapsed_ns=(\d+)')
STAMP_RE = re.compile(r'exec_stamp: pid=(\d+) start_ns=(\d+) calls=(\d+)')
SPAN_RE = re.compile(r'"start_ns":(\d+),.*?"pid":(\d+),.*?"ret":(-?\d+)')
CALLS_RE = re.compile(r'^ztrace_function_calls_total\{[^}]*function="bench_span"[^}]*\} (\d+)',
                      re.M)
# calls the overhead governor (on by default, probe_budget 2%) left out in the kernel
SAMPLED_RE = re.compile(r'^ztrace_function_calls_sampled_out_total\{[^}]*bench_span[^}]*\} (\d+)',
                        re.M)


def _free_port():
    with socket.socket() as s:
        s.bind(('127.0.0.1', 0))
        return s.getsockname()[1]


def _write_config(path, port, exe_glob, probe, record=None, governor=True):
    with open(path, 'w') as f:
        f.write('log_level: info\n')
        if not governor:
            f.write('probe_budget: off\n')
        f.write(f'metrics_addr: 127.0.0.1:{port}\n')
        if record:
            f.write(f'record:\n  path: {record}\n')
        f.write(f'rules:\n  - name: bench\n    match:\n      exe: "{exe_glob}"\n'
                f'    probes: [{probe}]\n')


def _start_agent(ctx, config):
    agent = Proc([ctx.ztrace, 'agent', '--config', config], stdout=subprocess.DEVNULL, stdin=None)
    agent.wait_line(r'agent running', 'err', timeout=60)
    return agent


def _usage(pid):
    return {k: proc_status_kb(pid, k) for k in ('VmRSS', 'VmHWM')}


def _metrics_calls(port):
    """(calls counted, calls the governor sampled out) from the agent's /metrics."""
    with urllib.request.urlopen(f'http://127.0.0.1:{port}/metrics', timeout=10) as r:
        text = r.read().decode()
    return (sum(int(v) for v in CALLS_RE.findall(text)),
            sum(int(v) for v in SAMPLED_RE.findall(text)))


def _footprint(ctx, rate, mode, tmp):
    """One agent: idle for DURATION_MS (the baseline), then PROCESSES producers at rate."""
    port = _free_port()
    config = os.path.join(tmp, f'footprint-{rate}.yaml')
    producer = ctx.target('bench_producer')
    record = os.path.join(tmp, f'footprint-{rate}.zt') if 'record' in mode else None
    _write_config(config, port, producer, 'bench_span', record, 'governor off' not in mode)
    agent = _start_agent(ctx, config)
    procs = []
    try:
        t0, c0 = time.monotonic(), proc_cpu_s(agent.pid)
        time.sleep(DURATION_MS / 1000)
        idle = {'cpu_pct': 100 * (proc_cpu_s(agent.pid) - c0) / (time.monotonic() - t0),
                **_usage(agent.pid)}
        argv = [producer, '--threads', '1', '--duration-ms', str(DURATION_MS), '--rate',
                str(rate), '--wait']
        # the first attaches the rule's probe; the kernel selects the others at their exec
        procs.append(Proc(argv))
        procs[0].wait_line(r'^ready', 'out', timeout=30)
        agent.wait_line(rf'tracing pid {procs[0].pid} ', 'err', timeout=30)
        for _ in range(PROCESSES - 1):
            procs.append(Proc(argv))
        for p in procs:
            p.wait_line(r'^ready', 'out', timeout=60)
        selected = sum(1 for p in procs if re.search(rf'tracing pid {p.pid} ', agent.text('err')))
        t0, c0 = time.monotonic(), proc_cpu_s(agent.pid)
        for p in procs:
            p.send()
        calls, rss_during = 0, []
        for p in procs:
            _, m = p.wait_line(PRODUCER_RE.pattern, 'out', timeout=DURATION_MS / 1000 + 60)
            calls += int(m.group(1))
            rss_during.append(proc_status_kb(agent.pid, 'VmRSS'))
        for p in procs:
            p.wait()
        # the agent refreshes its metrics every second: let it read the last counts
        time.sleep(1.5)
        wall = time.monotonic() - t0
        load = {'cpu_pct': 100 * (proc_cpu_s(agent.pid) - c0) / wall, **_usage(agent.pid),
                'VmRSS_max_during': max(r for r in rss_during if r is not None)}
        counted, sampled_out = _metrics_calls(port)
    finally:
        for p in procs:
            p.kill()
        agent.stop()
    spans = None
    if record:
        out = subprocess.run([ctx.ztrace, 'report', record, '--top', '0'], capture_output=True,
                             text=True, timeout=120)
        m = re.search(r'(\d+) spans from', out.stdout)
        spans = int(m.group(1)) if m else None
        os.unlink(record)
    return {'rate_per_process': rate, 'mode': mode, 'processes': PROCESSES, 'calls': calls,
            'spans_recorded': spans,
            'calls_per_s': calls / (DURATION_MS / 1000), 'counted': counted,
            'governor_sampled_out': sampled_out, 'count_exact': counted == calls,
            'selected_by_log': selected,
            'idle': idle, 'load': load}


def _percentiles(values):
    if not values:
        return {'n': 0, 'median': None, 'p90': None, 'max': None}
    v = sorted(values)
    return {'n': len(v), 'median': median(v), 'p90': v[min(len(v) - 1, int(0.9 * len(v)))],
            'max': v[-1]}


def _latency(ctx, tmp):
    """Runs LATENCY_RUNS first processes of fresh copies, then as many later processes of the
    first copy, under one agent writing a record file; reads the first span of each."""
    stamp = os.path.join(ctx.out, 'bench', 'exec_stamp')
    work = os.path.join(tmp, 'stamps')
    os.makedirs(work)
    record = os.path.join(tmp, 'latency.zt')
    config = os.path.join(tmp, 'latency.yaml')
    _write_config(config, _free_port(), os.path.join(work, 'exec_stamp_*'), 'exec_tick', record)
    agent = _start_agent(ctx, config)
    runs = {'first': [], 'later': []}
    try:
        for i in range(LATENCY_RUNS):
            copy = os.path.join(work, f'exec_stamp_{i}')
            shutil.copy(stamp, copy)
            os.sync()
            runs['first'].append(_stamp_run(copy))
            time.sleep(0.1)
        for _ in range(LATENCY_RUNS):
            runs['later'].append(_stamp_run(os.path.join(work, 'exec_stamp_0')))
            time.sleep(0.05)
    finally:
        agent.stop()
    out = subprocess.run([ctx.ztrace, 'export', record, '--format', 'jsonl'],
                         capture_output=True, text=True, timeout=120)
    if out.returncode:
        raise BenchError(f'ztrace export: {out.stderr[-400:]}')
    first_span = {}
    for line in out.stdout.splitlines():
        m = SPAN_RE.search(line)
        if m:
            start, pid, ret = int(m.group(1)), int(m.group(2)), int(m.group(3))
            if pid not in first_span or start < first_span[pid][0]:
                first_span[pid] = (start, ret)
    res = {}
    for kind, rs in runs.items():
        lat, missed_calls, untraced = [], [], 0
        for pid, start_ns in rs:
            if pid not in first_span:
                untraced += 1
                continue
            lat.append((first_span[pid][0] - start_ns) / 1e6)
            missed_calls.append(first_span[pid][1])
        res[kind] = {'ms': _percentiles(lat), 'runs': len(rs), 'untraced': untraced,
                     'first_call_missed': sum(1 for m in missed_calls if m > 0),
                     'missed_calls': _percentiles(missed_calls)}
    return res


def _stamp_run(exe):
    p = subprocess.run([exe, str(PERIOD_US), str(STAMP_CALLS)], capture_output=True, text=True,
                       timeout=60)
    m = STAMP_RE.search(p.stdout)
    if p.returncode or not m:
        raise BenchError(f'{exe}: exit {p.returncode}: {p.stdout[-200:]} {p.stderr[-200:]}')
    return int(m.group(1)), int(m.group(2))


def run(ctx):
    """Runs benchmark 6; prints its tables and JSON line and returns the summary."""
    print(f'\n== 6. agent: {PROCESSES} processes of one program under one rule, and the time '
          f'from exec to first span ==')
    env = environment_now(ctx.env)
    print(describe_environment(env))
    tmp = tempfile.mkdtemp(prefix='zt-bench-agent-')
    results = {'footprint': {}, 'latency': None}
    try:
        for mode in MODES:
            for rate in RATES:
                key = f'{mode}, {rate}'
                try:
                    results['footprint'][key] = _footprint(ctx, rate, mode, tmp)
                except BenchError as e:
                    results['footprint'][key] = {'error': str(e)}
                    print(f'  {key}/s per process: {e}')
        try:
            results['latency'] = _latency(ctx, tmp)
        except BenchError as e:
            results['latency'] = {'error': str(e)}
            print(f'  latency: {e}')
    finally:
        shutil.rmtree(tmp, ignore_errors=True)

    rows = []
    for key, s in results['footprint'].items():
        if 'error' in s:
            rows.append([key] + ['n/a'] * 8 + [s['error'][:60]])
            continue
        note = f'governor left out {s["governor_sampled_out"]}'
        if s['spans_recorded'] is not None:
            note += f'; {s["spans_recorded"]} spans in the record file'
        mb = lambda kb: fmt(kb / 1024 if kb is not None else None, 1)  # noqa: E731
        rows.append([f'{s["mode"]}: {PROCESSES} x {s["rate_per_process"]}',
                     fmt(s['calls_per_s'], 0),
                     mb(s['idle']['VmRSS']), mb(s['load']['VmRSS']),
                     mb(s['load']['VmRSS_max_during']), mb(s['load']['VmHWM']),
                     fmt(s['idle']['cpu_pct']), fmt(s['load']['cpu_pct']),
                     f'{s["counted"]}/{s["calls"]} ' +
                     ('exact' if s['count_exact'] else 'MISMATCH'), note])
    print_table(['exports: processes x calls/s', 'calls/s', 'idle RSS MB', 'RSS MB', 'RSS max MB',
                 'VmHWM MB', 'idle cpu%', 'cpu%', 'metrics count', 'note'], rows)
    print('idle: the same agent and rule before any process runs, over as long; cpu%: of one '
          'core, from the go byte until 1.5 s after the last exit (the metrics refresh); '
          'metrics count: ztrace_function_calls_total (calls the overhead governor, default '
          'probe_budget 2%, sampled out included, untimed) / calls made')
    lat = results['latency']
    if lat and 'error' not in lat:
        rows = []
        for kind, label in (('first', 'first process of a file (agent attaches)'),
                            ('later', 'later process of an attached file (kernel selects)')):
            r = lat[kind]
            rows.append([label, r['runs'], fmt(r['ms']['median'], 2), fmt(r['ms']['p90'], 2),
                         fmt(r['ms']['max'], 2), r['first_call_missed'], r['untraced'],
                         fmt(r['missed_calls']['max'], 0)])
        print_table(['exec to first span', 'runs', 'median ms', 'p90 ms', 'max ms',
                     'first call missed', 'no span', 'most calls missed'], rows)
        print(f'ms: first traced call\'s span start - CLOCK_REALTIME at the top of main (calls '
              f'every {PERIOD_US} us, so a miss of n calls is about n * {PERIOD_US} us); the '
              'machine is shared: these are noisy')
    summary = {'benchmark': 'agent', 'processes': PROCESSES, 'duration_ms': DURATION_MS,
               'period_us': PERIOD_US, 'env': env, **results}
    emit_json(summary)
    return summary
