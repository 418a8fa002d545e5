# SPDX-License-Identifier: MIT
"""Benchmark 5, attach time: from starting the tracer to its being attached (ztrace's
"ztrace: tracing" line; bpftrace's BEGIN output, which it runs once every probe is attached)
for 1, 100 and 1000 functions of a generated target, uprobe + uretprobe on each. Detach time
(target exit or SIGINT to tracer exit) is measured too.

Detaching a perf-event uprobe waits for an RCU grace period per probe, minutes for 2000 probes,
so each tracer detaches in the background (a reaper thread times it) while the next attaches
and while the other benchmarks run; finish() collects them."""

import os
import re
import signal
import threading
import time

from benchlib import (BenchError, Proc, describe_environment, emit_json, fmt, median,
                      parse_events, print_table, ratio, start_target)

# (functions, glob) over bench_many's bm_0000 .. bm_0999.
SIZES = [(1, 'bm_0000'), (100, 'bm_00*'), (1000, 'bm_*')]
# ztrace-perf: ztrace made to use one perf-event link per probe, its fallback where the kernel
# has no uprobe_multi links (ZTRACE_NO_UPROBE_MULTI=1).
TOOLS = ['ztrace', 'ztrace-perf', 'bpftrace']
# bpftrace refuses more than 512 probes unless told; 1000 functions are 2001 with BEGIN.
BPFTRACE_MAX_PROBES = '4096'
# How long finish() waits for the background detaches before giving up on them.
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
        """Attaches tool to a fresh waiting target; leaves the detach to a reaper thread."""
        rec = {'tool': tool, 'functions': functions}
        target = start_target([self.binary, '--wait'])
        pid = int(target.wait_line(r'^ready (\d+)', 'out')[1].group(1))
        env = dict(os.environ, BPFTRACE_MAX_PROBES=BPFTRACE_MAX_PROBES)
        if tool == 'ztrace-perf':
            env['ZTRACE_NO_UPROBE_MULTI'] = '1'
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
            return
        rec['attach_s'] = ts - tracer.start
        self.runs.append(rec)
        t = threading.Thread(target=self._reap, args=(rec, target, tracer), daemon=True)
        t.start()
        self.reapers.append(t)

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

    def start(self):
        """The attach half: ctx.runs attaches per tool and size, tools alternating."""
        print(f'\n== 5. attach time: started first, {self.ctx.runs} runs per tool and size; '
              'tracers detach in the background, the table comes last ==', flush=True)
        self.started = time.monotonic()
        for functions, glob in SIZES:
            for _ in range(self.ctx.runs):
                for tool in TOOLS:
                    if tool == 'bpftrace' and not self.ctx.tools['bpftrace']:
                        continue
                    self._one(tool, functions, glob)
        print(f'   attached {len(self.runs)} times in {time.monotonic() - self.started:.0f} s; '
              'detaching in the background', flush=True)

    def finish(self):
        """Waits for the detaches, prints the table and JSON line, returns the summary."""
        t0 = time.monotonic()
        deadline = t0 + DETACH_WAIT_S
        for t in self.reapers:
            t.join(max(0.0, deadline - time.monotonic()))
        waited = time.monotonic() - t0
        print(f'\n== 5. attach time (uprobe + uretprobe per function, median of '
              f'{self.ctx.runs} runs) ==')
        print(describe_environment(self.ctx.env))
        print(f'(waited {waited:.0f} s at the end for background detaches)')
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

        def detach(t):
            done = '' if t['detached'] == self.ctx.runs else \
                f' ({t["detached"]}/{self.ctx.runs} done)'
            return fmt(t['detach_s'], 2) + done

        rows = []
        for functions, s in sizes.items():
            z, zp, b = s['ztrace'], s['ztrace-perf'], s['bpftrace']
            check = (f'{z["count_checked"] + zp["count_checked"]} runs exact'
                     if z['count_exact'] and zp['count_exact'] else
                     'MISMATCH' if z['count_checked'] or zp['count_checked'] else 'n/a')
            rows.append([functions, s['glob'], fmt(z['attach_s'], 2), fmt(zp['attach_s'], 2),
                         fmt(b['attach_s'], 2), fmt(b['attaching_line_s'], 2),
                         fmt(s['bpftrace_over_ztrace'], 2), detach(z), detach(zp), detach(b),
                         check])
        print_table(['functions', 'glob', 'ztrace s', 'ztrace-perf s', 'bpftrace s',
                     '(bpftrace "Attaching")', 'bpftrace/ztrace', 'ztrace detach s',
                     'ztrace-perf detach s', 'bpftrace detach s', 'ztrace spans'], rows)
        print('ztrace-perf: ztrace with ZTRACE_NO_UPROBE_MULTI=1, one perf-event link per probe '
              '(its fallback for kernels without uprobe_multi)')
        print('attach: tracer start to ready (ztrace: "ztrace: tracing"; bpftrace: BEGIN output, '
              'after every probe is attached); detach: target exit (ztrace) or SIGINT '
              '(bpftrace) to tracer exit, concurrent with other runs')
        for s in sizes.values():
            for tool in TOOLS:
                for e in s[tool]['errors']:
                    print(f'  {tool}: {e[:300]}')
        summary = {'benchmark': 'attach', 'runs': self.ctx.runs, 'env': self.ctx.env,
                   'sizes': sizes, 'detach_wait_s': waited}
        emit_json(summary)
        return summary

    def cleanup(self):
        """Kills whatever is still running (detaches that outlived DETACH_WAIT_S)."""
        for p in self.procs:
            if p.p.poll() is None:
                p.kill(wait=False)
