/* dt_logcb.h — feed dt from a logger's per-record hook.           v0.1.0
 *
 * Many C loggers let the host add a callback that sees every record. Hook
 * dt there and the code base keeps its logger and its calls; dt gets the
 * records as events. Two shapes are common:
 *
 * 1. The hook sees the format and the arguments (rxi's log.c:
 *    log_add_callback(fn, udata, level), fn(log_Event *ev) with ev->fmt,
 *    ev->ap, ev->file, ev->level). Each record becomes an event the way
 *    DT_LOGF makes one: name "Logf_<hash of the format>", arguments as
 *    typed fields (dt_logf.h says how):
 *
 *        static void to_dt(log_Event *ev) {
 *            dt_logcb_format((dt_engine *)ev->udata, dt_logcb_level_logc(ev->level),
 *                            ev->file, ev->fmt, ev->ap);
 *        }
 *        log_add_callback(to_dt, engine, LOG_TRACE);
 *
 * 2. The hook sees only the formatted text (zlog's zlog_set_record(name,
 *    fn), fn(zlog_msg_t *msg) with msg->buf, msg->len, msg->path). The
 *    record becomes an event with the name the host chooses (the durable
 *    ID is dt_id(name)) and one field, message:
 *
 *        static dt_engine *engine;
 *        static int to_dt(zlog_msg_t *msg) {
 *            dt_logcb_text(engine, DT_INFO, "ZlogRecord", msg->buf, msg->len);
 *            return 0;
 *        }
 *        zlog_set_record("dt", to_dt);     // rule: my_cat.* $dt
 *
 *    zlog does not hand the level to the record hook: give one zlog rule
 *    per level its own record name and level if the program needs levels.
 *
 * A hook has no call site of ours, so dt cannot switch it off before the
 * logger formats or calls it, and the format is parsed on every record
 * (linear in its length, no allocation). For hot paths, DT_LOGF is the
 * cheaper road; the hook is the no-edit road.
 *
 * Needs dt_logf.h's implementation in one file (DT_LOGF_IMPLEMENTATION).
 * Every function here is thread-safe when the engine is (it is).
 *
 * LICENSE: MIT, as dt.h. */
#ifndef DT_LOGCB_H
#define DT_LOGCB_H

#include "dt_logf.h"

/* log.c's levels TRACE 0 .. FATAL 5 as dt levels; info outside the range. */
static inline int dt_logcb_level_logc(int level) {
    static const int levels[6] = { DT_TRACE, DT_DEBUG, DT_INFO, DT_WARN, DT_ERROR, DT_FATAL };
    return level >= 0 && level < 6 ? levels[level] : DT_INFO;
}

/* zlog's levels (DEBUG 20, INFO 40, NOTICE 60, WARN 80, ERROR 100,
 * FATAL 120) as dt levels; in-between values round down, notice is info2. */
static inline int dt_logcb_level_zlog(int level) {
    static const int levels[6] = { DT_DEBUG, DT_INFO, DT_INFO + 1, DT_WARN, DT_ERROR, DT_FATAL };
    int step = level / 20 - 1;
    if (step < 0) return DT_DEBUG;
    return levels[step > 5 ? 5 : step];
}

/* A record with its format and arguments (shape 1); file may be NULL.
 * ap is copied, not consumed. */
static inline void dt_logcb_format(dt_engine *e, int level, const char *file, const char *fmt, va_list ap) {
    dt_logf_emitv(e, level, file, fmt, ap);
}

/* A record as text (shape 2): event `name` with field message. */
static inline void dt_logcb_text(dt_engine *e, int level, const char *name, const char *text, size_t len) {
    dt_field f = dt_field_strn("message", text, len);
    dt_event ev;
    if (!e) return;
    memset(&ev, 0, sizeof ev);
    ev.name = dt_cstr(name);
    ev.level = level;
    ev.fields = &f;
    ev.nfields = 1;
    dt_emit(e, &ev);
}

#endif /* DT_LOGCB_H */
