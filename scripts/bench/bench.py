# SPDX-License-Identifier: MIT
"""ztrace's benchmark suite (make bench): runs the benchmarks of scripts/bench/, prints a table
and a JSON line for each, the goals of issue 7 as met or missed, and writes everything to
OUTPUT/bench/results.json.

    python3 bench.py OUTPUT [calls|syscalls|pipeline|footprint|attach|agent ...]

Every number is taken in this run, side by side with its baseline, and given as a median.
BENCH_RUNS (default 5, at least 5 unless BENCH_QUICK=1) sizes every benchmark's runs;
benchmarks 1 and 2 run each configuration BENCH_RUNS times, interleaved, each run timing
BENCH_ROUNDS (2) rounds of BENCH_ROUND_MS (250) after a BENCH_WARMUP_MS (50) warm-up."""

import json
import os
import shutil
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import bench_agent  # noqa: E402
import bench_attach  # noqa: E402
import bench_calls  # noqa: E402
import bench_footprint  # noqa: E402
import bench_pipeline  # noqa: E402
import bench_syscalls  # noqa: E402
import goals  # noqa: E402
from benchlib import environment  # noqa: E402

MIN_RUNS = 5
ORDER = ['calls', 'syscalls', 'pipeline', 'footprint', 'attach', 'agent']


def find_tool(name):
    """A libbpf-tools or other tool by name; Debian installs libbpf-tools in /usr/sbin, other
    distributions prefix them (bpf-NAME)."""
    for cand in (name, f'bpf-{name}'):
        path = shutil.which(cand) or (f'/usr/sbin/{cand}' if os.access(f'/usr/sbin/{cand}',
                                                                       os.X_OK) else None)
        if path:
            return path
    return None


class Context:
    """Paths, tools and sizes shared by the benchmarks."""

    def __init__(self, output):
        self.out = os.path.abspath(output)
        self.ztrace = os.path.join(self.out, 'ztrace')
        self.empty_probe = os.path.join(self.out, 'bench', 'empty_probe')
        quick = os.environ.get('BENCH_QUICK') == '1'
        self.runs = int(os.environ.get('BENCH_RUNS', MIN_RUNS))
        self.rounds = int(os.environ.get('BENCH_ROUNDS', 2))
        self.round_ms = int(os.environ.get('BENCH_ROUND_MS', 250))
        self.warmup_ms = int(os.environ.get('BENCH_WARMUP_MS', 50))
        if not quick and self.runs < MIN_RUNS:
            sys.exit(f'bench: medians need at least {MIN_RUNS} runs (BENCH_QUICK=1 for less)')
        for path in (self.ztrace, self.empty_probe, self.target('bench_call')):
            if not os.access(path, os.X_OK):
                sys.exit(f'bench: {path} is missing: run make bench')
        self.tools = {n: find_tool(n) for n in ('bpftrace', 'funclatency', 'syscount', 'strace',
                                                'perf')}
        usage = subprocess.run([self.ztrace, 'help'], capture_output=True, text=True)
        self.ztrace_aggregate = '--aggregate' in usage.stdout + usage.stderr
        self.env = environment(self.ztrace)

    def target(self, name):
        return os.path.join(self.out, 'targets', name)


def main(argv):
    if len(argv) < 2:
        sys.exit('usage: bench.py OUTPUT [' + '|'.join(ORDER) + ' ...]')
    if os.geteuid() != 0:
        sys.exit('bench: loading BPF programs needs root: run sudo make bench')
    names = argv[2:] or ORDER
    for n in names:
        if n not in ORDER:
            sys.exit(f'bench: unknown benchmark {n}: choose from {" ".join(ORDER)}')
    ctx = Context(argv[1])
    os.makedirs(os.path.join(ctx.out, 'bench'), exist_ok=True)
    started = time.monotonic()
    missing = [k for k, v in ctx.tools.items() if not v]
    if missing:
        print(f'bench: not installed, their columns say n/a: {" ".join(missing)} '
              '(scripts/install-deps.sh installs them)')

    results = {'env': ctx.env, 'benchmarks': {}}
    # Detaching perf-event uprobes costs an RCU grace period per probe (minutes for 2000), so
    # the attach benchmark attaches first and lets its tracers detach in the background while
    # the other benchmarks run; its table is printed last.
    attach = bench_attach.AttachBench(ctx) if 'attach' in names else None
    if attach:
        attach.start()
    modules = {'calls': bench_calls, 'syscalls': bench_syscalls, 'pipeline': bench_pipeline,
               'footprint': bench_footprint}
    try:
        for n in ORDER:
            if n in names and n in modules:
                results['benchmarks'][n] = modules[n].run(ctx)
        if attach:
            results['benchmarks']['attach'] = attach.finish()
        # after the attach benchmark's tracers are gone: the agent's numbers are its own
        if 'agent' in names:
            results['benchmarks']['agent'] = bench_agent.run(ctx)
    finally:
        if attach:
            attach.cleanup()
    results['goals'] = goals.evaluate(results['benchmarks'])
    goals.report(results['goals'])
    results['elapsed_s'] = round(time.monotonic() - started, 1)
    path = os.path.join(ctx.out, 'bench', 'results.json')
    with open(path, 'w') as f:
        json.dump(results, f, indent=1)
        f.write('\n')
    print(f'\nbench: done in {results["elapsed_s"]} s; results in {path}')


if __name__ == '__main__':
    main(sys.argv)
