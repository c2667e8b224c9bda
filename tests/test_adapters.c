/* Adapters from existing logging (examples/adapters/): DT_LOGF's names,
 * durable IDs and typed fields, its per-site cache and lazy arguments; the
 * syslog shim's priorities and drop-in macro; the per-record hook adapters
 * for log.c-style and zlog-style loggers. Sites are process-wide statics:
 * every test binds its own engine, and dt_destroy unbinds it. */
#include <pthread.h>
#include <stdio.h>
#include <string.h>

#include "greatest.h"
#include "support.h"

#define DT_LOGF_IMPLEMENTATION
#include "examples/adapters/dt_logf.h"
#define DT_SYSLOG_REPLACE 1
#include "examples/adapters/dt_syslog.h"
#include "examples/adapters/dt_logcb.h"
#include "examples/probes/dt_probe.h"

/* ---- capture ------------------------------------------------------------ */
#define AD_MAX 64

typedef struct ad_cap {
    char text[AD_MAX][256];  /* "Name@level{a=1,b="x"}" */
    uint64_t id[AD_MAX];
    int level[AD_MAX];
    int n;
    pthread_mutex_t mu;
} ad_cap;

static ad_cap acap = { {{0}}, {0}, {0}, 0, PTHREAD_MUTEX_INITIALIZER };
static int64_t ad_now;
static int ad_evals;

static void ad_on_event(const dt_event *ev, void *ud) {
    ad_cap *k = (ad_cap *)ud;
    pthread_mutex_lock(&k->mu);
    if (k->n < AD_MAX) {
        sup_fmt_event(k->text[k->n], sizeof k->text[0], ev, SUP_U64_SUFFIX);
        k->id[k->n] = ev->id ? ev->id : dt_id_n(ev->name.ptr, ev->name.len);
        k->level[k->n] = ev->level;
        k->n++;
    }
    pthread_mutex_unlock(&k->mu);
}

static dt_engine *ad_engine(const char *program) {
    dt_desc d = sup_desc(&acap, &ad_now, 1000);
    dt_engine *e;
    acap.n = 0;
    ad_evals = 0;
    d.sinks.event = ad_on_event;
    d.self_interval_ns = -1;
    d.default_level = DT_TRACE;
    e = dt_create(&d);
    if (e && program && deploy(e, program) != DT_OK) { dt_destroy(e); return NULL; }
    if (e) dt_bind_sites(e);
    return e;
}

/* "Logf_" + 16 hex of the reference FNV-1a of text. */
static void ad_logf_name(char *out, size_t size, const char *text) {
    snprintf(out, size, "Logf_%016llx", (unsigned long long)ref_fnv1a(text));
}

static int ad_counted(int v) { ad_evals++; return v; }

/* ---- DT_LOGF -------------------------------------------------------------- */

TEST logf_names_the_event_from_the_format_hash_and_types_its_arguments(void) {
    dt_engine *e = ad_engine(NULL);
    char want[256];
    ASSERT(e);
    DT_LOGF(DT_INFO, "ALLOC(%d bytes) for %s", 64, "buf");
    ASSERT_EQ(1, acap.n);
    /* pinned: FNV-1a 64 of the format, written out once by hand */
    ASSERT_STR_EQ("Logf_1a5d380912a9d700@info{arg0=64,arg1=\"buf\"}", acap.text[0]);
    ad_logf_name(want, sizeof want, "ALLOC(%d bytes) for %s");
    ASSERT_EQ(ref_fnv1a(want), acap.id[0]);
    dt_destroy(e);
    PASS();
}

TEST logf_names_fields_written_as_name_equals(void) {
    dt_engine *e = ad_engine(NULL);
    char want[256], name[64];
    ASSERT(e);
    DT_LOGF(DT_WARN, "slow query ms=%u table=%s at %d", 250u, "orders", 3);
    ad_logf_name(name, sizeof name, "slow query ms=%u table=%s at %d");
    snprintf(want, sizeof want, "%s@warn{ms=250u,table=\"orders\",arg2=3}", name);
    ASSERT_STR_EQ(want, acap.text[0]);
    dt_destroy(e);
    PASS();
}

TEST logf_reads_every_conversion_with_its_printf_type(void) {
    dt_engine *e = ad_engine(NULL);
    char want[512], name[64];
    const char *s = "abcdef";
    ASSERT(e);
    DT_LOGF(DT_DEBUG, "%hhd %hu %ld %lld %zu %jd %x %5.2f %Lg %c %.3s %.*s %*d %% %s", (signed char)-3, (unsigned short)65535, -5L, 1LL << 40,
            (size_t)7, (intmax_t)-9, 255u, 1.5, (long double)2.5, 'Z', s, 2, s, 4, 11, "end");
    ad_logf_name(name, sizeof name,
                 "%hhd %hu %ld %lld %zu %jd %x %5.2f %Lg %c %.3s %.*s %*d %% %s");
    snprintf(want, sizeof want,
             "%s@debug{arg0=-3,arg1=65535u,arg2=-5,arg3=1099511627776,arg4=7u,arg5=-9,arg6=255u,arg7=1.5,"
             "arg8=2.5,arg9=\"Z\",arg10=\"abc\",arg11=\"ab\",arg12=11,arg13=\"end\"}",
             name);
    ASSERT_STR_EQ(want, acap.text[0]);
    dt_destroy(e);
    PASS();
}

TEST logf_same_format_is_the_same_event_and_logf_event_names_it(void) {
    dt_engine *e = ad_engine(NULL);
    int i;
    ASSERT(e);
    for (i = 0; i < 2; i++) {
        DT_LOGF(DT_INFO, "tick %d", i);
    }
    DT_LOGF(DT_INFO, "tick %d", 9);
    DT_LOGF_EVENT(DT_ERROR, "AllocFailed", "ALLOC(%zu bytes) failed", (size_t)4096);
    ASSERT_EQ(4, acap.n);
    ASSERT_EQ(acap.id[0], acap.id[1]);
    ASSERT_EQ(acap.id[0], acap.id[2]);
    ASSERT_STR_EQ("AllocFailed@error{arg0=4096u}", acap.text[3]);
    ASSERT_EQ(ref_fnv1a("AllocFailed"), acap.id[3]);
    dt_destroy(e);
    PASS();
}

/* Programs see DT_LOGF events like any other: level rules apply by name,
 * and an off site never evaluates its arguments, not even the first time. */
TEST logf_site_off_by_a_program_never_evaluates_its_arguments(void) {
    char prog[128], name[64];
    dt_engine *e;
    int i;
    ad_logf_name(name, sizeof name, "queue depth=%d");
    snprintf(prog, sizeof prog, "level %s = off\nlevel Logf_* = warn", name);
    e = ad_engine(prog);
    ASSERT(e);
    for (i = 0; i < 3; i++) {
        DT_LOGF(DT_ERROR, "queue depth=%d", ad_counted(i));
        DT_LOGF(DT_INFO, "info below warn %d", ad_counted(i));
        DT_LOGF(DT_WARN, "warn passes %d", i);
    }
    ASSERT_EQ(0, ad_evals);
    ASSERT_EQ(3, acap.n);
    ASSERT_EQ(DT_WARN, acap.level[0]);
    ASSERT_EQ(DT_OK, deploy(e, "level Logf_* = info"));
    DT_LOGF(DT_ERROR, "queue depth=%d", ad_counted(77));
    ASSERT_EQ(1, ad_evals);
    snprintf(prog, sizeof prog, "%s@error{depth=77}", name);
    ASSERT_STR_EQ(prog, acap.text[3]);
    dt_destroy(e);
    PASS();
}

TEST logf_past_max_args_keeps_the_first_and_counts_the_rest(void) {
    dt_engine *e = ad_engine(NULL);
    uint64_t before = dt_logf_truncated();
    ASSERT(e);
    DT_LOGF(DT_INFO, "%d%d%d%d%d%d%d%d%d%d%d%d%d%d%d%d%d%d", 0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15,
            16, 17);
    ASSERT_EQ(1, acap.n);
    ASSERT(strstr(acap.text[0], ",arg15=15}") != NULL);
    ASSERT_EQ(before + 2u, dt_logf_truncated());
    dt_destroy(e);
    PASS();
}

/* %n is consumed and never written through; an unknown conversion ends the
 * parse (no read past it). */
TEST logf_never_writes_through_percent_n_and_stops_at_unknown_conversions(void) {
    dt_logf_format f;
    int n = 123;
    dt_engine *e = ad_engine(NULL);
    ASSERT(e);
    DT_LOGF(DT_INFO, "a%n b=%d", &n, 5);
    ASSERT_EQ(123, n);
    ASSERT(strstr(acap.text[0], "@info{b=5}") != NULL);
    dt_logf_parse(&f, "x=%d %y z=%d");
    ASSERT_EQ(1u, f.nfields);
    ASSERT_EQ(1u, f.nslots);
    dt_logf_parse(&f, "%*.*s|%-8s|%%|%p");
    ASSERT_EQ(3u, f.nfields);
    ASSERT_EQ(5u, f.nslots);
    dt_destroy(e);
    PASS();
}

static uint32_t ad_fields(dt_field *out, char *chars, char *msg, const char *fmt, ...) {
    dt_logf_format f;
    uint32_t n;
    va_list ap;
    dt_logf_parse(&f, fmt);
    va_start(ap, fmt);
    n = dt_logf_fields(&f, fmt, ap, out, chars, msg);
    va_end(ap);
    return n;
}

/* DT_LOGF_MESSAGE=1 adds this field; here it is asked for directly. */
TEST logf_message_field_is_the_printf_text(void) {
    dt_field f[DT_LOGF_MAX_ARGS + 1];
    char chars[DT_LOGF_MAX_ARGS], msg[DT_LOGF_MESSAGE_MAX];
    uint32_t n = ad_fields(f, chars, msg, "user=%s took %.1f ms", "ann", 2.25);
    ASSERT_EQ(3u, n);
    ASSERT_EQ(DT_TYPE_STR, f[2].value.type);
    ASSERT_STR_EQ("user=ann took 2.2 ms", msg);
    ASSERT_EQ(strlen(msg), f[2].value.as.str.len);
    ASSERT_EQ(0, memcmp("message", f[2].name.ptr, 7));
    PASS();
}

/* ---- threads: first executions race on one site ------------------------- */
#define AD_THREADS 4
static void *ad_worker(void *arg) {
    int i;
    (void)arg;
    for (i = 0; i < 4; i++) {
        DT_LOGF(DT_INFO, "worker item=%d", i);
    }
    return NULL;
}

TEST logf_first_executions_from_several_threads_agree_on_one_event(void) {
    SUP_NEEDS_THREADS();
    pthread_t t[AD_THREADS];
    dt_engine *e = ad_engine(NULL);
    char name[64];
    int i;
    ASSERT(e);
    for (i = 0; i < AD_THREADS; i++) pthread_create(&t[i], NULL, ad_worker, NULL);
    for (i = 0; i < AD_THREADS; i++) pthread_join(t[i], NULL);
    ASSERT_EQ(AD_THREADS * 4, acap.n);
    ad_logf_name(name, sizeof name, "worker item=%d");
    for (i = 0; i < acap.n; i++) {
        ASSERT_EQ(0, strncmp(acap.text[i], name, strlen(name)));
        ASSERT_EQ(ref_fnv1a(name), acap.id[i]);
    }
    dt_destroy(e);
    PASS();
}

/* ---- syslog shim -------------------------------------------------------- */

TEST syslog_priorities_map_to_ordered_levels_and_ignore_the_facility(void) {
    static const int want[8] = { 24, 22, 21, 17, 13, 10, 9, 5 };
    int i;
    for (i = 0; i < 8; i++) ASSERT_EQ(want[i], dt_syslog_level(i));
    ASSERT_EQ(DT_ERROR, dt_syslog_level((16 << 3) | LOG_ERR));   /* LOG_LOCAL0 | LOG_ERR */
    PASS();
}

/* `syslog` itself is the shim here (DT_SYSLOG_REPLACE): one call site,
 * priorities chosen at run time, each a level of the same event. */
TEST syslog_call_sites_become_events_at_the_priority_level(void) {
    dt_engine *e = ad_engine("level Logf_* = info");
    char name[64], want[256];
    int pri[3] = { LOG_DEBUG, LOG_NOTICE, (16 << 3) | LOG_ERR };
    int i;
    ASSERT(e);
    for (i = 0; i < 3; i++) syslog(pri[i], "open %s failed errno=%d", "/etc/x", 2 + i);
    ASSERT_EQ(2, acap.n);
    ad_logf_name(name, sizeof name, "open %s failed errno=%d");
    snprintf(want, sizeof want, "%s@{arg0=\"/etc/x\",errno=3}", name);   /* 10 has no name */
    ASSERT_STR_EQ(want, acap.text[0]);
    ASSERT_EQ(10, acap.level[0]);
    snprintf(want, sizeof want, "%s@error{arg0=\"/etc/x\",errno=4}", name);
    ASSERT_STR_EQ(want, acap.text[1]);
    dt_destroy(e);
    PASS();
}

/* A format that is not a literal: the site keeps its first name, and each
 * call's fields follow that call's format. */
TEST syslog_site_with_a_changing_format_reads_each_call_by_its_own_format(void) {
    static const char *const fmts[2] = { "a=%d", "b=%s c=%d" };
    dt_engine *e = ad_engine(NULL);
    char name[64], want[256];
    ASSERT(e);
    {
        int i;
        for (i = 0; i < 2; i++) {
            if (i == 0) DT_SYSLOG(LOG_INFO, fmts[i], 1);
            else DT_SYSLOG(LOG_INFO, fmts[i], "x", 2);
        }
    }
    /* two sites above (one per branch); each names itself by its first format */
    ad_logf_name(name, sizeof name, "a=%d");
    snprintf(want, sizeof want, "%s@info{a=1}", name);
    ASSERT_STR_EQ(want, acap.text[0]);
    ad_logf_name(name, sizeof name, "b=%s c=%d");
    snprintf(want, sizeof want, "%s@info{b=\"x\",c=2}", name);
    ASSERT_STR_EQ(want, acap.text[1]);
    dt_destroy(e);
    PASS();
}

static void ad_shim_twice(const char *fmt, const char *s, int v) { DT_SYSLOG(LOG_INFO, fmt, s, v); }

TEST syslog_one_site_two_formats_keeps_the_first_name(void) {
    dt_engine *e = ad_engine(NULL);
    char name[64], want[256];
    ASSERT(e);
    ad_shim_twice("first %s=%d", "k", 1);
    ad_shim_twice("user=%s n=%d", "bob", 2);
    ad_logf_name(name, sizeof name, "first %s=%d");
    snprintf(want, sizeof want, "%s@info{arg0=\"k\",arg1=1}", name);
    ASSERT_STR_EQ(want, acap.text[0]);
    snprintf(want, sizeof want, "%s@info{user=\"bob\",n=2}", name);
    ASSERT_STR_EQ(want, acap.text[1]);
    dt_destroy(e);
    PASS();
}

/* ---- per-record hooks ---------------------------------------------------- */

/* A logger shaped like rxi's log.c: callbacks added with a level, each
 * called with a fresh va_list. */
typedef struct mini_log_event {
    va_list ap;
    const char *fmt, *file;
    void *udata;
    int line, level;
} mini_log_event;
typedef void (*mini_log_fn)(mini_log_event *ev);
static struct { mini_log_fn fn; void *udata; int level; } mini_cbs[4];
static int mini_ncbs;

static void mini_log_add_callback(mini_log_fn fn, void *udata, int level) {
    mini_cbs[mini_ncbs].fn = fn;
    mini_cbs[mini_ncbs].udata = udata;
    mini_cbs[mini_ncbs].level = level;
    mini_ncbs++;
}

static void mini_log_log(int level, const char *file, int line, const char *fmt, ...) {
    int i;
    for (i = 0; i < mini_ncbs; i++) {
        mini_log_event ev;
        if (level < mini_cbs[i].level) continue;
        ev.fmt = fmt;
        ev.file = file;
        ev.line = line;
        ev.level = level;
        ev.udata = mini_cbs[i].udata;
        va_start(ev.ap, fmt);
        mini_cbs[i].fn(&ev);
        va_end(ev.ap);
    }
}

static void ad_logc_to_dt(mini_log_event *ev) {
    dt_logcb_format((dt_engine *)ev->udata, dt_logcb_level_logc(ev->level), ev->file, ev->fmt, ev->ap);
}

TEST logc_style_callback_turns_records_into_typed_events(void) {
    dt_engine *e = ad_engine(NULL);
    char name[64], want[256];
    ASSERT(e);
    mini_ncbs = 0;
    mini_log_add_callback(ad_logc_to_dt, e, 1);
    mini_log_log(0, __FILE__, __LINE__, "trace %d", 1);                     /* below the callback's level */
    mini_log_log(4, __FILE__, __LINE__, "payment id=%s failed code=%d", "T7", 402);
    mini_log_log(5, __FILE__, __LINE__, "out of %s", "memory");
    ASSERT_EQ(2, acap.n);
    ad_logf_name(name, sizeof name, "payment id=%s failed code=%d");
    snprintf(want, sizeof want, "%s@error{id=\"T7\",code=402}", name);
    ASSERT_STR_EQ(want, acap.text[0]);
    ASSERT_EQ(DT_FATAL, acap.level[1]);
    ASSERT_EQ(DT_TRACE, dt_logcb_level_logc(0));
    ASSERT_EQ(DT_INFO, dt_logcb_level_logc(9));
    dt_destroy(e);
    PASS();
}

TEST zlog_style_text_records_become_named_events_with_a_message(void) {
    dt_engine *e = ad_engine(NULL);
    const char text[] = "2024-05-01 12:00:00 WARN disk full\n";
    ASSERT(e);
    dt_logcb_text(e, dt_logcb_level_zlog(80), "ZlogRecord", text, sizeof text - 2);   /* without the newline */
    ASSERT_EQ(1, acap.n);
    ASSERT_STR_EQ("ZlogRecord@warn{message=\"2024-05-01 12:00:00 WARN disk full\"}", acap.text[0]);
    ASSERT_EQ(ref_fnv1a("ZlogRecord"), acap.id[0]);
    ASSERT_EQ(DT_DEBUG, dt_logcb_level_zlog(20));
    ASSERT_EQ(DT_INFO + 1, dt_logcb_level_zlog(60));
    ASSERT_EQ(DT_ERROR, dt_logcb_level_zlog(110));
    ASSERT_EQ(DT_FATAL, dt_logcb_level_zlog(500));
    ASSERT_EQ(DT_DEBUG, dt_logcb_level_zlog(1));
    dt_destroy(e);
    PASS();
}

SUITE(adapters) {
    RUN_TEST(logf_names_the_event_from_the_format_hash_and_types_its_arguments);
    RUN_TEST(logf_names_fields_written_as_name_equals);
    RUN_TEST(logf_reads_every_conversion_with_its_printf_type);
    RUN_TEST(logf_same_format_is_the_same_event_and_logf_event_names_it);
    RUN_TEST(logf_site_off_by_a_program_never_evaluates_its_arguments);
    RUN_TEST(logf_past_max_args_keeps_the_first_and_counts_the_rest);
    RUN_TEST(logf_never_writes_through_percent_n_and_stops_at_unknown_conversions);
    RUN_TEST(logf_message_field_is_the_printf_text);
    RUN_TEST(logf_first_executions_from_several_threads_agree_on_one_event);
    RUN_TEST(syslog_priorities_map_to_ordered_levels_and_ignore_the_facility);
    RUN_TEST(syslog_call_sites_become_events_at_the_priority_level);
    RUN_TEST(syslog_site_with_a_changing_format_reads_each_call_by_its_own_format);
    RUN_TEST(syslog_one_site_two_formats_keeps_the_first_name);
    RUN_TEST(logc_style_callback_turns_records_into_typed_events);
    RUN_TEST(zlog_style_text_records_become_named_events_with_a_message);
}

/* ---- probes (examples/probes/dt_probe.h) --------------------------------- */

TEST beacon_emits_its_condition_and_values_only_when_the_condition_fails(void) {
    dt_engine *e = ad_engine(NULL);
    uint64_t len, cap = 8;
    ASSERT(e);
    for (len = 7; len <= 9; len++) DT_BEACON(len <= cap, "BeaconBufferOverrun", DT_U64("len", len), DT_U64("cap", cap));
    DT_BEACON(cap == 0, "BeaconNoFields");
    ASSERT_EQ(2, acap.n);
    ASSERT_STR_EQ("BeaconBufferOverrun@error{condition=\"len <= cap\",len=9u,cap=8u}", acap.text[0]);
    ASSERT_EQ(ref_fnv1a("BeaconBufferOverrun"), acap.id[0]);
    ASSERT_STR_EQ("BeaconNoFields@error{condition=\"cap == 0\"}", acap.text[1]);
    dt_destroy(e);
    PASS();
}

TEST beacon_silenced_by_a_program_never_evaluates_its_fields(void) {
    dt_engine *e = ad_engine("level Beacon* = off");
    int i;
    ASSERT(e);
    for (i = 0; i < 3; i++) DT_BEACON(i < 0, "BeaconSilenced", DT_I64("i", ad_counted(i)));
    ASSERT_EQ(0, acap.n);
    ASSERT_EQ(0, ad_evals);
    dt_destroy(e);
    PASS();
}

/* Scenario 9's depths, then back under and over again: one event per
 * excursion. */
TEST depth_expectation_fires_once_per_excursion_and_marks_recovery(void) {
    static const int64_t depths[] = { 9999, 10000, 10001, 10002, 10000, 10001 };
    dt_queue_expect q = DT_QUEUE_EXPECT("jobs", 10000, 0);
    dt_engine *e = ad_engine(NULL);
    size_t i;
    ASSERT(e);
    for (i = 0; i < sizeof depths / sizeof depths[0]; i++) dt_expect_depth(&q, depths[i]);
    ASSERT_EQ(3, acap.n);
    ASSERT_STR_EQ("ExpectDepthExceeded@warn{queue=\"jobs\",depth=10001,bound=10000}", acap.text[0]);
    ASSERT_STR_EQ("ExpectDepthRecovered@info{queue=\"jobs\",depth=10000,bound=10000}", acap.text[1]);
    ASSERT_STR_EQ("ExpectDepthExceeded@warn{queue=\"jobs\",depth=10001,bound=10000}", acap.text[2]);
    dt_expect_wait(&q, 5000000000ll);            /* no wait bound declared */
    ASSERT_EQ(3, acap.n);
    dt_destroy(e);
    PASS();
}

TEST wait_expectation_fires_for_every_item_over_the_bound(void) {
    dt_queue_expect q = DT_QUEUE_EXPECT("jobs", 0, 200000000);
    dt_engine *e = ad_engine(NULL);
    ASSERT(e);
    dt_expect_wait(&q, 150000000);
    dt_expect_wait(&q, 200000000);
    dt_expect_wait(&q, 250000000);
    dt_expect_wait(&q, 200000001);
    dt_expect_depth(&q, 1000000);                /* no depth bound declared */
    ASSERT_EQ(2, acap.n);
    ASSERT_STR_EQ("ExpectWaitExceeded@warn{queue=\"jobs\",wait_ns=250000000,bound=200000000}", acap.text[0]);
    ASSERT_STR_EQ("ExpectWaitExceeded@warn{queue=\"jobs\",wait_ns=200000001,bound=200000000}", acap.text[1]);
    dt_destroy(e);
    PASS();
}

static uint32_t ad_ab_ref(const char *feature, uint64_t unit, uint32_t n) {
    unsigned char buf[64];
    size_t len = strlen(feature), i;
    memcpy(buf, feature, len);
    buf[len] = 0;
    for (i = 0; i < 8; i++) buf[len + 1 + i] = (unsigned char)(unit >> (8 * i));
    return (uint32_t)(ref_fnv1a_n(buf, len + 9) % n);
}

TEST ab_pick_is_fnv_of_feature_and_unit_and_tags_a_field(void) {
    dt_engine *e = ad_engine(NULL);
    int counts[2] = { 0, 0 };
    uint64_t u;
    ASSERT(e);
    for (u = 0; u < 1000; u++) {
        uint32_t v = dt_ab_pick("checkout_flow", u, 2);
        ASSERT_EQ(ad_ab_ref("checkout_flow", u, 2), v);
        counts[v]++;
    }
    ASSERT(counts[0] > 400 && counts[1] > 400);
    ASSERT_EQ(0u, dt_ab_pick("x", 1, 0));
    DT_EMIT(DT_INFO, "LogCheckout", DT_AB("checkout_flow", "new"), DT_I64("ms", 182));
    ASSERT_STR_EQ("LogCheckout@info{ab.checkout_flow=\"new\",ms=182}", acap.text[0]);
    dt_destroy(e);
    PASS();
}

SUITE(probes) {
    RUN_TEST(beacon_emits_its_condition_and_values_only_when_the_condition_fails);
    RUN_TEST(beacon_silenced_by_a_program_never_evaluates_its_fields);
    RUN_TEST(depth_expectation_fires_once_per_excursion_and_marks_recovery);
    RUN_TEST(wait_expectation_fires_for_every_item_over_the_bound);
    RUN_TEST(ab_pick_is_fnv_of_feature_and_unit_and_tags_a_field);
}
