/* Coverage of dt_query.h's corners (branch coverage found them untested):
 * the compile error of every operator clause with its position, programs
 * cut short by their memory bound at every allocation, keys of every type,
 * sums and percentiles over NaN and infinities, windows at the ends of
 * time, summarize shards merged at close and at carry-over, throttle and
 * redact at their bounds. Each case asserts the exact metric points,
 * events, error text or counters. */
#include "greatest.h"
#include "dt.h"
#include "dt_query.h"
#include "support.h"

#include <stdio.h>
#include <string.h>
#if !DT_NO_THREADS
#include <pthread.h>
#endif

#define SEC 1000000000LL

/* What left the engine: one line per metric point, "name{k=v,...} value"
 * (integers plainly, other values %g, infinities and NaN by name), and one
 * "E:" line per exported event. */
typedef struct cq {
    char out[8192];
    int64_t now;
} cq;

static void cq_put(cq *c, const char *s) { sup_append(c->out, sizeof c->out, s); }

static void cq_num(char *out, size_t size, double v, int is_int) {
    if (v != v) snprintf(out, size, "nan");
    else if (v > 1.7976931348623157e308 || v < -1.7976931348623157e308) snprintf(out, size, "%sinf", v < 0 ? "-" : "");
    else snprintf(out, size, is_int ? "%.0f" : "%g", v);
}

static void cq_metric(const dt_metric *m, void *ud) {
    cq *c = (cq *)ud;
    char line[512], v[64];
    uint32_t i;
    if (m->name.len > 3 && memcmp(m->name.ptr, "dt.", 3) == 0) return;   /* the engine's own telemetry */
    snprintf(line, sizeof line, "%.*s{", (int)m->name.len, m->name.ptr);
    for (i = 0; i < m->nlabels; i++) {
        char lv[128], one[200];
        sup_fmt_value(lv, sizeof lv, &m->labels[i].value, SUP_BYTES_LEN);
        snprintf(one, sizeof one, "%s%.*s=%s", i ? "," : "", (int)m->labels[i].name.len, m->labels[i].name.ptr, lv);
        sup_append(line, sizeof line, one);
    }
    cq_num(v, sizeof v, m->value, m->is_int);
    sup_append(line, sizeof line, "} ");
    sup_append(line, sizeof line, v);
    sup_append(line, sizeof line, "\n");
    cq_put(c, line);
}

static void cq_event(const dt_event *ev, void *ud) {
    char s[1200];
    sup_fmt_event(s, sizeof s, ev, 0);
    cq_put((cq *)ud, "E:");
    cq_put((cq *)ud, s);
    cq_put((cq *)ud, "\n");
}

static dt_engine *cq_engine(cq *c, size_t program_bytes) {
    static const dt_processor *procs[1];
    dt_desc d;
    memset(c, 0, sizeof *c);
    procs[0] = dt_query_processor();
    d = sup_desc(c, &c->now, 1 * SEC);
    d.sinks.event = cq_event;
    d.sinks.metric = cq_metric;
    d.processors = procs;
    d.nprocessors = 1;
    d.max_program_bytes = program_bytes;
    return dt_create(&d);
}

/* "OK", or "line:col: message". */
static const char *cq_deploy(dt_engine *e, const char *text) {
    static char msg[400];
    dt_error err;
    memset(&err, 0, sizeof err);
    if (dt_deploy(e, text, strlen(text), &err) == DT_OK) return "OK";
    snprintf(msg, sizeof msg, "%d:%d: %s", err.line, err.column, err.message);
    return msg;
}

/* "OK", or the error as dt_error_format gives it, hint included. */
static const char *cq_deploy_hinted(dt_engine *e, const char *text) {
    static char msg[600];
    dt_error err;
    memset(&err, 0, sizeof err);
    if (dt_deploy(e, text, strlen(text), &err) == DT_OK) return "OK";
    dt_error_format(&err, msg, sizeof msg);
    return msg;
}

static void cq_emit(dt_engine *e, int64_t ts, const dt_field *f, uint32_t n) {
    sup_emit_fields(e, "A", DT_INFO, ts, 0, f, n);
}

/* ---- compile errors --------------------------------------------------- */

typedef struct cq_case {
    const char *program;
    const char *want;        /* "OK" or "line:col: message" */
} cq_case;

static enum greatest_test_res cq_table(const cq_case *cases, size_t n, const char *(*try_deploy)(dt_engine *, const char *)) {
    cq c;
    dt_engine *e = cq_engine(&c, 0);
    size_t i, bad = 0;
    ASSERT(e != NULL);
    for (i = 0; i < n; i++) {
        const char *got = try_deploy(e, cases[i].program);
        if (strcmp(got, cases[i].want) != 0) {
            fprintf(stderr, "\n%s\n  want %s\n  got  %s\n", cases[i].program, cases[i].want, got);
            bad++;
        }
    }
    dt_destroy(e);
    ASSERT_EQ((size_t)0, bad);
    PASS();
}

#define CQ_TABLE(cases) cq_table(cases, sizeof cases / sizeof cases[0], cq_deploy)
#define CQ_HINTED_TABLE(cases) cq_table(cases, sizeof cases / sizeof cases[0], cq_deploy_hinted)

TEST every_clause_reports_its_compile_error_where_written(void) {
    static const cq_case cases[] = {
        /* summarize */
        {"query q = A | summarize 5", "1:25: unknown aggregate"},
        {"query q = A | summarize n = 5", "1:29: unknown aggregate"},
        {"query q = A | summarize count", "1:30: expected '(', found the end of the program"},
        {"query q = A | summarize sum()", "1:29: expected a value, found ')'"},
        {"query q = A | summarize percentile(x)", "1:37: expected ',', found ')'"},
        {"query q = A | summarize percentile(x, y)", "1:39: expected a percentile from 0 to 100"},
        {"query q = A | summarize percentile(x, 101)", "1:39: a percentile is from 0 to 100"},
        {"query q = A | summarize count(x)", "1:31: expected ')', found 'x'"},
        {"query q = A | summarize n = count(), n = countif(x > 1)", "1:42: two aggregates would give metrics of one name"},
        {"query q = A | summarize count() by )", "1:36: expected a value, found ')'"},
        {"query q = A | summarize count() every x", "1:39: expected a duration, found 'x'"},
        {"query q = A | summarize count() every 0s", "1:39: a window must be longer than 0"},
        {"query q = A | summarize count() groups 0", "1:40: number out of range"},
        {"query q = A | summarize a = count(), b = count(), c = count(), d = count(), e = count(), f = count(), "
         "g = count(), h = count(), i = count(), j = count(), k = count(), l = count(), m = count(), n = count(), "
         "o = count(), p = count(), r = count()",
         "1:233: too many aggregates (at most 16)"},
        {"query q = A | summarize count() by a, b, c, d, e, f, g, h, i", "1:60: too many keys (at most 8)"},
        {"query q = A | summarize count() | drop", "1:33: summarize ends a query"},
        /* project, project-away, project-rename, extend */
        {"query q = A | project - away x", "1:23: expected a field name, found '-'"},
        {"query q = A | project-keep x", "1:23: unknown operator"},
        {"query q = A | project-rename a b", "1:32: expected '=', found 'b'"},
        {"query q = A | project-rename a = 5", "1:34: expected the field to rename, found a number"},
        {"query q = A | project-away 5", "1:28: expected a field name, found a number"},
        {"query q = A | extend 5", "1:22: expected a field name, found a number"},
        {"query q = A | extend a 5", "1:24: expected '=', found a number"},
        {"query q = A | extend a = )", "1:26: expected a value, found ')'"},
        {"query q = A | frobnicate", "1:15: unknown query operator"},
        /* redact: an unknown name is a misspelt detector where a list goes on */
        {"query q = A | redact emial", "1:22: unknown detector"},
        {"query q = A | redact emial | drop", "1:22: unknown detector"},
        {"query q = A | redact emial in x", "1:22: unknown detector"},
        {"query q = A | redact emial with \"x\"", "1:22: unknown detector"},
        {"query q = A | redact email, emial", "1:29: unknown detector"},
        {"query q = A | redact in 5", "1:25: expected a field name, found a number"},
        {"query q = A | redact with 5", "1:27: expected a marker in quotes or hash"},
        {"query q = A | redact with \"\\q\"", "1:27: unknown escape in string"},
        {"query q = A | redact with hash key 5", "1:36: expected a key in quotes, found a number"},
        /* sample and throttle */
        {"query q = A | sample x", "1:22: expected a probability such as 0.01, or 1 in 100, found 'x'"},
        {"query q = A | sample 2", "1:22: a sampling probability is between 0 and 1"},
        {"query q = A | sample 3 in 2", "1:22: cannot keep more events than there are"},
        {"query q = A | sample 1 in 0", "1:27: number out of range"},
        {"query q = A | sample 1 in x", "1:27: expected how many events, found 'x'"},
        {"query q = A | sample 1 in 2 by )", "1:32: expected a value, found ')'"},
        {"query q = A | sample 1 in 2 seed x", "1:34: expected a seed, found 'x'"},
        {"query q = A | throttle x", "1:24: expected how many events pass per window, found 'x'"},
        {"query q = A | throttle 5 x", "1:26: expected 'per', found 'x'"},
        {"query q = A | throttle 5 per x", "1:30: expected a duration, found 'x'"},
        {"query q = A | throttle 5 per 0s", "1:30: the throttle window must be longer than 0"},
        {"query q = A | throttle 5 per 1s by )", "1:36: expected a value, found ')'"},
        {"query q = A | throttle 5 per 1s by k keys 0", "1:43: number out of range"},
        /* the query itself */
        {"query 5 = A | drop", "1:7: expected a query name, found a number"},
        {"query q A | drop", "1:9: expected '=', found 'A'"},
        {"query q = 5 | drop", "1:11: expected an event name or pattern, found a number"},
        {"query q = A, B, C, D, E, F, G, H, I, J, K, L, M, N, O, P, Q | drop", "1:59: too many patterns (at most 16)"},
    };
    return CQ_TABLE(cases);
}

/* Findings of the processors' keyword matrix (tests/test_hostile.c): a
 * zero window is refused at the 0, and patterns not followed by '|' say so
 * at the word that is there, quoting a name that ran on into a '-'. */
TEST zero_windows_and_missing_bars_are_reported_where_written_with_the_fix(void) {
    static const cq_case cases[] = {
        {"query q = A | throttle 5 per 0", "1:30: error: the throttle window must be longer than 0 (hint: write throttle 10 per 1m)"},
        {"query q = A | summarize n = count() every 0",
         "1:43: error: a window must be longer than 0 (hint: write every 1m)"},
        {"query q = project-away | drop",
         "1:18: error: expected '|', found '-' (hint: '-' cannot be part of an event name: quote it, \"project-away\")"},
        {"query q = A, my-long-event-name | drop",
         "1:16: error: expected '|', found '-' (hint: '-' cannot be part of an event name: quote it, \"my-long-event-name\")"},
        {"query q = Http*-x | drop",
         "1:16: error: expected '|', found '-' (hint: '-' cannot be part of an event name: quote it, \"Http*-x\")"},
        {"query q = \"project-away\" | drop", "OK"},
        {"query q = A drop", "1:13: error: expected '|', found 'drop' (hint: patterns are separated by ',' and operators start with '|': query q = A, B | drop)"},
        {"query q = A - x | drop", "1:13: error: expected '|', found '-' (hint: patterns are separated by ',' and operators start with '|': query q = A, B | drop)"},
        {"query q = \"A\"-x | drop", "1:14: error: expected '|', found '-' (hint: patterns are separated by ',' and operators start with '|': query q = A, B | drop)"},
        {"query q = A 5m", "1:13: error: expected '|', found a duration (hint: patterns are separated by ',' and operators start with '|': query q = A, B | drop)"},
        {"query q = A", "1:12: error: a query needs at least one operator (hint: for example: query q = LogWelcomeBanner | drop)"},
        {"query q = A\nquery r = B | drop",
         "2:1: error: a query needs at least one operator (hint: for example: query q = LogWelcomeBanner | drop)"},
    };
    return CQ_HINTED_TABLE(cases);
}

#if !DT_NO_FLOAT
TEST float_literals_in_clauses(void) {
    static const cq_case cases[] = {
        {"query q = A | summarize percentile(x, 100.5)", "1:39: a percentile is from 0 to 100"},
        {"query q = A | summarize percentile(x, 99.5)", "OK"},
        {"query q = A | sample 1.5", "1:22: a sampling probability is between 0 and 1"},
        {"query q = A | sample 0.5 by )", "1:29: expected a value, found ')'"},
    };
    return CQ_TABLE(cases);
}
#endif

/* A list of 65 names or 65 operators is one too many. */
TEST lists_and_pipelines_have_bounds(void) {
    static char prog[2048];
    cq c;
    dt_engine *e = cq_engine(&c, 0);
    int i;
    size_t at;
    static const char *const heads[] = {"query q = A | project ", "query q = A | extend "};
    static const char *const wants[] = {"too many fields in one list (at most 64)", "too many fields in one extend (at most 64)"};
    ASSERT(e != NULL);
    for (i = 0; i < 2; i++) {
        int k;
        char want[120];
        at = sup_put(prog, sizeof prog, 0, heads[i]);
        for (k = 0; k < 65; k++) {
            char one[16];
            snprintf(one, sizeof one, "%sf%d%s", k ? ", " : "", k, i ? " = 1" : "");
            at = sup_put(prog, sizeof prog, at, one);
        }
        /* the 65th name starts after 64 items and their separators */
        snprintf(want, sizeof want, "1:%d: %s", (int)(strstr(prog, "f64") - prog) + 1, wants[i]);
        ASSERT_STR_EQ(want, cq_deploy(e, prog));
    }
    at = sup_put(prog, sizeof prog, 0, "query q = A");
    for (i = 0; i < 65; i++) at = sup_put(prog, sizeof prog, at, " | where true");
    ASSERT_STR_EQ("1:845: too many operators in one query (at most 64)", cq_deploy(e, prog));
    dt_destroy(e);
    PASS();
}

/* A field the event's schema does not have is an error in every list. */
TEST fields_are_checked_against_the_schema(void) {
    static const dt_schema_field schema[] = {{"a", DT_TYPE_I64}};
    static const cq_case cases[] = {
        {"query q = A | project b", "1:23: event has no field 'b'"},
        {"query q = A | project-rename x = b", "1:34: event has no field 'b'"},
        {"query q = A | redact in a, b", "1:28: event has no field 'b'"},
        {"query q = A | project-rename x = a", "OK"},
    };
    cq c;
    dt_engine *e = cq_engine(&c, 0);
    size_t i;
    ASSERT_EQ(DT_OK, dt_register_event(e, "A", schema, 1, NULL, 0));
    for (i = 0; i < sizeof cases / sizeof cases[0]; i++) ASSERT_STR_EQm(cases[i].program, cases[i].want, cq_deploy(e, cases[i].program));
    dt_destroy(e);
    PASS();
}

/* Every allocation of a query's compile can be the one past the program's
 * memory bound: below the size a program needs it is refused with the
 * bound's error and the running program stays; at that size it runs. */
static enum greatest_test_res cq_smallest_bound(const char *program, const char *want) {
    size_t bound;
    for (bound = 64; bound < (1u << 22); bound += bound < 4096 ? 8 : bound / 64) {
        cq c;
        dt_engine *e = cq_engine(&c, bound);
        dt_field f = dt_field_i64("x", 7);
        const char *r;
        ASSERT(e != NULL);
        r = cq_deploy(e, program);
        if (strcmp(r, "OK") != 0) {
            ASSERT_STR_EQm(program, "program too large for its memory bound", strstr(r, ": ") + 2);
            dt_destroy(e);
            continue;
        }
        cq_emit(e, 1 * SEC, &f, 1);
        dt_flush(e);
        dt_destroy(e);
        ASSERT_STR_EQm(program, want, c.out);
        PASS();
    }
    FAILm("no bound fits the program");
}

TEST programs_past_their_memory_bound_are_refused_at_every_allocation(void) {
    CHECK_CALL(cq_smallest_bound("query q = A | summarize n = count(), p = p50(x), d = dcount(x) by x groups 2",
                                 "n{x=7} 1\np{x=7} 7\nd{x=7} 1\n"));
    CHECK_CALL(cq_smallest_bound("query q = A | project x, y | project-away y | project-rename z = x | extend w = z + 1",
                                 "E:A@info{z=7,w=8}\n"));
    CHECK_CALL(cq_smallest_bound("query q = A | redact ipv4 in x with \"*\" | sample 1 in 1 | throttle 5 per 1s by x",
                                 "E:A@info{x=7}\n"));
    CHECK_CALL(cq_smallest_bound("query q = A | sample 1 in 1 by x | throttle 5 per 1s", "E:A@info{x=7}\n"));
    PASS();
}

/* ---- summarize at run time -------------------------------------------- */

TEST keys_of_every_type_group_by_value(void) {
    static const char ab[] = {'a', 'b'};
    char longa[100], longb[100];
    cq c;
    dt_engine *e = cq_engine(&c, 0);
    dt_field f;
    int i;
    memset(longa, 'k', sizeof longa - 1);
    longa[sizeof longa - 1] = 0;
    memcpy(longb, longa, sizeof longb);
    longb[80] = 'z';                         /* differs past DT_MAX_KEY: its own group, the same label */
    ASSERT_STR_EQ("OK", cq_deploy(e, "query q = A | summarize n = count() by k"));
    for (i = 0; i < 2; i++) {
        f = dt_field_bool("k", 1);
        cq_emit(e, 1 * SEC, &f, 1);
        f = dt_field_bool("k", 0);
        cq_emit(e, 1 * SEC, &f, 1);
        cq_emit(e, 1 * SEC, NULL, 0);        /* no k: the null key */
        f = dt_field_bytes("k", ab, 2);
        cq_emit(e, 1 * SEC, &f, 1);
        f = dt_field_str("k", "");
        cq_emit(e, 1 * SEC, &f, 1);
        f = dt_field_str("k", longa);
        cq_emit(e, 1 * SEC, &f, 1);
    }
    f = dt_field_str("k", longb);
    cq_emit(e, 1 * SEC, &f, 1);
    dt_flush(e);
    ASSERT_STR_EQ("n{k=true} 2\nn{k=false} 2\nn{k=null} 2\nn{k=<2 bytes>} 2\nn{k=\"\"} 2\n"
                  "n{k=\"kkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkk\"} 2\n"
                  "n{k=\"kkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkk\"} 1\n",
                  c.out);
    dt_destroy(e);
    PASS();
}

static void cq_emit_f(dt_engine *e, int64_t ts, double v) {
    dt_field f = dt_field_f64("x", v);
    cq_emit(e, ts, &f, 1);
}

/* Runs values of x through one summarize; its points. */
static const char *cq_values(cq *c, const char *program, const double *v, size_t n) {
    dt_engine *e = cq_engine(c, 0);
    size_t i;
    if (strcmp(cq_deploy(e, program), "OK") != 0) return "does not deploy";
    for (i = 0; i < n; i++) cq_emit_f(e, 1 * SEC, v[i]);
    dt_flush(e);
    dt_destroy(e);
    return c->out;
}

TEST percentiles_report_infinities_themselves(void) {
    static const double one_inf[] = {1.0, 1.0 / 0.0};
    static const double neg_inf[] = {-1.0 / 0.0, 5.0};
    static const double all_inf[] = {1.0 / 0.0, 1.0 / 0.0};
    static const char *const prog = "query q = A | summarize lo = p50(x), hi = p99(x), top = max(x) every 1h";
    cq c;
    SUP_NEEDS_FLOAT();
    /* p99 of [1, +inf] is the second value: +inf, not the largest double */
    ASSERT_STR_EQ("lo{} 1.01562\nhi{} inf\ntop{} inf\n", cq_values(&c, prog, one_inf, 2));
    ASSERT_STR_EQ("lo{} -inf\nhi{} 5\ntop{} 5\n", cq_values(&c, prog, neg_inf, 2));
    ASSERT_STR_EQ("lo{} inf\nhi{} inf\ntop{} inf\n", cq_values(&c, prog, all_inf, 2));
    PASS();
}

TEST percentile_corners(void) {
    static const double v[] = {1.03};
    static const double ten[] = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10};
    cq c;
    SUP_NEEDS_FLOAT();
    /* the bucket's midpoint (1.0156) is below the only value: clamped to it */
    ASSERT_STR_EQ("p{} 1.03\n", cq_values(&c, "query q = A | summarize p = p50(x)", v, 1));
    /* rank 0 is the first value's bucket; p999 of ten is the last value */
    ASSERT_STR_EQ("z{} 1.01562\nt{} 10\n",
                  cq_values(&c, "query q = A | summarize z = percentile(x, 0), t = p999(x)", ten, 10));
    PASS();
}

TEST sums_after_nan_stay_nan(void) {
    static const double v[] = {1.5, 0.0 / 0.0, 2.0};
    cq c;
    SUP_NEEDS_FLOAT();
    ASSERT_STR_EQ("s{} nan\na{} nan\nlo{} 1.5\nhi{} 2\n",
                  cq_values(&c, "query q = A | summarize s = sum(x), a = avg(x), lo = min(x), hi = max(x)", v, 3));
    PASS();
}

/* Past a few hundred distinct values the linear-counting estimate takes a
 * logarithm of more than 2 (the range reduction). */
TEST dcount_of_two_thousand_values(void) {
    cq c;
    dt_engine *e = cq_engine(&c, 0);
    int i;
    double got;
    ASSERT_STR_EQ("OK", cq_deploy(e, "query q = A | summarize d = dcount(x)"));
    for (i = 0; i < 2000; i++) {
        dt_field f = dt_field_i64("x", i);
        cq_emit(e, 1 * SEC, &f, 1);
    }
    dt_flush(e);
    dt_destroy(e);
    got = atof(c.out + 4);
    ASSERT(strncmp(c.out, "d{} ", 4) == 0);
    ASSERT(got > 2000 * 0.9 && got < 2000 * 1.1);   /* 3.3 % standard error: 3 sigma */
    PASS();
}

/* Windows near the ends of time stay inside int64: [start, start + every).
 * None starts at INT64_MIN, which stands for "no window yet": an event
 * there once waited, uncounted, and was then counted in the next window. */
static void cq_window(const dt_metric *m, void *ud) {
    char s[80];
    if (m->name.len > 3 && memcmp(m->name.ptr, "dt.", 3) == 0) return;
    snprintf(s, sizeof s, "%.0f in [%lld,%lld) ", m->value, (long long)m->start_ns, (long long)m->end_ns);
    cq_put((cq *)ud, s);
}

TEST windows_at_the_ends_of_time_stay_in_range(void) {
    static const dt_processor *procs[1];
    cq c;
    dt_desc d;
    dt_engine *e;
    memset(&c, 0, sizeof c);
    procs[0] = dt_query_processor();
    d = sup_desc(&c, &c.now, 1 * SEC);
    d.sinks.metric = cq_window;
    d.processors = procs;
    d.nprocessors = 1;
    e = dt_create(&d);
    ASSERT_STR_EQ("OK", cq_deploy(e, "query q = A | summarize count() every 1h"));
    cq_emit(e, INT64_MIN + 1, NULL, 0);
    dt_flush(e);
    cq_emit(e, -1, NULL, 0);
    dt_flush(e);
    cq_emit(e, INT64_MAX, NULL, 0);
    dt_flush(e);
    dt_destroy(e);
    ASSERT_STR_EQ("1 in [-9223372036854775807,-9223368436854775807) 1 in [-3600000000000,0) "
                  "1 in [9223368436854775807,9223372036854775807) ",
                  c.out);
    PASS();
}

/* ---- shards ------------------------------------------------------------ */

#if !DT_NO_THREADS
typedef struct cq_batch {
    dt_engine *e;
    const double *v;
    int n;
} cq_batch;

static void *cq_emitter(void *arg) {
    const cq_batch *b = (const cq_batch *)arg;
    int i;
    for (i = 0; i < b->n; i++) cq_emit_f(b->e, 1 * SEC, b->v[i]);
    return NULL;
}

/* Two threads one after the other: consecutive thread ordinals, so the
 * two shards of each summarize get one batch each. */
static int cq_two_threads(dt_engine *e, const double *a, int na, const double *b, int nb) {
    pthread_t t;
    cq_batch x;
    x.e = e;
    x.v = a;
    x.n = na;
    if (pthread_create(&t, NULL, cq_emitter, &x) || pthread_join(t, NULL)) return 0;
    x.v = b;
    x.n = nb;
    return !pthread_create(&t, NULL, cq_emitter, &x) && !pthread_join(t, NULL);
}
#endif

#define CQ_SHARDED "query q = A | summarize s = sum(x), lo = min(x), hi = max(x), p = p50(x), d = dcount(x) by k = 1"

TEST shards_merge_at_close(void) {
#if DT_NO_THREADS
    SUP_NEEDS_THREADS();
#else
    static const double small[] = {1, 2, 3, 0.0 / 0.0};
    static const double large[] = {1000, 2000, -5};
    static const double big[] = {9e18, 9e18};
    cq c;
    dt_engine *e = cq_engine(&c, 0);
    SUP_NEEDS_FLOAT();
    ASSERT_STR_EQ("OK", cq_deploy(e, CQ_SHARDED));
    ASSERT(cq_two_threads(e, small, 4, large, 3));
    dt_flush(e);
    ASSERT_STR_EQ("s{k=1} nan\nlo{k=1} -5\nhi{k=1} 2000\np{k=1} 2.03125\nd{k=1} 7\n", c.out);
    c.out[0] = 0;
    /* the other order: the second shard's sketch sits lower than the first's */
    ASSERT(cq_two_threads(e, large, 3, small, 3));
    dt_flush(e);
    ASSERT_STR_EQ("s{k=1} 3001\nlo{k=1} -5\nhi{k=1} 2000\np{k=1} 2.03125\nd{k=1} 6\n", c.out);
    c.out[0] = 0;
    /* equal sketches, and float sums in each shard */
    ASSERT(cq_two_threads(e, big, 2, big, 2));
    dt_flush(e);
    ASSERT_STR_EQ("s{k=1} 3.6e+19\nlo{k=1} 9e+18\nhi{k=1} 9e+18\np{k=1} 9e+18\nd{k=1} 1\n", c.out);
    dt_destroy(e);
    PASS();
#endif
}

#if !DT_NO_THREADS
typedef struct cq_ibatch {
    dt_engine *e;
    int64_t v;
} cq_ibatch;

static void *cq_emitter_i(void *arg) {
    const cq_ibatch *b = (const cq_ibatch *)arg;
    dt_field f = dt_field_i64("x", b->v);
    cq_emit(b->e, 1 * SEC, &f, 1);
    return NULL;
}

static int cq_two_ints(dt_engine *e, int64_t a, int64_t b) {
    pthread_t t;
    cq_ibatch x;
    x.e = e;
    x.v = a;
    if (pthread_create(&t, NULL, cq_emitter_i, &x) || pthread_join(t, NULL)) return 0;
    x.v = b;
    return !pthread_create(&t, NULL, cq_emitter_i, &x) && !pthread_join(t, NULL);
}
#endif

/* Integer sums of two shards that overflow int64 when merged go on in f64. */
TEST shard_sums_that_overflow_when_merged(void) {
#if DT_NO_THREADS
    SUP_NEEDS_THREADS();
#else
    cq c;
    dt_engine *e = cq_engine(&c, 0);
    ASSERT_STR_EQ("OK", cq_deploy(e, "query q = A | summarize s = sum(x)"));
    ASSERT(cq_two_ints(e, INT64_MAX, 2));
    dt_flush(e);
    ASSERT(cq_two_ints(e, INT64_MIN, -2));
    dt_flush(e);
    ASSERT(cq_two_ints(e, 5, -7));
    dt_flush(e);
    ASSERT_STR_EQ("s{} 9.22337e+18\ns{} -9.22337e+18\ns{} -2\n", c.out);
    dt_destroy(e);
    PASS();
#endif
}

/* Both shards past the group bound: one overflow group, totals kept. */
TEST overflow_groups_of_two_shards_merge(void) {
#if DT_NO_THREADS
    SUP_NEEDS_THREADS();
#else
    static const double a[] = {1, 2};
    static const double b[] = {1, 3};
    cq c;
    dt_engine *e = cq_engine(&c, 0);
    SUP_NEEDS_FLOAT();
    ASSERT_STR_EQ("OK", cq_deploy(e, "query q = A | summarize n = count() by x groups 1"));
    ASSERT(cq_two_threads(e, a, 2, b, 2));
    dt_flush(e);
    /* whichever shard merges first, x=1 is the group and 2 and 3 overflow */
    ASSERT_STR_EQ("n{x=1} 2\nn{dt.overflow=true} 2\n", c.out);
    ASSERT_EQ(2u, (unsigned)stats(e).overflows);
    dt_destroy(e);
    PASS();
#endif
}

/* A redeploy carries both shards of the open window into the new program. */
TEST carry_merges_both_shards(void) {
#if DT_NO_THREADS
    SUP_NEEDS_THREADS();
#else
    static const double a[] = {1, 2};
    static const double b[] = {30, 40};
    cq c;
    dt_engine *e = cq_engine(&c, 0);
    SUP_NEEDS_FLOAT();
    ASSERT_STR_EQ("OK", cq_deploy(e, CQ_SHARDED));
    ASSERT(cq_two_threads(e, a, 2, b, 2));
    ASSERT_STR_EQ("OK", cq_deploy(e, CQ_SHARDED "\nquery w = B | where true"));
    ASSERT_STR_EQ("", c.out);
    /* the same again: the query without summarize is carried too, with nothing to move */
    ASSERT_STR_EQ("OK", cq_deploy(e, CQ_SHARDED "\nquery w = B | where true"));
    dt_flush(e);
    ASSERT_STR_EQ("s{k=1} 73\nlo{k=1} 1\nhi{k=1} 40\np{k=1} 2.03125\nd{k=1} 4\n", c.out);
    dt_destroy(e);
    PASS();
#endif
}

/* ---- throttle, drop, redact ---------------------------------------------- */

TEST throttle_with_fewer_keys_than_probes(void) {
    cq c;
    dt_engine *e = cq_engine(&c, 0);
    int i;
    ASSERT_STR_EQ("OK", cq_deploy(e, "query q = A | throttle 1 per 1m by x keys 2"));
    for (i = 0; i < 4; i++) {
        dt_field f = dt_field_i64("x", i);
        cq_emit(e, 1 * SEC, &f, 1);
    }
    /* two keys have slots; the other two share the overflow key, whose one event passes */
    ASSERT_EQ(2u, (unsigned)stats(e).overflows);
    ASSERT_STR_EQ("E:A@info{x=0}\nE:A@info{x=1}\nE:A@info{x=2}\n", c.out);
    dt_destroy(e);
    PASS();
}

/* Two drop queries over overlapping patterns: the second subscribes like
 * any query (the core's drop table holds the first), and both drop. */
TEST overlapping_drop_queries_both_drop(void) {
    cq c;
    dt_engine *e = cq_engine(&c, 0);
    ASSERT_STR_EQ("OK", cq_deploy(e, "query a = A | drop\nquery b = A* | drop"));
    emit(e, "A", DT_INFO, 1 * SEC);
    emit(e, "AB", DT_INFO, 1 * SEC);
    emit(e, "B", DT_INFO, 1 * SEC);
    ASSERT_STR_EQ("E:B@info{}\n", c.out);
    dt_destroy(e);
    PASS();
}

/* A query over its budget stops between operators: the event passes as
 * the operators before the budget ran out left it. */
TEST budget_stops_a_query_between_operators(void) {
    static const dt_processor *procs[1];
    cq c;
    dt_desc d;
    dt_engine *e;
    dt_field f = dt_field_i64("x", 1);
    memset(&c, 0, sizeof c);
    procs[0] = dt_query_processor();
    d = sup_desc(&c, &c.now, 1 * SEC);
    d.sinks.event = cq_event;
    d.processors = procs;
    d.nprocessors = 1;
    d.budget_steps = 3;
    e = dt_create(&d);
    ASSERT_STR_EQ("OK", cq_deploy(e, "query q = A | extend a = 1 | extend b = 2 | extend c = 3 | extend d = 4 | drop"));
    cq_emit(e, 1 * SEC, &f, 1);
    ASSERT_EQ(1u, (unsigned)stats(e).budget_trips);
    ASSERT_STR_EQ("E:A@info{x=1,a=1}\n", c.out);
    dt_destroy(e);
    PASS();
}

/* Rewrites that cannot be done in place become one marker, never a leak. */
TEST redact_replaces_what_it_cannot_rewrite_whole(void) {
    static char big[DTQ_REDACT_SCAN + 2];
    char many[400], tail[500], arena[1000];
    const char *marker = "\"<<<<<<<<<<<<<<<<<<<<secret>>>>>>>>>>>>>>>>>>>>\"";   /* 46 bytes */
    char prog[200];
    cq c;
    dt_engine *e = cq_engine(&c, 0);
    dt_field f;
    int i;
    size_t at = 0;
    for (i = 0; i < 16; i++) at = sup_put(many, sizeof many, at, "1.2.3.4 ");
    snprintf(tail, sizeof tail, "%s%s", many, "and a tail long enough to need room");
    memset(arena, 'a', sizeof arena - 1);
    arena[sizeof arena - 1] = 0;
    memcpy(arena + 500, " 10.0.0.1 ", 10);
    memset(big, 'b', sizeof big - 1);
    snprintf(prog, sizeof prog, "query q = A | redact ipv4 with %s", marker);
    ASSERT_STR_EQ("OK", cq_deploy(e, prog));
    f = dt_field_str("x", many);             /* grows past the scratch it took: one marker */
    cq_emit(e, 1 * SEC, &f, 1);
    f = dt_field_str("x", tail);             /* the tail does not fit after the last one */
    cq_emit(e, 1 * SEC, &f, 1);
    f = dt_field_str("x", arena);            /* no scratch that large: one marker, a rule error */
    cq_emit(e, 1 * SEC, &f, 1);
    ASSERT_EQ(1u, (unsigned)stats(e).rule_errors);
    ASSERT_STR_EQ("OK", cq_deploy(e, "query q = A | redact with hash"));
    f = dt_field_str("x", big);              /* too long to scan: the plain marker, not a hash */
    cq_emit(e, 1 * SEC, &f, 1);
    ASSERT_EQ(2u, (unsigned)stats(e).rule_errors);
    ASSERT_STR_EQ("E:A@info{x=\"<<<<<<<<<<<<<<<<<<<<secret>>>>>>>>>>>>>>>>>>>>\"}\n"
                  "E:A@info{x=\"<<<<<<<<<<<<<<<<<<<<secret>>>>>>>>>>>>>>>>>>>>\"}\n"
                  "E:A@info{x=\"<<<<<<<<<<<<<<<<<<<<secret>>>>>>>>>>>>>>>>>>>>\"}\n"
                  "E:A@info{x=\"[REDACTED]\"}\n",
                  c.out);
    dt_destroy(e);
    PASS();
}

SUITE(coverage_query) {
    RUN_TEST(every_clause_reports_its_compile_error_where_written);
    RUN_TEST(zero_windows_and_missing_bars_are_reported_where_written_with_the_fix);
#if !DT_NO_FLOAT
    RUN_TEST(float_literals_in_clauses);
#endif
    RUN_TEST(lists_and_pipelines_have_bounds);
    RUN_TEST(fields_are_checked_against_the_schema);
    RUN_TEST(programs_past_their_memory_bound_are_refused_at_every_allocation);
    RUN_TEST(keys_of_every_type_group_by_value);
    RUN_TEST(percentiles_report_infinities_themselves);
    RUN_TEST(percentile_corners);
    RUN_TEST(sums_after_nan_stay_nan);
    RUN_TEST(dcount_of_two_thousand_values);
    RUN_TEST(windows_at_the_ends_of_time_stay_in_range);
    RUN_TEST(shards_merge_at_close);
    RUN_TEST(shard_sums_that_overflow_when_merged);
    RUN_TEST(overflow_groups_of_two_shards_merge);
    RUN_TEST(carry_merges_both_shards);
    RUN_TEST(throttle_with_fewer_keys_than_probes);
    RUN_TEST(overlapping_drop_queries_both_drop);
    RUN_TEST(budget_stops_a_query_between_operators);
    RUN_TEST(redact_replaces_what_it_cannot_rewrite_whole);
}
