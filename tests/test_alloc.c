/* Allocation-failure injection, after SQLite's malloc tests: a counting
 * allocator fails the Nth allocation, for every N over a whole engine life
 * (create, deploy a first program, deploy each bundled program over it,
 * run events, tick, flush, roll back, undeploy, destroy). Each failure must
 * give a clean error (DT_ERR_NOMEM or NULL from dt_create, with a message),
 * leave the previous program running exactly as it was, and leak nothing:
 * the allocator counts live blocks, and `make sanitize` runs this suite
 * under ASan/LSan as well. Both one-shot failures (the allocator recovers)
 * and sticky ones (every later call fails too, as when memory is really
 * gone) are tried.
 *
 * Also: no allocation at all on the event path, and the fixed memory block
 * of every size from too small to enough. */
#define _POSIX_C_SOURCE 200809L
#include "greatest.h"
#include "dt.h"
#include "support.h"
#include "reliability.h"

#define SEC 1000000000LL

/* The program running before each bundled one is deployed: it keeps
 * FaBase from being exported, so a test can see it still runs. */
static const char fa_base[] = "level FaBase = off";

typedef struct fa_cap {
    long exported, base_exported;
    int64_t now;
} fa_cap;

static void fa_on_event(const dt_event *ev, void *ud) {
    fa_cap *c = (fa_cap *)ud;
    c->exported++;
    if (ev->name.len == 6 && memcmp(ev->name.ptr, "FaBase", 6) == 0) c->base_exported++;
}

static dt_engine *fa_engine(fa_cap *c, rel_alloc *a, long fail_at, int sticky) {
    dt_desc d;
    memset(c, 0, sizeof *c);
    d = sup_desc(c, &c->now, 100 * SEC);
    d.allocator = rel_allocator(a, fail_at, sticky);
    d.sinks.event = fa_on_event;
    d.processors = rel_processors(&d.nprocessors);
    return dt_create(&d);
}

/* Events that the bundled programs look at (demo and scenario names), with
 * a key field, so recorders, triggers and processors all do work. */
static void fa_traffic(dt_engine *e, int64_t ts) {
    static const char *const names[] = {"LogWelcomeBanner", "ErrorHashing", "LogHashDetailRead", "LogPaymentStep",
                                        "PaymentProcessed", "TransactionFailed", "Tick", "Crash", "Noise",
                                        "HashingStep", "LogEnqueueWork", "FaBase", "FaOther"};
    unsigned i;
    for (i = 0; i < sizeof names / sizeof names[0]; i++) {
        dt_field f[2];
        f[0] = dt_field_str("TransactionId", (i & 1) ? "T-1" : "T-2");
        f[1] = dt_field_i64("i", (int64_t)i);
        sup_emit_fields(e, names[i], (i % 3) ? DT_DEBUG : DT_ERROR, ts + (int64_t)i, 1, f, 2);
    }
}

/* The base program runs: FaBase is not exported, FaOther is. */
static enum greatest_test_res fa_base_runs(dt_engine *e, fa_cap *c, const char *what) {
    dt_program_info info;
    long before = c->exported, base_before = c->base_exported;
    ASSERT_EQm(what, DT_OK, dt_program(e, &info));
    ASSERT_EQm(what, (uint64_t)1, info.version);
    ASSERTm(what, ref_fnv1a(fa_base) == info.hash);
    emit(e, "FaBase", DT_INFO, c->now);
    emit(e, "FaOther", DT_INFO, c->now);
    ASSERT_EQm(what, before + 1, c->exported);
    ASSERT_EQm(what, base_before, c->base_exported);
    PASS();
}

/* A failed deploy's error is a memory error with a message: a clean one. */
static enum greatest_test_res fa_nomem_error(int rc, const dt_error *err, const char *what) {
    char msg[600];
    ASSERT_EQm(what, DT_ERR_NOMEM, rc);
    ASSERT_EQm(what, DT_ERR_NOMEM, err->code);
    dt_error_format(err, msg, sizeof msg);
    if (!strstr(msg, "out of memory")) {
        fprintf(stderr, "\n%s: %s\n", what, msg);
        FAILm("a memory failure gave an unclear error");
    }
    PASS();
}

/* Outcome of one life with allocation fail_at failing. */
typedef struct fa_life {
    long calls;              /* allocations asked for */
    int created, base_ok, rc;
} fa_life;

/* One engine life: create, base program, `text` over it, traffic, tick,
 * flush, rollback, undeploy, destroy. want: the deploy result of text with
 * memory to spare. */
static enum greatest_test_res fa_life_run(const char *text, int want, long fail_at, int sticky, fa_life *out,
                                          const char *what) {
    rel_alloc a;
    fa_cap c;
    dt_error err;
    dt_engine *e = fa_engine(&c, &a, fail_at, sticky);
    memset(out, 0, sizeof *out);
    if (!e) {
        ASSERTm(what, a.failures > 0);
        ASSERT_EQm(what, 0L, a.live);
        out->calls = a.calls;
        PASS();
    }
    out->created = 1;
    out->rc = dt_deploy(e, fa_base, sizeof fa_base - 1, &err);
    if (out->rc != DT_OK) {
        dt_program_info info;
        CHECK_CALL(fa_nomem_error(out->rc, &err, what));
        ASSERT_EQm(what, DT_ERR_EMPTY, dt_program(e, &info));
    } else {
        out->base_ok = 1;
        CHECK_CALL(fa_base_runs(e, &c, what));
        out->rc = dt_deploy(e, text, strlen(text), &err);
        if (out->rc == DT_OK) {
            ASSERT_EQm(what, DT_OK, want);
        } else if (out->rc != want) {
            CHECK_CALL(fa_nomem_error(out->rc, &err, what));
        }
        if (out->rc != DT_OK) CHECK_CALL(fa_base_runs(e, &c, what));
    }
    fa_traffic(e, c.now + SEC);
    dt_tick(e, c.now + 10 * 60 * SEC);
    dt_flush(e);
    (void)dt_poll(e);
    if (out->rc == DT_OK && out->base_ok) {
        ASSERT_EQm(what, DT_OK, dt_rollback(e));
        CHECK_CALL(fa_base_runs(e, &c, what));
    }
    (void)dt_undeploy(e);
    dt_destroy(e);
    ASSERT_EQm(what, 0L, a.live);                /* nothing leaked, on any path */
    out->calls = a.calls;
    PASS();
}

/* Every N from 1 to the allocations of a life with no failure, one-shot
 * and sticky. The last N past that is the clean run itself. */
static enum greatest_test_res fa_every_failure_point(const char *path, long *points) {
    size_t len;
    char *text = rel_read_file(path, &len);
    char what[400];
    fa_life clean, life;
    rel_alloc probe;
    fa_cap c;
    dt_error err;
    int want;
    long n;
    dt_engine *e;
    ASSERTm(path, text != NULL);
    e = fa_engine(&c, &probe, 0, 0);             /* the program's own result, memory to spare */
    ASSERTm(path, e != NULL);
    want = dt_deploy(e, text, len, &err);
    dt_destroy(e);
    snprintf(what, sizeof what, "%s, no failure", path);
    CHECK_CALL(fa_life_run(text, want, 0, 0, &clean, what));
    ASSERT_EQm(what, want, clean.rc);
    for (n = 1; n <= clean.calls; n++) {
        int sticky;
        for (sticky = 0; sticky < 2; sticky++) {
            snprintf(what, sizeof what, "%s, allocation %ld of %ld fails%s", path, n, clean.calls,
                     sticky ? ", and every one after" : "");
            CHECK_CALL(fa_life_run(text, want, n, sticky, &life, what));
            (*points)++;
        }
    }
    free(text);
    PASS();
}

/* The bundled programs, and one that uses every construct of the core
 * language (so each allocation of the compiler fails once). */
TEST every_allocation_failure_over_every_bundled_program_is_clean(void) {
    rel_programs ps;
    unsigned i;
    long points = 0;
    rel_bundled_programs(&ps);
    ASSERTm("examples/demo/demo.dt and tests/cli/*/program.dt are found", ps.n >= 2);
    ASSERT_STR_EQ("examples/demo/demo.dt", ps.sorted[0]);
    for (i = 0; i < ps.n; i++) CHECK_CALL(fa_every_failure_point(ps.sorted[i], &points));
    CHECK_CALL(fa_every_failure_point("tests/hostile/every_construct.dt", &points));
    if (GREATEST_IS_VERBOSE()) printf("  %u programs, %ld failure points\n", ps.n, points);
    PASS();
}

/* ---- the processors' state across failures ------------------------------ */

/* A previous program with state in every processor kind: a query that tags
 * events, a summarize with an open window, a keyed machine with an
 * instance in its second state, and a trigger. */
static const char fa_stateful[] =
    "query fa_tag = FaBase | extend tagged = 1\n"
    "query fa_count = FaCount | summarize n = count() every 1h\n"
    "machine fa_m {\n"
    "    by k\n"
    "    Idle -> Busy on FaStart\n"
    "    Busy -> Idle on FaStop { emit FaDone(k = k) }\n"
    "}\n"
    "on FaPing do emit(\"FaPong\", \"info\")\n";

/* The same blocks, with the machine changed: it starts with no instance. */
static const char fa_stateful_changed[] =
    "query fa_tag = FaBase | extend tagged = 1\n"
    "query fa_count = FaCount | summarize n = count() every 1h\n"
    "machine fa_m {\n"
    "    by k\n"
    "    Idle -> Busy on FaStart\n"
    "    Busy -> Idle on FaStop, FaAbort { emit FaDone(k = k) }\n"
    "}\n";

typedef struct fa_state_cap {
    long tagged, done, pong, points;
    double counted;
    int64_t now;
} fa_state_cap;

/* What the lives of one test proved, for its verbose line. */
typedef struct fa_state_tally {
    long lives, kept, carried, fell_back;
} fa_state_tally;

static int fa_named(dt_str s, const char *name) { return s.len == strlen(name) && memcmp(s.ptr, name, s.len) == 0; }

static void fa_state_event(const dt_event *ev, void *ud) {
    fa_state_cap *c = (fa_state_cap *)ud;
    if (fa_named(ev->name, "FaBase") && ev->nfields && fa_named(ev->fields[ev->nfields - 1].name, "tagged")) c->tagged++;
    if (fa_named(ev->name, "FaDone")) c->done++;
    if (fa_named(ev->name, "FaPong")) c->pong++;
}

static void fa_state_metric(const dt_metric *m, void *ud) {
    fa_state_cap *c = (fa_state_cap *)ud;
    if (!fa_named(m->name, "n")) return;
    c->points++;
    c->counted += m->value;
}

static dt_engine *fa_state_engine(fa_state_cap *c, rel_alloc *a, long fail_at, int sticky) {
    dt_desc d;
    memset(c, 0, sizeof *c);
    d = sup_desc(c, &c->now, 100 * SEC);
    d.allocator = rel_allocator(a, fail_at, sticky);
    d.sinks.event = fa_state_event;
    d.sinks.metric = fa_state_metric;
    d.self_interval_ns = -1;
    d.processors = rel_processors(&d.nprocessors);
    return dt_create(&d);
}

static void fa_emit_k(dt_engine *e, const char *name, int64_t ts) {
    dt_field f = dt_field_str("k", "T-1");
    sup_emit_fields(e, name, DT_INFO, ts, 0, &f, 1);
}

/* Gives fa_stateful its state: an instance in Busy, two events counted. */
static void fa_state_setup(dt_engine *e, const fa_state_cap *c) {
    fa_emit_k(e, "FaStart", c->now);
    emit(e, "FaCount", DT_INFO, c->now);
    emit(e, "FaCount", DT_INFO, c->now);
}

/* fa_stateful runs with the state fa_state_setup gave it: the query tags,
 * the machine's instance is in Busy (FaStop emits FaDone), the trigger
 * fires, and the open window holds both counted events. Handling the
 * events allocates nothing. */
static enum greatest_test_res fa_state_kept(dt_engine *e, fa_state_cap *c, const rel_alloc *a, const char *what) {
    long calls = a->calls;
    fa_state_cap was = *c;
    emit(e, "FaBase", DT_INFO, c->now);
    fa_emit_k(e, "FaStop", c->now);
    emit(e, "FaPing", DT_INFO, c->now);
    ASSERT_EQm(what, calls, a->calls);
    ASSERT_EQm(what, was.tagged + 1, c->tagged);
    ASSERT_EQm(what, was.done + 1, c->done);
    ASSERT_EQm(what, was.pong + 1, c->pong);
    dt_flush(e);
    ASSERT_EQm(what, was.points + 1, c->points);
    ASSERT_EQm(what, was.counted + 2, c->counted);
    PASS();
}

/* fa_stateful deployed over itself: the window and the instance carry over;
 * or, when the deploy's last allocation (the hand-over table) failed, the
 * documented fallback: the old window was flushed at the deploy and the new
 * machine has no instance. */
static enum greatest_test_res fa_state_redeployed(dt_engine *e, fa_state_cap *c, const rel_alloc *a, int fell_back,
                                                  fa_state_tally *t, const char *what) {
    fa_state_cap was = *c;
    long calls = a->calls;
    if (!fell_back) { t->carried++; return fa_state_kept(e, c, a, what); }
    t->fell_back++;
    ASSERT_EQm(what, 1L, c->points);             /* flushed at the deploy */
    ASSERT_EQm(what, 2.0, c->counted);
    fa_emit_k(e, "FaStop", c->now);
    ASSERT_EQm(what, was.done, c->done);         /* no instance carried */
    ASSERT_EQm(what, calls, a->calls);
    PASS();
}

/* One engine life: create, fa_stateful with state, `text` over it, events,
 * tick, rollback, undeploy, destroy, with allocation fail_at failing. Each
 * failure is a clean error and the previous program keeps running with its
 * state; nothing leaks; events never allocate. */
static enum greatest_test_res fa_state_life(const char *text, int want, long fail_at, int sticky, long *calls,
                                            fa_state_tally *t, const char *what) {
    rel_alloc a;
    fa_state_cap c;
    dt_error err;
    long before, failures;
    int rc;
    dt_engine *e = fa_state_engine(&c, &a, fail_at, sticky);
    t->lives++;
    if (!e) {
        ASSERTm(what, a.failures > 0);
        ASSERT_EQm(what, 0L, a.live);
        *calls = a.calls;
        PASS();
    }
    rc = dt_deploy(e, fa_stateful, sizeof fa_stateful - 1, &err);
    if (rc != DT_OK) {
        dt_program_info info;
        CHECK_CALL(fa_nomem_error(rc, &err, what));
        ASSERT_EQm(what, DT_ERR_EMPTY, dt_program(e, &info));
    } else {
        before = a.calls;
        fa_state_setup(e, &c);
        ASSERT_EQm(what, before, a.calls);
        failures = a.failures;
        rc = dt_deploy(e, text, strlen(text), &err);
        if (rc != DT_OK) {
            if (rc != want) CHECK_CALL(fa_nomem_error(rc, &err, what));
            CHECK_CALL(fa_state_kept(e, &c, &a, what));
            t->kept++;
        } else {
            ASSERT_EQm(what, DT_OK, want);
            if (text == fa_stateful) CHECK_CALL(fa_state_redeployed(e, &c, &a, a.failures > failures, t, what));
            before = a.calls;
            fa_traffic(e, c.now + SEC);
            dt_tick(e, c.now + 10 * 60 * SEC);
            ASSERT_EQm(what, before, a.calls);   /* the event path never allocates */
            ASSERT_EQm(what, DT_OK, dt_rollback(e));   /* no memory for the hand-over: the fallback, still DT_OK */
            before = c.tagged;
            emit(e, "FaBase", DT_INFO, c.now);
            ASSERT_EQm(what, before + 1, c.tagged);
        }
    }
    (void)dt_undeploy(e);
    dt_destroy(e);
    ASSERT_EQm(what, 0L, a.live);
    *calls = a.calls;
    PASS();
}

/* want: the program's own deploy result with memory to spare (a bundled
 * program may need a host action this engine lacks). */
static enum greatest_test_res fa_state_every_failure_point(const char *label, const char *text, fa_state_tally *t) {
    char what[400];
    long clean, ignored, n;
    int sticky, want;
    rel_alloc probe;
    fa_state_cap c;
    dt_engine *e = fa_state_engine(&c, &probe, 0, 0);
    ASSERTm(label, e != NULL);
    want = dt_deploy(e, text, strlen(text), NULL);
    dt_destroy(e);
    snprintf(what, sizeof what, "%s over the stateful program, no failure", label);
    CHECK_CALL(fa_state_life(text, want, 0, 0, &clean, t, what));
    for (n = 1; n <= clean; n++) {
        for (sticky = 0; sticky < 2; sticky++) {
            snprintf(what, sizeof what, "%s over the stateful program, allocation %ld of %ld fails%s", label, n, clean,
                     sticky ? ", and every one after" : "");
            CHECK_CALL(fa_state_life(text, want, n, sticky, &ignored, t, what));
        }
    }
    PASS();
}

/* 1 when a program has a query, machine or on statement (at a line start). */
static int fa_uses_processors(const char *text) {
    static const char *const words[] = {"query ", "machine ", "on "};
    const char *line = text;
    unsigned k;
    for (; line; line = strchr(line, '\n'), line = line ? line + 1 : NULL) {
        while (*line == ' ' || *line == '\t') line++;
        for (k = 0; k < 3; k++)
            if (strncmp(line, words[k], strlen(words[k])) == 0) return 1;
    }
    return 0;
}

/* Every allocation of an engine life whose programs hold processor state
 * fails once, and from then on: engine create with the query and stateful
 * processors, the stateful program, each bundled program that uses a
 * processor deployed over it, the same program again (its state carries),
 * a changed one (its machine starts afresh), events, rollback, undeploy,
 * destroy. */
TEST every_allocation_failure_around_processor_state_is_clean(void) {
    rel_programs ps;
    unsigned i, used = 0;
    fa_state_tally t;
    memset(&t, 0, sizeof t);
    ASSERTm("query, machine and on are plugged in",
            rel_has_processor("query") && rel_has_processor("machine") && rel_has_processor("on"));
    rel_bundled_programs(&ps);
    for (i = 0; i < ps.n; i++) {
        char *text = rel_read_file(ps.sorted[i], NULL);
        ASSERTm(ps.sorted[i], text != NULL);
        if (fa_uses_processors(text)) {
            used++;
            CHECK_CALL(fa_state_every_failure_point(ps.sorted[i], text, &t));
        }
        free(text);
    }
    ASSERTm("bundled programs use the processors", used >= 20);
    CHECK_CALL(fa_state_every_failure_point("the stateful program itself", fa_stateful, &t));
    CHECK_CALL(fa_state_every_failure_point("the stateful program changed", fa_stateful_changed, &t));
    ASSERT(t.kept > 0 && t.carried > 0 && t.fell_back > 0);   /* each path was taken */
    if (GREATEST_IS_VERBOSE())
        printf("  %u bundled programs and 2 of its own: %ld engine lives; the previous program kept its state after "
               "%ld failed deploys; state carried %ld times, the hand-over fallback %ld times\n",
               used, t.lives, t.kept, t.carried, t.fell_back);
    PASS();
}

/* The compiler takes memory from its arena in 4 KiB chunks, so a failing
 * allocator only ever fails the compiler call that needs a new chunk.
 * Padding the program with a string literal of 0 to 4 KiB moves the chunk
 * boundaries across the whole compile, so every compiler call of the
 * every-construct program is, for some padding, the one that fails. */
TEST every_compiler_allocation_site_fails_cleanly_under_shifting_layouts(void) {
    size_t len, pad;
    char *sink, *text;
    rel_alloc a;
    fa_cap c;
    dt_engine *e;
    long failures = 0;
    SUP_NEEDS_FLOAT();                           /* every_construct.dt has float literals */
    sink = rel_read_file("tests/hostile/every_construct.dt", &len);
    text = (char *)malloc(len + 4200);
    e = fa_engine(&c, &a, 0, 0);
    ASSERT(sink && text && e);
    for (pad = 0; pad <= 4096; pad += 8) {
        long base, need, k, live = a.live;
        size_t at = (size_t)snprintf(text, 64, "recorder pad { record Pad where s == \"");
        dt_error err;
        memset(text + at, 'p', pad);
        at += pad;
        at += (size_t)snprintf(text + at, 64, "\" }\n");
        memcpy(text + at, sink, len + 1);
        at += len;
        base = a.calls;
        ASSERT_EQ(DT_OK, dt_check(e, text, at, &err, NULL));
        need = a.calls - base;
        ASSERT_EQ(live, a.live);
        for (k = 1; k <= need; k++) {
            a.fail_at = a.calls + k;
            CHECK_CALL(fa_nomem_error(dt_check(e, text, at, &err, NULL), &err, "every construct, padded"));
            a.fail_at = 0;
            ASSERT_EQ(live, a.live);
            failures++;
        }
    }
    dt_destroy(e);
    ASSERT_EQ(0L, a.live);
    if (GREATEST_IS_VERBOSE()) printf("  %ld failed compiles\n", failures);
    free(sink);
    free(text);
    PASS();
}

/* The documented fallback of a program change without memory for its
 * hand-over table: nothing carries over, every old block is flushed. A
 * summarize of the old program then gives its open window at the deploy,
 * instead of carrying it into the new program. */
typedef struct fa_metrics {
    long points;
    double count;
} fa_metrics;

static void fa_on_metric(const dt_metric *m, void *ud) {
    fa_metrics *f = (fa_metrics *)ud;
    f->points++;
    f->count += m->value;
}

static long fa_summarize_redeploy(long fail_last, fa_metrics *at_deploy, fa_metrics *at_flush) {
    static const char prog[] = "query q = A | summarize n = count() every 1m";
    rel_alloc a;
    fa_metrics m;
    int64_t now;
    dt_desc d;
    dt_engine *e;
    long before, used;
    int i;
    memset(&m, 0, sizeof m);
    d = sup_desc(&m, &now, 100 * SEC);
    d.allocator = rel_allocator(&a, 0, 0);
    d.sinks.metric = fa_on_metric;
    d.self_interval_ns = -1;
    d.processors = rel_processors(&d.nprocessors);
    if (!(e = dt_create(&d)) || deploy(e, prog) != DT_OK) return -1;
    for (i = 0; i < 3; i++) emit(e, "A", DT_INFO, 0);
    before = a.calls;
    if (fail_last) a.fail_at = before + fail_last;
    if (deploy(e, prog) != DT_OK) return -1;
    used = a.calls - before;
    a.fail_at = 0;
    *at_deploy = m;
    dt_flush(e);
    at_flush->points = m.points - at_deploy->points;
    at_flush->count = m.count - at_deploy->count;
    dt_destroy(e);
    return a.live ? -2 : used;
}

TEST no_memory_for_the_hand_over_table_flushes_instead_of_carrying(void) {
    fa_metrics dep, fl;
    long used;
    uint32_t n;
    rel_processors(&n);
    if (!n) SKIPm("no processor with state is linked into this binary");
    used = fa_summarize_redeploy(0, &dep, &fl);     /* with memory: the window carries over */
    ASSERT(used > 0);
    ASSERT_EQ(0, dep.points);
    ASSERT_EQ(1, fl.points);
    ASSERT_EQ(3.0, fl.count);
    ASSERT_EQ(used, fa_summarize_redeploy(used, &dep, &fl));   /* the table is the deploy's last allocation */
    ASSERT_EQ(1, dep.points);                       /* flushed at the deploy */
    ASSERT_EQ(3.0, dep.count);
    ASSERT_EQ(0, fl.points);
    PASS();
}

/* The other documented fallback: a first program whose timed level
 * changes cannot be copied for lack of memory deploys, but they do not
 * start (one overflows, logged). */
static long fa_boost_deploy(long fail_last, fa_cap *c, uint64_t *overflows) {
    static const char prog[] = "level Boost* = debug for 5m";
    rel_alloc a;
    dt_engine *e = fa_engine(c, &a, 0, 0);
    long before, used;
    if (!e) return -1;
    before = a.calls;
    if (fail_last) a.fail_at = before + fail_last;
    if (deploy(e, prog) != DT_OK) return -1;
    used = a.calls - before;
    a.fail_at = 0;
    emit(e, "BoostDetail", DT_DEBUG, 0);
    *overflows = stats(e).overflows;
    dt_destroy(e);
    return a.live ? -2 : used;
}

TEST no_memory_for_timed_changes_deploys_without_them_and_counts_it(void) {
    fa_cap c;
    uint64_t overflows;
    long used = fa_boost_deploy(0, &c, &overflows);
    ASSERT(used > 0);
    ASSERT_EQ(1, c.exported);                    /* the boost runs: debug is exported */
    ASSERT_EQ(0u, overflows);
    ASSERT_EQ(used, fa_boost_deploy(used, &c, &overflows));   /* the copy is the deploy's last allocation */
    ASSERT_EQ(0, c.exported);
    ASSERT_EQ(1u, overflows);
    PASS();
}

/* Failures in the engine's own set-up: dt_create says why and frees all. */
static char fa_log_msg[400];
static void fa_log(int severity, const char *message, void *ud) {
    (void)ud;
    if (severity == DT_LOG_ERROR) snprintf(fa_log_msg, sizeof fa_log_msg, "%s", message);
}

TEST create_failure_at_each_allocation_returns_null_logs_and_frees_everything(void) {
    long n, total;
    rel_alloc a;
    dt_desc d;
    dt_engine *e;
    memset(&d, 0, sizeof d);
    d.allocator = rel_allocator(&a, 0, 0);
    e = dt_create(&d);
    ASSERT(e != NULL);
    total = a.calls;
    dt_destroy(e);
    ASSERT_EQ(0L, a.live);
    ASSERT(total >= 2);
    for (n = 1; n <= total; n++) {
        memset(&d, 0, sizeof d);
        d.allocator = rel_allocator(&a, n, 1);
        d.logger.log = fa_log;
        fa_log_msg[0] = 0;
        ASSERT_EQ(NULL, dt_create(&d));
        ASSERT_EQ(0L, a.live);
        ASSERT_STR_EQ(n == 1 ? "dt_create: out of memory for the engine itself"
                             : "dt_create: out of memory for the engine's tables, or a processor was refused "
                               "(give a larger block, lower max_events/max_actions, or check desc.processors)",
                      fa_log_msg);
    }
    PASS();
}

/* Registration tables copy names: a failed copy is an error, the entry is
 * not half made, nothing leaks, and a retry with memory works. */
#ifndef FA_CORE_BUG_REG_FILE     /* 1 while dt.h has the bug; 0 to run the test */
#define FA_CORE_BUG_REG_FILE 0
#endif
#ifndef FA_CORE_BUG_REG_SCHEMA
#define FA_CORE_BUG_REG_SCHEMA 0
#endif

static const dt_schema_field fa_schema[] = {{"a", DT_TYPE_I64}, {"b", DT_TYPE_STR}};

/* Allocations one registration makes on a fresh engine. */
static long fa_register_cost(const char *first_without_schema) {
    rel_alloc a;
    fa_cap c;
    dt_engine *e = fa_engine(&c, &a, 0, 0);
    long before;
    if (!e) return -1;
    if (first_without_schema) (void)dt_register_event(e, first_without_schema, NULL, 0, NULL, 0);
    before = a.calls;
    (void)dt_register_event(e, "FaSchema", fa_schema, 2, first_without_schema ? NULL : "fa.c", 1);
    dt_destroy(e);
    return a.calls - before;
}

TEST registering_an_event_fails_cleanly_at_each_copy(void) {
    long n, need = fa_register_cost(NULL);
#if FA_CORE_BUG_REG_FILE
    SKIPm("core bug: dt__reg_add keeps the entry with file NULL when copying file fails (DT_OK, location lost)");
#endif
    ASSERT_EQ(5L, need);                         /* name, file, fields, 2 field names */
    for (n = 1; n <= need; n++) {
        rel_alloc a;
        fa_cap c;
        dt_engine *e = fa_engine(&c, &a, 0, 0);
        ASSERT(e != NULL);
        a.fail_at = a.calls + n;
        ASSERT_EQ(DT_ERR_NOMEM, dt_register_event(e, "FaSchema", fa_schema, 2, "fa.c", 1));
        a.fail_at = 0;
        ASSERT_EQ(DT_OK, dt_register_event(e, "FaSchema", fa_schema, 2, "fa.c", 1));
        dt_destroy(e);
        ASSERT_EQ(0L, a.live);
    }
    PASS();
}

TEST adding_a_schema_to_a_known_event_fails_cleanly_at_each_copy(void) {
    long n, need = fa_register_cost("FaSchema");
#if FA_CORE_BUG_REG_SCHEMA
    SKIPm("core bug: dt__reg_copy_schema leaks its partial fields when a field name copy fails and is retried");
#endif
    ASSERT_EQ(3L, need);                         /* fields, 2 field names */
    for (n = 1; n <= need; n++) {
        rel_alloc a;
        fa_cap c;
        dt_engine *e = fa_engine(&c, &a, 0, 0);
        ASSERT(e != NULL);
        ASSERT_EQ(DT_OK, dt_register_event(e, "FaSchema", NULL, 0, NULL, 0));
        a.fail_at = a.calls + n;
        ASSERT_EQ(DT_ERR_NOMEM, dt_register_event(e, "FaSchema", fa_schema, 2, NULL, 0));
        a.fail_at = 0;
        ASSERT_EQ(DT_OK, dt_register_event(e, "FaSchema", fa_schema, 2, NULL, 0));
        dt_destroy(e);
        ASSERT_EQ(0L, a.live);
    }
    PASS();
}

static void fa_act(dt_engine *e, const dt_action_call *call, void *ud) { (void)e; (void)call; (void)ud; }

TEST registering_an_action_fails_cleanly_and_retry_works(void) {
    rel_alloc a;
    fa_cap c;
    dt_engine *e = fa_engine(&c, &a, 0, 0);
    dt_action_desc ad;
    ASSERT(e != NULL);
    memset(&ad, 0, sizeof ad);
    ad.name = "fa_action";
    ad.fn = fa_act;
    ad.risk = DT_RISK_LOW;
    a.fail_at = a.calls + 1;
    ASSERT_EQ(DT_ERR_NOMEM, dt_action_register(e, &ad));
    a.fail_at = 0;
    ASSERT_EQ(DT_ERR_UNKNOWN, dt_action_invoke(e, "fa_action", NULL, 0));
    ASSERT_EQ(DT_OK, dt_action_register(e, &ad));
    ASSERT_EQ(DT_OK, dt_action_invoke(e, "fa_action", NULL, 0));
    dt_destroy(e);
    ASSERT_EQ(0L, a.live);
    PASS();
}

/* DESIGN.md: no allocation on the hot path after deploy. Emitting, ticking
 * and polling through every bundled program asks the allocator for
 * nothing. (Flush and program changes may allocate: they are not the event
 * path.) */
TEST emitting_through_every_bundled_program_allocates_nothing(void) {
    rel_programs ps;
    unsigned i;
    rel_bundled_programs(&ps);
    for (i = 0; i < ps.n; i++) {
        rel_alloc a;
        fa_cap c;
        size_t len;
        char *text = rel_read_file(ps.sorted[i], &len);
        dt_engine *e = fa_engine(&c, &a, 0, 0);
        long before;
        int k;
        ASSERT(text && e);
        if (dt_deploy(e, text, len, NULL) == DT_OK) {
            before = a.calls;
            for (k = 0; k < 50; k++) fa_traffic(e, c.now + (int64_t)k * SEC);
            dt_tick(e, c.now + 60 * SEC);
            (void)dt_poll(e);
            ASSERT_EQm(ps.sorted[i], before, a.calls);
        }
        dt_destroy(e);
        ASSERT_EQm(ps.sorted[i], 0L, a.live);
        free(text);
    }
    PASS();
}

/* A fixed memory block of every size, from one that cannot hold the engine
 * to one that holds it and the demo program: dt_create gives NULL or an
 * engine, a deploy gives DT_OK or DT_ERR_NOMEM with the base program
 * untouched; never a crash. With enough room both work. */
TEST fixed_block_of_every_size_fails_cleanly_until_it_is_enough(void) {
    size_t len, size, first_engine = 0, first_deploy = 0;
    char *demo = rel_read_file("examples/demo/demo.dt", &len);
    static uint64_t block[(4u << 20) / 8];
    ASSERT(demo != NULL);
    for (size = 1024; size <= sizeof block; size += size / 8) {
        fa_cap c;
        dt_desc d;
        dt_engine *e;
        dt_error err;
        int rc;
        memset(&c, 0, sizeof c);
        d = sup_desc(&c, &c.now, 100 * SEC);
        d.sinks.event = fa_on_event;
        d.memory.ptr = block;
        d.memory.size = size;
        d.max_events = 64;
        d.processors = rel_processors(&d.nprocessors);
        if (!(e = dt_create(&d))) { ASSERT_EQ((size_t)0, first_engine); continue; }
        if (!first_engine) first_engine = size;
        if (dt_deploy(e, fa_base, sizeof fa_base - 1, &err) == DT_OK) {
            rc = dt_deploy(e, demo, len, &err);
            if (rc != DT_OK) {
                CHECK_CALL(fa_nomem_error(rc, &err, "demo in a fixed block"));
                CHECK_CALL(fa_base_runs(e, &c, "demo in a fixed block"));
            } else if (!first_deploy) {
                first_deploy = size;
            }
            fa_traffic(e, c.now + SEC);
        }
        dt_destroy(e);
    }
    free(demo);
    ASSERTm("an engine fits in 4 MiB", first_engine > 0);
    ASSERTm("the demo program fits in 4 MiB", first_deploy > 0);
    if (GREATEST_IS_VERBOSE()) printf("  engine from %zu bytes, demo deployed from %zu bytes\n", first_engine, first_deploy);
    PASS();
}

/* The very first allocation of a deploy (the program itself) fails with
 * the same message as every later one, not an empty one. */
TEST a_failed_program_allocation_says_out_of_memory(void) {
    rel_alloc a;
    fa_cap c;
    dt_error err;
    dt_engine *e = fa_engine(&c, &a, 0, 0);
    ASSERT(e != NULL);
    a.fail_at = a.calls + 1;
    ASSERT_EQ(DT_ERR_NOMEM, dt_deploy(e, "level A = off", 13, &err));
    ASSERT_STR_EQ("out of memory while compiling the program", err.message);
    a.fail_at = 0;
    ASSERT_EQ(DT_OK, dt_deploy(e, "level A = off", 13, &err));
    dt_destroy(e);
    ASSERT_EQ(0, a.live);
    PASS();
}

SUITE(alloc) {
    RUN_TEST(a_failed_program_allocation_says_out_of_memory);
    RUN_TEST(every_allocation_failure_over_every_bundled_program_is_clean);
    RUN_TEST(every_allocation_failure_around_processor_state_is_clean);
    RUN_TEST(every_compiler_allocation_site_fails_cleanly_under_shifting_layouts);
    RUN_TEST(no_memory_for_the_hand_over_table_flushes_instead_of_carrying);
    RUN_TEST(no_memory_for_timed_changes_deploys_without_them_and_counts_it);
    RUN_TEST(create_failure_at_each_allocation_returns_null_logs_and_frees_everything);
    RUN_TEST(registering_an_event_fails_cleanly_at_each_copy);
    RUN_TEST(adding_a_schema_to_a_known_event_fails_cleanly_at_each_copy);
    RUN_TEST(registering_an_action_fails_cleanly_and_retry_works);
    RUN_TEST(emitting_through_every_bundled_program_allocates_nothing);
    RUN_TEST(fixed_block_of_every_size_fails_cleanly_until_it_is_enough);
}
