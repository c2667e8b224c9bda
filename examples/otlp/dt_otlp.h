/* dt_otlp.h — dt's sinks as an OTLP/JSON exporter.                 v0.1.0
 *
 * Turns what dt exports into OpenTelemetry's wire format, the protobuf JSON
 * encoding of the collector service requests:
 *
 *   exported events -> ExportLogsServiceRequest    (one LogRecord each)
 *   metric points   -> ExportMetricsServiceRequest (Sum, Gauge, Histogram)
 *
 * batched, one request per line (JSON Lines). That is what the OpenTelemetry
 * Collector's `otlpjsonfile` receiver reads, and each line is also a valid
 * body for an OTLP/HTTP endpoint (POST /v1/logs or /v1/metrics with
 * Content-Type: application/json). dt does no I/O: the host's write hook
 * puts the bytes in a file, a pipe or an HTTP client.
 *
 *     #define DT_OTLP_IMPLEMENTATION     // in one file
 *     #include "dt_otlp.h"
 *
 *     static dt_otlp_exporter otlp;      // static: it holds the batch buffers
 *     dt_otlp_desc od = {0};
 *     od.write = write_to_file;  od.user_data = fp;  od.service_name = "checkout";
 *     dt_otlp_init(&otlp, &od);
 *     desc.sinks.event = dt_otlp_event_sink;
 *     desc.sinks.metric = dt_otlp_metric_sink;
 *     desc.sinks.user_data = &otlp;
 *     ...
 *     dt_otlp_flush(&otlp);              // at shutdown, or on a timer
 *
 * MAPPING (docs/guide.md, "OpenTelemetry mapping"):
 *   event name -> eventName; level -> severityNumber (dt levels are
 *   SeverityNumbers) and severityText; ts -> timeUnixNano; fields ->
 *   attributes (bool boolValue, i64 intValue, u64 intValue up to 2^63-1
 *   and stringValue above, f64 doubleValue, str stringValue, bytes
 *   bytesValue in base64, null an empty AnyValue); the durable ID ->
 *   attribute dt.event_id (16 hex digits); tid -> attribute thread.id.
 *   A field trace_id (16 bytes, or 32 hex digits) and span_id (8 bytes, or
 *   16 hex digits) become traceId and spanId, lowercase hex as OTLP/JSON
 *   requires (not base64), and are not repeated as attributes.
 *   Counter -> Sum with isMonotonic true; gauge -> Gauge; histogram ->
 *   Histogram with explicitBounds, bucketCounts, count, sum, min, max.
 *   aggregationTemporality is the enum's number (1 delta, 2 cumulative),
 *   as the JSON mapping of OTLP asks for enums.
 *
 * JSON: 64-bit integers (timeUnixNano, intValue, asInt, count,
 * bucketCounts) are JSON strings, per the protobuf JSON mapping; doubles
 * are numbers with 17 significant digits, NaN and infinities the strings
 * "NaN", "Infinity", "-Infinity". Strings are escaped; bytes that are not
 * UTF-8 become U+FFFD.
 *
 * BATCHES. A request is written when its batch reaches max_records or
 * DT_OTLP_BATCH_BYTES, on dt_otlp_flush, and on dt_otlp_tick once the
 * oldest record is max_age_ns old. A record too big for an empty batch is
 * dropped and counted (stats.dropped).
 *
 * THREADS. The sinks may be called from any number of threads: the
 * exporter takes its own spinlock, and the write hook runs under it (so
 * lines never interleave). The write hook must not call back into the
 * exporter. No allocation.
 *
 * LICENSE: MIT, as dt.h. */
#ifndef DT_OTLP_H
#define DT_OTLP_H

#include "dt.h"

#ifndef DT_OTLP_BATCH_BYTES    /* bytes of one signal's batch (records only) */
#define DT_OTLP_BATCH_BYTES 65536
#endif
#ifndef DT_OTLP_RESOURCE_BYTES /* bytes of the encoded resource and scope */
#define DT_OTLP_RESOURCE_BYTES 1024
#endif

#ifdef __cplusplus
extern "C" {
#endif

typedef struct dt_otlp_desc {
    /* Receives each request as pieces, in order; the last piece of a
     * request ends with "\n". Called under the exporter's lock. */
    void (*write)(const char *bytes, size_t len, void *user_data);
    void *user_data;
    const char *service_name;        /* resource attribute service.name: NULL "unknown_service" */
    const dt_field *resource;        /* more resource attributes (encoded once, at init) */
    uint32_t nresource;
    uint32_t max_records;            /* records per request: 0 means 512 */
    int64_t max_age_ns;              /* dt_otlp_tick writes older batches: 0 means 10 s */
} dt_otlp_desc;

typedef struct dt_otlp_stats {
    uint64_t log_records, log_requests;
    uint64_t metric_points, metric_requests;
    uint64_t dropped;                /* records larger than a whole batch */
} dt_otlp_stats;

/* One signal's pending request. */
typedef struct dt_otlp_batch {
    char buf[DT_OTLP_BATCH_BYTES];
    size_t len;
    uint32_t records;
    int64_t first_ts;                /* time of its first record, for max_age_ns */
} dt_otlp_batch;

typedef struct dt_otlp_exporter {
    dt_otlp_desc desc;
    char resource[DT_OTLP_RESOURCE_BYTES];   /* "resource":{...},"scope...: encoded at init */
    size_t resource_len;
    volatile uint32_t lock;
    dt_otlp_batch logs, metrics;
    dt_otlp_stats stats;
} dt_otlp_exporter;

/* Sets up x (zeroed first). DT_ERR_LIMIT if the resource attributes do not
 * fit DT_OTLP_RESOURCE_BYTES; DT_ERR_INVALID without a write hook. The
 * desc's pointers are copied; the fields are encoded now. */
DT_API int dt_otlp_init(dt_otlp_exporter *x, const dt_otlp_desc *desc);

/* dt_sinks hooks: user_data is the exporter. Thread-safe. */
DT_API void dt_otlp_event_sink(const dt_event *ev, void *user_data);
DT_API void dt_otlp_metric_sink(const dt_metric *m, void *user_data);

/* Writes both pending requests (if any). Thread-safe. */
DT_API void dt_otlp_flush(dt_otlp_exporter *x);
/* Writes a pending request whose first record is max_age_ns older than
 * now (ns, the records' clock). Thread-safe. */
DT_API void dt_otlp_tick(dt_otlp_exporter *x, int64_t now);
/* A copy of the counters. Thread-safe. */
DT_API dt_otlp_stats dt_otlp_get_stats(dt_otlp_exporter *x);

#ifdef __cplusplus
}
#endif

#endif /* DT_OTLP_H */

/* >>impl ================================================================== */
#if defined(DT_OTLP_IMPLEMENTATION) && !defined(DT_OTLP_IMPLEMENTED)
#define DT_OTLP_IMPLEMENTED

#include <stdio.h>

/* ---- a bounded text buffer: writes past the end set overflow ------------ */
typedef struct dt__otlp_out {
    char *p;
    size_t len, cap;
    int overflow;
} dt__otlp_out;

static void dt__otlp_put(dt__otlp_out *o, const char *s, size_t n) {
    if (o->overflow || n > o->cap - o->len) { o->overflow = 1; return; }
    memcpy(o->p + o->len, s, n);
    o->len += n;
}

static void dt__otlp_puts(dt__otlp_out *o, const char *s) { dt__otlp_put(o, s, strlen(s)); }

static void dt__otlp_putc(dt__otlp_out *o, char c) { dt__otlp_put(o, &c, 1); }

static void dt__otlp_u64(dt__otlp_out *o, uint64_t v) {
    char tmp[24];
    size_t at = sizeof tmp;
    do { tmp[--at] = (char)('0' + v % 10u); v /= 10u; } while (v);
    dt__otlp_put(o, tmp + at, sizeof tmp - at);
}

/* A 64-bit integer as the protobuf JSON mapping writes it: a string. */
static void dt__otlp_u64_str(dt__otlp_out *o, uint64_t v) {
    dt__otlp_putc(o, '"');
    dt__otlp_u64(o, v);
    dt__otlp_putc(o, '"');
}

static void dt__otlp_i64_str(dt__otlp_out *o, int64_t v) {
    if (v >= 0) { dt__otlp_u64_str(o, (uint64_t)v); return; }
    dt__otlp_puts(o, "\"-");
    dt__otlp_u64(o, 0u - (uint64_t)v);        /* INT64_MIN too: unsigned negation */
    dt__otlp_putc(o, '"');
}

static void dt__otlp_double(dt__otlp_out *o, double v) {
    char tmp[32];
    int n;
    if (v != v) { dt__otlp_puts(o, "\"NaN\""); return; }
    if (v > 1.7976931348623157e308) { dt__otlp_puts(o, "\"Infinity\""); return; }
    if (v < -1.7976931348623157e308) { dt__otlp_puts(o, "\"-Infinity\""); return; }
    n = snprintf(tmp, sizeof tmp, "%.17g", v);
    dt__otlp_put(o, tmp, (size_t)n);
}

/* Length of the valid UTF-8 sequence at s[0..n), or 0 if it is not one. */
static size_t dt__otlp_utf8_len(const unsigned char *s, size_t n) {
    size_t need, i;
    uint32_t cp;
    if (s[0] < 0x80) return 1;
    if (s[0] >= 0xc2 && s[0] <= 0xdf) { need = 2; cp = s[0] & 0x1fu; }
    else if (s[0] >= 0xe0 && s[0] <= 0xef) { need = 3; cp = s[0] & 0x0fu; }
    else if (s[0] >= 0xf0 && s[0] <= 0xf4) { need = 4; cp = s[0] & 0x07u; }
    else return 0;
    if (need > n) return 0;
    for (i = 1; i < need; i++) {
        if ((s[i] & 0xc0) != 0x80) return 0;
        cp = (cp << 6) | (s[i] & 0x3fu);
    }
    if ((need == 3 && cp < 0x800) || (need == 4 && (cp < 0x10000 || cp > 0x10ffff)) ||
        (cp >= 0xd800 && cp <= 0xdfff))
        return 0;                                   /* overlong, out of range, surrogate */
    return need;
}

static void dt__otlp_str(dt__otlp_out *o, dt_str s) {
    const unsigned char *p = (const unsigned char *)s.ptr;
    size_t i = 0, n;
    char esc[8];
    dt__otlp_putc(o, '"');
    while (i < s.len) {
        unsigned char c = p[i];
        size_t run = i;
        while (run < s.len && p[run] >= 0x20 && p[run] < 0x80 && p[run] != '"' && p[run] != '\\') run++;
        if (run > i) { dt__otlp_put(o, (const char *)p + i, run - i); i = run; continue; }   /* plain ASCII: one copy */
        if (c == '"' || c == '\\') { esc[0] = '\\'; esc[1] = (char)c; dt__otlp_put(o, esc, 2); i++; continue; }
        if (c < 0x20) { snprintf(esc, sizeof esc, "\\u%04x", (unsigned)c); dt__otlp_put(o, esc, 6); i++; continue; }
        n = dt__otlp_utf8_len(p + i, s.len - i);
        if (!n) { dt__otlp_puts(o, "\\ufffd"); i++; continue; }
        dt__otlp_put(o, (const char *)p + i, n);
        i += n;
    }
    dt__otlp_putc(o, '"');
}

static void dt__otlp_base64(dt__otlp_out *o, dt_str s) {
    static const char tab[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    const unsigned char *p = (const unsigned char *)s.ptr;
    size_t i;
    dt__otlp_putc(o, '"');
    for (i = 0; i + 2 < s.len; i += 3) {
        uint32_t v = (uint32_t)p[i] << 16 | (uint32_t)p[i + 1] << 8 | p[i + 2];
        char q[4] = { tab[v >> 18], tab[(v >> 12) & 63u], tab[(v >> 6) & 63u], tab[v & 63u] };
        dt__otlp_put(o, q, 4);
    }
    if (s.len - i == 1) {
        uint32_t v = (uint32_t)p[i] << 16;
        char q[4] = { tab[v >> 18], tab[(v >> 12) & 63u], '=', '=' };
        dt__otlp_put(o, q, 4);
    } else if (s.len - i == 2) {
        uint32_t v = (uint32_t)p[i] << 16 | (uint32_t)p[i + 1] << 8;
        char q[4] = { tab[v >> 18], tab[(v >> 12) & 63u], tab[(v >> 6) & 63u], '=' };
        dt__otlp_put(o, q, 4);
    }
    dt__otlp_putc(o, '"');
}

/* An AnyValue. */
static void dt__otlp_any(dt__otlp_out *o, const dt_value *v) {
    switch (v->type) {
    case DT_TYPE_BOOL: dt__otlp_puts(o, v->as.b ? "{\"boolValue\":true}" : "{\"boolValue\":false}"); return;
    case DT_TYPE_I64: dt__otlp_puts(o, "{\"intValue\":"); dt__otlp_i64_str(o, v->as.i64); break;
    case DT_TYPE_U64:
        if (v->as.u64 <= (uint64_t)INT64_MAX) { dt__otlp_puts(o, "{\"intValue\":"); dt__otlp_u64_str(o, v->as.u64); }
        else { dt__otlp_puts(o, "{\"stringValue\":"); dt__otlp_u64_str(o, v->as.u64); }
        break;
    case DT_TYPE_F64: dt__otlp_puts(o, "{\"doubleValue\":"); dt__otlp_double(o, v->as.f64); break;
    case DT_TYPE_STR: dt__otlp_puts(o, "{\"stringValue\":"); dt__otlp_str(o, v->as.str); break;
    case DT_TYPE_BYTES: dt__otlp_puts(o, "{\"bytesValue\":"); dt__otlp_base64(o, v->as.str); break;
    default: dt__otlp_puts(o, "{}"); return;
    }
    dt__otlp_putc(o, '}');
}

static void dt__otlp_kv(dt__otlp_out *o, int *first, dt_str key, const dt_value *v) {
    if (!*first) dt__otlp_putc(o, ',');
    *first = 0;
    dt__otlp_puts(o, "{\"key\":");
    dt__otlp_str(o, key);
    dt__otlp_puts(o, ",\"value\":");
    dt__otlp_any(o, v);
    dt__otlp_putc(o, '}');
}

static int dt__otlp_is(dt_str s, const char *word) { return s.len == strlen(word) && memcmp(s.ptr, word, s.len) == 0; }

/* A trace or span id field as lowercase hex of nbytes bytes: from bytes
 * of that length, or from a string of 2*nbytes hex digits. 0 if neither. */
static int dt__otlp_hex_id(dt__otlp_out *o, const dt_value *v, size_t nbytes) {
    static const char hex[] = "0123456789abcdef";
    size_t i;
    if (v->type == DT_TYPE_BYTES && v->as.str.len == nbytes) {
        dt__otlp_putc(o, '"');
        for (i = 0; i < nbytes; i++) {
            unsigned char c = (unsigned char)v->as.str.ptr[i];
            char h[2] = { hex[c >> 4], hex[c & 15u] };
            dt__otlp_put(o, h, 2);
        }
        dt__otlp_putc(o, '"');
        return 1;
    }
    if (v->type != DT_TYPE_STR || v->as.str.len != 2 * nbytes) return 0;
    for (i = 0; i < v->as.str.len; i++)
        if (!strchr("0123456789abcdefABCDEF", v->as.str.ptr[i]) || !v->as.str.ptr[i]) return 0;
    dt__otlp_putc(o, '"');
    for (i = 0; i < v->as.str.len; i++) {
        char c = v->as.str.ptr[i];
        dt__otlp_putc(o, (char)(c >= 'A' && c <= 'F' ? c - 'A' + 'a' : c));
    }
    dt__otlp_putc(o, '"');
    return 1;
}

/* The traceId/spanId members of a log record, if its fields carry them.
 * Sets the bits of *used (1 trace_id, 2 span_id) for the fields spent. */
static void dt__otlp_trace_ids(dt__otlp_out *o, const dt_event *ev, uint32_t *used) {
    uint32_t i;
    for (i = 0; i < ev->nfields; i++) {
        const dt_field *f = &ev->fields[i];
        int trace = dt__otlp_is(f->name, "trace_id"), span = dt__otlp_is(f->name, "span_id");
        size_t mark = o->len;
        if (!trace && !span) continue;
        dt__otlp_puts(o, trace ? ",\"traceId\":" : ",\"spanId\":");
        if (dt__otlp_hex_id(o, &f->value, trace ? 16u : 8u)) *used |= trace ? 1u : 2u;
        else if (!o->overflow) o->len = mark;       /* not an id: an attribute like the others */
    }
}

static int dt__otlp_spent(dt_str name, uint32_t used) {
    return ((used & 1u) && dt__otlp_is(name, "trace_id")) || ((used & 2u) && dt__otlp_is(name, "span_id"));
}

/* 16 lowercase hex digits and a NUL into out[17]. */
static void dt__otlp_hex64(char *out, uint64_t v) {
    static const char hex[] = "0123456789abcdef";
    int i;
    for (i = 0; i < 16; i++) out[i] = hex[(v >> (60 - 4 * i)) & 15u];
    out[16] = 0;
}

static void dt__otlp_log_record(dt__otlp_out *o, const dt_event *ev) {
    uint32_t i, used = 0;
    int first = 1;
    const char *sev = dt_level_name(ev->level);
    char id[24];
    dt_value v;
    dt__otlp_puts(o, "{\"timeUnixNano\":");
    dt__otlp_u64_str(o, ev->ts > 0 ? (uint64_t)ev->ts : 0u);
    dt__otlp_puts(o, ",\"severityNumber\":");
    dt__otlp_u64(o, ev->level > 0 && ev->level <= 24 ? (uint64_t)ev->level : 0u);
    if (*sev && ev->level <= 24) { dt__otlp_puts(o, ",\"severityText\":\""); dt__otlp_puts(o, sev); dt__otlp_putc(o, '"'); }
    dt__otlp_puts(o, ",\"eventName\":");
    dt__otlp_str(o, ev->name);
    dt__otlp_trace_ids(o, ev, &used);
    dt__otlp_puts(o, ",\"attributes\":[");
    dt__otlp_hex64(id, ev->id ? ev->id : dt_id_n(ev->name.ptr, ev->name.len));
    v.type = DT_TYPE_STR;
    v.as.str = dt_cstr(id);
    dt__otlp_kv(o, &first, dt_cstr("dt.event_id"), &v);
    if (ev->tid) { v.type = DT_TYPE_U64; v.as.u64 = ev->tid; dt__otlp_kv(o, &first, dt_cstr("thread.id"), &v); }
    for (i = 0; i < ev->nfields; i++)
        if (!dt__otlp_spent(ev->fields[i].name, used)) dt__otlp_kv(o, &first, ev->fields[i].name, &ev->fields[i].value);
    dt__otlp_puts(o, "]}");
}

static void dt__otlp_point_head(dt__otlp_out *o, const dt_metric *m) {
    uint32_t i;
    int first = 1;
    dt__otlp_puts(o, "{\"attributes\":[");
    for (i = 0; i < m->nlabels; i++) dt__otlp_kv(o, &first, m->labels[i].name, &m->labels[i].value);
    dt__otlp_puts(o, "],\"startTimeUnixNano\":");
    dt__otlp_u64_str(o, m->start_ns > 0 ? (uint64_t)m->start_ns : 0u);
    dt__otlp_puts(o, ",\"timeUnixNano\":");
    dt__otlp_u64_str(o, m->end_ns > 0 ? (uint64_t)m->end_ns : 0u);
}

static void dt__otlp_number_point(dt__otlp_out *o, const dt_metric *m) {
    dt__otlp_point_head(o, m);
    if (m->is_int && m->value >= -9.2e18 && m->value <= 9.2e18) {
        dt__otlp_puts(o, ",\"asInt\":");
        dt__otlp_i64_str(o, (int64_t)m->value);
    } else {
        dt__otlp_puts(o, ",\"asDouble\":");
        dt__otlp_double(o, m->value);
    }
    dt__otlp_putc(o, '}');
}

static void dt__otlp_histogram_point(dt__otlp_out *o, const dt_metric *m) {
    uint32_t i;
    dt__otlp_point_head(o, m);
    dt__otlp_puts(o, ",\"count\":");
    dt__otlp_u64_str(o, m->count);
    dt__otlp_puts(o, ",\"sum\":");
    dt__otlp_double(o, m->sum);
    if (m->nbuckets && m->bucket_counts && (m->nbuckets == 1 || m->bounds)) {
        dt__otlp_puts(o, ",\"bucketCounts\":[");
        for (i = 0; i < m->nbuckets; i++) { if (i) dt__otlp_putc(o, ','); dt__otlp_u64_str(o, m->bucket_counts[i]); }
        dt__otlp_puts(o, "],\"explicitBounds\":[");
        for (i = 0; i + 1 < m->nbuckets; i++) { if (i) dt__otlp_putc(o, ','); dt__otlp_double(o, m->bounds[i]); }
        dt__otlp_putc(o, ']');
    }
    if (m->count) {
        dt__otlp_puts(o, ",\"min\":");
        dt__otlp_double(o, m->min);
        dt__otlp_puts(o, ",\"max\":");
        dt__otlp_double(o, m->max);
    }
    dt__otlp_putc(o, '}');
}

static void dt__otlp_metric(dt__otlp_out *o, const dt_metric *m) {
    int temporality = m->temporality == DT_CUMULATIVE ? 2 : 1;
    char tail[64];
    dt__otlp_puts(o, "{\"name\":");
    dt__otlp_str(o, m->name);
    if (m->unit.len) { dt__otlp_puts(o, ",\"unit\":"); dt__otlp_str(o, m->unit); }
    switch (m->kind) {
    case DT_METRIC_GAUGE:
        dt__otlp_puts(o, ",\"gauge\":{\"dataPoints\":[");
        dt__otlp_number_point(o, m);
        dt__otlp_puts(o, "]}}");
        return;
    case DT_METRIC_HISTOGRAM:
        dt__otlp_puts(o, ",\"histogram\":{\"dataPoints\":[");
        dt__otlp_histogram_point(o, m);
        snprintf(tail, sizeof tail, "],\"aggregationTemporality\":%d}}", temporality);
        break;
    default:
        dt__otlp_puts(o, ",\"sum\":{\"dataPoints\":[");
        dt__otlp_number_point(o, m);
        snprintf(tail, sizeof tail, "],\"aggregationTemporality\":%d,\"isMonotonic\":true}}", temporality);
        break;
    }
    dt__otlp_puts(o, tail);
}

/* ---- batches ------------------------------------------------------------ */
#if DT_NO_THREADS || !(defined(__GNUC__) || defined(__clang__))
static void dt__otlp_lock(dt_otlp_exporter *x) { (void)x; }
static void dt__otlp_unlock(dt_otlp_exporter *x) { (void)x; }
#else
static void dt__otlp_lock(dt_otlp_exporter *x) {
    while (__atomic_exchange_n(&x->lock, 1u, __ATOMIC_ACQUIRE))
        while (__atomic_load_n(&x->lock, __ATOMIC_RELAXED)) { /* held only to append or write a line */ }
}
static void dt__otlp_unlock(dt_otlp_exporter *x) { __atomic_store_n(&x->lock, 0u, __ATOMIC_RELEASE); }
#endif

/* Writes b as one request line (logs or metrics) and empties it. Under the
 * lock. */
static void dt__otlp_write(dt_otlp_exporter *x, dt_otlp_batch *b, int logs) {
    const char *head = logs ? "{\"resourceLogs\":[{" : "{\"resourceMetrics\":[{";
    const char *mid = logs ? ",\"scopeLogs\":[{\"scope\":{\"name\":\"dt\",\"version\":\"0.1.0\"},\"logRecords\":["
                           : ",\"scopeMetrics\":[{\"scope\":{\"name\":\"dt\",\"version\":\"0.1.0\"},\"metrics\":[";
    static const char tail[] = "]}]}]}\n";
    if (!b->records) return;
    x->desc.write(head, strlen(head), x->desc.user_data);
    x->desc.write(x->resource, x->resource_len, x->desc.user_data);
    x->desc.write(mid, strlen(mid), x->desc.user_data);
    x->desc.write(b->buf, b->len, x->desc.user_data);
    x->desc.write(tail, sizeof tail - 1, x->desc.user_data);
    if (logs) x->stats.log_requests++;
    else x->stats.metric_requests++;
    b->len = 0;
    b->records = 0;
}

typedef void (*dt__otlp_encode_fn)(dt__otlp_out *o, const void *item);
static void dt__otlp_enc_log(dt__otlp_out *o, const void *item) { dt__otlp_log_record(o, (const dt_event *)item); }
static void dt__otlp_enc_metric(dt__otlp_out *o, const void *item) { dt__otlp_metric(o, (const dt_metric *)item); }

/* Encodes one record at the end of b: 1 when it fit. */
static int dt__otlp_try_append(dt_otlp_batch *b, dt__otlp_encode_fn enc, const void *item) {
    dt__otlp_out o;
    o.p = b->buf;
    o.len = b->len;
    o.cap = sizeof b->buf;
    o.overflow = 0;
    if (b->records) dt__otlp_putc(&o, ',');
    enc(&o, item);
    if (o.overflow) return 0;
    b->len = o.len;
    return 1;
}

static void dt__otlp_append(dt_otlp_exporter *x, int logs, dt__otlp_encode_fn enc, const void *item, int64_t ts) {
    dt_otlp_batch *b = logs ? &x->logs : &x->metrics;
    dt__otlp_lock(x);
    if (!dt__otlp_try_append(b, enc, item)) {
        dt__otlp_write(x, b, logs);                    /* full: send what is there, retry on an empty batch */
        if (!dt__otlp_try_append(b, enc, item)) { x->stats.dropped++; dt__otlp_unlock(x); return; }
    }
    if (!b->records++) b->first_ts = ts;
    if (logs) x->stats.log_records++;
    else x->stats.metric_points++;
    if (b->records >= x->desc.max_records) dt__otlp_write(x, b, logs);
    dt__otlp_unlock(x);
}

/* ---- public ------------------------------------------------------------- */
DT_API int dt_otlp_init(dt_otlp_exporter *x, const dt_otlp_desc *desc) {
    dt__otlp_out o;
    dt_value v;
    uint32_t i;
    int first = 1;
    if (!x || !desc || !desc->write) return DT_ERR_INVALID;
    memset(x, 0, sizeof *x);
    x->desc = *desc;
    if (!x->desc.max_records) x->desc.max_records = 512;
    if (!x->desc.max_age_ns) x->desc.max_age_ns = 10000000000ll;
    o.p = x->resource;
    o.len = 0;
    o.cap = sizeof x->resource;
    o.overflow = 0;
    dt__otlp_puts(&o, "\"resource\":{\"attributes\":[");
    v.type = DT_TYPE_STR;
    v.as.str = dt_cstr(desc->service_name ? desc->service_name : "unknown_service");
    dt__otlp_kv(&o, &first, dt_cstr("service.name"), &v);
    for (i = 0; i < desc->nresource; i++) dt__otlp_kv(&o, &first, desc->resource[i].name, &desc->resource[i].value);
    dt__otlp_puts(&o, "]}");
    x->resource_len = o.len;
    return o.overflow ? DT_ERR_LIMIT : DT_OK;
}

DT_API void dt_otlp_event_sink(const dt_event *ev, void *user_data) {
    if (ev && user_data) dt__otlp_append((dt_otlp_exporter *)user_data, 1, dt__otlp_enc_log, ev, ev->ts);
}

DT_API void dt_otlp_metric_sink(const dt_metric *m, void *user_data) {
    if (m && user_data) dt__otlp_append((dt_otlp_exporter *)user_data, 0, dt__otlp_enc_metric, m, m->end_ns);
}

DT_API void dt_otlp_flush(dt_otlp_exporter *x) {
    dt__otlp_lock(x);
    dt__otlp_write(x, &x->logs, 1);
    dt__otlp_write(x, &x->metrics, 0);
    dt__otlp_unlock(x);
}

DT_API void dt_otlp_tick(dt_otlp_exporter *x, int64_t now) {
    dt__otlp_lock(x);
    if (x->logs.records && now - x->logs.first_ts >= x->desc.max_age_ns) dt__otlp_write(x, &x->logs, 1);
    if (x->metrics.records && now - x->metrics.first_ts >= x->desc.max_age_ns) dt__otlp_write(x, &x->metrics, 0);
    dt__otlp_unlock(x);
}

DT_API dt_otlp_stats dt_otlp_get_stats(dt_otlp_exporter *x) {
    dt_otlp_stats s;
    dt__otlp_lock(x);
    s = x->stats;
    dt__otlp_unlock(x);
    return s;
}

#endif /* DT_OTLP_IMPLEMENTATION */
