/* Concurrency: deploys, rollbacks, the rip cord, ticks and recorder flushes
 * racing emitters. Every test checks conservation: each event handed to the
 * engine is counted exactly once as exported, filtered or dropped, and the
 * sink saw exactly the exported ones. Run under TSan:
 *
 *   clang -std=c99 -O1 -g -fsanitize=thread -pthread -I. -Itests -Ibuild \
 *     -o /tmp/tt tests/test_*.c tests/impl.c && /tmp/tt -s concurrency
 *
 * DT_CONC_N sets the events per emitter thread (default 200000, 20000
 * under TSan). */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "greatest.h"
#include "dt.h"
#include "support.h"

#if defined(__SANITIZE_THREAD__)
#define CONC_TSAN 1
#elif defined(__has_feature)
#if __has_feature(thread_sanitizer)
#define CONC_TSAN 1
#endif
#endif
#ifndef CONC_TSAN
#define CONC_TSAN 0
#endif


#define CONC_LOAD(p) __atomic_load_n((p), __ATOMIC_ACQUIRE)
#define CONC_STORE(p, v) __atomic_store_n((p), (v), __ATOMIC_RELEASE)
#define CONC_ADD(p, v) __atomic_add_fetch((p), (v), __ATOMIC_ACQ_REL)

static long conc_events_per_emitter(void) {
    const char *s = getenv("DT_CONC_N");
    long n = s ? strtol(s, NULL, 10) : (CONC_TSAN ? 20000 : 200000);
    if (n < 2) n = 2;
    return n & ~1L;                              /* even: half keep, half drop */
}

typedef struct conc_run {
    dt_engine *e;
    long n;                                      /* events per emitter */
    uint64_t sink_total, sink_keep;              /* atomic */
    uint32_t emitters_left, stop;                /* atomic */
    int64_t now;                                 /* atomic: the fake clock */
    const char *progs[2];
    long min_deploys;
    long deploys, deploy_failures;               /* deployer thread */
    long toggles, ticks;
    long rollbacks_ok, rollbacks_empty, undeploys, storm_deploys, storm_bad;  /* atomic */
    uint64_t dumps, dump_records, dump_overwritten, dump_bad;                 /* atomic */
} conc_run;

static conc_run run;

static int64_t conc_clock(void *ud) { return CONC_LOAD(&((conc_run *)ud)->now); }

static int conc_is(dt_str s, const char *lit) { return s.len == strlen(lit) && memcmp(s.ptr, lit, s.len) == 0; }

static void conc_on_event(const dt_event *ev, void *ud) {
    conc_run *r = (conc_run *)ud;
    CONC_ADD(&r->sink_total, 1u);
    if (conc_is(ev->name, "ConcKeep") || conc_is(ev->name, "SiteConcKeep")) CONC_ADD(&r->sink_keep, 1u);
}

static void conc_count_record(const dt_event *ev, void *ud) { (void)ev; (*(uint32_t *)ud)++; }

static void conc_on_dump(const dt_dump *d, void *ud) {
    conc_run *r = (conc_run *)ud;
    static uint8_t bytes[1 << 16];               /* flushes of one recorder are serialised */
    size_t len;
    uint32_t seen = 0;
    if (!sup_join_dump(d, bytes, sizeof bytes, &len)) { CONC_ADD(&r->dump_bad, 1u); return; }
    if (dt_dump_decode(bytes, len, NULL, conc_count_record, &seen, NULL) != DT_OK || seen != d->records)
        CONC_ADD(&r->dump_bad, 1u);
    CONC_ADD(&r->dumps, 1u);
    CONC_ADD(&r->dump_records, (uint64_t)d->records);
    CONC_ADD(&r->dump_overwritten, d->overwritten);
}

static dt_engine *conc_start(void) {
    dt_desc d;
    memset(&run, 0, sizeof run);
    run.n = conc_events_per_emitter();
    run.now = 1000000000;
    memset(&d, 0, sizeof d);
    d.clock.now = conc_clock;
    d.clock.user_data = &run;
    d.sinks.event = conc_on_event;
    d.sinks.dump = conc_on_dump;
    d.sinks.user_data = &run;
    d.self_interval_ns = -1;
    run.e = dt_create(&d);
    return run.e;
}

/* ---- threads ------------------------------------------------------------ */
static void *conc_emit_thread(void *arg) {
    conc_run *r = (conc_run *)arg;
    dt_event ev;
    dt_field f;
    long i;
    memset(&ev, 0, sizeof ev);
    ev.level = DT_INFO;
    ev.fields = &f;
    ev.nfields = 1;
    for (i = 0; i < r->n; i++) {
        ev.name = dt_cstr((i & 1) ? "ConcKeep" : "ConcDrop");
        ev.id = 0;
        ev.ts = 0;
        f = dt_field_i64("i", i);
        dt_emit(r->e, &ev);
    }
    CONC_ADD(&r->emitters_left, (uint32_t)-1);
    return NULL;
}

static void conc_site_keep(long i) { DT_EMIT(DT_INFO, "SiteConcKeep", DT_I64("i", i)); }
static void conc_site_drop(long i) { DT_EMIT(DT_INFO, "SiteConcDrop", DT_I64("i", i)); }

static void *conc_site_thread(void *arg) {
    conc_run *r = (conc_run *)arg;
    long i;
    for (i = 0; i < r->n; i++) {
        if (i & 1) conc_site_keep(i);
        else conc_site_drop(i);
    }
    CONC_ADD(&r->emitters_left, (uint32_t)-1);
    return NULL;
}

static void *conc_recorded_thread(void *arg) {
    conc_run *r = (conc_run *)arg;
    dt_event ev;
    dt_field f;
    long i;
    memset(&ev, 0, sizeof ev);
    ev.level = DT_DEBUG;
    ev.name = dt_cstr("ConcRec");
    ev.fields = &f;
    ev.nfields = 1;
    for (i = 0; i < r->n; i++) {
        f = dt_field_i64("i", i);
        dt_emit(r->e, &ev);
    }
    CONC_ADD(&r->emitters_left, (uint32_t)-1);
    return NULL;
}

/* Alternates two programs while emitters run, and at least min_deploys. */
static void *conc_deploy_thread(void *arg) {
    conc_run *r = (conc_run *)arg;
    long k = 0;
    while (CONC_LOAD(&r->emitters_left) > 0 || k < r->min_deploys) {
        const char *p = r->progs[k & 1];
        if (dt_deploy(r->e, p, strlen(p), NULL) != DT_OK) r->deploy_failures++;
        k++;
    }
    r->deploys = k;
    return NULL;
}

static void *conc_ripcord_thread(void *arg) {
    conc_run *r = (conc_run *)arg;
    do {                                         /* at least once, however late it starts */
        dt_ripcord(r->e, 1);
        dt_ripcord(r->e, 0);
        r->toggles++;
    } while (!CONC_LOAD(&r->stop));
    return NULL;
}

/* Moves the fake clock, ticks, and keeps short timed level changes coming
 * and going (each one recomputes every site). */
static void *conc_tick_thread(void *arg) {
    conc_run *r = (conc_run *)arg;
    dt_value args[3];
    args[0].type = DT_TYPE_STR;
    args[0].as.str = dt_cstr("ConcDbg*");
    args[1].type = DT_TYPE_STR;
    args[1].as.str = dt_cstr("debug");
    args[2].type = DT_TYPE_I64;
    args[2].as.i64 = 3000000;                    /* 3 ms of fake time */
    do {
        int64_t now = CONC_ADD(&r->now, (int64_t)1000000);
        dt_tick(r->e, now);
        if ((r->ticks++ & 15) == 0) (void)dt_action_invoke(r->e, "set_level", args, 3);
    } while (!CONC_LOAD(&r->stop));
    return NULL;
}

static void *conc_storm_thread(void *arg) {
    conc_run *r = (conc_run *)arg;
    static uint32_t which;
    long j, rounds = r->min_deploys, offset = (long)(CONC_ADD(&which, 1u) & 1u);
    for (j = 0; j < rounds || CONC_LOAD(&r->emitters_left) > 0; j++) {
        const char *p = r->progs[(j + offset) & 1];
        int rc = dt_deploy(r->e, p, strlen(p), NULL);
        if (rc == DT_OK) CONC_ADD(&r->storm_deploys, 1L);
        else CONC_ADD(&r->storm_bad, 1L);
        rc = dt_rollback(r->e);
        if (rc == DT_OK) CONC_ADD(&r->rollbacks_ok, 1L);
        else if (rc == DT_ERR_EMPTY) CONC_ADD(&r->rollbacks_empty, 1L);
        else CONC_ADD(&r->storm_bad, 1L);
        if ((j & 3) == 3) {
            rc = dt_undeploy(r->e);
            if (rc == DT_OK) CONC_ADD(&r->undeploys, 1L);
            else if (rc != DT_ERR_EMPTY) CONC_ADD(&r->storm_bad, 1L);
        }
    }
    return NULL;
}

static void *conc_flush_thread(void *arg) {
    conc_run *r = (conc_run *)arg;
    while (!CONC_LOAD(&r->stop))
        if (dt_recorder_flush(r->e, "fr", NULL) != DT_OK) CONC_ADD(&r->dump_bad, 1u);
    return NULL;
}

typedef void *(*conc_fn)(void *);

/* Starts emitters and helpers, waits for the emitters, then stops and
 * joins the helpers. */
static int conc_go(const conc_fn *emitters, int nemit, const conc_fn *helpers, int nhelp) {
    pthread_t te[4], th[4];
    int i;
    run.emitters_left = (uint32_t)nemit;
    for (i = 0; i < nhelp; i++) if (pthread_create(&th[i], NULL, helpers[i], &run) != 0) return 0;
    for (i = 0; i < nemit; i++) if (pthread_create(&te[i], NULL, emitters[i], &run) != 0) return 0;
    for (i = 0; i < nemit; i++) pthread_join(te[i], NULL);
    CONC_STORE(&run.stop, 1u);
    for (i = 0; i < nhelp; i++) pthread_join(th[i], NULL);
    return 1;
}

/* Conservation: events_in == 2N, each counted once, the sink saw exactly
 * the exported ones, and every "keep" event (never filtered by any of the
 * programs) reached the sink. */
static enum greatest_test_res conc_check_conservation(const dt_stats *st) {
    uint64_t total = 2u * (uint64_t)run.n;
    ASSERT_EQ_FMT((unsigned long long)total, (unsigned long long)st->events_in, "%llu");
    ASSERT_EQ_FMT((unsigned long long)st->events_in,
                  (unsigned long long)(st->events_exported + st->events_filtered + st->events_dropped), "%llu");
    ASSERT_EQ_FMT((unsigned long long)st->events_exported, (unsigned long long)CONC_LOAD(&run.sink_total), "%llu");
    ASSERT_EQ_FMT((unsigned long long)run.n, (unsigned long long)CONC_LOAD(&run.sink_keep), "%llu");
    ASSERT(st->events_filtered <= (uint64_t)run.n);
    ASSERT_EQ(0u, st->bad_events);
    PASS();
}

/* ---- tests -------------------------------------------------------------- */
TEST deploys_while_two_threads_emit_lose_and_duplicate_nothing(void) {
    SUP_NEEDS_THREADS();
    static const conc_fn emit[] = {conc_emit_thread, conc_emit_thread};
    static const conc_fn help[] = {conc_deploy_thread};
    dt_stats st;
    dt_program_info info;
    ASSERT(conc_start() != NULL);
    run.progs[0] = "level ConcDrop = off";
    run.progs[1] = "level ConcOther = off\nrecorder conc { record ConcKeep, ConcDrop capacity 1KiB }";
    run.min_deploys = CONC_TSAN ? 500 : 2000;
    ASSERT(conc_go(emit, 2, help, 1));
    dt_get_stats(run.e, &st);
    CHECK_CALL(conc_check_conservation(&st));
    ASSERT_EQ(0, run.deploy_failures);
    ASSERT(run.deploys >= run.min_deploys);
    ASSERT_EQ((uint64_t)run.deploys, st.deploys);
    ASSERT_EQ(0u, st.deploy_errors);
    ASSERT_EQ(DT_OK, dt_program(run.e, &info));
    ASSERT_EQ((uint64_t)run.deploys, info.version);
    dt_destroy(run.e);
    PASS();
}

TEST deploys_while_two_threads_emit_through_sites_lose_nothing(void) {
    SUP_NEEDS_THREADS();
    static const conc_fn emit[] = {conc_site_thread, conc_site_thread};
    static const conc_fn help[] = {conc_deploy_thread};
    dt_stats st;
    ASSERT(conc_start() != NULL);
    dt_bind_sites(run.e);
    /* both programs observe both sites, so no site is ever off */
    run.progs[0] = "level SiteConcDrop = off\nrecorder cs { record SiteConcKeep, SiteConcDrop }";
    run.progs[1] = "level SiteConcOther = off\nrecorder cs { record SiteConcKeep, SiteConcDrop capacity 1KiB }";
    run.min_deploys = CONC_TSAN ? 500 : 2000;
    ASSERT_EQ(DT_OK, dt_deploy(run.e, run.progs[1], strlen(run.progs[1]), NULL));
    ASSERT(conc_go(emit, 2, help, 1));
    dt_get_stats(run.e, &st);
    CHECK_CALL(conc_check_conservation(&st));
    ASSERT_EQ(0, run.deploy_failures);
    ASSERT_EQ((uint64_t)run.deploys + 1u, st.deploys);
    ASSERT_EQ(st.events_in, st.recorder_records);     /* every event went through a program */
    dt_destroy(run.e);
    PASS();
}

TEST ripcord_deploys_and_ticks_racing_emitters_keep_the_count(void) {
    SUP_NEEDS_THREADS();
    static const conc_fn emit[] = {conc_emit_thread, conc_site_thread};
    static const conc_fn help[] = {conc_deploy_thread, conc_ripcord_thread, conc_tick_thread};
    dt_stats st;
    ASSERT(conc_start() != NULL);
    dt_bind_sites(run.e);
    run.progs[0] = "level ConcDrop, SiteConcDrop = off\nrecorder cs { record SiteConcKeep, SiteConcDrop, ConcKeep }";
    run.progs[1] = "recorder cs2 { record SiteConcKeep, SiteConcDrop capacity 2KiB }\nlevel ConcOther = off";
    run.min_deploys = CONC_TSAN ? 200 : 1000;
    ASSERT(conc_go(emit, 2, help, 3));
    ASSERT_EQ(0, dt_ripcord_pulled(run.e));
    dt_get_stats(run.e, &st);
    CHECK_CALL(conc_check_conservation(&st));
    ASSERT_EQ(0, run.deploy_failures);
    ASSERT(run.toggles > 0);
    ASSERT(run.ticks > 0);
    ASSERT_EQ((uint64_t)run.deploys, st.deploys);
    dt_destroy(run.e);
    PASS();
}

/* One thread deploys, rolls back and undeploys in a loop while two emit. */
TEST rollback_storm_racing_emitters_keeps_the_count(void) {
    SUP_NEEDS_THREADS();
    static const conc_fn emit[] = {conc_emit_thread, conc_emit_thread};
    static const conc_fn help[] = {conc_storm_thread};
    dt_stats st;
    ASSERT(conc_start() != NULL);
    run.progs[0] = "level ConcDrop = off";
    run.progs[1] = "recorder storm { record ConcKeep capacity 512 }\nlevel ConcDrop = warn";
    run.min_deploys = CONC_TSAN ? 400 : 2000;
    ASSERT(conc_go(emit, 2, help, 1));
    dt_get_stats(run.e, &st);
    CHECK_CALL(conc_check_conservation(&st));
    ASSERT_EQ(0, run.storm_bad);
    ASSERT((uint64_t)run.storm_deploys >= (uint64_t)run.min_deploys);
    ASSERT_EQ((uint64_t)run.storm_deploys, st.deploys);
    /* alone, only the very first rollback finds no earlier program */
    ASSERT_EQ(1, run.rollbacks_empty);
    ASSERT_EQ(run.storm_deploys - 1, run.rollbacks_ok);
    ASSERT(run.undeploys > 0);
    dt_destroy(run.e);
    PASS();
}

/* Two threads deploy and roll back at once while two emit. */
TEST concurrent_deploys_and_rollbacks_racing_emitters_keep_the_count(void) {
    SUP_NEEDS_THREADS();
    static const conc_fn emit[] = {conc_emit_thread, conc_emit_thread};
    static const conc_fn help[] = {conc_storm_thread, conc_storm_thread};
    dt_stats st;
    ASSERT(conc_start() != NULL);
    run.progs[0] = "level ConcDrop = off";
    run.progs[1] = "recorder storm { record ConcKeep capacity 512 }\nlevel ConcDrop = warn";
    run.min_deploys = CONC_TSAN ? 400 : 2000;
    ASSERT(conc_go(emit, 2, help, 2));
    dt_get_stats(run.e, &st);
    CHECK_CALL(conc_check_conservation(&st));
    ASSERT_EQ(0, run.storm_bad);
    ASSERT((uint64_t)run.storm_deploys >= (uint64_t)run.min_deploys);
    ASSERT_EQ((uint64_t)run.storm_deploys, st.deploys);
    ASSERT_EQ(run.storm_deploys, run.rollbacks_ok + run.rollbacks_empty);   /* one rollback per deploy */
    ASSERT(run.rollbacks_ok > 0);
    dt_destroy(run.e);
    PASS();
}

TEST recorder_flushes_racing_emitters_account_for_every_record(void) {
    SUP_NEEDS_THREADS();
    static const conc_fn emit[] = {conc_recorded_thread, conc_recorded_thread};
    static const conc_fn help[] = {conc_flush_thread};
    static const char prog[] = "recorder fr { record ConcRec capacity 4KiB }";
    dt_stats st;
    uint64_t total;
    ASSERT(conc_start() != NULL);
    ASSERT_EQ(DT_OK, dt_deploy(run.e, prog, sizeof prog - 1, NULL));
    ASSERT(conc_go(emit, 2, help, 1));
    ASSERT_EQ(DT_OK, dt_recorder_flush(run.e, "fr", NULL));     /* what is left */
    dt_get_stats(run.e, &st);
    total = 2u * (uint64_t)run.n;
    ASSERT_EQ(0u, CONC_LOAD(&run.dump_bad));
    ASSERT_EQ_FMT((unsigned long long)total, (unsigned long long)st.recorder_records, "%llu");
    ASSERT_EQ_FMT((unsigned long long)total,
                  (unsigned long long)(CONC_LOAD(&run.dump_records) + st.recorder_overwritten), "%llu");
    ASSERT_EQ_FMT((unsigned long long)st.recorder_overwritten,
                  (unsigned long long)CONC_LOAD(&run.dump_overwritten), "%llu");
    ASSERT_EQ(CONC_LOAD(&run.dumps), st.recorder_dumps);
    ASSERT_EQ(total, st.events_filtered);       /* debug: recorded, never exported */
    dt_destroy(run.e);
    PASS();
}

SUITE(concurrency) {
    RUN_TEST(deploys_while_two_threads_emit_lose_and_duplicate_nothing);
    RUN_TEST(deploys_while_two_threads_emit_through_sites_lose_nothing);
    RUN_TEST(ripcord_deploys_and_ticks_racing_emitters_keep_the_count);
    RUN_TEST(rollback_storm_racing_emitters_keeps_the_count);
    RUN_TEST(concurrent_deploys_and_rollbacks_racing_emitters_keep_the_count);
    RUN_TEST(recorder_flushes_racing_emitters_account_for_every_record);
}
