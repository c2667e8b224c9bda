/* The host test suite under dt's trim options (DT_NO_MALLOC, DT_NO_FLOAT,
 * DT_NO_CLOCK, DT_NO_THREADS; docs/embedded.md). `make test-trims` builds
 * and runs the whole suite once per option and once with all of them.
 *
 * - DT_NO_MALLOC: dt has no default allocator, so an engine needs
 *   desc.memory or desc.allocator. The tests that pass neither get, through
 *   the dt_create/dt_destroy macros below, a caller-provided block: the
 *   firmware's way, so every suite then runs on dt's own block heap. A test
 *   that wants the real functions writes (dt_create)(&d).
 * - DT_NO_CLOCK: the default clock reads 0. Tests that pass no clock get a
 *   counter clock here, as firmware passes its timer.
 * - DT_NO_FLOAT, DT_NO_THREADS: a test of a feature the option removes
 *   starts with SUP_NEEDS_FLOAT() or SUP_NEEDS_THREADS() and is skipped,
 *   with the reason, in that build; tests of what the option does instead
 *   (a float literal refused with its column, say) run there.
 *
 * Included by tests/support.h; a test file that does not use support.h and
 * creates engines includes this one itself. */
#ifndef DT_TESTS_TRIMS_H
#define DT_TESTS_TRIMS_H

#include <stdint.h>
#include <stdlib.h>

#include "dt.h"
#include "greatest.h"

#if defined(__GNUC__)
#define TRIM_UNUSED __attribute__((unused))
#else
#define TRIM_UNUSED
#endif

#if DT_NO_FLOAT
#define SUP_NEEDS_FLOAT() SKIPm("needs floating point (built with DT_NO_FLOAT)")
#else
#define SUP_NEEDS_FLOAT() ((void)0)
#endif

#if DT_NO_THREADS
#define SUP_NEEDS_THREADS() SKIPm("needs threads (built with DT_NO_THREADS)")
#else
#define SUP_NEEDS_THREADS() ((void)0)
#endif

#if DT_NO_MALLOC || DT_NO_CLOCK

/* Bytes of each test engine's block. Pages the engine never touches are
 * never faulted in, so a large block costs nothing; it is large so that
 * tests sized for malloc (a million keys under a group bound, 16 MiB of
 * program) fit unchanged. */
#ifndef TRIM_BLOCK_BYTES
#define TRIM_BLOCK_BYTES ((size_t)96 << 20)
#endif
#define TRIM_MAX_ENGINES 64

typedef struct trim_block {
    dt_engine *engine;
    void *mem;
} trim_block;

/* Engines alive at once in one test file, with the block each runs in. */
static trim_block trim_blocks[TRIM_MAX_ENGINES];

/* A counter clock in place of the board timer: 1 ms a read, never 0. */
TRIM_UNUSED static int64_t trim_clock(void *ud) {
    static int64_t t = 1000000000;
    (void)ud;
#if defined(__GNUC__)
    return __atomic_add_fetch(&t, 1000000, __ATOMIC_RELAXED);
#else
    return t += 1000000;
#endif
}

TRIM_UNUSED static dt_engine *trim_create(const dt_desc *desc) {
    dt_desc d;
    dt_engine *e;
    void *mem = NULL;
    size_t i;
    if (!desc) return (dt_create)(desc);
    d = *desc;
#if DT_NO_CLOCK
    if (!d.clock.now) d.clock.now = trim_clock;
#endif
#if DT_NO_MALLOC
    if (!d.memory.ptr && !(d.allocator.alloc && d.allocator.free)) {
        for (i = 0; i < TRIM_MAX_ENGINES && trim_blocks[i].mem; i++) {}
        if (i == TRIM_MAX_ENGINES) return NULL;   /* a test that leaks engines */
        mem = malloc(TRIM_BLOCK_BYTES);
        if (!mem) return NULL;
        d.memory.ptr = mem;
        d.memory.size = TRIM_BLOCK_BYTES;
    }
#endif
    e = (dt_create)(&d);
    if (!mem) return e;
    if (!e) { free(mem); return NULL; }
    trim_blocks[i].engine = e;
    trim_blocks[i].mem = mem;
    return e;
}

TRIM_UNUSED static void trim_destroy(dt_engine *e) {
    size_t i;
    (dt_destroy)(e);
    for (i = 0; e && i < TRIM_MAX_ENGINES; i++) {
        if (trim_blocks[i].engine != e) continue;
        free(trim_blocks[i].mem);
        trim_blocks[i].engine = NULL;
        trim_blocks[i].mem = NULL;
    }
}

#define dt_create(desc) trim_create(desc)
#define dt_destroy(e) trim_destroy(e)

#endif /* DT_NO_MALLOC || DT_NO_CLOCK */
#endif /* DT_TESTS_TRIMS_H */
