/* SPDX-License-Identifier: MIT */
/* Every limit ztrace enforces, shared by the BPF programs and the agent. */
#ifndef ZTRACE_LIMITS_H
#define ZTRACE_LIMITS_H

/* Open traced calls kept per thread; deeper calls are counted as overflow, not recorded. */
#define ZT_MAX_DEPTH 32
/* The kernel's MAX_URETPROBE_DEPTH (include/linux/uprobes.h): deeper calls get no uretprobe. */
#define ZT_URETPROBE_MAX_DEPTH 64
/* Distinct probes (function or syscall ids) one run can attach; indexes the stats arrays. */
#define ZT_MAX_PROBES 4096
/* Shortest -d accepted, in seconds: below a millisecond nothing could be traced. */
#define ZT_MIN_DURATION_S 0.001
/* Longest -d accepted, in seconds (a year). */
#define ZT_MAX_DURATION_S (365.0 * 24 * 3600)
/* Default for --max-probes: a glob matching more functions than this is refused. */
#define ZT_DEFAULT_MAX_PROBES 1000
/* Functions named in the warning about functions the kernel would not probe; the rest counted. */
#define ZT_REFUSED_SHOWN 5
/* Threads with a span stack at once (BPF hash map size). */
#define ZT_MAX_THREADS 16384
/* Processes the kernel filter can hold. */
#define ZT_MAX_TARGETS 1024
/* Scripts followed to their interpreter ("#!" lines), as the kernel's BINPRM recursion limit. */
#define ZT_MAX_INTERP_DEPTH 4
/* Executable files the kernel selects processes by at their exec (the agent's exe rules). */
#define ZT_MAX_EXEC_FILES 1024
/* Ring buffer size in bytes (power of two, multiple of the page size). */
#define ZT_RINGBUF_BYTES (4u << 20)
/* The consumer is woken at most once per this many bytes of backlog; otherwise it polls. */
#define ZT_RINGBUF_WAKEUP_BYTES (ZT_RINGBUF_BYTES / 8)
/* Backlog at which the overload governor switches to in-kernel aggregation. */
#define ZT_OVERLOAD_RINGBUF_BYTES (ZT_RINGBUF_BYTES / 2)
/* Span lines are flushed in batches of at most this many bytes plus one line, ending at a line
 * boundary: below PIPE_BUF (4096), so a pipe never interleaves a target's output into them. */
#define ZT_OUT_FLUSH_BYTES 3072
/* stdout's buffer when it is not a terminal: a batch and the longest line fit. */
#define ZT_OUT_BUF_BYTES 16384
/* How often the consumer drains the ring buffer when nobody woke it, in milliseconds. */
#define ZT_POLL_INTERVAL_MS 10
/* Records the consumer takes from the ring buffer before it looks at its clock, signals and
 * the ring buffer's fill again (about 10 ms of work). */
#define ZT_DRAIN_BATCH_RECORDS 16384
/* How often the metrics registry is refreshed from the kernel's aggregates, in ms. */
#define ZT_METRICS_REFRESH_MS 1000
/* Syscall numbers the syscall tracer knows (x86_64 has fewer than this). */
#define ZT_MAX_SYSCALLS 512
/* Log2 latency histogram buckets: bucket i counts durations in [2^(i-1), 2^i) ns. */
#define ZT_HIST_BUCKETS 64
/* (process, probe) pairs with in-kernel aggregates at once. */
#define ZT_MAX_AGGS 16384
/* (process, syscall, errno) triples counted at once. */
#define ZT_MAX_ERRNO_KEYS 16384
/* --capture: integer arguments are the first this many System V x86-64 argument registers
 * (di, si, dx, cx, r8, r9), read at entry. */
#define ZT_ARGS_MAX 6
/* --capture: strings one probe may capture. */
#define ZT_ARGS_MAX_STRS 2
/* --capture: bytes of a string kept when the spec gives no /LEN, and the most a spec may ask;
 * a longer string is cut there and marked truncated. */
#define ZT_ARG_STR_DEFAULT 32
#define ZT_ARG_STR_MAX	   64
/* --capture: calls with captured arguments open at once (kept by span id until they return);
 * a call past this is traced without its arguments and counted. */
#define ZT_MAX_ARG_SLOTS 8192
/* Length of a task's comm, as in the kernel. */
#define ZT_COMM_LEN 16

/* Record file: a block is compressed and written once this much payload is buffered. */
#define ZT_STORE_BLOCK_BYTES (64u << 10)
/* Record file: largest uncompressed block a reader accepts; a larger length is corruption. */
#define ZT_STORE_BLOCK_MAX (16u << 20)
/* Record file: largest single entry (a span, a process, a metric snapshot) in bytes. */
#define ZT_STORE_ENTRY_MAX (4u << 20)
/* Record file: bytes of the host name kept in the header, NUL included. */
#define ZT_STORE_HOSTNAME_LEN 72
/* ztrace report: spans printed per trace tree; the rest of a tree is summarised as a count. */
#define ZT_TRACE_TREE_MAX_LINES 200
/* ztrace report: slowest traces shown as trees when --top is not given. */
#define ZT_REPORT_DEFAULT_TOP 5

/* Bytes read from /proc/PID/cmdline or /proc/PID/environ; the rest is ignored. */
#define ZT_PROC_FILE_MAX (1u << 20)
/* OTLP export: spans waiting to be sent; a span submitted to a full queue is dropped, counted. */
#define ZT_OTLP_DEFAULT_QUEUE_SPANS 8192
/* At exit, how long queued spans may take to reach the OTLP endpoint before they count dropped. */
#define ZT_OTLP_EXIT_FLUSH_MS 5000
/* OTLP export: spans per request at most (the OpenTelemetry SDKs' default batch size). */
#define ZT_OTLP_DEFAULT_BATCH_SPANS 512
/* OTLP export: a partial batch is sent after this many milliseconds. */
#define ZT_OTLP_DEFAULT_BATCH_MS 1000
/* OTLP export: a batch still not accepted after this many milliseconds of retries is failed. */
#define ZT_OTLP_DEFAULT_GIVE_UP_MS 30000
/* OTLP export: one request may take this long in total (OTEL_EXPORTER_OTLP_TIMEOUT default). */
#define ZT_OTLP_DEFAULT_TIMEOUT_MS 10000
/* OTLP export: TCP (and TLS) connection set-up limit per request. */
#define ZT_OTLP_CONNECT_TIMEOUT_MS 2000
/* OTLP export: first retry delay, doubled on each retry up to the maximum. */
#define ZT_OTLP_BACKOFF_INITIAL_MS 200
#define ZT_OTLP_BACKOFF_MAX_MS 5000
/* OTLP export: resource attributes per process; entries past this are counted as dropped. */
#define ZT_OTLP_MAX_RESOURCE_ATTRS 64
/* OTLP export: processes whose resource is kept while none of their spans are queued. */
#define ZT_OTLP_PROC_CACHE 64

/* Longest GNU build-id note accepted, in bytes (SHA-1, the longest ld produces). */
#define ZT_BUILD_ID_MAX_BYTES 20
/* Largest /proc/PID/maps read, in bytes; a larger one is refused with -EFBIG. */
#define ZT_PROCMAPS_MAX_BYTES (64u << 20)
/* Largest /etc/ld.so.cache read, in bytes. */
#define ZT_LDCACHE_MAX_BYTES (64u << 20)
/* Objects (the program and its libraries) one library resolution walks at most. */
#define ZT_LIBRESOLVE_MAX_OBJECTS 1024

/* Metrics: an exited process's series stay for one more scrape; without a scrape, this long. */
#define ZT_METRICS_EXITED_GRACE_S 600
/* Metrics HTTP server: clients served at once; more wait in the listen backlog. */
#define ZT_HTTP_MAX_CONNECTIONS 16
/* Metrics HTTP server: pending connections the kernel queues for accept(). */
#define ZT_HTTP_LISTEN_BACKLOG 64
/* Metrics HTTP server: an idle client connection is closed after this many seconds. */
#define ZT_HTTP_CONNECTION_TIMEOUT_S 10
/*
 * Metrics: an exited process's series stay at least this long (and for one scrape at least),
 * so every scraper at Prometheus's default 1 min interval, not only the first, sees the final
 * values (HA pairs, a person running curl).
 */
#define ZT_METRICS_EXITED_LINGER_S 60
/*
 * Metrics: the retention that can be asked for instead (agent metrics_retention, trace
 * --metrics-retention), at most half the grace period: a series unscraped through the grace
 * period is freed unshown, and the retention must end well before it.
 */
#define ZT_METRICS_MIN_RETENTION_NS 1000000000ull
#define ZT_METRICS_MAX_RETENTION_NS ((uint64_t)ZT_METRICS_EXITED_GRACE_S / 2 * 1000000000ull)

/* Overhead governor: how often probe costs are measured and sampling decided, in ms. */
#define ZT_GOVERNOR_INTERVAL_MS 1000
/* Overhead governor: default probe budget, BPF run time per second of one CPU (2%). */
#define ZT_GOVERNOR_DEFAULT_BUDGET_NS (20ull * 1000 * 1000)
/* Overhead governor: sampling goes no sparser than 1 call in 2^this. */
#define ZT_GOVERNOR_MAX_SHIFT 16
/* Overhead governor: sampling is relaxed only as far as the cost at the denser rate stays this
 * many times under budget (hysteresis: no flapping around the budget). */
#define ZT_GOVERNOR_LIFT_FACTOR 4

/* Agent config: a config file larger than this many bytes is refused. */
#define ZT_AGENT_CONFIG_MAX_BYTES (1u << 20)
/*
 * YAML files: collections nested deeper than this are refused before libyaml builds the
 * document (its scanner takes time quadratic in the depth of nested flow collections).
 */
#define ZT_YAML_MAX_DEPTH 32
/*
 * YAML files: anchors ("&name") and aliases ("*name") one file may hold, of each (libyaml looks
 * each new anchor and each alias up among all anchors).
 */
#define ZT_YAML_MAX_REFS 256
/* Agent config: rules one file may hold. */
#define ZT_AGENT_MAX_RULES 256
/* Agent config: default and smallest max_memory (the agent's cache budget), in bytes. */
#define ZT_AGENT_DEFAULT_MAX_MEMORY (64ull << 20)
#define ZT_AGENT_MIN_MEMORY (4ull << 20)
/* Agent config: default size at which the record file is rotated, and the smallest allowed. */
#define ZT_AGENT_DEFAULT_RECORD_MAX_SIZE (256ull << 20)
#define ZT_AGENT_MIN_RECORD_SIZE (1ull << 20)
/* Agent config: rotated record files kept by default, and at most. */
#define ZT_AGENT_DEFAULT_RECORD_KEEP 3
#define ZT_AGENT_MAX_RECORD_KEEP 100
/*
 * Record file rotation: process entries kept to start every new file with (so each file
 * reports on its own), in bytes; past it the oldest are forgotten (counted in the stats).
 */
#define ZT_STORE_REPLAY_MAX_BYTES (4u << 20)
/* Container ids: hex digits of a full id, and the shortest prefix a rule may give (docker ps). */
#define ZT_CONTAINER_ID_LEN 64
#define ZT_CONTAINER_ID_MIN_PREFIX 12
/* Kubernetes: characters of a pod uid (a UUID), and of a namespace or pod name (DNS subdomain). */
#define ZT_K8S_POD_UID_LEN 36
#define ZT_K8S_NAME_MAX 253

#endif
