/* fw_processors.h — the processor kinds built into the firmware: those
 * whose headers sit next to dt.h, as in the dt tool, so the firmware and
 * `dt replay` run the same engine. FW_CORE_ONLY=1 leaves them out.
 * Include after dt.h; dt_impl.c defines the implementations. */
#ifndef FW_PROCESSORS_H
#define FW_PROCESSORS_H

#if defined(__has_include) && !defined(FW_CORE_ONLY)
#if __has_include("dt_query.h")
#ifdef DT_IMPLEMENTATION
#define DT_QUERY_IMPLEMENTATION
#endif
#include "dt_query.h"
#define FW_HAVE_QUERY 1
#endif
#if __has_include("dt_stateful.h")
#ifdef DT_IMPLEMENTATION
#define DT_STATEFUL_IMPLEMENTATION
#endif
#include "dt_stateful.h"
#define FW_HAVE_STATEFUL 1
#endif
#endif
#ifndef FW_HAVE_QUERY
#define FW_HAVE_QUERY 0
#endif
#ifndef FW_HAVE_STATEFUL
#define FW_HAVE_STATEFUL 0
#endif

#endif
