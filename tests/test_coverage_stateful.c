/* Coverage of dt_stateful.h's corners (issue 8: branch coverage found them
 * untested): every comparison and arithmetic case of machine expressions,
 * the compile errors of each construct with their positions, allocation
 * failure at each point of a machine's compile, keys of every type,
 * overlapping patterns, metric labels, the bounds of effects and scratch,
 * timeouts without an event, the timer bounds per event and per tick,
 * hand-over into one stripe, budgets, and times near the ends of i64.
 * Each test asserts the exact output the sinks see, or the exact error. */
#include <math.h>
#include <stdlib.h>

#include "greatest.h"
#include "dt.h"
#include "dt_stateful.h"
#include "support.h"
#include "stateful_support.h"
#define REL_PROCESSORS_LINKED 1
#include "reliability.h"

/* A desc with both processors and the sm_* sinks into c, for tests that
 * set more than sm_engine does (budget, allocator, sinks). */
static dt_desc cs_desc(sm_cap *c) {
    static const dt_processor *procs[2];
    dt_desc d;
    memset(c, 0, sizeof *c);
    procs[0] = dt_stateful_processor();
    procs[1] = dt_stateful_trigger_processor();
    d = sup_desc(c, &c->now, 1);
    d.sinks.event = sm_on_event;
    d.sinks.metric = sm_on_metric;
    d.processors = procs;
    d.nprocessors = 2;
    d.self_interval_ns = -1;
    return d;
}

/* ---- machine expressions ----------------------------------------------- */

/* One case: v = EXPR over $x = x and $y = y. A field is given as "i:5",
 * "u:5", "f:1.5" (or "f:nan"), "s:text", "y:bytes", "b:1", or "n" (the
 * event lacks it). v is the emitted value as sup_fmt_value prints it. */
typedef struct cs_case {
    const char *expr, *x, *y, *v;
    unsigned errors;         /* rule errors counted */
} cs_case;

static dt_field cs_field(const char *name, const char *spec) {
    const char *v = spec + 2;
    switch (spec[0]) {
    case 'b': return dt_field_bool(name, v[0] == '1');
    case 'i': return dt_field_i64(name, strtoll(v, NULL, 10));
    case 'u': return dt_field_u64(name, strtoull(v, NULL, 10));
#if !DT_NO_FLOAT
    case 'f': return dt_field_f64(name, strcmp(v, "nan") ? strtod(v, NULL) : NAN);
#endif
    case 's': return dt_field_str(name, v);
    case 'y': return dt_field_bytes(name, v, strlen(v));
    default: return dt_field_i64("absent", 0);
    }
}

static enum greatest_test_res cs_run(const cs_case *k) {
    char prog[512], want[256], label[256];
    sm_cap c;
    dt_field f[2];
    dt_engine *e = sm_engine(&c, DT_RISK_MEDIUM);
    snprintf(prog, sizeof prog, "machine m { Idle -> Idle on T { $x = x; $y = y; emit R(v = %s) } }\nlevel T = off",
             k->expr);
    snprintf(label, sizeof label, "%s (x %s, y %s)", k->expr, k->x, k->y);
    ASSERT_EQm(label, DT_OK, sm_deploy(e, prog));
    f[0] = cs_field("x", k->x);
    f[1] = cs_field("y", k->y);
    sup_emit_fields(e, "T", DT_INFO, 7 * SM_SEC, 42, f, 2);
    snprintf(want, sizeof want, "R@info{v=%s}\n", k->v);
    ASSERT_STR_EQm(label, want, c.out);
    ASSERT_EQm(label, (uint64_t)k->errors, stats(e).rule_errors);
    dt_destroy(e);
    PASS();
}

static enum greatest_test_res cs_table(const cs_case *cases, size_t n) {
    size_t i;
    for (i = 0; i < n; i++) CHECK_CALL(cs_run(&cases[i]));
    PASS();
}

#define CS_TABLE(cases) cs_table((cases), sizeof(cases) / sizeof((cases)[0]))

TEST machine_comparisons_of_strings_bytes_and_booleans(void) {
    static const cs_case cases[] = {
        {"$x == $y", "s:abc", "s:abc", "true", 0},
        {"$x < $y", "s:ab", "s:abc", "true", 0},          /* a prefix sorts first */
        {"$x > $y", "s:abc", "s:ab", "true", 0},
        {"$x < $y", "s:abd", "s:abc", "false", 0},
        {"$x < $y", "s:abc", "s:abd", "true", 0},
        {"$x == $y", "s:", "s:abc", "false", 0},
        {"$x >= $y", "y:ab", "y:ab", "true", 0},
        {"$x == $y", "s:ab", "y:ab", "null", 1},          /* str with bytes: a type error */
        {"$x == $y", "y:ab", "s:ab", "null", 1},
        {"$x == $y", "b:1", "b:1", "true", 0},
        {"$x == $y", "b:1", "b:0", "false", 0},
        {"$x != $y", "b:1", "b:0", "true", 0},
        {"$x != $y", "b:0", "b:0", "false", 0},
        {"$x < $y", "b:0", "b:1", "null", 1},             /* booleans do not order */
        {"$x <= $y", "b:1", "b:1", "null", 1},
        {"$x == $y", "b:1", "i:1", "null", 1},
        {"$x == 1", "s:a", "n", "null", 1},
        {"$x == $y", "i:1", "s:a", "null", 1},
    };
    return CS_TABLE(cases);
}

TEST machine_comparisons_of_numbers_and_null(void) {
    static const cs_case cases[] = {
        {"$x == $y", "i:3", "i:3", "true", 0},
        {"$x != $y", "i:3", "i:4", "true", 0},
        {"$x < $y", "i:3", "i:4", "true", 0},
        {"$x <= $y", "i:4", "i:4", "true", 0},
        {"$x > $y", "i:5", "i:4", "true", 0},
        {"$x >= $y", "i:3", "i:4", "false", 0},
        {"$x == $y", "u:5", "i:5", "true", 0},            /* a u64 that fits compares as i64 */
        {"$x < $y", "i:-1", "u:1", "true", 0},
        {"$x == z", "i:1", "n", "null", 0},               /* a missing field is null */
        {"$x + z == 1", "i:1", "n", "null", 0},
        {"$x == null", "i:1", "n", "null", 0},
    };
    return CS_TABLE(cases);
}

TEST machine_integer_arithmetic_and_its_overflows(void) {
    static const cs_case cases[] = {
        {"$x + $y", "i:5", "i:-3", "2", 0},
        {"$x + $y", "i:5", "i:0", "5", 0},
        {"$x + $y", "i:-9223372036854775808", "i:-1", "null", 1},
        {"$x - $y", "i:5", "i:-3", "8", 0},
        {"$x - $y", "i:5", "i:3", "2", 0},
        {"$x - $y", "i:5", "i:0", "5", 0},
        {"$x - $y", "i:9223372036854775807", "i:-1", "null", 1},
        {"$x - $y", "i:-9223372036854775808", "i:1", "null", 1},
        {"$x * $y", "i:0", "i:7", "0", 0},
        {"$x * $y", "i:7", "i:0", "0", 0},
        {"$x * $y", "i:3", "i:-3", "-9", 0},
        {"$x * $y", "i:-3", "i:3", "-9", 0},
        {"$x * $y", "i:-3", "i:-3", "9", 0},
        {"$x * $y", "i:-1", "i:5", "-5", 0},
        {"$x * $y", "i:5", "i:-1", "-5", 0},
        {"$x * $y", "i:-1", "i:-9223372036854775808", "null", 1},
        {"$x * $y", "i:-9223372036854775808", "i:-1", "null", 1},
        {"$x * $y", "i:9223372036854775807", "i:2", "null", 1},
        {"$x * $y", "i:9223372036854775807", "i:-2", "null", 1},
        {"$x * $y", "i:-2", "i:9223372036854775807", "null", 1},
        {"$x * $y", "i:-9223372036854775808", "i:-2", "null", 1},
        {"$x / $y", "i:-7", "i:2", "-3", 0},
        {"$x / $y", "i:7", "i:0", "null", 1},
        {"$x / $y", "i:-9223372036854775808", "i:-1", "null", 1},
        {"$x / $y", "i:-9223372036854775808", "i:2", "-4611686018427387904", 0},
        {"$x % $y", "i:-7", "i:3", "-1", 0},
        {"$x % $y", "i:7", "i:0", "null", 1},
        {"$x % $y", "i:-9223372036854775808", "i:-1", "0", 0},   /* as the engine's: no overflow in a remainder */
        {"$x + $y", "s:a", "i:1", "null", 1},
        {"$x + $y", "i:1", "s:a", "null", 1},
        {"$x + $y", "b:1", "i:1", "null", 1},
        {"$x + z", "i:1", "n", "null", 0},
        {"$x + z + 1", "i:1", "n", "null", 0},
        {"$x == -$y", "i:-3", "i:3", "true", 0},
        {"$x + -$y", "i:1", "i:-9223372036854775808", "null", 1},
        {"$x * (2 + $y)", "i:3", "i:1", "9", 0},
        {"$x + 1s", "i:0", "n", "1000000000", 0},
        {"$x + 2KiB", "i:0", "n", "2048", 0},
    };
    return CS_TABLE(cases);
}

TEST machine_float_arithmetic_and_nan(void) {
#if DT_NO_FLOAT
    SUP_NEEDS_FLOAT();
#else
    static const cs_case cases[] = {
        {"$x < $y", "f:1.5", "i:2", "true", 0},
        {"$x > $y", "f:2.5", "i:2", "true", 0},
        {"$x == $y", "f:2", "i:2", "true", 0},
        {"$x == $y", "f:nan", "i:1", "false", 0},         /* NaN is unordered */
        {"$x != $y", "f:nan", "i:1", "true", 0},
        {"$x < $y", "i:1", "f:nan", "false", 0},
        {"$x + $y", "f:1.5", "i:1", "2.5", 0},
        {"$x - $y", "f:1.5", "i:1", "0.5", 0},
        {"$x * $y", "f:1.5", "i:2", "3", 0},
        {"$x / $y", "f:3", "i:2", "1.5", 0},
        {"$x % $y", "f:3", "i:2", "null", 1},             /* % is for integers */
        {"$x + 1.5", "i:1", "n", "2.5", 0},
    };
    return CS_TABLE(cases);
#endif
}

/* Beyond i64 a u64 is an f64; without floating point, a rule error. */
TEST a_u64_beyond_i64_is_an_f64_or_without_floating_point_an_error(void) {
    static const cs_case cases[] = {
#if !DT_NO_FLOAT
        {"$x + 1", "u:18446744073709551615", "n", "1.84467e+19", 0},
        {"$x + 18446744073709551615", "i:0", "n", "1.84467e+19", 0},
        {"$x > $y", "u:18446744073709551615", "i:1", "true", 0},
#else
        {"$x + 1", "u:18446744073709551615", "n", "null", 1},
        {"$x + 18446744073709551615", "i:0", "n", "null", 1},
        {"$x > $y", "u:18446744073709551615", "i:1", "null", 1},
#endif
        {"$x + 1", "u:9223372036854775807", "n", "null", 1},       /* fits i64: i64 overflow */
    };
    return CS_TABLE(cases);
}

TEST machine_logic_literals_and_event_names(void) {
    static const cs_case cases[] = {
        {"$x and $y", "b:1", "b:1", "true", 0},
        {"$x and $y", "b:1", "b:0", "false", 0},
        {"$x and $y", "b:0", "b:1", "false", 0},
        {"$x && $y", "b:1", "b:1", "true", 0},
        {"$x or $y", "b:0", "b:1", "true", 0},
        {"$x or $y", "b:1", "b:0", "true", 0},
        {"$x or $y", "b:0", "b:0", "false", 0},
        {"$x || $y", "b:0", "b:1", "true", 0},
        {"$x and not $y", "b:1", "b:0", "true", 0},
        {"$x and not $y", "b:1", "i:1", "true", 0},       /* not: true unless true */
        {"$x or !$y", "b:0", "b:1", "false", 0},
        {"$x > 1 and $y < 1", "i:2", "i:0", "true", 0},
        {"$x == true", "b:1", "n", "true", 0},
        {"$x == false", "b:0", "n", "true", 0},
        {"$x == warn", "i:13", "n", "true", 0},           /* a level name is its number */
        {"$x == WARN", "i:13", "n", "null", 0},           /* capitalised: a field */
        {"$x == name", "s:T", "n", "true", 0},
        {"$x + level", "i:0", "n", "9", 0},
        {"$x + ts", "i:0", "n", "7000000000", 0},
        {"$x + tid", "i:0", "n", "42", 0},
        {"$x + elapsed", "i:0", "n", "null", 0},          /* no parenthesis: a field */
    };
    return CS_TABLE(cases);
}

TEST variables_hold_every_type_and_a_missing_field_as_0(void) {
    static const cs_case cases[] = {
        {"$x", "b:1", "n", "true", 0},
        {"$x", "y:abc", "n", "0x616263", 0},
        {"$x", "s:", "n", "\"\"", 0},
        {"$x", "u:7", "n", "7", 0},
        {"$x", "n", "n", "0", 0},
        {"$x == $y", "y:", "y:", "true", 0},
    };
    return CS_TABLE(cases);
}

TEST bytes_longer_than_a_variable_holds_are_refused_and_counted(void) {
    sm_cap c;
    char big[DT_STATEFUL_MAX_STR + 1];
    dt_field f;
    dt_engine *e = sm_engine(&c, DT_RISK_MEDIUM);
    memset(big, 'x', sizeof big);
    ASSERT_EQ(DT_OK, sm_deploy(e, "machine m { Idle -> Idle on X { $s = k; emit R(s = $s) } }\nlevel X = off"));
    f = dt_field_bytes("k", big, sizeof big);
    sup_emit_fields(e, "X", DT_INFO, 1, 0, &f, 1);
    f = dt_field_bytes("k", big, sizeof big - 1);       /* exactly DT_STATEFUL_MAX_STR: kept */
    sup_emit_fields(e, "X", DT_INFO, 2, 0, &f, 1);
    ASSERT_EQ(0, strncmp("R@info{s=0}\nR@info{s=0x7878", c.out, 26));
    ASSERT_EQ(1u, stats(e).overflows);
    dt_destroy(e);
    PASS();
}

TEST counts_window_in_negative_time_too(void) {
    sm_cap c;
    dt_engine *e = sm_engine(&c, DT_RISK_MEDIUM);
    ASSERT_EQ(DT_OK, sm_deploy(e, "on Beat { emit N(n = count(10s)) }\nlevel Beat = off"));
    sm_emit_i(e, "Beat", -15 * SM_SEC, 0, "k", 0);   /* [-20s, -10s) */
    sm_emit_i(e, "Beat", -5 * SM_SEC, 0, "k", 0);    /* [-10s, 0) */
    sm_emit_i(e, "Beat", -1 * SM_SEC, 0, "k", 0);
    sm_emit_i(e, "Beat", 1 * SM_SEC, 0, "k", 0);     /* [0, 10s) */
    ASSERT_STR_EQ("N@info{n=1}\nN@info{n=1}\nN@info{n=2}\nN@info{n=1}\n", c.out);
    dt_destroy(e);
    PASS();
}

/* ---- compile errors ------------------------------------------------------- */

typedef struct cs_error {
    const char *text;
    int line, column;
    const char *message;     /* NULL: the program compiles */
} cs_error;

/* Deploys text and checks the outcome: DT_OK when message is NULL, else
 * that message at line:column, and the hint too unless it is NULL. */
static enum greatest_test_res cs_error_is(dt_engine *e, const char *text, int line, int column, const char *message,
                                          const char *hint) {
    dt_error err;
    int rc;
    memset(&err, 0, sizeof err);
    rc = dt_deploy(e, text, strlen(text), &err);
    if (!message) {
        ASSERT_EQm(err.message, DT_OK, rc);
        PASS();
    }
    ASSERT_NEQm(text, DT_OK, rc);
    if (err.line != line || err.column != column) fprintf(stderr, "\n%s\n  -> %d:%d %s\n", text, err.line, err.column, err.message);
    ASSERT_STR_EQm(text, message, err.message);
    ASSERT_EQm(text, line, err.line);
    ASSERT_EQm(text, column, err.column);
    if (hint) ASSERT_STR_EQm(text, hint, err.hint);
    PASS();
}

static enum greatest_test_res cs_errors(const cs_error *cases, size_t n) {
    sm_cap c;
    size_t i;
    dt_engine *e = sm_engine(&c, DT_RISK_MEDIUM);
    for (i = 0; i < n; i++) CHECK_CALL(cs_error_is(e, cases[i].text, cases[i].line, cases[i].column, cases[i].message, NULL));
    dt_destroy(e);
    PASS();
}

#define CS_ERRORS(cases) cs_errors((cases), sizeof(cases) / sizeof((cases)[0]))

TEST machine_expression_errors_carry_their_position(void) {
    static const cs_error cases[] = {
        {"machine m { A -> B on X where elapsed(1) > 0 }", 1, 39, "expected ')', found a number"},
        {"machine m { A -> B on X where count(x) > 0 }", 1, 37, "expected a duration, found 'x'"},
        {"machine m { A -> B on X where count(1s > 0 }", 1, 40, "expected ')', found '>'"},
        {"machine m { A -> B on X where count(1s) + count(2s) + count(3s) + count(4s) + count(5s) + count(6s) + "
         "count(7s) + count(8s) + count(9s) > 0 }", 1, 127, "at most 8 count() per machine"},
        {"machine m { A -> B on X where $x == f(1) }", 1, 37, "function calls cannot follow a variable in one expression yet"},
        {"machine m { A -> B on X where $x == f (1) }", 1, 39, "expected a machine line"},
        {"machine m { A -> B on X where $x > elapsed () }", 1, 44, "expected a machine line"},   /* a field */
        {"machine m { A -> B on X where $x + (((((((((((((((((((((((((((((((((1))))))))))))))))))))))))))))))))) > 0 }",
         1, 68, "expression nested too deeply"},
        {"machine m { A -> B on X where $x + - - - - - - - - - - - - - - - - - - - - - - - - - - - - - - - - - 1 > 0 }",
         1, 100, "expression nested too deeply"},
        {"machine m { A -> B on X where $x + (1 + ) > 0 }", 1, 41, "expected a value"},
        {"machine m { A -> B on X where $x + (1 > 0 }", 1, 43, "expected ')', found '}'"},
        {"machine m { A -> B on X where $x + , }", 1, 36, "expected a value"},
        {"machine m { A -> B on X where $x + - }", 1, 38, "expected a value"},
        {"machine m { A -> B on X where ) }", 1, 31, "expected a value, found ')'"},
        {"machine m { A -> B on X where $x + 1 + 1 + 1 + 1 + 1 + 1 + 1 + 1 + 1 + 1 + 1 + 1 + 1 + 1 + 1 + 1 + 1 + 1 + 1 "
         "+ 1 + 1 + 1 + 1 + 1 + 1 + 1 + 1 + 1 + 1 + 1 + 1 + 1 + 1 + 1 + 1 + 1 + 1 + 1 + 1 + 1 + 1 + 1 + 1 + 1 + 1 + 1 "
         "+ 1 + 1 + 1 + 1 + 1 + 1 + 1 + 1 + 1 + 1 + 1 + 1 + 1 + 1 + 1 + 1 + 1 + 1 > 0 }",
         1, 286, "expression too deep to evaluate safely"},
        {"machine m { A -> B on X { $v0 = 1; $v1 = 1; $v2 = 1; $v3 = 1; $v4 = 1; $v5 = 1; $v6 = 1; $v7 = 1 }\n"
         "  B -> A on X { $v8 = 1; $v9 = 1; $v10 = 1; $v11 = 1; $v12 = 1; $v13 = 1; $v14 = 1; $v15 = 1; $v16 = 1 } }",
         2, 95, "at most 16 variables per machine"},
        {"machine m { A -> B on X where $v0 + $v1 + $v2 + $v3 + $v4 + $v5 + $v6 + $v7 + $v8 + $v9 + $v10 + $v11 + $v12 "
         "+ $v13 + $v14 + $v15 + $v16 > 0 }", 1, 133, "at most 16 variables per machine"},
    };
    return CS_ERRORS(cases);
}

/* A `$` the engine's expression would read as a field is refused where it
 * stands, wherever the expression ends; one in a string, a comment or a
 * name is not a variable. */
TEST a_variable_inside_an_engine_expression_is_found_where_it_stands(void) {
    static const cs_error cases[] = {
        {"on X do flush(\"r\") rearm when n > $x", 1, 35, "a machine variable must lead its expression"},
        {"on X where n > 1 and m < $limit", 1, 26, "a machine variable must lead its expression"},
        {"machine m { A -> B on X where n >\n   $x }", 2, 4, "a machine variable must lead its expression"},
        {"machine m { A -> B on X where 'it\\'s' == s and n > $x }", 1, 52, "a machine variable must lead its expression"},
        {"machine m { A -> B on X where \"a$\" == s }", 0, 0, NULL},
        {"machine m { A -> B on X where s == \"a\\\"$b\" { emit N(v = \"$x\", w = 'cost $5') } }", 0, 0, NULL},
        {"machine m { A -> B on X where n > 1 # $cost\n  B -> A on Y where n > 1 // $c\n  B -> A on Z }", 0, 0, NULL},
        {"machine m { A -> B on X where cost$usd > 1 and m.$n == 2 and @$k == 3 }", 0, 0, NULL},
        {"machine m { A -> B on X where n > 1 / 2 }", 0, 0, NULL},
    };
    return CS_ERRORS(cases);
}

TEST machine_statement_errors_carry_their_position(void) {
    static const cs_error cases[] = {
        {"machine m { A -> B on X { emit N() } }", 0, 0, NULL},
        {"machine m { A -> B on X { emit N(f0 = 1, f1 = 1, f2 = 1, f3 = 1, f4 = 1, f5 = 1, f6 = 1, f7 = 1, f8 = 1) } }",
         1, 98, "at most 8 fields"},
        {"machine m { A -> B on X { emit N(1) } }", 1, 34, "expected a field name, found a number"},
        {"machine m { A -> B on X { emit N(a 1) } }", 1, 36, "expected '=', found a number"},
        {"machine m { A -> B on X { emit 5 } }", 1, 32, "expected the name of the event to emit, found a number"},
        {"machine m { A -> B on X { emit N (a = 1) } }", 1, 34, "expected a statement"},   /* ( must join */
        {"machine m { A -> B on X { emit N(a = 1 b = 2) } }", 1, 40, "expected ')', found 'b'"},
        {"machine m { A -> B on X { emit N level loud } }", 1, 40, "expected a level, found 'loud'"},
        {"machine m { A -> B on X { observe V = 1 bounds 5 } }", 1, 48, "expected '(', found a number"},
        {"machine m { A -> B on X { observe V = 1 bounds (a) } }", 1, 49, "a bound is a number"},
        {"machine m { A -> B on X { observe V = 1 bounds (0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16) } }",
         1, 103, "at most 16 bounds"},
        {"machine m { A -> B on X { observe V = 1 bounds (5, 5) } }", 1, 52, "bounds must increase"},
        {"machine m { A -> B on X { observe V = 1 bounds (1ms, 2ms) } }", 0, 0, NULL},
        {"machine m { A -> B on X { observe 5 = 1 } }", 1, 35, "expected a metric name, found a number"},
        {"machine m { A -> B on X { observe V 1 } }", 1, 37, "expected '=', found a number"},
        {"machine m { A -> B on X { observe V = ) } }", 1, 39, "expected a value, found ')'"},
        {"machine m { A -> B on X { count C by 5 } }", 1, 38, "expected a label name, found a number"},
        {"machine m { A -> B on X { count C by c = ) } }", 1, 42, "expected a value, found ')'"},
        {"machine m { A -> B on X { do 5() } }", 1, 30, "expected an action name"},
        {"machine m { A -> B on X { do flush \"r\" } }", 1, 36, "expected '(', found a string"},
        {"machine m { A -> B on X { do emit(\"N\", info, \"f0\", 1, \"f1\", 1, \"f2\", 1, \"f3\", 1) } }",
         1, 73, "at most 8 arguments"},
        {"machine m { A -> B on X { do flush(\"r\" \"s\") } }", 1, 40, "expected ')', found a string"},
        {"on X do flush(\"r\") rearm x > 1", 1, 26, "expected 'when', found 'x'"},
        {"on X do flush(\"r\") rearm when )", 1, 31, "expected a value, found ')'"},
        {"machine m { A -> B on X { $a 1 } }", 1, 30, "expected '=', found a number"},
        {"machine m { A -> B on X { emit N", 1, 33, "expected '}', found the end of the program"},
        {"machine m { A -> B on X { emit N0; emit N1; emit N2; emit N3; emit N4; emit N5; emit N6; emit N7; emit N8; "
         "emit N9; emit N10; emit N11; emit N12; emit N13; emit N14; emit N15; emit N16 } }",
         1, 177, "at most 16 statements in a block"},
        {"on X { emit N", 1, 14, "expected '}', found the end of the program"},
        {"on X emit N", 1, 6, "expected 'do', found 'emit'"},
        {"machine m { entry A emit N A -> B on X }", 1, 21, "expected '{', found 'emit'"},
        {"on X do 5", 1, 9, "expected an action name"},
    };
    return CS_ERRORS(cases);
}

#define CS_LINES "initial S, by FIELD, max N, every D, entry S {...}, exit S {...}"
#define CS_ARROW "a transition: FROM -> TO on EVENT; other lines: " CS_LINES
#define CS_LINE "lines: FROM -> TO on EVENT ..., FROM -> TO after D, " CS_LINES
#define CS_BOUND "bounds (-10, 0, 10)"
#define CS_RATE "write every 1m, or once"
#define CS_STATES "check the spelling; the transitions' states are S, T"

/* Findings of the processors' keyword matrix (tests/test_hostile.c), each
 * now an error at the token to fix that says what to write, or accepted:
 * a missing '->', negative bounds, a zero rate limit, and a state that no
 * transition uses. */
TEST machine_findings_are_reported_at_the_token_with_the_fix(void) {
    static const struct { const char *text; int line, column; const char *message, *hint; } cases[] = {
        {"machine m { S on T on A }", 1, 15, "expected '->', found 'on'", CS_ARROW},
        {"machine m { intial S; S -> T on A }", 1, 20, "expected '->', found 'S'", CS_ARROW},
        {"machine m { S }", 1, 13, "expected a machine line", CS_LINE},
        {"machine m { S -> T on A where $v query 1 }", 1, 34, "expected a machine line", CS_LINE},
        {"machine m { S -> T on A ( }", 1, 25, "expected a machine line", CS_LINE},
        {"machine m { A -> B on X { observe V = 1 bounds (-10, -1, 0, 5) } }", 0, 0, NULL, NULL},
        {"machine m { A -> B on X { observe V = 1 bounds (-1s, -1ms, 0, 1s) } }", 0, 0, NULL, NULL},
        {"machine m { A -> B on X { observe V = 1 bounds (-x) } }", 1, 50, "a bound is a number", CS_BOUND},
        {"machine m { A -> B on X { observe V = 1 bounds (- -1) } }", 1, 51, "a bound is a number", CS_BOUND},
        {"machine m { A -> B on X { observe V = 1 bounds (0, -1) } }", 1, 52, "bounds must increase", ""},
        {"on A do flush(\"r\") every 0", 1, 26, "a rate limit must be longer than 0", CS_RATE},
        {"machine m { S -> T on A { do flush(\"r\") every 0s } }", 1, 47, "a rate limit must be longer than 0", CS_RATE},
        {"machine m { S -> T on A { do flush(\"r\") every 1ns } }", 0, 0, NULL, NULL},
        {"machine m { S -> T on A; initial X }", 1, 34, "state 'X' is not used by any transition", CS_STATES},
        {"machine m { entry X { drop } S -> T on A }", 1, 19, "state 'X' is not used by any transition", CS_STATES},
        {"machine m { S -> T on A; exit X { drop } }", 1, 31, "state 'X' is not used by any transition", CS_STATES},
        {"machine m { initial T; S -> T on A }", 0, 0, NULL, NULL},                        /* named before its transition */
        {"machine m { S -> T on A; * -> X on B; entry X { drop } }", 0, 0, NULL, NULL},   /* entered only from any state */
        {"machine m { initial W; W -> S after 5s; S -> T on A }", 0, 0, NULL, NULL},     /* left only by a timeout */
    };
    sm_cap c;
    dt_engine *e = sm_engine(&c, DT_RISK_MEDIUM);
    size_t i;
    for (i = 0; i < sizeof cases / sizeof cases[0]; i++)
        CHECK_CALL(cs_error_is(e, cases[i].text, cases[i].line, cases[i].column, cases[i].message, cases[i].hint));
    dt_destroy(e);
    PASS();
}

/* bounds (-10, -1, 0, 5): OTel buckets (-inf,-10] (-10,-1] (-1,0] (0,5] (5,+inf). */
TEST negative_bounds_divide_a_histogram_of_deltas(void) {
    static const int64_t deltas[] = {-20, -10, -5, -1, 0, 3, 7};
    sm_cap c;
    dt_engine *e = sm_engine(&c, DT_RISK_MEDIUM);
    size_t i;
    ASSERT_EQ(DT_OK, sm_deploy(e, "machine m { Idle -> Idle on Delta { observe D = d bounds (-10, -1, 0, 5) } }\n"
                                  "level Delta = off"));
    for (i = 0; i < sizeof deltas / sizeof deltas[0]; i++) sm_emit_i(e, "Delta", 1 * SM_SEC, 0, "d", deltas[i]);
    dt_flush(e);
    ASSERT_STR_EQ("H:D{} n=7 sum=-26 min=-20 max=7 [2,2,1,1,1] @0-60\n", c.out);
    dt_destroy(e);
    PASS();
}

TEST machine_line_errors_carry_their_position(void) {
    static const cs_error cases[] = {
        {"machine m { A -> 5 on X }", 1, 18, "expected a state name"},
        {"machine m { A -> B on 5 }", 1, 23, "expected an event name or pattern, found a number"},
        {"machine m { 5 -> B on X }", 1, 13, "expected a state name"},
        {"machine m { * B on X }", 1, 15, "expected '->', found 'B'"},
        {"machine m { A -> B after x }", 1, 26, "expected a duration, found 'x'"},
        {"machine m { A -> B X }", 1, 20, "expected 'on', found 'X'"},
        {"machine m { by a, b, c, d, e A -> B on X }", 1, 28, "at most 4 key fields"},
        {"machine m { by 5 A -> B on X }", 1, 16, "expected a key field, or tid, found a number"},
        {"machine m { max x A -> B on X }", 1, 17, "expected the most instances (1 to 1048576), found 'x'"},
        {"machine m { every x A -> B on X }", 1, 19, "expected a duration, found 'x'"},
        {"machine m { every 0s A -> B on X }", 1, 19, "a metric window must be longer than 0"},
        {"machine m { entry 5 { } A -> B on X }", 1, 19, "expected a state name"},
        {"machine 5 { A -> B on X }", 1, 9, "expected a machine name, found a number"},
        {"machine m { A -> B on X", 1, 24, "expected '}', found the end of the program"},
        {"machine m { A -> B on X0, X1, X2, X3, X4, X5, X6, X7, X8, X9, X10, X11, X12, X13, X14, X15, X16 }",
         1, 93, "at most 16 patterns in one list"},
        {"machine m { ; A -> B on X ; }", 0, 0, NULL},
        {"machine m { A -> B on X { } }", 0, 0, NULL},
        {"machine m { A -> B on *, X* } machine n { A -> B on *, * }", 0, 0, NULL},
    };
    return CS_ERRORS(cases);
}

/* Tables of one machine past their bound: states, patterns, transitions,
 * metric statements and limited actions, each refused where it is written. */
TEST machine_bounds_are_refused_at_the_one_past_them(void) {
    static char text[5][8192];
    static const char *const what[5] = {"at most 32 states per machine", "at most 32 event patterns per machine",
                                        "at most 64 transitions per machine", "too many metric statements in one machine",
                                        "at most 16 limited actions per machine"};
    static const int line[5] = {33, 34, 66, 10, 18}, column[5] = {8, 11, 1, 16, 20};
    cs_error cases[5];
    int i, j;
    for (i = 0; i < 5; i++) sup_put(text[i], sizeof text[i], 0, "machine m {\n");
    for (i = 0; i < 33; i++) {                             /* S0 -> S1 ... S32: 33 states */
        char one[64];
        snprintf(one, sizeof one, "S%d -> S%d on X\n", i, i + 1);
        sup_append(text[0], sizeof text[0], one);
        snprintf(one, sizeof one, "A -> B on Pat%d\n", i);   /* 33 patterns */
        sup_append(text[1], sizeof text[1], one);
    }
    for (i = 0; i < 65; i++) sup_append(text[2], sizeof text[2], "A -> B on X\n");
    for (i = 0; i < 9; i++) {                              /* 9 x 16 metric statements: 144 > 128 */
        char one[64];
        snprintf(one, sizeof one, "A -> B on X%d {", i);
        sup_append(text[3], sizeof text[3], one);
        for (j = 0; j < 16; j++) sup_append(text[3], sizeof text[3], " count C;");
        sup_append(text[3], sizeof text[3], " }\n");
    }
    for (i = 0; i < 17; i++) {
        char one[64];
        snprintf(one, sizeof one, "A -> B on X%d { do flush(\"r\") once }\n", i);
        sup_append(text[4], sizeof text[4], one);
    }
    for (i = 0; i < 5; i++) {
        sup_append(text[i], sizeof text[i], "}");
        cases[i].text = text[i];
        cases[i].line = line[i];
        cases[i].column = column[i];
        cases[i].message = what[i];
    }
    return CS_ERRORS(cases);
}

/* ---- allocation failure while compiling ----------------------------------- */

/* Every construct that allocates while compiling, after a string of pad
 * bytes: as the pad grows, each allocation in turn is the one that needs a
 * new arena chunk, and so the one that fails. */
static void cs_padded_program(char *out, size_t size, size_t pad) {
    char padding[4200];
    memset(padding, 'p', pad);
    padding[pad] = 0;
    snprintf(out, size,
             "machine m {\n"
             "  by k\n"
             "  max 2\n"
             "  A -> B on X where s != \"%s\"\n"
             "  A -> B on Y where elapsed() > 0 and count(1s) > 1\n"
             "  A -> B on V where s != \"%s\" { $a = $a * -(2 + 1); $b = $a + \"%s\" + 2 }\n"
             "  A -> B on U where s != \"%s\" { count C by code; observe O = $a by w = k }\n"
             "  B -> A on W where s != \"%s\" { }\n"
             "  B -> A after 1s { emit N(v = $a) }\n"
             "}\n"
             "on Z where s != \"%s\" do flush(\"r\") once\n",
             padding, padding, padding, padding, padding, padding);
}

TEST an_allocation_failure_anywhere_in_a_machine_is_a_clean_deploy_error(void) {
    static char text[28000];
    sm_cap c;
    rel_alloc a;
    dt_desc d = cs_desc(&c);
    dt_engine *e;
    size_t pad;
    long failures = 0;
    d.allocator = rel_allocator(&a, 0, 0);
    e = dt_create(&d);
    ASSERT(e != NULL);
    for (pad = 0; pad <= 4096; pad += 8) {
        long n;
        cs_padded_program(text, sizeof text, pad);
        for (n = 2; n < 100; n++) {                       /* 1: the program itself (no message: see the report) */
            dt_error err;
            long live = a.live;
            int rc;
            a.fail_at = a.calls + n;
            rc = dt_deploy(e, text, strlen(text), &err);
            a.fail_at = 0;
            if (rc == DT_OK) break;
            if (rc != DT_ERR_NOMEM) fprintf(stderr, "pad %zu n %ld rc %d %d:%d %s\n", pad, n, rc, err.line, err.column, err.message);
            ASSERT_EQ(DT_ERR_NOMEM, rc);
            ASSERT_STR_EQ("out of memory while compiling the program", err.message);
            ASSERT_EQ(live, a.live);                      /* nothing of the failed program is left */
            failures++;
        }
        ASSERT(n < 100);
    }
    ASSERT(failures > 513);
    dt_destroy(e);
    ASSERT_EQ(0, a.live);
    PASS();
}

/* ---- keys and patterns ---------------------------------------------------- */

TEST keys_of_every_type_make_their_own_instances(void) {
    sm_cap c;
    char longkey[DT_MAX_KEY];
    dt_field f[10];
    dt_engine *e = sm_engine(&c, DT_RISK_MEDIUM);
    int pass, i;
    memset(longkey, 'k', sizeof longkey - 1);
    longkey[sizeof longkey - 1] = 0;                   /* 63 bytes + type + length: past DT_MAX_KEY */
    ASSERT_EQ(DT_OK, sm_deploy(e, "machine m {\n"
                                  "  by k\n"
                                  "  Idle -> Open on X { $n = 1; emit N(n = $n, k = k) }\n"
                                  "  Open -> Open on X { $n = $n + 1; emit N(n = $n, k = k) }\n"
                                  "}\nlevel X = off"));
    f[0] = dt_field_i64("k", 5);
    f[1] = dt_field_u64("k", 5);                       /* an i64 and a u64 are different keys */
    f[2] = dt_field_bool("k", 1);
    f[3] = dt_field_str("k", "ab");
    f[4] = dt_field_bytes("k", "ab", 2);               /* so are a str and bytes */
    f[5] = dt_field_str("k", "");
    f[6] = dt_field_f64("k", 5);                       /* no keys: */
    f[7] = dt_field_str("k", longkey);
    memset(&f[8], 0, sizeof f[8]);                     /* null */
    f[8].name = dt_cstr("k");
    f[9] = dt_field_bool("k", 0);
    for (pass = 0; pass < 2; pass++)
        for (i = 0; i < 10; i++) sup_emit_fields(e, "X", DT_INFO, 1 + pass, 0, &f[i], 1);
    dt_flush(e);
    ASSERT_STR_EQ("N@info{n=1,k=5}\nN@info{n=1,k=5}\nN@info{n=1,k=true}\nN@info{n=1,k=\"ab\"}\nN@info{n=1,k=0x6162}\n"
                  "N@info{n=1,k=\"\"}\nN@info{n=1,k=false}\n"
                  "N@info{n=2,k=5}\nN@info{n=2,k=5}\nN@info{n=2,k=true}\nN@info{n=2,k=\"ab\"}\nN@info{n=2,k=0x6162}\n"
                  "N@info{n=2,k=\"\"}\nN@info{n=2,k=false}\n"
                  "M:dt.machine.instances{machine=\"m\"}=7\nM:dt.machine.evicted{machine=\"m\"}=0\n"
                  "M:dt.machine.unkeyed{machine=\"m\"}=6\n", c.out);
    dt_destroy(e);
    PASS();
}

/* An event that matches several patterns of a machine is handled once,
 * by the first transition in program order that takes it. */
TEST overlapping_patterns_offer_an_event_once(void) {
    sm_cap c;
    dt_engine *e = sm_engine(&c, DT_RISK_MEDIUM);
    static const char *const names[] = {"LogX", "LogY", "Lo", "Lxg", "LogX", "Other"};
    size_t i;
    ASSERT_EQ(DT_OK, sm_deploy(e, "machine m {\n"
                                  "  A -> B on LogX { emit Exact }\n"
                                  "  A -> C on Log* { emit Prefix }\n"
                                  "  B -> A on L* { emit Any }\n"
                                  "  C -> A on Other { emit Back }\n"
                                  "}\nlevel LogX, LogY, Lo, Lxg, Other = off"));
    for (i = 0; i < sizeof names / sizeof names[0]; i++) sm_emit_i(e, names[i], (int64_t)i + 1, 0, "n", 0);
    /* LogX: A -> B; LogY: B -> A on L*; Lo, Lxg: nothing leaves A on L*; LogX: A -> B; Other: not in B */
    ASSERT_STR_EQ("Exact@info{}\nAny@info{}\nExact@info{}\n", c.out);
    dt_destroy(e);
    PASS();
}

/* ---- metrics ---------------------------------------------------------------- */

TEST metric_labels_of_strings_and_bytes_and_values_that_are_not_numbers(void) {
    sm_cap c;
    char big[DT_MAX_KEY + 2];
    dt_field f[2];
    dt_engine *e = sm_engine(&c, DT_RISK_MEDIUM);
    memset(big, 'w', sizeof big - 1);
    big[sizeof big - 1] = 0;
    ASSERT_EQ(DT_OK, sm_deploy(e, "machine m { Idle -> Idle on Done { count Hits by who; observe Ms = ms } }\n"
                                  "level Done = off"));
    f[0] = dt_field_str("who", "a");
    f[1] = dt_field_i64("ms", 5);
    sup_emit_fields(e, "Done", DT_INFO, 1 * SM_SEC, 0, f, 2);
    f[1] = dt_field_i64("ms", 2);                      /* a new minimum */
    sup_emit_fields(e, "Done", DT_INFO, 2 * SM_SEC, 0, f, 2);
    f[0] = dt_field_bytes("who", "a", 1);              /* bytes "a" is not str "a" */
    f[1] = dt_field_str("ms", "slow");                 /* not a number: a rule error, not observed */
    sup_emit_fields(e, "Done", DT_INFO, 3 * SM_SEC, 0, f, 2);
    f[0] = dt_field_str("who", "");
    sup_emit_fields(e, "Done", DT_INFO, 4 * SM_SEC, 0, f, 1);   /* no ms: null, not observed, no error */
    f[0] = dt_field_str("who", big);                   /* longer than DT_MAX_KEY: refused */
    sup_emit_fields(e, "Done", DT_INFO, 5 * SM_SEC, 0, f, 1);
    dt_flush(e);
    ASSERT_STR_EQ("M:Hits{who=\"a\"}=2\n"
                  "H:Ms{} n=2 sum=7 min=2 max=5 [0,2,0,0,0,0,0,0,0,0,0,0,0,0,0,0] @0-60\n"
                  "M:Hits{who=0x61}=1\n"
                  "M:Hits{who=\"\"}=1\n"
                  "M:dt.machine.instances{machine=\"m\"}=0\nM:dt.machine.evicted{machine=\"m\"}=0\n"
                  "M:dt.machine.unkeyed{machine=\"m\"}=0\nM:dt.machine.refused{machine=\"m\"}=1\n", c.out);
    ASSERT_EQ(1u, stats(e).rule_errors);
    ASSERT_EQ(1u, stats(e).overflows);
    dt_destroy(e);
    PASS();
}

TEST a_value_past_the_window_closes_it_without_a_tick(void) {
    sm_cap c;
    dt_engine *e = sm_engine(&c, DT_RISK_MEDIUM);
    ASSERT_EQ(DT_OK, sm_deploy(e, "machine m { every 10s Idle -> Idle on Done { count Done } }\nlevel Done = off"));
    sm_emit_i(e, "Done", 1 * SM_SEC, 0, "n", 0);
    sm_emit_i(e, "Done", 2 * SM_SEC, 0, "n", 0);
    sm_emit_i(e, "Done", 25 * SM_SEC, 0, "n", 0);      /* [0, 10s) closes; [20s, 30s) opens */
    ASSERT_STR_EQ("M:Done{}=2\n", c.out);
    dt_flush(e);
    ASSERT_STR_EQ("M:Done{}=2\nM:Done{}=1\n", c.out);
    dt_destroy(e);
    PASS();
}

/* ---- effects and the event's scratch -------------------------------------- */

TEST past_four_effects_or_512_string_bytes_an_effect_is_refused_alone(void) {
    sm_cap c;
    char k[201];
    dt_engine *e = sm_engine(&c, DT_RISK_MEDIUM);
    memset(k, 'k', sizeof k - 1);
    k[sizeof k - 1] = 0;
    ASSERT_EQ(DT_OK, sm_deploy(e, "machine m {\n"
                                  "  Idle -> Idle on Many { emit A; emit B; emit C; emit D; emit E }\n"
                                  "  Idle -> Idle on Big { emit F(a = k, b = k, c = k); emit G(a = k, b = k) }\n"
                                  "}\nlevel Many, Big = off"));
    sm_emit_s(e, "Many", 1, 0, "k", "x");              /* E is the fifth */
    ASSERT_STR_EQ("A@info{}\nB@info{}\nC@info{}\nD@info{}\n", c.out);
    ASSERT_EQ(1u, stats(e).overflows);
    c.out[0] = 0;
    sm_emit_s(e, "Big", 2, 0, "k", k);                 /* F needs 600 bytes: refused; G's 400 fit */
    ASSERT_EQ(0, strncmp("G@info{a=\"kkk", c.out, 13));
    ASSERT_EQ(2u, stats(e).overflows);
    dt_destroy(e);
    PASS();
}

TEST annotate_copies_strings_into_the_event_scratch_while_it_has_room(void) {
    sm_cap c;
    char k[301];
    dt_field f[2];
    dt_engine *e = sm_engine(&c, DT_RISK_MEDIUM);
    memset(k, 'k', sizeof k - 1);
    k[sizeof k - 1] = 0;
    ASSERT_EQ(DT_OK, sm_deploy(e, "machine m {\n"
                                  "  Idle -> Idle on S { annotate a = b, e = \"\" }\n"
                                  "  Idle -> Idle on L { annotate a = k, b = k, c = k, d = k }\n"
                                  "}"));
    f[0] = dt_field_bytes("b", "xy", 2);
    sup_emit_fields(e, "S", DT_INFO, 1, 0, f, 1);
    ASSERT_STR_EQ("S@info{b=0x7879,a=0x7879,e=\"\"}\n", c.out);
    c.out[0] = 0;
    f[0] = dt_field_str("k", k);
    sup_emit_fields(e, "L", DT_INFO, 2, 0, f, 1);      /* DT_EXEC_ARENA holds three copies of 300 bytes */
    ASSERT(strstr(c.out, ",c=\"kkk") != NULL);
    ASSERT(strstr(c.out, ",d=") == NULL);
    ASSERT_EQ(1u, stats(e).overflows);
    dt_destroy(e);
    PASS();
}

/* ---- timeouts ----------------------------------------------------------------- */

TEST a_timeout_has_no_event_to_annotate_or_drop(void) {
    sm_cap c;
    dt_engine *e = sm_engine(&c, DT_RISK_MEDIUM);
    ASSERT_EQ(DT_OK, sm_deploy(e, "machine m {\n"
                                  "  by k\n"
                                  "  Idle -> Wait on Open { $k = k }\n"
                                  "  Wait -> Idle after 5s { annotate late = 1; drop; emit Gone(k = $k, f = k) }\n"
                                  "  exit Wait { drop }\n"
                                  "}\nlevel Open = off"));
    sm_emit_s(e, "Open", 1 * SM_SEC, 0, "k", "a");
    dt_tick(e, 10 * SM_SEC);
    ASSERT_STR_EQ("Gone@info{k=\"a\",f=null}@6\n", sm_last_ts(&c));
    ASSERT_STR_EQ("Gone@info{k=\"a\",f=null}\n", c.out);
    dt_destroy(e);
    PASS();
}

/* Back in the initial state with its own timeout armed, an instance is
 * kept until the timeout fires, then deleted (its variables start over). */
TEST an_initial_state_timeout_keeps_its_instance_until_it_fires(void) {
    sm_cap c;
    dt_engine *e = sm_engine(&c, DT_RISK_MEDIUM);
    ASSERT_EQ(DT_OK, sm_deploy(e, "machine m {\n"
                                  "  by k\n"
                                  "  A -> B on Go { $n = $n + 1 }\n"
                                  "  B -> A on Back { emit N(n = $n) }\n"
                                  "  A -> A after 10s { emit Quiet(n = $n) }\n"
                                  "}\nlevel Go, Back = off"));
    sm_emit_s(e, "Go", 1 * SM_SEC, 0, "k", "a");
    sm_emit_s(e, "Back", 2 * SM_SEC, 0, "k", "a");
    sm_emit_s(e, "Go", 3 * SM_SEC, 0, "k", "a");      /* kept: the second pass counts on */
    sm_emit_s(e, "Back", 4 * SM_SEC, 0, "k", "a");
    dt_tick(e, 20 * SM_SEC);                          /* Quiet at 14 s; then deleted */
    sm_emit_s(e, "Go", 21 * SM_SEC, 0, "k", "a");
    sm_emit_s(e, "Back", 22 * SM_SEC, 0, "k", "a");
    ASSERT_STR_EQ("N@info{n=1}\nN@info{n=2}\nQuiet@info{n=2}\nN@info{n=1}\n", c.out);
    dt_destroy(e);
    PASS();
}

/* After a count() window closes, an instance back in its initial state
 * is not kept for it; nor for a count() it never reached. */
TEST a_closed_or_unused_count_window_does_not_keep_an_instance(void) {
    sm_cap c;
    dt_engine *e = sm_engine(&c, DT_RISK_MEDIUM);
    ASSERT_EQ(DT_OK, sm_deploy(e, "machine m {\n"
                                  "  by k\n"
                                  "  Idle -> Idle on Beat where count(10s) > 2 { drop }\n"
                                  "  Idle -> Busy on Go\n"
                                  "  Busy -> Idle on Stop\n"
                                  "}\nlevel Beat, Go, Stop = off"));
    sm_emit_s(e, "Beat", 1 * SM_SEC, 0, "k", "a");    /* kept: its window is open */
    sm_emit_s(e, "Go", 15 * SM_SEC, 0, "k", "a");
    sm_emit_s(e, "Stop", 16 * SM_SEC, 0, "k", "a");   /* window [0, 10s) over: deleted */
    sm_emit_s(e, "Go", 17 * SM_SEC, 0, "k", "b");
    sm_emit_s(e, "Stop", 18 * SM_SEC, 0, "k", "b");   /* never counted: deleted */
    sm_emit_s(e, "Beat", 19 * SM_SEC, 0, "k", "c");   /* kept */
    sm_emit_i(e, "Beat", 19 * SM_SEC, 0, "other", 0); /* no key: makes the machine report */
    dt_flush(e);
    ASSERT_STR_EQ("M:dt.machine.instances{machine=\"m\"}=1\nM:dt.machine.evicted{machine=\"m\"}=0\n"
                  "M:dt.machine.unkeyed{machine=\"m\"}=1\n", c.out);
    dt_destroy(e);
    PASS();
}

/* Deadlines and `every` near the end of time saturate instead of wrapping. */
TEST a_timeout_or_rate_past_the_end_of_time_never_comes(void) {
    sm_cap c;
    dt_engine *e = sm_engine(&c, DT_RISK_HIGH);
    ASSERT_EQ(DT_OK, sm_deploy(e, "machine m {\n"
                                  "  Idle -> Wait on Open\n"
                                  "  Wait -> Idle after 2562047h { emit Late }\n"
                                  "  Wait -> Wait on Err { do memory_dump() every 2562047h }\n"
                                  "}\nlevel Open, Err = off"));
    sm_emit_i(e, "Open", 3600 * SM_SEC, 0, "n", 0);
    sm_emit_i(e, "Err", 3601 * SM_SEC, 0, "n", 0);
    sm_emit_i(e, "Err", 7200 * SM_SEC, 0, "n", 0);
    dt_tick(e, 8000 * SM_SEC);
    ASSERT_STR_EQ("A:memory_dump()@3601\n", c.out);
    dt_tick(e, INT64_MAX);
    ASSERT_STR_EQ("A:memory_dump()@3601\nLate@info{}\n", c.out);
    dt_destroy(e);
    PASS();
}

/* Deadlines that come in no order fire in deadline order: the heap moves
 * entries up and down, and instances leave it from the middle. */
TEST timeouts_fire_in_deadline_order_whatever_order_they_were_set_in(void) {
    sm_cap c;
    char want[2048] = "";
    dt_engine *e = sm_engine(&c, DT_RISK_MEDIUM);
    int i;
    static const int order[] = {1, 3, 5, 7, 9, 11, 13, 15, 17, 19, 0, 2, 4, 8, 10, 12, 14, 16, 18};
    ASSERT_EQ(DT_OK, sm_deploy(e, "machine m {\n"
                                  "  by k\n"
                                  "  max 60\n"                               /* one stripe, one heap */
                                  "  Idle -> Slow on Open where k % 2 == 0 { $k = k }\n"
                                  "  Idle -> Fast on Open { $k = k }\n"
                                  "  Slow -> Idle after 100s { emit T(k = $k) }\n"
                                  "  Fast -> Idle after 50s { emit T(k = $k) }\n"
                                  "  * -> Idle on Close\n"
                                  "}\nlevel Open, Close = off"));
    for (i = 0; i < 20; i++) sm_emit_i(e, "Open", (int64_t)(i + 1) * SM_SEC, 0, "k", i);
    sm_emit_i(e, "Close", 21 * SM_SEC, 0, "k", 6);    /* leaves the heap from the middle */
    dt_tick(e, 200 * SM_SEC);
    for (i = 0; i < 19; i++) {
        char one[32];
        snprintf(one, sizeof one, "T@info{k=%d}\n", order[i]);
        sup_append(want, sizeof want, one);
    }
    ASSERT_STR_EQ(want, c.out);
    dt_destroy(e);
    PASS();
}

TEST float_bounds_divide_a_histogram(void) {
    sm_cap c;
    dt_engine *e;
    SUP_NEEDS_FLOAT();
    e = sm_engine(&c, DT_RISK_MEDIUM);
    ASSERT_EQ(DT_OK, sm_deploy(e, "machine m { Idle -> Idle on Done { observe Ms = ms bounds (0.5, 2.5) } }\n"
                                  "level Done = off"));
    sm_emit_f(e, "Done", 1 * SM_SEC, "ms", 0.5);
    sm_emit_f(e, "Done", 2 * SM_SEC, "ms", 1);
    sm_emit_f(e, "Done", 3 * SM_SEC, "ms", 3);
    dt_flush(e);
    ASSERT_STR_EQ("H:Ms{} n=3 sum=4.5 min=0.5 max=3 [1,1,1] @0-60\n", c.out);
    dt_destroy(e);
    PASS();
}

/* ---- instances: initial state, stripes, the table, hand-over --------------- */

TEST initial_names_the_initial_state_wherever_it_is_written(void) {
    sm_cap c;
    dt_engine *e = sm_engine(&c, DT_RISK_MEDIUM);
    ASSERT_EQ(DT_OK, sm_deploy(e, "machine m {\n"
                                  "  by k\n"
                                  "  Busy -> Idle on Done { emit Finished }\n"
                                  "  Idle -> Busy on Start { emit Started }\n"
                                  "  initial Idle\n"
                                  "}\nlevel Start, Done = off"));
    sm_emit_s(e, "Done", 1, 0, "k", "a");             /* Idle: nothing leaves on Done */
    sm_emit_s(e, "Start", 2, 0, "k", "a");
    sm_emit_s(e, "Done", 3, 0, "k", "a");
    ASSERT_STR_EQ("Started@info{}\nFinished@info{}\n", c.out);
    dt_destroy(e);
    PASS();
}

/* 129 instances: two stripes of 65 and 64 (one of 129 without threads);
 * either way 129 live and the rest evicted. */
TEST a_bound_that_does_not_divide_into_stripes_is_kept_exactly(void) {
    sm_cap c;
    int64_t i;
    dt_engine *e = sm_engine(&c, DT_RISK_MEDIUM);
    ASSERT_EQ(DT_OK, sm_deploy(e, "machine m { by k max 129 Idle -> Open on Open }\nlevel Open = off"));
    for (i = 0; i < 300; i++) sm_emit_i(e, "Open", i + 1, 0, "k", i);
    dt_flush(e);
    ASSERT_STR_EQ("M:dt.machine.instances{machine=\"m\"}=129\nM:dt.machine.evicted{machine=\"m\"}=171\n"
                  "M:dt.machine.unkeyed{machine=\"m\"}=0\n", c.out);
    ASSERT_EQ(171u, stats(e).overflows);
    dt_destroy(e);
    PASS();
}

/* A model of one stripe: live keys, most recently used first. */
typedef struct cs_lru {
    int64_t key[4], n[4];
    int live;
    uint64_t evicted;
} cs_lru;

static int cs_lru_find(const cs_lru *l, int64_t k) {
    int i;
    for (i = 0; i < l->live; i++)
        if (l->key[i] == k) return i;
    return -1;
}

static void cs_lru_remove(cs_lru *l, int i) {
    memmove(&l->key[i], &l->key[i + 1], sizeof l->key[0] * (size_t)(l->live - i - 1));
    memmove(&l->n[i], &l->n[i + 1], sizeof l->n[0] * (size_t)(l->live - i - 1));
    l->live--;
}

static void cs_lru_front(cs_lru *l, int64_t k, int64_t n) {
    if (l->live == 4) { cs_lru_remove(l, 3); l->evicted++; }
    memmove(&l->key[1], &l->key[0], sizeof l->key[0] * (size_t)l->live);
    memmove(&l->n[1], &l->n[0], sizeof l->n[0] * (size_t)l->live);
    l->key[0] = k;
    l->n[0] = n;
    l->live++;
}

/* What the machine below should print for Open or Close of k. */
static void cs_lru_step(cs_lru *l, int close, int64_t k, char *out, size_t size) {
    int i = cs_lru_find(l, k);
    char line[64];
    int64_t n = i >= 0 ? l->n[i] + 1 : 1;
    if (i >= 0) cs_lru_remove(l, i);
    if (close) {
        if (i < 0) return;
        snprintf(line, sizeof line, "C@info{k=%lld,n=%lld}\n", (long long)k, (long long)(n - 1));
    } else {
        cs_lru_front(l, k, n);
        if (i < 0) return;
        snprintf(line, sizeof line, "N@info{k=%lld,n=%lld}\n", (long long)k, (long long)n);
    }
    sup_append(out, size, line);
}

/* Keys come and go through a machine of four instances (a table of eight
 * slots): collisions, deletions from the middle of a probe run and of the
 * LRU list, evictions. The output follows a plain model exactly. */
TEST instances_come_and_go_as_a_model_lru_says(void) {
    static char want[16384];
    char report[200];
    sm_cap c;
    cs_lru l;
    uint32_t r = 12345;
    int op;
    dt_engine *e = sm_engine(&c, DT_RISK_MEDIUM);
    memset(&l, 0, sizeof l);
    want[0] = 0;
    ASSERT_EQ(DT_OK, sm_deploy(e, "machine m {\n"
                                  "  by k\n"
                                  "  max 4\n"
                                  "  Idle -> Open on Open { $n = 1 }\n"
                                  "  Open -> Open on Open { $n = $n + 1; emit N(k = k, n = $n) }\n"
                                  "  Open -> Idle on Close { emit C(k = k, n = $n) }\n"
                                  "}\nlevel Open, Close = off"));
    for (op = 0; op < 400; op++) {
        int64_t k;
        int close;
        r = r * 1103515245u + 12345u;                   /* a fixed pseudo-random walk */
        k = (int64_t)((r >> 16) % 10u);
        close = (r >> 8) % 3u == 0;
        sm_emit_i(e, close ? "Close" : "Open", op + 1, 0, "k", k);
        cs_lru_step(&l, close, k, want, sizeof want);
    }
    ASSERT_STR_EQ(want, c.out);
    ASSERT(l.evicted > 20u);
    c.out[0] = 0;
    dt_flush(e);
    snprintf(report, sizeof report, "M:dt.machine.instances{machine=\"m\"}=%d\nM:dt.machine.evicted{machine=\"m\"}=%llu\n"
             "M:dt.machine.unkeyed{machine=\"m\"}=0\n", l.live, (unsigned long long)l.evicted);
    ASSERT_STR_EQ(report, c.out);
    dt_destroy(e);
    PASS();
}

TEST a_machine_of_one_stripe_hands_its_instances_over(void) {
    sm_cap c;
    const char *machine = "machine m {\n  by k\n  max 10\n  Idle -> Open on Open { $k = k }\n"
                          "  Open -> Idle on Close { emit Closed(k = $k) }\n}\nlevel Open, Close = off";
    char next[300];
    dt_engine *e = sm_engine(&c, DT_RISK_MEDIUM);
    ASSERT_EQ(DT_OK, sm_deploy(e, machine));
    sm_emit_s(e, "Open", 1, 0, "k", "a");
    sm_emit_s(e, "Open", 2, 0, "k", "b");
    snprintf(next, sizeof next, "%s\nlevel Other = off", machine);
    ASSERT_EQ(DT_OK, sm_deploy(e, next));             /* the same machine: a takes its instances */
    sm_emit_s(e, "Close", 3, 0, "k", "b");
    sm_emit_s(e, "Close", 4, 0, "k", "a");
    ASSERT_STR_EQ("Closed@info{k=\"b\"}\nClosed@info{k=\"a\"}\n", c.out);
    dt_destroy(e);
    PASS();
}

/* ---- budgets ---------------------------------------------------------------- */

/* Over budget at a statement, or inside an expression: the block is
 * switched off; effects queued before stay, and none is made of values
 * the budget cut short. Steps: 1 to dispatch, 1 per statement, 1 per
 * machine expression node (so 10 for one event here). */
TEST a_machine_over_its_budget_stops_where_it_is(void) {
    static const struct { uint32_t budget; const char *out; uint64_t trips; } cases[] = {
        {2, "A@info{}\n", 1},                             /* at the second statement */
        {4, "A@info{}\n", 1},                             /* inside $x + 1 + 1 */
        {9, "A@info{}\n", 1},                             /* inside B's argument: no B(a=null) */
        {10, "A@info{}\nB@info{a=2}\nA@info{}\nB@info{a=2}\n", 0},
    };
    size_t i;
    for (i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        sm_cap c;
        dt_desc d = cs_desc(&c);
        dt_engine *e;
        d.budget_steps = cases[i].budget;
        e = dt_create(&d);
        ASSERT_EQ(DT_OK, sm_deploy(e, "machine m { Idle -> Idle on T { emit A; $a = $x + 1 + 1; emit B(a = $a) } }\n"
                                      "level T = off"));
        sm_emit_i(e, "T", 1, 0, "n", 0);
        sm_emit_i(e, "T", 2, 0, "n", 0);                /* switched off after a trip */
        ASSERT_STR_EQ(cases[i].out, c.out);
        ASSERT_EQ(cases[i].trips, stats(e).budget_trips);
        dt_destroy(e);
    }
    PASS();
}

/* ---- the timer bounds -------------------------------------------------------- */

typedef struct cs_count {
    uint64_t events;
} cs_count;

static void cs_count_event(const dt_event *ev, void *ud) {
    (void)ev;
    ((cs_count *)ud)->events++;
}

/* 70000 timeouts due at once: an event fires at most
 * DT_STATEFUL_TIMER_FIRES of its stripe, a tick that many per stripe; the
 * rest fire at the next ticks. The budget is raised: with the default
 * (10000 steps, one per timeout here) the tick would switch the machine
 * off (reported to the lead: timeouts share the budget of the event or
 * tick that fires them). */
TEST due_timeouts_fire_at_most_4096_per_stripe_per_event_or_tick(void) {
    sm_cap c;
    cs_count n;
    dt_desc d = cs_desc(&c);
    dt_engine *e;
    int64_t i;
    uint64_t ticks = 0, per_tick = (uint64_t)DT_STATEFUL_TIMER_FIRES * DT_SHARDS;   /* stripes: DT_SHARDS */
    memset(&n, 0, sizeof n);
    d.sinks.user_data = &n;
    d.sinks.event = cs_count_event;
    d.sinks.metric = NULL;
    d.budget_steps = 1000000;
    e = dt_create(&d);
    ASSERT_EQ(DT_OK, sm_deploy(e, "machine m {\n"
                                  "  by k\n"
                                  "  max 100000\n"
                                  "  Idle -> Wait on Open\n"
                                  "  Wait -> Idle after 1s { emit Missing }\n"
                                  "}\nlevel Open = off"));
    for (i = 0; i < 70000; i++) sm_emit_i(e, "Open", 1 * SM_SEC, 0, "k", i);
    ASSERT_EQ(0u, n.events);
    sm_emit_i(e, "Open", 10 * SM_SEC, 0, "k", -1);    /* its stripe holds more than 4096 due */
    ASSERT_EQ((uint64_t)DT_STATEFUL_TIMER_FIRES, n.events);
    dt_tick(e, 10 * SM_SEC);
    ASSERT_EQ((uint64_t)DT_STATEFUL_TIMER_FIRES + per_tick, n.events);
    while (n.events < 70000u && ticks++ < 100u) dt_tick(e, 10 * SM_SEC);
    ASSERT_EQ(70000u, n.events);
    dt_tick(e, 10 * SM_SEC);
    ASSERT_EQ(70000u, n.events);                      /* the new key's timeout is not due */
    dt_destroy(e);
    PASS();
}

/* Timeouts spread over the stripes fire in one deadline order across them. */
TEST a_tick_fires_the_timeouts_of_all_stripes_in_deadline_order(void) {
    sm_cap c;
    char want[1024] = "";
    int64_t i;
    dt_engine *e = sm_engine(&c, DT_RISK_MEDIUM);
    ASSERT_EQ(DT_OK, sm_deploy(e, "machine m {\n"
                                  "  by k\n"
                                  "  Idle -> Wait on Open { $k = k }\n"
                                  "  Wait -> Idle after 100s { emit T(k = $k) }\n"
                                  "}\nlevel Open = off"));
    for (i = 0; i < 40; i++) {
        char one[32];
        sm_emit_i(e, "Open", (i + 1) * SM_SEC, 0, "k", (i * 7) % 40);
        snprintf(one, sizeof one, "T@info{k=%lld}\n", (long long)((i * 7) % 40));
        sup_append(want, sizeof want, one);
    }
    dt_tick(e, 200 * SM_SEC);
    ASSERT_STR_EQ(want, c.out);
    dt_destroy(e);
    PASS();
}

SUITE(coverage_stateful) {
    RUN_TEST(machine_comparisons_of_strings_bytes_and_booleans);
    RUN_TEST(machine_comparisons_of_numbers_and_null);
    RUN_TEST(machine_integer_arithmetic_and_its_overflows);
    RUN_TEST(machine_float_arithmetic_and_nan);
    RUN_TEST(a_u64_beyond_i64_is_an_f64_or_without_floating_point_an_error);
    RUN_TEST(machine_logic_literals_and_event_names);
    RUN_TEST(variables_hold_every_type_and_a_missing_field_as_0);
    RUN_TEST(bytes_longer_than_a_variable_holds_are_refused_and_counted);
    RUN_TEST(counts_window_in_negative_time_too);
    RUN_TEST(machine_expression_errors_carry_their_position);
    RUN_TEST(a_variable_inside_an_engine_expression_is_found_where_it_stands);
    RUN_TEST(machine_statement_errors_carry_their_position);
    RUN_TEST(machine_line_errors_carry_their_position);
    RUN_TEST(machine_findings_are_reported_at_the_token_with_the_fix);
    RUN_TEST(negative_bounds_divide_a_histogram_of_deltas);
    RUN_TEST(machine_bounds_are_refused_at_the_one_past_them);
    RUN_TEST(an_allocation_failure_anywhere_in_a_machine_is_a_clean_deploy_error);
    RUN_TEST(keys_of_every_type_make_their_own_instances);
    RUN_TEST(overlapping_patterns_offer_an_event_once);
    RUN_TEST(metric_labels_of_strings_and_bytes_and_values_that_are_not_numbers);
    RUN_TEST(a_value_past_the_window_closes_it_without_a_tick);
    RUN_TEST(past_four_effects_or_512_string_bytes_an_effect_is_refused_alone);
    RUN_TEST(annotate_copies_strings_into_the_event_scratch_while_it_has_room);
    RUN_TEST(a_timeout_has_no_event_to_annotate_or_drop);
    RUN_TEST(an_initial_state_timeout_keeps_its_instance_until_it_fires);
    RUN_TEST(a_closed_or_unused_count_window_does_not_keep_an_instance);
    RUN_TEST(a_timeout_or_rate_past_the_end_of_time_never_comes);
    RUN_TEST(timeouts_fire_in_deadline_order_whatever_order_they_were_set_in);
    RUN_TEST(float_bounds_divide_a_histogram);
    RUN_TEST(initial_names_the_initial_state_wherever_it_is_written);
    RUN_TEST(a_bound_that_does_not_divide_into_stripes_is_kept_exactly);
    RUN_TEST(instances_come_and_go_as_a_model_lru_says);
    RUN_TEST(a_machine_of_one_stripe_hands_its_instances_over);
    RUN_TEST(a_machine_over_its_budget_stops_where_it_is);
    RUN_TEST(due_timeouts_fire_at_most_4096_per_stripe_per_event_or_tick);
    RUN_TEST(a_tick_fires_the_timeouts_of_all_stripes_in_deadline_order);
}
