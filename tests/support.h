/* Helpers shared by the test files (tests/test_*.c): bounded text
 * building, value and event formatting for capturing sinks, joining and
 * decoding dumps, a fake clock, and small deploy, emit and stats wrappers.
 * Only static functions and types: each test file includes this header and
 * gets its own copy. What differs between files in substance (what a sink
 * records, the exact text it builds) stays in the file, or is chosen here
 * by an explicit flag so every file's expected strings are unchanged.
 * Names: sup_* for most helpers; deploy, deploy_noerr, emit, stats and
 * ref_fnv1a keep the short names the test files already called them by. */
#ifndef DT_TESTS_SUPPORT_H
#define DT_TESTS_SUPPORT_H

#include <stdio.h>
#include <string.h>

#include "dt.h"
#include "trims.h"

/* A file that does not use a helper must still compile without warnings. */
#if defined(__GNUC__)
#define SUP_UNUSED __attribute__((unused))
#else
#define SUP_UNUSED
#endif

/* ---- text ---------------------------------------------------------------- */

/* Writes s at buf[at], truncating to fit size; returns the new end. */
SUP_UNUSED static size_t sup_put(char *buf, size_t size, size_t at, const char *s) {
    size_t n = strlen(s);
    if (at >= size) return at;
    if (n > size - 1 - at) n = size - 1 - at;
    memcpy(buf + at, s, n);
    buf[at + n] = 0;
    return at + n;
}

/* Appends s to the NUL-terminated buf (snprintf truncation). */
SUP_UNUSED static void sup_append(char *buf, size_t size, const char *s) {
    size_t n = strlen(buf);
    snprintf(buf + n, size - n, "%s", s);
}

/* A text being built at out[at], out[size]. */
typedef struct sup_text {
    char *out;
    size_t size, at;
} sup_text;

/* ---- values and events --------------------------------------------------- */

/* sup_fmt_value flags. Default: u64 "7", bytes "0x0aff". */
#define SUP_U64_SUFFIX 1   /* u64 as "7u" */
#define SUP_BYTES_LEN 2    /* bytes as "<2 bytes>" */

SUP_UNUSED static void sup_fmt_value(char *out, size_t size, const dt_value *v, int flags) {
    size_t i, at;
    switch (v->type) {
    case DT_TYPE_BOOL: snprintf(out, size, "%s", v->as.b ? "true" : "false"); break;
    case DT_TYPE_I64: snprintf(out, size, "%lld", (long long)v->as.i64); break;
    case DT_TYPE_U64:
        snprintf(out, size, (flags & SUP_U64_SUFFIX) ? "%lluu" : "%llu", (unsigned long long)v->as.u64);
        break;
    case DT_TYPE_F64: snprintf(out, size, "%g", v->as.f64); break;
    case DT_TYPE_STR: snprintf(out, size, "\"%.*s\"", (int)v->as.str.len, v->as.str.ptr); break;
    case DT_TYPE_BYTES:
        if (flags & SUP_BYTES_LEN) {
            snprintf(out, size, "<%u bytes>", (unsigned)v->as.str.len);
            break;
        }
        at = sup_put(out, size, 0, "0x");
        for (i = 0; i < v->as.str.len; i++) {
            char hx[3];
            snprintf(hx, sizeof hx, "%02x", (unsigned)(unsigned char)v->as.str.ptr[i]);
            at = sup_put(out, size, at, hx);
        }
        break;
    default: snprintf(out, size, "null"); break;
    }
}

/* "Name@level{a=1,b="x"}", values as sup_fmt_value with flags. */
SUP_UNUSED static void sup_fmt_event(char *out, size_t size, const dt_event *ev, int flags) {
    uint32_t i;
    size_t at;
    char head[160];
    snprintf(head, sizeof head, "%.*s@%s{", (int)ev->name.len, ev->name.ptr, dt_level_name(ev->level));
    at = sup_put(out, size, 0, head);
    for (i = 0; i < ev->nfields; i++) {
        char v[96], f[160];
        sup_fmt_value(v, sizeof v, &ev->fields[i].value, flags);
        snprintf(f, sizeof f, "%s%.*s=%s", i ? "," : "", (int)ev->fields[i].name.len, ev->fields[i].name.ptr, v);
        at = sup_put(out, size, at, f);
    }
    (void)sup_put(out, size, at, "}");
}

/* ---- dumps --------------------------------------------------------------- */

/* Joins a dump's chunks into buf; stops before the first chunk that does
 * not fit. *len: the bytes joined. Returns 1 when every chunk fit. */
SUP_UNUSED static int sup_join_dump(const dt_dump *d, uint8_t *buf, size_t size, size_t *len) {
    uint32_t i;
    *len = 0;
    for (i = 0; i < d->nchunks; i++) {
        if (d->chunks[i].len > size - *len) return 0;
        memcpy(buf + *len, d->chunks[i].ptr, d->chunks[i].len);
        *len += d->chunks[i].len;
    }
    return 1;
}

/* Dump header callback (ud: sup_text): "rec/key n=2 ow=0:". */
SUP_UNUSED static void sup_dump_header(const dt_dump_header *h, void *ud) {
    sup_text *f = (sup_text *)ud;
    char buf[200];
    snprintf(buf, sizeof buf, "%.*s/%.*s n=%u ow=%llu:", (int)h->recorder.len, h->recorder.ptr, (int)h->key.len,
             h->key.ptr, (unsigned)h->records, (unsigned long long)h->overwritten);
    f->at = sup_put(f->out, f->size, f->at, buf);
}

/* Decodes dump bytes into out[size] (via t): the header as sup_dump_header,
 * each record as on_record (ud: t). Returns dt_dump_decode's result. */
SUP_UNUSED static int sup_dump_text(const uint8_t *bytes, size_t len, void (*on_record)(const dt_event *, void *),
                                    sup_text *t, char *out, size_t size) {
    size_t bad = 0;
    t->out = out;
    t->size = size;
    t->at = 0;
    out[0] = 0;
    return dt_dump_decode(bytes, len, sup_dump_header, on_record, t, &bad);
}

/* ---- clock, deploy, emit, stats ------------------------------------------ */

/* A fake clock: clock.user_data points at the int64_t the test moves. */
SUP_UNUSED static int64_t sup_clock(void *ud) { return *(const int64_t *)ud; }

/* A zeroed desc with that fake clock: *now set to start, sinks.user_data
 * set to ud; the caller then picks its sinks. */
SUP_UNUSED static dt_desc sup_desc(void *ud, int64_t *now, int64_t start) {
    dt_desc d;
    memset(&d, 0, sizeof d);
    *now = start;
    d.sinks.user_data = ud;
    d.clock.now = sup_clock;
    d.clock.user_data = now;
    return d;
}

/* With an error struct: without one dt_deploy reports every failure as
 * DT_ERR_SYNTAX (see deploy_without_error_struct_returns_the_real_code). */
SUP_UNUSED static int deploy(dt_engine *e, const char *text) {
    dt_error err;
    return dt_deploy(e, text, strlen(text), &err);
}

/* Without an error struct. */
SUP_UNUSED static int deploy_noerr(dt_engine *e, const char *text) { return dt_deploy(e, text, strlen(text), NULL); }

SUP_UNUSED static void sup_emit_fields(dt_engine *e, const char *name, int level, int64_t ts, uint64_t tid,
                                       const dt_field *f, uint32_t n) {
    dt_event ev;
    memset(&ev, 0, sizeof ev);
    ev.name = dt_cstr(name);
    ev.level = level;
    ev.ts = ts;
    ev.tid = tid;
    ev.fields = f;
    ev.nfields = n;
    dt_emit(e, &ev);
}

/* ts 0: stamped with the engine clock. */
SUP_UNUSED static void emit(dt_engine *e, const char *name, int level, int64_t ts) {
    sup_emit_fields(e, name, level, ts, 0, NULL, 0);
}

SUP_UNUSED static dt_stats stats(dt_engine *e) {
    dt_stats st;
    dt_get_stats(e, &st);
    return st;
}

/* FNV-1a 64, written from its definition so the tests do not trust dt.h
 * to check itself. */
SUP_UNUSED static uint64_t ref_fnv1a_n(const void *p, size_t n) {
    const unsigned char *s = (const unsigned char *)p;
    uint64_t h = 0xcbf29ce484222325ull;
    size_t i;
    for (i = 0; i < n; i++) {
        h ^= s[i];
        h *= 0x100000001b3ull;
    }
    return h;
}

SUP_UNUSED static uint64_t ref_fnv1a(const char *s) { return ref_fnv1a_n(s, strlen(s)); }

#endif
