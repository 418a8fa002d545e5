# SPDX-License-Identifier: MIT
"""Benchmark 3, pipeline throughput: a multi-threaded producer calls a traced function as fast
as it can; how many spans per second ztrace consumes, stitches and exports (summary only, JSON
lines to /dev/null, OTLP to a discarding receiver), with the exact check produced = delivered +
lost, the rate where loss starts, and where ztrace's CPU goes (perf)."""

import os
import re
import subprocess
import time

from benchlib import (BenchError, OtlpSink, Proc, describe_environment, emit_json, environment_now,
                      fmt, median, parse_events, parse_kernel_calls, parse_otlp, print_table,
                      proc_cpu_s, proc_mapped_rss_kb, proc_status_kb, start_target)

DURATION_MS = 1500
PRODUCER_RE = re.compile(r'^bench_producer: threads=(\d+) calls=(\d+) elapsed_ns=(\d+)')
# ztrace has drained the ring buffer once its CPU time stops growing for this long.
DRAIN_IDLE_S = 0.2
DRAIN_MAX_S = 20
PERF_FREQ = 2999
PERF_TOP = 15


def wait_drained(pid):
    """Waits until the process's CPU time stops growing (its queue is empty); returns it."""
    deadline = time.monotonic() + DRAIN_MAX_S
    last = proc_cpu_s(pid)
    while time.monotonic() < deadline:
        time.sleep(DRAIN_IDLE_S)
        now = proc_cpu_s(pid)
        if now == last:
            break
        last = now
    return last


def producer_run(ctx, ztrace_args, threads, rate=0, duration_ms=DURATION_MS, stdout=None,
                 during=None):
    """One producer run traced by `ztrace trace -p PID bench_span ztrace_args`. Samples
    ztrace's CPU time from the go byte until it has drained, and its memory, while the
    producer holds. during(ztrace_pid) runs right after the go byte and returns a callable to
    finish it. Returns the measurements."""
    target = start_target([ctx.target('bench_producer'), '--threads', str(threads),
                           '--duration-ms', str(duration_ms), '--rate', str(rate), '--wait',
                           '--hold'])
    pid = int(target.wait_line(r'^ready (\d+)', 'out')[1].group(1))
    devnull = open(os.devnull, 'w') if stdout == 'devnull' else None
    z = None
    try:
        z = Proc([ctx.ztrace, 'trace', *ztrace_args, '-p', str(pid), 'bench_span'],
                 stdout=devnull or subprocess.PIPE, stdin=None)
        z.wait_line(r'^ztrace: tracing ', 'err')
        cpu0 = proc_cpu_s(z.pid)
        target.send()
        finish = during(z.pid) if during else None
        _, m = target.wait_line(PRODUCER_RE.pattern, 'out', timeout=duration_ms / 1000 + 60)
        if finish:
            finish()
        cpu1 = wait_drained(z.pid)
        mem = {k: proc_status_kb(z.pid, k) for k in ('VmHWM', 'VmRSS', 'RssAnon', 'RssFile')}
        mem['bpf_maps'] = proc_mapped_rss_kb(z.pid, 'anon_inode:bpf-map')
        target.close_stdin()
        target.wait()
        z.wait()
    except BaseException:
        target.kill()
        if z:
            z.kill()
        raise
    finally:
        if devnull:
            devnull.close()
    calls, elapsed_s = int(m.group(2)), int(m.group(3)) / 1e9
    delivered, lost = parse_events(z.text())
    if delivered is None:
        raise BenchError(f'no events line from ztrace: {z.text()[-400:]}')
    cpu = cpu1 - cpu0
    # Under overload ztrace switches to in-kernel aggregation: later calls make no record, and
    # the exact count is the kernel's (the summary's CALLS), not delivered + lost.
    kernel_calls = parse_kernel_calls(z.text(), 'bench_span')
    return {
        'calls': calls, 'elapsed_s': elapsed_s, 'produced_per_s': calls / elapsed_s,
        'delivered': delivered, 'lost': lost, 'kernel_calls': kernel_calls,
        'aggregated': kernel_calls is not None,
        'count_exact': (kernel_calls == calls if kernel_calls is not None
                        else delivered + lost == calls),
        'delivered_per_s': delivered / elapsed_s, 'ztrace_cpu_s': cpu,
        'ztrace_cpu_pct': 100 * cpu / elapsed_s,
        'spans_per_ztrace_cpu_s': delivered / cpu if cpu > 0 else None,
        'vm_hwm_kb': mem['VmHWM'], 'vm_rss_kb': mem['VmRSS'], 'rss_anon_kb': mem['RssAnon'],
        'rss_file_kb': mem['RssFile'], 'bpf_map_rss_kb': mem['bpf_maps'],
        'otlp': parse_otlp(z.text()),
    }


def summarize(runs):
    """Medians over runs of the numbers a table shows; exact only if every run was."""
    def med(key):
        vals = [r[key] for r in runs if r.get(key) is not None]
        return median(vals)
    keys = ['produced_per_s', 'delivered_per_s', 'lost', 'ztrace_cpu_pct',
            'spans_per_ztrace_cpu_s', 'vm_hwm_kb', 'vm_rss_kb', 'rss_anon_kb', 'rss_file_kb',
            'bpf_map_rss_kb']
    s = {k: med(k) for k in keys}
    s['count_exact'] = all(r['count_exact'] for r in runs)
    s['aggregated_runs'] = sum(1 for r in runs if r.get('aggregated'))
    s['runs'] = runs
    return s


def perf_profile(ctx, threads):
    """perf record on ztrace during one JSON-lines run; the top symbols by self time."""
    if not ctx.tools['perf']:
        return {'skipped': 'perf not installed'}
    data = os.path.join(ctx.out, 'bench', 'perf-pipeline.data')
    for stale in (data, data + '.old'):
        if os.path.exists(stale):
            os.unlink(stale)  # perf keeps the previous file as .old otherwise
    box = {}

    def during(zpid):
        box['p'] = subprocess.Popen([ctx.tools['perf'], 'record', '-q', '-F', str(PERF_FREQ),
                                     '-g', '-p', str(zpid), '-o', data, '--', 'sleep',
                                     str(DURATION_MS / 1000)],
                                    stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
        return lambda: box['p'].wait(60)

    run = producer_run(ctx, ['--format', 'json'], threads, stdout='devnull', during=during)
    rep = subprocess.run([ctx.tools['perf'], 'report', '-i', data, '--stdio', '--no-children',
                          '--sort', 'dso,sym', '-g', 'none', '--percent-limit', '1'],
                         capture_output=True, text=True)
    with open(data.replace('.data', '.txt'), 'w') as f:
        f.write(rep.stdout)
    top = []
    for line in rep.stdout.splitlines():
        m = re.match(r'^\s+([\d.]+)%\s+(\S+)\s+\[[.k]\]\s+(.+?)\s*$', line)
        if m:
            top.append({'pct': float(m.group(1)), 'dso': m.group(2), 'symbol': m.group(3)})
    if not top:
        return {'error': (box['p'].stderr.read() if box.get('p') else '') + rep.stderr[-400:],
                'run': run}
    return {'top': top[:PERF_TOP], 'data': data, 'report': data.replace('.data', '.txt'),
            'run': run}


def run(ctx):
    """Runs benchmark 3; prints its tables and JSON line and returns the summary."""
    threads = ctx.env['cpus'] or 2
    print(f'\n== 3. pipeline throughput: {threads} producer threads calling a nop5 function '
          f'for {DURATION_MS} ms, median of {ctx.runs} runs ==')
    env = environment_now(ctx.env)
    print(describe_environment(env))
    sink = OtlpSink()
    modes = {
        'summary (-q)': ['-q'],
        'json > /dev/null': ['--format', 'json'],
        'otlp (-q --otlp)': ['-q', '--otlp', sink.url],
    }
    results = {}
    try:
        for name, args in modes.items():
            runs = []
            for _ in range(ctx.runs):
                try:
                    runs.append(producer_run(ctx, args, threads,
                                             stdout='devnull' if 'json' in name else None))
                except BenchError as e:
                    print(f'  {name}: {e}')
            results[name] = summarize(runs) if runs else {'error': 'no run completed'}
            if 'otlp' in name and runs:
                sent = [r['otlp'][0] for r in runs if r['otlp']]
                dropped = [r['otlp'][1] for r in runs if r['otlp']]
                results[name]['otlp_sent'] = median(sent)
                results[name]['otlp_dropped'] = median(dropped)
                results[name]['sink_requests'] = sink.requests
    finally:
        sink.close()

    rows = []
    for name, s in results.items():
        if 'error' in s:
            rows.append([name] + ['n/a'] * 7 + [s['error']])
            continue
        extra = ''
        if 'otlp_sent' in s:
            extra = f'otlp sent {fmt(s["otlp_sent"], 0)}, dropped {fmt(s["otlp_dropped"], 0)}'
        if s['aggregated_runs']:
            extra = (extra + '; ' if extra else '') + \
                f'{s["aggregated_runs"]} runs switched to in-kernel counting'
        rows.append([name, fmt(s['produced_per_s'], 0), fmt(s['delivered_per_s'], 0),
                     fmt(s['lost'], 0), 'exact' if s['count_exact'] else 'MISMATCH',
                     fmt(s['ztrace_cpu_pct']), fmt(s['spans_per_ztrace_cpu_s'], 0),
                     fmt(s['vm_hwm_kb'] / 1024 if s['vm_hwm_kb'] else None), extra])
    print_table(['mode', 'produced/s', 'delivered/s', 'lost', 'accounting', 'ztrace cpu%',
                 'spans/cpu-s', 'hwm MB', 'note'], rows)
    print('accounting: produced = delivered + lost, or, in runs where ztrace switched to '
          'in-kernel counting under overload, produced = the kernel\'s exact call count')
    print('spans/cpu-s: spans delivered per second of ztrace CPU time, what one core of '
          'ztrace would consume if the kernel produced spans fast enough')

    loss = loss_onset(ctx, threads, results.get('summary (-q)', {}))
    print(f'loss: {loss["text"]}')
    prof = perf_profile(ctx, threads)
    if 'top' in prof:
        print('where ztrace spends its CPU (perf, JSON-lines mode, self time):')
        print_table(['%', 'dso', 'symbol'],
                    [[f'{t["pct"]:.1f}', t['dso'], t['symbol'][:70]] for t in prof['top']])
    else:
        print(f'perf: {prof.get("skipped") or prof.get("error", "")[:300]}')
    summary = {'benchmark': 'pipeline', 'threads': threads, 'duration_ms': DURATION_MS,
               'runs': ctx.runs, 'env': env, 'modes': results, 'loss_onset': loss,
               'profile': prof}
    emit_json(summary)
    return summary


def loss_onset(ctx, threads, quiet):
    """The producer rate where records start being lost: none when the fastest producer loses
    nothing; otherwise the first of 3/4, 1/2, 1/4 of that rate that loses nothing."""
    runs = quiet.get('runs') or []
    if not runs:
        return {'text': 'n/a (no run)', 'lossless_up_to': None}
    top = max(r['produced_per_s'] for r in runs)
    if all(r['lost'] == 0 for r in runs):
        return {'text': f'none: 0 lost at the fastest the producer ran ({top:.0f} calls/s)',
                'lossless_up_to': top, 'loss_from': None}
    tried = []
    for frac in (0.75, 0.5, 0.25):
        r = producer_run(ctx, ['-q'], threads, rate=int(top * frac))
        tried.append(r)
        if r['lost'] == 0:
            return {'text': f'0 lost at {r["produced_per_s"]:.0f}/s, loss at {top:.0f}/s',
                    'lossless_up_to': r['produced_per_s'], 'loss_from': top, 'tried': tried}
    return {'text': f'loss even at {tried[-1]["produced_per_s"]:.0f}/s',
            'lossless_up_to': None, 'loss_from': tried[-1]['produced_per_s'], 'tried': tried}
