/* Helpers shared by the reliability tests (test_alloc.c, test_hostile.c,
 * test_determinism.c, test_concurrency_stress.c, test_coverage_*.c) and the
 * soak program: the processor kinds this build has, the bundled programs,
 * whole files, and a counting allocator that can fail on purpose.
 *
 * Processors: dt.h knows none by name; dt_query.h and dt_stateful.h are
 * plugged in when they sit beside dt.h (as the dt CLI does), so every
 * reliability test covers them as soon as they land. Their code must then
 * be compiled into the test binary (tests/impl.c).
 *
 * Only static functions: each file that includes this gets its own copy. */
#ifndef DT_TESTS_RELIABILITY_H
#define DT_TESTS_RELIABILITY_H

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dt.h"

#if defined(__has_include)
#if __has_include("dt_query.h")
#include "dt_query.h"
#define REL_HAVE_QUERY 1
#endif
#if __has_include("dt_stateful.h")
#include "dt_stateful.h"
#define REL_HAVE_STATEFUL 1
#endif
#endif
#ifndef REL_HAVE_QUERY
#define REL_HAVE_QUERY 0
#endif
#ifndef REL_HAVE_STATEFUL
#define REL_HAVE_STATEFUL 0
#endif

#if defined(__GNUC__)
#define REL_UNUSED __attribute__((unused))
#else
#define REL_UNUSED
#endif

/* ---- processors ---------------------------------------------------------- */

/* The processor kinds of this build, for dt_desc.processors. */
REL_UNUSED static const dt_processor *const *rel_processors(uint32_t *n) {
    static const dt_processor *list[2];
    uint32_t k = 0;
#if REL_HAVE_QUERY
    list[k++] = dt_query_processor();
#endif
#if REL_HAVE_STATEFUL
    list[k++] = dt_stateful_processor();
#endif
    *n = k;
    return list;
}

/* ---- files --------------------------------------------------------------- */

/* The whole file, NUL-terminated, malloc'd; NULL if it cannot be read. */
REL_UNUSED static char *rel_read_file(const char *path, size_t *len) {
    FILE *f = fopen(path, "rb");
    char *buf = NULL;
    size_t cap = 0, n = 0;
    if (!f) return NULL;
    for (;;) {
        if (n + 4096 + 1 > cap) {
            char *grown = (char *)realloc(buf, cap = cap * 2 + 8192);
            if (!grown) { free(buf); fclose(f); return NULL; }
            buf = grown;
        }
        {
            size_t got = fread(buf + n, 1, 4096, f);
            n += got;
            if (got < 4096) break;
        }
    }
    fclose(f);
    buf[n] = 0;
    if (len) *len = n;
    return buf;
}

/* The bundled programs: examples/<dir>/<name>.dt and
 * tests/cli/<case>/program.dt, sorted by path. Paths are relative to the
 * repository root, where the test runner runs. */
#define REL_MAX_PROGRAMS 256
typedef struct rel_programs {
    char path[REL_MAX_PROGRAMS][256];
    const char *sorted[REL_MAX_PROGRAMS];
    unsigned n;
} rel_programs;

static int rel_path_cmp(const void *a, const void *b) { return strcmp(*(char *const *)a, *(char *const *)b); }

static int rel_ends_with(const char *s, const char *tail) {
    size_t n = strlen(s), t = strlen(tail);
    return n >= t && strcmp(s + n - t, tail) == 0;
}

/* Adds dir/<entry>[/file] for each entry of dir (file NULL: entries ending
 * in ".dt"), skipping files that do not exist. */
static void rel_scan(rel_programs *ps, const char *dir, const char *file) {
    DIR *d = opendir(dir);
    struct dirent *ent;
    if (!d) return;
    while ((ent = readdir(d)) != NULL && ps->n < REL_MAX_PROGRAMS) {
        char *p = ps->path[ps->n];
        FILE *f;
        if (ent->d_name[0] == '.') continue;
        if (file) snprintf(p, sizeof ps->path[0], "%s/%s/%s", dir, ent->d_name, file);
        else if (rel_ends_with(ent->d_name, ".dt")) snprintf(p, sizeof ps->path[0], "%s/%s", dir, ent->d_name);
        else continue;
        if (!(f = fopen(p, "rb"))) continue;
        fclose(f);
        ps->sorted[ps->n] = p;
        ps->n++;
    }
    closedir(d);
}

REL_UNUSED static void rel_bundled_programs(rel_programs *ps) {
    DIR *d = opendir("examples");
    struct dirent *ent;
    char sub[300];
    ps->n = 0;
    while (d && (ent = readdir(d)) != NULL) {
        if (ent->d_name[0] == '.') continue;
        snprintf(sub, sizeof sub, "examples/%s", ent->d_name);
        rel_scan(ps, sub, NULL);
    }
    if (d) closedir(d);
    rel_scan(ps, "tests/cli", "program.dt");
    qsort(ps->sorted, ps->n, sizeof ps->sorted[0], rel_path_cmp);
}

/* ---- a counting allocator that fails on purpose --------------------------- */

/* Counts every allocation; fails call number fail_at (1-based; 0 never),
 * and every later one too when sticky. live counts blocks not yet freed,
 * so a test sees a leak without a sanitizer (and ASan/LSan see it too). */
typedef struct rel_alloc {
    long calls, fail_at, failures, live, peak;
    int sticky;
} rel_alloc;

static void *rel_alloc_fn(size_t size, void *ud) {
    rel_alloc *a = (rel_alloc *)ud;
    void *p;
    a->calls++;
    if (a->fail_at && (a->calls == a->fail_at || (a->sticky && a->calls > a->fail_at))) {
        a->failures++;
        return NULL;
    }
    p = malloc(size ? size : 1);
    if (p && ++a->live > a->peak) a->peak = a->live;
    return p;
}

static void rel_free_fn(void *p, void *ud) {
    if (!p) return;
    ((rel_alloc *)ud)->live--;
    free(p);
}

/* Arms a: counting from zero, failing at fail_at. */
REL_UNUSED static dt_allocator rel_allocator(rel_alloc *a, long fail_at, int sticky) {
    dt_allocator al;
    memset(a, 0, sizeof *a);
    a->fail_at = fail_at;
    a->sticky = sticky;
    al.alloc = rel_alloc_fn;
    al.free = rel_free_fn;
    al.user_data = a;
    return al;
}

#endif
