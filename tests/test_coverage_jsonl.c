/* Coverage of examples/dt_jsonl.h, the CLI's JSON-lines reader and writer
 * (branch coverage found its corners untested): every error the event
 * reader reports with its column, every field type and reserved key, every
 * escape and number form, the DOM parser and its accessors, arenas that run
 * out, and every form the writer produces. Each reading case is an input
 * line and the exact event it reads as (written back with the writer), or
 * its exact "column: reason". */
#include <math.h>
#include <stdint.h>

#include "greatest.h"
#include "dt.h"
#include "examples/dt_jsonl.h"
#include "support.h"

#define JL_OUT 2048

/* ---- reading events -------------------------------------------------- */

typedef struct jl_case {
    const char *line;
    size_t len;              /* 0: strlen(line) */
    const char *want;        /* the event as dtj_write_event writes it, "skip", or "COLUMN: reason" */
} jl_case;

/* A line with embedded NULs or raw bytes: its exact length. */
#define JL_RAW(lit, want) {lit, sizeof(lit) - 1, want}
#define JL(lit, want) {lit, 0, want}

/* Reads one line into out as the case's `want` would say it. */
static void jl_read(const char *line, size_t len, dtj_arena *a, uint32_t maxfields, char *out, size_t cap) {
    dt_field fields[8];
    dt_event ev;
    dtj_error err;
    dtj_buf b;
    dtj_writer w = dtj_buf_writer(&b, out, cap);
    int r = dtj_read_event(line, len, a, &ev, maxfields ? fields : NULL, maxfields, &err);
    if (r == DTJ_SKIP) snprintf(out, cap, "skip");
    else if (r == DTJ_ERROR) snprintf(out, cap, "%lu: %s", (unsigned long)err.column, err.reason);
    else dtj_write_event(&w, &ev, 0);
}

/* Every case is run; each mismatch is printed before the test fails. */
static enum greatest_test_res jl_table(const jl_case *cases, size_t n, uint32_t maxfields) {
    static unsigned char mem[4096];
    char out[JL_OUT];
    size_t i, bad = 0;
    for (i = 0; i < n; i++) {
        size_t len = cases[i].len ? cases[i].len : strlen(cases[i].line);
        dtj_arena a;
        dtj_arena_init(&a, mem, dtj_event_arena_size(len));
        jl_read(cases[i].line, len, &a, maxfields, out, sizeof out);
        if (strcmp(cases[i].want, out) != 0) {
            fprintf(stderr, "\n%s\n  want %s\n  got  %s\n", cases[i].line, cases[i].want, out);
            bad++;
        }
    }
    ASSERT_EQ((size_t)0, bad);
    PASS();
}

#define JL_TABLE(cases, maxfields) jl_table(cases, sizeof cases / sizeof cases[0], maxfields)

TEST event_lines_read_as_their_exact_events(void) {
    static const jl_case cases[] = {
        JL("{\"name\":\"A\"}", "{\"name\":\"A\",\"ts\":0,\"level\":\"info\",\"fields\":{}}"),
        JL(" \t{ \"name\" : \"A\" , \"ts\" : 5 , \"tid\" : 7 }\r",
           "{\"name\":\"A\",\"ts\":5,\"level\":\"info\",\"tid\":7,\"fields\":{}}"),
        JL("{\"name\":\"A\",\"tid\":18446744073709551615}",
           "{\"name\":\"A\",\"ts\":0,\"level\":\"info\",\"tid\":18446744073709551615,\"fields\":{}}"),
        JL("{\"name\":\"A\",\"level\":\"TRACE\"}", "{\"name\":\"A\",\"ts\":0,\"level\":\"trace\",\"fields\":{}}"),
        JL("{\"name\":\"A\",\"level\":\"Debug\"}", "{\"name\":\"A\",\"ts\":0,\"level\":\"debug\",\"fields\":{}}"),
        JL("{\"name\":\"A\",\"level\":\"warning\"}", "{\"name\":\"A\",\"ts\":0,\"level\":\"warn\",\"fields\":{}}"),
        JL("{\"name\":\"A\",\"level\":\"WARN\"}", "{\"name\":\"A\",\"ts\":0,\"level\":\"warn\",\"fields\":{}}"),
        JL("{\"name\":\"A\",\"level\":\"error\"}", "{\"name\":\"A\",\"ts\":0,\"level\":\"error\",\"fields\":{}}"),
        JL("{\"name\":\"A\",\"level\":\"fatal\"}", "{\"name\":\"A\",\"ts\":0,\"level\":\"fatal\",\"fields\":{}}"),
        JL("{\"name\":\"A\",\"level\":24}", "{\"name\":\"A\",\"ts\":0,\"level\":24,\"fields\":{}}"),
        JL("{\"name\":\"A\",\"level\":1}", "{\"name\":\"A\",\"ts\":0,\"level\":\"trace\",\"fields\":{}}"),
        /* every field type, in order */
        JL("{\"name\":\"A\",\"s\":\"x\",\"t\":true,\"f\":false,\"n\":null,\"i\":-3,\"u\":9223372036854775808}",
           "{\"name\":\"A\",\"ts\":0,\"level\":\"info\",\"fields\":{\"s\":\"x\",\"t\":true,\"f\":false,\"n\":null,"
           "\"i\":-3,\"u\":9223372036854775808}}"),
        JL("{\"name\":\"A\",\"a\":1.5,\"b\":-2e3,\"c\":1E-2,\"d\":2e+2,\"e\":0.0}",
           "{\"name\":\"A\",\"ts\":0,\"level\":\"info\",\"fields\":{\"a\":1.5,\"b\":-2000.0,\"c\":0.01,\"d\":200.0,\"e\":0.0}}"),
        JL("{\"name\":\"A\",\"a\":NaN,\"b\":Infinity,\"c\":-Infinity}",
           "{\"name\":\"A\",\"ts\":0,\"level\":\"info\",\"fields\":{\"a\":\"NaN\",\"b\":\"Infinity\",\"c\":\"-Infinity\"}}"),
        JL("{\"name\":\"A\",\"lo\":-9223372036854775808,\"z\":0,\"m\":-0}",
           "{\"name\":\"A\",\"ts\":0,\"level\":\"info\",\"fields\":{\"lo\":-9223372036854775808,\"z\":0,\"m\":0}}"),
        /* beyond int64 below zero is a float literal's neighbour: out of range */
        JL("{\"name\":\"A\",\"x\":-9223372036854775809}",
           "17: field \"x\": integer out of range (fits neither int64 nor uint64)"),
        /* a literal of 64 bytes or more goes through the arena for strtod */
        JL("{\"name\":\"A\",\"x\":1.0000000000000000000000000000000000000000000000000000000000000000000001}",
           "{\"name\":\"A\",\"ts\":0,\"level\":\"info\",\"fields\":{\"x\":1.0}}"),
        /* bytes: padding optional, every digit class, 1, 2 and 3 bytes in the last quantum */
        JL("{\"name\":\"A\",\"a\":{\"$bytes\":\"QQ==\"},\"b\":{ \"$bytes\" : \"QUI\" },\"c\":{\"$bytes\":\"az09+/+/\"},"
           "\"d\":{\"$bytes\":\"\"}}",
           "{\"name\":\"A\",\"ts\":0,\"level\":\"info\",\"fields\":{\"a\":{\"$bytes\":\"QQ==\"},\"b\":{\"$bytes\":\"QUI=\"},"
           "\"c\":{\"$bytes\":\"az09+/+/\"},\"d\":{\"$bytes\":\"\"}}}"),
        /* escapes: the simple ones, \u of 1, 2, 3 and 4 UTF-8 bytes, upper-case hex, lone surrogates */
        JL("{\"name\":\"A\",\"s\":\"\\\"\\\\\\/\\b\\f\\n\\r\\t\"}",
           "{\"name\":\"A\",\"ts\":0,\"level\":\"info\",\"fields\":{\"s\":\"\\\"\\\\/\\b\\f\\n\\r\\t\"}}"),
        JL("{\"name\":\"A\",\"s\":\"\\u0041\\u00e9\\u20AC\\uD83D\\uDE00\\u00C9\"}",
           "{\"name\":\"A\",\"ts\":0,\"level\":\"info\",\"fields\":{\"s\":\"A\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80\xc3\x89\"}}"),
        JL("{\"name\":\"A\",\"s\":\"\\ud83dx\",\"t\":\"\\ud83d\\u0041\",\"u\":\"\\ude00\",\"v\":\"\\ud83d\"}",
           "{\"name\":\"A\",\"ts\":0,\"level\":\"info\",\"fields\":{\"s\":\"\xef\xbf\xbdx\",\"t\":\"\xef\xbf\xbd" "A\","
           "\"u\":\"\xef\xbf\xbd\",\"v\":\"\xef\xbf\xbd\"}}"),
        /* a high surrogate without its low half: end of string, other bytes, another escape, not a low one */
        JL("{\"name\":\"A\",\"s\":\"\\ud83dxy\",\"t\":\"\\ud83d\\n\",\"u\":\"\\ud83d\\ue000\",\"v\":\"\\ue000\"}",
           "{\"name\":\"A\",\"ts\":0,\"level\":\"info\",\"fields\":{\"s\":\"\xef\xbf\xbdxy\",\"t\":\"\xef\xbf\xbd\\n\","
           "\"u\":\"\xef\xbf\xbd\xee\x80\x80\",\"v\":\"\xee\x80\x80\"}}"),
        /* an escaped name and key are copied into the arena */
        JL("{\"n\\u0061me\":\"\\u0041\",\"k\\u0065y\":1}",
           "{\"name\":\"A\",\"ts\":0,\"level\":\"info\",\"fields\":{\"key\":1}}"),
        JL("", "skip"),
        JL("   \t", "skip"),
        JL("  # a comment {", "skip"),
        JL("{}", "1: missing \"name\""),
        JL("{ }", "1: missing \"name\""),
    };
    return JL_TABLE(cases, 8);
}

TEST malformed_lines_report_column_and_reason(void) {
    static const jl_case cases[] = {
        JL("[1]", "1: line is not a JSON object"),
        JL("{\"name\":\"A\"} x", "14: unexpected bytes after the JSON object"),
        JL("{\"name\":\"A\"", "12: unexpected end of line (expected ',' or '}')"),
        JL("{\"name\":\"A\" \"b\"}", "13: unexpected '\"' (expected ',' or '}')"),
        JL("{\"name\":\"A\",}", "13: trailing comma before '}'"),
        JL("{1:2}", "2: unexpected '1' (expected a string key)"),
        JL("{\"a\" 1}", "6: unexpected '1' (expected ':' after the key)"),
        JL("{\"a\"", "5: unexpected end of line (expected ':' after the key)"),
        JL("{\"a", "2: unterminated string"),
        JL("{\"name\":", "9: unexpected end of line (expected a value)"),
        JL("{\"name\":tru}", "9: unexpected 't' (expected a value)"),
        JL_RAW("{\"name\":\x01}", "9: unexpected byte 0x01 (expected a value)"),
        JL_RAW("{\"name\":\x7f}", "9: unexpected byte 0x7F (expected a value)"),
        JL_RAW("{\"name\":\xc3\xa9}", "9: unexpected byte 0xC3 (expected a value)"),
        JL("{\"name\":Nope}", "9: unexpected 'N' (expected a value)"),
        JL("{\"name\":\"A\",\"name\":\"B\"}", "13: duplicate key \"name\""),
        JL("{\"name\":\"A\",\"x\":1,\"x\":2}", "19: duplicate key \"x\""),
        /* keys in messages: at most 40 bytes, cut before a UTF-8 sequence, control bytes as '?' */
        JL("{\"name\":\"A\",\"0123456789012345678901234567890123456789xyz\":1,"
           "\"0123456789012345678901234567890123456789xyz\":2}",
           "61: duplicate key \"0123456789012345678901234567890123456789...\""),
        JL("{\"name\":\"A\",\"012345678901234567890123456789012345678\xc3\xa9\":1,"
           "\"012345678901234567890123456789012345678\xc3\xa9\":2}",
           "59: duplicate key \"012345678901234567890123456789012345678...\""),
        JL("{\"name\":\"A\",\"\x80\x80\x80\x80\x80\x80\x80\x80\x80\x80\x80\x80\x80\x80\x80\x80\x80\x80\x80\x80\x80\x80"
           "\x80\x80\x80\x80\x80\x80\x80\x80\x80\x80\x80\x80\x80\x80\x80\x80\x80\x80\x80\x80\":[1]}",
           "58: field \"...\": arrays and objects are not field values (flatten them, or use {\"$bytes\":...})"),
        JL("{\"name\":\"A\",\"a\\tb\":[1]}", "20: field \"a?b\": arrays and objects are not field values "
                                              "(flatten them, or use {\"$bytes\":...})"),
        /* reserved keys */
        JL("{\"name\":1}", "9: \"name\" must be a string"),
        JL("{\"name\":\"\"}", "9: \"name\" must not be empty"),
        JL("{\"name\":\"A\",\"ts\":\"1\"}", "18: \"ts\" must be a non-negative integer (nanoseconds)"),
        JL("{\"name\":\"A\",\"ts\":1.0}", "18: \"ts\" must be a non-negative integer (nanoseconds)"),
        JL("{\"name\":\"A\",\"ts\":-1}", "18: \"ts\" must be a non-negative integer (nanoseconds)"),
        JL("{\"name\":\"A\",\"level\":0}",
           "21: \"level\" must be trace, debug, info, warn, error, fatal or an integer 1..24"),
        JL("{\"name\":\"A\",\"level\":25}",
           "21: \"level\" must be trace, debug, info, warn, error, fatal or an integer 1..24"),
        JL("{\"name\":\"A\",\"level\":2.0}",
           "21: \"level\" must be trace, debug, info, warn, error, fatal or an integer 1..24"),
        JL("{\"name\":\"A\",\"level\":\"warm\"}",
           "21: \"level\" must be trace, debug, info, warn, error, fatal or an integer 1..24"),
        JL("{\"name\":\"A\",\"level\":\"inf0\"}",
           "21: \"level\" must be trace, debug, info, warn, error, fatal or an integer 1..24"),
        JL("{\"name\":\"A\",\"level\":true}",
           "21: \"level\" must be trace, debug, info, warn, error, fatal or an integer 1..24"),
        JL("{\"name\":\"A\",\"tid\":\"1\"}", "19: \"tid\" must be a non-negative integer"),
        JL("{\"name\":\"A\",\"tid\":1.5}", "19: \"tid\" must be a non-negative integer"),
        JL("{\"name\":\"A\",\"tid\":-1}", "19: \"tid\" must be a non-negative integer"),
        JL("{\"name\":\"A\",\"tid\":18446744073709551616}", "19: \"tid\" must be a non-negative integer"),
        /* field names and values */
        JL("{\"name\":\"A\",\"\":1}", "13: field names must not be empty"),
        JL("{\"name\":\"A\",\"x\":18446744073709551616}",
           "17: field \"x\": integer out of range (fits neither int64 nor uint64)"),
        JL("{\"name\":\"A\",\"x\":1e400}", "17: field \"x\": number out of range for a double"),
        JL("{\"name\":\"A\",\"x\":-1e400}", "17: field \"x\": number out of range for a double"),
        JL("{\"name\":\"A\",\"x\":{}}", "17: field \"x\": arrays and objects are not field values "
                                        "(flatten them, or use {\"$bytes\":...})"),
        JL("{\"name\":\"A\",\"x\":{\"y\":1}}", "17: field \"x\": arrays and objects are not field values "
                                               "(flatten them, or use {\"$bytes\":...})"),
        JL("{\"name\":\"A\",\"x\":{\"$bytes\" 1}}", "17: field \"x\": arrays and objects are not field values "
                                                    "(flatten them, or use {\"$bytes\":...})"),
        JL("{\"name\":\"A\",\"x\":{\"$bytes", "18: unterminated string"),
        JL("{\"name\":\"A\",\"x\":{\"$bytes\":1}}", "27: field \"x\": \"$bytes\" must be a base64 string"),
        JL("{\"name\":\"A\",\"x\":{\"$bytes\":}}", "27: unexpected '}' (expected a value)"),
        JL("{\"name\":\"A\",\"x\":{\"$bytes\":\"QQ==\",\"y\":1}}",
           "33: field \"x\": {\"$bytes\":...} takes no other keys"),
        JL("{\"name\":\"A\",\"x\":{\"$bytes\":\"QQ=\"}}", "27: field \"x\": base64 of impossible length 3"),
        JL("{\"name\":\"A\",\"x\":{\"$bytes\":\"QUJDR\"}}", "27: field \"x\": base64 of impossible length 5"),
        JL("{\"name\":\"A\",\"x\":{\"$bytes\":\"QU~D\"}}",
           "27: field \"x\": byte 2 of the base64 is not a base64 digit"),
        JL("{\"name\":\"A\",\"x\":{\"$bytes\":\"QU:D\"}}",
           "27: field \"x\": byte 2 of the base64 is not a base64 digit"),
        JL("{\"name\":\"A\",\"x\":{\"$bytes\":\"Q===\"}}",
           "27: field \"x\": byte 1 of the base64 is not a base64 digit"),
        JL("{\"name\":\"A\",\"x\":{\"$bytes\":\"QU!D\"}}",
           "27: field \"x\": byte 2 of the base64 is not a base64 digit"),
        /* numbers */
        JL("{\"name\":\"A\",\"x\":01}", "17: numbers must not have leading zeros"),
        JL("{\"name\":\"A\",\"x\":-01}", "18: numbers must not have leading zeros"),
        JL("{\"name\":\"A\",\"x\":-}", "18: unexpected '}' (expected a digit after '-')"),
        JL("{\"name\":\"A\",\"x\":1.}", "19: unexpected '}' (expected a digit after '.')"),
        JL("{\"name\":\"A\",\"x\":1e}", "19: unexpected '}' (expected a digit in the exponent)"),
        JL("{\"name\":\"A\",\"x\":1e+", "20: unexpected end of line (expected a digit in the exponent)"),
        /* strings */
        JL_RAW("{\"name\":\"A\x01\"}", "11: control byte 0x01 in a string (write it as \\u0001)"),
        JL("{\"name\":\"A\\x\"}", "11: invalid escape '\\x'"),
        JL_RAW("{\"name\":\"A\\\x01\"}", "11: invalid escape: '\\' followed by byte 0x01"),
        JL("{\"name\":\"A\\u12G4\"}", "11: \\u must be followed by 4 hex digits"),
        JL("{\"name\":\"A\\u12\"}", "11: \\u must be followed by 4 hex digits"),
        JL("{\"name\":\"A\\u12+4\"}", "11: \\u must be followed by 4 hex digits"),
        JL("{\"name\":\"A\\u12:4\"}", "11: \\u must be followed by 4 hex digits"),
        JL("{\"name\":\"A\\u12g4\"}", "11: \\u must be followed by 4 hex digits"),
        JL_RAW("{\"name\":\"A\\\0\"}", "11: invalid escape: '\\' followed by byte 0x00"),
        JL_RAW("{\"name\":\"A\\\x7f\"}", "11: invalid escape: '\\' followed by byte 0x7F"),
        JL("{\"name\":\"A\\\"}", "9: unterminated string"),
    };
    return JL_TABLE(cases, 8);
}

TEST names_and_fields_have_bounds(void) {
    char line[400], want[200];
    static const jl_case two[] = {
        JL("{\"name\":\"A\",\"a\":1,\"b\":2}", "19: too many fields (at most 1)"),
    };
    int n = snprintf(line, sizeof line, "{\"name\":\"%0*d\"}", DT_MAX_NAME + 1, 0);
    jl_case one = {line, (size_t)n, want};
    snprintf(want, sizeof want, "9: \"name\" is longer than %d bytes", DT_MAX_NAME);
    CHECK_CALL(jl_table(&one, 1, 8));
    n = snprintf(line, sizeof line, "{\"name\":\"A\",\"%0*d\":1}", DT_MAX_NAME + 1, 0);
    one.len = (size_t)n;
    snprintf(want, sizeof want, "13: field \"0000000000000000000000000000000000000000...\": name longer than %d bytes",
             DT_MAX_NAME);
    CHECK_CALL(jl_table(&one, 1, 8));
    CHECK_CALL(JL_TABLE(two, 1));
    PASS();
}

TEST no_fields_array_takes_no_fields(void) {
    static const jl_case cases[] = {
        JL("{\"name\":\"A\",\"a\":1}", "13: too many fields (at most 0)"),
        JL("{\"name\":\"A\",\"ts\":3}", "{\"name\":\"A\",\"ts\":3,\"level\":\"info\",\"fields\":{}}"),
    };
    return JL_TABLE(cases, 0);
}

/* What needs the arena (escaped strings, bytes, long number literals)
 * fails cleanly without one, or with one that is full. */
TEST a_full_arena_is_a_clean_error(void) {
    static unsigned char mem[64];
    char out[JL_OUT];
    dtj_arena a;
    static const char esc[] = "{\"name\":\"\\u0041\"}";
    static const char b64[] = "{\"name\":\"A\",\"x\":{\"$bytes\":\"QUJD\"}}";
    static const char lng[] = "{\"name\":\"A\",\"x\":1.00000000000000000000000000000000000000000000000000000000000000000000}";
    jl_read(esc, strlen(esc), NULL, 8, out, sizeof out);
    ASSERT_STR_EQ("9: out of memory (the arena of 0 bytes is full)", out);
    dtj_arena_init(&a, NULL, 100);
    jl_read(esc, strlen(esc), &a, 8, out, sizeof out);
    ASSERT_STR_EQ("9: out of memory (the arena of 0 bytes is full)", out);
    dtj_arena_init(&a, mem, 3);
    jl_read(b64, strlen(b64), &a, 8, out, sizeof out);
    ASSERT_STR_EQ("27: out of memory (the arena of 3 bytes is full)", out);
    jl_read(lng, strlen(lng), NULL, 8, out, sizeof out);
    ASSERT_STR_EQ("17: out of memory (the arena of 0 bytes is full)", out);
    /* a float literal under 64 bytes needs no arena */
    jl_read("{\"name\":\"A\",\"x\":2.5}", 20, NULL, 8, out, sizeof out);
    ASSERT_STR_EQ("{\"name\":\"A\",\"ts\":0,\"level\":\"info\",\"fields\":{\"x\":2.5}}", out);
    /* an arena whose `used` a caller pushed past its size hands out nothing */
    dtj_arena_init(&a, mem, sizeof mem);
    a.used = sizeof mem + 1;
    ASSERT(dtj__alloc(&a, 1, 1) == NULL);
    a.used = sizeof mem - 2;
    ASSERT(dtj__alloc(&a, 3, 1) == NULL);
    ASSERT(dtj__alloc(&a, 2, 1) == mem + sizeof mem - 2);
    PASS();
}

TEST arena_bounds_saturate_instead_of_wrapping(void) {
    ASSERT_EQ((size_t)64, dtj_event_arena_size(0));
    ASSERT_EQ((size_t)84, dtj_event_arena_size(10));
    ASSERT_EQ(SIZE_MAX, dtj_event_arena_size(SIZE_MAX / 2));
    ASSERT_EQ((size_t)256, dtj_parse_arena_size(0));
    ASSERT_EQ(SIZE_MAX, dtj_parse_arena_size(SIZE_MAX / 2));
    PASS();
}

TEST read_event_without_error_struct(void) {
    dt_event ev;
    dt_field f[1];
    ASSERT_EQ(DTJ_ERROR, dtj_read_event("{", 1, NULL, &ev, f, 1, NULL));
    ASSERT_EQ(DTJ_SKIP, dtj_read_event(NULL, 5, NULL, &ev, f, 1, NULL));
    PASS();
}

/* ---- the DOM --------------------------------------------------------- */

/* The tree with each number's kind: 5 int, 5u uint, big(..) bigint, 5.0 float. */
static void jl_dom(const dtj_writer *w, const dtj_value *v) {
    const dtj_value *c;
    switch (v->kind) {
    case DTJ_NULL: dtj_write_raw(w, "null"); break;
    case DTJ_BOOL: dtj_write_bool(w, v->as.b); break;
    case DTJ_STRING: dtj_write_string(w, v->as.str.ptr, v->as.str.len); break;
    case DTJ_NUMBER:
        if (v->as.num.kind == DTJ_NUM_INT) dtj_write_i64(w, v->as.num.i);
        else if (v->as.num.kind == DTJ_NUM_UINT) dtj_write_u64(w, v->as.num.u), dtj_write_raw(w, "u");
        else if (v->as.num.kind == DTJ_NUM_BIGINT)
            dtj_write_raw(w, "big("), dtj_write(w, v->as.num.text.ptr, v->as.num.text.len), dtj_write_raw(w, ")");
        else dtj_write_f64(w, v->as.num.f);
        break;
    case DTJ_ARRAY:
    case DTJ_OBJECT:
        dtj_write_raw(w, v->kind == DTJ_ARRAY ? "[" : "{");
        for (c = v->as.first; c; c = c->next) {
            if (c != v->as.first) dtj_write_raw(w, ",");
            if (v->kind == DTJ_OBJECT) dtj_write_string(w, c->key.ptr, c->key.len), dtj_write_raw(w, ":");
            jl_dom(w, c);
        }
        dtj_write_raw(w, v->kind == DTJ_ARRAY ? "]" : "}");
        break;
    }
}

/* The document as jl_dom writes it, or "COLUMN: reason". */
static void jl_parse(const char *text, size_t len, size_t arena, char *out, size_t cap) {
    static unsigned char mem[1 << 16];
    dtj_arena a;
    dtj_error err;
    dtj_buf b;
    dtj_writer w = dtj_buf_writer(&b, out, cap);
    const dtj_value *root;
    dtj_arena_init(&a, mem, arena < sizeof mem ? arena : sizeof mem);
    root = dtj_parse(text, len, &a, &err);
    if (root) jl_dom(&w, root);
    else snprintf(out, cap, "%lu: %s", (unsigned long)err.column, err.reason);
}

TEST documents_parse_to_their_exact_trees(void) {
    static const jl_case cases[] = {
        JL("\xEF\xBB\xBF [ ]", "[]"),
        JL(" {} ", "{}"),
        JL("[1, -2, 18446744073709551615, 18446744073709551616, 2.5, \"s\\n\", true, false, null, [[]], {\"k\":{}}]",
           "[1,-2,18446744073709551615u,big(18446744073709551616),2.5,\"s\\n\",true,false,null,[[]],{\"k\":{}}]"),
        JL("{\"a\" : 1 , \"b\":[ 2 ], \"a\":3}", "{\"a\":1,\"b\":[2],\"a\":3}"),
        JL("\"\\u00e9\"", "\"\xc3\xa9\""),
        JL("[\n1\r\n,\t2 ]\n", "[1,2]"),
        JL("0", "0"),
        JL("12", "12"),
        JL("-", "2: unexpected end of input (expected a digit after '-')"),
        JL("1e", "3: unexpected end of input (expected a digit in the exponent)"),
        JL("1.", "3: unexpected end of input (expected a digit after '.')"),
        JL("[1 2]", "4: unexpected '2' (expected ',' or ']')"),
        JL("[1,]", "4: trailing comma before ']'"),
        JL("[1,", "4: unexpected end of input (expected a value)"),
        JL("{1:2}", "2: unexpected '1' (expected a string key)"),
        JL("{\"a\" 1}", "6: unexpected '1' (expected ':' after the key)"),
        JL("{\"a\":}", "6: unexpected '}' (expected a value)"),
        JL("{\"a\":1,}", "8: trailing comma before '}'"),
        JL("{\"a\\q\":1}", "4: invalid escape '\\q'"),
        JL("{\"a\":[1,}", "9: unexpected '}' (expected a value)"),
        JL("[1] 2", "5: unexpected bytes after the JSON value"),
        JL("", "1: unexpected end of input (expected a value)"),
        JL("[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]", "33: nested deeper than 32 levels"),
        JL("[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]",
           "[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]"),
    };
    char out[JL_OUT];
    size_t i;
    for (i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        jl_parse(cases[i].line, strlen(cases[i].line), SIZE_MAX, out, sizeof out);
        ASSERT_STR_EQm(cases[i].line, cases[i].want, out);
    }
    PASS();
}

TEST a_small_arena_fails_the_parse_cleanly(void) {
    static const char doc[] = "{\"key\":[1,2,3]}";
    char out[JL_OUT];
    size_t need, size;
    dtj_error err;
    /* the smallest arena that holds the document, found by growing it */
    for (need = 0; need < 4096; need++) {
        jl_parse(doc, strlen(doc), need, out, sizeof out);
        if (strcmp(out, "{\"key\":[1,2,3]}") == 0) break;
    }
    ASSERT(need > 0 && need < 4096);
    /* every smaller arena is "out of memory" where the next node or copy did not fit */
    for (size = 0; size < need; size++) {
        char want[100];
        jl_parse(doc, strlen(doc), size, out, sizeof out);
        snprintf(want, sizeof want, "out of memory (the arena of %lu bytes is full)", (unsigned long)size);
        ASSERT(strstr(out, want) != NULL);
    }
    ASSERT(dtj_parse("[]", 2, NULL, &err) == NULL);
    ASSERT_STR_EQ("out of memory (the arena of 0 bytes is full)", err.reason);
    ASSERT(dtj_parse("x", 1, NULL, NULL) == NULL);
    PASS();
}

TEST accessors_answer_for_every_kind(void) {
    static unsigned char mem[8192];
    dtj_arena a;
    static const char doc[] = "{\"i\":-4,\"u\":9223372036854775808,\"f\":1.5,\"s\":\"x\",\"\":0,\"arr\":[7,8]}";
    const dtj_value *root, *arr;
    int64_t v = 99;
    dtj_arena_init(&a, mem, sizeof mem);
    root = dtj_parse(doc, strlen(doc), &a, NULL);
    ASSERT(root != NULL);
    ASSERT_EQ(6u, dtj_len(root));
    arr = dtj_get(root, "arr");
    ASSERT_EQ(2u, dtj_len(arr));
    ASSERT_EQ(0u, dtj_len(dtj_get(root, "s")));
    ASSERT_EQ(0u, dtj_len(NULL));
    ASSERT(dtj_get(root, "missing") == NULL);
    ASSERT(dtj_get(NULL, "i") == NULL);
    ASSERT(dtj_get(arr, "i") == NULL);
    ASSERT(dtj_get(root, "") == dtj_at(root, 4));
    ASSERT(dtj_at(root, 6) == NULL);
    ASSERT(dtj_at(arr, 1) != NULL && dtj_int(dtj_at(arr, 1), &v) && v == 8);
    ASSERT(dtj_at(arr, 2) == NULL);
    ASSERT(dtj_at(NULL, 0) == NULL);
    ASSERT(dtj_at(dtj_get(root, "s"), 0) == NULL);
    ASSERT_STR_EQ("x", dtj_string(dtj_get(root, "s")));
    ASSERT(dtj_string(dtj_get(root, "i")) == NULL);
    ASSERT(dtj_string(NULL) == NULL);
    v = 99;
    ASSERT(dtj_int(dtj_get(root, "i"), &v) && v == -4);
    ASSERT(!dtj_int(dtj_get(root, "u"), &v));
    ASSERT(!dtj_int(dtj_get(root, "f"), &v));
    ASSERT(!dtj_int(dtj_get(root, "s"), &v));
    ASSERT(!dtj_int(NULL, &v));
    ASSERT_EQ(-4, v);
    ASSERT(dtj_str_is(dt_strn("", 0), ""));
    ASSERT(!dtj_str_is(dt_strn("ab", 2), "a"));
    PASS();
}

/* ---- the writer ------------------------------------------------------ */

/* One call of the writer into a fresh buffer. */
#define JL_WRITE(out, call)                                                                                            \
    do {                                                                                                               \
        dtj_buf b_;                                                                                                    \
        dtj_writer w_ = dtj_buf_writer(&b_, out, sizeof out);                                                          \
        const dtj_writer *w = &w_;                                                                                     \
        call;                                                                                                          \
    } while (0)

TEST strings_are_written_as_valid_json_whatever_their_bytes(void) {
    static const struct {
        const char *in;
        size_t len;
        const char *want;
    } cases[] = {
        {"plain", 5, "\"plain\""},
        {"\"\\\n\r\t\b\f\x01\x1f", 9, "\"\\\"\\\\\\n\\r\\t\\b\\f\\u0001\\u001f\""},
        {"\0", 1, "\"\\u0000\""},
        /* well-formed: 2, 3 (E0 A0, ED 9F) and 4 bytes (F0 90, F4 8F) */
        {"\xc3\xa9\xe0\xa0\x80\xed\x9f\xbf\xf0\x90\x80\x80\xf4\x8f\xbf\xbf", 16,
         "\"\xc3\xa9\xe0\xa0\x80\xed\x9f\xbf\xf0\x90\x80\x80\xf4\x8f\xbf\xbf\""},
        /* malformed: overlong, surrogate, above U+10FFFF, 0xF5, lone continuation, cut short, bad continuation */
        {"\xc0\x80", 2, "\"\\ufffd\\ufffd\""},
        {"\xe0\x80\x80", 3, "\"\\ufffd\\ufffd\\ufffd\""},
        {"\xed\xa0\x80", 3, "\"\\ufffd\\ufffd\\ufffd\""},
        {"\xf0\x80\x80\x80", 4, "\"\\ufffd\\ufffd\\ufffd\\ufffd\""},
        {"\xf4\x90\x80\x80", 4, "\"\\ufffd\\ufffd\\ufffd\\ufffd\""},
        {"\xf5", 1, "\"\\ufffd\""},
        {"\x80", 1, "\"\\ufffd\""},
        {"a\xe2\x82", 3, "\"a\\ufffd\\ufffd\""},
        {"\xe2\x28\xa1", 3, "\"\\ufffd(\\ufffd\""},
        {"\xe2\x82\xc0", 3, "\"\\ufffd\\ufffd\\ufffd\""},
        {"\xf0\x9f\x98\x28", 4, "\"\\ufffd\\ufffd\\ufffd(\""},
        {"", 0, "\"\""},
    };
    char out[256];
    size_t i;
    for (i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        JL_WRITE(out, dtj_write_string(w, cases[i].in, cases[i].len));
        ASSERT_STR_EQm(cases[i].want, cases[i].want, out);
    }
    ASSERT_EQ((size_t)0, dtj_utf8_len((const unsigned char *)"a", 0));
    ASSERT_EQ((size_t)1, dtj_utf8_len((const unsigned char *)"a", 1));
    PASS();
}

TEST numbers_are_written_shortest_and_typed(void) {
    char out[64];
    JL_WRITE(out, dtj_write_f64(w, 0.1));
    ASSERT_STR_EQ("0.1", out);
    JL_WRITE(out, dtj_write_f64(w, 0.1 + 0.2));
    ASSERT_STR_EQ("0.30000000000000004", out);
    JL_WRITE(out, dtj_write_f64(w, 1.0 / 3.0));
    ASSERT_STR_EQ("0.3333333333333333", out);
    JL_WRITE(out, dtj_write_f64(w, -2.0));
    ASSERT_STR_EQ("-2.0", out);
    JL_WRITE(out, dtj_write_f64(w, 1e300));
    ASSERT_STR_EQ("1e+300", out);
    JL_WRITE(out, dtj_write_f64(w, -1.7976931348623157e308));
    ASSERT_STR_EQ("-1.7976931348623157e+308", out);
    JL_WRITE(out, dtj_write_f64(w, (double)NAN));
    ASSERT_STR_EQ("\"NaN\"", out);
    JL_WRITE(out, dtj_write_f64(w, (double)INFINITY));
    ASSERT_STR_EQ("\"Infinity\"", out);
    JL_WRITE(out, dtj_write_f64(w, -(double)INFINITY));
    ASSERT_STR_EQ("\"-Infinity\"", out);
    JL_WRITE(out, dtj_write_i64(w, INT64_MIN));
    ASSERT_STR_EQ("-9223372036854775808", out);
    JL_WRITE(out, dtj_write_u64(w, UINT64_MAX));
    ASSERT_STR_EQ("18446744073709551615", out);
    JL_WRITE(out, dtj_write_level(w, 7));
    ASSERT_STR_EQ("7", out);
    JL_WRITE(out, dtj_write_level(w, DT_DEBUG));
    ASSERT_STR_EQ("\"debug\"", out);
    PASS();
}

TEST bytes_are_written_as_padded_base64(void) {
    static const char *const want[] = {"\"\"", "\"AA==\"", "\"AAE=\"", "\"AAEC\"", "\"AAECAw==\""};
    static unsigned char all[100];
    char out[256];
    size_t i;
    for (i = 0; i < sizeof all; i++) all[i] = (unsigned char)(i * 7);
    for (i = 0; i < 5; i++) {
        static const unsigned char first[] = {0, 1, 2, 3};
        JL_WRITE(out, dtj_write_base64(w, first, i));
        ASSERT_STR_EQ(want[i], out);
    }
    /* longer than the writer's 64-byte staging: flushed in pieces, same text */
    JL_WRITE(out, dtj_write_base64(w, all, sizeof all));
    ASSERT_STR_EQ("\"AAcOFRwjKjE4P0ZNVFtiaXB3foWMk5qhqK+2vcTL0tng5+71/AMKERgfJi00O0JJUFdeZWxzeoGIj5adpKuyucDHztXc4+rx+P8GDRQbIikwNz5FTFNaYWhvdn2Ei5KZoKeutQ==\"",
                  out);
    PASS();
}

TEST events_and_values_are_written_in_the_cli_format(void) {
    static const char raw[] = {'\x00', '\xff'};
    dt_field f[8];
    dt_event ev;
    char out[512];
    f[0] = dt_field_bool("b", 1);
    f[1] = dt_field_i64("i", -1);
    f[2] = dt_field_u64("u", 2);
    f[3] = dt_field_f64("f", 0.5);
    f[4] = dt_field_str("s", "q\"");
    f[5] = dt_field_bytes("y", raw, sizeof raw);
    f[6] = dt_field_bool("n", 0);
    f[6].value.type = DT_TYPE_NULL;
    f[7] = dt_field_bool("b0", 0);
    memset(&ev, 0, sizeof ev);
    ev.name = dt_cstr("E");
    ev.ts = 12;
    ev.level = DT_WARN;
    ev.tid = 3;
    ev.fields = f;
    ev.nfields = 8;
    JL_WRITE(out, dtj_write_event(w, &ev, 1));
    ASSERT_STR_EQ("{\"type\":\"event\",\"name\":\"E\",\"ts\":12,\"level\":\"warn\",\"tid\":3,\"fields\":{\"b\":true,"
                  "\"i\":-1,\"u\":2,\"f\":0.5,\"s\":\"q\\\"\",\"y\":{\"$bytes\":\"AP8=\"},\"n\":null,\"b0\":false}}",
                  out);
    ev.fields = NULL;
    ev.tid = 0;
    JL_WRITE(out, dtj_write_event(w, &ev, 0));
    ASSERT_STR_EQ("{\"name\":\"E\",\"ts\":12,\"level\":\"warn\",\"fields\":{}}", out);
    PASS();
}

TEST buffer_writer_cuts_and_says_so(void) {
    char small[4];
    dtj_buf b;
    dtj_writer w = dtj_buf_writer(&b, small, sizeof small);
    dtj_write_raw(&w, "ab");
    ASSERT_STR_EQ("ab", small);
    ASSERT_EQ(0, b.truncated);
    dtj_write_raw(&w, "");
    dtj_write_raw(&w, "cd");
    ASSERT_STR_EQ("abc", small);
    ASSERT_EQ((size_t)3, b.len);
    ASSERT_EQ(1, b.truncated);
    dtj_write_raw(&w, "e");
    ASSERT_STR_EQ("abc", small);
    /* no buffer at all: everything is cut, nothing is written */
    w = dtj_buf_writer(&b, NULL, 10);
    dtj_write_raw(&w, "x");
    ASSERT_EQ((size_t)0, b.cap);
    ASSERT_EQ((size_t)0, b.len);
    ASSERT_EQ(1, b.truncated);
    PASS();
}

TEST file_writer_writes_to_its_file(void) {
    char got[32] = {0};
    FILE *fp = tmpfile();
    dtj_writer w;
    ASSERT(fp != NULL);
    w = dtj_file_writer(fp);
    dtj_write_bool(&w, 0);
    rewind(fp);
    ASSERT_EQ((size_t)5, fread(got, 1, sizeof got - 1, fp));
    fclose(fp);
    ASSERT_STR_EQ("false", got);
    PASS();
}

SUITE(coverage_jsonl) {
    RUN_TEST(event_lines_read_as_their_exact_events);
    RUN_TEST(malformed_lines_report_column_and_reason);
    RUN_TEST(names_and_fields_have_bounds);
    RUN_TEST(no_fields_array_takes_no_fields);
    RUN_TEST(a_full_arena_is_a_clean_error);
    RUN_TEST(arena_bounds_saturate_instead_of_wrapping);
    RUN_TEST(read_event_without_error_struct);
    RUN_TEST(documents_parse_to_their_exact_trees);
    RUN_TEST(a_small_arena_fails_the_parse_cleanly);
    RUN_TEST(accessors_answer_for_every_kind);
    RUN_TEST(strings_are_written_as_valid_json_whatever_their_bytes);
    RUN_TEST(numbers_are_written_shortest_and_typed);
    RUN_TEST(bytes_are_written_as_padded_base64);
    RUN_TEST(events_and_values_are_written_in_the_cli_format);
    RUN_TEST(buffer_writer_cuts_and_says_so);
    RUN_TEST(file_writer_writes_to_its_file);
}
