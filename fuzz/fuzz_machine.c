/* Fuzz target: machine and trigger compilation. Any bytes are compiled as a
 * program with the state-machine processors plugged in; on success a few
 * events, a tick, a flush, a carrying redeploy and a rollback run through
 * it. A failed deploy must leave an error with a position. */
#define DT_IMPLEMENTATION
#define DT_STATEFUL_IMPLEMENTATION
#include "dt.h"
#include "dt_stateful.h"
#include <string.h>

#include "machine_engine.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

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
    dt_engine *e = fz_engine(NULL, 0);
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
