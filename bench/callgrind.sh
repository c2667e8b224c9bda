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

echo "| case | instructions per event |"
echo "|---|---|"
"$BENCH" --list | sed -n 's/^case  //p' | while IFS= read -r name; do
  one=$(collected "$name" "$N")
  two=$(collected "$name" $((2 * N)))
  if [ -z "$one" ] || [ -z "$two" ]; then echo "| $name | (no count) |"; continue; fi
  echo "| $name | $(( (two - one) / N )) |"
done
