/* dt_syslog.h — a syslog(3)-shaped shim over dt_logf.h.          v0.1.0
 *
 * Code that logs with syslog(priority, format, ...) keeps its calls; each
 * becomes a dt event the way DT_LOGF makes one (name and durable ID from
 * the format, arguments as typed fields: see dt_logf.h):
 *
 *     DT_SYSLOG(LOG_ERR, "open %s failed errno=%d", path, errno);
 *         -> event Logf_<hash>{arg0: str = path, errno: i64} at level error
 *
 * or, to change no line of the existing code, in the files that call
 * syslog, after their #include <syslog.h>:
 *
 *     #define DT_SYSLOG_REPLACE 1
 *     #include "dt_syslog.h"          // syslog(...) now means DT_SYSLOG(...)
 *
 * Needs dt_logf.h's implementation in one file (DT_LOGF_IMPLEMENTATION).
 *
 * PRIORITY -> LEVEL. The severity part (priority & 7) picks the level; the
 * facility bits are ignored (dt has no facilities: use the event name or a
 * program's patterns instead). The order is kept, and the levels are
 * OpenTelemetry SeverityNumbers:
 *
 *     LOG_EMERG 24 (fatal4)  LOG_ALERT 22 (fatal2)  LOG_CRIT 21 (fatal)
 *     LOG_ERR 17 (error)     LOG_WARNING 13 (warn)  LOG_NOTICE 10 (info2)
 *     LOG_INFO 9 (info)      LOG_DEBUG 5 (debug)
 *
 * A program's `level` rules therefore apply: `level Logf_* = warn` keeps
 * LOG_WARNING and above.
 *
 * CALL SITES. Each DT_SYSLOG holds one dt site per severity (registered on
 * first use), so a call with a constant priority is exactly a DT_LOGF site:
 * off costs a load and a branch and does not evaluate the arguments. The
 * format is parsed once per call site. syslog allows a format that is not a
 * literal; such a site keeps the name of the first format it saw and parses
 * a different one on each call (correct, slower: use "%s").
 *
 * LICENSE: MIT, as dt.h. */
#ifndef DT_SYSLOG_H
#define DT_SYSLOG_H

#include "dt_logf.h"

/* The POSIX severities, for hosts that do not include <syslog.h>. */
#ifndef LOG_EMERG
#define LOG_EMERG 0
#define LOG_ALERT 1
#define LOG_CRIT 2
#define LOG_ERR 3
#define LOG_WARNING 4
#define LOG_NOTICE 5
#define LOG_INFO 6
#define LOG_DEBUG 7
#endif
#ifndef DT_SYSLOG_REPLACE
#define DT_SYSLOG_REPLACE 0
#endif

/* The level of each severity, as constants (site records are static). */
#define DT__SYSLOG_L0 24
#define DT__SYSLOG_L1 22
#define DT__SYSLOG_L2 21
#define DT__SYSLOG_L3 DT_ERROR
#define DT__SYSLOG_L4 DT_WARN
#define DT__SYSLOG_L5 10
#define DT__SYSLOG_L6 DT_INFO
#define DT__SYSLOG_L7 DT_DEBUG

/* The dt level of a syslog priority. Pure. */
static inline int dt_syslog_level(int priority) {
    static const int levels[8] = { DT__SYSLOG_L0, DT__SYSLOG_L1, DT__SYSLOG_L2, DT__SYSLOG_L3,
                                   DT__SYSLOG_L4, DT__SYSLOG_L5, DT__SYSLOG_L6, DT__SYSLOG_L7 };
    return levels[priority & 7];
}

typedef struct dt_syslog_site {
    dt_site sites[8];        /* one per severity, sharing the cache's name */
    dt_logf_cache cache;
} dt_syslog_site;

#define DT__SYSLOG_SITE(n, self) DT_SITE_INIT(DT__SYSLOG_L##n, self.cache.name)
#define DT__SYSLOG_INIT(self)                                                                        \
    { { DT__SYSLOG_SITE(0, self), DT__SYSLOG_SITE(1, self), DT__SYSLOG_SITE(2, self),                \
        DT__SYSLOG_SITE(3, self), DT__SYSLOG_SITE(4, self), DT__SYSLOG_SITE(5, self),                \
        DT__SYSLOG_SITE(6, self), DT__SYSLOG_SITE(7, self) },                                        \
      DT_LOGF_CACHE_INIT(NULL) }

/* DT_SYSLOG(priority, "format", args...): priority is evaluated once, the
 * format once more on a site's first execution. */
#define DT_SYSLOG(priority, ...)                                                  \
    do {                                                                          \
        static dt_syslog_site dt__ss = DT__SYSLOG_INIT(dt__ss);                   \
        dt_site *dt__s = &dt__ss.sites[(priority) & 7];                           \
        if (DT_UNLIKELY(DT_SITE_MODE(dt__s) != DT_SITE_OFF) &&                    \
            dt_logf_ready(dt__s, &dt__ss.cache, DT_SITE_NAME(__VA_ARGS__)))           \
            dt_logf_site_emit(dt__s, &dt__ss.cache, __VA_ARGS__);                 \
    } while (0)

#if DT_SYSLOG_REPLACE
#undef syslog
#define syslog(...) DT_SYSLOG(__VA_ARGS__)
#endif

#endif /* DT_SYSLOG_H */
