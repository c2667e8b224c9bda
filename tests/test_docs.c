/* The scenario book can never drift: every docs/scenarios/NN-*.md page is
 * read, its marked fenced blocks are written to a temporary folder, and the
 * commands it shows are run through the real `dt` binary (DT_CLI, default
 * build/dt) and compared byte for byte. The fence convention is documented
 * at the top of docs/scenarios/README.md:
 *
 *   ```LANG file=NAME        the block is written to NAME (program, input, catalog)
 *   ```LANG file=NAME from=PATH   NAME is a copy of the repository file PATH,
 *                            which the block shows abridged
 *   ```output [exit=N]       first line "$ dt ARGS"; the rest is dt's exact
 *                            standard output; N the exit status (default 0)
 *   ```c snippet=NAME        C code that must appear verbatim in this file
 *   ```output snippet=NAME   the exact output of that code, run here
 *
 * A line starting with "..." or "(..." abridges a block: it stands for any
 * number of lines (of the output, or of the from= file).
 *
 * Blocks run in page order, so a page can show a program, its output, a
 * changed program and the new output. Other fences are prose. Every page
 * must check at least one output, and pages 01..21 (one per item of
 * SCENARIOS.md) must all exist. docs/guide.md follows the same convention
 * (its quick start and troubleshooting outputs). POSIX: popen, mkdtemp, opendir. */
#define _POSIX_C_SOURCE 200809L
#include "greatest.h"
#include "dt.h"
#include "trims.h"
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#define DOCS_DIR "docs/scenarios"
#define DOCS_SCENARIOS 21
#define DOCS_MAX_TEXT (1 << 20)
#define DOCS_MAX_PAGES 64

/* ---- the snippets pages show (page 20) ------------------------------------
 * Each snippet is shown verbatim by a ```c snippet=NAME block and run by
 * docs_run_snippet; keep the marked text self-contained. */

/* >>snippet ripcord */
static void print_event(const dt_event *ev, void *out) {
    fprintf((FILE *)out, "  exported %.*s\n", (int)ev->name.len, ev->name.ptr);
}

static void emit_three(dt_engine *e, const char *step, FILE *out) {
    const char *names[3] = {"LogWelcomeBanner", "HealthCheckPing", "LogLaunch"};
    int i;
    fprintf(out, "-- %s\n", step);
    for (i = 0; i < 3; i++) {
        dt_event ev;
        memset(&ev, 0, sizeof ev);
        ev.name = dt_cstr(names[i]);
        ev.level = DT_INFO;
        dt_emit(e, &ev);
    }
}

static void show_running(dt_engine *e, FILE *out) {
    dt_program_info info;
    if (dt_program(e, &info) == DT_OK)
        fprintf(out, "running version %llu, hash %016llx\n", (unsigned long long)info.version,
                (unsigned long long)info.hash);
}

static void deploy(dt_engine *e, const char *text, FILE *out) {
    dt_error err;
    if (dt_deploy(e, text, strlen(text), &err) != DT_OK) {
        char why[600];
        dt_error_format(&err, why, sizeof why);
        fprintf(out, "refused: %s\n", why);
    }
    show_running(e, out);
}

static void ripcord_and_rollback(FILE *out) {
    dt_desc desc;
    dt_engine *e;
    memset(&desc, 0, sizeof desc);
    desc.sinks.event = print_event;
    desc.sinks.user_data = out;
    e = dt_create(&desc);

    deploy(e, "level LogWelcomeBanner = off\n", out);
    emit_three(e, "version 1: the banner is dropped", out);
    deploy(e, "level LogWelcomeBanner = off\nlevel HealthCheckPing = off\n", out);
    emit_three(e, "version 2: pings dropped too", out);

    dt_ripcord(e, 1);            /* one atomic store: every rule off */
    emit_three(e, "rip cord pulled: events flow as without a program", out);
    dt_ripcord(e, 0);
    emit_three(e, "rip cord released: version 2 again", out);

    deploy(e, "level HealthCheckPing = of\n", out);
    emit_three(e, "a refused deploy leaves version 2 running", out);

    if (dt_rollback(e) != DT_OK) fprintf(out, "nothing to roll back to\n");
    show_running(e, out);
    emit_three(e, "rolled back: version 1 again", out);
    dt_destroy(e);
}
/* <<snippet */

typedef struct docs_snippet {
    const char *name;
    void (*run)(FILE *out);
} docs_snippet;

static const docs_snippet docs_snippets[] = {
    {"ripcord", ripcord_and_rollback},
};

/* ---- reading pages -------------------------------------------------------- */

static char *docs_read(const char *path, size_t *len) {
    FILE *f = fopen(path, "rb");
    char *buf;
    *len = 0;
    if (!f) return NULL;
    buf = (char *)malloc(DOCS_MAX_TEXT + 1);
    if (buf) *len = fread(buf, 1, DOCS_MAX_TEXT, f);
    if (buf) buf[*len] = 0;
    fclose(f);
    return buf;
}

/* Copies the value of key=VALUE from a fence's info string; 0 if absent. */
static int docs_info_value(const char *info, const char *key, char *out, size_t size) {
    size_t klen = strlen(key), n = 0;
    const char *p = info;
    while ((p = strstr(p, key)) != NULL) {
        if ((p == info || p[-1] == ' ') && p[klen] == '=') {
            p += klen + 1;
            while (p[n] && p[n] != ' ' && p[n] != '\n' && n + 1 < size) n++;
            memcpy(out, p, n);
            out[n] = 0;
            return n > 0;
        }
        p += klen;
    }
    return 0;
}

/* A file name a page may write: no paths, nothing a shell would read. */
static int docs_safe_name(const char *s) {
    if (!*s || s[0] == '.') return 0;
    for (; *s; s++)
        if (!((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') || (*s >= '0' && *s <= '9') ||
              *s == '_' || *s == '.' || *s == '-'))
            return 0;
    return 1;
}

/* ---- abridged blocks ------------------------------------------------------- */

static int docs_is_elision(const char *line) {
    return strncmp(line, "...", 3) == 0 || strncmp(line, "(...", 4) == 0;
}

static size_t docs_line_len(const char *s) {
    const char *nl = strchr(s, '\n');
    return nl ? (size_t)(nl - s) + 1 : strlen(s);
}

/* Does text match want, where an elision line of want stands for any number
 * of lines of text? Both are whole lines. Backtracks only at elisions; the
 * depth is bounded by the number of elisions in want. */
static int docs_match(const char *want, const char *text) {
    while (*want) {
        size_t wl = docs_line_len(want), tl;
        if (docs_is_elision(want)) {
            for (;;) {
                if (docs_match(want + wl, text)) return 1;
                if (!*text) return 0;
                text += docs_line_len(text);
            }
        }
        tl = docs_line_len(text);
        if (!*text || wl != tl || memcmp(want, text, wl) != 0) return 0;
        want += wl;
        text += tl;
    }
    return *text == 0;
}

/* ---- checking one block ---------------------------------------------------- */

typedef struct docs_page {
    const char *path;
    char dir[64];              /* the page's temporary folder */
    int outputs;               /* output blocks checked */
    const char *self;          /* this file's text, for snippet blocks */
} docs_page;

static int docs_report(const docs_page *pg, int line, const char *what, const char *want, const char *got) {
    fprintf(stderr, "\n%s:%d: %s\n", pg->path, line, what);
    if (want) fprintf(stderr, "--- page says\n%s--- got\n%s---\n", want, got ? got : "");
    return 0;
}

static int docs_write_file(docs_page *pg, int line, const char *name, const char *body, size_t len);

/* from=PATH: the page shows PATH abridged; the whole of it is written. */
static int docs_write_copy(docs_page *pg, int line, const char *name, const char *from, const char *body) {
    size_t len;
    char *text;
    int ok;
    if (strstr(from, "..") || from[0] == '/') return docs_report(pg, line, "from= must stay in the repository", NULL, NULL);
    text = docs_read(from, &len);
    if (!text) return docs_report(pg, line, "cannot read the from= file", NULL, NULL);
    ok = docs_match(body, text);
    if (!ok) docs_report(pg, line, "the block does not abridge its from= file", body, text);
    else ok = docs_write_file(pg, line, name, text, len);
    free(text);
    return ok;
}

static int docs_write_file(docs_page *pg, int line, const char *name, const char *body, size_t len) {
    char path[600];
    FILE *f;
    if (!docs_safe_name(name)) return docs_report(pg, line, "file= must be a plain file name", NULL, NULL);
    snprintf(path, sizeof path, "%s/%s", pg->dir, name);
    f = fopen(path, "wb");
    if (!f) return docs_report(pg, line, "cannot write the block's file", NULL, NULL);
    fwrite(body, 1, len, f);
    fclose(f);
    return 1;
}

/* Reads everything from f (at most DOCS_MAX_TEXT bytes). */
static char *docs_slurp(FILE *f) {
    char *got = (char *)malloc(DOCS_MAX_TEXT + 1);
    size_t n = got ? fread(got, 1, DOCS_MAX_TEXT, f) : 0;
    if (got) got[n] = 0;
    return got;
}

static int docs_run_command(docs_page *pg, int line, const char *info, const char *body) {
    char cmd[4096], cwd[1024], want_exit[16];
    const char *dt = getenv("DT_CLI") ? getenv("DT_CLI") : "build/dt";
    const char *nl = strchr(body, '\n');
    char *got;
    FILE *p;
    int rc, status = -1, want = 0, ok;
    if (strncmp(body, "$ dt ", 5) != 0 || !nl)
        return docs_report(pg, line, "an output block starts with a \"$ dt ARGS\" line", NULL, NULL);
    if (docs_info_value(info, "exit", want_exit, sizeof want_exit)) want = atoi(want_exit);
    if (!getcwd(cwd, sizeof cwd)) return docs_report(pg, line, "getcwd failed", NULL, NULL);
    snprintf(cmd, sizeof cmd, "cd '%s' && '%s%s%s' %.*s 2>/dev/null", pg->dir, dt[0] == '/' ? "" : cwd,
             dt[0] == '/' ? "" : "/", dt, (int)(nl - body - 5), body + 5);
    p = popen(cmd, "r");
    if (!p) return docs_report(pg, line, "popen failed", NULL, NULL);
    got = docs_slurp(p);
    rc = pclose(p);
    if (WIFEXITED(rc)) status = WEXITSTATUS(rc);
    ok = got && docs_match(nl + 1, got);
    if (!ok) docs_report(pg, line, "dt output differs from the page", nl + 1, got);
    else if (status != want) {
        fprintf(stderr, "\n%s:%d: exit status %d, page says %d\n", pg->path, line, status, want);
        ok = 0;
    }
    free(got);
    return ok;
}

static const docs_snippet *docs_find_snippet(const char *name) {
    size_t i;
    for (i = 0; i < sizeof docs_snippets / sizeof docs_snippets[0]; i++)
        if (strcmp(docs_snippets[i].name, name) == 0) return &docs_snippets[i];
    return NULL;
}

static int docs_run_snippet(docs_page *pg, int line, const char *name, const char *body) {
    const docs_snippet *s = docs_find_snippet(name);
    FILE *f;
    char *got;
    int ok;
    if (!s) return docs_report(pg, line, "no such snippet in tests/test_docs.c", NULL, NULL);
    f = tmpfile();
    if (!f) return docs_report(pg, line, "tmpfile failed", NULL, NULL);
    s->run(f);
    rewind(f);
    got = docs_slurp(f);
    fclose(f);
    ok = got && docs_match(body, got);
    if (!ok) docs_report(pg, line, "snippet output differs from the page", body, got);
    free(got);
    return ok;
}

/* One fenced block: info is the text after ```, body its lines. */
static int docs_block(docs_page *pg, int line, const char *info, const char *body, size_t len) {
    char name[128], from[256];
    int is_output = strncmp(info, "output", 6) == 0 && (info[6] == ' ' || info[6] == 0);
    if (docs_info_value(info, "file", name, sizeof name)) {
        if (docs_info_value(info, "from", from, sizeof from)) return docs_write_copy(pg, line, name, from, body);
        return docs_write_file(pg, line, name, body, len);
    }
    if (is_output) pg->outputs++;
    if (is_output && docs_info_value(info, "snippet", name, sizeof name))
        return docs_run_snippet(pg, line, name, body);
    if (is_output) return docs_run_command(pg, line, info, body);
    if (docs_info_value(info, "snippet", name, sizeof name)) {
        if (!pg->self || !strstr(pg->self, body))
            return docs_report(pg, line, "c snippet is not verbatim in tests/test_docs.c", NULL, NULL);
    }
    return 1;
}

/* Walks the page's lines; returns the number of failed blocks. */
static int docs_walk(docs_page *pg, char *text) {
    char *p = text, *info = NULL, *body = NULL;
    int line = 0, fence_line = 0, failed = 0;
    while (*p) {
        char *eol = strchr(p, '\n');
        char *next = eol ? eol + 1 : p + strlen(p);
        line++;
        if (strncmp(p, "```", 3) == 0) {
            if (!info) {
                if (eol) *eol = 0;
                info = p + 3;
                body = next;
                fence_line = line;
            } else {
                char saved = *p;
                *p = 0;      /* body ends before the closing fence */
                if (!docs_block(pg, fence_line, info, body, (size_t)(p - body))) failed++;
                *p = saved;
                info = NULL;
            }
        }
        p = next;
    }
    if (info) { docs_report(pg, fence_line, "fence never closed", NULL, NULL); failed++; }
    return failed;
}

TEST docs_page_check(const char *path) {
    docs_page pg;
    size_t len, slen;
    char *text = docs_read(path, &len), *self = docs_read("tests/test_docs.c", &slen);
    char rm[128];
    int failed;
    memset(&pg, 0, sizeof pg);
    pg.path = path;
    pg.self = self;
    ASSERTm("cannot read the page", text != NULL);
    snprintf(pg.dir, sizeof pg.dir, "/tmp/dt_docs_XXXXXX");
    ASSERTm("mkdtemp failed", mkdtemp(pg.dir) != NULL);
    failed = docs_walk(&pg, text);
    snprintf(rm, sizeof rm, "rm -rf '%s'", pg.dir);
    if (system(rm) != 0) fprintf(stderr, "could not remove %s\n", pg.dir);
    free(text);
    free(self);
    ASSERT_EQm("blocks that differ from the page (see above)", 0, failed);
    ASSERTm("page checks no output block (```output)", pg.outputs > 0);
    PASS();
}

TEST docs_match_abridges(void) {
    ASSERT(docs_match("a\nb\n", "a\nb\n"));
    ASSERT_FALSE(docs_match("a\nb\n", "a\nc\n"));
    ASSERT_FALSE(docs_match("a\n", "a\nb\n"));        /* extra output fails */
    ASSERT_FALSE(docs_match("a\nb\n", "a\n"));        /* missing output fails */
    ASSERT_FALSE(docs_match("a\nb", "a\nb\n"));       /* so does a missing newline */
    ASSERT(docs_match("a\n...\nd\n", "a\nb\nc\nd\n"));
    ASSERT(docs_match("a\n(... none ...)\nd\n", "a\nd\n"));
    ASSERT_FALSE(docs_match("a\n...\nd\n", "a\nb\nc\n"));
    ASSERT(docs_match("...\nc\n...\n", "a\nb\nc\nd\n"));
    PASS();
}

/* ---- the book -------------------------------------------------------------- */

static int docs_name_cmp(const void *a, const void *b) { return strcmp(*(char *const *)a, *(char *const *)b); }

/* Collects the NN-*.md pages, sorted; returns how many. */
static size_t docs_pages(char names[][256], char **order) {
    size_t n = 0;
    struct dirent *ent;
    DIR *d = opendir(DOCS_DIR);
    if (!d) return 0;
    while ((ent = readdir(d)) != NULL && n < DOCS_MAX_PAGES) {
        const char *s = ent->d_name;
        size_t l = strlen(s);
        if (!(s[0] >= '0' && s[0] <= '9' && s[1] >= '0' && s[1] <= '9' && s[2] == '-')) continue;
        if (l < 4 || strcmp(s + l - 3, ".md") != 0) continue;
        snprintf(names[n], 256, "%s", s);
        order[n] = names[n];
        n++;
    }
    closedir(d);
    qsort(order, n, sizeof order[0], docs_name_cmp);
    return n;
}

TEST docs_every_scenario_has_a_page(char **order, size_t n) {
    int want;
    for (want = 1; want <= DOCS_SCENARIOS; want++) {
        size_t i;
        int found = 0;
        for (i = 0; i < n; i++) found |= atoi(order[i]) == want;
        if (!found) {
            fprintf(stderr, "\nno page %02d-*.md in %s for SCENARIOS.md item %d\n", want, DOCS_DIR, want);
            FAILm("a scenario has no page");
        }
    }
    PASS();
}

SUITE(docs) {
    static char names[DOCS_MAX_PAGES][256];
    char *order[DOCS_MAX_PAGES];
    char path[600];
    size_t n = docs_pages(names, order), i;
    RUN_TEST(docs_match_abridges);
    RUN_TEST1(docs_page_check, "docs/guide.md");   /* quick start and troubleshooting */
    RUN_TESTp(docs_every_scenario_has_a_page, order, n);
    for (i = 0; i < n; i++) {
        snprintf(path, sizeof path, "%s/%s", DOCS_DIR, order[i]);
        if (GREATEST_IS_VERBOSE()) printf("  page %s\n", order[i]);
        RUN_TEST1(docs_page_check, path);
    }
}
