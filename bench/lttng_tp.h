/* lttng_tp.h — the LTTng-UST tracepoint that bench/cases_lttng.h measures
 * beside dt's call sites: one event with one u64 field, like the dt cases. */
#undef LTTNG_UST_TRACEPOINT_PROVIDER
#define LTTNG_UST_TRACEPOINT_PROVIDER dtbench

#undef LTTNG_UST_TRACEPOINT_INCLUDE
#define LTTNG_UST_TRACEPOINT_INCLUDE "lttng_tp.h"

#if !defined(BENCH_LTTNG_TP_H) || defined(LTTNG_UST_TRACEPOINT_HEADER_MULTI_READ)
#define BENCH_LTTNG_TP_H

#include <lttng/tracepoint.h>

LTTNG_UST_TRACEPOINT_EVENT(
    dtbench, event,
    LTTNG_UST_TP_ARGS(uint64_t, i),
    LTTNG_UST_TP_FIELDS(lttng_ust_field_integer(uint64_t, i, i))
)

#endif

#include <lttng/tracepoint-event.h>
