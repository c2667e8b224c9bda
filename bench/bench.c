/* bench.c — per-event cost of dt's hot paths.
 *
 *     make bench            full run (prints a Markdown table)
 *     make bench-smoke      a quick run for CI (not a speed gate)
 *
 * Each case runs N events in a tight loop, five times; the table shows the
 * median ns/event and the spread (min..max). "over empty" subtracts the cost
 * of the same loop with nothing in it. Machines are shared and noisy: read
 * ratios within one run, not absolute numbers across runs. */
#define _POSIX_C_SOURCE 200809L
#define DT_IMPLEMENTATION
#include "dt.h"
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define RUNS 5

static volatile uint64_t bench_sink_count;
static void bench_sink(const dt_event *ev, void *ud) { (void)ev; (void)ud; }
static int64_t bench_fixed_clock(void *ud) { (void)ud; return 1; }

static double now_ns(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1e9 + (double)ts.tv_nsec;
}

static int cmp_double(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

typedef void (*bench_fn)(uint64_t n);

typedef struct result { double median, min, max; } result;

static result measure(bench_fn fn, uint64_t n) {
    double t[RUNS];
    result r;
    int i;
    fn(n / 10);                                       /* warm up */
    for (i = 0; i < RUNS; i++) {
        double s = now_ns();
        fn(n);
        t[i] = (now_ns() - s) / (double)n;
    }
    qsort(t, RUNS, sizeof t[0], cmp_double);
    r.median = t[RUNS / 2];
    r.min = t[0];
    r.max = t[RUNS - 1];
    return r;
}

/* The loops. The compiler barrier keeps the empty loop a loop. */
#define BARRIER() __asm__ __volatile__("" ::: "memory")

static void loop_empty(uint64_t n) { uint64_t i; for (i = 0; i < n; i++) BARRIER(); }
static void loop_disabled(uint64_t n) {
    uint64_t i;
    for (i = 0; i < n; i++) { DT_EMIT(DT_DEBUG, "BenchDebug", DT_U64("i", i)); BARRIER(); }
}
static void loop_enabled(uint64_t n) {
    uint64_t i;
    for (i = 0; i < n; i++) { DT_EMIT(DT_INFO, "BenchInfo", DT_U64("i", i)); BARRIER(); }
}
static void loop_recorded(uint64_t n) {
    uint64_t i;
    for (i = 0; i < n; i++) { DT_EMIT(DT_DEBUG, "BenchRecorded", DT_U64("i", i)); BARRIER(); }
}

static dt_engine *g_engine;
static void loop_fn_api(uint64_t n) {
    dt_field f[1];
    dt_event ev;
    uint64_t i;
    memset(&ev, 0, sizeof ev);
    ev.name = dt_cstr("BenchApi");
    ev.id = dt_id("BenchApi");
    ev.level = DT_INFO;
    ev.ts = 1;
    ev.fields = f;
    ev.nfields = 1;
    for (i = 0; i < n; i++) { f[0] = dt_field_u64("i", i); dt_emit(g_engine, &ev); }
}

static int g_no_ts;
static dt_engine *make_engine(int timestamps, const char *program) {
    dt_desc d;
    dt_error err;
    dt_engine *e;
    memset(&d, 0, sizeof d);
    d.sinks.event = bench_sink;
    d.self_interval_ns = -1;
    if (!timestamps) d.clock.now = bench_fixed_clock;
    d.no_timestamps = g_no_ts;
    e = dt_create(&d);
    if (!e) { fprintf(stderr, "bench: dt_create failed\n"); exit(1); }
    dt_bind_sites(e);            /* before deploying, as hosts should: every site then has a route */
    if (program && dt_deploy(e, program, strlen(program), &err) != DT_OK) {
        fprintf(stderr, "bench: deploy failed: %s\n", err.message);
        exit(1);
    }
    return e;
}

static void row(const char *name, result r, double empty, const char *target) {
    printf("| %-46s | %7.2f | %7.2f | %5.2f..%-6.2f | %-9s |\n", name, r.median, r.median - empty, r.min, r.max, target);
}

/* Events/s with k threads on the enabled-site path. */
static uint64_t g_thread_n;
static void *thread_main(void *arg) { (void)arg; loop_enabled(g_thread_n); return NULL; }
static double throughput(int k, uint64_t n) {
    pthread_t th[8];
    double s;
    int i;
    g_thread_n = n;
    s = now_ns();
    for (i = 0; i < k; i++) pthread_create(&th[i], NULL, thread_main, NULL);
    for (i = 0; i < k; i++) pthread_join(th[i], NULL);
    return (double)n * k / ((now_ns() - s) / 1e9);
}

int main(int argc, char **argv) {
    uint64_t n = (argc > 1 && strcmp(argv[1], "--quick") == 0) ? 1000000u : 20000000u;
    const char *recorder = "level BenchRecorded = off\nrecorder r { record BenchRecorded capacity 64KiB }";
    result empty;
    dt_engine *e;

    printf("dt bench: %llu events per run, median of %d runs (ns/event)\n\n", (unsigned long long)n, RUNS);
    printf("| %-46s | %7s | %7s | %-12s | %-9s |\n", "case", "median", "over empty", "min..max", "target");
    printf("|%s|%s|%s|%s|%s|\n", "------------------------------------------------", "---------", "---------", "--------------", "-----------");
    empty = measure(loop_empty, n);
    row("empty loop", empty, empty.median, "");

    e = make_engine(0, NULL);
    row("disabled site (debug, threshold info)", measure(loop_disabled, n), empty.median, "<= 1 ns");
    row("enabled site, no rule, no-op sink", measure(loop_enabled, n), empty.median, "<= 5 ns");
    g_engine = e;
    row("dt_emit() function API, no program", measure(loop_fn_api, n), empty.median, "");
    dt_destroy(e);

    g_no_ts = 1;
    e = make_engine(0, NULL);
    row("enabled site, no rule, no timestamp (sink stamps)", measure(loop_enabled, n), empty.median, "");
    dt_destroy(e);
    g_no_ts = 0;

    e = make_engine(1, NULL);
    row("enabled site, no rule, default clock stamp", measure(loop_enabled, n), empty.median, "");
    dt_destroy(e);

    e = make_engine(0, "level Other = off");
    row("enabled site, program deployed, no rule on it", measure(loop_enabled, n), empty.median, "<= 5 ns");
    dt_destroy(e);

    e = make_engine(0, recorder);
    row("recorder append (site, 1 field, not exported)", measure(loop_recorded, n), empty.median, "<= 20 ns");
    dt_destroy(e);

    e = make_engine(0, NULL);
    printf("\nthroughput, enabled site, no rule: 1 thread %.1f M events/s, 2 threads %.1f M events/s\n",
           throughput(1, n) / 1e6, throughput(2, n) / 1e6);
    dt_destroy(e);
    (void)bench_sink_count;
    return 0;
}
