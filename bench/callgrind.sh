#!/bin/sh
# callgrind.sh — instructions per event for every bench case, counted by
# valgrind's callgrind: steady on a shared, noisy machine where time is not.
#
#     sh bench/callgrind.sh [N]        (B=build: uses $B/bench)
#
# Each case runs N and 2N events once (bench --count); the difference of
# the two totals over N is the cost of one event, loop included, setup and
# teardown excluded. Default N: 20000.
set -eu
B=${B:-build}
N=${1:-20000}
BENCH=$B/bench
command -v valgrind >/dev/null || { echo "callgrind: skipped: valgrind is not installed (apt-get install valgrind)"; exit 0; }
[ -x "$BENCH" ] || { echo "callgrind: $BENCH not built (make $BENCH)" >&2; exit 1; }

collected() {  # total instructions of one run of case $1 with $2 events
  valgrind --tool=callgrind --callgrind-out-file=/dev/null "$BENCH" --count "$2" --only "=$1" 2>&1 |
    sed -n 's/.*Collected : *\([0-9]*\).*/\1/p'
}

per_event() {  # one table row for case or curve point $1, $2 events
  one=$(collected "$1" "$2")
  two=$(collected "$1" $(($2 * 2)))
  if [ -z "$one" ] || [ -z "$two" ]; then echo "| $1 | (no count) |"; else echo "| $1 | $(( (two - one) / $2 )) |"; fi
}

echo "| case | instructions per event |"
echo "|---|---|"
"$BENCH" --list | sed -n 's/^case  //p' | while IFS= read -r name; do per_event "$name" "$N"; done

# The target "flat from 1 to 10,000 rules on other names" in instructions,
# which noise cannot blur.
echo
echo "| curve point (rules on other names) | instructions per event |"
echo "|---|---|"
"$BENCH" --list | sed -n 's/^point //p' | grep 'other names' | while IFS= read -r name; do per_event "$name" "$N"; done
