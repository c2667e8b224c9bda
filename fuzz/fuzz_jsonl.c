/* fuzz_jsonl.c — libFuzzer target for examples/dt_jsonl.h.
 *
 * Build and run (clang):
 *     clang -g -O1 -fsanitize=fuzzer,address,undefined fuzz/fuzz_jsonl.c -o /tmp/fuzz_jsonl
 *     /tmp/fuzz_jsonl -dict=fuzz/jsonl.dict fuzz/corpus/jsonl
 * Replay the corpus without libFuzzer (gcc, valgrind):
 *     gcc -g fuzz/fuzz_jsonl.c fuzz/standalone.c -o /tmp/fuzz_jsonl_replay
 *     /tmp/fuzz_jsonl_replay fuzz/corpus/jsonl
 *
 * Beyond "no crash, no undefined behaviour" (the sanitizers' job), each input
 * checks properties and aborts when one fails:
 *   1. Each line is read as a JSON-Lines event; an error has a column inside
 *      the line (or just past it) and a reason, and never "out of memory"
 *      with an arena of dtj_event_arena_size(len) bytes.
 *   2. An event written back with the writer reads as the same event (when
 *      its names are well-formed UTF-8; non-finite f64 come back as strings).
 *   3. The whole input is parsed as one JSON document; when it parses, the
 *      document written back parses to the same tree. A small arena gives a
 *      clean error, never a crash.
 * No engine code runs here, so the target needs no DT_IMPLEMENTATION.
 */
#include "../dt.h"
#include "../examples/dt_jsonl.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void fuzz_fail(const char *what, const char *detail) {
    fprintf(stderr, "fuzz_jsonl: property failed: %s (%s)\n", what, detail ? detail : "");
    abort();
}

static int is_utf8(dt_str s) {
    size_t i = 0, k;
    while (i < s.len) {
        k = dtj_utf8_len((const unsigned char *)s.ptr + i, s.len - i);
        if (k == 0) return 0;
        i += k;
    }
    return 1;
}

static int same_bytes(dt_str a, dt_str b) {
    return a.len == b.len && (a.len == 0 || memcmp(a.ptr, b.ptr, a.len) == 0);
}

/* The event in the input format, so that it can be read again. */
static void write_input_line(const dtj_writer *w, const dt_event *ev) {
    uint32_t k;
    dtj_write_raw(w, "{\"name\":");
    dtj_write_string(w, ev->name.ptr, ev->name.len);
    dtj_write_raw(w, ",\"ts\":");
    dtj_write_i64(w, ev->ts);
    dtj_write_raw(w, ",\"level\":");
    dtj_write_level(w, ev->level);
    dtj_write_raw(w, ",\"tid\":");
    dtj_write_u64(w, ev->tid);
    for (k = 0; k < ev->nfields; k++) {
        dtj_write(w, ",", 1);
        dtj_write_string(w, ev->fields[k].name.ptr, ev->fields[k].name.len);
        dtj_write(w, ":", 1);
        dtj_write_value(w, &ev->fields[k].value);
    }
    dtj_write(w, "}", 1);
}

static void check_same_value(const dt_value *a, const dt_value *b) {
    if (a->type == DT_TYPE_F64 && a->as.f64 != a->as.f64) {
        if (b->type != DT_TYPE_STR || !dtj_str_is(b->as.str, "NaN")) fuzz_fail("NaN round trip", NULL);
        return;
    }
    if (a->type == DT_TYPE_F64 && (a->as.f64 > DBL_MAX || a->as.f64 < -DBL_MAX)) {
        if (b->type != DT_TYPE_STR || !dtj_str_is(b->as.str, a->as.f64 > 0 ? "Infinity" : "-Infinity"))
            fuzz_fail("infinity round trip", NULL);
        return;
    }
    if (a->type != b->type) fuzz_fail("field type round trip", NULL);
    switch (a->type) {
    case DT_TYPE_BOOL: if (a->as.b != b->as.b) fuzz_fail("bool round trip", NULL); break;
    case DT_TYPE_I64: if (a->as.i64 != b->as.i64) fuzz_fail("i64 round trip", NULL); break;
    case DT_TYPE_U64: if (a->as.u64 != b->as.u64) fuzz_fail("u64 round trip", NULL); break;
    case DT_TYPE_F64:
        if (memcmp(&a->as.f64, &b->as.f64, sizeof(double)) != 0) fuzz_fail("f64 round trip", NULL);
        break;
    case DT_TYPE_STR:
        if (is_utf8(a->as.str) && !same_bytes(a->as.str, b->as.str)) fuzz_fail("string round trip", NULL);
        break;
    case DT_TYPE_BYTES:
        if (!same_bytes(a->as.str, b->as.str)) fuzz_fail("bytes round trip", NULL);
        break;
    default: break;
    }
}

static int names_are_utf8(const dt_event *ev) {
    uint32_t k;
    if (!is_utf8(ev->name)) return 0;
    for (k = 0; k < ev->nfields; k++)
        if (!is_utf8(ev->fields[k].name)) return 0;
    return 1;
}

/* Property 2. Output is at most 10 bytes per input byte: a string byte
 * becomes at most 6 ("\ufffd"), a float literal of n >= 3 bytes at most 26. */
static void check_round_trip(const char *line, size_t len, const dt_event *ev) {
    size_t cap = 10 * len + 256, alen;
    char *out = (char *)malloc(cap);
    void *abuf;
    dtj_buf b;
    dtj_writer w = dtj_buf_writer(&b, out, cap);
    dtj_arena a;
    dtj_error err;
    dt_event again;
    dt_field fields[DT_MAX_FIELDS];
    uint32_t k;
    if (!out) return;
    write_input_line(&w, ev);
    if (b.truncated) fuzz_fail("writer output larger than 10x the input", line);
    alen = dtj_parse_arena_size(b.len);    /* enough for either reading */
    abuf = malloc(alen);
    dtj_arena_init(&a, abuf, abuf ? alen : 0);
    if (!abuf) goto done;
    if (!names_are_utf8(ev)) {
        /* replacement characters may lengthen or merge names: the output
         * must still be JSON */
        if (!dtj_parse(b.ptr, b.len, &a, &err)) fuzz_fail("writer output is not JSON", err.reason);
        goto done;
    }
    if (dtj_read_event(b.ptr, b.len, &a, &again, fields, DT_MAX_FIELDS, &err) != DTJ_EVENT)
        fuzz_fail("written event does not read back", err.reason);
    if (!same_bytes(ev->name, again.name) || ev->ts != again.ts || ev->level != again.level ||
        ev->tid != again.tid || ev->nfields != again.nfields)
        fuzz_fail("event header round trip", b.ptr);
    for (k = 0; k < ev->nfields; k++) {
        if (!same_bytes(ev->fields[k].name, again.fields[k].name)) fuzz_fail("field name round trip", NULL);
        check_same_value(&ev->fields[k].value, &again.fields[k].value);
    }
done:
    free(abuf);
    free(out);
}

/* Property 1 for one line. */
static void check_line(const char *line, size_t len) {
    size_t alen = dtj_event_arena_size(len);
    void *abuf = malloc(alen);
    dtj_arena a;
    dtj_error err;
    dt_event ev;
    dt_field fields[DT_MAX_FIELDS];
    int r;
    if (!abuf) return;
    dtj_arena_init(&a, abuf, alen);
    r = dtj_read_event(line, len, &a, &ev, fields, DT_MAX_FIELDS, &err);
    if (r == DTJ_ERROR) {
        if (err.column == 0 || err.column > len + 1 || err.reason[0] == '\0')
            fuzz_fail("error without a column inside the line", err.reason);
        if (strncmp(err.reason, "out of memory", 13) == 0) fuzz_fail("event arena bound too small", err.reason);
    } else if (r == DTJ_EVENT) {
        if (ev.name.len == 0 || ev.name.len > DT_MAX_NAME || ev.nfields > DT_MAX_FIELDS)
            fuzz_fail("event breaks the format's bounds", NULL);
        check_round_trip(line, len, &ev);
    } else if (r != DTJ_SKIP) {
        fuzz_fail("unknown result", NULL);
    }
    free(abuf);
}

/* Writes a DOM back as JSON (numbers as their literal text). */
static void write_dom(const dtj_writer *w, const dtj_value *v) {
    const dtj_value *c;
    switch (v->kind) {
    case DTJ_NULL: dtj_write_raw(w, "null"); break;
    case DTJ_BOOL: dtj_write_bool(w, v->as.b); break;
    case DTJ_NUMBER: dtj_write(w, v->as.num.text.ptr, v->as.num.text.len); break;
    case DTJ_STRING: dtj_write_string(w, v->as.str.ptr, v->as.str.len); break;
    case DTJ_ARRAY:
    case DTJ_OBJECT:
        dtj_write(w, v->kind == DTJ_ARRAY ? "[" : "{", 1);
        for (c = v->as.first; c; c = c->next) {
            if (c != v->as.first) dtj_write(w, ",", 1);
            if (v->kind == DTJ_OBJECT) {
                dtj_write_string(w, c->key.ptr, c->key.len);
                dtj_write(w, ":", 1);
            }
            write_dom(w, c);
        }
        dtj_write(w, v->kind == DTJ_ARRAY ? "]" : "}", 1);
        break;
    }
}

/* Same shape and scalars; strings compared when a's is well-formed UTF-8.
 * Also exercises the accessors against the list walk. */
static void check_same_dom(const dtj_value *a, const dtj_value *b) {
    const dtj_value *x, *y;
    uint32_t k = 0;
    if (a->kind != b->kind) fuzz_fail("DOM kind round trip", NULL);
    if (a->kind == DTJ_STRING && is_utf8(a->as.str) && !same_bytes(a->as.str, b->as.str))
        fuzz_fail("DOM string round trip", NULL);
    if (a->kind == DTJ_NUMBER && !same_bytes(a->as.num.text, b->as.num.text))
        fuzz_fail("DOM number round trip", NULL);
    if (a->kind == DTJ_BOOL && a->as.b != b->as.b) fuzz_fail("DOM bool round trip", NULL);
    if (dtj_len(a) != dtj_len(b)) fuzz_fail("DOM length round trip", NULL);
    if (a->kind != DTJ_ARRAY && a->kind != DTJ_OBJECT) return;
    for (x = a->as.first, y = b->as.first; x && y; x = x->next, y = y->next, k++) {
        if (k < 4 && dtj_at(a, k) != x) fuzz_fail("dtj_at disagrees with the list", NULL);
        if (a->kind == DTJ_OBJECT && x->key.ptr[x->key.len] != '\0') fuzz_fail("key not NUL-terminated", NULL);
        if (a->kind == DTJ_OBJECT && is_utf8(x->key) && !memchr(x->key.ptr, 0, x->key.len) &&
            dtj_get(a, x->key.ptr) == NULL)
            fuzz_fail("dtj_get misses a key", x->key.ptr);
        check_same_dom(x, y);
    }
    if (x || y || k != a->count) fuzz_fail("DOM child count", NULL);
}

/* Inputs this big are not fuzz inputs; the worst-case DOM arena for them
 * would be too. */
#define FUZZ_MAX_DOM_INPUT ((size_t)1 << 20)

/* Property 3. */
static void check_dom(const uint8_t *data, size_t size) {
    size_t len = size < FUZZ_MAX_DOM_INPUT ? size : 0;
    size_t alen = dtj_parse_arena_size(len), cap = 10 * len + 256, small = size % 509;
    void *abuf = malloc(alen), *abuf2 = malloc(alen);
    char *out = (char *)malloc(cap);
    dtj_arena a, a2;
    dtj_error err;
    dtj_buf b;
    dtj_writer w = dtj_buf_writer(&b, out, cap);
    dtj_value *root, *again;
    if (!abuf || !abuf2 || !out || len != size) goto done;
    dtj_arena_init(&a, abuf, small);       /* often too small: must fail cleanly */
    root = dtj_parse((const char *)data, size, &a, &err);
    if (!root && err.column == 0) fuzz_fail("DOM error without a column", err.reason);
    dtj_arena_init(&a, abuf, alen);
    root = dtj_parse((const char *)data, size, &a, &err);
    if (!root) {
        if (err.column == 0 || err.column > size + 1) fuzz_fail("DOM error column", err.reason);
        if (strncmp(err.reason, "out of memory", 13) == 0) fuzz_fail("DOM arena bound too small", err.reason);
        goto done;
    }
    write_dom(&w, root);
    if (b.truncated) fuzz_fail("DOM output larger than 10x the input", NULL);
    dtj_arena_init(&a2, abuf2, dtj_parse_arena_size(b.len) < alen ? dtj_parse_arena_size(b.len) : alen);
    again = dtj_parse(b.ptr, b.len, &a2, &err);
    if (!again) fuzz_fail("written DOM does not parse", err.reason);
    check_same_dom(root, again);
done:
    free(abuf);
    free(abuf2);
    free(out);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    size_t start = 0, i;
    for (i = 0; i <= size; i++) {
        if (i == size || data[i] == '\n') {
            check_line((const char *)data + start, i - start);
            start = i + 1;
        }
    }
    check_dom(data, size);
    return 0;
}
