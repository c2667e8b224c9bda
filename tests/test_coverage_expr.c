/* Coverage of the expression language's corners (branch coverage of dt.h
 * found them untested): integer overflow in every direction, u64 and f64
 * arithmetic, string escapes and tests, globs, the conversion and string
 * functions on every type, number literals, and the compile errors of
 * each. Each case is a condition on one field x, the value of x, whether
 * the condition holds, and how many rule errors it counts; or a program
 * and its exact compile error. */
#include <math.h>
#include <stdlib.h>

#include "greatest.h"
#include "dt.h"
#include "support.h"

#define SEC 1000000000LL

/* x as: n none, b bool, i i64, u u64, f f64, s str, y bytes */
typedef struct cv_case {
    const char *cond;
    char type;
    int64_t i;
    uint64_t u;
    double f;
    const char *s;
    int holds;
    unsigned errors;
} cv_case;

#define CV_I(cond, v, holds, errors) {cond, 'i', (v), 0, 0, NULL, holds, errors}
#define CV_U(cond, v, holds, errors) {cond, 'u', 0, (v), 0, NULL, holds, errors}
#define CV_F(cond, v, holds, errors) {cond, 'f', 0, 0, (v), NULL, holds, errors}
#define CV_S(cond, v, holds, errors) {cond, 's', 0, 0, 0, (v), holds, errors}
#define CV_Y(cond, v, holds, errors) {cond, 'y', 0, 0, 0, (v), holds, errors}
#define CV_B(cond, v, holds, errors) {cond, 'b', (v), 0, 0, NULL, holds, errors}
#define CV_N(cond, holds, errors) {cond, 'n', 0, 0, 0, NULL, holds, errors}

static dt_field cv_field(const cv_case *k) {
    switch (k->type) {
    case 'b': return dt_field_bool("x", (int)k->i);
    case 'i': return dt_field_i64("x", k->i);
    case 'u': return dt_field_u64("x", k->u);
    case 'f': return dt_field_f64("x", k->f);
    case 's': return dt_field_str("x", k->s);
    case 'y': return dt_field_bytes("x", k->s, strlen(k->s));
    default: return dt_field_i64("other", 0);
    }
}

/* Runs one case: `recorder r { record T where COND }`, one T event. */
static enum greatest_test_res cv_run(const cv_case *k) {
    char prog[600], label[700];
    int64_t now;
    dt_desc d = sup_desc(NULL, &now, 100 * SEC);
    dt_engine *e = dt_create(&d);
    dt_error err;
    dt_field f = cv_field(k);
    dt_stats st;
    snprintf(prog, sizeof prog, "recorder r { record T where %s }", k->cond);
    snprintf(label, sizeof label, "%s (x %c)", k->cond, k->type);
    ASSERT(e != NULL);
    if (dt_deploy(e, prog, strlen(prog), &err) != DT_OK) {
        fprintf(stderr, "\n%s: %d:%d %s\n", label, err.line, err.column, err.message);
        FAILm("the condition does not compile");
    }
    sup_emit_fields(e, "T", DT_INFO, 0, 0, &f, 1);
    dt_get_stats(e, &st);
    if (st.recorder_records != (uint64_t)k->holds || st.rule_errors != k->errors)
        fprintf(stderr, "\n%s: holds %llu, rule errors %llu\n", label, (unsigned long long)st.recorder_records,
                (unsigned long long)st.rule_errors);
    ASSERT_EQm(label, (uint64_t)k->holds, st.recorder_records);
    ASSERT_EQm(label, (uint64_t)k->errors, st.rule_errors);
    dt_destroy(e);
    PASS();
}

static enum greatest_test_res cv_table(const cv_case *cases, size_t n) {
    size_t i;
    for (i = 0; i < n; i++) CHECK_CALL(cv_run(&cases[i]));
    PASS();
}

#define CV_TABLE(cases) cv_table((cases), sizeof(cases) / sizeof((cases)[0]))

TEST integer_overflow_in_every_direction_is_one_rule_error(void) {
    static const cv_case cases[] = {
        CV_I("x + 1 > 0", INT64_MAX, 0, 1),
        CV_I("x + -1 < 0", INT64_MIN, 0, 1),
        CV_I("x - 1 < 0", INT64_MIN, 0, 1),
        CV_I("x - -1 > 0", INT64_MAX, 0, 1),
        CV_I("x * 2 > 0", INT64_MAX, 0, 1),
        CV_I("x * -2 < 0", INT64_MAX, 0, 1),
        CV_I("-2 * x < 0", INT64_MAX, 0, 1),
        CV_I("x * -2 > 0", INT64_MIN, 0, 1),
        CV_I("-1 * x > 0", INT64_MIN, 0, 1),
        CV_I("x * -1 > 0", INT64_MIN, 0, 1),
        CV_I("x * 3 == -9", -3, 1, 0),
        CV_I("x * -3 == 9", -3, 1, 0),
        CV_I("x * 0 == 0", INT64_MIN, 1, 0),
        CV_I("x / -1 > 0", INT64_MIN, 0, 1),
        CV_I("x % -1 == 0", INT64_MIN, 1, 0),                      /* 0: no overflow in a remainder */
        CV_I("x / 0 == 0", 1, 0, 1),
        CV_I("x % 0 == 0", 1, 0, 1),
        CV_I("x / 2 == -3", -7, 1, 0),
        CV_I("x % 3 == -1", -7, 1, 0),
        CV_I("-x == -7", 7, 1, 0),
        CV_I("-x > 0", INT64_MIN, 0, 1),
    };
    return CV_TABLE(cases);
}

TEST u64_arithmetic_and_its_limits(void) {
    static const cv_case cases[] = {
        CV_U("x + 1 > 0", UINT64_MAX, 0, 1),
        CV_U("x * 2 > 0", UINT64_MAX, 0, 1),
        CV_U("x * 0 == 0", UINT64_MAX, 1, 0),
        CV_U("0 * x == 0", UINT64_MAX, 1, 0),
        CV_U("x - 1 == 18446744073709551614", UINT64_MAX, 1, 0),
        CV_U("x - 18446744073709551615 == 0", 9223372036854775808ull, 0, 1),
        CV_U("x + -1 > 0", 9223372036854775808ull, 0, 1),
        CV_U("x / 2 == 9223372036854775807", UINT64_MAX, 1, 0),
        CV_U("x % 10 == 5", UINT64_MAX, 1, 0),
        CV_U("x / 0 == 0", UINT64_MAX, 0, 1),
        CV_U("x + 1 == 8", 7, 1, 0),                              /* fits i64: i64 arithmetic */
        CV_U("-x == -9223372036854775807 - 1", 9223372036854775808ull, 1, 0),
        CV_U("-x < 0", UINT64_MAX, 0, 1),
        CV_U("18446744073709551615 + 18446744073709551615 > x", 0, 0, 1),
        CV_U("x == 18446744073709551615", UINT64_MAX, 1, 0),
        CV_I("x < 18446744073709551615", -1, 1, 0),
    };
    return CV_TABLE(cases);
}

TEST f64_arithmetic_follows_ieee(void) {
    static const cv_case cases[] = {
        CV_F("x + 1 == 2.5", 1.5, 1, 0),
        CV_F("1.5 + x > 2", 1.0, 1, 0),
        CV_I("x + 0.5 == 2.5", 2, 1, 0),
        CV_F("x / 0 > 1e308", 1.0, 1, 0),                         /* +inf, not an error */
        CV_F("x % 2 == 1", 3.0, 0, 1),                            /* % is for integers */
        CV_F("x * 2 == x * 2", NAN, 0, 0),
        CV_F("x - 1 < 0", -INFINITY, 1, 0),
        CV_U("x + 0.5 > 1e19", UINT64_MAX, 1, 0),
    };
    SUP_NEEDS_FLOAT();
    return CV_TABLE(cases);
}

TEST string_escapes_and_string_tests(void) {
    static const cv_case cases[] = {
        CV_S("x == \"\\x41\\x4a\\x4A\\x6f\"", "AJJo", 1, 0),
        CV_S("x == \"\\t\\r\\n\"", "\t\r\n", 1, 0),
        CV_S("x == \"\\\\\\\"\\'\"", "\\\"'", 1, 0),
        CV_S("x == 'single \"quoted\"'", "single \"quoted\"", 1, 0),
        CV_S("strlen(x) == 3 and x startswith \"a\\0\"", "a", 0, 0),
        CV_S("x startswith \"\"", "abc", 1, 0),
        CV_S("x endswith \"a longer text\"", "text", 0, 0),
        CV_S("x contains \"\"", "", 1, 0),
        CV_S("x contains \"abcdef\"", "abc", 0, 0),
        CV_S("x endswith_cs \"BC\"", "aBC", 1, 0),
        CV_S("x startswith_cs \"ab\"", "ABC", 0, 0),
        CV_S("x contains_cs \"B\"", "aBc", 1, 0),
        CV_S("x !contains \"z\"", "abc", 1, 0),
        CV_S("x =~ \"ABC\"", "abc", 1, 0),
        CV_S("x !~ \"ABD\"", "abc", 1, 0),
        CV_S("x between (\"a\" .. \"c\")", "b", 1, 0),
        CV_S("x !between (\"a\" .. \"c\")", "d", 1, 0),
        CV_S("x < \"abd\" and x > \"ab\"", "abc", 1, 0),
        CV_I("x contains \"1\"", 1, 0, 1),                        /* a number is not a string */
        CV_I("x =~ \"1\"", 1, 0, 1),
        CV_I("x between (\"a\" .. \"c\")", 1, 0, 1),
        CV_Y("x == x", "ab", 1, 0),
        CV_Y("x == \"ab\"", "ab", 0, 1),                          /* bytes are not a str */
        CV_Y("strlen(x) == 2", "ab", 1, 0),
        CV_B("x == true", 1, 1, 0),
        CV_B("x > false", 1, 0, 1),                               /* booleans do not order */
        CV_N("x == 1", 0, 0),
        CV_N("isnull(x) and not isnotnull(x)", 1, 0),
        CV_N("x contains \"a\"", 0, 0),
    };
    return CV_TABLE(cases);
}

TEST glob_matches(void) {
    static const cv_case cases[] = {
        CV_S("x matches \"a*c\"", "abbbc", 1, 0),
        CV_S("x matches \"a**c\"", "ac", 1, 0),
        CV_S("x matches \"A?C\"", "abc", 1, 0),
        CV_S("x matches \"a?c\"", "ac", 0, 0),
        CV_S("x matches \"*\"", "", 1, 0),
        CV_S("x matches \"\"", "", 1, 0),
        CV_S("x matches \"\"", "a", 0, 0),
        CV_S("x matches \"*a*a*a*a*b\"", "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa", 0, 0),
        CV_I("x matches \"1\"", 1, 0, 1),
    };
    return CV_TABLE(cases);
}

TEST conversions_on_every_type(void) {
    static const cv_case cases[] = {
#if !DT_NO_FLOAT
        CV_F("tostring(x) == \"nan\"", NAN, 1, 0),
        CV_F("tostring(x) == \"inf\"", INFINITY, 1, 0),
        CV_F("tostring(x) == \"-inf\"", -INFINITY, 1, 0),
        CV_F("tostring(x) == \"-2.5\"", -2.5, 1, 0),
        CV_F("tostring(x) == \"3\"", 3.0, 1, 0),
        CV_F("tostring(x) == \"0.1\"", 0.1, 1, 0),
        CV_F("tostring(x) == \"1\"", 0.9999999, 1, 0),
        CV_F("tostring(x) == \"1e+20\"", 1e20, 1, 0),
        CV_F("tostring(x) == \"1.5e+15\"", 1.5e15, 1, 0),
#endif
        CV_U("tostring(x) == \"18446744073709551615\"", UINT64_MAX, 1, 0),
        CV_I("tostring(x) == \"-9223372036854775808\"", INT64_MIN, 1, 0),
        CV_B("tostring(x) == \"true\"", 1, 1, 0),
        CV_B("tostring(x) == \"false\"", 0, 1, 0),
        CV_S("tostring(x) == \"s\"", "s", 1, 0),
        CV_N("isnull(tostring(x))", 1, 0),
        CV_I("toint(x) == 5", 5, 1, 0),
        CV_U("toint(x) == 5", 5, 1, 0),
        CV_U("isnull(toint(x))", UINT64_MAX, 1, 0),
        CV_B("toint(x) == 1", 1, 1, 0),
#if !DT_NO_FLOAT
        CV_F("toint(x) == 3", 3.9, 1, 0),
        CV_F("toint(x) == -3", -3.9, 1, 0),
        CV_F("isnull(toint(x))", 1e19, 1, 0),
        CV_F("isnull(toint(x))", NAN, 1, 0),
#endif
        CV_S("toint(x) == -12", "  -12", 1, 0),
        CV_S("toint(x) == 5", "+5", 1, 0),
        CV_S("isnull(toint(x))", "12a", 1, 0),
        CV_S("isnull(toint(x))", "", 1, 0),
        CV_S("isnull(toint(x))", "-", 1, 0),
        CV_S("isnull(toint(x))", "99999999999999999999", 1, 0),
        CV_S("toint(x) == -9223372036854775807 - 1", "-9223372036854775808", 1, 0),
        CV_S("isnull(toint(x))", "9223372036854775808", 1, 0),
        CV_N("isnull(toint(x))", 1, 0),
        CV_Y("isnull(toint(x))", "1", 1, 0),
    };
    return CV_TABLE(cases);
}

TEST bin_substring_hash_strcat_and_case(void) {
    static const cv_case cases[] = {
        CV_I("bin(x, 10) == 20", 27, 1, 0),
        CV_I("bin(x, 5) == -10", -7, 1, 0),
        CV_U("bin(x, 10) == 20", 27, 1, 0),
#if !DT_NO_FLOAT
        CV_F("bin(x, 2) == 4.0", 5.5, 1, 0),
        CV_F("bin(x, 2) == -6.0", -5.5, 1, 0),
        CV_I("bin(x, 2.5) == 5.0", 6, 1, 0),
#endif
        CV_I("bin(x, 0) == 0", 6, 0, 1),
        CV_I("bin(x, -1) == 0", 6, 0, 1),
#if !DT_NO_FLOAT
        CV_F("bin(x, 0.0) == 0", 6.0, 0, 1),
        CV_F("bin(x, 1) == 0", NAN, 0, 1),
        CV_F("bin(x, 1) == 0", 1e300, 0, 1),
#endif
        CV_I("bin(x, \"a\") == 0", 6, 0, 1),
        CV_N("isnull(bin(x, 10))", 1, 0),
        CV_I("isnull(bin(1, x))", 0, 1, 1),
        CV_S("substring(x, -3) == \"llo\"", "hello", 1, 0),
        CV_S("substring(x, -10) == \"hello\"", "hello", 1, 0),
        CV_S("substring(x, 1, -1) == \"\"", "hello", 1, 0),
        CV_S("substring(x, 10) == \"\"", "hello", 1, 0),
        CV_S("substring(x, 1, 2) == \"el\"", "hello", 1, 0),
        CV_U("substring(\"hello\", x) == \"lo\"", 3, 1, 0),
        CV_I("substring(x, 1) == \"\"", 5, 0, 1),
        CV_S("substring(x, \"a\") == \"\"", "hello", 0, 1),
        CV_N("isnull(substring(x, 1))", 1, 0),
#if !DT_NO_FLOAT
        CV_F("hash(x) == hash(1.5) and hash(x) != hash(2.5)", 1.5, 1, 0),
#endif
        CV_B("hash(x) == hash(true) and hash(x) != hash(false)", 1, 1, 0),
        CV_U("hash(x) == hash(18446744073709551615)", UINT64_MAX, 1, 0),
        CV_S("hash(x, 10) < 10", "abc", 1, 0),
        CV_S("hash(x, 0) < 10", "abc", 0, 1),
        CV_N("isnull(hash(x))", 1, 0),
        CV_N("strcat(x, \"a\") == \"a\"", 1, 0),
#if !DT_NO_FLOAT
        CV_F("strcat(x, \"|\", 2, \"|\", true) == \"1.5|2|true\"", 1.5, 1, 0),
#endif
        CV_S("tolower(x) == \"abc\" and toupper(x) == \"ABC\"", "aBc", 1, 0),
        CV_I("tolower(x) == \"1\"", 1, 0, 1),
        CV_N("isnull(toupper(x))", 1, 0),
        CV_I("isnull(extension(x))", 1, 1, 1),
        CV_N("isnull(extension(x))", 1, 0),
    };
    return CV_TABLE(cases);
}

/* ---- compile errors ------------------------------------------------------ */

static enum greatest_test_res cv_refused(const char *text, int code, int line, int column, const char *message) {
    int64_t now;
    dt_desc d = sup_desc(NULL, &now, 100 * SEC);
    dt_engine *e = dt_create(&d);
    dt_error err;
    ASSERT(e != NULL);
    if (dt_check(e, text, strlen(text), &err, NULL) != code || (code && (err.line != line || err.column != column ||
                                                                          strcmp(err.message, message) != 0)))
        fprintf(stderr, "\n%s: %d %d:%d %s\n", text, err.code, err.line, err.column, err.message);
    ASSERT_EQm(text, code, err.code);
    if (code != DT_OK) {
        ASSERT_EQm(text, line, err.line);
        ASSERT_EQm(text, column, err.column);
        ASSERT_STR_EQm(text, message, err.message);
    }
    dt_destroy(e);
    PASS();
}

TEST number_literals_and_their_errors(void) {
    static const char *const ok[] = {
#if !DT_NO_FLOAT
        "recorder r { record T where x == 1e5 }", "recorder r { record T where x == 1E5 }",
        "recorder r { record T where x == 2.5e-3 }", "recorder r { record T where x == 1e+3 }",
#endif
        "recorder r { record T where x == 1_000_000 }", "recorder r { record T where x > 9223372036854775807ns }",
        "level @a, $b, _c.d = off", "recorder r { record T capacity 64 }",
        "recorder r { record T capacity 65536B }", "level T = 24"};
    unsigned i;
    for (i = 0; i < sizeof ok / sizeof ok[0]; i++) CHECK_CALL(cv_refused(ok[i], DT_OK, 0, 0, ""));
    CHECK_CALL(cv_refused("recorder r { record T where x == 1ex }", DT_ERR_SYNTAX, 1, 34,
                          "unknown unit: durations take ns, us, ms, s, m, h, d; sizes take B, KB, KiB, MB, MiB, GB, GiB"));
    CHECK_CALL(cv_refused("recorder r { record T where x > 9223372036854775807s }", DT_ERR_SYNTAX, 1, 33,
                          "number too large (at most 9223372036854775807, or 18446744073709551615 unsigned)"));
    CHECK_CALL(cv_refused("recorder r { record T capacity 18446744073709551615GiB }", DT_ERR_SYNTAX, 1, 32,
                          "number too large (at most 9223372036854775807, or 18446744073709551615 unsigned)"));
    CHECK_CALL(cv_refused("recorder r { record T capacity 63 }", DT_ERR_LIMIT, 1, 23,
                          "recorder capacity out of range"));
    CHECK_CALL(cv_refused("level T = 25", DT_ERR_SYNTAX, 1, 11, "expected a level, found a number"));
    CHECK_CALL(cv_refused("level T = debug for 0", DT_ERR_SYNTAX, 1, 21,
                          "a timed level change needs a duration above zero"));
    CHECK_CALL(cv_refused("level T = debug for 5", DT_ERR_SYNTAX, 1, 21, "expected a duration, found a number"));
    CHECK_CALL(cv_refused("level A = debug for 9223372036854775807ns1ns", DT_ERR_SYNTAX, 1, 21,
                          "number too large (at most 9223372036854775807, or 18446744073709551615 unsigned)"));
    CHECK_CALL(cv_refused("level A = debug for 9223372036854775808ns", DT_ERR_SYNTAX, 1, 21,
                          "number too large (at most 9223372036854775807, or 18446744073709551615 unsigned)"));
    CHECK_CALL(cv_refused("level \"\\xg0\" = off", DT_ERR_SYNTAX, 1, 7, "unknown escape in string"));
    CHECK_CALL(cv_refused("level \"\\x!0\" = off", DT_ERR_SYNTAX, 1, 7, "unknown escape in string"));
    CHECK_CALL(cv_refused("level \"a\\x4\" = off", DT_ERR_SYNTAX, 1, 7, "unknown escape in string"));
    CHECK_CALL(cv_refused("recorder r { record T keys 0 by x }", DT_ERR_LIMIT, 1, 28,
                          "number out of range"));
    PASS();
}

TEST names_tokens_and_messages_at_their_limits(void) {
    char text[600], name[200];
    memset(name, 'n', 129);
    name[129] = 0;
    snprintf(text, sizeof text, "level %s = off", name);
    CHECK_CALL(cv_refused(text, DT_ERR_SYNTAX, 1, 7, "name too long (at most 128 bytes, DT_MAX_NAME)"));
    memset(name, 'k', 70);
    name[70] = 0;
    snprintf(text, sizeof text, "%s", name);
    CHECK_CALL(cv_refused(text, DT_ERR_SYNTAX, 1, 1,
                          "unknown statement 'kkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkk...'"));
    snprintf(text, sizeof text, "level A = %s", name);
    CHECK_CALL(cv_refused(text, DT_ERR_SYNTAX, 1, 11,
                          "expected a level, found 'kkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkk'"));
    CHECK_CALL(cv_refused("recorder r { record T where field(x) == 1 }", DT_ERR_SYNTAX, 1, 35,
                          "expected a field name in quotes, found 'x'"));
    CHECK_CALL(cv_refused("recorder r { record T where field(\"x\" == 1 }", DT_ERR_SYNTAX, 1, 39,
                          "expected ')', found '=='"));
    CHECK_CALL(cv_refused("recorder r { record T where strcat(1, 2, 3, 4, 5, 6, 7, 8, 9) == \"\" }", DT_ERR_LIMIT, 1, 60,
                          "too many arguments"));
    CHECK_CALL(cv_refused("recorder r { record T where strlen(x == 1 }", DT_ERR_SYNTAX, 1, 43,
                          "expected ')', found '}'"));
    CHECK_CALL(cv_refused("recorder r { record T where x matches y }", DT_ERR_TYPE, 1, 39,
                          "matches needs a pattern in quotes"));
    CHECK_CALL(cv_refused("recorder r { record T where level between (1 .. \"a\") }", DT_ERR_TYPE, 1, 35,
                          "between needs bounds of the value's type, i64"));
    CHECK_CALL(cv_refused("recorder r { record T where x between (1 2) }", DT_ERR_SYNTAX, 1, 42,
                          "expected '..', found a number"));
    CHECK_CALL(cv_refused("recorder r { record T where x between 1 .. 2 }", DT_ERR_SYNTAX, 1, 39, "expected '(', found a number"));
    CHECK_CALL(cv_refused("recorder r { record T where x between (1 .. 2 }", DT_ERR_SYNTAX, 1, 47, "expected ')', found '}'"));
    CHECK_CALL(cv_refused("recorder r { record T where x between (1 .. ) }", DT_ERR_SYNTAX, 1, 45, "expected a value, found ')'"));
    CHECK_CALL(cv_refused("recorder r { record T where 1 contains \"a\" }", DT_ERR_TYPE, 1, 31, "string tests need strings, not i64"));
    CHECK_CALL(cv_refused("recorder r { record T where x matches 1 }", DT_ERR_TYPE, 1, 31, "string tests need strings, not i64"));
    CHECK_CALL(cv_refused("recorder r { record T where \"a\" =~ 1 }", DT_ERR_TYPE, 1, 33, "=~ and !~ compare strings ignoring case"));
    CHECK_CALL(cv_refused("recorder r { record T where x in (1, 2 }", DT_ERR_SYNTAX, 1, 40,
                          "expected ')', found '}'"));
    CHECK_CALL(cv_refused("recorder r { record T where 1 =~ \"a\" }", DT_ERR_TYPE, 1, 31,
                          "=~ and !~ compare strings ignoring case"));
    CHECK_CALL(cv_refused("recorder r { record T where \"a\" contains 1 }", DT_ERR_TYPE, 1, 33,
                          "string tests need strings, not i64"));
    CHECK_CALL(cv_refused("recorder r { record T where not 1 }", DT_ERR_TYPE, 1, 33,
                          "expected a condition, found a value of type i64"));
    CHECK_CALL(cv_refused("recorder r { record T where \"a\" * 2 > 1 }", DT_ERR_TYPE, 1, 33,
                          "arithmetic needs numbers, not str"));
#if !DT_NO_FLOAT
    CHECK_CALL(cv_refused("recorder r { record T where 1.5 % 2 > 1 }", DT_ERR_TYPE, 1, 33,
                          "% needs integers"));
#endif
    PASS();
}

/* DT_NO_FLOAT (docs/embedded.md): an f64 field still passes through, but
 * without floating point its value is unknown to expressions. */
TEST without_floating_point_an_f64_is_unknown(void) {
#if DT_NO_FLOAT
    static const cv_case cases[] = {
        CV_F("isnotnull(x)", 2.0, 1, 0),
        CV_F("x > 1 or x <= 1 or x == x", 2.0, 0, 0),
        CV_F("x + 1 > 0", 2.0, 0, 1),
        CV_F("isnull(tostring(x)) and isnull(toint(x))", 2.0, 1, 0),
        CV_F("bin(x, 2) == 2", 2.0, 0, 1),
        CV_I("x * 3 == 6", 2, 1, 0),
    };
    CHECK_CALL(CV_TABLE(cases));
    CHECK_CALL(cv_refused("recorder r { record T where x > 1.5 }", DT_ERR_SYNTAX, 1, 33,
                          "floating-point literals are not available in this build (DT_NO_FLOAT)"));
    PASS();
#else
    SKIPm("tests the DT_NO_FLOAT build");
#endif
}

SUITE(coverage_expr) {
    RUN_TEST(integer_overflow_in_every_direction_is_one_rule_error);
    RUN_TEST(u64_arithmetic_and_its_limits);
    RUN_TEST(f64_arithmetic_follows_ieee);
    RUN_TEST(string_escapes_and_string_tests);
    RUN_TEST(glob_matches);
    RUN_TEST(conversions_on_every_type);
    RUN_TEST(without_floating_point_an_f64_is_unknown);
    RUN_TEST(bin_substring_hash_strcat_and_case);
    RUN_TEST(number_literals_and_their_errors);
    RUN_TEST(names_tokens_and_messages_at_their_limits);
}
