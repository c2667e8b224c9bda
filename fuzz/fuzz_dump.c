/* Fuzz target: the flight-recorder dump decoder (dt_dump_decode), which
 * `dt decode` runs on files that may be truncated, corrupted or hostile.
 * Properties: never reads outside the input; on success the records seen
 * match the header's count and every string lies inside the input. */
#define DT_IMPLEMENTATION
#include "dt.h"
#include <stdio.h>
#include <string.h>

typedef struct fuzz_dump_seen {
    const uint8_t *lo, *hi;
    uint32_t header_records, records;
    uint64_t bytes;
} fuzz_dump_seen;

static void fuzz_dump_inside(const fuzz_dump_seen *s, dt_str str) {
    if (str.len && ((const uint8_t *)str.ptr < s->lo || (const uint8_t *)str.ptr + str.len > s->hi)) __builtin_trap();
}

static void fuzz_dump_header(const dt_dump_header *h, void *ud) {
    fuzz_dump_seen *s = (fuzz_dump_seen *)ud;
    fuzz_dump_inside(s, h->recorder);
    fuzz_dump_inside(s, h->key);
    s->header_records = h->records;
}

static void fuzz_dump_record(const dt_event *ev, void *ud) {
    fuzz_dump_seen *s = (fuzz_dump_seen *)ud;
    uint32_t i;
    fuzz_dump_inside(s, ev->name);
    for (i = 0; i < ev->nfields; i++) {
        fuzz_dump_inside(s, ev->fields[i].name);
        if (ev->fields[i].value.type == DT_TYPE_STR || ev->fields[i].value.type == DT_TYPE_BYTES) {
            fuzz_dump_inside(s, ev->fields[i].value.as.str);
            s->bytes += ev->fields[i].value.as.str.len;
        }
    }
    s->records++;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    fuzz_dump_seen s;
    size_t bad = 0;
    memset(&s, 0, sizeof s);
    s.lo = data;
    s.hi = data + size;
    if (dt_dump_decode(data, size, fuzz_dump_header, fuzz_dump_record, &s, &bad) == DT_OK) {
        if (s.records != s.header_records) __builtin_trap();
    } else if (bad > size) {
        __builtin_trap();                        /* the error offset points inside the input */
    }
    return 0;
}
