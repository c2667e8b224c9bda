/* parts/redact.h — the secret detectors behind the query processor's
 * `redact` operator, and the keyed hash behind `redact ... with hash`.
 *
 * A fragment for dt_query.h (pasted into its implementation section): libc
 * only, C99/C11/C++, every name `dtq__`/`DTQ_`, no allocation, and linear time
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
#ifndef DTQ__REDACT_H
#define DTQ__REDACT_H

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

#endif /* DTQ__REDACT_H */
