/* dt_stateful.h — Dynamic Telemetry: the state-machine processor.   v0.1.0
 *
 * Keyed state machines in the event stream: they time, count and measure,
 * keep per-instance variables, emit new events and metrics, enrich the
 * event at hand, and trigger actions on transitions. Also the compact
 * one-state trigger form `on EVENT where PRED do ACTION`. The language is
 * documented in docs/language.md ("State machines").
 *
 * DO THIS in the one C or C++ file that implements dt.h:
 *
 *     #define DT_IMPLEMENTATION
 *     #define DT_STATEFUL_IMPLEMENTATION     // or DT_ALL_IMPLEMENTATION
 *     #include "dt.h"
 *     #include "dt_stateful.h"
 *
 * and plain `#include "dt_stateful.h"` (after dt.h) elsewhere. It uses only
 * dt.h's public processor interface; it does not need dt_query.h.
 *
 * QUICK START
 *
 *     const dt_processor *procs[2];
 *     procs[0] = dt_stateful_processor();           // keyword `machine`
 *     procs[1] = dt_stateful_trigger_processor();   // keyword `on`
 *     desc.processors = procs; desc.nprocessors = 2;
 *     dt_engine *e = dt_create(&desc);
 *     dt_deploy(e, "machine hashing {\n"
 *                  "  by tid\n"
 *                  "  Unknown -> HashingFile on LogStartingFileHash\n"
 *                  "  HashingFile -> Unknown on LogEndFileHash { observe HashMs = elapsed() / 1ms }\n"
 *                  "}", len, &err);
 *
 * CONTENTS (grep for the >> markers)
 *     >>options    compile-time options
 *     >>api        the two processors
 *     >>impl       implementation (under DT_STATEFUL_IMPLEMENTATION)
 *
 * MEMORY: every instance pool, timer heap and metric table is allocated
 * from the program arena when the program is compiled; handling an event
 * allocates nothing. A machine holds at most `max N` instances (default
 * DT_STATEFUL_INSTANCES); past it the least recently used instance is
 * evicted and counted.
 *
 * THREADS: instances are split into stripes by key hash, each with its own
 * lock (dt_shard_lock), so events for different keys on different threads
 * rarely meet, and events for one key on several threads are serialised on
 * its stripe. Emits and actions run after the stripe lock is released.
 *
 * LICENSE: MIT, as dt.h.
 */
#ifndef DT_STATEFUL_H
#define DT_STATEFUL_H

#ifndef DT_H
#error "include dt.h before dt_stateful.h"
#endif

/* >>options ---------------------------------------------------------------*/
#ifndef DT_STATEFUL_INSTANCES      /* instances per machine when it gives no `max` */
#define DT_STATEFUL_INSTANCES 1024
#endif
#ifndef DT_STATEFUL_MAX_STR        /* bytes of one string variable; longer values are refused, counted */
#define DT_STATEFUL_MAX_STR 64
#endif
#ifndef DT_STATEFUL_GROUPS         /* metric groups (statement x label value) per machine */
#define DT_STATEFUL_GROUPS 64
#endif
#ifndef DT_STATEFUL_TIMER_FIRES    /* timeouts one event or tick fires per stripe (the rest wait) */
#define DT_STATEFUL_TIMER_FIRES 4096
#endif

#ifdef __cplusplus
extern "C" {
#endif

/* >>api -------------------------------------------------------------------
 * The processors to pass in dt_desc.processors (or dt_register_processor).
 * Static objects; thread-safe; signal-safe. */
DT_API const dt_processor *dt_stateful_processor(void);          /* `machine NAME { ... }` */
DT_API const dt_processor *dt_stateful_trigger_processor(void);  /* `on EVENT ... do ACTION(...)` */

#ifdef __cplusplus
}
#endif

#endif /* DT_STATEFUL_H */

/* >>impl ==================================================================*/
#if defined(DT_STATEFUL_IMPLEMENTATION) && !defined(DT_STATEFUL_IMPLEMENTED)
#define DT_STATEFUL_IMPLEMENTED

/* Under DT_STATIC the API is static, and a program may use none of it. */
#if defined(__GNUC__) || defined(__clang__)
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wunused-function"
#endif

#include <string.h>

/* Bounds of one machine's text: each a compile error when passed. */
#define DTS__STATES 32         /* states */
#define DTS__TRANSITIONS 64    /* transitions, on-event and after */
#define DTS__PATTERNS 32       /* distinct event patterns */
#define DTS__VARS 16           /* variables */
#define DTS__COUNTS 8          /* count(D) windows */
#define DTS__FIRES 16          /* `do ... once|every` statements */
#define DTS__STMTS 16          /* statements in one { } block */
#define DTS__ARGS DT_MAX_ACTION_ARGS  /* emit fields, annotate fields, action arguments */
#define DTS__KEYS 4            /* fields in one `by` */
#define DTS__BOUNDS 16         /* histogram bounds */
#define DTS__MAX_INSTANCES (1u << 20)
#define DTS__EFFECTS 4         /* emits and actions one transition chain leaves for after the lock */
#define DTS__EFFECT_BYTES 512  /* their string bytes */
#define DTS__NIL 0xffffffffu

/* ---- compiled form ------------------------------------------------------ */

enum {
    DTS__X_CORE, DTS__X_LIT, DTS__X_FIELD, DTS__X_NAME, DTS__X_LEVEL, DTS__X_TS, DTS__X_TID,
    DTS__X_VAR, DTS__X_ELAPSED, DTS__X_COUNT, DTS__X_NOT, DTS__X_AND, DTS__X_OR, DTS__X_CMP,
    DTS__X_ARITH, DTS__X_NEG
};
enum { DTS__EQ, DTS__NE, DTS__LT, DTS__LE, DTS__GT, DTS__GE };
enum { DTS__ADD, DTS__SUB, DTS__MUL, DTS__DIV, DTS__MOD };

/* A machine expression: either the engine's own (DTS__X_CORE, for anything
 * that does not start with a variable or a machine function) or a small
 * tree that can read variables, elapsed() and count(D). */
typedef struct dts__expr dts__expr;
struct dts__expr {
    int kind, op, height;
    uint32_t slot;           /* VAR, COUNT */
    int64_t window;          /* COUNT */
    dt_value lit;
    dt_str name;             /* FIELD */
    dt_expr *core;
    dts__expr *a, *b;
};

enum { DTS__S_SET, DTS__S_EMIT, DTS__S_OBSERVE, DTS__S_COUNT, DTS__S_ANNOTATE, DTS__S_DROP, DTS__S_DO };
enum { DTS__LIMIT_NONE, DTS__LIMIT_ONCE, DTS__LIMIT_EVERY, DTS__LIMIT_REARM };

typedef struct dts__stmt {
    int kind;
    uint32_t var;                    /* SET */
    dts__expr *value;                /* SET, OBSERVE */
    dt_str name;                     /* EMIT event, OBSERVE/COUNT metric */
    int level;                       /* EMIT */
    uint32_t nargs;
    dt_str arg_names[DTS__ARGS];     /* EMIT, ANNOTATE field names */
    dts__expr *args[DTS__ARGS];
    dt_str label;                    /* OBSERVE/COUNT: by LABEL = EXPR */
    dts__expr *label_value;
    double bounds[DTS__BOUNDS];
    uint32_t nbounds;
    uint32_t metric;                 /* OBSERVE/COUNT: index among the machine's metric statements */
    dt_action_ref action;            /* DO */
    int limit;
    int64_t every;
    dts__expr *rearm;
    uint32_t fire;                   /* once/every/rearm slot */
} dts__stmt;

typedef struct dts__body {
    dts__stmt *s;
    uint32_t n;
} dts__body;

typedef struct dts__trans {
    int32_t from;                    /* -1: any state */
    uint32_t to;
    int64_t after;                   /* > 0: a timeout, not an event transition */
    uint32_t pats;                   /* bit mask over the machine's patterns */
    dts__expr *where;
    dts__body body;
} dts__trans;

/* Per-instance data follows this header in the pool: vars, counts, fire
 * slots, then the string bytes of the variables. Offsets, not pointers, so
 * an instance can be copied to another block (carry). */
typedef struct dts__var {
    int type;
    uint32_t len;
    union { int64_t i; uint64_t u; double f; int b; } as;
} dts__var;

typedef struct dts__count {
    int64_t start;
    int64_t n;
} dts__count;

typedef struct dts__inst {
    uint64_t hash;
    int64_t entered, deadline;
    uint32_t prev, next;             /* LRU list: head is the most recent */
    uint32_t heap;                   /* position in the timer heap, DTS__NIL if none */
    uint32_t state;
    uint32_t keylen;
    char key[DT_MAX_KEY];
} dts__inst;

typedef struct dts__stripe {
    uint32_t cap, live, head, tail, free;
    uint32_t mask;                   /* table size - 1 */
    uint32_t *table;                 /* instance index + 1; 0 empty */
    uint32_t *heap;                  /* instance indices by deadline */
    uint32_t nheap;
    char *pool;                      /* cap + 1 instances: the last is a blank to copy from */
    uint64_t evicted, unkeyed, refused, dropped_on_carry;
} dts__stripe;

typedef struct dts__group {
    uint32_t metric;
    dt_value label;
    char bytes[DT_MAX_KEY];
    uint64_t count;
    double sum, min, max;
    uint64_t buckets[DTS__BOUNDS + 1];
} dts__group;

typedef struct dts__machine {
    dt_str name;
    int trigger;                     /* the `on` form: one instance that is never deleted */
    int by_tid;
    dt_str keys[DTS__KEYS];
    uint32_t nkeys;
    uint32_t max;
    int64_t every;                   /* metric window */
    dt_str states[DTS__STATES];
    uint32_t nstates, initial;       /* 0 (the first state named) unless `initial` says */
    int32_t timeout[DTS__STATES];    /* the state's `after` transition, -1 if none */
    dts__body entry[DTS__STATES], exit[DTS__STATES];
    dts__trans trans[DTS__TRANSITIONS];
    uint32_t ntrans;
    dt_pattern pats[DTS__PATTERNS];
    uint32_t npats;
    uint32_t initial_pats;           /* patterns some transition out of the initial state listens to */
    int all_exact;                   /* every pattern an exact name */
    dt_str vars[DTS__VARS];
    uint32_t nvars, ncounts, nfires, nmetrics;
    int64_t windows[DTS__COUNTS];    /* count(D) windows */
    size_t inst_size, var_off, count_off, fire_off, str_off;
    dt_shards *shards;
    uint32_t nstripes;
    dts__stripe *stripes;
    /* metrics, under the block lock */
    const dts__stmt *metric_stmts[DTS__STMTS * 8];
    dts__group *groups;
    uint32_t ngroups;
    int64_t win_start;
    int win_open;
    uint64_t metric_overflow;
} dts__machine;

/* ---- small helpers ------------------------------------------------------ */

static int dts__str_eq(dt_str a, dt_str b) { return a.len == b.len && (a.len == 0 || memcmp(a.ptr, b.ptr, a.len) == 0); }
static dt_value dts__null(void) { dt_value v; memset(&v, 0, sizeof v); return v; }
static dt_value dts__i64(int64_t i) { dt_value v = dts__null(); v.type = DT_TYPE_I64; v.as.i64 = i; return v; }
static dt_value dts__bool(int b) { dt_value v = dts__null(); v.type = DT_TYPE_BOOL; v.as.b = b != 0; return v; }

static int dts__pattern_matches(const dt_pattern *p, uint64_t id, dt_str name) {
    if (!p->prefix) return p->id == id && dts__str_eq(p->text, name);
    return name.len >= p->text.len && (p->text.len == 0 || memcmp(name.ptr, p->text.ptr, p->text.len) == 0);
}

/* Spreads a key's bits over the whole word (murmur3's finaliser): stripes
 * and table slots take the low bits. */
static uint64_t dts__mix(uint64_t h) {
    h ^= h >> 33;
    h *= 0xff51afd7ed558ccdull;
    return h ^ (h >> 33);
}

static uint64_t dts__hash(const char *p, size_t n) {
    uint64_t h = 0xcbf29ce484222325ull;
    size_t i;
    for (i = 0; i < n; i++) h = (h ^ (unsigned char)p[i]) * 0x100000001b3ull;
    return dts__mix(h);
}

static int64_t dts__floor(int64_t t, int64_t d) { return t >= 0 ? t - t % d : t - (d + t % d) % d; }

static dts__inst *dts__at(const dts__machine *m, const dts__stripe *s, uint32_t i) {
    return (dts__inst *)(void *)(s->pool + (size_t)i * m->inst_size);
}
static dts__var *dts__vars(const dts__machine *m, dts__inst *in) { return (dts__var *)(void *)((char *)in + m->var_off); }
static dts__count *dts__counts(const dts__machine *m, dts__inst *in) { return (dts__count *)(void *)((char *)in + m->count_off); }
static int64_t *dts__fires(const dts__machine *m, dts__inst *in) { return (int64_t *)(void *)((char *)in + m->fire_off); }
static char *dts__strs(const dts__machine *m, dts__inst *in, uint32_t var) { return (char *)in + m->str_off + (size_t)var * DT_STATEFUL_MAX_STR; }

/* ---- compiling: expressions -------------------------------------------- */

typedef struct dts__cc {
    dt_compiler *c;
    dts__machine *m;
    int depth;
    struct { int line, column; } named[DTS__STATES];   /* where each state was first named */
} dts__cc;

static int dts__err(dts__cc *k, const dt_token *at, int code, const char *msg, const char *hint) {
    return dt_compile_error(k->c, at, code, msg, hint);
}

static dts__expr *dts__node(dts__cc *k, int kind) {
    dts__expr *e = (dts__expr *)dt_compiler_alloc(k->c, sizeof *e);
    if (e) { e->kind = kind; e->height = 1; }
    return e;
}

/* e is an operator: it has an operand a, and b unless it is unary. */
static int dts__height(dts__cc *k, dts__expr *e, const dt_token *at) {
    int h = e->a->height;
    if (e->b && e->b->height > h) h = e->b->height;
    e->height = h + 1;
    if (e->height <= DT_MAX_EXPR_HEIGHT) return DT_OK;
    return dts__err(k, at, DT_ERR_LIMIT, "expression too deep to evaluate safely", "split it into several statements");
}

static int dts__var_slot(dts__cc *k, const dt_token *t, uint32_t *slot) {
    dts__machine *m = k->m;
    uint32_t i;
    for (i = 0; i < m->nvars; i++) if (dts__str_eq(m->vars[i], t->text)) { *slot = i; return DT_OK; }
    if (m->nvars == DTS__VARS) return dts__err(k, t, DT_ERR_LIMIT, "at most 16 variables per machine", NULL);
    m->vars[m->nvars] = dt_compiler_strdup(k->c, t->text);
    *slot = m->nvars++;
    return DT_OK;
}

static int dts__is_var(const dt_token *t) { return t->kind == DT_TOK_IDENT && t->text.len > 1 && t->text.ptr[0] == '$'; }

/* elapsed( and count( directly joined: the machine's own functions. */
static int dts__is_machine_fn(dt_compiler *c) {
    const dt_token *t = dt_peek(c), *n = dt_peek2(c);
    return t->kind == DT_TOK_IDENT && (dt_is(t, "elapsed") || dt_is(t, "count")) && dt_is(n, "(") && n->joined;
}

static int dts__parse_or(dts__cc *k, dts__expr **out);

static int dts__parse_machine_fn(dts__cc *k, dts__expr **out) {
    dt_token t = dt_next(k->c);
    dts__expr *e;
    dt_next(k->c);                                           /* ( */
    if (dt_is(&t, "elapsed")) {
        if (!(e = dts__node(k, DTS__X_ELAPSED)) || dt_expect(k->c, ")", "elapsed() takes no arguments")) return DT_ERR_SYNTAX;
        *out = e;
        return DT_OK;
    }
    if (!(e = dts__node(k, DTS__X_COUNT))) return DT_ERR_NOMEM;
    if (dt_expect_duration(k->c, &e->window) || dt_expect(k->c, ")", "count(DURATION): events in the current window"))
        return DT_ERR_SYNTAX;
    if (e->window <= 0) return dts__err(k, &t, DT_ERR_INVALID, "count() needs a window longer than 0", "write count(60s)");
    if (k->m->ncounts == DTS__COUNTS) return dts__err(k, &t, DT_ERR_LIMIT, "at most 8 count() per machine", NULL);
    k->m->windows[k->m->ncounts] = e->window;
    e->slot = k->m->ncounts++;
    *out = e;
    return DT_OK;
}

static int dts__parse_name(dts__cc *k, dts__expr **out) {
    dt_token t = dt_next(k->c);
    dts__expr *e = dts__node(k, DTS__X_LIT);
    int lvl = dt_level_parse(t.text.ptr, t.text.len);
    if (!e) return DT_ERR_NOMEM;
    *out = e;
    if (dts__is_var(&t)) { e->kind = DTS__X_VAR; return dts__var_slot(k, &t, &e->slot); }
    if (dt_is(&t, "true") || dt_is(&t, "false")) { e->lit = dts__bool(dt_is(&t, "true")); return DT_OK; }
    if (dt_is(&t, "null")) return DT_OK;
    if (lvl >= 0 && t.text.ptr[0] >= 'a') { e->lit = dts__i64(lvl); return DT_OK; }
    if (dt_is(&t, "name")) e->kind = DTS__X_NAME;
    else if (dt_is(&t, "level")) e->kind = DTS__X_LEVEL;
    else if (dt_is(&t, "ts")) e->kind = DTS__X_TS;
    else if (dt_is(&t, "tid")) e->kind = DTS__X_TID;
    else { e->kind = DTS__X_FIELD; e->name = dt_compiler_strdup(k->c, t.text); }
    if (dt_is(dt_peek(k->c), "(") && dt_peek(k->c)->joined)
        return dts__err(k, &t, DT_ERR_SYNTAX, "function calls cannot follow a variable in one expression yet",
                        "compute it in its own statement first: $h = myfn(x), then compare $h");
    return DT_OK;
}

static int dts__parse_primary(dts__cc *k, dts__expr **out) {
    const dt_token *p = dt_peek(k->c);
    dt_token t;
    dts__expr *e;
    if (++k->depth > DT_MAX_EXPR_DEPTH) return dts__err(k, p, DT_ERR_LIMIT, "expression nested too deeply", NULL);
    k->depth--;
    if (dts__is_machine_fn(k->c)) return dts__parse_machine_fn(k, out);
    if (p->kind == DT_TOK_IDENT) return dts__parse_name(k, out);
    if (dt_is(p, "(")) {
        int rc;
        dt_next(k->c);
        k->depth++;
        rc = dts__parse_or(k, out);
        k->depth--;
        return rc ? rc : dt_expect(k->c, ")", "close the parenthesis");
    }
    if (!(e = dts__node(k, DTS__X_LIT))) return DT_ERR_NOMEM;
    *out = e;
    if (p->kind == DT_TOK_STRING) {
        e->lit.type = DT_TYPE_STR;
        return dt_expect_string(k->c, &e->lit.as.str, "a string");
    }
    t = dt_next(k->c);
    if (t.kind == DT_TOK_FLOAT) { e->lit.type = DT_TYPE_F64; e->lit.as.f64 = t.f; return DT_OK; }
    if (t.kind == DT_TOK_INT || t.kind == DT_TOK_DURATION || t.kind == DT_TOK_SIZE) {
        if (t.is_unsigned) { e->lit.type = DT_TYPE_U64; e->lit.as.u64 = t.u; }
        else e->lit = dts__i64(t.i);
        return DT_OK;
    }
    return dts__err(k, &t, DT_ERR_SYNTAX, "expected a value",
                    "values are $variables, elapsed(), count(D), fields, numbers, \"strings\"");
}

static int dts__parse_unary(dts__cc *k, dts__expr **out) {
    dt_token t = *dt_peek(k->c);
    dts__expr *e;
    if (!dt_is(&t, "-") && !dt_is(&t, "not") && !dt_is(&t, "!")) return dts__parse_primary(k, out);
    dt_next(k->c);
    if (++k->depth > DT_MAX_EXPR_DEPTH) return dts__err(k, &t, DT_ERR_LIMIT, "expression nested too deeply", NULL);
    if (!(e = dts__node(k, dt_is(&t, "-") ? DTS__X_NEG : DTS__X_NOT)) || dts__parse_unary(k, &e->a)) return DT_ERR_SYNTAX;
    k->depth--;
    *out = e;
    return dts__height(k, e, &t);
}

/* One left-associative level: ops[i] gives op i of node kind. */
static int dts__parse_level(dts__cc *k, dts__expr **out, int kind, const char *const *ops, int nops, int single,
                            int (*next)(dts__cc *, dts__expr **)) {
    dts__expr *lhs;
    if (next(k, &lhs)) return DT_ERR_SYNTAX;
    for (;;) {
        dt_token t = *dt_peek(k->c);
        dts__expr *e;
        int i, op = -1;
        for (i = 0; i < nops; i++) if (dt_is(&t, ops[i])) op = i;
        if (op < 0) break;
        dt_next(k->c);
        if (!(e = dts__node(k, kind))) return DT_ERR_NOMEM;
        e->op = kind == DTS__X_ARITH && nops == 3 ? DTS__MUL + op : (kind == DTS__X_CMP ? op : op % 2);
        if (kind == DTS__X_AND || kind == DTS__X_OR) e->op = 0;
        e->a = lhs;
        if (next(k, &e->b) || dts__height(k, e, &t)) return DT_ERR_SYNTAX;
        lhs = e;
        if (single) break;
    }
    *out = lhs;
    return DT_OK;
}

static int dts__parse_mul(dts__cc *k, dts__expr **out) {
    static const char *const ops[] = {"*", "/", "%"};
    return dts__parse_level(k, out, DTS__X_ARITH, ops, 3, 0, dts__parse_unary);
}
static int dts__parse_add(dts__cc *k, dts__expr **out) {
    static const char *const ops[] = {"+", "-"};
    return dts__parse_level(k, out, DTS__X_ARITH, ops, 2, 0, dts__parse_mul);
}
static int dts__parse_cmp(dts__cc *k, dts__expr **out) {
    static const char *const ops[] = {"==", "!=", "<", "<=", ">", ">="};
    return dts__parse_level(k, out, DTS__X_CMP, ops, 6, 1, dts__parse_add);
}
static int dts__parse_and(dts__cc *k, dts__expr **out) {
    static const char *const ops[] = {"and", "&&"};
    return dts__parse_level(k, out, DTS__X_AND, ops, 2, 0, dts__parse_cmp);
}
static int dts__parse_or(dts__cc *k, dts__expr **out) {
    static const char *const ops[] = {"or", "||"};
    return dts__parse_level(k, out, DTS__X_OR, ops, 2, 0, dts__parse_and);
}

/* 1 while the position line:col, never past t's line, comes before t. */
static int dts__before(int line, int col, const dt_token *t) { return line < t->line || col < t->column; }

/* A byte that continues a name (dt.h's lexer: `cost$usd` is one name). */
static int dts__name_byte(char ch) {
    static const char bytes[] = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_.@$";
    return memchr(bytes, ch, sizeof bytes - 1) != NULL;
}

/* The engine's expressions read event fields; a `$name` in one would read
 * a field of that name, never the variable. Refuse it rather than let it
 * silently be null: the source the engine consumed is scanned, from the
 * expression's first token (a string from its quote) to the token after
 * it, by position: that token may be the end of the program or a lexer
 * error, whose text is not in the source. A `$` in a string, a comment or
 * inside a name is no variable. 1 with *at moved onto the variable. */
static int dts__core_var_at(dt_token *at, const dt_token *end) {
    const char *p = at->text.ptr - (at->kind == DT_TOK_STRING ? 1 : 0);
    int line = at->line, col = at->column, comment = 0, escaped = 0;
    char quote = 0;
    for (; dts__before(line, col, end); p++) {
        if (escaped) escaped = 0;
        else if (quote) { escaped = *p == '\\'; if (*p == quote) quote = 0; }
        else if (comment) comment = *p != '\n';
        else if (*p == '"' || *p == '\'') quote = *p;
        else if (*p == '#' || (*p == '/' && p[1] == '/')) comment = 1;   /* a lone '/' is a token: p[1] is source */
        else if (*p == '$' && !dts__name_byte(p[-1])) { at->line = line; at->column = col; return 1; }   /* p[-1]: a keyword precedes every expression */
        if (*p == '\n') { line++; col = 1; } else col++;
    }
    return 0;
}

/* A value or condition. Starting with a variable or elapsed()/count(): the
 * machine's expression; otherwise the engine's (functions, string tests,
 * in, between...). A condition (cond) is type-checked as the core checks
 * its own: the engine's through dt_parse_condition; a machine expression
 * must not be a number (arithmetic, elapsed(), count()). */
static int dts__parse_value_or_cond(dts__cc *k, dts__expr **out, int cond) {
    dt_token at = *dt_peek(k->c);
    dts__expr *e;
    k->depth = 0;
    if (dts__is_var(&at) || dts__is_machine_fn(k->c)) {
        if (dts__parse_or(k, out)) return DT_ERR_SYNTAX;
        e = *out;
        if (cond && (e->kind == DTS__X_ARITH || e->kind == DTS__X_NEG || e->kind == DTS__X_ELAPSED || e->kind == DTS__X_COUNT))
            return dts__err(k, &at, DT_ERR_TYPE, "expected a condition, found a number",
                            "compare it, for example: $n > 3, or elapsed() > 5s");
        return DT_OK;
    }
    if (!(e = dts__node(k, DTS__X_CORE)) || (cond ? dt_parse_condition(k->c, &e->core) : dt_parse_expr(k->c, &e->core)))
        return DT_ERR_SYNTAX;
    if (dts__core_var_at(&at, dt_peek(k->c)))
        return dts__err(k, &at, DT_ERR_SYNTAX, "a machine variable must lead its expression",
                        "write `$x == hashValue and ...`, not `hashValue == $x`: an expression that starts "
                        "with a field is the engine's, which cannot see variables");
    *out = e;
    return DT_OK;
}

static int dts__parse_expr(dts__cc *k, dts__expr **out) { return dts__parse_value_or_cond(k, out, 0); }
static int dts__parse_cond(dts__cc *k, dts__expr **out) { return dts__parse_value_or_cond(k, out, 1); }

/* ---- compiling: statements ---------------------------------------------- */

static int dts__parse_assign_list(dts__cc *k, dts__stmt *s, const char *close) {
    do {
        dt_str name;
        if (close && dt_is(dt_peek(k->c), close)) break;
        if (s->nargs == DTS__ARGS) return dts__err(k, dt_peek(k->c), DT_ERR_LIMIT, "at most 8 fields", NULL);
        if (dt_expect_ident(k->c, &name, "a field name") || dt_expect(k->c, "=", "write name = value")) return DT_ERR_SYNTAX;
        s->arg_names[s->nargs] = dt_compiler_strdup(k->c, name);
        if (dts__parse_expr(k, &s->args[s->nargs++])) return DT_ERR_SYNTAX;
    } while (dt_accept(k->c, ","));
    return DT_OK;
}

static int dts__parse_emit(dts__cc *k, dts__stmt *s) {
    dt_str name;
    s->kind = DTS__S_EMIT;
    s->level = DT_INFO;
    if (dt_expect_ident(k->c, &name, "the name of the event to emit")) return DT_ERR_SYNTAX;
    s->name = dt_compiler_strdup(k->c, name);
    if (dt_is(dt_peek(k->c), "(") && dt_peek(k->c)->joined) {
        dt_next(k->c);
        if (dts__parse_assign_list(k, s, ")") || dt_expect(k->c, ")", "close the field list")) return DT_ERR_SYNTAX;
    }
    if (dt_accept(k->c, "level") && dt_expect_level(k->c, &s->level)) return DT_ERR_SYNTAX;
    return DT_OK;
}

static int dts__metric_slot(dts__cc *k, dts__stmt *s, const dt_token *at) {
    if (k->m->nmetrics == sizeof k->m->metric_stmts / sizeof k->m->metric_stmts[0])
        return dts__err(k, at, DT_ERR_LIMIT, "too many metric statements in one machine", NULL);
    s->metric = k->m->nmetrics;
    k->m->metric_stmts[k->m->nmetrics++] = s;
    return DT_OK;
}

/* A bound: a number or a duration (in ns), negative after a '-' (a
 * histogram of deltas has bounds below 0). *at is where it starts, its '-'
 * included, for the caller's errors about it. */
static int dts__parse_bound(dts__cc *k, dt_token *at, double *v) {
    int negative;
    dt_token t;
    *at = *dt_peek(k->c);
    negative = dt_accept(k->c, "-");
    t = dt_next(k->c);
    if (t.kind == DT_TOK_FLOAT) *v = t.f;
    else if (t.kind == DT_TOK_INT && t.is_unsigned) *v = (double)t.u;
    else if (t.kind == DT_TOK_INT || t.kind == DT_TOK_DURATION) *v = (double)t.i;
    else return dts__err(k, &t, DT_ERR_SYNTAX, "a bound is a number", "bounds (-10, 0, 10)");
    if (negative) *v = -*v;
    return DT_OK;
}

static int dts__parse_bounds(dts__cc *k, dts__stmt *s) {
    if (dt_expect(k->c, "(", "bounds (1, 5, 10)")) return DT_ERR_SYNTAX;
    do {
        dt_token t;
        double v = 0;                            /* set by dts__parse_bound when it succeeds */
        if (dts__parse_bound(k, &t, &v)) return DT_ERR_SYNTAX;
        if (s->nbounds == DTS__BOUNDS) return dts__err(k, &t, DT_ERR_LIMIT, "at most 16 bounds", NULL);
        if (s->nbounds && v <= s->bounds[s->nbounds - 1]) return dts__err(k, &t, DT_ERR_INVALID, "bounds must increase", NULL);
        s->bounds[s->nbounds++] = v;
    } while (dt_accept(k->c, ","));
    return dt_expect(k->c, ")", "close the bounds");
}

/* observe NAME = EXPR [by LABEL = EXPR] [bounds (...)] / count NAME [by LABEL = EXPR] */
static int dts__parse_metric(dts__cc *k, dts__stmt *s, const dt_token *kw) {
    static const double defaults[] = {0, 5, 10, 25, 50, 75, 100, 250, 500, 750, 1000, 2500, 5000, 7500, 10000};
    dt_str name;
    s->kind = dt_is(kw, "observe") ? DTS__S_OBSERVE : DTS__S_COUNT;
    if (dt_expect_ident(k->c, &name, "a metric name")) return DT_ERR_SYNTAX;
    s->name = dt_compiler_strdup(k->c, name);
    if (s->kind == DTS__S_OBSERVE && (dt_expect(k->c, "=", "observe NAME = VALUE") || dts__parse_expr(k, &s->value)))
        return DT_ERR_SYNTAX;
    if (dt_accept(k->c, "by")) {
        if (dt_expect_ident(k->c, &name, "a label name")) return DT_ERR_SYNTAX;
        s->label = dt_compiler_strdup(k->c, name);
        if (dt_accept(k->c, "=")) {
            if (dts__parse_expr(k, &s->label_value)) return DT_ERR_SYNTAX;
        } else if (!(s->label_value = dts__node(k, DTS__X_FIELD))) {
            return DT_ERR_NOMEM;
        } else {
            s->label_value->name = s->label;             /* by code: the field's own value */
        }
    }
    if (s->kind == DTS__S_OBSERVE) {
        if (dt_accept(k->c, "bounds")) return dts__parse_bounds(k, s);
        memcpy(s->bounds, defaults, sizeof defaults);
        s->nbounds = (uint32_t)(sizeof defaults / sizeof defaults[0]);
    }
    return DT_OK;
}

static int dts__parse_do(dts__cc *k, dts__stmt *s, int trigger) {
    dt_token name = dt_next(k->c);
    s->kind = DTS__S_DO;
    if (name.kind != DT_TOK_IDENT) return dts__err(k, &name, DT_ERR_SYNTAX, "expected an action name", "do memory_dump()");
    if (dt_compiler_action(k->c, &name, &s->action)) return DT_ERR_SYNTAX;
    if (dt_expect(k->c, "(", "an action call: do name(args)")) return DT_ERR_SYNTAX;
    while (!dt_is(dt_peek(k->c), ")")) {
        if (s->nargs == DTS__ARGS) return dts__err(k, dt_peek(k->c), DT_ERR_LIMIT, "at most 8 arguments", NULL);
        if (dts__parse_expr(k, &s->args[s->nargs++])) return DT_ERR_SYNTAX;
        if (!dt_accept(k->c, ",")) break;
    }
    if (dt_expect(k->c, ")", "close the argument list")) return DT_ERR_SYNTAX;
    if (dt_accept(k->c, "once")) s->limit = DTS__LIMIT_ONCE;
    else if (dt_accept(k->c, "every")) {
        dt_token at = *dt_peek(k->c);
        s->limit = DTS__LIMIT_EVERY;
        if (dt_expect_duration(k->c, &s->every)) return DT_ERR_SYNTAX;
        if (s->every <= 0)                       /* 0 would be no limit: say so rather than run unlimited */
            return dts__err(k, &at, DT_ERR_INVALID, "a rate limit must be longer than 0", "write every 1m, or once");
    } else if (dt_is(dt_peek(k->c), "rearm")) {
        if (!trigger) return dts__err(k, dt_peek(k->c), DT_ERR_SYNTAX, "rearm is for the `on` trigger form",
                                      "in a machine, re-arm by moving to another state");
        dt_next(k->c);
        s->limit = DTS__LIMIT_REARM;
        if (dt_expect(k->c, "when", "rearm when CONDITION") || dts__parse_cond(k, &s->rearm)) return DT_ERR_SYNTAX;
    }
    if (s->limit) {
        if (k->m->nfires == DTS__FIRES) return dts__err(k, &name, DT_ERR_LIMIT, "at most 16 limited actions per machine", NULL);
        s->fire = k->m->nfires++;
    }
    return DT_OK;
}

static int dts__parse_stmt(dts__cc *k, dts__stmt *s, int trigger) {
    dt_token t = dt_next(k->c);
    memset(s, 0, sizeof *s);
    if (dts__is_var(&t)) {
        s->kind = DTS__S_SET;
        if (dts__var_slot(k, &t, &s->var) || dt_expect(k->c, "=", "assign with $name = value")) return DT_ERR_SYNTAX;
        return dts__parse_expr(k, &s->value);
    }
    if (dt_is(&t, "emit")) return dts__parse_emit(k, s);
    if (dt_is(&t, "observe") || dt_is(&t, "count")) return dts__parse_metric(k, s, &t) || dts__metric_slot(k, s, &t);
    if (dt_is(&t, "annotate")) { s->kind = DTS__S_ANNOTATE; return dts__parse_assign_list(k, s, NULL); }
    if (dt_is(&t, "drop")) { s->kind = DTS__S_DROP; return DT_OK; }
    if (dt_is(&t, "do")) return dts__parse_do(k, s, trigger);
    return dts__err(k, &t, DT_ERR_SYNTAX, "expected a statement",
                    "statements: $var = value, emit, observe, count, annotate, drop, do action(...)");
}

/* Metric statements are listed by address; repoint them once a body has
 * its final place. */
static void dts__body_moved(dts__machine *m, const dts__body *body) {
    uint32_t i;
    for (i = 0; i < body->n; i++)
        if (body->s[i].kind == DTS__S_OBSERVE || body->s[i].kind == DTS__S_COUNT) m->metric_stmts[body->s[i].metric] = &body->s[i];
}

/* { statement; ... } */
static int dts__parse_body(dts__cc *k, dts__body *body) {
    dts__stmt tmp[DTS__STMTS];
    if (dt_expect(k->c, "{", "a block of statements")) return DT_ERR_SYNTAX;
    body->n = 0;
    while (!dt_accept(k->c, "}")) {
        if (dt_accept(k->c, ";")) continue;
        if (dt_peek(k->c)->kind == DT_TOK_EOF) return dt_expect(k->c, "}", "close the block");
        if (body->n == DTS__STMTS) return dts__err(k, dt_peek(k->c), DT_ERR_LIMIT, "at most 16 statements in a block", NULL);
        if (dts__parse_stmt(k, &tmp[body->n++], 0)) return DT_ERR_SYNTAX;
    }
    body->s = (dts__stmt *)dt_compiler_alloc(k->c, sizeof(dts__stmt) * (body->n ? body->n : 1));
    if (!body->s) return DT_ERR_NOMEM;
    memcpy(body->s, tmp, sizeof(dts__stmt) * body->n);
    dts__body_moved(k->m, body);
    return DT_OK;
}

/* ---- compiling: machines ------------------------------------------------ */

static int dts__state(dts__cc *k, const dt_token *t, uint32_t *out) {
    dts__machine *m = k->m;
    uint32_t i;
    if (t->kind != DT_TOK_IDENT) return dts__err(k, t, DT_ERR_SYNTAX, "expected a state name", NULL);
    for (i = 0; i < m->nstates; i++) if (dts__str_eq(m->states[i], t->text)) { *out = i; return DT_OK; }
    if (m->nstates == DTS__STATES) return dts__err(k, t, DT_ERR_LIMIT, "at most 32 states per machine", NULL);
    m->states[m->nstates] = dt_compiler_strdup(k->c, t->text);
    m->timeout[m->nstates] = -1;
    k->named[m->nstates].line = t->line;
    k->named[m->nstates].column = t->column;
    *out = m->nstates++;
    return DT_OK;
}

/* Distinct patterns get one subscription each; a transition keeps a mask. */
static int dts__pattern_bit(dts__cc *k, const dt_pattern *p, uint32_t *mask) {
    dts__machine *m = k->m;
    uint32_t i;
    for (i = 0; i < m->npats; i++)
        if (m->pats[i].prefix == p->prefix && dts__str_eq(m->pats[i].text, p->text)) break;
    if (i == m->npats) {
        if (m->npats == DTS__PATTERNS) {                            /* the list is parsed: point at the pattern */
            dt_token at;
            memset(&at, 0, sizeof at);
            at.line = p->line;
            at.column = p->column;
            return dts__err(k, &at, DT_ERR_LIMIT, "at most 32 event patterns per machine", NULL);
        }
        m->pats[m->npats] = *p;
        m->pats[m->npats].text = dt_compiler_strdup(k->c, p->text);
        m->npats++;
    }
    *mask |= 1u << i;
    return DT_OK;
}

/* on PATTERN[, PATTERN...] [where COND]: the patterns also scope the
 * condition's fields for schema checks. */
static int dts__parse_on(dts__cc *k, dts__trans *t) {
    /* the compiler keeps the scope's pointer: the list lives in the arena */
    dt_pattern *pats = (dt_pattern *)dt_compiler_alloc(k->c, sizeof(dt_pattern) * 16);
    uint32_t n = 0, i;
    if (!pats) return DT_ERR_NOMEM;
    do {
        if (n == 16) return dts__err(k, dt_peek(k->c), DT_ERR_LIMIT, "at most 16 patterns in one list", NULL);
        if (dt_expect_pattern(k->c, &pats[n++])) return DT_ERR_SYNTAX;
    } while (dt_accept(k->c, ","));
    for (i = 0; i < n; i++) if (dts__pattern_bit(k, &pats[i], &t->pats)) return DT_ERR_SYNTAX;
    dt_compiler_scope(k->c, pats, n);
    if (dt_accept(k->c, "where") && dts__parse_cond(k, &t->where)) return DT_ERR_SYNTAX;
    return DT_OK;
}

/* FROM -> TO on PATTERNS [where COND] [{...}]  |  FROM -> TO after D [{...}] */
static int dts__parse_transition(dts__cc *k) {
    dts__machine *m = k->m;
    dt_token from = dt_next(k->c), to;
    dts__trans *t;
    uint32_t s;
    if (m->ntrans == DTS__TRANSITIONS) return dts__err(k, &from, DT_ERR_LIMIT, "at most 64 transitions per machine", NULL);
    t = &m->trans[m->ntrans];
    memset(t, 0, sizeof *t);
    t->from = -1;
    if (!dt_is(&from, "*")) {
        if (dts__state(k, &from, &s)) return DT_ERR_SYNTAX;
        t->from = (int32_t)s;
    }
    if (dt_expect(k->c, "->", "a transition: FROM -> TO on EVENT")) return DT_ERR_SYNTAX;
    to = dt_next(k->c);
    if (dts__state(k, &to, &t->to)) return DT_ERR_SYNTAX;
    if (dt_accept(k->c, "after")) {
        dt_token at = *dt_peek(k->c);
        if (dt_expect_duration(k->c, &t->after)) return DT_ERR_SYNTAX;
        if (t->after <= 0) return dts__err(k, &at, DT_ERR_INVALID, "a timeout must be longer than 0", "write after 30s");
        if (t->from < 0) return dts__err(k, &from, DT_ERR_SYNTAX, "a timeout leaves one named state, not *", NULL);
        if (m->timeout[t->from] >= 0)
            return dts__err(k, &at, DT_ERR_EXISTS, "this state already has a timeout", "one `after` per state");
        m->timeout[t->from] = (int32_t)m->ntrans;
        dt_compiler_scope(k->c, NULL, 0);
    } else if (dt_expect(k->c, "on", "on EVENT or after DURATION") || dts__parse_on(k, t)) {
        return DT_ERR_SYNTAX;
    }
    if (dt_is(dt_peek(k->c), "{") && dts__parse_body(k, &t->body)) return DT_ERR_SYNTAX;
    m->ntrans++;
    return DT_OK;
}

static int dts__parse_by(dts__cc *k) {
    dts__machine *m = k->m;
    if (dt_accept(k->c, "tid")) { m->by_tid = 1; return DT_OK; }
    do {
        dt_str f;
        if (m->nkeys == DTS__KEYS) return dts__err(k, dt_peek(k->c), DT_ERR_LIMIT, "at most 4 key fields", NULL);
        if (dt_expect_ident(k->c, &f, "a key field, or tid")) return DT_ERR_SYNTAX;
        m->keys[m->nkeys++] = dt_compiler_strdup(k->c, f);
    } while (dt_accept(k->c, ","));
    return DT_OK;
}

#define DTS__OTHER_LINES "initial S, by FIELD, max N, every D, entry S {...}, exit S {...}"

static int dts__parse_line(dts__cc *k) {
    dts__machine *m = k->m;
    dt_token t = *dt_peek(k->c);
    uint32_t s;
    int64_t n;
    if (dt_is(&t, "*") || dt_is(dt_peek2(k->c), "->")) return dts__parse_transition(k);
    dt_next(k->c);
    if (dt_is(&t, "initial")) {
        t = dt_next(k->c);
        return dts__state(k, &t, &m->initial);
    }
    if (dt_is(&t, "by")) return dts__parse_by(k);
    if (dt_is(&t, "max")) {
        if (dt_expect_int(k->c, 1, DTS__MAX_INSTANCES, &n, "the most instances (1 to 1048576)")) return DT_ERR_SYNTAX;
        m->max = (uint32_t)n;
        return DT_OK;
    }
    if (dt_is(&t, "every")) {
        dt_token at = *dt_peek(k->c);
        if (dt_expect_duration(k->c, &m->every)) return DT_ERR_SYNTAX;
        return m->every > 0 ? DT_OK : dts__err(k, &at, DT_ERR_INVALID, "a metric window must be longer than 0", NULL);
    }
    if (dt_is(&t, "entry") || dt_is(&t, "exit")) {
        dt_token st = dt_next(k->c);
        if (dts__state(k, &st, &s)) return DT_ERR_SYNTAX;
        return dts__parse_body(k, dt_is(&t, "entry") ? &m->entry[s] : &m->exit[s]);
    }
    /* Two names (`S on T`, `S T on A`): the first is a transition's FROM
     * state and its '->' is missing (the test above saw no '->'), or a
     * misspelt keyword. After a name and anything else, nothing better is
     * known: the name may be a stray word (`where $v query 1`). */
    if (t.kind == DT_TOK_IDENT && dt_peek(k->c)->kind == DT_TOK_IDENT)
        return dt_expect(k->c, "->", "a transition: FROM -> TO on EVENT; other lines: " DTS__OTHER_LINES);
    return dts__err(k, &t, DT_ERR_SYNTAX, "expected a machine line",
                    "lines: FROM -> TO on EVENT ..., FROM -> TO after D, " DTS__OTHER_LINES);
}

/* Instance layout and the preallocated pools: nothing is allocated later. */
static int dts__layout(dts__cc *k, dt_block *b) {
    dts__machine *m = k->m;
    uint32_t i, j, n;
    m->var_off = (sizeof(dts__inst) + 7u) & ~(size_t)7u;
    m->count_off = m->var_off + sizeof(dts__var) * m->nvars;
    m->fire_off = m->count_off + sizeof(dts__count) * m->ncounts;
    m->str_off = m->fire_off + sizeof(int64_t) * m->nfires;
    m->inst_size = (m->str_off + (size_t)DT_STATEFUL_MAX_STR * m->nvars + 7u) & ~(size_t)7u;
    m->shards = dt_compiler_shards(k->c, b, (m->by_tid || m->nkeys) ? DT_SHARDS : 1);
    if (!m->shards) return DT_ERR_NOMEM;
    n = dt_shards_count(m->shards);
    m->nstripes = n < m->max / 64u ? n : (m->max / 64u ? m->max / 64u : 1u);   /* stripes of 64 or more: LRU stays near global */
    m->stripes = (dts__stripe *)dt_compiler_alloc(k->c, sizeof(dts__stripe) * m->nstripes);
    if (!m->stripes) return DT_ERR_NOMEM;
    for (i = 0; i < m->nstripes; i++) {
        dts__stripe *s = &m->stripes[i];
        uint32_t size = 4;
        s->cap = m->max / m->nstripes + (i < m->max % m->nstripes ? 1u : 0u);
        while (size < 2u * s->cap) size *= 2u;
        s->mask = size - 1u;
        s->table = (uint32_t *)dt_compiler_alloc(k->c, sizeof(uint32_t) * size);
        s->heap = (uint32_t *)dt_compiler_alloc(k->c, sizeof(uint32_t) * s->cap);
        s->pool = (char *)dt_compiler_alloc(k->c, m->inst_size * (s->cap + 1u));
        if (!s->table || !s->heap || !s->pool)
            return dts__err(k, dt_peek(k->c), DT_ERR_NOMEM, "machine instances do not fit in the program's memory",
                                    "lower its max, or raise dt_desc.max_program_bytes");
        s->head = s->tail = DTS__NIL;
        for (j = 0; j < s->cap; j++) dts__at(m, s, j)->next = j + 1 < s->cap ? j + 1 : DTS__NIL;
        s->free = 0;                                             /* cap >= 1: max >= 1, stripes <= max / 64 */
    }
    if (m->nmetrics) {
        m->groups = (dts__group *)dt_compiler_alloc(k->c, sizeof(dts__group) * DT_STATEFUL_GROUPS);
        if (!m->groups) return DT_ERR_NOMEM;
    }
    m->all_exact = 1;
    for (i = 0; i < m->npats; i++) {
        if (m->pats[i].prefix) m->all_exact = 0;
        dt_subscribe(k->c, b, &m->pats[i], (int)i);
    }
    return DT_OK;
}

static void dts__finish(dts__machine *m) {
    uint32_t i;
    for (i = 0; i < m->ntrans; i++)
        if (!m->trans[i].after && (m->trans[i].from < 0 || (uint32_t)m->trans[i].from == m->initial))
            m->initial_pats |= m->trans[i].pats;
    if (!m->max) m->max = DT_STATEFUL_INSTANCES;
    if (!m->every) m->every = 60 * (int64_t)1000000000;
}

/* Appends s to the message in buf (size > 0), cut to fit. */
static size_t dts__put(char *buf, size_t size, size_t at, dt_str s) {
    size_t n = s.len < size - 1u - at ? s.len : size - 1u - at;
    if (n) memcpy(buf + at, s.ptr, n);
    buf[at + n] = 0;
    return at + n;
}

/* "state 'X' is not used by any transition", with the states that are. */
static int dts__unused_state(dts__cc *k, uint32_t unused, const unsigned char *used) {
    const dts__machine *m = k->m;
    char msg[200], hint[256];
    size_t n, h, listed = 0;
    uint32_t i;
    dt_token at;
    memset(&at, 0, sizeof at);
    at.line = k->named[unused].line;
    at.column = k->named[unused].column;
    n = dts__put(msg, sizeof msg, 0, dt_cstr("state '"));
    n = dts__put(msg, sizeof msg, n, m->states[unused]);
    dts__put(msg, sizeof msg, n, dt_cstr("' is not used by any transition"));
    h = dts__put(hint, sizeof hint, 0, dt_cstr("check the spelling; the transitions' states are "));
    for (i = 0; i < m->nstates; i++) {
        if (!used[i]) continue;
        if (listed++) h = dts__put(hint, sizeof hint, h, dt_cstr(", "));
        h = dts__put(hint, sizeof hint, h, m->states[i]);
    }
    return dts__err(k, &at, DT_ERR_INVALID, msg, hint);
}

/* A state no transition enters or leaves, named only by initial, entry or
 * exit, makes a dead machine or a block that never runs: most likely a
 * typo. One entered only by `* -> X`, or left only by a timeout, is used. */
static int dts__check_states_used(dts__cc *k) {
    const dts__machine *m = k->m;
    unsigned char used[DTS__STATES];
    uint32_t i;
    memset(used, 0, sizeof used);
    for (i = 0; i < m->ntrans; i++) {
        used[m->trans[i].to] = 1;
        if (m->trans[i].from >= 0) used[m->trans[i].from] = 1;
    }
    for (i = 0; i < m->nstates; i++)
        if (!used[i]) return dts__unused_state(k, i, used);
    return DT_OK;
}

static int dts__compile(dt_compiler *c, dt_block *b) {
    dts__cc k;
    dt_token at;
    memset(&k, 0, sizeof k);
    k.c = c;
    k.m = (dts__machine *)dt_compiler_alloc(c, sizeof *k.m);
    if (!k.m || dt_expect_ident(c, &k.m->name, "a machine name")) return DT_ERR_SYNTAX;
    k.m->name = dt_compiler_strdup(c, k.m->name);
    dt_block_set_name(b, k.m->name);
    dt_block_set_state(b, k.m);
    at = *dt_peek(c);
    if (dt_expect(c, "{", "machine NAME { FROM -> TO on EVENT ... }")) return DT_ERR_SYNTAX;
    while (!dt_accept(c, "}")) {
        if (dt_accept(c, ";")) continue;
        if (dt_peek(c)->kind == DT_TOK_EOF) return dt_expect(c, "}", "close the machine");
        if (dts__parse_line(&k)) return DT_ERR_SYNTAX;
    }
    if (!k.m->ntrans) return dts__err(&k, &at, DT_ERR_SYNTAX, "a machine needs at least one transition", NULL);
    if (dts__check_states_used(&k)) return DT_ERR_INVALID;
    dts__finish(k.m);
    return dts__layout(&k, b);
}

/* on PATTERNS [where COND] do ACTION(args) [once | every D | rearm when C]
 * on PATTERNS [where COND] { statements }
 * A machine with one state and one transition, whose one instance lives
 * as long as the program. */
static int dts__trigger_compile(dt_compiler *c, dt_block *b) {
    dts__cc k;
    dts__trans *t;
    dt_token at = *dt_peek(c);
    memset(&k, 0, sizeof k);
    k.c = c;
    k.m = (dts__machine *)dt_compiler_alloc(c, sizeof *k.m);
    if (!k.m) return DT_ERR_NOMEM;
    dt_block_set_state(b, k.m);
    k.m->trigger = 1;
    k.m->nstates = 1;
    k.m->states[0] = dt_cstr("on");
    k.m->timeout[0] = -1;
    k.m->max = 1;
    t = &k.m->trans[k.m->ntrans++];
    if (dts__parse_on(&k, t)) return DT_ERR_SYNTAX;
    if (dt_is(dt_peek(c), "{")) {
        if (dts__parse_body(&k, &t->body)) return DT_ERR_SYNTAX;
    } else {
        if (dt_expect(c, "do", "on EVENT [where COND] do ACTION(...), or { statements }")) return DT_ERR_SYNTAX;
        t->body.s = (dts__stmt *)dt_compiler_alloc(c, sizeof(dts__stmt));
        if (!t->body.s || dts__parse_do(&k, t->body.s, 1)) return DT_ERR_SYNTAX;
        t->body.n = 1;
    }
    (void)at;
    dts__finish(k.m);
    return dts__layout(&k, b);
}

/* ---- run time: the instance table --------------------------------------- */

static uint32_t dts__find(const dts__machine *m, const dts__stripe *s, uint64_t h, const char *key, uint32_t len) {
    uint32_t k = (uint32_t)h & s->mask;
    for (; s->table[k]; k = (k + 1u) & s->mask) {
        dts__inst *in = dts__at(m, s, s->table[k] - 1u);
        if (in->hash == h && in->keylen == len && (len == 0 || memcmp(in->key, key, len) == 0)) return s->table[k] - 1u;
    }
    return DTS__NIL;
}

static void dts__table_put(const dts__machine *m, dts__stripe *s, uint32_t idx) {
    uint32_t k = (uint32_t)dts__at(m, s, idx)->hash & s->mask;
    while (s->table[k]) k = (k + 1u) & s->mask;
    s->table[k] = idx + 1u;
}

/* Linear probing with backward-shift deletion: no tombstones, so probes
 * stay short however many keys come and go. */
static void dts__table_del(const dts__machine *m, dts__stripe *s, uint32_t idx) {
    uint32_t k = (uint32_t)dts__at(m, s, idx)->hash & s->mask, j;
    while (s->table[k] != idx + 1u) k = (k + 1u) & s->mask;
    for (j = (k + 1u) & s->mask; s->table[j]; j = (j + 1u) & s->mask) {
        uint32_t home = (uint32_t)dts__at(m, s, s->table[j] - 1u)->hash & s->mask;
        if (((j - home) & s->mask) >= ((j - k) & s->mask)) { s->table[k] = s->table[j]; k = j; }
    }
    s->table[k] = 0;
}

static void dts__lru_unlink(const dts__machine *m, dts__stripe *s, dts__inst *in) {
    if (in->prev != DTS__NIL) dts__at(m, s, in->prev)->next = in->next; else s->head = in->next;
    if (in->next != DTS__NIL) dts__at(m, s, in->next)->prev = in->prev; else s->tail = in->prev;
}

static void dts__lru_front(const dts__machine *m, dts__stripe *s, uint32_t idx) {
    dts__inst *in = dts__at(m, s, idx);
    in->prev = DTS__NIL;
    in->next = s->head;
    if (s->head != DTS__NIL) dts__at(m, s, s->head)->prev = idx; else s->tail = idx;
    s->head = idx;
}

/* ---- run time: the timer heap (earliest deadline on top) ---------------- */

static int64_t dts__deadline(const dts__machine *m, const dts__stripe *s, uint32_t pos) {
    return dts__at(m, s, s->heap[pos])->deadline;
}

static void dts__heap_set(const dts__machine *m, dts__stripe *s, uint32_t pos, uint32_t idx) {
    s->heap[pos] = idx;
    dts__at(m, s, idx)->heap = pos;
}

static void dts__heap_fix(const dts__machine *m, dts__stripe *s, uint32_t pos) {
    uint32_t idx = s->heap[pos];
    int64_t d = dts__at(m, s, idx)->deadline;
    while (pos > 0 && dts__deadline(m, s, (pos - 1u) / 2u) > d) {
        dts__heap_set(m, s, pos, s->heap[(pos - 1u) / 2u]);
        pos = (pos - 1u) / 2u;
    }
    for (;;) {
        uint32_t c = 2u * pos + 1u;
        if (c >= s->nheap) break;
        if (c + 1u < s->nheap && dts__deadline(m, s, c + 1u) < dts__deadline(m, s, c)) c++;
        if (dts__deadline(m, s, c) >= d) break;
        dts__heap_set(m, s, pos, s->heap[c]);
        pos = c;
    }
    dts__heap_set(m, s, pos, idx);
}

static void dts__heap_push(const dts__machine *m, dts__stripe *s, uint32_t idx) {
    dts__heap_set(m, s, s->nheap++, idx);
    dts__heap_fix(m, s, s->nheap - 1u);
}

static void dts__heap_del(const dts__machine *m, dts__stripe *s, dts__inst *in) {
    uint32_t pos = in->heap;
    in->heap = DTS__NIL;
    if (pos == DTS__NIL) return;
    if (pos != --s->nheap) {
        dts__heap_set(m, s, pos, s->heap[s->nheap]);
        dts__heap_fix(m, s, pos);
    }
}

/* ---- run time: instances ------------------------------------------------ */

static void dts__free(const dts__machine *m, dts__stripe *s, uint32_t idx) {
    dts__inst *in = dts__at(m, s, idx);
    dts__table_del(m, s, idx);
    dts__heap_del(m, s, in);
    dts__lru_unlink(m, s, in);
    in->next = s->free;
    s->free = idx;
    s->live--;
}

/* A free slot; a full stripe gives up its least recently used instance. */
static uint32_t dts__slot(const dts__machine *m, dts__stripe *s, dt_exec *x) {
    uint32_t idx;
    if (s->free == DTS__NIL) {
        s->evicted++;
        dt_exec_count_overflow(x);
        dts__free(m, s, s->tail);
    }
    idx = s->free;
    s->free = dts__at(m, s, idx)->next;
    s->live++;
    return idx;
}

/* The blank instance at the end of the pool: a key's first event runs on
 * it, and it is adopted only if it has something to keep. */
static dts__inst *dts__blank(const dts__machine *m, dts__stripe *s, uint64_t h, const char *key, uint32_t len, int64_t now) {
    dts__inst *in = dts__at(m, s, s->cap);
    memset(in, 0, m->inst_size);
    in->hash = h;
    in->keylen = len;
    if (len) memcpy(in->key, key, len);
    in->state = m->initial;
    in->entered = now;
    in->heap = DTS__NIL;
    in->prev = in->next = DTS__NIL;
    return in;
}

static int dts__keep(const dts__machine *m, dts__inst *in, int64_t now, const int64_t *windows) {
    const dts__count *cn = dts__counts(m, in);
    uint32_t i;
    if (m->trigger || in->state != m->initial || in->heap != DTS__NIL) return 1;
    for (i = 0; i < m->ncounts; i++) if (cn[i].n && now < cn[i].start + windows[i]) return 1;
    return 0;
}

/* Moves an instance (the blank, or one from another block) into a slot. */
static void dts__adopt(const dts__machine *m, dts__stripe *s, const dts__inst *from, dt_exec *x) {
    uint32_t idx = dts__slot(m, s, x);
    dts__inst *in = dts__at(m, s, idx);
    int timer = from->heap != DTS__NIL;
    memcpy(in, from, m->inst_size);
    in->heap = DTS__NIL;
    dts__table_put(m, s, idx);
    dts__lru_front(m, s, idx);
    if (timer) dts__heap_push(m, s, idx);
}

/* ---- run time: expressions ---------------------------------------------- */

typedef struct dts__effect {
    const dts__stmt *s;
    uint32_t n;
    dt_value v[DTS__ARGS];
} dts__effect;

/* Emits and actions wait here until the stripe lock is released: an
 * emitted event may come back to this very machine. */
typedef struct dts__effects {
    uint32_t n;
    size_t used;
    int64_t now;
    uint64_t tid;
    dts__effect e[DTS__EFFECTS];
    char bytes[DTS__EFFECT_BYTES];
} dts__effects;

typedef struct dts__ctx {
    dt_exec *x;
    dt_block *b;
    dts__machine *m;
    dts__stripe *s;
    dts__inst *in;
    int64_t now;
    int has_event;           /* 0 for a timeout: no event to annotate or drop */
    int blank;               /* in is the blank instance: timers are only marked */
    dts__effects *fx;
} dts__ctx;

static dt_value dts__var_get(const dts__ctx *k, uint32_t slot) {
    const dts__var *v = &dts__vars(k->m, k->in)[slot];
    dt_value r = dts__null();
    r.type = (dt_type)v->type;
    switch (v->type) {
    case DT_TYPE_BOOL: r.as.b = v->as.b; break;
    case DT_TYPE_STR: case DT_TYPE_BYTES: r.as.str = dt_strn(dts__strs(k->m, k->in, slot), v->len); break;
    case DT_TYPE_NULL: r = dts__i64(0); break;                      /* variables start at 0 */
    default: r.as.u64 = v->as.u; break;
    }
    return r;
}

static void dts__var_set(dts__ctx *k, uint32_t slot, dt_value val) {
    dts__var *v = &dts__vars(k->m, k->in)[slot];
    if ((val.type == DT_TYPE_STR || val.type == DT_TYPE_BYTES) && val.as.str.len > DT_STATEFUL_MAX_STR) {
        k->s->refused++;                                             /* never cut: a cut id is a wrong id */
        dt_exec_count_overflow(k->x);
        val = dts__null();
    }
    v->type = (int)val.type;
    switch (val.type) {
    case DT_TYPE_BOOL: v->as.b = val.as.b; break;
    case DT_TYPE_STR: case DT_TYPE_BYTES:
        v->len = (uint32_t)val.as.str.len;
        if (val.as.str.len) memmove(dts__strs(k->m, k->in, slot), val.as.str.ptr, val.as.str.len);
        break;
    case DT_TYPE_NULL: v->type = DT_TYPE_I64; v->as.i = 0; break;
    default: v->as.u = val.as.u64; break;
    }
}

/* Numbers as i64 when they fit, else f64. 0: not a number. */
static int dts__num(dt_value v, int64_t *i, double *f) {
    if (v.type == DT_TYPE_I64) { *i = v.as.i64; *f = (double)v.as.i64; return 1; }
    if (v.type == DT_TYPE_U64 && v.as.u64 <= (uint64_t)INT64_MAX) { *i = (int64_t)v.as.u64; *f = (double)v.as.u64; return 1; }
#if DT_NO_FLOAT
    return 0;                        /* as dt.h: no f64 arithmetic (u64 beyond i64 needs it) */
#else
    if (v.type == DT_TYPE_U64) { *f = (double)v.as.u64; return 2; }
    if (v.type == DT_TYPE_F64) { *f = v.as.f64; return 2; }
    return 0;
#endif
}

/* -1, 0, 1 (booleans: 0 equal, 1 not); 2 unordered (NaN); 3 not comparable. */
static int dts__cmp(dt_value a, dt_value b) {
    int64_t ia = 0, ib = 0;
    double fa = 0, fb = 0;
    int na = dts__num(a, &ia, &fa), nb = dts__num(b, &ib, &fb);
    if (na && nb) {
        if (na == 1 && nb == 1) return ia < ib ? -1 : ia > ib;
        if (fa != fa || fb != fb) return 2;
        return fa < fb ? -1 : fa > fb;
    }
    if ((a.type == DT_TYPE_STR && b.type == DT_TYPE_STR) || (a.type == DT_TYPE_BYTES && b.type == DT_TYPE_BYTES)) {
        size_t n = a.as.str.len < b.as.str.len ? a.as.str.len : b.as.str.len;
        int r = n ? memcmp(a.as.str.ptr, b.as.str.ptr, n) : 0;
        if (r) return r < 0 ? -1 : 1;
        return a.as.str.len < b.as.str.len ? -1 : a.as.str.len > b.as.str.len;
    }
    if (a.type == DT_TYPE_BOOL && b.type == DT_TYPE_BOOL) return a.as.b != b.as.b;
    return 3;
}

static dt_value dts__rule_error(dts__ctx *k) {
    dt_exec_rule_error(k->x);
    return dts__null();
}

static dt_value dts__eval_cmp(dts__ctx *k, int op, dt_value a, dt_value b) {
    int r;
    if (a.type == DT_TYPE_NULL || b.type == DT_TYPE_NULL) return dts__null();
    r = dts__cmp(a, b);
    if (r == 3 || (a.type == DT_TYPE_BOOL && op != DTS__EQ && op != DTS__NE)) return dts__rule_error(k);  /* booleans: == and != */
    if (r == 2) return dts__bool(op == DTS__NE);                     /* NaN: unordered */
    switch (op) {
    case DTS__EQ: return dts__bool(r == 0);
    case DTS__NE: return dts__bool(r != 0);
    case DTS__LT: return dts__bool(r < 0);
    case DTS__LE: return dts__bool(r <= 0);
    case DTS__GT: return dts__bool(r > 0);
    default: return dts__bool(r >= 0);
    }
}

static int dts__mul(int64_t a, int64_t b, int64_t *r) {
    if (a == 0 || b == 0) { *r = 0; return 1; }
    if ((a == -1 && b == INT64_MIN) || (b == -1 && a == INT64_MIN)) return 0;
    if (a > 0 ? (b > 0 ? a > INT64_MAX / b : b < INT64_MIN / a) : (b > 0 ? a < INT64_MIN / b : a < INT64_MAX / b)) return 0;
    *r = a * b;
    return 1;
}

/* i64 arithmetic with overflow checks, else f64; errors give null, counted. */
static dt_value dts__eval_arith(dts__ctx *k, int op, dt_value a, dt_value b) {
    int64_t ia = 0, ib = 0;
    double fa = 0, fb = 0;
    int na, nb;
    dt_value r = dts__null();
    if (a.type == DT_TYPE_NULL || b.type == DT_TYPE_NULL) return r;
    na = dts__num(a, &ia, &fa);
    nb = dts__num(b, &ib, &fb);
    if (!na || !nb) return dts__rule_error(k);
    if (na == 1 && nb == 1) {
        r.type = DT_TYPE_I64;
        switch (op) {
        case DTS__ADD: if ((ib > 0 && ia > INT64_MAX - ib) || (ib < 0 && ia < INT64_MIN - ib)) return dts__rule_error(k);
                       r.as.i64 = ia + ib; return r;
        case DTS__SUB: if ((ib < 0 && ia > INT64_MAX + ib) || (ib > 0 && ia < INT64_MIN + ib)) return dts__rule_error(k);
                       r.as.i64 = ia - ib; return r;
        case DTS__MUL: if (!dts__mul(ia, ib, &r.as.i64)) return dts__rule_error(k);
                       return r;
        case DTS__DIV: if (ib == 0 || (ia == INT64_MIN && ib == -1)) return dts__rule_error(k);
                       r.as.i64 = ia / ib; return r;
        default: if (ib == 0) return dts__rule_error(k);
                 r.as.i64 = ib == -1 ? 0 : ia % ib; return r;         /* as the engine's: INT64_MIN % -1 traps in C */
        }
    }
    if (op == DTS__MOD) return dts__rule_error(k);
    r.type = DT_TYPE_F64;
    r.as.f64 = op == DTS__ADD ? fa + fb : op == DTS__SUB ? fa - fb : op == DTS__MUL ? fa * fb : fa / fb;
    return r;
}

/* count(D): events that reached this condition in the current window of
 * length D (windows aligned to multiples of D in event time). */
static dt_value dts__eval_count(dts__ctx *k, const dts__expr *e) {
    dts__count *c = &dts__counts(k->m, k->in)[e->slot];
    int64_t start = dts__floor(k->now, e->window);
    if (c->start != start || !c->n) { c->start = start; c->n = 0; }
    return dts__i64(++c->n);
}

static int dts__truthy(dt_value v) { return v.type == DT_TYPE_BOOL && v.as.b; }

static dt_value dts__eval(dts__ctx *k, const dts__expr *e) {
    const dt_event *ev = dt_exec_event(k->x);
    const dt_value *f;
    dt_value a;
    if (e->kind == DTS__X_CORE) return dt_eval(k->x, e->core);
    if (dt_exec_charge(k->x, 1)) return dts__null();
    switch (e->kind) {
    case DTS__X_LIT: return e->lit;
    case DTS__X_FIELD: f = dt_exec_field(k->x, e->name); return f ? *f : dts__null();
    case DTS__X_NAME: a = dts__null(); a.type = DT_TYPE_STR; a.as.str = ev->name; return a;
    case DTS__X_LEVEL: return dts__i64(ev->level);
    case DTS__X_TS: return dts__i64(k->now);
    case DTS__X_TID: a = dts__null(); a.type = DT_TYPE_U64; a.as.u64 = ev->tid; return a;
    case DTS__X_VAR: return dts__var_get(k, e->slot);
    case DTS__X_ELAPSED: return dts__i64(k->now - k->in->entered);
    case DTS__X_COUNT: return dts__eval_count(k, e);
    case DTS__X_NOT: return dts__bool(!dts__truthy(dts__eval(k, e->a)));
    case DTS__X_AND: return dts__bool(dts__truthy(dts__eval(k, e->a)) && dts__truthy(dts__eval(k, e->b)));
    case DTS__X_OR: return dts__bool(dts__truthy(dts__eval(k, e->a)) || dts__truthy(dts__eval(k, e->b)));
    case DTS__X_CMP: a = dts__eval(k, e->a); return dts__eval_cmp(k, e->op, a, dts__eval(k, e->b));
    case DTS__X_NEG: return dts__eval_arith(k, DTS__SUB, dts__i64(0), dts__eval(k, e->a));
    default: a = dts__eval(k, e->a); return dts__eval_arith(k, e->op, a, dts__eval(k, e->b));
    }
}

/* ---- run time: metrics (under the block lock) ---------------------------- */

static void dts__send_group(dt_exec *x, const dts__machine *m, const dts__group *g) {
    const dts__stmt *s = m->metric_stmts[g->metric];
    dt_metric mt;
    dt_field label;
    memset(&mt, 0, sizeof mt);
    mt.name = s->name;
    mt.temporality = DT_DELTA;
    mt.start_ns = m->win_start;
    mt.end_ns = m->win_start + m->every;
    if (s->label.len) {
        label.name = s->label;
        label.value = g->label;
        mt.labels = &label;
        mt.nlabels = 1;
    }
    if (s->kind == DTS__S_COUNT) {
        mt.kind = DT_METRIC_COUNTER;
        mt.value = (double)g->count;
        mt.is_int = 1;
    } else {
        mt.kind = DT_METRIC_HISTOGRAM;
        mt.count = g->count;
        mt.sum = g->sum;
        mt.min = g->min;
        mt.max = g->max;
        mt.nbuckets = s->nbounds + 1u;
        mt.bounds = s->bounds;
        mt.bucket_counts = g->buckets;
    }
    dt_exec_metric(x, &mt);
}

/* Closes the window: one point per group, in the order groups appeared. */
static void dts__close_window(dt_exec *x, dts__machine *m) {
    uint32_t i;
    for (i = 0; i < m->ngroups; i++) dts__send_group(x, m, &m->groups[i]);
    m->ngroups = 0;
    m->win_open = 0;
}

static dts__group *dts__group_of(dts__ctx *k, const dts__stmt *s, dt_value label) {
    dts__machine *m = k->m;
    dts__group *g;
    uint32_t i;
    for (i = 0; i < m->ngroups; i++) {
        g = &m->groups[i];
        if (g->metric == s->metric && g->label.type == label.type && (label.type == DT_TYPE_NULL || dts__cmp(g->label, label) == 0)) return g;
    }
    if (m->ngroups == DT_STATEFUL_GROUPS || ((label.type == DT_TYPE_STR || label.type == DT_TYPE_BYTES) && label.as.str.len > DT_MAX_KEY)) {
        m->metric_overflow++;
        dt_exec_count_overflow(k->x);
        return NULL;
    }
    g = &m->groups[m->ngroups++];
    memset(g, 0, sizeof *g);
    g->metric = s->metric;
    g->label = label;
    if (label.type == DT_TYPE_STR || label.type == DT_TYPE_BYTES) {
        if (label.as.str.len) memcpy(g->bytes, label.as.str.ptr, label.as.str.len);
        g->label.as.str.ptr = g->bytes;
    }
    return g;
}

static void dts__metric_add(dts__ctx *k, const dts__stmt *s) {
    dts__machine *m = k->m;
    dt_value v = s->value ? dts__eval(k, s->value) : dts__i64(1), label = dts__null();
    int64_t iv = 0;
    double f = 0;
    dts__group *g;
    uint32_t b;
    if (s->label_value) label = dts__eval(k, s->label_value);
    if (s->kind == DTS__S_OBSERVE && !dts__num(v, &iv, &f)) { if (v.type != DT_TYPE_NULL) dt_exec_rule_error(k->x); return; }
    dt_block_lock(k->b);
    if (m->win_open && k->now >= m->win_start + m->every) dts__close_window(k->x, m);
    if (!m->win_open) { m->win_start = dts__floor(k->now, m->every); m->win_open = 1; }
    if ((g = dts__group_of(k, s, label)) != NULL) {
        if (!g->count || f < g->min) g->min = f;
        if (!g->count || f > g->max) g->max = f;
        g->count++;
        g->sum += f;
        for (b = 0; b < s->nbounds && f > s->bounds[b]; b++) {}
        g->buckets[b]++;                                              /* OTel: bucket i holds (bounds[i-1], bounds[i]] */
    }
    dt_block_unlock(k->b);
}

/* ---- run time: statements ----------------------------------------------- */

/* Copies a string value into the effect's bytes; 0 when they are full. */
static int dts__keep_value(dts__effects *fx, dt_value *v) {
    if (v->type != DT_TYPE_STR && v->type != DT_TYPE_BYTES) return 1;
    if (v->as.str.len > sizeof fx->bytes - fx->used) return 0;
    if (v->as.str.len) memcpy(fx->bytes + fx->used, v->as.str.ptr, v->as.str.len);
    v->as.str.ptr = fx->bytes + fx->used;
    fx->used += v->as.str.len;
    return 1;
}

/* An effect whose strings do not fit is refused whole, and gives its
 * bytes back for the effects after it; so is one whose arguments the
 * budget cut short (they would be null, not their values). */
static void dts__queue(dts__ctx *k, const dts__stmt *s) {
    dts__effects *fx = k->fx;
    dts__effect *ef;
    size_t used = fx->used;
    uint32_t i;
    if (fx->n == DTS__EFFECTS) { dt_exec_count_overflow(k->x); return; }
    ef = &fx->e[fx->n];
    ef->s = s;
    ef->n = s->nargs;
    for (i = 0; i < s->nargs; i++) {
        ef->v[i] = dts__eval(k, s->args[i]);
        if (!dts__keep_value(fx, &ef->v[i])) { fx->used = used; dt_exec_count_overflow(k->x); return; }
    }
    if (dt_exec_charge(k->x, 0)) { fx->used = used; return; }     /* 0 units: only "over budget?" */
    fx->n++;
}

/* once / every D / rearm: 1 when the action may fire now (and records it). */
static int dts__may_fire(dts__ctx *k, const dts__stmt *s) {
    int64_t *slot;
    if (!s->limit) return 1;
    slot = &dts__fires(k->m, k->in)[s->fire];
    if (s->limit == DTS__LIMIT_EVERY) {
        if (*slot && k->now < *slot) return 0;
        *slot = k->now > INT64_MAX - s->every ? INT64_MAX : k->now + s->every;
        return 1;
    }
    if (*slot) return 0;
    *slot = 1;
    return 1;
}

static void dts__annotate(dts__ctx *k, const dts__stmt *s) {
    uint32_t i;
    for (i = 0; i < s->nargs; i++) {
        dt_value v = dts__eval(k, s->args[i]);
        if (v.type == DT_TYPE_STR || v.type == DT_TYPE_BYTES) {     /* a variable's bytes change later: copy */
            char *p = (char *)dt_exec_scratch(k->x, v.as.str.len ? v.as.str.len : 1);
            if (!p) { dt_exec_count_overflow(k->x); continue; }
            if (v.as.str.len) memcpy(p, v.as.str.ptr, v.as.str.len);
            v.as.str.ptr = p;
        }
        dt_exec_set_field(k->x, s->arg_names[i], v);
    }
}

static void dts__run(dts__ctx *k, const dts__body *body) {
    uint32_t i;
    for (i = 0; i < body->n; i++) {
        const dts__stmt *s = &body->s[i];
        if (dt_exec_charge(k->x, 1)) return;
        switch (s->kind) {
        case DTS__S_SET: dts__var_set(k, s->var, dts__eval(k, s->value)); break;
        case DTS__S_EMIT: dts__queue(k, s); break;
        case DTS__S_OBSERVE: case DTS__S_COUNT: dts__metric_add(k, s); break;
        case DTS__S_ANNOTATE: if (k->has_event) dts__annotate(k, s); break;
        case DTS__S_DROP: if (k->has_event) dt_exec_drop(k->x); break;
        default: if (dts__may_fire(k, s)) dts__queue(k, s); break;
        }
    }
}

/* Runs what waited for the lock to be released, in statement order. */
static void dts__flush_effects(dt_exec *x, dts__effects *fx) {
    uint32_t i, j;
    for (i = 0; i < fx->n; i++) {
        const dts__effect *ef = &fx->e[i];
        if (ef->s->kind == DTS__S_EMIT) {
            dt_field fields[DTS__ARGS];
            dt_event ev;
            memset(&ev, 0, sizeof ev);
            for (j = 0; j < ef->n; j++) { fields[j].name = ef->s->arg_names[j]; fields[j].value = ef->v[j]; }
            ev.name = ef->s->name;
            ev.level = ef->s->level;
            ev.ts = fx->now;
            ev.tid = fx->tid;
            ev.fields = fields;
            ev.nfields = ef->n;
            dt_exec_emit(x, &ev);
        } else {
            dt_exec_action(x, ef->s->action, ef->v, ef->n);
        }
    }
    fx->n = 0;
    fx->used = 0;
}

/* ---- run time: transitions ---------------------------------------------- */

static void dts__set_timer(dts__ctx *k) {
    dts__inst *in = k->in;
    int32_t t = k->m->timeout[in->state];
    if (!k->blank) dts__heap_del(k->m, k->s, in);
    else in->heap = DTS__NIL;
    if (t < 0) return;
    in->deadline = k->now > INT64_MAX - k->m->trans[t].after ? INT64_MAX : k->now + k->m->trans[t].after;
    if (k->blank) in->heap = 0;                                      /* marked: pushed when adopted */
    else dts__heap_push(k->m, k->s, (uint32_t)(((char *)in - k->s->pool) / (ptrdiff_t)k->m->inst_size));
}

/* Exit the old state, the transition's statements, enter the new one. A
 * self-transition stays: no exit or entry, elapsed() and the timeout go on. */
static void dts__take(dts__ctx *k, const dts__trans *t) {
    dts__inst *in = k->in;
    int moves = t->to != in->state;
    if (moves) dts__run(k, &k->m->exit[in->state]);
    dts__run(k, &t->body);
    if (!moves) return;
    in->state = t->to;
    in->entered = k->now;
    dts__set_timer(k);
    dts__run(k, &k->m->entry[t->to]);
}

/* A disarmed `rearm when` action re-arms on an event that meets its
 * condition (checked before the trigger's own condition). */
static void dts__rearm(dts__ctx *k, const dts__body *body) {
    uint32_t i;
    for (i = 0; i < body->n; i++) {
        const dts__stmt *s = &body->s[i];
        int64_t *slot;
        if (s->limit != DTS__LIMIT_REARM) continue;
        slot = &dts__fires(k->m, k->in)[s->fire];
        if (*slot && dts__truthy(dts__eval(k, s->rearm))) *slot = 0;
    }
}

/* The first transition in program order that matches wins; 1 if one did. */
static int dts__step(dts__ctx *k, uint32_t mask) {
    uint32_t i;
    for (i = 0; i < k->m->ntrans; i++) {
        const dts__trans *t = &k->m->trans[i];
        if (t->after || !(t->pats & mask) || (t->from >= 0 && (uint32_t)t->from != k->in->state)) continue;
        if (k->m->trigger) dts__rearm(k, &t->body);
        if (t->where && !dts__truthy(dts__eval(k, t->where))) continue;
        dts__take(k, t);
        return 1;
    }
    return 0;
}

/* ---- run time: keys ------------------------------------------------------ */

static int dts__key_part(char *key, uint32_t *len, const dt_value *v) {
    size_t n;
    const char *p;
    uint64_t u;
    switch (v->type) {
    case DT_TYPE_STR: case DT_TYPE_BYTES: p = v->as.str.ptr; n = v->as.str.len; break;
    case DT_TYPE_I64: case DT_TYPE_U64: u = v->as.u64; p = (const char *)&u; n = sizeof u; break;
    case DT_TYPE_BOOL: p = v->as.b ? "1" : "0"; n = 1; break;
    default: return 0;                                              /* null and f64 are no keys */
    }
    if (n + 2u > (size_t)DT_MAX_KEY - *len) return 0;
    key[(*len)++] = (char)v->type;
    key[(*len)++] = (char)n;
    if (n) memcpy(key + *len, p, n);
    *len += (uint32_t)n;
    return 1;
}

/* The instance key of the event: its tid, or its key fields (type, length
 * and bytes of each). 0 when a field is missing or unusable. */
static int dts__key(const dts__machine *m, dt_exec *x, char *key, uint32_t *len) {
    uint32_t i;
    *len = 0;
    if (m->by_tid) {
        uint64_t tid = dt_exec_event(x)->tid;
        memcpy(key, &tid, sizeof tid);
        *len = sizeof tid;
        return 1;
    }
    for (i = 0; i < m->nkeys; i++) {
        const dt_value *v = dt_exec_field(x, m->keys[i]);
        if (!v || !dts__key_part(key, len, v)) return 0;
    }
    return 1;
}

/* ---- run time: the processor callbacks ------------------------------------ */

static void dts__ctx_init(dts__ctx *k, dt_block *b, dt_exec *x, dts__stripe *s, dts__effects *fx, int64_t now) {
    memset(k, 0, sizeof *k);
    k->x = x;
    k->b = b;
    k->m = (dts__machine *)dt_block_state(b);
    k->s = s;
    k->now = now;
    k->fx = fx;
    fx->n = 0;
    fx->used = 0;
    fx->now = now;
    fx->tid = 0;
}

/* Fires the earliest timeout of stripe i if it is due at now, with its
 * deadline as its time; its effects leave outside the lock. 1 if it fired. */
static int dts__fire_one(dt_block *b, dt_exec *x, uint32_t i, int64_t now) {
    dts__machine *m = (dts__machine *)dt_block_state(b);
    dts__stripe *s = &m->stripes[i];
    dts__effects fx;
    dts__ctx k;
    uint32_t idx;
    dt_shard_lock(m->shards, i);
    if (!s->nheap || dts__deadline(m, s, 0) > now) { dt_shard_unlock(m->shards, i); return 0; }
    dt_exec_new_unit(x);                         /* each timeout its own budget: many due at once are not one event */
    idx = s->heap[0];
    dts__ctx_init(&k, b, x, s, &fx, dts__at(m, s, idx)->deadline);
    k.in = dts__at(m, s, idx);
    dts__heap_del(m, s, k.in);
    dts__take(&k, &m->trans[m->timeout[k.in->state]]);
    if (!dts__keep(m, k.in, k.now, m->windows)) dts__free(m, s, idx);
    dt_shard_unlock(m->shards, i);
    if (fx.n) dts__flush_effects(x, &fx);
    return 1;
}

/* The stripe whose next timeout is earliest and due at now, or DTS__NIL;
 * *until: when another stripe's first timeout is due (the best stripe may
 * fire everything before it without looking again). */
static uint32_t dts__earliest(dts__machine *m, int64_t now, int64_t *until) {
    uint32_t i, best = DTS__NIL;
    int64_t when = now;
    *until = now;
    for (i = 0; i < m->nstripes; i++) {
        dts__stripe *s = &m->stripes[i];
        int64_t d = 0;
        uint32_t timers;
        dt_shard_lock(m->shards, i);
        if ((timers = s->nheap) != 0) d = dts__deadline(m, s, 0);
        dt_shard_unlock(m->shards, i);
        if (!timers || d > now) continue;                           /* none due (a tick at INT64_MAX too) */
        if (best == DTS__NIL || d < when) { if (best != DTS__NIL) *until = when; when = d; best = i; }
        else if (d < *until) *until = d;
    }
    return best;
}

/* Due timeouts of every stripe, in deadline order across stripes. */
static void dts__fire_all(dt_block *b, dt_exec *x, int64_t now) {
    dts__machine *m = (dts__machine *)dt_block_state(b);
    uint32_t n = 0, i;
    int64_t until;
    while (n < DT_STATEFUL_TIMER_FIRES * m->nstripes && (i = dts__earliest(m, now, &until)) != DTS__NIL)
        for (; n < DT_STATEFUL_TIMER_FIRES * m->nstripes && dts__fire_one(b, x, i, until); n++) {}
}

static void dts__count_unkeyed(dts__machine *m) {
    dt_shard_lock(m->shards, 0);
    m->stripes[0].unkeyed++;
    dt_shard_unlock(m->shards, 0);
}

/* The event, on the instance of its key. */
static void dts__handle(dt_block *b, dt_exec *x, uint32_t mask, const char *key, uint32_t len, uint64_t h) {
    dts__machine *m = (dts__machine *)dt_block_state(b);
    uint32_t i = m->nstripes > 1 ? (uint32_t)(h % m->nstripes) : 0, idx;
    dts__stripe *s = &m->stripes[i];
    dts__effects fx;
    dts__ctx k;
    for (idx = 0; s->nheap && idx < DT_STATEFUL_TIMER_FIRES && dts__fire_one(b, x, i, dt_exec_now(x)); idx++) {}
    if (idx) dt_exec_new_unit(x);                /* the event's own budget, after the timeouts it let fire */
    dts__ctx_init(&k, b, x, s, &fx, dt_exec_now(x));
    k.has_event = 1;
    fx.tid = dt_exec_event(x)->tid;
    dt_shard_lock(m->shards, i);
    idx = dts__find(m, s, h, key, len);
    if (idx == DTS__NIL) {
        if (!(mask & m->initial_pats)) { dt_shard_unlock(m->shards, i); return; }
        k.blank = 1;
        k.in = dts__blank(m, s, h, key, len, k.now);
        dts__step(&k, mask);
        if (dts__keep(m, k.in, k.now, m->windows)) dts__adopt(m, s, k.in, x);
    } else {
        k.in = dts__at(m, s, idx);
        if (s->head != idx) { dts__lru_unlink(m, s, k.in); dts__lru_front(m, s, idx); }
        dts__step(&k, mask);
        if (!dts__keep(m, k.in, k.now, m->windows)) dts__free(m, s, idx);
    }
    dt_shard_unlock(m->shards, i);
    if (fx.n) dts__flush_effects(x, &fx);
}

static void dts__on_event(dt_block *b, dt_exec *x, int tag) {
    dts__machine *m = (dts__machine *)dt_block_state(b);
    const dt_event *ev = dt_exec_event(x);
    char key[DT_MAX_KEY];
    uint32_t i, len, mask = 0;
    if (m->all_exact) {
        mask = 1u << tag;            /* distinct exact names: only this one matches */
    } else {
        /* An event that matches several of the machine's patterns arrives
         * once per pattern: only the first handles it. */
        for (i = 0; i < (uint32_t)tag; i++) if (dts__pattern_matches(&m->pats[i], ev->id, ev->name)) return;
        for (i = (uint32_t)tag; i < m->npats; i++) if (dts__pattern_matches(&m->pats[i], ev->id, ev->name)) mask |= 1u << i;
    }
    if (!dts__key(m, x, key, &len)) { dts__count_unkeyed(m); return; }
    dts__handle(b, x, mask, key, len, m->by_tid ? dts__mix(ev->tid) : len ? dts__hash(key, len) : 0);
}

static void dts__stats_point(dt_exec *x, const dts__machine *m, const char *name, dt_metric_kind kind, uint64_t v) {
    dt_metric mt;
    dt_field label;
    memset(&mt, 0, sizeof mt);
    label.name = dt_cstr("machine");
    label.value.type = DT_TYPE_STR;
    label.value.as.str = m->name;
    mt.name = dt_cstr(name);
    mt.kind = kind;
    mt.temporality = DT_DELTA;
    mt.start_ns = mt.end_ns = dt_exec_now(x);
    mt.labels = &label;
    mt.nlabels = 1;
    mt.value = (double)v;
    mt.is_int = 1;
    dt_exec_metric(x, &mt);
}

/* When a machine evicted, refused or skipped anything since its last
 * report, it says so with three points (see docs/language.md). */
static void dts__report_stats(dt_exec *x, dts__machine *m) {
    uint64_t evicted = 0, unkeyed = 0, refused = 0, live = 0;
    uint32_t i;
    for (i = 0; i < m->nstripes; i++) {
        dts__stripe *s = &m->stripes[i];
        dt_shard_lock(m->shards, i);
        evicted += s->evicted;
        unkeyed += s->unkeyed;
        refused += s->refused + s->dropped_on_carry;
        live += s->live;
        s->evicted = s->unkeyed = s->refused = s->dropped_on_carry = 0;
        dt_shard_unlock(m->shards, i);
    }
    refused += m->metric_overflow;
    m->metric_overflow = 0;
    if (!evicted && !unkeyed && !refused) return;
    dts__stats_point(x, m, "dt.machine.instances", DT_METRIC_GAUGE, live);
    dts__stats_point(x, m, "dt.machine.evicted", DT_METRIC_COUNTER, evicted);
    dts__stats_point(x, m, "dt.machine.unkeyed", DT_METRIC_COUNTER, unkeyed);
    if (refused) dts__stats_point(x, m, "dt.machine.refused", DT_METRIC_COUNTER, refused);
}

static void dts__tick(dt_block *b, dt_exec *x, int64_t now) {
    dts__machine *m = (dts__machine *)dt_block_state(b);
    dts__fire_all(b, x, now);
    if (!m->nmetrics) return;
    dt_block_lock(b);
    if (m->win_open && now >= m->win_start + m->every) dts__close_window(x, m);
    dt_block_unlock(b);
}

static void dts__flush(dt_block *b, dt_exec *x) {
    dts__machine *m = (dts__machine *)dt_block_state(b);
    dt_block_lock(b);
    if (m->win_open) dts__close_window(x, m);
    dts__report_stats(x, m);
    dt_block_unlock(b);
}

/* The same machine in the new program takes the instances over, oldest
 * first (so the LRU order survives). A key the new block already has keeps
 * the new instance: it has seen the newer events. */
static void dts__carry(dt_block *to, dt_block *from, dt_exec *x) {
    dts__machine *nm = (dts__machine *)dt_block_state(to), *om = (dts__machine *)dt_block_state(from);
    uint32_t i;
    /* The core carries only to a block of the same kind, name and tokens:
     * the same layout (inst_size, states, timeouts), so instances copy as
     * they are. Triggers have no carry. */
    for (i = 0; i < om->nstripes; i++) {
        dts__stripe *os = &om->stripes[i];
        dt_shard_lock(om->shards, i);
        while (os->tail != DTS__NIL) {
            uint32_t idx = os->tail;
            dts__inst *in = dts__at(om, os, idx);
            uint32_t j = nm->nstripes > 1 ? (uint32_t)(in->hash % nm->nstripes) : 0;
            dts__stripe *ns = &nm->stripes[j];
            dt_shard_lock(nm->shards, j);
            if (dts__find(nm, ns, in->hash, in->key, in->keylen) != DTS__NIL) ns->dropped_on_carry++;
            else dts__adopt(nm, ns, in, x);
            dt_shard_unlock(nm->shards, j);
            dts__free(om, os, idx);
        }
        dt_shard_unlock(om->shards, i);
    }
    dts__flush(from, x);                                             /* its metric window and counters */
}

static const dt_processor dts__machine_processor = {
    "machine", DT_RISK_MEDIUM, dts__compile, dts__on_event, dts__tick, dts__flush, NULL, NULL, dts__carry
};

static const dt_processor dts__trigger_processor = {
    "on", DT_RISK_MEDIUM, dts__trigger_compile, dts__on_event, dts__tick, dts__flush, NULL, NULL, NULL
};

DT_API const dt_processor *dt_stateful_processor(void) { return &dts__machine_processor; }
DT_API const dt_processor *dt_stateful_trigger_processor(void) { return &dts__trigger_processor; }

#if defined(__GNUC__) || defined(__clang__)
#pragma GCC diagnostic pop
#endif

#endif /* DT_STATEFUL_IMPLEMENTATION */

/*
MIT License — see the end of dt.h for the full text; the same terms apply.
*/
