/* The processor plug-in interface, exercised by a processor written the way
 * dt_query.h and dt_stateful.h will be: only through dt.h's public API.
 *
 *   tally NAME on PATTERN[, PATTERN] [where COND] [every DURATION]
 *         [set FIELD = EXPR] [drop] [emit EVENTNAME]
 *
 * counts matching events, sends the count as a metric when a window closes
 * (on tick) and on flush, can edit or drop the event, and can emit a new
 * event per match. */
#include "greatest.h"
#include "dt.h"
#include "support.h"
#include <stdio.h>
#include <string.h>

#define SEC 1000000000LL

typedef struct tally {
    dt_str name;
    dt_expr *where, *value;
    dt_str set_field, emit_name;
    int drop;
    int64_t every, window_start;
    uint64_t count;
} tally;

static int tally_destroyed;

static int tally_compile(dt_compiler *c, dt_block *b) {
    tally *t = (tally *)dt_compiler_alloc(c, sizeof *t);
    dt_pattern pats[4];
    uint32_t n = 0, i;
    if (!t || dt_expect_ident(c, &t->name, "a tally name")) return DT_ERR_SYNTAX;
    t->name = dt_compiler_strdup(c, t->name);
    dt_block_set_name(b, t->name);
    dt_block_set_state(b, t);
    if (dt_expect(c, "on", "write: tally NAME on EVENT")) return DT_ERR_SYNTAX;
    do {
        if (n == 4) return dt_compile_error(c, dt_peek(c), DT_ERR_LIMIT, "at most 4 patterns", NULL);
        if (dt_expect_pattern(c, &pats[n++])) return DT_ERR_SYNTAX;
    } while (dt_accept(c, ","));
    dt_compiler_scope(c, pats, n);
    if (dt_accept(c, "where") && dt_parse_expr(c, &t->where)) return DT_ERR_SYNTAX;
    if (dt_accept(c, "every") && dt_expect_duration(c, &t->every)) return DT_ERR_SYNTAX;
    if (dt_accept(c, "set")) {
        if (dt_expect_ident(c, &t->set_field, "a field name") || dt_expect(c, "=", NULL) || dt_parse_expr(c, &t->value))
            return DT_ERR_SYNTAX;
        t->set_field = dt_compiler_strdup(c, t->set_field);
    }
    t->drop = dt_accept(c, "drop");
    if (dt_accept(c, "emit")) {
        if (dt_expect_ident(c, &t->emit_name, "an event name")) return DT_ERR_SYNTAX;
        t->emit_name = dt_compiler_strdup(c, t->emit_name);
    }
    for (i = 0; i < n; i++) dt_subscribe(c, b, &pats[i], 7);
    return DT_OK;
}

static void tally_metric(dt_exec *x, tally *t, int64_t end) {
    dt_metric m;
    memset(&m, 0, sizeof m);
    m.name = t->name;
    m.kind = DT_METRIC_COUNTER;
    m.temporality = DT_DELTA;
    m.start_ns = t->window_start;
    m.end_ns = end;
    m.value = (double)t->count;
    m.is_int = 1;
    dt_exec_metric(x, &m);
    t->count = 0;
    t->window_start = end;
}

static void tally_on_event(dt_block *b, dt_exec *x, int tag) {
    tally *t = (tally *)dt_block_state(b);
    if (tag != 7 || !dt_eval_bool(x, t->where)) return;
    dt_block_lock(b);
    if (!t->window_start) t->window_start = dt_exec_now(x);
    t->count++;
    dt_block_unlock(b);
    if (t->value) dt_exec_set_field(x, t->set_field, dt_eval(x, t->value));
    if (t->drop) dt_exec_drop(x);
    if (t->emit_name.len) {
        dt_event ev;
        memset(&ev, 0, sizeof ev);
        ev.name = t->emit_name;
        ev.level = DT_WARN;
        dt_exec_emit(x, &ev);
    }
}

static void tally_tick(dt_block *b, dt_exec *x, int64_t now) {
    tally *t = (tally *)dt_block_state(b);
    dt_block_lock(b);
    if (t->every && t->window_start && now - t->window_start >= t->every) tally_metric(x, t, t->window_start + t->every);
    dt_block_unlock(b);
}

static void tally_flush(dt_block *b, dt_exec *x) {
    tally *t = (tally *)dt_block_state(b);
    dt_block_lock(b);
    if (t->count) tally_metric(x, t, dt_exec_now(x));
    dt_block_unlock(b);
}

static void tally_destroy(dt_block *b) { (void)b; tally_destroyed++; }

static const dt_processor tally_processor = {
    "tally", DT_RISK_LOW, tally_compile, tally_on_event, tally_tick, tally_flush, tally_destroy, NULL, NULL
};

/* Capture. */
typedef struct plug_cap {
    char out[2048];
    int64_t now;
} plug_cap;

static void plug_put(plug_cap *c, const char *s) { sup_append(c->out, sizeof c->out, s); }

static void plug_event(const dt_event *ev, void *ud) {
    char s[200];
    uint32_t i;
    snprintf(s, sizeof s, "E:%.*s", (int)ev->name.len, ev->name.ptr);
    plug_put((plug_cap *)ud, s);
    for (i = 0; i < ev->nfields; i++) {
        const dt_value *v = &ev->fields[i].value;
        if (v->type == DT_TYPE_I64) snprintf(s, sizeof s, " %.*s=%lld", (int)ev->fields[i].name.len, ev->fields[i].name.ptr, (long long)v->as.i64);
        else snprintf(s, sizeof s, " %.*s:%s", (int)ev->fields[i].name.len, ev->fields[i].name.ptr, dt_type_name((int)v->type));
        plug_put((plug_cap *)ud, s);
    }
    plug_put((plug_cap *)ud, "\n");
}

static void plug_metric(const dt_metric *m, void *ud) {
    char s[200];
    snprintf(s, sizeof s, "M:%.*s=%.0f [%lld,%lld)\n", (int)m->name.len, m->name.ptr, m->value,
             (long long)(m->start_ns / SEC), (long long)(m->end_ns / SEC));
    plug_put((plug_cap *)ud, s);
}

static dt_engine *plug_engine(plug_cap *c) {
    static const dt_processor *const procs[] = {&tally_processor};
    dt_desc d;
    memset(c, 0, sizeof *c);
    d = sup_desc(c, &c->now, 1 * SEC);
    d.sinks.event = plug_event;
    d.sinks.metric = plug_metric;
    d.processors = procs;
    d.nprocessors = 1;
    return dt_create(&d);
}

static void plug_emit(dt_engine *e, const char *name, int64_t ts, int64_t n) {
    dt_field f = dt_field_i64("n", n);
    sup_emit_fields(e, name, DT_INFO, ts, 0, &f, 1);
}


TEST processor_counts_and_reports_windows(void) {
    plug_cap c;
    dt_engine *e = plug_engine(&c);
    ASSERT_EQ(DT_OK, deploy(e, "tally hits on Req where n > 1 every 10s"));
    plug_emit(e, "Req", 1 * SEC, 1);
    plug_emit(e, "Req", 2 * SEC, 2);
    plug_emit(e, "Other", 3 * SEC, 5);
    plug_emit(e, "Req", 4 * SEC, 3);
    dt_tick(e, 12 * SEC);                                   /* window [2,12) closes */
    plug_emit(e, "Req", 13 * SEC, 9);
    dt_tick(e, 13 * SEC);                                   /* engine time moves on ticks, not on events */
    dt_flush(e);                                            /* the open window leaves on flush */
    ASSERT_STR_EQ("E:Req n=1\nE:Req n=2\nE:Other n=5\nE:Req n=3\nM:hits=2 [2,12)\nE:Req n=9\nM:hits=1 [12,13)\n", c.out);
    dt_destroy(e);
    PASS();
}

TEST processor_edits_drops_and_emits(void) {
    plug_cap c;
    dt_stats st;
    dt_engine *e = plug_engine(&c);
    ASSERT_EQ(DT_OK, deploy(e, "tally a on Req set doubled = n * 2\n"
                               "tally b on Secret drop\n"
                               "tally c on Fail emit FailSeen\n"));
    plug_emit(e, "Req", 1 * SEC, 21);
    plug_emit(e, "Secret", 1 * SEC, 1);
    plug_emit(e, "Fail", 1 * SEC, 1);
    ASSERT_STR_EQ("E:Req n=21 doubled=42\nE:FailSeen\nE:Fail n=1\n", c.out);
    dt_get_stats(e, &st);
    ASSERT_EQ(4u, st.events_in);                            /* three emitted, one made by a rule */
    ASSERT_EQ(1u, st.events_emitted);
    ASSERT_EQ(1u, st.events_dropped);
    ASSERT_EQ(3u, st.events_exported);
    dt_destroy(e);
    PASS();
}

TEST processor_blocks_can_be_switched_by_name(void) {
    plug_cap c;
    dt_value name;
    dt_engine *e = plug_engine(&c);
    ASSERT_EQ(DT_OK, deploy(e, "tally gate on Req drop"));
    name.type = DT_TYPE_STR;
    name.as.str = dt_cstr("gate");
    plug_emit(e, "Req", 1 * SEC, 1);
    ASSERT_EQ(DT_OK, dt_action_invoke(e, "disable", &name, 1));
    plug_emit(e, "Req", 2 * SEC, 2);
    ASSERT_EQ(DT_OK, dt_action_invoke(e, "enable", &name, 1));
    plug_emit(e, "Req", 3 * SEC, 3);
    ASSERT_STR_EQ("E:Req n=2\n", c.out);
    dt_destroy(e);
    PASS();
}

TEST processor_errors_carry_position_and_old_program_survives(void) {
    plug_cap c;
    dt_error err;
    const char *bad = "tally t on Req every 5 m";
    dt_engine *e = plug_engine(&c);
    ASSERT_EQ(DT_OK, deploy(e, "tally t on Req drop"));
    ASSERT_EQ(DT_ERR_SYNTAX, dt_deploy(e, bad, strlen(bad), &err));
    ASSERT_EQ(1, err.line);
    ASSERT_EQ(24, err.column);
    ASSERT_STR_EQ("a unit must follow its number without a space", err.message);
    plug_emit(e, "Req", 1 * SEC, 1);
    ASSERT_STR_EQ("", c.out);                               /* still dropping */
    dt_destroy(e);
    PASS();
}

TEST processor_state_is_destroyed_with_its_program(void) {
    plug_cap c;
    dt_engine *e = plug_engine(&c);
    tally_destroyed = 0;
    ASSERT_EQ(DT_OK, deploy(e, "tally a on A\ntally b on B"));
    ASSERT_EQ(DT_OK, deploy(e, "tally c on C"));            /* the first stays for rollback */
    ASSERT_EQ(0, tally_destroyed);
    ASSERT_EQ(DT_OK, deploy(e, "tally d on D"));            /* now the first goes */
    ASSERT_EQ(2, tally_destroyed);
    dt_destroy(e);
    ASSERT_EQ(4, tally_destroyed);
    PASS();
}

TEST processor_keyword_is_registered_once(void) {
    plug_cap c;
    dt_engine *e = plug_engine(&c);
    ASSERT_EQ(DT_ERR_EXISTS, dt_register_processor(e, &tally_processor));
    ASSERT_EQ(DT_ERR_INVALID, dt_register_processor(e, NULL));
    dt_destroy(e);
    PASS();
}

SUITE(plugin) {
    RUN_TEST(processor_counts_and_reports_windows);
    RUN_TEST(processor_edits_drops_and_emits);
    RUN_TEST(processor_blocks_can_be_switched_by_name);
    RUN_TEST(processor_errors_carry_position_and_old_program_survives);
    RUN_TEST(processor_state_is_destroyed_with_its_program);
    RUN_TEST(processor_keyword_is_registered_once);
}
