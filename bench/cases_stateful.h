/* cases_stateful.h — bench cases of the state-machine processor
 * (dt_stateful.h). Included by bench.c when dt_stateful.h is beside dt.h;
 * the convention is at the top of bench.c. Every event comes from a
 * DT_EMIT site on the fixed clock (time 1 ns) and is filtered after the
 * machine ran (level ... = off), so a row is the machine's cost plus the
 * engine's per-event floor. */

static void bench_register_stateful(dt_engine *e) {
    dt_register_processor(e, dt_stateful_processor());
    dt_register_processor(e, dt_stateful_trigger_processor());
}

/* >>stateful cases ---------------------------------------------------------*/

#define BENCH_SM_KEYS 10000
static char g_bench_sm_keys[BENCH_SM_KEYS][8];

/* Per thread: the first event makes the instance, the rest are
 * self-transitions in B (the steady state of a thread's machine). */
static int setup_sm_tid(uint64_t p) {
    (void)p;
    return bench_engine_try("machine t {\n by tid\n A -> B on BenchSmTid\n B -> B on BenchSmTid\n}\n"
                            "level BenchSmTid = off");
}
static void run_sm_tid(uint64_t first, uint64_t n) {
    uint64_t i;
    BENCH_LOOP(i, first, n) DT_EMIT(DT_INFO, "BenchSmTid", DT_U64("v", i));
}

/* 10,000 string keys, all live: the row is a lookup among them and a
 * transition. */
static int setup_sm_key(uint64_t p) {
    uint64_t i;
    (void)p;
    for (i = 0; i < BENCH_SM_KEYS; i++) snprintf(g_bench_sm_keys[i], sizeof g_bench_sm_keys[i], "k%llu", (unsigned long long)i);
    return bench_engine_try("machine f {\n by k\n max 16384\n A -> B on BenchSmKey\n B -> B on BenchSmKey\n}\n"
                            "level BenchSmKey = off");
}
static void run_sm_key(uint64_t first, uint64_t n) {
    uint64_t i, k = first % BENCH_SM_KEYS;
    BENCH_LOOP(i, first, n) {
        DT_EMIT(DT_INFO, "BenchSmKey", DT_STRN("k", g_bench_sm_keys[k], strlen(g_bench_sm_keys[k])));
        if (++k == BENCH_SM_KEYS) k = 0;
    }
}
static const char *check_sm_key(const dt_stats *s, uint64_t events) {
    const char *why = bench_expect("events_filtered", s->events_filtered, events);
    return why ? why : bench_expect("overflows (10,000 keys fit)", s->overflows, 0);
}

/* Arms one instance per event (keys 0..9,999), and every 10,000 events a
 * tick fires all their timeouts: a row is one arm plus one timeout fired
 * from a heap of 10,000. */
static int setup_sm_sweep(uint64_t p) {
    (void)p;
    return bench_engine_try("machine s {\n by k\n max 16384\n A -> Armed on BenchSmArm\n Armed -> A after 1s\n}\n"
                            "level BenchSmArm = off");
}
static void run_sm_sweep(uint64_t first, uint64_t n) {
    uint64_t i, k = first % BENCH_SM_KEYS;
    BENCH_LOOP(i, first, n) {
        DT_EMIT(DT_INFO, "BenchSmArm", DT_U64("k", k));
        if (++k == BENCH_SM_KEYS) { k = 0; dt_tick(g_bench_engine, 2000000001); }
    }
    dt_tick(g_bench_engine, 2000000001);
}

/* The trigger form: one field added to the event. */
static int setup_sm_annotate(uint64_t p) {
    (void)p;
    return bench_engine_try("on BenchSmAnnotate { annotate region = \"eu\" }\nlevel BenchSmAnnotate = off");
}
static void run_sm_annotate(uint64_t first, uint64_t n) {
    uint64_t i;
    BENCH_LOOP(i, first, n) DT_EMIT(DT_INFO, "BenchSmAnnotate", DT_U64("v", i));
}

static const char *check_sm_filtered(const dt_stats *s, uint64_t events) {
    return bench_expect("events_filtered", s->events_filtered, events);
}

static const bench_case stateful_cases[] = {
    { "machine transition, keyed by thread", 10, setup_sm_tid, run_sm_tid, check_sm_filtered, 0, BENCH_SCALES },
    { "machine transition, keyed by string field, 10,000 live instances", 25, setup_sm_key, run_sm_key, check_sm_key, 0,
      0 },
    { "machine timeout: arm + fire, swept 10,000 at a time", 0, setup_sm_sweep, run_sm_sweep, check_sm_filtered, 0,
      BENCH_ONE_THREAD },
    { "trigger annotate one field", 10, setup_sm_annotate, run_sm_annotate, check_sm_filtered, 0, 0 },
    BENCH_END
};

/* >>stateful curves --------------------------------------------------------*/

/* Cost per event vs live instances (keys N, all live). */
static int setup_sm_instances(uint64_t n) {
    uint64_t i;
    char text[200];
    for (i = 0; i < BENCH_SM_KEYS; i++) snprintf(g_bench_sm_keys[i], sizeof g_bench_sm_keys[i], "k%llu", (unsigned long long)i);
    snprintf(text, sizeof text, "machine f {\n by k\n max %llu\n A -> B on BenchSmKey\n B -> B on BenchSmKey\n}\n"
             "level BenchSmKey = off", (unsigned long long)(n < 64 ? 64 : n));
    return bench_engine_try(text);
}
static void run_sm_instances(uint64_t first, uint64_t n) {
    uint64_t i, keys = g_bench_param, k = first % keys;
    BENCH_LOOP(i, first, n) {
        DT_EMIT(DT_INFO, "BenchSmKey", DT_STRN("k", g_bench_sm_keys[k], strlen(g_bench_sm_keys[k])));
        if (++k == keys) k = 0;
    }
}

static const bench_curve stateful_curves[] = {
    { "groups", NULL, NULL, NULL, 0, "machine keyed by field, instances N = keys",
      { "", 0, setup_sm_instances, run_sm_instances, check_sm_filtered, 0, BENCH_ONE_THREAD }, { 10, 100, 1000, 10000 } },
    BENCH_CURVE_END
};
