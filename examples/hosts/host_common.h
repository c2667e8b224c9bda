/* host_common.h — what the example hosts share: a virtual clock per
 * thread, sinks that turn what dt hands out into text lines, and the
 * program loader. Only the example hosts include it.
 *
 * WHY THE OUTPUT IS SORTED. The hosts are multi-threaded like real
 * services, so the order in which sinks run differs from run to run. Each
 * thread's work is fixed (its files, its items) and its clock is virtual
 * (it advances by fixed steps, per thread), so *what* every thread emits is
 * the same on every run; only the interleaving is not. The hosts collect
 * every sink call as a line and print the lines sorted: the output is then
 * byte-for-byte stable, and CI compares it with a file (NAME.expected
 * beside each host). Nothing printed depends on which thread ran first:
 * no tid, no recorder key (keys `by tid` are thread ordinals, so the
 * audit of flush and discard shows the recorder only). */
#ifndef HOST_COMMON_H
#define HOST_COMMON_H

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dt.h"
#include "dt_query.h"
#include "dt_stateful.h"

#define HOST_LINES 4096
#define HOST_LINE 512

/* ---- collected output ---------------------------------------------------- */
static char *host_lines[HOST_LINES];
static int host_nlines, host_lines_lost;
static pthread_mutex_t host_mu = PTHREAD_MUTEX_INITIALIZER;

static void host_line(const char *text) {
    pthread_mutex_lock(&host_mu);
    if (host_nlines < HOST_LINES) {
        host_lines[host_nlines] = (char *)malloc(strlen(text) + 1);
        if (host_lines[host_nlines]) strcpy(host_lines[host_nlines++], text);
    } else {
        host_lines_lost++;
    }
    pthread_mutex_unlock(&host_mu);
}

static int host_cmp(const void *a, const void *b) { return strcmp(*(char *const *)a, *(char *const *)b); }

/* Prints the collected lines sorted, and frees them. */
static void host_print_sorted(void) {
    int i;
    qsort(host_lines, (size_t)host_nlines, sizeof host_lines[0], host_cmp);
    for (i = 0; i < host_nlines; i++) { puts(host_lines[i]); free(host_lines[i]); }
    if (host_lines_lost) printf("(%d lines lost: more than %d)\n", host_lines_lost, HOST_LINES);
    host_nlines = 0;
}

/* ---- text ---------------------------------------------------------------- */
static size_t host_put(char *buf, size_t at, const char *s) {
    size_t n = strlen(s);
    if (at >= HOST_LINE - 1) return at;
    if (n > HOST_LINE - 1 - at) n = HOST_LINE - 1 - at;
    memcpy(buf + at, s, n);
    buf[at + n] = 0;
    return at + n;
}

static void host_value(char *out, size_t size, const dt_value *v) {
    switch (v->type) {
    case DT_TYPE_BOOL: snprintf(out, size, "%s", v->as.b ? "true" : "false"); break;
    case DT_TYPE_I64: snprintf(out, size, "%lld", (long long)v->as.i64); break;
    case DT_TYPE_U64: snprintf(out, size, "%llu", (unsigned long long)v->as.u64); break;
    case DT_TYPE_F64: snprintf(out, size, "%g", v->as.f64); break;
    case DT_TYPE_STR: snprintf(out, size, "\"%.*s\"", (int)v->as.str.len, v->as.str.ptr); break;
    case DT_TYPE_BYTES: snprintf(out, size, "<%u bytes>", (unsigned)v->as.str.len); break;
    default: snprintf(out, size, "null"); break;
    }
}

/* "{a=1 b="x"}" appended at buf[at]. */
static size_t host_fields(char *buf, size_t at, const dt_field *f, uint32_t n) {
    uint32_t i;
    at = host_put(buf, at, "{");
    for (i = 0; i < n; i++) {
        char v[128], one[200];
        host_value(v, sizeof v, &f[i].value);
        snprintf(one, sizeof one, "%s%.*s=%s", i ? " " : "", (int)f[i].name.len, f[i].name.ptr, v);
        at = host_put(buf, at, one);
    }
    return host_put(buf, at, "}");
}

/* ---- virtual time: one clock per thread ---------------------------------- */
/* Every thread owns an int64_t of virtual nanoseconds and moves it itself;
 * the engine's clock hook reads the calling thread's. */
static pthread_key_t host_time_key;
static int64_t host_main_time;

static void host_time_init(int64_t start) {
    pthread_key_create(&host_time_key, NULL);
    host_main_time = start;
    pthread_setspecific(host_time_key, &host_main_time);
}

static void host_time_bind(int64_t *t) { pthread_setspecific(host_time_key, t); }

static int64_t host_clock(void *ud) {
    const int64_t *t = (const int64_t *)pthread_getspecific(host_time_key);
    (void)ud;
    return t ? *t : host_main_time;
}

/* Virtual time in ms since the run's start, for the output. */
static int64_t host_start_ns;
static long long host_ms(int64_t ts) { return (long long)((ts - host_start_ns) / 1000000); }

/* ---- sinks --------------------------------------------------------------- */
static void host_on_event(const dt_event *ev, void *ud) {
    char buf[HOST_LINE], head[200];
    (void)ud;
    snprintf(head, sizeof head, "t=%06lldms event %.*s %s ", host_ms(ev->ts), (int)ev->name.len, ev->name.ptr,
             dt_level_name(ev->level));
    host_fields(buf, host_put(buf, 0, head), ev->fields, ev->nfields);
    host_line(buf);
}

static void host_on_metric(const dt_metric *m, void *ud) {
    char buf[HOST_LINE], one[160];
    size_t at;
    uint32_t i;
    (void)ud;
    snprintf(one, sizeof one, "t=%06lldms metric %.*s ", host_ms(m->end_ns), (int)m->name.len, m->name.ptr);
    at = host_fields(buf, host_put(buf, 0, one), m->labels, m->nlabels);
    if (m->kind == DT_METRIC_HISTOGRAM) {
        snprintf(one, sizeof one, " histogram count=%llu sum=%g buckets=", (unsigned long long)m->count, m->sum);
        at = host_put(buf, at, one);
        for (i = 0; i < m->nbuckets; i++) {
            snprintf(one, sizeof one, "%s%llu", i ? "," : "", (unsigned long long)m->bucket_counts[i]);
            at = host_put(buf, at, one);
        }
    } else {
        snprintf(one, sizeof one, " %s=%g", m->kind == DT_METRIC_GAUGE ? "gauge" : "counter", m->value);
        (void)host_put(buf, at, one);
    }
    host_line(buf);
}

static void host_on_action(const dt_action_call *c, void *ud) {
    char buf[HOST_LINE], one[160];
    size_t at;
    uint32_t i;
    uint32_t nargs = c->nargs;
    (void)ud;
    if (!strcmp(c->action, "flush") || !strcmp(c->action, "discard")) nargs = nargs ? 1u : 0u;   /* no key */
    snprintf(one, sizeof one, "t=%06lldms action %s%s(", host_ms(c->ts), c->action, c->suppressed ? " suppressed" : "");
    at = host_put(buf, 0, one);
    for (i = 0; i < nargs; i++) {
        host_value(one, sizeof one, &c->args[i]);
        at = host_put(buf, at, i ? ", " : "");
        at = host_put(buf, at, one);
    }
    (void)host_put(buf, at, ")");
    host_line(buf);
}

/* A dump: one line with every record, oldest first. */
typedef struct host_dump_text {
    char buf[HOST_LINE];
    size_t at;
} host_dump_text;

static void host_dump_header(const dt_dump_header *h, void *ud) {
    host_dump_text *t = (host_dump_text *)ud;
    char one[160];
    snprintf(one, sizeof one, "dump %.*s records=%u overwritten=%llu:", (int)h->recorder.len, h->recorder.ptr,
             (unsigned)h->records, (unsigned long long)h->overwritten);
    t->at = host_put(t->buf, 0, one);
}

static void host_dump_record(const dt_event *ev, void *ud) {
    host_dump_text *t = (host_dump_text *)ud;
    char one[160];
    snprintf(one, sizeof one, " %.*s", (int)ev->name.len, ev->name.ptr);
    t->at = host_fields(t->buf, host_put(t->buf, t->at, one), ev->fields, ev->nfields);
}

static void host_on_dump(const dt_dump *d, void *ud) {
    static uint8_t bytes[8192];                          /* under the recorder's flush lock: one at a time */
    host_dump_text t;
    size_t len = 0, bad = 0;
    uint32_t i;
    char head[64];
    (void)ud;
    for (i = 0; i < d->nchunks && len + d->chunks[i].len <= sizeof bytes; i++) {
        memcpy(bytes + len, d->chunks[i].ptr, d->chunks[i].len);
        len += d->chunks[i].len;
    }
    snprintf(head, sizeof head, "t=%06lldms ", host_ms(d->ts));
    t.at = 0;
    t.buf[0] = 0;
    if (dt_dump_decode(bytes, len, host_dump_header, host_dump_record, &t, &bad) != DT_OK)
        t.at = host_put(t.buf, t.at, " (undecodable)");
    {
        char line[HOST_LINE];
        (void)host_put(line, host_put(line, 0, head), t.buf);
        host_line(line);
    }
}

/* ---- engine and program ---------------------------------------------------- */
static const dt_processor *host_procs[3];

/* An engine with every processor, the virtual clock and the sinks above;
 * high-risk programs allowed (the hosts' own actions). */
static dt_engine *host_engine(void) {
    dt_desc d;
    memset(&d, 0, sizeof d);
    host_procs[0] = dt_query_processor();
    host_procs[1] = dt_stateful_processor();
    host_procs[2] = dt_stateful_trigger_processor();
    d.processors = host_procs;
    d.nprocessors = 3;
    d.clock.now = host_clock;
    d.sinks.event = host_on_event;
    d.sinks.metric = host_on_metric;
    d.sinks.dump = host_on_dump;
    d.sinks.action = host_on_action;
    d.self_interval_ns = -1;
    d.max_risk = DT_RISK_HIGH;
    return dt_create(&d);
}

/* Reads a whole program file into buf; its length, or -1. */
static long host_read_file(const char *path, char *buf, size_t size) {
    FILE *f = fopen(path, "rb");
    size_t n;
    if (!f) return -1;
    n = fread(buf, 1, size - 1, f);
    fclose(f);
    buf[n] = 0;
    return (long)n;
}

/* Deploys the program at path; prints the error and returns nonzero if it
 * cannot. */
static int host_deploy_file(dt_engine *e, const char *path) {
    static char text[65536];
    char msg[600];
    dt_error err;
    long n = host_read_file(path, text, sizeof text);
    if (n < 0) { fprintf(stderr, "%s: cannot read\n", path); return 1; }
    if (dt_deploy(e, text, (size_t)n, &err) != DT_OK) {
        dt_error_format(&err, msg, sizeof msg);
        fprintf(stderr, "%s:%s\n", path, msg);
        return 1;
    }
    return 0;
}

/* The hosts' own action, memory_dump(what): a real service would write a
 * core or heap dump; here it says so. Registered by host_start. */
static void host_memory_dump(dt_engine *e, const dt_action_call *c, void *ud) {
    char line[HOST_LINE], v[128];
    (void)e;
    (void)ud;
    host_value(v, sizeof v, &c->args[0]);
    snprintf(line, sizeof line, "t=%06lldms host memory_dump(%s) wrote a dump", host_ms(c->ts), v);
    host_line(line);
}

/* A host's start: virtual time from start (ns) on the main thread, the
 * engine, memory_dump registered, sites bound, the program file deployed.
 * NULL (and a message) if any of it fails. */
static dt_engine *host_start(const char *program, int64_t start) {
    dt_action_desc ad;
    dt_engine *e;
    host_time_init(start);
    host_start_ns = start;
    e = host_engine();
    if (!e) return NULL;
    memset(&ad, 0, sizeof ad);
    ad.name = "memory_dump";
    ad.fn = host_memory_dump;
    ad.min_args = ad.max_args = 1;
    if (dt_action_register(e, &ad) != DT_OK) { dt_destroy(e); return NULL; }
    dt_bind_sites(e);
    if (host_deploy_file(e, program)) { dt_destroy(e); return NULL; }
    return e;
}

static void host_print_stats(dt_engine *e);

/* A host's end, once its threads are joined: virtual time moves to end
 * (closing the minute windows), what is open is flushed, and the lines
 * are printed sorted, then the counters. */
static void host_finish(dt_engine *e, int64_t end) {
    host_main_time = end;
    dt_tick(e, end);
    dt_flush(e);
    host_print_sorted();
    host_print_stats(e);
    dt_destroy(e);
}

/* The engine's counters that do not depend on thread timing. */
static void host_print_stats(dt_engine *e) {
    dt_stats st;
    dt_get_stats(e, &st);
    printf("stats: in=%llu exported=%llu dropped=%llu filtered=%llu recorded=%llu dumps=%llu actions=%llu "
           "rule_errors=%llu overflows=%llu\n",
           (unsigned long long)st.events_in, (unsigned long long)st.events_exported,
           (unsigned long long)st.events_dropped, (unsigned long long)st.events_filtered,
           (unsigned long long)st.recorder_records, (unsigned long long)st.recorder_dumps,
           (unsigned long long)st.actions_fired, (unsigned long long)st.rule_errors,
           (unsigned long long)st.overflows);
}

#endif /* HOST_COMMON_H */
