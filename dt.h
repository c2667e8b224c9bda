/* dt.h — Dynamic Telemetry engine, core.                     v0.1.0
 *
 * Reshape a running program's telemetry after it has shipped: drop chatty
 * events, dial verbosity up for five minutes, keep a flight recorder of what
 * was never exported, and trigger diagnostic actions, all from small text
 * programs deployed at run time. libc only; C99, C11 and C++.
 *
 * DO THIS in exactly one C or C++ file:
 *
 *     #define DT_IMPLEMENTATION
 *     #include "dt.h"
 *
 * and plain `#include "dt.h"` everywhere else. `DT_ALL_IMPLEMENTATION`
 * turns on the implementation of dt.h, dt_query.h and dt_stateful.h at once.
 *
 * QUICK START
 *
 *     dt_desc desc = {0};                       // zero means default
 *     desc.sinks.event = my_export;             // exported events go here
 *     dt_engine *e = dt_create(&desc);
 *     dt_bind_sites(e);                         // DT_EMIT sites talk to e
 *     dt_error err;
 *     const char *prog = "level LogWelcomeBanner = off";
 *     if (dt_deploy(e, prog, strlen(prog), &err) != DT_OK)
 *         fprintf(stderr, "%d:%d: %s\n", err.line, err.column, err.message);
 *     DT_EMIT(DT_INFO, "LogLaunch", DT_STR("version", "0.0.1"));
 *     dt_ripcord(e, 1);                         // instantly: no processing
 *     dt_destroy(e);
 *
 * CONTENTS (grep for the >> markers)
 *     >>options    compile-time options
 *     >>values     typed values, fields, events, severity levels
 *     >>ids        durable IDs and the event registry
 *     >>sites      call sites: DT_EMIT and friends
 *     >>hooks      allocator, clock, lock, logger, sinks
 *     >>engine     create, destroy, emit, tick, poll, stats
 *     >>programs   deploy, rollback, rip cord, errors
 *     >>actions    the action table, risk classes, rate limits
 *     >>recorders  flight recorders and the dump format
 *     >>plugin     the processor interface and the shared front end
 *     >>impl       implementation (under DT_IMPLEMENTATION)
 *
 * THREADS: every function says whether it is thread-safe. Emitting is safe
 * from any number of threads at once, with no global lock. Deploy, rollback,
 * rip cord, tick and poll are thread-safe against emitters and each other.
 * With DT_NO_THREADS all synchronisation compiles to nothing.
 *
 * MEMORY: no allocation on the emit path. Programs are compiled into an
 * arena when deployed. Give the engine a fixed block (desc.memory) and it
 * never calls malloc (see docs/embedded notes in docs/guide.md).
 *
 * ERRORS: functions return DT_OK (0) or a negative dt_result; program text
 * errors also fill a dt_error with line, column, message and hint. Bad input
 * never crashes: it is refused with an error or dropped and counted.
 *
 * LICENSE: MIT, see the end of this file.
 */
/* Outside the include guard: a file may include dt.h for declarations and
 * later again with DT_ALL_IMPLEMENTATION defined. */
#if defined(DT_ALL_IMPLEMENTATION)
#ifndef DT_IMPLEMENTATION
#define DT_IMPLEMENTATION
#endif
#ifndef DT_QUERY_IMPLEMENTATION
#define DT_QUERY_IMPLEMENTATION
#endif
#ifndef DT_STATEFUL_IMPLEMENTATION
#define DT_STATEFUL_IMPLEMENTATION
#endif
#endif

#ifndef DT_H
#define DT_H

/* The implementation wants clock_gettime, which strict -std=c99 hides on
 * POSIX systems; this only takes effect when dt.h is the first include of
 * the translation unit that defines DT_IMPLEMENTATION (the usual pattern). */
#if defined(DT_IMPLEMENTATION) && !defined(_POSIX_C_SOURCE) && !defined(_XOPEN_SOURCE) && defined(__unix__)
#define _POSIX_C_SOURCE 200809L
#endif

/* >>options ---------------------------------------------------------------
 * Every option is 0/1 or a number, tested with #if. Define them before
 * including dt.h, or name a header in DT_CONFIG_FILE that defines them. */
#ifdef DT_CONFIG_FILE
#include DT_CONFIG_FILE
#endif

/* DT_NO_THREADS: single-threaded host (firmware main loop): atomics become
 * plain loads and stores, locks become nothing. */
#ifndef DT_NO_THREADS
#define DT_NO_THREADS 0
#endif
/* DT_NO_MALLOC: no default allocator; the host passes desc.memory or
 * desc.allocator. */
#ifndef DT_NO_MALLOC
#define DT_NO_MALLOC 0
#endif
/* DT_NO_CLOCK: no default clock (timespec_get); the host passes desc.clock
 * or stamps its events. */
#ifndef DT_NO_CLOCK
#define DT_NO_CLOCK 0
#endif
/* DT_SITE_SECTIONS: also list every DT_EMIT site in a linker section, so
 * binding an engine registers all sites of the binary before they run (the
 * event catalog then shows every event the build has). ELF with GCC/Clang;
 * each shared object lists its own sites (bind from the one holding the
 * implementation). */
#ifndef DT_SITE_SECTIONS
#if defined(__ELF__) && (defined(__GNUC__) || defined(__clang__))
#define DT_SITE_SECTIONS 1
#else
#define DT_SITE_SECTIONS 0
#endif
#endif
/* DT_NO_FLOAT: drops f64 arithmetic in expressions (f64 fields still pass
 * through, compare as unknown); for FPU-less firmware. */
#ifndef DT_NO_FLOAT
#define DT_NO_FLOAT 0
#endif
/* DT_ARENA_CHUNK: bytes a program's arena takes from the allocator at a
 * time; smaller wastes less of a small block, larger calls it less. */
#ifndef DT_ARENA_CHUNK
#define DT_ARENA_CHUNK 4096
#endif
/* Bounds. Each is a hard cap with a counted overflow, never a silent loss. */
#ifndef DT_MAX_FIELDS          /* fields of one event the engine will look at */
#define DT_MAX_FIELDS 64
#endif
#ifndef DT_MAX_NAME            /* bytes of an event, field or block name */
#define DT_MAX_NAME 128
#endif
#ifndef DT_MAX_EXPR_DEPTH      /* nesting of one expression */
#define DT_MAX_EXPR_DEPTH 32
#endif
#ifndef DT_MAX_EXPR_HEIGHT     /* height of one expression tree: bounds evaluation's stack */
#define DT_MAX_EXPR_HEIGHT 64
#endif
#ifndef DT_MAX_EXPR_LIST       /* conditions in one and/or chain, items in one in (...) */
#define DT_MAX_EXPR_LIST 256
#endif
#ifndef DT_MAX_EMIT_DEPTH      /* events emitted by processing an emitted event */
#define DT_MAX_EMIT_DEPTH 4
#endif
#ifndef DT_MAX_KEY             /* bytes of a recorder key; longer keys are refused, counted */
#define DT_MAX_KEY 64
#endif
#ifndef DT_MAX_OVERRIDES       /* concurrent timed level changes (set_level for) */
#define DT_MAX_OVERRIDES 16
#endif
#ifndef DT_MAX_ACTION_ARGS     /* arguments of one action call */
#define DT_MAX_ACTION_ARGS 8
#endif
#ifndef DT_MAX_INLINE_ACTIONS  /* host actions one event may run inline; more go to dt_poll */
#define DT_MAX_INLINE_ACTIONS 4
#endif
#ifndef DT_PENDING_ARG_BYTES   /* bytes of string arguments a host action call may carry (else refused) */
#define DT_PENDING_ARG_BYTES 256
#endif
#ifndef DT_EXEC_ARENA          /* per-event scratch bytes for processors (stack) */
#define DT_EXEC_ARENA 1024
#endif
#ifndef DT_STRIPES             /* per-thread counter stripes (cache lines) */
#if DT_NO_THREADS
#define DT_STRIPES 1
#else
#define DT_STRIPES 32
#endif
#endif
#ifndef DT_SHARDS               /* most shards a processor's state is split into */
#if DT_NO_THREADS
#define DT_SHARDS 1
#else
#define DT_SHARDS 8
#endif
#endif
#ifndef DT_MAX_PROCESSORS      /* processor kinds one engine knows */
#define DT_MAX_PROCESSORS 8
#endif

#include <stddef.h>
#include <stdint.h>
#include <string.h>

#ifndef DT_API
#ifdef DT_STATIC
#define DT_API static
#else
#define DT_API extern
#endif
#endif

#ifdef __cplusplus
extern "C" {
#endif

/* >>values ----------------------------------------------------------------*/

/* Result codes: DT_OK or a negative error. dt_result_str names them. */
typedef enum dt_result {
    DT_OK = 0,
    DT_ERR_INVALID = -1,    /* bad argument or call in the wrong state */
    DT_ERR_NOMEM = -2,      /* allocator or memory block exhausted */
    DT_ERR_SYNTAX = -3,     /* program text: see the dt_error */
    DT_ERR_TYPE = -4,       /* program text: a type mismatch */
    DT_ERR_UNKNOWN = -5,    /* unknown event, field, action, block */
    DT_ERR_RISK = -6,       /* program above the host's risk policy */
    DT_ERR_LIMIT = -7,      /* a configured bound was hit */
    DT_ERR_COLLISION = -8,  /* two event names with the same durable ID */
    DT_ERR_EXISTS = -9,     /* already registered */
    DT_ERR_EMPTY = -10      /* nothing to roll back to, nothing to do */
} dt_result;

DT_API const char *dt_result_str(int result);

/* Severity levels carry OpenTelemetry's SeverityNumber values, so exporters
 * pass them through unchanged. */
typedef enum dt_level {
    DT_LEVEL_NONE = 0,
    DT_TRACE = 1,
    DT_DEBUG = 5,
    DT_INFO = 9,
    DT_WARN = 13,
    DT_ERROR = 17,
    DT_FATAL = 21,
    DT_LEVEL_OFF = 255      /* as an export threshold: export nothing */
} dt_level;

DT_API const char *dt_level_name(int level);            /* "info", ... */
DT_API int dt_level_parse(const char *s, size_t len);   /* -1 if unknown */

typedef enum dt_type {
    DT_TYPE_NULL = 0,
    DT_TYPE_BOOL,
    DT_TYPE_I64,
    DT_TYPE_U64,
    DT_TYPE_F64,
    DT_TYPE_STR,            /* UTF-8 expected, not required; not NUL-terminated */
    DT_TYPE_BYTES
} dt_type;

DT_API const char *dt_type_name(int type);              /* "i64", ... */

/* A borrowed run of bytes. Strings are (pointer, length) everywhere. */
typedef struct dt_str {
    const char *ptr;
    size_t len;
} dt_str;

typedef struct dt_value {
    dt_type type;
    union {
        int b;
        int64_t i64;
        uint64_t u64;
        double f64;
        dt_str str;          /* DT_TYPE_STR and DT_TYPE_BYTES */
    } as;
} dt_value;

typedef struct dt_field {
    dt_str name;
    dt_value value;
} dt_field;

/* One event. Every pointer is borrowed for the duration of the call that
 * receives it; the engine copies what it keeps. id 0 means "compute from
 * name"; ts 0 means "stamp with the engine clock". */
typedef struct dt_event {
    uint64_t id;
    dt_str name;
    int64_t ts;              /* nanoseconds, the clock hook's epoch */
    uint64_t tid;            /* thread or other key id, 0 if none */
    int level;               /* dt_level */
    uint32_t nfields;
    const dt_field *fields;
} dt_event;

/* Field constructors, usable in C and C++ initialisers. */
static inline dt_str dt_strn(const char *p, size_t n) { dt_str s; s.ptr = p; s.len = n; return s; }
static inline dt_str dt_cstr(const char *s) { return dt_strn(s ? s : "", s ? strlen(s) : 0); }  /* NULL: "" */

static inline dt_field dt__field(const char *name, dt_type t) {
    dt_field f;
    f.name = dt_cstr(name);
    f.value.type = t;
    f.value.as.u64 = 0;
    return f;
}
static inline dt_field dt_field_bool(const char *name, int v) { dt_field f = dt__field(name, DT_TYPE_BOOL); f.value.as.b = v != 0; return f; }
static inline dt_field dt_field_i64(const char *name, int64_t v) { dt_field f = dt__field(name, DT_TYPE_I64); f.value.as.i64 = v; return f; }
static inline dt_field dt_field_u64(const char *name, uint64_t v) { dt_field f = dt__field(name, DT_TYPE_U64); f.value.as.u64 = v; return f; }
static inline dt_field dt_field_f64(const char *name, double v) { dt_field f = dt__field(name, DT_TYPE_F64); f.value.as.f64 = v; return f; }
static inline dt_field dt_field_strn(const char *name, const char *p, size_t n) { dt_field f = dt__field(name, DT_TYPE_STR); f.value.as.str = dt_strn(p, n); return f; }
static inline dt_field dt_field_str(const char *name, const char *s) { dt_field f = dt__field(name, DT_TYPE_STR); f.value.as.str = dt_cstr(s); return f; }
static inline dt_field dt_field_bytes(const char *name, const void *p, size_t n) { dt_field f = dt__field(name, DT_TYPE_BYTES); f.value.as.str = dt_strn((const char *)p, n); return f; }

#define DT_BOOL(name, v)       dt_field_bool((name), (v))
#define DT_I64(name, v)        dt_field_i64((name), (int64_t)(v))
#define DT_U64(name, v)        dt_field_u64((name), (uint64_t)(v))
#define DT_F64(name, v)        dt_field_f64((name), (double)(v))
#define DT_STR(name, s)        dt_field_str((name), (s))
#define DT_STRN(name, p, n)    dt_field_strn((name), (p), (size_t)(n))
#define DT_BYTES(name, p, n)   dt_field_bytes((name), (p), (size_t)(n))

/* >>ids -------------------------------------------------------------------
 * A durable ID is FNV-1a 64 over the name's bytes, with 0 mapped to 1
 * (0 means "no id"). docs/durable-ids.md has the algorithm and test vectors.
 * Pure functions, thread-safe, signal-safe. */
DT_API uint64_t dt_id(const char *name);
DT_API uint64_t dt_id_n(const char *name, size_t len);

typedef struct dt_engine dt_engine;

/* A schema: the fields an event carries. Registering one lets programs
 * bind field names at deploy and have them type-checked. */
typedef struct dt_schema_field {
    const char *name;
    dt_type type;
} dt_schema_field;

/* Registers (or re-registers identically) an event name with an optional
 * schema and a call-site location (file may be NULL). Names and schemas are
 * copied. Returns DT_ERR_COLLISION if another name has the same id,
 * DT_ERR_EXISTS if the same name was registered with a different schema,
 * DT_ERR_LIMIT when the registry is full. Thread-safe. */
DT_API int dt_register_event(dt_engine *e, const char *name, const dt_schema_field *fields,
                             uint32_t nfields, const char *file, int line);

/* Writes the event catalog as JSON (see docs/catalog.md) through write().
 * Thread-safe. */
typedef void (*dt_write_fn)(const char *bytes, size_t len, void *user_data);
DT_API int dt_catalog_write(dt_engine *e, dt_write_fn write, void *user_data);

/* >>sites -----------------------------------------------------------------
 * A call site owns a static record. When the site is off the cost is one
 * relaxed load and a not-taken branch; field expressions are not evaluated.
 *
 *     DT_EMIT(DT_INFO, "LogEnqueueWork", DT_I64("depth", depth));
 *     DT_EMIT(DT_DEBUG, "LogTick");
 *
 * The first execution registers the site (name, file:line, level) with the
 * bound engine; deploys recompute which sites are on: exported at their
 * level, observed by a rule, or recorded by a flight recorder. */
typedef struct dt_site {
    volatile uint32_t mode;  /* DT_SITE_*: read with one relaxed load */
    int level;
    const char *name;
    const char *file;
    int line;
    uint64_t id;             /* set when registered */
    size_t name_len;
    struct dt_site *next;    /* the process-wide list of seen sites */
    uint32_t fields_checked; /* its field names passed the check once (they are code) */
} dt_site;

enum {
    DT_SITE_OFF = 0,         /* nothing wants it */
    DT_SITE_EXPORT = 1,      /* exported as is: no rule looks at it */
    DT_SITE_PROCESS = 2,     /* the program looks at it */
    DT_SITE_NEW = 0x80       /* never executed: register on first hit */
};

#define DT_SITE_INIT(level, name) { DT_SITE_NEW, (level), (name), __FILE__, __LINE__, 0, 0, 0, 0 }

#if defined(__GNUC__) || defined(__clang__)
#define DT_UNLIKELY(x) __builtin_expect(!!(x), 0)
#else
#define DT_UNLIKELY(x) (x)
#endif

#if DT_NO_THREADS || !(defined(__GNUC__) || defined(__clang__))
#define DT_SITE_MODE(site) ((site)->mode)
#else
#define DT_SITE_MODE(site) __atomic_load_n(&(site)->mode, __ATOMIC_RELAXED)
#endif

#define DT__STR(x) #x
#define DT__XSTR(x) DT__STR(x)          /* a bound's value in a message */

/* Helpers to split "name, fields..." so DT_EMIT works with no fields in
 * strict C99 (a variadic macro needs at least one variadic argument). */
#define DT__HEAD(first, ...) first
#define DT__TAIL(first, ...) __VA_ARGS__
#define DT__NOFIELD dt__field(0, DT_TYPE_NULL)

#if DT_SITE_SECTIONS
/* A pointer to each site, gathered by the linker between __start_dt_sites
 * and __stop_dt_sites. */
#define DT__SITE_LIST(site) \
    static dt_site *const dt__site_ref __attribute__((section("dt_sites"), used)) = &(site);
#else
#define DT__SITE_LIST(site)
#endif

/* For wrappers that build their own call sites on DT_EMIT's pattern
 * (examples/probes/dt_probe.h): DT_SITE_DEFINE(site, level, "Name") defines
 * a static site and lists it like DT_EMIT's (one per block scope);
 * DT_SITE_NAME(args...) is the name of a "Name, fields..." argument list,
 * and DT_SITE_FIELDS(args...) its fields followed by one terminating null
 * field, so an array of them holds one entry more than the fields. */
#define DT_SITE_DEFINE(site, level, name) \
    static dt_site site = DT_SITE_INIT((level), (name)); \
    DT__SITE_LIST(site)
#define DT_SITE_NAME(...) DT__HEAD(__VA_ARGS__, 0)
#define DT_SITE_FIELDS(...) DT__TAIL(__VA_ARGS__, DT__NOFIELD)

#define DT_EMIT(level, ...)                                                          \
    do {                                                                             \
        DT_SITE_DEFINE(dt__site, (level), DT_SITE_NAME(__VA_ARGS__))                 \
        if (DT_UNLIKELY(DT_SITE_MODE(&dt__site) != DT_SITE_OFF) &&                   \
            dt_site_ready(&dt__site)) {                                              \
            const dt_field dt__f[] = { DT_SITE_FIELDS(__VA_ARGS__) };                \
            dt_site_emit(&dt__site, dt__f,                                           \
                         (uint32_t)(sizeof dt__f / sizeof dt__f[0]) - 1u);           \
        }                                                                            \
    } while (0)

/* Out-of-line part of DT_EMIT. Thread-safe. */
DT_API void dt_site_emit(dt_site *site, const dt_field *fields, uint32_t nfields);

/* Registers a site on its first execution; nonzero when it is on. Keeps
 * DT_EMIT from evaluating fields of a site that turns out to be off.
 * Thread-safe (registration is serialised). */
DT_API int dt_site_first(dt_site *site);
static inline int dt_site_ready(dt_site *site) {
    return DT_SITE_MODE(site) != DT_SITE_NEW || dt_site_first(site);
}

/* Registers a site without executing it (for adapters that know their sites
 * up front). Thread-safe. */
DT_API void dt_site_register(dt_site *site);

/* Calls fn for every site seen so far, in registration order. Thread-safe;
 * fn must not register sites. */
typedef void (*dt_site_fn)(const dt_site *site, void *user_data);
DT_API void dt_sites_foreach(dt_site_fn fn, void *user_data);

/* Makes e the engine that DT_EMIT sites report to (NULL unbinds) and
 * recomputes every site. One engine is bound per process. Thread-safe. */
DT_API void dt_bind_sites(dt_engine *e);

/* >>hooks -----------------------------------------------------------------*/

typedef struct dt_allocator {
    void *(*alloc)(size_t size, void *user_data);
    void (*free)(void *ptr, void *user_data);
    void *user_data;
} dt_allocator;

typedef struct dt_clock {
    int64_t (*now)(void *user_data);   /* nanoseconds; must not go backwards */
    void *user_data;
} dt_clock;

/* Lock hook: the engine asks for a few locks (four per engine, one per
 * program block, one more per flight recorder) and holds them only for
 * short, bounded work. Actions and the event, metric and action sinks never
 * run under them; the dump sink runs under its recorder's flush lock only.
 * The allocator, clock and lock hooks may be called under an engine lock and
 * must not call back into dt. The fixed-block heap uses its own spinlock.
 * Default: a built-in spinlock. */
typedef struct dt_lock_hooks {
    void *(*create)(void *user_data);
    void (*destroy)(void *lock, void *user_data);
    void (*lock)(void *lock, void *user_data);
    void (*unlock)(void *lock, void *user_data);
    void *user_data;
} dt_lock_hooks;

typedef struct dt_metric dt_metric;
typedef struct dt_dump dt_dump;
typedef struct dt_action_call dt_action_call;

/* Sinks receive what leaves the engine. Each may be NULL. They run on the
 * emitting (or ticking) thread, outside the engine's locks (the dump sink
 * holds only its recorder's flush lock); the pointers they get are borrowed
 * for the call. A sink may emit; it may not deploy, roll back, undeploy or
 * flush a recorder (refused: it would wait for itself). */
typedef struct dt_sinks {
    void (*event)(const dt_event *ev, void *user_data);         /* exported events */
    void (*metric)(const dt_metric *m, void *user_data);        /* processor metrics */
    void (*dump)(const dt_dump *d, void *user_data);            /* flight-recorder dumps */
    void (*self)(const dt_metric *m, void *user_data);          /* self-telemetry (NULL: metric sink) */
    void (*action)(const dt_action_call *c, void *user_data);   /* audit of every action call */
    void *user_data;
} dt_sinks;

enum { DT_LOG_DEBUG = 0, DT_LOG_INFO = 1, DT_LOG_WARN = 2, DT_LOG_ERROR = 3 };
typedef struct dt_logger {
    void (*log)(int severity, const char *message, void *user_data);
    void *user_data;
} dt_logger;

/* >>engine ----------------------------------------------------------------*/

typedef enum dt_risk {
    DT_RISK_DEFAULT = 0,   /* in dt_desc.max_risk: DT_RISK_MEDIUM */
    DT_RISK_LOW = 1,       /* filter, reshape, aggregate, record */
    DT_RISK_MEDIUM = 2,    /* state machines, built-in actions */
    DT_RISK_HIGH = 3       /* host actions and functions, as registered */
} dt_risk;

DT_API const char *dt_risk_name(int risk);

typedef struct dt_processor dt_processor;

/* Engine setup. Zero means default for every member. */
typedef struct dt_desc {
    dt_allocator allocator;      /* default: malloc/free (unless DT_NO_MALLOC) */
    struct {
        void *ptr;               /* a fixed block: the engine never calls an allocator */
        size_t size;
    } memory;
    dt_clock clock;              /* default: clock_gettime(CLOCK_REALTIME), else timespec_get (unless DT_NO_CLOCK) */
    dt_lock_hooks lock;          /* default: built-in spinlock */
    dt_logger logger;            /* default: silent */
    dt_sinks sinks;
    int default_level;           /* export threshold with no program: DT_INFO */
    dt_risk max_risk;            /* highest risk a program may have: DT_RISK_MEDIUM */
    uint32_t max_events;         /* registry capacity: 4096 */
    uint32_t max_sites;          /* unused; reserved */
    uint32_t max_actions;        /* action table capacity: 64 */
    uint32_t max_pending;        /* deferred action queue: 64 */
    size_t max_program_bytes;    /* memory one compiled program may use: 16 MiB */
    uint32_t max_program_text;   /* bytes of program text: 1 MiB */
    uint32_t budget_steps;       /* work units one block may spend per event: 10000 */
    int64_t self_interval_ns;    /* self-telemetry period on tick: 60 s; <0 never */
    int strict_events;           /* programs may only name registered events */
    int no_timestamps;           /* leave ts 0 on site events (sink stamps) */
    const dt_processor *const *processors;   /* processor kinds to plug in */
    uint32_t nprocessors;
} dt_desc;

/* Creates an engine; NULL if desc is invalid (too many processors, no
 * allocator under DT_NO_MALLOC) or memory is short (then the logger says
 * why). */
DT_API dt_engine *dt_create(const dt_desc *desc);

/* Frees everything the engine owns, unbinding its sites. No other call on e
 * may run concurrently or follow. */
DT_API void dt_destroy(dt_engine *e);

/* Emits one event through the running program. For adapters from other
 * logging frameworks; sites use DT_EMIT. Thread-safe; not signal-safe. */
DT_API void dt_emit(dt_engine *e, const dt_event *ev);

/* Advances engine time to now (ns): expires timed level changes, closes
 * processor windows and timeouts, emits self-telemetry when due. During
 * replay pass event time. Thread-safe. */
DT_API void dt_tick(dt_engine *e, int64_t now);

/* Runs deferred actions queued since the last poll, on the caller's thread.
 * Returns how many ran. Thread-safe. */
DT_API int dt_poll(dt_engine *e);

/* Closes every open processor window and emits what it holds (end of
 * input, shutdown). Thread-safe. */
DT_API void dt_flush(dt_engine *e);

/* The engine's reading of its clock. */
DT_API int64_t dt_now(dt_engine *e);

/* Self-telemetry counters. */
#define DT_STATS(X)                                                                   \
    X(events_in, "events handed to the engine")                                      \
    X(events_exported, "events passed to the event sink")                            \
    X(events_filtered, "events below their export level")                            \
    X(events_dropped, "events dropped by a rule")                                    \
    X(events_emitted, "events emitted by rules")                                     \
    X(emit_depth_exceeded, "emitted events refused: emit nested too deep")           \
    X(rule_errors, "run-time rule errors (type mismatch, overflow), counted")        \
    X(overflows, "bounded tables that refused an entry")                             \
    X(budget_trips, "blocks switched off for exceeding their budget")                \
    X(actions_fired, "actions run")                                                  \
    X(actions_suppressed, "actions refused by their rate limit")                     \
    X(actions_overflow, "actions refused: queue full or arguments too long")         \
    X(recorder_records, "records appended to flight recorders")                      \
    X(recorder_overwritten, "records overwritten before a flush")                    \
    X(recorder_too_big, "records larger than their recorder, not kept")             \
    X(recorder_dumps, "flight-recorder dumps written")                               \
    X(deploys, "programs deployed")                                                  \
    X(deploy_errors, "deploys refused")                                              \
    X(fields_truncated, "events with more than DT_MAX_FIELDS fields, truncated")     \
    X(bad_events, "events refused: invalid name or field")

typedef struct dt_stats {
#define DT__STAT_FIELD(name, doc) uint64_t name;
    DT_STATS(DT__STAT_FIELD)
#undef DT__STAT_FIELD
} dt_stats;

/* Sums the per-thread counters. Thread-safe; exact once emitters stop. */
DT_API void dt_get_stats(dt_engine *e, dt_stats *out);

/* >>programs --------------------------------------------------------------*/

typedef struct dt_error {
    int code;                /* dt_result */
    int line, column;        /* 1-based, column in bytes; 0 when not about program text */
    char message[256];
    char hint[256];          /* how to fix it; may be empty */
} dt_error;

/* Formats "line:col: error: message (hint: ...)" into buf. */
DT_API size_t dt_error_format(const dt_error *err, char *buf, size_t size);

/* Compiles text completely; on success swaps it in atomically while other
 * threads emit (each event is handled wholly by the old or the new program)
 * and keeps the previous program for dt_rollback. On error the running
 * program is untouched and err (may be NULL) says where and why. The text is
 * copied. Thread-safe (deploys are serialised). */
DT_API int dt_deploy(dt_engine *e, const char *text, size_t len, dt_error *err);

/* Compiles and checks text without deploying it; fills info when non-NULL. */
typedef struct dt_program_info {
    uint64_t version;        /* deploy counter; 0 for dt_check */
    uint64_t hash;           /* FNV-1a 64 of the text */
    int risk;                /* highest risk class used */
    size_t memory;           /* bytes the compiled program holds */
    uint32_t blocks;         /* top-level blocks */
    uint32_t recorders;
    size_t recorder_bytes;   /* ring bytes at the configured key bounds */
} dt_program_info;
DT_API int dt_check(dt_engine *e, const char *text, size_t len, dt_error *err,
                    dt_program_info *info);

/* Returns to the previous program (its state as it was). DT_ERR_EMPTY if
 * there is none. Thread-safe. */
DT_API int dt_rollback(dt_engine *e);

/* Removes the running program (it stays available to rollback). */
DT_API int dt_undeploy(dt_engine *e);

/* The rip cord: on != 0 stops all processing with one atomic store; events
 * then pass as if no program were deployed (timed level changes are
 * suspended too). off resumes. dt_ripcord also recomputes call sites:
 * thread-safe, not signal-safe. dt_ripcord_signal is only the store: safe in
 * a signal handler; sites catch up at the next dt_tick or dt_ripcord. */
DT_API void dt_ripcord(dt_engine *e, int on);
DT_API void dt_ripcord_signal(dt_engine *e, int on);
DT_API int dt_ripcord_pulled(dt_engine *e);

/* Info about the running program; DT_ERR_EMPTY if none. */
DT_API int dt_program(dt_engine *e, dt_program_info *info);

/* >>actions ---------------------------------------------------------------*/

struct dt_action_call {
    const char *action;      /* registered name */
    const dt_value *args;
    uint32_t nargs;
    const dt_event *trigger; /* the event that fired it; NULL from dt_poll/host */
    int64_t ts;              /* engine time of the trigger */
    int deferred;            /* 1 when run from dt_poll */
    int suppressed;          /* in the action sink only: refused (rate limit, full queue, arguments too long) */
};

typedef void (*dt_action_fn)(dt_engine *e, const dt_action_call *call, void *user_data);

typedef struct dt_action_desc {
    const char *name;        /* copied */
    dt_action_fn fn;
    void *user_data;
    dt_risk risk;            /* default DT_RISK_HIGH for host actions */
    uint32_t rate_count;     /* at most rate_count calls ... */
    int64_t rate_window_ns;  /* ... per window; 0 count = unlimited */
    int deferred;            /* queue for dt_poll instead of running inline */
    uint32_t min_args, max_args;
} dt_action_desc;

/* Registers a host action. DT_ERR_EXISTS for a taken name, DT_ERR_LIMIT when
 * the table is full. Thread-safe. Programs deployed later may call it. */
DT_API int dt_action_register(dt_engine *e, const dt_action_desc *desc);

/* Calls an action by name from host code (an admin console, a test), with
 * its rate limit. Thread-safe; never under an engine lock. */
DT_API int dt_action_invoke(dt_engine *e, const char *name, const dt_value *args, uint32_t nargs);

/* Built-in actions, always registered:
 *   set_level(pattern, level, duration)   timed export-level change
 *   enable(block) / disable(block)        switch a named block of the program
 *   flush(recorder[, key]) / discard(recorder[, key])
 *   emit(name, level[, field, value]...)  a new event through the program   */

/* >>recorders ------------------------------------------------------------
 * A dump is one self-contained byte string, delivered in chunks (join them
 * in order). Format: docs/dump-format.md; dt_dump_decode reads it back. */
typedef struct dt_chunk {
    const uint8_t *ptr;
    size_t len;
} dt_chunk;

struct dt_dump {
    dt_str recorder;
    dt_str key;              /* empty for an unkeyed recorder */
    uint32_t records;
    uint64_t overwritten;    /* records lost to the ring since the last flush */
    int64_t ts;
    uint32_t nchunks;
    const dt_chunk *chunks;
    uint32_t flags;          /* DT_DUMP_TORN when read without the recorder lock */
};

/* Flushes a recorder (all keys when key is NULL) to the dump sink, oldest
 * record first, then empties it. DT_ERR_UNKNOWN if no such recorder.
 * Thread-safe. dt_recorder_flush_emergency is for a fatal-signal handler: it
 * takes the recorder lock only if it can within a bounded spin, otherwise
 * reads the ring as it is (the dump is flagged torn). */
DT_API int dt_recorder_flush(dt_engine *e, const char *recorder, const char *key);
DT_API int dt_recorder_flush_emergency(dt_engine *e, const char *recorder);
DT_API int dt_recorder_discard(dt_engine *e, const char *recorder, const char *key);

/* Decodes a dump. Calls on_header once, then on_record for each record,
 * oldest first. Strings point into the dump. Returns DT_OK or
 * DT_ERR_INVALID at the first malformed byte (offset in *bad_offset).
 * Pure; thread-safe. */
typedef struct dt_dump_header {
    uint32_t version, flags;
    dt_str recorder, key;
    uint32_t records;
    uint64_t overwritten;
    int64_t ts;
} dt_dump_header;
enum { DT_DUMP_TORN = 1 };
DT_API int dt_dump_decode(const uint8_t *bytes, size_t len,
                          void (*on_header)(const dt_dump_header *h, void *ud),
                          void (*on_record)(const dt_event *ev, void *ud),
                          void *user_data, size_t *bad_offset);

/* Metrics leave through the metric sink; they map one-to-one onto the
 * OpenTelemetry metric data model (docs/guide.md). */
typedef enum dt_metric_kind {
    DT_METRIC_COUNTER = 1,   /* OTel Sum, monotonic */
    DT_METRIC_GAUGE = 2,     /* OTel Gauge */
    DT_METRIC_HISTOGRAM = 3  /* OTel Histogram (explicit bounds) */
} dt_metric_kind;

typedef enum dt_temporality {
    DT_DELTA = 1,
    DT_CUMULATIVE = 2
} dt_temporality;

struct dt_metric {
    dt_str name;
    dt_metric_kind kind;
    dt_temporality temporality;
    const dt_field *labels;
    uint32_t nlabels;
    int64_t start_ns, end_ns;    /* the window, or process start for cumulative */
    double value;                /* counter and gauge */
    int is_int;                  /* value is an integer count */
    /* histogram */
    uint64_t count;
    double sum, min, max;
    uint32_t nbuckets;           /* bounds has nbuckets-1 entries */
    const double *bounds;
    const uint64_t *bucket_counts;
    dt_str unit;
};

/* >>plugin ----------------------------------------------------------------
 * A processor kind compiles the top-level blocks that start with its keyword
 * and then sees the events its blocks subscribe to. It runs inside a read
 * section of the program (no lock), so its own state needs its own
 * synchronisation (dt_block_lock). All compile-time memory comes from the
 * program arena (dt_compiler_alloc) and is freed with the program. */
typedef struct dt_compiler dt_compiler;
typedef struct dt_block dt_block;
typedef struct dt_exec dt_exec;
typedef struct dt_expr dt_expr;

struct dt_processor {
    const char *keyword;                 /* top-level keyword, e.g. "query" */
    dt_risk risk;                        /* risk of any block of this kind */
    /* Parses one block; the keyword is consumed. Sets the block's state with
     * dt_block_set_state and subscribes it to events. */
    int (*compile)(dt_compiler *c, dt_block *b);
    /* An event the block subscribed to with this tag. */
    void (*on_event)(dt_block *b, dt_exec *x, int tag);
    void (*tick)(dt_block *b, dt_exec *x, int64_t now);   /* may be NULL */
    void (*flush)(dt_block *b, dt_exec *x);               /* may be NULL */
    void (*destroy)(dt_block *b);                         /* may be NULL */
    void *user_data;
    /* On a program change, a block of the program being replaced hands its
     * state over: to the block of the new program with the same kind, name
     * and definition (dt_block_hash) through carry, when carry is set;
     * otherwise it is flushed. Both run after the old program's last event
     * and while the new one may already be running. May be NULL. */
    void (*carry)(dt_block *to, dt_block *from, dt_exec *x);
};

/* Registers a processor kind. DT_ERR_EXISTS if its keyword is taken. Call
 * before deploying programs that use it. Thread-safe. */
DT_API int dt_register_processor(dt_engine *e, const dt_processor *p);

/* Tokens of the shared program language. */
typedef enum dt_tok_kind {
    DT_TOK_EOF = 0,
    DT_TOK_IDENT,            /* names: letters, digits, '_', '.', '@', '$' */
    DT_TOK_STRING,           /* "..." with \" \\ \n \t \xHH escapes */
    DT_TOK_INT,
    DT_TOK_FLOAT,
    DT_TOK_DURATION,         /* 5m, 250ms, 1h30m: value in ns */
    DT_TOK_SIZE,             /* 64KiB, 4MB: value in bytes */
    DT_TOK_PUNCT,            /* one of { } ( ) [ ] , ; : = == != < <= > >= + - * / % | ! =~ !~ -> && || .. . */
    DT_TOK_ERROR
} dt_tok_kind;

typedef struct dt_token {
    dt_tok_kind kind;
    dt_str text;             /* the source bytes (STRING: without quotes, undecoded) */
    int line, column;
    int64_t i;               /* INT, DURATION, SIZE */
    uint64_t u;              /* INT when above INT64_MAX */
    double f;                /* FLOAT */
    int is_unsigned;
    int joined;              /* no white space before it: `project-away` is 3 joined tokens */
} dt_token;

/* A name pattern: an exact name, a prefix ("Http*"), or everything ("*"). */
typedef struct dt_pattern {
    dt_str text;             /* without the '*' */
    uint64_t id;             /* exact names only */
    int prefix;              /* 1: text is a prefix; text empty: all */
    int line, column;        /* where it was written */
} dt_pattern;

/* Front end, for processors' compile functions. Each returns DT_OK or an
 * error already recorded in the compiler (line, column, message, hint). */
DT_API const dt_token *dt_peek(dt_compiler *c);
DT_API const dt_token *dt_peek2(dt_compiler *c);          /* one past peek */
DT_API dt_token dt_next(dt_compiler *c);
DT_API int dt_is(const dt_token *t, const char *word);    /* ident or punct with this text */
DT_API int dt_accept(dt_compiler *c, const char *word);   /* consume if dt_is */
DT_API int dt_expect(dt_compiler *c, const char *word, const char *hint);
DT_API int dt_expect_ident(dt_compiler *c, dt_str *out, const char *what);
DT_API int dt_expect_string(dt_compiler *c, dt_str *out, const char *what);  /* decoded */
DT_API int dt_expect_int(dt_compiler *c, int64_t min, int64_t max, int64_t *out, const char *what);
DT_API int dt_expect_duration(dt_compiler *c, int64_t *ns);
DT_API int dt_expect_size(dt_compiler *c, uint64_t *bytes);
DT_API int dt_expect_level(dt_compiler *c, int *level);
DT_API int dt_expect_pattern(dt_compiler *c, dt_pattern *out);
DT_API int dt_compile_error(dt_compiler *c, const dt_token *at, int code, const char *message,
                            const char *hint);
DT_API void *dt_compiler_alloc(dt_compiler *c, size_t size);   /* zeroed, program-lifetime */
DT_API dt_str dt_compiler_strdup(dt_compiler *c, dt_str s);
DT_API dt_engine *dt_compiler_engine(dt_compiler *c);
/* Events the following expressions are about (for schema field binding);
 * the patterns are copied. */
DT_API void dt_compiler_scope(dt_compiler *c, const dt_pattern *patterns, uint32_t n);
/* Subscribes b to events matching p; on_event receives tag. An event that
 * matches several of a block's patterns with the same tag reaches it once. */
DT_API int dt_subscribe(dt_compiler *c, dt_block *b, const dt_pattern *p, int tag);
/* Drops events matching p before any block sees them, when no block before
 * this point subscribes to an overlapping pattern (returns 1; 0: the caller
 * must subscribe and drop itself). A name nothing else subscribes to is then
 * switched off at its call sites: a whole-event drop costs what a disabled
 * site costs. */
DT_API int dt_compiler_drop(dt_compiler *c, const dt_pattern *p);
/* Checks that events in scope (dt_compiler_scope) with a registered schema
 * have a field `name`; a deploy error at `at` (with the known fields as a
 * hint) if not. Gives its type when every event in scope agrees. */
DT_API int dt_compiler_field(dt_compiler *c, const dt_token *at, dt_str name, dt_type *type);
/* Declares that the program uses risk class r at token t (policy check). */
DT_API int dt_compiler_risk(dt_compiler *c, int risk, const dt_token *at, const char *what);

/* The shared expression language: literals (numbers, strings, durations,
 * sizes, true/false/null, level names), field access, name/level/ts/tid,
 * arithmetic, comparisons, and/or/not, in (...), contains/startswith/
 * endswith (and _cs), =~. Pure: reading an event never changes it. */
DT_API int dt_parse_expr(dt_compiler *c, dt_expr **out);
/* An expression that must be a condition (where, countif, when): one whose
 * type is known and not bool, or arithmetic, is a type error at its column. */
DT_API int dt_parse_condition(dt_compiler *c, dt_expr **out);
/* Evaluates e against the event being handled; DT_TYPE_NULL for missing
 * fields; type mismatches give null and count a rule error. */
DT_API dt_value dt_eval(dt_exec *x, const dt_expr *e);
DT_API int dt_eval_bool(dt_exec *x, const dt_expr *e);     /* null/false -> 0 */
/* Static type of e if known at compile time (DT_TYPE_NULL: unknown). */
DT_API dt_type dt_expr_type(const dt_expr *e);

/* Functions callable in expressions: read-only, bounded. Built-ins:
 * isnull(x), isnotnull(x), strlen(s). Processors and hosts add more; a
 * host function carries a risk class like an action. */
typedef dt_value (*dt_function_fn)(dt_exec *x, const dt_value *args, uint32_t nargs, void *user_data);
typedef struct dt_function_desc {
    const char *name;        /* copied */
    dt_function_fn fn;
    void *user_data;
    dt_risk risk;            /* default DT_RISK_HIGH: host code runs */
    uint32_t min_args, max_args;
    dt_type result;          /* static result type, DT_TYPE_NULL if it varies */
} dt_function_desc;
DT_API int dt_register_function(dt_engine *e, const dt_function_desc *desc);

/* Action references are resolved at compile time. */
typedef struct dt_action_ref { int32_t index; } dt_action_ref;
DT_API int dt_compiler_action(dt_compiler *c, const dt_token *name, dt_action_ref *out);

/* Blocks. */
DT_API void dt_block_set_state(dt_block *b, void *state);
DT_API void *dt_block_state(const dt_block *b);
DT_API dt_str dt_block_name(const dt_block *b);
DT_API void dt_block_set_name(dt_block *b, dt_str name);  /* for enable/disable */
/* Hash of the block's definition: its tokens, so white space and comments
 * do not count. Equal hashes with equal names decide what carries over. */
DT_API uint64_t dt_block_hash(const dt_block *b);

/* Sharded state: n locks, each on its own cache line, so threads that emit
 * the same event do not contend. A thread always maps to the same shard;
 * merge shards when a window closes. Created at compile, freed with the
 * program. n is capped at DT_SHARDS. */
typedef struct dt_shards dt_shards;
DT_API dt_shards *dt_compiler_shards(dt_compiler *c, dt_block *b, uint32_t n);
DT_API uint32_t dt_shards_count(const dt_shards *s);
DT_API uint32_t dt_exec_shard(dt_exec *x, const dt_shards *s);    /* this thread's shard */
DT_API void dt_shard_lock(dt_shards *s, uint32_t shard);
DT_API void dt_shard_unlock(dt_shards *s, uint32_t shard);

/* The event being handled, during on_event. */
DT_API const dt_event *dt_exec_event(dt_exec *x);
DT_API dt_engine *dt_exec_engine(dt_exec *x);
DT_API int64_t dt_exec_now(dt_exec *x);
/* Drops the event from export (later blocks still see it, flagged). */
DT_API void dt_exec_drop(dt_exec *x);
DT_API int dt_exec_dropped(dt_exec *x);
/* Field access and editing of the handled event (a private copy is made on
 * first edit; strings must live until the event is done: use
 * dt_exec_scratch). */
DT_API const dt_value *dt_exec_field(dt_exec *x, dt_str name);
DT_API int dt_exec_set_field(dt_exec *x, dt_str name, dt_value v);
DT_API int dt_exec_remove_field(dt_exec *x, dt_str name);
DT_API void *dt_exec_scratch(dt_exec *x, size_t size);     /* NULL when the arena is full */
/* Charges work units against the block's budget; nonzero: over budget (the
 * block is switched off and counted). */
DT_API int dt_exec_charge(dt_exec *x, uint32_t units);
/* Starts a new unit of work with a fresh budget, for a processor that runs
 * several independent units in one call (each timeout a tick fires), so
 * many due at once do not add up to one over-budget event. The processor
 * bounds how many units one call runs. A switched-off block stays off. */
DT_API void dt_exec_new_unit(dt_exec *x);
DT_API void dt_exec_rule_error(dt_exec *x);
/* Emits a new event through the program (depth-limited). */
DT_API void dt_exec_emit(dt_exec *x, const dt_event *ev);
/* Fires a compiled action reference with its rate limit. */
DT_API int dt_exec_action(dt_exec *x, dt_action_ref a, const dt_value *args, uint32_t nargs);
/* Sends a metric to the metric sink. */
DT_API void dt_exec_metric(dt_exec *x, const dt_metric *m);
/* A lock that belongs to the block (created at compile, freed with it). */
DT_API void dt_block_lock(dt_block *b);
DT_API void dt_block_unlock(dt_block *b);
/* Counter helpers for processors' own overflow accounting. */
DT_API void dt_exec_count_overflow(dt_exec *x);

#ifdef __cplusplus
}
#endif

#endif /* DT_H */

/* >>impl ==================================================================
 * Implementation. Sections: portability, text utilities, memory, engine and
 * counters, registry, sites, program front end (lexer, expressions), programs
 * and dispatch, actions, timed levels, flight recorders, built-in
 * processors (level, recorder), time and self-telemetry, catalog. */
#if defined(DT_IMPLEMENTATION) && !defined(DT__IMPLEMENTED)
#define DT__IMPLEMENTED

#include <string.h>
#include <limits.h>
#include <stdlib.h>
#if !DT_NO_CLOCK
#include <time.h>
#endif

#if defined(__GNUC__) || defined(__clang__)
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wunused-function"
#endif

#ifndef DT_ASSERT
#include <assert.h>
#define DT_ASSERT(x) assert(x)
#endif

#ifdef __cplusplus
#define DT__ZERO {}
#else
#define DT__ZERO {0}
#endif

/* ---- portability: atomics, thread-local slot, pause -------------------- */
#if DT_NO_THREADS
#define DT__LOAD(p) (*(p))
#define DT__LOAD_ACQ(p) (*(p))
#define DT__STORE(p, v) (*(p) = (v))
#define DT__STORE_REL(p, v) (*(p) = (v))
#define DT__STORE_SC(p, v) (*(p) = (v))
#define DT__FADD(p, v) dt__fadd_plain((p), (v))
#define DT__XCHG_ACQ(p, v) dt__xchg_plain((p), (v))
#define DT__FENCE() ((void)0)
#define DT__TLS
static uint64_t dt__fadd_plain(uint64_t *p, uint64_t v) { uint64_t o = *p; *p = o + v; return o; }
static uint32_t dt__xchg_plain(uint32_t *p, uint32_t v) { uint32_t o = *p; *p = v; return o; }
#elif defined(__GNUC__) || defined(__clang__)
#define DT__LOAD(p) __atomic_load_n((p), __ATOMIC_RELAXED)
#define DT__LOAD_ACQ(p) __atomic_load_n((p), __ATOMIC_ACQUIRE)
#define DT__STORE(p, v) __atomic_store_n((p), (v), __ATOMIC_RELAXED)
#define DT__STORE_REL(p, v) __atomic_store_n((p), (v), __ATOMIC_RELEASE)
#define DT__STORE_SC(p, v) __atomic_store_n((p), (v), __ATOMIC_SEQ_CST)
#define DT__FADD(p, v) __atomic_fetch_add((p), (v), __ATOMIC_RELAXED)
#define DT__XCHG_ACQ(p, v) __atomic_exchange_n((p), (v), __ATOMIC_ACQUIRE)
#define DT__FENCE() __atomic_thread_fence(__ATOMIC_SEQ_CST)
#if defined(__cplusplus) && __cplusplus >= 201103L
#define DT__TLS thread_local
#elif defined(__STDC_VERSION__) && __STDC_VERSION__ >= 201112L
#define DT__TLS _Thread_local
#else
#define DT__TLS __thread
#endif
#else
#error "dt.h: threaded builds need GCC/Clang atomics; define DT_NO_THREADS=1 or port the DT__ atomics"
#endif

static void dt__pause(void) {
#if !DT_NO_THREADS
#if defined(__x86_64__) || defined(__i386__)
    __builtin_ia32_pause();
#elif defined(__aarch64__) || (defined(__arm__) && defined(__ARM_ARCH) && __ARM_ARCH >= 7)
    __asm__ __volatile__("yield");
#endif
#endif
}

/* Per-thread ordinal, handed out once per thread. Threads below
 * DT_STRIPES-1 own a counter stripe (single writer: plain load/store, no
 * atomic read-modify-write); later threads share stripe 0 with atomics. */
static DT__TLS uint32_t dt__tls_ordinal;
static DT__TLS int dt__tls_reading;      /* read-section depth: deploy from a sink would deadlock */
static uint64_t dt__ordinal_counter;

#if defined(__GNUC__) || defined(__clang__)
#define DT__HOT static inline __attribute__((always_inline))
#else
#define DT__HOT static inline
#endif

DT__HOT uint32_t dt__thread_ordinal(void) {
    uint32_t o = dt__tls_ordinal;
    if (DT_UNLIKELY(o == 0)) {
        o = (uint32_t)(DT__FADD(&dt__ordinal_counter, 1) + 1);
        if (o == 0) o = UINT32_MAX;
        dt__tls_ordinal = o;
    }
    return o - 1;
}

/* ---- text utilities ---------------------------------------------------- */

static int dt__str_eq(dt_str a, dt_str b) {
    return a.len == b.len && (a.ptr == b.ptr || a.len == 0 || memcmp(a.ptr, b.ptr, a.len) == 0);
}
static int dt__str_eqc(dt_str a, const char *b) { return dt__str_eq(a, dt_cstr(b)); }
static char dt__lower(char c) { return (c >= 'A' && c <= 'Z') ? (char)(c - 'A' + 'a') : c; }
static int dt__str_ieq(dt_str a, dt_str b) {
    size_t i;
    if (a.len != b.len) return 0;
    for (i = 0; i < a.len; i++) if (dt__lower(a.ptr[i]) != dt__lower(b.ptr[i])) return 0;
    return 1;
}
static int dt__starts(dt_str s, dt_str pre) { return s.len >= pre.len && (pre.len == 0 || (s.ptr[0] == pre.ptr[0] && memcmp(s.ptr, pre.ptr, pre.len) == 0)); }
static int dt__is_alpha(int c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_'; }
static int dt__is_digit(int c) { return c >= '0' && c <= '9'; }

/* A bounded string builder: error messages are built without stdio so the
 * library needs no printf (firmware). Output is always NUL-terminated and
 * silently truncated at the buffer end. */
typedef struct dt__sb {
    char *buf;
    size_t cap, len;
} dt__sb;
static dt__sb dt__sb_make(char *buf, size_t cap) { dt__sb b; b.buf = buf; b.cap = cap; b.len = 0; if (cap) buf[0] = 0; return b; }
static void dt__sb_putn(dt__sb *b, const char *s, size_t n) {
    size_t room;
    if (!b->cap) return;
    room = b->cap - 1 - b->len;
    if (n > room) n = room;
    if (n) memcpy(b->buf + b->len, s, n);
    b->len += n;
    b->buf[b->len] = 0;
}
static void dt__sb_puts(dt__sb *b, const char *s) { dt__sb_putn(b, s, strlen(s)); }
static void dt__sb_str(dt__sb *b, dt_str s) { dt__sb_putn(b, s.ptr, s.len); }
static void dt__sb_u64(dt__sb *b, uint64_t v) {
    char tmp[24];
    size_t n = 0;
    do { tmp[sizeof tmp - 1 - n++] = (char)('0' + v % 10); v /= 10; } while (v);
    dt__sb_putn(b, tmp + sizeof tmp - n, n);
}
static void dt__sb_i64(dt__sb *b, int64_t v) {
    if (v < 0) { dt__sb_putn(b, "-", 1); dt__sb_u64(b, (uint64_t)0 - (uint64_t)v); }
    else dt__sb_u64(b, (uint64_t)v);
}
#if !DT_NO_FLOAT
/* A double as text without stdio (firmware builds have none): up to six
 * decimals, trailing zeros trimmed; beyond 1e15 in magnitude, d.dddddde+N. */
static void dt__sb_f64(dt__sb *b, double f) {
    uint64_t ip, frac;
    int exp10 = 0, i, digits = 6;
    if (f != f) { dt__sb_puts(b, "nan"); return; }
    if (f < 0) { dt__sb_putn(b, "-", 1); f = -f; }
    if (f > 1.7976931348623157e308) { dt__sb_puts(b, "inf"); return; }
    if (f >= 1e15) { while (f >= 10) { f /= 10; exp10++; } }
    ip = (uint64_t)f;
    frac = (uint64_t)((f - (double)ip) * 1e6 + 0.5);
    if (frac >= 1000000u) { ip++; frac -= 1000000u; }
    dt__sb_u64(b, ip);
    if (frac) {
        char tmp[8];
        for (i = 0; i < 6; i++) { tmp[5 - i] = (char)('0' + frac % 10); frac /= 10; }
        while (digits > 0 && tmp[digits - 1] == '0') digits--;
        dt__sb_putn(b, ".", 1);
        dt__sb_putn(b, tmp, (size_t)digits);
    }
    if (exp10) { dt__sb_puts(b, "e+"); dt__sb_u64(b, (uint64_t)exp10); }
}
#endif

static void dt__sb_hex(dt__sb *b, uint64_t v) {
    static const char digits[] = "0123456789abcdef";
    char tmp[18];
    int i;
    tmp[0] = '0'; tmp[1] = 'x';
    for (i = 0; i < 16; i++) tmp[2 + i] = digits[(v >> (60 - 4 * i)) & 15];
    dt__sb_putn(b, tmp, 18);
}

/* ---- names: results, levels, types, risks, durable IDs ----------------- */
DT_API const char *dt_result_str(int r) {
    switch (r) {
    case DT_OK: return "ok";
    case DT_ERR_INVALID: return "invalid argument";
    case DT_ERR_NOMEM: return "out of memory";
    case DT_ERR_SYNTAX: return "syntax error";
    case DT_ERR_TYPE: return "type error";
    case DT_ERR_UNKNOWN: return "unknown name";
    case DT_ERR_RISK: return "risk above policy";
    case DT_ERR_LIMIT: return "limit reached";
    case DT_ERR_COLLISION: return "durable ID collision";
    case DT_ERR_EXISTS: return "already exists";
    case DT_ERR_EMPTY: return "nothing there";
    default: return "unknown result";
    }
}

static const struct { const char *name; int level; } dt__levels[] = {
    {"trace", DT_TRACE}, {"debug", DT_DEBUG}, {"info", DT_INFO}, {"warn", DT_WARN},
    {"warning", DT_WARN}, {"error", DT_ERROR}, {"fatal", DT_FATAL}, {"off", DT_LEVEL_OFF}
};

DT_API const char *dt_level_name(int level) {
    size_t i;
    for (i = 0; i < sizeof dt__levels / sizeof dt__levels[0]; i++)
        if (dt__levels[i].level == level) return dt__levels[i].name;
    return "";
}

DT_API int dt_level_parse(const char *s, size_t len) {
    size_t i;
    for (i = 0; i < sizeof dt__levels / sizeof dt__levels[0]; i++)
        if (dt__str_ieq(dt_strn(s, len), dt_cstr(dt__levels[i].name))) return dt__levels[i].level;
    return -1;
}

DT_API const char *dt_type_name(int t) {
    static const char *names[] = {"null", "bool", "i64", "u64", "f64", "str", "bytes"};
    return (t >= 0 && t <= DT_TYPE_BYTES) ? names[t] : "?";
}

DT_API const char *dt_risk_name(int r) {
    switch (r) {
    case DT_RISK_LOW: return "low";
    case DT_RISK_MEDIUM: return "medium";
    case DT_RISK_HIGH: return "high";
    default: return "none";
    }
}

#define DT__FNV_OFFSET 0xcbf29ce484222325ull
#define DT__FNV_PRIME 0x100000001b3ull

static uint64_t dt__fnv1a_more(uint64_t h, const void *p, size_t n) {
    const unsigned char *s = (const unsigned char *)p;
    size_t i;
    for (i = 0; i < n; i++) { h ^= s[i]; h *= DT__FNV_PRIME; }
    return h;
}
static uint64_t dt__fnv1a(const void *p, size_t n) { return dt__fnv1a_more(DT__FNV_OFFSET, p, n); }

DT_API uint64_t dt_id_n(const char *name, size_t len) {
    uint64_t h = dt__fnv1a(name, name ? len : 0);
    return h ? h : 1;
}
DT_API uint64_t dt_id(const char *name) { return dt_id_n(name, name ? strlen(name) : 0); }

/* ---- memory: allocator hook, fixed-block heap, program arena ------------ */
#define DT__ALIGN 16u
static size_t dt__align(size_t n) { return (n + (DT__ALIGN - 1)) & ~(size_t)(DT__ALIGN - 1); }

/* First-fit heap over the host's fixed block, address-ordered free list
 * with coalescing: programs are deployed and freed repeatedly, so a bump
 * allocator would run dry. Every block carries a 16-byte header. */
typedef struct dt__hblock {
    size_t size;                 /* whole block including this header */
    struct dt__hblock *next;     /* free list only */
} dt__hblock;
#define DT__HDR dt__align(sizeof(dt__hblock))

typedef struct dt__heap {
    dt__hblock *free_list;
    size_t used, peak, size;
    uint32_t lock;               /* compiles may run on several threads at once */
} dt__heap;

static void dt__heap_init(dt__heap *h, void *mem, size_t size) {
    uintptr_t start = ((uintptr_t)mem + (DT__ALIGN - 1)) & ~(uintptr_t)(DT__ALIGN - 1);
    size_t lost = (size_t)(start - (uintptr_t)mem);
    memset(h, 0, sizeof *h);
    if (size <= lost + 2 * DT__HDR) return;
    size = (size - lost) & ~(size_t)(DT__ALIGN - 1);
    h->free_list = (dt__hblock *)start;
    h->free_list->size = size;
    h->free_list->next = NULL;
    h->size = size;
}

static void dt__spin_lock(uint32_t *s);
static void dt__spin_unlock(uint32_t *s);

static void *dt__heap_alloc_locked(dt__heap *h, size_t n) {
    dt__hblock **link, *b;
    size_t need;
    if (n > SIZE_MAX / 2) return NULL;
    need = dt__align(n) + DT__HDR;
    for (link = &h->free_list; (b = *link) != NULL; link = &b->next) {
        if (b->size < need) continue;
        if (b->size - need >= 2 * DT__HDR) {      /* split: keep the tail free */
            dt__hblock *rest = (dt__hblock *)((char *)b + need);
            rest->size = b->size - need;
            rest->next = b->next;
            *link = rest;
            b->size = need;
        } else {
            *link = b->next;
        }
        h->used += b->size;
        if (h->used > h->peak) h->peak = h->used;
        return (char *)b + DT__HDR;
    }
    return NULL;
}

static void *dt__heap_alloc(size_t n, void *ud) {
    dt__heap *h = (dt__heap *)ud;
    void *p;
    dt__spin_lock(&h->lock);
    p = dt__heap_alloc_locked(h, n);
    dt__spin_unlock(&h->lock);
    return p;
}

static void dt__heap_free_locked(dt__heap *h, void *p) {
    dt__hblock *b, *prev = NULL, *cur;
    b = (dt__hblock *)((char *)p - DT__HDR);
    h->used -= b->size;
    for (cur = h->free_list; cur && cur < b; cur = cur->next) prev = cur;
    b->next = cur;
    if (prev) prev->next = b; else h->free_list = b;
    if (cur && (char *)b + b->size == (char *)cur) { b->size += cur->size; b->next = cur->next; }
    if (prev && (char *)prev + prev->size == (char *)b) { prev->size += b->size; prev->next = b->next; }
}

static void dt__heap_free(void *p, void *ud) {
    dt__heap *h = (dt__heap *)ud;
    if (!p) return;
    dt__spin_lock(&h->lock);
    dt__heap_free_locked(h, p);
    dt__spin_unlock(&h->lock);
}

#if !DT_NO_MALLOC
static void *dt__malloc(size_t n, void *ud) { (void)ud; return malloc(n); }
static void dt__mfree(void *p, void *ud) { (void)ud; free(p); }
#endif

/* A program arena: chunks from the engine allocator, freed all at once
 * with the program. It counts bytes so a program has a memory bound. */
typedef struct dt__chunk {
    struct dt__chunk *next;
    size_t size, used;
} dt__chunk;

typedef struct dt__arena {
    dt_allocator *a;
    dt__chunk *head;
    size_t total, limit;
    int oom;                     /* the allocator failed (not the limit) */
} dt__arena;

/* A new chunk for n more bytes. One larger than DT_ARENA_CHUNK holds just
 * that allocation and goes behind the head, so the head's free tail keeps
 * filling instead of being abandoned (a 4 KiB ring would otherwise waste
 * up to a chunk). */
static dt__chunk *dt__arena_grow(dt__arena *ar, size_t n, size_t hdr) {
    size_t size = n + hdr > DT_ARENA_CHUNK ? n + hdr : DT_ARENA_CHUNK;
    dt__chunk *c;
    if (n > ar->limit || ar->total + size > ar->limit) return NULL;
    c = (dt__chunk *)ar->a->alloc(size, ar->a->user_data);
    if (!c) { ar->oom = 1; return NULL; }
    c->size = size;
    c->used = hdr;
    ar->total += size;
    if (ar->head && size > DT_ARENA_CHUNK) {
        c->next = ar->head->next;
        ar->head->next = c;
    } else {
        c->next = ar->head;
        ar->head = c;
    }
    return c;
}

static void *dt__arena_alloc(dt__arena *ar, size_t n) {
    dt__chunk *c = ar->head;
    size_t hdr = dt__align(sizeof(dt__chunk));
    void *p;
    if (n > ar->limit) return NULL;              /* also keeps dt__align from wrapping */
    n = dt__align(n ? n : 1);
    if ((!c || c->size - c->used < n) && !(c = dt__arena_grow(ar, n, hdr))) return NULL;
    p = (char *)c + c->used;
    c->used += n;
    memset(p, 0, n);
    return p;
}

static void dt__arena_free(dt__arena *ar) {
    dt__chunk *c = ar->head, *next;
    for (; c; c = next) { next = c->next; ar->a->free(c, ar->a->user_data); }
    ar->head = NULL;
    ar->total = 0;
}

/* ---- locks ------------------------------------------------------------- */
/* A lock is either a host lock (hooks) or the built-in test-and-test-and-set
 * spinlock. Critical sections in dt are short and bounded. */
typedef struct dt__lock {
    void *host;
    uint32_t spin;
} dt__lock;

static void dt__lock_init(dt__lock *l, const dt_lock_hooks *h) {
    l->spin = 0;
    l->host = (h && h->create) ? h->create(h->user_data) : NULL;
}
static void dt__lock_fini(dt__lock *l, const dt_lock_hooks *h) {
    if (l->host && h && h->destroy) h->destroy(l->host, h->user_data);
    l->host = NULL;
}
#if DT_NO_THREADS
/* One thread, but interrupts: a lock is a nesting count, so nothing waits,
 * and an emergency flush from an interrupt can still see that the code it
 * interrupted is inside a recorder's critical section (and flag its dump
 * torn). The compiler barrier keeps the ring writes inside the count. */
#if defined(__GNUC__) || defined(__clang__)
#define DT__COMPILER_BARRIER() __asm__ __volatile__("" ::: "memory")
#else
#define DT__COMPILER_BARRIER() ((void)0)
#endif
static void dt__spin_lock(uint32_t *s) {
    *(volatile uint32_t *)s += 1u;
    DT__COMPILER_BARRIER();
}
static int dt__spin_trylock(uint32_t *s, int spins) {
    (void)spins;
    if (*(volatile uint32_t *)s) return 0;
    dt__spin_lock(s);
    return 1;
}
static void dt__spin_unlock(uint32_t *s) {
    DT__COMPILER_BARRIER();
    *(volatile uint32_t *)s -= 1u;
}
#else
static void dt__spin_lock(uint32_t *s) {
    while (DT__XCHG_ACQ(s, 1u)) while (DT__LOAD(s)) dt__pause();
}
static int dt__spin_trylock(uint32_t *s, int spins) {
    while (DT__XCHG_ACQ(s, 1u)) {
        if (spins-- <= 0) return 0;
        dt__pause();
    }
    return 1;
}
static void dt__spin_unlock(uint32_t *s) {
    DT__STORE_REL(s, 0u);
}
#endif
static void dt__lock_take(dt__lock *l, const dt_lock_hooks *h) {
    if (l->host) h->lock(l->host, h->user_data); else dt__spin_lock(&l->spin);
}
static void dt__lock_give(dt__lock *l, const dt_lock_hooks *h) {
    if (l->host) h->unlock(l->host, h->user_data); else dt__spin_unlock(&l->spin);
}

/* ---- internal structures ----------------------------------------------- */
enum {
#define DT__STAT_ENUM(name, doc) DT__S_##name,
    DT_STATS(DT__STAT_ENUM)
#undef DT__STAT_ENUM
    DT__NSTATS
};

/* One cache line (or a few) per thread: counters plus the read-section
 * counts of the two epochs. */
typedef struct dt__stripe {
    uint64_t c[DT__NSTATS];
    uint64_t readers[2];
    char pad[64 - ((DT__NSTATS + 2) * 8) % 64];
} dt__stripe;

typedef struct dt__reg_event {
    uint64_t id;
    dt_str name;
    const char *file;            /* set once (release): then line and level are valid */
    int line, level;
    uint32_t nfields;
    dt_schema_field *fields;
    int owned;                   /* name was copied */
    int file_owned;
    int has_schema;
} dt__reg_event;

typedef struct dt__action {
    char *name;
    dt_action_fn fn;
    void *user_data;
    int risk, deferred, builtin;
    uint32_t rate_count, min_args, max_args;
    int64_t rate_window, window_start;
    uint32_t used;
} dt__action;

#define DT__BUILTIN_FUNCTIONS 14    /* the core's own: not counted against max_actions */
#define DT__BUILTIN_ACTIONS 6       /* the core's own: counted against max_actions */
typedef struct dt__function {
    char *name;
    dt_function_desc d;
} dt__function;

typedef struct dt__pending {
    int32_t action;
    uint32_t nargs;
    dt_value args[DT_MAX_ACTION_ARGS];
    char bytes[DT_PENDING_ARG_BYTES];
    int64_t ts;
} dt__pending;

/* A timed export-level change (set_level ... for DURATION). */
typedef struct dt__override {
    char pattern[DT_MAX_NAME];
    size_t len;
    int prefix, level;
    int64_t start, until;        /* applies to events stamped in [start, until) */
} dt__override;

struct dt_block {
    dt_engine *e;
    const dt_processor *proc;
    void *state;
    dt_str name;
    uint32_t enabled;            /* atomic: enable/disable, budget trips */
    uint32_t index;
    dt__lock lock;
    struct dt__program *prog;
    dt_token at;                 /* where it starts, for messages */
    uint64_t hash;               /* of its definition's tokens */
    dt_shards *shards;           /* locks to finalise with the program */
};

typedef struct dt__sub {
    dt_block *block;
    int tag;
    dt_pattern pattern;
} dt__sub;

typedef struct dt__route {
    uint64_t id;
    dt_str name;
    int level;                   /* export threshold from the rules */
    int drop;                    /* dropped before any block sees it (dt_compiler_drop) */
    uint32_t nsubs;
    dt__sub **subs;              /* program order */
} dt__route;

typedef struct dt__level_rule {
    dt_pattern pattern;
    int level;
    uint32_t order;              /* program order: among equal patterns the last wins */
} dt__level_rule;

typedef struct dt__boost {      /* `level P = L for D` without a trigger: applied at deploy */
    dt_pattern pattern;
    int level;
    int64_t duration;
} dt__boost;

typedef struct dt__recorder dt__recorder;

typedef struct dt__program {
    dt__arena arena;
    char *text;
    size_t text_len;
    uint64_t hash, version;
    int risk;
    dt_block **blocks;
    uint32_t nblocks;
    dt__sub *subs;               /* all subscriptions, program order */
    uint32_t nsubs;
    dt__sub **wild;              /* prefix and all-event subscriptions */
    uint32_t nwild;
    dt__route *routes;           /* open addressing on id; cap is a power of two */
    uint32_t route_cap;
    dt__level_rule *prefix_levels;   /* longest prefix first */
    uint32_t nprefix_levels;
    int default_level;
    dt__boost *boosts;
    uint32_t nboosts;
    dt__recorder **recorders;
    uint32_t nrecorders;
    size_t recorder_bytes;
    uint64_t change;             /* which program change made it current (timed levels belong to one) */
} dt__program;

struct dt_engine {
    dt_desc desc;
    dt_allocator alloc;
    dt__heap heap;
    void *stripes_mem;
    dt__stripe *stripes;
    dt__lock lock;               /* registry, actions, functions, processors */
    dt__lock deploy_lock;        /* serialises deploy, rollback, undeploy */
    dt__lock override_lock;
    dt__lock pending_lock;
    dt__program *program;        /* atomic: the running program */
    dt__program *previous;       /* for rollback; not seen by readers */
    uint32_t epoch;              /* atomic: read-section parity */
    uint32_t ripcord;            /* atomic */
    uint32_t ripcord_sites;      /* the rip cord state the sites were computed for */
    uint64_t versions;
    dt__reg_event *events;
    uint32_t nevents;
    uint32_t *event_index;       /* open addressing on id: index+1, 0 empty */
    uint32_t event_index_cap;
    dt__action *actions;
    uint32_t nactions;
    dt__function *functions;
    uint32_t nfunctions;
    const dt_processor *processors[DT_MAX_PROCESSORS];
    uint32_t nprocessors;
    dt__pending *pending;
    uint32_t pending_head, npending;
    dt__override overrides[DT_MAX_OVERRIDES];
    uint32_t noverrides;         /* atomic: the emit path skips the table when 0 */
    uint64_t changes;            /* program changes so far (under deploy_lock) */
    uint64_t override_change;    /* the change the timed levels belong to (under override_lock) */
    int64_t now;                 /* latest tick */
    int64_t start, self_next;
    int builtin_set_level, builtin_flush, builtin_discard, builtin_emit;
};

/* ---- counters and read sections ---------------------------------------- */
typedef struct dt__slot {
    dt__stripe *s;
    int shared;
} dt__slot;

DT__HOT dt__slot dt__slot_for(dt_engine *e, uint32_t o) {
    dt__slot sl;
#if DT_NO_THREADS
    (void)o;
    sl.shared = 0;
    sl.s = &e->stripes[0];
#else
    sl.shared = !(o + 1u < (uint32_t)DT_STRIPES);
    sl.s = &e->stripes[sl.shared ? 0 : o + 1];
#endif
    return sl;
}
DT__HOT dt__slot dt__slot_of(dt_engine *e) { return dt__slot_for(e, dt__thread_ordinal()); }

/* Single-writer stripes use a relaxed load and store (no lock prefix);
 * the shared stripe needs a real atomic add. */
DT__HOT void dt__add(dt__slot sl, int which, uint64_t n) {
    uint64_t *p = &sl.s->c[which];
    if (sl.shared) DT__FADD(p, n);
    else DT__STORE(p, DT__LOAD(p) + n);
}
static void dt__count(dt_engine *e, int which, uint64_t n) { dt__add(dt__slot_of(e), which, n); }

/* Release on both paths: leaving a read section must publish everything
 * the reader did before the writer, seeing the count drop, frees the
 * program. (A fence plus a relaxed store is equivalent, but race detectors
 * do not model fences.) */
static void dt__readers_add(dt__slot sl, unsigned idx, uint64_t delta) {
    uint64_t *p = &sl.s->readers[idx];
#if DT_NO_THREADS
    (void)sl;
    *p += delta;
#else
    if (sl.shared) __atomic_fetch_add(p, delta, __ATOMIC_ACQ_REL);
    else __atomic_store_n(p, DT__LOAD(p) + delta, __ATOMIC_RELEASE);
#endif
}

/* Read section (a small SRCU): a reader counts itself under the current
 * epoch parity in its own stripe, then loads the program. A writer that
 * swaps the program waits until the old parity drains, so the program it
 * replaced is no longer in use. The fence orders "count myself" before
 * "load program" against the writer's "store program" before "sum counts". */
typedef struct dt__reader {
    dt__slot sl;
    unsigned idx;
} dt__reader;

static dt__program *dt__read_begin(dt_engine *e, dt__reader *r) {
    r->sl = dt__slot_of(e);
    r->idx = DT__LOAD(&e->epoch) & 1u;
    dt__readers_add(r->sl, r->idx, 1);
    DT__FENCE();
    dt__tls_reading++;
    return DT__LOAD_ACQ(&e->program);
}

static void dt__read_end(dt__reader *r) {
    dt__tls_reading--;
    dt__readers_add(r->sl, r->idx, (uint64_t)-1);
}

static void dt__wait_readers(dt_engine *e, unsigned idx) {
    for (;;) {
        uint64_t sum = 0;
        uint32_t i;
        DT__FENCE();
        for (i = 0; i < (uint32_t)DT_STRIPES; i++) sum += DT__LOAD_ACQ(&e->stripes[i].readers[idx]);
        if (sum == 0) return;
        dt__pause();
    }
}

/* Publishes p as the running program; on return no reader still uses the
 * program it replaced. Called under deploy_lock. */
static void dt__publish(dt_engine *e, dt__program *p) {
    unsigned cur = DT__LOAD(&e->epoch) & 1u;
    dt__wait_readers(e, cur ^ 1u);       /* late readers of the flip before */
    DT__STORE_SC(&e->program, p);
    DT__STORE_SC(&e->epoch, DT__LOAD(&e->epoch) + 1u);
    dt__wait_readers(e, cur);
}

DT_API void dt_get_stats(dt_engine *e, dt_stats *out) {
    uint64_t sum[DT__NSTATS];
    uint32_t i;
    int k;
    memset(sum, 0, sizeof sum);
    memset(out, 0, sizeof *out);
    if (!e) return;
    for (i = 0; i < (uint32_t)DT_STRIPES; i++)
        for (k = 0; k < DT__NSTATS; k++) sum[k] += DT__LOAD(&e->stripes[i].c[k]);
#define DT__STAT_OUT(name, doc) out->name = sum[DT__S_##name];
    DT_STATS(DT__STAT_OUT)
#undef DT__STAT_OUT
}

static void dt__log(dt_engine *e, int severity, const char *msg) {
    if (e && e->desc.logger.log) e->desc.logger.log(severity, msg, e->desc.logger.user_data);
}

/* ---- clock ------------------------------------------------------------- */
/* Times come from hosts and event streams: add without overflow. */
static int64_t dt__sat_add(int64_t a, int64_t b) {
    if (b > 0 && a > INT64_MAX - b) return INT64_MAX;
    if (b < 0 && a < INT64_MIN - b) return INT64_MIN;
    return a + b;
}

static int64_t dt__default_clock(void) {
#if DT_NO_CLOCK
    return 0;
#elif defined(CLOCK_REALTIME)
    struct timespec ts;
    if (clock_gettime(CLOCK_REALTIME, &ts) != 0) return 0;
    return (int64_t)ts.tv_sec * 1000000000 + (int64_t)ts.tv_nsec;
#elif (defined(__STDC_VERSION__) && __STDC_VERSION__ >= 201112L) || (defined(__cplusplus) && __cplusplus >= 201703L)
    struct timespec ts;
    if (timespec_get(&ts, TIME_UTC) != TIME_UTC) return 0;
    return (int64_t)ts.tv_sec * 1000000000 + (int64_t)ts.tv_nsec;
#else
    return (int64_t)time(NULL) * 1000000000;   /* seconds only: pass desc.clock for better */
#endif
}

DT_API int64_t dt_now(dt_engine *e) {
    if (e && e->desc.clock.now) return e->desc.clock.now(e->desc.clock.user_data);
    return dt__default_clock();
}

/* ---- durable-ID registry ----------------------------------------------- */
static void *dt__alloc(dt_engine *e, size_t n) { return e->alloc.alloc(n, e->alloc.user_data); }
static void dt__free(dt_engine *e, void *p) { if (p) e->alloc.free(p, e->alloc.user_data); }

static char *dt__strdup(dt_engine *e, const char *s, size_t n) {
    char *p = (char *)dt__alloc(e, n + 1);
    if (!p) return NULL;
    if (n) memcpy(p, s, n);
    p[n] = 0;
    return p;
}

static dt__reg_event *dt__reg_find(dt_engine *e, uint64_t id) {
    uint32_t mask = e->event_index_cap - 1u, i = (uint32_t)id & mask, slot;
    while ((slot = e->event_index[i]) != 0) {
        if (e->events[slot - 1].id == id) return &e->events[slot - 1];
        i = (i + 1) & mask;
    }
    return NULL;
}

static int dt__schema_same(const dt__reg_event *r, const dt_schema_field *f, uint32_t n) {
    uint32_t i;
    if (!r->has_schema) return 1;
    if (r->nfields != n) return 0;
    for (i = 0; i < n; i++)
        if (strcmp(r->fields[i].name, f[i].name) != 0 || r->fields[i].type != f[i].type) return 0;
    return 1;
}

/* An entry may gain its schema after compiles started reading it without
 * the lock: the schema is complete before has_schema says so (release). */
static int dt__reg_copy_schema(dt_engine *e, dt__reg_event *r, const dt_schema_field *f, uint32_t n) {
    uint32_t i;
    r->fields = (dt_schema_field *)dt__alloc(e, sizeof(dt_schema_field) * (n ? n : 1));
    if (!r->fields) return DT_ERR_NOMEM;
    for (i = 0; i < n; i++) {
        r->fields[i].type = f[i].type;
        r->fields[i].name = dt__strdup(e, f[i].name, strlen(f[i].name));
        if (!r->fields[i].name) {                /* undo: a retry starts from nothing */
            while (i > 0) dt__free(e, (void *)r->fields[--i].name);
            dt__free(e, r->fields);
            r->fields = NULL;
            r->nfields = 0;
            return DT_ERR_NOMEM;
        }
    }
    r->nfields = n;
    DT__STORE_REL(&r->has_schema, 1);
    return DT_OK;
}

static int dt__reg_has_schema(const dt__reg_event *r) { return DT__LOAD_ACQ(&r->has_schema); }

static int dt__reg_validate(const char *name, size_t len, const dt_schema_field *f, uint32_t n) {
    uint32_t i;
    if (!name || len == 0 || len > DT_MAX_NAME || (n && !f) || n > DT_MAX_FIELDS) return DT_ERR_INVALID;
    for (i = 0; i < n; i++)
        if (!f[i].name || !f[i].name[0] || strlen(f[i].name) > DT_MAX_NAME || (int)f[i].type < (int)DT_TYPE_NULL ||
            f[i].type > DT_TYPE_BYTES) return DT_ERR_INVALID;
    return DT_OK;
}

/* Adds or updates an entry; copy says whether name and file must be copied
 * (sites pass literals that outlive the engine). Caller holds e->lock. */
static int dt__reg_add(dt_engine *e, const char *name, size_t len, const dt_schema_field *f, uint32_t n,
                       int has_schema, const char *file, int line, int level, int copy) {
    uint64_t id = dt_id_n(name, len);
    dt__reg_event *r = dt__reg_find(e, id);
    uint32_t mask, i;
    if (r) {
        if (!dt__str_eq(r->name, dt_strn(name, len))) return DT_ERR_COLLISION;
        if (has_schema && r->has_schema && !dt__schema_same(r, f, n)) return DT_ERR_EXISTS;
        if (has_schema && !r->has_schema) return dt__reg_copy_schema(e, r, f, n);
        if (file && !DT__LOAD(&r->file)) {
            const char *f2 = copy ? dt__strdup(e, file, strlen(file)) : file;
            if (!f2) return DT_ERR_NOMEM;
            r->file_owned = copy;
            r->line = line;
            r->level = level;
            DT__STORE_REL(&r->file, f2);             /* readers acquire file, then read line and level */
        }
        return DT_OK;
    }
    if (e->nevents >= e->desc.max_events) { dt__count(e, DT__S_overflows, 1); return DT_ERR_LIMIT; }
    r = &e->events[e->nevents];
    memset(r, 0, sizeof *r);
    r->id = id;
    r->owned = copy;
    r->name = dt_strn(copy ? dt__strdup(e, name, len) : name, len);
    if (!r->name.ptr) return DT_ERR_NOMEM;
    r->file = (file && copy) ? dt__strdup(e, file, strlen(file)) : file;
    r->file_owned = file && copy;
    if (file && !r->file) {                      /* the location is part of the entry: all or nothing */
        if (r->owned) dt__free(e, (void *)r->name.ptr);
        return DT_ERR_NOMEM;
    }
    r->line = line;
    r->level = level;
    if (has_schema && dt__reg_copy_schema(e, r, f, n) != DT_OK) {
        uint32_t k;
        for (k = 0; k < r->nfields; k++) dt__free(e, (void *)r->fields[k].name);
        dt__free(e, r->fields);
        if (r->owned) dt__free(e, (void *)r->name.ptr);
        if (r->file_owned) dt__free(e, (void *)r->file);
        return DT_ERR_NOMEM;
    }
    mask = e->event_index_cap - 1u;
    for (i = (uint32_t)id & mask; e->event_index[i]; i = (i + 1) & mask) {}
    e->event_index[i] = ++e->nevents;
    return DT_OK;
}

DT_API int dt_register_event(dt_engine *e, const char *name, const dt_schema_field *fields, uint32_t nfields,
                             const char *file, int line) {
    int rc;
    if (!e || dt__reg_validate(name, name ? strlen(name) : 0, fields, nfields) != DT_OK) return DT_ERR_INVALID;
    dt__lock_take(&e->lock, &e->desc.lock);
    rc = dt__reg_add(e, name, strlen(name), fields, nfields, fields != NULL || nfields > 0, file, line, 0, 1);
    dt__lock_give(&e->lock, &e->desc.lock);
    return rc;
}

static void dt__reg_free(dt_engine *e) {
    uint32_t i, k;
    for (i = 0; i < e->nevents; i++) {
        dt__reg_event *r = &e->events[i];
        if (r->owned) dt__free(e, (void *)r->name.ptr);
        if (r->file_owned) dt__free(e, (void *)r->file);
        for (k = 0; k < r->nfields; k++) dt__free(e, (void *)r->fields[k].name);
        dt__free(e, r->fields);
    }
}

/* ---- call sites -------------------------------------------------------- */
/* Sites are process-wide statics; one engine is bound to them. The list
 * only grows (a site is a static that lives as long as the process). */
static dt_site *dt__sites_head;
static dt_site **dt__sites_tail = &dt__sites_head;
static uint32_t dt__sites_lock;
static dt_engine *dt__bound;

static uint32_t dt__site_mode(dt_engine *e, dt_site *s);
static int dt__name_ok(dt_str name) { return name.ptr && name.len > 0 && name.len <= DT_MAX_NAME; }
static void dt__emit_checked(dt_engine *e, dt_event *ev, dt__slot sl, int fields_known);
static inline int dt__fields_ok(const dt_event *ev);

static void dt__site_add_to_registry(dt_engine *e, dt_site *s) {
    dt__lock_take(&e->lock, &e->desc.lock);
    (void)dt__reg_add(e, s->name, s->name_len, NULL, 0, 0, s->file, s->line, s->level, 0);
    dt__lock_give(&e->lock, &e->desc.lock);
}

DT_API void dt_site_register(dt_site *s) {
    dt_engine *e;
    if (!s) return;
    dt__spin_lock(&dt__sites_lock);
    if (DT__LOAD(&s->mode) == DT_SITE_NEW) {
        s->name_len = s->name ? strlen(s->name) : 0;
        s->id = dt_id_n(s->name, s->name_len);
        s->next = NULL;
        *dt__sites_tail = s;
        dt__sites_tail = &s->next;
        e = DT__LOAD_ACQ(&dt__bound);
        if (e && dt__name_ok(dt_strn(s->name, s->name_len))) dt__site_add_to_registry(e, s);
        DT__STORE_REL(&s->mode, dt__site_mode(e, s));       /* an invalid name stays off */
    }
    dt__spin_unlock(&dt__sites_lock);
}

DT_API int dt_site_first(dt_site *s) {
    dt_site_register(s);
    return DT__LOAD_ACQ(&s->mode) != DT_SITE_OFF;
}

DT_API void dt_sites_foreach(dt_site_fn fn, void *ud) {
    dt_site *s;
    dt__spin_lock(&dt__sites_lock);
    for (s = dt__sites_head; s; s = s->next) fn(s, ud);
    dt__spin_unlock(&dt__sites_lock);
}

/* Recomputes every site's mode for the bound engine: after a deploy, a
 * rollback, the rip cord or a timed level change. */
static void dt__sites_recompute(dt_engine *e) {
    dt_site *s;
    DT__STORE(&e->ripcord_sites, DT__LOAD(&e->ripcord));
    dt__spin_lock(&dt__sites_lock);
    if (DT__LOAD_ACQ(&dt__bound) == e)
        for (s = dt__sites_head; s; s = s->next) DT__STORE(&s->mode, dt__site_mode(e, s));
    dt__spin_unlock(&dt__sites_lock);
}

#if DT_SITE_SECTIONS
extern dt_site *const __start_dt_sites[] __attribute__((weak));
extern dt_site *const __stop_dt_sites[] __attribute__((weak));
#endif

/* Registers every site the linker listed (none without DT_SITE_SECTIONS),
 * so the registry and catalog know them before they first run. */
static void dt__register_listed_sites(void) {
#if DT_SITE_SECTIONS
    dt_site *const *p;
    if (!__start_dt_sites || !__stop_dt_sites) return;
    for (p = __start_dt_sites; p < __stop_dt_sites; p++)
        if (*p && DT__LOAD_ACQ(&(*p)->mode) == DT_SITE_NEW) dt_site_register(*p);
#endif
}

DT_API void dt_bind_sites(dt_engine *e) {
    dt_site *s;
    dt__register_listed_sites();
    dt__spin_lock(&dt__sites_lock);
    DT__STORE_SC(&dt__bound, e);
    for (s = dt__sites_head; s; s = s->next) {
        if (e && dt__name_ok(dt_strn(s->name, s->name_len))) dt__site_add_to_registry(e, s);
        DT__STORE(&s->mode, dt__site_mode(e, s));
    }
    dt__spin_unlock(&dt__sites_lock);
}


/* A DT_EMIT site's field names are part of its code, the same on every
 * call: checking them once is enough for the export fast path. A site whose
 * names fail keeps taking the checked path, which refuses and counts. */
static int dt__site_fields_check(dt_site *s, const dt_event *ev) {
    if (ev->nfields > DT_MAX_FIELDS || !dt__fields_ok(ev)) return 0;
    DT__STORE(&s->fields_checked, 1u);
    return 1;
}

DT_API void dt_site_emit(dt_site *s, const dt_field *fields, uint32_t nfields) {
    dt_engine *e;
    dt_event ev;
    dt__slot sl;
    /* acquire: the registering thread wrote id and name_len before its
     * release store of the mode (free on x86, one barrier on ARM) */
    uint32_t ordinal, mode = DT__LOAD_ACQ(&s->mode);
    if (mode == DT_SITE_NEW) { dt_site_register(s); mode = DT__LOAD_ACQ(&s->mode); }
    e = DT__LOAD_ACQ(&dt__bound);
    if (!e || mode == DT_SITE_OFF) return;      /* also: names that fail dt__name_ok stay off */
    ordinal = dt__thread_ordinal();
    ev.id = s->id;
    ev.name = dt_strn(s->name, s->name_len);
    ev.ts = e->desc.no_timestamps ? 0 : dt_now(e);
    ev.tid = (uint64_t)ordinal + 1u;
    ev.level = s->level;
    ev.nfields = nfields;
    ev.fields = fields;
    sl = dt__slot_for(e, ordinal);
    dt__add(sl, DT__S_events_in, 1);
    if (mode == DT_SITE_EXPORT && (DT__LOAD(&s->fields_checked) || dt__site_fields_check(s, &ev))) {
        /* No rule looks at this site: export without entering the program.
         * (Invalid fields take the checked path, which refuses and counts.) */
        dt__add(sl, DT__S_events_exported, 1);
        if (e->desc.sinks.event) e->desc.sinks.event(&ev, e->desc.sinks.user_data);
        return;
    }
    dt__emit_checked(e, &ev, sl, DT__LOAD(&s->fields_checked) || dt__site_fields_check(s, &ev));
}

/* ---- engine setup ------------------------------------------------------ */
static int dt__register_builtins(dt_engine *e);
static void dt__program_free(dt_engine *e, dt__program *p);

static uint32_t dt__pow2_at_least(uint32_t n) {
    uint32_t c = 16;
    while (c < n && c < 0x80000000u) c <<= 1;
    return c;
}

static int dt__choose_allocator(dt_allocator *out, dt__heap *heap, const dt_desc *d) {
    if (d->memory.ptr) {
        dt__heap_init(heap, d->memory.ptr, d->memory.size);
        out->alloc = dt__heap_alloc;
        out->free = dt__heap_free;
        out->user_data = heap;
        return DT_OK;
    }
    if (d->allocator.alloc && d->allocator.free) { *out = d->allocator; return DT_OK; }
#if DT_NO_MALLOC
    return DT_ERR_INVALID;
#else
    out->alloc = dt__malloc;
    out->free = dt__mfree;
    out->user_data = NULL;
    return DT_OK;
#endif
}

static void dt__apply_defaults(dt_desc *d) {
    if (!d->default_level) d->default_level = DT_INFO;
    if (!d->max_risk) d->max_risk = DT_RISK_MEDIUM;
    if (!d->max_events) d->max_events = 4096;
    if (!d->max_actions) d->max_actions = 64;
    if (!d->max_pending) d->max_pending = 64;
    if (!d->max_program_bytes) d->max_program_bytes = (size_t)16 << 20;
    if (!d->max_program_text) d->max_program_text = 1u << 20;
    if (!d->budget_steps) d->budget_steps = 10000;
    if (!d->self_interval_ns) d->self_interval_ns = (int64_t)60 * 1000000000;
}

static int dt__alloc_tables(dt_engine *e) {
    const dt_desc *d = &e->desc;
    size_t stripes = sizeof(dt__stripe) * (size_t)DT_STRIPES + 64;
    e->stripes_mem = dt__alloc(e, stripes);
    e->event_index_cap = dt__pow2_at_least(d->max_events * 2u);
    e->events = (dt__reg_event *)dt__alloc(e, sizeof(dt__reg_event) * d->max_events);
    e->event_index = (uint32_t *)dt__alloc(e, sizeof(uint32_t) * e->event_index_cap);
    e->actions = (dt__action *)dt__alloc(e, sizeof(dt__action) * d->max_actions);
    e->functions = (dt__function *)dt__alloc(e, sizeof(dt__function) * (d->max_actions + DT__BUILTIN_FUNCTIONS));
    e->pending = (dt__pending *)dt__alloc(e, sizeof(dt__pending) * d->max_pending);
    if (!e->stripes_mem || !e->events || !e->event_index || !e->actions || !e->functions || !e->pending)
        return DT_ERR_NOMEM;
    memset(e->stripes_mem, 0, stripes);
    e->stripes = (dt__stripe *)(((uintptr_t)e->stripes_mem + 63) & ~(uintptr_t)63);
    memset(e->event_index, 0, sizeof(uint32_t) * e->event_index_cap);
    return DT_OK;
}

static void dt__free_tables(dt_engine *e) {
    uint32_t i;
    if (e->events) dt__reg_free(e);
    for (i = 0; e->actions && i < e->nactions; i++) dt__free(e, e->actions[i].name);
    for (i = 0; e->functions && i < e->nfunctions; i++) dt__free(e, e->functions[i].name);
    dt__free(e, e->stripes_mem);
    dt__free(e, e->events);
    dt__free(e, e->event_index);
    dt__free(e, e->actions);
    dt__free(e, e->functions);
    dt__free(e, e->pending);
}

static void dt__locks(dt_engine *e, int init) {
    dt__lock *locks[4];
    int i;
    locks[0] = &e->lock; locks[1] = &e->deploy_lock; locks[2] = &e->override_lock; locks[3] = &e->pending_lock;
    for (i = 0; i < 4; i++) {
        if (init) dt__lock_init(locks[i], &e->desc.lock);
        else dt__lock_fini(locks[i], &e->desc.lock);
    }
}

DT_API dt_engine *dt_create(const dt_desc *desc) {
    dt_allocator a;
    dt__heap heap;
    dt_engine *e;
    uint32_t i;
    if (!desc || desc->nprocessors > DT_MAX_PROCESSORS || (desc->nprocessors && !desc->processors)) return NULL;
    if (desc->max_actions && desc->max_actions < DT__BUILTIN_ACTIONS) {
        if (desc->logger.log)
            desc->logger.log(DT_LOG_ERROR, "dt_create: max_actions is below the 6 built-in actions "
                             "(leave it 0 for the default, or give 6 plus the host's own)", desc->logger.user_data);
        return NULL;
    }
    if (dt__choose_allocator(&a, &heap, desc) != DT_OK) {
        if (desc->logger.log)
            desc->logger.log(DT_LOG_ERROR, "dt_create: no memory to run in: this build has no default allocator "
                             "(DT_NO_MALLOC); pass desc.memory (a block) or desc.allocator", desc->logger.user_data);
        return NULL;
    }
    e = (dt_engine *)a.alloc(sizeof *e, a.user_data);
    if (!e) {
        if (desc->logger.log) desc->logger.log(DT_LOG_ERROR, "dt_create: out of memory for the engine itself", desc->logger.user_data);
        return NULL;
    }
    memset(e, 0, sizeof *e);
    e->desc = *desc;
    dt__apply_defaults(&e->desc);
    e->alloc = a;
    if (desc->memory.ptr) { e->heap = heap; e->alloc.user_data = &e->heap; }
    dt__locks(e, 1);
    if (dt__alloc_tables(e) != DT_OK || dt__register_builtins(e) != DT_OK) goto fail;
    for (i = 0; i < desc->nprocessors; i++)
        if (dt_register_processor(e, desc->processors[i]) != DT_OK) goto fail;
    e->start = e->now = dt_now(e);
    e->self_next = dt__sat_add(e->start, e->desc.self_interval_ns);
    return e;
fail:
    if (desc->logger.log)
        desc->logger.log(DT_LOG_ERROR, "dt_create: out of memory for the engine's tables, or a processor was refused "
                         "(give a larger block, lower max_events/max_actions, or check desc.processors)", desc->logger.user_data);
    dt__free_tables(e);
    dt__locks(e, 0);
    e->alloc.free(e, e->alloc.user_data);
    return NULL;
}

DT_API void dt_destroy(dt_engine *e) {
    dt_allocator a;
    if (!e) return;
    dt__spin_lock(&dt__sites_lock);
    if (DT__LOAD(&dt__bound) == e) {
        dt_site *s;
        DT__STORE_SC(&dt__bound, (dt_engine *)NULL);
        for (s = dt__sites_head; s; s = s->next) DT__STORE(&s->mode, (uint32_t)DT_SITE_OFF);
    }
    dt__spin_unlock(&dt__sites_lock);
    dt__program_free(e, e->program);
    dt__program_free(e, e->previous);
    dt__free_tables(e);
    dt__locks(e, 0);
    a = e->alloc;
    a.free(e, a.user_data);
}

DT_API int dt_register_processor(dt_engine *e, const dt_processor *p) {
    uint32_t i;
    int rc = DT_OK;
    if (!e || !p || !p->keyword || !p->compile || !p->on_event) return DT_ERR_INVALID;
    dt__lock_take(&e->lock, &e->desc.lock);
    for (i = 0; i < e->nprocessors; i++)
        if (strcmp(e->processors[i]->keyword, p->keyword) == 0) rc = DT_ERR_EXISTS;
    if (rc == DT_OK && e->nprocessors >= DT_MAX_PROCESSORS) rc = DT_ERR_LIMIT;
    if (rc == DT_OK) e->processors[e->nprocessors++] = p;
    dt__lock_give(&e->lock, &e->desc.lock);
    return rc;
}

/* ---- program front end: lexer ------------------------------------------ */
struct dt_compiler {
    dt_engine *e;
    dt__program *p;
    const char *src;
    size_t len, pos;
    int line, col;
    dt_token look[2];
    int nlook;
    dt_error *err;
    int failed;
    const dt_pattern *scope;
    uint32_t nscope;
    int risk;
    dt_token risk_at;
    const char *risk_what;
    int depth;
    void *grown;                 /* DT__PUSH's result, so a failed grow keeps the old list */
    const dt_token *alloc_at;    /* where a memory error points, when not the next token */
    /* growable lists while compiling, moved into the arena at the end */
    dt__sub *subs;
    uint32_t nsubs, cap_subs;
    dt__level_rule *levels;
    uint32_t nlevels, cap_levels;
    dt__boost *boosts;
    uint32_t nboosts, cap_boosts;
    dt_block **blocks;
    uint32_t nblocks, cap_blocks;
    dt__recorder **recorders;
    uint32_t nrecorders, cap_recorders;
    uint64_t block_hash;         /* tokens of the block being compiled */
};

DT_API int dt_compile_error(dt_compiler *c, const dt_token *at, int code, const char *message, const char *hint) {
    dt__sb m, h;
    if (c->failed) return c->failed;
    c->failed = code ? code : DT_ERR_SYNTAX;
    if (c->err) {
        c->err->code = c->failed;
        c->err->line = at ? at->line : c->line;
        c->err->column = at ? at->column : c->col;
        m = dt__sb_make(c->err->message, sizeof c->err->message);
        dt__sb_puts(&m, message ? message : "error");
        h = dt__sb_make(c->err->hint, sizeof c->err->hint);
        dt__sb_puts(&h, hint ? hint : "");
    }
    return c->failed;
}

/* Error with a quoted name inside: "<pre>'<name>'<post>". */
static int dt__errq(dt_compiler *c, const dt_token *at, int code, const char *pre, dt_str name, const char *post,
                    const char *hint) {
    char msg[256];
    dt__sb b = dt__sb_make(msg, sizeof msg);
    dt__sb_puts(&b, pre);
    dt__sb_puts(&b, "'");
    dt__sb_putn(&b, name.ptr, name.len > 64 ? 64 : name.len);
    if (name.len > 64) dt__sb_puts(&b, "...");
    dt__sb_puts(&b, "'");
    dt__sb_puts(&b, post);
    return dt_compile_error(c, at, code, msg, hint);
}

static int dt__lex_peekc(dt_compiler *c, size_t ahead) {
    return c->pos + ahead < c->len ? (unsigned char)c->src[c->pos + ahead] : -1;
}
static void dt__lex_adv(dt_compiler *c) {
    if (c->pos < c->len) {
        if (c->src[c->pos] == '\n') { c->line++; c->col = 1; }
        else c->col++;
        c->pos++;
    }
}

/* Skips blanks and comments (# and // to end of line). Returns 1 if any. */
static int dt__lex_skip(dt_compiler *c) {
    int any = 0, ch;
    while ((ch = dt__lex_peekc(c, 0)) >= 0) {
        if (ch == ' ' || ch == '\t' || ch == '\r' || ch == '\n') { dt__lex_adv(c); any = 1; continue; }
        if (ch == '#' || (ch == '/' && dt__lex_peekc(c, 1) == '/')) {
            while ((ch = dt__lex_peekc(c, 0)) >= 0 && ch != '\n') dt__lex_adv(c);
            any = 1;
            continue;
        }
        break;
    }
    return any;
}

static void dt__tok_error(dt_token *t, const char *msg) {
    t->kind = DT_TOK_ERROR;
    t->text = dt_cstr(msg);
}

typedef struct dt__unit { const char *name; uint64_t mult; int size; } dt__unit;
static const dt__unit dt__units[] = {
    {"ns", 1, 0}, {"us", 1000, 0}, {"ms", 1000000, 0}, {"s", 1000000000ull, 0},
    {"m", 60000000000ull, 0}, {"h", 3600000000000ull, 0}, {"d", 86400000000000ull, 0},
    {"B", 1, 1}, {"KB", 1000, 1}, {"MB", 1000000, 1}, {"GB", 1000000000ull, 1},
    {"KiB", 1024, 1}, {"MiB", 1048576, 1}, {"GiB", 1073741824ull, 1}
};

static const dt__unit *dt__unit_find(dt_str s) {
    size_t i;
    for (i = 0; i < sizeof dt__units / sizeof dt__units[0]; i++)
        if (dt__str_eqc(s, dt__units[i].name)) return &dt__units[i];
    return NULL;
}

static int dt__lex_digits(dt_compiler *c, uint64_t *v, int *overflow) {
    int n = 0, ch;
    while ((ch = dt__lex_peekc(c, 0)) >= 0 && (dt__is_digit(ch) || (ch == '_' && n))) {
        if (ch != '_') {
            uint64_t d = (uint64_t)(ch - '0');
            if (*v > (UINT64_MAX - d) / 10) *overflow = 1;
            *v = *v * 10 + d;
        }
        dt__lex_adv(c);
        n++;
    }
    return n;
}

/* A number, possibly with a unit suffix: 42, 3.5, 1e9, 5m, 1h30m, 64KiB. */
static void dt__lex_number(dt_compiler *c, dt_token *t) {
    uint64_t v = 0, total = 0;
    int overflow = 0, is_float = 0, unit_kind = -1, ch;
    size_t start = c->pos;
    for (;;) {
        size_t ustart;
        const dt__unit *u;
        v = 0;
        dt__lex_digits(c, &v, &overflow);
        if (dt__lex_peekc(c, 0) == '.' && dt__is_digit(dt__lex_peekc(c, 1)) && unit_kind < 0) {
            is_float = 1;
            dt__lex_adv(c);
            dt__lex_digits(c, &v, &overflow);
        }
        if ((dt__lex_peekc(c, 0) == 'e' || dt__lex_peekc(c, 0) == 'E') && unit_kind < 0 &&
            (dt__is_digit(dt__lex_peekc(c, 1)) ||
             ((dt__lex_peekc(c, 1) == '-' || dt__lex_peekc(c, 1) == '+') && dt__is_digit(dt__lex_peekc(c, 2))))) {
            is_float = 1;
            dt__lex_adv(c); dt__lex_adv(c);
            dt__lex_digits(c, &v, &overflow);
        }
        ustart = c->pos;
        while ((ch = dt__lex_peekc(c, 0)) >= 0 && dt__is_alpha(ch)) dt__lex_adv(c);
        if (c->pos == ustart && unit_kind >= 0) { dt__tok_error(t, "every number in a duration needs a unit: write 1h30m, not 1h30"); return; }
        if (c->pos == ustart) break;
        u = dt__unit_find(dt_strn(c->src + ustart, c->pos - ustart));
        if (!u) { dt__tok_error(t, "unknown unit: durations take ns, us, ms, s, m, h, d; sizes take B, KB, KiB, MB, MiB, GB, GiB"); return; }
        if (is_float) { dt__tok_error(t, "a duration or size must be a whole number: write 1500ms, not 1.5s"); return; }
        if (unit_kind >= 0 && unit_kind != u->size) { dt__tok_error(t, "cannot mix a duration and a size in one literal"); return; }
        unit_kind = u->size;
        if (v && u->mult > UINT64_MAX / v) overflow = 1;
        else if (total > UINT64_MAX - v * u->mult) overflow = 1;
        else total += v * u->mult;
        if (u->size || !dt__is_digit(dt__lex_peekc(c, 0))) break;    /* 1h30m continues */
    }
    t->text = dt_strn(c->src + start, c->pos - start);
    if (is_float) {
#if DT_NO_FLOAT
        dt__tok_error(t, "floating-point literals are not available in this build (DT_NO_FLOAT)");
#else
        char buf[64];
        size_t n = t->text.len, i, k = 0;
        if (n >= sizeof buf) { dt__tok_error(t, "number literal too long (63 characters at most)"); return; }
        for (i = 0; i < n; i++) if (t->text.ptr[i] != '_') buf[k++] = t->text.ptr[i];
        buf[k] = 0;
        t->kind = DT_TOK_FLOAT;
        t->f = strtod(buf, NULL);
        if (t->f > 1.7976931348623157e308) {     /* strtod overflowed to infinity */
            dt__tok_error(t, "number too large");   /* a float is at most about 1.8e308 */
            return;
        }
#endif
        return;
    }
    if (unit_kind >= 0) v = total;
    if (overflow || (unit_kind >= 0 && v > (uint64_t)INT64_MAX)) { dt__tok_error(t, "number too large (at most 9223372036854775807, or 18446744073709551615 unsigned)"); return; }
    t->kind = unit_kind < 0 ? DT_TOK_INT : (unit_kind ? DT_TOK_SIZE : DT_TOK_DURATION);
    t->u = v;
    t->i = v > (uint64_t)INT64_MAX ? 0 : (int64_t)v;
    t->is_unsigned = v > (uint64_t)INT64_MAX;
}

static void dt__lex_string(dt_compiler *c, dt_token *t) {
    int q = dt__lex_peekc(c, 0), ch;
    size_t start;
    dt__lex_adv(c);
    start = c->pos;
    while ((ch = dt__lex_peekc(c, 0)) >= 0 && ch != q && ch != '\n') {
        if (ch == '\\') dt__lex_adv(c);
        dt__lex_adv(c);
    }
    if (ch != q) { dt__tok_error(t, "unterminated string: close it with a quote on the same line"); return; }
    t->kind = DT_TOK_STRING;
    t->text = dt_strn(c->src + start, c->pos - start);
    dt__lex_adv(c);
}

static const char *const dt__puncts2[] = {"==", "!=", "<=", ">=", "=~", "!~", "->", "&&", "||", ".."};

static void dt__lex_punct(dt_compiler *c, dt_token *t) {
    size_t i;
    t->kind = DT_TOK_PUNCT;
    for (i = 0; i < sizeof dt__puncts2 / sizeof dt__puncts2[0]; i++)
        if (c->pos + 1 < c->len && c->src[c->pos] == dt__puncts2[i][0] && c->src[c->pos + 1] == dt__puncts2[i][1]) {
            t->text = dt_strn(c->src + c->pos, 2);
            dt__lex_adv(c); dt__lex_adv(c);
            return;
        }
    if (strchr("{}()[],;=<>+-*/%|!.:", c->src[c->pos]) && c->src[c->pos]) {
        t->text = dt_strn(c->src + c->pos, 1);
        dt__lex_adv(c);
        return;
    }
    dt__tok_error(t, "unexpected character: names are letters, digits, '_' and '.'; strings are quoted");
    dt__lex_adv(c);
}

static dt_token dt__lex(dt_compiler *c) {
    dt_token t;
    int ch;
    memset(&t, 0, sizeof t);
    t.joined = !dt__lex_skip(c);
    t.line = c->line;
    t.column = c->col;
    ch = dt__lex_peekc(c, 0);
    if (ch < 0) { t.kind = DT_TOK_EOF; t.text = dt_cstr("end of program"); return t; }
    if (dt__is_alpha(ch) || ch == '@' || ch == '$') {
        size_t start = c->pos;
        while ((ch = dt__lex_peekc(c, 0)) >= 0 && (dt__is_alpha(ch) || dt__is_digit(ch) || ch == '.' || ch == '@' || ch == '$'))
            dt__lex_adv(c);
        t.kind = DT_TOK_IDENT;
        t.text = dt_strn(c->src + start, c->pos - start);
        if (t.text.len > DT_MAX_NAME) dt__tok_error(&t, "name too long (at most " DT__XSTR(DT_MAX_NAME) " bytes, DT_MAX_NAME)");
        return t;
    }
    if (dt__is_digit(ch)) { dt__lex_number(c, &t); return t; }
    if (ch == '"' || ch == '\'') { dt__lex_string(c, &t); return t; }
    dt__lex_punct(c, &t);
    return t;
}

static void dt__fill(dt_compiler *c, int n) {
    while (c->nlook < n) c->look[c->nlook++] = dt__lex(c);
}

DT_API const dt_token *dt_peek(dt_compiler *c) { dt__fill(c, 1); return &c->look[0]; }
DT_API const dt_token *dt_peek2(dt_compiler *c) { dt__fill(c, 2); return &c->look[1]; }

DT_API dt_token dt_next(dt_compiler *c) {
    dt_token t;
    dt__fill(c, 1);
    t = c->look[0];
    c->look[0] = c->look[1];
    c->nlook--;
    c->block_hash = dt__fnv1a_more(c->block_hash ^ (uint64_t)t.kind, t.text.ptr, t.text.len);
    if (t.kind == DT_TOK_ERROR) dt_compile_error(c, &t, DT_ERR_SYNTAX, t.text.ptr, NULL);
    return t;
}

DT_API int dt_is(const dt_token *t, const char *word) {
    return (t->kind == DT_TOK_IDENT || t->kind == DT_TOK_PUNCT) && dt__str_eqc(t->text, word);
}

DT_API int dt_accept(dt_compiler *c, const char *word) {
    if (c->failed || !dt_is(dt_peek(c), word)) return 0;
    dt_next(c);
    return 1;
}

static const char *dt__tok_desc(const dt_token *t) {
    switch (t->kind) {
    case DT_TOK_EOF: return "the end of the program";
    case DT_TOK_STRING: return "a string";
    case DT_TOK_INT: case DT_TOK_FLOAT: return "a number";
    case DT_TOK_DURATION: return "a duration";
    case DT_TOK_SIZE: return "a size";
    default: return NULL;
    }
}

/* "expected X, found Y" with the found token quoted where it has text. */
static int dt__expected(dt_compiler *c, const dt_token *at, const char *what, const char *hint) {
    char msg[256];
    dt__sb b = dt__sb_make(msg, sizeof msg);
    const char *d = dt__tok_desc(at);
    if (at->kind == DT_TOK_ERROR) return dt_compile_error(c, at, DT_ERR_SYNTAX, at->text.ptr, hint);
    dt__sb_puts(&b, "expected ");
    dt__sb_puts(&b, what);
    dt__sb_puts(&b, ", found ");
    if (d) dt__sb_puts(&b, d);
    else { dt__sb_puts(&b, "'"); dt__sb_putn(&b, at->text.ptr, at->text.len > 40 ? 40 : at->text.len); dt__sb_puts(&b, "'"); }
    return dt_compile_error(c, at, DT_ERR_SYNTAX, msg, hint);
}

DT_API int dt_expect(dt_compiler *c, const char *word, const char *hint) {
    char what[64];
    dt__sb b;
    if (c->failed) return c->failed;
    if (dt_accept(c, word)) return DT_OK;
    b = dt__sb_make(what, sizeof what);
    dt__sb_puts(&b, "'");
    dt__sb_puts(&b, word);
    dt__sb_puts(&b, "'");
    return dt__expected(c, dt_peek(c), what, hint);
}

DT_API int dt_expect_ident(dt_compiler *c, dt_str *out, const char *what) {
    if (c->failed) return c->failed;
    if (dt_peek(c)->kind != DT_TOK_IDENT) return dt__expected(c, dt_peek(c), what, NULL);
    *out = dt_next(c).text;
    return DT_OK;
}

static int dt__hexval(int ch) {
    if (ch >= '0' && ch <= '9') return ch - '0';
    if (ch >= 'a' && ch <= 'f') return ch - 'a' + 10;
    if (ch >= 'A' && ch <= 'F') return ch - 'A' + 10;
    return -1;
}

/* Decodes a string token's escapes into the arena. */
static int dt__decode_string(dt_compiler *c, const dt_token *t, dt_str *out) {
    char *buf = (char *)dt_compiler_alloc(c, t->text.len + 1);
    size_t i, n = 0;
    if (!buf) return c->failed;
    for (i = 0; i < t->text.len; i++) {
        char ch = t->text.ptr[i];
        if (ch != '\\') { buf[n++] = ch; continue; }
        if (++i >= t->text.len) break;
        switch (t->text.ptr[i]) {
        case 'n': buf[n++] = '\n'; break;
        case 't': buf[n++] = '\t'; break;
        case 'r': buf[n++] = '\r'; break;
        case '0': buf[n++] = '\0'; break;
        case '\\': case '"': case '\'': buf[n++] = t->text.ptr[i]; break;
        case 'x':
            if (i + 2 < t->text.len + 0 && dt__hexval(t->text.ptr[i + 1]) >= 0 && dt__hexval(t->text.ptr[i + 2]) >= 0) {
                buf[n++] = (char)(dt__hexval(t->text.ptr[i + 1]) * 16 + dt__hexval(t->text.ptr[i + 2]));
                i += 2;
                break;
            }
            /* fall through */
        default:
            return dt_compile_error(c, t, DT_ERR_SYNTAX, "unknown escape in string",
                                    "escapes are \\n \\t \\r \\0 \\\\ \\\" \\' and \\xHH");
        }
    }
    buf[n] = 0;
    *out = dt_strn(buf, n);
    return DT_OK;
}

DT_API int dt_expect_string(dt_compiler *c, dt_str *out, const char *what) {
    dt_token t;
    if (c->failed) return c->failed;
    if (dt_peek(c)->kind != DT_TOK_STRING) return dt__expected(c, dt_peek(c), what, NULL);
    t = dt_next(c);
    return dt__decode_string(c, &t, out);
}

DT_API int dt_expect_int(dt_compiler *c, int64_t min, int64_t max, int64_t *out, const char *what) {
    const dt_token *t;
    if (c->failed) return c->failed;
    t = dt_peek(c);
    if (t->kind != DT_TOK_INT) return dt__expected(c, t, what, NULL);
    if (t->is_unsigned || t->i < min || t->i > max) {
        char hint[96];
        dt__sb b = dt__sb_make(hint, sizeof hint);
        dt__sb_puts(&b, "use a value from ");
        dt__sb_i64(&b, min);
        dt__sb_puts(&b, " to ");
        dt__sb_i64(&b, max);
        return dt_compile_error(c, t, DT_ERR_LIMIT, "number out of range", hint);
    }
    *out = dt_next(c).i;
    return DT_OK;
}

/* "64 KiB" (a space before the unit) is a common slip: say so. */
static int dt__unit_after_space(dt_compiler *c) {
    const dt_token *u = dt_peek2(c);
    if (dt_peek(c)->kind != DT_TOK_INT || u->kind != DT_TOK_IDENT || u->joined || !dt__unit_find(u->text)) return 0;
    dt_compile_error(c, u, DT_ERR_SYNTAX, "a unit must follow its number without a space",
                     "write 64KiB or 5m, not 64 KiB or 5 m");
    return 1;
}

DT_API int dt_expect_duration(dt_compiler *c, int64_t *ns) {
    const dt_token *t;
    if (c->failed) return c->failed;
    if (dt__unit_after_space(c)) return c->failed;
    t = dt_peek(c);
    if (t->kind == DT_TOK_INT && t->i == 0 && !t->is_unsigned) { dt_next(c); *ns = 0; return DT_OK; }
    if (t->kind != DT_TOK_DURATION) return dt__expected(c, t, "a duration", "write a number with a unit: 250ms, 30s, 5m, 1h");
    *ns = dt_next(c).i;
    return DT_OK;
}

DT_API int dt_expect_size(dt_compiler *c, uint64_t *bytes) {
    const dt_token *t;
    if (c->failed) return c->failed;
    if (dt__unit_after_space(c)) return c->failed;
    t = dt_peek(c);
    if (t->kind == DT_TOK_INT && !t->is_unsigned) { *bytes = (uint64_t)dt_next(c).i; return DT_OK; }
    if (t->kind != DT_TOK_SIZE) return dt__expected(c, t, "a size", "write a number of bytes with a unit: 4096, 64KiB, 1MiB");
    *bytes = (uint64_t)dt_next(c).i;
    return DT_OK;
}

DT_API int dt_expect_level(dt_compiler *c, int *level) {
    const dt_token *t;
    if (c->failed) return c->failed;
    t = dt_peek(c);
    if (t->kind == DT_TOK_IDENT && dt_level_parse(t->text.ptr, t->text.len) >= 0) {
        *level = dt_level_parse(t->text.ptr, t->text.len);
        dt_next(c);
        return DT_OK;
    }
    if (t->kind == DT_TOK_INT && !t->is_unsigned && t->i >= 1 && t->i <= 24) { *level = (int)dt_next(c).i; return DT_OK; }
    return dt__expected(c, t, "a level", "levels are trace, debug, info, warn, error, fatal, off (or 1-24)");
}

/* ---- program front end: compiler services ------------------------------ */
DT_API void *dt_compiler_alloc(dt_compiler *c, size_t size) {
    void *p;
    if (c->failed) return NULL;
    p = dt__arena_alloc(&c->p->arena, size);
    if (!p) {
        char hint[128];
        dt__sb b = dt__sb_make(hint, sizeof hint);
        const dt_token *at = c->alloc_at ? c->alloc_at : dt_peek(c);
        if (c->p->arena.oom) {
            dt_compile_error(c, at, DT_ERR_NOMEM, "out of memory while compiling the program",
                             "the host allocator or memory block is exhausted; the running program is unchanged");
            return NULL;
        }
        dt__sb_puts(&b, "the program needs more than max_program_bytes (");
        dt__sb_u64(&b, c->e->desc.max_program_bytes);
        dt__sb_puts(&b, "); make bounds smaller or raise the limit");
        dt_compile_error(c, at, DT_ERR_NOMEM, "program too large for its memory bound", hint);
    }
    return p;
}

DT_API dt_str dt_compiler_strdup(dt_compiler *c, dt_str s) {
    char *p = (char *)dt_compiler_alloc(c, s.len + 1);
    if (!p) return dt_strn("", 0);
    if (s.len) memcpy(p, s.ptr, s.len);
    return dt_strn(p, s.len);
}

DT_API dt_engine *dt_compiler_engine(dt_compiler *c) { return c->e; }

/* The patterns are copied: callers pass arrays on their own stack and keep
 * parsing after they return. Out of memory: no scope (no schema checks). */
DT_API void dt_compiler_scope(dt_compiler *c, const dt_pattern *patterns, uint32_t n) {
    dt_pattern *copy = NULL;
    if (n && patterns && (copy = (dt_pattern *)dt_compiler_alloc(c, sizeof(dt_pattern) * n)) != NULL)
        memcpy(copy, patterns, sizeof(dt_pattern) * n);
    c->scope = copy;
    c->nscope = copy ? n : 0;
}

/* Grows one of the compiler's temporary lists (in the arena: freed with a
 * failed program, abandoned to the arena when moved). */
static void *dt__grow(dt_compiler *c, void *items, uint32_t n, uint32_t *cap, size_t size) {
    void *bigger;
    if (n < *cap) return items;
    if (*cap >= 0x10000000u) { dt_compile_error(c, dt_peek(c), DT_ERR_LIMIT, "too many items in one program", NULL); return NULL; }
    bigger = dt_compiler_alloc(c, size * (*cap ? *cap * 2u : 8u));
    if (!bigger) return NULL;
    if (n) memcpy(bigger, items, size * n);
    *cap = *cap ? *cap * 2u : 8u;
    return bigger;
}
#define DT__PUSH(c, arr, n, cap) \
    (((c)->grown = dt__grow((c), (arr), (n), &(cap), sizeof *(arr))) != NULL && (((arr) = DT__TYPEOF_CAST(arr)(c)->grown), 1))
#ifdef __cplusplus
#define DT__TYPEOF_CAST(arr) (decltype(arr))
#else
#define DT__TYPEOF_CAST(arr)
#endif

/* Exact patterns compare the name as well as the id: two names whose
 * durable IDs collide must never share a rule silently. */
static int dt__pattern_matches(const dt_pattern *p, uint64_t id, dt_str name) {
    if (!p->prefix) return p->id == id && dt__str_eq(p->text, name);
    return dt__starts(name, p->text);
}

static dt__reg_event *dt__reg_find_locked(dt_engine *e, uint64_t id) {
    dt__reg_event *r;
    dt__lock_take(&e->lock, &e->desc.lock);
    r = dt__reg_find(e, id);
    dt__lock_give(&e->lock, &e->desc.lock);
    return r;
}

/* Levenshtein distance, capped: for "did you mean" hints. */
static size_t dt__distance(dt_str a, dt_str b) {
    size_t row[DT_MAX_NAME + 1], i, j;
    if (a.len > DT_MAX_NAME || b.len > DT_MAX_NAME) return SIZE_MAX;
    for (j = 0; j <= b.len; j++) row[j] = j;
    for (i = 1; i <= a.len; i++) {
        size_t diag = row[0];
        row[0] = i;
        for (j = 1; j <= b.len; j++) {
            size_t up = row[j], best = diag + (a.ptr[i - 1] != b.ptr[j - 1]);
            if (up + 1 < best) best = up + 1;
            if (row[j - 1] + 1 < best) best = row[j - 1] + 1;
            row[j] = best;
            diag = up;
        }
    }
    return row[b.len];
}

static int dt__unknown_event(dt_compiler *c, const dt_token *at, dt_str name) {
    char hint[200];
    dt__sb h = dt__sb_make(hint, sizeof hint);
    size_t best = SIZE_MAX;
    uint32_t i, pick = 0;
    dt__lock_take(&c->e->lock, &c->e->desc.lock);
    for (i = 0; i < c->e->nevents; i++) {
        size_t d = dt__distance(name, c->e->events[i].name);
        if (d < best) { best = d; pick = i; }
    }
    if (best <= 3) {
        dt__sb_puts(&h, "did you mean '");
        dt__sb_str(&h, c->e->events[pick].name);
        dt__sb_puts(&h, "'?");
    } else {
        dt__sb_puts(&h, "the event catalog has no such event; check the name or use a prefix pattern like Name*");
    }
    dt__lock_give(&c->e->lock, &c->e->desc.lock);
    return dt__errq(c, at, DT_ERR_UNKNOWN, "unknown event ", name, "", hint);
}

/* pattern := '*' | NAME ['*'] | STRING (a trailing '*' makes a prefix) */
DT_API int dt_expect_pattern(dt_compiler *c, dt_pattern *out) {
    dt_token t;
    dt_str text;
    if (c->failed) return c->failed;
    memset(out, 0, sizeof *out);
    t = *dt_peek(c);
    out->line = t.line;
    out->column = t.column;
    if (dt_is(&t, "*")) { dt_next(c); out->prefix = 1; out->text = dt_strn("", 0); return DT_OK; }
    if (t.kind == DT_TOK_STRING) {
        dt_next(c);
        if (dt__decode_string(c, &t, &text) != DT_OK) return c->failed;
    } else if (t.kind == DT_TOK_IDENT) {
        dt_next(c);
        text = t.text;
    } else {
        return dt__expected(c, &t, "an event name or pattern", "write Name, a prefix Name*, or * for every event");
    }
    if (t.kind == DT_TOK_IDENT && dt_is(dt_peek(c), "*") && dt_peek(c)->joined) { dt_next(c); out->prefix = 1; }
    if (text.len && text.ptr[text.len - 1] == '*' && t.kind == DT_TOK_STRING) { text.len--; out->prefix = 1; }
    if ((!out->prefix && text.len == 0) || text.len > DT_MAX_NAME)
        return dt_compile_error(c, &t, DT_ERR_SYNTAX, "event names are 1 to DT_MAX_NAME bytes", NULL);
    out->text = dt_compiler_strdup(c, text);
    if (!out->prefix) {
        out->id = dt_id_n(text.ptr, text.len);
        if (c->e->desc.strict_events && !dt__reg_find_locked(c->e, out->id)) return dt__unknown_event(c, &t, text);
    }
    return c->failed;
}

DT_API int dt_subscribe(dt_compiler *c, dt_block *b, const dt_pattern *p, int tag) {
    dt__sub *s;
    if (c->failed) return c->failed;
    if (!DT__PUSH(c, c->subs, c->nsubs, c->cap_subs)) return c->failed;
    s = &c->subs[c->nsubs++];
    s->block = b;
    s->tag = tag;
    s->pattern = *p;
    return DT_OK;
}

/* Two patterns that some name matches both. */
static int dt__patterns_overlap(const dt_pattern *a, const dt_pattern *b) {
    if (!a->prefix && !b->prefix) return dt__str_eq(a->text, b->text);
    if (a->prefix && dt__starts(b->text, a->text)) return 1;
    return b->prefix && dt__starts(a->text, b->text);
}

DT_API int dt_compiler_drop(dt_compiler *c, const dt_pattern *p) {
    uint32_t i;
    if (c->failed) return 0;
    for (i = 0; i < c->nsubs; i++)          /* earlier drops may overlap: dropping twice is dropping */
        if (c->subs[i].block && dt__patterns_overlap(&c->subs[i].pattern, p)) return 0;
    if (!DT__PUSH(c, c->subs, c->nsubs, c->cap_subs)) return 0;
    memset(&c->subs[c->nsubs], 0, sizeof c->subs[0]);
    c->subs[c->nsubs++].pattern = *p;           /* block NULL: a drop */
    return 1;
}

DT_API int dt_compiler_risk(dt_compiler *c, int risk, const dt_token *at, const char *what) {
    if (risk > c->risk) {
        c->risk = risk;
        if (at) c->risk_at = *at;
        c->risk_what = what;
    }
    return DT_OK;
}

DT_API int dt_compiler_action(dt_compiler *c, const dt_token *name, dt_action_ref *out) {
    dt_engine *e = c->e;
    uint32_t i;
    int found = -1, risk = 0;
    dt__lock_take(&e->lock, &e->desc.lock);
    for (i = 0; i < e->nactions; i++)
        if (dt__str_eqc(name->text, e->actions[i].name)) { found = (int)i; risk = e->actions[i].risk; }
    dt__lock_give(&e->lock, &e->desc.lock);
    if (found < 0) {
        char hint[200];
        dt__sb h = dt__sb_make(hint, sizeof hint);
        dt__sb_puts(&h, "registered actions:");
        dt__lock_take(&e->lock, &e->desc.lock);
        for (i = 0; i < e->nactions; i++) { dt__sb_puts(&h, i ? ", " : " "); dt__sb_puts(&h, e->actions[i].name); }
        dt__lock_give(&e->lock, &e->desc.lock);
        return dt__errq(c, name, DT_ERR_UNKNOWN, "unknown action ", name->text, "", hint);
    }
    out->index = found;
    dt_compiler_risk(c, risk, name, "action");
    return DT_OK;
}

DT_API void dt_block_set_state(dt_block *b, void *state) { b->state = state; }
DT_API void *dt_block_state(const dt_block *b) { return b->state; }
DT_API dt_str dt_block_name(const dt_block *b) { return b->name; }
DT_API uint64_t dt_block_hash(const dt_block *b) { return b->hash; }
DT_API void dt_block_set_name(dt_block *b, dt_str name) { b->name = name; }

/* ---- the expression language: parser ----------------------------------- */
enum {
    DT__E_LIT, DT__E_FIELD, DT__E_NAME, DT__E_LEVEL, DT__E_TS, DT__E_TID,
    DT__E_NOT, DT__E_NEG, DT__E_AND, DT__E_OR, DT__E_CMP, DT__E_ARITH,
    DT__E_IN, DT__E_BETWEEN, DT__E_STR, DT__E_CALL
};
enum { DT__EQ, DT__NE, DT__LT, DT__LE, DT__GT, DT__GE, DT__IEQ, DT__INE };
enum { DT__ADD, DT__SUB, DT__MUL, DT__DIV, DT__MOD };
enum { DT__CONTAINS, DT__STARTS, DT__ENDS, DT__HAS, DT__MATCHES };

struct dt_expr {
    int kind, op;
    int height;              /* 1 + the tallest child: evaluation recurses this deep */
    int negate;              /* !in, !contains, ... */
    int case_sensitive;      /* string tests: the _cs forms */
    dt_type type;            /* static type, DT_TYPE_NULL when unknown */
    dt_value lit;
    dt_str name;             /* field name */
    dt_expr *a, *b;
    dt_expr **args;
    uint32_t nargs;
    int32_t fn;              /* function index */
    const struct dt__glob *glob; /* matches: the compiled pattern */
    dt_token at;
};

static int dt__parse_or(dt_compiler *c, dt_expr **out);

/* Every composite node checks its height: `x + x + ... + x` nests one level
 * per operator, and evaluation recurses per level, so the bound keeps a
 * legal program from overflowing an emitting thread's stack. */
static int dt__height(dt_compiler *c, dt_expr *e) {
    int h = 0;
    uint32_t i;
    if (e->a && e->a->height > h) h = e->a->height;
    if (e->b && e->b->height > h) h = e->b->height;
    for (i = 0; i < e->nargs; i++) if (e->args[i]->height > h) h = e->args[i]->height;
    e->height = h + 1;
    if (e->height <= DT_MAX_EXPR_HEIGHT) return DT_OK;
    return dt_compile_error(c, &e->at, DT_ERR_LIMIT, "expression too deep to evaluate safely",
                            "split it into several conditions, or use in (...) for long lists");
}

static dt_expr *dt__node(dt_compiler *c, int kind, const dt_token *at) {
    dt_expr *e = (dt_expr *)dt_compiler_alloc(c, sizeof *e);
    if (!e) return NULL;
    e->kind = kind;
    e->at = *at;
    e->height = 1;
    return e;
}

static int dt__is_num(dt_type t) { return t == DT_TYPE_I64 || t == DT_TYPE_U64 || t == DT_TYPE_F64; }

static int dt__type_err(dt_compiler *c, const dt_token *at, const char *pre, dt_type a, const char *mid, dt_type b,
                        const char *hint) {
    char msg[160];
    dt__sb m = dt__sb_make(msg, sizeof msg);
    dt__sb_puts(&m, pre);
    dt__sb_puts(&m, dt_type_name((int)a));
    if (mid) { dt__sb_puts(&m, mid); dt__sb_puts(&m, dt_type_name((int)b)); }
    return dt_compile_error(c, at, DT_ERR_TYPE, msg, hint);
}

/* A field's type if every scoped event with a schema agrees; NULL when
 * unknown. An exact scoped event whose schema lacks the field is an error. */
static int dt__field_type(dt_compiler *c, const dt_token *at, dt_str name, dt_type *type) {
    uint32_t i, k;
    int known = 0;
    *type = DT_TYPE_NULL;
    for (i = 0; i < c->nscope; i++) {
        dt__reg_event *r;
        int found = 0;
        if (c->scope[i].prefix) return DT_OK;                 /* a prefix may cover unknown events */
        r = dt__reg_find_locked(c->e, c->scope[i].id);
        if (!r || !dt__reg_has_schema(r)) return DT_OK;
        for (k = 0; k < r->nfields; k++) {
            if (!dt__str_eqc(name, r->fields[k].name)) continue;
            found = 1;
            if (known && *type != r->fields[k].type) { *type = DT_TYPE_NULL; return DT_OK; }
            *type = r->fields[k].type;
            known = 1;
        }
        if (!found) {
            char hint[200];
            dt__sb h = dt__sb_make(hint, sizeof hint);
            dt__sb_puts(&h, "its fields are:");
            for (k = 0; k < r->nfields; k++) { dt__sb_puts(&h, k ? ", " : " "); dt__sb_puts(&h, r->fields[k].name); }
            if (!r->nfields) dt__sb_puts(&h, " (none)");
            return dt__errq(c, at, DT_ERR_UNKNOWN, "event has no field ", name, "", hint);
        }
    }
    return DT_OK;
}

DT_API int dt_compiler_field(dt_compiler *c, const dt_token *at, dt_str name, dt_type *type) {
    dt_type local;
    if (c->failed) return c->failed;
    return dt__field_type(c, at, name, type ? type : &local);
}

static int dt__find_function(dt_engine *e, dt_str name) {
    uint32_t i;
    int found = -1;
    dt__lock_take(&e->lock, &e->desc.lock);
    for (i = 0; i < e->nfunctions; i++) if (dt__str_eqc(name, e->functions[i].name)) found = (int)i;
    dt__lock_give(&e->lock, &e->desc.lock);
    return found;
}

static int dt__parse_call(dt_compiler *c, const dt_token *name, dt_expr **out) {
    dt_expr *e, *args[DT_MAX_ACTION_ARGS];
    dt__function *f;
    uint32_t n = 0;
    int idx;
    dt_next(c);                                                  /* ( */
    if (dt__str_eqc(name->text, "field")) {                      /* field("level"): any field by name */
        dt_str fname;
        if (dt_expect_string(c, &fname, "a field name in quotes") || dt_expect(c, ")", NULL)) return c->failed;
        if (!(e = dt__node(c, DT__E_FIELD, name))) return c->failed;
        e->name = fname;
        *out = e;
        return dt__field_type(c, name, fname, &e->type);
    }
    idx = dt__find_function(c->e, name->text);
    if (idx < 0) return dt__errq(c, name, DT_ERR_UNKNOWN, "unknown function ", name->text, "",
                                 "functions: isnull, isnotnull, strlen, field, and those the host registers");
    while (!dt_is(dt_peek(c), ")") && !c->failed) {
        if (n == DT_MAX_ACTION_ARGS) return dt_compile_error(c, dt_peek(c), DT_ERR_LIMIT, "too many arguments", NULL);
        if (dt__parse_or(c, &args[n++])) return c->failed;
        if (!dt_accept(c, ",")) break;
    }
    if (dt_expect(c, ")", "close the argument list")) return c->failed;
    f = &c->e->functions[idx];
    if (n < f->d.min_args || n > f->d.max_args)
        return dt__errq(c, name, DT_ERR_TYPE, "wrong number of arguments to ", name->text, "", NULL);
    if (!(e = dt__node(c, DT__E_CALL, name))) return c->failed;
    e->fn = idx;
    e->type = f->d.result;
    e->nargs = n;
    e->args = (dt_expr **)dt_compiler_alloc(c, sizeof(dt_expr *) * (n ? n : 1));
    if (!e->args) return c->failed;
    memcpy(e->args, args, sizeof(dt_expr *) * n);
    dt_compiler_risk(c, (int)f->d.risk, name, "function");
    *out = e;
    return dt__height(c, e);
}

static int dt__parse_ident(dt_compiler *c, dt_expr **out) {
    dt_token t = dt_next(c);
    dt_expr *e;
    int lvl;
    static const struct { const char *word; int kind; dt_type type; } builtins[] = {
        {"name", DT__E_NAME, DT_TYPE_STR}, {"level", DT__E_LEVEL, DT_TYPE_I64},
        {"ts", DT__E_TS, DT_TYPE_I64}, {"tid", DT__E_TID, DT_TYPE_U64}
    };
    size_t i;
    if (dt_is(dt_peek(c), "(") && dt_peek(c)->joined) return dt__parse_call(c, &t, out);
    if (!(e = dt__node(c, DT__E_LIT, &t))) return c->failed;
    *out = e;
    if (dt__str_eqc(t.text, "true") || dt__str_eqc(t.text, "false")) {
        e->type = e->lit.type = DT_TYPE_BOOL;
        e->lit.as.b = dt__str_eqc(t.text, "true");
        return DT_OK;
    }
    if (dt__str_eqc(t.text, "null")) return DT_OK;
    lvl = dt_level_parse(t.text.ptr, t.text.len);
    if (lvl >= 0 && t.text.ptr[0] >= 'a') {                    /* level names are lower-case constants */
        e->type = e->lit.type = DT_TYPE_I64;
        e->lit.as.i64 = lvl;
        return DT_OK;
    }
    for (i = 0; i < sizeof builtins / sizeof builtins[0]; i++)
        if (dt__str_eqc(t.text, builtins[i].word)) { e->kind = builtins[i].kind; e->type = builtins[i].type; return DT_OK; }
    e->kind = DT__E_FIELD;
    e->name = dt_compiler_strdup(c, t.text);
    return dt__field_type(c, &t, t.text, &e->type);
}

static int dt__parse_primary(dt_compiler *c, dt_expr **out) {
    const dt_token *p = dt_peek(c);
    dt_token t;
    dt_expr *e;
    if (c->failed) return c->failed;
    if (++c->depth > DT_MAX_EXPR_DEPTH)
        return dt_compile_error(c, p, DT_ERR_LIMIT, "expression nested too deeply", "split it into simpler conditions");
    if (p->kind == DT_TOK_IDENT) { int rc = dt__parse_ident(c, out); c->depth--; return rc; }
    if (dt_is(p, "(")) {
        dt_next(c);
        if (dt__parse_or(c, out) == DT_OK) dt_expect(c, ")", "close the parenthesis");
        c->depth--;
        return c->failed;
    }
    t = dt_next(c);
    if (c->failed) return c->failed;
    if (!(e = dt__node(c, DT__E_LIT, &t))) return c->failed;
    switch (t.kind) {
    case DT_TOK_INT: case DT_TOK_DURATION: case DT_TOK_SIZE:
        if (t.is_unsigned) { e->lit.type = DT_TYPE_U64; e->lit.as.u64 = t.u; }
        else { e->lit.type = DT_TYPE_I64; e->lit.as.i64 = t.i; }
        break;
    case DT_TOK_FLOAT: e->lit.type = DT_TYPE_F64; e->lit.as.f64 = t.f; break;
    case DT_TOK_STRING:
        e->lit.type = DT_TYPE_STR;
        if (dt__decode_string(c, &t, &e->lit.as.str)) return c->failed;
        break;
    default:
        return dt__expected(c, &t, "a value", "values are numbers, \"strings\", durations (5m), sizes (4KiB), field names, true/false/null");
    }
    e->type = e->lit.type;
    *out = e;
    c->depth--;
    return DT_OK;
}

static int dt__parse_unary(dt_compiler *c, dt_expr **out) {
    dt_token t = *dt_peek(c);
    dt_expr *e;
    if (c->failed) return c->failed;
    if (!dt_is(&t, "-")) return dt__parse_primary(c, out);
    dt_next(c);
    if (++c->depth > DT_MAX_EXPR_DEPTH) return dt_compile_error(c, &t, DT_ERR_LIMIT, "expression nested too deeply", NULL);
    if (!(e = dt__node(c, DT__E_NEG, &t)) || dt__parse_unary(c, &e->a)) return c->failed;
    c->depth--;
    if (e->a->type && !dt__is_num(e->a->type)) return dt__type_err(c, &t, "cannot negate a ", e->a->type, NULL, DT_TYPE_NULL, NULL);
    e->type = e->a->type == DT_TYPE_U64 ? DT_TYPE_I64 : e->a->type;
    *out = e;
    return dt__height(c, e);
}

static dt_type dt__arith_type(dt_type a, dt_type b) {
    if (a == DT_TYPE_F64 || b == DT_TYPE_F64) return (a && b) ? DT_TYPE_F64 : DT_TYPE_NULL;
    if (a == DT_TYPE_U64 && b == DT_TYPE_U64) return DT_TYPE_U64;
    return (a && b) ? DT_TYPE_I64 : DT_TYPE_NULL;
}

/* Left-associative binary levels share one loop; ops lists their tokens. */
static int dt__parse_binary(dt_compiler *c, dt_expr **out, const char *const *ops, int nops,
                            int (*next)(dt_compiler *, dt_expr **)) {
    dt_expr *lhs;
    if (next(c, &lhs)) return c->failed;
    for (;;) {
        int i, op = -1;
        dt_token t = *dt_peek(c);
        dt_expr *e;
        for (i = 0; i < nops; i++) if (dt_is(&t, ops[i])) op = i;
        if (op < 0) break;
        dt_next(c);
        if (!(e = dt__node(c, DT__E_ARITH, &t))) return c->failed;
        e->a = lhs;
        if (next(c, &e->b)) return c->failed;
        e->op = (nops == 2) ? op : DT__MUL + op;
        if ((e->a->type && !dt__is_num(e->a->type)) || (e->b->type && !dt__is_num(e->b->type)))
            return dt__type_err(c, &t, "arithmetic needs numbers, not ", e->a->type && !dt__is_num(e->a->type) ? e->a->type : e->b->type,
                                NULL, DT_TYPE_NULL, "compare strings with ==, contains or startswith");
        e->type = dt__arith_type(e->a->type, e->b->type);
        if (e->op == DT__MOD && e->type == DT_TYPE_F64)
            return dt_compile_error(c, &t, DT_ERR_TYPE, "% needs integers", "use integer fields or literals with %");
        if (dt__height(c, e)) return c->failed;
        lhs = e;
    }
    *out = lhs;
    return DT_OK;
}

static int dt__parse_mul(dt_compiler *c, dt_expr **out) {
    static const char *const ops[] = {"*", "/", "%"};
    return dt__parse_binary(c, out, ops, 3, dt__parse_unary);
}
static int dt__parse_add(dt_compiler *c, dt_expr **out) {
    static const char *const ops[] = {"+", "-"};
    return dt__parse_binary(c, out, ops, 2, dt__parse_mul);
}

static int dt__comparable(dt_type a, dt_type b, int ordered) {
    if (!a || !b) return 1;
    if (dt__is_num(a) && dt__is_num(b)) return 1;
    if (a != b) return 0;
    return !(ordered && a == DT_TYPE_BOOL);
}

static const char *const dt__cmp_ops[] = {"==", "!=", "<", "<=", ">", ">=", "=~", "!~"};

static int dt__parse_list(dt_compiler *c, dt_expr *e) {
    dt_expr *items[DT_MAX_EXPR_LIST];
    uint32_t n = 0;
    if (dt_expect(c, "(", "write a list in parentheses: x in (1, 2, 3)")) return c->failed;
    do {
        if (n == DT_MAX_EXPR_LIST) return dt_compile_error(c, dt_peek(c), DT_ERR_LIMIT, "too many items in one list",
                                                           "split the list (DT_MAX_EXPR_LIST items at most)");
        if (dt__parse_add(c, &items[n])) return c->failed;
        if (!dt__comparable(e->a->type, items[n]->type, 0))
            return dt__type_err(c, &items[n]->at, "list item is ", items[n]->type, ", the value is ", e->a->type, NULL);
        n++;
    } while (dt_accept(c, ","));
    if (dt_expect(c, ")", "close the list")) return c->failed;
    e->args = (dt_expr **)dt_compiler_alloc(c, sizeof(dt_expr *) * n);
    if (!e->args) return c->failed;
    memcpy(e->args, items, sizeof(dt_expr *) * n);
    e->nargs = n;
    return DT_OK;
}

/* String tests: contains, startswith, endswith, has, matches; _cs forms are
 * case-sensitive; a leading '!' negates (KQL's !contains). */
static int dt__string_op(dt_str w, int *op, int *cs) {
    static const char *const names[] = {"contains", "startswith", "endswith", "has", "matches"};
    int i;
    *cs = 0;
    if (w.len > 3 && memcmp(w.ptr + w.len - 3, "_cs", 3) == 0) { *cs = 1; w.len -= 3; }
    for (i = 0; i < 5; i++) if (dt__str_eqc(w, names[i])) { *op = i; return 1; }
    return 0;
}

/* `matches`: a glob (`*` any run, `?` any byte) run as a bit-parallel NFA,
 * one shift-and step per byte of the text: linear time whatever the pattern,
 * so no program can make a match backtrack. State bit j: the first j pattern
 * bytes are matched. At most 63 pattern bytes. */
#define DT__GLOB_MAX 63
typedef struct dt__glob {
    uint64_t byte[256];      /* bit j: pattern byte j (1-based) accepts this byte */
    uint64_t star;           /* bit j: pattern byte j is '*' (loops on any byte) */
    int m;                   /* pattern length after collapsing runs of '*' */
} dt__glob;

static int dt__glob_compile(dt_compiler *c, const dt_token *at, dt_str pat, int cs, dt__glob **out) {
    dt__glob *g;
    size_t i;
    int j = 0, k;
    if (!(g = (dt__glob *)dt_compiler_alloc(c, sizeof *g))) return c->failed;
    for (i = 0; i < pat.len; i++) {
        unsigned char ch = (unsigned char)pat.ptr[i];
        if (ch == '*' && j > 0 && (g->star >> j & 1u)) continue;       /* ** is * */
        if (++j > DT__GLOB_MAX)
            return dt_compile_error(c, at, DT_ERR_LIMIT, "matches pattern too long (at most 63 bytes)", NULL);
        if (ch == '*') { g->star |= (uint64_t)1 << j; continue; }
        for (k = 0; k < 256; k++) {
            int hit = ch == '?' || k == ch || (!cs && dt__lower((char)k) == dt__lower((char)ch));
            if (hit) g->byte[k] |= (uint64_t)1 << j;
        }
    }
    g->m = j;
    *out = g;
    return DT_OK;
}


static int dt__parse_cmp(dt_compiler *c, dt_expr **out) {
    dt_expr *lhs, *e;
    dt_token t;
    int i, negate = 0, sop, cs;
    if (dt__parse_add(c, &lhs)) return c->failed;
    t = *dt_peek(c);
    if (dt_is(&t, "!") && dt_peek2(c)->kind == DT_TOK_IDENT && dt_peek2(c)->joined) { dt_next(c); negate = 1; t = *dt_peek(c); }
    if (!(e = dt__node(c, DT__E_CMP, &t))) return c->failed;
    e->a = lhs;
    e->negate = negate;
    e->type = DT_TYPE_BOOL;
    if (t.kind == DT_TOK_IDENT && (dt__str_eqc(t.text, "in") || dt__str_eqc(t.text, "between"))) {
        e->kind = dt__str_eqc(t.text, "in") ? DT__E_IN : DT__E_BETWEEN;
        dt_next(c);
        if (e->kind == DT__E_IN) { if (dt__parse_list(c, e)) return c->failed; *out = e; return dt__height(c, e); }
        if (dt_expect(c, "(", "write between (low .. high)") || dt__parse_add(c, &e->b) ||
            dt_expect(c, "..", "write between (low .. high)")) return c->failed;
        e->args = (dt_expr **)dt_compiler_alloc(c, sizeof(dt_expr *));
        if (!e->args || dt__parse_add(c, &e->args[0]) || dt_expect(c, ")", NULL)) return c->failed;
        if (!dt__comparable(lhs->type, e->b->type, 1) || !dt__comparable(lhs->type, e->args[0]->type, 1))
            return dt__type_err(c, &t, "between needs bounds of the value's type, ", lhs->type, NULL, DT_TYPE_NULL, NULL);
        e->nargs = 1;                            /* args[0] is the upper bound */
        *out = e;
        return dt__height(c, e);
    }
    if (t.kind == DT_TOK_IDENT && dt__string_op(t.text, &sop, &cs)) {
        dt_next(c);
        e->kind = DT__E_STR;
        e->op = sop;
        e->case_sensitive = cs;
        if (dt__parse_add(c, &e->b)) return c->failed;
        if ((lhs->type && lhs->type != DT_TYPE_STR) || (e->b->type && e->b->type != DT_TYPE_STR))
            return dt__type_err(c, &t, "string tests need strings, not ", lhs->type && lhs->type != DT_TYPE_STR ? lhs->type : e->b->type,
                                NULL, DT_TYPE_NULL, NULL);
        if (sop == DT__MATCHES) {
            dt__glob *g = NULL;
            if (e->b->kind != DT__E_LIT || e->b->lit.type != DT_TYPE_STR)
                return dt_compile_error(c, &e->b->at, DT_ERR_TYPE, "matches needs a pattern in quotes",
                                        "for example: path matches \"*.tmp\"");
            if (dt__glob_compile(c, &e->b->at, e->b->lit.as.str, cs, &g)) return c->failed;
            e->glob = g;
        }
        *out = e;
        return dt__height(c, e);
    }
    if (negate) return dt__expected(c, &t, "in, contains, startswith or endswith after '!'", NULL);
    for (i = 0; i < 8; i++) if (dt_is(&t, dt__cmp_ops[i])) break;
    if (i == 8) { *out = lhs; return DT_OK; }
    dt_next(c);
    e->op = i;
    if (dt__parse_add(c, &e->b)) return c->failed;
    if (i >= DT__IEQ && ((lhs->type && lhs->type != DT_TYPE_STR) || (e->b->type && e->b->type != DT_TYPE_STR)))
        return dt_compile_error(c, &t, DT_ERR_TYPE, "=~ and !~ compare strings ignoring case", NULL);
    if (!dt__comparable(lhs->type, e->b->type, i >= DT__LT && i <= DT__GE))
        return dt__type_err(c, &t, "cannot compare ", lhs->type, " with ", e->b->type,
                            "compare like with like: numbers with numbers, strings with strings");
    *out = e;
    return dt__height(c, e);
}

static int dt__want_bool(dt_compiler *c, const dt_expr *e) {
    if (e->type && e->type != DT_TYPE_BOOL)
        return dt__type_err(c, &e->at, "expected a condition, found a value of type ", e->type, NULL, DT_TYPE_NULL,
                            "compare it, for example: x > 0, or name == \"text\"");
    /* arithmetic on a field of unknown type is still a number, never a condition */
    if (e->kind == DT__E_ARITH || e->kind == DT__E_NEG)
        return dt_compile_error(c, &e->at, DT_ERR_TYPE, "expected a condition, found a number",
                                "compare it, for example: x * 2 > 10");
    return DT_OK;
}

static int dt__parse_not(dt_compiler *c, dt_expr **out) {
    dt_token t = *dt_peek(c);
    dt_expr *e;
    if (c->failed) return c->failed;
    if (!dt_is(&t, "not") && !(dt_is(&t, "!") && !dt_is(dt_peek2(c), "="))) return dt__parse_cmp(c, out);
    dt_next(c);
    if (++c->depth > DT_MAX_EXPR_DEPTH) return dt_compile_error(c, &t, DT_ERR_LIMIT, "expression nested too deeply", NULL);
    if (!(e = dt__node(c, DT__E_NOT, &t)) || dt__parse_not(c, &e->a) || dt__want_bool(c, e->a)) return c->failed;
    c->depth--;
    e->type = DT_TYPE_BOOL;
    *out = e;
    return dt__height(c, e);
}

/* `a and b and c` is one node with a list, evaluated in a loop: long
 * chains of conditions are common and must not nest. */
static int dt__parse_logic(dt_compiler *c, dt_expr **out, const char *word, const char *sym, int kind,
                           int (*next)(dt_compiler *, dt_expr **)) {
    dt_expr *items[DT_MAX_EXPR_LIST], *e;
    dt_token first;
    uint32_t n = 1;
    if (next(c, &items[0])) return c->failed;
    first = *dt_peek(c);
    while (dt_is(dt_peek(c), word) || dt_is(dt_peek(c), sym)) {
        dt_token t = dt_next(c);
        if (n == DT_MAX_EXPR_LIST)
            return dt_compile_error(c, &t, DT_ERR_LIMIT, "too many conditions in one and/or chain",
                                    "use in (...) for lists of values, or split the rule");
        if (next(c, &items[n])) return c->failed;
        n++;
    }
    if (n == 1) { *out = items[0]; return DT_OK; }
    if (!(e = dt__node(c, kind, &first))) return c->failed;
    e->type = DT_TYPE_BOOL;
    e->nargs = n;
    if (!(e->args = (dt_expr **)dt_compiler_alloc(c, sizeof(dt_expr *) * n))) return c->failed;
    memcpy(e->args, items, sizeof(dt_expr *) * n);
    for (n = 0; n < e->nargs; n++) if (dt__want_bool(c, e->args[n])) return c->failed;
    *out = e;
    return dt__height(c, e);
}
static int dt__parse_and(dt_compiler *c, dt_expr **out) { return dt__parse_logic(c, out, "and", "&&", DT__E_AND, dt__parse_not); }
static int dt__parse_or(dt_compiler *c, dt_expr **out) { return dt__parse_logic(c, out, "or", "||", DT__E_OR, dt__parse_and); }

DT_API int dt_parse_expr(dt_compiler *c, dt_expr **out) {
    *out = NULL;
    if (c->failed) return c->failed;
    c->depth = 0;
    return dt__parse_or(c, out);
}

DT_API int dt_parse_condition(dt_compiler *c, dt_expr **out) {
    if (dt_parse_expr(c, out)) return c->failed;
    return dt__want_bool(c, *out);
}

DT_API dt_type dt_expr_type(const dt_expr *e) { return e ? e->type : DT_TYPE_NULL; }

/* ---- event handling context -------------------------------------------- */
typedef struct dt__inline_call {     /* host actions run after the read section */
    int32_t action;
    uint32_t nargs;
    dt_value args[DT_MAX_ACTION_ARGS];
    char bytes[DT_PENDING_ARG_BYTES];
    const dt_event *trigger;
    int64_t ts;
} dt__inline_call;

typedef struct dt__after {           /* shared by an event and the events it emits */
    dt__inline_call calls[DT_MAX_INLINE_ACTIONS];
    uint32_t n;
} dt__after;

struct dt_exec {
    dt_engine *e;
    dt__program *p;
    dt__slot sl;
    dt_event ev;
    int64_t now;                     /* the event's time, or engine time when it has none */
    dt_field own[DT_MAX_FIELDS];     /* the private copy made on first edit */
    int owned, dropped, depth;
    dt_block *block;                 /* the block being run, for budgets */
    dt_block *block_last;            /* whose budget steps counts */
    uint32_t steps;
    int tripped;
    dt__after *after;
    size_t arena_used;
    char arena[DT_EXEC_ARENA];
};

static DT__TLS dt_exec *dt__tls_exec;   /* for the emit built-in: nested emits stay depth-limited */
static void dt__run_after(dt_engine *e, dt__after *after);

/* An exec for a block's work outside any event (tick, flush, hand-over):
 * the event is empty and stamped `now`. */
static void dt__exec_init(dt_exec *x, dt_engine *e, dt__program *p, dt__slot sl, dt__after *after, dt_block *b,
                          int64_t now) {
    memset(x, 0, offsetof(dt_exec, arena));
    x->e = e; x->p = p; x->sl = sl; x->after = after; x->block = b;
    x->ev.ts = now;
    x->now = now;
}

DT_API const dt_event *dt_exec_event(dt_exec *x) { return &x->ev; }
DT_API dt_engine *dt_exec_engine(dt_exec *x) { return x->e; }
DT_API int64_t dt_exec_now(dt_exec *x) { return x->now; }
DT_API void dt_exec_drop(dt_exec *x) { x->dropped = 1; }
DT_API int dt_exec_dropped(dt_exec *x) { return x->dropped; }
DT_API void dt_exec_rule_error(dt_exec *x) { dt__add(x->sl, DT__S_rule_errors, 1); }
DT_API void dt_exec_count_overflow(dt_exec *x) { dt__add(x->sl, DT__S_overflows, 1); }

DT_API void *dt_exec_scratch(dt_exec *x, size_t size) {
    void *p;
    if (size > sizeof x->arena) return NULL;
    size = dt__align(size);
    if (size > sizeof x->arena - x->arena_used) return NULL;
    p = x->arena + x->arena_used;
    x->arena_used += size;
    return p;
}

DT_API const dt_value *dt_exec_field(dt_exec *x, dt_str name) {
    uint32_t i;
    for (i = 0; i < x->ev.nfields; i++)
        if (dt__str_eq(x->ev.fields[i].name, name)) return &x->ev.fields[i].value;
    return NULL;
}

static void dt__exec_own(dt_exec *x) {
    if (x->owned) return;
    if (x->ev.nfields) memcpy(x->own, x->ev.fields, sizeof(dt_field) * x->ev.nfields);
    x->ev.fields = x->own;
    x->owned = 1;
}

DT_API int dt_exec_set_field(dt_exec *x, dt_str name, dt_value v) {
    uint32_t i;
    dt__exec_own(x);
    for (i = 0; i < x->ev.nfields; i++)
        if (dt__str_eq(x->own[i].name, name)) { x->own[i].value = v; return DT_OK; }
    if (x->ev.nfields >= DT_MAX_FIELDS) { dt__add(x->sl, DT__S_overflows, 1); return DT_ERR_LIMIT; }
    x->own[x->ev.nfields].name = name;
    x->own[x->ev.nfields].value = v;
    x->ev.nfields++;
    return DT_OK;
}

DT_API int dt_exec_remove_field(dt_exec *x, dt_str name) {
    uint32_t i;
    dt__exec_own(x);
    for (i = 0; i < x->ev.nfields; i++)
        if (dt__str_eq(x->own[i].name, name)) {
            memmove(&x->own[i], &x->own[i + 1], sizeof(dt_field) * (x->ev.nfields - i - 1));
            x->ev.nfields--;
            return DT_OK;
        }
    return DT_ERR_UNKNOWN;
}

static void dt__block_trip(dt_exec *x) {
    char msg[160];
    dt__sb b = dt__sb_make(msg, sizeof msg);
    x->tripped = 1;
    if (!x->block) return;
    DT__STORE(&x->block->enabled, 0u);
    dt__add(x->sl, DT__S_budget_trips, 1);
    dt__sb_puts(&b, "dt: block '");
    dt__sb_str(&b, x->block->name);
    dt__sb_puts(&b, "' exceeded its budget of ");
    dt__sb_u64(&b, x->e->desc.budget_steps);
    dt__sb_puts(&b, " steps per event and was switched off");
    dt__log(x->e, DT_LOG_WARN, msg);
}

/* The engine's own charges are inlined; processors use dt_exec_charge. */
DT__HOT int dt__charge(dt_exec *x, uint32_t units) {
    if (x->tripped) return 1;
    x->steps += units;
    if (x->steps <= x->e->desc.budget_steps) return 0;
    dt__block_trip(x);
    return 1;
}

DT_API int dt_exec_charge(dt_exec *x, uint32_t units) { return dt__charge(x, units); }
DT_API void dt_exec_new_unit(dt_exec *x) { if (!x->tripped) x->steps = 0; }

/* ---- the expression language: evaluation ------------------------------- */
static dt_value dt__null(void) { dt_value v; v.type = DT_TYPE_NULL; v.as.u64 = 0; return v; }
static dt_value dt__bool(int b) { dt_value v; v.type = DT_TYPE_BOOL; v.as.u64 = 0; v.as.b = b != 0; return v; }
static dt_value dt__i64(int64_t i) { dt_value v; v.type = DT_TYPE_I64; v.as.i64 = i; return v; }
static dt_value dt__u64(uint64_t u) { dt_value v; v.type = DT_TYPE_U64; v.as.u64 = u; return v; }
static dt_value dt__strv(dt_str s) { dt_value v; v.type = DT_TYPE_STR; v.as.str = s; return v; }
static dt_value dt__rule_error(dt_exec *x) { dt_exec_rule_error(x); return dt__null(); }

#if !DT_NO_FLOAT
static dt_value dt__f64(double f) { dt_value v; v.type = DT_TYPE_F64; v.as.f64 = f; return v; }
static double dt__as_f64(dt_value v) {
    return v.type == DT_TYPE_F64 ? v.as.f64 : v.type == DT_TYPE_U64 ? (double)v.as.u64 : (double)v.as.i64;
}
#endif

/* Three-way numeric comparison without losing precision between i64 and
 * u64. Returns -1, 0, 1, or 2 when unordered (NaN). */
static int dt__num_cmp(dt_value a, dt_value b) {
    if (a.type == DT_TYPE_F64 || b.type == DT_TYPE_F64) {
#if DT_NO_FLOAT
        return 2;
#else
        double x = dt__as_f64(a), y = dt__as_f64(b);
        return x < y ? -1 : x > y ? 1 : x == y ? 0 : 2;
#endif
    }
    if (a.type == DT_TYPE_I64 && b.type == DT_TYPE_I64) return a.as.i64 < b.as.i64 ? -1 : a.as.i64 > b.as.i64;
    if (a.type == DT_TYPE_I64 && a.as.i64 < 0) return -1;
    if (b.type == DT_TYPE_I64 && b.as.i64 < 0) return 1;
    return a.as.u64 < b.as.u64 ? -1 : a.as.u64 > b.as.u64;
}

static int dt__bytes_cmp(dt_str a, dt_str b) {
    size_t n = a.len < b.len ? a.len : b.len;
    int r = n ? memcmp(a.ptr, b.ptr, n) : 0;
    if (r) return r < 0 ? -1 : 1;
    return a.len < b.len ? -1 : a.len > b.len;
}

/* Compares two values: -1/0/1, 2 unordered, 3 incomparable types. */
static int dt__value_cmp(dt_value a, dt_value b) {
    if (dt__is_num(a.type) && dt__is_num(b.type)) return dt__num_cmp(a, b);
    if (a.type != b.type) return 3;
    switch (a.type) {
    case DT_TYPE_BOOL: return a.as.b == b.as.b ? 0 : 2;
    case DT_TYPE_STR: case DT_TYPE_BYTES: return dt__bytes_cmp(a.as.str, b.as.str);
    default: return 3;
    }
}

static dt_value dt__cmp_result(int op, int r) {
    switch (op) {
    case DT__EQ: return dt__bool(r == 0);
    case DT__NE: return dt__bool(r != 0);
    case DT__LT: return dt__bool(r == -1);
    case DT__LE: return dt__bool(r == -1 || r == 0);
    case DT__GT: return dt__bool(r == 1);
    default: return dt__bool(r == 1 || r == 0);
    }
}

static dt_value dt__eval_cmp(dt_exec *x, const dt_expr *e, dt_value a, dt_value b) {
    int r;
    if (a.type == DT_TYPE_NULL || b.type == DT_TYPE_NULL) return dt__null();
    if (e->op >= DT__IEQ) {
        if (a.type != DT_TYPE_STR || b.type != DT_TYPE_STR) return dt__rule_error(x);
        return dt__bool(dt__str_ieq(a.as.str, b.as.str) == (e->op == DT__IEQ));
    }
    r = dt__value_cmp(a, b);
    if (r == 3) return dt__rule_error(x);
    if (a.type == DT_TYPE_BOOL && e->op != DT__EQ && e->op != DT__NE) return dt__rule_error(x);
    return dt__cmp_result(e->op, r);
}

static int dt__i64_arith(int op, int64_t a, int64_t b, int64_t *out) {
    switch (op) {
    case DT__ADD: if ((b > 0 && a > INT64_MAX - b) || (b < 0 && a < INT64_MIN - b)) return 0; *out = a + b; return 1;
    case DT__SUB: if ((b < 0 && a > INT64_MAX + b) || (b > 0 && a < INT64_MIN + b)) return 0; *out = a - b; return 1;
    case DT__MUL:
        if (a && b) {
            if (a == -1 && b == INT64_MIN) return 0;
            if (b == -1 && a == INT64_MIN) return 0;
            if ((a > 0) == (b > 0) ? (a > 0 ? a > INT64_MAX / b : a < INT64_MAX / b)
                                   : (a > 0 ? b < INT64_MIN / a : a < INT64_MIN / b)) return 0;
        }
        *out = a * b;
        return 1;
    case DT__DIV: if (!b || (a == INT64_MIN && b == -1)) return 0; *out = a / b; return 1;
    default: if (!b) return 0; *out = b == -1 ? 0 : a % b; return 1;     /* INT64_MIN % -1 traps in C */
    }
}

static int dt__u64_arith(int op, uint64_t a, uint64_t b, uint64_t *out) {
    switch (op) {
    case DT__ADD: if (a > UINT64_MAX - b) return 0; *out = a + b; return 1;
    case DT__SUB: if (b > a) return 0; *out = a - b; return 1;
    case DT__MUL: if (a && b > UINT64_MAX / a) return 0; *out = a * b; return 1;
    case DT__DIV: if (!b) return 0; *out = a / b; return 1;
    default: if (!b) return 0; *out = a % b; return 1;
    }
}

/* Integer arithmetic is exact or an error (overflow, division by zero):
 * counted as a rule error, result null, never undefined behaviour. */
static dt_value dt__eval_arith(dt_exec *x, int op, dt_value a, dt_value b) {
    if (a.type == DT_TYPE_NULL || b.type == DT_TYPE_NULL) return dt__null();
    if (!dt__is_num(a.type) || !dt__is_num(b.type)) return dt__rule_error(x);
    if (a.type == DT_TYPE_F64 || b.type == DT_TYPE_F64) {
#if DT_NO_FLOAT
        return dt__rule_error(x);
#else
        double p = dt__as_f64(a), q = dt__as_f64(b);
        switch (op) {
        case DT__ADD: return dt__f64(p + q);
        case DT__SUB: return dt__f64(p - q);
        case DT__MUL: return dt__f64(p * q);
        case DT__DIV: return dt__f64(p / q);
        default: return dt__rule_error(x);            /* % is for integers: no libm */
        }
#endif
    }
    if (a.type == DT_TYPE_U64 && a.as.u64 <= (uint64_t)INT64_MAX) { a.type = DT_TYPE_I64; }
    if (b.type == DT_TYPE_U64 && b.as.u64 <= (uint64_t)INT64_MAX) { b.type = DT_TYPE_I64; }
    if (a.type == DT_TYPE_I64 && b.type == DT_TYPE_I64) {
        int64_t r;
        return dt__i64_arith(op, a.as.i64, b.as.i64, &r) ? dt__i64(r) : dt__rule_error(x);
    }
    if ((a.type == DT_TYPE_I64 && a.as.i64 < 0) || (b.type == DT_TYPE_I64 && b.as.i64 < 0)) return dt__rule_error(x);
    {
        uint64_t r;
        return dt__u64_arith(op, a.as.u64, b.as.u64, &r) ? dt__u64(r) : dt__rule_error(x);
    }
}

/* -x; also -9223372036854775808, whose literal only fits in u64. */
static dt_value dt__eval_neg(dt_exec *x, dt_value a) {
    if (a.type == DT_TYPE_U64 && a.as.u64 == (uint64_t)1 << 63) return dt__i64(INT64_MIN);
    return dt__eval_arith(x, DT__SUB, dt__i64(0), a);
}

static int dt__find_ci(dt_str h, dt_str n, int cs) {
    size_t i, j;
    if (n.len == 0) return 1;
    if (n.len > h.len) return 0;
    for (i = 0; i + n.len <= h.len; i++) {
        for (j = 0; j < n.len; j++) {
            char a = h.ptr[i + j], b = n.ptr[j];
            if (cs ? a != b : dt__lower(a) != dt__lower(b)) break;
        }
        if (j == n.len) return 1;
    }
    return 0;
}

static int dt__eq_at(dt_str h, size_t off, dt_str n, int cs) {
    return cs ? memcmp(h.ptr + off, n.ptr, n.len) == 0 : dt__str_ieq(dt_strn(h.ptr + off, n.len), n);
}

static int dt__glob_run(const dt__glob *g, dt_str s) {
    uint64_t d = 1, star = g->star;
    size_t i;
    d |= (d << 1) & star;
    for (i = 0; i < s.len && d; i++) {
        d = ((d << 1) & g->byte[(unsigned char)s.ptr[i]]) | (d & star);
        d |= (d << 1) & star;
    }
    return (int)(d >> g->m & 1u);
}

/* `has`: t occurs in s as a whole term, bounded by non-alphanumeric bytes
 * or the ends (KQL's has: "error" has "err" is false). */
static int dt__is_alnum(char ch) {
    return (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9') || (unsigned char)ch >= 0x80;
}
static int dt__has_term(dt_str h, dt_str n, int cs) {
    size_t i;
    if (n.len == 0 || n.len > h.len) return n.len == 0;
    for (i = 0; i + n.len <= h.len; i++) {
        if (i > 0 && dt__is_alnum(h.ptr[i - 1])) continue;
        if (i + n.len < h.len && dt__is_alnum(h.ptr[i + n.len])) continue;
        if (dt__eq_at(h, i, n, cs)) return 1;
    }
    return 0;
}

static dt_value dt__eval_str(dt_exec *x, const dt_expr *e, dt_value a, dt_value b) {
    int r;
    if (a.type == DT_TYPE_NULL || b.type == DT_TYPE_NULL) return dt__null();
    if (a.type != DT_TYPE_STR || b.type != DT_TYPE_STR) return dt__rule_error(x);
    {   /* a naive search does up to haystack x needle compares: charge that */
        uint64_t units = (uint64_t)(a.as.str.len / 64u + 1u) * (uint64_t)(b.as.str.len / 16u + 1u);
        if (e->op == DT__MATCHES) units = (uint64_t)(a.as.str.len / 64u + 1u);
        else if (e->op != DT__CONTAINS && e->op != DT__HAS) units = 1;
        if (dt_exec_charge(x, units > UINT32_MAX ? UINT32_MAX : (uint32_t)units)) return dt__null();
    }
    if (e->op == DT__CONTAINS) r = dt__find_ci(a.as.str, b.as.str, e->case_sensitive);
    else if (e->op == DT__HAS) r = dt__has_term(a.as.str, b.as.str, e->case_sensitive);
    else if (e->op == DT__MATCHES) r = dt__glob_run(e->glob, a.as.str);
    else if (b.as.str.len > a.as.str.len) r = 0;
    else r = dt__eq_at(a.as.str, e->op == DT__STARTS ? 0 : a.as.str.len - b.as.str.len, b.as.str, e->case_sensitive);
    return dt__bool(r != e->negate);
}

static dt_value dt__eval_in(dt_exec *x, const dt_expr *e, dt_value a) {
    uint32_t i;
    if (a.type == DT_TYPE_NULL) return dt__null();
    for (i = 0; i < e->nargs; i++) {
        dt_value b = dt_eval(x, e->args[i]);
        if (dt__value_cmp(a, b) == 0) return dt__bool(!e->negate);
    }
    return dt__bool(e->negate);
}

static dt_value dt__eval_between(dt_exec *x, const dt_expr *e, dt_value a) {
    dt_value lo = dt_eval(x, e->b), hi = dt_eval(x, e->args[0]);
    int r1 = dt__value_cmp(a, lo), r2 = dt__value_cmp(a, hi);
    if (a.type == DT_TYPE_NULL || lo.type == DT_TYPE_NULL || hi.type == DT_TYPE_NULL) return dt__null();
    if (r1 == 3 || r2 == 3) return dt__rule_error(x);
    return dt__bool(((r1 == 0 || r1 == 1) && (r2 == 0 || r2 == -1)) != e->negate);
}

static dt_value dt__eval_call(dt_exec *x, const dt_expr *e) {
    dt_value args[DT_MAX_ACTION_ARGS];
    dt__function *f = &x->e->functions[e->fn];
    uint32_t i;
    for (i = 0; i < e->nargs; i++) args[i] = dt_eval(x, e->args[i]);
    return f->d.fn(x, args, e->nargs, f->d.user_data);
}

static int dt__truthy(dt_value v) { return v.type == DT_TYPE_BOOL && v.as.b; }

/* and (stop at the first false) / or (stop at the first true) */
static dt_value dt__eval_chain(dt_exec *x, const dt_expr *e, int stop_on) {
    uint32_t i;
    for (i = 0; i < e->nargs; i++)
        if (dt__truthy(dt_eval(x, e->args[i])) == stop_on) return dt__bool(stop_on);
    return dt__bool(!stop_on);
}

DT_API dt_value dt_eval(dt_exec *x, const dt_expr *e) {
    const dt_value *f;
    if (dt__charge(x, 1)) return dt__null();
    switch (e->kind) {
    case DT__E_LIT: return e->lit;
    case DT__E_FIELD: f = dt_exec_field(x, e->name); return f ? *f : dt__null();
    case DT__E_NAME: return dt__strv(x->ev.name);
    case DT__E_LEVEL: return dt__i64(x->ev.level);
    case DT__E_TS: return dt__i64(x->ev.ts);
    case DT__E_TID: return dt__u64(x->ev.tid);
    case DT__E_NOT: return dt__bool(!dt__truthy(dt_eval(x, e->a)));
    case DT__E_AND: return dt__eval_chain(x, e, 0);
    case DT__E_OR: return dt__eval_chain(x, e, 1);
    case DT__E_NEG: return dt__eval_neg(x, dt_eval(x, e->a));
    case DT__E_CMP: return dt__eval_cmp(x, e, dt_eval(x, e->a), dt_eval(x, e->b));
    case DT__E_ARITH: return dt__eval_arith(x, e->op, dt_eval(x, e->a), dt_eval(x, e->b));
    case DT__E_STR: return dt__eval_str(x, e, dt_eval(x, e->a), dt_eval(x, e->b));
    case DT__E_IN: return dt__eval_in(x, e, dt_eval(x, e->a));
    case DT__E_BETWEEN: return dt__eval_between(x, e, dt_eval(x, e->a));
    case DT__E_CALL: return dt__eval_call(x, e);
    default: return dt__null();
    }
}

DT_API int dt_eval_bool(dt_exec *x, const dt_expr *e) { return e ? dt__truthy(dt_eval(x, e)) : 1; }

/* Built-in functions. */
static dt_value dt__fn_isnull(dt_exec *x, const dt_value *a, uint32_t n, void *ud) { (void)x; (void)n; (void)ud; return dt__bool(a[0].type == DT_TYPE_NULL); }
static dt_value dt__fn_isnotnull(dt_exec *x, const dt_value *a, uint32_t n, void *ud) { (void)x; (void)n; (void)ud; return dt__bool(a[0].type != DT_TYPE_NULL); }
static dt_value dt__fn_strlen(dt_exec *x, const dt_value *a, uint32_t n, void *ud) {
    (void)n; (void)ud;
    if (a[0].type == DT_TYPE_NULL) return dt__null();
    if (a[0].type != DT_TYPE_STR && a[0].type != DT_TYPE_BYTES) return dt__rule_error(x);
    return dt__i64((int64_t)a[0].as.str.len);
}

/* String and number functions shared by every processor. Results that are
 * new strings live in the event's scratch arena (DT_EXEC_ARENA bytes): a
 * result that does not fit is null and counts a rule error. */
static int dt__is_str(dt_value v) { return v.type == DT_TYPE_STR || v.type == DT_TYPE_BYTES; }

static dt_value dt__fn_case(dt_exec *x, const dt_value *a, int upper) {
    char *out;
    size_t i;
    if (a[0].type == DT_TYPE_NULL) return dt__null();
    if (!dt__is_str(a[0])) return dt__rule_error(x);
    if (!(out = (char *)dt_exec_scratch(x, a[0].as.str.len + 1))) return dt__rule_error(x);
    for (i = 0; i < a[0].as.str.len; i++) {
        char ch = a[0].as.str.ptr[i];
        out[i] = upper ? ((ch >= 'a' && ch <= 'z') ? (char)(ch - 'a' + 'A') : ch) : dt__lower(ch);
    }
    return dt__strv(dt_strn(out, a[0].as.str.len));
}
static dt_value dt__fn_tolower(dt_exec *x, const dt_value *a, uint32_t n, void *ud) { (void)n; (void)ud; return dt__fn_case(x, a, 0); }
static dt_value dt__fn_toupper(dt_exec *x, const dt_value *a, uint32_t n, void *ud) { (void)n; (void)ud; return dt__fn_case(x, a, 1); }

static int dt__as_i64(dt_value v, int64_t *out) {
    if (v.type == DT_TYPE_I64) { *out = v.as.i64; return 1; }
    if (v.type == DT_TYPE_U64 && v.as.u64 <= (uint64_t)INT64_MAX) { *out = (int64_t)v.as.u64; return 1; }
    return 0;
}

/* substring(s, start[, length]): bytes, 0-based; out-of-range parts are
 * clipped (KQL); a negative start counts from the end. */
static dt_value dt__fn_substring(dt_exec *x, const dt_value *a, uint32_t n, void *ud) {
    int64_t start, len = 0, size;
    (void)ud;
    if (a[0].type == DT_TYPE_NULL || a[1].type == DT_TYPE_NULL || (n > 2 && a[2].type == DT_TYPE_NULL)) return dt__null();
    if (!dt__is_str(a[0]) || !dt__as_i64(a[1], &start) || (n > 2 && !dt__as_i64(a[2], &len))) return dt__rule_error(x);
    size = (int64_t)a[0].as.str.len;
    if (start < 0) start = start < -size ? 0 : size + start;
    if (start > size) start = size;
    if (n <= 2 || len > size - start) len = size - start;
    if (len < 0) len = 0;
    return dt__strv(dt_strn(a[0].as.str.ptr + start, (size_t)len));
}

/* extension("dir/report.PDF") is "PDF": what follows the last '.' of the
 * last path component; "" when there is none or the name starts with it. */
static dt_value dt__fn_extension(dt_exec *x, const dt_value *a, uint32_t n, void *ud) {
    dt_str p;
    size_t i, base = 0, dot = 0;
    (void)n; (void)ud;
    if (a[0].type == DT_TYPE_NULL) return dt__null();
    if (!dt__is_str(a[0])) return dt__rule_error(x);
    p = a[0].as.str;
    for (i = 0; i < p.len; i++) {
        if (p.ptr[i] == '/' || p.ptr[i] == '\\') { base = i + 1; dot = 0; }
        else if (p.ptr[i] == '.') dot = i + 1;
    }
    if (!dot || dot == base + 1) return dt__strv(dt_strn(p.ptr + p.len, 0));
    return dt__strv(dt_strn(p.ptr + dot, p.len - dot));
}

/* hash(x[, mod]): FNV-1a 64 of the value's bytes (strings), or of its
 * 8 little-endian bytes (numbers, as i64 when they fit); with mod, the
 * non-negative remainder as i64. Stable across builds and machines. */
static uint64_t dt__value_hash(dt_value v) {
    unsigned char b[8];
    uint64_t u;
    int i;
    if (dt__is_str(v)) return dt__fnv1a(v.as.str.ptr, v.as.str.len);
    if (v.type == DT_TYPE_F64) { double f = v.as.f64; memcpy(&u, &f, 8); }
    else if (v.type == DT_TYPE_BOOL) u = (uint64_t)v.as.b;
    else u = v.as.u64;
    for (i = 0; i < 8; i++) b[i] = (unsigned char)(u >> (8 * i));
    return dt__fnv1a(b, 8);
}
static dt_value dt__fn_hash(dt_exec *x, const dt_value *a, uint32_t n, void *ud) {
    int64_t mod;
    uint64_t h;
    (void)ud;
    if (a[0].type == DT_TYPE_NULL) return dt__null();
    h = dt__value_hash(a[0]);
    if (n < 2) return dt__u64(h);
    if (!dt__as_i64(a[1], &mod) || mod <= 0) return dt__rule_error(x);
    return dt__i64((int64_t)(h % (uint64_t)mod));
}

/* bin(x, size): x rounded down to a multiple of size (KQL's bin/floor);
 * bin(ts, 1m) is the start of the minute. */
static dt_value dt__fn_bin(dt_exec *x, const dt_value *a, uint32_t n, void *ud) {
    int64_t v, size, q;
    (void)n; (void)ud;
    if (a[0].type == DT_TYPE_NULL || a[1].type == DT_TYPE_NULL) return dt__null();
#if !DT_NO_FLOAT
    if (a[0].type == DT_TYPE_F64 || a[1].type == DT_TYPE_F64) {
        double f = dt__as_f64(a[0]), sz = dt__as_f64(a[1]), r;
        if (!(sz > 0) || !(f == f) || f > 9.2e18 * sz || f < -9.2e18 * sz) return dt__rule_error(x);
        r = (double)(int64_t)(f / sz);
        if (r > f / sz) r -= 1;
        return dt__f64(r * sz);
    }
#endif
    if (!dt__as_i64(a[0], &v) || !dt__as_i64(a[1], &size) || size <= 0) return dt__rule_error(x);
    q = v / size;
    if (v % size < 0) q--;
    if (q < INT64_MIN / size) return dt__rule_error(x);      /* the bin's start is below INT64_MIN */
    return dt__i64(q * size);
}

/* tostring(x): text of a number or bool; strings unchanged; an f64 is
 * null under DT_NO_FLOAT. */
static dt_value dt__fn_tostring(dt_exec *x, const dt_value *a, uint32_t n, void *ud) {
    char buf[40], *out;
    dt__sb b = dt__sb_make(buf, sizeof buf);
    (void)n; (void)ud;
    switch (a[0].type) {
    case DT_TYPE_NULL: return dt__null();
    case DT_TYPE_STR: case DT_TYPE_BYTES: return dt__strv(a[0].as.str);
    case DT_TYPE_BOOL: return dt__strv(dt_cstr(a[0].as.b ? "true" : "false"));
    case DT_TYPE_I64: dt__sb_i64(&b, a[0].as.i64); break;
    case DT_TYPE_U64: dt__sb_u64(&b, a[0].as.u64); break;
    default:
#if DT_NO_FLOAT
        return dt__null();                       /* an f64 is unknown without floating point */
#else
        dt__sb_f64(&b, a[0].as.f64);
        break;
#endif
    }
    if (!(out = (char *)dt_exec_scratch(x, b.len))) return dt__rule_error(x);
    memcpy(out, buf, b.len);
    return dt__strv(dt_strn(out, b.len));
}

/* toint(x): decimal text (optional sign, surrounding spaces) to i64; f64
 * truncated toward zero; bool 0/1; null when it does not convert. */
static dt_value dt__fn_toint(dt_exec *x, const dt_value *a, uint32_t n, void *ud) {
    (void)x; (void)n; (void)ud;
    switch (a[0].type) {
    case DT_TYPE_I64: return a[0];
    case DT_TYPE_U64: return a[0].as.u64 <= (uint64_t)INT64_MAX ? dt__i64((int64_t)a[0].as.u64) : dt__null();
    case DT_TYPE_BOOL: return dt__i64(a[0].as.b);
#if !DT_NO_FLOAT
    case DT_TYPE_F64: return (a[0].as.f64 > -9.2e18 && a[0].as.f64 < 9.2e18) ? dt__i64((int64_t)a[0].as.f64) : dt__null();
#endif
    case DT_TYPE_STR: {
        dt_str s = a[0].as.str;
        size_t i = 0;
        uint64_t v = 0;
        int neg = 0, digits = 0;
        while (i < s.len && s.ptr[i] == ' ') i++;
        if (i < s.len && (s.ptr[i] == '-' || s.ptr[i] == '+')) neg = s.ptr[i++] == '-';
        for (; i < s.len && s.ptr[i] >= '0' && s.ptr[i] <= '9'; i++, digits++) {
            v = v * 10u + (uint64_t)(s.ptr[i] - '0');
            if (v > (uint64_t)INT64_MAX + (uint64_t)neg) return dt__null();
        }
        while (i < s.len && s.ptr[i] == ' ') i++;
        if (!digits || i != s.len) return dt__null();
        return dt__i64(neg ? (int64_t)(0u - v) : (int64_t)v);
    }
    default: return dt__null();
    }
}

/* strcat(a, b, ...): the text of each argument, joined; null arguments
 * add nothing. */
static dt_value dt__fn_strcat(dt_exec *x, const dt_value *a, uint32_t n, void *ud) {
    dt_value parts[DT_MAX_ACTION_ARGS];
    size_t len = 0, off = 0;
    uint32_t i;
    char *out;
    (void)ud;
    for (i = 0; i < n; i++) {
        parts[i] = a[i].type == DT_TYPE_NULL ? dt__strv(dt_strn("", 0)) : dt__fn_tostring(x, &a[i], 1, NULL);
        if (parts[i].type == DT_TYPE_NULL) return dt__null();
        len += parts[i].as.str.len;
    }
    if (!(out = (char *)dt_exec_scratch(x, len + 1))) return dt__rule_error(x);
    for (i = 0; i < n; i++) { memcpy(out + off, parts[i].as.str.ptr, parts[i].as.str.len); off += parts[i].as.str.len; }
    return dt__strv(dt_strn(out, len));
}

DT_API int dt_register_function(dt_engine *e, const dt_function_desc *d) {
    dt__function *f;
    uint32_t i;
    int rc = DT_OK;
    if (!e || !d || !d->name || !d->fn || !d->name[0] || strlen(d->name) > DT_MAX_NAME || d->min_args > d->max_args ||
        d->max_args > DT_MAX_ACTION_ARGS) return DT_ERR_INVALID;
    dt__lock_take(&e->lock, &e->desc.lock);                /* check and insert at once */
    for (i = 0; i < e->nfunctions; i++) if (strcmp(e->functions[i].name, d->name) == 0) rc = DT_ERR_EXISTS;
    if (rc == DT_OK && e->nfunctions >= e->desc.max_actions + DT__BUILTIN_FUNCTIONS) rc = DT_ERR_LIMIT;
    if (rc == DT_OK) {
        f = &e->functions[e->nfunctions];
        f->d = *d;
        if (!f->d.risk) f->d.risk = DT_RISK_HIGH;
        f->name = dt__strdup(e, d->name, strlen(d->name));
        if (!f->name) rc = DT_ERR_NOMEM;
        else { f->d.name = f->name; e->nfunctions++; }
    }
    dt__lock_give(&e->lock, &e->desc.lock);
    return rc;
}

/* ---- sharded processor state -------------------------------------------- */
typedef struct dt__shard_lock {
    dt__lock lock;
    char pad[64 - sizeof(dt__lock) % 64];
} dt__shard_lock;

struct dt_shards {
    dt_engine *e;
    uint32_t n;
    dt__shard_lock *locks;       /* cache-line aligned */
};

static void dt__shards_fini(dt_engine *e, dt_shards *s) {
    uint32_t i;
    if (!s) return;
    for (i = 0; i < s->n; i++) dt__lock_fini(&s->locks[i].lock, &e->desc.lock);
}

DT_API dt_shards *dt_compiler_shards(dt_compiler *c, dt_block *b, uint32_t n) {
    dt_shards *s;
    char *mem;
    uint32_t i;
    if (b->shards) return b->shards;             /* one set per block */
    if (n < 1) n = 1;
    if (n > (uint32_t)DT_SHARDS) n = (uint32_t)DT_SHARDS;
    s = (dt_shards *)dt_compiler_alloc(c, sizeof *s);
    mem = (char *)dt_compiler_alloc(c, sizeof(dt__shard_lock) * n + 64);
    if (!s || !mem) return NULL;
    s->e = c->e;
    s->n = n;
    s->locks = (dt__shard_lock *)(((uintptr_t)mem + 63) & ~(uintptr_t)63);
    for (i = 0; i < n; i++) dt__lock_init(&s->locks[i].lock, &c->e->desc.lock);
    b->shards = s;
    return s;
}

DT_API uint32_t dt_shards_count(const dt_shards *s) { return s ? s->n : 0; }
DT_API uint32_t dt_exec_shard(dt_exec *x, const dt_shards *s) {
    (void)x;
    return s->n == 1 ? 0 : dt__thread_ordinal() % s->n;
}
DT_API void dt_shard_lock(dt_shards *s, uint32_t i) { dt__lock_take(&s->locks[i].lock, &s->e->desc.lock); }
DT_API void dt_shard_unlock(dt_shards *s, uint32_t i) { dt__lock_give(&s->locks[i].lock, &s->e->desc.lock); }

/* ---- programs: compile ------------------------------------------------- */
static void dt__program_free(dt_engine *e, dt__program *p) {
    uint32_t i;
    if (!p) return;
    for (i = 0; i < p->nblocks; i++) {
        dt_block *b = p->blocks[i];
        if (b->proc->destroy) b->proc->destroy(b);
        dt__lock_fini(&b->lock, &e->desc.lock);
        dt__shards_fini(e, b->shards);
    }
    dt__arena_free(&p->arena);
    dt__free(e, p);
}

static const dt_processor *dt__find_processor(dt_engine *e, dt_str keyword) {
    uint32_t i;
    const dt_processor *p = NULL;
    dt__lock_take(&e->lock, &e->desc.lock);
    for (i = 0; i < e->nprocessors; i++) if (dt__str_eqc(keyword, e->processors[i]->keyword)) p = e->processors[i];
    dt__lock_give(&e->lock, &e->desc.lock);
    return p;
}

static int dt__unknown_statement(dt_compiler *c, const dt_token *t) {
    char hint[200];
    dt__sb h = dt__sb_make(hint, sizeof hint);
    uint32_t i;
    dt__sb_puts(&h, "a program is a list of:");
    dt__lock_take(&c->e->lock, &c->e->desc.lock);
    for (i = 0; i < c->e->nprocessors; i++) { dt__sb_puts(&h, i ? ", " : " "); dt__sb_puts(&h, c->e->processors[i]->keyword); }
    dt__lock_give(&c->e->lock, &c->e->desc.lock);
    if (t->kind != DT_TOK_IDENT) return dt__expected(c, t, "a statement", hint);
    return dt__errq(c, t, DT_ERR_SYNTAX, "unknown statement ", t->text, "", hint);
}

static int dt__compile_block(dt_compiler *c) {
    dt_token t = *dt_peek(c);
    const dt_processor *proc;
    dt_block *b;
    if (t.kind != DT_TOK_IDENT || !(proc = dt__find_processor(c->e, t.text))) return dt__unknown_statement(c, &t);
    dt_next(c);
    if (!DT__PUSH(c, c->blocks, c->nblocks, c->cap_blocks)) return c->failed;
    if (!(b = (dt_block *)dt_compiler_alloc(c, sizeof *b))) return c->failed;
    b->e = c->e;
    b->proc = proc;
    b->enabled = 1;
    b->index = c->nblocks;
    b->prog = c->p;
    b->at = t;
    dt__lock_init(&b->lock, &c->e->desc.lock);
    c->blocks[c->nblocks++] = b;
    dt_compiler_risk(c, (int)proc->risk, &t, proc->keyword);
    dt_compiler_scope(c, NULL, 0);
    c->block_hash = dt__fnv1a(t.text.ptr, t.text.len);
    if (proc->compile(c, b) != DT_OK && !c->failed) dt_compile_error(c, &t, DT_ERR_SYNTAX, "block failed to compile", NULL);
    b->hash = c->block_hash;
    return c->failed;
}

static int dt__block_name_cmp(const void *pa, const void *pb) {
    const dt_block *a = *(const dt_block *const *)pa, *b = *(const dt_block *const *)pb;
    size_t n = a->name.len < b->name.len ? a->name.len : b->name.len;
    int r = n ? memcmp(a->name.ptr, b->name.ptr, n) : 0;
    if (r) return r;
    if (a->name.len != b->name.len) return a->name.len < b->name.len ? -1 : 1;
    return a->index < b->index ? -1 : a->index > b->index;
}

/* Named blocks (enable/disable, flush by name) must be unique: sorted by
 * name, duplicates are neighbours; the later one in the program is named. */
static int dt__check_block_names(dt_compiler *c) {
    dt_block **sorted;
    uint32_t i;
    if (c->nblocks < 2) return DT_OK;
    if (!(sorted = (dt_block **)dt_compiler_alloc(c, sizeof(dt_block *) * c->nblocks))) return c->failed;
    memcpy(sorted, c->blocks, sizeof(dt_block *) * c->nblocks);
    qsort(sorted, c->nblocks, sizeof sorted[0], dt__block_name_cmp);
    for (i = 1; i < c->nblocks; i++) {
        if (!sorted[i]->name.len || !dt__str_eq(sorted[i]->name, sorted[i - 1]->name)) continue;
        return dt__errq(c, &sorted[i]->at, DT_ERR_EXISTS, "a block named ", sorted[i]->name,
                        " already exists", "give each named block its own name");
    }
    return DT_OK;
}

/* Route of one id: its exact and wildcard subscriptions in program order,
 * and its export threshold. */
/* The threshold of a name from the prefix rules (longest first) or the
 * default. Exact rules are in the routes, so events with no route never
 * scan them. */
/* Prefix rules are sorted longest first and, within one length, by their
 * bytes (dt__level_cmp): one binary search per distinct length for the
 * name's first bytes, so the cost grows with the number of distinct
 * lengths (and the log of the rules), not with the rules. */
static uint32_t dt__level_run_end(const dt__level_rule *r, uint32_t i, uint32_t n) {
    size_t len = r[i].pattern.text.len;
    uint32_t lo = i, hi = n;
    while (lo < hi) {
        uint32_t mid = lo + (hi - lo) / 2;
        if (r[mid].pattern.text.len == len) lo = mid + 1;
        else hi = mid;
    }
    return lo;
}

static int dt__level_for(const dt__program *p, dt_str name) {
    const dt__level_rule *r = p->prefix_levels;
    uint32_t i = 0, n = p->nprefix_levels;
    while (i < n) {
        size_t len = r[i].pattern.text.len;
        uint32_t end = dt__level_run_end(r, i, n), lo = i, hi = end;
        if (len == 0) return r[i].level;             /* '*': the shortest, last */
        while (len <= name.len && lo < hi) {
            uint32_t mid = lo + (hi - lo) / 2;
            int c = memcmp(name.ptr, r[mid].pattern.text.ptr, len);
            if (c == 0) return r[mid].level;
            if (c < 0) hi = mid;
            else lo = mid + 1;
        }
        i = end;
    }
    return p->default_level;
}

static dt__route *dt__route_slot(dt__program *p, uint64_t id) {
    uint32_t mask = p->route_cap - 1u, i = (uint32_t)(id ^ (id >> 32)) & mask;
    while (p->routes[i].id && p->routes[i].id != id) i = (i + 1) & mask;
    return &p->routes[i];
}

static dt__route *dt__route_find(const dt__program *p, uint64_t id, dt_str name) {
    dt__route *r;
    if (!p->route_cap) return NULL;
    r = dt__route_slot((dt__program *)p, id);
    return (r->id && dt__str_eq(r->name, name)) ? r : NULL;
}

/* Adds the route of one name (no subscriptions yet). Two names with one
 * durable ID are refused here: a rule must never apply to the wrong one. */
static int dt__route_add(dt_compiler *c, uint64_t id, dt_str name, const dt_pattern *from) {
    dt__program *p = c->p;
    dt__route *r = dt__route_slot(p, id);
    if (r->id && !dt__str_eq(r->name, name)) {
        char msg[300];
        dt_token at;
        dt__sb m = dt__sb_make(msg, sizeof msg);
        dt__sb_puts(&m, "durable ID collision: '");
        dt__sb_str(&m, r->name);
        dt__sb_puts(&m, "' and '");
        dt__sb_str(&m, name);
        dt__sb_puts(&m, "' hash to the same ID");
        memset(&at, 0, sizeof at);
        at.line = from ? from->line : c->line;
        at.column = from ? from->column : c->col;
        return dt_compile_error(c, &at, DT_ERR_COLLISION, msg, "rename one of the events (see docs/durable-ids.md)");
    }
    if (r->id) return DT_OK;
    r->id = id;
    r->name = name;          /* a registry name (lives with the engine) or pattern text (with the program) */
    return DT_OK;
}

/* Appends subscription s to every route it matches (count only when fill is
 * 0). Exact patterns go straight to their route; only wildcards visit the
 * table, so linking costs subscriptions + wildcards x routes. */
/* Two subscriptions of one block with one tag that both match a name
 * (`Log*, LogLaunch`) dispatch once: a block's subscriptions are adjacent
 * in program order, so the duplicate is the route's last entry. Counting
 * (fill 0) may overestimate; the filled list is exact. */
static int dt__sub_same(const dt__sub *a, const dt__sub *b) { return a && a->block == b->block && a->tag == b->tag; }

static void dt__route_add_sub(dt__route *r, dt__sub *s, int fill) {
    if (!s->block) { r->drop = 1; return; }     /* a drop, not a subscriber */
    if (fill && r->nsubs && dt__sub_same(r->subs[r->nsubs - 1], s)) return;
    if (fill) r->subs[r->nsubs] = s;
    r->nsubs++;
}

static void dt__route_subscribe(dt__program *p, dt__sub *s, int fill) {
    uint32_t k;
    if (!s->pattern.prefix) {
        dt__route *r = dt__route_find(p, s->pattern.id, s->pattern.text);
        if (r) dt__route_add_sub(r, s, fill);
        return;
    }
    for (k = 0; k < p->route_cap; k++) {
        dt__route *r = &p->routes[k];
        if (r->id && dt__starts(r->name, s->pattern.text)) dt__route_add_sub(r, s, fill);
    }
}

static int dt__route_levels_and_subs(dt_compiler *c, const dt__level_rule *exact, uint32_t nexact) {
    dt__program *p = c->p;
    uint32_t i, k;
    for (k = 0; k < p->route_cap; k++)
        if (p->routes[k].id) p->routes[k].level = dt__level_for(p, p->routes[k].name);
    for (i = 0; i < nexact; i++) {                   /* exact rules beat prefixes */
        dt__route *r = dt__route_find(p, exact[i].pattern.id, exact[i].pattern.text);
        if (r) r->level = exact[i].level;
    }
    for (i = 0; i < p->nsubs; i++) dt__route_subscribe(p, &p->subs[i], 0);
    for (k = 0; k < p->route_cap; k++) {
        dt__route *r = &p->routes[k];
        if (!r->nsubs) continue;
        if (!(r->subs = (dt__sub **)dt_compiler_alloc(c, sizeof(dt__sub *) * r->nsubs))) return c->failed;
        r->nsubs = 0;
    }
    for (i = 0; i < p->nsubs; i++) dt__route_subscribe(p, &p->subs[i], 1);   /* program order kept */
    return DT_OK;
}

/* Level rules in lookup order: exact before prefix, longer text first (the
 * longest prefix wins), equal patterns together with the last written
 * last. */
static int dt__level_cmp(const void *pa, const void *pb) {
    const dt__level_rule *a = (const dt__level_rule *)pa, *b = (const dt__level_rule *)pb;
    int r;
    if (a->pattern.prefix != b->pattern.prefix) return a->pattern.prefix - b->pattern.prefix;
    if (a->pattern.text.len != b->pattern.text.len) return a->pattern.text.len > b->pattern.text.len ? -1 : 1;
    r = a->pattern.text.len ? memcmp(a->pattern.text.ptr, b->pattern.text.ptr, a->pattern.text.len) : 0;
    if (r) return r;
    return a->order < b->order ? -1 : a->order > b->order;
}

/* Sorts and keeps the last of each run of equal patterns; returns the count. */
static uint32_t dt__sort_levels(dt__level_rule *r, uint32_t n) {
    uint32_t i, out = 0;
    if (n > 1) qsort(r, n, sizeof *r, dt__level_cmp);
    for (i = 0; i < n; i++) {
        if (i + 1 < n && r[i + 1].pattern.prefix == r[i].pattern.prefix && dt__str_eq(r[i + 1].pattern.text, r[i].pattern.text))
            continue;                            /* a later rule for the same pattern follows */
        r[out++] = r[i];
    }
    return out;
}

/* Builds the dispatch tables: every exact name the program mentions and
 * every registered event get a precomputed route, so the emit path does
 * one hash lookup; other names fall back to a scan of the wildcards. */
static int dt__link(dt_compiler *c) {
    dt__program *p = c->p;
    dt_engine *e = c->e;
    uint32_t i, want, nev, nexact = 0;
    dt__level_rule *exact;
    p->subs = c->subs; p->nsubs = c->nsubs;
    p->blocks = c->blocks; p->nblocks = c->nblocks;
    p->boosts = c->boosts; p->nboosts = c->nboosts;
    p->recorders = c->recorders; p->nrecorders = c->nrecorders;
    /* exact level rules live in their routes; only prefixes are scanned */
    c->nlevels = dt__sort_levels(c->levels, c->nlevels);
    for (i = 0; i < c->nlevels; i++) if (!c->levels[i].pattern.prefix) nexact++;
    exact = (dt__level_rule *)dt_compiler_alloc(c, sizeof(dt__level_rule) * (nexact ? nexact : 1));
    if (!exact) return c->failed;
    for (i = 0, nexact = 0; i < c->nlevels; i++) {
        if (!c->levels[i].pattern.prefix) exact[nexact++] = c->levels[i];
        else c->levels[p->nprefix_levels++] = c->levels[i];
    }
    p->prefix_levels = c->levels;                /* still longest first */
    for (i = 0; i < p->nsubs; i++) if (p->subs[i].pattern.prefix) p->nwild++;
    if (p->nwild && !(p->wild = (dt__sub **)dt_compiler_alloc(c, sizeof(dt__sub *) * p->nwild))) return c->failed;
    p->nwild = 0;
    for (i = 0; i < p->nsubs; i++) if (p->subs[i].pattern.prefix) p->wild[p->nwild++] = &p->subs[i];
    dt__lock_take(&e->lock, &e->desc.lock);
    nev = e->nevents;                            /* events registered later get no route, as after a deploy */
    want = p->nsubs + nexact + nev;
    dt__lock_give(&e->lock, &e->desc.lock);
    p->route_cap = dt__pow2_at_least(want * 2u + 1u);
    if (!(p->routes = (dt__route *)dt_compiler_alloc(c, sizeof(dt__route) * p->route_cap))) return c->failed;
    /* registered names first: a site's name is then the very pointer the
     * route holds, and the name check on the emit path is one compare */
    dt__lock_take(&e->lock, &e->desc.lock);
    for (i = 0; i < nev && !c->failed; i++) dt__route_add(c, e->events[i].id, e->events[i].name, NULL);
    dt__lock_give(&e->lock, &e->desc.lock);
    for (i = 0; i < p->nsubs && !c->failed; i++)
        if (!p->subs[i].pattern.prefix) dt__route_add(c, p->subs[i].pattern.id, p->subs[i].pattern.text, &p->subs[i].pattern);
    for (i = 0; i < nexact && !c->failed; i++) dt__route_add(c, exact[i].pattern.id, exact[i].pattern.text, &exact[i].pattern);
    if (c->failed) return c->failed;
    return dt__route_levels_and_subs(c, exact, nexact);
}

static int dt__check_risk(dt_compiler *c) {
    char msg[200], hint[200];
    dt__sb m, h;
    if (c->risk <= (int)c->e->desc.max_risk) return DT_OK;
    m = dt__sb_make(msg, sizeof msg);
    dt__sb_puts(&m, "program needs risk '");
    dt__sb_puts(&m, dt_risk_name(c->risk));
    dt__sb_puts(&m, "' (");
    dt__sb_puts(&m, c->risk_what ? c->risk_what : "construct");
    dt__sb_puts(&m, " '");
    dt__sb_str(&m, c->risk_at.text);
    dt__sb_puts(&m, "') but the host allows at most '");
    dt__sb_puts(&m, dt_risk_name((int)c->e->desc.max_risk));
    dt__sb_puts(&m, "'");
    h = dt__sb_make(hint, sizeof hint);
    dt__sb_puts(&h, "remove it, or have the host raise dt_desc.max_risk (dt CLI: --max-risk ");
    dt__sb_puts(&h, dt_risk_name(c->risk));
    dt__sb_puts(&h, ")");
    return dt_compile_error(c, &c->risk_at, DT_ERR_RISK, msg, hint);
}

static dt__program *dt__compile(dt_engine *e, const char *text, size_t len, dt_error *err) {
    dt_compiler c;
    dt__program *p;
    dt_error local;
    if (!err) err = &local;
    memset(err, 0, sizeof *err);
    if ((!text && len) || len > e->desc.max_program_text) {
        dt__sb m = dt__sb_make(err->message, sizeof err->message);
        err->code = text ? DT_ERR_LIMIT : DT_ERR_INVALID;
        dt__sb_puts(&m, text ? "program text longer than max_program_text" : "no program text");
        return NULL;
    }
    p = (dt__program *)dt__alloc(e, sizeof *p);
    if (!p) {
        dt__sb m = dt__sb_make(err->message, sizeof err->message);
        err->code = DT_ERR_NOMEM;
        dt__sb_puts(&m, "out of memory while compiling the program");
        return NULL;
    }
    memset(p, 0, sizeof *p);
    p->arena.a = &e->alloc;
    p->arena.limit = e->desc.max_program_bytes;
    p->default_level = e->desc.default_level;
    p->risk = DT_RISK_LOW;
    memset(&c, 0, sizeof c);
    c.e = e; c.p = p; c.src = text ? text : ""; c.len = len; c.line = 1; c.col = 1; c.err = err; c.risk = DT_RISK_LOW;
    p->text = (char *)dt_compiler_alloc(&c, len + 1);
    if (p->text) { if (len) memcpy(p->text, text, len); p->text_len = len; }
    c.src = p->text ? p->text : "";              /* tokens point into the program's own copy */
    c.len = p->text ? len : 0;
    p->hash = dt__fnv1a(text ? text : "", len);
    while (!c.failed && dt_peek(&c)->kind != DT_TOK_EOF) {
        if (dt_accept(&c, ";")) continue;
        dt__compile_block(&c);
    }
    if (!c.failed) dt__check_block_names(&c);
    if (!c.failed) dt__link(&c);
    if (!c.failed) dt__check_risk(&c);
    if (c.failed) {
        p->blocks = c.blocks; p->nblocks = c.nblocks;
        dt__program_free(e, p);
        return NULL;
    }
    p->risk = c.risk;
    return p;
}

/* ---- programs: deploy, rollback, rip cord ------------------------------ */
typedef struct dt__boost_copy dt__boost_copy;
static dt__boost_copy *dt__boosts_copy(dt_engine *e, const dt__program *p);
static void dt__boosts_apply(dt_engine *e, dt__boost_copy *b);
static void dt__override_clear(dt_engine *e, uint64_t change);

static int dt__refuse_in_read_section(dt_engine *e, const char *what) {
    if (!dt__tls_reading) return 0;
    dt__log(e, DT_LOG_ERROR, what);
    return 1;
}

static void dt__info_of(const dt__program *p, dt_program_info *info) {
    memset(info, 0, sizeof *info);
    info->version = p->version;
    info->hash = p->hash;
    info->risk = p->risk;
    info->memory = p->arena.total;
    info->blocks = p->nblocks;
    info->recorders = p->nrecorders;
    info->recorder_bytes = p->recorder_bytes;
}

static void dt__deploy_log(dt_engine *e, const char *what, uint64_t version, uint64_t hash) {
    char msg[160];
    dt__sb b = dt__sb_make(msg, sizeof msg);
    dt__sb_puts(&b, what);
    if (version) {
        dt__sb_puts(&b, " program v");
        dt__sb_u64(&b, version);
        dt__sb_puts(&b, " hash ");
        dt__sb_hex(&b, hash);
    }
    dt__log(e, DT_LOG_INFO, msg);
}

/* ---- programs: hand-over of processor state ------------------------------
 * When a program replaces another, each block of the old one either carries
 * its state into the new block with the same kind, name and definition, or
 * is flushed (open windows leave through the sinks now rather than never).
 * Runs under deploy_lock once no reader is left in `from`; sinks it calls
 * are in a read section, so a deploy from one is refused, not deadlocked. */
static uint64_t dt__block_key(const dt_block *b) {
    return dt__fnv1a_more(b->hash ^ (uint64_t)(uintptr_t)b->proc, b->name.ptr, b->name.len);
}

static int dt__block_same(const dt_block *a, const dt_block *b) {
    return a->proc == b->proc && a->hash == b->hash && dt__str_eq(a->name, b->name);
}

/* Blocks of `to` by key (open addressing, index+1); NULL if memory is short:
 * then nothing carries over and every old block is flushed. */
static uint32_t *dt__block_table(dt_engine *e, const dt__program *to, uint32_t *cap) {
    uint32_t *t, i;
    *cap = 1;
    while (*cap < to->nblocks * 2u) *cap <<= 1;
    if (!(t = (uint32_t *)dt__alloc(e, sizeof(uint32_t) * *cap))) return NULL;
    memset(t, 0, sizeof(uint32_t) * *cap);
    for (i = 0; i < to->nblocks; i++) {
        uint32_t k = (uint32_t)dt__block_key(to->blocks[i]) & (*cap - 1u);
        while (t[k]) k = (k + 1) & (*cap - 1u);
        t[k] = i + 1;
    }
    return t;
}

static dt_block *dt__block_match(const dt__program *to, uint32_t *t, uint32_t cap, const dt_block *b) {
    uint32_t k = (uint32_t)dt__block_key(b) & (cap - 1u);
    for (; t[k]; k = (k + 1) & (cap - 1u)) {
        dt_block *nb;
        if (t[k] == UINT32_MAX) continue;        /* taken */
        nb = to->blocks[t[k] - 1];
        if (dt__block_same(nb, b)) { t[k] = UINT32_MAX; return nb; }
    }
    return NULL;
}

static void dt__handover(dt_engine *e, dt__program *from, dt__program *to, dt__after *after) {
    uint32_t *table = NULL, cap = 0, i;
    dt_exec x;
    int64_t now = dt_now(e);
    if (!from) return;
    if (to && to->nblocks) table = dt__block_table(e, to, &cap);
    dt__tls_reading++;
    for (i = 0; i < from->nblocks; i++) {
        dt_block *b = from->blocks[i], *nb = NULL;
        if (table && b->proc->carry) nb = dt__block_match(to, table, cap, b);
        if (!nb && !b->proc->flush) continue;
        dt__exec_init(&x, e, nb ? to : from, dt__slot_of(e), after, nb ? nb : b, now);
        dt__tls_exec = &x;
        if (nb) b->proc->carry(nb, b, &x);
        else b->proc->flush(b, &x);
        dt__tls_exec = NULL;
    }
    dt__tls_reading--;
    if (table) dt__free(e, table);
}

/* A deploy or check given no engine says why instead of leaving err unset:
 * the usual cause is an unchecked dt_create that returned NULL. */
static int dt__no_engine(dt_error *err) {
    dt__sb m, h;
    if (!err) return DT_ERR_INVALID;
    memset(err, 0, sizeof *err);
    err->code = DT_ERR_INVALID;
    m = dt__sb_make(err->message, sizeof err->message);
    dt__sb_puts(&m, "no engine");
    h = dt__sb_make(err->hint, sizeof err->hint);
    dt__sb_puts(&h, "dt_create returned NULL: check its result (a DT_NO_MALLOC build needs desc.memory or desc.allocator)");
    return DT_ERR_INVALID;
}

DT_API int dt_deploy(dt_engine *e, const char *text, size_t len, dt_error *err) {
    dt__program *p, *old;
    dt_error local;
    uint64_t version, hash;
    dt__boost_copy *boosts;
    dt__after after;
    if (!e) return dt__no_engine(err);
    if (!err) err = &local;
    if (dt__refuse_in_read_section(e, "dt_deploy called from a sink or processor: refused (it would wait for itself)"))
        return DT_ERR_INVALID;
    p = dt__compile(e, text, len, err);
    if (!p) {
        char msg[600];
        dt__count(e, DT__S_deploy_errors, 1);
        dt_error_format(err, msg, sizeof msg);
        dt__log(e, DT_LOG_ERROR, msg);
        return err->code;
    }
    dt__lock_take(&e->deploy_lock, &e->desc.lock);
    p->version = version = ++e->versions;
    hash = p->hash;
    /* p may be replaced and freed by a concurrent deploy once the lock is
     * given back: copy what applies after (boosts run host sinks, which may
     * deploy, so they run under no lock) */
    p->change = ++e->changes;
    boosts = dt__boosts_copy(e, p);
    old = e->program;
    dt__override_clear(e, p->change);            /* before publishing: the new program starts clean */
    dt__publish(e, p);
    after.n = 0;
    dt__handover(e, old, p, &after);
    if (old) { dt__program_free(e, e->previous); e->previous = old; }
    dt__lock_give(&e->deploy_lock, &e->desc.lock);
    if (after.n) dt__run_after(e, &after);
    dt__count(e, DT__S_deploys, 1);
    dt__boosts_apply(e, boosts);
    dt__sites_recompute(e);
    dt__deploy_log(e, "deployed", version, hash);
    return DT_OK;
}

DT_API int dt_check(dt_engine *e, const char *text, size_t len, dt_error *err, dt_program_info *info) {
    dt__program *p;
    dt_error local;
    if (!e) return dt__no_engine(err);
    if (!err) err = &local;
    p = dt__compile(e, text, len, err);
    if (!p) return err->code;
    if (info) dt__info_of(p, info);
    dt__program_free(e, p);
    return DT_OK;
}

/* Swaps the running program for `next` (may be NULL) and keeps the one it
 * replaced as previous when keep is set, else frees it. */
static int dt__swap(dt_engine *e, int rollback) {
    dt__program *cur, *next;
    dt__boost_copy *boosts = NULL;
    uint64_t version = 0, hash = 0, change;
    dt__after after;
    if (dt__refuse_in_read_section(e, "dt_rollback/dt_undeploy called from a sink or processor: refused")) return DT_ERR_INVALID;
    dt__lock_take(&e->deploy_lock, &e->desc.lock);
    cur = e->program;
    next = rollback ? e->previous : NULL;
    if ((rollback && !next) || (!rollback && !cur)) { dt__lock_give(&e->deploy_lock, &e->desc.lock); return DT_ERR_EMPTY; }
    change = ++e->changes;
    if (next) { version = next->version; hash = next->hash; next->change = change; boosts = dt__boosts_copy(e, next); }
    dt__override_clear(e, change);
    dt__publish(e, next);
    after.n = 0;
    dt__handover(e, cur, next, &after);
    if (rollback) { e->previous = NULL; dt__program_free(e, cur); }
    else { dt__program_free(e, e->previous); e->previous = cur; }
    dt__lock_give(&e->deploy_lock, &e->desc.lock);
    if (after.n) dt__run_after(e, &after);
    dt__boosts_apply(e, boosts);                 /* the restored program's timed changes start again */
    dt__sites_recompute(e);
    dt__deploy_log(e, rollback ? "rolled back to" : "undeployed", version, hash);
    return DT_OK;
}

DT_API int dt_rollback(dt_engine *e) { return e ? dt__swap(e, 1) : DT_ERR_INVALID; }
DT_API int dt_undeploy(dt_engine *e) { return e ? dt__swap(e, 0) : DT_ERR_INVALID; }

DT_API void dt_ripcord_signal(dt_engine *e, int on) {
    if (e) DT__STORE_SC(&e->ripcord, on ? 1u : 0u);
}

DT_API void dt_ripcord(dt_engine *e, int on) {
    if (!e) return;
    dt_ripcord_signal(e, on);
    dt__log(e, DT_LOG_WARN, on ? "rip cord pulled: all processing off" : "rip cord released: processing resumes");
    dt__sites_recompute(e);
}

DT_API int dt_ripcord_pulled(dt_engine *e) { return e ? (int)DT__LOAD(&e->ripcord) : 0; }

DT_API int dt_program(dt_engine *e, dt_program_info *info) {
    dt__reader r;
    dt__program *p;
    int rc = DT_ERR_EMPTY;
    if (!e || !info) return DT_ERR_INVALID;
    p = dt__read_begin(e, &r);
    if (p) { dt__info_of(p, info); rc = DT_OK; }
    dt__read_end(&r);
    return rc;
}

DT_API size_t dt_error_format(const dt_error *err, char *buf, size_t size) {
    dt__sb b = dt__sb_make(buf, size);
    if (!err) return 0;
    if (err->line) {
        dt__sb_i64(&b, err->line);
        dt__sb_puts(&b, ":");
        dt__sb_i64(&b, err->column);
        dt__sb_puts(&b, ": ");
    }
    dt__sb_puts(&b, "error: ");
    dt__sb_puts(&b, err->message[0] ? err->message : dt_result_str(err->code));
    if (err->hint[0]) { dt__sb_puts(&b, " (hint: "); dt__sb_puts(&b, err->hint); dt__sb_puts(&b, ")"); }
    return b.len;
}

/* ---- timed level changes (set_level ... for DURATION) ------------------ */
static int dt__override_match(const dt__override *o, dt_str name) {
    dt_str pat = dt_strn(o->pattern, o->len);
    return o->prefix ? dt__starts(name, pat) : dt__str_eq(name, pat);
}

/* The override level for a name at time now, or -1. The table is only
 * consulted while an override is active (the count is checked first), and
 * then under a short lock. */
/* The most specific change wins: exact over prefix, longer prefix over
 * shorter. (Two entries never tie: one pattern has one entry.) */
static int dt__override_beats(const dt__override *a, const dt__override *b) {
    if (a->prefix != b->prefix) return !a->prefix;
    return a->len > b->len;
}

static int dt__override_scan(dt_engine *e, dt_str name, int64_t now) {
    uint32_t i, n;
    int level = -1;
    const dt__override *best = NULL;
    dt__lock_take(&e->override_lock, &e->desc.lock);
    n = e->noverrides;
    for (i = 0; i < n; i++) {
        const dt__override *o = &e->overrides[i];
        if (now < o->start || now >= o->until || !dt__override_match(o, name)) continue;
        if (!best || dt__override_beats(o, best)) best = o;
    }
    if (best) level = best->level;
    dt__lock_give(&e->override_lock, &e->desc.lock);
    return level;
}

DT__HOT int dt__override_level(dt_engine *e, dt_str name, int64_t now) {
    return DT__LOAD_ACQ(&e->noverrides) ? dt__override_scan(e, name, now) : -1;
}

/* Adds or extends an override; returns 1 when the set of patterns changed
 * (sites must be recomputed), 0 when an existing one was extended, -1 when
 * the table is full. */
static int dt__override_set(dt_engine *e, uint64_t change, dt_str pattern, int prefix, int level, int64_t start,
                            int64_t until) {
    uint32_t i;
    int rc = -1;
    dt__lock_take(&e->override_lock, &e->desc.lock);
    if (change && change != e->override_change) {            /* from a program no longer running */
        dt__lock_give(&e->override_lock, &e->desc.lock);
        return 0;
    }
    for (i = 0; i < e->noverrides; i++) {
        dt__override *o = &e->overrides[i];
        if (o->prefix == prefix && dt__str_eq(dt_strn(o->pattern, o->len), pattern)) {
            rc = o->level != level;
            o->level = level;
            if (o->until <= start) o->start = start;        /* ended, not yet swept: a fresh window */
            else if (start < o->start) o->start = start;
            if (until > o->until) o->until = until;        /* extending never shortens */
            break;
        }
    }
    if (rc < 0 && e->noverrides < DT_MAX_OVERRIDES && pattern.len <= DT_MAX_NAME) {
        dt__override *o = &e->overrides[e->noverrides];
        memcpy(o->pattern, pattern.ptr, pattern.len);
        o->len = pattern.len;
        o->prefix = prefix;
        o->level = level;
        o->start = start;
        o->until = until;
        DT__STORE_REL(&e->noverrides, e->noverrides + 1u);
        rc = 1;
    }
    dt__lock_give(&e->override_lock, &e->desc.lock);
    return rc;
}

/* Drops expired overrides; returns how many went. */
static uint32_t dt__override_expire(dt_engine *e, int64_t now) {
    uint32_t i, n, gone = 0;
    if (!DT__LOAD_ACQ(&e->noverrides)) return 0;
    dt__lock_take(&e->override_lock, &e->desc.lock);
    n = e->noverrides;
    for (i = 0; i < n;) {
        if (e->overrides[i].until <= now) { e->overrides[i] = e->overrides[--n]; gone++; }
        else i++;
    }
    DT__STORE_REL(&e->noverrides, n);
    dt__lock_give(&e->override_lock, &e->desc.lock);
    return gone;
}

/* A program change (deploy, rollback, undeploy) ends every timed level
 * change: an operator rolling back a bad boost must get out of it. Changes
 * are numbered; set_level calls made on behalf of an older program (an
 * event it was still handling, or its boosts applied late) are ignored. */
static void dt__override_clear(dt_engine *e, uint64_t change) {
    dt__lock_take(&e->override_lock, &e->desc.lock);
    if (change > e->override_change) {
        e->override_change = change;
        DT__STORE_REL(&e->noverrides, 0u);
    }
    dt__lock_give(&e->override_lock, &e->desc.lock);
}

static DT__TLS uint64_t dt__tls_boost_change;   /* set while a program's boosts are applied */

/* ---- dispatch ---------------------------------------------------------- */
/* 1: a block subscribes to this unrouted name; -1: only a drop matches
 * it; 0: nothing. */
static int dt__wild_matches(const dt__program *p, uint64_t id, dt_str name) {
    uint32_t i;
    int r = 0;
    for (i = 0; i < p->nwild; i++)
        if (dt__pattern_matches(&p->wild[i]->pattern, id, name)) { if (p->wild[i]->block) return 1; r = -1; }
    return r;
}

static int dt__threshold(dt_engine *e, const dt__program *p, const dt__route *r, dt_str name, int64_t now) {
    int o = dt__override_level(e, name, now);
    if (o >= 0) return o;
    if (r) return r->level;
    return p ? dt__level_for(p, name) : e->desc.default_level;
}

static int64_t dt__engine_time(dt_engine *e);

/* Time decisions (timed levels, rate limits, windows) need a time even for
 * events left unstamped (dt_desc.no_timestamps): the latest tick, so no
 * clock is read per event. The exported ts stays 0. */
static int64_t dt__event_time(dt_engine *e, const dt_event *ev) { return ev->ts ? ev->ts : DT__LOAD(&e->now); }

/* A site's mode under the current program: processed if any block
 * subscribes to it, exported as is if its level passes, else off. */
static uint32_t dt__site_mode(dt_engine *e, dt_site *s) {
    dt__reader r;
    dt__program *p;
    const dt__route *route = NULL;
    uint32_t mode;
    dt_str name = dt_strn(s->name, s->name_len);
    if (!e || !dt__name_ok(name)) return DT_SITE_OFF;
    p = dt__read_begin(e, &r);
    if (DT__LOAD(&e->ripcord)) {
        mode = s->level >= e->desc.default_level ? DT_SITE_EXPORT : DT_SITE_OFF;
    } else {
        int wild = 0;
        if (p) route = dt__route_find(p, s->id, name);
        if (p && !route) wild = dt__wild_matches(p, s->id, name);
        if (p && ((route && route->nsubs) || wild > 0)) mode = DT_SITE_PROCESS;
        else if ((route && route->drop) || wild < 0) mode = DT_SITE_OFF;     /* dropped before anyone sees it */
        else mode = s->level >= dt__threshold(e, p, route, name, dt__engine_time(e)) ? DT_SITE_EXPORT : DT_SITE_OFF;
        /* a timed change must be re-checked per event until it expires */
        if (mode == DT_SITE_EXPORT && DT__LOAD(&e->noverrides)) mode = DT_SITE_PROCESS;
    }
    dt__read_end(&r);
    return mode;
}


/* A block's subscriptions sit together in a route (program order), so its
 * budget is reset once per block per event; each dispatch costs a step. */
static void dt__run_block(dt_exec *x, dt__sub *s) {
    dt_block *b = s->block;
    dt_exec *outer = dt__tls_exec;
    if (!DT__LOAD(&b->enabled)) return;
    if (x->block_last != b) { x->block_last = b; x->steps = 0; x->tripped = 0; }
    x->block = b;
    if (dt__charge(x, 1)) { x->block = NULL; return; }
    dt__tls_exec = x;
    b->proc->on_event(b, x, s->tag);
    dt__tls_exec = outer;
    x->block = NULL;
}

/* The end of every event's way through the engine: one of dropped,
 * filtered or exported, each counted. */
static void dt__export(dt_engine *e, dt__slot sl, const dt_event *ev, int dropped, int threshold) {
    if (dropped) { dt__add(sl, DT__S_events_dropped, 1); return; }
    if (ev->level < threshold) { dt__add(sl, DT__S_events_filtered, 1); return; }
    dt__add(sl, DT__S_events_exported, 1);
    if (e->desc.sinks.event) e->desc.sinks.event(ev, e->desc.sinks.user_data);
}

/* Runs one event through program p (inside a read section). */
static void dt__process(dt_engine *e, dt__program *p, const dt_event *ev, dt__slot sl, int depth, dt__after *after) {
    dt_exec x;
    const dt__route *r;
    uint32_t i;
    x.e = e; x.p = p; x.sl = sl; x.ev = *ev; x.owned = 0; x.dropped = 0; x.depth = depth;
    x.block = NULL; x.block_last = NULL; x.steps = 0; x.tripped = 0; x.after = after; x.arena_used = 0;
    x.now = dt__event_time(e, ev);
    r = dt__route_find(p, ev->id, ev->name);
    if (r) {
        x.dropped = r->drop;
        for (i = 0; i < r->nsubs; i++) dt__run_block(&x, r->subs[i]);
    } else {
        dt__sub *last = NULL;
        for (i = 0; i < p->nwild; i++) {
            if (!dt__pattern_matches(&p->wild[i]->pattern, ev->id, ev->name)) continue;
            if (!p->wild[i]->block) { x.dropped = 1; continue; }
            if (dt__sub_same(last, p->wild[i])) continue;          /* one dispatch per block and tag */
            dt__run_block(&x, last = p->wild[i]);
        }
    }
    if (x.dropped) dt__add(sl, DT__S_events_dropped, 1);   /* a dropped event needs no threshold */
    else dt__export(e, sl, &x.ev, 0, dt__threshold(e, p, r, ev->name, x.now));
}


/* An event with no program to run: the rip cord's default threshold, or
 * the default with any timed level change. */
static void dt__pass_through(dt_engine *e, const dt_event *ev, dt__slot sl) {
    int threshold = DT__LOAD(&e->ripcord) ? e->desc.default_level
                                          : dt__threshold(e, NULL, NULL, ev->name, dt__event_time(e, ev));
    dt__export(e, sl, ev, 0, threshold);
}

/* Field names are 1..DT_MAX_NAME bytes: rules, recorders and exporters
 * rely on it. */
DT__HOT int dt__fields_ok(const dt_event *ev) {
    uint32_t i;
    for (i = 0; i < ev->nfields; i++)
        if (!dt__name_ok(ev->fields[i].name) || (int)ev->fields[i].value.type < (int)DT_TYPE_NULL || (int)ev->fields[i].value.type > (int)DT_TYPE_BYTES)
            return 0;
    return 1;
}

static void dt__emit_checked(dt_engine *e, dt_event *ev, dt__slot sl, int fields_known) {
    dt__reader r;
    dt__program *p;
    dt__after after;
    after.n = 0;
    if (ev->nfields > DT_MAX_FIELDS) { ev->nfields = DT_MAX_FIELDS; dt__add(sl, DT__S_fields_truncated, 1); }
    if (!fields_known && !dt__fields_ok(ev)) { dt__add(sl, DT__S_bad_events, 1); return; }
    if (DT__LOAD(&e->ripcord) || !DT__LOAD(&e->program)) {
        /* No program to read (the pointer is only compared, never followed),
         * so no read section and no fence: the event is ordered before any
         * deploy that races with it. */
        dt__pass_through(e, ev, sl);
        return;
    }
    p = dt__read_begin(e, &r);
    if (!p || DT__LOAD(&e->ripcord)) dt__pass_through(e, ev, sl);
    else dt__process(e, p, ev, sl, 0, &after);
    dt__read_end(&r);
    if (after.n) dt__run_after(e, &after);
}

DT_API void dt_emit(dt_engine *e, const dt_event *in) {
    dt_event ev;
    dt__slot sl;
    if (!e || !in) return;
    sl = dt__slot_of(e);
    dt__add(sl, DT__S_events_in, 1);
    ev = *in;
    if (!dt__name_ok(ev.name) || (ev.nfields && !ev.fields)) { dt__add(sl, DT__S_bad_events, 1); return; }
    if (!ev.id) ev.id = dt_id_n(ev.name.ptr, ev.name.len);
    if (!ev.ts) ev.ts = dt_now(e);
    dt__emit_checked(e, &ev, sl, 0);
}

DT_API void dt_exec_emit(dt_exec *x, const dt_event *in) {
    dt_event ev;
    if (x->depth + 1 >= DT_MAX_EMIT_DEPTH) { dt__add(x->sl, DT__S_emit_depth_exceeded, 1); return; }
    ev = *in;
    dt__add(x->sl, DT__S_events_in, 1);
    dt__add(x->sl, DT__S_events_emitted, 1);
    if (!dt__name_ok(ev.name) || (ev.nfields && !ev.fields)) { dt__add(x->sl, DT__S_bad_events, 1); return; }
    if (!ev.id) ev.id = dt_id_n(ev.name.ptr, ev.name.len);
    if (!ev.ts) ev.ts = x->ev.ts;
    if (ev.nfields > DT_MAX_FIELDS) { ev.nfields = DT_MAX_FIELDS; dt__add(x->sl, DT__S_fields_truncated, 1); }
    if (!dt__fields_ok(&ev)) { dt__add(x->sl, DT__S_bad_events, 1); return; }
    dt__process(x->e, x->p, &ev, x->sl, x->depth + 1, x->after);
}

DT_API void dt_exec_metric(dt_exec *x, const dt_metric *m) {
    if (x->e->desc.sinks.metric) x->e->desc.sinks.metric(m, x->e->desc.sinks.user_data);
}

DT_API void dt_block_lock(dt_block *b) { dt__lock_take(&b->lock, &b->e->desc.lock); }
DT_API void dt_block_unlock(dt_block *b) { dt__lock_give(&b->lock, &b->e->desc.lock); }

/* ---- actions ----------------------------------------------------------- */
/* Engine time for host-initiated calls: the latest tick, else the clock. */
static int64_t dt__engine_time(dt_engine *e) {
    int64_t t = DT__LOAD(&e->now), c = dt_now(e);
    return c > t ? c : t;
}

/* Fixed-window rate limit, checked under the engine lock (actions are rare;
 * the lock is never held while an action runs). Returns 1 if allowed. */
static int dt__rate_allow(dt_engine *e, dt__action *a, int64_t now) {
    int ok = 1;
    if (!a->rate_count) return 1;
    dt__lock_take(&e->lock, &e->desc.lock);
    /* time going backwards (two sources, clock steps) stays in the window:
     * it must never open a new one */
    if (a->used == 0 || (now > a->window_start && (uint64_t)now - (uint64_t)a->window_start >= (uint64_t)a->rate_window)) {
        a->window_start = now;
        a->used = 0;
    }
    if (a->used >= a->rate_count) ok = 0;
    else a->used++;
    dt__lock_give(&e->lock, &e->desc.lock);
    return ok;
}

static dt_action_call dt__call_of(const dt__action *a, const dt_value *args, uint32_t n, const dt_event *trigger,
                                  int64_t ts, int deferred, int suppressed) {
    dt_action_call call;
    call.action = a->name;
    call.args = args;
    call.nargs = n;
    call.trigger = trigger;
    call.ts = ts;
    call.deferred = deferred;
    call.suppressed = suppressed;
    return call;
}

static void dt__audit(dt_engine *e, const dt__action *a, const dt_value *args, uint32_t n, const dt_event *trigger,
                      int64_t ts, int deferred, int suppressed) {
    dt_action_call call = dt__call_of(a, args, n, trigger, ts, deferred, suppressed);
    if (e->desc.sinks.action) e->desc.sinks.action(&call, e->desc.sinks.user_data);
}

static void dt__call_action(dt_engine *e, dt__action *a, const dt_value *args, uint32_t n, const dt_event *trigger,
                            int64_t ts, int deferred) {
    dt_action_call call = dt__call_of(a, args, n, trigger, ts, deferred, 0);
    dt__count(e, DT__S_actions_fired, 1);
    if (e->desc.sinks.action) e->desc.sinks.action(&call, e->desc.sinks.user_data);
    a->fn(e, &call, a->user_data);
}

/* Copies string arguments into buf so they outlive the event. Returns 0
 * when they do not fit: an action never gets a silently shortened argument. */
static int dt__copy_args(dt_value *dst, const dt_value *src, uint32_t n, char *buf, size_t cap) {
    uint32_t i;
    size_t used = 0;
    for (i = 0; i < n; i++) {
        dst[i] = src[i];
        if (src[i].type == DT_TYPE_STR || src[i].type == DT_TYPE_BYTES) {
            size_t len = src[i].as.str.len;
            if (len > cap - used) return 0;
            if (len) memcpy(buf + used, src[i].as.str.ptr, len);
            dst[i].as.str = dt_strn(buf + used, len);
            used += len;
        }
    }
    return 1;
}

static int dt__defer(dt_engine *e, int32_t idx, const dt_value *args, uint32_t n, int64_t ts) {
    dt__pending *q;
    int rc = DT_OK;
    dt__lock_take(&e->pending_lock, &e->desc.lock);
    if (e->npending >= e->desc.max_pending) rc = DT_ERR_LIMIT;
    else {
        q = &e->pending[(e->pending_head + e->npending) % e->desc.max_pending];
        q->action = idx;
        q->ts = ts;
        q->nargs = n;
        if (dt__copy_args(q->args, args, n, q->bytes, sizeof q->bytes)) e->npending++;
        else rc = DT_ERR_LIMIT;                          /* strings over DT_PENDING_ARG_BYTES */
    }
    dt__lock_give(&e->pending_lock, &e->desc.lock);
    if (rc != DT_OK) {
        dt__count(e, DT__S_actions_overflow, 1);
        dt__audit(e, &e->actions[idx], args, n, NULL, ts, 1, 1);
    }
    return rc;
}

/* Fires an action: rate limit, then built-ins run now (they only touch
 * engine state), host actions run after the event's read section (inline)
 * or from dt_poll (deferred). */
static int dt__fire(dt_engine *e, dt_exec *x, int32_t idx, const dt_value *args, uint32_t n, const dt_event *trigger,
                    int64_t ts) {
    dt__action *a;
    if (idx < 0 || (uint32_t)idx >= e->nactions) return DT_ERR_UNKNOWN;
    a = &e->actions[idx];
    if (n < a->min_args || n > a->max_args) { dt__count(e, DT__S_rule_errors, 1); return DT_ERR_INVALID; }
    if (!dt__rate_allow(e, a, ts)) {
        dt__count(e, DT__S_actions_suppressed, 1);
        dt__audit(e, a, args, n, trigger, ts, a->deferred, 1);
        return DT_ERR_LIMIT;
    }
    if (a->deferred) return dt__defer(e, idx, args, n, ts);
    if (a->builtin || !x) { dt__call_action(e, a, args, n, trigger, ts, 0); return DT_OK; }
    if (x->after->n >= sizeof x->after->calls / sizeof x->after->calls[0]) return dt__defer(e, idx, args, n, ts);
    {
        dt__inline_call *ic = &x->after->calls[x->after->n];
        ic->action = idx;
        ic->trigger = NULL;                  /* the event is gone by then */
        ic->ts = ts;
        ic->nargs = n;
        if (!dt__copy_args(ic->args, args, n, ic->bytes, sizeof ic->bytes)) {
            dt__count(e, DT__S_actions_overflow, 1);
            dt__audit(e, a, args, n, trigger, ts, 0, 1);
            return DT_ERR_LIMIT;
        }
        x->after->n++;
    }
    return DT_OK;
}

static void dt__run_after(dt_engine *e, dt__after *after) {
    uint32_t i;
    for (i = 0; i < after->n; i++) {
        dt__inline_call *c = &after->calls[i];
        dt__call_action(e, &e->actions[c->action], c->args, c->nargs, NULL, c->ts, 0);
    }
}

DT_API int dt_exec_action(dt_exec *x, dt_action_ref a, const dt_value *args, uint32_t nargs) {
    return dt__fire(x->e, x, a.index, args, nargs, &x->ev, x->now);
}

static int dt__find_action(dt_engine *e, const char *name) {
    uint32_t i;
    int found = -1;
    dt__lock_take(&e->lock, &e->desc.lock);
    for (i = 0; i < e->nactions; i++) if (strcmp(e->actions[i].name, name) == 0) found = (int)i;
    dt__lock_give(&e->lock, &e->desc.lock);
    return found;
}

static int dt__action_add(dt_engine *e, const dt_action_desc *d, int builtin) {
    dt__action *a;
    uint32_t i;
    int rc = DT_OK;
    if (!e || !d || !d->name || !d->name[0] || !d->fn || strlen(d->name) > DT_MAX_NAME || d->min_args > d->max_args ||
        d->max_args > DT_MAX_ACTION_ARGS || (d->rate_count && d->rate_window_ns <= 0)) return DT_ERR_INVALID;
    dt__lock_take(&e->lock, &e->desc.lock);                /* check and insert at once */
    for (i = 0; i < e->nactions; i++) if (strcmp(e->actions[i].name, d->name) == 0) rc = DT_ERR_EXISTS;
    if (rc == DT_OK && e->nactions >= e->desc.max_actions) rc = DT_ERR_LIMIT;
    if (rc == DT_OK) {
        a = &e->actions[e->nactions];
        memset(a, 0, sizeof *a);
        a->name = dt__strdup(e, d->name, strlen(d->name));
        a->fn = d->fn;
        a->user_data = d->user_data;
        a->risk = d->risk ? (int)d->risk : DT_RISK_HIGH;
        a->deferred = d->deferred;
        a->builtin = builtin;
        a->rate_count = d->rate_count;
        a->rate_window = d->rate_window_ns;
        a->min_args = d->min_args;
        a->max_args = d->max_args;
        if (!a->name) rc = DT_ERR_NOMEM;
        else e->nactions++;
    }
    dt__lock_give(&e->lock, &e->desc.lock);
    return rc;
}

DT_API int dt_action_register(dt_engine *e, const dt_action_desc *d) { return dt__action_add(e, d, 0); }

DT_API int dt_action_invoke(dt_engine *e, const char *name, const dt_value *args, uint32_t nargs) {
    int idx, rc;
    dt__reader r;
    if (!e || !name || (nargs && !args)) return DT_ERR_INVALID;
    idx = dt__find_action(e, name);
    if (idx < 0) return DT_ERR_UNKNOWN;
    if (!e->actions[idx].builtin) return dt__fire(e, NULL, idx, args, nargs, NULL, dt__engine_time(e));
    (void)dt__read_begin(e, &r);             /* built-ins touch the running program */
    rc = dt__fire(e, NULL, idx, args, nargs, NULL, dt__engine_time(e));
    dt__read_end(&r);
    return rc;
}

DT_API int dt_poll(dt_engine *e) {
    int ran = 0;
    if (!e) return 0;
    for (;;) {
        dt__pending item;
        int have = 0;
        dt__lock_take(&e->pending_lock, &e->desc.lock);
        if (e->npending) {
            uint32_t i;
            item = e->pending[e->pending_head];
            /* the copied strings point into the queue slot: re-point them */
            for (i = 0; i < item.nargs; i++)
                if (item.args[i].type == DT_TYPE_STR || item.args[i].type == DT_TYPE_BYTES)
                    item.args[i].as.str.ptr = item.bytes + (item.args[i].as.str.ptr - e->pending[e->pending_head].bytes);
            e->pending_head = (e->pending_head + 1) % e->desc.max_pending;
            e->npending--;
            have = 1;
        }
        dt__lock_give(&e->pending_lock, &e->desc.lock);
        if (!have) break;
        dt__call_action(e, &e->actions[item.action], item.args, item.nargs, NULL, item.ts, 1);
        ran++;
    }
    return ran;
}

/* ---- flight recorders: rings and the record format ---------------------
 * A record is stored in the ring already encoded in the dump format, so a
 * flush is a copy. All integers little-endian (docs/dump-format.md):
 *   u32 len (whole record), u64 id, i64 ts, u64 tid, u8 level, u8 nfields,
 *   u16 name_len, name, then per field: u8 type, u8 name_len, name, value
 *   (null: none; bool: u8; i64/u64/f64: 8 bytes; str/bytes: u32 len, bytes). */
#define DT__DUMP_MAGIC "DTR1"
#define DT__DUMP_VERSION 1u
#define DT__REC_FIXED 32u            /* len, id, ts, tid, level, nfields, name_len */

typedef struct dt__ring {
    uint8_t *buf;
    uint32_t head, tail, used, count;
    uint64_t overwritten;
    uint64_t last_write;             /* recency, for evicting the oldest key */
    size_t key_len;
    char key[DT_MAX_KEY];
    int in_use;
} dt__ring;

typedef struct dt__record_rule {
    dt_expr *where;
} dt__record_rule;

typedef struct dt__trigger {
    int discard;
    dt_expr *where;
    dt_token at;
} dt__trigger;

struct dt__recorder {
    dt_block *block;
    uint32_t cap;                    /* bytes per ring */
    int keyed, key_tid;
    dt_str key_field;
    uint32_t max_keys, nrings;
    dt__ring *rings;
    uint32_t *index;                 /* key hash -> ring+1 */
    uint32_t index_cap;
    uint64_t clock;
    uint8_t *flush_buf;              /* threaded builds: a flush copies the ring here */
    int flushing;                    /* DT_NO_THREADS: the sink is reading a ring in place */
    dt__lock flush_lock;
    dt__record_rule *rules;
    uint32_t nrules, cap_rules;
    dt__trigger *triggers;
    uint32_t ntriggers, cap_triggers;
};

#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
#define DT__LITTLE_ENDIAN 1
#else
#define DT__LITTLE_ENDIAN 0
#endif
/* The format is little-endian; on such hosts a memcpy is the encoding. */
DT__HOT void dt__put_le(uint8_t *p, uint64_t v, int n) {
#if DT__LITTLE_ENDIAN
    memcpy(p, &v, (size_t)n);
#else
    int i;
    for (i = 0; i < n; i++) p[i] = (uint8_t)(v >> (8 * i));
#endif
}
DT__HOT uint64_t dt__get_le(const uint8_t *p, int n) {
    uint64_t v = 0;
#if DT__LITTLE_ENDIAN
    memcpy(&v, p, (size_t)n);
#else
    int i;
    for (i = 0; i < n; i++) v |= (uint64_t)p[i] << (8 * i);
#endif
    return v;
}

static size_t dt__value_size(const dt_value *v) {
    switch (v->type) {
    case DT_TYPE_NULL: return 0;
    case DT_TYPE_BOOL: return 1;
    case DT_TYPE_STR: case DT_TYPE_BYTES: return 4 + v->as.str.len;
    default: return 8;
    }
}

static uint32_t dt__record_fields(const dt_event *ev) { return ev->nfields > 255 ? 255u : ev->nfields; }
static size_t dt__field_name_len(const dt_field *f) { return f->name.len > 255 ? 255 : f->name.len; }

static size_t dt__record_size(const dt_event *ev) {
    size_t n = DT__REC_FIXED + ev->name.len;
    uint32_t i;
    for (i = 0; i < dt__record_fields(ev); i++) {
        n += 2 + dt__field_name_len(&ev->fields[i]) + dt__value_size(&ev->fields[i].value);
        if (n > UINT32_MAX) return SIZE_MAX;
    }
    return n;
}

static void dt__ring_write(dt__ring *r, uint32_t cap, const void *src, size_t n) {
    const uint8_t *s = (const uint8_t *)src;
    size_t first = cap - r->head < n ? cap - r->head : n;
    memcpy(r->buf + r->head, s, first);
    if (n > first) memcpy(r->buf, s + first, n - first);
    r->head = (uint32_t)((r->head + n) % cap);
}

static void dt__ring_evict(dt__ring *r, uint32_t cap) {
    uint8_t len[4];
    uint32_t i, n;
    if (r->tail + 4 <= cap) memcpy(len, r->buf + r->tail, 4);
    else for (i = 0; i < 4; i++) len[i] = r->buf[(r->tail + i) % cap];
    n = (uint32_t)dt__get_le(len, 4);
    r->tail = (r->tail + n) % cap;
    r->used -= n;
    r->count--;
    r->overwritten++;
}

/* A record is written in pieces; small pieces are gathered in a stack
 * buffer so the ring sees few copies (most records are small). */
typedef struct dt__rec_out {
    dt__ring *r;
    uint32_t cap;
    uint32_t n;
    uint8_t buf[256];
} dt__rec_out;

static void dt__out_flush(dt__rec_out *o) {
    if (o->n) dt__ring_write(o->r, o->cap, o->buf, o->n);
    o->n = 0;
}
DT__HOT void dt__out(dt__rec_out *o, const void *p, size_t n) {
    if (n > sizeof o->buf - o->n) {
        dt__out_flush(o);
        if (n > sizeof o->buf) { dt__ring_write(o->r, o->cap, p, n); return; }
    }
    if (n) memcpy(o->buf + o->n, p, n);
    o->n += (uint32_t)n;
}
DT__HOT void dt__out_le(dt__rec_out *o, uint64_t v, int n) {
    uint8_t b[8];
    dt__put_le(b, v, n);
    dt__out(o, b, (size_t)n);
}

static void dt__out_value(dt__rec_out *o, const dt_value *v) {
    uint64_t bits;
    switch (v->type) {
    case DT_TYPE_NULL: return;
    case DT_TYPE_BOOL: dt__out_le(o, v->as.b != 0, 1); return;
    case DT_TYPE_STR: case DT_TYPE_BYTES:
        dt__out_le(o, v->as.str.len, 4);
        dt__out(o, v->as.str.ptr, v->as.str.len);
        return;
    case DT_TYPE_F64: memcpy(&bits, &v->as.f64, 8); dt__out_le(o, bits, 8); return;
    default: dt__out_le(o, v->as.u64, 8); return;
    }
}

/* Appends one record, evicting the oldest ones to make room. Returns 0 if
 * the record can never fit. Caller holds the recorder lock. */
static int dt__ring_append(dt__ring *r, uint32_t cap, const dt_event *ev, size_t size, uint64_t *evicted) {
    dt__rec_out o;
    uint32_t i;
    uint64_t before = r->overwritten;
    if (size > cap) return 0;
    while (cap - r->used < size) dt__ring_evict(r, cap);
    *evicted += r->overwritten - before;
    o.r = r; o.cap = cap; o.n = 0;
    dt__out_le(&o, size, 4);
    dt__out_le(&o, ev->id, 8);
    dt__out_le(&o, (uint64_t)ev->ts, 8);
    dt__out_le(&o, ev->tid, 8);
    dt__out_le(&o, (uint64_t)(ev->level < 0 ? 0 : ev->level > 255 ? 255 : ev->level), 1);
    dt__out_le(&o, dt__record_fields(ev), 1);
    dt__out_le(&o, ev->name.len, 2);
    dt__out(&o, ev->name.ptr, ev->name.len);
    for (i = 0; i < dt__record_fields(ev); i++) {
        const dt_field *f = &ev->fields[i];
        dt__out_le(&o, (uint64_t)f->value.type, 1);
        dt__out_le(&o, dt__field_name_len(f), 1);
        dt__out(&o, f->name.ptr, dt__field_name_len(f));
        dt__out_value(&o, &f->value);
    }
    dt__out_flush(&o);
    r->used += (uint32_t)size;
    r->count++;
    return 1;
}

/* The ring's bytes oldest first, as one or two segments. */
static uint32_t dt__ring_segments(const dt__ring *r, uint32_t cap, dt_chunk *seg) {
    if (!r->used) return 0;
    if (r->tail + r->used <= cap) {
        seg[0].ptr = r->buf + r->tail;
        seg[0].len = r->used;
        return 1;
    }
    seg[0].ptr = r->buf + r->tail;
    seg[0].len = cap - r->tail;
    seg[1].ptr = r->buf;
    seg[1].len = r->used - seg[0].len;
    return 2;
}

static void dt__ring_reset(dt__ring *r) { r->head = r->tail = r->used = r->count = 0; r->overwritten = 0; }

/* ---- flight recorders: dumps ------------------------------------------- */
static size_t dt__dump_header(uint8_t *h, dt_str recorder, dt_str key, int64_t ts, uint32_t records,
                              uint64_t overwritten, uint32_t flags) {
    size_t n = 0;
    memcpy(h, DT__DUMP_MAGIC, 4); n += 4;
    dt__put_le(h + n, DT__DUMP_VERSION, 2); n += 2;
    dt__put_le(h + n, flags, 2); n += 2;
    dt__put_le(h + n, (uint64_t)ts, 8); n += 8;
    dt__put_le(h + n, records, 4); n += 4;
    dt__put_le(h + n, overwritten, 8); n += 8;
    dt__put_le(h + n, recorder.len, 2); n += 2;
    memcpy(h + n, recorder.ptr, recorder.len); n += recorder.len;
    dt__put_le(h + n, key.len, 2); n += 2;
    if (key.len) memcpy(h + n, key.ptr, key.len);
    return n + key.len;
}

static void dt__dump_send(dt_engine *e, dt__recorder *rec, const dt__ring *r, const dt_chunk *segs, uint32_t nsegs,
                          uint32_t flags, int64_t ts) {
    uint8_t hdr[40 + DT_MAX_NAME + DT_MAX_KEY];
    dt_chunk chunks[3];
    dt_dump d;
    uint32_t i;
    dt_str key = dt_strn(r->key, rec->keyed ? r->key_len : 0);
    chunks[0].ptr = hdr;
    chunks[0].len = dt__dump_header(hdr, rec->block->name, key, ts, r->count, r->overwritten, flags);
    for (i = 0; i < nsegs; i++) chunks[i + 1] = segs[i];
    d.recorder = rec->block->name;
    d.key = key;
    d.records = r->count;
    d.overwritten = r->overwritten;
    d.ts = ts;
    d.nchunks = nsegs + 1;
    d.chunks = chunks;
    d.flags = flags;
    dt__count(e, DT__S_recorder_dumps, 1);
    if (e->desc.sinks.dump) e->desc.sinks.dump(&d, e->desc.sinks.user_data);
}

static DT__TLS int dt__tls_in_dump;

/* A keyed ring may have gone to another key since it was picked for a
 * flush: then it is not this flush's to send. */
static int dt__ring_is_for(const dt__recorder *rec, const dt__ring *r, const dt_str *key) {
    return !rec->keyed || (r->in_use && (!key || dt__str_eq(dt_strn(r->key, r->key_len), *key)));
}

#if DT_NO_THREADS
/* One thread: the dump sink reads the ring where it lies, so a recorder
 * needs no flush buffer (a ring's size of RAM saved), and the ring is reset
 * once the sink returns. Records this recorder would take meanwhile (events
 * the sink itself emits) are refused and counted in overflows, so the dump
 * is never torn. A flush from inside a dump sink is refused. */
static int dt__ring_flush(dt_engine *e, dt__recorder *rec, dt__ring *r, const dt_str *key, int64_t ts) {
    dt_chunk seg[2];
    uint32_t n;
    if (dt__tls_in_dump) { dt__count(e, DT__S_rule_errors, 1); return DT_ERR_INVALID; }
    if (!dt__ring_is_for(rec, r, key)) return DT_OK;
    if (r->count) {
        n = dt__ring_segments(r, rec->cap, seg);
        dt__tls_in_dump = rec->flushing = 1;
        dt__dump_send(e, rec, r, seg, n, 0, ts);
        dt__tls_in_dump = rec->flushing = 0;
    }
    dt__ring_reset(r);
    return DT_OK;
}
#else
/* Flushes one ring: copy out under the recorder lock (appends keep going
 * meanwhile), then hand the copy to the dump sink. The sink runs holding
 * only this recorder's flush lock: plain appends never take it; another
 * flush of the same recorder waits for it, and that includes a `flush when`
 * trigger on an emitting thread. A flush from inside a dump sink could wait
 * for itself (or cross another thread's flush): refused. */
static int dt__ring_flush(dt_engine *e, dt__recorder *rec, dt__ring *r, const dt_str *key, int64_t ts) {
    dt__ring snap;
    dt_chunk seg[2], whole;
    uint32_t n, i;
    size_t off = 0;
    if (dt__tls_in_dump) { dt__count(e, DT__S_rule_errors, 1); return DT_ERR_INVALID; }
    dt__lock_take(&rec->flush_lock, &e->desc.lock);
    dt__lock_take(&rec->block->lock, &e->desc.lock);
    if (!dt__ring_is_for(rec, r, key)) {
        dt__lock_give(&rec->block->lock, &e->desc.lock);
        dt__lock_give(&rec->flush_lock, &e->desc.lock);
        return DT_OK;
    }
    snap = *r;
    n = dt__ring_segments(r, rec->cap, seg);
    for (i = 0; i < n; i++) { memcpy(rec->flush_buf + off, seg[i].ptr, seg[i].len); off += seg[i].len; }
    dt__ring_reset(r);
    dt__lock_give(&rec->block->lock, &e->desc.lock);
    if (snap.count) {
        whole.ptr = rec->flush_buf;
        whole.len = off;
        dt__tls_in_dump = 1;
        dt__dump_send(e, rec, &snap, &whole, 1, 0, ts);
        dt__tls_in_dump = 0;
    }
    dt__lock_give(&rec->flush_lock, &e->desc.lock);
    return DT_OK;
}
#endif

static void dt__ring_discard(dt_engine *e, dt__recorder *rec, dt__ring *r) {
    dt__lock_take(&rec->block->lock, &e->desc.lock);
    dt__ring_reset(r);
    dt__lock_give(&rec->block->lock, &e->desc.lock);
}

/* ---- flight recorders: keys -------------------------------------------- */
static uint32_t dt__key_hash(dt_str k) { uint64_t h = dt__fnv1a(k.ptr, k.len); return (uint32_t)(h ^ (h >> 32)); }

static dt__ring *dt__key_find(dt__recorder *rec, dt_str k, uint32_t *slot) {
    uint32_t mask = rec->index_cap - 1u, i = dt__key_hash(k) & mask, v;
    while ((v = rec->index[i]) != 0) {
        dt__ring *r = &rec->rings[v - 1];
        if (dt__str_eq(dt_strn(r->key, r->key_len), k)) { *slot = i; return r; }
        i = (i + 1) & mask;
    }
    *slot = i;
    return NULL;
}

/* Linear-probing delete: re-seat the rest of the cluster. */
static void dt__key_remove(dt__recorder *rec, uint32_t slot) {
    uint32_t mask = rec->index_cap - 1u, i = (slot + 1) & mask, v;
    rec->index[slot] = 0;
    while ((v = rec->index[i]) != 0) {
        uint32_t s;
        dt__ring *r = &rec->rings[v - 1];
        rec->index[i] = 0;
        (void)dt__key_find(rec, dt_strn(r->key, r->key_len), &s);
        rec->index[s] = v;
        i = (i + 1) & mask;
    }
}

static void dt__key_drop(dt__recorder *rec, dt__ring *r) {
    uint32_t slot;
    if (dt__key_find(rec, dt_strn(r->key, r->key_len), &slot)) dt__key_remove(rec, slot);
    r->in_use = 0;
    dt__ring_reset(r);
}

/* The ring for key k, creating it; when all keys are taken the least
 * recently written ring is evicted (its records counted as overwritten). */
static dt__ring *dt__key_ring(dt_exec *x, dt__recorder *rec, dt_str k) {
    uint32_t slot, i, pick = 0;
    dt__ring *r = dt__key_find(rec, k, &slot);
    if (r) return r;
    for (i = 0; i < rec->max_keys; i++) if (!rec->rings[i].in_use) break;
    if (i == rec->max_keys) {
        for (i = 1; i < rec->max_keys; i++) if (rec->rings[i].last_write < rec->rings[pick].last_write) pick = i;
        dt__add(x->sl, DT__S_overflows, 1);
        dt__add(x->sl, DT__S_recorder_overwritten, rec->rings[pick].count);
        dt__key_drop(rec, &rec->rings[pick]);
        i = pick;
        (void)dt__key_find(rec, k, &slot);
    }
    r = &rec->rings[i];
    r->in_use = 1;
    r->key_len = k.len;
    memcpy(r->key, k.ptr, k.len);
    rec->index[slot] = i + 1;
    return r;
}

/* A key's bytes: strings as they are, numbers in decimal. */
static int dt__key_of(dt_exec *x, const dt__recorder *rec, const dt_event *ev, char *buf, dt_str *out) {
    dt_value v;
    const dt_value *f;
    char num[24];
    dt__sb b = dt__sb_make(num, sizeof num);
    if (rec->key_tid) { v = dt__u64(ev->tid); }
    else {
        f = dt_exec_field(x, rec->key_field);
        if (!f || f->type == DT_TYPE_NULL) return 0;
        v = *f;
    }
    switch (v.type) {
    case DT_TYPE_STR: case DT_TYPE_BYTES: *out = v.as.str; break;
    case DT_TYPE_I64: dt__sb_i64(&b, v.as.i64); *out = dt_strn(num, b.len); break;
    case DT_TYPE_U64: dt__sb_u64(&b, v.as.u64); *out = dt_strn(num, b.len); break;
    case DT_TYPE_BOOL: *out = dt_cstr(v.as.b ? "true" : "false"); break;
    default: return 0;                                       /* f64 keys are not stable */
    }
    if (out->len > DT_MAX_KEY) { dt__add(x->sl, DT__S_overflows, 1); return 0; }   /* never cut, never merge keys */
    if (out->len) memcpy(buf, out->ptr, out->len);
    *out = dt_strn(buf, out->len);
    return 1;
}

/* ---- flight recorders: the `recorder` block ---------------------------- */
enum { DT__TAG_RECORD = 0, DT__TAG_TRIGGER = 1 };
#define DT__TAG(kind, i) ((int)((uint32_t)(i) << 1 | (uint32_t)(kind)))

static DT__TLS int dt__tls_emergency;   /* this thread holds a ring lock for an emergency dump */

static void dt__recorder_append(dt_exec *x, dt__recorder *rec) {
    char kb[DT_MAX_KEY + 1];
    dt_str key = dt_strn("", 0);
    dt__ring *r;
    uint64_t evicted = 0;
    size_t size;
    int ok;
    /* an emergency dump holds the lock already; an in-place flush is reading the ring */
    if (dt__tls_emergency || (DT_NO_THREADS && rec->flushing)) { dt__add(x->sl, DT__S_overflows, 1); return; }
    size = dt__record_size(&x->ev);
    /* the copy made is bounded by the ring: a record too big is refused, not copied */
    if (dt__charge(x, (uint32_t)((size < rec->cap ? size : rec->cap) / 64u + 1u))) return;
    if (rec->keyed && !dt__key_of(x, rec, &x->ev, kb, &key)) return;   /* no key: not recorded */
    dt_block_lock(rec->block);
    r = rec->keyed ? dt__key_ring(x, rec, key) : &rec->rings[0];
    r->last_write = ++rec->clock;
    ok = dt__ring_append(r, rec->cap, &x->ev, size, &evicted);
    dt_block_unlock(rec->block);
    if (!ok) { dt__add(x->sl, DT__S_recorder_too_big, 1); return; }
    dt__add(x->sl, DT__S_recorder_records, 1);
    if (evicted) dt__add(x->sl, DT__S_recorder_overwritten, evicted);
}

/* Flush or discard, for one key, or every ring when key is NULL. */
static int dt__recorder_act(dt_engine *e, dt__recorder *rec, const dt_str *key, int discard, int64_t ts) {
    uint32_t i;
    int rc = DT_OK;
    for (i = 0; i < rec->nrings; i++) {
        dt__ring *r = &rec->rings[i];
        if (rec->keyed) {
            int match;
            dt_block_lock(rec->block);
            match = r->in_use && (!key || dt__str_eq(dt_strn(r->key, r->key_len), *key));
            if (match && discard) dt__key_drop(rec, r);
            dt_block_unlock(rec->block);
            if (!match || discard) continue;
        }
        if (discard) dt__ring_discard(e, rec, r);
        else if (dt__ring_flush(e, rec, r, key, ts) != DT_OK) rc = DT_ERR_INVALID;
    }
    return rc;
}

static void dt__recorder_on_event(dt_block *b, dt_exec *x, int tag) {
    dt__recorder *rec = (dt__recorder *)b->state;
    uint32_t i = (uint32_t)tag >> 1;
    if ((tag & 1) == DT__TAG_RECORD) {
        if (dt_eval_bool(x, rec->rules[i].where)) dt__recorder_append(x, rec);
        return;
    }
    if (dt_eval_bool(x, rec->triggers[i].where)) {
        static const char *const names[] = {"flush", "discard"};
        dt_value args[2];
        char kb[DT_MAX_KEY + 1];
        dt_str key;
        uint32_t n = 1;
        args[0] = dt__strv(b->name);
        if (rec->keyed) {
            /* a trigger without the key would act on every transaction: refuse */
            if (!dt__key_of(x, rec, &x->ev, kb, &key)) { dt_exec_rule_error(x); return; }
            args[1] = dt__strv(key);
            n = 2;
        }
        dt__fire(x->e, x, dt__find_action(x->e, names[rec->triggers[i].discard]), args, n, &x->ev, x->now);
    }
}

static int dt__recorder_rule(dt_compiler *c, dt_block *b, dt__recorder *rec, int trigger) {
    dt_pattern pats[16];
    uint32_t n = 0, i;
    dt_expr *where = NULL;
    int discard = 0;
    dt_token at = *dt_peek(c);
    if (trigger) {
        discard = dt_is(&at, "discard");
        dt_next(c);
        if (dt_expect(c, "when", "write: flush when EventName [where condition]")) return c->failed;
    } else dt_next(c);
    do {
        if (n == 16) return dt_compile_error(c, dt_peek(c), DT_ERR_LIMIT, "at most 16 patterns per line", NULL);
        if (dt_expect_pattern(c, &pats[n++])) return c->failed;
    } while (dt_accept(c, ","));
    dt_compiler_scope(c, pats, n);
    if (dt_accept(c, "where") && dt_parse_condition(c, &where)) return c->failed;
    if (!trigger) {
        if (!DT__PUSH(c, rec->rules, rec->nrules, rec->cap_rules)) return c->failed;
        rec->rules[rec->nrules].where = where;
        for (i = 0; i < n; i++) dt_subscribe(c, b, &pats[i], DT__TAG(DT__TAG_RECORD, rec->nrules));
        rec->nrules++;
    } else {
        dt_action_ref ref;
        dt_token name = at;
        if (!DT__PUSH(c, rec->triggers, rec->ntriggers, rec->cap_triggers)) return c->failed;
        name.text = dt_cstr(discard ? "discard" : "flush");
        if (dt_compiler_action(c, &name, &ref)) return c->failed;
        rec->triggers[rec->ntriggers].discard = discard;
        rec->triggers[rec->ntriggers].where = where;
        rec->triggers[rec->ntriggers].at = at;
        for (i = 0; i < n; i++) dt_subscribe(c, b, &pats[i], DT__TAG(DT__TAG_TRIGGER, rec->ntriggers));
        rec->ntriggers++;
    }
    return c->failed;
}

static int dt__recorder_settings(dt_compiler *c, dt__recorder *rec) {
    dt_token at = *dt_peek(c);                   /* a copy: consuming moves the lookahead */
    const dt_token *t = &at;
    if (dt_accept(c, "capacity")) {
        uint64_t bytes;
        if (dt_expect_size(c, &bytes)) return c->failed;
        if (bytes < 64 || bytes > ((uint64_t)64 << 20))
            return dt_compile_error(c, t, DT_ERR_LIMIT, "recorder capacity out of range", "use 64 bytes to 64MiB");
        rec->cap = (uint32_t)bytes;
    } else if (dt_accept(c, "by")) {
        dt_str f;
        if (dt_expect_ident(c, &f, "a key field name (or tid)")) return c->failed;
        rec->keyed = 1;
        rec->key_tid = dt__str_eqc(f, "tid");
        rec->key_field = dt_compiler_strdup(c, f);
    } else if (dt_accept(c, "keys")) {
        int64_t k;
        if (dt_expect_int(c, 1, 4096, &k, "the number of keys")) return c->failed;
        rec->max_keys = (uint32_t)k;
    } else {
        return dt__expected(c, t, "record, flush, discard, capacity, by or keys", "close the recorder with '}'");
    }
    return DT_OK;
}

static int dt__recorder_alloc(dt_compiler *c, dt__recorder *rec) {
    uint32_t i;
    size_t ring_bytes;
    c->alloc_at = &rec->block->at;               /* memory errors point at the recorder */
    rec->nrings = rec->keyed ? rec->max_keys : 1u;
    ring_bytes = (size_t)rec->nrings * rec->cap;
    if (ring_bytes / rec->nrings != rec->cap) return dt_compile_error(c, &rec->block->at, DT_ERR_LIMIT, "recorder too large", NULL);
    rec->rings = (dt__ring *)dt_compiler_alloc(c, sizeof(dt__ring) * rec->nrings);
    if (!rec->rings || (!DT_NO_THREADS && !(rec->flush_buf = (uint8_t *)dt_compiler_alloc(c, rec->cap))))
        return c->failed;
    for (i = 0; i < rec->nrings; i++)
        if (!(rec->rings[i].buf = (uint8_t *)dt_compiler_alloc(c, rec->cap))) return c->failed;
    if (rec->keyed) {
        rec->index_cap = dt__pow2_at_least(rec->max_keys * 2u);
        if (!(rec->index = (uint32_t *)dt_compiler_alloc(c, sizeof(uint32_t) * rec->index_cap))) return c->failed;
    }
    if (!rec->keyed) rec->rings[0].in_use = 1;
    c->p->recorder_bytes += ring_bytes + (DT_NO_THREADS ? 0u : rec->cap);
    c->alloc_at = NULL;
    return DT_OK;
}

/* recorder NAME { record P[, P...] [where E] | flush when P [where E] |
 *                 discard when P [where E] | capacity SIZE | by FIELD | keys N } */
static int dt__recorder_compile(dt_compiler *c, dt_block *b) {
    dt__recorder *rec = (dt__recorder *)dt_compiler_alloc(c, sizeof *rec);
    dt_str name;
    if (!rec || dt_expect_ident(c, &name, "a recorder name")) return c->failed;
    rec->block = b;
    rec->cap = 4096;
    rec->max_keys = 64;
    b->name = dt_compiler_strdup(c, name);
    b->state = rec;
    dt__lock_init(&rec->flush_lock, &c->e->desc.lock);
    if (dt_expect(c, "{", "a recorder's settings go in braces: recorder crash { record * }")) return c->failed;
    while (!c->failed && !dt_accept(c, "}")) {
        const dt_token *t = dt_peek(c);
        if (t->kind == DT_TOK_EOF) return dt_expect(c, "}", "close the recorder block");
        if (dt_accept(c, ";")) continue;
        if (dt_is(t, "record")) dt__recorder_rule(c, b, rec, 0);
        else if (dt_is(t, "flush") || dt_is(t, "discard")) dt__recorder_rule(c, b, rec, 1);
        else dt__recorder_settings(c, rec);
    }
    if (c->failed) return c->failed;
    if (!rec->nrules)
        return dt_compile_error(c, &b->at, DT_ERR_SYNTAX, "a recorder needs at least one record line",
                                "add: record EventName (or record * where level >= debug)");
    if (!DT__PUSH(c, c->recorders, c->nrecorders, c->cap_recorders)) return c->failed;
    c->recorders[c->nrecorders++] = rec;
    return dt__recorder_alloc(c, rec);
}

static void dt__recorder_destroy(dt_block *b) {
    dt__recorder *rec = (dt__recorder *)b->state;
    if (rec) dt__lock_fini(&rec->flush_lock, &b->e->desc.lock);
}

static const dt_processor dt__recorder_processor = {
    "recorder", DT_RISK_LOW, dt__recorder_compile, dt__recorder_on_event, NULL, NULL, dt__recorder_destroy, NULL, NULL
};

static dt__recorder *dt__recorder_find(dt__program *p, dt_str name) {
    uint32_t i;
    for (i = 0; p && i < p->nrecorders; i++) if (dt__str_eq(p->recorders[i]->block->name, name)) return p->recorders[i];
    return NULL;
}

static int dt__recorder_public(dt_engine *e, const char *name, const char *key, int discard) {
    dt__reader r;
    dt__recorder *rec;
    dt_str k = dt_cstr(key);
    int rc = DT_OK;
    if (!e || !name) return DT_ERR_INVALID;
    rec = dt__recorder_find(dt__read_begin(e, &r), dt_cstr(name));
    if (!rec) rc = DT_ERR_UNKNOWN;
    else rc = dt__recorder_act(e, rec, key ? &k : NULL, discard, dt__engine_time(e));
    dt__read_end(&r);
    return rc;
}

DT_API int dt_recorder_flush(dt_engine *e, const char *recorder, const char *key) { return dt__recorder_public(e, recorder, key, 0); }
DT_API int dt_recorder_discard(dt_engine *e, const char *recorder, const char *key) { return dt__recorder_public(e, recorder, key, 1); }

/* For a fatal-signal path: no waiting. A ring whose lock is held elsewhere
 * is read as it stands and the dump is flagged torn; nothing is reset. */
DT_API int dt_recorder_flush_emergency(dt_engine *e, const char *recorder) {
    dt__reader rd;
    dt__recorder *rec;
    uint32_t i;
    if (!e || !recorder) return DT_ERR_INVALID;
    /* a read section never waits, so it is safe here and keeps a deploy
     * finishing on another thread from freeing the recorder under us */
    rec = dt__recorder_find(dt__read_begin(e, &rd), dt_cstr(recorder));
    if (!rec) { dt__read_end(&rd); return DT_ERR_UNKNOWN; }
    for (i = 0; i < rec->nrings; i++) {
        dt__ring *r = &rec->rings[i];
        dt_chunk seg[2];
        int locked = !rec->block->lock.host && dt__spin_trylock(&rec->block->lock.spin, 1000);
        if (r->in_use && r->count) {
            uint32_t n = dt__ring_segments(r, rec->cap, seg);
            dt__tls_emergency = locked;
            dt__dump_send(e, rec, r, seg, n, locked ? 0u : (uint32_t)DT_DUMP_TORN, dt__engine_time(e));
            dt__tls_emergency = 0;
        }
        if (locked) dt__spin_unlock(&rec->block->lock.spin);
    }
    dt__read_end(&rd);
    return DT_OK;
}

/* ---- flight recorders: decoding a dump --------------------------------- */
typedef struct dt__reader_buf {
    const uint8_t *p;
    size_t len, off;
    int bad;
} dt__rbuf;

static uint64_t dt__rd(dt__rbuf *b, int n) {
    uint64_t v;
    if (b->bad || b->len - b->off < (size_t)n) { b->bad = 1; return 0; }
    v = dt__get_le(b->p + b->off, n);
    b->off += (size_t)n;
    return v;
}

static dt_str dt__rd_bytes(dt__rbuf *b, size_t n) {
    dt_str s = dt_strn("", 0);
    if (b->bad || b->len - b->off < n) { b->bad = 1; return s; }
    s = dt_strn((const char *)b->p + b->off, n);
    b->off += n;
    return s;
}

static int dt__rd_value(dt__rbuf *b, int type, dt_value *v) {
    v->type = (dt_type)type;
    v->as.u64 = 0;
    switch (type) {
    case DT_TYPE_NULL: return 1;
    case DT_TYPE_BOOL: v->as.b = dt__rd(b, 1) != 0; return 1;
    case DT_TYPE_I64: case DT_TYPE_U64: v->as.u64 = dt__rd(b, 8); return 1;
    case DT_TYPE_F64: { uint64_t bits = dt__rd(b, 8); memcpy(&v->as.f64, &bits, 8); return 1; }
    case DT_TYPE_STR: case DT_TYPE_BYTES: v->as.str = dt__rd_bytes(b, (size_t)dt__rd(b, 4)); return 1;
    default: return 0;
    }
}

static int dt__rd_record(dt__rbuf *b, dt_field *fields, dt_event *ev) {
    size_t start = b->off, len = (size_t)dt__rd(b, 4);
    uint32_t i;
    if (b->bad || len < DT__REC_FIXED || len - 4 > b->len - b->off) return 0;
    ev->id = dt__rd(b, 8);
    ev->ts = (int64_t)dt__rd(b, 8);
    ev->tid = dt__rd(b, 8);
    ev->level = (int)dt__rd(b, 1);
    ev->nfields = (uint32_t)dt__rd(b, 1);
    ev->name = dt__rd_bytes(b, (size_t)dt__rd(b, 2));
    ev->fields = fields;
    for (i = 0; i < ev->nfields && !b->bad; i++) {
        int type = (int)dt__rd(b, 1);
        fields[i].name = dt__rd_bytes(b, (size_t)dt__rd(b, 1));
        if (!dt__rd_value(b, type, &fields[i].value)) return 0;
    }
    return !b->bad && b->off - start == len;
}

DT_API int dt_dump_decode(const uint8_t *bytes, size_t len, void (*on_header)(const dt_dump_header *h, void *ud),
                          void (*on_record)(const dt_event *ev, void *ud), void *ud, size_t *bad_offset) {
    dt__rbuf b;
    dt_dump_header h;
    dt_field fields[255];
    uint32_t i;
    b.p = bytes; b.len = bytes ? len : 0; b.off = 0; b.bad = 0;
    if (b.len < 4 || memcmp(bytes, DT__DUMP_MAGIC, 4) != 0) { if (bad_offset) *bad_offset = 0; return DT_ERR_INVALID; }
    b.off = 4;
    h.version = (uint32_t)dt__rd(&b, 2);
    h.flags = (uint32_t)dt__rd(&b, 2);
    h.ts = (int64_t)dt__rd(&b, 8);
    h.records = (uint32_t)dt__rd(&b, 4);
    h.overwritten = dt__rd(&b, 8);
    h.recorder = dt__rd_bytes(&b, (size_t)dt__rd(&b, 2));
    h.key = dt__rd_bytes(&b, (size_t)dt__rd(&b, 2));
    if (b.bad || h.version != DT__DUMP_VERSION) { if (bad_offset) *bad_offset = b.off; return DT_ERR_INVALID; }
    if (on_header) on_header(&h, ud);
    for (i = 0; i < h.records; i++) {
        dt_event ev;
        size_t at = b.off;
        if (!dt__rd_record(&b, fields, &ev)) { if (bad_offset) *bad_offset = at; return DT_ERR_INVALID; }
        if (on_record) on_record(&ev, ud);
    }
    if (b.off != b.len) { if (bad_offset) *bad_offset = b.off; return DT_ERR_INVALID; }
    return DT_OK;
}

/* ---- dynamic verbosity: the `level` statement -------------------------- */
typedef struct dt__level_trigger {
    dt_pattern *targets;
    uint32_t ntargets;
    int level;
    int64_t duration;
    dt_expr *where;
    dt_action_ref set_level;
} dt__level_trigger;

static dt_value dt__pattern_value(dt_exec *x, const dt_pattern *p) {
    char *buf;
    if (!p->prefix) return dt__strv(p->text);
    buf = (char *)dt_exec_scratch(x, p->text.len + 1);
    if (!buf) return dt__strv(p->text);
    memcpy(buf, p->text.ptr, p->text.len);
    buf[p->text.len] = '*';
    return dt__strv(dt_strn(buf, p->text.len + 1));
}

/* Levels travel to set_level by name where they have one (readable in
 * the action audit), else by number. */
static dt_value dt__level_value(int level) {
    const char *n = dt_level_name(level);
    return n[0] ? dt__strv(dt_cstr(n)) : dt__i64(level);
}

static void dt__level_on_event(dt_block *b, dt_exec *x, int tag) {
    dt__level_trigger *t = (dt__level_trigger *)b->state;
    uint32_t i;
    (void)tag;
    if (!dt_eval_bool(x, t->where)) return;
    for (i = 0; i < t->ntargets; i++) {
        dt_value args[3];
        args[0] = dt__pattern_value(x, &t->targets[i]);
        args[1] = dt__level_value(t->level);
        args[2] = dt__i64(t->duration);
        dt_exec_action(x, t->set_level, args, 3);
    }
}

static int dt__level_patterns(dt_compiler *c, dt_pattern *pats, uint32_t *n) {
    *n = 0;
    do {
        if (*n == 16) return dt_compile_error(c, dt_peek(c), DT_ERR_LIMIT, "at most 16 patterns per statement", NULL);
        if (dt_expect_pattern(c, &pats[(*n)++])) return c->failed;
    } while (dt_accept(c, ","));
    return DT_OK;
}

static int dt__level_static(dt_compiler *c, const dt_pattern *pats, uint32_t n, int level, int64_t dur) {
    uint32_t i;
    for (i = 0; i < n; i++) {
        if (dur) {
            if (!DT__PUSH(c, c->boosts, c->nboosts, c->cap_boosts)) return c->failed;
            c->boosts[c->nboosts].pattern = pats[i];
            c->boosts[c->nboosts].level = level;
            c->boosts[c->nboosts++].duration = dur;
        } else {                                     /* duplicates are resolved at link: last wins */
            if (!DT__PUSH(c, c->levels, c->nlevels, c->cap_levels)) return c->failed;
            c->levels[c->nlevels].pattern = pats[i];
            c->levels[c->nlevels].level = level;
            c->levels[c->nlevels].order = c->nlevels;
            c->nlevels++;
        }
    }
    return DT_OK;
}

/* level P[, P...] = LEVEL [for DURATION [when P[, P...] [where E]]] */
static int dt__level_compile(dt_compiler *c, dt_block *b) {
    dt_pattern pats[16], when[16];
    uint32_t n, nwhen, i;
    int level;
    int64_t dur = 0;
    dt_token at = *dt_peek(c);
    dt__level_trigger *t;
    if (dt__level_patterns(c, pats, &n) || dt_expect(c, "=", "write: level Name = debug") || dt_expect_level(c, &level))
        return c->failed;
    if (dt_accept(c, "for")) {
        dt_token d = *dt_peek(c);
        if (dt_expect_duration(c, &dur)) return c->failed;
        if (dur <= 0) return dt_compile_error(c, &d, DT_ERR_SYNTAX, "a timed level change needs a duration above zero",
                                              "drop `for ...` for a permanent rule, or write for 5m");
    }
    if (!dt_is(dt_peek(c), "when")) {
        dt_action_ref ref;
        at.text = dt_cstr("set_level");               /* a timed change runs set_level: its risk counts */
        if (dur && dt_compiler_action(c, &at, &ref)) return c->failed;
        return dt__level_static(c, pats, n, level, dur);
    }
    if (!dur) return dt_compile_error(c, dt_peek(c), DT_ERR_SYNTAX, "a triggered level change needs a duration",
                                      "add one before when: level Http* = debug for 5m when ...");
    dt_next(c);
    if (dt__level_patterns(c, when, &nwhen)) return c->failed;
    t = (dt__level_trigger *)dt_compiler_alloc(c, sizeof *t);
    if (!t) return c->failed;
    dt_compiler_scope(c, when, nwhen);
    if (dt_accept(c, "where") && dt_parse_condition(c, &t->where)) return c->failed;
    t->targets = (dt_pattern *)dt_compiler_alloc(c, sizeof(dt_pattern) * n);
    if (!t->targets) return c->failed;
    memcpy(t->targets, pats, sizeof(dt_pattern) * n);
    t->ntargets = n;
    t->level = level;
    t->duration = dur;
    at.text = dt_cstr("set_level");
    if (dt_compiler_action(c, &at, &t->set_level)) return c->failed;
    b->state = t;
    for (i = 0; i < nwhen; i++) dt_subscribe(c, b, &when[i], 0);
    return c->failed;
}

static const dt_processor dt__level_processor = {
    "level", DT_RISK_LOW, dt__level_compile, dt__level_on_event, NULL, NULL, NULL, NULL, NULL
};

/* ---- built-in actions --------------------------------------------------- */
static int dt__arg_str(const dt_action_call *c, uint32_t i, dt_str *out) {
    if (i >= c->nargs || c->args[i].type != DT_TYPE_STR) return 0;
    *out = c->args[i].as.str;
    return 1;
}

static int dt__arg_level(const dt_value *v) {
    if (v->type == DT_TYPE_I64) return (int)(v->as.i64 < 0 ? -1 : v->as.i64 > 255 ? -1 : v->as.i64);
    if (v->type == DT_TYPE_STR) return dt_level_parse(v->as.str.ptr, v->as.str.len);
    return -1;
}

static void dt__act_set_level(dt_engine *e, const dt_action_call *c, void *ud) {
    uint64_t change;
    dt_str pat;
    int level = c->nargs > 1 ? dt__arg_level(&c->args[1]) : -1, prefix = 0, rc;
    int64_t dur = (c->nargs > 2 && c->args[2].type == DT_TYPE_I64) ? c->args[2].as.i64 : -1;
    (void)ud;
    if (!dt__arg_str(c, 0, &pat) || level < 0 || dur <= 0) { dt__count(e, DT__S_rule_errors, 1); return; }
    if (pat.len && pat.ptr[pat.len - 1] == '*') { prefix = 1; pat.len--; }
    /* 0 (host call): always; otherwise the change of the program that asked */
    change = dt__tls_exec && dt__tls_exec->e == e ? dt__tls_exec->p->change : dt__tls_boost_change;
    rc = dt__override_set(e, change, pat, prefix, level, c->ts, dt__sat_add(c->ts, dur));
    if (rc < 0) dt__count(e, DT__S_overflows, 1);
    if (rc > 0) dt__sites_recompute(e);
}

static dt_block *dt__block_find(dt__program *p, dt_str name) {
    uint32_t i;
    for (i = 0; p && i < p->nblocks; i++) if (dt__str_eq(p->blocks[i]->name, name)) return p->blocks[i];
    return NULL;
}

static void dt__act_enable(dt_engine *e, const dt_action_call *c, void *ud) {
    dt_str name;
    dt_block *b = dt__arg_str(c, 0, &name) ? dt__block_find(DT__LOAD_ACQ(&e->program), name) : NULL;
    if (!b) { dt__count(e, DT__S_rule_errors, 1); return; }
    DT__STORE(&b->enabled, ud ? 1u : 0u);
}

static void dt__act_recorder(dt_engine *e, const dt_action_call *c, void *ud) {
    dt_str name, key;
    int has_key = dt__arg_str(c, 1, &key);
    dt__recorder *rec = dt__arg_str(c, 0, &name) ? dt__recorder_find(DT__LOAD_ACQ(&e->program), name) : NULL;
    if (!rec) { dt__count(e, DT__S_rule_errors, 1); return; }
    (void)dt__recorder_act(e, rec, has_key ? &key : NULL, ud != NULL, c->ts);
}

/* emit(name, level, field1, value1, ...) */
static void dt__act_emit(dt_engine *e, const dt_action_call *c, void *ud) {
    dt_field fields[DT_MAX_ACTION_ARGS / 2];
    dt_event ev;
    uint32_t i, n = 0;
    (void)ud;
    memset(&ev, 0, sizeof ev);
    if (!dt__arg_str(c, 0, &ev.name) || (ev.level = dt__arg_level(&c->args[1])) < 0) { dt__count(e, DT__S_rule_errors, 1); return; }
    if (c->nargs % 2) { dt__count(e, DT__S_rule_errors, 1); return; }   /* a field name without a value */
    for (i = 2; i + 1 < c->nargs; i += 2) {
        if (!dt__arg_str(c, i, &fields[n].name)) { dt__count(e, DT__S_rule_errors, 1); return; }
        fields[n++].value = c->args[i + 1];
    }
    ev.fields = fields;
    ev.nfields = n;
    ev.ts = c->ts;
    if (dt__tls_exec && dt__tls_exec->e == e) dt_exec_emit(dt__tls_exec, &ev);
    else dt_emit(e, &ev);
}

static int dt__register_builtins(dt_engine *e) {
    static int on = 1;
    const dt_action_desc actions[] = {
        {"set_level", dt__act_set_level, NULL, DT_RISK_MEDIUM, 0, 0, 0, 3, 3},
        {"enable", dt__act_enable, &on, DT_RISK_LOW, 0, 0, 0, 1, 1},
        {"disable", dt__act_enable, NULL, DT_RISK_LOW, 0, 0, 0, 1, 1},
        {"flush", dt__act_recorder, NULL, DT_RISK_MEDIUM, 0, 0, 0, 1, 2},
        {"discard", dt__act_recorder, &on, DT_RISK_LOW, 0, 0, 0, 1, 2},
        {"emit", dt__act_emit, NULL, DT_RISK_LOW, 0, 0, 0, 2, DT_MAX_ACTION_ARGS}
    };
    const dt_function_desc fns[] = {
        {"isnull", dt__fn_isnull, NULL, DT_RISK_LOW, 1, 1, DT_TYPE_BOOL},
        {"isnotnull", dt__fn_isnotnull, NULL, DT_RISK_LOW, 1, 1, DT_TYPE_BOOL},
        {"strlen", dt__fn_strlen, NULL, DT_RISK_LOW, 1, 1, DT_TYPE_I64},
        {"tolower", dt__fn_tolower, NULL, DT_RISK_LOW, 1, 1, DT_TYPE_STR},
        {"toupper", dt__fn_toupper, NULL, DT_RISK_LOW, 1, 1, DT_TYPE_STR},
        {"lower", dt__fn_tolower, NULL, DT_RISK_LOW, 1, 1, DT_TYPE_STR},
        {"upper", dt__fn_toupper, NULL, DT_RISK_LOW, 1, 1, DT_TYPE_STR},
        {"substring", dt__fn_substring, NULL, DT_RISK_LOW, 2, 3, DT_TYPE_STR},
        {"extension", dt__fn_extension, NULL, DT_RISK_LOW, 1, 1, DT_TYPE_STR},
        {"hash", dt__fn_hash, NULL, DT_RISK_LOW, 1, 2, DT_TYPE_NULL},
        {"bin", dt__fn_bin, NULL, DT_RISK_LOW, 2, 2, DT_TYPE_NULL},
        {"tostring", dt__fn_tostring, NULL, DT_RISK_LOW, 1, 1, DT_TYPE_STR},
        {"toint", dt__fn_toint, NULL, DT_RISK_LOW, 1, 1, DT_TYPE_I64},
        {"strcat", dt__fn_strcat, NULL, DT_RISK_LOW, 1, DT_MAX_ACTION_ARGS, DT_TYPE_STR}
    };
    DT_ASSERT(sizeof fns / sizeof fns[0] == DT__BUILTIN_FUNCTIONS);
    DT_ASSERT(sizeof actions / sizeof actions[0] == DT__BUILTIN_ACTIONS);
    size_t i;
    for (i = 0; i < sizeof actions / sizeof actions[0]; i++)
        if (dt__action_add(e, &actions[i], 1) != DT_OK) return DT_ERR_NOMEM;
    for (i = 0; i < sizeof fns / sizeof fns[0]; i++)
        if (dt_register_function(e, &fns[i]) != DT_OK) return DT_ERR_NOMEM;
    if (dt_register_processor(e, &dt__level_processor) != DT_OK) return DT_ERR_NOMEM;
    return dt_register_processor(e, &dt__recorder_processor);
}

/* Boosts (`level P = L for D` without a trigger) start when the program is
 * deployed, through the set_level action so they are audited like any. */
struct dt__boost_copy {
    uint64_t change;
    uint32_t n;
    struct { char pattern[DT_MAX_NAME + 2]; size_t len; int level; int64_t duration; } b[1];
};

static dt__boost_copy *dt__boosts_copy(dt_engine *e, const dt__program *p) {
    dt__boost_copy *c;
    uint32_t i;
    if (!p->nboosts) return NULL;
    c = (dt__boost_copy *)dt__alloc(e, sizeof *c + sizeof c->b[0] * (p->nboosts - 1));
    if (!c) { dt__count(e, DT__S_overflows, 1); dt__log(e, DT_LOG_ERROR, "deploy: no memory to start timed level changes"); return NULL; }
    c->n = p->nboosts;
    c->change = p->change;
    for (i = 0; i < p->nboosts; i++) {
        const dt__boost *b = &p->boosts[i];
        memcpy(c->b[i].pattern, b->pattern.text.ptr, b->pattern.text.len);
        c->b[i].pattern[b->pattern.text.len] = '*';
        c->b[i].len = b->pattern.text.len + (size_t)(b->pattern.prefix != 0);
        c->b[i].level = b->level;
        c->b[i].duration = b->duration;
    }
    return c;
}

static void dt__boosts_apply(dt_engine *e, dt__boost_copy *c) {
    uint32_t i;
    int set_level = dt__find_action(e, "set_level");
    dt__tls_boost_change = c ? c->change : 0;
    for (i = 0; c && i < c->n; i++) {
        dt_value args[3];
        args[0] = dt__strv(dt_strn(c->b[i].pattern, c->b[i].len));
        args[1] = dt__level_value(c->b[i].level);
        args[2] = dt__i64(c->b[i].duration);
        dt__fire(e, NULL, set_level, args, 3, NULL, dt__engine_time(e));
    }
    dt__tls_boost_change = 0;
    dt__free(e, c);
}

/* ---- time, flush, self-telemetry --------------------------------------- */
static void dt__self_telemetry(dt_engine *e, int64_t now) {
    static const char *const names[] = {
#define DT__STAT_NAME(name, doc) "dt." #name,
        DT_STATS(DT__STAT_NAME)
#undef DT__STAT_NAME
    };
    void (*sink)(const dt_metric *, void *) = e->desc.sinks.self ? e->desc.sinks.self : e->desc.sinks.metric;
    uint64_t sum[DT__NSTATS];
    dt_stats st;
    dt_metric m;
    int k;
    if (!sink) return;
    dt_get_stats(e, &st);
    memcpy(sum, &st, sizeof sum);
    memset(&m, 0, sizeof m);
    m.kind = DT_METRIC_COUNTER;
    m.temporality = DT_CUMULATIVE;
    m.start_ns = e->start;
    m.end_ns = now;
    m.is_int = 1;
    for (k = 0; k < DT__NSTATS; k++) {
        m.name = dt_cstr(names[k]);
        m.value = (double)sum[k];
        sink(&m, e->desc.sinks.user_data);
    }
}

typedef void (*dt__block_visit)(dt_block *b, dt_exec *x, int64_t now);

static void dt__visit_blocks(dt_engine *e, int64_t now, int flush) {
    dt__reader r;
    dt__program *p = dt__read_begin(e, &r);
    dt__after after;
    uint32_t i;
    after.n = 0;
    if (p && !DT__LOAD(&e->ripcord)) {
        for (i = 0; i < p->nblocks; i++) {
            dt_block *b = p->blocks[i];
            dt_exec x;
            if (!DT__LOAD(&b->enabled) || (flush ? !b->proc->flush : !b->proc->tick)) continue;
            dt__exec_init(&x, e, p, r.sl, &after, b, now);
            dt__tls_exec = &x;
            if (flush) b->proc->flush(b, &x);
            else b->proc->tick(b, &x, now);
            dt__tls_exec = NULL;
        }
    }
    dt__read_end(&r);
    if (after.n) dt__run_after(e, &after);
}

DT_API void dt_tick(dt_engine *e, int64_t now) {
    if (!e) return;
    if (now > DT__LOAD(&e->now)) DT__STORE(&e->now, now);
    if (dt__override_expire(e, now) || DT__LOAD(&e->ripcord_sites) != DT__LOAD(&e->ripcord)) dt__sites_recompute(e);
    dt__visit_blocks(e, now, 0);
    if (e->desc.self_interval_ns > 0) {
        int due;
        dt__lock_take(&e->lock, &e->desc.lock);         /* ticks may come from several threads */
        due = now >= e->self_next;
        if (due) e->self_next = dt__sat_add(now, e->desc.self_interval_ns);
        dt__lock_give(&e->lock, &e->desc.lock);
        if (due) dt__self_telemetry(e, now);
    }
}

DT_API void dt_flush(dt_engine *e) {
    if (!e) return;
    dt__visit_blocks(e, dt__engine_time(e), 1);
}

/* ---- the event catalog (JSON) ------------------------------------------ */
static void dt__json_str(dt_write_fn w, void *ud, dt_str s) {
    size_t i, start = 0;
    static const char hex[] = "0123456789abcdef";
    w("\"", 1, ud);
    for (i = 0; i < s.len; i++) {
        unsigned char ch = (unsigned char)s.ptr[i];
        char esc[6] = {'\\', 'u', '0', '0', 0, 0};
        if (ch >= 0x20 && ch != '"' && ch != '\\') continue;
        if (i > start) w(s.ptr + start, i - start, ud);
        if (ch == '"' || ch == '\\') { esc[1] = (char)ch; w(esc, 2, ud); }
        else { esc[4] = hex[ch >> 4]; esc[5] = hex[ch & 15]; w(esc, 6, ud); }
        start = i + 1;
    }
    if (i > start) w(s.ptr + start, i - start, ud);
    w("\"", 1, ud);
}

static void dt__json_lit(dt_write_fn w, void *ud, const char *s) { w(s, strlen(s), ud); }

static void dt__json_num(dt_write_fn w, void *ud, int64_t v) {
    char buf[24];
    dt__sb b = dt__sb_make(buf, sizeof buf);
    dt__sb_i64(&b, v);
    w(buf, b.len, ud);
}

typedef struct dt__catalog_ctx {
    dt_write_fn w;
    void *ud;
    uint64_t id;
    int n;
} dt__catalog_ctx;

static void dt__catalog_site(const dt_site *s, void *ud) {
    dt__catalog_ctx *c = (dt__catalog_ctx *)ud;
    if (s->id != c->id) return;
    dt__json_lit(c->w, c->ud, c->n++ ? ",{\"file\":" : "{\"file\":");
    dt__json_str(c->w, c->ud, dt_cstr(s->file));
    dt__json_lit(c->w, c->ud, ",\"line\":");
    dt__json_num(c->w, c->ud, s->line);
    if (dt_level_name(s->level)[0]) {                   /* unknown for registered-only events */
        dt__json_lit(c->w, c->ud, ",\"level\":");
        dt__json_str(c->w, c->ud, dt_cstr(dt_level_name(s->level)));
    }
    dt__json_lit(c->w, c->ud, "}");
}

static void dt__catalog_event(dt_engine *e, const dt__reg_event *r, dt_write_fn w, void *ud) {
    char idbuf[20];
    dt__sb b = dt__sb_make(idbuf, sizeof idbuf);
    dt__catalog_ctx ctx;
    uint32_t k;
    dt__json_lit(w, ud, "{\"name\":");
    dt__json_str(w, ud, r->name);
    dt__sb_hex(&b, r->id);
    dt__json_lit(w, ud, ",\"id\":");
    dt__json_str(w, ud, dt_strn(idbuf, b.len));
    int schema = dt__reg_has_schema(r);
    const char *file = DT__LOAD_ACQ(&r->file);
    dt__json_lit(w, ud, schema ? ",\"fields\":[" : ",\"fields\":null");
    for (k = 0; schema && k < r->nfields; k++) {
        dt__json_lit(w, ud, k ? ",{\"name\":" : "{\"name\":");
        dt__json_str(w, ud, dt_cstr(r->fields[k].name));
        dt__json_lit(w, ud, ",\"type\":");
        dt__json_str(w, ud, dt_cstr(dt_type_name((int)r->fields[k].type)));
        dt__json_lit(w, ud, "}");
    }
    dt__json_lit(w, ud, schema ? "],\"sites\":[" : ",\"sites\":[");
    ctx.w = w; ctx.ud = ud; ctx.id = r->id; ctx.n = 0;
    if (DT__LOAD_ACQ(&dt__bound) == e) dt_sites_foreach(dt__catalog_site, &ctx);
    if (!ctx.n && file) {
        dt_site s;
        memset(&s, 0, sizeof s);
        s.id = r->id; s.file = file; s.line = r->line; s.level = r->level;
        dt__catalog_site(&s, &ctx);
    }
    dt__json_lit(w, ud, "]}");
}

DT_API int dt_catalog_write(dt_engine *e, dt_write_fn w, void *ud) {
    uint32_t i, n;
    if (!e || !w) return DT_ERR_INVALID;
    dt__json_lit(w, ud, "{\"dt_catalog\":1,\"events\":[");
    dt__lock_take(&e->lock, &e->desc.lock);
    n = e->nevents;
    dt__lock_give(&e->lock, &e->desc.lock);
    for (i = 0; i < n; i++) {
        if (i) dt__json_lit(w, ud, ",\n");
        else dt__json_lit(w, ud, "\n");
        dt__catalog_event(e, &e->events[i], w, ud);
    }
    dt__json_lit(w, ud, "\n]}\n");
    return DT_OK;
}

#if defined(__GNUC__) || defined(__clang__)
#pragma GCC diagnostic pop
#endif

#endif /* DT_IMPLEMENTATION */

/*
------------------------------------------------------------------------------
MIT License

Copyright (c) 2026 the dt authors

Permission is hereby granted, free of charge, to any person obtaining a copy of
this software and associated documentation files (the "Software"), to deal in
the Software without restriction, including without limitation the rights to
use, copy, modify, merge, publish, distribute, sublicense, and/or sell copies
of the Software, and to permit persons to whom the Software is furnished to do
so, subject to the following conditions:

The above copyright notice and this permission notice shall be included in all
copies or substantial portions of the Software.

THE SOFTWARE IS PROVIDED "AS IS", WITHOUT WARRANTY OF ANY KIND, EXPRESS OR
IMPLIED, INCLUDING BUT NOT LIMITED TO THE WARRANTIES OF MERCHANTABILITY,
FITNESS FOR A PARTICULAR PURPOSE AND NONINFRINGEMENT. IN NO EVENT SHALL THE
AUTHORS OR COPYRIGHT HOLDERS BE LIABLE FOR ANY CLAIM, DAMAGES OR OTHER
LIABILITY, WHETHER IN AN ACTION OF CONTRACT, TORT OR OTHERWISE, ARISING FROM,
OUT OF OR IN CONNECTION WITH THE SOFTWARE OR THE USE OR OTHER DEALINGS IN THE
SOFTWARE.
------------------------------------------------------------------------------
*/
