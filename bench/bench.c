/* bench.c — per-event cost of dt's hot paths, scaling curves, deploy time.
 *
 *     make bench            every case and curve (Markdown tables on stdout)
 *     make bench-smoke      a quick run for CI: checks each case's effect, not its speed
 *     make bench-report     bench + hyperfine + LTTng peer; rewrites docs/performance.md
 *
 *     bench [--quick] [--only TEXT] [--no-curves] [--data DIR] [--list] [--count N]
 *
 * --only runs the cases (and curves) whose name contains TEXT (or one of
 * TEXT's '|'-separated parts; "=NAME": exactly NAME); --data writes
 * each curve as DIR/<plot>-<n>.dat plus DIR/<plot>.gp for gnuplot; --count N
 * runs N events of each selected case once, untimed (bench/callgrind.sh),
 * and of each curve point --only names ("SERIES @ X", as --list shows).
 *
 * HOW EACH CASE IS MEASURED (bench/harness.h): n is grown until one run
 * takes about 100 ms (2 ms with --quick); five runs of n events give the
 * median ns/event and min..max; "over empty" subtracts the median of the
 * empty loop. p50 and p99.9 are per-call latencies: single events timed
 * with the cycle counter (rdtsc on x86), the empty call's cost subtracted.
 * Events/s are n events on one thread, then n events on each of two
 * threads at once. Peak KiB is the engine's heap high-water mark (a counting
 * allocator), program included. Shared machines are noisy: read ratios
 * within one run, and instruction counts (callgrind) across runs.
 *
 * CASE FILES: how a processor adds its cases without touching this file.
 *
 *   bench/cases_query.h     included when dt_query.h is beside dt.h
 *   bench/cases_stateful.h  included when dt_stateful.h is beside dt.h
 *
 * (a processor whose header or case file is missing is left out, and the
 * first line of the output says so).
 *
 * A case file (see cases_query.h for a full one) defines, all static:
 *
 *   static void bench_register_<p>(dt_engine *e);   registers its processors
 *   static const bench_case <p>_cases[] = { ..., BENCH_END };
 *   static const bench_curve <p>_curves[] = { ..., BENCH_CURVE_END };
 *
 * with <p> = query or stateful. A bench_case (harness.h) is
 *
 *   { "row label", target ns over empty (0: none), setup, run, check, param, flags }
 *
 *   int setup(uint64_t param)   bench_engine(program) builds the engine (no-op
 *       sinks, fixed clock, counting allocator, processors registered, sites
 *       bound, program deployed); bench_program(head, line, n) writes n rules.
 *       Return 0, or bench_skip("why") to skip the row with that reason.
 *   void run(uint64_t first, uint64_t n)   emit n events with indexes
 *       first..first+n-1 in a tight loop (BENCH_LOOP; BENCH_RUN_SITE writes
 *       the usual one-site loop); derive keys from the
 *       index without division where it matters. Called from two threads at
 *       once (disjoint indexes) unless flags has BENCH_ONE_THREAD.
 *   const char *check(const dt_stats *s, uint64_t events)   NULL when the
 *       engine did what the case claims to measure (every event dropped,
 *       counted, recorded...), else the complaint; bench_expect() helps.
 *       bench-smoke fails on a complaint: this is how CI knows a case
 *       measures what its label says.
 *
 *   flags: BENCH_ONE_THREAD, BENCH_SCALES (target: 2 threads >= 1.8x one).
 *   The harness destroys g_bench_engine after each case; keep other state
 *   in statics that setup resets. g_bench_param is the current param.
 *
 * A bench_curve is a case measured at each x of xs (setup gets x as param);
 * curves sharing a plot name are drawn on one PNG (docs/img/<plot>.png).
 * Existing plots: "rules" (cost per event vs deployed rules), "groups"
 * (cost per event vs live keys, groups or instances), "deploy" (deploy time
 * vs program size). Add series to them rather than new plots. */
#define _POSIX_C_SOURCE 200809L
#define DT_IMPLEMENTATION
#include "dt.h"

/* A processor is benched when both its header and its case file exist. */
#if defined(__has_include)
#if __has_include("dt_query.h") && __has_include("cases_query.h")
#define DT_QUERY_IMPLEMENTATION
#include "dt_query.h"
#define BENCH_HAVE_QUERY 1
#endif
#if __has_include("dt_stateful.h") && __has_include("cases_stateful.h")
#define DT_STATEFUL_IMPLEMENTATION
#include "dt_stateful.h"
#define BENCH_HAVE_STATEFUL 1
#endif
#endif
#ifndef BENCH_HAVE_QUERY
#define BENCH_HAVE_QUERY 0
#endif
#ifndef BENCH_HAVE_STATEFUL
#define BENCH_HAVE_STATEFUL 0
#endif

#include "harness.h"

#if BENCH_HAVE_QUERY
#include "cases_query.h"
#endif
#if BENCH_HAVE_STATEFUL
#include "cases_stateful.h"
#endif
#ifndef BENCH_LTTNG        /* the LTTng-UST peer: bench/lttng.sh builds with it */
#define BENCH_LTTNG 0
#endif
#if BENCH_LTTNG
#include "cases_lttng.h"
#endif

/* >>core cases ------------------------------------------------------------
 * Call sites and the function API with no program, with a program that
 * does not name the event, into a recorder, and into an action. */

BENCH_RUN_SITE(run_disabled, DT_DEBUG, "BenchDebug", DT_U64("i", i))
BENCH_RUN_SITE(run_enabled, DT_INFO, "BenchInfo", DT_U64("i", i))
BENCH_RUN_SITE(run_recorded, DT_DEBUG, "BenchRecorded", DT_U64("i", i))
BENCH_RUN_SITE(run_recorded_keyed, DT_DEBUG, "BenchKeyed", DT_U64("k", i & 63u))   /* keys 0..63, no division */
BENCH_RUN_SITE(run_fire, DT_DEBUG, "BenchFire", DT_U64("i", i))

/* dt_emit of one name, with its durable ID given (0: computed per event,
 * as adapters with dynamic names do). */
static void bench_emit_api(const char *name, uint64_t id, uint64_t first, uint64_t n) {
    dt_field f[1];
    dt_event ev;
    uint64_t i;
    memset(&ev, 0, sizeof ev);
    ev.name = dt_cstr(name);
    ev.id = id;
    ev.level = DT_INFO;
    ev.ts = 1;
    ev.fields = f;
    ev.nfields = 1;
    BENCH_LOOP(i, first, n) {
        f[0] = dt_field_u64("i", i);
        dt_emit(g_bench_engine, &ev);
    }
}
static void run_api(uint64_t first, uint64_t n) { bench_emit_api("BenchApi", dt_id("BenchApi"), first, n); }

static int setup_plain(uint64_t p) { (void)p; bench_engine(NULL); return 0; }
static int setup_no_ts(uint64_t p) { g_bench_no_timestamps = 1; return setup_plain(p); }
static int setup_clock(uint64_t p) { g_bench_real_clock = 1; return setup_plain(p); }
static int setup_other_rule(uint64_t p) { (void)p; bench_engine("level Other = off"); return 0; }
static int setup_recorder(uint64_t p) {
    (void)p;
    bench_engine("level BenchRecorded = off\nrecorder r { record BenchRecorded capacity 64KiB }");
    return 0;
}
static int setup_recorder_keyed(uint64_t keys) {
    char text[160];
    snprintf(text, sizeof text, "recorder r { record BenchKeyed by k keys %llu capacity 1KiB }",
             (unsigned long long)keys);
    bench_engine(text);
    return 0;
}

/* A minimal processor that calls an action for each matching event, so the
 * action path (rate limit included) is measured without dt_stateful.h:
 *     benchfire PATTERN ACTION                                         */
static int fire_compile(dt_compiler *c, dt_block *b) {
    dt_action_ref *ref = (dt_action_ref *)dt_compiler_alloc(c, sizeof *ref);
    dt_pattern p;
    dt_token t;
    if (!ref || dt_expect_pattern(c, &p)) return DT_ERR_SYNTAX;
    t = dt_next(c);
    if (dt_compiler_action(c, &t, ref)) return DT_ERR_SYNTAX;
    dt_block_set_state(b, ref);
    return dt_subscribe(c, b, &p, 0);
}
static void fire_on_event(dt_block *b, dt_exec *x, int tag) {
    (void)tag;
    dt_exec_action(x, *(const dt_action_ref *)dt_block_state(b), NULL, 0);
}
static const dt_processor bench_fire_processor = {
    "benchfire", DT_RISK_LOW, fire_compile, fire_on_event, NULL, NULL, NULL, NULL, NULL
};

static void noop_action(dt_engine *e, const dt_action_call *call, void *ud) { (void)e; (void)call; (void)ud; }

/* One call per second of engine time: with the fixed clock, the first event
 * runs it and every later one is refused by the rate limit. */
static int setup_action(uint64_t p) {
    dt_action_desc a;
    (void)p;
    bench_new_engine();
    memset(&a, 0, sizeof a);
    a.name = "bench_noop";
    a.fn = noop_action;
    a.rate_count = 1;
    a.rate_window_ns = 1000000000;
    a.max_args = 0;
    if (dt_action_register(g_bench_engine, &a) != DT_OK) return bench_skip("action register failed");
    bench_deploy("level BenchFire = off\nbenchfire BenchFire bench_noop");
    return 0;
}

static const char *check_disabled(const dt_stats *s, uint64_t events) {
    (void)events;
    return bench_expect("events_in (a disabled site must not reach the engine)", s->events_in, 0);
}
static const char *check_exported(const dt_stats *s, uint64_t events) {
    return bench_expect("events_exported", s->events_exported, events);
}
static const char *check_recorded(const dt_stats *s, uint64_t events) {
    const char *why = bench_expect("recorder_records", s->recorder_records, events);
    return why ? why : bench_expect("events_exported", s->events_exported, 0);
}
static const char *check_fired(const dt_stats *s, uint64_t events) {
    const char *why = bench_expect("actions_fired", s->actions_fired, 1);
    return why ? why : bench_expect("actions_suppressed", s->actions_suppressed, events - 1);
}

static const bench_case core_cases[] = {
    { "disabled site (debug, threshold info)", 1, setup_plain, run_disabled, check_disabled, 0, 0 },
    { "enabled site, no rule, no-op sink", 5, setup_plain, run_enabled, check_exported, 0, 0 },
    { "enabled site, no rule, no timestamp (sink stamps)", 0, setup_no_ts, run_enabled, check_exported, 0, 0 },
    { "enabled site, no rule, default clock stamp", 0, setup_clock, run_enabled, check_exported, 0, 0 },
    { "enabled site, program deployed, no rule on it", 5, setup_other_rule, run_enabled, check_exported, 0, 0 },
    { "dt_emit() function API, no program", 0, setup_plain, run_api, check_exported, 0, 0 },
    { "recorder append (site, 1 field, not exported)", 20, setup_recorder, run_recorded, check_recorded, 0, 0 },
    { "recorder append keyed by field (64 keys)", 0, setup_recorder_keyed, run_recorded_keyed, check_recorded, 64, 0 },
    { "action trigger, rate-limited no-op action", 0, setup_action, run_fire, check_fired, 0, 0 },
    BENCH_END
};

/* >>core curves -----------------------------------------------------------*/

/* N level rules on names that are not the event's: the event's route is
 * precomputed at deploy, so its cost must stay flat. */
static int setup_rules_other(uint64_t n) {
    bench_engine(bench_program("", "level Other%llu = debug", n));
    return 0;
}
/* N triggered level rules on the event's own name, each with a condition
 * that is false: every rule is evaluated for every event. */
static int setup_rules_same(uint64_t n) {
    bench_engine(bench_program("", "level Target%llu = debug for 1m when BenchInfo where i == 99999999999%llu", n));
    return 0;
}
static const char *check_not_triggered(const dt_stats *s, uint64_t events) {
    const char *why = bench_expect("events_exported", s->events_exported, events);
    return why ? why : bench_expect("actions_fired", s->actions_fired, 0);
}

/* A name the program did not know at deploy (a dynamic name through
 * dt_emit) against N prefix rules: the known cliff (docs/performance.md). */
static int setup_rules_prefix(uint64_t n) {
    bench_engine(bench_program("", "level Pfx%llu* = debug", n));
    return 0;
}
static void run_unrouted(uint64_t first, uint64_t n) { bench_emit_api("Unrouted", 0, first, n); }

/* Recorder with N live keys: the core's keyed instances. */
static void run_recorded_keys(uint64_t first, uint64_t n) {
    uint64_t i, k = 0, keys = g_bench_param;
    BENCH_LOOP(i, first, n) {
        DT_EMIT(DT_DEBUG, "BenchKeyed", DT_U64("k", k));
        if (++k == keys) k = 0;
    }
}

static int setup_deploy_levels(uint64_t n) {
    bench_new_engine();
    g_bench_deploy_text = bench_program("", "level Deploy%llu = debug", n);
    return 0;
}

#define BENCH_RULES_XS { 1, 10, 100, 1000, 10000 }
static const bench_curve core_curves[] = {
    { "rules", "cost per event vs deployed rules", "deployed rules", "ns per event", 1,
      "level rules on other names (site)",
      { "", 0, setup_rules_other, run_enabled, check_exported, 0, BENCH_ONE_THREAD }, BENCH_RULES_XS },
    { "rules", NULL, NULL, NULL, 0, "triggered level rules on the same name (site)",
      { "", 0, setup_rules_same, run_enabled, check_not_triggered, 0, BENCH_ONE_THREAD }, BENCH_RULES_XS },
    { "rules", NULL, NULL, NULL, 0, "prefix rules, name unknown at deploy (dt_emit)",
      { "", 0, setup_rules_prefix, run_unrouted, check_exported, 0, BENCH_ONE_THREAD }, BENCH_RULES_XS },
    { "groups", "cost per event vs live keys, groups, instances", "live keys", "ns per event", 1,
      "recorder keyed by field (keys N)",
      { "", 0, setup_recorder_keyed, run_recorded_keys, check_recorded, 0, BENCH_ONE_THREAD },
      { 1, 10, 100, 1000, 4096 } },
    { "deploy", "deploy time vs program size", "rules in the program", "ms per deploy", 1e-6,
      "level rules",
      { "", 0, setup_deploy_levels, bench_run_deploy, bench_check_deploys, 0, BENCH_ONE_THREAD }, BENCH_RULES_XS },
    BENCH_CURVE_END
};

static void bench_register_processors(dt_engine *e) {
    dt_register_processor(e, &bench_fire_processor);
#if BENCH_HAVE_QUERY
    bench_register_query(e);
#endif
#if BENCH_HAVE_STATEFUL
    bench_register_stateful(e);
#endif
#if BENCH_LTTNG
    bench_register_lttng(e);
#endif
}

/* >>main -------------------------------------------------------------------*/

static const bench_case *const bench_tables[] = {
    core_cases,
#if BENCH_HAVE_QUERY
    query_cases,
#endif
#if BENCH_HAVE_STATEFUL
    stateful_cases,
#endif
#if BENCH_LTTNG
    lttng_cases,
#endif
};
static const bench_curve *const bench_curve_tables[] = {
    core_curves,
#if BENCH_HAVE_QUERY
    query_curves,
#endif
#if BENCH_HAVE_STATEFUL
    stateful_curves,
#endif
#if BENCH_LTTNG
    lttng_curves,
#endif
};
#define BENCH_COUNT(a) (sizeof(a) / sizeof((a)[0]))

static void bench_list(void) {
    size_t t;
    const bench_case *c;
    const bench_curve *cv;
    for (t = 0; t < BENCH_COUNT(bench_tables); t++)
        for (c = bench_tables[t]; c->name; c++) printf("case  %s\n", c->name);
    for (t = 0; t < BENCH_COUNT(bench_curve_tables); t++)
        for (cv = bench_curve_tables[t]; cv->plot; cv++) {
            char name[200];
            int i;
            for (i = 0; i < BENCH_MAX_POINTS && cv->xs[i]; i++) {
                bench_point_name(name, sizeof name, cv, i);
                printf("point %s\n", name);
            }
        }
}

/* The process's peak resident set (Linux), for the closing line. */
static long bench_vm_hwm_kib(void) {
    char line[128];
    long kib = -1;
    FILE *f = fopen("/proc/self/status", "r");
    if (!f) return -1;
    while (fgets(line, sizeof line, f))
        if (strncmp(line, "VmHWM:", 6) == 0) kib = strtol(line + 6, NULL, 10);
    fclose(f);
    return kib;
}

static int bench_usage(void) {
    fprintf(stderr, "usage: bench [--quick] [--only TEXT] [--no-curves] [--data DIR] [--list] [--count N]\n");
    return 2;
}

int main(int argc, char **argv) {
    const char *only = NULL;
    int quick = 0, curves = 1, i;
    uint64_t count = 0;
    size_t t;
    for (i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--quick") == 0) quick = 1;
        else if (strcmp(argv[i], "--no-curves") == 0) curves = 0;
        else if (strcmp(argv[i], "--list") == 0) { bench_list(); return 0; }
        else if (strcmp(argv[i], "--only") == 0 && i + 1 < argc) only = argv[++i];
        else if (strcmp(argv[i], "--data") == 0 && i + 1 < argc) g_bench_data_dir = argv[++i];
        else if (strcmp(argv[i], "--count") == 0 && i + 1 < argc) count = strtoull(argv[++i], NULL, 10);
        else return bench_usage();
    }
    if (count) {   /* curve points only when named: some are slow under valgrind */
        for (t = 0; t < BENCH_COUNT(bench_tables); t++) bench_count(bench_tables[t], only, count);
        for (t = 0; t < BENCH_COUNT(bench_curve_tables); t++) bench_count_points(bench_curve_tables[t], only, count);
        return 0;
    }
    if (quick) { g_bench_run_ns = 2e6; g_bench_samples = 2000; }
    bench_calibrate_cycles();
    printf("dt bench: median of %d runs of about %.0f ms each; p50/p99.9 from up to %u single calls\n"
           "(%s, %.3f ns/tick, moves in steps of %.1f ns); processors: query %s, stateful %s\n\n",
           BENCH_RUNS, g_bench_run_ns / 1e6, g_bench_samples, BENCH_COUNTER, bench_ns_per_cycle,
           (double)bench_cycle_step * bench_ns_per_cycle,
           BENCH_HAVE_QUERY ? "yes" : "no (dt_query.h or bench/cases_query.h absent)",
           BENCH_HAVE_STATEFUL ? "yes" : "no (dt_stateful.h or bench/cases_stateful.h absent)");
    bench_header();
    bench_baseline();
    for (t = 0; t < BENCH_COUNT(bench_tables); t++) bench_table(bench_tables[t], only);
    for (t = 0; t < BENCH_COUNT(bench_curve_tables); t++) bench_plots_register(bench_curve_tables[t]);
    if (curves) printf("\n### Scaling curves\n");
    if (curves)
        for (t = 0; t < BENCH_COUNT(bench_curve_tables); t++) bench_curves(bench_curve_tables[t], only);
    printf("\nbench: peak resident set %ld KiB; %d skipped; %d check%s failed\n", bench_vm_hwm_kib(), g_bench_skipped,
           g_bench_failures, g_bench_failures == 1 ? "" : "s");
    return g_bench_failures ? 1 : 0;
}
