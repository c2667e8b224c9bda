/* Flight recorders (SCENARIOS.md 16-18): ring semantics, keyed rings,
 * triggers, the dump format byte for byte, and a decoder that refuses bad
 * input without crashing (run this file under ASan). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "greatest.h"
#include "dt.h"
#include "support.h"

/* ---- capture: every dump joined into one byte string ------------------- */
typedef struct rec_dump {
    uint8_t bytes[8192];
    size_t len;
    char recorder[64], key[80];
    uint32_t records, nchunks;
    uint64_t overwritten;
    int64_t ts;
    int too_long;
} rec_dump;

typedef struct rec_cap {
    rec_dump d[8];
    int n;
    int nevents;
} rec_cap;

static rec_cap rcap;
static int64_t rec_now;

static void rec_on_dump(const dt_dump *d, void *ud) {
    rec_cap *k = (rec_cap *)ud;
    rec_dump *o;
    if (k->n >= 8) return;
    o = &k->d[k->n++];
    o->too_long = !sup_join_dump(d, o->bytes, sizeof o->bytes, &o->len);
    snprintf(o->recorder, sizeof o->recorder, "%.*s", (int)d->recorder.len, d->recorder.ptr);
    snprintf(o->key, sizeof o->key, "%.*s", (int)d->key.len, d->key.ptr);
    o->records = d->records;
    o->overwritten = d->overwritten;
    o->ts = d->ts;
    o->nchunks = d->nchunks;
}

static void rec_on_event(const dt_event *ev, void *ud) { (void)ev; ((rec_cap *)ud)->nevents++; }

static void rec_desc(dt_desc *d) {
    memset(d, 0, sizeof *d);
    d->clock.now = sup_clock;
    d->clock.user_data = &rec_now;
    d->sinks.dump = rec_on_dump;
    d->sinks.event = rec_on_event;
    d->sinks.user_data = &rcap;
    d->self_interval_ns = -1;
}

static dt_engine *rec_engine(const char *program) {
    dt_desc d;
    dt_engine *e;
    rec_desc(&d);
    e = dt_create(&d);
    if (e && program && deploy_noerr(e, program) != DT_OK) { dt_destroy(e); return NULL; }
    return e;
}

static void rec_reset(int64_t now) {
    memset(&rcap, 0, sizeof rcap);
    rec_now = now;
}

/* ---- formatting a decoded dump ----------------------------------------- */
/* " Name@level t<ts> tid<tid>{a=1}" */
static void rec_fmt_record(const dt_event *ev, void *ud) {
    sup_text *f = (sup_text *)ud;
    char buf[200];
    uint32_t i;
    snprintf(buf, sizeof buf, " %.*s@%s t%lld tid%llu{", (int)ev->name.len, ev->name.ptr, dt_level_name(ev->level),
             (long long)ev->ts, (unsigned long long)ev->tid);
    f->at = sup_put(f->out, f->size, f->at, buf);
    for (i = 0; i < ev->nfields; i++) {
        char v[96];
        sup_fmt_value(v, sizeof v, &ev->fields[i].value, SUP_U64_SUFFIX);
        snprintf(buf, sizeof buf, "%s%.*s=%s", i ? "," : "", (int)ev->fields[i].name.len, ev->fields[i].name.ptr, v);
        f->at = sup_put(f->out, f->size, f->at, buf);
    }
    f->at = sup_put(f->out, f->size, f->at, "}");
}

/* The i-th captured dump, decoded and formatted. */
static const char *rec_text(int i) {
    static char out[1024];
    sup_text f;
    out[0] = 0;
    if (i >= rcap.n) return "<no such dump>";
    if (sup_dump_text(rcap.d[i].bytes, rcap.d[i].len, rec_fmt_record, &f, out, sizeof out) != DT_OK)
        return "<undecodable>";
    return out;
}

static int rec_cmp_key(const void *a, const void *b) {
    return strcmp(((const rec_dump *)a)->key, ((const rec_dump *)b)->key);
}

static void rec_sort_by_key(void) { qsort(rcap.d, (size_t)rcap.n, sizeof rcap.d[0], rec_cmp_key); }

#define SEC ((int64_t)1000000000)

/* ---- ring semantics ---------------------------------------------------- */
/* "Tick" with one i64 field "n" is 32 + 4 + (2 + 1 + 8) = 47 bytes. */
static void rec_ticks(dt_engine *e, int64_t from, int64_t to) {
    int64_t n;
    for (n = from; n < to; n++) {
        dt_field f = dt_field_i64("n", n);
        sup_emit_fields(e, "Tick", DT_DEBUG, 1000 + n, 7, &f, 1);
    }
}

TEST ring_of_k_records_keeps_exactly_the_last_k_oldest_first(void) {
    dt_engine *e;
    dt_stats st;
    rec_reset(50 * SEC);
    e = rec_engine("recorder ring { record Tick capacity 188 }");   /* 4 x 47 */
    ASSERT(e != NULL);
    rec_ticks(e, 0, 7);                                              /* K + M = 4 + 3 */
    ASSERT_EQ(0, rcap.n);
    ASSERT_EQ(DT_OK, dt_recorder_flush(e, "ring", NULL));
    ASSERT_EQ(1, rcap.n);
    ASSERT_EQ(4u, rcap.d[0].records);
    ASSERT_EQ(3u, rcap.d[0].overwritten);
    ASSERT_STR_EQ("ring", rcap.d[0].recorder);
    ASSERT_STR_EQ("", rcap.d[0].key);
    ASSERT_EQ(50 * SEC, rcap.d[0].ts);
    ASSERT_STR_EQ("ring/ n=4 ow=3: Tick@debug t1003 tid7{n=3} Tick@debug t1004 tid7{n=4}"
                  " Tick@debug t1005 tid7{n=5} Tick@debug t1006 tid7{n=6}", rec_text(0));
    ASSERT_EQ((32u + 4u) + 4u * 47u, rcap.d[0].len);    /* header + "ring" + 4 records */
    dt_get_stats(e, &st);
    ASSERT_EQ(7u, st.recorder_records);
    ASSERT_EQ(3u, st.recorder_overwritten);
    ASSERT_EQ(1u, st.recorder_dumps);
    ASSERT_EQ(0u, st.events_exported);          /* debug: recorded, never exported */
    ASSERT_EQ(7u, st.events_filtered);
    ASSERT_EQ(0, rcap.nevents);
    dt_destroy(e);
    PASS();
}

TEST ring_one_byte_short_of_k_records_keeps_k_minus_one(void) {
    dt_engine *e;
    rec_reset(SEC);
    e = rec_engine("recorder ring { record Tick capacity 187 }");
    ASSERT(e != NULL);
    rec_ticks(e, 0, 7);
    ASSERT_EQ(DT_OK, dt_recorder_flush(e, "ring", NULL));
    ASSERT_EQ(1, rcap.n);
    ASSERT_STR_EQ("ring/ n=3 ow=4: Tick@debug t1004 tid7{n=4} Tick@debug t1005 tid7{n=5}"
                  " Tick@debug t1006 tid7{n=6}", rec_text(0));
    dt_destroy(e);
    PASS();
}

TEST never_flushed_recorder_lets_nothing_out(void) {
    dt_engine *e;
    dt_stats st;
    rec_reset(SEC);
    e = rec_engine("recorder ring { record Tick capacity 188 }");
    ASSERT(e != NULL);
    rec_ticks(e, 0, 5);
    dt_tick(e, 10 * SEC);
    dt_flush(e);                                 /* processor windows, not recorders */
    dt_get_stats(e, &st);
    ASSERT_EQ(5u, st.recorder_records);
    ASSERT_EQ(0u, st.recorder_dumps);
    ASSERT_EQ(DT_OK, dt_undeploy(e));
    dt_destroy(e);
    ASSERT_EQ(0, rcap.n);
    ASSERT_EQ(0, rcap.nevents);
    PASS();
}

TEST flush_empties_the_ring(void) {
    dt_engine *e;
    rec_reset(SEC);
    e = rec_engine("recorder ring { record Tick capacity 188 }");
    ASSERT(e != NULL);
    rec_ticks(e, 0, 6);
    ASSERT_EQ(DT_OK, dt_recorder_flush(e, "ring", NULL));
    ASSERT_EQ(1, rcap.n);
    ASSERT_EQ(DT_OK, dt_recorder_flush(e, "ring", NULL));
    ASSERT_EQ(1, rcap.n);                        /* empty: no second dump */
    rec_ticks(e, 6, 7);
    ASSERT_EQ(DT_OK, dt_recorder_flush(e, "ring", NULL));
    ASSERT_EQ(2, rcap.n);
    ASSERT_STR_EQ("ring/ n=1 ow=0: Tick@debug t1006 tid7{n=6}", rec_text(1));
    dt_destroy(e);
    PASS();
}

TEST record_larger_than_the_ring_is_counted_and_not_kept(void) {
    dt_engine *e;
    dt_stats st;
    dt_field f;
    char big[101];
    rec_reset(SEC);
    e = rec_engine("recorder small { record * capacity 64 }");
    ASSERT(e != NULL);
    memset(big, 'b', 100);
    big[100] = 0;
    f = dt_field_str("s", big);
    sup_emit_fields(e, "Big", DT_DEBUG, 1, 1, &f, 1);
    sup_emit_fields(e, "S", DT_DEBUG, 2, 1, NULL, 0);   /* 33 bytes: fits */
    dt_get_stats(e, &st);
    ASSERT_EQ(1u, st.recorder_too_big);
    ASSERT_EQ(1u, st.recorder_records);
    ASSERT_EQ(0u, st.recorder_overwritten);
    ASSERT_EQ(DT_OK, dt_recorder_flush(e, "small", NULL));
    ASSERT_EQ(1, rcap.n);
    ASSERT_STR_EQ("small/ n=1 ow=0: S@debug t2 tid1{}", rec_text(0));
    dt_destroy(e);
    PASS();
}

/* ---- every value type round-trips through a dump ------------------------ */
typedef struct rec_seen {
    dt_event ev[8];
    dt_field f[8][16];
    int n;
    dt_dump_header h;
    int nh;
} rec_seen;

static void rec_seen_header(const dt_dump_header *h, void *ud) {
    rec_seen *s = (rec_seen *)ud;
    s->h = *h;
    s->nh++;
}

static void rec_seen_record(const dt_event *ev, void *ud) {
    rec_seen *s = (rec_seen *)ud;
    uint32_t i;
    if (s->n >= 8) return;
    s->ev[s->n] = *ev;
    for (i = 0; i < ev->nfields && i < 16; i++) s->f[s->n][i] = ev->fields[i];
    s->ev[s->n].fields = s->f[s->n];
    s->n++;
}

static uint64_t rec_bits(double d) { uint64_t b; memcpy(&b, &d, 8); return b; }
static double rec_from_bits(uint64_t b) { double d; memcpy(&d, &b, 8); return d; }

#define REC_NAN_BITS 0x7ff800000000beefull

static uint32_t rec_all_types(dt_field *f) {
    static const uint8_t raw[3] = {0x00, 0xff, 0x10};
    uint32_t n = 0;
    f[n] = dt_field_bool("nul", 0);
    f[n].value.type = DT_TYPE_NULL;
    n++;
    f[n++] = dt_field_bool("b", 1);
    f[n++] = dt_field_i64("neg", -42);
    f[n++] = dt_field_i64("min", INT64_MIN);
    f[n++] = dt_field_u64("umax", UINT64_MAX);
    f[n++] = dt_field_f64("nan", rec_from_bits(REC_NAN_BITS));
    f[n++] = dt_field_f64("half", -0.5);
    f[n++] = dt_field_str("empty", "");
    f[n++] = dt_field_str("s", "h\xc3\xa9llo");
    f[n++] = dt_field_bytes("raw", raw, 3);
    f[n++] = dt_field_bytes("none", raw, 0);
    return n;
}

TEST dump_round_trips_all_seven_value_types(void) {
    dt_engine *e;
    dt_field f[16];
    uint32_t n;
    rec_seen s;
    size_t bad = 12345;
    const dt_field *g;
    rec_reset(77 * SEC);
    e = rec_engine("recorder all { record AllTypes }");
    ASSERT(e != NULL);
    n = rec_all_types(f);
    sup_emit_fields(e, "AllTypes", DT_WARN, 123456789012345, UINT64_MAX, f, n);
    ASSERT_EQ(DT_OK, dt_recorder_flush(e, "all", NULL));
    ASSERT_EQ(1, rcap.n);
    memset(&s, 0, sizeof s);
    ASSERT_EQ(DT_OK, dt_dump_decode(rcap.d[0].bytes, rcap.d[0].len, rec_seen_header, rec_seen_record, &s, &bad));
    ASSERT_EQ(12345u, bad);                      /* untouched on success */
    ASSERT_EQ(1, s.nh);
    ASSERT_EQ(1u, s.h.version);
    ASSERT_EQ(0u, s.h.flags);
    ASSERT_EQ(1u, s.h.records);
    ASSERT_EQ(0u, s.h.overwritten);
    ASSERT_EQ(77 * SEC, s.h.ts);
    ASSERT_STRN_EQ("all", s.h.recorder.ptr, 3);
    ASSERT_EQ(3u, s.h.recorder.len);
    ASSERT_EQ(0u, s.h.key.len);
    ASSERT_EQ(1, s.n);
    ASSERT_EQ(dt_id("AllTypes"), s.ev[0].id);
    ASSERT_EQ(8u, s.ev[0].name.len);
    ASSERT_STRN_EQ("AllTypes", s.ev[0].name.ptr, 8);
    ASSERT_EQ(123456789012345, s.ev[0].ts);
    ASSERT_EQ(UINT64_MAX, s.ev[0].tid);
    ASSERT_EQ((int)DT_WARN, s.ev[0].level);
    ASSERT_EQ(11u, s.ev[0].nfields);
    g = s.ev[0].fields;
    ASSERT_EQ(DT_TYPE_NULL, g[0].value.type);
    ASSERT_EQ(DT_TYPE_BOOL, g[1].value.type);
    ASSERT_EQ(1, g[1].value.as.b);
    ASSERT_EQ(DT_TYPE_I64, g[2].value.type);
    ASSERT_EQ(-42, g[2].value.as.i64);
    ASSERT_EQ(DT_TYPE_I64, g[3].value.type);
    ASSERT_EQ(INT64_MIN, g[3].value.as.i64);
    ASSERT_EQ(DT_TYPE_U64, g[4].value.type);
    ASSERT_EQ(UINT64_MAX, g[4].value.as.u64);
    ASSERT_EQ(DT_TYPE_F64, g[5].value.type);
    ASSERT_EQ(REC_NAN_BITS, rec_bits(g[5].value.as.f64));
    ASSERT_EQ(DT_TYPE_F64, g[6].value.type);
    ASSERT_EQ(rec_bits(-0.5), rec_bits(g[6].value.as.f64));
    ASSERT_EQ(DT_TYPE_STR, g[7].value.type);
    ASSERT_EQ(0u, g[7].value.as.str.len);
    ASSERT_EQ(DT_TYPE_STR, g[8].value.type);
    ASSERT_EQ(6u, g[8].value.as.str.len);
    ASSERT_MEM_EQ("h\xc3\xa9llo", g[8].value.as.str.ptr, 6);
    ASSERT_EQ(DT_TYPE_BYTES, g[9].value.type);
    ASSERT_EQ(3u, g[9].value.as.str.len);
    ASSERT_MEM_EQ("\x00\xff\x10", g[9].value.as.str.ptr, 3);
    ASSERT_EQ(DT_TYPE_BYTES, g[10].value.type);
    ASSERT_EQ(0u, g[10].value.as.str.len);
    {
        static const char *const names[] = {"nul", "b", "neg", "min", "umax", "nan", "half", "empty", "s", "raw", "none"};
        int i;
        for (i = 0; i < 11; i++) {
            ASSERT_EQm(names[i], strlen(names[i]), g[i].name.len);
            ASSERT_MEM_EQm(names[i], names[i], g[i].name.ptr, g[i].name.len);
        }
    }
    dt_destroy(e);
    PASS();
}

/* ---- keyed recorders (SCENARIOS.md 17) ---------------------------------- */
static const char rec_tx_prog[] =
    "recorder tx {\n"
    "  record DbgStep\n"
    "  by TransactionId\n"
    "  keys 2\n"
    "  discard when PaymentProcessed\n"
    "  flush when TransactionFailed\n"
    "}\n";

static void rec_step(dt_engine *e, const char *tx, int64_t step, int64_t ts) {
    dt_field f[2];
    f[0] = dt_field_str("TransactionId", tx);
    f[1] = dt_field_i64("step", step);
    sup_emit_fields(e, "DbgStep", DT_DEBUG, ts, 1, f, 2);
}

TEST keyed_recorder_discards_paid_and_flushes_failed_transaction(void) {
    dt_engine *e;
    dt_field f[2];
    dt_stats st;
    rec_reset(SEC);
    e = rec_engine(rec_tx_prog);
    ASSERT(e != NULL);
    rec_step(e, "T1", 1, 10);
    rec_step(e, "T2", 1, 11);
    rec_step(e, "T1", 2, 12);
    rec_step(e, "T2", 2, 13);
    f[0] = dt_field_str("TransactionId", "T2");
    sup_emit_fields(e, "PaymentProcessed", DT_INFO, 14, 1, f, 1);
    ASSERT_EQ(0, rcap.n);                        /* discarded without output */
    f[0] = dt_field_str("TransactionId", "T1");
    f[1] = dt_field_i64("ErrorCode", 5);
    sup_emit_fields(e, "TransactionFailed", DT_ERROR, 15, 1, f, 2);
    ASSERT_EQ(1, rcap.n);
    ASSERT_STR_EQ("tx", rcap.d[0].recorder);
    ASSERT_STR_EQ("T1", rcap.d[0].key);
    ASSERT_EQ(15, rcap.d[0].ts);                 /* the trigger's time */
    ASSERT_STR_EQ("tx/T1 n=2 ow=0: DbgStep@debug t10 tid1{TransactionId=\"T1\",step=1}"
                  " DbgStep@debug t12 tid1{TransactionId=\"T1\",step=2}", rec_text(0));
    /* both keys are empty now */
    ASSERT_EQ(DT_OK, dt_recorder_flush(e, "tx", NULL));
    ASSERT_EQ(1, rcap.n);
    rec_step(e, "T2", 3, 16);
    ASSERT_EQ(DT_OK, dt_recorder_flush(e, "tx", "T2"));
    ASSERT_EQ(2, rcap.n);
    ASSERT_STR_EQ("tx/T2 n=1 ow=0: DbgStep@debug t16 tid1{TransactionId=\"T2\",step=3}", rec_text(1));
    dt_get_stats(e, &st);
    ASSERT_EQ(5u, st.recorder_records);
    ASSERT_EQ(2u, st.recorder_dumps);
    ASSERT_EQ(2u, st.events_exported);           /* PaymentProcessed, TransactionFailed */
    ASSERT_EQ(0u, st.rule_errors);
    dt_destroy(e);
    PASS();
}

TEST keyed_trigger_without_the_key_touches_no_transaction(void) {
    dt_engine *e;
    dt_field f;
    dt_stats st;
    rec_reset(SEC);
    e = rec_engine(rec_tx_prog);
    ASSERT(e != NULL);
    rec_step(e, "T1", 1, 10);
    rec_step(e, "T2", 1, 11);
    f = dt_field_i64("ErrorCode", 5);
    sup_emit_fields(e, "TransactionFailed", DT_ERROR, 12, 1, &f, 1);   /* no TransactionId */
    sup_emit_fields(e, "PaymentProcessed", DT_INFO, 13, 1, NULL, 0);
    ASSERT_EQ(0, rcap.n);
    dt_get_stats(e, &st);
    ASSERT_EQ(2u, st.rule_errors);
    ASSERT_EQ(0u, st.actions_fired);
    ASSERT_EQ(DT_OK, dt_recorder_flush(e, "tx", NULL));         /* both still there */
    ASSERT_EQ(2, rcap.n);
    rec_sort_by_key();
    ASSERT_STR_EQ("tx/T1 n=1 ow=0: DbgStep@debug t10 tid1{TransactionId=\"T1\",step=1}", rec_text(0));
    ASSERT_STR_EQ("tx/T2 n=1 ow=0: DbgStep@debug t11 tid1{TransactionId=\"T2\",step=1}", rec_text(1));
    dt_destroy(e);
    PASS();
}

TEST third_key_evicts_the_least_recently_written_key(void) {
    dt_engine *e;
    dt_stats st;
    rec_reset(SEC);
    e = rec_engine(rec_tx_prog);
    ASSERT(e != NULL);
    rec_step(e, "T1", 1, 10);
    rec_step(e, "T2", 1, 11);
    rec_step(e, "T1", 2, 12);                    /* T2 is now the least recent */
    rec_step(e, "T3", 1, 13);
    dt_get_stats(e, &st);
    ASSERT_EQ(1u, st.overflows);
    ASSERT_EQ(1u, st.recorder_overwritten);
    ASSERT_EQ(4u, st.recorder_records);
    ASSERT_EQ(DT_OK, dt_recorder_flush(e, "tx", "T2"));
    ASSERT_EQ(0, rcap.n);
    ASSERT_EQ(DT_OK, dt_recorder_flush(e, "tx", NULL));
    ASSERT_EQ(2, rcap.n);
    rec_sort_by_key();
    ASSERT_STR_EQ("tx/T1 n=2 ow=0: DbgStep@debug t10 tid1{TransactionId=\"T1\",step=1}"
                  " DbgStep@debug t12 tid1{TransactionId=\"T1\",step=2}", rec_text(0));
    ASSERT_STR_EQ("tx/T3 n=1 ow=0: DbgStep@debug t13 tid1{TransactionId=\"T3\",step=1}", rec_text(1));
    dt_destroy(e);
    PASS();
}

TEST events_without_a_usable_key_are_not_recorded(void) {
    dt_engine *e;
    dt_field f[2];
    dt_stats st;
    rec_reset(SEC);
    e = rec_engine(rec_tx_prog);
    ASSERT(e != NULL);
    f[0] = dt_field_i64("step", 1);
    sup_emit_fields(e, "DbgStep", DT_DEBUG, 10, 1, f, 1);        /* no key field */
    f[0] = dt_field_f64("TransactionId", 1.5);
    sup_emit_fields(e, "DbgStep", DT_DEBUG, 11, 1, f, 1);        /* f64: not a stable key */
    f[0] = dt_field_bool("TransactionId", 0);
    f[0].value.type = DT_TYPE_NULL;
    sup_emit_fields(e, "DbgStep", DT_DEBUG, 12, 1, f, 1);        /* null */
    dt_get_stats(e, &st);
    ASSERT_EQ(0u, st.recorder_records);
    ASSERT_EQ(DT_OK, dt_recorder_flush(e, "tx", NULL));
    ASSERT_EQ(0, rcap.n);
    /* integers and booleans are keys, in decimal and as true/false */
    f[0] = dt_field_i64("TransactionId", -5);
    sup_emit_fields(e, "DbgStep", DT_DEBUG, 13, 1, f, 1);
    f[0] = dt_field_bool("TransactionId", 1);
    sup_emit_fields(e, "DbgStep", DT_DEBUG, 14, 1, f, 1);
    ASSERT_EQ(DT_OK, dt_recorder_flush(e, "tx", NULL));
    ASSERT_EQ(2, rcap.n);
    rec_sort_by_key();
    ASSERT_STR_EQ("-5", rcap.d[0].key);
    ASSERT_STR_EQ("true", rcap.d[1].key);
    ASSERT_STR_EQ("tx/-5 n=1 ow=0: DbgStep@debug t13 tid1{TransactionId=-5}", rec_text(0));
    dt_destroy(e);
    PASS();
}

TEST key_longer_than_dt_max_key_is_refused_and_counted(void) {
    dt_engine *e;
    dt_field f;
    dt_stats st;
    char k1[DT_MAX_KEY + 8], k2[DT_MAX_KEY + 8];
    rec_reset(SEC);
    e = rec_engine(rec_tx_prog);
    ASSERT(e != NULL);
    /* two keys that differ only past DT_MAX_KEY must not share a ring */
    memset(k1, 'K', sizeof k1 - 1);
    k1[sizeof k1 - 1] = 0;
    memcpy(k2, k1, sizeof k2);
    k1[DT_MAX_KEY + 2] = '1';
    k2[DT_MAX_KEY + 2] = '2';
    f = dt_field_str("TransactionId", k1);
    sup_emit_fields(e, "DbgStep", DT_DEBUG, 10, 1, &f, 1);
    f = dt_field_str("TransactionId", k2);
    sup_emit_fields(e, "DbgStep", DT_DEBUG, 11, 1, &f, 1);
    k1[DT_MAX_KEY] = 0;                          /* exactly DT_MAX_KEY bytes: fine */
    f = dt_field_str("TransactionId", k1);
    sup_emit_fields(e, "DbgStep", DT_DEBUG, 12, 1, &f, 1);
    dt_get_stats(e, &st);
    ASSERT_EQ(1u, st.recorder_records);
    ASSERT_EQ(2u, st.overflows);
    ASSERT_EQ(DT_OK, dt_recorder_flush(e, "tx", NULL));
    ASSERT_EQ(1, rcap.n);
    ASSERT_EQ((size_t)DT_MAX_KEY, strlen(rcap.d[0].key));
    ASSERT_EQ(1u, rcap.d[0].records);
    dt_destroy(e);
    PASS();
}

TEST field_name_longer_than_dt_max_name_is_refused_not_truncated(void) {
    dt_engine *e;
    dt_field f;
    dt_stats st;
    char name[300];
    rec_reset(SEC);
    e = rec_engine("recorder all { record F }");
    ASSERT(e != NULL);
    memset(name, 'f', sizeof name - 1);
    name[sizeof name - 1] = 0;
    f = dt_field_i64(name, 1);
    sup_emit_fields(e, "F", DT_DEBUG, 1, 1, &f, 1);
    dt_get_stats(e, &st);
    ASSERT_EQ(1u, st.bad_events);
    ASSERT_EQ(0u, st.recorder_records);
    ASSERT_EQ(DT_OK, dt_recorder_flush(e, "all", NULL));
    ASSERT_EQ(0, rcap.n);
    dt_destroy(e);
    PASS();
}

TEST recorder_by_tid_keeps_one_ring_per_thread_id(void) {
    dt_engine *e;
    dt_field f;
    rec_reset(SEC);
    e = rec_engine("recorder t { record Work by tid }");
    ASSERT(e != NULL);
    f = dt_field_i64("i", 1);
    sup_emit_fields(e, "Work", DT_DEBUG, 10, 7, &f, 1);
    f = dt_field_i64("i", 2);
    sup_emit_fields(e, "Work", DT_DEBUG, 11, 9, &f, 1);
    f = dt_field_i64("i", 3);
    sup_emit_fields(e, "Work", DT_DEBUG, 12, 7, &f, 1);
    ASSERT_EQ(DT_OK, dt_recorder_flush(e, "t", NULL));
    ASSERT_EQ(2, rcap.n);
    rec_sort_by_key();
    ASSERT_STR_EQ("t/7 n=2 ow=0: Work@debug t10 tid7{i=1} Work@debug t12 tid7{i=3}", rec_text(0));
    ASSERT_STR_EQ("t/9 n=1 ow=0: Work@debug t11 tid9{i=2}", rec_text(1));
    dt_destroy(e);
    PASS();
}

TEST record_where_level_keeps_debug_and_drops_trace(void) {
    dt_engine *e;
    dt_stats st;
    rec_reset(SEC);
    e = rec_engine("recorder dbg { record * where level >= debug }");
    ASSERT(e != NULL);
    sup_emit_fields(e, "A", DT_TRACE, 1, 1, NULL, 0);
    sup_emit_fields(e, "B", DT_DEBUG, 2, 1, NULL, 0);
    sup_emit_fields(e, "C", DT_INFO, 3, 1, NULL, 0);
    sup_emit_fields(e, "D", DT_ERROR, 4, 1, NULL, 0);
    dt_get_stats(e, &st);
    ASSERT_EQ(3u, st.recorder_records);
    ASSERT_EQ(2u, st.events_exported);
    ASSERT_EQ(DT_OK, dt_recorder_flush(e, "dbg", NULL));
    ASSERT_EQ(1, rcap.n);
    ASSERT_STR_EQ("dbg/ n=3 ow=0: B@debug t2 tid1{} C@info t3 tid1{} D@error t4 tid1{}", rec_text(0));
    dt_destroy(e);
    PASS();
}

TEST flush_trigger_where_picks_which_events_flush(void) {
    dt_engine *e;
    dt_field f;
    rec_reset(SEC);
    e = rec_engine("recorder r { record Dbg; flush when Err where code >= 500 }");
    ASSERT(e != NULL);
    sup_emit_fields(e, "Dbg", DT_DEBUG, 1, 1, NULL, 0);
    f = dt_field_i64("code", 404);
    sup_emit_fields(e, "Err", DT_ERROR, 2, 1, &f, 1);
    ASSERT_EQ(0, rcap.n);
    f = dt_field_i64("code", 503);
    sup_emit_fields(e, "Err", DT_ERROR, 3, 1, &f, 1);
    ASSERT_EQ(1, rcap.n);
    ASSERT_STR_EQ("r/ n=1 ow=0: Dbg@debug t1 tid1{}", rec_text(0));
    dt_destroy(e);
    PASS();
}

TEST flush_of_an_unknown_recorder_is_unknown(void) {
    dt_engine *e;
    rec_reset(SEC);
    e = rec_engine(NULL);
    ASSERT(e != NULL);
    ASSERT_EQ(DT_ERR_UNKNOWN, dt_recorder_flush(e, "ring", NULL));
    ASSERT_EQ(DT_ERR_UNKNOWN, dt_recorder_discard(e, "ring", NULL));
    ASSERT_EQ(DT_ERR_UNKNOWN, dt_recorder_flush_emergency(e, "ring"));
    ASSERT_EQ(DT_OK, dt_deploy(e, "recorder ring { record X }", strlen("recorder ring { record X }"), NULL));
    ASSERT_EQ(DT_ERR_UNKNOWN, dt_recorder_flush(e, "rin", NULL));
    ASSERT_EQ(DT_ERR_UNKNOWN, dt_recorder_flush(e, "ringx", "k"));
    ASSERT_EQ(DT_ERR_UNKNOWN, dt_recorder_discard(e, "Ring", NULL));
    ASSERT_EQ(DT_ERR_UNKNOWN, dt_recorder_flush_emergency(e, "other"));
    ASSERT_EQ(DT_ERR_INVALID, dt_recorder_flush(e, NULL, NULL));
    ASSERT_EQ(DT_ERR_INVALID, dt_recorder_flush(NULL, "ring", NULL));
    ASSERT_EQ(DT_ERR_INVALID, dt_recorder_flush_emergency(e, NULL));
    ASSERT_EQ(DT_OK, dt_recorder_flush(e, "ring", NULL));
    ASSERT_EQ(DT_OK, dt_recorder_discard(e, "ring", NULL));
    ASSERT_EQ(DT_OK, dt_recorder_flush_emergency(e, "ring"));
    ASSERT_EQ(0, rcap.n);
    dt_destroy(e);
    PASS();
}

TEST emergency_flush_writes_the_same_bytes_and_keeps_the_ring(void) {
    dt_engine *e;
    rec_seen s;
    size_t bad = 0;
    rec_reset(9 * SEC);
    e = rec_engine("recorder ring { record Tick capacity 188 }");
    ASSERT(e != NULL);
    rec_ticks(e, 0, 7);                          /* the ring has wrapped */
    ASSERT_EQ(DT_OK, dt_recorder_flush_emergency(e, "ring"));
    ASSERT_EQ(1, rcap.n);
    memset(&s, 0, sizeof s);
    ASSERT_EQ(DT_OK, dt_dump_decode(rcap.d[0].bytes, rcap.d[0].len, rec_seen_header, NULL, &s, &bad));
    ASSERT_EQ(0u, s.h.flags);                    /* uncontended: not torn */
    ASSERT_EQ(DT_OK, dt_recorder_flush(e, "ring", NULL));    /* the ring is still there */
    ASSERT_EQ(2, rcap.n);
    ASSERT_EQ(rcap.d[1].len, rcap.d[0].len);
    ASSERT_MEM_EQ(rcap.d[1].bytes, rcap.d[0].bytes, rcap.d[1].len);
    ASSERT_EQ(4u, rcap.d[0].records);
    ASSERT_EQ(3u, rcap.d[0].overwritten);
    ASSERT_EQ(DT_OK, dt_recorder_flush(e, "ring", NULL));
    ASSERT_EQ(DT_OK, dt_recorder_flush_emergency(e, "ring"));
    ASSERT_EQ(2, rcap.n);                        /* both see the emptied ring */
    dt_destroy(e);
    PASS();
}

/* ---- the dump format, byte for byte ------------------------------------- */
TEST dump_bytes_match_the_documented_format(void) {
    static const uint8_t want[] = {
        'D', 'T', 'R', '1',                                  /* magic */
        0x01, 0x00,                                          /* version 1 */
        0x00, 0x00,                                          /* flags */
        0x88, 0x77, 0x66, 0x55, 0x44, 0x33, 0x22, 0x11,      /* ts of the flush */
        0x01, 0x00, 0x00, 0x00,                              /* records */
        0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,      /* overwritten */
        0x01, 0x00, 'r',                                     /* recorder name */
        0x00, 0x00,                                          /* key: none */
        0x21, 0x00, 0x00, 0x00,                              /* record length 33 */
        0xec, 0x22, 0x02, 0x86, 0x4c, 0xfc, 0x63, 0xaf,      /* id: FNV-1a 64 of "A" */
        0x08, 0x07, 0x06, 0x05, 0x04, 0x03, 0x02, 0x01,      /* ts */
        0x03, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,      /* tid */
        0x09,                                                /* level info */
        0x00,                                                /* nfields */
        0x01, 0x00, 'A'                                      /* name */
    };
    static const uint8_t keyed_head[] = {
        'D', 'T', 'R', '1', 0x01, 0x00, 0x00, 0x00,
        0x88, 0x77, 0x66, 0x55, 0x44, 0x33, 0x22, 0x11,
        0x01, 0x00, 0x00, 0x00,
        0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
        0x01, 0x00, 'k',
        0x02, 0x00, 'T', '1',
        0x2b, 0x00, 0x00, 0x00                               /* 32 + 1 + (2 + 2 + 4 + 2) */
    };
    dt_engine *e;
    dt_field f;
    rec_reset((int64_t)0x1122334455667788);
    e = rec_engine("recorder r { record A }\nrecorder k { record A by tx }");
    ASSERT(e != NULL);
    sup_emit_fields(e, "A", DT_INFO, (int64_t)0x0102030405060708, 3, NULL, 0);
    ASSERT_EQ(DT_OK, dt_recorder_flush(e, "r", NULL));
    ASSERT_EQ(1, rcap.n);
    ASSERT_EQ(sizeof want, rcap.d[0].len);
    ASSERT_MEM_EQ(want, rcap.d[0].bytes, sizeof want);
    ASSERT_EQ(1u, rcap.d[0].records);
    ASSERT_EQ(0u, rcap.d[0].overwritten);
    ASSERT_EQ((int64_t)0x1122334455667788, rcap.d[0].ts);
    f = dt_field_str("tx", "T1");
    sup_emit_fields(e, "A", DT_INFO, (int64_t)0x0102030405060708, 3, &f, 1);
    ASSERT_EQ(DT_OK, dt_recorder_flush(e, "k", NULL));
    ASSERT_EQ(2, rcap.n);
    ASSERT_STR_EQ("T1", rcap.d[1].key);
    ASSERT_EQ(sizeof keyed_head - 4 + 43, rcap.d[1].len);
    ASSERT_MEM_EQ(keyed_head, rcap.d[1].bytes, sizeof keyed_head);
    /* the field: type str, name "tx", u32 length 2, "T1" */
    ASSERT_MEM_EQ("\x05\x02tx\x02\x00\x00\x00T1", rcap.d[1].bytes + rcap.d[1].len - 10, 10);
    dt_destroy(e);
    PASS();
}

/* ---- the decoder on hostile input --------------------------------------- */
static unsigned rec_touch;                       /* reads every byte a callback is given */

static void rec_touch_str(dt_str s) {
    size_t i;
    for (i = 0; i < s.len; i++) rec_touch += (unsigned char)s.ptr[i];
}
static void rec_touch_header(const dt_dump_header *h, void *ud) {
    (void)ud;
    rec_touch_str(h->recorder);
    rec_touch_str(h->key);
}
static void rec_touch_record(const dt_event *ev, void *ud) {
    uint32_t i;
    (*(uint32_t *)ud)++;
    rec_touch_str(ev->name);
    for (i = 0; i < ev->nfields; i++) {
        rec_touch_str(ev->fields[i].name);
        if (ev->fields[i].value.type == DT_TYPE_STR || ev->fields[i].value.type == DT_TYPE_BYTES)
            rec_touch_str(ev->fields[i].value.as.str);
    }
}

/* A keyed dump of three records carrying every value type. */
static int rec_rich_dump(void) {
    dt_engine *e;
    dt_field f[16];
    uint32_t n;
    rec_reset(3 * SEC);
    e = rec_engine("recorder rich { record * by k }");
    if (!e) return 0;
    n = rec_all_types(f);
    f[n++] = dt_field_str("k", "key-1");
    sup_emit_fields(e, "AllTypes", DT_WARN, 11, 2, f, n);
    sup_emit_fields(e, "Second", DT_DEBUG, 12, 3, f + n - 1, 1);
    sup_emit_fields(e, "Third", DT_ERROR, 13, 4, f + 1, n - 1);
    dt_recorder_flush(e, "rich", NULL);
    dt_destroy(e);
    return rcap.n == 1 && !rcap.d[0].too_long;
}

TEST decoder_rejects_every_truncation(void) {
    size_t len, cut;
    uint32_t nrec = 0;
    ASSERT(rec_rich_dump());
    len = rcap.d[0].len;
    ASSERT_EQ(DT_OK, dt_dump_decode(rcap.d[0].bytes, len, rec_touch_header, rec_touch_record, &nrec, NULL));
    ASSERT_EQ(3u, nrec);
    for (cut = 0; cut < len; cut++) {
        uint8_t *copy = (uint8_t *)malloc(cut ? cut : 1);  /* exact size: ASan sees over-reads */
        size_t bad = (size_t)-1;
        int rc;
        ASSERT(copy != NULL);
        memcpy(copy, rcap.d[0].bytes, cut);
        rc = dt_dump_decode(copy, cut, rec_touch_header, rec_touch_record, &nrec, &bad);
        free(copy);
        ASSERT_EQm("truncated dump decoded", DT_ERR_INVALID, rc);
        ASSERT_LTEm("bad_offset past the end", bad, cut);
    }
    PASS();
}

TEST decoder_survives_every_byte_flip(void) {
    static const uint8_t masks[] = {0x01, 0x80, 0xff};
    size_t len, i, m, ok = 0, invalid = 0;
    ASSERT(rec_rich_dump());
    len = rcap.d[0].len;
    for (i = 0; i < len; i++) {
        for (m = 0; m < sizeof masks; m++) {
            uint8_t *copy = (uint8_t *)malloc(len);
            size_t bad = (size_t)-1;
            uint32_t nrec = 0;
            int rc;
            ASSERT(copy != NULL);
            memcpy(copy, rcap.d[0].bytes, len);
            copy[i] ^= masks[m];
            rc = dt_dump_decode(copy, len, rec_touch_header, rec_touch_record, &nrec, &bad);
            free(copy);
            if (rc == DT_OK) { ok++; continue; }
            ASSERT_EQm("decode gave neither OK nor INVALID", DT_ERR_INVALID, rc);
            ASSERT_LTE(bad, len);
            if (i < 4) ASSERT_EQm("bad magic not reported at 0", (size_t)0, bad);
            invalid++;
        }
    }
    ASSERT_EQ(3 * len, ok + invalid);
    ASSERT(invalid >= 3 * 6);                    /* at least every magic and version flip */
    ASSERT(ok > 0);                              /* payload bytes may change freely */
    PASS();
}

TEST decoder_rejects_trailing_garbage_and_bad_headers(void) {
    uint8_t *copy;
    size_t len, bad = 0;
    ASSERT(rec_rich_dump());
    len = rcap.d[0].len;
    copy = (uint8_t *)malloc(len + 1);
    ASSERT(copy != NULL);
    memcpy(copy, rcap.d[0].bytes, len);
    copy[len] = 0;
    ASSERT_EQ(DT_ERR_INVALID, dt_dump_decode(copy, len + 1, NULL, NULL, NULL, &bad));
    ASSERT_EQ(len, bad);
    ASSERT_EQ(DT_OK, dt_dump_decode(copy, len, NULL, NULL, NULL, NULL));
    copy[4] = 2;                                 /* version 2 */
    ASSERT_EQ(DT_ERR_INVALID, dt_dump_decode(copy, len, NULL, NULL, NULL, &bad));
    free(copy);
    ASSERT_EQ(DT_ERR_INVALID, dt_dump_decode(NULL, 10, NULL, NULL, NULL, &bad));
    ASSERT_EQ(0u, bad);
    PASS();
}

SUITE(recorders) {
    RUN_TEST(ring_of_k_records_keeps_exactly_the_last_k_oldest_first);
    RUN_TEST(ring_one_byte_short_of_k_records_keeps_k_minus_one);
    RUN_TEST(never_flushed_recorder_lets_nothing_out);
    RUN_TEST(flush_empties_the_ring);
    RUN_TEST(record_larger_than_the_ring_is_counted_and_not_kept);
    RUN_TEST(dump_round_trips_all_seven_value_types);
    RUN_TEST(keyed_recorder_discards_paid_and_flushes_failed_transaction);
    RUN_TEST(keyed_trigger_without_the_key_touches_no_transaction);
    RUN_TEST(third_key_evicts_the_least_recently_written_key);
    RUN_TEST(events_without_a_usable_key_are_not_recorded);
    RUN_TEST(key_longer_than_dt_max_key_is_refused_and_counted);
    RUN_TEST(field_name_longer_than_dt_max_name_is_refused_not_truncated);
    RUN_TEST(recorder_by_tid_keeps_one_ring_per_thread_id);
    RUN_TEST(record_where_level_keeps_debug_and_drops_trace);
    RUN_TEST(flush_trigger_where_picks_which_events_flush);
    RUN_TEST(flush_of_an_unknown_recorder_is_unknown);
    RUN_TEST(emergency_flush_writes_the_same_bytes_and_keeps_the_ring);
    RUN_TEST(dump_bytes_match_the_documented_format);
    RUN_TEST(decoder_rejects_every_truncation);
    RUN_TEST(decoder_survives_every_byte_flip);
    RUN_TEST(decoder_rejects_trailing_garbage_and_bad_headers);
}
