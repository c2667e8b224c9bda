/* dt_stateful.h: state machines and triggers. Each test pins one rule of
 * docs/language.md ("State machines") with the exact output the sinks see.
 * The processor's implementation is compiled in tests/impl.c. */
#include "greatest.h"
#include "dt.h"
#include "dt_stateful.h"
#include "support.h"
#include "stateful_support.h"

/* ---- the rules of transitions ------------------------------------------- */

TEST first_matching_transition_in_program_order_wins(void) {
    sm_cap c;
    dt_engine *e = sm_engine(&c, DT_RISK_MEDIUM);
    ASSERT_EQ(DT_OK, sm_deploy(e, "machine m {\n"
                                  "  A -> B on X where n > 1 { emit First }\n"
                                  "  A -> C on X { emit Second }\n"
                                  "  B -> A on X { emit Back }\n"
                                  "}\nlevel X = off"));
    sm_emit_i(e, "X", 1, 0, "n", 5);       /* A: both match, the first wins */
    sm_emit_i(e, "X", 2, 0, "n", 0);       /* B: only B -> A */
    sm_emit_i(e, "X", 3, 0, "n", 0);       /* A: n > 1 fails, the second matches */
    ASSERT_STR_EQ("First@info{}\nBack@info{}\nSecond@info{}\n", c.out);
    dt_destroy(e);
    PASS();
}

TEST an_event_no_transition_matches_does_nothing(void) {
    sm_cap c;
    dt_engine *e = sm_engine(&c, DT_RISK_MEDIUM);
    ASSERT_EQ(DT_OK, sm_deploy(e, "machine m {\n"
                                  "  Idle -> Busy on Start { emit Started }\n"
                                  "  Busy -> Idle on Stop { emit Stopped }\n"
                                  "}\nlevel Start, Stop = off"));
    sm_emit_i(e, "Stop", 1, 0, "n", 0);    /* in Idle: nothing leaves on Stop */
    sm_emit_i(e, "Start", 2, 0, "n", 0);
    sm_emit_i(e, "Start", 3, 0, "n", 0);   /* in Busy: nothing on Start */
    sm_emit_i(e, "Stop", 4, 0, "n", 0);
    ASSERT_STR_EQ("Started@info{}\nStopped@info{}\n", c.out);
    dt_destroy(e);
    PASS();
}

TEST an_instance_back_in_its_initial_state_is_deleted(void) {
    sm_cap c;
    dt_engine *e = sm_engine(&c, DT_RISK_MEDIUM);
    ASSERT_EQ(DT_OK, sm_deploy(e, "machine m {\n"
                                  "  by k\n"
                                  "  Idle -> Open on X { $n = $n + 1; emit N(n = $n) }\n"
                                  "  Open -> Open on X { $n = $n + 1; emit N(n = $n) }\n"
                                  "  Open -> Idle on Y\n"
                                  "}\nlevel X, Y = off"));
    sm_emit_s(e, "X", 1, 0, "k", "a");
    sm_emit_s(e, "X", 2, 0, "k", "a");
    sm_emit_s(e, "X", 3, 0, "k", "b");     /* another key, its own instance */
    sm_emit_s(e, "Y", 4, 0, "k", "a");     /* a is deleted: its variables go */
    sm_emit_s(e, "X", 5, 0, "k", "a");
    ASSERT_STR_EQ("N@info{n=1}\nN@info{n=2}\nN@info{n=1}\nN@info{n=1}\n", c.out);
    dt_destroy(e);
    PASS();
}

TEST a_star_transition_leaves_any_state(void) {
    sm_cap c;
    dt_engine *e = sm_engine(&c, DT_RISK_MEDIUM);
    ASSERT_EQ(DT_OK, sm_deploy(e, "machine m {\n"
                                  "  A -> B on Go\n"
                                  "  * -> A on Reset { emit WasReset }\n"
                                  "  B -> A on Go { emit BackFromB }\n"
                                  "}\nlevel Go, Reset = off"));
    sm_emit_i(e, "Go", 1, 0, "n", 0);
    sm_emit_i(e, "Reset", 2, 0, "n", 0);   /* B -> A */
    sm_emit_i(e, "Go", 3, 0, "n", 0);      /* A -> B again, not BackFromB */
    sm_emit_i(e, "Go", 4, 0, "n", 0);
    ASSERT_STR_EQ("WasReset@info{}\nBackFromB@info{}\n", c.out);
    dt_destroy(e);
    PASS();
}

TEST entry_and_exit_run_around_the_transition_and_not_on_a_self_transition(void) {
    sm_cap c;
    dt_engine *e = sm_engine(&c, DT_RISK_MEDIUM);
    ASSERT_EQ(DT_OK, sm_deploy(e, "machine m {\n"
                                  "  A -> B on Go { emit Body }\n"
                                  "  B -> B on Go { emit Self(t = elapsed()) }\n"
                                  "  B -> A on Stop\n"
                                  "  exit A { emit ExitA }\n"
                                  "  entry B { emit EntryB(t = elapsed()) }\n"
                                  "  exit B { emit ExitB(t = elapsed()) }\n"
                                  "}\nlevel Go, Stop = off"));
    sm_emit_i(e, "Go", 10, 0, "n", 0);
    sm_emit_i(e, "Go", 15, 0, "n", 0);     /* self: elapsed keeps counting from 10 */
    sm_emit_i(e, "Stop", 40, 0, "n", 0);
    ASSERT_STR_EQ("ExitA@info{}\nBody@info{}\nEntryB@info{t=0}\nSelf@info{t=5}\nExitB@info{t=30}\n", c.out);
    dt_destroy(e);
    PASS();
}

/* ---- timeouts ------------------------------------------------------------- */

TEST a_timeout_fires_at_its_deadline_before_the_event_that_passes_it(void) {
    sm_cap c;
    dt_engine *e = sm_engine(&c, DT_RISK_MEDIUM);
    ASSERT_EQ(DT_OK, sm_deploy(e, "machine m {\n"
                                  "  by k\n"
                                  "  Idle -> Wait on Open { $k = k }\n"
                                  "  Wait -> Idle on Close { emit Closed(k = $k) }\n"
                                  "  Wait -> Idle after 30s { emit Missing(k = $k) }\n"
                                  "}\nlevel Open = off"));
    sm_emit_s(e, "Open", 1 * SM_SEC, 0, "k", "a");
    sm_emit_s(e, "Open", 2 * SM_SEC, 0, "k", "b");
    sm_emit_s(e, "Open", 3 * SM_SEC, 0, "k", "c");
    sm_emit_s(e, "Close", 30 * SM_SEC, 0, "k", "a");  /* 29 s: in time */
    sm_emit_s(e, "Close", 32 * SM_SEC, 0, "k", "b");  /* exactly at the deadline: too late */
    ASSERT_STR_EQ("Closed@info{k=\"a\"}\nClose@info{k=\"a\"}\n"
                  "Missing@info{k=\"b\"}\nClose@info{k=\"b\"}\n", c.out);
    c.out[0] = 0;
    dt_tick(e, 40 * SM_SEC);               /* c's timeout, stamped with its deadline */
    ASSERT_STR_EQ("Missing@info{k=\"c\"}@33\n", sm_last_ts(&c));
    dt_destroy(e);
    PASS();
}

TEST timeouts_fire_in_deadline_order_on_a_tick(void) {
    sm_cap c;
    dt_engine *e = sm_engine(&c, DT_RISK_MEDIUM);
    ASSERT_EQ(DT_OK, sm_deploy(e, "machine m {\n"
                                  "  by k\n"
                                  "  Idle -> Wait on Open { $k = k }\n"
                                  "  Wait -> Late after 10s { emit Late(k = $k) }\n"
                                  "  Late -> Idle after 10s { emit Gone(k = $k) }\n"
                                  "}\nlevel Open = off"));
    sm_emit_s(e, "Open", 5 * SM_SEC, 0, "k", "x");
    sm_emit_s(e, "Open", 1 * SM_SEC, 0, "k", "y");    /* older: its deadline comes first */
    dt_tick(e, 100 * SM_SEC);              /* chains fire within one tick */
    ASSERT_STR_EQ("Late@info{k=\"y\"}\nLate@info{k=\"x\"}\nGone@info{k=\"y\"}\nGone@info{k=\"x\"}\n", c.out);
    dt_destroy(e);
    PASS();
}

/* ---- keys and bounds -------------------------------------------------------- */

TEST an_event_without_its_key_does_not_reach_the_machine_and_is_counted(void) {
    sm_cap c;
    dt_engine *e = sm_engine(&c, DT_RISK_MEDIUM);
    ASSERT_EQ(DT_OK, sm_deploy(e, "machine m {\n"
                                  "  by TransactionId\n"
                                  "  Idle -> Open on Begin { emit Opened }\n"
                                  "}\nlevel Begin = off"));
    sm_emit_i(e, "Begin", 1, 0, "other", 1);
    sm_emit_f(e, "Begin", 2, "TransactionId", 1.5);     /* f64 is no key */
    ASSERT_STR_EQ("", c.out);
    dt_flush(e);
    ASSERT_STR_EQ("M:dt.machine.instances{machine=\"m\"}=0\n"
                  "M:dt.machine.evicted{machine=\"m\"}=0\n"
                  "M:dt.machine.unkeyed{machine=\"m\"}=2\n", c.out);
    dt_destroy(e);
    PASS();
}

TEST keys_of_several_fields_and_by_tid_make_separate_instances(void) {
    sm_cap c;
    dt_engine *e = sm_engine(&c, DT_RISK_MEDIUM);
    ASSERT_EQ(DT_OK, sm_deploy(e, "machine m {\n"
                                  "  by a, b\n"
                                  "  Idle -> On on X { emit First }\n"
                                  "}\n"
                                  "machine t {\n"
                                  "  by tid\n"
                                  "  Idle -> On on Y { emit FirstOnThread }\n"
                                  "}\nlevel X, Y = off"));
    sm_emit_ab(e, 1, "p", 1);
    sm_emit_ab(e, 2, "p", 2);
    sm_emit_ab(e, 3, "p", 1);
    sm_emit_i(e, "Y", 4, 7, "n", 0);
    sm_emit_i(e, "Y", 5, 8, "n", 0);
    sm_emit_i(e, "Y", 6, 7, "n", 0);
    ASSERT_STR_EQ("First@info{}\nFirst@info{}\nFirstOnThread@info{}\nFirstOnThread@info{}\n", c.out);
    dt_destroy(e);
    PASS();
}

TEST past_its_bound_a_machine_evicts_the_least_recently_used_instance(void) {
    sm_cap c;
    dt_engine *e = sm_engine(&c, DT_RISK_MEDIUM);
    ASSERT_EQ(DT_OK, sm_deploy(e, "machine m {\n"
                                  "  by k\n"
                                  "  max 2\n"
                                  "  Idle -> Open on Begin\n"
                                  "  Open -> Idle on End { emit Ended(k = k) }\n"
                                  "}\nlevel Begin, End = off"));
    sm_emit_s(e, "Begin", 1, 0, "k", "a");
    sm_emit_s(e, "Begin", 2, 0, "k", "b");
    sm_emit_s(e, "Begin", 3, 0, "k", "a"); /* a is now the most recent */
    sm_emit_s(e, "Begin", 4, 0, "k", "c"); /* evicts b */
    sm_emit_s(e, "End", 5, 0, "k", "b");   /* b starts over in Idle: nothing */
    sm_emit_s(e, "End", 6, 0, "k", "a");
    sm_emit_s(e, "End", 7, 0, "k", "c");
    ASSERT_STR_EQ("Ended@info{k=\"a\"}\nEnded@info{k=\"c\"}\n", c.out);
    ASSERT_EQ(1u, stats(e).overflows);
    dt_destroy(e);
    PASS();
}

TEST a_million_distinct_keys_stay_within_the_bound_and_fixed_memory(void) {
    sm_cap c;
    dt_program_info before, after;
    dt_engine *e = sm_engine(&c, DT_RISK_MEDIUM);
    char key[32];
    long i;
    ASSERT_EQ(DT_OK, sm_deploy(e, "machine m {\n"
                                  "  by RequestId\n"
                                  "  Idle -> Open on Request\n"
                                  "  Open -> Idle on Done\n"
                                  "}\nlevel Request = off"));
    ASSERT_EQ(DT_OK, dt_program(e, &before));
    for (i = 0; i < 1000000; i++) {
        snprintf(key, sizeof key, "R%ld", i);
        sm_emit_s(e, "Request", 1 + i, 0, "RequestId", key);
    }
    ASSERT_EQ(DT_OK, dt_program(e, &after));
    ASSERT_EQ(before.memory, after.memory);
    dt_flush(e);
    ASSERT_STR_EQ("M:dt.machine.instances{machine=\"m\"}=1024\n"
                  "M:dt.machine.evicted{machine=\"m\"}=998976\n"
                  "M:dt.machine.unkeyed{machine=\"m\"}=0\n", c.out);
    ASSERT_EQ(998976u, stats(e).overflows);
    dt_destroy(e);
    PASS();
}

/* Each timeout a tick fires has its own budget (dt_exec_new_unit): 20,000
 * due at once are not one event 20,000 bodies long, which would switch
 * the machine off with most of them unfired. */
TEST many_timeouts_due_at_once_each_have_their_own_budget(void) {
    sm_cap c;
    dt_engine *e = sm_engine(&c, DT_RISK_MEDIUM);
    int64_t i;
    ASSERT_EQ(DT_OK, sm_deploy(e, "machine m {\n"
                                  "  by k\n"
                                  "  max 40000\n"                      /* room in every stripe */
                                  "  Idle -> Wait on Open\n"
                                  "  Wait -> Idle after 1s { emit Missing(k = k) }\n"
                                  "}\nlevel Open = off"));
    for (i = 0; i < 20000; i++) sm_emit_i(e, "Open", SM_SEC, 0, "k", i);
    for (i = 0; i < 5; i++) dt_tick(e, 10 * SM_SEC + i);   /* a tick fires at most 4096 per stripe */
    ASSERT_EQ(0u, stats(e).budget_trips);
    ASSERT_EQ(20000u, stats(e).events_exported);            /* every Missing */
    ASSERT_EQ(0u, stats(e).overflows);
    dt_destroy(e);
    PASS();
}

/* ---- variables and expressions ------------------------------------------- */

TEST variables_hold_numbers_and_strings_per_instance(void) {
    sm_cap c;
    dt_engine *e;
    SUP_NEEDS_FLOAT();
    e = sm_engine(&c, DT_RISK_MEDIUM);
    ASSERT_EQ(DT_OK, sm_deploy(e, "machine m {\n"
                                  "  by k\n"
                                  "  Idle -> On on Set { $name = who; $total = $total + n * 2; $half = $total / 4.0 }\n"
                                  "  On -> On on Set { $total = $total + n * 2; $half = $total / 4.0 }\n"
                                  "  On -> On on Show where $total >= 10 { emit Big(name = $name, total = $total, half = $half) }\n"
                                  "  On -> On on Show { emit Small(name = $name, total = $total) }\n"
                                  "}\nlevel Set, Show = off"));
    sm_emit_kv(e, "Set", 1, "a", "ann", 3);
    sm_emit_kv(e, "Show", 2, "a", NULL, 0);
    sm_emit_kv(e, "Set", 3, "a", "bob", 2);   /* who is only read on the first Set */
    sm_emit_kv(e, "Show", 4, "a", NULL, 0);
    ASSERT_STR_EQ("Small@info{name=\"ann\",total=6}\nBig@info{name=\"ann\",total=10,half=2.5}\n", c.out);
    dt_destroy(e);
    PASS();
}

TEST run_time_errors_in_machine_expressions_give_null_and_are_counted(void) {
    sm_cap c;
    dt_engine *e = sm_engine(&c, DT_RISK_MEDIUM);
    ASSERT_EQ(DT_OK, sm_deploy(e, "machine m {\n"
                                  "  Idle -> Idle on X { $a = 9223372036854775807; $b = $a + 1; $c = $a / 0; $s = \"x\"; "
                                  "emit R(b = $b, c = $c, d = $s + 1) }\n"
                                  "}\nlevel X = off"));
    sm_emit_i(e, "X", 1, 0, "n", 0);
    ASSERT_STR_EQ("R@info{b=0,c=0,d=null}\n", c.out);  /* null assigned reads as 0 */
    ASSERT_EQ(3u, stats(e).rule_errors);
    dt_destroy(e);
    PASS();
}

TEST a_string_longer_than_a_variable_holds_is_refused_and_counted(void) {
    sm_cap c;
    char big[DT_STATEFUL_MAX_STR + 2];
    dt_engine *e = sm_engine(&c, DT_RISK_MEDIUM);
    memset(big, 'x', sizeof big - 1);
    big[sizeof big - 1] = 0;
    ASSERT_EQ(DT_OK, sm_deploy(e, "machine m {\n"
                                  "  Idle -> Idle on X { $s = k; emit R(s = $s) }\n"
                                  "}\nlevel X = off"));
    sm_emit_s(e, "X", 1, 0, "k", big);
    ASSERT_STR_EQ("R@info{s=0}\n", c.out);
    ASSERT_EQ(1u, stats(e).overflows);
    dt_destroy(e);
    PASS();
}

TEST a_variable_after_a_field_in_an_engine_expression_is_refused(void) {
    sm_cap c;
    dt_error err;
    const char *bad = "machine m {\n  Idle -> Idle on X where depth > $limit\n}";
    dt_engine *e = sm_engine(&c, DT_RISK_MEDIUM);
    ASSERT_EQ(DT_ERR_SYNTAX, dt_deploy(e, bad, strlen(bad), &err));
    ASSERT_EQ(2, err.line);
    ASSERT_EQ(35, err.column);
    ASSERT_STR_EQ("a machine variable must lead its expression", err.message);
    dt_destroy(e);
    PASS();
}

TEST count_counts_events_in_aligned_windows(void) {
    sm_cap c;
    dt_engine *e = sm_engine(&c, DT_RISK_MEDIUM);
    ASSERT_EQ(DT_OK, sm_deploy(e, "on Beat where count(10s) > 2 { drop }"));
    sm_emit_i(e, "Beat", 1 * SM_SEC, 0, "n", 1);
    sm_emit_i(e, "Beat", 2 * SM_SEC, 0, "n", 2);
    sm_emit_i(e, "Beat", 3 * SM_SEC, 0, "n", 3);   /* third in [0,10s): dropped */
    sm_emit_i(e, "Beat", 9 * SM_SEC, 0, "n", 4);
    sm_emit_i(e, "Beat", 10 * SM_SEC, 0, "n", 5);  /* a new window */
    ASSERT_STR_EQ("Beat@info{n=1}\nBeat@info{n=2}\nBeat@info{n=5}\n", c.out);
    dt_destroy(e);
    PASS();
}

/* ---- statements ----------------------------------------------------------- */

TEST observe_fills_a_histogram_and_count_a_counter_per_window(void) {
    sm_cap c;
    dt_engine *e = sm_engine(&c, DT_RISK_MEDIUM);
    ASSERT_EQ(DT_OK, sm_deploy(e, "machine m {\n"
                                  "  every 10s\n"
                                  "  Idle -> Idle on Done { observe Ms = ms bounds (10, 100); count Done by code }\n"
                                  "}\nlevel Done = off"));
    sm_emit_kv2(e, "Done", 1 * SM_SEC, 5, 10);
    sm_emit_kv2(e, "Done", 2 * SM_SEC, 5, 50);
    sm_emit_kv2(e, "Done", 3 * SM_SEC, 7, 500);
    dt_tick(e, 10 * SM_SEC);                /* the window [0, 10s) closes */
    sm_emit_kv2(e, "Done", 11 * SM_SEC, 5, 1);
    dt_flush(e);
    ASSERT_STR_EQ("H:Ms{} n=3 sum=560 min=10 max=500 [1,1,1] @0-10\n"
                  "M:Done{code=5}=2\n"
                  "M:Done{code=7}=1\n"
                  "H:Ms{} n=1 sum=1 min=1 max=1 [1,0,0] @10-20\n"
                  "M:Done{code=5}=1\n", c.out);
    dt_destroy(e);
    PASS();
}

TEST annotate_adds_fields_and_drop_drops_the_event(void) {
    sm_cap c;
    dt_engine *e = sm_engine(&c, DT_RISK_MEDIUM);
    ASSERT_EQ(DT_OK, sm_deploy(e, "machine m {\n"
                                  "  by tid\n"
                                  "  Idle -> Seen on A { $s = sessionId }\n"
                                  "  Seen -> Seen on B { annotate sessionId = $s, n = 2 }\n"
                                  "  Seen -> Idle on C { drop }\n"
                                  "}"));
    sm_emit_s(e, "A", 1, 1, "sessionId", "S");
    sm_emit_i(e, "B", 2, 1, "x", 1);
    sm_emit_i(e, "B", 3, 2, "x", 1);        /* another thread: unchanged */
    sm_emit_i(e, "C", 4, 1, "x", 1);
    sm_emit_i(e, "C", 5, 1, "x", 2);        /* back in Idle: C passes */
    ASSERT_STR_EQ("A@info{sessionId=\"S\"}\nB@info{x=1,sessionId=\"S\",n=2}\nB@info{x=1}\nC@info{x=2}\n", c.out);
    dt_destroy(e);
    PASS();
}

TEST emitted_events_go_through_the_program_with_a_depth_limit(void) {
    sm_cap c;
    dt_engine *e = sm_engine(&c, DT_RISK_MEDIUM);
    ASSERT_EQ(DT_OK, sm_deploy(e, "on Ping { emit Ping(n = n + 1) }\n"
                                  "level Ping = warn"));
    sm_emit_i(e, "Ping", 1, 0, "n", 0);     /* Ping emits Ping: stopped by DT_MAX_EMIT_DEPTH */
    ASSERT_STR_EQ("", c.out);               /* info Pings are below warn */
    ASSERT_EQ((uint64_t)DT_MAX_EMIT_DEPTH - 1u, stats(e).events_emitted);   /* depths 1..3; the 4th is refused */
    ASSERT_EQ(1u, stats(e).emit_depth_exceeded);
    dt_destroy(e);
    PASS();
}

/* ---- actions and risk ------------------------------------------------------- */

TEST do_once_fires_once_per_instance_and_every_limits_the_rate(void) {
    sm_cap c;
    dt_engine *e = sm_engine(&c, DT_RISK_HIGH);
    ASSERT_EQ(DT_OK, sm_deploy(e, "machine m {\n"
                                  "  by tid\n"
                                  "  Idle -> Hashing on Start\n"
                                  "  Hashing -> Hashing on Err { do memory_dump(\"once\") once; do memory_dump(\"every\") every 10s }\n"
                                  "  Hashing -> Idle on End\n"
                                  "}\nlevel Start, Err, End = off"));
    sm_emit_i(e, "Start", 1 * SM_SEC, 1, "n", 0);
    sm_emit_i(e, "Err", 2 * SM_SEC, 1, "n", 0);
    sm_emit_i(e, "Err", 3 * SM_SEC, 1, "n", 0);
    sm_emit_i(e, "Err", 12 * SM_SEC, 1, "n", 0);
    sm_emit_i(e, "End", 13 * SM_SEC, 1, "n", 0);
    sm_emit_i(e, "Start", 14 * SM_SEC, 1, "n", 0);
    sm_emit_i(e, "Err", 15 * SM_SEC, 1, "n", 0);   /* a new pass, a new instance */
    ASSERT_STR_EQ("A:memory_dump(\"once\")@2\nA:memory_dump(\"every\")@2\nA:memory_dump(\"every\")@12\n"
                  "A:memory_dump(\"once\")@15\nA:memory_dump(\"every\")@15\n", c.out);
    dt_destroy(e);
    PASS();
}

TEST a_trigger_rearms_when_its_condition_says_so(void) {
    sm_cap c;
    dt_engine *e = sm_engine(&c, DT_RISK_HIGH);
    static const int64_t depths[] = {9999, 10000, 10001, 10002, 9000, 10003, 10004};
    size_t i;
    ASSERT_EQ(DT_OK, sm_deploy(e, "on LogEnqueueWork where depth > 10000 do memory_dump(depth) rearm when depth <= 10000\n"
                                  "level LogEnqueueWork = off"));
    for (i = 0; i < sizeof depths / sizeof depths[0]; i++) sm_emit_i(e, "LogEnqueueWork", ((int64_t)i + 1) * SM_SEC, 0, "depth", depths[i]);
    ASSERT_STR_EQ("A:memory_dump(10001)@3\nA:memory_dump(10003)@6\n", c.out);
    dt_destroy(e);
    PASS();
}

TEST host_actions_and_functions_make_a_machine_high_risk(void) {
    sm_cap c;
    dt_error err;
    dt_program_info info;
    const char *act = "machine m { A -> A on X { do memory_dump() } }";
    const char *fn = "on X where recompute(name) != 0 { emit Y }";
    const char *builtin = "machine m { A -> A on X { do flush(\"r\") } }";
    dt_engine *e = sm_engine(&c, DT_RISK_MEDIUM);
    ASSERT_EQ(DT_ERR_RISK, dt_deploy(e, act, strlen(act), &err));
    ASSERT_EQ(DT_ERR_RISK, dt_deploy(e, fn, strlen(fn), &err));
    ASSERT_EQ(DT_OK, dt_check(e, builtin, strlen(builtin), &err, &info));
    ASSERT_EQ(DT_RISK_MEDIUM, info.risk);
    dt_destroy(e);
    PASS();
}

TEST a_host_function_verifies_a_hash_in_production(void) {
    sm_cap c;
    dt_engine *e = sm_engine(&c, DT_RISK_HIGH);
    ASSERT_EQ(DT_OK, sm_deploy(e, "on LogEndFileHash where recompute(fileName) != hashValue {\n"
                                  "  emit ErrorInProductionHash(fileName = fileName, productHash = hashValue,\n"
                                  "                             comparisonHash = recompute(fileName)) level error\n"
                                  "}\nlevel LogEndFileHash = off"));
    sm_emit_hash(e, 1, "a.jpg", 5);         /* recompute gives the length: 5, a match */
    sm_emit_hash(e, 2, "bb.jpg", 5);
    ASSERT_STR_EQ("ErrorInProductionHash@error{fileName=\"bb.jpg\",productHash=5,comparisonHash=6}\n", c.out);
    dt_destroy(e);
    PASS();
}

/* ---- deploys -------------------------------------------------------------- */

TEST the_same_machine_keeps_its_instances_across_a_deploy_and_a_changed_one_starts_fresh(void) {
    sm_cap c;
    const char *prog = "machine m {\n  by k\n  Idle -> Open on Begin\n  Open -> Idle on End { emit Ended(k = k) }\n}\n"
                       "level Begin, End = off";
    dt_engine *e = sm_engine(&c, DT_RISK_MEDIUM);
    ASSERT_EQ(DT_OK, sm_deploy(e, prog));
    sm_emit_s(e, "Begin", 1, 0, "k", "a");
    ASSERT_EQ(DT_OK, sm_deploy(e, "# the same machine, another comment\nmachine m {\n  by k\n  Idle -> Open on Begin\n"
                                  "  Open -> Idle on End { emit Ended(k = k) }\n}\nlevel Begin, End = off"));
    sm_emit_s(e, "End", 2, 0, "k", "a");   /* carried over: a was Open */
    sm_emit_s(e, "Begin", 3, 0, "k", "b");
    ASSERT_EQ(DT_OK, sm_deploy(e, "machine m {\n  by k\n  Idle -> Open on Begin\n"
                                  "  Open -> Idle on End { emit Closed(k = k) }\n}\nlevel Begin, End = off"));
    sm_emit_s(e, "End", 4, 0, "k", "b");   /* changed: b starts in Idle */
    ASSERT_STR_EQ("Ended@info{k=\"a\"}\n", c.out);
    dt_destroy(e);
    PASS();
}

TEST machines_can_be_switched_off_by_name(void) {
    sm_cap c;
    dt_value name;
    dt_engine *e = sm_engine(&c, DT_RISK_MEDIUM);
    ASSERT_EQ(DT_OK, sm_deploy(e, "machine watcher { A -> A on X { emit Seen } }\n"
                                  "on Y do disable(\"watcher\")\nlevel X, Y = off"));
    sm_emit_i(e, "X", 1 * SM_SEC, 0, "n", 0);
    sm_emit_i(e, "Y", 2 * SM_SEC, 0, "n", 0);
    sm_emit_i(e, "X", 3 * SM_SEC, 0, "n", 0);
    name.type = DT_TYPE_STR;
    name.as.str = dt_cstr("watcher");
    ASSERT_EQ(DT_OK, dt_action_invoke(e, "enable", &name, 1));
    sm_emit_i(e, "X", 4 * SM_SEC, 0, "n", 0);
    ASSERT_STR_EQ("Seen@info{}\nA:disable(\"watcher\")@2\nA:enable(\"watcher\")@0\nSeen@info{}\n", c.out);
    dt_destroy(e);
    PASS();
}

/* ---- compile errors ------------------------------------------------------- */

TEST compile_errors_carry_their_position(void) {
    static const struct { const char *text; int line, column; const char *message; } cases[] = {
        {"machine m { }", 1, 11, "a machine needs at least one transition"},
        {"machine m {\n  A -> B on X\n  A -> B after 0s\n}", 3, 16, "a timeout must be longer than 0"},
        {"machine m {\n  A -> B after 1s\n  A -> C after 2s\n}", 3, 16, "this state already has a timeout"},
        {"machine m { * -> B after 1s }", 1, 13, "a timeout leaves one named state, not *"},
        {"machine m { A -> B on X { frobnicate } }", 1, 27, "expected a statement"},
        {"machine m { A -> B on X { do nothing_here() } }", 1, 30, "unknown action 'nothing_here'"},
        {"machine m { A -> B on X { do flush(\"r\") rearm when x > 1 } }", 1, 41, "rearm is for the `on` trigger form"},
        {"machine m { max 0 A -> B on X }", 1, 17, "number out of range"},
        {"on X where count(0s) > 1 do flush(\"r\")", 1, 12, "count() needs a window longer than 0"},
        {"on X do flush(\"r\") every", 1, 25, NULL},
    };
    sm_cap c;
    size_t i;
    dt_engine *e = sm_engine(&c, DT_RISK_MEDIUM);
    for (i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        dt_error err;
        memset(&err, 0, sizeof err);
        ASSERT_NEQm(cases[i].text, DT_OK, dt_deploy(e, cases[i].text, strlen(cases[i].text), &err));
        ASSERT_EQm(cases[i].text, cases[i].line, err.line);
        ASSERT_EQm(cases[i].text, cases[i].column, err.column);
        if (cases[i].message) ASSERT_EQm(cases[i].text, 0, strncmp(cases[i].message, err.message, strlen(cases[i].message)));
    }
    dt_destroy(e);
    PASS();
}

TEST an_open_count_window_keeps_an_instance_in_its_initial_state(void) {
    sm_cap c;
    dt_engine *e = sm_engine(&c, DT_RISK_MEDIUM);
    ASSERT_EQ(DT_OK, sm_deploy(e, "machine m {\n  by k\n  Idle -> Idle on Beat where count(10s) > 2 { drop }\n}"));
    sm_emit_s(e, "Beat", 1 * SM_SEC, 0, "k", "a");
    sm_emit_s(e, "Beat", 2 * SM_SEC, 0, "k", "b");
    sm_emit_s(e, "Beat", 3 * SM_SEC, 0, "k", "a");
    sm_emit_s(e, "Beat", 4 * SM_SEC, 0, "k", "a");   /* a's third in the window: dropped */
    ASSERT_STR_EQ("Beat@info{k=\"a\"}\nBeat@info{k=\"b\"}\nBeat@info{k=\"a\"}\n", c.out);
    dt_destroy(e);
    PASS();
}

TEST past_64_metric_groups_values_are_refused_and_reported(void) {
    sm_cap c;
    int64_t i;
    dt_engine *e = sm_engine(&c, DT_RISK_MEDIUM);
    ASSERT_EQ(DT_OK, sm_deploy(e, "machine m { Idle -> Idle on Done { count Done by code } }\nlevel Done = off"));
    for (i = 0; i < 66; i++) sm_emit_kv2(e, "Done", 1 * SM_SEC, i, 0);
    dt_flush(e);
    ASSERT_EQ(0, strncmp("M:Done{code=0}=1\n", c.out, 17));
    ASSERT(strstr(c.out, "M:Done{code=63}=1\n") != NULL);
    ASSERT(strstr(c.out, "code=64") == NULL);
    ASSERT(strstr(c.out, "M:dt.machine.refused{machine=\"m\"}=2\n") != NULL);
    ASSERT_EQ(2u, stats(e).overflows);
    dt_destroy(e);
    PASS();
}

SUITE(stateful) {
    RUN_TEST(first_matching_transition_in_program_order_wins);
    RUN_TEST(an_event_no_transition_matches_does_nothing);
    RUN_TEST(an_instance_back_in_its_initial_state_is_deleted);
    RUN_TEST(a_star_transition_leaves_any_state);
    RUN_TEST(entry_and_exit_run_around_the_transition_and_not_on_a_self_transition);
    RUN_TEST(a_timeout_fires_at_its_deadline_before_the_event_that_passes_it);
    RUN_TEST(timeouts_fire_in_deadline_order_on_a_tick);
    RUN_TEST(an_event_without_its_key_does_not_reach_the_machine_and_is_counted);
    RUN_TEST(keys_of_several_fields_and_by_tid_make_separate_instances);
    RUN_TEST(past_its_bound_a_machine_evicts_the_least_recently_used_instance);
    RUN_TEST(a_million_distinct_keys_stay_within_the_bound_and_fixed_memory);
    RUN_TEST(many_timeouts_due_at_once_each_have_their_own_budget);
    RUN_TEST(variables_hold_numbers_and_strings_per_instance);
    RUN_TEST(run_time_errors_in_machine_expressions_give_null_and_are_counted);
    RUN_TEST(a_string_longer_than_a_variable_holds_is_refused_and_counted);
    RUN_TEST(a_variable_after_a_field_in_an_engine_expression_is_refused);
    RUN_TEST(count_counts_events_in_aligned_windows);
    RUN_TEST(an_open_count_window_keeps_an_instance_in_its_initial_state);
    RUN_TEST(past_64_metric_groups_values_are_refused_and_reported);
    RUN_TEST(observe_fills_a_histogram_and_count_a_counter_per_window);
    RUN_TEST(annotate_adds_fields_and_drop_drops_the_event);
    RUN_TEST(emitted_events_go_through_the_program_with_a_depth_limit);
    RUN_TEST(do_once_fires_once_per_instance_and_every_limits_the_rate);
    RUN_TEST(a_trigger_rearms_when_its_condition_says_so);
    RUN_TEST(host_actions_and_functions_make_a_machine_high_risk);
    RUN_TEST(a_host_function_verifies_a_hash_in_production);
    RUN_TEST(the_same_machine_keeps_its_instances_across_a_deploy_and_a_changed_one_starts_fresh);
    RUN_TEST(machines_can_be_switched_off_by_name);
    RUN_TEST(compile_errors_carry_their_position);
}
