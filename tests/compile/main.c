/* The implementation TU of the compile checks, and a tiny program that must
 * run correctly in every build: deploy `level X = off`, emit X and Y through
 * dt_emit and DT_EMIT, and check that only Y reached the sink.
 *
 * Build switches (set by run.sh): DT_COMPILE_WITH_MULTI links multi_a.c and
 * multi_b.c; DT_COMPILE_WITH_STATIC_OTHER links static_other.c;
 * DT_COMPILE_ALL_IMPL uses DT_ALL_IMPLEMENTATION instead of
 * DT_IMPLEMENTATION; DT_COMPILE_IMPL_FIRST defines it before the first
 * inclusion. The DT_NO_* trims come from the command line. */
#include <stdio.h>
#include <string.h>

/* Declarations first (as when another header pulled dt.h in), then the
 * implementation, then once more: each inclusion must be harmless.
 * DT_COMPILE_IMPL_FIRST leaves out the first, declarations-only one. */
#ifndef DT_COMPILE_IMPL_FIRST
#include "dt.h"
#endif
#ifdef DT_COMPILE_ALL_IMPL
#define DT_ALL_IMPLEMENTATION
#else
#define DT_IMPLEMENTATION
#define DT_QUERY_IMPLEMENTATION
#define DT_STATEFUL_IMPLEMENTATION
#endif
#include "dt.h"
#include "dt.h"
/* The processors' headers, in every build the checks make. */
#include "dt_query.h"
#include "dt_stateful.h"
#include "dt_query.h"
#include "multi.h"

static int seen_x, seen_y, bad_ts;

static void sink(const dt_event *ev, void *ud) {
    (void)ud;
    if (ev->name.len == 1 && ev->name.ptr[0] == 'X') seen_x++;
    if (ev->name.len == 1 && ev->name.ptr[0] == 'Y') seen_y++;
#if DT_NO_CLOCK
    if (ev->ts != 0) bad_ts++;                   /* no clock: nothing to stamp with */
#endif
}

#if DT_NO_MALLOC
static unsigned char block[1 << 20];
#endif

static int fail(const char *what) {
    fprintf(stderr, "compile check program: %s\n", what);
    return 1;
}

int main(void) {
    static const char prog[] = "query q = X | drop\nmachine m { Idle -> Busy on Y }";
    static const char fprog[] = "level X = off\nrecorder r { record Y where n > 0.5 }";
    dt_desc d;
    dt_engine *e;
    dt_event ev;
    dt_field f;
    dt_error err;
    int rc;
    memset(&d, 0, sizeof d);
#if DT_NO_MALLOC
    if (dt_create(&d) != NULL) return fail("DT_NO_MALLOC without memory or allocator must refuse");
    d.memory.ptr = block;
    d.memory.size = sizeof block;
    d.max_events = 256;
#endif
    d.sinks.event = sink;
    e = dt_create(&d);
    if (!e) return fail("dt_create");
    if (dt_register_processor(e, dt_query_processor()) != DT_OK || dt_register_processor(e, dt_stateful_processor()) != DT_OK)
        return fail("dt_register_processor");
    dt_bind_sites(e);
    if (dt_deploy(e, prog, sizeof prog - 1, &err) != DT_OK) return fail(err.message);
    memset(&ev, 0, sizeof ev);
    f = dt_field_i64("n", 1);
    ev.level = DT_INFO;
    ev.fields = &f;
    ev.nfields = 1;
    ev.name = dt_cstr("X");
    dt_emit(e, &ev);
    ev.name = dt_cstr("Y");
    dt_emit(e, &ev);
    DT_EMIT(DT_INFO, "X", DT_I64("n", 2));
    DT_EMIT(DT_INFO, "Y", DT_I64("n", 3));
    if (seen_x != 0 || seen_y != 2) return fail("wrong events exported");
    if (bad_ts) return fail("DT_NO_CLOCK: events were stamped");
    rc = dt_deploy(e, fprog, sizeof fprog - 1, &err);
#if DT_NO_FLOAT
    if (rc != DT_ERR_SYNTAX) return fail("DT_NO_FLOAT: a float literal must be refused");
#else
    if (rc != DT_OK) return fail(err.message);
#endif
#ifdef DT_COMPILE_WITH_MULTI
    if (!multi_a() || !multi_b()) return fail("multi_a/multi_b");
    if (seen_y != 2) return fail("multi TUs exported the wrong events");
#endif
#ifdef DT_COMPILE_WITH_STATIC_OTHER
    if (!static_other()) return fail("static_other");
#endif
    dt_destroy(e);
    return 0;
}
