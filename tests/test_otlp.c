/* The OTLP/JSON exporter (examples/otlp/dt_otlp.h): exact request lines
 * for logs and each metric kind, batching, escaping, and every line checked
 * against the field names and JSON types of the OTLP protobuf messages
 * (logs.proto, metrics.proto, common.proto, resource.proto, with the
 * protobuf JSON mapping: lowerCamelCase names, 64-bit integers as strings,
 * enums as numbers, trace and span ids as hex) by a small checker below. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "greatest.h"
#include "support.h"

#define DT_OTLP_IMPLEMENTATION
#include "examples/otlp/dt_otlp.h"

/* ---- a JSON checker driven by the OTLP message definitions --------------- */
enum ok_kind { OK_STR, OK_I64S, OK_U64S, OK_INT, OK_DBL, OK_BOOL, OK_HEX32, OK_HEX16, OK_B64, OK_MSG, OK_ARR };

typedef struct ok_msg ok_msg;
typedef struct ok_field {
    const char *name;
    int kind;
    const ok_msg *msg;       /* OK_MSG, or OK_ARR of messages */
    int elem;                /* OK_ARR: the element kind */
    int oneof;               /* at most one field with oneof set per object */
} ok_field;
struct ok_msg {
    const char *name;
    const ok_field *fields;
};

#define F(n, k) { n, k, NULL, 0, 0 }
#define FM(n, m) { n, OK_MSG, &m, 0, 0 }
#define FA(n, m) { n, OK_ARR, &m, OK_MSG, 0 }
#define FAK(n, k) { n, OK_ARR, NULL, k, 0 }
#define FO(n, k) { n, k, NULL, 0, 1 }
#define FOM(n, m) { n, OK_MSG, &m, 0, 1 }
#define FEND { NULL, 0, NULL, 0, 0 }

extern const ok_msg ok_any, ok_kv, ok_kvlist, ok_array;
static const ok_field ok_kv_f[] = { F("key", OK_STR), FM("value", ok_any), FEND };
const ok_msg ok_kv = { "KeyValue", ok_kv_f };
static const ok_field ok_kvlist_f[] = { FA("values", ok_kv), FEND };
const ok_msg ok_kvlist = { "KeyValueList", ok_kvlist_f };
static const ok_field ok_array_f[] = { FA("values", ok_any), FEND };
const ok_msg ok_array = { "ArrayValue", ok_array_f };
static const ok_field ok_any_f[] = { FO("stringValue", OK_STR), FO("boolValue", OK_BOOL), FO("intValue", OK_I64S),
                                     FO("doubleValue", OK_DBL), FO("bytesValue", OK_B64),
                                     FOM("arrayValue", ok_array), FOM("kvlistValue", ok_kvlist), FEND };
const ok_msg ok_any = { "AnyValue", ok_any_f };
static const ok_field ok_resource_f[] = { FA("attributes", ok_kv), F("droppedAttributesCount", OK_INT), FEND };
static const ok_msg ok_resource = { "Resource", ok_resource_f };
static const ok_field ok_scope_f[] = { F("name", OK_STR), F("version", OK_STR), FA("attributes", ok_kv),
                                       F("droppedAttributesCount", OK_INT), FEND };
static const ok_msg ok_scope = { "InstrumentationScope", ok_scope_f };

static const ok_field ok_log_f[] = { F("timeUnixNano", OK_U64S), F("observedTimeUnixNano", OK_U64S),
                                     F("severityNumber", OK_INT), F("severityText", OK_STR), FM("body", ok_any),
                                     FA("attributes", ok_kv), F("droppedAttributesCount", OK_INT), F("flags", OK_INT),
                                     F("traceId", OK_HEX32), F("spanId", OK_HEX16), F("eventName", OK_STR), FEND };
static const ok_msg ok_log = { "LogRecord", ok_log_f };
static const ok_field ok_scope_logs_f[] = { FM("scope", ok_scope), FA("logRecords", ok_log), F("schemaUrl", OK_STR),
                                            FEND };
static const ok_msg ok_scope_logs = { "ScopeLogs", ok_scope_logs_f };
static const ok_field ok_resource_logs_f[] = { FM("resource", ok_resource), FA("scopeLogs", ok_scope_logs),
                                               F("schemaUrl", OK_STR), FEND };
static const ok_msg ok_resource_logs = { "ResourceLogs", ok_resource_logs_f };
static const ok_field ok_logs_req_f[] = { FA("resourceLogs", ok_resource_logs), FEND };
static const ok_msg ok_logs_req = { "ExportLogsServiceRequest", ok_logs_req_f };

static const ok_field ok_number_f[] = { FA("attributes", ok_kv), F("startTimeUnixNano", OK_U64S),
                                        F("timeUnixNano", OK_U64S), FO("asDouble", OK_DBL), FO("asInt", OK_I64S),
                                        F("flags", OK_INT), FEND };
static const ok_msg ok_number = { "NumberDataPoint", ok_number_f };
static const ok_field ok_hist_point_f[] = { FA("attributes", ok_kv), F("startTimeUnixNano", OK_U64S),
                                            F("timeUnixNano", OK_U64S), F("count", OK_U64S), F("sum", OK_DBL),
                                            FAK("bucketCounts", OK_U64S), FAK("explicitBounds", OK_DBL),
                                            F("flags", OK_INT), F("min", OK_DBL), F("max", OK_DBL), FEND };
static const ok_msg ok_hist_point = { "HistogramDataPoint", ok_hist_point_f };
static const ok_field ok_gauge_f[] = { FA("dataPoints", ok_number), FEND };
static const ok_msg ok_gauge = { "Gauge", ok_gauge_f };
static const ok_field ok_sum_f[] = { FA("dataPoints", ok_number), F("aggregationTemporality", OK_INT),
                                     F("isMonotonic", OK_BOOL), FEND };
static const ok_msg ok_sum = { "Sum", ok_sum_f };
static const ok_field ok_hist_f[] = { FA("dataPoints", ok_hist_point), F("aggregationTemporality", OK_INT), FEND };
static const ok_msg ok_hist = { "Histogram", ok_hist_f };
static const ok_field ok_metric_f[] = { F("name", OK_STR), F("description", OK_STR), F("unit", OK_STR),
                                        FOM("gauge", ok_gauge), FOM("sum", ok_sum), FOM("histogram", ok_hist), FEND };
static const ok_msg ok_metric = { "Metric", ok_metric_f };
static const ok_field ok_scope_metrics_f[] = { FM("scope", ok_scope), FA("metrics", ok_metric),
                                               F("schemaUrl", OK_STR), FEND };
static const ok_msg ok_scope_metrics = { "ScopeMetrics", ok_scope_metrics_f };
static const ok_field ok_resource_metrics_f[] = { FM("resource", ok_resource), FA("scopeMetrics", ok_scope_metrics),
                                                  F("schemaUrl", OK_STR), FEND };
static const ok_msg ok_resource_metrics = { "ResourceMetrics", ok_resource_metrics_f };
static const ok_field ok_metrics_req_f[] = { FA("resourceMetrics", ok_resource_metrics), FEND };
static const ok_msg ok_metrics_req = { "ExportMetricsServiceRequest", ok_metrics_req_f };

typedef struct ok_cur {
    const char *p, *end;
    char why[160];
} ok_cur;

static int ok_fail(ok_cur *c, const char *what) {
    if (!c->why[0]) snprintf(c->why, sizeof c->why, "%s at offset -%d: %.20s", what, (int)(c->end - c->p), c->p);
    return 0;
}

static void ok_ws(ok_cur *c) { while (c->p < c->end && strchr(" \t\r\n", *c->p) && *c->p) c->p++; }

/* A JSON string; its raw contents (escapes undecoded) in *s, *n. */
static int ok_string(ok_cur *c, const char **s, size_t *n) {
    ok_ws(c);
    if (c->p >= c->end || *c->p != '"') return ok_fail(c, "string expected");
    *s = ++c->p;
    while (c->p < c->end && *c->p != '"') {
        if ((unsigned char)*c->p < 0x20) return ok_fail(c, "control character in string");
        if (*c->p == '\\') {
            c->p++;
            if (c->p >= c->end || !strchr("\"\\/bfnrtu", *c->p)) return ok_fail(c, "bad escape");
            if (*c->p == 'u') {
                int i;
                for (i = 1; i <= 4; i++)
                    if (c->p + i >= c->end || !strchr("0123456789abcdefABCDEF", c->p[i])) return ok_fail(c, "bad \\u");
                c->p += 4;
            }
        }
        c->p++;
    }
    if (c->p >= c->end) return ok_fail(c, "unterminated string");
    *n = (size_t)(c->p - *s);
    c->p++;
    return 1;
}

/* A JSON number; *integer: no fraction or exponent. */
static int ok_number_tok(ok_cur *c, int *integer) {
    const char *s;
    ok_ws(c);
    s = c->p;
    *integer = 1;
    if (c->p < c->end && *c->p == '-') c->p++;
    if (c->p >= c->end || *c->p < '0' || *c->p > '9') return ok_fail(c, "number expected");
    if (*c->p == '0') c->p++;
    else while (c->p < c->end && *c->p >= '0' && *c->p <= '9') c->p++;
    if (c->p < c->end && *c->p == '.') {
        *integer = 0;
        c->p++;
        if (c->p >= c->end || *c->p < '0' || *c->p > '9') return ok_fail(c, "digit after '.'");
        while (c->p < c->end && *c->p >= '0' && *c->p <= '9') c->p++;
    }
    if (c->p < c->end && (*c->p == 'e' || *c->p == 'E')) {
        *integer = 0;
        c->p++;
        if (c->p < c->end && (*c->p == '+' || *c->p == '-')) c->p++;
        if (c->p >= c->end || *c->p < '0' || *c->p > '9') return ok_fail(c, "exponent digits");
        while (c->p < c->end && *c->p >= '0' && *c->p <= '9') c->p++;
    }
    return c->p > s;
}

static int ok_all_of(const char *s, size_t n, const char *set) {
    size_t i;
    for (i = 0; i < n; i++) if (!strchr(set, s[i]) || !s[i]) return 0;
    return 1;
}

static int ok_object(ok_cur *c, const ok_msg *m);

static int ok_scalar_string(ok_cur *c, int kind) {
    const char *s;
    size_t n;
    if (!ok_string(c, &s, &n)) return 0;
    switch (kind) {
    case OK_I64S:
        if (n && *s == '-') { s++; n--; }
        /* fall through */
    case OK_U64S: return n && n <= 20 && ok_all_of(s, n, "0123456789") ? 1 : ok_fail(c, "64-bit integer string");
    case OK_HEX32: return n == 32 && ok_all_of(s, n, "0123456789abcdef") ? 1 : ok_fail(c, "traceId: 32 hex digits");
    case OK_HEX16: return n == 16 && ok_all_of(s, n, "0123456789abcdef") ? 1 : ok_fail(c, "spanId: 16 hex digits");
    case OK_B64:
        return n % 4 == 0 && ok_all_of(s, n, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/=")
                   ? 1 : ok_fail(c, "base64");
    case OK_DBL:
        return (n == 3 && !memcmp(s, "NaN", 3)) || (n == 8 && !memcmp(s, "Infinity", 8)) ||
                       (n == 9 && !memcmp(s, "-Infinity", 9)) ? 1 : ok_fail(c, "double as string");
    default: return 1;
    }
}

static int ok_value(ok_cur *c, int kind, const ok_msg *m, int elem) {
    int integer;
    ok_ws(c);
    if (c->p >= c->end) return ok_fail(c, "value expected");
    switch (kind) {
    case OK_MSG: return ok_object(c, m);
    case OK_BOOL:
        if (c->end - c->p >= 4 && !memcmp(c->p, "true", 4)) { c->p += 4; return 1; }
        if (c->end - c->p >= 5 && !memcmp(c->p, "false", 5)) { c->p += 5; return 1; }
        return ok_fail(c, "bool expected");
    case OK_INT: return ok_number_tok(c, &integer) && (integer || ok_fail(c, "integer expected"));
    case OK_DBL: if (*c->p == '"') return ok_scalar_string(c, OK_DBL); return ok_number_tok(c, &integer);
    case OK_ARR:
        if (*c->p != '[') return ok_fail(c, "array expected");
        c->p++;
        ok_ws(c);
        if (c->p < c->end && *c->p == ']') { c->p++; return 1; }
        for (;;) {
            if (!ok_value(c, elem, m, 0)) return 0;
            ok_ws(c);
            if (c->p < c->end && *c->p == ',') { c->p++; continue; }
            if (c->p < c->end && *c->p == ']') { c->p++; return 1; }
            return ok_fail(c, "',' or ']' expected");
        }
    default: return ok_scalar_string(c, kind);
    }
}

static const ok_field *ok_find(const ok_msg *m, const char *s, size_t n) {
    const ok_field *f;
    for (f = m->fields; f->name; f++) if (strlen(f->name) == n && !memcmp(f->name, s, n)) return f;
    return NULL;
}

static int ok_object(ok_cur *c, const ok_msg *m) {
    int oneofs = 0;
    ok_ws(c);
    if (c->p >= c->end || *c->p != '{') return ok_fail(c, "object expected");
    c->p++;
    ok_ws(c);
    if (c->p < c->end && *c->p == '}') { c->p++; return 1; }
    for (;;) {
        const char *s;
        size_t n;
        const ok_field *f;
        if (!ok_string(c, &s, &n)) return 0;
        f = ok_find(m, s, n);
        if (!f) {
            snprintf(c->why, sizeof c->why, "%s has no field %.*s", m->name, (int)n, s);
            return 0;
        }
        if (f->oneof && ++oneofs > 1) return ok_fail(c, "two members of one oneof");
        ok_ws(c);
        if (c->p >= c->end || *c->p != ':') return ok_fail(c, "':' expected");
        c->p++;
        if (!ok_value(c, f->kind, f->msg, f->elem)) return 0;
        ok_ws(c);
        if (c->p < c->end && *c->p == ',') { c->p++; continue; }
        if (c->p < c->end && *c->p == '}') { c->p++; return 1; }
        return ok_fail(c, "',' or '}' expected");
    }
}

/* Checks one line as the request m; "" when it conforms, else why not. */
static const char *ok_check(const char *line, size_t len, const ok_msg *m, ok_cur *c) {
    c->p = line;
    c->end = line + len;
    c->why[0] = 0;
    if (!ok_object(c, m)) return c->why[0] ? c->why : "invalid";
    ok_ws(c);
    if (c->p != c->end) return "bytes after the request";
    return "";
}

/* ---- capture ------------------------------------------------------------- */
typedef struct ot_out {
    char text[1 << 17];
    size_t len;
    int calls;
} ot_out;

static ot_out oout;
static dt_otlp_exporter oexp;

static void ot_write(const char *bytes, size_t len, void *ud) {
    ot_out *o = (ot_out *)ud;
    o->calls++;
    if (len > sizeof o->text - 1 - o->len) len = sizeof o->text - 1 - o->len;
    memcpy(o->text + o->len, bytes, len);
    o->len += len;
    o->text[o->len] = 0;
}

static void ot_init(uint32_t max_records) {
    dt_otlp_desc d;
    memset(&oout, 0, sizeof oout);
    memset(&d, 0, sizeof d);
    d.write = ot_write;
    d.user_data = &oout;
    d.service_name = "checkout";
    d.max_records = max_records;
    d.max_age_ns = 1000;
    (void)dt_otlp_init(&oexp, &d);
}

static int ot_lines(void) {
    int n = 0;
    size_t i;
    for (i = 0; i < oout.len; i++) n += oout.text[i] == '\n';
    return n;
}

/* Checks every captured line as request m; "" when all conform. */
static const char *ot_check_all(const ok_msg *m) {
    static ok_cur c;
    const char *p = oout.text, *nl;
    while ((nl = strchr(p, '\n')) != NULL) {
        const char *why = ok_check(p, (size_t)(nl - p), m, &c);
        if (*why) return why;
        p = nl + 1;
    }
    return *p ? "last line without newline" : "";
}

#define RES "\"resource\":{\"attributes\":[{\"key\":\"service.name\",\"value\":{\"stringValue\":\"checkout\"}}]}"
#define SCOPE "\"scope\":{\"name\":\"dt\",\"version\":\"0.1.0\"}"

/* ---- logs ---------------------------------------------------------------- */

TEST otlp_log_record_carries_name_severity_time_ids_and_typed_attributes(void) {
    static const uint8_t trace[16] = { 0x4b, 0xf9, 0x2f, 0x35, 0x77, 0xb3, 0x4d, 0xa6, 0xa3, 0xce, 0x92, 0x9d, 0x0e, 0x0e, 0x47, 0x36 };
    dt_field f[8];
    dt_event ev;
    f[0] = dt_field_str("fileName", "a.txt");
    f[1] = dt_field_i64("size", -42);
    f[2] = dt_field_u64("big", 18446744073709551615ull);
    f[3] = dt_field_f64("ratio", 0.5);
    f[4] = dt_field_bool("ok", 1);
    f[5] = dt_field_bytes("raw", "\x01\xff\x10", 3);
    f[6] = dt_field_bytes("trace_id", trace, 16);
    f[7] = dt_field_str("span_id", "00F067AA0BA902B7");
    memset(&ev, 0, sizeof ev);
    ev.name = dt_cstr("LogEndFileHash");
    ev.ts = 1700000000123456789ll;
    ev.tid = 3;
    ev.level = DT_WARN;
    ev.fields = f;
    ev.nfields = 8;
    ot_init(0);
    dt_otlp_event_sink(&ev, &oexp);
    ASSERT_EQ(0u, (unsigned)oout.len);          /* batched until flushed */
    dt_otlp_flush(&oexp);
    ASSERT_STR_EQ("{\"resourceLogs\":[{" RES ",\"scopeLogs\":[{" SCOPE ",\"logRecords\":["
                  "{\"timeUnixNano\":\"1700000000123456789\",\"severityNumber\":13,\"severityText\":\"warn\","
                  "\"eventName\":\"LogEndFileHash\",\"traceId\":\"4bf92f3577b34da6a3ce929d0e0e4736\","
                  "\"spanId\":\"00f067aa0ba902b7\",\"attributes\":["
                  "{\"key\":\"dt.event_id\",\"value\":{\"stringValue\":\"bf411a783a15ad80\"}},"
                  "{\"key\":\"thread.id\",\"value\":{\"intValue\":\"3\"}},"
                  "{\"key\":\"fileName\",\"value\":{\"stringValue\":\"a.txt\"}},"
                  "{\"key\":\"size\",\"value\":{\"intValue\":\"-42\"}},"
                  "{\"key\":\"big\",\"value\":{\"stringValue\":\"18446744073709551615\"}},"
                  "{\"key\":\"ratio\",\"value\":{\"doubleValue\":0.5}},"
                  "{\"key\":\"ok\",\"value\":{\"boolValue\":true}},"
                  "{\"key\":\"raw\",\"value\":{\"bytesValue\":\"Af8Q\"}}]}]}]}]}\n",
                  oout.text);
    ASSERT_STR_EQ("", ot_check_all(&ok_logs_req));
    PASS();
}

TEST otlp_strings_are_escaped_and_invalid_utf8_becomes_replacement(void) {
    dt_field f[3];
    dt_event ev;
    f[0] = dt_field_str("q", "say \"hi\"\\\n\t\x01");
    f[1] = dt_field_strn("bad", "ok\xff\xc3\xa9\xed\xa0\x80", 8);   /* 0xff, é, then a surrogate */
    f[2] = dt_field_f64("nan", 0.0 / 0.0);
    memset(&ev, 0, sizeof ev);
    ev.name = dt_cstr("E");
    ev.level = DT_INFO;
    ev.ts = 5;
    ev.fields = f;
    ev.nfields = 3;
    ot_init(0);
    dt_otlp_event_sink(&ev, &oexp);
    dt_otlp_flush(&oexp);
    ASSERT(strstr(oout.text, "{\"stringValue\":\"say \\\"hi\\\"\\\\\\u000a\\u0009\\u0001\"}") != NULL);
    ASSERT(strstr(oout.text, "{\"stringValue\":\"ok\\ufffd\xc3\xa9\\ufffd\\ufffd\\ufffd\"}") != NULL);
    ASSERT(strstr(oout.text, "{\"doubleValue\":\"NaN\"}") != NULL);
    ASSERT_STR_EQ("", ot_check_all(&ok_logs_req));
    PASS();
}

/* ---- metrics ------------------------------------------------------------- */
static dt_metric ot_metric(const char *name, dt_metric_kind kind, dt_temporality t) {
    dt_metric m;
    memset(&m, 0, sizeof m);
    m.name = dt_cstr(name);
    m.kind = kind;
    m.temporality = t;
    m.start_ns = 60000000000ll;
    m.end_ns = 120000000000ll;
    return m;
}

TEST otlp_counter_is_a_monotonic_sum_with_its_temporality_number(void) {
    dt_field label = dt_field_str("ext", "txt");
    dt_metric m = ot_metric("files", DT_METRIC_COUNTER, DT_DELTA);
    m.labels = &label;
    m.nlabels = 1;
    m.value = 1000;
    m.is_int = 1;
    ot_init(0);
    dt_otlp_metric_sink(&m, &oexp);
    dt_otlp_flush(&oexp);
    ASSERT_STR_EQ("{\"resourceMetrics\":[{" RES ",\"scopeMetrics\":[{" SCOPE ",\"metrics\":["
                  "{\"name\":\"files\",\"sum\":{\"dataPoints\":[{\"attributes\":[{\"key\":\"ext\",\"value\":"
                  "{\"stringValue\":\"txt\"}}],\"startTimeUnixNano\":\"60000000000\",\"timeUnixNano\":\"120000000000\","
                  "\"asInt\":\"1000\"}],\"aggregationTemporality\":1,\"isMonotonic\":true}}]}]}]}\n",
                  oout.text);
    ASSERT_STR_EQ("", ot_check_all(&ok_metrics_req));
    PASS();
}

TEST otlp_gauge_and_histogram_points_conform(void) {
    static const double bounds[2] = { 10, 100 };
    static const uint64_t counts[3] = { 1, 2, 0 };
    dt_metric g = ot_metric("depth", DT_METRIC_GAUGE, DT_DELTA);
    dt_metric h = ot_metric("hash.duration", DT_METRIC_HISTOGRAM, DT_CUMULATIVE);
    g.value = 2.5;
    h.count = 3;
    h.sum = 120.5;
    h.min = 0.5;
    h.max = 70;
    h.nbuckets = 3;
    h.bounds = bounds;
    h.bucket_counts = counts;
    h.unit = dt_cstr("ms");
    ot_init(0);
    dt_otlp_metric_sink(&g, &oexp);
    dt_otlp_metric_sink(&h, &oexp);
    dt_otlp_flush(&oexp);
    ASSERT_EQ(1, ot_lines());
    ASSERT(strstr(oout.text, "{\"name\":\"depth\",\"gauge\":{\"dataPoints\":[{\"attributes\":[],"
                             "\"startTimeUnixNano\":\"60000000000\",\"timeUnixNano\":\"120000000000\","
                             "\"asDouble\":2.5}]}}") != NULL);
    ASSERT(strstr(oout.text, "{\"name\":\"hash.duration\",\"unit\":\"ms\",\"histogram\":{\"dataPoints\":[{"
                             "\"attributes\":[],\"startTimeUnixNano\":\"60000000000\",\"timeUnixNano\":"
                             "\"120000000000\",\"count\":\"3\",\"sum\":120.5,\"bucketCounts\":[\"1\",\"2\",\"0\"],"
                             "\"explicitBounds\":[10,100],\"min\":0.5,\"max\":70}],"
                             "\"aggregationTemporality\":2}}") != NULL);
    ASSERT_STR_EQ("", ot_check_all(&ok_metrics_req));
    PASS();
}

/* ---- batching ------------------------------------------------------------ */

TEST otlp_batches_by_record_count_flush_and_age(void) {
    dt_event ev;
    dt_otlp_stats st;
    int i;
    memset(&ev, 0, sizeof ev);
    ev.name = dt_cstr("HealthCheckPing");
    ev.level = DT_INFO;
    ot_init(2);
    for (i = 1; i <= 5; i++) { ev.ts = i * 100; dt_otlp_event_sink(&ev, &oexp); }
    ASSERT_EQ(2, ot_lines());                   /* records 1-2 and 3-4 went when full */
    dt_otlp_tick(&oexp, 500 + 999);             /* record 5 is 999 ns old: max_age_ns is 1000 */
    ASSERT_EQ(2, ot_lines());
    dt_otlp_tick(&oexp, 500 + 1000);
    ASSERT_EQ(3, ot_lines());
    dt_otlp_flush(&oexp);                       /* nothing pending: no empty request */
    ASSERT_EQ(3, ot_lines());
    st = dt_otlp_get_stats(&oexp);
    ASSERT_EQ(5u, (unsigned)st.log_records);
    ASSERT_EQ(3u, (unsigned)st.log_requests);
    ASSERT_EQ(0u, (unsigned)st.dropped);
    ASSERT_STR_EQ("", ot_check_all(&ok_logs_req));
    PASS();
}

TEST otlp_record_larger_than_a_batch_is_dropped_and_counted(void) {
    static char big[DT_OTLP_BATCH_BYTES + 10];
    dt_field f;
    dt_event ev;
    memset(big, 'x', sizeof big);
    f = dt_field_strn("blob", big, sizeof big);
    memset(&ev, 0, sizeof ev);
    ev.name = dt_cstr("Huge");
    ev.level = DT_INFO;
    ev.fields = &f;
    ev.nfields = 1;
    ot_init(0);
    dt_otlp_event_sink(&ev, &oexp);
    ev.nfields = 0;
    dt_otlp_event_sink(&ev, &oexp);
    dt_otlp_flush(&oexp);
    ASSERT_EQ(1, ot_lines());
    ASSERT_EQ(1u, (unsigned)dt_otlp_get_stats(&oexp).dropped);
    ASSERT_EQ(1u, (unsigned)dt_otlp_get_stats(&oexp).log_records);
    PASS();
}

/* The exporter as an engine's sinks: what the program drops never reaches
 * the line. */
TEST otlp_sinks_export_what_the_program_lets_through(void) {
    dt_desc d;
    dt_engine *e;
    int64_t now;
    dt_field secret = dt_field_str("secret", "s1"), version = dt_field_str("version", "0.0.1");
    ot_init(0);
    d = sup_desc(&oexp, &now, 1000);
    d.sinks.event = dt_otlp_event_sink;
    d.sinks.metric = dt_otlp_metric_sink;
    d.self_interval_ns = -1;
    e = dt_create(&d);
    ASSERT(e);
    ASSERT_EQ(DT_OK, deploy(e, "level LogWelcomeBanner = off"));
    sup_emit_fields(e, "LogWelcomeBanner", DT_INFO, 2000, 0, &secret, 1);
    sup_emit_fields(e, "LogLaunch", DT_INFO, 3000, 0, &version, 1);
    dt_otlp_flush(&oexp);
    dt_destroy(e);
    ASSERT_EQ(1, ot_lines());
    ASSERT(strstr(oout.text, "LogWelcomeBanner") == NULL);
    ASSERT(strstr(oout.text, "\"timeUnixNano\":\"3000\",\"severityNumber\":9,\"severityText\":\"info\","
                             "\"eventName\":\"LogLaunch\"") != NULL);
    ASSERT_STR_EQ("", ot_check_all(&ok_logs_req));
    PASS();
}

/* The checker itself rejects what OTLP/JSON does not allow. */
TEST otlp_checker_rejects_wrong_types_and_unknown_fields(void) {
    ok_cur c;
    const char *bad_int = "{\"resourceLogs\":[{\"scopeLogs\":[{\"logRecords\":[{\"timeUnixNano\":5}]}]}]}";
    const char *bad_name = "{\"resourceLogs\":[{\"scopeLogs\":[{\"logRecords\":[{\"time_unix_nano\":\"5\"}]}]}]}";
    const char *bad_enum = "{\"resourceMetrics\":[{\"scopeMetrics\":[{\"metrics\":[{\"name\":\"x\",\"sum\":"
                           "{\"aggregationTemporality\":\"AGGREGATION_TEMPORALITY_DELTA\"}}]}]}]}";
    const char *two_values = "{\"resourceLogs\":[{\"resource\":{\"attributes\":[{\"key\":\"k\",\"value\":"
                             "{\"intValue\":\"1\",\"stringValue\":\"1\"}}]}}]}";
    const char *good = "{\"resourceLogs\":[{\"scopeLogs\":[{\"logRecords\":[{\"timeUnixNano\":\"5\"}]}]}]}";
    ASSERT_STR_EQ("string expected at offset -8: 5}]}]}]}", ok_check(bad_int, strlen(bad_int), &ok_logs_req, &c));
    ASSERT_STR_EQ("LogRecord has no field time_unix_nano", ok_check(bad_name, strlen(bad_name), &ok_logs_req, &c));
    ASSERT(*ok_check(bad_enum, strlen(bad_enum), &ok_metrics_req, &c));
    ASSERT(*ok_check(two_values, strlen(two_values), &ok_logs_req, &c));
    ASSERT_STR_EQ("", ok_check(good, strlen(good), &ok_logs_req, &c));
    PASS();
}

SUITE(otlp) {
    RUN_TEST(otlp_log_record_carries_name_severity_time_ids_and_typed_attributes);
    RUN_TEST(otlp_strings_are_escaped_and_invalid_utf8_becomes_replacement);
    RUN_TEST(otlp_counter_is_a_monotonic_sum_with_its_temporality_number);
    RUN_TEST(otlp_gauge_and_histogram_points_conform);
    RUN_TEST(otlp_batches_by_record_count_flush_and_age);
    RUN_TEST(otlp_record_larger_than_a_batch_is_dropped_and_counted);
    RUN_TEST(otlp_sinks_export_what_the_program_lets_through);
    RUN_TEST(otlp_checker_rejects_wrong_types_and_unknown_fields);
}
