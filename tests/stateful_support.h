/* Helpers for the state-machine tests (tests/test_stateful*.c): an engine
 * with both stateful processors, a host action and a host function, and
 * sinks that write one line per event, metric and action into a buffer. */
#ifndef DT_TESTS_STATEFUL_SUPPORT_H
#define DT_TESTS_STATEFUL_SUPPORT_H

#include <stdio.h>
#include <string.h>

#include "dt.h"
#include "dt_stateful.h"
#include "support.h"

#define SM_SEC 1000000000LL

typedef struct sm_cap {
    char out[16384];
    char last[640];          /* the last event, with its time in seconds */
    int64_t now;
} sm_cap;

SUP_UNUSED static void sm_put(sm_cap *c, const char *s) { sup_append(c->out, sizeof c->out, s); }

SUP_UNUSED static void sm_fmt_labels(char *out, size_t size, const dt_field *f, uint32_t n) {
    size_t at = sup_put(out, size, 0, "{");
    uint32_t i;
    for (i = 0; i < n; i++) {
        char v[96], one[160];
        sup_fmt_value(v, sizeof v, &f[i].value, 0);
        snprintf(one, sizeof one, "%s%.*s=%s", i ? "," : "", (int)f[i].name.len, f[i].name.ptr, v);
        at = sup_put(out, size, at, one);
    }
    (void)sup_put(out, size, at, "}");
}

SUP_UNUSED static void sm_on_event(const dt_event *ev, void *ud) {
    sm_cap *c = (sm_cap *)ud;
    char s[512];
    sup_fmt_event(s, sizeof s, ev, 0);
    snprintf(c->last, sizeof c->last, "%s@%lld\n", s, (long long)(ev->ts / SM_SEC));
    sm_put(c, s);
    sm_put(c, "\n");
}

SUP_UNUSED static void sm_on_metric(const dt_metric *m, void *ud) {
    char labels[256], s[600], b[200];
    uint32_t i;
    size_t at = 0;
    sm_fmt_labels(labels, sizeof labels, m->labels, m->nlabels);
    if (m->kind == DT_METRIC_HISTOGRAM) {
        b[0] = 0;
        for (i = 0; i < m->nbuckets; i++) {
            char one[32];
            snprintf(one, sizeof one, "%s%llu", i ? "," : "", (unsigned long long)m->bucket_counts[i]);
            at = sup_put(b, sizeof b, at, one);
        }
        snprintf(s, sizeof s, "H:%.*s%s n=%llu sum=%g min=%g max=%g [%s] @%lld-%lld\n", (int)m->name.len, m->name.ptr,
                 labels, (unsigned long long)m->count, m->sum, m->min, m->max, b, (long long)(m->start_ns / SM_SEC),
                 (long long)(m->end_ns / SM_SEC));
    } else {
        snprintf(s, sizeof s, "M:%.*s%s=%.0f\n", (int)m->name.len, m->name.ptr, labels, m->value);
    }
    sm_put((sm_cap *)ud, s);
}

SUP_UNUSED static void sm_on_action(const dt_action_call *call, void *ud) {
    char args[256], s[400];
    size_t at = 0;
    uint32_t i;
    if (call->suppressed) return;
    args[0] = 0;
    for (i = 0; i < call->nargs; i++) {
        char v[96];
        sup_fmt_value(v, sizeof v, &call->args[i], 0);
        at = sup_put(args, sizeof args, at, i ? "," : "");
        at = sup_put(args, sizeof args, at, v);
    }
    snprintf(s, sizeof s, "A:%s(%s)@%lld\n", call->action, args, (long long)(call->ts / SM_SEC));
    sm_put((sm_cap *)ud, s);
}

SUP_UNUSED static void sm_memory_dump(dt_engine *e, const dt_action_call *call, void *ud) { (void)e; (void)call; (void)ud; }

/* The host's "recompute the hash": here the length of the name. */
SUP_UNUSED static dt_value sm_recompute(dt_exec *x, const dt_value *args, uint32_t n, void *ud) {
    dt_value v;
    (void)x; (void)n; (void)ud;
    memset(&v, 0, sizeof v);
    if (args[0].type != DT_TYPE_STR) return v;
    v.type = DT_TYPE_I64;
    v.as.i64 = (int64_t)args[0].as.str.len;
    return v;
}

SUP_UNUSED static dt_engine *sm_engine(sm_cap *c, dt_risk max_risk) {
    static const dt_processor *procs[2];
    dt_action_desc act;
    dt_function_desc fn;
    dt_engine *e;
    dt_desc d;
    memset(c, 0, sizeof *c);
    procs[0] = dt_stateful_processor();
    procs[1] = dt_stateful_trigger_processor();
    d = sup_desc(c, &c->now, 1);
    d.sinks.event = sm_on_event;
    d.sinks.metric = sm_on_metric;
    d.sinks.action = sm_on_action;
    d.processors = procs;
    d.nprocessors = 2;
    d.max_risk = max_risk;
    d.self_interval_ns = -1;
    e = dt_create(&d);
    memset(&act, 0, sizeof act);
    act.name = "memory_dump";
    act.fn = sm_memory_dump;
    act.max_args = 2;
    dt_action_register(e, &act);
    memset(&fn, 0, sizeof fn);
    fn.name = "recompute";
    fn.fn = sm_recompute;
    fn.min_args = fn.max_args = 1;
    fn.result = DT_TYPE_I64;
    dt_register_function(e, &fn);
    return e;
}

/* Deploys, printing the error (the test then fails on the result). */
SUP_UNUSED static int sm_deploy(dt_engine *e, const char *text) {
    dt_error err;
    int rc = dt_deploy(e, text, strlen(text), &err);
    if (rc != DT_OK) fprintf(stderr, "deploy: %d:%d: %s\n", err.line, err.column, err.message);
    return rc;
}

SUP_UNUSED static void sm_emit_i(dt_engine *e, const char *name, int64_t ts, uint64_t tid, const char *field, int64_t v) {
    dt_field f = dt_field_i64(field, v);
    sup_emit_fields(e, name, DT_INFO, ts, tid, &f, 1);
}

SUP_UNUSED static void sm_emit_s(dt_engine *e, const char *name, int64_t ts, uint64_t tid, const char *field, const char *v) {
    dt_field f = dt_field_str(field, v);
    sup_emit_fields(e, name, DT_INFO, ts, tid, &f, 1);
}

SUP_UNUSED static void sm_emit_f(dt_engine *e, const char *name, int64_t ts, const char *field, double v) {
    dt_field f = dt_field_f64(field, v);
    sup_emit_fields(e, name, DT_INFO, ts, 0, &f, 1);
}

SUP_UNUSED static void sm_emit_ab(dt_engine *e, int64_t ts, const char *a, int64_t b) {
    dt_field f[2];
    f[0] = dt_field_str("a", a);
    f[1] = dt_field_i64("b", b);
    sup_emit_fields(e, "X", DT_INFO, ts, 0, f, 2);
}

SUP_UNUSED static void sm_emit_kv(dt_engine *e, const char *name, int64_t ts, const char *k, const char *who, int64_t n) {
    dt_field f[3];
    uint32_t i = 0;
    f[i++] = dt_field_str("k", k);
    if (who) f[i++] = dt_field_str("who", who);
    f[i++] = dt_field_i64("n", n);
    sup_emit_fields(e, name, DT_INFO, ts, 0, f, i);
}

SUP_UNUSED static void sm_emit_kv2(dt_engine *e, const char *name, int64_t ts, int64_t code, int64_t ms) {
    dt_field f[2];
    f[0] = dt_field_i64("code", code);
    f[1] = dt_field_i64("ms", ms);
    sup_emit_fields(e, name, DT_INFO, ts, 0, f, 2);
}

SUP_UNUSED static void sm_emit_hash(dt_engine *e, int64_t ts, const char *file, int64_t hash) {
    dt_field f[2];
    f[0] = dt_field_str("fileName", file);
    f[1] = dt_field_i64("hashValue", hash);
    sup_emit_fields(e, "LogEndFileHash", DT_INFO, ts, 0, f, 2);
}

SUP_UNUSED static const char *sm_last_ts(const sm_cap *c) { return c->last; }

#endif
