/* reload.c — program reload in a running host, and the rip cord on a
 * signal: what an operator wires to a configuration system (a file, a
 * config map, OpAMP's remote configuration).
 *
 *     build/reload PROGRAM.dt          watch PROGRAM.dt, run until SIGINT/SIGTERM
 *     build/reload --demo DIR          a scripted run in DIR (CI compares its output)
 *
 * The host polls the program file once a second. When its content changes
 * it deploys the new text; if the text does not compile, it logs the error
 * with line and column and keeps running the program it had (dt_deploy
 * leaves the running program untouched on error). The same broken content
 * is reported once, not on every poll.
 *
 *     kill -USR1 <pid>    pull the rip cord: every rule off, events flow as
 *                         if no program were deployed
 *     kill -USR2 <pid>    release it
 *
 * The signal handler only stores (dt_ripcord_signal is async-signal-safe);
 * the main loop's dt_tick brings the call sites up to date.
 *
 * The file is read on every poll, not only when its mtime changes: a
 * program is a few KiB, and an edit within the timestamp's resolution
 * would otherwise be missed. Content is compared by FNV-1a hash. */
#define _POSIX_C_SOURCE 200809L
#define DT_ALL_IMPLEMENTATION
#include "dt.h"
#include "dt_query.h"
#include "dt_stateful.h"

#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define PROGRAM_MAX 65536

/* ---- the watcher ---------------------------------------------------------- */
typedef struct reload_watch {
    const char *path;
    uint64_t seen;           /* hash of the content last acted on (deployed or refused); 0 none */
    int missing_reported;
} reload_watch;

static void reload_log(const char *msg) { printf("reload: %s\n", msg); fflush(stdout); }

static uint64_t reload_hash(const char *p, size_t n) {
    uint64_t h = 0xcbf29ce484222325ull;
    size_t i;
    for (i = 0; i < n; i++) { h ^= (unsigned char)p[i]; h *= 0x100000001b3ull; }
    return h ? h : 1u;
}

/* Deploys text, or logs why not (the running program stays). */
static void reload_deploy(dt_engine *e, const reload_watch *w, const char *text, size_t len) {
    char msg[800], why[600];
    dt_error err;
    dt_program_info info;
    if (dt_deploy(e, text, len, &err) != DT_OK) {
        dt_error_format(&err, why, sizeof why);
        if (dt_program(e, &info) == DT_OK)
            snprintf(msg, sizeof msg, "%s:%s (still running version %llu)", w->path, why,
                     (unsigned long long)info.version);
        else
            snprintf(msg, sizeof msg, "%s:%s (no program running)", w->path, why);
        reload_log(msg);
        return;
    }
    (void)dt_program(e, &info);
    snprintf(msg, sizeof msg, "deployed %s: version %llu, hash %016llx", w->path, (unsigned long long)info.version,
             (unsigned long long)info.hash);
    reload_log(msg);
}

/* One poll: read the file, act if its content is new. */
static void reload_poll(dt_engine *e, reload_watch *w) {
    static char text[PROGRAM_MAX];
    char msg[600];
    size_t n;
    uint64_t h;
    FILE *f = fopen(w->path, "rb");
    if (!f) {
        if (!w->missing_reported) {
            snprintf(msg, sizeof msg, "%s: cannot read; keeping the running program", w->path);
            reload_log(msg);
        }
        w->missing_reported = 1;
        return;
    }
    w->missing_reported = 0;
    n = fread(text, 1, sizeof text, f);
    fclose(f);
    if (n == sizeof text) {
        snprintf(msg, sizeof msg, "%s: larger than %d bytes; not deployed", w->path, PROGRAM_MAX - 1);
        if (w->seen != 1u) reload_log(msg);
        w->seen = 1u;
        return;
    }
    h = reload_hash(text, n);
    if (h == w->seen) return;
    w->seen = h;
    reload_deploy(e, w, text, n);
}

/* ---- the rip cord on a signal -------------------------------------------- */
static dt_engine *volatile reload_engine;
static volatile sig_atomic_t reload_stop;

static void reload_on_signal(int sig) {
    if (sig == SIGUSR1) dt_ripcord_signal(reload_engine, 1);
    else if (sig == SIGUSR2) dt_ripcord_signal(reload_engine, 0);
    else reload_stop = 1;
}

static void reload_signals(void) {
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = reload_on_signal;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGUSR1, &sa, NULL);
    sigaction(SIGUSR2, &sa, NULL);
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
}

/* ---- the host ------------------------------------------------------------ */
static void reload_on_event(const dt_event *ev, void *ud) {
    uint32_t i;
    (void)ud;
    printf("event %.*s", (int)ev->name.len, ev->name.ptr);
    for (i = 0; i < ev->nfields; i++)
        if (ev->fields[i].value.type == DT_TYPE_I64)
            printf(" %.*s=%lld", (int)ev->fields[i].name.len, ev->fields[i].name.ptr,
                   (long long)ev->fields[i].value.as.i64);
    printf("\n");
    fflush(stdout);
}

static int64_t reload_now;
static int64_t reload_clock(void *ud) { (void)ud; return reload_now; }

static dt_engine *reload_create(int fixed_clock) {
    static const dt_processor *procs[3];
    dt_desc d;
    memset(&d, 0, sizeof d);
    procs[0] = dt_query_processor();
    procs[1] = dt_stateful_processor();
    procs[2] = dt_stateful_trigger_processor();
    d.processors = procs;
    d.nprocessors = 3;
    d.sinks.event = reload_on_event;
    d.self_interval_ns = -1;
    if (fixed_clock) { d.clock.now = reload_clock; d.clock.user_data = NULL; }
    return dt_create(&d);
}

/* What the service does all day: one round of its events. */
static void reload_work(int round) {
    DT_EMIT(DT_INFO, "LogWelcomeBanner", DT_I64("round", round));
    DT_EMIT(DT_INFO, "HealthCheckPing", DT_I64("round", round));
    DT_EMIT(DT_DEBUG, "LogWorkDetail", DT_I64("round", round));
}

static void reload_sleep_ms(long ms) {
    struct timespec ts;
    ts.tv_sec = ms / 1000;
    ts.tv_nsec = (ms % 1000) * 1000000L;
    nanosleep(&ts, NULL);
}

static int reload_serve(const char *path) {
    reload_watch w;
    dt_engine *e = reload_create(0);
    int round = 0;
    if (!e) return 1;
    memset(&w, 0, sizeof w);
    w.path = path;
    reload_engine = e;
    dt_bind_sites(e);
    reload_signals();
    while (!reload_stop) {
        if (round % 10 == 0) reload_poll(e, &w);
        reload_work(round++);
        dt_tick(e, dt_now(e));        /* also brings sites up to date after a signal */
        reload_sleep_ms(100);
    }
    dt_destroy(e);
    return 0;
}

/* ---- the scripted run ------------------------------------------------------ */
static void demo_write(const char *path, const char *text) {
    FILE *f = fopen(path, "wb");
    if (!f) return;
    fputs(text, f);
    fclose(f);
}

/* A second passes: the tick also brings the sites up to date after a
 * signal changed the rip cord. */
static void demo_advance(dt_engine *e, int round) {
    reload_now += 1000000000;
    dt_tick(e, reload_now);
    reload_work(round);
}

static void demo_tick(dt_engine *e, const char *what, int round) {
    printf("-- %s\n", what);
    demo_advance(e, round);
}

static void demo_step(dt_engine *e, reload_watch *w, const char *what, int round) {
    printf("-- %s\n", what);
    reload_poll(e, w);
    demo_advance(e, round);
}

/* Runs in dir (chdir), so the output names the file the same way wherever
 * dir is. */
static int reload_demo(const char *dir) {
    reload_watch w;
    dt_engine *e;
    if (chdir(dir) != 0) { fprintf(stderr, "%s: cannot enter\n", dir); return 1; }
    remove("program.dt");
    reload_now = 1000000000;
    e = reload_create(1);
    if (!e) return 1;
    memset(&w, 0, sizeof w);
    w.path = "program.dt";
    reload_engine = e;
    dt_bind_sites(e);
    reload_signals();
    demo_step(e, &w, "no program file yet: defaults (info and up)", 1);
    demo_write(w.path, "level LogWelcomeBanner = off\n");
    demo_step(e, &w, "version 1 drops the banner", 2);
    demo_step(e, &w, "unchanged file: nothing to do", 3);
    demo_write(w.path, "level LogWelcomeBanner = off\nlevel HealthCheckPing = of\n");
    demo_step(e, &w, "a typo: refused, version 1 keeps running", 4);
    demo_step(e, &w, "the same broken file is reported once", 5);
    demo_write(w.path, "level LogWelcomeBanner = off\nlevel HealthCheckPing = off\nlevel LogWorkDetail = debug\n");
    demo_step(e, &w, "version 2: pings off, detail on", 6);
    raise(SIGUSR1);
    demo_tick(e, "SIGUSR1: rip cord pulled, events flow as without a program", 7);
    raise(SIGUSR2);
    demo_tick(e, "SIGUSR2: released, version 2 again", 8);
    demo_write(w.path, "");
    demo_step(e, &w, "an empty file is a valid, empty program", 9);
    remove(w.path);
    dt_destroy(e);
    return 0;
}

int main(int argc, char **argv) {
    if (argc == 3 && !strcmp(argv[1], "--demo")) return reload_demo(argv[2]);
    if (argc == 2) return reload_serve(argv[1]);
    fprintf(stderr, "usage: reload PROGRAM.dt | reload --demo DIR\n");
    return 2;
}
