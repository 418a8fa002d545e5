# SPDX-License-Identifier: MIT
"""Shared pieces of ztrace's benchmarks: the machine's description, processes whose output is
read line by line with timestamps, statistics, tables and the JSON summary lines."""

import json
import os
import platform
import re
import shutil
import signal
import statistics
import subprocess
import threading
import time

# How long a tool may take to say it is attached, and a process to exit once told to. Long
# because detaching perf-event uprobes waits for an RCU grace period per probe (~75 ms here).
READY_TIMEOUT_S = 120
EXIT_TIMEOUT_S = 120

ROUND_RE = re.compile(r'^(round \d+|warmup) calls=(\d+) ns_per_call=([\d.]+) '
                      r'cpu_ns_per_call=([\d.]+)')
EVENTS_RE = re.compile(r'events: delivered (\d+), lost (\d+)')
OTLP_RE = re.compile(r'otlp: (\d+) spans sent, (\d+) dropped.*?, (\d+) failed')


class BenchError(Exception):
    """A benchmark step that could not run; the message says which and why."""


def median(values):
    """The median of a non-empty list, or None for an empty one."""
    return statistics.median(values) if values else None


def ratio(num, den):
    """num / den, or None when either is missing or den is not positive."""
    if num is None or den is None or den <= 0:
        return None
    return num / den


def fmt(value, digits=1):
    """A number for a table cell; None (not measured) prints as n/a."""
    if value is None:
        return 'n/a'
    if isinstance(value, str):
        return value
    if isinstance(value, int):
        return str(value)
    return f'{value:.{digits}f}'


def print_table(headers, rows):
    """Prints rows (lists of cells) under headers, columns aligned, first column left."""
    cells = [[str(c) for c in headers]] + [[str(c) for c in r] for r in rows]
    widths = [max(len(r[i]) for r in cells) for i in range(len(headers))]
    for n, r in enumerate(cells):
        line = '  '.join(c.ljust(widths[i]) if i == 0 else c.rjust(widths[i])
                         for i, c in enumerate(r))
        print(line.rstrip())
        if n == 0:
            print('  '.join('-' * w for w in widths))


def emit_json(summary):
    """Prints the one-line JSON summary of a benchmark."""
    print(json.dumps(summary, separators=(',', ':'), sort_keys=False), flush=True)


def _read_first(path):
    try:
        with open(path) as f:
            return f.read().strip()
    except OSError:
        return None


def _run_text(argv):
    """stdout of argv stripped, or None when it cannot run."""
    try:
        r = subprocess.run(argv, capture_output=True, text=True, timeout=10)
    except (OSError, subprocess.TimeoutExpired):
        return None
    return (r.stdout or r.stderr).strip()


def other_bpf_tracers():
    """Other processes holding BPF programs or links (pid, command line): their programs on
    raw_syscalls or uprobes run in every benchmark's hot path (on 6.18 a nop5 uprobe and every
    uretprobe enter the kernel through a syscall), so the numbers need them named."""
    found = []
    me = os.getpid()
    for pid in filter(str.isdigit, os.listdir('/proc')):
        if int(pid) == me:
            continue
        try:
            with open(f'/proc/{pid}/stat') as f:
                if int(f.read().rsplit(')', 1)[1].split()[1]) == me:
                    continue  # one of this suite's own tracers
            fds = os.listdir(f'/proc/{pid}/fd')
            held = any(os.readlink(f'/proc/{pid}/fd/{fd}') in ('anon_inode:bpf-link',
                                                              'anon_inode:bpf-prog')
                       for fd in fds)
            if held:
                with open(f'/proc/{pid}/cmdline', 'rb') as f:
                    cmd = f.read().replace(b'\0', b' ').decode(errors='replace').strip()
                found.append({'pid': int(pid), 'cmd': cmd[:120]})
        except OSError:
            continue
    return found


def environment(ztrace):
    """What the numbers were measured on: kernel, CPU, virtualisation, load, tool versions."""
    cpu, flags = None, []
    with open('/proc/cpuinfo') as f:
        for line in f:
            key, _, val = line.partition(':')
            key = key.strip()
            if key == 'model name' and cpu is None:
                cpu = val.strip()
            elif key == 'flags' and not flags:
                flags = val.split()
    virt_vm = _run_text(['systemd-detect-virt', '--vm']) or 'none'
    virt_ct = _run_text(['systemd-detect-virt', '--container']) or 'none'
    dmi_vendor = _read_first('/sys/class/dmi/id/sys_vendor')
    dmi_product = _read_first('/sys/class/dmi/id/product_name')
    hyperflag = 'hypervisor' in flags
    evidence = []
    if virt_vm != 'none':
        evidence.append(f'systemd-detect-virt: {virt_vm}')
    if hyperflag:
        evidence.append('cpuinfo hypervisor flag')
    if dmi_vendor and re.search(r'QEMU|KVM|VMware|Xen|Microsoft|Amazon|Google|innotek|bhyve',
                                dmi_vendor + ' ' + (dmi_product or ''), re.I):
        evidence.append(f'dmi: {dmi_vendor} {dmi_product or ""}'.strip())
    versions = {
        'ztrace': _run_text([ztrace, 'version']),
        'bpftrace': _run_text(['bpftrace', '--version']) if shutil.which('bpftrace') else None,
        'strace': (_run_text(['strace', '-V']) or '').split('\n')[0] or None
        if shutil.which('strace') else None,
        'libbpf-tools': _run_text(['dpkg-query', '-W', '-f', '${Version}', 'libbpf-tools']),
    }
    return {
        'kernel': platform.release(),
        'cpu': cpu,
        'cpus': os.cpu_count(),
        'vm': bool(evidence),
        'vm_evidence': evidence,
        'container': virt_ct,
        'loadavg_1m': round(os.getloadavg()[0], 2),
        'other_bpf_tracers': other_bpf_tracers(),
        'versions': versions,
    }


def environment_now(env):
    """env with the load and the other BPF tracers of this moment."""
    return dict(env, loadavg_1m=round(os.getloadavg()[0], 2),
                other_bpf_tracers=other_bpf_tracers())


def describe_environment(env):
    """One line for the top of each table (two with a warning)."""
    vm = 'yes (' + '; '.join(env['vm_evidence']) + ')' if env['vm'] else 'no'
    ct = '' if env['container'] == 'none' else f', container {env["container"]}'
    line = (f'kernel {env["kernel"]}, CPU {env["cpu"]} x{env["cpus"]}, VM: {vm}{ct}, '
            f'load average {env["loadavg_1m"]}')
    if env['other_bpf_tracers']:
        line += ('\nWARNING: other BPF tracers were running, their programs add to these '
                 'numbers: ' + '; '.join(f'{t["pid"]} {t["cmd"]}'
                                         for t in env['other_bpf_tracers'][:5]))
    return line


class Proc:
    """A child process whose stdout and stderr are read by threads into timestamped lines, so
    the benchmark can wait for a line and know when it was printed. stdin is a pipe (targets
    and empty_probe wait on it) unless stdin=None; stdout may be redirected to a file."""

    def __init__(self, argv, stdout=subprocess.PIPE, stdin=subprocess.PIPE, env=None):
        self.argv = argv
        self.name = os.path.basename(argv[0])
        self.lines = {'out': [], 'err': []}
        self.cond = threading.Condition()
        self.start = time.monotonic()
        self.p = subprocess.Popen(argv, stdin=stdin if stdin is not None else subprocess.DEVNULL,
                                  stdout=stdout, stderr=subprocess.PIPE, text=True, bufsize=1,
                                  env=env)
        self.pid = self.p.pid
        self.exit_time = None
        self.readers = []
        for key, stream in (('out', self.p.stdout), ('err', self.p.stderr)):
            if stream is not None:
                t = threading.Thread(target=self._read, args=(key, stream), daemon=True)
                t.start()
                self.readers.append(t)

    def _read(self, key, stream):
        for line in stream:
            with self.cond:
                self.lines[key].append((time.monotonic(), line.rstrip('\n')))
                self.cond.notify_all()
        with self.cond:
            self.cond.notify_all()

    def text(self, key=None):
        """Everything printed so far on one stream ('out', 'err') or both."""
        keys = [key] if key else ['out', 'err']
        with self.cond:
            return '\n'.join(l for k in keys for _, l in self.lines[k])

    def wait_line(self, pattern, key=None, timeout=READY_TIMEOUT_S):
        """Waits for a line matching the regex pattern; returns (time printed, match). Raises
        BenchError when the process exits first or the timeout passes."""
        rx = re.compile(pattern)
        keys = [key] if key else ['out', 'err']
        deadline = time.monotonic() + timeout
        seen = {k: 0 for k in keys}
        with self.cond:
            while True:
                for k in keys:
                    for ts, line in self.lines[k][seen[k]:]:
                        m = rx.search(line)
                        if m:
                            return ts, m
                    seen[k] = len(self.lines[k])
                left = deadline - time.monotonic()
                if self.p.poll() is not None and not any(t.is_alive() for t in self.readers):
                    raise BenchError(f'{self.name} exited ({self.p.returncode}) before printing '
                                     f'/{pattern}/: {self.text()[-600:]}')
                if left <= 0:
                    raise BenchError(f'{self.name}: no /{pattern}/ after {timeout}s: '
                                     f'{self.text()[-600:]}')
                self.cond.wait(min(left, 0.2))

    def send(self, data='g'):
        """Writes to stdin (the go byte of a waiting target)."""
        self.p.stdin.write(data)
        self.p.stdin.flush()

    def close_stdin(self):
        if self.p.stdin and not self.p.stdin.closed:
            try:
                self.p.stdin.close()
            except BrokenPipeError:
                pass

    def send_signal(self, sig=signal.SIGINT):
        if self.p.poll() is None:
            try:
                os.kill(self.pid, sig)
            except ProcessLookupError:
                pass

    def wait(self, timeout=EXIT_TIMEOUT_S):
        """Waits for exit and for the output to be read; kills the process after timeout and
        raises BenchError. Returns the exit code."""
        try:
            rc = self.p.wait(timeout)
        except subprocess.TimeoutExpired:
            self.kill()
            raise BenchError(f'{self.name} did not exit within {timeout}s')
        self.exit_time = self.exit_time or time.monotonic()
        for t in self.readers:
            t.join(5)
        return rc

    def stop(self, sig=signal.SIGINT, timeout=EXIT_TIMEOUT_S):
        """Signals the process (SIGINT by default) unless it has exited, then waits."""
        self.close_stdin()
        self.send_signal(sig)
        return self.wait(timeout)

    def kill(self, wait=True):
        """SIGKILL, for cleanup after a failure. wait=False does not wait for the exit, which
        for a tracer still detaching uprobes can take minutes."""
        if self.p.poll() is None:
            try:
                os.kill(self.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
            if wait:
                self.p.wait()


def start_target(argv):
    """Starts a target that prints "ready PID" and waits for a byte on stdin; returns it once
    it is waiting."""
    t = Proc(argv)
    t.wait_line(r'^ready (\d+)', 'out', timeout=30)
    return t


def parse_rounds(text):
    """The rounds a bench_call/bench_syscall target printed: lists of wall and CPU ns per call
    and the total number of calls (the warm-up's included: a tracer sees them too)."""
    wall, cpu, calls = [], [], 0
    for line in text.splitlines():
        m = ROUND_RE.match(line)
        if m:
            calls += int(m.group(2))
            if m.group(1) != 'warmup':
                wall.append(float(m.group(3)))
                cpu.append(float(m.group(4)))
    return wall, cpu, calls


def combine_runs(runs):
    """Pools the rounds of several runs of one configuration: medians over every round, the
    per-run medians, total calls, and whether every run's count check held."""
    wall = [x for r in runs for x in r['rounds_ns']]
    cpu = [x for r in runs for x in r['rounds_cpu_ns']]
    res = {'ns_per_call': median(wall), 'cpu_ns_per_call': median(cpu), 'runs': len(runs),
           'calls': sum(r['calls'] for r in runs),
           'run_cpu_medians': [median(r['rounds_cpu_ns']) for r in runs],
           'rounds_ns': wall, 'rounds_cpu_ns': cpu}
    checks = [r['count_exact'] for r in runs if 'count_exact' in r]
    if checks:
        res['count_exact'] = all(checks)
        bad = [r for r in runs if not r.get('count_exact', True)]
        res['count_detail'] = bad[0].get('count_detail') if bad else None
    exits = [r['tracer_exit'] for r in runs if 'tracer_exit' in r]
    if exits:
        res['tracer_exit'] = exits[0]
    return res


def parse_events(text):
    """(delivered, lost) from ztrace's summary line, or (None, None)."""
    m = EVENTS_RE.search(text)
    return (int(m.group(1)), int(m.group(2))) if m else (None, None)


def parse_kernel_calls(text, function):
    """The CALLS column of function's row when ztrace's summary says the calls were counted in
    the kernel (it switched to in-kernel aggregation under overload), else None."""
    if '(calls counted in the kernel' not in text:
        return None
    m = re.search(r'^' + re.escape(function) + r'\s+(\d+)\s', text, re.M)
    return int(m.group(1)) if m else None


def parse_otlp(text):
    """(sent, dropped, failed) from ztrace's otlp summary line, or None."""
    m = OTLP_RE.search(text)
    return tuple(int(g) for g in m.groups()) if m else None


def proc_cpu_s(pid):
    """User + system CPU seconds a process has used so far (from /proc/PID/stat)."""
    with open(f'/proc/{pid}/stat') as f:
        fields = f.read().rsplit(')', 1)[1].split()
    # fields[0] is the state (field 3 of stat); utime and stime are fields 14 and 15.
    return (int(fields[11]) + int(fields[12])) / os.sysconf('SC_CLK_TCK')


def proc_status_kb(pid, key):
    """A kB value (VmHWM, VmRSS) from /proc/PID/status, or None."""
    try:
        with open(f'/proc/{pid}/status') as f:
            for line in f:
                if line.startswith(key + ':'):
                    return int(line.split()[1])
    except OSError:
        pass
    return None


def proc_mapped_rss_kb(pid, name):
    """Resident kB of the mappings of a process whose name contains name (e.g. the BPF ring
    buffer, "anon_inode:bpf-map"), from /proc/PID/smaps; None when unreadable."""
    total, match = 0, False
    try:
        with open(f'/proc/{pid}/smaps') as f:
            for line in f:
                if re.match(r'^[0-9a-f]+-[0-9a-f]+ ', line):
                    match = name in line
                elif match and line.startswith('Rss:'):
                    total += int(line.split()[1])
    except OSError:
        return None
    return total


class OtlpSink:
    """An OTLP/HTTP endpoint on 127.0.0.1 that accepts and discards every request, counting
    requests and bytes: the pipeline benchmark's receiver, as cheap as a receiver can be."""

    def __init__(self):
        import http.server

        sink = self

        class Handler(http.server.BaseHTTPRequestHandler):
            protocol_version = 'HTTP/1.1'

            def do_POST(self):
                n = int(self.headers.get('Content-Length', 0))
                self.rfile.read(n)
                with sink.lock:
                    sink.requests += 1
                    sink.bytes += n
                self.send_response(200)
                self.send_header('Content-Type', 'application/x-protobuf')
                self.send_header('Content-Length', '0')
                self.end_headers()

            def log_message(self, *args):
                pass

        self.lock = threading.Lock()
        self.requests = 0
        self.bytes = 0
        self.server = http.server.ThreadingHTTPServer(('127.0.0.1', 0), Handler)
        self.url = f'http://127.0.0.1:{self.server.server_address[1]}'
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def close(self):
        self.server.shutdown()
        self.server.server_close()


def traced_run(target_argv, tracer_argv=None, ready=None, stop='sigint', target_timeout=120,
               tracer_stdout=subprocess.PIPE, tracer_env=None, on_ready=None):
    """Runs one measurement: starts the target waiting for its go byte, starts the tracer
    (tracer_argv is a function of the target's pid, or None for an untraced run) and waits
    for its ready line (ready = (regex, 'out'|'err')), lets the target go and waits for it, then
    ends the tracer: stop='exit' (it exits with its target), 'stdin' (close its stdin) or
    'sigint'. on_ready(target, tracer) runs just before the go byte. Returns (target, tracer,
    seconds from tracer start to ready). On failure kills both and raises BenchError."""
    target = start_target(target_argv)
    pid = int(target.wait_line(r'^ready (\d+)', 'out')[1].group(1))
    tracer = None
    attach_s = None
    try:
        if tracer_argv:
            tracer = Proc(tracer_argv(pid), stdout=tracer_stdout,
                          stdin=subprocess.PIPE if stop == 'stdin' else None, env=tracer_env)
            ts, _ = tracer.wait_line(ready[0], ready[1])
            attach_s = ts - tracer.start
        if on_ready:
            on_ready(target, tracer)
        target.send()
        target.close_stdin()
        rc = target.wait(target_timeout)
        if rc != 0:
            raise BenchError(f'{target.name} exited {rc}: {target.text()[-400:]}')
        if tracer:
            if stop == 'sigint':
                tracer.send_signal(signal.SIGINT)
            elif stop == 'stdin':
                tracer.close_stdin()
            tracer.wait()
    except BaseException:
        target.kill()
        if tracer:
            tracer.kill()
        raise
    return target, tracer, attach_s


def measure_interleaved(ctx, label, tools, measure_once):
    """ctx.runs passes over tools, each pass running every tool once in turn, so that a drift
    of the machine during the benchmark lands on every tool alike. measure_once(tool) returns
    one run's result, None when the tool is not available, or raises BenchError. Returns
    {tool: pooled result (combine_runs), {'skipped': ...} or {'error': ...}}."""
    runs = {t: [] for t in tools}
    out = {}
    for _ in range(ctx.runs):
        for tool in tools:
            if tool in out:
                continue
            try:
                r = measure_once(tool)
            except BenchError as e:
                out[tool] = {'error': str(e)}
                print(f'  {label}/{tool}: {e}', flush=True)
                continue
            if r is None:
                out[tool] = {'skipped': 'not available'}
            else:
                runs[tool].append(r)
    for tool in tools:
        if tool not in out:
            out[tool] = combine_runs(runs[tool])
    return out


def add_ratios(tools, refs):
    """Adds, to each tool's pooled result, its added cost over 'none' (wall and CPU) and its
    added cost relative to each reference tool's (x_REF, x_REF_cpu)."""
    base = tools['none']
    for t in tools.values():
        if t.get('ns_per_call') is not None and base.get('ns_per_call') is not None:
            t['added_ns'] = t['ns_per_call'] - base['ns_per_call']
            t['added_cpu_ns'] = t['cpu_ns_per_call'] - base['cpu_ns_per_call']
    for name, t in tools.items():
        if name == 'none':
            continue
        for ref in refs:
            t[f'vs_{ref}'] = ratio(t.get('added_ns'), tools[ref].get('added_ns'))
            t[f'vs_{ref}_cpu'] = ratio(t.get('added_cpu_ns'), tools[ref].get('added_cpu_ns'))
