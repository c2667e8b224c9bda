/* dt_logf.h — printf-style call sites for dt.                     v0.1.0
 *
 * Keeps the log calls a code base already has, printf format and all, and
 * turns each into a structured dt event:
 *
 *     DT_LOGF(DT_INFO, "ALLOC(%d bytes) for %s", size, name);
 *         -> event Logf_<16 hex digits>{arg0: i64 = size, arg1: str = name}
 *     DT_LOGF(DT_WARN, "slow query ms=%u table=%s", ms, table);
 *         -> event Logf_<...>{ms: u64, table: str}
 *     DT_LOGF_EVENT(DT_ERROR, "AllocFailed", "ALLOC(%zu bytes) failed", n);
 *         -> event AllocFailed{arg0: u64}
 *
 * Vendor this file beside dt.h. In exactly one C or C++ file:
 *
 *     #define DT_LOGF_IMPLEMENTATION
 *     #include "dt_logf.h"
 *
 * DURABLE IDs. The event name of a DT_LOGF site is "Logf_" followed by the
 * 16 lowercase hex digits of FNV-1a 64 over the format string's bytes, and
 * its durable ID is dt_id() of that name (docs/durable-ids.md). The ID
 * survives rebuilds, refactors and line moves, and changes only when the
 * format text changes. Two sites with the same format are the same event,
 * as they are to a reader of the log. With DT_LOGF_WITH_FILE=1 the hash is
 * over "<file name>:<format>" (the file name without directories, so build
 * paths do not matter): equal formats in different files become different
 * events, and moving a call to another file changes its ID. The event
 * catalog (dt_catalog_write) lists every name with its file:line, which is
 * how an operator finds the name to write in a program. DT_LOGF_EVENT names
 * the event explicitly instead.
 *
 * FIELDS. Each conversion becomes one typed field, in order:
 *   %d %i (with hh h l ll j z t)   i64      %u %x %X %o  u64
 *   %f %F %e %E %g %G %a %A (L)    f64      %s %.Ns %.*s str
 *   %c                             str (one byte)      %p u64 (address)
 * Width and precision stars consume their int as printf does. %n is never
 * written through (its pointer is consumed and ignored). A conversion right
 * after "NAME=" is named NAME ("user=%s" gives field user); the others are
 * arg0, arg1, ... by position among the fields. At most DT_LOGF_MAX_ARGS
 * fields: later conversions are not read (counted, dt_logf_truncated). An
 * unknown conversion ends the parse there.
 *
 * COST. The format is parsed once per call site, on its first execution,
 * and cached in the site's static record; after that a call costs what a
 * DT_EMIT with the same fields costs. When the site is off (nothing exports
 * or watches the event) the arguments are not evaluated: one relaxed load
 * and a branch. No allocation, no formatting (unless DT_LOGF_MESSAGE=1).
 *
 * THREADS. DT_LOGF is safe from any number of threads, like DT_EMIT. The
 * first executions of one site may race: one parses, the others wait for it
 * (the parse is linear in the format's length).
 *
 * LIMITS. The format must be a string literal (DT_LOGF checks this at
 * compile time). DT_LOGF sites are not listed in the linker section (their
 * names are computed on first execution), so the catalog shows them once
 * they have run.
 *
 * LICENSE: MIT, as dt.h. */
#ifndef DT_LOGF_H
#define DT_LOGF_H

#include "dt.h"
#include <stdarg.h>

/* Options (0/1 or a number, like dt.h's). */
#ifndef DT_LOGF_MAX_ARGS       /* fields one format may give (at most 32) */
#define DT_LOGF_MAX_ARGS 16
#endif
#ifndef DT_LOGF_WITH_FILE      /* 1: the ID also hashes the call site's file name */
#define DT_LOGF_WITH_FILE 0
#endif
#ifndef DT_LOGF_MESSAGE        /* 1: add a field "message" with the printf text */
#define DT_LOGF_MESSAGE 0
#endif
#ifndef DT_LOGF_MESSAGE_MAX    /* bytes of that message, truncated past it */
#define DT_LOGF_MESSAGE_MAX 256
#endif

#ifdef __cplusplus
extern "C" {
#endif

/* One va_list read the format asks for: what to read, and which field (if
 * any) it fills. */
typedef struct dt_logf_slot {
    uint8_t kind;            /* private: dt__logf_kind */
    uint8_t named;           /* 1: name_at/name_len index the format */
    uint16_t name_at, name_len;
    int16_t precision;       /* %.Ns: N; -1 none; -2 from the preceding star */
} dt_logf_slot;

/* A parsed format: its va_list reads in order. A field may need a width
 * and a precision star before it: three slots. */
typedef struct dt_logf_format {
    uint32_t nslots;
    uint32_t nfields;
    uint32_t truncated;      /* conversions past DT_LOGF_MAX_ARGS, not read */
    dt_logf_slot slots[3 * DT_LOGF_MAX_ARGS];
} dt_logf_format;

/* Per call site: the parsed format and the event name, filled on first use.
 * state: 0 not parsed, 1 being parsed, 2 ready. fmt NULL: set by the first
 * call. */
typedef struct dt_logf_cache {
    const char *fmt;
    const char *file;
    volatile uint32_t state;
    char name[24];           /* "Logf_" + 16 hex + NUL */
    dt_logf_format f;
} dt_logf_cache;

typedef struct dt_logf_site {
    dt_site site;
    dt_logf_cache cache;
} dt_logf_site;

/* Parses fmt (stops at an unknown conversion). Pure but for the counter. */
DT_API void dt_logf_parse(dt_logf_format *out, const char *fmt);

/* Writes "Logf_" and 16 hex digits for fmt (and file's name, with
 * DT_LOGF_WITH_FILE) into name[24]. Pure. */
DT_API void dt_logf_name(char name[24], const char *file, const char *fmt);

/* Makes the cache ready and returns the parse to use: the cached one, or
 * *local when this call's fmt is not the one cached (a non-literal format
 * through a shim). Thread-safe. */
DT_API const dt_logf_format *dt_logf_prepare(dt_logf_cache *c, const char *fmt, dt_logf_format *local);

/* Reads ap as f says into fields[DT_LOGF_MAX_ARGS + 1] (chars: one byte per
 * field for %c; msg: DT_LOGF_MESSAGE_MAX bytes for a "message" field, or
 * NULL). Returns the field count. Strings stay borrowed from the
 * arguments. ap is copied, not consumed. */
DT_API uint32_t dt_logf_fields(const dt_logf_format *f, const char *fmt, va_list ap, dt_field *fields,
                               char *chars, char *msg);

/* The out-of-line part of DT_LOGF: prepares the cache and emits through
 * the site if it is on. Thread-safe. */
DT_API void dt_logf_site_emit(dt_site *site, dt_logf_cache *c, const char *fmt, ...)
#if defined(__GNUC__) || defined(__clang__)
    __attribute__((format(printf, 3, 4)))
#endif
    ;
DT_API void dt_logf_site_emitv(dt_site *site, dt_logf_cache *c, const char *fmt, va_list ap);

/* A site's first execution: parses the format (the site's name comes from
 * it), then registers the site; nonzero when it is on. Keeps DT_LOGF from
 * evaluating the arguments of a site that turns out to be off. */
DT_API int dt_logf_first(dt_site *site, dt_logf_cache *c, const char *fmt);
static inline int dt_logf_ready(dt_site *site, dt_logf_cache *c, const char *fmt) {
    return DT_SITE_MODE(site) != DT_SITE_NEW || dt_logf_first(site, c, fmt);
}

/* For loggers without call sites of ours (a per-record hook): parses fmt
 * on every call and emits through e with a run-time level. file may be
 * NULL. Thread-safe. */
DT_API void dt_logf_emitv(dt_engine *e, int level, const char *file, const char *fmt, va_list ap);

/* Conversions dropped for DT_LOGF_MAX_ARGS since start, over all parses.
 * Thread-safe. */
DT_API uint64_t dt_logf_truncated(void);

#ifdef __cplusplus
}
#endif

#define DT_LOGF_CACHE_INIT(fmt) { (fmt), __FILE__, 0, {0}, {0, 0, 0, {{0, 0, 0, 0, 0}}} }

/* The "" before the format makes anything but a string literal a compile
 * error: the cache is per call site, keyed by that literal. A DT_LOGF site
 * points at its own cache's name buffer, filled by the first call. */
#define DT__LOGF_AT(level, evname, ...)                                                      \
    do {                                                                                      \
        static dt_logf_site dt__ls = { DT_SITE_INIT((level), (evname)),                       \
                                       DT_LOGF_CACHE_INIT("" DT_SITE_NAME(__VA_ARGS__)) };    \
        if (DT_UNLIKELY(DT_SITE_MODE(&dt__ls.site) != DT_SITE_OFF) &&                         \
            dt_logf_ready(&dt__ls.site, &dt__ls.cache, dt__ls.cache.fmt))                     \
            dt_logf_site_emit(&dt__ls.site, &dt__ls.cache, __VA_ARGS__);                      \
    } while (0)

/* DT_LOGF(level, "format", args...): level a constant, as for DT_EMIT. */
#define DT_LOGF(level, ...) DT__LOGF_AT(level, dt__ls.cache.name, __VA_ARGS__)
/* DT_LOGF_EVENT(level, "EventName", "format", args...): a chosen name. */
#define DT_LOGF_EVENT(level, evname, ...) DT__LOGF_AT(level, "" evname, __VA_ARGS__)

#endif /* DT_LOGF_H */

/* >>impl ================================================================== */
#if defined(DT_LOGF_IMPLEMENTATION) && !defined(DT_LOGF_IMPLEMENTED)
#define DT_LOGF_IMPLEMENTED

#include <stdio.h>

#if DT_NO_THREADS || !(defined(__GNUC__) || defined(__clang__))
#define DT__LOGF_LOAD_ACQ(p) (*(p))
#define DT__LOGF_STORE_REL(p, v) (*(p) = (v))
#define DT__LOGF_CLAIM(p) (*(p) == 0u ? (*(p) = 1u, 1) : 0)
#define DT__LOGF_ADD(p, n) (*(p) += (n))
#define DT__LOGF_LOAD(p) (*(p))
#else
#define DT__LOGF_LOAD_ACQ(p) __atomic_load_n((p), __ATOMIC_ACQUIRE)
#define DT__LOGF_STORE_REL(p, v) __atomic_store_n((p), (v), __ATOMIC_RELEASE)
#define DT__LOGF_CLAIM(p) dt__logf_claim(p)
#define DT__LOGF_ADD(p, n) __atomic_fetch_add((p), (n), __ATOMIC_RELAXED)
#define DT__LOGF_LOAD(p) __atomic_load_n((p), __ATOMIC_RELAXED)
static int dt__logf_claim(volatile uint32_t *p) {
    uint32_t expect = 0u;
    return __atomic_compare_exchange_n(p, &expect, 1u, 0, __ATOMIC_ACQUIRE, __ATOMIC_RELAXED);
}
#endif

enum dt__logf_kind {
    DT__LOGF_INT, DT__LOGF_SCHAR, DT__LOGF_SHORT, DT__LOGF_LONG, DT__LOGF_LLONG, DT__LOGF_INTMAX,
    DT__LOGF_SSIZE, DT__LOGF_PTRDIFF,
    DT__LOGF_UINT, DT__LOGF_UCHAR, DT__LOGF_USHORT, DT__LOGF_ULONG, DT__LOGF_ULLONG, DT__LOGF_UINTMAX,
    DT__LOGF_SIZE, DT__LOGF_UPTRDIFF,
    DT__LOGF_DOUBLE, DT__LOGF_LDOUBLE, DT__LOGF_STR, DT__LOGF_CHAR, DT__LOGF_PTR,
    DT__LOGF_WIDTH,          /* a '*' width: an int, no field */
    DT__LOGF_PREC,           /* a '*' precision: an int for the %s after it, no field */
    DT__LOGF_NPTR            /* %n: a pointer, consumed and ignored */
};

#define DT__LOGF_SLOTS (3u * DT_LOGF_MAX_ARGS)

static uint64_t dt__logf_stat_truncated;

/* Length modifiers, as an index into the kind tables: none hh h l ll j z t L. */
enum { DT__LM_NONE, DT__LM_HH, DT__LM_H, DT__LM_L, DT__LM_LL, DT__LM_J, DT__LM_Z, DT__LM_T, DT__LM_BIGL };

static const char *dt__logf_length(const char *p, int *lm) {
    *lm = DT__LM_NONE;
    switch (*p) {
    case 'h': if (p[1] == 'h') { *lm = DT__LM_HH; return p + 2; } *lm = DT__LM_H; return p + 1;
    case 'l': if (p[1] == 'l') { *lm = DT__LM_LL; return p + 2; } *lm = DT__LM_L; return p + 1;
    case 'q': *lm = DT__LM_LL; return p + 1;
    case 'j': *lm = DT__LM_J; return p + 1;
    case 'z': *lm = DT__LM_Z; return p + 1;
    case 't': *lm = DT__LM_T; return p + 1;
    case 'L': *lm = DT__LM_BIGL; return p + 1;
    default: return p;
    }
}

/* The kind of a conversion with a length modifier; -1 for an unknown one. */
static int dt__logf_kind_of(char conv, int lm) {
    static const uint8_t sint[] = { DT__LOGF_INT, DT__LOGF_SCHAR, DT__LOGF_SHORT, DT__LOGF_LONG, DT__LOGF_LLONG,
                                    DT__LOGF_INTMAX, DT__LOGF_SSIZE, DT__LOGF_PTRDIFF, DT__LOGF_LLONG };
    static const uint8_t uint[] = { DT__LOGF_UINT, DT__LOGF_UCHAR, DT__LOGF_USHORT, DT__LOGF_ULONG, DT__LOGF_ULLONG,
                                    DT__LOGF_UINTMAX, DT__LOGF_SIZE, DT__LOGF_UPTRDIFF, DT__LOGF_ULLONG };
    switch (conv) {
    case 'd': case 'i': return sint[lm];
    case 'u': case 'x': case 'X': case 'o': return uint[lm];
    case 'f': case 'F': case 'e': case 'E': case 'g': case 'G': case 'a': case 'A':
        return lm == DT__LM_BIGL ? DT__LOGF_LDOUBLE : DT__LOGF_DOUBLE;
    case 's': return DT__LOGF_STR;
    case 'c': return DT__LOGF_CHAR;
    case 'p': return DT__LOGF_PTR;
    case 'n': return DT__LOGF_NPTR;
    default: return -1;
    }
}

static int dt__logf_name_char(char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' || c == '.';
}

/* "NAME=%..." names the field: NAME is the run of name characters (at most
 * DT_MAX_NAME) before the '=' right before the '%' at pct. */
static void dt__logf_name_before(dt_logf_slot *s, const char *fmt, const char *pct) {
    const char *end = pct - 1, *at;
    if (pct == fmt || *end != '=') return;
    at = end;
    while (at > fmt && dt__logf_name_char(at[-1]) && end - at < DT_MAX_NAME) at--;
    if (at == end || at - fmt > 0xffff) return;
    if (at > fmt && at[-1] == '%') return;   /* "%s=%d": that run is a conversion, not a name */
    s->named = 1;
    s->name_at = (uint16_t)(at - fmt);
    s->name_len = (uint16_t)(end - at);
}

static int dt__logf_is_field(int kind) { return kind < DT__LOGF_WIDTH; }

static void dt__logf_add(dt_logf_format *out, int kind, int precision) {
    dt_logf_slot *s = &out->slots[out->nslots++];
    memset(s, 0, sizeof *s);
    s->kind = (uint8_t)kind;
    s->precision = (int16_t)precision;
    if (dt__logf_is_field(kind)) out->nfields++;
}

/* Reads digits, saturating at 9999 (no log line is longer). */
static const char *dt__logf_digits(const char *p, int *n) {
    *n = 0;
    while (*p >= '0' && *p <= '9') { if (*n < 9999) *n = *n * 10 + (*p - '0'); p++; }
    return p;
}

/* Parses one conversion after its '%' and adds its slots; returns the byte
 * after it, or NULL for an unknown conversion. Once one conversion finds no
 * room, no later one is read either: the va_list is read in order. */
static const char *dt__logf_conversion(dt_logf_format *out, const char *fmt, const char *pct) {
    const char *p = pct + 1;
    int lm, kind, prec = -1, n, wstar = 0;
    while (*p && strchr("-+ #0'", *p)) p++;
    if (*p == '*') { p++; wstar = 1; }
    else p = dt__logf_digits(p, &n);
    if (*p == '.') {
        p++;
        if (*p == '*') { p++; prec = -2; }
        else { p = dt__logf_digits(p, &n); prec = n; }
    }
    p = dt__logf_length(p, &lm);
    kind = dt__logf_kind_of(*p, lm);
    if (kind < 0) return NULL;
    if (out->truncated || out->nfields >= DT_LOGF_MAX_ARGS || out->nslots + 3u > DT__LOGF_SLOTS) {
        out->truncated++;
        return p + 1;
    }
    if (wstar) dt__logf_add(out, DT__LOGF_WIDTH, -1);
    if (prec == -2) dt__logf_add(out, DT__LOGF_PREC, -1);
    dt__logf_add(out, kind, kind == DT__LOGF_STR ? prec : -1);
    if (dt__logf_is_field(kind)) dt__logf_name_before(&out->slots[out->nslots - 1], fmt, pct);
    return p + 1;
}

DT_API void dt_logf_parse(dt_logf_format *out, const char *fmt) {
    const char *p = fmt;
    memset(out, 0, sizeof *out);
    while (p && *p) {
        if (*p != '%') { p++; continue; }
        if (p[1] == '%') { p += 2; continue; }
        p = dt__logf_conversion(out, fmt, p);
    }
    if (out->truncated) DT__LOGF_ADD(&dt__logf_stat_truncated, (uint64_t)out->truncated);
}

/* FNV-1a 64 over a run of bytes, continuing from h (docs/durable-ids.md). */
static uint64_t dt__logf_fnv(uint64_t h, const char *p, size_t n) {
    size_t i;
    for (i = 0; i < n; i++) { h ^= (unsigned char)p[i]; h *= 0x100000001b3ull; }
    return h;
}

static const char *dt__logf_basename(const char *file) {
    const char *p, *base = file;
    for (p = file; *p; p++) if (*p == '/' || *p == '\\') base = p + 1;
    return base;
}

DT_API void dt_logf_name(char name[24], const char *file, const char *fmt) {
    static const char hex[] = "0123456789abcdef";
    uint64_t h = 0xcbf29ce484222325ull;
    int i;
    if (DT_LOGF_WITH_FILE && file) {
        const char *base = dt__logf_basename(file);
        h = dt__logf_fnv(h, base, strlen(base));
        h = dt__logf_fnv(h, ":", 1);
    }
    h = dt__logf_fnv(h, fmt, strlen(fmt));
    memcpy(name, "Logf_", 5);
    for (i = 0; i < 16; i++) name[5 + i] = hex[(h >> (60 - 4 * i)) & 15u];
    name[21] = 0;
}

DT_API const dt_logf_format *dt_logf_prepare(dt_logf_cache *c, const char *fmt, dt_logf_format *local) {
    if (DT__LOGF_LOAD_ACQ(&c->state) != 2u) {
        if (DT__LOGF_CLAIM(&c->state)) {
            if (!c->fmt) c->fmt = fmt;     /* a shim's site: the first format it sees */
            dt_logf_parse(&c->f, c->fmt);
            dt_logf_name(c->name, c->file, c->fmt);
            DT__LOGF_STORE_REL(&c->state, 2u);
        } else {
            while (DT__LOGF_LOAD_ACQ(&c->state) != 2u) { /* another thread parses: bounded work */ }
        }
    }
    if (fmt == c->fmt) return &c->f;
    dt_logf_parse(local, fmt);
    return local;
}

static size_t dt__logf_strlen(const char *s, int precision) {
    const char *end;
    if (precision < 0) return strlen(s);
    end = (const char *)memchr(s, 0, (size_t)precision);
    return end ? (size_t)(end - s) : (size_t)precision;
}

/* Reads one integer slot as printf would convert it: 1 for a signed value
 * (in *i), 0 for an unsigned one (in *u). */
static int dt__logf_read_int(int kind, va_list *ap, int64_t *i, uint64_t *u) {
    switch (kind) {
    case DT__LOGF_INT: *i = va_arg(*ap, int); return 1;
    case DT__LOGF_SCHAR: *i = (signed char)va_arg(*ap, int); return 1;
    case DT__LOGF_SHORT: *i = (short)va_arg(*ap, int); return 1;
    case DT__LOGF_LONG: *i = va_arg(*ap, long); return 1;
    case DT__LOGF_LLONG: *i = va_arg(*ap, long long); return 1;
    case DT__LOGF_INTMAX: *i = (int64_t)va_arg(*ap, intmax_t); return 1;
    case DT__LOGF_SSIZE: *i = (int64_t)va_arg(*ap, size_t); return 1;
    case DT__LOGF_PTRDIFF: *i = (int64_t)va_arg(*ap, ptrdiff_t); return 1;
    case DT__LOGF_UINT: *u = va_arg(*ap, unsigned); return 0;
    case DT__LOGF_UCHAR: *u = (unsigned char)va_arg(*ap, unsigned); return 0;
    case DT__LOGF_USHORT: *u = (unsigned short)va_arg(*ap, unsigned); return 0;
    case DT__LOGF_ULONG: *u = va_arg(*ap, unsigned long); return 0;
    case DT__LOGF_ULLONG: *u = va_arg(*ap, unsigned long long); return 0;
    case DT__LOGF_UINTMAX: *u = (uint64_t)va_arg(*ap, uintmax_t); return 0;
    case DT__LOGF_SIZE: *u = (uint64_t)va_arg(*ap, size_t); return 0;
    default: *u = (uint64_t)va_arg(*ap, ptrdiff_t); return 0;
    }
}

/* Reads one slot into *v (type NULL for slots that are no field). *star:
 * the last '*' precision read, for the %.*s after it. */
static void dt__logf_read(const dt_logf_slot *s, va_list *ap, dt_value *v, char *ch, int *star) {
    const char *str;
    v->type = DT_TYPE_NULL;
    switch (s->kind) {
    case DT__LOGF_WIDTH: (void)va_arg(*ap, int); return;
    case DT__LOGF_PREC: *star = va_arg(*ap, int); return;
    case DT__LOGF_NPTR: (void)va_arg(*ap, void *); return;
    case DT__LOGF_DOUBLE: v->type = DT_TYPE_F64; v->as.f64 = va_arg(*ap, double); return;
    case DT__LOGF_LDOUBLE: v->type = DT_TYPE_F64; v->as.f64 = (double)va_arg(*ap, long double); return;
    case DT__LOGF_PTR: v->type = DT_TYPE_U64; v->as.u64 = (uint64_t)(uintptr_t)va_arg(*ap, void *); return;
    case DT__LOGF_CHAR: *ch = (char)va_arg(*ap, int); v->type = DT_TYPE_STR; v->as.str = dt_strn(ch, 1); return;
    case DT__LOGF_STR:
        str = va_arg(*ap, const char *);
        if (!str) str = "(null)";     /* what glibc prints, so the field matches the text */
        v->type = DT_TYPE_STR;
        v->as.str = dt_strn(str, dt__logf_strlen(str, s->precision == -2 ? *star : s->precision));
        return;
    default:
        v->type = dt__logf_read_int(s->kind, ap, &v->as.i64, &v->as.u64) ? DT_TYPE_I64 : DT_TYPE_U64;
        return;
    }
}

static dt_str dt__logf_field_name(const dt_logf_slot *s, const char *fmt, uint32_t index) {
    static const char *const positional[] = { "arg0", "arg1", "arg2", "arg3", "arg4", "arg5", "arg6", "arg7",
                                              "arg8", "arg9", "arg10", "arg11", "arg12", "arg13", "arg14",
                                              "arg15", "arg16", "arg17", "arg18", "arg19", "arg20", "arg21",
                                              "arg22", "arg23", "arg24", "arg25", "arg26", "arg27", "arg28",
                                              "arg29", "arg30", "arg31" };
    if (s->named) return dt_strn(fmt + s->name_at, s->name_len);
    if (index < sizeof positional / sizeof positional[0]) return dt_cstr(positional[index]);
    return dt_cstr("argN");
}

DT_API uint32_t dt_logf_fields(const dt_logf_format *f, const char *fmt, va_list ap, dt_field *fields,
                               char *chars, char *msg) {
    uint32_t i, n = 0;
    int star = 0;
    va_list rd;
    va_copy(rd, ap);
    for (i = 0; i < f->nslots; i++) {
        dt_value v;
        dt__logf_read(&f->slots[i], &rd, &v, &chars[n], &star);
        if (v.type == DT_TYPE_NULL) continue;
        fields[n].name = dt__logf_field_name(&f->slots[i], fmt, n);
        fields[n].value = v;
        n++;
    }
    va_end(rd);
    if (msg) {
        va_copy(rd, ap);
        (void)vsnprintf(msg, DT_LOGF_MESSAGE_MAX, fmt, rd);
        va_end(rd);
        fields[n++] = dt_field_str("message", msg);
    }
    return n;
}

#if DT_LOGF_MESSAGE
#define DT__LOGF_MSG(buf) char buf[DT_LOGF_MESSAGE_MAX]
#define DT__LOGF_MSG_PTR(buf) (buf)
#else
#define DT__LOGF_MSG(buf) char buf[1]
#define DT__LOGF_MSG_PTR(buf) ((void)(buf), (char *)NULL)
#endif

DT_API void dt_logf_site_emitv(dt_site *site, dt_logf_cache *c, const char *fmt, va_list ap) {
    dt_logf_format local;
    dt_field fields[DT_LOGF_MAX_ARGS + 1];
    char chars[DT_LOGF_MAX_ARGS];
    DT__LOGF_MSG(msg);
    const dt_logf_format *f = dt_logf_prepare(c, fmt, &local);   /* first: the site's name lives here */
    uint32_t n;
    if (!dt_site_ready(site)) return;   /* called without dt_logf_ready: registers here */
    n = dt_logf_fields(f, fmt, ap, fields, chars, DT__LOGF_MSG_PTR(msg));
    dt_site_emit(site, fields, n);
}

DT_API int dt_logf_first(dt_site *site, dt_logf_cache *c, const char *fmt) {
    dt_logf_format local;
    (void)dt_logf_prepare(c, fmt, &local);
    return dt_site_first(site);
}

DT_API void dt_logf_site_emit(dt_site *site, dt_logf_cache *c, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    dt_logf_site_emitv(site, c, fmt, ap);
    va_end(ap);
}

DT_API void dt_logf_emitv(dt_engine *e, int level, const char *file, const char *fmt, va_list ap) {
    dt_logf_format f;
    dt_field fields[DT_LOGF_MAX_ARGS + 1];
    char chars[DT_LOGF_MAX_ARGS], name[24];
    DT__LOGF_MSG(msg);
    dt_event ev;
    if (!e || !fmt) return;
    dt_logf_parse(&f, fmt);
    dt_logf_name(name, file, fmt);
    memset(&ev, 0, sizeof ev);
    ev.name = dt_cstr(name);
    ev.level = level;
    ev.fields = fields;
    ev.nfields = dt_logf_fields(&f, fmt, ap, fields, chars, DT__LOGF_MSG_PTR(msg));
    dt_emit(e, &ev);
}

DT_API uint64_t dt_logf_truncated(void) { return DT__LOGF_LOAD(&dt__logf_stat_truncated); }

#endif /* DT_LOGF_IMPLEMENTATION */
