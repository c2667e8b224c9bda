/* Concurrency stress, for a bounded time: two emitting threads, a thread
 * that deploys, rolls back and undeploys, a rip-cord toggling thread, and
 * a thread that moves the clock, ticks, polls, flushes the engine and a
 * flight recorder, all at once. At the end every event is accounted for:
 *
 *   events_in     = what the emitters handed over (each thread counts);
 *   events_in     = exported + filtered + dropped (+ bad_events, zero here);
 *   the sink      = exactly events_exported, per event name;
 *   StressKeep    = always exported (no program filters it);
 *   with the query processor linked in: StressReq events are either
 *   exported (no program, rip cord pulled) or aggregated, so
 *   exported StressReq + the sum of the `n = count()` metric points =
 *   StressReq emitted, across every program change (the summarize carries
 *   its windows over or flushes them, never loses them); StressNoise is
 *   exported or dropped;
 *   every dump decodes, with as many records as it says.
 *
 * Runs in `make test` briefly and under ThreadSanitizer in `make tsan`
 * (-s concurrency_stress). DT_STRESS_MS sets the run time (default 300 ms,
 * 1500 ms under TSan; longer, up to ten times, until 20 deploys are done). */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "greatest.h"
#include "dt.h"
#include "support.h"
#include "reliability.h"

#if defined(__SANITIZE_THREAD__)
#define STRESS_TSAN 1
#elif defined(__has_feature)
#if __has_feature(thread_sanitizer)
#define STRESS_TSAN 1
#endif
#endif
#ifndef STRESS_TSAN
#define STRESS_TSAN 0
#endif

#define ST_LOAD(p) __atomic_load_n((p), __ATOMIC_ACQUIRE)
#define ST_STORE(p, v) __atomic_store_n((p), (v), __ATOMIC_RELEASE)
#define ST_ADD(p, v) __atomic_add_fetch((p), (v), __ATOMIC_ACQ_REL)

/* Event kinds the emitters cycle through. */
enum { ST_KEEP, ST_DROP, ST_DEBUG, ST_REQ, ST_NOISE, ST_FLUSH, ST_KINDS };
static const char *const st_names[ST_KINDS] = {"StressKeep", "StressDrop", "StressDebug",
                                               "StressReq", "StressNoise", "StressFlush"};

typedef struct st_run {
    dt_engine *e;
    int has_query;
    uint32_t stop;                               /* atomic */
    int64_t now;                                 /* atomic: the fake clock */
    uint64_t emitted[ST_KINDS], exported[ST_KINDS];   /* atomic */
    uint64_t sink_total, req_counted, metric_points;   /* atomic */
    uint64_t dumps, dump_records, dump_bad;            /* atomic */
    long deploys;                                /* atomic: main waits for enough */
    long deploy_failures, rollbacks, undeploys, swap_bad;
    long toggles, ticks, flushes, recorder_flush_bad;
    const char *progs[3];
} st_run;

static st_run st;

static int64_t st_clock(void *ud) { return ST_LOAD(&((st_run *)ud)->now); }

static int st_kind_of(dt_str name) {
    int k;
    for (k = 0; k < ST_KINDS; k++)
        if (name.len == strlen(st_names[k]) && memcmp(name.ptr, st_names[k], name.len) == 0) return k;
    return -1;
}

static void st_on_event(const dt_event *ev, void *ud) {
    st_run *r = (st_run *)ud;
    int k = st_kind_of(ev->name);
    ST_ADD(&r->sink_total, 1u);
    if (k >= 0) ST_ADD(&r->exported[k], 1u);
}

static void st_on_metric(const dt_metric *m, void *ud) {
    st_run *r = (st_run *)ud;
    ST_ADD(&r->metric_points, 1u);
    if (m->name.len == 1 && m->name.ptr[0] == 'n') ST_ADD(&r->req_counted, (uint64_t)m->value);
}

static void st_count_record(const dt_event *ev, void *ud) { (void)ev; (*(uint32_t *)ud)++; }

static void st_on_dump(const dt_dump *d, void *ud) {
    st_run *r = (st_run *)ud;
    uint8_t bytes[1 << 13];                      /* a ring is at most 2 KiB here */
    size_t len;
    uint32_t seen = 0;
    if (!sup_join_dump(d, bytes, sizeof bytes, &len) ||
        dt_dump_decode(bytes, len, NULL, st_count_record, &seen, NULL) != DT_OK || seen != d->records)
        ST_ADD(&r->dump_bad, 1u);
    ST_ADD(&r->dumps, 1u);
    ST_ADD(&r->dump_records, (uint64_t)d->records);
}

/* The programs the deployer cycles through. All share one summarize query
 * (same name and text: its windows carry over) when the query processor
 * is linked in. */
static void st_programs(st_run *r) {
    static char text[3][512];
    static const char query[] = "query reqs = StressReq | summarize n = count() by route every 1m\n"
                                "query noise = StressNoise | drop\n";
    static const char *const core[3] = {
        "level StressDrop = off\nrecorder rec { record StressDebug, StressKeep capacity 1KiB flush when StressFlush }\n",
        "level StressDrop = warn\nrecorder rec { record StressDebug by tid keys 4 capacity 512 flush when StressFlush }\n",
        "level StressDrop, StressDebug = off\nlevel StressOther = debug for 5ms when StressFlush\n"};
    int i;
    for (i = 0; i < 3; i++) {
        snprintf(text[i], sizeof text[i], "%s%s", core[i], r->has_query ? query : "");
        r->progs[i] = text[i];
    }
}

static dt_engine *st_start(void) {
    dt_desc d;
    memset(&st, 0, sizeof st);
    st.now = 1000000000;
    memset(&d, 0, sizeof d);
    d.clock.now = st_clock;
    d.clock.user_data = &st;
    d.sinks.event = st_on_event;
    d.sinks.metric = st_on_metric;
    d.sinks.dump = st_on_dump;
    d.sinks.user_data = &st;
    d.self_interval_ns = -1;
    d.processors = rel_processors(&d.nprocessors);
    st.has_query = rel_has_processor("query");
    st_programs(&st);
    st.e = dt_create(&d);
    return st.e;
}

/* ---- threads -------------------------------------------------------------- */

static void *st_emit_thread(void *arg) {
    st_run *r = (st_run *)arg;
    static const char *const routes[] = {"/a", "/b", "/c"};
    uint64_t mine[ST_KINDS] = {0};
    dt_event ev;
    dt_field f[2];
    unsigned long i;
    int k;
    memset(&ev, 0, sizeof ev);
    ev.fields = f;
    ev.tid = (uint64_t)(uintptr_t)&mine % 7u;
    for (i = 0; !ST_LOAD(&r->stop); i++) {
        k = (int)(i % ST_KINDS);
        if (k == ST_FLUSH && (i / ST_KINDS) % 50) k = ST_KEEP;      /* flush rarely */
        ev.name = dt_cstr(st_names[k]);
        ev.id = 0;
        ev.ts = 0;
        ev.level = k == ST_DEBUG ? DT_DEBUG : DT_INFO;
        f[0] = dt_field_str("route", routes[i % 3]);
        f[1] = dt_field_u64("i", i);
        ev.nfields = 2;
        dt_emit(r->e, &ev);
        mine[k]++;
    }
    for (k = 0; k < ST_KINDS; k++) ST_ADD(&r->emitted[k], mine[k]);
    return NULL;
}

/* Deploys the three programs in turn; every 5th turn rolls back, every
 * 7th undeploys. */
static void *st_deploy_thread(void *arg) {
    st_run *r = (st_run *)arg;
    long k;
    for (k = 0; !ST_LOAD(&r->stop); k++) {
        const char *p = r->progs[k % 3];
        int rc;
        if (dt_deploy(r->e, p, strlen(p), NULL) == DT_OK) ST_ADD(&r->deploys, 1L);
        else r->deploy_failures++;
        if (k % 5 == 4) {
            rc = dt_rollback(r->e);
            if (rc == DT_OK) r->rollbacks++;
            else if (rc != DT_ERR_EMPTY) r->swap_bad++;
        }
        if (k % 7 == 6) {
            rc = dt_undeploy(r->e);
            if (rc == DT_OK) r->undeploys++;
            else if (rc != DT_ERR_EMPTY) r->swap_bad++;
        }
    }
    return NULL;
}

static void *st_ripcord_thread(void *arg) {
    st_run *r = (st_run *)arg;
    do {
        dt_ripcord(r->e, 1);
        dt_ripcord_signal(r->e, 0);              /* the signal-safe store, caught up below */
        dt_ripcord(r->e, 0);
        r->toggles++;
    } while (!ST_LOAD(&r->stop));
    return NULL;
}

/* Event time runs at 10 s per step, so summarize windows (1m) close on
 * ticks all the time. */
static void *st_tick_thread(void *arg) {
    st_run *r = (st_run *)arg;
    do {
        int64_t now = ST_ADD(&r->now, (int64_t)10000000000);
        dt_tick(r->e, now);
        (void)dt_poll(r->e);
        if ((r->ticks++ & 7) == 0) { dt_flush(r->e); r->flushes++; }
        if ((r->ticks & 3) == 0) {
            int rc = dt_recorder_flush(r->e, "rec", NULL);
            if (rc != DT_OK && rc != DT_ERR_UNKNOWN) r->recorder_flush_bad++;
        }
    } while (!ST_LOAD(&r->stop));
    return NULL;
}

/* A deploy waits for read sections to drain; on a loaded machine a reader
 * preempted inside one makes that slow, so the run goes on (up to ten
 * times its time) until the programs have changed this often. */
#define ST_MIN_DEPLOYS 20

static long st_run_ms(void) {
    const char *s = getenv("DT_STRESS_MS");
    long ms = s ? strtol(s, NULL, 10) : (STRESS_TSAN ? 1500 : 300);
    return ms < 10 ? 10 : ms;
}

static void st_sleep_ms(long ms) {
    struct timespec ts;
    ts.tv_sec = ms / 1000;
    ts.tv_nsec = (ms % 1000) * 1000000L;
    while (nanosleep(&ts, &ts) != 0) {}
}

typedef void *(*st_fn)(void *);

static int st_go(long ms) {
    static const st_fn fns[] = {st_emit_thread, st_emit_thread, st_deploy_thread, st_ripcord_thread, st_tick_thread};
    pthread_t t[5];
    int i, n = (int)(sizeof fns / sizeof fns[0]);
    long waited;
    for (i = 0; i < n; i++)
        if (pthread_create(&t[i], NULL, fns[i], &st) != 0) { n = i; ST_STORE(&st.stop, 1u); break; }
    st_sleep_ms(ms);
    for (waited = 0; ST_LOAD(&st.deploys) < ST_MIN_DEPLOYS && waited < 10 * ms; waited += 10) st_sleep_ms(10);
    ST_STORE(&st.stop, 1u);
    for (i = 0; i < n; i++) pthread_join(t[i], NULL);
    return n == (int)(sizeof fns / sizeof fns[0]);
}

#define ST_EQ(want, got) ASSERT_EQ_FMT((unsigned long long)(want), (unsigned long long)(got), "%llu")

TEST all_roles_at_once_for_a_bounded_time_account_for_every_event(void) {
    SUP_NEEDS_THREADS();
    dt_stats s;
    uint64_t total = 0;
    int k;
    ASSERT(st_start() != NULL);
    ASSERT_EQ(DT_OK, deploy(st.e, st.progs[0]));         /* every program deploys alone */
    ASSERT_EQ(DT_OK, deploy(st.e, st.progs[1]));
    ASSERT_EQ(DT_OK, deploy(st.e, st.progs[2]));
    ASSERT(st_go(st_run_ms()));
    ASSERT_EQ(0, dt_ripcord_pulled(st.e));
    dt_flush(st.e);                                      /* what the windows still hold */
    (void)dt_poll(st.e);
    dt_get_stats(st.e, &s);
    for (k = 0; k < ST_KINDS; k++) total += st.emitted[k];
    ASSERT(st.emitted[ST_REQ] > 0);
    ST_EQ(total, s.events_in);
    ST_EQ(0, s.bad_events);
    ST_EQ(s.events_in, s.events_exported + s.events_filtered + s.events_dropped);
    ST_EQ(s.events_exported, st.sink_total);
    ST_EQ(st.emitted[ST_KEEP], st.exported[ST_KEEP]);
    if (st.has_query) {
        ST_EQ(s.events_dropped, (st.emitted[ST_REQ] - st.exported[ST_REQ]) + (st.emitted[ST_NOISE] - st.exported[ST_NOISE]));
        ST_EQ(st.emitted[ST_REQ], st.exported[ST_REQ] + st.req_counted);
    } else {
        ST_EQ(st.emitted[ST_REQ], st.exported[ST_REQ]);
        ST_EQ(st.emitted[ST_NOISE], st.exported[ST_NOISE]);
        ST_EQ(0, s.events_dropped);
    }
    ST_EQ(0, st.dump_bad);
    ST_EQ(s.recorder_dumps, st.dumps);
    ASSERT(st.dump_records <= s.recorder_records);
    ASSERT_EQ(0, st.deploy_failures);
    ASSERT_EQ(0, st.swap_bad);
    ASSERT_EQ(0, st.recorder_flush_bad);
    ST_EQ(3 + st.deploys, s.deploys);
    ASSERT(st.toggles > 0 && st.ticks > 0);
    ASSERT(st.deploys > 0);
    if (GREATEST_IS_VERBOSE())
        printf("  %llu events, %ld deploys, %ld rollbacks, %ld undeploys, %ld toggles, %ld ticks, %llu dumps, "
               "%llu metric points (%llu of %llu StressReq counted, %llu exported), %llu budget trips, query %s\n",
               (unsigned long long)total, st.deploys, st.rollbacks, st.undeploys, st.toggles, st.ticks,
               (unsigned long long)st.dumps, (unsigned long long)st.metric_points, (unsigned long long)st.req_counted,
               (unsigned long long)st.emitted[ST_REQ], (unsigned long long)st.exported[ST_REQ],
               (unsigned long long)s.budget_trips, st.has_query ? "on" : "not linked");
    dt_destroy(st.e);
    PASS();
}

SUITE(concurrency_stress) {
    RUN_TEST(all_roles_at_once_for_a_bounded_time_account_for_every_event);
}
