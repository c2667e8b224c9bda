/*
 * greatest.h - dt's own unit-test harness.
 *
 * This file was written for the dt repository.  It is NOT the upstream
 * "greatest" library by Scott Vokes and contains none of its code.  It
 * implements greatest's public API (macro names, semantics and report
 * format) so tests written against it compile unchanged with upstream
 * greatest.h, which can be dropped in place of this file at any time.
 *
 * License: MIT, like the rest of dt.
 *
 * Each test binary expands GREATEST_MAIN_DEFS(); once at file scope and
 * brackets its RUN_SUITE calls with GREATEST_MAIN_BEGIN()/_END() in main.
 *
 * Command line, the same flags as upstream greatest, so either header runs
 * the same scripts:
 *   -h, --help  usage              -v  verbose: one line per test
 *   -l          list suites and tests, run nothing
 *   -f          stop after the first failure
 *   -a          abort() at the first failure (implies -f; for a debugger)
 *   -s SUITE    run only suites whose name contains SUITE
 *   -t TEST     run only tests whose name contains TEST
 *   -e          -s and -t match whole names exactly instead
 *   -x EXCLUDE  skip suites and tests whose name contains EXCLUDE
 * Arguments after "--" are ignored.  Unlike upstream, an unknown option or a
 * flag with letters after it ("-fv") is a usage error (exit status 1), so CI
 * never silently runs a different set of tests than it asked for.
 *
 * The last line of output is always "N passed, N failed" (plus
 * ", N skipped" if any test was skipped); CI parses that line.
 * Only libc is used; timings come from clock(), i.e. CPU time.
 */
#ifndef GREATEST_H
#define GREATEST_H

#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* Overridable, as upstream, for embedding the runner in another program. */
#ifndef GREATEST_STDOUT
#define GREATEST_STDOUT stdout
#endif

/* Wrap progress dots so a long suite does not become one huge log line. */
#define GREATEST_DOTS_PER_LINE 72u
#define GREATEST_SECS_(ticks) ((double)(ticks) / (double)CLOCKS_PER_SEC)

/* Same values as upstream, so code inspecting results keeps working. */
enum greatest_test_res {
    GREATEST_TEST_RES_PASS = 0,
    GREATEST_TEST_RES_FAIL = -1,
    GREATEST_TEST_RES_SKIP = 1
};

typedef void greatest_setup_cb(void *udata);
typedef void greatest_teardown_cb(void *udata);

/* All run state lives in one struct so GREATEST_MAIN_DEFS defines one thing. */
struct greatest_run_info {
    unsigned verbosity;                    /* command-line options */
    int list_only, first_fail, abort_on_fail, exact;
    const char *test_filter, *suite_filter, *exclude;
    const char *suite_name, *test_name;    /* where we are */
    int suite_header_pending; /* header printed lazily: silent empty suites */
    int aborted;              /* set after a failure when first_fail (-f) is on */
    unsigned col;             /* progress marks on the current line */
    const char *msg;          /* PASSm/SKIPm/FAILm message of current test */
    int fail_reported;        /* failure already printed with file:line */
    unsigned suite_passed, suite_failed, suite_skipped;
    unsigned passed, failed, skipped;
    clock_t suite_start, run_start;
    /* fixtures; cleared when the enclosing suite ends */
    greatest_setup_cb *setup;
    greatest_teardown_cb *teardown;
    void *setup_udata, *teardown_udata;
};

extern struct greatest_run_info greatest_info;

/* ---- Runner internals.  static inline, so any number of files can include
 * the header without link clashes or unused-function warnings; only the
 * state itself needs one definition (GREATEST_MAIN_DEFS). ---- */

/* A NULL or empty filter matches everything; otherwise a substring match,
 * or whole-name equality when exact is set (-e). */
static inline int greatest_name_matches_(const char *name, const char *filter,
                                         int exact) {
    if (filter == NULL || filter[0] == '\0') return 1;
    return exact ? strcmp(name, filter) == 0 : strstr(name, filter) != NULL;
}

/* -x: a name containing the exclusion (never exact) is skipped. */
static inline int greatest_name_excluded_(const char *name) {
    const char *x = greatest_info.exclude;
    return x != NULL && x[0] != '\0' && strstr(name, x) != NULL;
}

/* Finish a row of progress marks before printing anything line-oriented. */
static inline void greatest_end_line_(void) {
    if (greatest_info.col > 0) {
        fputc('\n', GREATEST_STDOUT);
        greatest_info.col = 0;
    }
}

static inline void greatest_mark_(char c) {
    fputc(c, GREATEST_STDOUT);
    if (++greatest_info.col >= GREATEST_DOTS_PER_LINE)
        greatest_end_line_();
}

static inline void greatest_usage_(FILE *out, const char *prog) {
    fprintf(out,
        "Usage: %s [-hlfave] [-s SUITE] [-t TEST] [-x EXCLUDE]\n"
        "  -h, --help  print this help\n"
        "  -l          list suites and tests, then exit (dry run)\n"
        "  -f          stop after the first failure\n"
        "  -a          abort on the first failure (implies -f)\n"
        "  -v          verbose: one line per test\n"
        "  -s SUITE    only run suites whose name contains SUITE\n"
        "  -t TEST     only run tests whose name contains TEST\n"
        "  -e          -s and -t match the whole name exactly\n"
        "  -x EXCLUDE  skip suites and tests whose name contains EXCLUDE\n",
        prog);
}

/* Bad usage exits non-zero so CI never silently runs a subset of tests. */
static inline void greatest_bad_usage_(const char *prog, const char *why,
                                       const char *arg) {
    fprintf(stderr, "%s: %s '%s'\n", prog, why, arg);
    greatest_usage_(stderr, prog);
    exit(EXIT_FAILURE);
}

static inline void greatest_init_(int argc, char **argv) {
    static struct greatest_run_info blank; /* zeroed, incl. null pointers */
    const char *prog = (argc > 0 && argv[0] != NULL) ? argv[0] : "test";
    int i;

    greatest_info = blank;
    for (i = 1; i < argc; i++) {
        const char *arg = argv[i];
        const char **slot = NULL;
        if (strcmp(arg, "--") == 0) break;   /* the rest is not ours */
        if (strcmp(arg, "--help") == 0) arg = "-h";
        if (arg[0] != '-' || arg[1] == '\0' || arg[2] != '\0')
            greatest_bad_usage_(prog, "unknown argument", arg);
        switch (arg[1]) {
        case 'h': greatest_usage_(GREATEST_STDOUT, prog); exit(EXIT_SUCCESS);
        case 'v': greatest_info.verbosity++; break;
        case 'l': greatest_info.list_only = 1; break;
        case 'f': greatest_info.first_fail = 1; break;
        case 'a': greatest_info.abort_on_fail = greatest_info.first_fail = 1; break;
        case 'e': greatest_info.exact = 1; break;
        case 't': slot = &greatest_info.test_filter; break;
        case 's': slot = &greatest_info.suite_filter; break;
        case 'x': slot = &greatest_info.exclude; break;
        default: greatest_bad_usage_(prog, "unknown option", arg);
        }
        if (slot != NULL) {
            if (i + 1 >= argc)
                greatest_bad_usage_(prog, "missing NAME after", arg);
            *slot = argv[++i];
        }
    }
    greatest_info.run_start = clock();
}

/* Decide whether a test runs (filters, -l, -f) and run its setup.
 * Returns 1 if the caller should execute the test body. */
static inline int greatest_test_pre_(const char *name) {
    struct greatest_run_info *g = &greatest_info;
    if (g->aborted || !greatest_name_matches_(name, g->test_filter, g->exact) ||
        greatest_name_excluded_(name))
        return 0;
    if (g->suite_header_pending) {
        greatest_end_line_();
        fprintf(GREATEST_STDOUT, "\n* Suite %s:\n", g->suite_name);
        g->suite_header_pending = 0;
    }
    if (g->list_only) {
        fprintf(GREATEST_STDOUT, "  %s\n", name);
        return 0;
    }
    g->test_name = name;
    g->msg = NULL;
    g->fail_reported = 0;
    if (g->setup != NULL)
        g->setup(g->setup_udata);
    return 1;
}

/* Record a failure where it happens, so file:line and any expected/got
 * detail printed right after it end up together in the CI log. */
static inline enum greatest_test_res greatest_fail_(const char *file, int line,
                                                    const char *msg) {
    struct greatest_run_info *g = &greatest_info;
    if (g->verbosity == 0 && !g->fail_reported)
        greatest_mark_('F');
    greatest_end_line_();
    fprintf(GREATEST_STDOUT, "FAIL %s: %s (%s:%d)\n",
            g->test_name != NULL ? g->test_name : "(no test)",
            msg != NULL ? msg : "FAIL()", file, line);
    g->fail_reported = 1;
    g->msg = msg;
    fflush(GREATEST_STDOUT);
    if (g->abort_on_fail) abort();   /* -a: stop here, under a debugger */
    return GREATEST_TEST_RES_FAIL;
}

/* Verbose result line: "PASS name" or "SKIP name: why". */
static inline void greatest_verbose_line_(const char *what) {
    greatest_end_line_();
    fprintf(GREATEST_STDOUT, "%s %s%s%s\n", what, greatest_info.test_name,
            greatest_info.msg != NULL ? ": " : "",
            greatest_info.msg != NULL ? greatest_info.msg : "");
}

/* Run teardown, count the result and show progress.  Anything that is
 * neither PASS nor SKIP counts as a failure, so garbage cannot pass. */
static inline void greatest_test_post_(enum greatest_test_res res) {
    struct greatest_run_info *g = &greatest_info;
    if (g->teardown != NULL)
        g->teardown(g->teardown_udata);
    if (res == GREATEST_TEST_RES_PASS || res == GREATEST_TEST_RES_SKIP) {
        int pass = res == GREATEST_TEST_RES_PASS;
        if (pass) g->suite_passed++, g->passed++;
        else g->suite_skipped++, g->skipped++;
        if (g->verbosity > 0) greatest_verbose_line_(pass ? "PASS" : "SKIP");
        else greatest_mark_(pass ? '.' : 's');
    } else {
        g->suite_failed++, g->failed++;
        if (!g->fail_reported) { /* enum returned directly, not via FAIL() */
            if (g->verbosity == 0) greatest_mark_('F');
            g->msg = "test returned failure";
            greatest_verbose_line_("FAIL");
            fflush(GREATEST_STDOUT);
            if (g->abort_on_fail) abort();
        }
        g->aborted = g->first_fail;
    }
    g->test_name = NULL;
    fflush(GREATEST_STDOUT); /* progress survives a crash in the next test */
}

static inline void greatest_run_suite_(void (*suite)(void), const char *name) {
    struct greatest_run_info *g = &greatest_info;
    if (g->aborted || !greatest_name_matches_(name, g->suite_filter, g->exact) ||
        greatest_name_excluded_(name))
        return;
    g->suite_name = name;
    g->suite_header_pending = 1;
    g->suite_passed = g->suite_failed = g->suite_skipped = 0;
    g->suite_start = clock();
    suite();
    if (!g->suite_header_pending && !g->list_only) {
        clock_t ticks = clock() - g->suite_start;
        unsigned n = g->suite_passed + g->suite_failed + g->suite_skipped;
        greatest_end_line_();
        fprintf(GREATEST_STDOUT,
                "%u test%s - %u passed, %u failed, %u skipped "
                "(%ld ticks, %.3f sec)\n",
                n, n == 1 ? "" : "s", g->suite_passed, g->suite_failed,
                g->suite_skipped, (long)ticks, GREATEST_SECS_(ticks));
    }
    g->suite_header_pending = 0;
    g->suite_name = NULL;
    g->setup = NULL, g->setup_udata = NULL;
    g->teardown = NULL, g->teardown_udata = NULL;
}

static inline void greatest_print_report_(void) {
    struct greatest_run_info *g = &greatest_info;
    unsigned total = g->passed + g->failed + g->skipped;
    greatest_end_line_();
    fprintf(GREATEST_STDOUT,
            "\nTotal: %u test%s in %.3f sec\nPass: %u, fail: %u, skip: %u.\n",
            total, total == 1 ? "" : "s",
            GREATEST_SECS_(clock() - g->run_start), g->passed, g->failed,
            g->skipped);
    /* Machine-readable summary, exactly "N passed, N failed": CI reads it
     * as the very last line. Skips are counted on the line above. */
    fprintf(GREATEST_STDOUT, "%u passed, %u failed\n", g->passed, g->failed);
    fflush(GREATEST_STDOUT);
}

static inline int greatest_main_end_(void) {
    if (greatest_info.list_only)
        return EXIT_SUCCESS;
    greatest_print_report_();
    return greatest_info.failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}

/* ---- Assertion helpers that print expected/got after the FAIL line ---- */

/* Quoted so leading/trailing blanks show; NULL is printed as (null). */
static inline void greatest_print_str_(const char *label, const char *s,
                                       int width) {
    const char *q = s != NULL ? "\"" : "";
    fprintf(GREATEST_STDOUT, "    %8s: %s%.*s%s\n", label, q, width,
            s != NULL ? s : "(null)", q);
}

/* Returns 1 (after reporting) if the strings differ.  NULL equals only
 * NULL, so a missing string is a failure rather than a crash. */
static inline int greatest_str_fail_(const char *file, int line,
                                     const char *msg, const char *exp,
                                     const char *got, size_t n, int bounded) {
    int width = (!bounded || n > (size_t)INT_MAX) ? INT_MAX : (int)n;
    if (exp == NULL || got == NULL ? exp == got
        : (bounded ? strncmp(exp, got, n) : strcmp(exp, got)) == 0)
        return 0;
    (void)greatest_fail_(file, line, msg);
    greatest_print_str_("Expected", exp, width);
    greatest_print_str_("Got", got, width);
    return 1;
}

/* Returns 1 (after reporting) if the buffers differ.  Dumps the 16-byte
 * aligned row holding the first difference, with ^^ under every differing
 * byte of that row: enough to diagnose from a CI log alone. */
static inline int greatest_mem_fail_(const char *file, int line,
                                     const char *msg, const void *exp,
                                     const void *got, size_t size) {
    const unsigned char *e = (const unsigned char *)exp;
    const unsigned char *g = (const unsigned char *)got;
    size_t first, start, end, last, i;
    int row;
    if (size == 0 || e == g ||
        (e != NULL && g != NULL && memcmp(e, g, size) == 0))
        return 0;
    (void)greatest_fail_(file, line, msg);
    if (e == NULL || g == NULL) {
        fprintf(GREATEST_STDOUT, "    %s buffer is NULL (size %lu)\n",
                e == NULL ? "expected" : "got", (unsigned long)size);
        return 1;
    }
    for (first = 0; e[first] == g[first]; first++) {}
    start = first - first % 16u;
    end = size - start > 16u ? start + 16u : size;
    fprintf(GREATEST_STDOUT,
            "    first difference at byte %lu of %lu, bytes %lu..%lu:\n",
            (unsigned long)first, (unsigned long)size, (unsigned long)start,
            (unsigned long)(end - 1u));
    for (row = 0; row < 2; row++) {
        fprintf(GREATEST_STDOUT, "    %8s:", row == 0 ? "Expected" : "Got");
        for (i = start; i < end; i++)
            fprintf(GREATEST_STDOUT, " %02x", (unsigned)(row == 0 ? e : g)[i]);
        fputc('\n', GREATEST_STDOUT);
    }
    for (last = end - 1u; e[last] == g[last]; last--) {}
    fputs("             ", GREATEST_STDOUT); /* width of "    Expected:" */
    for (i = start; i <= last; i++)
        fputs(e[i] != g[i] ? " ^^" : "   ", GREATEST_STDOUT);
    fputc('\n', GREATEST_STDOUT);
    return 1;
}

/* Returns 1 (after reporting) if |exp - got| > tol; NaN always fails. */
static inline int greatest_range_fail_(const char *file, int line,
                                       const char *msg, double exp,
                                       double got, double tol) {
    if ((exp > got ? exp - got : got - exp) <= tol)
        return 0;
    (void)greatest_fail_(file, line, msg);
    fprintf(GREATEST_STDOUT, "    Expected: %g +/- %g\n         Got: %g\n",
            exp, tol, got);
    return 1;
}

/* ---- Public API: same names and meaning as upstream greatest. ---- */

/* Defines the shared state; expand once, at file scope, per test binary. */
#define GREATEST_MAIN_DEFS() struct greatest_run_info greatest_info

#define GREATEST_INIT() greatest_init_(0, NULL)
#define GREATEST_MAIN_BEGIN() greatest_init_(argc, argv)
#define GREATEST_MAIN_END() return greatest_main_end_()
#define GREATEST_PRINT_REPORT() greatest_print_report_()
#define GREATEST_ALL_PASSED() (greatest_info.failed == 0)
#define GREATEST_IS_VERBOSE() (greatest_info.verbosity > 0)

/* Tests are file-local; suites get external linkage plus a prototype
 * (as upstream) so another file can run them via SUITE_EXTERN. */
#define TEST static enum greatest_test_res
#define SUITE(name) void name(void); void name(void)
#define SUITE_EXTERN(name) void name(void)

/* The name string drives filtering, listing and reporting. */
#define RUN_TEST(fn) RUN_TESTp(fn, )
#define RUN_TEST1(fn, arg) RUN_TESTp(fn, arg)
#define RUN_TESTp(fn, ...) do { \
        if (greatest_test_pre_(#fn)) greatest_test_post_(fn(__VA_ARGS__)); \
    } while (0)
#define RUN_SUITE(fn) greatest_run_suite_(fn, #fn)
/* Keeps a disabled test referenced, so it does not warn as unused. */
#define IGNORE_TEST(fn) do { if (0) { (void)(fn); } } while (0)

/* Fixtures apply to the tests of the current suite only. */
#define SET_SETUP(fn, udata) do { \
        greatest_info.setup = (fn); greatest_info.setup_udata = (udata); \
    } while (0)
#define SET_TEARDOWN(fn, udata) do { \
        greatest_info.teardown = (fn); greatest_info.teardown_udata = (udata); \
    } while (0)

/* Results; each returns from the enclosing TEST.  PASSm/SKIPm keep their
 * message for the verbose result line. */
#define PASS() return GREATEST_TEST_RES_PASS
#define PASSm(m) \
    do { greatest_info.msg = (m); return GREATEST_TEST_RES_PASS; } while (0)
#define SKIP() return GREATEST_TEST_RES_SKIP
#define SKIPm(m) \
    do { greatest_info.msg = (m); return GREATEST_TEST_RES_SKIP; } while (0)
#define FAIL() return greatest_fail_(__FILE__, __LINE__, NULL)
#define FAILm(msg) return greatest_fail_(__FILE__, __LINE__, (msg))

/* Propagate a non-PASS result from a helper returning greatest_test_res. */
#define CHECK_CALL(call) do { \
        enum greatest_test_res greatest_res_ = (call); \
        if (greatest_res_ != GREATEST_TEST_RES_PASS) return greatest_res_; \
    } while (0)

#define ASSERTm(msg, cond) do { if (!(cond)) FAILm(msg); } while (0)
#define ASSERT_FALSEm(msg, cond) do { if (cond) FAILm(msg); } while (0)
#define ASSERT(cond) ASSERTm("ASSERT(" #cond ")", cond)
#define ASSERT_FALSE(cond) ASSERT_FALSEm("ASSERT_FALSE(" #cond ")", cond)

/* Plain comparisons (a OP b must hold); the default message quotes the
 * source expressions, e.g. "ASSERT_GT(len, 0)". */
#define GREATEST_REL_(op, msg, a, b) \
    do { if (!((a)op(b))) FAILm(msg); } while (0)
#define ASSERT_EQm(msg, a, b) GREATEST_REL_(==, msg, a, b)
#define ASSERT_NEQm(msg, a, b) GREATEST_REL_(!=, msg, a, b)
#define ASSERT_GTm(msg, a, b) GREATEST_REL_(>, msg, a, b)
#define ASSERT_GTEm(msg, a, b) GREATEST_REL_(>=, msg, a, b)
#define ASSERT_LTm(msg, a, b) GREATEST_REL_(<, msg, a, b)
#define ASSERT_LTEm(msg, a, b) GREATEST_REL_(<=, msg, a, b)
#define ASSERT_EQ(a, b) ASSERT_EQm("ASSERT_EQ(" #a ", " #b ")", a, b)
#define ASSERT_NEQ(a, b) ASSERT_NEQm("ASSERT_NEQ(" #a ", " #b ")", a, b)
#define ASSERT_GT(a, b) ASSERT_GTm("ASSERT_GT(" #a ", " #b ")", a, b)
#define ASSERT_GTE(a, b) ASSERT_GTEm("ASSERT_GTE(" #a ", " #b ")", a, b)
#define ASSERT_LT(a, b) ASSERT_LTm("ASSERT_LT(" #a ", " #b ")", a, b)
#define ASSERT_LTE(a, b) ASSERT_LTEm("ASSERT_LTE(" #a ", " #b ")", a, b)

/* Like ASSERT_EQ but prints both values with a printf format.  As in
 * upstream, exp and got are evaluated again for printing on failure, and
 * fmt may be a variable (so the compiler cannot type-check it). */
#define ASSERT_EQ_FMTm(msg, exp, got, fmt) do { \
        const char *greatest_fmt_ = (fmt); \
        if ((exp) != (got)) { \
            (void)greatest_fail_(__FILE__, __LINE__, (msg)); \
            fputs("    Expected: ", GREATEST_STDOUT); \
            fprintf(GREATEST_STDOUT, greatest_fmt_, (exp)); \
            fputs("\n         Got: ", GREATEST_STDOUT); \
            fprintf(GREATEST_STDOUT, greatest_fmt_, (got)); \
            fputc('\n', GREATEST_STDOUT); \
            return GREATEST_TEST_RES_FAIL; \
        } \
    } while (0)
#define ASSERT_EQ_FMT(exp, got, fmt) \
    ASSERT_EQ_FMTm("ASSERT_EQ_FMT(" #exp ", " #got ")", exp, got, fmt)

/* Detail assertions: the helper prints the FAIL line plus expected/got and
 * returns 1 on mismatch.  Explicit casts to double / size_t keep callers'
 * -Wconversion quiet. */
#define GREATEST_CHECK_(failed) \
    do { if (failed) return GREATEST_TEST_RES_FAIL; } while (0)
#define GREATEST_AT_ __FILE__, __LINE__
#define ASSERT_IN_RANGEm(msg, exp, got, tol) GREATEST_CHECK_( \
        greatest_range_fail_(GREATEST_AT_, (msg), (double)(exp), \
                             (double)(got), (double)(tol)))
#define ASSERT_IN_RANGE(exp, got, tol) ASSERT_IN_RANGEm( \
        "ASSERT_IN_RANGE(" #exp ", " #got ", " #tol ")", exp, got, tol)
#define ASSERT_STR_EQm(msg, exp, got) GREATEST_CHECK_( \
        greatest_str_fail_(GREATEST_AT_, (msg), (exp), (got), 0u, 0))
#define ASSERT_STR_EQ(exp, got) \
    ASSERT_STR_EQm("ASSERT_STR_EQ(" #exp ", " #got ")", exp, got)
#define ASSERT_STRN_EQm(msg, exp, got, n) GREATEST_CHECK_( \
        greatest_str_fail_(GREATEST_AT_, (msg), (exp), (got), (size_t)(n), 1))
#define ASSERT_STRN_EQ(exp, got, n) ASSERT_STRN_EQm( \
        "ASSERT_STRN_EQ(" #exp ", " #got ", " #n ")", exp, got, n)
#define ASSERT_MEM_EQm(msg, exp, got, size) GREATEST_CHECK_( \
        greatest_mem_fail_(GREATEST_AT_, (msg), (exp), (got), (size_t)(size)))
#define ASSERT_MEM_EQ(exp, got, size) ASSERT_MEM_EQm( \
        "ASSERT_MEM_EQ(" #exp ", " #got ", " #size ")", exp, got, size)

#endif /* GREATEST_H */
