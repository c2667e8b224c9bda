/* dt_cli.c — the `dt` command: check, replay and decode dt programs.
 *
 *     cc -std=c99 -O2 -o dt examples/dt_cli.c
 *
 *     dt check PROGRAM [--catalog FILE] [--max-risk low|medium|high]
 *     dt replay PROGRAM EVENTS.jsonl [--catalog FILE] [--max-risk R]
 *                                    [--dump-dir DIR] [--self]
 *     dt decode DUMP
 *
 * Replay is how a program is tried before it is deployed, and how the
 * scenario tests run: a recorded JSON-Lines event stream goes through the
 * engine on virtual time, and everything the sinks and actions receive is
 * printed as JSON Lines, so the same input always gives the same output.
 * docs/cli.md has the formats.
 *
 * The query and state-machine processors are compiled in when their headers
 * (dt_query.h, dt_stateful.h) sit next to dt.h; the engine knows no
 * processor by name, so the tool plugs in whichever exist.
 *
 * Only libc. Exit status: 0 ok, 1 the input or program failed, 2 usage.
 */
#define DT_IMPLEMENTATION
#define DT_QUERY_IMPLEMENTATION
#define DT_STATEFUL_IMPLEMENTATION
#include "../dt.h"

#if defined(__has_include)
#if __has_include("../dt_query.h")
#include "../dt_query.h"
#define DTCLI_HAVE_QUERY 1
#endif
#if __has_include("../dt_stateful.h")
#include "../dt_stateful.h"
#define DTCLI_HAVE_STATEFUL 1
#endif
#endif
#ifndef DTCLI_HAVE_QUERY
#define DTCLI_HAVE_QUERY 0
#endif
#ifndef DTCLI_HAVE_STATEFUL
#define DTCLI_HAVE_STATEFUL 0
#endif

#include "dt_jsonl.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Size caps: input files are untrusted, and a typo in a path must not make
 * the tool read a disk image into memory. */
#define CLI_MAX_PROGRAM ((size_t)1 << 20)
#define CLI_MAX_CATALOG ((size_t)16 << 20)
#define CLI_MAX_DUMP ((size_t)64 << 20)
#define CLI_MAX_LINE ((size_t)16 << 20)

/* >>options ---------------------------------------------------------------*/

static const char cli_usage_text[] =
    "usage: dt <command> [arguments] [options]\n"
    "\n"
    "commands:\n"
    "  check PROGRAM            compile PROGRAM without running it; print its hash,\n"
    "                           risk class and bounds, or the first error\n"
    "  replay PROGRAM EVENTS    run a JSON-Lines event stream (a file, or - for\n"
    "                           stdin) through PROGRAM on virtual time; print what\n"
    "                           the sinks and actions receive as JSON Lines\n"
    "  decode DUMP              print a flight-recorder dump as JSON Lines\n"
    "  help                     print this text\n"
    "\n"
    "options:\n"
    "  --catalog FILE           (check, replay) register the events of an event\n"
    "                           catalog; the program may then name only those\n"
    "  --max-risk RISK          (check, replay) the highest risk class the host\n"
    "                           allows: low, medium or high (default: medium)\n"
    "  --dump-dir DIR           (replay) also write each recorder dump to\n"
    "                           DIR/<recorder>[-<key>]-<n>.dtdump\n"
    "  --self                   (replay) report self-telemetry as \"self\" lines\n"
    "\n"
    "exit status: 0 ok, 1 the program or input failed, 2 usage error\n"
    "formats: docs/cli.md\n";

static void cli_usage(FILE *fp) { fputs(cli_usage_text, fp); }

typedef struct cli_opts {
    const char *args[2];     /* positional arguments */
    int nargs;
    const char *catalog;
    const char *dump_dir;
    int max_risk;            /* dt_risk */
    int self;
} cli_opts;

enum { CLI_OPT_CATALOG = 1, CLI_OPT_RISK = 2, CLI_OPT_DUMP_DIR = 4, CLI_OPT_SELF = 8 };

static int cli_parse_risk(const char *s) {
    if (strcmp(s, "low") == 0) return DT_RISK_LOW;
    if (strcmp(s, "medium") == 0) return DT_RISK_MEDIUM;
    if (strcmp(s, "high") == 0) return DT_RISK_HIGH;
    return -1;
}

/* Risk classes as check prints them. A program that uses nothing risky
 * (risk 0) is reported as low: nothing is lower. */
static const char *cli_risk_name(int risk) {
    if (risk >= DT_RISK_HIGH) return "high";
    if (risk == DT_RISK_MEDIUM) return "medium";
    return "low";
}

/* Matches --name VALUE and --name=VALUE; *value is NULL for a flag. */
static int cli_opt_is(const char *arg, const char *name, int takes_value, int *argi, int argc,
                      char **argv, const char **value) {
    size_t n = strlen(name);
    if (strncmp(arg, name, n) != 0) return 0;
    if (arg[n] == '=' && takes_value) {
        *value = arg + n + 1;
        return 1;
    }
    if (arg[n] != '\0') return 0;
    *value = NULL;
    if (takes_value) {
        if (*argi + 1 >= argc) return -1;
        *value = argv[++*argi];
    }
    return 1;
}

/* Parses argv[first..] for command cmd: exactly nargs positional arguments
 * and the options in `allowed`. Returns 0, 1 for --help, or -1 after
 * printing what is wrong. */
static int cli_parse(int argc, char **argv, int first, const char *cmd, int allowed, int nargs,
                     cli_opts *o) {
    static const struct { const char *name; int bit, takes_value; } table[] = {
        {"--catalog", CLI_OPT_CATALOG, 1},
        {"--max-risk", CLI_OPT_RISK, 1},
        {"--dump-dir", CLI_OPT_DUMP_DIR, 1},
        {"--self", CLI_OPT_SELF, 0},
    };
    int i, k, m, only_args = 0;
    const char *value;
    memset(o, 0, sizeof *o);
    o->max_risk = DT_RISK_MEDIUM;
    for (i = first; i < argc; i++) {
        const char *a = argv[i];
        if (only_args || a[0] != '-' || strcmp(a, "-") == 0) {
            if (o->nargs >= nargs) {
                fprintf(stderr, "dt %s: unexpected argument '%s'\n", cmd, a);
                return -1;
            }
            o->args[o->nargs++] = a;
            continue;
        }
        if (strcmp(a, "--") == 0) {
            only_args = 1;
            continue;
        }
        if (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0) return 1;
        for (k = 0, m = 0; k < (int)(sizeof table / sizeof table[0]) && m == 0; k++)
            if ((table[k].bit & allowed) != 0)
                m = cli_opt_is(a, table[k].name, table[k].takes_value, &i, argc, argv, &value);
        if (m == 0) {
            fprintf(stderr, "dt %s: unknown option '%s'\n", cmd, a);
            return -1;
        }
        if (m < 0) {
            fprintf(stderr, "dt %s: option '%s' needs a value\n", cmd, a);
            return -1;
        }
        switch (table[k - 1].bit) {
        case CLI_OPT_CATALOG: o->catalog = value; break;
        case CLI_OPT_DUMP_DIR: o->dump_dir = value; break;
        case CLI_OPT_SELF: o->self = 1; break;
        default:
            o->max_risk = cli_parse_risk(value);
            if (o->max_risk < 0) {
                fprintf(stderr, "dt %s: --max-risk must be low, medium or high, not '%s'\n", cmd, value);
                return -1;
            }
        }
    }
    if (o->nargs < nargs) {
        fprintf(stderr, "dt %s: missing %s\n", cmd,
                o->nargs == 0 ? (strcmp(cmd, "decode") == 0 ? "DUMP" : "PROGRAM") : "EVENTS");
        return -1;
    }
    return 0;
}

/* >>files -----------------------------------------------------------------*/

/* Reads all of path ("-": stdin), at most max bytes, into a malloc'd buffer
 * with a NUL after the last byte. Returns 0, or -1 after saying why. */
static int cli_read_file(const char *path, size_t max, const char *what, char **out, size_t *out_len) {
    int use_stdin = strcmp(path, "-") == 0;
    FILE *fp = use_stdin ? stdin : fopen(path, "rb");
    char *buf = NULL, *grown;
    size_t len = 0, cap = 0, got;
    if (!fp) {
        fprintf(stderr, "dt: %s: %s\n", path, strerror(errno));
        return -1;
    }
    for (;;) {
        if (cap - len < 2) {
            if (cap > max) {
                fprintf(stderr, "dt: %s: %s larger than %lu bytes\n", path, what, (unsigned long)max);
                goto fail;
            }
            cap = cap ? cap * 2 : 65536;
            grown = (char *)realloc(buf, cap + 1);
            if (!grown) {
                fprintf(stderr, "dt: %s: out of memory\n", path);
                goto fail;
            }
            buf = grown;
        }
        got = fread(buf + len, 1, cap - len, fp);
        len += got;
        if (got == 0) break;
    }
    if (ferror(fp)) {
        fprintf(stderr, "dt: %s: %s\n", path, strerror(errno));
        goto fail;
    }
    if (len > max) {
        fprintf(stderr, "dt: %s: %s larger than %lu bytes\n", path, what, (unsigned long)max);
        goto fail;
    }
    if (!use_stdin) fclose(fp);
    buf[len] = '\0';
    *out = buf;
    *out_len = len;
    return 0;
fail:
    if (!use_stdin) fclose(fp);
    free(buf);
    return -1;
}

/* Lines of a stream with no length limit but CLI_MAX_LINE: a longer line is
 * reported (too_long) and skipped, and reading goes on after it. */
typedef struct cli_lines {
    FILE *fp;
    char *buf;
    size_t cap, len;
    char block[65536];
    size_t pos, end;
    int eof;
} cli_lines;

static int cli_lines_append(cli_lines *r, const char *p, size_t n) {
    char *grown;
    size_t cap = r->cap ? r->cap : 4096;
    while (cap - r->len < n + 1) cap *= 2;
    if (cap != r->cap) {
        grown = (char *)realloc(r->buf, cap);
        if (!grown) return -1;
        r->buf = grown;
        r->cap = cap;
    }
    memcpy(r->buf + r->len, p, n);
    r->len += n;
    return 0;
}

/* 1 with a line in r->buf[0..r->len), 0 at the end, -1 on a read error or
 * out of memory. */
static int cli_lines_next(cli_lines *r, int *too_long) {
    int got = 0;
    r->len = 0;
    *too_long = 0;
    for (;;) {
        const char *start, *nl;
        size_t take;
        if (r->pos == r->end) {
            if (r->eof) break;
            r->end = fread(r->block, 1, sizeof r->block, r->fp);
            r->pos = 0;
            if (r->end == 0) {
                r->eof = 1;
                if (ferror(r->fp)) return -1;
                break;
            }
        }
        got = 1;
        start = r->block + r->pos;
        nl = (const char *)memchr(start, '\n', r->end - r->pos);
        take = nl ? (size_t)(nl - start) : r->end - r->pos;
        if (!*too_long && r->len + take > CLI_MAX_LINE) *too_long = 1;
        if (!*too_long && cli_lines_append(r, start, take)) return -1;
        r->pos += take + (nl ? 1 : 0);
        if (nl) break;
    }
    if (r->buf == NULL && cli_lines_append(r, "", 0)) return -1;
    return got;
}

/* Line and column (1-based) of byte offset `at` (0-based) in text. */
static void cli_line_col(const char *text, size_t len, size_t at, int *line, int *col) {
    size_t i, start = 0;
    *line = 1;
    if (at > len) at = len;
    for (i = 0; i < at; i++)
        if (text[i] == '\n') (*line)++, start = i + 1;
    *col = (int)(at - start) + 1;
}

/* >>diagnostics -----------------------------------------------------------*/

/* "PATH:LINE:COL: error: MESSAGE", the hint, then the source line and a
 * caret under the column. The caret line copies the line's tabs and skips
 * UTF-8 continuation bytes, so that it lines up in a terminal. */
static void cli_print_error(FILE *fp, const char *path, const char *text, size_t len, const dt_error *err,
                            int rc) {
    const char *msg = err->message[0] ? err->message : dt_result_str(rc);
    const char *line = text, *end;
    int k;
    size_t i;
    if (err->line <= 0) {
        fprintf(fp, "%s: error: %s\n", path, msg);
        if (err->hint[0]) fprintf(fp, "  hint: %s\n", err->hint);
        return;
    }
    fprintf(fp, "%s:%d:%d: error: %s\n", path, err->line, err->column, msg);
    if (err->hint[0]) fprintf(fp, "  hint: %s\n", err->hint);
    for (k = 1; k < err->line && line < text + len; k++) {
        const char *nl = (const char *)memchr(line, '\n', (size_t)(text + len - line));
        line = nl ? nl + 1 : text + len;
    }
    end = (const char *)memchr(line, '\n', (size_t)(text + len - line));
    if (!end) end = text + len;
    if (end > line && end[-1] == '\r') end--;
    fprintf(fp, "    %.*s\n    ", (int)(end - line), line);
    for (i = 0; err->column > 1 && i < (size_t)(err->column - 1) && line + i < end; i++) {
        unsigned char c = (unsigned char)line[i];
        if ((c & 0xC0) != 0x80) fputc(c == '\t' ? '\t' : ' ', fp);
    }
    fputs("^\n", fp);
}

/* >>engine ----------------------------------------------------------------*/

/* Per-name counters for --dump-dir file names. */
typedef struct cli_dump_name {
    struct cli_dump_name *next;
    unsigned long count;
    char base[1];            /* allocated longer */
} cli_dump_name;

typedef struct cli {
    const cli_opts *opts;
    dtj_writer out;          /* stdout */
    int64_t now;             /* virtual time: the latest event timestamp */
    int failed;              /* an error line, a bad dump or a failed write */
    int quiet;               /* the tool reports this call's error itself */
    cli_dump_name *names;
} cli;

static int64_t cli_clock(void *user_data) { return ((const cli *)user_data)->now; }

/* Engine warnings and errors go to stderr, except while a deploy or check
 * runs: its error comes back in the dt_error and is printed with context. */
static void cli_log(int severity, const char *message, void *user_data) {
    if (severity >= DT_LOG_WARN && !((const cli *)user_data)->quiet)
        fprintf(stderr, "dt: engine %s: %s\n", severity >= DT_LOG_ERROR ? "error" : "warning", message);
}

static void cli_endl(cli *c) { dtj_write(&c->out, "\n", 1); }

static void cli_sink_event(const dt_event *ev, void *user_data) {
    cli *c = (cli *)user_data;
    dtj_write_event(&c->out, ev, 1);
    cli_endl(c);
}

/* Integer counts print as integers; anything else (or a count beyond int64)
 * as a double. */
static void cli_write_number(const dtj_writer *w, double v, int is_int) {
    if (is_int && v >= -9223372036854775808.0 && v < 9223372036854775808.0 && (double)(int64_t)v == v)
        dtj_write_i64(w, (int64_t)v);
    else
        dtj_write_f64(w, v);
}

static void cli_write_histogram(const dtj_writer *w, const dt_metric *m) {
    uint32_t k;
    dtj_write_raw(w, ",\"count\":");
    dtj_write_u64(w, m->count);
    dtj_write_raw(w, ",\"sum\":");
    dtj_write_f64(w, m->sum);
    dtj_write_raw(w, ",\"min\":");
    dtj_write_f64(w, m->min);
    dtj_write_raw(w, ",\"max\":");
    dtj_write_f64(w, m->max);
    dtj_write_raw(w, ",\"bounds\":[");
    for (k = 0; m->bounds && k + 1 < m->nbuckets; k++) {
        if (k > 0) dtj_write(w, ",", 1);
        dtj_write_f64(w, m->bounds[k]);
    }
    dtj_write_raw(w, "],\"buckets\":[");
    for (k = 0; m->bucket_counts && k < m->nbuckets; k++) {
        if (k > 0) dtj_write(w, ",", 1);
        dtj_write_u64(w, m->bucket_counts[k]);
    }
    dtj_write(w, "]", 1);
}

static void cli_write_metric(cli *c, const dt_metric *m, const char *type) {
    static const char *const kinds[4] = {"unknown", "counter", "gauge", "histogram"};
    const dtj_writer *w = &c->out;
    int kind = m->kind >= DT_METRIC_COUNTER && m->kind <= DT_METRIC_HISTOGRAM ? (int)m->kind : 0;
    dtj_write_raw(w, "{\"type\":");
    dtj_write_string(w, type, strlen(type));
    dtj_write_raw(w, ",\"name\":");
    dtj_write_string(w, m->name.ptr, m->name.len);
    dtj_write_raw(w, ",\"kind\":\"");
    dtj_write_raw(w, kinds[kind]);
    dtj_write_raw(w, m->temporality == DT_CUMULATIVE ? "\",\"temporality\":\"cumulative\""
                                                     : "\",\"temporality\":\"delta\"");
    dtj_write_raw(w, ",\"start\":");
    dtj_write_i64(w, m->start_ns);
    dtj_write_raw(w, ",\"end\":");
    dtj_write_i64(w, m->end_ns);
    dtj_write_raw(w, ",\"labels\":");
    dtj_write_fields(w, m->labels, m->labels ? m->nlabels : 0);
    if (m->kind == DT_METRIC_HISTOGRAM) {
        cli_write_histogram(w, m);
    } else {
        dtj_write_raw(w, ",\"value\":");
        cli_write_number(w, m->value, m->is_int);
    }
    dtj_write(w, "}", 1);
    cli_endl(c);
}

static void cli_sink_metric(const dt_metric *m, void *user_data) {
    cli_write_metric((cli *)user_data, m, "metric");
}

static void cli_sink_self(const dt_metric *m, void *user_data) {
    cli_write_metric((cli *)user_data, m, "self");
}

static void cli_sink_action(const dt_action_call *call, void *user_data) {
    cli *c = (cli *)user_data;
    const dtj_writer *w = &c->out;
    const char *name = call->action ? call->action : "";
    uint32_t k;
    dtj_write_raw(w, "{\"type\":\"action\",\"action\":");
    dtj_write_string(w, name, strlen(name));
    dtj_write_raw(w, ",\"ts\":");
    dtj_write_i64(w, call->ts);
    dtj_write_raw(w, ",\"args\":[");
    for (k = 0; call->args && k < call->nargs; k++) {
        if (k > 0) dtj_write(w, ",", 1);
        dtj_write_value(w, &call->args[k]);
    }
    dtj_write_raw(w, "],\"trigger\":");
    if (call->trigger) dtj_write_string(w, call->trigger->name.ptr, call->trigger->name.len);
    else dtj_write_raw(w, "null");
    dtj_write_raw(w, call->deferred ? ",\"deferred\":true" : ",\"deferred\":false");
    dtj_write_raw(w, call->suppressed ? ",\"suppressed\":true}" : ",\"suppressed\":false}");
    cli_endl(c);
}

/* >>dumps -----------------------------------------------------------------*/

typedef struct cli_decode {
    cli *c;
    uint32_t flags;
    uint32_t records;
    int with_type;           /* dt decode: one "event" line per record */
} cli_decode;

static void cli_dump_header_seen(const dt_dump_header *h, void *user_data) {
    ((cli_decode *)user_data)->flags = h->flags;
}

static void cli_dump_record_seen(const dt_event *ev, void *user_data) {
    (void)ev;
    ((cli_decode *)user_data)->records++;
}

static void cli_dump_record_write(const dt_event *ev, void *user_data) {
    cli_decode *d = (cli_decode *)user_data;
    if (!d->with_type && d->records++ > 0) dtj_write(&d->c->out, ",", 1);
    dtj_write_event(&d->c->out, ev, d->with_type);
    if (d->with_type) cli_endl(d->c);
}

/* [A-Za-z0-9_.-] kept, anything else '_', at most 100 bytes: safe in a file
 * name on every system. */
static size_t cli_sanitize(char *out, dt_str s) {
    size_t i, n = s.len < 100 ? s.len : 100;
    for (i = 0; i < n; i++) {
        char ch = s.ptr[i];
        int ok = (ch >= 'A' && ch <= 'Z') || (ch >= 'a' && ch <= 'z') || (ch >= '0' && ch <= '9') ||
                 ch == '_' || ch == '.' || ch == '-';
        out[i] = ok ? ch : '_';
    }
    return n;
}

/* The next number for a file base name, counting from 1 per name. */
static unsigned long cli_dump_number(cli *c, const char *base) {
    cli_dump_name *n;
    for (n = c->names; n; n = n->next)
        if (strcmp(n->base, base) == 0) return ++n->count;
    n = (cli_dump_name *)malloc(sizeof *n + strlen(base));
    if (!n) return 0;
    strcpy(n->base, base);
    n->count = 1;
    n->next = c->names;
    c->names = n;
    return 1;
}

/* Writes DIR/<recorder>[-<key>]-<n>.dtdump. */
static void cli_dump_file(cli *c, const dt_dump *d, const uint8_t *bytes, size_t len) {
    char base[210], *path;
    size_t n = cli_sanitize(base, d->recorder);
    unsigned long number;
    FILE *fp;
    int ok;
    if (n == 0) base[n++] = '_';
    if (d->key.len > 0) {
        base[n++] = '-';
        n += cli_sanitize(base + n, d->key);
    }
    base[n] = '\0';
    number = cli_dump_number(c, base);
    path = (char *)malloc(strlen(c->opts->dump_dir) + n + 40);
    if (!path || number == 0) {
        fprintf(stderr, "dt: out of memory writing a dump file\n");
        c->failed = 1;
        free(path);
        return;
    }
    sprintf(path, "%s/%s-%lu.dtdump", c->opts->dump_dir, base, number);
    fp = fopen(path, "wb");
    ok = fp != NULL;
    if (fp) {
        ok = fwrite(bytes, 1, len, fp) == len;
        if (fclose(fp) != 0) ok = 0;
    }
    if (!ok) {
        fprintf(stderr, "dt: %s: %s\n", path, strerror(errno));
        c->failed = 1;
    }
    free(path);
}

/* The chunks of a dump joined into one malloc'd buffer. */
static uint8_t *cli_join_chunks(const dt_dump *d, size_t *len) {
    size_t total = 0, at = 0;
    uint32_t k;
    uint8_t *bytes;
    for (k = 0; k < d->nchunks; k++) {
        if (d->chunks[k].len > SIZE_MAX - total) return NULL;
        total += d->chunks[k].len;
    }
    bytes = (uint8_t *)malloc(total ? total : 1);
    if (!bytes) return NULL;
    for (k = 0; k < d->nchunks; k++) {
        if (d->chunks[k].len) memcpy(bytes + at, d->chunks[k].ptr, d->chunks[k].len);
        at += d->chunks[k].len;
    }
    *len = total;
    return bytes;
}

/* The dump header's keys, shared by replay's dump lines and dt decode:
 * {"type":"dump","recorder":..,"key":..,"ts":..,"records":..,"overwritten":..,"torn":..
 * (the caller closes the object). */
static void cli_write_dump_header(const dtj_writer *w, dt_str recorder, dt_str key, int64_t ts, uint32_t records,
                                  uint64_t overwritten, uint32_t flags) {
    dtj_write_raw(w, "{\"type\":\"dump\",\"recorder\":");
    dtj_write_string(w, recorder.ptr, recorder.len);
    dtj_write_raw(w, ",\"key\":");
    dtj_write_string(w, key.ptr, key.len);
    dtj_write_raw(w, ",\"ts\":");
    dtj_write_i64(w, ts);
    dtj_write_raw(w, ",\"records\":");
    dtj_write_u64(w, records);
    dtj_write_raw(w, ",\"overwritten\":");
    dtj_write_u64(w, overwritten);
    dtj_write_raw(w, (flags & DT_DUMP_TORN) ? ",\"torn\":true" : ",\"torn\":false");
}

static void cli_write_error_offset(cli *c, size_t offset, const char *message) {
    dtj_write_raw(&c->out, "{\"type\":\"error\",\"offset\":");
    dtj_write_u64(&c->out, offset);
    dtj_write_raw(&c->out, ",\"message\":");
    dtj_write_string(&c->out, message, strlen(message));
    dtj_write(&c->out, "}", 1);
    cli_endl(c);
}

/* A dump becomes one "dump" line with its events inside. It is decoded
 * twice: first to check it (nothing half-printed if it is malformed), then
 * to print. */
static void cli_sink_dump(const dt_dump *d, void *user_data) {
    cli *c = (cli *)user_data;
    const dtj_writer *w = &c->out;
    cli_decode dec;
    size_t len = 0, bad = 0;
    uint8_t *bytes = cli_join_chunks(d, &len);
    memset(&dec, 0, sizeof dec);
    dec.c = c;
    if (!bytes) {
        cli_write_error_offset(c, 0, "out of memory joining a dump");
        c->failed = 1;
        return;
    }
    if (c->opts->dump_dir) cli_dump_file(c, d, bytes, len);
    if (dt_dump_decode(bytes, len, cli_dump_header_seen, cli_dump_record_seen, &dec, &bad) != DT_OK) {
        cli_write_error_offset(c, bad, "malformed dump from the engine");
        c->failed = 1;
        free(bytes);
        return;
    }
    cli_write_dump_header(w, d->recorder, d->key, d->ts, d->records, d->overwritten, dec.flags);
    dtj_write_raw(w, ",\"events\":[");
    dec.records = 0;
    dt_dump_decode(bytes, len, cli_dump_header_seen, cli_dump_record_write, &dec, &bad);
    dtj_write_raw(w, "]}");
    cli_endl(c);
    free(bytes);
}

/* >>setup -----------------------------------------------------------------*/

static const dt_processor *const *cli_processors(uint32_t *n) {
    static const dt_processor *list[3];
    uint32_t k = 0;
#if DTCLI_HAVE_QUERY
    list[k++] = dt_query_processor();
#endif
#if DTCLI_HAVE_STATEFUL
    list[k++] = dt_stateful_processor();
    list[k++] = dt_stateful_trigger_processor();
#endif
    *n = k;
    return list;
}

/* An engine on the virtual clock; sinks print to stdout when with_sinks. */
static dt_engine *cli_engine(cli *c, int with_sinks) {
    dt_desc d;
    dt_engine *e;
    memset(&d, 0, sizeof d);
    d.max_risk = (dt_risk)c->opts->max_risk;
    d.strict_events = c->opts->catalog != NULL;
    d.self_interval_ns = c->opts->self ? 0 : -1;
    d.clock.now = cli_clock;
    d.clock.user_data = c;
    d.logger.log = cli_log;
    d.logger.user_data = c;
    d.processors = cli_processors(&d.nprocessors);
    if (with_sinks) {
        d.sinks.event = cli_sink_event;
        d.sinks.metric = cli_sink_metric;
        d.sinks.dump = cli_sink_dump;
        d.sinks.self = cli_sink_self;
        d.sinks.action = cli_sink_action;
        d.sinks.user_data = c;
    }
    e = dt_create(&d);
    if (!e) fprintf(stderr, "dt: could not create the engine\n");
    return e;
}

/* >>catalog ---------------------------------------------------------------
 * {"dt_catalog":1,"events":[{"name":"LogLaunch","id":"0x...","fields":[
 *   {"name":"version","type":"str"}],"sites":[{"file":"a.c","line":3,
 *   "level":"info"}]}]}
 * Every event is registered with its fields and its first site. */

typedef struct cli_catalog {
    const char *path;
    const char *text;
    size_t len;
} cli_catalog;

#if defined(__GNUC__) || defined(__clang__)
#define CLI_PRINTF(fmt, args) __attribute__((format(printf, fmt, args)))
#else
#define CLI_PRINTF(fmt, args)
#endif

/* "PATH:LINE:COL: error: ..." at the value the error is about. */
static CLI_PRINTF(3, 4) int cli_catalog_error(const cli_catalog *cat, const dtj_value *at, const char *fmt, ...) {
    va_list ap;
    int line, col;
    cli_line_col(cat->text, cat->len, at ? at->column - 1 : 0, &line, &col);
    fprintf(stderr, "%s:%d:%d: error: ", cat->path, line, col);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
    return -1;
}

/* dt_register_event's refusals in a catalog's words. */
static const char *cli_register_reason(int rc) {
    switch (rc) {
    case DT_ERR_COLLISION: return "another event name has the same durable id";
    case DT_ERR_EXISTS: return "listed twice with different fields";
    case DT_ERR_LIMIT: return "the event registry is full";
    case DT_ERR_INVALID: return "invalid name or fields (1..128-byte names, at most 64 fields)";
    default: return dt_result_str(rc);
    }
}

static int cli_type_parse(const char *s) {
    static const char *const names[] = {"null", "bool", "i64", "u64", "f64", "str", "bytes", "string"};
    static const int types[] = {DT_TYPE_NULL, DT_TYPE_BOOL, DT_TYPE_I64, DT_TYPE_U64,
                                DT_TYPE_F64, DT_TYPE_STR, DT_TYPE_BYTES, DT_TYPE_STR};
    size_t k;
    for (k = 0; k < sizeof types / sizeof types[0]; k++)
        if (strcmp(s, names[k]) == 0) return types[k];
    return -1;
}

/* A catalog name: a string without NULs, 1..DT_MAX_NAME bytes. */
static const char *cli_catalog_name(const cli_catalog *cat, const dtj_value *owner, const dtj_value *v,
                                    const char *what) {
    const char *s = dtj_string(v);
    if (!s || v->as.str.len == 0 || v->as.str.len > DT_MAX_NAME || strlen(s) != v->as.str.len) {
        cli_catalog_error(cat, v ? v : owner, "%s must be a string of 1..128 bytes without NULs", what);
        return NULL;
    }
    return s;
}

/* "0x" and 1..16 hex digits, compared with the durable id of the name. */
static int cli_catalog_id(const cli_catalog *cat, const dtj_value *v, const char *name) {
    const char *s = dtj_string(v);
    uint64_t id = 0;
    size_t k, n;
    if (!v) return 0;
    n = s ? strlen(s) : 0;
    if (!s || n < 3 || n > 18 || s[0] != '0' || (s[1] != 'x' && s[1] != 'X'))
        return cli_catalog_error(cat, v, "event \"%s\": \"id\" must be a string \"0x\" and up to 16 hex digits",
                                 name);
    for (k = 2; k < n; k++) {
        int ch = s[k], d = ch >= '0' && ch <= '9' ? ch - '0'
                         : ch >= 'a' && ch <= 'f' ? ch - 'a' + 10
                         : ch >= 'A' && ch <= 'F' ? ch - 'A' + 10 : -1;
        if (d < 0) return cli_catalog_error(cat, v, "event \"%s\": \"id\" has a character that is not hex", name);
        id = id << 4 | (uint64_t)d;
    }
    if (id != dt_id(name))
        return cli_catalog_error(cat, v, "event \"%s\": \"id\" is not the durable id of its name", name);
    return 0;
}

static int cli_catalog_fields(const cli_catalog *cat, const dtj_value *list, const char *name,
                              dt_schema_field *out) {
    uint32_t k;
    for (k = 0; k < dtj_len(list); k++) {
        const dtj_value *f = dtj_at(list, k), *type = dtj_get(f, "type");
        const char *fname = cli_catalog_name(cat, f, dtj_get(f, "name"), "a field's \"name\"");
        int t = dtj_string(type) ? cli_type_parse(dtj_string(type)) : -1;
        if (!fname) return -1;
        if (t < 0)
            return cli_catalog_error(cat, type ? type : f,
                                     "event \"%s\": a field's \"type\" must be one of null, bool, i64, "
                                     "u64, f64, str, bytes", name);
        out[k].name = fname;
        out[k].type = (dt_type)t;
    }
    return 0;
}

/* "fields" absent or null: the event has no schema (dt_catalog_write
 * writes null for those); an array, even empty, is its schema. */
static int cli_catalog_event(dt_engine *e, const cli_catalog *cat, const dtj_value *ev) {
    const dtj_value *fields = dtj_get(ev, "fields"), *site = dtj_at(dtj_get(ev, "sites"), 0);
    const dtj_value *line_v = site ? dtj_get(site, "line") : NULL;
    const char *name = cli_catalog_name(cat, ev, dtj_get(ev, "name"), "an event's \"name\"");
    const char *file = site ? dtj_string(dtj_get(site, "file")) : NULL;
    int has_schema = fields && fields->kind != DTJ_NULL;
    int64_t line = 0;
    dt_schema_field *schema;
    int rc;
    if (!name || cli_catalog_id(cat, dtj_get(ev, "id"), name)) return -1;
    if (has_schema && fields->kind != DTJ_ARRAY)
        return cli_catalog_error(cat, fields, "event \"%s\": \"fields\" must be an array or null", name);
    if (line_v && (!dtj_int(line_v, &line) || line < 0 || line > INT32_MAX))
        return cli_catalog_error(cat, line_v, "event \"%s\": a site's \"line\" must be a line number", name);
    schema = (dt_schema_field *)calloc(dtj_len(fields) + 1, sizeof *schema);
    if (!schema) return cli_catalog_error(cat, ev, "event \"%s\": out of memory", name);
    rc = cli_catalog_fields(cat, fields, name, schema);
    if (rc == 0) {
        rc = dt_register_event(e, name, has_schema ? schema : NULL, dtj_len(fields), file, (int)line);
        if (rc != DT_OK) {
            rc = cli_catalog_error(cat, ev, "event \"%s\": %s", name, cli_register_reason(rc));
        }
    }
    free(schema);
    return rc;
}

/* Parses text into a DOM, starting with a modest arena and growing it only
 * for documents that need it. Returns the malloc'd arena (free it after use)
 * and the root in *root, or NULL after printing the error. */
static void *cli_parse_json(const cli_catalog *cat, dtj_value **root) {
    size_t bound = dtj_parse_arena_size(cat->len), size = cat->len < bound / 8 ? cat->len * 8 + 4096 : bound;
    dtj_error err;
    dtj_arena a;
    void *buf;
    int line, col;
    for (;;) {
        buf = malloc(size);
        if (!buf) break;
        dtj_arena_init(&a, buf, size);
        *root = dtj_parse(cat->text, cat->len, &a, &err);
        if (*root) return buf;
        free(buf);
        if (strncmp(err.reason, "out of memory", 13) != 0 || size >= bound) break;
        size = size > bound / 4 ? bound : size * 4;
    }
    if (!buf) {
        fprintf(stderr, "dt: %s: out of memory\n", cat->path);
        return NULL;
    }
    cli_line_col(cat->text, cat->len, err.column - 1, &line, &col);
    fprintf(stderr, "%s:%d:%d: error: %s\n", cat->path, line, col, err.reason);
    return NULL;
}

static int cli_load_catalog(dt_engine *e, const char *path) {
    cli_catalog cat;
    char *text;
    dtj_value *root = NULL;
    const dtj_value *events, *version;
    void *arena;
    int64_t v = 0;
    uint32_t k;
    int rc = 0;
    if (cli_read_file(path, CLI_MAX_CATALOG, "catalog", &text, &cat.len)) return -1;
    cat.path = path;
    cat.text = text;
    arena = cli_parse_json(&cat, &root);
    if (!arena) {
        free(text);
        return -1;
    }
    version = dtj_get(root, "dt_catalog");
    events = dtj_get(root, "events");
    if (!version || !dtj_int(version, &v) || v != 1)
        rc = cli_catalog_error(&cat, version ? version : root, "%s",
                               version ? "unsupported catalog version (this dt reads \"dt_catalog\":1)"
                                       : "not a dt catalog: expected {\"dt_catalog\":1,\"events\":[...]}");
    else if (!events || events->kind != DTJ_ARRAY)
        rc = cli_catalog_error(&cat, events ? events : root, "%s", "\"events\" must be an array");
    for (k = 0; rc == 0 && k < dtj_len(events); k++) {
        const dtj_value *ev = dtj_at(events, k);
        if (ev->kind != DTJ_OBJECT) rc = cli_catalog_error(&cat, ev, "%s", "an event must be an object");
        else rc = cli_catalog_event(e, &cat, ev);
    }
    free(arena);
    free(text);
    return rc;
}

/* >>commands --------------------------------------------------------------*/

/* What check and replay share: the program text, and an engine that knows
 * the catalog's events. NULL after saying why (text is then freed). */
static dt_engine *cli_open(cli *c, int replay, char **text, size_t *len) {
    const cli_opts *o = c->opts;
    dt_engine *e;
    if (cli_read_file(o->args[0], CLI_MAX_PROGRAM, "program", text, len)) return NULL;
    e = cli_engine(c, replay);
    if (e && (!o->catalog || !cli_load_catalog(e, o->catalog))) return e;
    if (e) dt_destroy(e);
    free(*text);
    *text = NULL;
    return NULL;
}

static int cmd_check(const cli_opts *o) {
    cli c;
    char *text;
    size_t len;
    dt_engine *e;
    dt_error err;
    dt_program_info info;
    int rc;
    memset(&c, 0, sizeof c);
    c.opts = o;
    if (!(e = cli_open(&c, 0, &text, &len))) return 1;
    memset(&err, 0, sizeof err);
    memset(&info, 0, sizeof info);
    c.quiet = 1;
    rc = dt_check(e, text, len, &err, &info);
    c.quiet = 0;
    if (rc != DT_OK) {
        cli_print_error(stdout, o->args[0], text, len, &err, rc);
    } else {
        printf("%s: ok\n", o->args[0]);
        printf("  hash       0x%016llx\n", (unsigned long long)info.hash);
        printf("  risk       %s (host allows %s)\n", cli_risk_name(info.risk), cli_risk_name(o->max_risk));
        printf("  blocks     %lu\n", (unsigned long)info.blocks);
        printf("  recorders  %lu (%llu bytes of rings)\n", (unsigned long)info.recorders,
               (unsigned long long)info.recorder_bytes);
        printf("  memory     %llu bytes\n", (unsigned long long)info.memory);
    }
    dt_destroy(e);
    free(text);
    return rc == DT_OK ? 0 : 1;
}

static void cli_error_line(cli *c, unsigned long lineno, size_t column, const char *reason) {
    char msg[300];
    if (column > 0) snprintf(msg, sizeof msg, "column %lu: %s", (unsigned long)column, reason);
    else snprintf(msg, sizeof msg, "%s", reason);
    dtj_write_raw(&c->out, "{\"type\":\"error\",\"line\":");
    dtj_write_u64(&c->out, lineno);
    dtj_write_raw(&c->out, ",\"message\":");
    dtj_write_string(&c->out, msg, strlen(msg));
    dtj_write(&c->out, "}", 1);
    cli_endl(c);
    c->failed = 1;
}

/* A reusable arena, grown to fit the longest line so far. */
typedef struct cli_scratch {
    void *buf;
    size_t size;
} cli_scratch;

static int cli_scratch_fit(cli_scratch *s, size_t size) {
    void *grown;
    if (size <= s->size) return 0;
    grown = realloc(s->buf, size);
    if (!grown) return -1;
    s->buf = grown;
    s->size = size;
    return 0;
}

/* One input line: an event goes through tick (when its time is later than
 * any before), emit and poll. */
static void cli_replay_line(cli *c, dt_engine *e, cli_scratch *s, const char *line, size_t len,
                            unsigned long lineno) {
    dt_field fields[DT_MAX_FIELDS];
    dt_event ev;
    dtj_error err;
    dtj_arena a;
    int r;
    if (lineno == 1 && len >= 3 && memcmp(line, "\xEF\xBB\xBF", 3) == 0) line += 3, len -= 3;
    if (cli_scratch_fit(s, dtj_event_arena_size(len))) {
        cli_error_line(c, lineno, 0, "out of memory");
        return;
    }
    dtj_arena_init(&a, s->buf, s->size);
    r = dtj_read_event(line, len, &a, &ev, fields, DT_MAX_FIELDS, &err);
    if (r == DTJ_SKIP) return;
    if (r == DTJ_ERROR) {
        cli_error_line(c, lineno, err.column, err.reason);
        return;
    }
    if (ev.ts > c->now) {
        c->now = ev.ts;
        dt_tick(e, c->now);
    } else if (ev.ts == 0) {
        ev.ts = c->now;
    }
    dt_emit(e, &ev);
    dt_poll(e);
}

static int cli_replay_stream(cli *c, dt_engine *e, const char *path) {
    cli_lines r;
    cli_scratch s;
    unsigned long lineno = 0;
    int got, too_long, rc = 0;
    memset(&r, 0, sizeof r);
    memset(&s, 0, sizeof s);
    r.fp = strcmp(path, "-") == 0 ? stdin : fopen(path, "rb");
    if (!r.fp) {
        fprintf(stderr, "dt: %s: %s\n", path, strerror(errno));
        return -1;
    }
    while ((got = cli_lines_next(&r, &too_long)) > 0) {
        lineno++;
        if (too_long) cli_error_line(c, lineno, 0, "line longer than 16 MiB, skipped");
        else cli_replay_line(c, e, &s, r.buf, r.len, lineno);
    }
    if (got < 0) {
        fprintf(stderr, "dt: %s: %s\n", path, ferror(r.fp) ? strerror(errno) : "out of memory");
        rc = -1;
    }
    if (r.fp != stdin) fclose(r.fp);
    free(r.buf);
    free(s.buf);
    return rc;
}

static int cmd_replay(const cli_opts *o) {
    cli c;
    char *text;
    size_t len;
    dt_engine *e;
    dt_error err;
    int rc, status = 1;
    memset(&c, 0, sizeof c);
    c.opts = o;
    c.out = dtj_file_writer(stdout);
    if (!(e = cli_open(&c, 1, &text, &len))) return 1;
    memset(&err, 0, sizeof err);
    c.quiet = 1;
    rc = dt_deploy(e, text, len, &err);
    c.quiet = 0;
    if (rc != DT_OK) {
        cli_print_error(stderr, o->args[0], text, len, &err, rc);
        goto done;
    }
    if (cli_replay_stream(&c, e, o->args[1]) == 0) {
        dt_flush(e);
        dt_poll(e);
        status = c.failed ? 1 : 0;
    }
done:
    dt_destroy(e);
    while (c.names) {
        cli_dump_name *next = c.names->next;
        free(c.names);
        c.names = next;
    }
    free(text);
    if (fflush(stdout) != 0 || ferror(stdout)) {
        fprintf(stderr, "dt: writing the output failed\n");
        status = 1;
    }
    return status;
}

static void cli_decode_header(const dt_dump_header *h, void *user_data) {
    cli_decode *d = (cli_decode *)user_data;
    const dtj_writer *w = &d->c->out;
    cli_write_dump_header(w, h->recorder, h->key, h->ts, h->records, h->overwritten, h->flags);
    dtj_write_raw(w, "}");
    cli_endl(d->c);
}

/* Prints as it decodes, so a damaged dump still shows every record before
 * the damage, then the error line. */
static int cmd_decode(const cli_opts *o) {
    cli c;
    cli_decode dec;
    char *bytes;
    size_t len, bad = 0;
    int rc;
    memset(&c, 0, sizeof c);
    memset(&dec, 0, sizeof dec);
    c.opts = o;
    c.out = dtj_file_writer(stdout);
    dec.c = &c;
    dec.with_type = 1;
    if (cli_read_file(o->args[0], CLI_MAX_DUMP, "dump", &bytes, &len)) return 1;
    rc = dt_dump_decode((const uint8_t *)bytes, len, cli_decode_header, cli_dump_record_write, &dec, &bad);
    if (rc != DT_OK) cli_write_error_offset(&c, bad, len == 0 ? "empty file, not a dump" : "malformed dump");
    free(bytes);
    if (fflush(stdout) != 0 || ferror(stdout)) {
        fprintf(stderr, "dt: writing the output failed\n");
        return 1;
    }
    return rc == DT_OK ? 0 : 1;
}

int main(int argc, char **argv) {
    cli_opts o;
    const char *cmd = argc > 1 ? argv[1] : NULL;
    int r;
    if (!cmd) {
        cli_usage(stderr);
        return 2;
    }
    if (strcmp(cmd, "help") == 0 || strcmp(cmd, "--help") == 0 || strcmp(cmd, "-h") == 0) {
        cli_usage(stdout);
        return 0;
    }
    if (strcmp(cmd, "check") == 0) r = cli_parse(argc, argv, 2, cmd, CLI_OPT_CATALOG | CLI_OPT_RISK, 1, &o);
    else if (strcmp(cmd, "replay") == 0)
        r = cli_parse(argc, argv, 2, cmd, CLI_OPT_CATALOG | CLI_OPT_RISK | CLI_OPT_DUMP_DIR | CLI_OPT_SELF, 2, &o);
    else if (strcmp(cmd, "decode") == 0) r = cli_parse(argc, argv, 2, cmd, 0, 1, &o);
    else {
        fprintf(stderr, "dt: unknown command '%s'\n\n", cmd);
        cli_usage(stderr);
        return 2;
    }
    if (r != 0) {
        cli_usage(r > 0 ? stdout : stderr);
        return r > 0 ? 0 : 2;
    }
    if (strcmp(cmd, "check") == 0) return cmd_check(&o);
    if (strcmp(cmd, "replay") == 0) return cmd_replay(&o);
    return cmd_decode(&o);
}
