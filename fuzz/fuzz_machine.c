/* Fuzz target: machine and trigger compilation. Any bytes are compiled as a
 * program with the state-machine processors plugged in; on success a few
 * events, a tick, a flush, a carrying redeploy and a rollback run through
 * it. A failed deploy must leave an error with a position. */
#define DT_IMPLEMENTATION
#define DT_STATEFUL_IMPLEMENTATION
#include "dt.h"
#include "dt_stateful.h"
#include <string.h>

static void fz_sink(const dt_event *ev, void *ud) { (void)ev; (void)ud; }
static void fz_action(dt_engine *e, const dt_action_call *c, void *ud) { (void)e; (void)c; (void)ud; }
static dt_value fz_fn(dt_exec *x, const dt_value *a, uint32_t n, void *ud) { (void)x; (void)n; (void)ud; return a[0]; }

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static dt_engine *fz_engine(void) {
    static const dt_processor *procs[2];
    dt_desc desc;
    dt_action_desc act;
    dt_function_desc fn;
    dt_engine *e;
    memset(&desc, 0, sizeof desc);
    procs[0] = dt_stateful_processor();
    procs[1] = dt_stateful_trigger_processor();
    desc.processors = procs;
    desc.nprocessors = 2;
    desc.sinks.event = fz_sink;
    desc.max_program_bytes = (size_t)4 << 20;      /* keep hostile `max` small */
    desc.max_risk = DT_RISK_HIGH;
    e = dt_create(&desc);
    if (!e) return NULL;
    memset(&act, 0, sizeof act);
    act.name = "memory_dump";
    act.fn = fz_action;
    act.max_args = 4;
    dt_action_register(e, &act);
    memset(&fn, 0, sizeof fn);
    fn.name = "recompute";
    fn.fn = fz_fn;
    fn.min_args = fn.max_args = 1;
    dt_register_function(e, &fn);
    return e;
}

static void fz_events(dt_engine *e) {
    static const char *const names[] = {"LogStartingFileHash", "LogEndFileHash", "ErrorHashing", "OrderCreated",
                                        "PaymentProcessed", "X"};
    dt_field f[4];
    dt_event ev;
    int i;
    f[0] = dt_field_str("TransactionId", "T1");
    f[1] = dt_field_i64("depth", 10001);
    f[2] = dt_field_str("fileName", "a.jpg");
    f[3] = dt_field_f64("ratio", 0.5);
    memset(&ev, 0, sizeof ev);
    ev.fields = f;
    ev.nfields = 4;
    for (i = 0; i < 12; i++) {
        ev.name = dt_cstr(names[i % 6]);
        ev.id = 0;
        ev.level = DT_DEBUG + 4 * (i % 4);
        ev.ts = 1000000000LL * i;
        ev.tid = (uint64_t)(i % 3);
        dt_emit(e, &ev);
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    dt_engine *e = fz_engine();
    dt_error err;
    if (!e) return 0;
    if (dt_deploy(e, (const char *)data, size, &err) != DT_OK) {
        if (err.line < 1 || err.column < 1 || !err.message[0]) __builtin_trap();
    } else {
        fz_events(e);
        dt_tick(e, 100000000000LL);
        if (dt_deploy(e, (const char *)data, size, &err) != DT_OK) __builtin_trap();   /* the same: carried */
        fz_events(e);
        dt_flush(e);
        dt_poll(e);
        dt_rollback(e);
        fz_events(e);
    }
    dt_destroy(e);
    return 0;
}
