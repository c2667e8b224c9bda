/* The `redact` detectors (dt_query.h, section detectors): the labelled corpus
 * tests/data/redact_corpus.txt (every secret found with its exact span, no
 * look-alike touched), detector selection and names, scan semantics, linear
 * work on hostile input (counted, not timed), and SipHash-2-4 against the
 * reference vectors. */
#include "greatest.h"
#define DTQ_DETECTORS
#include "dt_query.h"

#include <stdio.h>
#include <string.h>

/* ---- the corpus ----------------------------------------------------------- */

#define CORPUS_PATH "tests/data/redact_corpus.txt"
#define CORPUS_MAX_CASES 512
#define CORPUS_MAX_TEXT 1024
#define CORPUS_MAX_SPANS 8

typedef struct corpus_case {
    int line;
    char text[CORPUS_MAX_TEXT];
    size_t len;
    dtq__match want[CORPUS_MAX_SPANS];
    size_t nwant;
    unsigned detectors;   /* the detectors named on the line */
} corpus_case;

typedef struct corpus {
    corpus_case cases[CORPUS_MAX_CASES];
    size_t ncases, nsecret_lines, nlookalike_lines, nsecrets;
    char error[160];
} corpus;

static corpus the_corpus;
static int corpus_loaded;

static int corpus_fail(corpus *c, int line, const char *why) {
    snprintf(c->error, sizeof c->error, "%s:%d: %s", CORPUS_PATH, line, why);
    return -1;
}

/* Appends one byte of line text to the case, decoding \n \t \\. */
static int corpus_put(corpus_case *k, char ch) {
    if (k->len + 1 >= sizeof k->text) return -1;
    k->text[k->len++] = ch;
    return 0;
}

/* One corpus line into a case: marks {{detector|secret}} become expected
 * spans of the unmarked text. */
static int corpus_parse_line(corpus *c, corpus_case *k, const char *line, int lineno) {
    const char *p = line;
    size_t mark_start = 0;
    int in_mark = 0;
    memset(k, 0, sizeof *k);
    k->line = lineno;
    while (*p) {
        if (!in_mark && p[0] == '{' && p[1] == '{') {
            const char *bar = strchr(p + 2, '|');
            int det = bar ? dtq__detector_parse(p + 2, (size_t)(bar - (p + 2))) : 0;
            if (!det) return corpus_fail(c, lineno, "mark without a known detector");
            if (k->nwant == CORPUS_MAX_SPANS) return corpus_fail(c, lineno, "too many marks");
            k->want[k->nwant].detector = det;
            k->detectors |= (unsigned)det;
            mark_start = k->len;
            in_mark = 1;
            p = bar + 1;
        } else if (in_mark && p[0] == '}' && p[1] == '}') {
            k->want[k->nwant].start = mark_start;
            k->want[k->nwant].len = k->len - mark_start;
            k->nwant++;
            in_mark = 0;
            p += 2;
        } else if (p[0] == '\\' && (p[1] == 'n' || p[1] == 't' || p[1] == '\\')) {
            if (corpus_put(k, p[1] == 'n' ? '\n' : p[1] == 't' ? '\t' : '\\')) return corpus_fail(c, lineno, "line too long");
            p += 2;
        } else {
            if (corpus_put(k, *p)) return corpus_fail(c, lineno, "line too long");
            p++;
        }
    }
    if (in_mark) return corpus_fail(c, lineno, "unclosed mark");
    k->text[k->len] = 0;
    return 0;
}

static int corpus_load(corpus *c) {
    static char line[4 * CORPUS_MAX_TEXT];
    FILE *f = fopen(CORPUS_PATH, "r");
    int lineno = 0;
    if (!f) return corpus_fail(c, 0, "cannot open (run the tests from the repository root)");
    while (fgets(line, sizeof line, f)) {
        size_t n = strlen(line);
        corpus_case *k;
        lineno++;
        while (n && (line[n - 1] == '\n' || line[n - 1] == '\r')) line[--n] = 0;
        if (n == 0 || line[0] == '#') continue;
        if (c->ncases == CORPUS_MAX_CASES) {
            fclose(f);
            return corpus_fail(c, lineno, "too many cases");
        }
        k = &c->cases[c->ncases++];
        if (corpus_parse_line(c, k, line, lineno)) {
            fclose(f);
            return -1;
        }
        if (k->nwant) c->nsecret_lines++;
        else c->nlookalike_lines++;
        c->nsecrets += k->nwant;
    }
    fclose(f);
    return 0;
}

static corpus *corpus_get(void) {
    if (!corpus_loaded) {
        corpus_loaded = corpus_load(&the_corpus) == 0 ? 1 : -1;
    }
    return corpus_loaded == 1 ? &the_corpus : NULL;
}

/* ---- helpers -------------------------------------------------------------- */

/* Every match of s[0..n), in order, as dtq__find_secret hands them out. */
static size_t find_all(const char *s, size_t n, unsigned detectors, dtq__match *out, size_t max) {
    size_t from = 0, count = 0;
    dtq__match m;
    while (count < max && dtq__find_secret(s, n, from, detectors, &m)) {
        out[count++] = m;
        from = m.start + m.len;
    }
    return count;
}

/* Prints what was expected and what was found when they differ; 1 when equal. */
static int spans_equal(const corpus_case *k, const dtq__match *got, size_t ngot, const char *how) {
    size_t i;
    int same = ngot == k->nwant;
    for (i = 0; same && i < ngot; i++)
        same = got[i].start == k->want[i].start && got[i].len == k->want[i].len && got[i].detector == k->want[i].detector;
    if (same) return 1;
    fprintf(stderr, "\n%s:%d (%s): %s\n", CORPUS_PATH, k->line, how, k->text);
    for (i = 0; i < k->nwant; i++)
        fprintf(stderr, "  want %-6s [%zu,+%zu) %.*s\n", dtq__detector_name(k->want[i].detector), k->want[i].start,
                k->want[i].len, (int)k->want[i].len, k->text + k->want[i].start);
    for (i = 0; i < ngot; i++)
        fprintf(stderr, "  got  %-6s [%zu,+%zu) %.*s\n", dtq__detector_name(got[i].detector), got[i].start, got[i].len,
                (int)got[i].len, k->text + got[i].start);
    return 0;
}

/* ---- corpus tests --------------------------------------------------------- */

TEST corpus_has_100_secret_lines_and_100_look_alikes(void) {
    corpus *c = corpus_get();
    if (!c) FAILm(the_corpus.error);
    ASSERT(c->nsecret_lines >= 100);
    ASSERT(c->nlookalike_lines >= 100);
    ASSERT(c->ncases >= 200);
    PASS();
}

/* Which corpus cases a run looks at, and with which detectors. */
enum { CORPUS_SECRETS, CORPUS_SECRETS_OWN_DETECTORS, CORPUS_LOOK_ALIKES };

/* How many of the chosen cases do not give exactly their marked spans
 * (each one printed). */
static size_t corpus_mismatches(const corpus *c, int which) {
    dtq__match got[CORPUS_MAX_SPANS + 1];
    size_t i, wrong = 0;
    for (i = 0; i < c->ncases; i++) {
        const corpus_case *k = &c->cases[i];
        unsigned det = which == CORPUS_SECRETS_OWN_DETECTORS ? k->detectors : (unsigned)DTQ_DET_ALL;
        if ((k->nwant == 0) != (which == CORPUS_LOOK_ALIKES)) continue;
        if (!spans_equal(k, got, find_all(k->text, k->len, det, got, CORPUS_MAX_SPANS + 1), det == DTQ_DET_ALL ? "all" : "own"))
            wrong++;
    }
    return wrong;
}

TEST corpus_every_secret_found_with_its_exact_span(void) {
    if (!corpus_get()) FAILm(the_corpus.error);
    ASSERT_EQ((size_t)0, corpus_mismatches(&the_corpus, CORPUS_SECRETS));
    PASS();
}

TEST corpus_every_secret_found_by_its_own_detectors_alone(void) {
    if (!corpus_get()) FAILm(the_corpus.error);
    ASSERT_EQ((size_t)0, corpus_mismatches(&the_corpus, CORPUS_SECRETS_OWN_DETECTORS));
    PASS();
}

TEST corpus_no_look_alike_touched(void) {
    if (!corpus_get()) FAILm(the_corpus.error);
    ASSERT_EQ((size_t)0, corpus_mismatches(&the_corpus, CORPUS_LOOK_ALIKES));
    PASS();
}

/* The whole corpus as one string (cases joined by newlines) gives exactly
 * the concatenation of the expected spans: one scan, many matches. */
TEST corpus_as_one_text_gives_all_spans_in_order(void) {
    static char text[CORPUS_MAX_CASES * CORPUS_MAX_TEXT];
    static dtq__match want[CORPUS_MAX_CASES * CORPUS_MAX_SPANS], got[CORPUS_MAX_CASES * CORPUS_MAX_SPANS + 1];
    corpus *c = corpus_get();
    size_t i, j, len = 0, nwant = 0, ngot;
    if (!c) FAILm(the_corpus.error);
    for (i = 0; i < c->ncases; i++) {
        const corpus_case *k = &c->cases[i];
        for (j = 0; j < k->nwant; j++) {
            want[nwant] = k->want[j];
            want[nwant++].start += len;
        }
        memcpy(text + len, k->text, k->len);
        len += k->len;
        text[len++] = '\n';
    }
    ngot = find_all(text, len, DTQ_DET_ALL, got, sizeof got / sizeof got[0]);
    ASSERT_EQ(nwant, ngot);
    for (i = 0; i < ngot; i++) {
        ASSERT_EQ(want[i].start, got[i].start);
        ASSERT_EQ(want[i].len, got[i].len);
        ASSERT_EQ(want[i].detector, got[i].detector);
    }
    PASS();
}

/* ---- scan semantics --------------------------------------------------------- */

static const char mixed[] = "mail a@example.com ip 10.1.2.3 v6 2001:db8::1 Bearer tok3n12345 "
                            "jwt eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxIn0.c2ln key AKIAKFVN2ROHC7MULRVF "
                            "-----BEGIN EC PRIVATE KEY-----\nMHcC\n-----END EC PRIVATE KEY----- card 4111111111111111";

/* Each detector alone finds its own secret and nothing else. */
TEST each_detector_alone_finds_only_its_secret(void) {
    static const struct {
        unsigned det;
        const char *secret;
    } want[] = {
        {DTQ_DET_EMAIL, "a@example.com"},
        {DTQ_DET_IPV4, "10.1.2.3"},
        {DTQ_DET_IPV6, "2001:db8::1"},
        {DTQ_DET_BEARER, "tok3n12345"},
        {DTQ_DET_JWT, "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxIn0.c2ln"},
        {DTQ_DET_APIKEY, "AKIAKFVN2ROHC7MULRVF"},
        {DTQ_DET_PEM, "-----BEGIN EC PRIVATE KEY-----\nMHcC\n-----END EC PRIVATE KEY-----"},
        {DTQ_DET_CARD, "4111111111111111"},
    };
    dtq__match got[16];
    size_t i;
    for (i = 0; i < sizeof want / sizeof want[0]; i++) {
        ASSERT_EQ((size_t)1, find_all(mixed, sizeof mixed - 1, want[i].det, got, 16));
        ASSERT_EQ((int)want[i].det, got[0].detector);
        ASSERT_EQ((size_t)(strstr(mixed, want[i].secret) - mixed), got[0].start);
        ASSERT_EQ(strlen(want[i].secret), got[0].len);
    }
    ASSERT_EQ((size_t)8, find_all(mixed, sizeof mixed - 1, DTQ_DET_ALL, got, 16));
    for (i = 0; i < 8; i++) ASSERT_EQ((int)want[i].det, got[i].detector);   /* in string order */
    PASS();
}

TEST nothing_found_without_detectors_input_or_room(void) {
    dtq__match m;
    ASSERT_EQ(0, dtq__find_secret(mixed, sizeof mixed - 1, 0, 0, &m));
    ASSERT_EQ(0, dtq__find_secret(mixed, sizeof mixed - 1, 0, 256, &m));   /* no known bit */
    ASSERT_EQ(0, dtq__find_secret(NULL, 10, 0, DTQ_DET_ALL, &m));
    ASSERT_EQ(0, dtq__find_secret(mixed, 0, 0, DTQ_DET_ALL, &m));
    ASSERT_EQ(0, dtq__find_secret(mixed, sizeof mixed - 1, sizeof mixed - 1, DTQ_DET_ALL, &m));
    ASSERT_EQ(0, dtq__find_secret(mixed, sizeof mixed - 1, sizeof mixed + 5, DTQ_DET_ALL, &m));
    PASS();
}

/* Word starts are positions of the whole string: starting the scan inside a
 * secret does not find its tail. */
TEST scan_from_inside_a_word_does_not_find_its_tail(void) {
    static const char s[] = "x 4111111111111111 y 5555555555554444";
    dtq__match m;
    ASSERT_EQ(1, dtq__find_secret(s, sizeof s - 1, 3, DTQ_DET_ALL, &m));
    ASSERT_EQ((size_t)21, m.start);
    ASSERT_EQ((size_t)16, m.len);
    ASSERT_EQ(DTQ_DET_CARD, m.detector);
    PASS();
}

/* The input need not be NUL-terminated and is never read past n: a secret
 * cut by n is not found. */
TEST scan_stops_at_n(void) {
    static const char s[] = "ip 10.1.2.34 mail a@example.com";
    dtq__match m;
    ASSERT_EQ(1, dtq__find_secret(s, 12, 0, DTQ_DET_ALL, &m));
    ASSERT_EQ((size_t)3, m.start);
    ASSERT_EQ((size_t)9, m.len);
    ASSERT_EQ(1, dtq__find_secret(s, 11, 0, DTQ_DET_ALL, &m));
    ASSERT_EQ((size_t)8, m.len);                         /* "10.1.2.3" */
    ASSERT_EQ(0, dtq__find_secret(s, 28, 12, DTQ_DET_ALL, &m));   /* "a@example.c": one-letter TLD */
    PASS();
}

/* At one start the longest candidate wins: an address whose local part is
 * an IPv4 is one e-mail. */
TEST longest_candidate_wins_at_one_start(void) {
    static const char s[] = "1.2.3.4@example.com";
    dtq__match m;
    ASSERT_EQ(1, dtq__find_secret(s, sizeof s - 1, 0, DTQ_DET_ALL, &m));
    ASSERT_EQ(DTQ_DET_EMAIL, m.detector);
    ASSERT_EQ(sizeof s - 1, m.len);
    ASSERT_EQ(1, dtq__find_secret(s, sizeof s - 1, 0, DTQ_DET_IPV4, &m));
    ASSERT_EQ(DTQ_DET_IPV4, m.detector);
    ASSERT_EQ((size_t)7, m.len);
    PASS();
}

/* The trigger scan (SSE2 sixteen bytes a step where available, table look-ups
 * elsewhere) stops exactly where a plain byte loop over dtq__trigger does,
 * for every detector mask, start and length. */
TEST trigger_scan_matches_a_plain_loop(void) {
    static const char alphabet[] = {'a', 'b', ' ', 'A', 'B', '_', '-', '.', ':', '/', '@', '0', '9', 'z',
                                    'Z', '=', '?', ';', '<', '>', 'e', 'y', 'J', 0, (char)0x80, (char)0xff, 'C'};
    char s[80];
    unsigned seed = 12345, d;
    size_t len, i, from, want;
    for (len = 0; len < 2000; len++) {
        size_t n = len % sizeof s;
        for (i = 0; i < n; i++) {
            seed = seed * 1103515245u + 12345u;
            s[i] = alphabet[(seed >> 16) % sizeof alphabet];
        }
        d = (unsigned)(len * 37u) & DTQ_DET_ALL;
        from = n ? (len * 7u) % n : 0;
        for (want = from; want < n && !(dtq__trigger[(unsigned char)s[want]] & d); want++) {}
        ASSERT_EQ(want, dtq__next_trigger(s, n, from, d));
    }
    PASS();
}

/* ---- linear work ------------------------------------------------------------- */

/* Inputs built to make a backtracking or rescanning detector quadratic:
 * long runs that almost match, many matches inside one run, many triggers. */
static const char *const hostile_units[] = {
    "a.",                                   /* one endless e-mail local part, no '@' */
    "1.2.3.4-",                             /* many matches inside one local part */
    "a@b.",                                 /* an '@' every 4 bytes, never a TLD */
    "-----BEGIN RSA PRIVATE KEY-----\n",    /* BEGIN without END */
    "eyJhbGciOiJI.",                        /* JWT segments without end */
    "Bearer ",                              /* bearer without token */
    "4111 ",                                /* card groups forever */
    "1:",                                   /* IPv6 groups forever */
    "::",
    "AKIA",
};

static size_t hostile_fill(char *buf, size_t n, const char *unit) {
    size_t len = strlen(unit), i;
    for (i = 0; i < n; i++) buf[i] = unit[i % len];
    return n;
}

/* Work is counted, not timed (a timed test fails on a loaded machine, and
 * speed belongs to bench/). The scan's work is its stops at trigger bytes:
 * between stops it only skips bytes, and at each stop a detector reads a
 * bounded window (64 bytes back for an e-mail, 253 on for its domain, ...)
 * or a run no later stop reads again, as argued at each detector. A scan
 * that went back over what an earlier call had passed would stop at the
 * same triggers again on every later call: a quadratic number of stops.
 * So a whole value's redaction is replayed stop by stop as
 * dtq__find_secret takes them: its loop, with a counter, and each match
 * checked against dtq__find_secret's own. */
typedef struct scan_work {
    size_t triggers, stops, matches;
} scan_work;

static int find_secret_counted(const char *s, size_t n, size_t from, dtq__match *m, size_t *stops) {
    dtq__match best;
    size_t i = from, end;
    best.start = best.len = 0;
    best.detector = 0;
    for (;;) {
        i = dtq__next_trigger(s, n, i, DTQ_DET_ALL);
        if (i >= n) return 0;
        (*stops)++;
        i = dtq__at_trigger(s, n, from, DTQ_DET_ALL, i, &best);
        if (best.detector) break;
    }
    end = best.start + best.len;
    if (best.detector != DTQ_DET_EMAIL && dtq__is_char(s, n, end, '@')) dtq__email_at(s, n, from, end, &best);
    *m = best;
    return 1;
}

static enum greatest_test_res scan_work_of(const char *s, size_t n, scan_work *w) {
    dtq__match m, real;
    size_t from = 0, i;
    memset(w, 0, sizeof *w);
    for (i = 0; (i = dtq__next_trigger(s, n, i, DTQ_DET_ALL)) < n; i++) w->triggers++;
    while (from < n && find_secret_counted(s, n, from, &m, &w->stops)) {
        ASSERT_EQ(1, dtq__find_secret(s, n, from, DTQ_DET_ALL, &real));
        ASSERT_EQ(real.start, m.start);
        ASSERT_EQ(real.len, m.len);
        ASSERT_EQ(real.detector, m.detector);
        w->matches++;
        from = m.start + m.len;
    }
    ASSERT_EQ(0, dtq__find_secret(s, n, from, DTQ_DET_ALL, &real));
    PASS();
}

/* Each trigger byte is a stop at most once over a whole redaction, so the
 * work of a value is linear in its length; and a value is scanned only up
 * to DTQ_REDACT_SCAN bytes (longer ones become one marker, test_hostile),
 * so the work of one field is bounded. Checked at that longest scan and at
 * an eighth of it: the stops grow with the triggers, never faster. */
TEST hostile_inputs_stop_at_each_trigger_at_most_once(void) {
    static char buf[DTQ_REDACT_SCAN];
    size_t u;
    for (u = 0; u < sizeof hostile_units / sizeof hostile_units[0]; u++) {
        scan_work small, big;
        hostile_fill(buf, sizeof buf, hostile_units[u]);
        CHECK_CALL(scan_work_of(buf, sizeof buf / 8, &small));
        CHECK_CALL(scan_work_of(buf, sizeof buf, &big));
        if (GREATEST_IS_VERBOSE())
            printf("  \"%.*s\": %zu bytes: %zu triggers, %zu stops, %zu matches; %zu bytes: %zu, %zu, %zu\n",
                   (int)strcspn(hostile_units[u], "\n"), hostile_units[u], sizeof buf / 8, small.triggers, small.stops,
                   small.matches, sizeof buf, big.triggers, big.stops, big.matches);
        ASSERT(small.stops <= small.triggers);
        ASSERT(big.stops <= big.triggers);
        ASSERT(big.triggers <= 8 * small.triggers + 8);   /* the inputs repeat: triggers grow with the length */
    }
    PASS();
}

/* ---- names ------------------------------------------------------------------- */

TEST detector_names_round_trip(void) {
    static const char *const names[] = {"email", "ipv4", "ipv6", "bearer", "jwt", "apikey", "pem", "card"};
    int k;
    for (k = 0; k < 8; k++) {
        ASSERT_STR_EQ(names[k], dtq__detector_name(1 << k));
        ASSERT_EQ(1 << k, dtq__detector_parse(names[k], strlen(names[k])));
    }
    ASSERT_EQ(DTQ_DET_ALL, (1 << 8) - 1);
    PASS();
}

TEST detector_parse_is_exact(void) {
    ASSERT_EQ(DTQ_DET_EMAIL, dtq__detector_parse("emails", 5));   /* only len bytes are read */
    ASSERT_EQ(0, dtq__detector_parse("Email", 5));
    ASSERT_EQ(0, dtq__detector_parse("emai", 4));
    ASSERT_EQ(0, dtq__detector_parse("all", 3));
    ASSERT_EQ(0, dtq__detector_parse("", 0));
    ASSERT_EQ(0, dtq__detector_parse(NULL, 5));
    ASSERT_EQ(NULL, dtq__detector_name(0));
    ASSERT_EQ(NULL, dtq__detector_name(3));
    ASSERT_EQ(NULL, dtq__detector_name(DTQ_DET_ALL));
    PASS();
}

/* Every API-key prefix's first byte is marked as a key start in the byte
 * class table, or the scan would never try it. */
TEST every_key_prefix_is_a_key_start(void) {
    size_t k;
    for (k = 0; k < sizeof dtq__key_shapes / sizeof dtq__key_shapes[0]; k++) {
        ASSERT(dtq__byte_class[(unsigned char)dtq__key_shapes[k].prefix[0]] & DTQ__KEY1);
        ASSERT_EQ(strlen(dtq__key_shapes[k].prefix), (size_t)dtq__key_shapes[k].prefix_len);
    }
    PASS();
}

/* The two byte tables, written out as numbers for speed, against their
 * definitions written plainly. */
static unsigned ref_class(int c) {
    int alpha = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'), digit = c >= '0' && c <= '9', alnum = alpha || digit;
    unsigned k = 0;
    if (alnum) k |= DTQ__ALNUM;
    if (digit) k |= DTQ__DIGIT;
    if (digit || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F')) k |= DTQ__HEX;
    if (alnum || (c && strchr("._%+-", c))) k |= DTQ__LOCAL;
    if (alnum || c == '-') k |= DTQ__LABEL;
    if (alnum || c == '_' || c == '-') k |= DTQ__B64URL;
    if (alnum || (c && strchr("-._~+/", c))) k |= DTQ__TOKEN;
    if (digit || (c >= 'A' && c <= 'Z')) k |= DTQ__UPNUM;
    if (c && strchr("gAxsr", c)) k |= DTQ__KEY1;
    return k;
}

static unsigned ref_trigger(int c) {
    if (c >= '0' && c <= '9') return DTQ_DET_CARD | DTQ_DET_IPV4;
    switch (c) {
    case '@': return DTQ_DET_EMAIL;
    case '.': return DTQ_DET_JWT;
    case ':': return DTQ_DET_IPV6;
    case '-': return DTQ_DET_PEM | DTQ_DET_APIKEY;
    case '_': case 'A': return DTQ_DET_APIKEY;
    case 'B': case 'b': return DTQ_DET_BEARER;
    default: return 0;
    }
}

TEST byte_tables_match_their_definitions(void) {
    int c;
    for (c = 0; c < 256; c++) {
        ASSERT_EQ_FMT(ref_class(c), (unsigned)dtq__byte_class[c], "%u");
        ASSERT_EQ_FMT(ref_trigger(c), (unsigned)dtq__trigger[c], "%u");
    }
    PASS();
}

/* ---- SipHash-2-4 -------------------------------------------------------------- */

/* The reference implementation's vectors_sip64 (github.com/veorq/SipHash,
 * vectors.h): key 00..0f, message i = bytes 00..i-1, output little-endian. */
static const unsigned char sip_vectors[64][8] = {
    {0x31, 0x0e, 0x0e, 0xdd, 0x47, 0xdb, 0x6f, 0x72}, {0xfd, 0x67, 0xdc, 0x93, 0xc5, 0x39, 0xf8, 0x74},
    {0x5a, 0x4f, 0xa9, 0xd9, 0x09, 0x80, 0x6c, 0x0d}, {0x2d, 0x7e, 0xfb, 0xd7, 0x96, 0x66, 0x67, 0x85},
    {0xb7, 0x87, 0x71, 0x27, 0xe0, 0x94, 0x27, 0xcf}, {0x8d, 0xa6, 0x99, 0xcd, 0x64, 0x55, 0x76, 0x18},
    {0xce, 0xe3, 0xfe, 0x58, 0x6e, 0x46, 0xc9, 0xcb}, {0x37, 0xd1, 0x01, 0x8b, 0xf5, 0x00, 0x02, 0xab},
    {0x62, 0x24, 0x93, 0x9a, 0x79, 0xf5, 0xf5, 0x93}, {0xb0, 0xe4, 0xa9, 0x0b, 0xdf, 0x82, 0x00, 0x9e},
    {0xf3, 0xb9, 0xdd, 0x94, 0xc5, 0xbb, 0x5d, 0x7a}, {0xa7, 0xad, 0x6b, 0x22, 0x46, 0x2f, 0xb3, 0xf4},
    {0xfb, 0xe5, 0x0e, 0x86, 0xbc, 0x8f, 0x1e, 0x75}, {0x90, 0x3d, 0x84, 0xc0, 0x27, 0x56, 0xea, 0x14},
    {0xee, 0xf2, 0x7a, 0x8e, 0x90, 0xca, 0x23, 0xf7}, {0xe5, 0x45, 0xbe, 0x49, 0x61, 0xca, 0x29, 0xa1},
    {0xdb, 0x9b, 0xc2, 0x57, 0x7f, 0xcc, 0x2a, 0x3f}, {0x94, 0x47, 0xbe, 0x2c, 0xf5, 0xe9, 0x9a, 0x69},
    {0x9c, 0xd3, 0x8d, 0x96, 0xf0, 0xb3, 0xc1, 0x4b}, {0xbd, 0x61, 0x79, 0xa7, 0x1d, 0xc9, 0x6d, 0xbb},
    {0x98, 0xee, 0xa2, 0x1a, 0xf2, 0x5c, 0xd6, 0xbe}, {0xc7, 0x67, 0x3b, 0x2e, 0xb0, 0xcb, 0xf2, 0xd0},
    {0x88, 0x3e, 0xa3, 0xe3, 0x95, 0x67, 0x53, 0x93}, {0xc8, 0xce, 0x5c, 0xcd, 0x8c, 0x03, 0x0c, 0xa8},
    {0x94, 0xaf, 0x49, 0xf6, 0xc6, 0x50, 0xad, 0xb8}, {0xea, 0xb8, 0x85, 0x8a, 0xde, 0x92, 0xe1, 0xbc},
    {0xf3, 0x15, 0xbb, 0x5b, 0xb8, 0x35, 0xd8, 0x17}, {0xad, 0xcf, 0x6b, 0x07, 0x63, 0x61, 0x2e, 0x2f},
    {0xa5, 0xc9, 0x1d, 0xa7, 0xac, 0xaa, 0x4d, 0xde}, {0x71, 0x65, 0x95, 0x87, 0x66, 0x50, 0xa2, 0xa6},
    {0x28, 0xef, 0x49, 0x5c, 0x53, 0xa3, 0x87, 0xad}, {0x42, 0xc3, 0x41, 0xd8, 0xfa, 0x92, 0xd8, 0x32},
    {0xce, 0x7c, 0xf2, 0x72, 0x2f, 0x51, 0x27, 0x71}, {0xe3, 0x78, 0x59, 0xf9, 0x46, 0x23, 0xf3, 0xa7},
    {0x38, 0x12, 0x05, 0xbb, 0x1a, 0xb0, 0xe0, 0x12}, {0xae, 0x97, 0xa1, 0x0f, 0xd4, 0x34, 0xe0, 0x15},
    {0xb4, 0xa3, 0x15, 0x08, 0xbe, 0xff, 0x4d, 0x31}, {0x81, 0x39, 0x62, 0x29, 0xf0, 0x90, 0x79, 0x02},
    {0x4d, 0x0c, 0xf4, 0x9e, 0xe5, 0xd4, 0xdc, 0xca}, {0x5c, 0x73, 0x33, 0x6a, 0x76, 0xd8, 0xbf, 0x9a},
    {0xd0, 0xa7, 0x04, 0x53, 0x6b, 0xa9, 0x3e, 0x0e}, {0x92, 0x59, 0x58, 0xfc, 0xd6, 0x42, 0x0c, 0xad},
    {0xa9, 0x15, 0xc2, 0x9b, 0xc8, 0x06, 0x73, 0x18}, {0x95, 0x2b, 0x79, 0xf3, 0xbc, 0x0a, 0xa6, 0xd4},
    {0xf2, 0x1d, 0xf2, 0xe4, 0x1d, 0x45, 0x35, 0xf9}, {0x87, 0x57, 0x75, 0x19, 0x04, 0x8f, 0x53, 0xa9},
    {0x10, 0xa5, 0x6c, 0xf5, 0xdf, 0xcd, 0x9a, 0xdb}, {0xeb, 0x75, 0x09, 0x5c, 0xcd, 0x98, 0x6c, 0xd0},
    {0x51, 0xa9, 0xcb, 0x9e, 0xcb, 0xa3, 0x12, 0xe6}, {0x96, 0xaf, 0xad, 0xfc, 0x2c, 0xe6, 0x66, 0xc7},
    {0x72, 0xfe, 0x52, 0x97, 0x5a, 0x43, 0x64, 0xee}, {0x5a, 0x16, 0x45, 0xb2, 0x76, 0xd5, 0x92, 0xa1},
    {0xb2, 0x74, 0xcb, 0x8e, 0xbf, 0x87, 0x87, 0x0a}, {0x6f, 0x9b, 0xb4, 0x20, 0x3d, 0xe7, 0xb3, 0x81},
    {0xea, 0xec, 0xb2, 0xa3, 0x0b, 0x22, 0xa8, 0x7f}, {0x99, 0x24, 0xa4, 0x3c, 0xc1, 0x31, 0x57, 0x24},
    {0xbd, 0x83, 0x8d, 0x3a, 0xaf, 0xbf, 0x8d, 0xb7}, {0x0b, 0x1a, 0x2a, 0x32, 0x65, 0xd5, 0x1a, 0xea},
    {0x13, 0x50, 0x79, 0xa3, 0x23, 0x1c, 0xe6, 0x60}, {0x93, 0x2b, 0x28, 0x46, 0xe4, 0xd7, 0x06, 0x66},
    {0xe1, 0x91, 0x5f, 0x5c, 0xb1, 0xec, 0xa4, 0x6c}, {0xf3, 0x25, 0x96, 0x5c, 0xa1, 0x6d, 0x62, 0x9f},
    {0x57, 0x5f, 0xf2, 0x8e, 0x60, 0x38, 0x1b, 0xe5}, {0x72, 0x45, 0x06, 0xeb, 0x4c, 0x32, 0x8a, 0x95},
};

TEST siphash_matches_the_reference_vectors(void) {
    unsigned char key[16], msg[64], out[8];
    size_t i;
    for (i = 0; i < 16; i++) key[i] = (unsigned char)i;
    for (i = 0; i < 64; i++) msg[i] = (unsigned char)i;
    for (i = 0; i < 64; i++) {
        dtq__siphash24(key, msg, i, out);
        ASSERT_MEM_EQ(sip_vectors[i], out, 8);
    }
    PASS();
}

/* The worked example of the paper's appendix: 15 bytes 00..0e under key
 * 00..0f give 0xa129ca6149be45e5. */
TEST siphash_matches_the_paper_example(void) {
    unsigned char key[16], msg[15], out[8];
    uint64_t h = 0;
    int i;
    for (i = 0; i < 16; i++) key[i] = (unsigned char)i;
    for (i = 0; i < 15; i++) msg[i] = (unsigned char)i;
    dtq__siphash24(key, msg, sizeof msg, out);
    for (i = 7; i >= 0; i--) h = (h << 8) | out[i];
    ASSERT_EQ_FMT((unsigned long long)0xa129ca6149be45e5ull, (unsigned long long)h, "%llx");
    PASS();
}

/* Keyed: another key gives another hash of the same secret. */
TEST siphash_depends_on_the_key(void) {
    static const unsigned char zero[16] = {0};
    unsigned char k1[16] = {'k', '1'}, a[8], b[8], c[8];
    dtq__siphash24(zero, "a@example.com", 13, a);
    dtq__siphash24(k1, "a@example.com", 13, b);
    dtq__siphash24(zero, "a@example.com", 13, c);
    ASSERT(memcmp(a, b, 8) != 0);
    ASSERT_MEM_EQ(a, c, 8);
    PASS();
}

SUITE(redact) {
    RUN_TEST(corpus_has_100_secret_lines_and_100_look_alikes);
    RUN_TEST(corpus_every_secret_found_with_its_exact_span);
    RUN_TEST(corpus_every_secret_found_by_its_own_detectors_alone);
    RUN_TEST(corpus_no_look_alike_touched);
    RUN_TEST(corpus_as_one_text_gives_all_spans_in_order);
    RUN_TEST(each_detector_alone_finds_only_its_secret);
    RUN_TEST(nothing_found_without_detectors_input_or_room);
    RUN_TEST(scan_from_inside_a_word_does_not_find_its_tail);
    RUN_TEST(scan_stops_at_n);
    RUN_TEST(longest_candidate_wins_at_one_start);
    RUN_TEST(trigger_scan_matches_a_plain_loop);
    RUN_TEST(hostile_inputs_stop_at_each_trigger_at_most_once);
    RUN_TEST(detector_names_round_trip);
    RUN_TEST(detector_parse_is_exact);
    RUN_TEST(every_key_prefix_is_a_key_start);
    RUN_TEST(byte_tables_match_their_definitions);
    RUN_TEST(siphash_matches_the_reference_vectors);
    RUN_TEST(siphash_matches_the_paper_example);
    RUN_TEST(siphash_depends_on_the_key);
}
