/* Scenario tests: real programs through the real `dt` binary on real event
 * files. Each tests/cli/<case>/ holds:
 *   args      the dt command line (paths relative to the case folder)
 *   expected  the exact standard output
 *   status    the expected exit status (optional, default 0)
 * DT_CLI names the binary (default build/dt). POSIX: popen, opendir. */
#define _POSIX_C_SOURCE 200809L
#include "greatest.h"
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#define CLI_MAX_OUTPUT (1 << 20)

static char *cli_read_file(const char *path, size_t *len) {
    FILE *f = fopen(path, "rb");
    char *buf;
    if (!f) return NULL;
    buf = (char *)malloc(CLI_MAX_OUTPUT + 1);
    *len = buf ? fread(buf, 1, CLI_MAX_OUTPUT, f) : 0;
    if (buf) buf[*len] = 0;
    fclose(f);
    return buf;
}

static void cli_trim(char *s) {
    size_t n = strlen(s);
    while (n && (s[n - 1] == '\n' || s[n - 1] == '\r' || s[n - 1] == ' ')) s[--n] = 0;
}

TEST cli_case(const char *dir) {
    char path[1024], cmd[4096], cwd[1024];
    char *args, *expected, *got;
    size_t alen, elen, glen = 0;
    const char *dt = getenv("DT_CLI") ? getenv("DT_CLI") : "build/dt";
    int status = 0, want = 0, rc;
    FILE *p;
    snprintf(path, sizeof path, "%s/args", dir);
    args = cli_read_file(path, &alen);
    ASSERTm("case has no args file", args != NULL);
    cli_trim(args);
    snprintf(path, sizeof path, "%s/expected", dir);
    expected = cli_read_file(path, &elen);
    ASSERTm("case has no expected file", expected != NULL);
    snprintf(path, sizeof path, "%s/status", dir);
    {
        size_t slen;
        char *s = cli_read_file(path, &slen);
        if (s) { want = atoi(s); free(s); }
    }
    if (!getcwd(cwd, sizeof cwd)) FAILm("getcwd failed");
    snprintf(cmd, sizeof cmd, "cd '%s' && %s%s%s %s 2>/dev/null", dir, dt[0] == '/' ? "" : cwd, dt[0] == '/' ? "" : "/", dt, args);
    p = popen(cmd, "r");
    ASSERTm("popen failed", p != NULL);
    got = (char *)malloc(CLI_MAX_OUTPUT + 1);
    glen = fread(got, 1, CLI_MAX_OUTPUT, p);
    got[glen] = 0;
    rc = pclose(p);
    if (WIFEXITED(rc)) status = WEXITSTATUS(rc);
    if (glen != elen || memcmp(got, expected, elen) != 0) {
        fprintf(stderr, "\n--- %s: expected\n%s--- got\n%s---\n", dir, expected, got);
        free(args); free(expected); free(got);
        FAILm("dt output differs from the case's expected file");
    }
    free(args); free(expected); free(got);
    ASSERT_EQm("exit status", want, status);
    PASS();
}

static int cli_name_cmp(const void *a, const void *b) { return strcmp(*(char *const *)a, *(char *const *)b); }

SUITE(cli) {
    static char names[256][256];
    char *order[256];
    char dir[600];
    size_t n = 0, i;
    DIR *d = opendir("tests/cli");
    struct dirent *ent;
    if (!d) return;
    while ((ent = readdir(d)) != NULL && n < 256) {
        if (ent->d_name[0] == '.') continue;
        snprintf(names[n], sizeof names[n], "%s", ent->d_name);
        order[n] = names[n];
        n++;
    }
    closedir(d);
    qsort(order, n, sizeof order[0], cli_name_cmp);
    for (i = 0; i < n; i++) {
        snprintf(dir, sizeof dir, "tests/cli/%s", order[i]);
        if (GREATEST_IS_VERBOSE()) printf("  case %s\n", order[i]);
        RUN_TEST1(cli_case, dir);
    }
}
