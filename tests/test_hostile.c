/* Hostile input: programs and events built to hurt (deep nesting, huge
 * literals, 100,000 rules, every keyword in every wrong place, 1 MiB
 * strings, thousands of fields, invalid UTF-8, NaN and infinities, every
 * type mismatch). Each gets a clear error or the documented fallback, and
 * each test asserts exactly which. JSON-Lines with broken lines go through
 * the real `dt` binary in tests/cli/hostile_* (run by the cli suite).
 *
 * The keyword matrices are checked against the files in tests/hostile (the
 * core statements' in keywords.expected, the query and state-machine
 * statements' in processor_words*.expected); after a deliberate change to
 * a front end, regenerate them all with
 *   DT_HOSTILE_REGEN=tests/hostile build/dt_tests -s hostile
 * (and once more from a DT_NO_FLOAT build for the *.nofloat.expected
 * files) and review the diff. */
#define _POSIX_C_SOURCE 200809L
#include <math.h>
#include <stdlib.h>

#include "greatest.h"
#include "dt.h"
#include "dt_query.h"            /* DTQ_REDACT_SCAN */
#include "support.h"
#include "reliability.h"

#define SEC 1000000000LL
#define HO_MIB ((size_t)1 << 20)

/* ---- helpers ---------------------------------------------------------- */

/* pre + n copies of unit + post, malloc'd. */
static char *ho_repeat(const char *pre, const char *unit, size_t n, const char *post) {
    size_t lp = strlen(pre), lu = strlen(unit), lq = strlen(post), i;
    char *p = (char *)malloc(lp + lu * n + lq + 1), *at;
    if (!p) return NULL;
    memcpy(p, pre, lp);
    at = p + lp;
    for (i = 0; i < n; i++, at += lu) memcpy(at, unit, lu);
    memcpy(at, post, lq + 1);
    return p;
}

typedef struct ho_cap {
    long exported, dumps;
    size_t last_len;                 /* bytes of the last exported event's first str field */
    uint32_t last_nfields;
    char last[512];                  /* the last exported event, formatted */
    int64_t now;
} ho_cap;

static void ho_on_event(const dt_event *ev, void *ud) {
    ho_cap *c = (ho_cap *)ud;
    uint32_t i;
    c->exported++;
    c->last_nfields = ev->nfields;
    c->last_len = 0;
    for (i = 0; i < ev->nfields; i++)
        if (ev->fields[i].value.type == DT_TYPE_STR) { c->last_len = ev->fields[i].value.as.str.len; break; }
    sup_fmt_event(c->last, sizeof c->last, ev, SUP_BYTES_LEN);
}

static void ho_on_dump(const dt_dump *d, void *ud) { (void)d; ((ho_cap *)ud)->dumps++; }

static dt_desc ho_desc(ho_cap *c) {
    dt_desc d;
    memset(c, 0, sizeof *c);
    d = sup_desc(c, &c->now, 100 * SEC);
    d.sinks.event = ho_on_event;
    d.sinks.dump = ho_on_dump;
    d.self_interval_ns = -1;
    return d;
}

static dt_engine *ho_engine_with(ho_cap *c, size_t max_text, size_t max_bytes) {
    dt_desc d = ho_desc(c);
    d.max_program_text = (uint32_t)max_text;
    d.max_program_bytes = max_bytes;
    return dt_create(&d);
}

static dt_engine *ho_engine(ho_cap *c) { return ho_engine_with(c, 0, 0); }

/* An engine with the query and both state-machine processors plugged in. */
static dt_engine *ho_engine_with_processors(ho_cap *c) {
    dt_desc d = ho_desc(c);
    d.processors = rel_processors(&d.nprocessors);
    return dt_create(&d);
}

/* dt_check of text gives exactly code at line:column with message. */
static enum greatest_test_res ho_error(const char *label, const char *text, size_t len, int code, int line, int column,
                                       const char *message) {
    ho_cap c;
    dt_error err;
    dt_engine *e = ho_engine(&c);
    ASSERT(e != NULL);
    ASSERT_EQm(label, code, dt_check(e, text, len, &err, NULL));
    if (code != DT_OK) {
        ASSERT_EQm(label, code, err.code);
        ASSERT_EQm(label, line, err.line);
        ASSERT_EQm(label, column, err.column);
        ASSERT_STR_EQm(label, message, err.message);
    }
    dt_destroy(e);
    PASS();
}

static enum greatest_test_res ho_error_s(const char *label, const char *text, int code, int line, int column,
                                         const char *message) {
    return ho_error(label, text, strlen(text), code, line, column, message);
}

/* ---- programs --------------------------------------------------------- */

TEST deep_nesting_is_refused_at_the_first_level_too_deep(void) {
    char *parens = ho_repeat("recorder r { record A where ", "(", 10000, "x");
    char *nots = ho_repeat("recorder r { record A where ", "not ", 10000, "x");
    char *minus = ho_repeat("recorder r { record A where ", "-", 10000, "x > 1 }");
    char *ors = ho_repeat("recorder r { record A where x == 1", " or x == 1", 300, " }");
    char *ins = ho_repeat("recorder r { record A where x in (1", ", 1", 300, ") }");
    char *braces = ho_repeat("", "{", 10000, "");
    ASSERT(parens && nots && minus && ors && ins && braces);
    /* column 29 + DT_MAX_EXPR_DEPTH: the first "(" past the limit */
    CHECK_CALL(ho_error_s("10000 parentheses", parens, DT_ERR_LIMIT, 1, 29 + DT_MAX_EXPR_DEPTH, "expression nested too deeply"));
    CHECK_CALL(ho_error_s("10000 nots", nots, DT_ERR_LIMIT, 1, 29 + 4 * DT_MAX_EXPR_DEPTH, "expression nested too deeply"));
    CHECK_CALL(ho_error_s("10000 unary minus", minus, DT_ERR_LIMIT, 1, 29 + DT_MAX_EXPR_DEPTH, "expression nested too deeply"));
    CHECK_CALL(ho_error_s("300 ors", ors, DT_ERR_LIMIT, 1, 35 + 10 * (DT_MAX_EXPR_LIST - 1) + 1,
                          "too many conditions in one and/or chain"));
    CHECK_CALL(ho_error_s("300 in items", ins, DT_ERR_LIMIT, 1, 35 + 3 * DT_MAX_EXPR_LIST,
                          "too many items in one list"));
    CHECK_CALL(ho_error_s("10000 braces", braces, DT_ERR_SYNTAX, 1, 1, "expected a statement, found '{'"));
    free(parens); free(nots); free(minus); free(ors); free(ins); free(braces);
    PASS();
}

TEST huge_literals_are_refused_or_kept_whole(void) {
    char *big = ho_repeat("recorder r { record A where s == \"", "x", 900000, "\" }");
    char *digits = ho_repeat("recorder r { record A where x == ", "9", 1000, " }");
    char *name = ho_repeat("level \"", "x", DT_MAX_NAME + 1, "\" = off");
    char *name_ok = ho_repeat("level \"", "x", DT_MAX_NAME, "\" = off");
    static const char num_msg[] = "number too large (at most 9223372036854775807, or 18446744073709551615 unsigned)";
    ho_cap c;
    dt_engine *e;
    dt_field f;
    ASSERT(big && digits && name && name_ok);
    CHECK_CALL(ho_error_s("1000 digits", digits, DT_ERR_SYNTAX, 1, 34, num_msg));
    CHECK_CALL(ho_error_s("name of 129 bytes", name, DT_ERR_SYNTAX, 1, 7, "event names are 1 to DT_MAX_NAME bytes"));
    CHECK_CALL(ho_error_s("name of 128 bytes", name_ok, DT_OK, 0, 0, ""));
    CHECK_CALL(ho_error_s("duration past 292 years", "level A = debug for 999999999999h", DT_ERR_SYNTAX, 1, 21, num_msg));
    CHECK_CALL(ho_error_s("size past 2^63", "recorder r { record A capacity 99999999999999GiB }", DT_ERR_SYNTAX, 1, 32,
                          num_msg));
    /* a 900,000-byte string literal compiles and compares whole */
    e = ho_engine(&c);
    ASSERT_EQ(DT_OK, deploy(e, big));
    big[strlen(big) - 3] = 0;                    /* the literal's bytes */
    f = dt_field_str("s", big + 34);
    sup_emit_fields(e, "A", DT_INFO, 0, 0, &f, 1);
    ASSERT_EQ(1u, stats(e).recorder_too_big);    /* it matched; 900 KB does not fit a 4 KiB ring */
    f = dt_field_strn("s", big + 34, 899999);
    sup_emit_fields(e, "A", DT_INFO, 0, 0, &f, 1);
    ASSERT_EQ(1u, stats(e).recorder_too_big);    /* one byte short: no match */
    ASSERT_EQ(2, c.exported);
    dt_destroy(e);
    free(big); free(digits); free(name); free(name_ok);
    PASS();
}

TEST float_literal_past_f64_is_refused(void) {
    SUP_NEEDS_FLOAT();
    CHECK_CALL(ho_error_s("1e400", "recorder r { record A where x == 1e400 }", DT_ERR_SYNTAX, 1, 34,
                          "number too large"));
    PASS();
}

/* "level E0 = off\n" ... "level E99999 = off\n": 1.9 MB of text. */
static char *ho_rules(size_t *len) {
    size_t cap = 100000 * 24, at = 0;
    char *p = (char *)malloc(cap);
    int i;
    if (!p) return NULL;
    for (i = 0; i < 100000; i++) at += (size_t)snprintf(p + at, cap - at, "level E%d = off\n", i);
    *len = at;
    return p;
}

TEST a_hundred_thousand_rules_hit_the_text_bound_then_the_memory_bound_then_work(void) {
    size_t len;
    char *text = ho_rules(&len);
    ho_cap c;
    dt_error err;
    dt_engine *e;
    dt_program_info info;
    ASSERT(text != NULL);
    ASSERT_EQ((size_t)1888890, len);
    e = ho_engine(&c);                           /* defaults: 1 MiB of text */
    ASSERT_EQ(DT_ERR_LIMIT, dt_deploy(e, text, len, &err));
    ASSERT_STR_EQ("program text longer than max_program_text", err.message);
    dt_destroy(e);
    e = ho_engine_with(&c, 4 * HO_MIB, 0);        /* text allowed, 16 MiB of program memory */
    ASSERT_EQ(DT_ERR_NOMEM, dt_deploy(e, text, len, &err));
    ASSERT_STR_EQ("program too large for its memory bound", err.message);
    ASSERT_EQ(DT_ERR_EMPTY, dt_program(e, &info));
    dt_destroy(e);
    e = ho_engine_with(&c, 4 * HO_MIB, 256 * HO_MIB);
    ASSERT_EQ(DT_OK, dt_deploy(e, text, len, &err));
    ASSERT_EQ(DT_OK, dt_program(e, &info));
    ASSERT_EQ(100000u, info.blocks);
    emit(e, "E0", DT_FATAL, 0);
    emit(e, "E99999", DT_FATAL, 0);
    emit(e, "E100000", DT_INFO, 0);
    ASSERT_EQ(1, c.exported);
    ASSERT_STR_EQ("E100000@info{}", c.last);
    dt_destroy(e);
    free(text);
    PASS();
}

TEST bytes_outside_the_language_are_refused_where_they_stand(void) {
    static const char unexpected[] = "unexpected character: names are letters, digits, '_' and '.'; strings are quoted";
    CHECK_CALL(ho_error("NUL in the text", "level A = off\0level B = off", 27, DT_ERR_SYNTAX, 1, 14, unexpected));
    CHECK_CALL(ho_error_s("UTF-8 name unquoted", "level \xc3\x9c = off", DT_ERR_SYNTAX, 1, 7, unexpected));
    CHECK_CALL(ho_error_s("invalid UTF-8", "level \xff\xfe = off", DT_ERR_SYNTAX, 1, 7, unexpected));
    CHECK_CALL(ho_error_s("UTF-8 name quoted", "level \"\xc3\x9c\" = off", DT_OK, 0, 0, ""));
    CHECK_CALL(ho_error_s("invalid UTF-8 quoted", "level \"\xff\xfe\" = off", DT_OK, 0, 0, ""));
    CHECK_CALL(ho_error_s("unterminated string", "level \"abc = off", DT_ERR_SYNTAX, 1, 7,
                          "unterminated string: close it with a quote on the same line"));
    CHECK_CALL(ho_error_s("unknown escape", "level \"a\\q\" = off", DT_ERR_SYNTAX, 1, 7, "unknown escape in string"));
    CHECK_CALL(ho_error("empty program", "", 0, DT_OK, 0, 0, ""));
    CHECK_CALL(ho_error_s("only comments", "# just\n// comments\n", DT_OK, 0, 0, ""));
    CHECK_CALL(ho_error("NULL text", NULL, 0, DT_OK, 0, 0, ""));
    CHECK_CALL(ho_error("NULL text with a length", NULL, 5, DT_ERR_INVALID, 0, 0, "no program text"));
    PASS();
}

/* Every word of the language and every punctuation mark, in every slot of
 * every statement form: each program's outcome is one line, and the lines
 * are compared with a file under tests/hostile/. */
typedef struct ho_matrix {
    const char *const *words;
    unsigned nwords;
    const char *const *slots;
    unsigned nslots;
    const char *expected;        /* path of the recorded outcomes */
} ho_matrix;

#define HO_COUNT(a) (unsigned)(sizeof a / sizeof a[0])

static void ho_matrix_line(dt_engine *e, const char *slot, const char *word, char *out, size_t size) {
    char text[256];
    dt_error err;
    int rc;
    snprintf(text, sizeof text, slot, word);
    rc = dt_check(e, text, strlen(text), &err, NULL);
    if (rc == DT_OK) snprintf(out, size, "%s  =>  ok\n", text);
    else snprintf(out, size, "%s  =>  %s %d:%d %s%s%s\n", text, dt_result_str(rc), err.line, err.column, err.message,
                  err.hint[0] ? " | hint: " : "", err.hint);
}

/* With DT_HOSTILE_REGEN=DIR set, the matrix is written to DIR/<the expected
 * file's name> instead of compared. */
static FILE *ho_matrix_regen(const char *expected) {
    const char *dir = getenv("DT_HOSTILE_REGEN"), *base = strrchr(expected, '/');
    char path[512];
    if (!dir) return NULL;
    snprintf(path, sizeof path, "%s/%s", dir, base ? base + 1 : expected);
    return fopen(path, "w");
}

/* The first line that differs, both ways, on stderr. */
static void ho_matrix_report(const ho_matrix *m, unsigned lineno, const char *want, size_t left, const char *got) {
    const char *end = left ? (const char *)memchr(want, '\n', left) : NULL;
    fprintf(stderr, "\n%s line %u: expected\n  %.*s\ngot\n  %s", m->expected, lineno,
            end ? (int)(end - want) : 0, want, got);
}

static enum greatest_test_res ho_matrix_check(dt_engine *e, const ho_matrix *m, unsigned *lines) {
    size_t len = 0, at = 0;
    char *expected = rel_read_file(m->expected, &len);
    FILE *out = ho_matrix_regen(m->expected);
    unsigned s, w, n = 0;
    ASSERTm(m->expected, e != NULL);
    ASSERTm("the expected file is missing (or DT_HOSTILE_REGEN is not a writable directory)",
            getenv("DT_HOSTILE_REGEN") ? out != NULL : expected != NULL);
    for (s = 0; s < m->nslots; s++) {
        for (w = 0; w < m->nwords; w++) {
            char line[1200];
            size_t k;
            ho_matrix_line(e, m->slots[s], m->words[w], line, sizeof line);
            k = strlen(line);
            n++;
            if (out) { fputs(line, out); continue; }
            if (at + k > len || memcmp(expected + at, line, k) != 0) {
                ho_matrix_report(m, n, expected + at, at < len ? len - at : 0, line);
                free(expected);
                FAILm("a keyword matrix differs from its recorded outcomes");
            }
            at += k;
        }
    }
    if (out) fclose(out);
    else ASSERT_EQm("the expected file has extra lines", len, at);
    free(expected);
    *lines += n;
    PASS();
}

/* The core statements' matrix. */
static const char *const ho_words[] = {
    "level", "recorder", "record", "flush", "discard", "when", "where", "for", "by", "keys", "capacity", "tid",
    "and", "or", "not", "in", "between", "contains", "startswith", "endswith", "contains_cs", "has", "matches",
    "true", "false", "null", "name", "ts", "field", "strlen", "isnull", "query", "machine", "on", "do", "drop",
    "project", "summarize", "every", "sample", "throttle", "redact", "with", "trace", "debug", "info", "warn",
    "error", "fatal", "off", "{", "}", "(", ")", ",", ";", "=", "==", "|", "*", "->", "..", "\"\"", "0", "5m",
    "64KiB", "1.5", "-", "!"};
static const char *const ho_slots[] = {
    "%s",
    "level %s = off",
    "level A = %s",
    "level A = debug for %s",
    "level A = debug for 5m when %s",
    "level A = debug for 5m when B where %s",
    "level A = off %s",
    "recorder %s { record A }",
    "recorder r { %s }",
    "recorder r { record %s }",
    "recorder r { record A where %s }",
    "recorder r { record A where x %s 1 }",
    "recorder r { record A capacity %s }",
    "recorder r { record A keys %s }",
    "recorder r { record A by %s }",
    "recorder r { record A flush when %s }",
    "recorder r { record A } %s",
};

/* Without floating point the word 1.5 is refused where it would parse. */
#if DT_NO_FLOAT
#define HO_KEYWORDS_EXPECTED "tests/hostile/keywords.nofloat.expected"
#define HO_PROC_FLOAT_EXPECTED "tests/hostile/processor_words.nofloat.expected"
#else
#define HO_KEYWORDS_EXPECTED "tests/hostile/keywords.expected"
#define HO_PROC_FLOAT_EXPECTED "tests/hostile/processor_words.float.expected"
#endif

TEST every_word_in_every_slot_gets_its_recorded_outcome(void) {
    static const ho_matrix core = {ho_words, HO_COUNT(ho_words), ho_slots, HO_COUNT(ho_slots), HO_KEYWORDS_EXPECTED};
    ho_cap c;
    unsigned lines = 0;
    dt_engine *e = ho_engine(&c);
    CHECK_CALL(ho_matrix_check(e, &core, &lines));
    dt_destroy(e);
    ASSERT_EQ(HO_COUNT(ho_words) * HO_COUNT(ho_slots), lines);
    PASS();
}

/* The processors' matrix: every word of `query` (operators, aggregates and
 * their clauses) and of `machine` and `on` (transition lines, statements,
 * clauses), with the punctuation they use, in every slot of a query, a
 * machine and a trigger. The float literal has its own file, whose
 * outcomes depend on DT_NO_FLOAT; every other line is the same in every
 * build. */
static const char *const ho_proc_words[] = {
    "query", "machine", "on", "where", "drop", "project", "project-away", "project-rename", "extend", "redact",
    "sample", "throttle", "summarize", "count", "countif", "percentile", "by", "every", "groups", "keep", "seed",
    "in", "per", "keys", "with", "hash", "key", "email", "initial", "entry", "exit", "after", "do", "once", "rearm",
    "when", "emit", "annotate", "observe", "bounds", "level", "tid", "$v", "elapsed", "flush", "->", "*", "{", "}",
    "(", ")", ",", ";", "=", "|", "\"\"", "0", "5m", "64KiB", "-1", "!"};
static const char *const ho_proc_float_words[] = {"1.5"};
static const char *const ho_proc_slots[] = {
    /* query */
    "query %s = A | drop",
    "query q %s A | drop",
    "query q = %s | drop",
    "query q = A, %s | drop",
    "query q = A %s drop",
    "query q = A | %s",
    "query q = A | where %s | drop",
    "query q = A | where x %s 1",
    "query q = A | drop %s",
    "query q = A | project %s",
    "query q = A | project-away a, %s",
    "query q = A | project-rename %s = b",
    "query q = A | project-rename a = %s",
    "query q = A | extend %s = 1",
    "query q = A | extend a = %s",
    "query q = A | redact %s",
    "query q = A | redact email in %s",
    "query q = A | redact email with %s",
    "query q = A | redact with hash key %s",
    "query q = A | sample %s",
    "query q = A | sample 1 %s 2",
    "query q = A | sample 1 in 2 by %s",
    "query q = A | sample 1 in 2 seed %s",
    "query q = A | throttle %s per 1m",
    "query q = A | throttle 5 %s 1m",
    "query q = A | throttle 5 per %s",
    "query q = A | throttle 5 per 1m by k keys %s",
    "query q = A | summarize %s",
    "query q = A | summarize n = %s",
    "query q = A | summarize n = count(%s)",
    "query q = A | summarize n = countif(%s)",
    "query q = A | summarize n = sum(%s)",
    "query q = A | summarize n = percentile(x, %s)",
    "query q = A | summarize n = count() by %s",
    "query q = A | summarize n = count() every %s",
    "query q = A | summarize n = count() groups %s",
    "query q = A | summarize n = count() %s",
    /* machine */
    "machine %s { S -> T on A }",
    "machine m %s S -> T on A }",
    "machine m { %s }",
    "machine m { %s -> T on A }",
    "machine m { S %s T on A }",
    "machine m { S -> %s on A }",
    "machine m { S -> T %s A }",
    "machine m { S -> T on %s }",
    "machine m { S -> T on A %s }",
    "machine m { S -> T on A where %s }",
    "machine m { S -> T on A where $v %s 1 }",
    "machine m { S -> T after %s }",
    "machine m { S -> T on A { %s } }",
    "machine m { S -> T on A { $v = %s } }",
    "machine m { S -> T on A { emit %s } }",
    "machine m { S -> T on A { emit E(f = %s) } }",
    "machine m { S -> T on A { emit E level %s } }",
    "machine m { S -> T on A { annotate %s = 1 } }",
    "machine m { S -> T on A { observe h = %s } }",
    "machine m { S -> T on A { observe h = 1 bounds (%s) } }",
    "machine m { S -> T on A { count %s } }",
    "machine m { S -> T on A { count c by %s } }",
    "machine m { S -> T on A { do %s } }",
    "machine m { S -> T on A { do flush(%s) } }",
    "machine m { S -> T on A { do flush(\"r\") %s } }",
    "machine m { S -> T on A { do flush(\"r\") every %s } }",
    "machine m { S -> T on A { drop %s } }",
    "machine m { S -> T on A; initial %s }",
    "machine m { S -> T on A; entry %s { drop } }",
    "machine m { S -> T on A; by %s }",
    "machine m { S -> T on A; max %s }",
    "machine m { S -> T on A; every %s }",
    "machine m { S -> T on A } %s",
    /* on */
    "on %s do flush(\"r\")",
    "on A %s",
    "on A where %s do flush(\"r\")",
    "on A do %s",
    "on A do flush(\"r\") %s",
    "on A do flush(\"r\") every %s",
    "on A do flush(\"r\") rearm when %s",
    "on A { %s }",
};

/* Reviewed by eye: every line is an error at the word (or at the first
 * token the word makes wrong) or a documented acceptance. Findings fixed
 * since (each with a test of its exact message and position in
 * test_coverage_query.c or test_coverage_stateful.c; after a change to
 * dt_query.h / dt_stateful.h, regenerate and review the diff):
 * - conditions (`where 0`, `countif("")`, `rearm when 5m`, `where x * 1`)
 *   are type errors at their column, as the core's are (dt_parse_condition);
 * - `throttle 5 per 0` and `summarize ... every 0` point at the 0, as
 *   machines' `after 0` and `every 0` do;
 * - patterns not followed by '|' say "expected '|'" at the word there;
 *   `query q = project-away | drop` quotes the name: '-' cannot be part of
 *   it (at the end of the line or program: "a query needs at least one
 *   operator");
 * - `machine m { S on T ... }` says "expected '->'" at the word after S
 *   when that is a name (else "expected a machine line" at S, as before);
 * - `bounds (-1)` is a negative bound (histograms of deltas);
 * - `do f() every 0` (in a trigger or a machine) is refused at the 0 like
 *   `after 0`, not run without a limit;
 * - `initial X`, `entry X {...}`, `exit X {...}` naming a state no
 *   transition enters or leaves are refused at X as a likely typo. */
TEST every_processor_word_in_every_processor_slot_gets_its_recorded_outcome(void) {
    static const ho_matrix words = {ho_proc_words, HO_COUNT(ho_proc_words), ho_proc_slots, HO_COUNT(ho_proc_slots),
                                    "tests/hostile/processor_words.expected"};
    static const ho_matrix floats = {ho_proc_float_words, HO_COUNT(ho_proc_float_words), ho_proc_slots,
                                     HO_COUNT(ho_proc_slots), HO_PROC_FLOAT_EXPECTED};
    ho_cap c;
    unsigned lines = 0;
    dt_engine *e = ho_engine_with_processors(&c);
    ASSERTm("query, machine and on are plugged in", rel_has_processor("query") && rel_has_processor("machine") &&
                                                        rel_has_processor("on"));
    CHECK_CALL(ho_matrix_check(e, &words, &lines));
    CHECK_CALL(ho_matrix_check(e, &floats, &lines));
    dt_destroy(e);
    ASSERT_EQ((HO_COUNT(ho_proc_words) + 1) * HO_COUNT(ho_proc_slots), lines);
    PASS();
}

/* ---- events ----------------------------------------------------------- */

TEST a_one_mib_string_is_exported_whole_and_costs_what_it_scans(void) {
    static const char prog[] = "recorder r { record Big }\nrecorder s { record Big where s contains \"needle\" }";
    size_t n = HO_MIB;
    char *s = (char *)malloc(n);
    ho_cap c;
    dt_engine *e = ho_engine(&c);
    dt_field f;
    dt_stats st;
    ASSERT(s && e);
    memset(s, 'a', n);
    memcpy(s + n - 6, "needle", 6);
    ASSERT_EQ(DT_OK, deploy(e, prog));
    f = dt_field_strn("s", s, n);
    sup_emit_fields(e, "Big", DT_INFO, 0, 0, &f, 1);
    st = stats(e);
    ASSERT_EQ(1, c.exported);
    ASSERT_EQ(n, c.last_len);                    /* exported whole */
    ASSERT_EQ(1u, st.recorder_too_big);          /* r: 1 MiB does not fit its 4 KiB ring */
    ASSERT_EQ(0u, st.recorder_records);
    ASSERT_EQ(1u, st.budget_trips);              /* s: contains over 1 MiB costs about 16384 units > 10000 */
    f = dt_field_str("s", "a needle");           /* s stays off for this program; r records */
    sup_emit_fields(e, "Big", DT_INFO, 0, 0, &f, 1);
    ASSERT_EQ(1u, stats(e).recorder_records);
    ASSERT_EQ(2, c.exported);
    dt_destroy(e);
    free(s);
    PASS();
}

TEST five_thousand_fields_are_cut_to_the_bound_and_counted(void) {
    static const char prog[] = "recorder r { record Wide where f63 == 63 }";
    dt_field *f = (dt_field *)malloc(sizeof(dt_field) * 5000);
    char (*names)[16] = (char (*)[16])malloc(16 * 5000);
    ho_cap c;
    dt_engine *e = ho_engine(&c);
    dt_stats st;
    int i;
    ASSERT(f && names && e);
    for (i = 0; i < 5000; i++) {
        snprintf(names[i], 16, "f%d", i);
        f[i] = dt_field_i64(names[i], i);
    }
    ASSERT_EQ(DT_OK, deploy(e, prog));
    sup_emit_fields(e, "Wide", DT_INFO, 0, 0, f, 5000);
    st = stats(e);
    ASSERT_EQ(1u, st.fields_truncated);
    ASSERT_EQ(1u, st.recorder_records);          /* f63 is still there */
    ASSERT_EQ((uint32_t)DT_MAX_FIELDS, c.last_nfields);
    f[10].name = dt_cstr("f4999");               /* a field past the cut is not seen */
    ASSERT_EQ(DT_OK, deploy(e, "recorder r { record Wide where f4999 == 4999 }"));
    sup_emit_fields(e, "Wide", DT_INFO, 0, 0, f, 5000);
    ASSERT_EQ(1u, stats(e).recorder_records);    /* the new program's recorder: nothing */
    ASSERT_EQ(2u, stats(e).fields_truncated);
    dt_destroy(e);
    free(f);
    free(names);
    PASS();
}

TEST invalid_names_and_fields_are_refused_and_counted_invalid_utf8_values_pass(void) {
    ho_cap c;
    dt_engine *e = ho_engine(&c);
    dt_field f[2];
    char longname[DT_MAX_NAME + 2];
    dt_event ev;
    ASSERT(e != NULL);
    memset(longname, 'n', sizeof longname);
    longname[DT_MAX_NAME + 1] = 0;
    emit(e, "", DT_INFO, 0);                                     /* empty name */
    emit(e, longname, DT_INFO, 0);                               /* 129 bytes */
    f[0] = dt_field_i64("", 1);                                  /* empty field name */
    sup_emit_fields(e, "Ok", DT_INFO, 0, 0, f, 1);
    f[0] = dt_field_i64("x", 1);
    f[0].value.type = (dt_type)42;                               /* no such type */
    sup_emit_fields(e, "Ok", DT_INFO, 0, 0, f, 1);
    memset(&ev, 0, sizeof ev);                                   /* fields promised, none given */
    ev.name = dt_cstr("Ok");
    ev.level = DT_INFO;
    ev.nfields = 3;
    dt_emit(e, &ev);
    ASSERT_EQ(5u, stats(e).bad_events);
    ASSERT_EQ(5u, stats(e).events_in);
    ASSERT_EQ(0, c.exported);
    longname[DT_MAX_NAME] = 0;                                   /* 128 bytes: fine */
    emit(e, longname, DT_INFO, 0);
    f[0] = dt_field_str("s", "\xff\xfe\xc3(");                   /* invalid UTF-8 in a value */
    f[1] = dt_field_bytes("b", "\0\xff", 2);
    sup_emit_fields(e, "\xe2\x82", DT_INFO, 0, 0, f, 2);         /* and in the name */
    ASSERT_EQ(2, c.exported);
    ASSERT_STR_EQ("\xe2\x82@info{s=\"\xff\xfe\xc3(\",b=<2 bytes>}", c.last);
    dt_destroy(e);
    PASS();
}

/* The recorders among recs[0..n) that recorded the event, as "a b ":
 * each is flushed, and a dump means it did. */
static void ho_matched(dt_engine *e, ho_cap *c, const char *const *recs, unsigned n, char *got, size_t size) {
    unsigned k;
    got[0] = 0;
    for (k = 0; k < n; k++) {
        c->dumps = 0;
        dt_recorder_flush(e, recs[k], NULL);
        if (c->dumps) { sup_append(got, size, recs[k]); sup_append(got, size, " "); }
    }
    c->dumps = 0;
}

/* NaN and infinities compare as IEEE 754 says and are recorded as they
 * are; nothing counts as an error. */
TEST nan_and_infinities_follow_ieee_comparisons(void) {
    static const char prog[] =
        "recorder gt { record F where x > 1 }\n"
        "recorder ne { record F where x != 1 }\n"
        "recorder eq { record F where x == x }\n"
        "recorder ar { record F where x + 1 > 0 }\n";
    static const char *const recs[] = {"gt", "ne", "eq", "ar"};
    /* per value: which of gt, ne, eq, ar match */
    static const struct { double v; const char *want; } cases[] = {
        {0.0, "ne eq ar "}, {NAN, "ne "}, {INFINITY, "gt ne eq ar "}, {-INFINITY, "ne eq "}, {-NAN, "ne "}};
    unsigned i;
    SUP_NEEDS_FLOAT();
    for (i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        ho_cap c;
        dt_engine *e = ho_engine(&c);
        dt_field f = dt_field_f64("x", cases[i].v);
        char got[64];
        ASSERT_EQ(DT_OK, deploy(e, prog));
        sup_emit_fields(e, "F", DT_INFO, 0, 0, &f, 1);
        ho_matched(e, &c, recs, 4, got, sizeof got);
        ASSERT_STR_EQ(cases[i].want, got);
        ASSERT_EQ(0u, stats(e).rule_errors);
        dt_destroy(e);
    }
    PASS();
}

/* Every field type against every operator whose operand type is only
 * known at run time: a mismatch is null (no match) and one rule error,
 * never a crash; the event goes on. */
TEST every_type_mismatch_is_null_and_one_rule_error(void) {
    static const char prog[] =
        "recorder cmp { record T where x > 1 }\n"
        "recorder str { record T where x contains \"a\" }\n"
        "recorder add { record T where x + 1 > 0 }\n"
        "recorder len { record T where strlen(x) > 0 }\n"
        "recorder mod { record T where x % 2 == 1 }\n"
        "recorder eqs { record T where x == \"a\" }\n";
    static const char *const recs[] = {"cmp", "str", "add", "len", "mod", "eqs"};
    /* per type: blocks that match, then rule errors (mismatches) */
    static const struct { const char *type; const char *want; unsigned errors; } cases[] = {
        {"null", "", 0},
        {"bool", "", 6},
        {"i64", "cmp add mod ", 3},
        {"u64", "cmp add mod ", 3},
#if DT_NO_FLOAT
        {"f64", "", 5},                /* unknown: no order, no arithmetic */
#else
        {"f64", "cmp add ", 4},
#endif
        {"str", "str len eqs ", 3},
        {"bytes", "len ", 5},
    };
    unsigned i;
    for (i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        ho_cap c;
        dt_engine *e = ho_engine(&c);
        dt_field f;
        char got[64];
        switch (i) {
        case 0: f = dt_field_i64("x", 0); f.value.type = DT_TYPE_NULL; break;
        case 1: f = dt_field_bool("x", 1); break;
        case 2: f = dt_field_i64("x", 3); break;
        case 3: f = dt_field_u64("x", 3); break;
        case 4: f = dt_field_f64("x", 3.5); break;
        case 5: f = dt_field_str("x", "a"); break;
        default: f = dt_field_bytes("x", "a", 1); break;
        }
        ASSERT_EQ(DT_OK, deploy(e, prog));
        sup_emit_fields(e, "T", DT_INFO, 0, 0, &f, 1);
        ho_matched(e, &c, recs, 6, got, sizeof got);
        ASSERT_STR_EQm(cases[i].type, cases[i].want, got);
        ASSERT_EQm(cases[i].type, (uint64_t)cases[i].errors, stats(e).rule_errors);
        ASSERT_EQm(cases[i].type, 1, c.exported);
        dt_destroy(e);
    }
    PASS();
}

/* ---- events through the processors ---------------------------------------- */

#ifndef HO_QUERY_BUG_REDACT_BUDGET     /* 1 while the bug is open; 0 to run the test */
#define HO_QUERY_BUG_REDACT_BUDGET 0
#endif

typedef struct ho_leaks {
    long events, leaks;
} ho_leaks;

static void ho_count_leaks(const dt_event *ev, void *ud) {
    ho_leaks *l = (ho_leaks *)ud;
    uint32_t i;
    l->events++;
    for (i = 0; i < ev->nfields; i++) {
        dt_str v = ev->fields[i].value.as.str;
        size_t k;
        if (ev->fields[i].value.type != DT_TYPE_STR) continue;
        for (k = 0; k + 16 <= v.len; k++)
            if (memcmp(v.ptr + k, "bob@example.com ", 15) == 0) { l->leaks++; break; }
    }
}

/* A redacting query must fail closed: a value too big to scan within the
 * block's budget must not switch redaction off for it or for the events
 * after it. */
TEST a_huge_value_never_switches_redaction_off(void) {
    static const char prog[] = "query r = Big, Small | redact email";
    size_t n = HO_MIB;
    char *big = (char *)malloc(n + 32);
    ho_leaks l;
    dt_desc d;
    dt_engine *e;
    dt_field f;
    int64_t now;
    if (!rel_has_processor("query")) { free(big); SKIPm("the query processor is not linked into this binary"); }
    ASSERT(big != NULL);
    memset(&l, 0, sizeof l);
    d = sup_desc(&l, &now, 100 * SEC);
    d.sinks.event = ho_count_leaks;
    d.processors = rel_processors(&d.nprocessors);
    e = dt_create(&d);
    ASSERT(e != NULL);
    ASSERT_EQ(DT_OK, deploy(e, prog));
    memset(big, 'a', n);
    memcpy(big + n, " bob@example.com now", 20);
    f = dt_field_strn("s", big, n + 20);
    sup_emit_fields(e, "Big", DT_INFO, 0, 0, &f, 1);
    f = dt_field_str("s", "mail bob@example.com now");
    sup_emit_fields(e, "Small", DT_INFO, 0, 0, &f, 1);
    free(big);
    ASSERT_EQ(2, l.events);
#if HO_QUERY_BUG_REDACT_BUDGET
    if (l.leaks) {
        dt_destroy(e);
        SKIPm("query bug: a value of ~700 KB+ trips the redact block's budget; it is switched off and this and every later secret leak");
    }
#endif
    ASSERT_EQ(0, l.leaks);
    dt_destroy(e);
    PASS();
}

/* Redaction's work per field is bounded: a value of DTQ_REDACT_SCAN bytes
 * is scanned whole, and a value one byte longer is not scanned at all: it
 * becomes one marker and counts one rule error (tests/test_redact.c counts
 * the work of a scan). A secret in the last bytes of the longest scanned
 * value is found; its rewrite does not fit the event's 1 KiB scratch
 * (DT_EXEC_ARENA), so the value is replaced whole, as documented. */
static enum greatest_test_res ho_redact_long(size_t len, int secret_at_end, const char *want, uint64_t want_errors) {
    static const char tail[] = " bob@example.com";
    char *v = (char *)malloc(len);
    ho_cap c;
    dt_desc d = ho_desc(&c);
    dt_engine *e;
    dt_field f;
    ASSERT(v != NULL && len > sizeof tail);
    d.processors = rel_processors(&d.nprocessors);
    e = dt_create(&d);
    ASSERT(e != NULL);
    ASSERT_EQ(DT_OK, deploy(e, "query r = Big | redact email"));
    memset(v, 'a', len);
    if (secret_at_end) memcpy(v + len - (sizeof tail - 1), tail, sizeof tail - 1);
    f = dt_field_strn("s", v, len);
    sup_emit_fields(e, "Big", DT_INFO, 0, 0, &f, 1);
    ASSERT_EQ(1, c.exported);
    if (want) ASSERT_STR_EQ(want, c.last);
    else ASSERT_EQ(len, c.last_len);                 /* exported as it came */
    ASSERT_EQ(want_errors, stats(e).rule_errors);
    dt_destroy(e);
    free(v);
    PASS();
}

TEST redaction_scans_a_value_up_to_its_bound_then_replaces_it_whole(void) {
    if (!rel_has_processor("query")) SKIPm("the query processor is not linked into this binary");
    CHECK_CALL(ho_redact_long(DTQ_REDACT_SCAN, 0, NULL, 0));                          /* scanned: nothing found */
    CHECK_CALL(ho_redact_long(DTQ_REDACT_SCAN, 1, "Big@info{s=\"[REDACTED]\"}", 1));   /* scanned to its end */
    CHECK_CALL(ho_redact_long(DTQ_REDACT_SCAN + 1, 0, "Big@info{s=\"[REDACTED]\"}", 1)); /* not scanned */
    PASS();
}

SUITE(hostile) {
    RUN_TEST(deep_nesting_is_refused_at_the_first_level_too_deep);
    RUN_TEST(huge_literals_are_refused_or_kept_whole);
    RUN_TEST(float_literal_past_f64_is_refused);
    RUN_TEST(a_hundred_thousand_rules_hit_the_text_bound_then_the_memory_bound_then_work);
    RUN_TEST(bytes_outside_the_language_are_refused_where_they_stand);
    RUN_TEST(every_word_in_every_slot_gets_its_recorded_outcome);
    RUN_TEST(every_processor_word_in_every_processor_slot_gets_its_recorded_outcome);
    RUN_TEST(a_one_mib_string_is_exported_whole_and_costs_what_it_scans);
    RUN_TEST(five_thousand_fields_are_cut_to_the_bound_and_counted);
    RUN_TEST(invalid_names_and_fields_are_refused_and_counted_invalid_utf8_values_pass);
    RUN_TEST(nan_and_infinities_follow_ieee_comparisons);
    RUN_TEST(every_type_mismatch_is_null_and_one_rule_error);
    RUN_TEST(a_huge_value_never_switches_redaction_off);
    RUN_TEST(redaction_scans_a_value_up_to_its_bound_then_replaces_it_whole);
}
