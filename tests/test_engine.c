/* The engine object: setup defaults, the fixed memory block, allocator,
 * lock and logger hooks, allocation failure at every point, counters and
 * their balance, bad events, edge values, and self-telemetry. */
#include "greatest.h"
#include "dt.h"
#include "support.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- helpers ------------------------------------------------------------ */

#define SEC 1000000000LL
#define T0 (1000 * SEC)

/* A counting allocator that can refuse its Nth call (0-based). */
typedef struct alloc_ctl {
    long calls, frees, outstanding;
    long fail_at;              /* -1: never */
} alloc_ctl;

static void *ctl_alloc(size_t n, void *ud) {
    alloc_ctl *a = (alloc_ctl *)ud;
    void *p;
    if (a->calls++ == a->fail_at) return NULL;
    p = malloc(n);
    if (p) a->outstanding++;
    return p;
}

static void ctl_free(void *p, void *ud) {
    alloc_ctl *a = (alloc_ctl *)ud;
    if (!p) return;
    a->frees++;
    a->outstanding--;
    free(p);
}

/* Lock hooks that count, and know how many locks are held right now. */
typedef struct lock_ctl {
    int creates, destroys, locks, unlocks, held, double_locks;
} lock_ctl;

static void *lk_create(void *ud) {
    int *l = (int *)malloc(sizeof(int));
    ((lock_ctl *)ud)->creates++;
    if (l) *l = 0;
    return l;
}
static void lk_destroy(void *l, void *ud) {
    ((lock_ctl *)ud)->destroys++;
    free(l);
}
static void lk_lock(void *l, void *ud) {
    lock_ctl *c = (lock_ctl *)ud;
    if (*(int *)l) c->double_locks++;
    *(int *)l = 1;
    c->locks++;
    c->held++;
}
static void lk_unlock(void *l, void *ud) {
    lock_ctl *c = (lock_ctl *)ud;
    *(int *)l = 0;
    c->unlocks++;
    c->held--;
}

/* What the sinks and the logger saw. */
typedef struct cap {
    char events[1024];
    char logs[1024];
    char self[2048];
    int nevents, ndumps, nself, nactions;
    uint32_t records;
    lock_ctl *locks;           /* when set: the most locks held inside any sink */
    int held_in_event, held_in_dump, held_in_action, held_in_self;
    dt_event last;             /* the last exported event, fields copied */
    dt_field last_fields[80];
    int64_t now;
} cap;

static int held(const cap *c) { return c->locks ? c->locks->held : 0; }

static void cap_event(const dt_event *ev, void *ud) {
    cap *c = (cap *)ud;
    char s[160];
    uint32_t n = ev->nfields < 80 ? ev->nfields : 80;
    if (held(c) > c->held_in_event) c->held_in_event = held(c);
    snprintf(s, sizeof s, "%.*s,", (int)(ev->name.len < 64 ? ev->name.len : 64), ev->name.ptr);
    sup_append(c->events, sizeof c->events, s);
    c->nevents++;
    c->last = *ev;
    if (n) memcpy(c->last_fields, ev->fields, sizeof(dt_field) * n);
}

static void cap_dump(const dt_dump *d, void *ud) {
    cap *c = (cap *)ud;
    if (held(c) > c->held_in_dump) c->held_in_dump = held(c);
    c->ndumps++;
    c->records += d->records;
}

static void cap_action(const dt_action_call *call, void *ud) {
    cap *c = (cap *)ud;
    (void)call;
    if (held(c) > c->held_in_action) c->held_in_action = held(c);
    c->nactions++;
}

static void cap_self(const dt_metric *m, void *ud) {
    cap *c = (cap *)ud;
    char s[160];
    if (held(c) > c->held_in_self) c->held_in_self = held(c);
    c->nself++;
    if (m->kind != DT_METRIC_COUNTER || m->temporality != DT_CUMULATIVE || !m->is_int || m->start_ns != T0)
        sup_append(c->self, sizeof c->self, "WRONG-SHAPE ");
    snprintf(s, sizeof s, "%.*s=%.0f@%lld ", (int)m->name.len, m->name.ptr, m->value, (long long)(m->end_ns / SEC));
    sup_append(c->self, sizeof c->self, s);
}

static void cap_log(int severity, const char *message, void *ud) {
    cap *c = (cap *)ud;
    char s[700];
    snprintf(s, sizeof s, "%d:%s\n", severity, message);
    sup_append(c->logs, sizeof c->logs, s);
}

/* A desc with every sink, the logger and a fake clock at T0. */
static dt_desc desc_for(cap *c) {
    dt_desc d;
    memset(c, 0, sizeof *c);
    d = sup_desc(c, &c->now, T0);
    d.sinks.event = cap_event;
    d.sinks.dump = cap_dump;
    d.sinks.action = cap_action;
    d.sinks.self = cap_self;
    d.logger.log = cap_log;
    d.logger.user_data = c;
    return d;
}

static void emit_fields(dt_engine *e, const char *name, const dt_field *f, uint32_t n) {
    sup_emit_fields(e, name, DT_INFO, T0, 0, f, n);
}

/* A test processor: `drop PATTERN` drops matching events from export;
 * `drop! PATTERN` instead emits an event with an empty (bad) name. */
static int drop_compile(dt_compiler *c, dt_block *b) {
    dt_pattern p;
    int bad = dt_accept(c, "!");
    if (dt_expect_pattern(c, &p) != DT_OK) return DT_ERR_SYNTAX;
    return dt_subscribe(c, b, &p, bad);
}
static void drop_on_event(dt_block *b, dt_exec *x, int tag) {
    (void)b;
    if (tag) {
        dt_event ev;
        memset(&ev, 0, sizeof ev);
        ev.name = dt_strn("", 0);
        dt_exec_emit(x, &ev);
    } else {
        dt_exec_drop(x);
    }
}
static const dt_processor drop_processor = {"drop", DT_RISK_LOW, drop_compile, drop_on_event, NULL, NULL, NULL, NULL, NULL};
static const dt_processor *const test_processors[] = {&drop_processor};

/* A workload that touches every allocating path: a recorder, a level
 * trigger, a registered schema, emit, flush, tick, rollback. Checks its
 * own output; returns 0 when it all behaved. */
static const char *rich_program = "level Dbg* = debug for 5m when * where level >= error\n"
                                  "recorder crash { record * capacity 1KiB flush when Crash }\n"
                                  "recorder tx { record Tx by id keys 4 capacity 256 }";

static int deploy_workload(dt_engine *e) {
    int rc = deploy(e, "level Quiet = off");
    return rc == DT_OK ? deploy(e, rich_program) : rc;
}

static int exercise_workload(dt_engine *e, cap *c) {
    dt_field f[1];
    f[0] = DT_I64("id", 7);
    emit(e, "Err", DT_ERROR, T0);
    emit(e, "DbgNet", DT_DEBUG, T0 + 1);
    emit_fields(e, "Tx", f, 1);
    emit(e, "Crash", DT_FATAL, T0 + 2);
    dt_tick(e, T0 + 10 * SEC);
    if (dt_recorder_flush(e, "tx", NULL) != DT_OK || dt_rollback(e) != DT_OK) return 2;
    emit(e, "Quiet", DT_INFO, T0 + 11);
    if (strcmp(c->events, "Err,DbgNet,Tx,Crash,") != 0) return 3;
    if (c->ndumps != 2 || c->records != 5) return 4;   /* crash: Err DbgNet Tx Crash; tx: Tx */
    return 0;
}

static int run_workload(dt_engine *e, cap *c) { return deploy_workload(e) != DT_OK ? 1 : exercise_workload(e, c); }

/* ---- setup -------------------------------------------------------------- */

TEST create_with_zero_desc_uses_defaults(void) {
    dt_desc d;
    dt_engine *e;
    dt_program_info info;
    dt_stats st;
    memset(&d, 0, sizeof d);
    e = dt_create(&d);
    ASSERT(e != NULL);
    emit(e, "A", DT_INFO, 1);
    emit(e, "B", DT_DEBUG, 2);
    st = stats(e);
    ASSERT_EQ(2u, st.events_in);
    ASSERT_EQ(1u, st.events_exported);
    ASSERT_EQ(1u, st.events_filtered);
    ASSERT_EQ(DT_ERR_EMPTY, dt_program(e, &info));
    ASSERT_EQ(DT_OK, deploy(e, "level A = off"));
    ASSERT(dt_now(e) > 0);                       /* the default clock */
    dt_destroy(e);
    PASS();
}

/* The trims' own defaults, through the real dt_create (tests/trims.h
 * otherwise gives every test engine a block and a clock). */
#if DT_NO_MALLOC
static void trim_log(int severity, const char *msg, void *ud) {
    (void)severity;
    snprintf((char *)ud, 300, "%s", msg);
}
#endif

TEST without_malloc_an_engine_needs_memory(void) {
#if DT_NO_MALLOC
    dt_desc d;
    char said[300] = "";
    static char block[64 * 1024];
    dt_engine *e;
    dt_error err;
    memset(&d, 0, sizeof d);
    d.logger.log = trim_log;
    d.logger.user_data = said;
    ASSERT_EQ(NULL, (dt_create)(&d));
    ASSERT_STR_EQ("dt_create: no memory to run in: this build has no default allocator (DT_NO_MALLOC); "
                  "pass desc.memory (a block) or desc.allocator", said);
    ASSERT_EQ(DT_ERR_INVALID, dt_deploy(NULL, "level A = off", 13, &err));
    ASSERT_STR_EQ("no engine", err.message);
    ASSERT_STR_EQ("dt_create returned NULL: check its result (a DT_NO_MALLOC build needs desc.memory or desc.allocator)",
                  err.hint);
    d.memory.ptr = block;
    d.memory.size = sizeof block;
    d.max_events = 16;
    e = (dt_create)(&d);
    ASSERT(e != NULL);
    ASSERT_EQ(DT_OK, deploy(e, "level A = off"));
    (dt_destroy)(e);
    PASS();
#else
    SKIPm("tests the DT_NO_MALLOC build");
#endif
}

TEST without_a_clock_dt_now_reads_zero(void) {
#if DT_NO_CLOCK
    dt_desc d;
    dt_engine *e;
    memset(&d, 0, sizeof d);
#if DT_NO_MALLOC
    {
        static char block[64 * 1024];
        d.memory.ptr = block;
        d.memory.size = sizeof block;
        d.max_events = 16;
    }
#endif
    e = (dt_create)(&d);
    ASSERT(e != NULL);
    ASSERT_EQ(0, dt_now(e));                     /* no default clock: the host passes desc.clock */
    dt_tick(e, 5000);
    emit(e, "A", DT_INFO, 1);
    ASSERT_EQ(1u, stats(e).events_exported);
    (dt_destroy)(e);
    PASS();
#else
    SKIPm("tests the DT_NO_CLOCK build");
#endif
}

TEST create_refuses_invalid_desc(void) {
    dt_desc d;
    memset(&d, 0, sizeof d);
    ASSERT_EQ(NULL, dt_create(NULL));
    d.nprocessors = 1;                           /* without processors */
    ASSERT_EQ(NULL, dt_create(&d));
    d.processors = test_processors;
    d.nprocessors = DT_MAX_PROCESSORS + 1;
    ASSERT_EQ(NULL, dt_create(&d));
    d.nprocessors = 1;
    dt_destroy(dt_create(&d));
    dt_destroy(NULL);
    PASS();
}

/* Too few action slots for the built-ins is a configuration error, said
 * as such (it once surfaced as "out of memory"). */
TEST create_refuses_max_actions_below_the_builtins(void) {
    cap c;
    dt_desc d = desc_for(&c);
    dt_engine *e;
    d.max_actions = 5;
    ASSERT_EQ(NULL, dt_create(&d));
    ASSERT_STR_EQ("3:dt_create: max_actions is below the 6 built-in actions "
                  "(leave it 0 for the default, or give 6 plus the host's own)\n", c.logs);
    d.max_actions = 6;
    e = dt_create(&d);
    ASSERT(e != NULL);
    dt_destroy(e);
    PASS();
}

TEST create_registers_desc_processors(void) {
    cap c;
    dt_desc d = desc_for(&c);
    dt_engine *e;
    d.processors = test_processors;
    d.nprocessors = 1;
    e = dt_create(&d);
    ASSERT_EQ(DT_ERR_EXISTS, dt_register_processor(e, &drop_processor));
    ASSERT_EQ(DT_OK, deploy(e, "drop A"));
    emit(e, "A", DT_INFO, 1);
    emit(e, "B", DT_INFO, 2);
    ASSERT_STR_EQ("B,", c.events);
    dt_destroy(e);
    PASS();
}

/* ---- memory ------------------------------------------------------------- */

static unsigned char block256k[256 * 1024];

/* The default registry (4096 events) alone needs more than 256 KiB, so a
 * 256 KiB engine names a smaller one. */
static dt_desc block_desc(cap *c, alloc_ctl *a) {
    dt_desc d = desc_for(c);
    memset(a, 0, sizeof *a);
    a->fail_at = -1;
    d.memory.ptr = block256k;
    d.memory.size = sizeof block256k;
    d.max_events = 256;
    d.allocator.alloc = ctl_alloc;               /* must never be called */
    d.allocator.free = ctl_free;
    d.allocator.user_data = a;
    return d;
}

TEST memory_block_engine_never_calls_the_allocator(void) {
    cap c;
    alloc_ctl a;
    dt_desc d = block_desc(&c, &a);
    dt_engine *e = dt_create(&d);
    static const dt_schema_field tx[] = {{"id", DT_TYPE_I64}};
    ASSERT(e != NULL);
    ASSERT_EQ(DT_OK, dt_register_event(e, "Tx", tx, 1, "tx.c", 10));
    ASSERT_EQ(0, run_workload(e, &c));
    dt_destroy(e);
    ASSERT_EQ(0, a.calls);
    ASSERT_EQ(0, a.frees);
    PASS();
}

/* Largest recorder capacity that fits in what is left of the block. */
static uint64_t largest_recorder(dt_engine *e) {
    uint64_t lo = 64, hi = sizeof block256k;
    while (lo < hi) {
        uint64_t mid = (lo + hi + 1) / 2;
        char prog[80];
        snprintf(prog, sizeof prog, "recorder big { record * capacity %llu }", (unsigned long long)mid);
        if (dt_check(e, prog, strlen(prog), NULL, NULL) == DT_OK) lo = mid;
        else hi = mid - 1;
    }
    return lo;
}

TEST memory_block_survives_1000_deploy_rollback_cycles(void) {
    cap c;
    alloc_ctl a;
    dt_desc d = block_desc(&c, &a);
    dt_engine *e = dt_create(&d);
    dt_program_info info;
    uint64_t before;
    int i;
    ASSERT_EQ(DT_OK, deploy(e, "level X = off"));
    before = largest_recorder(e);
    ASSERT(before > 64 * 1024);
    for (i = 0; i < 1000; i++) {
        char prog[200];
        snprintf(prog, sizeof prog,
                 "level Dbg = debug for %dm when E\nrecorder r%d { record * capacity %d by tid keys %d }", 1 + i % 5, i,
                 64 + (i % 7) * 1000, 1 + i % 3);
        ASSERT_EQm(prog, DT_OK, deploy(e, prog));
        emit(e, "X", DT_INFO, 1);
        ASSERT_EQ(DT_OK, dt_rollback(e));
    }
    ASSERT_EQ(DT_OK, dt_program(e, &info));
    ASSERT_EQ(1u, info.version);
    ASSERT_EQ(1000u, stats(e).recorder_records);
    /* every byte came back, in one piece */
    ASSERT_EQ(before, largest_recorder(e));
    c.events[0] = 0;
    emit(e, "X", DT_INFO, 2);
    ASSERT_STR_EQ("", c.events);
    dt_destroy(e);
    ASSERT_EQ(0, a.calls);
    PASS();
}

TEST too_small_memory_block_fails_create(void) {
    static unsigned char small[16 * 1024];
    cap c;
    dt_desc d = desc_for(&c);
    d.memory.ptr = small;
    d.memory.size = 16;
    ASSERT_EQ(NULL, dt_create(&d));
    c.logs[0] = 0;
    d.memory.size = sizeof small;               /* the engine fits, its tables do not */
    ASSERT_EQ(NULL, dt_create(&d));
    ASSERT_STR_EQ("3:dt_create: out of memory for the engine's tables, or a processor was refused "
                  "(give a larger block, lower max_events/max_actions, or check desc.processors)\n", c.logs);
    PASS();
}

TEST too_small_memory_block_is_logged(void) {
    static unsigned char tiny[1024];
    cap c;
    dt_desc d;
    d = desc_for(&c);
    d.memory.ptr = tiny;
    d.memory.size = sizeof tiny;
    ASSERT_EQ(NULL, dt_create(&d));
    ASSERT_STR_EQ("3:dt_create: out of memory for the engine itself\n", c.logs);
    PASS();
}

TEST custom_allocator_is_used_and_balanced(void) {
    cap c;
    alloc_ctl a;
    dt_desc d = desc_for(&c);
    dt_engine *e;
    memset(&a, 0, sizeof a);
    a.fail_at = -1;
    d.allocator.alloc = ctl_alloc;
    d.allocator.free = ctl_free;
    d.allocator.user_data = &a;
    e = dt_create(&d);
    ASSERT(e != NULL);
    ASSERT(a.calls > 0);
    ASSERT_EQ(DT_OK, dt_register_event(e, "Login", NULL, 0, "auth.c", 3));
    ASSERT_EQ(0, run_workload(e, &c));
    ASSERT(a.outstanding > 0);
    dt_destroy(e);
    ASSERT_EQ(0, a.outstanding);
    ASSERT_EQ(a.calls, a.frees);
    PASS();
}

/* Every allocation of create + two deploys + work + destroy fails in turn. */
TEST allocation_failure_at_every_point_is_clean(void) {
    cap c;
    alloc_ctl a;
    dt_desc d;
    long n;
    int create_failures = 0, deploy_failures = 0, done = 0;
    for (n = 0; n < 10000 && !done; n++) {
        dt_engine *e;
        int rc;
        d = desc_for(&c);
        memset(&a, 0, sizeof a);
        a.fail_at = n;
        d.allocator.alloc = ctl_alloc;
        d.allocator.free = ctl_free;
        d.allocator.user_data = &a;
        e = dt_create(&d);
        if (!e) {
            ASSERT_EQm("create failure leaked", 0, a.outstanding);
            create_failures++;
            continue;
        }
        rc = deploy_workload(e);
        if (rc != DT_OK) {
            dt_program_info info;
            ASSERT_EQm("deploy failure code", DT_ERR_NOMEM, rc);
            ASSERT_EQ(1u, stats(e).deploy_errors);
            if (dt_program(e, &info) == DT_OK) {          /* the second deploy failed: the first runs */
                ASSERT_EQ(1u, info.version);
                emit(e, "Quiet", DT_INFO, 1);
                emit(e, "Loud", DT_INFO, 2);
                ASSERT_STR_EQ("Loud,", c.events);
            }
            deploy_failures++;
        } else {
            ASSERT_EQ(0, exercise_workload(e, &c));
            done = a.calls <= n;                           /* nothing was refused: every point covered */
        }
        dt_destroy(e);
        ASSERTm("leak after destroy", a.outstanding == 0);
    }
    ASSERT(done);
    ASSERT(create_failures >= 6);
    ASSERT(deploy_failures >= 3);
    PASS();
}

/* 12 level statements fill the program's one-chunk memory bound at a point
 * that moves with the comment's length; every position must fail cleanly. */
TEST program_hitting_memory_bound_anywhere_fails_cleanly(void) {
    dt_desc d;
    dt_engine *e;
    char prog[8192];
    int pad;
    memset(&d, 0, sizeof d);
    d.max_program_bytes = 4096;
    e = dt_create(&d);
    for (pad = 0; pad < 4000; pad += 8) {
        int n = 0, i, rc;
        dt_error err;
        prog[n++] = '#';
        memset(prog + n, 'x', (size_t)pad);
        n += pad;
        prog[n++] = '\n';
        for (i = 1; i <= 12; i++) n += snprintf(prog + n, sizeof prog - (size_t)n, "level A%d = off\n", i);
        rc = dt_check(e, prog, (size_t)n, &err, NULL);
        if (rc != DT_OK) {
            ASSERT_EQ(DT_ERR_NOMEM, rc);
            ASSERT_STR_EQ("program too large for its memory bound", err.message);
        }
    }
    dt_destroy(e);
    PASS();
}

TEST register_event_allocation_failure_does_not_leak(void) {
    static const dt_schema_field f[] = {{"a", DT_TYPE_I64}, {"b", DT_TYPE_STR}};
    alloc_ctl a;
    dt_desc d;
    long n, base;
    int done = 0;
    for (n = 0; n < 100 && !done; n++) {
        dt_engine *e;
        int rc;
        memset(&d, 0, sizeof d);
        memset(&a, 0, sizeof a);
        a.fail_at = -1;
        d.allocator.alloc = ctl_alloc;
        d.allocator.free = ctl_free;
        d.allocator.user_data = &a;
        e = dt_create(&d);
        base = a.calls;
        a.fail_at = base + n;
        rc = dt_register_event(e, "Ev", f, 2, "file.c", 3);
        ASSERT(rc == DT_OK || rc == DT_ERR_NOMEM);
        if (rc == DT_ERR_NOMEM) ASSERT_EQ(DT_OK, dt_register_event(e, "Ev", f, 2, "file.c", 3));
        done = a.calls <= base + n;
        dt_destroy(e);
        ASSERT_EQm("leak", 0, a.outstanding);
    }
    ASSERT(done);
    PASS();
}

TEST deploy_refused_by_the_allocator_does_not_blame_the_bound(void) {
    cap c;
    alloc_ctl a;
    dt_desc d = desc_for(&c);
    dt_engine *e;
    dt_error err;
    memset(&a, 0, sizeof a);
    a.fail_at = -1;
    d.allocator.alloc = ctl_alloc;
    d.allocator.free = ctl_free;
    d.allocator.user_data = &a;
    e = dt_create(&d);
    a.fail_at = a.calls + 1;                     /* the program struct succeeds, its arena fails */
    ASSERT_EQ(DT_ERR_NOMEM, dt_deploy(e, "level X = off", 13, &err));
    ASSERT_STR_EQ("out of memory while compiling the program", err.message);
    ASSERT_EQ(NULL, strstr(err.hint, "max_program_bytes"));
    dt_destroy(e);
    PASS();
}

/* ---- lock and logger hooks ---------------------------------------------- */

static dt_desc locked_desc(cap *c, lock_ctl *l) {
    dt_desc d = desc_for(c);
    memset(l, 0, sizeof *l);
    d.lock.create = lk_create;
    d.lock.destroy = lk_destroy;
    d.lock.lock = lk_lock;
    d.lock.unlock = lk_unlock;
    d.lock.user_data = l;
    d.self_interval_ns = SEC;
    c->locks = l;
    return d;
}

TEST lock_hooks_are_called_and_balanced(void) {
    cap c;
    lock_ctl l;
    dt_desc d = locked_desc(&c, &l);
    dt_engine *e = dt_create(&d);
    ASSERT(e != NULL);
    ASSERT(l.creates > 0);
    ASSERT_EQ(0, run_workload(e, &c));
    ASSERT(l.locks > 0);
    ASSERT_EQ(l.locks, l.unlocks);
    ASSERT_EQ(0, l.held);
    dt_destroy(e);
    ASSERT_EQ(l.creates, l.destroys);
    ASSERT_EQ(0, l.double_locks);
    PASS();
}

TEST event_action_and_self_sinks_run_outside_locks(void) {
    cap c;
    lock_ctl l;
    dt_desc d = locked_desc(&c, &l);
    dt_engine *e = dt_create(&d);
    ASSERT_EQ(DT_OK, deploy(e, "level Dbg = debug for 1m when Err\nrecorder r { record * }"));
    emit(e, "Err", DT_ERROR, T0);
    emit(e, "Dbg", DT_DEBUG, T0 + 1);
    dt_tick(e, T0 + SEC);
    ASSERT_EQ(2, c.nevents);
    ASSERT_EQ(1, c.nactions);
    ASSERT(c.nself > 0);
    ASSERT_EQ(0, c.held_in_event);
    ASSERT_EQ(0, c.held_in_action);
    ASSERT_EQ(0, c.held_in_self);
    dt_destroy(e);
    PASS();
}

/* The dump sink runs holding only its recorder's flush lock: emitters never
 * take that lock, so an emit from the sink (even into the same recorder)
 * goes through, and a flush of the same recorder from its own sink is
 * refused and counted instead of waiting for itself. */
TEST dump_sink_holds_only_the_flush_lock(void) {
    cap c;
    lock_ctl l;
    dt_desc d;
    dt_engine *e;
    SUP_NEEDS_THREADS();                         /* without threads there are no locks */
    d = locked_desc(&c, &l);
    e = dt_create(&d);
    ASSERT_EQ(DT_OK, deploy(e, "recorder r { record * }"));
    emit(e, "A", DT_INFO, T0);
    ASSERT_EQ(DT_OK, dt_recorder_flush(e, "r", NULL));
    ASSERT_EQ(1, c.ndumps);
    ASSERT_EQ(1, c.held_in_dump);
    dt_destroy(e);
    PASS();
}

typedef struct reentrant_sink {
    dt_engine *e;
    int dumps, flush_rc;
    uint64_t rule_errors_after;
} reentrant_sink;

static void reentrant_dump(const dt_dump *dump, void *ud) {
    reentrant_sink *r = (reentrant_sink *)ud;
    dt_event ev;
    dt_stats st;
    (void)dump;
    if (r->dumps++) return;
    memset(&ev, 0, sizeof ev);
    ev.name = dt_cstr("FromSink");
    ev.ts = T0 + 1;
    ev.level = DT_INFO;
    dt_emit(r->e, &ev);                                  /* records into r: no deadlock */
    r->flush_rc = dt_recorder_flush(r->e, "r", NULL);    /* refused, counted */
    dt_get_stats(r->e, &st);
    r->rule_errors_after = st.rule_errors;
}

TEST dump_sink_may_emit_but_not_reflush_its_recorder(void) {
    reentrant_sink r;
    dt_desc d;
    memset(&r, 0, sizeof r);
    memset(&d, 0, sizeof d);
    d.sinks.dump = reentrant_dump;
    d.sinks.user_data = &r;
    r.e = dt_create(&d);
    ASSERT_EQ(DT_OK, deploy(r.e, "recorder r { record * }"));
    emit(r.e, "A", DT_INFO, T0);
    ASSERT_EQ(DT_OK, dt_recorder_flush(r.e, "r", NULL));
    ASSERT_EQ(1, r.dumps);
    ASSERT_EQ(DT_ERR_INVALID, r.flush_rc);                /* refused: it would wait for itself */
    ASSERT_EQ(1u, r.rule_errors_after);
    ASSERT_EQ(DT_OK, dt_recorder_flush(r.e, "r", NULL));
#if DT_NO_THREADS
    /* one thread: the sink read the ring in place, so the record of what it
     * emitted was refused (the dump could not be torn) and counted */
    ASSERT_EQ(1, r.dumps);
    ASSERT_EQ(1u, stats(r.e).overflows);
#else
    ASSERT_EQ(2, r.dumps);                               /* what the sink emitted is there */
    ASSERT_EQ(0u, stats(r.e).overflows);
#endif
    dt_destroy(r.e);
    PASS();
}

/* A block that spends more than budget_steps on one event is switched off,
 * counted and logged; the host and the other blocks keep running. */
TEST block_over_budget_is_switched_off_and_reported(void) {
    cap c;
    dt_desc d = desc_for(&c);
    dt_engine *e;
    dt_stats st;
    d.budget_steps = 10;
    e = dt_create(&d);
    ASSERT_EQ(DT_OK, deploy(e, "recorder cheap { record * }\n"
                               "recorder costly { record * where a + a + a + a + a + a + a > 0 }\n"));
    c.logs[0] = 0;
    emit(e, "A", DT_INFO, T0);
    emit(e, "B", DT_INFO, T0 + 1);
    dt_get_stats(e, &st);
    ASSERT_EQ(1u, st.budget_trips);
    ASSERT_STR_EQ("2:dt: block 'costly' exceeded its budget of 10 steps per event and was switched off\n", c.logs);
    ASSERT_EQ(2, c.nevents);                                  /* the events themselves still pass */
    ASSERT_EQ(DT_OK, dt_recorder_flush(e, "cheap", NULL));
    ASSERT_EQ(2u, c.records);
    ASSERT_EQ(DT_OK, dt_recorder_flush(e, "costly", NULL));
    ASSERT_EQ(2u, c.records);                                 /* nothing recorded once tripped */
    ASSERT_EQ(1, c.ndumps);
    dt_destroy(e);
    PASS();
}

TEST logger_reports_deploys_and_errors(void) {
    cap c;
    dt_desc d = desc_for(&c);
    dt_engine *e = dt_create(&d);
    dt_error err;
    char expect[1024];
    const char *p1 = "level A = off", *p2 = "level B = off";
    ASSERT_EQ(DT_OK, deploy(e, p1));
    ASSERT_EQ(DT_ERR_SYNTAX, dt_deploy(e, "nope", 4, &err));
    ASSERT_EQ(DT_OK, deploy(e, p2));
    ASSERT_EQ(DT_OK, dt_rollback(e));
    ASSERT_EQ(DT_OK, dt_undeploy(e));
    dt_ripcord(e, 1);
    dt_ripcord(e, 0);
    snprintf(expect, sizeof expect,
             "1:deployed program v1 hash 0x%016llx\n"
             "3:1:1: error: unknown statement 'nope' (hint: a program is a list of: level, recorder)\n"
             "1:deployed program v2 hash 0x%016llx\n"
             "1:rolled back to program v1 hash 0x%016llx\n"
             "1:undeployed\n"
             "2:rip cord pulled: all processing off\n"
             "2:rip cord released: processing resumes\n",
             (unsigned long long)ref_fnv1a(p1), (unsigned long long)ref_fnv1a(p2), (unsigned long long)ref_fnv1a(p1));
    ASSERT_STR_EQ(expect, c.logs);
    dt_destroy(e);
    PASS();
}

TEST logger_reports_failed_deploy_without_error_struct(void) {
    cap c;
    dt_desc d;
    dt_engine *e;
    d = desc_for(&c);
    e = dt_create(&d);
    ASSERT_EQ(DT_ERR_SYNTAX, dt_deploy(e, "nope", 4, NULL));
    ASSERT_STR_EQ("3:1:1: error: unknown statement 'nope' (hint: a program is a list of: level, recorder)\n", c.logs);
    dt_destroy(e);
    PASS();
}

/* ---- counters ----------------------------------------------------------- */

TEST stats_balance_after_mixed_stream(void) {
    cap c;
    dt_desc d = desc_for(&c);
    dt_engine *e;
    dt_stats st;
    dt_field one[1];
    dt_event bad;
    int i;
    d.processors = test_processors;
    d.nprocessors = 1;
    e = dt_create(&d);
    ASSERT_EQ(DT_OK, deploy(e, "drop Chatty\nlevel Quiet = off\nrecorder r { record Loud }"));
    for (i = 0; i < 3; i++) emit(e, "Chatty", DT_INFO, 1);
    for (i = 0; i < 2; i++) emit(e, "Quiet", DT_ERROR, 2);
    for (i = 0; i < 4; i++) emit(e, "Loud", DT_INFO, 3);
    emit(e, "Loud", DT_DEBUG, 4);
    emit(e, "", DT_INFO, 5);
    memset(&bad, 0, sizeof bad);
    bad.name = dt_cstr("Bad");
    bad.nfields = 1;
    dt_emit(e, &bad);
    one[0] = DT_I64("n", 1);
    emit_fields(e, "Loud", one, 1);
    st = stats(e);
    ASSERT_EQ(13u, st.events_in);
    ASSERT_EQ(5u, st.events_exported);
    ASSERT_EQ(3u, st.events_filtered);
    ASSERT_EQ(3u, st.events_dropped);
    ASSERT_EQ(2u, st.bad_events);
    ASSERT_EQ(st.events_in, st.events_exported + st.events_filtered + st.events_dropped + st.bad_events);
    ASSERT_EQ(6u, st.recorder_records);
    ASSERT_EQ(1u, st.deploys);
    ASSERT_EQ(0u, st.rule_errors);
    ASSERT_EQ(5, c.nevents);
    dt_destroy(e);
    PASS();
}

TEST bad_event_emitted_by_a_rule_is_counted_in_events_in(void) {
    cap c;
    dt_desc d;
    dt_engine *e;
    dt_stats st;
    d = desc_for(&c);
    d.processors = test_processors;
    d.nprocessors = 1;
    e = dt_create(&d);
    ASSERT_EQ(DT_OK, deploy(e, "drop ! Trigger"));
    emit(e, "Trigger", DT_INFO, 1);
    st = stats(e);
    ASSERT_EQ(1u, st.bad_events);
    ASSERT_EQ(2u, st.events_in);
    ASSERT_EQ(st.events_in, st.events_exported + st.events_filtered + st.events_dropped + st.bad_events);
    dt_destroy(e);
    PASS();
}

TEST bad_events_are_counted_and_not_exported(void) {
    cap c;
    dt_desc d = desc_for(&c);
    dt_engine *e = dt_create(&d);
    char longname[DT_MAX_NAME + 2];
    dt_event ev;
    int with_program;
    memset(longname, 'n', sizeof longname);
    longname[DT_MAX_NAME + 1] = 0;
    for (with_program = 0; with_program < 2; with_program++) {
        if (with_program) ASSERT_EQ(DT_OK, deploy(e, "recorder r { record * }"));
        emit(e, "", DT_INFO, 1);                        /* empty name */
        emit(e, longname, DT_INFO, 1);                  /* DT_MAX_NAME + 1 bytes */
        memset(&ev, 0, sizeof ev);
        ev.name = dt_strn(NULL, 3);                     /* no name bytes */
        ev.level = DT_INFO;
        dt_emit(e, &ev);
        ev.name = dt_cstr("NoFields");                  /* nfields > 0, fields NULL */
        ev.nfields = 2;
        dt_emit(e, &ev);
        longname[DT_MAX_NAME] = 0;                      /* exactly DT_MAX_NAME: fine */
        emit(e, longname, DT_INFO, 1);
        longname[DT_MAX_NAME] = 'n';
    }
    dt_emit(e, NULL);
    dt_emit(NULL, &ev);
    ASSERT_EQ(8u, stats(e).bad_events);
    ASSERT_EQ(10u, stats(e).events_in);
    ASSERT_EQ(2, c.nevents);
    ASSERT_EQ(1u, stats(e).recorder_records);
    dt_destroy(e);
    PASS();
}

TEST fields_beyond_max_are_truncated_and_counted(void) {
    cap c;
    dt_desc d = desc_for(&c);
    dt_engine *e = dt_create(&d);
    dt_field f[DT_MAX_FIELDS + 6];
    uint32_t i;
    for (i = 0; i < DT_MAX_FIELDS + 6; i++) f[i] = DT_U64("f", i);
    emit_fields(e, "Wide", f, DT_MAX_FIELDS);
    ASSERT_EQ(DT_MAX_FIELDS, c.last.nfields);
    ASSERT_EQ(0u, stats(e).fields_truncated);
    emit_fields(e, "Wide", f, DT_MAX_FIELDS + 6);
    ASSERT_EQ(DT_MAX_FIELDS, c.last.nfields);
    ASSERT_EQ((uint64_t)DT_MAX_FIELDS - 1, c.last_fields[DT_MAX_FIELDS - 1].value.as.u64);
    ASSERT_EQ(1u, stats(e).fields_truncated);
    ASSERT_EQ(DT_OK, deploy(e, "recorder r { record * }"));
    emit_fields(e, "Wide", f, DT_MAX_FIELDS + 1);
    ASSERT_EQ(DT_MAX_FIELDS, c.last.nfields);
    ASSERT_EQ(2u, stats(e).fields_truncated);
    ASSERT_EQ(3, c.nevents);
    dt_destroy(e);
    PASS();
}

TEST nan_and_infinity_pass_through_unchanged(void) {
    cap c;
    dt_desc d = desc_for(&c);
    dt_engine *e = dt_create(&d);
    dt_field f[4];
    uint64_t payload_nan = 0x7ff8000000000123ull, bits[4], got;
    double v[4];
    int pass, i;
    memcpy(&v[0], &payload_nan, 8);
    v[1] = INFINITY;
    v[2] = -INFINITY;
    v[3] = -0.0;
    for (i = 0; i < 4; i++) {
        f[i] = DT_F64("v", v[i]);
        memcpy(&bits[i], &v[i], 8);
    }
    for (pass = 0; pass < 2; pass++) {
        if (pass) ASSERT_EQ(DT_OK, deploy(e, "recorder r { record * where v > 0 or v <= 0 or isnotnull(v) }"));
        for (i = 0; i < 4; i++) {
            emit_fields(e, "F", &f[i], 1);
            ASSERT_EQ(DT_TYPE_F64, c.last_fields[0].value.type);
            memcpy(&got, &c.last_fields[0].value.as.f64, 8);
            ASSERT_EQ_FMT((unsigned long long)bits[i], (unsigned long long)got, "0x%016llx");
        }
    }
    ASSERT_EQ(0u, stats(e).rule_errors);
    ASSERT_EQ(4u, stats(e).recorder_records);
    dt_destroy(e);
    PASS();
}

TEST megabyte_string_passes_by_pointer(void) {
    cap c;
    dt_desc d = desc_for(&c);
    dt_engine *e = dt_create(&d);
    static char big[1 << 20];
    dt_field f[2];
    int pass;
    memset(big, 'x', sizeof big);
    f[0] = DT_STRN("blob", big, sizeof big);
    f[1] = DT_BYTES("raw", big, sizeof big);
    for (pass = 0; pass < 2; pass++) {
        if (pass) ASSERT_EQ(DT_OK, deploy(e, "level Big = info\nrecorder r { record Big where strlen(blob) > 5 }"));
        c.last_fields[0].value.as.str = dt_strn(NULL, 0);
        emit_fields(e, "Big", f, 2);
        ASSERT_EQ(2u, c.last.nfields);
        ASSERT_EQ((const char *)big, c.last_fields[0].value.as.str.ptr);
        ASSERT_EQ(sizeof big, c.last_fields[0].value.as.str.len);
        ASSERT_EQ(DT_TYPE_BYTES, c.last_fields[1].value.type);
        ASSERT_EQ((const char *)big, c.last_fields[1].value.as.str.ptr);
        ASSERT_EQ(sizeof big, c.last_fields[1].value.as.str.len);
    }
    /* too big for a 4 KiB ring: counted, not kept */
    ASSERT_EQ(1u, stats(e).recorder_too_big);
    ASSERT_EQ(0u, stats(e).recorder_records);
    dt_destroy(e);
    PASS();
}

/* ---- self-telemetry ----------------------------------------------------- */

TEST self_telemetry_reports_every_counter_each_interval(void) {
    cap c;
    dt_desc d = desc_for(&c);
    dt_engine *e;
    d.self_interval_ns = SEC;
    e = dt_create(&d);
    ASSERT_EQ(DT_OK, deploy(e, "level Quiet = off"));
    emit(e, "Quiet", DT_INFO, T0);
    emit(e, "Loud", DT_INFO, T0);
    emit(e, "Loud", DT_DEBUG, T0);
    dt_tick(e, T0 + SEC - 1);                   /* not due yet */
    ASSERT_EQ(0, c.nself);
    dt_tick(e, T0 + SEC);
    ASSERT_EQ(20, c.nself);
    ASSERT_STR_EQ("dt.events_in=3@1001 dt.events_exported=1@1001 dt.events_filtered=2@1001 "
                  "dt.events_dropped=0@1001 dt.events_emitted=0@1001 dt.emit_depth_exceeded=0@1001 "
                  "dt.rule_errors=0@1001 dt.overflows=0@1001 dt.budget_trips=0@1001 dt.actions_fired=0@1001 "
                  "dt.actions_suppressed=0@1001 dt.actions_overflow=0@1001 dt.recorder_records=0@1001 "
                  "dt.recorder_overwritten=0@1001 dt.recorder_too_big=0@1001 dt.recorder_dumps=0@1001 "
                  "dt.deploys=1@1001 dt.deploy_errors=0@1001 dt.fields_truncated=0@1001 dt.bad_events=0@1001 ",
                  c.self);
    c.self[0] = 0;
    emit(e, "Loud", DT_INFO, T0 + SEC);
    dt_tick(e, T0 + 2 * SEC - 1);
    ASSERT_EQ(20, c.nself);
    dt_tick(e, T0 + 2 * SEC);                   /* cumulative: the totals so far */
    ASSERT_EQ(40, c.nself);
    ASSERT_EQ(0, strncmp(c.self, "dt.events_in=4@1002 dt.events_exported=2@1002 ", 46));
    dt_destroy(e);
    PASS();
}

TEST self_telemetry_goes_to_metric_sink_without_self_sink(void) {
    cap c;
    dt_desc d = desc_for(&c);
    dt_engine *e;
    d.sinks.metric = cap_self;
    d.sinks.self = NULL;
    d.self_interval_ns = SEC;
    e = dt_create(&d);
    dt_tick(e, T0 + SEC);
    ASSERT_EQ(20, c.nself);
    d.self_interval_ns = -1;                    /* never */
    dt_destroy(e);
    memset(&c, 0, sizeof c);
    c.now = T0;
    e = dt_create(&d);
    dt_tick(e, T0 + 3600 * SEC);
    ASSERT_EQ(0, c.nself);
    dt_destroy(e);
    PASS();
}

SUITE(engine) {
    RUN_TEST(create_with_zero_desc_uses_defaults);
    RUN_TEST(create_refuses_invalid_desc);
    RUN_TEST(create_refuses_max_actions_below_the_builtins);
    RUN_TEST(without_malloc_an_engine_needs_memory);
    RUN_TEST(without_a_clock_dt_now_reads_zero);
    RUN_TEST(create_registers_desc_processors);
    RUN_TEST(memory_block_engine_never_calls_the_allocator);
    RUN_TEST(memory_block_survives_1000_deploy_rollback_cycles);
    RUN_TEST(too_small_memory_block_fails_create);
    RUN_TEST(too_small_memory_block_is_logged);
    RUN_TEST(custom_allocator_is_used_and_balanced);
    RUN_TEST(allocation_failure_at_every_point_is_clean);
    RUN_TEST(program_hitting_memory_bound_anywhere_fails_cleanly);
    RUN_TEST(register_event_allocation_failure_does_not_leak);
    RUN_TEST(deploy_refused_by_the_allocator_does_not_blame_the_bound);
    RUN_TEST(lock_hooks_are_called_and_balanced);
    RUN_TEST(event_action_and_self_sinks_run_outside_locks);
    RUN_TEST(dump_sink_holds_only_the_flush_lock);
    RUN_TEST(block_over_budget_is_switched_off_and_reported);
    RUN_TEST(dump_sink_may_emit_but_not_reflush_its_recorder);
    RUN_TEST(logger_reports_deploys_and_errors);
    RUN_TEST(logger_reports_failed_deploy_without_error_struct);
    RUN_TEST(stats_balance_after_mixed_stream);
    RUN_TEST(bad_event_emitted_by_a_rule_is_counted_in_events_in);
    RUN_TEST(bad_events_are_counted_and_not_exported);
    RUN_TEST(fields_beyond_max_are_truncated_and_counted);
    RUN_TEST(nan_and_infinity_pass_through_unchanged);
    RUN_TEST(megabyte_string_passes_by_pointer);
    RUN_TEST(self_telemetry_reports_every_counter_each_interval);
    RUN_TEST(self_telemetry_goes_to_metric_sink_without_self_sink);
}
