/* cases_lttng.h — the LTTng-UST peer, measured in the same run as dt's
 * disabled site and recorder append (bench/lttng.sh builds bench.c with
 * BENCH_LTTNG=1 and -llttng-ust, starts a session daemon and passes the
 * commands that start and stop a snapshot session). */
#define LTTNG_UST_TRACEPOINT_DEFINE
#define LTTNG_UST_TRACEPOINT_CREATE_PROBES
#include "lttng_tp.h"

static void bench_register_lttng(dt_engine *e) { (void)e; }

static void run_lttng(uint64_t first, uint64_t n) {
    uint64_t i;
    BENCH_LOOP(i, first, n) lttng_ust_tracepoint(dtbench, event, i);
}

static int lttng_enabled(void) { return lttng_ust_tracepoint_enabled(dtbench, event) != 0; }

static int setup_lttng_disabled(uint64_t p) {
    (void)p;
    return lttng_enabled() ? bench_skip("the tracepoint is enabled: another session traces dtbench:*") : 0;
}

/* Runs the command in $name; nonzero with the reason when it is missing or
 * fails. */
static int lttng_command(const char *name) {
    const char *cmd = getenv(name);
    if (!cmd || !*cmd) {
        snprintf(g_bench_skip, sizeof g_bench_skip, "%s not set (run bench/lttng.sh)", name);
        return 1;
    }
    if (system(cmd) != 0) {
        snprintf(g_bench_skip, sizeof g_bench_skip, "the session did not start: %.200s", cmd);
        return 1;
    }
    return 0;
}

/* Starts the snapshot session and waits (up to 5 s) for the session daemon
 * to enable the tracepoint in this process. */
static int setup_lttng_enabled(uint64_t p) {
    int i;
    (void)p;
    if (lttng_command("BENCH_LTTNG_START")) return 1;
    for (i = 0; i < 500 && !lttng_enabled(); i++) {
        struct timespec ts = { 0, 10000000 };
        nanosleep(&ts, NULL);
    }
    return lttng_enabled() ? 0 : bench_skip("the session started but never enabled the tracepoint in this process");
}

static const char *check_lttng_enabled(const dt_stats *s, uint64_t events) {
    const char *why = lttng_enabled() ? NULL : "the tracepoint was disabled during the run";
    (void)s;
    (void)events;
    if (lttng_command("BENCH_LTTNG_STOP") && !why) why = g_bench_skip;
    return why;
}

static const bench_case lttng_cases[] = {
    { "LTTng-UST tracepoint, disabled", 0, setup_lttng_disabled, run_lttng, NULL, 0, 0 },
    { "LTTng-UST tracepoint, enabled, snapshot session", 0, setup_lttng_enabled, run_lttng, check_lttng_enabled, 0, 0 },
    BENCH_END
};
static const bench_curve lttng_curves[] = { BENCH_CURVE_END };
