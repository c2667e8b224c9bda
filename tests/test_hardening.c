/* Behaviours fixed after an adversarial review of dt.h: each test pins the
 * exact outcome for an input that used to hang, crash, mislead or slip
 * past a bound. */
#include "greatest.h"
#include "dt.h"
#include "support.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define SEC 1000000000LL

typedef struct hcap {
    int exported, dumps, actions, suppressed;
    int64_t now;
    dt_engine *e;
    int dump_emits;
} hcap;

static void h_event(const dt_event *ev, void *ud) { (void)ev; ((hcap *)ud)->exported++; }
static void h_action(const dt_action_call *c, void *ud) {
    hcap *h = (hcap *)ud;
    h->actions++;
    h->suppressed += c->suppressed;
}
static void h_dump(const dt_dump *d, void *ud) {
    hcap *h = (hcap *)ud;
    dt_event ev;
    (void)d;
    h->dumps++;
    if (!h->dump_emits) return;
    memset(&ev, 0, sizeof ev);                 /* a host logger bridged into dt, logging from the sink */
    ev.name = dt_cstr("HostLog");
    ev.level = DT_INFO;
    ev.ts = h->now;
    dt_emit(h->e, &ev);
}

static dt_engine *h_engine(hcap *h, int no_timestamps) {
    dt_desc d;
    memset(h, 0, sizeof *h);
    d = sup_desc(h, &h->now, 100 * SEC);
    d.sinks.event = h_event;
    d.sinks.action = h_action;
    d.sinks.dump = h_dump;
    d.no_timestamps = no_timestamps;
    h->e = dt_create(&d);
    return h->e;
}

static enum greatest_test_res h_error(const char *text, int code, int line, int column, const char *message) {
    hcap h;
    dt_error err;
    dt_engine *e = h_engine(&h, 0);
    ASSERT_EQm(text, code, dt_check(e, text, strlen(text), &err, NULL));
    ASSERT_EQm(text, line, err.line);
    ASSERT_EQm(text, column, err.column);
    ASSERT_STR_EQm(text, message, err.message);
    dt_destroy(e);
    PASS();
}

/* "recorder r { record A where x + x + ... > 0 }" with n additions */
static char *h_chain(int n, const char *op) {
    size_t cap = (size_t)n * 16 + 64, len = 0;
    char *p = (char *)malloc(cap);
    int i;
    len += (size_t)snprintf(p + len, cap - len, "recorder r { record A where x");
    for (i = 0; i < n; i++) len += (size_t)snprintf(p + len, cap - len, " %s x", op);
    snprintf(p + len, cap - len, " > 0 }");
    return p;
}

TEST left_deep_arithmetic_is_refused_before_it_can_overflow_the_stack(void) {
    char *ok = h_chain(DT_MAX_EXPR_HEIGHT - 3, "+"), *deep = h_chain(9000, "+");
    CHECK_CALL(h_error(ok, DT_OK, 0, 0, ""));
    CHECK_CALL(h_error(deep, DT_ERR_LIMIT, 1, 31 + 4 * (DT_MAX_EXPR_HEIGHT - 1), "expression too deep to evaluate safely"));
    free(ok);
    free(deep);
    PASS();
}

TEST long_and_or_chains_are_flat_lists(void) {
    hcap h;
    dt_error err;
    dt_engine *e = h_engine(&h, 0);
    /* 200 conditions: far taller than DT_MAX_EXPR_HEIGHT if it nested */
    char text[4096];
    size_t len = 0;
    int i;
    len += (size_t)snprintf(text + len, sizeof text - len, "level A = off\nlevel A = debug for 1m when T where ");
    for (i = 0; i < 200; i++) len += (size_t)snprintf(text + len, sizeof text - len, "%slevel != %d", i ? " and " : "", 100 + i);
    ASSERT_EQ(DT_OK, dt_deploy(e, text, len, &err));
    emit(e, "T", DT_INFO, 100 * SEC);
    ASSERT_EQ(1, h.actions);                     /* every condition held: the boost fired */
    dt_destroy(e);
    PASS();
}

TEST too_many_conditions_in_one_chain_are_refused(void) {
    char *p = h_chain(DT_MAX_EXPR_LIST, "or");
    hcap h;
    dt_error err;
    dt_engine *e = h_engine(&h, 0);
    /* x or x ... : the operands are not conditions, but the count is checked first */
    ASSERT_EQ(DT_ERR_LIMIT, dt_check(e, p, strlen(p), &err, NULL));
    ASSERT_STR_EQ("too many conditions in one and/or chain", err.message);
    dt_destroy(e);
    free(p);
    PASS();
}

TEST zero_duration_boost_is_an_error_not_a_permanent_rule(void) {
    CHECK_CALL(h_error("level X = debug for 0s", DT_ERR_SYNTAX, 1, 21, "a timed level change needs a duration above zero"));
    PASS();
}

TEST duration_parts_all_need_units(void) {
    CHECK_CALL(h_error("level X = debug for 1h30 when Y", DT_ERR_SYNTAX, 1, 21,
                       "every number in a duration needs a unit: write 1h30m, not 1h30"));
    PASS();
}

TEST float_literal_longer_than_the_parser_reads_is_refused(void) {
    char text[200];
    SUP_NEEDS_FLOAT();
    snprintf(text, sizeof text, "recorder r { record A where x > 1%s.0 }",
             "000000000000000000000000000000000000000000000000000000000000000000");
    CHECK_CALL(h_error(text, DT_ERR_SYNTAX, 1, 33, "number literal too long (63 characters at most)"));
    PASS();
}

TEST contains_on_huge_strings_trips_the_budget(void) {
    hcap h;
    dt_error err;
    dt_stats st;
    dt_engine *e = h_engine(&h, 0);
    size_t hay = 64 * 1024, needle = 32 * 1024, len;
    char *big = (char *)malloc(hay), *text = (char *)malloc(needle + 100);
    dt_field f;
    dt_event ev;
    memset(big, 'a', hay);
    len = (size_t)snprintf(text, needle + 100, "recorder r { record A where s contains \"");
    memset(text + len, 'a', needle - 1);
    len += needle - 1;
    len += (size_t)snprintf(text + len, 100, "b\" }");
    ASSERT_EQ(DT_OK, dt_deploy(e, text, len, &err));
    f = dt_field_strn("s", big, hay);
    memset(&ev, 0, sizeof ev);
    ev.name = dt_cstr("A");
    ev.level = DT_INFO;
    ev.ts = 100 * SEC;
    ev.fields = &f;
    ev.nfields = 1;
    dt_emit(e, &ev);
    dt_get_stats(e, &st);
    ASSERT_EQ(1u, st.budget_trips);
    ASSERT_EQ(1, h.exported);
    dt_destroy(e);
    free(big);
    free(text);
    PASS();
}

TEST unstamped_events_use_engine_time_for_timed_levels(void) {
    hcap h;
    dt_engine *e = h_engine(&h, 1);
    dt_error err;
    const char *p = "level Http* = debug for 5m when Oops";
    ASSERT_EQ(DT_OK, dt_deploy(e, p, strlen(p), &err));
    dt_tick(e, 100 * SEC);
    emit(e, "Http.Request", DT_DEBUG, 0);        /* before the trigger: not exported */
    emit(e, "Oops", DT_ERROR, 0);
    emit(e, "Http.Request", DT_DEBUG, 0);
    dt_tick(e, 100 * SEC + 5 * 60 * SEC);
    emit(e, "Http.Request", DT_DEBUG, 0);        /* the change has ended */
    ASSERT_EQ(2, h.exported);                    /* Oops and the one debug event inside */
    dt_destroy(e);
    PASS();
}

static void h_noop(dt_engine *e, const dt_action_call *c, void *ud) { (void)e; (void)c; (void)ud; }

TEST rate_limit_holds_with_interleaved_clocks(void) {
    hcap h;
    dt_action_desc a;
    dt_engine *e = h_engine(&h, 0);
    int i, allowed = 0;
    memset(&a, 0, sizeof a);
    a.name = "memory_dump";
    a.fn = h_noop;
    a.rate_count = 1;
    a.rate_window_ns = 60 * SEC;
    ASSERT_EQ(DT_OK, dt_action_register(e, &a));
    for (i = 0; i < 1000; i++) {
        h.now = (i % 2 ? 220 : 100) * SEC + i;   /* two sources whose clocks differ by 2 minutes */
        if (dt_action_invoke(e, "memory_dump", NULL, 0) == DT_OK) allowed++;
    }
    ASSERT_EQ(2, allowed);                       /* once at 100 s, once when 220 s opens a new window */
    dt_destroy(e);
    PASS();
}

TEST site_fast_path_refuses_empty_field_names(void) {
    hcap h;
    dt_stats st;
    dt_engine *e = h_engine(&h, 0);
    dt_bind_sites(e);
    DT_EMIT(DT_INFO, "HardeningJob", DT_I64("", 1));
    DT_EMIT(DT_INFO, "HardeningJob", DT_I64("ok", 1));
    dt_get_stats(e, &st);
    ASSERT_EQ(1, h.exported);
    ASSERT_EQ(1u, st.bad_events);
    dt_bind_sites(NULL);
    dt_destroy(e);
    PASS();
}

TEST emergency_flush_survives_a_dump_sink_that_logs_through_dt(void) {
    hcap h;
    dt_error err;
    dt_stats st;
    dt_engine *e = h_engine(&h, 0);
    const char *p = "recorder crash { record * }";
    ASSERT_EQ(DT_OK, dt_deploy(e, p, strlen(p), &err));
    emit(e, "Before", DT_INFO, 100 * SEC);
    h.dump_emits = 1;
    ASSERT_EQ(DT_OK, dt_recorder_flush_emergency(e, "crash"));   /* used to spin forever */
    ASSERT_EQ(1, h.dumps);
    dt_get_stats(e, &st);
    ASSERT_EQ(1u, st.overflows);                 /* the sink's own event could not be recorded */
    ASSERT_EQ(2, h.exported);
    dt_destroy(e);
    PASS();
}

TEST rollback_restarts_the_restored_programs_boosts(void) {
    hcap h;
    dt_error err;
    dt_engine *e = h_engine(&h, 0);
    const char *p1 = "level Dbg = debug for 10m", *p2 = "level Other = off";
    ASSERT_EQ(DT_OK, dt_deploy(e, p1, strlen(p1), &err));
    ASSERT_EQ(DT_OK, dt_deploy(e, p2, strlen(p2), &err));
    emit(e, "Dbg", DT_DEBUG, 100 * SEC);
    ASSERT_EQ(0, h.exported);                    /* p2 ended p1's boost */
    ASSERT_EQ(DT_OK, dt_rollback(e));
    emit(e, "Dbg", DT_DEBUG, 100 * SEC);
    ASSERT_EQ(1, h.exported);                    /* p1 runs again, with its boost */
    ASSERT_EQ(2, h.actions);                     /* set_level at each start of p1, audited */
    dt_destroy(e);
    PASS();
}

TEST a_programs_tokens_live_in_its_own_copy(void) {
    hcap h;
    dt_error err;
    dt_engine *e = h_engine(&h, 0);
    char *text = (char *)malloc(64);
    snprintf(text, 64, "recorder keep { record A }");
    ASSERT_EQ(DT_OK, dt_deploy(e, text, strlen(text), &err));
    memset(text, 'x', 63);                       /* the host reuses its buffer */
    free(text);
    emit(e, "A", DT_INFO, 100 * SEC);
    ASSERT_EQ(DT_OK, dt_recorder_flush(e, "keep", NULL));
    ASSERT_EQ(1, h.dumps);
    dt_destroy(e);
    PASS();
}

SUITE(hardening) {
    RUN_TEST(left_deep_arithmetic_is_refused_before_it_can_overflow_the_stack);
    RUN_TEST(long_and_or_chains_are_flat_lists);
    RUN_TEST(too_many_conditions_in_one_chain_are_refused);
    RUN_TEST(zero_duration_boost_is_an_error_not_a_permanent_rule);
    RUN_TEST(duration_parts_all_need_units);
    RUN_TEST(float_literal_longer_than_the_parser_reads_is_refused);
    RUN_TEST(contains_on_huge_strings_trips_the_budget);
    RUN_TEST(unstamped_events_use_engine_time_for_timed_levels);
    RUN_TEST(rate_limit_holds_with_interleaved_clocks);
    RUN_TEST(site_fast_path_refuses_empty_field_names);
    RUN_TEST(emergency_flush_survives_a_dump_sink_that_logs_through_dt);
    RUN_TEST(rollback_restarts_the_restored_programs_boosts);
    RUN_TEST(a_programs_tokens_live_in_its_own_copy);
}
