/* Fuzz target: the `redact` secret detectors (dt_query.h, section detectors), which run on
 * every string field of every event a redacting query sees.
 * Input: the first byte picks the detectors (0 means all), the rest is the
 * string. Properties: every match lies inside the string, is non-empty, comes
 * after the previous one (no overlap), names one enabled detector; scanning
 * again from a match's start with only its detector finds the same match
 * (except bearer, whose match starts after the word that triggers it);
 * the number of matches is at most one per byte. */
#define DTQ_DETECTORS
#include "dt_query.h"
#include <stdint.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void fuzz_redact_check_again(const char *s, size_t n, const dtq__match *m) {
    dtq__match again;
    if (m->detector == DTQ_DET_BEARER) return;
    if (!dtq__find_secret(s, n, m->start, (unsigned)m->detector, &again)) __builtin_trap();
    if (again.start != m->start || again.len != m->len || again.detector != m->detector) __builtin_trap();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    static const unsigned char key[16] = {'f', 'u', 'z', 'z'};
    unsigned detectors;
    const char *s;
    size_t n, from = 0, count = 0, end = 0;
    dtq__match m;
    unsigned char h[8];
    if (size == 0) return 0;
    detectors = data[0] ? data[0] : DTQ_DET_ALL;
    s = (const char *)data + 1;
    n = size - 1;
    while (dtq__find_secret(s, n, from, detectors, &m)) {
        const char *name = dtq__detector_name(m.detector);
        if (m.len == 0 || m.start < end || m.start > n || m.len > n - m.start) __builtin_trap();
        if (!name || !((unsigned)m.detector & detectors)) __builtin_trap();
        if (dtq__detector_parse(name, strlen(name)) != m.detector) __builtin_trap();
        if (++count > n) __builtin_trap();
        fuzz_redact_check_again(s, n, &m);
        dtq__siphash24(key, s + m.start, m.len, h);   /* what `with hash` does to it */
        end = from = m.start + m.len;
    }
    return 0;
}
