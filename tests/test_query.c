/* The query processor (dt_query.h) through the public API only: programs
 * are deployed, events emitted, and what leaves through the event and
 * metric sinks is captured as text and compared exactly. */
#include "greatest.h"
#include "dt.h"
#include "dt_query.h"
#include "support.h"
#include <pthread.h>
#include <stdio.h>
#include <string.h>

#define SEC 1000000000LL
#define MIN (60 * SEC)

/* ---- capture --------------------------------------------------------------- */

typedef struct qcap {
    char out[16384];
    int64_t now;
    int quiet;                   /* count only: the 1,000,000-key test */
    uint64_t points;             /* metric points seen */
    double total;                /* sum of every point's value */
    double overflow_total;       /* sum of the dt.overflow group's values */
    uint64_t overflow_points;
} qcap;

static void q_put(qcap *c, const char *s) { sup_append(c->out, sizeof c->out, s); }

static void q_event(const dt_event *ev, void *ud) {
    qcap *c = (qcap *)ud;
    char s[1024];
    if (c->quiet) return;
    sup_fmt_event(s, sizeof s, ev, 0);
    q_put(c, "E:");
    q_put(c, s);
    q_put(c, "\n");
}

/* Numbers as the tests spell them: integers plainly, floats with %g, and
 * NaN and the infinities by name whatever the libc prints. */
static void q_fmt_num(char *out, size_t size, double v, int is_int) {
    if (v != v) snprintf(out, size, "nan");
    else if (v > 1.7976931348623157e308) snprintf(out, size, "inf");
    else if (v < -1.7976931348623157e308) snprintf(out, size, "-inf");
    else if (is_int) snprintf(out, size, "%.0f", v);
    else snprintf(out, size, "%gf", v);
}

static int q_is_overflow(const dt_metric *m) {
    return m->nlabels == 1 && m->labels[0].name.len == 11 && memcmp(m->labels[0].name.ptr, "dt.overflow", 11) == 0;
}

/* "M:name{k=v} counter 3 [0,60)\n": kind, value (f suffix: not an integer),
 * window in seconds. */
static void q_metric(const dt_metric *m, void *ud) {
    qcap *c = (qcap *)ud;
    char s[512], v[64], l[256] = "";
    uint32_t i;
    if (m->name.len > 3 && memcmp(m->name.ptr, "dt.", 3) == 0) return;   /* the engine's self-telemetry */
    c->points++;
    c->total += m->value;
    if (q_is_overflow(m)) { c->overflow_total += m->value; c->overflow_points++; }
    if (c->quiet) return;
    for (i = 0; i < m->nlabels; i++) {
        char lv[96], one[160];
        sup_fmt_value(lv, sizeof lv, &m->labels[i].value, 0);
        snprintf(one, sizeof one, "%s%.*s=%s", i ? "," : "", (int)m->labels[i].name.len, m->labels[i].name.ptr, lv);
        sup_append(l, sizeof l, one);
    }
    q_fmt_num(v, sizeof v, m->value, m->is_int);
    snprintf(s, sizeof s, "M:%.*s{%s} %s %s [%lld,%lld)\n", (int)m->name.len, m->name.ptr, l,
             m->kind == DT_METRIC_COUNTER ? "counter" : m->kind == DT_METRIC_GAUGE ? "gauge" : "other", v,
             (long long)(m->start_ns / SEC), (long long)(m->end_ns / SEC));
    q_put(c, s);
}

static dt_engine *q_engine_with(qcap *c, dt_risk risk, size_t program_bytes) {
    static const dt_processor *procs[1];
    dt_desc d;
    memset(c, 0, sizeof *c);
    procs[0] = dt_query_processor();
    d = sup_desc(c, &c->now, 1 * SEC);
    d.sinks.event = q_event;
    d.sinks.metric = q_metric;
    d.processors = procs;
    d.nprocessors = 1;
    d.max_risk = risk;
    d.max_program_bytes = program_bytes;
    return dt_create(&d);
}

static dt_engine *q_engine_risk(qcap *c, dt_risk risk) { return q_engine_with(c, risk, 0); }
static dt_engine *q_engine(qcap *c) { return q_engine_with(c, DT_RISK_DEFAULT, 0); }

static void q_emit(dt_engine *e, const char *name, int64_t ts, const dt_field *f, uint32_t n) {
    sup_emit_fields(e, name, DT_INFO, ts, 0, f, n);
}

static void q_emit_i(dt_engine *e, const char *name, int64_t ts, const char *field, int64_t v) {
    dt_field f = dt_field_i64(field, v);
    q_emit(e, name, ts, &f, 1);
}

static void q_emit_s(dt_engine *e, const char *name, int64_t ts, const char *field, const char *v) {
    dt_field f = dt_field_str(field, v);
    q_emit(e, name, ts, &f, 1);
}

/* Deploys text; "OK" or "line:col: message". */
static const char *q_deploy(dt_engine *e, const char *text) {
    static char msg[400];
    dt_error err;
    memset(&err, 0, sizeof err);
    if (dt_deploy(e, text, strlen(text), &err) == DT_OK) return "OK";
    snprintf(msg, sizeof msg, "%d:%d: %s", err.line, err.column, err.message);
    return msg;
}

/* One event through a one-query program on a fresh engine; the capture. */
static const char *q_one(qcap *c, const char *program, const dt_field *f, uint32_t n) {
    dt_engine *e = q_engine(c);
    const char *r = q_deploy(e, program);
    if (strcmp(r, "OK") != 0) { dt_destroy(e); return r; }
    q_emit(e, "A", 1 * SEC, f, n);
    dt_flush(e);
    dt_destroy(e);
    return c->out;
}

/* ---- where, drop, composition ------------------------------------------------ */

TEST where_applies_the_rest_only_to_matching_events(void) {
    qcap c;
    dt_engine *e = q_engine(&c);
    ASSERT_STR_EQ("OK", q_deploy(e, "query q = A | where n > 1 | drop"));
    q_emit_i(e, "A", 1 * SEC, "n", 1);
    q_emit_i(e, "A", 1 * SEC, "n", 2);
    q_emit_i(e, "B", 1 * SEC, "n", 5);
    q_emit_s(e, "A", 1 * SEC, "n", "text");                 /* wrong type: not true, so left alone */
    q_emit(e, "A", 1 * SEC, NULL, 0);                       /* missing field: null, left alone */
    ASSERT_STR_EQ("E:A@info{n=1}\nE:B@info{n=5}\nE:A@info{n=\"text\"}\nE:A@info{}\n", c.out);
    dt_destroy(e);
    PASS();
}

TEST where_string_operators(void) {
    static const struct { const char *cond; const char *value; int kept; } cases[] = {
        {"s has \"error\"", "disk error: full", 0},
        {"s has \"err\"", "disk error: full", 1},             /* has: whole terms only */
        {"s has_cs \"Error\"", "disk error", 1},
        {"s matches \"disk*full\"", "disk error: full", 0},
        {"s matches \"disk?error*\"", "disk error: full", 0},
        {"s matches \"d?sk*\"", "desk", 0},
        {"s matches \"a*b\"", "ac", 1},
        {"s contains \"ERR\"", "disk error", 0},
        {"s startswith \"disk\"", "disk error", 0},
        {"s endswith \"full\"", "disk error", 1},
        {"s in (\"a\", \"b\")", "b", 0},
        {"strlen(s) between (2 .. 4)", "abc", 0},
        {"isnull(t)", "x", 0},
        {"isnotnull(t)", "x", 1},
    };
    size_t i;
    for (i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        qcap c;
        char prog[200];
        dt_field f = dt_field_str("s", cases[i].value);
        snprintf(prog, sizeof prog, "query q = A | where %s | drop", cases[i].cond);
        q_one(&c, prog, &f, 1);
        if ((strlen(c.out) > 0) != cases[i].kept) FAILm(cases[i].cond);
    }
    PASS();
}

TEST drop_in_one_query_hides_the_event_from_later_queries(void) {
    qcap c;
    dt_engine *e = q_engine(&c);
    ASSERT_STR_EQ("OK", q_deploy(e, "query first = A | extend step = 1\n"
                                    "query second = A | where n == 2 | drop\n"
                                    "query third = A | summarize seen = count(), steps = sum(step) every 1m\n"));
    q_emit_i(e, "A", 1 * SEC, "n", 1);
    q_emit_i(e, "A", 2 * SEC, "n", 2);
    q_emit_i(e, "A", 3 * SEC, "n", 3);
    dt_flush(e);
    /* program order: third sees first's field; the dropped n=2 never reaches it */
    ASSERT_STR_EQ("M:seen{} counter 2 [0,60)\nM:steps{} counter 2 [0,60)\n", c.out);
    ASSERT_EQ(3u, stats(e).events_dropped);
    dt_destroy(e);
    PASS();
}

TEST queries_compose_in_program_order(void) {
    qcap c;
    dt_engine *e = q_engine(&c);
    ASSERT_STR_EQ("OK", q_deploy(e, "query a = A | project-rename m = n\n"
                                    "query b = A | extend k = m * 10\n"));
    q_emit_i(e, "A", 1 * SEC, "n", 4);
    ASSERT_STR_EQ("E:A@info{m=4,k=40}\n", c.out);
    dt_destroy(e);
    PASS();
}

/* SCENARIOS.md 2: the old program runs until the new one is swapped in. */
TEST a_new_program_takes_over_at_the_swap(void) {
    qcap c;
    dt_engine *e = q_engine(&c);
    ASSERT_STR_EQ("OK", q_deploy(e, "query old = LogHeartbeat | drop"));
    q_emit_i(e, "LogHeartbeat", 1 * SEC, "n", 1);
    q_emit_i(e, "LogWelcomeBanner", 1 * SEC, "n", 2);
    ASSERT_STR_EQ("OK", q_deploy(e, "query quiet = LogWelcomeBanner, LogCacheProbe | drop\n"
                                    "query lean = LogEndFileHash | project-away hashValue\n"));
    q_emit_i(e, "LogHeartbeat", 2 * SEC, "n", 3);
    q_emit_i(e, "LogWelcomeBanner", 2 * SEC, "n", 4);
    ASSERT_STR_EQ("E:LogWelcomeBanner@info{n=2}\nE:LogHeartbeat@info{n=3}\n", c.out);
    dt_destroy(e);
    PASS();
}

/* ---- reshaping ----------------------------------------------------------------- */

TEST project_keeps_only_the_listed_fields(void) {
    qcap c;
    dt_field f[3];
    f[0] = dt_field_i64("a", 1); f[1] = dt_field_str("b", "x"); f[2] = dt_field_i64("c", 3);
    ASSERT_STR_EQ("E:A@info{a=1,c=3}\n", q_one(&c, "query q = A | project a, c, missing", f, 3));
    ASSERT_STR_EQ("E:A@info{a=1}\n", q_one(&c, "query q = A | project-away b, c, missing", f, 3));
    ASSERT_STR_EQ("E:A@info{a=1,c=3,x=\"x\"}\n", q_one(&c, "query q = A | project-rename x = b, y = missing", f, 3));
    PASS();
}

TEST extend_computes_fields_with_every_function(void) {
    static const struct { const char *expr; const char *want; } cases[] = {
        {"tolower(p)", "\"dir/report.pdf\""},
        {"toupper(p)", "\"DIR/REPORT.PDF\""},
        {"lower(\"AbC\")", "\"abc\""},
        {"upper(\"AbC\")", "\"ABC\""},
        {"substring(p, 4)", "\"report.PDF\""},
        {"substring(p, 4, 6)", "\"report\""},
        {"substring(p, -3)", "\"PDF\""},
        {"substring(p, 40, 2)", "\"\""},
        {"extension(p)", "\"PDF\""},
        {"extension(\"a.b/c\")", "\"\""},
        {"extension(\".profile\")", "\"\""},
        {"hash(\"a\", 100)", "96"},
        {"bin(n, 10)", "120"},
        {"bin(0 - 5, 10)", "-10"},
        {"tostring(n)", "\"123\""},
        {"toint(\" -42 \")", "-42"},
#if !DT_NO_FLOAT
        {"toint(2.9)", "2"},
#endif
        {"strcat(\"n=\", n, \";\", true)", "\"n=123;true\""},
        {"strlen(p)", "14"},
        {"n * 2 + 1", "247"},
    };
    size_t i;
    for (i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        qcap c;
        char prog[200], want[200];
        dt_field f[2];
        f[0] = dt_field_str("p", "dir/report.PDF");
        f[1] = dt_field_i64("n", 123);
        snprintf(prog, sizeof prog, "query q = A | extend r = %s | project r", cases[i].expr);
        snprintf(want, sizeof want, "E:A@info{r=%s}\n", cases[i].want);
        q_one(&c, prog, f, 2);
        if (strcmp(want, c.out) != 0) { fprintf(stderr, "%s: %s", cases[i].expr, c.out); FAILm(cases[i].expr); }
    }
    PASS();
}

TEST extend_hash_is_fnv1a_and_null_results_add_no_field(void) {
    qcap c;
    char want[100];
    dt_field f = dt_field_str("s", "LogWelcomeBanner");
    snprintf(want, sizeof want, "E:A@info{s=\"LogWelcomeBanner\",h=%llu}\n", (unsigned long long)ref_fnv1a("LogWelcomeBanner"));
    ASSERT_STR_EQ(want, q_one(&c, "query q = A | extend h = hash(s)", &f, 1));
    ASSERT_STR_EQ("E:A@info{s=\"LogWelcomeBanner\"}\n", q_one(&c, "query q = A | extend t = toint(s), u = tolower(missing)", &f, 1));
    PASS();
}

/* ---- redact ------------------------------------------------------------------------ */

/* SipHash-2-4 written from the paper so the test does not trust the code
 * it checks. */
static uint64_t ref_rotl(uint64_t x, int b) { return (x << b) | (x >> (64 - b)); }
static void ref_sipround(uint64_t *v) {
    v[0] += v[1]; v[1] = ref_rotl(v[1], 13); v[1] ^= v[0]; v[0] = ref_rotl(v[0], 32);
    v[2] += v[3]; v[3] = ref_rotl(v[3], 16); v[3] ^= v[2];
    v[0] += v[3]; v[3] = ref_rotl(v[3], 21); v[3] ^= v[0];
    v[2] += v[1]; v[1] = ref_rotl(v[1], 17); v[1] ^= v[2]; v[2] = ref_rotl(v[2], 32);
}
static uint64_t ref_le64(const unsigned char *p) {
    uint64_t r = 0;
    int i;
    for (i = 7; i >= 0; i--) r = (r << 8) | p[i];
    return r;
}
static uint64_t ref_siphash(const unsigned char key[16], const char *m, size_t len) {
    uint64_t k0 = ref_le64(key), k1 = ref_le64(key + 8), v[4], b = (uint64_t)len << 56;
    size_t i;
    v[0] = k0 ^ 0x736f6d6570736575ull; v[1] = k1 ^ 0x646f72616e646f6dull;
    v[2] = k0 ^ 0x6c7967656e657261ull; v[3] = k1 ^ 0x7465646279746573ull;
    for (i = 0; i + 8 <= len; i += 8) {
        uint64_t w = ref_le64((const unsigned char *)m + i);
        v[3] ^= w; ref_sipround(v); ref_sipround(v); v[0] ^= w;
    }
    for (; i < len; i++) b |= (uint64_t)(unsigned char)m[i] << (8 * (i % 8));
    v[3] ^= b; ref_sipround(v); ref_sipround(v); v[0] ^= b;
    v[2] ^= 0xff;
    ref_sipround(v); ref_sipround(v); ref_sipround(v); ref_sipround(v);
    return v[0] ^ v[1] ^ v[2] ^ v[3];
}
/* "[hash:" + the 8 output bytes, little-endian, as hex + "]" */
static void ref_hash_marker(char *out, size_t size, const char *key, const char *secret) {
    unsigned char k[16];
    uint64_t h;
    size_t i;
    memset(k, 0, sizeof k);
    for (i = 0; key[i]; i++) k[i % 16] ^= (unsigned char)key[i];
    h = ref_siphash(k, secret, strlen(secret));
    snprintf(out, size, "[hash:");
    for (i = 0; i < 8; i++) snprintf(out + 6 + 2 * i, size - 6 - 2 * i, "%02x", (unsigned)((h >> (8 * i)) & 0xff));
    snprintf(out + 22, size - 22, "]");
}

TEST siphash_reference_matches_the_paper_vector(void) {
    unsigned char k[16];
    int i;
    for (i = 0; i < 16; i++) k[i] = (unsigned char)i;
    ASSERT_EQ(0x726fdb47dd0e0e31ull, ref_siphash(k, "", 0));
    PASS();
}

TEST redact_replaces_matches_with_a_marker(void) {
    qcap c;
    dt_field f[3];
    f[0] = dt_field_str("msg", "mail bob@example.com from 10.1.2.3 ok");
    f[1] = dt_field_str("ver", "1.2.3.4.5");
    f[2] = dt_field_i64("n", 7);
    ASSERT_STR_EQ("E:A@info{msg=\"mail [REDACTED] from [REDACTED] ok\",ver=\"1.2.3.4.5\",n=7}\n",
                  q_one(&c, "query q = A | redact", f, 3));
    ASSERT_STR_EQ("E:A@info{msg=\"mail *** from 10.1.2.3 ok\",ver=\"1.2.3.4.5\",n=7}\n",
                  q_one(&c, "query q = A | redact email with \"***\"", f, 3));
    ASSERT_STR_EQ("E:A@info{msg=\"mail bob@example.com from [IP] ok\",ver=\"1.2.3.4.5\",n=7}\n",
                  q_one(&c, "query q = A | redact ipv4 in msg, ver with \"[IP]\"", f, 3));
    PASS();
}

TEST redact_in_limits_it_to_the_listed_fields(void) {
    qcap c;
    dt_field f[2];
    f[0] = dt_field_str("a", "x@example.com");
    f[1] = dt_field_str("b", "y@example.com");
    ASSERT_STR_EQ("E:A@info{a=\"x@example.com\",b=\"[REDACTED]\"}\n", q_one(&c, "query q = A | redact in b", f, 2));
    PASS();
}

TEST redact_with_hash_gives_equal_secrets_equal_keyed_hashes(void) {
    qcap c;
    char want[300], h1[32], h2[32], h0[32];
    dt_field f[2];
    f[0] = dt_field_str("a", "to alice@example.com");
    f[1] = dt_field_str("b", "alice@example.com, carol@example.com");
    ref_hash_marker(h1, sizeof h1, "k1", "alice@example.com");
    ref_hash_marker(h2, sizeof h2, "k1", "carol@example.com");
    snprintf(want, sizeof want, "E:A@info{a=\"to %s\",b=\"%s, %s\"}\n", h1, h1, h2);
    ASSERT_STR_EQ(want, q_one(&c, "query q = A | redact email with hash key \"k1\"", f, 2));
    ref_hash_marker(h0, sizeof h0, "", "alice@example.com");          /* default key: 16 zero bytes */
    ASSERT(strcmp(h0, h1) != 0);
    snprintf(want, sizeof want, "E:A@info{a=\"to %s\",b=\"alice@example.com, carol@example.com\"}\n", h0);
    ASSERT_STR_EQ(want, q_one(&c, "query q = A | redact email in a with hash", f, 2));
    PASS();
}

TEST redact_detectors_are_selectable(void) {
    static const struct { const char *det; const char *in; const char *out; } cases[] = {
        {"email", "a@b.example.org", "#"},
        {"ipv4", "at 192.168.0.1.", "at #."},
        {"ipv6", "h 2001:db8::1 x", "h # x"},
        {"bearer", "Authorization: Bearer abcdefABCDEF0123456789xyz", "Authorization: Bearer #"},
        {"apikey", "key AKIAIOSFODNN7EXAMPLE", "key #"},
        {"apikey", "tok ghp_abcdefghijklmnopqrstuvwxyz0123456789", "tok #"},
        {"card", "card 4111 1111 1111 1111", "card #"},
        {"card", "order 4111 1111 1111 1112", "order 4111 1111 1111 1112"},   /* fails Luhn */
        {"ipv4", "a@b.example.org", "a@b.example.org"},                      /* not this detector */
        {"email", "user@localhost", "user@localhost"},
    };
    size_t i;
    for (i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        qcap c;
        char prog[120], want[300];
        dt_field f = dt_field_str("s", cases[i].in);
        snprintf(prog, sizeof prog, "query q = A | redact %s with \"#\"", cases[i].det);
        snprintf(want, sizeof want, "E:A@info{s=\"%s\"}\n", cases[i].out);
        q_one(&c, prog, &f, 1);
        if (strcmp(want, c.out) != 0) { fprintf(stderr, "%s: %s", cases[i].in, c.out); FAILm(cases[i].in); }
    }
    PASS();
}

/* ---- sample --------------------------------------------------------------------------- */

/* Which of 1000 events (field i) a sample keeps, as a 1000-char mask. */
static uint32_t q_sample_mask(const char *program, char *mask, int by_key) {
    qcap c;
    dt_engine *e = q_engine(&c);
    uint32_t i, kept = 0;
    c.quiet = 1;
    if (strcmp(q_deploy(e, program), "OK") != 0) { dt_destroy(e); return 0xffffffffu; }
    for (i = 0; i < 1000; i++) {
        dt_field f[2];
        dt_stats before = stats(e), after;
        f[0] = dt_field_i64("i", i);
        f[1] = dt_field_i64("k", by_key ? (int64_t)(i % 50) : (int64_t)i);
        q_emit(e, "Dbg", 1 * SEC, f, 2);
        after = stats(e);
        mask[i] = after.events_exported > before.events_exported ? '1' : '0';
        kept += mask[i] == '1';
    }
    mask[1000] = 0;
    dt_destroy(e);
    return kept;
}

TEST sample_is_deterministic_for_a_seed(void) {
    static char a[1001], b[1001], d[1001];
    uint32_t kb = q_sample_mask("query s = Dbg | sample 1 in 10 seed 7", b, 0);
    uint32_t kd = q_sample_mask("query s = Dbg | sample 1 in 10 seed 8", d, 0);
#if !DT_NO_FLOAT
    uint32_t ka = q_sample_mask("query s = Dbg | sample 0.1 seed 7", a, 0);
    ASSERT_STR_EQ(a, b);                                    /* 0.1 and 1 in 10 are one probability */
    ASSERT_EQ(ka, kb);
#endif
    ASSERT(kb >= 70 && kb <= 130);                          /* 100 expected; binomial sd 9.5 */
    ASSERT(kd >= 70 && kd <= 130);
    ASSERT(strcmp(b, d) != 0);                              /* another seed, other events */
    ASSERT_EQ(0u, q_sample_mask("query s = Dbg | sample 0", a, 0));
    ASSERT_EQ(1000u, q_sample_mask("query s = Dbg | sample 1", a, 0));
    PASS();
}

TEST sample_by_key_keeps_or_drops_each_key_whole(void) {
    static char a[1001], b[1001];
    uint32_t i, kept = q_sample_mask("query s = Dbg | sample 1 in 2 by k seed 3", a, 1);
    ASSERT_EQ(kept, q_sample_mask("query s = Dbg | sample 1 in 2 by k seed 3", b, 1));
    ASSERT_STR_EQ(a, b);
    for (i = 50; i < 1000; i++) ASSERT_EQ(a[i % 50], a[i]);  /* key = i % 50 */
    ASSERT(kept % 20 == 0 && kept > 0 && kept < 1000);      /* whole keys of 20 events each */
    PASS();
}

/* ---- throttle ---------------------------------------------------------------------------- */

TEST throttle_passes_n_per_window_and_resumes(void) {
    qcap c;
    dt_engine *e = q_engine(&c);
    int i;
    ASSERT_STR_EQ("OK", q_deploy(e, "query pings = Ping | throttle 3 per 1m"));
    c.quiet = 1;
    for (i = 1; i <= 5; i++) q_emit_i(e, "Ping", 10 * SEC + i, "i", i);
    q_emit_i(e, "Ping", 60 * SEC, "i", 6);                  /* exactly on the boundary: the next window */
    q_emit_i(e, "Ping", 61 * SEC, "i", 7);
    q_emit_i(e, "Ping", 62 * SEC, "i", 8);
    q_emit_i(e, "Ping", 63 * SEC, "i", 9);
    ASSERT_EQ(6u, stats(e).events_exported);
    ASSERT_EQ(3u, stats(e).events_dropped);
    c.quiet = 0;
    q_emit_i(e, "Ping", 120 * SEC, "i", 10);
    ASSERT_STR_EQ("E:Ping@info{i=10}\n", c.out);
    dt_destroy(e);
    PASS();
}

TEST throttle_by_key_counts_each_key_apart(void) {
    qcap c;
    dt_engine *e = q_engine(&c);
    int i;
    ASSERT_STR_EQ("OK", q_deploy(e, "query pings = Ping | throttle 2 per 1m by host"));
    for (i = 0; i < 3; i++) {
        q_emit_s(e, "Ping", 1 * SEC, "host", "a");
        q_emit_s(e, "Ping", 1 * SEC, "host", "b");
    }
    ASSERT_STR_EQ("E:Ping@info{host=\"a\"}\nE:Ping@info{host=\"b\"}\nE:Ping@info{host=\"a\"}\nE:Ping@info{host=\"b\"}\n", c.out);
    dt_destroy(e);
    PASS();
}

TEST throttle_keys_bound_shares_one_overflow_key(void) {
    qcap c;
    dt_engine *e = q_engine(&c);
    int i;
    ASSERT_STR_EQ("OK", q_deploy(e, "query t = Ping | throttle 1 per 1m by k keys 4"));
    c.quiet = 1;
    for (i = 0; i < 100; i++) q_emit_i(e, "Ping", 1 * SEC, "k", i);
    ASSERT(stats(e).overflows > 0);                         /* the table is full: counted */
    ASSERT(stats(e).events_exported <= 5);                  /* 4 keys + 1 overflow key, one each */
    ASSERT(stats(e).events_exported >= 4);
    dt_destroy(e);
    PASS();
}

/* ---- summarize: aggregates ------------------------------------------------------------------ */

static void q_emit_v(dt_engine *e, int64_t ts, const char *k, dt_field v) {
    dt_field f[2];
    f[0] = dt_field_str("k", k);
    f[1] = v;
    q_emit(e, "V", ts, f, 2);
}

TEST summarize_every_aggregate(void) {
    qcap c;
    dt_engine *e = q_engine(&c);
    ASSERT_STR_EQ("OK", q_deploy(e, "query v = V | summarize count(), countif(x > 2), sum(x), min(x), max(x), avg(x), "
                                    "dcount(x), p50(x), p90(x), p95(x), p99(x), percentile(x, 25) by k every 1m groups 10"));
    q_emit_v(e, 1 * SEC, "a", dt_field_i64("x", 1));
    q_emit_v(e, 2 * SEC, "a", dt_field_i64("x", 3));
    q_emit_v(e, 3 * SEC, "a", dt_field_i64("x", 3));
    q_emit_v(e, 4 * SEC, "a", dt_field_i64("x", 8));
    q_emit_v(e, 5 * SEC, "b", dt_field_f64("x", 0.5));
    ASSERT_STR_EQ("", c.out);                               /* consumed, the window still open */
    dt_tick(e, 60 * SEC);
    ASSERT_STR_EQ("M:v.count{k=\"a\"} counter 4 [0,60)\n"
                  "M:v.countif{k=\"a\"} counter 3 [0,60)\n"
                  "M:v.sum{k=\"a\"} counter 15 [0,60)\n"
                  "M:v.min{k=\"a\"} gauge 1 [0,60)\n"
                  "M:v.max{k=\"a\"} gauge 8 [0,60)\n"
                  "M:v.avg{k=\"a\"} gauge 3.75f [0,60)\n"
                  "M:v.dcount{k=\"a\"} gauge 3 [0,60)\n"
                  "M:v.p50{k=\"a\"} gauge 3.03125f [0,60)\n"
                  "M:v.p90{k=\"a\"} gauge 8f [0,60)\n"
                  "M:v.p95{k=\"a\"} gauge 8f [0,60)\n"
                  "M:v.p99{k=\"a\"} gauge 8f [0,60)\n"
                  "M:v.percentile{k=\"a\"} gauge 1.01562f [0,60)\n"
                  "M:v.count{k=\"b\"} counter 1 [0,60)\n"
                  "M:v.countif{k=\"b\"} counter 0 [0,60)\n"
                  "M:v.sum{k=\"b\"} counter 0.5f [0,60)\n"
                  "M:v.min{k=\"b\"} gauge 0.5f [0,60)\n"
                  "M:v.max{k=\"b\"} gauge 0.5f [0,60)\n"
                  "M:v.avg{k=\"b\"} gauge 0.5f [0,60)\n"
                  "M:v.dcount{k=\"b\"} gauge 1 [0,60)\n"
                  "M:v.p50{k=\"b\"} gauge 0.5f [0,60)\n"
                  "M:v.p90{k=\"b\"} gauge 0.5f [0,60)\n"
                  "M:v.p95{k=\"b\"} gauge 0.5f [0,60)\n"
                  "M:v.p99{k=\"b\"} gauge 0.5f [0,60)\n"
                  "M:v.percentile{k=\"b\"} gauge 0.5f [0,60)\n", c.out);
    ASSERT_EQ(5u, stats(e).events_dropped);
    dt_destroy(e);
    PASS();
}

TEST summarize_window_boundary_belongs_to_the_next_window(void) {
    qcap c;
    dt_engine *e = q_engine(&c);
    ASSERT_STR_EQ("OK", q_deploy(e, "query w = A | summarize n = count() every 10s"));
    emit(e, "A", DT_INFO, 1 * SEC);
    emit(e, "A", DT_INFO, 10 * SEC - 1);
    emit(e, "A", DT_INFO, 10 * SEC);                        /* on the boundary: [10,20); closes [0,10) */
    ASSERT_STR_EQ("M:n{} counter 2 [0,10)\n", c.out);
    emit(e, "A", DT_INFO, 45 * SEC);                        /* [20,30) and [30,40) were empty: no point */
    emit(e, "A", DT_INFO, 12 * SEC);                        /* late: counts in the open window */
    dt_flush(e);
    ASSERT_STR_EQ("M:n{} counter 2 [0,10)\nM:n{} counter 1 [10,20)\nM:n{} counter 2 [40,50)\n", c.out);
    dt_tick(e, 100 * SEC);
    dt_flush(e);                                            /* nothing open: nothing more */
    ASSERT_EQ(3u, c.points);
    dt_destroy(e);
    PASS();
}

TEST summarize_tick_closes_a_window_without_new_events(void) {
    qcap c;
    dt_engine *e = q_engine(&c);
    ASSERT_STR_EQ("OK", q_deploy(e, "query w = A | summarize n = count() every 1m"));
    emit(e, "A", DT_INFO, 30 * SEC);
    dt_tick(e, 60 * SEC - 1);
    ASSERT_STR_EQ("", c.out);
    dt_tick(e, 60 * SEC);
    ASSERT_STR_EQ("M:n{} counter 1 [0,60)\n", c.out);
    dt_tick(e, 300 * SEC);
    ASSERT_EQ(1u, c.points);
    dt_destroy(e);
    PASS();
}

TEST summarize_nan_and_infinities(void) {
    qcap c;
    dt_engine *e = q_engine(&c);
    ASSERT_STR_EQ("OK", q_deploy(e, "query v = V | summarize s = sum(x), lo = min(x), hi = max(x), n = count() by k"));
    q_emit_v(e, 1 * SEC, "inf", dt_field_f64("x", 1.0 / 0.0));
    q_emit_v(e, 1 * SEC, "inf", dt_field_f64("x", 5));
    q_emit_v(e, 1 * SEC, "both", dt_field_f64("x", 1.0 / 0.0));
    q_emit_v(e, 1 * SEC, "both", dt_field_f64("x", -1.0 / 0.0));
    q_emit_v(e, 1 * SEC, "nan", dt_field_i64("x", 2));
    q_emit_v(e, 1 * SEC, "nan", dt_field_f64("x", 0.0 / 0.0));
    dt_flush(e);
    ASSERT_STR_EQ("M:s{k=\"inf\"} counter inf [0,60)\nM:lo{k=\"inf\"} gauge 5f [0,60)\nM:hi{k=\"inf\"} gauge inf [0,60)\n"
                  "M:n{k=\"inf\"} counter 2 [0,60)\n"
                  "M:s{k=\"both\"} counter nan [0,60)\nM:lo{k=\"both\"} gauge -inf [0,60)\nM:hi{k=\"both\"} gauge inf [0,60)\n"
                  "M:n{k=\"both\"} counter 2 [0,60)\n"
                  "M:s{k=\"nan\"} counter nan [0,60)\nM:lo{k=\"nan\"} gauge 2f [0,60)\nM:hi{k=\"nan\"} gauge 2f [0,60)\n"
                  "M:n{k=\"nan\"} counter 2 [0,60)\n", c.out);
    dt_destroy(e);
    PASS();
}

/* NaN is ignored by min and max: a group that saw only NaN has no min or
 * max point (once, a point of 0 came out). */
TEST summarize_only_nan_gives_no_min_or_max(void) {
    qcap c;
    dt_engine *e = q_engine(&c);
    int ok;
    ASSERT_STR_EQ("OK", q_deploy(e, "query v = V | summarize s = sum(x), lo = min(x), hi = max(x)"));
    q_emit_v(e, 1 * SEC, "k", dt_field_f64("x", 0.0 / 0.0));
    dt_flush(e);
    ok = strcmp("M:s{} counter nan [0,60)\n", c.out) == 0;
    dt_destroy(e);
    ASSERT(ok);
    PASS();
}

TEST summarize_integer_sum_is_exact_then_promoted_on_overflow(void) {
    qcap c;
    dt_engine *e = q_engine(&c);
    ASSERT_STR_EQ("OK", q_deploy(e, "query v = V | summarize s = sum(x) by k"));
    q_emit_v(e, 1 * SEC, "exact", dt_field_i64("x", 9007199254740990LL));     /* 2^53 - 2 */
    q_emit_v(e, 1 * SEC, "exact", dt_field_i64("x", 1));
    q_emit_v(e, 1 * SEC, "over", dt_field_i64("x", INT64_MAX));
    q_emit_v(e, 1 * SEC, "over", dt_field_i64("x", 1));
    q_emit_v(e, 1 * SEC, "under", dt_field_i64("x", INT64_MIN));
    q_emit_v(e, 1 * SEC, "under", dt_field_i64("x", -1));
    q_emit_v(e, 1 * SEC, "big", dt_field_u64("x", UINT64_MAX));
    dt_flush(e);
    ASSERT_STR_EQ("M:s{k=\"exact\"} counter 9007199254740991 [0,60)\n"
                  "M:s{k=\"over\"} counter 9.22337e+18f [0,60)\n"
                  "M:s{k=\"under\"} counter -9.22337e+18f [0,60)\n"
                  "M:s{k=\"big\"} counter 1.84467e+19f [0,60)\n", c.out);
    dt_destroy(e);
    PASS();
}

TEST summarize_missing_fields_and_wrong_types(void) {
    qcap c;
    dt_engine *e = q_engine(&c);
    ASSERT_STR_EQ("OK", q_deploy(e, "query v = V | summarize n = count(), s = sum(x), lo = min(x), a = avg(x), "
                                    "d = dcount(x), p = p50(x), c = countif(x > 0) by k"));
    q_emit_v(e, 1 * SEC, "none", dt_field_str("y", "no x"));          /* missing x */
    q_emit_v(e, 1 * SEC, "text", dt_field_str("x", "12"));            /* x not a number */
    dt_flush(e);
    /* counted, but nothing to sum: sum 0, and no min/avg/percentile point;
     * a string is still a distinct value */
    ASSERT_STR_EQ("M:n{k=\"none\"} counter 1 [0,60)\nM:s{k=\"none\"} counter 0 [0,60)\n"
                  "M:d{k=\"none\"} gauge 0 [0,60)\nM:c{k=\"none\"} counter 0 [0,60)\n"
                  "M:n{k=\"text\"} counter 1 [0,60)\nM:s{k=\"text\"} counter 0 [0,60)\n"
                  "M:d{k=\"text\"} gauge 1 [0,60)\nM:c{k=\"text\"} counter 0 [0,60)\n", c.out);
    dt_destroy(e);
    PASS();
}

TEST summarize_keys_labels_and_bin(void) {
    qcap c;
    dt_engine *e = q_engine(&c);
    dt_field f[2];
    ASSERT_STR_EQ("OK", q_deploy(e, "query h = H | summarize files = count() by ext = tolower(extension(fileName)), bin(size, 100), level every 1m"));
    f[0] = dt_field_str("fileName", "/tmp/a.TXT"); f[1] = dt_field_i64("size", 150);
    q_emit(e, "H", 1 * SEC, f, 2);
    f[0] = dt_field_str("fileName", "b.txt"); f[1] = dt_field_i64("size", 199);
    q_emit(e, "H", 2 * SEC, f, 2);
    dt_flush(e);
    ASSERT_STR_EQ("M:files{ext=\"txt\",bin=100,level=9} counter 2 [0,60)\n", c.out);
    dt_destroy(e);
    PASS();
}

TEST summarize_keep_exports_and_counts(void) {
    qcap c;
    dt_engine *e = q_engine(&c);
    ASSERT_STR_EQ("OK", q_deploy(e, "query k = A | summarize n = count() keep"));
    q_emit_i(e, "A", 1 * SEC, "i", 1);
    dt_flush(e);
    ASSERT_STR_EQ("E:A@info{i=1}\nM:n{} counter 1 [0,60)\n", c.out);
    ASSERT_EQ(0u, stats(e).events_dropped);
    dt_destroy(e);
    PASS();
}

/* ---- summarize: bounds ------------------------------------------------------------------------ */

TEST summarize_group_bound_sends_new_keys_to_one_overflow_group(void) {
    qcap c;
    dt_engine *e = q_engine(&c);
    int i;
    ASSERT_STR_EQ("OK", q_deploy(e, "query g = A | summarize n = count(), s = sum(i) by k groups 2"));
    for (i = 0; i < 6; i++) {
        dt_field f[2];
        f[0] = dt_field_i64("k", i % 4);
        f[1] = dt_field_i64("i", i);
        q_emit(e, "A", 1 * SEC, f, 2);
    }
    dt_flush(e);
    ASSERT_STR_EQ("M:n{k=0} counter 2 [0,60)\nM:s{k=0} counter 4 [0,60)\n"
                  "M:n{k=1} counter 2 [0,60)\nM:s{k=1} counter 6 [0,60)\n"
                  "M:n{dt.overflow=true} counter 2 [0,60)\nM:s{dt.overflow=true} counter 5 [0,60)\n", c.out);
    ASSERT_EQ(2u, stats(e).overflows);
    dt_destroy(e);
    PASS();
}

/* SCENARIOS.md 21, part 1: 1,000,000 distinct keys stay within the bound,
 * the excess is counted, and the totals are conserved. */
TEST summarize_a_million_distinct_keys_stay_within_the_bound(void) {
    qcap c;
    dt_engine *e = q_engine(&c);
    int64_t i;
    ASSERT_STR_EQ("OK", q_deploy(e, "query budget = A | summarize n = count() by id groups 1000"));
    c.quiet = 1;
    for (i = 0; i < 1000000; i++) q_emit_i(e, "A", 1 * SEC, "id", i);
    dt_flush(e);
    ASSERT_EQ(1001u, c.points);                             /* 1000 groups and the overflow group */
    ASSERT_EQ(1u, c.overflow_points);
    ASSERT_EQ(1000000.0, c.total);
    ASSERT_EQ(999000.0, c.overflow_total);
    ASSERT_EQ(999000u, stats(e).overflows);
    dt_destroy(e);
    PASS();
}

TEST summarize_groups_bound_is_checked_at_deploy(void) {
    qcap c;
    dt_engine *e = q_engine(&c);
    /* the group tables are taken at deploy: 100000 groups do not fit the
     * default 16 MiB program bound */
    ASSERT_STR_EQ("1:51: program too large for its memory bound",
                  q_deploy(e, "query g = A | summarize count() by k groups 100000"));
    dt_destroy(e);
    e = q_engine_with(&c, DT_RISK_DEFAULT, (size_t)256 << 20);
    ASSERT_STR_EQ("OK", q_deploy(e, "query g = A | summarize count() by k groups 100000"));
    ASSERT_STR_EQ("1:45: number out of range",
                  q_deploy(e, "query g = A | summarize count() by k groups 100001"));
    dt_destroy(e);
    PASS();
}

/* ---- summarize: approximations ---------------------------------------------------------------- */

/* Values 1..10000 (uniform): each percentile within 2 % of the exact one. */
TEST percentiles_are_within_two_percent(void) {
    static const double qs[] = {25, 50, 90, 95, 99, 99.9};
    qcap c;
    dt_engine *e = q_engine(&c);
    char prog[300];
    int i;
    snprintf(prog, sizeof prog, "query p = A | summarize a = percentile(x, 25), b = p50(x), c = p90(x), d = p95(x), e = p99(x), f = p999(x)");
    ASSERT_STR_EQ("OK", q_deploy(e, prog));
    for (i = 1; i <= 10000; i++) q_emit_i(e, "A", 1 * SEC, "x", (i * 7919) % 10000 + 1);   /* a shuffled 1..10000 */
    dt_flush(e);
    {
        const char *p = c.out;
        for (i = 0; i < 6; i++) {
            double got, want = qs[i] * 100.0, err;
            const char *sp = strchr(p, ' ');
            ASSERT(sp != NULL);
            sp = strchr(sp + 1, ' ');
            ASSERT(sp != NULL);
            got = strtod(sp + 1, NULL);
            err = (got - want) / want;
            if (err < 0) err = -err;
            if (err > 0.02) { fprintf(stderr, "q%g: %g vs %g\n", qs[i], got, want); FAIL(); }
            p = strchr(sp, '\n') + 1;
        }
    }
    dt_destroy(e);
    PASS();
}

/* 10,000 distinct values (each seen twice): within 3 standard errors (3 x 3.3 %). */
TEST dcount_is_within_three_standard_errors(void) {
    qcap c;
    dt_engine *e = q_engine(&c);
    int i;
    double err;
    ASSERT_STR_EQ("OK", q_deploy(e, "query d = A | summarize users = dcount(u), texts = dcount(s)"));
    c.quiet = 1;
    for (i = 0; i < 20000; i++) {
        char s[32];
        dt_field f[2];
        snprintf(s, sizeof s, "user-%d", i % 10000);
        f[0] = dt_field_i64("u", i % 10000);
        f[1] = dt_field_str("s", s);
        q_emit(e, "A", 1 * SEC, f, 2);
    }
    dt_flush(e);
    ASSERT_EQ(2u, c.points);
    err = (c.total / 2 - 10000) / 10000;
    if (err < 0) err = -err;
    ASSERT(err <= 3 * 0.033);
    dt_destroy(e);
    PASS();
}

/* ---- carry-over across deploys ----------------------------------------------------------------- */

TEST carry_over_keeps_the_open_window_for_the_same_definition(void) {
    qcap c;
    dt_engine *e = q_engine(&c);
    const char *prog = "query w = A | summarize n = count() every 1m\n";
    ASSERT_STR_EQ("OK", q_deploy(e, prog));
    emit(e, "A", DT_INFO, 1 * SEC);
    emit(e, "A", DT_INFO, 2 * SEC);
    ASSERT_STR_EQ("OK", q_deploy(e, "query w = A | summarize n = count() every 1m\nquery other = B | drop\n"));
    ASSERT_STR_EQ("", c.out);                               /* nothing flushed */
    emit(e, "A", DT_INFO, 3 * SEC);
    dt_tick(e, 60 * SEC);
    ASSERT_STR_EQ("M:n{} counter 3 [0,60)\n", c.out);
    dt_destroy(e);
    PASS();
}

TEST carry_over_flushes_a_changed_definition_at_deploy(void) {
    qcap c;
    dt_engine *e = q_engine(&c);
    ASSERT_STR_EQ("OK", q_deploy(e, "query w = A | summarize n = count() every 1m"));
    emit(e, "A", DT_INFO, 1 * SEC);
    ASSERT_STR_EQ("OK", q_deploy(e, "query w = A | summarize n = count() every 2m"));
    ASSERT_STR_EQ("M:n{} counter 1 [0,60)\n", c.out);       /* the old window left at deploy */
    emit(e, "A", DT_INFO, 2 * SEC);
    dt_flush(e);
    ASSERT_STR_EQ("M:n{} counter 1 [0,60)\nM:n{} counter 1 [0,120)\n", c.out);
    dt_destroy(e);
    PASS();
}

TEST rollback_and_undeploy_flush_open_windows(void) {
    qcap c;
    dt_engine *e = q_engine(&c);
    ASSERT_STR_EQ("OK", q_deploy(e, "query a = A | summarize n = count()"));
    emit(e, "A", DT_INFO, 1 * SEC);
    ASSERT_STR_EQ("OK", q_deploy(e, "query b = A | summarize m = count()"));   /* another name: a flushed */
    ASSERT_STR_EQ("M:n{} counter 1 [0,60)\n", c.out);
    emit(e, "A", DT_INFO, 2 * SEC);
    ASSERT_EQ(DT_OK, dt_rollback(e));
    ASSERT_STR_EQ("M:n{} counter 1 [0,60)\nM:m{} counter 1 [0,60)\n", c.out);
    emit(e, "A", DT_INFO, 3 * SEC);
    ASSERT_EQ(DT_OK, dt_undeploy(e));
    ASSERT_STR_EQ("M:n{} counter 1 [0,60)\nM:m{} counter 1 [0,60)\nM:n{} counter 1 [0,60)\n", c.out);
    dt_destroy(e);
    PASS();
}

/* ---- deploy errors and risk ----------------------------------------------------------------------- */

TEST deploy_errors_say_where(void) {
    qcap c;
    dt_engine *e = q_engine(&c);
    static const dt_schema_field schema[] = {{"fileName", DT_TYPE_STR}, {"size", DT_TYPE_I64}};
    ASSERT_STR_EQ("1:15: unknown query operator", q_deploy(e, "query q = A | frobnicate"));
    ASSERT_STR_EQ("1:37: summarize ends a query", q_deploy(e, "query q = A | summarize n = count() | drop"));
    ASSERT_STR_EQ("2:25: unknown aggregate", q_deploy(e, "query ok = B | drop\nquery q = A | summarize median(x)"));
    ASSERT_STR_EQ("1:34: two aggregates would give metrics of one name",
                  q_deploy(e, "query q = A | summarize count(), count()"));
    ASSERT_STR_EQ("1:41: two aggregates would give metrics of one name",
                  q_deploy(e, "query q = A | summarize n = sum(x), n = max(x)"));
#if !DT_NO_FLOAT
    ASSERT_STR_EQ("1:22: a sampling probability is between 0 and 1", q_deploy(e, "query q = A | sample 1.5"));
#endif
    ASSERT_STR_EQ("1:22: unknown detector", q_deploy(e, "query q = A | redact emial, ipv4"));
    ASSERT_STR_EQ("1:12: a query needs at least one operator", q_deploy(e, "query q = A"));
    ASSERT_EQ(DT_OK, dt_register_event(e, "LogEndFileHash", schema, 2, NULL, 0));
    ASSERT_STR_EQ("OK", q_deploy(e, "query q = LogEndFileHash | project-away fileName"));
    {
        const char *r = q_deploy(e, "query q = LogEndFileHash | where sise > 3 | drop");
        ASSERT_EQ(0, strncmp("1:34: ", r, 6));
        ASSERT(strstr(r, "sise") != NULL);
    }
    dt_destroy(e);
    PASS();
}

/* The error points at the numerator (column 22), not at `in` (once, a
 * dt_peek pointer was kept across dt_next). */
TEST sample_error_points_at_the_fraction(void) {
    qcap c;
    dt_engine *e = q_engine(&c);
    const char *r = q_deploy(e, "query q = A | sample 3 in 2");
    int ok = strcmp("1:22: cannot keep more events than there are", r) == 0;
    dt_destroy(e);
    ASSERT(ok);
    PASS();
}

TEST a_query_program_deploys_under_low_risk(void) {
    qcap c;
    dt_engine *e = q_engine_risk(&c, DT_RISK_LOW);
    dt_program_info info;
    dt_error err;
    const char *prog = "query a = A | where n > 1 | extend m = tolower(s) | redact | sample 1 in 2 | throttle 5 per 1s\n"
                       "query b = B | project-away secret | project-rename x = y | project x\n"
                       "query c = C | summarize count(), p99(n), dcount(n) by k\n";
    ASSERT_STR_EQ("OK", q_deploy(e, prog));
    ASSERT_EQ(DT_OK, dt_check(e, prog, strlen(prog), &err, &info));
    ASSERT_EQ((int)DT_RISK_LOW, info.risk);
    dt_destroy(e);
    PASS();
}

/* A metric sink may emit into the query whose window it is being called
 * from: no lock is held while it runs. Its event (stamped two windows on)
 * meets the close in progress and counts in the open window. */
static dt_engine *q_reentry_engine;
static int q_reentry_done;
static void q_reentrant_metric(const dt_metric *m, void *ud) {
    q_metric(m, ud);
    if (q_reentry_done || m->name.len != 1 || m->name.ptr[0] != 'n') return;
    q_reentry_done = 1;
    emit(q_reentry_engine, "A", DT_INFO, 130 * SEC);
}

TEST summarize_sink_may_emit_into_the_closing_query(void) {
    qcap c;
    dt_engine *e;
    dt_desc d;
    static const dt_processor *procs[1];
    memset(&c, 0, sizeof c);
    procs[0] = dt_query_processor();
    d = sup_desc(&c, &c.now, 1 * SEC);
    d.sinks.event = q_event;
    d.sinks.metric = q_reentrant_metric;
    d.processors = procs;
    d.nprocessors = 1;
    e = q_reentry_engine = dt_create(&d);
    q_reentry_done = 0;
    ASSERT_STR_EQ("OK", q_deploy(e, "query w = A | summarize n = count() every 1m"));
    emit(e, "A", DT_INFO, 1 * SEC);
    dt_tick(e, 60 * SEC);
    dt_flush(e);
    ASSERT_STR_EQ("M:n{} counter 1 [0,60)\nM:n{} counter 1 [60,120)\n", c.out);
    dt_destroy(e);
    PASS();
}

/* A key that does not start with a name is labelled keyN by its place. */
TEST summarize_unnamed_keys_are_labelled_by_place(void) {
    qcap c;
    dt_engine *e = q_engine(&c);
    ASSERT_STR_EQ("OK", q_deploy(e, "query q = A | summarize n = count() by level, 1 + 2"));
    emit(e, "A", DT_INFO, 1 * SEC);
    dt_flush(e);
    ASSERT_STR_EQ("M:n{level=9,key2=3} counter 1 [0,60)\n", c.out);
    dt_destroy(e);
    PASS();
}

/* One query naming an event twice (exactly and by a prefix) sees it once. */
TEST overlapping_patterns_reach_a_query_once(void) {
    qcap c;
    dt_engine *e = q_engine(&c);
    ASSERT_STR_EQ("OK", q_deploy(e, "query q = Log*, LogLaunch, Lo* | summarize n = count()"));
    emit(e, "LogLaunch", DT_INFO, 1 * SEC);
    emit(e, "LogOther", DT_INFO, 1 * SEC);
    dt_flush(e);
    ASSERT_STR_EQ("M:n{} counter 2 [0,60)\n", c.out);
    dt_destroy(e);
    PASS();
}

SUITE(query) {
    RUN_TEST(where_applies_the_rest_only_to_matching_events);
    RUN_TEST(where_string_operators);
    RUN_TEST(drop_in_one_query_hides_the_event_from_later_queries);
    RUN_TEST(queries_compose_in_program_order);
    RUN_TEST(a_new_program_takes_over_at_the_swap);
    RUN_TEST(project_keeps_only_the_listed_fields);
    RUN_TEST(extend_computes_fields_with_every_function);
    RUN_TEST(extend_hash_is_fnv1a_and_null_results_add_no_field);
    RUN_TEST(siphash_reference_matches_the_paper_vector);
    RUN_TEST(redact_replaces_matches_with_a_marker);
    RUN_TEST(redact_in_limits_it_to_the_listed_fields);
    RUN_TEST(redact_with_hash_gives_equal_secrets_equal_keyed_hashes);
    RUN_TEST(redact_detectors_are_selectable);
    RUN_TEST(sample_is_deterministic_for_a_seed);
    RUN_TEST(sample_by_key_keeps_or_drops_each_key_whole);
    RUN_TEST(throttle_passes_n_per_window_and_resumes);
    RUN_TEST(throttle_by_key_counts_each_key_apart);
    RUN_TEST(throttle_keys_bound_shares_one_overflow_key);
    RUN_TEST(summarize_every_aggregate);
    RUN_TEST(summarize_window_boundary_belongs_to_the_next_window);
    RUN_TEST(summarize_tick_closes_a_window_without_new_events);
    RUN_TEST(summarize_sink_may_emit_into_the_closing_query);
    RUN_TEST(overlapping_patterns_reach_a_query_once);
    RUN_TEST(summarize_unnamed_keys_are_labelled_by_place);
    RUN_TEST(summarize_nan_and_infinities);
    RUN_TEST(summarize_only_nan_gives_no_min_or_max);
    RUN_TEST(summarize_integer_sum_is_exact_then_promoted_on_overflow);
    RUN_TEST(summarize_missing_fields_and_wrong_types);
    RUN_TEST(summarize_keys_labels_and_bin);
    RUN_TEST(summarize_keep_exports_and_counts);
    RUN_TEST(summarize_group_bound_sends_new_keys_to_one_overflow_group);
    RUN_TEST(summarize_a_million_distinct_keys_stay_within_the_bound);
    RUN_TEST(summarize_groups_bound_is_checked_at_deploy);
    RUN_TEST(percentiles_are_within_two_percent);
    RUN_TEST(dcount_is_within_three_standard_errors);
    RUN_TEST(carry_over_keeps_the_open_window_for_the_same_definition);
    RUN_TEST(carry_over_flushes_a_changed_definition_at_deploy);
    RUN_TEST(rollback_and_undeploy_flush_open_windows);
    RUN_TEST(deploy_errors_say_where);
    RUN_TEST(sample_error_points_at_the_fraction);
    RUN_TEST(a_query_program_deploys_under_low_risk);
}

/* ---- concurrency: emitters and a ticking thread ------------------------------------------- */

/* Two threads emit the same event while a third moves time on and ticks,
 * so windows close under the emitters: every event is counted exactly once
 * across the windows. Run under ThreadSanitizer by `make tsan`. */
#define QC_EVENTS 50000

typedef struct qc_run {
    dt_engine *e;
    int64_t now;                 /* the clock, moved by the ticker */
    int emitters_done;
    pthread_mutex_t mu;
    double counted;
    uint64_t points;
} qc_run;

static int64_t qc_clock(void *ud) { return __atomic_load_n(&((qc_run *)ud)->now, __ATOMIC_ACQUIRE); }

static void qc_metric(const dt_metric *m, void *ud) {
    qc_run *r = (qc_run *)ud;
    if (m->name.len > 3 && memcmp(m->name.ptr, "dt.", 3) == 0) return;
    pthread_mutex_lock(&r->mu);
    r->counted += m->value;
    r->points++;
    pthread_mutex_unlock(&r->mu);
}

static void *qc_emitter(void *arg) {
    qc_run *r = (qc_run *)arg;
    int i;
    for (i = 0; i < QC_EVENTS; i++) {
        int64_t seen = qc_clock(r);
        emit(r->e, "Hot", DT_INFO, seen);
        if (i % 1000 == 999)                     /* let time move so windows close under us */
            while (qc_clock(r) == seen) {}
    }
    __atomic_add_fetch(&r->emitters_done, 1, __ATOMIC_RELEASE);
    return NULL;
}

static void *qc_ticker(void *arg) {
    qc_run *r = (qc_run *)arg;
    while (__atomic_load_n(&r->emitters_done, __ATOMIC_ACQUIRE) < 2) {
        int64_t now = __atomic_add_fetch(&r->now, 1000000, __ATOMIC_ACQ_REL);    /* 1 ms a step */
        dt_tick(r->e, now);
    }
    return NULL;
}

TEST summarize_counts_every_event_while_windows_close(void) {
    SUP_NEEDS_THREADS();
    static const dt_processor *procs[1];
    qc_run r;
    dt_desc d;
    pthread_t t[3];
    int i;
    memset(&r, 0, sizeof r);
    pthread_mutex_init(&r.mu, NULL);
    r.now = 1 * SEC;
    procs[0] = dt_query_processor();
    memset(&d, 0, sizeof d);
    d.clock.now = qc_clock;
    d.clock.user_data = &r;
    d.sinks.user_data = &r;
    d.sinks.metric = qc_metric;
    d.processors = procs;
    d.nprocessors = 1;
    r.e = dt_create(&d);
    ASSERT(r.e != NULL);
    ASSERT_STR_EQ("OK", q_deploy(r.e, "query hot = Hot | summarize n = count() every 10ms"));
    ASSERT_EQ(0, pthread_create(&t[0], NULL, qc_ticker, &r));
    for (i = 1; i < 3; i++) ASSERT_EQ(0, pthread_create(&t[i], NULL, qc_emitter, &r));
    for (i = 0; i < 3; i++) pthread_join(t[i], NULL);
    dt_flush(r.e);
    ASSERT_EQ(2.0 * QC_EVENTS, r.counted);
    ASSERT(r.points >= 5);                                  /* 100 pauses of >= 1 ms: several 10 ms windows */
    ASSERT_EQ(0u, stats(r.e).overflows);
    dt_destroy(r.e);
    pthread_mutex_destroy(&r.mu);
    PASS();
}

SUITE(concurrency_query) {
    RUN_TEST(summarize_counts_every_event_while_windows_close);
}
