/* Coverage of the public API's edges (branch coverage of dt.h found them
 * untested): every result, type, level and risk name; NULL and invalid
 * arguments to every entry point (refused with DT_ERR_INVALID or ignored,
 * never a crash); the processor and function tables up to their bounds;
 * timed level changes that end unswept, overflow or carry a pattern too
 * long; emergency flushes under host locks. */
#include <stdlib.h>

#include "greatest.h"
#include "dt.h"
#include "support.h"

#define SEC 1000000000LL

typedef struct ca_cap {
    long exported, dumps;
    uint32_t dump_flags;
    char last[256], key[80];
    uint8_t bytes[4096];             /* the last dump, joined */
    size_t nbytes;
    int64_t now;
} ca_cap;

static void ca_on_event(const dt_event *ev, void *ud) {
    ca_cap *c = (ca_cap *)ud;
    c->exported++;
    sup_fmt_event(c->last, sizeof c->last, ev, 0);
}

static void ca_on_dump(const dt_dump *d, void *ud) {
    ca_cap *c = (ca_cap *)ud;
    c->dumps++;
    c->dump_flags = d->flags;
    snprintf(c->key, sizeof c->key, "%.*s", (int)d->key.len, d->key.ptr);
    if (!sup_join_dump(d, c->bytes, sizeof c->bytes, &c->nbytes)) c->nbytes = 0;
}

static dt_desc ca_desc(ca_cap *c) {
    dt_desc d;
    memset(c, 0, sizeof *c);
    d = sup_desc(c, &c->now, 100 * SEC);
    d.sinks.event = ca_on_event;
    d.sinks.dump = ca_on_dump;
    d.self_interval_ns = -1;
    return d;
}

TEST every_result_type_level_and_risk_has_its_name(void) {
    static const struct { int code; const char *name; } results[] = {
        {DT_OK, "ok"}, {DT_ERR_INVALID, "invalid argument"}, {DT_ERR_NOMEM, "out of memory"},
        {DT_ERR_SYNTAX, "syntax error"}, {DT_ERR_TYPE, "type error"}, {DT_ERR_UNKNOWN, "unknown name"},
        {DT_ERR_RISK, "risk above policy"}, {DT_ERR_LIMIT, "limit reached"}, {DT_ERR_COLLISION, "durable ID collision"},
        {DT_ERR_EXISTS, "already exists"}, {DT_ERR_EMPTY, "nothing there"}, {-99, "unknown result"}, {1, "unknown result"}};
    static const char *const types[] = {"null", "bool", "i64", "u64", "f64", "str", "bytes"};
    unsigned i;
    for (i = 0; i < sizeof results / sizeof results[0]; i++) ASSERT_STR_EQ(results[i].name, dt_result_str(results[i].code));
    for (i = 0; i < 7; i++) ASSERT_STR_EQ(types[i], dt_type_name((int)i));
    ASSERT_STR_EQ("?", dt_type_name(-1));
    ASSERT_STR_EQ("?", dt_type_name(7));
    ASSERT_STR_EQ("debug", dt_level_name(DT_DEBUG));
    ASSERT_STR_EQ("off", dt_level_name(DT_LEVEL_OFF));
    ASSERT_STR_EQ("", dt_level_name(3));
    ASSERT_EQ(-1, dt_level_parse("loud", 4));
    ASSERT_EQ(DT_WARN, dt_level_parse("WARNING", 7));
    ASSERT_STR_EQ("low", dt_risk_name(DT_RISK_LOW));
    ASSERT_STR_EQ("high", dt_risk_name(DT_RISK_HIGH));
    ASSERT_STR_EQ("none", dt_risk_name(DT_RISK_DEFAULT));
    ASSERT_STR_EQ("none", dt_risk_name(9));
    PASS();
}

/* Every entry point with a NULL engine or argument: refused or ignored. */
TEST null_arguments_are_refused_or_ignored(void) {
    ca_cap c;
    dt_desc d = ca_desc(&c);
    dt_engine *e = dt_create(&d);
    dt_event ev;
    dt_program_info info;
    dt_error err;
    dt_stats st;
    ASSERT(e != NULL);
    memset(&ev, 0, sizeof ev);
    ev.name = dt_cstr("A");
    dt_emit(NULL, &ev);
    dt_emit(e, NULL);
    dt_tick(NULL, 5);
    dt_flush(NULL);
    ASSERT_EQ(0, dt_poll(NULL));
    ASSERT_EQ(DT_ERR_INVALID, dt_deploy(NULL, "level A = off", 13, &err));
    ASSERT_EQ(DT_ERR_INVALID, dt_check(NULL, "level A = off", 13, &err, &info));
    ASSERT_EQ(DT_ERR_INVALID, dt_rollback(NULL));
    ASSERT_EQ(DT_ERR_INVALID, dt_undeploy(NULL));
    dt_ripcord(NULL, 1);
    dt_ripcord_signal(NULL, 1);
    ASSERT_EQ(0, dt_ripcord_pulled(NULL));
    ASSERT_EQ(DT_ERR_INVALID, dt_program(NULL, &info));
    ASSERT_EQ(DT_ERR_INVALID, dt_program(e, NULL));
    ASSERT_EQ(DT_ERR_INVALID, dt_recorder_flush(NULL, "r", NULL));
    ASSERT_EQ(DT_ERR_INVALID, dt_recorder_flush_emergency(NULL, "r"));
    ASSERT_EQ(DT_ERR_INVALID, dt_recorder_flush_emergency(e, NULL));
    ASSERT_EQ(DT_ERR_UNKNOWN, dt_recorder_flush_emergency(e, "r"));
    ASSERT_EQ(DT_ERR_INVALID, dt_register_processor(NULL, NULL));
    ASSERT_EQ(DT_ERR_INVALID, dt_register_function(NULL, NULL));
    ASSERT_EQ(DT_ERR_INVALID, dt_register_event(NULL, "A", NULL, 0, NULL, 0));
    ASSERT_EQ(DT_ERR_EMPTY, dt_rollback(e));
    ASSERT_EQ(DT_ERR_EMPTY, dt_undeploy(e));
    ASSERT_EQ((size_t)0, dt_error_format(NULL, NULL, 0));
    ASSERT_EQ(DT_TYPE_NULL, dt_expr_type(NULL));
    ASSERT_EQ(0u, dt_shards_count(NULL));
    dt_site_register(NULL);
    dt_destroy(NULL);
    dt_get_stats(e, &st);
    ASSERT_EQ(0u, st.events_in);                 /* the NULL emit did not count */
    ASSERT_EQ(NULL, dt_create(NULL));
    dt_destroy(e);
    PASS();
}

TEST schemas_with_bad_fields_are_refused(void) {
    ca_cap c;
    dt_desc d = ca_desc(&c);
    dt_engine *e = dt_create(&d);
    char longname[DT_MAX_NAME + 2];
    dt_schema_field f[1];
    ASSERT(e != NULL);
    memset(longname, 'f', sizeof longname);
    longname[DT_MAX_NAME + 1] = 0;
    f[0].name = NULL; f[0].type = DT_TYPE_I64;
    ASSERT_EQ(DT_ERR_INVALID, dt_register_event(e, "S", f, 1, NULL, 0));
    f[0].name = "";
    ASSERT_EQ(DT_ERR_INVALID, dt_register_event(e, "S", f, 1, NULL, 0));
    f[0].name = longname;
    ASSERT_EQ(DT_ERR_INVALID, dt_register_event(e, "S", f, 1, NULL, 0));
    f[0].name = "x"; f[0].type = (dt_type)9;
    ASSERT_EQ(DT_ERR_INVALID, dt_register_event(e, "S", f, 1, NULL, 0));
    ASSERT_EQ(DT_ERR_INVALID, dt_register_event(e, "S", NULL, 1, NULL, 0));     /* fields promised, none given */
    ASSERT_EQ(DT_ERR_INVALID, dt_register_event(e, "", NULL, 0, NULL, 0));
    f[0].type = DT_TYPE_I64;
    ASSERT_EQ(DT_OK, dt_register_event(e, "S", f, 1, NULL, 0));
    f[0].type = DT_TYPE_STR;
    ASSERT_EQ(DT_ERR_EXISTS, dt_register_event(e, "S", f, 1, NULL, 0));
    dt_destroy(e);
    PASS();
}

static int ca_compile(dt_compiler *c, dt_block *b) { (void)c; (void)b; return DT_OK; }
static void ca_on_event_proc(dt_block *b, dt_exec *x, int tag) { (void)b; (void)x; (void)tag; }

TEST the_processor_table_refuses_bad_duplicate_and_one_too_many(void) {
    static char keywords[DT_MAX_PROCESSORS + 1][16];
    static dt_processor procs[DT_MAX_PROCESSORS + 1];
    dt_processor bad;
    ca_cap c;
    dt_desc d = ca_desc(&c);
    dt_engine *e = dt_create(&d);
    int i, added = 0, rc = DT_OK;
    ASSERT(e != NULL);
    memset(&bad, 0, sizeof bad);
    ASSERT_EQ(DT_ERR_INVALID, dt_register_processor(e, &bad));           /* no keyword */
    bad.keyword = "bad";
    ASSERT_EQ(DT_ERR_INVALID, dt_register_processor(e, &bad));           /* no compile */
    bad.compile = ca_compile;
    ASSERT_EQ(DT_ERR_INVALID, dt_register_processor(e, &bad));           /* no on_event */
    bad.keyword = "level";
    bad.on_event = ca_on_event_proc;
    ASSERT_EQ(DT_ERR_EXISTS, dt_register_processor(e, &bad));            /* the core's own */
    for (i = 0; i <= DT_MAX_PROCESSORS && rc == DT_OK; i++) {
        snprintf(keywords[i], sizeof keywords[i], "kind%d", i);
        procs[i] = bad;
        procs[i].keyword = keywords[i];
        rc = dt_register_processor(e, &procs[i]);
        if (rc == DT_OK) added++;
    }
    ASSERT_EQ(DT_ERR_LIMIT, rc);
    ASSERT_EQ(DT_MAX_PROCESSORS - 2, added);     /* level and recorder are processors too */
    ASSERT_EQ(DT_OK, deploy(e, "kind0 kind1"));  /* a kind that parses nothing: two empty blocks */
    dt_destroy(e);
    d.processors = NULL;                         /* more kinds than an engine holds: no engine */
    d.nprocessors = DT_MAX_PROCESSORS + 1;
    ASSERT_EQ(NULL, dt_create(&d));
    d.nprocessors = 1;                           /* a count without a list */
    ASSERT_EQ(NULL, dt_create(&d));
    PASS();
}

static dt_value ca_fn(dt_exec *x, const dt_value *args, uint32_t n, void *ud) {
    (void)x; (void)n; (void)ud;
    return args[0];
}

TEST the_function_table_refuses_bad_descriptions_and_one_too_many(void) {
    ca_cap c;
    dt_desc d = ca_desc(&c);
    dt_engine *e;
    dt_function_desc f;
    char longname[DT_MAX_NAME + 2], name[8];
    int i;
    d.max_actions = 8;                           /* the built-in actions count too */
    e = dt_create(&d);
    ASSERT(e != NULL);
    memset(longname, 'g', sizeof longname);
    longname[DT_MAX_NAME + 1] = 0;
    memset(&f, 0, sizeof f);
    f.fn = ca_fn;
    f.min_args = f.max_args = 1;
    f.risk = DT_RISK_LOW;
    ASSERT_EQ(DT_ERR_INVALID, dt_register_function(e, &f));             /* no name */
    f.name = "";
    ASSERT_EQ(DT_ERR_INVALID, dt_register_function(e, &f));
    f.name = longname;
    ASSERT_EQ(DT_ERR_INVALID, dt_register_function(e, &f));
    f.name = "g1";
    f.fn = NULL;
    ASSERT_EQ(DT_ERR_INVALID, dt_register_function(e, &f));
    f.fn = ca_fn;
    f.min_args = 2;
    ASSERT_EQ(DT_ERR_INVALID, dt_register_function(e, &f));             /* min above max */
    f.min_args = 1;
    f.max_args = DT_MAX_ACTION_ARGS + 1;
    ASSERT_EQ(DT_ERR_INVALID, dt_register_function(e, &f));
    f.max_args = 1;
    ASSERT_EQ(DT_OK, dt_register_function(e, &f));
    ASSERT_EQ(DT_ERR_EXISTS, dt_register_function(e, &f));
    f.name = "strlen";
    ASSERT_EQ(DT_ERR_EXISTS, dt_register_function(e, &f));              /* a built-in's name */
    for (i = 2; i <= 8; i++) {                   /* max_actions host functions */
        snprintf(name, sizeof name, "g%d", i);
        f.name = name;
        ASSERT_EQ(DT_OK, dt_register_function(e, &f));
    }
    f.name = "g9";
    ASSERT_EQ(DT_ERR_LIMIT, dt_register_function(e, &f));
    ASSERT_EQ(DT_OK, deploy(e, "recorder r { record T where g1(x) == 1 and g8(x) == 1 }"));
    dt_destroy(e);
    PASS();
}

/* set_level from the host: a change that has ended but was not swept by a
 * tick starts a fresh window when set again; the table holds
 * DT_MAX_OVERRIDES; a pattern longer than a name is refused; each refusal
 * counts one overflow. */
static int ca_set_level(dt_engine *e, const char *pattern, const char *level, int64_t ns) {
    dt_value a[3];
    a[0].type = DT_TYPE_STR; a[0].as.str = dt_cstr(pattern);
    a[1].type = DT_TYPE_STR; a[1].as.str = dt_cstr(level);
    a[2].type = DT_TYPE_I64; a[2].as.i64 = ns;
    return dt_action_invoke(e, "set_level", a, 3);
}

TEST timed_level_changes_restart_overflow_and_refuse_long_patterns(void) {
    ca_cap c;
    dt_desc d = ca_desc(&c);
    dt_engine *e = dt_create(&d);
    char pattern[DT_MAX_NAME + 8];
    int i;
    ASSERT(e != NULL);
    ASSERT_EQ(DT_OK, ca_set_level(e, "Ov*", "debug", SEC));             /* [100 s, 101 s) */
    emit(e, "Ov1", DT_DEBUG, 100 * SEC + SEC / 2);
    ASSERT_EQ(1, c.exported);
    c.now = 200 * SEC;                                                   /* ended, no tick: not swept */
    ASSERT_EQ(DT_OK, ca_set_level(e, "Ov*", "debug", 10 * SEC));        /* a fresh [200 s, 210 s) */
    emit(e, "Ov1", DT_DEBUG, 150 * SEC);
    ASSERT_EQ(1, c.exported);                                            /* before the new start */
    emit(e, "Ov1", DT_DEBUG, 205 * SEC);
    ASSERT_EQ(2, c.exported);
    for (i = 1; i < DT_MAX_OVERRIDES; i++) {
        char p[16];
        snprintf(p, sizeof p, "P%d", i);
        ASSERT_EQ(DT_OK, ca_set_level(e, p, "trace", 60 * SEC));
    }
    ASSERT_EQ(0u, stats(e).overflows);
    ASSERT_EQ(DT_OK, ca_set_level(e, "OneTooMany", "trace", 60 * SEC));  /* the action ran; the table was full */
    ASSERT_EQ(1u, stats(e).overflows);
    dt_tick(e, 300 * SEC);                                               /* all ended and swept */
    memset(pattern, 'p', sizeof pattern);
    pattern[DT_MAX_NAME + 1] = 0;
    ASSERT_EQ(DT_OK, ca_set_level(e, pattern, "trace", 60 * SEC));
    ASSERT_EQ(2u, stats(e).overflows);
    ASSERT_EQ(DT_OK, ca_set_level(e, "Lv", "99", 60 * SEC));             /* no such level: ignored */
    dt_destroy(e);
    PASS();
}

/* Host lock hooks cannot be tried: an emergency flush reads the ring
 * without the lock and says so (torn). */
static int ca_lock_word;
static void *ca_lock_create(void *ud) { (void)ud; return &ca_lock_word; }
static void ca_lock_destroy(void *l, void *ud) { (void)l; (void)ud; }
static void ca_lock(void *l, void *ud) { (void)l; (void)ud; }

TEST emergency_flush_under_host_locks_is_torn(void) {
    ca_cap c;
    dt_desc d = ca_desc(&c);
    dt_engine *e;
    d.lock.create = ca_lock_create;
    d.lock.destroy = ca_lock_destroy;
    d.lock.lock = ca_lock;
    d.lock.unlock = ca_lock;
    e = dt_create(&d);
    ASSERT(e != NULL);
    ASSERT_EQ(DT_OK, deploy(e, "recorder r { record A }"));
    emit(e, "A", DT_INFO, 0);
    ASSERT_EQ(DT_OK, dt_recorder_flush_emergency(e, "r"));
    ASSERT_EQ(1, c.dumps);
    ASSERT_EQ((uint32_t)DT_DUMP_TORN, c.dump_flags);
    ASSERT_EQ(DT_OK, dt_recorder_flush_emergency(e, "r"));              /* nothing is reset: the same again */
    ASSERT_EQ(2, c.dumps);
    ASSERT_EQ(DT_OK, dt_recorder_flush(e, "r", NULL));                  /* the ordinary flush takes the lock */
    ASSERT_EQ(3, c.dumps);
    ASSERT_EQ(0u, c.dump_flags);
    ASSERT_EQ(DT_OK, dt_recorder_flush(e, "r", NULL));                  /* and empties the ring */
    ASSERT_EQ(3, c.dumps);
    dt_destroy(e);
    PASS();
}

/* Malformed dumps are refused whether or not the caller asks for the
 * offset of the first bad byte. */
TEST malformed_dumps_are_refused_with_or_without_an_offset_pointer(void) {
    ca_cap c;
    dt_desc d = ca_desc(&c);
    dt_engine *e = dt_create(&d);
    uint8_t bytes[sizeof c.bytes + 1];
    size_t n, bad;
    ASSERT(e != NULL);
    ASSERT_EQ(DT_OK, deploy(e, "recorder r { record A }"));
    emit(e, "A", DT_INFO, 0);
    ASSERT_EQ(DT_OK, dt_recorder_flush(e, "r", NULL));
    ASSERT_EQ(1, c.dumps);
    n = c.nbytes;
    memcpy(bytes, c.bytes, n);
    ASSERT_EQ(DT_OK, dt_dump_decode(bytes, n, NULL, NULL, NULL, NULL));
    ASSERT_EQ(DT_ERR_INVALID, dt_dump_decode(bytes, 3, NULL, NULL, NULL, NULL));          /* no magic */
    ASSERT_EQ(DT_ERR_INVALID, dt_dump_decode(bytes, n - 3, NULL, NULL, NULL, NULL));      /* cut in its record */
    bytes[n] = 0;
    ASSERT_EQ(DT_ERR_INVALID, dt_dump_decode(bytes, n + 1, NULL, NULL, NULL, NULL));      /* a byte too many */
    bad = 0;
    ASSERT_EQ(DT_ERR_INVALID, dt_dump_decode(bytes, n + 1, NULL, NULL, NULL, &bad));
    ASSERT_EQ(n, bad);
    bytes[4] ^= 0x7f;                                                                    /* the version */
    ASSERT_EQ(DT_ERR_INVALID, dt_dump_decode(bytes, n, NULL, NULL, NULL, NULL));
    dt_destroy(e);
    PASS();
}

/* Keys of every type a recorder keys by: bytes, false, and the empty
 * string are keys like any other. */
TEST recorder_keys_of_bytes_false_and_empty_strings(void) {
    ca_cap c;
    dt_desc d = ca_desc(&c);
    dt_engine *e = dt_create(&d);
    dt_field f;
    ASSERT(e != NULL);
    ASSERT_EQ(DT_OK, deploy(e, "recorder r { record A by k }"));
    f = dt_field_bytes("k", "\x01\x02", 2);
    sup_emit_fields(e, "A", DT_INFO, 0, 0, &f, 1);
    f = dt_field_bool("k", 0);
    sup_emit_fields(e, "A", DT_INFO, 0, 0, &f, 1);
    f = dt_field_str("k", "");
    sup_emit_fields(e, "A", DT_INFO, 0, 0, &f, 1);
    ASSERT_EQ(3u, stats(e).recorder_records);
    ASSERT_EQ(DT_OK, dt_recorder_flush(e, "r", "false"));
    ASSERT_EQ(1, c.dumps);
    ASSERT_STR_EQ("false", c.key);
    ASSERT_EQ(DT_OK, dt_recorder_flush(e, "r", ""));
    ASSERT_EQ(2, c.dumps);
    ASSERT_STR_EQ("", c.key);
    ASSERT_EQ(DT_OK, dt_recorder_flush(e, "r", "\x01\x02"));
    ASSERT_EQ(3, c.dumps);
    dt_destroy(e);
    PASS();
}

/* Sites whose names no event may have stay off and never reach the
 * engine. */
TEST sites_with_impossible_names_stay_off(void) {
    static char longname[DT_MAX_NAME + 2];
    static dt_site empty = DT_SITE_INIT(DT_INFO, "");
    static dt_site toolong = DT_SITE_INIT(DT_INFO, longname);
    ca_cap c;
    dt_desc d = ca_desc(&c);
    dt_engine *e = dt_create(&d);
    ASSERT(e != NULL);
    memset(longname, 'n', DT_MAX_NAME + 1);
    dt_bind_sites(e);
    dt_site_register(&empty);
    dt_site_register(&toolong);
    ASSERT_EQ((uint32_t)DT_SITE_OFF, empty.mode);
    ASSERT_EQ((uint32_t)DT_SITE_OFF, toolong.mode);
    dt_site_emit(&empty, NULL, 0);
    dt_site_emit(&toolong, NULL, 0);
    ASSERT_EQ(0u, stats(e).events_in);
    dt_destroy(e);
    PASS();
}

/* set_level called from the host with arguments of the wrong types does
 * nothing (and a missing level is not a change). */
TEST set_level_with_wrong_argument_types_changes_nothing(void) {
    ca_cap c;
    dt_desc d = ca_desc(&c);
    dt_engine *e = dt_create(&d);
    dt_value a[3];
    ASSERT(e != NULL);
    a[0].type = DT_TYPE_I64; a[0].as.i64 = 1;                       /* pattern not a string */
    a[1].type = DT_TYPE_I64; a[1].as.i64 = DT_DEBUG;
    a[2].type = DT_TYPE_I64; a[2].as.i64 = 60 * SEC;
    ASSERT_EQ(DT_OK, dt_action_invoke(e, "set_level", a, 3));
    a[0].type = DT_TYPE_STR; a[0].as.str = dt_cstr("");              /* empty pattern */
    ASSERT_EQ(DT_OK, dt_action_invoke(e, "set_level", a, 3));
    a[0].as.str = dt_cstr("Lv");
    a[1].as.i64 = 300;                                               /* no such level */
    ASSERT_EQ(DT_OK, dt_action_invoke(e, "set_level", a, 3));
    a[1].as.i64 = DT_DEBUG;
    a[2].type = DT_TYPE_STR; a[2].as.str = dt_cstr("1m");            /* duration not a number */
    ASSERT_EQ(DT_OK, dt_action_invoke(e, "set_level", a, 3));
    emit(e, "Lv", DT_DEBUG, 0);
    ASSERT_EQ(0, c.exported);
    a[2].type = DT_TYPE_I64; a[2].as.i64 = 60 * SEC;                 /* and now a good one */
    ASSERT_EQ(DT_OK, dt_action_invoke(e, "set_level", a, 3));
    emit(e, "Lv", DT_DEBUG, 0);
    ASSERT_EQ(1, c.exported);
    dt_destroy(e);
    PASS();
}

/* Two names with one durable ID (a pair from tests/test_ids.c) in one
 * program, or one in the program and one registered: refused where the
 * name is written, naming both. */
static enum greatest_test_res ca_collision(dt_engine *e, const char *text, int line, int column, const char *first,
                                           const char *second) {
    dt_error err;
    char msg[200];
    snprintf(msg, sizeof msg, "durable ID collision: '%s' and '%s' hash to the same ID", first, second);
    ASSERT_EQm(text, DT_ERR_COLLISION, dt_check(e, text, strlen(text), &err, NULL));
    ASSERT_EQm(text, line, err.line);
    ASSERT_EQm(text, column, err.column);
    ASSERT_STR_EQm(text, msg, err.message);
    ASSERT_STR_EQm(text, "rename one of the events (see docs/durable-ids.md)", err.hint);
    PASS();
}

TEST programs_naming_two_events_with_one_id_are_refused(void) {
    ca_cap c;
    dt_desc d = ca_desc(&c);
    dt_engine *e = dt_create(&d);
    ASSERT(e != NULL);
    CHECK_CALL(ca_collision(e, "level cZ0fG9zuWcUK = off\nlevel c_QIKXfCwyFN = off", 2, 7, "cZ0fG9zuWcUK", "c_QIKXfCwyFN"));
    CHECK_CALL(ca_collision(e, "level cZ0fG9zuWcUK = off\nrecorder r { record c_QIKXfCwyFN }", 1, 7, "c_QIKXfCwyFN",
                            "cZ0fG9zuWcUK"));
    ASSERT_EQ(DT_OK, dt_register_event(e, "cZ0fG9zuWcUK", NULL, 0, NULL, 0));
    CHECK_CALL(ca_collision(e, "level c_QIKXfCwyFN = off", 1, 7, "cZ0fG9zuWcUK", "c_QIKXfCwyFN"));
    ASSERT_EQ(DT_OK, deploy(e, "level cZ0fG9zuWcUK = off"));
    emit(e, "c_QIKXfCwyFN", DT_INFO, 0);             /* same ID, other name: not the rule's event */
    emit(e, "cZ0fG9zuWcUK", DT_INFO, 0);
    ASSERT_EQ(1, c.exported);
    ASSERT_STR_EQ("c_QIKXfCwyFN@info{}", c.last);
    dt_destroy(e);
    PASS();
}

SUITE(coverage_api) {
    RUN_TEST(every_result_type_level_and_risk_has_its_name);
    RUN_TEST(null_arguments_are_refused_or_ignored);
    RUN_TEST(schemas_with_bad_fields_are_refused);
    RUN_TEST(the_processor_table_refuses_bad_duplicate_and_one_too_many);
    RUN_TEST(the_function_table_refuses_bad_descriptions_and_one_too_many);
    RUN_TEST(timed_level_changes_restart_overflow_and_refuse_long_patterns);
    RUN_TEST(emergency_flush_under_host_locks_is_torn);
    RUN_TEST(malformed_dumps_are_refused_with_or_without_an_offset_pointer);
    RUN_TEST(recorder_keys_of_bytes_false_and_empty_strings);
    RUN_TEST(sites_with_impossible_names_stay_off);
    RUN_TEST(set_level_with_wrong_argument_types_changes_nothing);
    RUN_TEST(programs_naming_two_events_with_one_id_are_refused);
}
