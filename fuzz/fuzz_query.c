/* fuzz_query.c — libFuzzer target for query compilation (dt_query.h).
 *
 * Any bytes are deployed as a program into an engine with the query
 * processor registered and two events with schemas (so field binding and
 * deploy-time type checks run too). A failed deploy must leave an error with
 * a line, a column (both >= 1) and a message. A program that deploys gets a
 * few events of every field type, a tick past its windows, a flush and a
 * rollback, so its compiled operators run; every metric point that leaves
 * must be well formed. Nothing may crash, leak or hang (the sanitizers and
 * libFuzzer's timeouts check those).
 *
 * Build and run (clang):  make B=build build/fuzz_query
 *     build/fuzz_query -dict=fuzz/query.dict fuzz/corpus/query
 * Replay the corpus without libFuzzer (gcc, valgrind):
 *     gcc -g -I. fuzz/fuzz_query.c fuzz/standalone.c -o /tmp/fuzz_query_replay
 *     /tmp/fuzz_query_replay fuzz/corpus/query
 */
#define DT_IMPLEMENTATION
#define DT_QUERY_IMPLEMENTATION
#include "dt.h"
#include "dt_query.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void fuzz_fail(const char *what) {
    fprintf(stderr, "fuzz_query: property failed: %s\n", what);
    abort();
}

static void fuzz_event_sink(const dt_event *ev, void *ud) {
    (void)ud;
    if (!ev->name.len) fuzz_fail("an exported event has no name");
}

/* A metric point has a name, labels with names, a window that ends after
 * it starts, and counts that are not negative. */
static void fuzz_metric_sink(const dt_metric *m, void *ud) {
    uint32_t i;
    (void)ud;
    if (!m->name.len) fuzz_fail("a metric point has no name");
    if (m->kind != DT_METRIC_COUNTER && m->kind != DT_METRIC_GAUGE && m->kind != DT_METRIC_HISTOGRAM)
        fuzz_fail("a metric point of no known kind");
    if (!(m->start_ns < m->end_ns)) fuzz_fail("a metric window does not end after it starts");
    for (i = 0; i < m->nlabels; i++)
        if (!m->labels[i].name.len) fuzz_fail("a metric label has no name");
    if (m->is_int && m->kind == DT_METRIC_COUNTER && m->value != m->value) fuzz_fail("an integer counter is NaN");
}

static int64_t fuzz_now;
static volatile double fuzz_zero;
static int64_t fuzz_clock(void *ud) { (void)ud; return fuzz_now; }

static dt_engine *fuzz_engine(void) {
    static const dt_schema_field hash_fields[] = {{"fileName", DT_TYPE_STR}, {"hashValue", DT_TYPE_U64}};
    static const dt_schema_field banner_fields[] = {{"secret", DT_TYPE_STR}, {"time", DT_TYPE_I64}};
    const dt_processor *procs[1];
    dt_desc desc;
    dt_engine *e;
    memset(&desc, 0, sizeof desc);
    procs[0] = dt_query_processor();
    desc.processors = procs;
    desc.nprocessors = 1;
    desc.sinks.event = fuzz_event_sink;
    desc.sinks.metric = fuzz_metric_sink;
    desc.clock.now = fuzz_clock;
    desc.max_program_bytes = (size_t)4 << 20;     /* keep hostile group bounds small */
    e = dt_create(&desc);
    if (!e) return NULL;
    dt_register_event(e, "LogEndFileHash", hash_fields, 2, "fuzz_query.c", 1);
    dt_register_event(e, "LogWelcomeBanner", banner_fields, 2, "fuzz_query.c", 2);
    return e;
}

/* Events that reach most operators: the schema'd ones, one that matches
 * prefixes, and fields of every type with secrets and edge values. */
static void fuzz_run(dt_engine *e) {
    static const char *const names[] = {"LogEndFileHash", "LogWelcomeBanner", "LogLaunch", "HealthCheckPing"};
    dt_field f[9];
    dt_event ev;
    int i;
    f[0] = dt_field_str("fileName", "C:\\data\\report.final.PDF");
    f[1] = dt_field_u64("hashValue", UINT64_MAX);
    f[2] = dt_field_str("secret", "mail bob@example.com token ghp_0123456789abcdefghijABCDEFGHIJ012345 ip 10.1.2.3");
    f[3] = dt_field_i64("time", INT64_MIN);
    f[4] = dt_field_str("s", "\xff\xfe card 4111 1111 1111 1111 v1.2.3.4.5");
    f[5] = dt_field_f64("f", fuzz_zero / fuzz_zero);   /* NaN */
    f[6] = dt_field_bool("b", 1);
    f[7] = dt_field_i64("i", INT64_MAX);
    f[8] = dt_field_bytes("raw", "\0\1\2", 3);
    memset(&ev, 0, sizeof ev);
    ev.fields = f;
    ev.nfields = 9;
    for (i = 0; i < 8; i++) {
        ev.name = dt_cstr(names[i % 4]);
        ev.id = 0;
        ev.level = DT_DEBUG + 4 * (i % 4);
        ev.ts = 1000 + (int64_t)i * 30000000000LL;
        fuzz_now = ev.ts;
        dt_emit(e, &ev);
    }
    dt_tick(e, 1000000000000LL);
    dt_flush(e);
    dt_poll(e);
    dt_rollback(e);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    dt_engine *e;
    dt_error err;
    fuzz_now = 1;
    e = fuzz_engine();
    if (!e) return 0;
    if (dt_deploy(e, (const char *)data, size, &err) != DT_OK) {
        if (err.line < 1 || err.column < 1 || !err.message[0]) fuzz_fail("a deploy error without a position or message");
    } else {
        fuzz_run(e);
    }
    dt_destroy(e);
    return 0;
}
