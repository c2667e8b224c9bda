/* Soak: a long, steady stream of events through a program that uses every
 * processor kind this build has (level rules, triggered level changes,
 * keyed and plain flight recorders, and the query and state-machine blocks
 * when dt_query.h and dt_stateful.h sit beside dt.h), checking that
 * nothing grows and nothing drifts:
 *
 *   - heap: the engine's live bytes (a counting allocator) are the same at
 *     every checkpoint after the first (no allocation per event, no leak);
 *   - RSS: the process's resident set grows by at most SOAK_RSS_SLACK
 *     after the second checkpoint (pages first touched late in warm-up);
 *   - counters: the input repeats with a period that divides the
 *     checkpoint interval, so every engine counter and sink count must grow
 *     by exactly the same amount in every interval after the first;
 *   - conservation at every checkpoint: events_in = exported + filtered +
 *     dropped + bad_events, the event sink saw exactly events_exported, the
 *     dump sink exactly recorder_dumps dumps.
 *
 *   make soak                    100,000,000 events (SOAK_EVENTS to change)
 *   build/soak --events 3000000  a short run (CI)
 *
 * Prints one line per checkpoint and a verdict; exit status 0 when flat, 1
 * when anything grew, drifted or was not conserved, 2 on a usage error.
 * Linux for RSS (/proc/self/statm); elsewhere RSS is not checked. */
#define _POSIX_C_SOURCE 200809L
#define DT_ALL_IMPLEMENTATION
#include "dt.h"

#if defined(__has_include) && !defined(SOAK_CORE_ONLY)
#if __has_include("dt_query.h")
#include "dt_query.h"
#define SOAK_QUERY 1
#endif
#if __has_include("dt_stateful.h")
#include "dt_stateful.h"
#define SOAK_STATEFUL 1
#endif
#endif
#ifndef SOAK_QUERY
#define SOAK_QUERY 0
#endif
#ifndef SOAK_STATEFUL
#define SOAK_STATEFUL 0
#endif

#define REL_PROCESSORS_LINKED 1
#include "reliability.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MS 1000000LL
#define SOAK_PERIOD 1000                 /* events in one repetition of the input: 1 s of event time */
#define SOAK_INTERVAL 600000             /* events between checkpoints: 10 min of event time */
#define SOAK_RSS_SLACK (64 * 1024)       /* bytes of RSS growth tolerated after warm-up (stdio, libc) */
#define SOAK_KEYS 100                    /* transactions in flight: more than the recorder's 64 keys */

static const char soak_core[] =
    "level Soak.Chatty = off\n"
    "level Soak.Detail* = debug for 5m when Soak.Error where code >= 500\n"
    "recorder txn {\n"
    "    record Soak.* where level >= debug\n"
    "    by txn\n"
    "    keys 64\n"
    "    capacity 1KiB\n"
    "    discard when Soak.Done\n"
    "    flush when Soak.Failed\n"
    "}\n"
    "recorder ring { record Soak.Tick; capacity 4KiB; flush when Soak.Crash }\n";

#if SOAK_QUERY
static const char soak_query[] =
    "query noise = Soak.Noise | drop\n"
    "query requests = Soak.Request | where ms >= 0 | summarize n = count(), slow = countif(ms > 100), p99 = p99(ms) by route every 1m\n"
    "query pings = Soak.Ping | throttle 10 per 1m\n"
    "query logins = Soak.Login | redact email | project-away secret\n";
#endif
#if SOAK_STATEFUL
static const char soak_stateful[] =
    "machine txns {\n"
    "  by txn\n"
    "  Unknown -> Open on Soak.Begin\n"
    "  Open -> Unknown on Soak.Done { observe TxnMs = elapsed() / 1ms }\n"
    "}\n"
    "on Soak.Crash do flush(\"ring\") every 1m\n";
#endif

typedef struct soak {
    uint64_t events, metrics, dumps, dump_records, actions;
    int64_t now;
} soak;

static void soak_event(const dt_event *ev, void *ud) { (void)ev; ((soak *)ud)->events++; }
static void soak_metric(const dt_metric *m, void *ud) { (void)m; ((soak *)ud)->metrics++; }
static void soak_action(const dt_action_call *c, void *ud) { (void)c; ((soak *)ud)->actions++; }
static void soak_dump(const dt_dump *d, void *ud) {
    soak *s = (soak *)ud;
    s->dumps++;
    s->dump_records += d->records;
}
static int64_t soak_clock(void *ud) { return ((soak *)ud)->now; }

static const dt_processor *const *soak_processors(uint32_t *n) {
    static const dt_processor *list[3];
    uint32_t k = 0;
#if SOAK_QUERY
    list[k++] = dt_query_processor();
#endif
#if SOAK_STATEFUL
    list[k++] = dt_stateful_processor();
    list[k++] = dt_stateful_trigger_processor();
#endif
    *n = k;
    return list;
}

/* The whole program: the core part, then each processor's part. */
static char *soak_program(size_t *len) {
    static char text[4096];
    text[0] = 0;
    strcat(text, soak_core);
#if SOAK_QUERY
    strcat(text, soak_query);
#endif
#if SOAK_STATEFUL
    strcat(text, soak_stateful);
#endif
    *len = strlen(text);
    return text;
}

/* Event i of the input: which event and its fields depend only on
 * i % SOAK_PERIOD, so every period is the same input (at a later time). */
static void soak_emit(dt_engine *e, soak *s, uint64_t i) {
    static const char *const routes[] = {"/pay", "/login", "/hash", "/health"};
    char txn[16];
    unsigned k = (unsigned)(i % SOAK_PERIOD), key = (k / 3) % SOAK_KEYS;
    dt_field f[4];
    dt_event ev;
    memset(&ev, 0, sizeof ev);
    s->now += MS;
    ev.ts = s->now;
    ev.tid = (uint64_t)(k % 8) + 1;
    ev.level = DT_INFO;
    ev.fields = f;
    snprintf(txn, sizeof txn, "T-%u", key);
    f[0] = dt_field_str("txn", txn);
    ev.nfields = 1;
    if (k == 505) {
        ev.name = dt_cstr("Soak.Error");
        ev.level = DT_ERROR;
        f[1] = dt_field_i64("code", 503);
        ev.nfields = 2;
    } else if (k == 707) {
        ev.name = dt_cstr("Soak.Crash");
        ev.level = DT_FATAL;
    } else if (k % 100 == 99) {                  /* ends the transaction of the event before */
        snprintf(txn, sizeof txn, "T-%u", ((k - 1) / 3) % SOAK_KEYS);
        ev.name = dt_cstr(k == 999 ? "Soak.Failed" : "Soak.Done");
    } else if (k % 100 == 0) {
        ev.name = dt_cstr("Soak.Begin");
    } else if (k % 10 == 1) {
        ev.name = dt_cstr("Soak.Request");
        f[1] = dt_field_str("route", routes[k % 4]);
        f[2] = dt_field_i64("ms", (int64_t)(k % 250));
        ev.nfields = 3;
    } else if (k % 10 == 2) {
        ev.name = dt_cstr("Soak.Login");
        f[1] = dt_field_str("user", "ann@example.com from 10.0.0.1");
        f[2] = dt_field_str("secret", "hunter2");
        ev.nfields = 3;
    } else if (k % 10 == 3) {
        ev.name = dt_cstr("Soak.Ping");
    } else if (k % 10 == 4) {
        ev.name = dt_cstr("Soak.Noise");
    } else if (k % 10 == 5) {
        ev.name = dt_cstr("Soak.Chatty");
    } else if (k % 10 == 6) {
        ev.name = dt_cstr("Soak.Tick");
        f[1] = dt_field_u64("i", k);
        ev.nfields = 2;
    } else {
        ev.name = dt_cstr("Soak.DetailStep");
        ev.level = DT_DEBUG;
        f[1] = dt_field_f64("ratio", (double)k / 7.0);
        ev.nfields = 2;
    }
    dt_emit(e, &ev);
    if (k == SOAK_PERIOD - 1) {                  /* once per second of event time */
        dt_tick(e, s->now);
        (void)dt_poll(e);
    }
}

/* Resident set size in bytes, 0 if unknown. */
static long soak_rss(void) {
    long pages = 0, resident = 0;
    FILE *f = fopen("/proc/self/statm", "r");
    if (!f) return 0;
    if (fscanf(f, "%ld %ld", &pages, &resident) != 2) resident = 0;
    fclose(f);
    return resident * 4096;
}

/* A checkpoint: every counter of dt_stats and of the sinks. */
#define SOAK_NSTATS (sizeof(dt_stats) / sizeof(uint64_t))
#define SOAK_NCOUNTS (SOAK_NSTATS + 5)
typedef struct soak_point {
    uint64_t c[SOAK_NCOUNTS];
    size_t heap;
    long rss;
} soak_point;

static const char *soak_count_name(size_t i) {
    static const char *const names[] = {
#define SOAK_NAME(name, doc) #name,
        DT_STATS(SOAK_NAME)
#undef SOAK_NAME
        "sink.events", "sink.metrics", "sink.dumps", "sink.dump_records", "sink.actions"};
    return names[i];
}

static soak_point soak_take(dt_engine *e, const soak *s, const rel_alloc *a) {
    soak_point p;
    dt_stats st;
    dt_get_stats(e, &st);
    memcpy(p.c, &st, sizeof st);
    p.c[SOAK_NSTATS] = s->events;
    p.c[SOAK_NSTATS + 1] = s->metrics;
    p.c[SOAK_NSTATS + 2] = s->dumps;
    p.c[SOAK_NSTATS + 3] = s->dump_records;
    p.c[SOAK_NSTATS + 4] = s->actions;
    p.heap = a->live_bytes;
    p.rss = soak_rss();
    return p;
}

/* Conservation at a checkpoint; prints what does not add up. */
static int soak_conserved(const dt_stats *st, const soak *s) {
    int ok = 1;
    if (st->events_in != st->events_exported + st->events_filtered + st->events_dropped + st->bad_events) {
        printf("  not conserved: events_in %llu != exported + filtered + dropped + bad %llu\n",
               (unsigned long long)st->events_in,
               (unsigned long long)(st->events_exported + st->events_filtered + st->events_dropped + st->bad_events));
        ok = 0;
    }
    if (st->events_exported != s->events) {
        printf("  not conserved: events_exported %llu, the sink saw %llu\n", (unsigned long long)st->events_exported,
               (unsigned long long)s->events);
        ok = 0;
    }
    if (st->recorder_dumps != s->dumps) {
        printf("  not conserved: recorder_dumps %llu, the sink saw %llu\n", (unsigned long long)st->recorder_dumps,
               (unsigned long long)s->dumps);
        ok = 0;
    }
    return ok;
}

/* Interval `now - prev` against the first steady interval `ref`. */
static int soak_same_growth(const soak_point *ref, const soak_point *prev, const soak_point *now) {
    size_t i;
    int ok = 1;
    for (i = 0; i < SOAK_NCOUNTS; i++) {
        uint64_t want = ref[1].c[i] - ref[0].c[i], got = now->c[i] - prev->c[i];
        if (want != got) {
            printf("  drift: %s grew by %llu in this interval, %llu in the first steady one\n", soak_count_name(i),
                   (unsigned long long)got, (unsigned long long)want);
            ok = 0;
        }
    }
    return ok;
}

static int soak_usage(void) {
    fprintf(stderr, "usage: soak [--events N]   (N at least %d; a checkpoint every %d)\n", 3 * SOAK_INTERVAL, SOAK_INTERVAL);
    return 2;
}

int main(int argc, char **argv) {
    uint64_t n = 100000000ull, i;
    rel_alloc a;
    soak s;
    dt_desc d;
    dt_engine *e;
    dt_error err;
    size_t len;
    char *text;
    soak_point first[2], prev, now;
    int ok = 1;
    memset(first, 0, sizeof first);
    if (argc == 3 && strcmp(argv[1], "--events") == 0) n = strtoull(argv[2], NULL, 10);
    else if (argc != 1) return soak_usage();
    if (n < 3 * SOAK_INTERVAL) return soak_usage();
    memset(&s, 0, sizeof s);
    memset(&d, 0, sizeof d);
    d.allocator = rel_allocator(&a, 0, 0);
    d.clock.now = soak_clock;
    d.clock.user_data = &s;
    d.sinks.event = soak_event;
    d.sinks.metric = soak_metric;
    d.sinks.dump = soak_dump;
    d.sinks.action = soak_action;
    d.sinks.user_data = &s;
    d.self_interval_ns = 60 * 1000 * MS;
    d.processors = soak_processors(&d.nprocessors);
    e = dt_create(&d);
    if (!e) { fprintf(stderr, "soak: dt_create failed\n"); return 1; }
    text = soak_program(&len);
    if (dt_deploy(e, text, len, &err) != DT_OK) {
        char msg[600];
        dt_error_format(&err, msg, sizeof msg);
        fprintf(stderr, "soak: program refused: %s\n%s", msg, text);
        return 1;
    }
    printf("soak: %llu events, checkpoint every %d; processors: level, recorder%s%s\n", (unsigned long long)n,
           SOAK_INTERVAL, SOAK_QUERY ? ", query" : "", SOAK_STATEFUL ? ", machine, on" : "");
    prev = soak_take(e, &s, &a);
    for (i = 0; i < n; i++) {
        dt_stats st;
        soak_emit(e, &s, i);
        if ((i + 1) % SOAK_INTERVAL) continue;
        now = soak_take(e, &s, &a);
        memcpy(&st, now.c, sizeof st);
        printf("%12llu events  heap %zu B  rss %ld KiB  exported %llu  dropped %llu  filtered %llu  dumps %llu  metrics %llu\n",
               (unsigned long long)(i + 1), now.heap, now.rss / 1024, (unsigned long long)st.events_exported,
               (unsigned long long)st.events_dropped, (unsigned long long)st.events_filtered,
               (unsigned long long)s.dumps, (unsigned long long)s.metrics);
        ok &= soak_conserved(&st, &s);
        if (i + 1 == SOAK_INTERVAL) first[0] = now;           /* warm-up ends */
        else if (i + 1 == 2 * SOAK_INTERVAL) first[1] = now;  /* the first steady interval */
        else ok &= soak_same_growth(first, &prev, &now);
        if (i + 1 > SOAK_INTERVAL) {
            if (now.heap != first[0].heap) { printf("  heap grew: %zu B, %zu B after warm-up\n", now.heap, first[0].heap); ok = 0; }
        }
        if (i + 1 > 2 * SOAK_INTERVAL && now.rss > first[1].rss + SOAK_RSS_SLACK) {
            printf("  rss grew: %ld KiB, %ld KiB after warm-up\n", now.rss / 1024, first[1].rss / 1024);
            ok = 0;
        }
        prev = now;
    }
    if (n % SOAK_INTERVAL) {                     /* the events after the last checkpoint */
        dt_stats st;
        dt_get_stats(e, &st);
        ok &= soak_conserved(&st, &s);
    }
    dt_destroy(e);
    if (a.live) { printf("  leak: %ld blocks (%zu B) live after dt_destroy\n", a.live, a.live_bytes); ok = 0; }
    printf("soak: %s\n", ok ? "flat (heap and counters steady after warm-up, everything conserved, nothing leaked)"
                           : "FAILED");
    return ok ? 0 : 1;
}
