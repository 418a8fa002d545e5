# SPDX-License-Identifier: MIT
"""Benchmark 4, footprint: ztrace's peak RSS (VmHWM) and CPU% while it traces a producer paced
at about 10k, 100k and 1M calls per second, streaming JSON lines to /dev/null; and, as the
baseline, while it traces a producer paced at 1 call/s in total, which makes no call or
almost none in its run (idle)."""

from bench_pipeline import producer_run, summarize
from benchlib import (BenchError, describe_environment, emit_json, environment_now, fmt,
                      print_table)

# 1 call/s shared by the producer's threads: the idle baseline.
RATES = [1, 10_000, 100_000, 1_000_000]
DURATION_MS = 1500


def run(ctx):
    """Runs benchmark 4; prints its table and JSON line and returns the summary."""
    threads = ctx.env['cpus'] or 2
    print(f'\n== 4. footprint: ztrace --format json > /dev/null, {threads} producer threads '
          f'paced for {DURATION_MS} ms, median of {ctx.runs} runs ==')
    env = environment_now(ctx.env)
    print(describe_environment(env))
    results = {}
    for rate in RATES:
        runs = []
        for _ in range(ctx.runs):
            try:
                runs.append(producer_run(ctx, ['--format', 'json'], threads, rate=rate,
                                         duration_ms=DURATION_MS, stdout='devnull'))
            except BenchError as e:
                print(f'  {rate}/s: {e}')
        results[str(rate)] = summarize(runs) if runs else {'error': 'no run completed'}

    rows = []
    for rate, s in results.items():
        label = 'idle' if rate == '1' else f'{int(rate):,}'
        if 'error' in s:
            rows.append([label] + ['n/a'] * 8 + [s['error']])
            continue
        note = '' if rate == '1' or s['produced_per_s'] >= 0.9 * int(rate) else \
            'producer could not reach the rate (kernel uprobe cost)'
        if s['aggregated_runs']:
            note = (note + '; ' if note else '') + \
                f'{s["aggregated_runs"]} runs switched to in-kernel counting (exact count)'
        mb = [fmt(s[k] / 1024 if s[k] is not None else None, 1)
              for k in ('vm_hwm_kb', 'vm_rss_kb', 'bpf_map_rss_kb', 'rss_anon_kb', 'rss_file_kb')]
        rows.append([label, fmt(s['produced_per_s'], 0)] + mb +
                    [fmt(s['ztrace_cpu_pct']),
                     f'{fmt(s["lost"], 0)} lost, ' + ('exact' if s['count_exact'] else
                                                      'MISMATCH'), note])
    print_table(['target rate/s', 'achieved/s', 'VmHWM MB', 'VmRSS MB', 'bpf maps MB', 'anon MB',
                 'file MB',
                 'ztrace cpu%', 'check', 'note'], rows)
    print('VmHWM: peak resident memory over ztrace\'s life (startup included); of VmRSS: bpf '
          'maps = mmapped BPF maps (the ring buffer, resident in full, counted in file), anon = '
          'heap, file = mapped files; cpu%: of one core, from the go byte until ztrace has '
          'drained')
    summary = {'benchmark': 'footprint', 'threads': threads, 'duration_ms': DURATION_MS,
               'runs': ctx.runs, 'env': env, 'rates': results}
    emit_json(summary)
    return summary
