/* firmware.c — dt on a microcontroller: an Arm Cortex-M3 (MPS2 AN385 under
 * qemu-system-arm), no threads, no malloc in the engine, time from SysTick.
 *
 * At boot it deploys program.dt (linked in as a string) into an engine that
 * lives in a static block, then replays events.jsonl (linked in too) the
 * way `dt replay --self` does on the host, writing the same JSON Lines to
 * the UART; CI diffs the two (.ci/embedded.sh). Events of the sampling
 * interrupt (tid 7) reach the engine through the interrupt path: the
 * interrupt only queues them, the main loop emits them. Lines starting with
 * '#' are the firmware's own report (memory, stack, the live checks) and
 * are not part of the comparison. docs/embedded.md explains the choices.
 *
 * Build: examples/firmware/Makefile (dt's implementation is dt_impl.c).
 * Only the application uses libc's
 * number formatting (snprintf, strtod, through dt_jsonl.h); dt.h itself
 * needs no stdio. */
#include "dt.h"
#include "fw_processors.h"
#include "dt_jsonl.h"
#include "board.h"

/* The engine's block. The replay runs in the smallest block that holds the
 * engine and the program (found at boot, see fw_block_needed), so a
 * program that grows past FW_BLOCK_BYTES fails here first. */
#ifndef FW_BLOCK_BYTES
#define FW_BLOCK_BYTES (32 * 1024)
#endif
#define FW_BLOCK_STEP 256           /* granularity of the search for the smallest block */
#define FW_IRQ_TID 7                /* events of the sampling interrupt */
#define FW_IRQ_SLOTS 4              /* events the interrupt may queue before the main loop runs */
#define FW_IRQ_SLOT_BYTES 256       /* name and string bytes of one queued event */
#define FW_MAX_LINE 512             /* longest events.jsonl line */
#define FW_MAX_DUMP 8192            /* largest dump the UART output joins */
#define FW_PAINT 0xA5u              /* fill byte for high-water marks */

/* program.dt and events.jsonl, linked in by blobs.S */
extern const char fw_program[], fw_program_end[];
extern const char fw_events[], fw_events_end[];

static unsigned char fw_block[FW_BLOCK_BYTES] __attribute__((aligned(16)));

/* Time: while replaying, the stream's time (as dt replay); else SysTick. */
static struct {
    int virtual_time;
    int64_t now;
} fw_time;

static int64_t fw_clock(void *user_data) {
    (void)user_data;
    return fw_time.virtual_time ? fw_time.now : board_now_ns();
}

static size_t fw_len(const char *start, const char *end) { return (size_t)(end - start); }

/* >>output -----------------------------------------------------------------
 * The UART carries what `dt replay` prints (docs/cli.md). Values, fields and
 * events are written by dt_jsonl.h, the dt tool's own writer; the line
 * framing below follows dt_cli.c's sinks, and CI's diff holds them equal. */

static void fw_uart(const char *bytes, size_t len, void *user_data) {
    (void)user_data;
    board_write(bytes, len);
}

static const dtj_writer fw_out = {fw_uart, NULL};

static void fw_endl(void) { dtj_write(&fw_out, "\n", 1); }

static void fw_say(const char *text) { dtj_write_raw(&fw_out, text); }

static void fw_say_u64(const char *label, uint64_t v, const char *unit) {
    fw_say(label);
    dtj_write_u64(&fw_out, v);
    fw_say(unit);
}

static void fw_sink_event(const dt_event *ev, void *user_data) {
    (void)user_data;
    dtj_write_event(&fw_out, ev, 1);
    fw_endl();
}

static void fw_write_number(double v, int is_int) {
    if (is_int && v >= -9223372036854775808.0 && v < 9223372036854775808.0 && (double)(int64_t)v == v)
        dtj_write_i64(&fw_out, (int64_t)v);
    else
        dtj_write_f64(&fw_out, v);
}

static void fw_write_doubles(const double *v, uint32_t n) {
    uint32_t k;
    for (k = 0; v && k < n; k++) {
        if (k > 0) fw_say(",");
        dtj_write_f64(&fw_out, v[k]);
    }
}

static void fw_write_counts(const uint64_t *v, uint32_t n) {
    uint32_t k;
    for (k = 0; v && k < n; k++) {
        if (k > 0) fw_say(",");
        dtj_write_u64(&fw_out, v[k]);
    }
}

static void fw_write_histogram(const dt_metric *m) {
    fw_say_u64(",\"count\":", m->count, ",\"sum\":");
    dtj_write_f64(&fw_out, m->sum);
    fw_say(",\"min\":");
    dtj_write_f64(&fw_out, m->min);
    fw_say(",\"max\":");
    dtj_write_f64(&fw_out, m->max);
    fw_say(",\"bounds\":[");
    fw_write_doubles(m->bounds, m->nbuckets ? m->nbuckets - 1 : 0);
    fw_say("],\"buckets\":[");
    fw_write_counts(m->bucket_counts, m->nbuckets);
    fw_say("]");
}

static void fw_write_metric(const dt_metric *m, const char *type) {
    static const char *const kinds[4] = {"unknown", "counter", "gauge", "histogram"};
    int kind = m->kind >= DT_METRIC_COUNTER && m->kind <= DT_METRIC_HISTOGRAM ? (int)m->kind : 0;
    fw_say("{\"type\":\"");
    fw_say(type);
    fw_say("\",\"name\":");
    dtj_write_string(&fw_out, m->name.ptr, m->name.len);
    fw_say(",\"kind\":\"");
    fw_say(kinds[kind]);
    fw_say(m->temporality == DT_CUMULATIVE ? "\",\"temporality\":\"cumulative\"" : "\",\"temporality\":\"delta\"");
    fw_say(",\"start\":");
    dtj_write_i64(&fw_out, m->start_ns);
    fw_say(",\"end\":");
    dtj_write_i64(&fw_out, m->end_ns);
    fw_say(",\"labels\":");
    dtj_write_fields(&fw_out, m->labels, m->labels ? m->nlabels : 0);
    if (m->kind == DT_METRIC_HISTOGRAM) {
        fw_write_histogram(m);
    } else {
        fw_say(",\"value\":");
        fw_write_number(m->value, m->is_int);
    }
    fw_say("}");
    fw_endl();
}

static void fw_sink_metric(const dt_metric *m, void *user_data) {
    (void)user_data;
    fw_write_metric(m, "metric");
}

static void fw_sink_self(const dt_metric *m, void *user_data) {
    (void)user_data;
    fw_write_metric(m, "self");
}

static void fw_sink_action(const dt_action_call *call, void *user_data) {
    uint32_t k;
    (void)user_data;
    fw_say("{\"type\":\"action\",\"action\":");
    dtj_write_string(&fw_out, call->action ? call->action : "", call->action ? strlen(call->action) : 0);
    fw_say(",\"ts\":");
    dtj_write_i64(&fw_out, call->ts);
    fw_say(",\"args\":[");
    for (k = 0; call->args && k < call->nargs; k++) {
        if (k > 0) fw_say(",");
        dtj_write_value(&fw_out, &call->args[k]);
    }
    fw_say("],\"trigger\":");
    if (call->trigger) dtj_write_string(&fw_out, call->trigger->name.ptr, call->trigger->name.len);
    else fw_say("null");
    fw_say(call->deferred ? ",\"deferred\":true" : ",\"deferred\":false");
    fw_say(call->suppressed ? ",\"suppressed\":true}" : ",\"suppressed\":false}");
    fw_endl();
}

/* A dump's records, oldest first, as the events array of its line. */
typedef struct fw_dump_state {
    uint32_t flags, records;
} fw_dump_state;

static void fw_dump_header(const dt_dump_header *h, void *user_data) {
    ((fw_dump_state *)user_data)->flags = h->flags;
}

static void fw_dump_record(const dt_event *ev, void *user_data) {
    if (((fw_dump_state *)user_data)->records++ > 0) fw_say(",");
    dtj_write_event(&fw_out, ev, 0);
}

static void fw_dump_count(const dt_event *ev, void *user_data) {
    (void)ev;
    ((fw_dump_state *)user_data)->records++;
}

/* The chunks joined in a static buffer: dt_dump_decode reads one run of
 * bytes, and the firmware has no heap to join them in. */
static size_t fw_join(const dt_dump *d, uint8_t *out, size_t cap) {
    size_t len = 0;
    uint32_t k;
    for (k = 0; k < d->nchunks; k++) {
        if (d->chunks[k].len > cap - len) return 0;
        memcpy(out + len, d->chunks[k].ptr, d->chunks[k].len);
        len += d->chunks[k].len;
    }
    return len;
}

static void fw_sink_dump(const dt_dump *d, void *user_data) {
    static uint8_t bytes[FW_MAX_DUMP];
    fw_dump_state st;
    size_t len = fw_join(d, bytes, sizeof bytes), bad = 0;
    (void)user_data;
    memset(&st, 0, sizeof st);
    if (len == 0 || dt_dump_decode(bytes, len, fw_dump_header, fw_dump_count, &st, &bad) != DT_OK) {
        fw_say_u64("{\"type\":\"error\",\"offset\":", bad, ",\"message\":\"dump too large or malformed\"}\n");
        return;
    }
    fw_say("{\"type\":\"dump\",\"recorder\":");
    dtj_write_string(&fw_out, d->recorder.ptr, d->recorder.len);
    fw_say(",\"key\":");
    dtj_write_string(&fw_out, d->key.ptr, d->key.len);
    fw_say(",\"ts\":");
    dtj_write_i64(&fw_out, d->ts);
    fw_say_u64(",\"records\":", d->records, ",\"overwritten\":");
    dtj_write_u64(&fw_out, d->overwritten);
    fw_say((st.flags & DT_DUMP_TORN) ? ",\"torn\":true,\"events\":[" : ",\"torn\":false,\"events\":[");
    st.records = 0;
    dt_dump_decode(bytes, len, fw_dump_header, fw_dump_record, &st, &bad);
    fw_say("]}");
    fw_endl();
}

/* >>engine -----------------------------------------------------------------*/

static const dt_processor *const *fw_processors(uint32_t *n) {
    static const dt_processor *list[2];
    uint32_t k = 0;
#if FW_HAVE_QUERY
    list[k++] = dt_query_processor();
#endif
#if FW_HAVE_STATEFUL
    list[k++] = dt_stateful_processor();
#endif
    *n = k;
    return list;
}

/* The engine as the firmware configures it: tables sized for a small
 * device, the rest as `dt replay --self` (default level, risk, self
 * telemetry every 60 s). Sinks print when `print` is set. */
static dt_desc fw_desc(size_t block_bytes, int print) {
    dt_desc d;
    memset(&d, 0, sizeof d);
    d.memory.ptr = fw_block;
    d.memory.size = block_bytes;
    d.clock.now = fw_clock;
    d.max_events = 32;
    d.max_actions = 8;
    d.max_pending = 4;
    d.max_program_bytes = FW_BLOCK_BYTES;
    d.processors = fw_processors(&d.nprocessors);
    if (print) {
        d.sinks.event = fw_sink_event;
        d.sinks.metric = fw_sink_metric;
        d.sinks.self = fw_sink_self;
        d.sinks.action = fw_sink_action;
        d.sinks.dump = fw_sink_dump;
    }
    return d;
}

/* An engine with program.dt deployed (unless engine_only), in the first
 * block_bytes of the block; NULL if they do not fit. */
static dt_engine *fw_start(size_t block_bytes, int print, int engine_only) {
    dt_desc d = fw_desc(block_bytes, print);
    dt_engine *e = dt_create(&d);
    if (e && !engine_only && dt_deploy(e, fw_program, fw_len(fw_program, fw_program_end), NULL) != DT_OK) {
        dt_destroy(e);
        e = NULL;
    }
    return e;
}

static dt_engine *fw_boot(size_t block_bytes, int print) { return fw_start(block_bytes, print, 0); }

/* The smallest block (in FW_BLOCK_STEP steps) that holds the engine and
 * the deployed program (or the engine alone): what this firmware must
 * reserve. 0 if even the whole block is too small. */
static size_t fw_block_needed(int engine_only) {
    size_t size;
    for (size = FW_BLOCK_STEP; size <= FW_BLOCK_BYTES; size += FW_BLOCK_STEP) {
        dt_engine *e = fw_start(size, 0, engine_only);
        if (e) {
            dt_destroy(e);
            return size;
        }
    }
    return 0;
}

/* Bytes of the block written since it was painted: the heap is first fit
 * from the low end, so this is its high-water mark. */
static size_t fw_block_touched(size_t size) {
    while (size > 0 && fw_block[size - 1] == FW_PAINT) size--;
    return size;
}

/* >>interrupt ---------------------------------------------------------------
 * dt_emit is not interrupt-safe (dt.h: thread-safe, not signal-safe; with
 * DT_NO_THREADS nothing guards the engine against being re-entered). So
 * the interrupt copies its event into a small queue and the main loop
 * emits it. The queue has one writer (the interrupt) and one reader (the
 * main loop); a full queue drops the event and counts it. What an
 * interrupt may call directly: dt_ripcord_signal and
 * dt_recorder_flush_emergency (see docs/embedded.md). */
typedef struct fw_irq_slot {
    dt_event ev;
    dt_field fields[DT_MAX_FIELDS];
    char bytes[FW_IRQ_SLOT_BYTES];
} fw_irq_slot;

enum { FW_IRQ_EVENT = 1, FW_IRQ_RIPCORD, FW_IRQ_EMERGENCY_FLUSH };

static struct {
    volatile int request;               /* what the next interrupt does */
    const dt_event *mailbox;            /* FW_IRQ_EVENT: the "peripheral's" event */
    dt_engine *engine;                  /* for the rip cord and the emergency flush */
    fw_irq_slot slots[FW_IRQ_SLOTS];
    volatile uint32_t head, tail;       /* head: written by the interrupt; tail: by the main loop */
    volatile uint32_t dropped;
    volatile int result;
} fw_irq;

/* Copies s into the slot's bytes at *used; 0 if it does not fit. */
static int fw_slot_copy(fw_irq_slot *s, size_t *used, dt_str *str) {
    if (str->len > sizeof s->bytes - *used) return 0;
    if (str->len) memcpy(s->bytes + *used, str->ptr, str->len);
    str->ptr = s->bytes + *used;
    *used += str->len;
    return 1;
}

/* The slot keeps its own copy of every byte: the event the interrupt saw
 * is gone by the time the main loop runs. */
static int fw_slot_fill(fw_irq_slot *s, const dt_event *ev) {
    size_t used = 0;
    uint32_t k;
    if (ev->nfields > DT_MAX_FIELDS) return 0;
    s->ev = *ev;
    s->ev.fields = s->fields;
    if (!fw_slot_copy(s, &used, &s->ev.name)) return 0;
    for (k = 0; k < ev->nfields; k++) {
        s->fields[k] = ev->fields[k];
        if (!fw_slot_copy(s, &used, &s->fields[k].name)) return 0;
        if ((s->fields[k].value.type == DT_TYPE_STR || s->fields[k].value.type == DT_TYPE_BYTES) &&
            !fw_slot_copy(s, &used, &s->fields[k].value.as.str))
            return 0;
    }
    return 1;
}

static void fw_irq_queue_event(const dt_event *ev) {
    uint32_t head = fw_irq.head;
    if (head - fw_irq.tail >= FW_IRQ_SLOTS || !fw_slot_fill(&fw_irq.slots[head % FW_IRQ_SLOTS], ev)) {
        fw_irq.dropped++;
        return;
    }
    __asm__ volatile("dmb" ::: "memory");   /* the slot before the index */
    fw_irq.head = head + 1;
}

void board_irq_handler(void) {
    switch (fw_irq.request) {
    case FW_IRQ_EVENT: fw_irq_queue_event(fw_irq.mailbox); break;
    case FW_IRQ_RIPCORD: dt_ripcord_signal(fw_irq.engine, 1); break;
    case FW_IRQ_EMERGENCY_FLUSH: fw_irq.result = dt_recorder_flush_emergency(fw_irq.engine, "blackbox"); break;
    default: break;
    }
    fw_irq.request = 0;
}

static void fw_irq_run(int request) {
    fw_irq.request = request;
    board_raise_irq();
}

/* >>replay -----------------------------------------------------------------
 * Each event as `dt replay` handles it: a later timestamp first moves time
 * (dt_tick), a missing one takes the latest, then emit and poll. */
typedef struct fw_replay {
    dt_engine *e;
    unsigned long line;
    int failed;
    size_t stack_peak;        /* with measure_stack: deepest stack below the loop */
    int measure_stack;
} fw_replay;

static void fw_replay_event(fw_replay *r, dt_event *ev) {
    if (ev->ts > fw_time.now) {
        fw_time.now = ev->ts;
        dt_tick(r->e, fw_time.now);
    } else if (ev->ts == 0) {
        ev->ts = fw_time.now;
    }
    dt_emit(r->e, ev);
    dt_poll(r->e);
}

static uintptr_t fw_sp(void) {
    uintptr_t sp;
    __asm__ volatile("mov %0, sp" : "=r"(sp));
    return sp;
}

/* Stack bytes below here (minus a margin for this frame) get FW_PAINT. */
static void fw_paint_stack(void) {
    unsigned char *p = (unsigned char *)board_stack_bottom;
    unsigned char *end = (unsigned char *)(fw_sp() - 64);
    while (p < end) *p++ = FW_PAINT;
}

/* Bytes of stack in use at the deepest point since the last paint. */
static size_t fw_stack_depth(void) {
    const unsigned char *p = (const unsigned char *)board_stack_bottom;
    while (p < (const unsigned char *)board_stack_top && *p == FW_PAINT) p++;
    return (size_t)((const unsigned char *)board_stack_top - p);
}

/* Handles an event, measuring the stack dt uses when asked. */
static void fw_replay_measured(fw_replay *r, dt_event *ev) {
    size_t base;
    if (!r->measure_stack) {
        fw_replay_event(r, ev);
        return;
    }
    base = (size_t)((uintptr_t)board_stack_top - fw_sp());
    fw_paint_stack();
    fw_replay_event(r, ev);
    if (fw_stack_depth() - base > r->stack_peak) r->stack_peak = fw_stack_depth() - base;
}

/* The interrupt's events, in the order it queued them. */
static void fw_drain_irq_queue(fw_replay *r) {
    while (fw_irq.tail != fw_irq.head) {
        fw_irq_slot *s = &fw_irq.slots[fw_irq.tail % FW_IRQ_SLOTS];
        fw_replay_measured(r, &s->ev);
        fw_irq.tail = fw_irq.tail + 1;
    }
}

static void fw_replay_line(fw_replay *r, const char *line, size_t len) {
    static unsigned char arena_bytes[2 * FW_MAX_LINE + 64];
    dt_field fields[DT_MAX_FIELDS];
    dt_event ev;
    dtj_arena arena;
    dtj_error err;
    int rc;
    if (len > FW_MAX_LINE || dtj_event_arena_size(len) > sizeof arena_bytes) {
        fw_say_u64("# error: line ", r->line, " is too long for this firmware\n");
        r->failed = 1;
        return;
    }
    dtj_arena_init(&arena, arena_bytes, sizeof arena_bytes);
    rc = dtj_read_event(line, len, &arena, &ev, fields, DT_MAX_FIELDS, &err);
    if (rc == DTJ_SKIP) return;
    if (rc != DTJ_EVENT) {
        fw_say_u64("# error: line ", r->line, ": ");
        fw_say(err.reason);
        fw_endl();
        r->failed = 1;
        return;
    }
    if (ev.tid == FW_IRQ_TID) {
        fw_irq.mailbox = &ev;
        fw_irq_run(FW_IRQ_EVENT);
        fw_drain_irq_queue(r);
    } else {
        fw_replay_measured(r, &ev);
    }
}

/* An engine on the stream's time, which starts at 0 as in dt replay (the
 * engine reads its clock when it is created and when the program is
 * deployed). */
static dt_engine *fw_replay_boot(size_t block_bytes, int print) {
    fw_time.virtual_time = 1;
    fw_time.now = 0;
    return fw_boot(block_bytes, print);
}

/* events.jsonl through e, then the end of input as dt replay has it; the
 * board's clock again afterwards. */
static void fw_replay_all(fw_replay *r) {
    const char *p = fw_events;
    while (p < fw_events_end) {
        const char *nl = (const char *)memchr(p, '\n', fw_len(p, fw_events_end));
        const char *end = nl ? nl : fw_events_end;
        r->line++;
        fw_replay_line(r, p, fw_len(p, end));
        p = nl ? nl + 1 : fw_events_end;
    }
    dt_flush(r->e);
    dt_poll(r->e);
    fw_time.virtual_time = 0;
}

/* >>live ---------------------------------------------------------------------
 * The engine on the board's clock, with DT_EMIT call sites in the main loop
 * and the two interrupt-safe calls made from an interrupt. Sinks count. */
static struct {
    uint32_t events, dumps, records, torn;
} fw_live_seen;

static void fw_live_event(const dt_event *ev, void *user_data) {
    (void)ev;
    (void)user_data;
    fw_live_seen.events++;
}

static void fw_live_dump(const dt_dump *d, void *user_data) {
    (void)user_data;
    fw_live_seen.dumps++;
    fw_live_seen.records += d->records;
    if (d->flags & DT_DUMP_TORN) fw_live_seen.torn++;
}

static int fw_check(int ok, const char *what) {
    fw_say(ok ? "# ok: " : "# FAILED: ");
    fw_say(what);
    fw_endl();
    return ok ? 0 : 1;
}

static void fw_busy_wait_ms(uint32_t ms) {
    int64_t until = board_now_ns() + (int64_t)ms * 1000000;
    while (board_now_ns() < until) {}
}

static int fw_live_clock(dt_engine *e) {
    int64_t t0 = dt_now(e), t1;
    fw_busy_wait_ms(5);
    t1 = dt_now(e);
    fw_say_u64("# clock: SysTick read a 5 ms wait as ", (uint64_t)(t1 - t0), " ns\n");
    return fw_check(t1 - t0 >= 5000000 && t1 - t0 < 6000000, "the engine's clock is the board timer");
}

/* The program turns SensorSample off; with the rip cord pulled from an
 * interrupt it is exported again once the main loop ticks. */
static int fw_live_ripcord(dt_engine *e) {
    uint32_t before;
    int fails = 0;
    DT_EMIT(DT_INFO, "SensorSample", DT_I64("channel", 0), DT_I64("raw", 100));
    fails += fw_check(fw_live_seen.events == 0, "main loop: SensorSample is off under the program");
    fw_irq_run(FW_IRQ_RIPCORD);
    fails += fw_check(dt_ripcord_pulled(e) == 1, "interrupt: dt_ripcord_signal pulled the rip cord");
    dt_tick(e, dt_now(e));
    before = fw_live_seen.events;
    DT_EMIT(DT_INFO, "SensorSample", DT_I64("channel", 0), DT_I64("raw", 101));
    fails += fw_check(fw_live_seen.events == before + 1, "main loop: with the rip cord pulled, SensorSample is exported");
    dt_ripcord(e, 0);
    return fails;
}

/* Debug events the main loop emits land in the black box; an interrupt
 * (a fault handler, say) writes it out with the emergency flush. */
static int fw_live_emergency(dt_engine *e) {
    int k, fails = 0;
    (void)e;
    for (k = 0; k < 3; k++) DT_EMIT(DT_DEBUG, "MotorStep", DT_I64("position", k), DT_I64("speed_rpm", 900));
    fw_irq_run(FW_IRQ_EMERGENCY_FLUSH);
    fw_say_u64("# emergency flush from the interrupt: ", fw_live_seen.records, " records\n");
    fails += fw_check(fw_irq.result == DT_OK && fw_live_seen.dumps == 1, "interrupt: dt_recorder_flush_emergency wrote one dump");
    fails += fw_check(fw_live_seen.records == 4 && fw_live_seen.torn == 0,
                      "the dump holds the 4 records kept since boot (one SensorSample, three MotorStep), not torn");
    return fails;
}

static int fw_live(size_t block_bytes) {
    dt_desc d = fw_desc(block_bytes, 0);
    dt_engine *e;
    int fails = 0;
    d.sinks.event = fw_live_event;
    d.sinks.dump = fw_live_dump;
    e = dt_create(&d);
    if (!e || dt_deploy(e, fw_program, fw_len(fw_program, fw_program_end), NULL) != DT_OK)
        return fw_check(0, "live engine deployed");
    dt_bind_sites(e);
    fw_irq.engine = e;
    fails += fw_live_clock(e);
    fails += fw_live_ripcord(e);
    fails += fw_live_emergency(e);
    fw_irq.engine = NULL;
    dt_destroy(e);
    return fails;
}

/* >>main -------------------------------------------------------------------*/

/* dt_check on the target: the compiled program's bytes with 32-bit
 * pointers (what `dt check` prints as memory, for this build). */
static void fw_report_check(size_t block_bytes) {
    dt_desc d = fw_desc(block_bytes, 0);
    dt_engine *e = dt_create(&d);
    dt_program_info info;
    if (e && dt_check(e, fw_program, fw_len(fw_program, fw_program_end), NULL, &info) == DT_OK) {
        fw_say_u64("# dt_check: program memory ", info.memory, " bytes, ");
        fw_say_u64("", info.recorder_bytes, " of them recorder rings\n");
    }
    if (e) dt_destroy(e);
}

static int fw_run_replay(size_t block_bytes) {
    fw_replay r;
    memset(&r, 0, sizeof r);
    memset(fw_block, FW_PAINT, sizeof fw_block);
    r.e = fw_replay_boot(block_bytes, 1);
    if (!r.e) return fw_check(0, "engine and program fit the block");
    fw_replay_all(&r);
    dt_destroy(r.e);
    fw_say_u64("# block: ", fw_block_touched(sizeof fw_block), " bytes written during the replay\n");
    fw_say_u64("# interrupt queue: ", fw_irq.dropped, " events dropped\n");
    return r.failed || fw_irq.dropped ? 1 : 0;
}

/* The same replay with no sinks: the stack dt itself uses per event. */
static size_t fw_dt_stack(size_t block_bytes) {
    fw_replay r;
    memset(&r, 0, sizeof r);
    r.measure_stack = 1;
    r.e = fw_replay_boot(block_bytes, 0);
    if (!r.e) return 0;
    fw_replay_all(&r);
    dt_destroy(r.e);
    return r.stack_peak;
}

int main(void) {
    size_t need;
    int fails = 0;
    board_init();
    fw_say("# dt firmware: Cortex-M3 (mps2-an385), DT_NO_THREADS DT_NO_MALLOC DT_NO_CLOCK");
    fw_say(DT_NO_FLOAT ? " DT_NO_FLOAT" : "");
    fw_say(FW_HAVE_QUERY ? " +query" : "");
    fw_say(FW_HAVE_STATEFUL ? " +stateful" : "");
    fw_endl();
    fw_say_u64("# block: the engine alone needs ", fw_block_needed(1), " bytes");
    fw_say_u64(" (searched in steps of ", FW_BLOCK_STEP, " bytes)\n");
    need = fw_block_needed(0);
    fw_say_u64("# block: engine and program need ", need, " bytes\n");
    if (need == 0) return fw_check(0, "the program fits FW_BLOCK_BYTES");
    fw_report_check(FW_BLOCK_BYTES);
    fw_paint_stack();
    fails += fw_run_replay(need);
    fw_say_u64("# stack: ", fw_stack_depth(), " bytes at the deepest, sinks and JSON included\n");
    fw_say_u64("# stack: ", fw_dt_stack(need), " bytes for dt to handle an event (no sinks)\n");
    fails += fw_live(need);
    fw_say(fails ? "# FAILED\n" : "# done\n");
    return fails ? 1 : 0;
}
