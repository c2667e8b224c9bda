/* fuzz_query_events.c — libFuzzer target: random events through random
 * valid queries (dt_query.h).
 *
 * The input drives a small grammar of valid query programs (every operator:
 * where, drop, project, project-away, project-rename, extend, redact,
 * sample, throttle, summarize with every aggregate and `by` keys such as
 * bin(ts, 1m)); the program must deploy. The rest of the input is a script
 * of events (fields of every type: strings with invalid UTF-8 and secrets,
 * i64/u64 extremes, NaN and infinities, bytes from the input), timestamps
 * that advance and go back, ticks, flushes and redeploys of the same program
 * (so open windows carry over). Properties, checked on every input:
 *   1. the program the grammar wrote deploys;
 *   2. every metric point has a name, named labels, a window that ends after
 *      it starts, and counts that are integers >= 0;
 *   3. the count() points of one query add up to at most the events emitted;
 *   4. every event ends exported, dropped or filtered: their sum is the
 *      number emitted, none is refused, and the sink saw each export.
 * Crashes, leaks and hangs are the sanitizers' and libFuzzer's to find.
 *
 * Build and run (clang):  make B=build build/fuzz_query_events
 *     build/fuzz_query_events -dict=fuzz/query_events.dict fuzz/corpus/query_events
 * Replay the corpus without libFuzzer (gcc, valgrind):
 *     gcc -g -I. fuzz/fuzz_query_events.c fuzz/standalone.c -o /tmp/fqe
 *     /tmp/fqe fuzz/corpus/query_events
 * The input is a byte per choice (the byte modulo the number of options):
 * first the program, then the events. fuzz/query_events_seeds.py writes the
 * seed corpus from readable descriptions; FQ_SHOW=1 prints each program.
 */
#define DT_IMPLEMENTATION
#define DT_QUERY_IMPLEMENTATION
#include "dt.h"
#include "dt_query.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define FQ_MAX_QUERIES 4
#define FQ_MAX_TEXT 4096
#define FQ_MAX_AGGS 4
#define FQ_MAX_EVENTS 256         /* per input, so one input stays fast */

static void fq_fail(const char *what, const char *detail) {
    fprintf(stderr, "fuzz_query_events: property failed: %s %s\n", what, detail ? detail : "");
    abort();
}

/* >>input: a byte reader that gives zeros once the input runs out ------- */
typedef struct fq_in {
    const uint8_t *p;
    size_t n, at;
} fq_in;

static unsigned fq_byte(fq_in *in) { return in->at < in->n ? in->p[in->at++] : 0u; }
static unsigned fq_pick(fq_in *in, unsigned n) { return fq_byte(in) % n; }
static int fq_more(const fq_in *in) { return in->at < in->n; }

/* >>program: text built from a grammar of valid queries ----------------- */
typedef struct fq_text {
    char buf[FQ_MAX_TEXT];
    size_t len;
} fq_text;

/* Callers pass at most one value read from the input per call: C leaves
 * the order of argument evaluation open, and gcc and clang must read the
 * same program from the same bytes. */
static void fq_put(fq_text *t, const char *fmt, ...) {
    va_list ap;
    int n;
    va_start(ap, fmt);
    n = vsnprintf(t->buf + t->len, sizeof t->buf - t->len, fmt, ap);
    va_end(ap);
    if (n > 0) t->len += (size_t)n < sizeof t->buf - t->len ? (size_t)n : sizeof t->buf - t->len - 1;
}

static const char *const fq_events[] = {"LogWelcomeBanner", "LogLaunch", "LogEndFileHash", "HealthCheckPing",
                                        "LogStartingFileHash", "TransactionFailed"};
static const char *const fq_patterns[] = {"LogWelcomeBanner", "LogLaunch", "LogEndFileHash", "HealthCheckPing",
                                          "Log*", "*", "TransactionFailed"};
static const char *const fq_fields[] = {"s", "i", "u", "f", "b", "fileName", "secret", "x"};
static const char *const fq_durations[] = {"1ns", "1ms", "1s", "10s", "1m", "1h", "1d"};
#define FQ_COUNT(a) (sizeof(a) / sizeof((a)[0]))
#define FQ_FIELD(in) fq_fields[fq_pick((in), FQ_COUNT(fq_fields))]

static void fq_value_expr(fq_in *in, fq_text *t) {
    switch (fq_pick(in, 12)) {
    case 0: fq_put(t, "%s", FQ_FIELD(in)); break;
    case 1: fq_put(t, "i * %u", fq_byte(in)); break;
    case 2: fq_put(t, "f + 1.5"); break;
    case 3: fq_put(t, "strlen(%s)", FQ_FIELD(in)); break;
    case 4: fq_put(t, "lower(%s)", FQ_FIELD(in)); break;
    case 5: fq_put(t, "upper(s)"); break;
    case 6:
        fq_put(t, "substring(%s, ", FQ_FIELD(in));
        fq_put(t, "%u, ", fq_pick(in, 8));
        fq_put(t, "%u)", fq_pick(in, 8));
        break;
    case 7: fq_put(t, "extension(fileName)"); break;
    case 8: fq_put(t, "hash(%s)", FQ_FIELD(in)); break;
    case 9: fq_put(t, "tostring(%s)", FQ_FIELD(in)); break;
    case 10: fq_put(t, "u / %u", fq_byte(in)); break;
    default: fq_put(t, "i %% %u - ts", fq_byte(in)); break;
    }
}

static void fq_condition(fq_in *in, fq_text *t, int depth) {
    static const char *const cmp[] = {"==", "!=", "<", "<=", ">", ">="};
    static const char *const str[] = {"contains", "startswith", "endswith", "has", "contains_cs", "!contains", "=~"};
    static const char *const lits[] = {"\"a\"", "\"Log\"", "\"\"", "\"@\"", "\"ghp_\""};
    unsigned k = fq_pick(in, depth > 2 ? 8 : 11);
    switch (k) {
    case 0:
        fq_put(t, "%s ", FQ_FIELD(in));
        fq_put(t, "%s ", cmp[fq_pick(in, 6)]);
        fq_put(t, "%d", (int)(signed char)fq_byte(in));
        break;
    case 1:
        fq_put(t, "%s ", FQ_FIELD(in));
        fq_put(t, "%s ", str[fq_pick(in, 7)]);
        fq_put(t, "%s", lits[fq_pick(in, 5)]);
        break;
    case 2:
        fq_put(t, "%s(", fq_pick(in, 2) ? "isnull" : "isnotnull");
        fq_put(t, "%s)", FQ_FIELD(in));
        break;
    case 3:
        fq_put(t, "i between (%d .. ", -(int)fq_byte(in));
        fq_put(t, "%u)", fq_byte(in));
        break;
    case 4: fq_put(t, "s in (\"a\", \"b\", %s)", lits[fq_pick(in, 5)]); break;
    case 5: fq_put(t, "level >= %s", fq_pick(in, 2) ? "warn" : "debug"); break;
    case 6: fq_put(t, "name startswith \"Log\""); break;
    case 7: fq_put(t, "f != f"); break;
    case 8: fq_put(t, "not ("); fq_condition(in, t, depth + 1); fq_put(t, ")"); break;
    default:
        fq_put(t, "(");
        fq_condition(in, t, depth + 1);
        fq_put(t, k == 9 ? " and " : " or ");
        fq_condition(in, t, depth + 1);
        fq_put(t, ")");
        break;
    }
}

static void fq_field_list(fq_in *in, fq_text *t) {
    unsigned i, n = 1 + fq_pick(in, 3);
    for (i = 0; i < n; i++) fq_put(t, "%s%s", i ? ", " : "", FQ_FIELD(in));
}

static void fq_redact(fq_in *in, fq_text *t) {
    static const char *const det[] = {"email", "ipv4", "ipv6", "bearer", "jwt", "apikey", "pem", "card"};
    unsigned i, mask = fq_byte(in), n = 0;
    fq_put(t, "redact");
    for (i = 0; i < 8; i++)
        if (mask & (1u << i)) fq_put(t, "%s %s", n++ ? "," : "", det[i]);
    if (fq_pick(in, 2)) { fq_put(t, " in "); fq_field_list(in, t); }
    switch (fq_pick(in, 4)) {
    case 0: fq_put(t, " with \"***\""); break;
    case 1: fq_put(t, " with hash key \"k%u\"", fq_byte(in)); break;
    case 2: fq_put(t, " with hash"); break;
    default: break;
    }
}

/* Aggregates are named so the metric sink can tell counts from the rest:
 * a name ending in ".count" or starting "n_" is a count. */
static void fq_aggregate(fq_in *in, fq_text *t, unsigned q, unsigned a) {
    static const char *const one[] = {"sum", "min", "max", "avg", "dcount", "p50", "p90", "p95", "p99", "p999"};
    unsigned k = fq_pick(in, 14);
    if (a == 0 && k == 0) { fq_put(t, "count()"); return; }             /* the default name q<N>.count */
    if (k <= 1) { fq_put(t, "n_%u_%u = count()", q, a); return; }
    fq_put(t, "m_%u_%u = ", q, a);
    if (k == 2) { fq_put(t, "countif("); fq_condition(in, t, 2); fq_put(t, ")"); return; }
    if (k == 3) { fq_put(t, "percentile("); fq_value_expr(in, t); fq_put(t, ", %u.", fq_pick(in, 100)); fq_put(t, "%u)", fq_pick(in, 10)); return; }
    fq_put(t, "%s(", one[(k - 4) % FQ_COUNT(one)]);
    fq_value_expr(in, t);
    fq_put(t, ")");
}

static void fq_summarize(fq_in *in, fq_text *t, unsigned q) {
    unsigned i, n = 1 + fq_pick(in, FQ_MAX_AGGS), nk = fq_pick(in, 4);
    fq_put(t, "summarize ");
    for (i = 0; i < n; i++) { if (i) fq_put(t, ", "); fq_aggregate(in, t, q, i); }
    for (i = 0; i < nk; i++) {
        fq_put(t, i ? ", " : " by ");
        switch (fq_pick(in, 5)) {
        case 0: fq_put(t, "bin(ts, %s)", fq_durations[fq_pick(in, FQ_COUNT(fq_durations))]); break;
        case 1: fq_put(t, "k%u = ", i); fq_value_expr(in, t); break;
        case 2: fq_put(t, "bin(i, %u)", 1 + fq_byte(in)); break;
        default: fq_put(t, "%s", FQ_FIELD(in)); break;
        }
    }
    if (fq_pick(in, 2)) fq_put(t, " every %s", fq_durations[fq_pick(in, FQ_COUNT(fq_durations))]);
    /* the default 1000 groups of sketches would pass the memory bound */
    if (nk || fq_pick(in, 2)) fq_put(t, " groups %u", 1 + fq_pick(in, 8));
    if (fq_pick(in, 2)) fq_put(t, " keep");
}

static void fq_operator(fq_in *in, fq_text *t, unsigned q) {
    switch (fq_pick(in, 10)) {
    case 0: fq_put(t, "where "); fq_condition(in, t, 0); break;
    case 1: fq_put(t, "drop"); break;
    case 2: fq_put(t, "project "); fq_field_list(in, t); break;
    case 3: fq_put(t, "project-away "); fq_field_list(in, t); break;
    case 4: fq_put(t, "project-rename r%u = %s", q, FQ_FIELD(in)); break;
    case 5: fq_put(t, "extend e%u = ", q); fq_value_expr(in, t); break;
    case 6: fq_redact(in, t); break;
    case 7:
        if (fq_pick(in, 2)) fq_put(t, "sample 0.%u", fq_byte(in));
        else fq_put(t, "sample 1 in %u", 1 + fq_byte(in));
        if (fq_pick(in, 2)) fq_put(t, " by %s", FQ_FIELD(in));
        if (fq_pick(in, 2)) fq_put(t, " seed %u", fq_byte(in));
        break;
    case 8:
        fq_put(t, "throttle %u per ", fq_pick(in, 12));
        fq_put(t, "%s", fq_durations[fq_pick(in, FQ_COUNT(fq_durations))]);
        if (fq_pick(in, 2)) { fq_put(t, " by %s", FQ_FIELD(in)); fq_put(t, " keys %u", 1 + fq_pick(in, 8)); }
        break;
    default: fq_summarize(in, t, q); break;
    }
}

/* Queries q0..qN-1, each on one or two patterns with one to five
 * operators; a summarize, when drawn, ends its query. */
static unsigned fq_program(fq_in *in, fq_text *t) {
    unsigned q, i, nq = 1 + fq_pick(in, FQ_MAX_QUERIES), nops;
    for (q = 0; q < nq; q++) {
        fq_put(t, "query q%u = %s", q, fq_patterns[fq_pick(in, FQ_COUNT(fq_patterns))]);
        if (fq_pick(in, 4) == 0) fq_put(t, ", %s", fq_patterns[fq_pick(in, FQ_COUNT(fq_patterns))]);
        nops = 1 + fq_pick(in, 5);
        for (i = 0; i < nops; i++) {
            size_t mark = t->len;
            fq_put(t, " | ");
            fq_operator(in, t, q);
            if (strstr(t->buf + mark, "summarize")) break;
        }
        fq_put(t, "\n");
    }
    return nq;
}

/* >>checks: what leaves the engine ------------------------------------- */
typedef struct fq_seen {
    uint64_t exported;
    double counted[FQ_MAX_QUERIES][FQ_MAX_AGGS];   /* sum of the points of each count() */
} fq_seen;

static void fq_event_sink(const dt_event *ev, void *ud) {
    fq_seen *s = (fq_seen *)ud;
    if (!ev->name.len) fq_fail("an exported event has no name", NULL);
    s->exported++;
}

/* n_<query>_<aggregate>, or q<query>.count for the first aggregate. */
static int fq_is_count(dt_str name, unsigned *q, unsigned *a) {
    char buf[64];
    size_t n = name.len < sizeof buf - 1 ? name.len : sizeof buf - 1;
    memcpy(buf, name.ptr, n);
    buf[n] = 0;
    *a = 0;
    if (sscanf(buf, "n_%u_%u", q, a) == 2) return 1;
    return n > 7 && sscanf(buf, "q%u.", q) == 1 && strcmp(buf + n - 6, ".count") == 0;
}

static void fq_metric_sink(const dt_metric *m, void *ud) {
    fq_seen *s = (fq_seen *)ud;
    unsigned q, a, i;
    if (!m->name.len) fq_fail("a metric point has no name", NULL);
    if (!(m->start_ns < m->end_ns)) fq_fail("a metric window does not end after it starts:", m->name.ptr);
    for (i = 0; i < m->nlabels; i++)
        if (!m->labels[i].name.len) fq_fail("a metric label has no name", NULL);
    if (fq_is_count(m->name, &q, &a)) {
        if (!m->is_int || m->kind != DT_METRIC_COUNTER || !(m->value >= 0) || m->value != (double)(uint64_t)m->value)
            fq_fail("a count is not a counter of a whole number >= 0:", m->name.ptr);
        if (q < FQ_MAX_QUERIES && a < FQ_MAX_AGGS) s->counted[q][a] += m->value;
    }
}

/* >>events: fields of every type from the input ------------------------ */
static volatile double fq_zero;       /* NaN and infinities made at run time */

static dt_value fq_value(fq_in *in) {
    static const char *const strs[] = {
        "", "a", "b", "Log", "\xff\xfe\xc3", "\xc3\x28 bad utf-8 \xed\xa0\x80", "report.final.PDF", "noext",
        "mail bob@example.com now", "from 10.0.0.1 and fe80::1:2:3:4", "Authorization: Bearer abc.def-ghi_jkl",
        "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxIn0.c2lnbmF0dXJlc2lnbg", "key ghp_0123456789abcdefghijABCDEFGHIJ012345",
        "AKIAIOSFODNN7EXAMPLE xoxb-1234-5678-abcdefgh", "-----BEGIN PRIVATE KEY-----\nMIIB\n-----END PRIVATE KEY-----",
        "card 4111 1111 1111 1111 id 1234567812345678", "v1.2.3.4.5 user@localhost deadbeefdeadbeefdeadbeef",
        "0123456789012345678901234567890123456789012345678901234567890123456789012345678901234567890123456789"};
    static const int64_t i64s[] = {0, 1, -1, 42, INT64_MAX, INT64_MIN, INT64_MIN + 1, 1000000007};
    static const uint64_t u64s[] = {0, 1, UINT64_MAX, (uint64_t)INT64_MAX + 1u, 12345};
    dt_value v;
    unsigned k = fq_pick(in, 9);
    v.as.u64 = 0;
    switch (k) {
    case 0: v.type = DT_TYPE_STR; v.as.str = dt_cstr(strs[fq_pick(in, FQ_COUNT(strs))]); break;
    case 1: {
        size_t n;
        v.type = fq_pick(in, 4) ? DT_TYPE_STR : DT_TYPE_BYTES;
        n = fq_pick(in, 48);
        if (n > in->n - in->at) n = in->n - in->at;      /* after the last byte read */
        v.as.str = dt_strn((const char *)in->p + in->at, n);
        in->at += n;
        break;
    }
    case 2: v.type = DT_TYPE_I64; v.as.i64 = i64s[fq_pick(in, FQ_COUNT(i64s))]; break;
    case 3: v.type = DT_TYPE_I64; v.as.i64 = (int64_t)(signed char)fq_byte(in); break;
    case 4: v.type = DT_TYPE_U64; v.as.u64 = u64s[fq_pick(in, FQ_COUNT(u64s))]; break;
    case 5: {
        const double f64s[] = {0.0, -0.0, 1.5, -2.25, 1e308, -1e308, 4.9e-324, fq_zero / fq_zero, 1 / fq_zero, -1 / fq_zero};
        v.type = DT_TYPE_F64;
        v.as.f64 = f64s[fq_pick(in, FQ_COUNT(f64s))];
        break;
    }
    case 6: v.type = DT_TYPE_BOOL; v.as.b = (int)fq_pick(in, 2); break;
    case 7: v.type = DT_TYPE_NULL; break;
    default: {
        unsigned hi, lo;
        hi = fq_byte(in);                        /* in this order on every compiler */
        lo = fq_byte(in);
        v.type = DT_TYPE_F64;
        v.as.f64 = (double)(int16_t)(uint16_t)(hi << 8 | lo) / 8.0;
        break;
    }
    }
    return v;
}

/* ts + d, saturated: the fuzzer itself must not overflow. */
static int64_t fq_ts_add(int64_t ts, int64_t d) {
    if (d > 0 && ts > INT64_MAX - d) return INT64_MAX;
    if (d < 0 && ts < INT64_MIN - d) return INT64_MIN;
    return ts + d;
}

/* Timestamps mostly walk forward by a few seconds, sometimes jump a window
 * or more, go back, or take an extreme value. */
static int64_t fq_next_ts(fq_in *in, int64_t ts) {
    static const int64_t extremes[] = {1, INT64_MAX, INT64_MIN, INT64_MAX - 1000, INT64_MIN + 1000, -1};
    switch (fq_pick(in, 8)) {
    case 0: return fq_ts_add(ts, -(int64_t)fq_byte(in) * 1000000000LL);
    case 1: return fq_ts_add(ts, (int64_t)fq_byte(in) * 60000000000LL);
    case 2: return fq_pick(in, 4) ? ts : extremes[fq_pick(in, FQ_COUNT(extremes))];
    case 3: return 0;                                    /* the engine stamps it */
    default: return fq_ts_add(ts, (int64_t)fq_byte(in) * 100000000LL);
    }
}

static int64_t fq_clock_now;
static int64_t fq_clock(void *ud) { (void)ud; return fq_clock_now; }

static void fq_emit(dt_engine *e, fq_in *in, int64_t ts) {
    dt_field f[12];
    dt_event ev;
    uint32_t i, n = fq_pick(in, 13);
    for (i = 0; i < n; i++) {
        f[i].name = dt_cstr(fq_fields[fq_pick(in, FQ_COUNT(fq_fields))]);
        f[i].value = fq_value(in);
    }
    memset(&ev, 0, sizeof ev);
    ev.name = dt_cstr(fq_events[fq_pick(in, FQ_COUNT(fq_events))]);
    ev.level = 1 + 4 * (int)fq_pick(in, 6);
    ev.tid = fq_pick(in, 4);
    ev.ts = ts;
    ev.fields = f;
    ev.nfields = n;
    dt_emit(e, &ev);
}

/* >>run --------------------------------------------------------------- */
static dt_engine *fq_engine(fq_seen *seen) {
    const dt_processor *procs[1];
    dt_desc desc;
    memset(&desc, 0, sizeof desc);
    procs[0] = dt_query_processor();
    desc.processors = procs;
    desc.nprocessors = 1;
    desc.sinks.event = fq_event_sink;
    desc.sinks.metric = fq_metric_sink;
    desc.sinks.self = NULL;
    desc.self_interval_ns = -1;                  /* only the queries' metrics reach the sink */
    desc.sinks.user_data = seen;
    desc.clock.now = fq_clock;
    return dt_create(&desc);
}

static void fq_deploy(dt_engine *e, const fq_text *t) {
    dt_error err;
    char msg[600];
    if (dt_deploy(e, t->buf, t->len, &err) != DT_OK) {
        dt_error_format(&err, msg, sizeof msg);
        fprintf(stderr, "program:\n%s\n", t->buf);
        fq_fail("a valid program did not deploy:", msg);
    }
}

static void fq_check_totals(dt_engine *e, const fq_seen *seen, uint64_t emitted, unsigned nq) {
    dt_stats st;
    unsigned q, a;
    dt_get_stats(e, &st);
    if (st.events_in != emitted || st.bad_events) fq_fail("events refused or miscounted", NULL);
    if (st.events_exported + st.events_dropped + st.events_filtered != emitted)
        fq_fail("exported + dropped + filtered differs from emitted", NULL);
    if (st.events_exported != seen->exported) fq_fail("the event sink did not see every export", NULL);
    for (q = 0; q < nq; q++)
        for (a = 0; a < FQ_MAX_AGGS; a++)
            if (seen->counted[q][a] > (double)emitted) fq_fail("count() points add up to more than the events emitted", NULL);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    static fq_text text;
    fq_seen seen;
    fq_in in;
    dt_engine *e;
    unsigned nq;
    uint64_t emitted = 0;
    int64_t ts = 1700000000000000000LL;
    in.p = data;
    in.n = size;
    in.at = 0;
    text.len = 0;
    text.buf[0] = 0;
    nq = fq_program(&in, &text);
    if (getenv("FQ_SHOW")) fputs(text.buf, stderr);      /* to see what a seed deploys */
    memset(&seen, 0, sizeof seen);
    fq_clock_now = ts;
    e = fq_engine(&seen);
    if (!e) return 0;
    fq_deploy(e, &text);
    while (fq_more(&in) && emitted < FQ_MAX_EVENTS) {
        unsigned op = fq_pick(&in, 16);
        ts = fq_next_ts(&in, ts);
        if (ts > fq_clock_now) fq_clock_now = ts;     /* the clock never goes back */
        if (op == 0) dt_tick(e, fq_clock_now);
        else if (op == 1) dt_flush(e);
        else if (op == 2) fq_deploy(e, &text);        /* same queries: windows carry over */
        else { fq_emit(e, &in, ts); emitted++; }
    }
    dt_tick(e, fq_clock_now);
    dt_flush(e);
    dt_poll(e);
    fq_check_totals(e, &seen, emitted, nq);
    dt_destroy(e);
    return 0;
}
