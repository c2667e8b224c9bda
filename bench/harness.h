/* harness.h — the measuring half of dt's bench: timers, the engine every case
 * runs on, the case and curve tables, and how each is measured and printed.
 * bench.c (the cases and main) and lttng_peer.c include it; the convention
 * for writing cases is at the top of bench.c.
 *
 * Include after dt.h (and dt_query.h / dt_stateful.h when present), in the
 * file that defines DT_IMPLEMENTATION. */
#ifndef BENCH_HARNESS_H
#define BENCH_HARNESS_H

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* Helpers for case files; a build without those files does not use them. */
#if defined(__GNUC__) || defined(__clang__)
#define BENCH_HELPER static __attribute__((unused))
#else
#define BENCH_HELPER static
#endif

/* >>cases ----------------------------------------------------------------*/

typedef struct bench_case {
    const char *name;        /* the row's label */
    double target_ns;        /* median over the empty loop must be at most this; 0: no target */
    /* Builds the state for param (keys, rules, ...): usually
     * bench_engine(program). 0 when ready; otherwise bench_skip(why) first. */
    int (*setup)(uint64_t param);
    /* n events with indexes first .. first+n-1, in a tight loop
     * (BENCH_LOOP). Runs on two threads at once for the 2-thread column
     * (their indexes do not overlap). */
    void (*run)(uint64_t first, uint64_t n);
    /* NULL when the runs had the effect they should (read bench_stats();
     * events is every event run() was asked for), else what went wrong.
     * bench-smoke fails on it. May be NULL. */
    const char *(*check)(const dt_stats *s, uint64_t events);
    uint64_t param;          /* passed to setup */
    unsigned flags;          /* BENCH_* below */
} bench_case;

enum {
    BENCH_ONE_THREAD = 1,    /* no 2-thread measurement (single-threaded by nature) */
    BENCH_SCALES = 2         /* target: 2 threads >= 1.8x one thread */
};

#define BENCH_MAX_POINTS 8

/* A curve: one case measured at each x (its setup gets x as param). Curves
 * with the same plot are drawn together in docs/img/<plot>.png. */
typedef struct bench_curve {
    const char *plot;        /* PNG name (no extension) */
    /* Title, axes and scale: the plot's first series gives them (later
     * series of the plot may leave them NULL, 0). */
    const char *title;
    const char *x_label;     /* e.g. "deployed rules" */
    const char *y_label;     /* e.g. "ns per event" */
    double y_scale;          /* ns are multiplied by it (1e-6: ms); 0 means 1 */
    const char *series;      /* this line's label */
    bench_case c;
    uint64_t xs[BENCH_MAX_POINTS];   /* ascending; a 0 ends the list early */
} bench_curve;

#define BENCH_END { NULL, 0, NULL, NULL, NULL, 0, 0 }
#define BENCH_CURVE_END { NULL, NULL, NULL, NULL, 0, NULL, BENCH_END, { 0 } }

/* A compiler barrier in every iteration: keeps loops loops (not merged or
 * removed), and the empty loop comparable. */
static inline uint64_t bench_next(uint64_t i) {
    __asm__ __volatile__("" ::: "memory");
    return i + 1;
}
#define BENCH_LOOP(i, first, n) for ((i) = (first); (i) < (first) + (n); (i) = bench_next(i))

/* The usual run(): one DT_EMIT per index i (its own call site), e.g.
 *     BENCH_RUN_SITE(run_x, DT_INFO, "BenchX", DT_U64("v", i))          */
#define BENCH_RUN_SITE(fn, level, ...)                        \
    static void fn(uint64_t first, uint64_t n) {              \
        uint64_t i;                                           \
        BENCH_LOOP(i, first, n) DT_EMIT((level), __VA_ARGS__); \
    }

/* >>clock ----------------------------------------------------------------
 * A cheap cycle counter for per-call latency (rdtsc on x86, the virtual
 * counter on arm64, else the monotonic clock), converted to ns by a ratio
 * measured against the monotonic clock at start. */
static double bench_now_ns(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1e9 + (double)ts.tv_nsec;
}

#if defined(__x86_64__) || defined(__i386__)
static inline uint64_t bench_cycles(void) {
    uint32_t lo, hi;
    __asm__ __volatile__("rdtsc" : "=a"(lo), "=d"(hi));
    return ((uint64_t)hi << 32) | lo;
}
#define BENCH_COUNTER "rdtsc"
#elif defined(__aarch64__)
static inline uint64_t bench_cycles(void) {
    uint64_t v;
    __asm__ __volatile__("isb; mrs %0, cntvct_el0" : "=r"(v));
    return v;
}
#define BENCH_COUNTER "cntvct_el0"
#else
static inline uint64_t bench_cycles(void) { return (uint64_t)bench_now_ns(); }
#define BENCH_COUNTER "clock_gettime"
#endif

static double bench_ns_per_cycle = 1.0;
static uint64_t bench_cycle_step;    /* smallest step the counter moves by */

/* The counter's rate against the monotonic clock, and its granularity: a
 * virtual machine's TSC may move in steps of many ticks, which bounds the
 * resolution of the latency columns. */
static void bench_calibrate_cycles(void) {
    double t0 = bench_now_ns(), t1;
    uint64_t c0 = bench_cycles(), c1, step = UINT64_MAX;
    int i;
    do t1 = bench_now_ns(); while (t1 - t0 < 20e6);
    c1 = bench_cycles();
    if (c1 > c0) bench_ns_per_cycle = (t1 - t0) / (double)(c1 - c0);
    for (i = 0; i < 100000; i++) {
        uint64_t a = bench_cycles(), b = bench_cycles();
        if (b > a && b - a < step) step = b - a;
    }
    bench_cycle_step = step == UINT64_MAX ? 1 : step;
}

/* >>engine ---------------------------------------------------------------
 * Every case's engine: no-op sinks, a fixed clock (reading the system clock
 * is its own case), a counting allocator (the memory column), every
 * processor this build has, and DT_EMIT sites bound to it. */
static dt_engine *g_bench_engine;
static int g_bench_no_timestamps;    /* the next engine leaves ts 0 */
static int g_bench_real_clock;       /* the next engine uses the default clock */
static volatile uint64_t g_bench_metrics;
static char g_bench_skip[320];

typedef struct bench_mem { size_t now, peak; } bench_mem;
static bench_mem g_bench_mem;
static pthread_mutex_t g_bench_mem_lock = PTHREAD_MUTEX_INITIALIZER;

/* Allocation is not on the emit path; a mutex is cheap enough here. */
static void *bench_alloc(size_t size, void *ud) {
    size_t *p = (size_t *)malloc(size + 16);
    (void)ud;
    if (!p) return NULL;
    p[0] = size;
    pthread_mutex_lock(&g_bench_mem_lock);
    g_bench_mem.now += size;
    if (g_bench_mem.now > g_bench_mem.peak) g_bench_mem.peak = g_bench_mem.now;
    pthread_mutex_unlock(&g_bench_mem_lock);
    return (char *)p + 16;
}

static void bench_free(void *ptr, void *ud) {
    size_t *p;
    (void)ud;
    if (!ptr) return;
    p = (size_t *)(void *)((char *)ptr - 16);
    pthread_mutex_lock(&g_bench_mem_lock);
    g_bench_mem.now -= p[0];
    pthread_mutex_unlock(&g_bench_mem_lock);
    free(p);
}

static void bench_event_sink(const dt_event *ev, void *ud) { (void)ev; (void)ud; }
static void bench_metric_sink(const dt_metric *m, void *ud) { (void)m; (void)ud; g_bench_metrics++; }
static int64_t bench_fixed_clock(void *ud) { (void)ud; return 1; }

static int bench_skip(const char *why) {
    snprintf(g_bench_skip, sizeof g_bench_skip, "%s", why);
    return 1;
}

static void bench_register_processors(dt_engine *e);   /* bench.c: every processor of this build */

/* Deploys program on the case's engine: 0, or nonzero with the error as
 * the skip reason (for programs of processors still being written). */
static int bench_try_deploy(const char *program) {
    dt_error err;
    if (dt_deploy(g_bench_engine, program, strlen(program), &err) == DT_OK) return 0;
    snprintf(g_bench_skip, sizeof g_bench_skip, "deploy refused: %d:%d: %s", err.line, err.column, err.message);
    return 1;
}

/* Deploys program; exits on failure: a core case that cannot deploy its
 * program is a broken bench. */
static void bench_deploy(const char *program) {
    if (bench_try_deploy(program)) {
        fprintf(stderr, "bench: %s\n%.300s\n", g_bench_skip, program);
        exit(1);
    }
}

/* Creates the engine and binds the sites to it. Host actions a program
 * calls are registered between bench_new_engine() and the deploy. */
static dt_engine *bench_new_engine(void) {
    dt_desc d;
    memset(&d, 0, sizeof d);
    d.allocator.alloc = bench_alloc;
    d.allocator.free = bench_free;
    d.sinks.event = bench_event_sink;
    d.sinks.metric = bench_metric_sink;
    d.self_interval_ns = -1;
    d.max_risk = DT_RISK_HIGH;       /* the action case calls a host action */
    d.max_program_text = 8u << 20;
    d.max_program_bytes = (size_t)256 << 20;
    if (!g_bench_real_clock) d.clock.now = bench_fixed_clock;
    d.no_timestamps = g_bench_no_timestamps;
    g_bench_engine = dt_create(&d);
    if (!g_bench_engine) { fprintf(stderr, "bench: dt_create failed\n"); exit(1); }
    bench_register_processors(g_bench_engine);
    dt_bind_sites(g_bench_engine);   /* before deploying, as hosts should: every site gets a route */
    return g_bench_engine;
}

/* A new engine running program (NULL: none); exits if it is refused. */
static dt_engine *bench_engine(const char *program) {
    bench_new_engine();
    if (program) bench_deploy(program);
    return g_bench_engine;
}

/* A new engine running program; nonzero (and the skip reason set) if the
 * program is refused: setup returns it. */
BENCH_HELPER int bench_engine_try(const char *program) {
    bench_new_engine();
    return bench_try_deploy(program);
}

/* Program text for the scaling cases: head, then line(i) for i in 0..n-1;
 * line may use %llu up to three times, each replaced by i. One buffer,
 * reused; a program that does not fit is a broken bench. */
#define BENCH_PROGRAM_BYTES (6u << 20)
static char g_bench_program[BENCH_PROGRAM_BYTES];

static const char *bench_program(const char *head, const char *line, uint64_t n) {
    size_t used = (size_t)snprintf(g_bench_program, sizeof g_bench_program, "%s\n", head);
    uint64_t i;
    for (i = 0; i < n && used < sizeof g_bench_program; i++) {
        unsigned long long v = (unsigned long long)i;
        used += (size_t)snprintf(g_bench_program + used, sizeof g_bench_program - used, line, v, v, v);
        if (used < sizeof g_bench_program) g_bench_program[used++] = '\n';
    }
    if (used >= sizeof g_bench_program) { fprintf(stderr, "bench: program of %llu lines too big\n", (unsigned long long)n); exit(1); }
    g_bench_program[used] = 0;
    return g_bench_program;
}

static dt_stats bench_stats(void) {
    dt_stats s;
    memset(&s, 0, sizeof s);
    if (g_bench_engine) dt_get_stats(g_bench_engine, &s);
    return s;
}

/* Common checks, for check() functions. */
static char g_bench_why[160];
static const char *bench_expect(const char *what, uint64_t got, uint64_t want) {
    if (got == want) return NULL;
    snprintf(g_bench_why, sizeof g_bench_why, "%s: %llu, expected %llu", what, (unsigned long long)got,
             (unsigned long long)want);
    return g_bench_why;
}

/* Deploy-time cases: setup makes an engine with no program and sets
 * g_bench_deploy_text (checking it with dt_check if it may be refused);
 * run() deploys it n times, so ns/event reads ns per deploy. */
static const char *g_bench_deploy_text;
static void bench_run_deploy(uint64_t first, uint64_t n) {
    uint64_t i;
    BENCH_LOOP(i, first, n) bench_deploy(g_bench_deploy_text);
}
static const char *bench_check_deploys(const dt_stats *s, uint64_t events) {
    return bench_expect("deploys", s->deploys, events);
}

/* >>measure --------------------------------------------------------------
 * Each case: n found so that one run takes about g_bench_run_ns, then RUNS
 * runs of n (median, min, max ns/event); per-call latency from SAMPLES
 * single events timed with the cycle counter (the empty call's median is
 * subtracted); events/s with 1 and 2 threads running n events each; the
 * engine's peak heap bytes. */
#define BENCH_RUNS 5
#define BENCH_MAX_SAMPLES 200000

typedef struct bench_result {
    double median, min, max;     /* ns/event */
    double p50, p999;            /* per-call ns, empty call subtracted */
    double mps1, mps2;           /* million events/s with 1 and 2 threads; 0: not run */
    size_t peak;                 /* engine heap bytes */
    uint64_t events;             /* every event run() was asked for */
    const char *failed;          /* the check's complaint, NULL when fine */
    int skipped;
} bench_result;

static double g_bench_run_ns = 100e6;
static uint32_t g_bench_samples = BENCH_MAX_SAMPLES;
static double g_bench_empty_call;    /* cycles of an empty run(i, 1), median */
static uint64_t g_bench_events;      /* events asked of the current case */
static uint64_t g_bench_param;       /* the current case's param, for run() */
static uint64_t g_bench_cycles[BENCH_MAX_SAMPLES];

static int bench_cmp_double(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}
static int bench_cmp_u64(const void *a, const void *b) {
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return x < y ? -1 : x > y;
}

static double bench_time(const bench_case *c, uint64_t first, uint64_t n) {
    double s = bench_now_ns();
    c->run(first, n);
    g_bench_events += n;
    return bench_now_ns() - s;
}

/* Doubles n until a run takes an eighth of the target, then scales it. */
static uint64_t bench_calibrate(const bench_case *c) {
    uint64_t n = 1;
    double t;
    for (;;) {
        t = bench_time(c, 0, n);
        if (t >= g_bench_run_ns / 8 || n >= (1u << 30)) break;
        n *= 2;
    }
    n = (uint64_t)((double)n * g_bench_run_ns / (t > 1 ? t : 1));
    return n ? n : 1;
}

static void bench_runs(const bench_case *c, uint64_t n, bench_result *r) {
    double t[BENCH_RUNS];
    int i;
    for (i = 0; i < BENCH_RUNS; i++) t[i] = bench_time(c, (uint64_t)i * n, n) / (double)n;
    qsort(t, BENCH_RUNS, sizeof t[0], bench_cmp_double);
    r->median = t[BENCH_RUNS / 2];
    r->min = t[0];
    r->max = t[BENCH_RUNS - 1];
}

/* Per-call cycles of `samples` single events, sorted. */
static void bench_sample(const bench_case *c, uint32_t samples) {
    uint32_t i;
    for (i = 0; i < samples; i++) {
        uint64_t c0 = bench_cycles();
        c->run(i, 1);
        g_bench_cycles[i] = bench_cycles() - c0;
    }
    g_bench_events += samples;
    qsort(g_bench_cycles, samples, sizeof g_bench_cycles[0], bench_cmp_u64);
}

static double bench_quantile_ns(uint32_t samples, double q) {
    double cyc = (double)g_bench_cycles[(uint32_t)(q * (samples - 1))] - g_bench_empty_call;
    return (cyc > 0 ? cyc : 0) * bench_ns_per_cycle;
}

typedef struct bench_thread { const bench_case *c; uint64_t first, n; } bench_thread;
static void *bench_thread_main(void *arg) {
    bench_thread *t = (bench_thread *)arg;
    t->c->run(t->first, t->n);
    return NULL;
}

/* Million events/s with k threads, each running n events. */
static double bench_threads(const bench_case *c, int k, uint64_t n) {
    pthread_t th[2];
    bench_thread arg[2];
    double s;
    int i;
    s = bench_now_ns();
    for (i = 0; i < k; i++) {
        arg[i].c = c;
        arg[i].first = ((uint64_t)i + 1) << 40;
        arg[i].n = n;
        pthread_create(&th[i], NULL, bench_thread_main, &arg[i]);
    }
    for (i = 0; i < k; i++) pthread_join(th[i], NULL);
    g_bench_events += n * (uint64_t)k;
    return (double)n * k / ((bench_now_ns() - s) / 1e3);
}

static uint32_t bench_sample_count(uint64_t n) {
    uint64_t s = n < g_bench_samples ? n : g_bench_samples;
    return (uint32_t)(s ? s : 1);
}

/* Measures one case at param. full: latency and thread columns too. */
static bench_result bench_measure(const bench_case *c, uint64_t param, int full) {
    bench_result r;
    uint64_t n;
    dt_stats st;
    memset(&r, 0, sizeof r);
    g_bench_skip[0] = 0;
    g_bench_mem.peak = g_bench_mem.now;
    g_bench_events = 0;
    g_bench_param = param;
    g_bench_metrics = 0;
    if (c->setup && c->setup(param)) { r.skipped = 1; return r; }
    n = bench_calibrate(c);
    bench_runs(c, n, &r);
    if (full) {
        uint32_t samples = bench_sample_count(n);
        bench_sample(c, samples);
        r.p50 = bench_quantile_ns(samples, 0.5);
        r.p999 = bench_quantile_ns(samples, 0.999);
        r.mps1 = bench_threads(c, 1, n);
        if (!(c->flags & BENCH_ONE_THREAD)) r.mps2 = bench_threads(c, 2, n);
    }
    r.peak = g_bench_mem.peak;
    r.events = g_bench_events;
    st = bench_stats();
    r.failed = c->check ? c->check(&st, g_bench_events) : NULL;
    if (g_bench_engine) dt_destroy(g_bench_engine);
    g_bench_engine = NULL;
    g_bench_no_timestamps = g_bench_real_clock = 0;
    return r;
}

/* >>print ----------------------------------------------------------------*/

static int g_bench_failures, g_bench_skipped;
static double g_bench_empty_ns;

static void bench_header(void) {
    printf("| case | ns/event | over empty | min..max | p50 | p99.9 | M ev/s 1 thr | M ev/s 2 thr | 2/1 | peak KiB | target | met |\n");
    printf("|---|---|---|---|---|---|---|---|---|---|---|---|\n");
}

/* "yes", or by how much the case misses: ns over the target, the p99.9
 * bound (50 ns for every targeted case), the 2-thread scaling. */
static const char *bench_verdict(const bench_case *c, const bench_result *r, char *buf, size_t size) {
    double over = r->median - g_bench_empty_ns;
    size_t used = 0;
    if (c->target_ns <= 0) return "";
    buf[0] = 0;
    if (over > c->target_ns)
        used += (size_t)snprintf(buf + used, size - used, "**no** (%.1fx) ", over / c->target_ns);
    if (r->mps1 > 0 && r->p999 > 50 && used < size)
        used += (size_t)snprintf(buf + used, size - used, "**p99.9 %.0f > 50** ", r->p999);
    if ((c->flags & BENCH_SCALES) && r->mps2 > 0 && r->mps2 < 1.8 * r->mps1 && used < size)
        used += (size_t)snprintf(buf + used, size - used, "**2 thr %.2fx < 1.8x** ", r->mps2 / r->mps1);
    return used ? buf : "yes";
}

static void bench_row(const bench_case *c, const bench_result *r) {
    char target[32] = "", verdict[96], thr[48] = "| | |";
    if (r->skipped) {
        g_bench_skipped++;
        printf("| %s | skipped: %s | | | | | | | | | | |\n", c->name, g_bench_skip);
        return;
    }
    if (c->target_ns > 0) snprintf(target, sizeof target, "<= %g ns", c->target_ns);
    if (r->mps1 > 0)
        snprintf(thr, sizeof thr, "| %.1f | %s%.1f | %s%.2f", r->mps1, "", r->mps2, "", r->mps2 > 0 ? r->mps2 / r->mps1 : 0);
    if (r->mps1 > 0 && r->mps2 <= 0) snprintf(thr, sizeof thr, "| %.1f | | ", r->mps1);
    printf("| %s | %.2f | %.2f | %.2f..%.2f | %.1f | %.1f %s | %.0f | %s | %s |\n", c->name, r->median,
           r->median - g_bench_empty_ns, r->min, r->max, r->p50, r->p999, thr, (double)r->peak / 1024.0, target,
           bench_verdict(c, r, verdict, sizeof verdict));
    if (r->failed) {
        printf("\nCHECK FAILED: %s: %s\n\n", c->name, r->failed);
        g_bench_failures++;
    }
    fflush(stdout);
}

/* only: NULL (all), "=NAME" (exactly that name), or '|'-separated parts,
 * one of which name contains. */
static int bench_selected(const char *name, const char *only) {
    const char *part = only;
    if (!only) return 1;
    if (only[0] == '=') return strcmp(name, only + 1) == 0;
    for (;;) {
        const char *end = strchr(part, '|');
        size_t len = end ? (size_t)(end - part) : strlen(part), i;
        for (i = 0; len && name[i]; i++)
            if (strncmp(name + i, part, len) == 0) return 1;
        if (!end) return 0;
        part = end + 1;
    }
}

static void bench_table(const bench_case *cases, const char *only) {
    const bench_case *c;
    for (c = cases; c->name; c++) {
        bench_result r;
        if (!bench_selected(c->name, only)) continue;
        r = bench_measure(c, c->param, 1);
        bench_row(c, &r);
    }
}

/* --count N: every selected case (and curve point, named "SERIES @ X")
 * runs N events once, untimed, for instruction counts (bench/callgrind.sh
 * subtracts two such runs). */
static void bench_count_one(const bench_case *c, const char *name, uint64_t param, uint64_t n) {
    g_bench_param = param;
    if (c->setup && c->setup(param)) {
        printf("%s: skipped: %s\n", name, g_bench_skip);
    } else {
        c->run(0, n);
        printf("%s: %llu events\n", name, (unsigned long long)n);
    }
    if (g_bench_engine) dt_destroy(g_bench_engine);
    g_bench_engine = NULL;
    g_bench_no_timestamps = g_bench_real_clock = 0;
}

static void bench_count(const bench_case *cases, const char *only, uint64_t n) {
    const bench_case *c;
    for (c = cases; c->name; c++)
        if (bench_selected(c->name, only)) bench_count_one(c, c->name, c->param, n);
}

static void bench_point_name(char *buf, size_t size, const bench_curve *cv, int i) {
    snprintf(buf, size, "%s @ %llu", cv->series, (unsigned long long)cv->xs[i]);
}

static void bench_count_points(const bench_curve *curves, const char *only, uint64_t n) {
    const bench_curve *cv;
    char name[200];
    int i;
    for (cv = curves; cv->plot; cv++)
        for (i = 0; i < BENCH_MAX_POINTS && cv->xs[i]; i++) {
            bench_point_name(name, sizeof name, cv, i);
            if (only && bench_selected(name, only)) bench_count_one(&cv->c, name, cv->xs[i], n);
        }
}

/* The empty loop: its median is the "over empty" baseline and its per-call
 * median the cycle counter's own cost, subtracted from latencies. */
static void bench_empty_run(uint64_t first, uint64_t n) {
    uint64_t i;
    BENCH_LOOP(i, first, n) {}
}
static const bench_case bench_empty_case = { "empty loop", 0, NULL, bench_empty_run, NULL, 0, 0 };

static void bench_baseline(void) {
    bench_result r;
    uint32_t s = g_bench_samples;
    bench_sample(&bench_empty_case, s);
    g_bench_empty_call = (double)g_bench_cycles[s / 2];
    r = bench_measure(&bench_empty_case, 0, 1);
    g_bench_empty_ns = r.median;
    bench_row(&bench_empty_case, &r);
}

/* >>curves ---------------------------------------------------------------*/

static const char *g_bench_data_dir;   /* --data: .dat and .gp files for gnuplot */

static double bench_curve_scale(const bench_curve *cv) { return cv->y_scale > 0 ? cv->y_scale : 1.0; }

/* Plots, each by its head: the first series with a title, which gives the
 * title and axis labels (registered before any curve runs, so a filtered
 * run still labels its plots); later series only add a line. */
#define BENCH_MAX_PLOTS 32
typedef struct bench_plot { const bench_curve *head; int started; } bench_plot;
static bench_plot g_bench_plots[BENCH_MAX_PLOTS];
static int g_bench_nplots, g_bench_series;

static bench_plot *bench_plot_find(const char *plot) {
    int i;
    for (i = 0; i < g_bench_nplots; i++) if (strcmp(g_bench_plots[i].head->plot, plot) == 0) return &g_bench_plots[i];
    return NULL;
}

static void bench_plots_register(const bench_curve *curves) {
    const bench_curve *cv;
    for (cv = curves; cv->plot; cv++) {
        if (!cv->title || bench_plot_find(cv->plot)) continue;
        if (g_bench_nplots == BENCH_MAX_PLOTS) { fprintf(stderr, "bench: more than %d plots\n", BENCH_MAX_PLOTS); exit(1); }
        g_bench_plots[g_bench_nplots++].head = cv;
    }
}

static FILE *bench_data_file(const bench_curve *cv, const char *ext, const char *mode) {
    char path[512];
    if (!g_bench_data_dir) return NULL;
    snprintf(path, sizeof path, "%s/%s%s%s", g_bench_data_dir, cv->plot, ext[0] == '.' ? "" : "-", ext);
    return fopen(path, mode);
}

/* Appends this series to the plot's gnuplot script (the first series writes
 * the preamble). */
static void bench_plot_series(const bench_curve *cv, int index, int first_of_plot) {
    FILE *gp = bench_data_file(cv, ".gp", first_of_plot ? "w" : "a");
    if (!gp) return;
    if (first_of_plot)
        fprintf(gp, "set terminal png size 900,600 noenhanced\nset output '%s.png'\nset title '%s'\n"
                    "set logscale xy\nset format y '%%g'\nset xlabel '%s'\nset ylabel '%s (log scale)'\n"
                    "set key below\nset grid\nplot \\\n",
                cv->plot, cv->title, cv->x_label, cv->y_label);
    else
        fprintf(gp, ", \\\n");
    fprintf(gp, "  '%s-%d.dat' using 1:2 with linespoints title '%s'", cv->plot, index, cv->series);
    fclose(gp);
}

static void bench_run_curve(const bench_curve *cv, const bench_curve *head, int index, int first_of_plot) {
    FILE *dat = NULL;
    char name[16];
    int i;
    if (g_bench_data_dir) {
        snprintf(name, sizeof name, "%d.dat", index);
        dat = bench_data_file(cv, name, "w");
        bench_plot_series(cv, index, first_of_plot);
    }
    printf("\n%s: %s (%s)\n\n| %s | %s |\n|---|---|\n", head->title, cv->series, cv->plot, head->x_label,
           head->y_label);
    for (i = 0; i < BENCH_MAX_POINTS && cv->xs[i]; i++) {
        bench_result r = bench_measure(&cv->c, cv->xs[i], 0);
        if (r.skipped) {
            g_bench_skipped++;
            printf("| %llu | skipped: %s |\n", (unsigned long long)cv->xs[i], g_bench_skip);
            continue;
        }
        printf("| %llu | %.3g |\n", (unsigned long long)cv->xs[i], r.median * bench_curve_scale(head));
        if (dat) fprintf(dat, "%llu %g\n", (unsigned long long)cv->xs[i], r.median * bench_curve_scale(head));
        if (r.failed) { printf("\nCHECK FAILED: %s at %llu: %s\n\n", cv->series, (unsigned long long)cv->xs[i], r.failed); g_bench_failures++; }
        fflush(stdout);
    }
    if (dat) fclose(dat);
}


static void bench_curves(const bench_curve *curves, const char *only) {
    const bench_curve *cv;
    for (cv = curves; cv->plot; cv++) {
        bench_plot *p = bench_plot_find(cv->plot);
        if (!p) { fprintf(stderr, "bench: plot %s has no series with a title\n", cv->plot); exit(1); }
        if (!bench_selected(cv->plot, only) && !bench_selected(cv->series, only)) continue;
        bench_run_curve(cv, p->head, g_bench_series++, !p->started);
        p->started = 1;
    }
}

#endif /* BENCH_HARNESS_H */
