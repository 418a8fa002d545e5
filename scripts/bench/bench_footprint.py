# SPDX-License-Identifier: MIT
"""Benchmark 4, footprint: ztrace's peak RSS (VmHWM) and CPU% while it traces a producer paced
at about 10k, 100k and 1M calls per second, streaming JSON lines to /dev/null."""

from bench_pipeline import producer_run, summarize
from benchlib import BenchError, describe_environment, emit_json, fmt, print_table

RATES = [10_000, 100_000, 1_000_000]
DURATION_MS = 2000


def run(ctx):
    """Runs benchmark 4; prints its table and JSON line and returns the summary."""
    threads = ctx.env['cpus'] or 2
    print(f'\n== 4. footprint: ztrace --format json > /dev/null, {threads} producer threads '
          f'paced for {DURATION_MS} ms, median of {ctx.runs} runs ==')
    print(describe_environment(ctx.env))
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
        if 'error' in s:
            rows.append([rate, 'n/a', 'n/a', 'n/a', 'n/a', 'n/a', s['error']])
            continue
        note = '' if s['produced_per_s'] >= 0.9 * int(rate) else \
            'producer could not reach the rate (kernel uprobe cost)'
        rows.append([f'{int(rate):,}', fmt(s['produced_per_s'], 0),
                     fmt(s['vm_hwm_kb'] / 1024, 1), fmt(s['vm_rss_kb'] / 1024, 1),
                     fmt(s['ztrace_cpu_pct']),
                     f'{fmt(s["lost"], 0)} lost, ' + ('exact' if s['count_exact'] else
                                                      'MISMATCH'), note])
    print_table(['target rate/s', 'achieved/s', 'VmHWM MB', 'VmRSS MB', 'ztrace cpu%', 'check',
                 'note'], rows)
    print('VmHWM: peak resident memory over ztrace\'s life (startup included); cpu%: of one '
          'core, from the go byte until ztrace has drained')
    summary = {'benchmark': 'footprint', 'threads': threads, 'duration_ms': DURATION_MS,
               'runs': ctx.runs, 'env': ctx.env, 'rates': results}
    emit_json(summary)
    return summary
