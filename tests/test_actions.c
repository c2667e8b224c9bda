/* Actions: the action table, host invocation, rate limits, deferral to
 * dt_poll, the built-in actions, re-entrancy rules and the risk policy of
 * host functions. Time is a fake clock driven by the tests. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "greatest.h"
#include "dt.h"
#include "support.h"

/* ---- capture: action calls, audit records, events, dumps -------------- */
typedef struct act_rec {
    char action[32];
    char args[256];          /* formatted: a,b,c */
    uint32_t nargs;
    size_t len0;             /* length of a string first argument */
    int deferred, suppressed, has_trigger;
    int64_t ts;
} act_rec;

typedef struct act_cap {
    act_rec runs[16];        /* what host action callbacks saw */
    int nruns;
    act_rec audit[16];       /* what the action sink saw */
    int naudit;
    char events[16][160];    /* exported events, formatted */
    int nevents;
    char dumps[8][512];      /* dumps, decoded and formatted */
    int ndumps;
    dt_engine *e;            /* for sinks that call back into the engine */
    int sink_deploy_rc, action_deploy_rc;
    int fn_calls;
} act_cap;

static act_cap cap;
static int64_t fake_now;

/* "Name@level{a=1,b="x"}" */
static void act_fmt_event(char *out, size_t size, const dt_event *ev) { sup_fmt_event(out, size, ev, 0); }

static void act_fmt_args(char *out, size_t size, const dt_value *args, uint32_t n) {
    uint32_t i;
    size_t at = 0;
    out[0] = 0;
    for (i = 0; i < n; i++) {
        char v[96];
        sup_fmt_value(v, sizeof v, &args[i], 0);
        if (i) at = sup_put(out, size, at, ",");
        at = sup_put(out, size, at, v);
    }
}

static void act_rec_fill(act_rec *r, const dt_action_call *c) {
    snprintf(r->action, sizeof r->action, "%s", c->action);
    act_fmt_args(r->args, sizeof r->args, c->args, c->nargs);
    r->nargs = c->nargs;
    r->len0 = (c->nargs && (c->args[0].type == DT_TYPE_STR || c->args[0].type == DT_TYPE_BYTES)) ? c->args[0].as.str.len : 0;
    r->deferred = c->deferred;
    r->suppressed = c->suppressed;
    r->has_trigger = c->trigger != NULL;
    r->ts = c->ts;
}

static void act_on_audit(const dt_action_call *c, void *ud) {
    act_cap *k = (act_cap *)ud;
    if (k->naudit < 16) act_rec_fill(&k->audit[k->naudit++], c);
}

static void act_on_event(const dt_event *ev, void *ud) {
    act_cap *k = (act_cap *)ud;
    if (k->nevents < 16) act_fmt_event(k->events[k->nevents++], sizeof k->events[0], ev);
}

/* A sink that tries to deploy from inside the engine's read section. */
static void act_on_event_deploying(const dt_event *ev, void *ud) {
    act_cap *k = (act_cap *)ud;
    static const char prog[] = "level Zed = off";
    act_on_event(ev, ud);
    k->sink_deploy_rc = dt_deploy(k->e, prog, sizeof prog - 1, NULL);
}

static void act_dump_record(const dt_event *ev, void *ud) {
    sup_text *f = (sup_text *)ud;
    char buf[160];
    act_fmt_event(buf, sizeof buf, ev);
    f->at = sup_put(f->out, f->size, f->at, " ");
    f->at = sup_put(f->out, f->size, f->at, buf);
}

/* Joins the chunks and decodes them: "rec/key n=2 ow=0: A@debug{..} ...". */
static void act_on_dump(const dt_dump *d, void *ud) {
    act_cap *k = (act_cap *)ud;
    uint8_t bytes[4096];
    size_t len;
    sup_text f;
    if (k->ndumps >= 8) return;
    if (!sup_join_dump(d, bytes, sizeof bytes, &len)) return;
    if (sup_dump_text(bytes, len, act_dump_record, &f, k->dumps[k->ndumps++], sizeof k->dumps[0]) != DT_OK)
        (void)sup_put(f.out, f.size, f.at, " <undecodable>");
}

/* Host action: records what it was called with. */
static void act_host(dt_engine *e, const dt_action_call *c, void *ud) {
    act_cap *k = (act_cap *)ud;
    (void)e;
    if (k->nruns < 16) act_rec_fill(&k->runs[k->nruns++], c);
}

/* Host action that deploys a program: allowed, it runs outside the read
 * section. */
static void act_host_deploying(dt_engine *e, const dt_action_call *c, void *ud) {
    act_cap *k = (act_cap *)ud;
    static const char prog[] = "level Quiet = off";
    act_host(e, c, ud);
    k->action_deploy_rc = dt_deploy(e, prog, sizeof prog - 1, NULL);
}

static void act_desc(dt_desc *d) {
    memset(d, 0, sizeof *d);
    d->clock.now = sup_clock;
    d->clock.user_data = &fake_now;
    d->sinks.event = act_on_event;
    d->sinks.action = act_on_audit;
    d->sinks.dump = act_on_dump;
    d->sinks.user_data = &cap;
    d->self_interval_ns = -1;
}

static dt_engine *act_engine(void) {
    dt_desc d;
    act_desc(&d);
    return dt_create(&d);
}

static void act_reset(int64_t now) {
    memset(&cap, 0, sizeof cap);
    fake_now = now;
}

static dt_action_desc act_host_desc(const char *name) {
    dt_action_desc a;
    memset(&a, 0, sizeof a);
    a.name = name;
    a.fn = act_host;
    a.user_data = &cap;
    a.max_args = DT_MAX_ACTION_ARGS;
    return a;
}

static dt_value act_s(const char *s) { dt_value v; v.type = DT_TYPE_STR; v.as.str = dt_cstr(s); return v; }
static dt_value act_i(int64_t i) { dt_value v; v.type = DT_TYPE_I64; v.as.i64 = i; return v; }

static void act_emit(dt_engine *e, const char *name, int level, const dt_field *f, uint32_t n) {
    sup_emit_fields(e, name, level, 0, 0, f, n);
}

#define SEC ((int64_t)1000000000)

/* ---- registration ----------------------------------------------------- */
TEST action_register_copies_the_name(void) {
    dt_engine *e;
    char name[16];
    dt_action_desc a;
    act_reset(SEC);
    e = act_engine();
    ASSERT(e != NULL);
    strcpy(name, "memory_dump");
    a = act_host_desc(name);
    ASSERT_EQ(DT_OK, dt_action_register(e, &a));
    strcpy(name, "overwritten");
    ASSERT_EQ(DT_OK, dt_action_invoke(e, "memory_dump", NULL, 0));
    ASSERT_EQ(DT_ERR_UNKNOWN, dt_action_invoke(e, "overwritten", NULL, 0));
    ASSERT_EQ(1, cap.nruns);
    ASSERT_STR_EQ("memory_dump", cap.runs[0].action);
    dt_destroy(e);
    PASS();
}

TEST action_register_refuses_taken_names_including_builtins(void) {
    static const char *const builtins[] = {"set_level", "enable", "disable", "flush", "discard", "emit"};
    dt_engine *e;
    dt_action_desc a;
    size_t i;
    act_reset(SEC);
    e = act_engine();
    ASSERT(e != NULL);
    for (i = 0; i < sizeof builtins / sizeof builtins[0]; i++) {
        a = act_host_desc(builtins[i]);
        ASSERT_EQm(builtins[i], DT_ERR_EXISTS, dt_action_register(e, &a));
    }
    a = act_host_desc("cpu_sample");
    ASSERT_EQ(DT_OK, dt_action_register(e, &a));
    ASSERT_EQ(DT_ERR_EXISTS, dt_action_register(e, &a));
    /* the built-in still answers as the built-in: emit makes an event */
    {
        dt_value args[2];
        args[0] = act_s("Still");
        args[1] = act_s("info");
        ASSERT_EQ(DT_OK, dt_action_invoke(e, "emit", args, 2));
    }
    ASSERT_EQ(0, cap.nruns);
    ASSERT_EQ(1, cap.nevents);
    ASSERT_STR_EQ("Still@info{}", cap.events[0]);
    dt_destroy(e);
    PASS();
}

TEST action_register_refuses_invalid_descs(void) {
    dt_engine *e;
    dt_action_desc a;
    char longname[DT_MAX_NAME + 2];
    act_reset(SEC);
    e = act_engine();
    ASSERT(e != NULL);
    a = act_host_desc("ok");
    ASSERT_EQ(DT_ERR_INVALID, dt_action_register(NULL, &a));
    ASSERT_EQ(DT_ERR_INVALID, dt_action_register(e, NULL));
    a = act_host_desc(NULL);
    ASSERT_EQ(DT_ERR_INVALID, dt_action_register(e, &a));
    a = act_host_desc("");
    ASSERT_EQ(DT_ERR_INVALID, dt_action_register(e, &a));
    a = act_host_desc("nofn");
    a.fn = NULL;
    ASSERT_EQ(DT_ERR_INVALID, dt_action_register(e, &a));
    memset(longname, 'a', sizeof longname - 1);
    longname[sizeof longname - 1] = 0;                     /* DT_MAX_NAME + 1 bytes */
    a = act_host_desc(longname);
    ASSERT_EQ(DT_ERR_INVALID, dt_action_register(e, &a));
    a = act_host_desc("minmax");
    a.min_args = 3;
    a.max_args = 2;
    ASSERT_EQ(DT_ERR_INVALID, dt_action_register(e, &a));
    a = act_host_desc("toomany");
    a.max_args = DT_MAX_ACTION_ARGS + 1;
    ASSERT_EQ(DT_ERR_INVALID, dt_action_register(e, &a));
    a = act_host_desc("nowindow");
    a.rate_count = 1;
    a.rate_window_ns = 0;
    ASSERT_EQ(DT_ERR_INVALID, dt_action_register(e, &a));
    a.rate_window_ns = -SEC;
    ASSERT_EQ(DT_ERR_INVALID, dt_action_register(e, &a));
    /* none of them was registered; the longest legal name is */
    ASSERT_EQ(DT_ERR_UNKNOWN, dt_action_invoke(e, "nowindow", NULL, 0));
    longname[DT_MAX_NAME] = 0;
    a = act_host_desc(longname);
    ASSERT_EQ(DT_OK, dt_action_register(e, &a));
    ASSERT_EQ(DT_OK, dt_action_invoke(e, longname, NULL, 0));
    ASSERT_EQ(1, cap.nruns);
    dt_destroy(e);
    PASS();
}

/* The table holds the six built-ins too: max_actions 8 leaves two slots. */
TEST action_register_reports_limit_when_table_full(void) {
    dt_desc d;
    dt_engine *e;
    dt_action_desc a;
    act_reset(SEC);
    act_desc(&d);
    d.max_actions = 8;
    e = dt_create(&d);
    ASSERT(e != NULL);
    a = act_host_desc("one");
    ASSERT_EQ(DT_OK, dt_action_register(e, &a));
    a = act_host_desc("two");
    ASSERT_EQ(DT_OK, dt_action_register(e, &a));
    a = act_host_desc("three");
    ASSERT_EQ(DT_ERR_LIMIT, dt_action_register(e, &a));
    ASSERT_EQ(DT_ERR_UNKNOWN, dt_action_invoke(e, "three", NULL, 0));
    ASSERT_EQ(DT_OK, dt_action_invoke(e, "two", NULL, 0));
    dt_destroy(e);
    PASS();
}

/* ---- invocation ------------------------------------------------------- */
TEST action_invoke_runs_inline_with_args_and_audits_the_call(void) {
    dt_engine *e;
    dt_action_desc a;
    dt_value args[5];
    dt_stats st;
    act_reset(42 * SEC);
    e = act_engine();
    ASSERT(e != NULL);
    a = act_host_desc("memory_dump");
    a.min_args = 1;
    a.max_args = 5;
    ASSERT_EQ(DT_OK, dt_action_register(e, &a));
    args[0] = act_s("heap");
    args[1] = act_i(-3);
    args[2].type = DT_TYPE_U64;
    args[2].as.u64 = UINT64_MAX;
    args[3].type = DT_TYPE_BOOL;
    args[3].as.b = 1;
    args[4].type = DT_TYPE_F64;
    args[4].as.f64 = 2.5;
    ASSERT_EQ(DT_OK, dt_action_invoke(e, "memory_dump", args, 5));
    ASSERT_EQ(1, cap.nruns);
    ASSERT_STR_EQ("memory_dump", cap.runs[0].action);
    ASSERT_STR_EQ("\"heap\",-3,18446744073709551615,true,2.5", cap.runs[0].args);
    ASSERT_EQ(0, cap.runs[0].deferred);
    ASSERT_EQ(0, cap.runs[0].suppressed);
    ASSERT_EQ(0, cap.runs[0].has_trigger);
    ASSERT_EQ(42 * SEC, cap.runs[0].ts);
    ASSERT_EQ(1, cap.naudit);
    ASSERT_STR_EQ("memory_dump", cap.audit[0].action);
    ASSERT_STR_EQ("\"heap\",-3,18446744073709551615,true,2.5", cap.audit[0].args);
    ASSERT_EQ(5u, cap.audit[0].nargs);
    ASSERT_EQ(0, cap.audit[0].deferred);
    ASSERT_EQ(0, cap.audit[0].suppressed);
    ASSERT_EQ(42 * SEC, cap.audit[0].ts);
    /* refusals: unknown name, args NULL with a count, count outside min/max */
    ASSERT_EQ(DT_ERR_UNKNOWN, dt_action_invoke(e, "no_such_action", NULL, 0));
    ASSERT_EQ(DT_ERR_INVALID, dt_action_invoke(e, "memory_dump", NULL, 1));
    ASSERT_EQ(DT_ERR_INVALID, dt_action_invoke(NULL, "memory_dump", args, 1));
    ASSERT_EQ(DT_ERR_INVALID, dt_action_invoke(e, NULL, args, 1));
    ASSERT_EQ(DT_ERR_INVALID, dt_action_invoke(e, "memory_dump", args, 0));
    ASSERT_EQ(1, cap.nruns);
    ASSERT_EQ(1, cap.naudit);
    dt_get_stats(e, &st);
    ASSERT_EQ(1u, st.actions_fired);
    ASSERT_EQ(1u, st.rule_errors);
    dt_destroy(e);
    PASS();
}

TEST rate_limit_suppresses_third_call_in_window_and_resets_after_it(void) {
    dt_engine *e;
    dt_action_desc a;
    dt_stats st;
    const int64_t t0 = 100 * SEC;
    act_reset(t0);
    e = act_engine();
    ASSERT(e != NULL);
    a = act_host_desc("cpu_sample");
    a.rate_count = 2;
    a.rate_window_ns = SEC;
    ASSERT_EQ(DT_OK, dt_action_register(e, &a));
    ASSERT_EQ(DT_OK, dt_action_invoke(e, "cpu_sample", NULL, 0));
    fake_now = t0 + SEC / 10;
    ASSERT_EQ(DT_OK, dt_action_invoke(e, "cpu_sample", NULL, 0));
    fake_now = t0 + SEC / 5;
    ASSERT_EQ(DT_ERR_LIMIT, dt_action_invoke(e, "cpu_sample", NULL, 0));
    fake_now = t0 + SEC - 1;                         /* still inside [t0, t0+1s) */
    dt_tick(e, fake_now);
    ASSERT_EQ(DT_ERR_LIMIT, dt_action_invoke(e, "cpu_sample", NULL, 0));
    ASSERT_EQ(2, cap.nruns);
    ASSERT_EQ(4, cap.naudit);
    ASSERT_EQ(0, cap.audit[0].suppressed);
    ASSERT_EQ(0, cap.audit[1].suppressed);
    ASSERT_EQ(1, cap.audit[2].suppressed);
    ASSERT_EQ(t0 + SEC / 5, cap.audit[2].ts);
    ASSERT_EQ(1, cap.audit[3].suppressed);
    dt_get_stats(e, &st);
    ASSERT_EQ(2u, st.actions_fired);
    ASSERT_EQ(2u, st.actions_suppressed);
    /* the window has passed: ticking alone moves engine time */
    dt_tick(e, t0 + SEC);
    ASSERT_EQ(DT_OK, dt_action_invoke(e, "cpu_sample", NULL, 0));
    ASSERT_EQ(3, cap.nruns);
    ASSERT_EQ(t0 + SEC, cap.runs[2].ts);
    ASSERT_EQ(DT_OK, dt_action_invoke(e, "cpu_sample", NULL, 0));
    ASSERT_EQ(DT_ERR_LIMIT, dt_action_invoke(e, "cpu_sample", NULL, 0));
    dt_get_stats(e, &st);
    ASSERT_EQ(4u, st.actions_fired);
    ASSERT_EQ(3u, st.actions_suppressed);
    dt_destroy(e);
    PASS();
}

TEST deferred_action_waits_for_poll_with_its_strings_copied(void) {
    dt_engine *e;
    dt_action_desc a;
    dt_value args[2];
    char buf[16];
    dt_stats st;
    act_reset(7 * SEC);
    e = act_engine();
    ASSERT(e != NULL);
    a = act_host_desc("collect");
    a.deferred = 1;
    ASSERT_EQ(DT_OK, dt_action_register(e, &a));
    strcpy(buf, "hello");
    args[0] = act_s(buf);
    args[1].type = DT_TYPE_BYTES;
    args[1].as.str = dt_strn(buf + 1, 3);
    ASSERT_EQ(DT_OK, dt_action_invoke(e, "collect", args, 2));
    ASSERT_EQ(0, cap.nruns);
    ASSERT_EQ(0, cap.naudit);
    memset(buf, 'X', sizeof buf - 1);                 /* the caller reuses its buffer */
    fake_now = 9 * SEC;
    ASSERT_EQ(1, dt_poll(e));
    ASSERT_EQ(1, cap.nruns);
    ASSERT_STR_EQ("\"hello\",0x656c6c", cap.runs[0].args);
    ASSERT_EQ(1, cap.runs[0].deferred);
    ASSERT_EQ(7 * SEC, cap.runs[0].ts);               /* time of the request, not of the poll */
    ASSERT_EQ(1, cap.naudit);
    ASSERT_EQ(1, cap.audit[0].deferred);
    ASSERT_EQ(0, cap.audit[0].suppressed);
    ASSERT_EQ(0, dt_poll(e));
    dt_get_stats(e, &st);
    ASSERT_EQ(1u, st.actions_fired);
    ASSERT_EQ(0u, st.actions_overflow);
    dt_destroy(e);
    PASS();
}

TEST deferred_queue_full_refuses_with_limit_and_counts_overflow(void) {
    dt_desc d;
    dt_engine *e;
    dt_action_desc a;
    dt_value v;
    dt_stats st;
    act_reset(SEC);
    act_desc(&d);
    d.max_pending = 2;
    e = dt_create(&d);
    ASSERT(e != NULL);
    a = act_host_desc("later");
    a.deferred = 1;
    ASSERT_EQ(DT_OK, dt_action_register(e, &a));
    v = act_i(1);
    ASSERT_EQ(DT_OK, dt_action_invoke(e, "later", &v, 1));
    v = act_i(2);
    ASSERT_EQ(DT_OK, dt_action_invoke(e, "later", &v, 1));
    v = act_i(3);
    ASSERT_EQ(DT_ERR_LIMIT, dt_action_invoke(e, "later", &v, 1));
    dt_get_stats(e, &st);
    ASSERT_EQ(1u, st.actions_overflow);
    ASSERT_EQ(0u, st.actions_fired);
    ASSERT_EQ(2, dt_poll(e));
    ASSERT_EQ(2, cap.nruns);
    ASSERT_STR_EQ("1", cap.runs[0].args);
    ASSERT_STR_EQ("2", cap.runs[1].args);
    /* room again once polled */
    v = act_i(4);
    ASSERT_EQ(DT_OK, dt_action_invoke(e, "later", &v, 1));
    ASSERT_EQ(1, dt_poll(e));
    ASSERT_STR_EQ("4", cap.runs[2].args);
    dt_destroy(e);
    PASS();
}

/* String arguments beyond DT_PENDING_ARG_BYTES cannot be kept for a
 * deferred call: refusing the call (counted) or delivering them whole are
 * both fine; cutting them short without a word is not. */
TEST deferred_action_never_truncates_string_args_silently(void) {
    dt_engine *e;
    dt_action_desc a;
    dt_value v;
    dt_stats st;
    char big[DT_PENDING_ARG_BYTES + 45];
    int rc;
    act_reset(SEC);
    e = act_engine();
    ASSERT(e != NULL);
    a = act_host_desc("later");
    a.deferred = 1;
    ASSERT_EQ(DT_OK, dt_action_register(e, &a));
    memset(big, 'z', sizeof big - 1);
    big[sizeof big - 1] = 0;
    v = act_s(big);
    rc = dt_action_invoke(e, "later", &v, 1);
    dt_get_stats(e, &st);
    if (rc == DT_OK) {
        ASSERT_EQ(1, dt_poll(e));
        ASSERT_EQ(1, cap.nruns);
        ASSERT_EQ(strlen(big), cap.runs[0].len0);              /* whole */
    } else {
        ASSERT_EQ(DT_ERR_LIMIT, rc);
        ASSERT_EQ(1u, st.actions_overflow);
        ASSERT_EQ(0, dt_poll(e));
    }
    dt_destroy(e);
    PASS();
}

/* ---- built-ins -------------------------------------------------------- */
TEST builtin_set_level_exports_debug_events_for_the_duration(void) {
    dt_engine *e;
    dt_value args[3];
    dt_stats st;
    const int64_t t0 = 1000 * SEC;
    act_reset(t0);
    e = act_engine();
    ASSERT(e != NULL);
    act_emit(e, "DbgLoad", DT_DEBUG, NULL, 0);            /* before: filtered */
    args[0] = act_s("Dbg*");
    args[1] = act_s("debug");
    args[2] = act_i(60 * SEC);
    ASSERT_EQ(DT_OK, dt_action_invoke(e, "set_level", args, 3));
    ASSERT_EQ(1, cap.naudit);
    ASSERT_STR_EQ("set_level", cap.audit[0].action);
    ASSERT_STR_EQ("\"Dbg*\",\"debug\",60000000000", cap.audit[0].args);
    fake_now = t0 + SEC;
    act_emit(e, "DbgLoad", DT_DEBUG, NULL, 0);            /* exported */
    act_emit(e, "Other", DT_DEBUG, NULL, 0);              /* not matched: filtered */
    act_emit(e, "DbgLoad", DT_TRACE, NULL, 0);            /* below debug: filtered */
    fake_now = t0 + 60 * SEC - 1;
    act_emit(e, "DbgLoad", DT_DEBUG, NULL, 0);            /* last nanosecond: exported */
    fake_now = t0 + 60 * SEC;
    act_emit(e, "DbgLoad", DT_DEBUG, NULL, 0);            /* window over, even before a tick */
    dt_tick(e, t0 + 60 * SEC);
    act_emit(e, "DbgLoad", DT_DEBUG, NULL, 0);            /* expired */
    act_emit(e, "DbgLoad", DT_INFO, NULL, 0);             /* info is exported as always */
    ASSERT_EQ(3, cap.nevents);
    ASSERT_STR_EQ("DbgLoad@debug{}", cap.events[0]);
    ASSERT_STR_EQ("DbgLoad@debug{}", cap.events[1]);
    ASSERT_STR_EQ("DbgLoad@info{}", cap.events[2]);
    dt_get_stats(e, &st);
    ASSERT_EQ(8u, st.events_in);
    ASSERT_EQ(3u, st.events_exported);
    ASSERT_EQ(5u, st.events_filtered);
    ASSERT_EQ(0u, st.rule_errors);
    dt_destroy(e);
    PASS();
}

TEST builtin_disable_stops_a_recorder_and_enable_resumes_it(void) {
    dt_engine *e;
    dt_value name;
    dt_field f;
    dt_stats st;
    act_reset(SEC);
    e = act_engine();
    ASSERT(e != NULL);
    ASSERT_EQ(DT_OK, deploy_noerr(e, "recorder rec { record Ev }"));
    name = act_s("rec");
    ASSERT_EQ(DT_OK, dt_action_invoke(e, "disable", &name, 1));
    f = dt_field_i64("i", 1);
    act_emit(e, "Ev", DT_DEBUG, &f, 1);
    dt_get_stats(e, &st);
    ASSERT_EQ(0u, st.recorder_records);
    ASSERT_EQ(DT_OK, dt_recorder_flush(e, "rec", NULL));
    ASSERT_EQ(0, cap.ndumps);
    ASSERT_EQ(DT_OK, dt_action_invoke(e, "enable", &name, 1));
    f = dt_field_i64("i", 2);
    act_emit(e, "Ev", DT_DEBUG, &f, 1);
    dt_get_stats(e, &st);
    ASSERT_EQ(1u, st.recorder_records);
    ASSERT_EQ(DT_OK, dt_recorder_flush(e, "rec", NULL));
    ASSERT_EQ(1, cap.ndumps);
    ASSERT_STR_EQ("rec/ n=1 ow=0: Ev@debug{i=2}", cap.dumps[0]);
    ASSERT_EQ(0u, st.rule_errors);
    dt_destroy(e);
    PASS();
}

static void act_step(dt_engine *e, const char *tx, int64_t i) {
    dt_field f[2];
    f[0] = dt_field_str("TransactionId", tx);
    f[1] = dt_field_i64("i", i);
    act_emit(e, "Step", DT_DEBUG, f, 2);
}

TEST builtin_flush_and_discard_work_by_name_and_by_key(void) {
    dt_engine *e;
    dt_value args[2];
    dt_stats st;
    act_reset(SEC);
    e = act_engine();
    ASSERT(e != NULL);
    ASSERT_EQ(DT_OK, deploy_noerr(e, "recorder tx { record Step by TransactionId }\n"
                                     "recorder plain { record Step }"));
    act_step(e, "T1", 1);
    act_step(e, "T2", 2);
    act_step(e, "T1", 3);
    args[0] = act_s("tx");
    args[1] = act_s("T1");
    ASSERT_EQ(DT_OK, dt_action_invoke(e, "flush", args, 2));
    ASSERT_EQ(1, cap.ndumps);
    ASSERT_STR_EQ("tx/T1 n=2 ow=0: Step@debug{TransactionId=\"T1\",i=1} Step@debug{TransactionId=\"T1\",i=3}",
                  cap.dumps[0]);
    args[1] = act_s("T2");
    ASSERT_EQ(DT_OK, dt_action_invoke(e, "discard", args, 2));
    ASSERT_EQ(1, cap.ndumps);
    ASSERT_EQ(DT_OK, dt_action_invoke(e, "flush", args, 1));    /* every key: all empty now */
    ASSERT_EQ(1, cap.ndumps);
    act_step(e, "T2", 4);
    ASSERT_EQ(DT_OK, dt_action_invoke(e, "flush", args, 1));
    ASSERT_EQ(2, cap.ndumps);
    ASSERT_STR_EQ("tx/T2 n=1 ow=0: Step@debug{TransactionId=\"T2\",i=4}", cap.dumps[1]);
    /* the unkeyed recorder saw all four */
    args[0] = act_s("plain");
    ASSERT_EQ(DT_OK, dt_action_invoke(e, "flush", args, 1));
    ASSERT_EQ(3, cap.ndumps);
    ASSERT_STR_EQ("plain/ n=4 ow=0: Step@debug{TransactionId=\"T1\",i=1} Step@debug{TransactionId=\"T2\",i=2} "
                  "Step@debug{TransactionId=\"T1\",i=3} Step@debug{TransactionId=\"T2\",i=4}", cap.dumps[2]);
    act_step(e, "T3", 5);
    ASSERT_EQ(DT_OK, dt_action_invoke(e, "discard", args, 1));
    ASSERT_EQ(DT_OK, dt_action_invoke(e, "flush", args, 1));
    ASSERT_EQ(3, cap.ndumps);
    dt_get_stats(e, &st);
    ASSERT_EQ(3u, st.recorder_dumps);
    ASSERT_EQ(0u, st.rule_errors);
    dt_destroy(e);
    PASS();
}

TEST builtin_emit_exports_a_new_event(void) {
    dt_engine *e;
    dt_value args[4];
    dt_stats st;
    act_reset(5 * SEC);
    e = act_engine();
    ASSERT(e != NULL);
    args[0] = act_s("Made");
    args[1] = act_s("warn");
    args[2] = act_s("k");
    args[3] = act_i(5);
    ASSERT_EQ(DT_OK, dt_action_invoke(e, "emit", args, 4));
    ASSERT_EQ(1, cap.nevents);
    ASSERT_STR_EQ("Made@warn{k=5}", cap.events[0]);
    args[1] = act_i(DT_DEBUG);                              /* numeric level: below export */
    ASSERT_EQ(DT_OK, dt_action_invoke(e, "emit", args, 4));
    ASSERT_EQ(1, cap.nevents);
    dt_get_stats(e, &st);
    ASSERT_EQ(2u, st.events_in);
    ASSERT_EQ(1u, st.events_exported);
    ASSERT_EQ(1u, st.events_filtered);
    ASSERT_EQ(2u, st.actions_fired);
    dt_destroy(e);
    PASS();
}

TEST builtin_with_wrong_arguments_counts_rule_errors(void) {
    dt_engine *e;
    dt_value a[4];
    dt_stats st;
    act_reset(SEC);
    e = act_engine();
    ASSERT(e != NULL);
    /* wrong count: refused before running */
    a[0] = act_s("X");
    a[1] = act_s("debug");
    ASSERT_EQ(DT_ERR_INVALID, dt_action_invoke(e, "set_level", a, 2));
    ASSERT_EQ(DT_ERR_INVALID, dt_action_invoke(e, "emit", a, 1));
    ASSERT_EQ(DT_ERR_INVALID, dt_action_invoke(e, "enable", a, 2));
    ASSERT_EQ(DT_ERR_INVALID, dt_action_invoke(e, "flush", a, 0));
    /* wrong types or values: the built-in counts and does nothing */
    a[0] = act_s("X"); a[1] = act_s("loud"); a[2] = act_i(SEC);
    ASSERT_EQ(DT_OK, dt_action_invoke(e, "set_level", a, 3));
    a[0] = act_i(5); a[1] = act_s("debug");
    ASSERT_EQ(DT_OK, dt_action_invoke(e, "set_level", a, 3));
    a[0] = act_s("X"); a[2] = act_i(0);
    ASSERT_EQ(DT_OK, dt_action_invoke(e, "set_level", a, 3));
    a[2] = act_s("1s");
    ASSERT_EQ(DT_OK, dt_action_invoke(e, "set_level", a, 3));
    a[0] = act_s("nosuch");
    ASSERT_EQ(DT_OK, dt_action_invoke(e, "enable", a, 1));
    a[0] = act_i(1);
    ASSERT_EQ(DT_OK, dt_action_invoke(e, "disable", a, 1));
    a[0] = act_s("nosuch");
    ASSERT_EQ(DT_OK, dt_action_invoke(e, "flush", a, 1));
    a[1] = act_s("key");
    ASSERT_EQ(DT_OK, dt_action_invoke(e, "discard", a, 2));
    a[0] = act_i(5); a[1] = act_s("warn");
    ASSERT_EQ(DT_OK, dt_action_invoke(e, "emit", a, 2));
    a[0] = act_s("M"); a[1] = act_s("loud");
    ASSERT_EQ(DT_OK, dt_action_invoke(e, "emit", a, 2));
    a[1] = act_s("warn"); a[2] = act_i(7); a[3] = act_i(1);
    ASSERT_EQ(DT_OK, dt_action_invoke(e, "emit", a, 4));
    dt_get_stats(e, &st);
    ASSERT_EQ(15u, st.rule_errors);
    ASSERT_EQ(0u, st.events_in);
    ASSERT_EQ(0, cap.nevents);
    /* no level change was made: X at debug stays filtered */
    act_emit(e, "X", DT_DEBUG, NULL, 0);
    ASSERT_EQ(0, cap.nevents);
    dt_destroy(e);
    PASS();
}

TEST builtin_emit_with_a_dangling_field_name_counts_a_rule_error(void) {
    dt_engine *e;
    dt_value a[3];
    dt_stats st;
    act_reset(SEC);
    e = act_engine();
    ASSERT(e != NULL);
    a[0] = act_s("M");
    a[1] = act_s("warn");
    a[2] = act_s("k");
    (void)dt_action_invoke(e, "emit", a, 3);
    dt_get_stats(e, &st);
    ASSERT_EQ(1u, st.rule_errors);
    ASSERT_EQ(0, cap.nevents);
    dt_destroy(e);
    PASS();
}

/* ---- re-entrancy ------------------------------------------------------ */
TEST host_action_may_deploy_because_it_runs_outside_the_read_section(void) {
    dt_engine *e;
    dt_action_desc a;
    dt_program_info info;
    act_reset(SEC);
    e = act_engine();
    ASSERT(e != NULL);
    cap.action_deploy_rc = 99;
    a = act_host_desc("reconfigure");
    a.fn = act_host_deploying;
    ASSERT_EQ(DT_OK, dt_action_register(e, &a));
    ASSERT_EQ(DT_OK, dt_action_invoke(e, "reconfigure", NULL, 0));
    ASSERT_EQ(DT_OK, cap.action_deploy_rc);
    ASSERT_EQ(DT_OK, dt_program(e, &info));
    ASSERT_EQ(1u, info.version);
    act_emit(e, "Quiet", DT_INFO, NULL, 0);
    ASSERT_EQ(0, cap.nevents);
    /* the same from dt_poll for a deferred action */
    a = act_host_desc("reconfigure_later");
    a.fn = act_host_deploying;
    a.deferred = 1;
    cap.action_deploy_rc = 99;
    ASSERT_EQ(DT_OK, dt_action_register(e, &a));
    ASSERT_EQ(DT_OK, dt_action_invoke(e, "reconfigure_later", NULL, 0));
    ASSERT_EQ(99, cap.action_deploy_rc);
    ASSERT_EQ(1, dt_poll(e));
    ASSERT_EQ(DT_OK, cap.action_deploy_rc);
    ASSERT_EQ(DT_OK, dt_program(e, &info));
    ASSERT_EQ(2u, info.version);
    dt_destroy(e);
    PASS();
}

TEST deploy_from_inside_the_event_sink_is_refused_without_deadlock(void) {
    dt_desc d;
    dt_engine *e;
    dt_program_info info;
    dt_stats st;
    act_reset(SEC);
    act_desc(&d);
    d.sinks.event = act_on_event_deploying;
    e = dt_create(&d);
    ASSERT(e != NULL);
    cap.e = e;
    /* with a program running, the sink is inside the event's read section:
     * a deploy would wait for itself, so it is refused */
    ASSERT_EQ(DT_OK, deploy_noerr(e, "level Other = off"));
    cap.sink_deploy_rc = 99;
    act_emit(e, "Zed", DT_INFO, NULL, 0);
    ASSERT_EQ(DT_ERR_INVALID, cap.sink_deploy_rc);
    ASSERT_EQ(1, cap.nevents);
    ASSERT_EQ(DT_OK, dt_program(e, &info));
    ASSERT_EQ(1u, info.version);
    /* and through the emit built-in */
    cap.sink_deploy_rc = 99;
    {
        dt_value args[2];
        args[0] = act_s("Zed");
        args[1] = act_s("info");
        ASSERT_EQ(DT_OK, dt_action_invoke(e, "emit", args, 2));
    }
    ASSERT_EQ(DT_ERR_INVALID, cap.sink_deploy_rc);
    ASSERT_EQ(2, cap.nevents);
    ASSERT_EQ(DT_OK, dt_program(e, &info));
    ASSERT_EQ(1u, info.version);
    dt_get_stats(e, &st);
    ASSERT_EQ(1u, st.deploys);
    /* outside the sink deploying works as ever */
    ASSERT_EQ(DT_OK, deploy_noerr(e, "level Zed = off"));
    cap.sink_deploy_rc = 99;
    act_emit(e, "Zed", DT_INFO, NULL, 0);
    ASSERT_EQ(99, cap.sink_deploy_rc);
    dt_destroy(e);
    PASS();
}

/* The action sink rolls back the first time it sees a call. */
static void act_on_audit_rolling_back(const dt_action_call *c, void *ud) {
    act_cap *k = (act_cap *)ud;
    act_on_audit(c, ud);
    if (k->naudit == 1) k->sink_deploy_rc = dt_rollback(k->e);
}

TEST rollback_from_the_action_sink_during_a_deploy_is_safe(void) {
    dt_desc d;
    dt_engine *e;
    dt_program_info info;
    act_reset(SEC);
    act_desc(&d);
    d.sinks.action = act_on_audit_rolling_back;
    e = dt_create(&d);
    ASSERT(e != NULL);
    cap.e = e;
    cap.sink_deploy_rc = 99;
    ASSERT_EQ(DT_OK, deploy_noerr(e, "level A = off"));
    /* a boost fires set_level at deploy; its audit rolls back to "level A = off" */
    ASSERT_EQ(DT_OK, deploy_noerr(e, "level Dbg* = debug for 1m\nlevel B = off"));
    ASSERT_EQ(DT_OK, cap.sink_deploy_rc);
    ASSERT_EQ(1, cap.naudit);
    ASSERT_EQ(DT_OK, dt_program(e, &info));
    ASSERT_EQ(1u, info.version);
    dt_destroy(e);
    PASS();
}

/* ---- risk policy for host functions ----------------------------------- */
static dt_value act_fn_twice(dt_exec *x, const dt_value *args, uint32_t n, void *ud) {
    act_cap *k = (act_cap *)ud;
    (void)x; (void)n;
    k->fn_calls++;
    if (args[0].type != DT_TYPE_I64) { dt_value v; v.type = DT_TYPE_NULL; v.as.u64 = 0; return v; }
    return act_i(args[0].as.i64 * 2);
}

static int act_register_twice(dt_engine *e, const char *name, dt_risk risk) {
    dt_function_desc f;
    memset(&f, 0, sizeof f);
    f.name = name;
    f.fn = act_fn_twice;
    f.user_data = &cap;
    f.risk = risk;
    f.min_args = 1;
    f.max_args = 1;
    f.result = DT_TYPE_I64;
    return dt_register_function(e, &f);
}

static const char act_twice_prog[] = "recorder r {\n  record Ev where twice(n) == 10\n}";

TEST host_function_of_high_risk_is_refused_under_medium_policy(void) {
    dt_engine *e;
    dt_error err;
    dt_stats st;
    dt_program_info info;
    act_reset(SEC);
    e = act_engine();                                    /* max_risk default: medium */
    ASSERT(e != NULL);
    ASSERT_EQ(DT_OK, act_register_twice(e, "twice", DT_RISK_DEFAULT));   /* default: high */
    ASSERT_EQ(DT_ERR_EXISTS, act_register_twice(e, "twice", DT_RISK_LOW));
    ASSERT_EQ(DT_ERR_EXISTS, act_register_twice(e, "strlen", DT_RISK_LOW));
    ASSERT_EQ(DT_ERR_RISK, dt_deploy(e, act_twice_prog, strlen(act_twice_prog), &err));
    ASSERT_EQ(DT_ERR_RISK, err.code);
    ASSERT_EQ(2, err.line);
    ASSERT_EQ(19, err.column);
    ASSERT_STR_EQ("program needs risk 'high' (function 'twice') but the host allows at most 'medium'", err.message);
    ASSERT_STR_EQ("remove it, or have the host raise dt_desc.max_risk (dt CLI: --max-risk high)", err.hint);
    ASSERT_EQ(DT_ERR_EMPTY, dt_program(e, &info));
    dt_get_stats(e, &st);
    ASSERT_EQ(1u, st.deploy_errors);
    ASSERT_EQ(0u, st.deploys);
    ASSERT_EQ(0, cap.fn_calls);
    dt_destroy(e);
    PASS();
}

TEST host_function_result_filters_a_where_when_policy_allows_high(void) {
    dt_desc d;
    dt_engine *e;
    dt_error err;
    dt_program_info info;
    dt_field f;
    int64_t n;
    act_reset(SEC);
    act_desc(&d);
    d.max_risk = DT_RISK_HIGH;
    e = dt_create(&d);
    ASSERT(e != NULL);
    ASSERT_EQ(DT_OK, act_register_twice(e, "twice", DT_RISK_HIGH));
    ASSERT_EQ(DT_OK, dt_deploy(e, act_twice_prog, strlen(act_twice_prog), &err));
    ASSERT_EQ(DT_OK, dt_program(e, &info));
    ASSERT_EQ((int)DT_RISK_HIGH, info.risk);
    for (n = 4; n <= 6; n++) {
        f = dt_field_i64("n", n);
        act_emit(e, "Ev", DT_DEBUG, &f, 1);
    }
    ASSERT_EQ(3, cap.fn_calls);
    ASSERT_EQ(DT_OK, dt_recorder_flush(e, "r", NULL));
    ASSERT_EQ(1, cap.ndumps);
    ASSERT_STR_EQ("r/ n=1 ow=0: Ev@debug{n=5}", cap.dumps[0]);
    dt_destroy(e);
    PASS();
}

TEST host_function_registered_low_risk_deploys_under_default_policy(void) {
    dt_engine *e;
    dt_error err;
    dt_program_info info;
    static const char prog[] = "recorder r { record Ev where double(n) > 8 }";
    act_reset(SEC);
    e = act_engine();
    ASSERT(e != NULL);
    ASSERT_EQ(DT_OK, act_register_twice(e, "double", DT_RISK_LOW));
    ASSERT_EQ(DT_OK, dt_deploy(e, prog, sizeof prog - 1, &err));
    ASSERT_EQ(DT_OK, dt_program(e, &info));
    ASSERT_EQ((int)DT_RISK_LOW, info.risk);
    dt_destroy(e);
    PASS();
}

SUITE(actions) {
    RUN_TEST(action_register_copies_the_name);
    RUN_TEST(action_register_refuses_taken_names_including_builtins);
    RUN_TEST(action_register_refuses_invalid_descs);
    RUN_TEST(action_register_reports_limit_when_table_full);
    RUN_TEST(action_invoke_runs_inline_with_args_and_audits_the_call);
    RUN_TEST(rate_limit_suppresses_third_call_in_window_and_resets_after_it);
    RUN_TEST(deferred_action_waits_for_poll_with_its_strings_copied);
    RUN_TEST(deferred_queue_full_refuses_with_limit_and_counts_overflow);
    RUN_TEST(deferred_action_never_truncates_string_args_silently);
    RUN_TEST(builtin_set_level_exports_debug_events_for_the_duration);
    RUN_TEST(builtin_disable_stops_a_recorder_and_enable_resumes_it);
    RUN_TEST(builtin_flush_and_discard_work_by_name_and_by_key);
    RUN_TEST(builtin_emit_exports_a_new_event);
    RUN_TEST(builtin_with_wrong_arguments_counts_rule_errors);
    RUN_TEST(builtin_emit_with_a_dangling_field_name_counts_a_rule_error);
    RUN_TEST(host_action_may_deploy_because_it_runs_outside_the_read_section);
    RUN_TEST(deploy_from_inside_the_event_sink_is_refused_without_deadlock);
    RUN_TEST(rollback_from_the_action_sink_during_a_deploy_is_safe);
    RUN_TEST(host_function_of_high_risk_is_refused_under_medium_policy);
    RUN_TEST(host_function_result_filters_a_where_when_policy_allows_high);
    RUN_TEST(host_function_registered_low_risk_deploys_under_default_policy);
}
