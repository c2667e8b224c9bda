/* dt_query.h — the query processor for dt: KQL-flavoured pipelines that
 * drop, filter, project, redact, sample, throttle and summarize events into
 * metrics. It plugs into dt.h through the processor interface only, and it
 * can never invoke an action (lowest risk).
 *
 *     query banner  = LogWelcomeBanner | drop
 *     query welcome = LogWelcomeBanner | summarize WelcomeBanner = count() every 1m
 *     query files   = LogEndFileHash | summarize files = count() by ext = extension(fileName)
 *     query pii     = * | redact email, ipv4, card with hash key "k1"
 *
 * The language is documented in docs/language.md (section Queries).
 *
 * Use: in one C file, `#define DT_QUERY_IMPLEMENTATION` (or
 * DT_ALL_IMPLEMENTATION) before including it, and register the processor:
 *     dt_register_processor(engine, dt_query_processor());
 * or list it in dt_desc.processors.
 *
 * Options (define before including):
 *   DTQ_DEFAULT_GROUPS   groups per summarize when it does not say (1000)
 *   DTQ_MAX_GROUPS       most groups a summarize may ask for (100000)
 *   DTQ_DEFAULT_KEYS     keys per throttle when it does not say (1000)
 *   DTQ_SHARDS           shards of each summarize (2; 1 under DT_NO_THREADS)
 *   DTQ_REDACT_SCAN      longest string `redact` scans (65536); longer: one marker
 *   DTQ_MAX_OPS          operators in one query (64)
 *   DTQ_MAX_KEYS         `by` keys of one summarize (8)
 *   DTQ_MAX_AGGS         aggregates of one summarize (16)
 */
#ifndef DT_QUERY_H
#define DT_QUERY_H

#include "dt.h"

#ifndef DTQ_DEFAULT_GROUPS
#define DTQ_DEFAULT_GROUPS 1000
#endif
#ifndef DTQ_MAX_GROUPS
#define DTQ_MAX_GROUPS 100000
#endif
#ifndef DTQ_DEFAULT_KEYS
#define DTQ_DEFAULT_KEYS 1000
#endif
#ifndef DTQ_SHARDS
#if DT_NO_THREADS
#define DTQ_SHARDS 1
#else
#define DTQ_SHARDS 2
#endif
#endif
#ifndef DTQ_REDACT_SCAN         /* longest string redact scans; longer ones become one marker */
#define DTQ_REDACT_SCAN 65536
#endif
#ifndef DTQ_MAX_OPS
#define DTQ_MAX_OPS 64
#endif
#ifndef DTQ_MAX_KEYS
#define DTQ_MAX_KEYS 8
#endif
#ifndef DTQ_MAX_AGGS
#define DTQ_MAX_AGGS 16
#endif

#ifdef __cplusplus
extern "C" {
#endif

/* The `query` statement's processor. Register it with dt_register_processor
 * or list it in dt_desc.processors. */
DT_API const dt_processor *dt_query_processor(void);

#ifdef __cplusplus
}
#endif

#endif /* DT_QUERY_H */

#if (defined(DT_QUERY_IMPLEMENTATION) || defined(DTQ_DETECTORS)) && !defined(DTQ__DETECTORS_INCLUDED)
#define DTQ__DETECTORS_INCLUDED
/* >>detectors ----------------------------------------------------------------
 * The secret detectors behind the query processor's
 * `redact` operator, and the keyed hash behind `redact ... with hash`.
 *
 * Compiled with the implementation, or alone with DTQ_DETECTORS defined
 * (the detector tests and fuzz target use them directly). libc only, C99/C11/C++, every name `dtq__`/`DTQ_`, no allocation, and linear time
 * in the input: no backtracking, every detector either reads a bounded
 * number of bytes or scans a run that no other attempt of the same detector
 * scans again (the argument is spelled out at each detector).
 *
 * How a scan works. dtq__find_secret walks the string once and stops only at
 * trigger bytes (dtq__trigger): a digit, 'A', 'B' or 'b' that starts a word
 * (an ASCII letter or digit whose previous byte, in the whole string, is
 * not one), and the punctuation the other secrets carry: '@' (e-mail, whose
 * local part is found looking back at most 64 bytes), '.' (a JWT header
 * before it), ':' (IPv6), '_' and '-' (API-key prefixes such as ghp_ and
 * xoxb-, looking back at most 6 bytes) and "-----BEGIN" (PEM). Everything
 * else is skipped sixteen bytes a step (SSE2) or eight table look-ups a
 * step, so a string without secrets costs little more than reading it.
 * Looking back never goes before `from`, and a secret must start at a word
 * start, so the scan finds the same matches whatever the caller's `from`
 * was. The first trigger that yields a candidate wins (among its candidates
 * the one that starts first, then the longest); a number or key glued to
 * "@domain" gives way to the e-mail it is the local part of
 * (`1.2.3.4@example.com` is one e-mail).
 * The next call starts at the end of the match, so matches never overlap
 * and come in increasing order; no trigger is looked at by two calls.
 *
 * What each detector accepts (and why the look-alikes next to it are left
 * alone) is written above its function; tests/data/redact_corpus.txt holds
 * the labelled examples.
 */

#include <stddef.h>
#include <stdint.h>
#include <string.h>

/* The trigger scan reads 16 bytes a step with SSE2 where the compiler offers
 * it (x86-64 always does), and 8 table look-ups a step elsewhere; both give
 * the same answers (tests/test_redact.c checks it). DT_QUERY_NO_SIMD=1
 * forces the portable loop. */
#ifndef DT_QUERY_NO_SIMD
#define DT_QUERY_NO_SIMD 0
#endif
#if !DT_QUERY_NO_SIMD && defined(__SSE2__) && defined(__GNUC__)
#define DTQ__SSE2 1
#include <emmintrin.h>
#else
#define DTQ__SSE2 0
#endif

enum { DTQ_DET_EMAIL = 1, DTQ_DET_IPV4 = 2, DTQ_DET_IPV6 = 4, DTQ_DET_BEARER = 8, DTQ_DET_JWT = 16,
       DTQ_DET_APIKEY = 32, DTQ_DET_PEM = 64, DTQ_DET_CARD = 128, DTQ_DET_ALL = 255 };

/* One secret: s[start .. start+len) was found by `detector` (one DTQ_DET_ bit). */
typedef struct dtq__match {
    size_t start, len;
    int detector;
} dtq__match;

/* RFC 5321 limits; they also bound how far the e-mail detector reads back
 * and forth from an '@'. */
#define DTQ__EMAIL_LOCAL_MAX 64
#define DTQ__EMAIL_DOMAIN_MAX 253
/* Longest PEM label we look at ("ENCRYPTED PRIVATE KEY" is 21). */
#define DTQ__PEM_LABEL_MAX 40
#define DTQ__NONE ((size_t)-1)

/* ---- byte classes -------------------------------------------------------- */

enum {
    DTQ__ALNUM = 1,      /* A-Z a-z 0-9: what word starts are made of */
    DTQ__DIGIT = 2,
    DTQ__HEX = 4,
    DTQ__LOCAL = 8,      /* e-mail local part: alnum . _ % + - */
    DTQ__LABEL = 16,     /* domain label, Slack token body: alnum - */
    DTQ__B64URL = 32,    /* base64url (JWT segments, some key bodies): alnum _ - */
    DTQ__TOKEN = 64,     /* RFC 6750 b64token without its '=' padding: alnum - . _ ~ + / */
    DTQ__UPNUM = 128,    /* AWS key id body: A-Z 0-9 */
    DTQ__KEY1 = 256      /* first byte of an API-key prefix in dtq__key_shapes */
};

/* Bytes 128-255 (UTF-8 sequences) belong to no class: they separate words. */
static const unsigned short dtq__byte_class[256] = {
    0,   0,   0,   0,   0,   0,   0,   0,   0,   0,   0,   0,   0,   0,   0,   0,
    0,   0,   0,   0,   0,   0,   0,   0,   0,   0,   0,   0,   0,   0,   0,   0,
    0,   0,   0,   0,   0,   8,   0,   0,   0,   0,   0,  72,   0, 120,  72,  64,
    255, 255, 255, 255, 255, 255, 255, 255, 255, 255,   0,   0,   0,   0,   0,   0,
    0, 509, 253, 253, 253, 253, 253, 249, 249, 249, 249, 249, 249, 249, 249, 249,
    249, 249, 249, 249, 249, 249, 249, 249, 249, 249, 249,   0,   0,   0,   0, 104,
    0, 125, 125, 125, 125, 125, 125, 377, 121, 121, 121, 121, 121, 121, 121, 121,
    121, 121, 377, 377, 121, 121, 121, 121, 377, 121, 121,   0,   0,   0,  64,   0,
};

static int dtq__is(const char *s, size_t n, size_t p, unsigned cls) {
    return p < n && (dtq__byte_class[(unsigned char)s[p]] & cls) != 0;
}

static int dtq__is_char(const char *s, size_t n, size_t p, char c) { return p < n && s[p] == c; }

/* The end of the run of `cls` bytes in s[p..lim). */
static size_t dtq__run_to(const char *s, size_t p, size_t lim, unsigned cls) {
    const unsigned char *u = (const unsigned char *)s + p, *e = (const unsigned char *)s + lim;
    while (u < e && (dtq__byte_class[*u] & cls)) u++;
    return (size_t)(u - (const unsigned char *)s);
}

/* The end of the run of `cls` bytes that starts at p. */
static size_t dtq__run(const char *s, size_t n, size_t p, unsigned cls) { return dtq__run_to(s, p, n, cls); }

/* Like dtq__run, reading at most `max` bytes. */
static size_t dtq__run_max(const char *s, size_t n, size_t p, unsigned cls, size_t max) {
    return dtq__run_to(s, p, n - p > max ? p + max : n, cls);
}

static int dtq__has(const char *s, size_t n, size_t p, const char *lit, size_t len) {
    return p <= n && n - p >= len && memcmp(s + p, lit, len) == 0;
}

/* ---- numbers: IPv4, IPv6, cards ------------------------------------------ */

/* The value of the digit s[p], or a number above 9 for any other byte. */
static unsigned dtq__digit(const char *s, size_t n, size_t p) {
    return p < n ? (unsigned)(unsigned char)s[p] - (unsigned)'0' : 10u;
}

/* Four dot-separated decimal octets 0-255 (1-3 digits each) from p; the end,
 * or 0. Reads at most 16 bytes. */
static size_t dtq__ipv4_span(const char *s, size_t n, size_t p) {
    int k;
    for (k = 0; k < 4; k++) {
        unsigned v, d;
        if (k > 0 && !dtq__is_char(s, n, p++, '.')) return 0;
        if ((v = dtq__digit(s, n, p++)) > 9) return 0;
        if ((d = dtq__digit(s, n, p)) <= 9) {
            v = v * 10 + d;
            if ((d = dtq__digit(s, n, ++p)) <= 9) {
                v = v * 10 + d;
                if (dtq__digit(s, n, ++p) <= 9 || v > 255) return 0;
            }
        }
    }
    return p;
}

/* A dotted number does not end here: "1.2.3.4.5" is a version, not an address. */
static int dtq__dotted_continues(const char *s, size_t n, size_t e) {
    return dtq__is_char(s, n, e, '.') && dtq__is(s, n, e + 1, DTQ__DIGIT);
}

/* IPv4: four octets at a word start, not inside a longer dotted number
 * (1.2.3.4.5, v10.0.0.1.2: the '.' before or the ".5" after rules it out).
 * A port, a range dash or a sentence dot may follow. */
static size_t dtq__ipv4(const char *s, size_t n, size_t i) {
    size_t e;
    if (i > 0 && (s[i - 1] == '.' || s[i - 1] == '_')) return 0;
    e = dtq__ipv4_span(s, n, i);
    if (!e || dtq__is(s, n, e, DTQ__ALNUM) || dtq__is_char(s, n, e, '_') || dtq__dotted_continues(s, n, e)) return 0;
    return e;
}

/* IPv6: 8 groups of 1-4 hex digits, or fewer around one "::", the last two
 * groups optionally written as an IPv4. A time (12:30:45) or a MAC address
 * (00:1a:2b:3c:4d:5e) has too few groups and no "::", so it is left alone.
 * Reads at most 45 bytes past i (8 groups, 7 colons, one "::"). */
static size_t dtq__ipv6(const char *s, size_t n, size_t i) {
    size_t p = i, groups = 0, h, v4;
    int compressed = 0;
    if (i > 0 && (dtq__is(s, n, i - 1, DTQ__ALNUM) || s[i - 1] == '.' || s[i - 1] == ':' || s[i - 1] == '_')) return 0;
    if (dtq__has(s, n, p, "::", 2)) {
        compressed = 1;
        p += 2;
    }
    for (;;) {
        h = dtq__run_max(s, n, p, DTQ__HEX, 5) - p;
        if (h == 0) break;                      /* only just after "::": "fe80::" */
        if (h > 4) return 0;
        if (dtq__is_char(s, n, p + h, '.') && (v4 = dtq__ipv4_span(s, n, p)) != 0) {
            groups += 2;                        /* ::ffff:192.0.2.1 */
            p = v4;
            break;
        }
        groups++;
        p += h;
        if (groups > 8) return 0;
        if (dtq__has(s, n, p, "::", 2)) {
            if (compressed) return 0;
            compressed = 1;
            p += 2;
        } else if (dtq__is_char(s, n, p, ':') && dtq__is(s, n, p + 1, DTQ__HEX)) {
            p++;
        } else {
            break;
        }
    }
    if (compressed ? (groups == 0 || groups > 7) : groups != 8) return 0;
    if (dtq__is(s, n, p, DTQ__ALNUM) || dtq__is_char(s, n, p, '_') || dtq__is_char(s, n, p, ':') ||
        dtq__dotted_continues(s, n, p))
        return 0;
    return p;
}

/* Luhn over the digits of s[i..e) (separators skipped). */
static int dtq__luhn(const char *s, size_t i, size_t e) {
    unsigned sum = 0, d;
    int twice = 0;
    while (e > i) {
        char c = s[--e];
        if (c < '0' || c > '9') continue;
        d = (unsigned)(c - '0');
        if (twice && (d *= 2) > 9) d -= 9;
        sum += d;
        twice = !twice;
    }
    return sum % 10 == 0;
}

/* The digit run ends here, or goes on behind one separator: "4111...-2". */
static int dtq__digits_continue(const char *s, size_t n, size_t e, char sep) {
    return dtq__is(s, n, e, DTQ__ALNUM) || dtq__is_char(s, n, e, '_') ||
           ((dtq__is_char(s, n, e, '.') || dtq__is_char(s, n, e, '-') || dtq__is_char(s, n, e, sep)) &&
            dtq__is(s, n, e + 1, DTQ__DIGIT));
}

/* The same, looking backwards from the byte before i. */
static int dtq__digits_precede(const char *s, size_t i, char sep) {
    if (i == 0) return 0;
    if (s[i - 1] == '_') return 1;
    return i >= 2 && (s[i - 1] == '.' || s[i - 1] == '-' || s[i - 1] == sep) && s[i - 2] >= '0' && s[i - 2] <= '9';
}

/* Card groups "4111 1111 1111 1111" / "3782-822463-10005": the same separator
 * throughout, every group of 4 but the last (1-4), or Amex/Diners 4-6-5 and
 * 4-6-4. Fills the group sizes; returns the end, or 0. Reads at most 24 bytes. */
static size_t dtq__card_groups(const char *s, size_t n, size_t i, char sep, size_t *total) {
    size_t g[5], ng = 0, p = i, k;
    *total = 0;
    for (;;) {
        size_t len = dtq__run_max(s, n, p, DTQ__DIGIT, 20) - p;
        if (ng == 5 || (*total += len) > 19) return 0;
        g[ng++] = len;
        p += len;
        if (!(dtq__is_char(s, n, p, sep) && dtq__is(s, n, p + 1, DTQ__DIGIT))) break;
        p++;
    }
    if (ng == 3 && g[0] == 4 && g[1] == 6 && (g[2] == 5 || g[2] == 4)) return p;
    for (k = 0; k + 1 < ng; k++)
        if (g[k] != 4) return 0;
    return ng >= 2 && g[ng - 1] <= 4 ? p : 0;
}

/* Card number: 13-19 digits passing Luhn, contiguous or in groups, at a word
 * start and not part of a longer digit run (a 20-digit id, a dotted or
 * dashed number). A 16-digit id failing Luhn is left alone; so are hex
 * hashes and UUIDs, whose digit runs end in a letter or a '-' group. The
 * first digit must be 2-6 (Mastercard, Amex/Diners/JCB, Visa, Mastercard,
 * Discover/UnionPay/Maestro): without it one epoch timestamp in ten (13
 * digits in ms, 19 in ns, all starting with 1) would pass Luhn. */
static size_t dtq__card(const char *s, size_t n, size_t i) {
    size_t run = dtq__run_max(s, n, i, DTQ__DIGIT, 20) - i, e, total;
    char sep;
    if (s[i] < '2' || s[i] > '6') return 0;
    if (run >= 13 && run <= 19) {
        e = i + run;
        if (dtq__digits_precede(s, i, '-') || dtq__digits_continue(s, n, e, '-')) return 0;
        return dtq__luhn(s, i, e) ? e : 0;
    }
    if (run != 4 || i + 5 >= n) return 0;
    sep = s[i + 4];
    if (sep != ' ' && sep != '-') return 0;
    e = dtq__card_groups(s, n, i, sep, &total);
    if (!e || total < 13 || dtq__digits_precede(s, i, sep) || dtq__digits_continue(s, n, e, sep)) return 0;
    return dtq__luhn(s, i, e) ? e : 0;
}

/* ---- e-mail --------------------------------------------------------------- */

/* s[p..q) is ASCII letters only. */
static int dtq__letters(const char *s, size_t p, size_t q) {
    while (p < q && (dtq__byte_class[(unsigned char)s[p]] & (DTQ__ALNUM | DTQ__DIGIT)) == DTQ__ALNUM) p++;
    return p == q;
}

/* The end of a domain of dot-separated labels from p: at least two labels,
 * the last letters only and at least 2 long ("user@localhost" has one label,
 * "lodash@4.17.21" a numeric last label). A trailing label that does not fit
 * is left out: "a@b.com.123" gives "a@b.com". 0 when none fits. Reads at
 * most 253 bytes, and never an '@': domains of two '@'s do not overlap. */
static size_t dtq__domain(const char *s, size_t n, size_t p) {
    size_t lim = n - p > DTQ__EMAIL_DOMAIN_MAX ? p + DTQ__EMAIL_DOMAIN_MAX : n, end = 0, labels = 0, q;
    for (;;) {
        q = dtq__run(s, lim, p, DTQ__LABEL);
        if (q == p) break;
        if (++labels >= 2 && q - p >= 2 && dtq__letters(s, p, q)) end = q;
        if (!dtq__is_char(s, lim, q, '.')) break;
        p = q + 1;
    }
    return end;
}

/* ---- tokens: bearer, JWT, API keys --------------------------------------- */

/* "Bearer <token>" (any case, spaces or tabs between): the match is the token
 * alone, with its '=' padding. The token must look random, which prose after
 * the word does not: 8+ bytes with a digit, or 16+ with both letter cases
 * ("Bearer authentication" stays). The token run is read once: it holds no
 * further word start that could begin "Bearer". */
static int dtq__bearer(const char *s, size_t n, size_t i, size_t *start, size_t *end) {
    static const char word[] = "bearer";
    size_t p, t, k;
    unsigned seen = 0;
    if (n - i < 8) return 0;
    for (k = 0; k < 6; k++)
        if ((s[i + k] | 0x20) != word[k]) return 0;
    for (p = i + 6; p < n && (s[p] == ' ' || s[p] == '\t'); p++) {}
    if (p == i + 6) return 0;
    for (t = p; t < n && (dtq__byte_class[(unsigned char)s[t]] & DTQ__TOKEN); t++)
        seen |= (s[t] >= '0' && s[t] <= '9') ? 1u : (s[t] >= 'a' && s[t] <= 'z') ? 2u : (s[t] >= 'A' && s[t] <= 'Z') ? 4u : 0u;
    if (!(t - p >= 8 && (seen & 1)) && !(t - p >= 16 && (seen & 6) == 6)) return 0;
    while (t < n && s[t] == '=') t++;
    *start = p;
    *end = t;
    return 1;
}

/* JWT: three base64url segments joined by '.', the header starting "eyJ"
 * ('{"' in base64) at a word start and at least 10 long, the payload "ey"; the signature may be empty (alg
 * none). A fourth segment makes it something else. Each attempt reads three
 * segments, and a segment is read by at most three attempts. */
static size_t dtq__jwt(const char *s, size_t n, size_t i) {
    size_t a, b, c;
    if (!dtq__has(s, n, i, "eyJ", 3) || (i > 0 && dtq__is(s, n, i - 1, DTQ__B64URL))) return 0;
    a = dtq__run(s, n, i, DTQ__B64URL);
    if (a - i < 10 || !dtq__is_char(s, n, a, '.')) return 0;
    if (!dtq__has(s, n, a + 1, "ey", 2)) return 0;
    b = dtq__run(s, n, a + 1, DTQ__B64URL);
    if (!dtq__is_char(s, n, b, '.')) return 0;
    c = dtq__run(s, n, b + 1, DTQ__B64URL);
    if (dtq__is_char(s, n, c, '.') && dtq__is(s, n, c + 1, DTQ__B64URL)) return 0;
    return c;
}

/* An API-key shape: a fixed prefix, then a body of `body` bytes at least
 * `min` long (exactly `min` when `exact`). The first byte of every prefix
 * carries DTQ__KEY1 in dtq__byte_class (a test checks it). */
typedef struct dtq__key_shape {
    const char *prefix;
    unsigned char prefix_len, min, exact;
    unsigned short body;
} dtq__key_shape;

static const dtq__key_shape dtq__key_shapes[] = {
    {"ghp_", 4, 36, 0, DTQ__ALNUM},   /* GitHub personal, OAuth, user, server, refresh */
    {"gho_", 4, 36, 0, DTQ__ALNUM},
    {"ghu_", 4, 36, 0, DTQ__ALNUM},
    {"ghs_", 4, 36, 0, DTQ__ALNUM},
    {"ghr_", 4, 36, 0, DTQ__ALNUM},
    {"github_pat_", 11, 22, 0, DTQ__B64URL},
    {"glpat-", 6, 20, 0, DTQ__B64URL}, /* GitLab */
    {"AKIA", 4, 16, 1, DTQ__UPNUM},   /* AWS access key ids, long-term and temporary */
    {"ASIA", 4, 16, 1, DTQ__UPNUM},
    {"AIza", 4, 35, 1, DTQ__B64URL},  /* Google API key */
    {"xoxb-", 5, 10, 0, DTQ__LABEL},  /* Slack bot, user, app, refresh, session */
    {"xoxp-", 5, 10, 0, DTQ__LABEL},
    {"xoxa-", 5, 10, 0, DTQ__LABEL},
    {"xoxr-", 5, 10, 0, DTQ__LABEL},
    {"xoxs-", 5, 10, 0, DTQ__LABEL},
    {"sk_live_", 8, 16, 0, DTQ__ALNUM}, /* Stripe secret and restricted keys */
    {"sk_test_", 8, 16, 0, DTQ__ALNUM},
    {"rk_live_", 8, 16, 0, DTQ__ALNUM},
    {"rk_test_", 8, 16, 0, DTQ__ALNUM},
};

/* API key / access token at the word start i (not after '_' or '-', which
 * would make it the tail of a longer name). The body is a maximal run, so
 * the key is followed by neither a body byte nor another letter or digit. */
static size_t dtq__apikey(const char *s, size_t n, size_t i) {
    size_t k, b, e;
    if (i > 0 && (dtq__is(s, n, i - 1, DTQ__ALNUM) || s[i - 1] == '_' || s[i - 1] == '-')) return 0;
    for (k = 0; k < sizeof dtq__key_shapes / sizeof dtq__key_shapes[0]; k++) {
        const dtq__key_shape *ks = &dtq__key_shapes[k];
        if (s[i] != ks->prefix[0] || !dtq__has(s, n, i, ks->prefix, ks->prefix_len)) continue;
        b = i + ks->prefix_len;
        e = dtq__run(s, n, b, ks->body);
        if (e - b < ks->min || (ks->exact && e - b != ks->min)) return 0;
        if (dtq__is(s, n, e, DTQ__ALNUM) || dtq__is_char(s, n, e, '_')) return 0;
        return e;
    }
    return 0;
}

/* ---- PEM private keys ----------------------------------------------------- */

/* The first "-----" at or after p, or NONE. */
static size_t dtq__find_dashes(const char *s, size_t n, size_t p) {
    while (p < n) {
        const char *d = (const char *)memchr(s + p, '-', n - p);
        if (!d) return DTQ__NONE;
        p = (size_t)(d - s);
        if (dtq__has(s, n, p, "-----", 5)) return p;
        p++;
    }
    return DTQ__NONE;
}

/* "-----BEGIN <label>-----" with a label ending in "PRIVATE KEY" (RSA, EC,
 * DSA, OPENSSH, ENCRYPTED, none) or "PRIVATE KEY BLOCK" (PGP), through the
 * first "-----" after it, which must be "-----END <same label>-----". Public
 * keys and certificates are left alone. Linear: the body scan stops at the
 * first "-----", and every later BEGIN starts at or after it. */
static size_t dtq__pem(const char *s, size_t n, size_t i) {
    size_t label = i + 11, lab_end, len, q;
    if (!dtq__has(s, n, i, "-----BEGIN ", 11) || (i > 0 && s[i - 1] == '-')) return 0;
    for (lab_end = label; lab_end < n && lab_end - label < DTQ__PEM_LABEL_MAX &&
                          ((dtq__byte_class[(unsigned char)s[lab_end]] & DTQ__UPNUM) || s[lab_end] == ' ');
         lab_end++) {}
    len = lab_end - label;
    if (!dtq__has(s, n, lab_end, "-----", 5)) return 0;
    if (!(len >= 11 && memcmp(s + lab_end - 11, "PRIVATE KEY", 11) == 0) &&
        !(len >= 17 && memcmp(s + lab_end - 17, "PRIVATE KEY BLOCK", 17) == 0))
        return 0;
    q = dtq__find_dashes(s, n, lab_end + 5);
    if (q == DTQ__NONE || !dtq__has(s, n, q, "-----END ", 9) || !dtq__has(s, n, q + 9, s + label, len) ||
        !dtq__has(s, n, q + 9 + len, "-----", 5))
        return 0;
    return q + 9 + len + 5;
}

/* ---- the scan ------------------------------------------------------------- */

/* Which detectors a byte can trigger. The scan stops only at these: a
 * digit or A/B/b that starts a word, and the punctuation every other secret
 * carries ('@' e-mail, '.' JWT, ':' IPv6, '_' and '-' API keys, '-' PEM). */
static const unsigned char dtq__trigger[256] = {
    0,   0,   0,   0,   0,   0,   0,   0,   0,   0,   0,   0,   0,   0,   0,   0,
    0,   0,   0,   0,   0,   0,   0,   0,   0,   0,   0,   0,   0,   0,   0,   0,
    0,   0,   0,   0,   0,   0,   0,   0,   0,   0,   0,   0,   0,  96,  16,   0,
    130, 130, 130, 130, 130, 130, 130, 130, 130, 130,   4,   0,   0,   0,   0,   0,
    1,  32,   8,   0,   0,   0,   0,   0,   0,   0,   0,   0,   0,   0,   0,   0,
    0,   0,   0,   0,   0,   0,   0,   0,   0,   0,   0,   0,   0,   0,   0,  32,
    0,   0,   8,   0,   0,   0,   0,   0,   0,   0,   0,   0,   0,   0,   0,   0,
    0,   0,   0,   0,   0,   0,   0,   0,   0,   0,   0,   0,   0,   0,   0,   0,
};

/* Keeps the candidate that starts first; at the same start the longer one. */
static void dtq__consider(dtq__match *best, size_t start, size_t end, int detector) {
    if (end <= start) return;
    if (best->detector && (start > best->start || (start == best->start && end - start <= best->len))) return;
    best->start = start;
    best->len = end - start;
    best->detector = detector;
}

/* E-mail local@domain.tld through the '@' at `at`, found from the '@': the
 * local part is the run of alnum and . _ % + - before it (at most 64 bytes,
 * not before `from`), starting at its first word start, so leading
 * punctuation stays outside. Reads at most 64 bytes back, never past an
 * earlier '@'. */
static void dtq__email_at(const char *s, size_t n, size_t from, size_t at, dtq__match *best) {
    size_t lo = at - from > DTQ__EMAIL_LOCAL_MAX ? at - DTQ__EMAIL_LOCAL_MAX : from, q = at, end;
    while (q > lo && (dtq__byte_class[(unsigned char)s[q - 1]] & DTQ__LOCAL)) q--;
    while (q < at && !(dtq__is(s, n, q, DTQ__ALNUM) && (q == 0 || !dtq__is(s, n, q - 1, DTQ__ALNUM)))) q++;
    if (q == at) return;
    end = dtq__domain(s, n, at + 1);
    if (end) dtq__consider(best, q, end, DTQ_DET_EMAIL);
}

/* A word that starts with a digit: a card or an IPv4 (an IPv6 is tried at
 * its first ':'). The digit run decides which is worth trying; returns its
 * end (the word goes on at least that far). */
static size_t dtq__at_number(const char *s, size_t n, unsigned d, size_t i, dtq__match *best) {
    size_t e = dtq__run_max(s, n, i, DTQ__DIGIT, 20), run = e - i;
    char next = e < n ? s[e] : 0;
    if ((d & DTQ_DET_CARD) && (run >= 13 || (run == 4 && (next == ' ' || next == '-'))))
        dtq__consider(best, i, dtq__card(s, n, i), DTQ_DET_CARD);
    else if ((d & DTQ_DET_IPV4) && run <= 3 && next == '.')
        dtq__consider(best, i, dtq__ipv4(s, n, i), DTQ_DET_IPV4);
    return e;
}

/* A word start that triggered: a number, "Bearer", or an A... key. Returns
 * how far the word is known to be letters and digits. */
static size_t dtq__at_word(const char *s, size_t n, unsigned d, size_t i, dtq__match *best) {
    size_t t0, t1;
    if (s[i] >= '0' && s[i] <= '9') return dtq__at_number(s, n, d, i, best);
    if (s[i] == 'A') dtq__consider(best, i, dtq__apikey(s, n, i), DTQ_DET_APIKEY);
    else if ((d & DTQ_DET_BEARER) && dtq__bearer(s, n, i, &t0, &t1)) dtq__consider(best, t0, t1, DTQ_DET_BEARER);
    return i + 1;
}

/* '.' ends a JWT header when the payload after it starts "ey" (a JSON
 * object, like the header): then look back over the header's base64url run
 * for "eyJ" at a word start (not cut by `from`). */
static void dtq__at_dot(const char *s, size_t n, size_t from, size_t p, dtq__match *best) {
    size_t q = p;
    if (!dtq__has(s, n, p + 1, "ey", 2)) return;
    while (q > from && (dtq__byte_class[(unsigned char)s[q - 1]] & DTQ__B64URL)) q--;
    if (q < p) dtq__consider(best, q, dtq__jwt(s, n, q), DTQ_DET_JWT);
}

/* ':' is inside every IPv6: one that opens with "::", or the hex group of at
 * most 4 before the first ':' starts a word. */
static void dtq__at_colon(const char *s, size_t n, size_t from, size_t p, dtq__match *best) {
    size_t q = p;
    if (dtq__is_char(s, n, p + 1, ':') && !(p > 0 && dtq__is(s, n, p - 1, DTQ__ALNUM))) {
        dtq__consider(best, p, dtq__ipv6(s, n, p), DTQ_DET_IPV6);
        return;
    }
    while (q > from && p - q < 4 && (dtq__byte_class[(unsigned char)s[q - 1]] & DTQ__HEX)) q--;
    if (q < p) dtq__consider(best, q, dtq__ipv6(s, n, q), DTQ_DET_IPV6);
}

/* '_' or '-' right after a short word: the word may be a key prefix
 * ("ghp_", "github_pat_", "sk_live_", "glpat-", "xoxb-"). */
static void dtq__at_key_punct(const char *s, size_t n, size_t from, size_t p, dtq__match *best) {
    size_t q = p;
    while (q > from && p - q < 6 && (dtq__byte_class[(unsigned char)s[q - 1]] & DTQ__ALNUM)) q--;
    if (q < p && (dtq__byte_class[(unsigned char)s[q]] & DTQ__KEY1)) dtq__consider(best, q, dtq__apikey(s, n, q), DTQ_DET_APIKEY);
}

/* Tries what the trigger byte at i can start; returns where to go on. */
static size_t dtq__at_trigger(const char *s, size_t n, size_t from, unsigned d, size_t i, dtq__match *best) {
    char c = s[i];
    if (dtq__byte_class[(unsigned char)c] & DTQ__ALNUM) {   /* the rest of the word holds no start */
        size_t known = i + 1;
        if (i == 0 || !(dtq__byte_class[(unsigned char)s[i - 1]] & DTQ__ALNUM)) known = dtq__at_word(s, n, d, i, best);
        return best->detector ? i : dtq__run(s, n, known, DTQ__ALNUM);
    }
    if (c == '@') dtq__email_at(s, n, from, i, best);
    else if (c == '.') dtq__at_dot(s, n, from, i, best);
    else if (c == ':') dtq__at_colon(s, n, from, i, best);
    else {
        if (c == '-' && (d & DTQ_DET_PEM)) dtq__consider(best, i, dtq__pem(s, n, i), DTQ_DET_PEM);
        if (!best->detector && (d & DTQ_DET_APIKEY) && i > from) dtq__at_key_punct(s, n, from, i, best);
    }
    return i + 1;
}

/* The first byte at or after i that triggers one of `d`, or n: the loop a
 * string without secrets spends its time in, so it tests sixteen bytes a
 * step with SSE2, then eight (independent look-ups, no branch between). */
static size_t dtq__next_trigger(const char *s, size_t n, size_t i, unsigned d) {
    const unsigned char *u = (const unsigned char *)s;
    const unsigned char *t = dtq__trigger;
#if DTQ__SSE2
    /* A superset of the trigger bytes (- . / 0-9 : @ A B _ b) sixteen at a
     * time, each candidate then checked against the table and `d`. */
    for (; n - i >= 16; i += 16) {
        const __m128i x = _mm_loadu_si128((const __m128i *)(const void *)(u + i));
        const __m128i nums = _mm_and_si128(_mm_cmpgt_epi8(x, _mm_set1_epi8(0x2c)), _mm_cmplt_epi8(x, _mm_set1_epi8(0x3b)));
        const __m128i at_a_b = _mm_and_si128(_mm_cmpgt_epi8(x, _mm_set1_epi8(0x3f)), _mm_cmplt_epi8(x, _mm_set1_epi8(0x43)));
        const __m128i more = _mm_or_si128(_mm_cmpeq_epi8(x, _mm_set1_epi8('_')), _mm_cmpeq_epi8(x, _mm_set1_epi8('b')));
        unsigned bits = (unsigned)_mm_movemask_epi8(_mm_or_si128(_mm_or_si128(nums, at_a_b), more));
        for (; bits; bits &= bits - 1) {
            size_t k = i + (unsigned)__builtin_ctz(bits);
            if (t[u[k]] & d) return k;
        }
    }
#endif
    for (; n - i >= 8; i += 8)
        if ((t[u[i]] | t[u[i + 1]] | t[u[i + 2]] | t[u[i + 3]] | t[u[i + 4]] | t[u[i + 5]] | t[u[i + 6]] | t[u[i + 7]]) & d) {
            while (!(t[u[i]] & d)) i++;   /* one of these eight */
            return i;
        }
    while (i < n && !(t[u[i]] & d)) i++;
    return i;
}

/* Finds the next secret at or after `from` in s[0..n) among `detectors`
 * (DTQ_DET_ bits); returns 1 and fills m, or 0. Calling again with from =
 * m->start + m->len gives the next one: never overlapping, always later.
 * Reads s only (it need not be NUL-terminated); no state between calls. */
static int dtq__find_secret(const char *s, size_t n, size_t from, unsigned detectors, dtq__match *m) {
    dtq__match best;
    size_t i = from, end;
    unsigned d = detectors & DTQ_DET_ALL;
    if (!s || !m || !d || from >= n) return 0;
    best.start = best.len = 0;
    best.detector = 0;
    for (;;) {
        i = dtq__next_trigger(s, n, i, d);
        if (i >= n) return 0;
        i = dtq__at_trigger(s, n, from, d, i, &best);
        if (best.detector) break;
    }
    /* A number or key glued to "@domain" is the local part of an address. */
    end = best.start + best.len;
    if ((d & DTQ_DET_EMAIL) && best.detector != DTQ_DET_EMAIL && dtq__is_char(s, n, end, '@'))
        dtq__email_at(s, n, from, end, &best);
    *m = best;
    return 1;
}

/* ---- detector names ------------------------------------------------------- */

static const char *const dtq__detector_names[8] = {"email", "ipv4", "ipv6", "bearer", "jwt", "apikey", "pem", "card"};

/* The name of one DTQ_DET_ bit as written in `redact` ("email", ...), or
 * NULL for anything else. */
static const char *dtq__detector_name(int detector) {
    int k;
    for (k = 0; k < 8; k++)
        if (detector == 1 << k) return dtq__detector_names[k];
    return NULL;
}

/* The DTQ_DET_ bit of a detector name (exact, lower case), or 0. Goes
 * through dtq__detector_name, so a user of either uses both (no unused
 * static function in the host's build). */
static int dtq__detector_parse(const char *name, size_t len) {
    int bit;
    for (bit = 1; bit <= DTQ_DET_CARD && name; bit <<= 1) {
        const char *known = dtq__detector_name(bit);
        if (strlen(known) == len && memcmp(known, name, len) == 0) return bit;
    }
    return 0;
}

/* ---- SipHash-2-4 ---------------------------------------------------------- */

/* SipHash-2-4 as described by Aumasson and Bernstein ("SipHash: a fast
 * short-input PRF", 2012): 64-bit output, written little-endian to out like
 * the reference implementation. Keyed so that equal secrets still correlate
 * in the output without the hash being reversible by guessing. */
static uint64_t dtq__rotl(uint64_t x, int b) { return (x << b) | (x >> (64 - b)); }

static uint64_t dtq__load64(const unsigned char *p) {
    uint64_t v = 0;
    int k;
    for (k = 7; k >= 0; k--) v = (v << 8) | p[k];
    return v;
}

static void dtq__sipround(uint64_t v[4]) {
    v[0] += v[1]; v[1] = dtq__rotl(v[1], 13); v[1] ^= v[0]; v[0] = dtq__rotl(v[0], 32);
    v[2] += v[3]; v[3] = dtq__rotl(v[3], 16); v[3] ^= v[2];
    v[0] += v[3]; v[3] = dtq__rotl(v[3], 21); v[3] ^= v[0];
    v[2] += v[1]; v[1] = dtq__rotl(v[1], 17); v[1] ^= v[2]; v[2] = dtq__rotl(v[2], 32);
}

static void dtq__sip_absorb(uint64_t v[4], uint64_t m) {
    v[3] ^= m;
    dtq__sipround(v);
    dtq__sipround(v);
    v[0] ^= m;
}

static void dtq__siphash24(const unsigned char key[16], const void *data, size_t len, unsigned char out[8]) {
    const unsigned char *p = (const unsigned char *)data;
    uint64_t k0 = dtq__load64(key), k1 = dtq__load64(key + 8), v[4], last = (uint64_t)len << 56, h;
    size_t off = 0, k;
    v[0] = k0 ^ 0x736f6d6570736575ull;
    v[1] = k1 ^ 0x646f72616e646f6dull;
    v[2] = k0 ^ 0x6c7967656e657261ull;
    v[3] = k1 ^ 0x7465646279746573ull;
    for (; len - off >= 8; off += 8) dtq__sip_absorb(v, dtq__load64(p + off));
    for (k = 0; off + k < len; k++) last |= (uint64_t)p[off + k] << (8 * k);
    dtq__sip_absorb(v, last);
    v[2] ^= 0xff;
    dtq__sipround(v);
    dtq__sipround(v);
    dtq__sipround(v);
    dtq__sipround(v);
    h = v[0] ^ v[1] ^ v[2] ^ v[3];
    for (k = 0; k < 8; k++) out[k] = (unsigned char)(h >> (8 * k));
}
#endif /* detectors */

#if defined(DT_QUERY_IMPLEMENTATION) && !defined(DT_QUERY__IMPLEMENTED)
#define DT_QUERY__IMPLEMENTED

/* Under DT_STATIC the API is static, and a program may use none of it. */
#if defined(__GNUC__) || defined(__clang__)
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wunused-function"
#endif

#include <string.h>


/* >>model ------------------------------------------------------------------
 * A query is a list of operators run in order on each event it subscribed
 * to. Memory for all of it, summarize windows included, is taken at deploy
 * from the program's arena: nothing is allocated per event. */
enum {
    DTQ__WHERE, DTQ__DROP, DTQ__PROJECT, DTQ__AWAY, DTQ__RENAME, DTQ__EXTEND,
    DTQ__REDACT, DTQ__SAMPLE, DTQ__THROTTLE, DTQ__SUMMARIZE
};

typedef struct dtq__redact_op {
    unsigned detectors;
    dt_str *fields;              /* NULL: every string field */
    uint32_t nfields;
    dt_str marker;
    int hashed;
    unsigned char key[16];
} dtq__redact_op;

typedef struct dtq__sample_op {
    uint64_t threshold;          /* keep when the 64-bit hash is below it */
    uint64_t seed;
    dt_expr *by;
    dt_shards *shards;           /* per-thread counters when there is no key */
    uint64_t *counters;          /* one cache line per shard */
} dtq__sample_op;

/* Throttle: per key, a count in the current fixed window. */
typedef struct dtq__throttle_slot {
    uint64_t hash;               /* 0: free */
    int64_t window;
    uint64_t count;
} dtq__throttle_slot;

typedef struct dtq__throttle_op {
    uint64_t limit;
    int64_t per;
    dt_expr *by;
    uint32_t cap;                /* keys; slot `cap` is the overflow key */
    dtq__throttle_slot *slots;
} dtq__throttle_op;

typedef struct dtq__summarize dtq__summarize;

typedef struct dtq__op {
    int kind;
    dt_token at;
    dt_expr *expr;               /* where */
    dt_str *names;               /* project, project-away, project-rename (new), extend */
    dt_str *from;                /* project-rename (old) */
    dt_expr **exprs;             /* extend */
    uint32_t n;
    dtq__redact_op *redact;
    dtq__sample_op *sample;
    dtq__throttle_op *throttle;
    dtq__summarize *summarize;
} dtq__op;

typedef struct dtq__query {
    dt_str name;
    dtq__op *ops;
    uint32_t nops;
} dtq__query;

/* >>numbers ------------------------------------------------------------------
 * A natural logarithm of x >= 1 without libm (firmware builds have none):
 * range reduction by powers of two into [1, 2], then the atanh series. Its
 * one caller passes registers / zero registers, which is at least 1. */
static double dtq__ln(double x) {
    static const double ln2 = 0.69314718055994530942;
    double k = 0, y, y2, term, sum = 0;
    int i;
    while (x > 2) { x *= 0.5; k += 1; }
    y = (x - 1) / (x + 1);
    y2 = y * y;
    term = y;
    for (i = 1; i < 40; i += 2) { sum += term / i; term *= y2; }
    return 2 * sum + k * ln2;
}

static uint64_t dtq__mix(uint64_t h) {           /* splitmix64 finaliser */
    h ^= h >> 30; h *= 0xbf58476d1ce4e5b9ull;
    h ^= h >> 27; h *= 0x94d049bb133111ebull;
    return h ^ (h >> 31);
}

static uint64_t dtq__fnv(uint64_t h, const void *p, size_t n) {
    const unsigned char *s = (const unsigned char *)p;
    size_t i;
    for (i = 0; i < n; i++) { h ^= s[i]; h *= 0x100000001b3ull; }
    return h;
}

/* Numbers hash by their bits and type in one mixing step; strings byte by
 * byte. Stable across runs (sampling decisions and dcount depend on it). */
static uint64_t dtq__value_hash(uint64_t h, dt_value v) {
    uint64_t u = v.as.u64;
    if (v.type == DT_TYPE_STR || v.type == DT_TYPE_BYTES) return dtq__fnv(h ^ (uint64_t)v.type, v.as.str.ptr, v.as.str.len);
    if (v.type == DT_TYPE_BOOL) u = (uint64_t)v.as.b;
    if (v.type == DT_TYPE_NULL) u = 0;
    return dtq__mix(h ^ dtq__mix(u + ((uint64_t)v.type << 56) + 0x9e3779b97f4a7c15ull));
}

/* The start of the fixed window of length `per` that holds ts; an event
 * exactly on a boundary starts the next window. Windows stay inside
 * [INT64_MIN + 1, INT64_MAX - per], so start + per never overflows and no
 * window starts at INT64_MIN, which means "no window yet" (DTQ__NO_WINDOW). */
static int64_t dtq__window_of(int64_t ts, int64_t per) {
    int64_t r = ts % per, w = ts - r;
    if (r < 0) w = w > INT64_MIN + per ? w - per : INT64_MIN + 1;
    return w > INT64_MAX - per ? INT64_MAX - per : w;
}

static int dtq__num(dt_value v, double *out) {
    switch (v.type) {
    case DT_TYPE_I64: *out = (double)v.as.i64; return 1;
    case DT_TYPE_U64: *out = (double)v.as.u64; return 1;
    case DT_TYPE_F64: *out = v.as.f64; return 1;
    case DT_TYPE_BOOL: *out = v.as.b; return 1;
    default: return 0;
    }
}

/* >>summarize: the model --------------------------------------------------------
 * Each summarize keeps, per shard, a table of groups for the open window;
 * threads map to shards, so emitting threads do not contend. The window
 * closes (on tick, on flush, or when an event of a later window arrives):
 * shards are merged into one table and each group leaves as metric points.
 * Every table has room for `groups` groups plus one overflow group, so
 * memory is fixed at deploy whatever the keys. */
enum { DTQ__COUNT, DTQ__COUNTIF, DTQ__SUM, DTQ__MIN, DTQ__MAX, DTQ__AVG, DTQ__DCOUNT, DTQ__PCT };

#define DTQ__SUBS 32             /* sketch sub-buckets per octave: relative error <= 1/64 */
#define DTQ__OCTAVES 16          /* octaves a sketch spans below its largest value */
#define DTQ__BINS (DTQ__SUBS * DTQ__OCTAVES)
#define DTQ__HLL_BITS 10         /* dcount: 1024 registers, standard error 3.3 % */
#define DTQ__HLL (1u << DTQ__HLL_BITS)
#define DTQ__NO_WINDOW INT64_MIN

#if !DT_NO_THREADS && (defined(__GNUC__) || defined(__clang__))
#define DTQ__LOAD(p) __atomic_load_n((p), __ATOMIC_ACQUIRE)
#define DTQ__STORE(p, v) __atomic_store_n((p), (v), __ATOMIC_RELEASE)
static int dtq__claim(uint32_t *flag) {
    uint32_t free_ = 0;
    return __atomic_compare_exchange_n(flag, &free_, 1u, 0, __ATOMIC_ACQUIRE, __ATOMIC_RELAXED);
}
static uint64_t dtq__next(uint64_t *n) { return __atomic_fetch_add(n, 1u, __ATOMIC_RELAXED); }
#else
#define DTQ__LOAD(p) (*(p))
#define DTQ__STORE(p, v) (*(p) = (v))
static int dtq__claim(uint32_t *flag) { if (*flag) return 0; *flag = 1; return 1; }
static uint64_t dtq__next(uint64_t *n) { return (*n)++; }
#endif

typedef struct dtq__agg {
    int fn;
    dt_expr *arg;
    double q;                    /* percentile, 0..100 */
    dt_str metric;               /* the metric's name */
    int32_t extra;               /* index of its sketch or HLL in a group, -1 none */
} dtq__agg;

typedef struct dtq__key {
    dt_str label;
    dt_expr *expr;
} dtq__key;

typedef struct dtq__acc {
    uint64_t n;                  /* events (count), true (countif) or numeric values seen */
    uint64_t nmm;                /* values min and max saw: all but NaN */
    int64_t isum;
    double fsum, min, max;
    int floaty;                  /* the sum went to f64: a float value or an i64 overflow */
    int nonint;                  /* a non-integer value was seen (min/max/avg print as floats) */
} dtq__acc;

typedef struct dtq__sketch {
    int32_t base;                /* lowest octave in the window */
    uint32_t nonpos;             /* values <= 0 */
    uint32_t posinf;             /* +inf values: above every bin */
    uint64_t count;
    uint32_t bins[DTQ__BINS];
} dtq__sketch;

typedef struct dtq__table {
    uint32_t cap, ngroups;       /* groups in use, overflow not included */
    uint32_t index_mask;
    uint32_t *index;             /* open addressing: group + 1, 0 free */
    uint64_t *hash;
    dt_value *keys;              /* (cap + 1) x nkeys */
    char *keytext;               /* (cap + 1) x nkeys x DT_MAX_KEY */
    dtq__acc *acc;               /* (cap + 1) x naggs */
    dtq__sketch *sketch;         /* (cap + 1) x nsketch */
    uint8_t *hll;                /* (cap + 1) x nhll x DTQ__HLL */
    int overflow_used;
    uint64_t overflowed;         /* events that went to the overflow group */
} dtq__table;

struct dtq__summarize {
    dtq__agg aggs[DTQ_MAX_AGGS];
    uint32_t naggs, nsketch, nhll;
    dtq__key keys[DTQ_MAX_KEYS];
    uint32_t nkeys;
    int64_t every;
    uint32_t groups;
    int keep;
    int64_t window;              /* start of the open window; DTQ__NO_WINDOW before the first event */
    uint32_t closing;            /* atomic: a thread is closing the window (dtq__claim) */
    dt_shards *shards;
    dtq__table *tables;          /* one per shard */
    dtq__table out;              /* shards merged at close */
};

/* >>summarize: compile ------------------------------------------------------------ */
static const struct { const char *name; int fn; int args; } dtq__agg_names[] = {
    {"count", DTQ__COUNT, 0}, {"countif", DTQ__COUNTIF, 1}, {"sum", DTQ__SUM, 1}, {"min", DTQ__MIN, 1},
    {"max", DTQ__MAX, 1}, {"avg", DTQ__AVG, 1}, {"dcount", DTQ__DCOUNT, 1}, {"percentile", DTQ__PCT, 2},
    {"p50", DTQ__PCT, 1}, {"p90", DTQ__PCT, 1}, {"p95", DTQ__PCT, 1}, {"p99", DTQ__PCT, 1}, {"p999", DTQ__PCT, 1}
};

static dt_str dtq__concat(dt_compiler *c, dt_str a, const char *sep, dt_str b) {
    size_t n = a.len + strlen(sep) + b.len;
    char *p = (char *)dt_compiler_alloc(c, n + 1);
    if (!p) return dt_strn("", 0);
    memcpy(p, a.ptr, a.len);
    memcpy(p + a.len, sep, strlen(sep));
    memcpy(p + a.len + strlen(sep), b.ptr, b.len);
    return dt_strn(p, n);
}

static double dtq__pct_of(dt_str fn) {
    if (fn.len == 4 && memcmp(fn.ptr, "p999", 4) == 0) return 99.9;
    return (double)((fn.ptr[1] - '0') * 10 + (fn.ptr[2] - '0'));
}

static int dtq__compile_agg(dt_compiler *c, dtq__summarize *s, dt_str query) {
    dtq__agg *a = &s->aggs[s->naggs];
    dt_token t = dt_next(c);
    dt_str alias = dt_strn(NULL, 0);
    size_t i;
    if (t.kind == DT_TOK_IDENT && dt_is(dt_peek(c), "=")) { alias = t.text; dt_next(c); t = dt_next(c); }
    for (i = 0; i < sizeof dtq__agg_names / sizeof dtq__agg_names[0]; i++)
        if (dt_is(&t, dtq__agg_names[i].name)) break;
    if (t.kind != DT_TOK_IDENT || i == sizeof dtq__agg_names / sizeof dtq__agg_names[0])
        return dt_compile_error(c, &t, DT_ERR_UNKNOWN, "unknown aggregate",
                                "aggregates: count(), countif(p), sum(x), min(x), max(x), avg(x), dcount(x), "
                                "p50(x), p90(x), p95(x), p99(x), p999(x), percentile(x, q)");
    a->fn = dtq__agg_names[i].fn;
    a->extra = -1;
    if (dt_expect(c, "(", "aggregates are calls: count()")) return DT_ERR_SYNTAX;
    if (dtq__agg_names[i].args > 0 && (a->fn == DTQ__COUNTIF ? dt_parse_condition(c, &a->arg) : dt_parse_expr(c, &a->arg)))
        return DT_ERR_SYNTAX;
    if (a->fn == DTQ__PCT && dtq__agg_names[i].args == 1) a->q = dtq__pct_of(t.text);
    if (dtq__agg_names[i].args == 2) {
        const dt_token *qt;
        if (dt_expect(c, ",", "write percentile(x, 99)")) return DT_ERR_SYNTAX;
        qt = dt_peek(c);
        if (qt->kind != DT_TOK_INT && qt->kind != DT_TOK_FLOAT)
            return dt_compile_error(c, qt, DT_ERR_SYNTAX, "expected a percentile from 0 to 100", NULL);
        a->q = qt->kind == DT_TOK_INT ? (double)qt->i : qt->f;
        /* a literal is never negative: '-' is an operator token */
        if (a->q > 100) return dt_compile_error(c, qt, DT_ERR_INVALID, "a percentile is from 0 to 100", NULL);
        dt_next(c);
    }
    if (dt_expect(c, ")", "close the aggregate's arguments")) return DT_ERR_SYNTAX;
    if (a->fn == DTQ__PCT) a->extra = (int32_t)s->nsketch++;
    if (a->fn == DTQ__DCOUNT) a->extra = (int32_t)s->nhll++;
    a->metric = alias.len ? dt_compiler_strdup(c, alias) : dtq__concat(c, query, ".", t.text);
    for (i = 0; i < s->naggs; i++)
        if (s->aggs[i].metric.len == a->metric.len && memcmp(s->aggs[i].metric.ptr, a->metric.ptr, a->metric.len) == 0)
            return dt_compile_error(c, &t, DT_ERR_EXISTS, "two aggregates would give metrics of one name",
                                    "name them: total = sum(x), peak = max(x)");
    s->naggs++;
    return DT_OK;
}

static int dtq__compile_key(dt_compiler *c, dtq__summarize *s) {
    dtq__key *k = &s->keys[s->nkeys];
    const dt_token *t = dt_peek(c);
    dt_token first = *t;
    char keyn[4] = {'k', 'e', 'y', (char)('1' + s->nkeys)};     /* lives until copied below */
    if (t->kind == DT_TOK_IDENT && dt_is(dt_peek2(c), "=")) { k->label = t->text; dt_next(c); dt_next(c); first = *dt_peek(c); }
    if (dt_parse_expr(c, &k->expr)) return DT_ERR_SYNTAX;
    /* unnamed: the key's first name (`route`, `bin(ts, 1m)` is "bin"), else keyN */
    if (!k->label.len) k->label = first.kind == DT_TOK_IDENT ? first.text : dt_strn(keyn, 4);
    k->label = dt_compiler_strdup(c, k->label);
    s->nkeys++;
    return DT_OK;
}

static int dtq__table_init(dt_compiler *c, const dtq__summarize *s, dtq__table *t) {
    uint32_t n = s->groups + 1u, cap = 1;
    while (cap < n * 2u) cap <<= 1;
    t->cap = s->groups;
    t->index_mask = cap - 1u;
    t->index = (uint32_t *)dt_compiler_alloc(c, sizeof(uint32_t) * cap);
    t->hash = (uint64_t *)dt_compiler_alloc(c, sizeof(uint64_t) * n);
    t->keys = (dt_value *)dt_compiler_alloc(c, sizeof(dt_value) * n * (s->nkeys ? s->nkeys : 1));
    t->keytext = (char *)dt_compiler_alloc(c, (size_t)n * (s->nkeys ? s->nkeys : 1) * DT_MAX_KEY);
    t->acc = (dtq__acc *)dt_compiler_alloc(c, sizeof(dtq__acc) * n * s->naggs);
    if (s->nsketch) t->sketch = (dtq__sketch *)dt_compiler_alloc(c, sizeof(dtq__sketch) * n * s->nsketch);
    if (s->nhll) t->hll = (uint8_t *)dt_compiler_alloc(c, (size_t)n * s->nhll * DTQ__HLL);
    if (!t->index || !t->hash || !t->keys || !t->keytext || !t->acc || (s->nsketch && !t->sketch) || (s->nhll && !t->hll))
        return DT_ERR_NOMEM;
    return DT_OK;
}

static int dtq__compile_summarize(dt_compiler *c, dt_block *b, dtq__op *op) {
    dtq__summarize *s = (dtq__summarize *)dt_compiler_alloc(c, sizeof *s);
    int64_t groups = DTQ_DEFAULT_GROUPS;
    uint32_t i;
    if (!s) return DT_ERR_NOMEM;
    op->summarize = s;
    s->every = 60000000000LL;
    s->window = DTQ__NO_WINDOW;
    do {
        if (s->naggs == DTQ_MAX_AGGS) return dt_compile_error(c, dt_peek(c), DT_ERR_LIMIT, "too many aggregates (at most 16)", NULL);
        if (dtq__compile_agg(c, s, dt_block_name(b))) return DT_ERR_SYNTAX;
    } while (dt_accept(c, ","));
    if (dt_accept(c, "by")) {
        do {
            if (s->nkeys == DTQ_MAX_KEYS) return dt_compile_error(c, dt_peek(c), DT_ERR_LIMIT, "too many keys (at most 8)", NULL);
            if (dtq__compile_key(c, s)) return DT_ERR_SYNTAX;
        } while (dt_accept(c, ","));
    }
    if (dt_accept(c, "every")) {
        dt_token at = *dt_peek(c);               /* an error points at the duration */
        if (dt_expect_duration(c, &s->every)) return DT_ERR_SYNTAX;
        if (s->every <= 0) return dt_compile_error(c, &at, DT_ERR_INVALID, "a window must be longer than 0", "write every 1m");
    }
    if (dt_accept(c, "groups") && dt_expect_int(c, 1, DTQ_MAX_GROUPS, &groups, "the most groups to keep")) return DT_ERR_SYNTAX;
    s->keep = dt_accept(c, "keep");
    s->groups = s->nkeys ? (uint32_t)groups : 1u;
    if (!(s->shards = dt_compiler_shards(c, b, DTQ_SHARDS))) return DT_ERR_NOMEM;
    s->tables = (dtq__table *)dt_compiler_alloc(c, sizeof(dtq__table) * dt_shards_count(s->shards));
    if (!s->tables) return DT_ERR_NOMEM;
    for (i = 0; i < dt_shards_count(s->shards); i++) if (dtq__table_init(c, s, &s->tables[i])) return DT_ERR_NOMEM;
    if (dtq__table_init(c, s, &s->out)) return DT_ERR_NOMEM;
    return DT_OK;
}

/* >>summarize: groups ----------------------------------------------------------------- */
static int dtq__key_eq(dt_value a, dt_value b) {
    if (a.type != b.type) return 0;
    if (a.type == DT_TYPE_STR || a.type == DT_TYPE_BYTES)
        return a.as.str.len == b.as.str.len && (a.as.str.len == 0 || memcmp(a.as.str.ptr, b.as.str.ptr, a.as.str.len) == 0);
    if (a.type == DT_TYPE_BOOL) return a.as.b == b.as.b;
    return a.as.u64 == b.as.u64;
}

/* Keys longer than DT_MAX_KEY bytes are kept truncated (the label shows the
 * first DT_MAX_KEY bytes); the hash of the whole key still tells them apart. */
static void dtq__key_store(dtq__table *t, const dtq__summarize *s, uint32_t g, const dt_value *keys) {
    uint32_t i;
    for (i = 0; i < s->nkeys; i++) {
        dt_value v = keys[i];
        if (v.type == DT_TYPE_STR || v.type == DT_TYPE_BYTES) {
            char *dst = t->keytext + ((size_t)g * s->nkeys + i) * DT_MAX_KEY;
            size_t n = v.as.str.len < DT_MAX_KEY ? v.as.str.len : DT_MAX_KEY;
            if (n) memcpy(dst, v.as.str.ptr, n);
            v.as.str = dt_strn(dst, n);
        }
        t->keys[(size_t)g * s->nkeys + i] = v;
    }
}

static int dtq__group_keys_eq(const dtq__table *t, const dtq__summarize *s, uint32_t g, const dt_value *keys) {
    uint32_t i;
    for (i = 0; i < s->nkeys; i++) {
        dt_value v = keys[i];
        if ((v.type == DT_TYPE_STR || v.type == DT_TYPE_BYTES) && v.as.str.len > DT_MAX_KEY) v.as.str.len = DT_MAX_KEY;
        if (!dtq__key_eq(t->keys[(size_t)g * s->nkeys + i], v)) return 0;
    }
    return 1;
}

static void dtq__group_reset(dtq__table *t, const dtq__summarize *s, uint32_t g) {
    uint32_t i;
    for (i = 0; i < s->naggs; i++) memset(&t->acc[(size_t)g * s->naggs + i], 0, sizeof(dtq__acc));
    for (i = 0; i < s->nsketch; i++) {
        dtq__sketch *k = &t->sketch[(size_t)g * s->nsketch + i];
        k->count = 0; k->nonpos = 0; k->posinf = 0; k->base = 0;
        memset(k->bins, 0, sizeof k->bins);
    }
    if (s->nhll) memset(t->hll + (size_t)g * s->nhll * DTQ__HLL, 0, (size_t)s->nhll * DTQ__HLL);
}

/* The group of these keys, created when there is room; past the bound, the
 * overflow group (index cap), so totals are conserved. */
static uint32_t dtq__group_find(dtq__table *t, const dtq__summarize *s, uint64_t h, const dt_value *keys, int *overflow) {
    uint32_t k = (uint32_t)h & t->index_mask, g;
    *overflow = 0;
    for (; t->index[k]; k = (k + 1) & t->index_mask) {
        g = t->index[k] - 1u;
        if (t->hash[g] == h && dtq__group_keys_eq(t, s, g, keys)) return g;
    }
    if (t->ngroups == t->cap) {
        *overflow = 1;
        if (!t->overflow_used) { t->overflow_used = 1; dtq__group_reset(t, s, t->cap); }
        return t->cap;
    }
    g = t->ngroups++;
    t->index[k] = g + 1u;
    t->hash[g] = h;
    dtq__key_store(t, s, g, keys);
    dtq__group_reset(t, s, g);
    return g;
}

static void dtq__table_clear(dtq__table *t, const dtq__summarize *s) {
    (void)s;
    memset(t->index, 0, sizeof(uint32_t) * (t->index_mask + 1u));
    t->ngroups = 0;
    t->overflow_used = 0;
    t->overflowed = 0;
}

/* >>summarize: accumulators ------------------------------------------------------------ */
static void dtq__acc_value(dtq__acc *a, dt_value v) {
    double f;
    if (!dtq__num(v, &f)) return;
    if (f != f) {                                /* NaN: the sum becomes NaN; min and max ignore it */
        if (!a->floaty) { a->floaty = 1; a->fsum = (double)a->isum; }
        a->n++; a->nonint = 1; a->fsum += f;
        return;
    }
    if (a->nmm == 0 || f < a->min) a->min = f;
    if (a->nmm == 0 || f > a->max) a->max = f;
    a->nmm++;
    a->n++;
    if (v.type == DT_TYPE_F64) a->nonint = 1;
    if (!a->floaty && (v.type == DT_TYPE_I64 || (v.type == DT_TYPE_U64 && v.as.u64 <= (uint64_t)INT64_MAX) || v.type == DT_TYPE_BOOL)) {
        int64_t i = v.type == DT_TYPE_BOOL ? v.as.b : v.as.i64;
        if ((i > 0 && a->isum > INT64_MAX - i) || (i < 0 && a->isum < INT64_MIN - i)) {
            a->floaty = 1;                       /* i64 overflow: continue in f64 */
            a->fsum = (double)a->isum + (double)i;
        } else a->isum += i;
        return;
    }
    if (!a->floaty) { a->floaty = 1; a->fsum = (double)a->isum; }
    a->fsum += f;
}

static void dtq__acc_merge(dtq__acc *d, const dtq__acc *s) {
    if (!s->n) return;
    if (s->nmm && (!d->nmm || s->min < d->min)) d->min = s->min;
    if (s->nmm && (!d->nmm || s->max > d->max)) d->max = s->max;
    d->nmm += s->nmm;
    d->nonint |= s->nonint;
    if (!d->floaty && !s->floaty &&
        !((s->isum > 0 && d->isum > INT64_MAX - s->isum) || (s->isum < 0 && d->isum < INT64_MIN - s->isum))) {
        d->isum += s->isum;
    } else {
        double a = d->floaty ? d->fsum : (double)d->isum, b = s->floaty ? s->fsum : (double)s->isum;
        d->floaty = 1;
        d->fsum = a + b;
    }
    d->n += s->n;
}

static double dtq__acc_sum(const dtq__acc *a) { return a->floaty ? a->fsum : (double)a->isum; }

/* Sketch: log-linear buckets, 32 per power of two, spanning the 16 octaves
 * below the largest value seen. A bucket is at most 1/32 of its lower bound
 * wide, so its midpoint is within 1/64 (1.6 %) of any value in it. Values
 * more than 2^16 times smaller than the largest fall into the lowest bucket. */
static void dtq__octave(double f, int32_t *oct, uint32_t *sub) {
    uint64_t bits;
    memcpy(&bits, &f, 8);
    *oct = (int32_t)((bits >> 52) & 0x7ff) - 1023;
    *sub = (uint32_t)((bits >> 47) & 31u);
}

static void dtq__sketch_shift(dtq__sketch *k, int32_t base) {
    int32_t by = base - k->base;
    uint32_t i, drop = by >= DTQ__OCTAVES ? DTQ__BINS : (uint32_t)by * DTQ__SUBS;
    uint64_t low = 0;
    if (by <= 0) return;
    for (i = 0; i < drop && i < DTQ__BINS; i++) low += k->bins[i];
    memmove(k->bins, k->bins + drop, sizeof(uint32_t) * (DTQ__BINS - drop));
    memset(k->bins + (DTQ__BINS - drop), 0, sizeof(uint32_t) * drop);
    k->bins[0] += (uint32_t)low;
    k->base = base;
}

static void dtq__sketch_add(dtq__sketch *k, double f) {
    int32_t oct;
    uint32_t sub, bin;
    if (f != f) return;
    if (!(f > 0)) { k->count++; k->nonpos++; return; }
    if (f > 1.7976931348623157e308) { k->count++; k->posinf++; return; }
    dtq__octave(f, &oct, &sub);
    if (k->count == k->nonpos + k->posinf) k->base = oct - (DTQ__OCTAVES - 1);   /* the first finite positive value */
    k->count++;
    if (oct >= k->base + DTQ__OCTAVES) dtq__sketch_shift(k, oct - (DTQ__OCTAVES - 1));
    bin = oct < k->base ? 0u : (uint32_t)(oct - k->base) * DTQ__SUBS + sub;
    k->bins[bin]++;
}

static double dtq__bin_mid(const dtq__sketch *k, uint32_t bin) {
    int32_t oct = k->base + (int32_t)(bin / DTQ__SUBS);
    double scale = 1, v;
    int32_t i;
    for (i = 0; i < (oct < 0 ? -oct : oct); i++) scale *= 2;
    if (oct < 0) scale = 1 / scale;
    v = scale * (1.0 + ((double)(bin % DTQ__SUBS) + 0.5) / DTQ__SUBS);
    return v;
}

static void dtq__sketch_merge(dtq__sketch *d, const dtq__sketch *s) {
    uint32_t i;
    uint64_t pos = s->count - s->nonpos - s->posinf, dpos = d->count - d->nonpos - d->posinf;
    if (!s->count) return;
    if (pos) {
        if (!dpos) { d->base = s->base; memcpy(d->bins, s->bins, sizeof d->bins); }
        else {
            dtq__sketch tmp = *s;
            if (tmp.base > d->base) dtq__sketch_shift(d, tmp.base);
            else dtq__sketch_shift(&tmp, d->base);
            for (i = 0; i < DTQ__BINS; i++) d->bins[i] += tmp.bins[i];
        }
    }
    d->nonpos += s->nonpos;
    d->posinf += s->posinf;
    d->count += s->count;
}

/* Nearest-rank percentile, clamped to the exact min and max. Called only
 * for a group whose min and max saw a value, so the sketch holds at least
 * one; values <= 0 rank below every bin and +inf above, so the bins hold
 * any rank between them and the scan always stops at one. */
static double dtq__sketch_quantile(const dtq__sketch *k, const dtq__acc *a, double q) {
    uint64_t rank, seen;
    uint32_t i;
    double v;
    rank = (uint64_t)(q / 100.0 * (double)k->count + 0.999999999);
    if (rank < 1) rank = 1;
    if (rank <= k->nonpos) return a->min;
    if (rank > k->count - k->posinf) return a->max;
    seen = k->nonpos;
    for (i = 0; i < DTQ__BINS; i++) {
        seen += k->bins[i];
        if (seen >= rank) break;
    }
    v = dtq__bin_mid(k, i);
    if (v < a->min) v = a->min;
    if (v > a->max) v = a->max;
    return v;
}

/* HyperLogLog (Flajolet et al.) with linear counting for small sets. */
static void dtq__hll_add(uint8_t *regs, dt_value v) {
    uint64_t h = dtq__mix(dtq__value_hash(0x84222325cbf29ce4ull, v));
    uint32_t idx = (uint32_t)(h >> (64 - DTQ__HLL_BITS));
    uint64_t rest = h << DTQ__HLL_BITS;
    uint8_t rho = 1;
    while (rho <= 64 - DTQ__HLL_BITS && !(rest & 0x8000000000000000ull)) { rho++; rest <<= 1; }
    if (rho > regs[idx]) regs[idx] = rho;
}

static double dtq__hll_estimate(const uint8_t *regs) {
    double m = DTQ__HLL, sum = 0, e;
    uint32_t i, zeros = 0;
    for (i = 0; i < DTQ__HLL; i++) {
        sum += 1.0 / (double)((uint64_t)1 << regs[i]);
        zeros += regs[i] == 0;
    }
    e = (0.7213 / (1.0 + 1.079 / m)) * m * m / sum;
    if (e <= 2.5 * m && zeros) e = m * dtq__ln(m / zeros);
    return e;
}

static void dtq__group_add(dtq__table *t, const dtq__summarize *s, uint32_t g, const dt_value *vals) {
    uint32_t i;
    for (i = 0; i < s->naggs; i++) {
        const dtq__agg *a = &s->aggs[i];
        dtq__acc *acc = &t->acc[(size_t)g * s->naggs + i];
        switch (a->fn) {
        case DTQ__COUNT: acc->n++; break;
        case DTQ__COUNTIF: if (vals[i].type == DT_TYPE_BOOL && vals[i].as.b) acc->n++; break;
        case DTQ__DCOUNT:
            if (vals[i].type != DT_TYPE_NULL) { acc->n++; dtq__hll_add(t->hll + ((size_t)g * s->nhll + (size_t)a->extra) * DTQ__HLL, vals[i]); }
            break;
        case DTQ__PCT: {
            double f;
            dtq__acc_value(acc, vals[i]);
            if (dtq__num(vals[i], &f)) dtq__sketch_add(&t->sketch[(size_t)g * s->nsketch + (size_t)a->extra], f);
            break;
        }
        default: dtq__acc_value(acc, vals[i]); break;
        }
    }
}

static void dtq__group_merge(dtq__table *d, uint32_t dg, const dtq__table *t, uint32_t g, const dtq__summarize *s) {
    uint32_t i, r;
    for (i = 0; i < s->naggs; i++) {
        dtq__acc *da = &d->acc[(size_t)dg * s->naggs + i];
        const dtq__acc *sa = &t->acc[(size_t)g * s->naggs + i];
        if (s->aggs[i].fn == DTQ__COUNT || s->aggs[i].fn == DTQ__COUNTIF || s->aggs[i].fn == DTQ__DCOUNT) da->n += sa->n;
        else dtq__acc_merge(da, sa);
    }
    for (i = 0; i < s->nsketch; i++)
        dtq__sketch_merge(&d->sketch[(size_t)dg * s->nsketch + i], &t->sketch[(size_t)g * s->nsketch + i]);
    for (i = 0; i < s->nhll; i++) {
        uint8_t *dr = d->hll + ((size_t)dg * s->nhll + i) * DTQ__HLL;
        const uint8_t *sr = t->hll + ((size_t)g * s->nhll + i) * DTQ__HLL;
        for (r = 0; r < DTQ__HLL; r++) if (sr[r] > dr[r]) dr[r] = sr[r];
    }
}

/* Moves every group of t into d (groups past d's bound join its overflow). */
static void dtq__table_merge(dtq__table *d, dtq__table *t, const dtq__summarize *s) {
    uint32_t g;
    int over;
    for (g = 0; g < t->ngroups; g++) {
        uint32_t dg = dtq__group_find(d, s, t->hash[g], &t->keys[(size_t)g * s->nkeys], &over);
        dtq__group_merge(d, dg, t, g, s);
    }
    if (t->overflow_used) {
        if (!d->overflow_used) { d->overflow_used = 1; dtq__group_reset(d, s, d->cap); }
        dtq__group_merge(d, d->cap, t, t->cap, s);
    }
    d->overflowed += t->overflowed;
}

/* >>summarize: metric points ------------------------------------------------------------ */
static void dtq__emit_group(dt_exec *x, const dtq__summarize *s, const dtq__table *t, uint32_t g, int64_t start) {
    dt_field labels[DTQ_MAX_KEYS];
    dt_metric m;
    uint32_t i, nl = 0;
    if (g == t->cap) {
        labels[0].name = dt_cstr("dt.overflow");
        labels[0].value.type = DT_TYPE_BOOL;
        labels[0].value.as.u64 = 0;
        labels[0].value.as.b = 1;
        nl = 1;
    } else {
        for (i = 0; i < s->nkeys; i++) { labels[i].name = s->keys[i].label; labels[i].value = t->keys[(size_t)g * s->nkeys + i]; }
        nl = s->nkeys;
    }
    for (i = 0; i < s->naggs; i++) {
        const dtq__agg *a = &s->aggs[i];
        const dtq__acc *acc = &t->acc[(size_t)g * s->naggs + i];
        memset(&m, 0, sizeof m);
        m.name = a->metric;
        m.labels = labels;
        m.nlabels = nl;
        m.start_ns = start;
        m.end_ns = start + s->every;
        m.temporality = DT_DELTA;
        m.kind = DT_METRIC_GAUGE;
        switch (a->fn) {
        case DTQ__COUNT: case DTQ__COUNTIF: m.kind = DT_METRIC_COUNTER; m.value = (double)acc->n; m.is_int = 1; break;
        case DTQ__SUM: m.kind = DT_METRIC_COUNTER; m.value = dtq__acc_sum(acc); m.is_int = !acc->floaty; break;
        case DTQ__MIN: if (!acc->nmm) continue; m.value = acc->min; m.is_int = !acc->nonint; break;
        case DTQ__MAX: if (!acc->nmm) continue; m.value = acc->max; m.is_int = !acc->nonint; break;
        case DTQ__AVG: if (!acc->n) continue; m.value = dtq__acc_sum(acc) / (double)acc->n; break;
        case DTQ__DCOUNT:
            m.value = (double)(uint64_t)(dtq__hll_estimate(t->hll + ((size_t)g * s->nhll + (size_t)a->extra) * DTQ__HLL) + 0.5);
            m.is_int = 1;
            break;
        default:
            if (!acc->nmm) continue;
            m.value = dtq__sketch_quantile(&t->sketch[(size_t)g * s->nsketch + (size_t)a->extra], acc, a->q);
            break;
        }
        dt_exec_metric(x, &m);
    }
}

static void dtq__emit_table(dt_exec *x, const dtq__summarize *s, const dtq__table *t, int64_t start) {
    uint32_t g;
    for (g = 0; g < t->ngroups; g++) dtq__emit_group(x, s, t, g, start);
    if (t->overflow_used) dtq__emit_group(x, s, t, t->cap, start);
}

/* Closing a window. One thread closes at a time: it claims s->closing, and
 * no other thread ever waits for it (an event that meets a close in
 * progress counts in the open window). So no lock is held while the metric
 * sink runs, and a sink may emit into the very query it is called from.
 * The shards are merged (each under its lock) into `out`, which only the
 * closing thread touches, and emitted from there: what a sink emits lands
 * in the emptied shards, never in the table being read. */
static void dtq__close(dt_exec *x, dtq__summarize *s) {
    uint32_t i, n = dt_shards_count(s->shards);
    if (s->window == DTQ__NO_WINDOW) return;
    for (i = 0; i < n; i++) {
        dt_shard_lock(s->shards, i);
        dtq__table_merge(&s->out, &s->tables[i], s);
        dtq__table_clear(&s->tables[i], s);
        dt_shard_unlock(s->shards, i);
    }
    dtq__emit_table(x, s, &s->out, s->window);
    dtq__table_clear(&s->out, s);
}

/* Moves the open window to `window` (a later one), closing the old; left to
 * the thread already closing, if any. */
static void dtq__advance(dt_exec *x, dtq__summarize *s, int64_t window) {
    if (!dtq__claim(&s->closing)) return;
    if (s->window == DTQ__NO_WINDOW || window > s->window) {
        dtq__close(x, s);
        DTQ__STORE(&s->window, window);
    }
    DTQ__STORE(&s->closing, 0u);
}

/* >>summarize: run ------------------------------------------------------------------ */
static void dtq__summarize_event(dt_exec *x, dtq__summarize *s) {
    dt_value keys[DTQ_MAX_KEYS], vals[DTQ_MAX_AGGS];
    int64_t window = dtq__window_of(dt_exec_now(x), s->every);
    uint64_t h = 0xcbf29ce484222325ull;
    uint32_t i, sh, g;
    int over;
    dtq__table *t;
    if (window > DTQ__LOAD(&s->window)) dtq__advance(x, s, window);   /* late events count in the open window */
    for (i = 0; i < s->nkeys; i++) { keys[i] = dt_eval(x, s->keys[i].expr); h = dtq__value_hash(h, keys[i]); }
    for (i = 0; i < s->naggs; i++) { vals[i].type = DT_TYPE_NULL; vals[i].as.u64 = 0; if (s->aggs[i].arg) vals[i] = dt_eval(x, s->aggs[i].arg); }
    sh = dt_exec_shard(x, s->shards);
    t = &s->tables[sh];
    dt_shard_lock(s->shards, sh);
    g = dtq__group_find(t, s, h, keys, &over);
    if (over) t->overflowed++;
    dtq__group_add(t, s, g, vals);
    dt_shard_unlock(s->shards, sh);
    if (over) dt_exec_count_overflow(x);
    if (!s->keep) dt_exec_drop(x);
}

static void dtq__summarize_tick(dt_exec *x, dtq__summarize *s, int64_t now) {
    int64_t w = DTQ__LOAD(&s->window);
    if (w != DTQ__NO_WINDOW && now - s->every >= w) dtq__advance(x, s, dtq__window_of(now, s->every));
}

/* Emits what the open window holds so far and keeps it open: an event that
 * races with the flush lands in the same window and leaves at its close. */
static void dtq__summarize_flush(dt_exec *x, dtq__summarize *s) {
    if (!dtq__claim(&s->closing)) return;        /* a close in progress emits it */
    dtq__close(x, s);
    DTQ__STORE(&s->closing, 0u);
}

/* Same query, same definition, in the new program: its open window goes on
 * there. If the new block already moved to another window, the old one is
 * closed instead. The old program has no readers left; the new one may be
 * closing a window on another thread: wait for it (deploys may wait). */
static void dtq__summarize_carry(dtq__summarize *to, dtq__summarize *from, dt_exec *x) {
    uint32_t i, n = dt_shards_count(from->shards);
    if (from->window == DTQ__NO_WINDOW) return;
    while (!dtq__claim(&to->closing)) {}
    if (to->window != DTQ__NO_WINDOW && to->window != from->window) {
        DTQ__STORE(&to->closing, 0u);
        dtq__summarize_flush(x, from);
        return;
    }
    dt_shard_lock(to->shards, 0);
    for (i = 0; i < n; i++) { dtq__table_merge(&to->tables[0], &from->tables[i], to); dtq__table_clear(&from->tables[i], from); }
    dt_shard_unlock(to->shards, 0);
    DTQ__STORE(&to->window, from->window);
    from->window = DTQ__NO_WINDOW;
    DTQ__STORE(&to->closing, 0u);
}

/* >>compile: operator lists ------------------------------------------------- */
static int dtq__field_list(dt_compiler *c, dt_str **out, dt_str **from, uint32_t *n, int pairs) {
    dt_str names[DT_MAX_FIELDS], olds[DT_MAX_FIELDS];
    dt_token at;
    uint32_t k = 0;
    do {
        if (k == DT_MAX_FIELDS)
            return dt_compile_error(c, dt_peek(c), DT_ERR_LIMIT, "too many fields in one list (at most 64)", NULL);
        at = *dt_peek(c);
        if (dt_expect_ident(c, &names[k], "a field name")) return DT_ERR_SYNTAX;
        if (!pairs && dt_compiler_field(c, &at, names[k], NULL)) return DT_ERR_SYNTAX;
        if (pairs) {
            if (dt_expect(c, "=", "write project-rename new_name = old_name")) return DT_ERR_SYNTAX;
            at = *dt_peek(c);
            if (dt_expect_ident(c, &olds[k], "the field to rename") || dt_compiler_field(c, &at, olds[k], NULL))
                return DT_ERR_SYNTAX;
        }
        k++;
    } while (dt_accept(c, ","));
    *out = (dt_str *)dt_compiler_alloc(c, sizeof(dt_str) * k);
    if (pairs) *from = (dt_str *)dt_compiler_alloc(c, sizeof(dt_str) * k);
    if (!*out || (pairs && !*from)) return DT_ERR_NOMEM;
    memcpy(*out, names, sizeof(dt_str) * k);
    if (pairs) memcpy(*from, olds, sizeof(dt_str) * k);
    *n = k;
    return DT_OK;
}

static int dtq__extend_list(dt_compiler *c, dtq__op *op) {
    dt_str names[DT_MAX_FIELDS];
    dt_expr *exprs[DT_MAX_FIELDS];
    uint32_t k = 0;
    do {
        if (k == DT_MAX_FIELDS)
            return dt_compile_error(c, dt_peek(c), DT_ERR_LIMIT, "too many fields in one extend (at most 64)", NULL);
        if (dt_expect_ident(c, &names[k], "a field name") ||
            dt_expect(c, "=", "write extend name = expression") || dt_parse_expr(c, &exprs[k])) return DT_ERR_SYNTAX;
        k++;
    } while (dt_accept(c, ","));
    op->names = (dt_str *)dt_compiler_alloc(c, sizeof(dt_str) * k);
    op->exprs = (dt_expr **)dt_compiler_alloc(c, sizeof(dt_expr *) * k);
    if (!op->names || !op->exprs) return DT_ERR_NOMEM;
    memcpy(op->names, names, sizeof(dt_str) * k);
    memcpy(op->exprs, exprs, sizeof(dt_expr *) * k);
    op->n = k;
    return DT_OK;
}

/* >>compile: redact ----------------------------------------------------------- */
static int dtq__compile_redact(dt_compiler *c, dtq__op *op) {
    dtq__redact_op *r = (dtq__redact_op *)dt_compiler_alloc(c, sizeof *r);
    const dt_token *t;
    if (!r) return DT_ERR_NOMEM;
    op->redact = r;
    r->marker = dt_cstr("[REDACTED]");
    t = dt_peek(c);
    while (t->kind == DT_TOK_IDENT && !dt_is(t, "in") && !dt_is(t, "with")) {
        int bit = dtq__detector_parse(t->text.ptr, t->text.len);
        const dt_token *after = dt_peek2(c);
        /* an unknown name is a misspelt detector only where a detector list
         * goes on; otherwise it starts the next statement */
        if (!bit && (after->kind == DT_TOK_EOF || dt_is(after, ",") || dt_is(after, "|") || dt_is(after, "in") ||
                     dt_is(after, "with") || dt_is(after, ";")))
            return dt_compile_error(c, t, DT_ERR_UNKNOWN, "unknown detector",
                                    "detectors: email, ipv4, ipv6, bearer, jwt, apikey, pem, card");
        if (!bit) break;
        r->detectors |= (unsigned)bit;
        dt_next(c);
        if (!dt_accept(c, ",")) break;
        t = dt_peek(c);
    }
    if (!r->detectors) r->detectors = DTQ_DET_ALL;
    if (dt_accept(c, "in") && dtq__field_list(c, &r->fields, NULL, &r->nfields, 0)) return DT_ERR_SYNTAX;
    if (!dt_accept(c, "with")) return DT_OK;
    if (dt_peek(c)->kind == DT_TOK_STRING) {
        if (dt_expect_string(c, &r->marker, "a marker in quotes")) return DT_ERR_SYNTAX;
        r->marker = dt_compiler_strdup(c, r->marker);
        return DT_OK;
    }
    if (!dt_accept(c, "hash")) return dt_compile_error(c, dt_peek(c), DT_ERR_SYNTAX, "expected a marker in quotes or hash",
                                                       "write with \"***\" or with hash key \"secret\"");
    r->hashed = 1;
    if (dt_accept(c, "key")) {
        dt_str k;
        size_t i;
        if (dt_expect_string(c, &k, "a key in quotes")) return DT_ERR_SYNTAX;
        for (i = 0; i < k.len; i++) r->key[i % 16] ^= (unsigned char)k.ptr[i];   /* fold longer keys */
    }
    return DT_OK;
}

/* >>compile: sample and throttle ------------------------------------------- */
static int dtq__compile_sample(dt_compiler *c, dt_block *b, dtq__op *op) {
    dtq__sample_op *s = (dtq__sample_op *)dt_compiler_alloc(c, sizeof *s);
    dt_token first = *dt_peek(c);
    const dt_token *t = &first;
    double p;
    if (!s) return DT_ERR_NOMEM;
    op->sample = s;
    if (t->kind == DT_TOK_FLOAT || (t->kind == DT_TOK_INT && dt_is(dt_peek2(c), "in") == 0)) {
        p = t->kind == DT_TOK_FLOAT ? t->f : (double)t->i;
        if (p > 1)                               /* a literal is never negative */
            return dt_compile_error(c, t, DT_ERR_INVALID, "a sampling probability is between 0 and 1",
                                    "write sample 0.01 or sample 1 in 100");
        dt_next(c);
    } else {
        int64_t num, den;
        if (dt_expect_int(c, 0, INT64_MAX, &num, "a probability such as 0.01, or 1 in 100")) return DT_ERR_SYNTAX;
        dt_next(c);                              /* "in": an integer comes here only before it */
        if (dt_expect_int(c, 1, INT64_MAX, &den, "how many events")) return DT_ERR_SYNTAX;
        if (num > den) return dt_compile_error(c, t, DT_ERR_INVALID, "cannot keep more events than there are", NULL);
        p = (double)num / (double)den;
    }
    s->threshold = p >= 1 ? UINT64_MAX : (uint64_t)(p * 18446744073709551616.0);
    if (dt_accept(c, "by") && dt_parse_expr(c, &s->by)) return DT_ERR_SYNTAX;
    if (dt_accept(c, "seed")) {
        int64_t seed;
        if (dt_expect_int(c, 0, INT64_MAX, &seed, "a seed")) return DT_ERR_SYNTAX;
        s->seed = (uint64_t)seed;
    }
    if (!s->by) {
        s->shards = dt_compiler_shards(c, b, DT_SHARDS);
        s->counters = (uint64_t *)dt_compiler_alloc(c, 64u * dt_shards_count(s->shards));
        if (!s->shards || !s->counters) return DT_ERR_NOMEM;
    }
    return DT_OK;
}

static int dtq__compile_throttle(dt_compiler *c, dtq__op *op) {
    dtq__throttle_op *t = (dtq__throttle_op *)dt_compiler_alloc(c, sizeof *t);
    int64_t limit, keys = DTQ_DEFAULT_KEYS;
    dt_token per;
    if (!t) return DT_ERR_NOMEM;
    op->throttle = t;
    if (dt_expect_int(c, 0, INT64_MAX, &limit, "how many events pass per window") ||
        dt_expect(c, "per", "write throttle 10 per 1m")) return DT_ERR_SYNTAX;
    per = *dt_peek(c);                           /* an error points at the duration */
    if (dt_expect_duration(c, &t->per)) return DT_ERR_SYNTAX;
    if (t->per <= 0)
        return dt_compile_error(c, &per, DT_ERR_INVALID, "the throttle window must be longer than 0", "write throttle 10 per 1m");
    t->limit = (uint64_t)limit;
    if (dt_accept(c, "by") && dt_parse_expr(c, &t->by)) return DT_ERR_SYNTAX;
    if (dt_accept(c, "keys") && dt_expect_int(c, 1, DTQ_MAX_GROUPS, &keys, "the most keys to track")) return DT_ERR_SYNTAX;
    t->cap = t->by ? (uint32_t)keys : 1u;
    t->slots = (dtq__throttle_slot *)dt_compiler_alloc(c, sizeof(dtq__throttle_slot) * (t->cap + 1u));
    return t->slots ? DT_OK : DT_ERR_NOMEM;
}

/* >>compile: a query ---------------------------------------------------------- */
static int dtq__compile_op(dt_compiler *c, dt_block *b, dtq__op *op) {
    dt_token t = dt_next(c);
    op->at = t;
    if (dt_is(&t, "where")) { op->kind = DTQ__WHERE; return dt_parse_condition(c, &op->expr); }
    if (dt_is(&t, "drop")) { op->kind = DTQ__DROP; return DT_OK; }
    if (dt_is(&t, "project") && dt_is(dt_peek(c), "-") && dt_peek(c)->joined && dt_peek2(c)->joined) {
        dt_token w;
        dt_next(c);
        w = dt_next(c);
        if (dt_is(&w, "away")) { op->kind = DTQ__AWAY; return dtq__field_list(c, &op->names, NULL, &op->n, 0); }
        if (dt_is(&w, "rename")) { op->kind = DTQ__RENAME; return dtq__field_list(c, &op->names, &op->from, &op->n, 1); }
        return dt_compile_error(c, &w, DT_ERR_SYNTAX, "unknown operator", "project, project-away or project-rename");
    }
    if (dt_is(&t, "project")) { op->kind = DTQ__PROJECT; return dtq__field_list(c, &op->names, NULL, &op->n, 0); }
    if (dt_is(&t, "extend")) { op->kind = DTQ__EXTEND; return dtq__extend_list(c, op); }
    if (dt_is(&t, "redact")) { op->kind = DTQ__REDACT; return dtq__compile_redact(c, op); }
    if (dt_is(&t, "sample")) { op->kind = DTQ__SAMPLE; return dtq__compile_sample(c, b, op); }
    if (dt_is(&t, "throttle")) { op->kind = DTQ__THROTTLE; return dtq__compile_throttle(c, op); }
    if (dt_is(&t, "summarize")) { op->kind = DTQ__SUMMARIZE; return dtq__compile_summarize(c, b, op); }
    return dt_compile_error(c, &t, DT_ERR_SYNTAX, "unknown query operator",
                            "operators: where, drop, project, project-away, project-rename, extend, redact, sample, "
                            "throttle, summarize");
}

/* Appends s to the message in buf (size > 0), cut to fit. */
static size_t dtq__put(char *buf, size_t size, size_t at, dt_str s) {
    size_t n = s.len < size - 1u - at ? s.len : size - 1u - at;
    if (n) memcpy(buf + at, s.ptr, n);
    buf[at + n] = 0;
    return at + n;
}

/* The name, the character it cannot hold and what it runs on into, as
 * written (joined tokens are adjacent in the source): `project-away`. */
static int dtq__name_runs_on(dt_compiler *c, const dt_token *name, const dt_token *at) {
    dt_token end = *at;
    char msg[64], hint[256];
    size_t n, len;
    while (dt_peek(c)->joined && (dt_peek(c)->kind == DT_TOK_IDENT || dt_peek(c)->kind == DT_TOK_PUNCT ||
                                  dt_peek(c)->kind == DT_TOK_INT))
        end = dt_next(c);
    len = (size_t)(end.text.ptr + end.text.len - name->text.ptr);
    n = dtq__put(msg, sizeof msg, 0, dt_cstr("expected '|', found '"));        /* as dt_expect words it */
    n = dtq__put(msg, sizeof msg, n, at->text);
    dtq__put(msg, sizeof msg, n, dt_cstr("'"));
    n = dtq__put(hint, sizeof hint, 0, dt_cstr("'"));
    n = dtq__put(hint, sizeof hint, n, at->text);
    n = dtq__put(hint, sizeof hint, n, dt_cstr("' cannot be part of an event name: quote it, \""));
    n = dtq__put(hint, sizeof hint, n, dt_strn(name->text.ptr, len > DT_MAX_NAME ? DT_MAX_NAME : len));
    dtq__put(hint, sizeof hint, n, dt_cstr("\""));
    return dt_compile_error(c, at, DT_ERR_SYNTAX, msg, hint);
}

/* A query whose patterns are not followed by '|'. At the end of the program
 * or of the line it stops short; on the patterns' line the word there is
 * what is wrong (the lines only choose the message: statements may share
 * or span lines). `name` is the last pattern's first token. */
static int dtq__no_operator(dt_compiler *c, const dt_token *name) {
    dt_token at = *dt_peek(c);
    if (at.kind == DT_TOK_EOF || at.line != name->line)
        return dt_compile_error(c, &at, DT_ERR_SYNTAX, "a query needs at least one operator",
                                "for example: query q = LogWelcomeBanner | drop");
    if (at.joined && at.kind == DT_TOK_PUNCT && name->kind == DT_TOK_IDENT) return dtq__name_runs_on(c, name, &at);
    return dt_expect(c, "|", "patterns are separated by ',' and operators start with '|': query q = A, B | drop");
}

static int dtq__compile(dt_compiler *c, dt_block *b) {
    dtq__query *q = (dtq__query *)dt_compiler_alloc(c, sizeof *q);
    dt_pattern pats[16];
    dtq__op ops[DTQ_MAX_OPS];
    dt_token name;
    uint32_t npats = 0, i;
    if (!q) return DT_ERR_NOMEM;
    if (dt_expect_ident(c, &q->name, "a query name")) return DT_ERR_SYNTAX;
    q->name = dt_compiler_strdup(c, q->name);
    dt_block_set_name(b, q->name);
    if (dt_expect(c, "=", "write query NAME = EVENT | operator ...")) return DT_ERR_SYNTAX;
    do {
        if (npats == 16) return dt_compile_error(c, dt_peek(c), DT_ERR_LIMIT, "too many patterns (at most 16)", NULL);
        name = *dt_peek(c);
        if (dt_expect_pattern(c, &pats[npats++])) return DT_ERR_SYNTAX;
    } while (dt_accept(c, ","));
    if (!dt_is(dt_peek(c), "|")) return dtq__no_operator(c, &name);
    dt_compiler_scope(c, pats, npats);
    memset(ops, 0, sizeof ops);
    while (dt_is(dt_peek(c), "|")) {
        dt_token bar = dt_next(c);
        if (q->nops == DTQ_MAX_OPS) return dt_compile_error(c, &bar, DT_ERR_LIMIT, "too many operators in one query (at most 64)", NULL);
        if (q->nops && ops[q->nops - 1].kind == DTQ__SUMMARIZE)
            return dt_compile_error(c, &bar, DT_ERR_SYNTAX, "summarize ends a query",
                                    "write another query for what follows, or put these operators before summarize");
        if (dtq__compile_op(c, b, &ops[q->nops++])) return DT_ERR_SYNTAX;
    }
    q->ops = (dtq__op *)dt_compiler_alloc(c, sizeof(dtq__op) * q->nops);
    if (!q->ops) return DT_ERR_NOMEM;
    memcpy(q->ops, ops, sizeof(dtq__op) * q->nops);
    dt_block_set_state(b, q);
    for (i = 0; i < npats; i++) {
        /* `| drop` alone: the core drops it before anyone sees it, and a
         * call site nothing else wants is switched off */
        if (q->nops == 1 && q->ops[0].kind == DTQ__DROP && dt_compiler_drop(c, &pats[i])) continue;
        if (dt_subscribe(c, b, &pats[i], 0)) return DT_ERR_SYNTAX;
    }
    return DT_OK;
}

/* >>run: reshaping ------------------------------------------------------------ */
static int dtq__listed(const dt_str *names, uint32_t n, dt_str name) {
    uint32_t i;
    for (i = 0; i < n; i++) if (names[i].len == name.len && memcmp(names[i].ptr, name.ptr, name.len) == 0) return 1;
    return 0;
}

static void dtq__project(dt_exec *x, const dtq__op *op) {
    dt_str drop[DT_MAX_FIELDS];
    const dt_event *ev = dt_exec_event(x);
    uint32_t i, n = 0;
    for (i = 0; i < ev->nfields && n < DT_MAX_FIELDS; i++)
        if (!dtq__listed(op->names, op->n, ev->fields[i].name)) drop[n++] = ev->fields[i].name;
    for (i = 0; i < n; i++) dt_exec_remove_field(x, drop[i]);
}

static void dtq__project_away(dt_exec *x, const dtq__op *op) {
    uint32_t i;
    for (i = 0; i < op->n; i++) dt_exec_remove_field(x, op->names[i]);
}

static void dtq__rename(dt_exec *x, const dtq__op *op) {
    uint32_t i;
    for (i = 0; i < op->n; i++) {
        const dt_value *v = dt_exec_field(x, op->from[i]);
        dt_value copy;
        if (!v) continue;
        copy = *v;
        dt_exec_remove_field(x, op->from[i]);
        dt_exec_set_field(x, op->names[i], copy);
    }
}

/* A null result removes the field: extend never adds nulls. */
static void dtq__extend(dt_exec *x, const dtq__op *op) {
    uint32_t i;
    for (i = 0; i < op->n; i++) {
        dt_value v = dt_eval(x, op->exprs[i]);
        if (v.type == DT_TYPE_NULL) dt_exec_remove_field(x, op->names[i]);
        else dt_exec_set_field(x, op->names[i], v);
    }
}

/* >>run: redact ------------------------------------------------------------------ */
static size_t dtq__replacement(const dtq__redact_op *r, const char *s, const dtq__match *m, char *out) {
    static const char hex[] = "0123456789abcdef";
    unsigned char h[8];
    int i;
    if (!r->hashed) { memcpy(out, r->marker.ptr, r->marker.len); return r->marker.len; }
    dtq__siphash24(r->key, s + m->start, m->len, h);
    memcpy(out, "[hash:", 6);
    for (i = 0; i < 8; i++) { out[6 + 2 * i] = hex[h[i] >> 4]; out[7 + 2 * i] = hex[h[i] & 15]; }
    out[22] = ']';
    return 23;
}

/* Rewrites one string; returns 1 and the new text when something matched.
 * A value whose rewrite does not fit the scratch arena is replaced whole by
 * one marker: a secret is never let through for lack of room. */
/* What replaces a whole value that cannot be rewritten in place: the marker,
 * or for `with hash` a plain marker (no hash of a value never scanned). */
static dt_str dtq__whole_marker(const dtq__redact_op *r) { return r->hashed ? dt_cstr("[REDACTED]") : r->marker; }

static int dtq__redact_str(dt_exec *x, const dtq__redact_op *r, dt_str in, dt_str *outp) {
    dtq__match m;
    size_t from = 0, len = 0, cap, repl = r->hashed ? 23 : r->marker.len;
    char *out;
    if (!dtq__find_secret(in.ptr, in.len, 0, r->detectors, &m)) return 0;
    cap = in.len + 64 + repl * 4;
    out = (char *)dt_exec_scratch(x, cap);
    if (!out) { *outp = dtq__whole_marker(r); dt_exec_rule_error(x); return 1; }
    do {
        if (len + (m.start - from) + repl > cap) { *outp = dtq__whole_marker(r); return 1; }
        memcpy(out + len, in.ptr + from, m.start - from);
        len += m.start - from;
        len += dtq__replacement(r, in.ptr, &m, out + len);
        from = m.start + m.len;
    } while (dtq__find_secret(in.ptr, in.len, from, r->detectors, &m));
    if (len + (in.len - from) > cap) { *outp = dtq__whole_marker(r); return 1; }
    memcpy(out + len, in.ptr + from, in.len - from);
    len += in.len - from;
    *outp = dt_strn(out, len);
    return 1;
}

/* Redact is not charged per byte against the block's budget: a tripped
 * block is switched off, and a redactor switched off lets every later secret
 * through. Its cost is bounded instead: a linear scan of at most
 * DTQ_REDACT_SCAN bytes per string field. */
static void dtq__redact(dt_exec *x, const dtq__op *op) {
    const dtq__redact_op *r = op->redact;
    const dt_event *ev = dt_exec_event(x);
    uint32_t i;
    for (i = 0; i < ev->nfields; i++) {
        const dt_field *f = &ev->fields[i];
        dt_value v;
        if (f->value.type != DT_TYPE_STR || (r->fields && !dtq__listed(r->fields, r->nfields, f->name))) continue;
        v.type = DT_TYPE_STR;
        if (f->value.as.str.len > DTQ_REDACT_SCAN) {
            /* too long to scan within any budget: fail closed, the whole value
             * becomes one marker (and the block stays on for later events) */
            v.as.str = dtq__whole_marker(r);
            dt_exec_rule_error(x);
        } else if (!dtq__redact_str(x, r, f->value.as.str, &v.as.str)) {
            continue;
        }
        dt_exec_set_field(x, f->name, v);
        ev = dt_exec_event(x);                 /* the event is now the private copy */
    }
}

/* >>run: sample and throttle --------------------------------------------------- */
/* Keeps an event when a hash of (seed, key) falls below the threshold: with
 * a key, every event of that key gets the same answer; without one, the key
 * is this thread's event count, so a replay keeps the same events. */
static int dtq__sample_keep(dt_exec *x, const dtq__sample_op *s) {
    uint64_t h;
    if (s->by) {
        dt_value k = dt_eval(x, s->by);
        h = dtq__mix(dtq__value_hash(0xcbf29ce484222325ull ^ s->seed, k));
    } else {
        uint32_t sh = dt_exec_shard(x, s->shards);
        uint64_t count = dtq__next((uint64_t *)((char *)s->counters + 64u * sh));
        h = dtq__mix(s->seed * 0x9e3779b97f4a7c15ull + ((uint64_t)sh << 48) + count);
    }
    return s->threshold == UINT64_MAX || h < s->threshold;
}

static dtq__throttle_slot *dtq__throttle_slot_of(dtq__throttle_op *t, uint64_t h, int64_t window) {
    uint32_t i, k;
    if (!t->by) return &t->slots[0];
    for (i = 0, k = (uint32_t)(h % t->cap); i < 8 && i < t->cap; i++, k = (k + 1) % t->cap) {
        dtq__throttle_slot *s = &t->slots[k];
        if (s->hash == h) return s;
        if (!s->hash || s->window < window) { s->hash = h; s->window = window; s->count = 0; return s; }
    }
    return NULL;                                 /* full near this key: the shared overflow key */
}

static int dtq__throttle_pass(dt_block *b, dt_exec *x, dtq__throttle_op *t) {
    int64_t window = dtq__window_of(dt_exec_now(x), t->per);
    uint64_t h = 1;
    dtq__throttle_slot *s;
    int pass;
    if (t->by) h = dtq__mix(dtq__value_hash(0xcbf29ce484222325ull, dt_eval(x, t->by))) | 1u;
    dt_block_lock(b);
    s = dtq__throttle_slot_of(t, h, window);
    if (!s) { s = &t->slots[t->cap]; dt_exec_count_overflow(x); }
    if (s->window != window) { s->window = window; s->count = 0; }
    pass = s->count < t->limit;
    s->count++;
    dt_block_unlock(b);
    return pass;
}

/* >>run: the pipeline ------------------------------------------------------------ */
static void dtq__on_event(dt_block *b, dt_exec *x, int tag) {
    dtq__query *q = (dtq__query *)dt_block_state(b);
    uint32_t i;
    (void)tag;
    if (dt_exec_dropped(x)) return;              /* a query sees the output of those before it */
    for (i = 0; i < q->nops; i++) {
        dtq__op *op = &q->ops[i];
        if (i && dt_exec_charge(x, 1)) return;
        switch (op->kind) {
        case DTQ__WHERE: if (!dt_eval_bool(x, op->expr)) return; break;
        case DTQ__DROP: dt_exec_drop(x); return;
        case DTQ__PROJECT: dtq__project(x, op); break;
        case DTQ__AWAY: dtq__project_away(x, op); break;
        case DTQ__RENAME: dtq__rename(x, op); break;
        case DTQ__EXTEND: dtq__extend(x, op); break;
        case DTQ__REDACT: dtq__redact(x, op); break;
        case DTQ__SAMPLE: if (!dtq__sample_keep(x, op->sample)) { dt_exec_drop(x); return; } break;
        case DTQ__THROTTLE: if (!dtq__throttle_pass(b, x, op->throttle)) { dt_exec_drop(x); return; } break;
        default: dtq__summarize_event(x, op->summarize); return;
        }
    }
}

/* Every deployed query block has its state and at least one operator. */
static dtq__summarize *dtq__last_summarize(dt_block *b) {
    dtq__query *q = (dtq__query *)dt_block_state(b);
    if (q->ops[q->nops - 1].kind != DTQ__SUMMARIZE) return NULL;
    return q->ops[q->nops - 1].summarize;
}

static void dtq__tick(dt_block *b, dt_exec *x, int64_t now) {
    dtq__summarize *s = dtq__last_summarize(b);
    if (s) dtq__summarize_tick(x, s, now);
}

static void dtq__flush(dt_block *b, dt_exec *x) {
    dtq__summarize *s = dtq__last_summarize(b);
    if (s) dtq__summarize_flush(x, s);
}

static void dtq__carry(dt_block *to, dt_block *from, dt_exec *x) {
    dtq__summarize *a = dtq__last_summarize(to), *b = dtq__last_summarize(from);
    if (a && b) dtq__summarize_carry(a, b, x);
}

static const dt_processor dtq__processor = {
    "query", DT_RISK_LOW, dtq__compile, dtq__on_event, dtq__tick, dtq__flush, NULL, NULL, dtq__carry
};

DT_API const dt_processor *dt_query_processor(void) { return &dtq__processor; }

#if defined(__GNUC__) || defined(__clang__)
#pragma GCC diagnostic pop
#endif

#endif /* DT_QUERY_IMPLEMENTATION */
