/* dt_probe.h — probe helpers for developers: bug beacons, expectations,
 * A/B tags.                                                          v0.1.0
 *
 * BUG BEACONS are soft asserts. Where a developer would write assert() and
 * hope, a beacon never aborts: when the condition is false it emits an
 * event with a durable ID (its name) and the values involved, at error
 * level, and the program goes on:
 *
 *     DT_BEACON(len <= cap, "BeaconBufferOverrun", DT_U64("len", len), DT_U64("cap", cap));
 *         -> BeaconBufferOverrun{condition: "len <= cap", len, cap}
 *
 *   The condition is always evaluated (it is code the host runs anyway);
 *   the fields only when it fails and the site is on. Each beacon is a
 *   DT_EMIT site: it is in the event catalog before it ever fires, a
 *   program can count it (`summarize`), record it, or trigger a machine or
 *   an action on it, and `level Beacon* = off` silences them all.
 *
 * EXPECTATIONS are declared bounds whose violations are events:
 *
 *     static dt_queue_expect q = DT_QUEUE_EXPECT("jobs", 10000, 200000000);  // depth <= 10000, wait <= 200 ms
 *     dt_expect_depth(&q, depth);       // on enqueue
 *     dt_expect_wait(&q, waited_ns);    // on dequeue
 *
 *   ExpectDepthExceeded{queue, depth, bound} is emitted when the depth goes
 *   above the bound, and again only after it has come back to the bound or
 *   below (a depth is a level: one event per excursion, not one per item;
 *   ExpectDepthRecovered{queue, depth, bound} marks the way back).
 *   ExpectWaitExceeded{queue, wait_ns, bound} is emitted for every item
 *   that waited too long (a wait is an occurrence; throttle it in the
 *   program if needed). Events are at warn level. A machine can trigger on
 *   them (a memory dump at the first excursion, a recorder flush).
 *
 * A/B TAGS put the variant an event ran under into a field that queries
 * group by:
 *
 *     const char *v = dt_ab_pick("checkout_flow", user_id, 2) ? "new" : "old";
 *     DT_EMIT(DT_INFO, "LogCheckout", DT_AB("checkout_flow", v), DT_I64("ms", ms));
 *         -> LogCheckout{ab.checkout_flow: "new", ms: 182}
 *     query ab = LogCheckout | summarize p95(ms) by ab.checkout_flow every 1m
 *
 *   dt_ab_pick hashes (feature, unit id) to a variant, the same answer in
 *   every process and build (FNV-1a, as durable IDs), so one user stays in
 *   one variant across a fleet.
 *
 * Header only (static inline); include after dt.h's declarations. Thread-
 * safe: beacons and expectations may be hit from any thread.
 *
 * LICENSE: MIT, as dt.h. */
#ifndef DT_PROBE_H
#define DT_PROBE_H

#include "dt.h"

/* DT_BEACON(condition, "Name", fields...): the fields are written as for
 * DT_EMIT. The site is listed like a DT_EMIT site (DT_SITE_DEFINE). */
#define DT_BEACON(cond, ...)                                                                        \
    do {                                                                                            \
        if (DT_UNLIKELY(!(cond))) {                                                                 \
            DT_SITE_DEFINE(dt__site, DT_ERROR, DT_SITE_NAME(__VA_ARGS__))                           \
            if (DT_SITE_MODE(&dt__site) != DT_SITE_OFF && dt_site_ready(&dt__site)) {               \
                const dt_field dt__f[] = { dt_field_str("condition", #cond),                       \
                                           DT_SITE_FIELDS(__VA_ARGS__) };                           \
                dt_site_emit(&dt__site, dt__f, (uint32_t)(sizeof dt__f / sizeof dt__f[0]) - 1u);   \
            }                                                                                       \
        }                                                                                           \
    } while (0)

/* ---- expectations ------------------------------------------------------- */
typedef struct dt_queue_expect {
    const char *queue;           /* the queue's name: field `queue` */
    int64_t max_depth;           /* <= 0: no depth expectation */
    int64_t max_wait_ns;         /* <= 0: no wait expectation */
    volatile uint32_t over;      /* 1 while the depth is above its bound */
} dt_queue_expect;

#define DT_QUEUE_EXPECT(queue, max_depth, max_wait_ns) { (queue), (max_depth), (max_wait_ns), 0 }

/* Swaps the excursion flag; returns its old value. */
static inline uint32_t dt__probe_swap(volatile uint32_t *p, uint32_t v) {
#if DT_NO_THREADS || !(defined(__GNUC__) || defined(__clang__))
    uint32_t old = *p;
    *p = v;
    return old;
#else
    return __atomic_exchange_n(p, v, __ATOMIC_RELAXED);
#endif
}

/* Reports a queue depth; emits on entering or leaving an excursion.
 * Thread-safe: of several threads crossing together, one emits. */
static inline void dt_expect_depth(dt_queue_expect *q, int64_t depth) {
    if (q->max_depth <= 0) return;
    if (depth > q->max_depth) {
        if (!dt__probe_swap(&q->over, 1u))
            DT_EMIT(DT_WARN, "ExpectDepthExceeded", DT_STR("queue", q->queue), DT_I64("depth", depth),
                    DT_I64("bound", q->max_depth));
    } else if (q->over && dt__probe_swap(&q->over, 0u)) {
        DT_EMIT(DT_INFO, "ExpectDepthRecovered", DT_STR("queue", q->queue), DT_I64("depth", depth),
                DT_I64("bound", q->max_depth));
    }
}

/* Reports how long one item waited; emits if that was too long. */
static inline void dt_expect_wait(const dt_queue_expect *q, int64_t wait_ns) {
    if (q->max_wait_ns > 0 && wait_ns > q->max_wait_ns)
        DT_EMIT(DT_WARN, "ExpectWaitExceeded", DT_STR("queue", q->queue), DT_I64("wait_ns", wait_ns),
                DT_I64("bound", q->max_wait_ns));
}

/* ---- A/B tags ----------------------------------------------------------- */

/* The field `ab.FEATURE` = variant; feature must be a string literal. */
#define DT_AB(feature, variant) dt_field_str("ab." feature, (variant))

/* Variant 0..nvariants-1 for a unit (user, tenant, request) of a feature:
 * FNV-1a 64 over the feature name, a 0 byte and the unit id's 8 bytes
 * (little-endian), modulo nvariants. Pure. */
static inline uint32_t dt_ab_pick(const char *feature, uint64_t unit, uint32_t nvariants) {
    uint64_t h = 0xcbf29ce484222325ull;
    int i;
    if (!nvariants) return 0;
    for (; *feature; feature++) { h ^= (unsigned char)*feature; h *= 0x100000001b3ull; }
    h *= 0x100000001b3ull;                       /* the 0 byte: xor with 0, then multiply */
    for (i = 0; i < 8; i++) { h ^= (unit >> (8 * i)) & 0xffu; h *= 0x100000001b3ull; }
    return (uint32_t)(h % nvariants);
}

#endif /* DT_PROBE_H */
