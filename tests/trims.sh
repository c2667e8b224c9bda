#!/bin/sh
# The whole host test suite once per trim option and once with all of them
# (docs/embedded.md; tests/trims.h says how the tests adapt). Prints each
# build's runner summary and, at the end, "trims: N builds passed, N failed".
#
# Usage: sh tests/trims.sh [BUILD_DIR]   (default build; it must hold the
# dt CLI and suites.h, as `make B=BUILD_DIR` leaves them)
cd "$(dirname "$0")/.." || exit 1
B=${1:-build}
CC=${CC:-cc}
ok=0
bad=0
for trim in DT_NO_MALLOC DT_NO_FLOAT DT_NO_CLOCK DT_NO_THREADS all; do
    case $trim in
    all) flags="-DDT_NO_MALLOC=1 -DDT_NO_FLOAT=1 -DDT_NO_CLOCK=1 -DDT_NO_THREADS=1" ;;
    *) flags="-D$trim=1" ;;
    esac
    out="$B/trims/$trim"
    mkdir -p "$out" || exit 1
    # -O0: these builds prove behaviour, not speed; it keeps five builds quick
    if ! $CC -std=c99 -O0 -pthread $flags -I. -Itests -I"$B" -o "$out/dt_tests" \
        tests/test_*.c tests/impl.c >"$out/build.log" 2>&1; then
        echo "trims: $trim: build failed"
        cat "$out/build.log"
        bad=$((bad + 1))
        continue
    fi
    DT_CLI="$B/dt" "$out/dt_tests" >"$out/tests.log" 2>&1
    status=$?
    summary=$(grep -a '^Pass: ' "$out/tests.log" | tail -n 1)
    echo "trims: $trim: ${summary:-no summary} (exit $status)"
    if [ "$status" -ne 0 ]; then
        grep -a '^FAIL' "$out/tests.log"
        bad=$((bad + 1))
    else
        ok=$((ok + 1))
    fi
done
echo "trims: $ok builds passed, $bad failed"
[ "$bad" -eq 0 ]
