/* Fuzz target: random event sequences through valid machines. The first
 * byte picks a machine; every further 4 bytes are one step: an event (name,
 * key, time step, value), sometimes a tick before it or a carrying
 * redeploy. Properties: no crash, and a machine never reports more live
 * instances than its `max` (4 in every machine here). */
#define DT_IMPLEMENTATION
#define DT_STATEFUL_IMPLEMENTATION
#include "dt.h"
#include "dt_stateful.h"
#include <string.h>

static const char *const fz_programs[] = {
    "machine hashing {\n by tid\n max 4\n"
    " Unknown -> HashingFile on LogStartingFileHash { $f = fileName }\n"
    " HashingFile -> Unknown on LogEndFileHash { observe Ms = elapsed() / 1ms bounds (1, 10, 100) }\n"
    " HashingFile -> HashingFile on ErrorHashing { do memory_dump($f) once }\n"
    " HashingFile -> Unknown after 2s { emit HashTimeout(f = $f) }\n}\n",
    "recorder payments { record * where level == debug\n by TransactionId\n keys 4 }\n"
    "machine payment {\n by TransactionId\n max 4\n"
    " Idle -> Waiting on OrderCreated { $id = TransactionId; $n = $n + 1 }\n"
    " Waiting -> Idle on PaymentProcessed\n"
    " Waiting -> Late after 1s { emit PaymentMissing(TransactionId = $id) level warn; do flush(\"payments\", $id) }\n"
    " Late -> Idle after 3s\n"
    " * -> Idle on Reset { drop }\n"
    " entry Late { count Late by TransactionId }\n}\n",
    "machine session {\n by TransactionId, tid\n max 4\n every 5s\n"
    " Idle -> Seen on OrderCreated where count(1s) > 1 { $s = TransactionId }\n"
    " Seen -> Seen on PaymentProcessed { annotate sessionId = $s, depth2 = depth * 2 }\n"
    " Seen -> Idle on Reset where $s == \"K1\" or depth > 100\n}\n"
    "on LogEnqueueWork where depth > 200 do memory_dump(depth) rearm when depth <= 200\n"
    "on ErrorHashing where count(2s) > 2 { emit Storm; drop }\n",
};

static const char *const fz_names[] = {"LogStartingFileHash", "LogEndFileHash", "ErrorHashing", "OrderCreated",
                                       "PaymentProcessed", "Reset", "LogEnqueueWork", "Other"};
static const char *const fz_keys[] = {"K0", "K1", "K2", "K3", "K4", "K5", "a-much-longer-transaction-identifier"};

#include "machine_engine.h"

static void fz_metric(const dt_metric *m, void *ud) {
    (void)ud;
    if (m->name.len == 20 && memcmp(m->name.ptr, "dt.machine.instances", 20) == 0 && m->value > 4.0) __builtin_trap();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void fz_step(dt_engine *e, const uint8_t *s, int64_t *ts) {
    dt_field f[3];
    dt_event ev;
    uint32_t n = 0;
    *ts += (int64_t)s[2] * 50000000;                  /* up to 12.75 s per step */
    if (s[3] & 0x80) dt_tick(e, *ts);
    if (s[1] % 8 < 7) f[n++] = dt_field_str("TransactionId", fz_keys[s[1] % 8]);
    f[n++] = dt_field_i64("depth", (int64_t)(s[3] & 0x7f) * 3);
    if (s[0] & 0x80) f[n++] = dt_field_str("fileName", (s[0] & 0x40) ? "a.jpg" : "b.txt");
    memset(&ev, 0, sizeof ev);
    ev.name = dt_cstr(fz_names[s[0] % 8]);
    ev.level = (s[0] & 0x20) ? DT_DEBUG : DT_INFO;
    ev.ts = *ts;
    ev.tid = (uint64_t)(s[1] >> 5);
    ev.fields = f;
    ev.nfields = n;
    dt_emit(e, &ev);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    const char *prog;
    dt_engine *e;
    dt_error err;
    int64_t ts = 1000000000;
    size_t i;
    if (size < 1) return 0;
    prog = fz_programs[data[0] % (sizeof fz_programs / sizeof fz_programs[0])];
    if (!(e = fz_engine(fz_metric, 1))) return 0;
    if (dt_deploy(e, prog, strlen(prog), &err) != DT_OK) __builtin_trap();
    for (i = 1; i + 4 <= size; i += 4) {
        if (data[i + 3] == 0x7f && dt_deploy(e, prog, strlen(prog), &err) != DT_OK) __builtin_trap();
        fz_step(e, data + i, &ts);
        if (data[i] == 0xff) dt_flush(e);
        dt_poll(e);
    }
    dt_tick(e, ts + 60000000000LL);
    dt_flush(e);
    dt_poll(e);
    dt_destroy(e);
    return 0;
}
