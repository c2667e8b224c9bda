/* Call sites: DT_EMIT, lazy field evaluation, the process-wide site list,
 * site modes under programs, rollback and the rip cord, binding, thread ids
 * and timestamps. Sites are process-wide statics: every test binds its own
 * engine and dt_destroy unbinds it. */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "greatest.h"
#include "dt.h"
#include "support.h"

/* ---- capture ------------------------------------------------------------ */
typedef struct site_ev {
    char text[200];          /* "Name@level{a=1}" */
    int64_t ts;
    uint64_t tid, id;
} site_ev;

typedef struct site_cap {
    site_ev ev[32];
    int n;
    int ndumps;
} site_cap;

static site_cap scap;
static int64_t site_now;
static int64_t evals;        /* incremented inside field expressions */

static void site_on_event(const dt_event *ev, void *ud) {
    site_cap *k = (site_cap *)ud;
    site_ev *o;
    if (k->n >= 32) return;
    o = &k->ev[k->n++];
    sup_fmt_event(o->text, sizeof o->text, ev, SUP_U64_SUFFIX | SUP_BYTES_LEN);
    o->ts = ev->ts;
    o->tid = ev->tid;
    o->id = ev->id;
}

static void site_on_dump(const dt_dump *d, void *ud) { (void)d; ((site_cap *)ud)->ndumps++; }

static dt_engine *site_engine(int no_timestamps) {
    dt_desc d;
    memset(&d, 0, sizeof d);
    d.clock.now = sup_clock;
    d.clock.user_data = &site_now;
    d.sinks.event = site_on_event;
    d.sinks.dump = site_on_dump;
    d.sinks.user_data = &scap;
    d.self_interval_ns = -1;
    d.no_timestamps = no_timestamps;
    return dt_create(&d);
}

static void site_reset(int64_t now) {
    memset(&scap, 0, sizeof scap);
    site_now = now;
    evals = 0;
}

/* Finds a site in the process-wide list by name. */
typedef struct site_find {
    const char *name;
    int count;
    const dt_site *site;
    int all_off, total;
} site_find;

static void site_find_fn(const dt_site *s, void *ud) {
    site_find *f = (site_find *)ud;
    f->total++;
    if (DT_SITE_MODE(s) != DT_SITE_OFF) f->all_off = 0;
    if (f->name && s->name && strcmp(s->name, f->name) == 0) { f->count++; f->site = s; }
}

static site_find site_lookup(const char *name) {
    site_find f;
    memset(&f, 0, sizeof f);
    f.name = name;
    f.all_off = 1;
    dt_sites_foreach(site_find_fn, &f);
    return f;
}

static uint32_t site_mode_of(const char *name) {
    site_find f = site_lookup(name);
    return f.site ? DT_SITE_MODE(f.site) : 0xffffffffu;
}

#define SEC ((int64_t)1000000000)

/* ---- the sites (one static record per DT_EMIT) ------------------------- */
static void site_zero(void) { DT_EMIT(DT_INFO, "SiteZero"); }
static void site_one(void) { DT_EMIT(DT_WARN, "SiteOne", DT_I64("a", 1)); }
static void site_five(void) {
    DT_EMIT(DT_INFO, "SiteFive", DT_BOOL("b", 1), DT_I64("i", -2), DT_U64("u", 3), DT_F64("f", 0.5), DT_STR("s", "x"));
}
static void site_quiet_first(void) { DT_EMIT(DT_DEBUG, "SiteQuietFirst", DT_I64("n", ++evals)); }
static void site_counted(void) { DT_EMIT(DT_DEBUG, "SiteCounted", DT_I64("n", ++evals)); }
static int site_located(void) {
    DT_EMIT(DT_INFO, "SiteLocated"); return __LINE__;
}
static int site_cataloged(void) {
    DT_EMIT(DT_INFO, "SiteCataloged"); return __LINE__;
}
static void site_unbind(void) { DT_EMIT(DT_INFO, "SiteUnbind"); }
static void site_tid(void) { DT_EMIT(DT_INFO, "SiteTid"); }
static void site_ts(void) { DT_EMIT(DT_INFO, "SiteTs"); }

static dt_site site_manual = DT_SITE_INIT(DT_WARN, "SiteManual");
static dt_site site_modes = DT_SITE_INIT(DT_DEBUG, "SiteModes");
static dt_site site_modes_info = DT_SITE_INIT(DT_INFO, "SiteModesInfo");

/* ---- tests -------------------------------------------------------------- */
TEST emit_macro_carries_zero_one_and_five_fields(void) {
    dt_engine *e;
    site_reset(321);
    e = site_engine(0);
    ASSERT(e != NULL);
    dt_bind_sites(e);
    site_zero();
    site_one();
    site_five();
    ASSERT_EQ(3, scap.n);
    ASSERT_STR_EQ("SiteZero@info{}", scap.ev[0].text);
    ASSERT_STR_EQ("SiteOne@warn{a=1}", scap.ev[1].text);
    ASSERT_STR_EQ("SiteFive@info{b=true,i=-2,u=3u,f=0.5,s=\"x\"}", scap.ev[2].text);
    ASSERT_EQ(dt_id("SiteZero"), scap.ev[0].id);
    ASSERT_EQ(dt_id("SiteFive"), scap.ev[2].id);
    ASSERT_EQ(321, scap.ev[1].ts);
    dt_destroy(e);
    PASS();
}

TEST off_site_never_evaluates_its_fields_even_on_first_execution(void) {
    dt_engine *e;
    site_reset(SEC);
    e = site_engine(0);
    ASSERT(e != NULL);
    dt_bind_sites(e);                             /* default level info: a debug site is off */
    site_quiet_first();
    site_quiet_first();
    site_quiet_first();
    ASSERT_EQ(0, evals);
    ASSERT_EQ(0, scap.n);
    ASSERT_EQ((uint32_t)DT_SITE_OFF, site_mode_of("SiteQuietFirst"));
    dt_destroy(e);
    PASS();
}

TEST off_site_skips_field_evaluation_until_a_program_turns_it_on(void) {
    dt_engine *e;
    dt_stats st;
    int i;
    site_reset(SEC);
    e = site_engine(0);
    ASSERT(e != NULL);
    dt_bind_sites(e);
    ASSERT_EQ(DT_OK, deploy_noerr(e, "level SiteCounted = debug"));
    site_counted();
    ASSERT_EQ(1, evals);
    ASSERT_EQ((uint32_t)DT_SITE_EXPORT, site_mode_of("SiteCounted"));
    ASSERT_EQ(DT_OK, dt_undeploy(e));             /* back to info: the debug site is off */
    ASSERT_EQ((uint32_t)DT_SITE_OFF, site_mode_of("SiteCounted"));
    for (i = 0; i < 5; i++) site_counted();
    ASSERT_EQ(1, evals);
    ASSERT_EQ(DT_OK, dt_rollback(e));             /* the debug program again */
    site_counted();
    ASSERT_EQ(2, evals);
    ASSERT_EQ(2, scap.n);
    ASSERT_STR_EQ("SiteCounted@debug{n=1}", scap.ev[0].text);
    ASSERT_STR_EQ("SiteCounted@debug{n=2}", scap.ev[1].text);
    dt_get_stats(e, &st);
    ASSERT_EQ(2u, st.events_in);                  /* an off site costs the engine nothing */
    dt_destroy(e);
    PASS();
}

/* With DT_SITE_SECTIONS (ELF, GCC/Clang) binding lists every site of the
 * binary before it runs; without it a site is listed on first execution. */
TEST sites_are_listed_with_file_and_line(void) {
    dt_engine *e;
    site_find f;
    int line;
    site_reset(SEC);
    e = site_engine(0);
    ASSERT(e != NULL);
    dt_bind_sites(e);
    f = site_lookup("SiteLocated");
    ASSERT_EQ(DT_SITE_SECTIONS ? 1 : 0, f.count);
    line = site_located();
    site_located();
    f = site_lookup("SiteLocated");
    ASSERT_EQ(1, f.count);
    ASSERT_STR_EQ(__FILE__, f.site->file);
    ASSERT_EQ(line, f.site->line);
    ASSERT_EQ((int)DT_INFO, f.site->level);
    ASSERT_EQ(dt_id("SiteLocated"), f.site->id);
    ASSERT_EQ(strlen("SiteLocated"), f.site->name_len);
    ASSERT_EQ(2, scap.n);
    dt_destroy(e);
    PASS();
}

TEST site_register_lists_a_site_without_executing_it(void) {
    dt_engine *e;
    site_find f;
    site_reset(SEC);
    e = site_engine(0);
    ASSERT(e != NULL);
    dt_bind_sites(e);
    ASSERT_EQ(0, site_lookup("SiteManual").count);
    ASSERT_EQ((uint32_t)DT_SITE_NEW, DT_SITE_MODE(&site_manual));
    dt_site_register(&site_manual);
    dt_site_register(&site_manual);               /* twice: listed once */
    f = site_lookup("SiteManual");
    ASSERT_EQ(1, f.count);
    ASSERT_EQ(&site_manual, f.site);
    ASSERT_EQ(dt_id("SiteManual"), site_manual.id);
    ASSERT_EQ((uint32_t)DT_SITE_EXPORT, DT_SITE_MODE(&site_manual));   /* warn >= info */
    ASSERT_EQ(0, scap.n);                         /* nothing was emitted */
    dt_site_emit(&site_manual, NULL, 0);
    ASSERT_EQ(1, scap.n);
    ASSERT_STR_EQ("SiteManual@warn{}", scap.ev[0].text);
    dt_destroy(e);
    PASS();
}

TEST site_mode_follows_programs_rollback_ripcord_and_timed_levels(void) {
    dt_engine *e;
    dt_field f;
    dt_value args[3];
    dt_stats st;
    site_reset(100 * SEC);
    e = site_engine(0);
    ASSERT(e != NULL);
    dt_bind_sites(e);
    dt_site_register(&site_modes);
    dt_site_register(&site_modes_info);
    ASSERT_EQ((uint32_t)DT_SITE_OFF, DT_SITE_MODE(&site_modes));         /* debug < info */
    ASSERT_EQ((uint32_t)DT_SITE_EXPORT, DT_SITE_MODE(&site_modes_info));
    ASSERT_EQ(DT_OK, deploy_noerr(e, "level SiteModes = debug\nlevel SiteModesInfo = off"));
    ASSERT_EQ((uint32_t)DT_SITE_EXPORT, DT_SITE_MODE(&site_modes));
    ASSERT_EQ((uint32_t)DT_SITE_OFF, DT_SITE_MODE(&site_modes_info));
    dt_site_emit(&site_modes, NULL, 0);
    ASSERT_EQ(DT_OK, deploy_noerr(e, "recorder m { record SiteModes }"));
    ASSERT_EQ((uint32_t)DT_SITE_PROCESS, DT_SITE_MODE(&site_modes));
    ASSERT_EQ((uint32_t)DT_SITE_EXPORT, DT_SITE_MODE(&site_modes_info));
    f = dt_field_i64("x", 1);
    dt_site_emit(&site_modes, &f, 1);             /* recorded, not exported */
    ASSERT_EQ(DT_OK, dt_recorder_flush(e, "m", NULL));
    ASSERT_EQ(1, scap.ndumps);
    ASSERT_EQ(DT_OK, dt_rollback(e));
    ASSERT_EQ((uint32_t)DT_SITE_EXPORT, DT_SITE_MODE(&site_modes));
    ASSERT_EQ((uint32_t)DT_SITE_OFF, DT_SITE_MODE(&site_modes_info));
    dt_ripcord(e, 1);                             /* as without a program */
    ASSERT_EQ((uint32_t)DT_SITE_OFF, DT_SITE_MODE(&site_modes));
    ASSERT_EQ((uint32_t)DT_SITE_EXPORT, DT_SITE_MODE(&site_modes_info));
    dt_site_emit(&site_modes_info, NULL, 0);
    dt_ripcord(e, 0);
    ASSERT_EQ((uint32_t)DT_SITE_EXPORT, DT_SITE_MODE(&site_modes));
    ASSERT_EQ((uint32_t)DT_SITE_OFF, DT_SITE_MODE(&site_modes_info));
    ASSERT_EQ(DT_OK, dt_undeploy(e));
    ASSERT_EQ((uint32_t)DT_SITE_OFF, DT_SITE_MODE(&site_modes));
    ASSERT_EQ((uint32_t)DT_SITE_EXPORT, DT_SITE_MODE(&site_modes_info));
    /* a timed level change turns the site on and, once expired, off again */
    args[0].type = DT_TYPE_STR; args[0].as.str = dt_cstr("SiteMod*");
    args[1].type = DT_TYPE_STR; args[1].as.str = dt_cstr("debug");
    args[2].type = DT_TYPE_I64; args[2].as.i64 = 5 * 60 * SEC;
    ASSERT_EQ(DT_OK, dt_action_invoke(e, "set_level", args, 3));
    ASSERT(DT_SITE_MODE(&site_modes) != DT_SITE_OFF);
    site_now = 100 * SEC + 5 * 60 * SEC - 1;
    dt_site_emit(&site_modes, NULL, 0);
    site_now = 100 * SEC + 5 * 60 * SEC;
    dt_tick(e, site_now);
    ASSERT_EQ((uint32_t)DT_SITE_OFF, DT_SITE_MODE(&site_modes));
    ASSERT_EQ((uint32_t)DT_SITE_EXPORT, DT_SITE_MODE(&site_modes_info));
    dt_site_emit(&site_modes, NULL, 0);           /* off: nothing */
    ASSERT_EQ(3, scap.n);
    ASSERT_STR_EQ("SiteModes@debug{}", scap.ev[0].text);
    ASSERT_STR_EQ("SiteModesInfo@info{}", scap.ev[1].text);
    ASSERT_STR_EQ("SiteModes@debug{}", scap.ev[2].text);
    dt_get_stats(e, &st);
    ASSERT_EQ(4u, st.events_in);
    ASSERT_EQ(3u, st.events_exported);
    ASSERT_EQ(1u, st.events_filtered);
    dt_destroy(e);
    PASS();
}

TEST unbinding_turns_every_site_off(void) {
    dt_engine *e;
    site_find f;
    dt_stats st;
    site_reset(SEC);
    e = site_engine(0);
    ASSERT(e != NULL);
    dt_bind_sites(e);
    site_unbind();
    ASSERT_EQ((uint32_t)DT_SITE_EXPORT, site_mode_of("SiteUnbind"));
    dt_bind_sites(NULL);
    f = site_lookup(NULL);
    ASSERT(f.total > 0);
    ASSERT_EQ(1, f.all_off);
    site_unbind();
    ASSERT_EQ(1, scap.n);
    dt_get_stats(e, &st);
    ASSERT_EQ(1u, st.events_in);
    dt_bind_sites(e);
    ASSERT_EQ((uint32_t)DT_SITE_EXPORT, site_mode_of("SiteUnbind"));
    site_unbind();
    ASSERT_EQ(2, scap.n);
    dt_destroy(e);                                /* destroy unbinds too */
    f = site_lookup(NULL);
    ASSERT_EQ(1, f.all_off);
    PASS();
}

/* The catalog, collected into one string. */
static char site_catalog[1 << 18];
static size_t site_catalog_len;
static void site_catalog_write(const char *bytes, size_t len, void *ud) {
    (void)ud;
    if (len > sizeof site_catalog - 1 - site_catalog_len) len = sizeof site_catalog - 1 - site_catalog_len;
    memcpy(site_catalog + site_catalog_len, bytes, len);
    site_catalog_len += len;
    site_catalog[site_catalog_len] = 0;
}
static const char *site_catalog_of(dt_engine *e) {
    site_catalog_len = 0;
    site_catalog[0] = 0;
    if (dt_catalog_write(e, site_catalog_write, NULL) != DT_OK) return "";
    return site_catalog;
}

TEST binding_registers_seen_sites_in_the_catalog(void) {
    dt_engine *a, *b;
    int line;
    char want[512];
    site_reset(SEC);
    a = site_engine(0);
    ASSERT(a != NULL);
    dt_bind_sites(a);
    line = site_cataloged();
    dt_bind_sites(NULL);
    b = site_engine(0);
    ASSERT(b != NULL);
    ASSERT(strstr(site_catalog_of(b), "SiteCataloged") == NULL);
    dt_bind_sites(b);
    snprintf(want, sizeof want,
             "{\"name\":\"SiteCataloged\",\"id\":\"0x%016llx\",\"fields\":null,"
             "\"sites\":[{\"file\":\"%s\",\"line\":%d,\"level\":\"info\"}]}",
             (unsigned long long)dt_id("SiteCataloged"), __FILE__, line);
    ASSERT(strncmp(site_catalog_of(b), "{\"dt_catalog\":1,\"events\":[", 26) == 0);
    ASSERT(strstr(site_catalog, want) != NULL);
    dt_destroy(b);
    dt_destroy(a);
    PASS();
}

/* tid: a per-thread ordinal. Threads run one after another (joined), so
 * the sink needs no lock. */
static void *site_tid_thread(void *arg) {
    int *times = (int *)arg, i;
    for (i = 0; i < *times; i++) site_tid();
    return NULL;
}

TEST site_events_carry_a_per_thread_tid(void) {
    SUP_NEEDS_THREADS();
    dt_engine *e;
    pthread_t t;
    int two = 2, one = 1;
    site_reset(SEC);
    e = site_engine(0);
    ASSERT(e != NULL);
    dt_bind_sites(e);
    site_tid();
    site_tid();
    ASSERT_EQ(0, pthread_create(&t, NULL, site_tid_thread, &two));
    ASSERT_EQ(0, pthread_join(t, NULL));
    ASSERT_EQ(0, pthread_create(&t, NULL, site_tid_thread, &one));
    ASSERT_EQ(0, pthread_join(t, NULL));
    ASSERT_EQ(5, scap.n);
    ASSERT(scap.ev[0].tid != 0);
    ASSERT_EQ(scap.ev[0].tid, scap.ev[1].tid);    /* main thread, twice */
    ASSERT_EQ(scap.ev[2].tid, scap.ev[3].tid);    /* thread A, twice */
    ASSERT(scap.ev[2].tid != 0);
    ASSERT(scap.ev[4].tid != 0);
    ASSERT(scap.ev[0].tid != scap.ev[2].tid);
    ASSERT(scap.ev[0].tid != scap.ev[4].tid);
    ASSERT(scap.ev[2].tid != scap.ev[4].tid);
    dt_destroy(e);
    PASS();
}

TEST site_events_take_ts_from_the_clock_hook_or_leave_it_zero(void) {
    dt_engine *e;
    site_reset(777);
    e = site_engine(0);
    ASSERT(e != NULL);
    dt_bind_sites(e);
    site_ts();                                    /* exported as is */
    ASSERT_EQ(DT_OK, deploy_noerr(e, "recorder r { record SiteTs }"));
    site_now = 888;
    site_ts();                                    /* through the program */
    dt_destroy(e);
    e = site_engine(1);                           /* no_timestamps */
    ASSERT(e != NULL);
    dt_bind_sites(e);
    site_ts();
    ASSERT_EQ(DT_OK, deploy_noerr(e, "recorder r { record SiteTs }"));
    site_ts();
    ASSERT_EQ(4, scap.n);
    ASSERT_EQ(777, scap.ev[0].ts);
    ASSERT_EQ(888, scap.ev[1].ts);
    ASSERT_EQ(0, scap.ev[2].ts);
    ASSERT_EQ(0, scap.ev[3].ts);
    dt_destroy(e);
    PASS();
}

SUITE(sites) {
    RUN_TEST(emit_macro_carries_zero_one_and_five_fields);
    RUN_TEST(off_site_never_evaluates_its_fields_even_on_first_execution);
    RUN_TEST(off_site_skips_field_evaluation_until_a_program_turns_it_on);
    RUN_TEST(sites_are_listed_with_file_and_line);
    RUN_TEST(site_register_lists_a_site_without_executing_it);
    RUN_TEST(site_mode_follows_programs_rollback_ripcord_and_timed_levels);
    RUN_TEST(unbinding_turns_every_site_off);
    RUN_TEST(binding_registers_seen_sites_in_the_catalog);
    RUN_TEST(site_events_carry_a_per_thread_tid);
    RUN_TEST(site_events_take_ts_from_the_clock_hook_or_leave_it_zero);
}
