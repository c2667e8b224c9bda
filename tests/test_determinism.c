/* Determinism (DESIGN.md "Time"): replaying the same input with the same
 * program gives byte-identical output, every time. Each scenario case of
 * tests/cli and the demo is run through the real `dt` binary twice, with
 * and without --self (self-telemetry counters), standard output and
 * standard error together, and the runs must not differ in one byte.
 * DT_CLI names the binary (default build/dt). POSIX: popen. */
#define _POSIX_C_SOURCE 200809L
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "greatest.h"
#include "reliability.h"

#define DET_MAX_OUTPUT (4u << 20)

/* Runs `dt ARGS` in dir; the output (stdout and stderr) in a malloc'd
 * buffer, its length in *len, the exit status in *status. */
static char *det_run(const char *dir, const char *args, size_t *len, int *status) {
    const char *dt = getenv("DT_CLI") ? getenv("DT_CLI") : "build/dt";
    char cmd[4096], cwd[1024];
    char *out = (char *)malloc(DET_MAX_OUTPUT + 1);
    FILE *p;
    if (!out || !getcwd(cwd, sizeof cwd)) { free(out); return NULL; }
    snprintf(cmd, sizeof cmd, "cd '%s' && %s%s%s %s 2>&1", dir, dt[0] == '/' ? "" : cwd, dt[0] == '/' ? "" : "/", dt,
             args);
    if (!(p = popen(cmd, "r"))) { free(out); return NULL; }
    *len = fread(out, 1, DET_MAX_OUTPUT, p);
    out[*len] = 0;
    *status = pclose(p);
    return out;
}

static enum greatest_test_res det_twice(const char *dir, const char *args) {
    size_t la, lb;
    int sa, sb;
    char *a = det_run(dir, args, &la, &sa), *b = det_run(dir, args, &lb, &sb);
    char what[600];
    snprintf(what, sizeof what, "%s: dt %s", dir, args);
    ASSERTm(what, a && b);
    ASSERTm(what, la > 0);                       /* a run that prints nothing proves nothing */
    ASSERT_EQm(what, sa, sb);
    if (la != lb || memcmp(a, b, la) != 0) {
        fprintf(stderr, "\n--- %s: first run\n%s--- second run\n%s---\n", what, a, b);
        free(a); free(b);
        FAILm("two replays of the same input differ");
    }
    free(a);
    free(b);
    PASS();
}

/* The args file of a case, trimmed; empty if none. */
static void det_case_args(const char *dir, char *out, size_t size) {
    char path[512];
    size_t len, n;
    char *text;
    snprintf(path, sizeof path, "%s/args", dir);
    text = rel_read_file(path, &len);
    out[0] = 0;
    if (!text) return;
    n = strcspn(text, "\r\n");
    snprintf(out, size, "%.*s", (int)n, text);
    free(text);
}

static int det_has_events(const char *dir) {
    char path[512];
    FILE *f;
    snprintf(path, sizeof path, "%s/events.jsonl", dir);
    if (!(f = fopen(path, "rb"))) return 0;
    fclose(f);
    return 1;
}

TEST every_scenario_replays_byte_identically(void) {
    rel_programs ps;
    unsigned i, runs = 0;
    rel_bundled_programs(&ps);
    for (i = 0; i < ps.n; i++) {
        char dir[256], args[1024], with_self[1100];
        const char *slash = strrchr(ps.sorted[i], '/');
        snprintf(dir, sizeof dir, "%.*s", (int)(slash - ps.sorted[i]), ps.sorted[i]);
        if (strncmp(dir, "tests/cli/", 10) == 0) det_case_args(dir, args, sizeof args);
        else if (det_has_events(dir)) snprintf(args, sizeof args, "replay %s events.jsonl", slash + 1);
        else args[0] = 0;                        /* an example program without recorded events */
        if (!args[0]) continue;
        CHECK_CALL(det_twice(dir, args));
        runs++;
        if (strncmp(args, "replay ", 7) == 0) {
            snprintf(with_self, sizeof with_self, "%s --self", args);
            CHECK_CALL(det_twice(dir, with_self));
            runs++;
        }
    }
    ASSERTm("the demo and the scenario cases were found", runs >= 8);
    PASS();
}

SUITE(determinism) {
    RUN_TEST(every_scenario_replays_byte_identically);
}
