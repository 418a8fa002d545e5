# SPDX-License-Identifier: MIT
"""Benchmark 5, attach time: from starting the tracer to its being attached (ztrace's
"ztrace: tracing" line; bpftrace's BEGIN output, which it runs once every probe is attached)
for 1, 100 and 1000 functions of a generated target, uprobe + uretprobe on each. Detach time
(target exit or SIGINT to tracer exit) is measured too.

Attaching or detaching a perf-event uprobe (bpftrace's only way) waits for RCU grace periods:
here ~5 ms per probe to attach and ~75 ms to detach, so bpftrace on 1000 functions (2000 probes)
takes minutes to exit. Detaches running side by side also slow every attach several times over,
so each run waits for its own detach, except the last (bpftrace on 1000 functions), which
detaches in the background while the other benchmarks run; finish() collects it."""

import os
import re
import signal
import threading
import time

from benchlib import (BenchError, Proc, describe_environment, emit_json, environment_now, fmt,
                      median, parse_events, print_table, ratio, start_target)

# (functions, glob) over bench_many's bm_0000 .. bm_0999.
SIZES = [(1, 'bm_0000'), (100, 'bm_00*'), (1000, 'bm_*')]
TOOLS = ['ztrace', 'bpftrace']
# bpftrace refuses more than 512 probes unless told; 1000 functions are 2001 with BEGIN.
BPFTRACE_MAX_PROBES = '4096'
# Runs of bpftrace on 1000 functions: each takes minutes to detach (see above), so within the
# 10 minutes make bench has there is room for one, in the background of the other benchmarks.
BPFTRACE_1000_RUNS = int(os.environ.get('BENCH_BPFTRACE_1000_RUNS', 1))
# How long finish() waits for the background detach before giving up on it.
DETACH_WAIT_S = 420


class AttachBench:
    """Benchmark 5 in two halves: start() attaches, finish() waits for detaches and reports."""

    def __init__(self, ctx):
        self.ctx = ctx
        self.binary = ctx.target('bench_many')
        self.runs = []  # dicts: tool, functions, attach_s, ..., filled by reapers
        self.reapers = []
        self.procs = []
        self.lock = threading.Lock()

    def _argv(self, tool, pid, glob):
        if tool.startswith('ztrace'):
            return [self.ctx.ztrace, 'trace', '-q', '-p', str(pid), glob]
        script = (f'uprobe:{self.binary}:{glob} {{ @start[tid] = nsecs; }} '
                  f'uretprobe:{self.binary}:{glob} /@start[tid]/ '
                  '{ @ns = hist(nsecs - @start[tid]); delete(@start[tid]); @calls = count(); } '
                  'BEGIN { printf("ready\\n"); }')
        return [self.ctx.tools['bpftrace'], '-p', str(pid), '-e', script]

    def _one(self, tool, functions, glob):
        """Attaches tool to a fresh waiting target; returns the reaper thread that lets the
        target run, ends the tracer and times its detach (None when the attach failed)."""
        rec = {'tool': tool, 'functions': functions}
        target = start_target([self.binary, '--wait'])
        pid = int(target.wait_line(r'^ready (\d+)', 'out')[1].group(1))
        env = dict(os.environ, BPFTRACE_MAX_PROBES=BPFTRACE_MAX_PROBES)
        tracer = Proc(self._argv(tool, pid, glob), stdin=None, env=env)
        self.procs += [target, tracer]
        try:
            if tool.startswith('ztrace'):
                ts, m = tracer.wait_line(r'^ztrace: tracing (\d+) function', 'err')
                rec['attached_functions'] = int(m.group(1))
            else:
                ts0, m = tracer.wait_line(r'^Attaching (\d+) probes', 'out')
                rec['attaching_line_s'] = ts0 - tracer.start
                rec['probes'] = int(m.group(1))
                ts, _ = tracer.wait_line(r'^ready$', 'out')
        except BenchError as e:
            target.kill()
            tracer.kill()
            rec['error'] = str(e)
            self.runs.append(rec)
            return None
        rec['attach_s'] = ts - tracer.start
        self.runs.append(rec)
        t = threading.Thread(target=self._reap, args=(rec, target, tracer), daemon=True)
        t.start()
        self.reapers.append(t)
        return t

    def _reap(self, rec, target, tracer):
        """Lets the target make its calls and exit, ends the tracer, times its detach."""
        try:
            target.send()
            target.close_stdin()
            target.wait(60)
            stop = time.monotonic()
            if rec['tool'] == 'bpftrace':
                tracer.send_signal(signal.SIGINT)
            tracer.wait(DETACH_WAIT_S + 60)
            with self.lock:
                rec['detach_s'] = tracer.exit_time - stop
                if rec['tool'].startswith('ztrace'):
                    delivered, lost = parse_events(tracer.text())
                    rec['delivered'], rec['lost'] = delivered, lost
                    rec['count_exact'] = delivered == rec['functions'] and lost == 0
                else:
                    m = re.search(r'^@calls: (\d+)', tracer.text('out'), re.M)
                    rec['bpftrace_calls'] = int(m.group(1)) if m else None
        except BenchError as e:
            with self.lock:
                rec['detach_error'] = str(e)

    def plan(self):
        """The runs in order: (tool, functions, glob, detach in the background)."""
        runs = []
        for functions, glob in SIZES:
            for _ in range(self.ctx.runs):
                runs.append(('ztrace', functions, glob, False))
                if functions == 1:
                    runs.append(('bpftrace', functions, glob, False))
        if self.ctx.tools['bpftrace']:
            runs += [('bpftrace', 100, 'bm_00*', False)] * self.ctx.runs
            runs += [('bpftrace', 1000, 'bm_*', False)] * (BPFTRACE_1000_RUNS - 1)
            runs += [('bpftrace', 1000, 'bm_*', True)] * min(1, BPFTRACE_1000_RUNS)
        return runs

    def start(self):
        """The attach half: every run but the last waits for its own detach."""
        print('\n== 5. attach time: runs first, its table comes last ==', flush=True)
        self.env = environment_now(self.ctx.env)
        print(describe_environment(self.env), flush=True)
        self.started = time.monotonic()
        for tool, functions, glob, background in self.plan():
            if tool == 'bpftrace' and not self.ctx.tools['bpftrace']:
                continue
            reaper = self._one(tool, functions, glob)
            if reaper and not background:
                reaper.join()
        print(f'   {len(self.runs)} runs in {time.monotonic() - self.started:.0f} s; the last '
              'detaches in the background', flush=True)

    def finish(self):
        """Waits for the detaches, prints the table and JSON line, returns the summary."""
        t0 = time.monotonic()
        deadline = t0 + DETACH_WAIT_S
        for t in self.reapers:
            t.join(max(0.0, deadline - time.monotonic()))
        waited = time.monotonic() - t0
        print(f'\n== 5. attach time (uprobe + uretprobe per function, median of '
              f'{self.ctx.runs} runs) ==')
        env = self.env
        print(describe_environment(env).split('\n')[0] + ' (when it ran, first)')
        print(f'(waited {waited:.0f} s at the end for the background detach)')
        sizes = {}
        for functions, glob in SIZES:
            s = {'glob': glob}
            for tool in TOOLS:
                with self.lock:
                    recs = [dict(r) for r in self.runs
                            if r['tool'] == tool and r['functions'] == functions]
                att = [r['attach_s'] for r in recs if 'attach_s' in r]
                det = [r['detach_s'] for r in recs if 'detach_s' in r]
                s[tool] = {
                    'attach_s': median(att), 'detach_s': median(det),
                    'detached': len(det), 'runs': recs,
                    'errors': [r['error'] for r in recs if 'error' in r],
                }
                if tool == 'bpftrace':
                    s[tool]['attaching_line_s'] = median(
                        [r['attaching_line_s'] for r in recs if 'attaching_line_s' in r])
                else:
                    checked = [r for r in recs if 'count_exact' in r]
                    s[tool]['count_exact'] = bool(checked) and all(r['count_exact']
                                                                   for r in checked)
                    s[tool]['count_checked'] = len(checked)
            s['bpftrace_over_ztrace'] = ratio(s['bpftrace']['attach_s'], s['ztrace']['attach_s'])
            sizes[str(functions)] = s

        def cell(t, key, digits=2):
            """A median with its number of runs when that is not ctx.runs."""
            n = len([r for r in t['runs'] if key in r])
            more = '' if n == self.ctx.runs else f' ({n} run{"" if n == 1 else "s"})'
            return fmt(t[key], digits) + more

        rows = []
        for functions, s in sizes.items():
            z, b = s['ztrace'], s['bpftrace']
            check = (f'{z["count_checked"]} runs exact' if z['count_exact'] else
                     'MISMATCH' if z['count_checked'] else 'n/a')
            rows.append([functions, s['glob'], cell(z, 'attach_s'), cell(b, 'attach_s'),
                         fmt(b['attaching_line_s'], 2), fmt(s['bpftrace_over_ztrace'], 2),
                         cell(z, 'detach_s'), cell(b, 'detach_s', 1), check])
        print_table(['functions', 'glob', 'ztrace s', 'bpftrace s', '(bpftrace "Attaching")',
                     'bpftrace/ztrace', 'ztrace detach s', 'bpftrace detach s', 'ztrace spans'],
                    rows)
        print('attach: tracer start to ready (ztrace: "ztrace: tracing"; bpftrace: BEGIN output, '
              'after every probe is attached); detach: target exit (ztrace) or SIGINT '
              '(bpftrace) to tracer exit')
        for s in sizes.values():
            for tool in TOOLS:
                for e in s[tool]['errors']:
                    print(f'  {tool}: {e[:300]}')
        summary = {'benchmark': 'attach', 'runs': self.ctx.runs, 'env': env,
                   'sizes': sizes, 'detach_wait_s': waited}
        emit_json(summary)
        return summary

    def cleanup(self):
        """Kills whatever is still running (detaches that outlived DETACH_WAIT_S)."""
        for p in self.procs:
            if p.p.poll() is None:
                p.kill(wait=False)
