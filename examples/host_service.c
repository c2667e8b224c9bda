/* host_service.c -- a small multi-threaded service that uses dt the way a
 * real one would.
 *
 *     cc -std=c99 -O2 -pthread -I. -o build/host_service examples/host_service.c
 *     build/host_service
 *
 * The service is a work queue: the main thread enqueues items, three worker
 * threads take them off and process them, and now and then processing
 * fails. The code logs through DT_EMIT call sites and knows nothing about
 * what will happen to those events; a dt program deployed at startup
 * decides that:
 *
 *   - LogDequeueWork (one per item, nobody reads it) is no longer exported;
 *   - a flight recorder keeps the recent debug-level history in memory and
 *     writes it out when ErrorProcessing happens;
 *   - after each ErrorProcessing, the debug-level LogWorkItem events are
 *     exported for 100 ms.
 *
 * The host also registers an action of its own, memory_dump, rate-limited
 * and deferred to dt_poll. Here the host asks for it itself (through
 * dt_action_invoke) when it sees failures; state-machine programs
 * (dt_stateful.h) will be able to call it from program text.
 *
 * Halfway through, the main thread pulls the rip cord (all processing off:
 * events flow as if no program were deployed) and releases it again. The
 * run lasts about half a second; the output depends on thread timing, so
 * line counts differ from run to run.
 *
 * Host code and sinks here only print. A real host would hand exported
 * events to its exporter (OTLP, syslog, a file) instead. */

/* nanosleep, and a nanosecond CLOCK_REALTIME for dt's default clock: a
 * strict -std=c99 build declares neither without this. */
#define _POSIX_C_SOURCE 200809L

#define DT_IMPLEMENTATION
#include "dt.h"

#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define WORKERS 3
#define TICKS 48               /* main loop iterations ... */
#define TICK_MS 10             /* ... this far apart: about 0.5 s in all */
#define ITEMS_PER_TICK 2
#define FAIL_EVERY 29          /* every 29th item fails */
#define QUEUE_CAP 64

/* The program. It could as well come from a file, a config service or an
 * operator; dt_deploy only needs the text. */
static const char program_text[] =
    "# drop: one event per item, and nobody reads it\n"
    "level LogDequeueWork = off\n"
    "\n"
    "# for 100 ms after a failure, export the per-item debug events\n"
    "level LogWorkItem = debug for 100ms when ErrorProcessing\n"
    "\n"
    "# keep the last 2 KiB of debug-and-above history; write it out on failure\n"
    "recorder crash {\n"
    "    record * where level >= debug\n"
    "    capacity 2KiB\n"
    "    flush when ErrorProcessing\n"
    "}\n";

/* ---- output helpers: one fputs per line keeps lines from different
 * threads whole ---------------------------------------------------------- */
static int64_t start_ns;

static void put_line(const char *line) { fputs(line, stdout); }

static double ms_since_start(int64_t ts) { return (double)(ts - start_ns) / 1e6; }

/* Appends one value to buf as text. */
static void format_value(char *buf, size_t size, const dt_value *v) {
    size_t len = strlen(buf);
    if (len + 1 >= size) return;
    switch (v->type) {
    case DT_TYPE_I64: snprintf(buf + len, size - len, "%lld", (long long)v->as.i64); break;
    case DT_TYPE_U64: snprintf(buf + len, size - len, "%llu", (unsigned long long)v->as.u64); break;
    case DT_TYPE_F64: snprintf(buf + len, size - len, "%g", v->as.f64); break;
    case DT_TYPE_BOOL: snprintf(buf + len, size - len, "%s", v->as.b ? "true" : "false"); break;
    case DT_TYPE_STR: snprintf(buf + len, size - len, "\"%.*s\"", (int)v->as.str.len, v->as.str.ptr); break;
    case DT_TYPE_BYTES: snprintf(buf + len, size - len, "(%lu bytes)", (unsigned long)v->as.str.len); break;
    default: snprintf(buf + len, size - len, "null"); break;
    }
}

/* Appends " name=value" for each field to buf. */
static void format_fields(char *buf, size_t size, const dt_field *f, uint32_t n) {
    uint32_t i;
    for (i = 0; i < n; i++) {
        size_t len = strlen(buf);
        if (len + 1 >= size) return;
        snprintf(buf + len, size - len, " %.*s=", (int)f[i].name.len, f[i].name.ptr);
        format_value(buf, size, &f[i].value);
    }
}

/* ---- sinks: called on the thread that emitted (or ticked), outside every
 * engine lock; the pointers they get are valid only during the call ------ */
static void on_event(const dt_event *ev, void *user_data) {
    char line[512];
    (void)user_data;
    snprintf(line, sizeof line, "%7.2f ms  event  %-5s %.*s", ms_since_start(ev->ts), dt_level_name(ev->level),
             (int)ev->name.len, ev->name.ptr);
    format_fields(line, sizeof line - 1, ev->fields, ev->nfields);
    strcat(line, "\n");
    put_line(line);
}

static void on_action(const dt_action_call *c, void *user_data) {
    char line[400];
    uint32_t i;
    (void)user_data;
    snprintf(line, sizeof line, "%7.2f ms  action %s(", ms_since_start(c->ts), c->action);
    for (i = 0; i < c->nargs; i++) {
        if (i) strcat(line, ", ");
        format_value(line, sizeof line - 64, &c->args[i]);
    }
    strcat(line, c->suppressed ? ") refused by its rate limit\n" : c->deferred ? ") from dt_poll\n" : ")\n");
    put_line(line);
}

/* A dump arrives in chunks; joined in order they are one byte string in
 * the format of docs/dump-format.md. Here it is decoded straight away and
 * summarised; a real host would write the bytes somewhere durable and
 * decode them later with `dt decode`. */
typedef struct dump_summary {
    uint32_t seen, total;
    char last[3][64];
} dump_summary;

static void on_record(const dt_event *ev, void *user_data) {
    dump_summary *s = (dump_summary *)user_data;
    snprintf(s->last[s->seen % 3], sizeof s->last[0], "%.*s", (int)ev->name.len, ev->name.ptr);
    s->seen++;
}

static void on_dump(const dt_dump *d, void *user_data) {
    unsigned char bytes[4096];           /* the recorder below holds 2 KiB */
    char line[512];
    dump_summary s;
    size_t len = 0, bad = 0;
    uint32_t i;
    (void)user_data;
    for (i = 0; i < d->nchunks; i++) {
        if (d->chunks[i].len > sizeof bytes - len) return;       /* bigger than this host expects */
        memcpy(bytes + len, d->chunks[i].ptr, d->chunks[i].len);
        len += d->chunks[i].len;
    }
    memset(&s, 0, sizeof s);
    if (dt_dump_decode(bytes, len, NULL, on_record, &s, &bad) != DT_OK) {
        snprintf(line, sizeof line, "           dump   malformed at byte %lu\n", (unsigned long)bad);
        put_line(line);
        return;
    }
    snprintf(line, sizeof line,
             "%7.2f ms  dump   recorder '%.*s': %u records (%llu overwritten before it), %lu bytes; last: %s, %s, %s\n",
             ms_since_start(d->ts), (int)d->recorder.len, d->recorder.ptr, (unsigned)d->records,
             (unsigned long long)d->overwritten, (unsigned long)len, s.seen > 2 ? s.last[(s.seen - 3) % 3] : "-",
             s.seen > 1 ? s.last[(s.seen - 2) % 3] : "-", s.seen > 0 ? s.last[(s.seen - 1) % 3] : "-");
    put_line(line);
}

static void on_log(int severity, const char *message, void *user_data) {
    char line[400];
    (void)user_data;
    snprintf(line, sizeof line, "           dt log (%d): %s\n", severity, message);
    put_line(line);
}

/* ---- a host action ------------------------------------------------------
 * Registered with the engine so that programs (and operators, through
 * dt_action_invoke) can ask for it by name. It is deferred: it runs from
 * dt_poll on the main thread, never on a worker in the middle of its work. */
static void memory_dump(dt_engine *e, const dt_action_call *c, void *user_data) {
    char line[200];
    (void)e;
    (void)user_data;
    snprintf(line, sizeof line, "           memory_dump: would dump the memory of pid %ld now (reason: %.*s)\n",
             (long)getpid(), c->nargs > 0 && c->args[0].type == DT_TYPE_STR ? (int)c->args[0].as.str.len : 1,
             c->nargs > 0 && c->args[0].type == DT_TYPE_STR ? c->args[0].as.str.ptr : "?");
    put_line(line);
}

/* ---- the service: a bounded queue and its workers ----------------------- */
static pthread_mutex_t queue_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t queue_ready = PTHREAD_COND_INITIALIZER;
static uint64_t queue[QUEUE_CAP];
static unsigned queue_head, queue_len;
static int stopping;
static unsigned long failures;           /* under queue_lock */

static void sleep_us(long us) {
    struct timespec t;
    t.tv_sec = us / 1000000;
    t.tv_nsec = (us % 1000000) * 1000;
    nanosleep(&t, NULL);
}

static void enqueue(uint64_t item) {
    unsigned depth;
    pthread_mutex_lock(&queue_lock);
    if (queue_len == QUEUE_CAP) {            /* full: the item is refused */
        pthread_mutex_unlock(&queue_lock);
        DT_EMIT(DT_WARN, "LogQueueFull", DT_U64("item", item));
        return;
    }
    queue[(queue_head + queue_len) % QUEUE_CAP] = item;
    depth = ++queue_len;
    pthread_cond_signal(&queue_ready);
    pthread_mutex_unlock(&queue_lock);
    DT_EMIT(DT_INFO, "LogEnqueueWork", DT_I64("depth", depth), DT_U64("item", item));
}

static void *worker(void *arg) {
    int id = (int)(size_t)arg;
    for (;;) {
        uint64_t item;
        unsigned depth;
        pthread_mutex_lock(&queue_lock);
        while (!queue_len && !stopping) pthread_cond_wait(&queue_ready, &queue_lock);
        if (!queue_len) {
            pthread_mutex_unlock(&queue_lock);
            break;
        }
        item = queue[queue_head];
        queue_head = (queue_head + 1) % QUEUE_CAP;
        depth = --queue_len;
        pthread_mutex_unlock(&queue_lock);

        /* Logging as a service already does. With the site off (no program
         * or rule wants it), each line costs a load and a branch; the
         * field expressions are not even evaluated. */
        DT_EMIT(DT_INFO, "LogDequeueWork", DT_I64("depth", depth), DT_I64("worker", id));
        DT_EMIT(DT_DEBUG, "LogWorkItem", DT_U64("item", item), DT_I64("worker", id), DT_STR("stage", "start"));
        sleep_us(300);                                   /* the "work" */
        if (item % FAIL_EVERY == FAIL_EVERY - 1) {
            DT_EMIT(DT_ERROR, "ErrorProcessing", DT_U64("item", item), DT_STR("reason", "checksum mismatch"));
            pthread_mutex_lock(&queue_lock);
            failures++;
            pthread_mutex_unlock(&queue_lock);
            continue;
        }
        DT_EMIT(DT_DEBUG, "LogWorkItem", DT_U64("item", item), DT_I64("worker", id), DT_STR("stage", "done"));
    }
    return NULL;
}

/* ---- setup ------------------------------------------------------------- */
static dt_engine *create_engine(void) {
    static const dt_schema_field error_fields[] = {{"item", DT_TYPE_U64}, {"reason", DT_TYPE_STR}};
    dt_desc desc;
    dt_action_desc dump;
    dt_engine *e;
    memset(&desc, 0, sizeof desc);                  /* zero means default */
    desc.sinks.event = on_event;
    desc.sinks.dump = on_dump;
    desc.sinks.action = on_action;
    desc.logger.log = on_log;
    desc.max_risk = DT_RISK_HIGH;                   /* this host allows its own actions */
    e = dt_create(&desc);
    if (!e) return NULL;

    /* A schema lets programs that name ErrorProcessing have their field
     * names and types checked at deploy. Optional. */
    dt_register_event(e, "ErrorProcessing", error_fields, 2, __FILE__, __LINE__);

    memset(&dump, 0, sizeof dump);
    dump.name = "memory_dump";
    dump.fn = memory_dump;
    dump.risk = DT_RISK_HIGH;
    dump.rate_count = 1;                            /* at most one ...      */
    dump.rate_window_ns = (int64_t)10 * 1000000000; /* ... per ten seconds */
    dump.deferred = 1;
    dump.min_args = 0;
    dump.max_args = 1;
    if (dt_action_register(e, &dump) != DT_OK) {
        dt_destroy(e);
        return NULL;
    }
    dt_bind_sites(e);                               /* DT_EMIT sites report to e */
    return e;
}

static int deploy(dt_engine *e) {
    dt_error err;
    dt_program_info info;
    char msg[600];
    if (dt_deploy(e, program_text, strlen(program_text), &err) != DT_OK) {
        dt_error_format(&err, msg, sizeof msg);
        fprintf(stderr, "host_service: program refused: %s\n", msg);
        return -1;
    }
    dt_program(e, &info);
    printf("deployed program v%llu, hash 0x%016llx, risk %s, %lu bytes of recorder rings\n",
           (unsigned long long)info.version, (unsigned long long)info.hash, dt_risk_name(info.risk),
           (unsigned long)info.recorder_bytes);
    return 0;
}

static void print_stats(dt_engine *e) {
    dt_stats st;
    dt_get_stats(e, &st);
    printf("\nfinal counters (dt_get_stats):\n");
#define PRINT_STAT(name, doc) printf("  %-22s %8llu  %s\n", #name, (unsigned long long)st.name, doc);
    DT_STATS(PRINT_STAT)
#undef PRINT_STAT
}

static void write_stdout(const char *bytes, size_t len, void *ud) {
    (void)ud;
    fwrite(bytes, 1, len, stdout);
}

/* `host_service --catalog` prints the event catalog of this build: every
 * DT_EMIT site (listed by the linker, whether it ran or not) and the
 * registered schemas. An operator checks a program against it offline:
 *     host_service --catalog > catalog.json
 *     dt check program.dt --catalog catalog.json */
int main(int argc, char **argv) {
    pthread_t threads[WORKERS];
    dt_engine *e = create_engine();
    unsigned long seen_failures = 0;
    uint64_t next_item = 0;
    int tick, i;
    if (!e) {
        fprintf(stderr, "host_service: could not create the engine\n");
        return 1;
    }
    if (argc > 1 && strcmp(argv[1], "--catalog") == 0) {
        dt_catalog_write(e, write_stdout, NULL);
        dt_destroy(e);
        return 0;
    }
    start_ns = dt_now(e);
    if (deploy(e) != 0) {
        dt_destroy(e);
        return 1;
    }
    for (i = 0; i < WORKERS; i++) pthread_create(&threads[i], NULL, worker, (void *)(size_t)(i + 1));

    for (tick = 0; tick < TICKS; tick++) {
        unsigned long f;
        int k;
        for (k = 0; k < ITEMS_PER_TICK; k++) enqueue(next_item++);

        if (tick == TICKS / 2) {
            printf("%7.2f ms  host   pulling the rip cord\n", ms_since_start(dt_now(e)));
            dt_ripcord(e, 1);
        }
        if (tick == TICKS / 2 + 8) {
            printf("%7.2f ms  host   releasing the rip cord\n", ms_since_start(dt_now(e)));
            dt_ripcord(e, 0);
        }

        /* The host's own judgement can ask for diagnostics too: on new
         * failures, request a memory dump. The action's rate limit keeps
         * it to one per ten seconds however often this asks. */
        pthread_mutex_lock(&queue_lock);
        f = failures;
        pthread_mutex_unlock(&queue_lock);
        if (f != seen_failures) {
            dt_value reason;
            reason.type = DT_TYPE_STR;
            reason.as.str = dt_cstr("ErrorProcessing seen by the host");
            dt_action_invoke(e, "memory_dump", &reason, 1);
            seen_failures = f;
        }

        sleep_us(TICK_MS * 1000L);
        dt_tick(e, dt_now(e));   /* expires timed level changes, self-telemetry */
        dt_poll(e);              /* runs deferred actions here, on this thread */
    }

    pthread_mutex_lock(&queue_lock);
    stopping = 1;
    pthread_cond_broadcast(&queue_ready);
    pthread_mutex_unlock(&queue_lock);
    for (i = 0; i < WORKERS; i++) pthread_join(threads[i], NULL);
    dt_poll(e);

    print_stats(e);
    dt_destroy(e);
    return 0;
}
