/* Program lifecycle: deploy, versions and info, check, failed deploys that
 * keep the running program and its state, rollback, undeploy, the rip
 * cord, and timed verbosity changes driven by a fake clock. */
#include "greatest.h"
#include "dt.h"
#include "support.h"

#include <stdio.h>
#include <string.h>

/* ---- helpers ------------------------------------------------------------ */

#define SEC 1000000000LL
#define MIN (60 * SEC)
#define T0 (1000 * SEC)        /* the fake clock's reading at dt_create */

/* What the sinks saw, as text: exported events "Name@ts," ; dumps
 * "recorder:Name,Name;" (decoded from the dump bytes); actions
 * "set_level(Dbg*,5,300000000000)@ts," . */
typedef struct cap {
    char events[1024];
    char dumps[512];
    char actions[512];
    int64_t now;               /* the fake clock */
} cap;

static void cap_event(const dt_event *ev, void *ud) {
    cap *c = (cap *)ud;
    char s[160];
    snprintf(s, sizeof s, "%.*s@%lld,", (int)ev->name.len, ev->name.ptr, (long long)ev->ts);
    sup_append(c->events, sizeof c->events, s);
}

static void on_record(const dt_event *ev, void *ud) {
    cap *c = (cap *)ud;
    char s[160];
    snprintf(s, sizeof s, "%.*s,", (int)ev->name.len, ev->name.ptr);
    sup_append(c->dumps, sizeof c->dumps, s);
}

static void cap_dump(const dt_dump *d, void *ud) {
    cap *c = (cap *)ud;
    uint8_t bytes[8192];
    size_t n, bad = 0;
    char s[160];
    (void)sup_join_dump(d, bytes, sizeof bytes, &n);
    snprintf(s, sizeof s, "%.*s:", (int)d->recorder.len, d->recorder.ptr);
    sup_append(c->dumps, sizeof c->dumps, s);
    if (dt_dump_decode(bytes, n, NULL, on_record, c, &bad) != DT_OK) sup_append(c->dumps, sizeof c->dumps, "BAD");
    sup_append(c->dumps, sizeof c->dumps, ";");
}

static void cap_action(const dt_action_call *call, void *ud) {
    cap *c = (cap *)ud;
    char s[200];
    uint32_t i;
    snprintf(s, sizeof s, "%s(", call->action);
    sup_append(c->actions, sizeof c->actions, s);
    for (i = 0; i < call->nargs; i++) {
        const dt_value *v = &call->args[i];
        if (v->type == DT_TYPE_STR) snprintf(s, sizeof s, "%s%.*s", i ? "," : "", (int)v->as.str.len, v->as.str.ptr);
        else snprintf(s, sizeof s, "%s%lld", i ? "," : "", (long long)v->as.i64);
        sup_append(c->actions, sizeof c->actions, s);
    }
    snprintf(s, sizeof s, ")@%lld%s,", (long long)call->ts, call->trigger ? "!" : "");
    sup_append(c->actions, sizeof c->actions, s);
}

static dt_engine *make_engine(cap *c) {
    dt_desc d;
    memset(c, 0, sizeof *c);
    d = sup_desc(c, &c->now, T0);
    d.sinks.event = cap_event;
    d.sinks.dump = cap_dump;
    d.sinks.action = cap_action;
    d.self_interval_ns = -1;
    return dt_create(&d);
}

static void clear(cap *c) { c->events[0] = c->dumps[0] = c->actions[0] = 0; }

/* ---- deploy, version, info ---------------------------------------------- */

/* Threaded builds flush a recorder into a buffer of its ring's size; with
 * DT_NO_THREADS the dump sink reads the ring in place. */
#define FLUSH_BUFFER(bytes) (DT_NO_THREADS ? 0u : (bytes))

TEST deploy_replaces_the_running_program(void) {
    cap c;
    dt_engine *e = make_engine(&c);
    ASSERT_EQ(DT_OK, deploy(e, "level A = off"));
    emit(e, "A", DT_INFO, 1);
    emit(e, "B", DT_INFO, 2);
    ASSERT_STR_EQ("B@2,", c.events);
    ASSERT_EQ(DT_OK, deploy(e, "level B = off"));
    emit(e, "A", DT_INFO, 3);
    emit(e, "B", DT_INFO, 4);
    ASSERT_STR_EQ("B@2,A@3,", c.events);
    ASSERT_EQ(2u, stats(e).deploys);
    dt_destroy(e);
    PASS();
}

TEST deploy_numbers_versions_and_reports_program_info(void) {
    cap c;
    dt_engine *e = make_engine(&c);
    dt_program_info info;
    const char *p1 = "level A = off";
    const char *p2 = "level A = off\nrecorder crash { record * capacity 1KiB }\n"
                     "recorder tx { record Tx* by id keys 4 capacity 256 discard when Done }";
    ASSERT_EQ(DT_ERR_EMPTY, dt_program(e, &info));
    ASSERT_EQ(DT_OK, deploy(e, p1));
    ASSERT_EQ(DT_OK, dt_program(e, &info));
    ASSERT_EQ(1u, info.version);
    ASSERT_EQ_FMT((unsigned long long)ref_fnv1a(p1), (unsigned long long)info.hash, "0x%016llx");
    ASSERT_EQ(DT_RISK_LOW, info.risk);
    ASSERT_EQ(1u, info.blocks);
    ASSERT_EQ(0u, info.recorders);
    ASSERT_EQ(0u, info.recorder_bytes);
    ASSERT(info.memory > 0);
    ASSERT_EQ(DT_OK, deploy(e, p2));
    ASSERT_EQ(DT_OK, dt_program(e, &info));
    ASSERT_EQ(2u, info.version);
    ASSERT_EQ_FMT((unsigned long long)ref_fnv1a(p2), (unsigned long long)info.hash, "0x%016llx");
    ASSERT_EQ(DT_RISK_LOW, info.risk);
    ASSERT_EQ(3u, info.blocks);
    ASSERT_EQ(2u, info.recorders);
    /* ring bytes plus, with threads, one flush buffer per recorder */
    ASSERT_EQ((1024u + FLUSH_BUFFER(1024u)) + (4u * 256u + FLUSH_BUFFER(256u)), info.recorder_bytes);
    ASSERT(info.memory >= info.recorder_bytes);
    ASSERT_EQ(DT_OK, deploy(e, "level A = debug for 5m when E\nrecorder r { record * flush when F }"));
    ASSERT_EQ(DT_OK, dt_program(e, &info));
    ASSERT_EQ(3u, info.version);
    ASSERT_EQ(DT_RISK_MEDIUM, info.risk);
    ASSERT_EQ(DT_ERR_INVALID, dt_program(e, NULL));
    dt_destroy(e);
    PASS();
}

TEST check_compiles_without_deploying(void) {
    cap c;
    dt_engine *e = make_engine(&c);
    dt_program_info info;
    dt_error err;
    const char *text = "recorder r { record * capacity 128 }";
    memset(&info, 0xff, sizeof info);
    ASSERT_EQ(DT_OK, dt_check(e, text, strlen(text), &err, &info));
    ASSERT_EQ(0u, info.version);
    ASSERT_EQ_FMT((unsigned long long)ref_fnv1a(text), (unsigned long long)info.hash, "0x%016llx");
    ASSERT_EQ(1u, info.blocks);
    ASSERT_EQ(1u, info.recorders);
    ASSERT_EQ(128u + FLUSH_BUFFER(128u), info.recorder_bytes);
    ASSERT_EQ(DT_ERR_EMPTY, dt_program(e, &info));
    emit(e, "A", DT_INFO, 5);
    ASSERT_EQ(DT_ERR_UNKNOWN, dt_recorder_flush(e, "r", NULL));
    ASSERT_STR_EQ("A@5,", c.events);
    ASSERT_STR_EQ("", c.dumps);
    ASSERT_EQ(0u, stats(e).deploys);
    ASSERT_EQ(DT_ERR_SYNTAX, dt_check(e, "nope", 4, &err, NULL));
    ASSERT_EQ(0u, stats(e).deploy_errors);
    dt_destroy(e);
    PASS();
}

/* ---- failed deploys ----------------------------------------------------- */

TEST failed_deploy_keeps_old_program_and_its_state(void) {
    cap c;
    dt_engine *e = make_engine(&c);
    dt_program_info info;
    dt_error err;
    const char *bad = "level B = off\nrecorder r { record * where x > }";
    ASSERT_EQ(DT_OK, deploy(e, "level A = off\nrecorder r { record * }"));
    emit(e, "A", DT_INFO, 1);
    emit(e, "B", DT_INFO, 2);
    emit(e, "C", DT_DEBUG, 3);
    ASSERT_EQ(DT_ERR_SYNTAX, dt_deploy(e, bad, strlen(bad), &err));
    ASSERT_EQ(2, err.line);
    ASSERT_EQ(33, err.column);
    ASSERT_STR_EQ("expected a value, found '}'", err.message);
    ASSERT_STR_EQ("values are numbers, \"strings\", durations (5m), sizes (4KiB), field names, "
                  "true/false/null",
                  err.hint);
    ASSERT_EQ(DT_OK, dt_program(e, &info));
    ASSERT_EQ(1u, info.version);
    emit(e, "A", DT_INFO, 4);
    emit(e, "B", DT_INFO, 5);
    ASSERT_STR_EQ("B@2,B@5,", c.events);
    ASSERT_EQ(DT_OK, dt_recorder_flush(e, "r", NULL));
    ASSERT_STR_EQ("r:A,B,C,A,B,;", c.dumps);
    ASSERT_EQ(1u, stats(e).deploys);
    ASSERT_EQ(1u, stats(e).deploy_errors);
    /* a refused deploy does not become the rollback target either */
    ASSERT_EQ(DT_ERR_EMPTY, dt_rollback(e));
    dt_destroy(e);
    PASS();
}

TEST deploy_without_error_struct_returns_the_real_code(void) {
    const char *long_text = "level A = off # this comment makes the text longer than sixty-four bytes";
    const char *risky = "level A = debug for 1m when B";
    const char *unknown = "recorder r { record * where nofn(x) }";
    dt_desc d;
    dt_engine *e;
    memset(&d, 0, sizeof d);
    d.max_program_text = 64;
    d.max_risk = DT_RISK_LOW;
    e = dt_create(&d);
    ASSERT_EQ(DT_ERR_LIMIT, dt_deploy(e, long_text, strlen(long_text), NULL));
    ASSERT_EQ(DT_ERR_LIMIT, dt_check(e, long_text, strlen(long_text), NULL, NULL));
    ASSERT_EQ(DT_ERR_RISK, dt_deploy(e, risky, strlen(risky), NULL));
    ASSERT_EQ(DT_ERR_RISK, dt_check(e, risky, strlen(risky), NULL, NULL));
    ASSERT_EQ(DT_ERR_UNKNOWN, dt_check(e, unknown, strlen(unknown), NULL, NULL));
    ASSERT_EQ(2u, stats(e).deploy_errors);          /* dt_check is not a deploy */
    dt_destroy(e);
    PASS();
}

/* ---- rollback and undeploy ---------------------------------------------- */

TEST rollback_restores_previous_program_with_its_state(void) {
    cap c;
    dt_engine *e = make_engine(&c);
    dt_program_info info;
    const char *p1 = "recorder r { record * }";
    ASSERT_EQ(DT_ERR_EMPTY, dt_rollback(e));
    ASSERT_EQ(DT_OK, deploy(e, p1));
    emit(e, "A", DT_INFO, 1);
    emit(e, "B", DT_INFO, 2);
    ASSERT_EQ(DT_OK, deploy(e, "level C = off"));
    emit(e, "C", DT_INFO, 3);                       /* not seen by p1 */
    ASSERT_EQ(DT_ERR_UNKNOWN, dt_recorder_flush(e, "r", NULL));
    ASSERT_EQ(DT_OK, dt_rollback(e));
    ASSERT_EQ(DT_OK, dt_program(e, &info));
    ASSERT_EQ(1u, info.version);
    ASSERT_EQ_FMT((unsigned long long)ref_fnv1a(p1), (unsigned long long)info.hash, "0x%016llx");
    emit(e, "C", DT_INFO, 4);
    ASSERT_STR_EQ("A@1,B@2,C@4,", c.events);
    ASSERT_EQ(DT_OK, dt_recorder_flush(e, "r", NULL));
    ASSERT_STR_EQ("r:A,B,C,;", c.dumps);
    /* one step back only */
    ASSERT_EQ(DT_ERR_EMPTY, dt_rollback(e));
    ASSERT_EQ(DT_OK, dt_program(e, &info));
    ASSERT_EQ(1u, info.version);
    /* a new deploy continues the version count */
    ASSERT_EQ(DT_OK, deploy(e, "level D = off"));
    ASSERT_EQ(DT_OK, dt_program(e, &info));
    ASSERT_EQ(3u, info.version);
    dt_destroy(e);
    PASS();
}

TEST undeploy_passes_events_and_can_be_rolled_back(void) {
    cap c;
    dt_engine *e = make_engine(&c);
    dt_program_info info;
    ASSERT_EQ(DT_ERR_EMPTY, dt_undeploy(e));
    ASSERT_EQ(DT_OK, deploy(e, "level A = off"));
    ASSERT_EQ(DT_OK, dt_undeploy(e));
    ASSERT_EQ(DT_ERR_EMPTY, dt_program(e, &info));
    ASSERT_EQ(DT_ERR_EMPTY, dt_undeploy(e));
    emit(e, "A", DT_INFO, 1);
    emit(e, "A", DT_DEBUG, 2);                      /* the default threshold again */
    ASSERT_STR_EQ("A@1,", c.events);
    ASSERT_EQ(DT_OK, dt_rollback(e));
    ASSERT_EQ(DT_OK, dt_program(e, &info));
    ASSERT_EQ(1u, info.version);
    emit(e, "A", DT_INFO, 3);
    ASSERT_STR_EQ("A@1,", c.events);
    dt_destroy(e);
    PASS();
}

/* ---- the rip cord ------------------------------------------------------- */

TEST ripcord_passes_events_as_if_no_program(void) {
    cap c;
    dt_engine *e = make_engine(&c);
    ASSERT_EQ(DT_OK, deploy(e, "level X = off\nlevel Dbg = debug\nrecorder r { record * }"));
    ASSERT_EQ(0, dt_ripcord_pulled(e));
    emit(e, "X", DT_INFO, 1);
    emit(e, "Dbg", DT_DEBUG, 2);
    ASSERT_STR_EQ("Dbg@2,", c.events);
    dt_ripcord(e, 1);
    ASSERT_EQ(1, dt_ripcord_pulled(e));
    emit(e, "X", DT_INFO, 3);                       /* no longer dropped */
    emit(e, "Dbg", DT_DEBUG, 4);                    /* default threshold: filtered */
    emit(e, "Y", DT_INFO, 5);
    ASSERT_STR_EQ("Dbg@2,X@3,Y@5,", c.events);
    dt_ripcord(e, 0);
    ASSERT_EQ(0, dt_ripcord_pulled(e));
    emit(e, "X", DT_INFO, 6);
    emit(e, "Z", DT_INFO, 7);
    ASSERT_STR_EQ("Dbg@2,X@3,Y@5,Z@7,", c.events);
    /* the recorder saw nothing while the cord was pulled */
    ASSERT_EQ(DT_OK, dt_recorder_flush(e, "r", NULL));
    ASSERT_STR_EQ("r:X,Dbg,X,Z,;", c.dumps);
    ASSERT_EQ(1u, stats(e).deploys);
    dt_destroy(e);
    PASS();
}

TEST ripcord_stops_triggers(void) {
    cap c;
    dt_engine *e = make_engine(&c);
    ASSERT_EQ(DT_OK, deploy(e, "level Dbg = debug for 5m when Err"));
    dt_ripcord(e, 1);
    emit(e, "Err", DT_ERROR, T0);
    ASSERT_STR_EQ("", c.actions);
    dt_ripcord(e, 0);
    emit(e, "Dbg", DT_DEBUG, T0 + 1);
    ASSERT_STR_EQ("Err@1000000000000,", c.events);
    dt_destroy(e);
    PASS();
}

/* ---- timed verbosity ---------------------------------------------------- */

TEST boost_applies_at_deploy_and_expires_on_tick(void) {
    cap c;
    dt_engine *e = make_engine(&c);
    char expect[128];
    ASSERT_EQ(DT_OK, deploy(e, "level Dbg = debug for 5m"));
    snprintf(expect, sizeof expect, "set_level(Dbg,debug,%lld)@%lld,", (long long)(5 * MIN), (long long)T0);
    ASSERT_STR_EQ(expect, c.actions);
    emit(e, "Dbg", DT_DEBUG, 0);                    /* stamped T0 */
    emit(e, "Other", DT_DEBUG, 0);
    c.now = T0 + 5 * MIN - 1;
    emit(e, "Dbg", DT_DEBUG, 0);
    emit(e, "Dbg", DT_DEBUG, T0 + 5 * MIN);         /* the end is exclusive */
    snprintf(expect, sizeof expect, "Dbg@%lld,Dbg@%lld,", (long long)T0, (long long)(T0 + 5 * MIN - 1));
    ASSERT_STR_EQ(expect, c.events);
    /* until the tick, an event stamped inside the window still passes */
    clear(&c);
    emit(e, "Dbg", DT_DEBUG, T0 + 1);
    ASSERT_STR_EQ("Dbg@1000000000001,", c.events);
    dt_tick(e, T0 + 5 * MIN);
    emit(e, "Dbg", DT_DEBUG, T0 + 2);               /* the change is gone */
    emit(e, "Dbg", DT_INFO, T0 + 3);
    ASSERT_STR_EQ("Dbg@1000000000001,Dbg@1000000000003,", c.events);
    dt_destroy(e);
    PASS();
}

TEST boost_starts_at_the_latest_tick_when_clock_lags(void) {
    cap c;
    dt_engine *e = make_engine(&c);
    char expect[128];
    dt_tick(e, T0 + 10 * SEC);                      /* replay time ahead of the clock */
    ASSERT_EQ(DT_OK, deploy(e, "level Dbg* = trace for 1m"));
    snprintf(expect, sizeof expect, "set_level(Dbg*,trace,%lld)@%lld,", (long long)MIN, (long long)(T0 + 10 * SEC));
    ASSERT_STR_EQ(expect, c.actions);
    emit(e, "DbgA", DT_TRACE, T0 + 70 * SEC - 1);
    emit(e, "DbgB", DT_TRACE, T0 + 70 * SEC);
    ASSERT_STR_EQ("DbgA@1069999999999,", c.events);
    dt_destroy(e);
    PASS();
}

TEST triggered_boost_covers_exactly_t_to_t_plus_5m(void) {
    cap c;
    dt_engine *e = make_engine(&c);
    const int64_t t = T0 + 30 * SEC;
    char expect[256];
    ASSERT_EQ(DT_OK, deploy(e, "level Dbg* = debug for 5m when * where level >= error"));
    dt_tick(e, t - SEC);
    emit(e, "DbgNet", DT_DEBUG, t - 1);             /* before the trigger */
    emit(e, "Warn", DT_WARN, t - 1);                /* not a trigger */
    ASSERT_STR_EQ("", c.actions);
    emit(e, "Err", DT_ERROR, t);
    snprintf(expect, sizeof expect, "set_level(Dbg*,debug,%lld)@%lld!,", (long long)(5 * MIN), (long long)t);
    ASSERT_STR_EQ(expect, c.actions);
    emit(e, "DbgNet", DT_DEBUG, t);
    emit(e, "Other", DT_DEBUG, t + 1);              /* not the named component */
    dt_tick(e, t + 5 * MIN - 1);
    emit(e, "DbgDisk", DT_DEBUG, t + 5 * MIN - 1);
    emit(e, "DbgTrace", DT_TRACE, t + 5 * MIN - 1); /* below the new level */
    dt_tick(e, t + 5 * MIN);
    emit(e, "DbgNet", DT_DEBUG, t + 5 * MIN);
    snprintf(expect, sizeof expect, "Warn@%lld,Err@%lld,DbgNet@%lld,DbgDisk@%lld,", (long long)(t - 1), (long long)t,
             (long long)t, (long long)(t + 5 * MIN - 1));
    ASSERT_STR_EQ(expect, c.events);
    dt_destroy(e);
    PASS();
}

TEST triggered_boost_is_extended_by_a_later_trigger(void) {
    cap c;
    dt_engine *e = make_engine(&c);
    const int64_t t = T0 + 30 * SEC;
    ASSERT_EQ(DT_OK, deploy(e, "level Dbg = debug for 1m when Err"));
    emit(e, "Err", DT_ERROR, t);
    emit(e, "Err", DT_ERROR, t + 30 * SEC);
    c.events[0] = 0;
    emit(e, "Dbg", DT_DEBUG, t + 89 * SEC);
    emit(e, "Dbg", DT_DEBUG, t + 90 * SEC);
    ASSERT_STR_EQ("Dbg@1119000000000,", c.events);
    dt_destroy(e);
    PASS();
}

TEST trigger_where_uses_event_fields(void) {
    cap c;
    dt_engine *e = make_engine(&c);
    dt_field f[1];
    dt_event ev;
    ASSERT_EQ(DT_OK, deploy(e, "level Dbg = debug for 1m when LogEnqueueWork where depth > 10000"));
    memset(&ev, 0, sizeof ev);
    ev.name = dt_cstr("LogEnqueueWork");
    ev.level = DT_INFO;
    ev.fields = f;
    ev.nfields = 1;
    ev.ts = T0 + 1;
    f[0] = DT_I64("depth", 10000);
    dt_emit(e, &ev);
    ASSERT_STR_EQ("", c.actions);
    ev.ts = T0 + 2;
    f[0] = DT_I64("depth", 10001);
    dt_emit(e, &ev);
    ASSERT_STR_EQ("set_level(Dbg,debug,60000000000)@1000000000002!,", c.actions);
    dt_destroy(e);
    PASS();
}

TEST boost_does_not_reach_back_before_its_trigger(void) {
    cap c;
    dt_engine *e;
    const int64_t t = T0 + 30 * SEC;
    e = make_engine(&c);
    ASSERT_EQ(DT_OK, deploy(e, "level Dbg = debug for 5m when Err"));
    emit(e, "Err", DT_ERROR, t);
    emit(e, "Dbg", DT_DEBUG, t - 1);                /* late, from another thread */
    ASSERT_STR_EQ("Err@1030000000000,", c.events);
    dt_destroy(e);
    PASS();
}

TEST undeploy_ends_timed_level_changes(void) {
    cap c;
    dt_engine *e;
    e = make_engine(&c);
    ASSERT_EQ(DT_OK, deploy(e, "level Dbg = debug for 5m"));
    ASSERT_EQ(DT_OK, dt_undeploy(e));
    emit(e, "Dbg", DT_DEBUG, T0 + 1);
    ASSERT_STR_EQ("", c.events);
    dt_destroy(e);
    PASS();
}

SUITE(programs) {
    RUN_TEST(deploy_replaces_the_running_program);
    RUN_TEST(deploy_numbers_versions_and_reports_program_info);
    RUN_TEST(check_compiles_without_deploying);
    RUN_TEST(failed_deploy_keeps_old_program_and_its_state);
    RUN_TEST(deploy_without_error_struct_returns_the_real_code);
    RUN_TEST(rollback_restores_previous_program_with_its_state);
    RUN_TEST(undeploy_passes_events_and_can_be_rolled_back);
    RUN_TEST(ripcord_passes_events_as_if_no_program);
    RUN_TEST(ripcord_stops_triggers);
    RUN_TEST(boost_applies_at_deploy_and_expires_on_tick);
    RUN_TEST(boost_starts_at_the_latest_tick_when_clock_lags);
    RUN_TEST(triggered_boost_covers_exactly_t_to_t_plus_5m);
    RUN_TEST(triggered_boost_is_extended_by_a_later_trigger);
    RUN_TEST(trigger_where_uses_event_fields);
    RUN_TEST(boost_does_not_reach_back_before_its_trigger);
    RUN_TEST(undeploy_ends_timed_level_changes);
}
