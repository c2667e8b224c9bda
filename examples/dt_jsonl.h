/* dt_jsonl.h — JSON and JSON Lines for dt's tools                 v0.1.0
 *
 * The bounded JSON reader and the JSON writer behind the `dt` command-line
 * tool (examples/dt_cli.c) and its fuzz target (fuzz/fuzz_jsonl.c). It is not
 * part of the engine: the engine does no I/O and never sees JSON.
 *
 * DO THIS: include dt.h first, then this header, in as many files as you
 * like. Every function is static, so there is no implementation macro;
 * functions a file does not call cost nothing and do not warn.
 *
 *     #include "dt.h"
 *     #include "dt_jsonl.h"
 *
 * CONTENTS (grep for the >> markers)
 *     >>arena    all memory comes from a caller-provided byte buffer
 *     >>reader   RFC 8259 plus the number tokens NaN, Infinity, -Infinity
 *     >>dom      dtj_parse and accessors (used for the event catalog)
 *     >>events   dtj_read_event: one JSON-Lines input event (docs/cli.md)
 *     >>writer   JSON output that is valid whatever bytes it is given
 *
 * HOSTILE INPUT: any bytes are accepted without undefined behaviour: no read
 * past len, no recursion deeper than DTJ_MAX_DEPTH containers, no memory
 * beyond the arena. Errors carry a 1-based byte column and a short reason.
 * Invalid UTF-8 inside strings is kept byte for byte by the reader (telemetry
 * is often not clean text) and replaced with U+FFFD by the writer, so what
 * the writer produces is always valid JSON.
 *
 * LOCALE: numbers go through strtod and snprintf, which follow LC_NUMERIC;
 * a program that calls setlocale must leave LC_NUMERIC as "C".
 *
 * THREADS: no global state; every function uses only its arguments, so
 * calls on different arenas and writers may run in parallel.
 */
#ifndef DT_JSONL_H
#define DT_JSONL_H

#ifndef DT_H
#error "dt_jsonl.h needs dt.h: include dt.h first"
#endif

#include <float.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Containers nested deeper than this are an error, which also bounds the
 * reader's recursion. */
#ifndef DTJ_MAX_DEPTH
#define DTJ_MAX_DEPTH 32
#endif

#if defined(__GNUC__) || defined(__clang__)
#define DTJ__FN static __attribute__((unused))
#define DTJ__PRINTF(fmt, args) __attribute__((format(printf, fmt, args)))
#else
#define DTJ__FN static
#define DTJ__PRINTF(fmt, args)
#endif

/* >>arena -----------------------------------------------------------------
 * A bump allocator over a byte buffer the caller owns. Nothing is freed one
 * by one: reset `used` (or re-init) to reuse the buffer for the next line. */
typedef struct dtj_arena {
    unsigned char *base;
    size_t size;
    size_t used;
} dtj_arena;

DTJ__FN void dtj_arena_init(dtj_arena *a, void *buf, size_t size) {
    a->base = (unsigned char *)buf;
    a->size = buf ? size : 0;
    a->used = 0;
}

/* The strictest alignment the DOM's nodes need. */
typedef union dtj__align {
    void *p;
    double d;
    int64_t i;
    size_t z;
} dtj__align;

/* NULL when the arena is full; never partially allocates. */
DTJ__FN void *dtj__alloc(dtj_arena *a, size_t size, size_t align) {
    uintptr_t at;
    size_t pad;
    if (!a || !a->base || a->used > a->size) return NULL;
    at = (uintptr_t)(a->base + a->used);
    pad = (size_t)((align - at % align) % align);
    if (pad > a->size - a->used || size > a->size - a->used - pad) return NULL;
    a->used += pad + size;
    return a->base + (a->used - size);
}

/* >>reader ----------------------------------------------------------------*/

typedef struct dtj_error {
    size_t column;           /* 1-based byte offset of the problem in the text */
    char reason[200];
} dtj_error;

/* How a number literal reads. Integer literals (no fraction, no exponent)
 * keep their exact value when it fits 64 bits; `f` is always the nearest
 * double. */
typedef enum dtj_num_kind {
    DTJ_NUM_INT = 1,         /* fits int64: i (and u too when >= 0) */
    DTJ_NUM_UINT = 2,        /* above INT64_MAX, fits uint64: u */
    DTJ_NUM_BIGINT = 3,      /* integer literal beyond 64 bits: f only */
    DTJ_NUM_FLOAT = 4        /* fraction, exponent, NaN or Infinity: f */
} dtj_num_kind;

typedef struct dtj_number {
    dtj_num_kind kind;
    int64_t i;
    uint64_t u;
    double f;
    int overflow;            /* a finite literal too large for a double (f is ±inf) */
    dt_str text;             /* the literal as written */
} dtj_number;

typedef struct dtj__parser {
    const unsigned char *s;
    size_t n, i;
    dtj_arena *arena;
    dtj_error *err;
    const char *end;         /* what running out is called: "line" or "input" */
} dtj__parser;

DTJ__FN void dtj__init(dtj__parser *p, const char *text, size_t len, dtj_arena *a, dtj_error *err) {
    p->s = (const unsigned char *)text;
    p->n = text ? len : 0;
    p->i = 0;
    p->arena = a;
    p->err = err;
    p->end = "input";
    if (err) {
        err->column = 0;
        err->reason[0] = '\0';
    }
}

/* Records an error. Every caller returns at once on the first one, so there
 * is never a second to keep out. */
DTJ__FN DTJ__PRINTF(3, 4) int dtj__fail(dtj__parser *p, size_t at, const char *fmt, ...) {
    va_list ap;
    if (p->err) {
        p->err->column = at + 1;
        va_start(ap, fmt);
        vsnprintf(p->err->reason, sizeof p->err->reason, fmt, ap);
        va_end(ap);
    }
    return -1;
}

DTJ__FN int dtj__nomem(dtj__parser *p, size_t at) {
    return dtj__fail(p, at, "out of memory (the arena of %lu bytes is full)",
                     (unsigned long)(p->arena ? p->arena->size : 0));
}

/* "unexpected X (expected W)", naming the byte so that a reader of the
 * message can find it even when it is invisible. */
DTJ__FN int dtj__unexpected(dtj__parser *p, const char *wanted) {
    unsigned c;
    if (p->i >= p->n) return dtj__fail(p, p->i, "unexpected end of %s (expected %s)", p->end, wanted);
    c = p->s[p->i];
    if (c > 0x20 && c < 0x7f) return dtj__fail(p, p->i, "unexpected '%c' (expected %s)", (int)c, wanted);
    return dtj__fail(p, p->i, "unexpected byte 0x%02X (expected %s)", c, wanted);
}

DTJ__FN void dtj__ws(dtj__parser *p) {
    while (p->i < p->n) {
        unsigned char c = p->s[p->i];
        if (c != ' ' && c != '\t' && c != '\n' && c != '\r') break;
        p->i++;
    }
}

DTJ__FN int dtj__peek(const dtj__parser *p) { return p->i < p->n ? (int)p->s[p->i] : -1; }

DTJ__FN int dtj__is_digit(int c) { return c >= '0' && c <= '9'; }

DTJ__FN int dtj__starts(const dtj__parser *p, const char *word) {
    size_t k = strlen(word);
    return p->n - p->i >= k && memcmp(p->s + p->i, word, k) == 0;
}

/* Four hex digits at s[i..end); i <= end (callers saw "\\u" before i). */
DTJ__FN long dtj__hex4(const unsigned char *s, size_t i, size_t end) {
    long v = 0;
    size_t k;
    if (end - i < 4) return -1;
    for (k = i; k < i + 4; k++) {
        int c = s[k], d;
        if (c >= '0' && c <= '9') d = c - '0';
        else if (c >= 'a' && c <= 'f') d = c - 'a' + 10;
        else if (c >= 'A' && c <= 'F') d = c - 'A' + 10;
        else return -1;
        v = v * 16 + d;
    }
    return v;
}

/* Encodes a code point (not a surrogate, <= 0x10FFFF); returns its length. */
DTJ__FN size_t dtj__utf8_put(unsigned char *out, uint32_t cp) {
    if (cp < 0x80) {
        out[0] = (unsigned char)cp;
        return 1;
    }
    if (cp < 0x800) {
        out[0] = (unsigned char)(0xC0 | (cp >> 6));
        out[1] = (unsigned char)(0x80 | (cp & 0x3F));
        return 2;
    }
    if (cp < 0x10000) {
        out[0] = (unsigned char)(0xE0 | (cp >> 12));
        out[1] = (unsigned char)(0x80 | ((cp >> 6) & 0x3F));
        out[2] = (unsigned char)(0x80 | (cp & 0x3F));
        return 3;
    }
    out[0] = (unsigned char)(0xF0 | (cp >> 18));
    out[1] = (unsigned char)(0x80 | ((cp >> 12) & 0x3F));
    out[2] = (unsigned char)(0x80 | ((cp >> 6) & 0x3F));
    out[3] = (unsigned char)(0x80 | (cp & 0x3F));
    return 4;
}

/* Length of the well-formed UTF-8 sequence at p (Unicode table 3-7: no
 * overlong forms, no surrogates, nothing above U+10FFFF), 0 if there is
 * none. */
DTJ__FN size_t dtj_utf8_len(const unsigned char *p, size_t n) {
    unsigned c = n ? p[0] : 0u, lo = 0x80, hi = 0xBF;
    size_t len, k;
    if (n == 0) return 0;
    if (c < 0x80) return 1;
    if (c >= 0xC2 && c <= 0xDF) len = 2;
    else if (c >= 0xE0 && c <= 0xEF) len = 3;
    else if (c >= 0xF0 && c <= 0xF4) len = 4;
    else return 0;
    if (c == 0xE0) lo = 0xA0;
    if (c == 0xED) hi = 0x9F;
    if (c == 0xF0) lo = 0x90;
    if (c == 0xF4) hi = 0x8F;
    if (n < len) return 0;
    if (p[1] < lo || p[1] > hi) return 0;
    for (k = 2; k < len; k++)
        if (p[k] < 0x80 || p[k] > 0xBF) return 0;
    return len;
}

/* One escape sequence at s[*i] (a backslash) inside [.., end): appends its
 * bytes to out and advances *i. The output is never longer than the escape
 * (\uXXXX gives at most 3 bytes, a surrogate pair 4 for 12), so a buffer the
 * size of the raw string always suffices. */
DTJ__FN int dtj__escape(dtj__parser *p, size_t *i, size_t end, unsigned char *out, size_t *len) {
    const unsigned char *s = p->s;
    size_t at = *i;
    long cp, lo;
    static const char written[] = "\"\\/bfnrt";
    static const char decoded[] = "\"\\/\b\f\n\r\t";
    int e = s[at + 1];       /* dtj__string never ends a string on an escaped byte: at + 1 < end */
    const char *simple = e != 0 ? strchr(written, e) : NULL;
    if (simple) {
        out[(*len)++] = (unsigned char)decoded[simple - written];
        *i = at + 2;
        return 0;
    }
    if (e != 'u') {
        if (e > 0x20 && e < 0x7f) return dtj__fail(p, at, "invalid escape '\\%c'", e);
        return dtj__fail(p, at, "invalid escape: '\\' followed by byte 0x%02X", (unsigned)e);
    }
    cp = dtj__hex4(s, at + 2, end);
    if (cp < 0) return dtj__fail(p, at, "\\u must be followed by 4 hex digits");
    at += 6;
    if (cp >= 0xD800 && cp <= 0xDBFF) {
        /* A high surrogate only counts with the low one right after it;
         * alone it is not a character, so it becomes U+FFFD. */
        lo = (at + 1 < end && s[at] == '\\' && s[at + 1] == 'u') ? dtj__hex4(s, at + 2, end) : -1;
        if (lo >= 0xDC00 && lo <= 0xDFFF) {
            cp = 0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00);
            at += 6;
        } else {
            cp = 0xFFFD;
        }
    } else if (cp >= 0xDC00 && cp <= 0xDFFF) {
        cp = 0xFFFD;
    }
    *len += dtj__utf8_put(out + *len, (uint32_t)cp);
    *i = at;
    return 0;
}

/* The string whose opening quote is at p->i. copy = 0 borrows the input
 * bytes when there is no escape; copy = 1 always copies into the arena and
 * adds a NUL (the string may still hold NULs of its own from \u0000). */
DTJ__FN int dtj__string(dtj__parser *p, int copy, dt_str *out) {
    const unsigned char *s = p->s;
    size_t start = p->i + 1, i = start, end, len = 0;
    int escaped = 0;
    unsigned char *buf;
    while (i < p->n && s[i] != '"') {
        if (s[i] == '\\') {
            escaped = 1;
            i += 2;          /* the escaped byte can never close the string */
            continue;
        }
        if (s[i] < 0x20)
            return dtj__fail(p, i, "control byte 0x%02X in a string (write it as \\u%04X)",
                             (unsigned)s[i], (unsigned)s[i]);
        i++;
    }
    if (i >= p->n) return dtj__fail(p, p->i, "unterminated string");
    end = i;
    if (!escaped && !copy) {
        *out = dt_strn((const char *)s + start, end - start);
        p->i = end + 1;
        return 0;
    }
    buf = (unsigned char *)dtj__alloc(p->arena, end - start + 1, 1);
    if (!buf) return dtj__nomem(p, p->i);
    for (i = start; i < end;) {
        if (s[i] != '\\') buf[len++] = s[i++];
        else if (dtj__escape(p, &i, end, buf, &len)) return -1;
    }
    buf[len] = '\0';
    *out = dt_strn((const char *)buf, len);
    p->i = end + 1;
    return 0;
}

/* The nearest double to the literal s[start, end), by strtod (correctly
 * rounded on the C libraries dt targets). strtod needs a NUL, so long
 * literals borrow the arena for a moment. */
DTJ__FN int dtj__to_double(dtj__parser *p, size_t start, size_t end, dtj_number *out) {
    char small[64], *tmp = small;
    size_t len = end - start, mark = p->arena ? p->arena->used : 0;
    if (len >= sizeof small) {
        tmp = (char *)dtj__alloc(p->arena, len + 1, 1);
        if (!tmp) return dtj__nomem(p, start);
    }
    memcpy(tmp, p->s + start, len);
    tmp[len] = '\0';
    out->f = strtod(tmp, NULL);
    out->overflow = out->f > DBL_MAX || out->f < -DBL_MAX;
    if (p->arena) p->arena->used = mark;
    return 0;
}

/* Digits from s[*i]; returns how many there were. */
DTJ__FN size_t dtj__digits(const dtj__parser *p, size_t *i) {
    size_t start = *i;
    while (*i < p->n && dtj__is_digit(p->s[*i])) (*i)++;
    return *i - start;
}

DTJ__FN int dtj__special_number(dtj__parser *p, dtj_number *out) {
    static const char *const words[3] = {"NaN", "Infinity", "-Infinity"};
    int k;
    for (k = 0; k < 3; k++) {
        if (!dtj__starts(p, words[k])) continue;
        out->kind = DTJ_NUM_FLOAT;
        out->f = k == 0 ? (double)NAN : k == 1 ? (double)INFINITY : -(double)INFINITY;
        out->text = dt_strn((const char *)p->s + p->i, strlen(words[k]));
        p->i += strlen(words[k]);
        return 1;
    }
    return 0;
}

/* A number at p->i: -?(0|[1-9][0-9]*)(.[0-9]+)?([eE][+-]?[0-9]+)?, or NaN,
 * Infinity, -Infinity. */
DTJ__FN int dtj__number(dtj__parser *p, dtj_number *out) {
    size_t start = p->i, i = p->i;
    int neg = 0, is_float = 0, big = 0;
    uint64_t mag = 0;
    memset(out, 0, sizeof *out);
    if (dtj__special_number(p, out)) return 0;
    if (p->s[i] == '-') neg = 1, i++;   /* dtj__scalar saw a byte of a number at i */
    if (i < p->n && p->s[i] == '0' && i + 1 < p->n && dtj__is_digit(p->s[i + 1]))
        return dtj__fail(p, i, "numbers must not have leading zeros");
    for (; i < p->n && dtj__is_digit(p->s[i]); i++) {
        uint64_t d = (uint64_t)(p->s[i] - '0');
        if (mag > (UINT64_MAX - d) / 10) big = 1;
        else mag = mag * 10 + d;
    }
    if (i == start + (size_t)neg) {
        p->i = i;
        return dtj__unexpected(p, neg ? "a digit after '-'" : "a value");
    }
    if (i < p->n && p->s[i] == '.') {
        i++;
        is_float = 1;
        if (dtj__digits(p, &i) == 0) return p->i = i, dtj__unexpected(p, "a digit after '.'");
    }
    if (i < p->n && (p->s[i] == 'e' || p->s[i] == 'E')) {
        i++;
        is_float = 1;
        if (i < p->n && (p->s[i] == '+' || p->s[i] == '-')) i++;
        if (dtj__digits(p, &i) == 0) return p->i = i, dtj__unexpected(p, "a digit in the exponent");
    }
    out->text = dt_strn((const char *)p->s + start, i - start);
    p->i = i;
    if (!is_float && !big && !neg) {
        out->kind = mag <= (uint64_t)INT64_MAX ? DTJ_NUM_INT : DTJ_NUM_UINT;
        out->u = mag;
        out->i = (int64_t)(mag & (uint64_t)INT64_MAX);
        out->f = (double)mag;
        return 0;
    }
    if (!is_float && !big && mag <= (uint64_t)INT64_MAX + 1u) {
        out->kind = DTJ_NUM_INT;
        /* -(INT64_MAX + 1) is representable, its magnitude as int64 is not */
        out->i = mag == (uint64_t)INT64_MAX + 1u ? INT64_MIN : -(int64_t)mag;
        out->f = (double)out->i;
        return 0;
    }
    out->kind = is_float ? DTJ_NUM_FLOAT : DTJ_NUM_BIGINT;
    return dtj__to_double(p, start, i, out);
}

/* What dtj__scalar found. */
typedef enum dtj__tok_kind {
    DTJ__T_STRING = 1,
    DTJ__T_NUMBER,
    DTJ__T_TRUE,
    DTJ__T_FALSE,
    DTJ__T_NULL,
    DTJ__T_OBJECT,           /* at '{', not consumed */
    DTJ__T_ARRAY             /* at '[', not consumed */
} dtj__tok_kind;

typedef struct dtj__tok {
    dtj__tok_kind kind;
    size_t at;               /* offset of the token */
    dt_str str;
    dtj_number num;
} dtj__tok;

/* Reads one scalar at p->i, or stops in front of a container and says
 * which, so that callers choose how (and whether) to descend. */
DTJ__FN int dtj__scalar(dtj__parser *p, int copy, dtj__tok *t) {
    int c;
    dtj__ws(p);
    c = dtj__peek(p);
    t->at = p->i;
    if (c == '"') return t->kind = DTJ__T_STRING, dtj__string(p, copy, &t->str);
    if (c == '{') return t->kind = DTJ__T_OBJECT, 0;
    if (c == '[') return t->kind = DTJ__T_ARRAY, 0;
    if (c == '-' || dtj__is_digit(c) || c == 'N' || c == 'I')
        return t->kind = DTJ__T_NUMBER, dtj__number(p, &t->num);
    if (dtj__starts(p, "true")) return t->kind = DTJ__T_TRUE, p->i += 4, 0;
    if (dtj__starts(p, "false")) return t->kind = DTJ__T_FALSE, p->i += 5, 0;
    if (dtj__starts(p, "null")) return t->kind = DTJ__T_NULL, p->i += 4, 0;
    return dtj__unexpected(p, "a value");
}

/* >>dom -------------------------------------------------------------------
 * A parsed document: a tree of nodes in the arena. Strings are copies,
 * NUL-terminated (so they can go straight to C APIs; check for embedded NULs
 * if that matters). Children are a linked list (first, next): indexing is
 * O(n), which suits small documents like the catalog. Duplicate keys are
 * kept; dtj_get returns the first. */
typedef enum dtj_kind {
    DTJ_NULL = 0,
    DTJ_BOOL,
    DTJ_NUMBER,
    DTJ_STRING,
    DTJ_ARRAY,
    DTJ_OBJECT
} dtj_kind;

typedef struct dtj_value dtj_value;
struct dtj_value {
    dtj_kind kind;
    uint32_t count;          /* ARRAY, OBJECT: number of children */
    size_t column;           /* 1-based byte offset of the value in the text */
    dt_str key;              /* a member's key; empty in arrays and at the root */
    dtj_value *next;         /* next sibling */
    union {
        int b;               /* BOOL */
        dtj_number num;      /* NUMBER */
        dt_str str;          /* STRING */
        dtj_value *first;    /* ARRAY, OBJECT */
    } as;
};

/* Worst-case arena bytes for parsing len bytes: every byte a node plus every
 * byte copied twice. Real documents need far less; callers can start small
 * and retry with more on "out of memory". SIZE_MAX if it overflows. */
DTJ__FN size_t dtj_parse_arena_size(size_t len) {
    size_t per = sizeof(dtj_value) + sizeof(dtj__align) + 2;
    if (len > (SIZE_MAX - 256) / per) return SIZE_MAX;
    return len * per + 256;
}

DTJ__FN dtj_value *dtj__dom_value(dtj__parser *p, int depth);

DTJ__FN dtj_value *dtj__node(dtj__parser *p, dtj_kind kind, size_t at) {
    dtj_value *v = (dtj_value *)dtj__alloc(p->arena, sizeof *v, sizeof(dtj__align));
    if (!v) {
        dtj__nomem(p, at);
        return NULL;
    }
    memset(v, 0, sizeof *v);
    v->kind = kind;
    v->column = at + 1;
    return v;
}

/* Appends child to parent's list; tail tracks the last child. */
DTJ__FN int dtj__link(dtj__parser *p, dtj_value *parent, dtj_value **tail, dtj_value *child) {
    if (parent->count == UINT32_MAX) return dtj__fail(p, child->column - 1, "too many members");
    if (*tail) (*tail)->next = child;
    else parent->as.first = child;
    *tail = child;
    parent->count++;
    return 0;
}

/* After a member: "," (then not the closer) or the closer. Returns 1 when
 * the container ended, 0 to go on, -1 on error. */
DTJ__FN int dtj__separator(dtj__parser *p, int closer) {
    dtj__ws(p);
    if (dtj__peek(p) == closer) {
        p->i++;
        return 1;
    }
    if (dtj__peek(p) != ',')
        return dtj__unexpected(p, closer == '}' ? "',' or '}'" : "',' or ']'");
    p->i++;
    dtj__ws(p);
    if (dtj__peek(p) == closer) return dtj__fail(p, p->i, "trailing comma before '%c'", closer);
    return 0;
}

DTJ__FN int dtj__dom_array(dtj__parser *p, dtj_value *arr, int depth) {
    dtj_value *tail = NULL, *item;
    int r;
    p->i++;
    dtj__ws(p);
    if (dtj__peek(p) == ']') return p->i++, 0;
    do {
        item = dtj__dom_value(p, depth);
        if (!item || dtj__link(p, arr, &tail, item)) return -1;
        r = dtj__separator(p, ']');
    } while (r == 0);
    return r < 0 ? -1 : 0;
}

DTJ__FN int dtj__dom_object(dtj__parser *p, dtj_value *obj, int depth) {
    dtj_value *tail = NULL, *member;
    dt_str key;
    int r;
    p->i++;
    dtj__ws(p);
    if (dtj__peek(p) == '}') return p->i++, 0;
    do {
        dtj__ws(p);
        if (dtj__peek(p) != '"') return dtj__unexpected(p, "a string key");
        if (dtj__string(p, 1, &key)) return -1;
        dtj__ws(p);
        if (dtj__peek(p) != ':') return dtj__unexpected(p, "':' after the key");
        p->i++;
        member = dtj__dom_value(p, depth);
        if (!member) return -1;
        member->key = key;
        if (dtj__link(p, obj, &tail, member)) return -1;
        r = dtj__separator(p, '}');
    } while (r == 0);
    return r < 0 ? -1 : 0;
}

/* A value inside depth containers. */
DTJ__FN dtj_value *dtj__dom_value(dtj__parser *p, int depth) {
    dtj__tok t;
    dtj_value *v;
    static const dtj_kind kinds[] = {DTJ_NULL, DTJ_STRING, DTJ_NUMBER, DTJ_BOOL, DTJ_BOOL,
                                     DTJ_NULL, DTJ_OBJECT, DTJ_ARRAY};
    if (dtj__scalar(p, 1, &t)) return NULL;
    if ((t.kind == DTJ__T_OBJECT || t.kind == DTJ__T_ARRAY) && depth >= DTJ_MAX_DEPTH) {
        dtj__fail(p, t.at, "nested deeper than %d levels", DTJ_MAX_DEPTH);
        return NULL;
    }
    v = dtj__node(p, kinds[t.kind], t.at);
    if (!v) return NULL;
    switch (t.kind) {
    case DTJ__T_STRING: v->as.str = t.str; break;
    case DTJ__T_NUMBER: v->as.num = t.num; break;
    case DTJ__T_TRUE: v->as.b = 1; break;
    case DTJ__T_OBJECT: if (dtj__dom_object(p, v, depth + 1)) return NULL; break;
    case DTJ__T_ARRAY: if (dtj__dom_array(p, v, depth + 1)) return NULL; break;
    default: break;
    }
    return v;
}

/* Parses one JSON document (surrounding whitespace and a leading UTF-8 byte
 * order mark allowed). Returns the
 * root, or NULL with err (may be NULL) filled. Nodes and strings live in the
 * arena, so they stay valid until the arena is reused; text may be freed
 * once this returns. */
DTJ__FN dtj_value *dtj_parse(const char *text, size_t len, dtj_arena *arena, dtj_error *err) {
    dtj__parser p;
    dtj_value *root;
    dtj__init(&p, text, len, arena, err);
    if (dtj__starts(&p, "\xEF\xBB\xBF")) p.i = 3;   /* RFC 8259 8.1: a BOM may be ignored */
    root = dtj__dom_value(&p, 0);
    if (!root) return NULL;
    dtj__ws(&p);
    if (p.i < p.n) {
        dtj__fail(&p, p.i, "unexpected bytes after the JSON value");
        return NULL;
    }
    return root;
}

DTJ__FN int dtj_str_is(dt_str s, const char *c) {
    size_t k = strlen(c);
    return s.len == k && (k == 0 || memcmp(s.ptr, c, k) == 0);
}

/* The first member of obj named key; NULL if obj is not an object or has no
 * such member. */
DTJ__FN const dtj_value *dtj_get(const dtj_value *obj, const char *key) {
    const dtj_value *m;
    if (!obj || obj->kind != DTJ_OBJECT) return NULL;
    for (m = obj->as.first; m; m = m->next)
        if (dtj_str_is(m->key, key)) return m;
    return NULL;
}

/* Item index of an array (or member index of an object); NULL past the end. */
DTJ__FN const dtj_value *dtj_at(const dtj_value *v, uint32_t index) {
    const dtj_value *m;
    if (!v || (v->kind != DTJ_ARRAY && v->kind != DTJ_OBJECT)) return NULL;
    for (m = v->as.first; m && index > 0; m = m->next) index--;
    return m;
}

/* Children of an array or object; 0 for anything else. */
DTJ__FN uint32_t dtj_len(const dtj_value *v) {
    return v && (v->kind == DTJ_ARRAY || v->kind == DTJ_OBJECT) ? v->count : 0;
}

/* The string's NUL-terminated bytes, or NULL if v is not a string. */
DTJ__FN const char *dtj_string(const dtj_value *v) {
    return v && v->kind == DTJ_STRING ? v->as.str.ptr : NULL;
}

/* 1 and *out when v is an integer literal that fits int64, else 0. */
DTJ__FN int dtj_int(const dtj_value *v, int64_t *out) {
    if (!v || v->kind != DTJ_NUMBER || v->as.num.kind != DTJ_NUM_INT) return 0;
    *out = v->as.num.i;
    return 1;
}

/* >>events ----------------------------------------------------------------
 * One line of a JSON-Lines event stream (docs/cli.md):
 *
 *     {"name":"LogLaunch","ts":1000,"level":"info","tid":1,"version":"0.0.1"}
 *
 * name (required string, 1..DT_MAX_NAME bytes), ts (integer ns >= 0), level
 * (trace/debug/info/warn/warning/error/fatal in any case, or 1..24; default
 * info), tid (integer >= 0); every other key is a field. Blank lines and
 * lines whose first non-space byte is '#' are skipped. */
enum {
    DTJ_EVENT = 0,           /* *out holds an event */
    DTJ_SKIP = 1,            /* blank or comment line: nothing to do */
    DTJ_ERROR = -1           /* err says where and why */
};

/* Arena bytes dtj_read_event may need for a line of len bytes: decoded
 * strings and base64 never outgrow their source, long numbers are copied
 * once for strtod. SIZE_MAX if it overflows. */
DTJ__FN size_t dtj_event_arena_size(size_t len) {
    return len > (SIZE_MAX - 64) / 2 ? SIZE_MAX : 2 * len + 64;
}

/* The six canonical level names, NULL for any other number. */
DTJ__FN const char *dtj_level_name(int level) {
    switch (level) {
    case DT_TRACE: return "trace";
    case DT_DEBUG: return "debug";
    case DT_INFO: return "info";
    case DT_WARN: return "warn";
    case DT_ERROR: return "error";
    case DT_FATAL: return "fatal";
    default: return NULL;
    }
}

/* A level name in any case ("warning" too); -1 if it is none. */
DTJ__FN int dtj_level_parse(const char *s, size_t n) {
    static const char *const names[7] = {"trace", "debug", "info", "warn", "warning", "error", "fatal"};
    static const int levels[7] = {DT_TRACE, DT_DEBUG, DT_INFO, DT_WARN, DT_WARN, DT_ERROR, DT_FATAL};
    size_t k, j;
    for (k = 0; k < 7; k++) {
        if (strlen(names[k]) != n) continue;
        for (j = 0; j < n; j++) {
            int c = (unsigned char)s[j];
            if (c >= 'A' && c <= 'Z') c += 'a' - 'A';
            if (c != names[k][j]) break;
        }
        if (j == n) return levels[k];
    }
    return -1;
}

/* Bytes of a key that messages show, before "...". */
#define DTJ__KEY_SHOWN 40

typedef struct dtj__ev {
    dtj__parser *p;
    dt_event *out;
    dt_field *fields;
    uint32_t max;
    int seen[5];             /* reserved keys met so far, by dtj__reserved */
    char key[DTJ__KEY_SHOWN + 4];   /* the current key, printable, for messages */
} dtj__ev;

enum { DTJ__K_FIELD = 0, DTJ__K_NAME, DTJ__K_TS, DTJ__K_LEVEL, DTJ__K_TID };

DTJ__FN int dtj__reserved(dt_str key) {
    if (dtj_str_is(key, "name")) return DTJ__K_NAME;
    if (dtj_str_is(key, "ts")) return DTJ__K_TS;
    if (dtj_str_is(key, "level")) return DTJ__K_LEVEL;
    if (dtj_str_is(key, "tid")) return DTJ__K_TID;
    return DTJ__K_FIELD;
}

/* A key as messages show it: at most DTJ__KEY_SHOWN bytes (cut on a UTF-8
 * boundary, then "..."), control bytes as '?' so the message stays one line.
 * out holds DTJ__KEY_SHOWN + 4 bytes. */
DTJ__FN void dtj__printable(char *out, dt_str key) {
    size_t n = key.len, k;
    int cut = 0;
    if (n > DTJ__KEY_SHOWN) {
        n = DTJ__KEY_SHOWN;
        while (n > 0 && ((unsigned char)key.ptr[n] & 0xC0) == 0x80) n--;
        cut = 1;
    }
    for (k = 0; k < n; k++) out[k] = (unsigned char)key.ptr[k] < 0x20 ? '?' : key.ptr[k];
    if (cut) memcpy(out + n, "...", 3), n += 3;
    out[n] = '\0';
}

DTJ__FN int dtj__b64_digit(int c) {
    if (c >= 'A' && c <= 'Z') return c - 'A';
    if (c >= 'a' && c <= 'z') return c - 'a' + 26;
    if (c >= '0' && c <= '9') return c - '0' + 52;
    if (c == '+') return 62;
    if (c == '/') return 63;
    return -1;
}

/* Standard base64 (RFC 4648 section 4); the '=' padding may be left out. */
DTJ__FN int dtj__base64(dtj__ev *ev, const dtj__tok *t, dt_str *out) {
    dtj__parser *p = ev->p;
    const unsigned char *s = (const unsigned char *)t->str.ptr;
    size_t n = t->str.len, pad = 0, k, len = 0;
    uint32_t acc = 0;
    unsigned char *buf;
    while (n > 0 && s[n - 1] == '=' && pad < 2) n--, pad++;
    if ((pad > 0 && t->str.len % 4 != 0) || n % 4 == 1)
        return dtj__fail(p, t->at, "field \"%s\": base64 of impossible length %lu", ev->key,
                         (unsigned long)t->str.len);
    buf = (unsigned char *)dtj__alloc(p->arena, n / 4 * 3 + 3, 1);
    if (!buf) return dtj__nomem(p, t->at);
    for (k = 0; k < n; k++) {
        int d = dtj__b64_digit(s[k]);
        if (d < 0)
            return dtj__fail(p, t->at, "field \"%s\": byte %lu of the base64 is not a base64 digit",
                             ev->key, (unsigned long)k);
        acc = (acc << 6) | (uint32_t)d;
        if (k % 4 == 3) {
            buf[len++] = (unsigned char)(acc >> 16);
            buf[len++] = (unsigned char)(acc >> 8);
            buf[len++] = (unsigned char)acc;
            acc = 0;
        }
    }
    if (n % 4 == 2) buf[len++] = (unsigned char)(acc >> 4);
    if (n % 4 == 3) {
        buf[len++] = (unsigned char)(acc >> 10);
        buf[len++] = (unsigned char)(acc >> 2);
    }
    *out = dt_strn((const char *)buf, len);
    return 0;
}

/* A field value that starts with '{': only {"$bytes":"<base64>"} is one. */
DTJ__FN int dtj__bytes_object(dtj__ev *ev, const dtj__tok *open, dt_value *v) {
    dtj__parser *p = ev->p;
    dtj__tok b64;
    dt_str key;
    p->i++;
    dtj__ws(p);
    if (dtj__peek(p) == '"') {
        if (dtj__string(p, 0, &key)) return -1;
        dtj__ws(p);
        if (dtj_str_is(key, "$bytes") && dtj__peek(p) == ':') {
            p->i++;
            if (dtj__scalar(p, 0, &b64)) return -1;
            if (b64.kind != DTJ__T_STRING)
                return dtj__fail(p, b64.at, "field \"%s\": \"$bytes\" must be a base64 string", ev->key);
            dtj__ws(p);
            if (dtj__peek(p) != '}')
                return dtj__fail(p, p->i, "field \"%s\": {\"$bytes\":...} takes no other keys", ev->key);
            p->i++;
            v->type = DT_TYPE_BYTES;
            return dtj__base64(ev, &b64, &v->as.str);
        }
    }
    return dtj__fail(p, open->at,
                     "field \"%s\": arrays and objects are not field values "
                     "(flatten them, or use {\"$bytes\":...})", ev->key);
}

DTJ__FN int dtj__field_value(dtj__ev *ev, const dtj__tok *t, dt_value *v) {
    dtj__parser *p = ev->p;
    memset(v, 0, sizeof *v);
    switch (t->kind) {
    case DTJ__T_STRING: v->type = DT_TYPE_STR; v->as.str = t->str; return 0;
    case DTJ__T_TRUE: case DTJ__T_FALSE:
        v->type = DT_TYPE_BOOL;
        v->as.b = t->kind == DTJ__T_TRUE;
        return 0;
    case DTJ__T_NULL: v->type = DT_TYPE_NULL; return 0;
    case DTJ__T_OBJECT: return dtj__bytes_object(ev, t, v);
    case DTJ__T_ARRAY:
        return dtj__fail(p, t->at, "field \"%s\": arrays and objects are not field values "
                         "(flatten them, or use {\"$bytes\":...})", ev->key);
    default: break;
    }
    switch (t->num.kind) {
    case DTJ_NUM_INT: v->type = DT_TYPE_I64; v->as.i64 = t->num.i; return 0;
    case DTJ_NUM_UINT: v->type = DT_TYPE_U64; v->as.u64 = t->num.u; return 0;
    case DTJ_NUM_BIGINT:
        return dtj__fail(p, t->at, "field \"%s\": integer out of range (fits neither int64 nor uint64)",
                         ev->key);
    default: break;
    }
    if (t->num.overflow)
        return dtj__fail(p, t->at, "field \"%s\": number out of range for a double", ev->key);
    v->type = DT_TYPE_F64;
    v->as.f64 = t->num.f;
    return 0;
}

DTJ__FN int dtj__field(dtj__ev *ev, dt_str key, size_t key_at, const dtj__tok *t) {
    dtj__parser *p = ev->p;
    dt_field *f;
    if (key.len == 0) return dtj__fail(p, key_at, "field names must not be empty");
    if (key.len > DT_MAX_NAME)
        return dtj__fail(p, key_at, "field \"%s\": name longer than %d bytes", ev->key, DT_MAX_NAME);
    if (ev->out->nfields >= ev->max)
        return dtj__fail(p, key_at, "too many fields (at most %lu)", (unsigned long)ev->max);
    f = &ev->fields[ev->out->nfields];
    f->name = key;
    if (dtj__field_value(ev, t, &f->value)) return -1;
    ev->out->nfields++;
    return 0;
}

DTJ__FN int dtj__ev_name(dtj__ev *ev, const dtj__tok *t) {
    if (t->kind != DTJ__T_STRING) return dtj__fail(ev->p, t->at, "\"name\" must be a string");
    if (t->str.len == 0) return dtj__fail(ev->p, t->at, "\"name\" must not be empty");
    if (t->str.len > DT_MAX_NAME)
        return dtj__fail(ev->p, t->at, "\"name\" is longer than %d bytes", DT_MAX_NAME);
    ev->out->name = t->str;
    return 0;
}

DTJ__FN int dtj__ev_ts(dtj__ev *ev, const dtj__tok *t) {
    if (t->kind != DTJ__T_NUMBER || t->num.kind != DTJ_NUM_INT || t->num.i < 0)
        return dtj__fail(ev->p, t->at, "\"ts\" must be a non-negative integer (nanoseconds)");
    ev->out->ts = t->num.i;
    return 0;
}

DTJ__FN int dtj__ev_level(dtj__ev *ev, const dtj__tok *t) {
    int level = -1;
    if (t->kind == DTJ__T_STRING) level = dtj_level_parse(t->str.ptr, t->str.len);
    if (t->kind == DTJ__T_NUMBER && t->num.kind == DTJ_NUM_INT && t->num.i >= 1 && t->num.i <= 24)
        level = (int)t->num.i;
    if (level < 0)
        return dtj__fail(ev->p, t->at,
                         "\"level\" must be trace, debug, info, warn, error, fatal or an integer 1..24");
    ev->out->level = level;
    return 0;
}

DTJ__FN int dtj__ev_tid(dtj__ev *ev, const dtj__tok *t) {
    if (t->kind != DTJ__T_NUMBER || (t->num.kind != DTJ_NUM_INT && t->num.kind != DTJ_NUM_UINT) ||
        (t->num.kind == DTJ_NUM_INT && t->num.i < 0))
        return dtj__fail(ev->p, t->at, "\"tid\" must be a non-negative integer");
    ev->out->tid = t->num.u;
    return 0;
}

DTJ__FN int dtj__is_duplicate(const dtj__ev *ev, dt_str key, int reserved) {
    uint32_t k;
    if (reserved != DTJ__K_FIELD) return ev->seen[reserved];
    for (k = 0; k < ev->out->nfields; k++) {
        dt_str other = ev->fields[k].name;
        if (other.len == key.len && memcmp(other.ptr, key.ptr, key.len) == 0) return 1;
    }
    return 0;
}

/* One "key": value member of the event object, at p->i (the key). */
DTJ__FN int dtj__ev_member(dtj__ev *ev) {
    dtj__parser *p = ev->p;
    size_t key_at = p->i;
    dt_str key;
    dtj__tok t;
    int r;
    if (dtj__peek(p) != '"') return dtj__unexpected(p, "a string key");
    if (dtj__string(p, 0, &key)) return -1;
    dtj__printable(ev->key, key);
    dtj__ws(p);
    if (dtj__peek(p) != ':') return dtj__unexpected(p, "':' after the key");
    p->i++;
    r = dtj__reserved(key);
    if (dtj__is_duplicate(ev, key, r)) return dtj__fail(p, key_at, "duplicate key \"%s\"", ev->key);
    ev->seen[r] = 1;
    if (dtj__scalar(p, 0, &t)) return -1;
    switch (r) {
    case DTJ__K_NAME: return dtj__ev_name(ev, &t);
    case DTJ__K_TS: return dtj__ev_ts(ev, &t);
    case DTJ__K_LEVEL: return dtj__ev_level(ev, &t);
    case DTJ__K_TID: return dtj__ev_tid(ev, &t);
    default: return dtj__field(ev, key, key_at, &t);
    }
}

/* Parses one JSON-Lines input line (without its '\n'; a trailing '\r' is
 * whitespace) into *out, with its fields in fields[0..maxfields). Returns
 * DTJ_EVENT, DTJ_SKIP (blank or '#' comment) or DTJ_ERROR (err, which may be
 * NULL, has the column and reason). Strings in *out point into line or into
 * the arena: keep both until the event is used. out->id is 0 (compute from
 * the name); ts 0 means the line had none. The arena should hold
 * dtj_event_arena_size(len) bytes; less works for most lines. */
DTJ__FN int dtj_read_event(const char *line, size_t len, dtj_arena *arena, dt_event *out,
                           dt_field *fields, uint32_t maxfields, dtj_error *err) {
    dtj__parser p;
    dtj__ev ev;
    int r = 0;
    dtj__init(&p, line, len, arena, err);
    p.end = "line";
    memset(out, 0, sizeof *out);
    memset(&ev, 0, sizeof ev);
    ev.p = &p;
    ev.out = out;
    ev.fields = fields;
    ev.max = fields ? maxfields : 0;
    out->level = DT_INFO;
    out->fields = fields;
    dtj__ws(&p);
    if (p.i == p.n || p.s[p.i] == '#') return DTJ_SKIP;
    if (p.s[p.i] != '{') return dtj__fail(&p, p.i, "line is not a JSON object"), DTJ_ERROR;
    p.i++;
    dtj__ws(&p);
    if (dtj__peek(&p) == '}') p.i++, r = 1;
    while (r == 0) {
        dtj__ws(&p);
        if (dtj__ev_member(&ev)) return DTJ_ERROR;
        r = dtj__separator(&p, '}');
    }
    if (r < 0) return DTJ_ERROR;
    dtj__ws(&p);
    if (p.i < p.n) return dtj__fail(&p, p.i, "unexpected bytes after the JSON object"), DTJ_ERROR;
    if (!ev.seen[DTJ__K_NAME]) return dtj__fail(&p, 0, "missing \"name\""), DTJ_ERROR;
    return DTJ_EVENT;
}

/* >>writer ----------------------------------------------------------------
 * Output goes through a dt_write_fn, so the same code fills a buffer or a
 * FILE*. Whatever the bytes of the strings it is given, the output is valid
 * JSON. */
typedef struct dtj_writer {
    dt_write_fn write;
    void *user_data;
} dtj_writer;

DTJ__FN void dtj__file_write(const char *bytes, size_t len, void *user_data) {
    fwrite(bytes, 1, len, (FILE *)user_data);
}

/* A writer onto fp (errors stay in ferror(fp)). */
DTJ__FN dtj_writer dtj_file_writer(FILE *fp) {
    dtj_writer w;
    w.write = dtj__file_write;
    w.user_data = fp;
    return w;
}

/* A fixed buffer, kept NUL-terminated; what does not fit is cut and
 * `truncated` is set. */
typedef struct dtj_buf {
    char *ptr;
    size_t cap;
    size_t len;
    int truncated;
} dtj_buf;

DTJ__FN void dtj__buf_write(const char *bytes, size_t len, void *user_data) {
    dtj_buf *b = (dtj_buf *)user_data;
    size_t room = b->cap > b->len ? b->cap - b->len - 1 : 0;
    if (len > room) {
        b->truncated = 1;
        len = room;
    }
    if (len > 0) memcpy(b->ptr + b->len, bytes, len);
    b->len += len;
    if (b->cap > 0) b->ptr[b->len] = '\0';
}

DTJ__FN dtj_writer dtj_buf_writer(dtj_buf *b, char *ptr, size_t cap) {
    dtj_writer w;
    b->ptr = ptr;
    b->cap = ptr ? cap : 0;
    b->len = 0;
    b->truncated = 0;
    if (b->cap > 0) ptr[0] = '\0';
    w.write = dtj__buf_write;
    w.user_data = b;
    return w;
}

DTJ__FN void dtj_write(const dtj_writer *w, const char *bytes, size_t len) {
    if (len > 0) w->write(bytes, len, w->user_data);
}

/* Raw text (already JSON). */
DTJ__FN void dtj_write_raw(const dtj_writer *w, const char *text) { dtj_write(w, text, strlen(text)); }

/* A quoted JSON string: '"', '\\' and control bytes escaped, well-formed
 * UTF-8 passed through, each byte of malformed UTF-8 written as \ufffd. */
DTJ__FN void dtj_write_string(const dtj_writer *w, const char *ptr, size_t len) {
    static const char hex[] = "0123456789abcdef";
    const unsigned char *s = (const unsigned char *)ptr;
    size_t i = 0, run = 0, k;
    char esc[8];
    dtj_write(w, "\"", 1);
    while (i < len) {
        unsigned c = s[i];
        k = c >= 0x20 && c != '"' && c != '\\' ? dtj_utf8_len(s + i, len - i) : 0;
        if (k > 0) {         /* plain bytes are written in runs */
            i += k;
            continue;
        }
        dtj_write(w, (const char *)s + run, i - run);
        if (c == '"' || c == '\\') esc[0] = '\\', esc[1] = (char)c, k = 2;
        else if (c == '\n') memcpy(esc, "\\n", 2), k = 2;
        else if (c == '\r') memcpy(esc, "\\r", 2), k = 2;
        else if (c == '\t') memcpy(esc, "\\t", 2), k = 2;
        else if (c == '\b') memcpy(esc, "\\b", 2), k = 2;
        else if (c == '\f') memcpy(esc, "\\f", 2), k = 2;
        else if (c < 0x20) memcpy(esc, "\\u00", 4), esc[4] = hex[c >> 4], esc[5] = hex[c & 15], k = 6;
        else memcpy(esc, "\\ufffd", 6), k = 6;
        dtj_write(w, esc, k);
        run = ++i;
    }
    dtj_write(w, (const char *)s + run, i - run);
    dtj_write(w, "\"", 1);
}

/* snprintf of a 64-bit integer (at most 20 digits and a sign) fits buf and
 * cannot fail. */
DTJ__FN void dtj_write_i64(const dtj_writer *w, int64_t v) {
    char buf[24];
    dtj_write(w, buf, (size_t)snprintf(buf, sizeof buf, "%lld", (long long)v));
}

DTJ__FN void dtj_write_u64(const dtj_writer *w, uint64_t v) {
    char buf[24];
    dtj_write(w, buf, (size_t)snprintf(buf, sizeof buf, "%llu", (unsigned long long)v));
}

/* The shortest of %.15g, %.16g, %.17g that reads back as the same double,
 * with ".0" added when it would otherwise look like an integer (so that
 * reading it back gives an f64 again). NaN and infinities are not JSON
 * numbers: they are written as the strings "NaN", "Infinity", "-Infinity". */
DTJ__FN void dtj_write_f64(const dtj_writer *w, double v) {
    char buf[40];
    int prec, n = 0;
    if (v != v || v > DBL_MAX || v < -DBL_MAX) {
        dtj_write_raw(w, v != v ? "\"NaN\"" : v > 0 ? "\"Infinity\"" : "\"-Infinity\"");
        return;
    }
    /* A finite double in %.17g is at most 24 bytes ("-1.2345678901234567e-308"),
     * so buf always holds it and the ".0" after it. */
    for (prec = 15; prec <= 17; prec++) {
        n = snprintf(buf, sizeof buf - 2, "%.*g", prec, v);
        if (strtod(buf, NULL) == v) break;
    }
    if (!strpbrk(buf, ".eEn")) memcpy(buf + n, ".0", 3), n += 2;
    dtj_write(w, buf, (size_t)n);
}

DTJ__FN void dtj_write_bool(const dtj_writer *w, int v) { dtj_write_raw(w, v ? "true" : "false"); }

/* Quoted standard base64 with padding. */
DTJ__FN void dtj_write_base64(const dtj_writer *w, const void *ptr, size_t len) {
    static const char digits[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    const unsigned char *s = (const unsigned char *)ptr;
    char out[64];
    size_t i = 0, n = 0;
    dtj_write(w, "\"", 1);
    while (i < len) {
        uint32_t acc = (uint32_t)s[i] << 16;
        size_t have = len - i >= 3 ? 3 : len - i;
        if (have > 1) acc |= (uint32_t)s[i + 1] << 8;
        if (have > 2) acc |= s[i + 2];
        out[n++] = digits[acc >> 18];
        out[n++] = digits[(acc >> 12) & 63];
        out[n++] = have > 1 ? digits[(acc >> 6) & 63] : '=';
        out[n++] = have > 2 ? digits[acc & 63] : '=';
        i += have;
        if (n == sizeof out) dtj_write(w, out, n), n = 0;
    }
    dtj_write(w, out, n);
    dtj_write(w, "\"", 1);
}

/* A value as JSON: null, true/false, integers exactly, f64 as dtj_write_f64,
 * strings escaped, bytes as {"$bytes":"<base64>"}. */
DTJ__FN void dtj_write_value(const dtj_writer *w, const dt_value *v) {
    switch (v->type) {
    case DT_TYPE_BOOL: dtj_write_bool(w, v->as.b); break;
    case DT_TYPE_I64: dtj_write_i64(w, v->as.i64); break;
    case DT_TYPE_U64: dtj_write_u64(w, v->as.u64); break;
    case DT_TYPE_F64: dtj_write_f64(w, v->as.f64); break;
    case DT_TYPE_STR: dtj_write_string(w, v->as.str.ptr, v->as.str.len); break;
    case DT_TYPE_BYTES:
        dtj_write_raw(w, "{\"$bytes\":");
        dtj_write_base64(w, v->as.str.ptr, v->as.str.len);
        dtj_write(w, "}", 1);
        break;
    default: dtj_write_raw(w, "null"); break;
    }
}

/* Fields as one object {"name":value,...}, in order. */
DTJ__FN void dtj_write_fields(const dtj_writer *w, const dt_field *fields, uint32_t n) {
    uint32_t k;
    dtj_write(w, "{", 1);
    for (k = 0; k < n; k++) {
        if (k > 0) dtj_write(w, ",", 1);
        dtj_write_string(w, fields[k].name.ptr, fields[k].name.len);
        dtj_write(w, ":", 1);
        dtj_write_value(w, &fields[k].value);
    }
    dtj_write(w, "}", 1);
}

/* A level as its canonical name, or as its number. */
DTJ__FN void dtj_write_level(const dtj_writer *w, int level) {
    const char *name = dtj_level_name(level);
    if (name) dtj_write_string(w, name, strlen(name));
    else dtj_write_i64(w, level);
}

/* An event in the tool's output format (docs/cli.md), without newline:
 * {"type":"event","name":..,"ts":..,"level":..,"tid":..,"fields":{..}}.
 * with_type = 0 leaves out "type" (events inside a dump); tid is left out
 * when 0. */
DTJ__FN void dtj_write_event(const dtj_writer *w, const dt_event *ev, int with_type) {
    dtj_write_raw(w, with_type ? "{\"type\":\"event\",\"name\":" : "{\"name\":");
    dtj_write_string(w, ev->name.ptr, ev->name.len);
    dtj_write_raw(w, ",\"ts\":");
    dtj_write_i64(w, ev->ts);
    dtj_write_raw(w, ",\"level\":");
    dtj_write_level(w, ev->level);
    if (ev->tid != 0) {
        dtj_write_raw(w, ",\"tid\":");
        dtj_write_u64(w, ev->tid);
    }
    dtj_write_raw(w, ",\"fields\":");
    dtj_write_fields(w, ev->fields, ev->fields ? ev->nfields : 0);
    dtj_write(w, "}", 1);
}

#endif /* DT_JSONL_H */
