# SPDX-License-Identifier: MIT
"""The goals of issue 7, judged from this run's numbers: each met, missed or not measured, with
what bounds a miss, worked out from the measurements themselves."""

from benchlib import emit_json, fmt, print_table

CALL_COST_MAX = 1.10  # ztrace's added cost / the empty pair's, per traced call
SYSCALL_MAX = 1.0  # ztrace --syscalls added cost / syscount -L's
PIPELINE_MIN = 1_000_000  # spans per second on one core, 0 lost
RSS_MAX_KB = 20 * 1024  # at 100k events/s
RSS_RATE = '100000'
AGENT_RSS_MAX_KB = 20 * 1024  # the agent tracing 100 processes of one program
AGENT_EXEC_MS = 100  # issue 6: a matching exec is traced within 100 ms


def _call_cost(b):
    if not b:
        return None
    ratios, walls, notes = {}, {}, []
    for name, f in b['flavours'].items():
        z, floor = f['tools']['ztrace'], f['tools']['floor']
        ratios[name] = z.get('vs_floor_cpu')
        walls[name] = z.get('vs_floor')
        if z.get('added_cpu_ns') is not None and floor.get('added_cpu_ns') is not None:
            notes.append(f'{name}: +{z["added_cpu_ns"] - floor["added_cpu_ns"]:.0f} ns over the '
                         f'empty pair\'s {floor["added_cpu_ns"]:.0f} ns')
    vals = [r for r in ratios.values() if r is not None]
    met = bool(vals) and all(r <= CALL_COST_MAX for r in vals)
    bound = ('' if met else 'the work in ztrace\'s BPF programs per call (span stack push/pop, '
             'ring-buffer reserve/submit; CPU time of the calling thread): ' + '; '.join(notes))
    return {'goal': f'traced call: ztrace added <= {CALL_COST_MAX}x empty-pair floor',
            'measured': ', '.join(f'{k} {fmt(v, 2)}x (wall {fmt(walls[k], 2)}x)'
                                  for k, v in ratios.items()),
            'met': met if vals else None, 'bound': bound}


def _syscalls(b):
    if not b:
        return None
    z, s = b['tools']['ztrace'], b['tools']['syscount']
    r = z.get('vs_syscount_cpu')
    bound = ''
    if r is not None and r > SYSCALL_MAX:
        bound = (f'ztrace adds {z["added_cpu_ns"]:.0f} ns of CPU per syscall vs syscount -L '
                 f'{s["added_cpu_ns"]:.0f} ns; the empty enter+exit pair adds '
                 f'{b["tools"]["floor"].get("added_cpu_ns", 0):.0f} ns')
    return {'goal': f'--syscalls added cost <= {SYSCALL_MAX}x syscount -L',
            'measured': f'{fmt(r, 2)}x (wall {fmt(z.get("vs_syscount"), 2)}x)',
            'met': None if r is None else r <= SYSCALL_MAX, 'bound': bound}


def _pipeline(b, calls):
    """Judged on JSON-lines export (the goal is to consume, stitch and export)."""
    goal = 'pipeline >= 1M spans/s on one core, 0 lost (JSON lines)'
    m = (b or {}).get('modes', {}).get('json > /dev/null')
    if not m or m.get('delivered_per_s') is None:
        return {'goal': goal, 'measured': 'n/a', 'met': None, 'bound': ''} if b else None
    met = m['delivered_per_s'] >= PIPELINE_MIN and m['lost'] == 0
    per_cpu = {name: x.get('spans_per_ztrace_cpu_s') for name, x in b['modes'].items()}
    bound = ''
    if not met:
        floor = None
        if calls and 'nop' in calls['flavours']:
            floor = calls['flavours']['nop']['tools']['floor'].get('cpu_ns_per_call')
        bound = (f'the producer: it made {m["produced_per_s"]:.0f} calls/s with {b["threads"]} '
                 'threads')
        if floor:
            bound += (f'; a call through an empty uprobe+uretprobe costs {floor:.0f} ns of CPU '
                      f'(benchmark 1, nop5), so {b["threads"]} cores make at most '
                      f'{b["threads"] * 1e9 / floor:.0f} calls/s, and ztrace shares those cores')
        pc = per_cpu['json > /dev/null']
        if pc:
            bound += (f'; ztrace used {m["ztrace_cpu_pct"]:.0f}% of a core: {pc:.0f} spans per '
                      'CPU-second, ' + ('above the goal, so the consumer is not the limit'
                                        if pc >= PIPELINE_MIN else
                                        'below the goal, so the consumer is a limit too (see '
                                        'the perf profile)'))
    return {'goal': goal,
            'measured': f'{m["delivered_per_s"]:.0f} spans/s, lost {fmt(m["lost"], 0)}; spans '
                        'per ztrace CPU-second: ' + ', '.join(f'{k} {fmt(v, 0)}'
                                                             for k, v in per_cpu.items()),
            'met': met, 'bound': bound}


def _rss(b):
    if not b or RSS_RATE not in b['rates'] or 'error' in b['rates'][RSS_RATE]:
        return None
    s = b['rates'][RSS_RATE]
    hwm = s['vm_hwm_kb']
    met = hwm is not None and hwm <= RSS_MAX_KB
    note = f'VmHWM {hwm / 1024:.1f} MB at {s["produced_per_s"]:.0f} events/s'
    bounds = []
    if not met and s.get('bpf_map_rss_kb') is not None:
        maps = s['bpf_map_rss_kb']
        bounds.append(f'the mmapped BPF ring buffer, resident in full: {maps / 1024:.1f} MB; '
                      f'other mapped files (the binary and its shared libraries) '
                      f'{(s["rss_file_kb"] - maps) / 1024:.1f} MB; heap '
                      f'{s["rss_anon_kb"] / 1024:.1f} MB')
    if s['produced_per_s'] < 0.9 * int(RSS_RATE):
        bounds.append('(the producer could not reach 100k/s; measured at the rate it reached)')
    return {'goal': 'RSS <= 20 MB at 100k events/s', 'measured': note, 'met': met,
            'bound': ' '.join(bounds)}


def _attach(b):
    if not b or '1000' not in b['sizes']:
        return None
    s = b['sizes']['1000']
    z, bt = s['ztrace']['attach_s'], s['bpftrace']['attach_s']
    met = None if z is None or bt is None else z < bt
    return {'goal': 'attach 1000 functions faster than bpftrace',
            'measured': f'ztrace {fmt(z, 2)} s, bpftrace {fmt(bt, 2)} s; detach ztrace '
                        f'{fmt(s["ztrace"]["detach_s"], 1)} s, bpftrace '
                        f'{fmt(s["bpftrace"]["detach_s"], 1)} s',
            'met': met, 'bound': ''}


def _agent_rss(b):
    runs = [s for s in (b or {}).get('footprint', {}).values() if 'error' not in s]
    if not runs:
        return None
    worst = max(runs, key=lambda s: s['load']['VmRSS_max_during'] or 0)
    rss = worst['load']['VmRSS_max_during']
    hwm = max(s['load']['VmHWM'] or 0 for s in runs)
    met = rss is not None and rss <= AGENT_RSS_MAX_KB
    bound = '' if met else (f'idle with the same rule it holds '
                            f'{worst["idle"]["VmRSS"] / 1024:.1f} MB: the cost is its own '
                            f'setup (BPF objects, ring buffer), not the processes')
    return {'goal': f'agent RSS <= {AGENT_RSS_MAX_KB // 1024} MB tracing 100 processes',
            'measured': f'VmRSS {rss / 1024:.1f} MB at most ({worst["mode"]}, 100 x '
                        f'{worst["rate_per_process"]} calls/s), VmHWM {hwm / 1024:.1f} MB, '
                        f'cpu {fmt(worst["load"]["cpu_pct"])}% of a core',
            'met': met, 'bound': bound}


def _agent_exec(b):
    lat = (b or {}).get('latency')
    if not lat or 'error' in lat:
        return None
    first, later = lat['first'], lat['later']
    mx = first['ms']['max']
    met = (mx is not None and mx <= AGENT_EXEC_MS and first['untraced'] == 0 and
           later['untraced'] == 0 and later['first_call_missed'] == 0)
    return {'goal': f'a matching exec traced within {AGENT_EXEC_MS} ms; later processes of an '
                    'attached file from their first call',
            'measured': f'first process: median {fmt(first["ms"]["median"], 1)} ms, max '
                        f'{fmt(mx, 1)} ms; later: {later["first_call_missed"]} of '
                        f'{later["runs"]} missed their first call',
            'met': met, 'bound': ''}


def evaluate(benchmarks):
    """The list of goals with measured value, met (True, False, None = not measured) and
    bound."""
    goals = [
        _call_cost(benchmarks.get('calls')),
        _syscalls(benchmarks.get('syscalls')),
        _pipeline(benchmarks.get('pipeline'), benchmarks.get('calls')),
        _rss(benchmarks.get('footprint')),
        _attach(benchmarks.get('attach')),
        _agent_rss(benchmarks.get('agent')),
        _agent_exec(benchmarks.get('agent')),
    ]
    calls = benchmarks.get('calls')
    agg = None
    if calls:
        ratios = {k: f['tools']['ztrace-agg'].get('vs_floor_cpu')
                  for k, f in calls['flavours'].items()}
        vals = [r for r in ratios.values() if r is not None]
        agg = {'goal': f'traced call, --aggregate: added <= {CALL_COST_MAX}x floor',
               'measured': 'n/a: this ztrace has no --aggregate' if not vals else
               ', '.join(f'{k} {fmt(v, 2)}x' for k, v in ratios.items()),
               'met': (all(r <= CALL_COST_MAX for r in vals) if vals else None), 'bound': ''}
    return [g for g in goals + [agg] if g]


def report(goals):
    """Prints the goals table and its JSON line."""
    print('\n== goals of issue 7 ==')
    word = {True: 'met', False: 'MISSED', None: 'n/a'}
    print_table(['goal', 'result', 'measured'],
                [[g['goal'], word[g['met']], g['measured']] for g in goals])
    for g in goals:
        if g['bound']:
            print(f'- {g["goal"]}: bounded by {g["bound"]}')
    emit_json({'benchmark': 'goals', 'goals': goals})
