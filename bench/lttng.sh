#!/bin/sh
# lttng.sh — the LTTng-UST peer: a tracepoint disabled, and enabled into a
# snapshot (flight-recorder) session, measured in the same run and by the
# same harness as dt's disabled site and recorder append.
#
#     sh bench/lttng.sh [--quick]
#
# Needs liblttng-ust-dev and lttng-tools (Debian; bench/report.sh installs
# them). Starts a session daemon (user space only, --no-kernel) when none is
# running and stops the one it started. Where the tools are missing, the
# build fails or the daemon cannot start, it prints "lttng: skipped: WHY"
# and exits 0, so bench-report goes on.
set -u
B=${B:-build}
CC=${CC:-cc}
QUICK=
[ "${1:-}" = "--quick" ] && QUICK=--quick
OUT=${TMPDIR:-/tmp}/dt-lttng-$$
SESSION=dtbench-$$
# Where the daemon we may start writes its pid (root's, or a user's own).
if [ "$(id -u)" = 0 ]; then PIDFILE=/var/run/lttng/lttng-sessiond.pid; else PIDFILE=$HOME/.lttng/lttng-sessiond.pid; fi
STARTED=

skip() { echo "lttng: skipped: $*"; cleanup; exit 0; }
cleanup() {
  lttng destroy "$SESSION" >/dev/null 2>&1 || true
  if [ -n "$STARTED" ] && [ -s "$PIDFILE" ]; then kill "$(cat "$PIDFILE")" 2>/dev/null || true; fi
  rm -rf "$OUT"
}

command -v lttng >/dev/null && command -v lttng-sessiond >/dev/null || skip "lttng-tools is not installed (apt-get install lttng-tools)"
found=
for h in /usr/include/lttng/tracepoint.h /usr/include/*/lttng/tracepoint.h; do [ -e "$h" ] && found=1; done
[ -n "$found" ] || skip "liblttng-ust-dev is not installed (apt-get install liblttng-ust-dev)"
mkdir -p "$B" "$OUT"
# gnu99: the tracepoint headers use GNU extensions that -std=c99 -Wpedantic rejects.
$CC -std=gnu99 -O2 -g -pthread -DBENCH_LTTNG=1 -I. -Ibench -o "$B/bench_lttng" bench/bench.c -llttng-ust -ldl \
  > "$OUT/build.log" 2>&1 || skip "the peer did not build: $(head -n 3 "$OUT/build.log")"

if ! lttng list >/dev/null 2>&1; then
  lttng-sessiond --daemonize --no-kernel > "$OUT/sessiond.log" 2>&1 ||
    skip "lttng-sessiond cannot start here: $(tail -n 2 "$OUT/sessiond.log")"
  STARTED=1
  sleep 1
  lttng list >/dev/null 2>&1 || skip "lttng-sessiond started but does not answer: $(tail -n 2 "$OUT/sessiond.log")"
fi

export BENCH_LTTNG_START="lttng -q create $SESSION --snapshot --output=$OUT/snap && lttng -q enable-event -u -s $SESSION 'dtbench:*' && lttng -q start $SESSION"
# The snapshot must record: proof that the enabled case wrote events.
export BENCH_LTTNG_STOP="lttng -q snapshot record -s $SESSION && lttng -q destroy $SESSION"
"$B/bench_lttng" $QUICK --no-curves --only "disabled site|recorder append (site|LTTng"
status=$?
[ -d "$OUT/snap" ] && echo "snapshot written: $(du -sk "$OUT/snap" | cut -f1) KiB"
cleanup
exit $status
