/* Fuzz target: the program front end. Any bytes are compiled as a program
 * (deploy), and on success a few events run through it, so the lexer,
 * parser, linker and the compiled blocks all see hostile input. A failed
 * deploy must leave an error with a position; nothing may crash or leak. */
#define DT_IMPLEMENTATION
#include "dt.h"
#include <string.h>

static void dt_fuzz_sink(const dt_event *ev, void *ud) { (void)ev; (void)ud; }

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    static const dt_schema_field fields[] = {{"depth", DT_TYPE_I64}, {"name", DT_TYPE_STR}};
    dt_desc desc;
    dt_engine *e;
    dt_error err;
    dt_field f[3];
    dt_event ev;
    int i;
    memset(&desc, 0, sizeof desc);
    desc.sinks.event = dt_fuzz_sink;
    desc.max_program_bytes = (size_t)4 << 20;     /* keep hostile recorders small */
    desc.max_risk = DT_RISK_HIGH;
    e = dt_create(&desc);
    if (!e) return 0;
    dt_register_event(e, "LogEnqueueWork", fields, 2, "fuzz.c", 1);
    if (dt_deploy(e, (const char *)data, size, &err) != DT_OK) {
        if (err.line < 1 || err.column < 1 || !err.message[0]) __builtin_trap();
    } else {
        f[0] = dt_field_i64("depth", 10001);
        f[1] = dt_field_str("name", "q");
        f[2] = dt_field_f64("ratio", 0.5);
        memset(&ev, 0, sizeof ev);
        ev.fields = f;
        ev.nfields = 3;
        for (i = 0; i < 4; i++) {
            static const char *const names[] = {"LogEnqueueWork", "ErrorHashing", "TransactionFailed", "X"};
            ev.name = dt_cstr(names[i]);
            ev.id = 0;
            ev.level = DT_DEBUG + 4 * i;
            ev.ts = 1000 + i;
            dt_emit(e, &ev);
        }
        dt_tick(e, 1000000000000);
        dt_flush(e);
        dt_poll(e);
        dt_rollback(e);
    }
    dt_destroy(e);
    return 0;
}
