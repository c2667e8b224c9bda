/* cases_query.h — bench cases of the query processor (dt_query.h).
 * Included by bench.c when dt_query.h is beside dt.h; the convention is at
 * the top of bench.c. Every event comes from a DT_EMIT site with a fixed
 * clock, so summarize windows never close during a run: the rows are the
 * per-event cost, and check() flushes once to count the points. */

static void bench_register_query(dt_engine *e) { dt_register_processor(e, dt_query_processor()); }

/* >>query cases ------------------------------------------------------------*/

static int setup_q(const char *program) { return bench_engine_try(program); }

static int setup_q_drop(uint64_t p) { (void)p; return setup_q("query d = BenchQDrop | drop"); }
static int setup_q_where_drop(uint64_t p) { (void)p; return setup_q("query d = BenchQWhereDrop | where v >= 0 | drop"); }
static int setup_q_project(uint64_t p) { (void)p; return setup_q("query p = BenchQProject | project-away secret"); }
static int setup_q_redact(uint64_t p) { (void)p; return setup_q("query r = BenchQRedact | redact"); }
static int setup_q_throttle(uint64_t p) { (void)p; return setup_q("query t = BenchQThrottle | throttle 10 per 1m"); }
static int setup_q_sample(uint64_t p) { (void)p; return setup_q("query s = BenchQSample | sample 0.01 seed 7"); }
static int setup_q_p99(uint64_t p) {
    (void)p;
    return setup_q("query l = BenchQLatency | summarize p99(v) every 1m");
}
/* where + count-by with param keys and the default bound (1,000 groups). */
static int setup_q_countby(uint64_t keys) {
    (void)keys;
    return setup_q("query c = BenchQCount | where v >= 0 | summarize n = count() by k every 1m");
}
/* The same with the bound raised to the number of keys. */
static int setup_q_groups(uint64_t n) {
    char text[200];
    snprintf(text, sizeof text, "query c = BenchQCount | where v >= 0 | summarize n = count() by k every 1m groups %llu",
             (unsigned long long)n);
    return setup_q(text);
}

BENCH_RUN_SITE(run_q_drop, DT_INFO, "BenchQDrop", DT_U64("v", i))
BENCH_RUN_SITE(run_q_where_drop, DT_INFO, "BenchQWhereDrop", DT_U64("v", i))
/* Keys cycle 0..param-1 with one division per call, not per event. */
static void run_q_countby(uint64_t first, uint64_t n) {
    uint64_t i, keys = g_bench_param, k = first % keys;
    BENCH_LOOP(i, first, n) {
        DT_EMIT(DT_INFO, "BenchQCount", DT_U64("k", k), DT_U64("v", i));
        if (++k == keys) k = 0;
    }
}
BENCH_RUN_SITE(run_q_project, DT_INFO, "BenchQProject", DT_U64("v", i), DT_STR("secret", "hunter2"))
/* 64 bytes with an email and an IPv4 address in it. */
static const char bench_redact_text[] = "login ok for alice@example.com from 10.20.30.40, session 7f3a9c";
BENCH_RUN_SITE(run_q_redact, DT_INFO, "BenchQRedact", DT_STRN("msg", bench_redact_text, 64))
BENCH_RUN_SITE(run_q_throttle, DT_INFO, "BenchQThrottle", DT_U64("v", i))
BENCH_RUN_SITE(run_q_sample, DT_INFO, "BenchQSample", DT_U64("v", i))
BENCH_RUN_SITE(run_q_p99, DT_INFO, "BenchQLatency", DT_U64("v", i & 1023u))

/* A drop that nothing precedes may turn the site off at deploy (no event
 * reaches the engine); otherwise every event is counted dropped. */
static const char *check_q_dropped(const dt_stats *s, uint64_t events) {
    const char *why = bench_expect("events_exported", s->events_exported, 0);
    if (why || s->events_in == 0) return why;
    return bench_expect("events_dropped", s->events_dropped, events);
}
static const char *check_q_dropped_each(const dt_stats *s, uint64_t events) {
    const char *why = bench_expect("events_dropped", s->events_dropped, events);
    return why ? why : bench_expect("events_exported", s->events_exported, 0);
}
static const char *check_q_exported(const dt_stats *s, uint64_t events) {
    return bench_expect("events_exported", s->events_exported, events);
}
/* One window (fixed clock): flushing gives one point per group, and one
 * overflow group past the bound. */
static const char *check_q_points(const dt_stats *s, uint64_t events, uint64_t groups) {
    const char *why = bench_expect("events_exported (summarize consumes)", s->events_exported, 0);
    (void)events;
    if (why) return why;
    dt_flush(g_bench_engine);
    return bench_expect("metric points after flush", g_bench_metrics, groups);
}
/* The runs need not have reached every key (short runs, many keys): one
 * more event per key first, so the number of groups is exact. */
static const char *check_q_countby(const dt_stats *s, uint64_t events) {
    uint64_t keys = g_bench_param;
    run_q_countby(0, keys);
    return check_q_points(s, events, keys <= 1000 ? keys : 1000 + 1);
}
static const char *check_q_groups(const dt_stats *s, uint64_t events) {
    run_q_countby(0, g_bench_param);
    return check_q_points(s, events, g_bench_param);
}
static const char *check_q_p99(const dt_stats *s, uint64_t events) { return check_q_points(s, events, 1); }
static const char *check_q_throttle(const dt_stats *s, uint64_t events) {
    const char *why = bench_expect("events_exported (10 per window)", s->events_exported, 10);
    return why ? why : bench_expect("events_dropped", s->events_dropped, events - 10);
}
static const char *check_q_sample(const dt_stats *s, uint64_t events) {
    if (s->events_exported > events / 200 && s->events_exported < events / 50) return NULL;
    snprintf(g_bench_why, sizeof g_bench_why, "sample 0.01 kept %llu of %llu events",
             (unsigned long long)s->events_exported, (unsigned long long)events);
    return g_bench_why;
}

static const bench_case query_cases[] = {
    { "query drop", 5, setup_q_drop, run_q_drop, check_q_dropped, 0, 0 },
    { "query where + drop (decided per event)", 0, setup_q_where_drop, run_q_where_drop, check_q_dropped_each, 0, 0 },
    { "query where + count-by, 10 keys", 0, setup_q_countby, run_q_countby, check_q_countby, 10, BENCH_SCALES },
    { "query where + count-by, 1,000 keys", 15, setup_q_countby, run_q_countby, check_q_countby, 1000, BENCH_SCALES },
    { "query where + count-by, 100,000 keys (bound 1,000)", 0, setup_q_countby, run_q_countby, check_q_countby, 100000,
      BENCH_SCALES },
    { "query project-away", 0, setup_q_project, run_q_project, check_q_exported, 0, 0 },
    { "query redact, 64-byte string (all detectors)", 0, setup_q_redact, run_q_redact, check_q_exported, 0, 0 },
    { "query summarize p99(v)", 0, setup_q_p99, run_q_p99, check_q_p99, 0, 0 },
    { "query throttle 10 per 1m (past the limit)", 0, setup_q_throttle, run_q_throttle, check_q_throttle, 0, 0 },
    { "query sample 0.01", 0, setup_q_sample, run_q_sample, check_q_sample, 0, 0 },
    BENCH_END
};

/* >>query curves ------------------------------------------------------------*/

/* N queries on other names: the site's event is exported as is. */
static int setup_q_rules_other(uint64_t n) { return setup_q(bench_program("", "query q%llu = Other%llu | drop", n)); }
/* N queries on the event's own name, each with a false condition. */
static int setup_q_rules_same(uint64_t n) {
    return setup_q(bench_program("", "query q%llu = BenchQSame | where v == 99999999999%llu | drop", n));
}
BENCH_RUN_SITE(run_q_same, DT_INFO, "BenchQSame", DT_U64("v", i))
BENCH_RUN_SITE(run_q_flat, DT_INFO, "BenchQFlat", DT_U64("v", i))
/* Checked once (refused: skipped), then deployed by run(). */
static int setup_q_deploy(uint64_t n) {
    dt_error err;
    g_bench_deploy_text = bench_program("", "query q%llu = Deploy%llu | where v > 1 | drop", n);
    bench_new_engine();
    if (dt_check(g_bench_engine, g_bench_deploy_text, strlen(g_bench_deploy_text), &err, NULL) == DT_OK) return 0;
    return bench_skip(err.message);
}

static const bench_curve query_curves[] = {
    { "rules", NULL, NULL, NULL, 0, "queries on other names (site)",
      { "", 0, setup_q_rules_other, run_q_flat, check_q_exported, 0, BENCH_ONE_THREAD }, { 1, 10, 100, 1000, 10000 } },
    { "rules", NULL, NULL, NULL, 0, "queries with a false where on the same name (site)",
      { "", 0, setup_q_rules_same, run_q_same, check_q_exported, 0, BENCH_ONE_THREAD }, { 1, 10, 100, 1000, 10000 } },
    { "groups", NULL, NULL, NULL, 0, "query count-by, groups N = keys",
      { "", 0, setup_q_groups, run_q_countby, check_q_groups, 0, BENCH_ONE_THREAD }, { 10, 100, 1000, 10000, 100000 } },
    { "deploy", NULL, NULL, NULL, 0, "queries (where + drop)",
      { "", 0, setup_q_deploy, bench_run_deploy, bench_check_deploys, 0, BENCH_ONE_THREAD },
      { 1, 10, 100, 1000, 10000 } },
    BENCH_CURVE_END
};
