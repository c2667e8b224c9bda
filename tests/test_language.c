/* The program language: level statements, where-expressions (every
 * operator, literal and built-in), run-time errors, and compile errors
 * with their exact position, message and hint. */
#include "greatest.h"
#include "dt.h"
#include "support.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

/* ---- helpers ------------------------------------------------------------ */

/* What the sinks saw: exported event names ("A,B,") and recorded records. */
typedef struct cap {
    char events[512];
    uint32_t records;
    int dumps;
} cap;

static void cap_event(const dt_event *ev, void *ud) {
    cap *c = (cap *)ud;
    size_t n = strlen(c->events);
    if (n + ev->name.len + 2 > sizeof c->events) return;
    memcpy(c->events + n, ev->name.ptr, ev->name.len);
    c->events[n + ev->name.len] = ',';
    c->events[n + ev->name.len + 1] = 0;
}

static void cap_dump(const dt_dump *d, void *ud) {
    cap *c = (cap *)ud;
    c->records += d->records;
    c->dumps++;
}

static dt_engine *make_engine(cap *c, int strict) {
    dt_desc d;
    memset(&d, 0, sizeof d);
    memset(c, 0, sizeof *c);
    d.sinks.event = cap_event;
    d.sinks.dump = cap_dump;
    d.sinks.user_data = c;
    d.strict_events = strict;
    return dt_create(&d);
}

/* Which of the names (emitted at level) the running program exports. */
static const char *exported(dt_engine *e, cap *c, const char *const *names, int level) {
    c->events[0] = 0;
    for (; *names; names++) emit(e, *names, level, 1000);
    return c->events;
}

static uint64_t rule_errors(dt_engine *e) { return stats(e).rule_errors; }

/* The event every where-test evaluates against (no schema registered). */
static dt_field subject_fields[16];
static dt_event subject(void) {
    dt_event ev;
    uint32_t n = 0;
    subject_fields[n++] = DT_I64("i", 42);
    subject_fields[n++] = DT_I64("neg", -5);
    subject_fields[n++] = DT_U64("u", UINT64_MAX);
    subject_fields[n++] = DT_F64("f", 2.5);
    subject_fields[n++] = DT_STR("s", "Hello World");
    subject_fields[n++] = DT_BOOL("b", 1);
    subject_fields[n++] = DT_I64("d", 300000000000);   /* 5m */
    subject_fields[n++] = DT_I64("z", 0);
    subject_fields[n++] = DT_I64("big", INT64_MAX);
    subject_fields[n++] = DT_I64("min", INT64_MIN);
    subject_fields[n++] = DT_F64("nan", NAN);
    subject_fields[n++] = DT_STR("level", "custom");     /* shadowed by the builtin */
    subject_fields[n++] = DT_I64("sz", 4096);
    memset(&ev, 0, sizeof ev);
    ev.name = dt_cstr("Ev");
    ev.level = DT_INFO;
    ev.ts = 1000;
    ev.tid = 7;
    ev.fields = subject_fields;
    ev.nfields = n;
    return ev;
}

/* Deploys `recorder r { record * where EXPR }`, emits the subject and
 * returns how many records a flush yields (1: the condition held, 0: not),
 * or the deploy error (< 0). */
static int where_holds(dt_engine *e, cap *c, const char *expr) {
    char prog[512];
    dt_event ev = subject();
    int rc;
    snprintf(prog, sizeof prog, "recorder r { record * where %s }", expr);
    if ((rc = deploy(e, prog)) != DT_OK) return rc;
    c->records = 0;
    dt_emit(e, &ev);
    dt_recorder_flush(e, "r", NULL);
    return (int)c->records;
}

typedef struct where_case {
    const char *expr;
    int holds;
} where_case;

/* Runs a table; every expression must compile and give its result with no
 * run-time error. */
static enum greatest_test_res where_table(const where_case *cases, size_t n) {
    cap c;
    dt_engine *e = make_engine(&c, 0);
    size_t i;
    for (i = 0; i < n; i++) ASSERT_EQm(cases[i].expr, cases[i].holds, where_holds(e, &c, cases[i].expr));
    ASSERT_EQ(0u, rule_errors(e));
    dt_destroy(e);
    PASS();
}
#define WHERE_TABLE(t) where_table((t), sizeof(t) / sizeof((t)[0]))

/* Checks one compile error completely. */
static enum greatest_test_res compile_error(dt_engine *e, const char *text, int code, int line, int column,
                                            const char *message, const char *hint) {
    dt_error err;
    memset(&err, 0x55, sizeof err);
    ASSERT_EQm(text, code, dt_check(e, text, strlen(text), &err, NULL));
    ASSERT_EQm(text, code, err.code);
    ASSERT_EQm(text, line, err.line);
    ASSERT_EQm(text, column, err.column);
    ASSERT_STR_EQm(text, message, err.message);
    ASSERT_STR_EQm(text, hint, err.hint);
    PASS();
}

/* ---- level statements --------------------------------------------------- */

static const char *const names_xyz[] = {"X", "Y", "Z", NULL};
static const char *const names_http[] = {"HttpGet", "HttpPost", "Other", NULL};

TEST level_off_drops_that_event_only(void) {
    cap c;
    dt_engine *e = make_engine(&c, 0);
    ASSERT_STR_EQ("X,Y,Z,", exported(e, &c, names_xyz, DT_INFO));
    ASSERT_EQ(DT_OK, deploy(e, "level X = off"));
    ASSERT_STR_EQ("Y,Z,", exported(e, &c, names_xyz, DT_INFO));
    ASSERT_STR_EQ("Y,Z,", exported(e, &c, names_xyz, DT_FATAL));
    dt_destroy(e);
    PASS();
}

TEST level_prefix_lowers_threshold_for_matching_names(void) {
    cap c;
    dt_engine *e = make_engine(&c, 0);
    ASSERT_EQ(DT_OK, deploy(e, "level Http* = debug"));
    ASSERT_STR_EQ("HttpGet,HttpPost,", exported(e, &c, names_http, DT_DEBUG));
    ASSERT_STR_EQ("", exported(e, &c, names_http, DT_TRACE));
    ASSERT_STR_EQ("HttpGet,HttpPost,Other,", exported(e, &c, names_http, DT_INFO));
    dt_destroy(e);
    PASS();
}

TEST level_star_sets_every_threshold(void) {
    cap c;
    dt_engine *e = make_engine(&c, 0);
    ASSERT_EQ(DT_OK, deploy(e, "level * = warn"));
    ASSERT_STR_EQ("", exported(e, &c, names_http, DT_INFO));
    ASSERT_STR_EQ("HttpGet,HttpPost,Other,", exported(e, &c, names_http, DT_WARN));
    ASSERT_EQ(DT_OK, deploy(e, "level * = trace"));
    ASSERT_STR_EQ("HttpGet,HttpPost,Other,", exported(e, &c, names_http, DT_TRACE));
    dt_destroy(e);
    PASS();
}

TEST level_longest_prefix_wins(void) {
    cap c;
    dt_engine *e = make_engine(&c, 0);
    /* written shortest first and longest first: the order must not matter */
    ASSERT_EQ(DT_OK, deploy(e, "level * = off\nlevel Http* = debug\nlevel HttpP* = error"));
    ASSERT_STR_EQ("HttpGet,", exported(e, &c, names_http, DT_DEBUG));
    ASSERT_STR_EQ("HttpGet,HttpPost,", exported(e, &c, names_http, DT_ERROR));
    ASSERT_EQ(DT_OK, deploy(e, "level HttpP* = error\nlevel Http* = debug\nlevel * = off"));
    ASSERT_STR_EQ("HttpGet,", exported(e, &c, names_http, DT_DEBUG));
    ASSERT_STR_EQ("HttpGet,HttpPost,", exported(e, &c, names_http, DT_ERROR));
    dt_destroy(e);
    PASS();
}

TEST level_exact_name_beats_prefix(void) {
    cap c;
    dt_engine *e = make_engine(&c, 0);
    ASSERT_EQ(DT_OK, deploy(e, "level Http* = debug\nlevel HttpGet = error"));
    ASSERT_STR_EQ("HttpPost,", exported(e, &c, names_http, DT_DEBUG));
    ASSERT_EQ(DT_OK, deploy(e, "level HttpGet = trace\nlevel HttpGet* = off"));
    ASSERT_STR_EQ("HttpGet,", exported(e, &c, names_http, DT_TRACE));
    dt_destroy(e);
    PASS();
}

/* Registered events get their threshold precomputed at deploy; the
 * result must be the same as for names the engine has never seen. */
TEST level_rules_apply_equally_to_registered_events(void) {
    cap c;
    dt_engine *e = make_engine(&c, 0);
    ASSERT_EQ(DT_OK, dt_register_event(e, "HttpGet", NULL, 0, NULL, 0));
    ASSERT_EQ(DT_OK, dt_register_event(e, "Other", NULL, 0, NULL, 0));
    ASSERT_EQ(DT_OK, deploy(e, "level * = off\nlevel Http* = debug\nlevel HttpP* = error\nlevel Other = trace"));
    ASSERT_STR_EQ("HttpGet,Other,", exported(e, &c, names_http, DT_DEBUG));
    ASSERT_STR_EQ("Other,", exported(e, &c, names_http, DT_TRACE));
    ASSERT_STR_EQ("HttpGet,HttpPost,Other,", exported(e, &c, names_http, DT_ERROR));
    emit(e, "Unseen", DT_FATAL, 1000);
    ASSERT_STR_EQ("HttpGet,HttpPost,Other,", c.events);
    dt_destroy(e);
    PASS();
}

TEST level_statement_lists_several_patterns(void) {
    cap c;
    dt_engine *e = make_engine(&c, 0);
    ASSERT_EQ(DT_OK, deploy(e, "level X, Z = off"));
    ASSERT_STR_EQ("Y,", exported(e, &c, names_xyz, DT_INFO));
    ASSERT_EQ(DT_OK, deploy(e, "level \"Http*\", Other = error"));    /* a quoted pattern */
    ASSERT_STR_EQ("", exported(e, &c, names_http, DT_WARN));
    ASSERT_STR_EQ("HttpGet,HttpPost,Other,", exported(e, &c, names_http, DT_ERROR));
    dt_destroy(e);
    PASS();
}

TEST level_numbers_are_severity_numbers(void) {
    cap c;
    dt_engine *e = make_engine(&c, 0);
    ASSERT_EQ(DT_OK, deploy(e, "level X = 14"));    /* between warn (13) and error (17) */
    ASSERT_STR_EQ("Y,Z,", exported(e, &c, names_xyz, DT_WARN));
    emit(e, "X", 14, 1000);
    ASSERT_STR_EQ("Y,Z,X,", c.events);
    dt_destroy(e);
    PASS();
}

TEST comments_and_semicolons_separate_statements(void) {
    cap c;
    dt_engine *e = make_engine(&c, 0);
    ASSERT_EQ(DT_OK, deploy(e, "# drop two of three\n"
                               "level X = off; level Y = off // and not Z\n"
                               ";;\n"
                               "// level Z = off\n"
                               "# level Z = off"));
    ASSERT_STR_EQ("Z,", exported(e, &c, names_xyz, DT_INFO));
    ASSERT_EQ(DT_OK, deploy(e, "recorder r { record X where # a comment inside\n i == 42 // another\n ; }"));
    ASSERT_EQ(DT_OK, deploy(e, ""));
    ASSERT_EQ(DT_OK, deploy(e, "  \n# only a comment\n"));
    ASSERT_STR_EQ("X,Y,Z,", exported(e, &c, names_xyz, DT_INFO));
    dt_destroy(e);
    PASS();
}

/* ---- where-expressions -------------------------------------------------- */

TEST where_comparisons(void) {
    static const where_case t[] = {
        {"i == 42", 1}, {"i == 41", 0}, {"i != 41", 1}, {"i != 42", 0},
        {"i < 43", 1}, {"i < 42", 0}, {"i <= 42", 1}, {"i <= 41", 0},
        {"i > 41", 1}, {"i > 42", 0}, {"i >= 42", 1}, {"i >= 43", 0},
        {"s == \"Hello World\"", 1}, {"s == \"hello world\"", 0}, {"s != \"x\"", 1},
        {"s < \"Hello Worle\"", 1}, {"s > \"Hello\"", 1}, {"s >= \"Hello World\"", 1},
        {"s =~ \"hello WORLD\"", 1}, {"s =~ \"hello\"", 0}, {"s !~ \"HELLO WORLD\"", 0}, {"s !~ \"bye\"", 1},
        {"b == true", 1}, {"b != true", 0}, {"b == false", 0},
        {"missing == 1", 0}, {"missing != 1", 0}, {"null == null", 0},
    };
    return WHERE_TABLE(t);
}

TEST where_mixed_numeric_types_compare_exactly(void) {
    static const where_case t[] = {
        {"u > -1", 1}, {"u == -1", 0}, {"-1 < u", 1}, {"neg < u", 1}, {"u != neg", 1},
        {"18446744073709551615 > -1", 1}, {"u == 18446744073709551615", 1}, {"u >= 18446744073709551615", 1},
        {"9223372036854775808 > 9223372036854775807", 1}, {"big < 9223372036854775808", 1},
        {"big == 9223372036854775807", 1}, {"min < neg", 1}, {"min < 0", 1},
#if !DT_NO_FLOAT
        {"i == 42.0", 1}, {"i < 42.5", 1}, {"f > 2", 1}, {"f < 3", 1}, {"f == 2.5", 1}, {"f >= 25e-1", 1},
        {"u > f", 1}, {"neg < f", 1},
        {"nan == nan", 0}, {"nan != nan", 1}, {"nan < 1", 0}, {"nan > 1", 0}, {"nan >= nan", 0},
#endif
    };
    return WHERE_TABLE(t);
}

TEST where_logic(void) {
    static const where_case t[] = {
        {"i == 42 and b", 1}, {"i == 42 and not b", 0}, {"i == 1 or b", 1}, {"i == 1 or not b", 0},
        {"i == 42 && s contains \"World\"", 1}, {"i == 1 || i == 42", 1}, {"i == 1 || i == 2", 0},
        {"not (i == 1)", 1}, {"!(i == 42)", 0}, {"not not b", 1}, {"!b", 0},
        {"true", 1}, {"false", 0}, {"not false", 1}, {"true and false", 0}, {"false or true", 1},
        /* and binds tighter than or */
        {"true or true and false", 1}, {"(true or true) and false", 0},
        /* conditions are two-valued: null counts as false, so not(null) holds
         * although missing != 1 does not */
        {"missing == 1 or i == 42", 1}, {"not (missing == 1)", 1},
    };
    return WHERE_TABLE(t);
}

TEST where_string_tests_and_cs_forms(void) {
    static const where_case t[] = {
        {"s contains \"world\"", 1}, {"s contains \"xyz\"", 0}, {"s contains \"\"", 1},
        {"s contains_cs \"world\"", 0}, {"s contains_cs \"World\"", 1},
        {"s !contains \"xyz\"", 1}, {"s !contains \"WORLD\"", 0},
        {"s !contains_cs \"WORLD\"", 1}, {"s !contains_cs \"World\"", 0},
        {"s startswith \"hello\"", 1}, {"s startswith \"world\"", 0},
        {"s startswith_cs \"hello\"", 0}, {"s startswith_cs \"Hello\"", 1},
        {"s !startswith \"HE\"", 0}, {"s !startswith_cs \"HE\"", 1},
        {"s endswith \"WORLD\"", 1}, {"s endswith \"Hello\"", 0},
        {"s endswith_cs \"WORLD\"", 0}, {"s endswith_cs \"World\"", 1},
        {"s !endswith \"xyz\"", 1}, {"s !endswith_cs \"World\"", 0},
        {"s endswith \"a much longer string than s\"", 0}, {"missing contains \"a\"", 0},
        {"name startswith \"E\"", 1},
    };
    return WHERE_TABLE(t);
}

TEST where_in_and_between(void) {
    static const where_case t[] = {
        {"i in (1, 42, 3)", 1}, {"i in (1, 2)", 0}, {"i in (42)", 1},
#if !DT_NO_FLOAT
        {"i in (42.0)", 1}, {"f between (2 .. 3)", 1},
#endif
        {"i !in (1, 2)", 1}, {"i !in (42, 2)", 0},
        {"s in (\"a\", \"Hello World\")", 1}, {"s in (\"hello world\")", 0}, {"s !in (\"a\")", 1},
        {"u in (1, 18446744073709551615)", 1}, {"name in (\"Ev\", \"Other\")", 1},
        {"i in (40 + 2)", 1}, {"missing in (1)", 0},
        {"i between (40 .. 50)", 1}, {"i between (42 .. 42)", 1}, {"i between (43 .. 50)", 0},
        {"i between (30..41)", 0}, {"i !between (1 .. 10)", 1}, {"i !between (40 .. 50)", 0},
        {"neg between (-10 .. -5)", 1}, {"s between (\"A\" .. \"Z\")", 1},
        {"ts between (1000 .. 1000)", 1},
    };
    return WHERE_TABLE(t);
}

TEST where_arithmetic(void) {
    static const where_case t[] = {
        {"i + 1 == 43", 1}, {"i - 50 == -8", 1}, {"i * 2 == 84", 1}, {"i / 5 == 8", 1}, {"i % 5 == 2", 1},
        {"neg / 2 == -2", 1}, {"neg % 3 == -2", 1}, {"-i == -42", 1}, {"-neg == 5", 1}, {"- -i == 42", 1},
        {"2 + 3 * 4 == 14", 1}, {"(2 + 3) * 4 == 20", 1}, {"10 - 2 - 3 == 5", 1}, {"100 / 10 / 5 == 2", 1},
        {"7 % 4 * 2 == 6", 1},
#if !DT_NO_FLOAT
        {"f * 2 == 5.0", 1}, {"f + 1 == 3.5", 1}, {"f - 0.5 == 2", 1}, {"f / 2 == 1.25", 1}, {"i / 0.0 > big", 1},
#endif
        {"u - 1 == 18446744073709551614", 1}, {"u / 2 == 9223372036854775807", 1}, {"u % 10 == 5", 1},
        {"big + neg == 9223372036854775802", 1}, {"min + big == -1", 1},
    };
    return WHERE_TABLE(t);
}

TEST where_durations_sizes_and_levels(void) {
    static const where_case t[] = {
        {"d == 5m", 1}, {"d == 300s", 1}, {"d > 250ms", 1}, {"250ms == 250000000", 1}, {"1h30m == 90m", 1},
        {"1h30m == 5400000000000", 1}, {"1d == 24h", 1}, {"1s == 1000000us", 1}, {"1us == 1000ns", 1},
        {"4KiB == 4096", 1}, {"sz == 4KiB", 1}, {"4KB == 4000", 1}, {"1MiB == 1048576", 1}, {"1MB == 1000000", 1},
        {"1GiB == 1073741824", 1}, {"1GB == 1000000000", 1}, {"64B == 64", 1}, {"1_000 == 1000", 1},
        {"level == info", 1}, {"level >= warn", 0}, {"level < warn", 1}, {"level == 9", 1},
        {"trace == 1 and debug == 5 and warn == 13 and warning == 13", 1},
        {"error == 17 and fatal == 21 and off == 255", 1},
    };
    return WHERE_TABLE(t);
}

TEST where_builtins_and_functions(void) {
    static const where_case t[] = {
        {"name == \"Ev\"", 1}, {"name == \"ev\"", 0}, {"ts == 1000", 1}, {"tid == 7", 1}, {"level == 9", 1},
        {"field(\"level\") == \"custom\"", 1}, {"field(\"s\") == \"Hello World\"", 1}, {"field(\"nope\") == 1", 0},
        {"isnull(missing)", 1}, {"isnull(i)", 0}, {"isnull(null)", 1}, {"isnotnull(i)", 1},
        {"isnotnull(null)", 0}, {"isnotnull(field(\"level\"))", 1},
        {"strlen(s) == 11", 1}, {"strlen(\"\") == 0", 1}, {"isnull(strlen(missing))", 1},
        {"strlen(\"\\x41\\n\\t\\\\\") == 4", 1}, {"s == 'Hello World'", 1}, {"\"a\\\"b\" == 'a\"b'", 1},
    };
    return WHERE_TABLE(t);
}

TEST where_short_circuits(void) {
    cap c;
    dt_engine *e = make_engine(&c, 0);
    ASSERT_EQ(0, where_holds(e, &c, "false and i / z > 0"));
    ASSERT_EQ(1, where_holds(e, &c, "true or i / z > 0"));
    ASSERT_EQ(0u, rule_errors(e));
    dt_destroy(e);
    PASS();
}

/* ---- run-time errors: null result, counted ------------------------------ */

TEST integer_overflow_is_null_and_counted(void) {
    static const char *const exprs[] = {
        "big + 1 > 0", "big + 1 <= 0", "min - 1 < 0", "big * 2 > 0", "min * -1 > 0", "-min > 0",
        "u + 1 > 0", "u * 2 > 0", "0 - u < 0", "neg - u < 0", "min / -1 > 0",
    };
    cap c;
    dt_engine *e = make_engine(&c, 0);
    size_t i;
    for (i = 0; i < sizeof exprs / sizeof exprs[0]; i++) {
        ASSERT_EQm(exprs[i], 0, where_holds(e, &c, exprs[i]));
        ASSERT_EQm(exprs[i], (uint64_t)i + 1, rule_errors(e));
    }
    ASSERT_EQ(1, where_holds(e, &c, "isnull(big + 1)"));
    ASSERT_EQ(sizeof exprs / sizeof exprs[0] + 1, rule_errors(e));
    dt_destroy(e);
    PASS();
}

TEST division_by_zero_is_null_and_counted(void) {
    static const char *const exprs[] = {"i / z > 0", "i / z <= 0", "i % z == 0", "i / 0 > 0", "u % 0 == 0", "u / z > 0"};
    cap c;
    dt_engine *e = make_engine(&c, 0);
    size_t i;
    for (i = 0; i < sizeof exprs / sizeof exprs[0]; i++) {
        ASSERT_EQm(exprs[i], 0, where_holds(e, &c, exprs[i]));
        ASSERT_EQm(exprs[i], (uint64_t)i + 1, rule_errors(e));
    }
    dt_destroy(e);
    PASS();
}

TEST runtime_type_mismatch_is_false_and_counted(void) {
    static const char *const exprs[] = {
        "s > 5", "s == 5", "s + 1 > 0", "i contains \"4\"", "strlen(i) > 0", "b > i", "b < b", "i =~ \"42\"",
        "f % 2 == 1", "-s == 1", "s between (1 .. 2)",
    };
    cap c;
    dt_engine *e = make_engine(&c, 0);
    size_t i;
    for (i = 0; i < sizeof exprs / sizeof exprs[0]; i++) {
        ASSERT_EQm(exprs[i], 0, where_holds(e, &c, exprs[i]));
        ASSERT_EQm(exprs[i], (uint64_t)i + 1, rule_errors(e));
    }
    dt_destroy(e);
    PASS();
}

TEST negative_int64_min_literal_is_exact(void) {
    cap c;
    dt_engine *e;
    e = make_engine(&c, 0);
    ASSERT_EQ(1, where_holds(e, &c, "min == -9223372036854775808"));
    ASSERT_EQ(0u, rule_errors(e));
    dt_destroy(e);
    PASS();
}

/* INT64_MIN % -1 is 0, exactly representable (only the C operation is
 * undefined). */
TEST int64_min_modulo_minus_one_is_zero(void) {
    cap c;
    dt_engine *e;
    e = make_engine(&c, 0);
    ASSERT_EQ(1, where_holds(e, &c, "min % -1 == 0"));
    ASSERT_EQ(0u, rule_errors(e));
    dt_destroy(e);
    PASS();
}

/* ---- compile errors ----------------------------------------------------- */

TEST error_unknown_statement(void) {
    cap c;
    dt_engine *e = make_engine(&c, 0);
    CHECK_CALL(compile_error(e, "level X = off\n  frobnicate X", DT_ERR_SYNTAX, 2, 3, "unknown statement 'frobnicate'",
                             "a program is a list of: level, recorder"));
    CHECK_CALL(compile_error(e, "level X = off ~", DT_ERR_SYNTAX, 1, 15,
                             "unexpected character: names are letters, digits, '_' and '.'; strings are quoted",
                             "a program is a list of: level, recorder"));
    dt_destroy(e);
    PASS();
}

TEST error_unterminated_string(void) {
    cap c;
    dt_engine *e = make_engine(&c, 0);
    CHECK_CALL(compile_error(e, "recorder r { record * where s == \"abc }", DT_ERR_SYNTAX, 1, 34,
                             "unterminated string: close it with a quote on the same line", ""));
    CHECK_CALL(compile_error(e, "recorder r {\n record * where s == \"abc\n\" }", DT_ERR_SYNTAX, 2, 22,
                             "unterminated string: close it with a quote on the same line", ""));
    CHECK_CALL(compile_error(e, "recorder r { record * where s == \"\\q\" }", DT_ERR_SYNTAX, 1, 34,
                             "unknown escape in string", "escapes are \\n \\t \\r \\0 \\\\ \\\" \\' and \\xHH"));
    dt_destroy(e);
    PASS();
}

TEST error_bad_numbers_and_units(void) {
    cap c;
    dt_engine *e = make_engine(&c, 0);
    CHECK_CALL(compile_error(e, "level X = debug for 5mins", DT_ERR_SYNTAX, 1, 21,
                             "unknown unit: durations take ns, us, ms, s, m, h, d; sizes take B, KB, KiB, MB, MiB, GB, GiB",
                             "write a number with a unit: 250ms, 30s, 5m, 1h"));
    CHECK_CALL(compile_error(e, "level X = debug for 1.5s", DT_ERR_SYNTAX, 1, 21,
                             "a duration or size must be a whole number: write 1500ms, not 1.5s",
                             "write a number with a unit: 250ms, 30s, 5m, 1h"));
    CHECK_CALL(compile_error(e, "level X = debug for 5", DT_ERR_SYNTAX, 1, 21, "expected a duration, found a number",
                             "write a number with a unit: 250ms, 30s, 5m, 1h"));
    CHECK_CALL(compile_error(e, "recorder r { record * where x > 99999999999999999999 }", DT_ERR_SYNTAX, 1, 33,
                             "number too large (at most 9223372036854775807, or 18446744073709551615 unsigned)", ""));
    CHECK_CALL(compile_error(e, "recorder r { record * where x > 18446744073709551616 }", DT_ERR_SYNTAX, 1, 33,
                             "number too large (at most 9223372036854775807, or 18446744073709551615 unsigned)", ""));
    CHECK_CALL(compile_error(e, "recorder r { record * where d > 5m1KiB }", DT_ERR_SYNTAX, 1, 33,
                             "cannot mix a duration and a size in one literal", ""));
    CHECK_CALL(compile_error(e, "recorder r { record * capacity 10 }", DT_ERR_LIMIT, 1, 23,
                             "recorder capacity out of range", "use 64 bytes to 64MiB"));
    CHECK_CALL(compile_error(e, "recorder r { record * keys 0 }", DT_ERR_LIMIT, 1, 28, "number out of range",
                             "use a value from 1 to 4096"));
    dt_destroy(e);
    PASS();
}

TEST error_level_statement_syntax(void) {
    cap c;
    dt_engine *e = make_engine(&c, 0);
    CHECK_CALL(compile_error(e, "level X debug", DT_ERR_SYNTAX, 1, 9, "expected '=', found 'debug'",
                             "write: level Name = debug"));
    CHECK_CALL(compile_error(e, "level X = loud", DT_ERR_SYNTAX, 1, 11, "expected a level, found 'loud'",
                             "levels are trace, debug, info, warn, error, fatal, off (or 1-24)"));
    CHECK_CALL(compile_error(e, "level X = 99", DT_ERR_SYNTAX, 1, 11, "expected a level, found a number",
                             "levels are trace, debug, info, warn, error, fatal, off (or 1-24)"));
    CHECK_CALL(compile_error(e, "level = off", DT_ERR_SYNTAX, 1, 7, "expected an event name or pattern, found '='",
                             "write Name, a prefix Name*, or * for every event"));
    CHECK_CALL(compile_error(e, "level X = debug when Y", DT_ERR_SYNTAX, 1, 17,
                             "a triggered level change needs a duration",
                             "add one before when: level Http* = debug for 5m when ..."));
    CHECK_CALL(compile_error(e, "level X = debug for 5m when Y where", DT_ERR_SYNTAX, 1, 36,
                             "expected a value, found the end of the program",
                             "values are numbers, \"strings\", durations (5m), sizes (4KiB), field names, true/false/null"));
    dt_destroy(e);
    PASS();
}

TEST error_functions(void) {
    cap c;
    dt_engine *e = make_engine(&c, 0);
    CHECK_CALL(compile_error(e, "recorder r { record * where frob(x) }", DT_ERR_UNKNOWN, 1, 29, "unknown function 'frob'",
                             "functions: isnull, isnotnull, strlen, field, and those the host registers"));
    CHECK_CALL(compile_error(e, "recorder r { record * where strlen(a, b) > 1 }", DT_ERR_TYPE, 1, 29,
                             "wrong number of arguments to 'strlen'", ""));
    CHECK_CALL(compile_error(e, "recorder r { record * where isnull() }", DT_ERR_TYPE, 1, 29,
                             "wrong number of arguments to 'isnull'", ""));
    dt_destroy(e);
    PASS();
}

TEST error_unknown_field_of_a_schema_event(void) {
    static const dt_schema_field login[] = {{"user", DT_TYPE_STR}, {"ok", DT_TYPE_BOOL}};
    cap c;
    dt_engine *e = make_engine(&c, 0);
    ASSERT_EQ(DT_OK, dt_register_event(e, "Login", login, 2, NULL, 0));
    ASSERT_EQ(DT_OK, dt_register_event(e, "Empty", login, 0, NULL, 0));
    CHECK_CALL(compile_error(e, "recorder r {\n  record Login where pass == \"x\"\n}", DT_ERR_UNKNOWN, 2, 22,
                             "event has no field 'pass'", "its fields are: user, ok"));
    CHECK_CALL(compile_error(e, "recorder r { record Empty where x == 1 }", DT_ERR_UNKNOWN, 1, 33,
                             "event has no field 'x'", "its fields are: (none)"));
    /* and the schema's types are checked */
    CHECK_CALL(compile_error(e, "recorder r { record Login where user > 1 }", DT_ERR_TYPE, 1, 38,
                             "cannot compare str with i64",
                             "compare like with like: numbers with numbers, strings with strings"));
    CHECK_CALL(compile_error(e, "recorder r { record Login where ok + 1 > 1 }", DT_ERR_TYPE, 1, 36,
                             "arithmetic needs numbers, not bool", "compare strings with ==, contains or startswith"));
    /* a prefix may cover unregistered events: no check */
    ASSERT_EQ(DT_OK, dt_check(e, "recorder r { record Log* where pass == \"x\" }", 44, NULL, NULL));
    ASSERT_EQ(DT_OK, dt_check(e, "recorder r { record Login where user == \"x\" and ok }", 52, NULL, NULL));
    dt_destroy(e);
    PASS();
}

TEST error_unknown_event_when_strict(void) {
    cap c;
    dt_engine *e = make_engine(&c, 1);
    ASSERT_EQ(DT_OK, dt_register_event(e, "LogWelcomeBanner", NULL, 0, NULL, 0));
    CHECK_CALL(compile_error(e, "level LogWelcomeBaner = off", DT_ERR_UNKNOWN, 1, 7, "unknown event 'LogWelcomeBaner'",
                             "did you mean 'LogWelcomeBanner'?"));
    CHECK_CALL(compile_error(e, "level Totally.Different = off", DT_ERR_UNKNOWN, 1, 7,
                             "unknown event 'Totally.Different'",
                             "the event catalog has no such event; check the name or use a prefix pattern like Name*"));
    ASSERT_EQ(DT_OK, dt_check(e, "level LogWelcomeBanner = off\nlevel Log* = off", 45, NULL, NULL));
    dt_destroy(e);
    PASS();
}

TEST error_types(void) {
    cap c;
    dt_engine *e = make_engine(&c, 0);
    CHECK_CALL(compile_error(e, "recorder r { record * where \"a\" > 1 }", DT_ERR_TYPE, 1, 33, "cannot compare str with i64",
                             "compare like with like: numbers with numbers, strings with strings"));
    CHECK_CALL(compile_error(e, "recorder r { record * where x + \"s\" > 1 }", DT_ERR_TYPE, 1, 31,
                             "arithmetic needs numbers, not str", "compare strings with ==, contains or startswith"));
    CHECK_CALL(compile_error(e, "recorder r { record * where 5 }", DT_ERR_TYPE, 1, 29,
                             "expected a condition, found a value of type i64",
                             "compare it, for example: x > 0, or name == \"text\""));
    CHECK_CALL(compile_error(e, "recorder r { record * where b and 5 }", DT_ERR_TYPE, 1, 35,
                             "expected a condition, found a value of type i64",
                             "compare it, for example: x > 0, or name == \"text\""));
    CHECK_CALL(compile_error(e, "recorder r { record * where not \"s\" }", DT_ERR_TYPE, 1, 33,
                             "expected a condition, found a value of type str",
                             "compare it, for example: x > 0, or name == \"text\""));
    CHECK_CALL(compile_error(e, "recorder r { record * where x =~ 5 }", DT_ERR_TYPE, 1, 31,
                             "=~ and !~ compare strings ignoring case", ""));
    CHECK_CALL(compile_error(e, "recorder r { record * where s contains 5 }", DT_ERR_TYPE, 1, 31,
                             "string tests need strings, not i64", ""));
    CHECK_CALL(compile_error(e, "recorder r { record * where -\"a\" == 1 }", DT_ERR_TYPE, 1, 29, "cannot negate a str", ""));
    CHECK_CALL(compile_error(e, "recorder r { record * where x * 1 }", DT_ERR_TYPE, 1, 31,
                             "expected a condition, found a number", "compare it, for example: x * 2 > 10"));
    CHECK_CALL(compile_error(e, "recorder r { record * where b and -x }", DT_ERR_TYPE, 1, 35,
                             "expected a condition, found a number", "compare it, for example: x * 2 > 10"));
    CHECK_CALL(compile_error(e, "recorder r { record * where true < false }", DT_ERR_TYPE, 1, 34,
                             "cannot compare bool with bool",
                             "compare like with like: numbers with numbers, strings with strings"));
#if !DT_NO_FLOAT
    CHECK_CALL(compile_error(e, "recorder r { record * where 7 % 2.0 == 1 }", DT_ERR_TYPE, 1, 31, "% needs integers",
                             "use integer fields or literals with %"));
#endif
    CHECK_CALL(compile_error(e, "recorder r { record * where 1 between (\"a\" .. 2) }", DT_ERR_TYPE, 1, 31,
                             "between needs bounds of the value's type, i64", ""));
    CHECK_CALL(compile_error(e, "recorder r { record * where 1 in (2, \"a\") }", DT_ERR_TYPE, 1, 38,
                             "list item is str, the value is i64", ""));
    CHECK_CALL(compile_error(e, "recorder r { record * where x !foo 1 }", DT_ERR_SYNTAX, 1, 32,
                             "expected in, contains, startswith or endswith after '!', found 'foo'", ""));
    dt_destroy(e);
    PASS();
}

/* DT_MAX_EXPR_DEPTH counts the parentheses plus the innermost operand. */
TEST error_nesting_deeper_than_max_depth(void) {
    cap c;
    dt_engine *e = make_engine(&c, 0);
    char expr[256], open[DT_MAX_EXPR_DEPTH + 1], close[DT_MAX_EXPR_DEPTH + 1];
    memset(open, '(', sizeof open);
    memset(close, ')', sizeof close);
    snprintf(expr, sizeof expr, "%.*sx == 1%.*s", DT_MAX_EXPR_DEPTH - 1, open, DT_MAX_EXPR_DEPTH - 1, close);
    ASSERT_EQ(0, where_holds(e, &c, expr));
    snprintf(expr, sizeof expr, "recorder r { record * where %.*sx == 1%.*s }", DT_MAX_EXPR_DEPTH, open,
             DT_MAX_EXPR_DEPTH, close);
    CHECK_CALL(compile_error(e, expr, DT_ERR_LIMIT, 1, 29 + DT_MAX_EXPR_DEPTH, "expression nested too deeply",
                             "split it into simpler conditions"));
    dt_destroy(e);
    PASS();
}

TEST error_recorder_blocks(void) {
    cap c;
    dt_engine *e = make_engine(&c, 0);
    CHECK_CALL(compile_error(e, "level X = off\nrecorder r { capacity 1KiB }", DT_ERR_SYNTAX, 2, 1,
                             "a recorder needs at least one record line",
                             "add: record EventName (or record * where level >= debug)"));
    CHECK_CALL(compile_error(e, "recorder r { record A }\nrecorder r { record B }", DT_ERR_EXISTS, 2, 1,
                             "a block named 'r' already exists", "give each named block its own name"));
    CHECK_CALL(compile_error(e, "recorder r { record * ", DT_ERR_SYNTAX, 1, 23,
                             "expected '}', found the end of the program", "close the recorder block"));
    CHECK_CALL(compile_error(e, "recorder { record * }", DT_ERR_SYNTAX, 1, 10, "expected a recorder name, found '{'", ""));
    CHECK_CALL(compile_error(e, "recorder r { size 4KiB }", DT_ERR_SYNTAX, 1, 14,
                             "expected record, flush, discard, capacity, by or keys, found 'size'",
                             "close the recorder with '}'"));
    dt_destroy(e);
    PASS();
}

TEST error_risk_above_policy(void) {
    dt_desc d;
    dt_engine *e;
    memset(&d, 0, sizeof d);
    d.max_risk = DT_RISK_LOW;
    e = dt_create(&d);
    CHECK_CALL(compile_error(e, "level X = debug for 5m when Y", DT_ERR_RISK, 1, 7,
                             "program needs risk 'medium' (action 'set_level') but the host allows at most 'low'",
                             "remove it, or have the host raise dt_desc.max_risk (dt CLI: --max-risk medium)"));
    CHECK_CALL(compile_error(e, "recorder r { record * flush when E }", DT_ERR_RISK, 1, 23,
                             "program needs risk 'medium' (action 'flush') but the host allows at most 'low'",
                             "remove it, or have the host raise dt_desc.max_risk (dt CLI: --max-risk medium)"));
    ASSERT_EQ(DT_OK, dt_check(e, "recorder r { record * discard when E }\nlevel X = off", 52, NULL, NULL));
    dt_destroy(e);
    PASS();
}

/* A boost (`for` without `when`) fires the medium-risk set_level action at
 * deploy, so it is a medium-risk program. */
TEST timed_boost_counts_as_medium_risk(void) {
    dt_desc d;
    dt_engine *e;
    dt_program_info info;
    memset(&d, 0, sizeof d);
    d.max_risk = DT_RISK_LOW;
    e = dt_create(&d);
    CHECK_CALL(compile_error(e, "level X = debug for 5m", DT_ERR_RISK, 1, 7,
                             "program needs risk 'medium' (action 'set_level') but the host allows at most 'low'",
                             "remove it, or have the host raise dt_desc.max_risk (dt CLI: --max-risk medium)"));
    dt_destroy(e);
    memset(&d, 0, sizeof d);
    e = dt_create(&d);
    ASSERT_EQ(DT_OK, dt_check(e, "level X = debug for 5m", 22, NULL, &info));
    ASSERT_EQ(DT_RISK_MEDIUM, info.risk);
    dt_destroy(e);
    PASS();
}

TEST error_program_text_too_long(void) {
    dt_desc d;
    dt_engine *e;
    memset(&d, 0, sizeof d);
    d.max_program_text = 16;
    e = dt_create(&d);
    ASSERT_EQ(DT_OK, dt_check(e, "level ABCD = off", 16, NULL, NULL));
    CHECK_CALL(compile_error(e, "level ABCDE = off", DT_ERR_LIMIT, 0, 0, "program text longer than max_program_text", ""));
    dt_destroy(e);
    PASS();
}

TEST error_program_over_memory_bound_is_nomem(void) {
    dt_desc d;
    dt_engine *e;
    memset(&d, 0, sizeof d);
    d.max_program_bytes = 64 * 1024;
    e = dt_create(&d);
    ASSERT_EQ(DT_OK, dt_check(e, "recorder r { record * capacity 16KiB }", 38, NULL, NULL));
    CHECK_CALL(compile_error(e, "recorder r { record * capacity 64KiB }", DT_ERR_NOMEM, 1, 1,
                             "program too large for its memory bound",
                             "the program needs more than max_program_bytes (65536); make bounds smaller or raise the limit"));
    dt_destroy(e);
    PASS();
}

TEST error_program_over_memory_bound_points_at_the_block(void) {
    dt_desc d;
    dt_engine *e;
    memset(&d, 0, sizeof d);
    d.max_program_bytes = 64 * 1024;
    e = dt_create(&d);
    CHECK_CALL(compile_error(e, "level X = off\nrecorder r { record * capacity 1KiB by tid keys 100 }\nlevel Y = off",
                             DT_ERR_NOMEM, 2, 1, "program too large for its memory bound",
                             "the program needs more than max_program_bytes (65536); make bounds smaller or raise the limit"));
    dt_destroy(e);
    PASS();
}

TEST error_format_is_line_col_message_hint(void) {
    cap c;
    dt_engine *e = make_engine(&c, 0);
    dt_error err;
    char buf[512];
    const char *text = "level X = off\n  frobnicate X";
    const char *full = "2:3: error: unknown statement 'frobnicate' (hint: a program is a list of: level, recorder)";
    ASSERT_EQ(DT_ERR_SYNTAX, dt_deploy(e, text, strlen(text), &err));
    ASSERT_EQ(strlen(full), dt_error_format(&err, buf, sizeof buf));
    ASSERT_STR_EQ(full, buf);
    ASSERT_EQ(9u, dt_error_format(&err, buf, 10));                /* truncated, always terminated */
    ASSERT_STR_EQ("2:3: erro", buf);
    buf[0] = 'Z';
    ASSERT_EQ(0u, dt_error_format(&err, buf, 0));
    ASSERT_EQ('Z', buf[0]);
    ASSERT_EQ(0u, dt_error_format(NULL, buf, sizeof buf));
    /* no position, no hint */
    memset(&err, 0, sizeof err);
    err.code = DT_ERR_LIMIT;
    strcpy(err.message, "program text longer than max_program_text");
    dt_error_format(&err, buf, sizeof buf);
    ASSERT_STR_EQ("error: program text longer than max_program_text", buf);
    /* no message: the result code's name */
    memset(&err, 0, sizeof err);
    err.code = DT_ERR_NOMEM;
    dt_error_format(&err, buf, sizeof buf);
    ASSERT_STR_EQ("error: out of memory", buf);
    dt_destroy(e);
    PASS();
}

SUITE(language) {
    RUN_TEST(level_off_drops_that_event_only);
    RUN_TEST(level_prefix_lowers_threshold_for_matching_names);
    RUN_TEST(level_star_sets_every_threshold);
    RUN_TEST(level_longest_prefix_wins);
    RUN_TEST(level_exact_name_beats_prefix);
    RUN_TEST(level_rules_apply_equally_to_registered_events);
    RUN_TEST(level_statement_lists_several_patterns);
    RUN_TEST(level_numbers_are_severity_numbers);
    RUN_TEST(comments_and_semicolons_separate_statements);
    RUN_TEST(where_comparisons);
    RUN_TEST(where_mixed_numeric_types_compare_exactly);
    RUN_TEST(where_logic);
    RUN_TEST(where_string_tests_and_cs_forms);
    RUN_TEST(where_in_and_between);
    RUN_TEST(where_arithmetic);
    RUN_TEST(where_durations_sizes_and_levels);
    RUN_TEST(where_builtins_and_functions);
    RUN_TEST(where_short_circuits);
    RUN_TEST(integer_overflow_is_null_and_counted);
    RUN_TEST(division_by_zero_is_null_and_counted);
    RUN_TEST(runtime_type_mismatch_is_false_and_counted);
    RUN_TEST(negative_int64_min_literal_is_exact);
    RUN_TEST(int64_min_modulo_minus_one_is_zero);
    RUN_TEST(error_unknown_statement);
    RUN_TEST(error_unterminated_string);
    RUN_TEST(error_bad_numbers_and_units);
    RUN_TEST(error_level_statement_syntax);
    RUN_TEST(error_functions);
    RUN_TEST(error_unknown_field_of_a_schema_event);
    RUN_TEST(error_unknown_event_when_strict);
    RUN_TEST(error_types);
    RUN_TEST(error_nesting_deeper_than_max_depth);
    RUN_TEST(error_recorder_blocks);
    RUN_TEST(error_risk_above_policy);
    RUN_TEST(timed_boost_counts_as_medium_risk);
    RUN_TEST(error_program_text_too_long);
    RUN_TEST(error_program_over_memory_bound_is_nomem);
    RUN_TEST(error_program_over_memory_bound_points_at_the_block);
    RUN_TEST(error_format_is_line_col_message_hint);
}
