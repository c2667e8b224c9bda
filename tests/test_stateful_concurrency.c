/* Keyed machines driven from two threads while a third redeploys. Events
 * for one key arrive on both threads; every Flip is exactly one transition,
 * so the transitions counted must equal the Flips sent. A quiet redeploy
 * of the same machine must keep every instance in its state. (An event
 * that reaches the new program before the core hands the old instances
 * over starts a fresh instance, which wins: see docs/language.md.) Run
 * under TSan with `make tsan` (suite concurrency_stateful). DT_CONC_N sets
 * Flips per key per thread. */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "greatest.h"
#include "dt.h"
#include "dt_stateful.h"
#include "support.h"

#define SC_KEYS 16
#define SC_ADD(p, v) __atomic_add_fetch((p), (v), __ATOMIC_ACQ_REL)
#define SC_LOAD(p) __atomic_load_n((p), __ATOMIC_ACQUIRE)
#define SC_STORE(p, v) __atomic_store_n((p), (v), __ATOMIC_RELEASE)

typedef struct sc_run {
    dt_engine *e;
    long n;                      /* Flips per key for thread 0; thread 1 sends one more */
    uint64_t transitions;        /* atomic: the Transitions counter points */
    uint64_t in_b;               /* atomic: InB events */
    uint32_t stop;               /* atomic */
    const char *progs[3];
    uint32_t nprogs;
    long deploys;
} sc_run;

static sc_run sc;

static long sc_flips(void) {
    const char *s = getenv("DT_CONC_N");
    long n = s ? strtol(s, NULL, 10) / 20 : 2000;
    return n < 10 ? 10 : n;
}

static int sc_is(dt_str s, const char *lit) { return s.len == strlen(lit) && memcmp(s.ptr, lit, s.len) == 0; }

static void sc_on_metric(const dt_metric *m, void *ud) {
    (void)ud;
    if (sc_is(m->name, "Transitions")) SC_ADD(&sc.transitions, (uint64_t)m->value);
}

static void sc_on_event(const dt_event *ev, void *ud) {
    (void)ud;
    if (sc_is(ev->name, "InB")) SC_ADD(&sc.in_b, 1u);
}

static void sc_flip(long key, uint64_t tid) {
    char k[16];
    dt_field f;
    snprintf(k, sizeof k, "K%ld", key);
    f = dt_field_str("k", k);
    sup_emit_fields(sc.e, "Flip", DT_INFO, 1, tid, &f, 1);
}

static void *sc_emitter(void *arg) {
    long t = (long)(intptr_t)arg, i, key;
    for (i = 0; i < sc.n + t; i++)
        for (key = 0; key < SC_KEYS; key++) sc_flip(key, (uint64_t)t + 1u);
    return NULL;
}

static void *sc_deployer(void *arg) {
    uint32_t i = 0;
    (void)arg;
    while (!SC_LOAD(&sc.stop)) {
        const char *p = sc.progs[i++ % sc.nprogs];
        if (dt_deploy(sc.e, p, strlen(p), NULL) == DT_OK) sc.deploys++;
    }
    return NULL;
}

static dt_engine *sc_engine(void) {
    static const dt_processor *procs[1];
    static int64_t now;
    dt_desc d;
    d = sup_desc(NULL, &now, 1);
    procs[0] = dt_stateful_processor();
    d.processors = procs;
    d.nprocessors = 1;
    d.sinks.metric = sc_on_metric;
    d.sinks.event = sc_on_event;
    d.self_interval_ns = -1;
    return dt_create(&d);
}

#define SC_MACHINE(extra)                                     \
    "machine flip {\n  by k\n"                                \
    "  A -> B on Flip { count Transitions }\n"                \
    "  B -> A on Flip { count Transitions }\n"                \
    "  B -> B on Probe { emit InB(k = k) }\n" extra "}\n"     \
    "level Flip, Probe = off\n"

/* Runs both emitters and the deployer; returns the Flips sent. */
static uint64_t sc_race(void) {
    pthread_t em[2], dep;
    long t;
    SC_STORE(&sc.stop, 0u);
    pthread_create(&dep, NULL, sc_deployer, NULL);
    for (t = 0; t < 2; t++) pthread_create(&em[t], NULL, sc_emitter, (void *)(intptr_t)t);
    for (t = 0; t < 2; t++) pthread_join(em[t], NULL);
    SC_STORE(&sc.stop, 1u);
    pthread_join(dep, NULL);
    return (uint64_t)(2 * sc.n + 1) * SC_KEYS;
}

static void sc_probe_all(void) {
    long key;
    for (key = 0; key < SC_KEYS; key++) {
        char k[16];
        dt_field f;
        snprintf(k, sizeof k, "K%ld", key);
        f = dt_field_str("k", k);
        sup_emit_fields(sc.e, "Probe", DT_INFO, 2, 0, &f, 1);
    }
}

TEST carried_machines_lose_no_transition_and_keep_their_instances(void) {
    SUP_NEEDS_THREADS();
    uint64_t sent, in_b;
    memset(&sc, 0, sizeof sc);
    sc.n = sc_flips();
    sc.e = sc_engine();
    sc.progs[0] = SC_MACHINE("");
    sc.progs[1] = "# the same machine: its instances carry over\n" SC_MACHINE("");
    sc.nprogs = 2;
    ASSERT_EQ(DT_OK, deploy(sc.e, sc.progs[0]));
    sent = sc_race();
    dt_flush(sc.e);
    ASSERT(sc.deploys > 0);
    ASSERT_EQ(sent, SC_LOAD(&sc.transitions));
    sc_probe_all();
    in_b = SC_LOAD(&sc.in_b);
    ASSERT_EQ(DT_OK, deploy(sc.e, sc.progs[1]));   /* quiet: every instance carries over */
    sc_probe_all();
    ASSERT_EQ(2 * in_b, SC_LOAD(&sc.in_b));
    dt_destroy(sc.e);
    PASS();
}

TEST a_quiet_run_ends_every_key_in_the_state_its_flips_say(void) {
    SUP_NEEDS_THREADS();
    long key, i;
    memset(&sc, 0, sizeof sc);
    sc.e = sc_engine();
    ASSERT_EQ(DT_OK, deploy(sc.e, SC_MACHINE("")));
    for (key = 0; key < SC_KEYS; key++)
        for (i = 0; i <= key; i++) sc_flip(key, 1);        /* key k gets k + 1 Flips */
    ASSERT_EQ(DT_OK, deploy(sc.e, "# carried\n" SC_MACHINE("")));
    sc_probe_all();
    ASSERT_EQ((uint64_t)SC_KEYS / 2u, SC_LOAD(&sc.in_b)); /* the odd counts: K0, K2, ... */
    dt_destroy(sc.e);
    PASS();
}

TEST changed_machines_still_count_every_transition_once(void) {
    SUP_NEEDS_THREADS();
    uint64_t sent;
    memset(&sc, 0, sizeof sc);
    sc.n = sc_flips();
    sc.e = sc_engine();
    sc.progs[0] = SC_MACHINE("");
    sc.progs[1] = SC_MACHINE("  B -> B on Other\n");          /* another definition: starts fresh */
    sc.progs[2] = "# carried\n" SC_MACHINE("");
    sc.nprogs = 3;
    ASSERT_EQ(DT_OK, deploy(sc.e, sc.progs[0]));
    sent = sc_race();
    dt_flush(sc.e);
    ASSERT(sc.deploys > 0);
    ASSERT_EQ(sent, SC_LOAD(&sc.transitions));
    dt_destroy(sc.e);
    PASS();
}

SUITE(concurrency_stateful) {
    RUN_TEST(carried_machines_lose_no_transition_and_keep_their_instances);
    RUN_TEST(a_quiet_run_ends_every_key_in_the_state_its_flips_say);
    RUN_TEST(changed_machines_still_count_every_transition_once);
}
