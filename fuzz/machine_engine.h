/* The engine both state-machine fuzz targets run on: the two stateful
 * processors, high risk allowed, a no-op host action memory_dump and a
 * host function recompute. Include once, after dt.h and dt_stateful.h. */
#ifndef DT_FUZZ_MACHINE_ENGINE_H
#define DT_FUZZ_MACHINE_ENGINE_H

static void fz_sink(const dt_event *ev, void *ud) { (void)ev; (void)ud; }
static void fz_action(dt_engine *e, const dt_action_call *c, void *ud) { (void)e; (void)c; (void)ud; }
static dt_value fz_fn(dt_exec *x, const dt_value *a, uint32_t n, void *ud) { (void)x; (void)n; (void)ud; return a[0]; }

/* metric may be NULL; deferred: memory_dump goes through dt_poll. */
static dt_engine *fz_engine(void (*metric)(const dt_metric *, void *), int deferred) {
    static const dt_processor *procs[2];
    dt_desc desc;
    dt_action_desc act;
    dt_function_desc fn;
    dt_engine *e;
    memset(&desc, 0, sizeof desc);
    procs[0] = dt_stateful_processor();
    procs[1] = dt_stateful_trigger_processor();
    desc.processors = procs;
    desc.nprocessors = 2;
    desc.sinks.event = fz_sink;
    desc.sinks.metric = metric;
    desc.max_program_bytes = (size_t)4 << 20;      /* keep a hostile `max` small */
    desc.max_risk = DT_RISK_HIGH;
    e = dt_create(&desc);
    if (!e) return NULL;
    memset(&act, 0, sizeof act);
    act.name = "memory_dump";
    act.fn = fz_action;
    act.max_args = 4;
    act.deferred = deferred;
    dt_action_register(e, &act);
    memset(&fn, 0, sizeof fn);
    fn.name = "recompute";
    fn.fn = fz_fn;
    fn.min_args = fn.max_args = 1;
    dt_register_function(e, &fn);
    return e;
}

#endif
