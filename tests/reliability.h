/* Helpers shared by the reliability tests (test_alloc.c, test_hostile.c,
 * test_determinism.c, test_concurrency_stress.c, test_coverage_*.c) and the
 * soak program: the processor kinds this build has, the bundled programs,
 * whole files, and a counting allocator that can fail on purpose.
 *
 * Processors: dt.h knows none by name; rel_processors() plugs in those of
 * dt_query.h and dt_stateful.h whose code is linked in, so every
 * reliability test covers them as soon as they land in the test binary.
 *
 * Only static functions: each file that includes this gets its own copy. */
#ifndef DT_TESTS_RELIABILITY_H
#define DT_TESTS_RELIABILITY_H

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dt.h"

#if defined(__GNUC__)
#define REL_UNUSED __attribute__((unused))
#else
#define REL_UNUSED
#endif

/* ---- processors ---------------------------------------------------------- */

/* The processor kinds linked into this binary. Their declarations are
 * weak, so this file builds and links whether or not dt_query.h and
 * dt_stateful.h exist yet or their code is in the test binary: a kind
 * whose code is absent is simply not plugged in (its programs are then
 * refused with "unknown statement", as in a build without it). A file
 * that includes the processor headers itself defines
 * REL_PROCESSORS_LINKED and lists them on its own. */
#if !defined(REL_PROCESSORS_LINKED) && (defined(__GNUC__) || defined(__clang__)) && defined(__ELF__)
#define REL_WEAK_PROCESSORS 1
DT_API const dt_processor *dt_query_processor(void) __attribute__((weak));
DT_API const dt_processor *dt_stateful_processor(void) __attribute__((weak));
DT_API const dt_processor *dt_stateful_trigger_processor(void) __attribute__((weak));
#else
#define REL_WEAK_PROCESSORS 0
#endif

#ifndef REL_PROCESSORS_LINKED
REL_UNUSED static const dt_processor *const *rel_processors(uint32_t *n) {
    static const dt_processor *list[3];
    uint32_t k = 0;
#if REL_WEAK_PROCESSORS
    if (dt_query_processor) list[k++] = dt_query_processor();
    if (dt_stateful_processor) list[k++] = dt_stateful_processor();
    if (dt_stateful_trigger_processor) list[k++] = dt_stateful_trigger_processor();
#endif
    *n = k;
    return list;
}

/* 1 when a processor with this keyword is linked in. */
REL_UNUSED static int rel_has_processor(const char *keyword) {
    uint32_t n, i;
    const dt_processor *const *p = rel_processors(&n);
    for (i = 0; i < n; i++)
        if (strcmp(p[i]->keyword, keyword) == 0) return 1;
    return 0;
}
#endif

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
 * and every later one too when sticky. live counts blocks not yet freed
 * and live_bytes their bytes, so a test sees a leak or growth without a
 * sanitizer (ASan/LSan see leaks too). */
typedef struct rel_alloc {
    long calls, fail_at, failures, live, peak;
    size_t live_bytes;
    int sticky;
} rel_alloc;

/* Each block starts with its size, in a header that keeps malloc's
 * alignment. */
typedef union rel_header {
    size_t size;
    long double ld;              /* max_align_t is C11 */
    long long ll;
    void *ptr;
} rel_header;

static void *rel_alloc_fn(size_t size, void *ud) {
    rel_alloc *a = (rel_alloc *)ud;
    rel_header *h;
    a->calls++;
    if (a->fail_at && (a->calls == a->fail_at || (a->sticky && a->calls > a->fail_at))) {
        a->failures++;
        return NULL;
    }
    if (size > (size_t)-1 - sizeof *h || !(h = (rel_header *)malloc(sizeof *h + size))) return NULL;
    h->size = size;
    a->live_bytes += size;
    if (++a->live > a->peak) a->peak = a->live;
    return h + 1;
}

static void rel_free_fn(void *p, void *ud) {
    rel_alloc *a = (rel_alloc *)ud;
    rel_header *h;
    if (!p) return;
    h = (rel_header *)p - 1;
    a->live--;
    a->live_bytes -= h->size;
    free(h);
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
